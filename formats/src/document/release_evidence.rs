//! `release-evidence.json` (formats §5.3) and release versions.

use crate::json;
use crate::keys::KeyId;
use crate::timestamp::Timestamp;
use serde::{Deserialize, Serialize};
use std::borrow::Cow;

/// A release version: a semantic version written with a leading `v`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct ReleaseVersion(semver::Version);

impl ReleaseVersion {
    /// Parses `v1.2.3` (pre-release and build metadata allowed, per SemVer 2.0).
    pub fn parse(s: &str) -> Result<Self, crate::FormatError> {
        let bare = s
            .strip_prefix('v')
            .ok_or_else(|| format!("version {s:?} does not start with `v`"))?;
        semver::Version::parse(bare)
            .map(Self)
            .map_err(|e| format!("version {s:?} is not a semantic version: {e}").into())
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

/// An artifact as the evidence lists it, its strings borrowed from the file where JSON escapes
/// allow (three `String`s per artifact would be more than the file for 100 000 artifacts).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename = "EvidenceArtifact")]
pub struct ListedArtifact<'a> {
    /// Canonical name.
    #[serde(borrow)]
    pub name: Cow<'a, str>,
    /// Lowercase hex SHA-256.
    #[serde(borrow)]
    pub sha256: Cow<'a, str>,
    /// Size in bytes.
    pub size: u64,
}

/// What [`ReleaseEvidence::parse_listed`] reads: [`ReleaseEvidence`], field for field and by the
/// same name (so every error reads the same), the artifacts borrowed.
#[derive(Deserialize)]
#[serde(rename = "ReleaseEvidence")]
struct Listed<'a> {
    #[serde(rename = "_type")]
    type_: String,
    package: String,
    version: String,
    commit: String,
    #[serde(rename = "ref")]
    ref_: String,
    event: String,
    key_id: KeyId,
    created_at: Timestamp,
    #[serde(borrow)]
    artifacts: Vec<ListedArtifact<'a>>,
}

/// The evidence `_type`.
pub const EVIDENCE_TYPE: &str = "cavra-release-evidence";

impl ReleaseEvidence {
    /// Parses and checks the document's own shape.
    pub fn parse(bytes: &[u8]) -> Result<(Self, ReleaseVersion), crate::FormatError> {
        let (mut e, artifacts, version) = Self::parse_listed(bytes)?;
        e.artifacts = artifacts
            .into_iter()
            .map(|a| EvidenceArtifact {
                name: a.name.into_owned(),
                sha256: a.sha256.into_owned(),
                size: a.size,
            })
            .collect();
        Ok((e, version))
    }

    /// [`ReleaseEvidence::parse`], the artifacts borrowed from `bytes` and returned beside the
    /// document (whose `artifacts` is empty).
    pub fn parse_listed(
        bytes: &[u8],
    ) -> Result<(Self, Vec<ListedArtifact<'_>>, ReleaseVersion), crate::FormatError> {
        let l: Listed<'_> = json::parse_borrowed(bytes, json::MAX_LISTING_DOCUMENT_BYTES)
            .map_err(|e| e.to_string())?;
        let e = ReleaseEvidence {
            type_: l.type_,
            package: l.package,
            version: l.version,
            commit: l.commit,
            ref_: l.ref_,
            event: l.event,
            key_id: l.key_id,
            created_at: l.created_at,
            artifacts: Vec::new(),
        };
        if e.type_ != EVIDENCE_TYPE {
            return Err(format!("_type is {:?}, not {EVIDENCE_TYPE:?}", e.type_).into());
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
            return Err(format!("commit {:?} is not 40 lowercase hex digits", e.commit).into());
        }
        if e.ref_.is_empty() || e.event.is_empty() {
            return Err("ref or event is empty".into());
        }
        Ok((e, l.artifacts, version))
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
