//! Typed errors of the library. The binary adds context and maps them to exit code 2.

use std::io;
use std::path::PathBuf;

/// Everything that can stop keyhound from doing what it was asked.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A path named on the command line does not exist or cannot be inspected.
    #[error("{path}: {source}")]
    Path {
        /// The path as the user gave it.
        path: PathBuf,
        /// What the operating system said.
        source: io::Error,
    },
    /// A rule file could not be read or parsed, or a rule in it is invalid.
    #[error("invalid rule file {origin}: {message}")]
    RuleFile {
        /// File name (or `<builtin>/name.toml` for embedded rules).
        origin: String,
        /// What is wrong, with line and column where known.
        message: String,
    },
    /// A configuration file could not be read or parsed.
    #[error("invalid config file {path}: {message}")]
    Config {
        /// The configuration file.
        path: PathBuf,
        /// What is wrong, with line and column where known.
        message: String,
    },
    /// A line of a baseline or ignore file is invalid.
    #[error("{}:{line}: {message}", path.display())]
    ListFile {
        /// The file.
        path: PathBuf,
        /// 1-based line number.
        line: usize,
        /// What is wrong.
        message: String,
    },
    /// The history command's target is not inside a git repository.
    #[error("{}: not a git repository (or any of its parent directories)", path.display())]
    NotARepository {
        /// The path as the user gave it (or `.`).
        path: PathBuf,
    },
    /// A git operation failed.
    #[error("{context}: {source}")]
    Git {
        /// What keyhound was doing.
        context: String,
        /// libgit2's error.
        source: git2::Error,
    },
    /// Writing a report or other output failed.
    #[error("cannot write {target}: {source}")]
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
    #[error("{0}")]
    Usage(String),
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
