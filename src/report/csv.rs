//! CSV (RFC 4180): a header row, then one row per finding, CRLF line ends. A field holding a
//! comma, a double quote, CR or LF is quoted, with its double quotes doubled.
//!
//! Columns: `rule, description, severity, confidence, path, line, column, end_line,
//! end_column, secret, fingerprint, commit, author, email, date` (the last four empty outside
//! history scans). `secret` is redacted unless `--show-secrets`.
//!
//! Paths, commit authors and secrets come from the repository scanned, which may be hostile:
//! a field a spreadsheet would take for a formula (starting with `=`, `+`, `-`, `@`, a tab or
//! a CR) is written with a leading `'`, as OWASP's CSV-injection advice has it, so opening the
//! report never runs `=HYPERLINK(…)` from a file name.

use std::borrow::Cow;
use std::io::{self, Write};

use super::ReportOptions;
use crate::finding::Finding;
use crate::pipeline::ScanOutcome;

const HEADER: [&str; 15] = [
    "rule",
    "description",
    "severity",
    "confidence",
    "path",
    "line",
    "column",
    "end_line",
    "end_column",
    "secret",
    "fingerprint",
    "commit",
    "author",
    "email",
    "date",
];

/// Writes the header and one row per finding.
pub(super) fn write(outcome: &ScanOutcome, options: &ReportOptions, out: &mut dyn Write) -> io::Result<()> {
    write_row(HEADER.iter().map(|name| name.to_string()), out)?;
    for finding in &outcome.findings {
        write_row(row(finding, options), out)?;
    }
    Ok(())
}

fn row(finding: &Finding, options: &ReportOptions) -> impl Iterator<Item = String> {
    let position = finding.position;
    let commit = finding.commit.as_deref();
    let commit_field = |field: fn(&crate::source::CommitInfo) -> &str| commit.map(field).unwrap_or("").to_string();
    [
        finding.rule_id.clone(),
        finding.description.clone(),
        finding.severity.to_string(),
        finding.confidence.to_string(),
        finding.path.clone(),
        position.line.to_string(),
        position.column.to_string(),
        position.end_line.to_string(),
        position.end_column.to_string(),
        options.secret_text(finding),
        finding.fingerprint.clone(),
        commit_field(|c| &c.id),
        commit_field(|c| &c.author),
        commit_field(|c| &c.email),
        commit_field(|c| &c.date),
    ]
    .into_iter()
}

fn write_row(fields: impl Iterator<Item = String>, out: &mut dyn Write) -> io::Result<()> {
    let quoted: Vec<String> = fields.map(|field| quote(&inert(field)).into_owned()).collect();
    write!(out, "{}\r\n", quoted.join(","))
}

/// The field, with a leading `'` if a spreadsheet would read it as a formula.
fn inert(field: String) -> String {
    if field.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{field}")
    } else {
        field
    }
}

/// Quotes a field if RFC 4180 requires it.
fn quote(field: &str) -> Cow<'_, str> {
    if field.contains([',', '"', '\r', '\n']) {
        Cow::Owned(format!("\"{}\"", field.replace('"', "\"\"")))
    } else {
        Cow::Borrowed(field)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::test_support::{finding, finding_in_commit};

    #[test]
    fn header_rows_and_quoting() {
        let outcome =
            ScanOutcome { findings: vec![finding("a,\"b\".env", 3), finding_in_commit("c", 1)], ..Default::default() };
        let mut out = Vec::new();
        write(&outcome, &ReportOptions::default(), &mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        let rows: Vec<&str> = text.split_terminator("\r\n").collect();
        assert_eq!(rows.len(), 3);
        assert!(rows[0].starts_with("rule,description,severity"));
        assert!(rows[1].contains(",\"a,\"\"b\"\".env\",3,5,"), "{}", rows[1]);
        assert!(rows[1].contains("sk-proj-…zz9Q") && !text.contains("FAKEfake"));
        assert!(rows[2].ends_with(",Ada,ada@example.com,2024-05-01T12:00:00+00:00"), "{}", rows[2]);
    }

    #[test]
    fn fields_a_spreadsheet_would_run_are_made_inert() {
        let outcome = ScanOutcome { findings: vec![finding("=HYPERLINK(\"x\")", 1)], ..Default::default() };
        let mut out = Vec::new();
        write(&outcome, &ReportOptions::default(), &mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(text.contains(",\"'=HYPERLINK(\"\"x\"\")\",1,"), "{text}");
        for risky in ["+1", "-----BEGIN", "@SUM(A1)", "\tx", "\rx"] {
            assert_eq!(inert(risky.to_string()), format!("'{risky}"));
        }
        assert_eq!(inert("src/.env".to_string()), "src/.env");
    }

    #[test]
    fn fields_with_newlines_are_quoted() {
        assert_eq!(quote("a\nb"), "\"a\nb\"");
        assert_eq!(quote("plain"), "plain");
    }
}
