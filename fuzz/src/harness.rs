//! The fuzz entry points, one function per target. Each takes the raw fuzz input, drives the
//! library's own parsing / verifying entry point with it, and checks properties that must hold for
//! every input; the only failure mode is a panic.
//!
//! This file is shared, unchanged, by the cargo-fuzz targets (`fuzz/fuzz_targets/*.rs`, through
//! `fuzz/src/lib.rs`) and by the stable replay test `tests/tests/fuzz_corpus.rs` (through
//! `#[path]`), so CI replays the committed corpus and every regression through exactly the code
//! the fuzzer ran. It therefore uses only crates both have: `airlock`, `airlock_core`,
//! `ed25519_dalek`, `flate2`, `serde_json`, `tempfile`.

#![allow(dead_code)]

use airlock_author::revocations as author_revs;
use airlock_author::root::{self as author_root, RootContent};
use airlock_author::PrivateKey;
use airlock_core::checksums::{lines, parse_line, ChecksumSet};
use airlock_core::digest::sha256;
use airlock_core::ed25519::{PublicKey, SIGNATURE_LEN};
use airlock_core::pae;
use airlock_formats::document::checksums::Checksums;
use airlock_formats::document::dsse::{self, payload_type, Envelope};
use airlock_formats::document::provenance::{glob_match, Provenance, SLSA_PROVENANCE_V1};
use airlock_formats::document::release_evidence::{ReleaseEvidence, ReleaseVersion};
use airlock_formats::document::revocations::Revocations;
use airlock_formats::document::signing_ops;
use airlock_formats::document::statement::{ReleasePredicate, Statement, RELEASE_PREDICATE_TYPE};
use airlock_formats::document::trust_root::{Builder, TrustRoot, ROLES};
use airlock_formats::keys::{encode_base64, Key, KeyEntry, KeyMaterial};
use airlock_formats::timestamp::Timestamp;
use airlock_verifier::bundle::{self, FileEntry, Inventory, Limits, NoProgress, Scan};
use airlock_verifier::evidence::{self, LogHead, LogKind, Record};
use airlock_verifier::policy::{self, Memory};
use airlock_verifier::receipt;
use airlock_verifier::trust::root::{self as trust_root, RootInputs, TrustedRoot};
use airlock_verifier::trust::Candidate;
use airlock_verifier::verdict::Verdict;
use std::collections::BTreeMap;
use std::io::Write as _;
use std::path::PathBuf;
use std::sync::OnceLock;

// ---------------------------------------------------------------------------------------------
// The fixed test world: keys from fixed seeds, one trust root (the anchor), one revocation list,
// one appliance key, a fixed clock. Deterministic, so seeds signed by these keys stay valid.

/// Seeds of the fixture's keys (test-only, public by design).
pub const SEED_ROOT_A: [u8; 32] = [0xa1; 32];
/// Second root key.
pub const SEED_ROOT_B: [u8; 32] = [0xb2; 32];
/// Release key (DSSE release signatures).
pub const SEED_RELEASE: [u8; 32] = [0xc3; 32];
/// Provenance (builder) key.
pub const SEED_BUILDER: [u8; 32] = [0xd4; 32];
/// The key whose public half is listed as a minisign key (key number [`MINISIGN_KEY_NUM`]).
pub const SEED_MINISIGN: [u8; 32] = [0xe5; 32];
/// The appliance key (receipts, evidence log).
pub const SEED_APPLIANCE: [u8; 32] = [0xf6; 32];
/// minisign key number of the fixture's minisign key.
pub const MINISIGN_KEY_NUM: [u8; 8] = *b"AIRFUZZ1";
/// Builder id the fixture root pins.
pub const BUILDER_ID: &str = "https://github.com/actions/runner/github-hosted";
/// Source repository the fixture root pins.
pub const SOURCE_REPO: &str = "https://github.com/cavra/cavra";

/// The fixed world.
pub struct Fixture {
    /// The anchor trust root (version 1) envelope bytes.
    pub anchor: Vec<u8>,
    /// The anchor, verified.
    pub trusted: TrustedRoot,
    /// A revocation list (version 1, empty) signed by the revocation role.
    pub revocations: Vec<u8>,
    /// Root keys (root role: both, threshold 2; revocation role: `root_a`).
    pub root_a: PrivateKey,
    /// Second root key.
    pub root_b: PrivateKey,
    /// Release key.
    pub release: PrivateKey,
    /// Provenance key.
    pub builder: PrivateKey,
    /// Appliance key.
    pub appliance: airlock_verifier::appliance_key::ApplianceKey,
    /// `appliance-key.json` bytes of the appliance key.
    pub appliance_entry: Vec<u8>,
    /// Trust root issue time.
    pub issued: Timestamp,
    /// The clock every decision runs at.
    pub now: Timestamp,
}

fn key(id: &str, seed: &[u8; 32]) -> PrivateKey {
    PrivateKey::from_seed(id, seed).expect("fixture key id")
}

/// The fixed world, built once.
pub fn fixture() -> &'static Fixture {
    static F: OnceLock<Fixture> = OnceLock::new();
    F.get_or_init(|| {
        let issued = Timestamp::parse("2026-01-01T00:00:00Z").expect("time");
        let expires = Timestamp::parse("2036-01-01T00:00:00Z").expect("time");
        let now = Timestamp::parse("2026-06-01T12:00:00Z").expect("time");
        let root_a = key("fuzz-root-a", &SEED_ROOT_A);
        let root_b = key("fuzz-root-b", &SEED_ROOT_B);
        let release = key("fuzz-release", &SEED_RELEASE);
        let builder = key("fuzz-builder", &SEED_BUILDER);
        let mini = key("fuzz-minisign", &SEED_MINISIGN);
        let mut mini_bin = b"Ed".to_vec();
        mini_bin.extend_from_slice(&MINISIGN_KEY_NUM);
        mini_bin.extend_from_slice(&mini.public_raw());
        let mini_entry = KeyEntry {
            key_id: mini.key_id().clone(),
            algorithm: "minisign".into(),
            public_key: encode_base64(&mini_bin),
            identity: None,
            not_before: None,
            not_after: None,
        };
        let mut roles = BTreeMap::new();
        roles.insert(
            "root".to_string(),
            author_root::role(&[root_a.key_id(), root_b.key_id()], 2),
        );
        roles.insert(
            "release".to_string(),
            author_root::role(&[release.key_id(), mini.key_id()], 1),
        );
        roles.insert(
            "provenance".to_string(),
            author_root::role(&[builder.key_id()], 1),
        );
        roles.insert(
            "revocation".to_string(),
            author_root::role(&[root_a.key_id()], 1),
        );
        let mut keys: Vec<KeyEntry> = [&root_a, &root_b, &release, &builder]
            .iter()
            .map(|k| k.public_entry(None, None))
            .collect();
        keys.push(mini_entry);
        let content = RootContent {
            issued_at: issued,
            expires,
            keys,
            roles,
            builders: vec![Builder {
                id: BUILDER_ID.into(),
                source_repository: SOURCE_REPO.into(),
                ref_pattern: "refs/tags/v*".into(),
            }],
            sigstore: None,
        };
        let (anchor, _) =
            author_root::create(1, &content, &[&root_a, &root_b]).expect("fixture root");
        let trusted = trust_root::establish(&RootInputs {
            anchor: &anchor,
            candidates: &[],
            highest_accepted: 0,
            now,
        })
        .expect("fixture root verifies");
        let mut list = author_revs::empty(1, issued);
        list.expires = expires;
        let revocations =
            author_revs::sign(&list, &[&root_a], Some(&anchor)).expect("fixture revocations");
        let appliance = airlock_verifier::appliance_key::ApplianceKey::from_signing_key(
            ed25519_dalek::SigningKey::from_bytes(&SEED_APPLIANCE),
        )
        .expect("fixture appliance key");
        let appliance_entry = appliance.entry_json();
        Fixture {
            anchor,
            trusted,
            revocations,
            root_a,
            root_b,
            release,
            builder,
            appliance,
            appliance_entry,
            issued,
            now,
        }
    })
}

fn pairs<'a>(keys: &[&'a PrivateKey]) -> Vec<(&'a str, &'a ed25519_dalek::SigningKey)> {
    keys.iter()
        .map(|k| (k.key_id().as_str(), k.signing_key()))
        .collect()
}

/// Input split: the first byte chooses where `data[1..]` is cut in two.
fn split2(data: &[u8]) -> (&[u8], &[u8]) {
    match data.split_first() {
        None => (&[], &[]),
        Some((&b, rest)) => {
            let at = (b as usize * rest.len()) / 255;
            rest.split_at(at.min(rest.len()))
        }
    }
}

// ---------------------------------------------------------------------------------------------
// JSON and documents.

/// `json::parse_value` and typed `json::parse`: a value that parses strictly re-serialises to
/// something that parses strictly again.
pub fn json_strict(data: &[u8]) {
    use airlock_formats::json;
    if let Ok(v) = json::parse_value(data) {
        let again = serde_json::to_vec(&v).expect("a parsed Value serialises");
        let v2 = json::parse_value(&again).expect("re-serialised strict JSON parses strictly");
        // Same shape (numbers may differ by float rounding, so compare types and keys only).
        assert_eq!(shape(&v), shape(&v2));
    }
    let _ = json::parse::<u64>(data);
    let _ = json::parse::<Vec<String>>(data);
    let _ = json::parse::<BTreeMap<String, u64>>(data);
    let _ = json::parse::<KeyEntry>(data);
    if let Ok(entry) = json::parse::<KeyEntry>(data) {
        let _ = Key::from_entry(&entry);
    }
    if let Ok(s) = std::str::from_utf8(data) {
        let _ = Timestamp::parse(s);
        let _ = ReleaseVersion::parse(s);
        let _ = airlock_formats::keys::KeyId::new(s);
        let _ = airlock_formats::keys::decode_base64(s);
    }
}

fn shape(v: &serde_json::Value) -> String {
    use serde_json::Value;
    match v {
        Value::Null => "n".into(),
        Value::Bool(b) => format!("{b}"),
        Value::Number(_) => "#".into(),
        Value::String(s) => format!("{s:?}"),
        Value::Array(a) => format!("[{}]", a.iter().map(shape).collect::<Vec<_>>().join(",")),
        Value::Object(o) => format!(
            "{{{}}}",
            o.iter()
                .map(|(k, v)| format!("{k:?}:{}", shape(v)))
                .collect::<Vec<_>>()
                .join(",")
        ),
    }
}

/// `Envelope::parse`: PAE of a parsed envelope has the length PAE promises; at most 64
/// signatures; and `add_signatures` (co-signing) on it never panics.
pub fn dsse_envelope(data: &[u8]) {
    if let Ok(env) = Envelope::parse(data) {
        assert!(env.signatures.len() <= dsse::MAX_SIGNATURES);
        let p = env.pae();
        assert_eq!(
            Ok(p.len()),
            pae::encoded_len(env.payload_type.len(), env.payload.len())
        );
        assert!(p.starts_with(b"DSSEv1 "));
        assert!(p.ends_with(&env.payload));
        let f = fixture();
        let cosigned = dsse::add_signatures(data, &pairs(&[&f.release]))
            .expect("an envelope that parses can be co-signed");
        let env2 = Envelope::parse(&cosigned).expect("a co-signed envelope parses");
        assert_eq!(env2.payload, env.payload);
        assert_eq!(env2.payload_type, env.payload_type);
    }
}

/// `TrustRoot::parse` on the input as an envelope file, and on the input as the payload of an
/// (unsigned, then fixture-signed) trust-root envelope, which also runs the root walk
/// (`trust::root::establish`) from the fixture anchor with the input as a candidate.
pub fn trust_root(data: &[u8]) {
    check_root(data);
    let f = fixture();
    let env = dsse::sign(
        payload_type::TRUST_ROOT,
        data,
        &pairs(&[&f.root_a, &f.root_b]),
    );
    if check_root(&env) {
        let _ = trust_root::establish(&RootInputs {
            anchor: &f.anchor,
            candidates: &[Candidate {
                source: "bundle:trust-root/2.json".into(),
                bytes: env,
            }],
            highest_accepted: 1,
            now: f.now,
        });
    }
}

fn check_root(bytes: &[u8]) -> bool {
    let Ok(r) = TrustRoot::parse(bytes) else {
        return false;
    };
    assert!(r.version() >= 1 && r.version() <= i64::MAX as u64);
    assert!(r.keys.len() <= airlock_formats::document::trust_root::MAX_KEYS);
    for name in ROLES {
        let role = r.role(name).expect("every role exists once parsed");
        assert!(role.threshold >= 1 && role.threshold <= role.key_ids.len());
        for id in &role.key_ids {
            assert!(r.keys.contains_key(id));
        }
    }
    true
}

/// `Revocations::parse` on the input as an envelope and as a payload; when it parses as a
/// payload, the fixture-signed list also goes through `trust::revocations::establish`.
pub fn revocations(data: &[u8]) {
    check_revocations(data);
    let f = fixture();
    let env = dsse::sign(payload_type::REVOCATIONS, data, &pairs(&[&f.root_a]));
    if check_revocations(&env) {
        if let Ok(revs) = airlock_verifier::trust::revocations::establish(
            &f.trusted,
            &[Candidate {
                source: "media:revocations.json".into(),
                bytes: env,
            }],
            0,
            f.now,
        ) {
            let _ = revs.version_revoked("v1.0.0");
            let _ = revs.artifact_revoked(&[0u8; 32]);
        }
    }
}

fn check_revocations(bytes: &[u8]) -> bool {
    let Ok(r) = Revocations::parse(bytes) else {
        return false;
    };
    assert_eq!(r.artifact_digests.len(), r.payload.revoked_artifacts.len());
    assert!(r.version() >= 1);
    let _ = author_revs::describe(&r.payload);
    true
}

/// `Statement::parse` + `Provenance::from_predicate` (and the release predicate), then the input
/// signed by the fixture's builder and release keys through `trust::provenance::verify` and
/// `trust::release::verify`, so the code after a valid signature is reached too.
pub fn statement_provenance(data: &[u8]) {
    if let Ok(s) = Statement::parse(data, SLSA_PROVENANCE_V1) {
        assert!(s.subject.len() <= airlock_formats::document::statement::MAX_SUBJECTS);
        if let Ok(p) = Provenance::from_predicate(&s.predicate) {
            let w = &p.build_definition.external_parameters.workflow;
            let _ = glob_match(&w.ref_, &w.repository);
            let _ = glob_match("refs/tags/v*", &w.ref_);
            let _ = glob_match(&p.run_details.builder.id, &w.ref_);
        }
    }
    if let Ok(s) = Statement::parse(data, RELEASE_PREDICATE_TYPE) {
        let _ = serde_json::from_value::<ReleasePredicate>(s.predicate);
    }
    let f = fixture();
    // No list offered to a fresh appliance: nothing revoked, as only `establish` says.
    let revs = airlock_verifier::trust::revocations::establish(&f.trusted, &[], 0, f.now)
        .expect("no list offered to a fresh appliance");
    let prov = dsse::sign(payload_type::IN_TOTO, data, &pairs(&[&f.builder]));
    let _ = airlock_verifier::trust::provenance::verify(&f.trusted, &revs, Some(&prov), f.now);
    let rel = dsse::sign(payload_type::IN_TOTO, data, &pairs(&[&f.release]));
    let checksums = b"";
    let _ = airlock_verifier::trust::release::verify(
        &f.trusted,
        &revs,
        &airlock_verifier::trust::release::ReleaseSignatures {
            checksums,
            dsse: Some(&rel),
            minisig: None,
            sigstore: None,
        },
        f.now,
    );
}

/// `ReleaseEvidence::parse`: a parsed document has a `v`-semver version and a 40-hex commit.
pub fn release_evidence(data: &[u8]) {
    if let Ok((ev, v)) = ReleaseEvidence::parse(data) {
        assert_eq!(ev.commit.len(), 40);
        assert_eq!(
            v.to_string().trim_start_matches('v'),
            ev.version.trim_start_matches('v')
        );
        let _ = dsse::to_pretty_json(&ev);
    }
}

/// `signing_ops::check`: Ok only with no reason; Err always with at least one.
pub fn signing_ops(data: &[u8]) {
    match signing_ops::check(data) {
        Ok(facts) => assert!(!facts.active_key_id.is_empty()),
        Err(reasons) => assert!(!reasons.is_empty()),
    }
}

/// checksums.txt: the core line iterator, `parse_line`, `ChecksumSet::parse` and the verifier's
/// `Checksums::parse` must agree.
pub fn checksums(data: &[u8]) {
    let mut ok_names = Vec::new();
    let mut errors = 0usize;
    for item in lines(data) {
        match item {
            Ok(line) => {
                assert!(airlock_core::name::check(line.name).is_ok());
                ok_names.push(line.name);
            }
            Err(e) => {
                assert!(e.line >= 1);
                errors += 1;
            }
        }
    }
    for raw in data.split(|&b| b == b'\n') {
        let _ = parse_line(raw);
    }
    let (sums, reasons) = Checksums::parse(data);
    let mut distinct = ok_names.clone();
    distinct.sort_unstable();
    distinct.dedup();
    assert_eq!(sums.len(), distinct.len());
    assert_eq!(
        reasons.len(),
        errors + (ok_names.len() - distinct.len()),
        "one reason per malformed line and per repeated name"
    );
    small_set::<4, 16>(
        data,
        errors == 0 && distinct.len() == ok_names.len(),
        &ok_names,
    );
    small_set::<64, 256>(
        data,
        errors == 0 && distinct.len() == ok_names.len(),
        &ok_names,
    );
}

fn small_set<const N: usize, const NAME: usize>(data: &[u8], clean: bool, names: &[&str]) {
    match ChecksumSet::<N, NAME>::parse(data) {
        Ok(set) => {
            assert!(clean, "ChecksumSet accepted what the line parser refused");
            assert_eq!(set.len(), names.len());
            let inv: Vec<(&str, &airlock_core::digest::Sha256Digest)> = set.iter().collect();
            assert_eq!(set.check_inventory(inv.iter().copied(), &mut |_| {}), 0);
            let mut mismatches = 0;
            // Every entry twice: one duplicate each.
            set.check_inventory(inv.iter().chain(inv.iter()).copied(), &mut |_| {
                mismatches += 1
            });
            assert_eq!(mismatches, inv.len());
            // Nothing present: every entry missing.
            assert_eq!(set.check_inventory([], &mut |_| {}), inv.len());
        }
        Err(e) => {
            let fits = names.len() <= N && names.iter().all(|n| n.len() <= NAME);
            assert!(
                !(clean && fits),
                "ChecksumSet refused a clean file that fits: {e:?}"
            );
        }
    }
}

/// DSSE PAE: `encoded_len == encode().len()`, a too-short buffer is an error, the output parses
/// back into (type, body), and `dsse::pae` agrees with the core.
pub fn pae(data: &[u8]) {
    let (ty, body) = split2(data);
    let len = pae::encoded_len(ty.len(), body.len()).expect("small lengths never overflow");
    let mut buf = vec![0u8; len + 3];
    let out = pae::encode(&mut buf, ty, body).expect("a buffer of encoded_len bytes suffices");
    assert_eq!(out.len(), len);
    let out = out.to_vec();
    assert_eq!(parse_pae(&out), Some((ty, body)));
    assert_eq!(dsse::pae(ty, body), out);
    if len > 0 {
        let mut short = vec![0u8; len - 1];
        assert_eq!(pae::encode(&mut short, ty, body), Err(pae::PaeError::Write));
    }
    // The input itself as a PAE: a reference parser of the prefix; whatever it accepts must
    // re-encode to exactly the input.
    if let Some((t, b)) = parse_pae(data) {
        assert_eq!(dsse::pae(t, b), data);
    }
    let _ = pae::encoded_len(usize::MAX - (data.len() % 8), data.len());
}

/// A strict reference parser of `DSSEv1 SP LEN SP type SP LEN SP body` (LEN: ASCII decimal,
/// no leading zeros), for the round-trip property.
pub fn parse_pae(b: &[u8]) -> Option<(&[u8], &[u8])> {
    fn len(b: &[u8]) -> Option<(usize, &[u8])> {
        let end = b.iter().position(|&c| c == b' ')?;
        let digits = &b[..end];
        if digits.is_empty()
            || digits.len() > 19
            || !digits.iter().all(u8::is_ascii_digit)
            || (digits.len() > 1 && digits[0] == b'0')
        {
            return None;
        }
        let n: usize = std::str::from_utf8(digits).ok()?.parse().ok()?;
        Some((n, &b[end + 1..]))
    }
    let rest = b.strip_prefix(b"DSSEv1 ")?;
    let (tl, rest) = len(rest)?;
    if rest.len() < tl + 1 || rest[tl] != b' ' {
        return None;
    }
    let (ty, rest) = (&rest[..tl], &rest[tl + 1..]);
    let (bl, rest) = len(rest)?;
    (rest.len() == bl).then_some((ty, rest))
}

/// Ed25519: `PublicKey::from_bytes` and `verify` never panic; a signature made by a fixture key
/// verifies, and the same signature over another message does not.
pub fn ed25519_key_and_sig(data: &[u8]) {
    let mut raw = [0u8; 32];
    let mut sig = [0u8; SIGNATURE_LEN];
    let k = data.len().min(32);
    raw[..k].copy_from_slice(&data[..k]);
    let s = data.len().saturating_sub(32).min(SIGNATURE_LEN);
    if let Some(b) = data.get(32..32 + s) {
        sig[..s].copy_from_slice(b);
    }
    let msg = data.get(96..).unwrap_or(&[]);
    if let Ok(pk) = PublicKey::from_bytes(&raw) {
        assert_eq!(pk.as_bytes(), &raw);
        let _ = pk.verify(msg, &sig);
        let _ = airlock_formats::keys::fingerprint(&raw);
    }
    let f = fixture();
    let pk = PublicKey::from_bytes(&f.release.public_raw()).expect("fixture key");
    let _ = pk.verify(msg, &sig);
    // Deterministic signatures of the fixture key: verify, and are bound to the message.
    let good = f.appliance.sign(msg);
    assert!(f.appliance.public().verify(msg, &good).is_ok());
    let mut other = msg.to_vec();
    other.push(0);
    assert!(f.appliance.public().verify(&other, &good).is_err());
    // A key entry from the input (Ed25519 and minisign encodings).
    for algorithm in ["Ed25519", "minisign"] {
        let entry = KeyEntry {
            key_id: airlock_formats::keys::KeyId::new("fuzz-key").expect("id"),
            algorithm: algorithm.into(),
            public_key: encode_base64(data),
            identity: None,
            not_before: None,
            not_after: None,
        };
        if let Ok(key) = Key::from_entry(&entry) {
            assert!(PublicKey::from_bytes(key.raw()).is_ok());
            if let KeyMaterial::Minisign { key_num, .. } = key.material {
                assert_eq!(&data[2..10], &key_num);
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Bundles.

/// Small limits, so a fuzz input can reach every one of them.
pub fn small_limits() -> Limits {
    Limits {
        max_entries: 32,
        max_name_bytes: 8192,
        max_header_bytes: 4096,
        max_metadata_bytes: 16 * 1024,
        max_metadata_files: 8,
        max_total_bytes: 4 << 20,
        deadline: None,
    }
}

fn scratch_dir() -> &'static tempfile::TempDir {
    static D: OnceLock<tempfile::TempDir> = OnceLock::new();
    D.get_or_init(|| tempfile::tempdir().expect("temp dir"))
}

fn scan_bytes(bytes: &[u8]) -> Scan {
    // One file per thread (the replay test runs targets in parallel threads).
    let name = format!("bundle-{:?}.tar", std::thread::current().id()).replace(
        |c: char| !c.is_ascii_alphanumeric() && c != '.' && c != '-',
        "",
    );
    let path: PathBuf = scratch_dir().path().join(name);
    std::fs::write(&path, bytes).expect("write scratch bundle");
    let scan = bundle::scan(&path, &small_limits(), &NoProgress).expect("no deadline is set");
    let _ = std::fs::remove_file(&path);
    scan
}

fn check_scan(bytes: &[u8], scan: &Scan) {
    let inv = &scan.inventory;
    assert_eq!(inv.bundle_size, bytes.len() as u64);
    assert_eq!(inv.bundle_sha256, Some(sha256(bytes)));
    assert!(inv.files.len() <= small_limits().max_entries);
    assert!(inv.metadata.len() <= small_limits().max_metadata_files);
    for (name, content) in &inv.metadata {
        assert!(bundle::is_metadata(name));
        assert!(content.len() as u64 <= small_limits().max_metadata_bytes);
        let f = inv
            .files
            .iter()
            .find(|f| &f.name == name)
            .expect("a kept metadata file is a listed file");
        assert_eq!(f.sha256, sha256(content));
    }
    for f in &inv.files {
        assert!(airlock_core::name::check(&f.name).is_ok(), "{:?}", f.name);
    }
    assert!(scan.reasons.len() <= 1001);
}

/// `bundle::scan` of the input as a file (tar, or gzip when it starts with `1f 8b`).
pub fn bundle_scan(data: &[u8]) {
    let scan = scan_bytes(data);
    check_scan(data, &scan);
}

/// `bundle::scan` of the input gzipped first, so every input reaches the tar walk through the
/// inflate path.
pub fn bundle_scan_gz(data: &[u8]) {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(data).expect("gzip in memory");
    let bytes = gz.finish().expect("gzip in memory");
    let scan = scan_bytes(&bytes);
    check_scan(&bytes, &scan);
}

// ---------------------------------------------------------------------------------------------
// Policy.

/// Separator between the sections of a `policy_assess` input.
pub const SECTION: &[u8] = b"\n%%\n";

/// Builds the policy inputs from a fuzz input: sections separated by [`SECTION`], each a header
/// line `KIND NAME` and a body.
///
/// * `F name` an artifact file (inventory entry: SHA-256 and size of the body);
/// * `M name` a metadata file kept in memory (and listed as a file);
/// * `SR name` / `SP name` the body is an in-toto statement, signed into a DSSE envelope by the
///   fixture's release / provenance key, stored as metadata `name`;
/// * `SV name` the body is a revocation payload signed by the revocation key; `ST name` a trust
///   root payload signed by both root keys;
/// * `R source` / `V source` a trust root / revocation list offered at the media root;
/// * `X text` the bundle's scan reasons are not empty (`text` is the message);
/// * `B` the bundle file's digest is the body's SHA-256 (default: the input's).
///
/// In every body, `{{sha256:NAME}}` / `{{size:NAME}}` become the hex SHA-256 / size of the body
/// of an earlier section named NAME, so checksums and evidence can follow mutated files.
pub fn policy_inputs(data: &[u8]) -> (Scan, Vec<Candidate>, Vec<Candidate>) {
    let f = fixture();
    let mut inv = Inventory {
        bundle_sha256: Some(sha256(data)),
        bundle_size: data.len() as u64,
        files: Vec::new(),
        metadata: BTreeMap::new(),
        provenance: None,
    };
    let mut reasons = Vec::new();
    let mut roots = Vec::new();
    let mut revs = Vec::new();
    let mut bodies: BTreeMap<String, Vec<u8>> = BTreeMap::new();
    for section in split_all(data, SECTION) {
        let (head, body) = match section.iter().position(|&b| b == b'\n') {
            Some(i) => (&section[..i], &section[i + 1..]),
            None => (section, &[][..]),
        };
        let head = String::from_utf8_lossy(head);
        let (kind, name) = head.split_once(' ').unwrap_or((&head, ""));
        let body = substitute(body, &bodies);
        let mut file = |name: &str, bytes: Vec<u8>, meta: bool| {
            inv.files.push(FileEntry {
                name: name.to_owned(),
                sha256: sha256(&bytes),
                size: bytes.len() as u64,
            });
            if meta {
                inv.metadata.insert(name.to_owned(), bytes.clone());
            }
            bodies.insert(name.to_owned(), bytes);
        };
        match kind {
            "F" => file(name, body, false),
            "M" => file(name, body, true),
            "SR" => file(
                name,
                dsse::sign(payload_type::IN_TOTO, &body, &pairs(&[&f.release])),
                true,
            ),
            "SP" => file(
                name,
                dsse::sign(payload_type::IN_TOTO, &body, &pairs(&[&f.builder])),
                true,
            ),
            "SV" => file(
                name,
                dsse::sign(payload_type::REVOCATIONS, &body, &pairs(&[&f.root_a])),
                true,
            ),
            "ST" => file(
                name,
                dsse::sign(
                    payload_type::TRUST_ROOT,
                    &body,
                    &pairs(&[&f.root_a, &f.root_b]),
                ),
                true,
            ),
            "R" => roots.push(Candidate {
                source: format!("media:{name}"),
                bytes: body,
            }),
            "V" => revs.push(Candidate {
                source: format!("media:{name}"),
                bytes: body,
            }),
            "X" => reasons.push(airlock_formats::reason::Reason::new(
                airlock_formats::reason::Code::BundleEntryUnsafe,
                name.to_owned(),
            )),
            "B" => inv.bundle_sha256 = Some(sha256(&body)),
            _ => {}
        }
    }
    (
        Scan {
            inventory: inv,
            reasons,
        },
        roots,
        revs,
    )
}

fn split_all<'a>(data: &'a [u8], sep: &[u8]) -> Vec<&'a [u8]> {
    let mut out = Vec::new();
    let mut rest = data;
    while let Some(i) = rest.windows(sep.len()).position(|w| w == sep) {
        out.push(&rest[..i]);
        rest = &rest[i + sep.len()..];
    }
    out.push(rest);
    out
}

fn substitute(body: &[u8], bodies: &BTreeMap<String, Vec<u8>>) -> Vec<u8> {
    let mut out = Vec::with_capacity(body.len());
    let mut rest = body;
    while let Some(i) = rest.windows(2).position(|w| w == b"{{") {
        out.extend_from_slice(&rest[..i]);
        let after = &rest[i + 2..];
        let Some(j) = after.windows(2).position(|w| w == b"}}") else {
            out.extend_from_slice(&rest[i..]);
            return out;
        };
        let token = String::from_utf8_lossy(&after[..j]);
        let value = match token.split_once(':') {
            Some(("sha256", n)) => bodies
                .get(n)
                .map(|b| airlock_formats::keys::hex(&sha256(b))),
            Some(("size", n)) => bodies.get(n).map(|b| b.len().to_string()),
            _ => None,
        };
        match value {
            Some(v) => out.extend_from_slice(v.as_bytes()),
            None => out.extend_from_slice(&rest[i..i + 2 + j + 2]),
        }
        rest = &after[j + 2..];
    }
    out.extend_from_slice(rest);
    out
}

/// `policy::assess` over a scan built from the input (see [`policy_inputs`]) under the fixture
/// anchor, with an empty memory and with a memory that already promoted a release.
pub fn policy_assess(data: &[u8]) {
    let f = fixture();
    let (scan, roots, revs) = policy_inputs(data);
    let mut memory = Memory::default();
    for m in [false, true] {
        if m {
            memory.state.trust_root_version = 1;
            memory.state.revocations_version = 1;
            memory.state.clock_floor = Some(f.issued);
            memory.state.packages.insert(
                "cavra-go-runtime".into(),
                airlock_verifier::state::PromotedRelease {
                    version: "v0.1.0".into(),
                    bundle_sha256: "00".repeat(32),
                },
            );
        }
        let a = policy::assess(&policy::Inputs {
            scan: &scan,
            anchor: &f.anchor,
            media_roots: &roots,
            media_revocations: &revs,
            memory: &memory,
            now: f.now,
        });
        match a.verdict() {
            Verdict::Promote => {
                assert!(a.reasons().is_empty());
                assert!(scan.reasons.is_empty());
                assert!(a.package().is_some() && a.version().is_some());
                assert!(a.updates().promoted.is_some());
            }
            Verdict::Reject => {
                assert!(!a.reasons().is_empty());
                assert!(a.updates().promoted.is_none());
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Evidence log and receipts.

/// `evidence::verify_log` of the input as a log, against the fixture appliance key, as the
/// appliance's own log and as a media log.
pub fn evidence_log(data: &[u8]) {
    let f = fixture();
    let id = f.appliance.key_id().as_str();
    for kind in [LogKind::Appliance, LogKind::Media] {
        let r = evidence::verify_log(data, id, f.appliance.public(), kind);
        assert_eq!(r.records_verified as usize, r.records.len());
        assert!(r.lines as usize <= data.len());
        if let Some(h) = &r.head {
            assert!(r.record(h.seq).is_some());
        }
        if let Some(t) = &r.torn_tail {
            assert!(t.offset + t.bytes == data.len() as u64);
        }
        let _ = r.status();
        let _ = evidence::report_json(&r, "evidence/airlock-evidence.jsonl", data, f.now);
    }
    // The input's lines, each re-signed as a record would be: a record whose signature verifies
    // is reached for any content.
    let mut head = LogHead::genesis();
    let mut log = Vec::new();
    for _ in 0..2 {
        let rec = Record::new(
            &head,
            f.now,
            Some(&airlock_formats::keys::hex(&sha256(data))),
            Verdict::Reject,
            &[],
            None,
            &f.appliance,
        );
        log.extend_from_slice(rec.line());
        log.push(b'\n');
        head = rec.next_head();
    }
    let records = log.len();
    log.extend_from_slice(data);
    let r = evidence::verify_log(&log, id, f.appliance.public(), LogKind::Media);
    assert!(r.records_verified >= 2);
    // The input as the torn fragment of a stick pulled mid-append (line 3), and the appliance's
    // next record acknowledging it (line 4): that record verifies, and its acknowledgment repairs
    // line 3 (which is then no failure) exactly when the input is not itself a record; otherwise
    // it is unmatched.
    if !data.is_empty()
        && data.len() as u64 <= evidence::MAX_TORN_FRAGMENT
        && !data.contains(&b'\n')
    {
        log.truncate(records + data.len());
        log.push(b'\n');
        let ack = Record::new_after_fragment(
            &head,
            f.now,
            None,
            Verdict::Reject,
            &[],
            None,
            &f.appliance,
            Some(&evidence::TornFragment::of(data)),
        );
        log.extend_from_slice(ack.line());
        log.push(b'\n');
        let r = evidence::verify_log(&log, id, f.appliance.public(), LogKind::Media);
        assert!(r.records.iter().any(|v| v.line == 4 && v.seq == 3));
        let repaired = r
            .repaired_torn_lines
            .iter()
            .any(|t| (t.line, t.acknowledged_by) == (3, 3));
        let unmatched = r.unmatched_acknowledgments.iter().any(|u| u.line == 4);
        let is_record = r.records.iter().any(|v| v.line == 3)
            || r.bad_signatures.iter().any(|l| l.line == 3)
            || r.foreign_records.iter().any(|l| l.line == 3);
        assert_eq!((repaired, unmatched), (!is_record, is_record));
        if repaired {
            assert!(r.torn_lines.is_empty() && r.records_verified == 3);
        }
    }
}

/// `receipt::verify_receipt` of the input as an envelope (fixture appliance key entry), of the
/// input as a payload signed by the appliance key, and, when the input holds [`KEY_SPLIT`], with
/// the part after it as the key entry.
pub fn receipt_verify(data: &[u8]) {
    let f = fixture();
    let _ = receipt::verify_receipt(data, &f.appliance_entry);
    let env = dsse::sign(
        payload_type::RECEIPT,
        data,
        &[(f.appliance.key_id().as_str(), f.appliance.signing_key())],
    );
    if let Ok(p) = receipt::verify_receipt(&env, &f.appliance_entry) {
        assert_eq!(p.appliance.key_id, f.appliance.key_id().as_str());
        assert_eq!(p.verdict == Verdict::Reject, !p.reasons.is_empty());
    }
    if let Some(i) = data.windows(KEY_SPLIT.len()).position(|w| w == KEY_SPLIT) {
        let _ = receipt::verify_receipt(&data[..i], &data[i + KEY_SPLIT.len()..]);
    }
}

/// In a `receipt_verify` input: envelope, this, key entry.
pub const KEY_SPLIT: &[u8] = b"\n--key--\n";

/// A target's entry point.
pub type Target = fn(&[u8]);

/// Every target by name, in the order `docs/FUZZING.md` lists them.
pub const TARGETS: &[(&str, Target)] = &[
    ("json_strict", json_strict),
    ("dsse_envelope", dsse_envelope),
    ("trust_root", trust_root),
    ("revocations", revocations),
    ("statement_provenance", statement_provenance),
    ("release_evidence", release_evidence),
    ("signing_ops", signing_ops),
    ("checksums", checksums),
    ("pae", pae),
    ("ed25519_key_and_sig", ed25519_key_and_sig),
    ("bundle_scan", bundle_scan),
    ("bundle_scan_gz", bundle_scan_gz),
    ("policy_assess", policy_assess),
    ("evidence_log", evidence_log),
    ("receipt_verify", receipt_verify),
];
