//! Test harness: temporary trees and git repositories, fake keys from a fixed seed, and runs
//! of the real `keyhound` binary.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use tempfile::TempDir;

/// A temporary directory that tests build files (and optionally a git repository) in.
pub struct TestEnv {
    dir: TempDir,
}

impl TestEnv {
    /// An empty temporary directory.
    pub fn new() -> Self {
        TestEnv { dir: tempfile::tempdir().expect("temp dir") }
    }

    /// An empty git repository with a committer identity and no global config.
    pub fn git_repo() -> Self {
        let env = TestEnv::new();
        env.git(&["init", "-q", "-b", "main"]);
        env.git(&["config", "user.name", "Test Author"]);
        env.git(&["config", "user.email", "author@example.com"]);
        env.git(&["config", "commit.gpgsign", "false"]);
        env
    }

    /// The directory's path.
    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Writes a file (creating parent directories) and returns its path.
    pub fn write(&self, relative: &str, contents: impl AsRef<[u8]>) -> PathBuf {
        let path = self.path().join(relative);
        std::fs::create_dir_all(path.parent().expect("file has a parent")).expect("mkdir");
        std::fs::write(&path, contents).expect("write file");
        path
    }

    /// Runs git in the directory, isolated from the user's configuration; panics on failure.
    pub fn git(&self, args: &[&str]) -> String {
        let output = git_command(self.path()).args(args).output().expect("git runs");
        assert!(output.status.success(), "git {args:?} failed: {}", String::from_utf8_lossy(&output.stderr));
        String::from_utf8_lossy(&output.stdout).trim().to_string()
    }

    /// Writes a file and stages it.
    pub fn stage(&self, relative: &str, contents: impl AsRef<[u8]>) {
        self.write(relative, contents);
        self.git(&["add", "--", relative]);
    }

    /// Adds the repository `source` as a submodule at `relative` (staged, not committed).
    pub fn add_submodule(&self, source: &TestEnv, relative: &str) {
        let url = source.path().to_str().expect("temp paths are UTF-8");
        self.git(&["-c", "protocol.file.allow=always", "submodule", "add", "-q", url, relative]);
    }

    /// Stages everything and commits with `message`; returns the commit id.
    pub fn commit_all(&self, message: &str) -> String {
        self.git(&["add", "-A"]);
        self.git(&["commit", "-q", "-m", message]);
        self.git(&["rev-parse", "HEAD"])
    }

    /// A `keyhound` command running in the directory.
    pub fn keyhound(&self) -> Command {
        keyhound_in(self.path())
    }

    /// Runs `keyhound ARGS` in the directory.
    pub fn run(&self, args: &[&str]) -> Run {
        Run::of(self.keyhound().args(args).stdin(Stdio::null()).output().expect("keyhound runs"))
    }
}

/// An empty file that stands in for git's global configuration. Not `/dev/null`: a
/// `git config --global` write would rename its lock file over `/dev/null` for the whole machine.
fn empty_global_config() -> &'static Path {
    static FILE: std::sync::OnceLock<tempfile::NamedTempFile> = std::sync::OnceLock::new();
    FILE.get_or_init(|| tempfile::NamedTempFile::new().expect("temp file for git's global config")).path()
}

/// A `git` command isolated from the machine's global and system configuration.
pub fn git_command(dir: &Path) -> Command {
    let mut command = Command::new("git");
    command
        .current_dir(dir)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", empty_global_config())
        .env("GIT_AUTHOR_DATE", "2024-05-01T12:00:00+00:00")
        .env("GIT_COMMITTER_DATE", "2024-05-01T12:00:00+00:00");
    command
}

/// A `keyhound` command for the binary under test.
pub fn keyhound_in(dir: &Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_keyhound"));
    command.current_dir(dir).env_remove("NO_COLOR").env("GIT_CONFIG_NOSYSTEM", "1");
    command
}

/// The result of a run.
pub struct Run {
    /// Exit code (-1 if killed by a signal).
    pub code: i32,
    /// Standard output.
    pub stdout: String,
    /// Standard error.
    pub stderr: String,
}

impl Run {
    /// Wraps a finished process.
    pub fn of(output: Output) -> Self {
        Run {
            code: output.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    }

    /// Standard output parsed as a JSON array of findings.
    pub fn findings(&self) -> Vec<serde_json::Value> {
        match serde_json::from_str(&self.stdout) {
            Ok(serde_json::Value::Array(items)) => items,
            _ => panic!("stdout is not a JSON array:\n{}\nstderr:\n{}", self.stdout, self.stderr),
        }
    }

    /// Asserts the exit code, showing the output when it differs.
    pub fn expect_code(&self, code: i32) -> &Self {
        assert_eq!(self.code, code, "unexpected exit code\nstdout:\n{}\nstderr:\n{}", self.stdout, self.stderr);
        self
    }
}

/// Deterministic pseudo-random characters (splitmix64), so fixture keys are the same on every
/// run and carry no real key.
pub struct FakeKeys {
    state: u64,
}

const BASE62: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
const BASE64URL: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

impl FakeKeys {
    /// A generator for `seed`.
    pub fn new(seed: u64) -> Self {
        FakeKeys { state: seed }
    }

    fn next(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// `len` random characters from `alphabet`, with `FAKE` in the middle (len ≥ 12).
    pub fn segment(&mut self, len: usize, alphabet: &[u8]) -> String {
        let mut text: Vec<u8> = (0..len).map(|_| alphabet[(self.next() % alphabet.len() as u64) as usize]).collect();
        if len >= 12 {
            let middle = len / 2 - 2;
            text[middle..middle + 4].copy_from_slice(b"FAKE");
        }
        String::from_utf8(text).expect("alphabets are ASCII")
    }

    /// An OpenAI-shaped key: `prefix` + `pre` chars + marker + `post` chars.
    pub fn openai(&mut self, prefix: &str, pre: usize, post: usize) -> String {
        let alphabet = if prefix == "sk-" { BASE62 } else { BASE64URL };
        let first = self.segment(pre, alphabet);
        let second = self.segment(post, alphabet);
        // The marker is assembled so this file holds no key-shaped literal.
        format!("{prefix}{first}{}{second}", ["T3Blbk", "FJ"].concat())
    }

    /// The first project key of the generator for `seed`.
    pub fn project_key_of(seed: u64) -> String {
        FakeKeys::new(seed).project_key()
    }

    /// A 164-character project key, the most common shape today.
    pub fn project_key(&mut self) -> String {
        self.openai("sk-proj-", 74, 74)
    }
}

/// Longer than any run of the hostile-input tests takes on a slow, shared machine: a run past
/// it is a hang (or quadratic time), and is killed.
pub const HANG: Duration = Duration::from_secs(60);

/// Runs `command` (no standard input, output captured) to its end, killing it and failing the
/// test after [`HANG`].
pub fn run_bounded(command: &mut Command) -> Run {
    let mut child =
        command.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().expect("keyhound starts");
    let drain = |mut pipe: Box<dyn Read + Send>| {
        std::thread::spawn(move || {
            let mut bytes = Vec::new();
            pipe.read_to_end(&mut bytes).expect("pipe reads");
            bytes
        })
    };
    let stdout = drain(Box::new(child.stdout.take().expect("piped")));
    let stderr = drain(Box::new(child.stderr.take().expect("piped")));
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait for keyhound") {
            break status;
        }
        if started.elapsed() > HANG {
            child.kill().expect("kill keyhound");
            child.wait().expect("reap keyhound");
            panic!("keyhound {command:?} did not finish within {HANG:?}");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let (stdout, stderr) = (stdout.join().expect("stdout drained"), stderr.join().expect("stderr drained"));
    Run::of(Output { status, stdout, stderr })
}

/// Makes a FIFO at `path` (and its parent directories).
#[cfg(unix)]
pub fn mkfifo(path: &Path) {
    std::fs::create_dir_all(path.parent().expect("has a parent")).expect("mkdir");
    assert!(Command::new("mkfifo").arg(path).status().expect("mkfifo runs").success());
}
