//! The rules version: what a blob's findings depend on besides its bytes. A blob scanned under
//! one version is not scanned again under it; any change to the rules, to keyhound, or to the
//! scan options that change findings makes a new version, and every blob is scanned again.

use sha2::{Digest, Sha256};

use crate::rules::RuleSet;
use crate::scan::ExpandOptions;

/// 16 hex digits of a SHA-256 over keyhound's version, every rule as loaded, and the options
/// that change what a blob yields (decoding, archives and their limits, the size limits).
pub(crate) fn rules_version(rules: &RuleSet, expand: &ExpandOptions, max_file_size: u64) -> String {
    let mut hasher = Sha256::new();
    hasher.update(b"keyhound-rules-version-v1\0");
    hasher.update(env!("CARGO_PKG_VERSION").as_bytes());
    for rule in rules.rules() {
        hasher.update(b"\0");
        hasher.update(serde_json::to_vec(&rule.spec).expect("a rule spec is plain data"));
    }
    hasher.update(format!("\0{expand:?}\0{max_file_size}").as_bytes());
    hasher.finalize()[..8].iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_version_changes_with_the_rules_and_the_options_only() {
        let rules = RuleSet::builtin().unwrap();
        let expand = ExpandOptions::default();
        let version = rules_version(&rules, &expand, 10);
        assert_eq!(version, rules_version(&RuleSet::builtin().unwrap(), &expand, 10));
        assert_ne!(version, rules_version(&rules, &expand, 11));
        assert_ne!(version, rules_version(&rules, &ExpandOptions { decode: false, ..expand.clone() }, 10));
        let fewer = RuleSet::builtin().unwrap().retain(|rule| rule.id() != "openai-api-key");
        assert_ne!(version, rules_version(&fewer, &expand, 10));
    }
}
