//! Adversarial section B (signatures and encodings, #20–#38) and #11, #13, #14, #16, #18 on real
//! bundle bytes: each case builds the good release, changes exactly what the attack changes, and
//! requires the exact set of reason codes (formats §2, §5, §7).

#[macro_use]
mod rules_kit;

use airlock_author::{MinisignKey, PrivateKey};
use airlock_core::digest::sha256;
use airlock_formats::document::dsse;
use airlock_formats::keys::{decode_base64, encode_base64, hex};
use airlock_formats::reason::Code;
use rules_kit::*;
use serde_json::{json, Value};

const TRUST_ROOT_TYPE: &str = "application/vnd.cavra.trust-root+json";

// --- helpers ---------------------------------------------------------------------------------------

/// Edits a DSSE file's envelope JSON (not its payload, not its signatures' validity).
fn edit_envelope(b: &mut Bundle<'_>, name: &str, f: impl FnOnce(&mut Value)) {
    let mut v = b.json(name);
    f(&mut v);
    b.set(name, pretty(&v));
}

fn sig_bytes(b: &Bundle<'_>, name: &str, i: usize) -> Vec<u8> {
    decode_base64(b.json(name)["signatures"][i]["sig"].as_str().unwrap()).unwrap()
}

/// The release signature replaced by one signature of `msg` (instead of the right PAE).
fn release_signed_over(b: &mut Bundle<'_>, msg_for: impl FnOnce(&[u8]) -> Vec<u8>) {
    let payload = envelope_payload(b.get(SIG));
    let msg = msg_for(&payload);
    let sig = sign_raw(&b.kit.release, &msg);
    b.set(SIG, envelope(IN_TOTO, &payload, &[(RELEASE_ID, sig)]));
}

const BAD_RELEASE: [Code; 2] = [Code::SignatureInvalid, Code::SignatureThresholdNotMet];

/// A good bundle of `kit` changed by `f`, judged against the kit's anchor.
fn case(kit: &Kit, name: &str, f: impl FnOnce(&mut Bundle<'_>), want: &[Code]) {
    let mut b = kit.bundle();
    f(&mut b);
    if want.is_empty() {
        expect_promote(name, &b.assess());
    } else {
        expect(name, &b.assess(), want);
    }
}

/// A trust root anchor made from the kit's root payload JSON after `edit` (as text, so that
/// duplicate keys and odd numbers survive), signed by both root keys.
fn anchor_from_text(kit: &Kit, edit: impl FnOnce(String) -> String) -> Vec<u8> {
    let payload = String::from_utf8(envelope_payload(&kit.anchor)).unwrap();
    let changed = edit(payload.clone());
    assert_ne!(changed, payload, "the edit changed nothing");
    let signers = [
        (kit.root_a.key_id().as_str(), kit.root_a.signing_key()),
        (kit.root_b.key_id().as_str(), kit.root_b.signing_key()),
    ];
    dsse::sign(TRUST_ROOT_TYPE, changed.as_bytes(), &signers)
}

fn anchor_from_value(kit: &Kit, edit: impl FnOnce(&mut Value)) -> Vec<u8> {
    anchor_from_text(kit, |t| {
        let mut v: Value = serde_json::from_str(&t).unwrap();
        edit(&mut v);
        String::from_utf8(pretty(&v)).unwrap()
    })
}

/// The good bundle (without its bootstrap copy of the kit's root) judged under `anchor`.
fn under_anchor(kit: &Kit, anchor: &[u8]) -> airlock_verifier::policy::Assessment {
    let mut b = kit.bundle();
    b.remove(BOOTSTRAP).reseal();
    assess_scan(&b.scan(), anchor)
}

fn key_entry(id: &str, raw: &[u8]) -> Value {
    json!({"key_id": id, "algorithm": "Ed25519", "public_key": encode_base64(raw)})
}

fn hex32(s: &str) -> Vec<u8> {
    (0..32)
        .map(|i| u8::from_str_radix(&s[2 * i..2 * i + 2], 16).unwrap())
        .collect()
}

// --- #20 weak keys, #21 non-canonical S ------------------------------------------------------------

/// Small-order and non-canonical Ed25519 public keys (C2SP/CCTV, ed25519-dalek's is_weak).
const WEAK_KEYS: [(&str, &str); 5] = [
    (
        "identity",
        "0100000000000000000000000000000000000000000000000000000000000000",
    ),
    (
        "order-2",
        "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
    ),
    (
        "order-4",
        "0000000000000000000000000000000000000000000000000000000000000000",
    ),
    (
        "order-8",
        "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a",
    ),
    (
        "identity-noncanonical-y-p-plus-1",
        "eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
    ),
];

#[test]
fn weak_key_in_trust_root_rejects_the_root() {
    let kit = Kit::new();
    expect_promote("control: own anchor", &under_anchor(&kit, &kit.anchor));
    for (name, h) in WEAK_KEYS {
        // Listed but in no role: still a root that must not load.
        let anchor = anchor_from_value(&kit, |v| {
            v["keys"]
                .as_array_mut()
                .unwrap()
                .push(key_entry("weak-key", &hex32(h)));
        });
        expect(
            &format!("weak key {name}, in no role"),
            &under_anchor(&kit, &anchor),
            &[Code::TrustRootInvalid],
        );
        // In the release role beside the real key.
        let anchor = anchor_from_value(&kit, |v| {
            v["keys"]
                .as_array_mut()
                .unwrap()
                .push(key_entry("weak-key", &hex32(h)));
            v["roles"]["release"]["key_ids"]
                .as_array_mut()
                .unwrap()
                .push("weak-key".into());
        });
        expect(
            &format!("weak key {name}, release role"),
            &under_anchor(&kit, &anchor),
            &[Code::TrustRootInvalid],
        );
    }
}

/// A weak key in a rotated root (v2, validly signed by both root keys) carried in the bundle:
/// v2 is not accepted, so the chain from the anchor cannot reach it.
#[test]
fn weak_key_in_rotated_root_is_not_accepted() {
    let kit = Kit::new();
    let v2 = anchor_from_value(&kit, |v| {
        v["version"] = 2.into();
        v["keys"]
            .as_array_mut()
            .unwrap()
            .push(key_entry("weak-key", &hex32(WEAK_KEYS[3].1)));
        v["roles"]["release"]["key_ids"] = json!(["weak-key"]);
    });
    let mut b = kit.bundle();
    b.set(BOOTSTRAP, v2).reseal();
    let a = b.assess();
    assert_eq!(a.verdict(), airlock_verifier::verdict::Verdict::Reject);
    assert!(
        codes(&a).contains("trust-root-invalid") || codes(&a).contains("trust-root-chain-broken"),
        "{:#?}",
        a.reasons()
    );
    assert_ne!(a.trust_root().version, Some(2));
}

/// The forgery a weak key enables (#20): R = identity, S = 0 verifies under the identity key with
/// a lax verifier. The key never loads, so the forgery never counts.
#[test]
fn s_zero_forgery_under_weak_key_does_not_verify() {
    let kit = Kit::new();
    let anchor = anchor_from_value(&kit, |v| {
        v["keys"]
            .as_array_mut()
            .unwrap()
            .push(key_entry("weak-key", &hex32(WEAK_KEYS[0].1)));
        v["roles"]["release"]["key_ids"] = json!(["weak-key"]);
    });
    let mut b = kit.bundle();
    b.remove(BOOTSTRAP).reseal();
    let payload = envelope_payload(b.get(SIG));
    let mut forged = hex32(WEAK_KEYS[0].1);
    forged.extend_from_slice(&[0u8; 32]);
    b.set(SIG, envelope(IN_TOTO, &payload, &[("weak-key", forged)]));
    let a = assess_scan(&b.scan(), &anchor);
    expect("S=0 forgery", &a, &[Code::TrustRootInvalid]);
    assert!(a.signers().is_empty());
}

/// S + L (the group order), little-endian.
fn add_l(sig: &[u8]) -> Vec<u8> {
    const L: [u8; 32] = [
        0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9, 0xde,
        0x14, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10,
    ];
    let mut out = sig.to_vec();
    let mut carry = 0u16;
    for i in 0..32 {
        let s = u16::from(out[32 + i]) + u16::from(L[i]) + carry;
        out[32 + i] = s as u8;
        carry = s >> 8;
    }
    assert_eq!(carry, 0);
    out
}

#[test]
fn non_canonical_s_rejects() {
    let kit = Kit::new();
    // Release signature.
    case(
        &kit,
        "release S+L",
        |b| {
            let s = add_l(&sig_bytes(b, SIG, 0));
            let payload = envelope_payload(b.get(SIG));
            b.set(SIG, envelope(IN_TOTO, &payload, &[(RELEASE_ID, s)]));
        },
        &BAD_RELEASE,
    );
    // Provenance.
    case(
        &kit,
        "provenance S+L",
        |b| {
            let s = add_l(&sig_bytes(b, PROVENANCE, 0));
            let payload = envelope_payload(b.get(PROVENANCE));
            b.set(PROVENANCE, envelope(IN_TOTO, &payload, &[(CI_ID, s)]))
                .reseal();
        },
        &[
            Code::ProvenanceInvalid,
            Code::SignatureInvalid,
            Code::SignatureThresholdNotMet,
        ],
    );
    // The S+L signature is accepted by a lax (non-strict) check: the test is meaningful.
    let b = kit.bundle();
    let s = add_l(&sig_bytes(&b, SIG, 0));
    let pk = ed25519_dalek::VerifyingKey::from_bytes(&kit.release.public_raw()).unwrap();
    let msg = pae(IN_TOTO, &envelope_payload(b.get(SIG)));
    let sig = ed25519_dalek::Signature::from_slice(&s).unwrap();
    assert!(pk.verify_strict(&msg, &sig).is_err());
}

#[test]
fn non_canonical_s_on_anchor_root_signature() {
    let kit = Kit::new();
    let mut v: Value = serde_json::from_slice(&kit.anchor).unwrap();
    let s = decode_base64(v["signatures"][0]["sig"].as_str().unwrap()).unwrap();
    v["signatures"][0]["sig"] = encode_base64(&add_l(&s)).into();
    expect(
        "anchor S+L",
        &under_anchor(&kit, &pretty(&v)),
        &[
            Code::TrustRootInvalid,
            Code::SignatureInvalid,
            Code::SignatureThresholdNotMet,
        ],
    );
}

// --- #13 / #22 one key counted once --------------------------------------------------------------

fn url_safe_no_pad(raw: &[u8]) -> String {
    encode_base64(raw)
        .trim_end_matches('=')
        .replace('+', "-")
        .replace('/', "_")
}

/// Release role of threshold 2: the release key, an alias of it (another id, another base64
/// encoding of the same 32 bytes) and the minisign key.
fn alias_kit(encoding: fn(&[u8]) -> String) -> Kit {
    Kit::with_root(|c, k| {
        let raw = k.release.public_raw();
        let mut e = k.release.public_entry(None, None);
        e.key_id = airlock_formats::keys::KeyId::new("release-alias").unwrap();
        e.public_key = encoding(&raw);
        c.keys.push(e);
        let ids = [
            k.release.key_id().clone(),
            airlock_formats::keys::KeyId::new("release-alias").unwrap(),
            airlock_formats::keys::KeyId::new(MINISIGN_ID).unwrap(),
        ];
        c.roles.get_mut("release").unwrap().key_ids = ids.to_vec();
        c.roles.get_mut("release").unwrap().threshold = 2;
    })
}

fn sign_release_as(b: &mut Bundle<'_>, ids: &[&str]) {
    let payload = envelope_payload(b.get(SIG));
    let sig = sign_raw(&b.kit.release, &pae(IN_TOTO, &payload));
    let sigs: Vec<(&str, Vec<u8>)> = ids.iter().map(|i| (*i, sig.clone())).collect();
    b.set(SIG, envelope(IN_TOTO, &payload, &sigs));
}

#[test]
fn one_key_under_two_ids_and_encodings_counts_once() {
    for (enc, f) in [
        ("url-safe unpadded", url_safe_no_pad as fn(&[u8]) -> String),
        ("same encoding", |r: &[u8]| encode_base64(r)),
    ] {
        let kit = alias_kit(f);
        case(
            &kit,
            &format!("{enc}: release + alias"),
            |b| sign_release_as(b, &[RELEASE_ID, "release-alias"]),
            &[Code::SignatureThresholdNotMet],
        );
        case(
            &kit,
            &format!("{enc}: release twice"),
            |b| sign_release_as(b, &[RELEASE_ID, RELEASE_ID]),
            &[Code::SignatureThresholdNotMet],
        );
        // Control: two distinct keys (DSSE + minisign) meet the threshold of 2.
        case(
            &kit,
            &format!("{enc}: release + minisign"),
            |b| {
                let sig = kit
                    .minisign
                    .sign(
                        b.get(CHECKSUMS),
                        CHECKSUMS,
                        airlock_formats::timestamp::Timestamp::now(),
                    )
                    .unwrap();
                b.set(MINISIG, sig);
            },
            &[],
        );
    }
}

/// #22 across algorithms: an Ed25519 entry and a minisign entry with the same raw key are one
/// signer.
#[test]
fn same_raw_key_as_ed25519_and_minisign_counts_once() {
    let kit = Kit::with_root(|c, k| {
        let (_, seed) = minisign_seed(&k.minisign);
        let twin = PrivateKey::from_seed("minisign-twin", &seed).unwrap();
        c.keys.push(twin.public_entry(None, None));
        let role = c.roles.get_mut("release").unwrap();
        role.key_ids = vec![
            airlock_formats::keys::KeyId::new(MINISIGN_ID).unwrap(),
            twin.key_id().clone(),
            k.release.key_id().clone(),
        ];
        role.threshold = 2;
    });
    let (_, seed) = minisign_seed(&kit.minisign);
    let twin = PrivateKey::from_seed("minisign-twin", &seed).unwrap();
    let mut b = kit.bundle();
    b.edit_json(EVIDENCE, |v| v["key_id"] = "minisign-twin".into());
    b.edit_json(SIGNING_OPS, |v| v["active_key_id"] = "minisign-twin".into());
    b.reseal();
    let st = b.release_statement(PACKAGE, VERSION);
    b.sign_doc(SIG, IN_TOTO, &st, &[&twin]);
    let ms = kit
        .minisign
        .sign(
            b.get(CHECKSUMS),
            CHECKSUMS,
            airlock_formats::timestamp::Timestamp::now(),
        )
        .unwrap();
    b.set(MINISIG, ms);
    expect(
        "twin DSSE + minisign",
        &b.assess(),
        &[Code::SignatureThresholdNotMet],
    );
}

// --- #14 unknown vs known bad signatures -------------------------------------------------------

fn add_signature(b: &mut Bundle<'_>, name: &str, keyid: &str, sig: &str) {
    edit_envelope(b, name, |v| {
        v["signatures"]
            .as_array_mut()
            .unwrap()
            .push(json!({"keyid": keyid, "sig": sig}));
    });
}

#[test]
fn junk_signature_by_unknown_key_beside_met_threshold_is_fine() {
    let kit = Kit::new();
    let junk64 = encode_base64(&[0x42; 64]);
    for (what, keyid, sig) in [
        (
            "unknown id, 64 junk bytes",
            "nobody-2026-q2",
            junk64.as_str(),
        ),
        ("unknown id, not base64", "nobody-2026-q2", "!!not base64!!"),
        ("unknown id, empty sig", "nobody-2026-q2", ""),
        ("id not a valid key id", "Nobody At All", junk64.as_str()),
    ] {
        case(
            &kit,
            &format!("release: {what}"),
            |b| add_signature(b, SIG, keyid, sig),
            &[],
        );
        case(
            &kit,
            &format!("provenance: {what}"),
            |b| {
                add_signature(b, PROVENANCE, keyid, sig);
                b.reseal();
            },
            &[],
        );
    }
    // A valid signature by a key the root does not know, beside: ignored too.
    case(
        &kit,
        "valid signature by an unknown key",
        |b| {
            let payload = envelope_payload(b.get(SIG));
            let ghost = key("ghost", 77);
            let s = encode_base64(&sign_raw(&ghost, &pae(IN_TOTO, &payload)));
            add_signature(b, SIG, "ghost", &s);
        },
        &[],
    );
}

#[test]
fn bad_signature_under_a_known_key_invalidates() {
    let kit = Kit::new();
    let junk64 = encode_base64(&[0x42; 64]);
    // A known key in no role; a root key; the release key itself (a second, bad signature).
    for keyid in [SPARE_ID, "root-a", RELEASE_ID, CI_ID] {
        case(
            &kit,
            &format!("release + junk by {keyid}"),
            |b| add_signature(b, SIG, keyid, &junk64),
            &[Code::SignatureInvalid],
        );
        case(
            &kit,
            &format!("release + short sig by {keyid}"),
            |b| add_signature(b, SIG, keyid, "AAAA"),
            &[Code::SignatureInvalid],
        );
    }
    case(
        &kit,
        "provenance + junk by the spare key",
        |b| {
            add_signature(b, PROVENANCE, SPARE_ID, &junk64);
            b.reseal();
        },
        &[Code::ProvenanceInvalid, Code::SignatureInvalid],
    );
}

// --- minisign #24 #25 #26 -------------------------------------------------------------------------

fn minisign_bundle(kit: &Kit) -> Bundle<'_> {
    let mut b = kit.bundle();
    b.minisign_only();
    b
}

#[test]
fn minisign_only_control_promotes() {
    let kit = Kit::new();
    expect_promote("minisign only", &minisign_bundle(&kit).assess());
}

#[test]
fn minisign_trusted_comment_with_control_characters() {
    let kit = Kit::new();
    for (what, file) in [
        ("CR", "checksums.txt\rtimestamp:0"),
        ("ESC", "checksums.txt\x1b[2K"),
        ("NUL", "checksums.txt\0x"),
        ("DEL", "checksums.txt\x7f"),
        ("C1 CSI", "checksums.txt\u{9b}2K"),
    ] {
        let mut b = minisign_bundle(&kit);
        let sig = kit
            .minisign
            .sign(
                b.get(CHECKSUMS),
                file,
                airlock_formats::timestamp::Timestamp::now(),
            )
            .unwrap();
        b.set(MINISIG, sig);
        expect(
            &format!("trusted comment {what}"),
            &b.assess(),
            &BAD_RELEASE,
        );
    }
}

#[test]
fn minisign_unknown_key_is_signer_unknown() {
    let kit = Kit::new();
    let stranger = MinisignKey::generate().unwrap();
    let mut b = minisign_bundle(&kit);
    let sig = stranger
        .sign(
            b.get(CHECKSUMS),
            CHECKSUMS,
            airlock_formats::timestamp::Timestamp::now(),
        )
        .unwrap();
    b.set(MINISIG, sig);
    expect(
        "minisign unknown key",
        &b.assess(),
        &[Code::SignatureThresholdNotMet, Code::SignerUnknown],
    );
    // Beside a met DSSE threshold, the unknown minisign key is ignored (#14).
    let mut b = kit.bundle();
    let sig = stranger
        .sign(
            b.get(CHECKSUMS),
            CHECKSUMS,
            airlock_formats::timestamp::Timestamp::now(),
        )
        .unwrap();
    b.set(MINISIG, sig);
    expect_promote("DSSE + unknown minisign", &b.assess());
}

fn minisig_lines(b: &Bundle<'_>) -> Vec<String> {
    String::from_utf8(b.get(MINISIG).to_vec())
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect()
}

#[test]
fn minisign_forged_signature_is_signature_invalid() {
    let kit = Kit::new();
    // A flipped bit in the signature, key id kept.
    let mut b = minisign_bundle(&kit);
    let mut l = minisig_lines(&b);
    let mut bin = decode_base64(&l[1]).unwrap();
    bin[20] ^= 1;
    l[1] = encode_base64(&bin);
    b.set(MINISIG, l.join("\n") + "\n");
    expect("minisign bit flip", &b.assess(), &BAD_RELEASE);
    // A genuine signature of other data.
    let mut b = minisign_bundle(&kit);
    let sig = kit
        .minisign
        .sign(
            b"other checksums\n",
            CHECKSUMS,
            airlock_formats::timestamp::Timestamp::now(),
        )
        .unwrap();
    b.set(MINISIG, sig);
    expect("minisign of other data", &b.assess(), &BAD_RELEASE);
    // A changed trusted comment (global signature no longer matches).
    let mut b = minisign_bundle(&kit);
    let mut l = minisig_lines(&b);
    l[2] = l[2].replace("hashed", "hashed\tfile:evil");
    b.set(MINISIG, l.join("\n") + "\n");
    expect("minisign trusted comment edited", &b.assess(), &BAD_RELEASE);
    // Not a minisign signature at all.
    let mut b = minisign_bundle(&kit);
    b.set(MINISIG, b"untrusted comment: x\nAAAA\n".to_vec());
    expect("minisign garbage", &b.assess(), &BAD_RELEASE);
}

/// A legacy (`Ed`, not prehashed) minisign signature, made by hand with the kit's minisign key:
/// `Ed` || key number || Ed25519(data), global signature over signature || trusted comment.
fn legacy_minisig(kit: &Kit, data: &[u8]) -> Vec<u8> {
    let (keynum, seed) = minisign_seed(&kit.minisign);
    let k = PrivateKey::from_seed("legacy", &seed).unwrap();
    let sig = sign_raw(&k, data);
    let mut bin = b"Ed".to_vec();
    bin.extend_from_slice(&keynum);
    bin.extend_from_slice(&sig);
    let tc = "timestamp:1775001600\tfile:checksums.txt";
    let mut g = sig.clone();
    g.extend_from_slice(tc.as_bytes());
    let global = sign_raw(&k, &g);
    format!(
        "untrusted comment: legacy signature\n{}\ntrusted comment: {tc}\n{}\n",
        encode_base64(&bin),
        encode_base64(&global)
    )
    .into_bytes()
}

#[test]
fn minisign_legacy_signature_rejected() {
    let kit = Kit::new();
    let mut b = minisign_bundle(&kit);
    let legacy = legacy_minisig(&kit, b.get(CHECKSUMS));
    // The hand-made legacy signature is genuine: minisign-verify accepts it when legacy is allowed.
    let pk = minisign_verify::PublicKey::from_base64(&kit.minisign.public_key_base64()).unwrap();
    let s = minisign_verify::Signature::decode(std::str::from_utf8(&legacy).unwrap()).unwrap();
    pk.verify(b.get(CHECKSUMS), &s, true)
        .expect("a genuine legacy signature");
    b.set(MINISIG, legacy);
    expect("legacy minisign", &b.assess(), &BAD_RELEASE);
}

/// The same, made by the Debian `minisign` CLI's legacy flag (`minisign -S -l`).
#[test]
fn minisign_cli_legacy_signature_rejected() {
    if !require_tool("minisign", &["-v"]) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let (pk_path, sk_path) = (dir.path().join("ms.pub"), dir.path().join("ms.key"));
    let run = |args: &[&std::ffi::OsStr]| {
        let o = std::process::Command::new("minisign")
            .args(args)
            .current_dir(dir.path())
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    };
    run(&[
        "-G".as_ref(),
        "-W".as_ref(),
        "-f".as_ref(),
        "-p".as_ref(),
        pk_path.as_os_str(),
        "-s".as_ref(),
        sk_path.as_os_str(),
    ]);
    let public = std::fs::read_to_string(&pk_path).unwrap();
    let public = public.lines().nth(1).unwrap().trim().to_owned();
    let public2 = public.clone();
    let kit = Kit::with_root(move |c, _| {
        c.keys.push(airlock_formats::keys::KeyEntry {
            key_id: airlock_formats::keys::KeyId::new("cli-minisign").unwrap(),
            algorithm: "minisign".into(),
            public_key: public2,
            identity: None,
            not_before: None,
            not_after: None,
        });
        c.roles
            .get_mut("release")
            .unwrap()
            .key_ids
            .push(airlock_formats::keys::KeyId::new("cli-minisign").unwrap());
    });
    let mut b = kit.bundle();
    b.remove(SIG);
    b.edit_json(EVIDENCE, |v| v["key_id"] = "cli-minisign".into());
    b.edit_json(SIGNING_OPS, |v| v["active_key_id"] = "cli-minisign".into());
    let text = b.checksums_text();
    b.set(CHECKSUMS, text);
    std::fs::write(dir.path().join(CHECKSUMS), b.get(CHECKSUMS)).unwrap();
    for (legacy, want) in [(false, &[][..]), (true, &BAD_RELEASE[..])] {
        let mut args: Vec<&std::ffi::OsStr> = vec!["-S".as_ref()];
        if legacy {
            args.push("-l".as_ref());
        }
        args.extend([
            "-s".as_ref(),
            sk_path.as_os_str(),
            "-m".as_ref(),
            CHECKSUMS.as_ref(),
        ]);
        run(&args);
        let sig = std::fs::read(dir.path().join(MINISIG)).unwrap();
        let bin = decode_base64(
            std::str::from_utf8(&sig)
                .unwrap()
                .lines()
                .nth(1)
                .unwrap()
                .trim(),
        )
        .unwrap();
        assert_eq!(&bin[..2], if legacy { b"Ed" } else { b"ED" });
        let mut c = b.clone();
        c.set(MINISIG, sig);
        let name = if legacy {
            "CLI -l legacy"
        } else {
            "CLI prehashed"
        };
        if want.is_empty() {
            expect_promote(name, &c.assess());
        } else {
            expect(name, &c.assess(), want);
        }
    }
}

// --- #27 signatures for other files / versions ----------------------------------------------------

#[test]
fn valid_signature_for_other_checksums_or_version() {
    let kit = Kit::new();
    // A renamed artifact, checksums.txt rewritten to the new name, the old signature kept.
    case(
        &kit,
        "renamed file, old signature",
        |b| {
            let data = b.get("bin/cavra-linux-amd64").to_vec();
            b.remove("bin/cavra-linux-amd64");
            b.set("bin/cavra-linux-arm64", data);
            let text = b.checksums_text();
            b.set(CHECKSUMS, text);
        },
        &[
            Code::SignatureInvalid,
            Code::EvidenceMismatch,
            Code::ProvenanceSubjectMismatch,
        ],
    );
    // A renamed artifact, checksums.txt untouched.
    case(
        &kit,
        "renamed file, checksums untouched",
        |b| {
            let data = b.get("bin/cavra-linux-amd64").to_vec();
            b.remove("bin/cavra-linux-amd64");
            b.set("bin/cavra-linux-arm64", data);
        },
        &[
            Code::ChecksumMissing,
            Code::ChecksumExtra,
            Code::EvidenceMismatch,
            Code::ProvenanceSubjectMismatch,
        ],
    );
    // The genuine release signature of another version (another checksums.txt).
    let other = kit.bundle_with(|o| {
        o.version = "v0.0.9".into();
        o.ref_ = "refs/tags/v0.0.9".into();
    });
    let other_sig = other.get(SIG).to_vec();
    case(
        &kit,
        "signature of v0.0.9",
        |b| {
            b.set(SIG, other_sig.clone());
        },
        &[Code::SignatureInvalid],
    );
    // The genuine signature and checksums.txt of v0.0.9 with v0.1.0's files (checksums lines for
    // the metadata now disagree).
    let other_sums = other.get(CHECKSUMS).to_vec();
    case(
        &kit,
        "checksums and signature of v0.0.9",
        |b| {
            b.set(SIG, other_sig.clone());
            b.set(CHECKSUMS, other_sums.clone());
        },
        &[
            Code::ChecksumMismatch,
            Code::EvidenceMismatch,
            Code::SigningOperationsMismatch,
        ],
    );
    // A validly signed statement whose subject is another file name, or two subjects.
    for (what, subject) in [
        (
            "subject checksums.txt.old",
            json!([{"name": "checksums.txt.old", "digest": {"sha256": "@"}}]),
        ),
        (
            "subject ./checksums.txt",
            json!([{"name": "./checksums.txt", "digest": {"sha256": "@"}}]),
        ),
        (
            "two subjects",
            json!([{"name": "checksums.txt", "digest": {"sha256": "@"}},
                   {"name": "README.md", "digest": {"sha256": "@"}}]),
        ),
        (
            "uppercase digest",
            json!([{"name": "checksums.txt", "digest": {"sha256": "UPPER"}}]),
        ),
    ] {
        case(
            &kit,
            what,
            |b| {
                let d = hex(&sha256(b.get(CHECKSUMS)));
                let text = subject
                    .to_string()
                    .replace("\"@\"", &format!("\"{d}\""))
                    .replace("\"UPPER\"", &format!("\"{}\"", d.to_uppercase()));
                let mut st: Value =
                    serde_json::from_slice(&b.release_statement(PACKAGE, VERSION)).unwrap();
                st["subject"] = serde_json::from_str(&text).unwrap();
                let rel = &b.kit.release;
                b.sign_doc(SIG, IN_TOTO, &pretty(&st), &[rel]);
            },
            &[Code::SignatureInvalid],
        );
    }
    // A validly signed release statement with another predicateType.
    case(
        &kit,
        "release statement with SLSA predicateType",
        |b| {
            let mut st: Value =
                serde_json::from_slice(&b.release_statement(PACKAGE, VERSION)).unwrap();
            st["predicateType"] = "https://slsa.dev/provenance/v1".into();
            let rel = &b.kit.release;
            b.sign_doc(SIG, IN_TOTO, &pretty(&st), &[rel]);
        },
        &[Code::SignatureInvalid],
    );
}

// --- #28 DSSE PAE --------------------------------------------------------------------------------

#[test]
fn dsse_signature_over_anything_but_pae_rejects() {
    let kit = Kit::new();
    case(
        &kit,
        "bare payload",
        |b| release_signed_over(b, |p| p.to_vec()),
        &BAD_RELEASE,
    );
    case(
        &kit,
        "LEN of the base64 payload",
        |b| {
            release_signed_over(b, |p| {
                let b64 = encode_base64(p);
                let mut m =
                    format!("DSSEv1 {} {IN_TOTO} {} ", IN_TOTO.len(), b64.len()).into_bytes();
                m.extend_from_slice(p);
                m
            })
        },
        &BAD_RELEASE,
    );
    case(
        &kit,
        "PAE over the base64 text",
        |b| release_signed_over(b, |p| pae(IN_TOTO, encode_base64(p).as_bytes())),
        &BAD_RELEASE,
    );
    case(
        &kit,
        "LEN with a leading zero",
        |b| {
            release_signed_over(b, |p| {
                let mut m =
                    format!("DSSEv1 0{} {IN_TOTO} {} ", IN_TOTO.len(), p.len()).into_bytes();
                m.extend_from_slice(p);
                m
            })
        },
        &BAD_RELEASE,
    );
    case(
        &kit,
        "LEN in hex",
        |b| {
            release_signed_over(b, |p| {
                let mut m =
                    format!("DSSEv1 {:x} {IN_TOTO} {:x} ", IN_TOTO.len(), p.len()).into_bytes();
                m.extend_from_slice(p);
                m
            })
        },
        &BAD_RELEASE,
    );
    case(
        &kit,
        "no DSSEv1 prefix",
        |b| release_signed_over(b, |p| pae(IN_TOTO, p)[7..].to_vec()),
        &BAD_RELEASE,
    );
    case(
        &kit,
        "PAE with another payloadType",
        |b| release_signed_over(b, |p| pae(TRUST_ROOT_TYPE, p)),
        &BAD_RELEASE,
    );
    // Honest trust-root payloadType (signature correct for it): not an in-toto release signature.
    case(
        &kit,
        "payloadType trust-root, correctly signed",
        |b| {
            let p = envelope_payload(b.get(SIG));
            let rel = &b.kit.release;
            b.sign_doc(SIG, TRUST_ROOT_TYPE, &p, &[rel]);
        },
        &BAD_RELEASE,
    );
    case(
        &kit,
        "payloadType in other case, correctly signed",
        |b| {
            let p = envelope_payload(b.get(SIG));
            let rel = &b.kit.release;
            b.sign_doc(SIG, "application/vnd.in-toto+JSON", &p, &[rel]);
        },
        &BAD_RELEASE,
    );
    // The control: the same helper over the right PAE promotes.
    case(
        &kit,
        "control: PAE",
        |b| release_signed_over(b, |p| pae(IN_TOTO, p)),
        &[],
    );
}

// --- #30 base64 alphabets --------------------------------------------------------------------------

fn to_url_safe(s: &str, pad: bool) -> String {
    let t = s.replace('+', "-").replace('/', "_");
    if pad {
        t
    } else {
        t.trim_end_matches('=').to_owned()
    }
}

/// Re-signs the release statement with a predicate note of `~` and `?` (ASCII JSON has no `+` or
/// `/` in base64 otherwise), adding trailing newlines until the payload and the signature both
/// use `+` or `/` in standard base64 and the payload is padded (so the URL-safe form differs).
fn release_with_url_unsafe_chars(b: &mut Bundle<'_>) {
    let mut st: Value = serde_json::from_slice(&b.release_statement(PACKAGE, VERSION)).unwrap();
    st["predicate"]["note"] = "~~~???>>>".into();
    let base = pretty(&st);
    for n in 0..200 {
        let mut p = base.clone();
        p.extend(std::iter::repeat_n(b'\n', n));
        let sig = sign_raw(&b.kit.release, &pae(IN_TOTO, &p));
        let (ep, es) = (encode_base64(&p), encode_base64(&sig));
        if (ep.contains('+') || ep.contains('/'))
            && (es.contains('+') || es.contains('/'))
            && ep.ends_with('=')
        {
            b.set(SIG, envelope(IN_TOTO, &p, &[(RELEASE_ID, sig)]));
            return;
        }
    }
    panic!("no payload variant with + or / found");
}

#[test]
fn url_safe_base64_accepted() {
    let kit = Kit::new();
    for pad in [true, false] {
        case(
            &kit,
            &format!("URL-safe (pad {pad})"),
            |b| {
                release_with_url_unsafe_chars(b);
                edit_envelope(b, SIG, |v| {
                    let p = to_url_safe(v["payload"].as_str().unwrap(), pad);
                    let s = to_url_safe(v["signatures"][0]["sig"].as_str().unwrap(), pad);
                    assert!(p.contains('-') || p.contains('_'));
                    v["payload"] = p.into();
                    v["signatures"][0]["sig"] = s.into();
                });
            },
            &[],
        );
    }
    // Provenance too.
    case(
        &kit,
        "URL-safe provenance",
        |b| {
            edit_envelope(b, PROVENANCE, |v| {
                let p = to_url_safe(v["payload"].as_str().unwrap(), true);
                let s = to_url_safe(v["signatures"][0]["sig"].as_str().unwrap(), true);
                v["payload"] = p.into();
                v["signatures"][0]["sig"] = s.into();
            });
            b.reseal();
        },
        &[],
    );
}

#[test]
fn base64_that_is_neither_alphabet_rejects() {
    let kit = Kit::new();
    case(
        &kit,
        "payload with a space inside",
        |b| {
            edit_envelope(b, SIG, |v| {
                let mut p = v["payload"].as_str().unwrap().to_owned();
                p.insert(8, ' ');
                v["payload"] = p.into();
            })
        },
        &BAD_RELEASE,
    );
    // One character in the URL-safe alphabet, the rest standard: neither alphabet.
    case(
        &kit,
        "payload mixing both alphabets",
        |b| {
            release_with_url_unsafe_chars(b);
            edit_envelope(b, SIG, |v| {
                let p = v["payload"].as_str().unwrap().to_owned();
                let i = p.find(['+', '/']).unwrap();
                let url = if &p[i..=i] == "+" { "-" } else { "_" };
                let mixed = format!("{}{url}{}", &p[..i], &p[i + 1..]);
                if !mixed.contains(['+', '/']) {
                    return; // only one special character: pure URL-safe, not a mix
                }
                v["payload"] = mixed.into();
            })
        },
        &BAD_RELEASE,
    );
}

// --- #31 duplicate JSON keys -----------------------------------------------------------------------

fn dup_in_envelope(b: &mut Bundle<'_>, name: &str, edit: impl FnOnce(&str) -> String) {
    let t = String::from_utf8(b.get(name).to_vec()).unwrap();
    let changed = edit(&t);
    assert_ne!(changed, t);
    b.set(name, changed);
}

#[test]
fn duplicate_keys_in_envelopes_reject() {
    let kit = Kit::new();
    case(
        &kit,
        "envelope payloadType twice",
        |b| {
            dup_in_envelope(b, SIG, |t| {
                t.replacen(
                    "\"payloadType\"",
                    &format!("\"payloadType\": \"{TRUST_ROOT_TYPE}\",\n  \"payloadType\""),
                    1,
                )
            })
        },
        &BAD_RELEASE,
    );
    case(
        &kit,
        "envelope signatures twice (first empty)",
        |b| {
            dup_in_envelope(b, SIG, |t| {
                t.replacen("\"signatures\"", "\"signatures\": [],\n  \"signatures\"", 1)
            })
        },
        &BAD_RELEASE,
    );
    case(
        &kit,
        "envelope payload twice",
        |b| {
            dup_in_envelope(b, SIG, |t| {
                t.replacen("\"payload\"", "\"payload\": \"e30=\",\n  \"payload\"", 1)
            })
        },
        &BAD_RELEASE,
    );
    case(
        &kit,
        "signature keyid twice",
        |b| {
            dup_in_envelope(b, SIG, |t| {
                t.replacen("\"keyid\"", "\"keyid\": \"nobody\", \"keyid\"", 1)
            })
        },
        &BAD_RELEASE,
    );
    case(
        &kit,
        "provenance envelope payloadType twice",
        |b| {
            dup_in_envelope(b, PROVENANCE, |t| {
                t.replacen(
                    "\"payloadType\"",
                    "\"payloadType\": \"x\",\n  \"payloadType\"",
                    1,
                )
            });
            b.reseal();
        },
        &[Code::ProvenanceInvalid],
    );
}

#[test]
fn duplicate_keys_in_signed_payloads_reject() {
    let kit = Kit::new();
    // The release statement: predicate version twice (serde_json would keep "v9.9.9").
    case(
        &kit,
        "release predicate version twice",
        |b| {
            let st = String::from_utf8(b.release_statement(PACKAGE, VERSION)).unwrap();
            let dup = st.replacen(
                "\"version\": \"v0.1.0\"",
                "\"version\": \"v0.1.0\", \"version\": \"v9.9.9\"",
                1,
            );
            assert_ne!(dup, st);
            let rel = &b.kit.release;
            b.sign_doc(SIG, IN_TOTO, dup.as_bytes(), &[rel]);
        },
        &[Code::SignatureInvalid],
    );
    // The trust root: threshold twice, keys twice.
    let a = anchor_from_text(&kit, |t| {
        t.replacen(
            "\"threshold\": 2",
            "\"threshold\": 2,\n      \"threshold\": 1",
            1,
        )
    });
    expect(
        "root threshold twice",
        &under_anchor(&kit, &a),
        &[Code::TrustRootInvalid],
    );
    let a = anchor_from_text(&kit, |t| {
        t.replacen("\"keys\": [", "\"keys\": [],\n  \"keys\": [", 1)
    });
    expect(
        "root keys twice",
        &under_anchor(&kit, &a),
        &[Code::TrustRootInvalid],
    );
    let a = anchor_from_text(&kit, |t| {
        t.replacen(
            "\"roles\": {",
            "\"roles\": {\"root\": {\"key_ids\": [], \"threshold\": 1},",
            1,
        )
    });
    expect(
        "root role twice",
        &under_anchor(&kit, &a),
        &[Code::TrustRootInvalid],
    );
}

// --- #32 odd numbers and strings -----------------------------------------------------------------

#[test]
fn odd_numbers_in_trust_root_reject() {
    let kit = Kit::new();
    for lit in [
        "1e400",
        "18446744073709551616",
        "-0",
        "1.0",
        "1e0",
        "-1",
        "0",
        "9223372036854775808",
    ] {
        let a = anchor_from_text(&kit, |t| {
            t.replacen("\"version\": 1", &format!("\"version\": {lit}"), 1)
        });
        expect(
            &format!("version {lit}"),
            &under_anchor(&kit, &a),
            &[Code::TrustRootInvalid],
        );
        let a = anchor_from_text(&kit, |t| {
            t.replacen("\"threshold\": 1", &format!("\"threshold\": {lit}"), 1)
        });
        expect(
            &format!("threshold {lit}"),
            &under_anchor(&kit, &a),
            &[Code::TrustRootInvalid],
        );
    }
}

#[test]
fn lone_surrogates_reject() {
    let kit = Kit::new();
    let a = anchor_from_text(&kit, |t| t.replacen("\"root-a\"", "\"root-a\\ud800\"", 1));
    expect(
        "root key id with lone surrogate",
        &under_anchor(&kit, &a),
        &[Code::TrustRootInvalid],
    );
    let a = anchor_from_text(&kit, |t| {
        t.replacen(&format!("\"{REPO}\""), &format!("\"{REPO}\\udfff\""), 1)
    });
    expect(
        "root builder with lone surrogate",
        &under_anchor(&kit, &a),
        &[Code::TrustRootInvalid],
    );
    case(
        &kit,
        "release predicate package with lone surrogate",
        |b| {
            let st = String::from_utf8(b.release_statement(PACKAGE, VERSION)).unwrap();
            let odd = st.replacen("\"cavra-go-runtime\"", "\"cavra-go-runtime\\ud83d\"", 1);
            let rel = &b.kit.release;
            b.sign_doc(SIG, IN_TOTO, odd.as_bytes(), &[rel]);
        },
        &[Code::SignatureInvalid],
    );
}

// --- #38 checksums.txt ----------------------------------------------------------------------------

fn sums(b: &mut Bundle<'_>, edit: impl FnOnce(String) -> String) {
    let t = String::from_utf8(b.get(CHECKSUMS).to_vec()).unwrap();
    let changed = edit(t.clone());
    assert_ne!(changed, t);
    b.set(CHECKSUMS, changed).resign_release();
}

fn readme_line(t: &str) -> String {
    t.lines()
        .find(|l| l.ends_with("  README.md"))
        .unwrap()
        .to_owned()
}

#[test]
fn checksums_ambiguity() {
    let kit = Kit::new();
    let malformed = [Code::ChecksumsMalformed, Code::ChecksumMissing];
    type Edit = Box<dyn Fn(String) -> String>;
    let rows: Vec<(&str, Edit, Vec<Code>)> = vec![
        (
            "missing entry",
            Box::new(|t| {
                let l = readme_line(&t);
                t.replace(&format!("{l}\n"), "")
            }),
            vec![Code::ChecksumMissing],
        ),
        (
            "extra entry",
            Box::new(|t| format!("{t}{}  bin/ghost\n", "ab".repeat(32))),
            vec![Code::ChecksumExtra],
        ),
        (
            "a name twice, same digest",
            Box::new(|t| {
                let l = readme_line(&t);
                format!("{t}{l}\n")
            }),
            vec![Code::ChecksumExtra],
        ),
        (
            "a name twice, other digest",
            Box::new(|t| format!("{t}{}  README.md\n", "ab".repeat(32))),
            vec![Code::ChecksumExtra],
        ),
        (
            "lists checksums.txt.sig.json",
            Box::new(|t| format!("{t}{}  checksums.txt.sig.json\n", "ab".repeat(32))),
            vec![Code::ChecksumExtra],
        ),
        (
            "* binary marker",
            Box::new(|t| {
                let l = readme_line(&t);
                t.replace(&l, &l.replace("  README.md", " *README.md"))
            }),
            malformed.to_vec(),
        ),
        (
            "backslash escape",
            Box::new(|t| {
                let l = readme_line(&t);
                t.replace(&l, &format!("\\{l}"))
            }),
            malformed.to_vec(),
        ),
        (
            "uppercase hex",
            Box::new(|t| {
                let l = readme_line(&t);
                t.replace(&l, &format!("{}{}", l[..64].to_uppercase(), &l[64..]))
            }),
            malformed.to_vec(),
        ),
        (
            "BOM",
            Box::new(|t| format!("\u{feff}{t}")),
            malformed.to_vec(),
        ),
        (
            "one space",
            Box::new(|t| {
                let l = readme_line(&t);
                t.replace(&l, &l.replace("  README.md", " README.md"))
            }),
            malformed.to_vec(),
        ),
        (
            "./ name",
            Box::new(|t| {
                let l = readme_line(&t);
                t.replace(&l, &l.replace("  README.md", "  ./README.md"))
            }),
            malformed.to_vec(),
        ),
        (
            "tab separator",
            Box::new(|t| {
                let l = readme_line(&t);
                t.replace(&l, &l.replace("  README.md", "\tREADME.md"))
            }),
            malformed.to_vec(),
        ),
        // "README.md " is a canonical name of another (absent) file.
        (
            "trailing space after name",
            Box::new(|t| {
                let l = readme_line(&t);
                t.replace(&l, &format!("{l} "))
            }),
            vec![Code::ChecksumExtra, Code::ChecksumMissing],
        ),
        (
            "empty line",
            Box::new(|t| format!("{t}\n")),
            vec![Code::ChecksumsMalformed],
        ),
        (
            "no final newline",
            Box::new(|t| t.trim_end_matches('\n').to_owned()),
            malformed.to_vec(),
        ),
        (
            "comment line",
            Box::new(|t| format!("# sha256sum output\n{t}")),
            vec![Code::ChecksumsMalformed],
        ),
    ];
    for (name, edit, want) in rows {
        case(&kit, name, |b| sums(b, edit), &want);
    }
    // CRLF on every line: every line malformed, so every file is unlisted (the manifest too).
    case(
        &kit,
        "CRLF",
        |b| sums(b, |t| t.replace('\n', "\r\n")),
        &[
            Code::ChecksumsMalformed,
            Code::ChecksumMissing,
            Code::SigningOperationsMismatch,
        ],
    );
    // checksums.txt absent: the signature over it cannot be checked, the bundle is rejected.
    case(
        &kit,
        "checksums.txt absent",
        |b| {
            b.remove(CHECKSUMS);
        },
        &[Code::ChecksumMissing],
    );
}

// --- #11 extraneous files, #16 type confusion, #18 exact bytes ----------------------------------

#[test]
fn extraneous_file_not_in_checksums() {
    let kit = Kit::new();
    case(
        &kit,
        "extra artifact",
        |b| {
            b.set("bin/backdoor", b"#!/bin/sh\n".to_vec());
        },
        &[
            Code::ChecksumMissing,
            Code::EvidenceMismatch,
            Code::ProvenanceSubjectMismatch,
        ],
    );
    case(
        &kit,
        "extra file in a new directory",
        |b| {
            b.set("docs/notes.txt", b"hello\n".to_vec());
        },
        &[
            Code::ChecksumMissing,
            Code::EvidenceMismatch,
            Code::ProvenanceSubjectMismatch,
        ],
    );
}

#[test]
fn other_documents_presented_as_trust_roots() {
    let kit = Kit::new();
    // The release signature (an in-toto envelope) as the anchor.
    let b = kit.bundle();
    let sig = b.get(SIG).to_vec();
    expect(
        "release signature as anchor",
        &under_anchor(&kit, &sig),
        &[Code::TrustRootInvalid],
    );
    // A payload of another `_type`, correctly signed by both root keys as a trust root.
    let a = anchor_from_text(&kit, |t| {
        t.replacen("\"cavra-trust-root\"", "\"cavra-revocations\"", 1)
    });
    expect(
        "_type revocations as root",
        &under_anchor(&kit, &a),
        &[Code::TrustRootInvalid],
    );
    // A trust-root payload under the revocations payloadType, correctly signed.
    let p = envelope_payload(&kit.anchor);
    let env = dsse::sign(
        "application/vnd.cavra.revocations+json",
        &p,
        &[
            (kit.root_a.key_id().as_str(), kit.root_a.signing_key()),
            (kit.root_b.key_id().as_str(), kit.root_b.signing_key()),
        ],
    );
    expect(
        "payloadType revocations",
        &under_anchor(&kit, &env),
        &[Code::TrustRootInvalid],
    );
}

#[test]
fn exact_received_bytes_are_verified() {
    let kit = Kit::new();
    // The signed payload re-serialised (compact): the signature no longer verifies.
    case(
        &kit,
        "release payload reformatted",
        |b| {
            edit_envelope(b, SIG, |v| {
                let p = decode_base64(v["payload"].as_str().unwrap()).unwrap();
                let compact =
                    serde_json::to_vec(&serde_json::from_slice::<Value>(&p).unwrap()).unwrap();
                assert_ne!(compact, p);
                v["payload"] = encode_base64(&compact).into();
            })
        },
        &BAD_RELEASE,
    );
    case(
        &kit,
        "release payload with a trailing newline removed",
        |b| {
            edit_envelope(b, SIG, |v| {
                let mut p = decode_base64(v["payload"].as_str().unwrap()).unwrap();
                assert_eq!(p.pop(), Some(b'\n'));
                v["payload"] = encode_base64(&p).into();
            })
        },
        &BAD_RELEASE,
    );
    case(
        &kit,
        "provenance payload reformatted",
        |b| {
            edit_envelope(b, PROVENANCE, |v| {
                let p = decode_base64(v["payload"].as_str().unwrap()).unwrap();
                let compact =
                    serde_json::to_vec(&serde_json::from_slice::<Value>(&p).unwrap()).unwrap();
                v["payload"] = encode_base64(&compact).into();
            });
            b.reseal();
        },
        &[
            Code::ProvenanceInvalid,
            Code::SignatureInvalid,
            Code::SignatureThresholdNotMet,
        ],
    );
    // The envelope around the payload re-serialised: the signed bytes are the same, fine.
    case(
        &kit,
        "release envelope compacted",
        |b| {
            let v = b.json(SIG);
            b.set(SIG, serde_json::to_vec(&v).unwrap());
        },
        &[],
    );
    // checksums.txt must be the exact signed bytes: a line reordered (same content) rejects.
    case(
        &kit,
        "checksums.txt lines reordered",
        |b| {
            let t = String::from_utf8(b.get(CHECKSUMS).to_vec()).unwrap();
            let mut lines: Vec<&str> = t.lines().collect();
            lines.reverse();
            let r: String = lines.iter().map(|l| format!("{l}\n")).collect();
            b.set(CHECKSUMS, r);
        },
        &[Code::SignatureInvalid],
    );
}
