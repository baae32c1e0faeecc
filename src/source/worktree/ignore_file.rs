//! Reading one ignore file (`.gitignore`, `.ignore`, git's `info/exclude`, the user's global
//! excludes file) without trusting it: the `ignore` crate opens these itself with a plain
//! `open` and reads them whole, so a committed `.gitignore` symlink to `/dev/zero` exhausts
//! memory and a FIFO in its place blocks forever. Here a file is read only if it is a regular
//! file no larger than [`MAX_IGNORE_FILE`], opened non-blocking (a FIFO swapped in after the
//! check cannot block) and, for files inside the scanned tree, never through a symlink: git
//! itself stopped following in-tree `.gitignore` symlinks in 2.32.

use std::io;
use std::path::Path;

use ignore::gitignore::{Gitignore, GitignoreBuilder};

use crate::fsio::{self, ReadError};
use crate::size::human_bytes;

/// Ignore files larger than this are not read: real ones are a few kilobytes.
pub(super) const MAX_IGNORE_FILE: u64 = 1 << 20;

/// Where an ignore file comes from, which decides whether a symlink is followed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Origin {
    /// Inside the scanned tree or its git directory: the repository's, never followed.
    Repository,
    /// The user's own configuration (core.excludesFile): followed, still bounded.
    User,
}

/// The rules of the ignore file at `path`: `Ok(None)` when there is none (or it holds no
/// pattern), `Err` with the reason when it exists but was not read. `warn` receives a
/// message for each line that is not a valid pattern (the line is skipped, never quoted).
pub(super) fn load(path: &Path, origin: Origin, warn: &dyn Fn(String)) -> Result<Option<Gitignore>, String> {
    let Some(text) = read(path, origin)? else { return Ok(None) };
    let mut builder = GitignoreBuilder::new("");
    let text = text.strip_prefix('\u{feff}').unwrap_or(&text);
    for (index, line) in text.lines().enumerate() {
        if builder.add_line(None, line).is_err() {
            warn(format!("{}:{}: not a valid ignore pattern; the line was skipped", path.display(), index + 1));
        }
    }
    let rules = builder.build().map_err(|_| "its patterns cannot be compiled".to_string())?;
    Ok((!rules.is_empty()).then_some(rules))
}

/// The text of the ignore file at `path` (invalid UTF-8 replaced), `None` if there is none.
fn read(path: &Path, origin: Origin) -> Result<Option<String>, String> {
    let metadata = match path.symlink_metadata() {
        Ok(metadata) => metadata,
        Err(error) if error.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(error) => return Err(error.to_string()),
    };
    let follows = origin == Origin::User;
    if !(metadata.is_file() || follows && metadata.file_type().is_symlink()) {
        return Err(format!("a {}, not a regular file", fsio::kind_name(metadata.file_type())));
    }
    let file = fsio::open_for_reading(path, follows).map_err(|error| error.to_string())?;
    // Checked again on the open file: the path may have been replaced since.
    let bytes = fsio::read_opened(file, MAX_IGNORE_FILE).map_err(|error| match error {
        ReadError::Io(error) => error.to_string(),
        ReadError::NotRegular(file_type) => format!("a {}, not a regular file", fsio::kind_name(file_type)),
        ReadError::TooLarge => format!("larger than {}", human_bytes(MAX_IGNORE_FILE)),
    })?;
    Ok(Some(String::from_utf8_lossy(&bytes).into_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::RefCell;
    use std::fs;

    fn load_quietly(path: &Path, origin: Origin) -> Result<Option<Gitignore>, String> {
        load(path, origin, &|_| {})
    }

    #[test]
    fn patterns_are_read_and_bad_lines_named_not_quoted() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(".gitignore");
        fs::write(&path, "\u{feff}*.log\n[z-a]secret\n!keep.log\n").unwrap();
        let warnings = RefCell::new(Vec::new());
        let rules = load(&path, Origin::Repository, &|w| warnings.borrow_mut().push(w)).unwrap().unwrap();
        assert!(rules.matched("a.log", false).is_ignore());
        assert!(rules.matched("keep.log", false).is_whitelist());
        let warnings = warnings.into_inner();
        assert_eq!(warnings.len(), 1);
        assert!(warnings[0].ends_with(".gitignore:2: not a valid ignore pattern; the line was skipped"));
    }

    #[test]
    fn missing_and_empty_files_have_no_rules() {
        let dir = tempfile::tempdir().unwrap();
        assert!(load_quietly(&dir.path().join(".ignore"), Origin::Repository).unwrap().is_none());
        fs::write(dir.path().join(".ignore"), "# only a comment\n").unwrap();
        assert!(load_quietly(&dir.path().join(".ignore"), Origin::Repository).unwrap().is_none());
    }

    #[test]
    fn files_over_the_cap_are_not_read() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(".gitignore");
        fs::write(&path, vec![b'a'; MAX_IGNORE_FILE as usize + 1]).unwrap();
        assert_eq!(load_quietly(&path, Origin::Repository).unwrap_err(), "larger than 1.0 MiB");
    }

    #[cfg(unix)]
    #[test]
    fn repository_symlinks_are_not_followed_but_user_ones_are() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join("real"), "*.log\n").unwrap();
        let link = dir.path().join(".gitignore");
        std::os::unix::fs::symlink("real", &link).unwrap();
        assert_eq!(load_quietly(&link, Origin::Repository).unwrap_err(), "a symbolic link, not a regular file");
        assert!(load_quietly(&link, Origin::User).unwrap().is_some());
        std::os::unix::fs::symlink("/dev/zero", dir.path().join("zero")).unwrap();
        assert_eq!(load_quietly(&dir.path().join("zero"), Origin::User).unwrap_err(), "a device, not a regular file");
    }

    #[cfg(unix)]
    #[test]
    fn fifos_are_not_opened() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join(".ignore");
        assert!(std::process::Command::new("mkfifo").arg(&fifo).status().unwrap().success());
        assert_eq!(load_quietly(&fifo, Origin::User).unwrap_err(), "a FIFO, not a regular file");
    }
}
