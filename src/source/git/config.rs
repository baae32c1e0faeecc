//! The part of git's config syntax that decides which files libgit2 reads: the `path` values
//! of `[include]` and `[includeIf "…"]` sections, found so that [`check`] can read each file
//! safely before libgit2 does.
//!
//! The parser errs towards finding more: it accepts a key on its section header's line, takes
//! `includeIf` paths whatever their condition, and follows git's quoting, escapes and `\`
//! line continuations, so no spelling hides an include from it.

use std::io;
use std::path::{Path, PathBuf};

use super::{not_opened, small_file};
use crate::error::Error;

/// libgit2's limit on nested includes.
const MAX_INCLUDE_DEPTH: usize = 10;

/// Reads the config file at `path` (if it exists) and every file its includes name, nested,
/// each safely; the first refused file is the error.
pub(super) fn check(path: &Path) -> Result<(), Error> {
    check_nested(path, None, 0)
}

fn check_nested(path: &Path, included_by: Option<&Path>, depth: usize) -> Result<(), Error> {
    let Some(text) = small_file(path, included_by)? else { return Ok(()) };
    let dir = path.parent().unwrap_or(Path::new("."));
    for include in include_paths(&text) {
        let target = expand(&include, dir);
        if depth == MAX_INCLUDE_DEPTH {
            let reason = io::Error::new(io::ErrorKind::InvalidInput, "includes nest more than 10 deep");
            return Err(not_opened(&target, Some(path), reason));
        }
        check_nested(&target, Some(path), depth + 1)?;
    }
    Ok(())
}

/// An include path as libgit2 resolves it: `~/` is the home directory, a relative path is
/// relative to the including file's directory.
fn expand(include: &[u8], dir: &Path) -> PathBuf {
    let home = std::env::var_os("HOME").map(PathBuf::from);
    match (include.strip_prefix(b"~/"), home) {
        (Some(rest), Some(home)) => home.join(path_of(rest)),
        _ => dir.join(path_of(include)),
    }
}

#[cfg(unix)]
fn path_of(bytes: &[u8]) -> PathBuf {
    PathBuf::from(<std::ffi::OsStr as std::os::unix::ffi::OsStrExt>::from_bytes(bytes))
}

#[cfg(not(unix))]
fn path_of(bytes: &[u8]) -> PathBuf {
    PathBuf::from(String::from_utf8_lossy(bytes).into_owned())
}

/// The `path` values of the include sections of a config file's text.
fn include_paths(text: &[u8]) -> Vec<Vec<u8>> {
    let mut parser = Parser { text, at: 0 };
    let mut in_include = false;
    let mut paths = Vec::new();
    while let Some(byte) = parser.skip_blanks() {
        match byte {
            b'\n' => parser.at += 1,
            b'#' | b';' => parser.skip_line(),
            b'[' => in_include = parser.section_is_include(),
            _ => match parser.entry() {
                Some((key, value)) if in_include && key.eq_ignore_ascii_case(b"path") => paths.push(value),
                _ => {}
            },
        }
    }
    paths
}

/// A cursor over a config file's bytes.
struct Parser<'t> {
    text: &'t [u8],
    at: usize,
}

impl<'t> Parser<'t> {
    fn peek(&self) -> Option<u8> {
        self.text.get(self.at).copied()
    }

    /// Skips spaces, tabs and carriage returns; the next byte, if any.
    fn skip_blanks(&mut self) -> Option<u8> {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\r')) {
            self.at += 1;
        }
        self.peek()
    }

    fn skip_line(&mut self) {
        while !matches!(self.peek(), None | Some(b'\n')) {
            self.at += 1;
        }
    }

    /// Reads `[name "subsection"]` (or `[name.subsection]`) from its `[`; whether the section
    /// is `include` or `includeIf`.
    fn section_is_include(&mut self) -> bool {
        self.at += 1;
        let start = self.at;
        while self.peek().is_some_and(|b| b.is_ascii_alphanumeric() || b == b'-') {
            self.at += 1;
        }
        let name = &self.text[start..self.at];
        let include = name.eq_ignore_ascii_case(b"include") || name.eq_ignore_ascii_case(b"includeif");
        let mut quoted = false;
        while let Some(byte) = self.peek() {
            self.at += 1;
            match byte {
                b'\\' if quoted => self.at += 1,
                b'"' => quoted = !quoted,
                b']' if !quoted => break,
                b'\n' => break,
                _ => {}
            }
        }
        include
    }

    /// Reads `key = value` (or a bare `key`, a boolean); the key, and the value if it has one.
    fn entry(&mut self) -> Option<(&'t [u8], Vec<u8>)> {
        let text = self.text;
        let start = self.at;
        while self.peek().is_some_and(|b| b.is_ascii_alphanumeric() || b == b'-') {
            self.at += 1;
        }
        let key = &text[start..self.at];
        if self.skip_blanks() != Some(b'=') || key.is_empty() {
            self.skip_line();
            return None;
        }
        self.at += 1;
        self.skip_blanks();
        Some((key, self.value()))
    }

    /// A value up to the end of its line: quotes removed, escapes and continuations applied,
    /// an unquoted comment and trailing blanks dropped.
    fn value(&mut self) -> Vec<u8> {
        let mut value = Vec::new();
        let mut kept = 0;
        let mut quoted = false;
        while let Some(byte) = self.peek() {
            self.at += 1;
            match byte {
                b'\n' => break,
                b'"' => quoted = !quoted,
                b'#' | b';' if !quoted => {
                    self.skip_line();
                    break;
                }
                b'\\' => {
                    if let Some(escaped) = self.escape() {
                        value.push(escaped);
                        kept = value.len();
                    }
                }
                _ => {
                    value.push(byte);
                    if quoted || !byte.is_ascii_whitespace() {
                        kept = value.len();
                    }
                }
            }
        }
        value.truncate(kept);
        value
    }

    /// The byte a `\` escape stands for, after the `\`; `None` for a line continuation.
    fn escape(&mut self) -> Option<u8> {
        if self.text[self.at..].starts_with(b"\r\n") {
            self.at += 2;
            return None;
        }
        let byte = self.peek()?;
        self.at += 1;
        match byte {
            b'\n' => None,
            b'n' => Some(b'\n'),
            b't' => Some(b'\t'),
            b'b' => Some(0x08),
            other => Some(other),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn paths(text: &str) -> Vec<String> {
        include_paths(text.as_bytes()).into_iter().map(|path| String::from_utf8(path).unwrap()).collect()
    }

    #[test]
    fn every_spelling_of_an_include_is_found() {
        let text = "[core]\n\tpath = not-an-include\n\
                    [include]\n\tpath = plain ; comment\n\
                    [INCLUDE]\n\tPATH=\"quoted # not a comment\" # comment\n\
                    [includeIf \"gitdir:~/work/]\"]\n  path = ~/cond\n\
                    [include] path = same-line\n\
                    [include]\n\tpath = con\\\ntinued\n\
                    [include]\n\tpath = esc\\\"aped\\\\\n\
                    [user]\n\tpath = after\n";
        assert_eq!(paths(text), ["plain", "quoted # not a comment", "~/cond", "same-line", "continued", "esc\"aped\\"]);
    }

    #[test]
    fn an_escaped_backslash_does_not_swallow_the_next_line() {
        let text = "[core]\n\tx = a\\\\\n[include]\n\tpath = hidden\n";
        assert_eq!(paths(text), ["hidden"]);
    }

    #[test]
    fn relative_paths_are_relative_to_the_config_file() {
        assert_eq!(expand(b"other.inc", Path::new("/repo/.git")), Path::new("/repo/.git/other.inc"));
        assert_eq!(expand(b"/abs/x", Path::new("/repo/.git")), Path::new("/abs/x"));
    }

    #[test]
    fn a_fifo_include_is_refused_and_a_missing_one_is_not() {
        let dir = tempfile::tempdir().unwrap();
        let config = dir.path().join("config");
        std::fs::write(&config, "[include]\n\tpath = missing\n").unwrap();
        check(&config).unwrap();
        let status = std::process::Command::new("mkfifo").arg(dir.path().join("fifo")).status().unwrap();
        assert!(status.success());
        std::fs::write(&config, "[includeIf \"onbranch:x\"]\n\tpath = fifo\n").unwrap();
        let err = check(&config).unwrap_err().to_string();
        assert!(err.contains("fifo") && err.contains("is a FIFO") && err.contains("not opened"), "{err}");
    }

    #[test]
    fn includes_that_nest_forever_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let config = dir.path().join("config");
        std::fs::write(&config, "[include]\n\tpath = config\n").unwrap();
        assert!(check(&config).unwrap_err().to_string().contains("nest more than 10 deep"));
    }
}
