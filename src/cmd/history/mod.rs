//! `keyhound history [REPO]`: every blob and message in a repository's history (or in what a
//! range of commits introduced), each scanned once and attributed to the commit that
//! introduced it. A remote REPO is cloned first (`crate::source::remote`) and its clone
//! removed when the scan is done; with `--datastore`, a history unchanged since the recorded
//! scan is answered from it before anything is read or cloned ([`answer`]). The steps: plan, drive (enumerate and scan), attribute,
//! count occurrences, keep the earliest per file, summarise, and (grouped by secret, the
//! default) find where each secret is today; with `--pre-push`, a blocked push then says how
//! to rewrite the commits that added the keys ([`super::pre_push`]).

mod scan;
mod target;

use std::path::{Path, PathBuf};

use git2::Repository;

use super::datastore::{open_datastore, repository_name};
use super::progress;
use crate::cli::{CommandOptions, GroupBy, HistoryArgs};
use crate::config::Config;
use crate::datastore::{Incremental, Scope};
use crate::error::Result;
use crate::exit::ExitStatus;
use crate::pipeline;
use crate::pipeline::ScanOutcome;
use crate::report;
use crate::source::history::{self, Selection};
use scan::scan;
pub(crate) use scan::{answer, scan_history, Answer};
pub(crate) use target::Target;
use target::{clone_note, clone_options};

/// Runs the command.
pub(crate) fn run(args: &HistoryArgs, chosen: &CommandOptions) -> Result<ExitStatus> {
    let target = Target::of(args.repo.as_deref(), args.clone_dir.is_some() || args.keep_clone)?;
    // A clone has no work tree to hold a `.keyhound.toml`: the user's is found from where they
    // run keyhound, never from a temporary directory's parents.
    let (anchor, base) = match &target {
        Target::Local { repo, anchor } => (anchor.clone(), repo.workdir()),
        Target::Remote(_) => (PathBuf::from("."), None),
    };
    let mut config = Config::resolve(chosen, &anchor)?;
    let root = target.repo().is_some().then(|| anchor.clone());
    super::place_report(&mut config, report::Command::History, base, || root);
    config.report.fix_follows = args.pre_push;
    let selection = selection(args, target.repo())?;
    let grouped = args.group_by == GroupBy::Secret;
    let mut store = open_datastore(&args.store, &selection, &config)?;
    let incremental = match &mut store {
        Some(store) => {
            let scope = Scope::new(&config, target.tips(&selection, clone_options(args).timeout)?, grouped);
            match answer(Incremental::start(store, &target.name(), scope, &config)?, &config)? {
                Answer::Unchanged(mut outcome) => {
                    outcome.stats.notes.extend(target.url().map(|url| format!("{url}: not cloned")));
                    return finish(args, &config, outcome, target.repo(), &selection);
                }
                Answer::Scan(incremental) => Some(incremental),
            }
        }
        None => None,
    };
    let (repo, clone) = target.into_repository(&clone_options(args))?;
    let progress = progress::Display::choose(args.progress, config.quiet);
    let mut outcome = scan(&repo, &selection, &config, progress, grouped, incremental)?;
    if let Some((url, clone)) = &clone {
        outcome.stats.notes.push(clone_note(url, clone));
        outcome.stats.warnings.extend_from_slice(clone.warnings());
    }
    finish(args, &config, outcome, Some(&repo), &selection)
}

/// The part of history the arguments select; a path in a local `repo` limits it.
fn selection(args: &HistoryArgs, repo: Option<&Repository>) -> Result<Selection> {
    let path = match (repo, args.repo.as_deref()) {
        (Some(repo), Some(given)) => history::path_within(repo, given)?,
        _ => None,
    };
    Ok(Selection {
        range: args.range.clone().or_else(|| args.since.as_ref().map(|rev| format!("{rev}..HEAD"))),
        exclude_remotes: args.exclude_remotes,
        path,
        unreachable: args.unreachable,
    })
}

/// Verifies (with `--verify`), writes the report, and, for a blocked push, says how to
/// rewrite the commits that added the keys.
fn finish(
    args: &HistoryArgs,
    config: &Config,
    mut outcome: ScanOutcome,
    repo: Option<&Repository>,
    selection: &Selection,
) -> Result<ExitStatus> {
    let verifications = pipeline::verify(&mut outcome, config.verify.as_ref());
    let status = super::emit(config, &outcome, &verifications)?;
    if let (true, ExitStatus::Findings, false, Some(range), Some(repo)) =
        (args.pre_push, status, config.quiet, &selection.range, repo)
    {
        super::pre_push::explain(repo, range, &outcome.findings);
    }
    Ok(status)
}

/// Opens the repository at or above `path` (default: the current directory's), with the
/// directory its configuration is looked for in: its work tree, or a bare one's git directory.
pub(crate) fn open(path: Option<&Path>) -> Result<(Repository, PathBuf)> {
    let repo = history::open(path)?;
    let anchor = repo.workdir().unwrap_or_else(|| repo.path()).to_path_buf();
    Ok((repo, anchor))
}
