//! `keyhound baseline create [PATH]...`: scans like `scan` (with `--history`, like `history`
//! over the whole history of the repository at PATH) and records every finding in a
//! baseline file instead of reporting them: `--output FILE`, else the baseline that
//! `--baseline` or the config file names, else `.keyhound-baseline` in the current directory.
//! An existing baseline is not applied: the new one records everything.
//!
//! The file is written atomically and never through a symlink (see [`crate::fsio`]); the
//! config file's baseline must lie inside its repository.

use std::path::PathBuf;

use crate::cli::{BaselineAction, CommandOptions};
use crate::config::Config;
use crate::error::{Error, Result};
use crate::exit::ExitStatus;
use crate::filter::baseline::{Baseline, DEFAULT_FILE_NAME};
use crate::fsio::{self, Named};
use crate::pipeline::ScanOutcome;
use crate::report;
use crate::source::history::Selection;
use crate::source::stdin::Targets;
use crate::source::worktree::WalkOptions;
use crate::verify::Verifications;
use crate::wording::count;

/// Runs the command.
pub(crate) fn run(action: &BaselineAction, chosen: &CommandOptions) -> Result<ExitStatus> {
    match action {
        BaselineAction::Create { paths, history } => create(paths, *history, chosen),
    }
}

fn create(paths: &[PathBuf], history: bool, chosen: &CommandOptions) -> Result<ExitStatus> {
    let (config, outcome) = if history { scan_history(paths, chosen)? } else { scan_tree(paths, chosen)? };
    let (file, named) = destination(&config);
    let baseline = Baseline::of(&file, &outcome.findings);
    fsio::write_atomic(&file, &named, 0o666, |out| out.write_all(baseline.render().as_bytes()))
        .map_err(|source| Error::Output { target: file.display().to_string(), source })?;
    let recorded = format!(
        "recorded {} as {} in {}",
        count(outcome.findings.len(), "finding", "findings"),
        count(baseline.entries().count(), "entry", "entries"),
        file.display()
    );
    super::print_summary(&config, &outcome, &Verifications::new(), None, Some(recorded));
    Ok(if outcome.is_incomplete() { ExitStatus::Error } else { ExitStatus::Clean })
}

/// Scans the tree under `paths` as `scan` does.
fn scan_tree(paths: &[PathBuf], chosen: &CommandOptions) -> Result<(Config, ScanOutcome)> {
    let targets = Targets::of(paths, None)?;
    let config = Config::resolve_without_baseline(chosen, &targets.anchor)?;
    let options = WalkOptions { respect_ignore_files: true, max_file_size: config.max_file_size };
    let outcome = super::scan::scan_targets(&targets, &options, &config, None)?;
    Ok((config, outcome))
}

/// Scans the whole history of the repository at the one path in `paths` (default: the
/// current directory's) as `history` does.
fn scan_history(paths: &[PathBuf], chosen: &CommandOptions) -> Result<(Config, ScanOutcome)> {
    if paths.len() > 1 {
        return Err(Error::Usage("baseline create --history takes one repository".into()));
    }
    let (repo, anchor) = super::history::open(paths.first().map(PathBuf::as_path))?;
    let mut config = Config::resolve_without_baseline(chosen, &anchor)?;
    config.report.command = report::Command::History;
    let outcome = super::history::scan_history(&repo, &Selection::default(), &config, None, None)?;
    Ok((config, outcome))
}

/// Where the baseline goes, and who named that place: `--output`, else the baseline that
/// `--baseline` or the config file names, else the default file in the current directory.
fn destination(config: &Config) -> (PathBuf, Named) {
    match (&config.output, &config.baseline_file) {
        (Some(output), _) => (output.clone(), Named::ByUser),
        (None, Some(file)) => (file.clone(), config.baseline_named.clone()),
        (None, None) => (PathBuf::from(DEFAULT_FILE_NAME), Named::ByUser),
    }
}
