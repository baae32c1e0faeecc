//! The ways into keyhound a new user takes: installing it (completions, man page, `--version`).

mod install;
