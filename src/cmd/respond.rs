//! `keyhound respond [PATH]... [--history]`: runs the scan itself, then carries each found
//! key through [`crate::respond`]: identify, usage, revoke (`--revoke`, confirmed), purge plan
//! (`--purge-file`). The admin key comes from `OPENAI_ADMIN_KEY` only: never from a flag, a
//! config file or the repository.

use std::io::{self, BufRead, BufWriter, IsTerminal, Write};
use std::path::{Path, PathBuf};

use crate::cli::{CommandOptions, RespondArgs};
use crate::config::Config;
use crate::error::{Error, Result};
use crate::escape::Visible;
use crate::exit::ExitStatus;
use crate::fsio::{self, Named};
use crate::pipeline::ScanOutcome;
use crate::report::Format;
use crate::respond::api::Api;
use crate::respond::leak::{self, Blamer};
use crate::respond::report::{self, Purge};
use crate::respond::{self as steps, purge, Settings};
use crate::source::history::Selection;
use crate::source::stdin::Targets;
use crate::source::worktree::WalkOptions;
use crate::verify::options::BaseUrl;
use crate::verify::{Verifications, VerifyOptions};
use crate::wording::count;

/// The variable the OpenAI admin key is read from.
pub(crate) const ADMIN_KEY_ENV: &str = "OPENAI_ADMIN_KEY";

/// Runs the command.
pub(crate) fn run(args: &RespondArgs, chosen: &CommandOptions) -> Result<ExitStatus> {
    refuse_options(chosen)?;
    let settings = settings(args)?;
    let (config, outcome) = collect(args, chosen)?;
    let start = args.paths.first().cloned().unwrap_or_else(|| PathBuf::from("."));
    let mut blamer = Blamer::new(&start);
    let leaks = leak::group(&outcome.findings, &config.rules, &mut |finding| blamer.date(finding));
    let api = Api::new(settings.options.clone());
    let mut report = steps::assess(&leaks, &settings, &api);
    if args.revoke {
        if confirmed(&steps::planned(&report), args.yes)? {
            steps::execute(&mut report, &leaks, &settings, &api);
        } else {
            report.notes.push("revocation not confirmed: nothing revoked".into());
        }
    }
    if let Some(path) = &args.purge_file {
        report.purge = Some(write_purge_file(path, &leaks)?);
    }
    write(&config, &report)?;
    super::print_summary(&config, &outcome, &Verifications::new(), None, None);
    print_notes(&config, &report);
    Ok(report.exit_status(outcome.is_incomplete()))
}

/// `respond` prints no secret and writes text or JSON only.
fn refuse_options(chosen: &CommandOptions) -> Result<()> {
    if chosen.report.show_secrets {
        return Err(Error::Usage("`keyhound respond` never shows secrets: drop --show-secrets".into()));
    }
    match chosen.report.format {
        None | Some(Format::Text | Format::Json) => Ok(()),
        Some(_) => Err(Error::Usage("`keyhound respond` writes --format text or json".into())),
    }
}

/// Where requests go, and the admin key from the environment.
fn settings(args: &RespondArgs) -> Result<Settings> {
    let base = |flag: &str, given: &Option<String>, default: &str| {
        BaseUrl::parse(given.as_deref().unwrap_or(default)).map_err(|e| Error::Usage(format!("{flag}: {e}")))
    };
    Ok(Settings {
        admin_key: std::env::var(ADMIN_KEY_ENV).ok().filter(|key| !key.trim().is_empty()),
        openai: base("--admin-base-url", &args.admin_base_url, "https://api.openai.com")?,
        github: base("--github-base-url", &args.github_base_url, "https://api.github.com")?,
        options: VerifyOptions::default(),
    })
}

/// Runs the scan `respond` acts on — the working tree under the paths, or with `--history`
/// the history of the repository holding the first one — through the commands' own scan
/// functions, with no progress display.
fn collect(args: &RespondArgs, chosen: &CommandOptions) -> Result<(Config, ScanOutcome)> {
    let roots = if args.paths.is_empty() { vec![PathBuf::from(".")] } else { args.paths.clone() };
    if args.history {
        let (repo, anchor) = super::history::open(Some(&roots[0]))?;
        let mut config = Config::resolve(chosen, &anchor)?;
        // The summary counts what history reads: blobs.
        config.report.command = crate::report::Command::History;
        let outcome = super::history::scan_history(&repo, &Selection::default(), &config, None, None)?;
        return Ok((config, outcome));
    }
    let config = Config::resolve(chosen, &roots[0])?;
    let targets = Targets::of(&roots, None)?;
    let options = WalkOptions { respect_ignore_files: true, max_file_size: config.max_file_size };
    let outcome = super::scan::scan_targets(&targets, &options, &config, None)?;
    Ok((config, outcome))
}

/// Whether to revoke what `planned` lists: yes with `--yes`; on a terminal, if the person
/// types `yes`; never when standard input is not a terminal (an error: nobody can answer).
fn confirmed(planned: &[String], yes: bool) -> Result<bool> {
    if planned.is_empty() || yes {
        return Ok(true);
    }
    if !io::stdin().is_terminal() {
        return Err(Error::Usage(
            "--revoke asks before revoking, and standard input is not a terminal: add --yes to revoke without asking"
                .into(),
        ));
    }
    let mut stderr = io::stderr().lock();
    let mut ask = || -> io::Result<String> {
        writeln!(stderr, "keyhound will revoke {}:", count(planned.len(), "key", "keys"))?;
        for line in planned {
            writeln!(stderr, "  {line}")?;
        }
        write!(stderr, "Type yes to revoke them: ")?;
        stderr.flush()?;
        let mut answer = String::new();
        io::stdin().lock().read_line(&mut answer)?;
        Ok(answer)
    };
    let answer = ask().map_err(|source| Error::Output { target: "<terminal>".into(), source })?;
    Ok(answer.trim() == "yes")
}

/// Writes the replace-text file the user named, and the plan around it.
fn write_purge_file(path: &Path, leaks: &[leak::Leak]) -> Result<Purge> {
    let secrets: Vec<&str> = leaks.iter().map(|leak| leak.finding.secret.as_str()).collect();
    let unwritable =
        purge::write(path, &secrets).map_err(|source| Error::Output { target: path.display().to_string(), source })?;
    Ok(Purge {
        file: path.display().to_string(),
        secrets: secrets.len() - unwritable,
        unwritable,
        steps: purge::steps(path),
    })
}

/// Writes the report to standard output, or atomically to `--output`.
fn write(config: &Config, report: &steps::Report) -> Result<()> {
    let render = |out: &mut dyn Write| match config.format {
        Format::Json => report::json(report, out),
        _ => report::text(report, out),
    };
    let (target, result) = match &config.output {
        Some(path) => (path.display().to_string(), fsio::write_atomic(path, &Named::ByUser, 0o666, render)),
        None => {
            let mut out = BufWriter::new(io::stdout().lock());
            ("<stdout>".to_string(), render(&mut out).and_then(|()| out.flush()))
        }
    };
    match result {
        Err(source) if source.kind() != io::ErrorKind::BrokenPipe => Err(Error::Output { target, source }),
        _ => Ok(()),
    }
}

/// Notes (unless `--quiet`) and errors, on standard error.
fn print_notes(config: &Config, report: &steps::Report) {
    let notes = report.notes.iter().filter(|_| !config.quiet).map(|note| format!("note: {note}"));
    let errors = report.errors.iter().map(|error| format!("error: {error}"));
    let mut stderr = io::stderr().lock();
    for line in notes.chain(errors) {
        // Nothing useful can be done if standard error is closed.
        let _ = super::say(&mut stderr, &line);
    }
    if let Some(purge) = report.purge.as_ref().filter(|purge| purge.unwritable > 0) {
        let _ = super::say(
            &mut stderr,
            &format!(
                "warning: {} lines and {} not in {}",
                count(purge.unwritable, "secret spans", "secrets span"),
                if purge.unwritable == 1 { "is" } else { "are" },
                Visible(&purge.file)
            ),
        );
    }
}
