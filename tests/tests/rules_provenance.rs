//! Issue #4: provenance (formats §5.4; adversarial #33–#37): a DSSE in-toto Statement v1 with
//! an SLSA Provenance v1 predicate, signed by the `provenance` role, subjects exactly the
//! artifacts, builder pinned by the trust root, source pinned to the evidence. Mutations are
//! re-signed with the provenance key (a CI key holder's attack) and re-sealed into checksums.txt,
//! so the provenance rule is the only thing wrong. Plus an independent implementation: Python
//! `securesystemslib` writes the provenance.

#[macro_use]
mod rules_kit;

use airlock_formats::reason::Code;
use rules_kit::*;
use serde_json::{json, Value};

fn prov(b: &mut Bundle<'_>, f: impl FnOnce(&mut Value)) {
    b.edit_provenance(f).reseal();
}

fn workflow(v: &mut Value) -> &mut Value {
    &mut v["predicate"]["buildDefinition"]["externalParameters"]["workflow"]
}

/// Re-signs `payload` (raw bytes) as the provenance, by `signers`, with `payload_type`.
fn prov_raw(b: &mut Bundle<'_>, payload_type: &str, payload: &[u8], ci: bool) {
    let kit = b.kit;
    let signers: Vec<&airlock_author::PrivateKey> = if ci { vec![&kit.ci] } else { vec![] };
    b.sign_doc(PROVENANCE, payload_type, payload, &signers)
        .reseal();
}

fn payload_bytes(b: &Bundle<'_>) -> Vec<u8> {
    envelope_payload(b.get(PROVENANCE))
}

// --- presence, type, parsing -------------------------------------------------------------------

rule!(
    provenance_missing,
    |b| b.remove(PROVENANCE).reseal(),
    [ProvenanceInvalid]
);

rule!(
    provenance_not_an_envelope,
    |b| b.set(PROVENANCE, b"{\"hello\": 1}\n".to_vec()).reseal(),
    [ProvenanceInvalid]
);

rule!(
    provenance_payload_type_trust_root,
    |b| {
        let p = payload_bytes(b);
        prov_raw(b, "application/vnd.cavra.trust-root+json", &p, true)
    },
    [ProvenanceInvalid]
);

rule!(
    provenance_payload_type_plain_json,
    |b| {
        let p = payload_bytes(b);
        prov_raw(b, "application/json", &p, true)
    },
    [ProvenanceInvalid]
);

// #33: exact predicateType.
rule!(
    predicate_type_slsa_v0_2,
    |b| prov(b, |v| v["predicateType"] =
        "https://slsa.dev/provenance/v0.2".into()),
    [ProvenanceInvalid]
);

rule!(
    predicate_type_release_signature,
    |b| prov(b, |v| {
        v["predicateType"] = "https://cavra.dev/release-signature/v1".into()
    }),
    [ProvenanceInvalid]
);

rule!(
    predicate_type_trailing_slash,
    |b| prov(b, |v| v["predicateType"] =
        "https://slsa.dev/provenance/v1/".into()),
    [ProvenanceInvalid]
);

rule!(
    predicate_type_missing,
    |b| prov(b, |v| {
        v.as_object_mut().unwrap().remove("predicateType");
    }),
    [ProvenanceInvalid]
);

rule!(
    statement_type_v0_1,
    |b| prov(b, |v| v["_type"] =
        "https://in-toto.io/Statement/v0.1".into()),
    [ProvenanceInvalid]
);

// #34: a payload that fails to parse, validly signed by the provenance key.
rule!(
    payload_not_json_but_signed,
    |b| prov_raw(b, IN_TOTO, b"this is not json", true),
    [ProvenanceInvalid]
);

rule!(
    payload_truncated_but_signed,
    |b| {
        let p = payload_bytes(b);
        prov_raw(b, IN_TOTO, &p[..p.len() / 2], true)
    },
    [ProvenanceInvalid]
);

rule!(
    payload_empty_but_signed,
    |b| prov_raw(b, IN_TOTO, b"", true),
    [ProvenanceInvalid]
);

rule!(
    payload_json_array_but_signed,
    |b| prov_raw(b, IN_TOTO, b"[]", true),
    [ProvenanceInvalid]
);

rule!(
    payload_duplicate_predicate_type_but_signed,
    |b| {
        let p = String::from_utf8(payload_bytes(b)).unwrap();
        let dup = p.replacen(
            "\"predicateType\": \"https://slsa.dev/provenance/v1\",",
            "\"predicateType\": \"https://slsa.dev/provenance/v1\",\n  \"predicateType\": \"https://example.com/anything\",",
            1,
        );
        assert_ne!(dup, p);
        prov_raw(b, IN_TOTO, dup.as_bytes(), true)
    },
    [ProvenanceInvalid]
);

rule!(
    payload_duplicate_builder_id_but_signed,
    |b| {
        let p = String::from_utf8(payload_bytes(b)).unwrap();
        let needle = format!("\"id\": \"{BUILDER}\"");
        let dup = p.replacen(
            &needle,
            &format!("\"id\": \"https://evil.example/builder\", {needle}"),
            1,
        );
        assert_ne!(dup, p);
        prov_raw(b, IN_TOTO, dup.as_bytes(), true)
    },
    [ProvenanceInvalid]
);

rule!(
    predicate_without_run_details,
    |b| prov(b, |v| {
        v["predicate"].as_object_mut().unwrap().remove("runDetails");
    }),
    [ProvenanceInvalid]
);

rule!(
    predicate_without_workflow,
    |b| prov(b, |v| {
        v["predicate"]["buildDefinition"]["externalParameters"] = json!({});
    }),
    [ProvenanceInvalid]
);

// --- signatures ----------------------------------------------------------------------------------

rule!(
    signed_by_release_key_not_provenance_role,
    |b| {
        let p = payload_bytes(b);
        let rel = &b.kit.release;
        b.sign_doc(PROVENANCE, IN_TOTO, &p, &[rel]).reseal()
    },
    [ProvenanceInvalid, SignatureThresholdNotMet]
);

rule!(
    signed_by_spare_key_in_no_role,
    |b| {
        let p = payload_bytes(b);
        let spare = &b.kit.spare;
        b.sign_doc(PROVENANCE, IN_TOTO, &p, &[spare]).reseal()
    },
    [ProvenanceInvalid, SignatureThresholdNotMet]
);

rule!(
    signed_by_unknown_key,
    |b| {
        let p = payload_bytes(b);
        let ghost = key("ghost-builder", 99);
        b.sign_doc(PROVENANCE, IN_TOTO, &p, &[&ghost]).reseal()
    },
    [ProvenanceInvalid, SignatureThresholdNotMet, SignerUnknown]
);

rule!(
    unsigned,
    |b| {
        let p = payload_bytes(b);
        prov_raw(b, IN_TOTO, &p, false)
    },
    [ProvenanceInvalid, SignatureThresholdNotMet]
);

rule!(
    ci_key_id_with_signature_by_another_key,
    |b| {
        // The signature is the spare key's, but it names the provenance key.
        let p = payload_bytes(b);
        let sig = sign_raw(&b.kit.spare, &pae(IN_TOTO, &p));
        b.set(PROVENANCE, envelope(IN_TOTO, &p, &[(CI_ID, sig)]))
            .reseal()
    },
    [
        ProvenanceInvalid,
        SignatureInvalid,
        SignatureThresholdNotMet
    ]
);

// --- subjects (#35, #36) -----------------------------------------------------------------------

rule!(
    subject_missing,
    |b| prov(b, |v| {
        v["subject"].as_array_mut().unwrap().remove(0);
    }),
    [ProvenanceSubjectMismatch]
);

rule!(
    subject_extra,
    |b| prov(b, |v| {
        v["subject"].as_array_mut().unwrap().push(json!({
            "name": "bin/cavra-darwin-arm64", "digest": {"sha256": "ab".repeat(32)}}));
    }),
    [ProvenanceSubjectMismatch]
);

rule!(
    subject_twice,
    |b| prov(b, |v| {
        let s = v["subject"][0].clone();
        v["subject"].as_array_mut().unwrap().push(s);
    }),
    [ProvenanceSubjectMismatch]
);

rule!(
    subject_digest_differs,
    |b| prov(b, |v| v["subject"][1]["digest"]["sha256"] =
        "ab".repeat(32).into()),
    [ProvenanceSubjectMismatch]
);

rule!(
    subject_digest_uppercase,
    |b| prov(b, |v| {
        let d = v["subject"][1]["digest"]["sha256"]
            .as_str()
            .unwrap()
            .to_uppercase();
        v["subject"][1]["digest"]["sha256"] = d.into();
    }),
    [ProvenanceSubjectMismatch]
);

rule!(
    subject_only_sha512,
    |b| prov(b, |v| v["subject"][1]["digest"] =
        json!({"sha512": "ab".repeat(64)})),
    [ProvenanceSubjectMismatch]
);

rule!(
    subject_name_dot_dot,
    |b| prov(b, |v| v["subject"][0]["name"] = "bin/../README.md".into()),
    [ProvenanceSubjectMismatch]
);

rule!(
    subject_name_dot_slash,
    |b| prov(b, |v| v["subject"][0]["name"] = "./README.md".into()),
    [ProvenanceSubjectMismatch]
);

rule!(
    subject_name_absolute,
    |b| prov(b, |v| v["subject"][0]["name"] = "/README.md".into()),
    [ProvenanceSubjectMismatch]
);

rule!(
    subject_name_double_slash,
    |b| prov(b, |v| {
        v["subject"][1]["name"] = "bin//cavra-linux-amd64".into()
    }),
    [ProvenanceSubjectMismatch]
);

rule!(
    subject_name_backslash,
    |b| prov(b, |v| {
        v["subject"][1]["name"] = "bin\\cavra-linux-amd64".into()
    }),
    [ProvenanceSubjectMismatch]
);

rule!(
    subject_name_other_case,
    |b| prov(b, |v| v["subject"][0]["name"] = "readme.md".into()),
    [ProvenanceSubjectMismatch]
);

rule!(
    subject_names_a_metadata_file,
    |b| {
        let d = airlock_formats::keys::hex(&airlock_core::digest::sha256(b.get(EVIDENCE)));
        prov(b, |v| {
            v["subject"]
                .as_array_mut()
                .unwrap()
                .push(json!({"name": EVIDENCE, "digest": {"sha256": d}}));
        })
    },
    [ProvenanceSubjectMismatch]
);

/// #35: provenance validly signed by the CI key, but about another release's artifacts (same
/// names, other bytes).
#[test]
fn provenance_about_other_artifacts() {
    let kit = Kit::new();
    let mut other_files = artifact_files();
    other_files[1].1 = b"\x7fELF an older, vulnerable runtime\n".repeat(200);
    let other = kit.bundle_of(other_files, |_| {});
    let mut b = kit.bundle();
    b.set(PROVENANCE, other.get(PROVENANCE).to_vec()).reseal();
    expect(
        "provenance of other artifacts",
        &b.assess(),
        &[Code::ProvenanceSubjectMismatch],
    );
}

/// #35: provenance validly signed, same artifacts, but built from another ref and commit.
#[test]
fn provenance_of_another_build_of_the_same_bytes() {
    let kit = Kit::new();
    let other = kit.bundle_with(|o| {
        o.ref_ = "refs/tags/v0.0.9".into();
        o.commit = "9".repeat(40);
    });
    let mut b = kit.bundle();
    b.set(PROVENANCE, other.get(PROVENANCE).to_vec()).reseal();
    expect(
        "provenance of another build",
        &b.assess(),
        &[Code::SourceMismatch],
    );
}

// --- builder (#37) -------------------------------------------------------------------------------

fn builder(b: &mut Bundle<'_>, id: &str) {
    let id = id.to_owned();
    prov(b, move |v| {
        v["predicate"]["runDetails"]["builder"]["id"] = id.into()
    });
}

rule!(
    builder_unknown,
    |b| builder(b, "https://evil.example/builder"),
    [BuilderNotTrusted]
);

rule!(
    builder_trailing_slash,
    |b| builder(b, &format!("{BUILDER}/")),
    [BuilderNotTrusted]
);

rule!(
    builder_prefix_extended,
    |b| builder(b, &format!("{BUILDER}-selfhosted")),
    [BuilderNotTrusted]
);

rule!(
    builder_path_appended,
    |b| builder(b, &format!("{BUILDER}/../self-hosted")),
    [BuilderNotTrusted]
);

rule!(
    builder_uppercase_host,
    |b| builder(b, &BUILDER.replace("github.com", "GitHub.com")),
    [BuilderNotTrusted]
);

rule!(
    builder_http_scheme,
    |b| builder(b, &BUILDER.replace("https://", "http://")),
    [BuilderNotTrusted]
);

rule!(
    builder_with_ref_suffix,
    |b| builder(b, &format!("{BUILDER}@refs/heads/main")),
    [BuilderNotTrusted]
);

rule!(builder_empty, |b| builder(b, ""), [BuilderNotTrusted]);

/// A trust root pinning no builder trusts none.
#[test]
fn root_without_builders_trusts_none() {
    let kit = Kit::with_root(|c, _| c.builders.clear());
    expect(
        "no builders",
        &kit.bundle().assess(),
        &[Code::BuilderNotTrusted],
    );
}

// --- source ---------------------------------------------------------------------------------------

rule!(
    source_repository_differs,
    |b| prov(b, |v| {
        workflow(v)["repository"] = "https://github.com/evil/cavra".into();
    }),
    [SourceMismatch]
);

rule!(
    source_repository_dot_git,
    |b| prov(b, |v| {
        workflow(v)["repository"] = format!("{REPO}.git").into();
    }),
    [SourceMismatch]
);

rule!(
    source_ref_not_matching_pattern,
    |b| prov(b, |v| {
        workflow(v)["ref"] = "refs/heads/main".into();
        v["predicate"]["buildDefinition"]["resolvedDependencies"][0]["uri"] =
            format!("git+{REPO}@refs/heads/main").into();
    }),
    [SourceMismatch]
);

// Ref pattern mismatch, with evidence and provenance agreeing on the branch.
rule!(
    source_ref_branch_everywhere,
    |b| {
        b.edit_json(EVIDENCE, |v| v["ref"] = "refs/heads/main".into());
        prov(b, |v| {
            workflow(v)["ref"] = "refs/heads/main".into();
            v["predicate"]["buildDefinition"]["resolvedDependencies"][0]["uri"] =
                format!("git+{REPO}@refs/heads/main").into();
        })
    },
    [SourceMismatch]
);

rule!(
    source_ref_differs_from_evidence,
    |b| prov(b, |v| {
        workflow(v)["ref"] = "refs/tags/v0.1.1".into();
        v["predicate"]["buildDefinition"]["resolvedDependencies"][0]["uri"] =
            format!("git+{REPO}@refs/tags/v0.1.1").into();
    }),
    [SourceMismatch]
);

rule!(
    source_commit_differs,
    |b| prov(b, |v| {
        v["predicate"]["buildDefinition"]["resolvedDependencies"][0]["digest"]["gitCommit"] =
            "f".repeat(40).into();
    }),
    [SourceMismatch]
);

rule!(
    source_no_resolved_dependencies,
    |b| prov(b, |v| {
        v["predicate"]["buildDefinition"]
            .as_object_mut()
            .unwrap()
            .remove("resolvedDependencies");
    }),
    [SourceMismatch]
);

rule!(
    source_resolved_dependency_for_other_repository,
    |b| prov(b, |v| {
        v["predicate"]["buildDefinition"]["resolvedDependencies"][0]["uri"] =
            format!("git+https://github.com/evil/cavra@{REF}").into();
    }),
    [SourceMismatch]
);

rule!(
    source_resolved_dependency_without_git_commit,
    |b| prov(b, |v| {
        v["predicate"]["buildDefinition"]["resolvedDependencies"][0]["digest"] =
            json!({"sha1": COMMIT});
    }),
    [SourceMismatch]
);

// --- independent implementation -----------------------------------------------------------------

fn python_provenance(kit: &Kit, mode: &str) -> Option<Vec<u8>> {
    if !require_tool("python3", &["-c", "import cryptography, securesystemslib"]) {
        return None;
    }
    let artifacts: Vec<Value> = artifact_files()
        .iter()
        .map(|(n, b)| {
            json!({"name": n, "sha256": airlock_formats::keys::hex(&airlock_core::digest::sha256(b))})
        })
        .collect();
    let spec = json!({
        "seed_hex": airlock_formats::keys::hex(&kit.ci.signing_key().to_bytes()),
        "keyid": CI_ID, "artifacts": artifacts, "commit": COMMIT, "ref": REF,
        "repo": REPO, "builder": BUILDER, "mode": mode,
    });
    let dir = tempfile::tempdir().unwrap();
    let spec_path = dir.path().join("spec.json");
    std::fs::write(&spec_path, serde_json::to_vec(&spec).unwrap()).unwrap();
    let o = std::process::Command::new("python3")
        .arg(interop_dir().join("rules_provenance.py"))
        .arg(&spec_path)
        .output()
        .unwrap();
    assert!(
        o.status.success(),
        "rules_provenance.py failed: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    Some(o.stdout)
}

#[test]
fn python_securesystemslib_provenance_verifies() {
    let kit = Kit::new();
    let Some(env) = python_provenance(&kit, "pae") else {
        return;
    };
    let mut b = kit.bundle();
    b.set(PROVENANCE, env).reseal();
    let a = b.assess();
    expect_promote("python provenance", &a);
    let p = a.provenance().expect("provenance facts");
    assert_eq!(p.builder_id, BUILDER);
    assert_eq!(p.commit, COMMIT);
}

#[test]
fn python_provenance_signed_over_bare_payload_rejects() {
    let kit = Kit::new();
    let Some(env) = python_provenance(&kit, "bare") else {
        return;
    };
    let mut b = kit.bundle();
    b.set(PROVENANCE, env).reseal();
    expect(
        "python bare-payload provenance",
        &b.assess(),
        &[
            Code::ProvenanceInvalid,
            Code::SignatureInvalid,
            Code::SignatureThresholdNotMet,
        ],
    );
}
