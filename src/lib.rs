//! keyhound finds leaked API keys — OpenAI's first — in working trees, git history and staged
//! changes.
//!
//! Data flows one way:
//!
//! ```text
//! Config → source (worktree | history | staged) → bytes
//!        → scan: the bytes, archive members (archive), decoded text (decode)
//!        → matcher (keyword prefilter → rule regex → precision filters) → RawMatch
//!        → scan (position, inline allow) → Finding
//!        → filter (allowlists → .keyhoundignore → baseline) → sort
//!        → report (text | json | jsonl | sarif | github | junit | codequality | csv)
//!        → ExitStatus
//! ```

// Module docs explain how things work and name the private items that do it; they are read
// with `cargo doc --document-private-items`, where those links resolve.
#![allow(rustdoc::private_intra_doc_links)]

pub mod archive;
pub mod baseline;
pub mod cli;
pub mod cmd;
pub mod config;
pub mod decode;
pub mod error;
pub mod exit;
pub mod filter;
pub mod finding;
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
    };
    Err(Error::Usage(format!(
        "--verify is not available for `keyhound {name}` (it makes network calls, and hooks never do); \
         use `keyhound scan --verify` or `keyhound history --verify`"
    )))
}
