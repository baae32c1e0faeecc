//! Remote repositories: a bare mirror cloned through the system's `git` into a directory of
//! keyhound's own, scanned as a local repository, then removed (unless kept); and what a
//! remote advertises, listed without cloning ([`advertised`]), to tell an unchanged one.
//!
//! The remote is the attacker, so git runs nothing it supplies (one builder, in `git`, sets up
//! every git command here, the clone and the ref listing alike):
//! - `clone --mirror` is bare: no checkout, so no filters, no `post-checkout` hook, no
//!   submodules; `--template=` copies no hooks from a template directory and
//!   `core.hooksPath=/dev/null` runs none of the user's on the new repository either;
//! - only the `https`, `ssh`, `git` and `file` transports are allowed (`protocol.allow=never`
//!   plus those four; `GIT_ALLOW_PROTOCOL`, which would override it, is removed from git's
//!   environment), so `ext::` and `fd::` helpers never run; [`RemoteUrl::classify`] refuses them
//!   earlier, and any argument starting with `-`;
//! - a remote sends objects and refs, never configuration: the clone's config is written by
//!   git. The user's own configuration (system and global) stays in force, so their credential
//!   helpers and `ssh` setup work; `GIT_TERMINAL_PROMPT=0` makes a missing credential an error
//!   instead of a prompt that would hang a batch run. git runs in `/`, so the configuration of
//!   a repository the current directory happens to be in (an unpacked archive's `.git/config`
//!   may set `core.sshCommand`) is never read;
//! - arguments go to git as argv, never through a shell, after `--`;
//! - `--clone-timeout` bounds the clone: on expiry git's whole process group (`git-remote-*`,
//!   `ssh`) is killed. git runs in a session of its own, without the terminal, so nothing it
//!   starts can prompt there either: ssh keys need an agent or no passphrase.
//!
//! Errors say in plain words what went wrong ("authentication required", "repository not
//! found", "timed out after 600 s"), from git's standard error (the only channel git has),
//! with credentials redacted and control characters escaped where they are shown.
//!
//! A temporary clone outlives no keyhound, even a killed one: the next clone removes it
//! (`temporary`).

use std::fs::File;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::error::{Error, Result};

mod advertised;
mod git;
mod temporary;
mod url;

pub use advertised::{advertised, Advertised};
pub use url::{redact, RemoteUrl};

/// How long a clone may take unless told otherwise (`--clone-timeout`).
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(600);

/// `git clone` and its options (see the module docs).
const CLONE: [&str; 5] = ["clone", "--mirror", "--no-hardlinks", "--template=", "--quiet"];

/// How to clone.
#[derive(Debug, Clone)]
pub struct CloneOptions {
    /// Clone into this directory (it must not exist yet); `None`: a new temporary directory.
    pub dir: Option<PathBuf>,
    /// Keep the clone after the scan.
    pub keep: bool,
    /// Kill the clone after this long.
    pub timeout: Duration,
}

impl Default for CloneOptions {
    fn default() -> Self {
        CloneOptions { dir: None, keep: false, timeout: DEFAULT_TIMEOUT }
    }
}

/// A bare mirror on disk, removed when dropped unless kept.
#[derive(Debug)]
pub struct ClonedRepo {
    /// The clone's git directory.
    path: PathBuf,
    /// What to remove on drop (`None`: kept). For a temporary directory, the directory
    /// holding the clone.
    remove: Option<PathBuf>,
    /// A temporary clone's lock, held until the clone is removed: it tells a later keyhound
    /// that this one is alive (see `temporary`).
    _lock: Option<File>,
    /// Warnings from making the temporary directory.
    warnings: Vec<String>,
}

impl ClonedRepo {
    /// The clone's git directory, to open as a repository.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// True when the clone stays on disk after the drop.
    pub fn is_kept(&self) -> bool {
        self.remove.is_none()
    }

    /// Warnings for the summary: temporary clones a killed keyhound left that could not be
    /// removed, or a directory of clones that is not private to the user.
    pub fn warnings(&self) -> &[String] {
        &self.warnings
    }
}

impl Drop for ClonedRepo {
    fn drop(&mut self) {
        if let Some(dir) = &self.remove {
            // Nothing to report to: the scan's outcome is already decided. A temporary clone
            // left behind is removed by the next keyhound that clones.
            drop(std::fs::remove_dir_all(dir));
        }
    }
}

/// Clones `url` as a bare mirror (see the module docs for what makes it safe) into
/// `options.dir` or a new temporary directory (see `temporary`). The clone is removed when
/// the returned value is dropped, unless `options.keep`; on failure nothing is left behind.
pub fn clone_mirror(url: &RemoteUrl, options: &CloneOptions) -> Result<ClonedRepo> {
    let mut cloned = match &options.dir {
        Some(dir) => {
            if dir.symlink_metadata().is_ok() {
                return Err(Error::Usage(format!("--clone-dir {}: already exists", dir.display())));
            }
            ClonedRepo { path: dir.clone(), remove: Some(dir.clone()), _lock: None, warnings: Vec::new() }
        }
        None => {
            let scratch = temporary::make(options.keep)?;
            let path = scratch.dir.join("repo.git");
            ClonedRepo { path, remove: Some(scratch.dir), _lock: scratch.lock, warnings: scratch.warnings }
        }
    };
    // From here on, a failed clone removes what it left.
    let dest = std::path::absolute(&cloned.path).map_err(|source| Error::Path { path: cloned.path.clone(), source })?;
    let operation = git::Operation { doing: "clone", args: &CLONE, after: Some(&dest), keep_stdout: None };
    git::run_git(url, &operation, options.timeout)?;
    if options.keep {
        cloned.remove = None;
    }
    Ok(cloned)
}

#[cfg(test)]
mod tests {
    use super::*;

    const LONG: Duration = Duration::from_secs(120);

    /// A repository with one commit on `main`, and its `file://` URL.
    fn repository() -> (tempfile::TempDir, git2::Repository, RemoteUrl) {
        let dir = tempfile::tempdir().unwrap();
        let repo = git2::Repository::init(dir.path()).unwrap();
        repo.set_head("refs/heads/main").unwrap();
        commit(&repo, "first");
        let url = RemoteUrl::classify(&format!("file://{}", dir.path().display())).unwrap().unwrap();
        (dir, repo, url)
    }

    fn commit(repo: &git2::Repository, message: &str) -> git2::Oid {
        let signature = git2::Signature::now("t", "t@example.com").unwrap();
        let tree = repo.find_tree(repo.index().unwrap().write_tree().unwrap()).unwrap();
        let parent = repo.head().ok().and_then(|head| head.peel_to_commit().ok());
        let parents: Vec<&git2::Commit> = parent.iter().collect();
        repo.commit(Some("HEAD"), &signature, &signature, message, &tree, &parents).unwrap()
    }

    #[test]
    fn the_digest_changes_with_a_new_commit_or_head_moving_only() {
        let (_dir, repo, url) = repository();
        let first = advertised(&url, LONG).unwrap();
        assert_eq!(advertised(&url, LONG).unwrap(), first, "the same remote, another digest");
        assert_eq!(first.refs(), 2, "HEAD and main");
        commit(&repo, "second");
        let second = advertised(&url, LONG).unwrap();
        assert_ne!(second, first, "a new commit left the digest as it was");
        let tip = repo.head().unwrap().peel_to_commit().unwrap();
        repo.branch("other", &tip, false).unwrap();
        let branched = advertised(&url, LONG).unwrap();
        assert_ne!(branched, second);
        repo.set_head("refs/heads/other").unwrap();
        assert_ne!(advertised(&url, LONG).unwrap(), branched, "HEAD moved, the digest did not");
    }

    #[test]
    fn a_missing_repository_is_a_plain_error_with_credentials_redacted() {
        let (dir, _repo, _) = repository();
        let missing = format!("file://keyhound-user:tok3n@localhost{}/none", dir.path().display());
        let url = RemoteUrl::classify(&missing).unwrap().unwrap();
        let error = advertised(&url, LONG).unwrap_err().to_string();
        let expected = format!(
            "could not list the refs of file://***@localhost{}/none: repository not found",
            dir.path().display()
        );
        assert_eq!(error, expected);
        assert!(!error.contains("tok3n") && !error.contains("keyhound-user"), "{error}");
    }

    #[test]
    fn a_remote_that_never_answers_times_out() {
        // The kernel completes the connection into the backlog; nothing ever reads or answers.
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("git://127.0.0.1:{}/r.git", listener.local_addr().unwrap().port());
        let error = advertised(&RemoteUrl::classify(&url).unwrap().unwrap(), Duration::from_secs(1)).unwrap_err();
        assert_eq!(error.to_string(), format!("could not list the refs of {url}: timed out after 1 s"));
    }

    #[test]
    fn a_temporary_clone_is_locked_while_it_lives_and_removed_with_it() {
        let (_dir, _repo, url) = repository();
        let clone = clone_mirror(&url, &CloneOptions::default()).unwrap();
        assert!(clone.path().join("HEAD").is_file(), "no mirror at {}", clone.path().display());
        let holder = clone.path().parent().unwrap().to_path_buf();
        let lock = File::open(holder.join("lock")).unwrap();
        assert!(matches!(lock.try_lock(), Err(std::fs::TryLockError::WouldBlock)), "the clone's lock is free");
        drop(clone);
        assert!(!holder.exists(), "the clone was left behind");
    }
}
