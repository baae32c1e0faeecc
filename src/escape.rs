//! Hostile text made harmless in human-readable output: the one place that decides how a
//! control character in a file name, archive member, git path, author or message is shown.
//!
//! A scanned repository names its files and writes its commits, so those strings can carry
//! an escape sequence that rewrites the terminal, a newline followed by a forged line, or a
//! GitHub Actions workflow command (`::error …::`, `::add-mask::`). The text report, the
//! GitHub annotations, the summary, warnings and errors on standard error show every such
//! character escaped, visibly and unambiguously: `\n`, `\r`, `\t`, `\0`, `\e` (ESC), `\xNN`
//! for the other C0 characters and DEL, `\u{NN}` for the C1 range (U+0080–U+009F), and
//! `\u{NNNN}` for the characters that reorder or break lines without looking like it (bidi
//! controls, U+2028, U+2029). Machine-readable formats (JSON, CSV, SARIF locations) keep
//! the raw value and let their serializers encode it.
//!
//! [`inert_line`] then keeps a line of human-readable output from starting a workflow
//! command, whatever text begins it; [`percent_encode`] puts text into a URI.

use std::borrow::Cow;
use std::fmt::{self, Display, Write};

/// Formats `T` with every control character in its output escaped (see the module docs):
/// `format!("{}: {}", Visible(path.display()), Visible(&error))`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Visible<T>(pub T);

impl<T: Display> Display for Visible<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(Escaper(f), "{}", self.0)
    }
}

/// Escapes what is written through it.
struct Escaper<'w, W: Write>(&'w mut W);

impl<W: Write> Write for Escaper<'_, W> {
    fn write_str(&mut self, text: &str) -> fmt::Result {
        let mut plain = 0;
        for (at, c) in text.char_indices() {
            if needs_escape(c) {
                self.0.write_str(&text[plain..at])?;
                write_escaped(c, self.0)?;
                plain = at + c.len_utf8();
            }
        }
        self.0.write_str(&text[plain..])
    }
}

/// `text` with every control character escaped; borrowed when there is none.
pub(crate) fn visible(text: &str) -> Cow<'_, str> {
    if !text.chars().any(needs_escape) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    Escaper(&mut out).write_str(text).expect("writing to a String cannot fail");
    Cow::Owned(out)
}

/// True for the characters [`visible`] escapes.
fn needs_escape(c: char) -> bool {
    c.is_control()
        || matches!(c, '\u{061C}' | '\u{200E}' | '\u{200F}' | '\u{2028}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

fn write_escaped(c: char, out: &mut impl Write) -> fmt::Result {
    match c {
        '\0' => out.write_str("\\0"),
        '\t' => out.write_str("\\t"),
        '\n' => out.write_str("\\n"),
        '\r' => out.write_str("\\r"),
        '\x1b' => out.write_str("\\e"),
        '\0'..='\x7f' => write!(out, "\\x{:02x}", u32::from(c)),
        _ => write!(out, "\\u{{{:x}}}", u32::from(c)),
    }
}

/// `line` unable to start a GitHub Actions workflow command: the runner takes a line whose
/// text, after leading whitespace, starts with `::` (or the older `##[`) for one. Its first
/// character is then shown escaped (`\x3a:error…`); any other line is returned as it is.
pub(crate) fn inert_line(line: &str) -> Cow<'_, str> {
    let text = line.trim_start();
    if !(text.starts_with("::") || text.starts_with("##[")) {
        return Cow::Borrowed(line);
    }
    let indent = &line[..line.len() - text.len()];
    let first = text.as_bytes()[0];
    Cow::Owned(format!("{indent}\\x{first:02x}{}", &text[1..]))
}

/// `text` percent-encoded: every byte but RFC 3986's unreserved characters and those in
/// `keep` (`/` for a path) becomes `%XX`, so nothing in it can change the URI's shape.
pub(crate) fn percent_encode(text: &str, keep: &[u8]) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~".contains(&byte) || keep.contains(&byte) {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Control characters, and the bytes that would be raw in the output, over a string.
    fn raw_controls(text: &str) -> Vec<char> {
        text.chars().filter(|&c| needs_escape(c)).collect()
    }

    #[test]
    fn every_byte_value_is_shown_printable_and_distinct() {
        let mut seen = std::collections::HashSet::new();
        for byte in 0..=255u8 {
            let c = char::from(byte);
            let shown = visible(&c.to_string()).into_owned();
            assert!(raw_controls(&shown).is_empty(), "{byte:#04x} stays raw: {shown:?}");
            assert!(seen.insert(shown.clone()), "{byte:#04x} is shown like another byte: {shown:?}");
            let control = byte < 0x20 || (0x7f..=0x9f).contains(&byte);
            assert_eq!(shown.len() > c.len_utf8(), control, "{byte:#04x} -> {shown:?}");
        }
    }

    #[test]
    fn common_controls_have_short_names_and_c1_is_a_code_point() {
        assert_eq!(visible("a\nb\r\tc\0"), "a\\nb\\r\\tc\\0");
        assert_eq!(visible("\x1b]0;title\x07"), "\\e]0;title\\x07");
        assert_eq!(visible("\x7f\u{80}\u{9b}\u{9f}"), "\\x7f\\u{80}\\u{9b}\\u{9f}");
        assert_eq!(visible("\u{202e}txt.exe\u{2028}"), "\\u{202e}txt.exe\\u{2028}");
    }

    #[test]
    fn ordinary_text_is_borrowed_unchanged() {
        for text in ["src/app.py", "dir with spaces/é ü 日本.txt", "C:\\Users\\x", "a%b:c,d"] {
            assert!(matches!(visible(text), Cow::Borrowed(t) if t == text));
        }
    }

    #[test]
    fn display_wrapper_escapes_what_it_formats() {
        let path = std::path::Path::new("evil\n::error file=x::forged");
        assert_eq!(format!("{}: gone", Visible(path.display())), "evil\\n::error file=x::forged: gone");
        assert_eq!(Visible("\u{85}").to_string(), "\\u{85}");
    }

    #[test]
    fn lines_cannot_start_a_workflow_command() {
        assert_eq!(inert_line("::error file=x::forged:1:1: rule"), "\\x3a:error file=x::forged:1:1: rule");
        assert_eq!(inert_line("  ::add-mask::x"), "  \\x3a:add-mask::x");
        assert_eq!(inert_line("##[error]x"), "\\x23#[error]x");
        assert_eq!(inert_line("a::b"), "a::b");
        assert_eq!(inert_line(": x"), ": x");
    }
}
