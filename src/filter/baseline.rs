//! Baselines: the findings a repository already has, recorded by `keyhound baseline create`,
//! so that a scan with `--baseline FILE` reports only new ones.
//!
//! # File format (a wire format: stable across versions)
//!
//! ```text
//! # keyhound baseline v1
//! # …more comment lines…
//! openai-api-key:3f9a0c1d2e4b5a69 app/settings.py
//! openai-api-key:77e0b1c2d3a4f5e6 deploy/.env
//! ```
//!
//! The first line is the header `# keyhound baseline v1`. Other lines starting with `#` and
//! blank lines are ignored. Each entry is `FINGERPRINT PATH`: the finding's content
//! fingerprint (`rule-id:` and 16 hex digits of a salted SHA-256 of rule id and secret, so
//! the file never holds a secret or an unsalted hash of one), one space, and the path
//! relative to the baseline file's directory with `/` separators (history findings: the path
//! in the repository). Entries are sorted and unique, one a line, so the file diffs and
//! merges cleanly.
//!
//! A path made only of ASCII letters, digits and `._-/+,@=:%~` is written as is. Any other
//! path is written in double quotes, C-style, so that no file name can become code when the
//! file is shown, edited or (by mistake or malice) run by a shell: `\\`, `\"`, `\$`,
//! `` \` `` and `\n` for those characters, `\xNN` for every other byte outside printable
//! ASCII. A file named `$(touch x)` is thus written `"\$(touch x)"`, inert in a shell, and read back
//! exactly. (Versions before quoting wrote every path unquoted, with `\\`, `\n` and `\r`
//! escapes; such files still read the same.)
//!
//! # Matching
//!
//! Lines and columns are not recorded, so moving a secret within its file, reformatting, and
//! editing other lines keep it baselined. A finding is baselined when an entry has its
//! fingerprint and path. A **rename** keeps it baselined too: a finding whose fingerprint has
//! an entry whose path no finding has any more is taken to be that entry, moved. A **copy**
//! does not: when the recorded path still holds the secret, the same secret in another file
//! is reported as new.
//!
//! A finding in **history** (a blob in a commit, a commit or tag message) is baselined by its
//! fingerprint alone: history cannot be changed, so the decision recorded is about the
//! secret (revoked, or accepted), wherever and whenever history holds it. A baseline made by
//! `baseline create --history` thus hides every location of each recorded secret, and one
//! made from the working tree hides the history of the secrets it records.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::path::{Path, PathBuf};

use super::suppression_path;
use crate::error::{Error, Result};
use crate::finding::{Finding, Fingerprint};
use crate::fsio::{self, Named};
use crate::paths::directory_of;

/// The first line of every baseline file.
pub(crate) const HEADER: &str = "# keyhound baseline v1";

/// The file `baseline create` writes when `--output` is not given.
pub(crate) const DEFAULT_FILE_NAME: &str = ".keyhound-baseline";

/// One recorded finding.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) struct Entry {
    /// The finding's content fingerprint.
    pub fingerprint: Fingerprint,
    /// Its path, relative to the baseline's directory.
    pub path: String,
}

/// A loaded (or freshly created) baseline.
#[derive(Debug, Clone)]
pub(crate) struct Baseline {
    /// The directory recorded paths are relative to.
    base: PathBuf,
    entries: BTreeSet<Entry>,
}

/// What [`Baseline::filter`] kept and used.
#[derive(Debug, Default)]
pub(crate) struct Matched {
    /// Findings not in the baseline.
    pub new: Vec<Finding>,
    /// How many findings the baseline suppressed.
    pub suppressed: usize,
    /// Entries that matched no finding, described for the summary.
    pub unused: Vec<String>,
}

impl Baseline {
    /// The baseline of `findings`, for a file to be written at `file`.
    pub(crate) fn of(file: &Path, findings: &[Finding]) -> Self {
        let base = directory_of(file);
        let entries = findings
            .iter()
            .map(|finding| Entry { fingerprint: Fingerprint::of(finding), path: suppression_path(finding, &base) })
            .collect();
        Baseline { base, entries }
    }

    /// Reads a baseline file (safely: see [`crate::fsio`]).
    pub(crate) fn load(file: &Path, named: &Named) -> Result<Self> {
        let text = fsio::read_text(file, named).map_err(|source| Error::Path { path: file.to_path_buf(), source })?;
        Self::parse(&text, file)
    }

    /// Parses a baseline file's text; `file` anchors its paths and names it in errors.
    pub(crate) fn parse(text: &str, file: &Path) -> Result<Self> {
        let invalid = |line: usize, message: String| Error::ListFile { path: file.to_path_buf(), line, message };
        if text.lines().next().map(str::trim_end) != Some(HEADER) {
            return Err(invalid(1, format!("not a keyhound baseline: the first line must be {HEADER:?}")));
        }
        let mut entries = BTreeSet::new();
        for (index, line) in text.lines().enumerate() {
            let line = line.trim_end_matches('\r');
            if line.trim().is_empty() || line.starts_with('#') {
                continue;
            }
            let (fingerprint, path) =
                line.split_once(' ').ok_or_else(|| invalid(index + 1, "expected `FINGERPRINT PATH`".to_string()))?;
            let fingerprint = Fingerprint::parse(fingerprint).map_err(|message| invalid(index + 1, message))?;
            let path = unescape(path).map_err(|message| invalid(index + 1, message))?;
            entries.insert(Entry { fingerprint, path });
        }
        Ok(Baseline { base: directory_of(file), entries })
    }

    /// The file's text: header, explanation, sorted entries.
    pub(crate) fn render(&self) -> String {
        let mut text = format!(
            "{HEADER}\n\
             # Findings that scans with `--baseline` do not report. Written by `keyhound baseline create`;\n\
             # regenerate it rather than editing it. Each line: FINGERPRINT PATH. The fingerprint is the\n\
             # rule id and a salted hash of the secret (never the secret); the path is relative to this file.\n"
        );
        for entry in &self.entries {
            text.push_str(&format!("{} {}\n", entry.fingerprint.as_str(), escape(&entry.path)));
        }
        text
    }

    /// The entries, sorted.
    pub(crate) fn entries(&self) -> impl Iterator<Item = &Entry> {
        self.entries.iter()
    }

    /// Splits findings into new ones and baselined ones (see the module docs for renames).
    pub(crate) fn filter(&self, findings: Vec<Finding>) -> Matched {
        let keys: Vec<Entry> = findings
            .iter()
            .map(|finding| Entry { fingerprint: Fingerprint::of(finding), path: suppression_path(finding, &self.base) })
            .collect();
        let exact: BTreeSet<&Entry> = keys.iter().filter(|key| self.entries.contains(*key)).collect();
        // An entry no finding has exactly stands for a rename: the first other path its
        // fingerprint shows up at takes it over.
        let mut renamed: HashMap<&Entry, &str> = HashMap::new();
        let mut in_history: HashSet<&Fingerprint> = HashSet::new();
        let mut matched = Matched::default();
        for (key, finding) in keys.iter().zip(findings) {
            let secret_in_history = finding.provenance.origin.git_object().is_some() && self.records(&key.fingerprint);
            if secret_in_history {
                in_history.insert(&key.fingerprint);
            }
            if secret_in_history || exact.contains(key) || self.take_over(key, &exact, &mut renamed) {
                matched.suppressed += 1;
            } else {
                matched.new.push(finding);
            }
        }
        matched.unused = self
            .entries
            .iter()
            .filter(|entry| !exact.contains(entry) && !renamed.contains_key(entry))
            .filter(|entry| !in_history.contains(&entry.fingerprint))
            .map(|entry| {
                format!("baseline entry no longer found: {} {}", entry.fingerprint.shown(), escape(&entry.path))
            })
            .collect();
        matched
    }

    /// Whether an entry has `fingerprint`, whatever its path.
    fn records(&self, fingerprint: &Fingerprint) -> bool {
        let first = Entry { fingerprint: fingerprint.clone(), path: String::new() };
        self.entries.range(first..).next().is_some_and(|entry| entry.fingerprint == *fingerprint)
    }

    /// Whether an entry with `key`'s fingerprint but another path, unmatched by any finding,
    /// is (or now becomes) the renamed form of `key`.
    fn take_over<'a>(
        &'a self,
        key: &'a Entry,
        exact: &BTreeSet<&Entry>,
        renamed: &mut HashMap<&'a Entry, &'a str>,
    ) -> bool {
        // Entries sort by fingerprint first, so those with this fingerprint are one range.
        let first = Entry { fingerprint: key.fingerprint.clone(), path: String::new() };
        self.entries
            .range(first..)
            .take_while(|entry| entry.fingerprint == key.fingerprint)
            .filter(|entry| entry.path != key.path && !exact.contains(entry))
            .any(|entry| *renamed.entry(entry).or_insert(key.path.as_str()) == key.path)
    }
}

/// Whether a path is written as is: only characters that mean nothing to a shell or an
/// editor (anything else is quoted, see the module docs).
fn is_plain(path: &[u8]) -> bool {
    !path.is_empty() && path.iter().all(|b| b.is_ascii_alphanumeric() || b"._-/+,@=:%~".contains(b))
}

/// A path as the file holds it: as is when plain, else in double quotes with every byte that
/// is not plain printable ASCII escaped.
fn escape(path: &str) -> String {
    write_path(path.as_bytes())
}

/// [`escape`] for any bytes.
fn write_path(path: &[u8]) -> String {
    if is_plain(path) {
        return String::from_utf8_lossy(path).into_owned();
    }
    let mut quoted = String::with_capacity(path.len() + 2);
    quoted.push('"');
    for &byte in path {
        match byte {
            b'\\' | b'"' | b'$' | b'`' => quoted.extend(['\\', char::from(byte)]),
            b'\n' => quoted.push_str("\\n"),
            b' '..=b'~' => quoted.push(char::from(byte)),
            _ => quoted.push_str(&format!("\\x{byte:02x}")),
        }
    }
    quoted.push('"');
    quoted
}

/// Reads a path back: the quoted form, or the unquoted one (which older versions wrote
/// with `\\`, `\n` and `\r` escapes).
fn unescape(text: &str) -> std::result::Result<String, String> {
    String::from_utf8(read_path(text)?).map_err(|_| "the path is not UTF-8 once unescaped".to_string())
}

/// The bytes of a path [`write_path`] wrote (or an older version did).
fn read_path(text: &str) -> std::result::Result<Vec<u8>, String> {
    let bytes = match text.strip_prefix('"') {
        Some(quoted) => {
            let inner = quoted.strip_suffix('"').ok_or("a quoted path must end with a quote")?;
            unescape_bytes(inner.as_bytes(), true)?
        }
        None => unescape_bytes(text.as_bytes(), false)?,
    };
    if bytes.is_empty() {
        return Err("the path is empty".into());
    }
    Ok(bytes)
}

/// Applies the escapes: `\\`, `\n`, `\r`, and in a quoted path also `\"`, `\$`, `` \` `` and
/// `\xNN`. An unescaped quote inside a quoted path is an error.
fn unescape_bytes(text: &[u8], quoted: bool) -> std::result::Result<Vec<u8>, String> {
    let mut out = Vec::with_capacity(text.len());
    let mut bytes = text.iter().copied();
    while let Some(byte) = bytes.next() {
        match byte {
            b'"' if quoted => return Err("an unescaped quote inside a quoted path".into()),
            b'\\' => out.push(unescape_one(&mut bytes, quoted)?),
            _ => out.push(byte),
        }
    }
    Ok(out)
}

/// The byte an escape stands for, read after its backslash.
fn unescape_one(bytes: &mut impl Iterator<Item = u8>, quoted: bool) -> std::result::Result<u8, String> {
    match bytes.next() {
        Some(b'\\') => Ok(b'\\'),
        Some(b'n') => Ok(b'\n'),
        Some(b'r') => Ok(b'\r'),
        Some(byte @ (b'"' | b'$' | b'`')) if quoted => Ok(byte),
        Some(b'x') if quoted => {
            let digits = [bytes.next(), bytes.next()];
            let hex: String = digits.iter().flatten().map(|&b| char::from(b)).collect();
            u8::from_str_radix(&hex, 16)
                .ok()
                .filter(|_| hex.len() == 2)
                .ok_or_else(|| "\\x must be followed by two hex digits".to_string())
        }
        Some(byte) if byte.is_ascii_graphic() => Err(format!("unknown escape \\{} in path", char::from(byte))),
        _ => Err("unknown escape in path".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::filter::tests::finding;
    use crate::lines::Position;
    use crate::source::{Origin, Provenance};

    fn at(path: &str, secret: &str, line: usize) -> Finding {
        let mut finding = finding(path, secret);
        finding.position = Position { line, column: 1, end_line: line, end_column: 9 };
        finding
    }

    fn file() -> PathBuf {
        std::env::current_dir().unwrap().join(DEFAULT_FILE_NAME)
    }

    fn round_trip(findings: &[Finding]) -> Baseline {
        let text = Baseline::of(&file(), findings).render();
        Baseline::parse(&text, &file()).unwrap()
    }

    #[test]
    fn file_is_sorted_unique_and_holds_no_secret() {
        let baseline =
            Baseline::of(&file(), &[at("b.env", "tok_one", 1), at("./a.env", "tok_two", 2), at("b.env", "tok_one", 7)]);
        let text = baseline.render();
        assert!(text.starts_with(HEADER));
        let entries: Vec<&str> = text.lines().filter(|l| !l.starts_with('#')).collect();
        assert_eq!(entries.len(), 2);
        assert!(entries[0].ends_with(" a.env") && entries[1].ends_with(" b.env"), "{text}");
        assert!(!text.contains("tok_"), "{text}");
    }

    #[test]
    fn line_moves_stay_baselined_and_new_secrets_do_not() {
        let baseline = round_trip(&[at("a.env", "tok_one", 3)]);
        let matched = baseline.filter(vec![at("a.env", "tok_one", 40), at("a.env", "tok_new", 3)]);
        assert_eq!(matched.suppressed, 1);
        assert_eq!(matched.new.len(), 1);
        assert_eq!(matched.new[0].secret, "tok_new");
        assert!(matched.unused.is_empty());
    }

    #[test]
    fn renames_stay_baselined_but_copies_are_new() {
        let baseline = round_trip(&[at("old.env", "tok_one", 1)]);
        let renamed = baseline.filter(vec![at("new.env", "tok_one", 1), at("new.env", "tok_one", 9)]);
        assert_eq!((renamed.suppressed, renamed.new.len()), (2, 0));
        let copied = baseline.filter(vec![at("old.env", "tok_one", 1), at("copy.env", "tok_one", 1)]);
        assert_eq!(copied.new.len(), 1);
        assert_eq!(copied.new[0].path, "copy.env");
    }

    #[test]
    fn history_findings_are_baselined_by_fingerprint_wherever_they_are() {
        let baseline = round_trip(&[at("app/.env", "tok_one", 1)]);
        let mut in_message = at("<commit message>", "tok_one", 4);
        in_message.provenance = Provenance::new(Origin::CommitMessage { commit: git2::Oid::zero() });
        let mut other_secret = in_message.clone();
        other_secret.fingerprint = crate::finding::fingerprint("r", b"tok_two");
        let mut in_a_blob = at("old/config.py", "tok_one", 2);
        in_a_blob.provenance = Provenance::new(Origin::Blob {
            path: "old/config.py".into(),
            blob: git2::Oid::zero(),
            commit: git2::Oid::zero(),
        });
        let tree = [at("app/.env", "tok_one", 1), at("copy.env", "tok_one", 1)];
        let matched = baseline.filter([vec![in_message, other_secret, in_a_blob], tree.to_vec()].concat());
        assert_eq!(matched.suppressed, 3, "both history findings of the recorded secret, and its recorded file");
        let new: Vec<&str> = matched.new.iter().map(|finding| finding.path.as_str()).collect();
        assert_eq!(new, ["<commit message>", "copy.env"], "another secret, and a copy in the working tree");
        assert!(matched.unused.is_empty(), "{:?}", matched.unused);
    }

    #[test]
    fn unused_entries_are_listed() {
        let baseline = round_trip(&[at("a.env", "tok_one", 1), at("b.env", "tok_two", 1)]);
        let matched = baseline.filter(vec![at("a.env", "tok_one", 1)]);
        assert_eq!(matched.unused.len(), 1);
        assert!(matched.unused[0].ends_with(" b.env"), "{:?}", matched.unused);
    }

    #[test]
    fn odd_paths_round_trip() {
        let path = "dir with space/back\\slash\nnewline.env";
        let baseline = round_trip(&[at(path, "tok_one", 1)]);
        assert_eq!(baseline.entries().next().unwrap().path, path);
    }

    #[test]
    fn any_bytes_round_trip_and_odd_paths_are_quoted_inertly() {
        let mut state = 0x2545_f491_4f6c_dd1d_u64;
        let mut random_byte = || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state as u8
        };
        let mut paths: Vec<Vec<u8>> = (0..=255u8).map(|byte| vec![byte, b'a', byte]).collect();
        paths.extend((0..500).map(|len| (0..len % 40 + 1).map(|_| random_byte()).collect()));
        for path in paths {
            let written = write_path(&path);
            assert!(written.bytes().all(|b| (b' '..=b'~').contains(&b)), "{written}");
            assert_eq!(read_path(&written).unwrap(), path, "{written}");
        }
        assert_eq!(escape("app/settings.py"), "app/settings.py");
        assert_eq!(escape("$(touch PWNED)\n`x`\"q\""), r#""\$(touch PWNED)\n\`x\`\"q\"""#);
    }

    #[test]
    fn files_older_versions_wrote_still_read() {
        let text = format!("{HEADER}\nr:0123456789abcdef dir with space/back\\\\slash\\nnewline.env\n");
        let baseline = Baseline::parse(&text, &file()).unwrap();
        assert_eq!(baseline.entries().next().unwrap().path, "dir with space/back\\slash\nnewline.env");
    }

    #[test]
    fn bad_files_name_the_line() {
        let err = Baseline::parse("[rules]\n", &file()).unwrap_err().to_string();
        assert!(err.contains(":1:") && err.contains("not a keyhound baseline"), "{err}");
        let err = Baseline::parse(&format!("{HEADER}\n\nr:xyz a.env\n"), &file()).unwrap_err().to_string();
        assert!(err.contains(":3:") && err.contains("not a fingerprint"), "{err}");
        let err = Baseline::parse(&format!("{HEADER}\nr:0123456789abcdef\n"), &file()).unwrap_err().to_string();
        assert!(err.contains("FINGERPRINT PATH"), "{err}");
        for bad in ["\"open", "\"a\"b\"", "\"\\x4\"", "\"\\q\"", "\"\""] {
            let text = format!("{HEADER}\nr:0123456789abcdef {bad}\n");
            assert!(Baseline::parse(&text, &file()).is_err(), "{bad}");
        }
    }
}
