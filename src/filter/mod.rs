//! Filters: what drops a finding after matching, each with its own [`DropReason`], in this
//! order:
//!
//! 1. [`inline`]: a `keyhound:allow` comment on the secret's lines. Decided while scanning,
//!    since only the scanner sees a text's lines: a history finding it drops never competes
//!    for the earliest version of its file.
//! 2. [`allowlist`]: the configuration's path globs and regexes, secret regexes and
//!    stopwords.
//! 3. [`ignore_file`]: the `.keyhoundignore` entries.
//! 4. [`baseline`]: the baseline's entries.
//! 5. [`already_in_head`]: `keyhound staged` only, a secret `HEAD` already holds in a file the
//!    commit touches. Last, since the command reads `HEAD`'s blobs only for findings the
//!    others kept.
//!
//! [`Filters::apply`] runs filters 2 to 4 on the findings the scanner kept (see
//! [`crate::pipeline`] for where 5 runs). A finding one filter drops never reaches the next,
//! so each drop is counted once, under the reason of the first filter that drops it. Pure
//! functions over findings.

pub(crate) mod allowlist;
pub(crate) mod already_in_head;
pub(crate) mod baseline;
pub(crate) mod ignore_file;
pub(crate) mod inline;

use std::path::Path;

use serde::{Deserialize, Serialize};

pub(crate) use allowlist::Allowlist;
use baseline::Baseline;
use ignore_file::IgnoreFile;
pub(crate) use inline::InlineAllows;

use crate::finding::Finding;
use crate::paths::{forward_slashes, relative_to};

/// Why a finding was not reported.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
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

/// The path of a finding as suppression files (`.keyhoundignore`, baselines) record it:
/// relative to the directory `base` holding the file, with `/` separators. History findings
/// carry repository paths already; a path outside `base` is kept as the finding has it.
pub(crate) fn suppression_path(finding: &Finding, base: &Path) -> String {
    let path = Path::new(&finding.path);
    let relative = match finding.commit {
        Some(_) => None,
        None => relative_to(base, path),
    };
    let path = relative.as_deref().unwrap_or(path);
    let text = forward_slashes(&path.to_string_lossy());
    text.strip_prefix("./").map(str::to_string).unwrap_or(text)
}

/// The filters the configuration sets up, which run after the scan in the order of their
/// fields: inline allow comments drop findings before them, while scanning, and
/// `keyhound staged`'s [`already_in_head`] after them.
#[derive(Debug, Default)]
pub(crate) struct Filters {
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
pub(crate) struct Filtered {
    /// The findings to report.
    pub kept: Vec<Finding>,
    /// Why each of the others was dropped.
    pub dropped: Vec<DropReason>,
    /// Ignore-file and baseline entries that matched no finding (only with `report_unused`).
    pub unused: Vec<String>,
}

impl Filters {
    /// Applies allowlist, ignore file and baseline, in that order, to the findings the
    /// scanner kept. `inline_allowed` holds the drops of filter 1, which the scanner made.
    pub(crate) fn apply(&self, findings: Vec<Finding>, inline_allowed: Vec<DropReason>) -> Filtered {
        let mut out = Filtered { dropped: inline_allowed, ..Filtered::default() };
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
    use crate::lines::Position;
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
            context: None,
        }
    }

    /// A finding for each filter of [`one_drop_each`] to drop, then one they all keep.
    pub(crate) fn one_of_each() -> [Finding; 4] {
        [finding("a", "tok_dummy"), finding("b", "tok_ignored"), finding("c", "tok_known"), finding("d", "tok_new")]
    }

    /// Filters whose allowlist drops the first of [`one_of_each`], ignore file the second and
    /// baseline the third. The ignore file lists the first too, and the baseline the first
    /// two, so a finding that reached a filter after the one dropping it would be counted
    /// twice, and its entries would not be unused.
    pub(crate) fn one_drop_each() -> Filters {
        let cwd = std::env::current_dir().unwrap();
        let [allowlisted, ignored, baselined, _] = one_of_each();
        let ignore_text = format!("{}\n{}\n", allowlisted.fingerprint, ignored.fingerprint);
        Filters {
            allowlist: Allowlist::new(None, globset::GlobSet::empty(), Vec::new(), Vec::new(), &["dummy".into()]),
            ignore: Some(IgnoreFile::parse(&ignore_text, &cwd.join(".keyhoundignore")).unwrap()),
            baseline: Some(Baseline::of(&cwd.join("baseline"), &[allowlisted, ignored, baselined])),
            report_unused: true,
        }
    }

    #[test]
    fn secrets_allowed_by_regex_or_stopword_and_counted() {
        let regexes = vec![regex::Regex::new("^tok_test").unwrap()];
        let allow = Allowlist::new(None, globset::GlobSet::empty(), Vec::new(), regexes, &["dummy".into()]);
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
        let out = one_drop_each().apply(one_of_each().to_vec(), Vec::new());
        assert_eq!(out.kept.len(), 1);
        assert_eq!(out.kept[0].path, "d");
        assert_eq!(out.dropped, [DropReason::AllowlistedSecret, DropReason::IgnoreFile, DropReason::Baseline]);
        // What an earlier filter dropped never reaches a later one, so its entries are unused.
        assert_eq!(out.unused.len(), 3, "{:?}", out.unused);
    }
}
