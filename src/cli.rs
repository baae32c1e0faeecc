//! Command-line syntax (clap). Nothing below [`crate::config`] sees these types: commands
//! turn them into a resolved [`crate::config::Config`] first.

use std::ffi::{OsStr, OsString};
use std::path::PathBuf;
use std::sync::OnceLock;
use std::time::Duration;

use clap::error::{ContextKind, ContextValue, ErrorKind};
use clap::{Arg, Args, CommandFactory, FromArgMatches, Parser, Subcommand, ValueEnum};

use crate::report::Format;
use crate::rules::Confidence;

/// keyhound finds leaked API keys (OpenAI first) in files, git history and staged changes.
///
/// Exit codes: 0 no secrets found, 1 secrets found, 2 error (bad arguments, missing path,
/// invalid rules or config, or an incomplete scan).
///
/// A command's options may also be written before its name: `keyhound --format json scan .`
/// is `keyhound scan --format json .`.
#[derive(Debug, Parser)]
#[command(name = "keyhound", version, long_version = long_version(), max_term_width = 100)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

impl Cli {
    /// Parses the process's arguments; a wrong command line ends the process with clap's
    /// message and exit code 2 (`--help` and `--version` with 0).
    pub fn parse_args() -> Cli {
        Cli::try_parse_args(std::env::args_os()).unwrap_or_else(|error| error.exit())
    }

    /// Parses `args`, the program's name first. Options written before the command's name are
    /// moved after it, so that clap checks each against the command given, as it does the
    /// options written after it.
    pub fn try_parse_args<I, T>(args: I) -> Result<Cli, clap::Error>
    where
        I: IntoIterator<Item = T>,
        T: Into<OsString>,
    {
        // One command tree, built once: it is most of what parsing costs.
        let mut command = Cli::command();
        let args = options_after_command(&command, args.into_iter().map(Into::into).collect());
        let matches =
            command.try_get_matches_from_mut(&args).map_err(|error| explain_refused_verify(&command, error, &args))?;
        Cli::from_arg_matches(&matches).map_err(|error| error.format(&mut command))
    }
}

/// `args` with the options before the command's name moved after that name: a command's
/// options are defined on it (and, with `global`, on a command's parent for its
/// subcommands), not on keyhound itself. Scanning stops at the first token that is not an
/// option some command takes, such as `--help`, `--` or a misspelt name, and then nothing
/// moves: clap reports the command line as written.
fn options_after_command(command: &clap::Command, mut args: Vec<OsString>) -> Vec<OsString> {
    if !args.get(1).is_some_and(|token| token.as_encoded_bytes().starts_with(b"-")) {
        return args;
    }
    let options = options_of_commands(command);
    let mut at = 1;
    while let Some(len) = args.get(at).and_then(|token| option_len(&options, token)) {
        at += len;
    }
    let names_command =
        args.get(at).and_then(|token| token.to_str()).is_some_and(|name| command.find_subcommand(name).is_some());
    if at > 1 && names_command {
        args[1..=at].rotate_right(1);
    }
    args
}

/// Every option of every command, at every level.
fn options_of_commands(command: &clap::Command) -> Vec<&Arg> {
    command
        .get_subcommands()
        .flat_map(|sub| sub.get_arguments().chain(options_of_commands(sub)))
        .filter(|arg| arg.get_long().is_some() || arg.get_short().is_some())
        .collect()
}

/// How many tokens the option starting at `token` spans (it and its value, if its value is
/// the next token), or `None` when `token` does not start an option of `options`.
fn option_len(options: &[&Arg], token: &OsStr) -> Option<usize> {
    let token = token.to_str()?;
    let takes_value = |arg: &&Arg| arg.get_action().takes_values();
    if let Some(long) = token.strip_prefix("--") {
        let (name, value) = long.split_once('=').map_or((long, None), |(name, value)| (name, Some(value)));
        let arg = options.iter().find(|arg| arg.get_long() == Some(name))?;
        return Some(if takes_value(arg) && value.is_none() { 2 } else { 1 });
    }
    let shorts = token.strip_prefix('-').filter(|shorts| !shorts.is_empty())?;
    for (at, short) in shorts.char_indices() {
        let arg = options.iter().find(|arg| arg.get_short() == Some(short))?;
        if takes_value(arg) {
            return Some(if at + short.len_utf8() == shorts.len() { 2 } else { 1 });
        }
    }
    Some(1)
}

/// clap's refusal of `--verify` (or a `--verify-…` option) for a command that does not take
/// it, with the reason: it makes network calls, and hooks (so `staged`) never do.
fn explain_refused_verify(command: &clap::Command, mut error: clap::Error, args: &[OsString]) -> clap::Error {
    let refused = |arg: &str| arg.starts_with("--verify");
    let verify_refused = error.kind() == ErrorKind::UnknownArgument
        && matches!(error.get(ContextKind::InvalidArg), Some(ContextValue::String(arg)) if refused(arg));
    let name = args.get(1).and_then(|name| name.to_str()).filter(|name| command.find_subcommand(name).is_some());
    if let (true, Some(name)) = (verify_refused, name) {
        let reason = format!(
            "--verify is not available for `keyhound {name}` (it makes network calls, and hooks never do); \
             use `keyhound scan --verify` or `keyhound history --verify`"
        );
        error.insert(ContextKind::Suggested, ContextValue::StyledStrs(vec![reason.into()]));
    }
    error
}

/// What `--version` prints after the name: the version and the CPU search path this machine
/// runs, which decides how fast a scan can be.
fn long_version() -> &'static str {
    static TEXT: OnceLock<String> = OnceLock::new();
    TEXT.get_or_init(|| {
        format!("{}\nCPU search path: {}", env!("CARGO_PKG_VERSION"), crate::prefilter::cpu_search_path())
    })
}

/// The options that choose the rules, report and scan, grouped as commands take them: `scan`
/// and `history` take every group; the other commands fill in the groups they take and leave
/// the rest at their defaults. [`crate::config::Config::resolve`] reads this.
#[derive(Debug, Args, Clone, Default)]
pub struct CommandOptions {
    /// Which rules apply.
    #[command(flatten)]
    pub rules: RuleArgs,
    /// The report.
    #[command(flatten)]
    pub report: ReportArgs,
    /// How to scan.
    #[command(flatten)]
    pub scan: ScanOptions,
    /// `--verify`.
    #[command(flatten)]
    pub verify: VerifyArgs,
}

/// The options of a command that scans but never asks a provider (`staged`, `respond`): the
/// rules, report and scan groups, no `--verify`.
#[derive(Debug, Args, Clone, Default)]
pub struct OfflineOptions {
    /// Which rules.
    #[command(flatten)]
    pub rules: RuleArgs,
    /// The report.
    #[command(flatten)]
    pub report: ReportArgs,
    /// How to scan.
    #[command(flatten)]
    pub scan: ScanOptions,
}

impl OfflineOptions {
    /// These groups, with `--verify` off.
    pub fn options(&self) -> CommandOptions {
        let OfflineOptions { rules, report, scan } = self.clone();
        CommandOptions { rules, report, scan, verify: VerifyArgs::default() }
    }
}

// Every option below is `global`: on a command with subcommands (`rules`, `baseline`) that
// makes it an option of each subcommand too; on any other command it changes nothing.

/// Which rules apply: the commands that load rules.
#[derive(Debug, Args, Clone, Default)]
pub struct RuleArgs {
    /// Extra rule file, or directory of `*.toml` rule files (repeatable).
    #[arg(long = "rules", id = "rules", global = true, value_name = "FILE_OR_DIR")]
    pub files: Vec<PathBuf>,
    /// Configuration file [default: $KEYHOUND_CONFIG, else .keyhound.toml at the target's
    /// repository root].
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Report only rules of at least this confidence [default: low; `staged`: medium].
    #[arg(long, global = true, value_enum, value_name = "LEVEL")]
    pub confidence: Option<Confidence>,
}

/// The report: the commands that report findings.
#[derive(Debug, Args, Clone, Default)]
pub struct ReportArgs {
    /// Report format [default: text, or the config file's `format`].
    #[arg(long, global = true, value_enum)]
    pub format: Option<Format>,
    /// Write the report to this file instead of standard output.
    #[arg(long, short = 'o', global = true, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Print secrets whole instead of redacted (never do this in CI logs).
    #[arg(long, global = true)]
    pub show_secrets: bool,
    /// Leave out the line each finding is on (shown with its secrets redacted).
    #[arg(long, global = true)]
    pub no_context: bool,
    /// When to colour text output.
    #[arg(long, global = true, value_enum, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,
}

/// How to scan: the commands that scan.
#[derive(Debug, Args, Clone, Default)]
pub struct ScanOptions {
    /// Skip files larger than this (e.g. 512KiB, 20MiB) [default: 20MiB].
    #[arg(long, global = true, value_name = "SIZE")]
    pub max_file_size: Option<String>,
    /// Worker threads [default: available cores].
    #[arg(long, short = 'j', global = true, value_name = "N")]
    pub threads: Option<usize>,
    /// Report only findings not recorded in this baseline file (see `baseline create`)
    /// [default: the config file's `baseline`].
    #[arg(long, global = true, value_name = "FILE")]
    pub baseline: Option<PathBuf>,
    /// List baseline and .keyhoundignore entries that matched no finding.
    #[arg(long, global = true)]
    pub report_unused: bool,
    /// Print no summary or warnings on standard error, only errors (and why a scan is
    /// incomplete, when it is).
    #[arg(long, short = 'q', global = true)]
    pub quiet: bool,
    /// Do not decode base64 and percent-encoded text and UTF-16 files before scanning them.
    #[arg(long, global = true, help_heading = "Encodings and archives")]
    pub no_decode: bool,
    /// Scan archives (zip, jar, whl, tar, gzip, …) as raw bytes instead of opening them.
    #[arg(long, global = true, help_heading = "Encodings and archives")]
    pub no_archives: bool,
    /// Levels of archives inside archives to open [default: 3, at most 64].
    #[arg(long, global = true, value_name = "N",
          value_parser = clap::value_parser!(u16).range(1..=i64::from(crate::archive::MAX_DEPTH)),
          help_heading = "Encodings and archives")]
    pub archive_depth: Option<u16>,
    /// Most bytes to decompress from one file's archives, nested ones included [default: 256MiB].
    #[arg(long, global = true, value_name = "SIZE", help_heading = "Encodings and archives")]
    pub archive_max_bytes: Option<String>,
    /// Most members to read from one file's archives, nested ones included [default: 100000].
    #[arg(long, global = true, value_name = "N", value_parser = clap::value_parser!(u64).range(1..),
          help_heading = "Encodings and archives")]
    pub archive_max_members: Option<u64>,
    /// Most decompressed bytes per compressed byte of a member past its first MiB; more is
    /// taken for a zip bomb and skipped [default: 100].
    #[arg(long, global = true, value_name = "RATIO", value_parser = clap::value_parser!(u64).range(1..),
          help_heading = "Encodings and archives")]
    pub archive_max_ratio: Option<u64>,
}

/// `--verify`: `scan` and `history` only, since it makes network calls and hooks must stay
/// offline and fast, whatever a hook script or alias passes.
#[derive(Debug, Args, Clone, Default)]
pub struct VerifyArgs {
    /// Ask each found key's provider whether it is live (network calls that cost nothing).
    #[arg(long, global = true)]
    pub verify: bool,
    /// Send --verify requests to this base URL instead of each provider's host (tests,
    /// proxies): https://, or http:// to a loopback address only.
    #[arg(long, global = true, value_name = "URL", requires = "verify")]
    pub verify_base_url: Option<String>,
    /// Seconds allowed for one --verify request [default: 10].
    #[arg(long, global = true, value_name = "SECONDS", requires = "verify")]
    pub verify_timeout: Option<f64>,
}

/// When to use colour.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum ColorChoice {
    /// On a terminal, unless `NO_COLOR` is set.
    #[default]
    Auto,
    /// Always.
    Always,
    /// Never.
    Never,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Scan files and directory trees.
    Scan(ScanArgs),
    /// Scan the entire history of a git repository.
    History(HistoryArgs),
    /// Scan what the next commit adds (the staged index).
    Staged(StagedArgs),
    /// Install or remove the git hooks.
    Hook {
        /// Install or uninstall.
        #[command(subcommand)]
        action: HookAction,
    },
    /// List the rules or check rule files.
    Rules {
        /// List or check.
        #[command(subcommand)]
        action: RulesAction,
        /// Which rules.
        #[command(flatten)]
        rules: RuleArgs,
    },
    /// Respond to found keys: identify them, check their usage since the leak, revoke them
    /// (with --revoke) and plan the purge of history.
    ///
    /// A dry run by default: only read-only calls. Reads the OpenAI admin key from
    /// OPENAI_ADMIN_KEY. Exit codes: 0 every found key revoked (or already gone), 1 a key
    /// not acted on, 2 error.
    Respond(RespondArgs),
    /// Scan the whole history of many repositories into a datastore, a few at a time, and
    /// report across them.
    ///
    /// Re-runs read only the blobs the datastore does not hold. One repository that fails is
    /// reported and the others go on (exit 2 at the end). The configuration is the current
    /// directory's, never a scanned repository's.
    Audit(AuditArgs),
    /// Record the triage of a finding (by fingerprint) in a datastore.
    Triage(TriageArgs),
    /// Print the findings a datastore holds, without scanning.
    Report(StoredReportArgs),
    /// Work on datastore files.
    Datastore {
        /// What to do.
        #[command(subcommand)]
        action: DatastoreAction,
    },
    /// Record current findings so that later scans report only new ones.
    Baseline {
        /// What to do with the baseline.
        #[command(subcommand)]
        action: BaselineAction,
        /// Which rules.
        #[command(flatten)]
        rules: RuleArgs,
        /// How to scan.
        #[command(flatten)]
        scan: ScanOptions,
        /// Write the baseline to this file [default: the baseline that --baseline or the
        /// config file names, else .keyhound-baseline].
        #[arg(long, short = 'o', global = true, value_name = "FILE")]
        output: Option<PathBuf>,
    },
    /// Print the completion script for a shell.
    ///
    /// For example: `keyhound completions bash > ~/.local/share/bash-completion/completions/keyhound`.
    Completions {
        /// The shell to complete in.
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff), followed by each command's page with its options.
    ///
    /// For example: `keyhound man > ~/.local/share/man/man1/keyhound.1`.
    Man,
}

/// `keyhound scan`.
#[derive(Debug, Args)]
pub struct ScanArgs {
    /// Files and directories to scan [default: .]; `-` reads standard input.
    #[arg(value_name = "PATH")]
    pub paths: Vec<PathBuf>,
    /// The path findings in standard input (`-`) are reported under [default: -].
    #[arg(long, value_name = "NAME")]
    pub stdin_name: Option<String>,
    /// Also scan files excluded by .gitignore, .ignore and git's exclude files.
    #[arg(long)]
    pub no_ignore: bool,
    /// Show progress on standard error even when it is not a terminal.
    #[arg(long)]
    pub progress: bool,
    /// The options of a scan, its report and `--verify`.
    #[command(flatten)]
    pub options: CommandOptions,
}

/// `keyhound history`.
#[derive(Debug, Args)]
pub struct HistoryArgs {
    /// The repository [default: the one the current directory is in]; a path inside it limits
    /// the scan to that path's history, as `git log -- PATH` does. A URL (https, ssh, git,
    /// file, or scp-like `user@host:path`) is cloned as a bare mirror first, safely (see the
    /// README), and the clone removed after the scan.
    #[arg(value_name = "REPO")]
    pub repo: Option<PathBuf>,
    /// Clone a remote REPO into DIR (which must not exist yet) instead of a temporary directory.
    #[arg(long, value_name = "DIR")]
    pub clone_dir: Option<PathBuf>,
    /// Keep the clone of a remote REPO after the scan (its path is printed in the summary).
    #[arg(long)]
    pub keep_clone: bool,
    /// Give up cloning a remote REPO after this many seconds.
    #[arg(long, value_name = "SECONDS", default_value_t = crate::source::remote::DEFAULT_TIMEOUT.as_secs(),
          value_parser = clap::value_parser!(u64).range(1..))]
    pub clone_timeout: u64,
    /// Also scan every blob, and every commit and tag message, in the object database that no
    /// ref reaches (amended-away commits, deleted tags, dropped stashes, objects only the reflog
    /// holds), reported as "unreachable".
    #[arg(long, conflicts_with_all = ["range", "since", "exclude_remotes"])]
    pub unreachable: bool,
    /// Scan only what the commits in A..B introduced (`B` alone: B and its ancestors).
    #[arg(long, value_name = "A..B", conflicts_with_all = ["since", "datastore"])]
    pub range: Option<String>,
    /// Scan only what commits after REV introduced (REV..HEAD).
    #[arg(long, value_name = "REV", conflicts_with = "datastore")]
    pub since: Option<String>,
    /// Leave out commits reachable from any remote-tracking branch (with `--range B`: what a
    /// push of a new branch B adds).
    #[arg(long)]
    pub exclude_remotes: bool,
    /// Text and JSON reports: one entry per distinct secret, with every location and where
    /// it is today, or one entry per location (SARIF and the other CI formats always list
    /// locations).
    #[arg(long, value_enum, value_name = "BY", default_value_t = GroupBy::Secret)]
    pub group_by: GroupBy,
    /// Show progress on standard error even when it is not a terminal.
    #[arg(long)]
    pub progress: bool,
    /// Report as the pre-push hook does: when secrets are found, say which commits added
    /// them and how to rewrite those commits (needs --range or --since).
    #[arg(long)]
    pub pre_push: bool,
    /// The datastore that makes re-runs incremental.
    #[command(flatten)]
    pub store: DatastoreArgs,
    /// The options of a scan, its report and `--verify`.
    #[command(flatten)]
    pub options: CommandOptions,
}

/// How `keyhound history` lists what it found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum GroupBy {
    /// One entry per distinct secret.
    Secret,
    /// One entry per location (commit and path, or message).
    Location,
}

/// `--datastore` and `--store-secrets`.
#[derive(Debug, Clone, Default, Args)]
pub struct DatastoreArgs {
    /// Record scanned blobs and findings in this SQLite file, and scan only the blobs it does
    /// not already hold under the same rules (whole histories only) [audit: default
    /// keyhound.db].
    #[arg(long, value_name = "PATH")]
    pub datastore: Option<PathBuf>,
    /// Store the secrets themselves in the datastore (default: fingerprints and redacted
    /// forms only).
    #[arg(long)]
    pub store_secrets: bool,
    /// With a datastore: while a history is scanned, record the blobs scanned so far every
    /// SECONDS (decimals allowed), so a run killed midway resumes there [default: 10].
    #[arg(long, value_name = "SECONDS", value_parser = seconds)]
    pub checkpoint_every: Option<Duration>,
}

/// A positive number of seconds, decimals allowed (`0.5`).
fn seconds(text: &str) -> Result<Duration, String> {
    let seconds: f64 = text.parse().map_err(|_| "not a number of seconds".to_string())?;
    match Duration::try_from_secs_f64(seconds) {
        Ok(duration) if !duration.is_zero() => Ok(duration),
        _ => Err("must be a positive number of seconds".to_string()),
    }
}

/// `keyhound audit`.
#[derive(Debug, Args)]
pub struct AuditArgs {
    /// Audit every git repository under this directory (symbolic links are not followed).
    #[arg(value_name = "DIR", required_unless_present = "repos", conflicts_with = "repos")]
    pub dir: Option<PathBuf>,
    /// Audit the repositories listed in this file, one path or URL a line (`#` starts a
    /// comment; `-`: standard input).
    #[arg(long, value_name = "FILE")]
    pub repos: Option<PathBuf>,
    /// Repositories scanned at once.
    #[arg(long, value_name = "N", default_value_t = 2, value_parser = clap::value_parser!(u16).range(1..))]
    pub jobs: u16,
    /// Audit only this share of the repositories: `I/N` (0 ≤ I < N), or `auto` for a
    /// Kubernetes Indexed Job (JOB_COMPLETION_INDEX, and --shard-count or JOB_COMPLETIONS).
    #[arg(long, value_name = "I/N|auto")]
    pub shard: Option<String>,
    /// The number of shards with `--shard auto`.
    #[arg(long, value_name = "N", requires = "shard")]
    pub shard_count: Option<u32>,
    /// Report only findings of these triage statuses (repeatable).
    #[arg(long, value_enum, value_name = "STATUS")]
    pub status: Vec<StatusFilter>,
    /// The datastore.
    #[command(flatten)]
    pub store: DatastoreArgs,
    /// The options of a scan, its report and `--verify`.
    #[command(flatten)]
    pub options: CommandOptions,
}

/// A finding's triage status, as `--status` filters on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum StatusFilter {
    /// Not triaged.
    Open,
    /// The key was revoked.
    Revoked,
    /// Not a secret.
    FalsePositive,
    /// A secret, knowingly left.
    AcceptedRisk,
}

/// `keyhound triage`.
#[derive(Debug, Args)]
pub struct TriageArgs {
    /// The finding's fingerprint, as reports print it.
    #[arg(value_name = "FINGERPRINT")]
    pub fingerprint: String,
    /// Its status (`open` clears the triage).
    #[arg(long, value_enum)]
    pub status: StatusFilter,
    /// Why, for whoever reads the report next.
    #[arg(long, value_name = "TEXT")]
    pub note: Option<String>,
    /// The datastore.
    #[arg(long, value_name = "PATH", default_value = "keyhound.db")]
    pub datastore: PathBuf,
}

/// `keyhound report`.
#[derive(Debug, Args)]
pub struct StoredReportArgs {
    /// The datastore.
    #[arg(long, value_name = "PATH", default_value = "keyhound.db")]
    pub datastore: PathBuf,
    /// Report only findings of these triage statuses (repeatable).
    #[arg(long, value_enum, value_name = "STATUS")]
    pub status: Vec<StatusFilter>,
    /// The report.
    #[command(flatten)]
    pub report: ReportArgs,
}

/// `keyhound datastore …`.
#[derive(Debug, Subcommand)]
pub enum DatastoreAction {
    /// Merge datastores (one per shard, say) into OUT; the same repository in two of them
    /// keeps the newer scan. Merging again changes nothing.
    Merge {
        /// The datastore to merge into (created if missing).
        #[arg(value_name = "OUT")]
        out: PathBuf,
        /// The datastores to merge.
        #[arg(value_name = "IN", required = true)]
        inputs: Vec<PathBuf>,
    },
}

/// `keyhound respond`.
#[derive(Debug, Args)]
pub struct RespondArgs {
    /// Files and directories to scan [default: .]; with --history, the repository.
    #[arg(value_name = "PATH")]
    pub paths: Vec<PathBuf>,
    /// Respond to the keys in the repository's whole history instead of the working tree.
    #[arg(long)]
    pub history: bool,
    /// Revoke the keys keyhound can revoke (after a confirmation on a terminal).
    #[arg(long)]
    pub revoke: bool,
    /// Revoke without asking (for automation).
    #[arg(long, requires = "revoke")]
    pub yes: bool,
    /// Write a `git filter-repo --replace-text` file holding the secrets here (mode 0600).
    #[arg(long, value_name = "FILE")]
    pub purge_file: Option<PathBuf>,
    /// Send OpenAI admin and usage requests here instead of `https://api.openai.com` (tests,
    /// proxies): https://, or http:// to a loopback address only.
    #[arg(long, value_name = "URL")]
    pub admin_base_url: Option<String>,
    /// Send GitHub revocations here instead of `https://api.github.com` (same rules).
    #[arg(long, value_name = "URL")]
    pub github_base_url: Option<String>,
    /// Its options; not `--verify`, whose checks it makes itself.
    #[command(flatten)]
    pub offline: OfflineOptions,
}

/// `keyhound staged`.
#[derive(Debug, Args)]
pub struct StagedArgs {
    /// The repository [default: the one the current directory is in].
    #[arg(value_name = "REPO")]
    pub repo: Option<PathBuf>,
    /// Also block on secrets that HEAD already contains.
    #[arg(long)]
    pub strict: bool,
    /// Its options; never `--verify` (hooks stay offline).
    #[command(flatten)]
    pub offline: OfflineOptions,
}

/// `keyhound hook …`.
#[derive(Debug, Subcommand)]
pub enum HookAction {
    /// Install the pre-commit hook (and the pre-push hook with --pre-push).
    Install {
        /// Also install a pre-push hook that scans the commits being pushed.
        #[arg(long)]
        pre_push: bool,
        /// Install even where another hook exists, instead of refusing: that hook is kept as
        /// `<hook>.keyhound-chained` and runs first; `uninstall` puts it back.
        #[arg(long)]
        force: bool,
    },
    /// Remove keyhound's hooks and restore what was there before.
    Uninstall,
}

/// `keyhound rules …`.
#[derive(Debug, Subcommand)]
pub enum RulesAction {
    /// List the rules in use.
    List,
    /// Validate rule files and run their examples [default: the rules in use].
    Check {
        /// Rule files or directories to check.
        #[arg(value_name = "FILE")]
        files: Vec<PathBuf>,
    },
}

/// `keyhound baseline …`.
#[derive(Debug, Subcommand)]
pub enum BaselineAction {
    /// Scan and record every current finding in a baseline file (`--output`, else the
    /// configured baseline, else `.keyhound-baseline`).
    Create {
        /// Files and directories to scan [default: .]; with --history, the repository.
        #[arg(value_name = "PATH")]
        paths: Vec<PathBuf>,
        /// Record the findings of the repository's whole history (`keyhound history`), so that
        /// `history --baseline FILE` reports only secrets not recorded.
        #[arg(long)]
        history: bool,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Cli, clap::Error> {
        Cli::try_parse_args(std::iter::once("keyhound").chain(args.iter().copied()))
    }

    /// The options of a `scan` command line.
    fn scan_options(args: &[&str]) -> CommandOptions {
        match parse(args).unwrap().command {
            Command::Scan(scan) => scan.options,
            other => panic!("not a scan: {other:?}"),
        }
    }

    fn help_of(path: &[&str]) -> String {
        let mut command = Cli::command();
        command.build();
        let command = path.iter().fold(&mut command, |command, name| command.find_subcommand_mut(name).unwrap());
        command.render_long_help().to_string()
    }

    #[test]
    fn cli_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn options_work_after_the_command_and_before_it() {
        for args in [
            ["scan", "src", "--format", "json", "--show-secrets"],
            ["--format", "json", "--show-secrets", "scan", "src"],
        ] {
            let options = scan_options(&args);
            assert_eq!(options.report.format, Some(Format::Json), "{args:?}");
            assert!(options.report.show_secrets, "{args:?}");
        }
        let options = scan_options(&["-qj4", "--max-file-size=1KiB", "-o", "scan", "scan", "scan"]);
        assert_eq!((options.scan.threads, options.report.output), (Some(4), Some(PathBuf::from("scan"))));
        assert!(options.scan.quiet && options.scan.max_file_size.as_deref() == Some("1KiB"));
        let Command::Baseline { rules, output, .. } =
            parse(&["--config", "c", "baseline", "create", "-o", "b"]).unwrap().command
        else {
            panic!("not baseline")
        };
        assert_eq!((rules.config, output), (Some(PathBuf::from("c")), Some(PathBuf::from("b"))));
        let Command::Rules { rules, .. } = parse(&["rules", "--confidence", "high", "list"]).unwrap().command else {
            panic!("not rules")
        };
        assert_eq!(rules.confidence, Some(Confidence::High));
    }

    #[test]
    fn checkpoint_intervals_are_positive_seconds_with_decimals() {
        let every =
            |value: &str| match parse(&["history", "--datastore", "k.db", &format!("--checkpoint-every={value}")]) {
                Ok(Cli { command: Command::History(history), .. }) => Ok(history.store.checkpoint_every),
                Ok(other) => panic!("not history: {other:?}"),
                Err(e) => Err(e.kind()),
            };
        assert_eq!(every("0.25"), Ok(Some(Duration::from_millis(250))));
        assert_eq!(every("10"), Ok(Some(Duration::from_secs(10))));
        for refused in ["0", "-1", "NaN", "ten", "1e300"] {
            assert_eq!(every(refused), Err(ErrorKind::ValueValidation), "{refused}");
        }
        let audit = parse(&["audit", "dir", "--checkpoint-every", "2"]).unwrap();
        let Command::Audit(audit) = audit.command else { panic!("not audit") };
        assert_eq!(audit.store.checkpoint_every, Some(Duration::from_secs(2)));
    }

    #[test]
    fn verify_is_refused_where_hooks_run_before_or_after_the_command() {
        for args in [&["staged", "--verify"][..], &["--verify", "staged"], &["hook", "install", "--verify"]] {
            let error = parse(args).unwrap_err();
            assert_eq!((error.kind(), error.exit_code()), (ErrorKind::UnknownArgument, 2), "{args:?}");
            let name = args.iter().find(|arg| !arg.starts_with('-')).unwrap();
            let reason = format!("--verify is not available for `keyhound {name}`");
            assert!(error.render().to_string().contains(&reason), "{args:?}: {}", error.render());
        }
        assert!(scan_options(&["--verify", "scan"]).verify.verify);
        assert!(parse(&["history", "--verify", "--verify-timeout", "3"]).is_ok());
        assert!(parse(&["rules", "list", "--format", "json"]).is_err(), "rules list writes no report");
    }

    #[test]
    fn each_command_lists_only_the_options_it_takes() {
        let scan_only = ["--max-file-size", "--threads", "--baseline", "--report-unused", "--no-decode", "--format"];
        for path in [&["rules", "list"][..], &["rules", "check"], &["hook", "install"], &["completions"], &["man"]] {
            let help = help_of(path);
            for option in scan_only.iter().chain(&["--verify"]) {
                assert!(!help.contains(option), "{path:?} lists {option}:\n{help}");
            }
        }
        assert!(help_of(&["rules", "list"]).contains("--confidence"));
        let staged = help_of(&["staged"]);
        assert!(scan_only.iter().all(|option| staged.contains(option)) && !staged.contains("--verify"), "{staged}");
        assert!(help_of(&["scan"]).contains("--verify-timeout"));
    }

    #[test]
    fn what_is_not_an_option_before_the_command_is_left_to_clap() {
        let moved = |args: &[&str]| {
            let args = std::iter::once("keyhound").chain(args.iter().copied()).map(OsString::from).collect();
            options_after_command(&Cli::command(), args)
        };
        for args in [&["--help", "scan"][..], &["--", "scan"], &["--no-such", "scan"], &["-", "scan"], &["--format"]] {
            assert_eq!(moved(args)[1..], args.iter().map(OsString::from).collect::<Vec<_>>()[..], "{args:?}");
        }
        assert_eq!(moved(&["-qojson", "scan", "a"])[1..], ["scan", "-qojson", "a"].map(OsString::from));
    }

    #[test]
    fn archive_limits_reject_zero() {
        assert!(parse(&["scan", "--archive-max-ratio", "0"]).is_err());
        let options = scan_options(&["scan", "--archive-depth", "2", "--no-decode"]);
        assert_eq!(options.scan.archive_depth, Some(2));
        assert!(options.scan.no_decode);
    }

    #[test]
    fn archive_depth_stops_where_the_stack_would() {
        let depth =
            |n: &str| parse(&["scan", "--archive-depth", n]).map(|_| scan_options(&["scan", "--archive-depth", n]));
        assert_eq!(depth("64").unwrap().scan.archive_depth, Some(crate::archive::MAX_DEPTH));
        assert!(depth("65").is_err() && depth("65535").is_err());
    }
}
