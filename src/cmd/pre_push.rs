//! `keyhound history --pre-push`: what the pre-push hook adds to a blocked push's report, the
//! way out. It names the commits that added the keys and says how to rewrite them (see
//! [`blocked::push_lines`]), which takes where the pushed branch ends and which commits are
//! roots, read from the repository.

use std::collections::HashMap;
use std::io;

use git2::{Oid, Repository, Sort};

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
    // Oldest first: a commit that descends from another comes after it. The rank is a
    // position in one topological walk, a total order (comparing pairs by ancestry is not:
    // unrelated commits would be "equal" to both ends of a chain).
    let order = topological_order(repo, range, tip);
    culprits.sort_by_key(|(id, _)| (order.get(id).copied().unwrap_or(usize::MAX), *id));
    Some(Rewrite {
        culprits: culprits.into_iter().map(|(_, culprit)| culprit).collect(),
        tip: tip.to_string(),
        head_is_tip: head == Some(tip),
    })
}

/// The position of each commit of `range` (ending at `tip`) in a walk that lists parents
/// before children; empty if the walk cannot be made.
fn topological_order(repo: &Repository, range: &str, tip: Oid) -> HashMap<Oid, usize> {
    let walk = || -> Result<HashMap<Oid, usize>, git2::Error> {
        let mut walk = repo.revwalk()?;
        if range.contains("..") {
            walk.push_range(range)?;
        } else {
            walk.push(tip)?;
        }
        walk.set_sorting(Sort::TOPOLOGICAL | Sort::REVERSE)?;
        walk.enumerate().map(|(place, id)| id.map(|id| (id, place))).collect()
    };
    walk().unwrap_or_default()
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

#[cfg(test)]
mod tests {
    use super::*;

    /// A commit of one file on `parents`, at HEAD.
    fn commit(repo: &Repository, name: &str, parents: &[Oid]) -> Oid {
        let mut builder = repo.treebuilder(None).unwrap();
        builder.insert(name, repo.blob(name.as_bytes()).unwrap(), 0o100644).unwrap();
        let tree = repo.find_tree(builder.write().unwrap()).unwrap();
        let parents: Vec<git2::Commit> = parents.iter().map(|id| repo.find_commit(*id).unwrap()).collect();
        let parents: Vec<&git2::Commit> = parents.iter().collect();
        let signature = git2::Signature::new("T", "t@example.com", &git2::Time::new(1_714_564_800, 0)).unwrap();
        repo.commit(Some("HEAD"), &signature, &signature, name, &tree, &parents).unwrap()
    }

    #[test]
    fn parents_rank_before_children_and_a_range_holds_only_its_commits() {
        let dir = tempfile::tempdir().unwrap();
        let repo = Repository::init(dir.path()).unwrap();
        let first = commit(&repo, "a", &[]);
        let second = commit(&repo, "b", &[first]);
        let third = commit(&repo, "c", &[second]);
        let whole = topological_order(&repo, &third.to_string(), third);
        assert!(whole[&first] < whole[&second] && whole[&second] < whole[&third]);
        let range = topological_order(&repo, &format!("{first}..{third}"), third);
        assert!(!range.contains_key(&first) && range[&second] < range[&third]);
    }
}
