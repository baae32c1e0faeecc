//! A repository owned by another user, as one mounted into a container is: keyhound reads it
//! (libgit2's ownership check is off for reading), but `hook install` still refuses to write
//! where such a repository's configuration says.

use std::path::Path;
use std::process::Command;

use crate::harness::{keyhound_in, FakeKeys, Run, TestEnv};

/// Not the test's user (tests run as root, which `chown` needs).
const OTHER_OWNER: &str = "12345:12345";

/// A repository with a key in its history and another staged, then given to [`OTHER_OWNER`];
/// `None` (with the reason printed) where this process may not change owners.
fn repository_of_another_user() -> Option<TestEnv> {
    let env = TestEnv::git_repo();
    env.write("settings.py", format!("OPENAI_API_KEY = \"{}\"\n", FakeKeys::project_key_of(31)));
    env.commit_all("settings");
    env.stage("staged.py", format!("KEY = \"{}\"\n", FakeKeys::project_key_of(32)));
    let chown = Command::new("chown").args(["-R", OTHER_OWNER]).arg(env.path()).output().expect("chown runs");
    if !chown.status.success() {
        eprintln!("skipped: cannot give a repository to another user: {}", String::from_utf8_lossy(&chown.stderr));
        return None;
    }
    Some(env)
}

/// `keyhound ARGS` in `dir`, with a home of its own, so no `safe.directory` of the machine's
/// git configuration lets the repository through.
fn run_without_global_config(dir: &Path, home: &TestEnv, args: &[&str]) -> Run {
    let mut command = keyhound_in(dir);
    command.args(args).env("HOME", home.path()).env("XDG_CONFIG_HOME", home.path());
    Run::of(command.output().expect("keyhound runs"))
}

#[test]
fn history_and_staged_read_a_repository_another_user_owns() {
    let Some(repo) = repository_of_another_user() else { return };
    let home = TestEnv::new();
    let history = run_without_global_config(repo.path(), &home, &["history", "--format", "json"]);
    history.expect_code(1);
    assert_eq!(history.findings().len(), 1, "{}", history.stdout);
    let staged = run_without_global_config(repo.path(), &home, &["staged", "--format", "json"]);
    staged.expect_code(1);
    assert_eq!(staged.findings().len(), 1, "{}", staged.stdout);
}

#[test]
fn hook_install_still_refuses_a_repository_another_user_owns() {
    let Some(repo) = repository_of_another_user() else { return };
    let home = TestEnv::new();
    let run = run_without_global_config(repo.path(), &home, &["hook", "install"]);
    run.expect_code(2);
    assert!(run.stderr.contains("not owned by current user"), "{}", run.stderr);
    assert!(!repo.path().join(".git/hooks/pre-commit").exists());
}
