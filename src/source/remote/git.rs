//! Running the system's `git` on a remote: one command builder and one runner for every
//! operation (the clone, the ref listing), so each runs with the same hardening (see the parent
//! module): the same configuration and environment, its own session killed on timeout, standard
//! error bounded and turned into a plain reason with credentials redacted, standard output
//! discarded or read whole up to a cap, alongside the wait so that a full pipe cannot stall git.

use std::io::Read;
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc::{self, Receiver};
use std::time::{Duration, Instant};

use super::RemoteUrl;
use crate::error::{Error, Result};

/// git's standard error kept for the error message (the rest is progress).
const STDERR_KEPT: usize = 64 * 1024;

/// The configuration every operation runs with (see the parent module).
const SAFE_CONFIG: [&str; 7] = [
    "protocol.allow=never",
    "protocol.https.allow=always",
    "protocol.ssh.allow=always",
    "protocol.git.allow=always",
    "protocol.file.allow=always",
    "core.hooksPath=/dev/null",
    "submodule.recurse=false",
];

/// Environment variables that would point git at another repository, another object store or
/// other protocols than the operation names (set when keyhound runs inside a git hook or alias).
const CLEARED_ENV: [&str; 8] = [
    "GIT_DIR",
    "GIT_WORK_TREE",
    "GIT_INDEX_FILE",
    "GIT_OBJECT_DIRECTORY",
    "GIT_ALTERNATE_OBJECT_DIRECTORIES",
    "GIT_COMMON_DIR",
    "GIT_ALLOW_PROTOCOL",
    "GIT_TEMPLATE_DIR",
];

/// One git operation on a remote.
pub(super) struct Operation<'a> {
    /// What keyhound could not do if it fails, as the error says it ("clone").
    pub doing: &'static str,
    /// The subcommand and its options, before `--` and the URL.
    pub args: &'a [&'a str],
    /// An operand after the URL (the clone's destination): an absolute path, since git runs
    /// outside the current directory.
    pub after: Option<&'a Path>,
    /// Keep git's standard output, up to this many bytes; `None`: discard it.
    pub keep_stdout: Option<usize>,
}

impl Operation<'_> {
    /// The command line: argv only, after `--`; the user's git configuration, the remote's
    /// none, and none from a repository the current directory may be in (git runs in `/`).
    fn command(&self, url: &RemoteUrl) -> Command {
        let mut command = Command::new("git");
        for setting in SAFE_CONFIG {
            command.args(["-c", setting]);
        }
        command.args(self.args).arg("--").arg(url.raw()).args(self.after);
        for name in CLEARED_ENV {
            command.env_remove(name);
        }
        command.env("GIT_TERMINAL_PROMPT", "0").env("GCM_INTERACTIVE", "never").current_dir("/");
        let stdout = if self.keep_stdout.is_some() { Stdio::piped() } else { Stdio::null() };
        command.stdin(Stdio::null()).stdout(stdout).stderr(Stdio::piped());
        #[cfg(unix)]
        detach(&mut command);
        command
    }
}

/// Runs `operation` on `url`, bounded by `timeout`; returns the standard output it keeps
/// (empty when it keeps none).
pub(super) fn run_git(url: &RemoteUrl, operation: &Operation, timeout: Duration) -> Result<Vec<u8>> {
    let failed = |reason: String| Error::Remote { doing: operation.doing, url: url.shown().to_string(), reason };
    let deadline = Instant::now() + timeout;
    let timed_out = || failed(format!("timed out after {} s", timeout.as_secs()));
    let mut child = operation
        .command(url)
        .spawn()
        .map_err(|e| failed(format!("cannot run git ({e}); is git installed and on PATH?")))?;
    let outputs = Outputs::read(&mut child, operation.keep_stdout)?;
    let status = wait_bounded(&mut child, deadline).ok_or_else(timed_out)?;
    let kept = match outputs.stdout {
        // Read first: past the cap the pipe is closed, and git fails of that.
        Some(stdout) => stdout.before(deadline).ok_or_else(timed_out)?.map_err(failed)?,
        None => Vec::new(),
    };
    if !status.success() {
        let text = outputs.stderr.before(deadline).unwrap_or_default();
        return Err(failed(reason(&url.redact_in(&String::from_utf8_lossy(&text)))));
    }
    Ok(kept)
}

/// What a reader thread will hand over, if it finishes in time.
struct Pending<T>(Receiver<T>);

impl<T: Send + 'static> Pending<T> {
    /// Reads on a thread of its own. Not scoped, and waited for only until a deadline: after a
    /// timeout, a process that escaped the killed group could hold the pipe open.
    fn spawn(name: &str, read: impl FnOnce() -> T + Send + 'static) -> std::io::Result<Self> {
        let (send, receive) = mpsc::sync_channel(1);
        std::thread::Builder::new().name(name.into()).spawn(move || drop(send.send(read())))?;
        Ok(Pending(receive))
    }

    /// The result, unless the deadline passes first.
    fn before(self, deadline: Instant) -> Option<T> {
        self.0.recv_timeout(deadline.saturating_duration_since(Instant::now())).ok()
    }
}

/// Standard output kept whole, or why not.
type Captured = std::result::Result<Vec<u8>, String>;

/// git's outputs, each read on a thread of its own while git runs.
struct Outputs {
    /// Standard output, when kept.
    stdout: Option<Pending<Captured>>,
    /// Standard error's first [`STDERR_KEPT`] bytes.
    stderr: Pending<Vec<u8>>,
}

impl Outputs {
    /// Starts reading `child`'s standard output (when kept, up to `cap`) and standard error;
    /// if a thread cannot start, `child` is killed.
    fn read(child: &mut Child, cap: Option<usize>) -> Result<Outputs> {
        let stderr = child.stderr.take().expect("stderr is piped");
        let stdout = child.stdout.take().zip(cap);
        let started = Pending::spawn("git stderr", move || read_kept(stderr)).and_then(|stderr| {
            let stdout = stdout.map(|(pipe, cap)| Pending::spawn("git stdout", move || read_capped(pipe, cap)));
            Ok(Outputs { stdout: stdout.transpose()?, stderr })
        });
        started.map_err(|e| {
            kill_group(child);
            drop(child.wait());
            Error::Threads { what: "a thread to read git's output".into(), reason: e.to_string() }
        })
    }
}

/// The first [`STDERR_KEPT`] bytes of git's standard error, read to its end.
fn read_kept(mut pipe: impl Read) -> Vec<u8> {
    let mut kept = Vec::new();
    drop((&mut pipe).take(STDERR_KEPT as u64).read_to_end(&mut kept));
    drop(std::io::copy(&mut pipe, &mut std::io::sink()));
    kept
}

/// All of git's standard output, unless it is larger than `cap` bytes (the pipe is then closed
/// at once, which stops git) or cannot be read: part of it is never taken for all of it.
fn read_capped(pipe: impl Read, cap: usize) -> Captured {
    let mut output = Vec::new();
    let cap_bytes = u64::try_from(cap).expect("a cap fits u64");
    pipe.take(cap_bytes.saturating_add(1))
        .read_to_end(&mut output)
        .map_err(|e| format!("cannot read git's output: {e}"))?;
    if output.len() > cap {
        return Err(format!("git's output is larger than the {} limit", crate::size::human_bytes(cap_bytes)));
    }
    Ok(output)
}

/// Waits for `child` until `deadline`; then kills its process group and returns `None`.
fn wait_bounded(child: &mut Child, deadline: Instant) -> Option<ExitStatus> {
    loop {
        match child.try_wait() {
            Ok(Some(status)) => return Some(status),
            Ok(None) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(20)),
            _ => break,
        }
    }
    kill_group(child);
    drop(child.wait());
    None
}

/// Runs the command in a session of its own: a process group [`kill_group`] can kill whole,
/// and no controlling terminal, so that `ssh` fails at once where it would prompt (a host key
/// to confirm, a key's passphrase with no agent) instead of stopping in the background until
/// the timeout.
#[cfg(unix)]
fn detach(command: &mut Command) {
    let new_session = || match unsafe { libc::setsid() } {
        -1 => Err(std::io::Error::last_os_error()),
        _ => Ok(()),
    };
    // SAFETY: setsid(2) is async-signal-safe, and the closure allocates nothing, as a
    // pre-exec hook in the forked child must.
    unsafe { std::os::unix::process::CommandExt::pre_exec(command, new_session) };
}

/// Kills `child` and every process it started (they share its process group).
#[cfg(unix)]
fn kill_group(child: &mut Child) {
    let group = libc::pid_t::try_from(child.id()).expect("process ids fit pid_t");
    // SAFETY: kill(2) takes no pointers; the negative id names the group the child leads
    // (its own session, see `detach`), which holds only git and what git started.
    unsafe { libc::kill(-group, libc::SIGKILL) };
}

#[cfg(not(unix))]
fn kill_group(child: &mut Child) {
    drop(child.kill());
}

/// git's standard error (already redacted) in plain words: a known cause, else git's last
/// `fatal:` or `error:` line, control characters escaped.
fn reason(stderr: &str) -> String {
    let lower = stderr.to_ascii_lowercase();
    let known = [
        (
            &[
                "authentication failed",
                "could not read username",
                "could not read password",
                "permission denied (publickey",
            ][..],
            "authentication required",
        ),
        (
            &["repository not found", "does not appear to be a git repository", "not found", "does not exist"][..],
            "repository not found",
        ),
        (&["could not resolve host", "name or service not known"][..], "host not found"),
        (&["failed to connect", "connection refused", "couldn't connect"][..], "could not connect to the host"),
    ];
    if let Some((_, plain)) = known.iter().find(|(signs, _)| signs.iter().any(|sign| lower.contains(sign))) {
        return (*plain).to_string();
    }
    let last = stderr.lines().rev().find(|line| line.starts_with("fatal:") || line.starts_with("error:"));
    match last.or_else(|| stderr.lines().rev().find(|line| !line.trim().is_empty())) {
        Some(line) => format!("git said: {}", crate::escape::visible(line.trim())),
        None => "git failed and said nothing".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn git_errors_map_to_plain_causes() {
        let cases = [
            ("fatal: Authentication failed for 'https://h/r/'", "authentication required"),
            ("fatal: could not read Username for 'https://h': terminal prompts disabled", "authentication required"),
            (
                "git@h: Permission denied (publickey).\nfatal: Could not read from remote repository.",
                "authentication required",
            ),
            ("remote: Repository not found.\nfatal: repository 'https://h/r/' not found", "repository not found"),
            ("fatal: '/srv/none' does not appear to be a git repository", "repository not found"),
            ("fatal: unable to access 'https://h/': Could not resolve host: h", "host not found"),
            ("fatal: unable to access 'https://h:1/': Failed to connect to h port 1", "could not connect to the host"),
        ];
        for (stderr, plain) in cases {
            assert_eq!(reason(stderr), plain, "{stderr}");
        }
    }

    #[test]
    fn other_errors_quote_git_escaped() {
        let stderr = "Cloning…\nfatal: protocol error: bad line length\x1b[2J\n";
        assert_eq!(reason(stderr), "git said: fatal: protocol error: bad line length\\e[2J");
        assert_eq!(reason(""), "git failed and said nothing");
    }

    #[test]
    fn every_operation_runs_with_the_safe_configuration_and_argv() {
        let url = RemoteUrl::classify("https://u:tok@h/r").unwrap().unwrap();
        let clone =
            Operation { doing: "clone", args: &["clone", "--mirror"], after: Some(Path::new("/d")), keep_stdout: None };
        let list = Operation { doing: "list", args: &["ls-remote", "--symref"], after: None, keep_stdout: Some(1) };
        for (operation, tail) in [
            (clone, &["clone", "--mirror", "--", "https://u:tok@h/r", "/d"][..]),
            (list, &["ls-remote", "--symref", "--", "https://u:tok@h/r"]),
        ] {
            let command = operation.command(&url);
            let args: Vec<_> = command.get_args().map(|a| a.to_string_lossy().into_owned()).collect();
            assert_eq!(args[..2], ["-c", "protocol.allow=never"]);
            assert!(args.contains(&"core.hooksPath=/dev/null".to_string()));
            assert_eq!(args[args.len() - tail.len()..], *tail);
            let env: Vec<_> =
                command.get_envs().map(|(k, v)| (k.to_string_lossy().into_owned(), v.is_some())).collect();
            assert!(env.contains(&("GIT_ALLOW_PROTOCOL".to_string(), false)));
            assert!(env.contains(&("GIT_TERMINAL_PROMPT".to_string(), true)));
            assert_eq!(command.get_current_dir(), Some(Path::new("/")));
        }
    }

    #[test]
    fn output_past_its_cap_is_an_error_not_a_truncation() {
        assert_eq!(read_capped(&b"abc"[..], 3), Ok(b"abc".to_vec()));
        let error = read_capped(&b"abcd"[..], 3).unwrap_err();
        assert!(error.contains("larger than the 3 B limit"), "{error}");
    }
}
