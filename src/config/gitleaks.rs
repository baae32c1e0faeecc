//! Reads a gitleaks configuration (`.gitleaks.toml`) into [`Settings`], so a team can switch
//! with `--config .gitleaks.toml` and keep its custom rules and allowlists.
//!
//! A file is taken for gitleaks' when it has gitleaks' shape: `[[rules]]` (keyhound's
//! `[rules]` is a single table), `[[allowlists]]`, `[extend]`, `title`, or an `[allowlist]`
//! with gitleaks-only keys (`commits`, `regexTarget`, `condition`, `description`).
//!
//! Translated:
//! - `[[rules]]`: `id` (lowercased, other characters turned into `-`), `description`,
//!   `regex` (Go RE2 syntax, rewritten where Rust's differs: `\w` `\d` `\s` `\b` stay ASCII,
//!   a `{` that opens no repetition stays literal; a regex Rust still rejects drops its rule
//!   with a warning), `secretGroup`, `keywords`, `entropy`; their allowlists' `regexes` (over
//!   the secret) and `stopwords`.
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

use std::collections::BTreeMap;
use std::path::Path;

use serde::Deserialize;
use toml::{Table, Value};

use super::settings::{Located, Settings};
use crate::echo;
use crate::error::{Error, Result};
use crate::rules::{Confidence, RuleSpec, Severity};

/// Whether a parsed TOML file is a gitleaks configuration.
pub(super) fn is_gitleaks(table: &Table) -> bool {
    let gitleaks_allowlist = table.get("allowlist").and_then(Value::as_table).is_some_and(|allowlist| {
        ["commits", "regexTarget", "condition", "description"].iter().any(|key| allowlist.contains_key(*key))
    });
    table.get("rules").is_some_and(Value::is_array)
        || ["allowlists", "extend", "title"].iter().any(|key| table.contains_key(*key))
        || gitleaks_allowlist
}

/// A gitleaks configuration as written (gitleaks ignores keys it does not know; so do we,
/// with a warning).
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct GitleaksFile {
    extend: Option<Extend>,
    rules: Vec<GitleaksRule>,
    #[serde(flatten)]
    allowlists: Allowlists,
    #[serde(flatten)]
    other: BTreeMap<String, Value>,
}

/// `[allowlist]` (older gitleaks) and `[[allowlists]]`, at the top level or in a rule.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Allowlists {
    allowlist: Option<GitleaksAllowlist>,
    allowlists: Vec<GitleaksAllowlist>,
}

impl Allowlists {
    fn iter(&self) -> impl Iterator<Item = &GitleaksAllowlist> {
        self.allowlists.iter().chain(&self.allowlist)
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct Extend {
    path: Option<String>,
    url: Option<String>,
    disabled_rules: Vec<String>,
    #[serde(flatten)]
    other: BTreeMap<String, Value>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct GitleaksRule {
    id: String,
    description: Option<String>,
    regex: Option<String>,
    secret_group: Option<usize>,
    entropy: Option<f64>,
    keywords: Vec<String>,
    path: Option<String>,
    #[serde(flatten)]
    allowlists: Allowlists,
    #[serde(flatten)]
    other: BTreeMap<String, Value>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct GitleaksAllowlist {
    condition: Option<String>,
    commits: Vec<String>,
    paths: Vec<String>,
    regexes: Vec<String>,
    regex_target: Option<String>,
    stopwords: Vec<String>,
    target_rules: Vec<String>,
    #[serde(flatten)]
    other: BTreeMap<String, Value>,
}

/// Keys that carry no meaning for scanning and are dropped silently.
const DESCRIPTIVE_KEYS: &[&str] = &["title", "description", "tags", "useDefault", "minVersion", "$schema"];

/// Translates a gitleaks configuration; what cannot be translated becomes a warning. Syntax
/// and type errors name the file and line.
pub(super) fn translate(text: &str, path: &Path) -> Result<Settings> {
    let parsed: GitleaksFile = toml::from_str(text)
        .map_err(|e| Error::Config { path: path.to_path_buf(), message: echo::toml_error(&e, text) })?;
    let mut translation = Translation { path, settings: Settings::default() };
    translation.unknown_keys("the top level", &parsed.other);
    if let Some(extend) = &parsed.extend {
        translation.unknown_keys("[extend]", &extend.other);
        if extend.path.is_some() || extend.url.is_some() {
            translation.warn("[extend] path/url (extended files are not read)".into());
        }
        translation.settings.disabled_rules.clone_from(&extend.disabled_rules);
    }
    for rule in parsed.rules {
        translation.rule(rule);
    }
    for allowlist in parsed.allowlists.iter() {
        translation.global_allowlist(allowlist);
    }
    Ok(translation.settings)
}

struct Translation<'p> {
    path: &'p Path,
    settings: Settings,
}

/// The parts of a gitleaks allowlist that keyhound applies to secrets.
#[derive(Default)]
struct SecretAllow {
    regexes: Vec<String>,
    stopwords: Vec<String>,
}

impl Translation<'_> {
    /// Records what was not translated; the keys, ids and patterns it quotes are the file's
    /// text, shown only when harmless.
    fn warn(&mut self, message: String) {
        let message = echo::message(&message);
        self.settings.warnings.push(format!("{}: not translated from gitleaks: {message}", self.path.display()));
    }

    fn unknown_keys(&mut self, context: &str, other: &BTreeMap<String, Value>) {
        for key in other.keys().filter(|key| !DESCRIPTIVE_KEYS.contains(&key.as_str())) {
            self.warn(format!("unknown key {key:?} in {context}"));
        }
    }

    fn rule(&mut self, rule: GitleaksRule) {
        let context = format!("rule {:?}", rule.id);
        self.unknown_keys(&context, &rule.other);
        let Some(regex) = rule.regex else {
            self.warn(format!("{context} matches file paths only, which keyhound rules cannot; dropped"));
            return;
        };
        let Some(regex) = self.regex(&regex, &context) else {
            self.warn(format!("{context} dropped: its regex is not valid in keyhound"));
            return;
        };
        if rule.path.is_some() {
            self.warn(format!("{context}: its `path` restriction (the rule now applies to every file)"));
        }
        let mut allow = SecretAllow::default();
        for allowlist in rule.allowlists.iter() {
            let part = self.allowlist(allowlist, &format!("{context} allowlist"), false);
            allow.regexes.extend(part.regexes);
            allow.stopwords.extend(part.stopwords);
        }
        self.settings.rule_specs.push(RuleSpec {
            id: kebab(&rule.id),
            description: rule.description.unwrap_or_else(|| rule.id.clone()),
            regex,
            secret_group: rule.secret_group.filter(|&group| group > 0),
            keywords: rule.keywords,
            entropy: rule.entropy.filter(|&bits| bits > 0.0),
            severity: Severity::High,
            confidence: Confidence::Medium,
            env_var: None,
            remediation: String::new(),
            remediation_by_context: Default::default(),
            stopwords: allow.stopwords,
            allow: allow.regexes,
            allow_match: Vec::new(),
            near: None,
            placeholder_filter: true,
            structure: None,
            examples: Vec::new(),
            negative_examples: Vec::new(),
        });
    }

    fn global_allowlist(&mut self, allowlist: &GitleaksAllowlist) {
        if !allowlist.target_rules.is_empty() {
            self.warn(format!("an [[allowlists]] entry with targetRules {:?}", allowlist.target_rules));
            return;
        }
        let part = self.allowlist(allowlist, "[allowlist]", true);
        let section = &mut self.settings.allowlist;
        section.secret_regexes.extend(part.regexes.into_iter().map(Located::unplaced));
        section.stopwords.extend(part.stopwords);
    }

    /// The secret-level parts of one allowlist; with `global`, its path regexes go to the
    /// global allowlist (a keyhound rule has no path allowlist).
    fn allowlist(&mut self, allowlist: &GitleaksAllowlist, context: &str, global: bool) -> SecretAllow {
        self.unknown_keys(context, &allowlist.other);
        let criteria = [&allowlist.commits, &allowlist.paths, &allowlist.regexes, &allowlist.stopwords];
        let several = criteria.iter().filter(|criterion| !criterion.is_empty()).count() > 1;
        if several && allowlist.condition.as_deref().is_some_and(|c| c.eq_ignore_ascii_case("and")) {
            self.warn(format!("{context} with condition = \"AND\" (dropped whole)"));
            return SecretAllow::default();
        }
        if !allowlist.commits.is_empty() {
            self.warn(format!("{context}: commits {:?}", allowlist.commits));
        }
        if global {
            let paths: Vec<String> = allowlist.paths.iter().filter_map(|regex| self.regex(regex, context)).collect();
            self.settings.allowlist.path_regexes.extend(paths.into_iter().map(Located::unplaced));
        } else if !allowlist.paths.is_empty() {
            self.warn(format!("{context}: paths {:?}", allowlist.paths));
        }
        let mut regexes: Vec<String> =
            allowlist.regexes.iter().filter_map(|regex| self.regex(regex, context)).collect();
        if let Some(target) = allowlist.regex_target.as_deref().filter(|t| *t != "secret" && !regexes.is_empty()) {
            self.warn(format!("{context}: regexes with regexTarget = {target:?}"));
            regexes.clear();
        }
        SecretAllow { regexes, stopwords: allowlist.stopwords.clone() }
    }
}

impl Translation<'_> {
    /// `pattern` in Rust's syntax, or `None` (with a warning) when Rust's regex rejects it.
    fn regex(&mut self, pattern: &str, context: &str) -> Option<String> {
        let translated = without_identifier_lead(&from_go_regex(pattern));
        match regex::Regex::new(&translated) {
            Ok(_) => Some(translated),
            Err(e) => {
                self.warn(format!("{context}: regex {pattern:?} ({})", echo::regex_error(&e)));
                None
            }
        }
    }
}

/// Rewrites Go RE2 syntax where Rust's regex differs: Go's `\\w`, `\\d`, `\\s` and `\\b` are
/// ASCII-only (Rust's are Unicode, larger and slower), and Go takes a `{` that does not open a
/// repetition (`{2}`, `{2,}`, `{2,5}`) for a literal, which Rust rejects.
fn from_go_regex(pattern: &str) -> String {
    let mut out = String::with_capacity(pattern.len() + 16);
    let mut chars = pattern.char_indices().peekable();
    let mut in_class = false;
    while let Some((index, c)) = chars.next() {
        match c {
            '\\' => match chars.next() {
                // \p{Greek}, \x{263a}: the braces belong to the escape.
                Some((at, 'p' | 'P' | 'x')) if pattern[at + 1..].starts_with('{') => {
                    out.push('\\');
                    copy_through(pattern, at, "}", &mut chars, &mut out);
                }
                Some((_, escaped)) => out.push_str(&ascii_escape(escaped, in_class)),
                None => out.push(c),
            },
            '[' if in_class && chars.peek().is_some_and(|&(_, next)| next == ':') => {
                // A POSIX class such as [:alpha:] inside a bracket expression.
                copy_through(pattern, index, ":]", &mut chars, &mut out);
            }
            '[' if !in_class => {
                in_class = true;
                out.push(c);
                // A leading `^` negates and a `]` right after is a literal.
                for special in ['^', ']'] {
                    if let Some((_, next)) = chars.next_if(|&(_, next)| next == special) {
                        out.push(next);
                    }
                }
            }
            ']' if in_class => {
                in_class = false;
                out.push(c);
            }
            '{' if !in_class && !opens_repetition(&pattern.as_bytes()[index + 1..]) => out.push_str("\\{"),
            _ => out.push(c),
        }
    }
    out
}

/// Drops the lazy identifier lead (`[\w.-]{0,50}?`) that gitleaks' rules put before their
/// keyword, flags kept (`(?i)[[:word:].-]{0,50}?(?:key|…` → `(?i)(?:key|…`). It only widens the
/// match to the whole name, never the secret (it holds no group), and with it in front the
/// regex engine cannot search for the keyword first: gitleaks' own `generic-api-key` then
/// scans the Python standard library at 80 MB/s.
fn without_identifier_lead(pattern: &str) -> String {
    const LEAD: &str = "[[:word:].-]{0,";
    // Flags first, as a setting (`(?i)`) or a group that opens (`(?i:`).
    let flags = pattern.strip_prefix("(?").map_or(0, |rest| {
        let letters = rest.bytes().take_while(|&b| b.is_ascii_alphabetic() || b == b'-').count();
        let closed = letters > 0 && matches!(rest.as_bytes().get(letters), Some(b')' | b':'));
        if closed {
            2 + letters + 1
        } else {
            0
        }
    });
    let lead_len = pattern[flags..].strip_prefix(LEAD).and_then(|rest| {
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        (digits > 0 && rest[digits..].starts_with("}?")).then_some(LEAD.len() + digits + 2)
    });
    match lead_len {
        // A second lead may follow, inside a flag group (`[\w.-]{0,50}?(?i:[\w.-]{0,50}?…`).
        Some(len) => without_identifier_lead(&format!("{}{}", &pattern[..flags], &pattern[flags + len..])),
        None => pattern.to_string(),
    }
}

/// Copies `pattern` from `from` through the next `terminator` unchanged, consuming it.
fn copy_through(
    pattern: &str,
    from: usize,
    terminator: &str,
    chars: &mut std::iter::Peekable<std::str::CharIndices<'_>>,
    out: &mut String,
) {
    let end = pattern[from..].find(terminator).map_or(pattern.len(), |end| from + end + terminator.len());
    out.push_str(&pattern[from..end]);
    while chars.next_if(|&(next, _)| next < end).is_some() {}
}

/// The Rust form of Go's escape `\\c`, inside or outside a bracket expression.
fn ascii_escape(c: char, in_class: bool) -> String {
    let (members, negated) = match c {
        'w' => ("[:word:]", false),
        'W' => ("[:word:]", true),
        'd' => ("[:digit:]", false),
        'D' => ("[:digit:]", true),
        's' => ("\\t\\n\\x0C\\r ", false),
        'S' if in_class => ("[:^space:]", false),
        'S' => ("\\t\\n\\x0C\\r ", true),
        'b' | 'B' if !in_class => return format!("(?-u:\\{c})"),
        _ => return format!("\\{c}"),
    };
    match (in_class, negated) {
        (true, false) => members.to_string(),
        (true, true) => members.replacen("[:", "[:^", 1),
        (false, false) => format!("[{members}]"),
        (false, true) => format!("[^{members}]"),
    }
}

/// Whether `rest` (what follows a `{`) is `n}`, `n,}` or `n,m}`.
fn opens_repetition(rest: &[u8]) -> bool {
    let digits = |from: usize| rest[from..].iter().take_while(|b| b.is_ascii_digit()).count();
    let first = digits(0);
    if first == 0 {
        return false;
    }
    match rest.get(first) {
        Some(b'}') => true,
        Some(b',') => rest.get(first + 1 + digits(first + 1)) == Some(&b'}'),
        _ => false,
    }
}

/// Lowercase kebab-case: other characters become `-`, runs of `-` collapse.
fn kebab(id: &str) -> String {
    let mapped: String =
        id.chars().map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_lowercase() } else { '-' }).collect();
    mapped.split('-').filter(|part| !part.is_empty()).collect::<Vec<_>>().join("-")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn translate_text(text: &str) -> Result<Settings> {
        let table: Table = toml::from_str(text).unwrap();
        assert!(is_gitleaks(&table));
        translate(text, Path::new(".gitleaks.toml"))
    }

    #[test]
    fn keyhound_configs_are_not_taken_for_gitleaks() {
        let table: Table = toml::from_str("[rules]\ndisabled = []\n[allowlist]\npaths = []\n").unwrap();
        assert!(!is_gitleaks(&table));
    }

    #[test]
    fn go_regexes_become_equivalent_rust_regexes() {
        assert_eq!(from_go_regex(r"\$?{{[^}]+}}"), r"\$?\{\{[^}]+}}");
        assert_eq!(from_go_regex(r"a{2}b{3,}c{4,5}[{]\{x{,3}"), r"a{2}b{3,}c{4,5}[{]\{x\{,3}");
        assert_eq!(
            from_go_regex(r"\b\w+[\w.-]\d[^\s\S]"),
            r"(?-u:\b)[[:word:]]+[[:word:].-][[:digit:]][^\t\n\x0C\r [:^space:]]"
        );
        assert_eq!(from_go_regex(r"[]a][^]b][[:alpha:]\W]\D"), r"[]a][^]b][[:alpha:][:^word:]][^[:digit:]]");
        for go in [r"(?i)\b(key)[\w-]{10,}\b", r"[\x60'\s;]|\\[nr]|$", "\\p{L}+"] {
            regex::Regex::new(&from_go_regex(go)).unwrap();
            regex::bytes::Regex::new(&from_go_regex(go)).unwrap();
        }
        let ascii = regex::Regex::new(&from_go_regex(r"^\w+$")).unwrap();
        assert!(ascii.is_match("abc_1") && !ascii.is_match("é"), "Go's \\w is ASCII");
    }

    #[test]
    fn the_identifier_lead_before_a_keyword_is_dropped() {
        assert_eq!(without_identifier_lead(r"(?i)[[:word:].-]{0,50}?(?:key)=(\w+)"), r"(?i)(?:key)=(\w+)");
        assert_eq!(without_identifier_lead(r"[[:word:].-]{0,50}?(?i:lob)=(x)"), r"(?i:lob)=(x)");
        assert_eq!(
            without_identifier_lead(r"[[:word:].-]{0,50}?(?i:[[:word:].-]{0,50}?(?:ai)=)(x)"),
            r"(?i:(?:ai)=)(x)"
        );
        // Anything else is left as it is.
        for kept in [r"(?:[[:word:].-]{0,50}?key)", r"[[:word:].-]{0,50}key", r"(?P<x>a)", r"[[:word:].-]{0,}?k"] {
            assert_eq!(without_identifier_lead(kept), kept);
        }
        // The secret is the same with or without the lead.
        let text = "my_service.api_key = 'f5Q4FAKEcUA5ZLyQ'";
        let original = regex::Regex::new(r"(?i)[[:word:].-]{0,50}?(?:key)[ =']{1,4}([[:word:]]{16})").unwrap();
        let stripped = regex::Regex::new(&without_identifier_lead(original.as_str())).unwrap();
        let secret = |re: &regex::Regex| re.captures(text).map(|c| c[1].to_string());
        assert_eq!(secret(&original), secret(&stripped));
        assert_eq!(secret(&stripped).as_deref(), Some("f5Q4FAKEcUA5ZLyQ"));
    }

    #[test]
    fn kebab_ids() {
        assert_eq!(kebab("My_Rule.v2"), "my-rule-v2");
        assert_eq!(kebab("--a--b--"), "a-b");
    }

    #[test]
    fn and_allowlists_over_several_criteria_are_dropped_whole() {
        let settings = translate_text(
            "[[rules]]\nid = 'x'\nregex = 'x(y)'\n[[rules.allowlists]]\ncondition = 'AND'\nregexes = ['a']\npaths = ['b']\n",
        )
        .unwrap();
        assert!(settings.rule_specs[0].allow.is_empty());
        assert!(settings.warnings.iter().any(|w| w.contains("AND")), "{:?}", settings.warnings);
    }

    #[test]
    fn wrong_types_are_errors_naming_file_and_line() {
        let err = translate_text("[[rules]]\nid = 'x'\nregex = 'y'\nkeywords = 'not-an-array'\n").unwrap_err();
        let err = err.to_string();
        assert!(err.contains(".gitleaks.toml") && err.contains("line 4") && err.contains("keywords"), "{err}");
    }

    #[test]
    fn unknown_keys_and_path_only_rules_are_warnings() {
        let settings = translate_text("[[rules]]\nid = 'Key_File'\npath = '\\.pem$'\nreport = true\n").unwrap();
        assert!(settings.rule_specs.is_empty());
        let warnings = settings.warnings.join("\n");
        assert!(warnings.contains("\"report\"") && warnings.contains("file paths only"), "{warnings}");
    }

    #[test]
    fn rules_keep_secret_group_keywords_entropy_and_allowlists() {
        let settings = translate_text(
            "[[rules]]\nid = 'Acme.Token'\nregex = '(a)(b)'\nsecretGroup = 2\nentropy = 3\nkeywords = ['ab']\n\
             [rules.allowlist]\nregexes = ['^x']\nstopwords = ['demo']\n",
        )
        .unwrap();
        let spec = &settings.rule_specs[0];
        assert_eq!((spec.id.as_str(), spec.secret_group, spec.entropy), ("acme-token", Some(2), Some(3.0)));
        assert_eq!(
            (spec.allow.as_slice(), spec.stopwords.as_slice()),
            (&["^x".to_string()][..], &["demo".to_string()][..])
        );
        assert!(settings.warnings.is_empty(), "{:?}", settings.warnings);
    }
}
