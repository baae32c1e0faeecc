//! What users read: git errors in plain words, `history REPO` that names part of a repository,
//! and the progress display.

use crate::harness::{Run, TestEnv};

/// Asserts that `run` failed (exit 2) saying `expected`, with none of libgit2's internals.
fn fails_saying(run: &Run, expected: &str) {
    run.expect_code(2);
    assert!(run.stderr.contains(expected), "expected {expected:?} in:\n{}", run.stderr);
    for internal in ["class=", "code=", "(-3)"] {
        assert!(!run.stderr.contains(internal), "libgit2 internals in:\n{}", run.stderr);
    }
}

/// A repository with one commit.
fn committed_repo() -> TestEnv {
    let env = TestEnv::git_repo();
    env.write("app/main.py", "print('hello')\n");
    env.commit_all("first");
    env
}

#[test]
fn outside_a_repository_every_command_says_so_and_what_to_do() {
    let env = TestEnv::new();
    let pass_repo = "not a git repository: . (run it inside a repository, or pass REPO)";
    fails_saying(&env.run(&["history"]), pass_repo);
    fails_saying(&env.run(&["staged"]), pass_repo);
    fails_saying(&env.run(&["hook", "install"]), "not a git repository: . (run it inside a repository)");
    let named = "not a git repository: sub (REPO must be a repository or a directory inside one)";
    std::fs::create_dir(env.path().join("sub")).unwrap();
    fails_saying(&env.run(&["staged", "sub"]), named);
    fails_saying(&env.run(&["history", "sub"]), named);
    fails_saying(&env.run(&["staged", "no-such-dir"]), "no-such-dir: ");
}

#[test]
fn a_damaged_index_is_named_in_plain_words() {
    let env = committed_repo();
    env.write(".git/index", "DIRC and then nothing an index holds");
    fails_saying(&env.run(&["staged"]), "cannot read the index: the index (staging area) is damaged");
}

#[test]
fn a_range_naming_nothing_says_so() {
    let env = committed_repo();
    fails_saying(&env.run(&["history", "--range", "no-such-branch"]), "no such branch, tag or commit");
}
