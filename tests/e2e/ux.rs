//! What users read: git errors in plain words, `history REPO` that names part of a repository,
//! and the progress display.

use crate::harness::{keyhound_in, run_bounded, FakeKeys, Run, TestEnv};

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

/// A repository where `app/main.py` and `lib/key.py` each held a key, and a commit that
/// changed only `lib/` carries a third in its message.
fn two_paths_with_keys() -> (TestEnv, [String; 3]) {
    let mut keys = FakeKeys::new(1501);
    let keys = [keys.project_key(), keys.project_key(), keys.project_key()];
    let env = TestEnv::git_repo();
    env.write("app/main.py", format!("key = '{}'\n", keys[0]));
    env.write("lib/key.py", format!("key = '{}'\n", keys[1]));
    env.commit_all("first");
    env.write("lib/key.py", "key = None\n");
    env.commit_all(&format!("lib: drop the key {}", keys[2]));
    env.write("app/main.py", "key = None\n");
    env.commit_all("app: drop the key");
    (env, keys)
}

/// `(path, line)` of every finding of `history --format json ARGS`, which must find some.
fn found_at(env: &TestEnv, dir: &str, args: &[&str]) -> Vec<(String, u64)> {
    let mut command = keyhound_in(&env.path().join(dir));
    let run = Run::of(command.args(["history", "--format", "json"]).args(args).output().expect("keyhound runs"));
    let mut places: Vec<(String, u64)> = run
        .expect_code(1)
        .findings()
        .iter()
        .map(|f| (f["path"].as_str().unwrap().to_string(), f["line"].as_u64().unwrap()))
        .collect();
    places.sort();
    places
}

#[test]
fn history_of_a_file_scans_only_that_file_and_the_commits_that_changed_it() {
    let (env, _) = two_paths_with_keys();
    assert_eq!(found_at(&env, "", &["app/main.py"]), [("app/main.py".to_string(), 1)]);
    assert_eq!(found_at(&env, "app", &["main.py"]), [("app/main.py".to_string(), 1)]);
    let lib = [("<commit message>".to_string(), 1), ("lib/key.py".to_string(), 1)];
    assert_eq!(found_at(&env, "", &["lib"]), lib);
    assert_eq!(found_at(&env, "lib", &["."]), lib);
    assert_eq!(found_at(&env, "", &["--range", "HEAD~1", "lib"]), lib);
    assert_eq!(found_at(&env, "", &["--range", "HEAD~2..HEAD~1", "lib"]), [lib[0].clone()]);
    // The whole repository, named by its root or its git directory: everything.
    assert_eq!(found_at(&env, "app", &[".."]).len(), 3);
    assert_eq!(found_at(&env, "", &[".git"]).len(), 3);
}

#[test]
fn history_of_a_path_inside_the_git_directory_is_refused() {
    let (env, _) = two_paths_with_keys();
    let run = env.run(&["history", ".git/objects"]);
    fails_saying(&run, ".git/objects: inside the git directory of the repository at ");
    assert!(run.stdout.is_empty(), "{}", run.stdout);
}

/// The first words of the progress line of `history` and `scan`.
const PROGRESS: [(&str, &str); 2] = [("history", "keyhound: commits "), ("scan", "keyhound: files ")];

#[test]
fn progress_into_a_log_is_plain_lines_without_carriage_returns() {
    let env = committed_repo();
    for (command, progress) in PROGRESS {
        let run = env.run(&[command, "--progress"]);
        run.expect_code(0);
        assert!(run.stderr.lines().any(|line| line.starts_with(progress)), "{command}: {}", run.stderr);
        assert!(!run.stderr.contains('\r'), "{command}: {:?}", run.stderr);
        let quiet = env.run(&[command]);
        assert!(!quiet.stderr.contains(progress), "{command}: progress without a terminal or --progress");
    }
}

/// The progress frames (starting with `progress`) `keyhound COMMAND` draws on a terminal
/// `columns` wide (a pseudo-terminal util-linux's `script` provides); `None` without `script`.
fn progress_frames_on_a_terminal(
    env: &TestEnv,
    (command, progress): (&str, &str),
    columns: u32,
) -> Option<Vec<String>> {
    if std::process::Command::new("script").arg("--version").output().is_err() {
        eprintln!("skipped: util-linux `script` is not installed, so no pseudo-terminal to draw on");
        return None;
    }
    let keyhound = env!("CARGO_BIN_EXE_keyhound");
    let shell = format!("stty rows 24 cols {columns}; exec '{keyhound}' {command}");
    let mut script = std::process::Command::new("script");
    script.args(["-q", "-e", "-c", &shell, "/dev/null"]).current_dir(env.path()).env("GIT_CONFIG_NOSYSTEM", "1");
    let run = run_bounded(&mut script);
    run.expect_code(0);
    let frames = run.stdout.split(['\r', '\n']).filter(|frame| frame.starts_with(progress));
    Some(frames.map(str::to_string).collect())
}

#[test]
fn progress_on_a_terminal_fits_its_width() {
    let env = committed_repo();
    for (command, progress) in PROGRESS {
        let Some(frames) = progress_frames_on_a_terminal(&env, (command, progress), 40) else { return };
        assert!(!frames.is_empty(), "{command}: no progress on a terminal");
        for frame in frames {
            assert!(frame.chars().count() < 40, "{command}: wider than the terminal: {frame:?}");
        }
    }
}
