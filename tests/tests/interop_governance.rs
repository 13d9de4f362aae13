//! Interop for release governance (formats §8): OIDC JWTs minted by PyJWT with `cryptography`
//! keys (RS256 and ES256, and the attacks: alg none, HS256 confusion, unknown kid, an unpinned
//! key, wrong issuer, wrong audience as a string and as an array, a lifetime over an hour, a
//! wrong workflow), the daemon's HMAC evidence and DSSE HMAC runner claims made with Python's
//! `hmac`/`hashlib`, checked by the appliance; and Airlock's verification report agreeing with a
//! Python recomputation, on Python's logs and on Airlock's own. Missing tools fail when CI is set.

mod rules_kit;

use airlock_formats::document::dsse::{self, payload_type};
use airlock_formats::document::governance as gf;
use airlock_formats::keys::KeyId;
use airlock_formats::timestamp::Timestamp;
use airlock_verifier::policy::{self, Memory};
use airlock_verifier::vault::{Secret, Vault};
use airlock_verifier::verdict::Verdict;
use rules_kit::*;
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::process::Command;

const RUNNER_ID: &str = "ci-runner-2026-q2";
const EVIDENCE_ID: &str = "ci-evidence-2026-q2";

fn script() -> PathBuf {
    interop_dir().join("governance.py")
}

fn tools() -> bool {
    require_tool("python3", &["-c", "import jwt, cryptography"])
}

fn python(args: &[&std::ffi::OsStr]) -> Value {
    let o = Command::new("python3")
        .arg(script())
        .args(args)
        .output()
        .unwrap();
    assert!(
        o.status.success(),
        "governance.py failed: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    serde_json::from_slice(&o.stdout).unwrap()
}

fn secret(v: &Value, k: &str) -> Secret {
    Secret::from_file_bytes(v[k].as_str().unwrap().as_bytes().to_vec())
}

fn anchor(kit: &Kit, made: &Value) -> Vec<u8> {
    let mut p: Value = serde_json::from_slice(&envelope_payload(&kit.anchor)).unwrap();
    let t = Timestamp::now();
    for (id, s) in [
        (RUNNER_ID, secret(made, "runner_secret")),
        (EVIDENCE_ID, secret(made, "evidence_secret")),
    ] {
        let e = airlock_author::governance::hmac_entry(
            &KeyId::new(id).unwrap(),
            &s,
            t.plus_seconds(-30 * 86_400),
            t.plus_seconds(60 * 86_400),
        );
        p["keys"]
            .as_array_mut()
            .unwrap()
            .push(serde_json::to_value(e).unwrap());
    }
    p["roles"]["runner-auth"] = json!({"key_ids": [RUNNER_ID], "threshold": 1});
    p["roles"]["governance-evidence"] = json!({"key_ids": [EVIDENCE_ID], "threshold": 1});
    p["governance"] = json!({
        "oidc": [{"issuer": "https://token.actions.githubusercontent.com",
                  "audience": "cavra-release-governance", "jwks": made["jwks"]}],
        "claims": {"repository": "cavra/cavra",
                   "workflow_ref": "cavra/cavra/.github/workflows/release.yml@refs/tags/v*"}});
    dsse::sign(
        payload_type::TRUST_ROOT,
        &serde_json::to_vec_pretty(&p).unwrap(),
        &[
            (kit.root_a.key_id().as_str(), kit.root_a.signing_key()),
            (kit.root_b.key_id().as_str(), kit.root_b.signing_key()),
        ],
    )
}

fn vault(made: &Value) -> Vault {
    let mut v = Vault::default();
    v.insert(
        KeyId::new(RUNNER_ID).unwrap(),
        secret(made, "runner_secret"),
    );
    v.insert(
        KeyId::new(EVIDENCE_ID).unwrap(),
        secret(made, "evidence_secret"),
    );
    v
}

#[test]
fn python_made_tokens_claims_and_evidence() {
    if !tools() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let made = python(&["make".as_ref(), dir.path().as_os_str()]);
    let kit = Kit::new();
    let anchor = anchor(&kit, &made);
    let cases = made["cases"].as_object().unwrap();
    assert!(cases.len() >= 14);
    for (name, case) in cases {
        let d = Path::new(case["dir"].as_str().unwrap());
        let mut b = kit.bundle();
        b.set(BOOTSTRAP, anchor.clone());
        for f in gf::FILES {
            if let Ok(bytes) = std::fs::read(d.join(f)) {
                b.set(f, bytes);
            }
        }
        b.reseal();
        let a = policy::assess(&policy::Inputs {
            scan: &b.scan(),
            anchor: &anchor,
            media_roots: &[],
            media_revocations: &[],
            memory: &Memory {
                vault: vault(&made),
                ..Memory::default()
            },
            now: Timestamp::now(),
        });
        match case["want"].as_str().unwrap() {
            "promote" => expect_promote(name, &a),
            code => {
                assert_eq!(a.verdict(), Verdict::Reject, "{name}");
                let got: Vec<&str> = a.reasons().iter().map(|r| r.code.as_str()).collect();
                assert!(
                    got.iter().all(|c| *c == code),
                    "{name}: want only {code}, got {:#?}",
                    a.reasons()
                );
            }
        }
    }
}

fn python_report(log: &Path, made: &Value) -> Value {
    let spec = format!(
        "{EVIDENCE_ID}={}",
        made["evidence_secret"].as_str().unwrap()
    );
    python(&["report".as_ref(), log.as_os_str(), spec.as_ref()])
}

fn our_report(log: &[u8], made: &Value) -> Value {
    serde_json::from_slice(&airlock_author::governance::report(
        log,
        &vault(made),
        Timestamp::from_unix(0).unwrap(),
    ))
    .unwrap()
}

#[test]
fn our_report_agrees_with_python() {
    if !tools() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let made = python(&["make".as_ref(), dir.path().as_os_str()]);
    let log_path =
        Path::new(made["cases"]["hmac"]["dir"].as_str().unwrap()).join(gf::EVIDENCE_FILE);
    let log = std::fs::read(&log_path).unwrap();
    let lines: Vec<&[u8]> = log
        .split(|b| *b == b'\n')
        .filter(|l| !l.is_empty())
        .collect();
    let mut edited = log.clone();
    let at = edited.len() / 2;
    edited[at] ^= 1;
    let mut swapped = Vec::new();
    for l in [lines[1], lines[0], lines[2]] {
        swapped.extend_from_slice(l);
        swapped.push(b'\n');
    }
    // Airlock's own log, made by the connected side.
    let ours = {
        let s = secret(&made, "evidence_secret");
        let mut l =
            airlock_author::governance::EvidenceLog::new(KeyId::new(EVIDENCE_ID).unwrap(), s);
        l.append(
            Timestamp::now(),
            "runtime-package-verified",
            &[("package", json!("p"))],
        );
        l.append(
            Timestamp::now(),
            "note",
            &[("text", json!("ünïcode \"quoted\""))],
        );
        l.bytes().to_vec()
    };
    for (case, bytes) in [
        ("python log", log.clone()),
        ("one bit flipped", edited),
        ("reordered", swapped),
        ("airlock log", ours),
    ] {
        let p = dir.path().join("case.jsonl");
        std::fs::write(&p, &bytes).unwrap();
        let py = python_report(&p, &made);
        let rs = our_report(&bytes, &made);
        assert_eq!(py, rs, "{case}");
        if case.ends_with("log") {
            assert_eq!(rs["chain"], "valid", "{case}");
            assert_eq!(rs["signatures"], "valid", "{case}");
        } else {
            assert!(
                rs["chain"] == "invalid" || rs["signatures"] == "invalid",
                "{case}"
            );
        }
    }
}

/// A workspace binary, rebuilt once when cargo is known.
fn bin(package: &str, name: &str) -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let profile_dir = exe.parent().and_then(Path::parent).unwrap().to_path_buf();
    let target_dir = profile_dir.parent().unwrap().to_path_buf();
    if let Some(cargo) = std::env::var_os("CARGO") {
        let mut c = Command::new(cargo);
        c.args(["build", "--quiet", "-p", package, "--bin", name])
            .arg("--target-dir")
            .arg(&target_dir)
            .current_dir(env!("CARGO_MANIFEST_DIR"));
        if profile_dir.file_name().is_some_and(|n| n == "release") {
            c.arg("--release");
        }
        assert!(c.status().unwrap().success(), "cargo build -p {package}");
    }
    profile_dir.join(name)
}

/// The connected side end to end with a PyJWT token: `root create --oidc` pins the Python JWKS,
/// `governance --jwt-file` writes the daemon files, `pack` carries them, and the appliance
/// promotes and names the runner.
#[test]
fn connected_side_with_a_python_token() {
    if !tools() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let made = python(&["make".as_ref(), d.join("py").as_os_str()]);
    let tool = bin("airlock-bundle", "airlock-bundle");
    let airlock = bin("airlock", "airlock");
    let sh = |cmd: &Path, args: &[String], env: &[(&str, String)]| {
        let o = Command::new(cmd)
            .args(args)
            .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
            .current_dir(d)
            .output()
            .unwrap();
        let t = format!(
            "{}{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        );
        (o.status.code(), t)
    };
    let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
    for k in ["root-a", "root-b", "rel", "ci"] {
        let (c, t) = sh(
            &tool,
            &s(&["keygen", "--key-id", k, "--out-dir", "keys"]),
            &[],
        );
        assert_eq!(c, Some(0), "{t}");
    }
    let nb = Timestamp::now().plus_seconds(-86_400).to_string();
    let (c, t) = sh(
        &tool,
        &s(&[
            "hmac-keygen",
            "--key-id",
            EVIDENCE_ID,
            "--out-dir",
            "keys",
            "--not-before",
            &nb,
        ]),
        &[],
    );
    assert_eq!(c, Some(0), "{t}");
    std::fs::write(d.join("jwks.json"), made["jwks"].to_string()).unwrap();
    let (c, t) = sh(
        &tool,
        &s(&[
            "root", "create", "--out", "root.json",
            "--key", "keys/root-a.pub.json", "--key", "keys/root-b.pub.json",
            "--key", "keys/rel.pub.json", "--key", "keys/ci.pub.json",
            "--key", &format!("keys/{EVIDENCE_ID}.pub.json"),
            "--role", "root=root-a,root-b:2", "--role", "release=rel", "--role", "provenance=ci",
            "--role", "revocation=root-a", "--role", &format!("governance-evidence={EVIDENCE_ID}"),
            "--builder", "https://github.com/actions/runner/github-hosted https://github.com/cavra/cavra refs/tags/v*",
            "--oidc", "https://token.actions.githubusercontent.com,cavra-release-governance,jwks.json",
            "--pin-claim", "repository=cavra/cavra",
            "--pin-claim", "workflow_ref=cavra/cavra/.github/workflows/release.yml@refs/tags/v*",
            "--issued-at", &nb, "--sign", "keys/root-a.key", "--sign", "keys/root-b.key",
        ]),
        &[],
    );
    assert_eq!(c, Some(0), "{t}");
    std::fs::create_dir_all(d.join("dist/bin")).unwrap();
    std::fs::create_dir_all(d.join("out")).unwrap();
    std::fs::write(d.join("dist/bin/cavra"), b"cavra runtime\n").unwrap();
    let token = Path::new(made["cases"]["rs256"]["dir"].as_str().unwrap()).join(gf::JWT_FILE);
    let env = [
        (
            "CAVRA_DAEMON_EVIDENCE_HMAC_KEY",
            std::fs::read_to_string(d.join(format!("keys/{EVIDENCE_ID}.hmac-secret"))).unwrap(),
        ),
        ("CAVRA_DAEMON_EVIDENCE_KEY_ID", EVIDENCE_ID.to_string()),
    ];
    let (c, t) = sh(
        &tool,
        &s(&[
            "governance",
            "--dist",
            "dist",
            "--version",
            VERSION,
            "--commit",
            COMMIT,
            "--runtime-sha256",
            &"ab".repeat(32),
            "--check",
            "provenance=pass",
            "--jwt-file",
            token.to_str().unwrap(),
        ]),
        &env,
    );
    assert_eq!(c, Some(0), "{t}");
    let (c, t) = sh(
        &tool,
        &s(&[
            "pack",
            "--dist",
            "dist",
            "--version",
            VERSION,
            "--commit",
            COMMIT,
            "--ref",
            REF,
            "--event",
            "release",
            "--key-id",
            "rel",
            "--signing-required",
            "--release-key",
            "keys/rel.key",
            "--provenance-key",
            "keys/ci.key",
            "--builder-id",
            "https://github.com/actions/runner/github-hosted",
            "--source-repo",
            "https://github.com/cavra/cavra",
            "--key-location",
            "op://x",
            "--trust-root",
            "root.json",
            "--out",
            "out/release.tar.gz",
        ]),
        &env,
    );
    assert_eq!(c, Some(0), "{t}");
    let (c, t) = sh(
        &tool,
        &s(&[
            "media",
            "prepare",
            "--media",
            "stick",
            "--anchor",
            "root.json",
            "--bundle",
            "out/release.tar.gz",
        ]),
        &env,
    );
    assert_eq!(c, Some(0), "{t}");
    let (c, t) = sh(
        &airlock,
        &s(&[
            "vault",
            "add",
            EVIDENCE_ID,
            &format!("keys/{EVIDENCE_ID}.hmac-secret"),
            "--state",
            "state",
        ]),
        &[],
    );
    assert_eq!(c, Some(0), "{t}");
    let (c, t) = sh(
        &airlock,
        &s(&[
            "verify",
            "--state",
            "state",
            "--anchor",
            "root.json",
            "stick",
        ]),
        &[],
    );
    assert_eq!(c, Some(0), "{t}");
    assert!(
        t.contains("runner: issuer https://token.actions.githubusercontent.com, subject repo:cavra/cavra:ref:refs/tags/v0.1.0, repository cavra/cavra"),
        "{t}"
    );
}
