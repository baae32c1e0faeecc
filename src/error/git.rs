//! libgit2's errors in plain words.
//!
//! `git2::Error`'s `Display` appends libgit2's internals (`; class=Repository (6);
//! code=NotFound (-3)`), which tell a user nothing. [`Plain`] says instead what is wrong, chosen
//! by the error's code and class (never by its message text), and keeps libgit2's own message
//! only where it adds something: which object, file or revision it is about.

use std::fmt::{self, Display};
use std::path::Path;

use git2::{ErrorClass, ErrorCode};

/// A libgit2 error as a user reads it: what is wrong, and libgit2's message where it says more.
/// Not escaped: messages can name refs and paths from the repository, so show it through
/// [`crate::escape::Visible`].
pub(crate) struct Plain<'e>(pub &'e git2::Error);

impl Display for Plain<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let error = self.0;
        match meaning(error.code(), error.class()) {
            Some((what, Detail::Drop)) => f.write_str(what),
            Some((what, Detail::Keep)) => write!(f, "{what} ({})", error.message()),
            None => f.write_str(error.message()),
        }
    }
}

/// Whether libgit2's message adds to the plain words.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Detail {
    /// It names the object, file or revision concerned.
    Keep,
    /// It only repeats the path the context already names.
    Drop,
}

/// What an error of this code and class means; `None`: libgit2's message says it best.
fn meaning(code: ErrorCode, class: ErrorClass) -> Option<(&'static str, Detail)> {
    Some(match (code, class) {
        (ErrorCode::NotFound, ErrorClass::Repository) => ("no git repository there", Detail::Drop),
        (ErrorCode::NotFound, ErrorClass::Odb | ErrorClass::Object) => {
            ("missing from the repository's object database", Detail::Keep)
        }
        (ErrorCode::NotFound, ErrorClass::Reference) => ("no such branch, tag or commit", Detail::Keep),
        (ErrorCode::Owner, _) => (
            "the repository is owned by another user, and git refuses it unless its safe.directory \
             setting names it",
            Detail::Keep,
        ),
        (ErrorCode::Locked, _) => ("locked by another git process; try again when it is done", Detail::Keep),
        (ErrorCode::Ambiguous, _) => ("ambiguous: more than one object matches", Detail::Keep),
        (ErrorCode::InvalidSpec, _) => ("not a valid revision", Detail::Keep),
        (ErrorCode::UnbornBranch, _) => ("the branch has no commits yet", Detail::Drop),
        (ErrorCode::BareRepo, _) => ("a bare repository has no work tree", Detail::Drop),
        (_, ErrorClass::Zlib) => ("a damaged object: its data does not decompress", Detail::Keep),
        (_, ErrorClass::Index) => ("the index (staging area) is damaged", Detail::Keep),
        (_, ErrorClass::Odb | ErrorClass::Object) => ("the object database is damaged", Detail::Keep),
        _ => return None,
    })
}

/// What a user told "not a git repository" can do, by how the command was to find one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RepoHint {
    /// The command takes an optional REPO, and none was given.
    RunInsideOrPassRepo,
    /// REPO was given.
    PassRepository,
    /// The command has no REPO argument.
    RunInside,
}

impl RepoHint {
    /// The hint for a command taking an optional REPO, given `repo`.
    pub fn for_argument(repo: Option<&Path>) -> Self {
        if repo.is_some() {
            RepoHint::PassRepository
        } else {
            RepoHint::RunInsideOrPassRepo
        }
    }
}

impl Display for RepoHint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            RepoHint::RunInsideOrPassRepo => "run it inside a repository, or pass REPO",
            RepoHint::PassRepository => "REPO must be a repository or a directory inside one",
            RepoHint::RunInside => "run it inside a repository",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plain(code: ErrorCode, class: ErrorClass, message: &str) -> String {
        Plain(&git2::Error::new(code, class, message)).to_string()
    }

    #[test]
    fn no_class_or_code_numbers_reach_the_user() {
        let shown = plain(ErrorCode::NotFound, ErrorClass::Repository, "could not find repository at '.'");
        assert_eq!(shown, "no git repository there");
        let generic = plain(ErrorCode::GenericError, ErrorClass::Net, "connection reset");
        assert_eq!(generic, "connection reset");
        let unknown = plain(ErrorCode::Invalid, ErrorClass::Config, "bad config line 3");
        assert!(!unknown.contains("class=") && !unknown.contains("code="), "{unknown}");
    }

    #[test]
    fn the_message_is_kept_where_it_names_the_object() {
        let shown = plain(ErrorCode::NotFound, ErrorClass::Odb, "object not found - no match for id (1234abcd)");
        assert_eq!(
            shown,
            "missing from the repository's object database (object not found - no match for id (1234abcd))"
        );
    }

    #[test]
    fn hints_name_what_to_do() {
        assert_eq!(RepoHint::for_argument(None).to_string(), "run it inside a repository, or pass REPO");
        assert_eq!(RepoHint::for_argument(Some(Path::new("x"))), RepoHint::PassRepository);
    }
}
