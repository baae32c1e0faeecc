//! The commits a history scan covers: those reachable from some tips and not from others,
//! ordered parents first (older first among unrelated ones). Unlike libgit2's revwalk, a
//! commit that cannot be read does not end the walk: it is named, and the rest is walked.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap, HashSet};

use git2::{Oid, Repository};

use crate::error::Plain;

/// A commit's place in the graph.
struct Node {
    /// Committer time, seconds since the epoch.
    time: i64,
    parents: Vec<Oid>,
}

/// Commits reachable from `tips` and not from `hidden`, parents before children. Commits
/// that cannot be read are named in `errors`; history reached only through them is not
/// listed.
pub(super) fn between(repo: &Repository, tips: &[Oid], hidden: &[Oid], errors: &mut Vec<String>) -> Vec<Oid> {
    let excluded: HashSet<Oid> = ancestors(repo, hidden, &HashSet::new(), errors).into_keys().collect();
    oldest_first(&ancestors(repo, tips, &excluded, errors))
}

/// `tips` and their ancestors, leaving out `excluded` and what lies only behind it.
fn ancestors(repo: &Repository, tips: &[Oid], excluded: &HashSet<Oid>, errors: &mut Vec<String>) -> HashMap<Oid, Node> {
    let mut graph = HashMap::new();
    let mut unreadable = HashSet::new();
    let mut stack = tips.to_vec();
    while let Some(id) = stack.pop() {
        if excluded.contains(&id) || graph.contains_key(&id) || unreadable.contains(&id) {
            continue;
        }
        match repo.find_commit(id) {
            Ok(commit) => {
                let parents: Vec<Oid> = commit.parent_ids().collect();
                stack.extend(&parents);
                graph.insert(id, Node { time: commit.time().seconds(), parents });
            }
            Err(e) => {
                unreadable.insert(id);
                errors.push(format!("commit {id}: {}; history reached only through it was not scanned", Plain(&e)));
            }
        }
    }
    graph
}

/// Kahn's topological sort, taking the oldest ready commit first.
fn oldest_first(graph: &HashMap<Oid, Node>) -> Vec<Oid> {
    let mut waiting: HashMap<Oid, usize> = HashMap::new();
    let mut children: HashMap<Oid, Vec<Oid>> = HashMap::new();
    let mut ready = BinaryHeap::new();
    for (&id, node) in graph {
        let inside: Vec<Oid> = node.parents.iter().copied().filter(|parent| graph.contains_key(parent)).collect();
        for &parent in &inside {
            children.entry(parent).or_default().push(id);
        }
        if inside.is_empty() {
            ready.push(Reverse((node.time, id)));
        } else {
            waiting.insert(id, inside.len());
        }
    }
    let mut order = Vec::with_capacity(graph.len());
    while let Some(Reverse((_, id))) = ready.pop() {
        order.push(id);
        for child in children.get(&id).into_iter().flatten() {
            let left = waiting.get_mut(child).expect("a child with parents in the graph waits for them");
            *left -= 1;
            if *left == 0 {
                ready.push(Reverse((graph[child].time, *child)));
            }
        }
    }
    order
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(n: u8) -> Oid {
        Oid::from_bytes(&[n; 20]).unwrap()
    }

    #[test]
    fn parents_come_first_then_older_commits() {
        // 1 ← 2 ← 4 (merge of 2 and 3), 3 is a root newer than 4's other parent, and 5 is a
        // child of 1 that is older than everything but its parent.
        let node = |time, parents: &[u8]| Node { time, parents: parents.iter().map(|&p| id(p)).collect() };
        let graph: HashMap<Oid, Node> = [
            (id(1), node(100, &[])),
            (id(2), node(300, &[1])),
            (id(3), node(200, &[])),
            (id(4), node(50, &[2, 3])),
            (id(5), node(150, &[1])),
        ]
        .into_iter()
        .collect();
        assert_eq!(oldest_first(&graph), [id(1), id(5), id(3), id(2), id(4)]);
    }
}
