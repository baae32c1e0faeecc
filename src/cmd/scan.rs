//! `keyhound scan [PATH]...`: the working tree, and standard input (`-`) or a FIFO or device
//! named on the command line.

use std::path::{Path, PathBuf};
use std::time::Instant;

use super::progress;
use crate::cli::{GlobalArgs, ScanArgs};
use crate::config::Config;
use crate::driver::Driver;
use crate::error::{Error, Result};
use crate::exit::ExitStatus;
use crate::matcher::Matcher;
use crate::report;
use crate::scan::{FindingSink, ScanOutcome};
use crate::source::stdin::{self, Input, Streams};
use crate::source::worktree::{Walk, WalkOptions};
use crate::source::SourceStats;

/// Runs the command.
pub fn run(args: &ScanArgs, global: &GlobalArgs) -> Result<ExitStatus> {
    let targets = Targets::of(&args.paths, args.stdin_name.as_deref())?;
    let anchor = targets.anchor().to_path_buf();
    let mut config = Config::resolve(global, &anchor)?;
    let repository = || crate::source::git::locate(&anchor).ok().flatten().map(|location| location.root);
    super::place_report(&mut config, report::Command::Scan, std::env::current_dir().ok().as_deref(), repository);
    let options = WalkOptions { respect_ignore_files: !args.no_ignore, max_file_size: config.max_file_size };
    let progress = progress::Display::choose(args.progress, config.quiet);
    let mut outcome = scan_targets(&targets, &options, &config, progress)?;
    if args.paths.is_empty() && stdin::stdin_is_pipe() {
        outcome.stats.warnings.push(
            "standard input is a pipe and was not read: with no PATH, `keyhound scan` scans `.`; \
             `keyhound scan -` reads standard input"
                .into(),
        );
    }
    super::emit(&config, &outcome)
}

/// What to scan: trees to walk, and streams to read whole.
#[derive(Debug)]
pub struct Targets {
    trees: Vec<PathBuf>,
    streams: Vec<Input>,
    anchor: PathBuf,
}

impl Targets {
    /// Sorts the PATHs (`.` when there are none): `-` is standard input (reported under
    /// `stdin_name`, default `-`), a FIFO or character device is a stream, the rest are trees.
    pub fn of(paths: &[PathBuf], stdin_name: Option<&str>) -> Result<Targets> {
        let dashes = paths.iter().filter(|path| path.as_os_str() == stdin::DASH).count();
        if dashes > 1 {
            return Err(Error::Usage("`-` (standard input) can be read only once".into()));
        }
        if dashes == 0 && stdin_name.is_some() {
            return Err(Error::Usage("--stdin-name names standard input, which only `-` among the PATHs reads".into()));
        }
        let default = [PathBuf::from(".")];
        let paths = if paths.is_empty() { &default[..] } else { paths };
        let anchor = paths.iter().find(|path| path.as_os_str() != stdin::DASH).cloned();
        let anchor = anchor.unwrap_or_else(|| PathBuf::from("."));
        let mut targets = Targets { trees: Vec::new(), streams: Vec::new(), anchor };
        for path in paths {
            if path.as_os_str() == stdin::DASH {
                targets.streams.push(Input::Stdin(stdin_name.unwrap_or(stdin::DASH).to_string()));
            } else if stdin::is_stream(path) {
                targets.streams.push(Input::Named(path.clone()));
            } else {
                targets.trees.push(path.clone());
            }
        }
        Ok(targets)
    }

    /// Where the configuration is looked for: the first PATH that is not `-`, else `.`.
    pub fn anchor(&self) -> &Path {
        &self.anchor
    }
}

/// Scans the targets with the configured rules and allowlists.
pub fn scan_targets(
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
    let mut sink = FindingSink::default();
    let mut stats = SourceStats::default();
    if !targets.trees.is_empty() {
        let mut walked = driver.drive(Walk { roots: &targets.trees, options })?;
        stats.merge(walked.stats());
        sink.absorb(&mut walked.sink);
    }
    if !targets.streams.is_empty() {
        let mut read = driver.drive(Streams { inputs: &targets.streams, max_size: config.max_file_size })?;
        stats.merge(read.read);
        sink.absorb(&mut read.sink);
    }
    Ok((sink, stats))
}
