//! The portable keyword search: aho-corasick's SIMD Teddy searchers (or automata where Teddy
//! cannot be built) over a lowercased copy of the haystack.
//!
//! Why not the automaton's own `ascii_case_insensitive` option: aho-corasick then gives up
//! Teddy and walks every byte through the automaton, which makes a scan with forty rules five
//! times slower than with three. Teddy needs case-sensitive patterns, leftmost semantics, and
//! (by aho-corasick's default heuristics) at most 64 of them; keyhound's rules have more, so the
//! packed searchers are built directly with that limit lifted, in groups.

use aho_corasick::{packed, AhoCorasick, AhoCorasickBuilder, Input, Match, MatchKind, Span};

/// Most keywords one Teddy searcher takes: past 32 it switches to its slower "fat" form, and
/// the more patterns share its buckets, the more false candidates it verifies.
const GROUP_SIZE: usize = 32;

/// The keyword search: keywords are split into small groups (short keywords apart, since Teddy
/// masks only as many leading bytes as its shortest pattern has), each searched separately.
#[derive(Debug)]
pub(super) struct GroupedSearch {
    groups: Vec<(KeywordSearch, Vec<usize>)>,
}

impl GroupedSearch {
    /// Builds the searchers for `keywords` (lowercase).
    pub(super) fn new(keywords: &[String]) -> Self {
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

    /// Calls `found(keyword_index)` for keyword occurrences in `haystack`, in any ASCII case:
    /// at each position, the longest keyword of each group that starts there. `lowered` is
    /// working memory for the lowercased copy.
    pub(super) fn for_each(&self, haystack: &[u8], lowered: &mut Vec<u8>, mut found: impl FnMut(usize)) {
        lowered.clear();
        lowered.extend_from_slice(haystack);
        lowered.make_ascii_lowercase();
        for (search, ids) in &self.groups {
            let mut start = 0;
            while let Some(hit) = search.find(lowered, start) {
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
