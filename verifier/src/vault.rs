//! The HMAC vault (formats §8.1): `STATE/hmac-keys/<key_id>`, mode 0600, each file's bytes the
//! secret (one trailing LF ignored). Seed 001's "restricted verifier vault": the only place HMAC
//! secrets live on the appliance. A secret is never printed: [`Secret`]'s `Debug` shows nothing
//! and its bytes are wiped when it is dropped.

use crate::keys::{hex, KeyId};
use airlock_core::digest::sha256;
use std::collections::BTreeMap;
use std::fmt;
use std::io::Read;
use std::path::{Path, PathBuf};
use zeroize::Zeroizing;

/// The vault directory inside the state directory.
pub const VAULT_DIR: &str = airlock_formats::layout::state::VAULT_DIR;
/// Largest secret accepted, in bytes.
pub(crate) const MAX_SECRET_BYTES: u64 = 4096;
/// Most secrets loaded.
pub(crate) const MAX_SECRETS: usize = 1024;

/// An HMAC secret. Its bytes never reach any output.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(Zeroizing<Vec<u8>>);

impl Secret {
    /// Wraps secret bytes, removing one trailing LF (formats §8.1).
    pub fn from_file_bytes(mut bytes: Vec<u8>) -> Self {
        if bytes.last() == Some(&b'\n') {
            bytes.pop();
        }
        Self(Zeroizing::new(bytes))
    }

    /// The bytes, for computing an HMAC.
    pub fn expose(&self) -> &[u8] {
        &self.0
    }

    /// Hex SHA-256 of the secret: the public pin `secret_sha256`.
    pub fn sha256_hex(&self) -> String {
        hex(&sha256(&self.0))
    }

    /// SHA-256 of the secret.
    pub fn sha256(&self) -> [u8; 32] {
        sha256(&self.0)
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(..)")
    }
}

/// Reads a secret file (at most [`MAX_SECRET_BYTES`]; a regular file, not a link).
pub fn read_secret(path: &Path) -> Result<Secret, String> {
    let meta = std::fs::symlink_metadata(path).map_err(|e| format!("{}: {e}", path.display()))?;
    if !meta.file_type().is_file() {
        return Err(format!("{} is not a regular file", path.display()));
    }
    let mut bytes = Zeroizing::new(Vec::new());
    std::fs::File::open(path)
        .and_then(|f| f.take(MAX_SECRET_BYTES + 1).read_to_end(&mut bytes))
        .map_err(|e| format!("{}: {e}", path.display()))?;
    if bytes.len() as u64 > MAX_SECRET_BYTES {
        return Err(format!(
            "{} is larger than {MAX_SECRET_BYTES} bytes",
            path.display()
        ));
    }
    let secret = Secret::from_file_bytes(std::mem::take(&mut *bytes));
    if secret.expose().is_empty() {
        return Err(format!("{} holds an empty secret", path.display()));
    }
    Ok(secret)
}

/// The secrets held, by key id.
#[derive(Debug, Clone, Default)]
pub struct Vault {
    secrets: BTreeMap<KeyId, Secret>,
}

impl Vault {
    /// `STATE/hmac-keys`.
    pub fn dir(state: &Path) -> PathBuf {
        state.join(VAULT_DIR)
    }

    /// Loads every secret of `STATE/hmac-keys` (none when the directory is absent). Files whose
    /// names are not key ids, or that cannot be read, are skipped: their keys simply do not count.
    pub fn load(state: &Path) -> Self {
        let mut vault = Self::default();
        let Ok(entries) = std::fs::read_dir(Self::dir(state)) else {
            return vault;
        };
        for entry in entries.flatten().take(MAX_SECRETS) {
            let Some(id) = entry.file_name().to_str().and_then(|n| KeyId::new(n).ok()) else {
                continue;
            };
            if let Ok(secret) = read_secret(&entry.path()) {
                vault.secrets.insert(id, secret);
            }
        }
        vault
    }

    /// Adds a secret (for `--hmac-key ID=FILE`, and tests).
    pub fn insert(&mut self, id: KeyId, secret: Secret) {
        self.secrets.insert(id, secret);
    }

    /// The secret of `id`, without a trust root to pin it (an auditor's `--hmac-key`).
    pub(crate) fn secret_unpinned(&self, id: &KeyId) -> Option<&Secret> {
        self.secrets.get(id)
    }

    /// The secret of `id` if it is held and its SHA-256 equals `secret_sha256`.
    pub fn secret(&self, id: &KeyId, secret_sha256: &[u8; 32]) -> Result<&Secret, &'static str> {
        match self.secrets.get(id) {
            None => Err("its secret is not in the vault"),
            Some(s) if s.sha256() != *secret_sha256 => {
                Err("the vault's secret does not match the trust root's secret_sha256")
            }
            Some(s) => Ok(s),
        }
    }
}

/// Installs `secret` as `STATE/hmac-keys/<id>` (mode 0600, written atomically). Returns the path.
pub fn install(state: &Path, id: &KeyId, secret: &Secret) -> Result<PathBuf, String> {
    use std::io::Write;
    use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
    let dir = Vault::dir(state);
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(&dir)
        .map_err(|e| format!("{}: {e}", dir.display()))?;
    let path = dir.join(id.as_str());
    let tmp = dir.join(format!(".{}.tmp", id.as_str()));
    let _ = std::fs::remove_file(&tmp);
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&tmp)
        .map_err(|e| format!("{}: {e}", tmp.display()))?;
    f.write_all(secret.expose())
        .and_then(|()| f.sync_all())
        .map_err(|e| format!("{}: {e}", tmp.display()))?;
    std::fs::rename(&tmp, &path).map_err(|e| format!("{}: {e}", path.display()))?;
    if let Ok(d) = std::fs::File::open(&dir) {
        let _ = d.sync_all();
    }
    Ok(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_hides_the_secret() {
        let s = Secret::from_file_bytes(b"hunter2-hunter2\n".to_vec());
        assert_eq!(s.expose(), b"hunter2-hunter2");
        let mut v = Vault::default();
        v.insert(KeyId::new("k").unwrap(), s);
        let shown = format!("{v:?} {v:#?}");
        assert!(!shown.contains("hunter2"), "{shown}");
        assert!(!shown.contains("104, 117"), "{shown}");
    }
}
