//! `keyhound respond`: carries each found key through the response to a leak — identify it,
//! check its usage since the leak, revoke it, plan the purge of history — with the scan run
//! in the same process, so the secrets never have to be written anywhere to act on them.
//!
//! ```text
//! findings → Leak (one per distinct secret, with where and when it leaked)
//!          → assess: identify (OpenAI admin API) → usage (Usage API) → planned action
//!          → [--revoke, confirmed] execute: OpenAI delete | GitHub revoke | steps printed
//!          → Report (text | json) and exit status
//! ```
//!
//! Safety: the admin key comes from `OPENAI_ADMIN_KEY` only and travels only to OpenAI's
//! administration API; a found key travels only in the one call that revokes it (GitHub's);
//! reports hold redacted keys only. Requests use the `--verify` transport ([`api`]).

pub(crate) mod api;
pub(crate) mod identify;
pub(crate) mod leak;
pub(crate) mod purge;
pub(crate) mod report;
pub(crate) mod revoke;
pub(crate) mod usage;

use serde::Serialize;

use crate::finding::Finding;
use crate::verify::options::BaseUrl;
use crate::verify::VerifyOptions;
use api::Api;
use identify::{Entry, Identity};
use leak::{FoundAt, Leak};
use revoke::Outcome;
use usage::Usage;

/// The rules whose keys the OpenAI admin API lists.
const OPENAI_RULES: &[&str] = &["openai-api-key", "openai-admin-key"];

/// Where requests go and with which key. Its `Debug` never shows the admin key.
#[derive(Clone)]
pub(crate) struct Settings {
    /// The admin key (`OPENAI_ADMIN_KEY`), if set.
    pub admin_key: Option<String>,
    /// OpenAI's API (`https://api.openai.com`, or `--admin-base-url`).
    pub openai: BaseUrl,
    /// GitHub's API (`https://api.github.com`, or `--github-base-url`).
    pub github: BaseUrl,
    /// Timeouts, limits and retries.
    pub options: VerifyOptions,
}

impl std::fmt::Debug for Settings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Settings")
            .field("admin_key", &self.admin_key.as_ref().map(|_| "<set>"))
            .field("openai", &self.openai)
            .field("github", &self.github)
            .field("options", &self.options)
            .finish()
    }
}

/// What respond did, or would do, about one leaked key.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct KeyReport {
    /// The rule that found it.
    pub rule: String,
    /// The key, redacted.
    pub secret: String,
    /// The finding fingerprint.
    pub fingerprint: String,
    /// Every place it was found.
    pub found_in: Vec<FoundAt>,
    /// When it leaked (RFC 3339), if known.
    pub leaked_at: Option<String>,
    /// Which key of the organization it is (OpenAI keys only).
    pub identity: Option<Identity>,
    /// Its usage since the leak (identified OpenAI keys only).
    pub usage: Option<Usage>,
    /// How it is revoked.
    pub action: Action,
    /// What revoking it came to.
    pub outcome: Outcome,
    /// For a key revoked by hand: the rule's remediation, naming the page and steps.
    pub steps: Option<String>,
}

/// How a key is revoked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub(crate) enum Action {
    /// Delete the identified key through OpenAI's admin API.
    DeleteOpenaiKey,
    /// Revoke it through GitHub's credential revocation API.
    RevokeOnGithub,
    /// By hand, following [`KeyReport::steps`].
    Manual,
    /// keyhound will not act on it.
    Refused {
        /// Why.
        reason: String,
    },
}

/// The whole response.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Report {
    /// `dry-run` or `revoke`.
    pub mode: &'static str,
    /// One entry per distinct key, in the order found.
    pub keys: Vec<KeyReport>,
    /// The purge plan, when `--purge-file` asked for one.
    pub purge: Option<report::Purge>,
    /// What was skipped and why.
    pub notes: Vec<String>,
    /// What failed.
    pub errors: Vec<String>,
}

/// Identifies each key, reads its usage and plans its action: read-only calls only.
pub(crate) fn assess(leaks: &[Leak], settings: &Settings, api: &Api) -> Report {
    let mut report = Report { mode: "dry-run", keys: Vec::new(), purge: None, notes: Vec::new(), errors: Vec::new() };
    let entries = openai_entries(leaks, settings, api, &mut report);
    let identities = leaks.iter().map(|leak| identity_of(&leak.finding, entries.as_deref())).collect();
    for (leak, identity) in leaks.iter().zip(identify::one_key_per_entry(identities)) {
        let usage = usage_of(leak, identity.as_ref(), settings, api, &mut report.errors);
        report.keys.push(key_report(leak, identity, usage));
    }
    report
}

/// The organization's keys, if any found key is OpenAI's; else why not (the admin key is
/// not set: a note; the listing failed: an error).
fn openai_entries(leaks: &[Leak], settings: &Settings, api: &Api, report: &mut Report) -> Result<Vec<Entry>, String> {
    if !leaks.iter().any(|leak| is_openai(&leak.finding)) {
        return Ok(Vec::new());
    }
    let Some(admin_key) = settings.admin_key.as_deref() else {
        report.notes.push(
            "OPENAI_ADMIN_KEY is not set: OpenAI keys were not identified, their usage not read, and none will be revoked"
                .into(),
        );
        return Err("OPENAI_ADMIN_KEY is not set".into());
    };
    identify::list_entries(api, &settings.openai, admin_key).map_err(|reason| {
        report.errors.push(format!("cannot list the organization's keys: {reason}"));
        "the organization's keys could not be listed".to_string()
    })
}

fn is_openai(finding: &Finding) -> bool {
    OPENAI_RULES.contains(&finding.rule_id.as_str())
}

/// What identification found for an OpenAI key; `None` for other keys.
fn identity_of(finding: &Finding, entries: Result<&[Entry], &String>) -> Option<Identity> {
    is_openai(finding).then(|| match entries {
        Ok(entries) => identify::identify(&finding.secret, entries),
        Err(reason) => Identity::Skipped { reason: reason.clone() },
    })
}

/// An identified key's usage since it leaked (since it was created, when that is unknown).
fn usage_of(
    leak: &Leak,
    identity: Option<&Identity>,
    settings: &Settings,
    api: &Api,
    errors: &mut Vec<String>,
) -> Option<Usage> {
    let (Some(Identity::Matched(entry)), Some(admin_key)) = (identity, settings.admin_key.as_deref()) else {
        return None;
    };
    let since = leak.leaked_at.or(entry.created_at).unwrap_or(0);
    usage::fetch(api, &settings.openai, admin_key, &entry.id, since)
        .map_err(|reason| errors.push(format!("cannot read the usage of {}: {reason}", leak.finding.redacted_secret())))
        .ok()
}

/// The report of one key before any revocation.
fn key_report(leak: &Leak, identity: Option<Identity>, usage: Option<Usage>) -> KeyReport {
    let finding = &leak.finding;
    let action = action_for(finding, identity.as_ref());
    let steps = (action == Action::Manual).then(|| leak.remediation.clone());
    KeyReport {
        rule: finding.rule_id.clone(),
        secret: finding.redacted_secret(),
        fingerprint: finding.fingerprint.clone(),
        found_in: leak.places.clone(),
        leaked_at: leak.leaked_at.map(|seconds| crate::source::history::rfc3339(seconds, 0)),
        identity,
        usage,
        action,
        outcome: Outcome::NotRun,
        steps,
    }
}

/// How `finding`'s key would be revoked, given what identification found.
fn action_for(finding: &Finding, identity: Option<&Identity>) -> Action {
    let refused = |reason: &str| Action::Refused { reason: reason.into() };
    match identity {
        Some(Identity::Matched(_)) => Action::DeleteOpenaiKey,
        Some(Identity::NoMatch) => refused("no key of the organization matches it"),
        Some(Identity::Ambiguous { .. }) => refused("several keys of the organization match it"),
        Some(Identity::Contested { .. }) => {
            refused("the key of the organization it matches matches other found keys too")
        }
        Some(Identity::Skipped { .. }) => refused("it was not identified"),
        None if revoke::github_revocable(&finding.rule_id, &finding.secret) => Action::RevokeOnGithub,
        None => Action::Manual,
    }
}

/// The lines a confirmation lists: every key that `--revoke` would revoke, and how.
pub(crate) fn planned(report: &Report) -> Vec<String> {
    report.keys.iter().filter_map(report::planned_line).collect()
}

/// Revokes every key with an action keyhound can take; identification and usage already ran.
/// Admin keys are deleted last, so the admin key in use (if it leaked) works to the end.
pub(crate) fn execute(report: &mut Report, leaks: &[Leak], settings: &Settings, api: &Api) {
    report.mode = "revoke";
    let github: Vec<usize> = indices(report, |key| key.action == Action::RevokeOnGithub);
    let tokens: Vec<&str> = github.iter().map(|&i| leaks[i].finding.secret.as_str()).collect();
    for (i, outcome) in github.iter().zip(revoke::revoke_github(api, &settings.github, &tokens)) {
        report.keys[*i].outcome = outcome;
    }
    let mut openai = indices(report, |key| key.action == Action::DeleteOpenaiKey);
    openai
        .sort_by_key(|&i| matches!(matched(&report.keys[i]), Some(entry) if entry.place == identify::Place::AdminKey));
    for i in openai {
        let (Some(entry), Some(admin_key)) = (matched(&report.keys[i]), settings.admin_key.as_deref()) else {
            continue;
        };
        report.keys[i].outcome = revoke::delete_openai(api, &settings.openai, admin_key, entry);
    }
    for key in &report.keys {
        if let Outcome::Failed(reason) = &key.outcome {
            report.errors.push(format!("{} was not revoked: {reason}", key.secret));
        }
    }
}

fn indices(report: &Report, keep: impl Fn(&KeyReport) -> bool) -> Vec<usize> {
    report.keys.iter().enumerate().filter(|(_, key)| keep(key)).map(|(i, _)| i).collect()
}

fn matched(key: &KeyReport) -> Option<&Entry> {
    match &key.identity {
        Some(Identity::Matched(entry)) => Some(entry),
        _ => None,
    }
}

impl Report {
    /// 2 when the scan was incomplete or a step failed; 0 when every key was revoked or
    /// found already revoked; 1 when a key was not acted on.
    pub(crate) fn exit_status(&self, scan_incomplete: bool) -> crate::exit::ExitStatus {
        use crate::exit::ExitStatus;
        let dealt_with = |key: &KeyReport| matches!(key.outcome, Outcome::Revoked | Outcome::AlreadyRevoked);
        if scan_incomplete || !self.errors.is_empty() {
            ExitStatus::Error
        } else if self.keys.iter().all(dealt_with) {
            ExitStatus::Clean
        } else {
            ExitStatus::Findings
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_never_show_the_admin_key() {
        let base = BaseUrl::parse("https://api.openai.com").unwrap();
        let settings = Settings {
            admin_key: Some("sk-admin-canary-value".into()),
            openai: base.clone(),
            github: base,
            options: VerifyOptions::default(),
        };
        let shown = format!("{settings:?}");
        assert!(!shown.contains("canary") && shown.contains("<set>"), "{shown}");
    }
}
