//! The ways into keyhound a new user takes: installing it (completions, man page, `--version`)
//! and scanning a repository mounted into a container.

// `chown` is POSIX.
#[cfg(unix)]
mod container;
mod install;
