//! `keyhound staged`: what the next commit adds, read from the index against HEAD.

use crate::harness::{FakeKeys, Run, TestEnv};

/// A repository whose first commit holds a clean `app.py`.
fn repo_with_history() -> TestEnv {
    let env = TestEnv::git_repo();
    env.write("app.py", "print('hello')\n");
    env.commit_all("first");
    env
}

fn staged_json(env: &TestEnv, extra: &[&str]) -> Run {
    let mut args = vec!["staged", "--format", "json"];
    args.extend_from_slice(extra);
    env.run(&args)
}

fn paths(run: &Run) -> Vec<String> {
    run.findings().iter().map(|f| f["path"].as_str().unwrap().to_string()).collect()
}

#[test]
fn a_new_key_blocks_with_a_message_that_says_how_to_fix_and_override() {
    let env = repo_with_history();
    let key = FakeKeys::project_key_of(1);
    env.stage("settings.py", format!("OPENAI_API_KEY = \"{key}\"\n"));
    let run = staged_json(&env, &[]);
    run.expect_code(1);
    let findings = run.findings();
    assert_eq!(findings.len(), 1);
    assert_eq!((findings[0]["path"].as_str(), findings[0]["line"].as_u64()), (Some("settings.py"), Some(1)));
    assert_eq!(findings[0]["commit"], serde_json::Value::Null);
    for expected in [
        "commit blocked",
        "OPENAI_API_KEY",
        "os.environ",
        "process.env",
        "git-ignored",
        "revoke",
        "keyhound:allow",
        "git commit --no-verify",
    ] {
        assert!(run.stderr.contains(expected), "missing {expected:?} in:\n{}", run.stderr);
    }
    assert!(!run.stdout.contains(&key) && !run.stderr.contains(&key), "the key leaked into output");
}

#[test]
fn the_text_report_names_file_line_rule_and_redacted_key() {
    let env = repo_with_history();
    let key = FakeKeys::project_key_of(2);
    env.stage("app.py", format!("print('hello')\nclient = OpenAI(api_key='{key}')\n"));
    let run = env.run(&["staged"]);
    run.expect_code(1);
    let redacted = format!("sk-proj-…{}", &key[key.len() - 4..]);
    assert!(run.stdout.starts_with("app.py:2:26: OpenAI API key [openai-api-key, critical]"), "{}", run.stdout);
    assert!(run.stdout.contains(&redacted), "{}", run.stdout);
}

#[test]
fn the_staged_version_decides_not_the_work_tree() {
    let env = repo_with_history();
    env.stage("config.py", format!("KEY = '{}'\n", FakeKeys::project_key_of(3)));
    env.write("config.py", "KEY = os.environ['OPENAI_API_KEY']\n");
    assert_eq!(paths(staged_json(&env, &[]).expect_code(1)), ["config.py"]);

    env.git(&["add", "config.py"]);
    env.write("config.py", format!("KEY = '{}'\n", FakeKeys::project_key_of(4)));
    staged_json(&env, &[]).expect_code(0);
}

#[test]
fn unstaged_and_untracked_files_are_not_scanned() {
    let env = repo_with_history();
    env.write("untracked.py", format!("k = '{}'\n", FakeKeys::project_key_of(5)));
    env.write("app.py", format!("k = '{}'\n", FakeKeys::project_key_of(6)));
    let run = staged_json(&env, &[]);
    run.expect_code(0);
    assert!(run.stderr.contains("nothing was scanned"), "{}", run.stderr);
}

#[test]
fn a_staged_deletion_passes() {
    let env = repo_with_history();
    env.stage("leak.py", format!("k = '{}'\n", FakeKeys::project_key_of(7)));
    env.git(&["commit", "-q", "--no-verify", "-m", "leak"]);
    env.git(&["rm", "-q", "leak.py"]);
    staged_json(&env, &[]).expect_code(0);
}

#[test]
fn a_renamed_file_with_a_committed_key_warns_and_blocks_only_with_strict() {
    let env = repo_with_history();
    env.write("old/settings.py", format!("KEY = '{}'\n", FakeKeys::project_key_of(8)));
    env.commit_all("key already committed");
    env.git(&["mv", "old/settings.py", "new_settings.py"]);
    let run = staged_json(&env, &[]);
    run.expect_code(0);
    assert!(run.findings().is_empty());
    assert!(run.stderr.contains("1 secret already in HEAD"), "{}", run.stderr);
    assert!(run.stderr.contains("new_settings.py:1:8: OpenAI API key"), "{}", run.stderr);
    assert!(!run.stderr.contains("commit blocked"), "{}", run.stderr);

    let strict = staged_json(&env, &["--strict"]);
    strict.expect_code(1);
    assert_eq!(paths(&strict), ["new_settings.py"]);
}

#[test]
fn only_the_new_key_in_a_file_that_already_held_one_blocks() {
    let env = repo_with_history();
    let (old, new) = (FakeKeys::project_key_of(9), FakeKeys::project_key_of(10));
    env.write("keys.py", format!("A = '{old}'\n"));
    env.commit_all("old key");
    env.stage("keys.py", format!("# moved down\nA = '{old}'\nB = '{new}'\n"));
    let run = staged_json(&env, &[]);
    run.expect_code(1);
    let findings = run.findings();
    assert_eq!(findings.len(), 1, "{findings:?}");
    assert_eq!(findings[0]["line"], 3);
    assert!(run.stderr.contains("1 secret already in HEAD") && run.stderr.contains("keys.py:2:6"), "{}", run.stderr);
}

#[test]
fn a_key_already_committed_in_an_untouched_file_still_blocks_a_new_copy() {
    let env = repo_with_history();
    let shared = FakeKeys::project_key_of(11);
    env.write("a.py", format!("A = '{shared}'\n"));
    env.commit_all("a");
    env.stage("b.py", format!("B = '{shared}'\n"));
    assert_eq!(paths(staged_json(&env, &[]).expect_code(1)), ["b.py"]);
}

#[test]
fn a_binary_file_with_a_key_blocks() {
    let env = repo_with_history();
    let mut bytes = vec![0u8, 159, 146, 150, 0, 0, 7];
    bytes.extend_from_slice(FakeKeys::project_key_of(12).as_bytes());
    bytes.extend_from_slice(&[0, 255, 1, 2]);
    env.stage("model.pyc", bytes);
    assert_eq!(paths(staged_json(&env, &[]).expect_code(1)), ["model.pyc"]);
}

#[test]
fn the_first_commit_scans_every_index_entry() {
    let env = TestEnv::git_repo();
    env.write("README.md", "hello\n");
    env.write("src/main.py", format!("k = '{}'\n", FakeKeys::project_key_of(13)));
    env.git(&["add", "-A"]);
    let run = staged_json(&env, &[]);
    run.expect_code(1);
    assert_eq!(paths(&run), ["src/main.py"]);
    assert!(run.stderr.contains("(2 files"), "{}", run.stderr);

    env.git(&["rm", "-q", "--cached", "src/main.py"]);
    staged_json(&env, &[]).expect_code(0);
}

#[test]
fn a_merge_with_conflicts_scans_both_sides() {
    let env = repo_with_history();
    env.write("config.py", "MODEL = 'a'\n");
    env.commit_all("config");
    env.git(&["checkout", "-q", "-b", "feature"]);
    env.write("config.py", format!("MODEL = 'b'\nKEY = '{}'\n", FakeKeys::project_key_of(14)));
    env.commit_all("feature");
    env.git(&["checkout", "-q", "main"]);
    env.write("config.py", "MODEL = 'c'\n");
    env.commit_all("main");
    let merge = crate::harness::git_command(env.path()).args(["merge", "-q", "feature"]).output().unwrap();
    assert!(!merge.status.success(), "the merge should conflict");

    let run = staged_json(&env, &[]);
    run.expect_code(1);
    assert_eq!(paths(&run), ["config.py"]);
    assert!(run.stderr.contains("1 path has unresolved merge conflicts"), "{}", run.stderr);

    env.git(&["checkout", "--ours", "config.py"]);
    env.git(&["add", "config.py"]);
    staged_json(&env, &[]).expect_code(0);
}

#[test]
fn a_submodule_change_is_counted_not_scanned() {
    let sub = TestEnv::git_repo();
    sub.write("lib.py", format!("k = '{}'\n", FakeKeys::project_key_of(15)));
    sub.commit_all("sub");
    let env = repo_with_history();
    env.add_submodule(&sub, "vendor/sub");
    let run = staged_json(&env, &[]);
    run.expect_code(0);
    assert!(run.stderr.contains("1 entry not scanned"), "{}", run.stderr);
}

#[test]
fn low_confidence_rules_are_off_unless_asked_for() {
    let env = repo_with_history();
    env.write(
        "low.toml",
        r#"
[[rule]]
id = "internal-token"
description = "Internal token"
regex = 'itok_[a-z0-9]{12}'
keywords = ["itok_"]
confidence = "low"
"#,
    );
    env.stage("app.py", "TOKEN = 'itok_q8mz3vl0r7nb'\n");
    staged_json(&env, &["--rules", "low.toml"]).expect_code(0);
    let run = staged_json(&env, &["--rules", "low.toml", "--confidence", "low"]);
    run.expect_code(1);
    assert_eq!(run.findings()[0]["rule"], "internal-token");
}

#[test]
fn the_repository_argument_and_a_path_outside_any_repository() {
    let env = repo_with_history();
    env.stage("app.py", format!("k = '{}'\n", FakeKeys::project_key_of(16)));
    let elsewhere = TestEnv::new();
    elsewhere.run(&["staged", env.path().to_str().unwrap()]).expect_code(1);
    let run = elsewhere.run(&["staged"]);
    run.expect_code(2);
    assert!(
        run.stderr.contains("not a git repository: . (run it inside a repository, or pass REPO)"),
        "{}",
        run.stderr
    );
}

#[test]
fn large_staged_files_are_skipped_by_name() {
    let env = repo_with_history();
    env.stage("big.txt", format!("{}\nk = '{}'\n", "x".repeat(4096), FakeKeys::project_key_of(17)));
    let run = staged_json(&env, &["--max-file-size", "1KiB"]);
    run.expect_code(0);
    assert!(run.stderr.contains("skipped 1 file: big.txt"), "{}", run.stderr);
}
