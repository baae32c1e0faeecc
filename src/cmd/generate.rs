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
pub(crate) fn completions(shell: Shell) -> Result<ExitStatus> {
    let mut script = Vec::new();
    // Generated into memory: the generator panics on a write error, and standard output may be
    // a closed pipe.
    clap_complete::generate(shell, &mut Cli::command(), "keyhound", &mut script);
    print(&script)
}

/// Prints the man page (roff): keyhound's, which lists the commands, then one for each
/// command (`keyhound-scan(1)`, as the first names it), since each takes options of its own.
pub(crate) fn man() -> Result<ExitStatus> {
    print(&man_pages())
}

fn man_pages() -> Vec<u8> {
    let mut keyhound = Cli::command();
    keyhound.build();
    let mut pages = Vec::new();
    for command in std::iter::once(&keyhound).chain(commands_of(&keyhound)) {
        let page = clap_mangen::Man::new(command.clone()).source(concat!("keyhound ", env!("CARGO_PKG_VERSION")));
        page.render(&mut pages).expect("writing to memory cannot fail");
    }
    pages
}

/// The commands under `command`, at every level, but `help`.
fn commands_of(command: &clap::Command) -> Vec<&clap::Command> {
    command
        .get_subcommands()
        .filter(|sub| sub.get_name() != "help")
        .flat_map(|sub| std::iter::once(sub).chain(commands_of(sub)))
        .collect()
}

fn print(text: &[u8]) -> Result<ExitStatus> {
    let mut stdout = io::stdout().lock();
    stdout
        .write_all(text)
        .and_then(|()| stdout.flush())
        .map_err(|source| Error::Output { target: "<stdout>".into(), source })?;
    Ok(ExitStatus::Clean)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_command_has_a_page_with_its_own_options() {
        let pages = String::from_utf8(man_pages()).unwrap();
        let page_of = |name: &str| {
            let start = pages.find(&format!(".TH {name} 1")).unwrap_or_else(|| panic!("no page {name}"));
            let end = pages[start + 1..].find(".TH ").map_or(pages.len(), |end| start + 1 + end);
            pages[start..end].to_string()
        };
        assert!(page_of("keyhound-scan").contains("\\-\\-verify\\-timeout"));
        assert!(!page_of("keyhound-staged").contains("\\-\\-verify"));
        assert!(page_of("keyhound-rules-list").contains("\\-\\-confidence"));
        assert!(!page_of("keyhound-rules-list").contains("\\-\\-format"));
    }
}
