//! `.keyhoundignore`: findings a team has reviewed and decided not to report, by content
//! fingerprint. Looked for like `.keyhound.toml` (the target's repository root).
//!
//! # Format
//!
//! ```text
//! # comments and blank lines are ignored
//! openai-api-key:3f9a0c1d2e4b5a69                           # this secret, in any file
//! openai-api-key:77e0b1c2d3a4f5e6 docs/**  # revoked 2024-05, kept in the docs as an example
//! ```
//!
//! Each entry is a fingerprint as reports print it, optionally followed by a path glob
//! (relative to the ignore file's directory; the entry then applies only there), optionally
//! followed by ` # reason`. The path may hold spaces but not ` #`.
//!
//! Because a fingerprint is a hash of the secret itself, an entry never hides a *different*
//! secret that later appears on the same line or in the same file (gitleaks' ignore file,
//! keyed by file and line, does).

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use globset::{Glob, GlobMatcher};

use super::suppression_path;
use crate::echo;
use crate::error::{Error, Result};
use crate::finding::{Finding, Fingerprint};
use crate::fsio::{self, Named};
use crate::paths::directory_of;

/// The ignore file's name.
pub(crate) const FILE_NAME: &str = ".keyhoundignore";

/// One entry.
#[derive(Debug)]
struct IgnoreEntry {
    fingerprint: Fingerprint,
    path: Option<GlobMatcher>,
    line: usize,
}

/// A parsed ignore file.
#[derive(Debug)]
pub(crate) struct IgnoreFile {
    file: PathBuf,
    base: PathBuf,
    entries: Vec<IgnoreEntry>,
    /// Entry indices by fingerprint, in file order: a finding is compared with its own
    /// fingerprint's entries only, however long the file.
    by_fingerprint: HashMap<String, Vec<usize>>,
}

impl IgnoreFile {
    /// Reads (safely: see [`crate::fsio`]) and parses an ignore file.
    pub(crate) fn load(file: &Path, named: &Named) -> Result<Self> {
        let text = fsio::read_text(file, named).map_err(|source| Error::Path { path: file.to_path_buf(), source })?;
        Self::parse(&text, file)
    }

    /// Parses an ignore file's text; `file` anchors its paths and names it in errors.
    pub(crate) fn parse(text: &str, file: &Path) -> Result<Self> {
        let mut entries = Vec::new();
        for (index, raw) in text.lines().enumerate() {
            let invalid = |message: String| Error::ListFile { path: file.to_path_buf(), line: index + 1, message };
            let line = raw.trim();
            let content = if line.starts_with('#') { "" } else { line.split(" #").next().unwrap_or("").trim() };
            if content.is_empty() {
                continue;
            }
            let (fingerprint, path) = match content.split_once(char::is_whitespace) {
                Some((fingerprint, path)) => (fingerprint, Some(path.trim())),
                None => (content, None),
            };
            let fingerprint = Fingerprint::parse(fingerprint).map_err(invalid)?;
            let path = path
                .map(|glob| {
                    Glob::new(glob)
                        .map(|glob| glob.compile_matcher())
                        .map_err(|e| invalid(format!("invalid path glob {}: {}", echo::quoted(glob), e.kind())))
                })
                .transpose()?;
            entries.push(IgnoreEntry { fingerprint, path, line: index + 1 });
        }
        let mut by_fingerprint: HashMap<String, Vec<usize>> = HashMap::new();
        for (index, entry) in entries.iter().enumerate() {
            by_fingerprint.entry(entry.fingerprint.as_str().to_string()).or_default().push(index);
        }
        Ok(IgnoreFile { file: file.to_path_buf(), base: directory_of(file), entries, by_fingerprint })
    }

    /// How many entries the file has.
    pub(crate) fn len(&self) -> usize {
        self.entries.len()
    }

    /// The index of the first entry that hides this finding.
    pub(crate) fn matching(&self, finding: &Finding) -> Option<usize> {
        let mut path = None;
        self.by_fingerprint.get(&finding.fingerprint)?.iter().copied().find(|&index| {
            self.entries[index].path.as_ref().is_none_or(|glob| {
                glob.is_match(path.get_or_insert_with(|| suppression_path(finding, &self.base)).as_str())
            })
        })
    }

    /// Describes the entries whose `used` flag is false.
    pub(crate) fn describe_unused(&self, used: &[bool]) -> Vec<String> {
        self.entries
            .iter()
            .zip(used)
            .filter(|(_, used)| !**used)
            .map(|(entry, _)| {
                let fingerprint = entry.fingerprint.shown();
                format!("{}:{}: ignore entry matched nothing: {fingerprint}", self.file.display(), entry.line)
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::filter::tests::finding;

    fn parse(text: &str) -> IgnoreFile {
        IgnoreFile::parse(text, &std::env::current_dir().unwrap().join(FILE_NAME)).unwrap()
    }

    #[test]
    fn entries_with_paths_reasons_and_comments() {
        let one = finding("docs/a.md", "tok_one");
        let text = format!("# reviewed\n\n{}  docs/**  # example in docs\n", one.fingerprint);
        let ignore = parse(&text);
        assert_eq!(ignore.len(), 1);
        assert_eq!(ignore.matching(&one), Some(0));
        assert_eq!(ignore.matching(&finding("src/a.rs", "tok_one")), None, "the path restricts the entry");
        let anywhere = parse(&format!("{} # anywhere\n", one.fingerprint));
        assert_eq!(anywhere.matching(&finding("src/a.rs", "tok_one")), Some(0));
    }

    #[test]
    fn the_first_entry_of_a_findings_fingerprint_that_matches_is_the_one() {
        let one = finding("docs/a.md", "tok_one");
        let other = finding("docs/a.md", "tok_other");
        let text = format!("{0} src/**\n{1}\n{0} docs/**\n{0}\n", one.fingerprint, other.fingerprint);
        let ignore = parse(&text);
        assert_eq!(ignore.matching(&one), Some(2));
        assert_eq!(ignore.matching(&other), Some(1));
        assert_eq!(ignore.matching(&finding("lib/b.rs", "tok_one")), Some(3));
        assert_eq!(ignore.matching(&finding("docs/a.md", "tok_unlisted")), None);
    }

    #[test]
    fn an_entry_never_hides_a_different_secret_on_the_same_line() {
        let old = finding("app.env", "tok_old");
        let ignore = parse(&format!("{} app.env\n", old.fingerprint));
        let replaced = finding("app.env", "tok_new");
        assert_eq!(replaced.position, old.position);
        assert_eq!(ignore.matching(&replaced), None);
    }

    #[test]
    fn unused_entries_are_described_and_bad_lines_rejected() {
        let ignore = parse("r:0123456789abcdef\n");
        assert!(ignore.describe_unused(&[false])[0].contains(":1: ignore entry matched nothing: r:0123456789abcdef"));
        let file = Path::new(FILE_NAME);
        let err = IgnoreFile::parse("\nnot-a-fingerprint\n", file).unwrap_err().to_string();
        assert!(err.contains(":2:") && err.contains("not a fingerprint"), "{err}");
        let err = IgnoreFile::parse("r:0123456789abcdef a/[\n", file).unwrap_err().to_string();
        assert!(err.contains("invalid path glob"), "{err}");
    }
}
