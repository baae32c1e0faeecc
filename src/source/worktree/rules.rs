//! Which files of a walk are excluded, the way git and ripgrep decide it, from ignore files
//! read by [`ignore_file`] rather than by the `ignore` crate.
//!
//! A directory's rules are a chain of [`Level`]s, one per directory that added something,
//! from the directory up to the walk's base (the work tree enclosing the scanned root, or the
//! root itself outside git). The nearest match wins, `.ignore` files before `.gitignore`
//! files (ripgrep's order), then git's `info/exclude` and the user's global excludes file.
//! `.gitignore` rules apply only inside a git work tree, and stop at a nested repository.
//! Ignore files above the base are not read: they belong to no scanned repository, and a
//! shared directory such as the system's temporary one is writable by anyone.
//!
//! git's ignore rules apply only to untracked files: a file the repository's index tracks is
//! scanned even when a rule lists it, so a committed `.gitignore` cannot hide a committed key.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};

use ignore::gitignore::Gitignore;

use super::ignore_file::{self, Origin};
use super::repository::Repository;
use crate::paths::display_path;

/// What a walk's rules share: the user's global excludes file, read once, and the warnings
/// about ignore files that were not read.
#[derive(Default)]
pub(super) struct Context {
    global: OnceLock<Option<Arc<Gitignore>>>,
    warnings: Mutex<Vec<String>>,
}

impl Context {
    /// Records a warning for the summary.
    pub(super) fn warn(&self, message: String) {
        self.warnings.lock().expect("no thread panics while holding the lock").push(message);
    }

    /// The warnings recorded.
    pub(super) fn into_warnings(self) -> Vec<String> {
        self.warnings.into_inner().expect("walker threads have finished")
    }

    /// The user's global excludes file (git's `core.excludesFile`), located as git does.
    pub(super) fn global_excludes(&self) -> Option<Arc<Gitignore>> {
        self.global
            .get_or_init(|| {
                let path = ignore::gitignore::gitconfig_excludes_path()?;
                self.load(&path, Origin::User).map(Arc::new)
            })
            .clone()
    }

    /// The rules of one ignore file; one that exists but is not read is a warning, and the
    /// walk goes on as if it were empty, which can only scan more.
    pub(super) fn load(&self, path: &Path, origin: Origin) -> Option<Gitignore> {
        ignore_file::load(path, origin, &|message| self.warn(message)).unwrap_or_else(|why| {
            self.warn(format!(
                "{}: not read ({why}); its ignore rules were not applied, so the files it lists were scanned",
                display_path(path)
            ));
            None
        })
    }
}

/// Which of the names that decide a directory's rules its listing holds.
#[derive(Debug, Default, Clone, Copy)]
pub(super) struct Present {
    /// `.ignore`.
    pub ignore: bool,
    /// `.gitignore`.
    pub gitignore: bool,
    /// `.git`, of any type: the directory is a work tree's root.
    pub git: bool,
}

impl Present {
    /// Notes `name` if it is one of the names.
    pub(super) fn see(&mut self, name: &std::ffi::OsStr) {
        match name.to_str() {
            Some(".ignore") => self.ignore = true,
            Some(".gitignore") => self.gitignore = true,
            Some(".git") => self.git = true,
            _ => {}
        }
    }
}

/// The rules one directory adds to its parent's.
pub(super) struct Level {
    parent: Option<Arc<Level>>,
    /// The directory, relative to the walk's base.
    rel: PathBuf,
    dot_ignore: Option<Gitignore>,
    gitignore: Option<Gitignore>,
    /// The repository whose work tree the directory is in.
    repository: Option<Arc<Repository>>,
}

impl Level {
    /// The rules of directory `dir` (at `rel` from the base), given its parent's and what its
    /// listing holds. Reads its ignore files, and its repository if it is a work tree's root.
    pub(super) fn of_dir(
        parent: Option<&Arc<Level>>,
        dir: &Path,
        rel: &Path,
        present: Present,
        context: &Context,
    ) -> Option<Arc<Level>> {
        let repository = if present.git {
            Some(Arc::new(Repository::open(dir, rel, context)))
        } else {
            parent.and_then(|level| level.repository.clone())
        };
        let dot_ignore = present.ignore.then(|| context.load(&dir.join(".ignore"), Origin::Repository)).flatten();
        let gitignore = (present.gitignore && repository.is_some())
            .then(|| context.load(&dir.join(".gitignore"), Origin::Repository))
            .flatten();
        if !present.git && dot_ignore.is_none() && gitignore.is_none() {
            return parent.cloned();
        }
        Some(Arc::new(Level { parent: parent.cloned(), rel: rel.to_path_buf(), dot_ignore, gitignore, repository }))
    }

    /// Whether the entry at `rel` (from the base) is excluded by these rules. Tracked files
    /// are not: see [`Level::tracks`].
    pub(super) fn ignores(&self, rel: &Path, is_dir: bool) -> bool {
        let levels = || std::iter::successors(Some(self), |level| level.parent.as_deref());
        let same_repository = |level: &&Level| match (&level.repository, &self.repository) {
            (Some(a), Some(b)) => Arc::ptr_eq(a, b),
            _ => false,
        };
        let dot_ignores = levels().filter_map(|level| Some((level.dot_ignore.as_ref()?, level.rel.as_path())));
        let gitignores = levels()
            .take_while(same_repository)
            .filter_map(|level| Some((level.gitignore.as_ref()?, level.rel.as_path())));
        let excludes = self.repository.iter().flat_map(|repository| repository.excludes());
        dot_ignores
            .chain(gitignores)
            .chain(excludes)
            .find_map(|(rules, dir)| {
                let matched = rules.matched(rel.strip_prefix(dir).ok()?, is_dir);
                (!matched.is_none()).then(|| matched.is_ignore())
            })
            .unwrap_or(false)
    }

    /// Whether the file at `rel` (from the base) is tracked by the repository it is in.
    pub(super) fn tracks(&self, rel: &Path, context: &Context) -> bool {
        self.repository.as_ref().is_some_and(|repository| repository.tracks(rel, context))
    }
}

/// Where a walk of a directory starts: the rules of the directories between the enclosing
/// work tree's root and the scanned root, and whether they exclude the root itself.
#[derive(Default)]
pub(super) struct Start {
    /// The root, relative to the base.
    pub rel: PathBuf,
    /// The rules in force in the root's parent.
    pub level: Option<Arc<Level>>,
    /// The root is excluded by those rules: only tracked files below it are scanned.
    pub ignored: bool,
    /// The enclosing work tree, when the root is below its top.
    pub work_tree: Option<PathBuf>,
}

impl Start {
    /// The start of a walk of directory `root`.
    pub(super) fn of(root: &Path, context: &Context) -> Start {
        let Some((work_tree, rel)) = enclosing_work_tree(root, context) else { return Start::default() };
        let (mut level, mut ignored) = (None, false);
        let (mut dir, mut dir_rel) = (work_tree.clone(), PathBuf::new());
        for component in rel.components() {
            if !ignored {
                level = Level::of_dir(level.as_ref(), &dir, &dir_rel, present_in(&dir), context);
            }
            dir.push(component);
            dir_rel.push(component);
            ignored = ignored || level.as_ref().is_some_and(|level| level.ignores(&dir_rel, true));
        }
        Start { rel, level, ignored, work_tree: Some(work_tree) }
    }
}

/// The work tree `root` is below (not at its top), and `root` relative to it.
fn enclosing_work_tree(root: &Path, context: &Context) -> Option<(PathBuf, PathBuf)> {
    let absolute = std::fs::canonicalize(root).ok()?;
    let work_tree = super::repository::work_tree_of(&absolute).unwrap_or_else(|why| {
        context.warn(format!(
            "{}: in a git repository that cannot be opened ({why}); its ignore rules were not applied",
            display_path(root)
        ));
        None
    })?;
    let rel = absolute.strip_prefix(&work_tree).ok()?.to_path_buf();
    (!rel.as_os_str().is_empty()).then_some((work_tree, rel))
}

/// What `dir`'s listing holds, for a directory above the walk's root.
fn present_in(dir: &Path) -> Present {
    let mut present = Present::default();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        present.see(&entry.file_name());
    }
    present
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;

    fn level(dir: &Path, parent: Option<&Arc<Level>>, rel: &str, context: &Context) -> Option<Arc<Level>> {
        let mut present = Present::default();
        for entry in fs::read_dir(dir).unwrap() {
            present.see(&entry.unwrap().file_name());
        }
        Level::of_dir(parent, dir, Path::new(rel), present, context)
    }

    #[test]
    fn nearest_rule_wins_and_dot_ignore_comes_first() {
        let dir = tempfile::tempdir().unwrap();
        let context = Context::default();
        fs::write(dir.path().join(".ignore"), "*.tmp\n").unwrap();
        fs::create_dir(dir.path().join("sub")).unwrap();
        fs::write(dir.path().join("sub/.ignore"), "!keep.tmp\n").unwrap();
        let top = level(dir.path(), None, "", &context);
        let sub = level(&dir.path().join("sub"), top.as_ref(), "sub", &context).unwrap();
        assert!(sub.ignores(Path::new("sub/a.tmp"), false));
        assert!(!sub.ignores(Path::new("sub/keep.tmp"), false));
        assert!(top.unwrap().ignores(Path::new("keep.tmp"), false));
    }

    #[test]
    fn gitignore_applies_only_in_a_work_tree() {
        let dir = tempfile::tempdir().unwrap();
        let context = Context::default();
        fs::write(dir.path().join(".gitignore"), "*.log\n").unwrap();
        assert!(level(dir.path(), None, "", &context).is_none());
        git2::Repository::init(dir.path()).unwrap();
        let top = level(dir.path(), None, "", &context).unwrap();
        assert!(top.ignores(Path::new("a.log"), false));
        assert!(!top.tracks(Path::new("a.log"), &context));
    }

    #[cfg(unix)]
    #[test]
    fn an_unreadable_ignore_file_is_a_warning_and_no_rules() {
        let dir = tempfile::tempdir().unwrap();
        std::os::unix::fs::symlink("/dev/zero", dir.path().join(".ignore")).unwrap();
        let context = Context::default();
        assert!(level(dir.path(), None, "", &context).is_none());
        let warnings = context.into_warnings();
        assert_eq!(warnings.len(), 1);
        assert!(warnings[0].ends_with(".ignore: not read (a symbolic link, not a regular file); its ignore rules were not applied, so the files it lists were scanned"), "{warnings:?}");
    }
}
