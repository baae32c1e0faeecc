//! The bucketed keyword search ([`super::buckets`]) with AVX-512 VBMI, 64 positions at a time.
//!
//! One `vpermi2b` looks 64 bytes up in a 128-entry table (two registers, seven bits of index);
//! with one table per window offset, a block costs eight unaligned loads, eight lookups and the
//! ANDs. No lowercased copy is made: the tables fold ASCII case. Candidates are collected per
//! batch of blocks and confirmed after it, so no call breaks the loop and the sixteen table
//! registers stay loaded.

use std::arch::x86_64::{__m512i, _mm512_and_si512, _mm512_test_epi8_mask};

use super::buckets::{BucketedKeywords, WINDOW};
use crate::simd::{self, ByteTable, Vbmi};

/// Bytes per block: one 512-bit register.
const BLOCK: usize = 64;

/// Blocks with candidates collected before they are confirmed.
const BATCH: usize = 32;

/// Keyword search with AVX-512 VBMI; built only where the CPU has it (it holds the token).
#[derive(Debug)]
pub(super) struct VbmiSearch {
    keywords: BucketedKeywords,
    vbmi: Vbmi,
}

impl VbmiSearch {
    /// The search for `keywords` (lowercase), or `None` if they do not fit the buckets.
    pub(super) fn new(vbmi: Vbmi, keywords: &[String]) -> Option<Self> {
        BucketedKeywords::new(keywords).map(|keywords| VbmiSearch { keywords, vbmi })
    }

    /// Calls `found(keyword_index)` for every keyword occurrence in `haystack`, in any ASCII
    /// case.
    pub(super) fn for_each(&self, haystack: &[u8], mut found: impl FnMut(usize)) {
        let mut batch = Batch::new();
        let mut start = 0;
        // Whole blocks, read in place (with the window's bytes after them).
        while start + BLOCK + WINDOW - 1 <= haystack.len() {
            // SAFETY: the token `self.vbmi` proves the CPU has the features `scan` enables.
            start = unsafe { scan(self.vbmi, self.keywords.tables(), haystack, start, &mut batch) };
            batch.confirm(&self.keywords, haystack, 0, &mut found);
        }
        // The rest, fewer than BLOCK + WINDOW - 1 bytes, zero-padded to two blocks and a window.
        let rest = &haystack[start..];
        let mut padded = [0; 2 * BLOCK + WINDOW - 1];
        padded[..rest.len()].copy_from_slice(rest);
        // SAFETY: as above.
        unsafe { scan(self.vbmi, self.keywords.tables(), &padded, 0, &mut batch) };
        batch.confirm(&self.keywords, haystack, start, &mut found);
    }
}

/// Candidate blocks of one batch: where each starts, which of its positions have candidates,
/// and the buckets at each position.
struct Batch {
    len: usize,
    starts: [usize; BATCH],
    positions: [u64; BATCH],
    buckets: [[u8; BLOCK]; BATCH],
}

impl Batch {
    fn new() -> Self {
        Batch { len: 0, starts: [0; BATCH], positions: [0; BATCH], buckets: [[0; BLOCK]; BATCH] }
    }

    /// Confirms the batch's candidates in `haystack`, whose byte `offset` the scanned bytes
    /// began with, and empties it. Candidates past the haystack's end (padding) are dropped.
    fn confirm(&mut self, keywords: &BucketedKeywords, haystack: &[u8], offset: usize, found: &mut impl FnMut(usize)) {
        for block in 0..self.len {
            let mut positions = self.positions[block];
            while positions != 0 {
                let in_block = positions.trailing_zeros() as usize;
                positions &= positions - 1;
                let position = offset + self.starts[block] + in_block;
                if position < haystack.len() {
                    keywords.confirm(haystack, position, self.buckets[block][in_block], found);
                }
            }
        }
        self.len = 0;
    }
}

/// Scans `bytes` block by block from `start` while a block and its window fit and the batch
/// has room, and returns where it stopped. Takes the token that proves the CPU can run it.
#[target_feature(enable = "avx512f,avx512bw,avx512vbmi")]
fn scan(_: Vbmi, tables: &[[u8; 128]; WINDOW], bytes: &[u8], mut start: usize, batch: &mut Batch) -> usize {
    let tables: [ByteTable; WINDOW] = std::array::from_fn(|offset| ByteTable::load(&tables[offset]));
    while start + BLOCK + WINDOW - 1 <= bytes.len() && batch.len < BATCH {
        let block = &bytes[start..start + BLOCK + WINDOW - 1];
        let mut fits = look_up(&tables, block, 0);
        for offset in 1..WINDOW {
            fits = _mm512_and_si512(fits, look_up(&tables, block, offset));
        }
        let positions = _mm512_test_epi8_mask(fits, fits);
        if positions != 0 {
            let slot = batch.len;
            batch.starts[slot] = start;
            batch.positions[slot] = positions;
            simd::store(fits, &mut batch.buckets[slot]);
            batch.len += 1;
        }
        start += BLOCK;
    }
    start
}

/// The buckets each of the 64 bytes from `offset` in `block` fits at that window offset.
#[inline]
#[target_feature(enable = "avx512f,avx512bw,avx512vbmi")]
fn look_up(tables: &[ByteTable; WINDOW], block: &[u8], offset: usize) -> __m512i {
    let bytes = block[offset..].first_chunk::<BLOCK>().expect("a block and its window");
    tables[offset].look_up(simd::load(bytes))
}
