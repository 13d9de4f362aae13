//! `release-evidence.json` (formats §5.3) and release versions.

use crate::json;
use crate::keys::KeyId;
use crate::timestamp::Timestamp;
use serde::{Deserialize, Serialize};

/// A release version: a semantic version written with a leading `v`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct ReleaseVersion(semver::Version);

impl ReleaseVersion {
    /// Parses `v1.2.3` (pre-release and build metadata allowed, per SemVer 2.0).
    pub fn parse(s: &str) -> Result<Self, String> {
        let bare = s
            .strip_prefix('v')
            .ok_or_else(|| format!("version {s:?} does not start with `v`"))?;
        semver::Version::parse(bare)
            .map(Self)
            .map_err(|e| format!("version {s:?} is not a semantic version: {e}"))
    }
}

impl std::fmt::Display for ReleaseVersion {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "v{}", self.0)
    }
}

/// An artifact as the evidence lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EvidenceArtifact {
    /// Canonical name.
    pub name: String,
    /// Lowercase hex SHA-256.
    pub sha256: String,
    /// Size in bytes.
    pub size: u64,
}

/// The release evidence document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReleaseEvidence {
    /// `cavra-release-evidence`.
    #[serde(rename = "_type")]
    pub type_: String,
    /// Package name.
    pub package: String,
    /// Version, `v`-prefixed semver.
    pub version: String,
    /// Source commit (40 lowercase hex).
    pub commit: String,
    /// Source ref, e.g. `refs/tags/v0.1.0`.
    #[serde(rename = "ref")]
    pub ref_: String,
    /// CI event, e.g. `release`.
    pub event: String,
    /// The active release signing key id.
    pub key_id: KeyId,
    /// When it was written.
    pub created_at: Timestamp,
    /// The artifacts.
    pub artifacts: Vec<EvidenceArtifact>,
}

/// The evidence `_type`.
pub const EVIDENCE_TYPE: &str = "cavra-release-evidence";

impl ReleaseEvidence {
    /// Parses and checks the document's own shape.
    pub fn parse(bytes: &[u8]) -> Result<(Self, ReleaseVersion), String> {
        let e: ReleaseEvidence = json::parse_capped(bytes, json::MAX_LISTING_DOCUMENT_BYTES)
            .map_err(|e| e.to_string())?;
        if e.type_ != EVIDENCE_TYPE {
            return Err(format!("_type is {:?}, not {EVIDENCE_TYPE:?}", e.type_));
        }
        if e.package.is_empty() || e.package.chars().any(char::is_control) {
            return Err("package is empty or has control characters".into());
        }
        let version = ReleaseVersion::parse(&e.version)?;
        if e.commit.len() != 40
            || !e
                .commit
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        {
            return Err(format!(
                "commit {:?} is not 40 lowercase hex digits",
                e.commit
            ));
        }
        if e.ref_.is_empty() || e.event.is_empty() {
            return Err("ref or event is empty".into());
        }
        Ok((e, version))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_order_by_semver() {
        let v = |s| ReleaseVersion::parse(s).unwrap();
        assert!(v("v0.10.0") > v("v0.9.1"));
        assert!(v("v1.0.0") > v("v1.0.0-rc.1"));
        assert!(ReleaseVersion::parse("0.1.0").is_err());
        assert!(ReleaseVersion::parse("v01.0.0").is_err());
    }
}
