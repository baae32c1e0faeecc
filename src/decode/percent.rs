//! Percent-encoded text (`%22`, `%3D`: URL query strings and form bodies, as logs record
//! them): where its runs are, and what they decode to.
//!
//! A run is a stretch of text between whitespace (or control bytes) — a URL, a form body, a
//! log field — at least [`MIN_RUN`] bytes long, holding an escape `%XX` that decodes to text.
//! Escapes that decode to control characters do not make a run: printf's `%02d` and `%08x`
//! are format strings, not URL-encoding. Only `%XX` is decoded; a `+` (a space in form
//! bodies) is kept, since a key holds no space and `+` already bounds it as a space would.
//!
//! Decoded text is mostly the text it came from. A secret that no escape encodes, and that
//! no escape directly precedes, was in that text as it is, with the same neighbours, and was
//! found there already: [`EscapeMap::touches_escape`] tells the two apart.

use std::ops::Range;

/// Shortest run decoded: shorter than any key worth finding.
pub const MIN_RUN: usize = 16;

/// The byte the escape at `at` encodes, if a valid `%XX` starts there.
fn escape_at(text: &[u8], at: usize) -> Option<u8> {
    let [b'%', high, low] = *text.get(at..at + 3)? else { return None };
    let digit = |byte: u8| char::from(byte).to_digit(16);
    Some((digit(high)? * 16 + digit(low)?) as u8)
}

/// Text and line breaks, not control characters.
fn is_text_byte(byte: u8) -> bool {
    !byte.is_ascii_control() || matches!(byte, b'\t' | b'\n' | b'\r')
}

fn is_delimiter(byte: u8) -> bool {
    byte.is_ascii_whitespace() || byte.is_ascii_control()
}

/// The runs of `text` worth decoding, in order. A text without `%` costs one `memchr`.
pub fn runs(text: &[u8]) -> impl Iterator<Item = Range<usize>> + '_ {
    // Where the last run ended: escapes before it are inside it.
    let mut next = 0;
    memchr::memchr_iter(b'%', text).filter_map(move |percent| {
        if percent < next || !escape_at(text, percent).is_some_and(is_text_byte) {
            return None;
        }
        let start = text[next..percent].iter().rposition(|&b| is_delimiter(b)).map_or(next, |i| next + i + 1);
        let end = text[percent..].iter().position(|&b| is_delimiter(b)).map_or(text.len(), |i| percent + i);
        next = end;
        (end - start >= MIN_RUN).then_some(start..end)
    })
}

/// Each decoded byte of `run` with where it is encoded: an escape's three characters, or one.
fn decoded_bytes(run: &[u8]) -> impl Iterator<Item = (Range<usize>, u8)> + '_ {
    let mut at = 0;
    std::iter::from_fn(move || {
        let (byte, width) = match escape_at(run, at) {
            Some(byte) => (byte, 3),
            None => (*run.get(at)?, 1),
        };
        at += width;
        Some((at - width..at, byte))
    })
}

/// Appends the bytes `run` encodes to `out`.
pub fn decode(run: &[u8], out: &mut Vec<u8>) {
    out.extend(decoded_bytes(run).map(|(_, byte)| byte));
}

/// Where a run's escapes are, by decoded byte. Built in one pass over the run; each lookup is
/// then a binary search, so placing many secrets decoded from one long run costs no pass each.
#[derive(Debug)]
pub struct EscapeMap {
    /// The decoded index of each escape, ascending.
    escapes: Vec<usize>,
    decoded_len: usize,
    len: usize,
}

impl EscapeMap {
    /// The map of `run`.
    pub fn new(run: &[u8]) -> Self {
        let mut escapes = Vec::new();
        let mut decoded_len = 0;
        for (index, (span, _)) in decoded_bytes(run).enumerate() {
            if span.len() == 3 {
                escapes.push(index);
            }
            decoded_len = index + 1;
        }
        EscapeMap { escapes, decoded_len, len: run.len() }
    }

    /// The offset in the run of decoded byte `index` (each escape before it is 2 bytes longer).
    fn offset(&self, index: usize) -> usize {
        index + 2 * self.escapes.partition_point(|&escape| escape < index)
    }

    /// The part of the run that encodes its decoded bytes `decoded`.
    pub fn encoded_span(&self, decoded: Range<usize>) -> Range<usize> {
        let end = decoded.end.min(self.decoded_len);
        if decoded.start >= end {
            return self.len..self.len;
        }
        // The byte after the last one starts where the last one's encoding ends.
        self.offset(decoded.start)..self.offset(end)
    }

    /// Whether an escape encodes one of the decoded bytes `decoded`, or the byte just before
    /// them (a key whose left neighbour is an escape's last hex digit is not bounded there in
    /// the text as it is).
    pub fn touches_escape(&self, decoded: Range<usize>) -> bool {
        let from = decoded.start.saturating_sub(1);
        let first = self.escapes.partition_point(|&escape| escape < from);
        self.escapes.get(first).is_some_and(|&escape| escape < decoded.end)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decoded(run: &str) -> String {
        let mut out = Vec::new();
        decode(run.as_bytes(), &mut out);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn escapes_decode_and_the_rest_is_kept() {
        assert_eq!(decoded("%7B%22key%22%3A%22v+1%22%7D"), r#"{"key":"v+1"}"#);
        assert_eq!(decoded("100% sure, %zz, %4"), "100% sure, %zz, %4");
        assert_eq!(decoded("%e4%b8%ad"), "中");
    }

    #[test]
    fn runs_are_the_fields_with_escapes_that_decode_to_text() {
        let text = "GET /a?q=%22quoted%20text%22 200\nprintf(\"%02d:%08x\", h, m) 100%%\nbody=key%3Dvalue%26x%3D1\n";
        let found: Vec<&str> = runs(text.as_bytes()).map(|run| &text[run]).collect();
        assert_eq!(found, ["/a?q=%22quoted%20text%22", "body=key%3Dvalue%26x%3D1"]);
        assert_eq!(runs(b"no escapes in this text at all, 50% of it").count(), 0);
        assert_eq!(runs(b"short%20one").count(), 0);
    }

    #[test]
    fn decoded_ranges_map_back_to_their_escapes() {
        let run = b"k%3D%22abc%22";
        // Decoded: `k="abc"`; `abc` is bytes 3..6, encoded at 7..10.
        assert_eq!(EscapeMap::new(run).encoded_span(3..6), 7..10);
        assert_eq!(EscapeMap::new(run).encoded_span(1..3), 1..7);
        assert_eq!(EscapeMap::new(run).encoded_span(0..7), 0..run.len());
    }

    #[test]
    fn every_decoded_range_maps_to_text_that_decodes_to_it() {
        const BYTES: &[u8] = b"%%%%2Dz9aFe4E7_ \x01";
        let mut state = 0x9E37_79B9_7F4A_7C15_u64;
        let mut checked = 0;
        for _ in 0..300 {
            let text: Vec<u8> = (0..120)
                .map(|_| {
                    state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                    BYTES[(state >> 33) as usize % BYTES.len()]
                })
                .collect();
            for run in runs(&text) {
                checked += 1;
                let run = &text[run];
                let mut whole = Vec::new();
                decode(run, &mut whole);
                for start in 0..whole.len() {
                    for end in start + 1..=whole.len().min(start + 9) {
                        let mut part = Vec::new();
                        decode(&run[EscapeMap::new(run).encoded_span(start..end)], &mut part);
                        assert_eq!(part, whole[start..end], "{:?} {start}..{end}", String::from_utf8_lossy(run));
                    }
                }
            }
        }
        assert!(checked > 300, "{checked} runs");
    }

    #[test]
    fn only_secrets_an_escape_touches_are_new() {
        let run = b"a=%22secret%22&b=plain&c=x%2Dy";
        // Decoded: `a="secret"&b=plain&c=x-y`.
        assert!(EscapeMap::new(run).touches_escape(3..9), "an escape just before");
        assert!(!EscapeMap::new(run).touches_escape(13..18), "`plain` is in the text as it is");
        assert!(EscapeMap::new(run).touches_escape(21..24), "an escape inside");
    }
}
