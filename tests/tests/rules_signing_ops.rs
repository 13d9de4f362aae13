//! Issue #4: `cavra-runtime.signing-operations.json` (formats §5.5, seed 000): the seven
//! controls, Ed25519 only, key custody and the public repository boundary, rotation (quarterly,
//! incident-triggered, overlap guidance), emergency revocation evidence and actions, the active
//! key among the release's actual signers, agreement with checksums.txt. Each failure has its own
//! code; `signing_required: false` lowers nothing. Mutations are re-sealed and re-signed with the
//! release key unless a row is about checksums.txt itself.

#[macro_use]
mod rules_kit;

use airlock_formats::reason::Code;
use rules_kit::*;
use serde_json::{json, Value};

fn ops(b: &mut Bundle<'_>, f: impl FnOnce(&mut Value)) {
    b.edit_json(SIGNING_OPS, f).reseal();
}

fn remove(v: &mut Value, path: &[&str]) {
    let (last, parents) = path.split_last().unwrap();
    let mut cur = v;
    for p in parents {
        cur = &mut cur[*p];
    }
    cur.as_object_mut().unwrap().remove(*last);
}

fn drop_control(b: &mut Bundle<'_>, control: &str) {
    let c = control.to_owned();
    ops(b, move |v| {
        let list = v["controls"].as_array_mut().unwrap();
        let before = list.len();
        list.retain(|x| x.as_str() != Some(c.as_str()));
        assert_eq!(list.len() + 1, before, "{c} was not listed");
    });
}

rule!(
    manifest_missing,
    |b| b.remove(SIGNING_OPS).reseal(),
    [SigningOperationsMissing]
);

rule!(
    manifest_not_json,
    |b| b.set(SIGNING_OPS, b"active_key_id: x\n".to_vec()).reseal(),
    [SigningOperationsMissing]
);

rule!(
    manifest_not_an_object,
    |b| b.set(SIGNING_OPS, b"[]\n".to_vec()).reseal(),
    [SigningOperationsMissing]
);

rule!(
    manifest_duplicate_algorithm_key,
    |b| {
        let t = String::from_utf8(b.get(SIGNING_OPS).to_vec()).unwrap();
        let dup = t.replacen(
            "\"algorithm\": \"Ed25519\",",
            "\"algorithm\": \"ECDSA\",\n  \"algorithm\": \"Ed25519\",",
            1,
        );
        assert_ne!(dup, t);
        b.set(SIGNING_OPS, dup).reseal()
    },
    [SigningOperationsMissing]
);

// The seven controls, one test each.
rule!(
    control_release_signing_key_id_declared_missing,
    |b| drop_control(b, "release-signing-key-id-declared"),
    [SigningOperationsControlMissing]
);
rule!(
    control_private_key_public_boundary_documented_missing,
    |b| drop_control(b, "private-key-public-boundary-documented"),
    [SigningOperationsControlMissing]
);
rule!(
    control_quarterly_key_rotation_policy_missing,
    |b| drop_control(b, "quarterly-key-rotation-policy"),
    [SigningOperationsControlMissing]
);
rule!(
    control_incident_triggered_revocation_policy_missing,
    |b| drop_control(b, "incident-triggered-revocation-policy"),
    [SigningOperationsControlMissing]
);
rule!(
    control_emergency_revocation_evidence_required_missing,
    |b| drop_control(b, "emergency-revocation-evidence-required"),
    [SigningOperationsControlMissing]
);
rule!(
    control_replacement_key_overlap_guidance_missing,
    |b| drop_control(b, "replacement-key-overlap-guidance"),
    [SigningOperationsControlMissing]
);
rule!(
    control_signed_release_evidence_required_missing,
    |b| drop_control(b, "signed-release-evidence-required"),
    [SigningOperationsControlMissing]
);

rule!(
    controls_field_missing,
    |b| ops(b, |v| remove(v, &["controls"])),
    [SigningOperationsControlMissing]
);

rule!(
    control_marked_not_enforced,
    |b| ops(b, |v| {
        v["controls"][6] = json!({"id": "signed-release-evidence-required", "enforced": false});
    }),
    [SigningOperationsControlMissing]
);

rule!(
    control_with_different_case,
    |b| ops(b, |v| v["controls"][2] =
        "Quarterly-Key-Rotation-Policy".into()),
    [SigningOperationsControlMissing]
);

// Algorithm.
rule!(
    algorithm_ecdsa,
    |b| ops(b, |v| v["algorithm"] = "ECDSA".into()),
    [SigningOperationsAlgorithm]
);
rule!(
    algorithm_lowercase_ed25519,
    |b| ops(b, |v| v["algorithm"] = "ed25519".into()),
    [SigningOperationsAlgorithm]
);
rule!(
    algorithm_missing,
    |b| ops(b, |v| remove(v, &["algorithm"])),
    [SigningOperationsAlgorithm]
);
rule!(
    algorithm_list,
    |b| ops(b, |v| v["algorithm"] = json!(["Ed25519", "RSA"])),
    [SigningOperationsAlgorithm]
);

// Custody.
rule!(
    custody_model_missing,
    |b| ops(b, |v| remove(v, &["custody", "model"])),
    [SigningOperationsControlMissing]
);
rule!(
    custody_public_repository_boundary_missing,
    |b| ops(b, |v| remove(v, &["custody", "public_repository_boundary"])),
    [SigningOperationsControlMissing]
);
rule!(
    custody_public_repository_boundary_blank,
    |b| ops(b, |v| v["custody"]["public_repository_boundary"] =
        "   ".into()),
    [SigningOperationsControlMissing]
);
rule!(
    custody_private_key_location_missing,
    |b| ops(b, |v| remove(v, &["custody", "private_key_location"])),
    [SigningOperationsControlMissing]
);
rule!(
    custody_missing,
    |b| ops(b, |v| remove(v, &["custody"])),
    [SigningOperationsControlMissing]
);

// Rotation.
rule!(
    rotation_annual,
    |b| ops(b, |v| v["rotation"]["cadence"] = "annually".into()),
    [SigningOperationsControlMissing]
);
rule!(
    rotation_cadence_missing,
    |b| ops(b, |v| remove(v, &["rotation", "cadence"])),
    [SigningOperationsControlMissing]
);
rule!(
    rotation_not_incident_triggered,
    |b| ops(b, |v| v["rotation"]["incident_triggered"] = false.into()),
    [SigningOperationsControlMissing]
);
rule!(
    rotation_incident_triggered_as_string,
    |b| ops(b, |v| v["rotation"]["incident_triggered"] = "true".into()),
    [SigningOperationsControlMissing]
);
rule!(
    rotation_no_overlap_guidance,
    |b| ops(b, |v| remove(v, &["rotation", "overlap_guidance"])),
    [SigningOperationsControlMissing]
);
rule!(
    rotation_empty_overlap_guidance,
    |b| ops(b, |v| v["rotation"]["overlap_guidance"] = "".into()),
    [SigningOperationsControlMissing]
);

// A cadence that names "quarterly" only to deny it.
#[test]
fn rotation_cadence_not_quarterly() {
    for cadence in [
        "not quarterly",
        "never (quarterly rotation waived)",
        "non-quarterly",
    ] {
        let kit = Kit::new();
        let mut b = kit.bundle();
        ops(&mut b, |v| v["rotation"]["cadence"] = cadence.into());
        expect(
            &format!("cadence {cadence:?}"),
            &b.assess(),
            &[Code::SigningOperationsControlMissing],
        );
    }
}

// Emergency revocation.
rule!(
    emergency_evidence_empty,
    |b| ops(b, |v| v["revocation"]["emergency_evidence_required"] =
        json!([])),
    [SigningOperationsControlMissing]
);
rule!(
    emergency_evidence_blank_entry,
    |b| ops(b, |v| v["revocation"]["emergency_evidence_required"] =
        json!([""])),
    [SigningOperationsControlMissing]
);
rule!(
    emergency_actions_empty,
    |b| ops(b, |v| v["revocation"]["emergency_actions"] = json!([])),
    [SigningOperationsControlMissing]
);
rule!(
    emergency_actions_missing,
    |b| ops(b, |v| remove(v, &["revocation", "emergency_actions"])),
    [SigningOperationsControlMissing]
);
rule!(
    revocation_section_missing,
    |b| ops(b, |v| remove(v, &["revocation"])),
    [SigningOperationsControlMissing]
);

// Active key.
rule!(
    active_key_id_missing,
    |b| ops(b, |v| remove(v, &["active_key_id"])),
    [SigningOperationsControlMissing]
);
rule!(
    active_key_id_differs_from_evidence,
    |b| ops(b, |v| v["active_key_id"] = SPARE_ID.into()),
    [SigningOperationsMismatch]
);
rule!(
    active_key_id_release_role_key_that_did_not_sign,
    |b| ops(b, |v| v["active_key_id"] = MINISIGN_ID.into()),
    [SigningOperationsMismatch]
);
// The evidence is made to agree with the manifest: the key still did not sign.
rule!(
    active_key_id_and_evidence_name_a_non_signer,
    |b| {
        b.edit_json(EVIDENCE, |v| v["key_id"] = MINISIGN_ID.into());
        ops(b, |v| v["active_key_id"] = MINISIGN_ID.into())
    },
    [SigningOperationsMismatch, EvidenceMismatch]
);
rule!(
    manifest_names_other_version,
    |b| ops(b, |v| v["version"] = "v0.0.9".into()),
    [SigningOperationsMismatch]
);
rule!(
    manifest_names_other_package,
    |b| ops(b, |v| v["package"] = "cavra-other".into()),
    [SigningOperationsMismatch]
);

// checksums.txt.
rule!(
    manifest_digest_disagrees_with_checksums,
    |b| b.edit_json(SIGNING_OPS, |v| v["custody"]["model"] = "hsm".into()),
    [SigningOperationsMismatch, ChecksumMismatch]
);
rule!(
    manifest_not_listed_in_checksums,
    |b| {
        let t = String::from_utf8(b.get(CHECKSUMS).to_vec()).unwrap();
        let kept: String = t
            .lines()
            .filter(|l| !l.ends_with(SIGNING_OPS))
            .map(|l| format!("{l}\n"))
            .collect();
        assert_ne!(kept, t);
        b.set(CHECKSUMS, kept).resign_release()
    },
    [SigningOperationsMismatch, ChecksumMissing]
);

// signing_required.
rule!(
    signing_required_missing,
    |b| ops(b, |v| remove(v, &["signing_required"])),
    [SigningOperationsControlMissing]
);
rule!(
    signing_required_as_string,
    |b| ops(b, |v| v["signing_required"] = "false".into()),
    [SigningOperationsControlMissing]
);
rule!(
    signing_not_required_and_unsigned,
    |b| {
        b.remove(SIG);
        ops(b, |v| v["signing_required"] = false.into())
    },
    [SignatureThresholdNotMet]
);
rule!(
    signing_not_required_and_a_control_missing,
    |b| ops(b, |v| {
        v["signing_required"] = false.into();
        v["controls"].as_array_mut().unwrap().pop();
    }),
    [SigningOperationsControlMissing]
);
rule!(
    signing_not_required_and_custody_missing,
    |b| ops(b, |v| {
        v["signing_required"] = false.into();
        remove(v, &["custody"]);
    }),
    [SigningOperationsControlMissing]
);
rule!(
    signing_not_required_and_evidence_unsigned_key,
    |b| {
        b.edit_json(EVIDENCE, |v| v["key_id"] = MINISIGN_ID.into());
        ops(b, |v| {
            v["signing_required"] = false.into();
            v["active_key_id"] = MINISIGN_ID.into();
        })
    },
    [SigningOperationsMismatch, EvidenceMismatch]
);

/// `signing_required: false` in a manifest of a fully signed, complete release: Airlock
/// requires signing regardless, and nothing else is lowered, so the release stands on its own.
#[test]
fn signing_not_required_but_signed_release_promotes() {
    let kit = Kit::new();
    let mut b = kit.bundle();
    ops(&mut b, |v| v["signing_required"] = false.into());
    expect_promote("signing_required false, signed", &b.assess());
}

/// Several failures at once: each is reported with its own code.
#[test]
fn several_failures_each_with_its_code() {
    let kit = Kit::new();
    let mut b = kit.bundle();
    ops(&mut b, |v| {
        v["algorithm"] = "RSA".into();
        v["controls"].as_array_mut().unwrap().pop();
        remove(v, &["custody", "public_repository_boundary"]);
    });
    let a = b.assess();
    expect(
        "several",
        &a,
        &[
            Code::SigningOperationsAlgorithm,
            Code::SigningOperationsControlMissing,
        ],
    );
    let missing = a
        .reasons()
        .iter()
        .filter(|r| r.code == Code::SigningOperationsControlMissing)
        .count();
    assert_eq!(missing, 2, "{:#?}", a.reasons());
}

/// The manifest of seed 000's shape without the package/version fields Airlock adds (as the
/// Python tools write it) is fine.
#[test]
fn manifest_without_package_and_version_promotes() {
    let kit = Kit::new();
    let mut b = kit.bundle();
    ops(&mut b, |v| {
        remove(v, &["package"]);
        remove(v, &["version"]);
        remove(v, &["_type"]);
    });
    expect_promote("seed-shaped manifest", &b.assess());
}
