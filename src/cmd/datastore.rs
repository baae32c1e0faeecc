//! `keyhound datastore merge OUT IN...`: the datastores of several shards combined (see
//! [`crate::datastore`]'s merge); and the `--datastore` option of `history` and `audit`.

use std::path::Path;

use crate::cli::{DatastoreAction, DatastoreArgs};
use crate::cmd::say;
use crate::config::Config;
use crate::datastore::Datastore;
use crate::error::{Error, Result};
use crate::exit::ExitStatus;
use crate::source::history::Selection;
use crate::wording::count;

/// Runs the command.
pub(crate) fn run(action: &DatastoreAction) -> Result<ExitStatus> {
    let DatastoreAction::Merge { out, inputs } = action;
    let mut store = Datastore::open(out, false)?;
    let mut stderr = std::io::stderr().lock();
    for input in inputs {
        let merged = store.merge_from(input)?;
        let line = format!(
            "merged {}: {} taken, {} kept (as new or newer in {})",
            input.display(),
            count(merged.taken, "repository", "repositories"),
            merged.kept,
            out.display()
        );
        // Nothing useful can be done if standard error is closed.
        let _ = say(&mut stderr, &line);
    }
    Ok(ExitStatus::Clean)
}

/// The datastore `--datastore` names, opened; refused with a part of history (what it records
/// is a repository's whole history).
pub(crate) fn open_datastore(
    args: &DatastoreArgs,
    selection: &Selection,
    config: &Config,
) -> Result<Option<Datastore>> {
    let Some(path) = &args.datastore else {
        if args.checkpoint_every.is_some() {
            return Err(Error::Usage("--checkpoint-every records into a datastore: give --datastore too".into()));
        }
        return Ok(None);
    };
    if selection.path.is_some() {
        return Err(Error::Usage("--datastore records a whole history: give the repository, not a path in it".into()));
    }
    check_verify(args, config)?;
    open_at(path, args).map(Some)
}

/// The datastore at `path`, opened as `args` say: keeping secrets or not, checkpointing how
/// often.
pub(crate) fn open_at(path: &Path, args: &DatastoreArgs) -> Result<Datastore> {
    let store = Datastore::open(path, args.store_secrets)?;
    Ok(match args.checkpoint_every {
        Some(every) => store.checkpoints_every(every),
        None => store,
    })
}

/// Refuses `--verify` with a datastore that holds no secrets: the findings of blobs not read
/// again carry only a redacted form, which no provider can check.
pub(crate) fn check_verify(args: &DatastoreArgs, config: &Config) -> Result<()> {
    if config.verify.is_some() && !args.store_secrets {
        return Err(Error::Usage(
            "--verify with a datastore needs --store-secrets (the datastore keeps secrets redacted otherwise)".into(),
        ));
    }
    Ok(())
}

/// The name a repository is recorded under: its canonical path.
pub(crate) fn repository_name(root: &Path) -> String {
    std::fs::canonicalize(root).unwrap_or_else(|_| root.to_path_buf()).display().to_string()
}
