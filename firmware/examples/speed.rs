//! Host speed of the hot paths: streaming SHA-256 over a 256 MiB buffer, strict Ed25519
//! verification, and key loading (canonical encoding + small-order + prime-order subgroup checks).
//!
//! `cargo run -p airlock-core --release --example speed`

use std::hint::black_box;
use std::time::{Duration, Instant};

use airlock_core::digest::Sha256;
use airlock_core::ed25519::PublicKey;
use airlock_core::hex;

const MIB: usize = 1 << 20;

/// Runs `f` repeatedly for at least `min` and returns calls per second.
fn rate(min: Duration, mut f: impl FnMut()) -> f64 {
    let start = Instant::now();
    let mut n = 0u64;
    while start.elapsed() < min {
        for _ in 0..64 {
            f();
        }
        n += 64;
    }
    n as f64 / start.elapsed().as_secs_f64()
}

fn main() {
    // SHA-256: 256 MiB, fed in 1 MiB chunks as the bundle stream does; best of 3 runs.
    let buf: Vec<u8> = (0..256 * MIB).map(|i| (i * 31 % 251) as u8).collect();
    let mut best = f64::INFINITY;
    for _ in 0..3 {
        let start = Instant::now();
        let mut h = Sha256::new();
        for chunk in buf.chunks(MIB) {
            h.update(black_box(chunk));
        }
        black_box(h.finalize());
        best = best.min(start.elapsed().as_secs_f64());
    }
    println!(
        "sha256: {:.0} MB/s ({:.0} MiB/s) over a 256 MiB buffer, best of 3 ({:.3} s)",
        buf.len() as f64 / best / 1e6,
        buf.len() as f64 / best / MIB as f64,
        best
    );

    // Ed25519: RFC 8032 test 3 (2-byte message), strict verification.
    let key_bytes =
        hex::decode::<32>(b"fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025")
            .expect("hex");
    let sig = hex::decode::<64>(
        b"6291d657deec24024827e69c3abe01a30ce548a284743a445e3680d7db5ac3ac18ff9b538d16f290ae67f760984dc6594a7c15e9716ed28dc027beceea1ec40a",
    )
    .expect("hex");
    let key = PublicKey::from_bytes(&key_bytes).expect("RFC 8032 test 3 key");
    let verifies = rate(Duration::from_secs(2), || {
        key.verify(black_box(b"\xaf\x82"), black_box(&sig))
            .expect("RFC 8032 test 3 verifies");
    });
    println!("ed25519 strict verify: {verifies:.0} verifies/s");
    let loads = rate(Duration::from_secs(1), || {
        black_box(PublicKey::from_bytes(black_box(&key_bytes))).expect("key loads");
    });
    println!("ed25519 key load (canonical, not weak, torsion-free): {loads:.0} keys/s");
}
