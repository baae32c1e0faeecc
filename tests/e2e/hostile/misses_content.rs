//! No silent miss inside content: archives stopped by a limit, UTF-16 without a byte-order mark, percent-encoding, missing branch tips.

use crate::harness::{FakeKeys, Run, TestEnv};

/// The key every test hides; never in any output.
fn key() -> String {
    FakeKeys::project_key_of(1301)
}

/// Runs `keyhound ARGS --format json` and checks that neither the key nor a raw control
/// character (other than a line end) reaches the output.
fn run(env: &TestEnv, args: &[&str]) -> Run {
    let mut all = args.to_vec();
    all.extend(["--format", "json"]);
    let run = env.run(&all);
    for output in [&run.stdout, &run.stderr] {
        assert!(!output.contains(&key()), "the key leaked into the output:\n{output}");
        let control = output.chars().find(|&c| c.is_control() && c != '\n');
        assert_eq!(control, None, "a raw control character reached the output:\n{output}");
    }
    run
}

/// (path, decoded) of each finding, sorted.
fn found(run: &Run) -> Vec<(String, Option<String>)> {
    let mut found: Vec<_> = run
        .findings()
        .iter()
        .map(|f| (f["path"].as_str().unwrap().to_string(), f["decoded"].as_str().map(str::to_string)))
        .collect();
    found.sort();
    found
}

fn assert_stderr_says(run: &Run, needle: &str) {
    assert!(run.stderr.contains(needle), "{needle:?} is missing from:\n{}", run.stderr);
}

// Missing objects in history: a ref whose history cannot be read makes the scan incomplete.

/// An object id that is in no object database.
const MISSING: &str = "0123456789abcdef0123456789abcdef01234567";

/// A repository with one commit.
fn repo_with_a_commit() -> TestEnv {
    let env = TestEnv::git_repo();
    env.write("README.md", "docs\n");
    env.commit_all("docs");
    env
}

/// `keyhound history` fails (exit 2) and says that `reference` points to missing `object`.
fn expect_broken_ref(env: &TestEnv, reference: &str, object: &str) {
    let run = run(env, &["history"]);
    run.expect_code(2);
    assert_stderr_says(&run, &format!("reference {reference} points to {object}"));
}

#[test]
fn a_branch_whose_tip_is_missing_fails_the_scan_and_is_named() {
    let env = repo_with_a_commit();
    env.write(".git/refs/heads/lost", format!("{MISSING}\n"));
    expect_broken_ref(&env, "\"refs/heads/lost\"", &format!("missing object {MISSING}"));
    // A range scan does not walk the branch: its tip is not needed there.
    run(&env, &["history", "--range", "HEAD"]).expect_code(0);
}

#[test]
fn packed_refs_stashes_and_a_detached_head_with_missing_tips_fail_the_scan() {
    let cases = [
        (".git/packed-refs", format!("{MISSING} refs/heads/packed\n"), "\"refs/heads/packed\""),
        (".git/refs/stash", format!("{MISSING}\n"), "\"refs/stash\""),
        (".git/HEAD", format!("{MISSING}\n"), "\"HEAD\""),
    ];
    for (file, contents, reference) in cases {
        let env = repo_with_a_commit();
        env.write(file, contents);
        expect_broken_ref(&env, reference, &format!("missing object {MISSING}"));
    }
}

#[test]
fn an_annotated_tag_whose_commit_is_missing_fails_the_scan() {
    let env = repo_with_a_commit();
    let tag_object = format!("object {MISSING}\ntype commit\ntag v1\ntagger T <t@example.com> 0 +0000\n\nrelease\n");
    env.write("tag.txt", tag_object);
    let tag = env.git(&["hash-object", "-t", "tag", "-w", "--literally", "tag.txt"]);
    env.write(".git/refs/tags/v1", format!("{tag}\n"));
    expect_broken_ref(&env, "\"refs/tags/v1\"", &format!("tag {tag}, whose target is missing"));
}

#[test]
fn a_hostile_ref_name_is_escaped_and_its_history_still_scanned() {
    let env = repo_with_a_commit();
    env.write(".env", format!("OPENAI_API_KEY={}\n", key()));
    env.git(&["add", ".env"]);
    env.git(&["commit", "-q", "-m", "only on a hidden branch"]);
    let hidden = env.git(&["rev-parse", "HEAD"]);
    env.git(&["reset", "-q", "--hard", "HEAD~1"]);
    env.git(&["reflog", "expire", "--expire=now", "--all"]);
    // A name git would refuse, written by hand: an escape sequence that recolours a terminal.
    env.write(".git/packed-refs", format!("{hidden} refs/heads/x\u{1b}[31mred\n{MISSING} refs/heads/y\u{1b}[0m\n"));
    let run = run(&env, &["history"]);
    run.expect_code(2);
    assert_eq!(found(&run), [(".env".to_string(), None)]);
    assert_stderr_says(&run, &format!("reference \"refs/heads/y\\u{{1b}}[0m\" points to missing object {MISSING}"));
}

#[test]
fn missing_range_ends_parents_and_trees_are_named_and_fail_the_scan() {
    let env = repo_with_a_commit();
    let range = format!("{MISSING}..HEAD");
    let ends = run(&env, &["history", "--range", &range]);
    ends.expect_code(2);
    assert_stderr_says(&ends, &format!("--range \"{range}\""));

    env.write("dir/file.txt", "in a tree that goes missing\n");
    let commit = env.commit_all("add dir");
    let tree = env.git(&["rev-parse", "HEAD:dir"]);
    std::fs::remove_file(env.path().join(".git/objects").join(&tree[..2]).join(&tree[2..])).unwrap();
    let walk = run(&env, &["history"]);
    walk.expect_code(2);
    assert_stderr_says(&walk, &format!("tree {tree} (dir in commit {commit})"));

    let parent = env.git(&["rev-parse", "HEAD~1"]);
    std::fs::remove_file(env.path().join(".git/objects").join(&parent[..2]).join(&parent[2..])).unwrap();
    let range = run(&env, &["history", "--range", "HEAD"]);
    range.expect_code(2);
    assert_stderr_says(&range, &format!("commit {parent}"));
}

// Archives: raw bytes are scanned too, so a stop (damage, a limit) hides nothing stored.

/// A zip of stored (uncompressed) members, as jars inside wars and many tools write them.
fn stored_zip(entries: &[(&str, &[u8])]) -> Vec<u8> {
    crate::encodings::zip_with(zip::CompressionMethod::Stored, entries)
}

fn properties() -> Vec<u8> {
    format!("openai.api.key={}\n", key()).into_bytes()
}

#[test]
fn a_truncated_war_whose_stored_jar_looks_whole_is_scanned_as_raw_bytes() {
    let env = TestEnv::new();
    let jar = stored_zip(&[("META-INF/MANIFEST.MF", b"Manifest-Version: 1.0\n")]);
    let war = stored_zip(&[("WEB-INF/lib/app.jar", &jar), ("WEB-INF/app.properties", &properties())]);
    // Cut after the key: the last directory left is the jar's, which a reader takes for the war's.
    let cut = war.windows(key().len()).position(|w| w == key().as_bytes()).unwrap() + key().len() + 1;
    env.write("app.war", &war[..cut]);
    let run = run(&env, &["scan"]);
    run.expect_code(1);
    assert_eq!(found(&run), [("app.war".to_string(), None)]);
}

#[test]
fn a_zip_damaged_after_its_first_member_is_scanned_as_raw_bytes() {
    let env = TestEnv::new();
    let mut zip = stored_zip(&[("a.txt", b"first member\n"), ("conf/app.properties", &properties())]);
    let second = zip.windows(4).skip(1).position(|w| w == b"PK\x03\x04").unwrap() + 1;
    zip[second + 2] = b'X';
    env.write("bad-header.zip", zip);
    let run = run(&env, &["scan"]);
    run.expect_code(1);
    assert_eq!(found(&run), [("bad-header.zip".to_string(), None)]);
    assert_stderr_says(&run, "bad-header.zip: malformed or truncated zip archive");
}

#[test]
fn a_zip_stopped_by_the_member_limit_is_scanned_as_raw_bytes_once_per_key() {
    let env = TestEnv::new();
    env.write("late.zip", stored_zip(&[("a.txt", b"first member\n"), ("conf/app.properties", &properties())]));
    let run = run(&env, &["scan", "--archive-max-members", "1"]);
    run.expect_code(1);
    assert_eq!(found(&run), [("late.zip".to_string(), None)]);
    assert_stderr_says(&run, "late.zip: member limit (1) reached");

    // The key in a member read before the stop is reported there, not again from the raw bytes.
    std::fs::remove_file(env.path().join("late.zip")).unwrap();
    env.write("early.zip", stored_zip(&[("conf/app.properties", &properties()), ("b.txt", b"second\n")]));
    let run = self::run(&env, &["scan", "--archive-max-members", "1"]);
    run.expect_code(1);
    assert_eq!(found(&run), [("early.zip!conf/app.properties".to_string(), None)]);
}

// Encodings.

#[test]
fn utf16_without_a_byte_order_mark_starting_with_cjk_text_is_decoded() {
    let env = TestEnv::new();
    let text = format!("// 配置文件：请勿提交到版本库。生产环境的密钥\r\nOPENAI_API_KEY={}\r\n", key());
    let little: Vec<u8> = text.encode_utf16().flat_map(u16::to_le_bytes).collect();
    let big: Vec<u8> = text.encode_utf16().flat_map(u16::to_be_bytes).collect();
    env.write("le.cfg", little);
    env.write("be.cfg", big);
    let run = run(&env, &["scan"]);
    run.expect_code(1);
    assert_eq!(
        found(&run),
        [("be.cfg".to_string(), Some("utf-16be".to_string())), ("le.cfg".to_string(), Some("utf-16le".to_string()))]
    );
}

#[test]
fn percent_encoded_keys_in_logs_are_decoded() {
    let env = TestEnv::new();
    env.write("access.log", format!("POST /v1/chat body=%7B%22key%22%3A%22{}%22%7D 200\n", key()));
    env.write("query.log", format!("GET /hook?key%3D{}%26x=1 302\n", key()));
    // Found in the text as it is: reported once, not again from the decoded text.
    env.write("form.log", format!("POST api_key={}%26next=1 200\n", key()));
    let run = run(&env, &["scan"]);
    run.expect_code(1);
    let percent = Some("percent".to_string());
    let expected = [("access.log".into(), percent.clone()), ("form.log".into(), None), ("query.log".into(), percent)];
    assert_eq!(found(&run), expected);
    let plain = self::run(&env, &["scan", "--no-decode"]);
    assert_eq!(found(plain.expect_code(1)), [("form.log".to_string(), None)]);
}
