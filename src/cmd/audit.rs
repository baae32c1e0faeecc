//! `keyhound audit --repos FILE | DIR`: the whole history of each repository listed (or found
//! under DIR), `--jobs` at a time, each an incremental scan recorded in the datastore (see
//! [`crate::datastore`]), then one report across them (see [`super::report_cmd`]).
//!
//! One configuration serves every repository: the current directory's, never a scanned
//! repository's (a hostile repository must not turn its own rules off). A repository that
//! fails is named with its error and the others go on; the exit status is then 2.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use super::datastore::check_verify;
use super::history::{answer, scan_history, Answer, Target};
use super::report_cmd::{self, Audited};
use super::shard::Shard;
use crate::cli::{AuditArgs, CommandOptions};
use crate::config::Config;
use crate::datastore::{Datastore, Incremental, Scope};
use crate::error::{Error, Result};
use crate::escape::Visible;
use crate::exit::ExitStatus;
use crate::pipeline;
use crate::source::history::Selection;
use crate::source::remote::{self, CloneOptions, RemoteUrl};

/// The datastore `audit` writes when `--datastore` names none.
const DEFAULT_DATASTORE: &str = "keyhound.db";

/// A repository to audit, as listed.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Listed {
    /// A repository on this machine.
    Local(PathBuf),
    /// A URL (or `user@host:path`) to clone.
    Remote(String),
}

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
    let store = Datastore::open(&path, args.store.store_secrets)?;
    let triages = store.triages()?;
    let audit = Audit {
        config: &config,
        datastore: &path,
        store_secrets: args.store.store_secrets,
        scope: Scope::new(&config, None, false),
    };
    let audited = audit_all(&targets, jobs, &audit, store);
    report_cmd::emit(&config, audited, &triages, &args.status, None)
}

/// The repositories `--repos` lists or DIR holds, each with the name shards are chosen by.
fn listed(args: &AuditArgs) -> Result<Vec<(String, Listed)>> {
    let targets = match (&args.repos, &args.dir) {
        (Some(list), _) => parse_list(&read_list(list)?),
        (None, Some(dir)) => {
            find_repositories(dir)?.into_iter().map(|path| (path.display().to_string(), Listed::Local(path))).collect()
        }
        (None, None) => Vec::new(),
    };
    Ok(targets)
}

/// The list file's text (`-`: standard input).
fn read_list(list: &Path) -> Result<String> {
    let mut text = String::new();
    let read = if list == Path::new("-") {
        std::io::stdin().read_to_string(&mut text).map(drop)
    } else {
        std::fs::read_to_string(list).map(|read| text = read)
    };
    read.map_err(|source| Error::Path { path: list.to_path_buf(), source })?;
    Ok(text)
}

/// One path or URL a line; blank lines and `#` comments left out; each listed once.
fn parse_list(text: &str) -> Vec<(String, Listed)> {
    let mut seen = std::collections::HashSet::new();
    text.lines()
        .map(|line| line.split_once('#').map_or(line, |(before, _)| before).trim())
        .filter(|entry| !entry.is_empty() && seen.insert(entry.to_string()))
        .map(|entry| (entry.to_string(), classify(entry)))
        .collect()
}

/// A URL has a scheme (`https://`) or is scp-like (`git@host:org/repo`) and names no local path.
fn classify(entry: &str) -> Listed {
    let scp_like = entry.split_once(':').is_some_and(|(host, _)| host.contains('@') && !host.contains('/'));
    if entry.contains("://") || (scp_like && !Path::new(entry).exists()) {
        Listed::Remote(entry.to_string())
    } else {
        Listed::Local(PathBuf::from(entry))
    }
}

/// Every git repository under `dir` (a `.git` directory or a bare repository), in name order,
/// not looking inside one found nor following symbolic links.
fn find_repositories(dir: &Path) -> Result<Vec<PathBuf>> {
    let failed = |source| Error::Path { path: dir.to_path_buf(), source };
    let mut found = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    std::fs::metadata(dir).map_err(failed)?;
    while let Some(current) = pending.pop() {
        if is_repository(&current) {
            found.push(current);
            continue;
        }
        let Ok(entries) = std::fs::read_dir(&current) else { continue };
        for entry in entries.flatten() {
            if entry.file_type().is_ok_and(|kind| kind.is_dir()) {
                pending.push(entry.path());
            }
        }
    }
    found.sort();
    Ok(found)
}

fn is_repository(dir: &Path) -> bool {
    let is_dir = |path: PathBuf| std::fs::symlink_metadata(path).is_ok_and(|meta| meta.is_dir());
    is_dir(dir.join(".git")) || (dir.join("HEAD").is_file() && is_dir(dir.join("objects")) && is_dir(dir.join("refs")))
}

/// What every repository of an audit shares.
struct Audit<'a> {
    config: &'a Config,
    /// The datastore's path.
    datastore: &'a Path,
    store_secrets: bool,
    /// The scope of every repository's scan, but for its own digest.
    scope: Scope,
}

/// Audits `targets`, `jobs` at a time, each worker with its own connection to the datastore:
/// the first takes `store`, already open.
fn audit_all(targets: &[(String, Listed)], jobs: usize, audit: &Audit, store: Datastore) -> Vec<Audited> {
    let config = audit.config;
    let next = AtomicUsize::new(0);
    let done = Mutex::new(Vec::with_capacity(targets.len()));
    std::thread::scope(|scope| {
        let mut first = Some(store);
        for _ in 0..jobs {
            let (given, next, done) = (first.take(), &next, &done);
            scope.spawn(move || {
                let store = given.map_or_else(|| Datastore::open(audit.datastore, audit.store_secrets), Ok);
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

/// A listed repository, opened if local; a remote one must be a URL.
fn located(target: &Listed) -> Result<Target> {
    match target {
        Listed::Local(path) => Target::of(Some(path), false),
        Listed::Remote(url) => match RemoteUrl::classify(url)? {
            Some(remote) => Ok(Target::Remote(remote)),
            None => Err(Error::Usage(format!("{}: not a repository URL", Visible(url)))),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_list_holds_paths_and_urls_without_comments_blanks_or_repeats() {
        let text = "# fleet\n/srv/a\n\n  https://example.com/o/r.git  # main\ngit@example.com:o/s.git\n/srv/a\n";
        let listed = parse_list(text);
        let targets: Vec<&Listed> = listed.iter().map(|(_, target)| target).collect();
        assert_eq!(
            targets,
            [
                &Listed::Local("/srv/a".into()),
                &Listed::Remote("https://example.com/o/r.git".into()),
                &Listed::Remote("git@example.com:o/s.git".into()),
            ]
        );
    }

    #[cfg(unix)]
    #[test]
    fn repositories_are_found_under_a_directory_without_following_links() {
        let dir = tempfile::tempdir().unwrap();
        for repo in ["a", "org/b", "org/b/nested"] {
            git2::Repository::init(dir.path().join(repo)).unwrap();
        }
        git2::Repository::init_bare(dir.path().join("c.git")).unwrap();
        let outside = tempfile::tempdir().unwrap();
        git2::Repository::init(outside.path().join("x")).unwrap();
        std::os::unix::fs::symlink(outside.path(), dir.path().join("link")).unwrap();
        let found: Vec<PathBuf> = find_repositories(dir.path())
            .unwrap()
            .into_iter()
            .map(|path| path.strip_prefix(dir.path()).unwrap().to_path_buf())
            .collect();
        assert_eq!(found, [PathBuf::from("a"), "c.git".into(), "org/b".into()]);
    }
}
