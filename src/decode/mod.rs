//! Text hidden in an encoding: base64 runs, percent-encoded runs and UTF-16 files, decoded to
//! bytes the matcher can read. Pure functions from bytes to decoded texts; nothing of paths,
//! rules or output.

pub mod base64;
pub mod percent;
pub mod utf16;

use std::ops::Range;

/// Most layers of encoding undone around one secret: base64 inside base64 inside a UTF-16
/// file, say. Each layer at most shrinks the text by a quarter, so this also bounds the work.
pub const MAX_DEPTH: usize = 3;

/// Most bytes decoded from base64 and percent-encoded runs in one file or archive member,
/// over all layers.
pub const DECODE_BUDGET: usize = 8 << 20;

/// An encoding that text was found under.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    /// Base64 or base64url.
    Base64,
    /// Percent-encoding (`%22`), as in URLs and form bodies.
    Percent,
    /// UTF-16, little-endian.
    Utf16Le,
    /// UTF-16, big-endian.
    Utf16Be,
}

impl Encoding {
    /// The name shown in reports.
    pub fn name(self) -> &'static str {
        match self {
            Encoding::Base64 => "base64",
            Encoding::Percent => "percent",
            Encoding::Utf16Le => "utf-16le",
            Encoding::Utf16Be => "utf-16be",
        }
    }

    /// Whether the decoded text is the whole encoded text in another encoding (UTF-16), not
    /// a run decoded out of it: a secret in it is placed on the whole span.
    pub fn is_transcoding(self) -> bool {
        matches!(self, Encoding::Utf16Le | Encoding::Utf16Be)
    }
}

/// Text decoded from part of a blob.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decoded {
    /// How it was encoded.
    pub encoding: Encoding,
    /// Where the encoded form lies in the blob (all of it, for UTF-16).
    pub span: Range<usize>,
    /// The decoded bytes.
    pub text: Vec<u8>,
}

/// Bytes looked at for a NUL to tell binary blobs from text (as git and ripgrep do).
pub const BINARY_SAMPLE: usize = 8 << 10;

/// The whole of `bytes` transcoded, if it is UTF-16 text.
pub fn utf16_layer(bytes: &[u8]) -> Option<Decoded> {
    let endian = utf16::detect(bytes)?;
    let encoding = match endian {
        utf16::Endian::Little => Encoding::Utf16Le,
        utf16::Endian::Big => Encoding::Utf16Be,
    };
    Some(Decoded { encoding, span: 0..bytes.len(), text: utf16::transcode(bytes, endian) })
}

/// Whether `bytes` is binary: a NUL in its first [`BINARY_SAMPLE`] bytes. Binary blobs
/// (executables, `.pyc`, images) cost most to search for base64 and hold least.
pub fn is_binary(bytes: &[u8]) -> bool {
    memchr::memchr(0, &bytes[..bytes.len().min(BINARY_SAMPLE)]).is_some()
}

/// The base64 runs of `bytes` that decode to text, decoded. Output is charged to `budget`;
/// the second value is true when the budget ran out and runs were left undecoded.
pub fn base64_layer(bytes: &[u8], budget: &mut usize) -> (Vec<Decoded>, bool) {
    let runs = base64::text_runs(bytes).map(|span| (span.len() / 4 * 3 + 2, span));
    decode_runs(bytes, runs, Encoding::Base64, base64::decode, budget)
}

/// The percent-encoded runs of `bytes` (see [`percent::runs`]), decoded, charged to `budget`
/// like [`base64_layer`].
pub fn percent_layer(bytes: &[u8], budget: &mut usize) -> (Vec<Decoded>, bool) {
    let runs = percent::runs(bytes).map(|span| (span.len(), span));
    decode_runs(bytes, runs, Encoding::Percent, percent::decode, budget)
}

/// Decodes each of `runs` (the most bytes it may decode to, and its span) while `budget`
/// lasts; true when it ran out.
fn decode_runs(
    bytes: &[u8],
    runs: impl Iterator<Item = (usize, Range<usize>)>,
    encoding: Encoding,
    decode: fn(&[u8], &mut Vec<u8>),
    budget: &mut usize,
) -> (Vec<Decoded>, bool) {
    let mut found = Vec::new();
    for (needed, span) in runs {
        if needed > *budget {
            return (found, true);
        }
        let mut text = Vec::with_capacity(needed);
        decode(&bytes[span.clone()], &mut text);
        *budget -= text.len();
        found.push(Decoded { encoding, span, text });
    }
    (found, false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_runs_are_decoded_with_their_spans() {
        let text = b"token: aGVsbG8gd29ybGQsIHRoaXMgaXMgYSBzZWNyZXQgdmFsdWU=\n";
        let mut budget = DECODE_BUDGET;
        let (found, exhausted) = base64_layer(text, &mut budget);
        assert!(!exhausted);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].text, b"hello world, this is a secret value");
        assert_eq!(&text[found[0].span.clone()], &text[7..text.len() - 1]);
        assert_eq!(budget, DECODE_BUDGET - found[0].text.len());
    }

    #[test]
    fn budget_stops_decoding() {
        let text = b"aGVsbG8gd29ybGQsIHRoaXMgaXMgYSBzZWNyZXQgdmFsdWU=";
        let mut budget = 8;
        let (found, exhausted) = base64_layer(text, &mut budget);
        assert!(found.is_empty() && exhausted);
    }

    #[test]
    fn percent_runs_are_decoded_with_their_spans_and_charged() {
        let text = b"GET /hook?key%3Dsecret-value%26x=1 302\n";
        let mut budget = DECODE_BUDGET;
        let (found, exhausted) = percent_layer(text, &mut budget);
        assert!(!exhausted);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].text, b"/hook?key=secret-value&x=1");
        assert_eq!(&text[found[0].span.clone()], b"/hook?key%3Dsecret-value%26x=1");
        assert_eq!(budget, DECODE_BUDGET - found[0].text.len());
        let mut small = 8;
        assert_eq!(percent_layer(text, &mut small), (Vec::new(), true));
    }

    #[test]
    fn binary_blobs_are_told_by_a_nul() {
        let mut text = b"\0\x01binary header ".to_vec();
        text.extend_from_slice(b"aGVsbG8gd29ybGQsIHRoaXMgaXMgYSBzZWNyZXQgdmFsdWU=");
        assert!(is_binary(&text));
        assert!(!is_binary(b"aGVsbG8gd29ybGQsIHRoaXMgaXMgYSBzZWNyZXQgdmFsdWU="));
    }

    #[test]
    fn utf16_is_transcoded_whole() {
        let bytes: Vec<u8> = "key = value\n".encode_utf16().flat_map(u16::to_le_bytes).collect();
        let text = b"key = value\n".to_vec();
        assert_eq!(utf16_layer(&bytes), Some(Decoded { encoding: Encoding::Utf16Le, span: 0..bytes.len(), text }));
        assert_eq!(utf16_layer(b"plain text, no zero bytes"), None);
    }
}
