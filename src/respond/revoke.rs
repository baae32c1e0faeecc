//! Step 3, revoke (only with `--revoke`): an identified OpenAI key is deleted through the
//! admin API; GitHub tokens go to GitHub's credential revocation API, which needs no account;
//! for any other key the rule's remediation names the provider's page and steps.
//!
//! A key already gone (404) is "already revoked", so a second run is harmless.

use serde::Serialize;
use serde_json::json;

use super::api::{encode, Api};
use super::identify::{Entry, Place};
use crate::verify::options::BaseUrl;
use crate::verify::probe::{Call, Method};

/// Tokens GitHub's revocation API takes in one request.
pub(crate) const GITHUB_BATCH: usize = 1000;

/// The prefixes of the tokens GitHub's credential revocation API accepts: personal access
/// tokens (classic and fine-grained), OAuth app tokens, GitHub App user-to-server and
/// refresh tokens. (Installation tokens, `ghs_`, are not among them.)
const GITHUB_REVOCABLE: &[&str] = &["ghp_", "github_pat_", "gho_", "ghu_", "ghr_"];

/// What happened to a key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "result", content = "detail", rename_all = "kebab-case")]
pub(crate) enum Outcome {
    /// The provider deleted it (GitHub: accepted the revocation).
    Revoked,
    /// The provider no longer has it.
    AlreadyRevoked,
    /// The provider did not revoke it: the status, or the transport failure.
    Failed(String),
    /// Nothing was done (a dry run, or no way to act).
    NotRun,
}

/// Whether GitHub's credential revocation API takes `secret`.
pub(crate) fn github_revocable(rule_id: &str, secret: &str) -> bool {
    rule_id.starts_with("github-") && GITHUB_REVOCABLE.iter().any(|prefix| secret.starts_with(prefix))
}

/// Deletes the identified OpenAI key `entry` with the admin key.
pub(crate) fn delete_openai(api: &Api, base: &BaseUrl, admin_key: &str, entry: &Entry) -> Outcome {
    let path = match &entry.place {
        Place::ProjectKey { project_id, .. } => {
            format!("/v1/organization/projects/{}/api_keys/{}", encode(project_id), encode(&entry.id))
        }
        Place::AdminKey => format!("/v1/organization/admin_api_keys/{}", encode(&entry.id)),
    };
    let call = Call { method: Method::Delete, path: &path, bearer: Some(admin_key), headers: &[], json: None };
    match api.send(base, &call) {
        Ok(answer) if answer.status == 200 && answer.body["deleted"] == true => Outcome::Revoked,
        Ok(answer) if answer.status == 200 => Outcome::Failed("HTTP 200 without `deleted: true`".into()),
        Ok(answer) if answer.status == 404 => Outcome::AlreadyRevoked,
        Ok(answer) => Outcome::Failed(format!("HTTP {}", answer.status)),
        Err(reason) => Outcome::Failed(reason),
    }
}

/// Sends `tokens` to GitHub's revocation API, [`GITHUB_BATCH`] to a request, without
/// authentication (an authenticated request is refused); one outcome per token.
pub(crate) fn revoke_github(api: &Api, base: &BaseUrl, tokens: &[&str]) -> Vec<Outcome> {
    let headers = [("accept", "application/vnd.github+json"), ("x-github-api-version", "2022-11-28")];
    let mut outcomes = Vec::with_capacity(tokens.len());
    for batch in tokens.chunks(GITHUB_BATCH) {
        let body = json!({ "credentials": batch });
        let call = Call {
            method: Method::Post,
            path: "/credentials/revoke",
            bearer: None,
            headers: &headers,
            json: Some(&body),
        };
        let outcome = match api.send(base, &call) {
            Ok(answer) if answer.status == 202 => Outcome::Revoked,
            Ok(answer) => Outcome::Failed(format!("HTTP {}", answer.status)),
            Err(reason) => Outcome::Failed(reason),
        };
        outcomes.extend(std::iter::repeat_n(outcome, batch.len()));
    }
    outcomes
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn github_revokes_user_tokens_but_not_installation_tokens() {
        for prefix in GITHUB_REVOCABLE {
            assert!(github_revocable("github-pat", &format!("{prefix}abc")), "{prefix}");
        }
        assert!(!github_revocable("github-app-token", "ghs_abc"));
        assert!(!github_revocable("openai-api-key", "ghp_abc"), "only GitHub rules' secrets");
    }
}
