//! The message a blocked commit ends with: what to do about the secrets listed above it, and
//! how to commit anyway on purpose. Written to standard error, where git shows hook output.

use crate::finding::Finding;
use crate::rules::RuleSet;

/// Used in the examples when no rule of the findings names an environment variable.
const FALLBACK_ENV_VAR: &str = "API_KEY";

/// The lines that follow the findings of a blocked commit, without trailing newlines.
pub(crate) fn lines(findings: &[Finding], rules: &RuleSet) -> Vec<String> {
    let vars = env_vars(findings, rules);
    let example = vars.first().copied().unwrap_or(FALLBACK_ENV_VAR);
    let named = if vars.is_empty() { "an environment variable".to_string() } else { vars.join(", ") };
    vec![
        format!(
            "commit blocked: the staged changes add {} secret(s), listed above (the staged version of each \
             file is what counts)",
            findings.len()
        ),
        "How to fix:".into(),
        format!("  1. Take the key out of the file; keep it in {named} or a git-ignored file (.env) instead,"),
        format!("     and read it from there: os.environ[\"{example}\"] (Python), process.env.{example} (Node.js)."),
        "  2. Stage the fixed file (git add) and commit again.".into(),
        "  3. If the key was ever pushed or shared, revoke it at the provider's dashboard and create a".into(),
        "     new one: deleting it from the code does not make it secret again.".into(),
        "To commit it anyway, on purpose:".into(),
        "  - put a `keyhound:allow` comment on the key's line, or".into(),
        "  - skip the hook once: git commit --no-verify".into(),
    ]
}

/// The distinct environment variables the findings' rules name, in order of appearance.
fn env_vars<'r>(findings: &[Finding], rules: &'r RuleSet) -> Vec<&'r str> {
    let mut vars: Vec<&str> = Vec::new();
    for finding in findings {
        let rule = rules.find(&finding.rule_id);
        if let Some(var) = rule.and_then(|rule| rule.spec.env_var.as_deref()) {
            if !vars.contains(&var) {
                vars.push(var);
            }
        }
    }
    vars
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::test_support::finding;

    #[test]
    fn names_the_env_var_revocation_and_both_overrides() {
        let rules = RuleSet::builtin().unwrap();
        let text = lines(&[finding("a.py", 1), finding("b.py", 2)], &rules).join("\n");
        assert!(text.starts_with("commit blocked: the staged changes add 2 secret(s)"), "{text}");
        assert!(text.contains("os.environ[\"OPENAI_API_KEY\"]") && text.contains("process.env.OPENAI_API_KEY"));
        assert_eq!(text.matches("OPENAI_API_KEY").count(), 3, "named once, not per finding: {text}");
        assert!(text.contains("revoke it at the provider's dashboard"));
        assert!(text.contains("keyhound:allow") && text.contains("git commit --no-verify"));
    }

    #[test]
    fn rules_without_an_env_var_get_a_generic_example() {
        let rules = RuleSet::builtin().unwrap();
        let mut unknown = finding("a.py", 1);
        unknown.rule_id = "no-such-rule".into();
        let text = lines(&[unknown], &rules).join("\n");
        assert!(text.contains("keep it in an environment variable") && text.contains("process.env.API_KEY"), "{text}");
    }
}
