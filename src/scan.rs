//! The scanning between a source and the post-scan pipeline: runs the matcher over each
//! blob, places matches on lines (with each line, redacted: [`crate::context`]), drops
//! inline-allowed ones, and leaves the findings of each
//! worker thread in its [`FindingSink`], which the driver ([`crate::driver`]) merges for
//! [`crate::pipeline`].

use std::cell::OnceCell;
use std::collections::HashSet;
use std::ops::Range;

use crate::archive::{self, Budget, Event, Stop};
use crate::context;
use crate::decode::{self, base64, percent, Encoding};
use crate::filter::{DropReason, InlineAllows};
use crate::finding::Finding;
use crate::lines;
use crate::matcher::{Matcher, RawMatch, Scratch};
use crate::redact::{self, SecretSpan};
use crate::size::{human_bytes, DEFAULT_MAX_FILE_SIZE};
use crate::source::{Origin, Provenance, SkipReason, Skipped, SourceStats};

/// What to look for inside blobs, besides their bytes as they are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExpandOptions {
    /// Decode base64 and percent-encoded runs and UTF-16 text and scan the result (`--no-decode`
    /// turns it off).
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
/// (reported at the encoded text, with the encodings in [`Finding::decoded`]). An archive's
/// raw bytes are scanned too; a secret its members reported is not reported again from them.
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

    /// Finds the secrets in `bytes` and in what it holds. `origin` is only called when there is
    /// something to report; what could not be looked into is counted in `sink.stats`.
    pub fn scan(&mut self, bytes: &[u8], origin: impl FnOnce() -> Origin, sink: &mut FindingSink) {
        let mut origin = Some(origin);
        let mut make_root = || origin.take().map_or_else(|| Origin::File(String::new()), |make| make());
        let mut blob = Blob { sink, make_root: &mut make_root, root: None, members: Vec::new(), spans: None };
        let mut budget = Budget::new(&self.options.archives.unwrap_or_default());
        self.scan_located(bytes, 0, &mut budget, &mut blob);
    }

    /// A file or archive member: its members if it is an archive, then its bytes as they are.
    /// An archive's raw bytes are scanned too: a prefix, the gaps between members, a comment,
    /// bytes past the end its directory claims, or what a limit or damage stopped the reader
    /// before, can all hold a key no member shows. Of what the raw bytes hold, secrets the
    /// members already reported are dropped (a stored member's bytes are in the raw bytes too:
    /// one key, one finding).
    fn scan_located(&mut self, bytes: &[u8], depth: usize, budget: &mut Budget, blob: &mut Blob) {
        let from_members = blob.sink.findings.len();
        self.scan_if_archive(bytes, depth, budget, blob);
        let from_raw = blob.sink.findings.len();
        self.scan_raw(bytes, blob);
        blob.drop_repeats(from_members..from_raw);
    }

    /// Scans the members of `bytes` if it is an archive to open.
    fn scan_if_archive(&mut self, bytes: &[u8], depth: usize, budget: &mut Budget, blob: &mut Blob) {
        let (Some(limits), Some(format)) = (self.options.archives, archive::detect(bytes)) else {
            return;
        };
        if depth < limits.max_depth {
            self.scan_archive(bytes, format, &limits, depth, budget, blob);
        } else {
            let path = blob.path();
            blob.warn(format!(
                "{path}: {} archive nested deeper than --archive-depth {}; scanned as raw bytes",
                format.name(),
                limits.max_depth
            ));
        }
    }

    /// A blob's bytes as they are, and the texts decoded from them.
    fn scan_raw(&mut self, bytes: &[u8], blob: &mut Blob) {
        let mut decoding = Decoding::new();
        self.scan_view(View::new(bytes, None), 0, &mut decoding, blob);
        if decoding.exhausted {
            let path = blob.path();
            blob.warn(format!(
                "{path}: stopped decoding after {} decoded; the rest of its base64 and percent-encoded text was scanned only as it is",
                human_bytes(decode::DECODE_BUDGET as u64)
            ));
        }
    }

    /// Scans the members of an archive, and says why if it could not be read to its end.
    fn scan_archive(
        &mut self,
        bytes: &[u8],
        format: archive::Format,
        limits: &archive::Limits,
        depth: usize,
        budget: &mut Budget,
        blob: &mut Blob,
    ) {
        let mut events = 0;
        let max_member_size = self.options.max_member_size;
        let result = archive::read(bytes, format, limits, max_member_size, budget, &mut |event, budget| {
            events += 1;
            match event {
                Event::Member { name, bytes } => {
                    let name = if name.is_empty() { gunzipped_name(&blob.provenance()) } else { name.to_string() };
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
            Ok(()) => {}
            Err(stop @ Stop::Malformed { .. }) if events == 0 => {
                blob.warn(format!("{path}: {stop}; scanned as raw bytes"))
            }
            Err(stop) => {
                blob.warn(format!("{path}: {stop}; scanned the members before it, and the archive as raw bytes"))
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
        let decoded = match decode::utf16_layer(text) {
            Some(transcoded) => vec![transcoded],
            None if !decode::is_binary(text) => decoding.runs(text),
            None => Vec::new(),
        };
        for found in &decoded {
            blob.sink.stats.nested.decoded += 1;
            if layer.is_none() && view.encoding.is_none() && found.encoding.is_transcoding() {
                // A UTF-16 file: its text is what lines and columns are counted in.
                self.scan_view(View::new(&found.text, Some(found.encoding)), depth + 1, decoding, blob);
            } else {
                let inner = Layer::new(layer, text, found.span.clone(), found.encoding);
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
        if let Some(spans) = blob.spans.as_deref_mut() {
            spans.extend(self.raw.iter().map(|found| SecretSpan::in_view(view, layer, found)));
            return;
        }
        // A secret a percent layer holds as it is was found in the text around it already.
        let new: Vec<&RawMatch> = self
            .raw
            .iter()
            .filter(|found| !layer.is_some_and(|layer| layer.repeats_outer(found.secret.clone())))
            .collect();
        let allowed_inside = match layer {
            Some(_) => allowed_in(text, new.iter().map(|found| found.secret.clone()).collect()),
            None => vec![false; new.len()],
        };
        let decoded = describe(view, layer);
        for (found, allowed) in new.into_iter().zip(allowed_inside) {
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

    /// `fields` with every secret in them masked (see [`redact::mask`]), for text shown
    /// beside findings: a commit's author, email and message. The fields are searched
    /// together, joined by newlines, so that a key's context in one (`deepseek` in a
    /// message's body) counts for a key in another (its summary line), and with decoding on,
    /// so that a base64-encoded key is masked too.
    pub fn redact_fields<const N: usize>(&mut self, fields: [&str; N]) -> [String; N] {
        let joined = fields.join("\n");
        let spans = self.secret_spans(joined.as_bytes());
        let mut start = 0;
        fields.map(|field| {
            let range = start..start + field.len();
            start = range.end + 1;
            redact::mask(&joined, range, &spans)
        })
    }

    /// Where `text` holds secrets, by the same rules and decoding as [`BlobScanner::scan`]
    /// (archives aside, and decoding even with `--no-decode`): sorted, overlapping ones
    /// merged. Inline-allowed secrets are included: masking text is not reporting it.
    fn secret_spans(&mut self, text: &[u8]) -> Vec<SecretSpan> {
        let mut sink = FindingSink::default();
        let mut no_path = || Origin::File(String::new());
        let mut spans = Vec::new();
        let mut blob =
            Blob { sink: &mut sink, make_root: &mut no_path, root: None, members: Vec::new(), spans: Some(&mut spans) };
        let decode = std::mem::replace(&mut self.options.decode, true);
        let mut decoding = Decoding::new();
        self.scan_view(View::new(text, None), 0, &mut decoding, &mut blob);
        self.options.decode = decode;
        redact::merged(spans)
    }
}

/// The blob being scanned: where its findings go, and its origin, resolved on first use.
struct Blob<'s, 'f> {
    sink: &'s mut FindingSink,
    make_root: &'f mut dyn FnMut() -> Origin,
    root: Option<Origin>,
    /// Names of the archive members being read, outermost first.
    members: Vec<String>,
    /// Set when redacting: where the secrets are is recorded here, and no finding is made.
    spans: Option<&'s mut Vec<SecretSpan>>,
}

impl Blob<'_, '_> {
    /// Where what is being scanned came from: the blob's origin and the members open in it.
    fn provenance(&mut self) -> Provenance {
        let origin = self.root.get_or_insert_with(&mut *self.make_root).clone();
        Provenance { origin, members: self.members.clone() }
    }

    /// `root!member!member`: the path of what is being scanned, for messages.
    fn path(&mut self) -> String {
        self.provenance().display()
    }

    /// The path of a member of what is being scanned.
    fn member_path(&mut self, name: &str) -> String {
        format!("{}!{name}", self.path())
    }

    fn warn(&mut self, message: String) {
        self.sink.stats.warnings.push(message);
    }

    /// Drops the findings after `earlier` whose secret a finding in `earlier` already
    /// reported (same fingerprint: same rule, same secret).
    fn drop_repeats(&mut self, earlier: Range<usize>) {
        if earlier.is_empty() {
            return;
        }
        let later = self.sink.findings.split_off(earlier.end);
        let reported: HashSet<&str> =
            self.sink.findings[earlier].iter().map(|finding| finding.fingerprint.as_str()).collect();
        let new: Vec<Finding> =
            later.into_iter().filter(|finding| !reported.contains(finding.fingerprint.as_str())).collect();
        self.sink.findings.extend(new);
    }
}

/// The name given to the content of a gzip file that does not store one: `app.log.gz` →
/// `app.log`, `site.tgz` → `site.tar`; a message has no name to take one from.
fn gunzipped_name(gzip: &Provenance) -> String {
    let file = gzip.file_name().unwrap_or_default();
    if let Some(stem) = file.strip_suffix(".tgz") {
        format!("{stem}.tar")
    } else {
        file.strip_suffix(".gz").or_else(|| file.strip_suffix(".gzip")).unwrap_or("gunzipped").to_string()
    }
}

impl SecretSpan {
    fn in_view(view: &View, layer: Option<&Layer>, found: &RawMatch) -> Self {
        if view.encoding.is_some() {
            // A transcoded UTF-16 text's offsets are not the text's: mask all of it.
            return SecretSpan { span: 0..usize::MAX, prefix_len: 0 };
        }
        let prefix_len = if layer.is_some() { 0 } else { found.prefix_len };
        SecretSpan { span: Layer::to_view(layer, found.secret.clone()), prefix_len }
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
        let secrets = redact::merged(self.pending.iter().map(Unplaced::secret_span).collect());
        let reach = context::reach(self.text);
        let provenance = blob.provenance();
        for (found, position) in self.pending.into_iter().zip(positions) {
            if allows.cover(&position) {
                blob.sink.dropped.push(DropReason::InlineAllow);
                continue;
            }
            let rule = matcher.rules().get(found.rule);
            let mut finding = Finding::new(rule, &found.secret, found.prefix_len, provenance.clone(), position);
            finding.context = Some(context::line(self.text, &found.span, &secrets, reach));
            finding.decoded = found.decoded;
            blob.sink.findings.push(finding);
        }
    }
}

impl Unplaced {
    /// Where the secret is in the view, to be masked in the lines shown: an encoded one with
    /// no prefix kept, as the encoding hides it.
    fn secret_span(&self) -> SecretSpan {
        let prefix_len = if self.decoded.is_some() { 0 } else { self.prefix_len };
        SecretSpan { span: self.span.clone(), prefix_len }
    }
}

/// For each span of `text`, whether an allow comment in `text` is on its lines.
fn allowed_in(text: &[u8], spans: Vec<Range<usize>>) -> Vec<bool> {
    let allows = InlineAllows::of(text);
    if allows.is_empty() {
        return vec![false; spans.len()];
    }
    lines::positions(text, &spans).iter().map(|position| allows.cover(position)).collect()
}

/// One decoding between the view and the text being scanned.
struct Layer<'a> {
    outer: Option<&'a Layer<'a>>,
    /// The encoded span, in the text it lies in.
    span: Range<usize>,
    /// The encoded text itself.
    run: &'a [u8],
    /// Where in the span each decoded byte is encoded: built on first use, as most decoded
    /// runs hold nothing to place.
    map: OnceCell<SpanMap>,
    encoding: Encoding,
}

/// How a layer's decoded bytes map back to its encoded span, built once per span so that
/// placing many secrets decoded from one long run costs no pass over it each.
enum SpanMap {
    Base64(base64::CharMap),
    Percent(percent::EscapeMap),
    /// A transcoded text: every secret in it is placed on the whole span.
    Whole,
}

impl SpanMap {
    fn of(encoding: Encoding, run: &[u8]) -> Self {
        match encoding {
            Encoding::Base64 => SpanMap::Base64(base64::CharMap::new(run)),
            Encoding::Percent => SpanMap::Percent(percent::EscapeMap::new(run)),
            Encoding::Utf16Le | Encoding::Utf16Be => SpanMap::Whole,
        }
    }
}

/// `range`, which is relative to a span starting at `start`, relative to the span's text.
fn offset_by(start: usize, range: Range<usize>) -> Range<usize> {
    start + range.start..start + range.end
}

impl<'a> Layer<'a> {
    fn new(outer: Option<&'a Layer<'a>>, text: &'a [u8], span: Range<usize>, encoding: Encoding) -> Self {
        Layer { outer, run: &text[span.clone()], span, map: OnceCell::new(), encoding }
    }

    fn map(&self) -> &SpanMap {
        self.map.get_or_init(|| SpanMap::of(self.encoding, self.run))
    }

    /// Maps a range of the innermost decoded text to the view, layer by layer: into the
    /// base64 characters or percent escapes that encode it, or onto the whole span of a
    /// transcoded text.
    fn to_view(mut layer: Option<&Layer>, mut range: Range<usize>) -> Range<usize> {
        while let Some(current) = layer {
            range = match current.map() {
                SpanMap::Base64(map) => offset_by(current.span.start, map.encoded_span(range)),
                SpanMap::Percent(map) => offset_by(current.span.start, map.encoded_span(range)),
                SpanMap::Whole => current.span.clone(),
            };
            layer = current.outer;
        }
        range
    }

    /// Whether the decoded bytes `range` of this layer are in the text it was decoded from as
    /// they are, neighbours included, so that a secret there was reported from that text.
    fn repeats_outer(&self, range: Range<usize>) -> bool {
        self.encoding == Encoding::Percent && matches!(self.map(), SpanMap::Percent(map) if !map.touches_escape(range))
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

/// How much base64 and percent-encoded text is left to decode in one file or member.
struct Decoding {
    budget: usize,
    exhausted: bool,
}

impl Decoding {
    /// A file's whole budget.
    fn new() -> Self {
        Decoding { budget: decode::DECODE_BUDGET, exhausted: false }
    }

    /// The base64 and percent-encoded runs of `text`, decoded within the budget.
    fn runs(&mut self, text: &[u8]) -> Vec<decode::Decoded> {
        let (mut found, exhausted) = decode::base64_layer(text, &mut self.budget);
        let (percent, percent_exhausted) = decode::percent_layer(text, &mut self.budget);
        found.extend(percent);
        self.exhausted |= exhausted || percent_exhausted;
        found
    }
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

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::rules::RuleSet;
    use std::sync::Arc;

    fn scanner_test<T>(test: impl FnOnce(&mut BlobScanner) -> T) -> T {
        let matcher = Matcher::new(Arc::new(RuleSet::builtin().unwrap()));
        let mut scanner = BlobScanner::new(&matcher, &ExpandOptions { decode: false, ..ExpandOptions::default() });
        test(&mut scanner)
    }

    /// A fake OpenAI project key, shaped as the built-in rule expects.
    pub(crate) fn project_key() -> String {
        format!(
            "sk-proj-{}{}{}",
            "Ab1Cd2Ef3Gh4Ij5Kl6Mn7Op8Qr9St0",
            ["T3Blbk", "FJ"].concat(),
            "Uv1Wx2Yz3Ab4Cd5Ef6Gh7Ij8Kl9Mn0"
        )
    }

    #[test]
    fn redact_fields_hides_every_key_in_a_line() {
        let key = project_key();
        let text = format!("add {key} and {key}");
        let [redacted, plain] = scanner_test(|scanner| scanner.redact_fields([&text, "nothing here"]));
        assert!(!redacted.contains(&key), "{redacted}");
        assert_eq!(redacted.matches("sk-proj-…").count(), 2, "{redacted}");
        assert_eq!(plain, "nothing here");
    }

    #[test]
    fn redact_fields_reads_context_across_fields_and_decodes_even_with_no_decode() {
        let deepseek = concat!("sk-c03b40fca2f9", "03fb6ac49f239da2d17d");
        let message = format!("rotate {deepseek}\n\nthe deepseek client needs it");
        let [author, summary] = scanner_test(|scanner| scanner.redact_fields([deepseek, &message]));
        assert!(!author.contains(deepseek) && !summary.contains(deepseek), "{author} / {summary}");
        assert!(summary.starts_with("rotate sk-…d17d\n\nthe deepseek"), "{summary}");
        let encoded = crate::decode::base64::encode(project_key().as_bytes());
        let [summary] = scanner_test(|scanner| scanner.redact_fields([&format!("config {encoded}")]));
        assert!(!summary.contains(&encoded[..40]), "{summary}");
        assert!(summary.starts_with("config …"), "{summary}");
    }
}
