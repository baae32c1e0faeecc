//! What a history scan says about itself: what it covered (commits, messages, tags, one
//! path, what no ref reaches), what it did not follow (submodules), and what it could not read.

use super::{Enumeration, Plan, Selection};
use crate::source::SourceStats;
use crate::wording::count;

/// A finished enumeration, and what it was of.
#[derive(Debug)]
pub struct Summary<'a> {
    /// The plan walked.
    pub plan: &'a Plan,
    /// The selection it was made from.
    pub selection: &'a Selection,
    /// What the walk saw.
    pub enumeration: Enumeration,
}

impl Summary<'_> {
    /// The warnings, notes and errors of the plan and the walk (the driver counts what was
    /// scanned, skipped and unreadable).
    pub fn stats(self) -> SourceStats {
        let Summary { plan, selection, enumeration } = self;
        let mut warnings = plan.warnings.clone();
        let mut notes = Vec::new();
        match &selection.range {
            None if plan.commits.is_empty() => warnings.push("the repository has no commits: nothing to scan".into()),
            Some(range) if plan.commits.is_empty() => notes.push(format!("the range {range} holds no commits")),
            _ if selection.path.is_some() => notes.push(format!(
                "scanned the history of {} only (as `git log -- PATH` shows it): {} changed it",
                selection.path.as_deref().unwrap_or_default(),
                count(enumeration.commit_messages, "commit", "commits")
            )),
            _ => notes.push(format!(
                "scanned {}: their distinct blobs, {} and {}",
                count(plan.commits.len(), "commit", "commits"),
                count(enumeration.commit_messages, "commit message", "commit messages"),
                count(enumeration.tag_messages, "annotated tag message", "annotated tag messages")
            )),
        }
        if plan.unreachable {
            notes.push(format!(
                "also scanned {}, {} and {} no ref reaches (reported as unreachable)",
                count(enumeration.unreachable_blobs, "blob", "blobs"),
                count(enumeration.unreachable_commit_messages, "commit message", "commit messages"),
                count(enumeration.unreachable_tag_messages, "annotated tag message", "annotated tag messages")
            ));
        }
        if enumeration.gitlinks > 0 {
            notes.push(format!(
                "{} (gitlinks) not followed; scan submodules as repositories of their own",
                count(enumeration.gitlinks, "submodule commit", "submodule commits")
            ));
        }
        let errors = plan.errors.iter().cloned().chain(enumeration.errors).collect();
        SourceStats { errors, warnings, notes, ..SourceStats::default() }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stats(plan: &Plan, selection: &Selection, enumeration: Enumeration) -> SourceStats {
        Summary { plan, selection, enumeration }.stats()
    }

    #[test]
    fn a_whole_scan_counts_commits_messages_and_tags() {
        let plan = Plan { commits: vec![git2::Oid::zero(); 3], errors: vec!["ref x".into()], ..Plan::default() };
        let walked = Enumeration { commit_messages: 3, tag_messages: 1, gitlinks: 2, ..Enumeration::default() };
        let walked = Enumeration { errors: vec!["tree y".into()], ..walked };
        let stats = stats(&plan, &Selection::default(), walked);
        assert_eq!(
            stats.notes,
            [
                "scanned 3 commits: their distinct blobs, 3 commit messages and 1 annotated tag message",
                "2 submodule commits (gitlinks) not followed; scan submodules as repositories of their own",
            ]
        );
        assert_eq!(stats.errors, ["ref x", "tree y"], "the plan's errors first");
    }

    #[test]
    fn an_unreachable_scan_counts_the_blobs_and_messages_no_ref_reaches() {
        let plan = Plan { commits: vec![git2::Oid::zero()], unreachable: true, ..Plan::default() };
        let walked = Enumeration { commit_messages: 1, unreachable_blobs: 2, ..Enumeration::default() };
        let walked = Enumeration { unreachable_commit_messages: 1, unreachable_tag_messages: 3, ..walked };
        assert_eq!(
            stats(&plan, &Selection::default(), walked).notes[1],
            "also scanned 2 blobs, 1 commit message and 3 annotated tag messages no ref reaches (reported as unreachable)"
        );
    }

    #[test]
    fn an_empty_history_warns_and_an_empty_range_notes() {
        let empty = Plan::default();
        let whole = stats(&empty, &Selection::default(), Enumeration::default());
        assert_eq!(whole.warnings, ["the repository has no commits: nothing to scan"]);
        let range = Selection { range: Some("a..b".into()), ..Selection::default() };
        let ranged = stats(&empty, &range, Enumeration::default());
        assert!(ranged.warnings.is_empty());
        assert_eq!(ranged.notes, ["the range a..b holds no commits"]);
    }

    #[test]
    fn a_path_scan_names_the_path_and_the_commits_that_changed_it() {
        let plan = Plan { commits: vec![git2::Oid::zero()], ..Plan::default() };
        let selection = Selection { path: Some("app/.env".into()), ..Selection::default() };
        let walked = Enumeration { commit_messages: 1, ..Enumeration::default() };
        assert_eq!(
            stats(&plan, &selection, walked).notes,
            ["scanned the history of app/.env only (as `git log -- PATH` shows it): 1 commit changed it"]
        );
    }
}
