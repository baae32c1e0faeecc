//! JUnit XML, as Jenkins and GitLab read test reports: one `<testcase>` per finding, each a
//! `<failure>` whose message names the rule and the redacted secret. A scan without findings
//! writes one passing test case, so the report is never empty.

use std::io::{self, Write};

use super::{headline, text::fix_for, ReportOptions};
use crate::escape::visible;
use crate::finding::Finding;
use crate::pipeline::ScanOutcome;
use crate::rules::RuleSet;

/// Writes the outcome as one `<testsuites>` document.
pub(super) fn write(
    outcome: &ScanOutcome,
    rules: &RuleSet,
    options: &ReportOptions,
    out: &mut dyn Write,
) -> io::Result<()> {
    let failures = outcome.findings.len();
    let tests = failures.max(1);
    let time = format!("{:.3}", outcome.elapsed.as_secs_f64());
    writeln!(out, r#"<?xml version="1.0" encoding="UTF-8"?>"#)?;
    writeln!(out, r#"<testsuites name="keyhound" tests="{tests}" failures="{failures}" errors="0" time="{time}">"#)?;
    writeln!(
        out,
        r#"  <testsuite name="keyhound" tests="{tests}" failures="{failures}" errors="0" skipped="0" time="{time}">"#
    )?;
    if outcome.findings.is_empty() {
        writeln!(out, r#"    <testcase name="no secrets found" classname="keyhound" time="0"/>"#)?;
    }
    for finding in &outcome.findings {
        write_case(finding, rules, options, out)?;
    }
    writeln!(out, "  </testsuite>")?;
    writeln!(out, "</testsuites>")
}

fn write_case(finding: &Finding, rules: &RuleSet, options: &ReportOptions, out: &mut dyn Write) -> io::Result<()> {
    let position = &finding.position;
    // Names and messages are shown to people; `file` is read by tools and keeps the path.
    let shown = visible(&finding.path);
    let location = format!("{shown}:{}:{}", position.line, position.column);
    let name = format!("{} at {location}", finding.rule_id);
    let message = headline(finding, options);
    let details = format!(
        "{location}\n{message}\nfingerprint: {}\nfix: {}",
        finding.fingerprint,
        fix_for(rules, &finding.rule_id)
    );
    writeln!(
        out,
        r#"    <testcase name="{}" classname="{}" file="{}" line="{}" time="0">"#,
        escape(&name),
        escape(&shown),
        escape(&finding.path),
        position.line
    )?;
    writeln!(
        out,
        r#"      <failure type="{}" message="{}">{}</failure>"#,
        escape(&finding.rule_id),
        escape(&message),
        escape(&details)
    )?;
    writeln!(out, "    </testcase>")
}

/// Escapes text for XML content and attribute values. Characters XML 1.0 cannot hold at all
/// (most control characters) become U+FFFD; newlines and tabs in attributes are kept as
/// character references so parsers do not normalise them away, and so are DEL and the C1
/// controls, which XML allows but a terminal would act on.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\n' => out.push_str("&#10;"),
            '\r' => out.push_str("&#13;"),
            '\t' => out.push_str("&#9;"),
            c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => out.push('\u{FFFD}'),
            // Allowed, but a control sequence on a terminal (U+009B is CSI).
            c if c.is_control() => out.push_str(&format!("&#x{:x};", u32::from(c))),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::test_support::finding;

    fn render(findings: Vec<Finding>) -> String {
        let outcome = ScanOutcome { findings, ..ScanOutcome::default() };
        let mut out = Vec::new();
        write(&outcome, &RuleSet::builtin().unwrap(), &ReportOptions::default(), &mut out).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn one_failed_case_per_finding_with_escaped_names() {
        let xml = render(vec![finding("a<&>\"'.env", 3), finding("b.env", 1)]);
        assert!(xml.contains(r#"tests="2" failures="2""#), "{xml}");
        assert_eq!(xml.matches("<testcase ").count(), 2);
        assert_eq!(xml.matches("<failure ").count(), 2);
        assert!(xml.contains("a&lt;&amp;&gt;&quot;&apos;.env"), "{xml}");
        assert!(xml.contains("sk-proj-…zz9Q") && !xml.contains("FAKEfake"));
    }

    #[test]
    fn clean_scan_is_one_passing_case() {
        let xml = render(Vec::new());
        assert!(xml.contains(r#"tests="1" failures="0""#) && !xml.contains("<failure"), "{xml}");
    }

    #[test]
    fn control_characters_cannot_break_the_document() {
        assert_eq!(escape("a\u{1}b\nc"), "a\u{FFFD}b&#10;c");
        assert_eq!(escape("\u{7f}\u{9b}"), "&#x7f;&#x9b;");
    }
}
