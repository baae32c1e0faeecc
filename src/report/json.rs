//! JSON and JSON Lines reports.
//!
//! # Format
//!
//! `--format json` writes one array; `--format jsonl` one object per line. Each finding:
//!
//! ```json
//! {
//!   "rule": "openai-api-key",
//!   "description": "OpenAI API key",
//!   "severity": "critical",
//!   "confidence": "high",
//!   "path": "app/settings.py",
//!   "line": 12,
//!   "column": 18,
//!   "end_line": 12,
//!   "end_column": 182,
//!   "secret": "sk-proj-…Ab3A",
//!   "fingerprint": "openai-api-key:3f9a0c1d2e4b5a69",
//!   "commit": null,
//!   "structure": 1.0,
//!   "occurrences": null,
//!   "verification": { "state": "live", "provider": "openai", "detail": "HTTP 200" },
//!   "decoded": null,
//!   "context": "client = OpenAI(api_key=\"sk-proj-…Ab3A\")"
//! }
//! ```
//!
//! `secret` is redacted unless `--show-secrets`. `commit` is `null` outside history scans and
//! otherwise an object with `id`, `author`, `email`, `date` (RFC 3339) and `summary`:
//!
//! ```json
//! "commit": {
//!   "id": "9fceb02d0ae598e95dc970b74767f19372d61af8",
//!   "author": "Ada Lovelace",
//!   "email": "ada@example.com",
//!   "date": "2024-05-01T12:00:00+02:00",
//!   "summary": "Add the API client"
//! },
//! "occurrences": 3
//! ```
//!
//! In history scans `path` is the path in that commit, or `<commit message>` for a key in the
//! commit's message, or `<tag message: NAME>` for one in an annotated tag's message (then
//! `commit` describes the tag object: its id, tagger and the message's first line). Each
//! distinct blob is reported once, at the commit and path that introduced it; `occurrences`
//! counts the places in the scanned history that hold the same secret (same `fingerprint`):
//! every distinct path of every blob holding it, and every message. It is `null` outside
//! history scans.
//!
//! `structure` is present only for rules that score their secrets' structure (the OpenAI
//! `sk-` rules): the share of structural checks passed, 0.0 to 1.0 — segment lengths around
//! the `T3BlbkFJ` marker equal or off by one, and a long key ending in `A`. Issued keys score
//! 1.0; sort by it to review the likeliest keys first. It never hides a finding.
//!
//! `verification` is `null` without `--verify`. With it, every finding has one, shared by all
//! findings of the same fingerprint (each distinct secret is checked once), and findings with
//! a live key come first:
//!
//! - `state`: `live` (the key works), `restricted` (live, but the provider refused this call:
//!   IP allow-list, missing permission), `out-of-credit` (live, no credit left), `invalid`
//!   (revoked or never valid), `unknown` (no usable answer after retries), `unsupported`
//!   (keyhound cannot check this rule's secrets). The first three mean: revoke it now.
//! - `provider`: the provider asked (`openai`, `anthropic`, `huggingface`, `groq`,
//!   `openrouter`, `github`), `null` when unsupported.
//! - `detail`: the HTTP status and the provider's error code (`HTTP 401 invalid_api_key`), or
//!   the transport failure (`timed out (gave up after 3 attempts)`). Never the provider's
//!   message, which may quote part of the key, and a code only when it is plainly one (short
//!   lowercase words sharing nothing long with the key).
//!
//! # History, one entry per secret
//!
//! `keyhound history` lists one entry per distinct secret (same `fingerprint`) unless
//! `--group-by location`. Each entry has every field above, describing the location that
//! introduced the secret (oldest first), so a consumer of the per-location list reads the
//! same fields; it adds every location the scan reported, oldest first, and where the secret
//! is today:
//!
//! ```json
//! "locations": [
//!   { "path": "app/.env", "line": 3, "column": 16, "kind": "file", "commit": { "id": "9fce…", … } },
//!   { "path": "<commit message>", "line": 1, "column": 7, "kind": "commit-message", "commit": { … } }
//! ],
//! "exposure": {
//!   "status": "present",
//!   "refs": ["main", "release/1.2"],
//!   "in_head": true,
//!   "only_on": null,
//!   "last_commit": null
//! }
//! ```
//!
//! `kind` is `file`, `commit-message` or `tag-message`. `exposure.status` is `present` (the
//! tree of each ref in `refs` holds it at its tip: branches, tags and remote-tracking
//! branches by short name, other refs such as `refs/stash` whole), `removed` (no tip holds
//! it; `last_commit` is the newest scanned commit that did, `{ "id", "date" }`, committer
//! date), `message` (only in commit or tag messages, which stay in history until it is
//! rewritten) or `unreachable` (only in objects no ref reaches, found with `--unreachable`). `in_head` says whether `HEAD`'s commit holds it; when it does not, `only_on` is
//! `unmerged` if every local ref holding it is a branch or tag `HEAD` has not merged,
//! `remote-tracking` if every ref holding it is a remote-tracking branch, else `null`.
//! Entries are ordered so that the keys to revoke first come first: live keys (with
//! `--verify`), then by severity, present before removed, newest first.
//!
//! `path` names an archive member as `bundle.zip!inner/.env` (nested: `a.zip!b.jar!c.properties`),
//! with `line` and `column` counted inside the member. `decoded` is `null` for a secret in
//! the text as it is; otherwise it names the encodings the secret was found under, outermost
//! first, joined by `+`: `"base64"` (the position is that of the base64 characters encoding
//! the secret), `"utf-16le"` / `"utf-16be"` (a UTF-16 file; lines and columns are those of
//! its text), `"base64+base64"`, `"utf-16le+base64"`.
//!
//! `context` is the line the finding is on, trimmed, with every secret on it redacted (even
//! with `--show-secrets`); a line longer than a few hundred bytes, as in minified or binary
//! files, is cut to a window around the match, `…` marking each cut. `null` with
//! `--no-context`.

use std::io::{self, Write};

use serde::Serialize;

use super::ReportOptions;
use crate::finding::Finding;
use crate::pipeline::group::{group, Secret};
use crate::pipeline::ScanOutcome;
use crate::rules::{Confidence, Severity};
use crate::source::history::Exposure;
use crate::source::{CommitInfo, Origin};
use crate::verify::{Verification, Verifications};

/// The wire form of a finding.
#[derive(Serialize)]
struct JsonFinding<'a> {
    rule: &'a str,
    description: &'a str,
    severity: Severity,
    confidence: Confidence,
    path: &'a str,
    line: usize,
    column: usize,
    end_line: usize,
    end_column: usize,
    secret: String,
    fingerprint: &'a str,
    commit: Option<&'a CommitInfo>,
    #[serde(skip_serializing_if = "Option::is_none")]
    structure: Option<f64>,
    occurrences: Option<usize>,
    verification: Option<&'a Verification>,
    decoded: Option<&'a str>,
    context: Option<&'a str>,
}

impl<'a> JsonFinding<'a> {
    fn new(finding: &'a Finding, verifications: &'a Verifications, options: &ReportOptions) -> Self {
        JsonFinding {
            rule: &finding.rule_id,
            description: &finding.description,
            severity: finding.severity,
            confidence: finding.confidence,
            path: &finding.path,
            line: finding.position.line,
            column: finding.position.column,
            end_line: finding.position.end_line,
            end_column: finding.position.end_column,
            secret: options.secret_text(finding),
            fingerprint: &finding.fingerprint,
            commit: finding.commit.as_deref(),
            structure: finding.structure,
            occurrences: finding.occurrences,
            verification: verifications.get(&finding.fingerprint),
            decoded: finding.decoded.as_deref(),
            context: options.context(finding),
        }
    }
}

/// The wire form of one secret of a history scan: the finding that introduced it, every
/// location, and where it is today.
#[derive(Serialize)]
struct JsonSecret<'a> {
    #[serde(flatten)]
    first: JsonFinding<'a>,
    locations: Vec<JsonLocation<'a>>,
    exposure: &'a Exposure,
}

/// One place a secret was reported at.
#[derive(Serialize)]
struct JsonLocation<'a> {
    path: &'a str,
    line: usize,
    column: usize,
    kind: &'static str,
    commit: Option<&'a CommitInfo>,
}

impl<'a> JsonSecret<'a> {
    fn new(secret: &'a Secret, verifications: &'a Verifications, options: &ReportOptions) -> Self {
        let locations = secret.locations.iter().map(|finding| JsonLocation::new(finding)).collect();
        JsonSecret {
            first: JsonFinding::new(secret.first(), verifications, options),
            locations,
            exposure: &secret.exposure,
        }
    }
}

impl<'a> JsonLocation<'a> {
    fn new(finding: &'a Finding) -> Self {
        let kind = match finding.provenance.origin {
            Origin::CommitMessage { .. } | Origin::UnreachableMessage { tag: None, .. } => "commit-message",
            Origin::TagMessage { .. } | Origin::UnreachableMessage { tag: Some(_), .. } => "tag-message",
            _ => "file",
        };
        let position = &finding.position;
        let path = &finding.path;
        JsonLocation { path, line: position.line, column: position.column, kind, commit: finding.commit.as_deref() }
    }
}

/// An entry of the report: a location, or (history, grouped) a secret.
#[derive(Serialize)]
#[serde(untagged)]
enum Entry<'a> {
    Location(JsonFinding<'a>),
    Secret(JsonSecret<'a>),
}

/// Hands `write` the report's entries: one per secret when the outcome is grouped, else one
/// per finding.
fn with_entries(
    outcome: &ScanOutcome,
    verifications: &Verifications,
    options: &ReportOptions,
    write: impl FnOnce(&[Entry]) -> io::Result<()>,
) -> io::Result<()> {
    match &outcome.secrets {
        None => write(
            &outcome
                .findings
                .iter()
                .map(|f| Entry::Location(JsonFinding::new(f, verifications, options)))
                .collect::<Vec<_>>(),
        ),
        Some(secrets) => {
            let grouped = group(&outcome.findings, secrets, verifications);
            write(
                &grouped.iter().map(|s| Entry::Secret(JsonSecret::new(s, verifications, options))).collect::<Vec<_>>(),
            )
        }
    }
}

/// Writes all entries as one pretty-printed JSON array.
pub(super) fn write_array(
    outcome: &ScanOutcome,
    verifications: &Verifications,
    options: &ReportOptions,
    out: &mut dyn Write,
) -> io::Result<()> {
    with_entries(outcome, verifications, options, |entries| {
        super::write_json(&entries, true, out)?;
        writeln!(out)
    })
}

/// Writes one compact JSON object per line.
pub(super) fn write_lines(
    outcome: &ScanOutcome,
    verifications: &Verifications,
    options: &ReportOptions,
    out: &mut dyn Write,
) -> io::Result<()> {
    with_entries(outcome, verifications, options, |entries| {
        for entry in entries {
            super::write_json(entry, false, out)?;
            writeln!(out)?;
        }
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::test_support::{finding, finding_in_commit};

    fn render(findings: &[Finding], show_secrets: bool) -> serde_json::Value {
        let outcome = ScanOutcome { findings: findings.to_vec(), ..ScanOutcome::default() };
        render_outcome(&outcome, &Verifications::new(), show_secrets)
    }

    fn render_outcome(outcome: &ScanOutcome, verifications: &Verifications, show_secrets: bool) -> serde_json::Value {
        let mut out = Vec::new();
        let options = ReportOptions { show_secrets, ..ReportOptions::default() };
        write_array(outcome, verifications, &options, &mut out).unwrap();
        serde_json::from_slice(&out).unwrap()
    }

    #[test]
    fn fields_and_redaction() {
        let value = render(&[finding("a.py", 3)], false);
        let object = &value[0];
        for key in [
            "rule",
            "description",
            "path",
            "line",
            "column",
            "secret",
            "fingerprint",
            "commit",
            "verification",
            "decoded",
        ] {
            assert!(object.get(key).is_some(), "missing {key}");
        }
        assert_eq!(object["secret"], "sk-proj-…zz9Q");
        assert_eq!(object["commit"], serde_json::Value::Null);
        assert_eq!(object["occurrences"], serde_json::Value::Null);
        assert_eq!(object["verification"], serde_json::Value::Null);
        assert_eq!(object["line"], 3);
        assert_eq!(object["structure"], 0.5);
    }

    #[test]
    fn context_is_the_redacted_line_or_null_with_no_context() {
        let findings = [finding("a.py", 3)];
        assert_eq!(render(&findings, true)[0]["context"], "OPENAI_API_KEY=sk-proj-…zz9Q");
        let outcome = ScanOutcome { findings: findings.to_vec(), ..ScanOutcome::default() };
        let mut out = Vec::new();
        let options = ReportOptions { no_context: true, ..ReportOptions::default() };
        write_array(&outcome, &Verifications::new(), &options, &mut out).unwrap();
        assert_eq!(serde_json::from_slice::<serde_json::Value>(&out).unwrap()[0]["context"], serde_json::Value::Null);
    }

    #[test]
    fn structure_is_absent_for_rules_without_a_score() {
        let mut plain = finding("a.py", 3);
        plain.structure = None;
        assert!(render(&[plain], false)[0].get("structure").is_none());
    }

    #[test]
    fn verification_object() {
        let (outcome, verifications) = crate::report::test_support::verified_outcome(crate::verify::State::OutOfCredit);
        let value = render_outcome(&outcome, &verifications, false);
        let expected = serde_json::json!({"state": "out-of-credit", "provider": "openai", "detail": "HTTP 429 insufficient_quota"});
        assert_eq!(value[0]["verification"], expected);
    }

    #[test]
    fn decoded_is_null_unless_the_secret_was_encoded() {
        assert_eq!(render(&[finding("a.py", 3)], false)[0]["decoded"], serde_json::Value::Null);
        let mut decoded = finding("k8s/secret.yaml", 4);
        decoded.decoded = Some("base64".into());
        assert_eq!(render(&[decoded], false)[0]["decoded"], "base64");
    }

    #[test]
    fn show_secrets_and_commit_object() {
        let mut finding = finding_in_commit("a.py", 3);
        finding.occurrences = Some(2);
        let value = render(&[finding], true);
        assert!(value[0]["secret"].as_str().unwrap().ends_with("FAKEzz9Q"));
        assert_eq!(value[0]["commit"]["author"], "Ada");
        assert_eq!(value[0]["commit"]["date"], "2024-05-01T12:00:00+00:00");
        assert_eq!(value[0]["occurrences"], 2);
    }

    #[test]
    fn jsonl_is_one_object_per_line() {
        let mut out = Vec::new();
        let outcome = ScanOutcome { findings: vec![finding("a", 1), finding("b", 2)], ..ScanOutcome::default() };
        write_lines(&outcome, &Verifications::new(), &ReportOptions::default(), &mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert_eq!(text.lines().count(), 2);
        for line in text.lines() {
            serde_json::from_str::<serde_json::Value>(line).unwrap();
        }
    }
}
