//! The rules version: what a blob's findings depend on besides its bytes. A blob scanned under
//! one version is not scanned again under it; any change to the rules, to keyhound, or to the
//! scan options that change findings makes a new version, and every blob is scanned again.
//!
//! The allowlist's secret regexes and stopwords count too, though they run after the scan: a
//! finding recalled without its secret (the datastore keeps it redacted unless
//! `--store-secrets`) carries a stand-in they cannot judge, so a change to them must rescan.
//! Path allowlists, the ignore file and the baseline judge what a recalled finding keeps (its
//! path and fingerprint), and change nothing here.

use sha2::{Digest, Sha256};

use crate::filter::Allowlist;
use crate::rules::RuleSet;
use crate::scan::ExpandOptions;

/// 16 hex digits of a SHA-256 over keyhound's version, every rule as loaded, the options
/// that change what a blob yields (decoding, archives and their limits, the size limits), and
/// what of `allowlist` judges a finding by its secret.
pub(crate) fn rules_version(
    rules: &RuleSet,
    expand: &ExpandOptions,
    max_file_size: u64,
    allowlist: &Allowlist,
) -> String {
    let mut hasher = Sha256::new();
    hasher.update(b"keyhound-rules-version-v2\0");
    hasher.update(env!("CARGO_PKG_VERSION").as_bytes());
    for rule in rules.rules() {
        hasher.update(b"\0");
        hasher.update(serde_json::to_vec(&rule.spec).expect("a rule spec is plain data"));
    }
    hasher.update(format!("\0{expand:?}\0{max_file_size}\0").as_bytes());
    hasher.update(serde_json::to_vec(&allowlist.secret_criteria()).expect("strings are plain data"));
    hasher.finalize()[..8].iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use globset::{Glob, GlobSetBuilder};
    use regex::Regex;

    fn allowlist(paths: &[&str], secret_regexes: &[&str], stopwords: &[&str]) -> Allowlist {
        let mut globs = GlobSetBuilder::new();
        for path in paths {
            globs.add(Glob::new(path).unwrap());
        }
        let regexes = secret_regexes.iter().map(|re| Regex::new(re).unwrap()).collect();
        let stopwords: Vec<String> = stopwords.iter().map(|word| word.to_string()).collect();
        Allowlist::new(None, globs.build().unwrap(), Vec::new(), regexes, &stopwords)
    }

    #[test]
    fn the_version_changes_with_the_rules_and_the_options_only() {
        let rules = RuleSet::builtin().unwrap();
        let expand = ExpandOptions::default();
        let none = Allowlist::default();
        let version = rules_version(&rules, &expand, 10, &none);
        assert_eq!(version, rules_version(&RuleSet::builtin().unwrap(), &expand, 10, &none));
        assert_ne!(version, rules_version(&rules, &expand, 11, &none));
        assert_ne!(version, rules_version(&rules, &ExpandOptions { decode: false, ..expand.clone() }, 10, &none));
        let fewer = RuleSet::builtin().unwrap().retain(|rule| rule.id() != "openai-api-key");
        assert_ne!(version, rules_version(&fewer, &expand, 10, &none));
    }

    #[test]
    fn the_version_changes_with_what_the_allowlist_matches_against_secrets_only() {
        let (rules, expand) = (RuleSet::builtin().unwrap(), ExpandOptions::default());
        let version = |allowlist: &Allowlist| rules_version(&rules, &expand, 10, allowlist);
        let plain = version(&Allowlist::default());
        assert_eq!(plain, version(&allowlist(&["fixtures/**"], &[], &[])), "paths are judged on recall");
        let regex = version(&allowlist(&[], &["^sk-test-"], &[]));
        assert_ne!(plain, regex);
        assert_eq!(regex, version(&allowlist(&["docs/**"], &["^sk-test-", "^sk-test-"], &[])));
        let stopwords = version(&allowlist(&[], &[], &["dummy", "example"]));
        assert_ne!(plain, stopwords);
        assert_ne!(regex, stopwords);
        assert_eq!(stopwords, version(&allowlist(&[], &[], &["EXAMPLE", "dummy"])), "order and case do not count");
        assert_ne!(version(&allowlist(&[], &["dummy"], &[])), version(&allowlist(&[], &[], &["dummy"])));
    }
}
