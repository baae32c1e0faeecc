//! Step 1, identify (OpenAI): which key of the organization a found key is.
//!
//! With the admin key, list the organization's projects, each project's API keys (user and
//! service-account keys) and the organization's admin keys, every page of each; then match a
//! found key to the one entry whose `redacted_value` it fits (see [`fits`]). No found key is
//! ever sent: only the admin key travels, and the match is made here.

use std::collections::HashMap;

use serde::Serialize;
use serde_json::Value;

use super::api::{encode, Api};
use crate::verify::options::BaseUrl;

/// Fewest characters the tail of a `redacted_value` must show for a match: fewer would let
/// a key of another organization fit an entry of this one by chance.
const MIN_TAIL: usize = 3;

/// What kind of key an entry is, and where it lives.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub(crate) enum Place {
    /// A project's API key (a user's or a service account's).
    ProjectKey {
        /// The project's id.
        project_id: String,
        /// The project's name.
        project_name: String,
    },
    /// An organization admin key.
    AdminKey,
}

/// One key the organization lists.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct Entry {
    /// Where the key lives.
    #[serde(flatten)]
    pub place: Place,
    /// The key's id (`key_…`).
    pub id: String,
    /// The key's name.
    pub name: String,
    /// Who owns it: the user's email (else name), or `service account NAME`.
    pub owner: Option<String>,
    /// When it was created (Unix seconds).
    pub created_at: Option<i64>,
    /// When it was last used (Unix seconds).
    pub last_used_at: Option<i64>,
    /// The value as the API shows it redacted; matched against, never shown.
    #[serde(skip)]
    pub redacted_value: String,
}

/// What identification found for one key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "status", rename_all = "kebab-case")]
pub(crate) enum Identity {
    /// Not attempted (no admin key, not an OpenAI key, the listing failed).
    Skipped {
        /// Why.
        reason: String,
    },
    /// No entry fits: another organization's key, or one already deleted.
    NoMatch,
    /// Several entries fit, so none is acted on.
    Ambiguous {
        /// How many.
        entries: usize,
    },
    /// Exactly one entry fits, but other found keys fit it too: only one of them can be that
    /// key, so none is acted on.
    Contested {
        /// How many found keys fit the entry, this one included.
        found_keys: usize,
    },
    /// Exactly one entry fits.
    Matched(Entry),
}

/// Every key the organization lists: each project's keys, then the admin keys.
pub(crate) fn list_entries(api: &Api, base: &BaseUrl, admin_key: &str) -> Result<Vec<Entry>, String> {
    let mut entries = Vec::new();
    let projects = api.list_all(base, "/v1/organization/projects", admin_key)?;
    for project in &projects {
        let (project_id, project_name) = (text(&project["id"]), text(&project["name"]));
        // `any`: every enabled key, those of owners who left the project included (without it
        // the listing follows membership rules and may leave some out).
        let path = format!("/v1/organization/projects/{}/api_keys?owner_project_access=any", encode(&project_id));
        let place = Place::ProjectKey { project_id, project_name };
        let keys = api.list_all(base, &path, admin_key)?;
        entries.extend(keys.iter().map(|key| entry(key, place.clone())));
    }
    let admin_keys = api.list_all(base, "/v1/organization/admin_api_keys", admin_key)?;
    entries.extend(admin_keys.iter().map(|key| entry(key, Place::AdminKey)));
    Ok(entries)
}

/// The entry `key` (a listed key object) describes.
fn entry(key: &Value, place: Place) -> Entry {
    Entry {
        place,
        id: text(&key["id"]),
        name: text(&key["name"]),
        owner: owner(&key["owner"]),
        created_at: key["created_at"].as_i64(),
        last_used_at: key["last_used_at"].as_i64(),
        redacted_value: text(&key["redacted_value"]),
    }
}

/// A project key's owner is `{type, user: {email, name}}` or `{type, service_account:
/// {name}}`; an admin key's is the user itself (`{type, name}`).
fn owner(owner: &Value) -> Option<String> {
    let service_account = &owner["service_account"];
    if owner["type"] == "service_account" || service_account.is_object() {
        let name = service_account["name"].as_str().or(owner["name"].as_str()).unwrap_or("?");
        return Some(format!("service account {name}"));
    }
    let user = if owner["user"].is_object() { &owner["user"] } else { owner };
    user["email"].as_str().or(user["name"].as_str()).map(str::to_owned)
}

fn text(value: &Value) -> String {
    value.as_str().unwrap_or_default().to_string()
}

/// The one entry `key` fits, if exactly one does.
pub(crate) fn identify(key: &str, entries: &[Entry]) -> Identity {
    let fitting: Vec<&Entry> = entries.iter().filter(|entry| fits(&entry.redacted_value, key)).collect();
    match fitting.as_slice() {
        [] => Identity::NoMatch,
        [one] => Identity::Matched((*one).clone()),
        many => Identity::Ambiguous { entries: many.len() },
    }
}

/// `identities` (one per distinct found key) with every match to an entry that several
/// found keys fit turned into [`Identity::Contested`].
pub(crate) fn one_key_per_entry(identities: Vec<Option<Identity>>) -> Vec<Option<Identity>> {
    let mut fitting: HashMap<String, usize> = HashMap::new();
    for identity in identities.iter().flatten() {
        if let Identity::Matched(entry) = identity {
            *fitting.entry(entry.id.clone()).or_default() += 1;
        }
    }
    let contested = |entry: &Entry| fitting.get(&entry.id).copied().filter(|&count| count > 1);
    identities
        .into_iter()
        .map(|identity| match identity {
            Some(Identity::Matched(entry)) => Some(match contested(&entry) {
                Some(found_keys) => Identity::Contested { found_keys },
                None => Identity::Matched(entry),
            }),
            other => other,
        })
        .collect()
}

/// Whether `key` fits `redacted`: the visible head (up to the first `.`, `…` or `*`) starts
/// the key, at least `sk-`; the visible tail (after that run of mask characters) ends it,
/// at least [`MIN_TAIL`] characters; and the mask hides at least one character of the key.
/// (OpenAI's reference shows `sk-abc...def`; the dashboard shows `sk-…abcd`.)
pub(crate) fn fits(redacted: &str, key: &str) -> bool {
    let is_mask = |c: char| matches!(c, '.' | '…' | '*');
    let Some(start) = redacted.find(is_mask) else { return false };
    let mask_len = redacted[start..].find(|c: char| !is_mask(c)).unwrap_or(redacted.len() - start);
    let (head, tail) = (&redacted[..start], &redacted[start + mask_len..]);
    head.starts_with("sk-")
        && tail.chars().count() >= MIN_TAIL
        && !tail.contains(is_mask)
        && head.len() + tail.len() < key.len()
        && key.starts_with(head)
        && key.ends_with(tail)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const KEY: &str = "sk-proj-abcdefghijklmnopqrstT3BlbkFJuvwxyzABCDEFGHIJ1234";

    #[test]
    fn a_key_fits_the_head_and_tail_the_api_shows() {
        assert!(fits("sk-proj-...1234", KEY));
        assert!(fits("sk-proj-abc...J1234", KEY));
        assert!(fits("sk-…234", KEY));
        assert!(fits("sk-proj-********1234", KEY));
        assert!(!fits("sk-proj-...1235", KEY), "another tail");
        assert!(!fits("sk-svcacct-...1234", KEY), "another head");
        assert!(!fits("sk-proj-...34", KEY), "too short a tail to tell keys apart");
        assert!(!fits("...1234", KEY), "no head");
        assert!(!fits("sk-proj-1234", KEY), "no mask: not a redacted value");
        assert!(!fits("sk-proj-...12...34", KEY), "two masks");
        assert!(!fits(&format!("{}...{}", &KEY[..30], &KEY[30..]), KEY), "the mask must hide something");
        assert!(!fits("", KEY));
    }

    fn listed(id: &str, redacted: &str) -> Entry {
        entry(&json!({"id": id, "name": "n", "redacted_value": redacted}), Place::AdminKey)
    }

    #[test]
    fn only_a_single_fitting_entry_identifies_a_key() {
        let one = listed("key_1", "sk-proj-...1234");
        assert_eq!(identify(KEY, &[listed("key_0", "sk-admin-...1234"), one.clone()]), Identity::Matched(one.clone()));
        assert_eq!(
            identify(KEY, &[one.clone(), listed("key_2", "sk-proj-ab...234")]),
            Identity::Ambiguous { entries: 2 }
        );
        assert_eq!(identify(KEY, &[listed("key_3", "sk-proj-...9999")]), Identity::NoMatch);
    }

    #[test]
    fn an_entry_two_found_keys_fit_identifies_neither() {
        let (one, two) = (listed("key_1", "sk-proj-...1234"), listed("key_2", "sk-proj-...5678"));
        let identities = vec![
            Some(Identity::Matched(one.clone())),
            None,
            Some(Identity::Matched(two.clone())),
            Some(Identity::Matched(one)),
            Some(Identity::NoMatch),
        ];
        let expected = vec![
            Some(Identity::Contested { found_keys: 2 }),
            None,
            Some(Identity::Matched(two)),
            Some(Identity::Contested { found_keys: 2 }),
            Some(Identity::NoMatch),
        ];
        assert_eq!(one_key_per_entry(identities), expected);
    }

    #[test]
    fn owners_are_users_or_service_accounts() {
        let user = json!({"type": "user", "user": {"id": "user_1", "name": "Ann", "email": "ann@example.com"}});
        assert_eq!(owner(&user).as_deref(), Some("ann@example.com"));
        let account = json!({"type": "service_account", "service_account": {"id": "svc_1", "name": "ci"}});
        assert_eq!(owner(&account).as_deref(), Some("service account ci"));
        let admin = json!({"type": "user", "object": "organization.user", "id": "user_2", "name": "Bo"});
        assert_eq!(owner(&admin).as_deref(), Some("Bo"));
        assert_eq!(owner(&Value::Null), None);
    }
}
