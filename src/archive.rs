//! Archive members: zip (and jar, whl, apk, docx, …), tar, gzip and tar.gz, read from bytes in
//! memory and handed over whole, one at a time. Formats are told by their magic bytes, never
//! by a file name, so blobs from git history are opened too. Pure: nothing of paths, rules
//! or output.
//!
//! Limits keep a hostile archive cheap. Every read goes through [`Read::take`], so no member
//! or stream grows past its cap whatever its headers claim: a member larger than the file
//! size limit is skipped ([`Event::TooLarge`]); the member count, the bytes decompressed
//! (nested archives included, see [`Budget`]) and the compression ratio end the archive
//! ([`Stop`]). Past [`RATIO_GRACE`] bytes, a member (or a gzip stream, whose members'
//! compressed sizes are unknown) may decompress to at most `max_ratio` times its compressed
//! size: a zip bomb is stopped after a few mebibytes, not after the byte budget.

use std::io::{self, Cursor, Read};

/// Decompressed bytes any member may produce before the ratio limit applies: small, highly
/// compressible files (blank padding, repeated log lines) are not bombs.
pub const RATIO_GRACE: u64 = 1 << 20;

/// The deepest `--archive-depth`: each level opened is a level of recursion on a worker
/// thread's stack (2 MiB), and a chain of 1,000 nested gzip streams overflowed it.
pub const MAX_DEPTH: u16 = 64;

/// Most bytes reserved for a member before reading it: its header may claim any size, and
/// a larger member grows its buffer as it is read.
const MAX_RESERVE: u64 = 16 << 20;

/// An archive format keyhound opens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Zip and the formats built on it.
    Zip,
    /// POSIX or GNU tar.
    Tar,
    /// gzip; a gzip'd tar is read as a tar.
    Gzip,
}

impl Format {
    /// The name used in messages.
    pub fn name(self) -> &'static str {
        match self {
            Format::Zip => "zip",
            Format::Tar => "tar",
            Format::Gzip => "gzip",
        }
    }
}

/// The archive format of `bytes`, from its magic bytes.
pub fn detect(bytes: &[u8]) -> Option<Format> {
    match bytes {
        [b'P', b'K', 3, 4, ..] | [b'P', b'K', 5, 6, ..] | [b'P', b'K', 7, 8, ..] => Some(Format::Zip),
        [0x1F, 0x8B, 8, ..] => Some(Format::Gzip),
        _ if is_tar(bytes) => Some(Format::Tar),
        _ => None,
    }
}

/// POSIX (`ustar\0`) and GNU (`ustar `) tar headers carry their magic at offset 257.
fn is_tar(bytes: &[u8]) -> bool {
    bytes.get(257..262) == Some(b"ustar")
}

/// Limits a user can change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Most levels of archives opened: 1 opens archives but not archives inside them.
    pub max_depth: usize,
    /// Most bytes decompressed from one file's archives, nested ones included.
    pub max_bytes: u64,
    /// Most members read from one file's archives, nested ones included.
    pub max_members: u64,
    /// Most decompressed bytes per compressed byte, past [`RATIO_GRACE`].
    pub max_ratio: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits { max_depth: 3, max_bytes: 256 << 20, max_members: 100_000, max_ratio: 100 }
    }
}

/// What is left to spend on one file and every archive nested in it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Budget {
    /// Bytes that may still be decompressed.
    pub bytes: u64,
    /// Members that may still be read.
    pub members: u64,
}

impl Budget {
    /// A full budget.
    pub fn new(limits: &Limits) -> Self {
        Budget { bytes: limits.max_bytes, members: limits.max_members }
    }
}

/// Something found in an archive.
#[derive(Debug)]
pub enum Event<'a> {
    /// A regular file, read whole. A gzip stream without a stored name has an empty name.
    Member {
        /// Its path inside the archive.
        name: &'a str,
        /// Its content.
        bytes: &'a [u8],
    },
    /// A member larger than the size limit, not read.
    TooLarge {
        /// Its path inside the archive.
        name: &'a str,
        /// Its size as the archive states it.
        size: u64,
    },
    /// A member keyhound cannot read: encrypted, or compressed with a method other than
    /// stored or deflate.
    Unsupported {
        /// Its path inside the archive.
        name: &'a str,
        /// Why.
        reason: String,
    },
}

/// Why an archive was not read to its end. Members before it were handed over.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Stop {
    /// Corrupt, truncated or not really an archive.
    #[error("malformed or truncated {format} archive: {detail}")]
    Malformed {
        /// Its format.
        format: &'static str,
        /// What the reader said.
        detail: String,
    },
    /// The member limit was reached.
    #[error("member limit ({0}) reached; raise --archive-max-members to read further")]
    Members(u64),
    /// The decompressed-bytes limit was reached.
    #[error("decompressed-size limit ({0} bytes) reached; raise --archive-max-bytes to read further")]
    Bytes(u64),
    /// A member decompressed to more than `max_ratio` times its size: a zip bomb.
    #[error("{member:?} expands more than {ratio}:1 (a zip bomb?); raise --archive-max-ratio to read it")]
    Ratio {
        /// The member (empty for a gzip stream).
        member: String,
        /// The ratio limit.
        ratio: u64,
    },
}

/// Reads the members of the archive in `bytes` and calls `visit` with each, together with
/// the budget (so that archives nested in a member draw from it too).
pub fn read(
    bytes: &[u8],
    format: Format,
    limits: &Limits,
    max_member_size: u64,
    budget: &mut Budget,
    visit: &mut dyn FnMut(Event, &mut Budget),
) -> Result<(), Stop> {
    let mut reader = Reader { limits, max_member_size, budget, visit, format };
    match format {
        Format::Zip => reader.zip(bytes),
        Format::Tar => reader.tar(bytes),
        Format::Gzip => reader.gzip(bytes),
    }
}

struct Reader<'r> {
    limits: &'r Limits,
    max_member_size: u64,
    budget: &'r mut Budget,
    visit: &'r mut dyn FnMut(Event, &mut Budget),
    format: Format,
}

impl Reader<'_> {
    fn malformed(&self, error: impl ToString) -> Stop {
        Stop::Malformed { format: self.format.name(), detail: error.to_string() }
    }

    fn zip(&mut self, bytes: &[u8]) -> Result<(), Stop> {
        let mut archive = zip::ZipArchive::new(Cursor::new(bytes)).map_err(|e| self.malformed(e))?;
        for index in 0..archive.len() {
            let name = archive.name_for_index(index).unwrap_or_default().to_string();
            let mut file = match archive.by_index(index) {
                Ok(file) => file,
                Err(zip::result::ZipError::UnsupportedArchive(reason)) => {
                    (self.visit)(Event::Unsupported { name: &name, reason: reason.to_string() }, self.budget);
                    continue;
                }
                Err(error) => return Err(self.malformed(error)),
            };
            if !file.is_file() {
                continue;
            }
            let ratio_cap = ratio_cap(file.compressed_size(), self.limits.max_ratio);
            self.member(&name, Some(file.size()), ratio_cap, &mut file)?;
        }
        Ok(())
    }

    fn tar(&mut self, stream: impl Read) -> Result<(), Stop> {
        let mut archive = tar::Archive::new(stream);
        let entries = archive.entries().map_err(|e| self.malformed(e))?;
        for entry in entries {
            let mut entry = entry.map_err(|e| self.malformed(e))?;
            if !entry.header().entry_type().is_file() {
                continue;
            }
            let name = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
            let size = entry.size();
            self.member(&name, Some(size), u64::MAX, &mut entry)?;
        }
        Ok(())
    }

    /// A gzip stream (concatenated members read as one): a tar inside is read as a tar,
    /// anything else is one member named after the stored file name. The whole stream is
    /// capped by the byte budget and the ratio limit, so a huge member the tar reader skips
    /// is not decompressed past them either.
    fn gzip(&mut self, bytes: &[u8]) -> Result<(), Stop> {
        let ratio = ratio_cap(bytes.len() as u64, self.limits.max_ratio);
        let capped_by_ratio = ratio < self.budget.bytes;
        let cap = ratio.min(self.budget.bytes);
        let mut stream = Capped { inner: flate2::read::MultiGzDecoder::new(bytes), left: cap, hit: false };
        let mut head = Vec::with_capacity(512);
        let read_head = (&mut stream).take(512).read_to_end(&mut head);
        let name = stream.inner.header().and_then(|h| h.filename()).map(|n| String::from_utf8_lossy(n).into_owned());
        let result = match read_head {
            Err(error) => Err(self.malformed(error)),
            Ok(_) if is_tar(&head) => self.tar(Cursor::new(&head[..]).chain(&mut stream)),
            Ok(_) => self.member(
                name.as_deref().unwrap_or(""),
                None,
                u64::MAX,
                &mut Cursor::new(&head[..]).chain(&mut stream),
            ),
        };
        match result {
            Err(_) | Ok(()) if stream.hit && capped_by_ratio => {
                Err(Stop::Ratio { member: name.unwrap_or_default(), ratio: self.limits.max_ratio })
            }
            Err(_) | Ok(()) if stream.hit => Err(Stop::Bytes(self.limits.max_bytes)),
            other => other,
        }
    }

    /// Reads one member of `declared` size (if known) and hands it over, within the member
    /// size limit, the budget and `ratio_cap`.
    fn member(
        &mut self,
        name: &str,
        declared: Option<u64>,
        ratio_cap: u64,
        content: &mut dyn Read,
    ) -> Result<(), Stop> {
        if self.budget.members == 0 {
            return Err(Stop::Members(self.limits.max_members));
        }
        self.budget.members -= 1;
        if let Some(size) = declared.filter(|&size| size > self.max_member_size) {
            (self.visit)(Event::TooLarge { name, size }, self.budget);
            return Ok(());
        }
        let cap = self.max_member_size.min(self.budget.bytes).min(ratio_cap);
        let reserve = declared.unwrap_or(0).min(cap).min(MAX_RESERVE);
        let mut bytes = Vec::with_capacity(usize::try_from(reserve).unwrap_or(0));
        // A cap of `u64::MAX` (no limit) reads to the end: one byte more cannot be represented.
        if let Err(error) = content.take(cap.saturating_add(1)).read_to_end(&mut bytes) {
            // A truncated or corrupt member may still hold a key in what could be read.
            let read = bytes.len().min(usize::try_from(cap).unwrap_or(usize::MAX));
            if read > 0 {
                self.budget.bytes -= read as u64;
                (self.visit)(Event::Member { name, bytes: &bytes[..read] }, self.budget);
            }
            return Err(self.malformed(error));
        }
        let size = bytes.len() as u64;
        if size > cap {
            return Err(if cap == ratio_cap {
                Stop::Ratio { member: name.to_string(), ratio: self.limits.max_ratio }
            } else if cap == self.budget.bytes {
                Stop::Bytes(self.limits.max_bytes)
            } else {
                (self.visit)(Event::TooLarge { name, size }, self.budget);
                return Ok(());
            });
        }
        self.budget.bytes -= size;
        (self.visit)(Event::Member { name, bytes: &bytes }, self.budget);
        Ok(())
    }
}

/// Most bytes `compressed` bytes may decompress to.
fn ratio_cap(compressed: u64, max_ratio: u64) -> u64 {
    compressed.saturating_mul(max_ratio).max(RATIO_GRACE)
}

/// A reader that yields at most `left` bytes and notes whether there was more.
struct Capped<R> {
    inner: R,
    left: u64,
    hit: bool,
}

impl<R: Read> Read for Capped<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.left == 0 {
            let more = self.inner.read(&mut [0u8; 1])?;
            self.hit |= more > 0;
            return if more > 0 { Err(io::Error::other("decompression limit reached")) } else { Ok(0) };
        }
        let want = buf.len().min(usize::try_from(self.left).unwrap_or(usize::MAX));
        let read = self.inner.read(&mut buf[..want])?;
        self.left -= read as u64;
        Ok(read)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tar_of(name: &str, content: &[u8]) -> Vec<u8> {
        let mut builder = tar::Builder::new(Vec::new());
        let mut header = tar::Header::new_gnu();
        header.set_size(content.len() as u64);
        header.set_mode(0o644);
        header.set_cksum();
        builder.append_data(&mut header, name, content).unwrap();
        builder.into_inner().unwrap()
    }

    #[test]
    fn limits_of_u64_max_mean_no_limit() {
        let limits = Limits { max_bytes: u64::MAX, max_members: u64::MAX, ..Limits::default() };
        let mut budget = Budget::new(&limits);
        let mut read = Vec::new();
        let tar = tar_of("a.txt", b"the whole member");
        let result = super::read(&tar, Format::Tar, &limits, u64::MAX, &mut budget, &mut |event, _| {
            if let Event::Member { name, bytes } = event {
                read.push((name.to_string(), bytes.to_vec()));
            }
        });
        assert_eq!(result, Ok(()));
        assert_eq!(read, [("a.txt".to_string(), b"the whole member".to_vec())]);
        assert_eq!(budget.bytes, u64::MAX - 16);
    }
}
