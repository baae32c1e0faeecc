//! The git-history source: which commits to scan, which blobs they hold, and who introduced
//! each one. Knows `git2`, nothing of rules or output.
//!
//! Commits are walked oldest first (parents before children; see [`commits`]), so the first
//! time a blob id is met is the commit and path that introduced it: a blob is handed out once, with that
//! location, and later sightings at other paths are only counted as further *places*. A whole
//! history scan skips any tree already walked at the same path (its blobs are all known), so a
//! file unchanged over 500 commits costs one visit. A range scan instead hands out only what
//! each commit in the range introduced: blobs that differ from every parent's entry at the
//! same path (all blobs of a root commit).
//!
//! A scan limited to one path ([`Selection::path`]) walks only the tree or blob at that path,
//! and only in the commits that changed it, as `git log -- PATH` lists them.
//!
//! Commit messages and annotated tag messages (whole scans only) are handed out too. With
//! [`Selection::unreachable`], so is every object of the object database that no ref reaches,
//! after the walk: each unreachable commit's message and the blobs its tree names, at their
//! path (an amended-away commit's key), then the messages of unreachable annotated tags (a
//! deleted tag's), then the remaining blobs with no path. Only object reads are used: no checkout,
//! filters, diff drivers or hooks, so nothing a scanned repository's configuration names is
//! ever run.
//!
//! The steps, each a module: [`plan()`] resolves the selection into commits and tags,
//! [`enumerate()`] walks them on the calling thread, [`Blobs`] streams what it hands out to
//! the driver's pool, [`describe()`] reads who made what holds findings, [`exposure()`] which
//! tips hold it today, and [`Summary`] words what was scanned; [`tips()`] digests what a scan's
//! result depends on besides the objects, so a datastore can tell an unchanged history. Which finding of a secret to report, and how many places hold it, is decided
//! over findings, beside the driver (`crate::driver::history`).

use std::collections::HashMap;
use std::path::Path;
use std::sync::atomic::AtomicU64;

use git2::{Oid, Repository};

use super::Origin;
use crate::error::{RepoHint, Result};

mod commits;
mod describe;
mod exposure;
mod limit;
mod plan;
mod read;
mod summary;
mod tips;
mod walk;

pub use describe::{describe, rfc3339, summary, Attribution};
pub use exposure::{exposure, Exposure, LastCommit, OnlyOn, Status};
pub use limit::path_within;
pub use plan::plan;
pub use read::{Blobs, Known};
pub use summary::Summary;
pub use tips::{remote_tips, tips};
pub use walk::enumerate;

/// Which part of history to scan.
#[derive(Debug, Clone, Default)]
pub struct Selection {
    /// `A..B` (what B has and A has not) or `B` (B and its ancestors); `None`: every ref.
    pub range: Option<String>,
    /// Leave out commits reachable from `refs/remotes/*`.
    pub exclude_remotes: bool,
    /// Only what lies at this path (a file or a directory, `/`-separated, from the root), and
    /// the messages of the commits that changed it, as `git log -- PATH` shows them.
    pub path: Option<String>,
    /// Also every blob in the object database that no ref reaches (whole scans only).
    pub unreachable: bool,
}

/// A piece of history to scan.
#[derive(Debug)]
pub enum Item {
    /// A blob, at the path and in the commit that introduced it.
    Blob {
        /// The blob.
        id: Oid,
        /// Its path in `commit`'s tree.
        path: String,
        /// The commit that introduced it.
        commit: Oid,
    },
    /// A blob no ref reaches.
    Unreachable {
        /// The blob.
        id: Oid,
        /// Its path in an unreachable commit's tree, if one names it.
        path: Option<String>,
    },
    /// A commit message or an annotated tag message.
    Message {
        /// The message.
        text: Vec<u8>,
        /// Which message ([`Origin::CommitMessage`], [`Origin::TagMessage`] or
        /// [`Origin::UnreachableMessage`]).
        origin: Origin,
    },
}

/// The commits and tags a scan covers, resolved from the refs before any tree is read.
#[derive(Debug, Default)]
pub struct Plan {
    /// Commits, parents before children (oldest first among unrelated ones).
    pub commits: Vec<Oid>,
    /// Annotated tags (name, tag object) whose messages are scanned.
    pub tags: Vec<(String, Oid)>,
    /// Hand out only what each commit introduced relative to its parents (range scans).
    pub introduced_only: bool,
    /// Only what lies at this path (see [`Selection::path`]).
    pub path: Option<String>,
    /// Then every blob in the object database the commits did not hold.
    pub unreachable: bool,
    /// Things worth saying about the selection (shallow clone, refs that name no commit).
    pub warnings: Vec<String>,
    /// Refs and commits that could not be read, named.
    pub errors: Vec<String>,
}

/// Live counters for the progress display, updated by the enumerator (the driver counts
/// what was scanned).
#[derive(Debug, Default)]
pub struct Counters {
    /// Commits to walk.
    pub commits_total: AtomicU64,
    /// Commits walked so far.
    pub commits_walked: AtomicU64,
    /// Distinct blobs found so far.
    pub blobs_found: AtomicU64,
}

/// What the enumerator saw besides the items it handed out.
#[derive(Debug, Default)]
pub struct Enumeration {
    /// For every blob handed out, the number of distinct paths it appeared at.
    pub places: HashMap<Oid, u32>,
    /// For every blob handed out, its other paths, each with the first commit holding it
    /// there: where else a secret it holds was seen.
    pub copies: HashMap<Oid, Vec<(String, Oid)>>,
    /// Commit messages handed out.
    pub commit_messages: u64,
    /// Tag messages handed out.
    pub tag_messages: u64,
    /// Blobs no ref reaches handed out (`--unreachable`).
    pub unreachable_blobs: u64,
    /// Messages of commits no ref reaches handed out (`--unreachable`).
    pub unreachable_commit_messages: u64,
    /// Messages of annotated tags no ref reaches handed out (`--unreachable`).
    pub unreachable_tag_messages: u64,
    /// Distinct submodule commits (gitlinks) seen and not followed.
    pub gitlinks: u64,
    /// Objects that could not be read, named.
    pub errors: Vec<String>,
    /// Where the walk met the known blobs to recall (see [`Known`]), which were not read.
    pub recalled: Vec<Sighting>,
}

/// Where the walk met a blob first: what a scan of it would report it as.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sighting {
    /// The blob.
    pub blob: Oid,
    /// [`Origin::Blob`], at the path and in the commit that introduced it, or
    /// [`Origin::Unreachable`].
    pub origin: Origin,
}

/// Opens the repository at or above `path` (default: the current directory).
///
/// Also turns off libgit2's re-hashing of every object read (process-wide): it doubled the
/// CPU time of a history scan, `git cat-file` does not do it either, and a damaged object
/// still fails to inflate.
pub fn open(path: Option<&Path>) -> Result<Repository> {
    git2::opts::strict_hash_verification(false);
    // Never from git's environment (`GIT_DIR`): history names its repository.
    super::git::open_for_command(Some(path.unwrap_or(Path::new("."))), RepoHint::for_argument(path))
}
