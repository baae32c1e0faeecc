//! One incremental history scan of one repository: what the datastore already knows going in
//! ([`Incremental::start`]): the whole answer when the history is unchanged
//! ([`Incremental::unchanged`]), else the blobs not to read again and the findings of those
//! the walk meets ([`Incremental::recall`]); what the scan has done so far, while it runs
//! ([`Incremental::checkpointing`]); and what this run adds coming out ([`Incremental::finish`],
//! one transaction).

use super::checkpoint::{Checkpoints, Unrecorded};
use super::{rules_version, Datastore, RepoId, Scan, Snapshot};
use crate::config::Config;
use crate::driver::{Finished, Journal};
use crate::error::Result;
use crate::finding::Finding;
use crate::pipeline::Collected;
use crate::source::history::{Known, Sighting};

/// What an incremental scan's results depend on besides the repository's objects.
#[derive(Debug, Clone)]
pub(crate) struct Scope {
    /// The rules version ([`rules_version`], computed once per run).
    pub rules_version: String,
    /// The digest of the history's refs and selection (`crate::source::history::tips`), when
    /// there is one to trust.
    pub tips: Option<String>,
    /// Whether the report needs what history knows of each secret.
    pub grouped: bool,
}

impl Scope {
    /// The scope of a run with `config`'s rules and options, of a history whose digest is `tips`.
    pub(crate) fn new(config: &Config, tips: Option<String>, grouped: bool) -> Self {
        Scope {
            rules_version: rules_version(
                &config.rules,
                &config.expand,
                config.max_file_size,
                &config.filters.allowlist,
            ),
            tips,
            grouped,
        }
    }
}

/// A history scan of one repository that reads only blobs the datastore does not hold.
#[derive(Debug)]
pub(crate) struct Incremental<'s> {
    store: &'s mut Datastore,
    repo: RepoId,
    rules_version: String,
    /// The digest of the history's refs and selection, when there is one to trust.
    tips: Option<String>,
    /// The recorded scan's results, when they answer for this history.
    unchanged: Option<Collected>,
    known: Known,
}

impl<'s> Incremental<'s> {
    /// Starts a scan of the repository named `name` in `scope`, with `config`'s rules.
    pub(crate) fn start(store: &'s mut Datastore, name: &str, scope: Scope, config: &Config) -> Result<Self> {
        let Scope { rules_version, tips, grouped } = scope;
        // Findings recorded without their secret cannot be recorded with it: a datastore that
        // is to keep secrets reads every blob again.
        let rules_version = if store.store_secrets { format!("{rules_version}+secrets") } else { rules_version };
        let repo = store.repository(name)?;
        let snapshot = match &tips {
            Some(tips) => store.snapshot(repo, &rules_version, tips)?,
            None => None,
        };
        let unchanged = snapshot
            .filter(|snapshot| !grouped || snapshot.has_secrets())
            .and_then(|snapshot| snapshot.collected(&config.rules))
            .map(|collected| Collected { secrets: collected.secrets.filter(|_| grouped), ..collected });
        let known = match unchanged {
            Some(_) => Known::default(),
            None => store.known(repo, &rules_version)?,
        };
        Ok(Incremental { store, repo, rules_version, tips, unchanged, known })
    }

    /// The recorded scan's results, when nothing they depend on changed: taken once.
    pub(crate) fn unchanged(&mut self) -> Option<Collected> {
        self.unchanged.take()
    }

    /// Runs `scan` of the blobs not to read again while checkpoints record what `journal`
    /// says finished (see [`super::checkpoint`]); returns its result and what is left for
    /// [`Incremental::finish`] to record.
    pub(crate) fn checkpointing<T>(
        &mut self,
        journal: &Journal,
        scan: impl FnOnce(&Known) -> T,
    ) -> Result<(T, Unrecorded)> {
        let checkpoints = Checkpoints { store: &mut *self.store, repo: self.repo, rules_version: &self.rules_version };
        let known = &self.known;
        checkpoints.during(journal, || scan(known))
    }

    /// The stored findings of the known blobs the walk met, at the sightings `recalled`.
    pub(crate) fn recall(&self, recalled: &[Sighting], config: &Config) -> Result<Vec<Finding>> {
        self.store.recall(self.repo, &self.rules_version, recalled, &config.rules)
    }

    /// What to keep of `collected` to answer for this history later; `None` when it cannot
    /// (no digest to trust, an incomplete scan).
    pub(crate) fn snapshot(&self, collected: &Collected) -> Option<Snapshot> {
        self.tips.as_ref().and_then(|_| Snapshot::of(collected, self.store.store_secrets))
    }

    /// Records the blobs this run scanned whole that no checkpoint recorded, `rest`, with the
    /// findings the scanner made in them, the `snapshot` of what it collected, and the
    /// `reported` findings.
    pub(crate) fn finish(self, rest: &Finished, snapshot: Option<Snapshot>, reported: &[Finding]) -> Result<()> {
        let Incremental { store, repo, rules_version, tips, .. } = self;
        let snapshot = tips.as_deref().zip(snapshot.as_ref());
        let (read, raw) = (&rest.blobs, &rest.findings);
        store.record(repo, &Scan { rules_version: &rules_version, read, raw, reported, snapshot })
    }

    /// Records the `reported` findings of an answer from [`Incremental::unchanged`].
    pub(crate) fn finish_unchanged(self, reported: &[Finding]) -> Result<()> {
        self.store.record_unchanged(self.repo, &self.rules_version, reported)
    }
}
