//! The steps after scanning, in the order they run:
//!
//! ```text
//! collect → filter → sort → verify (optional) → report
//! ```
//!
//! - **collect**: the findings of every worker thread (a [`FindingSink`]), with what the source
//!   read and what the scanner counted inside blobs.
//! - **filter**: the [`Filters`] in their order (see [`crate::filter`]), each drop counted once
//!   under its reason. Inline allow comments are decided while scanning and arrive with the
//!   findings; `keyhound staged`'s last filter, [`ScanOutcome::drop_already_in_head`], runs on
//!   the sorted findings and keeps their order.
//! - **sort**: by path, line, column and rule, so that the report does not depend on which
//!   thread finished first.
//! - **verify** (`--verify` only): [`verify()`] lists live keys first and returns the
//!   providers' answers, which travel beside the outcome, not inside it.
//! - **group** (`keyhound history`, unless `--group-by location`): the outcome carries what
//!   history knows of each secret ([`group::Secrets`]: its exposure, the commits' order), and
//!   the text and JSON reporters list one entry per secret (see [`group`]).
//! - **report**: the command hands the outcome and the verifications to
//!   [`crate::cmd::emit`], which writes the report and summary and makes no network call.

pub(crate) mod group;

use std::collections::BTreeMap;
use std::time::Duration;

use crate::filter::already_in_head::AlreadyInHead;
use crate::filter::{DropReason, Filtered, Filters};
use crate::finding::Finding;
use crate::scan::FindingSink;
use crate::source::SourceStats;
use crate::verify::{self, Verifications, Verified, VerifyOptions};

/// What a scan collected, before the filters: the scanner's findings (with what it dropped and
/// counted inside blobs), what the source read and skipped, and, for a history scan grouped by
/// secret, what history knows of every secret found. A datastore keeps this for an unchanged
/// history (filters may change between runs; what was collected does not).
#[derive(Debug, Default)]
pub(crate) struct Collected {
    /// The scanner's findings, drops and counts.
    pub sink: FindingSink,
    /// What the source read and skipped.
    pub stats: SourceStats,
    /// What history knows of each secret found, reported or not.
    pub secrets: Option<group::Secrets>,
}

impl Collected {
    /// Filters, sorts and counts (see [`ScanOutcome::new`]); keeps what history knows of the
    /// secrets still reported. The caller times the scan.
    pub(crate) fn filter(self, filters: &Filters) -> ScanOutcome {
        let mut outcome = ScanOutcome::new(self.sink, filters, self.stats, Duration::ZERO);
        outcome.secrets = self.secrets.map(|secrets| secrets.reported(filters, &outcome.findings));
        outcome
    }
}

/// The result of a scan of any source, ready for the reporters.
#[derive(Debug, Default, Clone)]
pub(crate) struct ScanOutcome {
    /// Reported findings, in output order.
    pub findings: Vec<Finding>,
    /// How many findings were dropped, by reason.
    pub dropped: BTreeMap<DropReason, usize>,
    /// Ignore-file and baseline entries that matched nothing (with `--report-unused`).
    pub unused: Vec<String>,
    /// What the source read and skipped.
    pub stats: SourceStats,
    /// Wall-clock time of the scan.
    pub elapsed: Duration,
    /// History scans reported one entry per secret: what history knows of each (see
    /// [`group`]); `None` reports one entry per location.
    pub secrets: Option<group::Secrets>,
}

impl ScanOutcome {
    /// Collects, filters and sorts: applies `filters` to the findings of `sink`, sorts what
    /// they keep, and counts the drops (the sink's own, from inline allow comments, first).
    /// What the scanner counted inside blobs is added to the source's `stats`.
    pub(crate) fn new(sink: FindingSink, filters: &Filters, stats: SourceStats, elapsed: Duration) -> Self {
        let stats = collect(stats, sink.stats);
        let Filtered { kept: mut findings, dropped, unused } = filters.apply(sink.findings, sink.dropped);
        findings.sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
        let mut outcome = ScanOutcome { findings, dropped: BTreeMap::new(), unused, stats, elapsed, secrets: None };
        outcome.count_dropped(dropped);
        outcome
    }

    /// Filter 5, `keyhound staged`'s: drops the findings whose secret `HEAD` already holds,
    /// counted under [`DropReason::AlreadyInHead`], and returns them, in order, for the
    /// warning that lists them.
    pub(crate) fn drop_already_in_head(&mut self, head: &AlreadyInHead) -> Vec<Finding> {
        let held: Vec<Finding> = self.findings.extract_if(.., |finding| head.drop_reason(finding).is_some()).collect();
        self.count_dropped(held.iter().filter_map(|finding| head.drop_reason(finding)));
        held
    }

    /// True when something could not be scanned.
    pub(crate) fn is_incomplete(&self) -> bool {
        !self.stats.errors.is_empty()
    }

    fn count_dropped(&mut self, reasons: impl IntoIterator<Item = DropReason>) {
        for reason in reasons {
            *self.dropped.entry(reason).or_insert(0) += 1;
        }
    }

    /// Lists the findings in `order`, a permutation of their indexes, moving each once.
    fn reorder(&mut self, order: &[usize]) {
        let mut slots: Vec<Option<Finding>> = std::mem::take(&mut self.findings).into_iter().map(Some).collect();
        self.findings =
            order.iter().map(|&index| slots[index].take().expect("the order lists each index once")).collect();
    }
}

/// The verify step, with `--verify` (`options`): asks the providers about each distinct
/// secret once and lists live keys first. The answers are returned, to travel beside the
/// outcome to the reporters; without `options` there are none and nothing moves.
pub(crate) fn verify(outcome: &mut ScanOutcome, options: Option<&VerifyOptions>) -> Verifications {
    let Some(options) = options else { return Verifications::new() };
    let Verified { verifications, live_first } = verify::verify(&outcome.findings, options);
    outcome.reorder(&live_first);
    verifications
}

/// The source's `stats` with what the scanner counted inside blobs added.
fn collect(mut stats: SourceStats, mut nested: SourceStats) -> SourceStats {
    // Threads finish blobs in any order; the summary should not.
    nested.warnings.sort();
    nested.skipped.sort_by(|a, b| a.path.cmp(&b.path));
    stats.merge(nested);
    stats
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::filter::tests::{finding, one_drop_each, one_of_each};

    fn outcome(findings: Vec<Finding>, dropped: Vec<DropReason>, filters: &Filters) -> ScanOutcome {
        let sink = FindingSink { findings, dropped, stats: SourceStats::default() };
        ScanOutcome::new(sink, filters, SourceStats::default(), Duration::ZERO)
    }

    #[test]
    fn each_drop_is_counted_once_under_the_first_filter_that_drops_it() {
        let found = one_of_each();
        let outcome = outcome(found.to_vec(), vec![DropReason::InlineAllow], &one_drop_each());
        let expected = [
            (DropReason::InlineAllow, 1),
            (DropReason::AllowlistedSecret, 1),
            (DropReason::IgnoreFile, 1),
            (DropReason::Baseline, 1),
        ];
        assert_eq!(outcome.dropped, BTreeMap::from(expected));
        assert_eq!(outcome.findings, [found[3].clone()]);
        // What an earlier filter dropped never reached the ignore file or the baseline.
        assert_eq!(outcome.unused.len(), 3, "{:?}", outcome.unused);
    }

    #[test]
    fn findings_are_sorted_and_what_the_scanner_counted_is_added_in_order() {
        let mut nested = SourceStats { warnings: vec!["b".into(), "a".into()], ..SourceStats::default() };
        nested.nested.members = 2;
        let sink = FindingSink {
            findings: vec![finding("b", "tok_1"), finding("a", "tok_2")],
            dropped: Vec::new(),
            stats: nested,
        };
        let stats = SourceStats { blobs: 3, ..SourceStats::default() };
        let outcome = ScanOutcome::new(sink, &Filters::default(), stats, Duration::ZERO);
        let paths: Vec<&str> = outcome.findings.iter().map(|finding| finding.path.as_str()).collect();
        assert_eq!(paths, ["a", "b"]);
        assert_eq!((outcome.stats.blobs, outcome.stats.nested.members), (3, 2));
        assert_eq!(outcome.stats.warnings, ["a", "b"]);
        assert!(outcome.dropped.is_empty());
    }

    #[test]
    fn findings_at_one_place_come_in_one_order_whatever_order_they_were_found_in() {
        let order = |findings: Vec<Finding>| {
            let sink = FindingSink { findings, dropped: Vec::new(), stats: SourceStats::default() };
            let outcome = ScanOutcome::new(sink, &Filters::default(), SourceStats::default(), Duration::ZERO);
            outcome.findings.iter().map(|finding| finding.fingerprint.clone()).collect::<Vec<_>>()
        };
        let (first, second) = (finding("a", "tok_1"), finding("a", "tok_2"));
        assert_eq!(order(vec![first.clone(), second.clone()]), order(vec![second, first]));
    }

    #[test]
    fn reordering_moves_the_findings_only() {
        let found = one_of_each();
        let mut outcome = outcome(found.to_vec(), vec![DropReason::InlineAllow], &Filters::default());
        let before = outcome.clone();
        outcome.reorder(&[2, 0, 3, 1]);
        assert_eq!(outcome.findings, [2, 0, 3, 1].map(|index| before.findings[index].clone()));
        assert_eq!((outcome.dropped, outcome.unused), (before.dropped, before.unused));
    }

    #[test]
    fn without_verify_there_are_no_verifications_and_the_order_stays() {
        let mut outcome = outcome(one_of_each().to_vec(), Vec::new(), &Filters::default());
        let before = outcome.findings.clone();
        assert!(verify(&mut outcome, None).is_empty());
        assert_eq!(outcome.findings, before);
    }

    #[test]
    fn already_in_head_drops_last_keeps_the_order_and_returns_what_it_dropped() {
        let found = ["tok_old", "tok_dummy", "tok_new", "tok_old2"].map(|secret| finding("z", secret));
        let mut outcome = outcome(found.to_vec(), Vec::new(), &one_drop_each());
        assert!(outcome.drop_already_in_head(&AlreadyInHead::default()).is_empty());
        assert!(!outcome.dropped.contains_key(&DropReason::AlreadyInHead), "nothing held, nothing counted");
        // HEAD holds the allowlisted secret too: dropped already, it is counted once.
        let held = ["tok_old2", "tok_dummy", "tok_old"].map(|secret| finding("old", secret));
        let dropped = outcome.drop_already_in_head(&AlreadyInHead::new(held.to_vec()));
        assert_eq!(dropped, [found[0].clone(), found[3].clone()]);
        assert_eq!(outcome.findings, [found[2].clone()]);
        let expected = [(DropReason::AllowlistedSecret, 1), (DropReason::AlreadyInHead, 2)];
        assert_eq!(outcome.dropped, BTreeMap::from(expected));
    }
}
