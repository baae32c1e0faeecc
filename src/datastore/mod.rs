//! The datastore: one SQLite file (WAL mode, schema in [`schema`]) that remembers, per
//! repository, which blobs were scanned under which rules version and what they held, the
//! findings of the latest scan, and the triage of each fingerprint.
//!
//! It makes history scans incremental: a run asks for the blobs already scanned under the
//! current [`rules_version`] ([`Datastore::known`]), the history source does not read them,
//! and their stored findings are re-joined at the sightings the walk met
//! ([`Datastore::recall`]), so the report is the one a full scan would give. When nothing a
//! scan depends on changed since the last one (the same refs, selection and rules version),
//! the recorded [`Snapshot`] answers without a walk ([`Datastore::snapshot`]). A repository's
//! results are written in one transaction at the end of its scan ([`Datastore::record`]), and
//! while it runs the blobs scanned so far are recorded with what they held every few seconds
//! ([`checkpoint`]): a run killed midway leaves every finished repository and the checkpoints
//! of those under way, and the next run reads only the blobs no checkpoint recorded.
//!
//! Secrets are stored redacted unless the user asks (`--store-secrets`). The file's path is
//! always the user's, never chosen by a scanned repository.

mod checkpoint;
mod incremental;
mod merge;
mod schema;
mod snapshot;
mod stored;
mod triage;
mod version;

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use git2::Oid;
use rusqlite::{params, Connection, OptionalExtension, TransactionBehavior};

use crate::error::{Error, Result};
use crate::finding::Finding;
use crate::rules::RuleSet;
use crate::source::history::{Known, Sighting};
pub(crate) use checkpoint::Unrecorded;
pub(crate) use incremental::{Incremental, Scope};
pub(crate) use snapshot::Snapshot;
pub(crate) use stored::Stored;
pub(crate) use triage::{Status, Triage};
pub(crate) use version::rules_version;

/// How long a writer waits for another process's write to finish before failing.
const BUSY_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(60);

/// An open datastore.
#[derive(Debug)]
pub(crate) struct Datastore {
    conn: Connection,
    path: PathBuf,
    store_secrets: bool,
    /// The time between checkpoints inside a repository's scan.
    checkpoint_every: Duration,
}

/// A repository's row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct RepoId(i64);

/// What one scan of a repository leaves in the datastore.
#[derive(Debug)]
pub(crate) struct Scan<'a> {
    /// The rules version it ran under.
    pub rules_version: &'a str,
    /// The blobs it read and scanned whole that no checkpoint recorded (one that did is left
    /// as it is).
    pub read: &'a [Oid],
    /// What the scanner found in them, before attribution and filters.
    pub raw: &'a [Finding],
    /// The findings it reported.
    pub reported: &'a [Finding],
    /// What it collected, to answer for the same history later: the digest of its refs and
    /// selection, and the snapshot.
    pub snapshot: Option<(&'a str, &'a Snapshot)>,
}

impl Datastore {
    /// Opens (creating it if needed) the datastore at `path` and brings its schema up to date.
    /// With `store_secrets`, findings recorded from now on keep their secret in the clear.
    pub(crate) fn open(path: &Path, store_secrets: bool) -> Result<Self> {
        let failed = |source| Error::Datastore { path: path.to_path_buf(), source };
        let mut conn = Connection::open(path).map_err(failed)?;
        conn.busy_timeout(BUSY_TIMEOUT).map_err(failed)?;
        conn.pragma_update(None, "journal_mode", "WAL").map_err(failed)?;
        // With WAL, NORMAL syncs at checkpoints, not at every commit: a killed run still leaves
        // every committed repository; a power cut may lose the last few, which the next run
        // scans again. A commit per repository then costs no disk flush.
        conn.pragma_update(None, "synchronous", "NORMAL").map_err(failed)?;
        conn.pragma_update(None, "foreign_keys", true).map_err(failed)?;
        schema::migrate(&mut conn)
            .map_err(|message| Error::Usage(format!("datastore {}: {message}", path.display())))?;
        Ok(Datastore { conn, path: path.to_path_buf(), store_secrets, checkpoint_every: checkpoint::DEFAULT_EVERY })
    }

    /// The same datastore, recording what a repository's scan has done so far every `every`
    /// (10 s unless set) while it runs.
    pub(crate) fn checkpoints_every(self, every: Duration) -> Self {
        Datastore { checkpoint_every: every, ..self }
    }

    /// Opens the datastore at `path`, which must exist (commands that only read or annotate
    /// it should not create an empty one by a typo).
    pub(crate) fn open_existing(path: &Path) -> Result<Self> {
        std::fs::metadata(path).map_err(|source| Error::Path { path: path.to_path_buf(), source })?;
        Datastore::open(path, false)
    }

    fn failed(&self, source: rusqlite::Error) -> Error {
        Error::Datastore { path: self.path.clone(), source }
    }

    /// The row of the repository named `name` (its canonical path or URL), added if new.
    pub(crate) fn repository(&self, name: &str) -> Result<RepoId> {
        // Cached statements: an audit asks these of every repository.
        let select = || {
            self.conn.prepare_cached("SELECT id FROM repository WHERE name = ?1")?.query_row([name], |row| row.get(0))
        };
        // Looked up first: an insert takes the write lock even when it adds nothing.
        select()
            .or_else(|e| match e {
                rusqlite::Error::QueryReturnedNoRows => self
                    .conn
                    .execute("INSERT INTO repository (name) VALUES (?1) ON CONFLICT (name) DO NOTHING", [name])
                    .and_then(|_| select()),
                e => Err(e),
            })
            .map(RepoId)
            .map_err(|e| self.failed(e))
    }

    /// The blobs of `repo` scanned under `rules_version`, those that held findings to recall.
    pub(crate) fn known(&self, repo: RepoId, rules_version: &str) -> Result<Known> {
        let ids =
            self.blob_ids("SELECT id FROM blob WHERE repository = ?1 AND rules_version = ?2", repo, rules_version)?;
        let recall = self.blob_ids(
            "SELECT DISTINCT blob FROM blob_finding WHERE repository = ?1 AND rules_version = ?2",
            repo,
            rules_version,
        )?;
        Ok(Known { ids, recall })
    }

    fn blob_ids(&self, sql: &str, repo: RepoId, rules_version: &str) -> Result<HashSet<Oid>> {
        let read = || -> rusqlite::Result<HashSet<Oid>> {
            let mut statement = self.conn.prepare_cached(sql)?;
            let rows = statement.query_map(params![repo.0, rules_version], |row| row.get::<_, Vec<u8>>(0))?;
            let mut ids = HashSet::new();
            for row in rows {
                ids.extend(Oid::from_bytes(&row?).ok());
            }
            Ok(ids)
        };
        read().map_err(|e| self.failed(e))
    }

    /// The findings stored for the blobs `recalled`, each at the path and commit it was met.
    pub(crate) fn recall(
        &self,
        repo: RepoId,
        rules_version: &str,
        recalled: &[Sighting],
        rules: &RuleSet,
    ) -> Result<Vec<Finding>> {
        let read = || -> rusqlite::Result<Vec<Finding>> {
            let mut statement = self.conn.prepare(
                "SELECT finding FROM blob_finding WHERE repository = ?1 AND rules_version = ?2 AND blob = ?3",
            )?;
            let mut findings = Vec::new();
            for Sighting { blob, origin } in recalled {
                let rows = statement
                    .query_map(params![repo.0, rules_version, blob.as_bytes()], |row| row.get::<_, String>(0))?;
                for row in rows {
                    let stored: Option<Stored> = serde_json::from_str(&row?).ok();
                    findings.extend(stored.and_then(|stored| stored.at(origin).finding(rules)));
                }
            }
            Ok(findings)
        };
        read().map_err(|e| self.failed(e))
    }

    /// Records a scan of `repo`, in one transaction: the blobs it read that no checkpoint
    /// recorded and what they held (kept for later runs under the same rules version; other
    /// versions' are dropped), and the findings it reported, replacing the previous scan's.
    pub(crate) fn record(&mut self, repo: RepoId, scan: &Scan) -> Result<()> {
        let store_secrets = self.store_secrets;
        let write = |conn: &mut Connection| -> rusqlite::Result<()> {
            // Immediate: take the write lock (waiting for another writer) before reading.
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            tx.execute(
                "DELETE FROM blob WHERE repository = ?1 AND rules_version <> ?2",
                params![repo.0, scan.rules_version],
            )?;
            tx.execute(
                "DELETE FROM blob_finding WHERE repository = ?1 AND rules_version <> ?2",
                params![repo.0, scan.rules_version],
            )?;
            checkpoint::insert_scanned(&tx, repo, scan.rules_version, scan.read, scan.raw, store_secrets)?;
            tx.execute("DELETE FROM snapshot WHERE repository = ?1", [repo.0])?;
            if let Some((tips, snapshot)) = scan.snapshot {
                tx.execute(
                    "INSERT INTO snapshot (repository, rules_version, tips, collected) VALUES (?1, ?2, ?3, ?4)",
                    params![repo.0, scan.rules_version, tips, to_json(snapshot)],
                )?;
            }
            replace_reported(&tx, repo, scan.reported, store_secrets)?;
            mark_scanned(&tx, repo, scan.rules_version)?;
            tx.commit()
        };
        write(&mut self.conn).map_err(|e| Error::Datastore { path: self.path.clone(), source: e })
    }

    /// The snapshot of `repo`'s latest scan, if it was made under `rules_version` of the
    /// history whose digest is `tips` (a row a hand-edited file made unreadable is none).
    pub(crate) fn snapshot(&self, repo: RepoId, rules_version: &str, tips: &str) -> Result<Option<Snapshot>> {
        let collected = self
            .conn
            .prepare_cached("SELECT collected FROM snapshot WHERE repository = ?1 AND rules_version = ?2 AND tips = ?3")
            .and_then(|mut select| {
                select.query_row(params![repo.0, rules_version, tips], |row| row.get::<_, String>(0)).optional()
            })
            .map_err(|e| self.failed(e))?;
        Ok(collected.and_then(|text| serde_json::from_str(&text).ok()))
    }

    /// Records that `repo`'s history, unchanged, was answered for by its snapshot under
    /// `rules_version`, with `reported` findings. Writes only when they differ from the
    /// findings recorded (the filters changed): an unchanged answer leaves the file as it was.
    pub(crate) fn record_unchanged(&mut self, repo: RepoId, rules_version: &str, reported: &[Finding]) -> Result<()> {
        let store_secrets = self.store_secrets;
        let mut stored: Vec<String> =
            reported.iter().filter_map(|finding| Stored::of(finding, store_secrets)).map(|s| to_json(&s)).collect();
        stored.sort_unstable();
        if self.reported_json(repo)? == stored {
            return Ok(());
        }
        let write = |conn: &mut Connection| -> rusqlite::Result<()> {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            replace_reported(&tx, repo, reported, store_secrets)?;
            mark_scanned(&tx, repo, rules_version)?;
            tx.commit()
        };
        write(&mut self.conn).map_err(|e| Error::Datastore { path: self.path.clone(), source: e })
    }
}

impl Datastore {
    /// The recorded findings of `repo`'s latest scan, as stored, sorted.
    fn reported_json(&self, repo: RepoId) -> Result<Vec<String>> {
        let read = || -> rusqlite::Result<Vec<String>> {
            let mut statement = self.conn.prepare_cached("SELECT finding FROM finding WHERE repository = ?1")?;
            let mut rows: Vec<String> =
                statement.query_map([repo.0], |row| row.get(0))?.collect::<rusqlite::Result<_>>()?;
            rows.sort_unstable();
            Ok(rows)
        };
        read().map_err(|e| self.failed(e))
    }
}

/// Stamps `repo`'s latest scan with the time and its rules version.
fn mark_scanned(tx: &rusqlite::Transaction, repo: RepoId, rules_version: &str) -> rusqlite::Result<()> {
    tx.execute(
        "UPDATE repository SET scanned_at = ?2, rules_version = ?3 WHERE id = ?1",
        params![repo.0, now(), rules_version],
    )
    .map(drop)
}

/// A repository's latest scan, as stored.
#[derive(Debug)]
pub(crate) struct Recorded {
    /// Its name (canonical path or URL).
    pub name: String,
    /// The findings that scan reported (rows a hand-edited file made unreadable are left out).
    pub findings: Vec<Stored>,
}

impl Datastore {
    /// Every repository with a recorded scan, by name, with the findings it reported.
    pub(crate) fn recorded(&self) -> Result<Vec<Recorded>> {
        let read = || -> rusqlite::Result<Vec<Recorded>> {
            let mut repos =
                self.conn.prepare("SELECT id, name FROM repository WHERE scanned_at IS NOT NULL ORDER BY name")?;
            let mut findings = self.conn.prepare("SELECT finding FROM finding WHERE repository = ?1")?;
            let rows: Vec<(i64, String)> =
                repos.query_map([], |row| Ok((row.get(0)?, row.get(1)?)))?.collect::<rusqlite::Result<_>>()?;
            let mut recorded = Vec::new();
            for (id, name) in rows {
                let texts: Vec<String> =
                    findings.query_map([id], |row| row.get(0))?.collect::<rusqlite::Result<_>>()?;
                let findings = texts.iter().filter_map(|text| serde_json::from_str(text).ok()).collect();
                recorded.push(Recorded { name, findings });
            }
            Ok(recorded)
        };
        read().map_err(|e| self.failed(e))
    }
}

/// Replaces the reported findings of `repo` with `reported`.
fn replace_reported(
    tx: &rusqlite::Transaction,
    repo: RepoId,
    reported: &[Finding],
    store_secrets: bool,
) -> rusqlite::Result<()> {
    tx.execute("DELETE FROM finding WHERE repository = ?1", [repo.0])?;
    let mut insert = tx.prepare("INSERT INTO finding (repository, fingerprint, finding) VALUES (?1, ?2, ?3)")?;
    for stored in reported.iter().filter_map(|finding| Stored::of(finding, store_secrets)) {
        insert.execute(params![repo.0, stored.fingerprint(), to_json(&stored)])?;
    }
    Ok(())
}

fn to_json(stored: &impl serde::Serialize) -> String {
    serde_json::to_string(stored).expect("what the datastore stores is plain data")
}

/// Seconds since the Unix epoch (0 if the clock is before it).
fn now() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |elapsed| elapsed.as_secs() as i64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_recorded_scan_is_known_and_recalled_under_its_rules_version_only() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("k.db");
        let mut store = Datastore::open(&path, false).unwrap();
        let repo = store.repository("/r").unwrap();
        assert_eq!(store.repository("/r").unwrap(), repo);
        let (a, b) = (Oid::from_bytes(&[1; 20]).unwrap(), Oid::from_bytes(&[2; 20]).unwrap());
        store
            .record(repo, &Scan { rules_version: "v1", read: &[a, b], raw: &[], reported: &[], snapshot: None })
            .unwrap();
        let known = Datastore::open(&path, false).unwrap().known(repo, "v1").unwrap();
        assert_eq!(known.ids, HashSet::from([a, b]));
        assert!(known.recall.is_empty());
        assert!(store.known(repo, "v2").unwrap().ids.is_empty());
        store.record(repo, &Scan { rules_version: "v2", read: &[a], raw: &[], reported: &[], snapshot: None }).unwrap();
        assert!(store.known(repo, "v1").unwrap().ids.is_empty(), "other versions' blobs are dropped");
    }
}
