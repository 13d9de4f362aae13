//! DSSE v1 envelopes (formats §2). The payload is kept as the exact decoded bytes that were signed;
//! it is parsed only after its signatures verify, and never re-serialised.

use crate::json;
use crate::keys::{decode_base64, encode_base64};
use airlock_core::ed25519::SIGNATURE_LEN;
use ed25519_dalek::{Signer as _, SigningKey};
use serde::{Deserialize, Serialize};

/// Most signatures read from one envelope.
pub const MAX_SIGNATURES: usize = 64;

/// Payload types (formats §2).
pub mod payload_type {
    /// A trust root.
    pub const TRUST_ROOT: &str = "application/vnd.cavra.trust-root+json";
    /// A revocation list.
    pub const REVOCATIONS: &str = "application/vnd.cavra.revocations+json";
    /// An in-toto statement (release signature, provenance).
    pub const IN_TOTO: &str = "application/vnd.in-toto+json";
    /// A promotion receipt.
    pub const RECEIPT: &str = "application/vnd.cavra.promotion-receipt+json";
}

#[derive(Serialize, Deserialize)]
struct RawEnvelope {
    #[serde(rename = "payloadType")]
    payload_type: String,
    payload: String,
    signatures: Vec<RawSignature>,
}

/// What [`Envelope::parse_capped`] reads: the payload borrowed from the file's bytes (a
/// provenance payload can be tens of MiB of base64).
#[derive(Deserialize)]
struct BorrowedEnvelope<'a> {
    #[serde(rename = "payloadType")]
    payload_type: String,
    #[serde(borrow)]
    payload: std::borrow::Cow<'a, str>,
    signatures: Vec<RawSignature>,
}

#[derive(Serialize, Deserialize)]
struct RawSignature {
    keyid: String,
    sig: String,
}

/// One signature of an envelope.
#[derive(Debug, Clone)]
pub struct EnvelopeSignature {
    /// The key id it names (not yet looked up).
    pub keyid: String,
    /// The 64 signature bytes, or None when `sig` is not base64 of 64 bytes (such a signature
    /// can never verify; whether that matters depends on whether `keyid` is known).
    pub sig: Option<[u8; SIGNATURE_LEN]>,
}

/// A parsed envelope.
#[derive(Debug, Clone)]
pub struct Envelope {
    /// `payloadType`.
    pub payload_type: String,
    /// The decoded payload bytes, exactly as signed.
    pub payload: Vec<u8>,
    /// The signatures, in order.
    pub signatures: Vec<EnvelopeSignature>,
}

impl Envelope {
    /// Parses an envelope (at most `json::MAX_DOCUMENT_BYTES`).
    pub fn parse(bytes: &[u8]) -> Result<Self, String> {
        Self::parse_capped(bytes, json::MAX_DOCUMENT_BYTES)
    }

    /// Parses an envelope of at most `cap` bytes (a listing document's, e.g. provenance).
    pub fn parse_capped(bytes: &[u8], cap: usize) -> Result<Self, String> {
        let raw: BorrowedEnvelope<'_> =
            json::parse_borrowed(bytes, cap).map_err(|e| format!("not a DSSE envelope: {e}"))?;
        if raw.signatures.len() > MAX_SIGNATURES {
            return Err(format!(
                "{} signatures, more than the limit of {MAX_SIGNATURES}",
                raw.signatures.len()
            ));
        }
        let payload = decode_base64(&raw.payload).ok_or("payload is not base64")?;
        let signatures = raw
            .signatures
            .into_iter()
            .map(|s| EnvelopeSignature {
                sig: decode_base64(&s.sig).and_then(|b| b.try_into().ok()),
                keyid: s.keyid,
            })
            .collect();
        Ok(Self {
            payload_type: raw.payload_type,
            payload,
            signatures,
        })
    }

    /// The bytes every signature signs: PAE(payloadType, payload).
    pub fn pae(&self) -> Vec<u8> {
        pae(self.payload_type.as_bytes(), &self.payload)
    }
}

/// PAE(type, body), through the verification core.
pub fn pae(payload_type: &[u8], body: &[u8]) -> Vec<u8> {
    let len = airlock_core::pae::encoded_len(payload_type.len(), body.len()).unwrap_or(0);
    let mut buf = vec![0u8; len];
    match airlock_core::pae::encode(&mut buf, payload_type, body) {
        // In place (no second copy: a provenance payload may be tens of MiB).
        Ok(out) => {
            let n = out.len();
            buf.truncate(n);
            buf
        }
        // Unreachable for lengths that fit in memory; an empty PAE can never verify anyway.
        Err(_) => Vec::new(),
    }
}

/// Signs `payload` as a DSSE envelope with each `(keyid, key)`, returning the envelope's JSON.
pub fn sign(payload_type: &str, payload: &[u8], signers: &[(&str, &SigningKey)]) -> Vec<u8> {
    let pae = pae(payload_type.as_bytes(), payload);
    let raw = RawEnvelope {
        payload_type: payload_type.to_owned(),
        payload: encode_base64(payload),
        signatures: signers
            .iter()
            .map(|(keyid, key)| RawSignature {
                keyid: (*keyid).to_owned(),
                sig: encode_base64(&key.sign(&pae).to_bytes()),
            })
            .collect(),
    };
    to_pretty_json(&raw)
}

/// Adds signatures to an existing envelope's JSON (co-signing), keeping payload and order.
pub fn add_signatures(envelope: &[u8], signers: &[(&str, &SigningKey)]) -> Result<Vec<u8>, String> {
    let mut raw: RawEnvelope =
        json::parse(envelope).map_err(|e| format!("not a DSSE envelope: {e}"))?;
    let payload = decode_base64(&raw.payload).ok_or("payload is not base64")?;
    let pae = pae(raw.payload_type.as_bytes(), &payload);
    for (keyid, key) in signers {
        raw.signatures.retain(|s| s.keyid != *keyid);
        raw.signatures.push(RawSignature {
            keyid: (*keyid).to_owned(),
            sig: encode_base64(&key.sign(&pae).to_bytes()),
        });
    }
    Ok(to_pretty_json(&raw))
}

/// JSON with two-space indentation and a final newline (how Airlock writes every document).
pub fn to_pretty_json<T: Serialize>(v: &T) -> Vec<u8> {
    let mut out = serde_json::to_vec_pretty(v).unwrap_or_default();
    out.push(b'\n');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sign_then_parse_and_url_safe_base64() {
        let key = SigningKey::from_bytes(&[7; 32]);
        let env = sign("t", b"{\"a\":1}", &[("k", &key)]);
        let parsed = Envelope::parse(&env).unwrap();
        assert_eq!(parsed.payload, b"{\"a\":1}");
        assert_eq!(parsed.pae(), b"DSSEv1 1 t 7 {\"a\":1}");
        let vk =
            airlock_core::ed25519::PublicKey::from_bytes(key.verifying_key().as_bytes()).unwrap();
        assert!(vk
            .verify(&parsed.pae(), &parsed.signatures[0].sig.unwrap())
            .is_ok());
        // URL-safe payload ("+/" → "-_") decodes to the same bytes.
        let url = br#"{"payloadType":"t","payload":"-_-_","signatures":[]}"#;
        assert_eq!(
            Envelope::parse(url).unwrap().payload,
            vec![0xfb, 0xff, 0xbf]
        );
        assert!(Envelope::parse(
            br#"{"payloadType":"t","payload":"e30=","payloadType":"u","signatures":[]}"#
        )
        .is_err());
    }
}
