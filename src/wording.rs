//! Words for counts in messages: `1 secret`, `2 secrets`, `1 entry`, `3 entries`.

use std::fmt::Display;

/// `n` and the noun that agrees with it: `count(1, "entry", "entries")` is `1 entry`.
pub(crate) fn count<N: Display + PartialEq + From<u8>>(n: N, one: &str, many: &str) -> String {
    let noun = if n == N::from(1) { one } else { many };
    format!("{n} {noun}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_is_singular_and_everything_else_plural() {
        assert_eq!(count(1usize, "entry", "entries"), "1 entry");
        assert_eq!(count(2u64, "entry", "entries"), "2 entries");
        assert_eq!(count(0u32, "file", "files"), "0 files");
    }
}
