//! Establishing the revocations in force (formats §4): the newest valid list offered, signed by
//! the `revocation` role's threshold; older than one already seen, or absent after one was
//! accepted, is a rollback; expired rejects everything.

use super::root::TrustedRoot;
use super::signatures::{count_dsse, RevokedKeys, Window};
use super::Candidate;
use crate::document::revocations::Revocations;
use crate::reason::{Code, Reason};
use crate::timestamp::Timestamp;
use airlock_core::digest::Sha256Digest;
use std::collections::BTreeSet;

/// The revocations in force. Only [`establish`] makes one (and, for a bundle already rejected,
/// [`EffectiveRevocations::unestablished`]): no `Default`, no public constructor, private fields.
///
/// ```compile_fail,E0599
/// // "Nothing revoked" cannot be made up outside verification.
/// let _ = <airlock_verifier::trust::revocations::EffectiveRevocations>::default();
/// ```
///
/// ```compile_fail,E0451
/// // Nor by hand (this literal compiles if the fields are public).
/// use airlock_verifier::trust::revocations::EffectiveRevocations;
/// use airlock_verifier::trust::signatures::RevokedKeys;
/// let _ = EffectiveRevocations {
///     list: None,
///     keys: RevokedKeys::default(),
///     versions: Default::default(),
///     artifacts: Default::default(),
/// };
/// ```
///
/// ```
/// // The same paths compile; only reading one is public.
/// use airlock_verifier::trust::revocations::EffectiveRevocations;
/// use airlock_verifier::trust::signatures::RevokedKeys;
/// let _ = RevokedKeys::default();
/// fn none_listed(r: &EffectiveRevocations) -> bool {
///     r.list().is_none()
/// }
/// ```
#[derive(Debug, Clone)]
pub struct EffectiveRevocations {
    list: Option<(Revocations, Vec<u8>)>,
    keys: RevokedKeys,
    versions: BTreeSet<String>,
    artifacts: BTreeSet<Sha256Digest>,
}

impl EffectiveRevocations {
    /// No list: what a fresh appliance is under when none was offered ([`establish`]).
    fn none() -> Self {
        Self {
            list: None,
            keys: RevokedKeys::default(),
            versions: BTreeSet::new(),
            artifacts: BTreeSet::new(),
        }
    }

    /// What [`crate::policy::assess`] checks the rest of a bundle against when no revocations
    /// could be established (no trust root in force, or the lists offered were refused):
    /// nothing revoked. It is called only after a reason for that failure was recorded, so the
    /// bundle is rejected whatever else is found; the other checks run on to list every problem.
    pub(crate) fn unestablished() -> Self {
        Self::none()
    }

    /// The list in force and its file bytes (None when no list exists yet).
    pub fn list(&self) -> Option<&(Revocations, Vec<u8>)> {
        self.list.as_ref()
    }

    /// Revoked keys, by id and by raw key.
    pub fn keys(&self) -> &RevokedKeys {
        &self.keys
    }

    /// Whether release `version` is listed as affected.
    pub fn version_revoked(&self, version: &str) -> bool {
        self.versions.contains(version)
    }

    /// Whether `digest` is a revoked artifact.
    pub fn artifact_revoked(&self, digest: &Sha256Digest) -> bool {
        self.artifacts.contains(digest)
    }
}

/// Picks and verifies the newest list.
pub fn establish(
    root: &TrustedRoot,
    candidates: &[Candidate],
    highest_seen: u64,
    now: Timestamp,
) -> Result<EffectiveRevocations, Vec<Reason>> {
    let r = root.root();
    let threshold = r.role("revocation").map_or(usize::MAX, |x| x.threshold);
    let mut reasons = Vec::new();
    let mut valid: Vec<(Revocations, &Candidate)> = Vec::new();
    for c in candidates {
        let list = match Revocations::parse(&c.bytes) {
            Ok(l) => l,
            Err(e) => {
                reasons.push(Reason::new(
                    Code::RevocationsInvalid,
                    format!("{}: {e}", c.source),
                ));
                continue;
            }
        };
        let what = c.source.clone();
        let count = count_dsse(
            &list.envelope,
            r,
            "revocation",
            Window::Enforce(now),
            &RevokedKeys::default(),
            &what,
        );
        if !count.meets(threshold) {
            reasons.push(Reason::new(
                Code::RevocationsInvalid,
                format!("{what} is not signed by the revocation role's threshold"),
            ));
            reasons.extend(count.shortfall(threshold, &what));
            continue;
        }
        valid.push((list, c));
    }
    for (a, ca) in &valid {
        for (b, cb) in &valid {
            if a.version() == b.version() && a.envelope.payload != b.envelope.payload {
                reasons.push(Reason::new(
                    Code::RevocationsInvalid,
                    format!(
                        "{} and {} carry different lists with version {}",
                        ca.source,
                        cb.source,
                        a.version()
                    ),
                ));
            }
        }
    }
    if !reasons.is_empty() {
        reasons.dedup();
        return Err(reasons);
    }
    let Some((newest, source)) = valid.into_iter().max_by_key(|(l, _)| l.version()) else {
        if highest_seen > 0 {
            return Err(vec![Reason::new(
                Code::RevocationsRollback,
                format!("no revocation list was presented, but this appliance already accepted version {highest_seen}"),
            )]);
        }
        return Ok(EffectiveRevocations::none());
    };
    if newest.version() < highest_seen {
        reasons.push(Reason::new(
            Code::RevocationsRollback,
            format!(
                "the newest revocation list presented is version {}, but this appliance already accepted version {highest_seen}",
                newest.version()
            ),
        ));
    }
    if newest.payload.expires <= now {
        reasons.push(Reason::new(
            Code::RevocationsExpired,
            format!(
                "revocation list version {} expired at {}",
                newest.version(),
                newest.payload.expires
            ),
        ));
    }
    if !reasons.is_empty() {
        return Err(reasons);
    }
    let mut keys = RevokedKeys::default();
    let mut versions = BTreeSet::new();
    for k in &newest.payload.revoked_keys {
        keys.raw
            .extend(root.raw_keys_ever_named(&k.key_id).copied());
        keys.ids.insert(k.key_id.clone());
        versions.extend(k.affected_versions.iter().cloned());
    }
    let artifacts = newest.artifact_digests.iter().copied().collect();
    Ok(EffectiveRevocations {
        list: Some((newest, source.bytes.clone())),
        keys,
        versions,
        artifacts,
    })
}
