//! Path helpers shared by sources, filters, configuration and reporters: how a path is shown,
//! written with `/`, and resolved lexically against a directory. Pure functions over paths
//! (the current directory aside): they read no file and follow no symbolic link, since the
//! paths they handle name what a scan read or a file records, and following links could only
//! move them elsewhere.

use std::path::{Component, Path, PathBuf};

/// A path as shown to users: `./src/a.py` → `src/a.py`; other paths as they are.
pub(crate) fn display_path(path: &Path) -> String {
    path.strip_prefix(".").unwrap_or(path).display().to_string()
}

/// A path with `/` separators: on Windows `\` becomes `/`; elsewhere `\` is an ordinary
/// file-name character and is kept.
pub(crate) fn forward_slashes(path: &str) -> String {
    if std::path::MAIN_SEPARATOR == '\\' {
        path.replace('\\', "/")
    } else {
        path.to_string()
    }
}

/// Removes `.` and resolves `..` lexically (the file may be gone, so no canonicalize).
pub(crate) fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for component in path.components() {
        match component {
            Component::CurDir => {}
            Component::ParentDir => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    out
}

/// The directory holding `file` (absolute and normalized): what the relative paths written
/// in a config, ignore or baseline file are anchored at.
pub(crate) fn directory_of(file: &Path) -> PathBuf {
    let absolute = std::env::current_dir().map(|cwd| cwd.join(file)).unwrap_or_else(|_| file.to_path_buf());
    normalize(&absolute).parent().map(Path::to_path_buf).unwrap_or_default()
}

/// `path` (absolute, or relative to the current directory) relative to `base`, if it is
/// below it.
pub(crate) fn relative_to(base: &Path, path: &Path) -> Option<PathBuf> {
    let absolute = if path.is_absolute() { path.to_path_buf() } else { std::env::current_dir().ok()?.join(path) };
    normalize(&absolute).strip_prefix(base).ok().map(Path::to_path_buf)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_paths_drop_a_leading_dot_only() {
        assert_eq!(display_path(Path::new("./src/a.py")), "src/a.py");
        assert_eq!(display_path(Path::new("src/./a.py")), "src/./a.py");
        assert_eq!(display_path(Path::new("/abs/a.py")), "/abs/a.py");
    }

    #[test]
    fn normalize_resolves_dots_lexically() {
        assert_eq!(normalize(Path::new("/a/./b/../c")), Path::new("/a/c"));
        assert_eq!(normalize(Path::new("a/../../b")), Path::new("b"));
    }

    #[test]
    fn relative_paths_are_anchored_at_the_current_directory() {
        let cwd = std::env::current_dir().unwrap();
        assert_eq!(directory_of(Path::new("conf/.keyhound.toml")), cwd.join("conf"));
        assert_eq!(relative_to(&cwd, Path::new("./src/../src/a.rs")), Some(PathBuf::from("src/a.rs")));
        assert_eq!(relative_to(&cwd.join("src"), Path::new("/elsewhere/a.rs")), None);
    }
}
