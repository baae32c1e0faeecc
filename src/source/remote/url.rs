//! Which command-line arguments are remote repositories, and how they are shown: a URL's
//! userinfo (`https://user:token@host/…`) is a credential, so everything keyhound prints about a
//! remote goes through [`redact`] first, git's own error text included.

use crate::error::{Error, Result};

/// The URL schemes keyhound clones from: the four transports the clone allows (see the
/// parent module); any other `scheme://` is refused before git is run.
const SCHEMES: [&str; 4] = ["https", "ssh", "git", "file"];

/// What [`redact`] puts where a URL's userinfo was.
const HIDDEN: &str = "***";

/// A remote repository to clone, as the user named it.
#[derive(Clone, PartialEq, Eq)]
pub struct RemoteUrl {
    /// As given: passed to git, never printed.
    raw: String,
    /// As printed: userinfo redacted.
    shown: String,
}

impl std::fmt::Debug for RemoteUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("RemoteUrl").field(&self.shown).finish()
    }
}

impl std::fmt::Display for RemoteUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.shown)
    }
}

impl RemoteUrl {
    /// Classifies a repository argument: `Ok(None)` for a local path, a URL for
    /// `https://`, `ssh://`, `git://`, `file://` and scp-like `[user@]host:path` (when no local
    /// path of that name exists, as git decides too), an error for anything else that looks
    /// like a URL: another scheme, a `transport::address` helper (`ext::`, `fd::`), or an
    /// argument starting with `-` that git could take for an option.
    pub fn classify(arg: &str) -> Result<Option<RemoteUrl>> {
        if arg.starts_with('-') {
            return Err(Error::Usage(format!("refusing the repository {:?}: it starts with '-'", redact(arg))));
        }
        if let Some((scheme, _)) = arg.split_once("://") {
            if !SCHEMES.contains(&scheme.to_ascii_lowercase().as_str()) {
                let allowed = SCHEMES.join(", ");
                return Err(Error::Usage(format!("unsupported URL scheme {scheme:?} (keyhound clones {allowed})")));
            }
            // git refuses such a host too (`ssh -oProxyCommand=…`); refused here, it never runs.
            if userinfo_and_host(arg).1.starts_with('-') {
                return Err(Error::Usage(format!("refusing {:?}: its host starts with '-'", redact(arg))));
            }
            return Ok(Some(RemoteUrl::new(arg)));
        }
        let Some((before, _)) = arg.split_once(':') else { return Ok(None) };
        if before.contains('/') || std::path::Path::new(arg).exists() {
            return Ok(None);
        }
        if arg.contains("::") {
            return Err(Error::Usage(format!("refusing {:?}: git transport helpers are not allowed", redact(arg))));
        }
        // `C:\dir` is a Windows drive, not a host called C.
        let host = before.rsplit('@').next().unwrap_or(before);
        if before.is_empty() || host.len() == 1 || host.starts_with('-') {
            return Ok(None);
        }
        Ok(Some(RemoteUrl::new(arg)))
    }

    fn new(raw: &str) -> Self {
        RemoteUrl { raw: raw.to_string(), shown: redact(raw) }
    }

    /// The URL as given, with any credentials in it: for git's argv only.
    pub(super) fn raw(&self) -> &str {
        &self.raw
    }

    /// The URL as printed: userinfo replaced by `***`.
    pub fn shown(&self) -> &str {
        &self.shown
    }

    /// `text` (git's stderr) with this URL's userinfo, and that of every URL in it, redacted.
    pub(super) fn redact_in(&self, text: &str) -> String {
        let mut text = redact(text);
        // git may quote the credentials apart from the URL: the whole userinfo, or the password.
        if let (Some(userinfo), _) = userinfo_and_host(&self.raw) {
            let password = userinfo.split_once(':').map(|(_, password)| password);
            for secret in [Some(userinfo), password].into_iter().flatten().filter(|s| !s.is_empty()) {
                text = text.replace(secret, HIDDEN);
            }
        }
        text
    }
}

/// The userinfo (if any) and the rest of the authority of a `scheme://userinfo@host/…` URL.
fn userinfo_and_host(url: &str) -> (Option<&str>, &str) {
    let rest = url.split_once("://").map_or("", |(_, rest)| rest);
    let authority = &rest[..rest.find(['/', '?', '#']).unwrap_or(rest.len())];
    match authority.rfind('@') {
        Some(at) => (Some(&authority[..at]), &authority[at + 1..]),
        None => (None, authority),
    }
}

/// `text` with the userinfo of every `scheme://userinfo@host` in it replaced by `***`.
pub fn redact(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find("://") {
        let (head, tail) = rest.split_at(at + 3);
        out.push_str(head);
        let end = tail.find(|c: char| matches!(c, '/' | '?' | '#' | '\'' | '"' | '`') || c.is_whitespace());
        let authority = &tail[..end.unwrap_or(tail.len())];
        match authority.rfind('@') {
            Some(at) => {
                out.push_str(HIDDEN);
                out.push_str(&authority[at..]);
            }
            None => out.push_str(authority),
        }
        rest = &tail[authority.len()..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kind(arg: &str) -> Option<String> {
        RemoteUrl::classify(arg).unwrap().map(|url| url.shown().to_string())
    }

    #[test]
    fn urls_and_scp_like_addresses_are_remote_and_paths_are_not() {
        assert_eq!(kind("https://github.com/o/r.git").as_deref(), Some("https://github.com/o/r.git"));
        assert_eq!(kind("ssh://git@host:22/r").as_deref(), Some("ssh://***@host:22/r"));
        assert_eq!(kind("git://127.0.0.1:9418/r").as_deref(), Some("git://127.0.0.1:9418/r"));
        assert_eq!(kind("file:///srv/r.git").as_deref(), Some("file:///srv/r.git"));
        assert_eq!(kind("git@github.com:o/r.git").as_deref(), Some("git@github.com:o/r.git"));
        assert_eq!(kind("host.example:r.git").as_deref(), Some("host.example:r.git"));
        for path in [".", "repo", "dir/a:b", "./x:y", "C:\\repo", "/srv/r.git"] {
            assert_eq!(kind(path), None, "{path}");
        }
    }

    #[test]
    fn other_schemes_helpers_and_options_are_refused() {
        for arg in [
            "http://host/r",
            "ext::sh -c touch% /tmp/x",
            "fd::3",
            "-uhelp",
            "--upload-pack=x",
            "ftp://h/r",
            "ssh://-oProxyCommand=x/r",
            "ssh://u@-x/r",
        ] {
            assert!(RemoteUrl::classify(arg).is_err(), "{arg}");
        }
        let message = RemoteUrl::classify("-https://u:tok@h/r").unwrap_err().to_string();
        assert!(!message.contains("tok"), "{message}");
    }

    #[test]
    fn userinfo_is_redacted_in_urls_and_in_text_about_them() {
        assert_eq!(redact("https://user:ghp_token@host/r.git"), "https://***@host/r.git");
        assert_eq!(redact("https://tok@host"), "https://***@host");
        assert_eq!(redact("see 'https://a:b@h:1/x/' and https://h/y@z"), "see 'https://***@h:1/x/' and https://h/y@z");
        let url = RemoteUrl::classify("https://user:s3cr%40t@127.0.0.1:1/r").unwrap().unwrap();
        assert_eq!(url.to_string(), "https://***@127.0.0.1:1/r");
        assert!(!format!("{url:?}").contains("s3cr"));
        assert_eq!(url.redact_in("fatal: user:s3cr%40t rejected"), "fatal: *** rejected");
        assert_eq!(url.redact_in("password s3cr%40t rejected"), "password *** rejected");
    }
}
