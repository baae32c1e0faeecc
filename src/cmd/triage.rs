//! `keyhound triage FINGERPRINT --status STATUS [--note TEXT]`: records what was decided about
//! a secret in the datastore; reports show it and `--status` filters on it.

use super::report_cmd::triage_status;
use crate::cli::TriageArgs;
use crate::datastore::{Datastore, Triage};
use crate::error::{Error, Result};
use crate::exit::ExitStatus;
use crate::finding::Fingerprint;

/// Runs the command.
pub(crate) fn run(args: &TriageArgs) -> Result<ExitStatus> {
    let fingerprint = Fingerprint::parse(&args.fingerprint).map_err(Error::Usage)?;
    let store = Datastore::open_existing(&args.datastore)?;
    let triage = triage_status(args.status).map(|status| Triage { status, note: args.note.clone() });
    store.set_triage(fingerprint.as_str(), triage.as_ref())?;
    Ok(ExitStatus::Clean)
}
