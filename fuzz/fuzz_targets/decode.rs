//! The decoders on arbitrary bytes: no panic, spans inside the input, budget respected, and
//! every decoded byte range maps back into its run.
#![no_main]

use std::ops::Range;

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
        let encoded_span: Box<dyn Fn(Range<usize>) -> Range<usize>> = match decoded.encoding {
            Encoding::Base64 => {
                let map = base64::CharMap::new(run);
                Box::new(move |range| map.encoded_span(range))
            }
            Encoding::Percent => {
                let map = percent::EscapeMap::new(run);
                Box::new(move |range: Range<usize>| {
                    let _ = map.touches_escape(range.clone());
                    map.encoded_span(range)
                })
            }
            Encoding::Utf16Le | Encoding::Utf16Be => continue,
        };
        for start in 0..decoded.text.len().min(8) {
            let encoded = encoded_span(start..decoded.text.len());
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
