//! The one driver between sources and the scanner: whatever the source, it builds the thread
//! pool (for sources that read in parallel), gives each reading thread its own
//! [`BlobScanner`] (matcher scratch) and [`FindingSink`], counts the blobs and bytes scanned
//! for the progress display and the summary, records what could not be read, and merges the
//! threads' findings into one sink.
//!
//! A source decides only how its units are read (see [`crate::source`]): the driver hands it
//! a factory of per-thread [`Visitor`]s. Each visitor flushes its findings to the shared sink
//! after a unit that produced any, so a lock is taken only when there is something to move.
//! A driver given a [`Journal`] (a scan into a datastore) also appends each blob of history it
//! scanned whole, with its findings, as the blob is done.

pub(crate) mod history;
mod journal;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

use crate::error::Result;
use crate::matcher::Matcher;
use crate::scan::{BlobScanner, ExpandOptions, FindingSink};
use crate::source::{Origin, Skipped, Source, SourceStats, Visitor};
use crate::threads;
pub(crate) use journal::{Finished, Journal};

/// Scans what sources hand it with one matcher and one set of expand options.
pub(crate) struct Driver<'m> {
    matcher: &'m Matcher,
    expand: &'m ExpandOptions,
    threads: usize,
    counters: Counters,
    journal: Option<&'m Journal>,
}

/// Blobs and bytes scanned so far, by every thread: read live by the progress display.
#[derive(Debug, Default)]
pub(crate) struct Counters {
    blobs: AtomicU64,
    bytes: AtomicU64,
}

impl Counters {
    /// Blobs scanned so far.
    pub(crate) fn blobs(&self) -> u64 {
        self.blobs.load(Ordering::Relaxed)
    }

    /// Bytes scanned so far.
    pub(crate) fn bytes(&self) -> u64 {
        self.bytes.load(Ordering::Relaxed)
    }
}

/// What a source's units yielded.
#[derive(Debug)]
pub(crate) struct Scanned<T> {
    /// The findings and drops of every thread, and what the scanner counted inside blobs
    /// (archive members, decoded texts).
    pub sink: FindingSink,
    /// The blobs and bytes scanned, and the units skipped or unreadable, named.
    pub read: SourceStats,
    /// What the source counted besides.
    pub output: T,
}

impl Scanned<SourceStats> {
    /// The findings, and the source's stats with the driver's added: what the summary reports.
    pub(crate) fn into_parts(self) -> (FindingSink, SourceStats) {
        let mut stats = self.output;
        stats.merge(self.read);
        (self.sink, stats)
    }
}

impl<'m> Driver<'m> {
    /// A driver running parallel sources on `threads` worker threads.
    pub(crate) fn new(matcher: &'m Matcher, expand: &'m ExpandOptions, threads: usize) -> Self {
        Driver { matcher, expand, threads, counters: Counters::default(), journal: None }
    }

    /// The same driver, appending each blob of history it scans whole to `journal`, if any.
    pub(crate) fn journaling(self, journal: Option<&'m Journal>) -> Self {
        Driver { journal, ..self }
    }

    /// The live counters, for the progress display.
    pub(crate) fn counters(&self) -> &Counters {
        &self.counters
    }

    /// A scanner like each reading thread's, for text shown beside findings (see
    /// [`BlobScanner::redact_fields`]).
    pub(crate) fn scanner(&self) -> BlobScanner<'m> {
        BlobScanner::new(self.matcher, self.expand)
    }

    /// Reads every unit of `source` and scans it.
    pub(crate) fn drive<S: Source>(&self, source: S) -> Result<Scanned<S::Output>> {
        let pool = if S::PARALLEL { Some(threads::pool(self.threads)?) } else { None };
        let gathered = Mutex::new(Gathered::default());
        let (blobs, bytes) = (self.counters.blobs(), self.counters.bytes());
        let output = source.feed(pool.as_ref(), &|| Lane::new(self, &gathered))?;
        let Gathered { sink, mut read } = gathered.into_inner().expect("reading threads have finished");
        read.blobs = self.counters.blobs() - blobs;
        read.bytes = self.counters.bytes() - bytes;
        Ok(Scanned { sink, read, output })
    }
}

/// What the reading threads moved out of their lanes.
#[derive(Debug, Default)]
struct Gathered {
    sink: FindingSink,
    /// Units skipped and unreadable.
    read: SourceStats,
}

/// One reading thread's scanner and findings.
struct Lane<'d> {
    scanner: BlobScanner<'d>,
    local: FindingSink,
    counters: &'d Counters,
    gathered: &'d Mutex<Gathered>,
    journal: Option<&'d Journal>,
}

impl<'d> Lane<'d> {
    fn new(driver: &'d Driver, gathered: &'d Mutex<Gathered>) -> Self {
        Lane {
            scanner: driver.scanner(),
            local: FindingSink::default(),
            counters: &driver.counters,
            gathered,
            journal: driver.journal,
        }
    }

    fn gathered(&self) -> std::sync::MutexGuard<'d, Gathered> {
        self.gathered.lock().expect("no thread panics while holding the lock")
    }

    /// Moves this unit's findings out, if it had any.
    fn flush(&mut self) {
        if !self.local.is_empty() {
            self.gathered().sink.absorb(&mut self.local);
        }
    }
}

impl Visitor for Lane<'_> {
    fn blob(&mut self, bytes: &[u8], origin: impl FnOnce() -> Origin) {
        match self.journal {
            // The lane's sink is empty before each unit (it is flushed after each), so what
            // it holds after the scan is this blob's findings.
            Some(journal) => {
                let origin = origin();
                let blob = origin.blob();
                self.scanner.scan(bytes, || origin, &mut self.local);
                if let Some(blob) = blob {
                    journal.push(blob, &self.local.findings);
                }
            }
            None => self.scanner.scan(bytes, origin, &mut self.local),
        }
        self.counters.blobs.fetch_add(1, Ordering::Relaxed);
        self.counters.bytes.fetch_add(bytes.len() as u64, Ordering::Relaxed);
        self.flush();
    }

    fn message(&mut self, text: &[u8], origin: Origin) {
        self.scanner.scan(text, || origin, &mut self.local);
        self.flush();
    }

    fn skip(&mut self, skipped: Skipped) {
        self.gathered().read.skipped.push(skipped);
    }

    fn fail(&mut self, error: String) {
        self.gathered().read.errors.push(error);
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::rules::RuleSet;
    use crate::scan::tests::project_key;
    use crate::source::{Provenance, SkipReason};

    /// Files by name and bytes, read on the calling thread or on the pool, with a unit
    /// skipped and one unreadable.
    struct Units<const PARALLEL: bool>(Vec<(&'static str, Vec<u8>)>);

    impl<const P: bool> Source for Units<P> {
        type Output = SourceStats;
        const PARALLEL: bool = P;

        fn feed<V, F>(self, pool: Option<&rayon::ThreadPool>, visitors: &F) -> Result<SourceStats>
        where
            V: Visitor + Send,
            F: Fn() -> V + Sync + ?Sized,
        {
            assert_eq!(pool.map(rayon::ThreadPool::current_num_threads), P.then_some(2));
            let mut visitor = visitors();
            for (name, bytes) in self.0 {
                visitor.blob(&bytes, || Origin::File(name.into()));
            }
            visitor.skip(Skipped { path: "big.bin".into(), reason: SkipReason::TooLarge { size: 9 } });
            visitor.fail("bad.txt: unreadable".into());
            Ok(SourceStats { not_regular: 1, ..SourceStats::default() })
        }
    }

    fn driven<const P: bool>(units: Units<P>) -> (FindingSink, SourceStats) {
        let matcher = Matcher::new(Arc::new(RuleSet::builtin().unwrap()));
        let expand = ExpandOptions::default();
        Driver::new(&matcher, &expand, 2).drive(units).unwrap().into_parts()
    }

    #[test]
    fn findings_carry_their_origin_and_reads_are_counted_skipped_and_failed() {
        let env = format!("OPENAI_API_KEY={}\n", project_key()).into_bytes();
        let bytes = (env.len() + 7) as u64;
        let (sink, stats) = driven(Units::<false>(vec![("app/.env", env), ("b.txt", b"nothing".to_vec())]));
        assert_eq!(sink.findings.len(), 1);
        assert_eq!(sink.findings[0].provenance, Provenance::new(Origin::File("app/.env".into())));
        assert_eq!(sink.findings[0].path, "app/.env");
        assert_eq!((stats.blobs, stats.bytes, stats.not_regular), (2, bytes, 1));
        assert_eq!(stats.skipped.len(), 1);
        assert_eq!(stats.errors, ["bad.txt: unreadable"]);
    }

    #[test]
    fn parallel_sources_get_a_pool_of_the_drivers_threads() {
        let (sink, stats) = driven(Units::<true>(vec![("a", b"x".to_vec())]));
        assert!(sink.findings.is_empty());
        assert_eq!(stats.blobs, 1);
    }

    /// Blobs of history by id and bytes, then a commit message holding `message`.
    struct History {
        blobs: Vec<(git2::Oid, Vec<u8>)>,
        message: Vec<u8>,
    }

    impl Source for History {
        type Output = ();
        const PARALLEL: bool = false;

        fn feed<V, F>(self, _: Option<&rayon::ThreadPool>, visitors: &F) -> Result<()>
        where
            V: Visitor + Send,
            F: Fn() -> V + Sync + ?Sized,
        {
            let mut visitor = visitors();
            let commit = git2::Oid::zero();
            for (blob, bytes) in self.blobs {
                visitor.blob(&bytes, || Origin::Blob { path: ".env".into(), blob, commit });
            }
            visitor.message(&self.message, Origin::CommitMessage { commit });
            Ok(())
        }
    }

    #[test]
    fn a_journal_gets_each_blob_of_history_with_its_findings_and_no_message() {
        let matcher = Matcher::new(Arc::new(RuleSet::builtin().unwrap()));
        let expand = ExpandOptions::default();
        let journal = Journal::default();
        let env = format!("OPENAI_API_KEY={}\n", project_key()).into_bytes();
        let (a, b) = (git2::Oid::from_bytes(&[1; 20]).unwrap(), git2::Oid::from_bytes(&[2; 20]).unwrap());
        let history = History { blobs: vec![(a, env.clone()), (b, b"clean".to_vec())], message: env };
        let driver = Driver::new(&matcher, &expand, 1).journaling(Some(&journal));
        let scanned = driver.drive(history).unwrap();
        assert_eq!(scanned.sink.findings.len(), 2, "the blob's and the message's");
        let finished = journal.take();
        assert_eq!(finished.blobs, [a, b]);
        assert_eq!(finished.findings, scanned.sink.findings[..1]);
    }

    #[test]
    fn each_drive_counts_its_own_units_and_the_counters_all() {
        let matcher = Matcher::new(Arc::new(RuleSet::builtin().unwrap()));
        let expand = ExpandOptions::default();
        let driver = Driver::new(&matcher, &expand, 1);
        driver.drive(Units::<false>(vec![("a", b"xy".to_vec())])).unwrap();
        let second = driver.drive(Units::<false>(vec![("b", b"z".to_vec())])).unwrap();
        assert_eq!((second.read.blobs, second.read.bytes), (1, 1));
        assert_eq!((driver.counters().blobs(), driver.counters().bytes()), (2, 3));
    }
}
