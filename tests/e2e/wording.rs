//! The summary's wording (#16): counts agree with their nouns, `history` counts blobs and the
//! other commands files, and a history report grouped by secret counts secrets and places.

use crate::harness::{FakeKeys, TestEnv};

/// A repository holding one fake key in two files, over two commits.
fn one_key_in_two_places() -> (TestEnv, String) {
    let env = TestEnv::git_repo();
    let key = FakeKeys::new(1616).project_key();
    env.write("a.py", format!("k = '{key}'\n"));
    env.commit_all("one");
    env.write("b.py", format!("v = '{key}'\n"));
    env.commit_all("two");
    (env, key)
}

#[test]
fn history_grouped_by_secret_counts_secrets_places_and_blobs() {
    let (env, key) = one_key_in_two_places();
    let run = env.run(&["history"]);
    run.expect_code(1);
    assert!(!run.stdout.contains(&key) && !run.stderr.contains(&key), "a key leaked");
    assert!(run.stderr.contains("keyhound: 1 secret found in 2 places (2 blobs, "), "{}", run.stderr);
    let run = env.run(&["history", "--group-by", "location"]);
    assert!(run.stderr.contains("keyhound: 2 secrets found (2 blobs, "), "{}", run.stderr);
}

#[test]
fn scans_count_files_in_the_singular_and_the_plural() {
    let (env, _) = one_key_in_two_places();
    let run = env.run(&["scan", "a.py"]);
    assert!(run.stderr.contains("keyhound: 1 secret found (1 file, "), "{}", run.stderr);
    let run = env.run(&["scan"]);
    assert!(run.stderr.contains("keyhound: 2 secrets found (2 files, "), "{}", run.stderr);
    assert!(!run.stderr.contains("(s)"), "{}", run.stderr);
}
