//! `rules check`: runs every rule's `examples` and `negative_examples` through the real
//! matcher (keywords, entropy, placeholder filters and allow patterns included) and reports
//! every failure. It sits above both [`crate::rules`], which is data, and [`crate::matcher`].

#[cfg(test)]
mod peer_vectors;

use std::fmt;
use std::sync::Arc;

use crate::matcher::{Candidate, Matcher};
use crate::rules::{Example, RuleSet};

/// Longest example text quoted in a failure message.
const MAX_QUOTED: usize = 80;

/// An example that did not behave as its rule file says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ExampleFailure {
    /// The rule's id.
    pub rule_id: String,
    /// The rule file.
    pub origin: String,
    /// What went wrong, with the (shortened) example text.
    pub problem: String,
}

impl fmt::Display for ExampleFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: rule {}: {}", self.origin, self.rule_id, self.problem)
    }
}

/// Checks every example of every rule in the set; an empty result means all passed.
pub(crate) fn check_examples(rules: Arc<RuleSet>) -> Vec<ExampleFailure> {
    let matcher = Matcher::new(rules.clone());
    let mut failures = Vec::new();
    for (index, rule) in rules.rules().iter().enumerate() {
        let fail =
            |problem: String| ExampleFailure { rule_id: rule.id().to_string(), origin: rule.origin.clone(), problem };
        if rule.spec.examples.is_empty() {
            failures.push(fail("has no examples".to_string()));
        }
        for example in &rule.spec.examples {
            if let Some(problem) = positive_problem(&matcher, index, example) {
                failures.push(fail(problem));
            }
        }
        for example in &rule.spec.negative_examples {
            if let Some(problem) = negative_problem(&matcher, index, example) {
                failures.push(fail(problem));
            }
        }
    }
    failures
}

fn candidates_of(matcher: &Matcher, rule: usize, text: &str) -> Vec<Candidate> {
    matcher.candidates(text.as_bytes()).into_iter().filter(|c| c.found.rule == rule).collect()
}

fn secret_of<'t>(text: &'t str, candidate: &Candidate) -> &'t str {
    text.get(candidate.found.secret.clone()).unwrap_or("<not UTF-8>")
}

fn positive_problem(matcher: &Matcher, rule: usize, example: &Example) -> Option<String> {
    let text = example.text();
    let candidates = candidates_of(matcher, rule, text);
    let accepted: Vec<&str> = candidates.iter().filter(|c| c.rejection.is_none()).map(|c| secret_of(text, c)).collect();
    match example.expected_secret() {
        _ if candidates.is_empty() => Some(format!("example {} did not match", quote(text))),
        _ if accepted.is_empty() => {
            let reasons: Vec<&str> = candidates.iter().filter_map(|c| c.rejection.map(|r| r.reason())).collect();
            Some(format!("example {} matched but was filtered out: {}", quote(text), reasons.join("; ")))
        }
        Some(expected) if !accepted.contains(&expected) => Some(format!(
            "example {} yielded {} instead of {}",
            quote(text),
            accepted.iter().map(|s| quote(s)).collect::<Vec<_>>().join(", "),
            quote(expected)
        )),
        _ => None,
    }
}

fn negative_problem(matcher: &Matcher, rule: usize, example: &Example) -> Option<String> {
    let text = example.text();
    let reported: Vec<String> = candidates_of(matcher, rule, text)
        .iter()
        .filter(|c| c.rejection.is_none())
        .map(|c| quote(secret_of(text, c)))
        .collect();
    (!reported.is_empty()).then(|| format!("negative example {} was reported: {}", quote(text), reported.join(", ")))
}

fn quote(text: &str) -> String {
    if text.chars().count() <= MAX_QUOTED {
        format!("{text:?}")
    } else {
        let head: String = text.chars().take(MAX_QUOTED).collect();
        format!("{head:?}…")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(toml: &str) -> Vec<String> {
        let rules = Arc::new(RuleSet::from_toml(toml, "t.toml").unwrap());
        check_examples(rules).into_iter().map(|f| f.problem).collect()
    }

    #[test]
    fn builtin_rule_examples_all_pass() {
        let failures = check_examples(Arc::new(RuleSet::builtin().unwrap()));
        let report: Vec<String> = failures.iter().map(ToString::to_string).collect();
        assert!(report.is_empty(), "failing examples:\n{}", report.join("\n"));
    }

    #[test]
    fn every_failure_is_reported_at_once() {
        let problems = check(
            r#"
[[rule]]
id = "tok"
description = "token"
regex = 'tok_([A-Za-z0-9]{8})\b'
keywords = ["tok_"]
examples = ["tok_Q8mZ3vL0", "nothing", "tok_xxxxxxxx", { text = "tok_R7nB5kX9", secret = "tok_R7nB5kX9" }]
negative_examples = ["tok_Zp4Wd7Lx", "tok_"]
"#,
        );
        assert_eq!(problems.len(), 4, "{problems:#?}");
        assert!(problems[0].contains("\"nothing\" did not match"));
        assert!(problems[1].contains("filtered out: looks like a placeholder"));
        assert!(problems[2].contains("yielded \"R7nB5kX9\" instead of \"tok_R7nB5kX9\""));
        assert!(problems[3].contains("negative example \"tok_Zp4Wd7Lx\" was reported"));
    }

    #[test]
    fn a_rule_without_examples_fails() {
        let problems = check("[[rule]]\nid='a'\ndescription='d'\nregex='x(y)'\nkeywords=['x']\n");
        assert_eq!(problems, ["has no examples"]);
    }
}
