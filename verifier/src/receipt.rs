//! Promotion receipts (formats §6): a DSSE envelope signed by the appliance key, written to
//! `MEDIA/receipts/`.

use crate::reason::Reason;
use crate::timestamp::Timestamp;
use crate::verdict::Verdict;
use serde::{Deserialize, Serialize};

/// The receipt payload's `_type`.
pub const RECEIPT_TYPE: &str = "cavra-promotion-receipt";

/// The bundle file a receipt is about.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BundleRef {
    /// MEDIA-relative path.
    pub file: String,
    /// SHA-256 of the whole file as read (null if it could not be read).
    pub sha256: Option<String>,
    /// Size in bytes.
    pub size: u64,
}

/// One artifact.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ArtifactRef {
    /// Canonical name.
    pub name: String,
    /// SHA-256, hex.
    pub sha256: String,
    /// Size in bytes.
    pub size: u64,
}

/// The trust root or revocation list a verdict was reached under (nulls when there was none).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DocumentRef {
    /// Its version.
    pub version: Option<u64>,
    /// SHA-256 of its envelope file.
    pub sha256: Option<String>,
}

/// A key whose signature counted.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct SignerRef {
    /// Key id.
    pub key_id: String,
    /// `sha256:` fingerprint of the raw key.
    pub fingerprint: String,
    /// The role it signed for (`release`, `provenance`, `revocation`, `root`).
    pub role: String,
}

/// The appliance that signed the receipt.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApplianceRef {
    /// The appliance key id.
    pub key_id: String,
    /// Airlock's version.
    pub software_version: String,
}

/// Where the evidence record for this verification sits in the appliance's log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EvidenceRef {
    /// Sequence number of the record.
    pub seq: u64,
    /// Hex SHA-256 of the previous record line (64 zeros for the first).
    pub prev: String,
}

/// Provenance facts named in the receipt (issue: CAVRA package rules).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProvenanceRef {
    /// The trusted builder id.
    pub builder_id: String,
    /// Source repository.
    pub source_repository: String,
    /// Source ref.
    #[serde(rename = "ref")]
    pub ref_: String,
    /// Resolved commit.
    pub commit: String,
}

/// The receipt payload.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReceiptPayload {
    /// [`RECEIPT_TYPE`].
    #[serde(rename = "_type")]
    pub type_: String,
    /// promote / reject.
    pub verdict: Verdict,
    /// Empty on promote.
    pub reasons: Vec<Reason>,
    /// The bundle file.
    pub bundle: BundleRef,
    /// Package, when known.
    pub package: Option<String>,
    /// Version, when known.
    pub version: Option<String>,
    /// Artifacts (name, digest, size).
    pub artifacts: Vec<ArtifactRef>,
    /// Trust root used.
    pub trust_root: DocumentRef,
    /// Revocation list used.
    pub revocations: DocumentRef,
    /// Keys whose signatures counted.
    pub signers: Vec<SignerRef>,
    /// When the verification ran (system clock).
    pub verified_at: Timestamp,
    /// The appliance.
    pub appliance: ApplianceRef,
    /// The evidence record.
    pub evidence: EvidenceRef,
    /// SHA-256 of release-evidence.json, when present.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub release_evidence_sha256: Option<String>,
    /// Provenance builder and source, when verified.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provenance: Option<ProvenanceRef>,
}
