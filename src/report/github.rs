//! GitHub Actions workflow commands: one `::error file=…,line=…,col=…,endLine=…,endColumn=…,
//! title=…::message` line per finding, which GitHub shows as an annotation on the file and in
//! the job summary. Critical and high findings are errors, medium warnings, low notices.
//!
//! Escaping follows GitHub's runner: in the message `%`, `\r` and `\n` become `%25`, `%0D` and
//! `%0A`; in property values `:` and `,` also become `%3A` and `%2C`. Before that, control
//! characters in paths, rule text and commit metadata are shown escaped ([`crate::escape`]):
//! a raw escape sequence would reach the log, and GitHub decodes `%0A` back into a line break.

use std::io::{self, Write};

use super::{headline, text::fix_for, Level, ReportOptions};
use crate::escape::visible;
use crate::rules::RuleSet;
use crate::scan::ScanOutcome;

/// Writes one workflow command per finding.
pub fn write(outcome: &ScanOutcome, rules: &RuleSet, options: &ReportOptions, out: &mut dyn Write) -> io::Result<()> {
    for finding in &outcome.findings {
        let command = match Level::of(finding.severity) {
            Level::Error => "error",
            Level::Warning => "warning",
            Level::Note => "notice",
        };
        let position = &finding.position;
        let path = visible(finding.path.strip_prefix("./").unwrap_or(&finding.path));
        let title = visible(&format!("{} ({})", finding.description, finding.rule_id)).into_owned();
        let message = format!("{}. Fix: {}.", headline(finding, options), visible(&fix_for(rules, &finding.rule_id)));
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
    use super::*;
    use crate::report::test_support::finding;

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
    fn newlines_and_percent_are_escaped() {
        assert_eq!(escape_data("50%\r\nnext"), "50%25%0D%0Anext");
        assert_eq!(escape_property("a:b,c"), "a%3Ab%2Cc");
    }
}
