//! Counting DSSE signatures toward a role's threshold (formats §2): unknown key ids are ignored; a
//! signature that fails under a known key invalidates the envelope; a verified signature by a key
//! outside the role, revoked, or outside its window does not count; one raw key counts once.

use crate::document::dsse::{Envelope, EnvelopeSignature};
use crate::document::trust_root::TrustRoot;
use crate::keys::{Key, KeyId, KeyMaterial};
use crate::reason::{Code, Reason};
use crate::timestamp::Timestamp;
use airlock_core::ed25519::PUBLIC_KEY_LEN;
use std::collections::BTreeSet;

/// Whether key validity windows apply.
#[derive(Debug, Clone, Copy)]
pub enum Window {
    /// Check `not_before`/`not_after` against this time (release, provenance, revocation roles).
    Enforce(Timestamp),
    /// Root-role signatures on trust roots are historical: windows do not apply.
    Historical,
}

/// Keys whose signatures never count.
#[derive(Debug, Clone, Default)]
pub struct RevokedKeys {
    pub(crate) ids: BTreeSet<KeyId>,
    pub(crate) raw: BTreeSet<[u8; PUBLIC_KEY_LEN]>,
}

impl RevokedKeys {
    /// Whether `key` is revoked, by id or by key material.
    pub fn contains(&self, key: &Key) -> bool {
        self.ids.contains(&key.id) || self.raw.contains(key.raw())
    }
}

/// A key whose signature counted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Signer {
    /// Its id.
    pub key_id: KeyId,
    /// `sha256:` fingerprint.
    pub fingerprint: String,
    /// Raw key.
    pub raw: [u8; PUBLIC_KEY_LEN],
    /// For a Sigstore signer, the verified certificate's claims (its fingerprint is then the
    /// leaf certificate's).
    pub sigstore: Option<super::sigstore::SigstoreClaims>,
}

impl Signer {
    pub(crate) fn of(key: &Key) -> Self {
        Self {
            key_id: key.id.clone(),
            fingerprint: key.fingerprint(),
            raw: *key.raw(),
            sigstore: None,
        }
    }
}

/// The outcome of counting one role's signatures.
#[derive(Debug, Clone, Default)]
pub struct RoleCount {
    /// Distinct keys that counted.
    pub counted: Vec<Signer>,
    /// Signatures by known keys that failed to verify (each invalidates the document).
    pub invalid: Vec<Reason>,
    /// Verified signatures that did not count, and why.
    pub uncounted: Vec<Reason>,
    /// Key ids the trust root does not know.
    pub unknown: Vec<String>,
}

impl RoleCount {
    /// Adds a verified signature by `key` for `role`, applying role membership, revocation and
    /// window rules.
    pub(crate) fn offer(
        &mut self,
        key: &Key,
        role_keys: &[KeyId],
        window: Window,
        revoked: &RevokedKeys,
        what: &str,
    ) {
        if !role_keys.contains(&key.id) {
            self.uncounted.push(Reason::new(
                Code::SignatureThresholdNotMet,
                format!("{what}: key {} signed but is not in the role", key.id),
            ));
        } else if revoked.contains(key) {
            self.uncounted.push(Reason::new(
                Code::KeyRevoked,
                format!(
                    "{what}: key {} ({}) is revoked; its signature does not count",
                    key.id,
                    key.fingerprint()
                ),
            ));
        } else if matches!(window, Window::Enforce(now) if !key.valid_at(now)) {
            self.uncounted.push(Reason::new(
                Code::KeyOutsideValidity,
                format!(
                    "{what}: key {} is outside its validity window; its signature does not count",
                    key.id
                ),
            ));
        } else if !self.counted.iter().any(|s| s.raw == *key.raw()) {
            self.counted.push(Signer::of(key));
        }
    }

    /// Whether the envelope is valid and `threshold` distinct keys counted.
    pub fn meets(&self, threshold: usize) -> bool {
        let mut distinct = airlock_core::threshold::DistinctSigners::<
            { crate::document::trust_root::MAX_KEYS },
        >::new();
        let all_fit = self.counted.iter().all(|s| distinct.insert(&s.raw).is_ok());
        self.invalid.is_empty() && all_fit && distinct.meets(threshold)
    }

    /// The reasons to report when the threshold was not met.
    pub fn shortfall(&self, threshold: usize, what: &str) -> Vec<Reason> {
        let mut out = self.invalid.clone();
        if self.counted.len() < threshold {
            out.push(Reason::new(
                Code::SignatureThresholdNotMet,
                format!(
                    "{what}: {} of the {threshold} required distinct keys signed",
                    self.counted.len()
                ),
            ));
            out.extend(self.uncounted.iter().cloned());
            if !self.unknown.is_empty() {
                out.push(Reason::new(
                    Code::SignerUnknown,
                    format!(
                        "{what}: signed by key ids the trust root does not know: {}",
                        self.unknown.join(", ")
                    ),
                ));
            }
        }
        out
    }
}

/// Counts the signatures of `envelope` for `role` of `root`.
pub fn count_dsse(
    envelope: &Envelope,
    root: &TrustRoot,
    role: &str,
    window: Window,
    revoked: &RevokedKeys,
    what: &str,
) -> RoleCount {
    count_signatures(
        &envelope.pae(),
        &envelope.signatures,
        root,
        role,
        window,
        revoked,
        what,
    )
}

/// [`count_dsse`] for an envelope's signatures over its PAE, however it is held.
pub(crate) fn count_signatures(
    pae: &[u8],
    signatures: &[EnvelopeSignature],
    root: &TrustRoot,
    role: &str,
    window: Window,
    revoked: &RevokedKeys,
    what: &str,
) -> RoleCount {
    let mut count = RoleCount::default();
    let role_keys = root.role(role).map(|r| r.key_ids.as_slice()).unwrap_or(&[]);
    for sig in signatures {
        let Some(key) = KeyId::new(&sig.keyid)
            .ok()
            .and_then(|id| root.keys.get(&id))
        else {
            count.unknown.push(sig.keyid.clone());
            continue;
        };
        let KeyMaterial::Ed25519(pk) = &key.material else {
            let kind = if matches!(key.material, KeyMaterial::Sigstore { .. }) {
                "sigstore"
            } else {
                "minisign"
            };
            count.uncounted.push(Reason::new(
                Code::SignatureThresholdNotMet,
                format!(
                    "{what}: key {} is a {kind} key and cannot sign DSSE envelopes",
                    key.id
                ),
            ));
            continue;
        };
        let verified = sig.sig.is_some_and(|s| pk.verify(pae, &s).is_ok());
        if verified {
            count.offer(key, role_keys, window, revoked, what);
        } else {
            count.invalid.push(Reason::new(
                Code::SignatureInvalid,
                format!("{what}: the signature by key {} does not verify", key.id),
            ));
        }
    }
    count
}
