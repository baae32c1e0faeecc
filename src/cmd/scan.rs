//! `keyhound scan [PATH]...`: the working tree.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use super::progress;
use crate::cli::{GlobalArgs, ScanArgs};
use crate::config::Config;
use crate::error::Result;
use crate::exit::ExitStatus;
use crate::matcher::Matcher;
use crate::paths::display_path;
use crate::pipeline::{self, ScanOutcome};
use crate::report;
use crate::scan::{BlobScanner, FindingSink, SharedSink};
use crate::source::worktree::{self, WalkOptions};

/// Runs the command.
pub fn run(args: &ScanArgs, global: &GlobalArgs) -> Result<ExitStatus> {
    let roots = if args.paths.is_empty() { vec![PathBuf::from(".")] } else { args.paths.clone() };
    let mut config = Config::resolve(global, &roots[0])?;
    let repository = || crate::source::git::locate(&roots[0]).ok().flatten().map(|location| location.root);
    super::place_report(&mut config, report::Command::Scan, std::env::current_dir().ok().as_deref(), repository);
    let options = WalkOptions {
        respect_ignore_files: !args.no_ignore,
        max_file_size: config.max_file_size,
        threads: config.threads,
    };
    let progress = progress::Display::choose(args.progress, config.quiet);
    let mut outcome = scan_paths(&roots, &options, &config, progress)?;
    let verifications = pipeline::verify(&mut outcome, config.verify.as_ref());
    super::emit(&config, &outcome, &verifications)
}

/// Files and bytes scanned so far, for the progress display.
#[derive(Debug, Default)]
struct Counters {
    files: AtomicU64,
    bytes: AtomicU64,
}

impl Counters {
    fn add(&self, bytes: &[u8]) {
        self.files.fetch_add(1, Ordering::Relaxed);
        self.bytes.fetch_add(bytes.len() as u64, Ordering::Relaxed);
    }

    /// The progress line.
    fn line(&self, started: Instant) -> String {
        let bytes = progress::bytes_and_rate(self.bytes.load(Ordering::Relaxed), started);
        format!("keyhound: files {} scanned ({bytes})", self.files.load(Ordering::Relaxed))
    }
}

/// Scans files and trees with the configured rules and allowlists.
pub fn scan_paths(
    roots: &[PathBuf],
    options: &WalkOptions,
    config: &Config,
    progress: Option<progress::Display>,
) -> Result<ScanOutcome> {
    let started = Instant::now();
    let matcher = Matcher::new(config.rules.clone());
    let shared = SharedSink::default();
    let counters = Counters::default();
    let line = || counters.line(started);
    let stats = progress::while_running(progress, line, || {
        worktree::walk(roots, options, || {
            let mut scanner = BlobScanner::new(&matcher, &config.expand);
            let mut local = FindingSink::default();
            let (shared, counters) = (&shared, &counters);
            move |path: &Path, bytes: &[u8]| {
                scanner.scan(bytes, || display_path(path), &mut local);
                shared.flush(&mut local);
                counters.add(bytes);
            }
        })
    })??;
    Ok(ScanOutcome::new(shared.into_inner(), &config.filters, stats, started.elapsed()))
}
