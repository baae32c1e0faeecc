//! Triage: what a person decided about a secret, stored by fingerprint, so that it holds in
//! every repository the secret is found in and across re-scans.

use std::collections::HashMap;

use rusqlite::params;

use super::{now, Datastore};
use crate::error::Result;

/// What was decided about a secret.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Status {
    /// The key was revoked.
    Revoked,
    /// It is not a secret.
    FalsePositive,
    /// A secret, knowingly left where it is.
    AcceptedRisk,
}

impl Status {
    /// The status as reports print it and the datastore holds it.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Status::Revoked => "revoked",
            Status::FalsePositive => "false-positive",
            Status::AcceptedRisk => "accepted-risk",
        }
    }

    fn parse(text: &str) -> Option<Self> {
        [Status::Revoked, Status::FalsePositive, Status::AcceptedRisk]
            .into_iter()
            .find(|status| status.as_str() == text)
    }
}

/// A secret's triage.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Triage {
    /// The decision.
    pub status: Status,
    /// Why, if given.
    pub note: Option<String>,
}

impl Datastore {
    /// Sets the triage of the secret with `fingerprint`; `None` clears it.
    pub(crate) fn set_triage(&self, fingerprint: &str, triage: Option<&Triage>) -> Result<()> {
        let done = match triage {
            Some(Triage { status, note }) => self.conn.execute(
                "INSERT INTO triage (fingerprint, status, note, updated_at) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (fingerprint) DO UPDATE SET status = ?2, note = ?3, updated_at = ?4",
                params![fingerprint, status.as_str(), note, now()],
            ),
            None => self.conn.execute("DELETE FROM triage WHERE fingerprint = ?1", [fingerprint]),
        };
        done.map(drop).map_err(|e| self.failed(e))
    }

    /// Every triage, by fingerprint (rows a hand-edited file made unreadable are left out).
    pub(crate) fn triages(&self) -> Result<HashMap<String, Triage>> {
        let read = || -> rusqlite::Result<HashMap<String, Triage>> {
            let mut statement = self.conn.prepare("SELECT fingerprint, status, note FROM triage")?;
            let rows = statement.query_map([], |row| Ok((row.get(0)?, row.get::<_, String>(1)?, row.get(2)?)))?;
            let mut triages = HashMap::new();
            for row in rows {
                let (fingerprint, status, note) = row?;
                if let Some(status) = Status::parse(&status) {
                    triages.insert(fingerprint, Triage { status, note });
                }
            }
            Ok(triages)
        };
        read().map_err(|e| self.failed(e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_triage_is_set_replaced_and_cleared() {
        let dir = tempfile::tempdir().unwrap();
        let store = Datastore::open(&dir.path().join("k.db"), false).unwrap();
        let revoked = Triage { status: Status::Revoked, note: Some("rotated".into()) };
        store.set_triage("r:0123456789abcdef", Some(&revoked)).unwrap();
        assert_eq!(store.triages().unwrap()["r:0123456789abcdef"], revoked);
        let accepted = Triage { status: Status::AcceptedRisk, note: None };
        store.set_triage("r:0123456789abcdef", Some(&accepted)).unwrap();
        assert_eq!(store.triages().unwrap()["r:0123456789abcdef"], accepted);
        store.set_triage("r:0123456789abcdef", None).unwrap();
        assert!(store.triages().unwrap().is_empty());
    }
}
