//! Filter 2: the allowlists of the configuration file: path globs anchored at the config
//! file's directory, path regexes, and secret regexes and stopwords.

use std::path::{Path, PathBuf};

use globset::GlobSet;
use regex::Regex;

use super::DropReason;
use crate::finding::Finding;
use crate::paths::relative_to;

/// Global allowlists from the configuration file.
#[derive(Debug, Default)]
pub(crate) struct Allowlist {
    /// Directory that relative path globs are anchored at (the config file's directory).
    base: Option<PathBuf>,
    paths: GlobSet,
    /// Regexes over paths (translated gitleaks allowlists).
    path_regexes: Vec<Regex>,
    secret_regexes: Vec<Regex>,
    stopwords_lower: Vec<String>,
}

impl Allowlist {
    /// Builds an allowlist from compiled patterns: path globs (anchored at `base` too),
    /// regexes that allow every path they match anywhere in it, and regexes and stopwords over
    /// secrets.
    pub(crate) fn new(
        base: Option<PathBuf>,
        paths: GlobSet,
        path_regexes: Vec<Regex>,
        secret_regexes: Vec<Regex>,
        stopwords: &[String],
    ) -> Self {
        let stopwords_lower = stopwords.iter().map(|s| s.to_lowercase()).collect();
        Allowlist { base, paths, path_regexes, secret_regexes, stopwords_lower }
    }

    /// Why this finding is allowlisted, if it is.
    pub(crate) fn drop_reason(&self, finding: &Finding) -> Option<DropReason> {
        if self.path_is_allowed(Path::new(&finding.path)) {
            return Some(DropReason::AllowlistedPath);
        }
        let lower = finding.secret.to_lowercase();
        let secret_allowed = self.secret_regexes.iter().any(|re| re.is_match(&finding.secret))
            || self.stopwords_lower.iter().any(|word| lower.contains(word.as_str()));
        secret_allowed.then_some(DropReason::AllowlistedSecret)
    }

    /// What of the allowlist judges a finding by its secret text: the secret regexes as
    /// written and the stopwords lowercased, each sorted and without repeats, so that the same
    /// allowlist written in another order gives the same lists. A finding recalled from a
    /// datastore without its secret carries a stand-in these cannot judge, so the datastore's
    /// rules version includes them (`crate::datastore`): a change to them scans again.
    pub(crate) fn secret_criteria(&self) -> (Vec<&str>, Vec<&str>) {
        let regexes = sorted_unique(self.secret_regexes.iter().map(Regex::as_str).collect());
        (regexes, sorted_unique(self.stopwords_lower.iter().map(String::as_str).collect()))
    }

    /// Whether a path matches an allowlisted glob, as given or relative to the base.
    pub(crate) fn path_is_allowed(&self, path: &Path) -> bool {
        let stripped = path.strip_prefix("./").unwrap_or(path);
        if self.path_regexes.iter().any(|re| re.is_match(&stripped.to_string_lossy())) {
            return true;
        }
        if self.paths.is_empty() {
            return false;
        }
        if self.paths.is_match(stripped) {
            return true;
        }
        let Some(base) = &self.base else { return false };
        relative_to(base, path).is_some_and(|relative| self.paths.is_match(relative))
    }
}

fn sorted_unique(mut items: Vec<&str>) -> Vec<&str> {
    items.sort_unstable();
    items.dedup();
    items
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_globs_match_relative_and_anchored_paths() {
        let base = std::env::current_dir().unwrap();
        let globs = globset::GlobSetBuilder::new().add(globset::Glob::new("fixtures/**").unwrap()).build().unwrap();
        let allow = Allowlist::new(Some(base.clone()), globs, Vec::new(), Vec::new(), &[]);
        assert!(allow.path_is_allowed(Path::new("fixtures/a/b.txt")));
        assert!(allow.path_is_allowed(Path::new("./fixtures/b.txt")));
        assert!(allow.path_is_allowed(&base.join("fixtures/c.txt")));
        assert!(!allow.path_is_allowed(Path::new("src/fixtures.rs")));
    }

    #[test]
    fn secret_criteria_are_the_secret_patterns_in_one_order_and_no_path_pattern() {
        let regexes = |patterns: &[&str]| patterns.iter().map(|p| Regex::new(p).unwrap()).collect::<Vec<_>>();
        let globs = globset::GlobSetBuilder::new().add(globset::Glob::new("docs/**").unwrap()).build().unwrap();
        let stopwords = ["Dummy".to_string(), "example".to_string(), "dummy".to_string()];
        let allow = Allowlist::new(None, globs, regexes(&["^tests/"]), regexes(&["^b", "^a", "^b"]), &stopwords);
        assert_eq!(allow.secret_criteria(), (vec!["^a", "^b"], vec!["dummy", "example"]));
    }
}
