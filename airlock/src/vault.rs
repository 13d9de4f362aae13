//! `airlock vault add`: installs an HMAC secret in `STATE/hmac-keys/` (formats §8.1). Only the
//! secret's SHA-256 and where it went are printed, never the secret.

use airlock_formats::document::trust_root::TrustRoot;
use airlock_formats::keys::{KeyId, KeyMaterial};
use airlock_verifier::media::{read_capped, MAX_TRUST_FILE};
use airlock_verifier::vault::{self, read_secret};
use std::path::Path;

/// Installs the secret in `file` as `key_id`. When the state's anchor lists the key, the secret
/// must match its `secret_sha256` (a wrong secret would silently not count).
pub fn add(state: &Path, key_id: &str, file: &Path) -> Result<u8, String> {
    let id = KeyId::new(key_id)?;
    let secret = read_secret(file)?;
    let anchor = state.join(airlock_verifier::state::ANCHOR_FILE);
    if let Ok(bytes) = read_capped(&anchor, MAX_TRUST_FILE) {
        if let Some(KeyMaterial::Hmac { secret_sha256 }) = TrustRoot::parse(&bytes)
            .ok()
            .and_then(|r| r.keys.get(&id).map(|k| k.material.clone()))
        {
            if secret_sha256 != secret.sha256() {
                crate::outln!(
                    "the secret's sha256 {} is not the secret_sha256 the anchor pins for {id}; nothing installed",
                    secret.sha256_hex()
                );
                return Ok(1);
            }
        }
    }
    let path = vault::install(state, &id, &secret)?;
    crate::outln!(
        "installed the secret of {id} (secret_sha256 {}) in {}",
        secret.sha256_hex(),
        path.display()
    );
    Ok(0)
}
