//! A finding as the datastore holds it: everything a report shows, with the secret redacted
//! unless the user asked to store secrets (`--store-secrets`). Read back, it becomes a
//! [`Finding`] again, built by its rule, so reports of stored findings are those of a scan.

use std::sync::Arc;

use git2::Oid;
use serde::{Deserialize, Serialize};

use crate::finding::Finding;
use crate::lines::Position;
use crate::redact::MIN_LEN_TO_SHOW_TAIL;
use crate::rules::RuleSet;
use crate::source::{CommitInfo, Origin, Provenance};

/// A finding, stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct Stored {
    rule: String,
    fingerprint: String,
    redacted: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    secret: Option<String>,
    /// The secret's length in characters, when the secret itself is not stored: reports of a
    /// secret too short to show its last characters say how long it is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    chars: Option<usize>,
    prefix_len: usize,
    origin: StoredOrigin,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    members: Vec<String>,
    position: [usize; 4],
    #[serde(default, skip_serializing_if = "Option::is_none")]
    structure: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    decoded: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    commit: Option<CommitInfo>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    occurrences: Option<usize>,
    /// The finding's line with every secret on it redacted, as reports show it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    context: Option<String>,
}

/// Where in history a stored finding is (object ids in hex).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
enum StoredOrigin {
    Blob {
        path: String,
        blob: String,
        commit: String,
    },
    Unreachable {
        blob: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        path: Option<String>,
    },
    CommitMessage {
        commit: String,
    },
    TagMessage {
        name: String,
        tag: String,
    },
    UnreachableMessage {
        object: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        tag: Option<String>,
    },
}

impl Stored {
    /// `finding` as stored; `None` for a finding outside history (no git object to name).
    /// The secret is kept only with `store_secret`.
    pub(crate) fn of(finding: &Finding, store_secret: bool) -> Option<Self> {
        let origin = StoredOrigin::of(&finding.provenance.origin)?;
        let p = finding.position;
        Some(Stored {
            rule: finding.rule_id.clone(),
            fingerprint: finding.fingerprint.clone(),
            redacted: finding.redacted_secret(),
            secret: store_secret.then(|| finding.secret.clone()),
            chars: (!store_secret).then(|| finding.secret.chars().count()),
            prefix_len: finding.prefix_len,
            origin,
            members: finding.provenance.members.clone(),
            position: [p.line, p.column, p.end_line, p.end_column],
            structure: finding.structure,
            decoded: finding.decoded.clone(),
            commit: finding.commit.as_deref().cloned(),
            occurrences: finding.occurrences,
            context: finding.context.clone(),
        })
    }

    /// The fingerprint.
    pub(crate) fn fingerprint(&self) -> &str {
        &self.fingerprint
    }

    /// The same finding met at another sighting of its blob, `origin`: another path and
    /// commit, or no ref reaching it any more, or a ref reaching it now.
    pub(crate) fn at(mut self, origin: &Origin) -> Self {
        if let Some(at) = StoredOrigin::of(origin) {
            self.origin = at;
        }
        self
    }

    /// The finding again, built by its rule in `rules`; `None` if no rule there has its id or
    /// an object id does not parse (a file edited by hand).
    pub(crate) fn finding(&self, rules: &RuleSet) -> Option<Finding> {
        let rule = rules.find(&self.rule)?;
        let secret = self.secret.clone().unwrap_or_else(|| stand_in(&self.redacted, self.prefix_len, self.chars));
        let provenance = Provenance { origin: self.origin.origin()?, members: self.members.clone() };
        let [line, column, end_line, end_column] = self.position;
        let position = Position { line, column, end_line, end_column };
        let mut finding = Finding::new(rule, secret.as_bytes(), self.prefix_len, provenance, position);
        finding.fingerprint = self.fingerprint.clone();
        finding.structure = self.structure;
        finding.decoded = self.decoded.clone();
        finding.commit = self.commit.clone().map(Arc::new);
        finding.occurrences = self.occurrences;
        finding.context = self.context.clone();
        Some(finding)
    }
}

impl StoredOrigin {
    /// `origin` as stored; `None` for one outside history.
    fn of(origin: &Origin) -> Option<Self> {
        Some(match origin {
            Origin::Blob { path, blob, commit } => {
                StoredOrigin::Blob { path: path.clone(), blob: blob.to_string(), commit: commit.to_string() }
            }
            Origin::Unreachable { blob, path } => {
                StoredOrigin::Unreachable { blob: blob.to_string(), path: path.clone() }
            }
            Origin::CommitMessage { commit } => StoredOrigin::CommitMessage { commit: commit.to_string() },
            Origin::TagMessage { name, tag } => StoredOrigin::TagMessage { name: name.clone(), tag: tag.to_string() },
            Origin::UnreachableMessage { object, tag } => {
                StoredOrigin::UnreachableMessage { object: object.to_string(), tag: tag.clone() }
            }
            Origin::File(_) | Origin::Staged(_) | Origin::Head(_) | Origin::Stdin(_) => return None,
        })
    }

    fn origin(&self) -> Option<Origin> {
        let oid = |hex: &str| Oid::from_str(hex).ok();
        Some(match self {
            StoredOrigin::Blob { path, blob, commit } => {
                Origin::Blob { path: path.clone(), blob: oid(blob)?, commit: oid(commit)? }
            }
            StoredOrigin::Unreachable { blob, path } => Origin::Unreachable { blob: oid(blob)?, path: path.clone() },
            StoredOrigin::CommitMessage { commit } => Origin::CommitMessage { commit: oid(commit)? },
            StoredOrigin::TagMessage { name, tag } => Origin::TagMessage { name: name.clone(), tag: oid(tag)? },
            StoredOrigin::UnreachableMessage { object, tag } => {
                Origin::UnreachableMessage { object: oid(object)?, tag: tag.clone() }
            }
        })
    }
}

/// A stand-in for a secret that was not stored, which redacts to the stored `redacted` form
/// (family prefix, `…`, and the last four characters when the secret was long enough to show
/// them), as long as the secret, `chars`, when that is known: a secret too short to show its
/// tail is reported with its length, and a finding recorded again from its stand-in records
/// the same length. It is never the secret: a report with `--show-secrets` shows it as it is.
fn stand_in(redacted: &str, prefix_len: usize, chars: Option<usize>) -> String {
    let prefix = redacted.get(..prefix_len).unwrap_or("");
    let tail = redacted[prefix.len()..].trim_start_matches('…');
    let shown = prefix.chars().count() + tail.chars().count();
    // Hidden characters enough to redact as stored; bounded, since the length is read from
    // a file.
    let (least, most) = match tail.chars().count() {
        0 => (1, MIN_LEN_TO_SHOW_TAIL - 1),
        tail => (MIN_LEN_TO_SHOW_TAIL.saturating_sub(tail), MAX_STAND_IN),
    };
    let hidden = chars.map_or(least, |chars| chars.saturating_sub(shown).clamp(least, most));
    format!("{prefix}{}{tail}", "…".repeat(hidden))
}

/// The most characters a stand-in hides: far more than any rule's secret.
const MAX_STAND_IN: usize = 4096;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::redact::redact;
    use crate::scan::tests::project_key;

    #[test]
    fn a_stand_in_redacts_to_the_stored_form() {
        let key = project_key();
        for (secret, prefix_len) in [(key.as_str(), 8), ("short-one", 6), ("abcdefghijklmnopqrstuvwxyz", 0)] {
            let redacted = redact(secret, prefix_len);
            let chars = secret.chars().count();
            for stand_in in [stand_in(&redacted, prefix_len, None), stand_in(&redacted, prefix_len, Some(chars))] {
                assert_eq!(redact(&stand_in, prefix_len), redacted);
                assert_ne!(stand_in, secret);
            }
            assert_eq!(stand_in(&redacted, prefix_len, Some(chars)).chars().count(), chars, "{secret}");
        }
        let edited = stand_in("short…", 5, Some(usize::MAX));
        assert_eq!(redact(&edited, 5), "short…", "a length edited into the file changes nothing shown");
        let long = stand_in("sk-…abcd", 3, Some(usize::MAX));
        assert_eq!((redact(&long, 3).as_str(), long.chars().count()), ("sk-…abcd", 3 + MAX_STAND_IN + 4));
    }

    #[test]
    fn a_finding_stored_without_its_secret_reads_back_the_same_but_for_the_secret() {
        let rules = RuleSet::builtin().unwrap();
        let rule = rules.find("openai-api-key").unwrap();
        let origin = Origin::Blob { path: "app/.env".into(), blob: Oid::zero(), commit: Oid::zero() };
        let position = Position { line: 2, column: 5, end_line: 2, end_column: 60 };
        let mut finding = Finding::new(rule, project_key().as_bytes(), 8, Provenance::new(origin), position);
        finding.occurrences = Some(3);
        finding.commit = Some(Arc::new(CommitInfo { id: "c0ffee".into(), ..CommitInfo::default() }));
        let stored = Stored::of(&finding, false).unwrap();
        let json = serde_json::to_string(&stored).unwrap();
        assert!(!json.contains(&project_key()), "{json}");
        let back: Stored = serde_json::from_str(&json).unwrap();
        let again = back.finding(&rules).unwrap();
        assert_eq!(again.redacted_secret(), finding.redacted_secret());
        assert_eq!(Stored::of(&again, false), Some(stored), "recorded again from its stand-in, the same");
        assert_eq!(Finding { secret: finding.secret.clone(), ..again }, finding);
        let kept = Stored::of(&finding, true).unwrap().finding(&rules).unwrap();
        assert_eq!(kept, finding);
    }

    #[test]
    fn every_origin_in_history_is_stored_and_a_blobs_finding_recalled_where_it_is_met() {
        let rules = RuleSet::builtin().unwrap();
        let rule = rules.find("openai-api-key").unwrap();
        let (blob, commit) = (Oid::from_bytes(&[1; 20]).unwrap(), Oid::from_bytes(&[2; 20]).unwrap());
        let position = Position { line: 1, column: 1, end_line: 1, end_column: 2 };
        let found = |origin| Finding::new(rule, project_key().as_bytes(), 8, Provenance::new(origin), position);
        let unreachable = Origin::Unreachable { blob, path: Some("app/.env".into()) };
        let origins = [
            Origin::Blob { path: "app/.env".into(), blob, commit },
            unreachable.clone(),
            Origin::Unreachable { blob, path: None },
            Origin::CommitMessage { commit },
            Origin::TagMessage { name: "v1".into(), tag: commit },
            Origin::UnreachableMessage { object: commit, tag: None },
            Origin::UnreachableMessage { object: commit, tag: Some("v1".into()) },
        ];
        for origin in origins {
            let stored: Stored = serde_json::from_str(&to_json(&found(origin.clone()))).unwrap();
            assert_eq!(stored.finding(&rules).unwrap().provenance.origin, origin);
        }
        assert!(Stored::of(&found(Origin::File("app/.env".into())), false).is_none());
        // Stored unreachable, met at a commit now (a branch made at it), and the other way.
        let reached = Origin::Blob { path: "config/.env".into(), blob, commit };
        let stored = Stored::of(&found(unreachable.clone()), false).unwrap();
        let again = stored.at(&reached).finding(&rules).unwrap();
        assert_eq!((again.provenance.origin, again.path.as_str()), (reached.clone(), "config/.env"));
        let stored = Stored::of(&found(reached), false).unwrap();
        assert_eq!(stored.at(&unreachable).finding(&rules).unwrap().provenance.origin, unreachable);
    }

    fn to_json(finding: &Finding) -> String {
        serde_json::to_string(&Stored::of(finding, false).unwrap()).unwrap()
    }
}
