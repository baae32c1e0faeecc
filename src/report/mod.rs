//! Reporters: pure functions from a [`ScanOutcome`], and the `--verify` answers beside it, to
//! bytes on a writer. Every format redacts secrets unless [`ReportOptions::show_secrets`] is
//! set.

pub(crate) mod blocked;
mod codequality;
mod csv;
mod github;
mod gitlab;
mod json;
mod junit;
mod sarif;
pub(crate) mod summary;
pub(crate) mod text;

use std::collections::HashMap;
use std::io::{self, Write};
use std::path::PathBuf;

use sha2::{Digest, Sha256};

use crate::escape;
use crate::finding::Finding;
use crate::pipeline::ScanOutcome;
use crate::rules::{Rule, RuleSet, Severity};
use crate::verify::Verifications;

/// Output formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    /// For people: location, rule, redacted secret and how to fix it.
    Text,
    /// One JSON array of findings.
    Json,
    /// One JSON object per line.
    Jsonl,
    /// SARIF 2.1.0, for GitHub code scanning and other SARIF viewers.
    Sarif,
    /// GitHub Actions workflow commands (`::error file=…::`), shown as annotations.
    Github,
    /// JUnit XML, for Jenkins and GitLab test reports: one failed test case per finding.
    Junit,
    /// Comma-separated values (RFC 4180) with a header row.
    Csv,
    /// GitLab Code Quality JSON (Code Climate issues), for the merge request widget.
    Codequality,
    /// GitLab secret detection report (`gl-secret-detection-report.json`), for GitLab's
    /// vulnerability report and merge request security widget.
    Gitlab,
}

impl Format {
    /// Whether the format places findings in a CI system's checkout (see [`Checkout`]).
    pub fn places_paths(self) -> bool {
        matches!(self, Format::Sarif | Format::Github | Format::Codequality | Format::Gitlab)
    }

    /// The most findings a report in this format may hold, if its consumer sets a limit:
    /// GitHub code scanning rejects a SARIF run of more than 25,000 results.
    pub fn max_results(self) -> Option<usize> {
        match self {
            Format::Sarif => Some(25_000),
            _ => None,
        }
    }
}

/// The command whose findings are reported: SARIF names it so that code scanning keeps the
/// uploads of different commands apart.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) enum Command {
    /// `keyhound scan`.
    #[default]
    Scan,
    /// `keyhound history`.
    History,
    /// `keyhound staged`.
    Staged,
}

impl Command {
    /// The command's name on the command line.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Command::Scan => "scan",
            Command::History => "history",
            Command::Staged => "staged",
        }
    }

    /// What the command scans, counted in its summary: `history` reads blobs, the others files.
    pub(crate) fn unit(self) -> (&'static str, &'static str) {
        match self {
            Command::History => ("blob", "blobs"),
            Command::Scan | Command::Staged => ("file", "files"),
        }
    }
}

/// Options every reporter honours.
#[derive(Debug, Clone, Default)]
pub(crate) struct ReportOptions {
    /// Print secrets whole instead of redacted.
    pub show_secrets: bool,
    /// Use ANSI colours (text format only).
    pub color: bool,
    /// Where the findings' paths lead on disk, for formats that place them in a checkout.
    pub checkout: Checkout,
    /// The command that found them.
    pub command: Command,
    /// Leave out the line each finding is on (`--no-context`).
    pub no_context: bool,
    /// A blocked hook's message follows the report with the one "How to fix" (see
    /// [`blocked`]), so the text report leaves its own out.
    pub fix_follows: bool,
}

/// Where finding paths start from, and the roots a CI system wants them relative to: GitHub
/// places annotations by path from the repository root, whatever directory keyhound ran in.
#[derive(Debug, Clone, Default)]
pub(crate) struct Checkout {
    /// The absolute directory relative finding paths start from (the current directory for
    /// `scan`, the work tree for `history` and `staged`); `None` leaves paths as they are.
    pub base: Option<PathBuf>,
    /// Absolute directories to show paths relative to: the first that holds a path wins.
    pub roots: Vec<PathBuf>,
}

impl Checkout {
    /// `file` (a relative path from [`Checkout::base`], or an absolute one) relative to the
    /// first root that holds it, else as it is. The path is resolved lexically: it names what
    /// the scan read, and following symbolic links could only move it elsewhere.
    pub(crate) fn relative(&self, file: &str) -> String {
        let Some(base) = &self.base else { return file.to_string() };
        let full = crate::paths::normalize(&base.join(file));
        self.roots
            .iter()
            .find_map(|root| full.strip_prefix(root).ok().filter(|inside| !inside.as_os_str().is_empty()))
            .map_or_else(|| file.to_string(), |inside| crate::paths::forward_slashes(&inside.to_string_lossy()))
    }
}

impl ReportOptions {
    /// The line the finding is on, redacted, unless `--no-context`.
    pub(crate) fn context<'f>(&self, finding: &'f Finding) -> Option<&'f str> {
        finding.context.as_deref().filter(|_| !self.no_context)
    }

    /// The secret as this report may show it.
    pub(crate) fn secret_text(&self, finding: &Finding) -> String {
        if self.show_secrets {
            finding.secret.clone()
        } else {
            finding.redacted_secret()
        }
    }
}

/// Writes the findings of `outcome` in `format`, with their `verifications` (empty without
/// `--verify`).
pub(crate) fn write(
    format: Format,
    outcome: &ScanOutcome,
    verifications: &Verifications,
    rules: &RuleSet,
    options: &ReportOptions,
    out: &mut dyn Write,
) -> io::Result<()> {
    match format {
        Format::Text => text::write(outcome, verifications, rules, options, out),
        Format::Json => json::write_array(outcome, verifications, options, out),
        Format::Jsonl => json::write_lines(outcome, verifications, options, out),
        Format::Sarif => sarif::write(outcome, verifications, rules, options, out),
        Format::Github => github::write(outcome, rules, options, out),
        Format::Junit => junit::write(outcome, rules, options, out),
        Format::Csv => csv::write(outcome, options, out),
        Format::Codequality => codequality::write(outcome, options, out),
        Format::Gitlab => gitlab::write(outcome, rules, options, std::time::SystemTime::now(), out),
    }?;
    out.flush()
}

/// How loudly CI systems should flag a finding of this severity.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Level {
    /// Critical and high severity.
    Error,
    /// Medium severity.
    Warning,
    /// Low severity.
    Note,
}

impl Level {
    fn of(severity: Severity) -> Self {
        match severity {
            Severity::Critical | Severity::High => Level::Error,
            Severity::Medium => Level::Warning,
            Severity::Low => Level::Note,
        }
    }
}

/// One line naming what was found: `OpenAI API key (openai-api-key): sk-proj-…Ab3A`, plus the
/// commit for history findings. Text for people, so control characters in it (a hostile
/// author, rule description or secret) are shown escaped.
fn headline(finding: &Finding, options: &ReportOptions) -> String {
    let mut line = format!("{} ({}): {}", finding.description, finding.rule_id, options.secret_text(finding));
    if let Some(commit) = &finding.commit {
        let short = commit.id.get(..12).unwrap_or(&commit.id);
        line.push_str(&format!(" in commit {short} by {} on {}", commit.author, commit.date));
    }
    escape::visible(&line).into_owned()
}

/// A rule's remediation, or the one-line fix for its findings when it has none.
fn remediation(rule: &Rule, rules: &RuleSet) -> String {
    let text = rule.spec.remediation.trim();
    if text.is_empty() {
        let fix = text::fix_for(rules, rule.id());
        let mut chars = fix.chars();
        chars.next().map(|first| first.to_uppercase().chain(chars).collect::<String>() + ".").unwrap_or_default()
    } else {
        text.to_string()
    }
}

/// Writes `value` as JSON, pretty or compact, with DEL and the C1 controls (U+007F–U+009F)
/// as `\u` escapes. serde_json writes them raw, which is valid JSON but reaches a terminal as
/// a control sequence (U+009B is CSI); they occur only inside strings, where the escape
/// stands for the same character.
pub(crate) fn write_json(value: &impl serde::Serialize, pretty: bool, out: &mut dyn Write) -> io::Result<()> {
    let text = if pretty { serde_json::to_string_pretty(value) } else { serde_json::to_string(value) }?;
    let mut plain = 0;
    for (at, c) in text.char_indices().filter(|(_, c)| ('\u{7f}'..='\u{9f}').contains(c)) {
        out.write_all(&text.as_bytes()[plain..at])?;
        write!(out, "\\u{:04x}", u32::from(c))?;
        plain = at + c.len_utf8();
    }
    out.write_all(&text.as_bytes()[plain..])
}

/// For each finding, a fingerprint unique to its place that does not change when lines move:
/// a hash of the content fingerprint, the path and the occurrence number of that secret
/// within that path. CI systems tell new findings from old ones by it, and merge findings
/// that share one.
fn place_fingerprints(findings: &[Finding]) -> Vec<String> {
    let mut occurrences: HashMap<(&str, &str), usize> = HashMap::new();
    findings
        .iter()
        .map(|finding| {
            let occurrence = occurrences.entry((&finding.fingerprint, &finding.path)).or_insert(0);
            *occurrence += 1;
            let path = finding.path.strip_prefix("./").unwrap_or(&finding.path);
            let digest = Sha256::digest(format!("{}\0{path}\0{occurrence}", finding.fingerprint));
            digest[..16].iter().map(|b| format!("{b:02x}")).collect()
        })
        .collect()
}

/// Where a CI format (SARIF, Code Quality) places a finding: a file it can show, and the
/// archive member inside it, if any.
struct Location {
    /// Relative to the first of the checkout's roots that holds it (the repository root, or
    /// `GITHUB_WORKSPACE`), else to the scanned root, or absolute when the user named an
    /// absolute path outside them.
    file: String,
    /// `lib/app.jar!config/app.properties`: members are not files a CI system can show, so
    /// the location is the archive and the member is named in the message.
    member: Option<String>,
}

impl Location {
    fn of(finding: &Finding, checkout: &Checkout) -> Self {
        let origin = finding.provenance.origin.to_string();
        let member = finding.provenance.member_part();
        let file = origin.strip_prefix("./").unwrap_or(&origin);
        // A path from a git tree is repository data, not a path the user named.
        let file = if finding.commit.is_some() { confined(file) } else { file.to_string() };
        Location { file: checkout.relative(&file), member }
    }

    /// ` In archive member NAME.` for a member, for the end of a message; empty otherwise.
    fn member_note(&self) -> String {
        self.member
            .as_deref()
            .map(|member| format!(" In archive member {}.", escape::visible(member)))
            .unwrap_or_default()
    }
}

/// `path` as a relative path that stays under the root: a tree entry named `/etc/passwd`,
/// `..`, `C:` or `..\..\x` must not point a CI system outside the checkout. Backslashes
/// count as separators, `.` and empty components are dropped, `..` drops the component
/// before it (never more than there is), and a leading drive letter is dropped.
fn confined(path: &str) -> String {
    let mut parts: Vec<&str> = Vec::new();
    for part in path.split(['/', '\\']) {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            part => parts.push(part),
        }
    }
    if let Some(first) = parts.first_mut() {
        let bytes = first.as_bytes();
        if bytes.len() >= 2 && bytes[0].is_ascii_alphabetic() && bytes[1] == b':' {
            *first = &first[2..];
        }
    }
    parts.retain(|part| !part.is_empty());
    parts.join("/")
}

#[cfg(test)]
mod golden;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::test_support::{finding, finding_in_commit, finding_in_member};

    #[test]
    fn json_escapes_del_and_c1_but_keeps_the_value() {
        let value = "a\u{7f}b\u{9b}c\u{a0}é\n";
        let mut out = Vec::new();
        write_json(&value, false, &mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert_eq!(text, "\"a\\u007fb\\u009bc\u{a0}é\\n\"");
        assert_eq!(serde_json::from_str::<String>(&text).unwrap(), value);
    }

    #[test]
    fn paths_from_a_tree_stay_under_the_root() {
        for (path, expected) in [
            ("/etc/passwd", "etc/passwd"),
            ("../../../../etc/cron.d/evil", "etc/cron.d/evil"),
            ("a/../../b", "b"),
            ("..\\..\\windows\\x", "windows/x"),
            ("C:\\Windows\\x", "Windows/x"),
            ("C:foo", "foo"),
            ("./src//a.py", "src/a.py"),
            ("src/app.py", "src/app.py"),
        ] {
            assert_eq!(confined(path), expected, "{path}");
        }
    }

    #[test]
    fn locations_point_at_the_archive_and_name_the_member() {
        let here = Checkout::default();
        let member = finding_in_member("dist/app.zip", "../../../../etc/cron.d/evil", 1);
        let location = Location::of(&member, &here);
        assert_eq!(
            (location.file.as_str(), location.member.as_deref()),
            ("dist/app.zip", Some("../../../../etc/cron.d/evil"))
        );
        let tree = finding_in_commit("/etc/passwd", 1);
        assert_eq!(Location::of(&tree, &here).file, "etc/passwd");
        let named = finding("/home/me/project/a.py", 1);
        assert_eq!(Location::of(&named, &here).file, "/home/me/project/a.py", "a path the user named is kept");
        let plain = finding("./a!b.py", 1);
        let location = Location::of(&plain, &here);
        assert_eq!((location.file.as_str(), location.member.as_deref()), ("a!b.py", None));
    }

    #[test]
    fn locations_are_relative_to_the_checkout_root_that_holds_them() {
        let checkout = Checkout { base: Some("/work/repo/lib".into()), roots: vec!["/work/repo".into()] };
        assert_eq!(Location::of(&finding("a.py", 1), &checkout).file, "lib/a.py");
        let tree = finding_in_commit("../../etc/passwd", 1);
        assert_eq!(Location::of(&tree, &checkout).file, "lib/etc/passwd", "confined first, then placed");
        assert_eq!(Location::of(&finding("/work/repo/b.py", 1), &checkout).file, "b.py");
        assert_eq!(Location::of(&finding("/elsewhere/c.py", 1), &checkout).file, "/elsewhere/c.py");
    }
}

#[cfg(test)]
pub(crate) mod test_support {
    use std::sync::Arc;

    use crate::finding::Finding;
    use crate::lines::Position;
    use crate::pipeline::ScanOutcome;
    use crate::rules::{Confidence, Severity};
    use crate::source::{CommitInfo, Origin, Provenance};
    use crate::verify::{State, Verification, Verifications};

    /// A finding with a fixed, obviously fake secret.
    pub(crate) fn finding(path: &str, line: usize) -> Finding {
        in_origin(Origin::File(path.into()), line)
    }

    /// The finding in an archive member inside the file `archive`.
    pub(crate) fn finding_in_member(archive: &str, member: &str, line: usize) -> Finding {
        let provenance = Provenance { origin: Origin::File(archive.into()), members: vec![member.into()] };
        Finding { path: provenance.display(), provenance, ..finding(archive, line) }
    }

    /// The finding at `origin`.
    fn in_origin(origin: Origin, line: usize) -> Finding {
        let provenance = Provenance::new(origin);
        Finding {
            rule_id: "openai-api-key".into(),
            description: "OpenAI API key".into(),
            severity: Severity::Critical,
            confidence: Confidence::High,
            path: provenance.display(),
            provenance,
            position: Position { line, column: 5, end_line: line, end_column: 61 },
            secret: "sk-proj-FAKEfakeFAKEfakeFAKEfake0000FAKEfakeFAKEfakeFAKEzz9Q".into(),
            prefix_len: 8,
            fingerprint: "openai-api-key:0123456789abcdef".into(),
            commit: None,
            structure: Some(0.5),
            occurrences: None,
            decoded: None,
            context: Some("OPENAI_API_KEY=sk-proj-…zz9Q".into()),
        }
    }

    /// An outcome of one finding, and its key's verification, in `state`.
    pub(crate) fn verified_outcome(state: State) -> (ScanOutcome, Verifications) {
        let finding = finding("a.py", 3);
        let verification =
            Verification { state, provider: Some("openai"), detail: "HTTP 429 insufficient_quota".into() };
        let verifications = [(finding.fingerprint.clone(), verification)].into_iter().collect();
        (ScanOutcome { findings: vec![finding], ..ScanOutcome::default() }, verifications)
    }

    /// The finding in a blob at `path`, attributed to the commit that introduced it.
    pub(crate) fn finding_in_commit(path: &str, line: usize) -> Finding {
        let origin = Origin::Blob { path: path.into(), blob: git2::Oid::zero(), commit: git2::Oid::zero() };
        attributed(in_origin(origin, line))
    }

    /// The finding in the message of annotated tag `name`, attributed to it.
    pub(crate) fn finding_in_tag_message(name: &str, line: usize) -> Finding {
        attributed(in_origin(Origin::TagMessage { name: name.into(), tag: git2::Oid::zero() }, line))
    }

    /// The finding in a commit's message, attributed to the commit.
    pub(crate) fn finding_in_commit_message(line: usize) -> Finding {
        attributed(in_origin(Origin::CommitMessage { commit: git2::Oid::zero() }, line))
    }

    /// `finding` attributed to a commit.
    fn attributed(mut finding: Finding) -> Finding {
        finding.commit = Some(Arc::new(CommitInfo {
            id: "0123456789abcdef0123456789abcdef01234567".into(),
            author: "Ada".into(),
            email: "ada@example.com".into(),
            date: "2024-05-01T12:00:00+00:00".into(),
            summary: "add client".into(),
        }));
        finding
    }
}
