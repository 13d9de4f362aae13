//! Issue #4, what the receipt says: a promote receipt written by `run::verify_media` names the
//! release evidence digest, the provenance builder and source, and the signers with their roles
//! and `sha256:` fingerprints; it verifies with `receipt::verify_receipt` against the appliance
//! key the run published on the media.

mod rules_kit;

use airlock_core::digest::sha256;
use airlock_formats::keys::{decode_base64, fingerprint, hex};
use airlock_verifier::bundle::NoProgress;
use airlock_verifier::receipt::{verify_receipt, ReceiptPayload};
use airlock_verifier::run::{verify_media, VerifyOptions, WriteMode};
use airlock_verifier::verdict::Verdict;
use rules_kit::*;

struct Run {
    _dir: tempfile::TempDir,
    receipts: Vec<(Verdict, ReceiptPayload, Vec<u8>)>,
}

/// Verifies `bundles` (file name, bundle) on fresh media with a fresh state, under the kit's
/// anchor; returns each receipt, verified.
fn run(kit: &Kit, bundles: &[(&str, &Bundle<'_>)]) -> Run {
    let dir = tempfile::tempdir().unwrap();
    let media = dir.path().join("media");
    std::fs::create_dir_all(media.join("inbox")).unwrap();
    for (name, b) in bundles {
        b.write(&media.join("inbox").join(name), true);
    }
    let anchor = dir.path().join("anchor.json");
    std::fs::write(&anchor, &kit.anchor).unwrap();
    let opts = VerifyOptions {
        media: media.clone(),
        bundles: vec![],
        anchor: Some(anchor),
        anchor_sha256: None,
        state_dir: dir.path().join("state"),
        write: WriteMode::Write,
        image: None,
    };
    let report = verify_media(&opts, &NoProgress).unwrap();
    assert!(report.problems.is_empty(), "{:?}", report.problems);
    let key_entry = std::fs::read(media.join("appliance-key.json")).unwrap();
    let receipts = report
        .results
        .iter()
        .map(|r| {
            let rel = r.receipt.as_ref().expect("a receipt was written");
            let env = std::fs::read(media.join(rel)).unwrap();
            let payload = verify_receipt(&env, &key_entry).expect("the receipt verifies");
            assert_eq!(payload.verdict, r.verdict);
            (
                r.verdict,
                payload,
                std::fs::read(media.join(&r.bundle)).unwrap(),
            )
        })
        .collect();
    Run {
        _dir: dir,
        receipts,
    }
}

fn minisign_raw(kit: &Kit) -> [u8; 32] {
    let bin = decode_base64(&kit.minisign.public_key_base64()).unwrap();
    bin[10..42].try_into().unwrap()
}

#[test]
fn promote_receipt_names_evidence_provenance_and_signers() {
    let kit = Kit::new();
    let b = kit.bundle();
    let r = run(&kit, &[("cavra-go-runtime-v0.1.0.tar.gz", &b)]);
    let (verdict, p, bundle_bytes) = &r.receipts[0];
    assert_eq!(*verdict, Verdict::Promote, "{:#?}", p.reasons);
    assert!(p.reasons.is_empty());
    assert_eq!(p.package.as_deref(), Some(PACKAGE));
    assert_eq!(p.version.as_deref(), Some(VERSION));
    assert_eq!(p.bundle.file, "inbox/cavra-go-runtime-v0.1.0.tar.gz");
    assert_eq!(
        p.bundle.sha256.as_deref(),
        Some(hex(&sha256(bundle_bytes)).as_str())
    );
    // release_evidence_sha256 = SHA-256 of the exact file in the bundle.
    assert_eq!(
        p.release_evidence_sha256.as_deref(),
        Some(hex(&sha256(b.get(EVIDENCE))).as_str())
    );
    // Provenance builder and source.
    let prov = p.provenance.as_ref().expect("provenance in the receipt");
    assert_eq!(prov.builder_id, BUILDER);
    assert_eq!(prov.source_repository, REPO);
    assert_eq!(prov.ref_, REF);
    assert_eq!(prov.commit, COMMIT);
    // Signers: the release key (role release) and the CI key (role provenance), fingerprinted.
    let mut signers: Vec<(String, String, String)> = p
        .signers
        .iter()
        .map(|s| (s.role.clone(), s.key_id.clone(), s.fingerprint.clone()))
        .collect();
    signers.sort();
    assert_eq!(
        signers,
        vec![
            ("provenance".into(), CI_ID.into(), kit.ci.fingerprint()),
            (
                "release".into(),
                RELEASE_ID.into(),
                kit.release.fingerprint()
            ),
        ]
    );
    assert!(kit.release.fingerprint().starts_with("sha256:"));
    assert_eq!(
        kit.release.fingerprint(),
        format!("sha256:{}", hex(&sha256(&kit.release.public_raw())))
    );
    // Artifacts: every artifact, no metadata.
    let mut arts: Vec<(String, String, u64)> = p
        .artifacts
        .iter()
        .map(|a| (a.name.clone(), a.sha256.clone(), a.size))
        .collect();
    arts.sort();
    let want: Vec<(String, String, u64)> = artifact_files()
        .into_iter()
        .map(|(n, d)| (n, hex(&sha256(&d)), d.len() as u64))
        .collect();
    assert_eq!(arts, want);
    assert_eq!(p.trust_root.version, Some(1));
}

#[test]
fn minisign_release_receipt_names_the_minisign_signer() {
    let kit = Kit::new();
    let mut b = kit.bundle();
    b.minisign_only();
    let r = run(&kit, &[("cavra-go-runtime-v0.1.0.tar.gz", &b)]);
    let (verdict, p, _) = &r.receipts[0];
    assert_eq!(*verdict, Verdict::Promote, "{:#?}", p.reasons);
    let release: Vec<_> = p.signers.iter().filter(|s| s.role == "release").collect();
    assert_eq!(release.len(), 1);
    assert_eq!(release[0].key_id, MINISIGN_ID);
    assert_eq!(release[0].fingerprint, fingerprint(&minisign_raw(&kit)));
}

#[test]
fn reject_receipt_names_the_evidence_mismatch() {
    let kit = Kit::new();
    let mut b = kit.bundle();
    b.sign_release_predicate(PACKAGE, "v0.1.1");
    let r = run(&kit, &[("mixed.tar.gz", &b)]);
    let (verdict, p, _) = &r.receipts[0];
    assert_eq!(*verdict, Verdict::Reject);
    let codes: Vec<&str> = p.reasons.iter().map(|r| r.code.as_str()).collect();
    assert_eq!(codes, ["evidence-mismatch"], "{:#?}", p.reasons);
    assert!(p.reasons[0].message.contains("v0.1.1"));
    assert_eq!(
        p.release_evidence_sha256.as_deref(),
        Some(hex(&sha256(b.get(EVIDENCE))).as_str())
    );
}

/// The receipt's evidence digest changes with one byte of the evidence (it is the digest of the
/// file, not of a re-serialisation).
#[test]
fn receipt_evidence_digest_is_of_the_exact_file() {
    let kit = Kit::new();
    let mut b = kit.bundle();
    let mut ev = b.get(EVIDENCE).to_vec();
    ev.extend_from_slice(b"\n");
    b.set(EVIDENCE, ev.clone()).reseal();
    let r = run(&kit, &[("a.tar.gz", &b)]);
    let (verdict, p, _) = &r.receipts[0];
    assert_eq!(*verdict, Verdict::Promote, "{:#?}", p.reasons);
    assert_eq!(
        p.release_evidence_sha256.as_deref(),
        Some(hex(&sha256(&ev)).as_str())
    );
}
