//! The response as text for people or JSON for tools. Neither holds a secret: keys are shown
//! redacted, and strings from the scanned repository or an API answer are shown escaped in
//! text (JSON's serializer encodes them).
//!
//! # JSON
//!
//! ```json
//! {"mode": "dry-run",
//!  "keys": [{"rule": "openai-api-key", "secret": "sk-proj-…Ab3A", "fingerprint": "openai-api-key:…",
//!            "found_in": [{"path": "app.py", "line": 3, "commit": null}],
//!            "leaked_at": "2024-05-01T12:00:00+00:00",
//!            "identity": {"status": "matched", "kind": "project-key", "project_id": "proj_…",
//!                         "project_name": "Default", "id": "key_…", "name": "ci",
//!                         "owner": "ann@example.com", "created_at": 1711471533, "last_used_at": 1711471534},
//!            "usage": {"since": 1714521600, "days_used": 3, "requests": 12, "tokens": 3400, "last_day": 1714694400},
//!            "action": {"kind": "delete-openai-key"}, "outcome": {"result": "not-run"}, "steps": null}],
//!  "purge": {"file": "/home/me/replacements.txt", "secrets": 1, "unwritable": 0, "steps": ["…"]},
//!  "notes": [], "errors": []}
//! ```
//!
//! `identity.status` is `matched`, `no-match`, `ambiguous` (several entries fit it, with
//! `entries`), `contested` (its entry fits other found keys too, with `found_keys`) or
//! `skipped` (with `reason`), and `null` for keys that are not OpenAI's; `action.kind` is
//! `delete-openai-key`, `revoke-on-github`, `manual` (with `steps`) or `refused` (with
//! `reason`); `outcome.result` is `revoked`, `already-revoked`, `failed` (with `detail`) or
//! `not-run`.

use std::fmt::Write as _;
use std::io::{self, Write};

use serde::Serialize;

use super::identify::{Entry, Identity, Place};
use super::revoke::Outcome;
use super::usage::{day, Usage};
use super::{Action, KeyReport, Report};
use crate::escape::Visible;
use crate::wording::count;

/// The purge plan.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Purge {
    /// The replace-text file written.
    pub file: String,
    /// Secrets written to it.
    pub secrets: usize,
    /// Secrets a line cannot hold (line breaks), left out.
    pub unwritable: usize,
    /// What to do with it.
    pub steps: Vec<String>,
}

/// Writes `report` as pretty JSON.
pub(crate) fn json(report: &Report, out: &mut dyn Write) -> io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, report)?;
    writeln!(out)
}

/// Writes `report` for people.
pub(crate) fn text(report: &Report, out: &mut dyn Write) -> io::Result<()> {
    let mode = if report.mode == "revoke" { "revoke" } else { "dry run: nothing revoked (--revoke to act)" };
    writeln!(out, "{}; {mode}", count(report.keys.len(), "leaked key", "leaked keys"))?;
    for key in &report.keys {
        writeln!(out)?;
        write!(out, "{}", key_text(key))?;
    }
    if let Some(purge) = &report.purge {
        writeln!(out, "\npurge plan: {} ({})", Visible(&purge.file), count(purge.secrets, "secret", "secrets"))?;
        for (n, step) in purge.steps.iter().enumerate() {
            writeln!(out, "  {}. {step}", n + 1)?;
        }
    }
    Ok(())
}

/// One key's block of lines.
fn key_text(key: &KeyReport) -> String {
    let mut text = format!("{}\n", Visible(format!("{} ({})", key.secret, key.rule)));
    let line = |text: &mut String, label: &str, value: &str| {
        let _ = writeln!(text, "  {label}: {}", Visible(value));
    };
    for place in &key.found_in {
        let commit = place.commit.as_deref().map(|id| format!(" (commit {})", &id[..id.len().min(12)]));
        line(&mut text, "found in", &format!("{}:{}{}", place.path, place.line, commit.unwrap_or_default()));
    }
    line(&mut text, "leaked", key.leaked_at.as_deref().map_or("unknown (not in a commit)", |at| &at[..10]));
    if let Some(identity) = &key.identity {
        line(&mut text, "identified", &identity_text(identity));
    }
    if let Some(usage) = &key.usage {
        line(&mut text, "usage", &usage_text(usage));
    }
    line(&mut text, "action", &action_text(key));
    if let Some(steps) = &key.steps {
        for step in steps.lines() {
            line(&mut text, "  step", step);
        }
    }
    text
}

fn identity_text(identity: &Identity) -> String {
    match identity {
        Identity::Skipped { reason } => format!("not attempted: {reason}"),
        Identity::NoMatch => "no key of the organization matches it (another organization's, or deleted)".into(),
        Identity::Ambiguous { entries } => format!("{entries} keys of the organization match it: not acted on"),
        Identity::Contested { found_keys } => {
            format!("the key of the organization it matches matches {found_keys} found keys: not acted on")
        }
        Identity::Matched(entry) => entry_text(entry),
    }
}

/// `project key "ci" (key_…) in project "Default" (proj_…), owner …, created …, last used …`.
fn entry_text(entry: &Entry) -> String {
    let mut text = match &entry.place {
        Place::ProjectKey { project_id, project_name } => {
            format!("project key \"{}\" ({}) in project \"{project_name}\" ({project_id})", entry.name, entry.id)
        }
        Place::AdminKey => format!("admin key \"{}\" ({})", entry.name, entry.id),
    };
    if let Some(owner) = &entry.owner {
        let _ = write!(text, ", owner {owner}");
    }
    let _ = write!(text, ", created {}", entry.created_at.map_or("?".into(), day));
    let _ = write!(text, ", last used {}", entry.last_used_at.map_or("never".into(), day));
    text
}

/// `used on 3 days since 2024-05-01; last used 2024-05-03 (12 requests, 3400 tokens)`.
fn usage_text(usage: &Usage) -> String {
    let since = day(usage.since);
    match usage.last_day {
        None => format!("no completions usage since {since}"),
        Some(last) => format!(
            "used on {} since {since}; last used {} ({}, {})",
            count(usage.days_used, "day", "days"),
            day(last),
            count(usage.requests, "request", "requests"),
            count(usage.tokens, "token", "tokens")
        ),
    }
}

fn action_text(key: &KeyReport) -> String {
    let action = match &key.action {
        Action::DeleteOpenaiKey => "delete it through OpenAI's admin API".to_string(),
        Action::RevokeOnGithub => "revoke it through GitHub's credential revocation API".to_string(),
        Action::Manual => "revoke it by hand (steps below)".to_string(),
        Action::Refused { reason } => format!("none: {reason}"),
    };
    let outcome = match &key.outcome {
        Outcome::Revoked => "revoked".to_string(),
        Outcome::AlreadyRevoked => "already revoked".to_string(),
        Outcome::Failed(reason) => format!("FAILED ({reason})"),
        Outcome::NotRun => "not done".to_string(),
    };
    format!("{action} — {outcome}")
}

/// What a confirmation lists for `key`, if `--revoke` would act on it.
pub(crate) fn planned_line(key: &KeyReport) -> Option<String> {
    let line = match (&key.action, &key.identity) {
        (Action::DeleteOpenaiKey, Some(Identity::Matched(entry))) => format!("delete OpenAI {}", entry_text(entry)),
        (Action::RevokeOnGithub, _) => "revoke it through GitHub's credential revocation API".to_string(),
        _ => return None,
    };
    Some(Visible(format!("{} ({}): {line}", key.secret, key.rule)).to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::respond::leak::FoundAt;

    fn key(path: &str) -> KeyReport {
        KeyReport {
            rule: "github-pat".into(),
            secret: "ghp_…85nJ".into(),
            fingerprint: "github-pat:0011223344556677".into(),
            found_in: vec![FoundAt { path: path.into(), line: 3, commit: Some("1e6b9ba74521ffff".into()) }],
            leaked_at: Some("2024-05-01T12:00:00+00:00".into()),
            identity: None,
            usage: None,
            action: Action::RevokeOnGithub,
            outcome: Outcome::Revoked,
            steps: None,
        }
    }

    #[test]
    fn text_names_each_place_and_escapes_what_the_repository_wrote() {
        let text = key_text(&key("evil\x1b[2J\n.py"));
        assert_eq!(
            text,
            "ghp_…85nJ (github-pat)\n  found in: evil\\e[2J\\n.py:3 (commit 1e6b9ba74521)\n  leaked: 2024-05-01\n  \
             action: revoke it through GitHub's credential revocation API — revoked\n"
        );
    }

    #[test]
    fn usage_reads_as_days_since_the_leak() {
        let usage =
            Usage { since: 1_714_521_600, days_used: 2, requests: 3, tokens: 330, last_day: Some(1_714_694_400) };
        assert_eq!(
            usage_text(&usage),
            "used on 2 days since 2024-05-01; last used 2024-05-03 (3 requests, 330 tokens)"
        );
        assert_eq!(usage_text(&Usage { since: 0, ..Usage::default() }), "no completions usage since 1970-01-01");
    }
}
