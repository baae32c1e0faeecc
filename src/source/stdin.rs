//! Standard input (`keyhound scan -`), and streams the user names on the command line: a FIFO
//! or a character device, such as `/dev/stdin` when it is a pipe. Each is read once, on the
//! calling thread, bounded by `--max-file-size`: a larger one is skipped and named, never read
//! to its end. A stream found while walking a directory is not one of these: the walk counts
//! it and passes over it, as nobody asked for it.
//!
//! A named stream is opened without blocking, so a FIFO nobody writes to reads as empty
//! instead of hanging the scan; reads then wait for the writer as a pipe's reads do.

use std::fs::File;
use std::io::{self, Read};
use std::path::{Path, PathBuf};

use super::{Origin, SkipReason, Skipped, Source, SourceStats, Visitor};
use crate::error::{Error, Result};
use crate::paths::display_path;

/// The PATH that means standard input, and the name it is reported under by default.
pub const DASH: &str = "-";

/// Where a stream's bytes come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Input {
    /// Standard input, reported under this name.
    Stdin(String),
    /// A FIFO or character device named on the command line.
    Named(PathBuf),
}

impl Input {
    /// The name findings in it, and a skip or error, are reported under.
    fn name(&self) -> String {
        match self {
            Input::Stdin(name) => name.clone(),
            Input::Named(path) => display_path(path),
        }
    }

    /// Where findings in it came from: standard input, or the file the user named.
    fn origin(&self) -> Origin {
        match self {
            Input::Stdin(name) => Origin::Stdin(name.clone()),
            Input::Named(path) => Origin::File(display_path(path)),
        }
    }

    /// Reads it whole into `buffer`, unless it holds more than `limit` bytes.
    fn read(&self, limit: u64, buffer: &mut Vec<u8>) -> io::Result<Bounded> {
        match self {
            Input::Stdin(_) => read_bounded(io::stdin().lock(), limit, buffer),
            Input::Named(path) => read_bounded(open_blocking(path)?, limit, buffer),
        }
    }
}

/// What `scan`'s PATHs name: trees to walk, and streams to read whole.
#[derive(Debug, PartialEq, Eq)]
pub struct Targets {
    /// Files and directories, for the work-tree walk.
    pub trees: Vec<PathBuf>,
    /// Standard input and named streams, in command-line order.
    pub streams: Vec<Input>,
    /// Where the configuration is looked for: the first PATH that is not `-`, else `.`.
    pub anchor: PathBuf,
    /// No PATH was given: `.` is scanned, and standard input is not read.
    defaulted: bool,
}

impl Targets {
    /// Sorts the PATHs (`.` when there are none): `-` is standard input (reported under
    /// `stdin_name`, default `-`), a FIFO or character device is a stream, the rest are trees.
    pub fn of(paths: &[PathBuf], stdin_name: Option<&str>) -> Result<Targets> {
        let dashes = paths.iter().filter(|path| path.as_os_str() == DASH).count();
        if dashes > 1 {
            return Err(Error::Usage("`-` (standard input) can be read only once".into()));
        }
        if dashes == 0 && stdin_name.is_some() {
            return Err(Error::Usage("--stdin-name names standard input, which only `-` among the PATHs reads".into()));
        }
        let defaulted = paths.is_empty();
        let default = [PathBuf::from(".")];
        let paths = if defaulted { &default[..] } else { paths };
        let anchor = paths.iter().find(|path| path.as_os_str() != DASH).cloned();
        let anchor = anchor.unwrap_or_else(|| PathBuf::from("."));
        let mut targets = Targets { trees: Vec::new(), streams: Vec::new(), anchor, defaulted };
        for path in paths {
            if path.as_os_str() == DASH {
                targets.streams.push(Input::Stdin(stdin_name.unwrap_or(DASH).to_string()));
            } else if is_stream(path) {
                targets.streams.push(Input::Named(path.clone()));
            } else {
                targets.trees.push(path.clone());
            }
        }
        Ok(targets)
    }

    /// The warning for a pipe on standard input that a scan with no PATH does not read.
    pub fn unread_stdin(&self) -> Option<String> {
        (self.defaulted && stdin_is_pipe()).then(|| {
            "standard input is a pipe and was not read: with no PATH, `keyhound scan` scans `.`; \
             `keyhound scan -` reads standard input"
                .into()
        })
    }
}

/// Streams to read one after another, each up to `max_size` bytes.
#[derive(Debug, Clone, Copy)]
pub struct Streams<'a> {
    /// The streams, in command-line order.
    pub inputs: &'a [Input],
    /// The size limit (`--max-file-size`).
    pub max_size: u64,
}

impl Source for Streams<'_> {
    /// Nothing: what was read, skipped and unreadable went to the visitor.
    type Output = SourceStats;
    const PARALLEL: bool = false;

    fn feed<V, F>(self, _pool: Option<&rayon::ThreadPool>, visitors: &F) -> Result<SourceStats>
    where
        V: Visitor + Send,
        F: Fn() -> V + Sync + ?Sized,
    {
        let mut visitor = visitors();
        let mut buffer = Vec::new();
        for input in self.inputs {
            match input.read(self.max_size, &mut buffer) {
                Ok(Bounded::Whole) => visitor.blob(&buffer, || input.origin()),
                Ok(Bounded::Over(limit)) => {
                    visitor.skip(Skipped { path: input.name().into(), reason: SkipReason::Over { limit } })
                }
                Err(error) => visitor.fail(format!("{}: {error}", input.name())),
            }
        }
        Ok(SourceStats::default())
    }
}

/// Whether `path` is a stream to read as one: a FIFO or a character device (symlinks
/// followed, as the user named it). Anything else, or a path that cannot be looked at, is the
/// work tree's to walk or report.
pub fn is_stream(path: &Path) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        std::fs::metadata(path).is_ok_and(|metadata| {
            let kind = metadata.file_type();
            kind.is_fifo() || kind.is_char_device()
        })
    }
    #[cfg(not(unix))]
    {
        let _ = path;
        false
    }
}

/// Whether standard input is a pipe: data someone meant to scan, perhaps.
pub fn stdin_is_pipe() -> bool {
    #[cfg(unix)]
    {
        use std::os::fd::AsFd;
        use std::os::unix::fs::FileTypeExt;
        let duplicate = io::stdin().as_fd().try_clone_to_owned();
        duplicate.and_then(|fd| File::from(fd).metadata()).is_ok_and(|metadata| metadata.file_type().is_fifo())
    }
    #[cfg(not(unix))]
    false
}

/// How much of a stream was read.
#[derive(Debug, PartialEq, Eq)]
enum Bounded {
    /// All of it.
    Whole,
    /// It holds more than this limit; what was read is dropped.
    Over(u64),
}

/// Reads `reader` to its end into `buffer`, unless it holds more than `limit` bytes: then one
/// byte past the limit is the last one read.
fn read_bounded(reader: impl Read, limit: u64, buffer: &mut Vec<u8>) -> io::Result<Bounded> {
    buffer.clear();
    reader.take(limit.saturating_add(1)).read_to_end(buffer)?;
    if buffer.len() as u64 > limit {
        buffer.clear();
        return Ok(Bounded::Over(limit));
    }
    Ok(Bounded::Whole)
}

/// Opens a stream the user named without blocking (a FIFO with no writer would block the open
/// forever), then makes its reads block again, so a pipe's writer is waited for.
fn open_blocking(path: &Path) -> io::Result<File> {
    let file = crate::fsio::open_for_reading(path, true)?;
    #[cfg(unix)]
    {
        use std::os::fd::AsRawFd;
        let fd = file.as_raw_fd();
        // SAFETY: `fd` is an open descriptor owned by `file`, alive for both calls, and
        // F_GETFL/F_SETFL only read and set its status flags.
        let flags = unsafe { libc::fcntl(fd, libc::F_GETFL) };
        if flags < 0 || unsafe { libc::fcntl(fd, libc::F_SETFL, flags & !libc::O_NONBLOCK) } < 0 {
            return Err(io::Error::last_os_error());
        }
    }
    Ok(file)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::testing::Recorder;

    fn targets(paths: &[&str], stdin_name: Option<&str>) -> Result<Targets> {
        Targets::of(&paths.iter().map(PathBuf::from).collect::<Vec<_>>(), stdin_name)
    }

    #[test]
    fn dash_is_standard_input_under_its_name_and_the_rest_are_trees() {
        let split = targets(&["-", "src", "b"], Some("pod.log")).unwrap();
        assert_eq!(split.streams, [Input::Stdin("pod.log".into())]);
        assert_eq!(split.trees, [PathBuf::from("src"), PathBuf::from("b")]);
        assert_eq!(split.anchor, PathBuf::from("src"));
        assert_eq!(targets(&["-"], None).unwrap().streams, [Input::Stdin(DASH.into())]);
        assert_eq!(targets(&["-"], None).unwrap().anchor, PathBuf::from("."));
        let default = targets(&[], None).unwrap();
        assert_eq!((default.trees, default.defaulted), (vec![PathBuf::from(".")], true));
        assert!(!targets(&["."], None).unwrap().defaulted, "a `.` given is no default");
    }

    #[test]
    fn stdin_name_without_dash_and_dash_twice_are_usage_errors() {
        assert!(matches!(targets(&["."], Some("x")), Err(Error::Usage(_))));
        assert!(matches!(targets(&[], Some("x")), Err(Error::Usage(_))));
        assert!(matches!(targets(&["-", "-"], None), Err(Error::Usage(_))));
    }

    #[test]
    fn reads_stop_one_byte_past_the_limit() {
        let mut buffer = Vec::new();
        assert_eq!(read_bounded(&b"12345"[..], 5, &mut buffer).unwrap(), Bounded::Whole);
        assert_eq!(buffer, b"12345");
        assert_eq!(read_bounded(&b"123456789"[..], 5, &mut buffer).unwrap(), Bounded::Over(5));
        assert!(buffer.is_empty());
        assert_eq!(read_bounded(&b"x"[..], u64::MAX, &mut buffer).unwrap(), Bounded::Whole);
    }

    #[cfg(unix)]
    #[test]
    fn a_named_fifo_nobody_writes_to_reads_as_empty() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("pipe");
        assert!(std::process::Command::new("mkfifo").arg(&fifo).status().unwrap().success());
        assert!(is_stream(&fifo) && !is_stream(dir.path()));
        let inputs = [Input::Named(fifo.clone())];
        let (fed, stats, seen) =
            Recorder::run(|visitors| Streams { inputs: &inputs, max_size: 10 }.feed(None, visitors));
        fed.unwrap();
        assert_eq!(seen, [display_path(&fifo)]);
        assert!(stats.errors.is_empty(), "{:?}", stats.errors);
    }

    #[cfg(unix)]
    #[test]
    fn a_device_larger_than_the_limit_is_skipped_by_name() {
        let inputs = [Input::Named("/dev/zero".into())];
        let (fed, stats, seen) =
            Recorder::run(|visitors| Streams { inputs: &inputs, max_size: 1024 }.feed(None, visitors));
        fed.unwrap();
        assert!(seen.is_empty());
        assert_eq!(stats.skipped, [Skipped { path: "/dev/zero".into(), reason: SkipReason::Over { limit: 1024 } }]);
    }
}
