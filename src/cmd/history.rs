//! `keyhound history [REPO]`: every blob and message in a repository's history (or in what a
//! range of commits introduced), each scanned once and attributed to the commit that
//! introduced it. The steps: plan, drive (enumerate and scan), attribute, count occurrences,
//! keep the earliest per file, summarise, and (grouped by secret, the default) find where each
//! secret is today.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use git2::{Oid, Repository};

use super::progress;
use crate::cli::{GlobalArgs, GroupBy, HistoryArgs};
use crate::config::Config;
use crate::driver::history::{attribute, blobs_by_secret, copies, count_occurrences, earliest_per_file};
use crate::driver::{self, Driver, Scanned};
use crate::error::Result;
use crate::exit::ExitStatus;
use crate::finding::Finding;
use crate::matcher::Matcher;
use crate::pipeline::group::Secrets;
use crate::pipeline::{self, ScanOutcome};
use crate::report;
use crate::source::history::{self, Blobs, Counters, Plan, Selection, Summary};

/// Runs the command.
pub fn run(args: &HistoryArgs, global: &GlobalArgs) -> Result<ExitStatus> {
    let (repo, anchor) = open(args.repo.as_deref())?;
    let mut config = Config::resolve(global, &anchor)?;
    super::place_report(&mut config, report::Command::History, repo.workdir(), || Some(anchor.clone()));
    let selection = Selection {
        range: args.range.clone().or_else(|| args.since.as_ref().map(|rev| format!("{rev}..HEAD"))),
        exclude_remotes: args.exclude_remotes,
        path: args.repo.as_deref().map(|given| history::path_within(&repo, given)).transpose()?.flatten(),
    };
    let progress = progress::Display::choose(args.progress, config.quiet);
    let grouped = args.group_by == GroupBy::Secret;
    let mut outcome = scan(&repo, &selection, &config, progress, grouped)?;
    let verifications = pipeline::verify(&mut outcome, config.verify.as_ref());
    super::emit(&config, &outcome, &verifications)
}

/// Opens the repository at or above `path` (default: the current directory's), with the
/// directory its configuration is looked for in: its work tree, or a bare one's git directory.
pub fn open(path: Option<&Path>) -> Result<(Repository, PathBuf)> {
    let repo = history::open(path)?;
    let anchor = repo.workdir().unwrap_or_else(|| repo.path()).to_path_buf();
    Ok((repo, anchor))
}

/// Scans the selected history of `repo` with the configured rules and allowlists.
pub fn scan_history(
    repo: &Repository,
    selection: &Selection,
    config: &Config,
    progress: Option<progress::Display>,
) -> Result<ScanOutcome> {
    scan(repo, selection, config, progress, false)
}

/// [`scan_history`]; `grouped`, the outcome also carries what history knows of each secret,
/// for a report of one entry per secret.
fn scan(
    repo: &Repository,
    selection: &Selection,
    config: &Config,
    progress: Option<progress::Display>,
    grouped: bool,
) -> Result<ScanOutcome> {
    let started = Instant::now();
    let plan = history::plan(repo, selection)?;
    let matcher = Matcher::new(config.rules.clone());
    let driver = Driver::new(&matcher, &config.expand, config.threads);
    let counters = Counters::default();
    let blobs = Blobs { repo, plan: &plan, counters: &counters, max_file_size: config.max_file_size };
    let line = || progress_line(&counters, driver.counters(), started);
    let Scanned { mut sink, read, mut output } = progress::while_running(progress, line, || driver.drive(blobs))??;
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
