//! Sigstore bundles as signers (formats §9): a bundle verified by [`crate::sigstore`] against the
//! trust root's own `sigstore` trusted root (steps 1–5) counts for the one `sigstore` key entry
//! of the role whose identity pin it matches (step 6), under the same role, revocation, window
//! and distinct-signer rules as any key.

use super::signatures::{RevokedKeys, RoleCount, Window};
use crate::document::provenance::glob_match;
use crate::document::trust_root::TrustRoot;
use crate::keys::{Key, KeyMaterial, SigstoreIdentity};
use crate::reason::{Code, Reason};
use crate::sigstore::{self as core, Signed, Verified};
use serde::{Deserialize, Serialize};

/// What a receipt shows of a Sigstore signer (formats §9.3).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct SigstoreClaims {
    /// The certificate's OIDC issuer.
    pub issuer: String,
    /// The certificate's SAN.
    pub subject: String,
    /// The transparency log entry's index.
    pub log_index: u64,
    /// The Rekor integrated time (seconds since the epoch); absent for Rekor v2 entries.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub integrated_time: Option<i64>,
}

/// Whether a verified certificate matches an identity pin (formats §9.1).
pub(crate) fn identity_matches(pin: &SigstoreIdentity, v: &Verified) -> bool {
    pin.issuer == v.issuer()
        && glob_match(&pin.subject, v.subject())
        && pin.extensions.iter().all(|(oid, glob)| {
            v.extensions()
                .iter()
                .any(|(o, value)| o == oid && glob_match(glob, value))
        })
}

/// Verifies one Sigstore bundle file and offers it to `count` for `role`. Returns the verified
/// bundle (for a DSSE payload's statement checks) when steps 1–5 passed.
#[allow(clippy::too_many_arguments)]
pub(crate) fn count_bundle(
    root: &TrustRoot,
    role: &str,
    bundle: &[u8],
    signed: Signed<'_>,
    window: Window,
    revoked: &RevokedKeys,
    what: &str,
    count: &mut RoleCount,
) -> Option<Verified> {
    let invalid = |m: String| Reason::new(Code::SigstoreInvalid, format!("{what}: {m}"));
    let Some(trusted_root) = &root.sigstore else {
        count.unknown.push(format!(
            "{what} (the trust root carries no sigstore trusted root)"
        ));
        return None;
    };
    let verified = core::load_trusted_root(trusted_root.as_bytes())
        .map_err(&invalid)
        .and_then(|verifier| {
            let b = core::parse_bundle(bundle).map_err(|f| invalid(f.to_string()))?;
            core::verify_keyless(&verifier, &b, signed).map_err(|f| invalid(f.to_string()))
        });
    let v = match verified {
        Ok(v) => v,
        Err(r) => {
            count.invalid.push(r);
            return None;
        }
    };
    let role_keys = root.role(role).map(|r| r.key_ids.as_slice()).unwrap_or(&[]);
    let matching: Vec<&Key> = root
        .keys
        .values()
        .filter(|k| matches!(&k.material, KeyMaterial::Sigstore { identity, .. } if identity_matches(identity, &v)))
        .collect();
    // One bundle counts for one entry: a usable entry of the role first, so a revoked or
    // expired broader pin does not hide a valid one; else the first match, to say why not.
    let usable = |k: &&Key| {
        role_keys.contains(&k.id)
            && !revoked.contains(k)
            && !matches!(window, Window::Enforce(now) if !k.valid_at(now))
    };
    let in_role = |k: &&Key| role_keys.contains(&k.id);
    let Some(key) = matching
        .iter()
        .copied()
        .find(usable)
        .or_else(|| matching.iter().copied().find(in_role))
        .or_else(|| matching.first().copied())
    else {
        count.unknown.push(format!(
            "Sigstore identity {} ({}) in {what}",
            v.subject(),
            v.issuer()
        ));
        return Some(v);
    };
    let before = count.counted.len();
    count.offer(key, role_keys, window, revoked, what);
    if let Some(s) = count.counted.get_mut(before) {
        s.fingerprint = v.fingerprint();
        s.sigstore = Some(SigstoreClaims {
            issuer: v.issuer().to_owned(),
            subject: v.subject().to_owned(),
            log_index: v.log_index(),
            integrated_time: v.integrated_time(),
        });
    }
    Some(v)
}
