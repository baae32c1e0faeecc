//! `keyhound history --pre-push`: what the pre-push hook adds to a blocked push's report, the
//! way out. It names the commits that added the keys and says how to rewrite them (see
//! [`blocked::push_lines`]), which takes where the pushed branch ends and which commits are
//! roots, read from the repository.

use std::io;

use git2::{Oid, Repository};

use crate::finding::Finding;
use crate::report::blocked::{self, Culprit, Rewrite};

/// Writes the way out of a blocked push of `range` (the hook's `A..B` or `B`) to standard
/// error, after the report of its `findings`.
pub(crate) fn explain(repo: &Repository, range: &str, findings: &[Finding]) {
    let Some(rewrite) = rewrite(repo, range, findings) else { return };
    let mut stderr = io::stderr().lock();
    for line in blocked::push_lines(findings, &rewrite) {
        // Nothing useful can be done if standard error is closed.
        let _ = super::say(&mut stderr, &line);
    }
}

/// The commits to rewrite and where the pushed branch ends; `None` when the range names no
/// commit (the scan would have failed first).
fn rewrite(repo: &Repository, range: &str, findings: &[Finding]) -> Option<Rewrite> {
    let spec = repo.revparse(range).ok()?;
    let tip = spec.to().or(spec.from())?.peel_to_commit().ok()?.id();
    let head = repo.head().ok().and_then(|head| head.peel_to_commit().ok()).map(|commit| commit.id());
    let mut culprits = culprits(repo, findings);
    // Oldest first: a commit that descends from another comes after it.
    culprits.sort_by(|(a, _), (b, _)| match (repo.graph_descendant_of(*a, *b), repo.graph_descendant_of(*b, *a)) {
        (Ok(true), _) => std::cmp::Ordering::Greater,
        (_, Ok(true)) => std::cmp::Ordering::Less,
        _ => std::cmp::Ordering::Equal,
    });
    Some(Rewrite {
        culprits: culprits.into_iter().map(|(_, culprit)| culprit).collect(),
        tip: tip.to_string(),
        head_is_tip: head == Some(tip),
    })
}

/// Each commit the findings are attributed to, once, with the paths of its findings.
fn culprits(repo: &Repository, findings: &[Finding]) -> Vec<(Oid, Culprit)> {
    let mut culprits: Vec<(Oid, Culprit)> = Vec::new();
    for finding in findings {
        let Some(commit) = &finding.commit else { continue };
        let Ok(oid) = Oid::from_str(&commit.id) else { continue };
        match culprits.iter_mut().find(|(seen, _)| *seen == oid) {
            Some((_, culprit)) if culprit.paths.contains(&finding.path) => {}
            Some((_, culprit)) => culprit.paths.push(finding.path.clone()),
            None => {
                let root = repo.find_commit(oid).is_ok_and(|found| found.parent_count() == 0);
                let culprit = Culprit {
                    id: commit.id.clone(),
                    summary: commit.summary.clone(),
                    paths: vec![finding.path.clone()],
                    root,
                };
                culprits.push((oid, culprit));
            }
        }
    }
    culprits
}
