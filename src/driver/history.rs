//! History's steps over the findings the driver gathered: who introduced each one (shown
//! redacted), how many places in the scanned history hold each secret, which blobs hold each
//! (for its exposure), and, of one secret in one file, only the finding from the oldest commit. They decide by each finding's
//! [`Origin`], never by its rendered path.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use git2::{Oid, Repository};

use crate::error::Plain;
use crate::finding::Finding;
use crate::scan::BlobScanner;
use crate::source::history::{self, Attribution};
use crate::source::{CommitInfo, Origin};

/// Where a finding sits, for counting the places that hold a secret.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Place {
    /// A blob (which may sit at several paths).
    Blob(Oid),
    /// The message of this commit or tag.
    Message(Oid),
}

impl Place {
    fn of(origin: &Origin) -> Option<Place> {
        match origin {
            Origin::Blob { blob, .. } | Origin::Unreachable { blob, .. } => Some(Place::Blob(*blob)),
            Origin::CommitMessage { commit } => Some(Place::Message(*commit)),
            Origin::TagMessage { tag, .. } | Origin::UnreachableMessage { object: tag, .. } => {
                Some(Place::Message(*tag))
            }
            Origin::File(_) | Origin::Staged(_) | Origin::Head(_) | Origin::Stdin(_) => None,
        }
    }
}

/// Attributes each finding to the commit (or tag) that carries it, read once per object,
/// with its author, email and message redacted (people paste keys into commit messages).
/// Returns the objects that could not be read, named; their findings stay unattributed.
pub(crate) fn attribute(findings: &mut [Finding], repo: &Repository, scanner: &mut BlobScanner) -> Vec<String> {
    let mut read: HashMap<Oid, Option<Arc<CommitInfo>>> = HashMap::new();
    let mut errors = Vec::new();
    for finding in findings {
        let Some(object) = finding.provenance.origin.git_object() else { continue };
        let info = read.entry(object).or_insert_with(|| match history::describe(repo, object) {
            Ok(attribution) => Some(Arc::new(redacted(scanner, attribution))),
            Err(e) => {
                errors.push(format!("commit {object}: {}", Plain(&e)));
                None
            }
        });
        finding.commit = info.clone();
    }
    errors
}

/// The commit (or tag) as reports show it: its author, email and whole message redacted
/// together, then the summary line taken from the redacted message.
fn redacted(scanner: &mut BlobScanner, attribution: Attribution) -> CommitInfo {
    let [author, email, message] = scanner.redact_fields([&attribution.name, &attribution.email, &attribution.message]);
    CommitInfo {
        id: attribution.id,
        author,
        email,
        date: attribution.date,
        summary: history::summary(message.as_bytes()),
    }
}

/// Sets each finding's `occurrences`: the places in the scanned history that hold the same
/// secret (every distinct path of every blob holding it, `places` counting a blob's paths,
/// and every message).
pub(crate) fn count_occurrences(findings: &mut [Finding], places: &HashMap<Oid, u32>) {
    let mut counted: HashSet<(&str, Place)> = HashSet::new();
    let mut totals: HashMap<String, usize> = HashMap::new();
    for finding in findings.iter() {
        let Some(place) = Place::of(&finding.provenance.origin) else { continue };
        if counted.insert((&finding.fingerprint, place)) {
            let weight = match place {
                Place::Blob(id) => places.get(&id).map_or(1, |&n| n as usize),
                Place::Message(_) => 1,
            };
            *totals.entry(finding.fingerprint.clone()).or_default() += weight;
        }
    }
    for finding in findings {
        finding.occurrences = totals.get(&finding.fingerprint).copied();
    }
}

/// The blobs holding each secret, every version of every file included (a secret only in
/// messages has none): what [`crate::source::history::exposure()`] looks for at the tips.
pub(crate) fn blobs_by_secret(findings: &[Finding]) -> HashMap<String, Vec<Oid>> {
    let mut blobs: HashMap<String, Vec<Oid>> = HashMap::new();
    for finding in findings {
        let held = blobs.entry(finding.fingerprint.clone()).or_default();
        if let Origin::Blob { blob, .. } = finding.provenance.origin {
            held.push(blob);
        }
    }
    for held in blobs.values_mut() {
        held.sort_unstable();
        held.dedup();
    }
    blobs
}

/// The findings the same blobs make at their other paths (`copies`: each blob's other paths,
/// with the first commit holding it there), unattributed: further locations of each secret,
/// for the report grouped by secret. A path where a finding of the same secret is already
/// reported is left out; of several at one path, the oldest of `commits` is kept.
pub(crate) fn copies(findings: &[Finding], copies: &HashMap<Oid, Vec<(String, Oid)>>, commits: &[Oid]) -> Vec<Finding> {
    let reported: HashSet<(&str, &str)> =
        findings.iter().map(|finding| (finding.fingerprint.as_str(), finding.path.as_str())).collect();
    let mut found = Vec::new();
    for finding in findings {
        let Origin::Blob { blob, .. } = finding.provenance.origin else { continue };
        for (path, commit) in copies.get(&blob).into_iter().flatten() {
            let mut copy = finding.clone();
            copy.provenance.origin = Origin::Blob { path: path.clone(), blob, commit: *commit };
            copy.path = copy.provenance.display();
            copy.commit = None;
            if !reported.contains(&(copy.fingerprint.as_str(), copy.path.as_str())) {
                found.push(copy);
            }
        }
    }
    earliest_per_file(found, commits)
}

/// Keeps, of the findings of one secret in one file, those from the oldest of `commits`
/// (parents first). A key that stays in a file while other lines change is in every later
/// version's blob, but was introduced once. Each message is a place of its own.
pub(crate) fn earliest_per_file(findings: Vec<Finding>, commits: &[Oid]) -> Vec<Finding> {
    let order: HashMap<Oid, usize> = commits.iter().enumerate().map(|(i, id)| (*id, i)).collect();
    let rank = |finding: &Finding| match finding.provenance.origin {
        Origin::Blob { commit, .. } => order.get(&commit).copied().unwrap_or(usize::MAX),
        _ => usize::MAX,
    };
    let mut kept = Vec::new();
    let mut by_file: HashMap<(String, String), Vec<Finding>> = HashMap::new();
    for finding in findings {
        if finding.provenance.origin.is_message() {
            kept.push(finding);
        } else {
            by_file.entry((finding.fingerprint.clone(), finding.path.clone())).or_default().push(finding);
        }
    }
    for group in by_file.into_values() {
        let oldest = group.iter().map(rank).min().unwrap_or(usize::MAX);
        kept.extend(group.into_iter().filter(|finding| rank(finding) == oldest));
    }
    kept
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lines::Position;
    use crate::rules::RuleSet;
    use crate::source::Provenance;

    fn oid(n: u8) -> Oid {
        Oid::from_bytes(&[n; 20]).unwrap()
    }

    fn found(secret: &str, origin: Origin) -> Finding {
        let rules = RuleSet::builtin().unwrap();
        let position = Position { line: 1, column: 1, end_line: 1, end_column: 2 };
        Finding::new(&rules.rules()[0], secret.as_bytes(), 0, Provenance::new(origin), position)
    }

    fn blob(secret: &str, path: &str, blob: u8, commit: u8) -> Finding {
        found(secret, Origin::Blob { path: path.into(), blob: oid(blob), commit: oid(commit) })
    }

    #[test]
    fn the_oldest_commit_of_a_secret_in_a_file_wins_and_messages_all_stay() {
        let commits = [oid(1), oid(2), oid(3)];
        let findings = vec![
            blob("key-a", "app/.env", 20, 3),
            blob("key-a", "app/.env", 10, 2),
            blob("key-a", "other/.env", 20, 3),
            found("key-a", Origin::CommitMessage { commit: oid(3) }),
            found("key-a", Origin::TagMessage { name: "v1".into(), tag: oid(4) }),
        ];
        let mut kept: Vec<(String, Option<Oid>)> = earliest_per_file(findings, &commits)
            .into_iter()
            .map(|finding| (finding.path.clone(), finding.provenance.origin.git_object()))
            .collect();
        kept.sort();
        assert_eq!(
            kept,
            [
                ("<commit message>".to_string(), Some(oid(3))),
                ("<tag message: v1>".to_string(), Some(oid(4))),
                ("app/.env".to_string(), Some(oid(2))),
                ("other/.env".to_string(), Some(oid(3))),
            ]
        );
    }

    #[test]
    fn a_file_named_like_a_message_is_still_a_file() {
        let findings = vec![blob("k", "<commit message>", 1, 2), blob("k", "<commit message>", 1, 1)];
        let kept = earliest_per_file(findings, &[oid(1), oid(2)]);
        assert_eq!(kept.len(), 1);
        assert_eq!(kept[0].provenance.origin.git_object(), Some(oid(1)));
    }

    #[test]
    fn every_blob_of_a_secret_is_kept_and_messages_hold_none() {
        let findings = vec![
            blob("key-a", "a", 10, 1),
            blob("key-a", "a", 11, 2),
            blob("key-a", "b", 10, 2),
            found("key-b", Origin::CommitMessage { commit: oid(2) }),
        ];
        let blobs = blobs_by_secret(&findings);
        assert_eq!(blobs[&findings[0].fingerprint], [oid(10), oid(11)]);
        assert!(blobs[&findings[3].fingerprint].is_empty());
    }

    #[test]
    fn copies_are_the_other_paths_of_a_blob_not_already_reported() {
        let findings = vec![blob("key-a", "a", 10, 1), blob("key-a", "b", 11, 2)];
        let places = [(oid(10), vec![("b".to_string(), oid(3)), ("c".to_string(), oid(4)), ("c".to_string(), oid(3))])];
        let found = copies(&findings, &places.into_iter().collect(), &[oid(1), oid(2), oid(3), oid(4)]);
        let found: Vec<(&str, Option<Oid>)> =
            found.iter().map(|finding| (finding.path.as_str(), finding.provenance.origin.git_object())).collect();
        assert_eq!(found, [("c", Some(oid(3)))]);
    }

    #[test]
    fn occurrences_count_each_blob_at_its_paths_and_each_message_once() {
        let mut findings = vec![
            blob("key-a", "a", 10, 1),
            // The same blob found again (another rule, say) is the same place.
            blob("key-a", "a", 10, 1),
            blob("key-a", "b", 11, 2),
            found("key-a", Origin::CommitMessage { commit: oid(2) }),
            blob("key-b", "c", 12, 2),
        ];
        let places = [(oid(10), 3), (oid(11), 1)].into_iter().collect();
        count_occurrences(&mut findings, &places);
        let counts: Vec<Option<usize>> = findings.iter().map(|finding| finding.occurrences).collect();
        assert_eq!(counts, [Some(5), Some(5), Some(5), Some(5), Some(1)]);
    }
}
