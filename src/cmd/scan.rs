//! `keyhound scan [PATH]...`: the working tree.

use std::path::{Path, PathBuf};
use std::time::Instant;

use crate::cli::{GlobalArgs, ScanArgs};
use crate::config::Config;
use crate::error::Result;
use crate::exit::ExitStatus;
use crate::matcher::Matcher;
use crate::report;
use crate::scan::{BlobScanner, FindingSink, ScanOutcome, SharedSink};
use crate::source::display_path;
use crate::source::worktree::{self, WalkOptions};

/// Runs the command.
pub fn run(args: &ScanArgs, global: &GlobalArgs) -> Result<ExitStatus> {
    let roots = if args.paths.is_empty() { vec![PathBuf::from(".")] } else { args.paths.clone() };
    let mut config = Config::resolve(global, &roots[0])?;
    config.report.command = report::Command::Scan;
    config.report.checkout = super::checkout(std::env::current_dir().ok().as_deref(), &roots[0]);
    let options = WalkOptions {
        respect_ignore_files: !args.no_ignore,
        max_file_size: config.max_file_size,
        threads: config.threads,
    };
    let outcome = scan_paths(&roots, &options, &config)?;
    super::emit(&config, &outcome)
}

/// Scans files and trees with the configured rules and allowlists.
pub fn scan_paths(roots: &[PathBuf], options: &WalkOptions, config: &Config) -> Result<ScanOutcome> {
    let started = Instant::now();
    let matcher = Matcher::new(config.rules.clone());
    let shared = SharedSink::default();
    let stats = worktree::walk(roots, options, || {
        let mut scanner = BlobScanner::new(&matcher, &config.expand);
        let mut local = FindingSink::default();
        let shared = &shared;
        move |path: &Path, bytes: &[u8]| {
            scanner.scan(bytes, || display_path(path), &mut local);
            shared.flush(&mut local);
        }
    })?;
    Ok(ScanOutcome::new(shared.into_inner(), &config.filters, stats, started.elapsed()))
}
