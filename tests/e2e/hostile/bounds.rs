//! Bounded on every input: deep trees, many findings per file, huge sizes, thread failures.

use std::path::Path;
use std::process::Command;

use crate::harness::{run_bounded, FakeKeys, Run, TestEnv};

/// Levels of the deep git tree: each one frame of a recursive walk, enough to overflow it.
const TREE_DEPTH: usize = 40_000;

/// `d/d/…/d/` (`depth` levels).
fn deep_dir(depth: usize) -> String {
    "d/".repeat(depth)
}

/// Writes a chain of `depth` trees (`d` holding `d` …) ending in `file` with `content`, and
/// returns the outermost. Written through libgit2, not one git process per level.
fn deep_tree(repo: &git2::Repository, depth: usize, file: &str, content: &str) -> git2::Oid {
    let tree_of = |name: &str, id: git2::Oid, mode: i32| {
        let mut builder = repo.treebuilder(None).expect("tree builder");
        builder.insert(name, id, mode).expect("tree entry");
        builder.write().expect("tree written")
    };
    let mut tree = tree_of(file, repo.blob(content.as_bytes()).expect("blob written"), 0o100644);
    for _ in 0..depth {
        tree = tree_of("d", tree, 0o040000);
    }
    tree
}

/// A repository whose one commit holds `file` with `content` at the bottom of a deep tree.
fn deep_repository(file: &str, content: &str) -> TestEnv {
    let env = TestEnv::git_repo();
    let repo = git2::Repository::open(env.path()).expect("open the test repository");
    let tree = repo.find_tree(deep_tree(&repo, TREE_DEPTH, file, content)).expect("tree");
    let who = git2::Signature::new("Test Author", "author@example.com", &git2::Time::new(1_714_564_800, 0))
        .expect("signature");
    repo.commit(Some("HEAD"), &who, &who, "deep", &tree, &[]).expect("commit");
    env
}

fn assert_one_finding_at(run: &Run, path: &str, line: u64) {
    let findings = run.findings();
    assert_eq!(findings.len(), 1, "{}", run.stderr);
    assert!(findings[0]["path"].as_str().expect("path") == path, "path of {} bytes expected", path.len());
    assert_eq!(findings[0]["line"], line);
}

#[test]
fn a_40000_deep_git_tree_is_walked_to_its_key_without_overflowing_the_stack() {
    let key = FakeKeys::project_key_of(1301);
    let env = deep_repository("config.env", &format!("# settings\nOPENAI_API_KEY={key}\n"));
    let run = run_bounded(env.keyhound().args(["history", "--format", "json"]));
    run.expect_code(1);
    assert_one_finding_at(&run, &format!("{}config.env", deep_dir(TREE_DEPTH)), 2);
}

#[test]
fn staged_compares_a_40000_deep_head_tree_without_overflowing_the_stack() {
    let key = FakeKeys::project_key_of(1302);
    let env = deep_repository("readme.txt", "nothing here\n");
    // The index holds one new file at the bottom of the same deep path.
    let repo = git2::Repository::open(env.path()).expect("open the test repository");
    let blob = repo.blob(format!("OPENAI_API_KEY={key}\n").as_bytes()).expect("blob written");
    let path = format!("{}config.env", deep_dir(TREE_DEPTH));
    env.git(&["update-index", "--add", "--cacheinfo", &format!("100644,{blob},{path}")]);
    let run = run_bounded(env.keyhound().args(["staged", "--format", "json"]));
    run.expect_code(1);
    assert_one_finding_at(&run, &path, 1);
}

#[cfg(unix)]
#[test]
fn a_work_tree_deeper_than_a_path_can_name_is_an_error_named_not_a_crash() {
    let key = FakeKeys::project_key_of(1303);
    let env = TestEnv::new();
    env.write("top.env", format!("OPENAI_API_KEY={key}\n"));
    // 5,000 levels, made a thousand at a time from inside the last: no path names them all.
    let chunk = deep_dir(1000);
    let made = Command::new("sh")
        .current_dir(env.path())
        .args(["-c", r#"for i in 1 2 3 4 5; do mkdir -p "$1" && cd -P "$1" || exit 1; done; echo x > bottom.txt"#])
        .args(["sh", &chunk])
        .status()
        .expect("sh runs");
    assert!(made.success());
    let run = run_bounded(env.keyhound().args(["scan", "--format", "json", "."]));
    // The error names the directory it could not enter; the rest of the tree is scanned.
    run.expect_code(2);
    assert!(run.stderr.contains("error: ./d/d/d/d/"), "{}", run.stderr);
    assert_one_finding_at(&run, "top.env", 1);
}

/// Writes `keys.txt`, `size` bytes at most of `key = KEY` lines, and returns how many lines
/// (and keys) it holds, and its length.
fn write_keys_file(env: &TestEnv, seed: u64, size: usize) -> (usize, usize) {
    // The shortest project key shape: the most findings per mebibyte.
    let line = format!("key = {}\n", FakeKeys::new(seed).openai("sk-proj-", 20, 20));
    let lines = size / line.len();
    env.write("keys.txt", line.repeat(lines));
    (lines, lines * line.len())
}

#[test]
fn a_4_mib_file_of_repeated_keys_is_placed_line_by_line_in_linear_time() {
    let env = TestEnv::new();
    let (lines, _) = write_keys_file(&env, 1304, 4 << 20);
    let run = run_bounded(env.keyhound().args(["scan", "--format", "json", "keys.txt"]));
    run.expect_code(1);
    let findings = run.findings();
    assert_eq!(findings.len(), lines);
    for index in [0, 1, lines / 2, lines - 1] {
        assert_eq!(findings[index]["line"], index + 1);
        assert_eq!(findings[index]["column"], 7);
    }
}

#[cfg(unix)]
#[test]
fn a_base64_run_of_many_keys_is_placed_in_linear_time() {
    let env = TestEnv::new();
    let (lines, length) = write_keys_file(&env, 1308, 1 << 20);
    // Wrapped at 76 characters, as `base64` writes it: the run spans 18,000 lines.
    let encoded = Command::new("sh").current_dir(env.path()).args(["-c", "base64 keys.txt > keys.b64"]).status();
    assert!(encoded.expect("sh runs").success());
    let run = run_bounded(env.keyhound().args(["scan", "--format", "json", "keys.b64"]));
    run.expect_code(1);
    let findings = run.findings();
    assert_eq!(findings.len(), lines);
    assert!(findings.iter().all(|finding| finding["decoded"] == "base64"));
    let encoded_lines = (4 * length.div_ceil(3)).div_ceil(76);
    assert_eq!(findings[lines - 1]["end_line"], encoded_lines);
}

#[test]
fn a_percent_encoded_run_of_many_keys_is_placed_in_linear_time() {
    let key = FakeKeys::project_key_of(1309);
    let env = TestEnv::new();
    // One run with no whitespace: a form body of 15,000 quoted keys, about 1 MB.
    let count = 15_000;
    env.write("form.log", format!("q={}\n", format!("%22{key}%22%26").repeat(count)));
    let run = run_bounded(env.keyhound().args(["scan", "--format", "json", "form.log"]));
    run.expect_code(1);
    let findings = run.findings();
    assert_eq!(findings.len(), count);
    assert!(findings.iter().all(|finding| finding["decoded"] == "percent"));
}

#[test]
fn a_max_file_size_of_u64_max_means_no_limit() {
    let key = FakeKeys::project_key_of(1305);
    let env = TestEnv::new();
    env.write("app.env", format!("OPENAI_API_KEY={key}\n"));
    let run = env.run(&["scan", "--format", "json", "--max-file-size", "18446744073709551615", "."]);
    run.expect_code(1);
    assert_one_finding_at(&run, "app.env", 1);
    for size in ["18446744073709551616", "99999999999999999999", "17179869184GiB"] {
        let run = env.run(&["scan", "--max-file-size", size, "."]);
        run.expect_code(2);
        assert!(run.stderr.contains("too large"), "{size}: {}", run.stderr);
    }
}

#[test]
fn an_allow_comment_in_a_cr_only_file_covers_its_own_line_only() {
    let mut keys = FakeKeys::new(1306);
    let (allowed, leaked) = (keys.project_key(), keys.project_key());
    let env = TestEnv::new();
    env.write("old-mac.txt", format!("a = {allowed} # keyhound:allow\rb = {leaked}\rend\r"));
    let run = env.run(&["scan", "--format", "json", "--show-secrets", "."]);
    run.expect_code(1);
    assert_one_finding_at(&run, "old-mac.txt", 2);
    assert_eq!(run.findings()[0]["secret"], leaked.as_str());
}

/// Runs `keyhound ARGS` in `dir` allowed a single process, so that it cannot start a thread.
/// Root ignores the process limit, so as root the run is also moved to the `nobody` user
/// (util-linux `setpriv`), whose processes the limit then counts; `dir` must be readable.
#[cfg(target_os = "linux")]
fn run_without_threads(dir: &Path, args: &[&str]) -> Run {
    let as_root = is_root();
    let mut command = Command::new(if as_root { "setpriv" } else { "prlimit" });
    if as_root {
        command.args(["--reuid=65534", "--regid=65534", "--clear-groups", "prlimit"]);
    }
    command
        .args(["--nproc=1", env!("CARGO_BIN_EXE_keyhound")])
        .args(args)
        .current_dir(dir)
        .env("HOME", dir)
        .env("GIT_CONFIG_NOSYSTEM", "1");
    run_bounded(&mut command)
}

#[cfg(target_os = "linux")]
fn is_root() -> bool {
    Command::new("id").arg("-u").output().expect("id runs").stdout.starts_with(b"0\n")
}

#[cfg(target_os = "linux")]
#[test]
fn a_thread_the_system_refuses_is_an_error_not_a_panic() {
    let env = TestEnv::git_repo();
    env.write("app.env", format!("OPENAI_API_KEY={}\n", FakeKeys::project_key_of(1307)));
    env.commit_all("add app");
    if is_root() {
        // libgit2 opens only repositories owned by the user running it.
        let given = Command::new("chown").args(["-R", "65534:65534"]).arg(env.path()).status().expect("chown runs");
        assert!(given.success());
    }
    for command in [&["scan", "--threads", "2", "."][..], &["history", "--threads", "2", "."]] {
        let run = run_without_threads(env.path(), command);
        run.expect_code(2);
        assert!(run.stderr.contains("cannot start 2 worker threads"), "{command:?}: {}", run.stderr);
        assert!(!run.stderr.contains("panicked"), "{command:?}: {}", run.stderr);
    }
}
