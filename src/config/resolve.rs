//! Resolution: the command line merged with the configuration file's [`Settings`] into a
//! [`Config`], with rules loaded and allowlists compiled. Where both say something, the command
//! line wins.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use globset::{Glob, GlobSetBuilder};
use regex::Regex;

use super::settings::{AllowlistSettings, Located, Settings};
use super::{find_config_file, find_repo_file, read_config_file, Config, CONFIG_ENV};
use crate::archive;
use crate::cli::{ColorChoice, CommandOptions, ScanOptions, VerifyArgs};
use crate::echo;
use crate::error::{Error, Result};
use crate::filter::baseline::Baseline;
use crate::filter::ignore_file::{self, IgnoreFile};
use crate::filter::{Allowlist, Filters};
use crate::fsio::Named;
use crate::paths::directory_of;
use crate::report::{Format, ReportOptions};
use crate::rules::{Confidence, RuleSet, RuleSource};
use crate::scan::ExpandOptions;
use crate::size::{parse_size, DEFAULT_MAX_FILE_SIZE};
use crate::verify::VerifyOptions;

impl Config {
    /// Resolves the options for a command whose target is `anchor` (a scanned path or a
    /// repository), where `.keyhound.toml` is looked for unless `--config` (or `KEYHOUND_CONFIG`)
    /// names one.
    pub(crate) fn resolve(args: &CommandOptions, anchor: &Path) -> Result<Config> {
        Self::resolve_with(args, anchor, true)
    }

    /// Like [`Config::resolve`], but the baseline (`--baseline` or the config file's) is only
    /// named in [`Config::baseline_file`], not read or applied: for `baseline create`, which
    /// writes it, and for commands that report no findings (`rules`).
    pub(crate) fn resolve_without_baseline(args: &CommandOptions, anchor: &Path) -> Result<Config> {
        Self::resolve_with(args, anchor, false)
    }

    fn resolve_with(args: &CommandOptions, anchor: &Path, apply_baseline: bool) -> Result<Config> {
        let named_config = args.rules.config.clone().or_else(config_from_env);
        let config_path = named_config.clone().or_else(|| find_config_file(anchor));
        let base = config_path.as_deref().map(directory_of);
        // The paths a config file names stay in its repository, whoever named the file.
        let named_by_config = base.as_deref().map_or(Named::ByUser, Named::by_repository_at);
        let settings = match (&config_path, &named_config) {
            (Some(path), Some(_)) => read_config_file(path, &Named::ByUser)?,
            (Some(path), None) => read_config_file(path, &named_by_config)?,
            (None, _) => Settings::default(),
        };
        let rules = load_rules(args, &settings, config_path.as_deref(), base.as_deref(), &named_by_config)?;
        let located = |item: &Located<String>, message: String| located_error(config_path.as_deref(), item, message);
        let max_file_size = match (&args.scan.max_file_size, &settings.max_file_size) {
            (Some(text), _) => parse_size(text).map_err(|e| Error::Usage(format!("--max-file-size: {e}")))?,
            (None, Some(text)) => {
                parse_size(&text.value).map_err(|e| located(text, format!("max_file_size: {}", echo::message(&e))))?
            }
            (None, None) => DEFAULT_MAX_FILE_SIZE,
        };
        let (baseline_path, baseline_named) = match (&args.scan.baseline, &settings.baseline) {
            (Some(path), _) => (Some(path.clone()), Named::ByUser),
            (None, Some(path)) => (Some(anchored(base.as_deref(), path)), named_by_config),
            (None, None) => (None, Named::ByUser),
        };
        let filters = Filters {
            allowlist: allowlist(&settings.allowlist, base, &located)
                .map_err(|e| config_error(config_path.as_deref(), e))?,
            ignore: find_repo_file(anchor, ignore_file::FILE_NAME)
                .map(|path| IgnoreFile::load(&path, &Named::by_repository_at(&directory_of(&path))))
                .transpose()?,
            baseline: match &baseline_path {
                Some(path) if apply_baseline => Some(Baseline::load(path, &baseline_named)?),
                _ => None,
            },
            report_unused: args.scan.report_unused,
        };
        let mut warnings = settings.warnings;
        if args.scan.report_unused && filters.ignore.is_none() && filters.baseline.is_none() && apply_baseline {
            warnings.push("--report-unused: no baseline or .keyhoundignore is in use, so nothing to list".into());
        }
        let format = args.report.format.or(settings.format).unwrap_or(Format::Text);
        let color = use_color(args.report.color, format, args.report.output.is_some());
        let verify = resolve_verify(&args.verify)?;
        Ok(Config {
            rules: Arc::new(rules),
            filters,
            format,
            output: args.report.output.clone(),
            report: ReportOptions {
                show_secrets: args.report.show_secrets,
                no_context: args.report.no_context,
                color,
                ..ReportOptions::default()
            },
            max_file_size,
            threads: args.scan.threads.unwrap_or_else(default_threads).max(1),
            quiet: args.scan.quiet,
            expand: expand_options(&args.scan, max_file_size)?,
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

/// The allowlist of a config file, each glob and regex compiled once, and refused on the line
/// it is written on.
fn allowlist(
    section: &AllowlistSettings,
    base: Option<PathBuf>,
    located: &dyn Fn(&Located<String>, String) -> Error,
) -> Result<Allowlist> {
    let mut globs = GlobSetBuilder::new();
    for glob in &section.path_globs {
        let problem = |e: globset::Error| format!("invalid allowlist glob {}: {}", echo::quoted(&glob.value), e.kind());
        globs.add(Glob::new(&glob.value).map_err(|e| located(glob, problem(e)))?);
    }
    let secret_regexes = compile_regexes(&section.secret_regexes, located)?;
    let paths = globs.build().map_err(|e| Error::Usage(format!("invalid allowlist globs: {}", e.kind())))?;
    let path_regexes = compile_regexes(&section.path_regexes, located)?;
    Ok(Allowlist::new(base, paths, path_regexes, secret_regexes, &section.stopwords))
}

fn compile_regexes(
    patterns: &[Located<String>],
    located: &dyn Fn(&Located<String>, String) -> Error,
) -> Result<Vec<Regex>> {
    let problem = |pattern: &str, e: regex::Error| {
        format!("invalid allowlist regex {}: {}", echo::quoted(pattern), echo::regex_error(&e))
    };
    patterns
        .iter()
        .map(|pattern| Regex::new(&pattern.value).map_err(|e| located(pattern, problem(&pattern.value, e))))
        .collect()
}

/// An error about `item` of the config file, on its line when it has one.
fn located_error(path: Option<&Path>, item: &Located<String>, message: String) -> Error {
    let message = item.describe(&message);
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

fn resolve_verify(args: &VerifyArgs) -> Result<Option<VerifyOptions>> {
    if !args.verify {
        return Ok(None);
    }
    let env = |name: &str| std::env::var(name).ok();
    VerifyOptions::resolve(args.verify_base_url.as_deref(), args.verify_timeout, env).map(Some).map_err(Error::Usage)
}

/// `--no-decode`, `--no-archives` and the archive limits.
fn expand_options(args: &ScanOptions, max_file_size: u64) -> Result<ExpandOptions> {
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

fn load_rules(
    args: &CommandOptions,
    settings: &Settings,
    config_path: Option<&Path>,
    base: Option<&Path>,
    named_by_config: &Named,
) -> Result<RuleSet> {
    let mut sources = vec![RuleSource::Builtin];
    if let (false, Some(path)) = (settings.rule_specs.is_empty(), config_path) {
        sources.push(RuleSource::Specs { origin: path.display().to_string(), specs: settings.rule_specs.clone() });
    }
    sources.extend(settings.rule_paths.iter().map(|path| match named_by_config {
        Named::ByRepository { root } => RuleSource::RepositoryPath { path: anchored(base, path), root: root.clone() },
        Named::ByUser => RuleSource::Path(anchored(base, path)),
    }));
    sources.extend(args.rules.files.iter().cloned().map(RuleSource::Path));
    let minimum = args.rules.confidence.unwrap_or(Confidence::Low);
    Ok(RuleSet::load(&sources)?.without(&settings.disabled_rules).retain(|rule| rule.spec.confidence >= minimum))
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
    use crate::config::CONFIG_FILE_NAME;
    use std::fs;

    fn with_config(path: impl Into<PathBuf>) -> CommandOptions {
        let mut args = CommandOptions::default();
        args.rules.config = Some(path.into());
        args
    }

    fn resolve_error(text: &str) -> String {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(CONFIG_FILE_NAME);
        fs::write(&path, text).unwrap();
        let args = with_config(path.clone());
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
        let args = with_config(PathBuf::from("no/such/keyhound.toml"));
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
        let args = with_config(path);
        assert!(Config::resolve(&args, dir.path()).unwrap().filters.baseline.is_some());
        fs::write(dir.path().join(CONFIG_FILE_NAME), "baseline = 'ci/missing'\n").unwrap();
        let args = with_config(dir.path().join(CONFIG_FILE_NAME));
        assert!(Config::resolve(&args, dir.path()).unwrap_err().to_string().contains("ci/missing"));
    }

    #[test]
    fn confidence_floor_drops_weaker_rules() {
        let mut args = CommandOptions::default();
        args.rules.confidence = Some(Confidence::High);
        let config = Config::resolve(&args, Path::new(".")).unwrap();
        assert!(config.rules.rules().iter().all(|rule| rule.spec.confidence == Confidence::High));
        assert!(config.rules.rules().iter().any(|rule| rule.id() == "openai-api-key"));
    }

    #[test]
    fn disabled_rules_are_dropped() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(CONFIG_FILE_NAME);
        fs::write(&path, "[rules]\ndisabled = [\"openai-api-key\"]\n").unwrap();
        let args = with_config(path);
        let config = Config::resolve(&args, dir.path()).unwrap();
        assert!(config.rules.rules().iter().all(|rule| rule.id() != "openai-api-key"));
    }
}
