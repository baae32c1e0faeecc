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

/// The SARIF log of a run.
fn sarif(run: &Run) -> serde_json::Value {
    serde_json::from_str(&run.stdout).unwrap_or_else(|e| panic!("not SARIF ({e}):\n{}\n{}", run.stdout, run.stderr))
}

#[test]
fn sarif_and_code_quality_locations_are_placed_from_the_repository_root_in_a_subdirectory() {
    let env = repo_with_keys();
    let run = run_in(&env.path().join("app"), &[], &["scan", "--format", "sarif"]);
    run.expect_code(1);
    let log = sarif(&run);
    let uris: Vec<&str> = log["runs"][0]["results"]
        .as_array()
        .expect("results")
        .iter()
        .map(|result| result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"].as_str().expect("uri"))
        .collect();
    assert_eq!(uris, ["app/.env"], "{}", run.stdout);
    let run = run_in(&env.path().join("app"), &[], &["scan", "--format", "codequality"]);
    let issues: serde_json::Value = serde_json::from_str(&run.stdout).expect("Code Quality JSON");
    assert_eq!(issues[0]["location"]["path"], "app/.env", "{}", run.stdout);
}

#[test]
fn sarif_keeps_two_places_of_one_key_apart_and_names_the_command() {
    let env = TestEnv::git_repo();
    let key = FakeKeys::new(1502).project_key();
    env.write("app/.env", format!("A={key}\nB={key}\n"));
    env.commit_all("add key twice");
    let scan = sarif(run_in(env.path(), &[], &["scan", "--format", "sarif"]).expect_code(1));
    let results = scan["runs"][0]["results"].as_array().expect("results");
    assert_eq!(results.len(), 2);
    let places: Vec<&serde_json::Value> =
        results.iter().map(|result| &result["partialFingerprints"]["keyhound/location/v1"]).collect();
    assert!(places[0].is_string() && places[0] != places[1], "{places:?}");
    assert_eq!(results[0]["partialFingerprints"]["keyhound/v1"], results[1]["partialFingerprints"]["keyhound/v1"]);
    assert_eq!(scan["runs"][0]["automationDetails"]["id"], "keyhound/scan/");
    let history = sarif(run_in(env.path(), &[], &["history", "--format", "sarif"]).expect_code(1));
    assert_eq!(history["runs"][0]["automationDetails"]["id"], "keyhound/history/");
}

#[test]
fn sarif_gives_a_key_in_a_commit_message_a_logical_location() {
    let env = TestEnv::git_repo();
    env.write("README", "nothing here\n");
    env.commit_all(&format!("add readme\n\nkey: {}\n", FakeKeys::new(1503).project_key()));
    let log = sarif(run_in(env.path(), &[], &["history", "--format", "sarif"]).expect_code(1));
    let location = &log["runs"][0]["results"][0]["locations"][0];
    assert!(location["physicalLocation"].is_null(), "{location}");
    assert_eq!(location["logicalLocations"][0]["name"], "<commit message>");
}

#[test]
fn sarif_holds_at_most_what_github_accepts_and_says_how_many_were_left_out() {
    let env = TestEnv::new();
    let key = FakeKeys::new(1504).project_key();
    env.write("many.env", format!("K={key}\n").repeat(25_003));
    let run = run_in(env.path(), &[], &["scan", "--format", "sarif"]);
    run.expect_code(1);
    assert_eq!(sarif(&run)["runs"][0]["results"].as_array().expect("results").len(), 25_000);
    assert!(
        run.stderr.contains("first 25000 of 25003 findings") && run.stderr.contains("3 left out"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("--format json"), "{}", run.stderr);
}

#[test]
fn quiet_still_says_why_the_exit_code_is_2() {
    let env = repo_with_keys();
    env.write("lost.txt", "this blob goes missing\n");
    env.commit_all("a blob to lose");
    let lost = env.git(&["rev-parse", "HEAD:lost.txt"]);
    std::fs::remove_file(env.path().join(".git/objects").join(&lost[..2]).join(&lost[2..])).expect("remove blob");
    let run = run_in(env.path(), &[], &["history", "--quiet", "--format", "json"]);
    run.expect_code(2);
    let lines: Vec<&str> = run.stderr.lines().collect();
    assert!(
        lines.iter().any(|line| line.starts_with("keyhound: error: blob ") && line.contains(&lost)),
        "{}",
        run.stderr
    );
    assert!(lines.last().is_some_and(|line| line.starts_with("keyhound: scan incomplete: 1 error;")), "{}", run.stderr);
    assert!(!run.stderr.contains("note:") && !run.stderr.contains("warning:"), "{}", run.stderr);
}

#[test]
fn quiet_keeps_a_complete_scan_silent() {
    let env = repo_with_keys();
    env.write("big.bin", vec![b'x'; 2048]);
    let run = run_in(env.path(), &[], &["scan", "--quiet", "--max-file-size", "1KiB", "--format", "json"]);
    run.expect_code(1);
    assert_eq!(run.findings().len(), 2);
    assert_eq!(run.stderr, "");
}

#[test]
fn keyhound_config_names_the_config_file_and_config_wins_over_it() {
    let env = repo_with_keys();
    let elsewhere = TestEnv::new();
    let json = elsewhere.write("ci/keyhound.toml", "format = \"json\"\n");
    let csv = elsewhere.write("csv.toml", "format = \"csv\"\n");
    let run = run_in(env.path(), &[("KEYHOUND_CONFIG", &json)], &["scan"]);
    run.expect_code(1);
    assert_eq!(run.findings().len(), 2);
    let run = run_in(env.path(), &[("KEYHOUND_CONFIG", &json)], &["scan", "--config", csv.to_str().expect("UTF-8")]);
    assert!(run.stdout.starts_with("rule,"), "{}", run.stdout);
    let missing = elsewhere.path().join("missing.toml");
    let run = run_in(env.path(), &[("KEYHOUND_CONFIG", &missing)], &["scan"]);
    run.expect_code(2);
    assert!(run.stderr.contains("missing.toml"), "{}", run.stderr);
}

/// A repository whose `.keyhound.toml` asks for SARIF, as a CI setup would, with a key staged.
fn sarif_configured_repo_with_staged_key() -> TestEnv {
    let env = TestEnv::git_repo();
    env.write(".keyhound.toml", "format = \"sarif\"\n");
    env.write("README", "readme\n");
    env.commit_all("configure keyhound for CI");
    env.stage("leak.py", format!("k = '{}'\n", FakeKeys::project_key_of(1505)));
    env
}

#[test]
fn staged_reports_in_text_whatever_format_the_config_sets() {
    let env = sarif_configured_repo_with_staged_key();
    let run = run_in(env.path(), &[], &["staged"]);
    run.expect_code(1);
    assert!(!run.stdout.contains("\"runs\"") && run.stdout.contains("leak.py:1:"), "{}", run.stdout);
    let run = run_in(env.path(), &[], &["staged", "--format", "json"]);
    assert_eq!(run.findings().len(), 1);
}

#[cfg(unix)]
#[test]
fn hooks_report_in_text_whatever_format_the_config_sets() {
    let env = sarif_configured_repo_with_staged_key();
    let git = |args: &[&str]| {
        let mut command = crate::harness::git_command(env.path());
        command.env("KEYHOUND", env!("CARGO_BIN_EXE_keyhound")).env_remove("KEYHOUND_CONFIG").stdin(Stdio::null());
        Run::of(command.args(args).output().expect("git runs"))
    };
    run_in(env.path(), &[], &["hook", "install", "--pre-push"]).expect_code(0);
    let commit = git(&["commit", "-q", "-m", "leak"]);
    assert_ne!(commit.code, 0, "the commit must be blocked");
    let output = format!("{}{}", commit.stdout, commit.stderr);
    assert!(!output.contains("\"runs\"") && output.contains("leak.py:1:"), "{output}");

    let remote = TestEnv::new();
    crate::harness::git_command(remote.path()).args(["init", "-q", "--bare"]).status().expect("git runs");
    git(&["commit", "-q", "--no-verify", "-m", "leak"]).expect_code(0);
    let push = git(&["push", "-q", remote.path().to_str().expect("UTF-8"), "HEAD:main"]);
    assert_ne!(push.code, 0, "the push must be blocked");
    let output = format!("{}{}", push.stdout, push.stderr);
    assert!(!output.contains("\"runs\"") && output.contains("leak.py:1:"), "{output}");
}

/// The GitLab secret detection report of a run.
fn gitlab_report(run: &Run) -> serde_json::Value {
    serde_json::from_str(&run.stdout).expect("the GitLab report is JSON")
}

#[test]
fn gitlab_report_places_history_findings_at_their_commit_and_files_from_the_root() {
    let env = repo_with_keys();
    let commit = env.git(&["rev-parse", "HEAD"]);
    let run = run_in(&env.path().join("app"), &[], &["history", "--format", "gitlab"]);
    run.expect_code(1);
    let report = gitlab_report(&run);
    assert_eq!(report["scan"]["type"], "secret_detection");
    assert_eq!(report["scan"]["status"], "success");
    let mut files: Vec<&str> =
        report["vulnerabilities"].as_array().unwrap().iter().filter_map(|v| v["location"]["file"].as_str()).collect();
    files.sort();
    assert_eq!(files, ["app/.env", "top.env"], "{}", run.stdout);
    for vulnerability in report["vulnerabilities"].as_array().unwrap() {
        assert_eq!(vulnerability["location"]["commit"]["sha"].as_str(), Some(commit.trim()));
        assert_eq!(vulnerability["identifiers"][0]["value"], "openai-api-key");
    }
    assert!(!run.stdout.contains(&FakeKeys::new(1501).project_key()), "no secret by default");
}

#[test]
fn gitlab_report_of_an_incomplete_scan_says_it_failed() {
    let env = repo_with_keys();
    env.write("lost.txt", "this blob goes missing\n");
    env.commit_all("a blob to lose");
    let lost = env.git(&["rev-parse", "HEAD:lost.txt"]);
    std::fs::remove_file(env.path().join(".git/objects").join(&lost[..2]).join(&lost[2..])).expect("remove blob");
    let output = env.path().join("gl-secret-detection-report.json");
    let run = run_in(env.path(), &[], &["history", "--format", "gitlab", "--output", output.to_str().unwrap()]);
    run.expect_code(2);
    let report: serde_json::Value = serde_json::from_slice(&std::fs::read(&output).unwrap()).unwrap();
    assert_eq!(report["scan"]["status"], "failure");
    assert_eq!(report["vulnerabilities"].as_array().map(Vec::len), Some(2));
}

#[test]
fn gitlab_report_of_files_has_no_commit_to_name() {
    let env = repo_with_keys();
    let run = run_in(env.path(), &[], &["scan", "--format", "gitlab"]);
    run.expect_code(1);
    let report = gitlab_report(&run);
    assert_eq!(report["vulnerabilities"][0]["location"]["commit"]["sha"], "0000000");
}
