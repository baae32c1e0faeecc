//! What a configuration file says, whichever syntax it is written in: keyhound's own
//! ([`super::file`]) or gitleaks' ([`super::gitleaks`]). Resolution ([`super::resolve`]) merges
//! it with the command line; nothing here has been checked beyond what the syntax checks, so
//! each value a check may refuse keeps the line it was written on.

use std::ops::Range;
use std::path::PathBuf;

use crate::report::Format;
use crate::rules::RuleSpec;

/// What a configuration file says.
#[derive(Debug, Default)]
pub(crate) struct Settings {
    /// Default report format.
    pub format: Option<Format>,
    /// Default size limit, as written.
    pub max_file_size: Option<Located<String>>,
    /// Baseline file, relative to the config file.
    pub baseline: Option<PathBuf>,
    /// Extra rule files or directories, relative to the config file.
    pub rule_paths: Vec<PathBuf>,
    /// Rules defined in the configuration itself.
    pub rule_specs: Vec<RuleSpec>,
    /// Rule ids to turn off.
    pub disabled_rules: Vec<String>,
    /// What not to report.
    pub allowlist: AllowlistSettings,
    /// What a translation from another scanner's format left out.
    pub warnings: Vec<String>,
}

/// The allowlist a configuration file writes.
#[derive(Debug, Default)]
pub(crate) struct AllowlistSettings {
    /// Path globs, relative to the config file's directory.
    pub path_globs: Vec<Located<String>>,
    /// Regexes over paths, matched anywhere in the path.
    pub path_regexes: Vec<Located<String>>,
    /// Regexes over secrets.
    pub secret_regexes: Vec<Located<String>>,
    /// Case-insensitive substrings of secrets.
    pub stopwords: Vec<String>,
}

/// A value and the line of the configuration file it is written on, for errors about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Located<T> {
    /// The value as written.
    pub value: T,
    /// Its 1-based line; `None` for a value a translation made, which has no line of its own.
    pub line: Option<usize>,
}

impl<T> Located<T> {
    /// `value`, written at `span` of `text`.
    pub(crate) fn at(value: T, span: Range<usize>, text: &str) -> Self {
        let line = text.get(..span.start).filter(|_| !span.is_empty()).map(|before| before.matches('\n').count() + 1);
        Located { value, line }
    }

    /// `value`, made by a translation.
    pub(crate) fn unplaced(value: T) -> Self {
        Located { value, line: None }
    }

    /// `message` about this value, after its line when it has one.
    pub(crate) fn describe(&self, message: &str) -> String {
        match self.line {
            Some(line) => format!("line {line}: {message}"),
            None => message.to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_placed_on_the_line_their_span_starts_on() {
        let text = "a = 1\n\nb = 'x'\n";
        let at = Located::at("x".to_string(), 12..15, text);
        assert_eq!(at.describe("bad"), "line 3: bad");
        assert_eq!(Located::at(1, 0..0, text).line, None, "an empty span places nothing");
        assert_eq!(Located::unplaced(1).describe("bad"), "bad");
    }
}
