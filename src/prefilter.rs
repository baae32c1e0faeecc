//! The keyword prefilter: which rules can match a blob at all. One pass of a case-sensitive
//! Aho-Corasick automaton over lowercased keywords, run on lowercased copies of the blob in
//! cache-sized chunks, so keywords match in any ASCII case.
//!
//! Why not the automaton's own `ascii_case_insensitive` option: aho-corasick then gives up its
//! SIMD (Teddy) searcher and walks every byte through the automaton, which made a scan with
//! forty rules five times slower than with three. Teddy needs case-sensitive patterns, leftmost
//! semantics, and (by aho-corasick's default heuristics) at most 64 of them; keyhound's rules
//! have more, so the packed searcher is built directly with that limit lifted (it takes 128).
//! Where Teddy cannot be built (no SIMD, too many keywords), a plain automaton does the work.

use aho_corasick::{packed, AhoCorasick, AhoCorasickBuilder, Input, Match, MatchKind, Span};

use crate::rules::RuleSet;

/// Bytes lowercased and searched at a time: small enough to stay in cache.
const CHUNK: usize = 64 * 1024;

/// Finds the rules whose keywords occur in a blob.
#[derive(Debug)]
pub struct KeywordPrefilter {
    search: GroupedSearch,
    /// For each keyword, the rules it makes candidates.
    rules_by_keyword: Vec<Vec<usize>>,
    /// Rules without keywords: candidates for every blob.
    unconditional: Vec<usize>,
    longest_keyword: usize,
}

impl KeywordPrefilter {
    /// Builds the automaton over every rule's keywords.
    pub fn new(rules: &RuleSet) -> Self {
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
        // The search reports, at each position, the longest keyword starting there, so a keyword
        // selects the rules of the keywords merged into it and of those it starts with (hidden
        // behind it). Keywords inside it at a later position are found on their own: the
        // search resumes just after each hit's start.
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
        let search = GroupedSearch::new(&keywords);
        KeywordPrefilter { search, rules_by_keyword, unconditional, longest_keyword }
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
        if self.search.groups.is_empty() {
            return;
        }
        // Chunks overlap by one byte less than the longest keyword, so none is cut in two.
        let overlap = self.longest_keyword.saturating_sub(1);
        let mut chunk_start = 0;
        loop {
            let chunk_end = (chunk_start + CHUNK).min(haystack.len());
            scratch.lowered.clear();
            scratch.lowered.extend_from_slice(&haystack[chunk_start..chunk_end]);
            scratch.lowered.make_ascii_lowercase();
            self.search.for_each(&scratch.lowered, |keyword| {
                for &index in &self.rules_by_keyword[keyword] {
                    mark(index, &mut scratch.is_selected, selected);
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

fn common_prefix_len(a: &str, b: &str) -> usize {
    a.bytes().zip(b.bytes()).take_while(|(x, y)| x == y).count()
}

/// Most keywords one Teddy searcher takes: past 32 it switches to its slower "fat" form, and
/// the more patterns share its buckets, the more false candidates it verifies.
const GROUP_SIZE: usize = 32;

/// The keyword search: keywords are split into small groups (short keywords apart, since Teddy
/// masks only as many leading bytes as its shortest pattern has), each searched separately.
#[derive(Debug)]
struct GroupedSearch {
    groups: Vec<(KeywordSearch, Vec<usize>)>,
}

impl GroupedSearch {
    fn new(keywords: &[String]) -> Self {
        let (short, long): (Vec<usize>, Vec<usize>) = (0..keywords.len()).partition(|&i| keywords[i].len() < 4);
        let groups = [short, long]
            .iter()
            .flat_map(|ids| ids.chunks(GROUP_SIZE))
            .filter(|ids| !ids.is_empty())
            .map(|ids| {
                let group: Vec<&str> = ids.iter().map(|&i| keywords[i].as_str()).collect();
                (KeywordSearch::new(&group), ids.to_vec())
            })
            .collect();
        GroupedSearch { groups }
    }

    /// Calls `found(keyword_index)` for every keyword occurrence in `haystack` (each position
    /// reports its longest keyword per group).
    fn for_each(&self, haystack: &[u8], mut found: impl FnMut(usize)) {
        for (search, ids) in &self.groups {
            let mut start = 0;
            while let Some(hit) = search.find(haystack, start) {
                found(ids[hit.pattern().as_usize()]);
                // Resume just after the hit's start, so an overlapping keyword is seen too.
                start = hit.start() + 1;
            }
        }
    }
}

/// The leftmost-longest search of one group: SIMD Teddy where it can be built, else an automaton.
#[derive(Debug)]
enum KeywordSearch {
    Teddy(packed::Searcher),
    Automaton(AhoCorasick),
}

impl KeywordSearch {
    fn new(keywords: &[&str]) -> Self {
        let teddy = packed::Config::new()
            .match_kind(packed::MatchKind::LeftmostLongest)
            .heuristic_pattern_limits(false)
            .builder()
            .extend(keywords)
            .build();
        match teddy {
            Some(searcher) => KeywordSearch::Teddy(searcher),
            None => KeywordSearch::Automaton(
                AhoCorasickBuilder::new()
                    .match_kind(MatchKind::LeftmostLongest)
                    .build(keywords)
                    .expect("keyword literals always build an automaton"),
            ),
        }
    }

    /// The leftmost-longest keyword at or after `start`.
    fn find(&self, haystack: &[u8], start: usize) -> Option<Match> {
        let span = Span { start, end: haystack.len() };
        match self {
            KeywordSearch::Teddy(searcher) => searcher.find_in(haystack, span),
            KeywordSearch::Automaton(automaton) => automaton.find(Input::new(haystack).span(span)),
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

    fn selected(toml: &str, haystack: &[u8]) -> Vec<usize> {
        let rules = RuleSet::from_toml(toml, "t.toml").unwrap();
        let mut out = Vec::new();
        KeywordPrefilter::new(&rules).select(haystack, rules.rules().len(), &mut PrefilterScratch::default(), &mut out);
        out.sort();
        out
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
    fn rules_without_keywords_always_run() {
        let toml = "[[rule]]\nid='a'\ndescription='d'\nregex='x(y)'\n";
        assert_eq!(selected(toml, b""), [0]);
    }
}
