//! `keyhound history [REPO]`: every blob and message in a repository's history (or in what a
//! range of commits introduced), each scanned once and attributed to the commit that
//! introduced it. The steps: plan, drive (enumerate and scan), attribute, count occurrences,
//! keep the earliest per file, summarise; with `--pre-push`, a blocked push then says how to
//! rewrite the commits that added the keys ([`super::pre_push`]).

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use git2::Repository;

use super::progress;
use crate::cli::{GlobalArgs, HistoryArgs};
use crate::config::Config;
use crate::driver::history::{attribute, count_occurrences, earliest_per_file};
use crate::driver::{self, Driver, Scanned};
use crate::error::Result;
use crate::exit::ExitStatus;
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
    config.report.fix_follows = args.pre_push;
    let selection = Selection {
        range: args.range.clone().or_else(|| args.since.as_ref().map(|rev| format!("{rev}..HEAD"))),
        exclude_remotes: args.exclude_remotes,
        path: args.repo.as_deref().map(|given| history::path_within(&repo, given)).transpose()?.flatten(),
    };
    let progress = progress::Display::choose(args.progress, config.quiet);
    let mut outcome = scan_history(&repo, &selection, &config, progress)?;
    let verifications = pipeline::verify(&mut outcome, config.verify.as_ref());
    let status = super::emit(&config, &outcome, &verifications)?;
    if let (true, ExitStatus::Findings, false, Some(range)) = (args.pre_push, status, config.quiet, &selection.range) {
        super::pre_push::explain(&repo, range, &outcome.findings);
    }
    Ok(status)
}

/// Scans the selected history of `repo` with the configured rules and allowlists.
pub fn scan_history(
    repo: &Repository,
    selection: &Selection,
    config: &Config,
    progress: Option<progress::Display>,
) -> Result<ScanOutcome> {
    let started = Instant::now();
    let plan = history::plan(repo, selection)?;
    let matcher = Matcher::new(config.rules.clone());
    let driver = Driver::new(&matcher, &config.expand, config.threads);
    let counters = Counters::default();
    let blobs = Blobs { repo, plan: &plan, counters: &counters, max_file_size: config.max_file_size };
    let line = || progress_line(&counters, driver.counters(), started);
    let Scanned { mut sink, read, output } = progress::while_running(progress, line, || driver.drive(blobs))??;
    let unattributed = attribute(&mut sink.findings, repo, &mut driver.scanner());
    count_occurrences(&mut sink.findings, &output.places);
    sink.findings = earliest_per_file(std::mem::take(&mut sink.findings), &plan.commits);
    let mut stats = Summary { plan: &plan, selection, enumeration: output }.stats();
    stats.merge(read);
    stats.errors.extend(unattributed);
    Ok(ScanOutcome::new(sink, &config.filters, stats, started.elapsed()))
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
