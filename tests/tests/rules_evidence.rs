//! Issue #4: `release-evidence.json` against checksums.txt, the release signature's predicate,
//! the signing-operations manifest and the provenance (formats §5.3; adversarial #9, #31, #32).
//! One test per rule; each mutation re-seals checksums.txt and re-signs the release with the
//! release key, so the evidence rule is the only thing wrong unless a row says otherwise.

#[macro_use]
mod rules_kit;

use rules_kit::*;
use serde_json::json;

#[test]
fn good_release_promotes() {
    let kit = Kit::new();
    let b = kit.bundle();
    let a = b.assess();
    expect_promote("good", &a);
    // And as a plain tar.
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("b.tar");
    b.write(&p, false);
    expect_promote("good tar", &assess_scan(&scan_file(&p), &kit.anchor));
}

rule!(
    evidence_missing,
    |b| b.remove(EVIDENCE).reseal(),
    [EvidenceMismatch]
);

rule!(
    evidence_not_json,
    |b| b
        .set(
            EVIDENCE,
            b"{\"_type\": \"cavra-release-evidence\",".to_vec()
        )
        .reseal(),
    [EvidenceMismatch]
);

rule!(
    evidence_duplicate_key_version,
    |b| {
        // Duplicate `version`: serde_json would keep the last ("v9.9.9").
        let text = String::from_utf8(b.get(EVIDENCE).to_vec()).unwrap();
        let dup = text.replacen(
            "\"version\": \"v0.1.0\",",
            "\"version\": \"v0.1.0\",\n  \"version\": \"v9.9.9\",",
            1,
        );
        assert_ne!(dup, text);
        b.set(EVIDENCE, dup).reseal()
    },
    [EvidenceMismatch]
);

rule!(
    evidence_duplicate_key_nested_artifact,
    |b| {
        let text = String::from_utf8(b.get(EVIDENCE).to_vec()).unwrap();
        let dup = text.replacen("\"size\":", "\"size\": 1, \"size\":", 1);
        assert_ne!(dup, text);
        b.set(EVIDENCE, dup).reseal()
    },
    [EvidenceMismatch]
);

rule!(
    evidence_wrong_type,
    |b| b
        .edit_json(EVIDENCE, |v| v["_type"] = "cavra-trust-root".into())
        .reseal(),
    [EvidenceMismatch]
);

rule!(
    evidence_type_missing,
    |b| b
        .edit_json(EVIDENCE, |v| {
            v.as_object_mut().unwrap().remove("_type");
        })
        .reseal(),
    [EvidenceMismatch]
);

rule!(
    evidence_version_without_v,
    |b| b
        .edit_json(EVIDENCE, |v| v["version"] = "0.1.0".into())
        .reseal(),
    [EvidenceMismatch]
);

rule!(
    evidence_version_capital_v,
    |b| b
        .edit_json(EVIDENCE, |v| v["version"] = "V0.1.0".into())
        .reseal(),
    [EvidenceMismatch]
);

rule!(
    evidence_version_not_semver_two_parts,
    |b| b
        .edit_json(EVIDENCE, |v| v["version"] = "v0.1".into())
        .reseal(),
    [EvidenceMismatch]
);

rule!(
    evidence_version_not_semver_leading_zero,
    |b| b
        .edit_json(EVIDENCE, |v| v["version"] = "v00.1.0".into())
        .reseal(),
    [EvidenceMismatch]
);

rule!(
    evidence_version_is_a_number,
    |b| b
        .edit_json(EVIDENCE, |v| v["version"] = json!(1.0))
        .reseal(),
    [EvidenceMismatch]
);

rule!(
    evidence_commit_39_hex,
    |b| b
        .edit_json(EVIDENCE, |v| v["commit"] = COMMIT[..39].into())
        .reseal(),
    [EvidenceMismatch]
);

rule!(
    evidence_commit_uppercase_hex,
    |b| b
        .edit_json(EVIDENCE, |v| v["commit"] = COMMIT.to_uppercase().into())
        .reseal(),
    [EvidenceMismatch]
);

rule!(
    evidence_commit_not_hex,
    |b| b
        .edit_json(EVIDENCE, |v| {
            v["commit"] = format!("g{}", &COMMIT[1..]).into()
        })
        .reseal(),
    [EvidenceMismatch]
);

rule!(
    evidence_commit_sha256_length,
    |b| b
        .edit_json(EVIDENCE, |v| v["commit"] = "ab".repeat(32).into())
        .reseal(),
    [EvidenceMismatch]
);

rule!(
    evidence_artifacts_field_missing,
    |b| b
        .edit_json(EVIDENCE, |v| {
            v.as_object_mut().unwrap().remove("artifacts");
        })
        .reseal(),
    [EvidenceMismatch]
);

rule!(
    evidence_artifact_missing,
    |b| b
        .edit_json(EVIDENCE, |v| {
            v["artifacts"].as_array_mut().unwrap().remove(0);
        })
        .reseal(),
    [EvidenceMismatch]
);

rule!(
    evidence_artifact_extra,
    |b| b
        .edit_json(EVIDENCE, |v| {
            v["artifacts"].as_array_mut().unwrap().push(json!({
                "name": "bin/cavra-darwin-arm64", "sha256": "00".repeat(32), "size": 1}));
        })
        .reseal(),
    [EvidenceMismatch]
);

rule!(
    evidence_artifact_listed_twice,
    |b| b
        .edit_json(EVIDENCE, |v| {
            let a = v["artifacts"][0].clone();
            v["artifacts"].as_array_mut().unwrap().push(a);
        })
        .reseal(),
    [EvidenceMismatch]
);

rule!(
    evidence_artifact_lists_a_metadata_file,
    |b| {
        let d = airlock_formats::keys::hex(&airlock_core::digest::sha256(b.get(SIGNING_OPS)));
        let n = b.get(SIGNING_OPS).len();
        b.edit_json(EVIDENCE, |v| {
            v["artifacts"]
                .as_array_mut()
                .unwrap()
                .push(json!({"name": SIGNING_OPS, "sha256": d, "size": n}));
        })
        .reseal()
    },
    [EvidenceMismatch]
);

rule!(
    evidence_artifact_digest_wrong,
    |b| b
        .edit_json(EVIDENCE, |v| v["artifacts"][1]["sha256"] =
            "ab".repeat(32).into())
        .reseal(),
    [EvidenceMismatch]
);

rule!(
    evidence_artifact_digest_uppercase,
    |b| b
        .edit_json(EVIDENCE, |v| {
            let d = v["artifacts"][1]["sha256"].as_str().unwrap().to_uppercase();
            v["artifacts"][1]["sha256"] = d.into();
        })
        .reseal(),
    [EvidenceMismatch]
);

rule!(
    evidence_artifact_size_wrong,
    |b| b
        .edit_json(EVIDENCE, |v| {
            let s = v["artifacts"][1]["size"].as_u64().unwrap();
            v["artifacts"][1]["size"] = (s + 1).into();
        })
        .reseal(),
    [EvidenceMismatch]
);

/// #32: odd numbers where an integer size is meant.
fn odd_size(b: &mut Bundle<'_>, literal: &str) {
    let text = String::from_utf8(b.get(EVIDENCE).to_vec()).unwrap();
    let size = b.json(EVIDENCE)["artifacts"][0]["size"].as_u64().unwrap();
    let odd = text.replacen(
        &format!("\"size\": {size}"),
        &format!("\"size\": {literal}"),
        1,
    );
    assert_ne!(odd, text);
    b.set(EVIDENCE, odd).reseal();
}

rule!(
    evidence_size_float,
    |b| odd_size(b, "26.0"),
    [EvidenceMismatch]
);
rule!(
    evidence_size_exponent,
    |b| odd_size(b, "1e400"),
    [EvidenceMismatch]
);
rule!(
    evidence_size_2_pow_64,
    |b| odd_size(b, "18446744073709551616"),
    [EvidenceMismatch]
);
rule!(
    evidence_size_negative_zero,
    |b| odd_size(b, "-0"),
    [EvidenceMismatch]
);

rule!(
    evidence_package_lone_surrogate,
    |b| {
        let text = String::from_utf8(b.get(EVIDENCE).to_vec()).unwrap();
        let odd = text.replacen("\"cavra-go-runtime\"", "\"cavra-go-runtime\\ud800\"", 1);
        assert_ne!(odd, text);
        b.set(EVIDENCE, odd).reseal()
    },
    [EvidenceMismatch]
);

rule!(
    evidence_created_at_not_rfc3339,
    |b| b
        .edit_json(EVIDENCE, |v| v["created_at"] = "yesterday".into())
        .reseal(),
    [EvidenceMismatch]
);

rule!(
    evidence_ref_empty,
    |b| b.edit_json(EVIDENCE, |v| v["ref"] = "".into()).reseal(),
    [EvidenceMismatch]
);

rule!(
    evidence_event_empty,
    |b| b.edit_json(EVIDENCE, |v| v["event"] = "".into()).reseal(),
    [EvidenceMismatch]
);

// #9 mix-and-match: the release signature (validly made by the release key) is for another
// version or package than the evidence says.
rule!(
    signed_predicate_other_version,
    |b| b.sign_release_predicate(PACKAGE, "v0.1.1"),
    [EvidenceMismatch]
);

rule!(
    signed_predicate_other_package,
    |b| b.sign_release_predicate("cavra-other-runtime", VERSION),
    [EvidenceMismatch]
);

// The evidence names another version than the signature and the manifest: both disagree.
rule!(
    evidence_other_version_than_signed,
    |b| b
        .edit_json(EVIDENCE, |v| v["version"] = "v0.1.1".into())
        .reseal(),
    [EvidenceMismatch, SigningOperationsMismatch]
);

rule!(
    evidence_other_package_than_signed,
    |b| b
        .edit_json(EVIDENCE, |v| v["package"] = "cavra-other-runtime".into())
        .reseal(),
    [EvidenceMismatch, SigningOperationsMismatch]
);

// The same, with the manifest made to agree with the evidence: the signature still disagrees.
rule!(
    evidence_and_manifest_other_version_than_signed,
    |b| {
        b.edit_json(EVIDENCE, |v| v["version"] = "v0.1.1".into());
        b.edit_json(SIGNING_OPS, |v| v["version"] = "v0.1.1".into())
            .reseal()
    },
    [EvidenceMismatch]
);

// key_id: a key of the release role that did not sign; then a key the root does not know.
// The manifest's active_key_id still names the real signer, so it disagrees too.
rule!(
    evidence_key_id_release_role_key_that_did_not_sign,
    |b| b
        .edit_json(EVIDENCE, |v| v["key_id"] = MINISIGN_ID.into())
        .reseal(),
    [EvidenceMismatch, SigningOperationsMismatch]
);

rule!(
    evidence_key_id_unknown_key,
    |b| b
        .edit_json(EVIDENCE, |v| v["key_id"] = "nobody-2026-q2".into())
        .reseal(),
    [EvidenceMismatch, SigningOperationsMismatch]
);

rule!(
    evidence_key_id_provenance_key,
    |b| b
        .edit_json(EVIDENCE, |v| v["key_id"] = CI_ID.into())
        .reseal(),
    [EvidenceMismatch, SigningOperationsMismatch]
);

rule!(
    evidence_key_id_invalid_shape,
    |b| b
        .edit_json(EVIDENCE, |v| v["key_id"] = "Cavra Release".into())
        .reseal(),
    [EvidenceMismatch]
);

// Evidence and manifest both name a release-role key that did not sign.
rule!(
    evidence_and_manifest_key_id_not_a_signer,
    |b| {
        b.edit_json(EVIDENCE, |v| v["key_id"] = MINISIGN_ID.into());
        b.edit_json(SIGNING_OPS, |v| v["active_key_id"] = MINISIGN_ID.into())
            .reseal()
    },
    [EvidenceMismatch, SigningOperationsMismatch]
);

// Evidence against provenance: ref and commit.
rule!(
    evidence_ref_differs_from_provenance,
    |b| b
        .edit_json(EVIDENCE, |v| v["ref"] = "refs/tags/v0.1.1".into())
        .reseal(),
    [SourceMismatch]
);

rule!(
    evidence_commit_differs_from_provenance,
    |b| b
        .edit_json(EVIDENCE, |v| v["commit"] = "f".repeat(40).into())
        .reseal(),
    [SourceMismatch]
);

// Evidence that is not covered by checksums.txt: changed after sealing.
rule!(
    evidence_changed_after_checksums,
    |b| b.edit_json(EVIDENCE, |v| v["event"] = "workflow_dispatch".into()),
    [ChecksumMismatch]
);

#[test]
fn evidence_extra_unknown_field_is_tolerated() {
    let kit = Kit::new();
    let mut b = kit.bundle();
    b.edit_json(EVIDENCE, |v| v["note"] = "built on a Tuesday".into())
        .reseal();
    expect_promote("extra field", &b.assess());
}

#[test]
fn minisign_only_release_takes_package_and_version_from_evidence() {
    let kit = Kit::new();
    let mut b = kit.bundle();
    b.minisign_only();
    let a = b.assess();
    expect_promote("minisign only", &a);
    assert_eq!(a.package(), Some(PACKAGE));
    assert_eq!(a.version(), Some(VERSION));
    // Then its evidence cannot be cross-checked against a signed predicate: a wrong version in
    // the evidence is still caught by the manifest, and a non-semver one by the parser.
    let mut b2 = b.clone();
    b2.edit_json(EVIDENCE, |v| v["version"] = "v0.1".into());
    let text = b2.checksums_text();
    b2.set(CHECKSUMS, text).resign_release();
    expect(
        "minisign only, v0.1",
        &b2.assess(),
        &[airlock_formats::reason::Code::EvidenceMismatch],
    );
}
