//! The decoders on arbitrary bytes: no panic, spans inside the input, budget respected, and
//! every decoded byte range maps back into its run.
#![no_main]

use keyhound::decode::{self, base64, Encoding};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut budget = 1 << 16;
    let (mut found, _) = decode::base64_layer(data, &mut budget);
    found.extend(decode::utf16_layer(data));
    assert!(budget <= 1 << 16);
    for decoded in &found {
        assert!(decoded.span.start <= decoded.span.end && decoded.span.end <= data.len());
        if decoded.encoding == Encoding::Base64 {
            let run = &data[decoded.span.clone()];
            for start in 0..decoded.text.len().min(8) {
                let encoded = base64::encoded_span(run, start..decoded.text.len());
                assert!(encoded.start <= encoded.end && encoded.end <= run.len());
            }
        }
        // One more layer, as the scanner does.
        let _ = decode::base64_layer(&decoded.text, &mut budget);
        let _ = decode::utf16_layer(&decoded.text);
    }
    for run in base64::runs(data) {
        assert!(run.len() >= base64::MIN_RUN && run.end <= data.len());
    }
});
