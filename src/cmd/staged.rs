//! `keyhound staged [REPO]`: scans what the next commit will contain, for the pre-commit
//! hook. A secret new relative to `HEAD` blocks (exit 1) and the message says how to fix it
//! and how to override; a secret `HEAD` already holds in a file the commit touches is a
//! warning, unless `--strict`. The report is text unless `--format` says otherwise: a config
//! file's `format` is for CI, not for a blocked commit.
//!
//! A hook runs on every commit, so this stays lean: no work-tree walk, no thread pool (a
//! commit stages a handful of files), rules at `medium` confidence or above unless
//! `--confidence` says otherwise, and `HEAD`'s blobs are read only when there is a finding to
//! compare.

use std::io::{self, Write};
use std::path::Path;
use std::time::Instant;

use git2::Repository;

use crate::cli::{CommandOptions, StagedArgs};
use crate::config::Config;
use crate::driver::Driver;
use crate::error::Result;
use crate::exit::ExitStatus;
use crate::filter::already_in_head::AlreadyInHead;
use crate::finding::Finding;
use crate::matcher::Matcher;
use crate::pipeline::ScanOutcome;
use crate::report::{self, blocked, text, Format, ReportOptions};
use crate::rules::Confidence;
use crate::source::staged::{self, PathBlob};
use crate::verify::Verifications;
use crate::wording::count;

/// The confidence floor of a hook: low-confidence generic rules would block too many commits.
pub(crate) const DEFAULT_CONFIDENCE: Confidence = Confidence::Medium;

/// Runs the command.
pub(crate) fn run(args: &StagedArgs, chosen: &CommandOptions) -> Result<ExitStatus> {
    let started = Instant::now();
    let repo = staged::open(args.repo.as_deref())?;
    // A hook reports to a person at a terminal: a config file's `format` is meant for CI.
    let mut chosen = chosen.clone();
    chosen.rules.confidence = Some(chosen.rules.confidence.unwrap_or(DEFAULT_CONFIDENCE));
    chosen.report.format = Some(chosen.report.format.unwrap_or(Format::Text));
    let anchor = repo.workdir().unwrap_or(Path::new("."));
    let mut config = Config::resolve(&chosen, anchor)?;
    super::place_report(&mut config, report::Command::Staged, repo.workdir(), || Some(anchor.to_path_buf()));
    config.report.fix_follows = true;
    let changes = staged::changes(&repo)?;
    let matcher = Matcher::new(config.rules.clone());
    let driver = Driver::new(&matcher, &config.expand, config.threads);
    let (sink, mut stats) =
        driver.drive(staged::Blobs::staged(&repo, &changes.staged, config.max_file_size))?.into_parts();
    stats.merge(changes.stats);
    let mut outcome = ScanOutcome::new(sink, &config.filters, stats, started.elapsed());
    let already_in_head = if args.strict {
        Vec::new()
    } else {
        let in_head = secrets_in_head(&repo, &changes.replaced, &driver, &config, &outcome.findings)?;
        outcome.drop_already_in_head(&in_head)
    };
    outcome.elapsed = started.elapsed();
    report(&config, &outcome, &already_in_head)
}

/// The secrets `HEAD` holds in the `replaced` blobs, read only when there are `findings` to
/// compare with them.
fn secrets_in_head(
    repo: &Repository,
    replaced: &[PathBlob],
    driver: &Driver,
    config: &Config,
    findings: &[Finding],
) -> Result<AlreadyInHead> {
    if findings.is_empty() || replaced.is_empty() {
        return Ok(AlreadyInHead::default());
    }
    // A HEAD blob that cannot be read only means its secrets count as new: the safe side.
    let in_head = driver.drive(staged::Blobs::head(repo, replaced, config.max_file_size))?.sink;
    Ok(AlreadyInHead::new(in_head.findings))
}

/// Warnings for secrets already in `HEAD`, then the report and summary, then, when the commit
/// is blocked, what to do about it.
fn report(config: &Config, outcome: &ScanOutcome, already_in_head: &[Finding]) -> Result<ExitStatus> {
    if !config.quiet && !already_in_head.is_empty() {
        write_already_in_head(config, already_in_head);
    }
    // Hooks never verify: a commit makes no network call.
    let status = super::emit(config, outcome, &Verifications::new())?;
    if status == ExitStatus::Findings && !config.quiet {
        let mut stderr = io::stderr().lock();
        for line in blocked::commit_lines(&outcome.findings, &config.rules) {
            // Nothing useful can be done if standard error is closed.
            let _ = super::say(&mut stderr, &line);
        }
    }
    Ok(status)
}

fn write_already_in_head(config: &Config, findings: &[Finding]) {
    let mut stderr = io::stderr().lock();
    let _ = writeln!(
        stderr,
        "keyhound: warning: {} already in HEAD, in files this commit touches; not blocking \
         (--strict blocks them), but each is still exposed in history:",
        count(findings.len(), "secret", "secrets")
    );
    let listed = ScanOutcome { findings: findings.to_vec(), ..ScanOutcome::default() };
    let options = ReportOptions { color: false, ..config.report.clone() };
    let _ = text::write(&listed, &Verifications::new(), &config.rules, &options, &mut stderr);
}
