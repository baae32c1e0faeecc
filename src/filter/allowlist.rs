//! Filter 2: the allowlists of the configuration file: path globs anchored at the config
//! file's directory, path regexes, and secret regexes and stopwords.

use std::path::{Path, PathBuf};

use globset::{Glob, GlobSet, GlobSetBuilder};
use regex::Regex;

use super::DropReason;
use crate::echo;
use crate::error::{Error, Result};
use crate::finding::Finding;
use crate::paths::relative_to;

/// Global allowlists from the configuration file.
#[derive(Debug, Default)]
pub struct Allowlist {
    /// Directory that relative path globs are anchored at (the config file's directory).
    base: Option<PathBuf>,
    paths: GlobSet,
    /// Regexes over paths (translated gitleaks allowlists).
    path_regexes: Vec<Regex>,
    secret_regexes: Vec<Regex>,
    stopwords_lower: Vec<String>,
}

impl Allowlist {
    /// Builds an allowlist; `base` anchors the path globs.
    pub fn new(base: Option<PathBuf>, paths: &[String], regexes: &[String], stopwords: &[String]) -> Result<Self> {
        let mut globs = GlobSetBuilder::new();
        for pattern in paths {
            globs.add(Glob::new(pattern).map_err(|e| Error::Usage(glob_problem(pattern, &e)))?);
        }
        Ok(Allowlist {
            base,
            paths: globs.build().map_err(|e| Error::Usage(format!("invalid allowlist globs: {}", e.kind())))?,
            path_regexes: Vec::new(),
            secret_regexes: compile_regexes(regexes)?,
            stopwords_lower: stopwords.iter().map(|s| s.to_lowercase()).collect(),
        })
    }

    /// Adds regexes that allowlist every path they match (anywhere in the path).
    pub fn with_path_regexes(mut self, regexes: &[String]) -> Result<Self> {
        self.path_regexes.extend(compile_regexes(regexes)?);
        Ok(self)
    }

    /// Why this finding is allowlisted, if it is.
    pub fn drop_reason(&self, finding: &Finding) -> Option<DropReason> {
        if self.path_is_allowed(Path::new(&finding.path)) {
            return Some(DropReason::AllowlistedPath);
        }
        let lower = finding.secret.to_lowercase();
        let secret_allowed = self.secret_regexes.iter().any(|re| re.is_match(&finding.secret))
            || self.stopwords_lower.iter().any(|word| lower.contains(word.as_str()));
        secret_allowed.then_some(DropReason::AllowlistedSecret)
    }

    /// Whether a path matches an allowlisted glob, as given or relative to the base.
    pub fn path_is_allowed(&self, path: &Path) -> bool {
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

fn compile_regexes(patterns: &[String]) -> Result<Vec<Regex>> {
    patterns.iter().map(|pattern| Regex::new(pattern).map_err(|e| Error::Usage(regex_problem(pattern, &e)))).collect()
}

fn glob_problem(pattern: &str, error: &globset::Error) -> String {
    format!("invalid allowlist glob {}: {}", echo::quoted(pattern), error.kind())
}

fn regex_problem(pattern: &str, error: &regex::Error) -> String {
    format!("invalid allowlist regex {}: {}", echo::quoted(pattern), echo::regex_error(error))
}

/// Checks an allowlist path glob, saying what is wrong with it.
pub fn check_glob(pattern: &str) -> std::result::Result<(), String> {
    Glob::new(pattern).map(drop).map_err(|e| glob_problem(pattern, &e))
}

/// Checks an allowlist regex, saying what is wrong with it.
pub fn check_regex(pattern: &str) -> std::result::Result<(), String> {
    Regex::new(pattern).map(drop).map_err(|e| regex_problem(pattern, &e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_globs_match_relative_and_anchored_paths() {
        let base = std::env::current_dir().unwrap();
        let allow = Allowlist::new(Some(base.clone()), &["fixtures/**".into()], &[], &[]).unwrap();
        assert!(allow.path_is_allowed(Path::new("fixtures/a/b.txt")));
        assert!(allow.path_is_allowed(Path::new("./fixtures/b.txt")));
        assert!(allow.path_is_allowed(&base.join("fixtures/c.txt")));
        assert!(!allow.path_is_allowed(Path::new("src/fixtures.rs")));
    }
}
