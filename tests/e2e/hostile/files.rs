//! Files the repository controls (config, ignore files, baselines, rule paths, git config) are read safely and never echoed.
//!
//! Each case builds a real repository, runs keyhound with a fake key in its environment as
//! `CI_SECRET`, and asserts exit 2, a message naming the file and why, no byte of the
//! environment or of a planted key in any output, and no hang (the child is killed after 60 s).

use std::os::unix::fs::symlink;
use std::path::Path;

use crate::harness::{self, mkfifo, FakeKeys, Run, TestEnv};

/// The key in the child's environment: it must never reach an output.
fn ci_secret() -> String {
    FakeKeys::project_key_of(1301)
}

/// A key planted in a repository file.
fn planted_key() -> String {
    FakeKeys::project_key_of(1302)
}

/// Runs `keyhound ARGS` in `dir` with `CI_SECRET` set, failing the test if it hangs.
fn run_bounded(dir: &Path, args: &[&str]) -> Run {
    harness::run_bounded(harness::keyhound_in(dir).args(args).env("CI_SECRET", ci_secret()))
}

/// Asserts a refusal: exit 2, `what` and `why` on standard error, and no secret anywhere.
fn assert_refused(run: &Run, what: &str, why: &str) {
    run.expect_code(2);
    assert!(run.stderr.contains(what) && run.stderr.contains(why), "want {what:?} and {why:?} in:\n{}", run.stderr);
    assert_no_secret(run);
}

fn assert_no_secret(run: &Run) {
    for secret in [ci_secret(), planted_key(), "CI_SECRET=".to_string()] {
        let shown = |text: &str| text.contains(&secret);
        assert!(!shown(&run.stdout) && !shown(&run.stderr), "a secret was printed:\n{}\n{}", run.stdout, run.stderr);
    }
}

/// A repository with one committed file and nothing to find.
fn repo() -> TestEnv {
    let env = TestEnv::git_repo();
    env.write("app.py", "print('hello')\n");
    env.commit_all("init");
    env
}

#[test]
fn a_config_symlinked_to_the_environment_is_refused_unread() {
    let env = repo();
    symlink("/proc/self/environ", env.path().join(".keyhound.toml")).unwrap();
    for command in [&["scan"][..], &["history"], &["staged"]] {
        assert_refused(&run_bounded(env.path(), command), ".keyhound.toml", "leads outside the repository");
    }
}

#[test]
fn an_ignore_file_symlinked_to_the_environment_is_refused_unread() {
    let env = repo();
    symlink("/proc/self/environ", env.path().join(".keyhoundignore")).unwrap();
    assert_refused(&run_bounded(env.path(), &["scan"]), ".keyhoundignore", "leads outside the repository");
}

#[test]
fn rule_paths_outside_the_repository_are_refused() {
    let env = repo();
    for target in ["/proc/self/environ", "/dev/zero"] {
        env.write(".keyhound.toml", format!("[rules]\npaths = [{target:?}]\n"));
        assert_refused(&run_bounded(env.path(), &["scan"]), target, "leads outside the repository");
    }
    let outside = TestEnv::new();
    outside.write("rules/mine.toml", "[[rule]]\nid = 'x'\ndescription = 'x'\nregex = 'x'\n");
    symlink(outside.path().join("rules"), env.path().join("linked-rules")).unwrap();
    env.write(".keyhound.toml", "[rules]\npaths = ['linked-rules']\n");
    assert_refused(&run_bounded(env.path(), &["scan"]), "linked-rules", "leads outside the repository");
}

#[test]
fn a_baseline_the_config_names_outside_the_repository_is_refused() {
    let env = repo();
    env.write(".keyhound.toml", "baseline = '/dev/zero'\n");
    assert_refused(&run_bounded(env.path(), &["scan"]), "/dev/zero", "leads outside the repository");
}

#[test]
fn devices_and_fifos_named_on_the_command_line_are_refused_without_blocking() {
    let env = repo();
    mkfifo(&env.path().join("fifo"));
    for flag in ["--rules", "--baseline", "--config"] {
        assert_refused(&run_bounded(env.path(), &["scan", flag, "/dev/zero"]), "/dev/zero", "is a device");
        assert_refused(&run_bounded(env.path(), &["scan", flag, "fifo"]), "fifo", "is a FIFO");
    }
}

#[test]
fn the_environment_named_on_the_command_line_is_never_echoed() {
    let env = repo();
    for flag in ["--rules", "--baseline", "--config"] {
        let run = run_bounded(env.path(), &["scan", flag, "/proc/self/environ"]);
        assert_refused(
            &run,
            "/proc/self/environ",
            if flag == "--baseline" { "not a keyhound baseline" } else { "line 1" },
        );
    }
}

#[test]
fn a_fifo_where_a_repository_file_should_be_is_refused_by_name() {
    for name in [".keyhound.toml", ".keyhoundignore"] {
        let env = repo();
        mkfifo(&env.path().join(name));
        assert_refused(&run_bounded(env.path(), &["scan"]), name, "is a FIFO");
    }
}

/// A repository whose `.git/config` includes `entry` pointing at a FIFO.
fn repo_with_fifo_include(section: &str) -> TestEnv {
    let env = repo();
    mkfifo(&env.path().join("fifo"));
    let config = env.path().join(".git/config");
    let mut text = std::fs::read_to_string(&config).unwrap();
    text.push_str(&format!("{section}\n\tpath = ../fifo\n"));
    std::fs::write(&config, text).unwrap();
    env
}

#[test]
fn a_fifo_included_by_git_config_is_refused_by_history_and_staged() {
    for section in ["[include]", "[includeIf \"gitdir:/\"]"] {
        let env = repo_with_fifo_include(section);
        for command in ["history", "staged"] {
            assert_refused(&run_bounded(env.path(), &[command]), "fifo", "is a FIFO");
        }
    }
}

#[test]
fn a_fifo_included_by_the_common_config_of_a_linked_worktree_is_refused() {
    let env = repo_with_fifo_include("[include]");
    let linked = TestEnv::new();
    let linked_path = linked.path().join("wt");
    // git itself would hang on the include: add the worktree with the include removed.
    let config = env.path().join(".git/config");
    let hostile = std::fs::read_to_string(&config).unwrap();
    std::fs::write(&config, hostile.replace("[include]\n\tpath = ../fifo\n", "")).unwrap();
    env.git(&["worktree", "add", "-q", linked_path.to_str().unwrap()]);
    std::fs::write(&config, hostile).unwrap();
    for command in ["history", "staged"] {
        assert_refused(&run_bounded(&linked_path, &[command]), "fifo", "is a FIFO");
    }
}

/// `scan` reads files, not the repository: a repository it cannot open only loses its
/// exclude file and index, so the walk scans more (every file as if tracked) and warns.
#[test]
fn a_fifo_included_by_git_config_never_hangs_scan() {
    let env = repo_with_fifo_include("[include]");
    let run = run_bounded(env.path(), &["scan"]);
    run.expect_code(0);
    assert!(run.stderr.contains("fifo") && run.stderr.contains("is a FIFO"), "{}", run.stderr);
    assert_no_secret(&run);
}

#[test]
fn a_key_pasted_into_a_repository_file_is_never_echoed() {
    let key = planted_key();
    // (file written, its text, the file the error names, the problem it names)
    let cases = [
        (".keyhound.toml", format!("{key} = 1\n"), ".keyhound.toml", "line 1, column 1"),
        (".keyhound.toml", format!("format = '{key}'\n"), ".keyhound.toml", "unknown variant"),
        (".keyhound.toml", format!("[rules]\ndisabled = '{key}'\n"), ".keyhound.toml", "invalid type"),
        (".keyhound.toml", format!("max_file_size = '{key}'\n"), ".keyhound.toml", "max_file_size"),
        (".keyhound.toml", format!("[allowlist]\nregexes = ['({key}']\n"), ".keyhound.toml", "unclosed group"),
        (".keyhound.toml", format!("[allowlist]\npaths = ['[{key}']\n"), ".keyhound.toml", "invalid allowlist glob"),
        (".keyhound.toml", "[rules]\npaths = ['mine.toml']\n".into(), "mine.toml", "id must be kebab-case"),
        (".keyhound.toml", "[rules]\npaths = ['bad-regex.toml']\n".into(), "bad-regex.toml", "unclosed group"),
        (".keyhoundignore", format!("{key}\n"), ".keyhoundignore:1", "not a fingerprint"),
        (".keyhoundignore", format!("r:0123456789abcdef [{key}\n"), ".keyhoundignore:1", "invalid path glob"),
    ];
    for (file, text, named, problem) in cases {
        let env = repo();
        env.write("mine.toml", format!("[[rule]]\nid = '{key}'\ndescription = 'd'\nregex = 'x'\n"));
        env.write("bad-regex.toml", format!("[[rule]]\nid = 'mine'\ndescription = 'd'\nregex = '({key}'\n"));
        env.write(file, &text);
        assert_refused(&run_bounded(env.path(), &["scan"]), named, problem);
    }
}

#[test]
fn a_key_in_a_baseline_or_gitleaks_config_is_never_echoed() {
    let key = planted_key();
    let env = repo();
    env.write("known", format!("# keyhound baseline v1\n{key} app.py\n"));
    assert_refused(&run_bounded(env.path(), &["scan", "--baseline", "known"]), "known:2", "not a fingerprint");
    env.write("gitleaks.toml", format!("[[rules]]\nid = 'x'\nregex = 'x'\n[allowlist]\ncommits = ['{key}']\n"));
    let run = run_bounded(env.path(), &["scan", "--config", "gitleaks.toml"]);
    assert!(run.stderr.contains("not translated from gitleaks"), "{}", run.stderr);
    assert_no_secret(&run);
}

/// libgit2 opens the index, `HEAD`, `packed-refs`, every loose ref and every object it reads
/// with a blocking read: a FIFO planted among them (an unpacked repository archive, a cached
/// checkout) must be refused by name, never hang `staged` or `history`.
#[test]
fn a_fifo_among_the_repository_state_files_is_refused_by_name() {
    let blob = repo().git(&["rev-parse", "HEAD:app.py"]);
    // The committed file's own blob, which a history scan reads (every `repo()` is the same).
    let loose = format!("objects/{}/{}", &blob[..2], &blob[2..]);
    for (file, command) in
        [("index", "staged"), ("refs/heads/evil", "history"), ("packed-refs", "history"), (loose.as_str(), "history")]
    {
        let env = repo();
        let path = env.path().join(".git").join(file);
        let _ = std::fs::remove_file(&path);
        std::fs::create_dir_all(path.parent().expect("has a parent")).expect("mkdir");
        mkfifo(&path);
        assert_refused(&run_bounded(env.path(), &[command]), file, "is a FIFO");
    }
}
