//! The pre-commit framework (pre-commit.com) running keyhound's `.pre-commit-hooks.yaml`: its
//! `-system` hooks, with the binary under test first on PATH, from a hook repository built
//! here out of this checkout's file.
//!
//! Needs the `pre-commit` program named by `KEYHOUND_TEST_PRECOMMIT` (.ci/run installs a pinned
//! one); without it each test says it skipped. pre-commit gets a home of its own and a local
//! hook repository, so it never reaches for the network.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::harness::{FakeKeys, Run, TestEnv};

/// The variable naming the `pre-commit` program to test with.
const PRE_COMMIT_VAR: &str = "KEYHOUND_TEST_PRECOMMIT";

/// A `pre-commit` program, its home, and a hook repository holding keyhound's hook file.
struct Framework {
    pre_commit: PathBuf,
    /// PRE_COMMIT_HOME, and the empty file that stands in for git's global configuration.
    home: TestEnv,
    hooks: TestEnv,
    hooks_rev: String,
}

impl Framework {
    /// The framework, or `None` (saying why) when no `pre-commit` is named.
    fn new() -> Option<Self> {
        let Some(pre_commit) = std::env::var_os(PRE_COMMIT_VAR) else {
            eprintln!("skipped: {PRE_COMMIT_VAR} names no pre-commit program (.ci/run installs one)");
            return None;
        };
        let home = TestEnv::new();
        home.write("gitconfig", "");
        let hooks = TestEnv::git_repo();
        let manifest = Path::new(env!("CARGO_MANIFEST_DIR")).join(".pre-commit-hooks.yaml");
        hooks.write(".pre-commit-hooks.yaml", std::fs::read(manifest).expect("the hook file is readable"));
        let hooks_rev = hooks.commit_all("keyhound's hooks");
        Some(Framework { pre_commit: pre_commit.into(), home, hooks, hooks_rev })
    }

    /// A repository using the `-system` hooks, with pre-commit's git hooks installed.
    fn project(&self) -> TestEnv {
        let project = TestEnv::git_repo();
        let config = format!(
            "repos:\n  - repo: {}\n    rev: {}\n    hooks:\n      - id: keyhound-system\n      \
             - id: keyhound-files-system\n      - id: keyhound-push-system\n",
            self.hooks.path().display(),
            self.hooks_rev
        );
        project.write(".pre-commit-config.yaml", config);
        project.commit_all("use keyhound's hooks");
        let install = ["install", "--hook-type", "pre-commit", "--hook-type", "pre-push"];
        self.run(&self.pre_commit, project.path(), &install).expect_code(0);
        project
    }

    /// Runs `program ARGS` in `dir` as a user would, but isolated: the binary under test first
    /// on PATH, pre-commit's home and git's global configuration in [`Framework::home`].
    fn run(&self, program: &Path, dir: &Path, args: &[&str]) -> Run {
        let binary_dir = Path::new(env!("CARGO_BIN_EXE_keyhound")).parent().expect("the binary is in a directory");
        let mut path = OsString::from(binary_dir);
        path.push(":");
        path.push(std::env::var_os("PATH").unwrap_or_default());
        let output = Command::new(program)
            .args(args)
            .current_dir(dir)
            .env("PATH", path)
            .env("PRE_COMMIT_HOME", self.home.path().join("pre-commit"))
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GIT_CONFIG_GLOBAL", self.home.path().join("gitconfig"))
            .env_remove("KEYHOUND")
            .stdin(Stdio::null())
            .output()
            .expect("the program runs");
        Run::of(output)
    }

    /// Runs git in `dir`, its hooks running pre-commit.
    fn git(&self, dir: &Path, args: &[&str]) -> Run {
        self.run(Path::new("git"), dir, args)
    }
}

/// What pre-commit and the hooks printed.
fn output(run: &Run) -> String {
    format!("{}{}", run.stdout, run.stderr)
}

/// Asserts that the hook `id` failed on a finding of `openai-api-key`.
fn assert_blocked_by(run: &Run, id: &str) {
    let text = output(run);
    assert_ne!(run.code, 0, "not blocked:\n{text}");
    assert!(text.contains(&format!("- hook id: {id}\n")) && text.contains("openai-api-key"), "{text}");
}

fn key_file(seed: u64) -> String {
    format!("OPENAI_API_KEY = \"{}\"\n", FakeKeys::project_key_of(seed))
}

#[test]
fn a_commit_adding_a_key_is_blocked() {
    let Some(framework) = Framework::new() else { return };
    let project = framework.project();
    project.stage("clean.py", "MODEL = 'gpt'\n");
    framework.git(project.path(), &["commit", "-q", "-m", "clean"]).expect_code(0);

    project.stage("settings.py", key_file(41));
    let commit = framework.git(project.path(), &["commit", "-q", "-m", "key"]);
    assert_blocked_by(&commit, "keyhound-system");
    assert_eq!(project.git(&["log", "-1", "--format=%s"]), "clean");
}

/// Commits a key in `file` past the hooks, then runs `pre-commit run --all-files`, which must
/// fail on it in `keyhound-files-system`, naming the file; returns the repository and the run.
fn run_all_files_over_a_committed_key(framework: &Framework, file: &str, seed: u64) -> (TestEnv, Run) {
    let project = framework.project();
    project.stage(file, key_file(seed));
    framework.git(project.path(), &["commit", "-q", "--no-verify", "-m", "key"]).expect_code(0);
    let run = framework.run(&framework.pre_commit, project.path(), &["run", "--all-files"]);
    assert_blocked_by(&run, "keyhound-files-system");
    assert!(output(&run).contains(&format!("{file}:1:")), "{}", output(&run));
    (project, run)
}

#[test]
fn run_all_files_finds_a_key_already_committed() {
    let Some(framework) = Framework::new() else { return };
    let (_, run) = run_all_files_over_a_committed_key(&framework, "settings.py", 42);
    // The staged-changes hook has nothing to scan here: the index equals HEAD.
    assert!(!output(&run).contains("- hook id: keyhound-system\n"), "{}", output(&run));
}

/// pre-commit puts the repository's file names on keyhound's command line: one shaped like an
/// option must be scanned as a file, never obeyed.
#[test]
fn a_file_named_like_an_option_is_scanned_not_obeyed() {
    let Some(framework) = Framework::new() else { return };
    let (project, _) = run_all_files_over_a_committed_key(&framework, "--output=hijacked", 46);
    assert!(!project.path().join("hijacked").exists(), "a file name chose where the report went");
}

#[test]
fn a_push_of_a_key_is_blocked() {
    let Some(framework) = Framework::new() else { return };
    let project = framework.project();
    let remote = TestEnv::new();
    remote.git(&["init", "-q", "--bare"]);
    let remote_path = remote.path().to_str().expect("temp paths are UTF-8");
    project.git(&["remote", "add", "origin", remote_path]);
    let push = |branch: &str| framework.git(project.path(), &["push", "-q", "origin", branch]);
    let commit_key = |seed: u64| {
        project.stage(&format!("key{seed}.py"), key_file(seed));
        project.git(&["commit", "-q", "--no-verify", "-m", "key"]);
    };

    // A new branch from its root commit: pre-commit names no starting point.
    push("main").expect_code(0);
    // A new branch off one the remote has: the range starts at its fork point.
    project.git(&["checkout", "-q", "-b", "feature"]);
    commit_key(43);
    assert_blocked_by(&push("feature"), "keyhound-push-system");
    // An update of a branch the remote has: the range starts at the remote's commit.
    project.git(&["checkout", "-q", "main"]);
    commit_key(44);
    assert_blocked_by(&push("main"), "keyhound-push-system");
    // A new root branch that holds a key.
    project.git(&["checkout", "-q", "--orphan", "fresh"]);
    commit_key(45);
    assert_blocked_by(&push("fresh"), "keyhound-push-system");

    let remote_refs = remote.git(&["for-each-ref", "--format=%(refname)"]);
    assert_eq!(remote_refs, "refs/heads/main");
    assert_eq!(remote.git(&["log", "-1", "--format=%s", "main"]), "use keyhound's hooks");
}
