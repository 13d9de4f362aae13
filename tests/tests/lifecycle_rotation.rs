//! Issue #5, key lifecycle offline: trust-root rotation (TUF chain walk from the anchor or the last
//! accepted root, cap 256), persistence of the accepted root, planned release-key rotation with
//! overlap windows, and expiry (adversarial #2, #3, #4, #5, #7, #15).

mod support;

use support::*;

const BOOT: &str = "offline-trust-root-bootstrap.json";

/// The planned root rotation used below: root-b leaves, root-c joins (root 2-of-(a, c)); the
/// release role moves to a new key `cavra-go-release-2026-q3`, so a bundle signed by that key
/// promotes only under v2.
struct Rotation {
    root_c: PrivateKey,
    rel_q3: PrivateKey,
    v2: Vec<u8>,
}

fn changes(kit: &Kit, root_c: &PrivateKey, rel_q3: &PrivateKey) -> RootChanges {
    let mut ch = RootChanges {
        add_keys: vec![
            root_c.public_entry(None, None),
            rel_q3.public_entry(None, None),
        ],
        remove_keys: vec![kit.keys.root_b.key_id().clone()],
        ..Default::default()
    };
    ch.roles.insert(
        "root".into(),
        root::role(&[kit.keys.root_a.key_id(), root_c.key_id()], 2),
    );
    ch.roles
        .insert("release".into(), root::role(&[rel_q3.key_id()], 1));
    ch
}

fn rotation(kit: &Kit) -> Rotation {
    let root_c = key("root-c");
    let rel_q3 = key("cavra-go-release-2026-q3");
    let ch = changes(kit, &root_c, &rel_q3);
    // Co-signed by the old root role (a, b) and the new one (a, c).
    let (v2, st) = root::rotate(
        &kit.anchor,
        &ch,
        days(-1),
        days(365),
        &[&kit.keys.root_a, &kit.keys.root_b, &root_c],
    )
    .unwrap();
    assert!(st.complete(), "{}", root::describe(&st));
    Rotation { root_c, rel_q3, v2 }
}

/// A chain v1 → v`last` of rotations that change nothing but the version (root 2-of-(a, b)
/// throughout); returns every version's envelope, index 0 = v1 (the anchor).
fn plain_chain(kit: &Kit, last: u64) -> Vec<Vec<u8>> {
    let mut out = vec![kit.anchor.clone()];
    for _ in 2..=last {
        let prev = out.last().unwrap();
        let next = kit.rotate(
            prev,
            &RootChanges::default(),
            &[&kit.keys.root_a, &kit.keys.root_b],
        );
        out.push(next);
    }
    out
}

/// Puts versions 2..=N of `chain` on the media: `trust-root/<n>.json` for each and the newest as
/// the bootstrap file.
fn put_chain(kit: &Kit, chain: &[Vec<u8>]) {
    for (i, r) in chain.iter().enumerate().skip(1) {
        kit.put_media(&format!("trust-root/{}.json", i + 1), r);
    }
    kit.put_media(BOOT, chain.last().unwrap());
}

/// v1 → v2 on the media (`trust-root/2.json` + bootstrap), co-signed by old and new root keys:
/// promoted under v2, v2 persisted; next run with only the v1 anchor and NO chain files still runs
/// under v2; a stick carrying only v1 does not roll it back.
///
/// Pins: the chain walk (`trust::root::establish` step 3), the storing of accepted roots in the
/// state (`StateDir::store_trust_root`, `Memory::stored_roots`) and the highest version record.
/// Without persistence run 2 and 3 fall back to v1, where `cavra-go-release-2026-q3` is unknown.
#[test]
fn rotation_is_accepted_persisted_and_never_rolled_back() {
    let kit = Kit::new();
    let rot = rotation(&kit);
    kit.put_media("trust-root/2.json", &rot.v2);
    kit.put_media(BOOT, &rot.v2);
    let b1 = kit.bundle("v0.1.0.tar", &Spec::new("v0.1.0").signed_by(&[&rot.rel_q3]));
    let rep = kit.run();
    let r = result(&rep, &b1);
    assert_promoted(r);
    let rc = receipt(&kit, r.receipt.as_deref().unwrap());
    assert_eq!(rc.trust_root.version, Some(2));
    assert_eq!(kit.state_data().trust_root_version, 2);
    assert_eq!(
        std::fs::read(kit.state.join("trust-root/2.json")).unwrap(),
        rot.v2
    );

    // A new stick with no trust material at all: the appliance is still at v2.
    kit.new_stick();
    let b2 = kit.bundle("v0.2.0.tar", &Spec::new("v0.2.0").signed_by(&[&rot.rel_q3]));
    let rep = kit.run();
    let r = result(&rep, &b2);
    assert_promoted(r);
    assert_eq!(
        receipt(&kit, r.receipt.as_deref().unwrap())
            .trust_root
            .version,
        Some(2)
    );

    // A stick carrying only v1 (the old bootstrap): still v2; the v1-only release key no longer
    // counts.
    kit.new_stick();
    kit.put_media(BOOT, &kit.anchor);
    let b3 = kit.bundle(
        "a-v0.3.0.tar",
        &Spec::new("v0.3.0").signed_by(&[&rot.rel_q3]),
    );
    let old_key = kit.bundle("b-v0.4.0.tar", &Spec::new("v0.4.0"));
    let rep = kit.run();
    let r = result(&rep, &b3);
    assert_promoted(r);
    assert_eq!(
        receipt(&kit, r.receipt.as_deref().unwrap())
            .trust_root
            .version,
        Some(2)
    );
    assert_rejected_with(result(&rep, &old_key), &["signature-threshold-not-met"]);
    assert_eq!(kit.state_data().trust_root_version, 2);
}

/// The rotated root may travel inside the bundle (v1 as `trust-root/1.json`, v2 as the bootstrap)
/// instead of at the media root; it is accepted and persisted the same way.
///
/// Pins: bundle trust roots being candidates of the walk (`policy::bundle_candidates`).
#[test]
fn rotation_carried_inside_the_bundle_is_accepted_and_persisted() {
    let kit = Kit::new();
    let rot = rotation(&kit);
    let b = kit.bundle(
        "v0.1.0.tar",
        &Spec::new("v0.1.0")
            .signed_by(&[&rot.rel_q3])
            .carrying_roots(&[&kit.anchor, &rot.v2]),
    );
    assert_promoted(result(&kit.run(), &b));
    assert_eq!(kit.state_data().trust_root_version, 2);
    assert!(kit.state.join("trust-root/2.json").is_file());
}

/// After v2 was accepted, losing the stored roots must not silently fall back to v1: the newest
/// reachable root (v1) is below the recorded version 2, `trust-root-rollback`.
///
/// Pins: the rollback check of `establish` step 4 (`highest_accepted`).
#[test]
fn recorded_root_version_cannot_be_undercut() {
    let kit = Kit::new();
    let rot = rotation(&kit);
    kit.put_media(BOOT, &rot.v2);
    let b1 = kit.bundle("a.tar", &Spec::new("v0.1.0").signed_by(&[&rot.rel_q3]));
    assert_promoted(result(&kit.run(), &b1));
    std::fs::remove_file(kit.state.join("trust-root/2.json")).unwrap();
    kit.new_stick();
    kit.put_media(BOOT, &kit.anchor);
    let b2 = kit.bundle("b.tar", &Spec::new("v0.2.0"));
    let rep = kit.run();
    assert_rejected_with(result(&rep, &b2), &["trust-root-rollback"]);
    assert_eq!(kit.state_data().trust_root_version, 2);
}

/// #2: older AND expired is reported as a rollback, not only as expired. The anchor has expired;
/// v2 (valid) was accepted; with the stored root gone, a stick with only v1 reaches v1: both
/// `trust-root-rollback` and `trust-root-expired`.
///
/// Pins: step 4 of `establish` accumulating both reasons (an early return on expiry would drop
/// the rollback).
#[test]
fn older_and_expired_root_is_reported_as_rollback_too() {
    let kit = Kit::with(|_, c| {
        c.issued_at = days(-400);
        c.expires = days(-35);
    });
    let rot = rotation(&kit);
    kit.put_media(BOOT, &rot.v2);
    let b1 = kit.bundle("a.tar", &Spec::new("v0.1.0").signed_by(&[&rot.rel_q3]));
    assert_promoted(result(&kit.run(), &b1));
    std::fs::remove_file(kit.state.join("trust-root/2.json")).unwrap();
    kit.new_stick();
    kit.put_media(BOOT, &kit.anchor);
    let b2 = kit.bundle("b.tar", &Spec::new("v0.2.0"));
    let rep = kit.run();
    assert_rejected_with(
        result(&rep, &b2),
        &["trust-root-rollback", "trust-root-expired"],
    );
}

/// A chain v1 → v3 with v2 missing: `trust-root-chain-broken`; nothing persisted.
///
/// Pins: the gap check of `establish` step 3.
#[test]
fn chain_with_a_gap_is_broken() {
    let kit = Kit::new();
    let chain = plain_chain(&kit, 3);
    kit.put_media(BOOT, &chain[2]);
    let b = kit.bundle("a.tar", &Spec::new("v0.1.0"));
    let rep = kit.run();
    let r = result(&rep, &b);
    assert_rejected_with(r, &["trust-root-chain-broken"]);
    assert!(
        r.reasons
            .iter()
            .any(|x| x.message.contains("version 2 is missing")),
        "{:#?}",
        r.reasons
    );
    assert!(kit.state_data().trust_root_version <= 1);
    assert!(!kit.state.join("trust-root/3.json").exists());
}

/// #15: a v2 signed only by the NEW root keys (root-c, root-d; the old role is 2-of-(a, b)) is
/// `trust-root-chain-broken` and is NOT persisted; a v2 signed only by the OLD keys (not by its
/// own new role) is broken too.
///
/// Pins: both signature checks of `establish` step 3 (by the previous root's role, and by its own),
/// and that a failed root never reaches `Updates::roots`.
#[test]
fn rotation_signed_only_by_new_keys_is_broken_and_not_persisted() {
    let kit = Kit::new();
    let root_c = key("root-c");
    let root_d = key("root-d");
    let rel_q3 = key("cavra-go-release-2026-q3");
    let mut ch = changes(&kit, &root_c, &rel_q3);
    ch.add_keys.push(root_d.public_entry(None, None));
    ch.remove_keys.push(kit.keys.root_a.key_id().clone());
    ch.roles.insert(
        "root".into(),
        root::role(&[root_c.key_id(), root_d.key_id()], 2),
    );
    ch.roles
        .insert("revocation".into(), root::role(&[root_c.key_id()], 1));
    let (only_new, st) =
        root::rotate(&kit.anchor, &ch, days(-1), days(365), &[&root_c, &root_d]).unwrap();
    assert!(st.own.met() && !st.complete());
    kit.put_media(BOOT, &only_new);
    let b = kit.bundle("a.tar", &Spec::new("v0.1.0").signed_by(&[&rel_q3]));
    let rep = kit.run();
    assert_rejected_with(result(&rep, &b), &["trust-root-chain-broken"]);
    assert!(kit.state_data().trust_root_version <= 1);
    assert!(!kit.state.join("trust-root/2.json").exists());

    // Signed by the old role only (a, b), not by its own (c, d).
    let (only_old, st) = root::rotate(
        &kit.anchor,
        &ch,
        days(-1),
        days(365),
        &[&kit.keys.root_a, &kit.keys.root_b],
    )
    .unwrap();
    assert!(!st.own.met());
    kit.new_stick();
    kit.put_media(BOOT, &only_old);
    let b = kit.bundle("b.tar", &Spec::new("v0.1.0").signed_by(&[&rel_q3]));
    let rep = kit.run();
    assert_rejected_with(result(&rep, &b), &["trust-root-chain-broken"]);
    assert!(!kit.state.join("trust-root/2.json").exists());
}

/// Planned release-key rotation: during the overlap window (outgoing key's `not_after` in the
/// future, incoming key's `not_before` in the past) bundles signed by either key promote.
///
/// Pins: `Key::valid_at` treating a window that contains now as valid (an off-by-one or a swapped
/// comparison rejects one of them).
#[test]
fn overlap_window_accepts_both_release_keys() {
    let old = key("release-outgoing");
    let new = key("release-incoming");
    let (o, n) = (copy(&old), copy(&new));
    let kit = Kit::with(move |_, c| {
        c.keys.push(o.public_entry(Some(days(-90)), Some(days(1))));
        c.keys.push(n.public_entry(Some(days(-1)), Some(days(90))));
        c.roles
            .insert("release".into(), root::role(&[o.key_id(), n.key_id()], 1));
    });
    let a = kit.bundle("a.tar", &Spec::new("v0.1.0").signed_by(&[&old]));
    let b = kit.bundle("b.tar", &Spec::new("v0.2.0").signed_by(&[&new]));
    let rep = kit.run();
    assert_promoted(result(&rep, &a));
    assert_promoted(result(&rep, &b));
}

/// After the window: a bundle signed only by the outgoing key whose `not_after` has passed is
/// rejected with `key-outside-validity` and `signature-threshold-not-met`; so is one signed only
/// by an incoming key whose `not_before` is still in the future; the other key still promotes.
///
/// Pins: the `Window::Enforce` branch of `RoleCount::offer` for release signatures.
#[test]
fn release_key_outside_its_window_does_not_count() {
    let retired = key("release-retired");
    let current = key("release-current");
    let future = key("release-future");
    let (r, c2, f) = (copy(&retired), copy(&current), copy(&future));
    let kit = Kit::with(move |_, c| {
        c.keys
            .push(r.public_entry(Some(days(-180)), Some(days(-1))));
        c.keys
            .push(c2.public_entry(Some(days(-90)), Some(days(90))));
        c.keys.push(f.public_entry(Some(days(1)), Some(days(180))));
        c.roles.insert(
            "release".into(),
            root::role(&[r.key_id(), c2.key_id(), f.key_id()], 1),
        );
    });
    let a = kit.bundle("a.tar", &Spec::new("v0.1.0").signed_by(&[&retired]));
    let b = kit.bundle("b.tar", &Spec::new("v0.1.1").signed_by(&[&future]));
    let c = kit.bundle("c.tar", &Spec::new("v0.1.2").signed_by(&[&current]));
    let rep = kit.run();
    for bad in [&a, &b] {
        assert_rejected_with(
            result(&rep, bad),
            &["key-outside-validity", "signature-threshold-not-met"],
        );
    }
    assert_promoted(result(&rep, &c));
}

/// #3: a validly signed but expired trust root rejects everything (freeze): the anchor itself
/// expired with nothing newer, or the newest root of the chain expired.
///
/// Pins: the expiry check of `establish` step 4.
#[test]
fn expired_final_root_rejects_everything() {
    let kit = Kit::with(|_, c| {
        c.issued_at = days(-400);
        c.expires = days(-1);
    });
    let b = kit.bundle("a.tar", &Spec::new("v0.1.0"));
    let rep = kit.run();
    assert_rejected_with(result(&rep, &b), &["trust-root-expired"]);

    let kit = Kit::new();
    let (v2, _) = root::rotate(
        &kit.anchor,
        &RootChanges::default(),
        days(-30),
        days(-1),
        &[&kit.keys.root_a, &kit.keys.root_b],
    )
    .unwrap();
    kit.put_media(BOOT, &v2);
    let b = kit.bundle("a.tar", &Spec::new("v0.1.0"));
    let rep = kit.run();
    assert_rejected_with(result(&rep, &b), &["trust-root-expired"]);
}

/// #4: the local anchor has expired, but a valid newer chain is on the media: walk it; only the
/// final root must be unexpired. An expired intermediate root (v2) is fine too.
///
/// Pins: that expiry is checked on the final root only (checking every link, or the anchor,
/// would reject).
#[test]
fn expired_anchor_or_intermediate_with_valid_newer_chain_promotes() {
    let kit = Kit::with(|_, c| {
        c.issued_at = days(-400);
        c.expires = days(-35);
    });
    let (v2, _) = root::rotate(
        &kit.anchor,
        &RootChanges::default(),
        days(-36),
        days(-2),
        &[&kit.keys.root_a, &kit.keys.root_b],
    )
    .unwrap();
    let v3 = kit.rotate(
        &v2,
        &RootChanges::default(),
        &[&kit.keys.root_a, &kit.keys.root_b],
    );
    kit.put_media("trust-root/2.json", &v2);
    kit.put_media(BOOT, &v3);
    let b = kit.bundle("a.tar", &Spec::new("v0.1.0"));
    let rep = kit.run();
    let r = result(&rep, &b);
    assert_promoted(r);
    assert_eq!(
        receipt(&kit, r.receipt.as_deref().unwrap())
            .trust_root
            .version,
        Some(3)
    );
}

/// #7: a chain of more than 256 rotations in one walk is refused (`trust-root-chain-broken`),
/// even though every link is valid; exactly 256 rotations are accepted.
///
/// Pins: `trust::root::MAX_CHAIN` (without it, the 257-rotation chain is valid and promotes).
#[test]
fn chain_longer_than_256_rotations_is_refused() {
    let kit = Kit::new();
    let chain = plain_chain(&kit, 258);
    put_chain(&kit, &chain); // v1 → v258: 257 rotations
    let b = kit.bundle("a.tar", &Spec::new("v0.1.0"));
    let rep = kit.run();
    let r = result(&rep, &b);
    assert_rejected_with(r, &["trust-root-chain-broken"]);
    assert!(
        r.reasons.iter().any(|x| x.message.contains("256")),
        "{:#?}",
        r.reasons
    );
    assert!(kit.state_data().trust_root_version <= 1);

    // v1 → v257: 256 rotations, accepted.
    kit.new_stick();
    put_chain(&kit, &chain[..257]);
    let b = kit.bundle("a.tar", &Spec::new("v0.1.0"));
    assert_promoted(result(&kit.run(), &b));
    assert_eq!(kit.state_data().trust_root_version, 257);
}

/// The cap of #7 bounds the rotations walked in ONE verification from the last accepted root
/// (issue #5: "chain walk from anchor or last accepted root (cap 256)"; go-tuf's
/// MaxRootRotations counts from the trusted root). An appliance that has, over its life,
/// accepted v257 must still accept the single rotation to v258.
///
/// Pins: the cap being measured from the highest accepted root, not from the anchor.
#[test]
fn chain_cap_counts_from_the_last_accepted_root() {
    let kit = Kit::new();
    let chain = plain_chain(&kit, 258);
    put_chain(&kit, &chain[..257]);
    let b = kit.bundle("a.tar", &Spec::new("v0.1.0"));
    assert_promoted(result(&kit.run(), &b));
    assert_eq!(kit.state_data().trust_root_version, 257);
    // One more rotation, on a new stick.
    kit.new_stick();
    kit.put_media(BOOT, &chain[257]);
    let b = kit.bundle("b.tar", &Spec::new("v0.2.0"));
    let rep = kit.run();
    assert_promoted(result(&rep, &b));
    assert_eq!(kit.state_data().trust_root_version, 258);
}

/// #5 fast-forward: a root validly signed by the anchor's root keys but with version 2^63 (or
/// 2^63 - 1) is refused: it is not a +1 step and must not be persisted; the next genuine v2
/// still works afterwards.
///
/// Pins: the version range check of `TrustRoot::parse` (2^63) and the one-step chain walk
/// (2^63 - 1); and that a refused root never reaches the state (an inflated
/// `trust_root_version` would make every later genuine root a rollback).
#[test]
fn fast_forward_root_version_is_refused_and_not_persisted() {
    let kit = Kit::new();
    for v in [1u64 << 63, (1u64 << 63) - 1, u64::MAX] {
        kit.new_stick();
        let huge = sign_root_raw(&kit.payload(v), &[&kit.keys.root_a, &kit.keys.root_b]);
        kit.put_media(BOOT, &huge);
        let b = kit.bundle("a.tar", &Spec::new("v0.1.0"));
        let rep = kit.run();
        let r = result(&rep, &b);
        assert_eq!(r.verdict, Verdict::Reject, "version {v}");
        assert!(
            codes(r)
                .iter()
                .any(|c| *c == "trust-root-invalid" || *c == "trust-root-chain-broken"),
            "version {v}: {:#?}",
            r.reasons
        );
        assert!(kit.state_data().trust_root_version <= 1, "version {v}");
    }
    kit.new_stick();
    let v2 = kit.rotate(
        &kit.anchor,
        &RootChanges::default(),
        &[&kit.keys.root_a, &kit.keys.root_b],
    );
    kit.put_media(BOOT, &v2);
    let b = kit.bundle("a.tar", &Spec::new("v0.1.0"));
    assert_promoted(result(&kit.run(), &b));
    assert_eq!(kit.state_data().trust_root_version, 2);
}

/// Two different v2 roots (each validly signed) — one already accepted and stored, one offered
/// by a later stick — are `trust-root-chain-broken`: the appliance keeps what it trusted (#10
/// for roots).
///
/// Pins: the "copies of one version carry the same payload" check of `establish` step 2, with the
/// stored root as one of the copies.
#[test]
fn a_second_different_v2_is_refused_after_one_was_accepted() {
    let kit = Kit::new();
    let rot = rotation(&kit);
    kit.put_media(BOOT, &rot.v2);
    let b = kit.bundle("a.tar", &Spec::new("v0.1.0").signed_by(&[&rot.rel_q3]));
    assert_promoted(result(&kit.run(), &b));
    // A fork: another v2 signed by the old role a, b (valid by itself).
    let fork = kit.rotate(
        &kit.anchor,
        &RootChanges::default(),
        &[&kit.keys.root_a, &kit.keys.root_b],
    );
    kit.new_stick();
    kit.put_media(BOOT, &fork);
    let b = kit.bundle("b.tar", &Spec::new("v0.2.0"));
    let rep = kit.run();
    assert_rejected_with(result(&rep, &b), &["trust-root-chain-broken"]);
    assert_eq!(
        std::fs::read(kit.state.join("trust-root/2.json")).unwrap(),
        rot.v2
    );
    let _ = rot.root_c;
}
