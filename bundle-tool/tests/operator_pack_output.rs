//! Issue 13: `pack --quiet` prints nothing on success, and without a terminal `pack` prints its
//! summary only (no progress); a key file of the wrong kind names what it is and which option
//! takes it, through the real binary.

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

#[test]
fn a_key_of_the_wrong_kind_says_what_it_is_and_which_option_takes_it() {
    let t = tempfile::tempdir().unwrap();
    let d = t.path();
    setup(d);
    dist(d);
    ok(
        d,
        &[
            "keygen",
            "--minisign",
            "--key-id",
            "mini",
            "--out-dir",
            "keys",
        ],
    );
    ok(d, &["hmac-keygen", "--key-id", "gov", "--out-dir", "keys"]);
    let cases: [(&str, &str); 4] = [
        // A minisign public key, a public key entry, an HMAC secret given as the release key.
        (
            "keys/mini.minisign.pub",
            "this is a minisign public key (minisign.pub), not a private key",
        ),
        (
            "keys/rel-q3.pub.json",
            "this is a public key entry (ID.pub.json), not a private key",
        ),
        ("keys/gov.hmac-secret", "an HMAC secret"),
        (
            "keys/mini.minisign.key",
            "this is a minisign secret key, not an Ed25519 key: give it with --minisign-key",
        ),
    ];
    for (key, why) in cases {
        refused(d, &pack_args(key, "x.tar.gz", &[]), why);
    }
    // An Ed25519 key and a minisign public key given as the minisign key.
    let mut a = pack_args("keys/rel-q3.key", "x.tar.gz", &["--minisign-key"]);
    a.push("keys/rel-q3.key");
    refused(
        d,
        &a,
        "not a minisign secret key: Ed25519 release keys go to --release-key",
    );
    let mut a = pack_args("keys/rel-q3.key", "x.tar.gz", &["--minisign-key"]);
    a.push("keys/mini.minisign.pub");
    refused(d, &a, "--minisign-key takes the secret key");
    // A private key or a minisign.pub given to a trust root's --key.
    for (key, why) in [
        (
            "--key=keys/rel-q3.key",
            "not a public key entry: --key takes the public key entry keygen wrote beside it (ID.pub.json)",
        ),
        (
            "--key=keys/mini.minisign.pub",
            "this is a minisign public key (minisign.pub), not a public key entry",
        ),
    ] {
        refused(
            d,
            &[
                "root",
                "create",
                "--out",
                "root/x.json",
                key,
                "--role=root=root-a",
                "--sign=keys/root-a.key",
            ],
            why,
        );
    }
    assert!(!d.join("x.tar.gz").exists());
}
