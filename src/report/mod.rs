//! Reporters: pure functions from a [`ScanOutcome`] to bytes on a writer. Every format
//! redacts secrets unless [`ReportOptions::show_secrets`] is set.

mod json;
pub mod summary;
pub mod text;

use std::io::{self, Write};

use crate::finding::Finding;
use crate::rules::RuleSet;
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
        Format::Json => json::write_array(&outcome.findings, options, out),
        Format::Jsonl => json::write_lines(&outcome.findings, options, out),
    }?;
    out.flush()
}

#[cfg(test)]
pub(crate) mod test_support {
    use std::sync::Arc;

    use crate::finding::{CommitInfo, Finding, Position};
    use crate::rules::{Confidence, Severity};

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
        }
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
