//! Sources of blobs to scan: the working tree, git history (local, or a remote cloned first),
//! the staged index, standard input.
//! A source knows files and git, never rules or output: it implements [`Source`], handing each
//! unit's bytes and [`Origin`] to a [`Visitor`] the driver made for the reading thread, and
//! counts what it passed over.
//!
//! Each source keeps the shape that makes it fast: the work tree walks on the driver's pool,
//! history enumerates on the calling thread and reads blobs on the pool, the staged index and
//! standard input read on the calling thread with no pool at all (a hook runs in milliseconds).
//! The driver owns everything after the bytes: scanners, findings, counters, read errors.

pub mod git;
pub mod history;
pub mod provenance;
pub mod remote;
pub mod staged;
pub mod stdin;
pub mod worktree;

pub use provenance::{CommitInfo, Origin, Provenance};

/// What a source hands its units to: one visitor per reading thread, made by the driver.
pub trait Visitor {
    /// Scans a blob (a file, a staged blob, a blob in history, standard input): counted among
    /// the blobs and bytes scanned. `origin` is called only when there is something to report.
    fn blob(&mut self, bytes: &[u8], origin: impl FnOnce() -> Origin);
    /// Scans a commit or tag message: text about the repository, counted by the source apart
    /// from the blobs.
    fn message(&mut self, text: &[u8], origin: Origin);
    /// A unit passed over, named, and why.
    fn skip(&mut self, skipped: Skipped);
    /// A unit that could not be read, named, and why: the scan is incomplete.
    fn fail(&mut self, error: String);
}

/// A source of units to scan.
pub trait Source {
    /// What the source counted besides its units, for the summary.
    type Output;
    /// Whether it reads on the driver's thread pool; `false`: on the calling thread, and no
    /// pool is built.
    const PARALLEL: bool;
    /// Hands every unit to a visitor from `visitors`, one per thread that reads. `pool` is the
    /// driver's pool when [`Source::PARALLEL`], else `None`. Fails only when the source as a
    /// whole cannot be read; a unit that cannot is [`Visitor::fail`]ed and the rest go on.
    fn feed<V, F>(self, pool: Option<&rayon::ThreadPool>, visitors: &F) -> Result<Self::Output>
    where
        V: Visitor + Send,
        F: Fn() -> V + Sync + ?Sized;
}

use std::fmt;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::error::Result;
use crate::size::human_bytes;

/// Why a file was not scanned.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum SkipReason {
    /// Larger than the size limit.
    TooLarge {
        /// The file's size in bytes.
        size: u64,
    },
    /// A stream holding more than the size limit, whose size is unknown: it was not read on.
    Over {
        /// The limit.
        limit: u64,
    },
}

impl fmt::Display for SkipReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SkipReason::TooLarge { size } => write!(f, "too large ({})", human_bytes(*size)),
            SkipReason::Over { limit } => write!(f, "larger than {}", human_bytes(*limit)),
        }
    }
}

/// A file that was not scanned, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Skipped {
    /// The file.
    pub path: PathBuf,
    /// Why.
    pub reason: SkipReason,
}

/// What a source read and what it passed over.
#[derive(Debug, Default, Clone, Serialize, Deserialize)]
pub struct SourceStats {
    /// Blobs (files) handed to the scanner.
    pub blobs: u64,
    /// Bytes handed to the scanner.
    pub bytes: u64,
    /// Files not scanned, with the reason (too large, …).
    pub skipped: Vec<Skipped>,
    /// Entries that are not regular files (FIFOs, sockets, devices, symlinks, submodules).
    pub not_regular: u64,
    /// Files excluded by `.gitignore`/`.ignore` rules.
    pub ignored: u64,
    /// Errors that left something unscanned: unreadable files or directories.
    pub errors: Vec<String>,
    /// Warnings about the targets themselves (e.g. a target that is wholly ignored), and about
    /// what inside a blob could not be read (malformed archives, archive limits reached).
    pub warnings: Vec<String>,
    /// Other things scanned or passed over that the summary should mention (e.g. commit
    /// messages scanned, submodules not followed).
    pub notes: Vec<String>,
    /// What was scanned inside blobs.
    pub nested: NestedStats,
}

/// What was scanned inside blobs: archive members and decoded text.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct NestedStats {
    /// Archive members scanned.
    pub members: u64,
    /// Their decompressed bytes.
    pub member_bytes: u64,
    /// Decoded texts scanned: base64 runs and UTF-16 files.
    pub decoded: u64,
}

impl SourceStats {
    /// Adds another source's counts to these.
    pub fn merge(&mut self, other: SourceStats) {
        self.blobs += other.blobs;
        self.bytes += other.bytes;
        self.skipped.extend(other.skipped);
        self.not_regular += other.not_regular;
        self.ignored += other.ignored;
        self.errors.extend(other.errors);
        self.warnings.extend(other.warnings);
        self.notes.extend(other.notes);
        self.nested.members += other.nested.members;
        self.nested.member_bytes += other.nested.member_bytes;
        self.nested.decoded += other.nested.decoded;
    }

    /// True when nothing was counted.
    pub fn is_empty(&self) -> bool {
        self.blobs == 0
            && self.bytes == 0
            && self.skipped.is_empty()
            && self.not_regular == 0
            && self.ignored == 0
            && self.errors.is_empty()
            && self.warnings.is_empty()
            && self.notes.is_empty()
            && self.nested == NestedStats::default()
    }
}

/// A visitor for tests: records what a source hands it.
#[cfg(test)]
pub(crate) mod testing {
    use std::sync::Mutex;

    use super::{Origin, Skipped, SourceStats, Visitor};

    /// Records each blob's rendered origin and counts it; skips and failures go in the stats.
    pub(crate) struct Recorder<'r>(&'r Mutex<(SourceStats, Vec<String>)>);

    impl Recorder<'_> {
        /// Runs `feed` with a recorder per thread; returns its result, the stats recorded
        /// (blobs, bytes, skips, failures) and the origins of the units read, in reading order.
        pub(crate) fn run<T>(
            feed: impl for<'a> FnOnce(&(dyn Fn() -> Recorder<'a> + Sync)) -> T,
        ) -> (T, SourceStats, Vec<String>) {
            let record = Mutex::default();
            let output = feed(&|| Recorder(&record));
            let (read, seen) = record.into_inner().unwrap();
            (output, read, seen)
        }
    }

    impl Visitor for Recorder<'_> {
        fn blob(&mut self, bytes: &[u8], origin: impl FnOnce() -> Origin) {
            let mut record = self.0.lock().unwrap();
            record.0.blobs += 1;
            record.0.bytes += bytes.len() as u64;
            record.1.push(origin().to_string());
        }

        fn message(&mut self, _text: &[u8], origin: Origin) {
            self.0.lock().unwrap().1.push(origin.to_string());
        }

        fn skip(&mut self, skipped: Skipped) {
            self.0.lock().unwrap().0.skipped.push(skipped);
        }

        fn fail(&mut self, error: String) {
            self.0.lock().unwrap().0.errors.push(error);
        }
    }
}
