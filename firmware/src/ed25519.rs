//! Strict Ed25519 verification (RFC 8032 with the strict checks of `verify_strict`).
//!
//! A public key is accepted only if its encoding is canonical and it lies in the prime-order
//! subgroup. A small-order ("weak") key admits signatures that verify for almost any message; a
//! mixed-order key `A + T` (T of small order) lets the holder of `A`'s secret sign under `A + T` too
//! (whenever the challenge is a multiple of T's order, one try in eight), so one secret could pose
//! as up to eight distinct raw keys toward a threshold. Both are refused when the key is loaded,
//! before it can be used at all; an honestly generated key is never refused.

use ed25519_dalek::{Signature, VerifyingKey};

/// Length of a raw Ed25519 public key.
pub const PUBLIC_KEY_LEN: usize = 32;
/// Length of an Ed25519 signature.
pub const SIGNATURE_LEN: usize = 64;

/// Why a public key was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyError {
    /// The 32 bytes are not the encoding of a curve point.
    NotAPoint,
    /// The point is encoded non-canonically (y ≥ p, or a sign bit on x = 0).
    NonCanonical,
    /// The point has small order (a weak key), or has a small-order component (it is not in the
    /// prime-order subgroup, which no honestly generated key is outside of).
    Weak,
}

/// Why a signature was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignatureError {
    /// The signature does not verify under the key (this includes S ≥ L, a non-canonical or
    /// small-order R, and every other strict-verification failure).
    Invalid,
}

/// A validated Ed25519 public key: canonically encoded and in the prime-order subgroup.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PublicKey(VerifyingKey);

impl PublicKey {
    /// Validates raw key bytes.
    pub fn from_bytes(bytes: &[u8; PUBLIC_KEY_LEN]) -> Result<Self, KeyError> {
        let key = VerifyingKey::from_bytes(bytes).map_err(|_| KeyError::NotAPoint)?;
        if key.to_edwards().compress().to_bytes() != *bytes {
            return Err(KeyError::NonCanonical);
        }
        if key.is_weak() || !key.to_edwards().is_torsion_free() {
            return Err(KeyError::Weak);
        }
        Ok(Self(key))
    }

    /// The raw 32 key bytes (what a threshold counts, and what a fingerprint hashes).
    pub fn as_bytes(&self) -> &[u8; PUBLIC_KEY_LEN] {
        self.0.as_bytes()
    }

    /// Verifies `signature` over `message` with the strict rules.
    pub fn verify(
        &self,
        message: &[u8],
        signature: &[u8; SIGNATURE_LEN],
    ) -> Result<(), SignatureError> {
        let sig = Signature::from_bytes(signature);
        self.0
            .verify_strict(message, &sig)
            .map_err(|_| SignatureError::Invalid)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hex;

    fn key(h: &str) -> Result<PublicKey, KeyError> {
        PublicKey::from_bytes(&hex::decode::<32>(h.as_bytes()).unwrap())
    }

    #[test]
    fn rfc8032_test_1() {
        let pk = key("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a").unwrap();
        let sig = hex::decode::<64>(
            b"e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b",
        )
        .unwrap();
        assert_eq!(pk.verify(b"", &sig), Ok(()));
        assert_eq!(pk.verify(b"x", &sig), Err(SignatureError::Invalid));
    }

    #[test]
    fn refuses_small_order_and_non_canonical_keys() {
        // The identity point (order 1) and a point of order 8.
        assert_eq!(
            key("0100000000000000000000000000000000000000000000000000000000000000"),
            Err(KeyError::Weak)
        );
        assert_eq!(
            key("c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a"),
            Err(KeyError::Weak)
        );
        // A point with a prime-order and an order-8 component (C2SP/CCTV ed25519 vectors).
        assert_eq!(
            key("10eb7c3acfb2bed3e0d6ab89bf5a3d6afddd1176ce4812e38d9fd485058fdb1f"),
            Err(KeyError::Weak)
        );
        // y = p + 1 encodes the identity non-canonically.
        assert_eq!(
            key("eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f"),
            Err(KeyError::NonCanonical)
        );
    }

    #[test]
    fn refuses_mixed_order_key_that_verify_strict_alone_accepts() {
        // RFC 8032 test 1's key plus an order-8 point, and a signature made with test 1's secret
        // (tools/derive_vectors.py): dalek's verify_strict accepts it, so without the torsion
        // check one secret could count as two signers.
        let twin =
            hex::decode::<32>(b"9158312a9a8d6e3b34c891d6d61444f8b8211c5117ebad15bdb0bd68b07e0245")
                .unwrap();
        let sig = hex::decode::<64>(
            b"93c9449be4e3975f799a691f11d3bdab8ac6348ba2afbdfb9310fdb6b32ebdd76ecacc1aaae31a20b0f46dafd19d0632fbf9db38216f2eeb4f2bd6c4c0fdef0c",
        )
        .unwrap();
        let msg = b"airlock: mixed-order key 0";
        let lax = VerifyingKey::from_bytes(&twin).unwrap();
        assert!(!lax.is_weak());
        assert!(lax.verify_strict(msg, &Signature::from_bytes(&sig)).is_ok());
        assert_eq!(PublicKey::from_bytes(&twin), Err(KeyError::Weak));
    }
}
