//! `keyhound history`: real repositories built with the git CLI, keys hidden in every corner
//! of history, and the attribution of each finding.

use serde_json::Value;

use crate::harness::{FakeKeys, Run, TestEnv};

/// A repository and a few distinct fake keys.
fn repo_and_keys() -> (TestEnv, Vec<String>) {
    let mut keys = FakeKeys::new(31);
    (TestEnv::git_repo(), (0..3).map(|_| keys.project_key()).collect())
}

/// `keyhound history --format json ARGS` in `env`, with the key never in the output.
fn history(env: &TestEnv, args: &[&str], keys: &[String]) -> Run {
    // One entry per location: these tests look at each place a key was introduced.
    let mut all = vec!["history", "--format", "json", "--group-by", "location"];
    all.extend_from_slice(args);
    let run = env.run(&all);
    for key in keys {
        assert!(!run.stdout.contains(key.as_str()) && !run.stderr.contains(key.as_str()), "a key leaked into output");
    }
    run
}

/// The JSON findings of a `keyhound history` run that must find secrets (exit 1).
fn found(env: &TestEnv, args: &[&str], keys: &[String]) -> Vec<Value> {
    history(env, args, keys).expect_code(1).findings()
}

fn at<'a>(findings: &'a [Value], path: &str) -> &'a Value {
    findings
        .iter()
        .find(|f| f["path"] == path)
        .unwrap_or_else(|| panic!("no finding at {path}: {}", serde_json::to_string_pretty(findings).unwrap()))
}

fn paths(findings: &[Value]) -> Vec<&str> {
    let mut paths: Vec<&str> = findings.iter().map(|f| f["path"].as_str().unwrap()).collect();
    paths.sort();
    paths
}

/// Runs `keyhound ARGS`, expects `code`, and asserts that standard error says each of `needles`.
fn expect_stderr(env: &TestEnv, args: &[&str], code: i32, needles: &[&str]) {
    let run = env.run(args);
    run.expect_code(code);
    for needle in needles {
        assert!(run.stderr.contains(needle), "{needle:?} is missing from:\n{}", run.stderr);
    }
}

fn commit_as(env: &TestEnv, author: &str, message: &str) -> String {
    env.git(&["add", "-A"]);
    env.git(&["commit", "-q", "--author", author, "-m", message]);
    env.git(&["rev-parse", "HEAD"])
}

#[test]
fn deleted_key_is_attributed_to_the_commit_and_author_that_added_it() {
    let (env, keys) = repo_and_keys();
    env.write("README.md", "hello\n");
    env.commit_all("init");
    env.write("app/settings.py", format!("import os\nOPENAI_API_KEY = \"{}\"\n", keys[0]));
    let added = commit_as(&env, "Ada Lovelace <ada@example.com>", "Add settings\n\nwith a body");
    std::fs::remove_file(env.path().join("app/settings.py")).unwrap();
    env.commit_all("Remove the key");
    let run = history(&env, &[], &keys);
    let findings = run.expect_code(1).findings();
    assert_eq!(paths(&findings), ["app/settings.py"]);
    let finding = at(&findings, "app/settings.py");
    assert_eq!((finding["line"].as_u64(), finding["column"].as_u64()), (Some(2), Some(19)));
    assert_eq!(finding["occurrences"], 1);
    let commit = &finding["commit"];
    assert_eq!(commit["id"], added);
    assert_eq!(commit["author"], "Ada Lovelace");
    assert_eq!(commit["email"], "ada@example.com");
    assert_eq!(commit["date"], "2024-05-01T12:00:00+00:00");
    assert_eq!(commit["summary"], "Add settings");
    assert!(run.stderr.contains("1 secret found"), "{}", run.stderr);
}

#[test]
fn key_kept_while_other_lines_change_is_one_finding_from_the_commit_that_added_it() {
    // Each edit of the file makes a new blob that still holds the key: the unchanged line is
    // one finding, not one per later version of the file.
    let (env, keys) = repo_and_keys();
    env.write("config.py", format!("KEY = \"{}\"\nSECOND = \"{}\"\nversion = 1\n", keys[0], keys[0]));
    let added = commit_as(&env, "Ada Lovelace <ada@example.com>", "Add config");
    for version in 2..5 {
        env.write("config.py", format!("KEY = \"{}\"\nSECOND = \"{}\"\nversion = {version}\n", keys[0], keys[0]));
        env.commit_all(&format!("Bump to {version}"));
    }
    let findings = found(&env, &[], &keys);
    let lines: Vec<u64> = findings.iter().map(|f| f["line"].as_u64().unwrap()).collect();
    assert_eq!(lines, [1, 2], "one finding per line of the first version");
    assert!(findings.iter().all(|f| f["commit"]["id"] == added));
}

#[test]
fn key_living_only_on_an_unmerged_branch_is_found() {
    let (env, keys) = repo_and_keys();
    env.write("README.md", "hello\n");
    env.commit_all("init");
    env.git(&["checkout", "-q", "-b", "experiment"]);
    env.write(".env", format!("OPENAI_API_KEY={}\n", keys[0]));
    let side = env.commit_all("try the API");
    env.git(&["checkout", "-q", "main"]);
    assert_eq!(at(&found(&env, &[], &keys), ".env")["commit"]["id"], side);
}

#[test]
fn renamed_key_keeps_its_first_path_and_counts_both() {
    let (env, keys) = repo_and_keys();
    env.write("old/name.env", format!("KEY={}\n", keys[0]));
    let first = env.commit_all("add key");
    env.git(&["mv", "old", "new"]);
    env.commit_all("rename");
    let findings = found(&env, &[], &keys);
    assert_eq!(paths(&findings), ["old/name.env"]);
    assert_eq!(findings[0]["commit"]["id"], first);
    assert_eq!(findings[0]["occurrences"], 2);
}

#[test]
fn key_copied_into_a_second_file_is_reported_in_both() {
    let (env, keys) = repo_and_keys();
    env.write("a.env", format!("KEY={}\n", keys[0]));
    let first = env.commit_all("add key");
    env.write("b.py", format!("# copied\nkey = '{}'\n", keys[0]));
    let second = env.commit_all("copy key");
    let findings = found(&env, &[], &keys);
    assert_eq!(paths(&findings), ["a.env", "b.py"]);
    assert_eq!(at(&findings, "a.env")["commit"]["id"], first);
    assert_eq!(at(&findings, "b.py")["commit"]["id"], second);
    assert_eq!(at(&findings, "b.py")["line"], 2);
    assert!(findings.iter().all(|f| f["occurrences"] == 2 && f["fingerprint"] == findings[0]["fingerprint"]));
}

#[test]
fn key_added_in_a_merge_commit_is_attributed_to_the_merge() {
    let (env, keys) = repo_and_keys();
    env.write("README.md", "hello\n");
    env.commit_all("init");
    env.git(&["checkout", "-q", "-b", "feature"]);
    env.write("feature.txt", "feature\n");
    env.commit_all("feature work");
    env.git(&["checkout", "-q", "main"]);
    env.write("main.txt", "main\n");
    env.commit_all("main work");
    env.git(&["merge", "-q", "--no-ff", "--no-commit", "feature"]);
    env.write("merged.env", format!("KEY={}\n", keys[0]));
    let merge = commit_as(&env, "Merger <merge@example.com>", "Merge feature");
    let finding = at(&found(&env, &[], &keys), "merged.env").clone();
    assert_eq!(finding["commit"]["id"], merge);
    assert_eq!(finding["commit"]["author"], "Merger");
    // A range of just the merge still sees what the merge itself introduced.
    assert_eq!(paths(&found(&env, &["--range", "HEAD^1..HEAD"], &keys)), ["merged.env"]);
}

#[test]
fn keys_in_commit_and_annotated_tag_messages_are_found_and_redacted() {
    let (env, keys) = repo_and_keys();
    env.write("README.md", "hello\n");
    let commit = env.commit_all(&format!("debug: use {} for now", keys[0]));
    env.git(&["tag", "-a", "v1.0", "-m", &format!("release\n\ntoken {}", keys[1])]);
    let tag = env.git(&["rev-parse", "v1.0"]);
    let findings = found(&env, &[], &keys);
    assert_eq!(paths(&findings), ["<commit message>", "<tag message: v1.0>"]);
    let in_commit = at(&findings, "<commit message>");
    assert_eq!(in_commit["commit"]["id"], commit);
    let summary = in_commit["commit"]["summary"].as_str().unwrap();
    assert!(summary.starts_with("debug: use sk-proj-…") && summary.ends_with(" for now"), "{summary}");
    let in_tag = at(&findings, "<tag message: v1.0>");
    assert_eq!(in_tag["commit"]["id"], tag);
    assert_eq!(in_tag["commit"]["author"], "Test Author");
    assert_eq!(in_tag["line"], 3);
    // The text report shows the redacted summary too.
    let text = env.run(&["history"]);
    assert!(!text.stdout.contains(keys[0].as_str()) && text.stdout.contains("debug: use sk-proj-…"), "{}", text.stdout);
}

#[test]
fn stashed_key_is_found() {
    let (env, keys) = repo_and_keys();
    env.write("config.py", "KEY = None\n");
    env.commit_all("init");
    env.write("config.py", format!("KEY = '{}'\n", keys[0]));
    env.git(&["stash", "-q"]);
    env.write("config.py", format!("KEY = '{}'\n", keys[1]));
    env.git(&["stash", "-q"]);
    let findings = found(&env, &[], &keys);
    // Both stash entries: the newest in refs/stash, the older only in its reflog.
    assert_eq!(findings.len(), 2, "{findings:?}");
    assert!(findings.iter().all(|f| f["path"] == "config.py"));
}

#[test]
fn range_scans_only_what_its_commits_introduced() {
    let (env, keys) = repo_and_keys();
    env.write("old.env", format!("KEY={}\n", keys[0]));
    let base = env.commit_all("old key");
    env.write("new.env", format!("KEY={}\n", keys[1]));
    let added = env.commit_all("new key");
    env.write("README.md", "docs\n");
    env.commit_all("docs");
    let range = format!("{base}..HEAD");
    for args in [["--range", range.as_str()], ["--since", base.as_str()]] {
        let findings = found(&env, &args, &keys);
        assert_eq!(paths(&findings), ["new.env"], "{args:?}");
        assert_eq!(findings[0]["commit"]["id"], added);
    }
    assert_eq!(paths(&found(&env, &["--range", &base], &keys)), ["old.env"]);
    let run = history(&env, &["--range", "HEAD~1..HEAD"], &keys);
    run.expect_code(0);
    let run = history(&env, &["--range", "HEAD..HEAD"], &keys);
    run.expect_code(0);
    assert!(run.stderr.contains("holds no commits"), "{}", run.stderr);
    let run = history(&env, &["--range", "no-such-ref..HEAD"], &keys);
    run.expect_code(2);
    assert!(run.stderr.contains("no-such-ref"), "{}", run.stderr);
}

#[test]
fn exclude_remotes_leaves_out_what_was_already_pushed() {
    let (env, keys) = repo_and_keys();
    env.write("pushed.env", format!("KEY={}\n", keys[0]));
    let pushed = env.commit_all("pushed");
    env.git(&["update-ref", "refs/remotes/origin/main", &pushed]);
    env.git(&["checkout", "-q", "-b", "topic"]);
    env.write("local.env", format!("KEY={}\n", keys[1]));
    env.commit_all("not pushed yet");
    assert_eq!(paths(&found(&env, &[], &keys)), ["local.env", "pushed.env"]);
    for args in [&["--exclude-remotes"][..], &["--range", "topic", "--exclude-remotes"][..]] {
        assert_eq!(paths(&found(&env, args, &keys)), ["local.env"], "{args:?}");
    }
}

#[test]
fn bare_repository_is_scanned() {
    let (env, keys) = repo_and_keys();
    env.write("a/key.env", format!("KEY={}\n", keys[0]));
    let commit = env.commit_all("add key");
    let outside = TestEnv::new();
    let bare = outside.path().join("bare.git");
    env.git(&["clone", "-q", "--bare", ".", bare.to_str().unwrap()]);
    assert_eq!(at(&found(&outside, &["bare.git"], &keys), "a/key.env")["commit"]["id"], commit);
}

#[test]
fn shallow_clone_is_scanned_with_a_warning() {
    let (env, keys) = repo_and_keys();
    env.write("old.env", format!("KEY={}\n", keys[0]));
    env.commit_all("old");
    env.write("new.env", format!("KEY={}\n", keys[1]));
    env.commit_all("new");
    let outside = TestEnv::new();
    let url = format!("file://{}", env.path().display());
    outside.git(&["clone", "-q", "--depth", "1", &url, "shallow"]);
    let run = history(&outside, &["shallow"], &keys);
    run.expect_code(1);
    // The only commit holds both files; nothing before it is there to scan.
    assert_eq!(paths(&run.findings()), ["new.env", "old.env"]);
    assert!(run.stderr.contains("shallow clone"), "{}", run.stderr);
}

#[test]
fn partial_clone_says_why_blobs_are_missing_and_is_incomplete() {
    let (env, keys) = repo_and_keys();
    env.write("a.env", format!("KEY={}\n", keys[0]));
    env.commit_all("a");
    env.git(&["config", "uploadpack.allowFilter", "true"]);
    let outside = TestEnv::new();
    let url = format!("file://{}", env.path().display());
    outside.git(&["clone", "-q", "--no-checkout", "--filter=blob:none", &url, "partial"]);
    let run = history(&outside, &["partial"], &keys);
    // The blob was never fetched: an incomplete scan, never a clean one.
    run.expect_code(2);
    assert!(run.stderr.contains("partial clone (remote origin"), "{}", run.stderr);
    assert!(run.stderr.contains("a.env"), "{}", run.stderr);
}

#[test]
fn not_a_repository_is_a_clear_error() {
    let env = TestEnv::new();
    expect_stderr(&env, &["history"], 2, &["not a git repository"]);
    expect_stderr(&env, &["history", "no/such/dir"], 2, &["no/such/dir"]);
}

#[test]
fn empty_repository_says_there_is_nothing_to_scan() {
    let env = TestEnv::git_repo();
    expect_stderr(&env, &["history"], 0, &["no commits: nothing to scan", "nothing was scanned"]);
}

#[test]
fn missing_blob_is_named_and_the_rest_still_scanned() {
    let (env, keys) = repo_and_keys();
    env.write("key.env", format!("KEY={}\n", keys[0]));
    env.write("lost.txt", "this blob goes missing\n");
    env.commit_all("two files");
    let lost = env.git(&["rev-parse", "HEAD:lost.txt"]);
    std::fs::remove_file(env.path().join(".git/objects").join(&lost[..2]).join(&lost[2..])).unwrap();
    let run = history(&env, &[], &keys);
    run.expect_code(2);
    assert_eq!(paths(&run.findings()), ["key.env"]);
    assert!(run.stderr.contains(&format!("blob {lost} (lost.txt in commit")), "{}", run.stderr);
    assert!(run.stderr.contains("scan incomplete"), "{}", run.stderr);
}

#[test]
fn missing_commit_is_named_and_the_rest_still_scanned() {
    let (env, keys) = repo_and_keys();
    env.write("old.env", format!("KEY={}\n", keys[0]));
    env.commit_all("old");
    env.write("README.md", "docs\n");
    let lost = env.commit_all("docs");
    env.write("new.env", format!("KEY={}\n", keys[1]));
    let newest = env.commit_all("new");
    std::fs::remove_file(env.path().join(".git/objects").join(&lost[..2]).join(&lost[2..])).unwrap();
    let run = history(&env, &[], &keys);
    run.expect_code(2);
    let findings = run.findings();
    assert_eq!(paths(&findings), ["new.env", "old.env"]);
    assert!(findings.iter().all(|f| f["commit"]["id"] == newest.as_str()));
    assert!(run.stderr.contains(&format!("commit {lost}")), "{}", run.stderr);
}

#[test]
fn oversized_blobs_and_submodules_are_named_not_scanned() {
    let (env, keys) = repo_and_keys();
    env.write("big.env", format!("KEY={}\n{}", keys[0], "x".repeat(4096)));
    env.write("small.txt", "small\n");
    let commit = env.commit_all("big file");
    env.git(&["update-index", "--add", "--cacheinfo", &format!("160000,{commit},vendor/lib")]);
    env.git(&["commit", "-q", "-m", "add submodule"]);
    let skipped = format!("skipped 1 file: {}:big.env", &commit[..12]);
    let gitlinks = "1 submodule commit (gitlinks) not followed";
    expect_stderr(&env, &["history", "--max-file-size", "1KiB"], 0, &[&skipped, gitlinks]);
}

#[test]
fn progress_only_when_asked_or_on_a_terminal() {
    let env = TestEnv::git_repo();
    env.write("a.txt", "a\n");
    env.commit_all("a");
    assert!(!env.run(&["history"]).expect_code(0).stderr.contains("commits 1/1"));
    expect_stderr(&env, &["history", "--progress"], 0, &["keyhound: commits 1/1, blobs 1 found, 1 scanned"]);
}

#[test]
fn allowlisted_paths_apply_to_history_paths() {
    let (env, keys) = repo_and_keys();
    env.write(".keyhound.toml", "[allowlist]\npaths = [\"fixtures/**\"]\n");
    env.write("fixtures/sample.env", format!("KEY={}\n", keys[0]));
    env.commit_all("fixtures");
    expect_stderr(&env, &["history"], 0, &["1 by allowlisted path"]);
}
