//! `--verify`: the real binary against a mock of the providers on 127.0.0.1.

use std::time::Duration;

use crate::harness::{FakeKeys, Run, TestEnv};
use crate::mock_provider::{Answer, MockProvider};

/// A tree with one file per key, and the mock answering for each key.
struct Setup {
    env: TestEnv,
    mock: MockProvider,
    keys: Vec<String>,
}

/// Files `a.py`.. each holding the key of the answer at the same index; the key of index 0
/// is also in `z.py`, so one key sits in two places.
fn setup(answers: Vec<Answer>) -> Setup {
    let env = TestEnv::new();
    let mut fake = FakeKeys::new(70);
    let keys: Vec<String> = answers.iter().map(|_| fake.project_key()).collect();
    for (i, key) in keys.iter().enumerate() {
        env.write(&format!("{}.py", (b'a' + i as u8) as char), format!("OPENAI_API_KEY = \"{key}\"\n"));
    }
    env.write("z.py", format!("key = '{}'\n", keys[0]));
    let script = keys.iter().cloned().zip(answers.into_iter().map(|answer| vec![answer])).collect();
    Setup { env, mock: MockProvider::start(script, Duration::ZERO), keys }
}

impl Setup {
    fn assert_no_key_in(&self, run: &Run) {
        for key in &self.keys {
            assert!(!run.stdout.contains(key.as_str()) && !run.stderr.contains(key.as_str()), "a key leaked");
        }
    }
}

#[test]
fn every_state_is_reported_each_key_is_checked_once_and_live_keys_come_first() {
    let setup = setup(vec![
        Answer::json(200, r#"{"data":[]}"#),
        Answer::openai_error(401, "invalid_api_key"),
        Answer::openai_error(429, "insufficient_quota"),
        Answer::hang(),
        Answer::openai_error(401, ""),
        Answer::openai_error(429, "rate_limit_exceeded").with_header("retry-after", "1"),
    ]);
    let base = setup.mock.base_url();
    let args = ["scan", "--verify", "--verify-base-url", &base, "--verify-timeout", "0.5", "--format", "json"];
    let run = setup.env.run(&args);
    run.expect_code(1);
    setup.assert_no_key_in(&run);
    let findings = run.findings();
    let order: Vec<(&str, &str)> =
        findings.iter().map(|f| (f["path"].as_str().unwrap(), f["verification"]["state"].as_str().unwrap())).collect();
    let expected = [
        ("a.py", "live"),
        ("c.py", "out-of-credit"),
        ("e.py", "restricted"),
        ("z.py", "live"),
        ("b.py", "invalid"),
        ("d.py", "unknown"),
        ("f.py", "unknown"),
    ];
    assert_eq!(order, expected);
    assert_eq!(findings[4]["verification"]["detail"], "HTTP 401 invalid_api_key");
    assert_eq!(findings[5]["verification"]["detail"], "timed out (gave up after 3 attempts)");
    assert_eq!(findings[0]["verification"]["provider"], "openai");
    assert_eq!(setup.mock.requests_for(&setup.keys[0]), 1, "one check for a key found twice");
    assert_eq!(setup.mock.requests_for(&setup.keys[3]), 3, "a hang is retried, then given up");
    assert_eq!(findings[6]["verification"]["detail"], "HTTP 429 rate_limit_exceeded (gave up after 3 attempts)");
    assert_eq!(setup.mock.requests().len(), 10, "every request reached the mock, and only those");
    for request in setup.mock.requests() {
        assert_eq!(request.path, "/v1/models");
        assert!(request.header("authorization").is_some_and(|v| v.starts_with("Bearer sk-proj-")));
        assert!(request.headers.iter().any(|(name, value)| name == "user-agent" && value.starts_with("keyhound/")));
    }
    assert!(setup.mock.peak_connections() <= 4, "the default limit is 4 requests at once per host");
    assert!(
        run.stderr.contains(
            "warning: verified 6 distinct keys: 1 live, 1 restricted, 1 out-of-credit, 1 invalid, 2 unknown; revoke"
        ),
        "{}",
        run.stderr
    );
}

#[test]
fn text_report_shows_the_state_and_how_to_fix_once_per_rule() {
    let setup = setup(vec![Answer::json(200, "{}"), Answer::openai_error(401, "invalid_api_key")]);
    let mut command = setup.env.keyhound();
    command.env("KEYHOUND_VERIFY_BASE_URL_OPENAI", setup.mock.base_url()).args(["scan", "--verify"]);
    // A loopback override is contacted directly, never through a proxy (port 9 is closed).
    for proxy in ["ALL_PROXY", "HTTPS_PROXY", "HTTP_PROXY"] {
        command.env(proxy, "http://127.0.0.1:9");
    }
    let run = Run::of(command.output().unwrap());
    run.expect_code(1);
    setup.assert_no_key_in(&run);
    assert!(run.stdout.starts_with("a.py:1:19: OpenAI API key"), "live key first:\n{}", run.stdout);
    assert!(
        run.stdout.contains("    verified: LIVE: the key works, revoke it now [openai: HTTP 200]\n"),
        "{}",
        run.stdout
    );
    assert!(run
        .stdout
        .contains("    verified: invalid: revoked or never a real key [openai: HTTP 401 invalid_api_key]\n"));
    assert_eq!(run.stdout.matches("How to fix\n").count(), 1);
    assert_eq!(run.stdout.matches("  OpenAI API key [openai-api-key]\n").count(), 1);
    assert!(run.stdout.contains("platform.openai.com/usage"), "{}", run.stdout);
    assert_eq!(setup.mock.requests().len(), 2);
}

#[test]
fn without_verify_nothing_is_sent() {
    let setup = setup(vec![Answer::json(200, "{}")]);
    let mut command = setup.env.keyhound();
    command.env("KEYHOUND_VERIFY_BASE_URL_OPENAI", setup.mock.base_url()).args(["scan", "--format", "json"]);
    let run = Run::of(command.output().unwrap());
    assert_eq!(run.expect_code(1).findings()[0]["verification"], serde_json::Value::Null);
    assert!(!run.stdout.contains("verified") && !run.stderr.contains("verified"));
    assert!(setup.mock.requests().is_empty());
}

#[test]
fn hooks_and_staged_refuse_verify() {
    let setup = setup(vec![Answer::json(200, "{}")]);
    let base = setup.mock.base_url();
    for args in [
        vec!["staged", "--verify"],
        vec!["hook", "install", "--verify"],
        vec!["staged", "--verify", "--verify-base-url", &base],
    ] {
        let run = setup.env.run(&args);
        run.expect_code(2);
        assert!(run.stderr.contains("--verify is not available for `keyhound"), "{args:?}: {}", run.stderr);
    }
    assert!(setup.mock.requests().is_empty());
}

#[test]
fn bad_verify_options_are_usage_errors() {
    let env = TestEnv::new();
    let run = env.run(&["scan", "--verify", "--verify-base-url", "http://example.com"]);
    run.expect_code(2);
    assert!(
        run.stderr.contains("--verify-base-url: plain http:// is allowed only to a loopback address"),
        "{}",
        run.stderr
    );
    let run = env.run(&["scan", "--verify-base-url", "https://proxy.example.com"]);
    run.expect_code(2);
    assert!(run.stderr.contains("--verify"), "{}", run.stderr);
    env.run(&["scan", "--verify", "--verify-timeout", "0"]).expect_code(2);
}

#[test]
fn other_providers_keys_are_verified_through_their_rules() {
    let env = TestEnv::new();
    let token = format!(
        "ghp_{}",
        FakeKeys::new(71).segment(36, b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789")
    );
    env.write(".github/workflows/ci.yml", format!("env:\n  GITHUB_TOKEN: {token}\n"));
    let mock = MockProvider::start(
        vec![(token.clone(), vec![Answer::json(401, r#"{"message":"Bad credentials"}"#)])],
        Duration::ZERO,
    );
    let run = env.run(&["scan", "--verify", "--verify-base-url", &mock.base_url(), "--format", "json"]);
    let findings = run.expect_code(1).findings();
    assert_eq!(findings[0]["rule"], "github-pat");
    assert_eq!(
        findings[0]["verification"],
        serde_json::json!({"state": "invalid", "provider": "github", "detail": "HTTP 401"})
    );
    let requests = mock.requests();
    assert_eq!((requests.len(), requests[0].path.as_str()), (1, "/user"));
    assert_eq!(requests[0].header("accept"), Some("application/vnd.github+json"));
    assert!(!run.stdout.contains(&token) && !run.stderr.contains(&token));
}

#[test]
fn history_checks_a_key_once_however_many_commits_hold_it() {
    let env = TestEnv::git_repo();
    let key = FakeKeys::new(72).project_key();
    env.write("settings.py", format!("KEY = '{key}'\n"));
    env.commit_all("add key");
    env.write("copy/settings.py", format!("# moved\nKEY = '{key}'\n"));
    env.git(&["rm", "-q", "settings.py"]);
    env.commit_all("move key");
    let mock =
        MockProvider::start(vec![(key.clone(), vec![Answer::openai_error(401, "invalid_api_key")])], Duration::ZERO);
    let base_url = mock.base_url();
    let args = ["history", "--verify", "--verify-base-url", &base_url, "--format", "json", "--group-by", "location"];
    let run = env.run(&args);
    let findings = run.expect_code(1).findings();
    assert_eq!(findings.len(), 2, "{}", run.stdout);
    assert!(findings.iter().all(|f| f["verification"]["state"] == "invalid"), "{}", run.stdout);
    assert_eq!(mock.requests_for(&key), 1);
}
