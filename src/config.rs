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
//! [`crate::gitleaks`]), translated into the same model. An invalid file is an error that
//! names the file, the line and the problem.

use std::io::IsTerminal;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::Deserialize;
use toml::Spanned;

use crate::archive;
use crate::cli::{ColorChoice, GlobalArgs};
use crate::echo;
use crate::error::{Error, Result};
use crate::filter::baseline::Baseline;
use crate::filter::ignore_file::{self, IgnoreFile};
use crate::filter::{check_glob, check_regex, Allowlist, Filters};
use crate::fsio::{self, Named};
use crate::paths::{directory_of, normalize};
use crate::report::{Format, ReportOptions};
use crate::rules::{Confidence, RuleSet, RuleSource, RuleSpec};
use crate::scan::ExpandOptions;
use crate::source::parse_size;
use crate::verify::VerifyOptions;

/// The configuration file's name, looked for at the target's repository root.
pub const CONFIG_FILE_NAME: &str = ".keyhound.toml";

/// The environment variable that names a configuration file, as `--config` does.
pub const CONFIG_ENV: &str = "KEYHOUND_CONFIG";

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
    /// The file's text, for line numbers in errors.
    #[serde(skip)]
    pub text: String,
    /// What a translation from another scanner's format left out.
    #[serde(skip)]
    pub warnings: Vec<String>,
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
    /// Rules defined in the configuration itself (translated gitleaks rules).
    #[serde(skip)]
    pub specs: Vec<RuleSpec>,
}

/// `[allowlist]` in `.keyhound.toml`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AllowlistSection {
    /// Path globs, relative to the config file's directory.
    #[serde(default)]
    pub paths: Vec<Spanned<String>>,
    /// Regexes over secrets.
    #[serde(default)]
    pub regexes: Vec<Spanned<String>>,
    /// Case-insensitive substrings of secrets.
    #[serde(default)]
    pub stopwords: Vec<String>,
    /// Regexes over paths (translated gitleaks allowlists).
    #[serde(skip)]
    pub path_regexes: Vec<String>,
}

/// Everything a command needs to know, resolved once.
#[derive(Debug)]
pub struct Config {
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
    /// The configuration file in use, if any.
    pub config_file: Option<PathBuf>,
    /// The baseline file named by `--baseline` or the config file, if any.
    pub baseline_file: Option<PathBuf>,
    /// Who named the baseline file: a config file's baseline must stay in its repository.
    pub baseline_named: Named,
    /// Warnings about the configuration, for the summary.
    pub warnings: Vec<String>,
    /// `--verify`: how to verify found keys (only ever set from the command line).
    pub verify: Option<VerifyOptions>,
}

impl Config {
    /// Resolves the options for a command whose target is `anchor` (a scanned path or a
    /// repository), where `.keyhound.toml` is looked for unless `--config` (or `KEYHOUND_CONFIG`)
    /// names one.
    pub fn resolve(args: &GlobalArgs, anchor: &Path) -> Result<Config> {
        Self::resolve_with(args, anchor, true)
    }

    /// Like [`Config::resolve`], but the baseline (`--baseline` or the config file's) is only
    /// named in [`Config::baseline_file`], not read or applied: for `baseline create`, which
    /// writes it, and for commands that report no findings (`rules`).
    pub fn resolve_without_baseline(args: &GlobalArgs, anchor: &Path) -> Result<Config> {
        Self::resolve_with(args, anchor, false)
    }

    fn resolve_with(args: &GlobalArgs, anchor: &Path, apply_baseline: bool) -> Result<Config> {
        let named_config = args.config.clone().or_else(config_from_env);
        let config_path = named_config.clone().or_else(|| find_config_file(anchor));
        let base = config_path.as_deref().map(directory_of);
        // The paths a config file names stay in its repository, whoever named the file.
        let named_by_config = base.as_deref().map_or(Named::ByUser, Named::by_repository_at);
        let file = match (&config_path, &named_config) {
            (Some(path), Some(_)) => read_config_file(path, &Named::ByUser)?,
            (Some(path), None) => read_config_file(path, &named_by_config)?,
            (None, _) => ConfigFile::default(),
        };
        let rules = load_rules(args, &file, config_path.as_deref(), base.as_deref(), &named_by_config)?;
        let located =
            |span: Range<usize>, message: String| located_error(config_path.as_deref(), &file.text, span, message);
        let max_file_size = match (&args.max_file_size, &file.max_file_size) {
            (Some(text), _) => parse_size(text).map_err(|e| Error::Usage(format!("--max-file-size: {e}")))?,
            (None, Some(text)) => parse_size(text.get_ref())
                .map_err(|e| located(text.span(), format!("max_file_size: {}", echo::message(&e))))?,
            (None, None) => DEFAULT_MAX_FILE_SIZE,
        };
        let (baseline_path, baseline_named) = match (&args.baseline, &file.baseline) {
            (Some(path), _) => (Some(path.clone()), Named::ByUser),
            (None, Some(path)) => (Some(anchored(base.as_deref(), path.get_ref())), named_by_config),
            (None, None) => (None, Named::ByUser),
        };
        let filters = Filters {
            allowlist: allowlist(&file, base, &located).map_err(|e| config_error(config_path.as_deref(), e))?,
            ignore: find_repo_file(anchor, ignore_file::FILE_NAME)
                .map(|path| IgnoreFile::load(&path, &Named::by_repository_at(&directory_of(&path))))
                .transpose()?,
            baseline: match &baseline_path {
                Some(path) if apply_baseline => Some(Baseline::load(path, &baseline_named)?),
                _ => None,
            },
            report_unused: args.report_unused,
        };
        let mut warnings = file.warnings;
        if args.report_unused && filters.ignore.is_none() && filters.baseline.is_none() && apply_baseline {
            warnings.push("--report-unused: no baseline or .keyhoundignore is in use, so nothing to list".into());
        }
        let format = args.format.or(file.format).unwrap_or(Format::Text);
        let color = use_color(args.color, format, args.output.is_some());
        let verify = resolve_verify(args)?;
        Ok(Config {
            rules: Arc::new(rules),
            filters,
            format,
            output: args.output.clone(),
            report: ReportOptions { show_secrets: args.show_secrets, color, ..ReportOptions::default() },
            max_file_size,
            threads: args.threads.unwrap_or_else(default_threads).max(1),
            quiet: args.quiet,
            expand: expand_options(args, max_file_size)?,
            config_file: config_path,
            baseline_file: baseline_path,
            baseline_named,
            warnings,
            verify,
        })
    }
}

/// The config file `KEYHOUND_CONFIG` names, if it is set and not empty: CI systems set
/// variables more easily than they change a command line. `--config` wins over it.
fn config_from_env() -> Option<PathBuf> {
    std::env::var_os(CONFIG_ENV).filter(|value| !value.is_empty()).map(PathBuf::from)
}

/// The allowlist of a config file, with each glob and regex checked where it is written.
fn allowlist(
    file: &ConfigFile,
    base: Option<PathBuf>,
    located: &dyn Fn(Range<usize>, String) -> Error,
) -> Result<Allowlist> {
    let section = &file.allowlist;
    for glob in &section.paths {
        check_glob(glob.get_ref()).map_err(|message| located(glob.span(), message))?;
    }
    for regex in &section.regexes {
        check_regex(regex.get_ref()).map_err(|message| located(regex.span(), message))?;
    }
    let plain = |items: &[Spanned<String>]| items.iter().map(|item| item.get_ref().clone()).collect::<Vec<_>>();
    Allowlist::new(base, &plain(&section.paths), &plain(&section.regexes), &section.stopwords)?
        .with_path_regexes(&section.path_regexes)
}

/// An error at `span` of the config file's text (no line when the span is empty, as for
/// values translated from another format).
fn located_error(path: Option<&Path>, text: &str, span: Range<usize>, message: String) -> Error {
    let message = match text.get(..span.start) {
        Some(before) if !span.is_empty() => format!("line {}: {message}", before.matches('\n').count() + 1),
        _ => message,
    };
    match path {
        Some(path) => Error::Config { path: path.to_path_buf(), message },
        None => Error::Usage(message),
    }
}

/// A path from the config file, relative to its directory.
fn anchored(base: Option<&Path>, path: &Path) -> PathBuf {
    match base {
        Some(base) if path.is_relative() => base.join(path),
        _ => path.to_path_buf(),
    }
}

fn resolve_verify(args: &GlobalArgs) -> Result<Option<VerifyOptions>> {
    if !args.verify {
        return Ok(None);
    }
    let env = |name: &str| std::env::var(name).ok();
    VerifyOptions::resolve(args.verify_base_url.as_deref(), args.verify_timeout, env).map(Some).map_err(Error::Usage)
}

/// `--no-decode`, `--no-archives` and the archive limits.
fn expand_options(args: &GlobalArgs, max_file_size: u64) -> Result<ExpandOptions> {
    let defaults = archive::Limits::default();
    let max_bytes = match args.archive_max_bytes.as_deref() {
        Some(text) => parse_size(text).map_err(|e| Error::Usage(format!("--archive-max-bytes: {e}")))?,
        None => defaults.max_bytes,
    };
    let limits = archive::Limits {
        max_depth: args.archive_depth.map_or(defaults.max_depth, usize::from),
        max_bytes,
        max_members: args.archive_max_members.unwrap_or(defaults.max_members),
        max_ratio: args.archive_max_ratio.unwrap_or(defaults.max_ratio),
    };
    Ok(ExpandOptions {
        decode: !args.no_decode,
        archives: (!args.no_archives).then_some(limits),
        max_member_size: max_file_size,
    })
}

fn config_error(path: Option<&Path>, error: Error) -> Error {
    match path {
        Some(_) if matches!(error, Error::Config { .. }) => error,
        Some(path) => Error::Config { path: path.to_path_buf(), message: error.to_string() },
        None => error,
    }
}

/// Looks for `.keyhound.toml` in `anchor` (or its directory) and its ancestors up to the
/// repository root (outside a repository, up to the current directory when the anchor is
/// below it), then in the current directory.
pub fn find_config_file(anchor: &Path) -> Option<PathBuf> {
    find_repo_file(anchor, CONFIG_FILE_NAME)
}

/// Looks for a file named `name` the way [`find_config_file`] looks for the config file.
pub fn find_repo_file(anchor: &Path, name: &str) -> Option<PathBuf> {
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
pub fn read_config_file(path: &Path, named: &Named) -> Result<ConfigFile> {
    let text =
        fsio::read_text(path, named).map_err(|e| Error::Config { path: path.to_path_buf(), message: e.to_string() })?;
    let toml_error =
        |e: toml::de::Error| Error::Config { path: path.to_path_buf(), message: echo::toml_error(&e, &text) };
    let table: toml::Table = toml::from_str(&text).map_err(toml_error)?;
    let mut file = if crate::gitleaks::is_gitleaks(&table) {
        crate::gitleaks::translate(&text, path)?
    } else {
        toml::from_str::<ConfigFile>(&text).map_err(toml_error)?
    };
    file.text = text;
    Ok(file)
}

fn load_rules(
    args: &GlobalArgs,
    file: &ConfigFile,
    config_path: Option<&Path>,
    base: Option<&Path>,
    named_by_config: &Named,
) -> Result<RuleSet> {
    let mut sources = vec![RuleSource::Builtin];
    if let (false, Some(path)) = (file.rules.specs.is_empty(), config_path) {
        sources.push(RuleSource::Specs { origin: path.display().to_string(), specs: file.rules.specs.clone() });
    }
    sources.extend(file.rules.paths.iter().map(|path| match named_by_config {
        Named::ByRepository { root } => RuleSource::RepositoryPath { path: anchored(base, path), root: root.clone() },
        Named::ByUser => RuleSource::Path(anchored(base, path)),
    }));
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
        let err = read_config_file(&path, &Named::ByUser).unwrap_err().to_string();
        assert!(err.contains(".keyhound.toml") && err.contains("line 2"), "{err}");
        fs::write(&path, "[allowlst]\n").unwrap();
        assert!(read_config_file(&path, &Named::ByUser).unwrap_err().to_string().contains("unknown field"));
    }

    fn resolve_error(text: &str) -> String {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(CONFIG_FILE_NAME);
        fs::write(&path, text).unwrap();
        let args = GlobalArgs { config: Some(path.clone()), ..GlobalArgs::default() };
        let err = Config::resolve(&args, dir.path()).unwrap_err().to_string();
        assert!(err.contains(&path.display().to_string()), "the error must name the file: {err}");
        err
    }

    #[test]
    fn every_kind_of_bad_config_names_file_line_and_problem() {
        let cases = [
            ("format = \n", "line 1", "invalid string"),
            ("\ncolour = 'always'\n", "line 2", "unknown field `colour`"),
            ("format = 'xml'\n", "line 1", "unknown variant `xml`"),
            ("[rules]\ndisabled = 'one'\n", "line 2", "invalid type"),
            ("[allowlist]\n\npaths = ['docs/**', 'a/[']\n", "line 3", "invalid allowlist glob \"a/[\""),
            ("[allowlist]\nregexes = [\n  '(unclosed',\n]\n", "line 3", "invalid allowlist regex"),
            ("max_file_size = 'huge'\n", "line 1", "max_file_size"),
        ];
        for (text, line, problem) in cases {
            let err = resolve_error(text);
            assert!(err.contains(line) && err.contains(problem), "{text:?} gave: {err}");
        }
    }

    #[test]
    fn missing_config_file_is_named() {
        let args = GlobalArgs { config: Some(PathBuf::from("no/such/keyhound.toml")), ..GlobalArgs::default() };
        let err = Config::resolve(&args, Path::new(".")).unwrap_err().to_string();
        assert!(err.contains("no/such/keyhound.toml") && err.contains("No such file"), "{err}");
    }

    #[test]
    fn baseline_path_is_relative_to_the_config_file() {
        let dir = tempfile::tempdir().unwrap();
        fs::create_dir_all(dir.path().join("ci")).unwrap();
        fs::write(dir.path().join("ci/known"), format!("{}\n", crate::filter::baseline::HEADER)).unwrap();
        let path = dir.path().join(CONFIG_FILE_NAME);
        fs::write(&path, "baseline = 'ci/known'\n").unwrap();
        let args = GlobalArgs { config: Some(path), ..GlobalArgs::default() };
        assert!(Config::resolve(&args, dir.path()).unwrap().filters.baseline.is_some());
        fs::write(dir.path().join(CONFIG_FILE_NAME), "baseline = 'ci/missing'\n").unwrap();
        let args = GlobalArgs { config: Some(dir.path().join(CONFIG_FILE_NAME)), ..GlobalArgs::default() };
        assert!(Config::resolve(&args, dir.path()).unwrap_err().to_string().contains("ci/missing"));
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
