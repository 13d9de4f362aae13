//! Packing: what `author::pack` writes is what `policy::assess` promotes; refusals; determinism;
//! rotation chains and revocation lists carried in the bundle.

#[path = "author_support.rs"]
mod support;

use airlock_author::pack::{self, PackOptions};
use airlock_author::revocations::{self as revs, KeyRevocation};
use airlock_author::root::{self, RootChanges, RootContent};
use airlock_author::PrivateKey;
use airlock_formats::document::trust_root::Builder;
use airlock_formats::keys::KeyId;
use airlock_formats::reason::Code;
use airlock_formats::timestamp::Timestamp;
use std::collections::BTreeMap;
use std::path::Path;
use support::*;

const BUILDER: &str = "https://github.com/actions/runner/github-hosted";
const REPO: &str = "https://github.com/cavra/cavra";

struct Fixture {
    root_a: PrivateKey,
    root_b: PrivateKey,
    release: PrivateKey,
    ci: PrivateKey,
    anchor: Vec<u8>,
}

fn copy(k: &PrivateKey) -> PrivateKey {
    PrivateKey::from_seed(k.key_id().as_str(), &k.signing_key().to_bytes()).unwrap()
}

fn content(keys: &[&PrivateKey], root_ids: &[&KeyId], release: &KeyId, ci: &KeyId) -> RootContent {
    let now = Timestamp::now();
    let mut roles = BTreeMap::new();
    roles.insert("root".into(), root::role(root_ids, root_ids.len() as u64));
    roles.insert("release".into(), root::role(&[release], 1));
    roles.insert("provenance".into(), root::role(&[ci], 1));
    roles.insert("revocation".into(), root::role(&[root_ids[0]], 1));
    RootContent {
        issued_at: now.plus_seconds(-86_400),
        expires: now.plus_seconds(365 * 86_400),
        keys: keys.iter().map(|k| k.public_entry(None, None)).collect(),
        roles,
        builders: vec![Builder {
            id: BUILDER.into(),
            source_repository: REPO.into(),
            ref_pattern: "refs/tags/v*".into(),
        }],
        sigstore: None,
    }
}

fn fixture() -> Fixture {
    let root_a = PrivateKey::generate("root-a").unwrap();
    let root_b = PrivateKey::generate("root-b").unwrap();
    let release = PrivateKey::generate("cavra-go-release-2026-q2").unwrap();
    let ci = PrivateKey::generate("ci-builder-2026-q2").unwrap();
    let c = content(
        &[&root_a, &root_b, &release, &ci],
        &[root_a.key_id(), root_b.key_id()],
        release.key_id(),
        ci.key_id(),
    );
    let (anchor, st) = root::create(1, &c, &[&root_a, &root_b]).unwrap();
    assert!(st.complete());
    Fixture {
        root_a,
        root_b,
        release,
        ci,
        anchor,
    }
}

fn dist(dir: &Path) -> std::path::PathBuf {
    let d = dir.join("dist");
    std::fs::create_dir_all(d.join("bin/sub")).unwrap();
    std::fs::write(d.join("bin/cavra-linux-amd64"), vec![7u8; 100_000]).unwrap();
    std::fs::write(d.join("bin/sub/plugin.so"), b"plugin").unwrap();
    std::fs::write(d.join("README.md"), b"readme\n").unwrap();
    std::fs::write(d.join(format!("{}.txt", "n".repeat(120))), b"long name\n").unwrap();
    d
}

fn options(f: &Fixture, dist: &Path, out: &Path, version: &str) -> PackOptions {
    PackOptions {
        dist: dist.into(),
        out: out.into(),
        package: "cavra-go-runtime".into(),
        version: version.into(),
        commit: "0123456789abcdef0123456789abcdef01234567".into(),
        ref_: format!("refs/tags/{version}"),
        event: "release".into(),
        key_id: f.release.key_id().to_string(),
        signing_required: true,
        release_keys: vec![copy(&f.release)],
        minisign_key: None,
        provenance_keys: vec![copy(&f.ci)],
        builder_id: BUILDER.into(),
        source_repo: REPO.into(),
        workflow_path: pack::DEFAULT_WORKFLOW_PATH.into(),
        trust_roots: vec![f.anchor.clone()],
        revocations: None,
        custody: pack::custody("op://release/cavra-go-runtime/signing-key"),
        created_at: Timestamp::parse("2026-04-01T00:00:00Z").unwrap(),
        anchor: None,
        sigstore: Default::default(),
    }
}

#[test]
fn packed_bundle_promotes_and_is_deterministic() {
    let f = fixture();
    let dir = tempfile::tempdir().unwrap();
    let d = dist(dir.path());
    let out1 = dir.path().join("a.tar.gz");
    let r = pack::pack(&options(&f, &d, &out1, "v0.1.0")).unwrap();
    assert!(r.self_check.is_some());
    let a = judge(&out1, &f.anchor, None);
    assert_promotes(&a);
    assert_eq!(a.artifacts().len(), 4);
    let out2 = dir.path().join("b.tar.gz");
    pack::pack(&options(&f, &d, &out2, "v0.1.0")).unwrap();
    assert_eq!(std::fs::read(&out1).unwrap(), std::fs::read(&out2).unwrap());
    // Plain tar too.
    let out3 = dir.path().join("c.tar");
    pack::pack(&options(&f, &d, &out3, "v0.1.0")).unwrap();
    assert_promotes(&judge(&out3, &f.anchor, None));
    // checksums.txt is sorted sha256sum text that lists the metadata but not itself.
    let sums = String::from_utf8(r.metadata["checksums.txt"].clone()).unwrap();
    let names: Vec<&str> = sums.lines().map(|l| &l[66..]).collect();
    let mut sorted = names.clone();
    sorted.sort();
    assert_eq!(names, sorted);
    assert!(names.contains(&"release-evidence.json"));
    assert!(!names.iter().any(|n| n.starts_with("checksums.txt")));
}

#[test]
fn pack_refuses_what_the_appliance_would_reject() {
    let f = fixture();
    let dir = tempfile::tempdir().unwrap();
    let d = dist(dir.path());
    let out = dir.path().join("x.tar.gz");
    // The active key id is not a release key.
    let mut o = options(&f, &d, &out, "v0.1.0");
    o.key_id = "someone-else".into();
    assert!(pack::pack(&o).unwrap_err().contains("active key"));
    // A builder the trust root does not pin: the self-check refuses, nothing is written.
    let mut o = options(&f, &d, &out, "v0.1.0");
    o.builder_id = "https://evil.example/runner".into();
    let e = pack::pack(&o).unwrap_err();
    assert!(e.contains("builder-not-trusted"), "{e}");
    assert!(!out.exists());
    // A ref outside the pattern.
    let mut o = options(&f, &d, &out, "v0.1.0");
    o.ref_ = "refs/heads/main".into();
    assert!(pack::pack(&o).is_err());
    // Release key signing as the wrong id (not in the release role).
    let mut o = options(&f, &d, &out, "v0.1.0");
    o.release_keys = vec![PrivateKey::from_seed(f.release.key_id().as_str(), &[9; 32]).unwrap()];
    assert!(pack::pack(&o).is_err());
    // Output inside the dist directory; bad version; no provenance key.
    assert!(pack::pack(&options(&f, &d, &d.join("x.tar.gz"), "v0.1.0")).is_err());
    assert!(pack::pack(&options(&f, &d, &out, "0.1.0")).is_err());
    let mut o = options(&f, &d, &out, "v0.1.0");
    o.provenance_keys.clear();
    assert!(pack::pack(&o).is_err());
    assert!(pack::pack(&options(&f, &d, &dir.path().join("x.zip"), "v0.1.0")).is_err());
}

#[test]
fn dist_with_metadata_names_keys_or_collisions_is_refused() {
    let f = fixture();
    for (name, body) in [
        ("checksums.txt", &b"x"[..]),
        ("release-evidence.json", b"{}"),
        ("signing.key", b"x"),
        ("notes.bin", b"-----BEGIN PRIVATE KEY-----\nMC4CAQ...\n"),
        ("README.MD", b"collides with README.md"),
    ] {
        refused(&f, name, body);
    }
    // Key material under innocent names: Airlock's own key file and a bare base64 seed.
    let key = PrivateKey::generate("release-x").unwrap();
    refused(&f, "notes.txt", &key.to_file_json());
    refused(
        &f,
        "seed.txt",
        b"AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE=\n",
    );
    #[cfg(unix)]
    {
        let dir = tempfile::tempdir().unwrap();
        let d = dist(dir.path());
        std::os::unix::fs::symlink("/etc/passwd", d.join("link")).unwrap();
        assert!(pack::pack(&options(&f, &d, &dir.path().join("x.tar.gz"), "v0.1.0")).is_err());
    }
}

fn refused(f: &Fixture, name: &str, body: &[u8]) {
    {
        let dir = tempfile::tempdir().unwrap();
        let d = dist(dir.path());
        std::fs::write(d.join(name), body).unwrap();
        let e = pack::pack(&options(f, &d, &dir.path().join("x.tar.gz"), "v0.1.0"));
        assert!(e.is_err(), "{name} was packed");
    }
}

#[test]
fn rotated_root_chain_in_the_bundle_promotes_from_the_old_anchor() {
    let f = fixture();
    let new_release = PrivateKey::generate("cavra-go-release-2026-q3").unwrap();
    let mut changes = RootChanges {
        add_keys: vec![new_release.public_entry(None, None)],
        ..Default::default()
    };
    changes
        .roles
        .insert("release".into(), root::role(&[new_release.key_id()], 1));
    let now = Timestamp::now();
    let (v2, st) = root::rotate(
        &f.anchor,
        &changes,
        now.plus_seconds(-60),
        now.plus_seconds(86_400 * 90),
        &[&f.root_a, &f.root_b],
    )
    .unwrap();
    assert!(st.complete(), "{}", root::describe(&st));
    let dir = tempfile::tempdir().unwrap();
    let d = dist(dir.path());
    let out = dir.path().join("b.tar.gz");
    let mut o = options(&f, &d, &out, "v0.2.0");
    o.key_id = new_release.key_id().to_string();
    o.release_keys = vec![copy(&new_release)];
    o.trust_roots = vec![f.anchor.clone(), v2.clone()];
    let r = pack::pack(&o).unwrap();
    assert!(r.metadata.contains_key("trust-root/1.json"));
    assert_eq!(r.metadata["offline-trust-root-bootstrap.json"], v2);
    let a = judge(&out, &f.anchor, None);
    assert_promotes(&a);
    assert_eq!(a.trust_root().version, Some(2));
    // The old release key no longer counts under version 2.
    let mut o = options(&f, &d, &dir.path().join("c.tar.gz"), "v0.2.0");
    o.trust_roots = vec![f.anchor.clone(), v2];
    assert!(pack::pack(&o).is_err());
}

#[test]
fn revocation_list_carried_and_enforced() {
    let f = fixture();
    let now = Timestamp::now();
    let mut draft = revs::empty(1, now.plus_seconds(-60));
    revs::add_key(
        &mut draft,
        KeyRevocation {
            key_id: KeyId::new("cavra-go-release-2026-q1").unwrap(),
            affected_versions: vec!["v0.0.9".into()],
            revoked_at: now.plus_seconds(-3600),
            replacement_key_id: f.release.key_id().clone(),
            approver: "ops-oncall@example.org".into(),
            replacement_release_evidence_sha256: "ab".repeat(32),
            advisory: "CAVRA-SA-2026-003".into(),
            reason: Some("key-compromise".into()),
        },
    )
    .unwrap();
    // Evidence is required: an empty approver is refused.
    let mut bad = draft.clone();
    assert!(revs::add_key(
        &mut bad,
        KeyRevocation {
            key_id: KeyId::new("x").unwrap(),
            affected_versions: vec!["v1.0.0".into()],
            revoked_at: now,
            replacement_key_id: KeyId::new("y").unwrap(),
            approver: " ".into(),
            replacement_release_evidence_sha256: "ab".repeat(32),
            advisory: "A".into(),
            reason: None,
        }
    )
    .is_err());
    // Signing by a key outside the revocation role is refused when the root is given.
    assert!(revs::sign(&draft, &[&f.root_b], Some(&f.anchor)).is_err());
    let list = revs::sign(&draft, &[&f.root_a], Some(&f.anchor)).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let d = dist(dir.path());
    let out = dir.path().join("r.tar.gz");
    let mut o = options(&f, &d, &out, "v0.1.0");
    o.revocations = Some(list.clone());
    pack::pack(&o).unwrap();
    let a = judge(&out, &f.anchor, None);
    assert_promotes(&a);
    assert_eq!(a.revocations().version, Some(1));
    // A revoked version is refused at pack time.
    let mut o = options(&f, &d, &dir.path().join("s.tar.gz"), "v0.0.9");
    o.revocations = Some(list);
    let e = pack::pack(&o).unwrap_err();
    assert!(e.contains("version-revoked"), "{e}");
    // Tampering with a packed artifact after signing rejects with checksum-mismatch.
    let r = pack::pack(&options(&f, &d, &dir.path().join("t.tar.gz"), "v0.1.0")).unwrap();
    std::fs::write(d.join("README.md"), b"readmE\n").unwrap();
    airlock_author::archive::write(
        &dir.path().join("t.tar.gz"),
        r.entries(),
        0,
        airlock_author::archive::Compression::Gzip,
    )
    .unwrap();
    assert_rejects_with(
        &judge(&dir.path().join("t.tar.gz"), &f.anchor, None),
        Code::ChecksumMismatch,
    );
}
