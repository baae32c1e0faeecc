//! The journal of a scan into a datastore: each blob the reading threads scanned whole, with
//! the findings the scanner made in it, appended together when the blob is done. Whoever
//! records the scan takes what finished so far while the scan goes on (see
//! `crate::datastore`'s checkpoints), and the rest at its end; a blob is taken once.
//!
//! A blob and its findings go in under one lock, so what is taken never holds a blob without
//! its findings, nor findings of a blob still being scanned. A scan with no datastore keeps no
//! journal.

use std::sync::Mutex;

use git2::Oid;

use crate::finding::Finding;

/// Blobs scanned whole, with what the scanner found in them, since they were last taken.
#[derive(Debug, Default)]
pub(crate) struct Journal(Mutex<Finished>);

/// Blobs scanned whole and the scanner's findings in them (before attribution and filters).
#[derive(Debug, Default, PartialEq)]
pub(crate) struct Finished {
    /// The blobs.
    pub blobs: Vec<Oid>,
    /// Every finding made in them.
    pub findings: Vec<Finding>,
}

impl Finished {
    /// Adds `other`'s blobs and findings to these.
    pub(crate) fn append(&mut self, mut other: Finished) {
        self.blobs.append(&mut other.blobs);
        self.findings.append(&mut other.findings);
    }
}

impl Journal {
    /// Records that `blob` was scanned whole, and made `findings`.
    pub(crate) fn push(&self, blob: Oid, findings: &[Finding]) {
        let mut finished = self.finished();
        finished.blobs.push(blob);
        finished.findings.extend_from_slice(findings);
    }

    /// What finished since the last take.
    pub(crate) fn take(&self) -> Finished {
        std::mem::take(&mut *self.finished())
    }

    /// True when nothing finished since the last take.
    #[cfg(test)]
    pub(crate) fn is_empty(&self) -> bool {
        self.finished().blobs.is_empty()
    }

    fn finished(&self) -> std::sync::MutexGuard<'_, Finished> {
        self.0.lock().expect("no thread panics while holding the journal")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_is_taken_is_taken_once_and_appends_in_order() {
        let journal = Journal::default();
        let (a, b) = (Oid::from_bytes(&[1; 20]).unwrap(), Oid::from_bytes(&[2; 20]).unwrap());
        journal.push(a, &[]);
        let mut first = journal.take();
        assert_eq!(first.blobs, [a]);
        assert_eq!(journal.take(), Finished::default());
        journal.push(b, &[]);
        first.append(journal.take());
        assert_eq!(first.blobs, [a, b]);
    }
}
