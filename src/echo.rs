//! What an error or warning may show of a file's content. Configuration, ignore, baseline and
//! rule files can come from the scanned repository, and a key pasted into one must not reach
//! a CI log through the message that rejects it.
//!
//! Messages describe: line, column and the kind of problem. A token from the file is shown
//! only when it cannot be a secret ([`is_harmless`]: made of short or single-kind words, and
//! no built-in rule matches it), so `unknown field `colour`` stays helpful; anything else is
//! redacted the way findings are. Parsers' own messages go through [`message`], which treats
//! every token they quote (in backticks or double quotes) so; the toml crate's and the regex
//! crate's `Display` (which print the offending source line or pattern) are never used.
//!
//! Errors in rule files are made into messages here too (a [`RuleError`] becomes an
//! [`Error::RuleFile`]): [`crate::rules`] keeps the file's text as data, since telling what
//! may be shown takes the built-in rules.

use std::ops::Range;
use std::sync::{Arc, OnceLock};

use crate::error::Error;
use crate::matcher::{Matcher, RawMatch, Scratch};
use crate::redact::redact;
use crate::rules::{CompileError, RuleError, RuleProblem, RuleSet};
use crate::wording::count;

/// Longest run of letters shown: longer ones are more likely a key than a word.
const MAX_LETTER_RUN: usize = 24;

/// Longest run mixing letters and digits shown (`utf16`, `sha256`, but no random token).
const MAX_MIXED_RUN: usize = 8;

/// Longest token shown.
const MAX_TOKEN_LEN: usize = 64;

/// `token` as is when it is harmless, else redacted like a finding (a rule's match keeps its
/// family prefix).
pub(crate) fn shown(token: &str) -> String {
    if is_harmless(token) {
        return token.to_string();
    }
    let prefix_len = rule_matches(token).first().map_or(0, |found| found.prefix_len);
    redact(token, prefix_len)
}

/// [`shown`], in double quotes.
pub(crate) fn quoted(token: &str) -> String {
    format!("\"{}\"", shown(token))
}

/// Whether `token` can be shown: one or two punctuation characters, or at most
/// [`MAX_TOKEN_LEN`] printable ASCII characters without quotes or backslashes whose
/// alphanumeric runs are words or numbers (not random mixes) and that no built-in rule matches.
pub(crate) fn is_harmless(token: &str) -> bool {
    if (1..=2).contains(&token.len()) && token.chars().all(|c| c.is_ascii_punctuation()) {
        return true;
    }
    let plain = |c: char| c.is_ascii_graphic() && !matches!(c, '"' | '\'' | '`' | '\\');
    !token.is_empty()
        && token.len() <= MAX_TOKEN_LEN
        && token.chars().all(plain)
        && token.split(|c: char| !c.is_ascii_alphanumeric()).all(is_word_or_number)
        && rule_matches(token).is_empty()
}

fn is_word_or_number(run: &str) -> bool {
    let letters = run.bytes().all(|b| b.is_ascii_alphabetic());
    let digits = run.bytes().all(|b| b.is_ascii_digit());
    (letters && run.len() <= MAX_LETTER_RUN) || digits || run.len() <= MAX_MIXED_RUN
}

/// A parser's message with each token it quotes (`` `x` `` or `"x"`) shown only when harmless.
pub(crate) fn message(message: &str) -> String {
    let mut out = String::with_capacity(message.len());
    let mut rest = message;
    while let Some(open) = rest.find(['`', '"']) {
        let quote = rest[open..].chars().next().expect("find returned a char boundary");
        let Some(len) = quoted_len(&rest[open + 1..], quote) else { break };
        let token = &rest[open + 1..open + 1 + len];
        out.push_str(&rest[..open]);
        out.extend([quote.to_string(), shown(token), quote.to_string()]);
        rest = &rest[open + len + 2..];
    }
    out.push_str(rest);
    out
}

/// The length of a quoted token up to its closing `quote` (`\"` does not close a
/// double-quoted one, as Rust's `Debug` writes strings).
fn quoted_len(text: &str, quote: char) -> Option<usize> {
    let mut escaped = false;
    for (at, c) in text.char_indices() {
        match c {
            _ if escaped => escaped = false,
            '\\' if quote == '"' => escaped = true,
            _ if c == quote => return Some(at),
            _ => {}
        }
    }
    None
}

/// A toml parse error in `text`: line, column, the key of that line and the parser's message,
/// never the source line the toml crate's `Display` quotes.
pub(crate) fn toml_error(error: &toml::de::Error, text: &str) -> String {
    let problem = message(error.message().trim_end());
    let Some(span) = error.span() else { return problem };
    let key = key_of_line(text, span.start).map(|key| format!(", key `{}`", shown(key))).unwrap_or_default();
    format!("{}{key}: {problem}", line_and_column(text, span))
}

/// The key of the `key = value` line holding byte `at`, if the line is one.
fn key_of_line(text: &str, at: usize) -> Option<&str> {
    let start = text.get(..at)?.rfind('\n').map_or(0, |newline| newline + 1);
    let line = text[start..].lines().next()?;
    let key = line.split_once('=')?.0.trim();
    (!key.is_empty() && !key.starts_with(['#', '['])).then_some(key)
}

/// `line L, column C` of the start of `span` in `text` (1-based; the column in characters).
fn line_and_column(text: &str, span: Range<usize>) -> String {
    let (line, column) = crate::lines::locate(text.as_bytes(), &[span.start.min(text.len())])[0];
    format!("line {line}, column {column}")
}

/// What is wrong with a regex, without the pattern the regex crate's `Display` repeats.
pub(crate) fn regex_error(error: &regex::Error) -> String {
    match error {
        regex::Error::Syntax(text) => {
            let kind = text.lines().rev().find_map(|line| line.trim().strip_prefix("error: "));
            message(kind.unwrap_or("invalid syntax"))
        }
        regex::Error::CompiledTooBig(limit) => format!("compiled regex exceeds the size limit of {limit} bytes"),
        _ => "invalid regex".to_string(),
    }
}

impl From<RuleError> for Error {
    fn from(error: RuleError) -> Self {
        Error::RuleFile { origin: error.origin, message: rule_problem(&error.problem) }
    }
}

/// What is wrong with a rule file, its ids and patterns shown only when harmless.
fn rule_problem(problem: &RuleProblem) -> String {
    match problem {
        RuleProblem::Unreadable(error) => error.to_string(),
        RuleProblem::Toml { error, text } => toml_error(error, text),
        RuleProblem::Format(why) => format!("not in the rule file format: {why}"),
        RuleProblem::Invalid { id, why } => format!("rule {}: {why}", quoted(id)),
        RuleProblem::Duplicate { id } => format!("rule id {} is defined twice", quoted(id)),
        RuleProblem::Compile { id, why } => format!("rule {}: {}", shown(id), compile_error(why)),
    }
}

/// Why a rule's regexes do not compile, its patterns shown only when harmless.
fn compile_error(error: &CompileError) -> String {
    match error {
        CompileError::Regex(error) => format!("invalid regex: {}", regex_error(error)),
        CompileError::NoSuchGroup { group, groups } => {
            format!("secret_group {group} does not exist: the regex has {}", count(*groups, "group", "groups"))
        }
        CompileError::Field { field, pattern, error } => {
            format!("invalid {field} regex {}: {}", quoted(pattern), regex_error(error))
        }
    }
}

/// The built-in rules' matches in `text`, ordered by start.
fn rule_matches(text: &str) -> Vec<RawMatch> {
    static MATCHER: OnceLock<Option<Matcher>> = OnceLock::new();
    let Some(matcher) = MATCHER.get_or_init(|| RuleSet::builtin().ok().map(|rules| Matcher::new(Arc::new(rules))))
    else {
        return Vec::new();
    };
    let mut found = Vec::new();
    matcher.find(text.as_bytes(), &mut Scratch::default(), &mut found);
    found.sort_by_key(|found| found.secret.start);
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A fake OpenAI key, assembled so that this file holds no key-shaped literal.
    fn key() -> String {
        format!("sk-proj-PM15uelHFAKEaZhX4lp4{}ZuDigFAKETTIDVrZfryt", ["T3Blbk", "FJ"].concat())
    }

    /// A fake DeepSeek-shaped key, assembled likewise.
    fn deepseek() -> String {
        ["sk-c03b40fca2f903fb", "6ac49f239da2d17d"].concat()
    }

    #[test]
    fn words_globs_and_ids_are_shown() {
        for token in ["colour", "xml", "a/[", "docs/**", "openai-api-key", "max_file_size", "utf16", "r:xyz"] {
            assert!(is_harmless(token), "{token}");
        }
    }

    #[test]
    fn keys_and_random_tokens_are_redacted() {
        for token in [&key(), &deepseek(), "0123456789abcdef", "Zm9vYmFyYmF6cXV4cXV1eA", "has space", "a\"bc", ""] {
            assert!(!is_harmless(token), "{token}");
        }
        assert_eq!(quoted(&key()), "\"sk-proj-…fryt\"");
    }

    #[test]
    fn quoted_tokens_in_messages_are_redacted_and_words_kept() {
        let (key, deepseek) = (key(), deepseek());
        let text = format!("unknown field `{key}`, expected `format`; invalid type: string \"{deepseek}\"");
        let shown = message(&text);
        assert!(!shown.contains(&key) && !shown.contains(&deepseek), "{shown}");
        assert!(shown.contains("`sk-proj-…fryt`") && shown.contains("expected `format`"), "{shown}");
        assert_eq!(message("invalid type: string \"a\\\"bc\", x"), "invalid type: string \"…\", x");
        assert_eq!(message("expected `\"`, `'`"), "expected `\"`, `'`");
        assert_eq!(message("unclosed `quote"), "unclosed `quote");
    }

    #[test]
    fn toml_errors_give_line_and_column_but_not_the_line() {
        let key = key();
        let text = format!("format = 'text'\n{key} = 1\n");
        let error = toml::from_str::<crate::config::ConfigFile>(&text).unwrap_err();
        let shown = toml_error(&error, &text);
        assert!(shown.starts_with("line 2, column 1, key `sk-proj-…fryt`: unknown field"), "{shown}");
        assert!(!shown.contains(&key), "{shown}");
    }

    #[test]
    fn regex_errors_name_the_problem_not_the_pattern() {
        let error = regex::Regex::new(&format!("({}", key())).unwrap_err();
        let shown = regex_error(&error);
        assert_eq!(shown, "unclosed group");
    }

    #[test]
    fn rule_file_errors_name_the_problem_and_redact_what_could_be_a_key() {
        let key = key();
        let message = |text: &str| Error::from(RuleSet::from_toml(text, "r.toml").unwrap_err()).to_string();
        let rule = |id: &str, rest: &str| format!("[[rule]]\nid = '{id}'\ndescription = 'd'\n{rest}\n");
        let cases = [
            (
                rule(&key, "regex = 'x'"),
                "rule \"sk-proj-…fryt\": id must be kebab-case (lowercase letters, digits and '-')",
            ),
            (rule("a", "regex = 'x'").repeat(2), "rule id \"a\" is defined twice"),
            (rule("a", "regex = '(x'"), "rule a: invalid regex: unclosed group"),
            (
                rule("a", "regex = 'x(y)'\nsecret_group = 2"),
                "rule a: secret_group 2 does not exist: the regex has 1 group",
            ),
            (
                rule("a", &format!("regex = 'x'\nallow = ['{key}(']")),
                "rule a: invalid allow regex \"sk-proj-…ryt(\": unclosed group",
            ),
            (
                format!("{key} = 1\n"),
                "line 1, column 1, key `sk-proj-…fryt`: unknown field `sk-proj-…fryt`, expected `rule`",
            ),
        ];
        for (text, expected) in cases {
            assert_eq!(message(&text), format!("invalid rule file r.toml: {expected}"));
        }
    }
}
