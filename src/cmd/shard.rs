//! `--shard I/N`: which share of a repository list this process audits. A repository belongs
//! to shard `hash(name) mod N`, so N processes anywhere, given the same list, split it with no
//! overlap and no gap, whatever order the list is in. `auto` reads a Kubernetes Indexed Job's
//! `JOB_COMPLETION_INDEX`, and the count from `--shard-count` or `JOB_COMPLETIONS`.

use sha2::{Digest, Sha256};

use crate::error::{Error, Result};

/// One share of N.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Shard {
    /// This share, from 0.
    pub index: u32,
    /// How many shares.
    pub count: u32,
}

impl Shard {
    /// Reads `I/N`, or `auto` from `env` (the process environment in use) and `count`.
    pub(crate) fn parse(text: &str, count: Option<u32>, env: impl Fn(&str) -> Option<String>) -> Result<Self> {
        let (index, count) = if text == "auto" {
            let index = env("JOB_COMPLETION_INDEX")
                .ok_or_else(|| usage("--shard auto needs JOB_COMPLETION_INDEX (a Kubernetes Indexed Job sets it)"))?;
            let count = match count {
                Some(count) => count.to_string(),
                None => env("JOB_COMPLETIONS")
                    .ok_or_else(|| usage("--shard auto needs --shard-count N or JOB_COMPLETIONS"))?,
            };
            (index, count)
        } else {
            let (index, count) = text.split_once('/').ok_or_else(|| usage("--shard takes I/N (0 ≤ I < N) or auto"))?;
            (index.to_string(), count.to_string())
        };
        let number =
            |text: &str| text.trim().parse::<u32>().map_err(|_| usage("--shard takes I/N (0 ≤ I < N) or auto"));
        let shard = Shard { index: number(&index)?, count: number(&count)? };
        if shard.index >= shard.count {
            return Err(usage("--shard I/N needs 0 ≤ I < N"));
        }
        Ok(shard)
    }

    /// Whether the repository named `name` (its path or URL as listed) is this shard's.
    pub(crate) fn owns(&self, name: &str) -> bool {
        let digest = Sha256::digest(name.as_bytes());
        let hash = u64::from_be_bytes(digest[..8].try_into().expect("a SHA-256 digest has 8 bytes to spare"));
        hash % u64::from(self.count) == u64::from(self.index)
    }
}

fn usage(message: &str) -> Error {
    Error::Usage(message.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn no_env(_: &str) -> Option<String> {
        None
    }

    #[test]
    fn shards_split_a_list_with_no_overlap_and_no_gap() {
        let names: Vec<String> = (0..200).map(|i| format!("https://example.com/org/repo-{i}.git")).collect();
        let shards: Vec<Shard> = (0..4).map(|i| Shard::parse(&format!("{i}/4"), None, no_env).unwrap()).collect();
        let mut sizes = [0; 4];
        for name in &names {
            let owners: Vec<usize> = (0..4).filter(|&i| shards[i].owns(name)).collect();
            assert_eq!(owners.len(), 1, "{name}");
            sizes[owners[0]] += 1;
        }
        assert!(sizes.iter().all(|&size| size > 20), "{sizes:?}");
        assert!(Shard::parse("0/1", None, no_env).unwrap().owns("anything"));
    }

    #[test]
    fn auto_reads_the_indexed_jobs_environment() {
        let env = |name: &str| match name {
            "JOB_COMPLETION_INDEX" => Some("2".to_string()),
            "JOB_COMPLETIONS" => Some("5".to_string()),
            _ => None,
        };
        assert_eq!(Shard::parse("auto", None, env).unwrap(), Shard { index: 2, count: 5 });
        assert_eq!(Shard::parse("auto", Some(3), env).unwrap(), Shard { index: 2, count: 3 });
        assert!(Shard::parse("auto", Some(3), no_env).is_err());
        assert!(Shard::parse("auto", None, |name| (name == "JOB_COMPLETION_INDEX").then(|| "0".into())).is_err());
    }

    #[test]
    fn malformed_shards_are_refused() {
        for bad in ["1", "4/4", "a/2", "1/0", "-1/2", ""] {
            assert!(Shard::parse(bad, None, no_env).is_err(), "{bad}");
        }
    }
}
