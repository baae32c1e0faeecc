//! A run killed inside one large repository resumes there: with `--datastore`, a history scan
//! checkpoints while it runs, and the next run (`history` or `audit`) reads only the blobs no
//! checkpoint recorded, reports what one uninterrupted run reports, and leaves each blob
//! recorded once.

use std::io::Write;
use std::path::Path;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use rusqlite::{Connection, OpenFlags};

use crate::datastore::{datastore_bytes, holds};
use crate::harness::{git_command, FakeKeys, Run, TestEnv, HANG};

/// Commits in the large history, each adding [`FILES`] files.
const COMMITS: usize = 40;
const FILES: usize = 50;
/// Lines in each file (about 60 bytes each).
const LINES: usize = 400;

/// A repository of [`COMMITS`] commits adding [`FILES`] files each, every 97th holding a key
/// of its own, built with `git fast-import` (quick for thousands of blobs); returns it and
/// the keys.
fn large_history(seed: u64) -> (TestEnv, Vec<String>) {
    let env = TestEnv::git_repo();
    let mut keys = FakeKeys::new(seed);
    let mut found = Vec::new();
    let mut stream = Vec::new();
    for commit in 0..COMMITS {
        writeln!(stream, "commit refs/heads/main\ncommitter T <t@example.com> {} +0000", 1_714_564_800 + commit)
            .unwrap();
        let message = format!("commit {commit}");
        write!(stream, "data {}\n{message}\n", message.len()).unwrap();
        for file in 0..FILES {
            let number = commit * FILES + file;
            let mut text: String = (0..LINES)
                .map(|line| format!("file {number} line {line}: nothing to see in here, honestly\n"))
                .collect();
            if number.is_multiple_of(97) {
                let key = keys.project_key();
                text.push_str(&format!("OPENAI_API_KEY={key}\n"));
                found.push(key);
            }
            write!(stream, "M 100644 inline src/{commit}/file-{file}.txt\ndata {}\n{text}\n", text.len()).unwrap();
        }
    }
    let mut import = git_command(env.path()).args(["fast-import", "--quiet"]).stdin(Stdio::piped()).spawn().unwrap();
    import.stdin.take().unwrap().write_all(&stream).unwrap();
    assert!(import.wait().unwrap().success(), "git fast-import");
    (env, found)
}

/// Blob rows recorded, and repositories whose scan was recorded, or `None` while the file or
/// its schema does not exist yet. Read-only, as another process would.
fn recorded(db: &Path) -> Option<(i64, i64)> {
    let conn = Connection::open_with_flags(db, OpenFlags::SQLITE_OPEN_READ_ONLY).ok()?;
    conn.query_row(
        "SELECT (SELECT count(*) FROM blob), (SELECT count(*) FROM repository WHERE scanned_at IS NOT NULL)",
        [],
        |row| Ok((row.get(0)?, row.get(1)?)),
    )
    .ok()
}

/// Kills `child` once `db` holds checkpointed blobs while no scan is recorded: inside the
/// repository's scan. Fails if the scan ends first, or after [`HANG`].
fn kill_at_a_checkpoint(mut child: Child, db: &Path) {
    let started = Instant::now();
    loop {
        if let Some((blobs, _)) = recorded(db).filter(|&(blobs, scans)| blobs > 0 && scans == 0) {
            child.kill().unwrap();
            child.wait().unwrap();
            assert!(blobs > 0);
            return;
        }
        if let Some(status) = child.try_wait().unwrap() {
            panic!("the scan ended ({status}) before a checkpoint was seen: make the history larger");
        }
        if started.elapsed() > HANG {
            child.kill().unwrap();
            child.wait().unwrap();
            panic!("no checkpoint within {HANG:?}");
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// `keyhound history --format json --datastore DB` in `env`, with `extra` arguments.
fn history(env: &TestEnv, db: &Path, extra: &[&str]) -> Run {
    let mut args = vec!["history", "--format", "json", "--datastore", db.to_str().unwrap()];
    args.extend_from_slice(extra);
    env.run(&args)
}

/// `keyhound ARGS --datastore DB --checkpoint-every 0.05` in `place`, killed once a
/// checkpoint is on disk.
fn killed(place: &TestEnv, args: &[&str], db: &Path) {
    let child = place
        .keyhound()
        .args(args)
        .args(["--datastore", db.to_str().unwrap(), "--checkpoint-every", "0.05", "--format", "json"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    kill_at_a_checkpoint(child, db);
}

/// The `N` of the summary's "(N blobs" (history) or "N blobs scanned" (audit).
fn blobs_scanned(run: &Run) -> usize {
    let mut counts = run.stderr.split(" blobs").filter_map(|before| before.rsplit(['(', ' ']).next()?.parse().ok());
    counts.next().unwrap_or_else(|| panic!("no blob count in the summary\n{}", run.stderr))
}

/// Each recorded blob (hex) with its number of stored findings, and the number of blobs.
fn stored(db: &Path) -> (Vec<(String, i64)>, i64) {
    let conn = Connection::open_with_flags(db, OpenFlags::SQLITE_OPEN_READ_ONLY).unwrap();
    let mut statement =
        conn.prepare("SELECT hex(blob), count(*) FROM blob_finding GROUP BY blob ORDER BY hex(blob)").unwrap();
    let per_blob = statement.query_map([], |row| Ok((row.get(0)?, row.get(1)?))).unwrap();
    let per_blob = per_blob.collect::<rusqlite::Result<Vec<_>>>().unwrap();
    let blobs = conn.query_row("SELECT count(*) FROM blob", [], |row| row.get(0)).unwrap();
    (per_blob, blobs)
}

/// Checks the resumed run against an uninterrupted one into a fresh datastore: fewer blobs
/// read, the same findings, and the same rows, each blob with its one finding once.
fn assert_resumed(resumed: &Run, db: &Path, uninterrupted: &Run, fresh: &Path, keys: &[String]) {
    resumed.expect_code(1);
    uninterrupted.expect_code(1);
    let total = blobs_scanned(uninterrupted);
    assert_eq!(total, COMMITS * FILES, "{}", uninterrupted.stderr);
    assert!(blobs_scanned(resumed) < total, "the re-run read what checkpoints recorded\n{}", resumed.stderr);
    assert_eq!(resumed.findings(), uninterrupted.findings(), "nothing lost, nothing twice");
    let (per_blob, blobs) = stored(db);
    assert_eq!((per_blob.len(), blobs), (keys.len(), total as i64));
    assert!(per_blob.iter().all(|(_, findings)| *findings == 1), "{per_blob:?}");
    assert_eq!(stored(db), stored(fresh));
}

#[test]
fn a_history_killed_midway_resumes_where_its_last_checkpoint_was() {
    let (env, keys) = large_history(241);
    let dbs = TestEnv::new();
    let (db, fresh) = (dbs.path().join("k.db"), dbs.path().join("fresh.db"));
    killed(&env, &["history"], &db);
    let checkpointed = datastore_bytes(&dbs);
    assert!(keys.iter().all(|key| !holds(&checkpointed, key)), "a checkpoint stored a secret");
    let resumed = history(&env, &db, &[]);
    let uninterrupted = history(&env, &fresh, &[]);
    assert_resumed(&resumed, &db, &uninterrupted, &fresh, &keys);
    assert_eq!(uninterrupted.findings().len(), keys.len());
}

#[test]
fn a_killed_audit_resumes_inside_the_repository_it_was_scanning() {
    let (env, keys) = large_history(242);
    let dbs = TestEnv::new();
    let (db, fresh) = (dbs.path().join("k.db"), dbs.path().join("fresh.db"));
    dbs.write("repos.txt", format!("{}\n", env.path().display()));
    killed(&dbs, &["audit", "--repos", "repos.txt"], &db);
    let audit = |db: &Path| {
        dbs.run(&["audit", "--repos", "repos.txt", "--datastore", db.to_str().unwrap(), "--format", "json"])
    };
    let (resumed, uninterrupted) = (audit(&db), audit(&fresh));
    assert_resumed(&resumed, &db, &uninterrupted, &fresh, &keys);
}

#[test]
fn checkpoints_without_a_datastore_are_refused() {
    let env = TestEnv::git_repo();
    env.write("README", "x\n");
    env.commit_all("first");
    let run = env.run(&["history", "--checkpoint-every", "1"]);
    run.expect_code(2);
    assert!(run.stderr.contains("--checkpoint-every records into a datastore"), "{}", run.stderr);
}
