//! What a history scan's result depends on besides the objects themselves, in one digest: every
//! ref and what it points to, `HEAD`, the stash's entries, the files that change which commits
//! a walk meets (shallow boundary, grafts, alternates), and the selection. Objects are named by
//! their content, so two scans of a repository with the same digest meet the same commits,
//! trees, blobs and tips: a datastore that recorded the first can answer for the second
//! without reading anything.

use std::path::Path;

use git2::Repository;
use sha2::{Digest, Sha256};

use super::Selection;
use crate::fsio;

/// The largest shallow, grafts or alternates file taken into the digest; a larger one means
/// there is no digest (the scan runs in full).
const MAX_STATE_FILE: u64 = 1 << 20;

/// The digest of what a scan of `selection` in `repo` depends on besides object contents
/// (64 hex digits); `None` when there is none to trust: a selection that reads objects no ref
/// reaches (they come and go without any ref changing), a path, or refs that cannot be read.
pub fn tips(repo: &Repository, selection: &Selection) -> Option<String> {
    let mut digest = Digested::of(selection)?;
    let mut refs = refs(repo)?;
    refs.sort();
    for (name, target) in &refs {
        digest.add(name);
        digest.add(target);
    }
    for file in ["shallow", "info/grafts", "objects/info/alternates"] {
        digest.add(file.as_bytes());
        digest.add(&state_file(&repo.commondir().join(file))?);
    }
    Some(digest.hex())
}

/// [`tips`] for a remote repository, from the digest of the refs it `advertised` (see
/// `crate::source::remote::advertised`): a mirror clone holds just those refs, so the same
/// advertisement means the same clone to scan.
pub fn remote_tips(advertised: &str, selection: &Selection) -> Option<String> {
    let mut digest = Digested::of(selection)?;
    digest.add(b"remote");
    digest.add(advertised.as_bytes());
    Some(digest.hex())
}

/// A digest being made: each field length-prefixed, so no two lists of fields feed the same
/// bytes.
struct Digested(Sha256);

impl Digested {
    /// The digest's start for `selection`; `None` for one no digest can stand for.
    fn of(selection: &Selection) -> Option<Digested> {
        if selection.unreachable || selection.path.is_some() {
            return None;
        }
        let mut digest = Digested(Sha256::new());
        digest.add(b"keyhound-tips-v1");
        digest.add(format!("{:?}/{}", selection.range, selection.exclude_remotes).as_bytes());
        Some(digest)
    }

    fn add(&mut self, field: &[u8]) {
        self.0.update((field.len() as u64).to_le_bytes());
        self.0.update(field);
    }

    fn hex(self) -> String {
        self.0.finalize().iter().map(|byte| format!("{byte:02x}")).collect()
    }
}

/// Every ref (`HEAD` included) with its target: an object id, or the name a symbolic ref
/// points to; then the stash's older entries, which live only in its reflog.
fn refs(repo: &Repository) -> Option<Vec<(Vec<u8>, Vec<u8>)>> {
    let mut refs = Vec::new();
    for reference in repo.references().ok()?.chain(std::iter::once(repo.find_reference("HEAD"))) {
        let reference = reference.ok()?;
        let target = match (reference.target(), reference.symbolic_target_bytes()) {
            (Some(id), _) => id.as_bytes().to_vec(),
            (None, Some(name)) => [b"ref: ", name].concat(),
            (None, None) => return None,
        };
        refs.push((reference.name_bytes().to_vec(), target));
    }
    if let Ok(reflog) = repo.reflog("refs/stash") {
        for (index, entry) in reflog.iter().enumerate() {
            refs.push((format!("stash@{{{index}}}").into_bytes(), entry.id_new().as_bytes().to_vec()));
        }
    }
    Some(refs)
}

/// The file's bytes (empty when there is none); `None` when it cannot be read, is not a
/// regular file, or is too large to take in. Opened without blocking: the repository may have
/// put a FIFO there.
fn state_file(path: &Path) -> Option<Vec<u8>> {
    match fsio::open_for_reading(path, true) {
        Ok(file) => fsio::read_opened(file, MAX_STATE_FILE).ok(),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Some(Vec::new()),
        Err(_) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use git2::{Oid, Signature};

    fn commit(repo: &Repository, file: &str) -> Oid {
        std::fs::write(repo.workdir().unwrap().join(file), file).unwrap();
        let mut index = repo.index().unwrap();
        index.add_path(Path::new(file)).unwrap();
        let tree = repo.find_tree(index.write_tree().unwrap()).unwrap();
        let signature = Signature::now("t", "t@example.com").unwrap();
        let parent = repo.head().ok().map(|head| head.peel_to_commit().unwrap());
        let parents: Vec<_> = parent.iter().collect();
        repo.commit(Some("HEAD"), &signature, &signature, "c", &tree, &parents).unwrap()
    }

    #[test]
    fn the_digest_changes_with_any_ref_head_or_selection_and_only_then() {
        let dir = tempfile::tempdir().unwrap();
        let repo = Repository::init(dir.path()).unwrap();
        let whole = Selection::default();
        let first = commit(&repo, "a");
        let before = tips(&repo, &whole).unwrap();
        assert_eq!(tips(&repo, &whole), Some(before.clone()), "the same repository, the same digest");
        let range = Selection { range: Some("HEAD".into()), ..Selection::default() };
        assert_ne!(tips(&repo, &range), Some(before.clone()));
        repo.branch("side", &repo.find_commit(first).unwrap(), false).unwrap();
        let branched = tips(&repo, &whole).unwrap();
        assert_ne!(branched, before, "a new branch");
        repo.set_head("refs/heads/side").unwrap();
        let moved = tips(&repo, &whole).unwrap();
        assert_ne!(moved, branched, "HEAD on another branch");
        commit(&repo, "b");
        assert_ne!(tips(&repo, &whole).unwrap(), moved, "a new commit");
        std::fs::write(repo.path().join("shallow"), first.to_string()).unwrap();
        assert_ne!(tips(&repo, &whole), Some(moved), "a shallow boundary");
    }

    #[test]
    fn objects_no_ref_reaches_and_paths_have_no_digest() {
        let dir = tempfile::tempdir().unwrap();
        let repo = Repository::init(dir.path()).unwrap();
        commit(&repo, "a");
        assert!(tips(&repo, &Selection { unreachable: true, ..Selection::default() }).is_none());
        assert!(tips(&repo, &Selection { path: Some("a".into()), ..Selection::default() }).is_none());
        assert!(remote_tips("abc", &Selection { unreachable: true, ..Selection::default() }).is_none());
        let whole = Selection::default();
        assert_ne!(remote_tips("abc", &whole), tips(&repo, &whole));
        assert_ne!(remote_tips("abc", &whole), remote_tips("abd", &whole));
        std::fs::write(repo.path().join("shallow"), vec![b'0'; MAX_STATE_FILE as usize + 1]).unwrap();
        assert!(tips(&repo, &Selection::default()).is_none(), "a state file too large to take in");
    }

    #[cfg(unix)]
    #[test]
    fn a_fifo_for_a_state_file_gives_no_digest_without_blocking() {
        let dir = tempfile::tempdir().unwrap();
        let repo = Repository::init(dir.path()).unwrap();
        commit(&repo, "a");
        let fifo = repo.path().join("info/grafts");
        assert!(std::process::Command::new("mkfifo").arg(&fifo).status().unwrap().success());
        assert!(tips(&repo, &Selection::default()).is_none());
    }
}
