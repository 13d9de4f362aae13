//! The connected side of release governance (formats §8): HMAC secrets and their trust-root
//! entries, pinned OIDC providers, and the files the CAVRA daemon leaves in `.cavra/go-daemon/`
//! (runner claims, hash-chained HMAC evidence, the response and the published report). Secrets
//! come from files or the `CAVRA_*` environment variables and are never written into any of
//! these files.

use airlock_core::digest::sha256;
use airlock_formats::document::dsse::pae;
use airlock_formats::document::governance::{
    CLAIMS_FILE, CLAIMS_TYPE, EVIDENCE_FILE, JWT_FILE, REPORT_FILE, RESPONSE_FILE, RESPONSE_TYPE,
    RUNNER_CLAIMS_PAYLOAD_TYPE,
};
use airlock_formats::document::governance_pins::{GovernancePolicy, Jwks, OidcProvider};
use airlock_formats::keys::{encode_base64, hex, KeyEntry, KeyId, HMAC_SHA256};
use airlock_formats::timestamp::Timestamp;
use airlock_verifier::trust::governance::{hmac_sha256, verify_log, Keyring};
use airlock_verifier::vault::{Secret, Vault};
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;

/// The runner-auth HMAC secret.
pub const RUNNER_KEY_ENV: &str = "CAVRA_RUNNER_AUTH_HMAC_KEY";
/// The runner-auth key id.
pub const RUNNER_KEY_ID_ENV: &str = "CAVRA_RUNNER_AUTH_KEY_ID";
/// The daemon evidence HMAC secret.
pub const EVIDENCE_KEY_ENV: &str = "CAVRA_DAEMON_EVIDENCE_HMAC_KEY";
/// The daemon evidence key id.
pub const EVIDENCE_KEY_ID_ENV: &str = "CAVRA_DAEMON_EVIDENCE_KEY_ID";
/// The OIDC JWT, when it is given in the environment.
pub const OIDC_TOKEN_ENV: &str = "CAVRA_RUNNER_AUTH_OIDC_TOKEN";

/// A new random secret: 32 bytes from the OS, as 64 hex characters (what CI secret stores hold).
pub fn generate_secret() -> Result<Secret, String> {
    let mut raw = zeroize::Zeroizing::new([0u8; 32]);
    getrandom::fill(&mut *raw).map_err(|e| format!("the OS random source failed: {e}"))?;
    Ok(Secret::from_file_bytes(hex(&*raw).into_bytes()))
}

/// A secret from an environment variable (one trailing LF ignored, like a vault file).
pub fn secret_from_env(var: &str) -> Result<Secret, String> {
    let v = std::env::var(var).map_err(|_| format!("{var} is not set"))?;
    if v.is_empty() {
        return Err(format!("{var} is empty"));
    }
    Ok(Secret::from_file_bytes(v.into_bytes()))
}

/// The secrets named by the `CAVRA_*` variables that are set, as a vault (the packer's self-check).
pub fn vault_from_env() -> Vault {
    let mut v = Vault::default();
    for (id, s) in secrets_from_env() {
        v.insert(id, s);
    }
    v
}

/// The HMAC secrets the `CAVRA_*` variables hold, with their key ids.
pub fn secrets_from_env() -> Vec<(KeyId, Secret)> {
    let mut out = Vec::new();
    for (key, id) in [
        (RUNNER_KEY_ENV, RUNNER_KEY_ID_ENV),
        (EVIDENCE_KEY_ENV, EVIDENCE_KEY_ID_ENV),
    ] {
        if let (Ok(s), Some(id)) = (
            secret_from_env(key),
            std::env::var(id).ok().and_then(|i| KeyId::new(&i).ok()),
        ) {
            out.push((id, s));
        }
    }
    out
}

/// The trust-root entry of an HMAC key (formats §8.1).
pub fn hmac_entry(
    key_id: &KeyId,
    secret: &Secret,
    not_before: Timestamp,
    not_after: Timestamp,
) -> KeyEntry {
    KeyEntry {
        key_id: key_id.clone(),
        algorithm: HMAC_SHA256.into(),
        public_key: secret.sha256_hex(),
        identity: None,
        not_before: Some(not_before),
        not_after: Some(not_after),
    }
}

/// A pinned OIDC provider from a JWKS document (only `kty`, `kid`, `alg`, `use`, `crv`, `n`, `e`,
/// `x`, `y` are kept). A JWKS carrying private key material is refused: it is not a provider's
/// published key set, and its private half must not travel anywhere near a root.
pub fn provider(issuer: &str, audience: &str, jwks: &[u8]) -> Result<OidcProvider, String> {
    let v = airlock_formats::json::parse_value(jwks).map_err(|e| format!("the JWKS: {e}"))?;
    let keys = v
        .get("keys")
        .and_then(Value::as_array)
        .ok_or("the JWKS has no keys array")?;
    let keep = ["kty", "kid", "alg", "use", "crv", "n", "e", "x", "y"];
    let keys = keys
        .iter()
        .map(|k| {
            let o = k.as_object().ok_or("a JWK is not an object")?;
            if let Some(m) = ["d", "p", "q", "dp", "dq", "qi", "oth", "k"]
                .iter()
                .find(|m| o.contains_key(**m))
            {
                return Err(format!(
                    "the JWKS carries private key material ({m:?}); pin the provider's published public keys"
                ));
            }
            Ok(Value::Object(
                o.iter()
                    .filter(|(n, _)| keep.contains(&n.as_str()))
                    .map(|(n, v)| (n.clone(), v.clone()))
                    .collect(),
            ))
        })
        .collect::<Result<Vec<_>, String>>()?;
    let p = OidcProvider {
        issuer: issuer.into(),
        audience: audience.into(),
        jwks: Jwks { keys },
    };
    GovernancePolicy {
        oidc: vec![p.clone()],
        claims: BTreeMap::new(),
        commit_claim: "sha".into(),
        ref_claim: "ref".into(),
    }
    .validate()?;
    Ok(p)
}

/// The daemon's evidence log, written record by record (formats §8.5).
pub struct EvidenceLog {
    key_id: KeyId,
    secret: Secret,
    bytes: Vec<u8>,
    prev: [u8; 32],
    seq: u64,
}

impl EvidenceLog {
    /// An empty log signed with `secret` under `key_id`.
    pub fn new(key_id: KeyId, secret: Secret) -> Self {
        Self {
            key_id,
            secret,
            bytes: Vec::new(),
            prev: [0; 32],
            seq: 0,
        }
    }

    /// Appends a record: `seq`, `prev`, `time`, `event`, `key_id`, the fields in order, `sig`.
    pub fn append(&mut self, time: Timestamp, event: &str, fields: &[(&str, Value)]) -> &mut Self {
        self.seq += 1;
        let s = |v: &Value| serde_json::to_string(v).unwrap_or_default();
        let mut line = format!(
            "{{\"seq\":{},\"prev\":\"{}\",\"time\":{},\"event\":{},\"key_id\":{}",
            self.seq,
            hex(&self.prev),
            s(&Value::String(time.to_string())),
            s(&Value::String(event.into())),
            s(&Value::String(self.key_id.to_string())),
        );
        for (name, value) in fields {
            line.push_str(&format!(
                ",{}:{}",
                s(&Value::String((*name).into())),
                s(value)
            ));
        }
        let mut signed = line.clone();
        signed.push('}');
        let tag = hmac_sha256(&self.secret, signed.as_bytes());
        line.push_str(&format!(",\"sig\":\"{}\"}}", encode_base64(&tag)));
        self.prev = sha256(line.as_bytes());
        self.bytes.extend_from_slice(line.as_bytes());
        self.bytes.push(b'\n');
        self
    }

    /// The log's bytes.
    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }
}

/// The published report over a log (formats §8.7), computed by the verifier's own code with the
/// given secrets.
pub fn report(log: &[u8], secrets: &Vault, verified_at: Timestamp) -> Vec<u8> {
    let check = verify_log(log, &Keyring::Secrets(secrets), verified_at);
    airlock_formats::document::dsse::to_pretty_json(&check.report(verified_at))
}

/// How the runner proved its identity.
pub enum RunnerAuth<'a> {
    /// An OIDC JWT (compact), retained in the bundle or redacted.
    Oidc {
        /// The compact JWT.
        jwt: &'a str,
        /// Keep `runner-oidc-token.jwt` in the bundle.
        retain: bool,
    },
    /// HMAC-signed runner claims.
    Hmac {
        /// The claims.
        claims: Map<String, Value>,
        /// `CAVRA_RUNNER_AUTH_KEY_ID`.
        key_id: KeyId,
        /// `CAVRA_RUNNER_AUTH_HMAC_KEY`.
        secret: &'a Secret,
    },
}

/// What the daemon decided about one release.
pub struct DaemonRun<'a> {
    /// Package.
    pub package: &'a str,
    /// Version.
    pub version: &'a str,
    /// Commit.
    pub commit: &'a str,
    /// SHA-256 (hex) of the CAVRA runtime the runner verified before use.
    pub runtime_sha256: &'a str,
    /// The checks and their status.
    pub checks: Vec<(String, bool)>,
    /// The runner's proof.
    pub auth: RunnerAuth<'a>,
    /// `CAVRA_DAEMON_EVIDENCE_KEY_ID`.
    pub evidence_key_id: KeyId,
    /// `CAVRA_DAEMON_EVIDENCE_HMAC_KEY`.
    pub evidence_secret: &'a Secret,
    /// When it ran.
    pub time: Timestamp,
}

fn jwt_claims(jwt: &str) -> Result<Map<String, Value>, String> {
    use base64::Engine as _;
    let payload = jwt.split('.').nth(1).ok_or("the JWT has no payload")?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .map_err(|_| "the JWT payload is not base64url")?;
    airlock_formats::json::parse_value(&bytes)
        .map_err(|e| format!("the JWT payload: {e}"))?
        .as_object()
        .cloned()
        .ok_or_else(|| "the JWT payload is not an object".into())
}

/// The `.cavra/go-daemon/` files of one release, by bundle path.
pub fn daemon_files(run: &DaemonRun<'_>) -> Result<BTreeMap<String, Vec<u8>>, String> {
    let mut files = BTreeMap::new();
    let all_pass = run.checks.iter().all(|(_, ok)| *ok);
    let response = json!({
        "_type": RESPONSE_TYPE,
        "package": run.package,
        "version": run.version,
        "commit": run.commit,
        "decision": if all_pass && !run.checks.is_empty() { "allow" } else { "deny" },
        "checks": run.checks.iter().map(|(id, ok)| json!({"id": id, "status": if *ok { "pass" } else { "fail" }})).collect::<Vec<_>>(),
        "evaluated_at": run.time.to_string(),
    });
    let response_bytes = airlock_formats::document::dsse::to_pretty_json(&response);
    let (claims_file, runner_fields): (Value, Vec<(&str, Value)>) = match &run.auth {
        RunnerAuth::Oidc { jwt, retain } => {
            let claims = jwt_claims(jwt)?;
            let token_sha256 = hex(&sha256(jwt.as_bytes()));
            if *retain {
                files.insert(JWT_FILE.to_owned(), format!("{jwt}\n").into_bytes());
            }
            (
                json!({"_type": CLAIMS_TYPE, "mode": "oidc",
                       "token": if *retain { "retained" } else { "redacted" },
                       "token_sha256": token_sha256, "claims": claims}),
                vec![
                    ("mode", json!("oidc")),
                    ("token_sha256", json!(token_sha256)),
                    ("claims", Value::Object(claims)),
                ],
            )
        }
        RunnerAuth::Hmac {
            claims,
            key_id,
            secret,
        } => {
            let payload = serde_json::to_vec(claims).map_err(|e| e.to_string())?;
            let tag = hmac_sha256(
                secret,
                &pae(RUNNER_CLAIMS_PAYLOAD_TYPE.as_bytes(), &payload),
            );
            (
                json!({"_type": CLAIMS_TYPE, "mode": "hmac", "envelope": {
                    "payloadType": RUNNER_CLAIMS_PAYLOAD_TYPE,
                    "payload": encode_base64(&payload),
                    "signatures": [{"keyid": key_id.as_str(), "sig": encode_base64(&tag)}]}}),
                vec![
                    ("mode", json!("hmac")),
                    ("key_id_runner", json!(key_id.as_str())),
                    ("claims", Value::Object(claims.clone())),
                ],
            )
        }
    };
    let mut log = EvidenceLog::new(run.evidence_key_id.clone(), run.evidence_secret.clone());
    log.append(
        run.time,
        "runtime-package-verified",
        &[
            ("package", json!("cavra-go-runtime")),
            ("version", json!(run.version)),
            ("sha256", json!(run.runtime_sha256)),
        ],
    );
    log.append(run.time, "runner-authenticated", &runner_fields);
    log.append(
        run.time,
        "release-governance-checked",
        &[
            ("package", json!(run.package)),
            ("version", json!(run.version)),
            ("commit", json!(run.commit)),
            ("decision", response["decision"].clone()),
            ("response_sha256", json!(hex(&sha256(&response_bytes)))),
        ],
    );
    let mut vault = Vault::default();
    vault.insert(run.evidence_key_id.clone(), run.evidence_secret.clone());
    files.insert(
        REPORT_FILE.to_owned(),
        report(log.bytes(), &vault, run.time),
    );
    files.insert(EVIDENCE_FILE.to_owned(), log.bytes().to_vec());
    files.insert(RESPONSE_FILE.to_owned(), response_bytes);
    files.insert(
        CLAIMS_FILE.to_owned(),
        airlock_formats::document::dsse::to_pretty_json(&claims_file),
    );
    Ok(files)
}
