//! Issue 13: `pack --quiet` prints nothing on success, and without a terminal `pack` prints its
//! summary only (no progress), through the real binary.

mod operator;

use operator::*;
use std::path::Path;

/// `pack` of `dist/cavra` signed with `release_key`, plus `extra`.
fn pack_args<'a>(release_key: &'a str, out: &'a str, extra: &[&'a str]) -> Vec<&'a str> {
    let mut a = vec![
        "pack",
        "--dist",
        "dist",
        "--version",
        "v0.1.0",
        "--commit",
        "0123456789abcdef0123456789abcdef01234567",
        "--ref",
        "refs/tags/v0.1.0",
        "--key-id",
        "rel-q3",
        "--signing-required",
        "--release-key",
        release_key,
        "--provenance-key",
        "keys/ci-q2.key",
        "--builder-id",
        "https://github.com/actions/runner/github-hosted",
        "--source-repo",
        "https://github.com/cavra/cavra",
        "--trust-root",
        "root/1.json",
        "--out",
        out,
    ];
    a.extend_from_slice(extra);
    a
}

fn dist(d: &Path) {
    std::fs::create_dir_all(d.join("dist")).unwrap();
    std::fs::write(d.join("dist/cavra"), vec![7u8; 1 << 20]).unwrap();
}

#[test]
fn quiet_pack_prints_nothing_and_plain_pack_prints_only_its_summary() {
    let t = tempfile::tempdir().unwrap();
    let d = t.path();
    setup(d);
    dist(d);
    let o = run(d, &pack_args("keys/rel-q3.key", "q.tar.gz", &["--quiet"]));
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(
        o.stdout.is_empty(),
        "{}",
        String::from_utf8_lossy(&o.stdout)
    );
    assert!(
        o.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(d.join("q.tar.gz").is_file());
    // Without a terminal: no progress on stderr, the summary on stdout as before.
    let (out, err) = ok(d, &pack_args("keys/rel-q3.key", "p.tar.gz", &[]));
    assert!(err.is_empty(), "{err}");
    assert!(out.starts_with("wrote p.tar.gz ("), "{out}");
    assert!(out.contains("\n  cavra\n"), "{out}");
    assert!(out.contains("self-check: promote"), "{out}");
    // Same bytes either way.
    assert_eq!(
        std::fs::read(d.join("q.tar.gz")).unwrap().len(),
        std::fs::read(d.join("p.tar.gz")).unwrap().len()
    );
    // Errors are still printed under --quiet.
    refused(
        d,
        &pack_args("keys/rel-q3.key", "q.tar.gz", &["--quiet"]),
        "already exists",
    );
}
