//! The keyword prefilter: which rules can match a blob at all. A rule is a candidate where one
//! of its keywords occurs, in any ASCII case.
//!
//! Two searches do this. Where the CPU has AVX-512 VBMI and the keywords fit its buckets,
//! [`vbmi`] looks eight leading bytes of every position up in byte tables, 64 positions at a
//! time, in one pass over the blob ([`buckets`] explains how). Elsewhere, [`grouped`] runs
//! aho-corasick's Teddy searchers over a lowercased copy, in several passes. Both select the
//! same rules; on Python's standard library the first takes about a third of the second's
//! time (`bench/LOG.md`). A third search, comparing every keyword at every position, is the
//! reference the other two are tested and fuzzed against ([`SearchPath`]).

#[cfg(target_arch = "x86_64")]
mod buckets;
mod grouped;
#[cfg(target_arch = "x86_64")]
mod vbmi;

use crate::rules::RuleSet;
use grouped::GroupedSearch;

/// The name of the fastest search path this CPU runs: `"AVX-512 VBMI"` where it has those
/// instructions (detected at run time; the keyword search then uses them whenever the keywords
/// fit its buckets, as the built-in ones do, and the base64 search always), else `"portable"`.
pub fn cpu_search_path() -> &'static str {
    #[cfg(target_arch = "x86_64")]
    if crate::simd::Vbmi::detect().is_some() {
        return "AVX-512 VBMI";
    }
    "portable"
}

/// Bytes searched at a time: small enough to stay in cache, and the unit after which a search
/// stops early once every rule is a candidate.
const CHUNK: usize = 64 * 1024;

/// Finds the rules whose keywords occur in a blob.
#[derive(Debug)]
pub struct KeywordPrefilter {
    search: KeywordSearch,
    /// For each keyword, the rules it makes candidates.
    rules_by_keyword: Vec<Vec<usize>>,
    /// Rules without keywords: candidates for every blob.
    unconditional: Vec<usize>,
    longest_keyword: usize,
}

impl KeywordPrefilter {
    /// Builds the fastest search this CPU and these keywords allow, for every rule's keywords.
    pub fn new(rules: &RuleSet) -> Self {
        Self::with_search(rules, |keywords| Some(KeywordSearch::fastest(keywords)))
            .expect("the fastest search always falls back to one that builds")
    }

    /// Builds the prefilter with the search `path`, or `None` where it cannot be built here
    /// ([`SearchPath::Vbmi`] without the CPU features, or with keywords that do not fit its
    /// buckets). For tests and the prefilter fuzz target, which compare the paths: every path
    /// selects the same rules.
    #[doc(hidden)]
    pub fn with_path(rules: &RuleSet, path: SearchPath) -> Option<Self> {
        Self::with_search(rules, |keywords| KeywordSearch::with_path(keywords, path))
    }

    /// Builds the prefilter with the search `build_search` makes for the (merged, lowercase)
    /// keywords, or `None` if it makes none.
    fn with_search(rules: &RuleSet, build_search: impl FnOnce(&[String]) -> Option<KeywordSearch>) -> Option<Self> {
        // Each rule's keywords, lowercased once: a hook pays for this set-up on every commit.
        let keywords_of: Vec<Vec<String>> = rules
            .rules()
            .iter()
            .map(|rule| rule.spec.keywords.iter().map(|keyword| keyword.to_ascii_lowercase()).collect())
            .collect();
        let mut keywords: Vec<String> = keywords_of.iter().flatten().cloned().collect();
        keywords.sort();
        keywords.dedup();
        let merged = merge_shared_prefixes(keywords);
        // The portable search reports, at each position, only the longest keyword starting
        // there, so a keyword selects the rules of the keywords merged into it and of those it
        // starts with (hidden behind it). Keywords inside it at a later position are found on
        // their own: the search resumes just after each hit's start.
        let rules_by_keyword = merged
            .iter()
            .map(|(keyword, originals)| {
                (0..keywords_of.len())
                    .filter(|&index| {
                        keywords_of[index]
                            .iter()
                            .any(|own| keyword.starts_with(own.as_str()) || originals.contains(own))
                    })
                    .collect()
            })
            .collect();
        let keywords: Vec<String> = merged.into_iter().map(|(keyword, _)| keyword).collect();
        let unconditional = (0..keywords_of.len()).filter(|&i| keywords_of[i].is_empty()).collect();
        let longest_keyword = keywords.iter().map(String::len).max().unwrap_or(0);
        let search = build_search(&keywords)?;
        Some(KeywordPrefilter { search, rules_by_keyword, unconditional, longest_keyword })
    }

    /// Fills `selected` with the indices of the candidate rules for `haystack` (unsorted,
    /// without duplicates), using `scratch` as working memory.
    pub fn select(
        &self,
        haystack: &[u8],
        rule_count: usize,
        scratch: &mut PrefilterScratch,
        selected: &mut Vec<usize>,
    ) {
        scratch.is_selected.clear();
        scratch.is_selected.resize(rule_count, false);
        selected.clear();
        for &index in &self.unconditional {
            mark(index, &mut scratch.is_selected, selected);
        }
        if self.longest_keyword == 0 {
            return;
        }
        // Chunks overlap by one byte less than the longest keyword, so none is cut in two.
        let overlap = self.longest_keyword.saturating_sub(1);
        let mut chunk_start = 0;
        loop {
            let chunk_end = (chunk_start + CHUNK).min(haystack.len());
            let is_selected = &mut scratch.is_selected;
            self.search.for_each(&haystack[chunk_start..chunk_end], &mut scratch.lowered, |keyword| {
                for &index in &self.rules_by_keyword[keyword] {
                    mark(index, is_selected, selected);
                }
            });
            if chunk_end == haystack.len() || selected.len() == rule_count {
                return;
            }
            chunk_start = chunk_end - overlap.min(chunk_end - chunk_start);
        }
    }
}

/// Shortest shared prefix that replaces the keywords sharing it (`postgres://`, `postgresql+`
/// → `postgres`): a prefix still selects every rule of the keywords it starts, and fewer
/// patterns mean fewer Teddy passes and fewer false candidates.
const MIN_SHARED_PREFIX: usize = 5;

/// Replaces runs of sorted keywords that share a prefix of at least [`MIN_SHARED_PREFIX`]
/// bytes by that prefix, each with the keywords it replaces. `keywords` is sorted and
/// deduplicated. A prefix that is itself a keyword merges nothing: `secret_access_key` merged
/// into the generic rule's `secret` would run the AWS rule wherever `secret` occurs, while
/// searched on its own it costs one pattern.
fn merge_shared_prefixes(keywords: Vec<String>) -> Vec<(String, Vec<String>)> {
    let mut merged: Vec<(String, Vec<String>)> = Vec::with_capacity(keywords.len());
    for keyword in &keywords {
        let shared = merged.last().map_or(0, |(last, _)| common_prefix_len(last, keyword));
        let prefix_is_a_keyword = keywords.binary_search_by(|other| other.as_str().cmp(&keyword[..shared])).is_ok();
        match merged.last_mut() {
            Some((last, originals)) if shared >= MIN_SHARED_PREFIX && !prefix_is_a_keyword => {
                last.truncate(shared);
                originals.push(keyword.clone());
            }
            _ => merged.push((keyword.clone(), vec![keyword.clone()])),
        }
    }
    merged
}

/// The length of the longest common prefix of `a` and `b` that ends between characters.
fn common_prefix_len(a: &str, b: &str) -> usize {
    let bytes = a.bytes().zip(b.bytes()).take_while(|(x, y)| x == y).count();
    (0..=bytes).rev().find(|&len| a.is_char_boundary(len)).unwrap_or(0)
}

/// A way to search for the keywords. [`KeywordPrefilter::new`] takes the fastest one;
/// [`KeywordPrefilter::with_path`] picks one, to compare them.
#[doc(hidden)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SearchPath {
    /// The AVX-512 VBMI search ([`vbmi`]): only where the CPU has the features and the
    /// keywords fit its buckets.
    Vbmi,
    /// aho-corasick's Teddy searchers over a lowercased copy ([`grouped`]).
    Grouped,
    /// Every keyword compared at every position: slow, and plainly right.
    BruteForce,
}

/// The search for the keywords.
#[derive(Debug)]
enum KeywordSearch {
    #[cfg(target_arch = "x86_64")]
    Vbmi(Box<vbmi::VbmiSearch>),
    Grouped(GroupedSearch),
    BruteForce(Vec<String>),
}

impl KeywordSearch {
    /// The AVX-512 VBMI search where it can be built, else the grouped one.
    fn fastest(keywords: &[String]) -> Self {
        Self::with_path(keywords, SearchPath::Vbmi)
            .unwrap_or_else(|| KeywordSearch::Grouped(GroupedSearch::new(keywords)))
    }

    /// The search `path` for `keywords` (lowercase), if it can be built here.
    fn with_path(keywords: &[String], path: SearchPath) -> Option<Self> {
        match path {
            SearchPath::Vbmi => Self::vbmi(keywords),
            SearchPath::Grouped => Some(KeywordSearch::Grouped(GroupedSearch::new(keywords))),
            SearchPath::BruteForce => Some(KeywordSearch::BruteForce(keywords.to_vec())),
        }
    }

    #[cfg(target_arch = "x86_64")]
    fn vbmi(keywords: &[String]) -> Option<Self> {
        let search = vbmi::VbmiSearch::new(crate::simd::Vbmi::detect()?, keywords)?;
        Some(KeywordSearch::Vbmi(Box::new(search)))
    }

    #[cfg(not(target_arch = "x86_64"))]
    fn vbmi(_: &[String]) -> Option<Self> {
        None
    }

    /// Calls `found(keyword_index)` for the keywords occurring in `haystack`: every one that
    /// occurs, or (grouped search) a longer one starting with it at the same position.
    /// `lowered` is working memory.
    fn for_each(&self, haystack: &[u8], lowered: &mut Vec<u8>, found: impl FnMut(usize)) {
        match self {
            #[cfg(target_arch = "x86_64")]
            KeywordSearch::Vbmi(search) => search.for_each(haystack, found),
            KeywordSearch::Grouped(search) => search.for_each(haystack, lowered, found),
            KeywordSearch::BruteForce(keywords) => for_each_occurring(keywords, haystack, found),
        }
    }
}

/// Calls `found(keyword_index)` for each of `keywords` (non-empty, lowercase) that occurs in
/// `haystack`, in any ASCII case, by comparing it at every position.
fn for_each_occurring(keywords: &[String], haystack: &[u8], mut found: impl FnMut(usize)) {
    for (index, keyword) in keywords.iter().enumerate() {
        if haystack.windows(keyword.len()).any(|window| window.eq_ignore_ascii_case(keyword.as_bytes())) {
            found(index);
        }
    }
}

fn mark(index: usize, is_selected: &mut [bool], selected: &mut Vec<usize>) {
    if !is_selected[index] {
        is_selected[index] = true;
        selected.push(index);
    }
}

/// Per-thread memory for [`KeywordPrefilter::select`].
#[derive(Debug, Default)]
pub struct PrefilterScratch {
    lowered: Vec<u8>,
    is_selected: Vec<bool>,
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The rules `prefilter` selects for `haystack`, sorted.
    fn select_sorted(prefilter: &KeywordPrefilter, rules: &RuleSet, haystack: &[u8]) -> Vec<usize> {
        let mut out = Vec::new();
        prefilter.select(haystack, rules.rules().len(), &mut PrefilterScratch::default(), &mut out);
        out.sort();
        out
    }

    /// Whether the VBMI path is cross-checked here (see [`crate::simd::vbmi_for_test`]).
    #[cfg(target_arch = "x86_64")]
    fn vbmi_is_tested() -> bool {
        crate::simd::vbmi_for_test().is_some()
    }

    #[cfg(not(target_arch = "x86_64"))]
    fn vbmi_is_tested() -> bool {
        false
    }

    /// Each search path this CPU runs with its prefilter, brute force (the reference) first.
    fn every_path(rules: &RuleSet) -> Vec<(SearchPath, KeywordPrefilter)> {
        let mut paths = vec![SearchPath::BruteForce, SearchPath::Grouped];
        if vbmi_is_tested() {
            paths.push(SearchPath::Vbmi);
        }
        paths
            .into_iter()
            .map(|path| (path, KeywordPrefilter::with_path(rules, path).expect("the keywords fit")))
            .collect()
    }

    /// The rules selected for `haystack`, checked to be the same with every search path.
    fn selected(toml: &str, haystack: &[u8]) -> Vec<usize> {
        let rules = RuleSet::from_toml(toml, "t.toml").unwrap();
        let paths = every_path(&rules);
        let chosen = select_sorted(&paths[0].1, &rules, haystack);
        for (path, prefilter) in &paths[1..] {
            assert_eq!(select_sorted(prefilter, &rules, haystack), chosen, "{path:?} disagrees with brute force");
        }
        chosen
    }

    /// Haystacks made of the built-in keywords (case flipped, cut short) among bytes that
    /// differ from letters in bit 5 and high bytes that share their table entries.
    fn keyword_soup(seed: u64, count: usize) -> impl Iterator<Item = Vec<u8>> {
        let keywords: Vec<String> =
            RuleSet::builtin().unwrap().rules().iter().flat_map(|rule| rule.spec.keywords.clone()).collect();
        let mut state = seed;
        let mut next = move || {
            state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            (state >> 33) as usize
        };
        (0..count).map(move |_| {
            let mut haystack = Vec::new();
            // Mostly shorter than two blocks (the padded end), now and then many batches long.
            let target = if next() % 10 == 0 { next() % 5000 } else { next() % 300 };
            while haystack.len() < target {
                match next() % 4 {
                    0 => {
                        let keyword = keywords[next() % keywords.len()].as_bytes();
                        let kept = if next() % 4 == 0 { next() % keyword.len() } else { keyword.len() };
                        haystack.extend(keyword[..kept].iter().map(|&b| {
                            if next() % 2 == 0 {
                                b.to_ascii_uppercase()
                            } else {
                                b
                            }
                        }));
                    }
                    _ => {
                        let fillers = b" _-.:=@[`{\x00\xe2\xeb\xf9keyAsk";
                        haystack.push(fillers[next() % fillers.len()]);
                    }
                }
            }
            haystack
        })
    }

    #[cfg(target_arch = "x86_64")]
    /// The built-in rules' keywords as the searches get them: lowercase and merged.
    fn built_in_keywords() -> Vec<String> {
        let rules = RuleSet::builtin().unwrap();
        let mut keywords: Vec<String> =
            rules.rules().iter().flat_map(|rule| rule.spec.keywords.iter().map(|k| k.to_ascii_lowercase())).collect();
        keywords.sort();
        keywords.dedup();
        merge_shared_prefixes(keywords).into_iter().map(|(keyword, _)| keyword).collect()
    }

    #[cfg(target_arch = "x86_64")]
    /// Which of `keywords` occur in `haystack`, in any ASCII case, by comparing everywhere.
    fn occurring(keywords: &[String], haystack: &[u8]) -> Vec<bool> {
        let mut found = vec![false; keywords.len()];
        for_each_occurring(keywords, haystack, |keyword| found[keyword] = true);
        found
    }

    #[cfg(target_arch = "x86_64")]
    #[test]
    fn bucketed_keywords_are_found_wherever_they_occur() {
        let keywords = built_in_keywords();
        let bucketed = buckets::BucketedKeywords::new(&keywords).unwrap();
        for haystack in keyword_soup(3, 1000) {
            let mut found = vec![false; keywords.len()];
            bucketed.for_each_scalar(&haystack, |keyword| found[keyword] = true);
            assert_eq!(found, occurring(&keywords, &haystack), "{:?}", String::from_utf8_lossy(&haystack));
        }
    }

    #[cfg(target_arch = "x86_64")]
    #[test]
    fn the_vbmi_search_finds_every_keyword_wherever_it_occurs() {
        let Some(vbmi) = crate::simd::vbmi_for_test() else { return };
        let keywords = built_in_keywords();
        let search = vbmi::VbmiSearch::new(vbmi, &keywords).expect("the built-in keywords fit the buckets");
        for haystack in keyword_soup(5, 3000) {
            let mut found = vec![false; keywords.len()];
            search.for_each(&haystack, |keyword| found[keyword] = true);
            assert_eq!(found, occurring(&keywords, &haystack), "{:?}", String::from_utf8_lossy(&haystack));
        }
    }

    #[test]
    fn every_search_path_selects_the_same_rules_for_the_built_in_keywords() {
        let rules = RuleSet::builtin().unwrap();
        let paths = every_path(&rules);
        for haystack in keyword_soup(7, 3000) {
            let expected = select_sorted(&paths[0].1, &rules, &haystack);
            for (path, prefilter) in &paths[1..] {
                let chosen = select_sorted(prefilter, &rules, &haystack);
                assert_eq!(chosen, expected, "{path:?}: {:?}", String::from_utf8_lossy(&haystack));
            }
        }
    }

    #[test]
    fn the_fastest_search_this_cpu_runs_is_the_one_taken() {
        let search = KeywordPrefilter::new(&RuleSet::builtin().unwrap()).search;
        #[cfg(target_arch = "x86_64")]
        if vbmi_is_tested() {
            assert!(matches!(search, KeywordSearch::Vbmi(_)), "the grouped search was taken");
            return;
        }
        assert!(matches!(search, KeywordSearch::Grouped(_)), "not the grouped search");
    }

    const TWO_RULES: &str = r#"
[[rule]]
id = "short"
description = "d"
regex = 'ab(c)'
keywords = ["ab"]
[[rule]]
id = "long"
description = "d"
regex = 'xabcd(e)'
keywords = ["xABcd"]
"#;

    #[test]
    fn keywords_match_in_any_case() {
        assert_eq!(selected(TWO_RULES, b"..XaBcD.."), [0, 1]);
        // "ab" occurs inside "xabcd", not the other way round.
        assert_eq!(selected(TWO_RULES, b"..AB.."), [0]);
        assert_eq!(selected(TWO_RULES, b"nothing"), Vec::<usize>::new());
    }

    #[test]
    fn overlapping_and_nested_keywords_select_both_rules() {
        // "ab" starts inside "xabcd" and is a prefix of nothing; the longer one hides it.
        assert_eq!(selected(TWO_RULES, b"xabcde"), [0, 1]);
    }

    #[test]
    fn keywords_hidden_by_a_longer_one_in_the_same_search_select_their_rules() {
        // Four bytes shared: not merged, so "pass" is found only as part of "pass_word".
        let toml = "[[rule]]\nid='a'\ndescription='d'\nregex='x(y)'\nkeywords=['pass']\n\
                    [[rule]]\nid='b'\ndescription='d'\nregex='x(y)'\nkeywords=['pass_word']\n\
                    [[rule]]\nid='c'\ndescription='d'\nregex='x(y)'\nkeywords=['s_wor']\n\
                    [[rule]]\nid='d'\ndescription='d'\nregex='x(y)'\nkeywords=['word_list']\n";
        assert_eq!(selected(toml, b"PASS_WORD_LIST = 1"), [0, 1, 2, 3]);
        assert_eq!(selected(toml, b"s_word"), [2]);
        assert_eq!(selected(toml, b"pass"), [0]);
    }

    #[test]
    fn a_keyword_across_a_chunk_boundary_is_found() {
        let mut haystack = vec![b'.'; CHUNK - 2];
        haystack.extend_from_slice(b"xabcd");
        haystack.extend(vec![b'.'; 100]);
        assert_eq!(selected(TWO_RULES, &haystack), [0, 1]);
    }

    #[test]
    fn keywords_sharing_a_long_prefix_are_merged() {
        let words = |list: &[&str]| list.iter().map(|w| w.to_string()).collect::<Vec<_>>();
        let merged = merge_shared_prefixes(words(&[
            "gho_",
            "ghp_",
            "postgres://",
            "postgresql+",
            "postgresql://",
            "redis",
            "secret",
            "secret_access_key",
            "secretaccesskey",
        ]));
        let searched: Vec<&str> = merged.iter().map(|(keyword, _)| keyword.as_str()).collect();
        // `secret` is a keyword itself: the longer ones stay apart, or `secret` would select them.
        assert_eq!(searched, ["gho_", "ghp_", "postgres", "redis", "secret", "secret_access_key", "secretaccesskey"]);
        assert_eq!(merged[2].1, words(&["postgres://", "postgresql+", "postgresql://"]));
        // A merged prefix still selects the rules of every keyword it came from.
        let toml = "[[rule]]\nid='a'\ndescription='d'\nregex='x(y)'\nkeywords=['postgres://']\n\
                    [[rule]]\nid='b'\ndescription='d'\nregex='x(y)'\nkeywords=['postgresql+']\n";
        assert_eq!(selected(toml, b"url = postgresql+psycopg://u:p@h/db"), [0, 1]);
    }

    #[test]
    fn keywords_sharing_part_of_a_character_are_kept_apart() {
        // "клю" and "клы" share five bytes: two letters and the first byte of the third.
        let toml = "[[rule]]\nid='a'\ndescription='d'\nregex='x(y)'\nkeywords=['ключ']\n\
                    [[rule]]\nid='b'\ndescription='d'\nregex='x(y)'\nkeywords=['клык']\n";
        assert_eq!(selected(toml, "КЛЮЧ ключ".as_bytes()), [0]);
        assert_eq!(selected(toml, "клык".as_bytes()), [1]);
    }

    #[test]
    fn rules_without_keywords_always_run() {
        let toml = "[[rule]]\nid='a'\ndescription='d'\nregex='x(y)'\n";
        assert_eq!(selected(toml, b""), [0]);
    }
}
