//! Hostile-input tests: the scanned tree or repository is the attacker. Each module covers one
//! class of attack and asserts what a user relies on — no secret bytes and no raw control bytes
//! in any output, the exit code, files outside the repository untouched, and bounded time and
//! memory.

mod bounds;
mod files;
mod forgery;
mod leaks;
mod misses_content;
mod misses_tree;
mod writes;
