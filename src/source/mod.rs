//! Sources of blobs to scan: the working tree, git history, the staged index. A source knows
//! files and git, never rules or output: it hands bytes to a visitor and counts what it skipped.

pub mod git;
pub mod history;
pub mod staged;
pub mod worktree;

use std::fmt;
use std::path::PathBuf;

use crate::size::human_bytes;

/// Why a file was not scanned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SkipReason {
    /// Larger than the size limit.
    TooLarge {
        /// The file's size in bytes.
        size: u64,
    },
}

impl fmt::Display for SkipReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SkipReason::TooLarge { size } => write!(f, "too large ({})", human_bytes(*size)),
        }
    }
}

/// A file that was not scanned, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skipped {
    /// The file.
    pub path: PathBuf,
    /// Why.
    pub reason: SkipReason,
}

/// What a source read and what it passed over.
#[derive(Debug, Default, Clone)]
pub struct SourceStats {
    /// Blobs (files) handed to the scanner.
    pub blobs: u64,
    /// Bytes handed to the scanner.
    pub bytes: u64,
    /// Files not scanned, with the reason (too large, …).
    pub skipped: Vec<Skipped>,
    /// Entries that are not regular files (FIFOs, sockets, devices, symlinks, submodules).
    pub not_regular: u64,
    /// Files excluded by `.gitignore`/`.ignore` rules.
    pub ignored: u64,
    /// Errors that left something unscanned: unreadable files or directories.
    pub errors: Vec<String>,
    /// Warnings about the targets themselves (e.g. a target that is wholly ignored), and about
    /// what inside a blob could not be read (malformed archives, archive limits reached).
    pub warnings: Vec<String>,
    /// Other things scanned or passed over that the summary should mention (e.g. commit
    /// messages scanned, submodules not followed).
    pub notes: Vec<String>,
    /// What was scanned inside blobs.
    pub nested: NestedStats,
}

/// What was scanned inside blobs: archive members and decoded text.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct NestedStats {
    /// Archive members scanned.
    pub members: u64,
    /// Their decompressed bytes.
    pub member_bytes: u64,
    /// Decoded texts scanned: base64 runs and UTF-16 files.
    pub decoded: u64,
}

impl SourceStats {
    /// Adds another source's counts to these.
    pub fn merge(&mut self, other: SourceStats) {
        self.blobs += other.blobs;
        self.bytes += other.bytes;
        self.skipped.extend(other.skipped);
        self.not_regular += other.not_regular;
        self.ignored += other.ignored;
        self.errors.extend(other.errors);
        self.warnings.extend(other.warnings);
        self.notes.extend(other.notes);
        self.nested.members += other.nested.members;
        self.nested.member_bytes += other.nested.member_bytes;
        self.nested.decoded += other.nested.decoded;
    }

    /// True when nothing was counted.
    pub fn is_empty(&self) -> bool {
        self.blobs == 0
            && self.bytes == 0
            && self.skipped.is_empty()
            && self.not_regular == 0
            && self.ignored == 0
            && self.errors.is_empty()
            && self.warnings.is_empty()
            && self.notes.is_empty()
            && self.nested == NestedStats::default()
    }
}
