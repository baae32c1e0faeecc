//! Resolving a selection into a plan: which commits (parents first) and annotated tags a
//! scan covers, read from the refs before any tree is, with what is worth saying about them
//! (shallow and partial clones, refs that lead nowhere).

use std::collections::HashSet;

use git2::{ErrorCode, ObjectType, Oid, Repository, RevparseMode};

use super::{commits, Plan, Selection};
use crate::error::{Error, Plain, Result};

/// Resolves the selection into the commits (and tags) to scan.
pub fn plan(repo: &Repository, selection: &Selection) -> Result<Plan> {
    crate::source::git::check_object_files(repo)?;
    if selection.unreachable && selection.path.is_some() {
        return Err(Error::Usage("--unreachable scans a whole repository, not one path in it".into()));
    }
    // Once some commits are left out, only what the others introduced is new to scan.
    let introduced_only = selection.range.is_some() || selection.exclude_remotes;
    let unreachable = selection.unreachable;
    let mut plan = Plan { introduced_only, path: selection.path.clone(), unreachable, ..Plan::default() };
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
