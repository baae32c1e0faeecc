//! AVX-512 VBMI pieces shared by the searches that use it (the keyword prefilter and the
//! base64 run search): detecting the CPU features, 64-byte loads and stores, and 128-entry
//! byte tables looked up 64 bytes at a time with one `vpermi2b`.
//!
//! Every function here but [`has_avx512_vbmi`] is compiled for those features; callers check
//! [`has_avx512_vbmi`] once and call them from functions compiled for the same features.

use std::arch::x86_64::{__m512i, _mm512_loadu_si512, _mm512_permutex2var_epi8, _mm512_storeu_si512};

/// Whether this CPU has AVX-512 F, BW and VBMI, which everything else here needs.
pub(crate) fn has_avx512_vbmi() -> bool {
    is_x86_feature_detected!("avx512f")
        && is_x86_feature_detected!("avx512bw")
        && is_x86_feature_detected!("avx512vbmi")
}

/// The 64 bytes of `bytes` in a register.
#[inline]
#[target_feature(enable = "avx512f,avx512bw,avx512vbmi")]
pub(crate) fn load(bytes: &[u8; 64]) -> __m512i {
    // SAFETY: 64 readable bytes; the load is unaligned.
    unsafe { _mm512_loadu_si512(bytes.as_ptr().cast()) }
}

/// Writes `register` to `bytes`.
#[inline]
#[target_feature(enable = "avx512f,avx512bw,avx512vbmi")]
pub(crate) fn store(register: __m512i, bytes: &mut [u8; 64]) {
    // SAFETY: 64 writable bytes; the store is unaligned.
    unsafe { _mm512_storeu_si512(bytes.as_mut_ptr().cast(), register) }
}

/// A table of 128 bytes held in two registers, looked up by the low seven bits of each byte
/// (a byte from 0x80 on reads the entry of its low seven bits).
#[derive(Clone, Copy)]
pub(crate) struct ByteTable {
    low: __m512i,
    high: __m512i,
}

impl ByteTable {
    /// Loads `table`.
    #[inline]
    #[target_feature(enable = "avx512f,avx512bw,avx512vbmi")]
    pub(crate) fn load(table: &[u8; 128]) -> Self {
        let (low, high) = table.split_at(64);
        let half = |bytes: &[u8]| load(bytes.try_into().expect("64 bytes"));
        ByteTable { low: half(low), high: half(high) }
    }

    /// The entry of each of the 64 bytes of `bytes`.
    #[inline]
    #[target_feature(enable = "avx512f,avx512bw,avx512vbmi")]
    pub(crate) fn look_up(self, bytes: __m512i) -> __m512i {
        _mm512_permutex2var_epi8(self.low, bytes, self.high)
    }
}
