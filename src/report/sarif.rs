//! SARIF 2.1.0, the format GitHub code scanning (and most SARIF viewers) read.
//!
//! One run whose `automationDetails.id` names the command (`keyhound/scan/`,
//! `keyhound/history/`, `keyhound/staged/`), so code scanning keeps the uploads of different
//! commands apart, and whose `tool.driver.rules` lists every rule in use (id, descriptions,
//! help from the rule's remediation, and `security-severity` for GitHub's severity column).
//! One result per finding, at most [`Format::max_results`] (GitHub's limit; the rest are left
//! out and the command warns): `ruleId`, `level`, a message with the redacted secret, the
//! location (`artifactLocation.uri` relative to `%SRCROOT%`, 1-based `region` whose
//! `endColumn` is exclusive, columns in Unicode code points), and two `partialFingerprints`:
//! `keyhound/v1`, the content fingerprint (the same for every place that holds the secret),
//! and `keyhound/location/v1`, a hash of it with the path and the occurrence number of the
//! secret in that path, unique to each place and stable when lines move, so code scanning
//! keeps two places of one key as two alerts.
//!
//! For a secret in an archive member the location is the archive, with the member in the
//! message and `properties.member` (a location always stays under `%SRCROOT%` unless the user
//! named an absolute path: paths from git trees and archives are confined to it). A secret in
//! a commit or tag message has no file to point at: its location is logical (`<commit
//! message>` or `<tag message: NAME>`, kind `text`), with the line and column in the
//! location's message. History findings carry `properties.commit` (and
//! `properties.occurrences`, the versions of the file that carry the secret); with
//! `--verify`, `properties.verification` (`state`, `provider`, `detail`, as in the JSON
//! report). The output is checked against the official schema by a test.

use std::io::{self, Write};

use serde_json::{json, Value};

use super::{headline, place_fingerprints, remediation, text::fix_for, Format, Level, Location, ReportOptions};
use crate::finding::Finding;
use crate::pipeline::ScanOutcome;
use crate::rules::{Rule, RuleSet, Severity};
use crate::verify::{Verification, Verifications};

/// The key under which results carry keyhound's content fingerprint.
pub(super) const FINGERPRINT_KEY: &str = "keyhound/v1";

/// The key under which results carry a fingerprint unique to their place.
pub(super) const LOCATION_FINGERPRINT_KEY: &str = "keyhound/location/v1";

/// Writes the outcome as one pretty-printed SARIF log.
pub(super) fn write(
    outcome: &ScanOutcome,
    verifications: &Verifications,
    rules: &RuleSet,
    options: &ReportOptions,
    out: &mut dyn Write,
) -> io::Result<()> {
    let limit = Format::Sarif.max_results().unwrap_or(usize::MAX);
    // A place's number counts only the findings before it: those kept need no others.
    let kept = &outcome.findings[..outcome.findings.len().min(limit)];
    let results: Vec<Value> = kept
        .iter()
        .zip(place_fingerprints(kept))
        .map(|(finding, place)| result(finding, &place, verifications.get(&finding.fingerprint), rules, options))
        .collect();
    let log = json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "automationDetails": { "id": format!("keyhound/{}/", options.command.name()) },
            "tool": { "driver": {
                "name": "keyhound",
                "version": env!("CARGO_PKG_VERSION"),
                "semanticVersion": env!("CARGO_PKG_VERSION"),
                "rules": rules.rules().iter().map(|rule| descriptor(rule, rules)).collect::<Vec<_>>(),
            }},
            "originalUriBaseIds": { "%SRCROOT%": { "description": { "text": "The repository root (or GITHUB_WORKSPACE) holding the findings, else the directory keyhound ran in." } } },
            "columnKind": "unicodeCodePoints",
            "results": results,
        }],
    });
    super::write_json(&log, true, out)?;
    writeln!(out)
}

fn level_name(severity: Severity) -> &'static str {
    match Level::of(severity) {
        Level::Error => "error",
        Level::Warning => "warning",
        Level::Note => "note",
    }
}

/// GitHub's `security-severity`: critical is above 9.0, high 7.0–8.9, medium 4.0–6.9, low below.
fn security_severity(severity: Severity) -> &'static str {
    match severity {
        Severity::Critical => "9.5",
        Severity::High => "8.0",
        Severity::Medium => "5.5",
        Severity::Low => "3.0",
    }
}

fn descriptor(rule: &Rule, rules: &RuleSet) -> Value {
    let spec = &rule.spec;
    let help = remediation(rule, rules);
    let full = format!(
        "{}. Severity {}; a {}-confidence rule. Its findings are secrets that must not be in source code or history.",
        spec.description, spec.severity, spec.confidence
    );
    let markdown = format!(
        "**{}** (`{}`)\n\n{help}\n\nA false positive can be silenced with a `keyhound:allow` comment on its line, \
         or by adding its fingerprint to `.keyhoundignore`.",
        spec.description, spec.id
    );
    json!({
        "id": spec.id,
        "name": spec.id,
        "shortDescription": { "text": spec.description },
        "fullDescription": { "text": full },
        "help": { "text": help, "markdown": markdown },
        "defaultConfiguration": { "level": level_name(spec.severity) },
        "properties": {
            "tags": ["security", "secret"],
            "severity": spec.severity,
            "confidence": spec.confidence,
            "security-severity": security_severity(spec.severity),
            "precision": match spec.confidence {
                crate::rules::Confidence::High => "very-high",
                crate::rules::Confidence::Medium => "high",
                crate::rules::Confidence::Low => "medium",
            },
        },
    })
}

fn result(
    finding: &Finding,
    place: &str,
    verification: Option<&Verification>,
    rules: &RuleSet,
    options: &ReportOptions,
) -> Value {
    let location = Location::of(finding, &options.checkout);
    let message =
        format!("{}. Fix: {}.{}", headline(finding, options), fix_for(rules, &finding.rule_id), location.member_note());
    let mut result = json!({
        "ruleId": finding.rule_id,
        "level": level_name(finding.severity),
        "message": { "text": message },
        "locations": [place_of(finding, &location)],
        "partialFingerprints": { FINGERPRINT_KEY: finding.fingerprint, LOCATION_FINGERPRINT_KEY: place },
        "properties": { "fingerprint": finding.fingerprint, "confidence": finding.confidence },
    });
    if let Some(index) = rules.rules().iter().position(|rule| rule.id() == finding.rule_id) {
        result["ruleIndex"] = json!(index);
    }
    if let Some(member) = location.member {
        result["properties"]["member"] = json!(member);
    }
    if let Some(commit) = &finding.commit {
        result["properties"]["commit"] = json!(commit.as_ref());
    }
    if let Some(occurrences) = finding.occurrences {
        result["properties"]["occurrences"] = json!(occurrences);
    }
    if let Some(verification) = verification {
        result["properties"]["verification"] = json!(verification);
    }
    result
}

/// A region of a file, or for a secret in a commit or tag message, which no file holds, the
/// message as a logical location.
fn place_of(finding: &Finding, location: &Location) -> Value {
    let position = &finding.position;
    if finding.provenance.origin.is_message() {
        let text = format!("Line {}, column {}, of the message.", position.line, position.column);
        return json!({
            "logicalLocations": [{ "name": finding.path, "kind": "text" }],
            "message": { "text": text },
        });
    }
    json!({ "physicalLocation": {
        "artifactLocation": artifact_location(&location.file),
        "region": {
            "startLine": position.line,
            "startColumn": position.column,
            "endLine": position.end_line,
            "endColumn": position.end_column,
        },
    }})
}

/// A relative path becomes a URI reference under `%SRCROOT%`; an absolute one (which only a
/// path named on the command line can be, see [`Location`]) a `file://` URI.
fn artifact_location(path: &str) -> Value {
    let slashed = crate::paths::forward_slashes(path);
    if let Some(absolute) = slashed.strip_prefix('/') {
        json!({ "uri": format!("file:///{}", percent_encode(absolute)) })
    } else {
        json!({ "uri": percent_encode(&slashed), "uriBaseId": "%SRCROOT%" })
    }
}

/// Percent-encodes everything but RFC 3986 unreserved characters and `/`.
fn percent_encode(path: &str) -> String {
    crate::escape::percent_encode(path, b"/")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::test_support::{finding, finding_in_commit, finding_in_commit_message, finding_in_tag_message};
    use crate::report::Command;

    fn render(findings: Vec<Finding>, show_secrets: bool) -> Value {
        let outcome = ScanOutcome { findings, ..ScanOutcome::default() };
        let mut out = Vec::new();
        let options = ReportOptions { show_secrets, ..ReportOptions::default() };
        write(&outcome, &Verifications::new(), &RuleSet::builtin().unwrap(), &options, &mut out).unwrap();
        serde_json::from_slice(&out).unwrap()
    }

    #[test]
    fn results_carry_location_fingerprint_and_redacted_message() {
        let log = render(vec![finding("./app dir/.env", 3)], false);
        let result = &log["runs"][0]["results"][0];
        assert_eq!(result["ruleId"], "openai-api-key");
        assert_eq!(result["level"], "error");
        let location = &result["locations"][0]["physicalLocation"];
        assert_eq!(location["artifactLocation"]["uri"], "app%20dir/.env");
        assert_eq!(location["region"]["startLine"], 3);
        assert_eq!(location["region"]["endColumn"], 61);
        assert_eq!(result["partialFingerprints"][FINGERPRINT_KEY], "openai-api-key:0123456789abcdef");
        let message = result["message"]["text"].as_str().unwrap();
        assert!(message.contains("sk-proj-…zz9Q") && !message.contains("FAKEfake"), "{message}");
        let rules = log["runs"][0]["tool"]["driver"]["rules"].as_array().unwrap();
        let index = result["ruleIndex"].as_u64().unwrap() as usize;
        assert_eq!(rules[index]["id"], "openai-api-key");
        assert_eq!(rules[index]["properties"]["security-severity"], "9.5");
        assert!(rules[index]["help"]["text"].as_str().unwrap().contains("Revoke"));
    }

    #[test]
    fn history_findings_name_their_commit_and_show_secrets_is_honoured() {
        let mut found = finding_in_commit("/etc/passwd", 1);
        found.occurrences = Some(3);
        let log = render(vec![found], true);
        let result = &log["runs"][0]["results"][0];
        assert_eq!(result["properties"]["commit"]["author"], "Ada");
        assert_eq!(result["properties"]["occurrences"], 3);
        let location = &result["locations"][0]["physicalLocation"]["artifactLocation"];
        assert_eq!((&location["uri"], &location["uriBaseId"]), (&json!("etc/passwd"), &json!("%SRCROOT%")));
        assert!(result["message"]["text"].as_str().unwrap().contains("FAKEzz9Q"));
    }

    #[test]
    fn each_place_of_a_key_has_its_own_stable_location_fingerprint() {
        let places = |lines: [usize; 3]| {
            let findings = vec![finding("a.env", lines[0]), finding("a.env", lines[1]), finding("b.env", lines[2])];
            let log = render(findings, false);
            let results = log["runs"][0]["results"].as_array().unwrap().clone();
            results.iter().map(|result| result["partialFingerprints"].clone()).collect::<Vec<_>>()
        };
        let fingerprints = places([3, 9, 1]);
        let located: Vec<&Value> = fingerprints.iter().map(|f| &f[LOCATION_FINGERPRINT_KEY]).collect();
        assert!(located[0] != located[1] && located[1] != located[2] && located[0] != located[2], "{located:?}");
        assert!(fingerprints.iter().all(|f| f[FINGERPRINT_KEY] == "openai-api-key:0123456789abcdef"));
        assert_eq!(places([5, 20, 7]), fingerprints, "moving lines changes no fingerprint");
    }

    #[test]
    fn the_run_names_the_command() {
        for (command, id) in [(Command::Scan, "keyhound/scan/"), (Command::History, "keyhound/history/")] {
            let mut out = Vec::new();
            let options = ReportOptions { command, ..ReportOptions::default() };
            write(&ScanOutcome::default(), &Verifications::new(), &RuleSet::builtin().unwrap(), &options, &mut out)
                .unwrap();
            let log: Value = serde_json::from_slice(&out).unwrap();
            assert_eq!(log["runs"][0]["automationDetails"]["id"], id);
        }
    }

    #[test]
    fn keys_in_messages_have_a_logical_location() {
        let log = render(vec![finding_in_commit_message(2), finding_in_tag_message("v1", 1)], false);
        for (result, name) in
            log["runs"][0]["results"].as_array().unwrap().iter().zip(["<commit message>", "<tag message: v1>"])
        {
            let location = &result["locations"][0];
            assert!(location["physicalLocation"].is_null(), "{location}");
            assert_eq!(location["logicalLocations"][0]["name"], name);
        }
        let file = render(vec![finding("<commit message>", 1)], false);
        assert!(!file["runs"][0]["results"][0]["locations"][0]["physicalLocation"].is_null(), "a file of that name");
        let blob = render(vec![finding_in_commit("<commit message>", 1)], false);
        assert!(!blob["runs"][0]["results"][0]["locations"][0]["physicalLocation"].is_null(), "a blob of that name");
    }

    #[test]
    fn results_stop_at_the_limit_of_github_code_scanning() {
        let limit = Format::Sarif.max_results().unwrap();
        let log = render((0..=limit).map(|line| finding("a.env", line + 1)).collect(), false);
        let results = log["runs"][0]["results"].as_array().unwrap();
        assert_eq!(results.len(), limit);
        assert_eq!(results[limit - 1]["locations"][0]["physicalLocation"]["region"]["startLine"], limit);
    }

    #[test]
    fn verified_results_carry_the_state_as_a_property() {
        assert!(render(vec![finding("a", 1)], false)["runs"][0]["results"][0]["properties"]["verification"].is_null());
        let (outcome, verifications) = crate::report::test_support::verified_outcome(crate::verify::State::Live);
        let mut out = Vec::new();
        write(&outcome, &verifications, &RuleSet::builtin().unwrap(), &ReportOptions::default(), &mut out).unwrap();
        let log: Value = serde_json::from_slice(&out).unwrap();
        let expected = json!({"state": "live", "provider": "openai", "detail": "HTTP 429 insufficient_quota"});
        assert_eq!(log["runs"][0]["results"][0]["properties"]["verification"], expected);
    }
}
