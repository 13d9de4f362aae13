//! Measurement only (docs/PERFORMANCE.md, "Beyond the floor"): how much faster one core hashes two
//! independent SHA-256 streams block by block together than one after the other, with the x86
//! SHA extensions. A `.tar.zst` scan hashes two streams (the file and each entry) and is bound by
//! SHA-256 on two cores; this is the one lever left below that floor. Nothing in Airlock hashes
//! this way: the verifier uses the `sha2` crate. The kernel is checked against `sha2` on the
//! same bytes before it is timed.
//!
//! ```text
//! sha-pair [MIB]    hash two MIB-MiB streams (default 1024) both ways; print the rates
//! ```
//!
//! `cargo run --release -p airlock-tests --bin sha-pair` (and with
//! `RUSTFLAGS="-C target-cpu=native"`: the compiler's instruction order matters here).

use std::process::ExitCode;
use std::time::Instant;

#[cfg(target_arch = "x86_64")]
mod pair {
    use std::arch::x86_64::*;

    /// SHA-256's round constants, four to a vector in the order `_mm_sha256rnds2_epu32` takes.
    const K32: [u32; 64] = [
        0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4,
        0xab1c5ed5, 0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe,
        0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f,
        0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7,
        0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc,
        0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b,
        0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116,
        0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
        0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7,
        0xc67178f2,
    ];

    #[inline(always)]
    unsafe fn schedule(v0: __m128i, v1: __m128i, v2: __m128i, v3: __m128i) -> __m128i {
        let t = _mm_add_epi32(_mm_sha256msg1_epu32(v0, v1), _mm_alignr_epi8(v3, v2, 4));
        _mm_sha256msg2_epu32(t, v3)
    }

    /// The state words in the (ABEF, CDGH) layout the SHA instructions use.
    #[inline(always)]
    unsafe fn load(state: &[u32; 8]) -> (__m128i, __m128i) {
        let p = state.as_ptr().cast::<__m128i>();
        let cdab = _mm_shuffle_epi32(_mm_loadu_si128(p), 0xB1);
        let efgh = _mm_shuffle_epi32(_mm_loadu_si128(p.add(1)), 0x1B);
        (
            _mm_alignr_epi8(cdab, efgh, 8),
            _mm_blend_epi16(efgh, cdab, 0xF0),
        )
    }

    #[inline(always)]
    unsafe fn store(state: &mut [u32; 8], abef: __m128i, cdgh: __m128i) {
        let feba = _mm_shuffle_epi32(abef, 0x1B);
        let dchg = _mm_shuffle_epi32(cdgh, 0xB1);
        let p = state.as_mut_ptr().cast::<__m128i>();
        _mm_storeu_si128(p, _mm_blend_epi16(feba, dchg, 0xF0));
        _mm_storeu_si128(p.add(1), _mm_alignr_epi8(dchg, feba, 8));
    }

    /// Compresses `a` into `sa` and `b` into `sb`, one block of each per round trip, so that
    /// one stream's rounds fill the other's latency.
    ///
    /// # Safety
    /// The CPU must have the SHA extensions and SSE4.1.
    #[target_feature(enable = "sha,sse2,ssse3,sse4.1")]
    pub unsafe fn compress2(sa: &mut [u32; 8], sb: &mut [u32; 8], a: &[[u8; 64]], b: &[[u8; 64]]) {
        let mask = _mm_set_epi64x(0x0C0D_0E0F_0809_0A0B, 0x0405_0607_0001_0203);
        let (mut abef_a, mut cdgh_a) = load(sa);
        let (mut abef_b, mut cdgh_b) = load(sb);
        for (ba, bb) in a.iter().zip(b) {
            let saved = (abef_a, cdgh_a, abef_b, cdgh_b);
            let (pa, pb) = (ba.as_ptr().cast::<__m128i>(), bb.as_ptr().cast::<__m128i>());
            let mut wa = [0, 1, 2, 3].map(|i| _mm_shuffle_epi8(_mm_loadu_si128(pa.add(i)), mask));
            let mut wb = [0, 1, 2, 3].map(|i| _mm_shuffle_epi8(_mm_loadu_si128(pb.add(i)), mask));
            for i in 0..16 {
                if i >= 4 {
                    let (w0, w1, w2, w3) = (i % 4, (i + 1) % 4, (i + 2) % 4, (i + 3) % 4);
                    wa[w0] = schedule(wa[w0], wa[w1], wa[w2], wa[w3]);
                    wb[w0] = schedule(wb[w0], wb[w1], wb[w2], wb[w3]);
                }
                let k = _mm_loadu_si128(K32.as_ptr().add(4 * i).cast::<__m128i>());
                let ta = _mm_add_epi32(wa[i % 4], k);
                let tb = _mm_add_epi32(wb[i % 4], k);
                cdgh_a = _mm_sha256rnds2_epu32(cdgh_a, abef_a, ta);
                cdgh_b = _mm_sha256rnds2_epu32(cdgh_b, abef_b, tb);
                abef_a = _mm_sha256rnds2_epu32(abef_a, cdgh_a, _mm_shuffle_epi32(ta, 0x0E));
                abef_b = _mm_sha256rnds2_epu32(abef_b, cdgh_b, _mm_shuffle_epi32(tb, 0x0E));
            }
            abef_a = _mm_add_epi32(abef_a, saved.0);
            cdgh_a = _mm_add_epi32(cdgh_a, saved.1);
            abef_b = _mm_add_epi32(abef_b, saved.2);
            cdgh_b = _mm_add_epi32(cdgh_b, saved.3);
        }
        store(sa, abef_a, cdgh_a);
        store(sb, abef_b, cdgh_b);
    }
}

const IV: [u32; 8] = [
    0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
];
/// Bytes hashed per call: a chunk of the bundle stream.
const CHUNK: usize = 1 << 18;

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("sha-pair: {e}");
            ExitCode::from(2)
        }
    }
}

#[cfg(not(target_arch = "x86_64"))]
fn run() -> Result<(), String> {
    Err("this measurement needs an x86_64 CPU with the SHA extensions".into())
}

#[cfg(target_arch = "x86_64")]
fn run() -> Result<(), String> {
    use sha2::digest::generic_array::GenericArray;
    if !(is_x86_feature_detected!("sha") && is_x86_feature_detected!("sse4.1")) {
        return Err("this CPU has no SHA extensions".into());
    }
    let mib: usize = match std::env::args().nth(1) {
        Some(s) => s.parse().map_err(|e| format!("MIB: {e}"))?,
        None => 1024,
    };
    let rounds = (mib << 20) / CHUNK;
    let mut seed = 0x9e37_79b9_7f4a_7c15u64;
    let mut fill = || {
        (0..CHUNK)
            .map(|_| {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                seed as u8
            })
            .collect::<Vec<u8>>()
    };
    let (a, b) = (fill(), fill());
    let blocks = |v: &[u8]| -> Vec<[u8; 64]> {
        v.chunks_exact(64)
            .map(|c| <[u8; 64]>::try_from(c).unwrap_or([0; 64]))
            .collect()
    };
    let (ba, bb) = (blocks(&a), blocks(&b));
    let generic = |v: &[[u8; 64]]| -> Vec<GenericArray<u8, _>> {
        v.iter()
            .map(|c| GenericArray::clone_from_slice(c))
            .collect()
    };
    let (ga, gb) = (generic(&ba), generic(&bb));

    println!("two streams of {mib} MiB, {} KiB per call", CHUNK >> 10);
    for _ in 0..3 {
        let t = Instant::now();
        let (mut sa, mut sb) = (IV, IV);
        for _ in 0..rounds {
            sha2::compress256(&mut sa, &ga);
            sha2::compress256(&mut sb, &gb);
        }
        let one_by_one = t.elapsed().as_secs_f64();

        let t = Instant::now();
        let (mut pa, mut pb) = (IV, IV);
        for _ in 0..rounds {
            // SAFETY: the SHA extensions and SSE4.1 were detected above.
            unsafe { pair::compress2(&mut pa, &mut pb, &ba, &bb) };
        }
        let together = t.elapsed().as_secs_f64();
        if (pa, pb) != (sa, sb) {
            return Err("the two-stream kernel disagrees with sha2".into());
        }
        let gb_ = 2.0 * (mib as f64) * 1.048576e6 / 1e9;
        println!(
            "sha2, one stream after the other: {one_by_one:.3} s ({:.2} GB/s); \
             two streams together: {together:.3} s ({:.2} GB/s), {:.2}x",
            gb_ / one_by_one,
            gb_ / together,
            one_by_one / together
        );
    }
    Ok(())
}
