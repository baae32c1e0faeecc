//! Resolved configuration: command-line options merged with `.keyhound.toml`, with rules
//! loaded and allowlists compiled. Commands see this, never clap types.
//!
//! # File format
//!
//! ```toml
//! # .keyhound.toml at the repository root
//! format = "text"                       # default report format
//! max_file_size = "20MiB"
//!
//! [rules]
//! paths = ["security/rules"]            # extra rule files or directories (relative to this file)
//! disabled = ["generic-api-key"]        # rule ids to turn off
//!
//! [allowlist]
//! paths = ["fixtures/**", "docs/*.md"]  # globs, relative to this file's directory
//! regexes = ['^sk-test-']               # secrets matching one are not reported
//! stopwords = ["dummy"]                 # secrets containing one are not reported
//! ```

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::Deserialize;

use crate::cli::{ColorChoice, GlobalArgs};
use crate::error::{Error, Result};
use crate::filter::{normalize, Allowlist};
use crate::report::{Format, ReportOptions};
use crate::rules::{Confidence, RuleSet, RuleSource};
use crate::source::parse_size;

/// The configuration file's name, looked for at the target's repository root.
pub const CONFIG_FILE_NAME: &str = ".keyhound.toml";

/// Default size limit for a file or blob.
pub const DEFAULT_MAX_FILE_SIZE: u64 = 20 << 20;

/// `.keyhound.toml` as written.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfigFile {
    /// Default report format.
    #[serde(default)]
    pub format: Option<Format>,
    /// Default size limit.
    #[serde(default)]
    pub max_file_size: Option<String>,
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
pub struct RulesSection {
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
pub struct AllowlistSection {
    /// Path globs, relative to the config file's directory.
    #[serde(default)]
    pub paths: Vec<String>,
    /// Regexes over secrets.
    #[serde(default)]
    pub regexes: Vec<String>,
    /// Case-insensitive substrings of secrets.
    #[serde(default)]
    pub stopwords: Vec<String>,
}

/// Everything a command needs to know, resolved once.
#[derive(Debug)]
pub struct Config {
    /// The rules in use.
    pub rules: Arc<RuleSet>,
    /// Global allowlists.
    pub allowlist: Allowlist,
    /// Report format.
    pub format: Format,
    /// Report destination (`None`: standard output).
    pub output: Option<PathBuf>,
    /// Redaction and colour.
    pub report: ReportOptions,
    /// Size limit for files and blobs.
    pub max_file_size: u64,
    /// Worker threads.
    pub threads: usize,
    /// Suppress the summary.
    pub quiet: bool,
    /// The configuration file in use, if any.
    pub config_file: Option<PathBuf>,
}

impl Config {
    /// Resolves the options for a command whose target is `anchor` (a scanned path or a
    /// repository), where `.keyhound.toml` is looked for unless `--config` names one.
    pub fn resolve(args: &GlobalArgs, anchor: &Path) -> Result<Config> {
        let config_path = match &args.config {
            Some(path) => Some(path.clone()),
            None => find_config_file(anchor),
        };
        let file = match &config_path {
            Some(path) => read_config_file(path)?,
            None => ConfigFile::default(),
        };
        let base = config_path.as_deref().and_then(config_dir);
        let rules = load_rules(args, &file, base.as_deref())?;
        let allowlist =
            Allowlist::new(base.clone(), &file.allowlist.paths, &file.allowlist.regexes, &file.allowlist.stopwords)
                .map_err(|e| config_error(config_path.as_deref(), e))?;
        let max_file_size = match args.max_file_size.as_deref().or(file.max_file_size.as_deref()) {
            Some(text) => parse_size(text).map_err(|e| Error::Usage(format!("--max-file-size: {e}")))?,
            None => DEFAULT_MAX_FILE_SIZE,
        };
        let format = args.format.or(file.format).unwrap_or(Format::Text);
        let color = use_color(args.color, format, args.output.is_some());
        Ok(Config {
            rules: Arc::new(rules),
            allowlist,
            format,
            output: args.output.clone(),
            report: ReportOptions { show_secrets: args.show_secrets, color },
            max_file_size,
            threads: args.threads.unwrap_or_else(default_threads).max(1),
            quiet: args.quiet,
            config_file: config_path,
        })
    }
}

fn config_error(path: Option<&Path>, error: Error) -> Error {
    match path {
        Some(path) => Error::Config { path: path.to_path_buf(), message: error.to_string() },
        None => error,
    }
}

/// The directory a config file's relative paths are anchored at (absolute, normalized).
fn config_dir(config: &Path) -> Option<PathBuf> {
    let absolute = normalize(&std::env::current_dir().ok()?.join(config));
    absolute.parent().map(Path::to_path_buf)
}

/// Looks for `.keyhound.toml` in `anchor` (or its directory) and its ancestors up to the
/// repository root (outside a repository, up to the current directory when the anchor is
/// below it), then in the current directory.
pub fn find_config_file(anchor: &Path) -> Option<PathBuf> {
    let cwd = std::env::current_dir().ok()?;
    let absolute = normalize(&cwd.join(anchor));
    let start = if absolute.is_dir() { absolute.as_path() } else { absolute.parent()? };
    let last = start.ancestors().find(|dir| dir.join(".git").exists() || *dir == cwd).unwrap_or(start);
    start
        .ancestors()
        .take_while(|dir| dir.starts_with(last))
        .chain(std::iter::once(cwd.as_path()))
        .map(|dir| dir.join(CONFIG_FILE_NAME))
        .find(|candidate| candidate.is_file())
}

/// Reads and parses a configuration file.
pub fn read_config_file(path: &Path) -> Result<ConfigFile> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| Error::Config { path: path.to_path_buf(), message: e.to_string() })?;
    toml::from_str(&text)
        .map_err(|e| Error::Config { path: path.to_path_buf(), message: e.to_string().trim_end().to_string() })
}

fn load_rules(args: &GlobalArgs, file: &ConfigFile, base: Option<&Path>) -> Result<RuleSet> {
    let mut sources = vec![RuleSource::Builtin];
    for path in &file.rules.paths {
        let anchored = match base {
            Some(base) if path.is_relative() => base.join(path),
            _ => path.clone(),
        };
        sources.push(RuleSource::Path(anchored));
    }
    sources.extend(args.rules.iter().cloned().map(RuleSource::Path));
    let minimum = args.confidence.unwrap_or(Confidence::Low);
    Ok(RuleSet::load(&sources)?.without(&file.rules.disabled).retain(|rule| rule.spec.confidence >= minimum))
}

fn use_color(choice: ColorChoice, format: Format, to_file: bool) -> bool {
    match choice {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => {
            format == Format::Text
                && !to_file
                && std::env::var_os("NO_COLOR").is_none_or(|value| value.is_empty())
                && std::io::stdout().is_terminal()
        }
    }
}

fn default_threads() -> usize {
    std::thread::available_parallelism().map_or(1, usize::from)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;

    #[test]
    fn config_is_found_at_repository_root_and_not_above_it() {
        let dir = tempfile::tempdir().unwrap();
        let repo = dir.path().join("repo");
        fs::create_dir_all(repo.join(".git")).unwrap();
        fs::create_dir_all(repo.join("src/deep")).unwrap();
        fs::write(dir.path().join(CONFIG_FILE_NAME), "").unwrap();
        assert_ne!(find_config_file(&repo.join("src/deep")), Some(dir.path().join(CONFIG_FILE_NAME)));
        fs::write(repo.join(CONFIG_FILE_NAME), "").unwrap();
        assert_eq!(find_config_file(&repo.join("src/deep")), Some(repo.join(CONFIG_FILE_NAME)));
    }

    #[test]
    fn invalid_config_names_file_and_line() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(CONFIG_FILE_NAME);
        fs::write(&path, "[allowlist]\npaths = [1]\n").unwrap();
        let err = read_config_file(&path).unwrap_err().to_string();
        assert!(err.contains(".keyhound.toml") && err.contains("line 2"), "{err}");
        fs::write(&path, "[allowlst]\n").unwrap();
        assert!(read_config_file(&path).unwrap_err().to_string().contains("unknown field"));
    }

    #[test]
    fn confidence_floor_drops_weaker_rules() {
        let args = GlobalArgs { confidence: Some(Confidence::High), ..GlobalArgs::default() };
        let config = Config::resolve(&args, Path::new(".")).unwrap();
        assert!(config.rules.rules().iter().all(|rule| rule.spec.confidence == Confidence::High));
        assert!(config.rules.rules().iter().any(|rule| rule.id() == "openai-api-key"));
    }

    #[test]
    fn disabled_rules_are_dropped() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(CONFIG_FILE_NAME);
        fs::write(&path, "[rules]\ndisabled = [\"openai-api-key\"]\n").unwrap();
        let args = GlobalArgs { config: Some(path), ..GlobalArgs::default() };
        let config = Config::resolve(&args, dir.path()).unwrap();
        assert!(config.rules.rules().iter().all(|rule| rule.id() != "openai-api-key"));
    }
}
