//! What the datastore keeps of a repository's latest scan to answer for an unchanged history:
//! everything the scan collected before the filters ([`Collected`]), stored beside the digest
//! of what it depended on (`crate::source::history::tips`). Filters run again on every answer,
//! so an allowlist or baseline changed since still applies; the rules version and the digest
//! decide whether the answer may be given at all.
//!
//! A scan that could not read everything leaves no snapshot: the next run tries again.

use std::collections::HashMap;

use git2::Oid;
use serde::{Deserialize, Serialize};

use super::Stored;
use crate::filter::DropReason;
use crate::finding::Finding;
use crate::pipeline::group::Secrets;
use crate::pipeline::Collected;
use crate::rules::RuleSet;
use crate::scan::FindingSink;
use crate::source::history::Exposure;
use crate::source::{NestedStats, SourceStats};

/// A scan's collected results, as stored.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct Snapshot {
    findings: Vec<Stored>,
    dropped: Vec<DropReason>,
    /// What the scanner counted inside blobs.
    scanner: SourceStats,
    /// What the history source read and skipped.
    stats: SourceStats,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    secrets: Option<StoredSecrets>,
}

/// What history knew of each secret, as stored.
#[derive(Debug, Serialize, Deserialize)]
struct StoredSecrets {
    exposure: HashMap<String, Exposure>,
    /// The place in the scan of each commit a finding or copy names (hex id): all that
    /// ordering their locations needs.
    order: Vec<(String, usize)>,
    copies: Vec<Stored>,
}

impl Snapshot {
    /// `collected` as stored (secrets redacted unless `store_secrets`); `None` when it should
    /// not answer for a later run: the scan was incomplete, or a finding has no place in
    /// history to store.
    pub(crate) fn of(collected: &Collected, store_secrets: bool) -> Option<Snapshot> {
        let Collected { sink, stats, secrets } = collected;
        if !stats.errors.is_empty() || !sink.stats.errors.is_empty() {
            return None;
        }
        let secrets = match secrets {
            Some(secrets) => Some(StoredSecrets::of(secrets, &sink.findings, store_secrets)?),
            None => None,
        };
        Some(Snapshot {
            findings: stored(&sink.findings, store_secrets)?,
            dropped: sink.dropped.clone(),
            scanner: sink.stats.clone(),
            stats: stats.clone(),
            secrets,
        })
    }

    /// What the scan collected, as this run's: nothing was read, so nothing is counted as
    /// scanned, and a note says where the findings came from. `None` when a finding's rule is
    /// no longer in `rules` (the file was edited by hand: the rules version covers the rules).
    pub(crate) fn collected(self, rules: &RuleSet) -> Option<Collected> {
        let Snapshot { findings, dropped, scanner, mut stats, secrets } = self;
        stats.notes.push(
            "unchanged since the datastore's last scan (same refs, same rules): its findings are reported, \
             no blob was read"
                .into(),
        );
        let sink = FindingSink { findings: found(&findings, rules)?, dropped, stats: unread(scanner) };
        let secrets = match secrets {
            Some(secrets) => Some(secrets.secrets(rules)?),
            None => None,
        };
        Some(Collected { sink, stats: unread(stats), secrets })
    }

    /// Whether it knows what history holds of each secret (a scan grouped by secret needs it).
    pub(crate) fn has_secrets(&self) -> bool {
        self.secrets.is_some()
    }
}

impl StoredSecrets {
    fn of(secrets: &Secrets, findings: &[Finding], store_secrets: bool) -> Option<StoredSecrets> {
        let placed =
            findings.iter().chain(&secrets.copies).filter_map(|finding| finding.provenance.origin.git_object());
        let order = placed
            .filter_map(|id| secrets.order.get(&id).map(|place| (id, *place)))
            .collect::<HashMap<Oid, usize>>()
            .into_iter()
            .map(|(id, place)| (id.to_string(), place))
            .collect();
        Some(StoredSecrets {
            exposure: secrets.exposure.clone(),
            order,
            copies: stored(&secrets.copies, store_secrets)?,
        })
    }

    fn secrets(self, rules: &RuleSet) -> Option<Secrets> {
        let order: Option<HashMap<Oid, usize>> =
            self.order.iter().map(|(id, place)| Some((Oid::from_str(id).ok()?, *place))).collect();
        Some(Secrets { exposure: self.exposure, order: order?, copies: found(&self.copies, rules)? })
    }
}

fn stored(findings: &[Finding], store_secrets: bool) -> Option<Vec<Stored>> {
    findings.iter().map(|finding| Stored::of(finding, store_secrets)).collect()
}

fn found(stored: &[Stored], rules: &RuleSet) -> Option<Vec<Finding>> {
    stored.iter().map(|stored| stored.finding(rules)).collect()
}

/// `stats` with nothing read: what was skipped, warned of and noted stays.
fn unread(stats: SourceStats) -> SourceStats {
    SourceStats { blobs: 0, bytes: 0, nested: NestedStats::default(), ..stats }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lines::Position;
    use crate::scan::tests::project_key;
    use crate::source::history::Status;
    use crate::source::{Origin, Provenance};

    fn collected(rules: &RuleSet) -> Collected {
        let origin =
            Origin::Blob { path: ".env".into(), blob: Oid::zero(), commit: Oid::from_bytes(&[7; 20]).unwrap() };
        let position = Position { line: 1, column: 16, end_line: 1, end_column: 80 };
        let rule = rules.find("openai-api-key").unwrap();
        let finding = Finding::new(rule, project_key().as_bytes(), 8, Provenance::new(origin), position);
        let exposure = Exposure { status: Status::Present, ..Exposure::message() };
        let secrets = Secrets {
            exposure: HashMap::from([(finding.fingerprint.clone(), exposure)]),
            order: HashMap::from([(Oid::from_bytes(&[7; 20]).unwrap(), 3), (Oid::from_bytes(&[8; 20]).unwrap(), 4)]),
            copies: Vec::new(),
        };
        let stats =
            SourceStats { blobs: 9, bytes: 99, notes: vec!["scanned 5 commits".into()], ..SourceStats::default() };
        let sink =
            FindingSink { findings: vec![finding], dropped: vec![DropReason::InlineAllow], stats: stats.clone() };
        Collected { sink, stats, secrets: Some(secrets) }
    }

    #[test]
    fn a_snapshot_answers_with_what_was_collected_redacted_and_nothing_counted_as_read() {
        let rules = RuleSet::builtin().unwrap();
        let before = collected(&rules);
        let json = serde_json::to_string(&Snapshot::of(&before, false).unwrap()).unwrap();
        assert!(!json.contains(&project_key()), "{json}");
        let after = serde_json::from_str::<Snapshot>(&json).unwrap().collected(&rules).unwrap();
        let (found, was) = (&after.sink.findings[0], &before.sink.findings[0]);
        assert_eq!((&found.fingerprint, &found.path, found.position), (&was.fingerprint, &was.path, was.position));
        assert_eq!(found.redacted_secret(), was.redacted_secret());
        assert_eq!(after.sink.dropped, [DropReason::InlineAllow]);
        assert_eq!((after.stats.blobs, after.stats.bytes, after.sink.stats.blobs), (0, 0, 0));
        assert_eq!(after.stats.notes[0], "scanned 5 commits");
        assert!(after.stats.notes[1].starts_with("unchanged since the datastore's last scan"));
        let secrets = after.secrets.unwrap();
        assert_eq!(secrets.exposure, before.secrets.as_ref().unwrap().exposure);
        assert_eq!(secrets.order, HashMap::from([(Oid::from_bytes(&[7; 20]).unwrap(), 3)]), "only commits named");
    }

    #[test]
    fn an_incomplete_scan_leaves_no_snapshot() {
        let rules = RuleSet::builtin().unwrap();
        let mut incomplete = collected(&rules);
        incomplete.stats.errors.push("blob x: unreadable".into());
        assert!(Snapshot::of(&incomplete, false).is_none());
    }
}
