//! The decoders on arbitrary bytes: no panic, spans inside the input, budget respected, and
//! every decoded byte range maps back into its run.
#![no_main]

use keyhound::decode::{self, base64, percent, Encoding};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut budget = 1 << 16;
    let (mut found, _) = decode::base64_layer(data, &mut budget);
    found.extend(decode::percent_layer(data, &mut budget).0);
    found.extend(decode::utf16_layer(data));
    assert!(budget <= 1 << 16);
    for decoded in &found {
        assert!(decoded.span.start <= decoded.span.end && decoded.span.end <= data.len());
        let run = &data[decoded.span.clone()];
        for start in 0..decoded.text.len().min(8) {
            let whole = start..decoded.text.len();
            let encoded = match decoded.encoding {
                Encoding::Base64 => base64::encoded_span(run, whole),
                Encoding::Percent => {
                    let _ = percent::touches_escape(run, whole.clone());
                    percent::encoded_span(run, whole)
                }
                Encoding::Utf16Le | Encoding::Utf16Be => continue,
            };
            assert!(encoded.start <= encoded.end && encoded.end <= run.len());
        }
        // One more layer, as the scanner does.
        let _ = decode::base64_layer(&decoded.text, &mut budget);
        let _ = decode::percent_layer(&decoded.text, &mut budget);
        let _ = decode::utf16_layer(&decoded.text);
    }
    for run in base64::runs(data) {
        assert!(run.len() >= base64::MIN_RUN && run.end <= data.len());
    }
    for run in percent::runs(data) {
        assert!(run.len() >= percent::MIN_RUN && run.end <= data.len());
    }
});
