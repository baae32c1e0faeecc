//! One HTTP request to a provider (ureq with rustls: blocking, no async runtime, no OpenSSL).
//! The key travels only in a request header; nothing here formats a request or a transport
//! error into text, so the key cannot reach a log or an error message.

use std::time::Duration;

use ureq::Agent;

use super::classify::{self, Reply, Verdict};
use super::options::BaseUrl;
use super::providers::{Auth, Check};

/// Largest answer body read; provider answers to these endpoints are small.
const MAX_BODY: u64 = 256 << 10;

/// HTTP agents for verification: one honouring the usual proxy variables for providers'
/// hosts, one that never uses a proxy, for loopback overrides.
pub struct Client {
    proxied: Agent,
    direct: Agent,
}

impl Client {
    /// Agents with `timeout` for each whole request. Redirects are not followed (a key
    /// must never be sent to another host) and 4xx/5xx answers are read, not errors.
    pub fn new(timeout: Duration) -> Self {
        let agent = |proxy: Option<ureq::Proxy>| {
            Agent::config_builder()
                .http_status_as_error(false)
                .max_redirects(0)
                .timeout_global(Some(timeout))
                .user_agent(concat!("keyhound/", env!("CARGO_PKG_VERSION")))
                .proxy(proxy)
                .build()
                .new_agent()
        };
        Client { proxied: agent(ureq::Proxy::try_from_env()), direct: agent(None) }
    }

    /// Asks `check`'s endpoint at `base` about `key`, and classifies the answer.
    pub fn probe(&self, check: &Check, base: &BaseUrl, key: &str) -> Verdict {
        let agent = if base.is_loopback() { &self.direct } else { &self.proxied };
        let provider = check.provider;
        let mut request = agent.get(base.join(check.path));
        request = match provider.auth {
            Auth::Bearer => request.header("authorization", format!("Bearer {key}")),
            Auth::Header(name) => request.header(name, key),
        };
        for (name, value) in provider.headers {
            request = request.header(*name, *value);
        }
        match request.call() {
            Ok(mut response) => {
                let header = |name: &str| response.headers().get(name).and_then(|v| v.to_str().ok()).map(str::to_owned);
                let retry_after = header("retry-after").and_then(|v| v.trim().parse().ok()).map(Duration::from_secs);
                let rate_limit_remaining = provider.rate_limit_header.and_then(header);
                let body = response.body_mut().with_config().limit(MAX_BODY).read_to_vec().unwrap_or_default();
                let body = serde_json::from_slice(&body).unwrap_or_default();
                let reply = Reply { status: response.status().as_u16(), body, retry_after, rate_limit_remaining };
                classify::classify(provider, &reply, key)
            }
            Err(error) => transport_verdict(&error),
        }
    }
}

/// A transport failure as a verdict, described in fixed words (never the error's text).
fn transport_verdict(error: &ureq::Error) -> Verdict {
    match error {
        ureq::Error::Timeout(_) => Verdict::Retry("timed out".into(), None),
        ureq::Error::Io(_) | ureq::Error::ConnectionFailed => Verdict::Retry("connection failed".into(), None),
        ureq::Error::HostNotFound => Verdict::Final(super::State::Unknown, "host not found".into()),
        ureq::Error::Tls(_) | ureq::Error::Rustls(_) => {
            Verdict::Final(super::State::Unknown, "TLS handshake failed".into())
        }
        _ => Verdict::Final(super::State::Unknown, "request failed".into()),
    }
}
