//! The scanning pipeline between a source and the reporters: runs the matcher over each
//! blob, places matches on lines, drops inline-allowed ones, and gathers the findings of all
//! worker threads into one sorted [`ScanOutcome`].

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::Duration;

use crate::filter::{self, DropReason, Filters};
use crate::finding::{self, Finding};
use crate::matcher::{Matcher, RawMatch, Scratch};
use crate::source::SourceStats;
use crate::verify::Verifications;

/// Scans blobs one after another on one thread, reusing its scratch memory.
pub struct BlobScanner<'m> {
    matcher: &'m Matcher,
    scratch: Scratch,
    raw: Vec<RawMatch>,
}

impl<'m> BlobScanner<'m> {
    /// A scanner for one worker thread.
    pub fn new(matcher: &'m Matcher) -> Self {
        BlobScanner { matcher, scratch: Scratch::default(), raw: Vec::new() }
    }

    /// Finds the secrets in `bytes`. `path` is only called when there is something to report.
    pub fn scan(&mut self, bytes: &[u8], path: impl FnOnce() -> String, sink: &mut FindingSink) {
        self.raw.clear();
        self.matcher.find(bytes, &mut self.scratch, &mut self.raw);
        if self.raw.is_empty() {
            return;
        }
        let path = path();
        for found in &self.raw {
            if filter::is_inline_allowed(finding::lines_around(bytes, found.secret.clone())) {
                sink.dropped.push(DropReason::InlineAllow);
                continue;
            }
            let rule = self.matcher.rules().get(found.rule);
            sink.findings.push(Finding::new(rule, bytes, found.secret.clone(), found.prefix_len, path.clone()));
        }
    }

    /// `text` with every secret in it redacted, for text shown next to findings (a commit's
    /// summary line may itself hold a key).
    pub fn redact_secrets(&mut self, text: &str) -> String {
        self.raw.clear();
        self.matcher.find(text.as_bytes(), &mut self.scratch, &mut self.raw);
        self.raw.sort_by_key(|found| found.secret.start);
        let mut out = String::with_capacity(text.len());
        let mut copied = 0;
        for found in &self.raw {
            let Some(secret) = text.get(found.secret.clone()).filter(|_| found.secret.start >= copied) else {
                continue;
            };
            out.push_str(&text[copied..found.secret.start]);
            out.push_str(&finding::redact(secret, found.prefix_len));
            copied = found.secret.end;
        }
        out.push_str(&text[copied..]);
        out
    }
}

/// Findings and drops gathered by one thread, or merged from all.
#[derive(Debug, Default)]
pub struct FindingSink {
    /// Findings kept so far.
    pub findings: Vec<Finding>,
    /// Why the others were dropped.
    pub dropped: Vec<DropReason>,
}

impl FindingSink {
    /// Moves another sink's contents into this one.
    pub fn absorb(&mut self, other: &mut FindingSink) {
        self.findings.append(&mut other.findings);
        self.dropped.append(&mut other.dropped);
    }
}

/// A sink shared by worker threads: each thread fills its own [`FindingSink`] per blob and
/// flushes it here only when it holds something.
#[derive(Debug, Default)]
pub struct SharedSink(Mutex<FindingSink>);

impl SharedSink {
    /// Moves a thread's findings in, if it has any.
    pub fn flush(&self, local: &mut FindingSink) {
        if !local.findings.is_empty() || !local.dropped.is_empty() {
            self.0.lock().expect("no thread panics while holding the lock").absorb(local);
        }
    }

    /// The gathered findings and drops.
    pub fn into_inner(self) -> FindingSink {
        self.0.into_inner().expect("worker threads have finished")
    }
}

/// The result of a scan of any source, ready for the reporters.
#[derive(Debug, Default, Clone)]
pub struct ScanOutcome {
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
    /// `--verify` results by fingerprint (empty without `--verify`).
    pub verifications: Verifications,
}

impl ScanOutcome {
    /// Applies the filters (allowlist, ignore file, baseline), sorts, and counts drops.
    pub fn new(sink: FindingSink, filters: &Filters, stats: SourceStats, elapsed: Duration) -> Self {
        let filter::Filtered { kept: mut findings, dropped: dropped_reasons, unused } =
            filters.apply(sink.findings, sink.dropped);
        findings.sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
        let mut dropped = BTreeMap::new();
        for reason in dropped_reasons {
            *dropped.entry(reason).or_insert(0) += 1;
        }
        ScanOutcome { findings, dropped, unused, stats, elapsed, verifications: Verifications::new() }
    }

    /// True when something could not be scanned.
    pub fn is_incomplete(&self) -> bool {
        !self.stats.errors.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::RuleSet;
    use std::sync::Arc;

    #[test]
    fn redact_secrets_hides_every_key_in_a_line() {
        let key = format!(
            "sk-proj-{}{}{}",
            "Ab1Cd2Ef3Gh4Ij5Kl6Mn7Op8Qr9St0",
            ["T3Blbk", "FJ"].concat(),
            "Uv1Wx2Yz3Ab4Cd5Ef6Gh7Ij8Kl9Mn0"
        );
        let matcher = Matcher::new(Arc::new(RuleSet::builtin().unwrap()));
        let mut scanner = BlobScanner::new(&matcher);
        let text = format!("add {key} and {key}");
        let redacted = scanner.redact_secrets(&text);
        assert!(!redacted.contains(&key), "{redacted}");
        assert_eq!(redacted.matches("sk-proj-…").count(), 2, "{redacted}");
        assert_eq!(scanner.redact_secrets("nothing here"), "nothing here");
    }
}
