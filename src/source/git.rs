//! Opening git repositories, and reading blobs from their object databases.
//!
//! # Opening a repository
//!
//! libgit2 reads files as it opens a repository: the `.git` gitlink file, `commondir` and
//! `gitdir` (linked worktrees), the repository's `config` and `config.worktree`, and every
//! file their `[include] path` and `[includeIf "…"] path` name. A FIFO among them blocks the
//! open forever and a device exhausts memory, and in an unpacked archive or a cached checkout
//! the attacker wrote them all. So every repository is opened by [`open_repository`], which
//! first finds the repository as libgit2's discovery does ([`locate`]) and reads each of those
//! files through [`crate::fsio`]: a regular file of bounded size, or absent (an include path
//! is relative to its config file's directory; `~/` is the user's home). `includeIf` paths
//! are checked whatever their condition. Anything else is refused before libgit2 sees it.
//!
//! # Reading blobs
//!
//! [`read_blob`] checks the size cap from the object header first, so a huge blob is never
//! loaded. Shared by the history and staged sources.
//!
//! # Repositories of other owners
//!
//! [`allow_repositories_of_other_owners`] is the one libgit2 setting that lets keyhound read a
//! repository another user owns, as a container's mounted one is.

mod config;

use std::io;
use std::path::{Path, PathBuf};

use git2::{ErrorClass, ErrorCode, ObjectType, Odb, OdbObject, Oid, Repository, RepositoryOpenFlags, Tree, TreeEntry};

use crate::error::{Error, RepoHint};
use crate::fsio::{self, Named};

/// A repository found by [`locate`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    /// The work tree's root, or the repository itself when it is bare.
    pub root: PathBuf,
    /// The git directory (`.git`, or the directory a gitlink names, or the bare repository).
    pub git_dir: PathBuf,
}

/// Why [`open_repository`] did not open a repository.
#[derive(Debug)]
pub enum OpenError {
    /// A file libgit2 would read on opening is not safe to read (the error names it and why).
    Refused(Error),
    /// libgit2 could not open it (or no repository was found: `ErrorCode::NotFound`).
    Git(git2::Error),
}

impl OpenError {
    /// The error to report about opening the repository at `shown` (the path as the user gave
    /// it), with `hint` saying what to do when there is none.
    pub fn into_error(self, shown: &Path, hint: RepoHint) -> Error {
        match self {
            OpenError::Refused(error) => error,
            OpenError::Git(error) if (error.code(), error.class()) == (ErrorCode::NotFound, ErrorClass::Repository) => {
                Error::NotARepository { path: shown.to_path_buf(), hint }
            }
            OpenError::Git(error) => Error::git(format!("cannot open the repository at {}", shown.display()), error),
        }
    }
}

/// [`open_repository`] for a command: `start` must exist, and errors say in plain words what is
/// wrong and, by `hint`, what to do.
pub fn open_for_command(start: Option<&Path>, hint: RepoHint) -> Result<Repository, Error> {
    if let Some(path) = start {
        std::fs::metadata(path).map_err(|source| Error::Path { path: path.to_path_buf(), source })?;
    }
    open_repository(start).map_err(|e| e.into_error(start.unwrap_or(Path::new(".")), hint))
}

/// Opens the repository at or above `start`, or, without one, the repository git's
/// environment names (`GIT_DIR`, `GIT_INDEX_FILE`, … as set for hooks) or the one at or above
/// the current directory, after checking every file libgit2 reads on opening it (see the
/// module docs). The only way keyhound opens a repository.
pub fn open_repository(start: Option<&Path>) -> Result<Repository, OpenError> {
    let Some(start) = start else {
        let git_dir = match std::env::var_os("GIT_DIR") {
            Some(git_dir) => PathBuf::from(git_dir),
            None => located(Path::new("."))?.git_dir,
        };
        check_files_read_on_open(&git_dir, std::env::var_os("GIT_COMMON_DIR").map(PathBuf::from))?;
        return Repository::open_from_env().map_err(OpenError::Git);
    };
    let location = located(start)?;
    check_files_read_on_open(&location.git_dir, None)?;
    Repository::open_ext(&location.root, RepositoryOpenFlags::NO_SEARCH, std::iter::empty::<&std::ffi::OsStr>())
        .map_err(OpenError::Git)
}

/// Another handle on the repository at `git_dir`, which [`open_repository`] has opened (and
/// so checked) in this process: for threads that each need their own, without repeating the
/// checks and the search per thread.
pub fn reopen(git_dir: &Path) -> Result<Repository, OpenError> {
    Repository::open_ext(git_dir, RepositoryOpenFlags::NO_SEARCH, std::iter::empty::<&std::ffi::OsStr>())
        .map_err(OpenError::Git)
}

/// The repository at or above `start`, as [`locate`] finds it, or libgit2's "not found".
fn located(start: &Path) -> Result<Location, OpenError> {
    match locate(start) {
        Ok(Some(location)) => Ok(location),
        Ok(None) => Err(OpenError::Git(git2::Error::new(
            ErrorCode::NotFound,
            ErrorClass::Repository,
            format!("could not find repository at '{}'", start.display()),
        ))),
        Err(error) => Err(OpenError::Refused(error)),
    }
}

/// Finds the repository at or above `start` the way libgit2's discovery does: in each
/// directory from `start` up, `.git` (a git directory, or a gitlink file naming one), then the
/// directory itself as a bare repository. Reads gitlink and `commondir` files safely.
pub fn locate(start: &Path) -> Result<Option<Location>, Error> {
    let start = std::path::absolute(start).map_err(|source| Error::Path { path: start.to_path_buf(), source })?;
    for dir in start.ancestors() {
        if let Some(location) = location_at(dir)? {
            return Ok(Some(location));
        }
    }
    Ok(None)
}

/// Finding the repository that holds a directory is git's business: this constructor of an
/// [`fsio`] type lives here, so that [`fsio`], which git reads through, does not import git.
impl Named {
    /// Named by the repository whose root holds `dir`: the work tree (or bare repository)
    /// [`locate`] finds from `dir`, else `dir` itself.
    pub(crate) fn by_repository_at(dir: &Path) -> Self {
        let location = locate(dir).ok().flatten();
        Named::ByRepository { root: location.map_or_else(|| dir.to_path_buf(), |location| location.root) }
    }
}

fn location_at(dir: &Path) -> Result<Option<Location>, Error> {
    let dot_git = dir.join(".git");
    let git_dir = match std::fs::metadata(&dot_git) {
        Ok(metadata) if metadata.is_dir() => Some(dot_git),
        Ok(metadata) if metadata.is_file() => Some(gitlink_target(&dot_git)?),
        _ => None,
    };
    if let Some(git_dir) = git_dir {
        if is_git_dir(&git_dir)? {
            return Ok(Some(Location { root: dir.to_path_buf(), git_dir }));
        }
    }
    Ok(is_git_dir(dir)?.then(|| Location { root: dir.to_path_buf(), git_dir: dir.to_path_buf() }))
}

/// The git directory a `.git` file (`gitdir: PATH`) names, relative to the file's directory.
fn gitlink_target(dot_git: &Path) -> Result<PathBuf, Error> {
    let text = small_file(dot_git, None)?.unwrap_or_default();
    let target = String::from_utf8_lossy(&text);
    let target = target.trim().strip_prefix("gitdir:").unwrap_or_default().trim();
    Ok(dot_git.parent().unwrap_or(Path::new(".")).join(target))
}

/// Whether `dir` is a git directory: `HEAD` a file, `objects` and `refs` directories (in the
/// common directory of a linked worktree).
fn is_git_dir(dir: &Path) -> Result<bool, Error> {
    if !dir.join("HEAD").is_file() {
        return Ok(false);
    }
    let common = common_dir(dir)?;
    Ok(common.join("objects").is_dir() && common.join("refs").is_dir())
}

/// The directory holding what the worktrees of a repository share (`commondir`).
fn common_dir(git_dir: &Path) -> Result<PathBuf, Error> {
    Ok(match small_file(&git_dir.join("commondir"), None)? {
        Some(text) => git_dir.join(String::from_utf8_lossy(&text).trim()),
        None => git_dir.to_path_buf(),
    })
}

/// Reads every file libgit2 reads on opening `git_dir` (see the module docs); `common` is
/// the common directory when the environment names one (`GIT_COMMON_DIR`).
fn check_files_read_on_open(git_dir: &Path, common: Option<PathBuf>) -> Result<(), OpenError> {
    let refused = |error: Error| OpenError::Refused(error);
    let common = match common {
        Some(common) => common,
        None => common_dir(git_dir).map_err(refused)?,
    };
    small_file(&git_dir.join("gitdir"), None).map_err(refused)?;
    for file in [common.join("config"), git_dir.join("config.worktree")] {
        config::check(&file).map_err(refused)?;
    }
    check_state_files(git_dir, &common).map_err(refused)
}

/// Checks that the files libgit2 opens as it resolves `HEAD`, lists refs, reads the index and
/// finds packs are regular files (or absent): a FIFO among them blocks libgit2's read forever.
/// Their size is libgit2's to bound (an index may be large), and loose objects, one file per
/// object, are left to the reads that meet them.
fn check_state_files(git_dir: &Path, common: &Path) -> Result<(), Error> {
    let files = [
        git_dir.join("HEAD"),
        git_dir.join("index"),
        common.join("packed-refs"),
        common.join("shallow"),
        common.join("info").join("grafts"),
        common.join("objects").join("info").join("alternates"),
    ];
    for file in &files {
        regular_or_absent(file, false)?;
    }
    for dir in [common.join("refs"), common.join("objects").join("pack")] {
        regular_files_below(&dir)?;
    }
    Ok(())
}

/// Checks that every loose object and pack of `repo` is a regular file (see
/// [`check_state_files`]): for whole-history reads, which meet every object. Not done on
/// every open: listing thousands of loose objects would cost the pre-commit hook more than
/// its whole scan.
pub fn check_object_files(repo: &Repository) -> Result<(), Error> {
    regular_files_below(&repo.commondir().join("objects"))
}

/// `path`, symlinks followed, is a regular file (or, with `directory_too`, a directory), or
/// there is nothing there.
fn regular_or_absent(path: &Path, directory_too: bool) -> Result<(), Error> {
    match std::fs::metadata(path) {
        Ok(metadata) if metadata.is_file() || (directory_too && metadata.is_dir()) => Ok(()),
        Ok(metadata) => Err(not_regular(path, metadata.file_type())),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(not_opened(path, None, e)),
    }
}

/// Every entry below `root` is a directory or a regular file (a symlink: what it leads to);
/// walked with an explicit stack, never into a symlinked directory (no cycles).
fn regular_files_below(root: &Path) -> Result<(), Error> {
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let entries = match std::fs::read_dir(&dir) {
            Ok(entries) => entries,
            Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
            Err(e) => return Err(not_opened(&dir, None, e)),
        };
        for entry in entries {
            let entry = entry.map_err(|e| not_opened(&dir, None, e))?;
            let file_type = entry.file_type().map_err(|e| not_opened(&entry.path(), None, e))?;
            if file_type.is_dir() {
                stack.push(entry.path());
            } else if !file_type.is_file() {
                // A symlink (or special file): what it leads to.
                regular_or_absent(&entry.path(), true)?;
            }
        }
    }
    Ok(())
}

fn not_regular(path: &Path, file_type: std::fs::FileType) -> Error {
    let why = format!("is a {}, not a regular file", fsio::kind_name(file_type));
    not_opened(path, None, io::Error::new(io::ErrorKind::InvalidInput, why))
}

/// A file libgit2 reads on opening, through [`fsio`]; `None` when it does not exist.
/// `included_by` names the config file whose include names it.
fn small_file(path: &Path, included_by: Option<&Path>) -> Result<Option<Vec<u8>>, Error> {
    match fsio::read(path, &Named::ByUser) {
        Ok(bytes) => Ok(Some(bytes)),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(not_opened(path, included_by, e)),
    }
}

/// Why the repository was not opened: `path`, which libgit2 would read, is refused.
fn not_opened(path: &Path, included_by: Option<&Path>, reason: io::Error) -> Error {
    let by = included_by.map(|config| format!(" (an include in {})", config.display())).unwrap_or_default();
    let message = format!("{reason}{by}; libgit2 would read it, so the repository was not opened");
    Error::Path { path: path.to_path_buf(), source: io::Error::new(reason.kind(), message) }
}

/// Lets libgit2 open repositories owned by another user, as a repository mounted into a
/// container is. libgit2 refuses them by default ("not owned by current user").
///
/// That check (git's `safe.directory`) exists because git runs programs a repository's
/// configuration names — hooks, `core.fsmonitor`, filters, pagers — so another user who owns
/// the repository could make you run theirs. keyhound's use of libgit2 runs none: it reads
/// objects, the index and ignore rules, and executes nothing, so for reading the check
/// protects nothing and only stops the scan.
///
/// # Safety
///
/// The setting is a libgit2 global written without synchronisation: call this before any
/// other thread exists and before any other use of libgit2.
pub unsafe fn allow_repositories_of_other_owners() -> Result<(), git2::Error> {
    // SAFETY: the caller's contract is this function's.
    unsafe { git2::opts::set_verify_owner_validation(false) }
}

/// Makes libgit2 read no git configuration but a repository's own: not the system's, nor the
/// user's (`~/.gitconfig`, `$XDG_CONFIG_HOME/git/config`).
///
/// For commands that read only refs and objects (`history`, `audit`): nothing in those files
/// changes what they read, and libgit2 checks each of them for changes at every configuration
/// lookup, a score of `stat` calls for every repository opened, which is most of what an
/// unchanged repository costs an audit. A scan then also does not depend on who runs it.
///
/// # Safety
///
/// As [`allow_repositories_of_other_owners`]: call this before any other thread exists and
/// before any other use of libgit2.
pub unsafe fn read_only_repository_configuration() -> Result<(), git2::Error> {
    use git2::ConfigLevel;
    for level in [ConfigLevel::ProgramData, ConfigLevel::System, ConfigLevel::XDG, ConfigLevel::Global] {
        // SAFETY: the caller's contract is this function's.
        unsafe { git2::opts::set_search_path(level, "") }?;
    }
    Ok(())
}

/// The entry at `path` (`/`-separated) in `tree`, looked up one name at a time: libgit2's own
/// lookup recurses once per directory level, and a hostile tree can be nested deeper than the
/// stack allows.
pub fn entry_at(repo: &Repository, tree: &Tree<'_>, path: &[u8]) -> Option<TreeEntry<'static>> {
    let mut names = path.split(|&byte| byte == b'/');
    let last = names.next_back()?;
    let mut current = tree.clone();
    for name in names {
        let id = current.get_name_bytes(name)?.id();
        current = repo.find_tree(id).ok()?;
    }
    current.get_name_bytes(last).map(|entry| entry.to_owned())
}

/// A blob read for scanning, or why it was not.
pub enum BlobRead<'o> {
    /// Its contents.
    Read(OdbObject<'o>),
    /// Larger than the limit: not read.
    TooLarge(u64),
}

/// Reads blob `id` unless its header says it is larger than `limit`.
pub fn read_blob<'o>(odb: &'o Odb<'_>, id: Oid, limit: u64) -> Result<BlobRead<'o>, git2::Error> {
    let (size, kind) = odb.read_header(id)?;
    if kind != ObjectType::Blob {
        return Err(git2::Error::from_str(&format!("is a {kind}, not a blob")));
    }
    if size as u64 > limit {
        return Ok(BlobRead::TooLarge(size as u64));
    }
    odb.read(id).map(BlobRead::Read)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locate_finds_work_trees_from_below_and_bare_repositories() {
        let dir = tempfile::tempdir().unwrap();
        let work = dir.path().join("work");
        Repository::init(&work).unwrap();
        std::fs::create_dir_all(work.join("src/deep")).unwrap();
        let found = locate(&work.join("src/deep")).unwrap().unwrap();
        assert_eq!((found.root, found.git_dir), (work.clone(), work.join(".git")));
        let bare = dir.path().join("bare.git");
        Repository::init_bare(&bare).unwrap();
        assert_eq!(locate(&bare).unwrap().unwrap().git_dir, bare);
        assert_eq!(locate(dir.path()).unwrap(), None);
    }

    #[test]
    fn a_path_a_repository_names_is_held_to_its_work_tree_else_to_its_directory() {
        let dir = tempfile::tempdir().unwrap();
        let work = dir.path().join("work");
        Repository::init(&work).unwrap();
        std::fs::create_dir_all(work.join("config")).unwrap();
        assert_eq!(Named::by_repository_at(&work.join("config")), Named::ByRepository { root: work });
        let outside = dir.path().join("loose");
        std::fs::create_dir_all(&outside).unwrap();
        assert_eq!(Named::by_repository_at(&outside), Named::ByRepository { root: outside.clone() });
    }

    #[test]
    fn a_repository_whose_config_is_a_fifo_is_not_opened() {
        let dir = tempfile::tempdir().unwrap();
        Repository::init(dir.path()).unwrap();
        assert!(open_repository(Some(dir.path())).is_ok());
        let config = dir.path().join(".git/config");
        std::fs::remove_file(&config).unwrap();
        assert!(std::process::Command::new("mkfifo").arg(&config).status().unwrap().success());
        match open_repository(Some(dir.path())) {
            Err(OpenError::Refused(err)) => assert!(err.to_string().contains("is a FIFO"), "{err}"),
            Err(OpenError::Git(err)) => panic!("libgit2 tried it: {err}"),
            Ok(_) => panic!("opened a repository whose config is a FIFO"),
        }
    }
}
