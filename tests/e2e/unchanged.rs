//! `--datastore` on a history that has not changed since the last recorded scan: answered from
//! the datastore without reading a blob, with the report a full scan gives, while any change of
//! a ref, of `HEAD` or of the filters is seen.

use crate::harness::{FakeKeys, Run, TestEnv};

const UNCHANGED: &str = "unchanged since the datastore's last scan";

/// A repository with a key on `main` and a second key only on branch `side`.
fn repo_with_keys(keys: &mut FakeKeys) -> TestEnv {
    let env = TestEnv::git_repo();
    env.write("app/.env", format!("OPENAI_API_KEY={}\n", keys.project_key()));
    env.write("README.md", "hello\n");
    env.commit_all("first");
    env.git(&["branch", "side"]);
    env.git(&["checkout", "-q", "side"]);
    env.write("deploy/prod.env", format!("OPENAI_API_KEY={}\n", keys.project_key()));
    env.commit_all("on side");
    env.git(&["checkout", "-q", "-"]);
    env.write("src/main.rs", "fn main() {}\n");
    env.commit_all("second");
    env
}

/// `keyhound history` in the repository with `args`, with the datastore outside it when `db`.
fn history(env: &TestEnv, db: Option<&TestEnv>, args: &[&str]) -> Run {
    let path = db.map(|db| db.path().join("k.db").to_str().unwrap().to_string());
    let mut all = vec!["history"];
    all.extend_from_slice(args);
    if let Some(path) = &path {
        all.extend(["--datastore", path.as_str()]);
    }
    env.run(&all)
}

#[test]
fn an_unchanged_history_is_answered_without_a_walk_with_the_report_of_a_full_scan() {
    let env = repo_with_keys(&mut FakeKeys::new(301));
    let db = TestEnv::new();
    for args in [&["--format", "json"][..], &[], &["--group-by", "location", "--format", "json"]] {
        let full = history(&env, None, args);
        full.expect_code(1);
        history(&env, Some(&db), args).expect_code(1);
        let again = history(&env, Some(&db), args);
        again.expect_code(1);
        assert!(again.stderr.contains(UNCHANGED), "{args:?}: {}", again.stderr);
        assert!(again.stderr.contains("(0 blobs, 0 B"), "{}", again.stderr);
        assert_eq!(again.stdout, full.stdout, "{args:?}");
    }
}

#[test]
fn a_new_branch_or_a_moved_head_is_seen_though_no_blob_is_new() {
    let env = repo_with_keys(&mut FakeKeys::new(302));
    let db = TestEnv::new();
    history(&env, Some(&db), &["--format", "json"]).expect_code(1);
    env.git(&["branch", "release", "side"]);
    let branched = history(&env, Some(&db), &["--format", "json"]);
    assert!(!branched.stderr.contains(UNCHANGED), "{}", branched.stderr);
    let side_key = branched.findings().into_iter().find(|f| f["path"] == "deploy/prod.env").unwrap();
    assert_eq!(side_key["exposure"]["refs"], serde_json::json!(["release", "side"]));
    env.git(&["checkout", "-q", "release"]);
    let moved = history(&env, Some(&db), &["--format", "json"]);
    assert!(!moved.stderr.contains(UNCHANGED), "{}", moved.stderr);
    let side_key = moved.findings().into_iter().find(|f| f["path"] == "deploy/prod.env").unwrap();
    assert_eq!(side_key["exposure"]["in_head"], true);
    assert!(history(&env, Some(&db), &["--format", "json"]).stderr.contains(UNCHANGED));
}

#[test]
fn filters_changed_since_the_recorded_scan_apply_to_its_answer() {
    let env = repo_with_keys(&mut FakeKeys::new(303));
    let db = TestEnv::new();
    assert_eq!(history(&env, Some(&db), &["--format", "json"]).findings().len(), 2);
    env.write(".keyhound.toml", "[allowlist]\npaths = [\"deploy/**\"]\n");
    let filtered = history(&env, Some(&db), &["--format", "json"]);
    assert!(filtered.stderr.contains(UNCHANGED), "{}", filtered.stderr);
    let paths: Vec<_> = filtered.findings().iter().map(|f| f["path"].as_str().unwrap().to_string()).collect();
    assert_eq!(paths, ["app/.env"]);
    std::fs::remove_file(env.path().join(".keyhound.toml")).unwrap();
    assert_eq!(history(&env, Some(&db), &["--format", "json"]).findings().len(), 2, "and no longer");
}

#[test]
fn new_rules_or_options_scan_again() {
    let env = repo_with_keys(&mut FakeKeys::new(304));
    let db = TestEnv::new();
    history(&env, Some(&db), &["--format", "json"]).expect_code(1);
    let smaller = history(&env, Some(&db), &["--format", "json", "--max-file-size", "1KiB"]);
    assert!(!smaller.stderr.contains(UNCHANGED), "{}", smaller.stderr);
    let range = history(&env, Some(&db), &["--format", "json", "--range", "HEAD~1..HEAD"]);
    assert!(!range.stderr.contains(UNCHANGED), "{}", range.stderr);
}

#[test]
fn a_datastore_asked_to_keep_secrets_reads_again_what_it_recorded_without_them() {
    let mut keys = FakeKeys::new(305);
    let env = repo_with_keys(&mut keys);
    let db = TestEnv::new();
    history(&env, Some(&db), &["--format", "json"]).expect_code(1);
    let kept = history(&env, Some(&db), &["--format", "json", "--store-secrets", "--show-secrets"]);
    assert!(!kept.stderr.contains(UNCHANGED) && !kept.stderr.contains("(0 blobs"), "{}", kept.stderr);
    let key = FakeKeys::new(305).project_key();
    assert!(kept.findings().iter().any(|f| f["secret"] == key.as_str()), "{}", kept.stdout);
    let path = db.path().join("k.db");
    let report = env.run(&["report", "--datastore", path.to_str().unwrap(), "--format", "json", "--show-secrets"]);
    assert!(report.stdout.contains(&key), "{}", report.stdout);
}

/// `file://` URL of a repository.
fn file_url(env: &TestEnv) -> String {
    format!("file://{}", env.path().to_str().expect("temp paths are UTF-8"))
}

/// Moves the remote's objects away: a clone fails from then on, listing its refs does not.
fn break_objects(env: &TestEnv) {
    let objects = env.path().join(".git/objects");
    std::fs::rename(&objects, env.path().join("objects.away")).unwrap();
    std::fs::create_dir(&objects).unwrap();
}

#[test]
fn an_unchanged_remote_is_answered_from_its_advertised_refs_without_a_clone() {
    let remote = repo_with_keys(&mut FakeKeys::new(306));
    let (place, db) = (TestEnv::new(), TestEnv::new());
    let url = file_url(&remote);
    let first = history(&place, Some(&db), &["--format", "json", &url]);
    first.expect_code(1);
    let head = remote.git(&["rev-parse", "HEAD"]);
    break_objects(&remote);
    let again = history(&place, Some(&db), &["--format", "json", &url]);
    again.expect_code(1);
    assert!(again.stderr.contains(UNCHANGED) && again.stderr.contains("not cloned"), "{}", again.stderr);
    assert_eq!(again.stdout, first.stdout);
    // A new branch, written as git would (git itself refuses without the objects).
    remote.write(".git/refs/heads/release", head);
    let moved = history(&place, Some(&db), &["--format", "json", &url]);
    moved.expect_code(2);
    assert!(moved.stderr.contains("could not clone"), "a new ref is a new clone\n{}", moved.stderr);
}

#[test]
fn a_re_audit_of_an_unchanged_remote_does_not_clone_it() {
    let remote = repo_with_keys(&mut FakeKeys::new(307));
    let place = TestEnv::new();
    place.write("repos.txt", format!("{}\n", file_url(&remote)));
    let audit = || place.run(&["audit", "--repos", "repos.txt", "--format", "json"]);
    let first = audit();
    first.expect_code(1);
    break_objects(&remote);
    let again = audit();
    again.expect_code(1);
    assert_eq!(again.stdout, first.stdout);
    assert!(again.stderr.contains("0 failed"), "{}", again.stderr);
}

#[test]
fn an_unchanged_answer_leaves_the_datastore_as_it_was() {
    let env = repo_with_keys(&mut FakeKeys::new(308));
    let db = TestEnv::new();
    history(&env, Some(&db), &["--format", "json"]).expect_code(1);
    let before = std::fs::read(db.path().join("k.db")).unwrap();
    let again = history(&env, Some(&db), &["--format", "json"]);
    assert!(again.stderr.contains(UNCHANGED), "{}", again.stderr);
    assert!(std::fs::read(db.path().join("k.db")).unwrap() == before, "the answer rewrote the datastore");
}
