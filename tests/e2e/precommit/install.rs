//! What a user installing keyhound gets besides the binary: shell completions, the man page,
//! and a `--version` that names the CPU search path.

use std::process::Command;

use crate::harness::{Run, TestEnv};

/// Every command, as the completions and the man page must know it.
const COMMANDS: [&str; 8] = ["scan", "history", "staged", "hook", "rules", "baseline", "completions", "man"];

#[test]
fn bash_completions_parse_and_know_every_command() {
    let env = TestEnv::new();
    let run = env.run(&["completions", "bash"]);
    run.expect_code(0);
    let script = env.write("keyhound.bash", &run.stdout);
    let check = Run::of(Command::new("bash").arg("-n").arg(&script).output().expect("bash runs"));
    assert_eq!(check.code, 0, "bash -n rejects the script: {}", check.stderr);
    for command in COMMANDS {
        assert!(run.stdout.contains(&format!("keyhound__subcmd__{command}")), "no completion for {command}");
    }
}

#[test]
fn every_shell_gets_a_script_naming_every_command() {
    let env = TestEnv::new();
    for shell in ["zsh", "fish", "powershell", "elvish"] {
        let run = env.run(&["completions", shell]);
        run.expect_code(0);
        for command in COMMANDS {
            assert!(run.stdout.contains(command), "{shell}: no completion for {command}");
        }
    }
    env.run(&["completions", "tcsh"]).expect_code(2);
}

#[test]
fn the_man_page_is_roff_titled_keyhound_1() {
    let run = TestEnv::new().run(&["man"]);
    run.expect_code(0);
    let macros: Vec<&str> =
        run.stdout.lines().filter(|line| line.starts_with(".TH") || line.starts_with(".SH")).collect();
    let title = format!(".TH keyhound 1  \"keyhound {}\"", env!("CARGO_PKG_VERSION"));
    assert_eq!(macros.first().map(|line| line.trim_end()), Some(title.as_str()), "{}", run.stdout);
    assert!(macros.contains(&".SH NAME") && macros.contains(&".SH SYNOPSIS"), "{macros:?}");
    for command in COMMANDS {
        assert!(run.stdout.contains(&format!("keyhound\\-{command}")), "the page does not list {command}");
    }
}

#[test]
fn version_names_the_version_and_the_cpu_search_path() {
    let run = TestEnv::new().run(&["--version"]);
    run.expect_code(0);
    let expected = format!("keyhound {}\nCPU search path: {}\n", env!("CARGO_PKG_VERSION"), search_path_of_this_cpu());
    assert_eq!(run.stdout, expected);
    let short = TestEnv::new().run(&["-V"]);
    assert_eq!(short.stdout, format!("keyhound {}\n", env!("CARGO_PKG_VERSION")));
}

/// The path `--version` must name, from this test's own look at the CPU.
fn search_path_of_this_cpu() -> &'static str {
    #[cfg(target_arch = "x86_64")]
    if std::is_x86_feature_detected!("avx512f")
        && std::is_x86_feature_detected!("avx512bw")
        && std::is_x86_feature_detected!("avx512vbmi")
    {
        return "AVX-512 VBMI";
    }
    "portable"
}
