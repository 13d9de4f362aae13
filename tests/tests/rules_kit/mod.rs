//! Shared by the rules_* and signatures_* tests: a good release built with `airlock_author`, a
//! handful of mutations that re-sign what an attacker holding the right key would re-sign, real
//! tar / tar.gz bytes, and `bundle::scan` + `policy::assess` to decide.
//!
//! Each test states the exact set of reason codes it expects ([`expect`]); a mismatch prints
//! the case name and every reason.
#![allow(dead_code)]

use airlock_author::pack::{self, Artifact, PackOptions};
use airlock_author::root::{self, RootContent};
use airlock_author::{MinisignKey, PrivateKey};
use airlock_core::digest::sha256;
use airlock_formats::document::dsse;
use airlock_formats::document::trust_root::Builder;
use airlock_formats::keys::{decode_base64, encode_base64, hex};
use airlock_formats::reason::Code;
use airlock_formats::timestamp::Timestamp;
use airlock_verifier::bundle::{Limits, NoProgress, Scan};
use airlock_verifier::policy::{self, Assessment, Memory};
use airlock_verifier::verdict::Verdict;
use ed25519_dalek::SigningKey;
use serde_json::{json, Value};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

pub const BUILDER: &str = "https://github.com/actions/runner/github-hosted";
pub const REPO: &str = "https://github.com/cavra/cavra";
pub const PACKAGE: &str = "cavra-go-runtime";
pub const VERSION: &str = "v0.1.0";
pub const REF: &str = "refs/tags/v0.1.0";
pub const COMMIT: &str = "0123456789abcdef0123456789abcdef01234567";
pub const IN_TOTO: &str = "application/vnd.in-toto+json";

pub const EVIDENCE: &str = "release-evidence.json";
pub const PROVENANCE: &str = "cavra-runtime.provenance.intoto.json";
pub const SIGNING_OPS: &str = "cavra-runtime.signing-operations.json";
pub const CHECKSUMS: &str = "checksums.txt";
pub const SIG: &str = "checksums.txt.sig.json";
pub const MINISIG: &str = "checksums.txt.minisig";
pub const BOOTSTRAP: &str = "offline-trust-root-bootstrap.json";

/// Ids of the kit's keys.
pub const RELEASE_ID: &str = "cavra-go-release-2026-q2";
pub const MINISIGN_ID: &str = "cavra-go-release-minisign";
pub const CI_ID: &str = "ci-builder-2026-q2";
pub const SPARE_ID: &str = "spare-2026-q2";

/// Files that `checksums.txt` does not list.
pub const UNLISTED: [&str; 3] = [CHECKSUMS, SIG, MINISIG];

/// The artifacts of the good release.
pub fn artifact_files() -> Vec<(String, Vec<u8>)> {
    vec![
        ("README.md".into(), b"# cavra-go-runtime v0.1.0\n".to_vec()),
        (
            "bin/cavra-linux-amd64".into(),
            b"\x7fELF cavra runtime\n".repeat(300),
        ),
        (
            "bin/cavra-windows-amd64.exe".into(),
            b"MZ cavra runtime\n".repeat(100),
        ),
    ]
}

pub fn key(id: &str, n: u8) -> PrivateKey {
    PrivateKey::from_seed(id, &[n; 32]).unwrap()
}

/// The Ed25519 seed inside a minisign secret key (its second line: `Ed`, kdf, `B2`, salt,
/// limits, key number at 54..62, secret key at 62..126).
pub fn minisign_seed(m: &MinisignKey) -> ([u8; 8], [u8; 32]) {
    let text = m.secret_key_file().unwrap();
    let bin = decode_base64(text.lines().nth(1).unwrap().trim()).unwrap();
    assert_eq!(bin.len(), 158);
    (
        bin[54..62].try_into().unwrap(),
        bin[62..94].try_into().unwrap(),
    )
}

/// The keys and the anchor.
pub struct Kit {
    pub root_a: PrivateKey,
    pub root_b: PrivateKey,
    pub release: PrivateKey,
    pub ci: PrivateKey,
    /// Known to the trust root, in no role.
    pub spare: PrivateKey,
    /// In the release role beside `release` (threshold 1).
    pub minisign: MinisignKey,
    pub content: RootContent,
    pub anchor: Vec<u8>,
}

impl Kit {
    pub fn new() -> Self {
        Self::with_root(|_, _| {})
    }

    /// A kit whose trust root content `edit` may change before the anchor is signed by both root
    /// keys.
    pub fn with_root(edit: impl FnOnce(&mut RootContent, &Keys)) -> Self {
        let keys = Keys {
            root_a: key("root-a", 1),
            root_b: key("root-b", 2),
            release: key(RELEASE_ID, 3),
            ci: key(CI_ID, 4),
            spare: key(SPARE_ID, 5),
            minisign: MinisignKey::generate().unwrap(),
        };
        let now = Timestamp::now();
        let mut roles = BTreeMap::new();
        roles.insert(
            "root".into(),
            root::role(&[keys.root_a.key_id(), keys.root_b.key_id()], 2),
        );
        let ms_id = airlock_formats::keys::KeyId::new(MINISIGN_ID).unwrap();
        roles.insert(
            "release".into(),
            root::role(&[keys.release.key_id(), &ms_id], 1),
        );
        roles.insert("provenance".into(), root::role(&[keys.ci.key_id()], 1));
        roles.insert("revocation".into(), root::role(&[keys.root_a.key_id()], 1));
        let mut content = RootContent {
            issued_at: now.plus_seconds(-86_400),
            expires: now.plus_seconds(365 * 86_400),
            keys: vec![
                keys.root_a.public_entry(None, None),
                keys.root_b.public_entry(None, None),
                keys.release.public_entry(None, None),
                keys.ci.public_entry(None, None),
                keys.spare.public_entry(None, None),
                keys.minisign.public_entry(MINISIGN_ID, None, None).unwrap(),
            ],
            roles,
            builders: vec![Builder {
                id: BUILDER.into(),
                source_repository: REPO.into(),
                ref_pattern: "refs/tags/v*".into(),
            }],
            sigstore: None,
        };
        edit(&mut content, &keys);
        let (anchor, st) =
            root::create(1, &content, &[&keys.root_a, &keys.root_b]).expect("the kit's trust root");
        assert!(st.complete());
        Self {
            root_a: keys.root_a,
            root_b: keys.root_b,
            release: keys.release,
            ci: keys.ci,
            spare: keys.spare,
            minisign: keys.minisign,
            content,
            anchor,
        }
    }

    /// The pack options of the good release (no disk is touched: only `pack::metadata` is used).
    pub fn options(&self) -> PackOptions {
        PackOptions {
            dist: PathBuf::from("/nonexistent"),
            out: PathBuf::from("/nonexistent/out.tar.gz"),
            package: PACKAGE.into(),
            version: VERSION.into(),
            commit: COMMIT.into(),
            ref_: REF.into(),
            event: "release".into(),
            key_id: RELEASE_ID.into(),
            signing_required: true,
            release_keys: vec![key(RELEASE_ID, 3)],
            minisign_key: None,
            provenance_keys: vec![key(CI_ID, 4)],
            builder_id: BUILDER.into(),
            source_repo: REPO.into(),
            workflow_path: pack::DEFAULT_WORKFLOW_PATH.into(),
            trust_roots: vec![self.anchor.clone()],
            revocations: None,
            custody: pack::custody("op://release/cavra-go-runtime/signing-key"),
            created_at: Timestamp::parse("2026-04-01T00:00:00Z").unwrap(),
            anchor: None,
            sigstore: Default::default(),
        }
    }

    /// The good release.
    pub fn bundle(&self) -> Bundle<'_> {
        self.bundle_with(|_| {})
    }

    /// A release packed with changed options.
    pub fn bundle_with(&self, edit: impl FnOnce(&mut PackOptions)) -> Bundle<'_> {
        self.bundle_of(artifact_files(), edit)
    }

    /// A release of other artifacts.
    pub fn bundle_of(
        &self,
        artifacts: Vec<(String, Vec<u8>)>,
        edit: impl FnOnce(&mut PackOptions),
    ) -> Bundle<'_> {
        let mut o = self.options();
        edit(&mut o);
        let arts: Vec<Artifact> = artifacts
            .iter()
            .map(|(n, b)| Artifact {
                name: n.clone(),
                path: PathBuf::from("/nonexistent"),
                sha256: sha256(b),
                size: b.len() as u64,
            })
            .collect();
        let meta = pack::metadata(&o, &arts).expect("pack::metadata");
        let mut files: BTreeMap<String, Vec<u8>> = artifacts.into_iter().collect();
        files.extend(meta);
        Bundle { kit: self, files }
    }
}

impl Default for Kit {
    fn default() -> Self {
        Self::new()
    }
}

/// The kit's keys, for `Kit::with_root`.
pub struct Keys {
    pub root_a: PrivateKey,
    pub root_b: PrivateKey,
    pub release: PrivateKey,
    pub ci: PrivateKey,
    pub spare: PrivateKey,
    pub minisign: MinisignKey,
}

/// Every file of one bundle, by name, and the kit that signs for it.
#[derive(Clone)]
pub struct Bundle<'k> {
    pub kit: &'k Kit,
    pub files: BTreeMap<String, Vec<u8>>,
}

/// A DSSE envelope's decoded payload.
pub fn envelope_payload(env: &[u8]) -> Vec<u8> {
    let v: Value = serde_json::from_slice(env).unwrap();
    decode_base64(v["payload"].as_str().unwrap()).unwrap()
}

/// DSSE with arbitrary signatures (keyid, 64 bytes or junk).
pub fn envelope(payload_type: &str, payload: &[u8], sigs: &[(&str, Vec<u8>)]) -> Vec<u8> {
    let sigs: Vec<Value> = sigs
        .iter()
        .map(|(k, s)| json!({"keyid": k, "sig": encode_base64(s)}))
        .collect();
    dsse::to_pretty_json(&json!({
        "payloadType": payload_type,
        "payload": encode_base64(payload),
        "signatures": sigs,
    }))
}

/// PAE(type, body).
pub fn pae(payload_type: &str, body: &[u8]) -> Vec<u8> {
    let mut out = format!(
        "DSSEv1 {} {} {} ",
        payload_type.len(),
        payload_type,
        body.len()
    )
    .into_bytes();
    out.extend_from_slice(body);
    out
}

pub fn sign_raw(key: &PrivateKey, msg: &[u8]) -> Vec<u8> {
    use ed25519_dalek::Signer as _;
    key.signing_key().sign(msg).to_bytes().to_vec()
}

pub fn pretty(v: &Value) -> Vec<u8> {
    dsse::to_pretty_json(v)
}

impl<'k> Bundle<'k> {
    pub fn get(&self, name: &str) -> &[u8] {
        self.files
            .get(name)
            .unwrap_or_else(|| panic!("{name} not in the bundle"))
    }

    pub fn set(&mut self, name: &str, bytes: impl Into<Vec<u8>>) -> &mut Self {
        self.files.insert(name.into(), bytes.into());
        self
    }

    pub fn remove(&mut self, name: &str) -> &mut Self {
        self.files.remove(name);
        self
    }

    pub fn json(&self, name: &str) -> Value {
        serde_json::from_slice(self.get(name)).unwrap()
    }

    /// Edits a plain JSON document (evidence, signing operations), re-serialised pretty.
    pub fn edit_json(&mut self, name: &str, f: impl FnOnce(&mut Value)) -> &mut Self {
        let mut v = self.json(name);
        f(&mut v);
        self.set(name, pretty(&v))
    }

    /// The JSON payload of a DSSE document.
    pub fn payload(&self, name: &str) -> Value {
        serde_json::from_slice(&envelope_payload(self.get(name))).unwrap()
    }

    /// Replaces a DSSE document with `payload` signed by `signers`.
    pub fn sign_doc(
        &mut self,
        name: &str,
        payload_type: &str,
        payload: &[u8],
        signers: &[&PrivateKey],
    ) -> &mut Self {
        let s: Vec<(&str, &SigningKey)> = signers
            .iter()
            .map(|k| (k.key_id().as_str(), k.signing_key()))
            .collect();
        let env = dsse::sign(payload_type, payload, &s);
        self.set(name, env)
    }

    /// Edits the provenance statement and re-signs it with the provenance key (a CI key holder's
    /// attack: validly signed but wrong).
    pub fn edit_provenance(&mut self, f: impl FnOnce(&mut Value)) -> &mut Self {
        let mut v = self.payload(PROVENANCE);
        f(&mut v);
        let ci = &self.kit.ci;
        self.sign_doc(PROVENANCE, IN_TOTO, &pretty(&v), &[ci])
    }

    /// The release statement's predicate `(package, version)`.
    pub fn release_predicate(&self) -> (String, String) {
        let v = self.payload(SIG);
        (
            v["predicate"]["package"].as_str().unwrap().into(),
            v["predicate"]["version"].as_str().unwrap().into(),
        )
    }

    /// checksums.txt over every listed file as it is now (sorted, sha256sum text).
    pub fn checksums_text(&self) -> Vec<u8> {
        self.files
            .iter()
            .filter(|(n, _)| !UNLISTED.contains(&n.as_str()))
            .map(|(n, b)| format!("{}  {n}\n", hex(&sha256(b))))
            .collect::<String>()
            .into_bytes()
    }

    /// The release statement for the current checksums.txt.
    pub fn release_statement(&self, package: &str, version: &str) -> Vec<u8> {
        pretty(&json!({
            "_type": "https://in-toto.io/Statement/v1",
            "subject": [{"name": CHECKSUMS, "digest": {"sha256": hex(&sha256(self.get(CHECKSUMS)))}}],
            "predicateType": "https://cavra.dev/release-signature/v1",
            "predicate": {"package": package, "version": version},
        }))
    }

    /// Re-signs checksums.txt as it is now: the DSSE release signature (same predicate; the kit's
    /// release key) and, if present, the minisign signature.
    pub fn resign_release(&mut self) -> &mut Self {
        if self.files.contains_key(SIG) {
            let (p, v) = self.release_predicate();
            let st = self.release_statement(&p, &v);
            let rel = &self.kit.release;
            self.sign_doc(SIG, IN_TOTO, &st, &[rel]);
        }
        if self.files.contains_key(MINISIG) {
            let sig = self
                .kit
                .minisign
                .sign(self.get(CHECKSUMS), CHECKSUMS, Timestamp::now())
                .unwrap();
            self.set(MINISIG, sig);
        }
        self
    }

    /// Recomputes checksums.txt and re-signs it (the release key holder's attack).
    pub fn reseal(&mut self) -> &mut Self {
        let text = self.checksums_text();
        self.set(CHECKSUMS, text);
        self.resign_release()
    }

    /// Sets the release predicate and re-signs.
    pub fn sign_release_predicate(&mut self, package: &str, version: &str) -> &mut Self {
        let st = self.release_statement(package, version);
        let rel = &self.kit.release;
        self.sign_doc(SIG, IN_TOTO, &st, &[rel])
    }

    /// A minisign-only release: no DSSE signature, `checksums.txt.minisig` by the kit's minisign
    /// key, evidence and signing operations naming that key.
    pub fn minisign_only(&mut self) -> &mut Self {
        self.remove(SIG);
        self.edit_json(EVIDENCE, |v| v["key_id"] = MINISIGN_ID.into());
        self.edit_json(SIGNING_OPS, |v| v["active_key_id"] = MINISIGN_ID.into());
        let text = self.checksums_text();
        self.set(CHECKSUMS, text);
        let sig = self
            .kit
            .minisign
            .sign(self.get(CHECKSUMS), CHECKSUMS, Timestamp::now())
            .unwrap();
        self.set(MINISIG, sig)
    }

    /// Writes the bundle as a real archive: sorted entries, GNU headers, optionally gzip.
    pub fn write(&self, path: &Path, gzip: bool) {
        let f = std::fs::File::create(path).unwrap();
        let w: Box<dyn std::io::Write> = if gzip {
            Box::new(flate2::write::GzEncoder::new(
                f,
                flate2::Compression::fast(),
            ))
        } else {
            Box::new(f)
        };
        let mut b = tar::Builder::new(w);
        for (name, bytes) in &self.files {
            let mut h = tar::Header::new_gnu();
            h.set_entry_type(tar::EntryType::Regular);
            h.set_mode(0o644);
            h.set_size(bytes.len() as u64);
            h.set_mtime(1_775_001_600);
            b.append_data(&mut h, name, bytes.as_slice()).unwrap();
        }
        let mut w = b.into_inner().unwrap();
        w.flush().unwrap();
    }

    /// Scans the real archive bytes.
    pub fn scan(&self) -> Scan {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bundle.tar.gz");
        self.write(&path, true);
        scan_file(&path)
    }

    /// The appliance's decision with a fresh memory, now.
    pub fn assess(&self) -> Assessment {
        assess_scan(&self.scan(), &self.kit.anchor)
    }
}

use std::io::Write as _;

pub fn scan_file(path: &Path) -> Scan {
    airlock_verifier::bundle::scan(path, &Limits::default(), &NoProgress).expect("scan aborted")
}

pub fn assess_scan(scan: &Scan, anchor: &[u8]) -> Assessment {
    policy::assess(&policy::Inputs {
        scan,
        anchor,
        media_roots: &[],
        media_revocations: &[],
        memory: &Memory::default(),
        now: Timestamp::now(),
    })
}

pub fn codes(a: &Assessment) -> BTreeSet<&'static str> {
    a.reasons().iter().map(|r| r.code.as_str()).collect()
}

fn show(a: &Assessment) -> String {
    a.reasons()
        .iter()
        .map(|r| format!("\n    {}: {}", r.code, r.message))
        .collect()
}

/// Requires a reject whose distinct codes are exactly `want`.
#[track_caller]
pub fn expect(case: &str, a: &Assessment, want: &[Code]) {
    let want: BTreeSet<&str> = want.iter().map(|c| c.as_str()).collect();
    assert!(
        a.verdict() == Verdict::Reject && codes(a) == want,
        "case {case}: expected reject with exactly {want:?}, got {} with {:?}:{}",
        a.verdict(),
        codes(a),
        show(a)
    );
}

/// Requires a promote.
#[track_caller]
pub fn expect_promote(case: &str, a: &Assessment) {
    assert!(
        a.verdict() == Verdict::Promote,
        "case {case}: expected promote, got {}:{}",
        a.verdict(),
        show(a)
    );
}

/// One test per rule: `rule!(name, |b| mutation, [Code::…])` builds the good release, applies
/// the mutation to its files and requires exactly those codes.
#[allow(unused_macros)]
macro_rules! rule {
    ($name:ident, |$b:ident| $mutation:expr, [$($code:ident),* $(,)?]) => {
        #[test]
        fn $name() {
            let kit = $crate::rules_kit::Kit::new();
            let mut bundle = kit.bundle();
            {
                let $b = &mut bundle;
                $mutation;
            }
            $crate::rules_kit::expect(
                stringify!($name),
                &bundle.assess(),
                &[$(airlock_formats::reason::Code::$code),*],
            );
        }
    };
}

/// Whether an external tool can run. Missing: a failure under CI (env CI set), else a skip.
pub fn require_tool(cmd: &str, args: &[&str]) -> bool {
    let ok = std::process::Command::new(cmd)
        .args(args)
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false);
    if !ok {
        assert!(
            std::env::var_os("CI").is_none(),
            "required tool `{cmd} {}` is not available (CI is set: failing, not skipping)",
            args.join(" ")
        );
        eprintln!("SKIP: `{cmd} {}` is not available", args.join(" "));
    }
    ok
}

/// `tests/interop`.
pub fn interop_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("interop")
}
