//! `keyhound history [REPO]`: every blob and message in a repository's history (or in what a
//! range of commits introduced), each scanned once and attributed to the commit that
//! introduced it.
//!
//! The enumerator walks commits on the calling thread and streams items through a bounded
//! channel to a rayon pool, where each worker holds its own `git2::Repository` (it is `Send`,
//! not `Sync`) and reads each blob only when it scans it: memory holds blob ids and counts,
//! never the blobs.

use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::sync::atomic::Ordering;
use std::sync::{mpsc, Arc, Mutex};
use std::time::Instant;

use git2::{Oid, Repository};
use rayon::iter::{ParallelBridge, ParallelIterator};

use super::progress;
use crate::cli::{GlobalArgs, HistoryArgs};
use crate::config::Config;
use crate::error::{Plain, RepoHint, Result};
use crate::exit::ExitStatus;
use crate::filter::DropReason;
use crate::finding::{CommitInfo, Finding};
use crate::matcher::Matcher;
use crate::pipeline::{self, ScanOutcome};
use crate::report;
use crate::scan::{BlobScanner, ExpandOptions, FindingSink};
use crate::source::git::{read_blob, reopen, BlobRead};
use crate::source::history::{self, Counters, Enumeration, Item, Plan, Selection};
use crate::source::{SkipReason, Skipped, SourceStats};
use crate::threads;

/// Items handed to the scanners at once (fewer channel hand-offs between threads).
const BATCH: usize = 32;

/// Batches queued between the enumerator and the scanners (bounds memory).
const QUEUE_DEPTH: usize = 32;

/// Runs the command.
pub fn run(args: &HistoryArgs, global: &GlobalArgs) -> Result<ExitStatus> {
    let repo = history::open(args.repo.as_deref())?;
    let anchor = repo.workdir().unwrap_or_else(|| repo.path()).to_path_buf();
    let mut config = Config::resolve(global, &anchor)?;
    super::place_report(&mut config, report::Command::History, repo.workdir(), || Some(anchor.clone()));
    let selection = Selection {
        range: args.range.clone().or_else(|| args.since.as_ref().map(|rev| format!("{rev}..HEAD"))),
        exclude_remotes: args.exclude_remotes,
        path: args.repo.as_deref().map(|given| history::path_within(&repo, given)).transpose()?.flatten(),
    };
    let progress = progress::Display::choose(args.progress, config.quiet);
    let mut outcome = scan_history(&repo, &selection, &config, progress)?;
    let verifications = pipeline::verify(&mut outcome, config.verify.as_ref());
    super::emit(&config, &outcome, &verifications)
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
    let counters = Counters::default();
    let collector = Collector::default();
    let line = || progress_line(&counters, started);
    let enumeration =
        progress::while_running(progress, line, || scan_items(repo, &plan, config, &counters, &collector))??;
    let collected = collector.0.into_inner().expect("scanner threads have finished");
    let findings = earliest_per_file(with_occurrences(collected.findings, &enumeration.places), &plan.commits);
    let stats = source_stats(&plan, selection, enumeration, &counters, collected.skipped, collected.errors);
    let sink = FindingSink { findings, dropped: collected.dropped, stats: collected.nested };
    Ok(ScanOutcome::new(sink, &config.filters, stats, started.elapsed()))
}

/// Enumerates on this thread and scans on a pool of `config.threads` workers.
fn scan_items(
    repo: &Repository,
    plan: &Plan,
    config: &Config,
    counters: &Counters,
    collector: &Collector,
) -> Result<Enumeration> {
    let matcher = Matcher::new(config.rules.clone());
    let pool = threads::pool(config.threads)?;
    let git_dir = repo.path();
    let (sender, receiver) = mpsc::sync_channel::<Vec<Item>>(QUEUE_DEPTH);
    std::thread::scope(|scope| {
        threads::spawn_scoped(scope, "the history scanner", || {
            pool.install(|| {
                receiver.into_iter().par_bridge().for_each_init(
                    || Worker::new(git_dir, &matcher, &config.expand, config.max_file_size),
                    |worker, batch| batch.into_iter().for_each(|item| worker.scan(item, counters, collector)),
                )
            })
        })?;
        // A send fails only if the scanners are gone, which the scope join reports.
        let mut batch = Vec::with_capacity(BATCH);
        let enumeration = history::enumerate(repo, plan, counters, |item| {
            batch.push(item);
            if batch.len() == BATCH {
                drop(sender.send(std::mem::replace(&mut batch, Vec::with_capacity(BATCH))));
            }
        });
        drop(sender.send(batch));
        // Closing the channel ends the scanners' loop.
        drop(sender);
        Ok(enumeration)
    })
}

/// Where a finding sits, for counting the places that hold a secret.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Place {
    /// A blob (which may sit at several paths).
    Blob(Oid),
    /// The message of this commit or tag.
    Message(Oid),
}

/// What the scanner threads gather.
#[derive(Debug, Default)]
struct Collected {
    findings: Vec<(Place, Finding)>,
    dropped: Vec<DropReason>,
    skipped: Vec<Skipped>,
    errors: Vec<String>,
    /// What the scanners counted inside blobs (archive members, decoded texts).
    nested: SourceStats,
}

#[derive(Debug, Default)]
struct Collector(Mutex<Collected>);

impl Collector {
    fn with<T>(&self, change: impl FnOnce(&mut Collected) -> T) -> T {
        change(&mut self.0.lock().expect("no thread panics while holding the lock"))
    }
}

/// One scanner thread's state.
struct Worker<'m> {
    /// The repository, or why it could not be opened.
    repo: std::result::Result<Repository, String>,
    scanner: BlobScanner<'m>,
    local: FindingSink,
    max_file_size: u64,
}

impl<'m> Worker<'m> {
    fn new(git_dir: &Path, matcher: &'m Matcher, expand: &ExpandOptions, max_file_size: u64) -> Self {
        Worker {
            repo: reopen(git_dir).map_err(|e| e.into_error(git_dir, RepoHint::PassRepository).to_string()),
            scanner: BlobScanner::new(matcher, expand),
            local: FindingSink::default(),
            max_file_size,
        }
    }

    fn scan(&mut self, item: Item, counters: &Counters, collector: &Collector) {
        let repo = match &self.repo {
            Ok(repo) => repo,
            Err(e) => return collector.with(|c| c.errors.push(e.clone())),
        };
        let (place, origin) = match item {
            Item::Blob { id, path, origin } => {
                let odb = match repo.odb() {
                    Ok(odb) => odb,
                    Err(e) => {
                        return collector
                            .with(|c| c.errors.push(format!("cannot open the object database: {}", Plain(&e))))
                    }
                };
                match read_blob(&odb, id, self.max_file_size) {
                    Ok(BlobRead::Read(blob)) => {
                        counters.blobs_scanned.fetch_add(1, Ordering::Relaxed);
                        counters.bytes_scanned.fetch_add(blob.len() as u64, Ordering::Relaxed);
                        self.scanner.scan(blob.data(), || path, &mut self.local);
                    }
                    Ok(BlobRead::TooLarge(size)) => {
                        let skipped = Skipped {
                            path: format!("{origin:.12}:{path}").into(),
                            reason: SkipReason::TooLarge { size },
                        };
                        return collector.with(|c| c.skipped.push(skipped));
                    }
                    Err(e) => {
                        let error = format!("blob {id} ({path} in commit {origin}): {}", Plain(&e));
                        return collector.with(|c| c.errors.push(error));
                    }
                }
                (Place::Blob(id), origin)
            }
            Item::Message { text, path, origin } => {
                self.scanner.scan(&text, || path, &mut self.local);
                (Place::Message(origin), origin)
            }
        };
        if !self.local.stats.is_empty() {
            // Archive members and decoded texts scanned, and what in them was skipped.
            let nested = std::mem::take(&mut self.local.stats);
            collector.with(|c| c.nested.merge(nested));
        }
        if !self.local.findings.is_empty() || !self.local.dropped.is_empty() {
            attribute(&mut self.scanner, &mut self.local, repo, (place, origin), collector);
        }
    }
}

/// Moves one item's findings to the collector, attributed to `origin` (whose author and
/// message are shown redacted: people paste keys into commit messages), and its drops. The
/// commit is read only when there are findings to attribute: drops (inline allows) need none.
fn attribute(
    scanner: &mut BlobScanner,
    local: &mut FindingSink,
    repo: &Repository,
    (place, origin): (Place, Oid),
    collector: &Collector,
) {
    let commit = if local.findings.is_empty() {
        None
    } else {
        match history::describe(repo, origin) {
            Ok(origin) => Some(Arc::new(redacted(scanner, origin))),
            Err(e) => {
                collector.with(|c| c.errors.push(format!("commit {origin}: {}", Plain(&e))));
                None
            }
        }
    };
    let findings = local.findings.drain(..).map(|finding| (place, Finding { commit: commit.clone(), ..finding }));
    collector.with(|c| {
        c.findings.extend(findings);
        c.dropped.append(&mut local.dropped);
    });
}

/// The commit (or tag) as reports show it: its author, email and whole message redacted
/// together, then the summary line taken from the redacted message.
fn redacted(scanner: &mut BlobScanner, origin: history::Origin) -> CommitInfo {
    let [author, email, message] = scanner.redact_fields([&origin.name, &origin.email, &origin.message]);
    CommitInfo { id: origin.id, author, email, date: origin.date, summary: history::summary(message.as_bytes()) }
}

/// Keeps, of the findings of one secret in one file, those from the oldest commit. A key that
/// stays in a file while other lines change is in every later version's blob, but was
/// introduced once. Messages (`<commit message>`, `<tag message: …>`) are each their own place.
fn earliest_per_file(findings: Vec<Finding>, commits: &[Oid]) -> Vec<Finding> {
    let order: HashMap<String, usize> = commits.iter().enumerate().map(|(i, id)| (id.to_string(), i)).collect();
    let rank =
        |finding: &Finding| finding.commit.as_ref().and_then(|c| order.get(&c.id)).copied().unwrap_or(usize::MAX);
    let mut kept = Vec::new();
    let mut by_file: HashMap<(String, String), Vec<Finding>> = HashMap::new();
    for finding in findings {
        if finding.path.starts_with('<') {
            kept.push(finding);
        } else {
            by_file.entry((finding.fingerprint.clone(), finding.path.clone())).or_default().push(finding);
        }
    }
    for group in by_file.into_values() {
        let oldest = group.iter().map(rank).min().unwrap_or(usize::MAX);
        kept.extend(group.into_iter().filter(|finding| rank(finding) == oldest));
    }
    kept
}

/// Sets each finding's `occurrences`: the places in the scanned history that hold the same
/// secret (every distinct path of every blob holding it, and every message).
fn with_occurrences(found: Vec<(Place, Finding)>, places: &HashMap<Oid, u32>) -> Vec<Finding> {
    let mut counted: HashSet<(&str, Place)> = HashSet::new();
    let mut totals: HashMap<&str, usize> = HashMap::new();
    for (place, finding) in &found {
        if counted.insert((&finding.fingerprint, *place)) {
            let weight = match place {
                Place::Blob(id) => places.get(id).map_or(1, |&n| n as usize),
                Place::Message(_) => 1,
            };
            *totals.entry(&finding.fingerprint).or_default() += weight;
        }
    }
    let totals: HashMap<String, usize> = totals.into_iter().map(|(k, v)| (k.to_string(), v)).collect();
    found
        .into_iter()
        .map(|(_, finding)| Finding { occurrences: totals.get(&finding.fingerprint).copied(), ..finding })
        .collect()
}

fn source_stats(
    plan: &Plan,
    selection: &Selection,
    enumeration: Enumeration,
    counters: &Counters,
    skipped: Vec<Skipped>,
    mut errors: Vec<String>,
) -> SourceStats {
    let mut warnings = plan.warnings.clone();
    let mut notes = Vec::new();
    match &selection.range {
        None if plan.commits.is_empty() => warnings.push("the repository has no commits: nothing to scan".into()),
        Some(range) if plan.commits.is_empty() => notes.push(format!("the range {range} holds no commits")),
        _ if selection.path.is_some() => notes.push(format!(
            "scanned the history of {} only (as `git log -- PATH` shows it): {} commit(s) changed it",
            selection.path.as_deref().unwrap_or_default(),
            enumeration.commit_messages
        )),
        _ => notes.push(format!(
            "scanned {} commit(s): their distinct blobs, {} commit message(s) and {} annotated tag message(s)",
            plan.commits.len(),
            enumeration.commit_messages,
            enumeration.tag_messages
        )),
    }
    if enumeration.gitlinks > 0 {
        notes.push(format!(
            "{} submodule commit(s) (gitlinks) not followed; scan submodules as repositories of their own",
            enumeration.gitlinks
        ));
    }
    errors.splice(0..0, plan.errors.iter().cloned().chain(enumeration.errors));
    SourceStats {
        blobs: counters.blobs_scanned.load(Ordering::Relaxed),
        bytes: counters.bytes_scanned.load(Ordering::Relaxed),
        skipped,
        errors,
        warnings,
        notes,
        ..SourceStats::default()
    }
}

/// The progress line: where the walk and the scan are.
fn progress_line(counters: &Counters, started: Instant) -> String {
    let load = |counter: &std::sync::atomic::AtomicU64| counter.load(Ordering::Relaxed);
    format!(
        "keyhound: commits {}/{}, blobs {} found, {} scanned ({})",
        load(&counters.commits_walked),
        load(&counters.commits_total),
        load(&counters.blobs_found),
        load(&counters.blobs_scanned),
        progress::bytes_and_rate(load(&counters.bytes_scanned), started)
    )
}
