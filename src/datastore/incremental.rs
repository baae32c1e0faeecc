//! One incremental history scan of one repository: what the datastore already knows going in
//! ([`Incremental::start`]), the findings of the blobs not read again ([`Incremental::recall`]),
//! and what this run adds coming out ([`Incremental::finish`], one transaction).

use super::{rules_version, Datastore, RepoId, Scan};
use crate::config::Config;
use crate::error::Result;
use crate::finding::Finding;
use crate::source::history::{Known, Sighting};

/// A history scan of one repository that reads only blobs the datastore does not hold.
#[derive(Debug)]
pub(crate) struct Incremental<'s> {
    store: &'s mut Datastore,
    repo: RepoId,
    rules_version: String,
    known: Known,
}

impl<'s> Incremental<'s> {
    /// Starts a scan of the repository named `name` with `config`'s rules and options.
    pub(crate) fn start(store: &'s mut Datastore, name: &str, config: &Config) -> Result<Self> {
        let rules_version =
            rules_version(&config.rules, &config.expand, config.max_file_size, &config.filters.allowlist);
        let repo = store.repository(name)?;
        let known = store.known(repo, &rules_version)?;
        Ok(Incremental { store, repo, rules_version, known })
    }

    /// The blobs not to read again.
    pub(crate) fn known(&self) -> &Known {
        &self.known
    }

    /// The stored findings of the known blobs the walk met, at the sightings `recalled`.
    pub(crate) fn recall(&self, recalled: &[Sighting], config: &Config) -> Result<Vec<Finding>> {
        self.store.recall(self.repo, &self.rules_version, recalled, &config.rules)
    }

    /// Records the blobs this run read, the `raw` findings the scanner made in them, and the
    /// `reported` findings.
    pub(crate) fn finish(self, raw: &[Finding], reported: &[Finding]) -> Result<()> {
        let Incremental { store, repo, rules_version, known } = self;
        let read = known.into_read();
        store.record(repo, &Scan { rules_version: &rules_version, read: &read, raw, reported })
    }
}
