//! No silent miss in a work tree or index: tracked files that are also ignored, a regular file named .git, CR-only line ends, staged symlinks, hostile ignore files.

use crate::harness::{self, mkfifo, FakeKeys, Run, TestEnv};

/// Runs `keyhound ARGS` with extra environment variables, failing the test if it hangs.
fn run_bounded(env: &TestEnv, args: &[&str], vars: &[(&str, &str)]) -> Run {
    harness::run_bounded(env.keyhound().args(args).envs(vars.iter().copied()))
}

/// Asserts that the scan finished, named the ignore file `name` as not read, found the keys
/// (exit 1: an ignore file not read only scans more) and never printed `secret`.
fn assert_scanned_despite(run: &Run, name: &str, secret: &str) {
    run.expect_code(1);
    assert!(run.stderr.contains(&format!("warning: {name}: not read (")), "{}", run.stderr);
    assert!(run.stderr.contains("its ignore rules were not applied"), "{}", run.stderr);
    assert!(!run.stdout.contains(secret) && !run.stderr.contains(secret), "secret echoed");
}

/// A repository with a key in `config.py` and `listed.env`, committed.
fn repo_with_keys(seed: u64) -> (TestEnv, String) {
    let env = TestEnv::git_repo();
    let key = FakeKeys::project_key_of(seed);
    env.write("config.py", format!("OPENAI_API_KEY = \"{key}\"\n"));
    env.write("listed.env", format!("OPENAI_API_KEY={key}\n"));
    (env, key)
}

#[cfg(unix)]
#[test]
fn committed_gitignore_symlink_to_dev_zero_is_not_read() {
    let (env, key) = repo_with_keys(1301);
    std::os::unix::fs::symlink("/dev/zero", env.path().join(".gitignore")).unwrap();
    env.commit_all("a .gitignore that never ends");
    let run = run_bounded(&env, &["scan"], &[]);
    assert_scanned_despite(&run, ".gitignore", &key);
}

#[cfg(target_os = "linux")]
#[test]
fn gitignore_symlink_to_the_environment_is_not_read_nor_echoed() {
    let (env, _) = repo_with_keys(1302);
    std::os::unix::fs::symlink("/proc/self/environ", env.path().join(".gitignore")).unwrap();
    env.commit_all("a .gitignore that is the environment");
    let ci_secret = FakeKeys::project_key_of(1303);
    let run = run_bounded(&env, &["scan"], &[("CI_SECRET", &ci_secret)]);
    assert_scanned_despite(&run, ".gitignore", &ci_secret);
}

#[cfg(unix)]
#[test]
fn fifo_gitignore_never_hangs_the_scan() {
    let (env, key) = repo_with_keys(1304);
    env.commit_all("keys");
    mkfifo(&env.path().join(".gitignore"));
    let run = run_bounded(&env, &["scan"], &[]);
    assert_scanned_despite(&run, ".gitignore", &key);
}

#[cfg(unix)]
#[test]
fn fifo_dot_ignore_in_a_subdirectory_never_hangs_the_scan() {
    let (env, key) = repo_with_keys(1305);
    env.write("sub/listed.env", format!("OPENAI_API_KEY={key}\n"));
    mkfifo(&env.path().join("sub/.ignore"));
    let run = run_bounded(&env, &["scan", "--format", "json"], &[]);
    assert_scanned_despite(&run, "sub/.ignore", &key);
    assert!(run.findings().iter().any(|f| f["path"] == "sub/listed.env"), "{}", run.stdout);
}

/// A repository whose `.gitignore` and `.ignore` list files that are nevertheless committed
/// (`git add -f`), each holding a key, next to an untracked ignored one.
fn repo_with_tracked_ignored_keys() -> TestEnv {
    let env = TestEnv::git_repo();
    let key = FakeKeys::project_key_of(1306);
    env.write(".gitignore", ".env\nvendor/\n*.local\n");
    env.write(".ignore", "settings.py\n");
    for path in [".env", "vendor/keys.txt", "settings.py"] {
        env.write(path, format!("OPENAI_API_KEY={key}\n"));
    }
    env.git(&["add", "-f", "--", ".env", "vendor/keys.txt", "settings.py", ".gitignore", ".ignore"]);
    env.git(&["commit", "-q", "-m", "force-added secrets"]);
    env.write("untracked.local", format!("OPENAI_API_KEY={key}\n"));
    env
}

fn finding_paths(run: &Run) -> Vec<String> {
    let mut paths: Vec<String> = run.findings().iter().map(|f| f["path"].as_str().unwrap().to_string()).collect();
    paths.sort();
    paths
}

#[test]
fn tracked_files_are_scanned_even_when_an_ignore_file_lists_them() {
    let env = repo_with_tracked_ignored_keys();
    let run = run_bounded(&env, &["scan", "--format", "json"], &[]);
    run.expect_code(1);
    assert_eq!(finding_paths(&run), [".env", "settings.py", "vendor/keys.txt"]);
    // The untracked ignored file is still excluded, and counted.
    assert!(run.stderr.contains("1 file excluded by .gitignore"), "{}", run.stderr);
}

#[test]
fn tracked_files_in_an_ignored_directory_named_on_the_command_line_are_scanned() {
    let env = repo_with_tracked_ignored_keys();
    env.write("vendor/untracked.txt", "nothing\n");
    let run = run_bounded(&env, &["scan", "--format", "json", "vendor"], &[]);
    run.expect_code(1);
    assert_eq!(finding_paths(&run), ["vendor/keys.txt"]);
    assert!(run.stderr.contains("1 file excluded by .gitignore"), "{}", run.stderr);
}

#[test]
fn an_ignored_file_named_on_the_command_line_is_scanned() {
    let env = repo_with_tracked_ignored_keys();
    let run = run_bounded(&env, &["scan", "--format", "json", "untracked.local"], &[]);
    run.expect_code(1);
    assert_eq!(finding_paths(&run), ["untracked.local"]);
}

#[test]
fn a_regular_file_named_dot_git_is_scanned() {
    let env = TestEnv::new();
    let key = FakeKeys::project_key_of(1307);
    env.write(".git", format!("OPENAI_API_KEY={key}\n"));
    env.write("nested/.git", format!("gitdir: ../nowhere\nOPENAI_API_KEY={key}\n"));
    let run = run_bounded(&env, &["scan", "--format", "json"], &[]);
    run.expect_code(1);
    assert_eq!(finding_paths(&run), [".git", "nested/.git"]);
}

#[cfg(unix)]
#[test]
fn a_staged_symlink_whose_target_is_a_key_blocks_the_commit() {
    let env = TestEnv::git_repo();
    env.write("app.py", "print('hello')\n");
    env.commit_all("first");
    let key = FakeKeys::project_key_of(1308);
    std::os::unix::fs::symlink(format!("OPENAI_API_KEY={key}"), env.path().join("link")).unwrap();
    env.git(&["add", "--", "link"]);
    let run = run_bounded(&env, &["staged", "--format", "json"], &[]);
    run.expect_code(1);
    assert_eq!(finding_paths(&run), ["link"]);
}

/// A symlink the user names on the command line is followed (they asked for that file); one
/// the walk meets inside a directory is counted, never followed out of the tree.
#[cfg(unix)]
#[test]
fn a_named_symlink_is_followed_and_a_listed_one_is_not() {
    let key = FakeKeys::project_key_of(1341);
    let outside = TestEnv::new();
    outside.write("secret.py", format!("k = \"{key}\"\n"));
    let env = TestEnv::new();
    env.write("tree/plain.txt", "nothing here\n");
    std::os::unix::fs::symlink(outside.path().join("secret.py"), env.path().join("tree/link.py")).unwrap();
    let listed = run_bounded(&env, &["scan", "tree"], &[]);
    listed.expect_code(0);
    assert!(!listed.stdout.contains("link.py"), "{}", listed.stdout);
    let named = run_bounded(&env, &["scan", "tree/link.py"], &[]);
    named.expect_code(1);
    assert!(named.stdout.contains("link.py"), "{}", named.stdout);
}
