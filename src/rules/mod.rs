//! Rules as data: the TOML rule format, loading (embedded files plus the user's), validation
//! and lazy compilation of each rule's regexes. What is wrong with a rule file is data too
//! ([`RuleError`]); [`crate::echo`] words it.
//!
//! # Format
//!
//! A rule file holds one or more `[[rule]]` tables:
//!
//! ```toml
//! [[rule]]
//! id = "openai-api-key"                # stable kebab-case id: never renamed or reused
//! description = "OpenAI API key"
//! regex = '''(?:\A|[^\w-])(?P<secret>(?P<prefix>sk-)\w{20}T3BlbkFJ\w{20})(?:[^\w-]|\z)'''
//! secret_group = 2                     # optional: the group holding the secret, by index
//! keywords = ["T3BlbkFJ"]              # literals; the regex runs only where one occurs
//! entropy = 3.0                        # optional minimum Shannon entropy (bits per char)
//! severity = "critical"                # critical | high | medium | low
//! confidence = "high"                  # high | medium | low
//! env_var = "OPENAI_API_KEY"           # where the secret belongs instead
//! remediation = "Revoke the key ..."
//! stopwords = ["example"]              # a secret containing one is not reported
//! allow = ['^sk-ant-']                 # regexes: a secret matching one is not reported
//! allow_match = ['(?i)next_?token']     # regexes over the whole match, widened to the word
//!                                      # it starts in: a match holding one is not reported
//! near = { regex = '(?i)azure', distance = 500 }  # optional context that must occur within
//!                                      # `distance` bytes before or after the match
//! examples = ["key = sk-...", { text = "...", secret = "sk-..." }]
//! negative_examples = ["sk-your-key-here"]
//! [rule.remediation_by_context]        # optional, last in the rule: replaces `remediation`
//! secrets-file = "git rm --cached {path} ..."  # in a .env or other file for .gitignore
//! history = "..."                      # in git history
//! ```
//!
//! The secret is the group `secret_group` names, else the regex's `secret` group, else its
//! first group, else the whole match.
//! An optional `prefix` group inside it names the family prefix kept when redacting.
//!
//! A key without a vendor prefix is told by the vendor's name nearby: `near` asks for it
//! within `distance` bytes on either side of the match. Spelling that context into the regex
//! instead (`azure(?s:.){0,500}?…`) makes the regex engine track every position of the window,
//! and such a rule scans at tens of MB/s where `near` keeps it at the speed of its regex.
//!
//! A regex with alternatives may name its secret groups `secret`, `secret2`, `secret3`, …
//! (and `prefix`, `prefix2`, …): the first that took part in the match is the secret. `structure = "openai"` asks for the OpenAI structural score (see
//! [`crate::precision::openai_structure`]) on the rule's findings.

use std::fmt;
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use regex::bytes::{Regex, RegexBuilder};
use serde::{Deserialize, Serialize};

use crate::fsio::{self, Named};

include!(concat!(env!("OUT_DIR"), "/builtin_rules.rs"));

type Result<T, E = RuleError> = std::result::Result<T, E>;

/// A rule file that could not be read or parsed, or an invalid rule in it. The file's own text
/// (ids, patterns) stays data here: [`crate::echo`] makes the message, showing that text only
/// when it cannot be a secret, which it tells with the built-in rules.
#[derive(Debug)]
pub struct RuleError {
    /// The file (`<builtin>/name.toml` for embedded rules).
    pub origin: String,
    /// What is wrong.
    pub problem: RuleProblem,
}

/// What is wrong with a rule file.
#[derive(Debug)]
pub enum RuleProblem {
    /// It could not be read.
    Unreadable(std::io::Error),
    /// It is not TOML, or not in the rule file format.
    Toml {
        /// The parser's error.
        error: Box<toml::de::Error>,
        /// The file's text, which the error's span points into.
        text: String,
    },
    /// A built-in rule file, TOML as the build checked, is not in the rule file format.
    Format(String),
    /// A rule's fields are invalid.
    Invalid {
        /// The rule's id.
        id: String,
        /// Why, in words that quote nothing from the file.
        why: String,
    },
    /// Two rules in the file have this id.
    Duplicate {
        /// The id.
        id: String,
    },
    /// A rule's regexes do not compile.
    Compile {
        /// The rule's id.
        id: String,
        /// Why.
        why: CompileError,
    },
}

/// Why a rule's regexes do not compile.
#[derive(Debug)]
pub enum CompileError {
    /// The rule's regex is invalid.
    Regex(regex::Error),
    /// `secret_group` names a group the regex does not have.
    NoSuchGroup {
        /// The group named.
        group: usize,
        /// How many groups the regex has.
        groups: usize,
    },
    /// An `allow`, `allow_match` or `near` regex is invalid.
    Field {
        /// The field.
        field: &'static str,
        /// The regex, as written.
        pattern: String,
        /// What is wrong with it.
        error: regex::Error,
    },
}

impl RuleError {
    fn new(origin: &str, problem: RuleProblem) -> Self {
        RuleError { origin: origin.to_string(), problem }
    }
}

/// How much damage a leaked secret of this kind can do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Deserialize, Serialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Little on its own (e.g. a short-lived client secret).
    Low,
    /// Access to some data or a paid service.
    Medium,
    /// Broad access or billable usage.
    #[default]
    High,
    /// Administrative or organisation-wide access.
    Critical,
}

/// How sure a match of this rule is to be a real secret.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Deserialize, Serialize, Default, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Confidence {
    /// Generic shapes (`password = "..."`): worth a look, often noise.
    Low,
    /// A distinctive shape that needs context to be sure.
    Medium,
    /// A vendor-specific format that is rarely anything else.
    #[default]
    High,
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(match self {
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        })
    }
}

impl fmt::Display for Confidence {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(match self {
            Confidence::Low => "low",
            Confidence::Medium => "medium",
            Confidence::High => "high",
        })
    }
}

/// A vendor-specific structural check scored on each finding of a rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Structure {
    /// OpenAI `sk-` keys: segment lengths around the `T3BlbkFJ` marker and the last character.
    Openai,
}

/// One example in a rule file: plain text, or text with the exact secret it must yield.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(untagged)]
pub enum Example {
    /// Text in which the rule must (or must not) find something.
    Text(String),
    /// Text in which the rule must find exactly `secret`.
    Exact {
        /// The text to scan.
        text: String,
        /// The secret the rule must report, whole.
        secret: String,
    },
}

impl Example {
    /// The text to scan.
    pub fn text(&self) -> &str {
        match self {
            Example::Text(text) | Example::Exact { text, .. } => text,
        }
    }

    /// The exact secret expected, if the example pins one.
    pub fn expected_secret(&self) -> Option<&str> {
        match self {
            Example::Text(_) => None,
            Example::Exact { secret, .. } => Some(secret),
        }
    }
}

/// A rule as written in a rule file.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RuleSpec {
    /// Stable kebab-case identifier; baselines, SARIF and allow comments quote it.
    pub id: String,
    /// One line saying what the secret is.
    pub description: String,
    /// Byte regex; the secret is the `secret` group, else group 1, else the whole match.
    pub regex: String,
    /// Index of the capture group holding the secret, overriding the `secret`-group default.
    #[serde(default)]
    pub secret_group: Option<usize>,
    /// Literals (matched ASCII case-insensitively) that must occur for the regex to run.
    #[serde(default)]
    pub keywords: Vec<String>,
    /// Minimum Shannon entropy of the secret, in bits per character.
    #[serde(default)]
    pub entropy: Option<f64>,
    /// How bad a leak is.
    #[serde(default)]
    pub severity: Severity,
    /// How likely a match is to be a real secret.
    #[serde(default)]
    pub confidence: Confidence,
    /// The environment variable the secret should be read from instead.
    #[serde(default)]
    pub env_var: Option<String>,
    /// What to do about a leak of this secret.
    #[serde(default)]
    pub remediation: String,
    /// What to do instead of [`RuleSpec::remediation`] in particular places.
    #[serde(default)]
    pub remediation_by_context: RemediationByContext,
    /// Case-insensitive substrings that mark a secret as a placeholder for this rule.
    #[serde(default)]
    pub stopwords: Vec<String>,
    /// Regexes over the secret; a secret matching any of them is not reported.
    #[serde(default)]
    pub allow: Vec<String>,
    /// Regexes over the whole regex match, widened at its start to the word it begins in (so a
    /// name's prefix counts); a match holding one is not reported.
    #[serde(default)]
    pub allow_match: Vec<String>,
    /// Context that must occur near a match for it to be reported.
    #[serde(default)]
    pub near: Option<Near>,
    /// Whether the shared placeholder and filler filters apply (default true).
    #[serde(default = "default_true")]
    pub placeholder_filter: bool,
    /// A structural score to compute for each finding (ranks, never drops).
    #[serde(default)]
    pub structure: Option<Structure>,
    /// Texts the rule must match.
    #[serde(default)]
    pub examples: Vec<Example>,
    /// Texts the rule must not match.
    #[serde(default)]
    pub negative_examples: Vec<Example>,
}

/// A rule's remediation for particular places (`[rule.remediation_by_context]`), each
/// replacing `remediation` there; `{path}` in one stands for the file, as a shell word. The
/// first that applies wins, in the order of the fields.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct RemediationByContext {
    /// A file that holds secrets by its name and belongs in `.gitignore`, not in git (a
    /// `.env`; see [`crate::paths::is_secrets_file`]): untrack it, ignore it, rotate.
    pub secrets_file: Option<String>,
    /// A secret in git history (`keyhound history`): it stays there until history is
    /// rewritten.
    pub history: Option<String>,
}

/// The placeholder a remediation variant may hold.
const PATH_PLACEHOLDER: &str = "{path}";

/// Context a rule needs near its matches: the vendor's name by a key that has no prefix.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Near {
    /// Byte regex of the context, such as `(?i)azure`.
    pub regex: String,
    /// Most bytes between the match and the context, before or after it.
    pub distance: usize,
}

fn default_true() -> bool {
    true
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RuleFile {
    rule: Vec<RuleSpec>,
}

/// The compiled regexes of a rule, built on first use.
#[derive(Debug)]
pub struct CompiledRule {
    /// The rule's main regex.
    pub regex: Regex,
    /// Indices of the capture groups that may hold the secret (`secret`, `secret2`, …), in
    /// order; the first that took part in a match holds it.
    pub secret_groups: Vec<usize>,
    /// Indices of the `prefix`, `prefix2`, … groups.
    pub prefix_groups: Vec<usize>,
    /// The rule's allow regexes (over the secret).
    pub allow: Vec<Regex>,
    /// The rule's `allow_match` regexes (over the whole match).
    pub allow_match: Vec<Regex>,
    /// The rule's `near` regex and distance.
    pub near: Option<(Regex, usize)>,
}

/// A loaded rule: its spec, where it came from, and its regexes compiled on demand.
#[derive(Debug)]
pub struct Rule {
    /// The rule as written.
    pub spec: RuleSpec,
    /// The file it came from (`<builtin>/openai.toml` for embedded rules).
    pub origin: String,
    /// Lowercased stopwords, prepared once.
    stopwords_lower: Vec<String>,
    compiled: OnceLock<CompiledRule>,
}

impl Rule {
    fn new(spec: RuleSpec, origin: String) -> Self {
        let stopwords_lower = spec.stopwords.iter().map(|s| s.to_ascii_lowercase()).collect();
        Rule { spec, origin, stopwords_lower, compiled: OnceLock::new() }
    }

    /// The rule's id.
    pub fn id(&self) -> &str {
        &self.spec.id
    }

    /// What to do about a finding of this rule in `file` (a path; `None` for a commit or tag
    /// message, or an archive member), in git history or not: the variant of
    /// [`RuleSpec::remediation_by_context`] for the place, else the rule's remediation.
    pub fn remediation_for(&self, file: Option<&str>, in_history: bool) -> String {
        let variants = &self.spec.remediation_by_context;
        let secrets_file = file.filter(|file| crate::paths::is_secrets_file(file));
        // In history the key was committed: revoking comes first, whatever the file.
        match (secrets_file, &variants.secrets_file, &variants.history) {
            (_, _, Some(text)) if in_history => text.clone(),
            (Some(file), Some(text), _) => text.replace(PATH_PLACEHOLDER, &crate::paths::shell_quoted(file)),
            _ => self.spec.remediation.clone(),
        }
    }

    /// The rule's lowercased stopwords.
    pub fn stopwords(&self) -> &[String] {
        &self.stopwords_lower
    }

    /// The compiled regexes. Loading validated them (user rules are compiled eagerly; the
    /// embedded ones by the test suite), so compiling again cannot fail.
    pub fn compiled(&self) -> &CompiledRule {
        self.compiled
            .get_or_init(|| compile(&self.spec).expect("rule regexes are validated when the rule set is loaded"))
    }

    /// Compiles the rule now, reporting an invalid regex as an error.
    fn compile_now(&self) -> Result<()> {
        if self.compiled.get().is_none() {
            let compiled = compile(&self.spec)
                .map_err(|why| RuleError::new(&self.origin, RuleProblem::Compile { id: self.spec.id.clone(), why }))?;
            let _ = self.compiled.set(compiled);
        }
        Ok(())
    }
}

/// Room for each rule regex's lazy DFA (per thread; the regex crate's default is 2 MiB). A
/// bounded gap such as `aws-secret-access-key`'s `(?s-u:.){0,300}?` before a 40-character run
/// makes many states: 2 MiB fill up, and the cache is cleared and rebuilt over and over (32 ms
/// on the Python stdlib's 48 MiB of candidate files, against 10 ms with 8 MiB). The memory is
/// only taken as states are built.
const LAZY_DFA_CACHE: usize = 8 << 20;

fn compile(spec: &RuleSpec) -> Result<CompiledRule, CompileError> {
    let regex = RegexBuilder::new(&spec.regex).dfa_size_limit(LAZY_DFA_CACHE).build().map_err(CompileError::Regex)?;
    let names: Vec<Option<&str>> = regex.capture_names().collect();
    if let Some(group) = spec.secret_group.filter(|&group| group >= names.len()) {
        return Err(CompileError::NoSuchGroup { group, groups: names.len() - 1 });
    }
    let mut secret_groups = match spec.secret_group {
        Some(group) => vec![group],
        None => numbered_groups(&names, "secret"),
    };
    if secret_groups.is_empty() {
        secret_groups.push(if names.len() > 1 { 1 } else { 0 });
    }
    let prefix_groups = numbered_groups(&names, "prefix");
    let allow = compile_all(&spec.allow, "allow")?;
    let allow_match = compile_all(&spec.allow_match, "allow_match")?;
    let near = spec
        .near
        .as_ref()
        .map(|near| compile_one(&near.regex, "near").map(|regex| (regex, near.distance)))
        .transpose()?;
    Ok(CompiledRule { regex, secret_groups, prefix_groups, allow, allow_match, near })
}

fn compile_all(patterns: &[String], field: &'static str) -> Result<Vec<Regex>, CompileError> {
    patterns.iter().map(|pattern| compile_one(pattern, field)).collect()
}

fn compile_one(pattern: &str, field: &'static str) -> Result<Regex, CompileError> {
    Regex::new(pattern).map_err(|error| CompileError::Field { field, pattern: pattern.to_string(), error })
}

/// The indices of the groups named `base`, `base2`, `base3`, … in that order.
fn numbered_groups(names: &[Option<&str>], base: &str) -> Vec<usize> {
    let wanted = |n: usize| if n == 1 { base.to_string() } else { format!("{base}{n}") };
    (1..).map_while(|n| names.iter().position(|name| *name == Some(wanted(n).as_str()))).collect()
}

/// Where rules come from.
#[derive(Debug, Clone)]
pub enum RuleSource {
    /// The rule files embedded in the binary.
    Builtin,
    /// A rule file, or a directory whose `*.toml` files are rule files, named by the user.
    Path(PathBuf),
    /// Like [`RuleSource::Path`], named by a repository's configuration: it must stay inside
    /// the repository (see [`crate::fsio`]).
    RepositoryPath {
        /// The file or directory.
        path: PathBuf,
        /// The repository root.
        root: PathBuf,
    },
    /// Rules built in memory (translated from another scanner's configuration).
    Specs {
        /// Where they came from, for error messages.
        origin: String,
        /// The rules.
        specs: Vec<RuleSpec>,
    },
}

/// An ordered, validated collection of rules.
#[derive(Debug)]
pub struct RuleSet {
    rules: Vec<Rule>,
}

impl RuleSet {
    /// Loads rules from the given sources in order. A later rule with an id already loaded
    /// replaces the earlier one, so a user can tune a built-in rule by redefining it.
    pub fn load(sources: &[RuleSource]) -> Result<Self> {
        let mut rules: Vec<Rule> = Vec::new();
        for source in sources {
            for rule in load_source(source)? {
                match rules.iter_mut().find(|existing| existing.id() == rule.id()) {
                    Some(existing) => *existing = rule,
                    None => rules.push(rule),
                }
            }
        }
        Ok(RuleSet { rules })
    }

    /// The built-in rules only.
    pub fn builtin() -> Result<Self> {
        Self::load(&[RuleSource::Builtin])
    }

    /// Builds a set from one rule file's text (used by `rules check` and tests).
    pub fn from_toml(text: &str, origin: &str) -> Result<Self> {
        let rules = parse_rule_file(text, origin)?;
        for rule in &rules {
            rule.compile_now()?;
        }
        Ok(RuleSet { rules })
    }

    /// Drops the rules whose ids are listed.
    pub fn without(mut self, disabled: &[String]) -> Self {
        self.rules.retain(|rule| !disabled.iter().any(|id| id == rule.id()));
        self
    }

    /// Keeps only the rules the predicate accepts.
    pub fn retain(mut self, keep: impl Fn(&Rule) -> bool) -> Self {
        self.rules.retain(|rule| keep(rule));
        self
    }

    /// The rules in load order.
    pub fn rules(&self) -> &[Rule] {
        &self.rules
    }

    /// The rule with this id, if it is in the set.
    pub fn find(&self, id: &str) -> Option<&Rule> {
        self.rules.iter().find(|rule| rule.id() == id)
    }

    /// The rule at `index`.
    pub fn get(&self, index: usize) -> &Rule {
        &self.rules[index]
    }

    /// Compiles every rule now, so that an invalid regex is reported up front.
    pub fn compile_all(&self) -> Result<()> {
        self.rules.iter().try_for_each(Rule::compile_now)
    }
}

fn load_source(source: &RuleSource) -> Result<Vec<Rule>> {
    match source {
        RuleSource::Builtin => {
            let mut rules = Vec::new();
            for (name, json) in BUILTIN_RULE_FILES {
                rules.extend(parse_builtin(json, &format!("<builtin>/{name}"))?);
            }
            Ok(rules)
        }
        RuleSource::Path(path) => load_path(path, &Named::ByUser),
        RuleSource::RepositoryPath { path, root } => load_path(path, &Named::ByRepository { root: root.clone() }),
        RuleSource::Specs { origin, specs } => compiled(validated(specs.clone(), origin)?),
    }
}

/// Compiles user rules eagerly, so that a bad regex is an error up front.
fn compiled(rules: Vec<Rule>) -> Result<Vec<Rule>> {
    rules.iter().try_for_each(Rule::compile_now)?;
    Ok(rules)
}

/// The rules of the rule file or directory at `path`, each file read safely.
fn load_path(path: &Path, named: &Named) -> Result<Vec<Rule>> {
    let mut rules = Vec::new();
    for file in rule_files_at(path, named)? {
        let text = fsio::read_text(&file, named).map_err(|e| unreadable(&file, e))?;
        rules.extend(compiled(parse_rule_file(&text, &file.display().to_string())?)?);
    }
    Ok(rules)
}

/// The rule files at a path: the file itself, or a directory's `*.toml` files in name order.
fn rule_files_at(path: &Path, named: &Named) -> Result<Vec<PathBuf>> {
    let resolved = fsio::resolve(path, named).map_err(|e| unreadable(path, e))?;
    let metadata = fs::metadata(&resolved).map_err(|e| unreadable(path, e))?;
    if !metadata.is_dir() {
        return Ok(vec![path.to_path_buf()]);
    }
    let entries = fs::read_dir(&resolved).map_err(|e| unreadable(path, e))?;
    let mut files: Vec<PathBuf> = entries
        .filter_map(|entry| entry.ok().map(|entry| entry.path()))
        .filter(|file| file.extension().is_some_and(|ext| ext == "toml"))
        .collect();
    files.sort();
    Ok(files)
}

fn unreadable(path: &Path, error: std::io::Error) -> RuleError {
    RuleError::new(&path.display().to_string(), RuleProblem::Unreadable(error))
}

/// Parses and validates one rule file (regexes are compiled later, or by the caller).
pub fn parse_rule_file(text: &str, origin: &str) -> Result<Vec<Rule>> {
    let file: RuleFile = toml::from_str(text).map_err(|error| {
        RuleError::new(origin, RuleProblem::Toml { error: Box::new(error), text: text.to_string() })
    })?;
    validated(file.rule, origin)
}

/// Parses and validates a built-in rule file, which the build turned into JSON (see
/// `build.rs`); the build already refused one that is not valid TOML.
fn parse_builtin(json: &str, origin: &str) -> Result<Vec<Rule>> {
    let file: RuleFile =
        serde_json::from_str(json).map_err(|error| RuleError::new(origin, RuleProblem::Format(error.to_string())))?;
    validated(file.rule, origin)
}

/// Validates rule specs (ids unique, fields sane) and wraps them as rules from `origin`.
fn validated(specs: Vec<RuleSpec>, origin: &str) -> Result<Vec<Rule>> {
    let mut seen = std::collections::HashSet::new();
    for spec in &specs {
        validate(spec).map_err(|why| RuleError::new(origin, RuleProblem::Invalid { id: spec.id.clone(), why }))?;
        if !seen.insert(spec.id.as_str()) {
            return Err(RuleError::new(origin, RuleProblem::Duplicate { id: spec.id.clone() }));
        }
    }
    Ok(specs.into_iter().map(|spec| Rule::new(spec, origin.to_string())).collect())
}

fn validate(spec: &RuleSpec) -> std::result::Result<(), String> {
    let kebab = !spec.id.is_empty()
        && spec.id.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !spec.id.starts_with('-')
        && !spec.id.ends_with('-');
    if !kebab {
        return Err("id must be kebab-case (lowercase letters, digits and '-')".into());
    }
    if spec.description.trim().is_empty() {
        return Err("description is empty".into());
    }
    if spec.keywords.iter().any(|k| k.is_empty()) {
        return Err("a keyword is empty".into());
    }
    let variants = &spec.remediation_by_context;
    for (key, text) in [("secrets-file", &variants.secrets_file), ("history", &variants.history)] {
        let Some(text) = text else { continue };
        if text.trim().is_empty() {
            return Err(format!("remediation_by_context.{key} is empty"));
        }
        if text.replace(PATH_PLACEHOLDER, "").contains(['{', '}']) {
            return Err(format!("remediation_by_context.{key} has a placeholder other than {PATH_PLACEHOLDER}"));
        }
    }
    if let Some(entropy) = spec.entropy {
        if !(0.0..=8.0).contains(&entropy) {
            return Err(format!("entropy {entropy} is outside 0..=8 bits per character"));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The message a rule file's error is reported with.
    fn message(error: RuleError) -> String {
        crate::Error::from(error).to_string()
    }

    #[test]
    fn builtin_rules_load_and_compile() {
        let rules = RuleSet::builtin().expect("builtin rules parse");
        assert!(!rules.rules().is_empty());
        rules.compile_all().expect("builtin regexes compile");
    }

    #[test]
    fn builtin_rule_ids_are_unique_across_files() {
        let mut ids = std::collections::HashSet::new();
        for (name, json) in BUILTIN_RULE_FILES {
            for rule in parse_builtin(json, name).expect("parses") {
                assert!(ids.insert(rule.id().to_string()), "duplicate id {}", rule.id());
            }
        }
    }

    #[test]
    fn invalid_toml_names_file_and_line() {
        let err = message(parse_rule_file("[[rule]]\nid = \n", "bad.toml").unwrap_err());
        assert!(err.contains("bad.toml"), "{err}");
        assert!(err.contains("line 2"), "{err}");
    }

    #[test]
    fn unknown_field_is_rejected() {
        let text = "[[rule]]\nid='a'\ndescription='d'\nregex='x'\nkeyword=['x']\n";
        let err = message(parse_rule_file(text, "t.toml").unwrap_err());
        assert!(err.contains("unknown field"), "{err}");
    }

    #[test]
    fn bad_id_and_bad_regex_are_rejected() {
        let bad_id = "[[rule]]\nid='Not Kebab'\ndescription='d'\nregex='x'\n";
        assert!(message(parse_rule_file(bad_id, "t.toml").unwrap_err()).contains("kebab"));
        let bad_regex = "[[rule]]\nid='a'\ndescription='d'\nregex='(unclosed'\n";
        let err = message(RuleSet::from_toml(bad_regex, "t.toml").unwrap_err());
        assert!(err.contains("invalid regex"), "{err}");
    }

    #[test]
    fn remediation_fits_the_place_and_bad_variants_are_refused() {
        let base = "[[rule]]\nid='a'\ndescription='d'\nregex='x(y)'\nremediation='revoke'\n";
        let text = format!(
            "{base}[rule.remediation_by_context]\nsecrets-file='git rm --cached {{path}}'\nhistory='rewrite'\n"
        );
        let rules = parse_rule_file(&text, "t.toml").unwrap();
        assert_eq!(rules[0].remediation_for(Some("my dir/.env"), false), "git rm --cached 'my dir/.env'");
        assert_eq!(rules[0].remediation_for(Some("my dir/.env"), true), "rewrite", "in history, revoking comes first");
        assert_eq!(rules[0].remediation_for(Some("app.py"), true), "rewrite");
        assert_eq!(rules[0].remediation_for(Some("app.py"), false), "revoke");
        assert_eq!(rules[0].remediation_for(None, false), "revoke");
        for (bad, why) in
            [("secrets-file=' '", "is empty"), ("history='see {url}'", "placeholder"), ("staged='x'", "unknown field")]
        {
            let err = message(
                parse_rule_file(&format!("{base}[rule.remediation_by_context]\n{bad}\n"), "t.toml").unwrap_err(),
            );
            assert!(err.contains(why), "{bad}: {err}");
        }
    }

    #[test]
    fn later_rule_with_same_id_replaces_earlier() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("mine.toml");
        let builtin = RuleSet::builtin().unwrap();
        let first = builtin.rules()[0].id().to_string();
        fs::write(&file, format!("[[rule]]\nid='{first}'\ndescription='mine'\nregex='x(y)'\n")).unwrap();
        let rules = RuleSet::load(&[RuleSource::Builtin, RuleSource::Path(file)]).unwrap();
        assert_eq!(rules.rules().len(), builtin.rules().len());
        let replaced = rules.rules().iter().find(|r| r.id() == first).unwrap();
        assert_eq!(replaced.spec.description, "mine");
    }

    #[test]
    fn secret_group_defaults() {
        let named = RuleSet::from_toml("[[rule]]\nid='a'\ndescription='d'\nregex='(x)(?P<secret>y)'\n", "t").unwrap();
        assert_eq!(named.get(0).compiled().secret_groups, [2]);
        let first = RuleSet::from_toml("[[rule]]\nid='a'\ndescription='d'\nregex='x(y)'\n", "t").unwrap();
        assert_eq!(first.get(0).compiled().secret_groups, [1]);
        let whole = RuleSet::from_toml("[[rule]]\nid='a'\ndescription='d'\nregex='xy'\n", "t").unwrap();
        assert_eq!(whole.get(0).compiled().secret_groups, [0]);
        let sides =
            "[[rule]]\nid='a'\ndescription='d'\nregex='(?P<prefix>a)(?P<secret>b)|(?P<secret2>c)(?P<prefix2>d)'\n";
        let numbered = RuleSet::from_toml(sides, "t").unwrap();
        assert_eq!(numbered.get(0).compiled().secret_groups, [2, 3]);
        assert_eq!(numbered.get(0).compiled().prefix_groups, [1, 4]);
    }
}
