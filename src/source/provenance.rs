//! Where a unit of scanned bytes came from, as data: what reporters render and what history's
//! attribution decides by, so nothing ever parses a path string back into its origin.
//!
//! A [`Provenance`] is an [`Origin`] (a work-tree file, a staged blob, a blob in the commit that
//! introduced it, a blob no ref reaches, a commit or tag message, one no ref reaches, standard
//! input) and the archive members opened inside it, outermost first. Members are a list beside the origin rather than a variant:
//! any origin can be an archive (a file, a staged blob, a blob in history, even standard
//! input), so a `Member` variant would have to nest a whole provenance in each level, and
//! every question about the origin (is it a message? which commit?) would first have to dig
//! through the members. Beside it, the origin is one match away and the members are just
//! names chosen by whoever built the archive.
//!
//! The rendered path (`app/.env`, `dist/app.zip!config/.env`, `<commit message>`,
//! `<tag message: v1>`) is computed once per finding by [`Provenance::display`]; it is the
//! display, sort and filter key, never parsed.

use std::fmt;

use git2::Oid;
use serde::{Deserialize, Serialize};

/// The commit a finding from history is attributed to, as reports show it (and the
/// datastore keeps it).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CommitInfo {
    /// Full commit id (hex).
    pub id: String,
    /// Author name.
    pub author: String,
    /// Author email.
    pub email: String,
    /// Author date, RFC 3339.
    pub date: String,
    /// First line of the commit message.
    pub summary: String,
}

/// What a unit of bytes is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    /// A file read from disk, by its path as shown (as named on the command line, `./` off).
    File(String),
    /// A blob staged in the index at this path (`/`-separated, from the repository root).
    Staged(String),
    /// A blob `HEAD` holds at this path: what a commit replaces or deletes.
    Head(String),
    /// A blob at a path in the commit that introduced it.
    Blob {
        /// Its path in the commit's tree.
        path: String,
        /// The blob.
        blob: Oid,
        /// The commit that introduced it.
        commit: Oid,
    },
    /// A blob no ref reaches (`history --unreachable`): an amended-away commit's, a dropped
    /// stash's, one only the reflog or nothing at all holds.
    Unreachable {
        /// The blob.
        blob: Oid,
        /// Its path in an unreachable commit's tree, if one names it.
        path: Option<String>,
    },
    /// A commit's message.
    CommitMessage {
        /// The commit.
        commit: Oid,
    },
    /// An annotated tag's message.
    TagMessage {
        /// The tag's name (`v1`, without `refs/tags/`).
        name: String,
        /// The tag object.
        tag: Oid,
    },
    /// The message of a commit or an annotated tag no ref reaches (`history --unreachable`):
    /// an amended-away commit's, a deleted tag's.
    UnreachableMessage {
        /// The commit or the tag object.
        object: Oid,
        /// A tag's name, as the tag object records it; `None` for a commit.
        tag: Option<String>,
    },
    /// Standard input, by the name it is reported under (`--stdin-name`, default `-`).
    Stdin(String),
}

impl Origin {
    /// True for a commit or tag message: text about a repository, not a file in it.
    pub fn is_message(&self) -> bool {
        matches!(self, Origin::CommitMessage { .. } | Origin::TagMessage { .. } | Origin::UnreachableMessage { .. })
    }

    /// True for an object no ref reaches (`--unreachable`): a blob or a message.
    pub fn is_unreachable(&self) -> bool {
        matches!(self, Origin::Unreachable { .. } | Origin::UnreachableMessage { .. })
    }

    /// The commit or tag object that carries it, for what history holds.
    pub fn git_object(&self) -> Option<Oid> {
        match self {
            Origin::Blob { commit, .. } | Origin::CommitMessage { commit } => Some(*commit),
            Origin::TagMessage { tag, .. } | Origin::UnreachableMessage { object: tag, .. } => Some(*tag),
            Origin::File(_) | Origin::Staged(_) | Origin::Head(_) | Origin::Stdin(_) | Origin::Unreachable { .. } => {
                None
            }
        }
    }

    /// The blob it is, for a blob in history (reachable or not).
    pub fn blob(&self) -> Option<Oid> {
        match self {
            Origin::Blob { blob, .. } | Origin::Unreachable { blob, .. } => Some(*blob),
            Origin::File(_)
            | Origin::Staged(_)
            | Origin::Head(_)
            | Origin::Stdin(_)
            | Origin::CommitMessage { .. }
            | Origin::TagMessage { .. }
            | Origin::UnreachableMessage { .. } => None,
        }
    }

    /// The path or name of the file it is; `None` for a message, which is no file.
    pub fn file_path(&self) -> Option<&str> {
        match self {
            Origin::File(path) | Origin::Staged(path) | Origin::Head(path) | Origin::Blob { path, .. } => Some(path),
            Origin::Stdin(name) => Some(name),
            Origin::Unreachable { path, .. } => path.as_deref(),
            Origin::CommitMessage { .. } | Origin::TagMessage { .. } | Origin::UnreachableMessage { .. } => None,
        }
    }
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Origin::CommitMessage { .. } => f.write_str("<commit message>"),
            Origin::TagMessage { name, .. } => write!(f, "<tag message: {name}>"),
            Origin::UnreachableMessage { tag: None, .. } => f.write_str("<unreachable commit message>"),
            Origin::UnreachableMessage { tag: Some(name), .. } => write!(f, "<unreachable tag message: {name}>"),
            Origin::Unreachable { blob, path: None } => write!(f, "<unreachable blob {blob:.12}>"),
            other => f.write_str(other.file_path().unwrap_or_default()),
        }
    }
}

/// Where a finding's bytes came from: the origin, and the archive members opened inside it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Provenance {
    /// What was read.
    pub origin: Origin,
    /// Names of the archive members the bytes are in, outermost first (empty: the origin's
    /// own bytes). Chosen by whoever built the archive.
    pub members: Vec<String>,
}

impl Provenance {
    /// The origin's own bytes.
    pub fn new(origin: Origin) -> Self {
        Provenance { origin, members: Vec::new() }
    }

    /// `origin!member!member`: the path reports show and sort by.
    pub fn display(&self) -> String {
        let mut shown = self.origin.to_string();
        for member in &self.members {
            shown.push('!');
            shown.push_str(member);
        }
        shown
    }

    /// `member!member`, the part of [`Provenance::display`] inside the origin, if any.
    pub fn member_part(&self) -> Option<String> {
        (!self.members.is_empty()).then(|| self.members.join("!"))
    }

    /// The name of the innermost file: the last member's, else the origin's last path
    /// component; `None` for a message's own bytes.
    pub fn file_name(&self) -> Option<&str> {
        let path = match self.members.last() {
            Some(member) => member.as_str(),
            None => self.origin.file_path()?,
        };
        path.rsplit('/').next()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn provenance_renders_origin_and_members() {
        let mut provenance = Provenance::new(Origin::File("dist/app.zip".into()));
        assert_eq!(provenance.display(), "dist/app.zip");
        assert_eq!(provenance.member_part(), None);
        provenance.members = vec!["lib/inner.tgz".into(), "config/.env".into()];
        assert_eq!(provenance.display(), "dist/app.zip!lib/inner.tgz!config/.env");
        assert_eq!(provenance.member_part().as_deref(), Some("lib/inner.tgz!config/.env"));
        assert_eq!(provenance.file_name(), Some(".env"));
    }

    #[test]
    fn messages_render_as_pseudo_paths_and_are_no_files() {
        let tag = Origin::TagMessage { name: "v1/rc".into(), tag: Oid::zero() };
        assert_eq!(tag.to_string(), "<tag message: v1/rc>");
        assert!(tag.is_message() && tag.file_path().is_none());
        let commit = Origin::CommitMessage { commit: Oid::zero() };
        assert_eq!(commit.to_string(), "<commit message>");
        assert_eq!(Provenance::new(commit).file_name(), None);
        let blob = Origin::Blob { path: "a/b.gz".into(), blob: Oid::zero(), commit: Oid::zero() };
        assert!(!blob.is_message());
        assert_eq!(blob.git_object(), Some(Oid::zero()));
        assert_eq!(Provenance::new(blob).file_name(), Some("b.gz"));
        assert_eq!(Origin::Stdin("-".into()).to_string(), "-");
        let unreachable = Origin::Unreachable { blob: Oid::zero(), path: None };
        assert_eq!(unreachable.to_string(), "<unreachable blob 000000000000>");
        assert_eq!((unreachable.git_object(), unreachable.file_path()), (None, None));
        let named = Origin::Unreachable { blob: Oid::zero(), path: Some("app/.env".into()) };
        assert_eq!((named.to_string().as_str(), named.file_path()), ("app/.env", Some("app/.env")));
        let amended = Origin::UnreachableMessage { object: Oid::zero(), tag: None };
        assert_eq!(amended.to_string(), "<unreachable commit message>");
        assert!(amended.is_message() && amended.file_path().is_none());
        assert_eq!(amended.git_object(), Some(Oid::zero()), "attributed to the commit, which is still there");
        let deleted = Origin::UnreachableMessage { object: Oid::zero(), tag: Some("v1".into()) };
        assert_eq!(deleted.to_string(), "<unreachable tag message: v1>");
    }
}
