//! A remote REPO of `keyhound history`: the URL it names, how to clone it, and what the
//! summary says of the clone.

use std::path::Path;
use std::time::Duration;

use crate::cli::HistoryArgs;
use crate::error::Result;
use crate::source::remote::{CloneOptions, ClonedRepo, RemoteUrl};

/// The remote `repo` names, if it is a URL rather than a path.
pub(super) fn remote_url(repo: &Path) -> Result<Option<RemoteUrl>> {
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
