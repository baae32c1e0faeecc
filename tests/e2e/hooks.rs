//! The git hooks: `keyhound hook install|uninstall`, then real `git commit`s and `git push`es
//! through the installed shims, asserting which ones are blocked.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::harness::{git_command, FakeKeys, Run, TestEnv};

/// git, with the hooks finding the binary under test through `KEYHOUND`.
fn git(dir: &Path, args: &[&str]) -> Command {
    let mut command = git_command(dir);
    command.args(args).env("KEYHOUND", env!("CARGO_BIN_EXE_keyhound")).stdin(Stdio::null());
    command
}

fn run_git(dir: &Path, args: &[&str]) -> Run {
    Run::of(git(dir, args).output().expect("git runs"))
}

/// `git commit -m MESSAGE` plus `extra`, through the hooks.
fn commit(env: &TestEnv, message: &str, extra: &[&str]) -> Run {
    let mut args = vec!["commit", "-q", "-m", message];
    args.extend_from_slice(extra);
    run_git(env.path(), &args)
}

/// Stages `contents` at `path` and commits it with `--no-verify`: a secret already in HEAD.
fn commit_bypassing_the_hook(env: &TestEnv, path: &str, contents: String, message: &str) {
    env.stage(path, contents);
    commit(env, message, &["--no-verify"]).expect_code(0);
}

fn head_summary(env: &TestEnv) -> String {
    env.git(&["log", "-1", "--format=%s"])
}

/// A repository with a clean first commit and the pre-commit hook installed.
fn hooked_repo() -> TestEnv {
    let env = TestEnv::git_repo();
    env.run(&["hook", "install"]).expect_code(0);
    env.stage("app.py", "print('hello')\n");
    commit(&env, "first", &[]).expect_code(0);
    env
}

fn hook_path(env: &TestEnv, name: &str) -> PathBuf {
    env.path().join(".git/hooks").join(name)
}

#[test]
fn a_commit_adding_a_key_is_blocked_and_a_clean_one_is_not() {
    let env = hooked_repo();
    env.stage("settings.py", format!("OPENAI_API_KEY = '{}'\n", FakeKeys::project_key_of(1)));
    let run = commit(&env, "add key", &[]);
    run.expect_code(1);
    assert!(run.stdout.contains("settings.py:1:19") || run.stderr.contains("settings.py:1:19"), "{}", run.stderr);
    assert!(run.stderr.contains("commit blocked") && run.stderr.contains("--no-verify"), "{}", run.stderr);
    assert_eq!(head_summary(&env), "first");

    env.stage("settings.py", "OPENAI_API_KEY = os.environ['OPENAI_API_KEY']\n");
    commit(&env, "read key from env", &[]).expect_code(0);
    assert_eq!(head_summary(&env), "read key from env");
}

#[test]
fn no_verify_bypasses_and_an_allow_comment_passes() {
    let env = hooked_repo();
    commit_bypassing_the_hook(&env, "a.py", format!("k = '{}'\n", FakeKeys::project_key_of(2)), "bypass");
    assert_eq!(head_summary(&env), "bypass");

    env.stage("b.py", format!("k = '{}'  # keyhound:allow (test fixture)\n", FakeKeys::project_key_of(3)));
    commit(&env, "allowed", &[]).expect_code(0);
    assert_eq!(head_summary(&env), "allowed");
}

#[test]
fn commit_all_and_commit_with_paths_check_what_they_commit() {
    let env = hooked_repo();
    env.write("app.py", format!("k = '{}'\n", FakeKeys::project_key_of(4)));
    commit(&env, "commit -a", &["-a"]).expect_code(1);
    commit(&env, "commit path", &["app.py"]).expect_code(1);
    assert_eq!(head_summary(&env), "first");
}

#[test]
fn partial_staging_with_add_p_commits_only_the_clean_hunk() {
    let env = TestEnv::git_repo();
    env.run(&["hook", "install"]).expect_code(0);
    let lines: Vec<String> = (0..30).map(|i| format!("line_{i} = {i}\n")).collect();
    env.stage("app.py", lines.concat());
    commit(&env, "first", &[]).expect_code(0);

    let mut changed = lines.clone();
    changed[0] = "line_0 = 'changed'\n".into();
    changed[29] = format!("line_29 = '{}'\n", FakeKeys::project_key_of(5));
    env.write("app.py", changed.concat());
    let mut add_p = git(env.path(), &["add", "-p", "app.py"])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .expect("git add -p runs");
    add_p.stdin.take().expect("piped").write_all(b"y\nn\n").expect("answers written");
    assert!(add_p.wait().expect("git add -p ends").success());
    let staged = env.git(&["diff", "--cached"]);
    assert!(staged.contains("'changed'") && !staged.contains("T3Blbk"), "{staged}");

    commit(&env, "clean hunk only", &[]).expect_code(0);
    env.git(&["add", "app.py"]);
    commit(&env, "key hunk", &[]).expect_code(1);
    assert_eq!(head_summary(&env), "clean hunk only");
}

#[test]
fn a_staged_deletion_of_a_file_with_a_key_passes() {
    let env = hooked_repo();
    commit_bypassing_the_hook(&env, "leak.py", format!("k = '{}'\n", FakeKeys::project_key_of(6)), "leak");
    env.git(&["rm", "-q", "leak.py"]);
    commit(&env, "remove leak", &[]).expect_code(0);
    assert_eq!(head_summary(&env), "remove leak");
}

#[test]
fn renaming_a_file_with_a_committed_key_warns_but_passes() {
    let env = hooked_repo();
    commit_bypassing_the_hook(&env, "config/dev.py", format!("k = '{}'\n", FakeKeys::project_key_of(7)), "leak");
    env.git(&["mv", "config/dev.py", "settings_dev.py"]);
    let run = commit(&env, "rename", &[]);
    run.expect_code(0);
    assert!(run.stderr.contains("already in HEAD") && run.stderr.contains("settings_dev.py:1:6"), "{}", run.stderr);
    assert_eq!(head_summary(&env), "rename");
}

#[test]
fn a_binary_file_with_a_key_is_blocked() {
    let env = hooked_repo();
    let mut bytes = vec![0x42, 0x0d, 0x0d, 0x0a, 0, 0, 0, 0, 0xe3];
    bytes.extend_from_slice(FakeKeys::project_key_of(8).as_bytes());
    bytes.extend_from_slice(&[0, 0, 0xff]);
    env.write("__pycache__/settings.cpython-312.pyc", bytes);
    env.git(&["add", "-f", "__pycache__"]);
    commit(&env, "pyc", &[]).expect_code(1);
}

#[test]
fn a_submodule_change_passes() {
    let sub = TestEnv::git_repo();
    sub.write("lib.py", format!("k = '{}'\n", FakeKeys::project_key_of(9)));
    sub.commit_all("sub with a key of its own");
    let env = hooked_repo();
    env.add_submodule(&sub, "vendor/sub");
    commit(&env, "add submodule", &[]).expect_code(0);
    assert_eq!(head_summary(&env), "add submodule");
}

#[test]
fn the_very_first_commit_is_checked() {
    let env = TestEnv::git_repo();
    env.run(&["hook", "install"]).expect_code(0);
    env.write("README.md", "hello\n");
    env.write(".env", format!("OPENAI_API_KEY={}\n", FakeKeys::project_key_of(10)));
    env.git(&["add", "-A"]);
    commit(&env, "first", &[]).expect_code(1);
    env.git(&["rm", "-q", "--cached", ".env"]);
    commit(&env, "first", &[]).expect_code(0);
}

#[test]
fn a_merge_that_brings_a_key_in_is_blocked_until_resolved_without_it() {
    let env = hooked_repo();
    env.stage("config.py", "MODEL = 'a'\n");
    commit(&env, "config", &[]).expect_code(0);
    env.git(&["checkout", "-q", "-b", "feature"]);
    commit_bypassing_the_hook(
        &env,
        "config.py",
        format!("MODEL = 'b'\nKEY = '{}'\n", FakeKeys::project_key_of(11)),
        "feature",
    );
    env.git(&["checkout", "-q", "main"]);
    env.stage("config.py", "MODEL = 'c'\n");
    commit(&env, "main", &[]).expect_code(0);
    assert_ne!(run_git(env.path(), &["merge", "-q", "feature"]).code, 0, "the merge should conflict");

    env.git(&["checkout", "--theirs", "config.py"]);
    env.git(&["add", "config.py"]);
    commit(&env, "merge, taking theirs", &[]).expect_code(1);
    env.stage("config.py", "MODEL = 'c'\n");
    commit(&env, "merge, taking ours", &[]).expect_code(0);
    assert_eq!(env.git(&["log", "-1", "--format=%p"]).split(' ').count(), 2, "a merge commit was made");
}

#[test]
fn a_missing_binary_fails_the_commit_with_install_instructions() {
    let env = hooked_repo();
    env.stage("b.py", "x = 1\n");
    let run = Run::of(
        git(env.path(), &["commit", "-q", "-m", "b"]).env("KEYHOUND", "/nonexistent/keyhound").output().unwrap(),
    );
    assert_ne!(run.code, 0);
    assert!(
        run.stderr.contains("cargo install --locked --path .")
            && run.stderr.contains("cargo install --locked --git")
            && !run.stderr.contains("cargo install keyhound"),
        "{}",
        run.stderr
    );
    assert_eq!(head_summary(&env), "first");
}

#[test]
fn install_is_idempotent_and_uninstall_removes_the_hook() {
    let env = hooked_repo();
    let run = env.run(&["hook", "install"]);
    run.expect_code(0);
    assert!(run.stdout.contains("updated the pre-commit hook"), "{}", run.stdout);
    assert!(!hook_path(&env, "pre-commit.keyhound-chained").exists(), "its own hook is not chained to itself");
    env.run(&["hook", "uninstall"]).expect_code(0);
    assert!(!hook_path(&env, "pre-commit").exists());
    env.stage("a.py", format!("k = '{}'\n", FakeKeys::project_key_of(12)));
    commit(&env, "no hook", &[]).expect_code(0);
}

#[test]
fn an_existing_hook_is_refused_then_chained_with_force_and_restored_on_uninstall() {
    let env = TestEnv::git_repo();
    let mine = "#!/bin/sh\necho ran >> \"$(git rev-parse --git-dir)/mine.log\"\n[ ! -f STOP ]\n";
    env.write(".git/hooks/pre-commit", mine);
    make_executable(&hook_path(&env, "pre-commit"));

    let refused = env.run(&["hook", "install"]);
    refused.expect_code(2);
    assert!(refused.stderr.contains("not keyhound's hook") && refused.stderr.contains("--force"), "{}", refused.stderr);
    assert_eq!(fs::read_to_string(hook_path(&env, "pre-commit")).unwrap(), mine);

    env.run(&["hook", "install", "--force"]).expect_code(0);
    env.run(&["hook", "install"]).expect_code(0);
    assert_eq!(fs::read_to_string(hook_path(&env, "pre-commit.keyhound-chained")).unwrap(), mine);
    env.stage("a.py", format!("k = '{}'\n", FakeKeys::project_key_of(13)));
    commit(&env, "key", &[]).expect_code(1);
    assert_eq!(fs::read_to_string(env.path().join(".git/mine.log")).unwrap(), "ran\n", "the chained hook ran");
    env.write("STOP", "");
    env.stage("a.py", "clean = True\n");
    commit(&env, "stopped by my hook", &[]).expect_code(1);

    env.run(&["hook", "uninstall"]).expect_code(0);
    assert_eq!(fs::read_to_string(hook_path(&env, "pre-commit")).unwrap(), mine);
    assert!(!hook_path(&env, "pre-commit.keyhound-chained").exists());
}

#[test]
fn core_hooks_path_is_honoured() {
    let env = TestEnv::git_repo();
    env.git(&["config", "core.hooksPath", ".githooks"]);
    let run = env.run(&["hook", "install"]);
    run.expect_code(0);
    assert!(env.path().join(".githooks/pre-commit").is_file(), "{}", run.stdout);
    assert!(!hook_path(&env, "pre-commit").exists());
    env.stage("a.py", format!("k = '{}'\n", FakeKeys::project_key_of(14)));
    commit(&env, "key", &[]).expect_code(1);
    env.run(&["hook", "uninstall"]).expect_code(0);
    assert!(!env.path().join(".githooks/pre-commit").exists());
}

#[test]
fn installing_from_a_linked_worktree_hooks_every_worktree() {
    let env = hooked_repo();
    env.run(&["hook", "uninstall"]).expect_code(0);
    let linked = env.path().join("linked");
    env.git(&["worktree", "add", "-q", "-b", "side", linked.to_str().unwrap()]);
    Run::of(crate::harness::keyhound_in(&linked).args(["hook", "install"]).output().unwrap()).expect_code(0);
    assert!(hook_path(&env, "pre-commit").is_file(), "installed in the common hooks directory");
    fs::write(linked.join("a.py"), format!("k = '{}'\n", FakeKeys::project_key_of(15))).unwrap();
    run_git(&linked, &["add", "a.py"]).expect_code(0);
    run_git(&linked, &["commit", "-q", "-m", "key"]).expect_code(1);
}

#[test]
fn the_pre_commit_framework_manifest_runs_keyhound_staged() {
    let manifest = fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(".pre-commit-hooks.yaml")).unwrap();
    for line in ["- id: keyhound", "entry: keyhound staged", "language: rust", "pass_filenames: false"] {
        assert!(manifest.lines().any(|l| l.trim() == line), "missing {line:?} in .pre-commit-hooks.yaml");
    }
}

/// Drives `keyhound history --range … [--exclude-remotes]` through the installed hook.
#[test]
fn pre_push_scans_only_the_commits_being_pushed() {
    let remote = TestEnv::new();
    git_command(remote.path()).args(["init", "-q", "--bare", "-b", "main"]).status().unwrap();
    let env = hooked_repo();
    env.run(&["hook", "install", "--pre-push"]).expect_code(0);
    env.git(&["remote", "add", "origin", remote.path().to_str().unwrap()]);
    run_git(env.path(), &["push", "-q", "-u", "origin", "main"]).expect_code(0);

    commit_bypassing_the_hook(&env, "leak.py", format!("k = '{}'\n", FakeKeys::project_key_of(16)), "leak");
    env.stage("more.py", "x = 1\n");
    commit(&env, "clean on top", &[]).expect_code(0);
    let blocked = run_git(env.path(), &["push", "-q", "origin", "main"]);
    assert_ne!(blocked.code, 0, "pushing the leak must be blocked\n{}", blocked.stderr);
    // git passes a pre-push hook's standard output through to its own.
    assert!(format!("{}{}", blocked.stdout, blocked.stderr).contains("leak.py:1:6"), "{}", blocked.stderr);

    env.git(&["checkout", "-q", "-b", "feature"]);
    let new_branch = run_git(env.path(), &["push", "-q", "origin", "feature"]);
    assert_ne!(new_branch.code, 0, "a new branch carrying the leak must be blocked\n{}", new_branch.stderr);

    run_git(env.path(), &["push", "-q", "--no-verify", "origin", "main"]).expect_code(0);
    env.stage("clean.py", "y = 2\n");
    commit(&env, "clean", &[]).expect_code(0);
    run_git(env.path(), &["push", "-q", "origin", "feature"]).expect_code(0);
    run_git(env.path(), &["push", "-q", "origin", "main"]).expect_code(0);
    run_git(env.path(), &["push", "-q", "origin", "--delete", "feature"]).expect_code(0);
}

fn make_executable(path: &Path) {
    use std::os::unix::fs::PermissionsExt;
    fs::set_permissions(path, fs::Permissions::from_mode(0o755)).unwrap();
}
