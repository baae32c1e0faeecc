//! What an incremental history scan must still get right: an allowlist on secrets added after
//! the first run, `--unreachable` with `--datastore`, the messages of commits and tags no ref
//! reaches, and the length of a recalled short secret.

use crate::datastore::{history, repo_with_key};
use crate::harness::{FakeKeys, Run, TestEnv};

/// The `path` of each finding, sorted.
fn paths(run: &Run) -> Vec<String> {
    let mut paths: Vec<String> = run.findings().iter().map(|f| f["path"].as_str().unwrap().to_string()).collect();
    paths.sort();
    paths
}

#[test]
fn a_secret_allowlisted_after_the_first_run_is_not_reported_from_the_datastore() {
    let key = FakeKeys::new(1801).project_key();
    // A regex over the whole key, and a stopword in a part of it a redacted form does not show.
    let allowlists = [format!("regexes = ['^{key}$']"), "stopwords = ['fake']".to_string()];
    for store_secrets in [&[][..], &["--store-secrets"][..]] {
        for allowlist in &allowlists {
            let (env, db) = (repo_with_key(&key), TestEnv::new());
            history(&env, &db, store_secrets).expect_code(1);
            env.write(".keyhound.toml", format!("[allowlist]\n{allowlist}\n"));
            let run = history(&env, &db, store_secrets);
            run.expect_code(0);
            assert!(run.stderr.contains("allowlisted secret"), "{allowlist}: {}", run.stderr);
            std::fs::remove_file(env.path().join(".keyhound.toml")).unwrap();
            assert_eq!(paths(&history(&env, &db, store_secrets)), ["app/.env"], "{allowlist} removed");
        }
    }
}

#[test]
fn a_path_allowlisted_after_the_first_run_applies_without_a_rescan() {
    let key = FakeKeys::new(1802).project_key();
    let (env, db) = (repo_with_key(&key), TestEnv::new());
    history(&env, &db, &[]).expect_code(1);
    env.write(".keyhound.toml", "[allowlist]\npaths = ['app/**']\n");
    let run = history(&env, &db, &[]);
    run.expect_code(0);
    assert!(run.stderr.contains("allowlisted path"), "{}", run.stderr);
    assert!(run.stderr.contains("(0 blobs, 0 B"), "no blob read again: {}", run.stderr);
}

/// A repository whose second commit, adding a key to `app/.env`, was amended away, with a
/// key in a blob no commit names. Returns the amended-away commit.
fn repo_with_unreachable_keys(env: &TestEnv, keys: &mut FakeKeys) -> String {
    env.write("README", "x\n");
    env.commit_all("first");
    env.write("app/.env", format!("OPENAI_API_KEY={}\n", keys.project_key()));
    let amended = env.commit_all("add config");
    env.git(&["rm", "-q", "app/.env"]);
    env.write("README", "y\n");
    env.git(&["add", "-A"]);
    env.git(&["commit", "-q", "--amend", "-m", "second"]);
    env.write("loose", format!("OPENAI_API_KEY={}\n", keys.project_key()));
    env.git(&["hash-object", "-w", "loose"]);
    std::fs::remove_file(env.path().join("loose")).unwrap();
    amended
}

#[test]
fn unreachable_findings_are_recalled_from_the_datastore() {
    let (env, db) = (TestEnv::git_repo(), TestEnv::new());
    let amended = repo_with_unreachable_keys(&env, &mut FakeKeys::new(1803));
    let first = history(&env, &db, &["--unreachable"]);
    first.expect_code(1);
    assert_eq!(first.findings().len(), 2, "{}", first.stdout);
    let again = history(&env, &db, &["--unreachable"]);
    again.expect_code(1);
    assert!(again.stderr.contains("(0 blobs, 0 B"), "no blob read again: {}", again.stderr);
    assert_eq!(again.findings(), first.findings());
    let db_path = db.path().join("k.db");
    let stored = env.run(&["report", "--datastore", db_path.to_str().unwrap(), "--format", "json"]);
    assert_eq!(stored.findings().len(), 2, "the report of the datastore holds them too: {}", stored.stdout);
    // A branch makes the amended-away commit reachable: its key is met, known, at a commit.
    env.git(&["branch", "kept", &amended]);
    let reached = history(&env, &db, &["--group-by", "location"]);
    reached.expect_code(1);
    let without = env.run(&["history", "--format", "json", "--group-by", "location"]);
    assert_eq!(reached.findings(), without.findings(), "as a scan without the datastore");
    assert_eq!(reached.findings()[0]["commit"]["id"], amended.as_str());
}

#[test]
fn a_key_in_an_amended_away_commit_message_is_found_as_unreachable() {
    let env = TestEnv::git_repo();
    let key = FakeKeys::new(1804).project_key();
    env.write("README", "x\n");
    let amended = env.commit_all(&format!("deploy with OPENAI_API_KEY={key}"));
    env.git(&["commit", "-q", "--amend", "-m", "deploy"]);
    env.run(&["history", "--format", "json"]).expect_code(0);
    let run = env.run(&["history", "--unreachable", "--format", "json"]);
    run.expect_code(1);
    let findings = run.findings();
    assert_eq!(paths(&run), ["<unreachable commit message>"]);
    assert_eq!(findings[0]["commit"]["id"], amended.as_str());
    assert!(run.stderr.contains("1 commit message"), "{}", run.stderr);
    assert!(!run.stdout.contains(&key) && !run.stderr.contains(&key));
    let text = env.run(&["history", "--unreachable"]);
    text.expect_code(1);
    assert!(text.stdout.contains("<unreachable commit message>"), "{}", text.stdout);
    assert!(!text.stdout.contains(&key), "the commit's summary line is redacted");
}

#[test]
fn a_key_in_a_deleted_tags_message_is_found_as_unreachable() {
    let env = TestEnv::git_repo();
    let key = FakeKeys::new(1805).project_key();
    env.write("README", "x\n");
    env.commit_all("first");
    env.git(&["tag", "-a", "v1", "-m", &format!("release, OPENAI_API_KEY={key}")]);
    let tagged = env.run(&["history", "--format", "json"]);
    assert_eq!(paths(&tagged), ["<tag message: v1>"]);
    env.git(&["tag", "-d", "v1"]);
    env.run(&["history", "--format", "json"]).expect_code(0);
    let run = env.run(&["history", "--unreachable", "--format", "json"]);
    run.expect_code(1);
    assert_eq!(paths(&run), ["<unreachable tag message: v1>"]);
    assert!(run.stderr.contains("1 annotated tag message no ref reaches"), "{}", run.stderr);
}

#[test]
fn a_recalled_secret_too_short_to_show_its_end_keeps_its_length() {
    let (env, db) = (TestEnv::git_repo(), TestEnv::new());
    let rule = "[[rule]]\nid = 'acme-pin'\ndescription = 'ACME pin'\nregex = '(?P<secret>acme_[a-z0-9]{8})'\n\
                keywords = ['acme_']\n";
    let rules = db.write("acme.toml", rule);
    env.write("app.cfg", "pin = acme_7kq2m9xw\n");
    env.commit_all("first");
    let path = db.path().join("k.db");
    let args = ["history", "--rules", rules.to_str().unwrap(), "--datastore", path.to_str().unwrap()];
    let first = env.run(&args);
    first.expect_code(1);
    assert!(first.stdout.contains("acme-pin") && first.stdout.contains("(13 characters)"), "{}", first.stdout);
    let again = env.run(&args);
    assert!(again.stderr.contains("(0 blobs, 0 B"), "{}", again.stderr);
    assert_eq!(again.stdout, first.stdout);
}
