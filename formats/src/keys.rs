//! Public keys as a trust root lists them (formats §1), validated when they are loaded: a key id
//! of the agreed shape, a known algorithm, canonical key material that is not weak.

use crate::timestamp::Timestamp;
use airlock_core::digest::sha256;
use airlock_core::ed25519::{KeyError, PublicKey};
use base64::Engine as _;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;

/// A key id: `[a-z0-9][a-z0-9._-]{0,63}`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(transparent)]
pub struct KeyId(String);

impl KeyId {
    /// Validates a key id.
    pub fn new(s: &str) -> Result<Self, crate::FormatError> {
        let b = s.as_bytes();
        let first_ok = b
            .first()
            .is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit());
        let rest_ok = b.iter().all(|c| {
            c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, b'.' | b'_' | b'-')
        });
        if first_ok && rest_ok && b.len() <= 64 {
            Ok(Self(s.to_owned()))
        } else {
            Err(format!("{s:?} is not a valid key id ([a-z0-9][a-z0-9._-]{{0,63}})").into())
        }
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for KeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for KeyId {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        KeyId::new(&s).map_err(serde::de::Error::custom)
    }
}

/// Most Fulcio extensions one `sigstore` key may pin.
pub const MAX_SIGSTORE_EXTENSIONS: usize = 32;

/// A key entry exactly as written in a trust root (formats §1, §8.1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyEntry {
    /// The key's id.
    pub key_id: KeyId,
    /// `Ed25519`, `minisign`, `HMAC-SHA256` or `sigstore`.
    pub algorithm: String,
    /// Base64 of the 32 raw bytes (Ed25519) or the minisign public key line (minisign). For
    /// `HMAC-SHA256`, which has no public half, the hex `secret_sha256` (written under that name);
    /// empty for `sigstore`.
    pub public_key: String,
    /// The pinned signer of a `sigstore` key (formats §9.1); None for the others.
    pub identity: Option<SigstoreIdentity>,
    /// Start of the validity window.
    pub not_before: Option<Timestamp>,
    /// End of the validity window.
    pub not_after: Option<Timestamp>,
}

/// The algorithm name of HMAC keys (formats §8.1).
pub const HMAC_SHA256: &str = "HMAC-SHA256";

/// The algorithm name of keys pinning a Sigstore identity (formats §9.1).
pub const SIGSTORE: &str = "sigstore";

#[derive(Serialize, Deserialize)]
struct RawKeyEntry {
    key_id: KeyId,
    algorithm: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    public_key: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    secret_sha256: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    identity: Option<SigstoreIdentity>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    not_before: Option<Timestamp>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    not_after: Option<Timestamp>,
}

impl Serialize for KeyEntry {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let hmac = self.algorithm == HMAC_SHA256;
        RawKeyEntry {
            key_id: self.key_id.clone(),
            algorithm: self.algorithm.clone(),
            public_key: (!hmac && !self.public_key.is_empty()).then(|| self.public_key.clone()),
            secret_sha256: hmac.then(|| self.public_key.clone()),
            identity: self.identity.clone(),
            not_before: self.not_before,
            not_after: self.not_after,
        }
        .serialize(s)
    }
}

impl<'de> Deserialize<'de> for KeyEntry {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use serde::de::Error;
        let r = RawKeyEntry::deserialize(d)?;
        let sigstore = r.algorithm == SIGSTORE;
        let public_key = match (r.algorithm == HMAC_SHA256, r.public_key, r.secret_sha256) {
            (true, None, Some(h)) | (false, Some(h), None) => h,
            // A sigstore key is pinned by its identity alone (formats §9.1).
            (false, None, None) if sigstore => String::new(),
            (true, _, _) => {
                return Err(D::Error::custom(format!(
                    "key {}: an HMAC-SHA256 key has a secret_sha256 and no public_key",
                    r.key_id
                )))
            }
            (false, _, _) => {
                return Err(D::Error::custom(format!(
                    "key {}: a public key has a public_key and no secret_sha256",
                    r.key_id
                )))
            }
        };
        Ok(Self {
            key_id: r.key_id,
            algorithm: r.algorithm,
            public_key,
            identity: r.identity,
            not_before: r.not_before,
            not_after: r.not_after,
        })
    }
}

/// A Sigstore signer pinned by identity (formats §9.1): the certificate's OIDC issuer exactly, its
/// SAN by glob, and Fulcio extensions (OID → glob).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SigstoreIdentity {
    /// Must equal the certificate's OIDC issuer extension.
    pub issuer: String,
    /// Glob (`*` the only special character) over the certificate's SAN (URI or email).
    pub subject: String,
    /// Fulcio extension OID (dotted) → glob over its value.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub extensions: BTreeMap<String, String>,
}

impl SigstoreIdentity {
    fn check(&self, id: &KeyId) -> Result<(), crate::FormatError> {
        if self.issuer.is_empty() || self.subject.is_empty() {
            return Err(format!("key {id}: identity issuer and subject must not be empty").into());
        }
        if self.extensions.len() > MAX_SIGSTORE_EXTENSIONS {
            return Err(format!(
                "key {id}: more than {MAX_SIGSTORE_EXTENSIONS} identity extensions"
            )
            .into());
        }
        for oid in self.extensions.keys() {
            let arcs: Vec<&str> = oid.split('.').collect();
            if arcs.len() < 2
                || arcs
                    .iter()
                    .any(|a| a.is_empty() || a.len() > 9 || !a.bytes().all(|c| c.is_ascii_digit()))
            {
                return Err(
                    format!("key {id}: identity extension {oid:?} is not a dotted OID").into(),
                );
            }
        }
        Ok(())
    }

    /// What thresholds count for this identity: SHA-256 over the pin, domain-separated, so two
    /// entries pinning the same identity are one signer.
    fn digest(&self) -> [u8; 32] {
        let mut h = airlock_core::digest::Sha256::new();
        h.update(b"airlock sigstore identity v1\0");
        for part in [&self.issuer, &self.subject] {
            h.update(&(part.len() as u64).to_be_bytes());
            h.update(part.as_bytes());
        }
        for (oid, glob) in &self.extensions {
            for part in [oid, glob] {
                h.update(&(part.len() as u64).to_be_bytes());
                h.update(part.as_bytes());
            }
        }
        h.finalize()
    }
}

/// What a key signs with.
#[derive(Debug, Clone)]
pub enum KeyMaterial {
    /// DSSE envelopes.
    Ed25519(PublicKey),
    /// `.minisig` files; `key_num` is minisign's 8-byte key id.
    Minisign {
        /// The same Ed25519 key, validated.
        ed25519: PublicKey,
        /// minisign's key number, which selects the key for a signature.
        key_num: [u8; 8],
        /// The key as minisign-verify takes it.
        minisign: minisign_verify::PublicKey,
    },
    /// HMAC-SHA256 (formats §8.1): only the SHA-256 of the secret, which pins the secret held in
    /// the appliance's vault. Entries with the same digest are one signer.
    Hmac {
        /// SHA-256 of the secret's bytes.
        secret_sha256: [u8; 32],
    },
    /// Sigstore bundles whose verified certificate matches `identity` (formats §9).
    Sigstore {
        /// The pin.
        identity: SigstoreIdentity,
        /// [`SigstoreIdentity::digest`]: what thresholds count.
        counted_as: [u8; 32],
    },
}

/// Longest HMAC key window: quarterly rotation plus a 31-day overlap (formats §8.8).
pub const MAX_HMAC_WINDOW_SECONDS: i64 = 123 * 86_400;

/// A validated key.
#[derive(Debug, Clone)]
pub struct Key {
    /// Its id.
    pub id: KeyId,
    /// Its material.
    pub material: KeyMaterial,
    /// Validity window start.
    pub not_before: Option<Timestamp>,
    /// Validity window end.
    pub not_after: Option<Timestamp>,
}

fn key_problem(e: KeyError) -> &'static str {
    match e {
        KeyError::NotAPoint => "is not an Ed25519 curve point",
        KeyError::NonCanonical => "is not canonically encoded",
        KeyError::Weak => "is a weak (small-order) key that would accept forged signatures",
    }
}

/// Decodes base64 in the standard alphabet, padded or not, or in the URL-safe alphabet.
pub fn decode_base64(s: &str) -> Option<Vec<u8>> {
    use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
    [STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD]
        .iter()
        .find_map(|e| e.decode(s).ok())
}

/// Encodes bytes as standard padded base64.
pub fn encode_base64(b: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(b)
}

impl Key {
    /// Validates a key entry.
    pub fn from_entry(e: &KeyEntry) -> Result<Self, crate::FormatError> {
        let id = &e.key_id;
        if e.identity.is_some() && e.algorithm != SIGSTORE {
            return Err(format!("key {id}: only a sigstore key has an identity").into());
        }
        let material = match e.algorithm.as_str() {
            SIGSTORE => {
                let identity = e
                    .identity
                    .clone()
                    .ok_or_else(|| format!("key {id}: a sigstore key needs an identity"))?;
                if !e.public_key.is_empty() {
                    return Err(format!("key {id}: a sigstore key has no public_key").into());
                }
                identity.check(id)?;
                KeyMaterial::Sigstore {
                    counted_as: identity.digest(),
                    identity,
                }
            }
            "Ed25519" => {
                let raw: [u8; 32] = decode_base64(&e.public_key)
                    .and_then(|v| v.try_into().ok())
                    .ok_or_else(|| format!("key {id}: public_key is not base64 of 32 bytes"))?;
                let pk = PublicKey::from_bytes(&raw)
                    .map_err(|err| format!("key {id}: public key {}", key_problem(err)))?;
                KeyMaterial::Ed25519(pk)
            }
            "minisign" => {
                let bin = decode_base64(e.public_key.trim())
                    .filter(|b| b.len() == 42 && b.starts_with(b"Ed"))
                    .ok_or_else(|| {
                        format!("key {id}: public_key is not a minisign Ed25519 public key")
                    })?;
                let mut key_num = [0u8; 8];
                key_num.copy_from_slice(&bin[2..10]);
                let mut raw = [0u8; 32];
                raw.copy_from_slice(&bin[10..42]);
                let ed25519 = PublicKey::from_bytes(&raw)
                    .map_err(|err| format!("key {id}: minisign key {}", key_problem(err)))?;
                let minisign = minisign_verify::PublicKey::from_base64(e.public_key.trim())
                    .map_err(|err| format!("key {id}: minisign public key: {err}"))?;
                KeyMaterial::Minisign {
                    ed25519,
                    key_num,
                    minisign,
                }
            }
            HMAC_SHA256 => {
                let secret_sha256 = airlock_core::hex::decode::<32>(e.public_key.as_bytes())
                    .map_err(|_| {
                        format!("key {id}: secret_sha256 is not 64 lowercase hex digits")
                    })?;
                let (Some(nb), Some(na)) = (e.not_before, e.not_after) else {
                    return Err(format!(
                        "key {id}: an HMAC-SHA256 key must have not_before and not_after"
                    ).into());
                };
                if na.unix() - nb.unix() > MAX_HMAC_WINDOW_SECONDS {
                    return Err(format!(
                        "key {id}: an HMAC-SHA256 key's window is longer than 123 days"
                    ).into());
                }
                KeyMaterial::Hmac { secret_sha256 }
            }
            other => {
                return Err(format!(
                "key {id}: algorithm {other:?} is not supported (Ed25519, minisign, HMAC-SHA256 or sigstore)"
            ).into())
            }
        };
        if let (Some(nb), Some(na)) = (e.not_before, e.not_after) {
            if na <= nb {
                return Err(format!("key {id}: not_after is not after not_before").into());
            }
        }
        Ok(Self {
            id: id.clone(),
            material,
            not_before: e.not_before,
            not_after: e.not_after,
        })
    }

    /// The raw Ed25519 key (for an HMAC key, the secret's SHA-256; for a `sigstore` key, the
    /// digest of its identity pin): what thresholds count, revocations reach and fingerprints hash.
    pub fn raw(&self) -> &[u8; 32] {
        match &self.material {
            KeyMaterial::Ed25519(pk) => pk.as_bytes(),
            KeyMaterial::Minisign { ed25519, .. } => ed25519.as_bytes(),
            KeyMaterial::Hmac { secret_sha256 } => secret_sha256,
            KeyMaterial::Sigstore { counted_as, .. } => counted_as,
        }
    }

    /// Whether this is an HMAC-SHA256 key.
    pub fn is_hmac(&self) -> bool {
        matches!(self.material, KeyMaterial::Hmac { .. })
    }

    /// `sha256:` + hex SHA-256 of the raw key.
    pub fn fingerprint(&self) -> String {
        fingerprint(self.raw())
    }

    /// Whether `now` lies in the key's validity window.
    pub fn valid_at(&self, now: Timestamp) -> bool {
        self.not_before.is_none_or(|nb| now >= nb) && self.not_after.is_none_or(|na| now < na)
    }
}

/// `sha256:` + hex SHA-256 of raw key bytes.
pub fn fingerprint(raw: &[u8; 32]) -> String {
    format!("sha256:{}", hex(&sha256(raw)))
}

/// Lowercase hex of bytes.
pub fn hex(bytes: &[u8]) -> String {
    let mut out = vec![0u8; bytes.len() * 2];
    airlock_core::hex::encode(bytes, &mut out)
        .map(str::to_owned)
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(alg: &str, pk: &str) -> KeyEntry {
        KeyEntry {
            key_id: KeyId::new("k").unwrap(),
            algorithm: alg.into(),
            public_key: pk.into(),
            identity: None,
            not_before: None,
            not_after: None,
        }
    }

    #[test]
    fn key_ids() {
        assert!(KeyId::new("cavra-go-release-2026-q2").is_ok());
        for bad in ["", "Root", "-a", "a b", "a/b", &"a".repeat(65)] {
            assert!(KeyId::new(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn rejects_weak_and_unknown_keys() {
        let weak = encode_base64(&{
            let mut k = [0u8; 32];
            k[0] = 1;
            k
        });
        assert!(Key::from_entry(&entry("Ed25519", &weak))
            .unwrap_err()
            .to_string()
            .contains("weak"));
        assert!(Key::from_entry(&entry("RSA", &weak)).is_err());
        assert!(Key::from_entry(&entry("Ed25519", "AAAA")).is_err());
        // minisign's own test key.
        let k = Key::from_entry(&entry(
            "minisign",
            "RWQf6LRCGA9i53mlYecO4IzT51TGPpvWucNSCh1CBM0QTaLn73Y7GFO3",
        ))
        .unwrap();
        assert!(k.fingerprint().starts_with("sha256:"));
    }
}
