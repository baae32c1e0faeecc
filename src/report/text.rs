//! The text report, for people: each finding's location, rule, redacted secret (with its
//! length when too short to show any of it), its line with every secret redacted (unless
//! `--no-context`), its `--verify` state and a one-line fix, then a "How to fix" section with
//! each reported rule's remediation for the place of its findings (a `.env`, history), each
//! distinct text once; hooks leave that section to their blocked message. Colour only when
//! asked (a terminal without `NO_COLOR`).
//!
//! A history scan grouped by secret (see [`crate::pipeline::group`]) shows one block per
//! secret instead: the location that introduced it, where it is today, a few of its other
//! locations, and ends with a line counting the secrets still at a tip and those only in
//! history.

use std::io::{self, Write};

use super::ReportOptions;
use crate::escape::{inert_line, visible, Visible};
use crate::finding::Finding;
use crate::paths::is_secrets_file;
use crate::pipeline::group::{self, Secret, Secrets, Tally};
use crate::pipeline::ScanOutcome;
use crate::rules::{Rule, RuleSet};
use crate::source::history::{Exposure, OnlyOn, Status};
use crate::verify::{State, Verification, Verifications};
use crate::wording::count;

const BOLD_RED: &str = "\x1b[1;31m";
const MAGENTA: &str = "\x1b[35m";
const DIM: &str = "\x1b[2m";
const RESET: &str = "\x1b[0m";

/// Width the remediation text is wrapped to.
const WRAP_WIDTH: usize = 96;

/// Locations of a secret listed before the rest are counted.
const SHOWN_LOCATIONS: usize = 3;

/// Refs holding a secret named before the rest are counted.
const SHOWN_REFS: usize = 5;

/// Writes each finding as a short block, then how to fix each rule's findings.
pub(crate) fn write(
    outcome: &ScanOutcome,
    verifications: &Verifications,
    rules: &RuleSet,
    options: &ReportOptions,
    out: &mut dyn Write,
) -> io::Result<()> {
    if let Some(secrets) = &outcome.secrets {
        return write_grouped(outcome, secrets, verifications, rules, options, out);
    }
    for finding in &outcome.findings {
        let verification = verifications.get(&finding.fingerprint);
        write_finding(finding, verification, fix_for(rules, &finding.rule_id), options, out)?;
    }
    if options.fix_follows {
        return Ok(());
    }
    write_remediation(outcome, rules, options, out)
}

/// One block per secret, "How to fix", then the closing count.
fn write_grouped(
    outcome: &ScanOutcome,
    secrets: &Secrets,
    verifications: &Verifications,
    rules: &RuleSet,
    options: &ReportOptions,
    out: &mut dyn Write,
) -> io::Result<()> {
    let grouped = group::group(&outcome.findings, secrets, verifications);
    for secret in &grouped {
        write_secret(secret, verifications, rules, options, out)?;
    }
    if !options.fix_follows {
        write_remediation(outcome, rules, options, out)?;
    }
    match closing(group::tally(&grouped)) {
        Some(line) => writeln!(out, "{line}"),
        None => Ok(()),
    }
}

/// A secret's block: its introducing location as a finding's block, with where it is today
/// and its other locations in place of the count of places.
fn write_secret(
    secret: &Secret,
    verifications: &Verifications,
    rules: &RuleSet,
    options: &ReportOptions,
    out: &mut dyn Write,
) -> io::Result<()> {
    let first = secret.first();
    write_head(first, options, out)?;
    writeln!(out, "    fingerprint: {}", Visible(&first.fingerprint))?;
    writeln!(out, "    today: {}", Visible(today(&secret.exposure)))?;
    if secret.locations.len() > 1 {
        writeln!(out, "    found at {} locations, oldest first:", secret.locations.len())?;
        for finding in secret.locations.iter().take(SHOWN_LOCATIONS) {
            writeln!(out, "      {}", Visible(location(finding)))?;
        }
        if let Some(more) = secret.locations.len().checked_sub(SHOWN_LOCATIONS).filter(|&more| more > 0) {
            writeln!(out, "      and {more} more (--format json lists them all)")?;
        }
    }
    let verification = verifications.get(&first.fingerprint);
    write_tail(verification, fix_for(rules, &first.rule_id), options, out)
}

/// `0123456789ab app/.env:3`: a location as a line of a secret's block.
fn location(finding: &Finding) -> String {
    let commit = finding.commit.as_ref().map_or("", |commit| commit.id.get(..12).unwrap_or(&commit.id));
    format!("{commit} {}:{}", finding.path, finding.position.line)
}

/// Where a secret is today, in words: `still in main, release/1.2`.
fn today(exposure: &Exposure) -> String {
    match exposure.status {
        Status::Present => {
            let names: Vec<&str> = exposure.refs.iter().take(SHOWN_REFS).map(String::as_str).collect();
            let more = exposure.refs.len().saturating_sub(SHOWN_REFS);
            let tail =
                if more > 0 { format!(" and {}", count(more, "other ref", "other refs")) } else { String::new() };
            let only = match exposure.only_on {
                Some(OnlyOn::Unmerged) => " (only on refs HEAD has not merged)",
                Some(OnlyOn::RemoteTracking) => " (only on remote-tracking branches)",
                None if !exposure.in_head => " (not in HEAD)",
                None => "",
            };
            format!("still in {}{tail}{only}", names.join(", "))
        }
        Status::Removed => match &exposure.last_commit {
            Some(last) => format!(
                "removed from every branch and tag; last in commit {} on {}; still in history",
                last.id.get(..12).unwrap_or(&last.id),
                last.date
            ),
            None => "in no branch or tag tip; still in history".to_string(),
        },
        Status::Message => "in a commit or tag message: in history until it is rewritten".to_string(),
        Status::Unreachable => "only in objects no ref reaches (an amended or dropped commit, a dropped stash): \
                                in no branch's history, in this clone until they are pruned, and wherever \
                                they were pushed or fetched before"
            .to_string(),
    }
}

/// The report's last line: `3 secrets: 1 still at a branch or tag tip, 2 removed but in
/// history. …` (and how many only objects no ref reaches hold, when some do); nothing when
/// there are none.
fn closing(tally: Tally) -> Option<String> {
    if tally.secrets == 0 {
        return None;
    }
    let removed = tally.secrets - tally.present - tally.unreachable;
    let unreachable = match tally.unreachable {
        0 => String::new(),
        n => format!(", {n} only in objects no ref reaches"),
    };
    let revoke = if tally.secrets == 1 { "Revoke it" } else { "Revoke all of them" };
    Some(format!(
        "{}: {} still at a branch or tag tip, {} removed but in history{unreachable}. {revoke}; rewrite history only if needed.",
        count(tally.secrets, "secret", "secrets"),
        tally.present,
        removed
    ))
}

fn paint(options: &ReportOptions, code: &str, text: &str) -> String {
    if options.color {
        format!("{code}{text}{RESET}")
    } else {
        text.to_string()
    }
}

fn write_finding(
    finding: &Finding,
    verification: Option<&Verification>,
    fix: String,
    options: &ReportOptions,
    out: &mut dyn Write,
) -> io::Result<()> {
    write_head(finding, options, out)?;
    if let Some(more) = finding.occurrences.filter(|&n| n > 1).map(|n| n - 1) {
        writeln!(out, "    also in {} in history (same fingerprint)", count(more, "other place", "other places"))?;
    }
    write_tail(verification, fix, options, out)
}

/// A block's first lines: location, rule, secret, encodings and commit.
fn write_head(finding: &Finding, options: &ReportOptions, out: &mut dyn Write) -> io::Result<()> {
    let paint = |code: &str, text: &str| paint(options, code, text);
    let position = &finding.position;
    // The path starts the line: it must not start a workflow command either.
    let location = format!("{}:{}:{}", Visible(&finding.path), position.line, position.column);
    writeln!(
        out,
        "{}: {} [{}, {}]",
        paint(MAGENTA, &inert_line(&location)),
        paint(BOLD_RED, &visible(&finding.description)),
        Visible(&finding.rule_id),
        finding.severity
    )?;
    writeln!(out, "    secret: {}", Visible(secret_line(finding, options)))?;
    if let Some(encodings) = &finding.decoded {
        writeln!(out, "    decoded from: {encodings}")?;
    }
    if let Some(context) = options.context(finding) {
        writeln!(out, "    context: {}", Visible(context))?;
    }
    if let Some(commit) = &finding.commit {
        let short = commit.id.get(..12).unwrap_or(&commit.id);
        writeln!(
            out,
            "    commit: {short} by {} <{}> on {}: {}",
            Visible(&commit.author),
            Visible(&commit.email),
            commit.date,
            Visible(&commit.summary)
        )?;
    } else if matches!(finding.provenance.origin, crate::source::Origin::Unreachable { .. }) {
        writeln!(out, "    commit: unreachable (no ref reaches this blob)")?;
    }
    Ok(())
}

/// A block's last lines: the `--verify` state and the one-line fix.
fn write_tail(
    verification: Option<&Verification>,
    fix: String,
    options: &ReportOptions,
    out: &mut dyn Write,
) -> io::Result<()> {
    let paint = |code: &str, text: &str| paint(options, code, text);
    if let Some(verification) = verification {
        let code = if verification.state.is_live() { BOLD_RED } else { DIM };
        writeln!(out, "    verified: {}", paint(code, &visible(&describe(verification))))?;
    }
    writeln!(out, "    {}", paint(DIM, &visible(&format!("fix: {fix}"))))?;
    writeln!(out)
}

/// The secret as the report shows it; one too short to show its last characters also says
/// how long it is (`…` alone says nothing).
fn secret_line(finding: &Finding, options: &ReportOptions) -> String {
    let shown = options.secret_text(finding);
    if options.show_secrets || !shown.ends_with('…') {
        return shown;
    }
    format!("{shown} ({})", count(finding.secret.chars().count(), "character", "characters"))
}

/// `LIVE: the key works, revoke it now [openai: HTTP 200]`.
fn describe(verification: &Verification) -> String {
    let meaning = match verification.state {
        State::Live => "LIVE: the key works, revoke it now",
        State::Restricted => "LIVE (restricted): the provider knows the key but refused this call; revoke it now",
        State::OutOfCredit => "LIVE (out of credit): revoke it now, before credit is added",
        State::Invalid => "invalid: revoked or never a real key",
        State::Unknown => "unknown: no usable answer; treat it as live",
        State::Unsupported => "not checked: keyhound cannot verify this kind of secret",
    };
    match verification.provider {
        Some(provider) => format!("{meaning} [{provider}: {}]", verification.detail),
        None => meaning.to_string(),
    }
}

/// "How to fix": the remediation of each rule with findings for the place of each finding
/// (see [`Rule::remediation_for`]), each distinct one once, in order of appearance.
fn write_remediation(
    outcome: &ScanOutcome,
    rules: &RuleSet,
    options: &ReportOptions,
    out: &mut dyn Write,
) -> io::Result<()> {
    let mut shown: Vec<(&Rule, Option<&str>, String)> = Vec::new();
    for finding in &outcome.findings {
        let Some(rule) = rules.find(&finding.rule_id) else { continue };
        let file = finding.provenance.members.is_empty().then_some(finding.path.as_str());
        let text = rule.remediation_for(file, finding.commit.is_some());
        let variant = rule.spec.remediation_by_context.secrets_file.is_some();
        let place = file.filter(|file| variant && is_secrets_file(file));
        if !text.trim().is_empty()
            && !shown.iter().any(|(seen, _, seen_text)| seen.id() == rule.id() && *seen_text == text)
        {
            shown.push((rule, place, text));
        }
    }
    if shown.is_empty() {
        return Ok(());
    }
    writeln!(out, "{}", paint(options, BOLD_RED, "How to fix"))?;
    for (rule, place, text) in shown {
        let within = place.map(|file| format!(", in {}", Visible(file))).unwrap_or_default();
        // A rule file can come from the repository scanned: its text is shown like a path.
        let title = format!("  {} [{}]{within}", Visible(&rule.spec.description), Visible(rule.id()));
        writeln!(out, "{}", inert_line(&title))?;
        for line in wrap(&text, WRAP_WIDTH - 4) {
            writeln!(out, "{}", inert_line(&format!("    {}", Visible(&line))))?;
        }
        writeln!(out)?;
    }
    Ok(())
}

/// Greedy word wrap of each line of `text`; continuation lines of a numbered step (`2. `)
/// are indented under its text. A word longer than `width` gets a line of its own.
fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines = Vec::new();
    for paragraph in text.trim().lines().map(str::trim).filter(|line| !line.is_empty()) {
        let marker = paragraph.split_once(". ").filter(|(n, _)| n.bytes().all(|b| b.is_ascii_digit()));
        let hang = " ".repeat(marker.map_or(0, |(n, _)| n.len() + 2));
        let mut line = String::new();
        for word in paragraph.split_whitespace() {
            if !line.trim().is_empty() && line.chars().count() + 1 + word.chars().count() > width {
                lines.push(std::mem::replace(&mut line, hang.clone()));
            }
            if !line.trim().is_empty() {
                line.push(' ');
            }
            line.push_str(word);
        }
        lines.push(line);
    }
    lines
}

/// The one-line fix for a rule's findings.
pub(crate) fn fix_for(rules: &RuleSet, rule_id: &str) -> String {
    let env_var = rules.find(rule_id).and_then(|rule| rule.spec.env_var.as_deref());
    let destination = match env_var {
        Some(name) => format!("move it to an environment variable such as {name} and read it from there"),
        None => "move it out of the code, into an environment variable or a secrets manager".to_string(),
    };
    format!("{destination}; if it was ever pushed or shared, revoke it and create a new one")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::test_support::{finding, finding_in_commit};

    fn render(findings: Vec<Finding>, options: ReportOptions) -> String {
        let outcome = ScanOutcome { findings, ..ScanOutcome::default() };
        let rules = RuleSet::builtin().unwrap();
        let mut out = Vec::new();
        write(&outcome, &Verifications::new(), &rules, &options, &mut out).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn block_has_location_rule_redacted_secret_and_fix() {
        let text = render(vec![finding("app/.env", 3)], ReportOptions::default());
        assert!(text.starts_with("app/.env:3:5: OpenAI API key [openai-api-key, critical]\n"), "{text}");
        assert!(text.contains("    secret: sk-proj-…zz9Q\n"), "{text}");
        assert!(text.contains("OPENAI_API_KEY"), "{text}");
        assert!(text.contains("revoke"), "{text}");
        assert!(!text.contains('\x1b'));
    }

    #[test]
    fn how_to_fix_once_per_rule_after_the_findings() {
        let text = render(vec![finding("a", 1), finding("b", 2)], ReportOptions::default());
        assert_eq!(text.matches("How to fix\n").count(), 1, "{text}");
        assert_eq!(text.matches("  OpenAI API key [openai-api-key]\n").count(), 1, "{text}");
        let section = &text[text.find("How to fix").unwrap()..];
        assert!(!section.contains("secret:"), "the section comes after every finding");
        for needed in ["API keys page", "OpenAI dashboard", "create a new one", "OPENAI_API_KEY", "usage page"] {
            assert!(section.contains(needed), "missing {needed:?}:\n{section}");
        }
        assert!(section.lines().all(|line| line.chars().count() <= WRAP_WIDTH), "{section}");
        assert_eq!(text.matches("    fix: ").count(), 2, "the one-line fix stays on each finding");
    }

    #[test]
    fn wrapping_keeps_steps_apart_and_hangs_their_continuations() {
        let text = "1. Revoke the key now and create a new one.\n2. Update every place.\n";
        assert_eq!(wrap(text, 24), ["1. Revoke the key now", "   and create a new one.", "2. Update every place."]);
        assert_eq!(wrap("a-very-long-word b", 4), ["a-very-long-word", "b"]);
    }

    #[test]
    fn verification_line_only_with_verify() {
        assert!(!render(vec![finding("a", 1)], ReportOptions::default()).contains("verified:"));
        let (outcome, verifications) = crate::report::test_support::verified_outcome(State::OutOfCredit);
        let mut out = Vec::new();
        write(&outcome, &verifications, &RuleSet::builtin().unwrap(), &ReportOptions::default(), &mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(
            text.contains("    verified: LIVE (out of credit): revoke it now, before credit is added [openai: HTTP 429 insufficient_quota]\n"),
            "{text}"
        );
    }

    #[test]
    fn commit_line_and_colour() {
        let mut finding = finding_in_commit("a", 1);
        finding.occurrences = Some(3);
        let text = render(vec![finding], ReportOptions { color: true, ..ReportOptions::default() });
        assert!(text.contains("commit: 0123456789ab by Ada <ada@example.com> on 2024-05-01T12:00:00+00:00: add client"));
        assert!(text.contains("    also in 2 other places in history (same fingerprint)\n"), "{text}");
        assert!(text.contains("\x1b[35m"));
    }

    #[test]
    fn the_line_is_shown_escaped_unless_no_context() {
        let mut odd = finding("a.py", 1);
        odd.context = Some("k = 'sk-proj-…zz9Q' \x1b[2J".into());
        let text = render(vec![odd.clone()], ReportOptions::default());
        assert!(text.contains("    secret: sk-proj-…zz9Q\n    context: k = 'sk-proj-…zz9Q' \\e[2J\n"), "{text}");
        let text = render(vec![odd], ReportOptions { no_context: true, ..ReportOptions::default() });
        assert!(!text.contains("context:"), "{text}");
    }

    #[test]
    fn a_short_secret_says_how_long_it_is() {
        let mut short = finding("a.py", 1);
        short.rule_id = "generic-secret".into();
        short.secret = "hunter2hunter2".into();
        short.prefix_len = 0;
        let text = render(vec![short.clone()], ReportOptions::default());
        assert!(text.contains("[generic-secret, critical]\n    secret: … (14 characters)\n"), "{text}");
        let shown = render(vec![short], ReportOptions { show_secrets: true, ..ReportOptions::default() });
        assert!(shown.contains("    secret: hunter2hunter2\n"), "{shown}");
    }

    #[test]
    fn a_hook_report_leaves_how_to_fix_to_the_blocked_message() {
        let text = render(vec![finding("a.py", 1)], ReportOptions { fix_follows: true, ..ReportOptions::default() });
        assert!(!text.contains("How to fix") && text.contains("    fix: "), "{text}");
    }

    #[test]
    fn where_a_secret_is_today_and_the_closing_count_in_words() {
        let present = Exposure {
            status: Status::Present,
            refs: (1..=7).map(|n| format!("b{n}")).collect(),
            in_head: false,
            only_on: Some(OnlyOn::Unmerged),
            last_commit: None,
        };
        assert_eq!(today(&present), "still in b1, b2, b3, b4, b5 and 2 other refs (only on refs HEAD has not merged)");
        let one = Exposure { refs: vec!["main".into(), "release/1.2".into()], in_head: true, only_on: None, ..present };
        assert_eq!(today(&one), "still in main, release/1.2");
        assert_eq!(today(&Exposure::message()), "in a commit or tag message: in history until it is rewritten");
        assert!(today(&Exposure::unreachable()).starts_with("only in objects no ref reaches"));
        assert_eq!(closing(Tally { secrets: 0, present: 0, unreachable: 0 }), None);
        let one = closing(Tally { secrets: 1, present: 0, unreachable: 0 }).unwrap();
        assert_eq!(one, "1 secret: 0 still at a branch or tag tip, 1 removed but in history. Revoke it; rewrite history only if needed.");
        assert!(closing(Tally { secrets: 2, present: 1, unreachable: 0 })
            .unwrap()
            .starts_with("2 secrets: 1 still at a branch or tag tip, 1 removed but in history. Revoke all of them;"));
        assert!(closing(Tally { secrets: 3, present: 1, unreachable: 1 }).unwrap().starts_with(
            "3 secrets: 1 still at a branch or tag tip, 1 removed but in history, 1 only in objects no ref reaches."
        ));
    }

    #[test]
    fn decoded_secrets_say_so() {
        let mut decoded = finding("secret.yaml", 2);
        decoded.decoded = Some("base64".into());
        let text = render(vec![decoded], ReportOptions::default());
        assert!(text.contains("    secret: sk-proj-…zz9Q\n    decoded from: base64\n"), "{text}");
        assert!(!render(vec![finding("a", 1)], ReportOptions::default()).contains("decoded"));
    }
}
