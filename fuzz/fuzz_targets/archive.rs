//! The archive reader on arbitrary bytes, each format forced by the first byte: no panic,
//! limits hold.
#![no_main]

use keyhound::archive::{self, Budget, Event, Format, Limits};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&selector, bytes)) = data.split_first() else { return };
    let format = match selector % 3 {
        0 => Format::Zip,
        1 => Format::Tar,
        _ => Format::Gzip,
    };
    let limits = Limits { max_depth: 2, max_bytes: 4 << 20, max_members: 64, max_ratio: 50 };
    let mut budget = Budget::new(&limits);
    let mut seen = 0u64;
    let _ = archive::read(bytes, format, &limits, 1 << 20, &mut budget, &mut |event, _| {
        if let Event::Member { bytes, .. } = event {
            assert!(bytes.len() <= 1 << 20);
            seen += bytes.len() as u64;
        }
    });
    assert!(seen <= limits.max_bytes);
});
