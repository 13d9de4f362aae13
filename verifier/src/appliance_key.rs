//! The appliance's own Ed25519 key, which signs receipts and evidence records.
//!
//! - `STATE/appliance-key.pem`: the secret, PKCS#8 v1 PEM (RFC 8410; `openssl pkey` reads it),
//!   generated from the OS CSPRNG (`getrandom`) on first use and written atomically with mode
//!   0600 *from creation* (the temp file is created with that mode; there is no window in which
//!   it is readable by others).
//! - `STATE/appliance-key.json`: the public half as a formats §1 key entry, key id
//!   `airlock-appliance-<first 16 hex of the fingerprint>`.
//!
//! The public key is always derived from the secret (RUSTSEC-2022-0093, adversarial #23): the
//! JSON file is output for others, never input for signing. Loading checks the secret file is a
//! regular file, owned by the state directory's owner, not readable or writable by group or others, and that the JSON
//! file (when present) names exactly the derived key; a disagreement is an error, not a repair.

use crate::atomic::{self, Storage, WriteError, MODE_PRIVATE, MODE_PUBLIC};
use crate::document::dsse;
use crate::keys::{encode_base64, fingerprint, hex, KeyEntry, KeyId};
use airlock_core::ed25519::{PublicKey, SIGNATURE_LEN};
use ed25519_dalek::pkcs8::DecodePrivateKey;
use ed25519_dalek::{Signer as _, SigningKey};
use std::fmt;
use std::io;
use std::os::unix::fs::MetadataExt as _;
use std::path::{Path, PathBuf};

/// File name of the secret key in the state directory.
pub const SECRET_FILE: &str = airlock_formats::layout::state::APPLIANCE_SECRET_KEY;
/// File name of the public key entry (state directory and media root).
pub const PUBLIC_FILE: &str = airlock_formats::layout::state::APPLIANCE_KEY;
/// Key id prefix.
pub const KEY_ID_PREFIX: &str = "airlock-appliance-";

/// DER of a PKCS#8 v1 Ed25519 private key up to the 32-byte seed: SEQUENCE { INTEGER 0,
/// AlgorithmIdentifier { 1.3.101.112 }, OCTET STRING { OCTET STRING (32) } }.
const PKCS8_V1_PREFIX: [u8; 16] = [
    0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20,
];

/// Why the appliance key could not be loaded or created.
#[derive(Debug)]
pub enum KeyFileError {
    /// Reading a key file failed.
    Io(PathBuf, io::Error),
    /// Writing a key file failed.
    Write(WriteError),
    /// The secret key file is readable or writable by others, or not ours, or not a regular file.
    Permissions(PathBuf, String),
    /// A key file is malformed or the files disagree.
    Invalid(PathBuf, String),
    /// The OS random number generator failed.
    Random(String),
}

impl fmt::Display for KeyFileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            KeyFileError::Io(p, e) => write!(f, "cannot read appliance key {}: {e}", p.display()),
            KeyFileError::Write(e) => write!(f, "cannot write appliance key: {e}"),
            KeyFileError::Permissions(p, m) => write!(
                f,
                "appliance secret key {} {m}; refusing to use it (it must be a regular file owned by this user with mode 0600)",
                p.display()
            ),
            KeyFileError::Invalid(p, m) => {
                write!(f, "appliance key file {} is invalid: {m}", p.display())
            }
            KeyFileError::Random(m) => write!(f, "cannot generate the appliance key: {m}"),
        }
    }
}

impl std::error::Error for KeyFileError {}

/// The appliance key: a signing key, its derived public key and id.
pub struct ApplianceKey {
    signing: SigningKey,
    public: PublicKey,
    key_id: KeyId,
}

impl fmt::Debug for ApplianceKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ApplianceKey")
            .field("key_id", &self.key_id)
            .field("fingerprint", &self.fingerprint())
            .finish_non_exhaustive()
    }
}

/// The key id for a raw public key: `airlock-appliance-` + first 16 hex of its fingerprint.
pub fn key_id_for(raw: &[u8; 32]) -> Result<KeyId, String> {
    let fp = hex(&airlock_core::digest::sha256(raw));
    KeyId::new(&format!(
        "{KEY_ID_PREFIX}{}",
        fp.get(..16).unwrap_or_default()
    ))
    .map_err(String::from)
}

impl ApplianceKey {
    /// From a signing key; the public key and id are derived from it.
    pub fn from_signing_key(signing: SigningKey) -> Result<Self, String> {
        let raw = signing.verifying_key().to_bytes();
        let public = PublicKey::from_bytes(&raw)
            .map_err(|e| format!("derived public key is unusable: {e:?}"))?;
        Ok(Self {
            key_id: key_id_for(&raw)?,
            signing,
            public,
        })
    }

    /// A fresh key from the OS CSPRNG.
    pub fn generate() -> Result<Self, KeyFileError> {
        let mut seed = [0u8; 32];
        getrandom::fill(&mut seed).map_err(|e| KeyFileError::Random(e.to_string()))?;
        let signing = SigningKey::from_bytes(&seed);
        wipe(&mut seed);
        Self::from_signing_key(signing).map_err(KeyFileError::Random)
    }

    /// The key id.
    pub fn key_id(&self) -> &KeyId {
        &self.key_id
    }

    /// The public key (derived from the secret).
    pub fn public(&self) -> &PublicKey {
        &self.public
    }

    /// `sha256:` fingerprint of the public key.
    pub fn fingerprint(&self) -> String {
        fingerprint(self.public.as_bytes())
    }

    /// The §1 key entry of the public half.
    pub fn entry(&self) -> KeyEntry {
        KeyEntry {
            key_id: self.key_id.clone(),
            algorithm: "Ed25519".into(),
            public_key: encode_base64(self.public.as_bytes()),
            identity: None,
            not_before: None,
            not_after: None,
        }
    }

    /// The bytes of `appliance-key.json`.
    pub fn entry_json(&self) -> Vec<u8> {
        dsse::to_pretty_json(&self.entry())
    }

    /// Signs `message` (Ed25519, RFC 8032).
    pub fn sign(&self, message: &[u8]) -> [u8; SIGNATURE_LEN] {
        self.signing.sign(message).to_bytes()
    }

    /// The signing key, for DSSE signing.
    pub fn signing_key(&self) -> &SigningKey {
        &self.signing
    }

    /// The secret as PKCS#8 v1 PEM (RFC 8410 §7: `OneAsymmetricKey` without the optional public
    /// key, which is derived anyway). Encoded here rather than by `pkcs8`'s encoder, which writes
    /// the v2 form with the public key that OpenSSL 3.0 and Python `cryptography` refuse.
    fn secret_pem(&self) -> Vec<u8> {
        let mut der = Vec::with_capacity(48);
        der.extend_from_slice(&PKCS8_V1_PREFIX);
        der.extend_from_slice(self.signing.as_bytes());
        let mut b64 = encode_base64(&der);
        wipe(&mut der);
        let mut out = Vec::with_capacity(128);
        out.extend_from_slice(b"-----BEGIN PRIVATE KEY-----\n");
        out.extend_from_slice(b64.as_bytes());
        out.extend_from_slice(b"\n-----END PRIVATE KEY-----\n");
        // The base64 text is secret too: overwrite it before it is freed.
        let mut bytes = std::mem::take(&mut b64).into_bytes();
        wipe(&mut bytes);
        out
    }

    /// Loads the key from `dir`, or generates and stores it when neither file exists. A public
    /// file without its secret is an error (the identity would silently change).
    pub fn load_or_create(storage: &dyn Storage, dir: &Path) -> Result<Self, KeyFileError> {
        let secret = dir.join(SECRET_FILE);
        match std::fs::symlink_metadata(&secret) {
            Ok(_) => return Self::load_and_publish(storage, dir),
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(KeyFileError::Io(secret, e)),
        }
        let public = dir.join(PUBLIC_FILE);
        if std::fs::symlink_metadata(&public).is_ok() {
            return Err(KeyFileError::Invalid(
                secret,
                format!(
                    "is missing while {} exists; refusing to generate a new appliance identity (restore the secret key or remove both files)",
                    public.display()
                ),
            ));
        }
        let key = Self::generate()?;
        let mut pem = key.secret_pem();
        let written = atomic::write_new(storage, dir, SECRET_FILE, &pem, MODE_PRIVATE);
        wipe(&mut pem);
        match written {
            Ok(_) => {}
            // Another run created it first: use that one.
            Err(e) if e.is_already_exists() => return Self::load_and_publish(storage, dir),
            Err(e) => return Err(KeyFileError::Write(e)),
        }
        key.publish(storage, dir)?;
        Ok(key)
    }

    fn load_and_publish(storage: &dyn Storage, dir: &Path) -> Result<Self, KeyFileError> {
        let key = Self::load(dir)?;
        if !dir.join(PUBLIC_FILE).exists() {
            key.publish(storage, dir)?;
        }
        Ok(key)
    }

    /// Writes `appliance-key.json` into `dir` unless present; an existing file must name exactly
    /// this key (checked).
    pub fn publish(&self, storage: &dyn Storage, dir: &Path) -> Result<(), KeyFileError> {
        match atomic::write_new(storage, dir, PUBLIC_FILE, &self.entry_json(), MODE_PUBLIC) {
            Ok(_) => Ok(()),
            Err(e) if e.is_already_exists() => self.check_public_file(&dir.join(PUBLIC_FILE)),
            Err(e) => Err(KeyFileError::Write(e)),
        }
    }

    /// Writes `MEDIA/appliance-key.json` if absent (interface: "writes the public key entry if
    /// absent"). An existing file is left as it is, whatever it holds (a stick may have met another
    /// appliance first); returns whether it was written.
    pub fn publish_to_media(
        &self,
        storage: &dyn Storage,
        media: &Path,
    ) -> Result<bool, KeyFileError> {
        match atomic::write_new(storage, media, PUBLIC_FILE, &self.entry_json(), MODE_PUBLIC) {
            Ok(_) => Ok(true),
            Err(e) if e.is_already_exists() => Ok(false),
            Err(e) => Err(KeyFileError::Write(e)),
        }
    }

    /// Checks that the key entry at `path` is this key.
    pub fn check_public_file(&self, path: &Path) -> Result<(), KeyFileError> {
        let bytes = crate::nofollow::read_capped(path, 64 * 1024)
            .map_err(|e| KeyFileError::Io(path.to_owned(), e))?;
        let entry: KeyEntry = crate::json::parse(&bytes)
            .map_err(|e| KeyFileError::Invalid(path.to_owned(), e.to_string()))?;
        let ours = self.entry();
        if entry.algorithm != ours.algorithm
            || entry.public_key != ours.public_key
            || entry.key_id != ours.key_id
        {
            return Err(KeyFileError::Invalid(
                path.to_owned(),
                format!(
                    "names key {} ({}), but the secret key is {} ({})",
                    entry.key_id, entry.public_key, ours.key_id, ours.public_key
                ),
            ));
        }
        Ok(())
    }

    /// Loads the key from `dir` (read-only): checks the secret file's type, owner and mode, and
    /// that `appliance-key.json`, when present, agrees with the derived public key.
    pub fn load(dir: &Path) -> Result<Self, KeyFileError> {
        let path = dir.join(SECRET_FILE);
        let meta =
            std::fs::symlink_metadata(&path).map_err(|e| KeyFileError::Io(path.clone(), e))?;
        if !meta.file_type().is_file() {
            return Err(KeyFileError::Permissions(
                path,
                "is not a regular file".into(),
            ));
        }
        if meta.mode() & 0o077 != 0 {
            return Err(KeyFileError::Permissions(
                path,
                format!(
                    "has mode {:04o}, open to group or others",
                    meta.mode() & 0o7777
                ),
            ));
        }
        let dir_uid = std::fs::metadata(dir)
            .map_err(|e| KeyFileError::Io(dir.to_owned(), e))?
            .uid();
        if meta.uid() != dir_uid {
            return Err(KeyFileError::Permissions(
                path,
                format!(
                    "is owned by uid {}, not by the state directory's owner (uid {dir_uid})",
                    meta.uid()
                ),
            ));
        }
        let mut bytes = crate::nofollow::read_capped(&path, 16 * 1024)
            .map_err(|e| KeyFileError::Io(path.clone(), e))?;
        let parsed = std::str::from_utf8(&bytes)
            .map_err(|_| "not UTF-8 PEM".to_string())
            .and_then(|s| {
                SigningKey::from_pkcs8_pem(s)
                    .map_err(|e| format!("not a PKCS#8 Ed25519 private key: {e}"))
            });
        wipe(&mut bytes);
        let signing = parsed.map_err(|m| KeyFileError::Invalid(path.clone(), m))?;
        let key = Self::from_signing_key(signing).map_err(|m| KeyFileError::Invalid(path, m))?;
        let public = dir.join(PUBLIC_FILE);
        if public.exists() {
            key.check_public_file(&public)?;
        }
        Ok(key)
    }
}

/// Overwrites a buffer that held secret material (best effort).
fn wipe(buf: &mut [u8]) {
    for b in buf.iter_mut() {
        *b = 0;
    }
    // Keeps the writes from being optimised away as dead stores.
    std::hint::black_box(buf);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_id_shape() {
        let k = ApplianceKey::from_signing_key(SigningKey::from_bytes(&[1; 32])).unwrap();
        assert!(k.key_id().as_str().starts_with(KEY_ID_PREFIX));
        assert_eq!(k.key_id().as_str().len(), KEY_ID_PREFIX.len() + 16);
        assert!(k.fingerprint()[7..].starts_with(&k.key_id().as_str()[KEY_ID_PREFIX.len()..]));
    }
}
