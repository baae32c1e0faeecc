//! GitLab's secret detection report (`gl-secret-detection-report.json`, declared as
//! `artifacts:reports:secret_detection`), which GitLab reads into the vulnerability report,
//! the pipeline's security tab and the merge request widget.
//!
//! The report follows GitLab's security report schema, version [`SCHEMA_VERSION`]: a `scan`
//! object (analyzer and scanner `keyhound`, type `secret_detection`, start and end time in
//! UTC, status `failure` when the scan is incomplete) and one vulnerability per finding:
//!
//! - `id`: a UUID derived from the finding's place fingerprint (the content fingerprint,
//!   path and occurrence, as SARIF's `keyhound/location/v1`), so it stays the same when
//!   lines move and differs between two places of one key;
//! - `name` (the rule's description), `description` (the headline with the redacted secret
//!   and, for a secret in an archive member, the member), `severity` (`Critical`, `High`,
//!   `Medium`, `Low`) and `solution` (the rule's remediation);
//! - `identifiers`: the rule id, type `keyhound_rule_id`, which GitLab groups findings by;
//! - `location`: `file` (placed as for SARIF: from the repository root, confined under it for
//!   paths from git trees, the archive for a member), `start_line`, `end_line`, and `commit`
//!   — its `sha`, redacted author, date and summary for history findings; for a scan of
//!   files, `0000000`, as GitLab's own analyzer writes when it scans no commit. A secret in
//!   a commit or tag message has no file: only its commit.
//!
//! A test holds the output to `fixtures/schemas/gitlab-secret-detection-required.json`: what
//! GitLab's documentation says it checks before ingesting a report (GitLab publishes its
//! schema on gitlab.com, outside what keyhound vendors).
//!
//! `raw_source_code_extract`, which GitLab shows in the vulnerability's page, carries the
//! secret only with `--show-secrets`: CI artifacts are readable by everyone who can read the
//! pipeline.

use std::io::{self, Write};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256};

use super::{headline, place_fingerprints, remediation, Location, ReportOptions};
use crate::escape::visible;
use crate::finding::Finding;
use crate::pipeline::ScanOutcome;
use crate::rules::{RuleSet, Severity};

/// The version of GitLab's security report schemas the report declares.
pub(super) const SCHEMA_VERSION: &str = "15.0.7";

/// The commit id GitLab's own analyzer gives a finding from a scan of files, not commits.
const NO_COMMIT: &str = "0000000";

/// Writes the report as one pretty-printed JSON object. `finished` is when the scan ended;
/// its start is `outcome.elapsed` before.
pub(super) fn write(
    outcome: &ScanOutcome,
    rules: &RuleSet,
    options: &ReportOptions,
    finished: SystemTime,
    out: &mut dyn Write,
) -> io::Result<()> {
    let vulnerabilities: Vec<Value> = outcome
        .findings
        .iter()
        .zip(place_fingerprints(&outcome.findings))
        .map(|(finding, place)| vulnerability(finding, &place, rules, options))
        .collect();
    let report = json!({
        "version": SCHEMA_VERSION,
        "vulnerabilities": vulnerabilities,
        "scan": scan(outcome, finished),
    });
    super::write_json(&report, true, out)?;
    writeln!(out)
}

/// The `scan` object: who scanned, when, and whether the scan completed.
fn scan(outcome: &ScanOutcome, finished: SystemTime) -> Value {
    let tool = json!({
        "id": "keyhound",
        "name": "keyhound",
        "version": env!("CARGO_PKG_VERSION"),
        "vendor": { "name": "keyhound" },
    });
    let started = finished.checked_sub(outcome.elapsed).unwrap_or(finished);
    json!({
        "analyzer": tool,
        "scanner": tool,
        "type": "secret_detection",
        "start_time": timestamp(started),
        "end_time": timestamp(finished),
        "status": if outcome.is_incomplete() { "failure" } else { "success" },
    })
}

fn vulnerability(finding: &Finding, place: &str, rules: &RuleSet, options: &ReportOptions) -> Value {
    let location = Location::of(finding, &options.checkout);
    let mut description = headline(finding, options);
    if let Some(member) = &location.member {
        description.push_str(&format!(" (in archive member {})", visible(member)));
    }
    let mut vulnerability = json!({
        "id": uuid(place),
        "name": visible(&finding.description),
        "description": description,
        "severity": severity(finding.severity),
        "identifiers": [{
            "type": "keyhound_rule_id",
            "name": format!("keyhound rule {}", finding.rule_id),
            "value": finding.rule_id,
        }],
        "location": place_of(finding, &location),
    });
    let fields = vulnerability.as_object_mut().expect("built as an object above");
    if let Some(rule) = rules.find(&finding.rule_id) {
        fields.insert("solution".into(), remediation(rule, rules).into());
    }
    if options.show_secrets {
        fields.insert("raw_source_code_extract".into(), finding.secret.clone().into());
    }
    vulnerability
}

/// The vulnerability's `location`: the file and lines (none for a message), and the commit.
fn place_of(finding: &Finding, location: &Location) -> Value {
    let mut place = Map::new();
    if !finding.provenance.origin.is_message() {
        place.insert("file".into(), location.file.clone().into());
        place.insert("start_line".into(), finding.position.line.into());
        place.insert("end_line".into(), finding.position.end_line.into());
    }
    let commit = match &finding.commit {
        Some(commit) => json!({
            "sha": commit.id,
            "author": visible(&format!("{} <{}>", commit.author, commit.email)),
            "date": commit.date,
            "message": visible(&commit.summary),
        }),
        None => json!({ "sha": NO_COMMIT }),
    };
    place.insert("commit".into(), commit);
    Value::Object(place)
}

fn severity(severity: Severity) -> &'static str {
    match severity {
        Severity::Critical => "Critical",
        Severity::High => "High",
        Severity::Medium => "Medium",
        Severity::Low => "Low",
    }
}

/// A UUID (version 8: derived by keyhound's own scheme, RFC 9562) from a place fingerprint.
fn uuid(place: &str) -> String {
    let mut bytes: [u8; 16] = Sha256::digest(place.as_bytes())[..16].try_into().expect("a SHA-256 has 32 bytes");
    bytes[6] = (bytes[6] & 0x0f) | 0x80;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    format!("{}-{}-{}-{}-{}", &hex[..8], &hex[8..12], &hex[12..16], &hex[16..20], &hex[20..])
}

/// `YYYY-MM-DDTHH:MM:SS` in UTC, the form the schema requires for scan times.
fn timestamp(time: SystemTime) -> String {
    let seconds = time.duration_since(UNIX_EPOCH).unwrap_or(Duration::ZERO).as_secs();
    let rfc3339 = crate::source::history::rfc3339(i64::try_from(seconds).unwrap_or(i64::MAX), 0);
    rfc3339.trim_end_matches("+00:00").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::test_support::{finding, finding_in_commit, finding_in_commit_message};

    fn render(findings: Vec<Finding>, options: &ReportOptions) -> Value {
        let outcome = ScanOutcome { findings, elapsed: Duration::from_secs(90), ..ScanOutcome::default() };
        let finished = UNIX_EPOCH + Duration::from_secs(1_714_564_800);
        let mut out = Vec::new();
        write(&outcome, &RuleSet::builtin().unwrap(), options, finished, &mut out).unwrap();
        serde_json::from_slice(&out).unwrap()
    }

    #[test]
    fn the_scan_says_who_when_and_whether_it_completed() {
        let report = render(Vec::new(), &ReportOptions::default());
        assert_eq!(report["version"], SCHEMA_VERSION);
        assert_eq!(report["vulnerabilities"], json!([]));
        let scan = &report["scan"];
        assert_eq!(scan["type"], "secret_detection");
        assert_eq!(
            (scan["start_time"].as_str(), scan["end_time"].as_str()),
            (Some("2024-05-01T11:58:30"), Some("2024-05-01T12:00:00"))
        );
        assert_eq!(scan["status"], "success");
        for tool in [&scan["analyzer"], &scan["scanner"]] {
            assert_eq!((tool["id"].as_str(), tool["vendor"]["name"].as_str()), (Some("keyhound"), Some("keyhound")));
        }
    }

    #[test]
    fn vulnerabilities_are_placed_identified_and_redacted() {
        let report = render(vec![finding("./app/.env", 3), finding("./app/.env", 9)], &ReportOptions::default());
        let [first, second] = [&report["vulnerabilities"][0], &report["vulnerabilities"][1]];
        assert_ne!(first["id"], second["id"], "two places of one key are two vulnerabilities");
        assert_eq!(first["id"].as_str().unwrap().len(), 36);
        assert_eq!(first["severity"], "Critical");
        assert_eq!(first["identifiers"][0]["value"], "openai-api-key");
        assert_eq!(
            first["location"],
            json!({ "file": "app/.env", "start_line": 3, "end_line": 3, "commit": { "sha": "0000000" } })
        );
        assert!(first["solution"].as_str().unwrap().contains("OPENAI_API_KEY"));
        let text = report.to_string();
        assert!(!text.contains("FAKEfake") && !text.contains("raw_source_code_extract"), "{text}");
        let shown = render(vec![finding("a.py", 1)], &ReportOptions { show_secrets: true, ..ReportOptions::default() });
        assert!(shown["vulnerabilities"][0]["raw_source_code_extract"].as_str().unwrap().contains("FAKEfake"));
    }

    #[test]
    fn ids_do_not_change_when_lines_move() {
        let ids =
            |line| render(vec![finding("a.py", line)], &ReportOptions::default())["vulnerabilities"][0]["id"].clone();
        assert_eq!(ids(3), ids(40));
    }

    #[test]
    fn history_findings_carry_their_commit_and_messages_have_no_file() {
        let report =
            render(vec![finding_in_commit("src/a.py", 2), finding_in_commit_message(1)], &ReportOptions::default());
        let commit = &report["vulnerabilities"][0]["location"]["commit"];
        assert_eq!(commit["sha"], "0123456789abcdef0123456789abcdef01234567");
        assert_eq!(
            (commit["author"].as_str(), commit["message"].as_str()),
            (Some("Ada <ada@example.com>"), Some("add client"))
        );
        let message = &report["vulnerabilities"][1]["location"];
        assert!(message.get("file").is_none() && message.get("start_line").is_none(), "{message}");
        assert_eq!(message["commit"]["sha"], commit["sha"]);
    }

    #[test]
    fn reports_hold_what_gitlab_requires() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("fixtures/schemas/gitlab-secret-detection-required.json");
        let schema: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        let validator = jsonschema::validator_for(&schema).expect("the schema compiles");
        let findings = vec![finding("app/.env", 3), finding_in_commit("src/a.py", 2), finding_in_commit_message(1)];
        let report = render(findings, &ReportOptions { show_secrets: true, ..ReportOptions::default() });
        let errors: Vec<String> =
            validator.iter_errors(&report).map(|e| format!("{}: {e}", e.instance_path())).collect();
        assert!(errors.is_empty(), "{}", errors.join("\n"));
        let mut broken = report.clone();
        broken["vulnerabilities"][0]["severity"] = "Severe".into();
        assert!(!validator.is_valid(&broken), "the validator must reject an unknown severity");
    }

    #[test]
    fn uuids_have_the_version_8_and_variant_bits() {
        let id = uuid("anything");
        assert_eq!((&id[14..15], id.as_bytes()[8], id.as_bytes()[13]), ("8", b'-', b'-'));
        assert!(matches!(&id[19..20], "8" | "9" | "a" | "b"), "{id}");
    }
}
