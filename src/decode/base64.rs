//! Base64 and base64url runs in text: where they are, whether they hold text, and what they
//! decode to.
//!
//! A run is at least [`MIN_RUN`] characters of either alphabet (decoded alike: `-` as `+`,
//! `_` as `/`), optionally ended by `=` padding. A run that fills its line, with a length
//! that is a multiple of four, goes on over the next line when that line holds nothing but
//! base64 (PEM and MIME wrap at 64 and 76 characters; `base64` without `-w0` at 76).
//!
//! Most base64 in code is images, hashes and long identifiers. [`text_runs`] decodes only the
//! first [`PROBE_CHARS`] characters of a run and keeps it only if they decode to text, so
//! those cost a few dozen bytes of decoding each. Runs are found block by block: a run of
//! [`MIN_RUN`] characters covers a whole aligned block of [`BLOCK`] bytes, so only blocks made
//! entirely of base64 characters are looked at closely, and telling those apart is a few
//! vector comparisons per block (the compiler vectorises [`is_base64_block`]), or one table
//! lookup per four blocks where the CPU has AVX-512 VBMI.

use std::ops::Range;

/// Shortest run decoded: 32 characters hold 24 bytes, shorter than any key worth finding.
pub const MIN_RUN: usize = 32;

/// Characters decoded to decide whether a run holds text.
pub const PROBE_CHARS: usize = 64;

const INVALID: u8 = 0xFF;

/// The 6-bit value of each base64 or base64url character, or [`INVALID`].
static VALUES: [u8; 256] = {
    let mut table = [INVALID; 256];
    let mut i = 0;
    while i < 26 {
        table[b'A' as usize + i] = i as u8;
        table[b'a' as usize + i] = 26 + i as u8;
        i += 1;
    }
    let mut d = 0;
    while d < 10 {
        table[b'0' as usize + d] = 52 + d as u8;
        d += 1;
    }
    table[b'+' as usize] = 62;
    table[b'-' as usize] = 62;
    table[b'/' as usize] = 63;
    table[b'_' as usize] = 63;
    table
};

fn is_base64(byte: u8) -> bool {
    VALUES[byte as usize] != INVALID
}

/// [`is_base64`] as range checks instead of a table lookup: slower alone, but a loop over a
/// block of bytes compiles to vector instructions. A test keeps the two in agreement.
fn is_base64_by_ranges(byte: u8) -> bool {
    ((byte | 0x20).wrapping_sub(b'a') < 26)
        | (byte.wrapping_sub(b'0') < 10)
        | (byte == b'+')
        | (byte == b'/')
        | (byte == b'-')
        | (byte == b'_')
}

/// Bytes classified at a time while looking for runs. Any run of [`MIN_RUN`] characters
/// covers an aligned block this long.
const BLOCK: usize = MIN_RUN / 2;

/// Whether every byte of `block` is a base64 or base64url character. No early exit, so the
/// compiler turns it into a handful of vector instructions.
fn is_base64_block(block: &[u8; BLOCK]) -> bool {
    block.iter().fold(true, |all, &b| all & is_base64_by_ranges(b))
}

/// How blocks are classified: with AVX-512 VBMI where the CPU has it, else in plain Rust.
#[derive(Debug, Clone, Copy)]
enum BlockSearch {
    Portable,
    #[cfg(target_arch = "x86_64")]
    Vbmi(crate::simd::Vbmi),
}

impl BlockSearch {
    /// The fastest block search this CPU runs.
    fn fastest() -> Self {
        #[cfg(target_arch = "x86_64")]
        if let Some(vbmi) = crate::simd::Vbmi::detect() {
            return BlockSearch::Vbmi(vbmi);
        }
        BlockSearch::Portable
    }

    /// The start of the first block of `text` made only of base64 characters, looking at the
    /// blocks from `from` (a multiple of [`BLOCK`]) on.
    fn first_base64_block(self, text: &[u8], from: usize) -> Option<usize> {
        match self {
            BlockSearch::Portable => first_base64_block_portable(text, from),
            // SAFETY: the token `vbmi` proves the CPU has the features the search enables.
            #[cfg(target_arch = "x86_64")]
            BlockSearch::Vbmi(vbmi) => unsafe { avx512::first_base64_block(vbmi, text, from) },
        }
    }
}

/// [`BlockSearch::first_base64_block`] a block at a time, in plain Rust.
fn first_base64_block_portable(text: &[u8], from: usize) -> Option<usize> {
    let mut blocks = text.get(from..)?.chunks_exact(BLOCK);
    Some(from + blocks.position(|block| is_base64_block(block.try_into().expect("BLOCK bytes")))? * BLOCK)
}

/// The block search with AVX-512 VBMI: 64 bytes (four blocks) classified by one table lookup,
/// three times as fast as the compiler's 16-byte vectors.
#[cfg(target_arch = "x86_64")]
mod avx512 {
    use std::arch::x86_64::{_mm512_mask_test_epi8_mask, _mm512_movepi8_mask};

    use super::{first_base64_block_portable, BLOCK, INVALID, VALUES};
    use crate::simd::{self, ByteTable, Vbmi};

    /// Bytes classified at a time.
    const CHUNK: usize = 64;

    /// `0xff` for each base64 character below 0x80, else 0.
    static IS_BASE64: [u8; 128] = {
        let mut table = [0; 128];
        let mut byte = 0;
        while byte < 128 {
            if VALUES[byte] != INVALID {
                table[byte] = 0xff;
            }
            byte += 1;
        }
        table
    };

    /// [`super::BlockSearch::first_base64_block`], four blocks at a time. Takes the token that
    /// proves the CPU can run it.
    #[target_feature(enable = "avx512f,avx512bw,avx512vbmi")]
    pub(super) fn first_base64_block(_: Vbmi, text: &[u8], mut from: usize) -> Option<usize> {
        let is_base64 = ByteTable::load(&IS_BASE64);
        while let Some(chunk) = text.get(from..).and_then(<[u8]>::first_chunk::<CHUNK>) {
            let bytes = simd::load(chunk);
            let looked_up = is_base64.look_up(bytes);
            // The table is looked up by seven bits: bytes from 0x80 on are masked out.
            let base64 = _mm512_mask_test_epi8_mask(!_mm512_movepi8_mask(bytes), looked_up, looked_up);
            if let Some(block) = (0..CHUNK / BLOCK).find(|block| (base64 >> (block * BLOCK)) as u16 == u16::MAX) {
                return Some(from + block * BLOCK);
            }
            from += CHUNK;
        }
        first_base64_block_portable(text, from)
    }
}

/// The base64 runs of `text` whose first characters decode to text (see [`looks_like_text`]),
/// in order. A run that fails is retried once after a leading path or identifier part
/// (`/api/v1/c2stcHJv…` → `c2stcHJv…`).
pub fn text_runs(text: &[u8]) -> impl Iterator<Item = Range<usize>> + '_ {
    runs(text).filter_map(|run| {
        if looks_like_text(&text[run.clone()]) {
            return Some(run);
        }
        let head = &text[run.start..run.end.min(run.start + 16)];
        let cut = head.iter().rposition(|b| matches!(b, b'/' | b'+' | b'-' | b'_'))?;
        let retry = run.start + cut + 1..run.end;
        (retry.len() >= MIN_RUN && looks_like_text(&text[retry.clone()])).then_some(retry)
    })
}

/// Every base64 run of `text` at least [`MIN_RUN`] characters long, in order.
pub fn runs(text: &[u8]) -> Runs<'_> {
    Runs { text, next: 0, blocks: BlockSearch::fastest() }
}

/// Iterator returned by [`runs`].
pub struct Runs<'t> {
    text: &'t [u8],
    /// Where the search goes on; the byte before it is never part of a run.
    next: usize,
    blocks: BlockSearch,
}

impl Iterator for Runs<'_> {
    type Item = Range<usize>;

    fn next(&mut self) -> Option<Range<usize>> {
        let text = self.text;
        let mut from = self.next;
        loop {
            let block = self.blocks.first_base64_block(text, from.next_multiple_of(BLOCK))?;
            let start = from + text[from..block].iter().rposition(|&b| !is_base64(b)).map_or(0, |i| i + 1);
            let after = block + BLOCK;
            let end = after + text[after..].iter().position(|&b| !is_base64(b)).unwrap_or(text.len() - after);
            if end - start < MIN_RUN {
                from = end + 1;
                continue;
            }
            let end = extend(text, start, end);
            self.next = end;
            return Some(start..end);
        }
    }
}

/// Extends the run `start..end` over its padding and over wrapped lines.
fn extend(text: &[u8], mut segment_start: usize, mut end: usize) -> usize {
    loop {
        let padding = text[end..].iter().take(2).take_while(|&&b| b == b'=').count();
        if padding > 0 || !(end - segment_start).is_multiple_of(4) {
            return end + padding;
        }
        let Some((next_start, next_end, next_padding)) = wrapped_line(text, end) else { return end };
        if next_padding > 0 || (next_end - next_start) % 4 != 0 {
            return next_end + next_padding;
        }
        (segment_start, end) = (next_start, next_end);
    }
}

/// If a line break follows `end` and the next line (indentation aside) is all base64 with at
/// most two `=`, that line's base64 part and padding length.
fn wrapped_line(text: &[u8], end: usize) -> Option<(usize, usize, usize)> {
    let after_break = match text.get(end..)? {
        [b'\n', ..] => end + 1,
        [b'\r', b'\n', ..] => end + 2,
        _ => return None,
    };
    let start = after_break + text[after_break..].iter().take_while(|&&b| b == b' ' || b == b'\t').count();
    let line_end = memchr::memchr(b'\n', &text[start..]).map_or(text.len(), |i| start + i);
    let line = text[start..line_end].strip_suffix(b"\r").unwrap_or(&text[start..line_end]);
    let body = line.iter().take_while(|&&b| is_base64(b)).count();
    let padding = line.len() - body;
    let valid = body > 0 && padding <= 2 && line[body..].iter().all(|&b| b == b'=');
    valid.then_some((start, start + body, padding))
}

/// The standard base64 encoding of `bytes`, with padding.
pub fn encode(bytes: &[u8]) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let group = chunk.iter().enumerate().fold(0u32, |acc, (i, &b)| acc | u32::from(b) << (16 - 8 * i));
        for i in 0..=chunk.len() {
            out.push(char::from(ALPHABET[(group >> (18 - 6 * i) & 63) as usize]));
        }
        out.extend(std::iter::repeat_n('=', 3 - chunk.len()));
    }
    out
}

/// Whether the first [`PROBE_CHARS`] characters of `run` decode to printable ASCII (at least
/// 90%) or to UTF-16 text (PowerShell's `-EncodedCommand`). The first group of four is
/// checked alone first: it rejects nearly every image, hash and identifier.
pub fn looks_like_text(run: &[u8]) -> bool {
    let printable = |b: &u8| matches!(b, b' '..=b'~' | b'\t' | b'\n' | b'\r');
    let mut probe = [0u8; PROBE_CHARS * 3 / 4];
    let first = decode_into(&run[..run.len().min(4)], &mut probe);
    if !probe[..first].iter().all(|b| printable(b) || *b == 0) {
        return false;
    }
    let len = decode_into(run, &mut probe);
    let probe = &probe[..len];
    let text = probe.iter().filter(|b| printable(b)).count();
    (!probe.is_empty() && text * 10 >= probe.len() * 9) || super::utf16::detect(probe).is_some()
}

/// Decodes the start of `run` into `out` until it is full; returns the bytes written.
fn decode_into(run: &[u8], out: &mut [u8]) -> usize {
    let mut written = 0;
    for_each_byte(run, |byte| {
        out[written] = byte;
        written += 1;
        written < out.len()
    });
    written
}

/// Appends the bytes `run` encodes to `out`. Line breaks and indentation inside the run are
/// skipped, `=` ends it, and a final lone character (6 bits, less than a byte) is dropped.
pub fn decode(run: &[u8], out: &mut Vec<u8>) {
    for_each_byte(run, |byte| {
        out.push(byte);
        true
    });
}

/// Calls `emit` with each decoded byte of `run` while it returns true.
fn for_each_byte(run: &[u8], mut emit: impl FnMut(u8) -> bool) {
    let mut accumulator: u32 = 0;
    let mut bits = 0;
    for &byte in run {
        let value = VALUES[byte as usize];
        if value == INVALID {
            if byte == b'=' {
                return;
            }
            continue;
        }
        accumulator = (accumulator << 6) | u32::from(value);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            if !emit((accumulator >> bits) as u8) {
                return;
            }
        }
    }
}

/// Where the characters of a base64 run sit: a run wrapped over lines has line breaks and
/// indentation between them. Built in one pass over the run; each lookup is then a binary
/// search, so placing many secrets decoded from one long run costs no pass each.
#[derive(Debug)]
pub struct CharMap {
    /// For each stretch of other bytes followed by a character: the index of that character,
    /// and the other bytes before it in the run.
    gaps: Vec<(usize, usize)>,
    chars: usize,
    len: usize,
}

impl CharMap {
    /// The map of `run`.
    pub fn new(run: &[u8]) -> Self {
        let (mut gaps, mut chars, mut skipped, mut in_gap) = (Vec::new(), 0, 0, false);
        for &byte in run {
            if !is_base64(byte) {
                skipped += 1;
                in_gap = true;
                continue;
            }
            if in_gap {
                gaps.push((chars, skipped));
                in_gap = false;
            }
            chars += 1;
        }
        CharMap { gaps, chars, len: run.len() }
    }

    /// The offset in the run of character `index`, if the run has that many.
    fn offset(&self, index: usize) -> Option<usize> {
        if index >= self.chars {
            return None;
        }
        let after = self.gaps.partition_point(|&(at, _)| at <= index);
        Some(index + after.checked_sub(1).map_or(0, |gap| self.gaps[gap].1))
    }

    /// The part of the run that encodes the decoded bytes `decoded`: whole 4-character
    /// groups, line breaks inside the run counted.
    pub fn encoded_span(&self, decoded: Range<usize>) -> Range<usize> {
        let first = self.offset(decoded.start / 3 * 4);
        match (decoded.end.div_ceil(3) * 4).checked_sub(1).and_then(|last| self.offset(last)) {
            Some(last) => first.unwrap_or(last)..last + 1,
            None => first.unwrap_or(0)..self.len,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The runs a plain left-to-right scan finds (no wrapping, no padding), for comparison.
    fn naive_runs(text: &[u8]) -> Vec<Range<usize>> {
        let mut found = Vec::new();
        let mut start = 0;
        for i in 0..=text.len() {
            if i == text.len() || !is_base64(text[i]) {
                if i - start >= MIN_RUN {
                    found.push(start..i);
                }
                start = i + 1;
            }
        }
        found
    }

    #[test]
    fn the_alphabet_check_agrees_with_the_decoding_table() {
        for byte in 0..=u8::MAX {
            assert_eq!(is_base64_by_ranges(byte), is_base64(byte), "byte {byte:#04x}");
        }
    }

    #[test]
    fn encodes_with_padding() {
        assert_eq!(encode(b"hello, world"), "aGVsbG8sIHdvcmxk");
        assert_eq!(encode(b"hi"), "aGk=");
    }

    #[test]
    fn decodes_both_alphabets_and_stops_at_padding() {
        let mut out = Vec::new();
        decode(b"aGVsbG8sIHdvcmxk", &mut out);
        assert_eq!(out, b"hello, world");
        out.clear();
        decode(b"-_-_", &mut out);
        let mut standard = Vec::new();
        decode(b"+/+/", &mut standard);
        assert_eq!(out, standard);
        out.clear();
        decode(b"aGk=aGk=", &mut out);
        assert_eq!(out, b"hi");
    }

    #[test]
    fn finds_a_secret_value_in_yaml_and_skips_short_words() {
        // "the value of a key that is long enough"
        let value = "dGhlIHZhbHVlIG9mIGEga2V5IHRoYXQgaXMgbG9uZyBlbm91Z2g=";
        let text = format!("data:\n  OPENAI_API_KEY: {value}\n  SHORT: YWJj\n");
        let start = text.find(value).unwrap();
        assert_eq!(text_runs(text.as_bytes()).collect::<Vec<_>>(), vec![(start..start + value.len())]);
    }

    /// Texts of 400 bytes: mostly base64 characters, sometimes a separator, among them the
    /// bytes next to the alphabet's ranges and high bytes whose low seven bits are letters
    /// (never `=` or a newline, which the plain scan does not model).
    fn random_texts(count: usize) -> impl Iterator<Item = Vec<u8>> {
        let mut state = 0x1234_5678_u64;
        (0..count).map(move |_| {
            (0..400)
                .map(|_| {
                    state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                    if (state >> 60) < 1 {
                        b" @[`{:.\xC1\xDA\xFA"[(state >> 33) as usize % 10]
                    } else {
                        b"ABCxyz019+/-_"[(state >> 33) as usize % 13]
                    }
                })
                .collect()
        })
    }

    #[test]
    fn block_search_agrees_with_a_plain_scan() {
        for text in random_texts(1000) {
            assert_eq!(runs(&text).collect::<Vec<_>>(), naive_runs(&text));
        }
    }

    #[cfg(target_arch = "x86_64")]
    #[test]
    fn the_vbmi_block_search_agrees_with_the_portable_one() {
        let Some(vbmi) = crate::simd::vbmi_for_test() else { return };
        for text in random_texts(200) {
            for from in (0..=text.len()).step_by(BLOCK) {
                let portable = BlockSearch::Portable.first_base64_block(&text, from);
                assert_eq!(BlockSearch::Vbmi(vbmi).first_base64_block(&text, from), portable);
            }
        }
    }

    #[test]
    fn the_fastest_block_search_this_cpu_runs_is_the_one_taken() {
        let blocks = runs(b"").blocks;
        #[cfg(target_arch = "x86_64")]
        if crate::simd::vbmi_for_test().is_some() {
            assert!(matches!(blocks, BlockSearch::Vbmi(_)), "the portable block search was taken");
            return;
        }
        assert!(matches!(blocks, BlockSearch::Portable), "not the portable block search");
    }

    #[test]
    fn wrapped_lines_form_one_run() {
        let encoded = "a2tr".repeat(40); // 120 × "k"
        let wrapped = format!("  {}\n  {}\n  {}\nnext: line\n", &encoded[..64], &encoded[64..128], &encoded[128..]);
        let found: Vec<_> = runs(wrapped.as_bytes()).collect();
        assert_eq!(found.len(), 1);
        let mut out = Vec::new();
        decode(&wrapped.as_bytes()[found[0].clone()], &mut out);
        assert_eq!(out, [b'k'; 120]);
    }

    #[test]
    fn binary_and_hashes_are_not_text() {
        let png = "iVBORw0KGgoAAAANSUhEUgABAgMEBQYH"; // a PNG header
        assert!(!looks_like_text(png.as_bytes()));
        assert!(!looks_like_text(b"9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"));
        assert!(looks_like_text(b"cGxhaW4gdGV4dCB0aGF0IGlzIHByaW50YWJsZQ=="));
    }

    #[test]
    fn a_path_before_the_value_is_cut_off() {
        // "a token hidden after a path prefix"
        let value = "YSB0b2tlbiBoaWRkZW4gYWZ0ZXIgYSBwYXRoIHByZWZpeA==";
        let text = format!("url: /api/v1/{value}\n");
        let start = text.find(value).unwrap();
        assert_eq!(text_runs(text.as_bytes()).collect::<Vec<_>>(), vec![(start..start + value.len())]);
    }

    #[test]
    fn encoded_span_points_at_the_groups_holding_the_bytes() {
        let encoded = "MDEyMzQ1Njc4OWFiY2RlZg=="; // "0123456789abcdef"
                                                  // bytes 3..6 are the second group of four characters
        let map = CharMap::new(encoded.as_bytes());
        assert_eq!(map.encoded_span(3..6), 4..8);
        assert_eq!(map.encoded_span(4..5), 4..8);
        assert_eq!(map.encoded_span(0..16), 0..24);
        let wrapped = format!("{}\n  {}\r\n{}", &encoded[..8], &encoded[8..12], &encoded[12..]);
        let map = CharMap::new(wrapped.as_bytes());
        assert_eq!(map.encoded_span(6..9), 11..15);
        assert_eq!(map.encoded_span(9..12), 17..21);
        assert_eq!(map.encoded_span(3..15), 4..25);
        // Past the run's characters: from the first group to the run's end.
        assert_eq!(map.encoded_span(15..30), 25..wrapped.len());
    }
}
