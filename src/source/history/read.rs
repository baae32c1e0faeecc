//! History as a [`Source`]: the enumerator walks commits on the calling thread and streams
//! batches of items through a bounded channel to the driver's pool, where each thread holds
//! its own `git2::Repository` (it is `Send`, not `Sync`) and reads a blob only when it scans
//! it: memory holds blob ids and counts, never the blobs.
//!
//! With [`Known`] blobs (an incremental scan, see `crate::datastore`), the blobs an earlier
//! run scanned, reachable or not, are not sent to the scanners at all: the walk still counts
//! their places, and the sightings of those the caller asked to recall are handed back in
//! [`Enumeration::recalled`].

use std::collections::HashSet;
use std::path::Path;
use std::sync::mpsc;

use git2::{Oid, Repository};
use rayon::iter::{ParallelBridge, ParallelIterator};

use super::{enumerate, Counters, Enumeration, Item, Plan, Sighting};
use crate::error::{Plain, RepoHint, Result};
use crate::source::git::{read_blob, reopen, BlobRead};
use crate::source::{Origin, SkipReason, Skipped, Source, Visitor};
use crate::threads;

/// Items handed to the scanners at once (fewer channel hand-offs between threads).
const BATCH: usize = 32;

/// Batches queued between the enumerator and the scanners (bounds memory).
const QUEUE_DEPTH: usize = 32;

/// The blobs and messages of a plan, each handed out once.
#[derive(Clone, Copy)]
pub struct Blobs<'a> {
    /// The repository the plan is of.
    pub repo: &'a Repository,
    /// What to walk.
    pub plan: &'a Plan,
    /// The enumerator's live counters.
    pub counters: &'a Counters,
    /// Blobs larger than this are skipped, named.
    pub max_file_size: u64,
    /// Blobs already scanned, not to read again (`None`: read every blob).
    pub known: Option<&'a Known>,
}

/// Blobs an earlier run scanned under the same rules (killed runs included: see
/// `crate::datastore`'s checkpoints).
#[derive(Debug, Default)]
pub struct Known {
    /// Blob ids not to read again.
    pub ids: HashSet<Oid>,
    /// Of those, the ones whose sighting (path and commit) the caller wants back, to re-join
    /// what the earlier run found in them.
    pub recall: HashSet<Oid>,
}

impl Known {
    /// Whether to send `unit` to the scanners; a known blob that is to be recalled is pushed
    /// to `recalled`.
    fn wants(&self, unit: &Unit, recalled: &mut Vec<Sighting>) -> bool {
        let Unit::Blob(sighting) = unit else { return true };
        if !self.ids.contains(&sighting.blob) {
            return true;
        }
        if self.recall.contains(&sighting.blob) {
            recalled.push(sighting.clone());
        }
        false
    }
}

/// An item as the scanners take it: a blob, with the origin a scan of it reports, or a
/// message.
enum Unit {
    /// A blob, and what a scan of it reports it as.
    Blob(Sighting),
    /// A message's text, and which message it is.
    Message(Vec<u8>, Origin),
}

impl From<Item> for Unit {
    fn from(item: Item) -> Self {
        match item {
            Item::Blob { id, path, commit } => {
                Unit::Blob(Sighting { blob: id, origin: Origin::Blob { path, blob: id, commit } })
            }
            Item::Unreachable { id, path } => {
                Unit::Blob(Sighting { blob: id, origin: Origin::Unreachable { blob: id, path } })
            }
            Item::Message { text, origin } => Unit::Message(text, origin),
        }
    }
}

impl Source for Blobs<'_> {
    /// What the enumerator saw: places of each blob, messages counted, objects unreadable.
    type Output = Enumeration;
    const PARALLEL: bool = true;

    fn feed<V, F>(self, pool: Option<&rayon::ThreadPool>, visitors: &F) -> Result<Enumeration>
    where
        V: Visitor + Send,
        F: Fn() -> V + Sync + ?Sized,
    {
        let pool = pool.expect("the driver gives a parallel source its pool");
        let git_dir = self.repo.path();
        let (sender, receiver) = mpsc::sync_channel::<Vec<Unit>>(QUEUE_DEPTH);
        std::thread::scope(|scope| {
            threads::spawn_scoped(scope, "the history scanner", || {
                pool.install(|| {
                    receiver.into_iter().par_bridge().for_each_init(
                        || (Reader::new(git_dir, self.max_file_size), visitors()),
                        |(reader, visitor), batch| batch.into_iter().for_each(|item| reader.read(item, visitor)),
                    )
                })
            })?;
            // A send fails only if the scanners are gone, which the scope join reports.
            let mut batch = Vec::with_capacity(BATCH);
            let mut recalled = Vec::new();
            let mut enumeration = enumerate(self.repo, self.plan, self.counters, |item| {
                let unit = Unit::from(item);
                if self.known.is_some_and(|known| !known.wants(&unit, &mut recalled)) {
                    return;
                }
                batch.push(unit);
                if batch.len() == BATCH {
                    drop(sender.send(std::mem::replace(&mut batch, Vec::with_capacity(BATCH))));
                }
            });
            drop(sender.send(batch));
            // Closing the channel ends the scanners' loop.
            drop(sender);
            enumeration.recalled = recalled;
            Ok(enumeration)
        })
    }
}

/// One scanner thread's repository, or why it could not be opened.
struct Reader {
    repo: std::result::Result<Repository, String>,
    max_file_size: u64,
}

impl Reader {
    fn new(git_dir: &Path, max_file_size: u64) -> Self {
        let repo = reopen(git_dir).map_err(|e| e.into_error(git_dir, RepoHint::PassRepository).to_string());
        Reader { repo, max_file_size }
    }

    /// Hands a unit's bytes to `visitor`: a blob read from the object database, or a message.
    fn read(&self, unit: Unit, visitor: &mut impl Visitor) {
        let repo = match &self.repo {
            Ok(repo) => repo,
            Err(e) => return visitor.fail(e.clone()),
        };
        match unit {
            Unit::Blob(Sighting { blob, origin }) => self.read_blob(repo, blob, origin, visitor),
            Unit::Message(text, origin) => visitor.message(&text, origin),
        }
    }

    /// Reads blob `id`, found at `origin`, and hands it to `visitor`.
    fn read_blob(&self, repo: &Repository, id: Oid, origin: Origin, visitor: &mut impl Visitor) {
        let odb = match repo.odb() {
            Ok(odb) => odb,
            Err(e) => return visitor.fail(format!("cannot open the object database: {}", Plain(&e))),
        };
        let read = read_blob(&odb, id, self.max_file_size);
        match read {
            Ok(BlobRead::Read(blob)) => visitor.blob(blob.data(), || origin),
            Ok(BlobRead::TooLarge(size)) => {
                visitor.skip(Skipped { path: skipped_name(&origin).into(), reason: SkipReason::TooLarge { size } })
            }
            Err(e) => visitor.fail(format!("blob {id} ({}): {}", place(&origin), Plain(&e))),
        }
    }
}

/// How a skipped blob is named: `COMMIT:path`, or the unreachable blob as reports show it.
fn skipped_name(origin: &Origin) -> String {
    match origin {
        Origin::Blob { path, commit, .. } => format!("{commit:.12}:{path}"),
        other => other.to_string(),
    }
}

/// Where a blob that could not be read was found.
fn place(origin: &Origin) -> String {
    match origin {
        Origin::Blob { path, commit, .. } => format!("{path} in commit {commit}"),
        Origin::Unreachable { path: Some(path), .. } => format!("{path} in an unreachable commit"),
        _ => "unreachable".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::history::{plan, Selection};
    use crate::source::testing::Recorder;

    #[test]
    fn blobs_are_read_on_the_pool_and_messages_handed_out_as_they_are() {
        let dir = tempfile::tempdir().unwrap();
        let repo = Repository::init(dir.path()).unwrap();
        let mut builder = repo.treebuilder(None).unwrap();
        builder.insert("small", repo.blob(b"x").unwrap(), 0o100644).unwrap();
        builder.insert("large", repo.blob(&[b'y'; 64]).unwrap(), 0o100644).unwrap();
        let tree = repo.find_tree(builder.write().unwrap()).unwrap();
        let signature = git2::Signature::new("T", "t@example.com", &git2::Time::new(1_714_564_800, 0)).unwrap();
        let commit = repo.commit(Some("HEAD"), &signature, &signature, "add", &tree, &[]).unwrap();
        let plan = plan(&repo, &Selection::default()).unwrap();
        let pool = threads::pool(2).unwrap();
        let source = Blobs { repo: &repo, plan: &plan, counters: &Counters::default(), max_file_size: 10, known: None };
        let (enumeration, read, mut seen) = Recorder::run(|visitors| source.feed(Some(&pool), visitors));
        seen.sort();
        assert_eq!(seen, ["<commit message>", "small"]);
        assert_eq!(enumeration.unwrap().commit_messages, 1);
        assert_eq!((read.blobs, read.bytes), (1, 1), "messages are not counted among blobs");
        let skipped: Vec<String> = read.skipped.iter().map(|s| s.path.display().to_string()).collect();
        assert_eq!(skipped, [format!("{commit:.12}:large")]);
    }
}
