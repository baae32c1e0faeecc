//! The datastore's schema, versioned by SQLite's `user_version`: each migration takes the file
//! from the version before it to its own, in one transaction, so a file is always at one
//! version. A file newer than this keyhound knows is refused rather than guessed at.

use rusqlite::{Connection, Transaction};

/// The migrations, in order: the file's `user_version` is how many have run.
const MIGRATIONS: &[&str] = &[
    // 1: repositories, the blobs scanned under each rules version and what they held, the
    // findings each repository's latest scan reported, and triage by fingerprint.
    "CREATE TABLE repository (
         id INTEGER PRIMARY KEY,
         name TEXT NOT NULL UNIQUE,
         scanned_at INTEGER,
         rules_version TEXT
     );
     CREATE TABLE blob (
         repository INTEGER NOT NULL REFERENCES repository(id) ON DELETE CASCADE,
         rules_version TEXT NOT NULL,
         id BLOB NOT NULL,
         PRIMARY KEY (repository, rules_version, id)
     ) WITHOUT ROWID;
     CREATE TABLE blob_finding (
         repository INTEGER NOT NULL REFERENCES repository(id) ON DELETE CASCADE,
         rules_version TEXT NOT NULL,
         blob BLOB NOT NULL,
         finding TEXT NOT NULL
     );
     CREATE INDEX blob_finding_blob ON blob_finding (repository, rules_version, blob);
     CREATE TABLE finding (
         repository INTEGER NOT NULL REFERENCES repository(id) ON DELETE CASCADE,
         fingerprint TEXT NOT NULL,
         finding TEXT NOT NULL
     );
     CREATE INDEX finding_repository ON finding (repository);
     CREATE TABLE triage (
         fingerprint TEXT PRIMARY KEY,
         status TEXT NOT NULL,
         note TEXT,
         updated_at INTEGER NOT NULL
     );",
    // 2: each repository's latest scan as collected, before filters, with the digest of the
    // refs and selection it depended on: the answer for an unchanged history.
    "CREATE TABLE snapshot (
         repository INTEGER PRIMARY KEY REFERENCES repository(id) ON DELETE CASCADE,
         rules_version TEXT NOT NULL,
         tips TEXT NOT NULL,
         collected TEXT NOT NULL
     );",
];

/// The schema version this keyhound writes.
pub(super) const VERSION: usize = MIGRATIONS.len();

/// Brings the file to [`VERSION`], running the migrations it lacks; refuses a newer file.
pub(super) fn migrate(conn: &mut Connection) -> Result<(), String> {
    let found = version(conn).map_err(|e| e.to_string())?;
    if found > VERSION {
        return Err(format!("schema version {found} is newer than this keyhound's ({VERSION}); upgrade keyhound"));
    }
    for (done, migration) in MIGRATIONS.iter().enumerate().skip(found) {
        let tx = conn.transaction().map_err(|e| e.to_string())?;
        apply(&tx, migration, done + 1).map_err(|e| format!("migrating to schema version {}: {e}", done + 1))?;
        tx.commit().map_err(|e| e.to_string())?;
    }
    Ok(())
}

fn version(conn: &Connection) -> rusqlite::Result<usize> {
    conn.query_row("PRAGMA user_version", [], |row| row.get::<_, i64>(0)).map(|v| usize::try_from(v).unwrap_or(0))
}

fn apply(tx: &Transaction, migration: &str, to: usize) -> rusqlite::Result<()> {
    tx.execute_batch(migration)?;
    tx.pragma_update(None, "user_version", to as i64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_new_file_gets_every_migration_and_a_second_run_changes_nothing() {
        let mut conn = Connection::open_in_memory().unwrap();
        migrate(&mut conn).unwrap();
        assert_eq!(version(&conn).unwrap(), VERSION);
        migrate(&mut conn).unwrap();
        assert_eq!(version(&conn).unwrap(), VERSION);
        let tables: i64 =
            conn.query_row("SELECT count(*) FROM sqlite_master WHERE type = 'table'", [], |row| row.get(0)).unwrap();
        assert_eq!(tables, 6);
    }

    #[test]
    fn a_file_from_a_newer_keyhound_is_refused() {
        let mut conn = Connection::open_in_memory().unwrap();
        conn.pragma_update(None, "user_version", (VERSION + 1) as i64).unwrap();
        assert!(migrate(&mut conn).unwrap_err().contains("newer than this keyhound's"));
    }
}
