//! `keyhound scan -`: standard input, and streams named on the command line.

use std::io::Write;
use std::process::Stdio;

use crate::harness::{FakeKeys, Run, TestEnv};

/// Runs keyhound in `env` with `input` piped to its standard input.
fn piped(env: &TestEnv, args: &[&str], input: impl Into<Vec<u8>>) -> Run {
    let mut child = env
        .keyhound()
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("keyhound starts");
    let mut stdin = child.stdin.take().expect("stdin is piped");
    let input = input.into();
    // keyhound may stop reading early (input over the limit, or not read at all): a write
    // that fails then is expected.
    let writer = std::thread::spawn(move || drop(stdin.write_all(&input)));
    let output = child.wait_with_output().expect("keyhound runs");
    writer.join().expect("the writer thread ends");
    Run::of(output)
}

fn key() -> String {
    FakeKeys::new(7).project_key()
}

#[test]
fn a_piped_key_is_found_under_the_stdin_name() {
    let env = TestEnv::new();
    let input = format!("pod started\nOPENAI_API_KEY={}\n", key());
    let run = piped(&env, &["scan", "-", "--format", "json", "--stdin-name", "pod/api.log"], input.clone());
    run.expect_code(1);
    let findings = run.findings();
    assert_eq!(findings.len(), 1, "{}", run.stdout);
    assert_eq!(findings[0]["path"], "pod/api.log");
    assert_eq!(findings[0]["line"], 2);
    let run = piped(&env, &["scan", "--format", "json", "-"], input);
    run.expect_code(1);
    assert_eq!(run.findings()[0]["path"], "-", "the default name is the PATH given");
}

#[test]
fn clean_input_exits_zero() {
    let env = TestEnv::new();
    piped(&env, &["scan", "-"], "nothing to see\n").expect_code(0);
}

#[test]
fn input_over_the_size_limit_is_skipped_and_named() {
    let env = TestEnv::new();
    let mut input = format!("OPENAI_API_KEY={}\n", key()).into_bytes();
    input.resize(64 << 10, b'x');
    let run = piped(&env, &["scan", "-", "--max-file-size", "1KiB", "--stdin-name", "big.log"], input);
    // A skip is not an error, as for a file over the limit.
    run.expect_code(0);
    assert!(run.stderr.contains("skipped 1 file: big.log (larger than 1.0 KiB)"), "{}", run.stderr);
}

#[cfg(target_os = "linux")]
#[test]
fn dev_stdin_named_on_the_command_line_is_read() {
    let env = TestEnv::new();
    let run = piped(&env, &["scan", "/dev/stdin", "--format", "json"], format!("token={}\n", key()));
    run.expect_code(1);
    assert_eq!(run.findings()[0]["path"], "/dev/stdin");
}

#[test]
fn stdin_name_without_dash_is_a_usage_error() {
    let env = TestEnv::new();
    let run = env.run(&["scan", "--stdin-name", "x.log", "."]);
    run.expect_code(2);
    assert!(run.stderr.contains("--stdin-name"), "{}", run.stderr);
}

#[test]
fn git_show_output_is_scanned_with_its_lines() {
    let env = TestEnv::new();
    let input = format!(
        "commit 0123456789abcdef0123456789abcdef01234567\nAuthor: A <a@example.com>\n\n    add config\n\n\
         diff --git a/.env b/.env\n--- /dev/null\n+++ b/.env\n@@ -0,0 +1 @@\n+OPENAI_API_KEY={}\n",
        key()
    );
    let run = piped(&env, &["scan", "-", "--format", "json", "--stdin-name", "git-show"], input);
    run.expect_code(1);
    let findings = run.findings();
    assert_eq!(findings.len(), 1, "{}", run.stdout);
    assert_eq!((&findings[0]["path"], &findings[0]["line"]), (&"git-show".into(), &10.into()));
}

#[cfg(unix)]
#[test]
fn a_pipe_is_not_read_without_dash_and_the_summary_says_so() {
    let env = TestEnv::new();
    env.write("a.txt", format!("OPENAI_API_KEY={}\n", key()));
    let run = piped(&env, &["scan"], format!("OPENAI_API_KEY={}\n", FakeKeys::new(8).project_key()));
    run.expect_code(1);
    assert!(run.stderr.contains("warning: standard input is a pipe and was not read"), "{}", run.stderr);
    assert!(run.stderr.contains("`keyhound scan -` reads standard input"), "{}", run.stderr);
    assert!(run.stdout.contains("a.txt") && !run.stdout.contains("\n-:"), "{}", run.stdout);
}
