//! AVX-512 VBMI pieces shared by the searches that use it (the keyword prefilter and the
//! base64 run search): the CPU feature check, 64-byte loads and stores, and 128-entry byte
//! tables looked up 64 bytes at a time with one `vpermi2b`.
//!
//! The check yields a [`Vbmi`] token, and only it can make one, so holding a token proves
//! the CPU has the features. Each search's entry point compiled for the features takes a
//! token: the `unsafe` block that calls it from ordinary code cites the token, and the
//! argument that the features are there is made once, in [`Vbmi::detect`]. Everything else
//! here is compiled for the features and called only from functions that are too.

use std::arch::x86_64::{__m512i, _mm512_loadu_si512, _mm512_permutex2var_epi8, _mm512_storeu_si512};
use std::sync::OnceLock;

/// Proof that this CPU has AVX-512 F, BW and VBMI, which everything here needs. Only
/// [`Vbmi::detect`] makes one.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Vbmi {
    /// Private: no other module can build a token.
    _detected: (),
}

impl Vbmi {
    /// A token if this CPU has the features. The CPU is asked once per process.
    pub(crate) fn detect() -> Option<Vbmi> {
        static DETECTED: OnceLock<Option<Vbmi>> = OnceLock::new();
        *DETECTED.get_or_init(|| {
            let has_features = is_x86_feature_detected!("avx512f")
                && is_x86_feature_detected!("avx512bw")
                && is_x86_feature_detected!("avx512vbmi");
            has_features.then_some(Vbmi { _detected: () })
        })
    }
}

/// The token for a test that cross-checks a VBMI search against the portable one, or `None`
/// (with a note on stderr) where the CPU lacks the features and the test can only skip.
///
/// # Panics
/// Where the CPU lacks the features and `KEYHOUND_REQUIRE_VBMI=1` is set: CI sets it on CPUs
/// that have them, so a broken detection fails the tests instead of skipping them.
#[cfg(test)]
pub(crate) fn vbmi_for_test() -> Option<Vbmi> {
    let detected = Vbmi::detect();
    if detected.is_none() {
        let required = std::env::var_os("KEYHOUND_REQUIRE_VBMI").is_some_and(|value| value == "1");
        assert!(!required, "KEYHOUND_REQUIRE_VBMI=1, but AVX-512 VBMI was not detected on this CPU");
        eprintln!("skipped: this CPU has no AVX-512 VBMI");
    }
    detected
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
