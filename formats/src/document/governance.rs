//! The release-governance files of a bundle (formats §8.2–§8.8), parsed: the runner claims, the
//! response, the daemon's evidence log lines and the published verification report. Nothing here
//! is trusted; `crate::trust::governance` verifies.

use crate::json;
use crate::timestamp::Timestamp;
use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// The runner identity.
pub const CLAIMS_FILE: &str = crate::layout::bundle::GOVERNANCE_CLAIMS;
/// The retained OIDC JWT.
pub const JWT_FILE: &str = crate::layout::bundle::GOVERNANCE_JWT;
/// The governance decision.
pub const RESPONSE_FILE: &str = crate::layout::bundle::GOVERNANCE_RESPONSE;
/// The daemon's evidence log.
pub const EVIDENCE_FILE: &str = crate::layout::bundle::GOVERNANCE_EVIDENCE;
/// The published report.
pub const REPORT_FILE: &str = crate::layout::bundle::GOVERNANCE_REPORT;
/// The five files (formats §8.8: metadata, never artifacts).
pub const FILES: [&str; 5] = crate::layout::bundle::GOVERNANCE_FILES;
/// The report's file name on its own (what `airlock evidence verify` writes).
pub const REPORT_NAME: &str = "release-governance-evidence-verification.json";

/// The runner claims' `_type`.
pub const CLAIMS_TYPE: &str = "cavra-runner-auth-claims";
/// The HMAC runner claims' DSSE payloadType.
pub const RUNNER_CLAIMS_PAYLOAD_TYPE: &str = "application/vnd.cavra.runner-claims+json";
/// The response's `_type`.
pub const RESPONSE_TYPE: &str = "cavra-release-governance-response";
/// The report's `_type`.
pub const REPORT_TYPE: &str = "cavra-governance-evidence-verification";
/// The three events, in the order they must occur.
pub const EVENTS: [&str; 3] = [
    "runtime-package-verified",
    "runner-authenticated",
    "release-governance-checked",
];
/// Most records one log may hold.
pub const MAX_RECORDS: usize = 100_000;
/// Deepest nesting searched for bearer-token members.
const MAX_DEPTH: usize = 64;

/// One signature of the HMAC runner envelope.
#[derive(Debug, Clone)]
pub struct HmacSignature {
    /// The key id named.
    pub keyid: String,
    /// The 32-byte tag (None when `sig` is not base64 of 32 bytes).
    pub sig: Option<[u8; 32]>,
}

/// `runner-auth-claims.json`, parsed.
#[derive(Debug, Clone)]
pub enum RunnerClaims {
    /// A CI-provider OIDC token.
    Oidc {
        /// `true` for `"retained"`, `false` for `"redacted"`.
        retained: bool,
        /// Hex SHA-256 of the compact JWT.
        token_sha256: String,
        /// The claims.
        claims: Map<String, Value>,
    },
    /// HMAC-signed runner claims.
    Hmac {
        /// The DSSE payload bytes, exactly as signed.
        payload: Vec<u8>,
        /// The payload parsed.
        claims: Map<String, Value>,
        /// PAE(payloadType, payload).
        pae: Vec<u8>,
        /// The signatures.
        signatures: Vec<HmacSignature>,
    },
}

impl RunnerClaims {
    /// `oidc` or `hmac`.
    pub fn mode(&self) -> &'static str {
        match self {
            Self::Oidc { .. } => "oidc",
            Self::Hmac { .. } => "hmac",
        }
    }

    /// The identity's claims (the DSSE payload in HMAC mode).
    pub fn claims(&self) -> &Map<String, Value> {
        match self {
            Self::Oidc { claims, .. } | Self::Hmac { claims, .. } => claims,
        }
    }

    /// Parses the claims file.
    pub fn parse(bytes: &[u8]) -> Result<Self, crate::FormatError> {
        let v = json::parse_value(bytes).map_err(|e| e.to_string())?;
        let o = v.as_object().ok_or("not a JSON object")?;
        if o.get("_type").and_then(Value::as_str) != Some(CLAIMS_TYPE) {
            return Err(format!("_type is not {CLAIMS_TYPE:?}").into());
        }
        match o.get("mode").and_then(Value::as_str) {
            Some("oidc") => {
                let retained = match o.get("token").and_then(Value::as_str) {
                    Some("retained") => true,
                    Some("redacted") => false,
                    _ => return Err("token is not \"retained\" or \"redacted\"".into()),
                };
                let token_sha256 = o
                    .get("token_sha256")
                    .and_then(Value::as_str)
                    .filter(|s| is_hex64(s))
                    .ok_or("token_sha256 is not 64 lowercase hex digits")?
                    .to_owned();
                let claims = o
                    .get("claims")
                    .and_then(Value::as_object)
                    .ok_or("claims is not an object")?
                    .clone();
                Ok(Self::Oidc {
                    retained,
                    token_sha256,
                    claims,
                })
            }
            Some("hmac") => {
                let env = o
                    .get("envelope")
                    .and_then(Value::as_object)
                    .ok_or("envelope is not an object")?;
                if env.get("payloadType").and_then(Value::as_str)
                    != Some(RUNNER_CLAIMS_PAYLOAD_TYPE)
                {
                    return Err(format!(
                        "the envelope's payloadType is not {RUNNER_CLAIMS_PAYLOAD_TYPE:?}"
                    )
                    .into());
                }
                let payload = env
                    .get("payload")
                    .and_then(Value::as_str)
                    .and_then(crate::keys::decode_base64)
                    .ok_or("the envelope's payload is not base64")?;
                let sigs = env
                    .get("signatures")
                    .and_then(Value::as_array)
                    .ok_or("the envelope has no signatures array")?;
                let mut signatures = Vec::new();
                for s in sigs {
                    let keyid = s
                        .get("keyid")
                        .and_then(Value::as_str)
                        .ok_or("a signature has no string keyid")?;
                    let sig = s
                        .get("sig")
                        .and_then(Value::as_str)
                        .ok_or("a signature has no string sig")?;
                    signatures.push(HmacSignature {
                        keyid: keyid.to_owned(),
                        sig: crate::keys::decode_base64(sig).and_then(|b| b.try_into().ok()),
                    });
                }
                let claims = json::parse_value(&payload)
                    .map_err(|e| format!("the envelope's payload: {e}"))?
                    .as_object()
                    .ok_or("the envelope's payload is not a JSON object")?
                    .clone();
                let pae =
                    crate::document::dsse::pae(RUNNER_CLAIMS_PAYLOAD_TYPE.as_bytes(), &payload);
                Ok(Self::Hmac {
                    payload,
                    claims,
                    pae,
                    signatures,
                })
            }
            _ => Err("mode is not \"oidc\" or \"hmac\"".into()),
        }
    }
}

/// Whether `s` is 64 lowercase hex digits.
pub fn is_hex64(s: &str) -> bool {
    s.len() == 64
        && s.bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// One record of a governance evidence log.
#[derive(Debug, Clone)]
pub struct LogRecord {
    /// The line without its LF.
    pub line: Vec<u8>,
    /// The bytes the HMAC covers: the line with `,"sig":"…"` removed.
    pub signed: Vec<u8>,
    /// The parsed record.
    pub fields: Map<String, Value>,
    /// `seq`.
    pub seq: Option<u64>,
    /// `prev`.
    pub prev: Option<String>,
    /// `time`.
    pub time: Option<Timestamp>,
    /// `event`.
    pub event: Option<String>,
    /// `key_id`.
    pub key_id: Option<String>,
    /// The 32-byte tag.
    pub sig: [u8; 32],
}

/// Splits a log into LF-terminated lines (without their LF). A final byte other than LF, or an
/// empty log, is an error.
pub fn split_lines(bytes: &[u8]) -> Result<Vec<&[u8]>, crate::FormatError> {
    let Some(body) = bytes.strip_suffix(b"\n") else {
        return Err(if bytes.is_empty() {
            "the log is empty".into()
        } else {
            "the last line does not end in LF".into()
        });
    };
    let lines: Vec<&[u8]> = body.split(|b| *b == b'\n').collect();
    if lines.len() > MAX_RECORDS {
        return Err(format!("more than {MAX_RECORDS} lines").into());
    }
    Ok(lines)
}

/// Parses one line as a record: it must end in `,"sig":"<standard base64 of 32 bytes>"}` and be
/// a strict JSON object. Missing or mistyped standard members are left as None for the checks.
pub fn parse_record(line: &[u8]) -> Result<LogRecord, crate::FormatError> {
    const MARK: &[u8] = b",\"sig\":\"";
    let head = line
        .strip_suffix(b"\"}")
        .ok_or("the line does not end in a sig member")?;
    let at = head
        .windows(MARK.len())
        .rposition(|w| w == MARK)
        .ok_or("the line does not end in a sig member")?;
    let (before, rest) = head.split_at(at);
    let b64 = rest.get(MARK.len()..).unwrap_or_default();
    let sig: [u8; 32] = STANDARD
        .decode(b64)
        .ok()
        .and_then(|b| b.try_into().ok())
        .ok_or("sig is not standard base64 of 32 bytes")?;
    let v = json::parse_value(line).map_err(|e| e.to_string())?;
    let fields = v
        .as_object()
        .ok_or("the line is not a JSON object")?
        .clone();
    let mut signed = before.to_vec();
    signed.push(b'}');
    Ok(LogRecord {
        line: line.to_vec(),
        signed,
        seq: fields.get("seq").and_then(Value::as_u64),
        prev: fields
            .get("prev")
            .and_then(Value::as_str)
            .map(str::to_owned),
        time: fields
            .get("time")
            .and_then(Value::as_str)
            .and_then(|t| Timestamp::parse(t).ok()),
        event: fields
            .get("event")
            .and_then(Value::as_str)
            .map(str::to_owned),
        key_id: fields
            .get("key_id")
            .and_then(Value::as_str)
            .map(str::to_owned),
        fields,
        sig,
    })
}

/// The path of the first member named `token` or `jwt` at any depth, if any.
pub fn bearer_member(v: &Value) -> Option<String> {
    fn walk(v: &Value, depth: usize, path: &str) -> Option<String> {
        if depth > MAX_DEPTH {
            return Some(format!("{path} (nested too deeply to inspect)"));
        }
        match v {
            Value::Object(o) => o.iter().find_map(|(k, x)| {
                let here = format!("{path}.{k}");
                if k == "token" || k == "jwt" {
                    Some(here)
                } else {
                    walk(x, depth + 1, &here)
                }
            }),
            Value::Array(a) => a.iter().find_map(|x| walk(x, depth + 1, path)),
            _ => None,
        }
    }
    walk(v, 0, "")
}

/// One check of the response.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResponseCheck {
    /// Check id.
    pub id: String,
    /// `pass` or `fail`.
    pub status: String,
}

/// `release-governance-response.json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Response {
    /// `cavra-release-governance-response`.
    #[serde(rename = "_type")]
    pub type_: String,
    /// Package.
    pub package: String,
    /// Version.
    pub version: String,
    /// Commit.
    pub commit: String,
    /// `allow` or `deny`.
    pub decision: String,
    /// The checks.
    pub checks: Vec<ResponseCheck>,
    /// When it was decided.
    pub evaluated_at: Timestamp,
}

impl Response {
    /// Parses the response.
    pub fn parse(bytes: &[u8]) -> Result<Self, crate::FormatError> {
        let r: Self = json::parse(bytes).map_err(|e| e.to_string())?;
        if r.type_ != RESPONSE_TYPE {
            return Err(format!("_type is not {RESPONSE_TYPE:?}").into());
        }
        Ok(r)
    }
}

/// `release-governance-evidence-verification.json` (formats §8.7).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Report {
    /// `cavra-governance-evidence-verification`.
    #[serde(rename = "_type")]
    pub type_: String,
    /// Hex SHA-256 of the JSONL file.
    pub evidence_sha256: String,
    /// Its line count.
    pub records: u64,
    /// Hex SHA-256 of its last line (without LF).
    pub head: String,
    /// `valid` or `invalid`.
    pub chain: String,
    /// `valid` or `invalid`.
    pub signatures: String,
    /// The evidence keys used, sorted, distinct.
    pub key_ids: Vec<String>,
    /// When it was verified.
    pub verified_at: Timestamp,
}

impl Report {
    /// Parses a report.
    pub fn parse(bytes: &[u8]) -> Result<Self, crate::FormatError> {
        let r: Self = json::parse(bytes).map_err(|e| e.to_string())?;
        if r.type_ != REPORT_TYPE {
            return Err(format!("_type is not {REPORT_TYPE:?}").into());
        }
        Ok(r)
    }
}
