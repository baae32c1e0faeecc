//! Keywords sorted into buckets for a Teddy-style search over a window of leading bytes.
//!
//! The search looks up each of the [`WINDOW`] bytes starting at a position in a table of its
//! own ([`BucketedKeywords::tables`]), indexed by the byte's low seven bits, and ANDs the eight
//! results: bit `b` survives when every byte fits some keyword of bucket `b` at that offset,
//! in either ASCII case. Each survivor is a candidate that [`BucketedKeywords::confirm`] checks
//! against the bucket's keywords. Unlike Teddy's nibble masks, a table entry is one whole byte
//! (seven bits), so a bucket lets through only the bytes its keywords have there.
//!
//! What decides the speed is how often a bucket lets a position through that holds none of its
//! keywords, so keywords that look alike share a bucket (`ghp_`, `gho_`, `ghs_`): buckets are
//! formed by merging the pair whose merge adds the fewest expected candidates, with
//! probabilities from [`BYTE_FREQUENCY`].

/// Leading bytes of a keyword the tables check; longer keywords are confirmed whole.
pub(super) const WINDOW: usize = 8;

/// Buckets: the bits of a table entry.
pub(super) const BUCKETS: usize = 8;

/// Most keywords in one bucket: a candidate's keywords are picked out of a 64-bit mask.
const BUCKET_CAPACITY: usize = 64;

/// Most keywords bucketed at all. Past this, buckets let through so many positions that the
/// search loses its point (and setting buckets up, cubic in the keywords, starts to show). Any
/// nine buckets of at most this many keywords have two that fit into one, so the merging
/// always ends in [`BUCKETS`].
const MAX_KEYWORDS: usize = 128;

/// How often each byte value occurs in source trees, in parts per 65,536 (at least 1), bytes at
/// or above 0x80 counted as their low seven bits. Produced by `bench/byte-frequency.py` over
/// Python's standard library, a Python and .NET project (microsoft/autogen) and a Rust project
/// (sharkdp/bat), as `bench/README.md` shows.
#[rustfmt::skip]
const BYTE_FREQUENCY: [u16; 128] = [
    4535, 470, 276, 206, 181, 180, 111, 86, 215, 249, 1048, 112, 131, 110, 80, 107,
    132, 83, 68, 76, 108, 72, 59, 77, 109, 78, 58, 677, 70, 65, 55, 60,
    8164, 78, 689, 128, 117, 67, 151, 159, 418, 437, 126, 241, 467, 424, 656, 396,
    707, 671, 1288, 698, 694, 500, 357, 267, 763, 343, 455, 1134, 129, 341, 157, 86,
    78, 335, 187, 283, 213, 279, 189, 180, 207, 256, 138, 210, 209, 217, 225, 192,
    329, 212, 247, 279, 344, 164, 146, 168, 186, 143, 222, 793, 215, 189, 74, 527,
    108, 1759, 503, 1039, 1010, 2838, 642, 646, 639, 1516, 191, 294, 1111, 1307, 1598, 1536,
    960, 194, 1714, 1735, 2200, 764, 306, 318, 352, 450, 217, 142, 249, 171, 44, 94,
];

/// Keywords in buckets, with the tables that find their candidates and what confirms them.
#[derive(Debug)]
pub(super) struct BucketedKeywords {
    /// For each offset in the window, the buckets each (seven-bit) byte value fits there.
    tables: [[u8; 128]; WINDOW],
    /// The keyword indices in each bucket.
    buckets: Vec<Vec<usize>>,
    /// For each bucket and (seven-bit) first byte, the slots in `buckets` of the keywords that
    /// can start with it.
    starting_with: Vec<[u64; 128]>,
    keywords: Vec<PreparedKeyword>,
}

impl BucketedKeywords {
    /// Sorts `keywords` (lowercase) into buckets, or `None` if there are more than
    /// [`MAX_KEYWORDS`] or an empty one.
    pub(super) fn new(keywords: &[String]) -> Option<Self> {
        if keywords.len() > MAX_KEYWORDS || keywords.iter().any(String::is_empty) {
            return None;
        }
        let buckets = assign_buckets(keywords);
        let mut tables = [[0; 128]; WINDOW];
        let mut starting_with = vec![[0; 128]; buckets.len()];
        for (bucket, members) in buckets.iter().enumerate() {
            let bit = 1 << bucket;
            for (slot, &keyword) in members.iter().enumerate() {
                let bytes = keywords[keyword].as_bytes();
                for (offset, table) in tables.iter_mut().enumerate() {
                    match bytes.get(offset) {
                        Some(&byte) => folded_entries(byte).for_each(|entry| table[entry] |= bit),
                        // Past a keyword's end, any byte fits.
                        None => table.iter_mut().for_each(|fits| *fits |= bit),
                    }
                }
                folded_entries(bytes[0]).for_each(|entry| starting_with[bucket][entry] |= 1 << slot);
            }
        }
        let keywords = keywords.iter().map(|keyword| PreparedKeyword::new(keyword.as_bytes())).collect();
        Some(BucketedKeywords { tables, buckets, starting_with, keywords })
    }

    /// For each offset in the window, the bucket bits of each seven-bit byte value.
    pub(super) fn tables(&self) -> &[[u8; 128]; WINDOW] {
        &self.tables
    }

    /// Calls `found` with each keyword of the buckets in `buckets` (a bit set) that occurs at
    /// `position` in `haystack`, in any ASCII case.
    #[inline]
    pub(super) fn confirm(&self, haystack: &[u8], position: usize, buckets: u8, found: &mut impl FnMut(usize)) {
        let rest = &haystack[position..];
        let head = leading_word(rest);
        let first = usize::from(rest[0] & 0x7f);
        let mut remaining = buckets;
        while remaining != 0 {
            let bucket = remaining.trailing_zeros() as usize;
            remaining &= remaining - 1;
            let mut slots = self.starting_with[bucket][first];
            while slots != 0 {
                let keyword = self.buckets[bucket][slots.trailing_zeros() as usize];
                slots &= slots - 1;
                if self.keywords[keyword].occurs_at_start(rest, head) {
                    found(keyword);
                }
            }
        }
    }

    /// The candidates of a plain byte-at-a-time search, for tests of the SIMD searchers.
    #[cfg(test)]
    pub(super) fn for_each_scalar(&self, haystack: &[u8], mut found: impl FnMut(usize)) {
        for position in 0..haystack.len() {
            let mut fits = u8::MAX;
            for (offset, table) in self.tables.iter().enumerate() {
                // Past the end, a zero byte, as the SIMD searchers pad.
                fits &= table[usize::from(haystack.get(position + offset).map_or(0, |byte| byte & 0x7f))];
            }
            if fits != 0 {
                self.confirm(haystack, position, fits, &mut found);
            }
        }
    }
}

/// Table entries a keyword byte sets: the byte and its uppercase form, by their low seven bits.
fn folded_entries(byte: u8) -> impl Iterator<Item = usize> {
    [byte, byte.to_ascii_uppercase()].into_iter().map(|byte| usize::from(byte & 0x7f))
}

/// The first (up to) eight bytes of `bytes`, little-endian, zero-padded.
#[inline]
fn leading_word(bytes: &[u8]) -> u64 {
    match bytes.first_chunk::<8>() {
        Some(word) => u64::from_le_bytes(*word),
        None => {
            let mut word = [0; 8];
            word[..bytes.len()].copy_from_slice(bytes);
            u64::from_le_bytes(word)
        }
    }
}

/// A keyword set up for a quick case-blind comparison of its first eight bytes.
#[derive(Debug)]
struct PreparedKeyword {
    bytes: Vec<u8>,
    /// The first (up to) eight bytes, little-endian.
    head: u64,
    /// `0x20` in each letter's byte of `head`: OR-ed into the haystack, it lowercases letters.
    case_bits: u64,
    /// `0xff` in each byte of `head` the keyword has.
    head_mask: u64,
}

impl PreparedKeyword {
    fn new(bytes: &[u8]) -> Self {
        let (mut case_bits, mut head_mask) = (0, 0);
        for (index, byte) in bytes.iter().take(8).enumerate() {
            head_mask |= 0xff << (8 * index);
            if byte.is_ascii_lowercase() {
                case_bits |= 0x20 << (8 * index);
            }
        }
        PreparedKeyword { bytes: bytes.to_vec(), head: leading_word(bytes), case_bits, head_mask }
    }

    /// Whether `rest` starts with the keyword, in any ASCII case; `head` is `rest`'s leading
    /// word. (OR-ing `0x20` into a byte matches a lowercase letter only from that letter or its
    /// uppercase form.)
    #[inline]
    fn occurs_at_start(&self, rest: &[u8], head: u64) -> bool {
        rest.len() >= self.bytes.len()
            && (head | self.case_bits) & self.head_mask == self.head
            && (self.bytes.len() <= 8 || rest[8..self.bytes.len()].eq_ignore_ascii_case(&self.bytes[8..]))
    }
}

/// A would-be bucket: its keywords and the bytes they allow at each offset.
#[derive(Debug, Clone)]
struct Cluster {
    members: Vec<usize>,
    /// Seven-bit byte values allowed at each offset (as table entries).
    allowed: [u128; WINDOW],
    /// The shortest member's length: from there on, any byte fits.
    shortest: usize,
}

impl Cluster {
    fn of(index: usize, keyword: &[u8]) -> Self {
        let mut allowed = [0; WINDOW];
        for (offset, &byte) in keyword.iter().take(WINDOW).enumerate() {
            folded_entries(byte).for_each(|entry| allowed[offset] |= 1 << entry);
        }
        Cluster { members: vec![index], allowed, shortest: keyword.len() }
    }

    fn merge(&mut self, other: Cluster) {
        self.members.extend(other.members);
        self.allowed = std::array::from_fn(|offset| self.allowed[offset] | other.allowed[offset]);
        self.shortest = self.shortest.min(other.shortest);
    }

    /// Expected keyword comparisons per haystack position: the chance that a position fits the
    /// bucket, times the keywords to compare (bytes taken as independent).
    fn cost(&self) -> f64 {
        expected_comparisons(&self.allowed, self.shortest, self.members.len())
    }

    /// What merging `other` would add to the expected comparisons; infinite if the merged
    /// bucket would hold too many keywords.
    fn added_cost(&self, other: &Cluster) -> f64 {
        let members = self.members.len() + other.members.len();
        if members > BUCKET_CAPACITY {
            return f64::INFINITY;
        }
        let allowed = std::array::from_fn(|offset| self.allowed[offset] | other.allowed[offset]);
        expected_comparisons(&allowed, self.shortest.min(other.shortest), members) - self.cost() - other.cost()
    }
}

/// The chance that a position fits bytes `allowed` up to `shortest`, times `members`.
fn expected_comparisons(allowed: &[u128; WINDOW], shortest: usize, members: usize) -> f64 {
    let fits: f64 = allowed[..shortest.min(WINDOW)].iter().map(|&set| share_of(set)).product();
    fits * members as f64
}

/// The share of haystack bytes whose seven-bit value is in `set`.
fn share_of(mut set: u128) -> f64 {
    let mut parts = 0;
    while set != 0 {
        parts += u32::from(BYTE_FREQUENCY[set.trailing_zeros() as usize]);
        set &= set - 1;
    }
    f64::from(parts) / 65536.0
}

/// Groups keyword indices (at most [`MAX_KEYWORDS`]) into at most [`BUCKETS`] buckets,
/// merging at each step the two whose merge adds least to the expected comparisons.
fn assign_buckets(keywords: &[String]) -> Vec<Vec<usize>> {
    // One slot per keyword; a slot empties when its cluster is merged into another.
    let mut clusters: Vec<Option<Cluster>> =
        keywords.iter().enumerate().map(|(index, keyword)| Some(Cluster::of(index, keyword.as_bytes()))).collect();
    // What merging slots `a` and `b` would add, for `b < a` (infinite once either is empty).
    let mut costs: Vec<Vec<f64>> =
        (0..clusters.len()).map(|a| (0..a).map(|b| added_cost(&clusters[a], &clusters[b])).collect()).collect();
    for _ in BUCKETS..keywords.len() {
        let (a, b) = cheapest_pair(&costs);
        let absorbed = clusters[a].take().expect("a cheapest pair is of two clusters");
        clusters[b].as_mut().expect("a cheapest pair is of two clusters").merge(absorbed);
        // Slot `a` is empty now (its costs become infinite) and slot `b` has grown.
        for other in 0..clusters.len() {
            for changed in [a, b] {
                if other != changed {
                    *pair_cost(&mut costs, changed, other) = added_cost(&clusters[changed], &clusters[other]);
                }
            }
        }
    }
    clusters.into_iter().flatten().map(|cluster| cluster.members).collect()
}

/// What merging two slots' clusters would add; infinite if either slot is empty.
fn added_cost(a: &Option<Cluster>, b: &Option<Cluster>) -> f64 {
    match (a, b) {
        (Some(a), Some(b)) => a.added_cost(b),
        _ => f64::INFINITY,
    }
}

/// The pair `(a, b)`, `b < a`, that adds least (some pair always fits: see [`MAX_KEYWORDS`]).
fn cheapest_pair(costs: &[Vec<f64>]) -> (usize, usize) {
    let mut cheapest = (1, 0);
    let mut lowest = f64::INFINITY;
    for (a, row) in costs.iter().enumerate() {
        for (b, &cost) in row.iter().enumerate() {
            if cost < lowest {
                lowest = cost;
                cheapest = (a, b);
            }
        }
    }
    cheapest
}

/// The cost of the pair `a`, `b` in the lower-triangular table.
fn pair_cost(costs: &mut [Vec<f64>], a: usize, b: usize) -> &mut f64 {
    let (high, low) = if a > b { (a, b) } else { (b, a) };
    &mut costs[high][low]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(list: &[&str]) -> Vec<String> {
        list.iter().map(|word| word.to_string()).collect()
    }

    fn found(keywords: &[&str], haystack: &[u8]) -> Vec<usize> {
        let bucketed = BucketedKeywords::new(&words(keywords)).unwrap();
        let mut hits = Vec::new();
        bucketed.for_each_scalar(haystack, |keyword| hits.push(keyword));
        hits
    }

    #[test]
    fn keywords_are_found_in_any_case_wherever_they_start() {
        assert_eq!(found(&["key", "secret"], b"API_KEY = s; SeCrEt key"), [0, 1, 0]);
        assert_eq!(found(&["ab", "abcdefghijk"], b"xABCDEFGHIJKx"), [0, 1]);
        // Cut short by the end, or by a byte that only differs in bit 5 from a letter.
        assert_eq!(found(&["abcdefghijk"], b"abcdefghij"), Vec::<usize>::new());
        assert_eq!(found(&["key_"], b"key\x7f KEY\x5f"), [0]);
        // High bytes share table entries with ASCII ones but never confirm.
        assert_eq!(found(&["key"], &[0xeb, 0xe5, 0xf9, b'k', b'e', b'y']), [0]);
    }

    #[test]
    fn look_alike_keywords_share_a_bucket() {
        let keywords =
            words(&["ghp_", "gho_", "ghs_", "key", "token", "secret", "xoxb-", "xoxp-", "akia", "asia", "pwd"]);
        let buckets = assign_buckets(&keywords);
        assert_eq!(buckets.len(), BUCKETS);
        let bucket_of = |keyword: usize| buckets.iter().position(|members| members.contains(&keyword)).unwrap();
        assert_eq!(bucket_of(0), bucket_of(1));
        assert_eq!(bucket_of(0), bucket_of(2));
        assert_eq!(bucket_of(6), bucket_of(7));
        let mut all: Vec<usize> = buckets.concat();
        all.sort();
        assert_eq!(all, (0..keywords.len()).collect::<Vec<_>>());
    }

    #[test]
    fn too_many_keywords_or_an_empty_one_are_refused() {
        let many: Vec<String> = (0..=MAX_KEYWORDS).map(|n| format!("keyword{n}")).collect();
        assert!(BucketedKeywords::new(&many).is_none());
        let bucketed = BucketedKeywords::new(&many[..MAX_KEYWORDS]).unwrap();
        assert!(bucketed.buckets.iter().all(|members| members.len() <= BUCKET_CAPACITY));
        assert!(BucketedKeywords::new(&words(&["key", ""])).is_none());
    }
}
