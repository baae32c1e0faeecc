//! GitLab Code Quality (a subset of the Code Climate issue format): one JSON array with an
//! issue per finding, which GitLab shows in the merge request widget and the diff.
//!
//! Each issue has `type`, `check_name` (the rule id), `description` (with the redacted
//! secret), `categories`, `severity` (critical → critical, high → major, medium → minor,
//! low → info), `location` (`path`, `lines.begin`; always under the scanned root for paths
//! from git trees, and the archive itself for a secret in an archive member, which the
//! description names) and a `fingerprint` that GitLab uses to
//! tell new issues from old ones: a hash of the content fingerprint, the path and the
//! occurrence number within that file, so it does not change when lines move (the same as
//! SARIF's `keyhound/location/v1`).

use std::io::{self, Write};

use serde_json::{json, Value};

use super::{headline, place_fingerprints, Location, ReportOptions};
use crate::escape::visible;
use crate::pipeline::ScanOutcome;
use crate::rules::Severity;

/// Writes the issues as one pretty-printed JSON array.
pub(super) fn write(outcome: &ScanOutcome, options: &ReportOptions, out: &mut dyn Write) -> io::Result<()> {
    let issues: Vec<Value> = outcome
        .findings
        .iter()
        .zip(place_fingerprints(&outcome.findings))
        .map(|(finding, fingerprint)| {
            let location = Location::of(finding, &options.checkout);
            let mut description = headline(finding, options);
            if let Some(member) = location.member {
                description.push_str(&format!(" (in archive member {})", visible(&member)));
            }
            json!({
                "type": "issue",
                "check_name": finding.rule_id,
                "description": description,
                "categories": ["Security"],
                "severity": severity(finding.severity),
                "location": { "path": location.file, "lines": { "begin": finding.position.line } },
                "fingerprint": fingerprint,
            })
        })
        .collect();
    super::write_json(&issues, true, out)?;
    writeln!(out)
}

fn severity(severity: Severity) -> &'static str {
    match severity {
        Severity::Critical => "critical",
        Severity::High => "major",
        Severity::Medium => "minor",
        Severity::Low => "info",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::test_support::finding;

    #[test]
    fn issues_are_unique_stable_across_line_moves_and_redacted() {
        let render = |lines: [usize; 3]| {
            let findings = lines.iter().map(|&line| finding("./app/.env", line)).collect();
            let mut out = Vec::new();
            write(&ScanOutcome { findings, ..Default::default() }, &ReportOptions::default(), &mut out).unwrap();
            serde_json::from_slice::<Vec<Value>>(&out).unwrap()
        };
        let issues = render([3, 9, 20]);
        let fingerprints: Vec<&Value> = issues.iter().map(|issue| &issue["fingerprint"]).collect();
        assert!(fingerprints[0] != fingerprints[1] && fingerprints[1] != fingerprints[2]);
        let moved = render([5, 12, 40]);
        assert_eq!(moved.iter().map(|issue| &issue["fingerprint"]).collect::<Vec<_>>(), fingerprints);
        assert_eq!(issues[0]["location"]["path"], "app/.env");
        assert_eq!(issues[0]["location"]["lines"]["begin"], 3);
        assert_eq!(issues[0]["severity"], "critical");
        assert!(!serde_json::to_string(&issues).unwrap().contains("FAKEfake"));
    }
}
