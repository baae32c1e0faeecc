//! `keyhound history URL`: remote repositories cloned safely (file://, a `git daemon` on
//! 127.0.0.1, hostile remotes, credentials in URLs, a remote that never answers), and
//! `--unreachable`.

use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::harness::{git_command, run_bounded, FakeKeys, Run, TestEnv, HANG};

/// A repository with a fake key committed in `app/.env`, and the key.
fn repo_with_key() -> (TestEnv, String) {
    let env = TestEnv::git_repo();
    let key = FakeKeys::new(18).project_key();
    env.write("app/.env", format!("OPENAI_API_KEY={key}\n"));
    env.commit_all("add config");
    (env, key)
}

/// `file://` URL of a directory.
fn file_url(path: &Path) -> String {
    format!("file://{}", path.to_str().expect("temp paths are UTF-8"))
}

/// `keyhound ARGS` run in `place` with its own temporary directory and no global git
/// configuration; returns the run and whether no clone is left in that temporary directory.
fn keyhound(place: &TestEnv, args: &[&str]) -> (Run, bool) {
    let mut command = keyhound_command(place);
    command.args(args);
    let run = run_bounded(&mut command);
    (run, left_in(&place.path().join("tmp")).is_empty())
}

/// A `keyhound` command in `place` with `place/tmp` for its temporary directory and no global
/// git configuration.
fn keyhound_command(place: &TestEnv) -> Command {
    let tmp = place.path().join("tmp");
    std::fs::create_dir_all(&tmp).expect("mkdir tmp");
    let global = place.write("gitconfig", "");
    let mut command = place.keyhound();
    command.env("TMPDIR", &tmp).env("GIT_CONFIG_GLOBAL", global);
    command
}

/// What is in the temporary directory `tmp` besides the (empty) directory of clones itself:
/// the clones left, and anything else.
fn left_in(tmp: &Path) -> Vec<PathBuf> {
    let list = |dir: &Path| -> Vec<PathBuf> {
        std::fs::read_dir(dir).expect("read tmp").map(|entry| entry.expect("an entry").path()).collect()
    };
    let is_parent =
        |path: &Path| path.file_name().is_some_and(|name| name.to_string_lossy().starts_with("keyhound-clones-"));
    list(tmp).into_iter().flat_map(|path| if is_parent(&path) { list(&path) } else { vec![path] }).collect()
}

/// The JSON findings' paths.
fn paths(run: &Run) -> Vec<String> {
    run.findings().iter().map(|f| f["path"].as_str().expect("a path").to_string()).collect()
}

#[test]
fn a_file_url_is_cloned_scanned_and_removed() {
    let (source, key) = repo_with_key();
    let place = TestEnv::new();
    let url = file_url(source.path());
    let (run, removed) = keyhound(&place, &["history", "--format", "json", &url]);
    run.expect_code(1);
    assert_eq!(paths(&run), ["app/.env"], "paths as in the repository");
    assert!(run.stderr.contains(&format!("scanned {url} (a mirror clone, removed after the scan)")), "{}", run.stderr);
    assert!(!run.stdout.contains(&key) && !run.stderr.contains(&key));
    assert!(removed, "the temporary clone was left behind");
}

#[test]
fn keep_clone_with_clone_dir_keeps_the_mirror() {
    let (source, _) = repo_with_key();
    let place = TestEnv::new();
    let dir = place.path().join("mirror.git");
    let dir_arg = dir.to_str().expect("UTF-8");
    let url = file_url(source.path());
    let (run, _) = keyhound(&place, &["history", "--keep-clone", "--clone-dir", dir_arg, &url]);
    run.expect_code(1);
    assert!(dir.join("HEAD").is_file() && dir.join("objects").is_dir(), "no bare mirror kept at {dir_arg}");
    assert!(run.stderr.contains(&format!("kept at {dir_arg}")), "{}", run.stderr);
    // Without --keep-clone the named directory goes too; an existing one is refused.
    let (run, _) = keyhound(&place, &["history", "--clone-dir", dir_arg, &url]);
    run.expect_code(2);
    assert!(run.stderr.contains("already exists"), "{}", run.stderr);
    let other = place.path().join("other.git");
    let (run, _) = keyhound(&place, &["history", "--clone-dir", other.to_str().expect("UTF-8"), &url]);
    run.expect_code(1);
    assert!(!other.exists(), "the clone directory was not removed");
    // A local repository is scanned where it is.
    let (run, _) = keyhound(&place, &["history", "--keep-clone", source.path().to_str().expect("UTF-8")]);
    run.expect_code(2);
    assert!(run.stderr.contains("apply to a repository URL only"), "{}", run.stderr);
}

/// A `git daemon` serving a directory on 127.0.0.1, killed when dropped.
struct Daemon {
    child: Child,
    port: u16,
}

impl Daemon {
    /// Starts one, or `None` (with the reason printed) when `git daemon` is not installed.
    fn start(base: &Path) -> Option<Daemon> {
        let exec_path = git_command(base).arg("--exec-path").output().expect("git runs");
        let exec_path = String::from_utf8_lossy(&exec_path.stdout).trim().to_string();
        if !Path::new(&exec_path).join("git-daemon").exists() {
            eprintln!("skipped: `git daemon` is not installed");
            return None;
        }
        let port = free_port();
        let base_arg = format!("--base-path={}", base.display());
        let child = git_command(base)
            .args(["daemon", "--export-all", "--reuseaddr", "--listen=127.0.0.1", &format!("--port={port}")])
            .arg(&base_arg)
            .arg(base)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("git daemon starts");
        let daemon = Daemon { child, port };
        let started = Instant::now();
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(started.elapsed() < Duration::from_secs(30), "git daemon did not listen on port {port}");
            std::thread::sleep(Duration::from_millis(50));
        }
        Some(daemon)
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        drop(self.child.kill());
        drop(self.child.wait());
    }
}

/// A port nothing listens on (just now).
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").expect("bind").local_addr().expect("address").port()
}

#[test]
fn a_repository_served_by_git_daemon_is_scanned() {
    let (source, key) = repo_with_key();
    let base = TestEnv::new();
    let served = base.path().join("repo.git");
    git_command(base.path()).args(["clone", "-q", "--bare"]).arg(source.path()).arg(&served).output().expect("clone");
    let Some(daemon) = Daemon::start(base.path()) else { return };
    let url = format!("git://127.0.0.1:{}/repo.git", daemon.port);
    let place = TestEnv::new();
    let (run, removed) = keyhound(&place, &["history", "--format", "json", &url]);
    drop(daemon);
    run.expect_code(1);
    assert_eq!(paths(&run), ["app/.env"]);
    assert!(!run.stdout.contains(&key));
    assert!(removed);
}

#[test]
fn credentials_in_a_url_are_never_printed() {
    let place = TestEnv::new();
    let port = free_port();
    let url = format!("https://keyhound-user:tok3n-s3cret@127.0.0.1:{port}/org/repo.git");
    for format in ["text", "json"] {
        let (run, removed) = keyhound(&place, &["history", "--format", format, &url]);
        run.expect_code(2);
        let refused =
            format!("could not clone https://***@127.0.0.1:{port}/org/repo.git: could not connect to the host");
        assert!(run.stderr.contains(&refused), "{}", run.stderr);
        for output in [&run.stdout, &run.stderr] {
            assert!(!output.contains("tok3n-s3cret") && !output.contains("keyhound-user"), "{output}");
        }
        assert!(removed);
    }
}

#[test]
fn a_hostile_remote_runs_nothing() {
    let marker_dir = TestEnv::new();
    let marker = marker_dir.path().join("ran");
    let touch = format!("#!/bin/sh\ntouch '{}'\n", marker.display());
    let hostile = TestEnv::git_repo();
    hostile.write("hooks/post-checkout", &touch);
    hostile.write("hooks/reference-transaction", &touch);
    hostile.write(
        ".gitmodules",
        format!("[submodule \"x\"]\n\tpath = x\n\turl = ext::sh -c touch% {}\n", marker.display()),
    );
    hostile.commit_all("hooks and submodules");
    hostile.write(".git/hooks/post-checkout", &touch);
    hostile.write(".git/hooks/reference-transaction", &touch);
    // The user's own template directory holds a hook too: a clone made with it would run it.
    let templates = TestEnv::new();
    templates.write("hooks/reference-transaction", &touch);
    make_executable(&[
        &hostile.path().join("hooks/post-checkout"),
        &hostile.path().join(".git/hooks/post-checkout"),
        &hostile.path().join(".git/hooks/reference-transaction"),
        &templates.path().join("hooks/reference-transaction"),
    ]);
    let place = TestEnv::new();
    let dir = place.path().join("kept.git");
    let tmp = place.path().join("tmp");
    std::fs::create_dir_all(&tmp).expect("mkdir");
    let mut command = place.keyhound();
    command
        .args(["history", "--keep-clone", "--clone-dir", dir.to_str().expect("UTF-8"), &file_url(hostile.path())])
        .env("TMPDIR", &tmp)
        .env("GIT_CONFIG_GLOBAL", place.write("gitconfig", ""))
        .env("GIT_TEMPLATE_DIR", templates.path());
    run_bounded(&mut command).expect_code(0);
    assert!(!marker.exists(), "a hook or a submodule command ran");
    assert!(dir.join("HEAD").is_file(), "the clone was made");
    let hooks = std::fs::read_dir(dir.join("hooks")).map_or(0, Iterator::count);
    assert_eq!(hooks, 0, "the clone holds hooks");
}

#[cfg(unix)]
fn make_executable(paths: &[&Path]) {
    use std::os::unix::fs::PermissionsExt;
    for path in paths {
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    }
}

#[cfg(not(unix))]
fn make_executable(_: &[&Path]) {}

#[test]
fn a_remote_that_never_answers_times_out() {
    // The kernel completes the connection into the backlog; nothing ever reads or answers.
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("address").port();
    let place = TestEnv::new();
    let url = format!("git://127.0.0.1:{port}/repo.git");
    let (run, removed) = keyhound(&place, &["history", "--clone-timeout", "1", &url]);
    drop(listener);
    run.expect_code(2);
    assert!(run.stderr.contains(&format!("could not clone {url}: timed out after 1 s")), "{}", run.stderr);
    assert!(removed);
}

#[test]
fn unsupported_urls_are_refused_before_git_runs() {
    let place = TestEnv::new();
    for url in ["ext::sh -c touch% ran", "http://127.0.0.1/r.git", "-oProxyCommand=x:r"] {
        let (run, _) = keyhound(&place, &["history", "--", url]);
        run.expect_code(2);
        assert!(!place.path().join("ran").exists());
    }
}

/// A `git` in `place/bin` that runs the real one, then, after a clone, marks `place/cloned` and
/// waits until its parent (keyhound) is gone: a keyhound running it is still running, its clone
/// made, until the test kills it.
#[cfg(unix)]
fn git_that_waits_after_cloning(place: &TestEnv) -> PathBuf {
    let paths = std::env::var_os("PATH").expect("PATH is set");
    let real = std::env::split_paths(&paths).map(|dir| dir.join("git")).find(|git| git.is_file()).expect("git on PATH");
    let script = format!(
        "#!/bin/sh\n'{}' \"$@\" || exit $?\nfor arg; do [ \"$arg\" = clone ] || continue\n  touch '{}'\n  \
         while kill -0 \"$PPID\" 2>/dev/null; do sleep 0.1; done\ndone\n",
        real.display(),
        place.path().join("cloned").display()
    );
    let git = place.write("bin/git", script);
    make_executable(&[&git]);
    let mut path = vec![place.path().join("bin")];
    path.extend(std::env::split_paths(&paths));
    std::env::join_paths(path).expect("a PATH").into()
}

#[cfg(unix)]
#[test]
fn a_clone_left_by_a_killed_keyhound_is_removed_by_the_next_run() {
    let (source, _) = repo_with_key();
    let url = file_url(source.path());
    let place = TestEnv::new();
    let tmp = place.path().join("tmp");
    let mut first = keyhound_command(&place);
    first.args(["history", "--clone-timeout", "120", &url]).env("PATH", git_that_waits_after_cloning(&place));
    let mut first = first.stdin(Stdio::null()).stdout(Stdio::null()).stderr(Stdio::null()).spawn().expect("starts");
    let started = Instant::now();
    while !place.path().join("cloned").exists() {
        assert!(started.elapsed() < HANG, "the first keyhound did not clone within {HANG:?}");
        std::thread::sleep(Duration::from_millis(50));
    }
    let clones = left_in(&tmp);
    assert_eq!(clones.len(), 1, "{clones:?}");
    assert!(clones[0].join("repo.git/HEAD").is_file(), "no clone in {}", clones[0].display());
    // A second keyhound leaves the live one's clone alone.
    let (run, _) = keyhound(&place, &["history", &url]);
    run.expect_code(1);
    assert_eq!(left_in(&tmp), clones, "a live keyhound's clone was removed");
    first.kill().expect("SIGKILL");
    first.wait().expect("reaped");
    assert_eq!(left_in(&tmp), clones, "the killed keyhound removed its clone");
    let (run, removed) = keyhound(&place, &["history", &url]);
    run.expect_code(1);
    assert!(removed, "left behind: {:?}", left_in(&tmp));
}

#[cfg(unix)]
#[test]
fn a_directory_of_clones_others_may_write_in_is_neither_used_nor_swept() {
    use std::os::unix::fs::{MetadataExt, PermissionsExt};
    let (source, _) = repo_with_key();
    let place = TestEnv::new();
    let uid = std::fs::metadata(place.path()).expect("stat").uid();
    let parent = place.path().join(format!("tmp/keyhound-clones-{uid}"));
    let stale = place.write(&format!("tmp/keyhound-clones-{uid}/clone-abc123/lock"), "");
    std::fs::set_permissions(&parent, std::fs::Permissions::from_mode(0o777)).expect("chmod");
    let (run, _) = keyhound(&place, &["history", &file_url(source.path())]);
    run.expect_code(1);
    assert!(run.stderr.contains("not a directory of this user that only this user may write in"), "{}", run.stderr);
    assert!(stale.exists(), "a clone in a directory others may write in was removed");
    assert_eq!(left_in(&place.path().join("tmp")), [stale.parent().expect("a parent")], "the clone was left behind");
}

#[test]
fn unreachable_finds_a_key_amended_away() {
    let env = TestEnv::git_repo();
    let key = FakeKeys::new(181).project_key();
    env.write("README", "x\n");
    env.commit_all("first");
    env.write("app/.env", format!("OPENAI_API_KEY={key}\n"));
    env.commit_all("add config");
    env.git(&["rm", "-q", "app/.env"]);
    env.write("README", "y\n");
    env.git(&["add", "-A"]);
    env.git(&["commit", "-q", "--amend", "-m", "second"]);
    env.run(&["history", "--format", "json"]).expect_code(0);
    let run = env.run(&["history", "--unreachable", "--format", "json"]);
    run.expect_code(1);
    let findings = run.findings();
    assert_eq!(paths(&run), ["app/.env"], "at the path the amended-away commit named");
    assert!(findings[0]["commit"].is_null(), "an unreachable blob has no commit");
    let text = env.run(&["history", "--unreachable"]);
    text.expect_code(1);
    assert!(text.stdout.contains("commit: unreachable"), "{}", text.stdout);
    assert!(text.stdout.contains("today: only in objects no ref reaches"), "{}", text.stdout);
    assert!(text.stdout.contains("0 removed but in history, 1 only in objects no ref reaches."), "{}", text.stdout);
    assert_eq!(findings[0]["exposure"]["status"], "unreachable");
    assert!(!text.stdout.contains(&key) && !run.stdout.contains(&key));
    // A blob no commit names at all is reported by its id.
    let loose = FakeKeys::new(182).project_key();
    env.write("loose", format!("OPENAI_API_KEY={loose}\n"));
    let blob = env.git(&["hash-object", "-w", "loose"]);
    std::fs::remove_file(env.path().join("loose")).expect("rm");
    let run = env.run(&["history", "--unreachable", "--format", "json"]);
    run.expect_code(1);
    let mut found = paths(&run);
    found.sort();
    assert_eq!(found, [format!("<unreachable blob {}>", &blob[..12]), "app/.env".to_string()]);
}
