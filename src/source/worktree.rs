//! The working-tree source: walks files and directories in parallel on the driver's pool and
//! hands each regular file's bytes to the reading thread's [`Visitor`].
//!
//! Hidden files are read (`.env` is where keys live); a `.git` directory never is (a regular
//! file named `.git` is scanned like any other). `.gitignore`, `.ignore` and git's exclude
//! files are honoured unless disabled ([`rules`] reads them, bounded, and applies them as git
//! does: a file the index tracks is scanned even when a rule lists it), and the files they
//! exclude are counted, so a target that is wholly ignored is reported instead of called
//! clean. A file named on the command line is scanned even if ignored. Only regular files are
//! opened: FIFOs, sockets, devices and symlinks are counted and passed over, so nothing can
//! block the walk. Binary files are scanned like text.

mod ignore_file;
mod repository;
mod rules;

use std::ffi::OsString;
use std::fs::FileType;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use rules::{Context, Level, Present, Start};

use super::{Origin, SkipReason, Skipped, Source, SourceStats, Visitor};
use crate::error::{Error, Result};
use crate::paths::display_path;

/// How to walk.
#[derive(Debug, Clone)]
pub struct WalkOptions {
    /// Honour `.gitignore`, `.ignore` and git exclude files.
    pub respect_ignore_files: bool,
    /// Files larger than this are skipped and reported.
    pub max_file_size: u64,
}

/// The files and directories named on the command line, walked.
#[derive(Debug, Clone, Copy)]
pub struct Walk<'a> {
    /// What to walk.
    pub roots: &'a [PathBuf],
    /// How.
    pub options: &'a WalkOptions,
}

impl Source for Walk<'_> {
    /// What the walk passed over (ignored files, entries that are not regular files) and the
    /// directories it could not list.
    type Output = SourceStats;
    const PARALLEL: bool = true;

    /// Fails only if a root does not exist.
    fn feed<V, F>(self, pool: Option<&rayon::ThreadPool>, visitors: &F) -> Result<SourceStats>
    where
        V: Visitor + Send,
        F: Fn() -> V + Sync + ?Sized,
    {
        let pool = pool.expect("the driver gives a parallel source its pool");
        for root in self.roots {
            std::fs::symlink_metadata(root).map_err(|source| Error::Path { path: root.clone(), source })?;
        }
        let mut stats = SourceStats::default();
        for root in self.roots {
            let walker = Walker::new(self.options, visitors, pool.current_num_threads());
            stats.merge(walker.walk_root(pool, root));
        }
        Ok(stats)
    }
}

/// Counters shared by the walker's threads.
#[derive(Default)]
struct SharedStats {
    regular_seen: AtomicU64,
    not_regular: AtomicU64,
    ignored: AtomicU64,
    errors: Mutex<Vec<String>>,
}

impl SharedStats {
    fn error(&self, message: String) {
        self.errors.lock().expect("no thread panics while holding the lock").push(message);
    }

    fn count(counter: &AtomicU64) {
        counter.fetch_add(1, Ordering::Relaxed);
    }

    fn into_stats(self) -> SourceStats {
        SourceStats {
            not_regular: self.not_regular.into_inner(),
            ignored: self.ignored.into_inner(),
            errors: self.errors.into_inner().expect("walker threads have finished"),
            ..SourceStats::default()
        }
    }
}

/// One pool thread's visitor and read buffer.
struct Slot<V> {
    visitor: V,
    buffer: Vec<u8>,
}

/// The walk of one root, shared by the pool's threads.
struct Walker<'w, F: ?Sized, V> {
    options: &'w WalkOptions,
    make_visitor: &'w F,
    /// One per pool thread, indexed by the thread's index: never contended.
    slots: Vec<Mutex<Option<Slot<V>>>>,
    stats: SharedStats,
    context: Context,
}

/// A directory to list.
struct Dir {
    path: PathBuf,
    /// The directory relative to the walk's base, as ignore rules see it.
    rel: PathBuf,
    /// The rules in force in its parent.
    level: Option<Arc<Level>>,
    /// Excluded by those rules (or below a directory that is): only tracked files are scanned.
    ignored: bool,
}

/// A directory entry, typed without following symlinks.
struct Entry {
    name: OsString,
    file_type: FileType,
}

impl<'w, F, V> Walker<'w, F, V>
where
    F: Fn() -> V + Sync + ?Sized,
    V: Visitor + Send,
{
    fn new(options: &'w WalkOptions, make_visitor: &'w F, threads: usize) -> Self {
        let slots = (0..threads).map(|_| Mutex::new(None)).collect();
        Walker { options, make_visitor, slots, stats: SharedStats::default(), context: Context::default() }
    }

    fn walk_root(self, pool: &rayon::ThreadPool, root: &Path) -> SourceStats {
        // A root the user named is followed if it is a symlink, and a file is scanned even if
        // an ignore rule lists it.
        let start = match std::fs::metadata(root) {
            Ok(metadata) if metadata.is_dir() => self.start(root),
            Ok(metadata) => {
                pool.install(|| self.visit_named(root, metadata.is_file()));
                return self.into_stats();
            }
            Err(error) => {
                self.stats.error(format!("{}: {error}", root.display()));
                return self.into_stats();
            }
        };
        let dir = Dir { path: root.to_path_buf(), rel: start.rel, level: start.level, ignored: start.ignored };
        pool.scope(|scope| self.walk_dir(scope, dir));
        let regular_seen = self.stats.regular_seen.load(Ordering::Relaxed);
        let mut stats = self.into_stats();
        if regular_seen == 0 && stats.ignored > 0 {
            stats.warnings.push(wholly_ignored(
                root,
                start.ignored.then_some(start.work_tree).flatten(),
                stats.ignored,
            ));
        }
        stats
    }

    fn start(&self, root: &Path) -> Start {
        if self.options.respect_ignore_files {
            Start::of(root, &self.context)
        } else {
            Start::default()
        }
    }

    fn into_stats(self) -> SourceStats {
        let mut stats = self.stats.into_stats();
        stats.warnings.extend(self.context.into_warnings());
        stats
    }

    /// Lists `dir` and hands each entry to the pool: files to read, directories to list.
    fn walk_dir<'s>(&'s self, scope: &rayon::Scope<'s>, dir: Dir) {
        let entries = self.list(&dir.path);
        let level = if self.options.respect_ignore_files && !dir.ignored {
            let mut present = Present::default();
            entries.iter().for_each(|entry| present.see(&entry.name));
            Level::of_dir(dir.level.as_ref(), &dir.path, &dir.rel, present, &self.context)
        } else {
            dir.level
        };
        for Entry { name, file_type } in entries {
            if file_type.is_dir() && name == ".git" {
                continue;
            }
            let path = dir.path.join(&name);
            let rel = dir.rel.join(&name);
            let ignored = dir.ignored || level.as_ref().is_some_and(|level| level.ignores(&rel, file_type.is_dir()));
            if file_type.is_dir() {
                let child = Dir { path, rel, level: level.clone(), ignored };
                scope.spawn(move |scope| self.walk_dir(scope, child));
            } else if ignored && !level.as_ref().is_some_and(|level| level.tracks(&rel, &self.context)) {
                // The summary counts excluded files; an excluded symlink or FIFO is no file.
                if file_type.is_file() {
                    SharedStats::count(&self.stats.ignored);
                }
            } else if file_type.is_file() {
                scope.spawn(move |_| self.visit_file(&path, Follow::Listed));
            } else {
                SharedStats::count(&self.stats.not_regular);
            }
        }
    }

    /// The entries of `dir`, typed as the listing reports them (symlinks not followed); one
    /// that cannot be read is an error, and the others are still listed.
    fn list(&self, dir: &Path) -> Vec<Entry> {
        let entries = match std::fs::read_dir(dir) {
            Ok(entries) => entries,
            Err(error) => {
                self.stats.error(format!("{}: {error}", dir.display()));
                return Vec::new();
            }
        };
        let typed = |entry: std::fs::DirEntry| Ok(Entry { file_type: entry.file_type()?, name: entry.file_name() });
        entries
            .filter_map(|entry| {
                entry.and_then(typed).map_err(|error| self.stats.error(format!("{}: {error}", dir.display()))).ok()
            })
            .collect()
    }

    /// A root that is not a directory: read if it is a regular file, counted otherwise.
    fn visit_named(&self, path: &Path, is_file: bool) {
        if is_file {
            self.visit_file(path, Follow::Named);
        } else {
            SharedStats::count(&self.stats.not_regular);
        }
    }

    fn visit_file(&self, path: &Path, follow: Follow) {
        SharedStats::count(&self.stats.regular_seen);
        let mut slot = self.slot();
        let Slot { visitor, buffer } =
            slot.get_or_insert_with(|| Slot { visitor: (self.make_visitor)(), buffer: Vec::new() });
        match read_capped(path, follow, self.options.max_file_size, buffer) {
            Ok(ReadOutcome::Read) => visitor.blob(buffer, || Origin::File(display_path(path))),
            Ok(ReadOutcome::TooLarge(size)) => {
                visitor.skip(Skipped { path: path.to_path_buf(), reason: SkipReason::TooLarge { size } })
            }
            Err(error) => visitor.fail(format!("{}: {error}", path.display())),
        }
    }

    /// This pool thread's visitor and buffer.
    fn slot(&self) -> MutexGuard<'_, Option<Slot<V>>> {
        let index = rayon::current_thread_index().expect("files are read on the walk's pool");
        self.slots[index].lock().expect("no thread panics while holding the lock")
    }
}

/// The warning for a directory target of which nothing was scanned because every file in it
/// is excluded: by the rules of the enclosing `work_tree` when they exclude the target itself.
fn wholly_ignored(root: &Path, work_tree: Option<PathBuf>, ignored: u64) -> String {
    match work_tree {
        Some(work_tree) => format!(
            "{}: excluded by the ignore rules of the repository at {}, so nothing was scanned; \
             use --no-ignore to scan it",
            display_path(root),
            work_tree.display()
        ),
        None => format!(
            "{}: every file ({ignored}) is excluded by .gitignore/.ignore rules, so nothing was scanned; \
             use --no-ignore to scan them",
            display_path(root),
        ),
    }
}

/// How a file to read was reached, which decides whether a symlink there is followed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Follow {
    /// Named on the command line: followed, as the user asked for it.
    Named,
    /// Listed in a directory the walk entered: never followed.
    Listed,
}

enum ReadOutcome {
    Read,
    TooLarge(u64),
}

/// Bytes read before a file's size is asked for, at least: files that end within them (most
/// of a tree) cost no `fstat`.
const FIRST_READ: u64 = 64 << 10;

/// Reads a whole file into `buffer` unless it is larger than `limit`. The first read fills
/// what earlier files left of the buffer (at least [`FIRST_READ`]); only a file that does not
/// end there is measured, so one far over the limit is skipped without being read.
fn read_capped(path: &Path, follow: Follow, limit: u64, buffer: &mut Vec<u8>) -> std::io::Result<ReadOutcome> {
    // The walk saw a regular file, but it may be swapped for a FIFO or a symlink before the
    // open: neither may block the walk or lead it out of the tree.
    let mut file = crate::fsio::open_for_reading(path, follow == Follow::Named)?;
    buffer.clear();
    // One byte past the limit tells a file over it; a limit of `u64::MAX` has no such byte.
    let cap = limit.saturating_add(1);
    let first_read = (buffer.capacity() as u64).max(FIRST_READ).min(cap);
    (&mut file).take(first_read).read_to_end(buffer)?;
    if (buffer.len() as u64) < first_read {
        return Ok(ReadOutcome::Read);
    }
    let size = file.metadata()?.len();
    if size > limit {
        return Ok(ReadOutcome::TooLarge(size));
    }
    // The file may grow while it is read: never read past the limit.
    (&mut file).take(cap - first_read).read_to_end(buffer)?;
    if buffer.len() as u64 > limit {
        return Ok(ReadOutcome::TooLarge(buffer.len() as u64));
    }
    Ok(ReadOutcome::Read)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;

    use crate::source::testing::Recorder;

    fn options() -> WalkOptions {
        WalkOptions { respect_ignore_files: true, max_file_size: 1024 }
    }

    /// The names of the files read, sorted, and the stats of the walk and of its reads.
    fn collect(roots: &[PathBuf], options: &WalkOptions) -> (Vec<String>, SourceStats) {
        let pool = crate::threads::pool(2).unwrap();
        let (stats, read, mut seen) = Recorder::run(|visitors| Walk { roots, options }.feed(Some(&pool), visitors));
        let mut stats = stats.unwrap();
        stats.merge(read);
        seen.sort();
        let names = seen.iter().map(|path| Path::new(path).file_name().unwrap().to_string_lossy().into_owned());
        (names.collect(), stats)
    }

    #[test]
    fn hidden_files_are_read_and_git_dir_is_not() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join(".env"), "x").unwrap();
        fs::create_dir(dir.path().join(".git")).unwrap();
        fs::write(dir.path().join(".git/config"), "x").unwrap();
        let (seen, stats) = collect(&[dir.path().to_path_buf()], &options());
        assert_eq!(seen, [".env"]);
        assert_eq!(stats.blobs, 1);
    }

    #[test]
    fn large_files_are_skipped_by_name() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join("big.bin"), vec![b'a'; 2048]).unwrap();
        let (seen, stats) = collect(&[dir.path().to_path_buf()], &options());
        assert!(seen.is_empty());
        assert_eq!(stats.skipped.len(), 1);
        assert!(stats.skipped[0].path.ends_with("big.bin"));
        // Reading stops past the limit; the size reported is the file's own.
        assert!(matches!(stats.skipped[0].reason, SkipReason::TooLarge { size: 2048 }));
    }

    #[test]
    fn files_past_the_first_read_are_read_whole_up_to_the_limit() {
        let dir = tempfile::tempdir().unwrap();
        let limit = 3 * FIRST_READ;
        let path = dir.path().join("f");
        let mut buffer = Vec::new();
        for size in [FIRST_READ - 1, FIRST_READ, FIRST_READ + 1, limit] {
            fs::write(&path, vec![b'x'; size as usize]).unwrap();
            assert!(matches!(read_capped(&path, Follow::Listed, limit, &mut buffer).unwrap(), ReadOutcome::Read));
            assert_eq!(buffer.len() as u64, size);
        }
        fs::write(&path, vec![b'x'; limit as usize + 1]).unwrap();
        let outcome = read_capped(&path, Follow::Listed, limit, &mut buffer).unwrap();
        assert!(matches!(outcome, ReadOutcome::TooLarge(size) if size == limit + 1));
    }

    #[test]
    fn a_limit_of_u64_max_reads_the_whole_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("file");
        fs::write(&path, vec![b'x'; FIRST_READ as usize + 10]).unwrap();
        let mut buffer = Vec::new();
        assert!(matches!(read_capped(&path, Follow::Listed, u64::MAX, &mut buffer).unwrap(), ReadOutcome::Read));
        assert_eq!(buffer.len() as u64, FIRST_READ + 10);
    }

    #[test]
    fn missing_root_is_an_error() {
        let pool = crate::threads::pool(1).unwrap();
        let roots = [PathBuf::from("/no/such/path")];
        let walk = Walk { roots: &roots, options: &options() };
        let err = Recorder::run(|visitors| walk.feed(Some(&pool), visitors)).0.unwrap_err();
        assert!(matches!(err, Error::Path { .. }));
    }

    #[cfg(unix)]
    #[test]
    fn fifos_are_counted_not_opened() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("pipe");
        let status = std::process::Command::new("mkfifo").arg(&fifo).status().unwrap();
        assert!(status.success());
        let (seen, stats) = collect(&[dir.path().to_path_buf()], &options());
        assert!(seen.is_empty());
        assert_eq!(stats.not_regular, 1);
    }
}
