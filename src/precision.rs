//! Precision filters shared by all rules: pure functions that tell a plausible secret from a
//! placeholder, a filler or a documentation example. Each returns why it rejects, so the
//! reason can be shown by `rules check` and kept on dropped matches.

/// Why a candidate secret was judged not to be one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rejection {
    /// Shannon entropy below the rule's minimum.
    LowEntropy,
    /// Contains a placeholder marker such as `your_` or `xxxxxx`.
    Placeholder,
    /// Contains a long run of one character or of consecutive characters (`abcdef`).
    Filler,
    /// A short pattern repeats (keyboard mashing such as `asdfasdfasdf`).
    Repetition,
    /// Contains one of the rule's stopwords.
    Stopword,
    /// Matches one of the rule's allow regexes.
    AllowedByRule,
    /// The context the rule needs (`near`) is not close enough.
    NoContext,
}

impl Rejection {
    /// A short human-readable reason.
    pub fn reason(self) -> &'static str {
        match self {
            Rejection::LowEntropy => "entropy below the rule's minimum",
            Rejection::Placeholder => "looks like a placeholder",
            Rejection::Filler => "contains a run of repeated or consecutive characters",
            Rejection::Repetition => "a short pattern repeats",
            Rejection::Stopword => "contains one of the rule's stopwords",
            Rejection::AllowedByRule => "matches one of the rule's allow patterns",
            Rejection::NoContext => "the context the rule needs (near) is not close enough",
        }
    }
}

/// Markers of template values, matched case-insensitively. Each is long enough (or holds a
/// character outside key alphabets) that a random key contains it with negligible odds.
const PLACEHOLDER_MARKERS: &[&str] = &[
    "xxxxxx",
    "your_",
    "your-",
    "yourkey",
    "yourapi",
    "yoursecret",
    "yourtoken",
    "_here",
    "-here",
    "placeholder",
    "example",
    "changeme",
    "change_me",
    "replace",
    "redacted",
    "dummy",
    "sample",
    "insert",
    "...",
    "\u{2026}",
    "****",
    "${",
    "{{",
    "%env(",
    "<",
    ">",
];

/// Shortest run of one repeated character, or of consecutive characters, that marks filler.
const FILLER_RUN: usize = 6;
/// Length of a pattern that, repeated three times or more, marks keyboard mashing.
const REPEATED_GRAM: usize = 4;

/// Shannon entropy of `bytes`, in bits per byte.
pub(crate) fn shannon_entropy(bytes: &[u8]) -> f64 {
    if bytes.is_empty() {
        return 0.0;
    }
    let mut counts = [0u32; 256];
    for &b in bytes {
        counts[usize::from(b)] += 1;
    }
    let len = bytes.len() as f64;
    counts
        .iter()
        .filter(|&&count| count > 0)
        .map(|&count| {
            let p = f64::from(count) / len;
            -p * p.log2()
        })
        .sum()
}

/// Whether the secret holds a template marker.
pub(crate) fn is_placeholder(secret: &[u8]) -> bool {
    let lower = secret.to_ascii_lowercase();
    PLACEHOLDER_MARKERS.iter().any(|marker| memchr::memmem::find(&lower, marker.as_bytes()).is_some())
}

/// Whether the secret holds a run of one character or of consecutive ones (`aaaaaa`,
/// `123456`, `abcdef`, `fedcba`) of at least [`FILLER_RUN`] characters.
pub(crate) fn is_filler(secret: &[u8]) -> bool {
    let step_runs = |step: i16| {
        let mut run = 1;
        secret.windows(2).any(|pair| {
            let consecutive = i16::from(pair[1]) - i16::from(pair[0]) == step
                && pair[0].is_ascii_alphanumeric()
                && pair[1].is_ascii_alphanumeric();
            run = if consecutive { run + 1 } else { 1 };
            run >= FILLER_RUN
        })
    };
    step_runs(0) || step_runs(1) || step_runs(-1)
}

/// Whether some [`REPEATED_GRAM`]-character alphanumeric pattern occurs three times or more.
pub(crate) fn is_repetitive(secret: &[u8]) -> bool {
    let grams: Vec<&[u8]> =
        secret.windows(REPEATED_GRAM).filter(|gram| gram.iter().all(u8::is_ascii_alphanumeric)).collect();
    let mut counts = std::collections::HashMap::<&[u8], u8>::new();
    grams.into_iter().any(|gram| {
        let count = counts.entry(gram).or_default();
        *count += 1;
        *count >= 3
    })
}

/// Whether the secret contains any of the (lowercased) stopwords.
pub(crate) fn has_stopword(secret: &[u8], stopwords_lower: &[String]) -> bool {
    if stopwords_lower.is_empty() {
        return false;
    }
    let lower = secret.to_ascii_lowercase();
    stopwords_lower.iter().any(|word| memchr::memmem::find(&lower, word.as_bytes()).is_some())
}

/// The marker every OpenAI `sk-` key carries between its two random segments (base64 of
/// "OpenAI"), assembled so that this file holds no key-shaped literal.
const OPENAI_MARKER: &[u8] = b"T3Blbk\x46J";
/// First segments longer than this belong to the long (2024+) key shapes, which end in `A`.
const OPENAI_SHORT_SEGMENT: usize = 20;

/// Structural score of an OpenAI `sk-` key, `prefix_len` bytes of which are its family
/// prefix: the share of the applicable checks it passes, 0.0 to 1.0. Checks: the segment after
/// the `T3BlbkFJ` marker is as long as the one before it or one longer; and a long key (first
/// segment over 20 characters) ends in `A`. Issued keys pass all; a hand-edited or invented
/// one often fails one. `None` when the secret holds no marker.
pub(crate) fn openai_structure(secret: &[u8], prefix_len: usize) -> Option<f64> {
    let marker = memchr::memmem::find(secret, OPENAI_MARKER)?;
    let first = marker.checked_sub(prefix_len)?;
    let second = secret.len() - marker - OPENAI_MARKER.len();
    let mut checks = vec![second == first || second == first + 1];
    if first > OPENAI_SHORT_SEGMENT {
        checks.push(secret.last() == Some(&b'A'));
    }
    let passed = checks.iter().filter(|&&ok| ok).count();
    Some(passed as f64 / checks.len() as f64)
}

/// The shared filters in order: placeholder, filler, repetition.
pub(crate) fn shared_rejection(secret: &[u8]) -> Option<Rejection> {
    if is_placeholder(secret) {
        Some(Rejection::Placeholder)
    } else if is_filler(secret) {
        Some(Rejection::Filler)
    } else if is_repetitive(secret) {
        Some(Rejection::Repetition)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entropy_of_uniform_and_constant() {
        assert_eq!(shannon_entropy(b""), 0.0);
        assert_eq!(shannon_entropy(b"aaaa"), 0.0);
        assert!((shannon_entropy(b"abcd") - 2.0).abs() < 1e-9);
    }

    #[test]
    fn placeholders() {
        assert!(is_placeholder(b"sk-your-api-key-here"));
        assert!(is_placeholder(b"sk-proj-XXXXXXXXXXXXXXXX"));
        assert!(is_placeholder(b"${OPENAI_API_KEY}"));
        assert!(is_placeholder(b"{{ openai_key }}"));
        assert!(is_placeholder(b"%env(OPENAI_KEY)%"));
        assert!(!is_placeholder(b"Z8mQ3vL0pW7rT2nB5kX9"));
    }

    #[test]
    fn filler_runs() {
        assert!(is_filler(b"aaaaaa"));
        assert!(is_filler(b"xx123456yy"));
        assert!(is_filler(b"abcdefghij"));
        assert!(is_filler(b"zyxwvu"));
        assert!(!is_filler(b"abcde-fgh"));
        assert!(!is_filler(b"Z8mQ3vL0pW7rT2nB5kX9"));
    }

    #[test]
    fn repetition() {
        assert!(is_repetitive(b"asdfgasdfasdfdcQbz"));
        assert!(!is_repetitive(b"Z8mQ3vL0pW7rT2nB5kX9Z8mQ"));
    }

    fn openai_like(first: usize, second: usize, last: u8) -> Vec<u8> {
        let mut key = b"sk-proj-".to_vec();
        key.extend(std::iter::repeat_n(b'q', first));
        key.extend_from_slice(OPENAI_MARKER);
        key.extend(std::iter::repeat_n(b'r', second - 1));
        key.push(last);
        key
    }

    #[test]
    fn openai_structure_scores_segments_and_last_character() {
        assert_eq!(openai_structure(&openai_like(74, 74, b'A'), 8), Some(1.0));
        assert_eq!(openai_structure(&openai_like(60, 61, b'A'), 8), Some(1.0));
        assert_eq!(openai_structure(&openai_like(74, 74, b'Q'), 8), Some(0.5));
        assert_eq!(openai_structure(&openai_like(74, 70, b'Q'), 8), Some(0.0));
        // short keys have no last-character check
        assert_eq!(openai_structure(&openai_like(20, 20, b'Q'), 8), Some(1.0));
        assert_eq!(openai_structure(&openai_like(20, 23, b'Q'), 8), Some(0.0));
        assert_eq!(openai_structure(b"sk-proj-no-marker", 8), None);
    }

    #[test]
    fn stopwords_are_case_insensitive() {
        let words = vec!["example".to_string()];
        assert!(has_stopword(b"AKIAIOSFODNN7EXAMPLE", &words));
        assert!(!has_stopword(b"AKIAIOSFODNN7ABCDEFG", &words));
    }
}
