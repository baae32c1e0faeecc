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
//! Commit messages and annotated tag messages (whole scans only) are handed out too. Only
//! object reads are used: no checkout, filters, diff drivers or hooks, so nothing a scanned
//! repository's configuration names is ever run.

use std::collections::hash_map::{DefaultHasher, Entry};
use std::collections::{HashMap, HashSet};
use std::hash::{Hash, Hasher};
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};

use git2::{ErrorCode, ObjectType, Oid, Repository, RevparseMode, Tree};

use crate::error::{Error, Plain, RepoHint, Result};

mod commits;
mod limit;

pub use limit::path_within;
use limit::subtrees;

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
}

/// A piece of history to scan.
#[derive(Debug)]
pub enum Item {
    /// A blob, at the path and in the commit that introduced it.
    Blob {
        /// The blob.
        id: Oid,
        /// Its path in `origin`'s tree.
        path: String,
        /// The commit that introduced it.
        origin: Oid,
    },
    /// A commit message (`<commit message>`) or annotated tag message (`<tag message: NAME>`).
    Message {
        /// The message.
        text: Vec<u8>,
        /// The pseudo-path findings in it are reported under.
        path: String,
        /// The commit or tag object that carries it.
        origin: Oid,
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
    /// Things worth saying about the selection (shallow clone, refs that name no commit).
    pub warnings: Vec<String>,
    /// Refs and commits that could not be read, named.
    pub errors: Vec<String>,
}

/// Live counters for the progress display, updated by the enumerator and the scanners.
#[derive(Debug, Default)]
pub struct Counters {
    /// Commits to walk.
    pub commits_total: AtomicU64,
    /// Commits walked so far.
    pub commits_walked: AtomicU64,
    /// Distinct blobs found so far.
    pub blobs_found: AtomicU64,
    /// Blobs scanned so far.
    pub blobs_scanned: AtomicU64,
    /// Bytes scanned so far.
    pub bytes_scanned: AtomicU64,
}

/// What the enumerator saw besides the items it handed out.
#[derive(Debug, Default)]
pub struct Enumeration {
    /// For every blob handed out, the number of distinct paths it appeared at.
    pub places: HashMap<Oid, u32>,
    /// Commit messages handed out.
    pub commit_messages: u64,
    /// Tag messages handed out.
    pub tag_messages: u64,
    /// Distinct submodule commits (gitlinks) seen and not followed.
    pub gitlinks: u64,
    /// Objects that could not be read, named.
    pub errors: Vec<String>,
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

/// Resolves the selection into the commits (and tags) to scan.
pub fn plan(repo: &Repository, selection: &Selection) -> Result<Plan> {
    super::git::check_object_files(repo)?;
    // Once some commits are left out, only what the others introduced is new to scan.
    let introduced_only = selection.range.is_some() || selection.exclude_remotes;
    let mut plan = Plan { introduced_only, path: selection.path.clone(), ..Plan::default() };
    let refs = RefTips::read(repo)?;
    let (tips, mut hidden) = match &selection.range {
        Some(spec) => range_ends(repo, spec)?,
        None if selection.exclude_remotes => (refs.local.clone(), Vec::new()),
        None => ([&refs.local[..], &refs.remote[..]].concat(), Vec::new()),
    };
    for broken in refs.broken {
        // A broken ref whose history this scan would have walked hides that history: the scan
        // is incomplete. One it would not have walked (a range scan, a left-out remote) is not.
        let walked = selection.range.is_none() && !(broken.remote && selection.exclude_remotes);
        if walked { &mut plan.errors } else { &mut plan.warnings }.push(broken.message);
    }
    if selection.exclude_remotes {
        hidden.extend(&refs.remote);
    }
    plan.commits = commits::between(repo, &tips, &hidden, &mut plan.errors);
    // A tag's message is about no path.
    if selection.range.is_none() && selection.path.is_none() {
        let walked: HashSet<Oid> = plan.commits.iter().copied().collect();
        plan.tags =
            refs.tags.into_iter().filter(|(_, _, target)| walked.contains(target)).map(|(n, t, _)| (n, t)).collect();
    }
    plan.warnings.extend(refs.warnings);
    if repo.is_shallow() {
        plan.warnings.push(
            "this is a shallow clone: history before its oldest fetched commits is missing and was not \
             scanned (`git fetch --unshallow` fetches it)"
                .into(),
        );
    }
    if let Some(remote) = promisor_remote(repo) {
        plan.warnings.push(format!(
            "this is a partial clone (remote {remote} lends objects on demand): blobs it never fetched \
             cannot be scanned and are listed as errors; clone without `--filter` to scan them (or, here, \
             unset remote.{remote}.partialclonefilter and run `git fetch --refetch {remote}`)"
        ));
    }
    Ok(plan)
}

/// The remote a partial clone (`git clone --filter=…`) fetches missing objects from, if the
/// repository is one. keyhound reads only what is on disk: it never fetches.
fn promisor_remote(repo: &Repository) -> Option<String> {
    let config = repo.config().ok()?.snapshot().ok()?;
    let mut entries = config.entries(Some(r"remote\..*\.promisor")).ok()?;
    while let Some(entry) = entries.next().and_then(std::result::Result::ok) {
        let name = entry.name()?;
        if entry.value().is_some_and(|value| value.eq_ignore_ascii_case("true")) {
            return name.strip_prefix("remote.")?.strip_suffix(".promisor").map(str::to_string);
        }
    }
    None
}

/// The commits to walk from and to leave out for `A..B` or `B`.
fn range_ends(repo: &Repository, spec: &str) -> Result<(Vec<Oid>, Vec<Oid>)> {
    let bad_range = |e: git2::Error| Error::Usage(format!("--range {spec:?}: {}", Plain(&e)));
    let revspec = repo.revparse(spec).map_err(bad_range)?;
    if revspec.mode().contains(RevparseMode::MERGE_BASE) {
        return Err(Error::Usage(format!("--range {spec:?}: A...B is not supported; use A..B")));
    }
    let commit_of = |object: Option<&git2::Object>| -> Result<Option<Oid>> {
        object.map(|o| o.peel_to_commit().map(|c| c.id()).map_err(bad_range)).transpose()
    };
    let from = commit_of(revspec.from())?;
    let to = commit_of(revspec.to())?;
    if revspec.mode().contains(RevparseMode::RANGE) {
        match (from, to) {
            (Some(from), Some(to)) => Ok((vec![to], vec![from])),
            _ => Err(Error::Usage(format!("--range {spec:?}: both ends of A..B must name commits"))),
        }
    } else {
        let tip = from.ok_or_else(|| Error::Usage(format!("--range {spec:?} names no commit")))?;
        Ok((vec![tip], Vec::new()))
    }
}

/// The commits the refs point at, split by kind.
#[derive(Debug, Default)]
struct RefTips {
    /// Branches, tags, HEAD, the stash (every entry), notes: everything but remotes.
    local: Vec<Oid>,
    /// `refs/remotes/*`.
    remote: Vec<Oid>,
    /// Annotated tags: (name, tag object, commit it peels to).
    tags: Vec<(String, Oid, Oid)>,
    /// Refs whose target, or the commit a tag leads to, is missing from the object database.
    broken: Vec<BrokenRef>,
    warnings: Vec<String>,
    /// Every target met, so that HEAD and stash entries repeating a branch are not added twice.
    seen: HashSet<Oid>,
}

/// A ref that leads to a missing object: the history behind it cannot be read.
#[derive(Debug)]
struct BrokenRef {
    /// Under `refs/remotes/`.
    remote: bool,
    /// What is missing, naming the ref (escaped: ref names come from the repository).
    message: String,
}

impl RefTips {
    fn read(repo: &Repository) -> Result<RefTips> {
        let mut tips = RefTips::default();
        let references = repo.references().map_err(|e| Error::git("cannot list references", e))?;
        for reference in references {
            let reference = reference.map_err(|e| Error::git("cannot read a reference", e))?;
            let name = String::from_utf8_lossy(reference.name_bytes()).into_owned();
            // A direct ref's target is read as it is: resolving looks the ref up again by its
            // name, which fails for names libgit2 deems invalid (a hand-written packed-refs line).
            match reference.target().or_else(|| reference.resolve().ok()?.target()) {
                Some(target) => tips.add(repo, &name, target),
                None => {
                    tips.warnings.push(format!("reference {name:?} is a symbolic reference to nothing; not scanned"))
                }
            }
        }
        tips.add_head(repo);
        // Older stash entries live only in the stash's reflog.
        if let Ok(reflog) = repo.reflog("refs/stash") {
            for (index, entry) in reflog.iter().enumerate() {
                tips.add_once(repo, &format!("stash@{{{index}}}"), entry.id_new());
            }
        }
        Ok(tips)
    }

    /// A detached HEAD's commit (an attached one is its branch's, already added).
    fn add_head(&mut self, repo: &Repository) {
        match repo.head() {
            Ok(head) => {
                if let Some(target) = head.target() {
                    self.add_once(repo, "HEAD", target);
                }
            }
            // A new repository's HEAD names a branch with no commit yet.
            Err(e) if e.code() == ErrorCode::UnbornBranch => {}
            Err(e) => self.record_broken(false, format!("HEAD cannot be read: {}", Plain(&e))),
        }
    }

    /// [`RefTips::add`], unless a ref already led to `target`.
    fn add_once(&mut self, repo: &Repository, name: &str, target: Oid) {
        if !self.seen.contains(&target) {
            self.add(repo, name, target);
        }
    }

    fn add(&mut self, repo: &Repository, name: &str, target: Oid) {
        self.seen.insert(target);
        let remote = name.starts_with("refs/remotes/");
        let Ok(object) = repo.find_object(target, None) else {
            let message = format!("reference {name:?} points to missing object {target}; its history was not scanned");
            return self.record_broken(remote, message);
        };
        let commit = match object.peel_to_commit() {
            Ok(commit) => commit,
            Err(e) if e.code() == ErrorCode::NotFound => {
                let kind = kind_name(&object);
                let message = format!(
                    "reference {name:?} points to {kind} {target}, whose target is missing; its history was not scanned"
                );
                return self.record_broken(remote, message);
            }
            Err(_) => {
                let kind = kind_name(&object);
                return self.warnings.push(format!("reference {name:?} points to a {kind}, not a commit; not scanned"));
            }
        };
        if object.kind() == Some(ObjectType::Tag) {
            let short = name.strip_prefix("refs/tags/").unwrap_or(name);
            self.tags.push((short.to_string(), target, commit.id()));
        }
        if remote {
            self.remote.push(commit.id());
        } else {
            self.local.push(commit.id());
        }
    }

    fn record_broken(&mut self, remote: bool, message: String) {
        self.broken.push(BrokenRef { remote, message });
    }
}

fn kind_name(object: &git2::Object) -> &'static str {
    object.kind().map_or("object of unknown type", |kind| kind.str())
}

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
        walker.tag(name, *tag);
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
    /// Only what lies at this path (see [`Selection::path`]).
    limit: Option<&'c str>,
    counters: &'c Counters,
    send: F,
    /// Trees already walked, by (id, path hash; see [`child_hash`]): their blobs are all known.
    seen_trees: HashSet<(Oid, u64)>,
    blobs: HashMap<Oid, Sightings>,
    /// (blob, path hash) for paths other than a blob's first one.
    other_places: HashSet<(Oid, u64)>,
    gitlinks: HashSet<Oid>,
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
        let text = commit.message_bytes().to_vec();
        (self.send)(Item::Message { text, path: "<commit message>".into(), origin: commit.id() });
        self.result.commit_messages += 1;
    }

    /// A commit of a scan limited to `path`: like `git log -- PATH`, only a commit whose entry
    /// at `path` differs from every parent's counts (a root commit: one that has the path).
    /// Any other holds nothing at `path` that a parent, walked before it, did not.
    fn commit_at(&mut self, commit: &git2::Commit<'r>, tree: &Tree<'r>, path: &str) {
        let repo = self.repo;
        let at = |tree: &Tree<'r>| super::git::entry_at(repo, tree, path.as_bytes());
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
                (self.send)(Item::Blob { id, path, origin: commit });
            }
            Entry::Occupied(mut seen) => {
                if seen.get().first_path != hash && self.other_places.insert((id, hash)) {
                    seen.get_mut().places += 1;
                }
            }
        }
    }

    fn tag(&mut self, name: &str, id: Oid) {
        match self.repo.find_tag(id) {
            Ok(tag) => {
                let text = tag.message_bytes().unwrap_or_default().to_vec();
                (self.send)(Item::Message { text, path: format!("<tag message: {name}>"), origin: id });
                self.result.tag_messages += 1;
            }
            Err(e) => self.result.errors.push(format!("tag {name} ({id}): {}", Plain(&e))),
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

/// Who made an item's origin — a commit's author, an annotated tag's tagger — when, and its
/// whole message, as stored: repository text that may hold a key, redacted before it is shown.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Origin {
    /// Id of the commit or tag object (hex).
    pub id: String,
    /// Author (or tagger) name.
    pub name: String,
    /// Author (or tagger) email.
    pub email: String,
    /// Author (or tagger) date, RFC 3339; empty for a tag without a tagger.
    pub date: String,
    /// The whole message.
    pub message: String,
}

/// The attribution of an item's origin: a commit's author, or an annotated tag's tagger.
pub fn describe(repo: &Repository, origin: Oid) -> Result<Origin, git2::Error> {
    let object = repo.find_object(origin, None)?;
    if let Some(tag) = object.as_tag() {
        let message = tag.message_bytes().unwrap_or_default();
        return Ok(match tag.tagger() {
            Some(tagger) => origin_of(origin, &tagger, message),
            None => Origin { id: origin.to_string(), message: lossy(message), ..Origin::default() },
        });
    }
    let commit = object.peel_to_commit()?;
    let info = origin_of(origin, &commit.author(), commit.message_bytes());
    Ok(info)
}

fn origin_of(id: Oid, person: &git2::Signature, message: &[u8]) -> Origin {
    let when = person.when();
    Origin {
        id: id.to_string(),
        name: lossy(person.name_bytes()),
        email: lossy(person.email_bytes()),
        date: rfc3339(when.seconds(), when.offset_minutes()),
        message: lossy(message),
    }
}

fn lossy(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// The first line of a message, trimmed.
pub fn summary(message: &[u8]) -> String {
    let first = message.split(|&b| b == b'\n').next().unwrap_or_default();
    String::from_utf8_lossy(first).trim().to_string()
}

/// Formats a git timestamp (seconds since the epoch, UTC offset in minutes) as RFC 3339 in
/// its own offset: `2024-05-01T12:00:00+02:00`.
pub fn rfc3339(seconds: i64, offset_minutes: i32) -> String {
    let local = seconds + i64::from(offset_minutes) * 60;
    let (days, secs) = (local.div_euclid(86_400), local.rem_euclid(86_400));
    let (year, month, day) = civil_from_days(days);
    let sign = if offset_minutes < 0 { '-' } else { '+' };
    let offset = offset_minutes.unsigned_abs();
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}{sign}{:02}:{:02}",
        secs / 3600,
        secs % 3600 / 60,
        secs % 60,
        offset / 60,
        offset % 60
    )
}

/// Days since 1970-01-01 to (year, month, day) in the proleptic Gregorian calendar
/// (Howard Hinnant's `civil_from_days`).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z.rem_euclid(146_097);
    let year_of_era = (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let mp = (5 * day_of_year + 2) / 153;
    let day = (day_of_year - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_format_as_rfc3339_in_their_offset() {
        assert_eq!(rfc3339(0, 0), "1970-01-01T00:00:00+00:00");
        assert_eq!(rfc3339(1_714_564_800, 0), "2024-05-01T12:00:00+00:00");
        assert_eq!(rfc3339(1_714_564_800, 120), "2024-05-01T14:00:00+02:00");
        assert_eq!(rfc3339(1_714_564_800, -330), "2024-05-01T06:30:00-05:30");
        assert_eq!(rfc3339(951_782_400, 0), "2000-02-29T00:00:00+00:00");
        assert_eq!(rfc3339(-1, 0), "1969-12-31T23:59:59+00:00");
    }

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
            if let Item::Blob { path, origin, .. } = item {
                items.push((path, origin));
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
        assert_eq!(enumeration.commit_messages, 3);
        // A range hands out only what its commits introduced relative to their parents.
        let range = Selection { range: Some(format!("{first}..{third}")), exclude_remotes: false, path: None };
        let (items, _) = blobs(&repo, &range);
        assert_eq!(items, [("b".to_string(), second), ("c".to_string(), second), ("d".to_string(), third)]);
    }

    #[test]
    fn a_path_hashes_as_the_walk_builds_it_name_by_name() {
        assert_eq!(path_hash(""), 0);
        assert_eq!(path_hash("app/main.py"), child_hash(child_hash(0, b"app"), b"main.py"));
    }

    #[test]
    fn summary_is_the_trimmed_first_line() {
        assert_eq!(summary(b"Add client\n\nlong body\n"), "Add client");
        assert_eq!(summary(b""), "");
    }
}
