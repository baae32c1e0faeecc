//! The scan of `keyhound history`: plan, drive (enumerate and scan), re-join what a datastore
//! already holds, attribute, count occurrences, keep the earliest per file, summarise, and,
//! grouped by secret, find where each secret is today.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use git2::Repository;

use crate::cmd::progress;
use crate::config::Config;
use crate::datastore::Incremental;
use crate::driver::history::{attribute, blobs_by_secret, copies, count_occurrences, earliest_per_file};
use crate::driver::{self, Driver, Scanned};
use crate::error::Result;
use crate::finding::Finding;
use crate::matcher::Matcher;
use crate::pipeline::group::Secrets;
use crate::pipeline::{Collected, ScanOutcome};
use crate::source::history::{self, Blobs, Counters, Selection, Summary};

/// Scans the selected history of `repo` with the configured rules and allowlists; with an
/// `incremental` scan, only the blobs the datastore does not hold are read, the stored
/// findings of the others are re-joined, and the results are recorded.
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

/// With a datastore: its answer for an unchanged history, else a scan of the blobs it does not
/// hold with the findings of the others re-joined; recorded either way.
fn scan_incremental(
    repo: &Repository,
    selection: &Selection,
    config: &Config,
    progress: Option<progress::Display>,
    grouped: bool,
    incremental: Incremental,
) -> Result<ScanOutcome> {
    let incremental = match answer(incremental, config)? {
        Answer::Unchanged(outcome) => return Ok(outcome),
        Answer::Scan(incremental) => incremental,
    };
    let (collected, raw) = collect(repo, selection, config, progress, grouped, Some(&incremental))?;
    let snapshot = incremental.snapshot(&collected);
    let outcome = collected.filter(&config.filters);
    incremental.finish(&raw, snapshot, &outcome.findings)?;
    Ok(outcome)
}

/// Plans, drives (enumerates and scans), re-joins what a datastore already holds, attributes,
/// counts occurrences, keeps the earliest per file and summarises; grouped, also finds where
/// each secret is today. Returns what was collected and, with a datastore, the scanner's
/// findings in the blobs it read (what the datastore records of them).
fn collect(
    repo: &Repository,
    selection: &Selection,
    config: &Config,
    progress: Option<progress::Display>,
    grouped: bool,
    incremental: Option<&Incremental>,
) -> Result<(Collected, Vec<Finding>)> {
    let started = Instant::now();
    let plan = history::plan(repo, selection)?;
    let matcher = Matcher::new(config.rules.clone());
    let driver = Driver::new(&matcher, &config.expand, config.threads);
    let counters = Counters::default();
    let known = incremental.map(Incremental::known);
    let blobs = Blobs { repo, plan: &plan, counters: &counters, max_file_size: config.max_file_size, known };
    let line = || progress_line(&counters, driver.counters(), started);
    let Scanned { mut sink, read, mut output } = progress::while_running(progress, line, || driver.drive(blobs))??;
    let raw: Vec<Finding> = match incremental {
        Some(incremental) => {
            let raw = sink.findings.iter().filter(|finding| !finding.provenance.origin.is_message()).cloned().collect();
            sink.findings.extend(incremental.recall(&output.recalled, config)?);
            raw
        }
        None => Vec::new(),
    };
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
    Ok((Collected { sink, stats, secrets }, raw))
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
