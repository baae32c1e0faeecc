//! Built-in rule coverage through the real binary: `rules list`, `rules check`, the OpenAI
//! structural score in JSON, and the `--confidence` floor over the generic rule.

use keyhound::rules::RuleSet;

use crate::harness::{FakeKeys, TestEnv};

const ALPHANUMERIC: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

#[test]
fn rules_list_shows_every_builtin_rule() {
    let run = TestEnv::new().run(&["rules", "list"]);
    run.expect_code(0);
    let builtin = RuleSet::builtin().expect("builtin rules load");
    assert!(builtin.rules().len() >= 40, "only {} builtin rules", builtin.rules().len());
    for rule in builtin.rules() {
        assert!(run.stdout.lines().any(|line| line.starts_with(&format!("{} ", rule.id()))), "{} missing", rule.id());
    }
}

#[test]
fn openai_findings_carry_a_structure_score_and_others_do_not() {
    let env = TestEnv::new();
    let mut keys = FakeKeys::new(7);
    let issued_shape = keys.openai("sk-proj-", 20, 20);
    let edited_shape = keys.openai("sk-proj-", 20, 26);
    let github = format!("ghp_{}", keys.segment(36, ALPHANUMERIC));
    env.write("a.env", format!("A={issued_shape}\nB={edited_shape}\nC={github}\n"));
    let run = env.run(&["scan", "--format", "json"]);
    run.expect_code(1);
    let findings = run.findings();
    let structures: Vec<_> =
        findings.iter().map(|f| (f["rule"].as_str().unwrap(), f.get("structure").cloned())).collect();
    assert_eq!(
        structures,
        [
            ("openai-api-key", Some(serde_json::json!(1.0))),
            ("openai-api-key", Some(serde_json::json!(0.0))),
            ("github-pat", None),
        ]
    );
}

#[test]
fn confidence_floor_drops_the_generic_rule() {
    let env = TestEnv::new();
    let mut keys = FakeKeys::new(3);
    // Two short segments: FakeKeys marks only segments of 12 or more with FAKE, a stopword here.
    let value = format!("{}{}", keys.segment(11, ALPHANUMERIC), keys.segment(11, ALPHANUMERIC));
    env.write("settings.py", format!("API_KEY = \"{value}\"\n"));
    let all = env.run(&["scan", "--format", "json"]);
    all.expect_code(1);
    assert_eq!(all.findings()[0]["rule"], "generic-secret");
    assert_eq!(all.findings()[0]["confidence"], "low");
    env.run(&["scan", "--format", "json", "--confidence", "medium"]).expect_code(0);
}

#[test]
fn rules_check_passes_every_builtin_example_and_counts_them() {
    let run = TestEnv::new().run(&["rules", "check"]);
    run.expect_code(0);
    let builtin = RuleSet::builtin().expect("builtin rules load");
    let examples: usize =
        builtin.rules().iter().map(|rule| rule.spec.examples.len() + rule.spec.negative_examples.len()).sum();
    let rules = builtin.rules().len();
    assert_eq!(run.stderr, format!("keyhound: {rules} rules valid, {examples} examples passed\n"));
}

#[test]
fn rules_check_names_every_failing_example_of_a_rule_file_and_exits_2() {
    let env = TestEnv::new();
    env.write(
        "tok.toml",
        r#"
[[rule]]
id = "tok"
description = "token"
regex = 'tok_([A-Za-z0-9]{8})\b'
keywords = ["tok_"]
examples = ["tok_Q8mZ3vL0", "nothing", { text = "tok_R7nB5kX9", secret = "tok_R7nB5kX9" }]
negative_examples = ["tok_Zp4Wd7Lx"]

[[rule]]
id = "bare"
description = "no examples"
regex = 'bare_[0-9]{6}'
keywords = ["bare_"]
"#,
    );
    let run = env.run(&["rules", "check", "tok.toml"]);
    run.expect_code(2);
    let expected = [
        r#"keyhound: tok.toml: rule tok: example "nothing" did not match"#,
        r#"keyhound: tok.toml: rule tok: example "tok_R7nB5kX9" yielded "R7nB5kX9" instead of "tok_R7nB5kX9""#,
        r#"keyhound: tok.toml: rule tok: negative example "tok_Zp4Wd7Lx" was reported: "Zp4Wd7Lx""#,
        "keyhound: tok.toml: rule bare: has no examples",
        "keyhound: 4 problems in 2 rules",
    ];
    assert_eq!(run.stderr.lines().collect::<Vec<_>>(), expected);
}
