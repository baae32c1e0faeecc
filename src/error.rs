//! Typed errors of the library. The binary adds context and maps them to exit code 2.
//!
//! Messages name paths, refs and rule files that may come from the repository scanned, so
//! every part of them is shown through [`Visible`]: no control character reaches a terminal
//! or a CI log raw.

use std::io;
use std::path::PathBuf;

use crate::escape::Visible;

mod git;

pub(crate) use git::{Plain, RepoHint};

/// Everything that can stop keyhound from doing what it was asked.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A path does not exist, cannot be read, or is refused (see [`crate::fsio`]).
    #[error("{}: {}", Visible(path.display()), Visible(source))]
    Path {
        /// The path as the user gave it.
        path: PathBuf,
        /// What the operating system said.
        source: io::Error,
    },
    /// A rule file could not be read or parsed, or a rule in it is invalid.
    #[error("invalid rule file {}: {}", Visible(origin), Visible(message))]
    RuleFile {
        /// File name (or `<builtin>/name.toml` for embedded rules).
        origin: String,
        /// What is wrong, with line and column where known.
        message: String,
    },
    /// A configuration file could not be read or parsed.
    #[error("invalid config file {}: {}", Visible(path.display()), Visible(message))]
    Config {
        /// The configuration file.
        path: PathBuf,
        /// What is wrong, with line and column where known.
        message: String,
    },
    /// A line of a baseline or ignore file is invalid.
    #[error("{}:{line}: {}", Visible(path.display()), Visible(message))]
    ListFile {
        /// The file.
        path: PathBuf,
        /// 1-based line number.
        line: usize,
        /// What is wrong.
        message: String,
    },
    /// A command's repository is not inside a git repository.
    #[error("not a git repository: {} ({hint})", Visible(path.display()))]
    NotARepository {
        /// The path as the user gave it (or `.`).
        path: PathBuf,
        /// What to do about it.
        hint: RepoHint,
    },
    /// A git operation failed.
    #[error("{}: {}", Visible(context), Visible(Plain(source)))]
    Git {
        /// What keyhound was doing.
        context: String,
        /// libgit2's error.
        source: git2::Error,
    },
    /// git could not clone a remote repository, or list its refs.
    #[error("could not {doing} {}: {}", Visible(url), Visible(reason))]
    Remote {
        /// What keyhound was doing: "clone", "list the refs of".
        doing: &'static str,
        /// The URL, credentials redacted.
        url: String,
        /// Why, in plain words.
        reason: String,
    },
    /// Writing a report or other output failed.
    #[error("cannot write {}: {}", Visible(target), Visible(source))]
    Output {
        /// Where the output was going (`<stdout>` or a file name).
        target: String,
        /// What the operating system said.
        source: io::Error,
    },
    /// The operating system would not start a thread (a process or memory limit).
    #[error("cannot start {what}: {reason}; lower --threads or raise the limit")]
    Threads {
        /// The threads that were asked for.
        what: String,
        /// What the operating system (or the thread pool) said.
        reason: String,
    },
    /// A command-line value that parses but makes no sense.
    #[error("{}", Visible(.0))]
    Usage(String),
    /// The datastore could not be opened, read or written.
    #[error("datastore {}: {}", Visible(path.display()), Visible(source))]
    Datastore {
        /// The datastore's file, as the user gave it.
        path: PathBuf,
        /// What SQLite said.
        source: rusqlite::Error,
    },
}

impl Error {
    /// Wraps a git error with a description of what was being attempted.
    pub fn git(context: impl Into<String>, source: git2::Error) -> Self {
        Error::Git { context: context.into(), source }
    }

    /// True when the error is a closed pipe on output (`keyhound scan | head -1`), which is
    /// not a failure worth reporting.
    pub fn is_broken_pipe(&self) -> bool {
        matches!(self, Error::Output { source, .. } if source.kind() == io::ErrorKind::BrokenPipe)
    }
}

/// The library's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_show_control_characters_in_names_escaped() {
        let path = PathBuf::from("evil\n::error file=x::forged\x1b]0;t\x07");
        let error = Error::Path { path, source: io::Error::from(io::ErrorKind::NotFound) };
        let shown = error.to_string();
        assert!(shown.starts_with("evil\\n::error file=x::forged\\e]0;t\\x07: "), "{shown}");
        let git = Error::git("tree of commit 1 at a\rb", git2::Error::from_str("bad\u{9b}name"));
        assert_eq!(git.to_string(), "tree of commit 1 at a\\rb: bad\\u{9b}name");
    }
}
