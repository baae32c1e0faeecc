//! No secret in any output, including commit metadata and verification details.

use std::time::Duration;

use keyhound::decode::base64::encode as base64;
use serde_json::Value;

use crate::harness::{FakeKeys, Run, TestEnv};
use crate::mock_provider::{Answer, MockProvider};

/// An OpenAI project key (fake), assembled so that this file holds no key-shaped literal.
fn k() -> String {
    ["sk-proj-PM15uelHFAKEaZhX4lp4", "T3BlbkFJZuDigFAKETTIDVrZfryt"].concat()
}

/// A DeepSeek-shaped key (fake); the rule reports it only with `deepseek` nearby.
fn ds() -> String {
    ["sk-c03b40fca2f9", "03fb6ac49f239da2d17d"].concat()
}

/// Every report format.
const FORMATS: [&str; 8] = ["text", "json", "jsonl", "sarif", "github", "junit", "codequality", "csv"];

/// Asserts that none of `secrets` appears in the run's output.
fn assert_hidden(run: &Run, secrets: &[&str], what: &str) {
    for secret in secrets {
        assert!(
            !run.stdout.contains(secret) && !run.stderr.contains(secret),
            "{what}: {secret} leaked\nstdout:\n{}\nstderr:\n{}",
            run.stdout,
            run.stderr
        );
    }
}

/// A repository whose commit metadata holds keys: DS in a summary line with `deepseek` only in
/// the body, base64(K) in a summary, K in an author name (whose commit adds a key file, so the
/// author is shown) with DS in the email beside `deepseek`, and DS in a tag message's first line.
fn repo_with_keys_in_metadata() -> TestEnv {
    let (k, ds) = (k(), ds());
    let env = TestEnv::git_repo();
    env.write("README", "one\n");
    env.commit_all(&format!("rotate {ds}\n\nthe deepseek client reads it from the vault"));
    env.write("README", "two\n");
    env.commit_all(&format!("config {}\n\nplain body", base64(k.as_bytes())));
    env.write("app/settings.py", format!("OPENAI_API_KEY = \"{}\"\n", FakeKeys::project_key_of(13)));
    env.git(&["add", "-A"]);
    env.git(&["commit", "-q", "--author", &format!("Mallory {k} <{ds}@deepseek.example>"), "-m", "add settings"]);
    env.git(&["tag", "-a", "v1", "-m", &format!("ship {ds}\n\nbuilt with the deepseek client")]);
    env
}

#[test]
fn commit_summaries_authors_and_encoded_keys_are_redacted_in_every_format() {
    let env = repo_with_keys_in_metadata();
    let (k, ds) = (k(), ds());
    let encoded = base64(k.as_bytes());
    let hidden = [k.as_str(), &ds, &encoded[..40]];
    for format in FORMATS {
        let run = env.run(&["history", "--format", format]);
        run.expect_code(1);
        assert_hidden(&run, &hidden, format);
    }
    let findings = env.run(&["history", "--format", "json", "--group-by", "location"]).findings();
    let found = |rule: &str, path: &str| findings.iter().find(|f| f["rule"] == rule && f["path"] == path);
    let deepseek = found("deepseek-api-key", "<commit message>").expect("the DeepSeek key in a message is reported");
    assert!(deepseek["commit"]["summary"].as_str().unwrap().starts_with("rotate sk-…"), "{deepseek}");
    let decoded = found("openai-api-key", "<commit message>").expect("the base64 key in a message is reported");
    assert_eq!(decoded["decoded"], "base64");
    assert!(decoded["commit"]["summary"].as_str().unwrap().starts_with("config …"), "{decoded}");
    let tag = found("deepseek-api-key", "<tag message: v1>").expect("the key in a tag message is reported");
    assert!(tag["commit"]["summary"].as_str().unwrap().starts_with("ship sk-…"), "{tag}");
    let settings = found("openai-api-key", "app/settings.py").expect("the key file is reported");
    assert!(settings["commit"]["author"].as_str().unwrap().starts_with("Mallory sk-proj-…"), "{settings}");
    assert!(settings["commit"]["email"].as_str().unwrap().ends_with("@deepseek.example"), "{settings}");
}

/// A tree with K and a second key, and a mock provider that answers each with the key itself
/// as its error code.
fn echoing_provider() -> (TestEnv, MockProvider, String) {
    let env = TestEnv::new();
    let other = FakeKeys::project_key_of(14);
    let k = k();
    env.write("a.py", format!("OPENAI_API_KEY = \"{k}\"\n"));
    env.write("b.py", format!("OPENAI_API_KEY = \"{other}\"\n"));
    let script = vec![
        (k.clone(), vec![Answer::openai_error(401, &k)]),
        (other.clone(), vec![Answer::openai_error(403, &other.to_ascii_lowercase())]),
    ];
    (env, MockProvider::start(script, Duration::ZERO), other)
}

#[test]
fn a_provider_answering_with_the_key_as_its_code_never_gets_it_printed() {
    let (env, mock, other) = echoing_provider();
    let base = mock.base_url();
    for format in FORMATS {
        let run = env.run(&["scan", "--verify", "--verify-base-url", &base, "--format", format]);
        run.expect_code(1);
        assert_hidden(&run, &[&k(), &other, &other.to_ascii_lowercase()[8..40]], format);
    }
    let run = env.run(&["scan", "--verify", "--verify-base-url", &base, "--format", "json"]);
    let details: Vec<(Value, Value)> = run
        .findings()
        .iter()
        .map(|f| (f["verification"]["state"].clone(), f["verification"]["detail"].clone()))
        .collect();
    assert_eq!(details, [("restricted".into(), "HTTP 401".into()), ("restricted".into(), "HTTP 403".into())]);
}
