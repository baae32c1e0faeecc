//! The hot loop: finds the secrets in a byte slice. Knows rules and regexes, nothing of files,
//! paths or output.
//!
//! A keyword pass ([`crate::prefilter`], ASCII case-insensitive) picks the candidate rules for a
//! blob; only their regexes run, each over the
//! whole blob, and each candidate secret then goes through the rule's filters. Compiled rules
//! are shared; the per-thread [`Scratch`] holds the candidate set.

use std::ops::Range;
use std::sync::Arc;

use crate::precision::{self, Rejection};
use crate::prefilter::{KeywordPrefilter, PrefilterScratch};
use crate::rules::{Confidence, Rule, RuleSet};

/// A secret found by a rule, before it is placed on a line or filtered by location.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawMatch {
    /// Index of the rule in the [`RuleSet`].
    pub rule: usize,
    /// Byte range of the secret.
    pub secret: Range<usize>,
    /// Length of the family prefix at the start of the secret (kept when redacting).
    pub prefix_len: usize,
}

/// A regex match together with the verdict of the rule's filters (for `rules check`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate {
    /// The match.
    pub found: RawMatch,
    /// Why it is not a secret, or `None` if it is reported.
    pub rejection: Option<Rejection>,
}

/// Per-thread working memory for [`Matcher::find`].
#[derive(Debug, Default)]
pub struct Scratch {
    prefilter: PrefilterScratch,
    candidates: Vec<usize>,
}

/// Matches a [`RuleSet`] against byte slices. Cheap to share between threads.
#[derive(Debug)]
pub struct Matcher {
    rules: Arc<RuleSet>,
    prefilter: KeywordPrefilter,
}

impl Matcher {
    /// Builds the keyword prefilter for the rules.
    pub fn new(rules: Arc<RuleSet>) -> Self {
        let prefilter = KeywordPrefilter::new(&rules);
        Matcher { rules, prefilter }
    }

    /// The rules this matcher applies.
    pub fn rules(&self) -> &Arc<RuleSet> {
        &self.rules
    }

    /// Appends to `out` every secret in `haystack`, in rule order then position order. A
    /// low-confidence match (the generic rule) whose secret overlaps one of a more confident
    /// rule is left out: that rule already reports the secret, under its real name.
    pub fn find(&self, haystack: &[u8], scratch: &mut Scratch, out: &mut Vec<RawMatch>) {
        let start = out.len();
        self.for_each_candidate(haystack, scratch, |candidate| {
            if candidate.rejection.is_none() {
                out.push(candidate.found);
            }
        });
        self.drop_shadowed(start, out);
    }

    /// Removes, from `out[start..]`, low-confidence matches that overlap a more confident one.
    fn drop_shadowed(&self, start: usize, out: &mut Vec<RawMatch>) {
        let is_weak = |found: &RawMatch| self.rules.get(found.rule).spec.confidence == Confidence::Low;
        let strong = Spans::new(out[start..].iter().filter(|found| !is_weak(found)).map(|found| found.secret.clone()));
        let mut index = 0;
        out.retain(|found| {
            let keep = index < start || !is_weak(found) || !strong.overlap(&found.secret);
            index += 1;
            keep
        });
    }

    /// Every regex match with its filter verdict, accepted or not.
    pub fn candidates(&self, haystack: &[u8]) -> Vec<Candidate> {
        let mut all = Vec::new();
        self.for_each_candidate(haystack, &mut Scratch::default(), |candidate| all.push(candidate));
        all
    }

    fn for_each_candidate(&self, haystack: &[u8], scratch: &mut Scratch, mut emit: impl FnMut(Candidate)) {
        self.candidate_rules(haystack, scratch);
        scratch.candidates.sort_unstable();
        for &index in &scratch.candidates {
            let rule = self.rules.get(index);
            for_each_regex_match(rule, haystack, |whole, secret, prefix_len| {
                let rejection = rejection(rule, haystack, whole, secret.clone());
                emit(Candidate { found: RawMatch { rule: index, secret, prefix_len }, rejection });
            });
        }
    }

    /// The indices of the rules whose keywords occur in `haystack` (unsorted): the only ones
    /// whose regexes [`Matcher::find`] runs.
    pub fn candidate_rules<'s>(&self, haystack: &[u8], scratch: &'s mut Scratch) -> &'s [usize] {
        self.prefilter.select(haystack, self.rules.rules().len(), &mut scratch.prefilter, &mut scratch.candidates);
        &scratch.candidates
    }
}

/// Byte ranges, sorted by start, that answer "does any of them overlap this one?" with a
/// binary search: one match per key in a file of thousands of keys costs no quadratic time.
struct Spans {
    starts: Vec<usize>,
    /// The furthest end among the span at the same index and those before it.
    reach: Vec<usize>,
}

impl Spans {
    fn new(spans: impl Iterator<Item = Range<usize>>) -> Self {
        let mut spans: Vec<Range<usize>> = spans.collect();
        spans.sort_unstable_by_key(|span| span.start);
        let reach = spans
            .iter()
            .scan(0, |furthest, span| {
                *furthest = span.end.max(*furthest);
                Some(*furthest)
            })
            .collect();
        Spans { starts: spans.iter().map(|span| span.start).collect(), reach }
    }

    /// Whether a span starts before `span` ends and ends after it starts.
    fn overlap(&self, span: &Range<usize>) -> bool {
        let before_end = self.starts.partition_point(|&start| start < span.end);
        before_end > 0 && self.reach[before_end - 1] > span.start
    }
}

/// Calls `emit(match_range, secret_range, prefix_len)` for each match of the rule's regex. The search
/// resumes at the end of each secret rather than of the whole match, so a delimiter consumed
/// after one secret can open the next (`key1,key2`).
fn for_each_regex_match(rule: &Rule, haystack: &[u8], mut emit: impl FnMut(Range<usize>, Range<usize>, usize)) {
    let compiled = rule.compiled();
    let mut locations = compiled.regex.capture_locations();
    let mut start = 0;
    while start <= haystack.len() {
        let Some(whole) = compiled.regex.captures_read_at(&mut locations, haystack, start) else {
            break;
        };
        let secret =
            compiled.secret_groups.iter().find_map(|&group| locations.get(group)).map_or(whole.range(), |(s, e)| s..e);
        let prefix_len = compiled
            .prefix_groups
            .iter()
            .filter_map(|&group| locations.get(group))
            .find(|&(s, e)| s == secret.start && e <= secret.end)
            .map_or(0, |(s, e)| e - s);
        start = secret.end.max(whole.start() + 1);
        if !secret.is_empty() {
            emit(whole.range(), secret, prefix_len);
        }
    }
}

/// Longest stretch of name characters a match is widened over at its start.
const MAX_WORD_WIDENING: usize = 64;

/// The start of the word (letters, digits, `_`, `-`, `.`) that `start` falls in, so that
/// `allow_match` sees `NextToken` when the regex matched from `Token`. Bounded, so a long run
/// costs little.
fn word_start(haystack: &[u8], start: usize) -> usize {
    let floor = start.saturating_sub(MAX_WORD_WIDENING);
    let is_word = |b: u8| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.');
    haystack[floor..start].iter().rposition(|&b| !is_word(b)).map_or(floor, |i| floor + i + 1)
}

/// The rule's own filters and the shared ones, in order of cost, for the regex match `whole`
/// and its `secret`. `allow_match` sees the match widened to the word it starts in; `near`
/// looks for its context around the match.
fn rejection(rule: &Rule, haystack: &[u8], whole: Range<usize>, secret: Range<usize>) -> Option<Rejection> {
    let spec = &rule.spec;
    let secret = &haystack[secret];
    if spec.entropy.is_some_and(|minimum| precision::shannon_entropy(secret) < minimum) {
        return Some(Rejection::LowEntropy);
    }
    if spec.placeholder_filter {
        if let Some(rejection) = precision::shared_rejection(secret) {
            return Some(rejection);
        }
    }
    if precision::has_stopword(secret, rule.stopwords()) {
        return Some(Rejection::Stopword);
    }
    let compiled = rule.compiled();
    let matched = &haystack[word_start(haystack, whole.start)..whole.end];
    if compiled.allow.iter().any(|allow| allow.is_match(secret))
        || compiled.allow_match.iter().any(|allow| allow.is_match(matched))
    {
        return Some(Rejection::AllowedByRule);
    }
    if let Some((context, distance)) = &compiled.near {
        let window = whole.start.saturating_sub(*distance)..whole.end.saturating_add(*distance).min(haystack.len());
        if !context.is_match(&haystack[window]) {
            return Some(Rejection::NoContext);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn matcher(toml: &str) -> Matcher {
        Matcher::new(Arc::new(RuleSet::from_toml(toml, "test.toml").expect("valid rules")))
    }

    fn secrets(matcher: &Matcher, haystack: &[u8]) -> Vec<String> {
        let mut out = Vec::new();
        matcher.find(haystack, &mut Scratch::default(), &mut out);
        out.iter().map(|m| String::from_utf8_lossy(&haystack[m.secret.clone()]).into_owned()).collect()
    }

    const TOKEN_RULE: &str = r#"
[[rule]]
id = "tok"
description = "token"
regex = '(?:\A|[^A-Za-z0-9])(?P<secret>(?P<prefix>tok_)[A-Za-z0-9]{8})(?:[^A-Za-z0-9]|\z)'
keywords = ["tok_"]
"#;

    #[test]
    fn spans_overlap_when_they_share_a_byte() {
        let spans = Spans::new([10..20, 12..14, 30..40].into_iter());
        for inside in [5..11, 19..25, 13..13, 15..16, 35..50] {
            assert!(spans.overlap(&inside), "{inside:?}");
        }
        for outside in [0..10, 20..30, 40..41] {
            assert!(!spans.overlap(&outside), "{outside:?}");
        }
        assert!(!Spans::new(std::iter::empty()).overlap(&(0..5)));
    }

    #[test]
    fn adjacent_secrets_sharing_a_delimiter_are_both_found() {
        let m = matcher(TOKEN_RULE);
        assert_eq!(secrets(&m, b"tok_Q8mZ3vL0,tok_R7nB5kX9"), ["tok_Q8mZ3vL0", "tok_R7nB5kX9"]);
    }

    #[test]
    fn keywords_are_case_insensitive_and_gate_the_regex() {
        let m = matcher(TOKEN_RULE);
        assert_eq!(secrets(&m, b"nothing here"), Vec::<String>::new());
        let mut scratch = Scratch::default();
        assert_eq!(m.candidate_rules(b"xx TOK_ yy", &mut scratch), [0]);
    }

    #[test]
    fn prefix_group_length_is_reported() {
        let m = matcher(TOKEN_RULE);
        let mut out = Vec::new();
        m.find(b"a tok_Q8mZ3vL0 b", &mut Scratch::default(), &mut out);
        assert_eq!(out[0].prefix_len, 4);
    }

    #[test]
    fn near_context_counts_on_either_side_within_its_distance() {
        let m = matcher(
            "[[rule]]\nid='hex'\ndescription='d'\nregex='key=(?P<secret>[0-9a-f]{8})'\n\
             near = { regex = '(?i)vendor', distance = 10 }\n",
        );
        assert_eq!(secrets(&m, b"VENDOR    key=4f3a9c1e"), ["4f3a9c1e"]);
        assert_eq!(secrets(&m, b"key=4f3a9c1e  vendor"), ["4f3a9c1e"]);
        assert_eq!(secrets(&m, b"vendor     . key=4f3a9c1e"), Vec::<String>::new());
        let rejected = m.candidates(b"key=4f3a9c1e");
        assert_eq!(rejected[0].rejection, Some(Rejection::NoContext));
    }

    #[test]
    fn the_secret_is_the_first_numbered_group_that_matched() {
        let sides = r"host\W{1,5}(?P<secret>(?P<prefix>k_)\d{4})|(?P<secret2>(?P<prefix2>k_)\d{4})\W{1,5}host";
        let m = matcher(&format!("[[rule]]\nid = 'near'\ndescription = 'd'\nregex = '{sides}'\nkeywords = ['host']\n"));
        let mut out = Vec::new();
        m.find(b"host: k_7391 ... k_2846 = host", &mut Scratch::default(), &mut out);
        let found: Vec<_> = out.iter().map(|raw| (raw.secret.clone(), raw.prefix_len)).collect();
        assert_eq!(found, [(6..12, 2), (17..23, 2)]);
    }

    #[test]
    fn a_low_confidence_match_under_a_specific_one_is_dropped() {
        let generic = "[[rule]]\nid = 'generic'\ndescription = 'd'\nregex = 'key = (\\w+)'\nkeywords = ['key']\nconfidence = 'low'\n";
        let m = matcher(&format!("{generic}{TOKEN_RULE}"));
        let mut out = Vec::new();
        m.find(b"key = tok_Q8mZ3vL0\nkey = Zp4Wd7Lx", &mut Scratch::default(), &mut out);
        let rules: Vec<usize> = out.iter().map(|found| found.rule).collect();
        assert_eq!(rules, [0, 1], "the generic match on line 2 stays, the one on line 1 goes");
        assert_eq!(out[0].secret, 25..33);
        assert_eq!(out[1].secret, 6..18);
    }

    #[test]
    fn filters_reject_with_a_reason() {
        let m = matcher(
            r#"
[[rule]]
id = "tok"
description = "token"
regex = 'tok_([A-Za-z0-9]{8})'
keywords = ["tok_"]
entropy = 2.5
stopwords = ["q8mz"]
allow = ['^R7']
allow_match = ['^next']
"#,
        );
        let verdicts: Vec<_> = m
            .candidates(b"tok_aaaaaaaa tok_Q8mZ3vL0 tok_R7nB5kX9 nexttok_Wd7Lx4Zp tok_Zp4Wd7Lx")
            .into_iter()
            .map(|c| c.rejection)
            .collect();
        assert_eq!(
            verdicts,
            [
                Some(Rejection::LowEntropy),
                Some(Rejection::Stopword),
                Some(Rejection::AllowedByRule),
                Some(Rejection::AllowedByRule),
                None
            ]
        );
    }
}
