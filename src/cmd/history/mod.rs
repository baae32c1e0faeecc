//! `keyhound history [REPO]`: every blob and message in a repository's history (or in what a
//! range of commits introduced), each scanned once and attributed to the commit that
//! introduced it. A remote REPO is cloned first (`crate::source::remote`) and its clone
//! removed when the scan is done. The steps: plan, drive (enumerate and scan), attribute,
//! count occurrences, keep the earliest per file, summarise, and (grouped by secret, the
//! default) find where each secret is today; with `--pre-push`, a blocked push then says how
//! to rewrite the commits that added the keys ([`super::pre_push`]).

mod clone;
mod scan;

use std::path::{Path, PathBuf};

use git2::Repository;

use super::datastore::{open_datastore, repository_name};
use super::progress;
use crate::cli::{CommandOptions, GroupBy, HistoryArgs};
use crate::config::Config;
use crate::datastore::{Incremental, Scope};
use crate::error::{Error, Result};
use crate::exit::ExitStatus;
use crate::pipeline;
use crate::report;
use crate::source::history::{self, Selection};
use crate::source::remote;
use clone::{clone_note, clone_options, remote_url};
use scan::scan;
pub(crate) use scan::scan_history;

/// Runs the command.
pub(crate) fn run(args: &HistoryArgs, chosen: &CommandOptions) -> Result<ExitStatus> {
    let url = args.repo.as_deref().map(remote_url).transpose()?.flatten();
    if url.is_none() && (args.clone_dir.is_some() || args.keep_clone) {
        return Err(Error::Usage("--clone-dir and --keep-clone apply to a repository URL only".into()));
    }
    let clone = url.as_ref().map(|url| remote::clone_mirror(url, &clone_options(args))).transpose()?;
    let (repo, workdir_anchor) = open(clone.as_ref().map_or(args.repo.as_deref(), |clone| Some(clone.path())))?;
    // A clone has no work tree to hold a `.keyhound.toml`: the user's is found from where they
    // run keyhound, never from a temporary directory's parents.
    let (anchor, base) = match &clone {
        Some(_) => (PathBuf::from("."), None),
        None => (workdir_anchor, repo.workdir()),
    };
    let mut config = Config::resolve(chosen, &anchor)?;
    let root = clone.is_none().then(|| anchor.clone());
    super::place_report(&mut config, report::Command::History, base, || root);
    config.report.fix_follows = args.pre_push;
    let path = match (&clone, args.repo.as_deref()) {
        (None, Some(given)) => history::path_within(&repo, given)?,
        _ => None,
    };
    let selection = Selection {
        range: args.range.clone().or_else(|| args.since.as_ref().map(|rev| format!("{rev}..HEAD"))),
        exclude_remotes: args.exclude_remotes,
        path,
        unreachable: args.unreachable,
    };
    let progress = progress::Display::choose(args.progress, config.quiet);
    let grouped = args.group_by == GroupBy::Secret;
    let mut store = open_datastore(&args.store, &selection, &config)?;
    let incremental = match &mut store {
        // A clone is recorded under its URL (credentials redacted): the same from run to run.
        Some(store) => {
            let name = url.as_ref().map_or_else(|| repository_name(&anchor), ToString::to_string);
            let scope = Scope::new(&config, history::tips(&repo, &selection), grouped);
            Some(Incremental::start(store, &name, scope, &config)?)
        }
        None => None,
    };
    let mut outcome = scan(&repo, &selection, &config, progress, grouped, incremental)?;
    if let (Some(url), Some(clone)) = (&url, &clone) {
        outcome.stats.notes.push(clone_note(url, clone));
        outcome.stats.warnings.extend_from_slice(clone.warnings());
    }
    let verifications = pipeline::verify(&mut outcome, config.verify.as_ref());
    let status = super::emit(&config, &outcome, &verifications)?;
    if let (true, ExitStatus::Findings, false, Some(range)) = (args.pre_push, status, config.quiet, &selection.range) {
        super::pre_push::explain(&repo, range, &outcome.findings);
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
