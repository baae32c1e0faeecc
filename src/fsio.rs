//! Guarded file access: the one place keyhound reads a file whose path it was given and writes
//! a file it produces.
//!
//! A path reaches keyhound either from the user (`--config`, `--baseline`, `--rules`,
//! `--output` on the command line) or from the scanned repository (`.keyhound.toml`,
//! `.keyhoundignore`, the baseline and rule paths a config file names, git's config files).
//! The repository is the attacker, so [`Named`] records which, and:
//!
//! - **Every read** opens without blocking (a FIFO swapped in after a check cannot hang it),
//!   then checks the opened file: a regular file (not a FIFO, socket, device or directory) of
//!   at most [`READ_LIMIT`] bytes, counted while reading too (a `/proc` file claims size 0).
//! - **A repository's path** must also resolve, symlinks followed, to a file inside the
//!   repository root: a symlink inside the tree to another file in it is fine; one leading to
//!   `/proc/self/environ` or `~/.profile` is refused.
//! - **Every write** goes to a temporary file in the destination's directory, renamed into
//!   place: a symlink at the destination is replaced, never followed, and a reader never sees
//!   half a file. A repository's path must also have its directory (symlinks followed) inside
//!   the root. The one exception is a stream the user names — a device, FIFO or socket
//!   (`--output /dev/null`, `/dev/stdout`, a pipe): it is written to, since replacing it would
//!   replace the device itself (as root, `/dev/null` for the whole machine).
//!
//! Refusals are `io::Error`s (kind `InvalidInput`) whose message says why, for the caller to
//! put after the path.

use std::fs::{File, FileType, OpenOptions};
use std::io::{self, BufWriter, Read, Write};
use std::path::{Component, Path, PathBuf};

use crate::paths::normalize;

/// The largest file read (configuration, ignore, baseline, rule and git config files).
pub(crate) const READ_LIMIT: u64 = 16 << 20;

/// Who named a path, which decides where it may lead.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Named {
    /// The user, on the command line: it may lead anywhere.
    ByUser,
    /// The scanned repository: it must stay inside `root`, the work tree (or bare repository)
    /// that holds it (see [`Named::by_repository_at`]).
    ByRepository {
        /// The repository root.
        root: PathBuf,
    },
}

/// Reads a file as UTF-8 text (see the module docs for what is refused).
pub(crate) fn read_text(path: &Path, named: &Named) -> io::Result<String> {
    let bytes = read(path, named)?;
    String::from_utf8(bytes)
        .map_err(|e| refused(format!("is not UTF-8 text (invalid byte at offset {})", e.utf8_error().valid_up_to())))
}

/// Reads a file's bytes (see the module docs for what is refused).
pub(crate) fn read(path: &Path, named: &Named) -> io::Result<Vec<u8>> {
    let path = resolve(path, named)?;
    read_opened(open_for_reading(&path, true)?, READ_LIMIT).map_err(|error| match error {
        ReadError::Io(error) => error,
        ReadError::NotRegular(file_type) => refused(format!("is a {}, not a regular file", kind_name(file_type))),
        ReadError::TooLarge => too_large(),
    })
}

/// Why [`read_opened`] did not read a file.
#[derive(Debug)]
pub(crate) enum ReadError {
    /// Reading failed.
    Io(io::Error),
    /// The open file is not a regular file (it was replaced after a check by path, say).
    NotRegular(FileType),
    /// It holds more than the limit.
    TooLarge,
}

/// The bytes of an open file: a regular file of at most `limit` bytes, counted while reading
/// too (a `/proc` file claims size 0).
pub(crate) fn read_opened(file: File, limit: u64) -> Result<Vec<u8>, ReadError> {
    let metadata = file.metadata().map_err(ReadError::Io)?;
    if !metadata.is_file() {
        return Err(ReadError::NotRegular(metadata.file_type()));
    }
    if metadata.len() > limit {
        return Err(ReadError::TooLarge);
    }
    let mut bytes = Vec::with_capacity(metadata.len() as usize);
    file.take(limit.saturating_add(1)).read_to_end(&mut bytes).map_err(ReadError::Io)?;
    if bytes.len() as u64 > limit {
        return Err(ReadError::TooLarge);
    }
    Ok(bytes)
}

/// The path to open for `path`: as given when the user named it; resolved (symlinks
/// followed) and checked to be inside the root when the repository did. Also for
/// directories the repository names.
pub(crate) fn resolve(path: &Path, named: &Named) -> io::Result<PathBuf> {
    match named {
        Named::ByUser => Ok(path.to_path_buf()),
        Named::ByRepository { root } => {
            let resolved = std::fs::canonicalize(path)?;
            inside(&resolved, root)?;
            Ok(resolved)
        }
    }
}

/// Writes a file atomically: `write` fills a temporary file in `path`'s directory, which
/// then replaces `path` (a symlink there is replaced, not followed). `mode` is the new file's
/// Unix permission bits before the umask.
pub(crate) fn write_atomic(
    path: &Path,
    named: &Named,
    mode: u32,
    write: impl FnOnce(&mut dyn Write) -> io::Result<()>,
) -> io::Result<()> {
    if *named == Named::ByUser && is_stream(path) {
        let mut out = BufWriter::new(OpenOptions::new().write(true).open(path)?);
        write(&mut out)?;
        return out.flush();
    }
    let dir = writable_dir(path, named)?;
    let mut builder = tempfile::Builder::new();
    builder.prefix(".keyhound-");
    #[cfg(unix)]
    builder.permissions(std::os::unix::fs::PermissionsExt::from_mode(mode));
    #[cfg(not(unix))]
    let _ = mode;
    let mut temp = builder.tempfile_in(&dir)?;
    let mut out = BufWriter::new(temp.as_file_mut());
    write(&mut out)?;
    out.flush()?;
    drop(out);
    temp.persist(path).map(drop).map_err(|e| e.error)
}

/// Whether `path` names a stream rather than a file: a device, FIFO or socket (symlinks
/// followed), or anything under `/dev` or `/proc` (`/dev/stdout` leads to whatever standard
/// output is, a regular file included, and is still not a file to replace).
fn is_stream(path: &Path) -> bool {
    let in_system_tree = std::path::absolute(path)
        .map(|absolute| absolute.starts_with("/dev") || absolute.starts_with("/proc"))
        .unwrap_or(false);
    in_system_tree || std::fs::metadata(path).is_ok_and(|meta| !meta.is_file() && !meta.is_dir())
}

/// Creates the directory `dir` and its missing parents. One the repository named must lie
/// inside the root, which is checked before anything is created (`..` is resolved first, by
/// name, so what is checked is what is created).
pub(crate) fn create_dir_all(dir: &Path, named: &Named) -> io::Result<()> {
    let dir = normalize(&std::path::absolute(dir)?);
    if let Named::ByRepository { root } = named {
        let existing = dir.ancestors().find(|ancestor| ancestor.exists()).unwrap_or(Path::new("/"));
        inside(&std::fs::canonicalize(existing)?, root)?;
    }
    std::fs::create_dir_all(&dir)
}

/// The directory a write to `path` creates its temporary file in, checked for containment
/// when the repository named `path`.
fn writable_dir(path: &Path, named: &Named) -> io::Result<PathBuf> {
    if !matches!(path.components().next_back(), Some(Component::Normal(_))) {
        return Err(refused("does not name a file".into()));
    }
    let dir = match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent.to_path_buf(),
        _ => PathBuf::from("."),
    };
    if let Named::ByRepository { root } = named {
        inside(&std::fs::canonicalize(&dir)?, root)?;
    }
    Ok(dir)
}

/// Checks that `resolved` (canonical) lies inside `root`.
fn inside(resolved: &Path, root: &Path) -> io::Result<()> {
    let root = std::fs::canonicalize(root)?;
    if resolved.starts_with(&root) {
        return Ok(());
    }
    Err(refused(format!(
        "leads outside the repository ({}); only a path given on the command line may",
        root.display()
    )))
}

/// Opens `path` for reading without blocking, so a FIFO swapped in after a check cannot hang
/// the caller, and (unless `follow_symlinks`) not through a symlink at its last component.
pub(crate) fn open_for_reading(path: &Path, follow_symlinks: bool) -> io::Result<File> {
    let mut options = OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        let no_follow = if follow_symlinks { 0 } else { libc::O_NOFOLLOW };
        options.custom_flags(libc::O_NONBLOCK | no_follow);
    }
    #[cfg(not(unix))]
    let _ = follow_symlinks;
    options.open(path)
}

/// What a file of type `file_type` is, for messages ("FIFO", "device", "directory", …).
pub(crate) fn kind_name(file_type: FileType) -> &'static str {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if file_type.is_fifo() {
            return "FIFO";
        }
        if file_type.is_char_device() || file_type.is_block_device() {
            return "device";
        }
        if file_type.is_socket() {
            return "socket";
        }
    }
    if file_type.is_symlink() {
        "symbolic link"
    } else if file_type.is_dir() {
        "directory"
    } else if file_type.is_file() {
        "regular file"
    } else {
        "special file"
    }
}

fn too_large() -> io::Error {
    refused(format!("is larger than the {} MiB limit for such files", READ_LIMIT >> 20))
}

fn refused(message: String) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidInput, message)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;
    use std::os::unix::fs::{symlink, FileTypeExt};
    use std::time::{Duration, Instant};

    #[test]
    fn a_stream_the_user_names_is_written_to_not_replaced() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("pipe");
        let status = std::process::Command::new("mkfifo").arg(&fifo).status().unwrap();
        assert!(status.success());
        let reader = {
            let fifo = fifo.clone();
            std::thread::spawn(move || fs::read_to_string(fifo).unwrap())
        };
        write_atomic(&fifo, &Named::ByUser, 0o644, |out| out.write_all(b"report")).unwrap();
        assert_eq!(reader.join().unwrap(), "report");
        assert!(fs::symlink_metadata(&fifo).unwrap().file_type().is_fifo(), "the FIFO is still a FIFO");
        assert!(is_stream(Path::new("/dev/null")) && is_stream(Path::new("/dev/stdout")));
        assert!(!is_stream(&dir.path().join("report.json")));
    }

    fn repo() -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        fs::create_dir(dir.path().join("repo")).unwrap();
        dir
    }

    fn by_repo(dir: &tempfile::TempDir) -> PathBuf {
        dir.path().join("repo")
    }

    #[test]
    fn a_symlink_out_of_the_root_is_refused_and_one_inside_it_is_followed() {
        let dir = repo();
        let root = by_repo(&dir);
        fs::write(dir.path().join("outside"), "secret").unwrap();
        fs::write(root.join("inside"), "fine").unwrap();
        symlink(dir.path().join("outside"), root.join("out")).unwrap();
        symlink("inside", root.join("in")).unwrap();
        let named = &Named::ByRepository { root: root.clone() };
        let err = read_text(&root.join("out"), named).unwrap_err();
        assert!(err.to_string().contains("leads outside the repository"), "{err}");
        assert_eq!(read_text(&root.join("in"), named).unwrap(), "fine");
        assert_eq!(read_text(&root.join("out"), &Named::ByUser).unwrap(), "secret");
    }

    #[test]
    fn a_fifo_is_refused_without_blocking() {
        let dir = repo();
        let fifo = by_repo(&dir).join("fifo");
        let status = std::process::Command::new("mkfifo").arg(&fifo).status().unwrap();
        assert!(status.success());
        let started = Instant::now();
        let err = read(&fifo, &Named::ByUser).unwrap_err();
        assert!(err.to_string().contains("is a FIFO, not a regular file"), "{err}");
        assert!(started.elapsed() < Duration::from_secs(30));
    }

    #[test]
    fn devices_and_proc_files_are_refused() {
        let err = read(Path::new("/dev/zero"), &Named::ByUser).unwrap_err();
        assert!(err.to_string().contains("is a device"), "{err}");
        let dir = repo();
        let root = by_repo(&dir);
        symlink("/proc/self/environ", root.join("env")).unwrap();
        let err = read(&root.join("env"), &Named::ByRepository { root: root.clone() }).unwrap_err();
        assert!(err.to_string().contains("leads outside"), "{err}");
    }

    #[test]
    fn the_size_cap_is_enforced() {
        let dir = repo();
        let path = by_repo(&dir).join("big");
        fs::write(&path, vec![b'a'; READ_LIMIT as usize + 1]).unwrap();
        let err = read(&path, &Named::ByUser).unwrap_err();
        assert!(err.to_string().contains("larger than"), "{err}");
        fs::write(&path, vec![b'a'; 10]).unwrap();
        assert_eq!(read(&path, &Named::ByUser).unwrap().len(), 10);
    }

    #[test]
    fn an_atomic_write_replaces_a_symlink_instead_of_following_it() {
        let dir = repo();
        let root = by_repo(&dir);
        let victim = dir.path().join("victim");
        fs::write(&victim, "precious").unwrap();
        symlink(&victim, root.join("baseline")).unwrap();
        write_atomic(&root.join("baseline"), &Named::ByRepository { root: root.clone() }, 0o666, |out| {
            out.write_all(b"new")
        })
        .unwrap();
        assert_eq!(fs::read_to_string(&victim).unwrap(), "precious");
        assert!(!fs::symlink_metadata(root.join("baseline")).unwrap().file_type().is_symlink());
        assert_eq!(fs::read_to_string(root.join("baseline")).unwrap(), "new");
    }

    #[test]
    fn a_write_the_repository_names_stays_inside_it() {
        let dir = repo();
        let root = by_repo(&dir);
        symlink(dir.path(), root.join("up")).unwrap();
        let named = &Named::ByRepository { root: root.clone() };
        for path in [root.join("../escaped"), root.join("up/escaped")] {
            let err = write_atomic(&path, named, 0o666, |out| out.write_all(b"x")).unwrap_err();
            assert!(err.to_string().contains("leads outside"), "{}: {err}", path.display());
        }
        assert!(!dir.path().join("escaped").exists());
        let err = create_dir_all(&root.join("new/../../made"), named).unwrap_err();
        assert!(err.to_string().contains("leads outside"), "{err}");
        assert!(!dir.path().join("made").exists() && !root.join("new").exists());
        create_dir_all(&root.join("new/deeper"), named).unwrap();
        assert!(root.join("new/deeper").is_dir());
        write_atomic(&dir.path().join("chosen"), &Named::ByUser, 0o666, |out| out.write_all(b"x")).unwrap();
        assert!(dir.path().join("chosen").is_file());
    }
}
