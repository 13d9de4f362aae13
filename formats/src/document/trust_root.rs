//! Trust roots (formats §3): `offline-trust-root-bootstrap.json` and `trust-root/<n>.json`.
//! Parsing checks internal consistency; signatures are `crate::trust::root`'s business.

use super::dsse::{payload_type, Envelope};
use super::governance_pins::{GovernancePolicy, Pins};
use crate::json;
use crate::keys::{Key, KeyEntry, KeyId, KeyMaterial};
use crate::timestamp::Timestamp;
use airlock_core::digest::{sha256, Sha256Digest};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

/// Most keys one trust root may list.
pub const MAX_KEYS: usize = 256;
/// The four roles every trust root defines.
pub const ROLES: [&str; 4] = ["root", "release", "provenance", "revocation"];
/// The roles of HMAC keys (formats §8.1), optional.
pub const HMAC_ROLES: [&str; 2] = ["runner-auth", "governance-evidence"];

/// A role as written.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoleEntry {
    /// The keys that may sign for the role.
    pub key_ids: Vec<KeyId>,
    /// How many distinct keys must sign.
    pub threshold: u64,
}

/// A trusted builder (formats §5.4).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Builder {
    /// `runDetails.builder.id` it must carry, exactly.
    pub id: String,
    /// The only source repository it may build.
    pub source_repository: String,
    /// Glob (`*` only) the workflow ref must match.
    pub ref_pattern: String,
}

/// The payload as written.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrustRootPayload {
    /// `cavra-trust-root`.
    #[serde(rename = "_type")]
    pub type_: String,
    /// Grows by one with each rotation.
    pub version: u64,
    /// When it was issued.
    pub issued_at: Timestamp,
    /// When it stops being trusted.
    pub expires: Timestamp,
    /// The keys.
    pub keys: Vec<KeyEntry>,
    /// Roles by name.
    pub roles: BTreeMap<String, RoleEntry>,
    /// Trusted builders.
    #[serde(default)]
    pub builders: Vec<Builder>,
    /// Release-governance pins (formats §8.1); with it, every bundle needs governance evidence.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub governance: Option<GovernancePolicy>,
    /// The Sigstore `trusted_root.json` object (formats §9.1): the only source of Fulcio, Rekor,
    /// CT and TSA keys for `sigstore` keys.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sigstore: Option<serde_json::Value>,
}

/// A role with its keys resolved.
#[derive(Debug, Clone)]
pub struct Role {
    /// Key ids, as listed.
    pub key_ids: Vec<KeyId>,
    /// Threshold (≥ 1, ≤ distinct raw keys listed).
    pub threshold: usize,
}

/// A parsed, internally consistent trust root (not yet trusted).
#[derive(Debug, Clone)]
pub struct TrustRoot {
    /// The payload.
    pub payload: TrustRootPayload,
    /// The exact payload bytes (two copies of one version must match on these).
    pub payload_bytes: Vec<u8>,
    /// The envelope.
    pub envelope: Envelope,
    /// SHA-256 of the envelope file.
    pub file_sha256: Sha256Digest,
    /// Validated keys by id.
    pub keys: BTreeMap<KeyId, Key>,
    /// Roles by name.
    pub roles: BTreeMap<String, Role>,
    /// The validated `governance` object.
    pub governance: Option<Pins>,
    /// The `sigstore` trusted root as JSON text (verification checks it loads).
    pub sigstore: Option<String>,
}

impl TrustRoot {
    /// Parses and checks a trust root envelope file.
    pub fn parse(bytes: &[u8]) -> Result<Self, crate::FormatError> {
        let envelope = Envelope::parse(bytes)?;
        if envelope.payload_type != payload_type::TRUST_ROOT {
            return Err(format!(
                "payloadType is {:?}, not {:?}",
                envelope.payload_type,
                payload_type::TRUST_ROOT
            )
            .into());
        }
        let payload: TrustRootPayload =
            json::parse(&envelope.payload).map_err(|e| format!("payload: {e}"))?;
        if payload.type_ != "cavra-trust-root" {
            return Err(format!("_type is {:?}, not \"cavra-trust-root\"", payload.type_).into());
        }
        if payload.version == 0 || payload.version > i64::MAX as u64 {
            return Err(format!("version {} is out of range", payload.version).into());
        }
        if payload.expires <= payload.issued_at {
            return Err("expires is not after issued_at".into());
        }
        if payload.keys.len() > MAX_KEYS {
            return Err(format!(
                "{} keys, more than the limit of {MAX_KEYS}",
                payload.keys.len()
            )
            .into());
        }
        let mut keys = BTreeMap::new();
        for entry in &payload.keys {
            let key = Key::from_entry(entry)?;
            if keys.insert(entry.key_id.clone(), key).is_some() {
                return Err(format!("key id {} is listed twice", entry.key_id).into());
            }
        }
        let sigstore = sigstore_trusted_root(&payload, &keys)?;
        let mut roles = BTreeMap::new();
        let present_hmac_roles = HMAC_ROLES
            .into_iter()
            .filter(|n| payload.roles.contains_key(*n));
        for name in ROLES.into_iter().chain(present_hmac_roles) {
            let entry = payload
                .roles
                .get(name)
                .ok_or_else(|| format!("role {name:?} is missing"))?;
            let hmac_role = HMAC_ROLES.contains(&name);
            let mut distinct = BTreeSet::new();
            for id in &entry.key_ids {
                let key = keys
                    .get(id)
                    .ok_or_else(|| format!("role {name}: key id {id} is not among the keys"))?;
                if key.is_hmac() != hmac_role {
                    return Err(format!(
                        "role {name}: key {id} is {}; HMAC-SHA256 keys serve the runner-auth and governance-evidence roles and nothing else",
                        if key.is_hmac() { "an HMAC-SHA256 key" } else { "not an HMAC-SHA256 key" }
                    ).into());
                }
                if matches!(key.material, KeyMaterial::Sigstore { .. })
                    && !matches!(name, "release" | "provenance")
                {
                    return Err(format!(
                        "role {name}: key {id} is a sigstore key; those may sign only for release and provenance"
                    ).into());
                }
                distinct.insert(*key.raw());
            }
            if name == "governance-evidence" && entry.threshold != 1 {
                return Err("role governance-evidence: the threshold must be 1".into());
            }
            let threshold = usize::try_from(entry.threshold).unwrap_or(usize::MAX);
            if threshold == 0 || threshold > distinct.len() {
                return Err(format!(
                    "role {name}: threshold {} is not between 1 and its {} distinct keys",
                    entry.threshold,
                    distinct.len()
                )
                .into());
            }
            roles.insert(
                name.to_owned(),
                Role {
                    key_ids: entry.key_ids.clone(),
                    threshold,
                },
            );
        }
        for b in &payload.builders {
            if b.id.is_empty() || b.source_repository.is_empty() || b.ref_pattern.is_empty() {
                return Err("a builder has an empty id, source_repository or ref_pattern".into());
            }
        }
        let governance = match &payload.governance {
            None => None,
            Some(g) => {
                if !roles.contains_key("governance-evidence") {
                    return Err(
                        "a root with governance must define the governance-evidence role".into(),
                    );
                }
                Some(g.validate()?)
            }
        };
        Ok(Self {
            governance,
            payload_bytes: envelope.payload.clone(),
            payload,
            envelope,
            file_sha256: sha256(bytes),
            keys,
            roles,
            sigstore,
        })
    }

    /// The trust root's version.
    pub fn version(&self) -> u64 {
        self.payload.version
    }

    /// A role by name (all four exist once parsed).
    pub fn role(&self, name: &str) -> Option<&Role> {
        self.roles.get(name)
    }
}

/// The root's Sigstore trusted root; required when a `sigstore` key is listed. Whether it loads
/// (keys, logs, authorities) is checked by verification (`airlock_verifier::trust::root`).
fn sigstore_trusted_root(
    payload: &TrustRootPayload,
    keys: &BTreeMap<KeyId, Key>,
) -> Result<Option<String>, crate::FormatError> {
    let listed = keys
        .values()
        .any(|k| matches!(k.material, KeyMaterial::Sigstore { .. }));
    match &payload.sigstore {
        None if listed => Err(
            "a sigstore key is listed but the root carries no sigstore trusted root (formats §9.1)"
                .into(),
        ),
        None => Ok(None),
        Some(v) => {
            let text = serde_json::to_string(v).map_err(|e| format!("sigstore: {e}"))?;
            Ok(Some(text))
        }
    }
}
