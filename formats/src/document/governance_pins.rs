//! The trust root's `governance` object (formats §8.1, §8.8): pinned OIDC providers with their
//! JWKS, pinned runner claims, and the claims bound to the release's commit and ref. Validated
//! when the root is parsed: a JWK that is private, of another type or curve, or an RSA key under
//! 2048 bits makes the trust root invalid.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;

/// Smallest RSA modulus accepted, in bits.
pub const MIN_RSA_BITS: usize = 2048;
/// Largest RSA modulus accepted, in bits (bounds the work one signature costs).
pub const MAX_RSA_BITS: usize = 8192;
/// Most providers, and most keys in one JWKS.
pub const MAX_PINS: usize = 64;

/// The `governance` object as written.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GovernancePolicy {
    /// Pinned OIDC providers.
    #[serde(default)]
    pub oidc: Vec<OidcProvider>,
    /// Pinned claims: name → glob (`*` the only special character).
    #[serde(default)]
    pub claims: BTreeMap<String, String>,
    /// The claim that must equal the release evidence's `commit`.
    #[serde(default = "default_commit_claim")]
    pub commit_claim: String,
    /// The claim that must equal the release evidence's `ref`.
    #[serde(default = "default_ref_claim")]
    pub ref_claim: String,
}

fn default_commit_claim() -> String {
    "sha".into()
}

fn default_ref_claim() -> String {
    "ref".into()
}

/// One pinned OIDC provider as written.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OidcProvider {
    /// `iss` its tokens carry.
    pub issuer: String,
    /// The audience its tokens must name.
    pub audience: String,
    /// Its JWKS (RFC 7517), carried in the root.
    pub jwks: Jwks,
}

/// A JWK Set as written.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Jwks {
    /// The keys, kept as written (members other than the ones we read are ignored).
    pub keys: Vec<Value>,
}

/// The public key of a pinned JWK.
#[derive(Debug, Clone)]
pub enum JwkKey {
    /// RSA, for `RS256`.
    Rsa(rsa::RsaPublicKey),
    /// EC P-256, for `ES256`.
    Ec(p256::ecdsa::VerifyingKey),
}

/// A validated pinned JWK.
#[derive(Debug, Clone)]
pub struct Jwk {
    /// `kid`.
    pub kid: String,
    /// The optional `alg` it is restricted to.
    pub alg: Option<String>,
    /// The optional `use`.
    pub use_: Option<String>,
    /// The key.
    pub key: JwkKey,
}

/// A validated provider.
#[derive(Debug, Clone)]
pub struct Provider {
    /// Issuer.
    pub issuer: String,
    /// Audience.
    pub audience: String,
    /// Its keys.
    pub keys: Vec<Jwk>,
}

/// The validated `governance` object.
#[derive(Debug, Clone)]
pub struct Pins {
    /// As written.
    pub policy: GovernancePolicy,
    /// Providers, keys parsed.
    pub providers: Vec<Provider>,
}

impl Pins {
    /// The provider whose issuer is `iss`.
    pub fn provider(&self, iss: &str) -> Option<&Provider> {
        self.providers.iter().find(|p| p.issuer == iss)
    }
}

const PRIVATE_MEMBERS: [&str; 8] = ["d", "p", "q", "dp", "dq", "qi", "oth", "k"];

fn b64url(v: Option<&Value>, what: &str) -> Result<Vec<u8>, crate::FormatError> {
    let s = v
        .and_then(Value::as_str)
        .ok_or_else(|| format!("{what} is missing or not a string"))?;
    URL_SAFE_NO_PAD
        .decode(s)
        .map_err(|_| format!("{what} is not unpadded base64url").into())
}

fn jwk(v: &Value) -> Result<Jwk, crate::FormatError> {
    let o = v.as_object().ok_or("a JWK is not an object")?;
    let kid = o
        .get("kid")
        .and_then(Value::as_str)
        .ok_or("a JWK has no string kid")?
        .to_owned();
    let what = format!("JWK {kid:?}");
    if let Some(m) = PRIVATE_MEMBERS.iter().find(|m| o.contains_key(**m)) {
        return Err(format!(
            "{what} carries the private member {m:?}; only public keys are pinned"
        )
        .into());
    }
    let opt_str = |name: &str| -> Result<Option<String>, crate::FormatError> {
        match o.get(name) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(_) => Err(format!("{what}: {name} is not a string").into()),
        }
    };
    let alg = opt_str("alg")?;
    let use_ = opt_str("use")?;
    let key = match o.get("kty").and_then(Value::as_str) {
        Some("RSA") => {
            let n = b64url(o.get("n"), &format!("{what}: n"))?;
            let e = b64url(o.get("e"), &format!("{what}: e"))?;
            let n = rsa::BigUint::from_bytes_be(&n);
            let bits = n.bits();
            if !(MIN_RSA_BITS..=MAX_RSA_BITS).contains(&bits) {
                return Err(format!(
                    "{what}: an RSA key of {bits} bits (between {MIN_RSA_BITS} and {MAX_RSA_BITS} are accepted)"
                ).into());
            }
            let key = rsa::RsaPublicKey::new_with_max_size(
                n,
                rsa::BigUint::from_bytes_be(&e),
                MAX_RSA_BITS,
            )
            .map_err(|err| format!("{what}: not a usable RSA public key: {err}"))?;
            JwkKey::Rsa(key)
        }
        Some("EC") => {
            if o.get("crv").and_then(Value::as_str) != Some("P-256") {
                return Err(format!("{what}: an EC key on a curve other than P-256").into());
            }
            let x = b64url(o.get("x"), &format!("{what}: x"))?;
            let y = b64url(o.get("y"), &format!("{what}: y"))?;
            if x.len() != 32 || y.len() != 32 {
                return Err(format!("{what}: x and y must be 32 bytes each").into());
            }
            let mut sec1 = vec![4u8];
            sec1.extend_from_slice(&x);
            sec1.extend_from_slice(&y);
            let key = p256::ecdsa::VerifyingKey::from_sec1_bytes(&sec1)
                .map_err(|_| format!("{what}: (x, y) is not a point of P-256"))?;
            JwkKey::Ec(key)
        }
        other => {
            return Err(
                format!("{what}: key type {other:?} is not pinnable (RSA or EC P-256)").into(),
            )
        }
    };
    Ok(Jwk {
        kid,
        alg,
        use_,
        key,
    })
}

impl GovernancePolicy {
    /// Validates the object.
    pub fn validate(&self) -> Result<Pins, crate::FormatError> {
        if self.oidc.len() > MAX_PINS || self.claims.len() > MAX_PINS {
            return Err(format!("more than {MAX_PINS} providers or pinned claims").into());
        }
        if self.commit_claim.is_empty() || self.ref_claim.is_empty() {
            return Err("commit_claim and ref_claim must not be empty".into());
        }
        let mut providers = Vec::new();
        for p in &self.oidc {
            if p.issuer.is_empty() || p.audience.is_empty() {
                return Err("an OIDC provider has an empty issuer or audience".into());
            }
            if p.jwks.keys.len() > MAX_PINS {
                return Err(
                    format!("the JWKS of {} has more than {MAX_PINS} keys", p.issuer).into(),
                );
            }
            let keys = p
                .jwks
                .keys
                .iter()
                .map(jwk)
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| format!("governance: provider {}: {e}", p.issuer))?;
            providers.push(Provider {
                issuer: p.issuer.clone(),
                audience: p.audience.clone(),
                keys,
            });
        }
        Ok(Pins {
            policy: self.clone(),
            providers,
        })
    }
}
