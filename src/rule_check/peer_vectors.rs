//! Other scanners' published test vectors (`fixtures/peer-vectors/*.jsonl`, copied from
//! gitleaks, trufflehog, noseyparker, kingfisher, secretlint, CredSweeper, trivy, …) run
//! through the real matcher with the built-in rules.
//!
//! A vector expecting `secret` must yield a finding from one of its family's rules; one
//! expecting `not-secret` must yield none from them (none at all when it names no family).
//! Where we deliberately disagree, `fixtures/peer-vectors/disagreements.jsonl` lists the
//! text with the reason (also summarised in the rule file's comments). The test fails on an
//! undocumented disagreement and on a documented one that no longer disagrees.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::sync::Arc;

use serde::Deserialize;

use crate::matcher::{Matcher, Scratch};
use crate::rules::RuleSet;

/// The vector files, relative to `fixtures/peer-vectors/`.
const VECTOR_FILES: &[&str] = &["openai.jsonl", "ai-providers.jsonl"];

/// The rules that report each family of the vector files.
const FAMILY_RULES: &[(&str, &[&str])] = &[
    ("openai-legacy", &["openai-api-key"]),
    ("openai-proj", &["openai-api-key"]),
    ("openai-svcacct", &["openai-api-key"]),
    ("openai-none", &["openai-api-key"]),
    ("openai-service-named", &["openai-api-key"]),
    ("openai-admin", &["openai-admin-key"]),
    ("openai-realtime-ek", &["openai-realtime-client-secret"]),
    ("anthropic-api", &["anthropic-api-key"]),
    ("anthropic-admin", &["anthropic-admin-key"]),
    ("anthropic-oauth-access", &["anthropic-oauth-token"]),
    ("anthropic-oauth-refresh", &["anthropic-oauth-token"]),
    ("google-api-key", &["google-api-key", "google-api-key-base64", "google-ai-studio-key"]),
    ("huggingface-user", &["huggingface-access-token"]),
    ("huggingface-org", &["huggingface-org-token"]),
    ("groq", &["groq-api-key"]),
    ("replicate", &["replicate-api-token"]),
    ("perplexity", &["perplexity-api-key"]),
    ("xai", &["xai-api-key"]),
    ("openrouter", &["openrouter-api-key"]),
    ("deepseek", &["deepseek-api-key"]),
    ("mistral", &["mistral-api-key"]),
    ("cohere", &["cohere-api-key"]),
    ("azure-openai", &["azure-openai-key", "azure-ai-services-key"]),
];

#[derive(Debug, Deserialize)]
struct Vector {
    source: String,
    text: String,
    expect: String,
    family: Option<String>,
}

#[derive(Debug, Deserialize)]
struct Disagreement {
    text: String,
    family: Option<String>,
    reason: String,
}

fn fixture(name: &str) -> String {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures/peer-vectors").join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()))
}

fn parse_lines<T: for<'de> Deserialize<'de>>(name: &str) -> Vec<T> {
    fixture(name)
        .lines()
        .filter(|line| !line.trim().is_empty())
        .enumerate()
        .map(|(n, line)| serde_json::from_str(line).unwrap_or_else(|e| panic!("{name}:{}: {e}", n + 1)))
        .collect()
}

/// The rule ids of a family (`a|b` accepts the rules of either).
fn family_rules(family: &str) -> BTreeSet<&'static str> {
    family
        .split('|')
        .flat_map(|part| {
            let (_, rules) = FAMILY_RULES
                .iter()
                .find(|(name, _)| *name == part)
                .unwrap_or_else(|| panic!("family {part:?} has no rules in FAMILY_RULES"));
            rules.iter().copied()
        })
        .collect()
}

fn reported_rules(matcher: &Matcher, text: &str) -> BTreeSet<String> {
    let mut found = Vec::new();
    matcher.find(text.as_bytes(), &mut Scratch::default(), &mut found);
    found.iter().map(|raw| matcher.rules().get(raw.rule).id().to_string()).collect()
}

/// Whether our verdict differs from the vector's.
fn disagrees(vector: &Vector, reported: &BTreeSet<String>) -> bool {
    let ours = match &vector.family {
        Some(family) => {
            let rules = family_rules(family);
            reported.iter().any(|id| rules.contains(id.as_str()))
        }
        None => !reported.is_empty(),
    };
    match vector.expect.as_str() {
        "secret" => !ours,
        "not-secret" => ours,
        other => panic!("vector from {} expects {other:?}", vector.source),
    }
}

type Key = (String, Option<String>);

#[test]
fn peer_vectors_agree_or_are_documented_disagreements() {
    let matcher = Matcher::new(Arc::new(RuleSet::builtin().expect("builtin rules load")));
    let mut actual: BTreeMap<Key, String> = BTreeMap::new();
    let mut vectors = 0;
    for file in VECTOR_FILES {
        for vector in parse_lines::<Vector>(file) {
            vectors += 1;
            let reported = reported_rules(&matcher, &vector.text);
            if disagrees(&vector, &reported) {
                let note = format!("{file}: {} expects {}, we report {reported:?}", vector.source, vector.expect);
                actual.insert((vector.text, vector.family), note);
            }
        }
    }
    let documented: BTreeMap<Key, String> = parse_lines::<Disagreement>("disagreements.jsonl")
        .into_iter()
        .map(|d| {
            assert!(!d.reason.trim().is_empty(), "disagreement without a reason: {:?}", d.text);
            ((d.text, d.family), d.reason)
        })
        .collect();
    let undocumented: Vec<String> = actual
        .iter()
        .filter(|(key, _)| !documented.contains_key(*key))
        .map(|((text, family), note)| format!("{note}\n  family {family:?}, text {text:?}"))
        .collect();
    let stale: Vec<String> = documented
        .keys()
        .filter(|key| !actual.contains_key(*key))
        .map(|(text, family)| format!("family {family:?}, text {text:?}"))
        .collect();
    assert!(vectors > 250, "only {vectors} vectors read");
    assert!(
        undocumented.is_empty() && stale.is_empty(),
        "undocumented disagreements:\n{}\n\ndocumented disagreements that now agree:\n{}",
        undocumented.join("\n"),
        stale.join("\n")
    );
}

#[test]
fn every_family_maps_to_builtin_rules() {
    let rules = RuleSet::builtin().expect("builtin rules load");
    for (family, ids) in FAMILY_RULES {
        for id in *ids {
            assert!(rules.rules().iter().any(|rule| rule.id() == *id), "{family}: no rule {id}");
        }
    }
}
