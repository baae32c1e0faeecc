//! Output cannot be forged: control characters in names, authors and messages are escaped; report locations stay under the scanned root.

use std::io::{Cursor, Write};
use std::path::Path;
use std::process::Stdio;

use serde_json::Value;

use crate::harness::{keyhound_in, FakeKeys, TestEnv};

/// Formats whose every byte may reach a terminal or CI log. CSV keeps raw values (RFC 4180
/// quotes line breaks instead), so only its standard error is checked.
const FORMATS: [&str; 7] = ["text", "github", "json", "jsonl", "sarif", "junit", "codequality"];

/// File names an attacker would commit: a terminal title change (OSC), a bell, a carriage
/// return that overwrites the line, forged workflow commands after a line feed or at the
/// start, C1 CSI, DEL, a tab, and bytes that are not UTF-8.
fn hostile_names() -> Vec<Vec<u8>> {
    [
        &b"osc\x1b]0;pwned\x07.env"[..],
        b"bell\x07.env",
        b"cr\rforged: no secrets found.env",
        b"lf\n::error file=x::forged\n::add-mask::hidden\n.env",
        b"::add-mask::masked.env",
        b"##[error]old-style.env",
        "c1\u{9b}31mred.env".as_bytes(),
        b"del\x7f.env",
        b"tab\tname.env",
        b"bad\xff\xfe\x1b[2J.env",
    ]
    .iter()
    .map(|name| name.to_vec())
    .collect()
}

/// A run of `keyhound` in one format, its output as raw bytes.
struct RawRun {
    format: &'static str,
    code: i32,
    stdout: Vec<u8>,
    stderr: Vec<u8>,
}

impl RawRun {
    /// Runs `keyhound COMMAND ARGS --format FORMAT` in `dir`.
    fn of(dir: &Path, command: &[&str], format: &'static str) -> Self {
        let mut keyhound = keyhound_in(dir);
        keyhound.args(command).args(["--format", format]).stdin(Stdio::null());
        let output = keyhound.output().expect("keyhound runs");
        RawRun { format, code: output.status.code().unwrap_or(-1), stdout: output.stdout, stderr: output.stderr }
    }

    fn shown(&self) -> String {
        let (stdout, stderr) = (String::from_utf8_lossy(&self.stdout), String::from_utf8_lossy(&self.stderr));
        format!("{}\nstdout:\n{stdout}\nstderr:\n{stderr}", self.format)
    }

    /// Asserts exit code 1 (secrets found), and neither a raw control character nor a
    /// workflow command keyhound did not write for a finding on standard error or (but in
    /// CSV) standard output.
    fn assert_unforged(&self) {
        assert_eq!(self.code, 1, "{}", self.shown());
        let mut streams = vec![("stderr", &self.stderr, false)];
        if self.format != "csv" {
            streams.push(("stdout", &self.stdout, self.format == "github"));
        }
        for (name, bytes, annotations) in streams {
            assert_eq!(raw_controls(bytes), Vec::<String>::new(), "{name} of {}", self.shown());
            assert_eq!(forged_commands(bytes, annotations), Vec::<String>::new(), "{name} of {}", self.shown());
        }
    }
}

/// The raw control characters in `bytes` other than line feeds: C0, DEL and C1 (as UTF-8).
fn raw_controls(bytes: &[u8]) -> Vec<String> {
    let text = String::from_utf8_lossy(bytes);
    text.chars().filter(|&c| c.is_control() && c != '\n').map(|c| format!("{c:?}")).collect()
}

/// Lines that GitHub Actions would run as workflow commands, other than keyhound's own
/// annotations for real findings (`::error file=…,line=N,…::`).
fn forged_commands(bytes: &[u8], own: bool) -> Vec<String> {
    let text = String::from_utf8_lossy(bytes);
    let is_command = |line: &&str| {
        let line = line.trim_start();
        line.starts_with("::") || line.starts_with("##[")
    };
    let is_own = |line: &&str| own && is_annotation(line);
    text.lines().filter(is_command).filter(|line| !is_own(line)).map(str::to_string).collect()
}

/// `::error file=PATH,line=N,col=N,endLine=N,endColumn=N,title=T::MESSAGE`, with nothing in
/// PATH or T that could end a property early.
fn is_annotation(line: &str) -> bool {
    let Some(rest) = ["::error file=", "::warning file=", "::notice file="].iter().find_map(|p| line.strip_prefix(p))
    else {
        return false;
    };
    let Some((path, rest)) = rest.split_once(",line=") else { return false };
    let numbers = ["col=", "endLine=", "endColumn="];
    let Some(rest) = numbers.iter().try_fold(rest, |rest, key| {
        let (number, rest) = rest.split_once(',')?;
        let ok = number.bytes().all(|b| b.is_ascii_digit()) && rest.starts_with(key);
        ok.then(|| &rest[key.len()..])
    }) else {
        return false;
    };
    let Some((end_column, rest)) = rest.split_once(",title=") else { return false };
    !path.contains([':', ',']) && end_column.bytes().all(|b| b.is_ascii_digit()) && rest.contains("::")
}

#[cfg(unix)]
fn write_named(dir: &Path, name: &[u8], contents: &str) {
    use std::os::unix::ffi::OsStrExt;
    std::fs::write(dir.join(std::ffi::OsStr::from_bytes(name)), contents).expect("write a hostile file name");
}

#[cfg(unix)]
#[test]
fn hostile_file_names_cannot_forge_output_in_any_format() {
    let env = TestEnv::new();
    let names = hostile_names();
    let mut keys = FakeKeys::new(81);
    for name in &names {
        write_named(env.path(), name, &format!("OPENAI_API_KEY = \"{}\"\n", keys.project_key()));
    }
    // Too large to scan: named in the summary's skipped list.
    let mut big = b"big\x1b]0;skipped\x07\n::error file=y::forged-skip".to_vec();
    big.extend_from_slice(b".bin");
    write_named(env.path(), &big, &"x".repeat(4096));
    for format in FORMATS.into_iter().chain(["csv"]) {
        let run = RawRun::of(env.path(), &["scan", ".", "--max-file-size", "2KiB"], format);
        run.assert_unforged();
        if format == "github" {
            let own = String::from_utf8_lossy(&run.stdout).lines().filter(|line| is_annotation(line)).count();
            assert_eq!(own, names.len(), "one annotation per finding: {}", run.shown());
        }
        let stderr = String::from_utf8_lossy(&run.stderr);
        assert!(stderr.contains("big\\e]0;skipped\\x07\\n::error file=y::forged-skip.bin"), "{}", run.shown());
    }
    let text = RawRun::of(env.path(), &["scan", "."], "text").stdout;
    let text = String::from_utf8_lossy(&text);
    for shown in
        ["osc\\e]0;pwned\\x07.env:1:", "lf\\n::error file=x::forged\\n::add-mask::hidden\\n.env:1:", "c1\\u{9b}31m"]
    {
        assert!(text.contains(shown), "{shown} in:\n{text}");
    }
    assert!(text.contains("\\x3a:add-mask::masked.env:1:"), "a name starting a line is defused:\n{text}");
}

#[test]
fn hostile_commit_metadata_cannot_forge_output() {
    let env = TestEnv::git_repo();
    env.write("app.py", format!("OPENAI_API_KEY = \"{}\"\n", FakeKeys::project_key_of(82)));
    env.git(&["add", "-A"]);
    let author = "Eve\x1b]0;pwned\x07\u{9b}2J <eve\x07@example.com>";
    let message = "fix\r\n::error file=z::forged\n\x1b[2Jbody";
    env.git(&["commit", "-q", "--author", author, "-m", message]);
    for format in FORMATS {
        RawRun::of(env.path(), &["history"], format).assert_unforged();
    }
}

fn zip(entries: &[(&str, &[u8])]) -> Vec<u8> {
    let mut writer = zip::ZipWriter::new(Cursor::new(Vec::new()));
    for (name, bytes) in entries {
        writer.start_file(*name, zip::write::SimpleFileOptions::default()).expect("zip entry");
        writer.write_all(bytes).expect("zip write");
    }
    writer.finish().expect("zip finish").into_inner()
}

/// Every location of a SARIF log and a Code Quality report: (uri or path, uriBaseId).
fn locations(sarif: &Value, codequality: &Value) -> Vec<(String, Option<String>)> {
    let results = sarif["runs"][0]["results"].as_array().expect("SARIF results");
    let artifact = |result: &Value| result["locations"][0]["physicalLocation"]["artifactLocation"].clone();
    let sarif = results.iter().map(artifact).map(|location| {
        (location["uri"].as_str().unwrap().to_string(), location["uriBaseId"].as_str().map(str::to_string))
    });
    let issues = codequality.as_array().expect("Code Quality issues");
    let codequality = issues.iter().map(|issue| (issue["location"]["path"].as_str().unwrap().to_string(), None));
    sarif.chain(codequality).collect()
}

/// Asserts that every location is a relative path inside the root.
fn assert_inside_root(locations: &[(String, Option<String>)]) {
    assert!(!locations.is_empty());
    for (path, base) in locations {
        let inside = !path.is_empty()
            && !path.starts_with('/')
            && !path.contains(['\\', ':'])
            && !path.contains("%5C")
            && !path.contains("%3A")
            && path.split('/').all(|part| !part.is_empty() && part != "." && part != "..");
        assert!(inside, "{path:?} is not a relative path inside the root");
        assert!(base.as_deref().is_none_or(|base| base == "%SRCROOT%"), "{path:?} is based on {base:?}");
    }
}

fn reports(env: &TestEnv, command: &str) -> (Value, Value) {
    let report = |format: &str| {
        let run = env.run(&[command, "--format", format]);
        run.expect_code(1);
        serde_json::from_str::<Value>(&run.stdout).expect("a JSON report")
    };
    (report("sarif"), report("codequality"))
}

#[test]
fn an_archive_member_named_outside_the_root_is_located_at_the_archive() {
    let env = TestEnv::new();
    let key = FakeKeys::project_key_of(83);
    let line = format!("OPENAI_API_KEY = \"{key}\"\n");
    let member = "../../../../etc/cron.d/evil";
    env.write("dist/app.zip", zip(&[(member, line.as_bytes()), ("/etc/passwd", line.as_bytes())]));
    let (sarif, codequality) = reports(&env, "scan");
    let found = locations(&sarif, &codequality);
    assert_inside_root(&found);
    assert!(found.iter().all(|(path, _)| path == "dist/app.zip"), "{found:?}");
    let members: Vec<&str> = sarif["runs"][0]["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["properties"]["member"].as_str().unwrap())
        .collect();
    assert!(members.contains(&member) && members.contains(&"/etc/passwd"), "{members:?}");
    let message = sarif["runs"][0]["results"][0]["message"]["text"].as_str().unwrap();
    assert!(message.contains("In archive member "), "{message}");
}

/// Commits a tree that git itself would refuse to check out: entries named `/etc/passwd`,
/// `C:\evil` and `..` (a tree holding `..` holding `evil`), each with a key.
fn commit_hostile_tree(env: &TestEnv) {
    let repo = git2::Repository::open(env.path()).expect("open the test repository");
    let odb = repo.odb().expect("object database");
    let mut keys = FakeKeys::new(84);
    let mut blob = || {
        let contents = format!("OPENAI_API_KEY = \"{}\"\n", keys.project_key());
        odb.write(git2::ObjectType::Blob, contents.as_bytes()).expect("write a blob")
    };
    let entry = |mode: &str, name: &str, id: git2::Oid| {
        [format!("{mode} {name}\0").into_bytes(), id.as_bytes().to_vec()].concat()
    };
    let tree = |entries: Vec<Vec<u8>>| odb.write(git2::ObjectType::Tree, &entries.concat()).expect("write a tree");
    let innermost = tree(vec![entry("100644", "evil", blob())]);
    let inner = tree(vec![entry("40000", "..", innermost)]);
    let root = tree(vec![
        entry("40000", "..", inner),
        entry("100644", "/etc/passwd", blob()),
        entry("100644", "C:\\evil", blob()),
    ]);
    let tree = repo.find_tree(root).expect("the hostile tree parses");
    let signature = git2::Signature::now("Test Author", "author@example.com").expect("signature");
    repo.commit(Some("HEAD"), &signature, &signature, "hostile tree", &tree, &[]).expect("commit the hostile tree");
}

#[test]
fn tree_entries_naming_paths_outside_the_root_stay_inside_it() {
    let env = TestEnv::git_repo();
    commit_hostile_tree(&env);
    let (sarif, codequality) = reports(&env, "history");
    let found = locations(&sarif, &codequality);
    assert_eq!(found.len(), 6, "three keys, each in both reports: {found:?}");
    assert_inside_root(&found);
}
