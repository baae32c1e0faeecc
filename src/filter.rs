//! Filters that drop findings after matching, in this order: inline `keyhound:allow`
//! comments (applied while scanning), the configured allowlists, the `.keyhoundignore` file,
//! and the baseline. Pure functions over findings; every drop is counted by reason.

use std::path::{Path, PathBuf};

use globset::{Glob, GlobSet, GlobSetBuilder};
use regex::Regex;

use crate::baseline::Baseline;
use crate::echo;
use crate::error::{Error, Result};
use crate::finding::{Finding, Position};
use crate::ignore_file::IgnoreFile;

/// The marker that suppresses findings on its line.
pub const INLINE_ALLOW_MARKER: &[u8] = b"keyhound:allow";

/// The lines of one text that carry an inline allow comment, found once per text so that
/// checking each finding costs a binary search, not a look at its lines.
#[derive(Debug, Default)]
pub struct InlineAllows {
    /// Sorted line numbers.
    lines: Vec<usize>,
}

impl InlineAllows {
    /// The allow comments of `text`, placed on its lines as [`crate::lines`] counts them.
    pub fn of(text: &[u8]) -> Self {
        let offsets: Vec<usize> = memchr::memmem::find_iter(text, INLINE_ALLOW_MARKER).collect();
        InlineAllows { lines: crate::lines::locate(text, &offsets).into_iter().map(|(line, _)| line).collect() }
    }

    /// True when the text has no allow comment at all.
    pub fn is_empty(&self) -> bool {
        self.lines.is_empty()
    }

    /// Whether a line from the first to the last of `position`'s carries an allow comment.
    pub fn cover(&self, position: &Position) -> bool {
        let first = self.lines.partition_point(|&line| line < position.line);
        self.lines.get(first).is_some_and(|&line| line <= position.end_line)
    }
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
    /// An entry of the `.keyhoundignore` file.
    IgnoreFile,
    /// An entry of the baseline.
    Baseline,
    /// `keyhound staged`: `HEAD` already holds the secret in a file the commit touches, so
    /// the commit does not leak it anew (reported as a warning; `--strict` blocks on it).
    AlreadyInHead,
}

impl DropReason {
    /// Short description used in summaries.
    pub fn describe(self) -> &'static str {
        match self {
            DropReason::InlineAllow => "keyhound:allow comment",
            DropReason::AllowlistedPath => "allowlisted path",
            DropReason::AllowlistedSecret => "allowlisted secret",
            DropReason::IgnoreFile => ".keyhoundignore entry",
            DropReason::Baseline => "baseline",
            DropReason::AlreadyInHead => "HEAD already holding it (warned above; --strict blocks)",
        }
    }
}

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

/// The directory holding `file` (absolute and normalized): what the relative paths written
/// in a config, ignore or baseline file are anchored at.
pub fn directory_of(file: &Path) -> PathBuf {
    let absolute = std::env::current_dir().map(|cwd| cwd.join(file)).unwrap_or_else(|_| file.to_path_buf());
    normalize(&absolute).parent().map(Path::to_path_buf).unwrap_or_default()
}

/// `path` (absolute, or relative to the current directory) relative to `base`, if it is
/// below it.
pub fn relative_to(base: &Path, path: &Path) -> Option<PathBuf> {
    let absolute = if path.is_absolute() { path.to_path_buf() } else { std::env::current_dir().ok()?.join(path) };
    normalize(&absolute).strip_prefix(base).ok().map(Path::to_path_buf)
}

/// The path of a finding as suppression files (`.keyhoundignore`, baselines) record it:
/// relative to the directory `base` holding the file, with `/` separators. History findings
/// carry repository paths already; a path outside `base` is kept as the finding has it.
pub fn suppression_path(finding: &Finding, base: &Path) -> String {
    let path = Path::new(&finding.path);
    let relative = match finding.commit {
        Some(_) => None,
        None => relative_to(base, path),
    };
    let path = relative.as_deref().unwrap_or(path);
    let text = crate::source::forward_slashes(&path.to_string_lossy());
    text.strip_prefix("./").map(str::to_string).unwrap_or(text)
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

/// Every filter that runs after the scan, in the order they apply.
#[derive(Debug, Default)]
pub struct Filters {
    /// The configured allowlists.
    pub allowlist: Allowlist,
    /// The `.keyhoundignore` file, if there is one.
    pub ignore: Option<IgnoreFile>,
    /// The baseline given by `--baseline` or the config file.
    pub baseline: Option<Baseline>,
    /// Whether to list ignore-file and baseline entries that matched nothing.
    pub report_unused: bool,
}

/// What the filters kept, and what they say about themselves.
#[derive(Debug, Default)]
pub struct Filtered {
    /// The findings to report.
    pub kept: Vec<Finding>,
    /// Why each of the others was dropped.
    pub dropped: Vec<DropReason>,
    /// Ignore-file and baseline entries that matched no finding (only with `report_unused`).
    pub unused: Vec<String>,
}

impl Filters {
    /// Applies allowlist, ignore file and baseline, in that order. `dropped` holds the drops
    /// made earlier (inline allow comments).
    pub fn apply(&self, findings: Vec<Finding>, dropped: Vec<DropReason>) -> Filtered {
        let mut out = Filtered { dropped, ..Filtered::default() };
        let mut kept = drop_where(findings, &mut out.dropped, |finding| self.allowlist.drop_reason(finding));
        if let Some(ignore) = &self.ignore {
            let mut used = vec![false; ignore.len()];
            kept = drop_where(kept, &mut out.dropped, |finding| {
                let entry = ignore.matching(finding)?;
                used[entry] = true;
                Some(DropReason::IgnoreFile)
            });
            if self.report_unused {
                out.unused.extend(ignore.describe_unused(&used));
            }
        }
        if let Some(baseline) = &self.baseline {
            let matched = baseline.filter(kept);
            out.dropped.extend(std::iter::repeat_n(DropReason::Baseline, matched.suppressed));
            kept = matched.new;
            if self.report_unused {
                out.unused.extend(matched.unused);
            }
        }
        out.kept = kept;
        out
    }
}

/// Keeps the findings `reason` says nothing about; records the reasons of the others.
fn drop_where(
    findings: Vec<Finding>,
    dropped: &mut Vec<DropReason>,
    mut reason: impl FnMut(&Finding) -> Option<DropReason>,
) -> Vec<Finding> {
    findings
        .into_iter()
        .filter(|finding| match reason(finding) {
            Some(why) => {
                dropped.push(why);
                false
            }
            None => true,
        })
        .collect()
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::rules::{Confidence, Severity};

    pub(crate) fn finding(path: &str, secret: &str) -> Finding {
        Finding {
            rule_id: "r".into(),
            description: "d".into(),
            severity: Severity::High,
            confidence: Confidence::High,
            path: path.into(),
            provenance: crate::source::Provenance::new(crate::source::Origin::File(path.into())),
            position: Position { line: 1, column: 1, end_line: 1, end_column: 2 },
            secret: secret.into(),
            prefix_len: 0,
            fingerprint: crate::finding::fingerprint("r", secret.as_bytes()),
            commit: None,
            structure: None,
            occurrences: None,
            decoded: None,
        }
    }

    #[test]
    fn inline_allows_cover_their_own_lines_only() {
        let on = |line, end_line| Position { line, column: 1, end_line, end_column: 2 };
        let allows = InlineAllows::of(b"a # keyhound:allow\nb\rc # keyhound:allow\r\nd # keyhound\n");
        assert!(allows.cover(&on(1, 1)) && allows.cover(&on(3, 3)));
        // A lone CR ends a line, as it does for the positions reported.
        assert!(!allows.cover(&on(2, 2)) && !allows.cover(&on(4, 4)));
        assert!(allows.cover(&on(2, 3)), "a secret spanning lines is allowed from any of them");
        assert!(InlineAllows::of(b"key = 'x' # keyhound").is_empty());
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
        let filters = Filters { allowlist: allow, ..Filters::default() };
        let out = filters.apply(
            vec![finding("a", "tok_test1"), finding("b", "tok_DUMMY"), finding("c", "tok_real")],
            vec![DropReason::InlineAllow],
        );
        assert_eq!(out.kept.len(), 1);
        assert_eq!(
            out.dropped,
            [DropReason::InlineAllow, DropReason::AllowlistedSecret, DropReason::AllowlistedSecret]
        );
    }

    #[test]
    fn suppression_paths_are_relative_to_the_file_and_history_paths_kept() {
        let cwd = std::env::current_dir().unwrap();
        assert_eq!(suppression_path(&finding("./src/a.rs", "x"), &cwd), "src/a.rs");
        assert_eq!(suppression_path(&finding(&cwd.join("src/b.rs").display().to_string(), "x"), &cwd), "src/b.rs");
        assert_eq!(suppression_path(&finding("src/c.rs", "x"), &cwd.join("src")), "c.rs");
        let outside = finding("/elsewhere/d.rs", "x");
        assert_eq!(suppression_path(&outside, &cwd), "/elsewhere/d.rs");
        let mut in_history = finding("src/e.rs", "x");
        in_history.commit = Some(std::sync::Arc::new(crate::source::CommitInfo {
            id: "0".repeat(40),
            author: "a".into(),
            email: "e".into(),
            date: "d".into(),
            summary: "s".into(),
        }));
        assert_eq!(suppression_path(&in_history, &cwd.join("src")), "src/e.rs");
    }

    #[test]
    fn filters_apply_in_order_and_count_each_drop_once() {
        let cwd = std::env::current_dir().unwrap();
        let allowlisted = finding("a", "tok_dummy");
        let ignored = finding("b", "tok_ignored");
        let baselined = finding("c", "tok_known");
        let ignore_text = format!("{}\n{}\n", allowlisted.fingerprint, ignored.fingerprint);
        let ignore = IgnoreFile::parse(&ignore_text, &cwd.join(".keyhoundignore")).unwrap();
        let known = [allowlisted.clone(), ignored.clone(), baselined.clone()];
        let baseline = Baseline::of(&cwd.join("baseline"), &known);
        let filters = Filters {
            allowlist: Allowlist::new(None, &[], &[], &["dummy".into()]).unwrap(),
            ignore: Some(ignore),
            baseline: Some(baseline),
            report_unused: true,
        };
        let fresh = finding("d", "tok_new");
        let out = filters.apply(vec![allowlisted, ignored, baselined, fresh], Vec::new());
        assert_eq!(out.kept.len(), 1);
        assert_eq!(out.kept[0].path, "d");
        assert_eq!(out.dropped, [DropReason::AllowlistedSecret, DropReason::IgnoreFile, DropReason::Baseline]);
        // What an earlier filter dropped never reaches a later one, so its entries are unused.
        assert_eq!(out.unused.len(), 3, "{:?}", out.unused);
    }
}
