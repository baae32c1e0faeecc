//! Lines and columns: places byte offsets of a text on its lines, all of them in one forward
//! pass, so a file holding many secrets costs time linear in its size and their number.
//!
//! A line ends at LF, at CRLF, or at a CR that no LF follows (old Mac files; editors and SARIF
//! count it as a line end too), so LF and CRLF files number their lines as `grep -n` does.
//! Columns count characters: UTF-8 lead bytes, and each byte of an invalid sequence.

use std::ops::Range;

/// Where a secret sits inside one blob of text: 1-based lines and columns (in characters),
/// counted as this module says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Position {
    /// Line of the secret's first character.
    pub line: usize,
    /// Column of the secret's first character.
    pub column: usize,
    /// Line of the secret's last character.
    pub end_line: usize,
    /// Column just after the secret's last character.
    pub end_column: usize,
}

/// 1-based (line, column) of each of `offsets` (in any order, each at most `text.len()`), in
/// the order given.
pub fn locate(text: &[u8], offsets: &[usize]) -> Vec<(usize, usize)> {
    let mut order: Vec<usize> = (0..offsets.len()).collect();
    order.sort_unstable_by_key(|&index| offsets[index]);
    let mut placed = vec![(0, 0); offsets.len()];
    let mut cursor = Cursor { text, offset: 0, line: 1, column: 1 };
    for index in order {
        placed[index] = cursor.advance_to(offsets[index]);
    }
    placed
}

/// The positions of `spans` in `text`, in the order given.
pub fn positions(text: &[u8], spans: &[Range<usize>]) -> Vec<Position> {
    let ends: Vec<usize> = spans.iter().flat_map(|span| [span.start, span.end]).collect();
    locate(text, &ends)
        .chunks_exact(2)
        .map(|pair| Position { line: pair[0].0, column: pair[0].1, end_line: pair[1].0, end_column: pair[1].1 })
        .collect()
}

/// A place in a text, moved forward only.
struct Cursor<'t> {
    text: &'t [u8],
    offset: usize,
    line: usize,
    column: usize,
}

impl Cursor<'_> {
    /// Moves to `target` (not before the current offset) and returns its line and column.
    fn advance_to(&mut self, target: usize) -> (usize, usize) {
        let stretch = &self.text[self.offset..target];
        let mut line_start = None;
        for at in memchr::memchr2_iter(b'\n', b'\r', stretch).map(|i| self.offset + i) {
            // The CR of a CRLF is part of its line; the LF ends it.
            if self.text[at] == b'\r' && self.text.get(at + 1) == Some(&b'\n') {
                continue;
            }
            self.line += 1;
            line_start = Some(at + 1);
        }
        self.column = match line_start {
            Some(start) => char_count(&self.text[start..target]) + 1,
            None => self.column + char_count(stretch),
        };
        self.offset = target;
        (self.line, self.column)
    }
}

/// Characters in UTF-8 bytes (bytes of invalid sequences count one each).
fn char_count(bytes: &[u8]) -> usize {
    bytes.iter().filter(|&&b| (b & 0xC0) != 0x80).count()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn span_of(text: &[u8], needle: &[u8]) -> Range<usize> {
        let start = memchr::memmem::find(text, needle).unwrap();
        start..start + needle.len()
    }

    #[test]
    fn positions_are_one_based_and_count_characters() {
        let text = "first\nsecond é KEY here\n".as_bytes();
        let position = positions(text, &[span_of(text, b"KEY")]);
        assert_eq!(position, [Position { line: 2, column: 10, end_line: 2, end_column: 13 }]);
    }

    #[test]
    fn lf_crlf_and_lone_cr_each_end_a_line() {
        for text in [&b"a\nb\nKEY"[..], b"a\r\nb\r\nKEY", b"a\rb\rKEY", b"a\r\nb\rKEY"] {
            assert_eq!(locate(text, &[text.len() - 3]), [(3, 1)], "{text:?}");
        }
        // A CR before an LF counts as a character of its line.
        assert_eq!(locate(b"ab\r\n", &[3]), [(1, 4)]);
        // CR is the last byte: nothing follows it, so it ends its line.
        assert_eq!(locate(b"ab\r", &[3]), [(2, 1)]);
    }

    #[test]
    fn offsets_in_any_order_are_answered_in_the_order_given() {
        let text = b"one KEY\ntwo KEY KEY\nthree";
        let offsets = [text.len(), 4, 16, 12, 0, 4];
        assert_eq!(locate(text, &offsets), [(3, 6), (1, 5), (2, 9), (2, 5), (1, 1), (1, 5)]);
    }

    #[test]
    fn many_spans_on_one_long_line_are_placed_in_one_pass() {
        let text = "é KEY ".repeat(50_000);
        let spans: Vec<Range<usize>> = (0..50_000).map(|i| i * 7 + 3..i * 7 + 6).collect();
        let placed = positions(text.as_bytes(), &spans);
        assert_eq!(placed[49_999], Position { line: 1, column: 299_997, end_line: 1, end_column: 300_000 });
    }
}
