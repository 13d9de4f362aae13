//! Compact JWS (RFC 7515) verified offline against pinned keys (formats §8.4, §8.8): exactly three
//! canonical unpadded base64url segments, `alg` RS256 or ES256 only, a string `kid` selecting a
//! pinned JWK of the right type, no `crit`; `jku`, `jwk`, `x5u`, `x5c` are ignored because keys
//! come only from the trust root. The maths is RustCrypto's (`rsa`, `p256`).

use crate::document::governance_pins::{Jwk, JwkKey, Provider};
use crate::json;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use serde_json::{Map, Value};

/// A compact JWS, parsed but not verified.
#[derive(Debug, Clone)]
pub struct Jws {
    /// `RS256` or `ES256`.
    pub alg: String,
    /// `kid`.
    pub kid: String,
    /// The payload's members.
    pub payload: Map<String, Value>,
    signing_input: Vec<u8>,
    signature: Vec<u8>,
}

fn segment(s: &str, what: &str) -> Result<Vec<u8>, String> {
    URL_SAFE_NO_PAD
        .decode(s)
        .map_err(|_| format!("the {what} is not canonical unpadded base64url"))
}

impl Jws {
    /// Parses a compact JWS.
    pub fn parse(token: &str) -> Result<Self, String> {
        let parts: Vec<&str> = token.split('.').collect();
        let [h, p, s] = parts.as_slice() else {
            return Err(format!("the token has {} segments, not three", parts.len()));
        };
        let header =
            json::parse_value(&segment(h, "header")?).map_err(|e| format!("the header: {e}"))?;
        let header = header
            .as_object()
            .ok_or("the header is not a JSON object")?;
        let alg = match header.get("alg").and_then(Value::as_str) {
            Some(a @ ("RS256" | "ES256")) => a.to_owned(),
            other => return Err(format!("alg {other:?} is refused (RS256 and ES256 only)")),
        };
        if header.contains_key("crit") {
            return Err("the header has crit, which is refused".into());
        }
        let kid = header
            .get("kid")
            .and_then(Value::as_str)
            .ok_or("the header has no string kid")?
            .to_owned();
        let payload =
            json::parse_value(&segment(p, "payload")?).map_err(|e| format!("the payload: {e}"))?;
        let payload = payload
            .as_object()
            .ok_or("the payload is not a JSON object")?
            .clone();
        let signature = segment(s, "signature")?;
        Ok(Self {
            alg,
            kid,
            payload,
            signing_input: format!("{h}.{p}").into_bytes(),
            signature,
        })
    }

    fn fits(&self, k: &Jwk) -> bool {
        let type_fits = matches!(
            (&k.key, self.alg.as_str()),
            (JwkKey::Rsa(_), "RS256") | (JwkKey::Ec(_), "ES256")
        );
        k.kid == self.kid
            && type_fits
            && k.alg.as_deref().is_none_or(|a| a == self.alg)
            && k.use_.as_deref().is_none_or(|u| u == "sig")
    }

    fn verify_with(&self, k: &Jwk) -> bool {
        match &k.key {
            JwkKey::Rsa(key) => {
                use rsa::signature::Verifier as _;
                let vk = rsa::pkcs1v15::VerifyingKey::<sha2::Sha256>::new(key.clone());
                rsa::pkcs1v15::Signature::try_from(self.signature.as_slice()).is_ok_and(|sig| {
                    self.signature.len() == rsa::traits::PublicKeyParts::size(key)
                        && vk.verify(&self.signing_input, &sig).is_ok()
                })
            }
            JwkKey::Ec(vk) => {
                use p256::ecdsa::signature::Verifier as _;
                p256::ecdsa::Signature::from_slice(&self.signature).is_ok_and(|sig| {
                    self.signature.len() == 64 && vk.verify(&self.signing_input, &sig).is_ok()
                })
            }
        }
    }

    /// Verifies the signature with the provider's key named by `kid`.
    pub fn verify(&self, provider: &Provider) -> Result<(), String> {
        let candidates: Vec<&Jwk> = provider.keys.iter().filter(|k| self.fits(k)).collect();
        if candidates.is_empty() {
            return Err(format!(
                "kid {:?} names no pinned {} key of {}",
                self.kid, self.alg, provider.issuer
            ));
        }
        if candidates.iter().any(|k| self.verify_with(k)) {
            Ok(())
        } else {
            Err(format!(
                "the {} signature does not verify under the pinned key {:?}",
                self.alg, self.kid
            ))
        }
    }
}
