//! A finding: a secret placed at a location, with a content fingerprint and a redacted form
//! (shown as [`crate::redact`] says).

use std::sync::Arc;

use sha2::{Digest, Sha256};

use crate::echo;
use crate::lines::Position;
use crate::precision;
use crate::redact::redact;
use crate::rules::{Confidence, Rule, Severity, Structure};
use crate::source::provenance::{CommitInfo, Provenance};

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
    /// The line it is on, trimmed, cut to a window when long, every secret in it redacted
    /// (see [`crate::context`]); `None` where no line was scanned.
    pub context: Option<String>,
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
            context: None,
        }
    }

    /// The secret as it may be printed: family prefix and last four characters only.
    pub fn redacted_secret(&self) -> String {
        redact(&self.secret, self.prefix_len)
    }

    /// The key used to order findings: path, line, column, rule, then fingerprint and commit,
    /// so that findings at one place (two versions of a file in history) come in one order
    /// whatever order the threads found them in.
    pub fn sort_key(&self) -> (&str, usize, usize, &str, &str, Option<&str>) {
        let commit = self.commit.as_ref().map(|commit| commit.id.as_str());
        (&self.path, self.position.line, self.position.column, &self.rule_id, self.fingerprint.as_str(), commit)
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

/// A fingerprint as files hold it (a baseline, an ignore file): `rule-id:` and 16 lowercase
/// hex digits, the shape [`fingerprint`] gives. Its rule id part is the file's text, so
/// messages show it through [`Fingerprint::shown`].
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Fingerprint(String);

impl Fingerprint {
    /// The fingerprint of a finding.
    pub fn of(finding: &Finding) -> Self {
        Fingerprint(finding.fingerprint.clone())
    }

    /// Reads a fingerprint written by hand or by keyhound, checking its shape.
    pub fn parse(text: &str) -> Result<Self, String> {
        let valid = text.rsplit_once(':').is_some_and(|(rule, hash)| {
            !rule.is_empty()
                && hash.len() == 16
                && hash.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        });
        if valid {
            Ok(Fingerprint(text.to_string()))
        } else {
            Err(format!("{} is not a fingerprint (rule-id:16 hex digits, as reports print it)", echo::quoted(text)))
        }
    }

    /// The fingerprint as reports print it and files hold it.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The fingerprint as messages show it: the rule id part only when harmless (see
    /// [`echo`]); the hash is salted, safe to show.
    pub fn shown(&self) -> String {
        match self.0.rsplit_once(':') {
            Some((rule, hash)) => format!("{}:{hash}", echo::shown(rule)),
            None => echo::shown(&self.0),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprint_is_stable_per_rule_and_hides_the_secret() {
        let a = fingerprint("openai-api-key", b"secret-value-1234");
        assert_eq!(a, fingerprint("openai-api-key", b"secret-value-1234"));
        assert_ne!(a, fingerprint("other-rule", b"secret-value-1234"));
        assert_ne!(a, fingerprint("openai-api-key", b"secret-value-1235"));
        assert!(a.starts_with("openai-api-key:") && !a.contains("secret-value"));
        assert_eq!(a.len(), "openai-api-key:".len() + 16);
    }

    /// A fake OpenAI key, assembled so that this file holds no key-shaped literal.
    fn key() -> String {
        format!("sk-proj-PM15uelHFAKEaZhX4lp4{}ZuDigFAKETTIDVrZfryt", ["T3Blbk", "FJ"].concat())
    }

    #[test]
    fn fingerprints_read_back_as_written_and_other_shapes_are_refused() {
        let written = fingerprint("openai-api-key", b"secret-value-1234");
        assert_eq!(Fingerprint::parse(&written).unwrap().as_str(), written);
        for bad in
            ["openai-api-key", ":0123456789abcdef", "r:0123456789ABCDEF", "r:0123456789abcde", "r:0123456789abcdef0"]
        {
            assert!(Fingerprint::parse(bad).unwrap_err().contains("is not a fingerprint"), "{bad}");
        }
        let error = Fingerprint::parse(&key()).unwrap_err();
        assert!(!error.contains(&key()), "{error}");
    }

    #[test]
    fn a_fingerprint_is_shown_with_its_hash_and_a_rule_id_only_when_harmless() {
        let plain = Fingerprint::parse("openai-api-key:0123456789abcdef").unwrap();
        assert_eq!(plain.shown(), "openai-api-key:0123456789abcdef");
        let forged = Fingerprint::parse(&format!("{}:0123456789abcdef", key())).unwrap();
        assert_eq!(forged.shown(), "sk-proj-…fryt:0123456789abcdef");
    }
}
