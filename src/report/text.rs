//! The text report, for people: each finding's location, rule, redacted secret and a
//! one-line fix. Colour only when asked (a terminal without `NO_COLOR`).

use std::io::{self, Write};

use super::ReportOptions;
use crate::finding::Finding;
use crate::rules::RuleSet;
use crate::scan::ScanOutcome;

const BOLD_RED: &str = "\x1b[1;31m";
const MAGENTA: &str = "\x1b[35m";
const DIM: &str = "\x1b[2m";
const RESET: &str = "\x1b[0m";

/// Writes each finding as a short block.
pub fn write(outcome: &ScanOutcome, rules: &RuleSet, options: &ReportOptions, out: &mut dyn Write) -> io::Result<()> {
    for finding in &outcome.findings {
        write_finding(finding, fix_for(rules, &finding.rule_id), options, out)?;
    }
    Ok(())
}

fn write_finding(finding: &Finding, fix: String, options: &ReportOptions, out: &mut dyn Write) -> io::Result<()> {
    let paint = |code: &str, text: &str| {
        if options.color {
            format!("{code}{text}{RESET}")
        } else {
            text.to_string()
        }
    };
    let position = &finding.position;
    let location = format!("{}:{}:{}", finding.path, position.line, position.column);
    writeln!(
        out,
        "{}: {} [{}, {}]",
        paint(MAGENTA, &location),
        paint(BOLD_RED, &finding.description),
        finding.rule_id,
        finding.severity
    )?;
    writeln!(out, "    secret: {}", options.secret_text(finding))?;
    if let Some(commit) = &finding.commit {
        let short = commit.id.get(..12).unwrap_or(&commit.id);
        writeln!(
            out,
            "    commit: {short} by {} <{}> on {}: {}",
            commit.author, commit.email, commit.date, commit.summary
        )?;
    }
    if let Some(more) = finding.occurrences.filter(|&n| n > 1).map(|n| n - 1) {
        writeln!(out, "    also in {more} other place(s) in history (same fingerprint)")?;
    }
    writeln!(out, "    {}", paint(DIM, &format!("fix: {fix}")))?;
    writeln!(out)
}

/// The one-line fix for a rule's findings.
pub fn fix_for(rules: &RuleSet, rule_id: &str) -> String {
    let env_var = rules.find(rule_id).and_then(|rule| rule.spec.env_var.as_deref());
    let destination = match env_var {
        Some(name) => format!("move it to an environment variable such as {name} and read it from there"),
        None => "move it out of the code, into an environment variable or a secrets manager".to_string(),
    };
    format!("{destination}; if it was ever pushed or shared, revoke it and create a new one")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::test_support::{finding, finding_in_commit};

    fn render(findings: Vec<Finding>, options: ReportOptions) -> String {
        let outcome = ScanOutcome { findings, ..ScanOutcome::default() };
        let rules = RuleSet::builtin().unwrap();
        let mut out = Vec::new();
        write(&outcome, &rules, &options, &mut out).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn block_has_location_rule_redacted_secret_and_fix() {
        let text = render(vec![finding("app/.env", 3)], ReportOptions::default());
        assert!(text.starts_with("app/.env:3:5: OpenAI API key [openai-api-key, critical]\n"), "{text}");
        assert!(text.contains("    secret: sk-proj-…zz9Q\n"), "{text}");
        assert!(text.contains("OPENAI_API_KEY"), "{text}");
        assert!(text.contains("revoke"), "{text}");
        assert!(!text.contains('\x1b'));
    }

    #[test]
    fn commit_line_and_colour() {
        let mut finding = finding_in_commit("a", 1);
        finding.occurrences = Some(3);
        let text = render(vec![finding], ReportOptions { show_secrets: false, color: true });
        assert!(text.contains("commit: 0123456789ab by Ada <ada@example.com> on 2024-05-01T12:00:00+00:00: add client"));
        assert!(text.contains("    also in 2 other place(s) in history (same fingerprint)\n"), "{text}");
        assert!(text.contains("\x1b[35m"));
    }
}
