//! A git work tree met by the walk: the files its index tracks (scanned even when an ignore
//! rule lists them, as git never ignores a tracked file) and its exclude files.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use ignore::gitignore::Gitignore;

use super::ignore_file::Origin;
use super::rules::Context;
use crate::error::Error;
use crate::source::{display_path, history};

/// Paths in an index, `/`-separated.
type Tracked = HashSet<Box<[u8]>>;

/// A work tree's index and exclude files.
pub struct Repository {
    /// The work tree's root, relative to the walk's base.
    rel: PathBuf,
    /// Paths in the index, `/`-separated; `None` when the index could not be read, so every
    /// file counts as tracked and no rule excludes anything (the scan covers more, never less).
    tracked: Option<Tracked>,
    exclude: Option<Gitignore>,
    global: Option<Arc<Gitignore>>,
}

impl Repository {
    /// Reads the repository whose work tree's root is `dir` (at `rel` from the walk's base).
    /// One that cannot be read is a warning and tracks everything.
    pub fn open(dir: &Path, rel: &Path, context: &Context) -> Repository {
        let global = context.global_excludes();
        match read(dir) {
            Ok((tracked, git_dir)) => Repository {
                rel: rel.to_path_buf(),
                tracked: Some(tracked),
                exclude: context.load(&git_dir.join("info").join("exclude"), Origin::Repository),
                global,
            },
            Err(why) => {
                let shown = Some(display_path(dir)).filter(|shown| !shown.is_empty()).unwrap_or_else(|| ".".into());
                context.warn(format!(
                    "{shown}: a git work tree whose index cannot be read ({why}); no ignore rule was applied in it"
                ));
                Repository { rel: rel.to_path_buf(), tracked: None, exclude: None, global }
            }
        }
    }

    /// Whether the index tracks the file at `rel` (from the walk's base).
    pub fn tracks(&self, rel: &Path) -> bool {
        let Some(tracked) = &self.tracked else { return true };
        rel.strip_prefix(&self.rel).is_ok_and(|path| tracked.contains(index_key(path).as_slice()))
    }

    /// The exclude files' rules, each with the directory its patterns are relative to.
    pub fn excludes(&self) -> impl Iterator<Item = (&Gitignore, &Path)> {
        let global = self.global.as_deref();
        [self.exclude.as_ref(), global].into_iter().flatten().map(|rules| (rules, self.rel.as_path()))
    }
}

/// The work tree `path` is in, `None` outside git or in a bare repository.
pub fn work_tree_of(path: &Path) -> Result<Option<PathBuf>, String> {
    match history::open(Some(path)) {
        Ok(repository) => Ok(repository.workdir().and_then(|dir| std::fs::canonicalize(dir).ok())),
        Err(Error::NotARepository { .. }) => Ok(None),
        Err(error) => Err(error.to_string()),
    }
}

/// The index's paths and the git directory (whose `info/exclude` applies) of the repository
/// whose work tree's root is `dir`.
fn read(dir: &Path) -> Result<(Tracked, PathBuf), String> {
    let not_a_repository = || "its .git is not a repository".to_string();
    let repository = history::open(Some(dir)).map_err(|error| match error {
        Error::NotARepository { .. } => not_a_repository(),
        error => error.to_string(),
    })?;
    let same = |work_tree: &Path| std::fs::canonicalize(work_tree).ok() == std::fs::canonicalize(dir).ok();
    if !repository.workdir().is_some_and(same) {
        return Err(not_a_repository());
    }
    // libgit2 opens the index with a blocking, unbounded read: only a regular file is read.
    let index_path = repository.path().join("index");
    match index_path.symlink_metadata() {
        Ok(metadata) if !metadata.is_file() => {
            return Err(format!("its index is a {}", super::ignore_file::kind(metadata.file_type())))
        }
        _ => {}
    }
    let index = repository.index().map_err(|error| error.message().to_string())?;
    let tracked = index.iter().map(|entry| entry.path.into_boxed_slice()).collect();
    Ok((tracked, repository.commondir().to_path_buf()))
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
        crate::source::forward_slashes(&path.to_string_lossy()).into_bytes()
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
        assert!(repository.tracks(Path::new("top/app/.env")));
        assert!(!repository.tracks(Path::new("top/app/other")));
        assert!(!repository.tracks(Path::new("app/.env")));
        assert!(context.into_warnings().is_empty());
    }

    #[test]
    fn an_unreadable_repository_tracks_everything() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join(".git"), "not a gitdir pointer").unwrap();
        let context = Context::default();
        let repository = Repository::open(dir.path(), Path::new(""), &context);
        assert!(repository.tracks(Path::new("anything")));
        assert_eq!(context.into_warnings().len(), 1);
    }
}
