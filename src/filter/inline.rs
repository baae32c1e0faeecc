//! Filter 1: `keyhound:allow` comments. A secret with the marker on one of its lines is
//! dropped ([`DropReason::InlineAllow`](super::DropReason::InlineAllow)). Only the scanner
//! sees a text's lines, so it asks [`InlineAllows`] while it places findings on them; the
//! drops it makes travel with the findings to the other filters.

use crate::lines::Position;

/// The marker that suppresses findings on its line.
pub(crate) const INLINE_ALLOW_MARKER: &[u8] = b"keyhound:allow";

/// The lines of one text that carry an inline allow comment, found once per text so that
/// checking each finding costs a binary search, not a look at its lines.
#[derive(Debug, Default)]
pub(crate) struct InlineAllows {
    /// Sorted line numbers.
    lines: Vec<usize>,
}

impl InlineAllows {
    /// The allow comments of `text`, placed on its lines as [`crate::lines`] counts them.
    pub(crate) fn of(text: &[u8]) -> Self {
        let offsets: Vec<usize> = memchr::memmem::find_iter(text, INLINE_ALLOW_MARKER).collect();
        InlineAllows { lines: crate::lines::locate(text, &offsets).into_iter().map(|(line, _)| line).collect() }
    }

    /// True when the text has no allow comment at all.
    pub(crate) fn is_empty(&self) -> bool {
        self.lines.is_empty()
    }

    /// Whether a line from the first to the last of `position`'s carries an allow comment.
    pub(crate) fn cover(&self, position: &Position) -> bool {
        let first = self.lines.partition_point(|&line| line < position.line);
        self.lines.get(first).is_some_and(|&line| line <= position.end_line)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inline_allows_cover_their_own_lines_only() {
        let on = |line, end_line| Position { line, column: 1, end_line, end_column: 2 };
        let allows = InlineAllows::of(b"a # keyhound:allow\nb\rc # keyhound:allow\r\nd # keyhound\n");
        assert!(allows.cover(&on(1, 1)) && allows.cover(&on(3, 3)));
        // A lone CR ends a line, as it does for the positions reported.
        assert!(!allows.cover(&on(2, 2)) && !allows.cover(&on(4, 4)));
        assert!(allows.cover(&on(2, 3)), "a secret spanning lines is allowed from any of them");
        assert!(InlineAllows::of(b"key = 'x' # keyhound").is_empty());
    }
}
