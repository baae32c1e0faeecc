//! `keyhound scan`: working trees, output formats, exit codes and bad input.

use crate::harness::{FakeKeys, TestEnv};

fn env_with_key(relative: &str) -> (TestEnv, String) {
    let env = TestEnv::new();
    let key = FakeKeys::new(1).project_key();
    env.write(relative, format!("OPENAI_API_KEY={key}\n"));
    (env, key)
}

#[test]
fn finds_a_key_in_a_hidden_env_file_and_redacts_it() {
    let (env, key) = env_with_key(".env");
    let run = env.run(&["scan", "--format", "json"]);
    run.expect_code(1);
    let findings = run.findings();
    assert_eq!(findings.len(), 1);
    let finding = &findings[0];
    assert_eq!(finding["rule"], "openai-api-key");
    assert_eq!(finding["path"], ".env");
    assert_eq!(finding["line"], 1);
    assert_eq!(finding["column"], 16);
    assert_eq!(finding["end_column"], 16 + key.len());
    assert_eq!(finding["commit"], serde_json::Value::Null);
    assert_eq!(finding["secret"], format!("sk-proj-…{}", &key[key.len() - 4..]));
    assert!(!run.stdout.contains(&key) && !run.stderr.contains(&key), "the key leaked into output");
    assert!(finding["fingerprint"].as_str().unwrap().starts_with("openai-api-key:"));
}

#[test]
fn show_secrets_prints_the_key_whole() {
    let (env, key) = env_with_key("config/settings.py");
    let run = env.run(&["scan", "--format", "jsonl", "--show-secrets"]);
    run.expect_code(1);
    let finding: serde_json::Value = serde_json::from_str(run.stdout.lines().next().unwrap()).unwrap();
    assert_eq!(finding["secret"], key);
}

#[test]
fn text_output_tells_how_to_fix_and_never_prints_the_key() {
    let (env, key) = env_with_key("app.py");
    let run = env.run(&["scan", "app.py"]);
    run.expect_code(1);
    assert!(run.stdout.starts_with("app.py:1:16: OpenAI API key [openai-api-key, critical]"), "{}", run.stdout);
    assert!(run.stdout.contains("OPENAI_API_KEY") && run.stdout.contains("revoke"));
    assert!(!run.stdout.contains(&key));
    assert!(!run.stdout.contains('\x1b'), "no colour when not a terminal");
    assert!(run.stderr.contains("1 secret found"), "{}", run.stderr);
}

#[test]
fn clean_tree_exits_zero_and_says_what_it_scanned() {
    let env = TestEnv::new();
    env.write("README.md", "sk-... is a placeholder, as is sk-your-key-here\n");
    let run = env.run(&["scan"]);
    run.expect_code(0);
    assert!(run.stderr.contains("no secrets found (1 file"), "{}", run.stderr);
}

#[test]
fn every_key_shape_is_found_with_exact_bounds() {
    let env = TestEnv::new();
    let mut keys = FakeKeys::new(7);
    let shapes = [
        keys.openai("sk-", 20, 20),
        keys.openai("sk-proj-", 20, 20),
        keys.openai("sk-proj-", 58, 58),
        keys.project_key(),
        keys.openai("sk-svcacct-", 20, 20),
        keys.openai("sk-svcacct-", 46, 46),
        keys.openai("sk-svcacct-", 62, 63),
        keys.openai("sk-svcacct-", 74, 74),
        keys.openai("sk-admin-", 58, 58),
        keys.openai("sk-None-", 74, 74),
        keys.openai("sk-batch-runner-", 20, 20),
    ];
    let closers = ["\\\"", ")", ",", "}", "<", ";", "\"", "'", " ", ".", "\n", ""];
    let text: String =
        shapes.iter().zip(closers.iter().cycle()).map(|(key, close)| format!("k = ({key}{close}\n")).collect();
    env.write("notebook.ipynb", &text);
    let run = env.run(&["scan", "--format", "json", "--show-secrets"]);
    run.expect_code(1);
    let found: Vec<String> = run.findings().iter().map(|f| f["secret"].as_str().unwrap().to_string()).collect();
    assert_eq!(found, shapes);
}

#[test]
fn key_at_end_of_file_without_newline() {
    let env = TestEnv::new();
    let key = FakeKeys::new(3).openai("sk-", 20, 20);
    env.write("k.txt", &key);
    let run = env.run(&["scan", "--format", "json", "--show-secrets"]);
    assert_eq!(run.expect_code(1).findings()[0]["secret"], key);
}

#[test]
fn binary_and_invalid_utf8_files_are_scanned() {
    let env = TestEnv::new();
    let key = FakeKeys::new(4).project_key();
    let mut bytes = vec![0x00, 0xff, 0xfe, 0xc3];
    bytes.extend_from_slice(key.as_bytes());
    bytes.extend_from_slice(&[0xff, 0x00, 0x80]);
    env.write("__pycache__/settings.cpython-311.pyc", bytes);
    let run = env.run(&["scan", "--format", "json"]);
    assert_eq!(run.expect_code(1).findings().len(), 1);
}

#[test]
fn inline_allow_comment_suppresses_and_is_counted() {
    let env = TestEnv::new();
    let key = FakeKeys::new(5).project_key();
    env.write("test_client.py", format!("KEY = \"{key}\"  # keyhound:allow test fixture\n"));
    let run = env.run(&["scan"]);
    run.expect_code(0);
    assert!(run.stderr.contains("1 finding suppressed (1 by keyhound:allow comment)"), "{}", run.stderr);
}

#[test]
fn gitignored_files_are_skipped_and_counted_unless_no_ignore() {
    let env = TestEnv::git_repo();
    env.write(".gitignore", "secrets/\n");
    let key = FakeKeys::new(6).project_key();
    env.write("secrets/prod.env", format!("OPENAI_API_KEY={key}\n"));
    env.write("main.py", "print('hi')\n");
    env.commit_all("initial");
    let run = env.run(&["scan"]);
    run.expect_code(0);
    assert!(run.stderr.contains("1 file excluded by .gitignore"), "{}", run.stderr);
    env.run(&["scan", "--no-ignore"]).expect_code(1);
}

#[test]
fn wholly_ignored_target_is_a_warning_not_clean() {
    let env = TestEnv::git_repo();
    env.write(".gitignore", "vendor/\n");
    env.write("vendor/lib/a.py", "x = 1\n");
    env.write("vendor/lib/b.py", "y = 2\n");
    let run = env.run(&["scan", "vendor/lib"]);
    run.expect_code(0);
    assert!(run.stderr.contains("warning: vendor/lib: excluded by the ignore rules"), "{}", run.stderr);
    assert!(run.stderr.contains("2 files excluded"), "{}", run.stderr);
    assert!(run.stderr.contains("nothing was scanned"), "{}", run.stderr);
    assert!(!run.stderr.contains("no secrets found"), "{}", run.stderr);
}

#[test]
fn large_files_are_skipped_by_name() {
    let env = TestEnv::new();
    let key = FakeKeys::new(8).project_key();
    env.write("dump.sql", format!("{}{key}\n", "-- padding\n".repeat(200)));
    let run = env.run(&["scan", "--max-file-size", "1KiB"]);
    run.expect_code(0);
    assert!(run.stderr.contains("skipped 1 file: dump.sql (too large"), "{}", run.stderr);
    env.run(&["scan"]).expect_code(1);
}

#[cfg(unix)]
#[test]
fn fifo_never_hangs_the_scan() {
    let env = TestEnv::new();
    let fifo = env.path().join("pipe");
    assert!(std::process::Command::new("mkfifo").arg(&fifo).status().unwrap().success());
    env.write("a.txt", "nothing\n");
    let run = env.run(&["scan"]);
    run.expect_code(0);
    assert!(run.stderr.contains("not regular files"), "{}", run.stderr);
    // Named explicitly, it is still not opened.
    env.run(&["scan", "pipe"]).expect_code(0);
}

#[cfg(unix)]
#[test]
fn symlink_loops_are_harmless() {
    let env = TestEnv::new();
    std::fs::create_dir(env.path().join("d")).unwrap();
    std::os::unix::fs::symlink("..", env.path().join("d/loop")).unwrap();
    env.run(&["scan"]).expect_code(0);
}

#[test]
fn missing_path_is_a_one_line_error() {
    let env = TestEnv::new();
    let run = env.run(&["scan", "no/such/dir"]);
    run.expect_code(2);
    assert_eq!(run.stderr.lines().count(), 1, "{}", run.stderr);
    assert!(run.stderr.starts_with("keyhound: error: no/such/dir:"), "{}", run.stderr);
}

#[cfg(target_os = "linux")]
#[test]
fn unreadable_file_makes_the_scan_incomplete() {
    // /proc/self/mem opens but fails to read at offset 0, even for root.
    let env = TestEnv::new();
    let run = env.run(&["scan", "/proc/self/mem"]);
    run.expect_code(2);
    assert!(run.stderr.contains("error: /proc/self/mem:"), "{}", run.stderr);
    assert!(run.stderr.contains("scan incomplete"), "{}", run.stderr);
}

#[test]
fn broken_pipe_is_quiet() {
    let env = TestEnv::new();
    let mut keys = FakeKeys::new(9);
    for i in 0..300 {
        env.write(&format!("f{i}.env"), format!("K={}\n", keys.project_key()));
    }
    let binary = env!("CARGO_BIN_EXE_keyhound");
    let output = std::process::Command::new("sh")
        .arg("-c")
        .arg(format!("'{binary}' scan . --format jsonl | head -1; exit 0"))
        .current_dir(env.path())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!stderr.contains("panicked") && !stderr.contains("error"), "{stderr}");
    assert_eq!(String::from_utf8_lossy(&output.stdout).lines().count(), 1);
}

#[test]
fn output_file_receives_the_report() {
    let (env, _) = env_with_key(".env");
    let run = env.run(&["scan", "--format", "json", "--output", "report.json", ".env"]);
    run.expect_code(1);
    assert!(run.stdout.is_empty());
    let report: serde_json::Value =
        serde_json::from_slice(&std::fs::read(env.path().join("report.json")).unwrap()).unwrap();
    assert_eq!(report.as_array().unwrap().len(), 1);
}

#[test]
fn findings_are_sorted_deterministically() {
    let env = TestEnv::new();
    let mut keys = FakeKeys::new(10);
    for name in ["b/z.env", "a/y.env", "c.env", "a/x.env"] {
        env.write(name, format!("1\nK={}\nK={}\n", keys.project_key(), keys.openai("sk-", 20, 20)));
    }
    let first = env.run(&["scan", "--format", "json"]).stdout;
    for _ in 0..3 {
        assert_eq!(env.run(&["scan", "--format", "json"]).stdout, first);
    }
    let paths: Vec<String> = serde_json::from_str::<Vec<serde_json::Value>>(&first)
        .unwrap()
        .iter()
        .map(|f| format!("{}:{}", f["path"].as_str().unwrap(), f["line"]))
        .collect();
    assert_eq!(
        paths,
        ["a/x.env:2", "a/x.env:3", "a/y.env:2", "a/y.env:3", "b/z.env:2", "b/z.env:3", "c.env:2", "c.env:3"]
    );
}

#[test]
fn config_allowlist_paths_suppress_findings() {
    let (env, _) = env_with_key("fixtures/keys.env");
    env.write(".keyhound.toml", "[allowlist]\npaths = [\"fixtures/**\"]\n");
    let run = env.run(&["scan"]);
    run.expect_code(0);
    assert!(run.stderr.contains("1 by allowlisted path"), "{}", run.stderr);
    // The same holds when the target is a subdirectory.
    env.run(&["scan", "fixtures"]).expect_code(0);
}

#[test]
fn invalid_config_is_an_error_naming_file_and_line() {
    let (env, _) = env_with_key(".env");
    env.write(".keyhound.toml", "[allowlist]\npaths = \"not-a-list\"\n");
    let run = env.run(&["scan"]);
    run.expect_code(2);
    assert!(run.stderr.contains(".keyhound.toml") && run.stderr.contains("line 2"), "{}", run.stderr);
}

const CUSTOM_RULE: &str = r#"
[[rule]]
id = "acme-token"
description = "ACME token"
regex = '(?P<secret>acme_[A-Za-z0-9]{16})'
keywords = ["acme_"]
examples = ["token = acme_Q8mZ3vL0pW7rT2nB"]
negative_examples = ["acme_short"]
"#;

#[test]
fn user_rules_extend_the_builtin_ones() {
    let env = TestEnv::new();
    env.write("rules/acme.toml", CUSTOM_RULE);
    env.write("app.cfg", "token = acme_Zp4Wd7LxR7nB5kX9\n");
    let run = env.run(&["scan", "app.cfg", "--rules", "rules", "--format", "json"]);
    assert_eq!(run.expect_code(1).findings()[0]["rule"], "acme-token");
    let list = env.run(&["rules", "list", "--rules", "rules/acme.toml"]);
    assert!(list.expect_code(0).stdout.contains("acme-token") && list.stdout.contains("openai-api-key"));
}

#[test]
fn rules_check_reports_every_failing_example() {
    let env = TestEnv::new();
    env.write("good.toml", CUSTOM_RULE);
    env.run(&["rules", "check", "good.toml"]).expect_code(0);
    let bad = CUSTOM_RULE.replace("acme_short", "acme_Zp4Wd7LxR7nB5kX9").replace("acme_Q8mZ3vL0pW7rT2nB", "acme_nope");
    env.write("bad.toml", bad);
    let run = env.run(&["rules", "check", "bad.toml"]);
    run.expect_code(2);
    assert!(run.stderr.contains("did not match") && run.stderr.contains("was reported"), "{}", run.stderr);
    assert!(run.stderr.contains("2 problems"), "{}", run.stderr);
}

#[test]
fn invalid_rule_file_is_an_error() {
    let env = TestEnv::new();
    env.write("broken.toml", "[[rule]]\nid = 'x'\ndescription = 'd'\nregex = '(unclosed'\n");
    let run = env.run(&["scan", "--rules", "broken.toml"]);
    run.expect_code(2);
    assert!(
        run.stderr.contains("invalid rule file broken.toml") && run.stderr.contains("invalid regex"),
        "{}",
        run.stderr
    );
    env.run(&["rules", "check", "broken.toml"]).expect_code(2);
    env.run(&["rules", "check", "missing.toml"]).expect_code(2);
}

#[test]
fn builtin_rules_check_passes() {
    let run = TestEnv::new().run(&["rules", "check"]);
    run.expect_code(0);
    assert!(run.stderr.contains("examples passed"), "{}", run.stderr);
}

#[test]
fn repository_passes_its_own_scan() {
    let run = crate::harness::Run::of(
        crate::harness::keyhound_in(env!("CARGO_MANIFEST_DIR").as_ref()).args(["scan", "."]).output().unwrap(),
    );
    run.expect_code(0);
}
