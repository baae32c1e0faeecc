//! One module per command: each turns its arguments into a [`Config`], runs a source through
//! the pipeline, and hands the outcome to [`emit`].

pub mod baseline;
pub mod generate;
pub mod history;
pub mod hook;
pub mod progress;
pub mod rules;
pub mod scan;
pub mod staged;

use std::io::{self, BufWriter, Write};

use crate::config::Config;
use crate::error::{Error, Result};
use crate::escape::Visible;
use crate::exit::ExitStatus;
use crate::fsio::{self, Named};
use crate::report::{self, summary};
use crate::scan::ScanOutcome;
use crate::verify;

/// Verifies the findings when `--verify` asks for it, writes the report (to `--output` or
/// standard output) and the summary (to standard error), and picks the exit status. A
/// closed standard output is not an error.
pub fn emit(config: &Config, outcome: &ScanOutcome) -> Result<ExitStatus> {
    let verified = config.verify.as_ref().map(|options| verify::verify_outcome(outcome, options));
    let outcome = verified.as_ref().unwrap_or(outcome);
    write_report(config, outcome)?;
    print_summary(config, outcome, None);
    Ok(ExitStatus::of_scan(outcome.findings.len(), outcome.is_incomplete()))
}

/// Writes the configuration's warnings, the summary of `outcome` and a last line, if any, to
/// standard error, unless `--quiet`.
pub fn print_summary(config: &Config, outcome: &ScanOutcome, last: Option<String>) {
    if config.quiet {
        return;
    }
    let mut stderr = io::stderr().lock();
    let warnings = config.warnings.iter().map(|warning| format!("warning: {warning}"));
    for line in warnings.chain(summary::lines(outcome)).chain(last) {
        // Nothing useful can be done if standard error is closed.
        let _ = say(&mut stderr, &line);
    }
}

/// Writes `keyhound: LINE`. Lines name paths, refs, authors and rule text that may come from
/// the repository scanned, so control characters in them are shown escaped, and the prefix
/// keeps the line from starting a CI workflow command.
pub fn say(out: &mut dyn Write, line: &str) -> io::Result<()> {
    writeln!(out, "keyhound: {}", Visible(line))
}

/// Writes the report to standard output, or atomically to `--output` (see [`fsio`]: the user
/// named the file, so it may be anywhere, but a symlink there is replaced, not followed).
fn write_report(config: &Config, outcome: &ScanOutcome) -> Result<()> {
    let (target, result) = match &config.output {
        Some(path) => {
            let write = |out: &mut dyn Write| report::write(config.format, outcome, &config.rules, &config.report, out);
            (path.display().to_string(), fsio::write_atomic(path, &Named::ByUser, 0o666, write))
        }
        None => {
            let mut out = BufWriter::new(io::stdout().lock());
            ("<stdout>".to_string(), report::write(config.format, outcome, &config.rules, &config.report, &mut out))
        }
    };
    match result {
        Err(source) if source.kind() == io::ErrorKind::BrokenPipe => Ok(()),
        Err(source) => Err(Error::Output { target, source }),
        Ok(()) => Ok(()),
    }
}
