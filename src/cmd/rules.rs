//! `keyhound rules list` and `keyhound rules check [FILE]...`.

use std::io::{self, Write};
use std::path::PathBuf;
use std::sync::Arc;

use crate::cli::{CommandOptions, RulesAction};
use crate::config::Config;
use crate::error::{Error, Result};
use crate::escape::visible;
use crate::exit::ExitStatus;
use crate::rule_check::check_examples;
use crate::rules::{RuleSet, RuleSource};
use crate::wording::count;

/// Runs the command.
pub(crate) fn run(action: &RulesAction, chosen: &CommandOptions) -> Result<ExitStatus> {
    match action {
        RulesAction::List => list(chosen),
        RulesAction::Check { files } => check(files, chosen),
    }
}

fn list(chosen: &CommandOptions) -> Result<ExitStatus> {
    let config = Config::resolve_without_baseline(chosen, &PathBuf::from("."))?;
    let mut out = io::stdout().lock();
    let write = |out: &mut io::StdoutLock, line: String| writeln!(out, "{line}");
    let mut result = write(&mut out, format!("{:<32} {:<9} {:<10} {}", "ID", "SEVERITY", "CONFIDENCE", "DESCRIPTION"));
    for rule in config.rules.rules() {
        let spec = &rule.spec;
        if result.is_ok() {
            let (id, description) = (visible(&spec.id), visible(&spec.description));
            let line = format!("{id:<32} {:<9} {:<10} {description}", spec.severity, spec.confidence);
            result = write(&mut out, line);
        }
    }
    match result {
        Err(e) if e.kind() != io::ErrorKind::BrokenPipe => Err(Error::Output { target: "<stdout>".into(), source: e }),
        _ => Ok(ExitStatus::Clean),
    }
}

fn check(files: &[PathBuf], chosen: &CommandOptions) -> Result<ExitStatus> {
    let rules = if files.is_empty() {
        let config = Config::resolve_without_baseline(chosen, &PathBuf::from("."))?;
        config.rules.compile_all()?;
        config.rules
    } else {
        let sources: Vec<RuleSource> = files.iter().cloned().map(RuleSource::Path).collect();
        Arc::new(RuleSet::load(&sources)?)
    };
    let failures = check_examples(rules.clone());
    let mut stderr = io::stderr().lock();
    for failure in &failures {
        let _ = super::say(&mut stderr, &failure.to_string());
    }
    let examples: usize = rules.rules().iter().map(|r| r.spec.examples.len() + r.spec.negative_examples.len()).sum();
    if failures.is_empty() {
        let (rules, examples) = (count(rules.rules().len(), "rule", "rules"), count(examples, "example", "examples"));
        let _ = super::say(&mut stderr, &format!("{rules} valid, {examples} passed"));
        Ok(ExitStatus::Clean)
    } else {
        let (problems, rules) =
            (count(failures.len(), "problem", "problems"), count(rules.rules().len(), "rule", "rules"));
        let _ = super::say(&mut stderr, &format!("{problems} in {rules}"));
        Ok(ExitStatus::Error)
    }
}
