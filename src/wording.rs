//! Words for counts in messages: `1 secret`, `2 secrets`, `1 entry`, `3 entries`.

/// `n` and the noun that agrees with it: `count(1, "entry", "entries")` is `1 entry`.
pub fn count(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", noun(n, one, many))
}

/// The noun that agrees with `n`: `one` for 1, else `many` (`0 files`).
pub fn noun<'w>(n: usize, one: &'w str, many: &'w str) -> &'w str {
    if n == 1 {
        one
    } else {
        many
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_is_singular_and_everything_else_plural() {
        assert_eq!(count(1, "entry", "entries"), "1 entry");
        assert_eq!(count(2, "entry", "entries"), "2 entries");
        assert_eq!(count(0, "file", "files"), "0 files");
        assert_eq!(noun(1, "has", "have"), "has");
    }
}
