//! keyhound finds leaked API keys — OpenAI's first — in working trees, git history and staged
//! changes.
//!
//! Data flows one way, each step in a module of its own:
//!
//! ```text
//! cli → cmd (one short list of named steps per command) → config (file syntax, gitleaks
//!     translation, resolution)
//! source: a `Source` (worktree | staged | history | stdin) hands out units — bytes with a
//!     typed `Provenance` (file, staged blob, blob in a commit, commit or tag message,
//!     standard input; archive members beside it)
//! driver: one per command; owns the thread pool, a `BlobScanner` per thread, read errors,
//!     counters and merging (driver::history: attribution, occurrences, earliest per file)
//! scan: the bytes, archive members (archive), decoded text (decode)
//!     → matcher (keyword prefilter → rule regex → precision filters) → RawMatch
//!     → placed on lines in one pass (lines), inline allow (filter 1) → Finding
//! pipeline: collect → filter (allowlist → .keyhoundignore → baseline → already in HEAD)
//!     → sort → verify (optional; results beside the outcome)
//! report (text | json | jsonl | sarif | github | junit | codequality | gitlab | csv) → ExitStatus
//! ```
//!
//! Beside that flow: [`datastore`] records what a history scan read and found (`--datastore`,
//! `audit`), so a re-run reads only new blobs; [`respond`] takes a scan's findings through
//! identify, usage, revoke and purge; `source::remote` clones a URL safely for `history` and
//! `audit`.
//!
//! A new source is one file under [`source`] implementing [`source::Source`] (plus its
//! `Origin` variant); a new report format one file under [`report`] and a [`report::Format`]
//! variant; a new `--verify` provider an entry in `verify::providers`.
//!
//! Below the commands, the modules that know rules, text and secrets sit in layers, each
//! importing only those after it:
//!
//! ```text
//! rule_check (`rules check`: each rule's examples through the real matcher)
//!   → matcher (prefilter, precision) → rules (data: the format, loading, compiled regexes)
//! finding (Finding, fingerprint(), Fingerprint::parse) → echo → matcher
//! echo (what of a file a message may show) → matcher with the built-in rules, lines, redact
//! leaves: lines (Position) · redact (SecretSpan, mask) · size · escape · precision · archive
//! ```
//!
//! [`rules`] keeps what is wrong with a rule file as data ([`rules::RuleError`]), and [`echo`]
//! words it: whether a token may be shown is asked of the built-in rules.
//!
//! The scanned repository is the attacker, and four modules keep it in its place: every file
//! it names is read, and every file keyhound writes is written, through [`fsio`]; every
//! repository is opened through [`source::git`]; every string from it that reaches a person
//! is shown through [`escape`], and a value that may be a secret through [`echo`].

// Module docs explain how things work and name the private items that do it; they are read
// with `cargo doc --document-private-items`, where those links resolve.
#![allow(rustdoc::private_intra_doc_links)]
#![warn(unreachable_pub, missing_docs)]

pub mod archive;
pub mod cli;
pub(crate) mod cmd;
pub(crate) mod config;
pub(crate) mod context;
pub(crate) mod datastore;
pub mod decode;
pub(crate) mod driver;
pub(crate) mod echo;
pub(crate) mod error;
pub(crate) mod escape;
pub(crate) mod exit;
pub(crate) mod filter;
pub mod finding;
pub(crate) mod fsio;
pub mod lines;
pub mod matcher;
pub(crate) mod paths;
pub(crate) mod pipeline;
pub(crate) mod precision;
pub mod prefilter;
pub(crate) mod redact;
pub(crate) mod report;
pub(crate) mod respond;
pub(crate) mod rule_check;
pub mod rules;
pub mod scan;
#[cfg(target_arch = "x86_64")]
mod simd;
pub mod size;
pub mod source;
pub mod threads;
pub(crate) mod verify;
pub(crate) mod wording;

pub use error::{Error, Result};
pub use exit::ExitStatus;

use cli::{Cli, Command, CommandOptions, ReportArgs};

/// Sets the process-wide options `cli`'s command needs. `main` calls it once, before [`run`].
///
/// Every command but `hook` only reads repositories, so libgit2's check that a repository
/// belongs to the current user is turned off for them (see
/// [`source::git::allow_repositories_of_other_owners`]); `hook` keeps it, since it writes where
/// the repository's configuration says. `history` and `audit`, which read only refs and
/// objects, read no git configuration but the repository's own (see
/// [`source::git::read_only_repository_configuration`]).
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
    if matches!(cli.command, Command::History(_) | Command::Audit(_)) {
        // SAFETY: the caller's contract is this function's.
        unsafe { source::git::read_only_repository_configuration() }
            .map_err(|e| Error::git("cannot set up libgit2", e))?;
    }
    Ok(())
}

/// Runs a parsed command line.
pub fn run(cli: Cli) -> Result<ExitStatus> {
    match &cli.command {
        Command::Scan(args) => cmd::scan::run(args, &args.options),
        Command::Rules { action, rules } => {
            cmd::rules::run(action, &CommandOptions { rules: rules.clone(), ..CommandOptions::default() })
        }
        Command::Baseline { action, rules, scan, output } => {
            let report = ReportArgs { output: output.clone(), ..ReportArgs::default() };
            let options =
                CommandOptions { rules: rules.clone(), report, scan: scan.clone(), ..CommandOptions::default() };
            cmd::baseline::run(action, &options)
        }
        Command::Staged(args) => cmd::staged::run(args, &args.offline.options()),
        Command::Hook { action } => cmd::hook::run(action),
        Command::History(args) => cmd::history::run(args, &args.options),
        Command::Respond(args) => cmd::respond::run(args, &args.offline.options()),
        Command::Audit(args) => cmd::audit::run(args, &args.options),
        Command::Triage(args) => cmd::triage::run(args),
        Command::Report(args) => cmd::report_cmd::run(args),
        Command::Datastore { action } => cmd::datastore::run(action),
        Command::Completions { shell } => cmd::generate::completions(*shell),
        Command::Man => cmd::generate::man(),
    }
}
