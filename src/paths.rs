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

/// Whether the file at `path` (`/`-separated) is, by its name, one that holds secrets and
/// belongs in `.gitignore` rather than in git: a dotenv file (`.env`, `.env.local`,
/// `prod.env`, `.envrc`; not a template such as `.env.example`) or a credentials file
/// (`credentials`, `credentials.json`, `.npmrc`, `.pypirc`, `.netrc`).
pub(crate) fn is_secrets_file(path: &str) -> bool {
    let name = path.rsplit(['/', '\\']).next().unwrap_or(path).to_ascii_lowercase();
    let template = ["example", "sample", "template", "dist", "defaults"].iter().any(|word| name.ends_with(word));
    let dotenv = name == ".env" || name.starts_with(".env.") || name.ends_with(".env") || name == ".envrc";
    let credentials = matches!(name.as_str(), "credentials" | "credentials.json" | ".npmrc" | ".pypirc" | ".netrc");
    (dotenv && !template) || credentials
}

/// `path` as a shell word: as it is when it is plainly safe, else single-quoted.
pub(crate) fn shell_quoted(path: &str) -> String {
    let plain = |b: u8| b.is_ascii_alphanumeric() || b"-_./+@%,".contains(&b);
    if !path.is_empty() && path.bytes().all(plain) {
        path.to_string()
    } else {
        format!("'{}'", path.replace('\'', r"'\''"))
    }
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

    #[test]
    fn secrets_files_are_told_by_name() {
        for yes in [".env", "app/.env", ".env.local", "deploy/prod.env", ".envrc", "home/.npmrc", "x/credentials"] {
            assert!(is_secrets_file(yes), "{yes}");
        }
        for no in [".env.example", "env.py", "config/.env.sample", "src/environment.rs", "a/credentials.py"] {
            assert!(!is_secrets_file(no), "{no}");
        }
    }
}
