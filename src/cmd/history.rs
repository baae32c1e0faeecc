//! `keyhound history [REPO]`: every blob and message in a repository's history (or in what a
//! range of commits introduced), each scanned once and attributed to the commit that
//! introduced it. The steps: plan, drive (enumerate and scan), attribute, count occurrences,
//! keep the earliest per file, summarise.

use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use git2::Repository;

use super::progress;
use crate::cli::{DatastoreArgs, GlobalArgs, HistoryArgs};
use crate::config::Config;
use crate::datastore::{Datastore, Incremental};
use crate::driver::history::{attribute, count_occurrences, earliest_per_file};
use crate::driver::{self, Driver, Scanned};
use crate::error::{Error, Result};
use crate::exit::ExitStatus;
use crate::finding::Finding;
use crate::matcher::Matcher;
use crate::pipeline::{self, ScanOutcome};
use crate::report;
use crate::source::history::{self, Blobs, Counters, Selection, Summary};

/// Runs the command.
pub fn run(args: &HistoryArgs, global: &GlobalArgs) -> Result<ExitStatus> {
    let repo = history::open(args.repo.as_deref())?;
    let anchor = repo.workdir().unwrap_or_else(|| repo.path()).to_path_buf();
    let mut config = Config::resolve(global, &anchor)?;
    super::place_report(&mut config, report::Command::History, repo.workdir(), || Some(anchor.clone()));
    let selection = Selection {
        range: args.range.clone().or_else(|| args.since.as_ref().map(|rev| format!("{rev}..HEAD"))),
        exclude_remotes: args.exclude_remotes,
        path: args.repo.as_deref().map(|given| history::path_within(&repo, given)).transpose()?.flatten(),
    };
    let progress = progress::Display::choose(args.progress, config.quiet);
    let mut store = open_datastore(&args.store, &selection, &config)?;
    let incremental = match &mut store {
        Some(store) => Some(Incremental::start(store, &repository_name(&anchor), &config)?),
        None => None,
    };
    let mut outcome = scan_history(&repo, &selection, &config, progress, incremental)?;
    let verifications = pipeline::verify(&mut outcome, config.verify.as_ref());
    super::emit(&config, &outcome, &verifications)
}

/// The datastore `--datastore` names, opened; refused with a part of history (what it records
/// is a repository's whole history).
pub fn open_datastore(args: &DatastoreArgs, selection: &Selection, config: &Config) -> Result<Option<Datastore>> {
    let Some(path) = &args.datastore else { return Ok(None) };
    if selection.path.is_some() {
        return Err(Error::Usage("--datastore records a whole history: give the repository, not a path in it".into()));
    }
    check_verify(args, config)?;
    Datastore::open(path, args.store_secrets).map(Some)
}

/// Refuses `--verify` with a datastore that holds no secrets: the findings of blobs not read
/// again carry only a redacted form, which no provider can check.
pub fn check_verify(args: &DatastoreArgs, config: &Config) -> Result<()> {
    if config.verify.is_some() && !args.store_secrets {
        return Err(Error::Usage(
            "--verify with a datastore needs --store-secrets (the datastore keeps secrets redacted otherwise)".into(),
        ));
    }
    Ok(())
}

/// The name a repository is recorded under: its canonical path.
pub fn repository_name(root: &Path) -> String {
    std::fs::canonicalize(root).unwrap_or_else(|_| root.to_path_buf()).display().to_string()
}

/// Scans the selected history of `repo` with the configured rules and allowlists; with an
/// `incremental` scan, only the blobs the datastore does not hold are read, the stored
/// findings of the others are re-joined, and the results are recorded.
pub fn scan_history(
    repo: &Repository,
    selection: &Selection,
    config: &Config,
    progress: Option<progress::Display>,
    incremental: Option<Incremental>,
) -> Result<ScanOutcome> {
    let started = Instant::now();
    let plan = history::plan(repo, selection)?;
    let matcher = Matcher::new(config.rules.clone());
    let driver = Driver::new(&matcher, &config.expand, config.threads);
    let counters = Counters::default();
    let known = incremental.as_ref().map(Incremental::known);
    let blobs = Blobs { repo, plan: &plan, counters: &counters, max_file_size: config.max_file_size, known };
    let line = || progress_line(&counters, driver.counters(), started);
    let Scanned { mut sink, read, output } = progress::while_running(progress, line, || driver.drive(blobs))??;
    let raw: Vec<Finding> = match &incremental {
        Some(incremental) => {
            let raw = sink.findings.iter().filter(|finding| !finding.provenance.origin.is_message()).cloned().collect();
            sink.findings.extend(incremental.recall(&output.recalled, config)?);
            raw
        }
        None => Vec::new(),
    };
    let unattributed = attribute(&mut sink.findings, repo, &mut driver.scanner());
    count_occurrences(&mut sink.findings, &output.places);
    sink.findings = earliest_per_file(std::mem::take(&mut sink.findings), &plan.commits);
    let mut stats = Summary { plan: &plan, selection, enumeration: output }.stats();
    stats.merge(read);
    stats.errors.extend(unattributed);
    let outcome = ScanOutcome::new(sink, &config.filters, stats, started.elapsed());
    if let Some(incremental) = incremental {
        incremental.finish(&raw, &outcome.findings)?;
    }
    Ok(outcome)
}

/// The progress line: where the walk and the scan are.
fn progress_line(walk: &Counters, scan: &driver::Counters, started: Instant) -> String {
    let load = |counter: &AtomicU64| counter.load(Ordering::Relaxed);
    format!(
        "keyhound: commits {}/{}, blobs {} found, {} scanned ({})",
        load(&walk.commits_walked),
        load(&walk.commits_total),
        load(&walk.blobs_found),
        scan.blobs(),
        progress::bytes_and_rate(scan.bytes(), started)
    )
}
