//! Verification settings: timeouts, retries, limits, and where requests go. Each provider's
//! fixed HTTPS host is used unless an explicit option or environment variable says otherwise.
//!
//! # Overriding where requests go (tests and proxies)
//!
//! - `--verify-base-url URL` sends every provider's requests to `URL` + the endpoint path.
//! - `KEYHOUND_VERIFY_BASE_URL_<PROVIDER>` (`OPENAI`, `ANTHROPIC`, `HUGGINGFACE`, `GROQ`,
//!   `OPENROUTER`, `GITHUB`) does it for one provider; the option wins over the variables.
//!
//! An override must be `https://`, or `http://` to a loopback address (127.0.0.0/8, `::1`,
//! `localhost`), so a key never crosses a network in clear text. It may carry a path prefix,
//! but no credentials, query or fragment.

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::time::Duration;

use super::providers::{Provider, PROVIDERS};

/// Prefix of the per-provider override variables.
pub(crate) const BASE_URL_ENV_PREFIX: &str = "KEYHOUND_VERIFY_BASE_URL_";

/// Default time allowed for one request, connection included.
pub(crate) const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);

/// A validated base URL, without a trailing `/`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct BaseUrl {
    url: String,
    origin_len: usize,
    loopback: bool,
}

impl BaseUrl {
    /// Parses an override; the error says what is wrong with it.
    pub(crate) fn parse(text: &str) -> Result<BaseUrl, String> {
        let url = text.trim().trim_end_matches('/');
        let (scheme, rest) = url.split_once("://").ok_or("it must start with https:// or http://")?;
        let authority = rest.split('/').next().unwrap_or_default();
        if authority.is_empty() || url.contains(['?', '#', '@', ' ']) {
            return Err("it must be scheme://host[:port][/path] without credentials, query or fragment".into());
        }
        let loopback = is_loopback(authority);
        match scheme {
            "https" => {}
            "http" if loopback => {}
            "http" => return Err("plain http:// is allowed only to a loopback address; use https://".into()),
            _ => return Err("it must start with https:// or http://".into()),
        }
        Ok(BaseUrl { url: url.to_string(), origin_len: scheme.len() + 3 + authority.len(), loopback })
    }

    /// The URL of `path` below this base.
    pub(crate) fn join(&self, path: &str) -> String {
        format!("{}{path}", self.url)
    }

    /// `scheme://host[:port]`: what the per-host limits count.
    pub(crate) fn origin(&self) -> &str {
        &self.url[..self.origin_len]
    }

    /// True for a loopback address, which is contacted directly (never through a proxy).
    pub(crate) fn is_loopback(&self) -> bool {
        self.loopback
    }
}

fn is_loopback(authority: &str) -> bool {
    let host = match authority.strip_prefix('[') {
        Some(bracketed) => bracketed.split(']').next().unwrap_or_default(),
        None => authority.split(':').next().unwrap_or_default(),
    };
    host.eq_ignore_ascii_case("localhost") || host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// How verification runs.
#[derive(Debug, Clone)]
pub(crate) struct VerifyOptions {
    /// `--verify-base-url`: every provider's requests go there.
    pub base_url: Option<BaseUrl>,
    /// `KEYHOUND_VERIFY_BASE_URL_<PROVIDER>`, by provider name.
    pub provider_base_urls: BTreeMap<&'static str, BaseUrl>,
    /// Time allowed for one request, connection included.
    pub timeout: Duration,
    /// Requests per key at most (the first one included).
    pub attempts: u32,
    /// Pause before the first retry; it doubles with each retry.
    pub backoff: Duration,
    /// Longest pause between retries, `Retry-After` included.
    pub max_backoff: Duration,
    /// Keys checked at once, over all hosts.
    pub concurrency: usize,
    /// Requests in flight to one host at most.
    pub per_host: usize,
    /// Least time between two request starts to one host.
    pub per_host_interval: Duration,
}

impl Default for VerifyOptions {
    fn default() -> Self {
        VerifyOptions {
            base_url: None,
            provider_base_urls: BTreeMap::new(),
            timeout: DEFAULT_TIMEOUT,
            attempts: 3,
            backoff: Duration::from_secs(1),
            max_backoff: Duration::from_secs(8),
            concurrency: 8,
            per_host: 4,
            per_host_interval: Duration::from_millis(100),
        }
    }
}

impl VerifyOptions {
    /// Options from `--verify-base-url`, `--verify-timeout` and the override variables, read
    /// through `env` (the process environment, or a map in tests).
    pub(crate) fn resolve(
        base_url: Option<&str>,
        timeout_secs: Option<f64>,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<VerifyOptions, String> {
        let base_url = base_url.map(BaseUrl::parse).transpose().map_err(|e| format!("--verify-base-url: {e}"))?;
        let mut provider_base_urls = BTreeMap::new();
        for provider in PROVIDERS {
            let name = format!("{BASE_URL_ENV_PREFIX}{}", provider.name.to_ascii_uppercase());
            if let Some(value) = env(&name).filter(|value| !value.is_empty()) {
                provider_base_urls.insert(provider.name, BaseUrl::parse(&value).map_err(|e| format!("{name}: {e}"))?);
            }
        }
        let timeout = match timeout_secs {
            Some(secs) if secs.is_finite() && secs > 0.0 && secs <= 600.0 => Duration::from_secs_f64(secs),
            Some(_) => return Err("--verify-timeout: give a number of seconds between 0 and 600".into()),
            None => DEFAULT_TIMEOUT,
        };
        Ok(VerifyOptions { base_url, provider_base_urls, timeout, ..VerifyOptions::default() })
    }

    /// Where requests to `provider` go.
    pub(crate) fn base_url_for(&self, provider: &Provider) -> BaseUrl {
        let overridden = self.base_url.as_ref().or_else(|| self.provider_base_urls.get(provider.name));
        overridden.cloned().unwrap_or_else(|| BaseUrl {
            url: provider.base_url.to_string(),
            origin_len: provider.base_url.len(),
            loopback: false,
        })
    }

    /// The pause before attempt `attempt + 1`: exponential, at least `Retry-After`, capped.
    pub(crate) fn backoff_after(&self, attempt: u32, retry_after: Option<Duration>) -> Duration {
        let exponential = self.backoff.saturating_mul(1 << attempt.saturating_sub(1).min(16));
        exponential.max(retry_after.unwrap_or_default()).min(self.max_backoff)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::verify::providers::{CHECKS, OPENAI};

    #[test]
    fn overrides_must_be_https_or_loopback_http() {
        assert!(BaseUrl::parse("http://127.0.0.1:8080").unwrap().is_loopback());
        assert!(BaseUrl::parse("http://[::1]:9/").unwrap().is_loopback());
        assert!(BaseUrl::parse("http://localhost").unwrap().is_loopback());
        assert!(BaseUrl::parse("https://proxy.example.com/openai").is_ok());
        for bad in
            ["http://example.com", "http://10.0.0.1", "ftp://x", "api.openai.com", "https://u:p@h", "https://h?q"]
        {
            assert!(BaseUrl::parse(bad).is_err(), "{bad}");
        }
        let base = BaseUrl::parse("https://proxy.example.com:8443/prefix/").unwrap();
        assert_eq!(base.origin(), "https://proxy.example.com:8443");
        assert_eq!(base.join("/v1/models"), "https://proxy.example.com:8443/prefix/v1/models");
    }

    #[test]
    fn fixed_hosts_unless_explicitly_overridden() {
        let options = VerifyOptions::resolve(None, None, |_| None).unwrap();
        for check in CHECKS {
            let url = options.base_url_for(check.provider).join(check.path);
            assert!(url.starts_with(&format!("{}/", check.provider.base_url)), "{url}");
        }
        let env = |name: &str| (name == "KEYHOUND_VERIFY_BASE_URL_OPENAI").then(|| "http://127.0.0.1:1".to_string());
        let options = VerifyOptions::resolve(None, Some(2.5), env).unwrap();
        assert_eq!(options.base_url_for(&OPENAI).join("/v1/models"), "http://127.0.0.1:1/v1/models");
        assert_eq!(options.timeout, Duration::from_millis(2500));
        let all = VerifyOptions::resolve(Some("http://127.0.0.1:2"), None, env).unwrap();
        assert!(CHECKS.iter().all(|c| all.base_url_for(c.provider).origin() == "http://127.0.0.1:2"));
    }

    #[test]
    fn bad_settings_are_named() {
        let err = VerifyOptions::resolve(None, None, |_| Some("http://example.com".into())).unwrap_err();
        assert!(err.starts_with("KEYHOUND_VERIFY_BASE_URL_"), "{err}");
        assert!(VerifyOptions::resolve(None, Some(0.0), |_| None).is_err());
        assert!(VerifyOptions::resolve(Some("nope"), None, |_| None).unwrap_err().starts_with("--verify-base-url"));
    }

    #[test]
    fn backoff_doubles_honours_retry_after_and_is_capped() {
        let options = VerifyOptions::default();
        assert_eq!(options.backoff_after(1, None), Duration::from_secs(1));
        assert_eq!(options.backoff_after(2, None), Duration::from_secs(2));
        assert_eq!(options.backoff_after(1, Some(Duration::from_secs(3))), Duration::from_secs(3));
        assert_eq!(options.backoff_after(30, Some(Duration::from_secs(3600))), options.max_backoff);
    }
}
