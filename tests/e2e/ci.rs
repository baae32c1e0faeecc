//! CI integration: report formats from the real binary, baselines across line moves and
//! renames, the `.keyhoundignore` file, bad config files, and gitleaks configurations.

use sha2::{Digest, Sha256};

use crate::harness::{keyhound_in, FakeKeys, Run, TestEnv};

/// A repository with one committed key in `app/.env`, on line 2.
fn repo_with_key() -> (TestEnv, String) {
    let env = TestEnv::git_repo();
    let key = FakeKeys::new(11).project_key();
    env.write("app/.env", format!("DEBUG=1\nOPENAI_API_KEY={key}\n"));
    env.commit_all("add env");
    (env, key)
}

#[test]
fn every_ci_format_reports_the_finding_without_the_secret() {
    let (env, key) = repo_with_key();
    for (format, marker) in [
        ("sarif", "\"ruleId\""),
        ("github", "::error file=app/.env,line=2,"),
        ("junit", "<failure"),
        ("codequality", "\"check_name\": \"openai-api-key\""),
        ("csv", "\r\n"),
    ] {
        let run = env.run(&["scan", "--format", format]);
        run.expect_code(1);
        assert!(run.stdout.contains(marker), "{format}: {}", run.stdout);
        assert!(!run.stdout.contains(&key), "{format} leaked the key");
    }
    let sarif: serde_json::Value = serde_json::from_str(&env.run(&["scan", "--format", "sarif"]).stdout).unwrap();
    let location = &sarif["runs"][0]["results"][0]["locations"][0]["physicalLocation"];
    assert_eq!(location["artifactLocation"]["uri"], "app/.env");
    assert_eq!(location["region"]["startLine"], 2);
}

#[test]
fn config_file_sets_the_default_format() {
    let (env, _) = repo_with_key();
    env.write(".keyhound.toml", "format = \"github\"\n");
    let run = env.run(&["scan"]);
    run.expect_code(1);
    assert!(run.stdout.starts_with("::error "), "{}", run.stdout);
}

#[test]
fn baseline_survives_line_moves_reformatting_and_renames_but_not_new_keys() {
    let (env, key) = repo_with_key();
    env.run(&["baseline", "create"]).expect_code(0);
    let text = std::fs::read_to_string(env.path().join(".keyhound-baseline")).unwrap();
    assert!(text.starts_with("# keyhound baseline v1\n"), "{text}");
    let unsalted: String = Sha256::digest(key.as_bytes()).iter().map(|b| format!("{b:02x}")).collect();
    assert!(!text.contains(&key) && !text.contains(&unsalted[..16]), "the baseline holds the secret");
    assert!(text.lines().any(|line| line.starts_with("openai-api-key:") && line.ends_with(" app/.env")), "{text}");

    let baselined = env.run(&["scan", "--baseline", ".keyhound-baseline"]);
    baselined.expect_code(0);
    assert!(baselined.stderr.contains("1 by baseline"), "{}", baselined.stderr);

    // Moved down, reformatted, with unrelated edits around it.
    env.write("app/.env", format!("# settings\nDEBUG = 0\nLOG=info\n\nexport OPENAI_API_KEY='{key}'\n"));
    env.run(&["scan", "--baseline", ".keyhound-baseline"]).expect_code(0);

    env.git(&["mv", "app/.env", "app/production.env"]);
    let renamed = env.run(&["scan", "--baseline", ".keyhound-baseline", "--report-unused"]);
    renamed.expect_code(0);
    assert!(!renamed.stderr.contains("no longer found"), "a rename uses the entry: {}", renamed.stderr);

    let new_key = FakeKeys::new(12).project_key();
    env.write("app/other.py", format!("KEY = \"{new_key}\"\n"));
    let run = env.run(&["scan", "--baseline", ".keyhound-baseline", "--format", "json"]);
    run.expect_code(1);
    let findings = run.findings();
    assert_eq!(findings.len(), 1);
    assert_eq!(findings[0]["path"], "app/other.py");
}

#[test]
fn baseline_paths_are_relative_to_the_baseline_file_wherever_keyhound_runs() {
    let (env, key) = repo_with_key();
    env.write("a.env", format!("K={key}\n"));
    env.run(&["baseline", "create"]).expect_code(0);
    // From app/, only app/.env is scanned: it must match its own entry exactly (were its path
    // taken as `.env`, it would take over the `a.env` entry as a rename instead).
    let mut from_subdir = keyhound_in(&env.path().join("app"));
    from_subdir.args(["scan", "--baseline", "../.keyhound-baseline", "--report-unused", "."]);
    let run = Run::of(from_subdir.output().unwrap());
    run.expect_code(0);
    assert!(
        run.stderr.contains("no longer found: openai-api-key:") && run.stderr.contains(" a.env\n"),
        "{}",
        run.stderr
    );
    assert!(!run.stderr.contains(" app/.env"), "{}", run.stderr);
}

#[test]
fn copies_of_a_baselined_key_are_new_and_unused_entries_are_listed() {
    let (env, key) = repo_with_key();
    env.run(&["baseline", "create", "--output", "ci/baseline.txt"]).expect_code(2);
    std::fs::create_dir_all(env.path().join("ci")).unwrap();
    env.run(&["baseline", "create", "--output", "ci/baseline.txt"]).expect_code(0);
    env.write("copy.env", format!("K={key}\n"));
    let run = env.run(&["scan", "--baseline", "ci/baseline.txt", "--format", "json"]);
    run.expect_code(1);
    assert_eq!(run.findings()[0]["path"], "copy.env");

    std::fs::remove_file(env.path().join("copy.env")).unwrap();
    env.write("app/.env", "DEBUG=1\n");
    let run = env.run(&["scan", "--baseline", "ci/baseline.txt", "--report-unused"]);
    run.expect_code(0);
    assert!(run.stderr.contains("baseline entry no longer found: openai-api-key:"), "{}", run.stderr);
    assert!(run.stderr.contains(" app/.env"), "{}", run.stderr);
}

#[test]
fn baseline_from_the_config_file_and_bad_baselines() {
    let (env, _) = repo_with_key();
    env.write(".keyhound.toml", "baseline = \"known-secrets\"\n");
    let missing = env.run(&["scan"]);
    missing.expect_code(2);
    assert!(missing.stderr.contains("known-secrets"), "{}", missing.stderr);
    let created = env.run(&["baseline", "create"]);
    created.expect_code(0);
    assert!(created.stderr.contains("recorded 1 finding as 1 entry in"), "{}", created.stderr);
    assert!(!env.path().join(".keyhound-baseline").exists(), "create writes the configured baseline");
    env.run(&["scan"]).expect_code(0);
    env.write("known-secrets", "not a baseline\n");
    let run = env.run(&["scan"]);
    run.expect_code(2);
    assert!(run.stderr.contains("known-secrets:1: not a keyhound baseline"), "{}", run.stderr);
}

#[test]
fn ignore_file_hides_a_reviewed_secret_but_never_its_replacement() {
    let (env, _) = repo_with_key();
    let without = env.run(&["scan", "--format", "json", "--report-unused"]);
    assert!(without.stderr.contains("no baseline or .keyhoundignore is in use"), "{}", without.stderr);
    let finding = &without.findings()[0];
    let fingerprint = finding["fingerprint"].as_str().unwrap().to_string();
    env.write(".keyhoundignore", format!("# reviewed\n{fingerprint} app/*.env  # revoked in May\n"));
    let run = env.run(&["scan"]);
    run.expect_code(0);
    assert!(run.stderr.contains("1 by .keyhoundignore entry"), "{}", run.stderr);

    let other = FakeKeys::new(13).project_key();
    env.write("app/.env", format!("DEBUG=1\nOPENAI_API_KEY={other}\n"));
    let run = env.run(&["scan", "--report-unused"]);
    run.expect_code(1);
    assert!(run.stderr.contains(".keyhoundignore:2: ignore entry matched nothing"), "{}", run.stderr);
}

#[test]
fn bad_config_exits_2_naming_file_and_line() {
    let (env, _) = repo_with_key();
    env.write(".keyhound.toml", "[allowlist]\nregexes = ['(']\n");
    let run = env.run(&["scan"]);
    run.expect_code(2);
    assert!(run.stderr.contains(".keyhound.toml") && run.stderr.contains("line 2"), "{}", run.stderr);
    env.run(&["scan", "--config", "missing.toml"]).expect_code(2);
}

/// A gitleaks configuration of the kind teams keep: a custom rule with a secret group,
/// keywords and entropy, rule and global allowlists, and parts keyhound cannot translate.
const GITLEAKS_CONFIG: &str = r#"
title = "team gitleaks config"

[extend]
useDefault = true

[[rules]]
id = "acme_api_token"
description = "ACME API token"
# Go RE2 syntax: ASCII \b and \w, a literal `{{` that Rust's regex syntax would reject.
regex = '''(?i)\b(acme[_-]?token|{{acme}})\s*[:=]\s*["']?(acme_[\w]{24})\b'''
secretGroup = 2
keywords = ["acme_"]
entropy = 3.0
  [[rules.allowlists]]
  stopwords = ["sample"]
  commits = ["0123456789abcdef0123456789abcdef01234567"]

[allowlist]
description = "global"
paths = ['''(^|/)vendor/''']
regexes = ['''^acme_test''']
"#;

#[test]
fn gitleaks_config_rules_and_allowlists_are_translated() {
    let env = TestEnv::git_repo();
    let mut keys = FakeKeys::new(21);
    let token = format!("acme_{}", keys.segment(24, b"abcdefghijklmnopqrstuvwxyz0123456789").to_lowercase());
    let sample = format!("acme_sample{}", &token[11..]);
    env.write(".gitleaks.toml", GITLEAKS_CONFIG);
    env.write("src/client.py", format!("ACME_TOKEN = \"{token}\"\nacme_token: {sample}\n"));
    env.write("vendor/lib.py", format!("acme_token = '{token}'\n"));
    env.write("app/.env", format!("OPENAI_API_KEY={}\n", keys.project_key()));
    env.commit_all("init");

    let run = env.run(&["scan", "--config", ".gitleaks.toml", "--format", "json"]);
    run.expect_code(1);
    let findings = run.findings();
    let rules: Vec<(&str, &str)> =
        findings.iter().map(|f| (f["rule"].as_str().unwrap(), f["path"].as_str().unwrap())).collect();
    assert_eq!(rules, [("openai-api-key", "app/.env"), ("acme-api-token", "src/client.py")], "{}", run.stderr);
    assert_eq!(findings[1]["line"], 1);
    assert!(run.stderr.contains("not translated from gitleaks") && run.stderr.contains("commits"), "{}", run.stderr);
    assert!(run.stderr.contains("allowlisted path"), "{}", run.stderr);
}
