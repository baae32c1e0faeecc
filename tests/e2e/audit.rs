//! `keyhound audit`, `triage`, `report --datastore` and `datastore merge`: many local
//! repositories built at run time, one of them broken, shards merged, a run killed midway.

use std::io::{BufRead, BufReader};
use std::process::Stdio;

use serde_json::Value;

use crate::harness::{FakeKeys, Run, TestEnv};

/// `count` repositories under `fleet/` of a fresh directory, repository `i` holding key `i`
/// in `app/.env` beside a clean file; returns the directory and the keys.
fn fleet(count: usize, seed: u64) -> (TestEnv, Vec<String>) {
    let root = TestEnv::new();
    let mut keys = FakeKeys::new(seed);
    let keys: Vec<String> = (0..count).map(|_| keys.project_key()).collect();
    for (i, key) in keys.iter().enumerate() {
        let dir = root.path().join(format!("fleet/repo-{i:02}"));
        std::fs::create_dir_all(&dir).unwrap();
        let repo = TestEnv::git_repo();
        repo.write("app/.env", format!("OPENAI_API_KEY={key}\n"));
        repo.write("README.md", format!("repository {i}\n"));
        repo.commit_all("first");
        std::fs::remove_dir(&dir).unwrap();
        copy_dir(repo.path(), &dir);
    }
    (root, keys)
}

fn copy_dir(from: &std::path::Path, to: &std::path::Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

/// Runs keyhound with `args` in `root`, checking that no key reaches its output.
fn run(root: &TestEnv, args: &[&str], keys: &[String]) -> Run {
    let run = root.run(args);
    for key in keys {
        assert!(!run.stdout.contains(key.as_str()) && !run.stderr.contains(key.as_str()), "a key leaked into output");
    }
    run
}

/// (repository's last path component, path, fingerprint) of each JSON finding, sorted.
fn summary(findings: &[Value]) -> Vec<(String, String, String)> {
    let mut rows: Vec<(String, String, String)> = findings
        .iter()
        .map(|f| {
            let repository = f["repository"].as_str().unwrap().rsplit('/').next().unwrap().to_string();
            (repository, f["path"].as_str().unwrap().to_string(), f["fingerprint"].as_str().unwrap().to_string())
        })
        .collect();
    rows.sort();
    rows
}

#[test]
fn one_broken_repository_is_reported_and_the_others_are_audited() {
    let (root, keys) = fleet(5, 191);
    std::fs::create_dir_all(root.path().join("fleet/broken/.git")).unwrap();
    let audit = run(&root, &["audit", "fleet", "--jobs", "3", "--format", "json"], &keys);
    audit.expect_code(2);
    assert!(audit.stderr.contains("broken: failed: "), "{}", audit.stderr);
    assert!(audit.stderr.contains("5 secrets in 5 of 6 repositories; 1 failed"), "{}", audit.stderr);
    let found = summary(&audit.findings());
    let repos: Vec<&str> = found.iter().map(|(repo, _, _)| repo.as_str()).collect();
    assert_eq!(repos, ["repo-00", "repo-01", "repo-02", "repo-03", "repo-04"]);
    assert!(found.iter().all(|(_, path, _)| path == "app/.env"));
    assert!(root.path().join("keyhound.db").exists(), "the default datastore is keyhound.db");
}

#[test]
fn a_repository_list_names_local_paths_and_urls_fail_plainly() {
    let (root, keys) = fleet(2, 192);
    let list =
        format!("# the fleet\n{}\n\nhttps://127.0.0.1:9/org/remote.git\n", root.path().join("fleet/repo-01").display());
    root.write("repos.txt", list);
    let audit = run(&root, &["audit", "--repos", "repos.txt", "--format", "json"], &keys);
    audit.expect_code(2);
    assert!(audit.stderr.contains("remote.git: failed: "), "{}", audit.stderr);
    assert_eq!(summary(&audit.findings()).len(), 1);
}

#[test]
fn triage_is_shown_in_reports_and_filtered_on() {
    let (root, keys) = fleet(2, 193);
    run(&root, &["audit", "fleet", "--format", "json"], &keys).expect_code(1);
    let stored = run(&root, &["report", "--format", "json"], &keys);
    stored.expect_code(1);
    let findings = stored.findings();
    assert_eq!(findings.len(), 2);
    let revoked = findings[0]["fingerprint"].as_str().unwrap();
    let triage = ["triage", revoked, "--status", "revoked", "--note", "rotated"];
    run(&root, &triage, &keys).expect_code(0);
    let all = run(&root, &["report", "--format", "json"], &keys).findings();
    let shown = all.iter().find(|f| f["fingerprint"] == revoked).unwrap();
    assert_eq!((&shown["status"], &shown["note"]), (&Value::from("revoked"), &Value::from("rotated")));
    let open = run(&root, &["report", "--format", "json", "--status", "open"], &keys).findings();
    assert_eq!(open.len(), 1);
    assert_ne!(open[0]["fingerprint"], revoked);
    let only = run(&root, &["report", "--format", "json", "--status", "revoked"], &keys).findings();
    assert_eq!(only.len(), 1);
    let text = run(&root, &["report"], &keys);
    assert!(text.stdout.contains(&format!("triaged {revoked}: revoked (rotated)")), "{}", text.stdout);
    let again = run(&root, &["audit", "fleet", "--status", "revoked", "--format", "json"], &keys);
    assert_eq!(again.findings().len(), 1, "audit filters on the status too");
}

#[test]
fn four_shards_merged_report_what_one_run_does() {
    let (root, keys) = fleet(8, 194);
    run(&root, &["audit", "fleet", "--datastore", "all.db", "--format", "json"], &keys).expect_code(1);
    let mut owned = 0;
    for shard in 0..4 {
        let (spec, db) = (format!("{shard}/4"), format!("shard-{shard}.db"));
        let audit = run(&root, &["audit", "fleet", "--shard", &spec, "--datastore", &db, "--format", "json"], &keys);
        owned += audit.findings().len();
    }
    assert_eq!(owned, 8, "each repository in exactly one shard");
    let merge = ["datastore", "merge", "merged.db", "shard-0.db", "shard-1.db", "shard-2.db", "shard-3.db"];
    run(&root, &merge, &keys).expect_code(0);
    run(&root, &merge, &keys).expect_code(0);
    let merged = run(&root, &["report", "--datastore", "merged.db", "--format", "json"], &keys).findings();
    let single = run(&root, &["report", "--datastore", "all.db", "--format", "json"], &keys).findings();
    assert_eq!(merged, single);
    assert_eq!(merged.len(), 8, "merging twice records nothing twice");
}

#[test]
fn a_killed_audit_run_again_reports_everything_once() {
    let (root, keys) = fleet(24, 195);
    let mut child = root
        .keyhound()
        .args(["audit", "fleet", "--jobs", "1", "--datastore", "k.db", "--format", "json"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut progress = BufReader::new(child.stderr.take().unwrap()).lines();
    // Killed once three repositories are recorded: the fourth is under way.
    let third = progress.find(|line| line.as_ref().is_ok_and(|line| line.contains("(3/24)")));
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(third.is_some(), "the audit showed its progress");
    let again = run(&root, &["audit", "fleet", "--jobs", "2", "--datastore", "k.db", "--format", "json"], &keys);
    again.expect_code(1);
    let fresh = run(&root, &["audit", "fleet", "--datastore", "fresh.db", "--format", "json"], &keys);
    assert_eq!(summary(&again.findings()), summary(&fresh.findings()));
    let stored = run(&root, &["report", "--datastore", "k.db", "--format", "json"], &keys).findings();
    assert_eq!(summary(&stored), summary(&fresh.findings()));
    assert_eq!(stored.len(), 24, "nothing twice");
}

#[test]
fn a_remote_repository_is_cloned_recorded_under_its_url_and_audited_again_from_the_datastore() {
    let (root, keys) = fleet(1, 194);
    let url = format!("file://{}", root.path().join("fleet/repo-00").display());
    root.write("repos.txt", format!("{url}\n"));
    let first = run(&root, &["audit", "--repos", "repos.txt", "--format", "json"], &keys);
    first.expect_code(1);
    let findings = first.findings();
    assert_eq!(findings.len(), 1, "{}", first.stdout);
    assert_eq!(findings[0]["repository"], url.as_str());
    assert!(first.stderr.contains("2 blobs scanned"), "{}", first.stderr);
    let again = run(&root, &["audit", "--repos", "repos.txt", "--format", "json"], &keys);
    again.expect_code(1);
    assert_eq!(again.findings().len(), 1, "{}", again.stdout);
    assert!(
        again.stderr.contains("0 blobs scanned"),
        "a clone is the same repository to the datastore\n{}",
        again.stderr
    );
}
