//! Root-chain and threshold rules pinned on real signed bytes (adversarial catalogue A).

use super::root::{establish, RootInputs, MAX_CHAIN};
use super::Candidate;
use crate::document::dsse::{payload_type, sign};
use crate::document::trust_root::{RoleEntry, TrustRootPayload};
use crate::keys::{encode_base64, KeyEntry, KeyId};
use crate::reason::Code;
use crate::timestamp::Timestamp;
use ed25519_dalek::SigningKey;
use std::collections::BTreeMap;

fn key(n: u8) -> SigningKey {
    SigningKey::from_bytes(&[n; 32])
}

fn entry(id: &str, k: &SigningKey) -> KeyEntry {
    KeyEntry {
        key_id: KeyId::new(id).unwrap(),
        algorithm: "Ed25519".into(),
        public_key: encode_base64(k.verifying_key().as_bytes()),
        identity: None,
        not_before: None,
        not_after: None,
    }
}

fn now() -> Timestamp {
    Timestamp::now()
}

/// A root whose `root` role is `root_keys` (ids `r<n>`) with `threshold`, signed by `signers`.
fn root(
    version: u64,
    root_keys: &[u8],
    threshold: u64,
    signers: &[u8],
    expires_in_days: i64,
) -> Vec<u8> {
    let ids: Vec<KeyId> = root_keys
        .iter()
        .map(|n| KeyId::new(&format!("r{n}")).unwrap())
        .collect();
    let role = |t| RoleEntry {
        key_ids: ids.clone(),
        threshold: t,
    };
    let payload = TrustRootPayload {
        type_: "cavra-trust-root".into(),
        version,
        issued_at: now().plus_seconds(-86_400 * 400),
        expires: now().plus_seconds(86_400 * expires_in_days),
        keys: root_keys
            .iter()
            .map(|n| entry(&format!("r{n}"), &key(*n)))
            .collect(),
        roles: ["root", "release", "provenance", "revocation"]
            .into_iter()
            .map(|r| (r.to_owned(), role(if r == "root" { threshold } else { 1 })))
            .collect::<BTreeMap<_, _>>(),
        builders: vec![],
        governance: None,
        sigstore: None,
    };
    let body = serde_json::to_vec(&payload).unwrap();
    let keys: Vec<(String, SigningKey)> =
        signers.iter().map(|n| (format!("r{n}"), key(*n))).collect();
    let refs: Vec<(&str, &SigningKey)> = keys.iter().map(|(i, k)| (i.as_str(), k)).collect();
    sign(payload_type::TRUST_ROOT, &body, &refs)
}

fn cand(v: u64, bytes: Vec<u8>) -> Candidate {
    Candidate {
        source: format!("media:trust-root/{v}.json"),
        bytes,
    }
}

fn walk(anchor: &[u8], candidates: &[Candidate], highest: u64) -> Result<u64, Vec<Code>> {
    establish(&RootInputs {
        anchor,
        candidates,
        highest_accepted: highest,
        now: now(),
    })
    .map(|r| r.version())
    .map_err(|rs| rs.into_iter().map(|r| r.code).collect())
}

#[test]
fn rotation_needs_old_and_new_root_thresholds() {
    let anchor = root(1, &[1, 2], 2, &[1, 2], 365);
    let good = root(2, &[3, 4], 2, &[1, 2, 3, 4], 365);
    assert_eq!(walk(&anchor, &[cand(2, good)], 0), Ok(2));
    // #15: a rotated root signed only by the new keys.
    let only_new = root(2, &[3, 4], 2, &[3, 4], 365);
    assert!(walk(&anchor, &[cand(2, only_new)], 0)
        .unwrap_err()
        .contains(&Code::TrustRootChainBroken));
    // Old threshold not met (one of two old keys).
    let half_old = root(2, &[3, 4], 2, &[1, 3, 4], 365);
    assert!(walk(&anchor, &[cand(2, half_old)], 0)
        .unwrap_err()
        .contains(&Code::TrustRootChainBroken));
    // Its own threshold not met.
    let half_new = root(2, &[3, 4], 2, &[1, 2, 3], 365);
    assert!(walk(&anchor, &[cand(2, half_new)], 0)
        .unwrap_err()
        .contains(&Code::TrustRootChainBroken));
}

#[test]
fn unsigned_or_underthreshold_anchor_is_invalid() {
    let anchor = root(1, &[1, 2], 2, &[1], 365);
    assert_eq!(
        walk(&anchor, &[], 0).unwrap_err()[0],
        Code::TrustRootInvalid
    );
    assert_eq!(walk(b"{}", &[], 0).unwrap_err(), [Code::TrustRootInvalid]);
}

#[test]
fn gaps_and_conflicting_copies_break_the_chain() {
    let anchor = root(1, &[1], 1, &[1], 365);
    let v3 = root(3, &[1], 1, &[1], 365);
    assert_eq!(
        walk(&anchor, &[cand(3, v3)], 0),
        Err(vec![Code::TrustRootChainBroken])
    );
    let a = root(2, &[1], 1, &[1], 365);
    let b = root(2, &[1], 1, &[1], 300);
    assert!(walk(&anchor, &[cand(2, a.clone()), cand(2, b)], 0)
        .unwrap_err()
        .contains(&Code::TrustRootChainBroken));
    // Two copies with the same payload but different signature lists are fine.
    let a2 = root(2, &[1, 5], 1, &[1, 5], 365);
    let a3 = crate::document::dsse::add_signatures(&a2, &[]).unwrap();
    assert_eq!(walk(&anchor, &[cand(2, a2), cand(2, a3)], 0), Ok(2));
    // A file name that lies about its version.
    assert_eq!(
        walk(&anchor, &[cand(7, a)], 0),
        Err(vec![Code::TrustRootInvalid])
    );
}

#[test]
fn freeze_rollback_and_expired_anchor() {
    // #3: the newest root expired.
    let anchor = root(1, &[1], 1, &[1], -1);
    assert_eq!(walk(&anchor, &[], 0), Err(vec![Code::TrustRootExpired]));
    // #4: expired anchor, valid newer chain.
    let v2 = root(2, &[1], 1, &[1], 365);
    assert_eq!(walk(&anchor, &[cand(2, v2)], 0), Ok(2));
    // #1/#2: older than accepted, and older and expired.
    assert_eq!(
        walk(&root(1, &[1], 1, &[1], 365), &[], 3),
        Err(vec![Code::TrustRootRollback])
    );
    assert_eq!(
        walk(&anchor, &[], 3),
        Err(vec![Code::TrustRootRollback, Code::TrustRootExpired])
    );
}

#[test]
fn chain_length_is_capped() {
    // #7: only the length matters, so the versions need no signatures to be refused.
    let anchor = root(1, &[1], 1, &[1], 365);
    let far = root(MAX_CHAIN + 2, &[1], 1, &[1], 365);
    assert_eq!(
        walk(&anchor, &[cand(MAX_CHAIN + 2, far)], 0),
        Err(vec![Code::TrustRootChainBroken])
    );
}

#[test]
fn threshold_counts_raw_keys_once() {
    // #13: one key listed under two ids cannot meet a threshold of two; the role is refused at
    // load because its threshold exceeds its distinct keys.
    let k = key(1);
    let payload = TrustRootPayload {
        type_: "cavra-trust-root".into(),
        version: 1,
        issued_at: now().plus_seconds(-10),
        expires: now().plus_seconds(86_400),
        keys: vec![entry("a", &k), entry("b", &k)],
        roles: ["root", "release", "provenance", "revocation"]
            .into_iter()
            .map(|r| {
                let ids = vec![KeyId::new("a").unwrap(), KeyId::new("b").unwrap()];
                (
                    r.to_owned(),
                    RoleEntry {
                        key_ids: ids,
                        threshold: 2,
                    },
                )
            })
            .collect(),
        builders: vec![],
        governance: None,
        sigstore: None,
    };
    let body = serde_json::to_vec(&payload).unwrap();
    let env = sign(payload_type::TRUST_ROOT, &body, &[("a", &k), ("b", &k)]);
    assert_eq!(walk(&env, &[], 0), Err(vec![Code::TrustRootInvalid]));
}

#[test]
fn payload_type_confusion_is_refused() {
    // #16: a correctly signed document of another type presented as a trust root.
    let k = key(1);
    let anchor = root(1, &[1], 1, &[1], 365);
    let env = crate::document::dsse::Envelope::parse(&anchor).unwrap();
    let as_revocations = sign(payload_type::REVOCATIONS, &env.payload, &[("r1", &k)]);
    assert_eq!(
        walk(&as_revocations, &[], 0),
        Err(vec![Code::TrustRootInvalid])
    );
}
