//! Checkpoints inside one repository's scan. While it runs, every few seconds (10 by default,
//! `--checkpoint-every`), the blobs scanned whole since the last checkpoint and the scanner's
//! findings in them are recorded in one transaction, under the scan's rules version, so a run
//! killed midway (SIGKILL, out of memory, a CI timeout) loses at most that much work: the next
//! run knows those blobs ([`Datastore::known`]), does not read them again, and re-joins their
//! findings, as it does for a finished scan's.
//!
//! Time, not a count of blobs, sets the pace: the time lost is what a kill costs, and a blob
//! count would need tuning to blob sizes. A checkpoint writes only rows the scan's end would
//! write anyway, and with WAL and `synchronous=NORMAL` a commit costs no disk flush, so what
//! the interval trades is only how often the write lock is taken (other writers wait on it).
//!
//! A blob is recorded with its findings, only once it is scanned whole (the driver's
//! [`Journal`] hands over nothing else), and never twice: a blob already recorded (by another
//! process scanning the same repository, say) is left as it is, its findings too. A checkpoint
//! touches nothing else: the repository's reported findings, snapshot and scan time stay the
//! previous scan's until [`Datastore::record`] at its end records the blobs no checkpoint took.

use std::collections::HashMap;
use std::sync::mpsc::{self, RecvTimeoutError};
use std::time::Duration;

use git2::Oid;
use rusqlite::{params, TransactionBehavior};

use super::{to_json, Datastore, RepoId, Stored};
use crate::driver::{Finished, Journal};
use crate::error::{Error, Result};
use crate::finding::Finding;
use crate::threads;

/// The time between checkpoints unless the user sets it.
pub(super) const DEFAULT_EVERY: Duration = Duration::from_secs(10);

/// What a scan's checkpoints did not record: for the scan's end to.
#[derive(Debug, Default)]
pub(crate) struct Unrecorded {
    /// The blobs scanned whole that no checkpoint recorded, and their findings.
    pub finished: Finished,
    /// Why checkpoints stopped before the scan did, if they did.
    pub failure: Option<String>,
}

/// The checkpoints of one repository's scan.
pub(super) struct Checkpoints<'a> {
    /// The datastore, written by the checkpoint thread only while the scan runs.
    pub(super) store: &'a mut Datastore,
    /// The repository scanned.
    pub(super) repo: RepoId,
    /// The scan's rules version.
    pub(super) rules_version: &'a str,
}

impl Checkpoints<'_> {
    /// Runs `scan`, recording from another thread what `journal` says finished, every
    /// checkpoint interval until `scan` returns; returns its result and what was not recorded
    /// (the journal's last entries included).
    pub(super) fn during<T>(self, journal: &Journal, scan: impl FnOnce() -> T) -> Result<(T, Unrecorded)> {
        let (stop, stopped) = mpsc::channel::<()>();
        let (result, mut unrecorded) = std::thread::scope(|scope| {
            let checkpoints =
                threads::spawn_scoped(scope, "the datastore's checkpoints", move || self.run(journal, &stopped))?;
            let result = scan();
            drop(stop);
            let unrecorded = checkpoints.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic));
            Ok::<_, Error>((result, unrecorded))
        })?;
        unrecorded.finished.append(journal.take());
        Ok((result, unrecorded))
    }

    /// Checkpoints until `stopped` says the scan is done, or one fails (what it could not
    /// record is then left to the scan's end).
    fn run(self, journal: &Journal, stopped: &mpsc::Receiver<()>) -> Unrecorded {
        while let Err(RecvTimeoutError::Timeout) = stopped.recv_timeout(self.store.checkpoint_every) {
            let finished = journal.take();
            if let Err(e) = self.store.checkpoint(self.repo, self.rules_version, &finished) {
                return Unrecorded { finished, failure: Some(e.to_string()) };
            }
        }
        Unrecorded::default()
    }
}

impl Datastore {
    /// Records `finished` blobs of `repo` as scanned under `rules_version`, with their
    /// findings, in one transaction.
    fn checkpoint(&mut self, repo: RepoId, rules_version: &str, finished: &Finished) -> Result<()> {
        if finished.blobs.is_empty() {
            return Ok(());
        }
        let store_secrets = self.store_secrets;
        let write = |conn: &mut rusqlite::Connection| -> rusqlite::Result<()> {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            insert_scanned(&tx, repo, rules_version, &finished.blobs, &finished.findings, store_secrets)?;
            tx.commit()
        };
        write(&mut self.conn).map_err(|e| self.failed(e))
    }
}

/// Records `blobs` of `repo` as scanned under `rules_version`, each with its findings among
/// `raw`. A blob already recorded keeps the findings recorded with it.
pub(super) fn insert_scanned(
    tx: &rusqlite::Transaction,
    repo: RepoId,
    rules_version: &str,
    blobs: &[Oid],
    raw: &[Finding],
    store_secrets: bool,
) -> rusqlite::Result<()> {
    let mut held: HashMap<Oid, Vec<Stored>> = HashMap::new();
    for finding in raw {
        if let (Some(blob), Some(stored)) = (finding.provenance.origin.blob(), Stored::of(finding, store_secrets)) {
            held.entry(blob).or_default().push(stored);
        }
    }
    let mut blob = tx.prepare("INSERT OR IGNORE INTO blob (repository, rules_version, id) VALUES (?1, ?2, ?3)")?;
    let mut found =
        tx.prepare("INSERT INTO blob_finding (repository, rules_version, blob, finding) VALUES (?1, ?2, ?3, ?4)")?;
    for id in blobs {
        if blob.execute(params![repo.0, rules_version, id.as_bytes()])? == 0 {
            continue;
        }
        for stored in held.get(id).into_iter().flatten() {
            found.execute(params![repo.0, rules_version, id.as_bytes(), to_json(stored)])?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::time::Instant;

    use super::*;
    use crate::datastore::Scan;
    use crate::lines::Position;
    use crate::rules::RuleSet;
    use crate::scan::tests::project_key;
    use crate::source::{Origin, Provenance};

    fn oid(n: u8) -> Oid {
        Oid::from_bytes(&[n; 20]).unwrap()
    }

    /// A finding in blob `blob`.
    fn found_in(blob: Oid) -> Finding {
        let rules = RuleSet::builtin().unwrap();
        let rule = rules.find("openai-api-key").unwrap();
        let origin = Origin::Blob { path: "app/.env".into(), blob, commit: oid(9) };
        let position = Position { line: 1, column: 1, end_line: 1, end_column: 2 };
        Finding::new(rule, project_key().as_bytes(), 8, Provenance::new(origin), position)
    }

    fn finished(blobs: &[Oid]) -> Finished {
        Finished { blobs: blobs.to_vec(), findings: blobs.iter().map(|&blob| found_in(blob)).collect() }
    }

    /// How many finding rows each recorded blob has, by blob.
    fn rows(store: &Datastore) -> Vec<(Oid, i64)> {
        let mut statement = store
            .conn
            .prepare(
                "SELECT blob.id, count(blob_finding.blob) FROM blob LEFT JOIN blob_finding
                 ON blob_finding.blob = blob.id AND blob_finding.rules_version = blob.rules_version
                 GROUP BY blob.id ORDER BY blob.id",
            )
            .unwrap();
        let rows = statement.query_map([], |row| Ok((row.get::<_, Vec<u8>>(0)?, row.get(1)?))).unwrap();
        rows.map(|row| row.map(|(id, count)| (Oid::from_bytes(&id).unwrap(), count)))
            .collect::<rusqlite::Result<_>>()
            .unwrap()
    }

    fn store() -> (tempfile::TempDir, Datastore, RepoId) {
        let dir = tempfile::tempdir().unwrap();
        let store = Datastore::open(&dir.path().join("k.db"), false).unwrap();
        let repo = store.repository("/r").unwrap();
        (dir, store, repo)
    }

    /// Waits (at most a minute, to catch a hang) until `done`.
    fn wait_until(mut done: impl FnMut() -> bool) {
        let started = Instant::now();
        while !done() {
            assert!(started.elapsed() < Duration::from_secs(60), "timed out");
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    #[test]
    fn a_blob_is_recorded_once_with_its_findings_and_the_end_skips_what_checkpoints_took() {
        let (_dir, mut store, repo) = store();
        store.checkpoint(repo, "v1", &finished(&[oid(1)])).unwrap();
        assert_eq!(rows(&store), [(oid(1), 1)]);
        assert!(store.snapshot(repo, "v1", "tips").unwrap().is_none() && store.recorded().unwrap().is_empty());
        // The end, or a second writer, naming the blob again with its findings.
        let rest = finished(&[oid(1), oid(2)]);
        let scan = Scan { rules_version: "v1", read: &rest.blobs, raw: &rest.findings, reported: &[], snapshot: None };
        store.record(repo, &scan).unwrap();
        assert_eq!(rows(&store), [(oid(1), 1), (oid(2), 1)]);
        let known = store.known(repo, "v1").unwrap();
        assert_eq!((known.ids.len(), known.recall.len()), (2, 2));
    }

    #[test]
    fn checkpoints_record_what_finished_while_the_scan_runs_and_leave_the_rest() {
        let (dir, store, repo) = store();
        let mut store = store.checkpoints_every(Duration::from_millis(1));
        let reader = Datastore::open(&dir.path().join("k.db"), false).unwrap();
        let journal = Journal::default();
        let checkpoints = Checkpoints { store: &mut store, repo, rules_version: "v1" };
        let ((), unrecorded) = checkpoints
            .during(&journal, || {
                journal.push(oid(1), &[found_in(oid(1))]);
                wait_until(|| !rows(&reader).is_empty());
                journal.push(oid(2), &[]);
            })
            .unwrap();
        assert!(unrecorded.failure.is_none());
        let checkpointed: Vec<Oid> = rows(&reader).into_iter().map(|(id, _)| id).collect();
        let mut all = [checkpointed, unrecorded.finished.blobs].concat();
        all.sort();
        assert_eq!(all, [oid(1), oid(2)], "each blob either checkpointed or left, once");
        assert_eq!(rows(&reader)[0], (oid(1), 1));
    }

    #[test]
    fn a_failed_checkpoint_leaves_its_blobs_to_the_end_and_says_why() {
        let (_dir, store, repo) = store();
        let mut store = store.checkpoints_every(Duration::from_millis(1));
        store.conn.execute("DROP TABLE blob_finding", []).unwrap();
        let journal = Journal::default();
        let checkpoints = Checkpoints { store: &mut store, repo, rules_version: "v1" };
        let ((), unrecorded) = checkpoints
            .during(&journal, || {
                journal.push(oid(1), &[found_in(oid(1))]);
                // Taken by the checkpoint that fails.
                wait_until(|| journal.is_empty());
            })
            .unwrap();
        assert!(unrecorded.failure.unwrap().contains("blob_finding"));
        assert_eq!(unrecorded.finished, finished(&[oid(1)]));
        let blobs: i64 = store.conn.query_row("SELECT count(*) FROM blob", [], |row| row.get(0)).unwrap();
        assert_eq!(blobs, 0, "the failed transaction left nothing");
    }
}
