//! The enumeration: walks the plan's commits oldest first and hands out each blob once, at
//! the path and in the commit that introduced it, with the commit and tag messages; later
//! sightings of a blob at other paths are only counted as further places. With
//! `--unreachable`, what no ref reaches comes after: commits (message and tree), annotated
//! tags (message), and the remaining blobs.

use std::collections::hash_map::{DefaultHasher, Entry};
use std::collections::{HashMap, HashSet};
use std::hash::{Hash, Hasher};
use std::sync::atomic::Ordering;

use git2::{ObjectType, Oid, Repository, Tree};

use super::limit::subtrees;
use super::{Counters, Enumeration, Item, Plan};
use crate::error::Plain;
use crate::source::Origin;

/// Walks the plan's commits and tags, handing out every item to scan once. Objects that
/// cannot be read are named in the result's errors and the walk goes on.
pub fn enumerate(repo: &Repository, plan: &Plan, counters: &Counters, send: impl FnMut(Item)) -> Enumeration {
    counters.commits_total.store(plan.commits.len() as u64, Ordering::Relaxed);
    let mut walker = Walker::new(repo, plan, counters, send);
    for &commit in &plan.commits {
        walker.commit(commit);
        counters.commits_walked.fetch_add(1, Ordering::Relaxed);
    }
    for (name, tag) in &plan.tags {
        walker.tag(Some(name), *tag);
    }
    if plan.unreachable {
        walker.unreachable(plan);
    }
    walker.finish()
}

/// How often, and first where, a blob was seen.
struct Sightings {
    first_path: u64,
    places: u32,
}

/// The state of one enumeration.
struct Walker<'r, 'c, F> {
    repo: &'r Repository,
    introduced_only: bool,
    /// Only what lies at this path (see [`super::Selection::path`]).
    limit: Option<&'c str>,
    counters: &'c Counters,
    send: F,
    /// Trees already walked, by (id, path hash; see [`child_hash`]): their blobs are all known.
    seen_trees: HashSet<(Oid, u64)>,
    blobs: HashMap<Oid, Sightings>,
    /// (blob, path hash) for paths other than a blob's first one.
    other_places: HashSet<(Oid, u64)>,
    gitlinks: HashSet<Oid>,
    /// Blobs and commits met now are unreachable ones.
    in_unreachable: bool,
    /// The path of the entry being visited, `/`-separated.
    path: Vec<u8>,
    result: Enumeration,
}

impl<'r, 'c, F: FnMut(Item)> Walker<'r, 'c, F> {
    fn new(repo: &'r Repository, plan: &'c Plan, counters: &'c Counters, send: F) -> Self {
        Walker {
            repo,
            introduced_only: plan.introduced_only,
            limit: plan.path.as_deref(),
            counters,
            send,
            seen_trees: HashSet::new(),
            blobs: HashMap::new(),
            other_places: HashSet::new(),
            gitlinks: HashSet::new(),
            in_unreachable: false,
            path: Vec::new(),
            result: Enumeration::default(),
        }
    }

    fn commit(&mut self, id: Oid) {
        let commit = match self.repo.find_commit(id) {
            Ok(commit) => commit,
            Err(e) => return self.result.errors.push(format!("commit {id}: {}", Plain(&e))),
        };
        let tree = match commit.tree() {
            Ok(tree) => tree,
            Err(e) => return self.result.errors.push(format!("tree of commit {id}: {}", Plain(&e))),
        };
        match self.limit {
            None => {
                self.message(&commit);
                let parents = if self.introduced_only { self.parent_trees(&commit) } else { Vec::new() };
                self.walk_tree(tree, parents, id, "");
            }
            Some(path) => self.commit_at(&commit, &tree, path),
        }
    }

    fn message(&mut self, commit: &git2::Commit) {
        let (id, text) = (commit.id(), commit.message_bytes().to_vec());
        let origin = if self.in_unreachable {
            self.result.unreachable_commit_messages += 1;
            Origin::UnreachableMessage { object: id, tag: None }
        } else {
            self.result.commit_messages += 1;
            Origin::CommitMessage { commit: id }
        };
        (self.send)(Item::Message { text, origin });
    }

    /// A commit of a scan limited to `path`: like `git log -- PATH`, only a commit whose entry
    /// at `path` differs from every parent's counts (a root commit: one that has the path).
    /// Any other holds nothing at `path` that a parent, walked before it, did not.
    fn commit_at(&mut self, commit: &git2::Commit<'r>, tree: &Tree<'r>, path: &str) {
        let repo = self.repo;
        let at = |tree: &Tree<'r>| crate::source::git::entry_at(repo, tree, path.as_bytes());
        let parents = self.parent_trees(commit);
        let entry = at(tree);
        let id = entry.as_ref().map(git2::TreeEntry::id);
        let changed = if parents.is_empty() {
            id.is_some()
        } else {
            parents.iter().all(|parent| at(parent).map(|e| e.id()) != id)
        };
        if changed {
            self.message(commit);
            // None: the commit deleted the path, and only its message is news.
            if let Some(entry) = entry {
                self.entry_at(&entry, &parents, path, commit.id());
            }
        }
    }

    /// Hands out what `entry`, at `path` in `commit`, holds; `parents` are the commit's trees.
    fn entry_at(&mut self, entry: &git2::TreeEntry, parents: &[Tree<'r>], path: &str, commit: Oid) {
        self.set_path(path);
        match entry.kind() {
            Some(ObjectType::Tree) => match self.repo.find_tree(entry.id()) {
                Ok(subtree) => {
                    let parents = if self.introduced_only { subtrees(self.repo, parents, path) } else { Vec::new() };
                    self.walk_tree(subtree, parents, commit, path);
                }
                Err(e) => self.object_error("tree", entry.id(), commit, &e),
            },
            Some(ObjectType::Blob) => self.blob(entry.id(), path_hash(path), commit),
            Some(ObjectType::Commit) => {
                self.gitlinks.insert(entry.id());
            }
            _ => {}
        }
    }

    fn parent_trees(&mut self, commit: &git2::Commit<'r>) -> Vec<Tree<'r>> {
        let mut trees = Vec::new();
        for parent in commit.parent_ids() {
            match self.repo.find_commit(parent).and_then(|c| c.tree()) {
                Ok(tree) => trees.push(tree),
                Err(e) => self.result.errors.push(format!("parent {parent} of commit {}: {}", commit.id(), Plain(&e))),
            }
        }
        trees
    }

    fn set_path(&mut self, path: &str) {
        self.path.clear();
        self.path.extend_from_slice(path.as_bytes());
    }

    /// Walks a commit's tree depth first with an explicit stack: a hostile tree nested tens
    /// of thousands of levels deep costs memory for its frames, never the call stack.
    /// `prefix` is the tree's own path (`""`: the commit's root tree).
    fn walk_tree(&mut self, root: Tree<'r>, parents: Vec<Tree<'r>>, commit: Oid, prefix: &str) {
        self.set_path(prefix);
        let (path_len, path_hash) = (prefix.len(), path_hash(prefix));
        let mut stack = vec![Frame { tree: root, parents, next: 0, path_len, path_hash }];
        while let Some(frame) = stack.last_mut() {
            match self.step(frame, commit) {
                Step::Done => drop(stack.pop()),
                Step::Next => {}
                Step::Descend(child) => stack.push(child),
            }
        }
    }

    /// Visits the next entry of the tree in `frame`.
    fn step(&mut self, frame: &mut Frame<'r>, commit: Oid) -> Step<'r> {
        let Some(entry) = frame.tree.get(frame.next) else {
            return Step::Done;
        };
        frame.next += 1;
        let id = entry.id();
        let name = entry.name_bytes();
        let in_a_parent = |parent: &Tree| parent.get_name_bytes(name).is_some_and(|e| e.id() == id);
        if frame.parents.iter().any(in_a_parent) {
            return Step::Next;
        }
        self.path.truncate(frame.path_len);
        if frame.path_len > 0 {
            self.path.push(b'/');
        }
        self.path.extend_from_slice(name);
        let path_hash = child_hash(frame.path_hash, name);
        match entry.kind() {
            Some(ObjectType::Tree) => return self.subtree(id, name, path_hash, &frame.parents, commit),
            Some(ObjectType::Blob) => self.blob(id, path_hash, commit),
            Some(ObjectType::Commit) => {
                self.gitlinks.insert(id);
            }
            _ => {}
        }
        Step::Next
    }

    /// Descends into subtree `id` at the current path, unless it needs no walk (already
    /// walked at this path) or cannot be read (an error).
    fn subtree(&mut self, id: Oid, name: &[u8], path_hash: u64, parents: &[Tree<'r>], commit: Oid) -> Step<'r> {
        if !self.introduced_only && !self.seen_trees.insert((id, path_hash)) {
            return Step::Next;
        }
        let tree = match self.repo.find_tree(id) {
            Ok(tree) => tree,
            Err(e) => {
                self.object_error("tree", id, commit, &e);
                return Step::Next;
            }
        };
        let parents: Vec<Tree<'r>> = parents
            .iter()
            .filter_map(|parent| parent.get_name_bytes(name))
            .filter(|entry| entry.kind() == Some(ObjectType::Tree))
            .filter_map(|entry| self.repo.find_tree(entry.id()).ok())
            .collect();
        Step::Descend(Frame { tree, parents, next: 0, path_len: self.path.len(), path_hash })
    }

    fn blob(&mut self, id: Oid, hash: u64, commit: Oid) {
        match self.blobs.entry(id) {
            Entry::Vacant(vacant) => {
                vacant.insert(Sightings { first_path: hash, places: 1 });
                self.counters.blobs_found.fetch_add(1, Ordering::Relaxed);
                let path = String::from_utf8_lossy(&self.path).into_owned();
                (self.send)(if self.in_unreachable {
                    self.result.unreachable_blobs += 1;
                    Item::Unreachable { id, path: Some(path) }
                } else {
                    Item::Blob { id, path, commit }
                });
            }
            Entry::Occupied(mut seen) => {
                if seen.get().first_path != hash && self.other_places.insert((id, hash)) {
                    seen.get_mut().places += 1;
                    let path = String::from_utf8_lossy(&self.path).into_owned();
                    self.result.copies.entry(id).or_default().push((path, commit));
                }
            }
        }
    }

    /// Hands out the message of annotated tag `id`, which the ref `name` reaches (`None`: no
    /// ref does, and the tag object's own name is shown).
    fn tag(&mut self, name: Option<&str>, id: Oid) {
        let tag = match self.repo.find_tag(id) {
            Ok(tag) => tag,
            Err(e) => {
                let what = name.map_or_else(|| format!("unreachable tag {id}"), |name| format!("tag {name} ({id})"));
                return self.result.errors.push(format!("{what}: {}", Plain(&e)));
            }
        };
        let text = tag.message_bytes().unwrap_or_default().to_vec();
        let origin = match name {
            Some(name) => {
                self.result.tag_messages += 1;
                Origin::TagMessage { name: name.to_string(), tag: id }
            }
            None => {
                self.result.unreachable_tag_messages += 1;
                let own = String::from_utf8_lossy(tag.name_bytes()).into_owned();
                Origin::UnreachableMessage { object: id, tag: Some(own) }
            }
        };
        (self.send)(Item::Message { text, origin });
    }

    /// Hands out every object of the object database the walk of the plan did not meet: the
    /// message of each unreachable commit and the blobs its tree names, at their path (oldest
    /// commit first), the messages of unreachable annotated tags, then the remaining blobs,
    /// with no path.
    fn unreachable(&mut self, plan: &Plan) {
        let objects = match unreachable_objects(self.repo, plan, &mut self.result.errors) {
            Ok(objects) => objects,
            Err(e) => return self.result.errors.push(format!("cannot list the object database: {}", Plain(&e))),
        };
        self.in_unreachable = true;
        for id in objects.commits {
            let commit = match self.repo.find_commit(id) {
                Ok(commit) => commit,
                Err(e) => {
                    self.result.errors.push(format!("unreachable commit {id}: {}", Plain(&e)));
                    continue;
                }
            };
            self.message(&commit);
            match commit.tree() {
                Ok(tree) => self.walk_tree(tree, Vec::new(), id, ""),
                Err(e) => self.result.errors.push(format!("tree of unreachable commit {id}: {}", Plain(&e))),
            }
        }
        for id in objects.tags {
            self.tag(None, id);
        }
        for id in objects.blobs {
            if let Entry::Vacant(vacant) = self.blobs.entry(id) {
                vacant.insert(Sightings { first_path: 0, places: 1 });
                self.counters.blobs_found.fetch_add(1, Ordering::Relaxed);
                self.result.unreachable_blobs += 1;
                (self.send)(Item::Unreachable { id, path: None });
            }
        }
    }

    fn object_error(&mut self, kind: &str, id: Oid, commit: Oid, error: &git2::Error) {
        let path = String::from_utf8_lossy(&self.path);
        self.result.errors.push(format!("{kind} {id} ({path} in commit {commit}): {}", Plain(error)));
    }

    fn finish(mut self) -> Enumeration {
        self.result.places = self.blobs.into_iter().map(|(id, seen)| (id, seen.places)).collect();
        self.result.gitlinks = self.gitlinks.len() as u64;
        self.result
    }
}

/// The objects of the object database that a walk of a plan does not meet.
struct Unreached {
    /// Commits not in the plan, oldest first.
    commits: Vec<Oid>,
    /// Annotated tags whose messages the plan does not scan, and that no tag it scans leads to.
    tags: Vec<Oid>,
    /// Every blob (the walk has handed out those it met).
    blobs: Vec<Oid>,
}

/// What of the object database a walk of `plan` does not meet. Objects that cannot be read
/// are named in `errors`; only an object database that cannot be listed at all fails.
fn unreachable_objects(repo: &Repository, plan: &Plan, errors: &mut Vec<String>) -> Result<Unreached, git2::Error> {
    let odb = repo.odb()?;
    let mut ids = Vec::new();
    odb.foreach(|id| {
        ids.push(*id);
        true
    })?;
    // An object may sit in several packs and loose too.
    ids.sort_unstable();
    ids.dedup();
    let walked: HashSet<Oid> = plan.commits.iter().copied().collect();
    let tagged = tags_reached(repo, plan);
    let (mut commits, mut tags, mut blobs) = (Vec::new(), Vec::new(), Vec::new());
    for id in ids {
        let kind = odb.read_header(id).map(|(_, kind)| kind);
        match kind {
            Ok(ObjectType::Commit) if !walked.contains(&id) => match repo.find_commit(id) {
                Ok(commit) => commits.push((commit.time().seconds(), id)),
                Err(e) => errors.push(format!("unreachable commit {id}: {}", Plain(&e))),
            },
            Ok(ObjectType::Tag) if !tagged.contains(&id) => tags.push(id),
            Ok(ObjectType::Blob) => blobs.push(id),
            Ok(_) => {}
            Err(e) => errors.push(format!("object {id}: {}", Plain(&e))),
        }
    }
    commits.sort_unstable();
    Ok(Unreached { commits: commits.into_iter().map(|(_, id)| id).collect(), tags, blobs })
}

/// The plan's tags and the tags they point to in turn (a tag of a tag): tags a ref reaches.
fn tags_reached(repo: &Repository, plan: &Plan) -> HashSet<Oid> {
    let mut reached = HashSet::new();
    for &(_, first) in &plan.tags {
        let mut next = Some(first);
        // Each tag is followed once, so a chain ends however it is built.
        while let Some(id) = next.filter(|id| reached.insert(*id)) {
            next = repo
                .find_tag(id)
                .ok()
                .filter(|tag| tag.target_type() == Some(ObjectType::Tag))
                .map(|tag| tag.target_id());
        }
    }
    reached
}

/// A tree being walked, and how far.
struct Frame<'r> {
    tree: Tree<'r>,
    /// The trees at the same path in the commit's parents (range scans only).
    parents: Vec<Tree<'r>>,
    /// The index of the next entry to visit.
    next: usize,
    /// The length of the tree's own path in [`Walker::path`].
    path_len: usize,
    path_hash: u64,
}

/// What a step of the tree walk leads to.
enum Step<'r> {
    /// The tree has no entries left.
    Done,
    /// On to the tree's next entry.
    Next,
    /// Into a subtree first.
    Descend(Frame<'r>),
}

/// The hash of `path` as [`child_hash`] builds it name by name (`""`: the root's, 0).
fn path_hash(path: &str) -> u64 {
    path.split('/').filter(|name| !name.is_empty()).fold(0, |hash, name| child_hash(hash, name.as_bytes()))
}

/// The hash identifying a path, from its parent directory's and its last name: a deep path
/// costs no more to hash than a shallow one. The root's is 0.
fn child_hash(parent: u64, name: &[u8]) -> u64 {
    let mut hasher = DefaultHasher::new();
    parent.hash(&mut hasher);
    name.hash(&mut hasher);
    hasher.finish()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::history::{plan, Selection};

    /// A commit of flat `files` (name, contents) with `parents`.
    fn commit(repo: &Repository, files: &[(&str, &str)], parents: &[Oid]) -> Oid {
        let mut builder = repo.treebuilder(None).unwrap();
        for (name, contents) in files {
            builder.insert(name, repo.blob(contents.as_bytes()).unwrap(), 0o100644).unwrap();
        }
        let tree = repo.find_tree(builder.write().unwrap()).unwrap();
        let parents: Vec<git2::Commit> = parents.iter().map(|id| repo.find_commit(*id).unwrap()).collect();
        let signature = git2::Signature::new("T", "t@example.com", &git2::Time::new(1_714_564_800, 0)).unwrap();
        let parents: Vec<&git2::Commit> = parents.iter().collect();
        repo.commit(Some("HEAD"), &signature, &signature, "m", &tree, &parents).unwrap()
    }

    /// (path, commit) of every blob handed out, and the enumeration.
    fn blobs(repo: &Repository, selection: &Selection) -> (Vec<(String, Oid)>, Enumeration) {
        let mut items = Vec::new();
        let plan = plan(repo, selection).unwrap();
        let enumeration = enumerate(repo, &plan, &Counters::default(), |item| {
            if let Item::Blob { path, commit, .. } = item {
                items.push((path, commit));
            }
        });
        (items, enumeration)
    }

    #[test]
    fn blobs_are_handed_out_once_at_their_first_path_and_places_counted() {
        let dir = tempfile::tempdir().unwrap();
        let repo = Repository::init(dir.path()).unwrap();
        let first = commit(&repo, &[("a", "x")], &[]);
        let second = commit(&repo, &[("b", "x"), ("c", "y")], &[first]);
        let third = commit(&repo, &[("b", "x"), ("c", "y"), ("d", "z")], &[second]);
        let (items, enumeration) = blobs(&repo, &Selection::default());
        assert_eq!(items, [("a".to_string(), first), ("c".to_string(), second), ("d".to_string(), third)]);
        let x = repo.blob(b"x").unwrap();
        assert_eq!(enumeration.places[&x], 2);
        assert_eq!(enumeration.copies[&x], [("b".to_string(), second)]);
        assert_eq!(enumeration.commit_messages, 3);
        // A range hands out only what its commits introduced relative to their parents.
        let range = Selection { range: Some(format!("{first}..{third}")), ..Selection::default() };
        let (items, _) = blobs(&repo, &range);
        assert_eq!(items, [("b".to_string(), second), ("c".to_string(), second), ("d".to_string(), third)]);
    }

    #[test]
    fn unreachable_blobs_come_after_the_walk_at_an_unreachable_commits_path_or_none() {
        let dir = tempfile::tempdir().unwrap();
        let repo = Repository::init(dir.path()).unwrap();
        let first = commit(&repo, &[("a", "x")], &[]);
        let amended = commit(&repo, &[("a", "x"), (".env", "key")], &[first]);
        repo.reference("refs/heads/master", first, true, "amend away").unwrap();
        repo.set_head("refs/heads/master").unwrap();
        let loose = repo.blob(b"loose").unwrap();
        let selection = Selection { unreachable: true, ..Selection::default() };
        let plan = plan(&repo, &selection).unwrap();
        let mut items = Vec::new();
        let enumeration = enumerate(&repo, &plan, &Counters::default(), |item| match item {
            Item::Blob { path, .. } => items.push(Some(path)),
            Item::Unreachable { path, .. } => items.push(path.map(|path| format!("unreachable {path}"))),
            Item::Message { origin, .. } => items.push(Some(origin.to_string())),
        });
        let expected = ["<commit message>", "a", "<unreachable commit message>", "unreachable .env"];
        let expected: Vec<Option<String>> = expected.iter().map(|item| Some(item.to_string())).collect();
        assert_eq!(items, [expected, vec![None]].concat());
        assert_eq!(enumeration.unreachable_blobs, 2);
        assert_eq!((enumeration.commit_messages, enumeration.unreachable_commit_messages), (1, 1));
        assert!(enumeration.places.contains_key(&loose));
        assert!(!plan.commits.contains(&amended));
    }

    #[test]
    fn a_path_hashes_as_the_walk_builds_it_name_by_name() {
        assert_eq!(path_hash(""), 0);
        assert_eq!(path_hash("app/main.py"), child_hash(child_hash(0, b"app"), b"main.py"));
    }
}
