//! Remote repositories: a bare mirror cloned through the system's `git` into a directory of
//! keyhound's own, scanned as a local repository, then removed (unless kept).
//!
//! The remote is the attacker, so the clone runs nothing it supplies:
//! - `clone --mirror` is bare: no checkout, so no filters, no `post-checkout` hook, no
//!   submodules; `--template=` copies no hooks from a template directory and
//!   `core.hooksPath=/dev/null` runs none of the user's on the new repository either;
//! - only the `https`, `ssh`, `git` and `file` transports are allowed (`protocol.allow=never`
//!   plus those four; `GIT_ALLOW_PROTOCOL`, which would override it, is removed from git's
//!   environment), so `ext::` and `fd::` helpers never run; [`RemoteUrl::classify`] refuses them
//!   earlier, and any argument starting with `-`;
//! - a remote sends objects and refs, never configuration: the clone's config is written by
//!   git. The user's own configuration (system and global) stays in force, so their credential
//!   helpers and `ssh` setup work; `GIT_TERMINAL_PROMPT=0` makes a missing credential an error
//!   instead of a prompt that would hang a batch run;
//! - arguments go to git as argv, never through a shell, after `--`;
//! - `--clone-timeout` bounds the clone: on expiry git's whole process group (`git-remote-*`,
//!   `ssh`) is killed. git runs in a session of its own, without the terminal, so nothing it
//!   starts can prompt there either: ssh keys need an agent or no passphrase.
//!
//! Errors say in plain words what went wrong ("authentication required", "repository not
//! found", "timed out after 600 s"), from git's standard error (the only channel git has),
//! with credentials redacted and control characters escaped where they are shown.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use crate::error::{Error, Result};

mod url;

pub use url::{redact, RemoteUrl};

/// How long a clone may take unless told otherwise (`--clone-timeout`).
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(600);

/// git's standard error kept for the error message (the rest is progress).
const STDERR_KEPT: usize = 64 * 1024;

/// The configuration every clone runs with (see the module docs).
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
/// other protocols than the clone names (set when keyhound runs inside a git hook or alias).
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

/// How to clone.
#[derive(Debug, Clone)]
pub struct CloneOptions {
    /// Clone into this directory (it must not exist yet); `None`: a new temporary directory.
    pub dir: Option<PathBuf>,
    /// Keep the clone after the scan.
    pub keep: bool,
    /// Kill the clone after this long.
    pub timeout: Duration,
}

impl Default for CloneOptions {
    fn default() -> Self {
        CloneOptions { dir: None, keep: false, timeout: DEFAULT_TIMEOUT }
    }
}

/// A bare mirror on disk, removed when dropped unless kept.
#[derive(Debug)]
pub struct ClonedRepo {
    /// The clone's git directory.
    path: PathBuf,
    /// What to remove on drop (`None`: kept). For a temporary directory, the directory
    /// holding the clone.
    remove: Option<PathBuf>,
}

impl ClonedRepo {
    /// The clone's git directory, to open as a repository.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// True when the clone stays on disk after the drop.
    pub fn is_kept(&self) -> bool {
        self.remove.is_none()
    }
}

impl Drop for ClonedRepo {
    fn drop(&mut self) {
        if let Some(dir) = &self.remove {
            // Nothing to report to: the scan's outcome is already decided. A leftover
            // temporary directory is the operating system's to clean.
            drop(std::fs::remove_dir_all(dir));
        }
    }
}

/// Clones `url` as a bare mirror (see the module docs for what makes it safe) into
/// `options.dir` or a new temporary directory. The clone is removed when the returned value is
/// dropped, unless `options.keep`; on failure nothing is left behind.
pub fn clone_mirror(url: &RemoteUrl, options: &CloneOptions) -> Result<ClonedRepo> {
    let (path, remove) = match &options.dir {
        Some(dir) => {
            if dir.symlink_metadata().is_ok() {
                return Err(Error::Usage(format!("--clone-dir {}: already exists", dir.display())));
            }
            (dir.clone(), dir.clone())
        }
        None => {
            let temp = tempfile::Builder::new()
                .prefix("keyhound-clone-")
                .tempdir()
                .map_err(|source| Error::Path { path: std::env::temp_dir(), source })?;
            let holder = temp.keep();
            (holder.join("repo.git"), holder)
        }
    };
    // From here on, a failed clone removes what it left.
    let mut cloned = ClonedRepo { path, remove: Some(remove) };
    run_git(url, &cloned.path, options.timeout)?;
    if options.keep {
        cloned.remove = None;
    }
    Ok(cloned)
}

/// Runs `git clone --mirror` of `url` into `dest`, bounded by `timeout`.
fn run_git(url: &RemoteUrl, dest: &Path, timeout: Duration) -> Result<()> {
    let failed = |reason: String| Error::Clone { url: url.shown().to_string(), reason };
    let mut child = clone_command(url, dest)
        .spawn()
        .map_err(|e| failed(format!("cannot run git ({e}); is git installed and on PATH?")))?;
    let stderr = child.stderr.take().expect("stderr is piped");
    // Not scoped: after a timeout, a process that escaped the killed group could hold the pipe.
    let reader = std::thread::Builder::new().name("git stderr".into()).spawn(move || read_kept(stderr));
    let reader = reader.map_err(|e| {
        kill_group(&mut child);
        drop(child.wait());
        Error::Threads { what: "a thread to read git's errors".into(), reason: e.to_string() }
    })?;
    match wait_bounded(&mut child, timeout) {
        None => Err(failed(format!("timed out after {} s", timeout.as_secs()))),
        Some(status) if status.success() => Ok(()),
        Some(_) => {
            let text = reader.join().unwrap_or_default();
            Err(failed(reason(&url.redact_in(&String::from_utf8_lossy(&text)))))
        }
    }
}

/// The clone's command line: argv only, the user's git configuration, the remote's none.
fn clone_command(url: &RemoteUrl, dest: &Path) -> Command {
    let mut command = Command::new("git");
    for setting in SAFE_CONFIG {
        command.args(["-c", setting]);
    }
    command.args(["clone", "--mirror", "--no-hardlinks", "--template=", "--quiet", "--"]);
    command.arg(url.raw()).arg(dest);
    for name in CLEARED_ENV {
        command.env_remove(name);
    }
    command.env("GIT_TERMINAL_PROMPT", "0").env("GCM_INTERACTIVE", "never");
    command.stdin(Stdio::null()).stdout(Stdio::null()).stderr(Stdio::piped());
    #[cfg(unix)]
    detach(&mut command);
    command
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

/// The first [`STDERR_KEPT`] bytes of git's standard error, read to its end.
fn read_kept(mut pipe: impl Read) -> Vec<u8> {
    let mut kept = Vec::new();
    drop((&mut pipe).take(STDERR_KEPT as u64).read_to_end(&mut kept));
    drop(std::io::copy(&mut pipe, &mut std::io::sink()));
    kept
}

/// Waits for `child`; after `timeout`, kills its process group and returns `None`.
fn wait_bounded(child: &mut Child, timeout: Duration) -> Option<ExitStatus> {
    let started = Instant::now();
    loop {
        match child.try_wait() {
            Ok(Some(status)) => return Some(status),
            Ok(None) if started.elapsed() < timeout => std::thread::sleep(Duration::from_millis(20)),
            _ => break,
        }
    }
    kill_group(child);
    drop(child.wait());
    None
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
    fn the_clone_runs_with_the_safe_configuration_and_argv() {
        let url = RemoteUrl::classify("https://u:tok@h/r").unwrap().unwrap();
        let command = clone_command(&url, Path::new("dest"));
        let args: Vec<_> = command.get_args().map(|a| a.to_string_lossy().into_owned()).collect();
        assert_eq!(args[..2], ["-c", "protocol.allow=never"]);
        assert!(args.contains(&"core.hooksPath=/dev/null".to_string()));
        assert_eq!(args[args.len() - 3..], ["--", "https://u:tok@h/r", "dest"]);
        let env: Vec<_> = command.get_envs().map(|(k, v)| (k.to_string_lossy().into_owned(), v.is_some())).collect();
        assert!(env.contains(&("GIT_ALLOW_PROTOCOL".to_string(), false)));
        assert!(env.contains(&("GIT_TERMINAL_PROMPT".to_string(), true)));
    }
}
