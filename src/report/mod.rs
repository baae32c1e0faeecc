//! Reporters: pure functions from a [`ScanOutcome`] to bytes on a writer. Every format
//! redacts secrets unless [`ReportOptions::show_secrets`] is set.

pub mod blocked;
mod codequality;
mod csv;
mod github;
mod json;
mod junit;
mod sarif;
pub mod summary;
pub mod text;

use std::io::{self, Write};

use crate::finding::Finding;
use crate::rules::{RuleSet, Severity};
use crate::scan::ScanOutcome;

/// Output formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    /// For people: location, rule, redacted secret and how to fix it.
    Text,
    /// One JSON array of findings.
    Json,
    /// One JSON object per line.
    Jsonl,
    /// SARIF 2.1.0, for GitHub code scanning and other SARIF viewers.
    Sarif,
    /// GitHub Actions workflow commands (`::error file=…::`), shown as annotations.
    Github,
    /// JUnit XML, for Jenkins and GitLab test reports: one failed test case per finding.
    Junit,
    /// Comma-separated values (RFC 4180) with a header row.
    Csv,
    /// GitLab Code Quality JSON (Code Climate issues), for the merge request widget.
    Codequality,
}

/// Options every reporter honours.
#[derive(Debug, Clone, Copy, Default)]
pub struct ReportOptions {
    /// Print secrets whole instead of redacted.
    pub show_secrets: bool,
    /// Use ANSI colours (text format only).
    pub color: bool,
}

impl ReportOptions {
    /// The secret as this report may show it.
    pub fn secret_text(&self, finding: &Finding) -> String {
        if self.show_secrets {
            finding.secret.clone()
        } else {
            finding.redacted_secret()
        }
    }
}

/// Writes the findings of `outcome` in `format`.
pub fn write(
    format: Format,
    outcome: &ScanOutcome,
    rules: &RuleSet,
    options: &ReportOptions,
    out: &mut dyn Write,
) -> io::Result<()> {
    match format {
        Format::Text => text::write(outcome, rules, options, out),
        Format::Json => json::write_array(outcome, options, out),
        Format::Jsonl => json::write_lines(outcome, options, out),
        Format::Sarif => sarif::write(outcome, rules, options, out),
        Format::Github => github::write(outcome, rules, options, out),
        Format::Junit => junit::write(outcome, rules, options, out),
        Format::Csv => csv::write(outcome, options, out),
        Format::Codequality => codequality::write(outcome, options, out),
    }?;
    out.flush()
}

/// How loudly CI systems should flag a finding of this severity.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Level {
    /// Critical and high severity.
    Error,
    /// Medium severity.
    Warning,
    /// Low severity.
    Note,
}

impl Level {
    fn of(severity: Severity) -> Self {
        match severity {
            Severity::Critical | Severity::High => Level::Error,
            Severity::Medium => Level::Warning,
            Severity::Low => Level::Note,
        }
    }
}

/// One line naming what was found: `OpenAI API key (openai-api-key): sk-proj-…Ab3A`, plus the
/// commit for history findings.
fn headline(finding: &Finding, options: &ReportOptions) -> String {
    let mut line = format!("{} ({}): {}", finding.description, finding.rule_id, options.secret_text(finding));
    if let Some(commit) = &finding.commit {
        let short = commit.id.get(..12).unwrap_or(&commit.id);
        line.push_str(&format!(" in commit {short} by {} on {}", commit.author, commit.date));
    }
    line
}

#[cfg(test)]
mod golden;

#[cfg(test)]
pub(crate) mod test_support {
    use std::sync::Arc;

    use crate::finding::{CommitInfo, Finding, Position};
    use crate::rules::{Confidence, Severity};
    use crate::scan::ScanOutcome;
    use crate::verify::{State, Verification};

    /// A finding with a fixed, obviously fake secret.
    pub fn finding(path: &str, line: usize) -> Finding {
        Finding {
            rule_id: "openai-api-key".into(),
            description: "OpenAI API key".into(),
            severity: Severity::Critical,
            confidence: Confidence::High,
            path: path.into(),
            position: Position { line, column: 5, end_line: line, end_column: 61 },
            secret: "sk-proj-FAKEfakeFAKEfakeFAKEfake0000FAKEfakeFAKEfakeFAKEzz9Q".into(),
            prefix_len: 8,
            fingerprint: "openai-api-key:0123456789abcdef".into(),
            commit: None,
            structure: Some(0.5),
            occurrences: None,
            decoded: None,
        }
    }

    /// An outcome of one finding whose key was verified to be in `state`.
    pub fn verified_outcome(state: State) -> ScanOutcome {
        let finding = finding("a.py", 3);
        let verification =
            Verification { state, provider: Some("openai"), detail: "HTTP 429 insufficient_quota".into() };
        let verifications = [(finding.fingerprint.clone(), verification)].into_iter().collect();
        ScanOutcome { findings: vec![finding], verifications, ..ScanOutcome::default() }
    }

    /// The same finding attributed to a commit.
    pub fn finding_in_commit(path: &str, line: usize) -> Finding {
        let mut finding = finding(path, line);
        finding.commit = Some(Arc::new(CommitInfo {
            id: "0123456789abcdef0123456789abcdef01234567".into(),
            author: "Ada".into(),
            email: "ada@example.com".into(),
            date: "2024-05-01T12:00:00+00:00".into(),
            summary: "add client".into(),
        }));
        finding
    }
}
