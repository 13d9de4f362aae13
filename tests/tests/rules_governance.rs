//! Release governance and runner identity (formats §8): every rule on real bundle bytes, each
//! rejection with its exact codes, and the attacks of issue 12 (alg none, HS256 confusion, unknown
//! kid, wrong issuer and audience, swapped claims, redacted claims not in the log, revoked and
//! expired evidence keys, a vault secret that is not the pinned one, chain edits, a report that
//! says valid over a broken chain).

mod rules_kit;

use airlock_author::governance::{daemon_files, hmac_entry, DaemonRun, EvidenceLog, RunnerAuth};
use airlock_core::digest::sha256;
use airlock_formats::document::dsse::{self, payload_type};
use airlock_formats::document::governance as gf;
use airlock_formats::keys::{encode_base64, hex, KeyId};
use airlock_formats::reason::Code;
use airlock_formats::timestamp::Timestamp;
use airlock_verifier::policy::{self, Assessment, Memory};
use airlock_verifier::vault::{Secret, Vault};
use airlock_verifier::verdict::Verdict;
use p256::ecdsa::signature::Signer as _;
use rules_kit::*;
use serde_json::{json, Map, Value};

const ISS: &str = "https://token.actions.githubusercontent.com";
const AUD: &str = "cavra-release-governance";
const RUNNER_ID: &str = "ci-runner-2026-q2";
const EVIDENCE_ID: &str = "ci-evidence-2026-q2";
const OLD_EVIDENCE_ID: &str = "ci-evidence-2026-q1";
const WORKFLOW: &str = "cavra/cavra/.github/workflows/release.yml@refs/tags/v0.1.0";
const DAY: i64 = 86_400;

/// A log as its events: (event, fields other than the standard members).
type Events = Vec<(String, Vec<(String, Value)>)>;
/// A named edit of a trust-root payload.
type RootEdit = (&'static str, Box<dyn Fn(&mut Value)>);
const RUNTIME_SHA256: &str = "abababababababababababababababababababababababababababababababab";

fn b64url(b: &[u8]) -> String {
    encode_base64(b)
        .replace('+', "-")
        .replace('/', "_")
        .trim_end_matches('=')
        .to_owned()
}

fn secret(s: &str) -> Secret {
    Secret::from_file_bytes(s.as_bytes().to_vec())
}

fn id(s: &str) -> KeyId {
    KeyId::new(s).unwrap()
}

fn now() -> Timestamp {
    Timestamp::now()
}

/// The OIDC provider's signing key (ES256) and a second one, unpinned.
fn oidc_key(n: u8) -> p256::ecdsa::SigningKey {
    p256::ecdsa::SigningKey::from_slice(&[n; 32]).unwrap()
}

fn ec_jwk(k: &p256::ecdsa::SigningKey, kid: &str) -> Value {
    let p = k.verifying_key().to_encoded_point(false);
    json!({"kty": "EC", "crv": "P-256", "kid": kid, "use": "sig", "alg": "ES256",
           "x": b64url(p.x().unwrap()), "y": b64url(p.y().unwrap())})
}

fn jwt(header: &Value, claims: &Value, k: &p256::ecdsa::SigningKey) -> String {
    let input = format!(
        "{}.{}",
        b64url(&serde_json::to_vec(header).unwrap()),
        b64url(&serde_json::to_vec(claims).unwrap())
    );
    let sig: p256::ecdsa::Signature = k.sign(input.as_bytes());
    format!("{input}.{}", b64url(&sig.to_bytes()))
}

fn token_claims() -> Value {
    let iat = now().unix() - 600;
    json!({"iss": ISS, "aud": AUD, "sub": "repo:cavra/cavra:ref:refs/tags/v0.1.0",
           "repository": "cavra/cavra", "workflow_ref": WORKFLOW, "ref": REF, "sha": COMMIT,
           "iat": iat, "exp": iat + 300})
}

fn es256(claims: &Value) -> String {
    jwt(
        &json!({"alg": "ES256", "kid": "gh-1", "typ": "JWT"}),
        claims,
        &oidc_key(9),
    )
}

/// A kit whose anchor pins governance: the kit's root plus HMAC keys, roles and the governance
/// object, edited by `edit`, signed by both root keys.
struct Gov {
    kit: Kit,
    anchor: Vec<u8>,
    vault: Vault,
}

fn gov_payload(kit: &Kit) -> Value {
    let mut p: Value = serde_json::from_slice(&envelope_payload(&kit.anchor)).unwrap();
    let t = now();
    for (kid, s, nb, na) in [
        (RUNNER_ID, "runner-secret", -30, 60),
        (EVIDENCE_ID, "evidence-secret", -30, 60),
        (OLD_EVIDENCE_ID, "old-evidence-secret", -150, -30),
    ] {
        p["keys"].as_array_mut().unwrap().push(
            serde_json::to_value(hmac_entry(
                &id(kid),
                &secret(s),
                t.plus_seconds(nb * DAY),
                t.plus_seconds(na * DAY),
            ))
            .unwrap(),
        );
    }
    p["roles"]["runner-auth"] = json!({"key_ids": [RUNNER_ID], "threshold": 1});
    p["roles"]["governance-evidence"] =
        json!({"key_ids": [EVIDENCE_ID, OLD_EVIDENCE_ID], "threshold": 1});
    p["governance"] = json!({
        "oidc": [{"issuer": ISS, "audience": AUD, "jwks": {"keys": [ec_jwk(&oidc_key(9), "gh-1")]}}],
        "claims": {"repository": "cavra/cavra",
                   "workflow_ref": "cavra/cavra/.github/workflows/release.yml@refs/tags/v*"}
    });
    p
}

fn sign_root(kit: &Kit, p: &Value) -> Vec<u8> {
    dsse::sign(
        payload_type::TRUST_ROOT,
        &serde_json::to_vec_pretty(p).unwrap(),
        &[
            (kit.root_a.key_id().as_str(), kit.root_a.signing_key()),
            (kit.root_b.key_id().as_str(), kit.root_b.signing_key()),
        ],
    )
}

fn vault() -> Vault {
    let mut v = Vault::default();
    v.insert(id(RUNNER_ID), secret("runner-secret"));
    v.insert(id(EVIDENCE_ID), secret("evidence-secret"));
    v.insert(id(OLD_EVIDENCE_ID), secret("old-evidence-secret"));
    v
}

impl Gov {
    fn new() -> Self {
        Self::with(|_| {})
    }

    fn with(edit: impl FnOnce(&mut Value)) -> Self {
        let kit = Kit::new();
        let mut p = gov_payload(&kit);
        edit(&mut p);
        let anchor = sign_root(&kit, &p);
        Self {
            kit,
            anchor,
            vault: vault(),
        }
    }

    fn run<'a>(&self, auth: RunnerAuth<'a>, ev: &'a Secret, ev_id: &str) -> DaemonRun<'a> {
        DaemonRun {
            package: PACKAGE,
            version: VERSION,
            commit: COMMIT,
            runtime_sha256: RUNTIME_SHA256,
            checks: vec![("provenance".into(), true), ("signatures".into(), true)],
            auth,
            evidence_key_id: id(ev_id),
            evidence_secret: ev,
            time: now().plus_seconds(-300),
        }
    }

    /// The good release with `files` as its `.cavra/go-daemon/`.
    fn bundle_with_files(&self, files: &[(String, Vec<u8>)]) -> Bundle<'_> {
        let mut b = self.kit.bundle();
        b.set(BOOTSTRAP, self.anchor.clone());
        for (n, bytes) in files {
            b.set(n, bytes.clone());
        }
        b.reseal();
        b
    }

    fn assess(&self, b: &Bundle<'_>) -> Assessment {
        policy::assess(&policy::Inputs {
            scan: &b.scan(),
            anchor: &self.anchor,
            media_roots: &[],
            media_revocations: &[],
            memory: &Memory {
                vault: self.vault.clone(),
                ..Memory::default()
            },
            now: now(),
        })
    }
}

fn hmac_claims() -> Map<String, Value> {
    let mut c = token_claims().as_object().unwrap().clone();
    c.remove("aud");
    c.remove("exp");
    c.insert("iss".into(), json!("cavra-runner"));
    c
}

fn hmac_files() -> Vec<(String, Vec<u8>)> {
    let g = Gov::new();
    let runner = secret("runner-secret");
    let ev = secret("evidence-secret");
    let run = g.run(
        RunnerAuth::Hmac {
            claims: hmac_claims(),
            key_id: id(RUNNER_ID),
            secret: &runner,
        },
        &ev,
        EVIDENCE_ID,
    );
    daemon_files(&run).unwrap().into_iter().collect()
}

fn oidc_files(token: &str, retain: bool) -> Vec<(String, Vec<u8>)> {
    let g = Gov::new();
    let ev = secret("evidence-secret");
    let run = g.run(RunnerAuth::Oidc { jwt: token, retain }, &ev, EVIDENCE_ID);
    daemon_files(&run).unwrap().into_iter().collect()
}

fn set(files: &mut Vec<(String, Vec<u8>)>, name: &str, bytes: Vec<u8>) {
    files.retain(|(n, _)| n != name);
    files.push((name.to_owned(), bytes));
}

fn get<'a>(files: &'a [(String, Vec<u8>)], name: &str) -> &'a [u8] {
    &files.iter().find(|(n, _)| n == name).unwrap().1
}

fn judge(files: &[(String, Vec<u8>)]) -> Assessment {
    let g = Gov::new();
    let b = g.bundle_with_files(files);
    g.assess(&b)
}

/// The log re-signed line by line with the evidence secret after `edit` changes the lines'
/// content (an insider holding the evidence key rewrites history).
fn relog(lines: Events) -> Vec<u8> {
    let mut log = EvidenceLog::new(id(EVIDENCE_ID), secret("evidence-secret"));
    let t = now().plus_seconds(-300);
    for (event, fields) in &lines {
        let f: Vec<(&str, Value)> = fields
            .iter()
            .map(|(n, v)| (n.as_str(), v.clone()))
            .collect();
        log.append(t, event, &f);
    }
    log.bytes().to_vec()
}

/// The events of a log as (event, fields without the standard members).
fn events(log: &[u8]) -> Events {
    log.split(|b| *b == b'\n')
        .filter(|l| !l.is_empty())
        .map(|l| {
            let v: Map<String, Value> = serde_json::from_slice(l).unwrap();
            let event = v["event"].as_str().unwrap().to_owned();
            let fields = v
                .into_iter()
                .filter(|(k, _)| {
                    !["seq", "prev", "time", "event", "key_id", "sig"].contains(&k.as_str())
                })
                .collect();
            (event, fields)
        })
        .collect()
}

fn report_for(log: &[u8]) -> Vec<u8> {
    airlock_author::governance::report(log, &vault(), now())
}

fn expect_codes(case: &str, a: &Assessment, want: &[Code]) {
    expect(case, a, want);
}

#[test]
fn hmac_mode_promotes_and_the_receipt_names_the_runner() {
    let a = judge(&hmac_files());
    expect_promote("hmac", &a);
    let g = a.governance().expect("governance in the assessment");
    assert_eq!(g.mode.as_deref(), Some("hmac"));
    assert_eq!(g.issuer.as_deref(), Some("cavra-runner"));
    assert_eq!(g.records, Some(3));
    assert_eq!(g.evidence_key_ids, Some(vec![EVIDENCE_ID.to_owned()]));
    assert_eq!(g.claims["repository"], json!("cavra/cavra"));
    assert_eq!(g.claims["workflow_ref"], json!(WORKFLOW));
    let r = a.runner().unwrap();
    assert_eq!(r.workflow.as_deref(), Some(WORKFLOW));
    // Governance keys are not signers.
    assert!(a
        .signers()
        .iter()
        .all(|s| s.role == "release" || s.role == "provenance"));
}

#[test]
fn oidc_redacted_and_retained_promote() {
    let token = es256(&token_claims());
    let a = judge(&oidc_files(&token, false));
    expect_promote("redacted", &a);
    let g = a.governance().unwrap();
    assert_eq!(g.mode.as_deref(), Some("oidc"));
    assert_eq!(g.issuer.as_deref(), Some(ISS));
    assert_eq!(
        g.subject.as_deref(),
        Some("repo:cavra/cavra:ref:refs/tags/v0.1.0")
    );
    let files = oidc_files(&token, true);
    assert!(files.iter().any(|(n, _)| n == gf::JWT_FILE));
    expect_promote("retained", &judge(&files));
}

#[test]
fn governance_files_are_metadata_not_artifacts() {
    let a = judge(&hmac_files());
    assert!(a
        .artifacts()
        .iter()
        .all(|x| !x.name.starts_with(".cavra/go-daemon/")));
    // Another file under .cavra/ is an ordinary artifact.
    assert!(!airlock_verifier::bundle::is_metadata(".cavra/other.json"));
    assert!(airlock_verifier::bundle::is_metadata(gf::EVIDENCE_FILE));
}

#[test]
fn without_governance_in_the_root_nothing_changes() {
    let kit = Kit::new();
    // Daemon files in a bundle under a root without governance: ordinary checksummed files.
    let mut b = kit.bundle();
    for (n, bytes) in hmac_files() {
        b.set(&n, bytes);
    }
    b.reseal();
    let a = b.assess();
    expect_promote("no governance in the root", &a);
    assert!(a.governance().is_none());
}

#[test]
fn each_missing_file_is_governance_missing() {
    for f in [
        gf::CLAIMS_FILE,
        gf::RESPONSE_FILE,
        gf::EVIDENCE_FILE,
        gf::REPORT_FILE,
    ] {
        let mut files = hmac_files();
        files.retain(|(n, _)| n != f);
        let a = judge(&files);
        assert!(
            codes(&a).contains("governance-missing"),
            "{f}: {:#?}",
            a.reasons()
        );
        assert_eq!(a.verdict(), Verdict::Reject);
    }
    expect_codes(
        "no governance at all",
        &judge(&[]),
        &[Code::GovernanceMissing],
    );
    // Retained token without its JWT file.
    let token = es256(&token_claims());
    let mut files = oidc_files(&token, true);
    files.retain(|(n, _)| n != gf::JWT_FILE);
    expect_codes("jwt missing", &judge(&files), &[Code::GovernanceMissing]);
    // A JWT beside redacted claims.
    let mut files = oidc_files(&token, false);
    files.push((gf::JWT_FILE.into(), token.clone().into_bytes()));
    expect_codes(
        "jwt with redacted claims",
        &judge(&files),
        &[Code::RunnerIdentityInvalid],
    );
}

#[test]
fn jwt_attacks_are_runner_identity_invalid() {
    let claims = token_claims();
    let attacker = oidc_key(10);
    let mut cases: Vec<(&str, String, Value)> = Vec::new();
    let hdr = |alg: &str, kid: &str| json!({"alg": alg, "kid": kid, "typ": "JWT"});
    let unsigned = format!(
        "{}.{}.",
        b64url(&serde_json::to_vec(&hdr("none", "gh-1")).unwrap()),
        b64url(&serde_json::to_vec(&claims).unwrap())
    );
    cases.push(("alg none", unsigned, claims.clone()));
    // HS256 keyed with the pinned public key's bytes (algorithm confusion).
    {
        use hmac_free::hs256;
        let input = format!(
            "{}.{}",
            b64url(&serde_json::to_vec(&hdr("HS256", "gh-1")).unwrap()),
            b64url(&serde_json::to_vec(&claims).unwrap())
        );
        let key = serde_json::to_vec(&ec_jwk(&oidc_key(9), "gh-1")).unwrap();
        cases.push((
            "HS256 confusion",
            format!("{input}.{}", b64url(&hs256(&key, input.as_bytes()))),
            claims.clone(),
        ));
    }
    cases.push((
        "unknown kid",
        jwt(&hdr("ES256", "gh-2"), &claims, &oidc_key(9)),
        claims.clone(),
    ));
    cases.push((
        "unpinned key",
        jwt(&hdr("ES256", "gh-1"), &claims, &attacker),
        claims.clone(),
    ));
    cases.push((
        "crit",
        jwt(
            &json!({"alg": "ES256", "kid": "gh-1", "crit": ["exp"]}),
            &claims,
            &oidc_key(9),
        ),
        claims.clone(),
    ));
    cases.push((
        "no kid",
        jwt(&json!({"alg": "ES256"}), &claims, &oidc_key(9)),
        claims.clone(),
    ));
    let mut c = claims.clone();
    c["iss"] = json!("https://evil.example");
    cases.push(("wrong issuer", es256(&c), c.clone()));
    let mut c = claims.clone();
    c["aud"] = json!("someone-else");
    cases.push(("wrong audience string", es256(&c), c.clone()));
    let mut c = claims.clone();
    c["aud"] = json!(["someone-else", "another"]);
    cases.push(("wrong audience array", es256(&c), c.clone()));
    let mut c = claims.clone();
    c["iat"] = json!(now().unix() + 3600);
    c["exp"] = json!(now().unix() + 3900);
    cases.push(("iat in the future", es256(&c), c.clone()));
    let mut c = claims.clone();
    c["exp"] = json!(c["iat"].as_i64().unwrap() + 3601);
    cases.push(("lifetime over an hour", es256(&c), c.clone()));
    let mut c = claims.clone();
    c["iat"] = json!(i64::MIN);
    c["exp"] = json!(i64::MAX);
    cases.push(("extreme times", es256(&c), c.clone()));
    let mut c = claims.clone();
    c["iat"] = json!(1775000000.0);
    cases.push(("iat not an integer", es256(&c), c.clone()));
    // Padded base64url.
    let good = es256(&claims);
    let mut parts: Vec<String> = good.split('.').map(str::to_owned).collect();
    let pad = (4 - parts[2].len() % 4) % 4;
    parts[2].push_str(&"=".repeat(pad.max(1)));
    cases.push(("padded base64", parts.join("."), claims.clone()));
    // Standard (non-url) alphabet in the signature.
    let std_sig = good.replace('-', "+").replace('_', "/");
    if std_sig != good {
        cases.push(("standard alphabet", std_sig, claims.clone()));
    }
    for (case, token, file_claims) in cases {
        let mut files = oidc_files(&token, true);
        // The claims file says what the token says (the daemon wrote it).
        let mut cf: Value = serde_json::from_slice(get(&files, gf::CLAIMS_FILE)).unwrap();
        cf["claims"] = file_claims;
        set(
            &mut files,
            gf::CLAIMS_FILE,
            serde_json::to_vec(&cf).unwrap(),
        );
        let a = judge(&files);
        assert!(
            codes(&a).contains("runner-identity-invalid"),
            "{case}: {:#?}",
            a.reasons()
        );
        assert_eq!(a.verdict(), Verdict::Reject, "{case}");
    }
}

/// HS256 for the confusion attack (the verifier must refuse it whatever the tag).
mod hmac_free {
    pub fn hs256(key: &[u8], msg: &[u8]) -> Vec<u8> {
        let mut k = [0u8; 64];
        let kh;
        let key = if key.len() > 64 {
            kh = airlock_core::digest::sha256(key);
            &kh[..]
        } else {
            key
        };
        k[..key.len()].copy_from_slice(key);
        let mut inner: Vec<u8> = k.iter().map(|b| b ^ 0x36).collect();
        inner.extend_from_slice(msg);
        let ih = airlock_core::digest::sha256(&inner);
        let mut outer: Vec<u8> = k.iter().map(|b| b ^ 0x5c).collect();
        outer.extend_from_slice(&ih);
        airlock_core::digest::sha256(&outer).to_vec()
    }
}

#[test]
fn claims_swapped_between_two_valid_tokens() {
    // Token A is presented, but the claims file carries token B's claims (another workflow).
    let a_tok = es256(&token_claims());
    let mut other = token_claims();
    other["workflow_ref"] = json!("cavra/cavra/.github/workflows/other.yml@refs/tags/v0.1.0");
    let mut files = oidc_files(&a_tok, true);
    let mut cf: Value = serde_json::from_slice(get(&files, gf::CLAIMS_FILE)).unwrap();
    cf["claims"] = other;
    set(
        &mut files,
        gf::CLAIMS_FILE,
        serde_json::to_vec(&cf).unwrap(),
    );
    let a = judge(&files);
    assert!(
        codes(&a).contains("runner-identity-invalid"),
        "{:#?}",
        a.reasons()
    );
}

#[test]
fn redacted_claims_must_be_the_logged_ones() {
    let token = es256(&token_claims());
    let mut files = oidc_files(&token, false);
    let mut cf: Value = serde_json::from_slice(get(&files, gf::CLAIMS_FILE)).unwrap();
    cf["claims"]["sub"] = json!("repo:cavra/cavra:ref:refs/heads/evil");
    set(
        &mut files,
        gf::CLAIMS_FILE,
        serde_json::to_vec(&cf).unwrap(),
    );
    expect_codes(
        "redacted edited",
        &judge(&files),
        &[Code::RunnerIdentityInvalid],
    );
    // Redacted claims whose issuer is not pinned, even when the log agrees.
    let mut c = token_claims();
    c["iss"] = json!("https://evil.example");
    let files = oidc_files(&es256(&c), false);
    expect_codes(
        "redacted wrong issuer",
        &judge(&files),
        &[Code::RunnerIdentityInvalid],
    );
}

#[test]
fn pins_commit_and_ref_are_runner_identity_mismatch() {
    let mut c = token_claims();
    c["workflow_ref"] = json!("cavra/cavra/.github/workflows/evil.yml@refs/tags/v0.1.0");
    expect_codes(
        "wrong workflow",
        &judge(&oidc_files(&es256(&c), true)),
        &[Code::RunnerIdentityMismatch],
    );
    let mut c = token_claims();
    c["sha"] = json!("f".repeat(40));
    expect_codes(
        "wrong commit",
        &judge(&oidc_files(&es256(&c), false)),
        &[Code::RunnerIdentityMismatch],
    );
    let mut c = token_claims();
    c["ref"] = json!("refs/heads/main");
    expect_codes(
        "wrong ref",
        &judge(&oidc_files(&es256(&c), true)),
        &[Code::RunnerIdentityMismatch],
    );
    let mut c = token_claims();
    c.as_object_mut().unwrap().remove("repository");
    expect_codes(
        "pinned claim absent",
        &judge(&oidc_files(&es256(&c), true)),
        &[Code::RunnerIdentityMismatch],
    );
}

#[test]
fn hmac_runner_claims_attacks() {
    // Signed with a secret that is not the runner key's.
    let g = Gov::new();
    let wrong = secret("not-the-runner-secret");
    let ev = secret("evidence-secret");
    let run = g.run(
        RunnerAuth::Hmac {
            claims: hmac_claims(),
            key_id: id(RUNNER_ID),
            secret: &wrong,
        },
        &ev,
        EVIDENCE_ID,
    );
    let files: Vec<_> = daemon_files(&run).unwrap().into_iter().collect();
    expect_codes(
        "bad runner hmac",
        &judge(&files),
        &[Code::RunnerIdentityInvalid],
    );
    // Signed by the evidence key (not in runner-auth).
    let run = g.run(
        RunnerAuth::Hmac {
            claims: hmac_claims(),
            key_id: id(EVIDENCE_ID),
            secret: &ev,
        },
        &ev,
        EVIDENCE_ID,
    );
    let files: Vec<_> = daemon_files(&run).unwrap().into_iter().collect();
    expect_codes(
        "key outside runner-auth",
        &judge(&files),
        &[Code::RunnerIdentityInvalid],
    );
    // The claims payload edited after signing.
    let mut files = hmac_files();
    let mut cf: Value = serde_json::from_slice(get(&files, gf::CLAIMS_FILE)).unwrap();
    let mut c = hmac_claims();
    c.insert("sub".into(), json!("someone-else"));
    cf["envelope"]["payload"] = json!(encode_base64(&serde_json::to_vec(&c).unwrap()));
    set(
        &mut files,
        gf::CLAIMS_FILE,
        serde_json::to_vec(&cf).unwrap(),
    );
    let a = judge(&files);
    assert!(
        codes(&a).contains("runner-identity-invalid"),
        "{:#?}",
        a.reasons()
    );
    // A malformed claims file.
    let mut files = hmac_files();
    set(
        &mut files,
        gf::CLAIMS_FILE,
        b"{\"_type\":\"cavra-runner-auth-claims\"".to_vec(),
    );
    let a = judge(&files);
    assert!(
        codes(&a).contains("runner-identity-invalid"),
        "{:#?}",
        a.reasons()
    );
}

#[test]
fn chain_edits_are_governance_evidence_invalid() {
    let files = hmac_files();
    let log = get(&files, gf::EVIDENCE_FILE).to_vec();
    let lines: Vec<&[u8]> = log
        .split(|b| *b == b'\n')
        .filter(|l| !l.is_empty())
        .collect();
    let join = |ls: &[&[u8]]| {
        let mut out = Vec::new();
        for l in ls {
            out.extend_from_slice(l);
            out.push(b'\n');
        }
        out
    };
    let mut edited = log.clone();
    let pos = edited.windows(6).position(|w| w == b"v0.1.0").unwrap();
    edited[pos + 5] = b'9';
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("reorder", join(&[lines[1], lines[0], lines[2]])),
        ("drop", join(&[lines[0], lines[2]])),
        ("duplicate", join(&[lines[0], lines[1], lines[1], lines[2]])),
        ("one byte", edited),
        ("no final LF", log[..log.len() - 1].to_vec()),
    ];
    for (case, bad) in cases {
        // Even with a report recomputed over the broken log, the verdict is a rejection.
        let mut f = files.clone();
        set(&mut f, gf::EVIDENCE_FILE, bad.clone());
        set(&mut f, gf::REPORT_FILE, report_for(&bad));
        let a = judge(&f);
        assert!(
            codes(&a).contains("governance-evidence-invalid"),
            "{case}: {:#?}",
            a.reasons()
        );
        assert_eq!(a.verdict(), Verdict::Reject, "{case}");
        // The original report (which says valid) no longer matches.
        let mut f = files.clone();
        set(&mut f, gf::EVIDENCE_FILE, bad);
        let a = judge(&f);
        assert!(
            codes(&a).contains("governance-report-mismatch"),
            "{case}: {:#?}",
            a.reasons()
        );
    }
}

#[test]
fn a_report_saying_valid_over_a_broken_chain() {
    let files = hmac_files();
    let log = get(&files, gf::EVIDENCE_FILE).to_vec();
    let lines: Vec<&[u8]> = log
        .split(|b| *b == b'\n')
        .filter(|l| !l.is_empty())
        .collect();
    let mut bad = Vec::new();
    for l in [lines[1], lines[0], lines[2]] {
        bad.extend_from_slice(l);
        bad.push(b'\n');
    }
    // The report names the broken log's digest, count and head, and claims valid.
    let mut report: Value = serde_json::from_slice(&report_for(&bad)).unwrap();
    assert_eq!(report["chain"], "invalid");
    report["chain"] = json!("valid");
    report["signatures"] = json!("valid");
    let mut f = files.clone();
    set(&mut f, gf::EVIDENCE_FILE, bad);
    set(
        &mut f,
        gf::REPORT_FILE,
        serde_json::to_vec(&report).unwrap(),
    );
    let a = judge(&f);
    for c in ["governance-report-mismatch", "governance-evidence-invalid"] {
        assert!(codes(&a).contains(c), "{c}: {:#?}", a.reasons());
    }
    // A report whose numbers are wrong over a good log.
    let mut f = files.clone();
    let mut r: Value = serde_json::from_slice(get(&files, gf::REPORT_FILE)).unwrap();
    r["records"] = json!(4);
    set(&mut f, gf::REPORT_FILE, serde_json::to_vec(&r).unwrap());
    expect_codes("records", &judge(&f), &[Code::GovernanceReportMismatch]);
    let mut r: Value = serde_json::from_slice(get(&files, gf::REPORT_FILE)).unwrap();
    r["key_ids"] = json!([]);
    set(&mut f, gf::REPORT_FILE, serde_json::to_vec(&r).unwrap());
    expect_codes("key_ids", &judge(&f), &[Code::GovernanceReportMismatch]);
    set(&mut f, gf::REPORT_FILE, b"not json".to_vec());
    expect_codes(
        "unreadable report",
        &judge(&f),
        &[Code::GovernanceReportMismatch],
    );
}

#[test]
fn evidence_keys_are_judged_at_the_record_time() {
    let g = Gov::new();
    let runner = secret("runner-secret");
    // The retired q1 key, inside its old window: history still verifies.
    let old = secret("old-evidence-secret");
    let mut run = g.run(
        RunnerAuth::Hmac {
            claims: hmac_claims(),
            key_id: id(RUNNER_ID),
            secret: &runner,
        },
        &old,
        OLD_EVIDENCE_ID,
    );
    // (The runner claims keep their own, recent iat: the runner key is judged at that time.)
    run.time = now().plus_seconds(-60 * DAY);
    let files: Vec<_> = daemon_files(&run).unwrap().into_iter().collect();
    expect_promote("retired key, old record", &judge(&files));
    // The same retired key signing a record now: outside its window.
    let run = g.run(
        RunnerAuth::Hmac {
            claims: hmac_claims(),
            key_id: id(RUNNER_ID),
            secret: &runner,
        },
        &old,
        OLD_EVIDENCE_ID,
    );
    let files: Vec<_> = daemon_files(&run).unwrap().into_iter().collect();
    expect_codes(
        "expired key",
        &judge(&files),
        &[Code::GovernanceKeyUntrusted],
    );
    // An unknown key.
    let stranger = secret("stranger");
    let run = g.run(
        RunnerAuth::Hmac {
            claims: hmac_claims(),
            key_id: id(RUNNER_ID),
            secret: &runner,
        },
        &stranger,
        "ci-evidence-unknown",
    );
    let files: Vec<_> = daemon_files(&run).unwrap().into_iter().collect();
    expect_codes(
        "unknown key",
        &judge(&files),
        &[Code::GovernanceKeyUntrusted],
    );
}

#[test]
fn the_vault_secret_must_match_the_pin() {
    let g = Gov::new();
    let b = g.bundle_with_files(&hmac_files());
    let mut v = vault();
    v.insert(id(EVIDENCE_ID), secret("a-different-secret"));
    let a = policy::assess(&policy::Inputs {
        scan: &b.scan(),
        anchor: &g.anchor,
        media_roots: &[],
        media_revocations: &[],
        memory: &Memory {
            vault: v,
            ..Memory::default()
        },
        now: now(),
    });
    expect_codes("vault mismatch", &a, &[Code::GovernanceKeyUntrusted]);
    // Redacted OIDC claims vouched for by that record: the key failure is the one reason.
    let b2 = g.bundle_with_files(&oidc_files(&es256(&token_claims()), false));
    let mut v = vault();
    v.insert(id(EVIDENCE_ID), secret("a-different-secret"));
    let a = policy::assess(&policy::Inputs {
        scan: &b2.scan(),
        anchor: &g.anchor,
        media_roots: &[],
        media_revocations: &[],
        memory: &Memory {
            vault: v,
            ..Memory::default()
        },
        now: now(),
    });
    expect_codes(
        "vault mismatch, redacted",
        &a,
        &[Code::GovernanceKeyUntrusted],
    );
    let a = policy::assess(&policy::Inputs {
        scan: &b.scan(),
        anchor: &g.anchor,
        media_roots: &[],
        media_revocations: &[],
        memory: &Memory::default(),
        now: now(),
    });
    // Without the secrets, neither the log nor the runner claims can be trusted.
    expect_codes(
        "empty vault",
        &a,
        &[Code::GovernanceKeyUntrusted, Code::RunnerIdentityInvalid],
    );
}

#[test]
fn a_revoked_evidence_key_does_not_count() {
    let g = Gov::new();
    let t = now();
    let list = json!({"_type": "cavra-revocations", "version": 1,
        "issued_at": t.plus_seconds(-3600).to_string(), "expires": t.plus_seconds(30 * DAY).to_string(),
        "revoked_keys": [{"key_id": EVIDENCE_ID, "revoked_at": t.plus_seconds(-3600).to_string(),
            "affected_versions": ["v0.0.9"], "replacement_key_id": "ci-evidence-2026-q3",
            "approver": "ops-oncall@example.org", "advisory": "CAVRA-SA-2026-009",
            "replacement_release_evidence_sha256": "ab".repeat(32), "reason": "key-compromise"}],
        "revoked_artifacts": []});
    let env = dsse::sign(
        payload_type::REVOCATIONS,
        &serde_json::to_vec_pretty(&list).unwrap(),
        &[(g.kit.root_a.key_id().as_str(), g.kit.root_a.signing_key())],
    );
    let mut b = g.kit.bundle();
    b.set(BOOTSTRAP, g.anchor.clone());
    for (n, bytes) in hmac_files() {
        b.set(&n, bytes);
    }
    b.set("revocations.json", env);
    b.reseal();
    expect_codes("revoked", &g.assess(&b), &[Code::GovernanceKeyUntrusted]);
}

#[test]
fn log_rules() {
    let files = hmac_files();
    let base = events(get(&files, gf::EVIDENCE_FILE));
    let with = |f: &dyn Fn(&mut Events)| {
        let mut e = base.clone();
        f(&mut e);
        let log = relog(e);
        let mut fs = files.clone();
        set(&mut fs, gf::REPORT_FILE, report_for(&log));
        set(&mut fs, gf::EVIDENCE_FILE, log);
        judge(&fs)
    };
    // A bearer token at any depth.
    let a = with(&|e| {
        e[1].1
            .push(("extra".into(), json!({"deep": [{"jwt": "x"}]})))
    });
    expect_codes("jwt member", &a, &[Code::GovernanceEvidenceInvalid]);
    let a = with(&|e| e[0].1.push(("token".into(), json!("x"))));
    expect_codes("token member", &a, &[Code::GovernanceEvidenceInvalid]);
    // Other events interleaved are fine.
    let a = with(&|e| e.insert(1, ("note".into(), vec![("text".into(), json!("hello"))])));
    expect_promote("interleaved", &a);
    // Order, absence, repetition.
    let a = with(&|e| e.swap(1, 2));
    assert!(
        codes(&a).contains("governance-mismatch"),
        "{:#?}",
        a.reasons()
    );
    let a = with(&|e| {
        e.remove(0);
    });
    expect_codes("missing event", &a, &[Code::GovernanceMismatch]);
    let a = with(&|e| {
        let x = e[0].clone();
        e.insert(0, x);
    });
    expect_codes("repeated event", &a, &[Code::GovernanceMismatch]);
    // A mistyped informational field.
    let a = with(&|e| e[0].1[0].1 = json!(7));
    expect_codes("mistyped", &a, &[Code::GovernanceEvidenceInvalid]);
}

#[test]
fn record_times() {
    let files = hmac_files();
    let log = get(&files, gf::EVIDENCE_FILE);
    let ev = events(log);
    for (case, times) in [
        ("future", [-300, -300, 3600]),
        ("decreasing", [-300, -200, -250]),
    ] {
        let mut l = EvidenceLog::new(id(EVIDENCE_ID), secret("evidence-secret"));
        for ((event, fields), dt) in ev.iter().zip(times) {
            let f: Vec<(&str, Value)> = fields
                .iter()
                .map(|(n, v)| (n.as_str(), v.clone()))
                .collect();
            l.append(now().plus_seconds(dt), event, &f);
        }
        let mut fs = files.clone();
        let bytes = l.bytes().to_vec();
        set(&mut fs, gf::REPORT_FILE, report_for(&bytes));
        set(&mut fs, gf::EVIDENCE_FILE, bytes);
        let a = judge(&fs);
        assert!(
            codes(&a).contains("governance-evidence-invalid"),
            "{case}: {:#?}",
            a.reasons()
        );
    }
}

#[test]
fn response_rules() {
    let files = hmac_files();
    let edit = |f: &dyn Fn(&mut Value)| {
        let mut r: Value = serde_json::from_slice(get(&files, gf::RESPONSE_FILE)).unwrap();
        f(&mut r);
        let bytes = serde_json::to_vec(&r).unwrap();
        // The log names the new response (an insider holding the evidence key).
        let mut e = events(get(&files, gf::EVIDENCE_FILE));
        for (n, v) in e[2].1.iter_mut() {
            if n == "response_sha256" {
                *v = json!(hex(&sha256(&bytes)));
            }
            if n == "decision" {
                *v = r["decision"].clone();
            }
        }
        let log = relog(e);
        let mut fs = files.clone();
        set(&mut fs, gf::REPORT_FILE, report_for(&log));
        set(&mut fs, gf::EVIDENCE_FILE, log);
        set(&mut fs, gf::RESPONSE_FILE, bytes);
        judge(&fs)
    };
    expect_codes(
        "deny",
        &edit(&|r| r["decision"] = json!("deny")),
        &[Code::GovernanceDenied],
    );
    expect_codes(
        "failed check",
        &edit(&|r| r["checks"][0]["status"] = json!("fail")),
        &[Code::GovernanceDenied],
    );
    expect_codes(
        "no checks",
        &edit(&|r| r["checks"] = json!([])),
        &[Code::GovernanceDenied],
    );
    // Another release: the response and the log both name v0.0.1.
    let a = edit(&|r| r["version"] = json!("v0.0.1"));
    assert!(
        codes(&a).contains("governance-mismatch"),
        "{:#?}",
        a.reasons()
    );
    // The response file changed without the log: its digest differs.
    let mut fs = files.clone();
    let mut r: Value = serde_json::from_slice(get(&files, gf::RESPONSE_FILE)).unwrap();
    r["evaluated_at"] = json!("2026-01-01T00:00:00Z");
    set(&mut fs, gf::RESPONSE_FILE, serde_json::to_vec(&r).unwrap());
    expect_codes("digest", &judge(&fs), &[Code::GovernanceMismatch]);
    set(&mut fs, gf::RESPONSE_FILE, b"[]".to_vec());
    let a = judge(&fs);
    assert!(
        codes(&a).contains("governance-denied"),
        "{:#?}",
        a.reasons()
    );
}

#[test]
fn trust_root_rules() {
    let bad: Vec<RootEdit> = vec![
        (
            "window over 123 days",
            Box::new(|p| {
                let nb = p["keys"][6]["not_before"].as_str().unwrap().to_owned();
                let t = Timestamp::parse(&nb).unwrap();
                p["keys"][6]["not_after"] = json!(t.plus_seconds(123 * DAY + 1).to_string());
            }),
        ),
        (
            "window missing",
            Box::new(|p| {
                p["keys"][6].as_object_mut().unwrap().remove("not_after");
            }),
        ),
        (
            "public_key on an HMAC key",
            Box::new(|p| p["keys"][6]["public_key"] = json!("AAAA")),
        ),
        (
            "uppercase secret_sha256",
            Box::new(|p| {
                let s = p["keys"][6]["secret_sha256"]
                    .as_str()
                    .unwrap()
                    .to_uppercase();
                p["keys"][6]["secret_sha256"] = json!(s);
            }),
        ),
        (
            "HMAC key in the release role",
            Box::new(|p| {
                p["roles"]["release"]["key_ids"]
                    .as_array_mut()
                    .unwrap()
                    .push(json!(RUNNER_ID));
            }),
        ),
        (
            "Ed25519 key in governance-evidence",
            Box::new(|p| {
                p["roles"]["governance-evidence"]["key_ids"]
                    .as_array_mut()
                    .unwrap()
                    .push(json!(RELEASE_ID));
            }),
        ),
        (
            "governance-evidence threshold 2",
            Box::new(|p| {
                p["roles"]["governance-evidence"]["threshold"] = json!(2);
            }),
        ),
        (
            "governance without its role",
            Box::new(|p| {
                p["roles"]
                    .as_object_mut()
                    .unwrap()
                    .remove("governance-evidence");
            }),
        ),
        (
            "private JWK member",
            Box::new(|p| {
                p["governance"]["oidc"][0]["jwks"]["keys"][0]["d"] = json!("AAAA");
            }),
        ),
        (
            "JWK without kid",
            Box::new(|p| {
                p["governance"]["oidc"][0]["jwks"]["keys"][0]
                    .as_object_mut()
                    .unwrap()
                    .remove("kid");
            }),
        ),
        (
            "P-384",
            Box::new(|p| p["governance"]["oidc"][0]["jwks"]["keys"][0]["crv"] = json!("P-384")),
        ),
        (
            "oct key",
            Box::new(|p| {
                p["governance"]["oidc"][0]["jwks"]["keys"] =
                    json!([{"kty": "oct", "kid": "x", "k": "AAAA"}]);
            }),
        ),
        (
            "RSA 1024",
            Box::new(|p| {
                let mut n = vec![0xc5u8; 128];
                n[127] |= 1;
                p["governance"]["oidc"][0]["jwks"]["keys"] =
                    json!([{"kty": "RSA", "kid": "r", "n": b64url(&n), "e": "AQAB"}]);
            }),
        ),
        (
            "padded JWK coordinate",
            Box::new(|p| {
                let x = p["governance"]["oidc"][0]["jwks"]["keys"][0]["x"]
                    .as_str()
                    .unwrap()
                    .to_owned();
                p["governance"]["oidc"][0]["jwks"]["keys"][0]["x"] = json!(format!("{x}="));
            }),
        ),
    ];
    for (case, edit) in bad {
        let kit = Kit::new();
        let mut p = gov_payload(&kit);
        assert_eq!(p["keys"][6]["key_id"], RUNNER_ID);
        edit(&mut p);
        let anchor = sign_root(&kit, &p);
        let mut b = kit.bundle();
        b.set(BOOTSTRAP, anchor.clone());
        b.reseal();
        let a = assess_scan(&b.scan(), &anchor);
        assert!(
            codes(&a).contains("trust-root-invalid"),
            "{case}: {:#?}",
            a.reasons()
        );
    }
    // 123 days exactly is fine.
    let g = Gov::with(|p| {
        let nb = p["keys"][6]["not_before"].as_str().unwrap().to_owned();
        let t = Timestamp::parse(&nb).unwrap();
        p["keys"][6]["not_after"] = json!(t.plus_seconds(123 * DAY).to_string());
    });
    let b = g.bundle_with_files(&hmac_files());
    expect_promote("123 days", &g.assess(&b));
}

#[test]
fn revoking_one_id_revokes_every_entry_of_the_same_secret() {
    const ALIAS: &str = "ci-evidence-alias";
    let g = Gov::with(|p| {
        let mut alias = p["keys"][7].clone();
        assert_eq!(alias["key_id"], EVIDENCE_ID);
        alias["key_id"] = json!(ALIAS);
        p["keys"].as_array_mut().unwrap().push(alias);
        p["roles"]["governance-evidence"]["key_ids"]
            .as_array_mut()
            .unwrap()
            .push(json!(ALIAS));
    });
    let mut v = vault();
    v.insert(id(ALIAS), secret("evidence-secret"));
    let runner = secret("runner-secret");
    let ev = secret("evidence-secret");
    let run = g.run(
        RunnerAuth::Hmac {
            claims: hmac_claims(),
            key_id: id(RUNNER_ID),
            secret: &runner,
        },
        &ev,
        ALIAS,
    );
    let files: Vec<_> = daemon_files(&run).unwrap().into_iter().collect();
    let t = now();
    let list = json!({"_type": "cavra-revocations", "version": 1,
        "issued_at": t.plus_seconds(-3600).to_string(), "expires": t.plus_seconds(30 * DAY).to_string(),
        "revoked_keys": [{"key_id": EVIDENCE_ID, "revoked_at": t.plus_seconds(-3600).to_string(),
            "affected_versions": ["v0.0.9"], "replacement_key_id": "ci-evidence-2026-q3",
            "approver": "ops-oncall@example.org", "advisory": "CAVRA-SA-2026-010",
            "replacement_release_evidence_sha256": "cd".repeat(32), "reason": "key-compromise"}],
        "revoked_artifacts": []});
    let env = dsse::sign(
        payload_type::REVOCATIONS,
        &serde_json::to_vec_pretty(&list).unwrap(),
        &[(g.kit.root_a.key_id().as_str(), g.kit.root_a.signing_key())],
    );
    let mut b = g.bundle_with_files(&files);
    let a = policy::assess(&policy::Inputs {
        scan: &b.scan(),
        anchor: &g.anchor,
        media_roots: &[],
        media_revocations: &[],
        memory: &Memory {
            vault: v.clone(),
            ..Memory::default()
        },
        now: now(),
    });
    expect_promote("alias before the revocation", &a);
    b.set("revocations.json", env);
    b.reseal();
    let a = policy::assess(&policy::Inputs {
        scan: &b.scan(),
        anchor: &g.anchor,
        media_roots: &[],
        media_revocations: &[],
        memory: &Memory {
            vault: v,
            ..Memory::default()
        },
        now: now(),
    });
    expect_codes("alias revoked", &a, &[Code::GovernanceKeyUntrusted]);
}

#[test]
fn junk_in_any_governance_file_rejects_without_panicking() {
    let deep = format!("{}{}", "[".repeat(200), "]".repeat(200));
    let junk: Vec<Vec<u8>> = vec![
        vec![],
        b"\n".to_vec(),
        b"{}".to_vec(),
        b"null".to_vec(),
        b"{}\n{}\n".to_vec(),
        deep.into_bytes(),
        vec![0xff, 0xfe, b'\n'],
        b"{\"seq\":18446744073709551616,\"sig\":\"AAAA\"}\n".to_vec(),
        b",\"sig\":\"\"}\n".to_vec(),
        b"\"}\n".to_vec(),
        b"a.b.c".to_vec(),
        b"..".to_vec(),
        br#"{"_type":"cavra-runner-auth-claims","mode":"hmac","envelope":{"payloadType":"application/vnd.cavra.runner-claims+json","payload":"e30=","signatures":[{"keyid":"ci-runner-2026-q2","sig":""}]}}"#.to_vec(),
    ];
    let base = hmac_files();
    for name in gf::FILES {
        for j in &junk {
            let mut f = base.clone();
            set(&mut f, name, j.clone());
            if name == gf::JWT_FILE {
                let mut cf: Value = serde_json::from_slice(get(&f, gf::CLAIMS_FILE)).unwrap();
                cf = json!({"_type": "cavra-runner-auth-claims", "mode": "oidc", "token": "retained",
                            "token_sha256": hex(&sha256(j)), "claims": cf["claims"].clone()});
                set(&mut f, gf::CLAIMS_FILE, serde_json::to_vec(&cf).unwrap());
            }
            let a = judge(&f);
            assert_eq!(a.verdict(), Verdict::Reject, "{name} = {j:?}");
        }
    }
}
