//! The working-tree source: walks files and directories with the `ignore` crate and hands
//! each regular file's bytes to a per-thread visitor on a pool of worker threads. The walk
//! itself is `ignore`'s iterative one, shared by the workers: its parallel walker panics when
//! the system refuses a thread, and hangs the threads it did start.
//!
//! Hidden files are read (`.env` is where keys live); `.git/` never is. `.gitignore`, `.ignore`
//! and git's exclude files are honoured unless disabled, and the files they exclude are
//! counted, so a target that is wholly ignored is reported instead of called clean. Only
//! regular files are opened: FIFOs, sockets, devices and symlinks are counted and passed
//! over, so nothing can block the walk. Binary files are scanned like text.

use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

use ignore::{DirEntry, WalkBuilder};
use rayon::iter::{ParallelBridge, ParallelIterator};

use super::{display_path, SkipReason, Skipped, SourceStats};
use crate::error::{Error, Result};
use crate::threads;

/// How to walk.
#[derive(Debug, Clone)]
pub struct WalkOptions {
    /// Honour `.gitignore`, `.ignore` and git exclude files.
    pub respect_ignore_files: bool,
    /// Files larger than this are skipped and reported.
    pub max_file_size: u64,
    /// Worker threads.
    pub threads: usize,
}

/// Walks `roots` and calls a per-thread visitor with each file's path and bytes. Fails only if
/// a root does not exist or the worker threads cannot start; errors on single files are
/// counted in the returned stats.
pub fn walk<V>(roots: &[PathBuf], options: &WalkOptions, make_visitor: impl Fn() -> V + Sync) -> Result<SourceStats>
where
    V: FnMut(&Path, &[u8]) + Send,
{
    for root in roots {
        std::fs::symlink_metadata(root).map_err(|source| Error::Path { path: root.clone(), source })?;
    }
    let pool = threads::pool(options.threads)?;
    let mut stats = SourceStats::default();
    for root in roots {
        stats.merge(pool.install(|| walk_root(root, options, &make_visitor)));
    }
    Ok(stats)
}

/// Counters shared by the walker's threads.
#[derive(Default)]
struct SharedStats {
    blobs: AtomicU64,
    bytes: AtomicU64,
    regular_seen: AtomicU64,
    not_regular: AtomicU64,
    skipped: Mutex<Vec<Skipped>>,
    errors: Mutex<Vec<String>>,
}

impl SharedStats {
    fn error(&self, message: String) {
        self.errors.lock().expect("no thread panics while holding the lock").push(message);
    }

    fn into_stats(self) -> SourceStats {
        SourceStats {
            blobs: self.blobs.into_inner(),
            bytes: self.bytes.into_inner(),
            skipped: self.skipped.into_inner().expect("walker threads have finished"),
            not_regular: self.not_regular.into_inner(),
            errors: self.errors.into_inner().expect("walker threads have finished"),
            ..SourceStats::default()
        }
    }
}

fn walk_root<V>(root: &Path, options: &WalkOptions, make_visitor: &(impl Fn() -> V + Sync)) -> SourceStats
where
    V: FnMut(&Path, &[u8]) + Send,
{
    if options.respect_ignore_files {
        if let Some(repository) = enclosing_repository_ignoring(root) {
            return wholly_ignored(root, &repository);
        }
    }
    let shared = SharedStats::default();
    builder(root, options.respect_ignore_files).build().par_bridge().for_each_init(
        || (make_visitor(), Vec::new()),
        |(visitor, buffer), entry| match entry {
            Ok(entry) => visit_entry(&entry, options, &shared, buffer, visitor),
            Err(error) => shared.error(error.to_string()),
        },
    );
    let regular_seen = shared.regular_seen.load(Ordering::Relaxed);
    let mut stats = shared.into_stats();
    if options.respect_ignore_files {
        stats.ignored = count_regular_files(root).saturating_sub(regular_seen);
        if regular_seen == 0 && stats.ignored > 0 {
            stats.warnings.push(format!(
                "{}: every file ({}) is excluded by .gitignore/.ignore rules, so nothing was scanned; \
                 use --no-ignore to scan them",
                display_path(root),
                stats.ignored
            ));
        }
    }
    stats
}

/// The work tree of the repository whose ignore rules exclude `root` itself (or one of its
/// parent directories), if any. The `ignore` crate applies a parent's rules only to paths
/// below the root, never to the root, so `scan vendor/lib` under an ignored `vendor/` needs
/// this check to be reported instead of scanned.
fn enclosing_repository_ignoring(root: &Path) -> Option<PathBuf> {
    let absolute = std::fs::canonicalize(root).ok()?;
    let repository = git2::Repository::discover(&absolute).ok()?;
    let workdir = std::fs::canonicalize(repository.workdir()?).ok()?;
    let relative = absolute.strip_prefix(&workdir).ok()?;
    if relative.as_os_str().is_empty() {
        return None;
    }
    repository.is_path_ignored(relative).ok()?.then_some(workdir)
}

fn wholly_ignored(root: &Path, repository: &Path) -> SourceStats {
    let ignored = if root.is_dir() { count_regular_files(root) } else { 1 };
    SourceStats {
        ignored,
        warnings: vec![format!(
            "{}: excluded by the ignore rules of the repository at {}, so nothing was scanned; \
             use --no-ignore to scan it",
            display_path(root),
            repository.display()
        )],
        ..SourceStats::default()
    }
}

fn builder(root: &Path, respect_ignore_files: bool) -> WalkBuilder {
    let mut builder = WalkBuilder::new(root);
    builder
        .hidden(false)
        .parents(respect_ignore_files)
        .ignore(respect_ignore_files)
        .git_ignore(respect_ignore_files)
        .git_global(respect_ignore_files)
        .git_exclude(respect_ignore_files)
        .follow_links(false)
        .filter_entry(|entry| entry.file_name() != ".git");
    builder
}

fn visit_entry<V>(entry: &DirEntry, options: &WalkOptions, shared: &SharedStats, buffer: &mut Vec<u8>, visitor: &mut V)
where
    V: FnMut(&Path, &[u8]) + Send,
{
    let Some(file_type) = entry.file_type() else { return };
    if file_type.is_dir() {
        return;
    }
    if !file_type.is_file() {
        shared.not_regular.fetch_add(1, Ordering::Relaxed);
        return;
    }
    shared.regular_seen.fetch_add(1, Ordering::Relaxed);
    let path = entry.path();
    match read_capped(path, options.max_file_size, buffer) {
        Ok(ReadOutcome::Read) => {
            shared.blobs.fetch_add(1, Ordering::Relaxed);
            shared.bytes.fetch_add(buffer.len() as u64, Ordering::Relaxed);
            visitor(path, buffer);
        }
        Ok(ReadOutcome::TooLarge(size)) => {
            let skipped = Skipped { path: path.to_path_buf(), reason: SkipReason::TooLarge { size } };
            shared.skipped.lock().expect("no thread panics while holding the lock").push(skipped);
        }
        Err(error) => shared.error(format!("{}: {error}", path.display())),
    }
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
fn read_capped(path: &Path, limit: u64, buffer: &mut Vec<u8>) -> std::io::Result<ReadOutcome> {
    let mut file = File::open(path)?;
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

/// Regular files under `root` with ignore files disabled (`.git/` still excluded).
fn count_regular_files(root: &Path) -> u64 {
    let walk = builder(root, false).build();
    walk.filter(|entry| entry.as_ref().is_ok_and(|e| e.file_type().is_some_and(|t| t.is_file()))).count() as u64
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;

    fn options() -> WalkOptions {
        WalkOptions { respect_ignore_files: true, max_file_size: 1024, threads: 2 }
    }

    fn collect(roots: &[PathBuf], options: &WalkOptions) -> (Vec<String>, SourceStats) {
        let seen = Mutex::new(Vec::new());
        let stats = walk(roots, options, || {
            |path: &Path, _bytes: &[u8]| {
                seen.lock().unwrap().push(path.file_name().unwrap().to_string_lossy().into_owned())
            }
        })
        .unwrap();
        let mut seen = seen.into_inner().unwrap();
        seen.sort();
        (seen, stats)
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
            assert!(matches!(read_capped(&path, limit, &mut buffer).unwrap(), ReadOutcome::Read));
            assert_eq!(buffer.len() as u64, size);
        }
        fs::write(&path, vec![b'x'; limit as usize + 1]).unwrap();
        let outcome = read_capped(&path, limit, &mut buffer).unwrap();
        assert!(matches!(outcome, ReadOutcome::TooLarge(size) if size == limit + 1));
    }

    #[test]
    fn a_limit_of_u64_max_reads_the_whole_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f");
        fs::write(&path, vec![b'x'; FIRST_READ as usize * 2 + 5]).unwrap();
        let mut buffer = Vec::new();
        assert!(matches!(read_capped(&path, u64::MAX, &mut buffer).unwrap(), ReadOutcome::Read));
        assert_eq!(buffer.len() as u64, FIRST_READ * 2 + 5);
    }

    #[test]
    fn missing_root_is_an_error() {
        let err = walk(&[PathBuf::from("/no/such/path")], &options(), || |_: &Path, _: &[u8]| {}).unwrap_err();
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
