//! Receipts and the appliance key: signing, strict verification (here and in Python
//! `cryptography`), naming with collisions, no path escapes (#17), key custody (#23).

mod write_support;

use airlock_formats::document::dsse;
use airlock_formats::keys::{decode_base64, encode_base64};
use airlock_verifier::appliance_key::{ApplianceKey, PUBLIC_FILE, SECRET_FILE};
use airlock_verifier::atomic::RealStorage;
use airlock_verifier::policy::Decision;
use airlock_verifier::receipt::{self, sign_receipt, verify_receipt, write_receipt, ReceiptError};
use airlock_verifier::verdict::Verdict;
use std::fs;
use std::os::unix::fs::PermissionsExt as _;
use write_support::*;

fn zero() -> String {
    "0".repeat(64)
}

#[test]
fn receipt_round_trip_and_strict_refusals() {
    let key = test_key(7);
    let entry = key.entry_json();
    let p = sample_payload(
        &key,
        Verdict::Reject,
        "inbox/b.tar",
        &"11".repeat(32),
        (1, zero()),
    );
    let env = sign_receipt(&Decision::Reject(p.reasons.clone()), &facts(&p), &key);
    assert_eq!(verify_receipt(&env, &entry).unwrap(), p);
    // The tests' forger lays a receipt out byte for byte as the appliance's writer does.
    assert_eq!(forge_receipt(&p, &key), env);

    // Another appliance's key: no signature by it.
    let other = test_key(8);
    assert!(matches!(
        verify_receipt(&env, &other.entry_json()),
        Err(ReceiptError::Signature(_))
    ));

    // Payload altered after signing.
    let mut v: serde_json::Value = serde_json::from_slice(&env).unwrap();
    let body = decode_base64(v["payload"].as_str().unwrap()).unwrap();
    let altered = String::from_utf8(body.clone())
        .unwrap()
        .replace("\"reject\"", "\"promote\"");
    v["payload"] = encode_base64(altered.as_bytes()).into();
    let e = verify_receipt(&serde_json::to_vec(&v).unwrap(), &entry).unwrap_err();
    assert!(matches!(e, ReceiptError::Signature(_)), "{e:?}");
    assert!(e.to_string().contains("does not verify"), "{e}");

    // Same payload under another payloadType (type confusion), even correctly signed.
    let confused = dsse::sign(
        dsse::payload_type::TRUST_ROOT,
        &body,
        &[(key.key_id().as_str(), key.signing_key())],
    );
    assert!(verify_receipt(&confused, &entry).is_err());

    // A signature over the bare payload instead of PAE.
    let mut bare: serde_json::Value = serde_json::from_slice(&env).unwrap();
    bare["signatures"][0]["sig"] = encode_base64(&key.sign(&body)).into();
    assert!(verify_receipt(&serde_json::to_vec(&bare).unwrap(), &entry).is_err());

    // A junk signature by an unknown key id is ignored; a bad one by the appliance key is not.
    let mut junk: serde_json::Value = serde_json::from_slice(&env).unwrap();
    junk["signatures"]
        .as_array_mut()
        .unwrap()
        .push(serde_json::json!({"keyid": "someone-else", "sig": encode_base64(&[0; 64])}));
    assert!(verify_receipt(&serde_json::to_vec(&junk).unwrap(), &entry).is_ok());
    junk["signatures"]
        .as_array_mut()
        .unwrap()
        .push(serde_json::json!({"keyid": key.key_id().as_str(), "sig": encode_base64(&[0; 64])}));
    assert!(verify_receipt(&serde_json::to_vec(&junk).unwrap(), &entry).is_err());

    // Duplicate keys in the envelope.
    let s = String::from_utf8(env.clone()).unwrap();
    let dup = s.replacen("{", "{\"payloadType\": \"x\",", 1);
    assert!(verify_receipt(dup.as_bytes(), &entry).is_err());

    // A promote receipt with reasons is inconsistent (the writer cannot make one: it takes the
    // verdict and reasons from a `policy::Decision`; a holder of the key can).
    let mut bad = p.clone();
    bad.verdict = Verdict::Promote;
    assert!(verify_receipt(&forge_receipt(&bad, &key), &entry).is_err());
}

#[test]
fn receipts_verify_in_python_cryptography() {
    let media = tempfile::tempdir().unwrap();
    let key = test_key(9);
    let keyfile = media.path().join(PUBLIC_FILE);
    fs::write(&keyfile, key.entry_json()).unwrap();
    for (verdict, seq) in [(Verdict::Promote, 41), (Verdict::Reject, 42)] {
        let p = sample_payload(
            &key,
            verdict,
            "inbox/cavra.tar.gz",
            &"22".repeat(32),
            (seq, "ab".repeat(32)),
        );
        let env = forge_receipt(&p, &key);
        let rel = write_receipt(&RealStorage, media.path(), "cavra.tar.gz", verdict, &env).unwrap();
        let out = python(
            &interop("verify_receipt.py"),
            &[
                media.path().join(&rel).to_str().unwrap(),
                keyfile.to_str().unwrap(),
            ],
        );
        let got: serde_json::Value = serde_json::from_str(&out).unwrap();
        assert_eq!(got["verdict"], verdict.as_str());
        assert_eq!(got["seq"], seq);
        assert_eq!(got["file"], "inbox/cavra.tar.gz");
    }
    // Python refuses a tampered receipt too.
    let p = sample_payload(
        &key,
        Verdict::Promote,
        "inbox/x.tar",
        &"33".repeat(32),
        (1, zero()),
    );
    let env = String::from_utf8(forge_receipt(&p, &key)).unwrap();
    let sig_at = env.find("\"sig\": \"").unwrap() + 8;
    let flipped = format!(
        "{}{}{}",
        &env[..sig_at],
        if &env[sig_at..sig_at + 1] == "A" {
            "B"
        } else {
            "A"
        },
        &env[sig_at + 1..]
    );
    let t = media.path().join("tampered.json");
    fs::write(&t, flipped).unwrap();
    let st = std::process::Command::new("python3")
        .args([
            &interop("verify_receipt.py"),
            t.to_str().unwrap(),
            keyfile.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert!(!st.status.success());
}

#[test]
fn receipt_names_take_the_smallest_free_number() {
    let media = tempfile::tempdir().unwrap();
    let key = test_key(1);
    let p = sample_payload(
        &key,
        Verdict::Reject,
        "inbox/b.tar",
        &"44".repeat(32),
        (1, zero()),
    );
    let env = sign_receipt(&Decision::Reject(p.reasons.clone()), &facts(&p), &key);
    let w = |v| write_receipt(&RealStorage, media.path(), "b.tar", v, &env).unwrap();
    assert_eq!(w(Verdict::Reject), "receipts/b.tar.reject.receipt.json");
    assert_eq!(w(Verdict::Reject), "receipts/b.tar.reject.2.receipt.json");
    assert_eq!(w(Verdict::Reject), "receipts/b.tar.reject.3.receipt.json");
    assert_eq!(w(Verdict::Promote), "receipts/b.tar.promote.receipt.json");
    fs::remove_file(media.path().join("receipts/b.tar.reject.2.receipt.json")).unwrap();
    assert_eq!(w(Verdict::Reject), "receipts/b.tar.reject.2.receipt.json");
    assert_eq!(w(Verdict::Reject), "receipts/b.tar.reject.4.receipt.json");
    // Every file is whole; nothing was overwritten; no temp file left.
    let dir = media.path().join(receipt::RECEIPTS_DIR);
    for n in names(&dir) {
        assert_eq!(fs::read(dir.join(&n)).unwrap(), env, "{n}");
    }
    assert!(temps(&dir).is_empty());
    assert_eq!(names(&dir).len(), 5);
}

#[test]
fn receipts_never_leave_receipts_dir() {
    let root = tempfile::tempdir().unwrap();
    let media = root.path().join("media");
    fs::create_dir(&media).unwrap();
    // Hostile names still get a receipt (every bundle does), always a plain name in receipts/.
    let bad = [
        "../x.tar", "a/b.tar", "/abs.tar", "..", ".", "", "a\0b", "a\\b.tar", "x\n.tar",
    ];
    for name in bad {
        let rel = write_receipt(&RealStorage, &media, name, Verdict::Reject, b"{}").unwrap();
        let file = rel.strip_prefix("receipts/").unwrap();
        assert!(
            !file.contains('/') && !file.contains('\\') && !file.chars().any(char::is_control),
            "{rel:?}"
        );
    }
    assert_eq!(names(root.path()), ["media"]);
    assert_eq!(names(&media), ["receipts"]);
    assert_eq!(
        names(&media.join("receipts")).len(),
        bad.len(),
        "distinct names stay distinct"
    );
    fs::remove_dir_all(media.join("receipts")).unwrap();
    // receipts/ as a symlink to somewhere else is refused.
    let elsewhere = root.path().join("elsewhere");
    fs::create_dir(&elsewhere).unwrap();
    std::os::unix::fs::symlink(&elsewhere, media.join("receipts")).unwrap();
    assert!(write_receipt(&RealStorage, &media, "b.tar", Verdict::Reject, b"{}").is_err());
    assert!(names(&elsewhere).is_empty());
}

#[test]
fn appliance_key_custody() {
    let state = tempfile::tempdir().unwrap();
    let dir = state.path();
    let key = ApplianceKey::load_or_create(&RealStorage, dir).unwrap();
    let secret = dir.join(SECRET_FILE);
    let mode = fs::metadata(&secret).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600, "secret key mode");
    assert!(fs::read_to_string(&secret)
        .unwrap()
        .starts_with("-----BEGIN PRIVATE KEY-----"));
    // The public entry is a §1 key entry naming the derived key.
    let entry: airlock_formats::keys::KeyEntry =
        airlock_formats::json::parse(&fs::read(dir.join(PUBLIC_FILE)).unwrap()).unwrap();
    assert_eq!(entry.algorithm, "Ed25519");
    assert_eq!(&entry.key_id, key.key_id());
    assert_eq!(
        decode_base64(&entry.public_key).unwrap(),
        key.public().as_bytes()
    );
    assert!(key.key_id().as_str().starts_with("airlock-appliance-"));
    assert_eq!(&key.fingerprint()[7..23], &key.key_id().as_str()[18..]);
    // No private material in the public file.
    let pem = fs::read_to_string(&secret).unwrap();
    let public_text = fs::read_to_string(dir.join(PUBLIC_FILE)).unwrap();
    assert!(!public_text.contains(pem.lines().nth(1).unwrap()));

    // The secret is standard PKCS#8: Python `cryptography` loads it and derives the same key.
    let derived = python(&interop("pkcs8_public.py"), &[secret.to_str().unwrap()]);
    assert_eq!(derived.trim(), entry.public_key);

    // Loading again gives the same key; so does load_or_create.
    assert_eq!(ApplianceKey::load(dir).unwrap().key_id(), key.key_id());
    let again = ApplianceKey::load_or_create(&RealStorage, dir).unwrap();
    assert_eq!(again.public(), key.public());

    // A missing public file is re-derived from the secret.
    fs::remove_file(dir.join(PUBLIC_FILE)).unwrap();
    ApplianceKey::load_or_create(&RealStorage, dir).unwrap();
    assert_eq!(fs::read(dir.join(PUBLIC_FILE)).unwrap(), key.entry_json());

    // A public file naming another key is refused, never paired with the secret (#23).
    let other = test_key(3);
    fs::write(dir.join(PUBLIC_FILE), other.entry_json()).unwrap();
    assert!(ApplianceKey::load(dir).is_err());
    let mut swapped = key.entry();
    swapped.public_key = other.entry().public_key;
    fs::write(dir.join(PUBLIC_FILE), dsse::to_pretty_json(&swapped)).unwrap();
    assert!(ApplianceKey::load(dir)
        .unwrap_err()
        .to_string()
        .contains("secret key"));
    fs::write(dir.join(PUBLIC_FILE), key.entry_json()).unwrap();

    // Group- or world-readable secret: refused.
    for m in [0o640, 0o604, 0o660] {
        fs::set_permissions(&secret, fs::Permissions::from_mode(m)).unwrap();
        let e = ApplianceKey::load(dir).unwrap_err().to_string();
        assert!(e.contains("mode"), "{m:o}: {e}");
    }
    fs::set_permissions(&secret, fs::Permissions::from_mode(0o600)).unwrap();
    assert!(ApplianceKey::load(dir).is_ok());

    // A symlinked secret is refused.
    let d2 = tempfile::tempdir().unwrap();
    std::os::unix::fs::symlink(&secret, d2.path().join(SECRET_FILE)).unwrap();
    assert!(ApplianceKey::load(d2.path()).is_err());

    // A public file without its secret: no silent new identity.
    let d3 = tempfile::tempdir().unwrap();
    fs::write(d3.path().join(PUBLIC_FILE), key.entry_json()).unwrap();
    assert!(ApplianceKey::load_or_create(&RealStorage, d3.path()).is_err());
    assert!(!d3.path().join(SECRET_FILE).exists());

    // Two fresh appliances get different keys.
    let d4 = tempfile::tempdir().unwrap();
    let k4 = ApplianceKey::load_or_create(&RealStorage, d4.path()).unwrap();
    assert_ne!(k4.public(), key.public());
}

#[test]
fn appliance_key_creation_survives_power_loss() {
    // Find how many operations creating a key takes, then cut the power at each one: the next
    // run either loads a whole, consistent key or creates one; never a partial secret.
    let probe = FaultyStorage::new();
    let d = tempfile::tempdir().unwrap();
    ApplianceKey::load_or_create(&probe, d.path()).unwrap();
    let total = probe.ops();
    for n in 0..total {
        let d = tempfile::tempdir().unwrap();
        let s = FaultyStorage::halt_after(n);
        assert!(ApplianceKey::load_or_create(&s, d.path()).is_err());
        s.crash(Crash::DropAll);
        airlock_verifier::atomic::remove_stale_temps(&RealStorage, d.path()).unwrap();
        let k = ApplianceKey::load_or_create(&RealStorage, d.path()).unwrap();
        assert_eq!(
            fs::read(d.path().join(PUBLIC_FILE)).unwrap(),
            k.entry_json()
        );
        let mode = fs::metadata(d.path().join(SECRET_FILE))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
}

#[test]
fn media_cleanup_and_public_key_on_the_media() {
    let media = tempfile::tempdir().unwrap();
    let m = media.path();
    let key = test_key(2);
    // A stick pulled mid-write left temp files in each place Airlock writes.
    fs::create_dir(m.join("receipts")).unwrap();
    fs::create_dir(m.join("evidence")).unwrap();
    for d in [m.to_path_buf(), m.join("receipts"), m.join("evidence")] {
        fs::write(
            d.join(format!("{}1-2-abc", airlock_verifier::atomic::TEMP_PREFIX)),
            b"partial",
        )
        .unwrap();
        fs::write(d.join("keep.txt"), b"operator file").unwrap();
    }
    let removed = receipt::remove_media_temps(&RealStorage, m).unwrap();
    assert_eq!(removed.len(), 3);
    for d in [m.to_path_buf(), m.join("receipts"), m.join("evidence")] {
        assert!(temps(&d).is_empty());
        assert!(d.join("keep.txt").exists());
    }
    // appliance-key.json: written once; another appliance's file is left alone.
    assert!(key.publish_to_media(&RealStorage, m).unwrap());
    assert!(!key.publish_to_media(&RealStorage, m).unwrap());
    assert!(!test_key(4).publish_to_media(&RealStorage, m).unwrap());
    assert_eq!(fs::read(m.join(PUBLIC_FILE)).unwrap(), key.entry_json());
}
