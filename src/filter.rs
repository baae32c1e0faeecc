//! Filters that drop findings after matching: inline `keyhound:allow` comments and the
//! configured allowlists. Pure functions over findings; every drop is counted by reason.

use std::path::{Path, PathBuf};

use globset::{Glob, GlobSet, GlobSetBuilder};
use regex::Regex;

use crate::error::{Error, Result};
use crate::finding::Finding;

/// The marker that suppresses findings on its line.
pub const INLINE_ALLOW_MARKER: &[u8] = b"keyhound:allow";

/// Whether the line(s) holding a secret carry an inline allow comment.
pub fn is_inline_allowed(lines: &[u8]) -> bool {
    memchr::memmem::find(lines, INLINE_ALLOW_MARKER).is_some()
}

/// Why a finding was not reported.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum DropReason {
    /// A `keyhound:allow` comment on its line.
    InlineAllow,
    /// Its path matches an allowlisted glob.
    AllowlistedPath,
    /// The secret matches an allowlisted regex or stopword.
    AllowlistedSecret,
}

impl DropReason {
    /// Short description used in summaries.
    pub fn describe(self) -> &'static str {
        match self {
            DropReason::InlineAllow => "keyhound:allow comment",
            DropReason::AllowlistedPath => "allowlisted path",
            DropReason::AllowlistedSecret => "allowlisted secret",
        }
    }
}

/// Global allowlists from the configuration file.
#[derive(Debug, Default)]
pub struct Allowlist {
    /// Directory that relative path globs are anchored at (the config file's directory).
    base: Option<PathBuf>,
    paths: GlobSet,
    secret_regexes: Vec<Regex>,
    stopwords_lower: Vec<String>,
}

impl Allowlist {
    /// Builds an allowlist; `base` anchors the path globs.
    pub fn new(base: Option<PathBuf>, paths: &[String], regexes: &[String], stopwords: &[String]) -> Result<Self> {
        let mut globs = GlobSetBuilder::new();
        for pattern in paths {
            let glob =
                Glob::new(pattern).map_err(|e| Error::Usage(format!("invalid allowlist glob {pattern:?}: {e}")))?;
            globs.add(glob);
        }
        let secret_regexes = regexes
            .iter()
            .map(|pattern| {
                Regex::new(pattern).map_err(|e| Error::Usage(format!("invalid allowlist regex {pattern:?}: {e}")))
            })
            .collect::<Result<_>>()?;
        Ok(Allowlist {
            base,
            paths: globs.build().map_err(|e| Error::Usage(format!("invalid allowlist globs: {e}")))?,
            secret_regexes,
            stopwords_lower: stopwords.iter().map(|s| s.to_lowercase()).collect(),
        })
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
        if self.paths.is_empty() {
            return false;
        }
        let stripped = path.strip_prefix("./").unwrap_or(path);
        if self.paths.is_match(stripped) {
            return true;
        }
        let Some(base) = &self.base else { return false };
        let absolute = if path.is_absolute() {
            path.to_path_buf()
        } else {
            std::env::current_dir().map(|cwd| cwd.join(stripped)).unwrap_or_else(|_| path.to_path_buf())
        };
        normalize(&absolute).strip_prefix(base).is_ok_and(|relative| self.paths.is_match(relative))
    }
}

/// Removes `.` and resolves `..` lexically (the file may be gone, so no canonicalize).
pub fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for component in path.components() {
        match component {
            std::path::Component::CurDir => {}
            std::path::Component::ParentDir => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    out
}

/// Splits findings into kept ones and the counts of dropped ones by reason.
pub fn apply(findings: Vec<Finding>, allowlist: &Allowlist, dropped: &mut Vec<DropReason>) -> Vec<Finding> {
    findings
        .into_iter()
        .filter(|finding| match allowlist.drop_reason(finding) {
            Some(reason) => {
                dropped.push(reason);
                false
            }
            None => true,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::finding::Position;
    use crate::rules::{Confidence, Severity};

    fn finding(path: &str, secret: &str) -> Finding {
        Finding {
            rule_id: "r".into(),
            description: "d".into(),
            severity: Severity::High,
            confidence: Confidence::High,
            path: path.into(),
            position: Position { line: 1, column: 1, end_line: 1, end_column: 2 },
            secret: secret.into(),
            prefix_len: 0,
            fingerprint: "r:0".into(),
            commit: None,
        }
    }

    #[test]
    fn inline_marker() {
        assert!(is_inline_allowed(b"key = 'x' # keyhound:allow"));
        assert!(!is_inline_allowed(b"key = 'x' # keyhound"));
    }

    #[test]
    fn path_globs_match_relative_and_anchored_paths() {
        let base = std::env::current_dir().unwrap();
        let allow = Allowlist::new(Some(base.clone()), &["fixtures/**".into()], &[], &[]).unwrap();
        assert!(allow.path_is_allowed(Path::new("fixtures/a/b.txt")));
        assert!(allow.path_is_allowed(Path::new("./fixtures/b.txt")));
        assert!(allow.path_is_allowed(&base.join("fixtures/c.txt")));
        assert!(!allow.path_is_allowed(Path::new("src/fixtures.rs")));
    }

    #[test]
    fn secrets_allowed_by_regex_or_stopword_and_counted() {
        let allow = Allowlist::new(None, &[], &["^tok_test".into()], &["dummy".into()]).unwrap();
        let mut dropped = Vec::new();
        let kept = apply(
            vec![finding("a", "tok_test1"), finding("b", "tok_DUMMY"), finding("c", "tok_real")],
            &allow,
            &mut dropped,
        );
        assert_eq!(kept.len(), 1);
        assert_eq!(dropped, [DropReason::AllowlistedSecret, DropReason::AllowlistedSecret]);
    }
}
