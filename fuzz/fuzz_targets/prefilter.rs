//! The keyword prefilter's search paths on the same input: AVX-512 VBMI (where the CPU has
//! it), aho-corasick's grouped Teddy search and brute force select the same rules, and a rule
//! is selected wherever one of its keywords occurs, in any ASCII case.
//!
//! The first byte picks the rules. Even: the built-in rules, over the rest of the input. Odd:
//! the rest's first line makes the rules (`|` between rules, `,` between a rule's keywords; a
//! rule without keywords is selected for every input), over what follows that line.
#![no_main]

use std::sync::OnceLock;

use keyhound::prefilter::{KeywordPrefilter, PrefilterScratch, SearchPath};
use keyhound::rules::RuleSet;
use libfuzzer_sys::fuzz_target;

/// Rules taken from one input, keywords per rule, and bytes per keyword: enough to fill the
/// VBMI search's buckets and windows, small enough to build quickly.
const MAX_RULES: usize = 16;
const MAX_KEYWORDS: usize = 8;
const MAX_KEYWORD_LEN: usize = 24;

fuzz_target!(|data: &[u8]| {
    let Some((&selector, rest)) = data.split_first() else { return };
    if selector % 2 == 0 {
        let (rules, paths) = built_in();
        check(rules, paths, rest);
    } else {
        let (line, haystack) = rest.split_at(rest.iter().position(|&b| b == b'\n').map_or(rest.len(), |i| i + 1));
        let rules = RuleSet::from_toml(&rules_toml(line), "fuzz.toml").expect("generated rules load");
        check(&rules, &paths(&rules), haystack);
    }
});

/// The built-in rules and their prefilters, built once.
fn built_in() -> &'static (RuleSet, Vec<(SearchPath, KeywordPrefilter)>) {
    static BUILT_IN: OnceLock<(RuleSet, Vec<(SearchPath, KeywordPrefilter)>)> = OnceLock::new();
    BUILT_IN.get_or_init(|| {
        let rules = RuleSet::builtin().expect("built-in rules load");
        let paths = paths(&rules);
        (rules, paths)
    })
}

/// The prefilter of every search path that builds here, brute force (the reference) first.
fn paths(rules: &RuleSet) -> Vec<(SearchPath, KeywordPrefilter)> {
    [SearchPath::BruteForce, SearchPath::Grouped, SearchPath::Vbmi]
        .into_iter()
        .filter_map(|path| Some((path, KeywordPrefilter::with_path(rules, path)?)))
        .collect()
}

/// A rule file with a rule for each `|`-separated field of `line`, whose `,`-separated parts
/// are its keywords.
fn rules_toml(line: &[u8]) -> String {
    let line = line.strip_suffix(b"\n").unwrap_or(line);
    let mut toml = String::new();
    for (index, field) in line.split(|&b| b == b'|').take(MAX_RULES).enumerate() {
        let keywords: Vec<String> = field
            .split(|&b| b == b',')
            .filter(|keyword| !keyword.is_empty())
            .take(MAX_KEYWORDS)
            .map(|keyword| toml_string(&keyword[..keyword.len().min(MAX_KEYWORD_LEN)]))
            .collect();
        toml.push_str(&format!(
            "[[rule]]\nid = \"r{index}\"\ndescription = \"d\"\nregex = 'x(y)'\nkeywords = [{}]\n",
            keywords.join(", ")
        ));
    }
    toml
}

/// `bytes` (invalid UTF-8 replaced) as a TOML basic string, every character escaped.
fn toml_string(bytes: &[u8]) -> String {
    let escaped: String = String::from_utf8_lossy(bytes).chars().map(|c| format!("\\U{:08X}", u32::from(c))).collect();
    format!("\"{escaped}\"")
}

/// Asserts every path selects what brute force selects, and that this includes every rule
/// with a keyword in `haystack`.
fn check(rules: &RuleSet, paths: &[(SearchPath, KeywordPrefilter)], haystack: &[u8]) {
    let count = rules.rules().len();
    let mut scratch = PrefilterScratch::default();
    let selections: Vec<Vec<usize>> = paths
        .iter()
        .map(|(_, prefilter)| {
            let mut selected = Vec::new();
            prefilter.select(haystack, count, &mut scratch, &mut selected);
            selected.sort_unstable();
            selected
        })
        .collect();
    for ((path, _), selected) in paths.iter().zip(&selections).skip(1) {
        assert_eq!(selected, &selections[0], "{path:?} and brute force select different rules");
    }
    for (index, rule) in rules.rules().iter().enumerate() {
        let keywords = &rule.spec.keywords;
        if keywords.is_empty() || keywords.iter().any(|keyword| occurs(keyword.as_bytes(), haystack)) {
            assert!(selections[0].binary_search(&index).is_ok(), "rule {} has a keyword here", rule.id());
        }
    }
}

/// Whether `keyword` occurs in `haystack`, in any ASCII case.
fn occurs(keyword: &[u8], haystack: &[u8]) -> bool {
    haystack.windows(keyword.len()).any(|window| window.eq_ignore_ascii_case(keyword))
}
