//! Limiting a history scan to one path, as `git log -- PATH` does: which path inside the
//! repository the user named, and the trees at that path in a commit's parents.

use std::path::Path;

use git2::{ObjectType, Repository, Tree};

use crate::error::{Error, Result};

/// The path inside `repo` that `given` (an existing path, as the user gave it) names, relative
/// to the work tree's root and `/`-separated; `None` when `given` is the root or the git
/// directory: the whole repository. A path inside the git directory, or one leading out of the
/// work tree through a symlink, names no part of history: a usage error.
pub fn path_within(repo: &Repository, given: &Path) -> Result<Option<String>> {
    let real = |path: &Path| std::fs::canonicalize(path).map_err(|source| Error::Path { path: path.into(), source });
    let target = real(given)?;
    let git_dir = real(repo.path())?;
    let root = match repo.workdir() {
        Some(root) => real(root)?,
        None => git_dir.clone(),
    };
    if target == root || target == git_dir {
        return Ok(None);
    }
    let refuse = |why: String| Err(Error::Usage(format!("{}: {why}", given.display())));
    let shown_root = root.display();
    if target.starts_with(&git_dir) {
        return refuse(format!("inside the git directory of the repository at {shown_root}; pass the repository"));
    }
    let Ok(relative) = target.strip_prefix(&root) else {
        return refuse(format!("leads out of the repository at {shown_root} (a symlink); pass a path inside it"));
    };
    let names: Option<Vec<&str>> = relative.components().map(|name| name.as_os_str().to_str()).collect();
    match names {
        Some(names) => Ok(Some(names.join("/"))),
        None => refuse("history can be limited only to a path that is valid UTF-8".into()),
    }
}

/// The trees at `path` in `trees` (those that have one there).
pub(super) fn subtrees<'r>(repo: &'r Repository, trees: &[Tree<'r>], path: &str) -> Vec<Tree<'r>> {
    let at = |tree: &Tree<'r>| {
        super::super::git::entry_at(repo, tree, path.as_bytes()).filter(|e| e.kind() == Some(ObjectType::Tree))
    };
    trees.iter().filter_map(at).filter_map(|entry| repo.find_tree(entry.id()).ok()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_root_and_the_git_directory_are_the_whole_repository_and_others_a_path() {
        let dir = tempfile::tempdir().unwrap();
        let repo = Repository::init(dir.path()).unwrap();
        std::fs::create_dir_all(dir.path().join("app/deep")).unwrap();
        std::fs::write(dir.path().join("app/deep/main.py"), "").unwrap();
        assert_eq!(path_within(&repo, dir.path()).unwrap(), None);
        assert_eq!(path_within(&repo, &dir.path().join(".git")).unwrap(), None);
        let file = path_within(&repo, &dir.path().join("app/deep/main.py")).unwrap();
        assert_eq!(file.as_deref(), Some("app/deep/main.py"));
        assert_eq!(path_within(&repo, &dir.path().join("app/../app")).unwrap().as_deref(), Some("app"));
        assert!(matches!(path_within(&repo, &dir.path().join(".git/objects")), Err(Error::Usage(_))));
    }
}
