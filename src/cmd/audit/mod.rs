//! `keyhound audit --repos FILE | DIR`: the whole history of each repository listed (or found
//! under DIR), `--jobs` at a time, each an incremental scan recorded in the datastore (see
//! [`crate::datastore`]), then one report across them (see [`super::report_cmd`]).
//!
//! One configuration serves every repository: the current directory's, never a scanned
//! repository's (a hostile repository must not turn its own rules off). A repository that
//! fails is named with its error and the others go on; the exit status is then 2.

mod listed;
mod slots;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use super::datastore::{check_verify, open_at};
use super::history::{answer, scan_history, Answer};
use super::report_cmd::{self, Audited};
use super::shard::Shard;
use crate::cli::{AuditArgs, CommandOptions, DatastoreArgs};
use crate::config::Config;
use crate::datastore::{Datastore, Incremental, Scope};
use crate::error::Result;
use crate::exit::ExitStatus;
use crate::pipeline;
use crate::source::history::Selection;
use crate::source::remote::{self, CloneOptions};
use listed::{listed, located, Listed};
use slots::Slots;

/// The datastore `audit` writes when `--datastore` names none.
const DEFAULT_DATASTORE: &str = "keyhound.db";

/// How many repositories are looked at together when some are remote, however few `--jobs`
/// scan at once: listing a remote's refs is a network round trip, and an unchanged remote
/// costs nothing more, so a re-audit of a fleet waits on its network eight at a time.
const REMOTE_LOOKUPS: usize = 8;

/// Runs the command.
pub(crate) fn run(args: &AuditArgs, chosen: &CommandOptions) -> Result<ExitStatus> {
    let mut config = Config::resolve(chosen, Path::new("."))?;
    report_cmd::check_format(config.format)?;
    check_verify(&args.store, &config)?;
    let mut targets = listed(args)?;
    if let Some(shard) = &args.shard {
        let shard = Shard::parse(shard, args.shard_count, |name| std::env::var(name).ok())?;
        targets.retain(|(name, _)| shard.owns(name));
    }
    let jobs = usize::from(args.jobs).min(targets.len()).max(1);
    config.threads = (config.threads / jobs).max(1);
    let path = args.store.datastore.clone().unwrap_or_else(|| PathBuf::from(DEFAULT_DATASTORE));
    let store = open_at(&path, &args.store)?;
    let triages = store.triages()?;
    let audit = Audit {
        config: &config,
        datastore: &path,
        store: &args.store,
        scope: Scope::new(&config, None, false),
        scanning: Slots::new(jobs),
    };
    let remote = targets.iter().any(|(_, target)| matches!(target, Listed::Remote(_)));
    let workers = if remote { jobs.max(REMOTE_LOOKUPS).min(targets.len()) } else { jobs };
    let audited = audit_all(&targets, workers, &audit, store);
    report_cmd::emit(&config, audited, &triages, &args.status, None)
}

/// What every repository of an audit shares.
struct Audit<'a> {
    config: &'a Config,
    /// The datastore's path.
    datastore: &'a Path,
    /// How to open it.
    store: &'a DatastoreArgs,
    /// The scope of every repository's scan, but for its own digest.
    scope: Scope,
    /// One for each repository scanned at once (`--jobs`).
    scanning: Slots,
}

/// Audits `targets` with `workers` threads (of which `audit.scanning` lets `--jobs` scan at
/// once), each with its own connection to the datastore: the first takes `store`, already
/// open.
fn audit_all(targets: &[(String, Listed)], workers: usize, audit: &Audit, store: Datastore) -> Vec<Audited> {
    let config = audit.config;
    let next = AtomicUsize::new(0);
    let done = Mutex::new(Vec::with_capacity(targets.len()));
    std::thread::scope(|scope| {
        let mut first = Some(store);
        for _ in 0..workers {
            let (given, next, done) = (first.take(), &next, &done);
            scope.spawn(move || {
                let store = given.map_or_else(|| open_at(audit.datastore, audit.store), Ok);
                let mut store = store.map_err(|e| e.to_string());
                while let Some((name, target)) = targets.get(next.fetch_add(1, Ordering::Relaxed)) {
                    let result = match &mut store {
                        Ok(store) => audit_one(target, audit, store),
                        Err(e) => Err(e.clone()),
                    };
                    let (name, result) = match result {
                        Ok((name, outcome)) => (name, Ok(outcome)),
                        Err(e) => (name.clone(), Err(e)),
                    };
                    let mut done = done.lock().expect("no worker panics while holding the lock");
                    progress(config, &name, done.len() + 1, targets.len());
                    done.push(Audited { name, result });
                }
            });
        }
    });
    done.into_inner().expect("the workers have finished")
}

/// `keyhound: audited NAME (K/N)` on standard error, so a long audit shows where it is.
fn progress(config: &Config, name: &str, count: usize, total: usize) {
    if !config.quiet {
        // Nothing useful can be done if standard error is closed.
        let _ = super::say(&mut std::io::stderr().lock(), &format!("audited {name} ({count}/{total})"));
    }
}

type Scanned = (crate::pipeline::ScanOutcome, crate::verify::Verifications);

/// Scans one repository's whole history into the datastore, or takes the datastore's answer
/// when its history is unchanged (a remote one is then not cloned); returns its name and
/// outcome.
fn audit_one(target: &Listed, audit: &Audit, store: &mut Datastore) -> std::result::Result<(String, Scanned), String> {
    let config = audit.config;
    let mut scan = || -> Result<(String, Scanned)> {
        let target = located(target)?;
        let name = target.name();
        let selection = Selection::default();
        let scope = Scope { tips: target.tips(&selection, remote::DEFAULT_TIMEOUT)?, ..audit.scope.clone() };
        let mut outcome = match answer(Incremental::start(store, &name, scope, config)?, config)? {
            Answer::Unchanged(outcome) => outcome,
            Answer::Scan(incremental) => {
                let _slot = audit.scanning.take();
                // A clone lives in a temporary directory until the scan is done.
                let options = CloneOptions { dir: None, keep: false, timeout: remote::DEFAULT_TIMEOUT };
                let (repo, clone) = target.into_repository(&options)?;
                let mut outcome = scan_history(&repo, &selection, config, None, Some(incremental))?;
                outcome.stats.warnings.extend(clone.iter().flat_map(|(_, clone)| clone.warnings()).cloned());
                outcome
            }
        };
        let verifications = pipeline::verify(&mut outcome, config.verify.as_ref());
        Ok((name, (outcome, verifications)))
    };
    scan().map_err(|e| e.to_string())
}
