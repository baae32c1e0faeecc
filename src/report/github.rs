//! GitHub Actions workflow commands: one `::error file=…,line=…,col=…,endLine=…,endColumn=…,
//! title=…::message` line per finding, which GitHub shows as an annotation on the file and in
//! the job summary. Critical and high findings are errors, medium warnings, low notices.
//!
//! Paths are relative to the repository root (or to `GITHUB_WORKSPACE`, when it holds the
//! file), where GitHub looks for them, whatever directory keyhound ran in; for a secret in an
//! archive member the annotation is on the archive and the message names the member.
//!
//! Escaping follows GitHub's runner: in the message `%`, `\r` and `\n` become `%25`, `%0D` and
//! `%0A`; in property values `:` and `,` also become `%3A` and `%2C`. Before that, control
//! characters in paths, rule text and commit metadata are shown escaped ([`crate::escape`]):
//! a raw escape sequence would reach the log, and GitHub decodes `%0A` back into a line break.

use std::io::{self, Write};

use super::{headline, text::fix_for, Level, Location, ReportOptions};
use crate::escape::visible;
use crate::pipeline::ScanOutcome;
use crate::rules::RuleSet;

/// Writes one workflow command per finding.
pub(super) fn write(
    outcome: &ScanOutcome,
    rules: &RuleSet,
    options: &ReportOptions,
    out: &mut dyn Write,
) -> io::Result<()> {
    for finding in &outcome.findings {
        let command = match Level::of(finding.severity) {
            Level::Error => "error",
            Level::Warning => "warning",
            Level::Note => "notice",
        };
        let position = &finding.position;
        let location = Location::of(finding, &options.checkout);
        let path = visible(&location.file).into_owned();
        let title = visible(&format!("{} ({})", finding.description, finding.rule_id)).into_owned();
        let message = format!(
            "{}. Fix: {}.{}",
            headline(finding, options),
            visible(&fix_for(rules, &finding.rule_id)),
            location.member_note()
        );
        writeln!(
            out,
            "::{command} file={},line={},col={},endLine={},endColumn={},title={}::{}",
            escape_property(&path),
            position.line,
            position.column,
            position.end_line,
            position.end_column,
            escape_property(&title),
            escape_data(&message)
        )?;
    }
    Ok(())
}

/// Escapes a command's message.
fn escape_data(text: &str) -> String {
    text.replace('%', "%25").replace('\r', "%0D").replace('\n', "%0A")
}

/// Escapes a command's property value.
fn escape_property(text: &str) -> String {
    escape_data(text).replace(':', "%3A").replace(',', "%2C")
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::*;
    use crate::report::test_support::{finding, finding_in_member};
    use crate::report::Checkout;

    #[test]
    fn annotation_has_location_title_and_redacted_message() {
        let outcome = ScanOutcome { findings: vec![finding("./a,b:c%.env", 3)], ..ScanOutcome::default() };
        let mut out = Vec::new();
        write(&outcome, &RuleSet::builtin().unwrap(), &ReportOptions::default(), &mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(
            text.starts_with(
                "::error file=a%2Cb%3Ac%25.env,line=3,col=5,endLine=3,endColumn=61,title=OpenAI API key (openai-api-key)::"
            ),
            "{text}"
        );
        assert!(text.contains("sk-proj-…zz9Q") && !text.contains("FAKEfake"));
        assert_eq!(text.lines().count(), 1);
    }

    #[test]
    fn paths_are_relative_to_the_first_root_that_holds_them() {
        let member = finding_in_member("../lib/app.zip", "conf/.env", 3);
        let outcome = ScanOutcome { findings: vec![member, finding("/elsewhere/a.py", 1)], ..ScanOutcome::default() };
        let checkout = Checkout {
            base: Some(PathBuf::from("/work/repo/sub")),
            roots: vec![PathBuf::from("/work/repo/lib/x"), PathBuf::from("/work/repo")],
        };
        let options = ReportOptions { checkout, ..ReportOptions::default() };
        let mut out = Vec::new();
        write(&outcome, &RuleSet::builtin().unwrap(), &options, &mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert!(lines[0].starts_with("::error file=lib/app.zip,line=3,"), "{text}");
        assert!(lines[0].ends_with(" In archive member conf/.env."), "{text}");
        assert!(lines[1].starts_with("::error file=/elsewhere/a.py,"), "{text}");
    }

    #[test]
    fn newlines_and_percent_are_escaped() {
        assert_eq!(escape_data("50%\r\nnext"), "50%25%0D%0Anext");
        assert_eq!(escape_property("a:b,c"), "a%3Ab%2Cc");
    }
}
