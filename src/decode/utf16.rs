//! UTF-16 text (as Windows tools write it): detection and transcoding to UTF-8.
//!
//! A byte-order mark decides the byte order. Without one, the first [`SAMPLE`] bytes decide.
//! Their NUL bytes must fall as UTF-16 puts them, as the zero half of Latin-1 units (line
//! breaks, spaces, keys) and hardly ever as the other half: that picks the byte order, and
//! tells UTF-16 apart from binary files, whose NULs fall on both sides, and from text in
//! one-byte encodings (two ASCII letters read as one unit make a CJK ideograph). Then nearly
//! every code unit must be plausible text in that order: a character of a living script's
//! block (Latin, Greek, Cyrillic, Hebrew, Arabic, Indic, Thai, CJK, Hangul, kana), common
//! punctuation and symbols, or half of a valid surrogate pair, as emoji are. A sample without
//! a NUL (a CJK run longer than the sample, without one ASCII character) is not detected.
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

/// Detection without a byte-order mark: at least 8 code units, NULs that fall as in UTF-16
/// text in a byte order (see [`nuls_fit`]), and 90% of the units plausible text in that order.
/// Binary files, whose NULs fall on both sides, are turned away by one pass counting NULs;
/// units are read only in a byte order the NULs fit, and that stops as soon as it cannot
/// reach 90%.
fn guess(sample: &[u8]) -> Option<Endian> {
    if sample.len() / 2 < 8 || memchr::memchr(0, sample).is_none() {
        return None;
    }
    let (little, big) = nuls_fit(sample);
    let candidates = [(little, Endian::Little), (big, Endian::Big)];
    candidates.into_iter().filter(|&(fits, _)| fits).map(|(_, endian)| endian).find(|&endian| is_text(sample, endian))
}

/// Whether the NULs of `sample` fall as UTF-16 text puts them, reading it little- and
/// big-endian: more than twice as many units U+0001 to U+00FF (whose high byte is the NUL) as
/// units with a zero low byte. Those are rare in text, but for the ideographic space and 一
/// ("one"), common in CJK text. Read in the other byte order the two counts swap, so mostly
/// one order fits.
fn nuls_fit(sample: &[u8]) -> (bool, bool) {
    let (mut little, mut big) = ((0, 0), (0, 0));
    for pair in sample.chunks_exact(2) {
        let (first, second) = (pair[0], pair[1]);
        let cjk = |high: u8| high == 0x30 || high == 0x4E;
        little.0 += usize::from(first != 0 && second == 0);
        little.1 += usize::from(first == 0 && !cjk(second));
        big.0 += usize::from(second != 0 && first == 0);
        big.1 += usize::from(second == 0 && !cjk(first));
    }
    let fits = |(latin, zero_low): (usize, usize)| zero_low * 2 < latin;
    (fits(little), fits(big))
}

/// Whether 90% of the code units of `sample`, read in `endian` order, are plausible text.
fn is_text(sample: &[u8], endian: Endian) -> bool {
    let units = sample.len() / 2;
    let allowed_misses = units - (units * 9).div_ceil(10);
    let mut reading = Reading::default();
    for pair in sample.chunks_exact(2) {
        reading.read(match endian {
            Endian::Little => u16::from_le_bytes([pair[0], pair[1]]),
            Endian::Big => u16::from_be_bytes([pair[0], pair[1]]),
        });
        if reading.misses > allowed_misses {
            return false;
        }
    }
    true
}

/// A sample read as code units in one byte order.
#[derive(Debug, Default)]
struct Reading {
    /// Units that are not plausible text.
    misses: usize,
    /// The previous unit was a high surrogate, waiting for its low half.
    high_surrogate: bool,
}

impl Reading {
    fn read(&mut self, unit: u16) {
        let paired = std::mem::take(&mut self.high_surrogate);
        match unit {
            0xD800..=0xDBFF => {
                self.misses += usize::from(paired);
                self.high_surrogate = true;
            }
            0xDC00..=0xDFFF => self.misses += usize::from(!paired),
            _ => self.misses += usize::from(paired) + usize::from(!is_text_unit(unit)),
        }
    }
}

/// Whether `unit` (not a surrogate) is a character text is commonly written in.
fn is_text_unit(unit: u16) -> bool {
    matches!(
        unit,
        0x09 | 0x0A | 0x0C | 0x0D | 0x20..=0x7E
            | 0xA0..=0x06FF // Latin-1 and Extended, IPA, combining marks, Greek, Cyrillic, Hebrew, Arabic
            | 0x0900..=0x0E7F // Indic scripts, Sinhala, Thai
            | 0x1100..=0x11FF // Hangul jamo
            | 0x1E00..=0x1FFF // Latin Extended Additional (Vietnamese), Greek Extended
            | 0x2000..=0x2BFF // punctuation, currency, letterlike, arrows, maths, box drawing
            | 0x3000..=0x33FF // CJK punctuation, kana, bopomofo, Hangul compatibility jamo
            | 0x3400..=0x4DBF | 0x4E00..=0x9FFF | 0xF900..=0xFAFF // CJK ideographs
            | 0xAC00..=0xD7A3 // Hangul syllables
            | 0xFF00..=0xFFEF // full- and half-width forms
    )
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
    fn text_in_other_scripts_is_detected_without_bom() {
        let texts = [
            "// 配置文件：请勿提交到版本库。生产环境的密钥由运维团队统一管理，本地开发请使用测试密钥。\r\nKEY=value\r\n",
            "配置文件：请勿提交到版本库。\n生产环境的密钥不要写在这里。\n",
            "# Настройки сервиса. Не публикуйте этот файл и не храните ключи в репозитории.\nKEY=value\n",
            "// Ρυθμίσεις της υπηρεσίας: μην δημοσιεύετε αυτό το αρχείο.\nKEY=value\n",
            "# 🔑🔒🚀 секреты 🔑🔒🚀 秘密 🔑🔒🚀 비밀 설정 파일입니다 🔑🔒🚀\nKEY=value\n",
            "\u{3000}\u{3000}これは説明です。一つの設定ファイルを公開しないでください。\n",
        ];
        for text in texts {
            for endian in [Endian::Little, Endian::Big] {
                let bytes = utf16(text, endian, false);
                assert_eq!(detect(&bytes), Some(endian), "{endian:?}: {text}");
                assert_eq!(transcode(&bytes, endian), text.as_bytes());
            }
        }
    }

    /// `len` bytes from a fixed-seed generator.
    fn noise(len: usize) -> Vec<u8> {
        let mut state = 0x2545_F491_4F6C_DD1D_u64;
        (0..len)
            .map(|_| {
                state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                (state >> 56) as u8
            })
            .collect()
    }

    #[test]
    fn binary_files_and_utf8_text_are_not_utf16() {
        let random = noise(4096);
        assert!(random[..SAMPLE].contains(&0), "the sample holds a NUL, so the units are judged");
        let png = [b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\x01\0\0\0\x01\0\x08\x06\0\0\0".as_slice(), &random].concat();
        let elf = [b"\x7fELF\x02\x01\x01\0\0\0\0\0\0\0\0\0\x03\0\x3e\0\x01\0\0\0".as_slice(), &random].concat();
        let utf8 = "// 配置文件：请勿提交到版本库。生产环境的密钥由运维团队统一管理。\0\n".repeat(20);
        // Two ASCII letters read as one unit are a CJK ideograph; the NULs fall on both sides.
        let symbols = "XFixesSelectCursorInput\0XFixesGetCursorImage\0XFixesSetCursorName\0".repeat(20);
        let cases = [
            ("random", &random[..]),
            ("png", &png[..]),
            ("elf", &elf[..]),
            ("utf-8", utf8.as_bytes()),
            ("symbols", symbols.as_bytes()),
        ];
        for (name, bytes) in cases {
            assert_eq!(detect(bytes), None, "{name}");
        }
        // Every offset of the noise, as any slice of a binary file may be a member or a blob.
        for start in (0..random.len() - SAMPLE).step_by(7) {
            assert_eq!(detect(&random[start..]), None, "noise from {start}");
        }
    }

    #[test]
    fn unpaired_surrogates_and_odd_tails_do_not_fail() {
        let bytes = [b'a', 0, 0x00, 0xD8, b'b', 0, 0x7F];
        assert_eq!(transcode(&bytes, Endian::Little), "a\u{FFFD}b".as_bytes());
    }
}
