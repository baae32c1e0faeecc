//! The scanning pipeline between a source and the reporters: runs the matcher over each
//! blob, places matches on lines, drops inline-allowed ones, and gathers the findings of all
//! worker threads into one sorted [`ScanOutcome`].

use std::collections::BTreeMap;
use std::ops::Range;
use std::sync::Mutex;
use std::time::Duration;

use crate::archive::{self, Budget, Event, Stop};
use crate::config::DEFAULT_MAX_FILE_SIZE;
use crate::decode::{self, base64, Encoding};
use crate::filter::{self, DropReason, Filters, InlineAllows};
use crate::finding::{self, Finding};
use crate::lines;
use crate::matcher::{Matcher, RawMatch, Scratch};
use crate::source::{SkipReason, Skipped, SourceStats};
use crate::verify::Verifications;

/// What to look for inside blobs, besides their bytes as they are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExpandOptions {
    /// Decode base64 runs and UTF-16 text and scan the result (`--no-decode` turns it off).
    pub decode: bool,
    /// Open archives within these limits (`None`, `--no-archives`: scan them as raw bytes).
    pub archives: Option<archive::Limits>,
    /// Archive members larger than this are skipped, like files (`--max-file-size`).
    pub max_member_size: u64,
}

impl Default for ExpandOptions {
    fn default() -> Self {
        ExpandOptions {
            decode: true,
            archives: Some(archive::Limits::default()),
            max_member_size: DEFAULT_MAX_FILE_SIZE,
        }
    }
}

/// Scans blobs one after another on one thread, reusing its scratch memory.
///
/// Each blob is scanned as it is, then what it holds is scanned too, recursively: the members
/// of an archive (reported as `bundle.zip!inner/.env`, lines counted in the member), the
/// UTF-16 text of a UTF-16 file (same path and lines), and the base64 runs that decode to text
/// (reported at the encoded text, with the encodings in [`Finding::decoded`]). An archive
/// that opens is scanned through its members only, not also as raw bytes.
pub struct BlobScanner<'m> {
    matcher: &'m Matcher,
    scratch: Scratch,
    raw: Vec<RawMatch>,
    options: ExpandOptions,
}

impl<'m> BlobScanner<'m> {
    /// A scanner for one worker thread.
    pub fn new(matcher: &'m Matcher, options: &ExpandOptions) -> Self {
        BlobScanner { matcher, scratch: Scratch::default(), raw: Vec::new(), options: options.clone() }
    }

    /// Finds the secrets in `bytes` and in what it holds. `path` is only called when there is
    /// something to report; what could not be looked into is counted in `sink.stats`.
    pub fn scan(&mut self, bytes: &[u8], path: impl FnOnce() -> String, sink: &mut FindingSink) {
        let mut path = Some(path);
        let mut make_root = || path.take().map_or_else(String::new, |make| make());
        let mut blob = Blob { sink, make_root: &mut make_root, root: None, members: Vec::new() };
        let mut budget = Budget::new(&self.options.archives.unwrap_or_default());
        self.scan_located(bytes, 0, &mut budget, &mut blob);
    }

    /// A file or archive member: its members if it is an archive, else its text.
    fn scan_located(&mut self, bytes: &[u8], depth: usize, budget: &mut Budget, blob: &mut Blob) {
        if let (Some(limits), Some(format)) = (self.options.archives, archive::detect(bytes)) {
            if depth >= limits.max_depth {
                let path = blob.path();
                blob.warn(format!(
                    "{path}: {} archive nested deeper than --archive-depth {}; scanned as raw bytes",
                    format.name(),
                    limits.max_depth
                ));
            } else if self.scan_archive(bytes, format, &limits, depth, budget, blob) {
                return;
            }
        }
        let mut decoding = Decoding { budget: decode::DECODE_BUDGET, exhausted: false };
        self.scan_view(View::new(bytes, None), 0, &mut decoding, blob);
        if decoding.exhausted {
            let path = blob.path();
            blob.warn(format!(
                "{path}: stopped decoding base64 after {} decoded; the rest of its base64 text was scanned only as it is",
                crate::source::human_bytes(decode::DECODE_BUDGET as u64)
            ));
        }
    }

    /// Scans the members of an archive. False if it could not be opened at all, so that the
    /// caller scans its raw bytes instead.
    fn scan_archive(
        &mut self,
        bytes: &[u8],
        format: archive::Format,
        limits: &archive::Limits,
        depth: usize,
        budget: &mut Budget,
        blob: &mut Blob,
    ) -> bool {
        let mut events = 0;
        let max_member_size = self.options.max_member_size;
        let result = archive::read(bytes, format, limits, max_member_size, budget, &mut |event, budget| {
            events += 1;
            match event {
                Event::Member { name, bytes } => {
                    let name = if name.is_empty() { gunzipped_name(&blob.path()) } else { name.to_string() };
                    blob.sink.stats.nested.members += 1;
                    blob.sink.stats.nested.member_bytes += bytes.len() as u64;
                    blob.members.push(name);
                    self.scan_located(bytes, depth + 1, budget, blob);
                    blob.members.pop();
                }
                Event::TooLarge { name, size } => {
                    let path = blob.member_path(name).into();
                    blob.sink.stats.skipped.push(Skipped { path, reason: SkipReason::TooLarge { size } });
                }
                Event::Unsupported { name, reason } => {
                    let path = blob.member_path(name);
                    blob.warn(format!("{path}: not scanned: {reason}"));
                }
            }
        });
        let path = blob.path();
        match result {
            Ok(()) => true,
            Err(stop @ Stop::Malformed { .. }) if events == 0 => {
                blob.warn(format!("{path}: {stop}; scanned as raw bytes"));
                false
            }
            Err(stop) => {
                blob.warn(format!("{path}: {stop}; the rest of the archive was not scanned"));
                true
            }
        }
    }

    /// Scans a view and what it holds, then places its findings on its lines.
    fn scan_view(&mut self, mut view: View, depth: usize, decoding: &mut Decoding, blob: &mut Blob) {
        let text = view.text;
        self.scan_text(&mut view, text, None, depth, decoding, blob);
        view.settle(self.matcher, blob);
    }

    /// Scans `text` (the view itself, or decoded from it through `layer`), then the texts
    /// decoded from it.
    fn scan_text(
        &mut self,
        view: &mut View,
        text: &[u8],
        layer: Option<&Layer>,
        depth: usize,
        decoding: &mut Decoding,
        blob: &mut Blob,
    ) {
        self.report(view, text, layer, blob);
        if !self.options.decode || depth >= decode::MAX_DEPTH {
            return;
        }
        let (decoded, exhausted) = match decode::utf16_layer(text) {
            Some(transcoded) => (vec![transcoded], false),
            None if !decode::is_binary(text) => decode::base64_layer(text, &mut decoding.budget),
            None => (Vec::new(), false),
        };
        decoding.exhausted |= exhausted;
        for found in &decoded {
            blob.sink.stats.nested.decoded += 1;
            if layer.is_none() && view.encoding.is_none() && found.encoding != Encoding::Base64 {
                // A UTF-16 file: its text is what lines and columns are counted in.
                self.scan_view(View::new(&found.text, Some(found.encoding)), depth + 1, decoding, blob);
            } else {
                let chars =
                    (found.encoding == Encoding::Base64).then(|| base64::CharMap::new(&text[found.span.clone()]));
                let inner = Layer { outer: layer, span: found.span.clone(), chars, encoding: found.encoding };
                self.scan_text(view, &found.text, Some(&inner), depth + 1, decoding, blob);
            }
        }
    }

    /// Runs the matcher over `text` and leaves what it finds with the view, to be placed on
    /// the view's lines. A decoded text's own allow comments (a base64'd config file) count
    /// in it; the view's count when the view is settled.
    fn report(&mut self, view: &mut View, text: &[u8], layer: Option<&Layer>, blob: &mut Blob) {
        self.raw.clear();
        self.matcher.find(text, &mut self.scratch, &mut self.raw);
        if self.raw.is_empty() {
            return;
        }
        let allowed_inside = match layer {
            Some(_) => allowed_in(text, &self.raw),
            None => vec![false; self.raw.len()],
        };
        let decoded = describe(view, layer);
        for (found, allowed) in self.raw.iter().zip(allowed_inside) {
            if allowed {
                blob.sink.dropped.push(DropReason::InlineAllow);
                continue;
            }
            view.pending.push(Unplaced {
                rule: found.rule,
                secret: text[found.secret.clone()].to_vec(),
                prefix_len: found.prefix_len,
                span: Layer::to_view(layer, found.secret.clone()),
                decoded: decoded.clone(),
            });
        }
    }

    /// `text` with every secret in it redacted, for text shown next to findings (a commit's
    /// summary line may itself hold a key).
    pub fn redact_secrets(&mut self, text: &str) -> String {
        self.raw.clear();
        self.matcher.find(text.as_bytes(), &mut self.scratch, &mut self.raw);
        self.raw.sort_by_key(|found| found.secret.start);
        let mut out = String::with_capacity(text.len());
        let mut copied = 0;
        for found in &self.raw {
            let Some(secret) = text.get(found.secret.clone()).filter(|_| found.secret.start >= copied) else {
                continue;
            };
            out.push_str(&text[copied..found.secret.start]);
            out.push_str(&finding::redact(secret, found.prefix_len));
            copied = found.secret.end;
        }
        out.push_str(&text[copied..]);
        out
    }
}

/// The blob being scanned: where its findings go, and its path, resolved on first use.
struct Blob<'s, 'f> {
    sink: &'s mut FindingSink,
    make_root: &'f mut dyn FnMut() -> String,
    root: Option<String>,
    /// Names of the archive members being read, outermost first.
    members: Vec<String>,
}

impl Blob<'_, '_> {
    /// `root!member!member`: the path of what is being scanned.
    fn path(&mut self) -> String {
        let root = self.root.get_or_insert_with(&mut *self.make_root);
        std::iter::once(root.as_str()).chain(self.members.iter().map(String::as_str)).collect::<Vec<_>>().join("!")
    }

    /// The path of a member of what is being scanned.
    fn member_path(&mut self, name: &str) -> String {
        format!("{}!{name}", self.path())
    }

    fn warn(&mut self, message: String) {
        self.sink.stats.warnings.push(message);
    }
}

/// The name given to the content of a gzip file that does not store one: `app.log.gz` →
/// `app.log`, `site.tgz` → `site.tar`.
fn gunzipped_name(path: &str) -> String {
    let file = path.rsplit(['/', '!']).next().unwrap_or(path);
    if let Some(stem) = file.strip_suffix(".tgz") {
        format!("{stem}.tar")
    } else {
        file.strip_suffix(".gz").or_else(|| file.strip_suffix(".gzip")).unwrap_or("gunzipped").to_string()
    }
}

/// The text findings are reported in: a file or member, or the UTF-8 text of a UTF-16 one.
struct View<'v> {
    text: &'v [u8],
    /// How the file was encoded, if it was transcoded.
    encoding: Option<Encoding>,
    /// What was found in it or in the texts decoded from it, not yet placed on its lines.
    pending: Vec<Unplaced>,
}

/// A secret found in a view, waiting for the one pass over the view's text that places all
/// of them on their lines.
struct Unplaced {
    rule: usize,
    secret: Vec<u8>,
    prefix_len: usize,
    /// Where it is in the view: the secret, or the encoded text holding it.
    span: Range<usize>,
    decoded: Option<String>,
}

impl<'v> View<'v> {
    fn new(text: &'v [u8], encoding: Option<Encoding>) -> Self {
        View { text, encoding, pending: Vec::new() }
    }

    /// Places the pending secrets on the view's lines and reports those without a
    /// `keyhound:allow` comment on their lines.
    fn settle(self, matcher: &Matcher, blob: &mut Blob) {
        if self.pending.is_empty() {
            return;
        }
        let spans: Vec<Range<usize>> = self.pending.iter().map(|found| found.span.clone()).collect();
        let positions = lines::positions(self.text, &spans);
        let allows = InlineAllows::of(self.text);
        let path = blob.path();
        for (found, position) in self.pending.into_iter().zip(positions) {
            if allows.cover(&position) {
                blob.sink.dropped.push(DropReason::InlineAllow);
                continue;
            }
            let rule = matcher.rules().get(found.rule);
            let mut finding = Finding::new(rule, &found.secret, found.prefix_len, path.clone(), position);
            finding.decoded = found.decoded;
            blob.sink.findings.push(finding);
        }
    }
}

/// For each match in `text`, whether an allow comment in `text` is on its lines.
fn allowed_in(text: &[u8], found: &[RawMatch]) -> Vec<bool> {
    let allows = InlineAllows::of(text);
    if allows.is_empty() {
        return vec![false; found.len()];
    }
    let spans: Vec<Range<usize>> = found.iter().map(|found| found.secret.clone()).collect();
    lines::positions(text, &spans).iter().map(|position| allows.cover(position)).collect()
}

/// One decoding between the view and the text being scanned.
struct Layer<'a> {
    outer: Option<&'a Layer<'a>>,
    /// The encoded span, in the text it lies in.
    span: Range<usize>,
    /// Where the span's base64 characters are (`None` for a transcoded text).
    chars: Option<base64::CharMap>,
    encoding: Encoding,
}

impl Layer<'_> {
    /// Maps a range of the innermost decoded text to the view, layer by layer: into the
    /// base64 characters that encode it, or onto the whole span of a transcoded text.
    fn to_view(mut layer: Option<&Layer>, mut range: Range<usize>) -> Range<usize> {
        while let Some(current) = layer {
            range = match &current.chars {
                Some(chars) => {
                    let encoded = chars.encoded_span(range);
                    current.span.start + encoded.start..current.span.start + encoded.end
                }
                None => current.span.clone(),
            };
            layer = current.outer;
        }
        range
    }
}

/// The encodings a secret was found under, outermost first: `base64`, `utf-16le+base64`.
fn describe(view: &View, layer: Option<&Layer>) -> Option<String> {
    let mut names = Vec::new();
    let mut current = layer;
    while let Some(step) = current {
        names.push(step.encoding.name());
        current = step.outer;
    }
    names.extend(view.encoding.map(Encoding::name));
    names.reverse();
    (!names.is_empty()).then(|| names.join("+"))
}

/// How much base64 is left to decode in one file or member.
struct Decoding {
    budget: usize,
    exhausted: bool,
}

/// Findings and drops gathered by one thread, or merged from all.
#[derive(Debug, Default)]
pub struct FindingSink {
    /// Findings kept so far.
    pub findings: Vec<Finding>,
    /// Why the others were dropped.
    pub dropped: Vec<DropReason>,
    /// What was scanned inside blobs, and what inside them was skipped (archive members too
    /// large, malformed archives, limits reached).
    pub stats: SourceStats,
}

impl FindingSink {
    /// Moves another sink's contents into this one.
    pub fn absorb(&mut self, other: &mut FindingSink) {
        self.findings.append(&mut other.findings);
        self.dropped.append(&mut other.dropped);
        self.stats.merge(std::mem::take(&mut other.stats));
    }

    /// True when there is nothing to move.
    pub fn is_empty(&self) -> bool {
        self.findings.is_empty() && self.dropped.is_empty() && self.stats.is_empty()
    }
}

/// A sink shared by worker threads: each thread fills its own [`FindingSink`] per blob and
/// flushes it here only when it holds something.
#[derive(Debug, Default)]
pub struct SharedSink(Mutex<FindingSink>);

impl SharedSink {
    /// Moves a thread's findings in, if it has any.
    pub fn flush(&self, local: &mut FindingSink) {
        if !local.is_empty() {
            self.0.lock().expect("no thread panics while holding the lock").absorb(local);
        }
    }

    /// The gathered findings and drops.
    pub fn into_inner(self) -> FindingSink {
        self.0.into_inner().expect("worker threads have finished")
    }
}

/// The result of a scan of any source, ready for the reporters.
#[derive(Debug, Default, Clone)]
pub struct ScanOutcome {
    /// Reported findings, in output order.
    pub findings: Vec<Finding>,
    /// How many findings were dropped, by reason.
    pub dropped: BTreeMap<DropReason, usize>,
    /// Ignore-file and baseline entries that matched nothing (with `--report-unused`).
    pub unused: Vec<String>,
    /// What the source read and skipped.
    pub stats: SourceStats,
    /// Wall-clock time of the scan.
    pub elapsed: Duration,
    /// `--verify` results by fingerprint (empty without `--verify`).
    pub verifications: Verifications,
}

impl ScanOutcome {
    /// Applies the filters (allowlist, ignore file, baseline), sorts, and counts drops. What
    /// the scanner counted inside blobs is added to the source's `stats`.
    pub fn new(sink: FindingSink, filters: &Filters, mut stats: SourceStats, elapsed: Duration) -> Self {
        let mut nested = sink.stats;
        // Threads finish blobs in any order; the summary should not.
        nested.warnings.sort();
        nested.skipped.sort_by(|a, b| a.path.cmp(&b.path));
        stats.merge(nested);
        let filter::Filtered { kept: mut findings, dropped: dropped_reasons, unused } =
            filters.apply(sink.findings, sink.dropped);
        findings.sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
        let mut dropped = BTreeMap::new();
        for reason in dropped_reasons {
            *dropped.entry(reason).or_insert(0) += 1;
        }
        ScanOutcome { findings, dropped, unused, stats, elapsed, verifications: Verifications::new() }
    }

    /// True when something could not be scanned.
    pub fn is_incomplete(&self) -> bool {
        !self.stats.errors.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::RuleSet;
    use std::sync::Arc;

    #[test]
    fn redact_secrets_hides_every_key_in_a_line() {
        let key = format!(
            "sk-proj-{}{}{}",
            "Ab1Cd2Ef3Gh4Ij5Kl6Mn7Op8Qr9St0",
            ["T3Blbk", "FJ"].concat(),
            "Uv1Wx2Yz3Ab4Cd5Ef6Gh7Ij8Kl9Mn0"
        );
        let matcher = Matcher::new(Arc::new(RuleSet::builtin().unwrap()));
        let mut scanner = BlobScanner::new(&matcher, &ExpandOptions::default());
        let text = format!("add {key} and {key}");
        let redacted = scanner.redact_secrets(&text);
        assert!(!redacted.contains(&key), "{redacted}");
        assert_eq!(redacted.matches("sk-proj-…").count(), 2, "{redacted}");
        assert_eq!(scanner.redact_secrets("nothing here"), "nothing here");
    }
}
