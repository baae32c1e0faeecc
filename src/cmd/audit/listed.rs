//! The repositories `keyhound audit` is given: listed one a line (`--repos FILE`, `-` for
//! standard input) or found under a directory, each a local path or a URL to clone.

use std::io::Read;
use std::path::{Path, PathBuf};

use crate::cli::AuditArgs;
use crate::cmd::history::Target;
use crate::error::{Error, Result};
use crate::escape::Visible;
use crate::source::remote::RemoteUrl;

/// A repository to audit, as listed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Listed {
    /// A repository on this machine.
    Local(PathBuf),
    /// A URL (or `user@host:path`) to clone.
    Remote(String),
}

/// The repositories `--repos` lists or DIR holds, each with the name shards are chosen by.
pub(super) fn listed(args: &AuditArgs) -> Result<Vec<(String, Listed)>> {
    let targets = match (&args.repos, &args.dir) {
        (Some(list), _) => parse_list(&read_list(list)?),
        (None, Some(dir)) => {
            find_repositories(dir)?.into_iter().map(|path| (path.display().to_string(), Listed::Local(path))).collect()
        }
        (None, None) => Vec::new(),
    };
    Ok(targets)
}

/// The list file's text (`-`: standard input).
fn read_list(list: &Path) -> Result<String> {
    let mut text = String::new();
    let read = if list == Path::new("-") {
        std::io::stdin().read_to_string(&mut text).map(drop)
    } else {
        std::fs::read_to_string(list).map(|read| text = read)
    };
    read.map_err(|source| Error::Path { path: list.to_path_buf(), source })?;
    Ok(text)
}

/// One path or URL a line; blank lines and `#` comments left out; each listed once.
fn parse_list(text: &str) -> Vec<(String, Listed)> {
    let mut seen = std::collections::HashSet::new();
    text.lines()
        .map(|line| line.split_once('#').map_or(line, |(before, _)| before).trim())
        .filter(|entry| !entry.is_empty() && seen.insert(entry.to_string()))
        .map(|entry| (entry.to_string(), classify(entry)))
        .collect()
}

/// A URL has a scheme (`https://`) or is scp-like (`git@host:org/repo`) and names no local path.
fn classify(entry: &str) -> Listed {
    let scp_like = entry.split_once(':').is_some_and(|(host, _)| host.contains('@') && !host.contains('/'));
    if entry.contains("://") || (scp_like && !Path::new(entry).exists()) {
        Listed::Remote(entry.to_string())
    } else {
        Listed::Local(PathBuf::from(entry))
    }
}

/// Every git repository under `dir` (a `.git` directory or a bare repository), in name order,
/// not looking inside one found nor following symbolic links.
fn find_repositories(dir: &Path) -> Result<Vec<PathBuf>> {
    let failed = |source| Error::Path { path: dir.to_path_buf(), source };
    let mut found = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    std::fs::metadata(dir).map_err(failed)?;
    while let Some(current) = pending.pop() {
        if is_repository(&current) {
            found.push(current);
            continue;
        }
        let Ok(entries) = std::fs::read_dir(&current) else { continue };
        for entry in entries.flatten() {
            if entry.file_type().is_ok_and(|kind| kind.is_dir()) {
                pending.push(entry.path());
            }
        }
    }
    found.sort();
    Ok(found)
}

fn is_repository(dir: &Path) -> bool {
    let is_dir = |path: PathBuf| std::fs::symlink_metadata(path).is_ok_and(|meta| meta.is_dir());
    is_dir(dir.join(".git")) || (dir.join("HEAD").is_file() && is_dir(dir.join("objects")) && is_dir(dir.join("refs")))
}

/// A listed repository, opened if local; a remote one must be a URL.
pub(super) fn located(target: &Listed) -> Result<Target> {
    match target {
        Listed::Local(path) => Target::of(Some(path), false),
        Listed::Remote(url) => match RemoteUrl::classify(url)? {
            Some(remote) => Ok(Target::Remote(remote)),
            None => Err(Error::Usage(format!("{}: not a repository URL", Visible(url)))),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_list_holds_paths_and_urls_without_comments_blanks_or_repeats() {
        let text = "# fleet\n/srv/a\n\n  https://example.com/o/r.git  # main\ngit@example.com:o/s.git\n/srv/a\n";
        let listed = parse_list(text);
        let targets: Vec<&Listed> = listed.iter().map(|(_, target)| target).collect();
        assert_eq!(
            targets,
            [
                &Listed::Local("/srv/a".into()),
                &Listed::Remote("https://example.com/o/r.git".into()),
                &Listed::Remote("git@example.com:o/s.git".into()),
            ]
        );
    }

    #[cfg(unix)]
    #[test]
    fn repositories_are_found_under_a_directory_without_following_links() {
        let dir = tempfile::tempdir().unwrap();
        for repo in ["a", "org/b", "org/b/nested"] {
            git2::Repository::init(dir.path().join(repo)).unwrap();
        }
        git2::Repository::init_bare(dir.path().join("c.git")).unwrap();
        let outside = tempfile::tempdir().unwrap();
        git2::Repository::init(outside.path().join("x")).unwrap();
        std::os::unix::fs::symlink(outside.path(), dir.path().join("link")).unwrap();
        let found: Vec<PathBuf> = find_repositories(dir.path())
            .unwrap()
            .into_iter()
            .map(|path| path.strip_prefix(dir.path()).unwrap().to_path_buf())
            .collect();
        assert_eq!(found, [PathBuf::from("a"), "c.git".into(), "org/b".into()]);
    }
}
