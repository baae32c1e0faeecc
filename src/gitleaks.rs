//! Reads a gitleaks configuration (`.gitleaks.toml`) into keyhound's model, so a team can
//! switch with `--config .gitleaks.toml` and keep its custom rules and allowlists.
//!
//! A file is taken for gitleaks' when it has gitleaks' shape: `[[rules]]` (keyhound's
//! `[rules]` is a single table), `[[allowlists]]`, `[extend]`, `title`, or an `[allowlist]`
//! with gitleaks-only keys (`commits`, `regexTarget`, `condition`, `description`).
//!
//! Translated:
//! - `[[rules]]`: `id` (lowercased, other characters turned into `-`), `description`,
//!   `regex` (Go RE2 syntax, which Rust's regex accepts almost entirely), `secretGroup`,
//!   `keywords`, `entropy`; their allowlists' `regexes` (over the secret) and `stopwords`.
//!   Translated rules have medium confidence and high severity.
//! - `[allowlist]` and `[[allowlists]]` without `targetRules`: `paths` (regexes over the
//!   path), `regexes` over the secret, `stopwords`.
//! - `[extend] useDefault` keeps keyhound's built-in rules (they are always kept; disable them
//!   with `[rules] disabled` in `.keyhound.toml`); `disabledRules` disables rules by id.
//!
//! Not translated, each named in a warning: a rule's `path` (the rule then applies to every
//! file; a rule with only `path` is dropped), rule allowlist `paths`, `commits` anywhere,
//! `regexTarget = "match"` or `"line"` regexes, allowlists with `condition = "AND"` over
//! several criteria (translating part of them would hide more), `[[allowlists]]` with
//! `targetRules`, and `[extend] path`.

use std::path::Path;

use toml::{Table, Value};

use crate::config::ConfigFile;
use crate::error::{Error, Result};
use crate::rules::{Confidence, RuleSpec, Severity};

/// Whether a parsed TOML file is a gitleaks configuration.
pub fn is_gitleaks(table: &Table) -> bool {
    let gitleaks_allowlist = table.get("allowlist").and_then(Value::as_table).is_some_and(|allowlist| {
        ["commits", "regexTarget", "condition", "description"].iter().any(|key| allowlist.contains_key(*key))
    });
    table.get("rules").is_some_and(Value::is_array)
        || ["allowlists", "extend", "title"].iter().any(|key| table.contains_key(*key))
        || gitleaks_allowlist
}

/// Translates a gitleaks configuration; what cannot be translated becomes a warning.
pub fn translate(table: Table, path: &Path) -> Result<ConfigFile> {
    let mut translation = Translation { path, file: ConfigFile::default() };
    translation.extend(table.get("extend"))?;
    for (index, rule) in array(table.get("rules"), "rules", path)?.iter().enumerate() {
        translation.rule(rule, index)?;
    }
    let mut allowlists = array(table.get("allowlists"), "allowlists", path)?.to_vec();
    allowlists.extend(table.get("allowlist").cloned());
    for allowlist in &allowlists {
        translation.global_allowlist(allowlist)?;
    }
    Ok(translation.file)
}

struct Translation<'p> {
    path: &'p Path,
    file: ConfigFile,
}

/// The parts of a gitleaks allowlist keyhound can apply to secrets.
#[derive(Default)]
struct SecretAllow {
    regexes: Vec<String>,
    stopwords: Vec<String>,
}

impl Translation<'_> {
    fn warn(&mut self, message: String) {
        self.file.warnings.push(format!("{}: not translated from gitleaks: {message}", self.path.display()));
    }

    fn error(&self, message: String) -> Error {
        Error::Config { path: self.path.to_path_buf(), message }
    }

    fn extend(&mut self, extend: Option<&Value>) -> Result<()> {
        let Some(extend) = extend else { return Ok(()) };
        let extend = extend.as_table().ok_or_else(|| self.error("[extend] must be a table".into()))?;
        if extend.contains_key("path") || extend.contains_key("url") {
            self.warn("[extend] path/url (extended files are not read)".into());
        }
        self.file.rules.disabled = strings(extend.get("disabledRules"), "extend.disabledRules", self.path)?;
        Ok(())
    }

    fn rule(&mut self, rule: &Value, index: usize) -> Result<()> {
        let rule = rule.as_table().ok_or_else(|| self.error(format!("rules[{index}] must be a table")))?;
        let id_text =
            string(rule.get("id"), "rules.id", self.path)?.unwrap_or_else(|| format!("gitleaks-rule-{index}"));
        let id = kebab(&id_text);
        let Some(regex) = string(rule.get("regex"), "rules.regex", self.path)? else {
            self.warn(format!("rule {id_text:?} matches file paths only, which keyhound rules cannot; dropped"));
            return Ok(());
        };
        if rule.contains_key("path") {
            self.warn(format!("rule {id_text:?}: its `path` restriction (the rule now applies to every file)"));
        }
        let secret_group = match rule.get("secretGroup") {
            None => None,
            Some(Value::Integer(group)) if *group >= 0 => usize::try_from(*group).ok().filter(|&group| group > 0),
            Some(_) => return Err(self.error(format!("rule {id_text:?}: secretGroup must be a non-negative integer"))),
        };
        let entropy = match rule.get("entropy") {
            None => None,
            Some(Value::Float(bits)) => Some(*bits),
            Some(Value::Integer(bits)) => Some(*bits as f64),
            Some(_) => return Err(self.error(format!("rule {id_text:?}: entropy must be a number"))),
        };
        let mut allowlists = array(rule.get("allowlists"), "rules.allowlists", self.path)?.to_vec();
        allowlists.extend(rule.get("allowlist").cloned());
        let mut allow = SecretAllow::default();
        for allowlist in &allowlists {
            let context = format!("rule {id_text:?} allowlist");
            let part = self.allowlist(allowlist, &context, |this, paths| {
                this.warn(format!("{context}: paths {paths:?}"));
            })?;
            allow.regexes.extend(part.regexes);
            allow.stopwords.extend(part.stopwords);
        }
        self.file.rules.specs.push(RuleSpec {
            description: string(rule.get("description"), "rules.description", self.path)?.unwrap_or(id_text),
            id,
            regex,
            secret_group,
            keywords: strings(rule.get("keywords"), "rules.keywords", self.path)?,
            entropy,
            severity: Severity::High,
            confidence: Confidence::Medium,
            env_var: None,
            remediation: String::new(),
            stopwords: allow.stopwords,
            allow: allow.regexes,
            placeholder_filter: true,
            examples: Vec::new(),
            negative_examples: Vec::new(),
        });
        Ok(())
    }

    fn global_allowlist(&mut self, allowlist: &Value) -> Result<()> {
        let table = allowlist.as_table().ok_or_else(|| self.error("an allowlist must be a table".into()))?;
        if table.get("targetRules").and_then(Value::as_array).is_some_and(|rules| !rules.is_empty()) {
            self.warn("an [[allowlists]] entry with targetRules".into());
            return Ok(());
        }
        let mut paths = Vec::new();
        let part = self.allowlist(allowlist, "[allowlist]", |_, found| paths = found)?;
        let section = &mut self.file.allowlist;
        section.path_regexes.extend(paths);
        section.regexes.extend(part.regexes.into_iter().map(|regex| toml::Spanned::new(0..0, regex)));
        section.stopwords.extend(part.stopwords);
        Ok(())
    }

    /// The secret-level parts of one allowlist; `paths` receives its path regexes.
    fn allowlist(
        &mut self,
        allowlist: &Value,
        context: &str,
        paths: impl FnOnce(&mut Self, Vec<String>),
    ) -> Result<SecretAllow> {
        let table = allowlist.as_table().ok_or_else(|| self.error(format!("{context} must be a table")))?;
        let commits = strings(table.get("commits"), "allowlist.commits", self.path)?;
        let path_regexes = strings(table.get("paths"), "allowlist.paths", self.path)?;
        let mut regexes = strings(table.get("regexes"), "allowlist.regexes", self.path)?;
        let stopwords = strings(table.get("stopwords"), "allowlist.stopwords", self.path)?;
        let criteria = [!commits.is_empty(), !path_regexes.is_empty(), !regexes.is_empty(), !stopwords.is_empty()];
        let condition = string(table.get("condition"), "allowlist.condition", self.path)?;
        if condition.is_some_and(|c| c.eq_ignore_ascii_case("and")) && criteria.iter().filter(|c| **c).count() > 1 {
            self.warn(format!("{context} with condition = \"AND\" (dropped whole)"));
            return Ok(SecretAllow::default());
        }
        if !commits.is_empty() {
            self.warn(format!("{context}: commits {commits:?}"));
        }
        let target = string(table.get("regexTarget"), "allowlist.regexTarget", self.path)?;
        if let Some(target) = target.filter(|t| t != "secret" && !regexes.is_empty()) {
            self.warn(format!("{context}: regexes with regexTarget = {target:?}"));
            regexes.clear();
        }
        if !path_regexes.is_empty() {
            paths(self, path_regexes);
        }
        Ok(SecretAllow { regexes, stopwords })
    }
}

/// Lowercase kebab-case: other characters become `-`, runs of `-` collapse.
fn kebab(id: &str) -> String {
    let mapped: String =
        id.chars().map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_lowercase() } else { '-' }).collect();
    mapped.split('-').filter(|part| !part.is_empty()).collect::<Vec<_>>().join("-")
}

fn array<'v>(value: Option<&'v Value>, key: &str, path: &Path) -> Result<&'v [Value]> {
    match value {
        None => Ok(&[]),
        Some(Value::Array(items)) => Ok(items),
        Some(_) => Err(Error::Config { path: path.to_path_buf(), message: format!("{key} must be an array") }),
    }
}

fn string(value: Option<&Value>, key: &str, path: &Path) -> Result<Option<String>> {
    match value {
        None => Ok(None),
        Some(Value::String(text)) => Ok(Some(text.clone())),
        Some(_) => Err(Error::Config { path: path.to_path_buf(), message: format!("{key} must be a string") }),
    }
}

fn strings(value: Option<&Value>, key: &str, path: &Path) -> Result<Vec<String>> {
    array(value, key, path)?.iter().map(|item| string(Some(item), key, path).map(Option::unwrap_or_default)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn translate_text(text: &str) -> Result<ConfigFile> {
        let table: Table = toml::from_str(text).unwrap();
        assert!(is_gitleaks(&table));
        translate(table, Path::new(".gitleaks.toml"))
    }

    #[test]
    fn keyhound_configs_are_not_taken_for_gitleaks() {
        let table: Table = toml::from_str("[rules]\ndisabled = []\n[allowlist]\npaths = []\n").unwrap();
        assert!(!is_gitleaks(&table));
    }

    #[test]
    fn kebab_ids() {
        assert_eq!(kebab("My_Rule.v2"), "my-rule-v2");
        assert_eq!(kebab("--a--b--"), "a-b");
    }

    #[test]
    fn and_allowlists_over_several_criteria_are_dropped_whole() {
        let file = translate_text(
            "[[rules]]\nid = 'x'\nregex = 'x(y)'\n[[rules.allowlists]]\ncondition = 'AND'\nregexes = ['a']\npaths = ['b']\n",
        )
        .unwrap();
        assert!(file.rules.specs[0].allow.is_empty());
        assert!(file.warnings.iter().any(|w| w.contains("AND")), "{:?}", file.warnings);
    }

    #[test]
    fn wrong_types_are_errors_naming_the_key() {
        let err = translate_text("[[rules]]\nid = 'x'\nregex = 'y'\nkeywords = 'not-an-array'\n").unwrap_err();
        assert!(err.to_string().contains("rules.keywords must be an array"), "{err}");
    }
}
