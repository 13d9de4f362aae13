//! Streaming SHA-256. On x86_64 `sha2` selects the SHA-NI instructions at run time.

use sha2::Digest as _;

/// Length of a SHA-256 digest in bytes.
pub const SHA256_LEN: usize = 32;

/// A SHA-256 digest.
pub type Sha256Digest = [u8; SHA256_LEN];

/// An incremental SHA-256 hasher.
#[derive(Clone, Default)]
pub struct Sha256(sha2::Sha256);

impl Sha256 {
    /// A fresh hasher.
    pub fn new() -> Self {
        Self(sha2::Sha256::new())
    }

    /// Feeds `bytes` into the hash.
    pub fn update(&mut self, bytes: &[u8]) {
        self.0.update(bytes);
    }

    /// The digest of everything fed so far.
    pub fn finalize(self) -> Sha256Digest {
        self.0.finalize().into()
    }
}

/// The SHA-256 digest of `bytes`.
pub fn sha256(bytes: &[u8]) -> Sha256Digest {
    let mut h = Sha256::new();
    h.update(bytes);
    h.finalize()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hex;

    #[test]
    fn fips_180_vectors() {
        let mut out = [0u8; 64];
        assert_eq!(
            hex::encode(&sha256(b"abc"), &mut out).unwrap(),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        let mut h = Sha256::new();
        for part in [
            &b"abcdbcdecdefdefgefghfghighijhi"[..],
            b"jkijkljklmklmnlmnomnopnopq",
        ] {
            h.update(part);
        }
        assert_eq!(
            hex::encode(&h.finalize(), &mut out).unwrap(),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"
        );
    }
}
