//! The group step of `keyhound history` (its default; `--group-by location` skips it): one
//! entry per distinct secret (fingerprint), with every location the scan reported it at,
//! oldest first, and where it is today ([`Exposure`]). The keys to revoke first come first:
//! live keys (with `--verify`), then by severity, still present before removed, newest first.
//!
//! Grouping is a view of the outcome's findings, built by the text and JSON reporters; the
//! findings stay one per location for the formats CI systems place (SARIF, Code Quality, …).

use std::cmp::Reverse;
use std::collections::{HashMap, HashSet};

use git2::Oid;

use crate::filter::Filters;
use crate::finding::Finding;
use crate::source::history::{Exposure, Status};
use crate::verify::Verifications;

/// What a history scan knows about its secrets beyond their findings.
#[derive(Debug, Clone, Default)]
pub(crate) struct Secrets {
    /// Each secret's exposure, by fingerprint.
    pub exposure: HashMap<String, Exposure>,
    /// Each scanned commit's place in the scan, parents first: orders locations oldest first.
    pub order: HashMap<Oid, usize>,
    /// Findings the blobs of reported ones make at their other paths (renames, copies):
    /// further locations, not reported on their own.
    pub copies: Vec<Finding>,
}

impl Secrets {
    /// What is known of the secrets of `reported`: their exposure, and the copies `filters`
    /// keep.
    pub(crate) fn reported(self, filters: &Filters, reported: &[Finding]) -> Secrets {
        let kept: HashSet<&str> = reported.iter().map(|finding| finding.fingerprint.as_str()).collect();
        let Secrets { mut exposure, order, copies } = self;
        exposure.retain(|fingerprint, _| kept.contains(fingerprint.as_str()));
        let mut copies = filters.apply(copies, Vec::new()).kept;
        copies.retain(|copy| kept.contains(copy.fingerprint.as_str()));
        Secrets { exposure, order, copies }
    }
}

/// One distinct secret and every place it was reported at.
#[derive(Debug)]
pub(crate) struct Secret<'a> {
    /// Every finding of the secret, oldest first: the first introduced it.
    pub locations: Vec<&'a Finding>,
    /// Where it is today.
    pub exposure: Exposure,
}

impl<'a> Secret<'a> {
    /// The finding at the location that introduced the secret.
    pub(crate) fn first(&self) -> &'a Finding {
        self.locations[0]
    }
}

/// How many secrets, and how many of them are still at some tip.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Tally {
    /// Distinct secrets.
    pub secrets: usize,
    /// Held by some branch or tag tip today.
    pub present: usize,
    /// Held only by objects no ref reaches.
    pub unreachable: usize,
}

/// Groups `findings` by fingerprint, in report order (see the module docs).
pub(crate) fn group<'a>(
    findings: &'a [Finding],
    secrets: &'a Secrets,
    verifications: &Verifications,
) -> Vec<Secret<'a>> {
    let rank = |finding: &Finding| {
        finding.provenance.origin.git_object().and_then(|id| secrets.order.get(&id).copied()).unwrap_or(usize::MAX)
    };
    let mut by_secret: HashMap<&str, Vec<&Finding>> = HashMap::new();
    for finding in findings.iter().chain(&secrets.copies) {
        by_secret.entry(&finding.fingerprint).or_default().push(finding);
    }
    let mut grouped: Vec<Secret> = by_secret
        .into_iter()
        .map(|(fingerprint, mut locations)| {
            // Stable: findings arrive sorted by path, line and column.
            locations.sort_by_key(|finding| rank(finding));
            let exposure = match secrets.exposure.get(fingerprint) {
                Some(exposure) if exposure.status != Status::Message => exposure.clone(),
                // No ref's history holds it: in a message, or only in objects no ref reaches.
                _ if locations.iter().all(|finding| finding.provenance.origin.is_unreachable()) => {
                    Exposure::unreachable()
                }
                _ => Exposure::message(),
            };
            Secret { locations, exposure }
        })
        .collect();
    grouped.sort_by_cached_key(|secret| {
        let first = secret.first();
        let live = verifications.get(&first.fingerprint).is_some_and(|verified| verified.state.is_live());
        (!live, Reverse(first.severity), secret.exposure.status, Reverse(rank(first)), first.fingerprint.clone())
    });
    grouped
}

/// Counts the secrets, and those a tip holds.
pub(crate) fn tally(grouped: &[Secret]) -> Tally {
    let with = |status| grouped.iter().filter(|secret| secret.exposure.status == status).count();
    Tally { secrets: grouped.len(), present: with(Status::Present), unreachable: with(Status::Unreachable) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lines::Position;
    use crate::rules::{RuleSet, Severity};
    use crate::source::{Origin, Provenance};
    use crate::verify::{State, Verification};

    fn oid(n: u8) -> Oid {
        Oid::from_bytes(&[n; 20]).unwrap()
    }

    fn found(secret: &str, path: &str, commit: u8, severity: Severity) -> Finding {
        let rules = RuleSet::builtin().unwrap();
        let origin = Origin::Blob { path: path.into(), blob: oid(100 + commit), commit: oid(commit) };
        let position = Position { line: 1, column: 1, end_line: 1, end_column: 2 };
        let mut finding = Finding::new(&rules.rules()[0], secret.as_bytes(), 0, Provenance::new(origin), position);
        finding.severity = severity;
        finding
    }

    fn exposed(status: Status) -> Exposure {
        Exposure { status, ..Exposure::message() }
    }

    fn secrets(exposures: &[(&Finding, Status)]) -> Secrets {
        Secrets {
            exposure: exposures
                .iter()
                .map(|(finding, status)| (finding.fingerprint.clone(), exposed(*status)))
                .collect(),
            order: (1..=9).map(|n| (oid(n), usize::from(n))).collect(),
            copies: Vec::new(),
        }
    }

    #[test]
    fn one_entry_per_secret_with_every_location_oldest_first() {
        let findings = vec![
            found("key-a", "a.env", 3, Severity::High),
            found("key-a", "b.env", 1, Severity::High),
            found("key-b", "c.env", 2, Severity::High),
            found("key-a", "c.env", 5, Severity::High),
        ];
        let mut known = secrets(&[(&findings[0], Status::Present), (&findings[2], Status::Present)]);
        known.copies = vec![found("key-a", "copy.env", 4, Severity::High)];
        let grouped = group(&findings, &known, &Verifications::new());
        assert_eq!(grouped.len(), 2);
        let paths: Vec<&str> = grouped[1].locations.iter().map(|finding| finding.path.as_str()).collect();
        assert_eq!(paths, ["b.env", "a.env", "copy.env", "c.env"], "oldest first, copies included");
        assert_eq!(grouped[1].first().path, "b.env");
        assert_eq!(grouped[0].first().path, "c.env", "key-b was introduced last: newest first");
    }

    #[test]
    fn order_is_live_severity_present_then_newest() {
        let findings = vec![
            found("old-present", "a", 1, Severity::High),
            found("new-removed", "b", 4, Severity::High),
            found("new-present", "c", 3, Severity::High),
            found("critical-removed", "d", 2, Severity::Critical),
            found("low-live", "e", 1, Severity::Low),
        ];
        let known = secrets(&[
            (&findings[0], Status::Present),
            (&findings[1], Status::Removed),
            (&findings[2], Status::Present),
            (&findings[3], Status::Removed),
            (&findings[4], Status::Removed),
        ]);
        let order = |verifications: &Verifications| -> Vec<String> {
            group(&findings, &known, verifications).iter().map(|secret| secret.first().path.clone()).collect()
        };
        assert_eq!(order(&Verifications::new()), ["d", "c", "a", "b", "e"]);
        let live = Verification { state: State::Live, provider: Some("openai"), detail: "HTTP 200".into() };
        let verifications = [(findings[4].fingerprint.clone(), live)].into_iter().collect();
        assert_eq!(order(&verifications), ["e", "d", "c", "a", "b"]);
        let grouped = group(&findings, &known, &Verifications::new());
        assert_eq!(tally(&grouped), Tally { secrets: 5, present: 2, unreachable: 0 });
    }

    #[test]
    fn a_secret_only_in_objects_no_ref_reaches_says_so_and_one_in_a_message_too_is_a_message() {
        let rules = RuleSet::builtin().unwrap();
        let at = |secret: &str, origin: Origin| {
            let position = Position { line: 1, column: 1, end_line: 1, end_column: 2 };
            Finding::new(&rules.rules()[0], secret.as_bytes(), 0, Provenance::new(origin), position)
        };
        let findings = vec![
            at("amended", Origin::Unreachable { blob: oid(1), path: Some("a".into()) }),
            at("amended", Origin::UnreachableMessage { object: oid(2), tag: None }),
            at("pasted", Origin::Unreachable { blob: oid(3), path: None }),
            at("pasted", Origin::CommitMessage { commit: oid(4) }),
        ];
        let known = secrets(&[(&findings[0], Status::Message), (&findings[2], Status::Message)]);
        let grouped = group(&findings, &known, &Verifications::new());
        let status = |secret: &str| {
            let fingerprint = &findings.iter().find(|f| f.secret == secret).unwrap().fingerprint;
            grouped.iter().find(|s| &s.first().fingerprint == fingerprint).unwrap().exposure.status
        };
        assert_eq!((status("amended"), status("pasted")), (Status::Unreachable, Status::Message));
    }
}
