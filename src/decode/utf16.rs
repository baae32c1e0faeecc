//! UTF-16 text (as Windows tools write it): detection and transcoding to UTF-8.
//!
//! A byte-order mark decides the byte order. Without one, a file is UTF-16 when nearly every
//! code unit of its first [`SAMPLE`] bytes is a character below U+0100 other than NUL, with
//! its zero byte on the same side: keys are ASCII, and ASCII in UTF-16 looks like that. Text
//! in other scripts without a BOM is not detected, which costs nothing for ASCII keys.
//!
//! Transcoding keeps every line break, so line numbers and character columns in the UTF-8
//! text are those of the UTF-16 file.

/// Bytes looked at when there is no byte-order mark.
pub const SAMPLE: usize = 1024;

/// Byte order of UTF-16 text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Endian {
    /// Little-endian (`FF FE`), what Windows writes.
    Little,
    /// Big-endian (`FE FF`).
    Big,
}

/// The byte order of `bytes` if they are UTF-16 text.
pub fn detect(bytes: &[u8]) -> Option<Endian> {
    match bytes {
        // FF FE 00 00 is UTF-32LE's mark, not UTF-16's.
        [0xFF, 0xFE, 0, 0, ..] => None,
        [0xFF, 0xFE, ..] => Some(Endian::Little),
        [0xFE, 0xFF, ..] => Some(Endian::Big),
        _ => guess(&bytes[..bytes.len().min(SAMPLE) & !1]),
    }
}

/// Detection without a byte-order mark: at least 8 code units, 90% of them ASCII-like. Stops
/// as soon as neither byte order can reach 90% (binary files, which hold NULs, fail within a
/// few units).
fn guess(sample: &[u8]) -> Option<Endian> {
    let units = sample.len() / 2;
    if units < 8 || memchr::memchr(0, sample).is_none() {
        return None;
    }
    let allowed_misses = units - (units * 9).div_ceil(10);
    let (mut little_misses, mut big_misses) = (0, 0);
    for pair in sample.chunks_exact(2) {
        match (pair[0], pair[1]) {
            (low, 0) if low != 0 => big_misses += 1,
            (0, low) if low != 0 => little_misses += 1,
            _ => (little_misses, big_misses) = (little_misses + 1, big_misses + 1),
        }
        if little_misses > allowed_misses && big_misses > allowed_misses {
            return None;
        }
    }
    if little_misses <= allowed_misses {
        Some(Endian::Little)
    } else if big_misses <= allowed_misses {
        Some(Endian::Big)
    } else {
        None
    }
}

/// `bytes` as UTF-8, without the byte-order mark. Unpaired surrogates become U+FFFD and a
/// trailing odd byte is dropped.
pub fn transcode(bytes: &[u8], endian: Endian) -> Vec<u8> {
    let body = match (bytes, endian) {
        ([0xFF, 0xFE, rest @ ..], Endian::Little) | ([0xFE, 0xFF, rest @ ..], Endian::Big) => rest,
        _ => bytes,
    };
    let units = body.chunks_exact(2).map(|pair| match endian {
        Endian::Little => u16::from_le_bytes([pair[0], pair[1]]),
        Endian::Big => u16::from_be_bytes([pair[0], pair[1]]),
    });
    let mut text = String::with_capacity(body.len() / 2);
    text.extend(char::decode_utf16(units).map(|unit| unit.unwrap_or(char::REPLACEMENT_CHARACTER)));
    text.into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utf16(text: &str, endian: Endian, bom: bool) -> Vec<u8> {
        let mut out = Vec::new();
        let units = bom.then_some(0xFEFF).into_iter().chain(text.encode_utf16());
        for unit in units {
            out.extend(match endian {
                Endian::Little => unit.to_le_bytes(),
                Endian::Big => unit.to_be_bytes(),
            });
        }
        out
    }

    #[test]
    fn both_byte_orders_with_and_without_bom_round_trip() {
        let text = "line one\r\nKEY=value é 🔑\nend";
        for endian in [Endian::Little, Endian::Big] {
            for bom in [true, false] {
                let bytes = utf16(text, endian, bom);
                assert_eq!(detect(&bytes), Some(endian), "{endian:?} bom={bom}");
                assert_eq!(transcode(&bytes, endian), text.as_bytes());
            }
        }
    }

    #[test]
    fn ninety_percent_ascii_like_units_decide() {
        // 20 units, `hits` of them "a\0" (or "\0a"), the others "\0\0".
        let sample = |hits: usize, endian: Endian| -> Vec<u8> {
            let unit: [u8; 2] = if endian == Endian::Little { [b'a', 0] } else { [0, b'a'] };
            (0..20).flat_map(|i| if i < 20 - hits { [0, 0] } else { unit }).collect()
        };
        for endian in [Endian::Little, Endian::Big] {
            assert_eq!(detect(&sample(18, endian)), Some(endian));
            assert_eq!(detect(&sample(17, endian)), None);
        }
    }

    #[test]
    fn ascii_binary_and_utf32_are_not_utf16() {
        assert_eq!(detect(b"plain ascii text, long enough to sample"), None);
        assert_eq!(detect(&[0u8; 64]), None);
        assert_eq!(detect(&[0xFF, 0xFE, 0, 0, b'a', 0, 0, 0]), None);
        let mut mixed = utf16("some text here", Endian::Little, false);
        mixed.extend([0x89, 0x50, 0x4E, 0x47, 0x00, 0x00, 0x01, 0x02].repeat(4));
        assert_eq!(detect(&mixed), None);
    }

    #[test]
    fn unpaired_surrogates_and_odd_tails_do_not_fail() {
        let bytes = [b'a', 0, 0x00, 0xD8, b'b', 0, 0x7F];
        assert_eq!(transcode(&bytes, Endian::Little), "a\u{FFFD}b".as_bytes());
    }
}
