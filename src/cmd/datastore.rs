//! `keyhound datastore merge OUT IN...`: the datastores of several shards combined (see
//! [`crate::datastore`]'s merge).

use crate::cli::DatastoreAction;
use crate::cmd::say;
use crate::datastore::Datastore;
use crate::error::Result;
use crate::exit::ExitStatus;

/// Runs the command.
pub(crate) fn run(action: &DatastoreAction) -> Result<ExitStatus> {
    let DatastoreAction::Merge { out, inputs } = action;
    let mut store = Datastore::open(out, false)?;
    let mut stderr = std::io::stderr().lock();
    for input in inputs {
        let merged = store.merge_from(input)?;
        let line = format!(
            "merged {}: {} repositor(ies) taken, {} kept (as new or newer in {})",
            input.display(),
            merged.taken,
            merged.kept,
            out.display()
        );
        // Nothing useful can be done if standard error is closed.
        let _ = say(&mut stderr, &line);
    }
    Ok(ExitStatus::Clean)
}
