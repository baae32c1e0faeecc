//! What a remote advertises, without cloning it: `git ls-remote --symref`, run with the
//! clone's hardening, reduced to a digest that changes when any ref, any ref's target, or the
//! branch `HEAD` names changes. A re-audit compares it with the one recorded at the last scan
//! to tell an unchanged remote without fetching anything.
//!
//! The listing is the remote's, so hostile: it is read up to [`LISTING_CAP`], checked line by
//! line (an unexpected line is an error naming its number, never quoting it), and only hashed.

use std::time::Duration;

use sha2::{Digest, Sha256};

use super::git::{run_git, Operation};
use super::RemoteUrl;
use crate::error::{Error, Result};

/// The largest ref listing read: far above the largest public repositories' (a few MiB for
/// hundreds of thousands of refs), far below a memory problem.
const LISTING_CAP: usize = 64 << 20;

/// What the error says keyhound could not do.
const DOING: &str = "list the refs of";

/// A remote's advertised refs, as a digest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Advertised {
    /// Hex SHA-256 of the normalised listing.
    digest: String,
    /// Refs named, `HEAD` included; peeled tags and symbolic-ref lines not counted.
    refs: usize,
}

impl Advertised {
    /// Hex SHA-256 of the listing, its lines sorted: equal for equal listings in any order,
    /// different when a ref is added, removed or moved, or `HEAD` names another branch.
    pub fn digest(&self) -> &str {
        &self.digest
    }

    /// How many refs the remote advertises (`HEAD` included), for a note.
    pub fn refs(&self) -> usize {
        self.refs
    }

    /// Checks and normalises a listing; an error names the first unexpected line's number.
    fn of_listing(listing: &[u8]) -> std::result::Result<Self, String> {
        let body = listing.strip_suffix(b"\n").unwrap_or(listing);
        let mut lines: Vec<&[u8]> = if body.is_empty() { Vec::new() } else { body.split(|&b| b == b'\n').collect() };
        if let Some(number) = lines.iter().position(|line| !well_formed(line)) {
            return Err(format!("unexpected line {} in the ref listing", number + 1));
        }
        lines.sort_unstable();
        let refs = lines.iter().filter(|line| !line.starts_with(b"ref: ") && !line.ends_with(b"^{}")).count();
        let mut hasher = Sha256::new();
        hasher.update(b"keyhound-advertised-v1\0");
        for line in &lines {
            hasher.update(line);
            hasher.update(b"\n");
        }
        let digest = hasher.finalize().iter().map(|b| format!("{b:02x}")).collect();
        Ok(Advertised { digest, refs })
    }
}

/// The refs `url` advertises (`git ls-remote --symref`), as a digest that changes when any
/// ref, its target, or `HEAD`'s target changes. git runs as for a clone (see the parent module)
/// and is killed after `timeout`; errors are the clone's plain ones ("could not list the refs
/// of URL: repository not found"), credentials redacted.
pub fn advertised(url: &RemoteUrl, timeout: Duration) -> Result<Advertised> {
    let operation =
        Operation { doing: DOING, args: &["ls-remote", "--symref"], after: None, keep_stdout: Some(LISTING_CAP) };
    let listing = run_git(url, &operation, timeout)?;
    Advertised::of_listing(&listing).map_err(|reason| Error::Remote {
        doing: DOING,
        url: url.shown().to_string(),
        reason,
    })
}

/// `OBJECT-ID TAB NAME` or `ref: TARGET TAB NAME`, names free of control characters.
fn well_formed(line: &[u8]) -> bool {
    let Some(tab) = memchr::memchr(b'\t', line) else { return false };
    let (target, name) = (&line[..tab], &line[tab + 1..]);
    let target_ok = match target.strip_prefix(b"ref: ") {
        Some(symref) => is_ref_name(symref),
        None => is_object_id(target),
    };
    target_ok && is_ref_name(name)
}

fn is_ref_name(name: &[u8]) -> bool {
    !name.is_empty() && !name.iter().any(u8::is_ascii_control)
}

/// Lowercase hex, SHA-1 or SHA-256 long.
fn is_object_id(text: &[u8]) -> bool {
    matches!(text.len(), 40 | 64) && text.iter().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(b))
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: &str = "1111111111111111111111111111111111111111";
    const B: &str = "2222222222222222222222222222222222222222";

    fn of(listing: &str) -> Advertised {
        Advertised::of_listing(listing.as_bytes()).unwrap()
    }

    #[test]
    fn the_order_of_the_listing_does_not_matter() {
        let listing = format!(
            "ref: refs/heads/main\tHEAD\n{A}\tHEAD\n{A}\trefs/heads/main\n{B}\trefs/tags/v1\n{A}\trefs/tags/v1^{{}}\n"
        );
        let mut reversed: Vec<&str> = listing.lines().collect();
        reversed.reverse();
        let advertised = of(&listing);
        assert_eq!(advertised, of(&reversed.join("\n")));
        assert_eq!(advertised.refs(), 3, "HEAD, main and v1");
        assert_eq!(advertised.digest().len(), 64);
        assert!(advertised.digest().bytes().all(|b| b.is_ascii_hexdigit()));
    }

    #[test]
    fn a_moved_ref_a_new_ref_or_head_elsewhere_changes_the_digest() {
        let base = of(&format!("ref: refs/heads/main\tHEAD\n{A}\tHEAD\n{A}\trefs/heads/main\n{A}\trefs/heads/dev\n"));
        let changed = [
            format!("ref: refs/heads/main\tHEAD\n{A}\tHEAD\n{A}\trefs/heads/main\n{B}\trefs/heads/dev\n"),
            format!(
                "ref: refs/heads/main\tHEAD\n{A}\tHEAD\n{A}\trefs/heads/main\n{A}\trefs/heads/dev\n{A}\trefs/tags/t\n"
            ),
            format!("ref: refs/heads/dev\tHEAD\n{A}\tHEAD\n{A}\trefs/heads/main\n{A}\trefs/heads/dev\n"),
            format!("{A}\tHEAD\n{A}\trefs/heads/main\n{A}\trefs/heads/dev\n"),
        ];
        for listing in changed {
            assert_ne!(of(&listing).digest(), base.digest(), "{listing}");
        }
    }

    #[test]
    fn an_empty_remote_has_a_digest_too() {
        assert_eq!(of("").refs(), 0);
        assert_eq!(of(""), of("\n"));
    }

    #[test]
    fn a_malformed_line_is_an_error_naming_it_without_quoting_it() {
        let short = format!("{A}\tHEAD\n{}\trefs/heads/x\n", &B[..39]);
        let cases = [
            short.as_str(),
            "garbage\n",
            "\n\n",
            "ref: \tHEAD\n",
            "1111111111111111111111111111111111111111 refs/heads/x\n",
            "1111111111111111111111111111111111111111\trefs/heads/\x1b[2Jx\n",
            "1111111111111111111111111111111111111111\t\n",
            "111111111111111111111111111111111111111G\tHEAD\n",
        ];
        for listing in cases {
            let error = Advertised::of_listing(listing.as_bytes()).unwrap_err();
            assert!(error.starts_with("unexpected line "), "{listing:?}: {error}");
            assert!(!error.contains("refs/") && !error.contains("garbage"), "{error}");
        }
        assert!(Advertised::of_listing(short.as_bytes()).unwrap_err().contains("line 2"));
    }
}
