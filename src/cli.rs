//! Command-line syntax (clap). Nothing below [`crate::config`] sees these types: commands
//! turn them into a resolved [`crate::config::Config`] first.

use std::path::PathBuf;
use std::sync::OnceLock;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::report::Format;
use crate::rules::Confidence;

/// keyhound finds leaked API keys (OpenAI first) in files, git history and staged changes.
///
/// Exit codes: 0 no secrets found, 1 secrets found, 2 error (bad arguments, missing path,
/// invalid rules or config, or an incomplete scan).
#[derive(Debug, Parser)]
#[command(name = "keyhound", version, long_version = long_version(), max_term_width = 100)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
    /// Options shared by every command.
    #[command(flatten)]
    pub global: GlobalArgs,
}

/// What `--version` prints after the name: the version and the CPU search path this machine
/// runs, which decides how fast a scan can be.
fn long_version() -> &'static str {
    static TEXT: OnceLock<String> = OnceLock::new();
    TEXT.get_or_init(|| {
        format!("{}\nCPU search path: {}", env!("CARGO_PKG_VERSION"), crate::prefilter::cpu_search_path())
    })
}

/// Options shared by every command.
#[derive(Debug, Args, Clone, Default)]
pub struct GlobalArgs {
    /// Report format [default: text, or the config file's `format`].
    #[arg(long, global = true, value_enum)]
    pub format: Option<Format>,
    /// Write the report to this file instead of standard output.
    #[arg(long, short = 'o', global = true, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Print secrets whole instead of redacted (never do this in CI logs).
    #[arg(long, global = true)]
    pub show_secrets: bool,
    /// Extra rule file, or directory of `*.toml` rule files (repeatable).
    #[arg(long, global = true, value_name = "FILE_OR_DIR")]
    pub rules: Vec<PathBuf>,
    /// Configuration file [default: $KEYHOUND_CONFIG, else .keyhound.toml at the target's
    /// repository root].
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Skip files larger than this (e.g. 512KiB, 20MiB) [default: 20MiB].
    #[arg(long, global = true, value_name = "SIZE")]
    pub max_file_size: Option<String>,
    /// Worker threads [default: available cores].
    #[arg(long, short = 'j', global = true, value_name = "N")]
    pub threads: Option<usize>,
    /// When to colour text output.
    #[arg(long, global = true, value_enum, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,
    /// Report only rules of at least this confidence [default: low; `staged`: medium].
    #[arg(long, global = true, value_enum, value_name = "LEVEL")]
    pub confidence: Option<Confidence>,
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
    /// Ask each found key's provider whether it is live (network calls that cost nothing;
    /// `scan` and `history` only, never in hooks).
    #[arg(long, global = true)]
    pub verify: bool,
    /// Send --verify requests to this base URL instead of each provider's host (tests,
    /// proxies): https://, or http:// to a loopback address only.
    #[arg(long, global = true, value_name = "URL", requires = "verify")]
    pub verify_base_url: Option<String>,
    /// Seconds allowed for one --verify request [default: 10].
    #[arg(long, global = true, value_name = "SECONDS", requires = "verify")]
    pub verify_timeout: Option<f64>,
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
    },
    /// Record current findings so that later scans report only new ones.
    Baseline {
        /// What to do with the baseline.
        #[command(subcommand)]
        action: BaselineAction,
    },
    /// Print the completion script for a shell.
    ///
    /// For example: `keyhound completions bash > ~/.local/share/bash-completion/completions/keyhound`.
    Completions {
        /// The shell to complete in.
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff).
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
}

/// `keyhound history`.
#[derive(Debug, Args)]
pub struct HistoryArgs {
    /// The repository [default: the one the current directory is in]; a path inside it limits
    /// the scan to that path's history, as `git log -- PATH` does.
    #[arg(value_name = "REPO")]
    pub repo: Option<PathBuf>,
    /// Scan only what the commits in A..B introduced (`B` alone: B and its ancestors).
    #[arg(long, value_name = "A..B", conflicts_with = "since")]
    pub range: Option<String>,
    /// Scan only what commits after REV introduced (REV..HEAD).
    #[arg(long, value_name = "REV")]
    pub since: Option<String>,
    /// Leave out commits reachable from any remote-tracking branch (with `--range B`: what a
    /// push of a new branch B adds).
    #[arg(long)]
    pub exclude_remotes: bool,
    /// Show progress on standard error even when it is not a terminal.
    #[arg(long)]
    pub progress: bool,
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
        /// Files and directories to scan [default: .].
        #[arg(value_name = "PATH")]
        paths: Vec<PathBuf>,
    },
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn global_flags_work_after_the_subcommand() {
        let cli = Cli::try_parse_from(["keyhound", "scan", "src", "--format", "json", "--show-secrets"]).unwrap();
        assert_eq!(cli.global.format, Some(Format::Json));
        assert!(cli.global.show_secrets);
    }

    #[test]
    fn archive_limits_reject_zero() {
        assert!(Cli::try_parse_from(["keyhound", "scan", "--archive-max-ratio", "0"]).is_err());
        let cli = Cli::try_parse_from(["keyhound", "scan", "--archive-depth", "2", "--no-decode"]).unwrap();
        assert_eq!(cli.global.archive_depth, Some(2));
        assert!(cli.global.no_decode);
    }

    #[test]
    fn archive_depth_stops_where_the_stack_would() {
        let depth = |n: &str| {
            Cli::try_parse_from(["keyhound", "scan", "--archive-depth", n]).map(|cli| cli.global.archive_depth)
        };
        assert_eq!(depth("64").unwrap(), Some(crate::archive::MAX_DEPTH));
        assert!(depth("65").is_err() && depth("65535").is_err());
    }
}
