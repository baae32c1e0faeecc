//! A git work tree met by the walk: the files its index tracks (scanned even when an ignore
//! rule lists them, as git never ignores a tracked file) and its exclude files.
//!
//! The index is read on the first question about a file some rule excludes: parsing a large
//! one takes tens of milliseconds, and a fresh checkout holds no ignored file to ask about.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};

use ignore::gitignore::Gitignore;

use super::ignore_file::Origin;
use super::rules::Context;
use crate::error::{Error, Plain};
use crate::paths::display_path;
use crate::source::history;

/// Paths in an index, `/`-separated.
type Tracked = HashSet<Box<[u8]>>;

/// A work tree's index and exclude files.
pub(super) struct Repository {
    /// The work tree's root as the walk reached it, for warnings.
    dir: PathBuf,
    /// The work tree's root, relative to the walk's base.
    rel: PathBuf,
    /// Until the index is read; `None` if the repository could not be opened.
    git: Mutex<Option<git2::Repository>>,
    /// Paths in the index; `None` when it could not be read, so every file counts as tracked
    /// and no rule excludes anything (the scan covers more, never less).
    tracked: OnceLock<Option<Tracked>>,
    exclude: Option<Gitignore>,
    global: Option<Arc<Gitignore>>,
}

impl Repository {
    /// Opens the repository whose work tree's root is `dir` (at `rel` from the walk's base)
    /// and reads its exclude files. One that cannot be opened is a warning and tracks
    /// everything.
    pub(super) fn open(dir: &Path, rel: &Path, context: &Context) -> Repository {
        let git = open_work_tree(dir).map_err(|why| context.warn(cannot(dir, "be opened", &why))).ok();
        let exclude = git
            .as_ref()
            .and_then(|git| context.load(&git.commondir().join("info").join("exclude"), Origin::Repository));
        Repository {
            dir: dir.to_path_buf(),
            rel: rel.to_path_buf(),
            git: Mutex::new(git),
            tracked: OnceLock::new(),
            exclude,
            global: context.global_excludes(),
        }
    }

    /// Whether the index tracks the file at `rel` (from the walk's base).
    pub(super) fn tracks(&self, rel: &Path, context: &Context) -> bool {
        let Some(tracked) = self.tracked.get_or_init(|| self.read_index(context)) else { return true };
        rel.strip_prefix(&self.rel).is_ok_and(|path| tracked.contains(index_key(path).as_slice()))
    }

    /// The exclude files' rules, each with the directory its patterns are relative to.
    pub(super) fn excludes(&self) -> impl Iterator<Item = (&Gitignore, &Path)> {
        let global = self.global.as_deref();
        [self.exclude.as_ref(), global].into_iter().flatten().map(|rules| (rules, self.rel.as_path()))
    }

    fn read_index(&self, context: &Context) -> Option<Tracked> {
        // Taken once: `OnceLock` runs one initializer. `None` was warned about at `open`.
        let git = self.git.lock().expect("no thread panics while holding the lock").take()?;
        tracked_paths(&git).map_err(|why| context.warn(cannot(&self.dir, "have its index read", &why))).ok()
    }
}

/// The warning for a work tree that cannot `what`.
fn cannot(dir: &Path, what: &str, why: &str) -> String {
    let shown = Some(display_path(dir)).filter(|shown| !shown.is_empty()).unwrap_or_else(|| ".".into());
    format!("{shown}: a git work tree that cannot {what} ({why}); no ignore rule was applied in it")
}

/// The work tree `path` is in, `None` outside git or in a bare repository. Found as libgit2
/// would find it, without opening the repository: the walk opens it when it reaches its root.
pub(super) fn work_tree_of(path: &Path) -> Result<Option<PathBuf>, String> {
    match crate::source::git::locate(path) {
        Ok(Some(location)) if location.root != location.git_dir => Ok(std::fs::canonicalize(&location.root).ok()),
        Ok(_) => Ok(None),
        Err(error) => Err(error.to_string()),
    }
}

/// The repository whose work tree's root is `dir` (not one further up).
fn open_work_tree(dir: &Path) -> Result<git2::Repository, String> {
    let not_a_repository = || "its .git is not a repository".to_string();
    let repository = history::open(Some(dir)).map_err(|error| match error {
        Error::NotARepository { .. } => not_a_repository(),
        error => error.to_string(),
    })?;
    let same = |work_tree: &Path| std::fs::canonicalize(work_tree).ok() == std::fs::canonicalize(dir).ok();
    if !repository.workdir().is_some_and(same) {
        return Err(not_a_repository());
    }
    Ok(repository)
}

/// The paths the index of `repository` holds.
fn tracked_paths(repository: &git2::Repository) -> Result<Tracked, String> {
    // libgit2 opens the index with a blocking, unbounded read: only a regular file is read.
    let index_path = repository.path().join("index");
    match index_path.symlink_metadata() {
        Ok(metadata) if !metadata.is_file() => {
            return Err(format!("its index is a {}", crate::fsio::kind_name(metadata.file_type())))
        }
        _ => {}
    }
    let index = repository.index().map_err(|error| Plain(&error).to_string())?;
    Ok(index.iter().map(|entry| entry.path.into_boxed_slice()).collect())
}

/// A relative path as the index spells it: `/`-separated bytes.
fn index_key(path: &Path) -> Vec<u8> {
    #[cfg(unix)]
    {
        use std::os::unix::ffi::OsStrExt;
        path.as_os_str().as_bytes().to_vec()
    }
    #[cfg(not(unix))]
    {
        crate::paths::forward_slashes(&path.to_string_lossy()).into_bytes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;

    #[test]
    fn tracked_paths_come_from_the_index() {
        let dir = tempfile::tempdir().unwrap();
        let git = git2::Repository::init(dir.path()).unwrap();
        fs::create_dir(dir.path().join("app")).unwrap();
        fs::write(dir.path().join("app/.env"), "x").unwrap();
        let mut index = git.index().unwrap();
        index.add_path(Path::new("app/.env")).unwrap();
        index.write().unwrap();
        let context = Context::default();
        let repository = Repository::open(dir.path(), Path::new("top"), &context);
        assert!(repository.tracks(Path::new("top/app/.env"), &context));
        assert!(!repository.tracks(Path::new("top/app/other"), &context));
        assert!(!repository.tracks(Path::new("app/.env"), &context));
        assert!(context.into_warnings().is_empty());
    }

    #[test]
    fn an_unreadable_repository_tracks_everything() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join(".git"), "not a gitdir pointer").unwrap();
        let context = Context::default();
        let repository = Repository::open(dir.path(), Path::new(""), &context);
        assert!(repository.tracks(Path::new("anything"), &context));
        assert_eq!(context.into_warnings().len(), 1);
    }
}
