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
}
