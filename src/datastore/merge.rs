//! `keyhound datastore merge OUT IN...`: the shards' datastores combined into one. A repository
//! in both keeps the newer scan (by its recorded time; a tie keeps OUT's, so merging the same
//! input again changes nothing); triage of one secret in both keeps the later decision.

use std::path::Path;

use rusqlite::{params, Connection, TransactionBehavior};

use super::{schema, Datastore};
use crate::error::{Error, Result};

/// What a merge took from one input.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Merged {
    /// Repositories whose scan was taken.
    pub taken: usize,
    /// Repositories left as OUT had them (OUT's scan is as new or newer).
    pub kept: usize,
}

impl Datastore {
    /// Merges the datastore at `input` into this one, in one transaction.
    pub(crate) fn merge_from(&mut self, input: &Path) -> Result<Merged> {
        std::fs::metadata(input).map_err(|source| Error::Path { path: input.to_path_buf(), source })?;
        let failed = |source| Error::Datastore { path: input.to_path_buf(), source };
        let text = input.to_str().ok_or_else(|| Error::Usage(format!("{}: not a UTF-8 path", input.display())))?;
        self.conn.execute("ATTACH DATABASE ?1 AS src", [text]).map_err(failed)?;
        let merged = merge_attached(&mut self.conn);
        let detached = self.conn.execute("DETACH DATABASE src", []);
        let merged = merged.map_err(|e| match e {
            MergeError::Sql(source) => failed(source),
            MergeError::Version(found) => Error::Usage(format!(
                "datastore {}: schema version {found}, not {}; run keyhound with --datastore on it first",
                input.display(),
                schema::VERSION
            )),
        })?;
        detached.map_err(failed)?;
        Ok(merged)
    }
}

enum MergeError {
    Sql(rusqlite::Error),
    Version(i64),
}

impl From<rusqlite::Error> for MergeError {
    fn from(error: rusqlite::Error) -> Self {
        MergeError::Sql(error)
    }
}

fn merge_attached(conn: &mut Connection) -> std::result::Result<Merged, MergeError> {
    let version: i64 = conn.query_row("PRAGMA src.user_version", [], |row| row.get(0))?;
    if version != schema::VERSION as i64 {
        return Err(MergeError::Version(version));
    }
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let repositories: Vec<(i64, String, i64, Option<String>)> = tx
        .prepare("SELECT id, name, scanned_at, rules_version FROM src.repository WHERE scanned_at IS NOT NULL")?
        .query_map([], |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?)))?
        .collect::<rusqlite::Result<_>>()?;
    let mut merged = Merged::default();
    for (from, name, scanned_at, rules_version) in repositories {
        let ours: Option<i64> = tx
            .query_row("SELECT scanned_at FROM main.repository WHERE name = ?1", [&name], |row| row.get(0))
            .or_else(|e| if e == rusqlite::Error::QueryReturnedNoRows { Ok(None) } else { Err(e) })?;
        if ours.is_some_and(|ours| ours >= scanned_at) {
            merged.kept += 1;
            continue;
        }
        tx.execute("INSERT INTO main.repository (name) VALUES (?1) ON CONFLICT (name) DO NOTHING", [&name])?;
        let to: i64 = tx.query_row("SELECT id FROM main.repository WHERE name = ?1", [&name], |row| row.get(0))?;
        for table in ["blob", "blob_finding", "finding", "snapshot"] {
            tx.execute(&format!("DELETE FROM main.{table} WHERE repository = ?1"), [to])?;
        }
        tx.execute(
            "INSERT INTO main.blob SELECT ?1, rules_version, id FROM src.blob WHERE repository = ?2",
            [to, from],
        )?;
        tx.execute(
            "INSERT INTO main.blob_finding SELECT ?1, rules_version, blob, finding FROM src.blob_finding WHERE repository = ?2",
            [to, from],
        )?;
        tx.execute(
            "INSERT INTO main.finding SELECT ?1, fingerprint, finding FROM src.finding WHERE repository = ?2",
            [to, from],
        )?;
        tx.execute(
            "INSERT INTO main.snapshot SELECT ?1, rules_version, tips, collected FROM src.snapshot WHERE repository = ?2",
            [to, from],
        )?;
        tx.execute(
            "UPDATE main.repository SET scanned_at = ?2, rules_version = ?3 WHERE id = ?1",
            params![to, scanned_at, rules_version],
        )?;
        merged.taken += 1;
    }
    tx.execute(
        "INSERT INTO main.triage SELECT fingerprint, status, note, updated_at FROM src.triage WHERE true
         ON CONFLICT (fingerprint) DO UPDATE SET status = excluded.status, note = excluded.note,
             updated_at = excluded.updated_at WHERE excluded.updated_at > triage.updated_at",
        [],
    )?;
    tx.commit()?;
    Ok(merged)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::datastore::{Scan, Status, Triage};
    use git2::Oid;

    fn store_with(dir: &Path, file: &str, repo: &str, blob: u8) -> std::path::PathBuf {
        let path = dir.join(file);
        let mut store = Datastore::open(&path, false).unwrap();
        let id = store.repository(repo).unwrap();
        let read = [Oid::from_bytes(&[blob; 20]).unwrap()];
        store.record(id, &Scan { rules_version: "v", read: &read, raw: &[], reported: &[], snapshot: None }).unwrap();
        path
    }

    fn blobs(store: &Datastore, repo: &str) -> usize {
        let id = store.repository(repo).unwrap();
        store.known(id, "v").unwrap().ids.len()
    }

    #[test]
    fn merging_takes_each_repository_once_keeps_the_newer_scan_and_is_idempotent() {
        let dir = tempfile::tempdir().unwrap();
        let a = store_with(dir.path(), "a.db", "/r/one", 1);
        let b = store_with(dir.path(), "b.db", "/r/two", 2);
        let mut out = Datastore::open(&dir.path().join("out.db"), false).unwrap();
        assert_eq!(out.merge_from(&a).unwrap(), Merged { taken: 1, kept: 0 });
        assert_eq!(out.merge_from(&b).unwrap(), Merged { taken: 1, kept: 0 });
        assert_eq!(out.merge_from(&a).unwrap(), Merged { taken: 0, kept: 1 }, "merging again changes nothing");
        assert_eq!((blobs(&out, "/r/one"), blobs(&out, "/r/two")), (1, 1));
        assert_eq!(out.recorded().unwrap().len(), 2);
        // A newer scan of /r/one elsewhere replaces the one OUT holds.
        let newer = Datastore::open(&a, false).unwrap();
        newer.conn.execute("UPDATE repository SET scanned_at = scanned_at + 10", []).unwrap();
        newer.set_triage("r:0123456789abcdef", Some(&Triage { status: Status::Revoked, note: None })).unwrap();
        drop(newer);
        assert_eq!(out.merge_from(&a).unwrap(), Merged { taken: 1, kept: 0 });
        assert_eq!(blobs(&out, "/r/one"), 1);
        assert_eq!(out.triages().unwrap()["r:0123456789abcdef"].status, Status::Revoked);
    }
}
