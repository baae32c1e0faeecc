//! `.keyhound.toml` as written: the serde mirror of keyhound's own syntax, and what it says as
//! [`Settings`].

use std::path::PathBuf;

use serde::Deserialize;
use toml::Spanned;

use super::settings::{AllowlistSettings, Located, Settings};
use crate::report::Format;

/// `.keyhound.toml` as written.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ConfigFile {
    /// Default report format.
    #[serde(default)]
    pub format: Option<Format>,
    /// Default size limit.
    #[serde(default)]
    pub max_file_size: Option<Spanned<String>>,
    /// Baseline file, relative to the config file.
    #[serde(default)]
    pub baseline: Option<Spanned<PathBuf>>,
    /// Extra and disabled rules.
    #[serde(default)]
    pub rules: RulesSection,
    /// What not to report.
    #[serde(default)]
    pub allowlist: AllowlistSection,
}

/// `[rules]` in `.keyhound.toml`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RulesSection {
    /// Extra rule files or directories, relative to the config file.
    #[serde(default)]
    pub paths: Vec<PathBuf>,
    /// Rule ids to turn off.
    #[serde(default)]
    pub disabled: Vec<String>,
}

/// `[allowlist]` in `.keyhound.toml`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct AllowlistSection {
    /// Path globs, relative to the config file's directory.
    #[serde(default)]
    pub paths: Vec<Spanned<String>>,
    /// Regexes over secrets.
    #[serde(default)]
    pub regexes: Vec<Spanned<String>>,
    /// Case-insensitive substrings of secrets.
    #[serde(default)]
    pub stopwords: Vec<String>,
}

impl ConfigFile {
    /// What the file says; `text` is the file's text, which its spans point into.
    pub(crate) fn into_settings(self, text: &str) -> Settings {
        let located = |item: Spanned<String>| {
            let span = item.span();
            Located::at(item.into_inner(), span, text)
        };
        let allowlist = self.allowlist;
        Settings {
            format: self.format,
            max_file_size: self.max_file_size.map(located),
            baseline: self.baseline.map(Spanned::into_inner),
            rule_paths: self.rules.paths,
            rule_specs: Vec::new(),
            disabled_rules: self.rules.disabled,
            allowlist: AllowlistSettings {
                path_globs: allowlist.paths.into_iter().map(located).collect(),
                path_regexes: Vec::new(),
                secret_regexes: allowlist.regexes.into_iter().map(located).collect(),
                stopwords: allowlist.stopwords,
            },
            warnings: Vec::new(),
        }
    }
}
