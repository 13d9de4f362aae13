//! The airlock-bundle command line, end to end: keys, a root signed in two steps, a rotation, a
//! revocation list, a pack that self-checks, media.

use std::path::Path;
use std::process::{Command, Output};

fn run(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut c = Command::new(env!("CARGO_BIN_EXE_airlock-bundle"));
    c.current_dir(dir)
        .args(args)
        .env_remove("CAVRA_GO_RELEASE_SIGNING_KEY");
    for (k, v) in env {
        c.env(k, v);
    }
    c.output().unwrap()
}

fn ok(dir: &Path, args: &[&str]) -> String {
    ok_env(dir, args, &[])
}

fn ok_env(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> String {
    let o = run(dir, args, env);
    assert!(
        o.status.success(),
        "airlock-bundle {}: {}{}",
        args.join(" "),
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8(o.stdout).unwrap()
}

#[test]
fn full_flow() {
    let t = tempfile::tempdir().unwrap();
    let d = t.path();
    for id in ["root-a", "root-b", "root-c", "rel-q2", "ci-q2", "rel-q3"] {
        ok(d, &["keygen", "--key-id", id, "--out-dir", "keys"]);
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let m = std::fs::metadata(d.join("keys/root-a.key")).unwrap();
        assert_eq!(m.permissions().mode() & 0o777, 0o600);
    }
    // Never overwrite a private key.
    assert!(!run(
        d,
        &["keygen", "--key-id", "root-a", "--out-dir", "keys"],
        &[]
    )
    .status
    .success());
    let keys: Vec<String> = ["root-a", "root-b", "rel-q2", "ci-q2"]
        .iter()
        .map(|k| format!("--key=keys/{k}.pub.json"))
        .collect();
    let mut args = vec!["root", "create", "--out", "root/1.json"];
    args.extend(keys.iter().map(String::as_str));
    args.extend([
        "--role", "root=root-a,root-b:2",
        "--role", "release=rel-q2",
        "--role", "provenance=ci-q2",
        "--role", "revocation=root-a",
        "--builder", "https://github.com/actions/runner/github-hosted https://github.com/cavra/cavra refs/tags/v*",
        "--sign", "keys/root-a.key",
    ]);
    assert!(ok(d, &args).contains("INCOMPLETE"));
    assert!(ok(
        d,
        &["root", "sign", "root/1.json", "--sign", "keys/root-b.key"]
    )
    .contains("complete: an appliance will accept it"));
    // A stranger cannot sign.
    assert!(!run(
        d,
        &["root", "sign", "root/1.json", "--sign", "keys/root-c.key"],
        &[]
    )
    .status
    .success());
    // Rotation: root-c replaces root-b, rel-q3 joins the release role.
    let out = ok(
        d,
        &[
            "root",
            "rotate",
            "--previous",
            "root/1.json",
            "--out",
            "root/2.json",
            "--key",
            "keys/root-c.pub.json",
            "--key",
            "keys/rel-q3.pub.json",
            "--remove-key",
            "root-b",
            "--role",
            "root=root-a,root-c:2",
            "--role",
            "release=rel-q2,rel-q3:1",
            "--sign",
            "keys/root-a.key",
            "--sign",
            "keys/root-c.key",
        ],
    );
    assert!(out.contains("INCOMPLETE"), "{out}");
    let out = ok(
        d,
        &[
            "root",
            "sign",
            "root/2.json",
            "--previous",
            "root/1.json",
            "--sign",
            "keys/root-b.key",
        ],
    );
    assert!(
        out.contains("complete: an appliance will accept it"),
        "{out}"
    );
    assert!(ok(
        d,
        &["root", "show", "root/2.json", "--previous", "root/1.json"]
    )
    .contains("version 2"));
    // Revocations: every evidence field is required.
    assert!(!run(
        d,
        &["revoke", "--draft", "rev.draft.json", "--key-id", "rel-q1"],
        &[]
    )
    .status
    .success());
    std::fs::write(d.join("new-evidence.json"), b"{}").unwrap();
    ok(
        d,
        &[
            "revoke",
            "--draft",
            "rev.draft.json",
            "--key-id",
            "rel-q2",
            "--affected-versions",
            "v0.0.8,v0.0.9",
            "--revoked-at",
            "2026-01-02T00:00:00Z",
            "--replacement-key-id",
            "rel-q3",
            "--approver",
            "ops-oncall@example.org",
            "--replacement-evidence",
            "new-evidence.json",
            "--advisory",
            "CAVRA-SA-2026-003",
        ],
    );
    ok(
        d,
        &[
            "revocations",
            "publish",
            "--draft",
            "rev.draft.json",
            "--out",
            "revocations.json",
            "--sign",
            "keys/root-a.key",
            "--root",
            "root/2.json",
        ],
    );
    assert!(ok(
        d,
        &[
            "revocations",
            "show",
            "revocations.json",
            "--root",
            "root/2.json"
        ]
    )
    .contains("CAVRA-SA-2026-003"));
    // Pack with the release key from the environment, as the runbook does.
    std::fs::create_dir_all(d.join("dist/bin")).unwrap();
    std::fs::write(d.join("dist/bin/cavra"), b"runtime").unwrap();
    let key_json = std::fs::read_to_string(d.join("keys/rel-q3.key")).unwrap();
    let seed = key_json
        .split("\"private_key\": \"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .to_string();
    let pack_args = [
        "pack",
        "--dist",
        "dist",
        "--version",
        "v0.1.0",
        "--commit",
        "0123456789abcdef0123456789abcdef01234567",
        "--ref",
        "refs/tags/v0.1.0",
        "--event",
        "release",
        "--key-id",
        "rel-q3",
        "--signing-required",
        "--out",
        "out/cavra-go-runtime-v0.1.0.tar.gz",
        "--provenance-key",
        "keys/ci-q2.key",
        "--builder-id",
        "https://github.com/actions/runner/github-hosted",
        "--source-repo",
        "https://github.com/cavra/cavra",
        "--trust-root",
        "root/1.json",
        "--trust-root",
        "root/2.json",
        "--revocations",
        "revocations.json",
    ];
    std::fs::create_dir_all(d.join("out")).unwrap();
    // Without the key anywhere: a clear error with a hint.
    let o = run(d, &pack_args, &[]);
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("hint:"));
    let out = ok_env(d, &pack_args, &[("CAVRA_GO_RELEASE_SIGNING_KEY", &seed)]);
    assert!(out.contains("self-check: promote"), "{out}");
    let bundle = std::fs::read(d.join("out/cavra-go-runtime-v0.1.0.tar.gz")).unwrap();
    assert!(!String::from_utf8_lossy(&bundle).contains(&seed));
    ok(
        d,
        &[
            "media",
            "prepare",
            "--media",
            "media",
            "--anchor",
            "root/1.json",
            "--bundle",
            "out/cavra-go-runtime-v0.1.0.tar.gz",
            "--trust-root",
            "root/2.json",
            "--revocations",
            "revocations.json",
        ],
    );
    for f in [
        "inbox/cavra-go-runtime-v0.1.0.tar.gz",
        "offline-trust-root-bootstrap.json",
        "revocations.json",
    ] {
        assert!(d.join("media").join(f).is_file(), "{f}");
    }
}

#[test]
fn demo_run_and_receipt_verify() {
    use airlock_verifier::run::{self, VerifyOptions, WriteMode};
    let t = tempfile::tempdir().unwrap();
    let layout = airlock_author::demo::prepare(&t.path().join("demo")).unwrap();
    let state = t.path().join("state");
    let report = run::verify_media(
        &VerifyOptions {
            media: layout.media.clone(),
            bundles: vec![],
            anchor: Some(layout.anchor.clone()),
            anchor_sha256: None,
            state_dir: state.clone(),
            write: WriteMode::Write,
            image: None,
        },
        &airlock_verifier::bundle::NoProgress,
    )
    .unwrap();
    assert!(report.problems.is_empty(), "{:?}", report.problems);
    assert_eq!(report.results.len(), 2);
    let good = report
        .results
        .iter()
        .find(|r| r.bundle.ends_with("v0.1.0.tar.gz"))
        .unwrap();
    let bad = report
        .results
        .iter()
        .find(|r| r.bundle.contains("tampered"))
        .unwrap();
    assert_eq!(good.verdict.as_str(), "promote", "{:?}", good.reasons);
    assert_eq!(bad.verdict.as_str(), "reject");
    assert!(bad
        .reasons
        .iter()
        .any(|r| r.code.as_str() == "checksum-mismatch"));
    let key = state.join("appliance-key.json");
    let key = key.to_str().unwrap();
    for r in [good, bad] {
        let receipt = layout.media.join(r.receipt.as_ref().unwrap());
        let out = ok(
            t.path(),
            &["receipt", "verify", receipt.to_str().unwrap(), "--key", key],
        );
        assert!(out.contains("receipt OK"), "{out}");
        assert!(out.contains(r.verdict.as_str()), "{out}");
        // One payload character changed (still valid base64): the signature no longer verifies.
        let text = std::fs::read_to_string(&receipt).unwrap();
        let at = text.find("\"payload\": \"").unwrap() + 40;
        let mut bytes = text.into_bytes();
        bytes[at] = if bytes[at] == b'A' { b'B' } else { b'A' };
        let altered = t.path().join("altered.json");
        std::fs::write(&altered, &bytes).unwrap();
        let o = run(
            t.path(),
            &["receipt", "verify", altered.to_str().unwrap(), "--key", key],
            &[],
        );
        assert!(!o.status.success());
    }
}

#[test]
fn receipt_verify_pins_the_appliance_image() {
    use airlock_verifier::receipt::ImageRef;
    use airlock_verifier::run::{self, VerifyOptions, WriteMode};
    let t = tempfile::tempdir().unwrap();
    let layout = airlock_author::demo::prepare(&t.path().join("demo")).unwrap();
    let booted = "ab".repeat(32);
    let verify = |state: &str, image: Option<ImageRef>| {
        let report = run::verify_media(
            &VerifyOptions {
                media: layout.media.clone(),
                bundles: vec!["inbox/cavra-go-runtime-v0.1.0.tar.gz".into()],
                anchor: Some(layout.anchor.clone()),
                anchor_sha256: None,
                state_dir: t.path().join(state),
                write: WriteMode::Write,
                image,
            },
            &airlock_verifier::bundle::NoProgress,
        )
        .unwrap();
        assert!(report.problems.is_empty(), "{:?}", report.problems);
        let rel = report.results[0].receipt.clone().unwrap();
        let receipt = layout.media.join(rel);
        let key = t.path().join(state).join("appliance-key.json");
        (receipt, key)
    };
    // An appliance booted from an image names it; a second run (another state: a workstation)
    // names none.
    let (on_image, key) = verify(
        "appliance",
        Some(ImageRef {
            sha256: booted.clone(),
            build: "image 2026-11-29, kernel test".into(),
            secure_boot: true,
        }),
    );
    let (workstation, ws_key) = verify("workstation", None);
    let args = |r: &std::path::Path, k: &std::path::Path, pin: &str| {
        vec![
            "receipt".to_string(),
            "verify".into(),
            r.to_str().unwrap().into(),
            "--key".into(),
            k.to_str().unwrap().into(),
            "--image-sha256".into(),
            pin.into(),
        ]
    };
    let call = |a: Vec<String>| {
        let a: Vec<&str> = a.iter().map(String::as_str).collect();
        run(t.path(), &a, &[])
    };
    let o = call(args(&on_image, &key, &booted));
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(
        out.contains(&format!("appliance image sha256 {booted}")),
        "{out}"
    );
    let other = "cd".repeat(32);
    let o = call(args(&on_image, &key, &other));
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("not the required"));
    let o = call(args(&workstation, &ws_key, &booted));
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("names no appliance image"));
    // The verifier's own receipt verify agrees.
    let airlock =
        std::path::Path::new(env!("CARGO_BIN_EXE_airlock-bundle")).with_file_name("airlock");
    if airlock.is_file() {
        let st = std::process::Command::new(&airlock)
            .args(&args(&on_image, &key, &other)[..])
            .output()
            .unwrap();
        assert!(!st.status.success());
        let st = std::process::Command::new(&airlock)
            .args(&args(&on_image, &key, &booted)[..])
            .output()
            .unwrap();
        assert!(st.status.success());
    }
    // A receipt without an image stays byte-compatible: no `image` member at all.
    let text = String::from_utf8(std::fs::read(&workstation).unwrap()).unwrap();
    let b64 = text.split("\"payload\": \"").nth(1).unwrap();
    let b64 = &b64[..b64.find('"').unwrap()];
    let payload = airlock_formats::keys::decode_base64(b64).unwrap();
    assert!(!String::from_utf8_lossy(&payload).contains("\"image\""));
}
