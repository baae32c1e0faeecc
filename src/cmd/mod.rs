//! One module per command: each turns its arguments into a [`Config`], runs a source through
//! the pipeline (see [`crate::pipeline`]), and hands the outcome and its verifications to
//! [`emit`]. `audit` and `report` hand theirs, one per repository, to [`report_cmd::emit`];
//! `triage` and `datastore` only edit a datastore. Beside them: [`progress`] and [`shard`].

pub(crate) mod audit;
pub(crate) mod baseline;
pub(crate) mod datastore;
pub(crate) mod generate;
pub(crate) mod history;
pub(crate) mod hook;
pub(crate) mod pre_push;
pub(crate) mod progress;
pub(crate) mod report_cmd;
pub(crate) mod respond;
pub(crate) mod rules;
pub(crate) mod scan;
pub(crate) mod shard;
pub(crate) mod staged;
pub(crate) mod triage;

use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

use crate::config::Config;
use crate::error::{Error, Result};
use crate::escape::Visible;
use crate::exit::ExitStatus;
use crate::fsio::{self, Named};
use crate::pipeline::ScanOutcome;
use crate::report::{self, summary, Checkout};
use crate::verify::Verifications;

/// The report step: writes the report of `outcome` and its `verifications` (to `--output` or
/// standard output) and the summary (to standard error), and picks the exit status. A closed
/// standard output is not an error.
pub(crate) fn emit(config: &Config, outcome: &ScanOutcome, verifications: &Verifications) -> Result<ExitStatus> {
    write_report(config, outcome, verifications)?;
    print_summary(config, outcome, verifications, left_out_warning(config, outcome), None);
    Ok(ExitStatus::of_scan(outcome.findings.len(), outcome.is_incomplete()))
}

/// The warning that the report holds fewer findings than were found, when its format has a
/// limit (SARIF, for GitHub code scanning).
fn left_out_warning(config: &Config, outcome: &ScanOutcome) -> Option<String> {
    let limit = config.format.max_results()?;
    let found = outcome.findings.len();
    (found > limit).then(|| {
        format!(
            "the report holds the first {limit} of {found} findings, the most GitHub code scanning accepts; \
             {} left out (--format json reports them all)",
            found - limit
        )
    })
}

/// Writes the configuration's warnings and `warning`, the summary of `outcome` and its
/// `verifications` and a last line, if any, to standard error; with `--quiet`, only why the
/// scan is incomplete, if it is, since a CI log must say why the exit code is 2.
pub(crate) fn print_summary(
    config: &Config,
    outcome: &ScanOutcome,
    verifications: &Verifications,
    warning: Option<String>,
    last: Option<String>,
) {
    let lines: Vec<String> = if config.quiet {
        summary::incomplete_lines(outcome, config.report.command)
    } else {
        let warnings = config.warnings.iter().cloned().chain(warning).map(|warning| format!("warning: {warning}"));
        warnings.chain(summary::lines(outcome, verifications, config.report.command)).chain(last).collect()
    };
    let mut stderr = io::stderr().lock();
    for line in lines {
        // Nothing useful can be done if standard error is closed.
        let _ = say(&mut stderr, &line);
    }
}

/// Writes `keyhound: LINE`. Lines name paths, refs, authors and rule text that may come from
/// the repository scanned, so control characters in them are shown escaped, and the prefix
/// keeps the line from starting a CI workflow command.
pub(crate) fn say(out: &mut dyn Write, line: &str) -> io::Result<()> {
    // One write per line: standard error is unbuffered, and a line written in pieces costs a
    // system call per piece (and may interleave with another process's output).
    out.write_all(format!("keyhound: {}\n", Visible(line)).as_bytes())
}

/// Tells the report which command ran and, for the formats that place findings in a CI
/// checkout (and only for them: the hook's text report needs none of it), where their paths
/// lead: relative ones start at `base`, and they are shown from `GITHUB_WORKSPACE` (GitHub
/// Actions' checkout) when it holds them, else from the `repository` root. Both are the
/// user's or the runner's, never the scanned repository's; they are resolved through symbolic
/// links as the current directory is.
pub(crate) fn place_report(
    config: &mut Config,
    command: report::Command,
    base: Option<&Path>,
    repository: impl FnOnce() -> Option<PathBuf>,
) {
    config.report.command = command;
    if !config.format.places_paths() {
        return;
    }
    let workspace = std::env::var_os("GITHUB_WORKSPACE").filter(|value| !value.is_empty()).map(PathBuf::from);
    let physical = |path: &Path| std::fs::canonicalize(path).ok();
    config.report.checkout = Checkout {
        base: base.and_then(physical),
        roots: workspace.into_iter().chain(repository()).filter_map(|root| physical(&root)).collect(),
    };
}

/// Writes the report to standard output, or atomically to `--output` (see [`fsio`]: the user
/// named the file, so it may be anywhere, but a symlink there is replaced, not followed).
fn write_report(config: &Config, outcome: &ScanOutcome, verifications: &Verifications) -> Result<()> {
    write_output(config, |out| report::write(config.format, outcome, verifications, &config.rules, &config.report, out))
}

/// Writes a report with `write` to standard output, or atomically to `--output`.
fn write_output(config: &Config, write: impl Fn(&mut dyn Write) -> io::Result<()>) -> Result<()> {
    let (target, result) = match &config.output {
        Some(path) => (path.display().to_string(), fsio::write_atomic(path, &Named::ByUser, 0o666, write)),
        None => ("<stdout>".to_string(), write(&mut BufWriter::new(io::stdout().lock()))),
    };
    match result {
        Err(source) if source.kind() == io::ErrorKind::BrokenPipe => Ok(()),
        Err(source) => Err(Error::Output { target, source }),
        Ok(()) => Ok(()),
    }
}
