//! The scan of `keyhound history`: plan, drive (enumerate and scan), re-join what a datastore
//! already holds, attribute, count occurrences, keep the earliest per file, summarise, and,
//! grouped by secret, find where each secret is today.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use git2::Repository;

use crate::cmd::progress;
use crate::config::Config;
use crate::datastore::{Incremental, Unrecorded};
use crate::driver::history::{attribute, blobs_by_secret, copies, count_occurrences, earliest_per_file};
use crate::driver::{self, Driver, Finished, Journal, Scanned};
use crate::error::Result;
use crate::matcher::Matcher;
use crate::pipeline::group::Secrets;
use crate::pipeline::{Collected, ScanOutcome};
use crate::source::history::{self, Blobs, Counters, Known, Selection, Summary};

/// Scans the selected history of `repo` with the configured rules and allowlists; with an
/// `incremental` scan (one [`answer`] did not answer for), only the blobs the datastore does
/// not hold are read, the stored findings of the others are re-joined, and the results are
/// recorded.
pub(crate) fn scan_history(
    repo: &Repository,
    selection: &Selection,
    config: &Config,
    progress: Option<progress::Display>,
    incremental: Option<Incremental>,
) -> Result<ScanOutcome> {
    scan(repo, selection, config, progress, false, incremental)
}

/// [`scan_history`]; `grouped`, the outcome also carries what history knows of each secret,
/// for a report of one entry per secret.
pub(super) fn scan(
    repo: &Repository,
    selection: &Selection,
    config: &Config,
    progress: Option<progress::Display>,
    grouped: bool,
    incremental: Option<Incremental>,
) -> Result<ScanOutcome> {
    let started = Instant::now();
    let outcome = match incremental {
        Some(incremental) => scan_incremental(repo, selection, config, progress, grouped, incremental)?,
        None => collect(repo, selection, config, progress, grouped, None)?.0.filter(&config.filters),
    };
    Ok(ScanOutcome { elapsed: started.elapsed(), ..outcome })
}

/// What a datastore says of a history before it is read.
#[expect(clippy::large_enum_variant, reason = "one answer per repository, moved once")]
pub(crate) enum Answer<'s> {
    /// Nothing it depends on changed since the recorded scan: that scan's results, filtered
    /// now, and recorded.
    Unchanged(ScanOutcome),
    /// It must be scanned (reading only the blobs the datastore does not hold).
    Scan(Incremental<'s>),
}

/// The datastore's answer for an unchanged history, or the incremental scan to run.
pub(crate) fn answer<'s>(mut incremental: Incremental<'s>, config: &Config) -> Result<Answer<'s>> {
    let started = Instant::now();
    let Some(collected) = incremental.unchanged() else { return Ok(Answer::Scan(incremental)) };
    let outcome = collected.filter(&config.filters);
    incremental.finish_unchanged(&outcome.findings)?;
    Ok(Answer::Unchanged(ScanOutcome { elapsed: started.elapsed(), ..outcome }))
}

/// With a datastore: a scan of the blobs it does not hold, with the findings of the others
/// re-joined, recorded. Callers ask [`answer`] first: whether it holds the whole answer.
fn scan_incremental(
    repo: &Repository,
    selection: &Selection,
    config: &Config,
    progress: Option<progress::Display>,
    grouped: bool,
    mut incremental: Incremental,
) -> Result<ScanOutcome> {
    let (collected, rest) = collect(repo, selection, config, progress, grouped, Some(&mut incremental))?;
    let snapshot = incremental.snapshot(&collected);
    let outcome = collected.filter(&config.filters);
    incremental.finish(&rest, snapshot, &outcome.findings)?;
    Ok(outcome)
}

/// Plans, drives (enumerates and scans; with a datastore, checkpointing as it goes), re-joins
/// what a datastore already holds, attributes, counts occurrences, keeps the earliest per file
/// and summarises; grouped, also finds where each secret is today. Returns what was collected
/// and, with a datastore, the blobs scanned whole that no checkpoint recorded, with the
/// scanner's findings in them (what the datastore records of them at the end).
fn collect(
    repo: &Repository,
    selection: &Selection,
    config: &Config,
    progress: Option<progress::Display>,
    grouped: bool,
    mut incremental: Option<&mut Incremental>,
) -> Result<(Collected, Finished)> {
    let started = Instant::now();
    let plan = history::plan(repo, selection)?;
    let matcher = Matcher::new(config.rules.clone());
    let journal = incremental.is_some().then(Journal::default);
    let driver = Driver::new(&matcher, &config.expand, config.threads).journaling(journal.as_ref());
    let counters = Counters::default();
    let line = || progress_line(&counters, driver.counters(), started);
    let drive = |known: Option<&Known>| {
        let blobs = Blobs { repo, plan: &plan, counters: &counters, max_file_size: config.max_file_size, known };
        progress::while_running(progress, line, || driver.drive(blobs))
    };
    let (scanned, unrecorded) = match (&mut incremental, &journal) {
        (Some(incremental), Some(journal)) => incremental.checkpointing(journal, |known| drive(Some(known)))?,
        _ => (drive(None), Unrecorded::default()),
    };
    let Scanned { mut sink, mut read, mut output } = scanned??;
    read.warnings
        .extend(unrecorded.failure.map(|e| format!("checkpoints stopped ({e}): the rest is recorded at the end")));
    if let Some(incremental) = &incremental {
        sink.findings.extend(incremental.recall(&output.recalled, config)?);
    }
    let mut unattributed = attribute(&mut sink.findings, repo, &mut driver.scanner());
    count_occurrences(&mut sink.findings, &output.places);
    let secrets = grouped.then(|| {
        let mut copies = copies(&sink.findings, &std::mem::take(&mut output.copies), &plan.commits);
        unattributed.extend(attribute(&mut copies, repo, &mut driver.scanner()));
        Secrets {
            exposure: history::exposure(repo, &plan.commits, &blobs_by_secret(&sink.findings)),
            order: plan.commits.iter().enumerate().map(|(place, id)| (*id, place)).collect(),
            copies,
        }
    });
    sink.findings = earliest_per_file(std::mem::take(&mut sink.findings), &plan.commits);
    let mut stats = Summary { plan: &plan, selection, enumeration: output }.stats();
    stats.merge(read);
    stats.errors.extend(unattributed);
    Ok((Collected { sink, stats, secrets }, unrecorded.finished))
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
