//! Directories for temporary clones, and the removal of those a killed keyhound left.
//!
//! A temporary clone holds the remote's secrets and may be gigabytes large, and a process that
//! is killed (SIGKILL, the OOM killer) removes nothing. So every temporary clone goes in
//! `keyhound-clones-UID/clone-XXXXXX` in the temporary directory, and holds a `lock` file its
//! process keeps locked (`flock`) as long as the clone exists: the kernel releases the lock when
//! the process dies, however it dies. Before each new clone, every `clone-XXXXXX` directory
//! whose lock can be taken is removed: its owner is gone.
//!
//! What is removed is chosen with care, as a removal under a wrong path is unrecoverable:
//! - the parent must be a real directory (not a symlink) of this user that no one else may
//!   write in; otherwise it is not used at all (the clone goes in a plain temporary directory,
//!   with a warning) and nothing in it is removed;
//! - only directories (checked without following symlinks) named `clone-` and six letters or
//!   digits, holding a regular `lock` file (opened without following a symlink) whose lock is
//!   free; the removal itself never follows a symlink either;
//! - a lock file is locked before it gets its name (`lock.new`, renamed), so a directory being
//!   made is never taken for a dead one: a directory with no `lock` is left alone (at worst an
//!   empty directory, from a process killed in the instant between the two);
//! - a failure to remove one is a warning, never an error;
//! - a clone to keep (`--keep-clone`) goes in a plain temporary directory and `--clone-dir` in
//!   the user's: neither is ever under the parent, so neither is ever removed by a later run.

use std::ffi::OsStr;
use std::fs::{File, TryLockError};
use std::io;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// A clone directory's name: this prefix and [`RANDOM_LEN`] letters or digits.
const PREFIX: &str = "clone-";

/// The random part of a clone directory's name.
const RANDOM_LEN: usize = 6;

/// The lock file in each clone directory, and the name it has until it is locked.
const LOCK: &str = "lock";
const LOCK_NEW: &str = "lock.new";

/// A new directory for one temporary clone.
#[derive(Debug)]
pub(super) struct Scratch {
    /// The directory: the clone goes in it, and it is removed with the clone.
    pub dir: PathBuf,
    /// Its lock, held as long as the clone exists; `None` for a directory no later run removes.
    pub lock: Option<File>,
    /// What went wrong with the directory of clones: not private, a leftover not removable.
    pub warnings: Vec<String>,
}

/// A directory for a temporary clone under [`parent`] after a sweep of the leftovers there, or
/// (when `keep`, or the parent is not private) a plain temporary directory.
pub(super) fn make(keep: bool) -> Result<Scratch> {
    if keep {
        return plain(Vec::new());
    }
    make_in(&parent())
}

/// A directory for a temporary clone under `parent`, after a sweep of the leftovers there; a
/// plain temporary directory if `parent` is not private.
fn make_in(parent: &Path) -> Result<Scratch> {
    if let Err(why) = ensure_private(parent) {
        let warning = format!(
            "{}: {why}; this clone goes elsewhere, and clones a killed keyhound left there are not removed",
            parent.display()
        );
        return plain(vec![warning]);
    }
    let warnings = sweep(parent);
    let dir = tempfile::Builder::new()
        .prefix(PREFIX)
        .rand_bytes(RANDOM_LEN)
        .tempdir_in(parent)
        .map_err(|source| Error::Path { path: parent.to_path_buf(), source })?
        .keep();
    match lock_new(&dir) {
        Ok(lock) => Ok(Scratch { dir, lock: Some(lock), warnings }),
        Err(source) => {
            drop(std::fs::remove_dir_all(&dir));
            Err(Error::Path { path: dir, source })
        }
    }
}

/// The parent of temporary clones: one per user, so users sharing a temporary directory never
/// meet in it.
fn parent() -> PathBuf {
    #[cfg(unix)]
    let name = format!("keyhound-clones-{}", effective_uid());
    #[cfg(not(unix))]
    let name = "keyhound-clones".to_string();
    std::env::temp_dir().join(name)
}

/// A plain temporary directory, as keyhound used before the parent existed: removed on drop,
/// not after a kill.
fn plain(warnings: Vec<String>) -> Result<Scratch> {
    let dir = tempfile::Builder::new()
        .prefix("keyhound-clone-")
        .tempdir()
        .map_err(|source| Error::Path { path: std::env::temp_dir(), source })?
        .keep();
    Ok(Scratch { dir, lock: None, warnings })
}

/// Creates `parent` (mode 0700) unless it exists, and checks that it is a private directory.
fn ensure_private(parent: &Path) -> std::result::Result<(), String> {
    let mut builder = std::fs::DirBuilder::new();
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    match builder.create(parent) {
        Err(e) if e.kind() != io::ErrorKind::AlreadyExists => return Err(format!("cannot create it: {e}")),
        _ => {}
    }
    let metadata = parent.symlink_metadata().map_err(|e| e.to_string())?;
    if !is_private(&metadata) {
        return Err("not a directory of this user that only this user may write in".into());
    }
    Ok(())
}

/// A real directory (not a symlink), of this user, that neither group nor others may write in.
#[cfg(unix)]
fn is_private(metadata: &std::fs::Metadata) -> bool {
    use std::os::unix::fs::MetadataExt;
    metadata.file_type().is_dir() && metadata.uid() == effective_uid() && metadata.mode() & 0o022 == 0
}

/// Ownership is not checked off Unix: the parent is never taken for private there.
#[cfg(not(unix))]
fn is_private(_: &std::fs::Metadata) -> bool {
    false
}

#[cfg(unix)]
fn effective_uid() -> u32 {
    // SAFETY: geteuid(2) takes no arguments and always succeeds.
    unsafe { libc::geteuid() }
}

/// A new lock file in `dir`, locked before it is renamed to [`LOCK`]: a sweep never sees it
/// unlocked.
fn lock_new(dir: &Path) -> io::Result<File> {
    let file = File::create_new(dir.join(LOCK_NEW))?;
    file.try_lock().map_err(io::Error::from)?;
    std::fs::rename(dir.join(LOCK_NEW), dir.join(LOCK))?;
    Ok(file)
}

/// Removes every clone directory in `parent` that no live process holds; returns a warning for
/// each one that could not be removed.
fn sweep(parent: &Path) -> Vec<String> {
    let entries = match std::fs::read_dir(parent) {
        Ok(entries) => entries,
        Err(e) => return vec![format!("{}: cannot list leftover clones: {e}", parent.display())],
    };
    let clones = entries.filter_map(|entry| entry.ok().map(|entry| entry.path()));
    clones
        .filter(|path| path.file_name().is_some_and(is_clone_name))
        .filter_map(|path| match remove_if_abandoned(&path) {
            Err(e) if e.kind() != io::ErrorKind::NotFound => {
                Some(format!("could not remove the leftover temporary clone {}: {e}", path.display()))
            }
            _ => None,
        })
        .collect()
}

/// `clone-` and [`RANDOM_LEN`] ASCII letters or digits, as the clones are named.
fn is_clone_name(name: &OsStr) -> bool {
    name.to_str()
        .and_then(|name| name.strip_prefix(PREFIX))
        .is_some_and(|random| random.len() == RANDOM_LEN && random.bytes().all(|b| b.is_ascii_alphanumeric()))
}

/// Removes `dir` if it is a directory (not a symlink) holding a regular lock file that nobody
/// holds. Anything else is left as it is.
fn remove_if_abandoned(dir: &Path) -> io::Result<()> {
    if !dir.symlink_metadata()?.file_type().is_dir() {
        return Ok(());
    }
    let lock = crate::fsio::open_for_reading(&dir.join(LOCK), false)?;
    if !lock.metadata()?.is_file() {
        return Ok(());
    }
    match lock.try_lock() {
        // Removed while locked: a second sweep cannot take the lock, then finds no file.
        Ok(()) => std::fs::remove_dir_all(dir),
        Err(TryLockError::WouldBlock) => Ok(()),
        Err(TryLockError::Error(e)) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A clone directory as a killed keyhound leaves it: a lock file nobody holds, a clone.
    fn leftover(parent: &Path, name: &str) -> PathBuf {
        let dir = parent.join(name);
        std::fs::create_dir_all(dir.join("repo.git")).unwrap();
        std::fs::write(dir.join(LOCK), "").unwrap();
        std::fs::write(dir.join("repo.git/HEAD"), "ref: refs/heads/main\n").unwrap();
        dir
    }

    #[test]
    fn a_clone_whose_owner_is_gone_is_removed_by_the_next_one() {
        let parent = tempfile::tempdir().unwrap();
        let stale = leftover(parent.path(), "clone-aB3xY9");
        let scratch = make_in(parent.path()).unwrap();
        assert!(!stale.exists(), "the leftover clone is still there");
        assert_eq!(scratch.dir.parent(), Some(parent.path()));
        assert!(scratch.dir.file_name().is_some_and(is_clone_name), "{}", scratch.dir.display());
        assert!(scratch.dir.join(LOCK).is_file() && !scratch.dir.join(LOCK_NEW).exists());
        assert!(scratch.warnings.is_empty(), "{:?}", scratch.warnings);
    }

    #[test]
    fn a_clone_whose_lock_is_held_is_kept() {
        let parent = tempfile::tempdir().unwrap();
        let alive = leftover(parent.path(), "clone-000000");
        let held = File::open(alive.join(LOCK)).unwrap();
        held.lock().unwrap();
        let first = make_in(parent.path()).unwrap();
        let second = make_in(parent.path()).unwrap();
        assert!(alive.join("repo.git/HEAD").is_file(), "a live clone was removed");
        assert!(first.dir.join(LOCK).is_file(), "a live clone was removed");
        // Its lock released (its process gone), the next clone removes it.
        drop((held, first.lock));
        let third = make_in(parent.path()).unwrap();
        assert!(!alive.exists() && !first.dir.exists(), "leftovers are still there");
        assert!(second.dir.exists() && third.dir.exists());
    }

    #[cfg(unix)]
    #[test]
    fn symlinks_files_and_other_names_are_left_alone() {
        let parent = tempfile::tempdir().unwrap();
        let outside = tempfile::tempdir().unwrap();
        let target = leftover(outside.path(), "clone-target");
        std::os::unix::fs::symlink(&target, parent.path().join("clone-link01")).unwrap();
        std::os::unix::fs::symlink(outside.path(), parent.path().join("clone-link02")).unwrap();
        let others = ["clone-1234567", "clone-12345", "clone-12 456", "other", "Clone-123456"];
        for name in others {
            leftover(parent.path(), name);
        }
        std::fs::write(parent.path().join("clone-file01"), "").unwrap();
        // A lock that is a symlink to a free lock file is not taken either.
        let linked = parent.path().join("clone-linkd1");
        std::fs::create_dir(&linked).unwrap();
        std::os::unix::fs::symlink(target.join(LOCK), linked.join(LOCK)).unwrap();
        let scratch = make_in(parent.path()).unwrap();
        assert!(target.join("repo.git/HEAD").is_file(), "a symlink was followed");
        assert!(parent.path().join("clone-link01").symlink_metadata().is_ok());
        for name in others.iter().chain(&["clone-file01", "clone-linkd1"]) {
            assert!(parent.path().join(name).exists(), "{name} was removed");
        }
        assert_eq!(scratch.warnings.len(), 1, "the symlinked lock: {:?}", scratch.warnings);
    }

    #[cfg(unix)]
    #[test]
    fn a_parent_that_is_not_private_is_not_used_nor_swept() {
        use std::os::unix::fs::PermissionsExt;
        let shared = tempfile::tempdir().unwrap();
        let stale = leftover(shared.path(), "clone-abcdef");
        std::fs::set_permissions(shared.path(), std::fs::Permissions::from_mode(0o777)).unwrap();
        let private = tempfile::tempdir().unwrap();
        let link = private.path().join("link");
        std::os::unix::fs::symlink(private.path(), &link).unwrap();
        for parent in [shared.path(), &link] {
            let scratch = make_in(parent).unwrap();
            assert!(!scratch.dir.starts_with(parent), "{}", scratch.dir.display());
            assert!(scratch.lock.is_none());
            assert!(scratch.warnings[0].contains("not a directory of this user"), "{:?}", scratch.warnings);
            std::fs::remove_dir_all(&scratch.dir).unwrap();
        }
        assert!(stale.exists(), "a leftover in a shared directory was removed");
    }
}
