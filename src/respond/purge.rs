//! Step 4, the purge plan: a `git filter-repo --replace-text` file with one literal
//! replacement per leaked secret, and the steps that rewrite history with it.
//!
//! The file holds the secrets whole, so it is written only where the user names it, with mode
//! 0600, atomically (a symlink there is replaced, not followed). Each line is
//! `literal:SECRET==>***REMOVED***`: filter-repo strips the `literal:` prefix and splits at
//! the last `==>`, so no secret can be read as a regex, a glob or a replacement. It has no
//! comment syntax, so the file holds nothing else.

use std::io::{self, Write};
use std::path::Path;

use crate::escape::Visible;
use crate::fsio::{self, Named};

/// What filter-repo writes in place of each secret.
const REPLACEMENT: &str = "***REMOVED***";

/// The file's lines for `secrets`, and how many secrets a line cannot hold (a line break in
/// one, as in a private key block).
pub(crate) fn content(secrets: &[&str]) -> (String, usize) {
    let mut text = String::new();
    let mut unwritable = 0;
    for secret in secrets {
        if secret.is_empty() || secret.contains(['\n', '\r']) {
            unwritable += 1;
        } else {
            text.push_str(&format!("literal:{secret}==>{REPLACEMENT}\n"));
        }
    }
    (text, unwritable)
}

/// Writes the file at `path` (mode 0600); how many secrets it could not hold.
pub(crate) fn write(path: &Path, secrets: &[&str]) -> io::Result<usize> {
    let (text, unwritable) = content(secrets);
    fsio::write_atomic(path, &Named::ByUser, 0o600, |out: &mut dyn Write| out.write_all(text.as_bytes()))?;
    Ok(unwritable)
}

/// The steps that purge history with the file at `path`.
pub(crate) fn steps(path: &Path) -> Vec<String> {
    let file = Visible(path.display());
    vec![
        "revocation is what protects you: anyone may already have copied the key, and purging history only tidies"
            .into(),
        format!("in a fresh mirror clone (git clone --mirror URL), run: git filter-repo --replace-text {file}"),
        "force-push every branch and tag: git push --force --mirror origin".into(),
        "ask the host to purge cached views and pull-request refs (GitHub Support; refs/pull/* cannot be pushed)"
            .into(),
        "everyone re-clones; no old clone is pushed or merged again".into(),
        format!("then delete {file}: it holds the secrets"),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_secret_is_one_literal_line_and_line_breaks_are_refused() {
        let (text, unwritable) = content(&["sk-proj-abc", "regex:.*", "a==>b", "-----BEGIN\nKEY"]);
        assert_eq!(
            text,
            "literal:sk-proj-abc==>***REMOVED***\nliteral:regex:.*==>***REMOVED***\nliteral:a==>b==>***REMOVED***\n"
        );
        assert_eq!(unwritable, 1);
    }

    #[cfg(unix)]
    #[test]
    fn the_file_is_private_and_replaces_a_symlink() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let victim = dir.path().join("victim");
        std::fs::write(&victim, "precious").unwrap();
        let path = dir.path().join("replacements.txt");
        std::os::unix::fs::symlink(&victim, &path).unwrap();
        assert_eq!(write(&path, &["ghp_x"]).unwrap(), 0);
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "literal:ghp_x==>***REMOVED***\n");
        assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
        assert_eq!(std::fs::read_to_string(&victim).unwrap(), "precious");
    }
}
