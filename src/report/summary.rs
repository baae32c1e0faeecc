//! The summary written to stderr after a scan: what was found, what was scanned, and every
//! reason something was not (so a scan is never silently "clean").

use std::collections::HashSet;

use crate::filter::DropReason;
use crate::paths::display_path;
use crate::pipeline::ScanOutcome;
use crate::report::Command;
use crate::size::human_bytes;
use crate::verify::{self, Verifications};
use crate::wording::count;

/// Most skipped paths named individually before the rest are counted.
const MAX_NAMED: usize = 10;

/// The summary lines for `outcome` of `command` and its `verifications` (empty without
/// `--verify`), without trailing newlines.
pub(crate) fn lines(outcome: &ScanOutcome, verifications: &Verifications, command: Command) -> Vec<String> {
    let stats = &outcome.stats;
    let mut lines = Vec::new();
    for warning in &stats.warnings {
        lines.push(format!("warning: {warning}"));
    }
    if !stats.skipped.is_empty() {
        let names: Vec<String> = stats
            .skipped
            .iter()
            .take(MAX_NAMED)
            .map(|skip| format!("{} ({})", display_path(&skip.path), skip.reason))
            .collect();
        let more = stats.skipped.len().saturating_sub(MAX_NAMED);
        let tail = if more > 0 { format!(" and {more} more") } else { String::new() };
        lines.push(format!(
            "warning: skipped {}: {}{tail}; raise --max-file-size to scan them",
            count(stats.skipped.len(), "file", "files"),
            names.join(", ")
        ));
    }
    if stats.ignored > 0 {
        lines.push(format!(
            "note: {} excluded by .gitignore/.ignore rules (--no-ignore scans them)",
            count(stats.ignored, "file", "files")
        ));
    }
    let nested = &stats.nested;
    if nested.members > 0 || nested.decoded > 0 {
        lines.push(format!(
            "note: also scanned {} ({}) and {} (base64, percent, UTF-16)",
            count(nested.members, "archive member", "archive members"),
            human_bytes(nested.member_bytes),
            count(nested.decoded, "decoded text", "decoded texts")
        ));
    }
    if stats.not_regular > 0 {
        lines.push(format!(
            "note: {} not scanned: symlinks, submodules, FIFOs, sockets and devices are not regular files",
            count(stats.not_regular, "entry", "entries")
        ));
    }
    for note in &stats.notes {
        lines.push(format!("note: {note}"));
    }
    if !outcome.dropped.is_empty() {
        let reasons: Vec<String> =
            outcome.dropped.iter().map(|(reason, count)| format!("{count} by {}", reason.describe())).collect();
        let total: usize = outcome.dropped.values().sum();
        lines.push(format!("note: {} suppressed ({})", count(total, "finding", "findings"), reasons.join(", ")));
    }
    for entry in &outcome.unused {
        lines.push(format!("note: {entry}"));
    }
    lines.extend(error_lines(outcome));
    lines.extend(verification_line(verifications));
    lines.push(headline(outcome, command));
    lines
}

/// What `--quiet` still says: for an incomplete scan (exit code 2), each error and the line
/// saying the scan is incomplete; nothing otherwise.
pub(crate) fn incomplete_lines(outcome: &ScanOutcome, command: Command) -> Vec<String> {
    if !outcome.is_incomplete() {
        return Vec::new();
    }
    error_lines(outcome).chain([headline(outcome, command)]).collect()
}

fn error_lines(outcome: &ScanOutcome) -> impl Iterator<Item = String> + '_ {
    outcome.stats.errors.iter().map(|error| format!("error: {error}"))
}

/// `--verify`: what the providers said, counted per distinct secret.
fn verification_line(verifications: &Verifications) -> Option<String> {
    if verifications.is_empty() {
        return None;
    }
    let counts = verify::tally(verifications);
    let parts: Vec<String> = counts.iter().map(|(state, count)| format!("{count} {}", state.as_str())).collect();
    let live: usize = counts.iter().filter(|(state, _)| state.is_live()).map(|(_, count)| count).sum();
    let verdict = if live > 0 { "warning" } else { "note" };
    let advice = match live {
        0 => "",
        1 => "; revoke the live key now (see How to fix)",
        _ => "; revoke the live keys now (see How to fix)",
    };
    let keys = count(verifications.len(), "distinct key", "distinct keys");
    Some(format!("{verdict}: verified {keys}: {}{advice}", parts.join(", ")))
}

fn headline(outcome: &ScanOutcome, command: Command) -> String {
    let stats = &outcome.stats;
    let (one, many) = command.unit();
    let scanned = format!(
        "{}, {} in {:.2}s",
        count(stats.blobs, one, many),
        human_bytes(stats.bytes),
        outcome.elapsed.as_secs_f64()
    );
    let found = found(outcome);
    if outcome.is_incomplete() {
        let errors = count(stats.errors.len(), "error", "errors");
        format!("scan incomplete: {errors}; {found} in what was scanned ({scanned})")
    } else if !outcome.findings.is_empty() {
        format!("{found} ({scanned} scanned)")
    } else if let Some(&held) = outcome.dropped.get(&DropReason::AlreadyInHead) {
        format!("commit passes; {} already in HEAD — see above ({scanned} scanned)", count(held, "secret", "secrets"))
    } else if stats.blobs == 0 {
        format!("nothing was scanned ({scanned})")
    } else {
        format!("no secrets found ({scanned} scanned)")
    }
}

/// `N secrets found`, one per finding; a report grouped by secret counts distinct secrets and
/// the places they were seen at (their findings and the copies of their blobs at other paths).
fn found(outcome: &ScanOutcome) -> String {
    let Some(known) = &outcome.secrets else {
        return format!("{} found", count(outcome.findings.len(), "secret", "secrets"));
    };
    let distinct: HashSet<&str> = outcome.findings.iter().map(|finding| finding.fingerprint.as_str()).collect();
    let places = outcome.findings.len() + known.copies.len();
    format!("{} found in {}", count(distinct.len(), "secret", "secrets"), count(places, "place", "places"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::{NestedStats, SkipReason, Skipped, SourceStats};

    #[test]
    fn clean_scan_says_what_it_covered() {
        let outcome =
            ScanOutcome { stats: SourceStats { blobs: 3, bytes: 2048, ..Default::default() }, ..Default::default() };
        let text = lines(&outcome, &Verifications::new(), Command::Scan).join("\n");
        assert!(text.starts_with("no secrets found (3 files, 2.0 KiB"), "{text}");
    }

    #[test]
    fn a_commit_passing_with_secrets_already_in_head_says_so() {
        let stats = SourceStats { blobs: 1, ..Default::default() };
        let dropped = [(DropReason::AlreadyInHead, 1)].into_iter().collect();
        let text = lines(&ScanOutcome { stats, dropped, ..Default::default() }, &Verifications::new(), Command::Staged)
            .join("\n");
        assert!(text.contains("\ncommit passes; 1 secret already in HEAD — see above ("), "{text}");
        assert!(!text.contains("no secrets found"), "{text}");
    }

    #[test]
    fn nothing_scanned_is_never_called_clean() {
        let stats = SourceStats { ignored: 4, warnings: vec!["t: every file is ignored".into()], ..Default::default() };
        let text = lines(&ScanOutcome { stats, ..Default::default() }, &Verifications::new(), Command::Scan).join("\n");
        assert!(text.contains("warning: t: every file is ignored"));
        assert!(text.contains("nothing was scanned"));
        assert!(!text.contains("no secrets found"));
    }

    #[test]
    fn verification_counts_distinct_keys_and_warns_about_live_ones() {
        use crate::verify::State;
        let (outcome, verifications) = crate::report::test_support::verified_outcome(State::Live);
        let text = lines(&outcome, &verifications, Command::Scan).join("\n");
        assert!(text.contains("warning: verified 1 distinct key: 1 live; revoke the live key now"), "{text}");
        let (outcome, verifications) = crate::report::test_support::verified_outcome(State::Invalid);
        assert!(lines(&outcome, &verifications, Command::Scan)
            .join("\n")
            .contains("note: verified 1 distinct key: 1 invalid\n"));
        assert!(!lines(&outcome, &Verifications::new(), Command::Scan).join("\n").contains("verified"));
    }

    #[test]
    fn skipped_files_are_named_and_errors_make_it_incomplete() {
        let stats = SourceStats {
            blobs: 1,
            skipped: vec![Skipped { path: "big.bin".into(), reason: SkipReason::TooLarge { size: 30 << 20 } }],
            errors: vec!["secret.txt: Permission denied".into()],
            ..Default::default()
        };
        let text = lines(&ScanOutcome { stats, ..Default::default() }, &Verifications::new(), Command::Scan).join("\n");
        assert!(text.contains("skipped 1 file: big.bin (too large (30.0 MiB))"), "{text}");
        assert!(text.contains("error: secret.txt: Permission denied"));
        assert!(text.contains("scan incomplete"));
    }

    #[test]
    fn quiet_says_only_why_a_scan_is_incomplete() {
        let skipped = vec![Skipped { path: "big.bin".into(), reason: SkipReason::TooLarge { size: 30 << 20 } }];
        let stats = SourceStats { blobs: 1, skipped, ..Default::default() };
        assert!(
            incomplete_lines(&ScanOutcome { stats: stats.clone(), ..Default::default() }, Command::History).is_empty()
        );
        let stats = SourceStats { errors: vec!["blob 0a1b: missing".into()], ..stats };
        let lines = incomplete_lines(&ScanOutcome { stats, ..Default::default() }, Command::History);
        assert_eq!(lines.len(), 2, "{lines:?}");
        assert_eq!(lines[0], "error: blob 0a1b: missing");
        assert!(lines[1].starts_with("scan incomplete: 1 error;"), "{lines:?}");
    }

    #[test]
    fn archive_members_and_decoded_texts_are_counted() {
        let nested = NestedStats { members: 3, member_bytes: 2048, decoded: 2 };
        let stats = SourceStats { blobs: 1, nested, ..Default::default() };
        let text = lines(&ScanOutcome { stats, ..Default::default() }, &Verifications::new(), Command::Scan).join("\n");
        assert!(text.contains("note: also scanned 3 archive members (2.0 KiB) and 2 decoded texts"), "{text}");
    }

    /// Every line the summary can write, with each count at `n` and the units of `command`.
    fn every_line(n: usize, command: Command) -> String {
        let units = n as u64;
        let skip = Skipped { path: "big.bin".into(), reason: SkipReason::TooLarge { size: 30 << 20 } };
        let stats = SourceStats {
            blobs: units,
            skipped: vec![skip; n],
            ignored: units,
            not_regular: units,
            nested: NestedStats { members: units, member_bytes: 1, decoded: units },
            errors: vec!["e".into(); n],
            ..Default::default()
        };
        let dropped = [(DropReason::Baseline, n)].into_iter().collect();
        let (_, verified) = crate::report::test_support::verified_outcome(crate::verify::State::Invalid);
        let verification = verified.into_values().next().expect("one verification");
        let verifications = (0..n).map(|key| (key.to_string(), verification.clone())).collect();
        lines(&ScanOutcome { stats, dropped, ..Default::default() }, &verifications, command).join("\n")
    }

    #[test]
    fn counts_agree_with_their_nouns_and_scans_count_files_or_blobs() {
        let singular = [
            "skipped 1 file: big.bin",
            "note: 1 file excluded",
            "also scanned 1 archive member (",
            "and 1 decoded text (",
            "note: 1 entry not scanned",
            "note: 1 finding suppressed",
            "verified 1 distinct key:",
            "scan incomplete: 1 error; 0 secrets found in what was scanned (1 file, ",
        ];
        let plural = [
            "skipped 2 files: big.bin",
            "note: 2 files excluded",
            "also scanned 2 archive members (",
            "and 2 decoded texts (",
            "note: 2 entries not scanned",
            "note: 2 findings suppressed",
            "verified 2 distinct keys:",
            "scan incomplete: 2 errors; 0 secrets found in what was scanned (2 blobs, ",
        ];
        for (text, expected) in [(every_line(1, Command::Scan), singular), (every_line(2, Command::History), plural)] {
            for words in expected {
                assert!(text.contains(words), "{words:?} in {text}");
            }
            assert!(!text.contains("(s)") && !text.contains("(y/ies)"), "{text}");
        }
        assert!(every_line(2, Command::Staged).contains("(2 files, "));
        assert!(every_line(1, Command::History).contains("(1 blob, "));
    }

    #[test]
    fn a_report_grouped_by_secret_counts_secrets_and_places() {
        let finding = crate::report::test_support::finding_in_commit("a.py", 3);
        let findings = vec![finding.clone(), finding.clone()];
        let stats = SourceStats { blobs: 3, ..Default::default() };
        let secrets = crate::pipeline::group::Secrets { copies: vec![finding], ..Default::default() };
        let grouped = ScanOutcome {
            findings: findings.clone(),
            stats: stats.clone(),
            secrets: Some(secrets),
            ..Default::default()
        };
        let headline = lines(&grouped, &Verifications::new(), Command::History).pop().expect("a headline");
        assert!(headline.starts_with("1 secret found in 3 places (3 blobs, "), "{headline}");
        let listed = ScanOutcome { findings, stats, ..Default::default() };
        let headline = lines(&listed, &Verifications::new(), Command::History).pop().expect("a headline");
        assert!(headline.starts_with("2 secrets found (3 blobs, "), "{headline}");
    }
}
