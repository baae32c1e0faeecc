//! CPU cost of each scanning stage, without the file system: loads a tree into memory, then
//! runs each stage over every file on one thread and prints its throughput.
//!
//!     cargo bench --bench throughput -- [TREE] [ROUNDS]
//!
//! TREE defaults to this machine's Python standard library. Stages, each including the ones
//! before it: the keyword prefilter alone, the matcher (prefilter, regexes, filters), the
//! scanner with decoding (base64 and UTF-16) and the scanner with archives too. The figure
//! that matters is the best of ROUNDS (default 5) rounds.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use keyhound::matcher::{Matcher, Scratch};
use keyhound::rules::RuleSet;
use keyhound::scan::{BlobScanner, ExpandOptions, FindingSink};
use keyhound::size::DEFAULT_MAX_FILE_SIZE;
use keyhound::source::worktree::{Walk, WalkOptions};
use keyhound::source::{Origin, Skipped, Source, Visitor};

fn main() {
    let mut args = std::env::args().skip(1).filter(|arg| arg != "--bench");
    let tree = args.next().map_or_else(default_tree, PathBuf::from);
    let rounds: usize = args.next().map_or(5, |n| n.parse().expect("ROUNDS is a number"));
    let files = load(&tree);
    let bytes: usize = files.iter().map(Vec::len).sum();
    println!("{}: {} files, {:.0} MiB, best of {rounds} rounds", tree.display(), files.len(), mib(bytes));

    let rules = Arc::new(RuleSet::builtin().expect("built-in rules load"));
    let matcher = Matcher::new(rules);
    let mut scratch = Scratch::default();
    let mut found = Vec::new();
    report(
        "prefilter",
        bytes,
        best_of(rounds, || {
            for file in &files {
                matcher.candidate_rules(file, &mut scratch);
            }
        }),
    );
    report(
        "matcher",
        bytes,
        best_of(rounds, || {
            for file in &files {
                found.clear();
                matcher.find(file, &mut scratch, &mut found);
            }
        }),
    );
    let no_archives = ExpandOptions { archives: None, ..ExpandOptions::default() };
    for (stage, options) in [("+ decoding", no_archives), ("+ archives", ExpandOptions::default())] {
        let mut scanner = BlobScanner::new(&matcher, &options);
        report(
            stage,
            bytes,
            best_of(rounds, || {
                let mut sink = FindingSink::default();
                for file in &files {
                    scanner.scan(file, || Origin::File(String::new()), &mut sink);
                }
            }),
        );
    }
}

fn default_tree() -> PathBuf {
    let output = std::process::Command::new("python3")
        .args(["-c", "import sysconfig;print(sysconfig.get_paths()['stdlib'])"])
        .output()
        .expect("python3 runs; or pass TREE");
    PathBuf::from(String::from_utf8_lossy(&output.stdout).trim())
}

/// The files `keyhound scan --no-ignore ROOT` reads, through its own walker and file-size
/// limit (in the walker's order, which does not matter for a total).
fn load(root: &Path) -> Vec<Vec<u8>> {
    let files = Mutex::new(Vec::new());
    let options = WalkOptions { respect_ignore_files: false, max_file_size: DEFAULT_MAX_FILE_SIZE };
    let pool = keyhound::threads::pool(2).expect("two threads start");
    let roots = [root.to_path_buf()];
    Walk { roots: &roots, options: &options }.feed(Some(&pool), &|| Loader(&files)).expect("TREE exists");
    files.into_inner().expect("no loader panics")
}

/// Keeps a copy of every file read.
struct Loader<'f>(&'f Mutex<Vec<Vec<u8>>>);

impl Visitor for Loader<'_> {
    fn blob(&mut self, bytes: &[u8], _origin: impl FnOnce() -> Origin) {
        self.0.lock().expect("no loader panics").push(bytes.to_vec());
    }

    fn message(&mut self, _text: &[u8], _origin: Origin) {}

    fn skip(&mut self, _skipped: Skipped) {}

    fn fail(&mut self, _error: String) {}
}

fn best_of(rounds: usize, mut run: impl FnMut()) -> Duration {
    (0..rounds)
        .map(|_| {
            let start = Instant::now();
            run();
            start.elapsed()
        })
        .min()
        .expect("at least one round")
}

fn report(stage: &str, bytes: usize, time: Duration) {
    println!("{stage:>12}: {:>7.1} ms  {:>6.0} MiB/s", time.as_secs_f64() * 1e3, mib(bytes) / time.as_secs_f64());
}

fn mib(bytes: usize) -> f64 {
    bytes as f64 / f64::from(1 << 20)
}
