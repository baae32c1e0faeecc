//! keyhound finds leaked API keys — OpenAI's first — in working trees, git history and staged
//! changes.
//!
//! Data flows one way:
//!
//! ```text
//! Config → source (worktree | history | staged) → bytes
//!        → scan: the bytes, archive members (archive), decoded text (decode)
//!        → matcher (keyword prefilter → rule regex → precision filters) → RawMatch
//!        → scan (placed on lines in one pass by `lines`, inline allow) → Finding
//!        → filter (allowlists → .keyhoundignore → baseline) → sort
//!        → report (text | json | jsonl | sarif | github | junit | codequality | csv)
//!        → ExitStatus
//! ```
//!
//! The scanned repository is the attacker, and three leaf modules keep it in its place:
//! every file it names is read, and every file keyhound writes is written, through [`fsio`];
//! every repository is opened through [`source::git`]; every string from it that reaches a
//! person is shown through [`escape`], and a value that may be a secret through [`echo`].

// Module docs explain how things work and name the private items that do it; they are read
// with `cargo doc --document-private-items`, where those links resolve.
#![allow(rustdoc::private_intra_doc_links)]

pub mod archive;
pub mod baseline;
pub mod cli;
pub mod cmd;
pub mod config;
pub mod decode;
pub mod driver;
pub mod echo;
pub mod error;
pub mod escape;
pub mod exit;
pub mod filter;
pub mod finding;
pub mod fsio;
pub mod gitleaks;
pub mod ignore_file;
pub mod lines;
pub mod matcher;
pub mod precision;
pub mod prefilter;
pub mod report;
pub mod rules;
pub mod scan;
#[cfg(target_arch = "x86_64")]
mod simd;
pub mod source;
pub mod threads;
pub mod verify;

pub use error::{Error, Result};
pub use exit::ExitStatus;

use cli::{Cli, Command};

/// Sets the process-wide options `cli`'s command needs. `main` calls it once, before [`run`].
///
/// Every command but `hook` only reads repositories, so libgit2's check that a repository
/// belongs to the current user is turned off for them (see
/// [`source::git::allow_repositories_of_other_owners`]); `hook` keeps it, since it writes where
/// the repository's configuration says.
///
/// # Safety
///
/// libgit2 keeps these options in globals it does not synchronise: call this before any other
/// thread exists and before any other use of libgit2.
pub unsafe fn init(cli: &Cli) -> Result<()> {
    if !matches!(cli.command, Command::Hook { .. }) {
        // SAFETY: the caller's contract is this function's.
        unsafe { source::git::allow_repositories_of_other_owners() }
            .map_err(|e| Error::git("cannot set up libgit2", e))?;
    }
    Ok(())
}

/// Runs a parsed command line.
pub fn run(cli: Cli) -> Result<ExitStatus> {
    refuse_verify_where_it_does_not_belong(&cli)?;
    match &cli.command {
        Command::Scan(args) => cmd::scan::run(args, &cli.global),
        Command::Rules { action } => cmd::rules::run(action, &cli.global),
        Command::Baseline { action } => cmd::baseline::run(action, &cli.global),
        Command::Staged(args) => cmd::staged::run(args, &cli.global),
        Command::Hook { action } => cmd::hook::run(action),
        Command::History(args) => cmd::history::run(args, &cli.global),
        Command::Completions { shell } => cmd::generate::completions(*shell),
        Command::Man => cmd::generate::man(),
    }
}

/// `--verify` makes network calls: only `scan` and `history` take it. Hooks (and so
/// `staged`) must stay offline and fast, whatever a hook script or alias passes.
fn refuse_verify_where_it_does_not_belong(cli: &Cli) -> Result<()> {
    let name = match &cli.command {
        _ if !cli.global.verify => return Ok(()),
        Command::Scan(_) | Command::History(_) => return Ok(()),
        Command::Staged(_) => "staged",
        Command::Hook { .. } => "hook",
        Command::Rules { .. } => "rules",
        Command::Baseline { .. } => "baseline",
        Command::Completions { .. } => "completions",
        Command::Man => "man",
    };
    Err(Error::Usage(format!(
        "--verify is not available for `keyhound {name}` (it makes network calls, and hooks never do); \
         use `keyhound scan --verify` or `keyhound history --verify`"
    )))
}
