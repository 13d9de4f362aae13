//! The governance command lines on real files (formats §8): `airlock vault add`, `airlock
//! verify` of a governed release (human and JSON output name the runner), `airlock evidence
//! verify` of a governance log, `airlock-bundle hmac-keygen`; and HMAC secrets never appear in
//! any output, receipt, log, state file or Debug rendering.

mod rules_kit;

use airlock_author::governance::{daemon_files, hmac_entry, DaemonRun, RunnerAuth};
use airlock_formats::document::dsse::{self, payload_type};
use airlock_formats::keys::KeyId;
use airlock_formats::timestamp::Timestamp;
use airlock_verifier::vault::{Secret, Vault};
use rules_kit::*;
use serde_json::{json, Value};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const RUNNER_ID: &str = "ci-runner-2026-q2";
const EVIDENCE_ID: &str = "ci-evidence-2026-q2";
/// Distinctive secrets, searched for in every output.
const RUNNER_SECRET: &str = "runner-SECRET-7f3a9c21-do-not-print";
const EVIDENCE_SECRET: &str = "evidence-SECRET-b81d44e0-do-not-print";

/// A binary of this workspace, rebuilt once per test process when cargo is known.
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

fn run(cmd: &Path, args: &[&std::ffi::OsStr]) -> Output {
    Command::new(cmd).args(args).output().unwrap()
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

#[track_caller]
fn assert_no_secret(what: &str, s: &str) {
    for secret in [RUNNER_SECRET, EVIDENCE_SECRET] {
        assert!(!s.contains(secret), "{what} shows a secret:\n{s}");
    }
}

/// Every file under `dir` except the vault.
fn assert_no_secret_in_files(dir: &Path) {
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            if !p.ends_with("hmac-keys") {
                assert_no_secret_in_files(&p);
            }
        } else {
            let b = std::fs::read(&p).unwrap();
            assert_no_secret(&p.display().to_string(), &String::from_utf8_lossy(&b));
        }
    }
}

fn secret(s: &str) -> Secret {
    Secret::from_file_bytes(s.as_bytes().to_vec())
}

fn governed_anchor(kit: &Kit) -> Vec<u8> {
    let mut p: Value = serde_json::from_slice(&envelope_payload(&kit.anchor)).unwrap();
    let t = Timestamp::now();
    for (id, s) in [(RUNNER_ID, RUNNER_SECRET), (EVIDENCE_ID, EVIDENCE_SECRET)] {
        let e = hmac_entry(
            &KeyId::new(id).unwrap(),
            &secret(s),
            t.plus_seconds(-86_400),
            t.plus_seconds(90 * 86_400),
        );
        p["keys"]
            .as_array_mut()
            .unwrap()
            .push(serde_json::to_value(e).unwrap());
    }
    p["roles"]["runner-auth"] = json!({"key_ids": [RUNNER_ID], "threshold": 1});
    p["roles"]["governance-evidence"] = json!({"key_ids": [EVIDENCE_ID], "threshold": 1});
    p["governance"] = json!({"claims": {"repository": "cavra/cavra"}});
    dsse::sign(
        payload_type::TRUST_ROOT,
        &serde_json::to_vec_pretty(&p).unwrap(),
        &[
            (kit.root_a.key_id().as_str(), kit.root_a.signing_key()),
            (kit.root_b.key_id().as_str(), kit.root_b.signing_key()),
        ],
    )
}

fn governed_bundle(kit: &Kit, anchor: &[u8], path: &Path) {
    let runner = secret(RUNNER_SECRET);
    let ev = secret(EVIDENCE_SECRET);
    let claims = json!({"iss": "cavra-runner", "sub": "runner-7", "repository": "cavra/cavra",
        "workflow_ref": "cavra/cavra/.github/workflows/release.yml@refs/tags/v0.1.0",
        "ref": REF, "sha": COMMIT, "iat": Timestamp::now().unix() - 60});
    let files = daemon_files(&DaemonRun {
        package: PACKAGE,
        version: VERSION,
        commit: COMMIT,
        runtime_sha256: "abababababababababababababababababababababababababababababababab",
        checks: vec![("provenance".into(), true)],
        auth: RunnerAuth::Hmac {
            claims: claims.as_object().unwrap().clone(),
            key_id: KeyId::new(RUNNER_ID).unwrap(),
            secret: &runner,
        },
        evidence_key_id: KeyId::new(EVIDENCE_ID).unwrap(),
        evidence_secret: &ev,
        time: Timestamp::now().plus_seconds(-30),
    })
    .unwrap();
    let mut b = kit.bundle();
    b.set(BOOTSTRAP, anchor.to_vec());
    for (n, bytes) in files {
        b.set(&n, bytes);
    }
    b.reseal();
    b.write(path, true);
}

#[test]
fn governed_release_end_to_end_without_showing_a_secret() {
    let airlock = bin("airlock", "airlock");
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let state = d.join("state");
    let media = d.join("media");
    std::fs::create_dir_all(media.join("inbox")).unwrap();
    let kit = Kit::new();
    let anchor = governed_anchor(&kit);
    let anchor_path = d.join("anchor.json");
    std::fs::write(&anchor_path, &anchor).unwrap();
    governed_bundle(&kit, &anchor, &media.join("inbox/release.tar.gz"));
    for (id, s) in [(RUNNER_ID, RUNNER_SECRET), (EVIDENCE_ID, EVIDENCE_SECRET)] {
        std::fs::write(d.join(id), format!("{s}\n")).unwrap();
    }
    let verify = |extra: &[&str]| {
        let mut args: Vec<&std::ffi::OsStr> = vec!["verify".as_ref()];
        args.extend(extra.iter().map(|s| s.as_ref() as &std::ffi::OsStr));
        args.extend([
            "--state".as_ref(),
            state.as_os_str(),
            "--anchor".as_ref(),
            anchor_path.as_os_str(),
            media.as_os_str(),
        ]);
        run(&airlock, &args)
    };
    // No secrets in the vault: the evidence cannot be trusted.
    let o = verify(&["--no-write"]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(
        text(&o).contains("governance-key-untrusted"),
        "{}",
        text(&o)
    );
    // Installing them prints only the SHA-256.
    for id in [RUNNER_ID, EVIDENCE_ID] {
        let o = run(
            &airlock,
            &[
                "vault".as_ref(),
                "add".as_ref(),
                id.as_ref(),
                d.join(id).as_os_str(),
                "--state".as_ref(),
                state.as_os_str(),
            ],
        );
        assert_eq!(o.status.code(), Some(0), "{}", text(&o));
        assert_no_secret("vault add", &text(&o));
        let f = state.join("hmac-keys").join(id);
        assert_eq!(
            std::fs::metadata(&f).unwrap().permissions().mode() & 0o777,
            0o600
        );
    }
    // A secret that is not the one the anchor pins is refused when the anchor is in the state.
    std::fs::write(state.join("anchor.json"), &anchor).unwrap();
    std::fs::write(d.join("wrong"), "not-the-secret").unwrap();
    let o = run(
        &airlock,
        &[
            "vault".as_ref(),
            "add".as_ref(),
            EVIDENCE_ID.as_ref(),
            d.join("wrong").as_os_str(),
            "--state".as_ref(),
            state.as_os_str(),
        ],
    );
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert_eq!(
        std::fs::read_to_string(state.join("hmac-keys").join(EVIDENCE_ID)).unwrap(),
        EVIDENCE_SECRET
    );
    // JSON output: promoted, the runner named, no secret.
    let o = verify(&["--no-write", "--format", "json"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert_no_secret("verify --format json", &text(&o));
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["results"][0]["runner"]["repository"], "cavra/cavra");
    // Human output names issuer, subject, repository and workflow; receipts carry governance.
    let o = verify(&[]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let t = text(&o);
    assert_no_secret("verify", &t);
    assert!(
        t.contains("runner: issuer cavra-runner, subject runner-7, repository cavra/cavra, workflow cavra/cavra/.github/workflows/release.yml@refs/tags/v0.1.0"),
        "{t}"
    );
    let receipt = std::fs::read_dir(media.join("receipts"))
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .find(|p| p.to_string_lossy().ends_with(".promote.receipt.json"))
        .unwrap();
    let env: Value = serde_json::from_slice(&std::fs::read(receipt).unwrap()).unwrap();
    let payload: Value = serde_json::from_slice(
        &airlock_formats::keys::decode_base64(env["payload"].as_str().unwrap()).unwrap(),
    )
    .unwrap();
    assert_eq!(payload["governance"]["mode"], "hmac");
    assert_eq!(payload["governance"]["records"], 3);
    assert_eq!(
        payload["governance"]["evidence_key_ids"],
        json!([EVIDENCE_ID])
    );
    assert_no_secret_in_files(&media);
    assert_no_secret_in_files(&state);
    // The auditor's check of the log, with the secret given as a file.
    let x = d.join("x");
    std::fs::create_dir_all(&x).unwrap();
    let st = Command::new("tar")
        .arg("-xzf")
        .arg(media.join("inbox/release.tar.gz"))
        .arg("-C")
        .arg(&x)
        .status()
        .unwrap();
    assert!(st.success());
    let log = x.join(airlock_formats::document::governance::EVIDENCE_FILE);
    let spec = format!("{EVIDENCE_ID}={}", d.join(EVIDENCE_ID).display());
    let o = run(
        &airlock,
        &[
            "evidence".as_ref(),
            "verify".as_ref(),
            log.as_os_str(),
            "--hmac-key".as_ref(),
            spec.as_ref(),
        ],
    );
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert_no_secret("evidence verify", &text(&o));
    assert!(text(&o).contains("agrees"), "{}", text(&o));
    // An appliance key names nothing a governance log is signed with: refused, not ignored (the
    // operator would believe the log was checked against it).
    for option in ["--key", "--appliances"] {
        let o = run(
            &airlock,
            &[
                "evidence".as_ref(),
                "verify".as_ref(),
                log.as_os_str(),
                "--hmac-key".as_ref(),
                spec.as_ref(),
                option.as_ref(),
                anchor_path.as_os_str(),
            ],
        );
        assert_eq!(o.status.code(), Some(2), "{option}: {}", text(&o));
        assert!(
            text(&o).contains("is a governance evidence log") && text(&o).contains(option),
            "{option}: {}",
            text(&o)
        );
    }
    // With the vault and the trust root, writing a fresh report.
    let out = d.join("report.json");
    let o = run(
        &airlock,
        &[
            "evidence".as_ref(),
            "verify".as_ref(),
            log.as_os_str(),
            "--state".as_ref(),
            state.as_os_str(),
            "--trust-root".as_ref(),
            anchor_path.as_os_str(),
            "--out".as_ref(),
            out.as_os_str(),
        ],
    );
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let r: Value = serde_json::from_slice(&std::fs::read(&out).unwrap()).unwrap();
    assert_eq!(r["chain"], "valid");
    assert_eq!(r["key_ids"], json!([EVIDENCE_ID]));
    // A wrong secret: the signatures fail, exit 1.
    let spec = format!("{EVIDENCE_ID}={}", d.join("wrong").display());
    let o = run(
        &airlock,
        &[
            "evidence".as_ref(),
            "verify".as_ref(),
            log.as_os_str(),
            "--hmac-key".as_ref(),
            spec.as_ref(),
            "--out".as_ref(),
            out.as_os_str(),
        ],
    );
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
}

#[test]
fn hmac_keygen_prints_only_the_digest() {
    let tool = bin("airlock-bundle", "airlock-bundle");
    let dir = tempfile::tempdir().unwrap();
    let o = run(
        &tool,
        &[
            "hmac-keygen".as_ref(),
            "--key-id".as_ref(),
            "ci-evidence-2026-q3".as_ref(),
            "--out-dir".as_ref(),
            dir.path().as_os_str(),
        ],
    );
    assert!(o.status.success(), "{}", text(&o));
    let sk = dir.path().join("ci-evidence-2026-q3.hmac-secret");
    let s = std::fs::read_to_string(&sk).unwrap();
    assert_eq!(s.len(), 64);
    assert!(!text(&o).contains(&s), "{}", text(&o));
    assert_eq!(
        std::fs::metadata(&sk).unwrap().permissions().mode() & 0o777,
        0o600
    );
    let entry: Value = serde_json::from_slice(
        &std::fs::read(dir.path().join("ci-evidence-2026-q3.pub.json")).unwrap(),
    )
    .unwrap();
    let digest = secret(&s).sha256_hex();
    assert_eq!(entry["secret_sha256"], json!(digest));
    assert!(entry.get("public_key").is_none());
    assert!(text(&o).contains(&digest));
}

#[test]
fn debug_renderings_hide_secrets() {
    let mut v = Vault::default();
    v.insert(KeyId::new(EVIDENCE_ID).unwrap(), secret(EVIDENCE_SECRET));
    let m = airlock_verifier::policy::Memory {
        vault: v.clone(),
        ..Default::default()
    };
    assert_no_secret("Debug", &format!("{v:?} {v:#?} {m:?} {m:#?}"));
    let bytes: Vec<String> = EVIDENCE_SECRET.bytes().map(|b| b.to_string()).collect();
    assert!(!format!("{m:?}").contains(&bytes[..4].join(", ")));
}

#[test]
fn governance_demo_promotes_the_pinned_workflow_and_rejects_another() {
    let o = run(
        &bin("airlock", "airlock"),
        &["demo".as_ref(), "--governance".as_ref()],
    );
    let t = text(&o);
    assert_eq!(o.status.code(), Some(0), "{t}");
    assert!(
        t.contains("PROMOTE  inbox/cavra-go-runtime-v0.1.0-release.tar.gz"),
        "{t}"
    );
    assert!(t.contains("runner: issuer cavra-runner-demo"), "{t}");
    assert!(
        t.contains("REJECT   inbox/cavra-go-runtime-v0.1.1-nightly.tar.gz"),
        "{t}"
    );
    assert!(t.contains("runner-identity-mismatch"), "{t}");
}
