//! How a secret is shown when it is not shown whole: a finding's redacted form, and text
//! beside findings (commit authors and messages, the line a finding is on) with the secrets
//! in it masked.

use std::ops::Range;

/// Where a secret lies in the text being redacted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SecretSpan {
    /// Byte range in the text; past its end for "all of it".
    pub span: Range<usize>,
    /// Length of the family prefix kept when redacting it (0 for an encoded secret).
    pub prefix_len: usize,
}

/// Shortest random part (after the prefix) whose last four characters may be shown.
pub(crate) const MIN_LEN_TO_SHOW_TAIL: usize = 16;

/// Keeps the family prefix and the last four characters: `sk-proj-…Ab3A`, the way OpenAI's
/// dashboard lists keys. Short secrets show no tail at all.
pub(crate) fn redact(secret: &str, prefix_len: usize) -> String {
    let prefix = secret.get(..prefix_len).unwrap_or("");
    let rest = &secret[prefix.len()..];
    let rest_chars = rest.chars().count();
    if rest_chars < MIN_LEN_TO_SHOW_TAIL {
        return format!("{prefix}…");
    }
    let tail: String = rest.chars().skip(rest_chars - 4).collect();
    format!("{prefix}…{tail}")
}

/// `text[range]` with what `spans` (sorted, not overlapping) cover replaced by its redacted
/// form: a secret whole in the range as [`redact`] shows it, a part of one cut by the range's
/// ends as `…` alone. Spans may reach past the range and the text.
pub(crate) fn mask(text: &str, range: Range<usize>, spans: &[SecretSpan]) -> String {
    mask_bytes(text.as_bytes(), range, spans)
}

/// [`mask`] over bytes that may not be UTF-8 (a binary file's line): what is not UTF-8 is
/// shown as U+FFFD.
pub(crate) fn mask_bytes(bytes: &[u8], range: Range<usize>, spans: &[SecretSpan]) -> String {
    let mut out = Vec::with_capacity(range.len());
    let mut at = range.start;
    for found in spans {
        let (start, end) = (found.span.start.max(at), found.span.end.min(range.end));
        if start >= end {
            continue;
        }
        out.extend_from_slice(&bytes[at..start]);
        let shown = if (start, end) == (found.span.start, found.span.end) {
            redact(&String::from_utf8_lossy(&bytes[start..end]), found.prefix_len)
        } else {
            "…".to_string()
        };
        out.extend_from_slice(shown.as_bytes());
        at = end;
    }
    out.extend_from_slice(&bytes[at..range.end]);
    String::from_utf8_lossy(&out).into_owned()
}

/// Sorts spans and merges the overlapping ones.
pub(crate) fn merged(mut spans: Vec<SecretSpan>) -> Vec<SecretSpan> {
    spans.sort_by_key(|found| (found.span.start, std::cmp::Reverse(found.span.end)));
    let mut out: Vec<SecretSpan> = Vec::with_capacity(spans.len());
    for found in spans {
        match out.last_mut() {
            Some(last) if found.span.start < last.span.end => last.span.end = last.span.end.max(found.span.end),
            _ => out.push(found),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redaction_keeps_prefix_and_last_four() {
        assert_eq!(redact("sk-proj-abcdefghijklmnopqrstAb3A", 8), "sk-proj-…Ab3A");
        assert_eq!(redact("abcdefghijklmnopqrstAb3A", 0), "…Ab3A");
        assert_eq!(redact("hunter2", 0), "…");
        assert_eq!(redact("tok_short", 4), "tok_…");
    }

    #[test]
    fn masking_redacts_whole_secrets_and_cuts_parts_to_an_ellipsis() {
        let text = "id sk-proj-abcdefghijklmnopqrstAb3A x\nnext";
        let spans = [SecretSpan { span: 3..35, prefix_len: 8 }, SecretSpan { span: 38..usize::MAX, prefix_len: 0 }];
        assert_eq!(mask(text, 0..text.len(), &spans), "id sk-proj-…Ab3A x\n…");
        assert_eq!(mask(text, 0..10, &spans), "id …");
        assert_eq!(mask(text, 39..text.len(), &spans), "…");
        assert_eq!(mask(text, 0..2, &spans), "id");
    }
}
