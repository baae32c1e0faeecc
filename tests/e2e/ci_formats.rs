//! CI report formats as CI systems read them: GitHub annotations placed from the repository
//! root, SARIF for code scanning, `--quiet` in CI recipes, and configuration from the
//! environment.

use std::path::Path;
use std::process::Stdio;

use crate::harness::{keyhound_in, FakeKeys, Run, TestEnv};

/// A repository with one committed key in `app/.env` and one in `top.env`.
fn repo_with_keys() -> TestEnv {
    let env = TestEnv::git_repo();
    let mut keys = FakeKeys::new(1501);
    env.write("app/.env", format!("OPENAI_API_KEY={}\n", keys.project_key()));
    env.write("top.env", format!("OPENAI_API_KEY={}\n", keys.project_key()));
    env.commit_all("add keys");
    env
}

/// Runs `keyhound ARGS` in `dir` with `vars` set and no CI variables inherited.
fn run_in(dir: &Path, vars: &[(&str, &Path)], args: &[&str]) -> Run {
    let mut command = keyhound_in(dir);
    command.env_remove("GITHUB_WORKSPACE").env_remove("KEYHOUND_CONFIG").stdin(Stdio::null());
    for (name, value) in vars {
        command.env(name, value);
    }
    Run::of(command.args(args).output().expect("keyhound runs"))
}

/// The `file=` of each annotation, sorted.
fn annotated_files(run: &Run) -> Vec<String> {
    let mut files: Vec<String> = run
        .stdout
        .lines()
        .filter_map(|line| line.split("file=").nth(1)?.split(',').next().map(str::to_string))
        .collect();
    files.sort();
    files
}

#[test]
fn github_annotations_are_placed_from_the_repository_root_in_a_subdirectory() {
    let env = repo_with_keys();
    let run = run_in(&env.path().join("app"), &[], &["scan", "--format", "github"]);
    run.expect_code(1);
    assert_eq!(annotated_files(&run), ["app/.env"], "{}", run.stdout);
    let run = run_in(&env.path().join("app"), &[], &["scan", "--format", "github", ".."]);
    assert_eq!(annotated_files(&run), ["app/.env", "top.env"], "{}", run.stdout);
}

#[test]
fn github_annotations_are_placed_from_the_workspace_when_it_holds_the_file() {
    let env = repo_with_keys();
    let workspace = env.path().join("app");
    let run = run_in(env.path(), &[("GITHUB_WORKSPACE", &workspace)], &["scan", "--format", "github"]);
    run.expect_code(1);
    assert_eq!(annotated_files(&run), [".env", "top.env"], "{}", run.stdout);
}
