//! A finding: a secret placed at a location, with a content fingerprint and a redacted form.

use std::ops::Range;
use std::sync::Arc;

use sha2::{Digest, Sha256};

use crate::precision;
use crate::rules::{Confidence, Rule, Severity, Structure};
use crate::scan::SecretSpan;
use crate::source::provenance::{CommitInfo, Provenance};

/// Where a secret sits inside one blob of text: 1-based lines and columns (in characters),
/// counted as [`crate::lines`] says.
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

/// A reported secret.
#[derive(Debug, Clone, PartialEq)]
pub struct Finding {
    /// Id of the rule that found it.
    pub rule_id: String,
    /// The rule's description.
    pub description: String,
    /// The rule's severity.
    pub severity: Severity,
    /// The rule's confidence.
    pub confidence: Confidence,
    /// Where it came from, rendered: the display, sort and filter key, computed once from
    /// [`Finding::provenance`] (see [`Provenance::display`]).
    pub path: String,
    /// Where it came from.
    pub provenance: Provenance,
    /// Where in the file.
    pub position: Position,
    /// The secret, whole. Reporters redact it unless asked not to.
    pub secret: String,
    /// Length of the family prefix kept when redacting (`sk-proj-`).
    pub prefix_len: usize,
    /// Content fingerprint: rule id and a salted hash of the secret.
    pub fingerprint: String,
    /// The commit that introduced it, for history scans.
    pub commit: Option<Arc<CommitInfo>>,
    /// The rule's structural score of the secret (0.0 to 1.0), for rules that define one:
    /// ranks findings, never drops them.
    pub structure: Option<f64>,
    /// For history scans, how many places (a path in a blob, a commit or tag message) hold
    /// the same secret, this one included.
    pub occurrences: Option<usize>,
    /// The encodings the secret was found under, outermost first (`base64`, `utf-16le`,
    /// `utf-16le+base64`); `None` when it is in the text as it is. The position is that of
    /// the encoded text.
    pub decoded: Option<String>,
}

impl Finding {
    /// Builds a finding for `secret`, found by `rule` at `position` of what `provenance` names.
    pub fn new(rule: &Rule, secret: &[u8], prefix_len: usize, provenance: Provenance, position: Position) -> Self {
        let text = String::from_utf8_lossy(secret).into_owned();
        let structure = rule.spec.structure.and_then(|kind| match kind {
            Structure::Openai => precision::openai_structure(secret, prefix_len),
        });
        Finding {
            rule_id: rule.spec.id.clone(),
            description: rule.spec.description.clone(),
            severity: rule.spec.severity,
            confidence: rule.spec.confidence,
            path: provenance.display(),
            provenance,
            position,
            fingerprint: fingerprint(&rule.spec.id, text.as_bytes()),
            secret: text,
            prefix_len,
            commit: None,
            structure,
            occurrences: None,
            decoded: None,
        }
    }

    /// The secret as it may be printed: family prefix and last four characters only.
    pub fn redacted_secret(&self) -> String {
        redact(&self.secret, self.prefix_len)
    }

    /// The key used to order findings: path, line, column, rule.
    pub fn sort_key(&self) -> (&str, usize, usize, &str) {
        (&self.path, self.position.line, self.position.column, &self.rule_id)
    }
}

/// The content fingerprint of a secret found by a rule: `rule-id:` and 16 hex digits of a
/// SHA-256 over a fixed domain string, the rule id and the secret. It never contains the
/// secret, does not change when the secret moves, and differs between rules.
pub fn fingerprint(rule_id: &str, secret: &[u8]) -> String {
    let mut hasher = Sha256::new();
    hasher.update(b"keyhound-fingerprint-v1\0");
    hasher.update(rule_id.as_bytes());
    hasher.update(b"\0");
    hasher.update(secret);
    let digest = hasher.finalize();
    let hex: String = digest[..8].iter().map(|b| format!("{b:02x}")).collect();
    format!("{rule_id}:{hex}")
}

/// Shortest random part (after the prefix) whose last four characters may be shown.
const MIN_LEN_TO_SHOW_TAIL: usize = 16;

/// Keeps the family prefix and the last four characters: `sk-proj-…Ab3A`, the way OpenAI's
/// dashboard lists keys. Short secrets show no tail at all.
pub fn redact(secret: &str, prefix_len: usize) -> String {
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
pub fn mask(text: &str, range: Range<usize>, spans: &[SecretSpan]) -> String {
    let bytes = text.as_bytes();
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
    fn fingerprint_is_stable_per_rule_and_hides_the_secret() {
        let a = fingerprint("openai-api-key", b"secret-value-1234");
        assert_eq!(a, fingerprint("openai-api-key", b"secret-value-1234"));
        assert_ne!(a, fingerprint("other-rule", b"secret-value-1234"));
        assert_ne!(a, fingerprint("openai-api-key", b"secret-value-1235"));
        assert!(a.starts_with("openai-api-key:") && !a.contains("secret-value"));
        assert_eq!(a.len(), "openai-api-key:".len() + 16);
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
