//! End-to-end tests: the real binary on temporary trees and git repositories.

mod audit;
mod ci;
mod ci_formats;
mod datastore;
mod datastore_gaps;
mod encodings;
mod harness;
mod history;
mod history_grouped;
mod hostile;
mod mock_provider;
mod precommit;
mod remote;
mod respond;
mod resume;
mod rules;
// The hooks are POSIX sh scripts.
#[cfg(unix)]
mod hooks;
mod scan;
mod staged;
mod stdin;
mod unchanged;
mod ux;
mod verify;
mod way_forward;
mod wording;
