//! `keyhound hook install [--pre-push] [--force]` and `keyhound hook uninstall`: put the shim
//! scripts of `hooks/` (embedded at build time) into the repository's hooks directory.
//!
//! The directory is git's: `core.hooksPath` if set (relative to the work tree's root), else the
//! common `hooks/` directory that all worktrees of a repository share. An existing hook that
//! is not keyhound's is never overwritten: install refuses, and with `--force` keeps it as
//! `<hook>.keyhound-chained`, which keyhound's hook runs first. Uninstall removes keyhound's
//! hooks and puts the chained ones back. Installing again updates keyhound's hooks in place.
//!
//! Hooks are written atomically and never through a symlink (see [`crate::fsio`]). A
//! `core.hooksPath` from the repository's own config must lead to a directory inside the
//! repository; one from the user's global or system config may lead anywhere.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use git2::{ConfigLevel, ErrorCode, Repository};

use crate::cli::HookAction;
use crate::error::{Error, RepoHint, Result};
use crate::exit::ExitStatus;
use crate::fsio::{self, Named};
use crate::source::git::open_for_command;

/// A hook keyhound installs: git's name for it and the script.
struct Hook {
    name: &'static str,
    script: &'static str,
}

const PRE_COMMIT: Hook = Hook { name: "pre-commit", script: include_str!("../../hooks/pre-commit") };
const PRE_PUSH: Hook = Hook { name: "pre-push", script: include_str!("../../hooks/pre-push") };

/// Every script keyhound installs carries this line; a hook without it is someone else's.
const MARKER: &[u8] = b"# keyhound-hook";

/// What a previous hook is renamed to when keyhound's takes its place.
const CHAINED_SUFFIX: &str = ".keyhound-chained";

/// Runs the command.
pub(crate) fn run(action: &HookAction) -> Result<ExitStatus> {
    let repo = open_for_command(None, RepoHint::RunInside)?;
    let (dir, named) = hooks_dir(&repo)?;
    let messages = match action {
        HookAction::Install { pre_push, force } => {
            let hooks: &[Hook] = if *pre_push { &[PRE_COMMIT, PRE_PUSH] } else { &[PRE_COMMIT] };
            install(&dir, &named, hooks, *force)?
        }
        HookAction::Uninstall => uninstall(&dir, &[PRE_COMMIT, PRE_PUSH])?,
    };
    let mut stdout = io::stdout().lock();
    for message in messages {
        super::say(&mut stdout, &message).map_err(|source| Error::Output { target: "<stdout>".into(), source })?;
    }
    Ok(ExitStatus::Clean)
}

/// The directory git runs this repository's hooks from, and who chose it (see the module docs).
fn hooks_dir(repo: &Repository) -> Result<(PathBuf, Named)> {
    let config = repo.config().map_err(|e| Error::git("cannot read the git configuration", e))?;
    let top = repo.workdir().unwrap_or(repo.path());
    let (path, level) = match config
        .get_path("core.hooksPath")
        .and_then(|path| config.get_entry("core.hooksPath").map(|entry| (path, entry.level())))
    {
        Ok(found) => found,
        Err(e) if e.code() == ErrorCode::NotFound => {
            let root = repo.commondir().to_path_buf();
            return Ok((root.join("hooks"), Named::ByRepository { root }));
        }
        Err(e) => return Err(Error::git("cannot read core.hooksPath", e)),
    };
    let named = match level {
        ConfigLevel::Local | ConfigLevel::Worktree | ConfigLevel::App => Named::ByRepository { root: top.into() },
        _ => Named::ByUser,
    };
    Ok((top.join(path), named))
}

/// Installs `hooks` into `dir`. Checks every hook before changing any, so a refusal leaves
/// everything as it was.
fn install(dir: &Path, named: &Named, hooks: &[Hook], force: bool) -> Result<Vec<String>> {
    for hook in hooks {
        let path = dir.join(hook.name);
        if is_foreign(&path)? && (!force || exists(&chained(&path))?) {
            return Err(refusal(&path, force));
        }
    }
    fsio::create_dir_all(dir, named).map_err(|source| Error::Path { path: dir.to_path_buf(), source })?;
    let mut messages = Vec::new();
    for hook in hooks {
        let path = dir.join(hook.name);
        if is_foreign(&path)? {
            rename(&path, &chained(&path))?;
            messages.push(format!(
                "kept the existing {} hook as {}; it runs before keyhound's",
                hook.name,
                chained(&path).display()
            ));
        }
        let verb = if exists(&path)? { "updated" } else { "installed" };
        write_script(&path, named, hook.script)?;
        messages.push(format!("{verb} the {} hook: {}", hook.name, path.display()));
    }
    if !binary_is_reachable() {
        messages.push(
            "warning: no keyhound on PATH and KEYHOUND is not set: the hooks will fail until one is \
             (cargo install --locked --path . in a clone of keyhound, or cargo install --locked --git \
             <URL of keyhound's git repository>)"
                .into(),
        );
    }
    Ok(messages)
}

/// Removes keyhound's hooks from `dir` and restores the hooks they chained to.
fn uninstall(dir: &Path, hooks: &[Hook]) -> Result<Vec<String>> {
    let mut messages = Vec::new();
    for hook in hooks {
        let path = dir.join(hook.name);
        if is_foreign(&path)? {
            messages.push(format!("left {} alone: it is not keyhound's hook", path.display()));
            continue;
        }
        if exists(&path)? {
            fs::remove_file(&path).map_err(|source| Error::Path { path: path.clone(), source })?;
            messages.push(format!("removed the {} hook: {}", hook.name, path.display()));
        }
        if exists(&chained(&path))? {
            rename(&chained(&path), &path)?;
            messages.push(format!("restored the previous {} hook: {}", hook.name, path.display()));
        }
    }
    if messages.is_empty() {
        messages.push(format!("no keyhound hooks were installed in {}", dir.display()));
    }
    Ok(messages)
}

fn refusal(path: &Path, force: bool) -> Error {
    let chained = chained(path);
    if force {
        Error::Usage(format!(
            "{} exists and so does {}: move one of them away, then install again",
            path.display(),
            chained.display()
        ))
    } else {
        Error::Usage(format!(
            "{} exists and is not keyhound's hook, so it was left alone. Re-run with --force to keep it as \
             {} and run it before keyhound's (`keyhound hook uninstall` puts it back), or add \
             a call to keyhound to it yourself",
            path.display(),
            chained.display()
        ))
    }
}

fn chained(path: &Path) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(CHAINED_SUFFIX);
    PathBuf::from(name)
}

/// Whether something (a file or a symlink, even a dangling one) is at `path`.
fn exists(path: &Path) -> Result<bool> {
    match fs::symlink_metadata(path) {
        Ok(_) => Ok(true),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(false),
        Err(source) => Err(Error::Path { path: path.to_path_buf(), source }),
    }
}

/// Whether a hook that keyhound did not install is at `path`.
fn is_foreign(path: &Path) -> Result<bool> {
    if !exists(path)? {
        return Ok(false);
    }
    match fsio::read(path, &Named::ByUser) {
        Ok(bytes) => Ok(memchr::memmem::find(&bytes, MARKER).is_none()),
        // A dangling symlink or a directory is not ours either.
        Err(_) => Ok(true),
    }
}

fn rename(from: &Path, to: &Path) -> Result<()> {
    fs::rename(from, to).map_err(|source| Error::Path { path: from.to_path_buf(), source })
}

/// Writes an executable script (the umask decides who else may run it).
fn write_script(path: &Path, named: &Named, script: &str) -> Result<()> {
    fsio::write_atomic(path, named, 0o777, |out| out.write_all(script.as_bytes()))
        .map_err(|source| Error::Path { path: path.to_path_buf(), source })
}

/// Whether the hooks will find a keyhound binary (`KEYHOUND`, or `keyhound` on `PATH`).
fn binary_is_reachable() -> bool {
    if std::env::var_os("KEYHOUND").is_some_and(|path| Path::new(&path).is_file()) {
        return true;
    }
    let name = if cfg!(windows) { "keyhound.exe" } else { "keyhound" };
    std::env::var_os("PATH").is_some_and(|paths| std::env::split_paths(&paths).any(|dir| dir.join(name).is_file()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shims_carry_the_marker_and_are_posix_sh() {
        for hook in [PRE_COMMIT, PRE_PUSH] {
            assert!(hook.script.starts_with("#!/bin/sh\n"), "{}", hook.name);
            assert!(memchr::memmem::find(hook.script.as_bytes(), MARKER).is_some(), "{}", hook.name);
            assert!(hook.script.contains(CHAINED_SUFFIX), "{}", hook.name);
        }
    }

    #[test]
    fn install_refuses_then_chains_then_uninstall_restores() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("pre-commit");
        fs::write(&path, "#!/bin/sh\necho mine\n").unwrap();
        assert!(install(dir.path(), &Named::ByUser, &[PRE_COMMIT], false).unwrap_err().to_string().contains("--force"));
        assert_eq!(fs::read_to_string(&path).unwrap(), "#!/bin/sh\necho mine\n");
        install(dir.path(), &Named::ByUser, &[PRE_COMMIT], true).unwrap();
        install(dir.path(), &Named::ByUser, &[PRE_COMMIT], false).unwrap();
        assert_eq!(fs::read_to_string(&path).unwrap(), PRE_COMMIT.script);
        assert_eq!(fs::read_to_string(chained(&path)).unwrap(), "#!/bin/sh\necho mine\n");
        uninstall(dir.path(), &[PRE_COMMIT, PRE_PUSH]).unwrap();
        assert_eq!(fs::read_to_string(&path).unwrap(), "#!/bin/sh\necho mine\n");
        assert!(!exists(&chained(&path)).unwrap());
    }
}
