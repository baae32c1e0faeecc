//! `keyhound history` grouped by secret (the default): one entry per distinct secret with
//! every location, where it is today (branch and tag tips, or removed and when), the order
//! that puts the keys to revoke first on top, the closing count, and `--group-by location`.

use serde_json::Value;

use crate::harness::{FakeKeys, TestEnv};

/// A repository and a few distinct fake keys.
fn repo_and_keys() -> (TestEnv, Vec<String>) {
    let mut keys = FakeKeys::new(1601);
    (TestEnv::git_repo(), (0..4).map(|_| keys.project_key()).collect())
}

/// The entries of `keyhound history --format json ARGS`, which must find secrets; no key is
/// ever in the output.
fn entries(env: &TestEnv, args: &[&str], keys: &[String]) -> Vec<Value> {
    let mut all = vec!["history", "--format", "json"];
    all.extend_from_slice(args);
    let run = env.run(&all);
    for key in keys {
        assert!(!run.stdout.contains(key.as_str()) && !run.stderr.contains(key.as_str()), "a key leaked");
    }
    run.expect_code(1).findings()
}

/// The entry of the secret first seen at `path`.
fn entry<'a>(entries: &'a [Value], path: &str) -> &'a Value {
    entries.iter().find(|e| e["path"] == path).unwrap_or_else(|| panic!("no entry at {path}: {entries:#?}"))
}

fn location_paths(entry: &Value) -> Vec<(&str, &str)> {
    let locations = entry["locations"].as_array().unwrap();
    locations.iter().map(|l| (l["path"].as_str().unwrap(), l["commit"]["id"].as_str().unwrap())).collect()
}

/// A key committed in three files over five commits, the last of which removes one file.
fn key_in_three_files(env: &TestEnv, key: &str) -> [String; 5] {
    env.write("app/.env", format!("OPENAI_API_KEY={key}\n"));
    let first = env.commit_all("add the key");
    env.write("app/.env", format!("# edited\nOPENAI_API_KEY={key}\n"));
    let second = env.commit_all("edit the env file");
    env.write("lib/client.py", format!("KEY = '{key}'\n"));
    let third = env.commit_all("copy it into the client");
    env.write("deploy/values.yaml", format!("openai:\n  key: {key}\n"));
    let fourth = env.commit_all("and into the chart");
    std::fs::remove_file(env.path().join("lib/client.py")).unwrap();
    let fifth = env.commit_all("drop the client copy");
    [first, second, third, fourth, fifth]
}

#[test]
fn a_key_in_three_files_across_five_commits_is_one_entry_with_every_location() {
    let (env, keys) = repo_and_keys();
    let [first, _, third, fourth, _] = key_in_three_files(&env, &keys[0]);
    let found = entries(&env, &[], &keys);
    assert_eq!(found.len(), 1, "{found:#?}");
    let secret = &found[0];
    // The per-location fields describe the introducing location.
    assert_eq!((secret["path"].as_str(), secret["line"].as_u64()), (Some("app/.env"), Some(1)));
    assert_eq!(secret["commit"]["id"], first.as_str());
    assert_eq!(secret["commit"]["summary"], "add the key");
    assert!(secret["fingerprint"].as_str().unwrap().starts_with("openai-api-key:"));
    assert_eq!(secret["secret"].as_str().unwrap().chars().filter(|&c| c == '…').count(), 1, "redacted");
    assert_eq!(
        location_paths(secret),
        [("app/.env", first.as_str()), ("lib/client.py", third.as_str()), ("deploy/values.yaml", fourth.as_str())]
    );
    assert!(secret["locations"].as_array().unwrap().iter().all(|l| l["kind"] == "file"));
    assert_eq!(secret["exposure"]["status"], "present");
    assert_eq!(secret["exposure"]["refs"], serde_json::json!(["main"]));
    assert_eq!(secret["exposure"]["in_head"], true);
}

#[test]
fn group_by_location_lists_each_location_as_before() {
    let (env, keys) = repo_and_keys();
    let [first, _, third, fourth, _] = key_in_three_files(&env, &keys[0]);
    let found = entries(&env, &["--group-by", "location"], &keys);
    let mut places: Vec<(&str, &str)> =
        found.iter().map(|f| (f["path"].as_str().unwrap(), f["commit"]["id"].as_str().unwrap())).collect();
    places.sort();
    let mut expected = [("app/.env", first.as_str()), ("deploy/values.yaml", &fourth), ("lib/client.py", &third)];
    expected.sort();
    assert_eq!(places, expected);
    assert!(found.iter().all(|f| f.get("locations").is_none() && f.get("exposure").is_none()), "{found:#?}");
    let text = env.run(&["history", "--group-by", "location"]);
    assert_eq!(text.stdout.matches("    secret: ").count(), 3, "{}", text.stdout);
    assert!(!text.stdout.contains("today:"), "{}", text.stdout);
}

#[test]
fn a_removed_key_says_removed_with_its_last_commit() {
    let (env, keys) = repo_and_keys();
    env.write("config.py", format!("KEY = '{}'\n", keys[0]));
    env.commit_all("add the key");
    env.write("config.py", format!("KEY = '{}'\nDEBUG = True\n", keys[0]));
    let last = env.commit_all("debug on");
    env.write("config.py", "KEY = None\nDEBUG = True\n");
    env.commit_all("read the key from the environment");
    let found = entries(&env, &[], &keys);
    let exposure = &found[0]["exposure"];
    assert_eq!(exposure["status"], "removed", "{exposure}");
    assert_eq!(exposure["refs"], serde_json::json!([]));
    assert_eq!(exposure["last_commit"]["id"], last.as_str());
    assert_eq!(exposure["last_commit"]["date"], "2024-05-01T12:00:00+00:00");
    let text = env.run(&["history"]).stdout;
    let removed = format!("    today: removed from every branch and tag; last in commit {} on ", &last[..12]);
    assert!(text.contains(&removed), "{text}");
}

#[test]
fn a_key_on_main_and_one_only_on_an_unmerged_branch() {
    let (env, keys) = repo_and_keys();
    env.write("app.env", format!("KEY={}\n", keys[0]));
    env.commit_all("key on main");
    env.git(&["branch", "release/1.2"]);
    env.git(&["tag", "v1"]);
    env.git(&["checkout", "-q", "-b", "experiment"]);
    env.write("try.env", format!("KEY={}\n", keys[1]));
    env.commit_all("try another key");
    env.git(&["checkout", "-q", "main"]);
    env.git(&["update-ref", "refs/remotes/origin/wip", "experiment"]);
    let found = entries(&env, &[], &keys);
    let on_main = &entry(&found, "app.env")["exposure"];
    assert_eq!(on_main["refs"], serde_json::json!(["experiment", "main", "origin/wip", "release/1.2", "v1"]));
    assert_eq!((on_main["in_head"].as_bool(), on_main["only_on"].is_null()), (Some(true), true));
    let unmerged = &entry(&found, "try.env")["exposure"];
    assert_eq!(unmerged["refs"], serde_json::json!(["experiment", "origin/wip"]));
    assert_eq!((unmerged["in_head"].as_bool(), unmerged["only_on"].as_str()), (Some(false), Some("unmerged")));
    env.git(&["branch", "-D", "-q", "experiment"]);
    let found = entries(&env, &[], &keys);
    let remote = &entry(&found, "try.env")["exposure"];
    assert_eq!(remote["only_on"], "remote-tracking");
    let text = env.run(&["history"]).stdout;
    assert!(text.contains("    today: still in origin/wip (only on remote-tracking branches)\n"), "{text}");
    assert!(text.contains("    today: still in main, origin/wip, release/1.2, v1\n"), "{text}");
}

#[test]
fn present_keys_come_before_removed_ones_and_newer_before_older() {
    let (env, keys) = repo_and_keys();
    env.write("old.env", format!("KEY={}\n", keys[0]));
    env.commit_all("old key, kept");
    env.write("gone.env", format!("KEY={}\n", keys[1]));
    env.commit_all("a key, removed later");
    env.write("new.env", format!("KEY={}\n", keys[2]));
    env.commit_all("new key, kept");
    std::fs::remove_file(env.path().join("gone.env")).unwrap();
    env.commit_all(&format!("remove a key, mention another: {}", keys[3]));
    let found = entries(&env, &[], &keys);
    let order: Vec<&str> = found.iter().map(|e| e["path"].as_str().unwrap()).collect();
    assert_eq!(order, ["new.env", "old.env", "gone.env", "<commit message>"]);
    let statuses: Vec<&str> = found.iter().map(|e| e["exposure"]["status"].as_str().unwrap()).collect();
    assert_eq!(statuses, ["present", "present", "removed", "message"]);
    let text = env.run(&["history"]).stdout;
    assert!(
        text.ends_with(
            "4 secrets: 2 still at a branch or tag tip, 2 removed but in history. Revoke all of them; \
             rewrite history only if needed.\n"
        ),
        "{text}"
    );
}

#[test]
fn text_lists_a_few_locations_and_counts_the_rest() {
    let (env, keys) = repo_and_keys();
    for (n, dir) in ["a", "b", "c", "d", "e"].iter().enumerate() {
        env.write(&format!("{dir}/.env"), format!("KEY={}\n", keys[0]));
        env.commit_all(&format!("copy {n}"));
    }
    let run = env.run(&["history"]);
    let text = &run.expect_code(1).stdout;
    assert_eq!(text.matches("    secret: ").count(), 1, "{text}");
    assert!(text.contains("    found at 5 locations, oldest first:\n"), "{text}");
    assert!(text.contains(" a/.env:1\n") && text.contains(" c/.env:1\n") && !text.contains(" d/.env:1\n"), "{text}");
    assert!(text.contains("      and 2 more (--format json lists them all)\n"), "{text}");
    assert!(
        text.ends_with("1 secret: 1 still at a branch or tag tip, 0 removed but in history. Revoke it; rewrite history only if needed.\n"),
        "{text}"
    );
    assert!(!text.contains(keys[0].as_str()));
}

#[test]
fn a_history_baseline_hides_its_secrets_everywhere_and_a_new_one_is_reported() {
    let (env, keys) = repo_and_keys();
    key_in_three_files(&env, &keys[0]);
    env.git(&["commit", "-q", "--allow-empty", "-m", &format!("mention it: {}", keys[0])]);
    let created = env.run(&["baseline", "create", "--history"]);
    created.expect_code(0);
    assert!(!created.stdout.contains(keys[0].as_str()) && !created.stderr.contains(keys[0].as_str()));
    assert!(std::fs::read_to_string(env.path().join(".keyhound-baseline")).unwrap().contains(" lib/client.py\n"));
    let clean = env.run(&["history", "--baseline", ".keyhound-baseline"]);
    clean.expect_code(0);
    assert!(clean.stderr.contains("suppressed") && clean.stderr.contains("by baseline"), "{}", clean.stderr);
    // A new secret is reported; a new location of a recorded one is not.
    env.write("moved/.env", format!("KEY={}\nNEW={}\n", keys[0], keys[1]));
    env.commit_all("a new key beside the old one");
    let found = entries(&env, &["--baseline", ".keyhound-baseline"], &keys);
    assert_eq!(found.len(), 1, "{found:#?}");
    assert_eq!((found[0]["path"].as_str(), found[0]["line"].as_u64()), (Some("moved/.env"), Some(2)));
    // The working tree's baseline is a history baseline too: by fingerprint.
    let tree_baseline = env.run(&["baseline", "create", "-o", "tree-baseline"]);
    tree_baseline.expect_code(0);
    env.run(&["history", "--baseline", "tree-baseline"]).expect_code(0);
}

#[test]
fn a_keyhoundignore_fingerprint_hides_a_secret_in_every_location() {
    let (env, keys) = repo_and_keys();
    key_in_three_files(&env, &keys[0]);
    env.write("other.env", format!("KEY={}\n", keys[1]));
    env.commit_all("another key");
    let fingerprint = entry(&entries(&env, &[], &keys), "app/.env")["fingerprint"].as_str().unwrap().to_string();
    env.write(".keyhoundignore", format!("{fingerprint} # revoked 2024-05\n"));
    let found = entries(&env, &[], &keys);
    let paths: Vec<&str> = found.iter().map(|e| e["path"].as_str().unwrap()).collect();
    assert_eq!(paths, ["other.env"]);
    assert!(found[0]["locations"].as_array().unwrap().len() == 1);
}
