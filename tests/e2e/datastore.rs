//! `--datastore`: incremental history scans that read only blobs the datastore does not hold
//! and report what a full scan would, with no secret in the file by default.

use crate::harness::{FakeKeys, Run, TestEnv};

/// A repository with a key in one file of the first commit and clean files around it.
pub(crate) fn repo_with_key(key: &str) -> TestEnv {
    let env = TestEnv::git_repo();
    env.write("app/.env", format!("OPENAI_API_KEY={key}\n"));
    env.write("README.md", "hello\n");
    env.commit_all("first");
    env.write("src/main.rs", "fn main() {}\n");
    env.commit_all("second");
    env
}

/// `keyhound history --format json --datastore DB` in the repository, the datastore outside it.
pub(crate) fn history(env: &TestEnv, db: &TestEnv, extra: &[&str]) -> Run {
    let path = db.path().join("k.db");
    let mut args = vec!["history", "--format", "json", "--datastore", path.to_str().unwrap()];
    args.extend_from_slice(extra);
    env.run(&args)
}

/// Every byte of every file of the datastore (the database and any journal beside it).
pub(crate) fn datastore_bytes(db: &TestEnv) -> Vec<u8> {
    let mut bytes = Vec::new();
    for entry in std::fs::read_dir(db.path()).unwrap() {
        bytes.extend(std::fs::read(entry.unwrap().path()).unwrap());
    }
    bytes
}

pub(crate) fn holds(haystack: &[u8], needle: &str) -> bool {
    haystack.windows(needle.len()).any(|window| window == needle.as_bytes())
}

#[test]
fn an_unchanged_repository_is_scanned_again_without_reading_a_blob_and_reports_the_same() {
    let key = FakeKeys::new(181).project_key();
    let (env, db) = (repo_with_key(&key), TestEnv::new());
    let first = history(&env, &db, &[]);
    first.expect_code(1);
    assert!(first.stderr.contains("(3 blobs"), "{}", first.stderr);
    let again = history(&env, &db, &[]);
    again.expect_code(1);
    assert!(again.stderr.contains("(0 blobs, 0 B"), "{}", again.stderr);
    assert_eq!(again.findings(), first.findings());
    assert_eq!(first.findings().len(), 1);
    assert_eq!(first.findings()[0]["path"], "app/.env");
}

#[test]
fn after_a_new_commit_only_its_blobs_are_scanned_and_its_key_is_reported() {
    let mut keys = FakeKeys::new(182);
    let (old, new) = (keys.project_key(), keys.project_key());
    let (env, db) = (repo_with_key(&old), TestEnv::new());
    history(&env, &db, &[]).expect_code(1);
    env.write("deploy/secrets.env", format!("OPENAI_API_KEY={new}\n"));
    let commit = env.commit_all("add deploy");
    let run = history(&env, &db, &[]);
    run.expect_code(1);
    assert!(run.stderr.contains("(1 blob,"), "{}", run.stderr);
    let findings = run.findings();
    let mut paths: Vec<&str> = findings.iter().map(|f| f["path"].as_str().unwrap()).collect();
    paths.sort();
    assert_eq!(paths, ["app/.env", "deploy/secrets.env"]);
    let added = findings.iter().find(|f| f["path"] == "deploy/secrets.env").unwrap();
    assert_eq!(added["commit"]["id"], commit.as_str());
    let full = env.run(&["history", "--format", "json"]);
    assert_eq!(findings, full.findings(), "the same as a scan without the datastore");
}

#[test]
fn the_datastore_holds_no_secret_unless_asked() {
    let key = FakeKeys::new(183).project_key();
    let (env, db) = (repo_with_key(&key), TestEnv::new());
    history(&env, &db, &[]).expect_code(1);
    let bytes = datastore_bytes(&db);
    assert!(!bytes.is_empty());
    assert!(!holds(&bytes, &key), "the key is in the datastore");
    let kept = TestEnv::new();
    history(&env, &kept, &["--store-secrets"]).expect_code(1);
    assert!(holds(&datastore_bytes(&kept), &key), "--store-secrets keeps the key");
}

#[test]
fn a_datastore_records_whole_histories_only() {
    let key = FakeKeys::new(184).project_key();
    let (env, db) = (repo_with_key(&key), TestEnv::new());
    let run = history(&env, &db, &["--since", "HEAD~1"]);
    run.expect_code(2);
    assert!(run.stderr.contains("cannot be used with"), "{}", run.stderr);
}

#[test]
fn verify_with_a_datastore_needs_the_secrets_stored() {
    let key = FakeKeys::new(185).project_key();
    let (env, db) = (repo_with_key(&key), TestEnv::new());
    let run = history(&env, &db, &["--verify"]);
    run.expect_code(2);
    assert!(run.stderr.contains("needs --store-secrets"), "{}", run.stderr);
}
