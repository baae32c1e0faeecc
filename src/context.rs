//! The line a finding is on, as a reviewer reads it beside the finding (`context:`): trimmed,
//! cut to a window around the match when the line is long (minified code, binary files), and
//! with every secret in it redacted, the finding's own and any other, however often each
//! occurs. Built while scanning, from the scanned text, so that reports never hold the line
//! itself.

use std::ops::Range;

use memchr::memmem;

use crate::decode;
use crate::redact::{self, SecretSpan};

/// Most bytes of text kept on each side of the match: a line that would show longer than
/// twice this (its secrets redacted) is cut to a window, and `…` marks each cut end.
pub(crate) const REACH: usize = 100;

/// [`REACH`] in a binary file, whose lines are arbitrary runs of bytes.
const BINARY_REACH: usize = 32;

/// How far from the match a line's ends are looked for: a longer line is cut anyway.
const LOOK: usize = 4096;

/// What a redacted secret takes on the line shown, about (`sk-proj-…Ab3A`).
const REDACTED_LEN: usize = 16;

/// The reach of the windows shown from `text` (see [`REACH`]).
pub(crate) fn reach(text: &[u8]) -> usize {
    if decode::is_binary(text) {
        BINARY_REACH
    } else {
        REACH
    }
}

/// The line of `text` that holds the start of `span`, or a window of it `reach` bytes each
/// side of the match, redacted: `secrets` (sorted, not overlapping, as [`redact::merged`]
/// leaves them) are shown as [`redact::mask`] shows them, and so is every other occurrence,
/// on the line, of the text of a secret on the line. A secret the window would cut is shown
/// whole (redacted, it is short), unless it runs on past the line.
pub(crate) fn line(text: &[u8], span: &Range<usize>, secrets: &[SecretSpan], reach: usize) -> String {
    let line = line_around(text, span.start.min(text.len()));
    let window = if shown_len(&line, secrets) <= 2 * reach {
        line.clone()
    } else {
        let around = line.start.max(span.start.saturating_sub(reach))..line.end.min(span.end.saturating_add(reach));
        on_characters(text, widened(text, around, secrets))
    };
    let (cut_start, cut_end) = (window.start > 0 && !ends_line(text, window.start - 1), !ends_line(text, window.end));
    let on_line = masks_within(text, &window, secrets);
    let shown = redact::mask_bytes(text, window, &on_line);
    let mut out = String::with_capacity(shown.len() + 6);
    if cut_start {
        out.push('…');
    }
    out.push_str(if cut_start { shown.trim_end() } else { shown.trim() });
    if cut_end {
        out.push('…');
    }
    out
}

/// The line holding byte `at`, at most [`LOOK`] bytes either side of it.
fn line_around(text: &[u8], at: usize) -> Range<usize> {
    let floor = at.saturating_sub(LOOK);
    let ceiling = at.saturating_add(LOOK).min(text.len());
    let start = memchr::memrchr2(b'\n', b'\r', &text[floor..at]).map_or(floor, |found| floor + found + 1);
    let end = memchr::memchr2(b'\n', b'\r', &text[at..ceiling]).map_or(ceiling, |found| at + found);
    start..end
}

/// Whether the byte at `at` ends a line (a line end, or past the text's end).
fn ends_line(text: &[u8], at: usize) -> bool {
    text.get(at).is_none_or(|&byte| byte == b'\n' || byte == b'\r')
}

/// About how long `range` shows with its secrets redacted.
fn shown_len(range: &Range<usize>, secrets: &[SecretSpan]) -> usize {
    let inside = within(range, secrets);
    let hidden: usize = inside
        .iter()
        .map(|found| found.span.end.min(range.end).saturating_sub(found.span.start.max(range.start)))
        .sum();
    range.len() - hidden + inside.len() * REDACTED_LEN
}

/// The secrets that reach into `range`.
fn within<'s>(range: &Range<usize>, secrets: &'s [SecretSpan]) -> &'s [SecretSpan] {
    let first = secrets.partition_point(|found| found.span.end <= range.start);
    let count = secrets[first..].iter().take_while(|found| found.span.start < range.end).count();
    &secrets[first..first + count]
}

/// `range` moved inward off the middle of UTF-8 characters.
fn on_characters(text: &[u8], mut range: Range<usize>) -> Range<usize> {
    while range.start < range.end && is_continuation(text[range.start]) {
        range.start += 1;
    }
    while range.end > range.start && text.get(range.end).is_some_and(|&b| is_continuation(b)) {
        range.end -= 1;
    }
    range
}

/// `window` stretched over the secrets its ends cut, where no line ends in the stretch.
fn widened(text: &[u8], mut window: Range<usize>, secrets: &[SecretSpan]) -> Range<usize> {
    let breaks = |range: Range<usize>| memchr::memchr2(b'\n', b'\r', &text[range]).is_some();
    for found in within(&window.clone(), secrets) {
        let span = found.span.start..found.span.end.min(text.len());
        if span.start < window.start && !breaks(span.start..window.start) {
            window.start = span.start;
        }
        if window.end < span.end && !breaks(window.end..span.end) {
            window.end = span.end;
        }
    }
    window
}

fn is_continuation(byte: u8) -> bool {
    byte & 0xC0 == 0x80
}

/// The secrets that reach into `window`, and every other occurrence in it of their text.
fn masks_within(text: &[u8], window: &Range<usize>, secrets: &[SecretSpan]) -> Vec<SecretSpan> {
    let touching = within(window, secrets);
    let mut masks: Vec<SecretSpan> = touching.to_vec();
    let shown = &text[window.clone()];
    for found in touching {
        let Some(needle) = text.get(found.span.clone()).filter(|needle| !needle.is_empty()) else { continue };
        for offset in memmem::find_iter(shown, needle) {
            let span = window.start + offset..window.start + offset + needle.len();
            masks.push(SecretSpan { span, prefix_len: found.prefix_len });
        }
    }
    redact::merged(masks)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(tail: &str) -> String {
        format!("sk-proj-{}{tail}", "Ab1Cd2Ef3Gh4Ij5Kl6Mn7")
    }

    fn secret_at(text: &str, secret: &str, nth: usize) -> SecretSpan {
        let start = text.match_indices(secret).nth(nth).expect("the secret is in the text").0;
        SecretSpan { span: start..start + secret.len(), prefix_len: 8 }
    }

    #[test]
    fn the_line_is_trimmed_and_its_secrets_redacted_even_repeated() {
        let (a, b) = (key("AAAA"), key("BBBB"));
        let text = format!("first\n   client(key='{a}', other='{b}', again='{a}')  \r\nlast");
        let secrets = [secret_at(&text, &a, 0), secret_at(&text, &b, 0)];
        let shown = line(text.as_bytes(), &secrets[0].span, &secrets, REACH);
        assert_eq!(shown, "client(key='sk-proj-…AAAA', other='sk-proj-…BBBB', again='sk-proj-…AAAA')");
    }

    #[test]
    fn a_long_line_shows_a_window_with_cut_marks() {
        let a = key("AAAA");
        let text = format!("{}x='{a}'{}", "é".repeat(300), "z".repeat(300));
        let secrets = [secret_at(&text, &a, 0)];
        let shown = line(text.as_bytes(), &secrets[0].span, &secrets, REACH);
        assert!(shown.starts_with('…') && shown.ends_with('…'), "{shown}");
        assert!(shown.contains("x='sk-proj-…AAAA'z") && !shown.contains('\u{fffd}'), "{shown}");
        assert!(shown.len() < 2 * REACH + 40, "{}", shown.len());
    }

    #[test]
    fn a_neighbour_the_window_would_cut_is_shown_whole_and_redacted() {
        let (a, b) = (key("AAAA"), format!("{}BBBB", key(&"b".repeat(200))));
        let text = format!("x = ['{a}', '{b}']");
        let secrets = [secret_at(&text, &a, 0), secret_at(&text, &b, 0)];
        assert_eq!(line(text.as_bytes(), &secrets[0].span, &secrets, REACH), "x = ['sk-proj-…AAAA', 'sk-proj-…BBBB']");
    }

    #[test]
    fn a_secret_running_past_the_line_shows_only_its_cut_mark() {
        let text = "-----BEGIN PRIVATE KEY-----\nMIIEvQ\n-----END PRIVATE KEY-----\n";
        let secrets = [SecretSpan { span: 0..text.len() - 1, prefix_len: 0 }];
        assert_eq!(line(text.as_bytes(), &secrets[0].span, &secrets, REACH), "…");
    }
}
