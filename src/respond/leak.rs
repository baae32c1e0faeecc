//! The keys to respond to: findings grouped by secret, each with every place it was found
//! and the time it leaked — the introducing commit's date for a history finding; for a
//! working-tree finding in a repository, the date of the last commit touching its line (git
//! blame over the file as it is now), and unknown when that line is not committed.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use git2::{BlameOptions, Repository};
use serde::Serialize;

use super::usage::parse_rfc3339;
use crate::finding::Finding;
use crate::fsio::{self, Named};
use crate::rules::RuleSet;

/// A distinct leaked key.
#[derive(Debug, Clone)]
pub(crate) struct Leak {
    /// Its first finding (which holds the secret whole; never shown).
    pub finding: Finding,
    /// Every place it was found.
    pub places: Vec<FoundAt>,
    /// When it first leaked (Unix seconds), if known.
    pub leaked_at: Option<i64>,
    /// Its rule's remediation: the provider's page and steps.
    pub remediation: String,
}

/// One place a key was found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct FoundAt {
    /// The path (in the tree, or in the commit).
    pub path: String,
    /// The line.
    pub line: usize,
    /// The commit that introduced it (history findings).
    pub commit: Option<String>,
}

/// Groups `findings` by secret, in the order found; `blame` dates working-tree findings.
pub(crate) fn group(
    findings: &[Finding],
    rules: &RuleSet,
    blame: &mut dyn FnMut(&Finding) -> Option<i64>,
) -> Vec<Leak> {
    let mut order: Vec<Leak> = Vec::new();
    let mut index: HashMap<&str, usize> = HashMap::new();
    for finding in findings {
        let leaked_at = match &finding.commit {
            Some(commit) => parse_rfc3339(&commit.date),
            None => blame(finding),
        };
        let place = FoundAt {
            path: finding.path.clone(),
            line: finding.position.line,
            commit: finding.commit.as_ref().map(|commit| commit.id.clone()),
        };
        match index.get(finding.fingerprint.as_str()) {
            Some(&i) => {
                let leak = &mut order[i];
                leak.places.push(place);
                leak.leaked_at = earliest(leak.leaked_at, leaked_at);
            }
            None => {
                index.insert(&finding.fingerprint, order.len());
                let remediation = rules.find(&finding.rule_id).map(|rule| rule.spec.remediation.clone());
                order.push(Leak {
                    finding: finding.clone(),
                    places: vec![place],
                    leaked_at,
                    remediation: remediation.unwrap_or_default(),
                });
            }
        }
    }
    order
}

fn earliest(a: Option<i64>, b: Option<i64>) -> Option<i64> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        _ => a.or(b),
    }
}

/// Dates working-tree findings with git blame, in the repository holding `start`.
pub(crate) struct Blamer {
    repo: Option<(Repository, PathBuf)>,
    cwd: PathBuf,
}

impl Blamer {
    /// A blamer for the repository at or above `start`; without one, every date is unknown.
    pub(crate) fn new(start: &Path) -> Self {
        let repo = crate::source::git::open_repository(Some(start)).ok().and_then(|repo| {
            let root = repo.workdir().and_then(|dir| std::fs::canonicalize(dir).ok())?;
            Some((repo, root))
        });
        Blamer { repo, cwd: std::env::current_dir().unwrap_or_default() }
    }

    /// The author date of the last commit touching `finding`'s line, `None` when the line
    /// is not committed (or the file is not in the repository, or is inside an archive).
    pub(crate) fn date(&mut self, finding: &Finding) -> Option<i64> {
        let (repo, root) = self.repo.as_ref()?;
        if !finding.provenance.members.is_empty() {
            return None;
        }
        let path = std::fs::canonicalize(self.cwd.join(&finding.path)).ok()?;
        let relative = path.strip_prefix(root).ok()?;
        let current = fsio::read(&path, &Named::ByRepository { root: root.clone() }).ok()?;
        let blame = repo.blame_file(relative, Some(&mut BlameOptions::new())).ok()?;
        let blame = blame.blame_buffer(&current).ok()?;
        let hunk = blame.get_line(finding.position.line)?;
        let commit = repo.find_commit(hunk.final_commit_id()).ok()?;
        let seconds = commit.author().when().seconds();
        Some(seconds)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_earliest_known_date_wins() {
        assert_eq!(earliest(Some(5), Some(3)), Some(3));
        assert_eq!(earliest(None, Some(3)), Some(3));
        assert_eq!(earliest(Some(5), None), Some(5));
        assert_eq!(earliest(None, None), None);
    }
}
