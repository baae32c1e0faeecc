//! Sources of blobs to scan: the working tree, git history, the staged index. A source knows
//! files and git, never rules or output: it hands bytes to a visitor and counts what it skipped.

pub mod git;
pub mod history;
pub mod staged;
pub mod worktree;

use std::fmt;
use std::path::PathBuf;

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

/// `1536` → `1.5 KiB`.
pub fn human_bytes(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes} B")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

/// Parses sizes such as `20MiB`, `512k`, `1G` or a plain byte count. The largest, `u64::MAX`
/// bytes, sets no limit; a size past it is an error, never a wrapped-around small one.
pub fn parse_size(text: &str) -> Result<u64, String> {
    let text = text.trim();
    let split = text.find(|c: char| !c.is_ascii_digit()).unwrap_or(text.len());
    let (digits, unit) = text.split_at(split);
    let too_large = || format!("size {text:?} is too large (at most {} bytes, which sets no limit)", u64::MAX);
    let number: u64 = digits.parse().map_err(|e: std::num::ParseIntError| match e.kind() {
        std::num::IntErrorKind::PosOverflow => too_large(),
        _ => format!("invalid size {text:?}"),
    })?;
    let multiplier: u64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "k" | "kb" | "kib" => 1 << 10,
        "m" | "mb" | "mib" => 1 << 20,
        "g" | "gb" | "gib" => 1 << 30,
        fraction if fraction.starts_with('.') => return Err(format!("invalid size {text:?}: use a whole number")),
        _ => return Err(format!("invalid size unit in {text:?} (use B, KiB, MiB or GiB)")),
    };
    number.checked_mul(multiplier).ok_or_else(too_large)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_parse_and_print() {
        assert_eq!(parse_size("20MiB"), Ok(20 << 20));
        assert_eq!(parse_size("512k"), Ok(512 << 10));
        assert_eq!(parse_size("100"), Ok(100));
        assert!(parse_size("ten").is_err());
        assert!(parse_size("5 parsecs").is_err());
        assert_eq!(human_bytes(1536), "1.5 KiB");
        assert_eq!(human_bytes(12), "12 B");
    }

    #[test]
    fn sizes_at_the_edge_of_u64_parse_or_fail_but_never_wrap() {
        assert_eq!(parse_size("18446744073709551615"), Ok(u64::MAX));
        assert_eq!(parse_size("18446744073709551614"), Ok(u64::MAX - 1));
        assert_eq!(parse_size("17179869183GiB"), Ok(17_179_869_183 << 30));
        for too_large in ["18446744073709551616", "99999999999999999999", "17179869184GiB"] {
            assert!(parse_size(too_large).unwrap_err().contains("too large"), "{too_large}");
        }
        assert!(parse_size("16EiB").unwrap_err().contains("unit"));
        assert!(parse_size("1.5GiB").unwrap_err().contains("whole number"));
        assert!(parse_size("").is_err() && parse_size("-1").is_err());
    }
}
