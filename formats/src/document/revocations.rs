//! Revocation lists (formats §4): `revocations.json` at the media root or in a bundle.

use super::dsse::{payload_type, Envelope};
use crate::json;
use crate::keys::KeyId;
use crate::timestamp::Timestamp;
use airlock_core::digest::{sha256, Sha256Digest};
use serde::{Deserialize, Serialize};

/// Most entries in either list.
pub const MAX_ENTRIES: usize = 10_000;

/// A revoked key with the seven pieces of emergency revocation evidence.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RevokedKey {
    /// Revoked key id.
    pub key_id: KeyId,
    /// Revocation timestamp.
    pub revoked_at: Timestamp,
    /// Affected release versions.
    pub affected_versions: Vec<String>,
    /// Replacement key id.
    pub replacement_key_id: KeyId,
    /// Operator approver.
    pub approver: String,
    /// Customer advisory reference.
    pub advisory: String,
    /// SHA-256 of the new signed release evidence.
    pub replacement_release_evidence_sha256: String,
    /// Why (optional free text).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// A revoked artifact digest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RevokedArtifact {
    /// Lowercase hex SHA-256.
    pub sha256: String,
    /// Why.
    #[serde(default)]
    pub reason: String,
}

/// The payload as written.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RevocationsPayload {
    /// `cavra-revocations`.
    #[serde(rename = "_type")]
    pub type_: String,
    /// Grows with each list.
    pub version: u64,
    /// When it was issued.
    pub issued_at: Timestamp,
    /// When it stops being valid (an expired list rejects everything).
    pub expires: Timestamp,
    /// Revoked keys.
    pub revoked_keys: Vec<RevokedKey>,
    /// Revoked artifact digests.
    pub revoked_artifacts: Vec<RevokedArtifact>,
}

/// A parsed, complete revocation list (not yet trusted).
#[derive(Debug, Clone)]
pub struct Revocations {
    /// The payload.
    pub payload: RevocationsPayload,
    /// The envelope.
    pub envelope: Envelope,
    /// Revoked artifact digests, decoded.
    pub artifact_digests: Vec<Sha256Digest>,
    /// SHA-256 of the envelope file.
    pub file_sha256: Sha256Digest,
}

fn decode_digest(s: &str) -> Option<Sha256Digest> {
    airlock_core::hex::decode::<32>(s.as_bytes()).ok()
}

impl Revocations {
    /// Parses a revocation list envelope and checks every entry carries its evidence.
    pub fn parse(bytes: &[u8]) -> Result<Self, crate::FormatError> {
        let envelope = Envelope::parse(bytes)?;
        if envelope.payload_type != payload_type::REVOCATIONS {
            return Err(format!(
                "payloadType is {:?}, not {:?}",
                envelope.payload_type,
                payload_type::REVOCATIONS
            )
            .into());
        }
        let payload: RevocationsPayload =
            json::parse(&envelope.payload).map_err(|e| format!("payload: {e}"))?;
        if payload.type_ != "cavra-revocations" {
            return Err(format!("_type is {:?}, not \"cavra-revocations\"", payload.type_).into());
        }
        if payload.version == 0 || payload.version > i64::MAX as u64 {
            return Err(format!("version {} is out of range", payload.version).into());
        }
        if payload.expires <= payload.issued_at {
            return Err("expires is not after issued_at".into());
        }
        if payload.revoked_keys.len() > MAX_ENTRIES || payload.revoked_artifacts.len() > MAX_ENTRIES
        {
            return Err(format!("more than {MAX_ENTRIES} entries").into());
        }
        for (i, k) in payload.revoked_keys.iter().enumerate() {
            let who = format!("revoked key entry {i} ({})", k.key_id);
            if k.affected_versions.is_empty() {
                return Err(format!("{who}: affected_versions is empty (emergency evidence: affected release versions)").into());
            }
            if k.approver.trim().is_empty() {
                return Err(format!(
                    "{who}: approver is empty (emergency evidence: operator approver)"
                )
                .into());
            }
            if k.advisory.trim().is_empty() {
                return Err(format!(
                    "{who}: advisory is empty (emergency evidence: customer advisory reference)"
                )
                .into());
            }
            if decode_digest(&k.replacement_release_evidence_sha256).is_none() {
                return Err(format!(
                    "{who}: replacement_release_evidence_sha256 is not 64 lowercase hex digits (emergency evidence: new signed release evidence)"
                ).into());
            }
            if k.replacement_key_id == k.key_id {
                return Err(format!("{who}: replacement_key_id is the revoked key itself").into());
            }
        }
        let artifact_digests = payload
            .revoked_artifacts
            .iter()
            .map(|a| {
                decode_digest(&a.sha256).ok_or_else(|| {
                    format!(
                        "revoked artifact {:?} is not a lowercase hex SHA-256",
                        a.sha256
                    )
                })
            })
            .collect::<Result<_, _>>()?;
        Ok(Self {
            payload,
            envelope,
            artifact_digests,
            file_sha256: sha256(bytes),
        })
    }

    /// The list's version.
    pub fn version(&self) -> u64 {
        self.payload.version
    }
}
