//! Resolved configuration: command-line options merged with `.keyhound.toml`, with rules
//! loaded and allowlists compiled. Commands see this, never clap types.
//!
//! # File format
//!
//! ```toml
//! # .keyhound.toml at the repository root
//! format = "text"                       # default report format
//! max_file_size = "20MiB"
//! baseline = ".keyhound-baseline"       # report only findings not in this baseline
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
//!
//! `KEYHOUND_CONFIG` names a config file as `--config` does (the flag wins), for CI systems.
//! Either also accepts a gitleaks configuration (recognised by its shape; see
//! [`gitleaks`]), translated into the same model. An invalid file is an error that
//! names the file, the line and the problem.

mod file;
mod gitleaks;
mod resolve;
mod settings;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::echo;
use crate::error::{Error, Result};
use crate::filter::Filters;
use crate::fsio::{self, Named};
use crate::paths::normalize;
use crate::report::{Format, ReportOptions};
use crate::rules::RuleSet;
use crate::scan::ExpandOptions;
use crate::verify::VerifyOptions;

pub(crate) use file::ConfigFile;
pub(crate) use settings::Settings;

/// The configuration file's name, looked for at the target's repository root.
pub(crate) const CONFIG_FILE_NAME: &str = ".keyhound.toml";

/// The environment variable that names a configuration file, as `--config` does.
pub(crate) const CONFIG_ENV: &str = "KEYHOUND_CONFIG";

/// Everything a command needs to know, resolved once.
#[derive(Debug)]
pub(crate) struct Config {
    /// The rules in use.
    pub rules: Arc<RuleSet>,
    /// Allowlists, ignore file and baseline.
    pub filters: Filters,
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
    /// What to look for inside blobs (base64, percent-encoding, UTF-16, archives). A command may turn parts
    /// off where they cost too much (the pre-commit hook).
    pub expand: ExpandOptions,
    /// The baseline file named by `--baseline` or the config file, if any.
    pub baseline_file: Option<PathBuf>,
    /// Who named the baseline file: a config file's baseline must stay in its repository.
    pub baseline_named: Named,
    /// Warnings about the configuration, for the summary.
    pub warnings: Vec<String>,
    /// `--verify`: how to verify found keys (only ever set from the command line).
    pub verify: Option<VerifyOptions>,
}

/// Looks for `.keyhound.toml` in `anchor` (or its directory) and its ancestors up to the
/// repository root (outside a repository, up to the current directory when the anchor is
/// below it), then in the current directory.
pub(crate) fn find_config_file(anchor: &Path) -> Option<PathBuf> {
    find_repo_file(anchor, CONFIG_FILE_NAME)
}

/// Looks for a file named `name` the way [`find_config_file`] looks for the config file.
pub(crate) fn find_repo_file(anchor: &Path, name: &str) -> Option<PathBuf> {
    let cwd = std::env::current_dir().ok()?;
    let absolute = normalize(&cwd.join(anchor));
    let start = if absolute.is_dir() { absolute.as_path() } else { absolute.parent()? };
    let last = start.ancestors().find(|dir| dir.join(".git").exists() || *dir == cwd).unwrap_or(start);
    start
        .ancestors()
        .take_while(|dir| dir.starts_with(last))
        .chain(std::iter::once(cwd.as_path()))
        .map(|dir| dir.join(name))
        // Anything there counts, so that a FIFO or a symlink out of the repository is refused
        // by name rather than passed over.
        .find(|candidate| candidate.symlink_metadata().is_ok_and(|metadata| !metadata.is_dir()))
}

/// Reads and parses a configuration file: keyhound's own format, or a gitleaks
/// configuration (recognised by its shape), translated.
pub(crate) fn read_config_file(path: &Path, named: &Named) -> Result<Settings> {
    let text =
        fsio::read_text(path, named).map_err(|e| Error::Config { path: path.to_path_buf(), message: e.to_string() })?;
    let toml_error =
        |e: toml::de::Error| Error::Config { path: path.to_path_buf(), message: echo::toml_error(&e, &text) };
    let table: toml::Table = toml::from_str(&text).map_err(toml_error)?;
    if gitleaks::is_gitleaks(&table) {
        gitleaks::translate(&text, path)
    } else {
        Ok(toml::from_str::<ConfigFile>(&text).map_err(toml_error)?.into_settings(&text))
    }
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
        let err = read_config_file(&path, &Named::ByUser).unwrap_err().to_string();
        assert!(err.contains(".keyhound.toml") && err.contains("line 2"), "{err}");
        fs::write(&path, "[allowlst]\n").unwrap();
        assert!(read_config_file(&path, &Named::ByUser).unwrap_err().to_string().contains("unknown field"));
    }
}
