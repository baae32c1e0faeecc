//! The whole blob scanner (archives, decoding, location mapping) with the built-in rules on
//! arbitrary bytes: no panic, and every finding's position lies inside the blob's lines.
#![no_main]

use std::sync::{Arc, OnceLock};

use keyhound::archive::Limits;
use keyhound::matcher::Matcher;
use keyhound::rules::RuleSet;
use keyhound::scan::{BlobScanner, ExpandOptions, FindingSink};
use libfuzzer_sys::fuzz_target;

fn matcher() -> &'static Matcher {
    static MATCHER: OnceLock<Matcher> = OnceLock::new();
    MATCHER.get_or_init(|| Matcher::new(Arc::new(RuleSet::builtin().expect("built-in rules load"))))
}

fuzz_target!(|data: &[u8]| {
    let options = ExpandOptions {
        decode: true,
        archives: Some(Limits { max_depth: 3, max_bytes: 4 << 20, max_members: 64, max_ratio: 50 }),
        max_member_size: 1 << 20,
    };
    let mut scanner = BlobScanner::new(matcher(), &options);
    let mut sink = FindingSink::default();
    scanner.scan(data, || keyhound::source::Origin::File("fuzz".into()), &mut sink);
    for finding in &sink.findings {
        assert!(finding.position.line >= 1 && finding.position.column >= 1);
        assert!(finding.position.line <= finding.position.end_line);
    }
});
