//! The providers keyhound can ask whether a key is live, as data: for each rule id, the
//! provider's fixed HTTPS host, a read-only endpoint that costs nothing, how the key is sent,
//! and how the provider says "invalid" or "out of credit". Adding a provider is adding rows
//! here; [`super::classify`] reads them.
//!
//! Every endpoint is a listing or identity call: none generates text, so none is billable.

/// How a provider expects the key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Auth {
    /// `Authorization: Bearer KEY`.
    Bearer,
    /// The key as the whole value of this header (`x-api-key: KEY`).
    Header(&'static str),
}

/// What an HTTP 401 from the provider means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Unauthorized {
    /// Every 401 means the key is invalid or revoked.
    Invalid,
    /// Only a 401 with one of these error codes means invalid; any other 401 (an IP
    /// allow-list, a missing scope) comes from a key the provider recognised.
    InvalidIfCode(&'static [&'static str]),
}

/// A provider's API and the way it reports key states.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Provider {
    /// Short lowercase name, shown in reports; upper-cased it names the environment variable
    /// `KEYHOUND_VERIFY_BASE_URL_<NAME>` that overrides [`Provider::base_url`].
    pub name: &'static str,
    /// The provider's fixed HTTPS origin.
    pub base_url: &'static str,
    /// How the key is sent.
    pub auth: Auth,
    /// Headers every request carries (API versions).
    pub headers: &'static [(&'static str, &'static str)],
    /// What a 401 means.
    pub unauthorized: Unauthorized,
    /// JSON pointers, tried in order, to the error code in an error body.
    pub error_code: &'static [&'static str],
    /// Error codes that mean the key is live but has no credit left.
    pub quota_codes: &'static [&'static str],
    /// JSON pointer to a number in a successful answer that is 0 or less when the key's
    /// credit is used up.
    pub remaining_credit: Option<&'static str>,
    /// Response header that reads `0` when a 403 is really a rate limit (GitHub).
    pub rate_limit_header: Option<&'static str>,
}

/// One verifiable rule: which provider to ask, and where.
#[derive(Debug)]
pub(crate) struct Check {
    /// The rule id (`rules/*.toml`).
    pub rule_id: &'static str,
    /// The provider.
    pub provider: &'static Provider,
    /// Path and query of the endpoint, below the base URL.
    pub path: &'static str,
}

/// OpenAI: errors are `{"error": {"code": "invalid_api_key", ...}}`.
pub(crate) const OPENAI: Provider = Provider {
    name: "openai",
    base_url: "https://api.openai.com",
    auth: Auth::Bearer,
    headers: &[],
    unauthorized: Unauthorized::InvalidIfCode(&["invalid_api_key"]),
    error_code: &["/error/code"],
    quota_codes: &["insufficient_quota"],
    remaining_credit: None,
    rate_limit_header: None,
};

/// Anthropic: errors are `{"type": "error", "error": {"type": "authentication_error"}}`.
pub(crate) const ANTHROPIC: Provider = Provider {
    name: "anthropic",
    base_url: "https://api.anthropic.com",
    auth: Auth::Header("x-api-key"),
    headers: &[("anthropic-version", "2023-06-01")],
    unauthorized: Unauthorized::Invalid,
    error_code: &["/error/type"],
    quota_codes: &["billing_error"],
    remaining_credit: None,
    rate_limit_header: None,
};

/// Hugging Face: `whoami-v2` answers 401 for an unknown token.
pub(crate) const HUGGINGFACE: Provider = Provider {
    name: "huggingface",
    base_url: "https://huggingface.co",
    auth: Auth::Bearer,
    headers: &[],
    unauthorized: Unauthorized::Invalid,
    error_code: &[],
    quota_codes: &[],
    remaining_credit: None,
    rate_limit_header: None,
};

/// Groq: an OpenAI-compatible API.
pub(crate) const GROQ: Provider = Provider {
    name: "groq",
    base_url: "https://api.groq.com",
    auth: Auth::Bearer,
    headers: &[],
    unauthorized: Unauthorized::Invalid,
    error_code: &["/error/code"],
    quota_codes: &["insufficient_quota"],
    remaining_credit: None,
    rate_limit_header: None,
};

/// OpenRouter: `/api/v1/key` describes the key, including the credit it has left.
pub(crate) const OPENROUTER: Provider = Provider {
    name: "openrouter",
    base_url: "https://openrouter.ai",
    auth: Auth::Bearer,
    headers: &[],
    unauthorized: Unauthorized::Invalid,
    error_code: &["/error/code"],
    quota_codes: &[],
    remaining_credit: Some("/data/limit_remaining"),
    rate_limit_header: None,
};

/// GitHub: `/user` answers 401 "Bad credentials" for a revoked token; a 403 with
/// `x-ratelimit-remaining: 0` is a rate limit.
pub(crate) const GITHUB: Provider = Provider {
    name: "github",
    base_url: "https://api.github.com",
    auth: Auth::Bearer,
    headers: &[("accept", "application/vnd.github+json"), ("x-github-api-version", "2022-11-28")],
    unauthorized: Unauthorized::Invalid,
    error_code: &[],
    quota_codes: &[],
    remaining_credit: None,
    rate_limit_header: Some("x-ratelimit-remaining"),
};

/// Every provider, for validating overrides and documentation.
pub(crate) const PROVIDERS: &[&Provider] = &[&OPENAI, &ANTHROPIC, &HUGGINGFACE, &GROQ, &OPENROUTER, &GITHUB];

/// The verifiable rules. Rules without a row here are reported as `unsupported`; so are
/// `anthropic-oauth-token` (OAuth tokens need another auth scheme) and
/// `github-refresh-token` (not usable as a bearer token, so a 401 would prove nothing).
pub(crate) const CHECKS: &[Check] = &[
    Check { rule_id: "openai-api-key", provider: &OPENAI, path: "/v1/models" },
    Check { rule_id: "openai-admin-key", provider: &OPENAI, path: "/v1/organization/admin_api_keys?limit=1" },
    Check { rule_id: "anthropic-api-key", provider: &ANTHROPIC, path: "/v1/models" },
    Check { rule_id: "anthropic-admin-key", provider: &ANTHROPIC, path: "/v1/organizations/api_keys?limit=1" },
    Check { rule_id: "huggingface-access-token", provider: &HUGGINGFACE, path: "/api/whoami-v2" },
    Check { rule_id: "huggingface-org-token", provider: &HUGGINGFACE, path: "/api/whoami-v2" },
    Check { rule_id: "groq-api-key", provider: &GROQ, path: "/openai/v1/models" },
    Check { rule_id: "openrouter-api-key", provider: &OPENROUTER, path: "/api/v1/key" },
    Check { rule_id: "github-pat", provider: &GITHUB, path: "/user" },
    Check { rule_id: "github-fine-grained-pat", provider: &GITHUB, path: "/user" },
    Check { rule_id: "github-oauth-token", provider: &GITHUB, path: "/user" },
    // User-to-server tokens read /user; an installation token gets a 403 there, which still
    // proves it authenticated (restricted). Refresh tokens are not bearer tokens: no check.
    Check { rule_id: "github-app-token", provider: &GITHUB, path: "/user" },
];

/// The check for a rule, if keyhound knows how to verify its secrets.
pub(crate) fn check_for(rule_id: &str) -> Option<&'static Check> {
    CHECKS.iter().find(|check| check.rule_id == rule_id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_fixed_host_is_https_and_every_rule_has_one_row() {
        for provider in PROVIDERS {
            assert!(provider.base_url.starts_with("https://"), "{}", provider.name);
            assert!(!provider.base_url.ends_with('/'), "{}", provider.name);
        }
        for check in CHECKS {
            assert!(check.path.starts_with('/'), "{}", check.rule_id);
            assert!(PROVIDERS.contains(&check.provider), "{}", check.rule_id);
            assert_eq!(CHECKS.iter().filter(|c| c.rule_id == check.rule_id).count(), 1, "{}", check.rule_id);
        }
    }

    #[test]
    fn every_check_names_a_builtin_rule() {
        let rules = crate::rules::RuleSet::builtin().unwrap();
        for check in CHECKS {
            assert!(rules.find(check.rule_id).is_some(), "{} is not a built-in rule", check.rule_id);
        }
        assert_eq!(check_for("openai-admin-key").unwrap().provider.name, "openai");
        for unverifiable in ["openai-realtime-client-secret", "github-refresh-token", "anthropic-oauth-token"] {
            assert!(check_for(unverifiable).is_none(), "{unverifiable}");
        }
    }
}
