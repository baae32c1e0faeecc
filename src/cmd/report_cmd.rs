//! `keyhound report --datastore PATH`: the findings a datastore holds, printed without
//! scanning; and the report across repositories that `audit` prints too: per repository its
//! findings (text: under its name; JSON: each finding with a `repository` field), the triage
//! status of each triaged secret, and, on standard error, a line per repository (secrets,
//! newest, or why it failed) and the totals.

use std::collections::HashMap;
use std::io::Write;
use std::path::Path;

use crate::cli::{CommandOptions, StatusFilter, StoredReportArgs};
use crate::config::Config;
use crate::datastore::{Datastore, Status, Triage};
use crate::error::{Error, Result};
use crate::escape::Visible;
use crate::exit::ExitStatus;
use crate::finding::Finding;
use crate::pipeline::ScanOutcome;
use crate::report::{self, Format};
use crate::verify::Verifications;
use crate::wording::count;

/// One repository's part of a report across repositories.
#[derive(Debug)]
pub(crate) struct Audited {
    /// Its name (canonical path or URL).
    pub name: String,
    /// Its scan, or why it could not be scanned.
    pub result: std::result::Result<(ScanOutcome, Verifications), String>,
}

/// Runs the command.
pub(crate) fn run(args: &StoredReportArgs) -> Result<ExitStatus> {
    let chosen = CommandOptions { report: args.report.clone(), ..CommandOptions::default() };
    let config = Config::resolve(&chosen, Path::new("."))?;
    check_format(config.format)?;
    let store = Datastore::open_existing(&args.datastore)?;
    let mut unreadable = 0;
    let repositories: Vec<Audited> = store
        .recorded()?
        .into_iter()
        .map(|recorded| {
            let findings: Vec<Finding> =
                recorded.findings.iter().filter_map(|stored| stored.finding(&config.rules)).collect();
            unreadable += recorded.findings.len() - findings.len();
            let outcome = ScanOutcome { findings, ..ScanOutcome::default() };
            Audited { name: recorded.name, result: Ok((outcome, Verifications::new())) }
        })
        .collect();
    let warning = (unreadable > 0).then(|| {
        let findings = count(unreadable, "stored finding names", "stored findings name");
        format!("{findings} a rule these rules lack (see --rules, --config); left out")
    });
    emit(&config, repositories, &store.triages()?, &args.status, warning)
}

/// Refuses the formats a report across repositories cannot be written in, before any scan.
pub(crate) fn check_format(format: Format) -> Result<()> {
    match format {
        Format::Text | Format::Json | Format::Jsonl => Ok(()),
        _ => Err(Error::Usage("a report across repositories is written as text, json or jsonl".into())),
    }
}

/// Keeps the findings whose status `statuses` lists (all without), writes the report and the
/// summary, and picks the exit status: 2 if a repository failed, 1 if a finding is reported.
pub(crate) fn emit(
    config: &Config,
    mut repositories: Vec<Audited>,
    triages: &HashMap<String, Triage>,
    statuses: &[StatusFilter],
    warning: Option<String>,
) -> Result<ExitStatus> {
    repositories.sort_by(|a, b| a.name.cmp(&b.name));
    for (outcome, _) in repositories.iter_mut().filter_map(|audited| audited.result.as_mut().ok()) {
        outcome.findings.retain(|finding| wanted(statuses, triages.get(&finding.fingerprint)));
    }
    super::write_output(config, |out| write(config, &repositories, triages, out))?;
    // With --quiet, only why the audit is incomplete, as for one scan.
    let lines: Vec<String> = if config.quiet {
        repositories.iter().filter(|audited| audited.result.is_err()).map(repository_line).collect()
    } else {
        config.warnings.iter().chain(&warning).map(|w| format!("warning: {w}")).chain(summary(&repositories)).collect()
    };
    let mut stderr = std::io::stderr().lock();
    for line in lines {
        // Nothing useful can be done if standard error is closed.
        let _ = super::say(&mut stderr, &line);
    }
    let failed = repositories.iter().any(|audited| audited.result.is_err());
    Ok(ExitStatus::of_scan(found(&repositories), failed))
}

/// The triage status a `--status` value names (`open`: none).
pub(crate) fn triage_status(filter: StatusFilter) -> Option<Status> {
    match filter {
        StatusFilter::Open => None,
        StatusFilter::Revoked => Some(Status::Revoked),
        StatusFilter::FalsePositive => Some(Status::FalsePositive),
        StatusFilter::AcceptedRisk => Some(Status::AcceptedRisk),
    }
}

/// Whether a finding with `triage` passes the `--status` filter.
fn wanted(statuses: &[StatusFilter], triage: Option<&Triage>) -> bool {
    let status = triage.map(|triage| triage.status);
    statuses.is_empty() || statuses.iter().any(|&filter| triage_status(filter) == status)
}

fn found(repositories: &[Audited]) -> usize {
    repositories
        .iter()
        .filter_map(|audited| audited.result.as_ref().ok())
        .map(|(outcome, _)| outcome.findings.len())
        .sum()
}

/// The report: text under each repository's name, or JSON findings with `repository` (and
/// `status`, `note` when triaged).
fn write(
    config: &Config,
    repositories: &[Audited],
    triages: &HashMap<String, Triage>,
    out: &mut dyn Write,
) -> std::io::Result<()> {
    let mut json = Vec::new();
    for audited in repositories {
        let Ok((outcome, verifications)) = &audited.result else { continue };
        if outcome.findings.is_empty() {
            continue;
        }
        if config.format == Format::Text {
            writeln!(out, "== {} ==", Visible(&audited.name))?;
            report::write(Format::Text, outcome, verifications, &config.rules, &config.report, out)?;
            write_triage_lines(outcome, triages, out)?;
        } else {
            json.extend(tagged(config, audited, outcome, verifications, triages)?);
        }
    }
    match config.format {
        Format::Json => {
            report::write_json(&json, true, out)?;
            writeln!(out)
        }
        Format::Jsonl => json.iter().try_for_each(|finding| {
            report::write_json(finding, false, out)?;
            writeln!(out)
        }),
        _ => Ok(()),
    }
}

/// The JSON findings of one repository, each with its `repository`, and its triage.
fn tagged(
    config: &Config,
    audited: &Audited,
    outcome: &ScanOutcome,
    verifications: &Verifications,
    triages: &HashMap<String, Triage>,
) -> std::io::Result<Vec<serde_json::Value>> {
    let mut bytes = Vec::new();
    report::write(Format::Json, outcome, verifications, &config.rules, &config.report, &mut bytes)?;
    let mut findings: Vec<serde_json::Value> = serde_json::from_slice(&bytes)?;
    for (value, finding) in findings.iter_mut().zip(&outcome.findings) {
        value["repository"] = audited.name.clone().into();
        if let Some(triage) = triages.get(&finding.fingerprint) {
            value["status"] = triage.status.as_str().into();
            value["note"] = triage.note.clone().into();
        }
    }
    Ok(findings)
}

/// `  triaged FINGERPRINT: STATUS (NOTE)` for each triaged secret among `outcome`'s findings.
fn write_triage_lines(
    outcome: &ScanOutcome,
    triages: &HashMap<String, Triage>,
    out: &mut dyn Write,
) -> std::io::Result<()> {
    let mut seen = std::collections::BTreeSet::new();
    for finding in &outcome.findings {
        let Some(triage) = triages.get(&finding.fingerprint) else { continue };
        if seen.insert(&finding.fingerprint) {
            let note = triage.note.as_deref().map(|note| format!(" ({})", Visible(note))).unwrap_or_default();
            writeln!(out, "  triaged {}: {}{note}", finding.fingerprint, triage.status.as_str())?;
        }
    }
    Ok(())
}

/// A line per repository and the totals.
fn summary(repositories: &[Audited]) -> Vec<String> {
    let scanned = || repositories.iter().filter_map(|audited| audited.result.as_ref().ok()).map(|(outcome, _)| outcome);
    let failed = repositories.len() - scanned().count();
    let blobs: u64 = scanned().map(|outcome| outcome.stats.blobs).sum();
    let with_secrets = scanned().filter(|outcome| !outcome.findings.is_empty()).count();
    let totals = format!(
        "{} in {with_secrets} of {}; {failed} failed; {} scanned",
        count(found(repositories), "secret", "secrets"),
        count(repositories.len(), "repository", "repositories"),
        count(blobs, "blob", "blobs")
    );
    repositories.iter().map(repository_line).chain([totals]).collect()
}

/// `NAME: N secrets, newest DATE`, or `NAME: failed: WHY`.
fn repository_line(audited: &Audited) -> String {
    let name = &audited.name;
    let outcome = match &audited.result {
        Ok((outcome, _)) => outcome,
        Err(error) => return format!("{name}: failed: {error}"),
    };
    let newest = outcome.findings.iter().filter_map(|finding| finding.commit.as_ref()).map(|commit| &commit.date).max();
    let newest = newest.map(|date| format!(", newest {date}")).unwrap_or_default();
    format!("{name}: {}{newest}", count(outcome.findings.len(), "secret", "secrets"))
}
