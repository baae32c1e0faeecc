//! The summary written to stderr after a scan: what was found, what was scanned, and every
//! reason something was not (so a scan is never silently "clean").

use crate::filter::DropReason;
use crate::paths::display_path;
use crate::pipeline::ScanOutcome;
use crate::size::human_bytes;
use crate::verify::{self, Verifications};
use crate::wording::count;

/// Most skipped paths named individually before the rest are counted.
const MAX_NAMED: usize = 10;

/// The summary lines for `outcome` and its `verifications` (empty without `--verify`),
/// without trailing newlines.
pub(crate) fn lines(outcome: &ScanOutcome, verifications: &Verifications) -> Vec<String> {
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
            "warning: skipped {} file(s): {}{tail}; raise --max-file-size to scan them",
            stats.skipped.len(),
            names.join(", ")
        ));
    }
    if stats.ignored > 0 {
        lines.push(format!(
            "note: {} file(s) excluded by .gitignore/.ignore rules (--no-ignore scans them)",
            stats.ignored
        ));
    }
    let nested = &stats.nested;
    if nested.members > 0 || nested.decoded > 0 {
        lines.push(format!(
            "note: also scanned {} archive member(s) ({}) and {} decoded text(s) (base64, percent, UTF-16)",
            nested.members,
            human_bytes(nested.member_bytes),
            nested.decoded
        ));
    }
    if stats.not_regular > 0 {
        lines.push(format!(
            "note: {} entr(y/ies) not scanned because they are not regular files (symlinks, submodules, FIFOs, sockets, devices)",
            stats.not_regular
        ));
    }
    for note in &stats.notes {
        lines.push(format!("note: {note}"));
    }
    if !outcome.dropped.is_empty() {
        let reasons: Vec<String> =
            outcome.dropped.iter().map(|(reason, count)| format!("{count} by {}", reason.describe())).collect();
        let total: usize = outcome.dropped.values().sum();
        lines.push(format!("note: {total} finding(s) suppressed ({})", reasons.join(", ")));
    }
    for entry in &outcome.unused {
        lines.push(format!("note: {entry}"));
    }
    lines.extend(error_lines(outcome));
    lines.extend(verification_line(verifications));
    lines.push(headline(outcome));
    lines
}

/// What `--quiet` still says: for an incomplete scan (exit code 2), each error and the line
/// saying the scan is incomplete; nothing otherwise.
pub(crate) fn incomplete_lines(outcome: &ScanOutcome) -> Vec<String> {
    if !outcome.is_incomplete() {
        return Vec::new();
    }
    error_lines(outcome).chain([headline(outcome)]).collect()
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
    let total = verifications.len();
    Some(format!("{verdict}: verified {total} distinct key(s): {}{advice}", parts.join(", ")))
}

fn headline(outcome: &ScanOutcome) -> String {
    let stats = &outcome.stats;
    let scanned =
        format!("{} blob(s), {} in {:.2}s", stats.blobs, human_bytes(stats.bytes), outcome.elapsed.as_secs_f64());
    let found = outcome.findings.len();
    if outcome.is_incomplete() {
        format!(
            "scan incomplete: {} error(s); {found} secret(s) found in what was scanned ({scanned})",
            stats.errors.len()
        )
    } else if found > 0 {
        format!("{found} secret(s) found ({scanned} scanned)")
    } else if let Some(&held) = outcome.dropped.get(&DropReason::AlreadyInHead) {
        format!("commit passes; {} already in HEAD — see above ({scanned} scanned)", count(held, "secret", "secrets"))
    } else if stats.blobs == 0 {
        format!("nothing was scanned ({scanned})")
    } else {
        format!("no secrets found ({scanned} scanned)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::{NestedStats, SkipReason, Skipped, SourceStats};

    #[test]
    fn clean_scan_says_what_it_covered() {
        let outcome =
            ScanOutcome { stats: SourceStats { blobs: 3, bytes: 2048, ..Default::default() }, ..Default::default() };
        let text = lines(&outcome, &Verifications::new()).join("\n");
        assert!(text.starts_with("no secrets found (3 blob(s), 2.0 KiB"), "{text}");
    }

    #[test]
    fn a_commit_passing_with_secrets_already_in_head_says_so() {
        let stats = SourceStats { blobs: 1, ..Default::default() };
        let dropped = [(DropReason::AlreadyInHead, 1)].into_iter().collect();
        let text = lines(&ScanOutcome { stats, dropped, ..Default::default() }, &Verifications::new()).join("\n");
        assert!(text.contains("\ncommit passes; 1 secret already in HEAD — see above ("), "{text}");
        assert!(!text.contains("no secrets found"), "{text}");
    }

    #[test]
    fn nothing_scanned_is_never_called_clean() {
        let stats = SourceStats { ignored: 4, warnings: vec!["t: every file is ignored".into()], ..Default::default() };
        let text = lines(&ScanOutcome { stats, ..Default::default() }, &Verifications::new()).join("\n");
        assert!(text.contains("warning: t: every file is ignored"));
        assert!(text.contains("nothing was scanned"));
        assert!(!text.contains("no secrets found"));
    }

    #[test]
    fn verification_counts_distinct_keys_and_warns_about_live_ones() {
        use crate::verify::State;
        let (outcome, verifications) = crate::report::test_support::verified_outcome(State::Live);
        let text = lines(&outcome, &verifications).join("\n");
        assert!(text.contains("warning: verified 1 distinct key(s): 1 live; revoke the live key now"), "{text}");
        let (outcome, verifications) = crate::report::test_support::verified_outcome(State::Invalid);
        assert!(lines(&outcome, &verifications).join("\n").contains("note: verified 1 distinct key(s): 1 invalid\n"));
        assert!(!lines(&outcome, &Verifications::new()).join("\n").contains("verified"));
    }

    #[test]
    fn skipped_files_are_named_and_errors_make_it_incomplete() {
        let stats = SourceStats {
            blobs: 1,
            skipped: vec![Skipped { path: "big.bin".into(), reason: SkipReason::TooLarge { size: 30 << 20 } }],
            errors: vec!["secret.txt: Permission denied".into()],
            ..Default::default()
        };
        let text = lines(&ScanOutcome { stats, ..Default::default() }, &Verifications::new()).join("\n");
        assert!(text.contains("skipped 1 file(s): big.bin (too large (30.0 MiB))"), "{text}");
        assert!(text.contains("error: secret.txt: Permission denied"));
        assert!(text.contains("scan incomplete"));
    }

    #[test]
    fn quiet_says_only_why_a_scan_is_incomplete() {
        let skipped = vec![Skipped { path: "big.bin".into(), reason: SkipReason::TooLarge { size: 30 << 20 } }];
        let stats = SourceStats { blobs: 1, skipped, ..Default::default() };
        assert!(incomplete_lines(&ScanOutcome { stats: stats.clone(), ..Default::default() }).is_empty());
        let stats = SourceStats { errors: vec!["blob 0a1b: missing".into()], ..stats };
        let lines = incomplete_lines(&ScanOutcome { stats, ..Default::default() });
        assert_eq!(lines.len(), 2, "{lines:?}");
        assert_eq!(lines[0], "error: blob 0a1b: missing");
        assert!(lines[1].starts_with("scan incomplete: 1 error(s)"), "{lines:?}");
    }

    #[test]
    fn archive_members_and_decoded_texts_are_counted() {
        let nested = NestedStats { members: 3, member_bytes: 2048, decoded: 2 };
        let stats = SourceStats { blobs: 1, nested, ..Default::default() };
        let text = lines(&ScanOutcome { stats, ..Default::default() }, &Verifications::new()).join("\n");
        assert!(text.contains("note: also scanned 3 archive member(s) (2.0 KiB) and 2 decoded text(s)"), "{text}");
    }
}
