//! Where the blobs holding a secret are today: which branch and tag tips hold one in their
//! tree, and, when none does, the newest scanned commit that did. Answers "is the key still
//! in the code, and where?" for each secret a history scan found, from objects alone.
//!
//! A tree's answer (which of the wanted blobs it holds, at any depth) is computed once per
//! tree id and shared by every tip and commit that holds the same tree, so a thousand refs
//! that differ in one file cost one walk plus one path each. Trees are walked with an explicit
//! stack: a hostile repository's depth costs memory, never the call stack.

use std::collections::HashMap;
use std::hash::Hash;
use std::rc::Rc;

use git2::{ObjectType, Oid, Repository};
use serde::{Deserialize, Serialize};

use super::rfc3339;

/// Where a secret is today.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Exposure {
    /// `present` (some tip's tree holds it), `removed` (none does, history still does) or
    /// `message` (only in commit or tag messages: history holds it until rewritten).
    pub status: Status,
    /// The refs whose tip tree holds it, by short name (`main`, `v1.2`, `origin/main`,
    /// `refs/stash`), sorted.
    pub refs: Vec<String>,
    /// Whether `HEAD`'s commit holds it.
    pub in_head: bool,
    /// When it is present but not in `HEAD`, and every ref holding it is of one kind: only on
    /// branches `HEAD` has not merged, or only on remote-tracking branches.
    pub only_on: Option<OnlyOn>,
    /// When it was removed: the newest scanned commit holding it.
    pub last_commit: Option<LastCommit>,
}

/// Whether a secret is still at a tip.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Status {
    /// Some tip's tree holds it.
    Present,
    /// No tip holds it; scanned history does.
    Removed,
    /// Only in commit or tag messages.
    Message,
    /// Only in objects no ref reaches (`--unreachable`): amended or dropped commits, dropped
    /// stashes, objects only a reflog keeps.
    Unreachable,
}

/// The kind of every ref holding a secret that `HEAD` does not hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum OnlyOn {
    /// Local refs whose tips are not in `HEAD`'s history (and perhaps remote-tracking ones).
    Unmerged,
    /// Remote-tracking branches (`refs/remotes/*`).
    RemoteTracking,
}

/// The newest scanned commit holding a removed secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LastCommit {
    /// Full commit id (hex).
    pub id: String,
    /// Its committer date, RFC 3339: about when the secret left.
    pub date: String,
}

impl Exposure {
    /// The exposure of a secret found only in messages.
    pub fn message() -> Self {
        Exposure { status: Status::Message, refs: Vec::new(), in_head: false, only_on: None, last_commit: None }
    }

    /// The exposure of a secret found only in objects no ref reaches.
    pub fn unreachable() -> Self {
        Exposure { status: Status::Unreachable, ..Exposure::message() }
    }
}

/// A ref's tip, as exposure names it.
struct Tip {
    name: String,
    commit: Oid,
    remote: bool,
}

/// The exposure of each secret (`K`) from the blobs found holding it. `commits` are the
/// scanned commits, parents first: the newest one holding a removed secret is its last.
/// Refs and objects that cannot be read are passed over: the scan named them already.
pub fn exposure<K: Clone + Eq + Hash>(
    repo: &Repository,
    commits: &[Oid],
    blobs: &HashMap<K, Vec<Oid>>,
) -> HashMap<K, Exposure> {
    let index = Index::new(blobs);
    if index.wanted.is_empty() {
        return blobs.keys().map(|key| (key.clone(), Exposure::message())).collect();
    }
    let mut presence = Presence::new(repo, &index.wanted);
    let head = repo.head().ok().and_then(|head| head.peel_to_commit().ok()).map(|commit| commit.id());
    let mut at_tips: Vec<Vec<&Tip>> = vec![Vec::new(); index.keys.len()];
    let tips = tips(repo);
    for tip in &tips {
        for key in index.keys_in(&presence.commit(tip.commit)) {
            at_tips[key].push(tip);
        }
    }
    let in_head: Vec<bool> = match head {
        Some(head) => {
            let mut held = vec![false; index.keys.len()];
            index.keys_in(&presence.commit(head)).for_each(|key| held[key] = true);
            held
        }
        None => vec![false; index.keys.len()],
    };
    let removed: Vec<usize> = (0..index.keys.len()).filter(|&key| at_tips[key].is_empty()).collect();
    let last = last_commits(&mut presence, &index, commits, &removed);
    let merged = |tip: &Tip| head.is_some_and(|head| is_ancestor(repo, tip.commit, head));
    let mut out = HashMap::new();
    for (key, name) in index.keys.iter().enumerate() {
        let refs = &at_tips[key];
        let exposure = if refs.is_empty() {
            let last_commit = last.get(&key).cloned();
            Exposure { status: Status::Removed, refs: Vec::new(), in_head: false, only_on: None, last_commit }
        } else {
            let only_on = if in_head[key] { None } else { only_on(refs, merged) };
            let mut names: Vec<String> = refs.iter().map(|tip| tip.name.clone()).collect();
            names.sort();
            names.dedup();
            Exposure { status: Status::Present, refs: names, in_head: in_head[key], only_on, last_commit: None }
        };
        out.insert((*name).clone(), exposure);
    }
    for key in blobs.keys().filter(|key| !out.contains_key(*key)).cloned().collect::<Vec<_>>() {
        out.insert(key, Exposure::message());
    }
    out
}

/// Whether every ref holding a secret `HEAD` lacks is remote-tracking, or unmerged.
fn only_on(refs: &[&Tip], merged: impl Fn(&Tip) -> bool) -> Option<OnlyOn> {
    if refs.iter().all(|tip| tip.remote) {
        Some(OnlyOn::RemoteTracking)
    } else if refs.iter().all(|tip| tip.remote || !merged(tip)) {
        Some(OnlyOn::Unmerged)
    } else {
        None
    }
}

/// Whether `commit` is `head` or one of its ancestors.
fn is_ancestor(repo: &Repository, commit: Oid, head: Oid) -> bool {
    commit == head || repo.graph_descendant_of(head, commit).unwrap_or(false)
}

/// For each secret in `removed`, the newest of `commits` (parents first) whose tree holds one
/// of its blobs. Stops as soon as each has one.
fn last_commits<K>(
    presence: &mut Presence,
    index: &Index<K>,
    commits: &[Oid],
    removed: &[usize],
) -> HashMap<usize, LastCommit> {
    let mut last = HashMap::new();
    if removed.is_empty() {
        return last;
    }
    let mut left: Vec<bool> = vec![false; index.keys.len()];
    removed.iter().for_each(|&key| left[key] = true);
    let mut remaining = removed.len();
    for &commit in commits.iter().rev() {
        // A commit may hold several blobs of one secret: each secret is taken once.
        let held: Vec<usize> = index.keys_in(&presence.commit(commit)).collect();
        for key in held {
            if !std::mem::replace(&mut left[key], false) {
                continue;
            }
            remaining -= 1;
            if let Some(found) = presence.last_commit(commit) {
                last.insert(key, found);
            }
        }
        if remaining == 0 {
            break;
        }
    }
    last
}

/// The wanted blobs, numbered, and which secrets each holds.
struct Index<'k, K> {
    /// The secrets, numbered by position.
    keys: Vec<&'k K>,
    /// Blob → its number in `holders`.
    wanted: HashMap<Oid, u32>,
    /// For each wanted blob, the secrets it holds.
    holders: Vec<Vec<usize>>,
}

impl<'k, K> Index<'k, K> {
    fn new(blobs: &'k HashMap<K, Vec<Oid>>) -> Self {
        let mut index = Index { keys: Vec::new(), wanted: HashMap::new(), holders: Vec::new() };
        for (key, ids) in blobs.iter().filter(|(_, ids)| !ids.is_empty()) {
            let number = index.keys.len();
            index.keys.push(key);
            for id in ids {
                let next = index.holders.len() as u32;
                let blob = *index.wanted.entry(*id).or_insert(next);
                if blob == next {
                    index.holders.push(Vec::new());
                }
                index.holders[blob as usize].push(number);
            }
        }
        index
    }

    /// The secrets the blobs numbered `held` hold (a secret may repeat).
    fn keys_in<'a>(&'a self, held: &'a [u32]) -> impl Iterator<Item = usize> + 'a {
        held.iter().flat_map(|&blob| self.holders[blob as usize].iter().copied())
    }
}

/// Which wanted blobs each tree holds, computed once per tree.
struct Presence<'r, 'w> {
    repo: &'r Repository,
    wanted: &'w HashMap<Oid, u32>,
    trees: HashMap<Oid, Rc<[u32]>>,
}

/// A tree being walked, and the wanted blobs found in it so far.
struct Frame<'r> {
    id: Oid,
    tree: git2::Tree<'r>,
    next: usize,
    held: Vec<u32>,
}

impl<'r, 'w> Presence<'r, 'w> {
    fn new(repo: &'r Repository, wanted: &'w HashMap<Oid, u32>) -> Self {
        Presence { repo, wanted, trees: HashMap::new() }
    }

    /// The wanted blobs in `commit`'s tree (none if it cannot be read).
    fn commit(&mut self, commit: Oid) -> Rc<[u32]> {
        match self.repo.find_commit(commit) {
            Ok(commit) => self.tree(commit.tree_id()),
            Err(_) => Rc::from([]),
        }
    }

    /// The commit's id and committer date.
    fn last_commit(&self, commit: Oid) -> Option<LastCommit> {
        let time = self.repo.find_commit(commit).ok()?.time();
        Some(LastCommit { id: commit.to_string(), date: rfc3339(time.seconds(), time.offset_minutes()) })
    }

    /// The wanted blobs in tree `root`, at any depth, sorted and unique.
    fn tree(&mut self, root: Oid) -> Rc<[u32]> {
        if let Some(known) = self.trees.get(&root) {
            return known.clone();
        }
        let mut stack: Vec<Frame<'r>> = Vec::new();
        self.open(root, &mut stack);
        while let Some(frame) = stack.last_mut() {
            let Some((id, kind)) = frame.tree.get(frame.next).map(|entry| (entry.id(), entry.kind())) else {
                let done = stack.pop().expect("the loop holds a frame");
                self.close(done, &mut stack);
                continue;
            };
            frame.next += 1;
            match kind {
                Some(ObjectType::Blob) => frame.held.extend(self.wanted.get(&id)),
                Some(ObjectType::Tree) => match self.trees.get(&id) {
                    Some(known) => frame.held.extend(known.iter()),
                    None => self.open(id, &mut stack),
                },
                _ => {}
            }
        }
        self.trees.get(&root).cloned().unwrap_or_else(|| Rc::from([]))
    }

    /// Starts walking tree `id`; one that cannot be read holds nothing.
    fn open(&mut self, id: Oid, stack: &mut Vec<Frame<'r>>) {
        match self.repo.find_tree(id) {
            Ok(tree) => stack.push(Frame { id, tree, next: 0, held: Vec::new() }),
            Err(_) => {
                self.trees.insert(id, Rc::from([]));
            }
        }
    }

    /// Records what a walked tree holds, and hands it to the tree holding it.
    fn close(&mut self, mut done: Frame<'r>, stack: &mut [Frame<'r>]) {
        done.held.sort_unstable();
        done.held.dedup();
        if let Some(parent) = stack.last_mut() {
            parent.held.extend(&done.held);
        }
        self.trees.insert(done.id, Rc::from(done.held));
    }
}

/// Every ref whose target peels to a commit, by short name; a detached `HEAD` too.
fn tips(repo: &Repository) -> Vec<Tip> {
    let mut tips = Vec::new();
    if let Ok(references) = repo.references() {
        for reference in references.flatten() {
            let name = String::from_utf8_lossy(reference.name_bytes()).into_owned();
            if let Ok(commit) = reference.peel_to_commit() {
                tips.push(Tip {
                    remote: name.starts_with("refs/remotes/"),
                    name: short_name(&name),
                    commit: commit.id(),
                });
            }
        }
    }
    if repo.head_detached().unwrap_or(false) {
        if let Ok(commit) = repo.head().and_then(|head| head.peel_to_commit()) {
            tips.push(Tip { name: "HEAD".into(), commit: commit.id(), remote: false });
        }
    }
    tips
}

/// `main` for `refs/heads/main`, `v1` for `refs/tags/v1`, `origin/main` for
/// `refs/remotes/origin/main`; other refs keep their full name.
fn short_name(name: &str) -> String {
    ["refs/heads/", "refs/tags/", "refs/remotes/"]
        .iter()
        .find_map(|prefix| name.strip_prefix(prefix))
        .unwrap_or(name)
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A commit of flat `files` (name, contents) with `parents`, on `branch`.
    fn commit(repo: &Repository, branch: &str, files: &[(&str, &str)], parents: &[Oid], time: i64) -> Oid {
        let mut builder = repo.treebuilder(None).unwrap();
        for (name, contents) in files {
            builder.insert(name, repo.blob(contents.as_bytes()).unwrap(), 0o100644).unwrap();
        }
        let tree = repo.find_tree(builder.write().unwrap()).unwrap();
        let parents: Vec<git2::Commit> = parents.iter().map(|id| repo.find_commit(*id).unwrap()).collect();
        let parents: Vec<&git2::Commit> = parents.iter().collect();
        let signature = git2::Signature::new("T", "t@example.com", &git2::Time::new(time, 0)).unwrap();
        repo.commit(Some(branch), &signature, &signature, "m", &tree, &parents).unwrap()
    }

    #[test]
    fn present_removed_unmerged_remote_and_message_only() {
        let dir = tempfile::tempdir().unwrap();
        let repo = Repository::init(dir.path()).unwrap();
        let first = commit(&repo, "refs/heads/main", &[("a", "kept"), ("b", "gone")], &[], 100);
        let second = commit(&repo, "refs/heads/main", &[("a", "kept")], &[first], 200);
        repo.set_head("refs/heads/main").unwrap();
        commit(&repo, "refs/heads/topic", &[("a", "kept"), ("c", "side")], &[second], 300);
        commit(&repo, "refs/remotes/origin/old", &[("d", "pushed")], &[], 50);
        let blob = |text: &str| repo.blob(text.as_bytes()).unwrap();
        let blobs: HashMap<&str, Vec<Oid>> = [
            ("kept", vec![blob("kept")]),
            ("gone", vec![blob("gone")]),
            ("side", vec![blob("side")]),
            ("pushed", vec![blob("pushed")]),
            ("message", vec![]),
        ]
        .into_iter()
        .collect();
        let found = exposure(&repo, &[first, second], &blobs);
        assert_eq!(found["kept"].status, Status::Present);
        assert_eq!(found["kept"].refs, ["main", "topic"]);
        assert!(found["kept"].in_head && found["kept"].only_on.is_none());
        let gone = &found["gone"];
        assert_eq!((gone.status, gone.refs.len()), (Status::Removed, 0));
        assert_eq!(gone.last_commit.as_ref().unwrap().id, first.to_string());
        assert_eq!(gone.last_commit.as_ref().unwrap().date, "1970-01-01T00:01:40+00:00");
        assert_eq!(
            (found["side"].refs.clone(), found["side"].only_on),
            (vec!["topic".to_string()], Some(OnlyOn::Unmerged))
        );
        assert_eq!(found["pushed"].only_on, Some(OnlyOn::RemoteTracking));
        assert_eq!(found["pushed"].refs, ["origin/old"]);
        assert_eq!(found["message"], Exposure::message());
    }

    #[test]
    fn a_tip_merged_into_head_is_not_unmerged() {
        let dir = tempfile::tempdir().unwrap();
        let repo = Repository::init(dir.path()).unwrap();
        let old = commit(&repo, "refs/heads/release", &[("a", "key")], &[], 100);
        commit(&repo, "refs/heads/main", &[("a", "no key")], &[old], 200);
        repo.set_head("refs/heads/main").unwrap();
        let blobs: HashMap<&str, Vec<Oid>> = [("key", vec![repo.blob(b"key").unwrap()])].into_iter().collect();
        let found = &exposure(&repo, &[old], &blobs)["key"];
        assert_eq!((found.status, found.in_head, found.only_on), (Status::Present, false, None));
        assert_eq!(found.refs, ["release"]);
    }

    #[test]
    fn a_commit_holding_two_blobs_of_one_removed_secret_counts_it_once() {
        let dir = tempfile::tempdir().unwrap();
        let repo = Repository::init(dir.path()).unwrap();
        let both = commit(&repo, "refs/heads/main", &[("a", "key v1"), ("b", "key v2"), ("c", "other")], &[], 100);
        let older = commit(&repo, "refs/heads/main", &[("c", "other")], &[both], 200);
        let newer = commit(&repo, "refs/heads/main", &[("c", "other gone")], &[older], 300);
        repo.set_head("refs/heads/main").unwrap();
        let blob = |text: &str| repo.blob(text.as_bytes()).unwrap();
        let blobs: HashMap<&str, Vec<Oid>> =
            [("key", vec![blob("key v1"), blob("key v2")]), ("other", vec![blob("other")])].into_iter().collect();
        let found = exposure(&repo, &[both, older, newer], &blobs);
        assert_eq!(found["key"].last_commit.as_ref().unwrap().id, both.to_string());
        assert_eq!(found["other"].last_commit.as_ref().unwrap().id, older.to_string());
    }

    #[test]
    fn deep_and_shared_trees_are_walked_once() {
        let dir = tempfile::tempdir().unwrap();
        let repo = Repository::init(dir.path()).unwrap();
        let key = repo.blob(b"key").unwrap();
        let mut tree = {
            let mut builder = repo.treebuilder(None).unwrap();
            builder.insert("k", key, 0o100644).unwrap();
            builder.write().unwrap()
        };
        for _ in 0..5000 {
            let mut builder = repo.treebuilder(None).unwrap();
            builder.insert("d", tree, 0o040000).unwrap();
            builder.insert("twin", tree, 0o040000).unwrap();
            tree = builder.write().unwrap();
        }
        let wanted: HashMap<Oid, u32> = [(key, 0)].into_iter().collect();
        let mut presence = Presence::new(&repo, &wanted);
        assert_eq!(&*presence.tree(tree), &[0]);
        assert_eq!(presence.trees.len(), 5001, "each distinct tree once");
    }

    #[test]
    fn short_names() {
        assert_eq!(short_name("refs/heads/release/1.2"), "release/1.2");
        assert_eq!(short_name("refs/tags/v1"), "v1");
        assert_eq!(short_name("refs/remotes/origin/main"), "origin/main");
        assert_eq!(short_name("refs/stash"), "refs/stash");
    }
}
