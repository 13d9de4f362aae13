//! Issue #5, revocation lists (formats §4): signed by the revocation role's threshold, seven pieces
//! of emergency evidence per revoked key, revoked keys never count, affected versions and revoked
//! artifact digests rejected, newest wins, older or absent after one was accepted is a rollback,
//! expired rejects everything; lists at the media root or inside bundles.

mod support;

use support::*;

const LIST: &str = "revocations.json";

/// A kit whose release role holds the current key (`cavra-go-release-2026-q2`, the kit's default)
/// and its replacement (`cavra-go-release-2026-q3`), threshold 1.
fn kit_with_replacement() -> (Kit, PrivateKey) {
    let q3 = key("cavra-go-release-2026-q3");
    let q3c = copy(&q3);
    let kit = Kit::with(move |k, c| {
        c.keys.push(q3c.public_entry(None, None));
        c.roles.insert(
            "release".into(),
            root::role(&[k.release.key_id(), q3c.key_id()], 1),
        );
    });
    (kit, q3)
}

/// A list (version `v`) revoking the kit's release key with all seven evidence fields.
fn revoking_release(kit: &Kit, q3: &PrivateKey, v: u64, affected: &[&str]) -> Vec<u8> {
    kit.revocations(v, |p| {
        revs::add_key(
            p,
            key_revocation(kit.keys.release.key_id(), affected, q3.key_id()),
        )
        .unwrap();
    })
}

fn artifact_digest(bundle: &std::path::Path, name: &str) -> String {
    let scan = airlock_verifier::bundle::scan(
        bundle,
        &airlock_verifier::bundle::Limits::default(),
        &airlock_verifier::bundle::NoProgress,
    )
    .unwrap();
    let f = scan
        .inventory
        .files
        .iter()
        .find(|f| f.name == name)
        .unwrap();
    airlock_formats::keys::hex(&f.sha256)
}

/// A revoked release key's signatures never count: its bundle is rejected with `key-revoked` and
/// `signature-threshold-not-met`; the replacement key's bundle promotes.
///
/// Pins: the revoked-key branch of `RoleCount::offer` (fed by `EffectiveRevocations::keys`).
#[test]
fn revoked_release_key_never_counts() {
    let (kit, q3) = kit_with_replacement();
    kit.put_media(LIST, &revoking_release(&kit, &q3, 1, &["v0.0.9"]));
    let by_revoked = kit.bundle("a.tar", &Spec::new("v0.1.0"));
    let by_replacement = kit.bundle("b.tar", &Spec::new("v0.1.1").signed_by(&[&q3]));
    let rep = kit.run();
    assert_rejected_with(
        result(&rep, &by_revoked),
        &["key-revoked", "signature-threshold-not-met"],
    );
    assert_promoted(result(&rep, &by_replacement));
    assert_eq!(kit.state_data().revocations_version, 1);
}

/// A release listed in `affected_versions` is rejected (`version-revoked`) even when it carries a
/// valid signature by the replacement key; an unaffected version by the same key promotes.
///
/// Pins: the `version_revoked` check in `policy::assess`.
#[test]
fn affected_version_is_rejected_even_with_a_valid_replacement_signature() {
    let (kit, q3) = kit_with_replacement();
    kit.put_media(LIST, &revoking_release(&kit, &q3, 1, &["v0.1.0", "v0.1.1"]));
    let affected = kit.bundle("a.tar", &Spec::new("v0.1.0").signed_by(&[&q3]));
    let fine = kit.bundle("b.tar", &Spec::new("v0.1.2").signed_by(&[&q3]));
    let rep = kit.run();
    let r = result(&rep, &affected);
    assert_rejected_with(r, &["version-revoked"]);
    assert_eq!(codes(r), vec!["version-revoked"], "{:#?}", r.reasons);
    assert_promoted(result(&rep, &fine));
}

/// A bundle containing a revoked artifact digest is `artifact-revoked`; so is a bundle whose own
/// file digest is revoked.
///
/// Pins: both `artifact_revoked` checks of `policy::assess` (files, and the bundle file).
#[test]
fn revoked_artifact_or_bundle_digest_is_rejected() {
    let kit = Kit::new();
    let built = kit.build("a.tar", &Spec::new("v0.1.0"));
    let art = artifact_digest(&built, "bin/cavra-linux-amd64");
    kit.put_media(
        LIST,
        &kit.revocations(1, |p| {
            revs::add_artifact(p, &art, "tampered release").unwrap();
        }),
    );
    let b = kit.put_bundle("a.tar", &built);
    let other = kit.bundle("b.tar", &Spec::new("v0.2.0"));
    let rep = kit.run();
    let r = result(&rep, &b);
    assert_rejected_with(r, &["artifact-revoked"]);
    assert!(r
        .reasons
        .iter()
        .any(|x| x.message.contains("bin/cavra-linux-amd64")));
    assert_promoted(result(&rep, &other));

    let kit = Kit::new();
    let built = kit.build("c.tar.gz", &Spec::new("v0.1.0"));
    let whole = file_sha256(&built);
    kit.put_media(
        LIST,
        &kit.revocations(1, |p| {
            revs::add_artifact(p, &whole, "bad bundle").unwrap();
        }),
    );
    let b = kit.put_bundle("c.tar.gz", &built);
    assert_rejected_with(result(&kit.run(), &b), &["artifact-revoked"]);
}

/// After list v2 was accepted: a run with NO list is `revocations-rollback` (a list cannot be
/// frozen by deleting it); a run with list v1 is `revocations-rollback`; v2 again and then v3 are
/// fine.
///
/// Pins: both rollback checks of `trust::revocations::establish` and the persistence of
/// `revocations_version`.
#[test]
fn revocation_list_rollback_and_deletion_are_refused() {
    let kit = Kit::new();
    let v1 = kit.revocations(1, |_| {});
    let v2 = kit.revocations(2, |_| {});
    let v3 = kit.revocations(3, |_| {});
    kit.put_media(LIST, &v2);
    let b = kit.bundle("a.tar", &Spec::new("v0.1.0"));
    assert_promoted(result(&kit.run(), &b));
    assert_eq!(kit.state_data().revocations_version, 2);

    kit.remove_media(LIST);
    let rep = kit.run();
    assert_rejected_with(result(&rep, &b), &["revocations-rollback"]);

    kit.put_media(LIST, &v1);
    let rep = kit.run();
    assert_rejected_with(result(&rep, &b), &["revocations-rollback"]);
    assert_eq!(kit.state_data().revocations_version, 2);

    kit.put_media(LIST, &v2);
    assert_promoted(result(&kit.run(), &b));
    kit.put_media(LIST, &v3);
    assert_promoted(result(&kit.run(), &b));
    assert_eq!(kit.state_data().revocations_version, 3);
}

/// An expired list rejects every bundle (`revocations-expired`), fail closed.
///
/// Pins: the expiry check of `trust::revocations::establish`.
#[test]
fn expired_list_rejects_every_bundle() {
    let kit = Kit::new();
    let mut p = revs::empty(1, days(-40));
    p.expires = days(-1);
    kit.put_media(
        LIST,
        &sign_revocations_raw(&serde_json::to_value(&p).unwrap(), &[&kit.keys.root_a]),
    );
    let a = kit.bundle("a.tar", &Spec::new("v0.1.0"));
    let b = kit.bundle("b.tar", &Spec::new("v0.1.1").package("other"));
    let rep = kit.run();
    for x in [&a, &b] {
        assert_rejected_with(result(&rep, x), &["revocations-expired"]);
    }
    assert_eq!(rep.exit_code(), 1);
}

/// A revoked-key entry lacking any one of the seven pieces of emergency evidence (key id,
/// affected versions, revocation time, replacement key id, approver, new signed release evidence,
/// advisory) makes the list invalid: `revocations-invalid` on every bundle.
///
/// Pins: the required fields of `RevokedKey` and the evidence checks of `Revocations::parse`.
#[test]
fn list_lacking_one_evidence_field_is_invalid() {
    let (kit, q3) = kit_with_replacement();
    let full = {
        let mut p = revs::empty(1, days(-1));
        p.expires = days(30);
        revs::add_key(
            &mut p,
            key_revocation(kit.keys.release.key_id(), &["v0.0.1"], q3.key_id()),
        )
        .unwrap();
        serde_json::to_value(&p).unwrap()
    };
    // Sanity: the full list is accepted.
    kit.put_media(LIST, &sign_revocations_raw(&full, &[&kit.keys.root_a]));
    let b = kit.bundle("a.tar", &Spec::new("v0.1.0").signed_by(&[&q3]));
    assert_promoted(result(&kit.run(), &b));

    let fields = [
        "key_id",
        "affected_versions",
        "revoked_at",
        "replacement_key_id",
        "approver",
        "replacement_release_evidence_sha256",
        "advisory",
    ];
    for (i, field) in fields.iter().enumerate() {
        for blank in [false, true] {
            let mut v = full.clone();
            v["version"] = serde_json::json!(2 + 2 * i + usize::from(blank));
            let entry = v["revoked_keys"][0].as_object_mut().unwrap();
            if blank {
                // Present but empty.
                let empty = match entry[*field] {
                    serde_json::Value::Array(_) => serde_json::json!([]),
                    _ => serde_json::json!(""),
                };
                entry.insert(field.to_string(), empty);
            } else {
                entry.remove(*field);
            }
            kit.put_media(LIST, &sign_revocations_raw(&v, &[&kit.keys.root_a]));
            let rep = kit.run();
            let r = result(&rep, &b);
            assert_eq!(
                r.verdict,
                Verdict::Reject,
                "{field} {}: the list was accepted",
                if blank { "empty" } else { "missing" }
            );
            assert!(
                codes(r).contains(&"revocations-invalid"),
                "{field} {}: {:#?}",
                if blank { "empty" } else { "missing" },
                r.reasons
            );
        }
    }
}

/// A list signed by a key outside the revocation role (a release key, or a root key that is not
/// in the revocation role) is `revocations-invalid`, and revokes nothing.
///
/// Pins: the revocation-role threshold check of `trust::revocations::establish`.
#[test]
fn list_signed_by_a_non_revocation_key_is_invalid() {
    let kit = Kit::new();
    let b = kit.bundle("a.tar", &Spec::new("v0.1.0"));
    for signer in [&kit.keys.release, &kit.keys.root_b] {
        let p = revs::empty(1, days(-1));
        kit.put_media(
            LIST,
            &sign_revocations_raw(&serde_json::to_value(&p).unwrap(), &[signer]),
        );
        let rep = kit.run();
        assert_rejected_with(result(&rep, &b), &["revocations-invalid"]);
        assert_eq!(kit.state_data().revocations_version, 0);
    }
}

/// A list inside the bundle counts like one at the media root: it revokes, and it is remembered
/// (a later run with no list is a rollback).
///
/// Pins: bundle `revocations.json` being a candidate of `establish` (`policy::assess`).
#[test]
fn list_inside_the_bundle_counts_like_one_at_the_media_root() {
    let (kit, q3) = kit_with_replacement();
    let list = revoking_release(&kit, &q3, 4, &["v0.0.9"]);
    let a = kit.bundle("a.tar", &Spec::new("v0.1.0").carrying_revocations(&list));
    let b = kit.bundle(
        "b.tar",
        &Spec::new("v0.1.1")
            .signed_by(&[&q3])
            .carrying_revocations(&list),
    );
    let rep = kit.run();
    assert_rejected_with(result(&rep, &a), &["key-revoked"]);
    assert_promoted(result(&rep, &b));
    assert_eq!(kit.state_data().revocations_version, 4);
    kit.clear_inbox();
    let c = kit.bundle("c.tar", &Spec::new("v0.2.0").signed_by(&[&q3]));
    assert_rejected_with(result(&kit.run(), &c), &["revocations-rollback"]);
}

/// The newest list by version wins, wherever it comes from: media v1 (empty) + bundle v2
/// (revoking) → revoked; media v2 (revoking) + bundle v1 (empty) → revoked.
///
/// Pins: the newest-version choice of `establish` (taking the media's, or the first, list would
/// promote one of the two).
#[test]
fn newest_list_wins_wherever_it_is() {
    let (kit, q3) = kit_with_replacement();
    let empty = kit.revocations(1, |_| {});
    let revoking = revoking_release(&kit, &q3, 2, &["v0.0.9"]);
    kit.put_media(LIST, &empty);
    let a = kit.bundle(
        "a.tar",
        &Spec::new("v0.1.0").carrying_revocations(&revoking),
    );
    let rep = kit.run();
    assert_rejected_with(result(&rep, &a), &["key-revoked"]);

    let (kit, q3) = kit_with_replacement();
    let empty = kit.revocations(1, |_| {});
    let revoking = revoking_release(&kit, &q3, 2, &["v0.0.9"]);
    kit.put_media(LIST, &revoking);
    let a = kit.bundle("a.tar", &Spec::new("v0.1.0").carrying_revocations(&empty));
    let rep = kit.run();
    assert_rejected_with(result(&rep, &a), &["key-revoked"]);
}

/// #13 for revocation: the revoked key is also listed under a second key id (same raw key) in the
/// release role; a signature naming the second id is still revoked.
///
/// Pins: revoked keys matched by raw key material (`RevokedKeys::raw`), not only by id.
#[test]
fn revoked_key_under_a_second_key_id_is_still_revoked() {
    let q3 = key("cavra-go-release-2026-q3");
    let q3c = copy(&q3);
    let kit = Kit::with(move |k, c| {
        let alias_entry = alias(&k.release, "cavra-go-release-alias").public_entry(None, None);
        c.keys.push(alias_entry);
        c.keys.push(q3c.public_entry(None, None));
        let alias_id = KeyId::new("cavra-go-release-alias").unwrap();
        c.roles.insert(
            "release".into(),
            root::role(&[k.release.key_id(), &alias_id, q3c.key_id()], 1),
        );
    });
    kit.put_media(LIST, &revoking_release(&kit, &q3, 1, &["v0.0.9"]));
    let aliased = alias(&kit.keys.release, "cavra-go-release-alias");
    let b = kit.bundle("a.tar", &Spec::new("v0.1.0").signed_by(&[&aliased]));
    let rep = kit.run();
    assert_rejected_with(
        result(&rep, &b),
        &["key-revoked", "signature-threshold-not-met"],
    );
}

/// The same, across a root rotation: the revoked key (`cavra-go-release-2026-q2`) is dropped from
/// root v2 but its raw key is re-added there under a new id (an operator re-importing the
/// compromised key under a new time-scoped id). A revoked key's signatures never count (formats
/// §4) and two entries with one raw key are one signer (§1): still revoked.
///
/// Pins: revoked keys resolved to raw key material in a way that survives the id disappearing
/// from the current root.
#[test]
fn revoked_key_relisted_under_a_new_id_after_rotation_is_still_revoked() {
    let (kit, q3) = kit_with_replacement();
    kit.put_media(LIST, &revoking_release(&kit, &q3, 1, &["v0.0.9"]));
    let renamed = alias(&kit.keys.release, "cavra-go-release-2026-q4");
    let mut ch = RootChanges {
        add_keys: vec![renamed.public_entry(None, None)],
        remove_keys: vec![kit.keys.release.key_id().clone()],
        ..Default::default()
    };
    ch.roles.insert(
        "release".into(),
        root::role(&[renamed.key_id(), q3.key_id()], 1),
    );
    let v2 = kit.rotate(&kit.anchor, &ch, &[&kit.keys.root_a, &kit.keys.root_b]);
    kit.put_media("offline-trust-root-bootstrap.json", &v2);
    let b = kit.bundle("a.tar", &Spec::new("v0.1.0").signed_by(&[&renamed]));
    let rep = kit.run();
    assert_rejected_with(result(&rep, &b), &["key-revoked"]);
}
