//! The staged source: exactly what the next commit will contain. Compares the index with
//! `HEAD`'s tree (never the work tree) and lists the staged blobs of every added, modified or
//! renamed file, whole (not diff hunks, so rules that need context still match), together with
//! the `HEAD` blobs the commit replaces or deletes, which tell new secrets from old ones.
//!
//! - Before the first commit (no `HEAD`), every index entry is new.
//! - A rename is a deletion plus an addition: the old path's `HEAD` blob is among the
//!   replaced ones, so a key that only moved is recognised as already committed.
//! - During a merge with unresolved conflicts, each path's "ours" and "theirs" versions are
//!   scanned (whichever the resolution keeps), and the summary says so.
//! - A symlink's content is its target's text, which is committed like a file's and can hold
//!   a key: it is scanned. Submodule gitlinks carry no content of this repository: they are
//!   counted, not scanned. Deletions add nothing.
//!
//! `git commit -a` and `git commit PATH` run the hook with `GIT_INDEX_FILE` naming a
//! temporary index; [`open`] honours it, so the index read is the one being committed.

use std::path::Path;

use git2::{Delta, DiffOptions, Index, Oid, Repository, Tree};

use super::git::{read_blob, BlobRead};
use super::{Origin, SkipReason, Skipped, Source, SourceStats, Visitor};
use crate::error::{Error, Plain, RepoHint, Result};

/// A blob and the repository path it is (or was) stored at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PathBlob {
    /// Path inside the repository, `/`-separated.
    pub path: String,
    /// The blob.
    pub id: Oid,
}

/// What the next commit changes, relative to `HEAD`.
#[derive(Debug, Default)]
pub struct StagedChanges {
    /// Staged blobs that differ from `HEAD` at their path: the content to scan.
    pub staged: Vec<PathBlob>,
    /// `HEAD` blobs at the paths the commit modifies, deletes or renames away from.
    pub replaced: Vec<PathBlob>,
    /// Entries passed over (submodules) and conflicts, for the summary.
    pub stats: SourceStats,
}

/// Opens the repository `repo` is in, or, without one, the repository git's environment
/// (`GIT_DIR`, `GIT_INDEX_FILE`, as set for hooks) or the current directory names. A bare
/// repository has no index and is an error.
pub fn open(repo: Option<&Path>) -> Result<Repository> {
    // libgit2 re-hashes every object it reads unless told not to; git itself does not, and a
    // hook pays for it on every tree of HEAD.
    git2::opts::strict_hash_verification(false);
    let repository = super::git::open_for_command(repo, RepoHint::for_argument(repo))?;
    if repository.is_bare() {
        return Err(Error::Usage(format!(
            "{}: a bare repository has no staged changes to scan",
            repository.path().display()
        )));
    }
    Ok(repository)
}

/// Lists what the index changes relative to `HEAD`.
pub fn changes(repo: &Repository) -> Result<StagedChanges> {
    let index = repo.index().map_err(|e| Error::git("cannot read the index", e))?;
    let head = head_tree(repo)?;
    let mut options = DiffOptions::new();
    options.ignore_submodules(false);
    let diff = repo
        .diff_tree_to_index(head.as_ref(), Some(&index), Some(&mut options))
        .map_err(|e| Error::git("cannot compare the index with HEAD", e))?;
    let mut changes = StagedChanges::default();
    for delta in diff.deltas() {
        let (old, new) = (delta.old_file(), delta.new_file());
        // Conflicted paths are read from the index's conflict entries below.
        if matches!(delta.status(), Delta::Added | Delta::Modified | Delta::Renamed | Delta::Copied | Delta::Typechange)
        {
            changes.push_staged(u32::from(new.mode()), path_of(new.path_bytes()), new.id());
        }
        if matches!(delta.status(), Delta::Modified | Delta::Typechange | Delta::Deleted)
            && has_content(u32::from(old.mode()))
        {
            changes.replaced.push(PathBlob { path: path_of(old.path_bytes()), id: old.id() });
        }
    }
    add_conflicts(repo, &index, head.as_ref(), &mut changes)?;
    Ok(changes)
}

impl StagedChanges {
    /// Records a staged entry: a file or symlink to scan, or a submodule to count.
    fn push_staged(&mut self, mode: u32, path: String, id: Oid) {
        if has_content(mode) {
            self.staged.push(PathBlob { path, id });
        } else {
            self.stats.not_regular += 1;
        }
    }
}

/// `HEAD`'s tree, or `None` before the first commit.
fn head_tree(repo: &Repository) -> Result<Option<Tree<'_>>> {
    match repo.head() {
        Ok(head) => head.peel_to_tree().map(Some).map_err(|e| Error::git("cannot read HEAD's tree", e)),
        Err(e) if matches!(e.code(), git2::ErrorCode::UnbornBranch | git2::ErrorCode::NotFound) => Ok(None),
        Err(e) => Err(Error::git("cannot read HEAD", e)),
    }
}

/// Adds each unresolved conflict's "ours" and "theirs" blobs (where they differ from `HEAD`)
/// and `HEAD`'s own blob at that path.
fn add_conflicts(repo: &Repository, index: &Index, head: Option<&Tree<'_>>, changes: &mut StagedChanges) -> Result<()> {
    if !index.has_conflicts() {
        return Ok(());
    }
    let conflicts = index.conflicts().map_err(|e| Error::git("cannot read the index's conflicts", e))?;
    let mut paths = 0;
    for conflict in conflicts {
        let conflict = conflict.map_err(|e| Error::git("cannot read a conflict entry", e))?;
        let Some(any_side) = conflict.our.as_ref().or(conflict.their.as_ref()).or(conflict.ancestor.as_ref()) else {
            continue;
        };
        let path = path_of(Some(&any_side.path));
        let head_id = head
            .and_then(|tree| super::git::entry_at(repo, tree, &any_side.path))
            .filter(|entry| has_content(entry.filemode() as u32))
            .map(|entry| entry.id());
        if let Some(id) = head_id {
            changes.replaced.push(PathBlob { path: path.clone(), id });
        }
        let mut sides: Vec<_> = [&conflict.our, &conflict.their].into_iter().flatten().collect();
        sides.dedup_by_key(|entry| entry.id);
        for side in sides.into_iter().filter(|entry| Some(entry.id) != head_id) {
            changes.push_staged(side.mode, path.clone(), side.id);
        }
        paths += 1;
    }
    let paths_have = if paths == 1 { "1 path has".to_string() } else { format!("{paths} paths have") };
    changes
        .stats
        .warnings
        .push(format!("{paths_have} unresolved merge conflicts; both sides (ours and theirs) of each were scanned"));
    Ok(())
}

/// Blobs of the index or of `HEAD`, read one after another on the calling thread: a commit
/// stages a handful of files, and a thread pool would cost a hook more than it saves.
#[derive(Clone, Copy)]
pub struct Blobs<'a> {
    repo: &'a Repository,
    blobs: &'a [PathBlob],
    max_size: u64,
    /// [`Origin::Staged`] or [`Origin::Head`].
    origin: fn(String) -> Origin,
}

impl<'a> Blobs<'a> {
    /// The staged blobs to scan, up to `max_size` bytes each.
    pub fn staged(repo: &'a Repository, blobs: &'a [PathBlob], max_size: u64) -> Self {
        Blobs { repo, blobs, max_size, origin: Origin::Staged }
    }

    /// The `HEAD` blobs a commit replaces, up to `max_size` bytes each.
    pub fn head(repo: &'a Repository, blobs: &'a [PathBlob], max_size: u64) -> Self {
        Blobs { repo, blobs, max_size, origin: Origin::Head }
    }
}

impl Source for Blobs<'_> {
    /// Nothing: what was read, skipped and unreadable went to the visitor.
    type Output = SourceStats;
    const PARALLEL: bool = false;

    /// Fails only if the object database cannot be opened. Blobs that are too large are
    /// skipped and named; unreadable ones are failed, named.
    fn feed<V, F>(self, _pool: Option<&rayon::ThreadPool>, visitors: &F) -> Result<SourceStats>
    where
        V: Visitor + Send,
        F: Fn() -> V + Sync + ?Sized,
    {
        let odb = self.repo.odb().map_err(|e| Error::git("cannot open the object database", e))?;
        let mut visitor = visitors();
        for blob in self.blobs {
            match read_blob(&odb, blob.id, self.max_size).map_err(|e| Plain(&e).to_string()) {
                Ok(BlobRead::Read(object)) => visitor.blob(object.data(), || (self.origin)(blob.path.clone())),
                Ok(BlobRead::TooLarge(size)) => {
                    visitor.skip(Skipped { path: blob.path.clone().into(), reason: SkipReason::TooLarge { size } })
                }
                Err(message) => visitor.fail(format!("{} (blob {}): {message}", blob.path, blob.id)),
            }
        }
        Ok(SourceStats::default())
    }
}

/// Whether a raw git mode is a regular file's or a symlink's, whose blob is content (not a
/// gitlink's or a tree's).
fn has_content(mode: u32) -> bool {
    matches!(mode & 0o170000, 0o100000 | 0o120000)
}

fn path_of(bytes: Option<&[u8]>) -> String {
    String::from_utf8_lossy(bytes.unwrap_or_default()).into_owned()
}
