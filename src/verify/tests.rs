//! Verification against a real HTTP server on 127.0.0.1 that imitates the providers.

use std::time::{Duration, Instant};

use super::*;
use crate::finding::fingerprint;

// Shared with the end-to-end tests, where its items are the test crate's API.
#[allow(unreachable_pub)]
#[path = "../../tests/e2e/mock_provider.rs"]
mod mock_provider;

use mock_provider::{Answer, MockProvider};

/// A finding of `rule_id` holding `secret` (the verifier never looks at the key's shape, so
/// test keys are plain words).
fn finding(rule_id: &str, secret: &str, path: &str) -> Finding {
    let mut finding = crate::report::test_support::finding(path, 1);
    finding.rule_id = rule_id.into();
    finding.secret = secret.into();
    finding.prefix_len = 0;
    finding.fingerprint = fingerprint(rule_id, secret.as_bytes());
    finding
}

/// Fast options aimed at the mock.
fn options(mock: &MockProvider) -> VerifyOptions {
    VerifyOptions {
        base_url: Some(options::BaseUrl::parse(&mock.base_url()).unwrap()),
        timeout: Duration::from_millis(300),
        attempts: 3,
        backoff: Duration::from_millis(10),
        max_backoff: Duration::from_millis(40),
        per_host_interval: Duration::ZERO,
        ..VerifyOptions::default()
    }
}

/// Verifies one finding per (rule, key) and returns the verification of each, in order.
fn verify(mock: &MockProvider, keys: &[(&str, &str)]) -> Vec<Verification> {
    let findings: Vec<Finding> = keys.iter().map(|(rule, key)| finding(rule, key, "f")).collect();
    let verifications = verify_findings(&findings, &options(mock));
    for verification in verifications.values() {
        assert!(keys.iter().all(|(_, key)| !verification.detail.contains(key)), "key in {verification:?}");
    }
    findings.iter().map(|f| verifications[&f.fingerprint].clone()).collect()
}

fn script(entries: &[(&str, Vec<Answer>)]) -> Vec<(String, Vec<Answer>)> {
    entries.iter().map(|(key, answers)| (key.to_string(), answers.clone())).collect()
}

#[test]
fn every_openai_answer_maps_to_its_state_and_transient_ones_are_retried_a_bounded_number_of_times() {
    let cases = [
        ("k-live", Answer::json(200, r#"{"object":"list","data":[]}"#), State::Live, 1),
        ("k-revoked", Answer::openai_error(401, "invalid_api_key"), State::Invalid, 1),
        ("k-ip", Answer::openai_error(401, ""), State::Restricted, 1),
        ("k-403", Answer::openai_error(403, "unsupported_country_region_territory"), State::Restricted, 1),
        ("k-quota", Answer::openai_error(429, "insufficient_quota"), State::OutOfCredit, 1),
        ("k-rate", Answer::openai_error(429, "rate_limit_exceeded"), State::Unknown, 3),
        ("k-500", Answer::json(500, "{}"), State::Unknown, 3),
        ("k-hang", Answer::hang(), State::Unknown, 3),
    ];
    let entries: Vec<(&str, Vec<Answer>)> =
        cases.iter().map(|(key, answer, ..)| (*key, vec![answer.clone()])).collect();
    let mock = MockProvider::start(script(&entries), Duration::ZERO);
    let keys: Vec<(&str, &str)> = cases.iter().map(|(key, ..)| ("openai-api-key", *key)).collect();
    let started = Instant::now();
    let results = verify(&mock, &keys);
    for ((key, _, state, requests), result) in cases.iter().zip(&results) {
        assert_eq!(result.state, *state, "{key}: {result:?}");
        assert_eq!(result.provider, Some("openai"));
        assert_eq!(mock.requests_for(key), *requests, "{key}");
    }
    assert_eq!(results[1].detail, "HTTP 401 invalid_api_key");
    assert_eq!(results[5].detail, "HTTP 429 rate_limit_exceeded (gave up after 3 attempts)");
    assert_eq!(results[7].detail, "timed out (gave up after 3 attempts)");
    // Three 300 ms timeouts and two short pauses: the hang costs about a second, not HANG.
    assert!(started.elapsed() < Duration::from_millis(2500), "{:?}", started.elapsed());
    for request in mock.requests() {
        assert_eq!(request.path, "/v1/models");
        assert_eq!(request.header("authorization"), Some(format!("Bearer {}", request.key.clone().unwrap()).as_str()));
    }
}

#[test]
fn a_transient_failure_followed_by_an_answer_is_that_answer() {
    let answers = vec![
        Answer::openai_error(429, "rate_limit_exceeded").with_header("retry-after", "0"),
        Answer::json(503, "{}"),
        Answer::json(200, "{}"),
    ];
    let mock = MockProvider::start(script(&[("k", answers)]), Duration::ZERO);
    let result = &verify(&mock, &[("openai-api-key", "k")])[0];
    assert_eq!((result.state, result.detail.as_str()), (State::Live, "HTTP 200"));
    assert_eq!(mock.requests_for("k"), 3);
}

#[test]
fn admin_keys_are_checked_on_the_admin_endpoint() {
    let mock = MockProvider::start(script(&[("k-admin", vec![Answer::json(200, r#"{"data":[]}"#)])]), Duration::ZERO);
    assert_eq!(verify(&mock, &[("openai-admin-key", "k-admin")])[0].state, State::Live);
    assert_eq!(mock.requests()[0].path, "/v1/organization/admin_api_keys?limit=1");
}

#[test]
fn other_providers_are_asked_their_own_way() {
    let limited =
        Answer::json(403, r#"{"message":"API rate limit exceeded"}"#).with_header("x-ratelimit-remaining", "0");
    let anthropic_invalid = r#"{"type":"error","error":{"type":"authentication_error","message":"invalid x-api-key"}}"#;
    let mock = MockProvider::start(
        script(&[
            ("a-live", vec![Answer::json(200, r#"{"data":[]}"#)]),
            ("a-bad", vec![Answer::json(401, anthropic_invalid)]),
            ("hf-bad", vec![Answer::json(401, r#"{"error":"Invalid credentials in Authorization header"}"#)]),
            ("groq-live", vec![Answer::json(200, r#"{"data":[]}"#)]),
            ("or-empty", vec![Answer::json(200, r#"{"data":{"label":"x","limit_remaining":0}}"#)]),
            ("gh-forbidden", vec![Answer::json(403, r#"{"message":"Resource not accessible"}"#)]),
            ("gh-limited", vec![limited]),
        ]),
        Duration::ZERO,
    );
    let cases = [
        ("anthropic-api-key", "a-live", State::Live, "/v1/models"),
        ("anthropic-api-key", "a-bad", State::Invalid, "/v1/models"),
        ("huggingface-access-token", "hf-bad", State::Invalid, "/api/whoami-v2"),
        ("groq-api-key", "groq-live", State::Live, "/openai/v1/models"),
        ("openrouter-api-key", "or-empty", State::OutOfCredit, "/api/v1/key"),
        ("github-pat", "gh-forbidden", State::Restricted, "/user"),
        ("github-pat", "gh-limited", State::Unknown, "/user"),
    ];
    let keys: Vec<(&str, &str)> = cases.iter().map(|(rule, key, ..)| (*rule, *key)).collect();
    let results = verify(&mock, &keys);
    let requests = mock.requests();
    for ((rule, key, state, path), result) in cases.iter().zip(&results) {
        assert_eq!(result.state, *state, "{rule} {key}: {result:?}");
        assert!(requests.iter().filter(|r| r.key.as_deref() == Some(key)).all(|r| r.path == *path), "{key}");
    }
    assert_eq!(mock.requests_for("gh-limited"), 3, "a GitHub 403 rate limit is retried");
    let anthropic = requests.iter().find(|r| r.key.as_deref() == Some("a-live")).unwrap();
    assert_eq!(anthropic.header("x-api-key"), Some("a-live"));
    assert_eq!(anthropic.header("anthropic-version"), Some("2023-06-01"));
    assert_eq!(anthropic.header("authorization"), None);
    let github = requests.iter().find(|r| r.key.as_deref() == Some("gh-forbidden")).unwrap();
    assert_eq!(github.header("accept"), Some("application/vnd.github+json"));
}

#[test]
fn each_distinct_secret_is_checked_once_and_live_keys_come_first() {
    let mock = MockProvider::start(
        script(&[
            ("k-dead", vec![Answer::openai_error(401, "invalid_api_key")]),
            ("k-live", vec![Answer::json(200, "{}")]),
        ]),
        Duration::ZERO,
    );
    let findings = vec![
        finding("openai-api-key", "k-dead", "a"),
        finding("openai-realtime-client-secret", "ek", "b"),
        finding("openai-api-key", "k-live", "c"),
        finding("openai-api-key", "k-live", "d"),
        finding("openai-api-key", "k-dead", "e"),
    ];
    let verified = super::verify(&findings, &options(&mock));
    let paths: Vec<&str> = verified.live_first.iter().map(|&index| findings[index].path.as_str()).collect();
    assert_eq!(paths, ["c", "d", "a", "b", "e"]);
    assert_eq!((mock.requests_for("k-live"), mock.requests_for("k-dead"), mock.requests().len()), (1, 1, 2));
    let counts = tally(&verified.verifications);
    assert_eq!(counts.get(&State::Live), Some(&1));
    assert_eq!(counts.get(&State::Invalid), Some(&1));
    let unsupported = &verified.verifications[&findings[1].fingerprint];
    assert_eq!((unsupported.state, unsupported.provider), (State::Unsupported, None));
}

#[test]
fn concurrency_per_host_is_bounded() {
    let keys: Vec<String> = (0..12).map(|i| format!("k-{i}")).collect();
    let entries: Vec<(&str, Vec<Answer>)> = keys.iter().map(|k| (k.as_str(), vec![Answer::json(200, "{}")])).collect();
    let mock = MockProvider::start(script(&entries), Duration::from_millis(150));
    let findings: Vec<Finding> = keys.iter().map(|key| finding("openai-api-key", key, "f")).collect();
    let options = VerifyOptions { concurrency: 8, per_host: 3, ..options(&mock) };
    let options = VerifyOptions { timeout: Duration::from_secs(5), ..options };
    let verifications = verify_findings(&findings, &options);
    assert!(verifications.values().all(|v| v.state == State::Live), "{verifications:?}");
    assert_eq!(mock.requests().len(), 12);
    let peak = mock.peak_connections();
    assert!((2..=3).contains(&peak), "peak of {peak} connections with a limit of 3");
}

#[test]
fn no_verifier_means_no_request() {
    let mock = MockProvider::start(Vec::new(), Duration::ZERO);
    let result = &verify(&mock, &[("openai-realtime-client-secret", "ek")])[0];
    assert_eq!(
        (result.state, result.detail.as_str()),
        (State::Unsupported, "no verifier for rule openai-realtime-client-secret")
    );
    assert!(mock.requests().is_empty());
}
