//! The ways into keyhound a new user takes: installing it (completions, man page, `--version`),
//! the pre-commit framework's hooks, and scanning a repository mounted into a container.

// Both need POSIX tools: `chown`, and pre-commit's `sh -c` entry.
#[cfg(unix)]
mod container;
#[cfg(unix)]
mod framework;
mod install;
