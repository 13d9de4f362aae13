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
    pub fn parse(bytes: &[u8]) -> Result<Self, crate::FormatError> {
        Self::parse_capped(bytes, json::MAX_DOCUMENT_BYTES)
    }

    /// Parses an envelope of at most `cap` bytes (a listing document's, e.g. provenance).
    pub fn parse_capped(bytes: &[u8], cap: usize) -> Result<Self, crate::FormatError> {
        let raw: BorrowedEnvelope<'_> =
            json::parse_borrowed(bytes, cap).map_err(|e| format!("not a DSSE envelope: {e}"))?;
        if raw.signatures.len() > MAX_SIGNATURES {
            return Err(format!(
                "{} signatures, more than the limit of {MAX_SIGNATURES}",
                raw.signatures.len()
            )
            .into());
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

/// An envelope decoded in its own file's buffer (a provenance file can be 32 MiB): the base64
/// payload is decoded where it lies and the PAE header put before it, so the file, the payload and
/// the bytes the signatures sign are one allocation, never three. Parsed and checked exactly as
/// [`Envelope::parse_capped`] does.
#[derive(Debug, Clone)]
pub struct PaeEnvelope {
    /// `payloadType`.
    pub payload_type: String,
    /// The signatures, in order.
    pub signatures: Vec<EnvelopeSignature>,
    /// PAE(payloadType, payload).
    pae: Vec<u8>,
    /// Where the payload starts in `pae`.
    payload_at: usize,
}

/// Base64 characters decoded per step of [`decode_base64_in_place`].
const B64_STEP: usize = 4096;

impl PaeEnvelope {
    /// Parses the envelope file `bytes` (at most `cap` of them), reusing the buffer.
    pub fn parse_in_place(mut bytes: Vec<u8>, cap: usize) -> Result<Self, crate::FormatError> {
        let (payload_type, signatures, span) = {
            let raw: BorrowedEnvelope<'_> = json::parse_borrowed(&bytes, cap)
                .map_err(|e| format!("not a DSSE envelope: {e}"))?;
            if raw.signatures.len() > MAX_SIGNATURES {
                return Err(format!(
                    "{} signatures, more than the limit of {MAX_SIGNATURES}",
                    raw.signatures.len()
                )
                .into());
            }
            let span = match &raw.payload {
                // Without escapes the string lies in the file as it is.
                std::borrow::Cow::Borrowed(s) => {
                    let at = (s.as_ptr() as usize).wrapping_sub(bytes.as_ptr() as usize);
                    Ok(at..at.saturating_add(s.len()))
                }
                std::borrow::Cow::Owned(s) => Err(decode_base64(s).ok_or("payload is not base64")?),
            };
            let signatures: Vec<EnvelopeSignature> = raw
                .signatures
                .into_iter()
                .map(|s| EnvelopeSignature {
                    sig: decode_base64(&s.sig).and_then(|b| b.try_into().ok()),
                    keyid: s.keyid,
                })
                .collect();
            (raw.payload_type, signatures, span)
        };
        let payload = match span {
            Ok(span) => {
                let n = decode_base64_in_place(&mut bytes, span).ok_or("payload is not base64")?;
                bytes.truncate(n);
                bytes
            }
            Err(decoded) => decoded,
        };
        let header = pae(payload_type.as_bytes(), b"");
        // PAE(t, p) = "DSSEv1 <len t> t <len p> " + p: the header with the payload's length.
        let header = header
            .strip_suffix(b"0 ")
            .map(|h| [h, format!("{} ", payload.len()).as_bytes()].concat())
            .unwrap_or_default();
        let mut buf = payload;
        let payload_at = header.len();
        buf.extend_from_slice(&header);
        buf.rotate_right(payload_at);
        // Give back what decoding freed (a quarter of the file): the envelope may be kept while
        // the rest of a bundle is read.
        buf.shrink_to_fit();
        Ok(Self {
            payload_type,
            signatures,
            pae: buf,
            payload_at,
        })
    }

    /// The bytes every signature signs: PAE(payloadType, payload).
    pub fn pae(&self) -> &[u8] {
        &self.pae
    }

    /// The decoded payload bytes, exactly as signed.
    pub fn payload(&self) -> &[u8] {
        self.pae.get(self.payload_at..).unwrap_or_default()
    }
}

/// Decodes the base64 text at `span` of `buf` into the start of `buf` (the output never overtakes
/// the input: 4 characters give at most 3 bytes), returning the decoded length. Accepts exactly
/// what [`decode_base64`] accepts: one alphabet (standard, or URL-safe), padding canonical or
/// absent, and only at the end.
fn decode_base64_in_place(buf: &mut [u8], span: std::ops::Range<usize>) -> Option<usize> {
    use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
    use base64::Engine as _;
    let text = buf.get(span.clone())?;
    let url = text.iter().any(|&b| b == b'-' || b == b'_');
    if url && text.iter().any(|&b| b == b'+' || b == b'/') {
        return None;
    }
    let padded = text.last() == Some(&b'=');
    let (middle, last) = match (url, padded) {
        (false, false) => (&STANDARD_NO_PAD, &STANDARD_NO_PAD),
        (false, true) => (&STANDARD_NO_PAD, &STANDARD),
        (true, false) => (&URL_SAFE_NO_PAD, &URL_SAFE_NO_PAD),
        (true, true) => (&URL_SAFE_NO_PAD, &URL_SAFE),
    };
    let mut out = [0u8; B64_STEP / 4 * 3];
    let (mut read, mut written) = (span.start, 0usize);
    while read < span.end {
        let step = B64_STEP.min(span.end - read);
        // Every step but the last is a whole number of quanta without padding.
        let engine = if read + step == span.end {
            last
        } else {
            middle
        };
        let n = engine
            .decode_slice(buf.get(read..read + step)?, &mut out)
            .ok()?;
        buf.get_mut(written..written + n)?
            .copy_from_slice(out.get(..n)?);
        read += step;
        written += n;
    }
    Some(written)
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
pub fn add_signatures(
    envelope: &[u8],
    signers: &[(&str, &SigningKey)],
) -> Result<Vec<u8>, crate::FormatError> {
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

    /// The in-place decoder accepts exactly what `decode_base64` accepts, with the same bytes,
    /// across the step boundary too; the in-place envelope has the same PAE and payload.
    #[test]
    fn in_place_decoding_matches_decode_base64() {
        let long = encode_base64(&(0..9000u32).map(|i| (i * 7) as u8).collect::<Vec<_>>());
        let url = long.replace('+', "-").replace('/', "_");
        let mut cases: Vec<String> = [
            "", "QQ==", "QQ", "QQ=", "QUI=", "QUI", "QUJD", "QR==", "QQ==QQ==", "Q", "-_-_",
            "+/+/", "-/+_", "QQ ==", "QUJD\n", "=", "====",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        for cut in [4092, 4095, 4096, 4097, 4100, 8192, long.len() - 1] {
            cases.push(long[..cut].to_string());
            cases.push(url[..cut].to_string());
        }
        cases.push(long.clone());
        cases.push(url.clone());
        cases.push(format!("{}-", &long[..4096]));
        cases.push(format!("{}=={}", &long[..4096], &long[4096..]));
        for case in cases {
            let mut buf = format!("xx{case}").into_bytes();
            let got =
                decode_base64_in_place(&mut buf, 2..2 + case.len()).map(|n| buf[..n].to_vec());
            assert_eq!(got, decode_base64(&case), "{case:?}");
        }
        let key = SigningKey::from_bytes(&[7; 32]);
        let body: Vec<u8> = (0..20_000u32).map(|i| (i % 251) as u8).collect();
        for env in [
            sign(payload_type::IN_TOTO, &body, &[("k", &key)]),
            br#"{"payload":"e30=","payloadType":"a-much-longer-type-than-the-key-before-it","signatures":[]}"#.to_vec(),
            br#"{"payloadType":"t","payload":"e3\/0","signatures":[]}"#.to_vec(),
        ] {
            let a = Envelope::parse_capped(&env, 1 << 20);
            let b = PaeEnvelope::parse_in_place(env.clone(), 1 << 20);
            match (a, b) {
                (Ok(a), Ok(b)) => {
                    assert_eq!(a.pae(), b.pae());
                    assert_eq!(a.payload, b.payload());
                    assert_eq!(a.payload_type, b.payload_type);
                    assert_eq!(a.signatures.len(), b.signatures.len());
                }
                (Err(a), Err(b)) => assert_eq!(a, b),
                (a, b) => panic!("{a:?} / {b:?}"),
            }
        }
        assert!(PaeEnvelope::parse_in_place(
            b"{\"payloadType\":\"t\",\"payload\":\"e30\",\"payload\":\"e30\",\"signatures\":[]}"
                .to_vec(),
            100
        )
        .is_err());
    }

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
