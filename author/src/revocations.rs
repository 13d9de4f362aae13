//! Revocation lists (formats §4): drafts (unsigned payloads an operator adds entries to), signing
//! by the `revocation` role, and reporting. Every entry needs the seven pieces of emergency
//! revocation evidence of seed 000; the verifier's own parser checks each list written.

use super::keys::PrivateKey;
use airlock_formats::document::dsse::{self, payload_type};
use airlock_formats::document::revocations::{
    Revocations, RevocationsPayload, RevokedArtifact, RevokedKey,
};
use airlock_formats::document::trust_root::TrustRoot;
use airlock_formats::json;
use airlock_formats::keys::KeyId;
use airlock_formats::timestamp::Timestamp;
use airlock_verifier::trust::signatures::{count_dsse, RevokedKeys, Window};

/// The revocation list payload `_type`.
pub const REVOCATIONS_TYPE: &str = "cavra-revocations";

/// An empty draft of version `version`.
pub fn empty(version: u64, now: Timestamp) -> RevocationsPayload {
    RevocationsPayload {
        type_: REVOCATIONS_TYPE.into(),
        version,
        issued_at: now,
        expires: now.plus_seconds(30 * 86_400),
        revoked_keys: vec![],
        revoked_artifacts: vec![],
    }
}

/// The draft that follows a published list: its entries, version + 1.
pub fn next_draft(published: &[u8], now: Timestamp) -> Result<RevocationsPayload, String> {
    let l = Revocations::parse(published)?;
    let mut p = l.payload;
    p.version = p.version.checked_add(1).ok_or("version cannot grow")?;
    p.issued_at = now;
    Ok(p)
}

/// Reads a draft (an unsigned payload JSON).
pub fn read_draft(bytes: &[u8]) -> Result<RevocationsPayload, String> {
    let p: RevocationsPayload = json::parse(bytes).map_err(|e| format!("revocation draft: {e}"))?;
    if p.type_ != REVOCATIONS_TYPE {
        return Err(format!("_type is {:?}, not {REVOCATIONS_TYPE:?}", p.type_));
    }
    Ok(p)
}

/// The emergency revocation evidence for one key (seed 000, all seven required).
#[derive(Debug, Clone)]
pub struct KeyRevocation {
    /// Revoked key id.
    pub key_id: KeyId,
    /// Affected release versions.
    pub affected_versions: Vec<String>,
    /// Revocation timestamp.
    pub revoked_at: Timestamp,
    /// Replacement key id.
    pub replacement_key_id: KeyId,
    /// Operator approver.
    pub approver: String,
    /// SHA-256 (hex) of the new signed release evidence.
    pub replacement_release_evidence_sha256: String,
    /// Customer advisory reference.
    pub advisory: String,
    /// Free-text reason.
    pub reason: Option<String>,
}

/// Adds (or replaces, by key id) a key revocation, checking its evidence.
pub fn add_key(draft: &mut RevocationsPayload, r: KeyRevocation) -> Result<(), String> {
    let entry = RevokedKey {
        key_id: r.key_id,
        revoked_at: r.revoked_at,
        affected_versions: r.affected_versions,
        replacement_key_id: r.replacement_key_id,
        approver: r.approver,
        advisory: r.advisory,
        replacement_release_evidence_sha256: r.replacement_release_evidence_sha256,
        reason: r.reason,
    };
    for v in &entry.affected_versions {
        airlock_formats::document::release_evidence::ReleaseVersion::parse(v)?;
    }
    draft.revoked_keys.retain(|k| k.key_id != entry.key_id);
    draft.revoked_keys.push(entry);
    check(draft)
}

/// Adds a revoked artifact digest.
pub fn add_artifact(
    draft: &mut RevocationsPayload,
    sha256: &str,
    reason: &str,
) -> Result<(), String> {
    if airlock_core::hex::decode::<32>(sha256.as_bytes()).is_err() {
        return Err(format!("{sha256:?} is not a lowercase hex SHA-256"));
    }
    if !draft.revoked_artifacts.iter().any(|a| a.sha256 == sha256) {
        draft.revoked_artifacts.push(RevokedArtifact {
            sha256: sha256.into(),
            reason: reason.into(),
        });
    }
    check(draft)
}

/// Checks a payload the way the verifier will (through its own parser).
pub fn check(p: &RevocationsPayload) -> Result<(), String> {
    let env = dsse::sign(payload_type::REVOCATIONS, &dsse::to_pretty_json(p), &[]);
    Ok(Revocations::parse(&env).map(drop)?)
}

/// Signs a list. When `root` is given, each signer must be a `revocation`-role key of it and the
/// result must meet the role's threshold.
pub fn sign(
    p: &RevocationsPayload,
    signers: &[&PrivateKey],
    root: Option<&[u8]>,
) -> Result<Vec<u8>, String> {
    check(p)?;
    let pairs: Vec<_> = signers
        .iter()
        .map(|k| (k.key_id().as_str(), k.signing_key()))
        .collect();
    let env = dsse::sign(payload_type::REVOCATIONS, &dsse::to_pretty_json(p), &pairs);
    if let Some(root) = root {
        let (signed, threshold) = tally(&env, root)?;
        if signed.len() < threshold {
            return Err(format!(
                "the revocation role needs {threshold} distinct keys; these signers give {} ({})",
                signed.len(),
                signed.join(", ")
            ));
        }
    }
    Ok(env)
}

/// Which `revocation`-role keys of `root` signed `envelope`, and the threshold.
pub fn tally(envelope: &[u8], root: &[u8]) -> Result<(Vec<String>, usize), String> {
    let list = Revocations::parse(envelope)?;
    let root = TrustRoot::parse(root).map_err(|e| format!("trust root: {e}"))?;
    let count = count_dsse(
        &list.envelope,
        &root,
        "revocation",
        Window::Enforce(Timestamp::now()),
        &RevokedKeys::default(),
        "revocations",
    );
    if let Some(r) = count.invalid.first() {
        return Err(r.message.clone());
    }
    let threshold = root.role("revocation").map_or(usize::MAX, |r| r.threshold);
    Ok((
        count.counted.iter().map(|s| s.key_id.to_string()).collect(),
        threshold,
    ))
}

/// A human summary of a list (or draft payload).
pub fn describe(p: &RevocationsPayload) -> String {
    let mut out = format!(
        "revocation list version {} (issued {}, expires {})\n",
        p.version, p.issued_at, p.expires
    );
    for k in &p.revoked_keys {
        out.push_str(&format!(
            "  key {} revoked at {} (affects {}); replaced by {}; approved by {}; advisory {}; replacement evidence sha256 {}{}\n",
            k.key_id,
            k.revoked_at,
            k.affected_versions.join(", "),
            k.replacement_key_id,
            k.approver,
            k.advisory,
            k.replacement_release_evidence_sha256,
            k.reason.as_ref().map(|r| format!("; reason: {r}")).unwrap_or_default()
        ));
    }
    for a in &p.revoked_artifacts {
        out.push_str(&format!("  artifact sha256 {} ({})\n", a.sha256, a.reason));
    }
    if p.revoked_keys.is_empty() && p.revoked_artifacts.is_empty() {
        out.push_str("  (nothing revoked)\n");
    }
    out
}
