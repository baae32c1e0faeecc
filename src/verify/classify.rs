//! What a provider's answer says about a key: the HTTP status read together with the error
//! code in the body, by the rules of [`Provider`]. Pure, so every mapping is unit-tested.

use std::time::Duration;

use super::providers::{Provider, Unauthorized};
use super::State;

/// A provider's answer, reduced to what classification reads.
#[derive(Debug, Clone, Default)]
pub(super) struct Reply {
    /// HTTP status.
    pub status: u16,
    /// The body parsed as JSON (`Null` when it is not JSON).
    pub body: serde_json::Value,
    /// `Retry-After`, when given in seconds.
    pub retry_after: Option<Duration>,
    /// The value of the provider's rate-limit header, if it has one and sent it.
    pub rate_limit_remaining: Option<String>,
}

/// What to do after one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// The key's state is known (or will not become known by asking again).
    Final(State, String),
    /// A transient failure (rate limit, server error, timeout): ask again after a pause,
    /// at least the given one.
    Retry(String, Option<Duration>),
}

/// Classifies an answer from `provider` about `key`. Details name the status and error code
/// only: a provider's message may quote part of the key, so it is never kept, and a code is
/// kept only if it is plainly one (see [`is_plain_code`]).
pub(super) fn classify(provider: &Provider, reply: &Reply, key: &str) -> Verdict {
    let code = error_code(provider, &reply.body, key);
    let label = match code {
        Some(code) => format!("HTTP {} {code}", reply.status),
        None => format!("HTTP {}", reply.status),
    };
    let has_code = |codes: &[&str]| code.is_some_and(|code| codes.contains(&code));
    let final_state = |state: State| Verdict::Final(state, label.clone());
    match reply.status {
        200..=299 if credit_exhausted(provider, &reply.body) => {
            Verdict::Final(State::OutOfCredit, format!("{label}, no credit left"))
        }
        200..=299 => final_state(State::Live),
        401 => match provider.unauthorized {
            Unauthorized::Invalid => final_state(State::Invalid),
            Unauthorized::InvalidIfCode(codes) if has_code(codes) => final_state(State::Invalid),
            Unauthorized::InvalidIfCode(_) => final_state(State::Restricted),
        },
        402 => final_state(State::OutOfCredit),
        _ if has_code(provider.quota_codes) => final_state(State::OutOfCredit),
        403 if rate_limited(provider, reply) => Verdict::Retry(format!("{label}, rate limited"), reply.retry_after),
        403 => final_state(State::Restricted),
        408 | 429 | 500..=599 => Verdict::Retry(label, reply.retry_after),
        _ => Verdict::Final(State::Unknown, format!("unexpected answer: {label}")),
    }
}

/// The error code in the body, if it is plainly a code and shares nothing long with `key`.
/// Anything else (a message, a proxy or provider echoing the key as its "code") is ignored,
/// so no provider text reaches a report.
fn error_code<'a>(provider: &Provider, body: &'a serde_json::Value, key: &str) -> Option<&'a str> {
    let codes = provider.error_code.iter().filter_map(|pointer| body.pointer(pointer)?.as_str());
    codes.into_iter().find(|code| is_plain_code(code) && !shares_part(code, key))
}

/// Longest error code shown.
const MAX_CODE_LEN: usize = 48;

/// Longest word of an error code.
const MAX_WORD_LEN: usize = 20;

/// Shortest run of a key's characters that a shown code must not contain.
const KEY_PART_LEN: usize = 8;

/// `invalid_api_key`, `insufficient_quota`: short lowercase words (or numbers of up to four
/// digits) joined by `_`, `-` or `.`. Keys are long runs of letters mixed with digits or
/// with capitals, which no such word is; a test checks that no built-in rule's secrets pass.
fn is_plain_code(code: &str) -> bool {
    let is_word = |word: &str| {
        let lowercase = word.bytes().all(|b| b.is_ascii_lowercase());
        let number = word.len() <= 4 && word.bytes().all(|b| b.is_ascii_digit());
        (1..=MAX_WORD_LEN).contains(&word.len()) && (lowercase || number)
    };
    code.len() <= MAX_CODE_LEN && code.split(['_', '-', '.']).all(is_word)
}

/// Whether `code` holds `key`, or any [`KEY_PART_LEN`] characters of it in a row, in any case.
fn shares_part(code: &str, key: &str) -> bool {
    let (code, key) = (code.to_ascii_lowercase(), key.to_ascii_lowercase());
    let window = key.len().min(KEY_PART_LEN);
    window > 0 && key.as_bytes().windows(window).any(|part| code.as_bytes().windows(window).any(|w| w == part))
}

fn credit_exhausted(provider: &Provider, body: &serde_json::Value) -> bool {
    let remaining = provider.remaining_credit.and_then(|pointer| body.pointer(pointer)?.as_f64());
    remaining.is_some_and(|credit| credit <= 0.0)
}

fn rate_limited(provider: &Provider, reply: &Reply) -> bool {
    provider.rate_limit_header.is_some() && reply.rate_limit_remaining.as_deref().is_some_and(|v| v.trim() == "0")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::verify::providers::{ANTHROPIC, GITHUB, OPENAI, OPENROUTER};
    use serde_json::json;

    fn reply(status: u16, body: serde_json::Value) -> Reply {
        Reply { status, body, ..Reply::default() }
    }

    /// The key the tests' answers are about (fake; split so that this file holds no key).
    const KEY: &str = concat!("sk-proj-PM15uelHFAKEaZhX4lp4", "T3BlbkFJZuDigFAKETTIDVrZfryt");

    fn state(provider: &Provider, status: u16, body: serde_json::Value) -> Option<State> {
        match classify(provider, &reply(status, body), KEY) {
            Verdict::Final(state, _) => Some(state),
            Verdict::Retry(..) => None,
        }
    }

    fn openai_error(code: &str) -> serde_json::Value {
        json!({"error": {"message": "Incorrect API key provided: sk-proj-****zz9Q", "type": "x", "code": code}})
    }

    #[test]
    fn openai_status_and_code_together() {
        assert_eq!(state(&OPENAI, 200, json!({"data": []})), Some(State::Live));
        assert_eq!(state(&OPENAI, 401, openai_error("invalid_api_key")), Some(State::Invalid));
        assert_eq!(
            state(&OPENAI, 401, json!({"error": {"message": "IP not allowed", "code": null}})),
            Some(State::Restricted)
        );
        assert_eq!(state(&OPENAI, 403, openai_error("unsupported_country_region_territory")), Some(State::Restricted));
        assert_eq!(state(&OPENAI, 429, openai_error("insufficient_quota")), Some(State::OutOfCredit));
        assert_eq!(state(&OPENAI, 429, openai_error("rate_limit_exceeded")), None);
        assert_eq!(state(&OPENAI, 500, serde_json::Value::Null), None);
        assert_eq!(state(&OPENAI, 503, serde_json::Value::Null), None);
        assert_eq!(state(&OPENAI, 404, serde_json::Value::Null), Some(State::Unknown));
    }

    #[test]
    fn details_carry_status_and_code_but_never_the_message() {
        let Verdict::Final(_, detail) = classify(&OPENAI, &reply(401, openai_error("invalid_api_key")), KEY) else {
            panic!("final")
        };
        assert_eq!(detail, "HTTP 401 invalid_api_key");
        let echoed = json!({"error": {"code": "sk-proj-FAKE key with spaces"}});
        let Verdict::Final(_, detail) = classify(&OPENAI, &reply(401, echoed), KEY) else { panic!("final") };
        assert_eq!(detail, "HTTP 401");
    }

    #[test]
    fn a_key_echoed_as_the_code_is_never_kept() {
        let deepseek = concat!("sk-c03b40fca2f9", "03fb6ac49f239da2d17d");
        let lower = KEY.to_ascii_lowercase();
        for code in [KEY, deepseek, &lower, "error_ueldigfaketti", "tdvrzfryt", "k3y_1234567"] {
            for status in [401, 403, 429, 418] {
                let detail = match classify(&OPENAI, &reply(status, openai_error(code)), KEY) {
                    Verdict::Final(_, detail) | Verdict::Retry(detail, _) => detail,
                };
                assert!(!detail.contains(code), "{code:?} kept in {detail:?}");
            }
        }
        assert!(is_plain_code("unsupported_country_region_territory") && is_plain_code("error.v-429"));
        assert!(shares_part("x_wxyz", "wxyz") && !shares_part("invalid_api_key", KEY) && !shares_part("x", ""));
    }

    #[test]
    fn no_secret_of_a_builtin_rule_is_a_plain_code() {
        use crate::matcher::{Matcher, Scratch};
        use crate::rules::RuleSet;
        let matcher = Matcher::new(std::sync::Arc::new(RuleSet::builtin().unwrap()));
        let (mut scratch, mut found, mut secrets) = (Scratch::default(), Vec::new(), 0);
        for rule in matcher.rules().rules() {
            for example in &rule.spec.examples {
                let text = example.text().as_bytes();
                found.clear();
                matcher.find(text, &mut scratch, &mut found);
                for secret in found.iter().map(|m| String::from_utf8_lossy(&text[m.secret.clone()])) {
                    assert!(!is_plain_code(&secret), "{} would show {secret:?}", rule.spec.id);
                    secrets += 1;
                }
            }
        }
        assert!(secrets > 50, "the examples were scanned ({secrets} secrets)");
    }

    #[test]
    fn other_providers() {
        let auth = json!({"type": "error", "error": {"type": "authentication_error", "message": "invalid x-api-key"}});
        assert_eq!(state(&ANTHROPIC, 401, auth), Some(State::Invalid));
        assert_eq!(state(&ANTHROPIC, 400, json!({"error": {"type": "billing_error"}})), Some(State::OutOfCredit));
        assert_eq!(state(&ANTHROPIC, 529, json!({"error": {"type": "overloaded_error"}})), None);
        assert_eq!(state(&OPENROUTER, 200, json!({"data": {"limit_remaining": 0}})), Some(State::OutOfCredit));
        assert_eq!(state(&OPENROUTER, 200, json!({"data": {"limit_remaining": null}})), Some(State::Live));
        assert_eq!(state(&OPENROUTER, 402, json!({})), Some(State::OutOfCredit));
        assert_eq!(state(&GITHUB, 401, json!({"message": "Bad credentials"})), Some(State::Invalid));
        assert_eq!(state(&GITHUB, 403, json!({})), Some(State::Restricted));
        let limited = Reply { status: 403, rate_limit_remaining: Some("0".into()), ..Reply::default() };
        assert!(matches!(classify(&GITHUB, &limited, KEY), Verdict::Retry(..)));
    }

    #[test]
    fn retry_after_is_passed_on() {
        let limited = Reply { status: 429, retry_after: Some(Duration::from_secs(2)), ..Reply::default() };
        assert_eq!(classify(&OPENAI, &limited, KEY), Verdict::Retry("HTTP 429".into(), Some(Duration::from_secs(2))));
    }
}
