//! Interop: bundles written entirely by independent tools (Python `cryptography` and
//! `securesystemslib`, GNU `sha256sum` and `tar`, the `minisign` CLI) verify with the verifier
//! library; a byte changed after signing rejects; and the reverse: a bundle Airlock packs, with
//! keys those tools made (PKCS#8 PEM from `cryptography`, a `minisign -G -W` secret key), checks
//! out with those tools. Missing tools fail the test when CI is set.

#[path = "author_support.rs"]
mod support;

use airlock_author::pack::{self, PackOptions};
use airlock_author::{MinisignKey, PrivateKey};
use airlock_formats::reason::Code;
use airlock_formats::timestamp::Timestamp;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;
use support::*;

fn interop_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("interop")
}

fn tools_present() -> bool {
    require_tool("python3", &["-c", "import cryptography, securesystemslib"])
        && require_tool("minisign", &["-v"])
        && require_tool("sha256sum", &["--version"])
        && require_tool("tar", &["--version"])
}

fn make_python_bundles(out: &Path) -> Value {
    let o = Command::new("python3")
        .arg(interop_dir().join("make_bundle.py"))
        .arg(out)
        .output()
        .unwrap();
    assert!(
        o.status.success(),
        "make_bundle.py failed: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    serde_json::from_slice(&o.stdout).unwrap()
}

fn path(v: &Value, k: &str) -> PathBuf {
    PathBuf::from(v[k].as_str().unwrap())
}

#[test]
fn python_made_bundle_promotes_and_tampered_rejects() {
    if !tools_present() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let v = make_python_bundles(dir.path());
    let anchor = std::fs::read(path(&v, "anchor")).unwrap();
    // DSSE (Python PAE) + minisign CLI signature, threshold 2 of the release role.
    let good = judge(&path(&v, "bundle"), &anchor, None);
    assert_promotes(&good);
    assert_eq!(good.package(), Some("cavra-go-runtime"));
    assert!(good.signers().iter().any(|s| s.key_id == "py-minisign"));
    assert!(good.signers().iter().any(|s| s.key_id == "py-release"));
    assert!(good
        .signers()
        .iter()
        .any(|s| s.key_id == "py-builder" && s.role == "provenance"));
    // One artifact byte changed after signing.
    let bad = judge(&path(&v, "tampered"), &anchor, None);
    assert_rejects_with(&bad, Code::ChecksumMismatch);
    // A minisign-only release under a root whose release role is the minisign key.
    let anchor_ms = std::fs::read(path(&v, "anchor_minisign")).unwrap();
    assert_promotes(&judge(&path(&v, "minisign_only"), &anchor_ms, None));
    // Under the first anchor, that bundle carries a different version 1: the chain is broken.
    assert_rejects_with(
        &judge(&path(&v, "minisign_only"), &anchor, None),
        Code::TrustRootChainBroken,
    );
}

#[test]
fn airlock_pack_with_python_and_minisign_keys_checks_out_with_their_tools() {
    if !tools_present() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let v = make_python_bundles(&dir.path().join("py"));
    let dist = dir.path().join("dist");
    std::fs::create_dir_all(dist.join("bin")).unwrap();
    std::fs::write(
        dist.join("bin/cavra-linux-amd64"),
        b"airlock-packed runtime\n",
    )
    .unwrap();
    std::fs::write(dist.join("NOTICE"), b"notice\n").unwrap();
    let out = dir.path().join("cavra-go-runtime-v0.2.0.tar.gz");
    let anchor = std::fs::read(path(&v, "anchor")).unwrap();
    let opts = PackOptions {
        dist,
        out: out.clone(),
        package: "cavra-go-runtime".into(),
        version: "v0.2.0".into(),
        commit: v["commit"].as_str().unwrap().into(),
        ref_: "refs/tags/v0.2.0".into(),
        event: "release".into(),
        key_id: "py-release".into(),
        signing_required: true,
        // PKCS#8 PEM written by Python `cryptography`.
        release_keys: vec![PrivateKey::load(&path(&v, "release_pem"), Some("py-release")).unwrap()],
        // Secret key written by `minisign -G -W`.
        minisign_key: Some(MinisignKey::load(&path(&v, "minisign_key")).unwrap()),
        provenance_keys: vec![
            PrivateKey::load(&path(&v, "builder_pem"), Some("py-builder")).unwrap(),
        ],
        builder_id: v["builder"].as_str().unwrap().into(),
        source_repo: v["repo"].as_str().unwrap().into(),
        workflow_path: pack::DEFAULT_WORKFLOW_PATH.into(),
        trust_roots: vec![anchor.clone()],
        revocations: None,
        custody: pack::custody("test"),
        created_at: Timestamp::now(),
        anchor: None,
        sigstore: Default::default(),
    };
    let report = pack::pack(&opts).unwrap();
    assert!(report.self_check.is_some());
    assert_promotes(&judge(&out, &anchor, None));
    let o = Command::new("python3")
        .arg(interop_dir().join("verify_bundle.py"))
        .arg(&out)
        .arg(dir.path().join("extracted"))
        .arg(path(&v, "minisign_pub"))
        .output()
        .unwrap();
    assert!(
        o.status.success(),
        "verify_bundle.py: {}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
}
