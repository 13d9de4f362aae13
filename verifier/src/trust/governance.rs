//! Release-governance evidence and runner identity, verified offline (formats §8.3–§8.8). Every
//! failure is reported with the code §8 assigns; nothing stops at the first problem.

use super::jws::Jws;
use super::revocations::EffectiveRevocations;
use super::root::TrustedRoot;
use super::signatures::RevokedKeys;
use crate::document::governance::{
    bearer_member, parse_record, split_lines, LogRecord, Report, Response, RunnerClaims, EVENTS,
    REPORT_TYPE,
};
use crate::document::governance_pins::{Pins, Provider};
use crate::document::provenance::glob_match;
use crate::keys::{hex, KeyId, KeyMaterial};
use crate::reason::{Code, Reason};
use crate::timestamp::Timestamp;
use crate::vault::{Secret, Vault};
use airlock_core::digest::sha256;
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::collections::{BTreeMap, BTreeSet};

/// Longest OIDC token lifetime accepted, in seconds.
pub(crate) const MAX_TOKEN_LIFETIME: i64 = 3600;
/// Most reasons one log contributes (a log broken at its start would otherwise repeat itself).
const MAX_LOG_REASONS: usize = 16;

/// HMAC-SHA256 of `data` under `secret`.
pub fn hmac_sha256(secret: &Secret, data: &[u8]) -> [u8; 32] {
    let mut m = <Hmac<sha2::Sha256> as Mac>::new_from_slice(secret.expose())
        .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
    m.update(data);
    m.finalize().into_bytes().into()
}

fn hmac_verifies(secret: &Secret, data: &[u8], tag: &[u8; 32]) -> bool {
    <Hmac<sha2::Sha256> as Mac>::new_from_slice(secret.expose())
        .map(|mut m| {
            m.update(data);
            m.verify_slice(tag).is_ok()
        })
        .unwrap_or(false)
}

/// Where HMAC keys are judged: against a trust root (role, window, revocation, the vault's secret
/// matching `secret_sha256`), or, for an auditor without one, by the secrets given alone.
pub enum Keyring<'a> {
    /// The trust root in force.
    Root {
        /// The root.
        root: &'a TrustedRoot,
        /// Revoked keys.
        revoked: &'a RevokedKeys,
        /// The vault.
        vault: &'a Vault,
    },
    /// Secrets only (`airlock evidence verify --hmac-key` without a trust root).
    Secrets(&'a Vault),
}

impl Keyring<'_> {
    /// The secret of `key_id` if that key is trusted for `role` at `at`.
    pub fn secret(&self, role: &str, key_id: &str, at: Timestamp) -> Result<&Secret, String> {
        let id = KeyId::new(key_id).map_err(|_| format!("key id {key_id:?} is malformed"))?;
        match self {
            Keyring::Secrets(vault) => vault
                .secret_unpinned(&id)
                .ok_or_else(|| format!("key {id}: no secret was given")),
            Keyring::Root {
                root,
                revoked,
                vault,
            } => {
                let r = root.root();
                let key = r
                    .keys
                    .get(&id)
                    .ok_or_else(|| format!("key {id} is not in the trust root"))?;
                let KeyMaterial::Hmac { secret_sha256 } = &key.material else {
                    return Err(format!("key {id} is not an HMAC-SHA256 key"));
                };
                if !r.role(role).is_some_and(|x| x.key_ids.contains(&id)) {
                    return Err(format!("key {id} is not in the {role} role"));
                }
                if revoked.contains(key) {
                    return Err(format!("key {id} is revoked"));
                }
                if !key.valid_at(at) {
                    return Err(format!("key {id} was outside its validity window at {at}"));
                }
                vault
                    .secret(&id, secret_sha256)
                    .map_err(|m| format!("key {id}: {m}"))
            }
        }
    }
}

/// The outcome of verifying a governance evidence log.
#[derive(Debug, Clone, Default)]
pub struct LogCheck {
    /// Problems found (`governance-evidence-invalid`, `governance-key-untrusted`).
    pub reasons: Vec<Reason>,
    /// seq, prev and the record form hold on every line.
    pub chain_valid: bool,
    /// Every record's HMAC that could be computed verified, and every line is a record.
    pub signatures_valid: bool,
    /// Hex SHA-256 of the file.
    pub evidence_sha256: String,
    /// Line count.
    pub records: u64,
    /// Hex SHA-256 of the last line (without LF).
    pub head: String,
    /// Every record's `key_id`, sorted, distinct.
    pub key_ids: Vec<String>,
    /// The records that parsed, in order.
    pub parsed: Vec<LogRecord>,
}

impl LogCheck {
    /// The report the appliance would publish (formats §8.7).
    pub fn report(&self, verified_at: Timestamp) -> Report {
        let status = |ok: bool| if ok { "valid" } else { "invalid" }.to_owned();
        Report {
            type_: REPORT_TYPE.into(),
            evidence_sha256: self.evidence_sha256.clone(),
            records: self.records,
            head: self.head.clone(),
            chain: status(self.chain_valid),
            signatures: status(self.signatures_valid),
            key_ids: self.key_ids.clone(),
            verified_at,
        }
    }

    /// Whether nothing is wrong with the log.
    pub fn ok(&self) -> bool {
        self.reasons.is_empty() && self.chain_valid && self.signatures_valid
    }
}

/// Verifies a governance evidence log (formats §8.5, §8.8).
pub fn verify_log(bytes: &[u8], keys: &Keyring<'_>, now: Timestamp) -> LogCheck {
    let mut out = LogCheck {
        chain_valid: true,
        signatures_valid: true,
        evidence_sha256: hex(&sha256(bytes)),
        ..LogCheck::default()
    };
    let mut reasons = Vec::new();
    let invalid = |n: usize, m: String| {
        Reason::new(
            Code::GovernanceEvidenceInvalid,
            format!("release-governance-evidence.jsonl line {n}: {m}"),
        )
    };
    let lines: Vec<&[u8]> = match split_lines(bytes) {
        Ok(l) => l,
        Err(e) => {
            reasons.push(Reason::new(
                Code::GovernanceEvidenceInvalid,
                format!("release-governance-evidence.jsonl: {e}"),
            ));
            out.chain_valid = false;
            out.signatures_valid = false;
            bytes
                .split(|b| *b == b'\n')
                .filter(|l| !l.is_empty())
                .take(crate::document::governance::MAX_RECORDS)
                .collect()
        }
    };
    out.records = lines.len() as u64;
    out.head = lines.last().map(|l| hex(&sha256(l))).unwrap_or_default();
    let mut prev = [0u8; 32];
    let mut last_time: Option<Timestamp> = None;
    let mut key_ids = BTreeSet::new();
    for (i, line) in lines.iter().enumerate() {
        let n = i + 1;
        let this = sha256(line);
        let record = match parse_record(line) {
            Ok(r) => r,
            Err(e) => {
                reasons.push(invalid(n, format!("not a signed record: {e}")));
                out.chain_valid = false;
                out.signatures_valid = false;
                prev = this;
                continue;
            }
        };
        if record.seq != Some(n as u64) {
            reasons.push(invalid(n, format!("seq is {:?}, not {n}", record.seq)));
            out.chain_valid = false;
        }
        if record.prev.as_deref() != Some(hex(&prev).as_str()) {
            reasons.push(invalid(
                n,
                "prev is not the SHA-256 of the previous line".into(),
            ));
            out.chain_valid = false;
        }
        prev = this;
        if record.event.is_none() {
            reasons.push(invalid(n, "event is missing or not a string".into()));
        }
        if let Some(path) = bearer_member(&Value::Object(record.fields.clone())) {
            reasons.push(invalid(
                n,
                format!("carries a bearer-token member ({path}); tokens never enter the log"),
            ));
        }
        match record.time {
            None => reasons.push(invalid(n, "time is missing or not an RFC 3339 time".into())),
            Some(t) => {
                if t > now {
                    reasons.push(invalid(n, format!("time {t} is later than now ({now})")));
                }
                if last_time.is_some_and(|l| t < l) {
                    reasons.push(invalid(
                        n,
                        format!("time {t} is before the previous record's"),
                    ));
                }
                last_time = last_time.max(Some(t));
                match &record.key_id {
                    None => reasons.push(invalid(n, "key_id is missing or not a string".into())),
                    Some(k) => match keys.secret("governance-evidence", k, t) {
                        // A record from the future is already invalid: its key is not judged
                        // there (its HMAC still is, when the key would be trusted).
                        Err(_) if t > now => {}
                        Err(m) => reasons.push(Reason::new(
                            Code::GovernanceKeyUntrusted,
                            format!("release-governance-evidence.jsonl line {n}: {m}"),
                        )),
                        Ok(secret) => {
                            if !hmac_verifies(secret, &record.signed, &record.sig) {
                                out.signatures_valid = false;
                                reasons.push(invalid(
                                    n,
                                    format!("the HMAC by key {k} does not verify"),
                                ));
                            }
                        }
                    },
                }
            }
        }
        if let Some(k) = &record.key_id {
            key_ids.insert(k.clone());
        }
        out.parsed.push(record);
    }
    if reasons.len() > MAX_LOG_REASONS {
        let more = reasons.len() - MAX_LOG_REASONS;
        reasons.truncate(MAX_LOG_REASONS);
        reasons.push(Reason::new(
            Code::GovernanceEvidenceInvalid,
            format!("release-governance-evidence.jsonl: {more} more problems not listed"),
        ));
    }
    out.reasons = reasons;
    out.key_ids = key_ids.into_iter().collect();
    out
}

/// The release the governance evidence must be about.
#[derive(Debug, Clone, Copy)]
pub struct ReleaseFacts<'a> {
    /// Package.
    pub package: &'a str,
    /// Version.
    pub version: &'a str,
    /// Commit.
    pub commit: &'a str,
    /// Ref.
    pub ref_: &'a str,
}

/// The five files' bytes, as the bundle holds them.
#[derive(Debug, Clone, Copy, Default)]
pub struct Files<'a> {
    /// runner-auth-claims.json
    pub claims: Option<&'a [u8]>,
    /// runner-oidc-token.jwt
    pub jwt: Option<&'a [u8]>,
    /// release-governance-response.json
    pub response: Option<&'a [u8]>,
    /// release-governance-evidence.jsonl
    pub evidence: Option<&'a [u8]>,
    /// release-governance-evidence-verification.json
    pub report: Option<&'a [u8]>,
}

/// The receipt's `governance` object (formats §8.3): null for what could not be read.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct GovernanceRef {
    /// `oidc` or `hmac`.
    pub mode: Option<String>,
    /// The identity's `iss`.
    pub issuer: Option<String>,
    /// The identity's `sub`.
    pub subject: Option<String>,
    /// Pinned claim → the identity's value.
    pub claims: BTreeMap<String, Value>,
    /// Hex SHA-256 of the evidence log.
    pub evidence_sha256: Option<String>,
    /// Its record count.
    pub records: Option<u64>,
    /// Hex SHA-256 of its last line.
    pub head: Option<String>,
    /// The evidence keys used.
    pub evidence_key_ids: Option<Vec<String>>,
}

/// Who ran the release, for people (`airlock verify`'s output).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunnerIdentity {
    /// `iss`.
    pub issuer: Option<String>,
    /// `sub`.
    pub subject: Option<String>,
    /// `repository` (or GitLab's `project_path`).
    pub repository: Option<String>,
    /// `workflow_ref` (or `workflow`, GitLab's `ci_config_ref_uri`).
    pub workflow: Option<String>,
}

impl RunnerIdentity {
    fn of(c: &Map<String, Value>) -> Self {
        let s = |names: &[&str]| {
            names
                .iter()
                .find_map(|n| c.get(*n).and_then(Value::as_str))
                .map(str::to_owned)
        };
        Self {
            issuer: s(&["iss"]),
            subject: s(&["sub"]),
            repository: s(&["repository", "project_path"]),
            workflow: s(&["workflow_ref", "workflow", "ci_config_ref_uri"]),
        }
    }
}

/// The outcome of the governance checks for one bundle. Only [`check`] makes one (private
/// fields, no `Default`, no public constructor): an outcome without reasons was checked.
#[derive(Debug, Clone)]
pub struct Outcome {
    reasons: Vec<Reason>,
    receipt: GovernanceRef,
    identity: Option<RunnerIdentity>,
}

impl Outcome {
    /// Every problem.
    pub fn reasons(&self) -> &[Reason] {
        &self.reasons
    }

    /// For the receipt.
    pub fn receipt(&self) -> &GovernanceRef {
        &self.receipt
    }

    /// The runner identity, when the claims could be read.
    pub fn identity(&self) -> Option<&RunnerIdentity> {
        self.identity.as_ref()
    }

    /// (reasons, receipt facts, runner identity).
    pub fn into_parts(self) -> (Vec<Reason>, GovernanceRef, Option<RunnerIdentity>) {
        (self.reasons, self.receipt, self.identity)
    }
}

/// Everything the governance checks look at.
pub struct Inputs<'a> {
    /// The trust root in force (with a `governance` object).
    pub root: &'a TrustedRoot,
    /// Its validated pins.
    pub pins: &'a Pins,
    /// The revocations in force.
    pub revoked: &'a EffectiveRevocations,
    /// The vault.
    pub vault: &'a Vault,
    /// The files.
    pub files: Files<'a>,
    /// The release evidence's facts, when it could be read.
    pub release: Option<ReleaseFacts<'a>>,
    /// The clock.
    pub now: Timestamp,
}

fn int(c: &Map<String, Value>, name: &str) -> Option<i64> {
    c.get(name).and_then(Value::as_i64)
}

/// `iat` ≤ `exp`, `exp` − `iat` ≤ 3600, `iat` ≤ now, both JSON integers.
fn token_times(c: &Map<String, Value>, now: Timestamp) -> Result<(), String> {
    let (Some(iat), Some(exp)) = (int(c, "iat"), int(c, "exp")) else {
        return Err("iat and exp must be JSON integers".into());
    };
    if iat > exp {
        return Err(format!("iat {iat} is after exp {exp}"));
    }
    // i128: two extreme i64 values must not overflow.
    let lifetime = i128::from(exp) - i128::from(iat);
    if lifetime > i128::from(MAX_TOKEN_LIFETIME) {
        return Err(format!(
            "the token lives {lifetime} s, more than {MAX_TOKEN_LIFETIME} s"
        ));
    }
    if iat > now.unix() {
        return Err(format!("iat {iat} is later than now ({})", now.unix()));
    }
    Ok(())
}

fn audience_ok(c: &Map<String, Value>, p: &Provider) -> bool {
    match c.get("aud") {
        Some(Value::String(a)) => *a == p.audience,
        Some(Value::Array(a)) => a.iter().any(|x| x.as_str() == Some(p.audience.as_str())),
        _ => false,
    }
}

fn provider<'p>(pins: &'p Pins, c: &Map<String, Value>) -> Result<&'p Provider, String> {
    let iss = c
        .get("iss")
        .and_then(Value::as_str)
        .ok_or("iss is missing or not a string")?;
    let p = pins
        .provider(iss)
        .ok_or_else(|| format!("issuer {iss:?} is not a pinned OIDC provider"))?;
    if !audience_ok(c, p) {
        return Err(format!(
            "aud does not contain the pinned audience {:?}",
            p.audience
        ));
    }
    Ok(p)
}

/// A retained token: the JWT file, its digest, the JWS, and the claims file against the token.
fn verify_retained(
    pins: &Pins,
    jwt: &[u8],
    token_sha256: &str,
    claims: &Map<String, Value>,
    now: Timestamp,
) -> Result<(), String> {
    let token = jwt.strip_suffix(b"\n").unwrap_or(jwt);
    if !token.is_ascii() {
        return Err("runner-oidc-token.jwt is not ASCII".into());
    }
    if hex(&sha256(token)) != token_sha256 {
        return Err("the SHA-256 of runner-oidc-token.jwt is not token_sha256".into());
    }
    let text = std::str::from_utf8(token).map_err(|_| "runner-oidc-token.jwt is not ASCII")?;
    let jws = Jws::parse(text).map_err(|e| format!("runner-oidc-token.jwt: {e}"))?;
    let p = provider(pins, &jws.payload).map_err(|e| format!("the token's {e}"))?;
    jws.verify(p)
        .map_err(|e| format!("runner-oidc-token.jwt: {e}"))?;
    token_times(&jws.payload, now).map_err(|e| format!("the token: {e}"))?;
    for (name, value) in claims {
        if jws.payload.get(name) != Some(value) {
            return Err(format!(
                "the claims file's {name:?} differs from the token's"
            ));
        }
    }
    Ok(())
}

/// HMAC runner claims: the `runner-auth` threshold of distinct trusted keys, judged at `iat`.
fn verify_hmac_claims(
    input: &Inputs<'_>,
    keys: &Keyring<'_>,
    claims: &Map<String, Value>,
    pae: &[u8],
    signatures: &[crate::document::governance::HmacSignature],
) -> Result<(), String> {
    let role = input
        .root
        .root()
        .role("runner-auth")
        .ok_or("the trust root has no runner-auth role for HMAC runner claims")?;
    let iat = int(claims, "iat").ok_or("iat is missing or not a JSON integer")?;
    if iat > input.now.unix() {
        return Err(format!(
            "iat {iat} is later than now ({})",
            input.now.unix()
        ));
    }
    let at = Timestamp::from_unix(iat).ok_or("iat is out of range")?;
    let mut counted = BTreeSet::new();
    let mut uncounted = Vec::new();
    for s in signatures {
        let Some(key) = KeyId::new(&s.keyid)
            .ok()
            .and_then(|id| input.root.root().keys.get(&id))
        else {
            continue;
        };
        match keys.secret("runner-auth", &s.keyid, at) {
            Err(m) => uncounted.push(m),
            Ok(secret) => {
                if !s.sig.is_some_and(|t| hmac_verifies(secret, pae, &t)) {
                    return Err(format!("the HMAC by key {} does not verify", s.keyid));
                }
                counted.insert(*key.raw());
            }
        }
    }
    if counted.len() < role.threshold {
        let why = if uncounted.is_empty() {
            String::new()
        } else {
            format!(" ({})", uncounted.join("; "))
        };
        return Err(format!(
            "{} of the {} required runner-auth keys signed{why}",
            counted.len(),
            role.threshold
        ));
    }
    Ok(())
}

/// Runs every governance check for one bundle.
pub fn check(input: &Inputs<'_>) -> Outcome {
    let mut out = Outcome {
        reasons: Vec::new(),
        receipt: GovernanceRef::default(),
        identity: None,
    };
    let mut reasons = Vec::new();
    let missing = |f: &str| {
        Reason::new(
            Code::GovernanceMissing,
            format!("{f} is missing: the trust root requires release-governance evidence"),
        )
    };
    let files = &input.files;
    for (f, b) in [
        (crate::document::governance::CLAIMS_FILE, files.claims),
        (crate::document::governance::RESPONSE_FILE, files.response),
        (crate::document::governance::EVIDENCE_FILE, files.evidence),
        (crate::document::governance::REPORT_FILE, files.report),
    ] {
        if b.is_none() {
            reasons.push(missing(f));
        }
    }
    let keys = Keyring::Root {
        root: input.root,
        revoked: input.revoked.keys(),
        vault: input.vault,
    };
    // 2. The evidence log.
    let log = files.evidence.map(|b| verify_log(b, &keys, input.now));
    let mut events: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    if let Some(log) = &log {
        reasons.extend(log.reasons.iter().cloned());
        out.receipt.evidence_sha256 = Some(log.evidence_sha256.clone());
        out.receipt.records = Some(log.records);
        out.receipt.head = Some(log.head.clone());
        out.receipt.evidence_key_ids = Some(log.key_ids.clone());
        for (i, r) in log.parsed.iter().enumerate() {
            if let Some(e) = r
                .event
                .as_deref()
                .and_then(|e| EVENTS.iter().find(|x| **x == e))
            {
                events.entry(e).or_default().push(i);
            }
        }
        let positions: Vec<Option<usize>> = EVENTS
            .iter()
            .map(|e| match events.get(e).map(Vec::as_slice) {
                Some([one]) => Some(*one),
                _ => None,
            })
            .collect();
        let ordered = positions
            .windows(2)
            .all(|w| matches!(w, [Some(a), Some(b)] if a < b));
        if positions.iter().any(Option::is_none) || !ordered {
            reasons.push(Reason::new(
                Code::GovernanceMismatch,
                "release-governance-evidence.jsonl: the events runtime-package-verified, runner-authenticated and release-governance-checked do not each occur exactly once, in that order",
            ));
        }
        for r in &log.parsed {
            let want: &[&str] = match r.event.as_deref() {
                Some("runtime-package-verified") => &["package", "version", "sha256"],
                Some("runner-authenticated") => &["mode"],
                Some("release-governance-checked") => &[
                    "package",
                    "version",
                    "commit",
                    "decision",
                    "response_sha256",
                ],
                _ => &[],
            };
            let bad: Vec<&str> = want
                .iter()
                .copied()
                .filter(|f| !r.fields.get(*f).is_some_and(Value::is_string))
                .collect();
            let claims_bad = r.event.as_deref() == Some("runner-authenticated")
                && !r.fields.get("claims").is_some_and(Value::is_object);
            if !bad.is_empty() || claims_bad {
                reasons.push(Reason::new(
                    Code::GovernanceEvidenceInvalid,
                    format!(
                        "release-governance-evidence.jsonl: the {} record lacks or mistypes {}",
                        r.event.as_deref().unwrap_or_default(),
                        if claims_bad {
                            "claims".to_owned()
                        } else {
                            bad.join(", ")
                        }
                    ),
                ));
            }
        }
    }
    let record = |event: &str| -> Option<&LogRecord> {
        let log = log.as_ref()?;
        match events.get(event).map(Vec::as_slice) {
            Some([one]) => log.parsed.get(*one),
            _ => None,
        }
    };
    // 3. The runner identity.
    let claims = files.claims.map(RunnerClaims::parse);
    let retained = matches!(claims, Some(Ok(RunnerClaims::Oidc { retained: true, .. })));
    if retained && files.jwt.is_none() {
        reasons.push(missing(crate::document::governance::JWT_FILE));
    }
    if !retained && files.jwt.is_some() && matches!(claims, Some(Ok(_))) {
        reasons.push(Reason::new(
            Code::RunnerIdentityInvalid,
            "runner-oidc-token.jwt is present but the claims do not say the token is retained",
        ));
    }
    let id_invalid = |m: String| {
        Reason::new(
            Code::RunnerIdentityInvalid,
            format!("runner-auth-claims.json: {m}"),
        )
    };
    let id_mismatch = |m: String| {
        Reason::new(
            Code::RunnerIdentityMismatch,
            format!("runner-auth-claims.json: {m}"),
        )
    };
    let ra = record("runner-authenticated");
    match &claims {
        None => {}
        Some(Err(e)) => reasons.push(id_invalid(e.to_string())),
        Some(Ok(c)) => {
            out.receipt.mode = Some(c.mode().into());
            let cl = c.claims();
            let ident = RunnerIdentity::of(cl);
            out.receipt.issuer = ident.issuer.clone();
            out.receipt.subject = ident.subject.clone();
            out.identity = Some(ident);
            // Authenticity.
            let authentic = match c {
                RunnerClaims::Oidc {
                    retained: true,
                    token_sha256,
                    claims,
                } => match files.jwt {
                    Some(jwt) => verify_retained(input.pins, jwt, token_sha256, claims, input.now),
                    None => Ok(()),
                },
                RunnerClaims::Oidc {
                    retained: false,
                    claims,
                    ..
                } => provider(input.pins, claims)
                    .map(|_| ())
                    .and_then(|()| token_times(claims, input.now)),
                RunnerClaims::Hmac {
                    claims,
                    pae,
                    signatures,
                    ..
                } => verify_hmac_claims(input, &keys, claims, pae, signatures),
            };
            if let Err(e) = authentic {
                reasons.push(id_invalid(e));
            }
            // The runner-authenticated record names this identity.
            let names_it = ra.is_some_and(|r| {
                let f = &r.fields;
                let same_claims = f.get("claims").and_then(Value::as_object) == Some(cl);
                let same_token = match c {
                    RunnerClaims::Oidc { token_sha256, .. } => {
                        f.get("token_sha256").and_then(Value::as_str) == Some(token_sha256)
                    }
                    RunnerClaims::Hmac { signatures, .. } => f
                        .get("key_id_runner")
                        .and_then(Value::as_str)
                        .is_some_and(|k| signatures.iter().any(|s| s.keyid == k)),
                };
                same_claims && same_token
            });
            if matches!(
                c,
                RunnerClaims::Oidc {
                    retained: false,
                    ..
                }
            ) {
                // The record's own key and HMAC are judged with the log (§8.5): an untrusted
                // key there is governance-key-untrusted, which rejects already.
                if !names_it {
                    reasons.push(id_invalid(
                        "the redacted claims are not the ones the evidence log's runner-authenticated record carries (same token_sha256 and claims)".into(),
                    ));
                }
            } else if log.is_some() && !names_it {
                reasons.push(Reason::new(
                    Code::GovernanceMismatch,
                    "release-governance-evidence.jsonl: the runner-authenticated record does not name the presented runner identity",
                ));
            }
            // Pins, commit and ref.
            let policy = &input.pins.policy;
            for (name, glob) in &policy.claims {
                let v = cl.get(name).and_then(Value::as_str);
                out.receipt.claims.insert(
                    name.clone(),
                    v.map_or(Value::Null, |s| Value::String(s.into())),
                );
                match v {
                    Some(s) if glob_match(glob, s) => {}
                    Some(s) => reasons.push(id_mismatch(format!(
                        "claim {name} is {s:?}, which does not match the pinned {glob:?}"
                    ))),
                    None => reasons.push(id_mismatch(format!(
                        "the pinned claim {name} is missing or not a string"
                    ))),
                }
            }
            if let Some(rel) = input.release {
                for (name, want, what) in [
                    (&policy.commit_claim, rel.commit, "commit"),
                    (&policy.ref_claim, rel.ref_, "ref"),
                ] {
                    let v = cl.get(name.as_str()).and_then(Value::as_str);
                    if v != Some(want) {
                        reasons.push(id_mismatch(format!(
                            "claim {name} is {v:?}, not the release evidence's {what} {want:?}"
                        )));
                    }
                }
            }
        }
    }
    // 4. The response.
    if let Some(bytes) = files.response {
        let denied = |m: String| {
            Reason::new(
                Code::GovernanceDenied,
                format!("release-governance-response.json: {m}"),
            )
        };
        let mismatch = |m: String| Reason::new(Code::GovernanceMismatch, m);
        match Response::parse(bytes) {
            Err(e) => reasons.push(denied(e.to_string())),
            Ok(resp) => {
                if resp.decision != "allow" {
                    reasons.push(denied(format!(
                        "decision is {:?}, not \"allow\"",
                        resp.decision
                    )));
                }
                if resp.checks.is_empty() {
                    reasons.push(denied("checks is empty".into()));
                }
                for c in resp.checks.iter().filter(|c| c.status != "pass") {
                    reasons.push(denied(format!("check {} has status {:?}", c.id, c.status)));
                }
                if let Some(rel) = input.release {
                    if (
                        resp.package.as_str(),
                        resp.version.as_str(),
                        resp.commit.as_str(),
                    ) != (rel.package, rel.version, rel.commit)
                    {
                        reasons.push(mismatch(format!(
                            "release-governance-response.json is about {} {} at {}, not the release evidence's {} {} at {}",
                            resp.package, resp.version, resp.commit, rel.package, rel.version, rel.commit
                        )));
                    }
                }
                if let Some(r) = record("release-governance-checked") {
                    let f = |n: &str| r.fields.get(n).and_then(Value::as_str).unwrap_or_default();
                    let rel_ok = input.release.is_none_or(|rel| {
                        (f("package"), f("version"), f("commit"))
                            == (rel.package, rel.version, rel.commit)
                    });
                    let resp_ok = (f("package"), f("version"), f("commit"), f("decision"))
                        == (
                            resp.package.as_str(),
                            resp.version.as_str(),
                            resp.commit.as_str(),
                            resp.decision.as_str(),
                        );
                    let digest_ok = f("response_sha256") == hex(&sha256(bytes));
                    if !(rel_ok && resp_ok && digest_ok) {
                        reasons.push(mismatch(
                            "the release-governance-checked record does not name this release, the response's decision and the response file's SHA-256".into(),
                        ));
                    }
                }
            }
        }
    }
    // 5. The published report.
    if let (Some(bytes), Some(log)) = (files.report, &log) {
        let report_mismatch = |m: String| {
            Reason::new(
                Code::GovernanceReportMismatch,
                format!("release-governance-evidence-verification.json: {m}"),
            )
        };
        match Report::parse(bytes) {
            Err(e) => reasons.push(report_mismatch(e.to_string())),
            Ok(rep) => {
                let mine = log.report(rep.verified_at);
                let mut differ = Vec::new();
                if rep.evidence_sha256 != mine.evidence_sha256 {
                    differ.push("evidence_sha256");
                }
                if rep.records != mine.records {
                    differ.push("records");
                }
                if rep.head != mine.head {
                    differ.push("head");
                }
                if rep.key_ids != mine.key_ids {
                    differ.push("key_ids");
                }
                if rep.chain != "valid" || mine.chain != "valid" {
                    differ.push("chain");
                }
                if rep.signatures != "valid" || mine.signatures != "valid" {
                    differ.push("signatures");
                }
                if !differ.is_empty() {
                    reasons.push(report_mismatch(format!(
                        "{} disagree with what the appliance computed (or are not valid)",
                        differ.join(", ")
                    )));
                }
            }
        }
    }
    out.reasons = reasons;
    out
}
