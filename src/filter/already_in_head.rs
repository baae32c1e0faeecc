//! Filter 5, `keyhound staged`'s own: a secret `HEAD` already holds in a file the commit
//! touches is not leaked anew by the commit ([`DropReason::AlreadyInHead`]: a warning lists
//! it, and `--strict` blocks on it instead). It runs last, on what the other filters kept, as
//! the command reads `HEAD`'s blobs only when findings are left to compare with them.

use std::collections::HashSet;

use super::DropReason;
use crate::finding::Finding;

/// The secrets `HEAD` holds in the files the commit replaces, by fingerprint.
#[derive(Debug, Default)]
pub(crate) struct AlreadyInHead {
    fingerprints: HashSet<String>,
}

impl AlreadyInHead {
    /// The secrets of `held`: what scanning `HEAD`'s blobs found.
    pub(crate) fn new(held: Vec<Finding>) -> Self {
        AlreadyInHead { fingerprints: held.into_iter().map(|finding| finding.fingerprint).collect() }
    }

    /// Why this finding is not new, if `HEAD` holds its secret.
    pub(crate) fn drop_reason(&self, finding: &Finding) -> Option<DropReason> {
        self.fingerprints.contains(&finding.fingerprint).then_some(DropReason::AlreadyInHead)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::filter::tests::finding;

    #[test]
    fn a_secret_is_known_by_its_fingerprint_wherever_head_holds_it() {
        let head = AlreadyInHead::new(vec![finding("old/path.env", "tok_old")]);
        assert_eq!(head.drop_reason(&finding("new/path.env", "tok_old")), Some(DropReason::AlreadyInHead));
        assert_eq!(head.drop_reason(&finding("old/path.env", "tok_new")), None);
        assert_eq!(AlreadyInHead::default().drop_reason(&finding("a", "tok_old")), None);
    }
}
