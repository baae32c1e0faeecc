//! `keyhound completions SHELL` and `keyhound man`: a shell completion script and the man page,
//! generated from the command-line definition ([`crate::cli`]), so neither can fall behind an
//! option.

use std::io::{self, Write};

use clap::CommandFactory;
use clap_complete::Shell;

use crate::cli::Cli;
use crate::error::{Error, Result};
use crate::exit::ExitStatus;

/// Prints the completion script for `shell`.
pub fn completions(shell: Shell) -> Result<ExitStatus> {
    let mut script = Vec::new();
    // Generated into memory: the generator panics on a write error, and standard output may be
    // a closed pipe.
    clap_complete::generate(shell, &mut Cli::command(), "keyhound", &mut script);
    print(&script)
}

/// Prints the man page (roff).
pub fn man() -> Result<ExitStatus> {
    let mut page = Vec::new();
    clap_mangen::Man::new(Cli::command()).render(&mut page).expect("writing to memory cannot fail");
    print(&page)
}

fn print(text: &[u8]) -> Result<ExitStatus> {
    let mut stdout = io::stdout().lock();
    stdout
        .write_all(text)
        .and_then(|()| stdout.flush())
        .map_err(|source| Error::Output { target: "<stdout>".into(), source })?;
    Ok(ExitStatus::Clean)
}
