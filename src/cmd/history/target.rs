//! The repository REPO names for `keyhound history` and each one `keyhound audit` lists: a
//! local one, opened, or a remote one, whose advertised refs are read before it is cloned (a
//! datastore may answer for an unchanged one without a clone); how to clone it, and what the
//! summary says of the clone.

use std::path::{Path, PathBuf};
use std::time::Duration;

use git2::Repository;

use super::repository_name;
use crate::cli::HistoryArgs;
use crate::error::{Error, Result};
use crate::source::history::{self, Selection};
use crate::source::remote::{self, CloneOptions, ClonedRepo, RemoteUrl};

/// The repository REPO names: one on this machine, opened, or a remote one, not cloned yet.
pub(crate) enum Target {
    /// Opened, with the directory its configuration is looked for in.
    Local { repo: Repository, anchor: PathBuf },
    /// To clone.
    Remote(RemoteUrl),
}

impl Target {
    /// What `repo` names (default: the current directory's repository); `clone_options`, the
    /// user gave options that apply to a URL only.
    pub(crate) fn of(repo: Option<&Path>, clone_options: bool) -> Result<Target> {
        match repo.map(remote_url).transpose()?.flatten() {
            Some(url) => Ok(Target::Remote(url)),
            None if clone_options => {
                Err(Error::Usage("--clone-dir and --keep-clone apply to a repository URL only".into()))
            }
            None => super::open(repo).map(|(repo, anchor)| Target::Local { repo, anchor }),
        }
    }

    /// The repository when it is on this machine.
    pub(crate) fn repo(&self) -> Option<&Repository> {
        match self {
            Target::Local { repo, .. } => Some(repo),
            Target::Remote(_) => None,
        }
    }

    /// The URL when it is remote.
    pub(crate) fn url(&self) -> Option<&RemoteUrl> {
        match self {
            Target::Local { .. } => None,
            Target::Remote(url) => Some(url),
        }
    }

    /// The name a datastore records it under: a canonical path, or the URL with credentials
    /// redacted (the same from run to run).
    pub(crate) fn name(&self) -> String {
        match self {
            Target::Local { anchor, .. } => repository_name(anchor),
            Target::Remote(url) => url.to_string(),
        }
    }

    /// The digest of what a scan of `selection` depends on (see [`history::tips`]); a
    /// remote's is made from the refs it advertises, without cloning.
    pub(crate) fn tips(&self, selection: &Selection, timeout: Duration) -> Result<Option<String>> {
        match self {
            Target::Local { repo, .. } => Ok(history::tips(repo, selection)),
            Target::Remote(url) => {
                remote::advertised(url, timeout).map(|advertised| history::remote_tips(advertised.digest(), selection))
            }
        }
    }

    /// The repository to read: this one, or a clone of the remote (removed when dropped).
    pub(crate) fn into_repository(
        self,
        options: &CloneOptions,
    ) -> Result<(Repository, Option<(RemoteUrl, ClonedRepo)>)> {
        match self {
            Target::Local { repo, .. } => Ok((repo, None)),
            Target::Remote(url) => {
                let clone = remote::clone_mirror(&url, options)?;
                let (repo, _) = super::open(Some(clone.path()))?;
                Ok((repo, Some((url, clone))))
            }
        }
    }
}

/// The remote `repo` names, if it is a URL rather than a path.
fn remote_url(repo: &Path) -> Result<Option<RemoteUrl>> {
    repo.to_str().map_or(Ok(None), RemoteUrl::classify)
}

pub(super) fn clone_options(args: &HistoryArgs) -> CloneOptions {
    CloneOptions {
        dir: args.clone_dir.clone(),
        keep: args.keep_clone,
        timeout: Duration::from_secs(args.clone_timeout),
    }
}

/// What the summary says of a remote scan: which URL, and where its clone stays if kept.
pub(super) fn clone_note(url: &RemoteUrl, clone: &ClonedRepo) -> String {
    if clone.is_kept() {
        format!("scanned {url} (a mirror clone, kept at {})", clone.path().display())
    } else {
        format!("scanned {url} (a mirror clone, removed after the scan)")
    }
}
