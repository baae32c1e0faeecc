//! One HTTP request to a provider (ureq with rustls: blocking, no async runtime, no OpenSSL).
//! The key travels only in a request header (or, for a revocation, the JSON body); nothing
//! here formats a request or a transport error into text, so the key cannot reach a log or an
//! error message.
//!
//! [`Client::probe`] asks about a key for `--verify`; [`Client::call`] makes any other call
//! (`keyhound respond`: administration, usage and revocation APIs) through the same agents.

use std::time::Duration;

use ureq::Agent;

use super::classify::{self, Reply, Verdict};
use super::options::BaseUrl;
use super::providers::{Auth, Check};

/// Largest answer body read; provider answers to these endpoints are small.
const MAX_BODY: u64 = 256 << 10;

/// HTTP agents for verification: one honouring the usual proxy variables for providers'
/// hosts, one that never uses a proxy, for loopback overrides.
pub(crate) struct Client {
    proxied: Agent,
    direct: Agent,
}

impl Client {
    /// Agents with `timeout` for each whole request. Redirects are not followed (a key
    /// must never be sent to another host) and 4xx/5xx answers are read, not errors.
    pub(crate) fn new(timeout: Duration) -> Self {
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

    /// The agent for `base`: a loopback address is contacted directly, never via a proxy.
    fn agent(&self, base: &BaseUrl) -> &Agent {
        if base.is_loopback() {
            &self.direct
        } else {
            &self.proxied
        }
    }

    /// Asks `check`'s endpoint at `base` about `key`, and classifies the answer.
    pub(crate) fn probe(&self, check: &Check, base: &BaseUrl, key: &str) -> Verdict {
        let provider = check.provider;
        let bearer = (provider.auth == Auth::Bearer).then(|| format!("Bearer {key}"));
        let mut request = with_headers(self.agent(base).get(base.join(check.path)), bearer, provider.headers);
        if let Auth::Header(name) = provider.auth {
            request = request.header(name, key);
        }
        match request.call() {
            Ok(response) => {
                let rate_limit_remaining = provider.rate_limit_header.and_then(|name| header(&response, name));
                let Answer { status, retry_after, body } = read_answer(response);
                let reply = Reply { status, body, retry_after, rate_limit_remaining };
                classify::classify(provider, &reply, key)
            }
            Err(error) => match transport_failure(&error) {
                Failure { reason, transient: true } => Verdict::Retry(reason.into(), None),
                Failure { reason, transient: false } => Verdict::Final(super::State::Unknown, reason.into()),
            },
        }
    }

    /// Makes `call` at `base` and reads the answer, whatever its status.
    pub(crate) fn call(&self, base: &BaseUrl, call: &Call) -> Result<Answer, Failure> {
        let agent = self.agent(base);
        let url = base.join(call.path);
        let authorization = call.bearer.map(|token| format!("Bearer {token}"));
        let sent = match (call.method, call.json) {
            (Method::Get, _) => with_headers(agent.get(url), authorization, call.headers).call(),
            (Method::Delete, _) => with_headers(agent.delete(url), authorization, call.headers).call(),
            (Method::Post, body) => {
                let body = body.map(serde_json::Value::to_string).unwrap_or_default();
                with_headers(agent.post(url), authorization, call.headers)
                    .header("content-type", "application/json")
                    .send(body)
            }
        };
        sent.map(read_answer).map_err(|error| transport_failure(&error))
    }
}

/// An HTTP method [`Client::call`] makes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Method {
    Get,
    Post,
    Delete,
}

/// A call to an API: the method, the path and query below the base URL, the bearer token,
/// extra headers and a JSON body.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Call<'a> {
    pub method: Method,
    pub path: &'a str,
    pub bearer: Option<&'a str>,
    pub headers: &'a [(&'static str, &'static str)],
    pub json: Option<&'a serde_json::Value>,
}

/// An answer: the status, `Retry-After` in seconds, and the body parsed as JSON (`Null`
/// when it is not JSON, or larger than [`MAX_BODY`]).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Answer {
    pub status: u16,
    pub retry_after: Option<Duration>,
    pub body: serde_json::Value,
}

/// A transport failure, in fixed words (never the error's text), and whether asking again
/// may help.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Failure {
    pub reason: &'static str,
    pub transient: bool,
}

fn with_headers<B>(
    mut request: ureq::RequestBuilder<B>,
    authorization: Option<String>,
    headers: &[(&'static str, &'static str)],
) -> ureq::RequestBuilder<B> {
    if let Some(value) = authorization {
        request = request.header("authorization", value);
    }
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    request
}

fn header(response: &ureq::http::Response<ureq::Body>, name: &str) -> Option<String> {
    response.headers().get(name).and_then(|v| v.to_str().ok()).map(str::to_owned)
}

/// The status, `Retry-After` and body of a response, the body read up to [`MAX_BODY`].
fn read_answer(mut response: ureq::http::Response<ureq::Body>) -> Answer {
    let retry_after = header(&response, "retry-after").and_then(|v| v.trim().parse().ok()).map(Duration::from_secs);
    let body = response.body_mut().with_config().limit(MAX_BODY).read_to_vec().unwrap_or_default();
    Answer { status: response.status().as_u16(), retry_after, body: serde_json::from_slice(&body).unwrap_or_default() }
}

/// A transport failure described in fixed words.
fn transport_failure(error: &ureq::Error) -> Failure {
    let (reason, transient) = match error {
        ureq::Error::Timeout(_) => ("timed out", true),
        ureq::Error::Io(_) | ureq::Error::ConnectionFailed => ("connection failed", true),
        ureq::Error::HostNotFound => ("host not found", false),
        ureq::Error::Tls(_) | ureq::Error::Rustls(_) => ("TLS handshake failed", false),
        _ => ("request failed", false),
    };
    Failure { reason, transient }
}
