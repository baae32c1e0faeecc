//! Writes go only where the user said: never through a symlink, never outside the repository unless the path came from the command line.
//!
//! Each case builds a repository inside a scratch directory that also holds a victim file
//! outside the repository, and asserts the victim is untouched.

use std::fs;
use std::os::unix::fs::symlink;
use std::path::PathBuf;
use std::process::Command;

use crate::harness::{FakeKeys, TestEnv};

const PRECIOUS: &str = "export PATH=$HOME/bin:$PATH\n";

/// A scratch directory holding `repo/` (a git repository with a committed key in `app.env`)
/// and `victim/.bashrc` outside it.
struct Scene {
    scratch: TestEnv,
}

impl Scene {
    fn new() -> Self {
        let scratch = TestEnv::new();
        scratch.write("victim/.bashrc", PRECIOUS);
        let scene = Scene { scratch };
        scene.git(&["init", "-q", "-b", "main", "repo"]);
        scene.scratch.write("repo/app.env", format!("KEY={}\n", FakeKeys::project_key_of(1401)));
        scene
    }

    fn repo(&self) -> PathBuf {
        self.scratch.path().join("repo")
    }

    fn victim(&self) -> PathBuf {
        self.scratch.path().join("victim/.bashrc")
    }

    fn git(&self, args: &[&str]) {
        let status = crate::harness::git_command(self.scratch.path()).args(args).status().expect("git runs");
        assert!(status.success(), "git {args:?}");
    }

    fn keyhound(&self, args: &[&str]) -> crate::harness::Run {
        crate::harness::Run::of(crate::harness::keyhound_in(&self.repo()).args(args).output().expect("keyhound runs"))
    }

    fn assert_victim_untouched(&self) {
        assert_eq!(fs::read_to_string(self.victim()).unwrap(), PRECIOUS);
        assert!(!fs::symlink_metadata(self.victim()).unwrap().file_type().is_symlink());
    }
}

#[test]
fn a_config_baseline_outside_the_repository_is_refused() {
    let scene = Scene::new();
    for target in ["../victim/.bashrc", "linked/.bashrc"] {
        fs::write(scene.repo().join(".keyhound.toml"), format!("baseline = {target:?}\n")).unwrap();
        let _ = fs::remove_file(scene.repo().join("linked"));
        symlink(scene.scratch.path().join("victim"), scene.repo().join("linked")).unwrap();
        let run = scene.keyhound(&["baseline", "create"]);
        run.expect_code(2);
        assert!(run.stderr.contains(target) && run.stderr.contains("leads outside the repository"), "{}", run.stderr);
        scene.assert_victim_untouched();
    }
}

#[test]
fn a_committed_baseline_symlink_is_replaced_not_followed() {
    let scene = Scene::new();
    symlink(scene.victim(), scene.repo().join(".keyhound-baseline")).unwrap();
    scene.keyhound(&["baseline", "create"]).expect_code(0);
    scene.assert_victim_untouched();
    let written = fs::read_to_string(scene.repo().join(".keyhound-baseline")).unwrap();
    assert!(written.starts_with("# keyhound baseline v1") && written.contains(" app.env\n"), "{written}");
}

#[test]
fn a_report_written_over_a_symlink_replaces_it() {
    let scene = Scene::new();
    symlink(scene.victim(), scene.repo().join("report.json")).unwrap();
    scene.keyhound(&["scan", "--format", "json", "--output", "report.json"]).expect_code(1);
    scene.assert_victim_untouched();
    assert!(fs::read_to_string(scene.repo().join("report.json")).unwrap().contains("openai-api-key"));
}

#[test]
fn hooks_go_only_where_the_repository_may_put_them() {
    let scene = Scene::new();
    let hooks = scene.repo().join(".git/hooks");
    fs::create_dir_all(&hooks).unwrap();
    symlink(scene.victim(), hooks.join("pre-commit")).unwrap();
    let run = scene.keyhound(&["hook", "install", "--force"]);
    run.expect_code(0);
    scene.assert_victim_untouched();
    assert!(fs::read_to_string(hooks.join("pre-commit")).unwrap().contains("# keyhound-hook"));
    let outside = scene.scratch.path().join("victim-hooks");
    scene.git(&["-C", "repo", "config", "core.hooksPath", "../victim-hooks/deeper"]);
    let run = scene.keyhound(&["hook", "install"]);
    run.expect_code(2);
    assert!(run.stderr.contains("leads outside the repository"), "{}", run.stderr);
    assert!(!outside.exists(), "nothing is created outside the repository");
}

/// Names that a shell would run or split if a baseline line were sourced.
const HOSTILE_NAMES: [&str; 3] = ["$(touch PWNED)", "`touch PWNED`;touch PWNED", "new\nline $(touch PWNED).env"];

#[test]
fn hostile_file_names_round_trip_through_a_baseline_and_stay_inert_in_a_shell() {
    let scene = Scene::new();
    let key = FakeKeys::project_key_of(1402);
    for name in HOSTILE_NAMES {
        fs::write(scene.repo().join(name), format!("KEY={key}\n")).unwrap();
    }
    scene.keyhound(&["baseline", "create"]).expect_code(0);
    let run = scene.keyhound(&["scan", "--baseline", ".keyhound-baseline", "--format", "json"]);
    run.expect_code(0);
    assert!(run.findings().is_empty(), "{}", run.stdout);
    let baseline = fs::read_to_string(scene.repo().join(".keyhound-baseline")).unwrap();
    assert!(baseline.contains("\"\\$(touch PWNED)\""), "{baseline}");
    assert_sourcing_creates_nothing(&baseline);
    for name in HOSTILE_NAMES {
        fs::write(scene.repo().join(name), format!("KEY={}\n", FakeKeys::project_key_of(1403))).unwrap();
    }
    let run = scene.keyhound(&["scan", "--baseline", ".keyhound-baseline", "--format", "json"]);
    assert_eq!(run.findings().len(), HOSTILE_NAMES.len(), "new secrets in those files are reported");
}

/// Runs `sh -c '. ./baseline'` in an empty directory and asserts it made no `PWNED`.
fn assert_sourcing_creates_nothing(baseline: &str) {
    let dir = TestEnv::new();
    dir.write("baseline", baseline);
    let _ = Command::new("sh").args(["-c", ". ./baseline"]).current_dir(dir.path()).output().expect("sh runs");
    assert!(!dir.path().join("PWNED").exists(), "sourcing the baseline ran code:\n{baseline}");
}
