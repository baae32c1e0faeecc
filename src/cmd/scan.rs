//! `keyhound scan [PATH]...`: the working tree, and standard input (`-`) or a FIFO or device
//! named on the command line. Also what `baseline create` scans.

use std::time::Instant;

use super::progress;
use crate::cli::{CommandOptions, ScanArgs};
use crate::config::Config;
use crate::driver::Driver;
use crate::error::Result;
use crate::exit::ExitStatus;
use crate::matcher::Matcher;
use crate::pipeline::{self, ScanOutcome};
use crate::report;
use crate::scan::FindingSink;
use crate::source::stdin::{Streams, Targets};
use crate::source::worktree::{Walk, WalkOptions};
use crate::source::SourceStats;

/// Runs the command.
pub(crate) fn run(args: &ScanArgs, chosen: &CommandOptions) -> Result<ExitStatus> {
    let targets = Targets::of(&args.paths, args.stdin_name.as_deref())?;
    let anchor = targets.anchor.clone();
    let mut config = Config::resolve(chosen, &anchor)?;
    let repository = || crate::source::git::locate(&anchor).ok().flatten().map(|location| location.root);
    super::place_report(&mut config, report::Command::Scan, std::env::current_dir().ok().as_deref(), repository);
    let options = WalkOptions { respect_ignore_files: !args.no_ignore, max_file_size: config.max_file_size };
    let progress = progress::Display::choose(args.progress, config.quiet);
    let mut outcome = scan_targets(&targets, &options, &config, progress)?;
    outcome.stats.warnings.extend(targets.unread_stdin());
    let verifications = pipeline::verify(&mut outcome, config.verify.as_ref());
    super::emit(&config, &outcome, &verifications)
}

/// Scans the targets with the configured rules and allowlists.
pub(crate) fn scan_targets(
    targets: &Targets,
    options: &WalkOptions,
    config: &Config,
    progress: Option<progress::Display>,
) -> Result<ScanOutcome> {
    let started = Instant::now();
    let matcher = Matcher::new(config.rules.clone());
    let driver = Driver::new(&matcher, &config.expand, config.threads);
    let counters = driver.counters();
    let line = || {
        let bytes = progress::bytes_and_rate(counters.bytes(), started);
        format!("keyhound: files {} scanned ({bytes})", counters.blobs())
    };
    let (sink, stats) = progress::while_running(progress, line, || drive(&driver, targets, options, config))??;
    Ok(ScanOutcome::new(sink, &config.filters, stats, started.elapsed()))
}

/// Walks the trees, then reads the streams.
fn drive(
    driver: &Driver,
    targets: &Targets,
    options: &WalkOptions,
    config: &Config,
) -> Result<(FindingSink, SourceStats)> {
    let mut parts = Vec::new();
    if !targets.trees.is_empty() {
        parts.push(driver.drive(Walk { roots: &targets.trees, options })?.into_parts());
    }
    if !targets.streams.is_empty() {
        parts.push(driver.drive(Streams { inputs: &targets.streams, max_size: config.max_file_size })?.into_parts());
    }
    let mut all = (FindingSink::default(), SourceStats::default());
    for (mut sink, stats) in parts {
        all.0.absorb(&mut sink);
        all.1.merge(stats);
    }
    Ok(all)
}
