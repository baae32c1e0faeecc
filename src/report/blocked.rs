//! The message a blocked commit or push ends with: the one "How to fix" for the secrets listed
//! above it, and what overriding the hook means. Written to standard error, where git shows
//! hook output.
//!
//! A commit is fixed in the index; a push only by rewriting the commits that added the keys,
//! since a fix in a new commit leaves each key in the history being pushed.

use crate::finding::Finding;
use crate::paths::{is_secrets_file, shell_quoted};
use crate::rules::RuleSet;
use crate::wording::count;

/// Used in the examples when no rule of the findings names an environment variable.
const FALLBACK_ENV_VAR: &str = "API_KEY";

/// The lines that follow the findings of a blocked commit, without trailing newlines.
pub(crate) fn commit_lines(findings: &[Finding], rules: &RuleSet) -> Vec<String> {
    let vars = env_vars(findings, rules);
    let example = vars.first().copied().unwrap_or(FALLBACK_ENV_VAR);
    let named = if vars.is_empty() { "an environment variable".to_string() } else { vars.join(", ") };
    let mut lines = vec![
        format!(
            "commit blocked: the staged changes add {}, listed above (the staged version of each file is \
             what counts)",
            count(findings.len(), "secret", "secrets")
        ),
        "How to fix:".into(),
    ];
    let files = secrets_files(findings);
    if files.is_empty() {
        lines.push(format!("  1. Take the key out of the file; keep it in {named} or a git-ignored file (.env)"));
        lines.push("     instead, and read it from there:".into());
    } else {
        let quoted: Vec<String> = files.iter().map(|file| shell_quoted(file)).collect();
        lines.push(format!(
            "  1. Keep {} out of git: git rm --cached {}, then add it to",
            quoted.join(", "),
            quoted.join(" ")
        ));
        lines.push("     .gitignore; elsewhere, take the key out of the file and read it from".into());
        lines.push(format!("     {named} instead:"));
    }
    lines.extend([
        format!("     os.environ[\"{example}\"] (Python), process.env.{example} (Node.js)."),
        "  2. Stage the fix (git add) and commit again.".into(),
        "  3. Nothing was committed, so git has not published the key; if it was ever pushed or shared".into(),
        "     elsewhere, revoke it at the provider's dashboard and create a new one.".into(),
        "To commit it anyway, on purpose:".into(),
        "  - put a `keyhound:allow` comment on the key's line, or".into(),
        "  - skip the hook once: git commit --no-verify".into(),
    ]);
    lines
}

/// A commit that added a key to the commits being pushed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Culprit {
    /// The commit's id, in full.
    pub id: String,
    /// Its summary line, secrets in it redacted.
    pub summary: String,
    /// Where in it the keys are: paths, or `<commit message>`.
    pub paths: Vec<String>,
    /// Whether it has no parent (`git rebase -i --root` then, as `<commit>^` names nothing).
    pub root: bool,
}

/// What rewriting the pushed commits takes: the commits that added the keys, oldest first,
/// and where the pushed branch is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Rewrite {
    /// The commits that added the keys, each once, oldest first.
    pub culprits: Vec<Culprit>,
    /// The last commit being pushed.
    pub tip: String,
    /// Whether `HEAD` is that commit (an amend rewrites `HEAD`).
    pub head_is_tip: bool,
}

/// The lines that follow the findings of a blocked push, without trailing newlines.
pub(crate) fn push_lines(findings: &[Finding], rewrite: &Rewrite) -> Vec<String> {
    let mut lines = vec![
        format!(
            "push blocked: the commits being pushed add {}, listed above. A fix in a new commit does \
             not help: the key stays in the history you push.",
            count(findings.len(), "secret", "secrets")
        ),
        "How to fix: take each key out of the commit that added it, then push again.".into(),
    ];
    match rewrite.culprits.as_slice() {
        [only] if only.id == rewrite.tip => lines.extend(amend_steps(only, rewrite.head_is_tip)),
        culprits => lines.extend(rebase_steps(culprits)),
    }
    lines.extend([
        "  If the key was shared anywhere else (a chat, a log, another repository), revoke it too.".to_string(),
        "  Not a secret? Put a `keyhound:allow` comment on its line, in the commit that added it.".into(),
        "To push anyway: git push --no-verify publishes the key to the remote; revoke it at the provider".into(),
        "  and create a new one first.".into(),
    ]);
    lines
}

/// `0123456789ab add client (settings.py)`.
fn describe(culprit: &Culprit) -> String {
    let short = culprit.id.get(..12).unwrap_or(&culprit.id);
    format!("{short} {} ({})", culprit.summary, culprit.paths.join(", "))
}

/// The key is in the last commit being pushed: amend it.
fn amend_steps(culprit: &Culprit, head_is_tip: bool) -> Vec<String> {
    let checkout = if head_is_tip { "" } else { "check out the branch being pushed, " };
    vec![
        format!("  It is the last commit being pushed: {}", describe(culprit)),
        format!("  1. {checkout}remove the key from the file, stage it (git add), then"),
        "       git commit --amend --no-edit".into(),
        "  2. push again.".into(),
    ]
}

/// The keys are in earlier commits: edit each in an interactive rebase from the oldest.
fn rebase_steps(culprits: &[Culprit]) -> Vec<String> {
    let mut lines = vec![format!("  Added by {}:", count(culprits.len(), "commit", "commits"))];
    lines.extend(culprits.iter().map(|culprit| format!("    {}", describe(culprit))));
    let start = match culprits.first() {
        Some(oldest) if !oldest.root => format!("git rebase -i {}^", oldest.id.get(..12).unwrap_or(&oldest.id)),
        _ => "git rebase -i --root".to_string(),
    };
    let which = if culprits.len() == 1 { "that commit's line" } else { "the lines of those commits" };
    lines.extend([
        format!("  1. {start}"),
        format!("     and change `pick` to `edit` on {which}."),
        "  2. At each stop: remove the key, stage the file (git add), git commit --amend --no-edit,".into(),
        "     then git rebase --continue.".into(),
        "  3. Push again.".into(),
    ]);
    lines
}

/// The distinct secrets files (see [`is_secrets_file`]) the findings are in, in order.
fn secrets_files(findings: &[Finding]) -> Vec<&str> {
    let mut files: Vec<&str> = Vec::new();
    for finding in findings.iter().filter(|finding| finding.provenance.members.is_empty()) {
        if is_secrets_file(&finding.path) && !files.contains(&finding.path.as_str()) {
            files.push(&finding.path);
        }
    }
    files
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
    use crate::report::test_support::{finding, finding_in_commit};

    #[test]
    fn names_the_env_var_revocation_and_both_overrides() {
        let rules = RuleSet::builtin().unwrap();
        let text = commit_lines(&[finding("a.py", 1), finding("b.py", 2)], &rules).join("\n");
        assert!(text.starts_with("commit blocked: the staged changes add 2 secrets,"), "{text}");
        assert!(text.contains("os.environ[\"OPENAI_API_KEY\"]") && text.contains("process.env.OPENAI_API_KEY"));
        assert_eq!(text.matches("OPENAI_API_KEY").count(), 3, "named once, not per finding: {text}");
        assert!(text.contains("revoke it at the provider's dashboard"));
        assert!(text.contains("keyhound:allow") && text.contains("git commit --no-verify"));
        assert_eq!(text.matches("How to fix").count(), 1, "{text}");
    }

    #[test]
    fn rules_without_an_env_var_get_a_generic_example() {
        let rules = RuleSet::builtin().unwrap();
        let mut unknown = finding("a.py", 1);
        unknown.rule_id = "no-such-rule".into();
        let text = commit_lines(&[unknown], &rules).join("\n");
        assert!(text.contains("keep it in an environment variable") && text.contains("process.env.API_KEY"), "{text}");
        assert!(text.starts_with("commit blocked: the staged changes add 1 secret,"), "{text}");
    }

    #[test]
    fn a_staged_secrets_file_is_untracked_not_kept() {
        let rules = RuleSet::builtin().unwrap();
        let text = commit_lines(&[finding("app/.env", 1), finding("my dir/.env.local", 2)], &rules).join("\n");
        assert!(text.contains("git rm --cached app/.env 'my dir/.env.local'"), "{text}");
        assert!(text.contains(".gitignore"), "{text}");
        assert!(!text.contains("git-ignored file (.env)"), "{text}");
    }

    fn culprit(id: &str, root: bool) -> Culprit {
        Culprit { id: id.repeat(40 / id.len()), summary: "add client".into(), paths: vec!["a.py".into()], root }
    }

    #[test]
    fn the_last_commit_is_amended() {
        let only = culprit("ab", false);
        let rewrite = Rewrite { culprits: vec![only.clone()], tip: only.id.clone(), head_is_tip: true };
        let text = push_lines(&[finding_in_commit("a.py", 1)], &rewrite).join("\n");
        assert!(text.contains("git commit --amend") && !text.contains("rebase"), "{text}");
        assert!(text.contains("last commit being pushed: abababababab add client (a.py)"), "{text}");
        assert!(text.contains("A fix in a new commit does not help") && text.contains("git push --no-verify"));
        assert!(!text.contains("check out"), "{text}");
    }

    #[test]
    fn older_commits_are_rebased_from_the_oldest_and_a_root_from_the_root() {
        let (old, new) = (culprit("12", false), culprit("34", false));
        let rewrite = Rewrite { culprits: vec![old, new.clone()], tip: new.id.clone(), head_is_tip: true };
        let text = push_lines(&[finding_in_commit("a.py", 1)], &rewrite).join("\n");
        assert!(text.contains("git rebase -i 121212121212^") && text.contains("Added by 2 commits:"), "{text}");
        assert!(!text.contains("--amend --no-edit\n"), "{text}");
        let rewrite = Rewrite { culprits: vec![culprit("56", true)], tip: new.id, head_is_tip: false };
        let text = push_lines(&[finding_in_commit("a.py", 1)], &rewrite).join("\n");
        assert!(text.contains("git rebase -i --root") && text.contains("Added by 1 commit:"), "{text}");
    }
}
