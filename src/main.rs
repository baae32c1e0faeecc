//! The `keyhound` binary: parses arguments, runs, and maps the outcome to an exit code.

use std::process::ExitCode;

use keyhound::cli::Cli;
use keyhound::ExitStatus;

fn main() -> ExitCode {
    let cli = Cli::parse_args();
    // SAFETY: nothing has started a thread or used libgit2 yet.
    let status = match unsafe { keyhound::init(&cli) }.and_then(|()| keyhound::run(cli)) {
        Ok(status) => status,
        Err(error) if error.is_broken_pipe() => ExitStatus::Clean,
        Err(error) => {
            eprintln!("keyhound: error: {error}");
            ExitStatus::Error
        }
    };
    ExitCode::from(status.code() as u8)
}
