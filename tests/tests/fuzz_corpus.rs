//! Replays the committed fuzz corpus (`fuzz/corpus-min/<target>/`) and every saved regression
//! (`fuzz/regressions/<target>/`) through the same entry points the cargo-fuzz targets call, on
//! stable Rust, so CI exercises them without nightly or libFuzzer (docs/FUZZING.md).
//!
//! `fuzz/src/harness.rs` is included as is: the fuzzer and this test run exactly the same code.
//! A regression whose bug is not fixed yet is listed in [`KNOWN_BUGS`]: the normal replay skips
//! it, and an `#[ignore = "BUG: …"]` test runs it alone (`cargo test -- --ignored` shows it still
//! panics; delete the entry once the library is fixed so it is replayed everywhere).

#[path = "../../fuzz/src/harness.rs"]
mod harness;

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};

/// Regressions that still fail, as `target/file name`.
const KNOWN_BUGS: &[&str] = &[];

fn fuzz_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz")
}

fn inputs(target: &str) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for sub in ["corpus-min", "regressions"] {
        let dir = fuzz_dir().join(sub).join(target);
        if let Ok(rd) = std::fs::read_dir(&dir) {
            for e in rd.flatten() {
                if e.path().is_file() {
                    out.push(e.path());
                }
            }
        }
    }
    out.sort();
    out
}

fn entry(target: &str) -> fn(&[u8]) {
    harness::TARGETS
        .iter()
        .find(|(n, _)| *n == target)
        .map(|(_, f)| *f)
        .unwrap_or_else(|| panic!("no fuzz target {target}"))
}

fn is_known_bug(target: &str, path: &Path) -> bool {
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
    KNOWN_BUGS.contains(&format!("{target}/{name}").as_str())
}

/// Runs every input of `target` (but the known bugs); fails listing each input that panicked.
fn replay(target: &str) {
    let run = entry(target);
    let files = inputs(target);
    let mut failed = Vec::new();
    for path in &files {
        if is_known_bug(target, path) {
            continue;
        }
        let bytes = std::fs::read(path).expect("read corpus file");
        if catch_unwind(AssertUnwindSafe(|| run(&bytes))).is_err() {
            failed.push(path.display().to_string());
        }
    }
    assert!(failed.is_empty(), "{target}: panicked on {failed:?}");
}

#[test]
fn every_target_has_committed_inputs() {
    for (target, _) in harness::TARGETS {
        assert!(
            !inputs(target).is_empty(),
            "fuzz/corpus-min/{target}/ is empty"
        );
    }
}

#[test]
fn corpus_is_small() {
    let mut total = 0u64;
    for sub in ["corpus-min", "regressions"] {
        for (target, _) in harness::TARGETS {
            if let Ok(rd) = std::fs::read_dir(fuzz_dir().join(sub).join(target)) {
                for e in rd.flatten() {
                    total += e.metadata().map(|m| m.len()).unwrap_or(0);
                }
            }
        }
    }
    assert!(
        total <= 400 * 1024,
        "committed fuzz inputs are {total} bytes"
    );
}

macro_rules! replay_tests {
    ($($t:ident),* $(,)?) => {
        $(
            #[test]
            fn $t() {
                replay(stringify!($t));
            }
        )*
    };
}

replay_tests!(
    json_strict,
    dsse_envelope,
    trust_root,
    revocations,
    statement_provenance,
    release_evidence,
    signing_ops,
    checksums,
    pae,
    ed25519_key_and_sig,
    bundle_scan,
    bundle_scan_gz,
    policy_assess,
    evidence_log,
    receipt_verify,
);

// Known bugs: each runs its saved input alone (`#[ignore = "BUG: …"]`) and panics until the
// library is fixed. None at present: the evidence_log regressions (a line ending `,"sig":"}`)
// are fixed and replayed with the rest.

#[test]
fn known_bugs_are_saved() {
    for k in KNOWN_BUGS {
        assert!(fuzz_dir().join("regressions").join(k).is_file(), "{k}");
    }
}
