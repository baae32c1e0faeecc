//! The scan of `keyhound history`: plan, drive (enumerate and scan), re-join what a datastore
//! already holds, attribute, count occurrences, keep the earliest per file, summarise, and,
//! grouped by secret, find where each secret is today.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use git2::{Oid, Repository};

use crate::cmd::progress;
use crate::config::Config;
use crate::datastore::Incremental;
use crate::driver::history::{attribute, blobs_by_secret, copies, count_occurrences, earliest_per_file};
use crate::driver::{self, Driver, Scanned};
use crate::error::Result;
use crate::finding::Finding;
use crate::matcher::Matcher;
use crate::pipeline::group::Secrets;
use crate::pipeline::ScanOutcome;
use crate::source::history::{self, Blobs, Counters, Plan, Selection, Summary};

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
    let plan = history::plan(repo, selection)?;
    let matcher = Matcher::new(config.rules.clone());
    let driver = Driver::new(&matcher, &config.expand, config.threads);
    let counters = Counters::default();
    let known = incremental.as_ref().map(Incremental::known);
    let blobs = Blobs { repo, plan: &plan, counters: &counters, max_file_size: config.max_file_size, known };
    let line = || progress_line(&counters, driver.counters(), started);
    let Scanned { mut sink, read, mut output } = progress::while_running(progress, line, || driver.drive(blobs))??;
    let raw: Vec<Finding> = match &incremental {
        Some(incremental) => {
            let raw = sink.findings.iter().filter(|finding| !finding.provenance.origin.is_message()).cloned().collect();
            sink.findings.extend(incremental.recall(&output.recalled, config)?);
            raw
        }
        None => Vec::new(),
    };
    let mut unattributed = attribute(&mut sink.findings, repo, &mut driver.scanner());
    count_occurrences(&mut sink.findings, &output.places);
    let held = grouped.then(|| Held {
        blobs: blobs_by_secret(&sink.findings),
        copies: copies(&sink.findings, &std::mem::take(&mut output.copies), &plan.commits),
    });
    sink.findings = earliest_per_file(std::mem::take(&mut sink.findings), &plan.commits);
    let mut stats = Summary { plan: &plan, selection, enumeration: output }.stats();
    stats.merge(read);
    let secrets = held.map(|mut held| {
        unattributed.extend(attribute(&mut held.copies, repo, &mut driver.scanner()));
        held.copies = config.filters.apply(held.copies, Vec::new()).kept;
        held
    });
    stats.errors.extend(unattributed);
    let mut outcome = ScanOutcome::new(sink, &config.filters, stats, started.elapsed());
    if let Some(held) = secrets {
        outcome.secrets = Some(held.secrets(repo, &plan, &outcome.findings));
        outcome.elapsed = started.elapsed();
    }
    if let Some(incremental) = incremental {
        incremental.finish(&raw, &outcome.findings)?;
    }
    Ok(outcome)
}

/// What a scan grouped by secret keeps of the findings before keeping the earliest per file.
struct Held {
    /// The blobs holding each secret.
    blobs: HashMap<String, Vec<Oid>>,
    /// The findings at the other paths of the blobs holding one.
    copies: Vec<Finding>,
}

impl Held {
    /// What history knows of each `reported` secret: where it is today, the order of the
    /// plan's commits, and its copies.
    fn secrets(mut self, repo: &Repository, plan: &Plan, reported: &[Finding]) -> Secrets {
        let kept: HashSet<&str> = reported.iter().map(|finding| finding.fingerprint.as_str()).collect();
        self.blobs.retain(|fingerprint, _| kept.contains(fingerprint.as_str()));
        self.copies.retain(|copy| kept.contains(copy.fingerprint.as_str()));
        Secrets {
            exposure: history::exposure(repo, &plan.commits, &self.blobs),
            order: plan.commits.iter().enumerate().map(|(place, id)| (*id, place)).collect(),
            copies: self.copies,
        }
    }
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
