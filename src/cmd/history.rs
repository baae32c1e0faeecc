//! `keyhound history [REPO]`: every blob and message in a repository's history (or in what a
//! range of commits introduced), each scanned once and attributed to the commit that
//! introduced it. A remote REPO is cloned first (`crate::source::remote`) and its clone
//! removed when the scan is done. The steps: plan, drive (enumerate and scan), attribute,
//! count occurrences, keep the earliest per file, summarise, and (grouped by secret, the
//! default) find where each secret is today; with `--pre-push`, a blocked push then says how
//! to rewrite the commits that added the keys ([`super::pre_push`]).

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use git2::{Oid, Repository};

use super::progress;
use crate::cli::{DatastoreArgs, GlobalArgs, GroupBy, HistoryArgs};
use crate::config::Config;
use crate::datastore::{Datastore, Incremental};
use crate::driver::history::{attribute, blobs_by_secret, copies, count_occurrences, earliest_per_file};
use crate::driver::{self, Driver, Scanned};
use crate::error::{Error, Result};
use crate::exit::ExitStatus;
use crate::finding::Finding;
use crate::matcher::Matcher;
use crate::pipeline::group::Secrets;
use crate::pipeline::{self, ScanOutcome};
use crate::report;
use crate::source::history::{self, Blobs, Counters, Plan, Selection, Summary};
use crate::source::remote::{self, CloneOptions, ClonedRepo, RemoteUrl};

/// Runs the command.
pub(crate) fn run(args: &HistoryArgs, global: &GlobalArgs) -> Result<ExitStatus> {
    let url = args.repo.as_deref().map(remote_url).transpose()?.flatten();
    if url.is_none() && (args.clone_dir.is_some() || args.keep_clone) {
        return Err(Error::Usage("--clone-dir and --keep-clone apply to a repository URL only".into()));
    }
    let clone = url.as_ref().map(|url| remote::clone_mirror(url, &clone_options(args))).transpose()?;
    let (repo, workdir_anchor) = open(clone.as_ref().map_or(args.repo.as_deref(), |clone| Some(clone.path())))?;
    // A clone has no work tree to hold a `.keyhound.toml`: the user's is found from where they
    // run keyhound, never from a temporary directory's parents.
    let (anchor, base) = match &clone {
        Some(_) => (PathBuf::from("."), None),
        None => (workdir_anchor, repo.workdir()),
    };
    let mut config = Config::resolve(global, &anchor)?;
    let root = clone.is_none().then(|| anchor.clone());
    super::place_report(&mut config, report::Command::History, base, || root);
    config.report.fix_follows = args.pre_push;
    let path = match (&clone, args.repo.as_deref()) {
        (None, Some(given)) => history::path_within(&repo, given)?,
        _ => None,
    };
    let selection = Selection {
        range: args.range.clone().or_else(|| args.since.as_ref().map(|rev| format!("{rev}..HEAD"))),
        exclude_remotes: args.exclude_remotes,
        path,
        unreachable: args.unreachable,
    };
    let progress = progress::Display::choose(args.progress, config.quiet);
    let grouped = args.group_by == GroupBy::Secret;
    let mut store = open_datastore(&args.store, &selection, &config)?;
    let incremental = match &mut store {
        // A clone is recorded under its URL (credentials redacted): the same from run to run.
        Some(store) => {
            let name = url.as_ref().map_or_else(|| repository_name(&anchor), ToString::to_string);
            Some(Incremental::start(store, &name, &config)?)
        }
        None => None,
    };
    let mut outcome = scan(&repo, &selection, &config, progress, grouped, incremental)?;
    if let (Some(url), Some(clone)) = (&url, &clone) {
        outcome.stats.notes.push(clone_note(url, clone));
    }
    let verifications = pipeline::verify(&mut outcome, config.verify.as_ref());
    let status = super::emit(&config, &outcome, &verifications)?;
    if let (true, ExitStatus::Findings, false, Some(range)) = (args.pre_push, status, config.quiet, &selection.range) {
        super::pre_push::explain(&repo, range, &outcome.findings);
    }
    Ok(status)
}

/// The remote `repo` names, if it is a URL rather than a path.
fn remote_url(repo: &Path) -> Result<Option<RemoteUrl>> {
    repo.to_str().map_or(Ok(None), RemoteUrl::classify)
}

fn clone_options(args: &HistoryArgs) -> CloneOptions {
    CloneOptions {
        dir: args.clone_dir.clone(),
        keep: args.keep_clone,
        timeout: Duration::from_secs(args.clone_timeout),
    }
}

/// What the summary says of a remote scan: which URL, and where its clone stays if kept.
fn clone_note(url: &RemoteUrl, clone: &ClonedRepo) -> String {
    if clone.is_kept() {
        format!("scanned {url} (a mirror clone, kept at {})", clone.path().display())
    } else {
        format!("scanned {url} (a mirror clone, removed after the scan)")
    }
}

/// Opens the repository at or above `path` (default: the current directory's), with the
/// directory its configuration is looked for in: its work tree, or a bare one's git directory.
pub(crate) fn open(path: Option<&Path>) -> Result<(Repository, PathBuf)> {
    let repo = history::open(path)?;
    let anchor = repo.workdir().unwrap_or_else(|| repo.path()).to_path_buf();
    Ok((repo, anchor))
}

/// The datastore `--datastore` names, opened; refused with a part of history (what it records
/// is a repository's whole history).
pub(crate) fn open_datastore(
    args: &DatastoreArgs,
    selection: &Selection,
    config: &Config,
) -> Result<Option<Datastore>> {
    let Some(path) = &args.datastore else { return Ok(None) };
    if selection.path.is_some() {
        return Err(Error::Usage("--datastore records a whole history: give the repository, not a path in it".into()));
    }
    check_verify(args, config)?;
    Datastore::open(path, args.store_secrets).map(Some)
}

/// Refuses `--verify` with a datastore that holds no secrets: the findings of blobs not read
/// again carry only a redacted form, which no provider can check.
pub(crate) fn check_verify(args: &DatastoreArgs, config: &Config) -> Result<()> {
    if config.verify.is_some() && !args.store_secrets {
        return Err(Error::Usage(
            "--verify with a datastore needs --store-secrets (the datastore keeps secrets redacted otherwise)".into(),
        ));
    }
    Ok(())
}

/// The name a repository is recorded under: its canonical path.
pub(crate) fn repository_name(root: &Path) -> String {
    std::fs::canonicalize(root).unwrap_or_else(|_| root.to_path_buf()).display().to_string()
}

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
fn scan(
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
