//! A blocked commit or push says how to get unblocked, and reports read as a person needs
//! them: the commit to rewrite, one "How to fix", remediation that fits the file, each
//! finding's line with the secrets in it redacted, and counts in plain words.

use std::process::Stdio;

use crate::harness::{git_command, FakeKeys, Run, TestEnv};

/// `git ARGS` in `env`, through its hooks, which find the binary under test via `KEYHOUND`.
fn git_hooked(env: &TestEnv, args: &[&str]) -> Run {
    let mut command = git_command(env.path());
    command.args(args).env("KEYHOUND", env!("CARGO_BIN_EXE_keyhound")).stdin(Stdio::null());
    Run::of(command.output().expect("git runs"))
}

/// Stages `contents` at `path` and commits it past the hooks; returns the commit's short id.
fn commit_unchecked(env: &TestEnv, path: &str, contents: &str, message: &str) -> String {
    env.stage(path, contents);
    env.git(&["commit", "-q", "--no-verify", "-m", message]);
    env.git(&["rev-parse", "--short=12", "HEAD"])
}

/// A repository with both hooks and a remote (`origin`, bare) that already has its first,
/// clean commit.
fn pushed_repo() -> (TestEnv, TestEnv) {
    let remote = TestEnv::new();
    git_command(remote.path()).args(["init", "-q", "--bare", "-b", "main"]).status().expect("git runs");
    let env = TestEnv::git_repo();
    env.run(&["hook", "install", "--pre-push"]).expect_code(0);
    env.git(&["remote", "add", "origin", remote.path().to_str().expect("temp paths are UTF-8")]);
    commit_unchecked(&env, "app.py", "print('hello')\n", "first");
    git_hooked(&env, &["push", "-q", "-u", "origin", "main"]).expect_code(0);
    (env, remote)
}

/// What a blocked `git push origin main` printed, both streams.
fn blocked_push(env: &TestEnv) -> String {
    let run = git_hooked(env, &["push", "-q", "origin", "main"]);
    assert_ne!(run.code, 0, "the push must be blocked\n{}", run.stderr);
    format!("{}{}", run.stdout, run.stderr)
}

#[test]
fn a_push_blocked_by_its_last_commit_says_amend_it() {
    let (env, _remote) = pushed_repo();
    let key = FakeKeys::project_key_of(101);
    let id = commit_unchecked(&env, "settings.py", &format!("KEY = '{key}'\n"), "add settings");
    let text = blocked_push(&env);
    assert!(text.contains(&format!("last commit being pushed: {id} add settings (settings.py)")), "{text}");
    assert!(text.contains("git commit --amend --no-edit") && !text.contains("git rebase"), "{text}");
    assert!(text.contains("A fix in a new commit does not help"), "{text}");
    assert!(text.contains("git push --no-verify publishes the key") && text.contains("revoke it"), "{text}");
    assert!(!text.contains(&key), "{text}");
    assert_eq!(text.matches("How to fix").count(), 1, "{text}");
}

#[test]
fn a_push_blocked_by_an_older_commit_says_rebase_from_it() {
    let (env, _remote) = pushed_repo();
    let id = commit_unchecked(&env, "settings.py", &format!("KEY = '{}'\n", FakeKeys::project_key_of(102)), "leak");
    commit_unchecked(&env, "more.py", "x = 1\n", "clean on top");
    let text = blocked_push(&env);
    assert!(text.contains(&format!("git rebase -i {id}^")), "{text}");
    assert!(text.contains(&format!("Added by 1 commit:\nkeyhound:     {id} leak (settings.py)")), "{text}");
    assert!(text.contains("`pick` to `edit`") && !text.contains("last commit being pushed"), "{text}");
}

#[test]
fn a_key_in_a_new_branch_root_commit_is_rebased_from_the_root() {
    let remote = TestEnv::new();
    git_command(remote.path()).args(["init", "-q", "--bare", "-b", "main"]).status().expect("git runs");
    let env = TestEnv::git_repo();
    env.run(&["hook", "install", "--pre-push"]).expect_code(0);
    env.git(&["remote", "add", "origin", remote.path().to_str().expect("temp paths are UTF-8")]);
    commit_unchecked(&env, ".env", &format!("OPENAI_API_KEY={}\n", FakeKeys::project_key_of(103)), "first");
    commit_unchecked(&env, "app.py", "x = 1\n", "second");
    let text = blocked_push(&env);
    assert!(text.contains("git rebase -i --root"), "{text}");
}

#[test]
fn a_blocked_commit_has_one_how_to_fix_that_does_not_contradict_itself() {
    let env = TestEnv::git_repo();
    env.run(&["hook", "install"]).expect_code(0);
    env.stage("settings.py", format!("OPENAI_API_KEY = '{}'\n", FakeKeys::project_key_of(104)));
    let run = git_hooked(&env, &["commit", "-q", "-m", "add key"]);
    run.expect_code(1);
    let text = format!("{}{}", run.stdout, run.stderr);
    assert_eq!(text.matches("How to fix").count(), 1, "{text}");
    assert!(!text.contains("Revoke the key now"), "{text}");
    assert!(text.contains("commit blocked: the staged changes add 1 secret,"), "{text}");
}

#[test]
fn a_commit_passing_with_a_secret_already_in_head_says_so() {
    let env = TestEnv::git_repo();
    commit_unchecked(&env, "old.py", &format!("KEY = '{}'\n", FakeKeys::project_key_of(105)), "leak");
    env.git(&["mv", "old.py", "new.py"]);
    let run = env.run(&["staged"]);
    run.expect_code(0);
    assert!(run.stderr.contains("commit passes; 1 secret already in HEAD — see above ("), "{}", run.stderr);
    assert!(!run.stderr.contains("no secrets found"), "{}", run.stderr);
}

#[test]
fn a_staged_env_file_is_untracked_and_ignored_not_kept() {
    let env = TestEnv::git_repo();
    env.stage(".env", format!("OPENAI_API_KEY={}\n", FakeKeys::project_key_of(106)));
    let run = env.run(&["staged"]);
    run.expect_code(1);
    assert!(run.stderr.contains("git rm --cached .env") && run.stderr.contains(".gitignore"), "{}", run.stderr);
    assert!(!run.stderr.contains("git-ignored file (.env)"), "{}", run.stderr);
}

#[test]
fn the_line_is_shown_with_every_secret_on_it_redacted() {
    let env = TestEnv::new();
    let mut keys = FakeKeys::new(107);
    let (a, b) = (keys.openai("sk-proj-", 20, 20), keys.openai("sk-proj-", 20, 20));
    env.write("app.py", format!("x = 1\n    keys = ['{a}', '{b}', '{a}']\n"));
    let run = env.run(&["scan", "app.py"]);
    run.expect_code(1);
    let (ra, rb) = (format!("sk-proj-…{}", &a[a.len() - 4..]), format!("sk-proj-…{}", &b[b.len() - 4..]));
    let line = format!("    context: keys = ['{ra}', '{rb}', '{ra}']\n");
    assert_eq!(run.stdout.matches(&line).count(), 3, "once per finding:\n{}", run.stdout);
    assert!(!run.stdout.contains(&a[12..]) && !run.stdout.contains(&b[12..]), "{}", run.stdout);

    let json = env.run(&["scan", "--format", "json", "--show-secrets", "app.py"]);
    assert_eq!(json.findings()[0]["context"], format!("keys = ['{ra}', '{rb}', '{ra}']"), "redacted even then");
    let quiet = env.run(&["scan", "--no-context", "--format", "json", "app.py"]);
    assert_eq!(quiet.findings()[0]["context"], serde_json::Value::Null);
    assert!(!env.run(&["scan", "--no-context", "app.py"]).stdout.contains("context:"));
}

#[test]
fn a_long_line_or_a_binary_file_shows_a_window() {
    let env = TestEnv::new();
    let key = FakeKeys::project_key_of(109);
    env.write("bundle.min.js", format!("{}var k=\"{key}\";{}", "a=1;".repeat(500), "b=2;".repeat(500)));
    let mut binary = vec![0u8, 1, 2, 0x1b];
    binary.extend_from_slice(key.as_bytes());
    binary.extend([0u8; 600]);
    env.write("model.pyc", binary);
    let run = env.run(&["scan", "--format", "json", "."]);
    for finding in run.findings() {
        let context = finding["context"].as_str().expect("a context");
        assert!(context.len() < 300 && context.contains("sk-proj-…"), "{context}");
        assert!(!context.contains(&key[12..]), "{context}");
    }
    let text = env.run(&["scan", "."]).stdout;
    assert!(text.contains("    context: …") && text.contains("a=1;var k=\"sk-proj-…"), "{text}");
    assert!(text.contains("    context: \\0\\x01\\x02\\esk-proj-…"), "control characters escaped:\n{text}");
}

#[test]
fn counts_read_as_words() {
    let env = TestEnv::git_repo();
    commit_unchecked(&env, "app.py", "x = 1\n", "first");
    let one = env.run(&["history"]);
    assert!(
        one.stderr.contains("scanned 1 commit: their distinct blobs, 1 commit message and 0 annotated tag messages"),
        "{}",
        one.stderr
    );
    commit_unchecked(&env, "app.py", "x = 2\n", "second");
    let two = env.run(&["history"]);
    assert!(two.stderr.contains("scanned 2 commits: their distinct blobs, 2 commit messages and"), "{}", two.stderr);
    for run in [&one, &two] {
        assert!(!run.stderr.contains("commit(s)") && !run.stderr.contains("message(s)"), "{}", run.stderr);
    }
}

#[test]
fn a_committed_env_file_is_told_to_be_untracked_and_ignored() {
    let env = TestEnv::git_repo();
    commit_unchecked(&env, ".env", &format!("OPENAI_API_KEY={}\n", FakeKeys::project_key_of(110)), "env");
    let run = env.run(&["scan"]);
    run.expect_code(1);
    assert!(run.stdout.contains("  OpenAI API key [openai-api-key], in .env\n"), "{}", run.stdout);
    assert!(run.stdout.contains("git rm --cached .env") && run.stdout.contains(".gitignore"), "{}", run.stdout);
    assert!(!run.stdout.contains("teammates' .env"), "the default remediation is replaced:\n{}", run.stdout);

    // In history the key was committed: the history variant, revoking first.
    let history = env.run(&["history"]).stdout;
    assert!(history.contains("Revoke the key now") && !history.contains("may stay in the file"), "{history}");
    env.write("settings.py", format!("KEY = '{}'\n", FakeKeys::project_key_of(111)));
    let tree = env.run(&["scan", "settings.py"]).stdout;
    assert!(!tree.contains("git rm --cached") && tree.contains("teammates' .env"), "{tree}");
}

#[test]
fn rules_check_validates_remediation_variants() {
    let env = TestEnv::new();
    let rule = "[[rule]]\nid = 'tok'\ndescription = 'token'\nregex = 'tok_([A-Za-z0-9]{8})'\nkeywords = ['tok_']\n\
                examples = ['tok_Q8mZ3vL0']\n[rule.remediation_by_context]\n";
    env.write("good.toml", format!("{rule}secrets-file = 'git rm --cached {{path}}'\nhistory = 'revoke it'\n"));
    env.run(&["rules", "check", "good.toml"]).expect_code(0);
    env.write("bad.toml", format!("{rule}staged = 'revoke it'\n"));
    let run = env.run(&["rules", "check", "bad.toml"]);
    run.expect_code(2);
    assert!(run.stderr.contains("unknown field"), "{}", run.stderr);
}
