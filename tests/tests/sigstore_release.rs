//! Issue 14, Sigstore bundles as keyless signers (formats §9), end to end on real bytes: a private
//! Sigstore instance (`tests/interop/sigstore_instance.py`: Fulcio-like CA, CT log, Rekor log with
//! SET, RFC 6962 inclusion proof and signed checkpoint, all from Python `cryptography`) signs the
//! release's `checksums.txt`; the trust root pins the workflow identity and carries that
//! instance's `trusted_root.json`; whole runs of `airlock_verifier::run::verify_media` decide.

mod support;

use airlock_formats::keys::{KeyEntry, SigstoreIdentity};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use support::*;

const ISSUER: &str = "https://token.actions.githubusercontent.com";
const SUBJECT: &str =
    "https://github.com/cavra/cavra/.github/workflows/release.yml@refs/tags/v1.0.0";
const PIN: &str = "https://github.com/cavra/cavra/.github/workflows/release.yml@refs/tags/v*";
const SOURCE_OID: &str = "1.3.6.1.4.1.57264.1.12";
const GHA: &str = "gha-cavra-release";
const SIGSTORE_FILE: &str = "checksums.txt.sigstore.json";
const VERSION: &str = "v1.0.0";

fn python_ready() -> bool {
    let ok = Command::new("python3")
        .args(["-c", "import cryptography, jsonschema, referencing"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        assert!(
            std::env::var_os("CI").is_none(),
            "python3 with cryptography and jsonschema is required (CI is set: failing, not skipping)"
        );
        eprintln!("SKIP: python3 with cryptography and jsonschema is not available");
    }
    ok
}

/// The release's files before any Sigstore bundle: metadata (signed by `signers` with Ed25519)
/// and artifacts.
struct Release {
    meta: BTreeMap<String, Vec<u8>>,
    artifacts: Vec<pack::Artifact>,
}

fn release(keys: &Keys, dir: &Path) -> Release {
    release_with(keys, dir, true, pack::SigstoreFiles::default())
}

/// [`release`] with or without the Ed25519 provenance key, and Sigstore files for `pack`.
fn release_with(
    keys: &Keys,
    dir: &Path,
    provenance_key: bool,
    sigstore: pack::SigstoreFiles,
) -> Release {
    release_edit(keys, dir, provenance_key, sigstore, |_| {})
}

/// [`release_with`], the pack options edited by `edit`.
fn release_edit(
    keys: &Keys,
    dir: &Path,
    provenance_key: bool,
    sigstore: pack::SigstoreFiles,
    edit: impl FnOnce(&mut PackOptions),
) -> Release {
    let dist = dir.join("dist");
    std::fs::create_dir_all(dist.join("bin")).unwrap();
    std::fs::write(
        dist.join("bin/cavra-linux-amd64"),
        "\x7fELF cavra sigstore\n".repeat(50),
    )
    .unwrap();
    std::fs::write(dist.join("README.md"), "# cavra\n").unwrap();
    let mut opts = PackOptions {
        dist: dist.clone(),
        out: dir.join("unused"),
        package: PACKAGE.into(),
        version: VERSION.into(),
        commit: "0123456789abcdef0123456789abcdef01234567".into(),
        ref_: format!("refs/tags/{VERSION}"),
        event: "release".into(),
        key_id: keys.release.key_id().to_string(),
        signing_required: true,
        release_keys: vec![copy(&keys.release)],
        minisign_key: None,
        provenance_keys: if provenance_key {
            vec![copy(&keys.ci)]
        } else {
            vec![]
        },
        builder_id: BUILDER.into(),
        source_repo: REPO.into(),
        workflow_path: pack::DEFAULT_WORKFLOW_PATH.into(),
        trust_roots: vec![],
        revocations: None,
        custody: pack::custody("op://release/cavra-go-runtime/signing-key"),
        created_at: Timestamp::parse("2026-04-01T00:00:00Z").unwrap(),
        anchor: None,
        sigstore,
    };
    edit(&mut opts);
    let artifacts = pack::collect_artifacts(&dist).unwrap();
    let meta = pack::metadata(&opts, &artifacts).unwrap();
    Release { meta, artifacts }
}

/// Writes the release with `sigstore` as `checksums.txt.sigstore.json` (if any) into `out`.
fn write(r: &Release, sigstore: Option<&[u8]>, out: &Path) {
    let mut entries: Vec<Entry> = r
        .meta
        .iter()
        .map(|(name, b)| Entry {
            name: name.clone(),
            source: Source::Bytes(b.clone()),
        })
        .collect();
    if let Some(b) = sigstore {
        entries.push(Entry {
            name: SIGSTORE_FILE.into(),
            source: Source::Bytes(b.to_vec()),
        });
    }
    entries.extend(r.artifacts.iter().map(|a| Entry {
        name: a.name.clone(),
        source: Source::File(a.path.clone()),
    }));
    archive::write(out, entries, 1_775_001_600, Compression::None).unwrap();
}

/// Runs the private instance over `checksums.txt`: `dir/{trusted_root.json, <variant>.sigstore.json,
/// leaf.der}`.
fn sigstore_instance(r: &Release, dir: &Path, subject: &str) -> PathBuf {
    instance_over(&r.meta["checksums.txt"], dir, subject, None)
}

/// Runs the private instance over `signed` (a DSSE payload of `dsse` type, or a blob).
fn instance_over(signed: &[u8], dir: &Path, subject: &str, dsse: Option<&str>) -> PathBuf {
    let out = dir.join("sigstore");
    let file = dir.join("signed");
    std::fs::write(&file, signed).unwrap();
    let mut c = Command::new("python3");
    c.arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("interop/sigstore_instance.py"))
        .arg(&out)
        .arg(&file)
        .args(["--subject", subject, "--issuer", ISSUER])
        .args(["--ext", &format!("{SOURCE_OID}={REPO}")]);
    if let Some(t) = dsse {
        c.args(["--dsse", t]);
    }
    let o = c.output().unwrap();
    assert!(
        o.status.success(),
        "sigstore_instance.py: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    out
}

fn sigstore_key(id: &str, subject: &str, source: &str) -> KeyEntry {
    KeyEntry {
        key_id: KeyId::new(id).unwrap(),
        algorithm: "sigstore".into(),
        public_key: String::new(),
        identity: Some(SigstoreIdentity {
            issuer: ISSUER.into(),
            subject: subject.into(),
            extensions: [(SOURCE_OID.to_string(), source.to_string())].into(),
        }),
        not_before: None,
        not_after: None,
    }
}

/// A kit whose root lists `sigstore_keys`, carries the instance's trusted root, and whose release
/// role is the Ed25519 release key plus `release` ids, with `threshold`.
fn kit(
    keys: Keys,
    instance: &Path,
    sigstore_keys: Vec<KeyEntry>,
    release: &[&str],
    threshold: u64,
) -> Kit {
    let mut p = root::payload(1, &keys.content());
    p.keys.extend(sigstore_keys);
    let mut ids = vec![keys.release.key_id().clone()];
    ids.extend(release.iter().map(|s| KeyId::new(s).unwrap()));
    let ids: Vec<&KeyId> = ids.iter().collect();
    p.roles
        .insert("release".into(), root::role(&ids, threshold));
    let tr = std::fs::read(instance.join("trusted_root.json")).unwrap();
    p.sigstore = Some(serde_json::from_slice(&tr).unwrap());
    let anchor = sign_root_raw(&p, &[&keys.root_a, &keys.root_b]);
    Kit::from_anchor(keys, anchor)
}

/// Puts the release with `variant`'s bundle into the kit's inbox as `name`.
fn put(kit: &Kit, r: &Release, instance: &Path, variant: Option<&str>, name: &str) -> String {
    let bytes =
        variant.map(|v| std::fs::read(instance.join(format!("{v}.sigstore.json"))).unwrap());
    let out = kit.work.join(name);
    write(r, bytes.as_deref(), &out);
    kit.put_bundle(name, &out)
}

struct Setup {
    tmp: tempfile::TempDir,
    keys: Keys,
    release: Release,
    instance: PathBuf,
}

fn setup() -> Option<Setup> {
    if !python_ready() {
        return None;
    }
    let tmp = tempfile::tempdir().unwrap();
    let keys = Keys::new();
    let release = release(&keys, tmp.path());
    let instance = sigstore_instance(&release, tmp.path(), SUBJECT);
    Some(Setup {
        tmp,
        keys,
        release,
        instance,
    })
}

/// Threshold 2 met by the Ed25519 DSSE signature and the Sigstore bundle: promoted; the receipt
/// names the Sigstore signer with the leaf's fingerprint, identity and log entry. Without the
/// bundle the same release falls short.
#[test]
fn ed25519_and_sigstore_meet_a_threshold_of_two() {
    let Some(s) = setup() else { return };
    let kit = kit(
        s.keys,
        &s.instance,
        vec![sigstore_key(GHA, PIN, REPO)],
        &[GHA],
        2,
    );
    let with = put(&kit, &s.release, &s.instance, Some("good"), "with.tar");
    let without = put(&kit, &s.release, &s.instance, None, "without.tar");
    let rep = kit.run_bundles(&[&with]);
    let r = result(&rep, &with);
    assert_promoted(r);
    let receipt = receipt(&kit, r.receipt.as_deref().unwrap());
    let gha = receipt
        .signers
        .iter()
        .find(|s| s.key_id == GHA)
        .unwrap_or_else(|| panic!("no Sigstore signer in {:#?}", receipt.signers));
    assert_eq!(gha.role, "release");
    let leaf = std::fs::read(s.instance.join("leaf.der")).unwrap();
    assert_eq!(
        gha.fingerprint,
        format!(
            "sha256:{}",
            airlock_formats::keys::hex(&airlock_core::digest::sha256(&leaf))
        )
    );
    let claims = gha.sigstore.as_ref().unwrap();
    assert_eq!(claims.issuer, ISSUER);
    assert_eq!(claims.subject, SUBJECT);
    assert_eq!(claims.log_index, 5);
    assert!(claims.integrated_time.is_some());
    let rep = kit.run_bundles(&[&without]);
    assert_rejected_with(result(&rep, &without), &["signature-threshold-not-met"]);
    drop(s.tmp);
}

/// Each §9.3 step broken in turn rejects with `sigstore-invalid` naming the step, although the
/// Ed25519 signature alone meets the threshold of 1.
#[test]
fn each_broken_step_rejects_naming_it() {
    let Some(s) = setup() else { return };
    let kit = kit(
        s.keys,
        &s.instance,
        vec![sigstore_key(GHA, PIN, REPO)],
        &[GHA],
        1,
    );
    let good = put(&kit, &s.release, &s.instance, Some("good"), "good.tar");
    let mut cases = vec![];
    for (variant, step) in [
        ("chain", "step 1 (certificate chain)"),
        ("expired", "step 1 (certificate chain)"),
        ("time", "step 2 (signing time)"),
        ("log", "step 3 (transparency log entry)"),
        ("swapped", "step 3 (transparency log entry)"),
        ("sct", "step 4 (signed certificate timestamp)"),
        ("signature", "step 5 (signature)"),
    ] {
        let name = put(
            &kit,
            &s.release,
            &s.instance,
            Some(variant),
            &format!("{variant}.tar"),
        );
        cases.push((name, step));
    }
    let mut names: Vec<&str> = cases.iter().map(|(n, _)| n.as_str()).collect();
    names.push(&good);
    let rep = kit.run_bundles(&names);
    assert_promoted(result(&rep, &good));
    for (name, step) in &cases {
        let r = result(&rep, name);
        assert_rejected_with(r, &["sigstore-invalid"]);
        assert!(
            r.reasons
                .iter()
                .any(|x| x.code.as_str() == "sigstore-invalid" && x.message.contains(step)),
            "{name}: expected {step} in {:#?}",
            r.reasons
        );
    }
    drop(s.tmp);
}

/// An identity matching no key does not count: not another repository's workflow, not another
/// source-repository extension; the shortfall names the unknown identity.
#[test]
fn an_identity_matching_no_key_does_not_count() {
    let Some(s) = setup() else { return };
    for (i, key) in [
        sigstore_key(GHA, "https://github.com/other/cavra/*", REPO),
        sigstore_key(GHA, PIN, "https://github.com/other/cavra"),
        sigstore_key(
            GHA,
            "https://github.com/cavra/cavra/.github/workflows/release.yml@refs/heads/*",
            REPO,
        ),
    ]
    .into_iter()
    .enumerate()
    {
        let keys = Keys {
            root_a: copy(&s.keys.root_a),
            root_b: copy(&s.keys.root_b),
            release: copy(&s.keys.release),
            ci: copy(&s.keys.ci),
        };
        let kit = kit(keys, &s.instance, vec![key], &[GHA], 2);
        let name = put(
            &kit,
            &s.release,
            &s.instance,
            Some("good"),
            &format!("{i}.tar"),
        );
        let rep = kit.run_bundles(&[&name]);
        let r = result(&rep, &name);
        assert_rejected_with(r, &["signature-threshold-not-met", "signer-unknown"]);
        assert!(!codes(r).contains(&"sigstore-invalid"), "{:#?}", r.reasons);
    }
    drop(s.tmp);
}

/// A revocation list revoking the Sigstore key id: the identity stops counting (`key-revoked`).
#[test]
fn a_revoked_identity_is_key_revoked() {
    let Some(s) = setup() else { return };
    let kit = kit(
        s.keys,
        &s.instance,
        vec![sigstore_key(GHA, PIN, REPO)],
        &[GHA],
        2,
    );
    let gha = KeyId::new(GHA).unwrap();
    let list = kit.revocations(1, |p| {
        revs::add_key(
            p,
            key_revocation(&gha, &["v0.9.0"], kit.keys.release.key_id()),
        )
        .unwrap();
    });
    kit.put_media("revocations.json", &list);
    let name = put(&kit, &s.release, &s.instance, Some("good"), "revoked.tar");
    let rep = kit.run_bundles(&[&name]);
    assert_rejected_with(
        result(&rep, &name),
        &["key-revoked", "signature-threshold-not-met"],
    );
    drop(s.tmp);
}

/// One bundle counts for one key entry: two entries pinning the same workflow differently, threshold
/// 3 with the Ed25519 key, are not met by one bundle.
#[test]
fn one_bundle_counts_for_one_key_entry() {
    let Some(s) = setup() else { return };
    let kit = kit(
        s.keys,
        &s.instance,
        vec![
            sigstore_key(GHA, PIN, REPO),
            sigstore_key("gha-cavra-any", "https://github.com/cavra/cavra/*", "*"),
        ],
        &[GHA, "gha-cavra-any"],
        3,
    );
    let name = put(&kit, &s.release, &s.instance, Some("good"), "twice.tar");
    let rep = kit.run_bundles(&[&name]);
    let r = result(&rep, &name);
    assert_rejected_with(r, &["signature-threshold-not-met"]);
    assert!(
        r.reasons.iter().any(|x| x.message.contains("2 of the 3")),
        "{:#?}",
        r.reasons
    );
    drop(s.tmp);
}

/// §9.1: the root carries the Sigstore trust material. A root listing a `sigstore` key without
/// it, or with a `sigstore` key in the root role, is refused; the same identity pinned twice is
/// one distinct signer (a threshold of 2 over the two entries is impossible).
#[test]
fn a_root_must_carry_the_sigstore_trusted_root() {
    let Some(s) = setup() else { return };
    let parse = |edit: &dyn Fn(&mut TrustRootPayload)| {
        let mut p = root::payload(1, &s.keys.content());
        p.keys.push(sigstore_key(GHA, PIN, REPO));
        let tr = std::fs::read(s.instance.join("trusted_root.json")).unwrap();
        p.sigstore = Some(serde_json::from_slice(&tr).unwrap());
        edit(&mut p);
        let env = sign_root_raw(&p, &[&s.keys.root_a, &s.keys.root_b]);
        airlock_formats::document::trust_root::TrustRoot::parse(&env)
            .map(drop)
            .map_err(|e| e.to_string())
    };
    assert!(parse(&|_| {}).is_ok());
    let e = parse(&|p| p.sigstore = None).unwrap_err();
    assert!(e.contains("sigstore"), "{e}");
    let e = parse(&|p| {
        p.roles
            .get_mut("root")
            .unwrap()
            .key_ids
            .push(KeyId::new(GHA).unwrap());
    })
    .unwrap_err();
    assert!(e.contains("sigstore key"), "{e}");
    let e = parse(&|p| {
        p.keys.push(sigstore_key("gha-again", PIN, REPO));
        p.roles.insert(
            "release".into(),
            root::role(
                &[&KeyId::new(GHA).unwrap(), &KeyId::new("gha-again").unwrap()],
                2,
            ),
        );
    })
    .unwrap_err();
    assert!(e.contains("threshold"), "{e}");
    // A trusted root that does not load is refused by verification (parsing keeps the JSON).
    let mut p = root::payload(1, &s.keys.content());
    p.keys.push(sigstore_key(GHA, PIN, REPO));
    p.sigstore = Some(serde_json::json!({"mediaType": "nope"}));
    let env = sign_root_raw(&p, &[&s.keys.root_a, &s.keys.root_b]);
    let reasons =
        airlock_verifier::trust::root::establish(&airlock_verifier::trust::root::RootInputs {
            anchor: &env,
            candidates: &[],
            highest_accepted: 0,
            now: airlock_formats::timestamp::Timestamp::now(),
        })
        .unwrap_err();
    assert!(
        reasons.iter().any(
            |r| r.code == airlock_formats::reason::Code::TrustRootInvalid
                && r.message.contains("sigstore: trusted root")
        ),
        "{reasons:?}"
    );
    drop(s.tmp);
}

/// `cavra-runtime.provenance.sigstore.json` (what `attest-build-provenance` writes) alone meets
/// the `provenance` threshold, every §5.4 rule applied to its statement; the receipt lists the
/// identity under `provenance`. A DSSE signature over other bytes is `sigstore-invalid`.
#[test]
fn sigstore_provenance_meets_the_provenance_threshold() {
    if !python_ready() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let keys = Keys::new();
    // The statement the build produces (pack's, deterministic), signed by the instance.
    let first = release(&keys, &tmp.path().join("first"));
    let statement = dsse::Envelope::parse(&first.meta[pack::files::PROVENANCE])
        .unwrap()
        .payload;
    let dir = tmp.path().join("prov");
    std::fs::create_dir_all(&dir).unwrap();
    let instance = instance_over(&statement, &dir, SUBJECT, Some(payload_type::IN_TOTO));
    let pack_with = |variant: &str, sub: &str| {
        let bundle = std::fs::read(instance.join(format!("{variant}.sigstore.json"))).unwrap();
        let r = release_with(
            &keys,
            &tmp.path().join(sub),
            false,
            pack::SigstoreFiles {
                release: None,
                provenance: Some(bundle),
            },
        );
        assert!(!r.meta.contains_key(pack::files::PROVENANCE));
        assert!(String::from_utf8_lossy(&r.meta["checksums.txt"])
            .contains(pack::files::PROVENANCE_SIGSTORE));
        r
    };
    let good = pack_with("good", "good");
    let bad = pack_with("signature", "bad");
    let mut p = root::payload(1, &keys.content());
    p.keys.push(sigstore_key(GHA, PIN, REPO));
    p.roles.insert(
        "provenance".into(),
        root::role(&[&KeyId::new(GHA).unwrap()], 1),
    );
    let tr = std::fs::read(instance.join("trusted_root.json")).unwrap();
    p.sigstore = Some(serde_json::from_slice(&tr).unwrap());
    let anchor = sign_root_raw(&p, &[&keys.root_a, &keys.root_b]);
    let kit = Kit::from_anchor(keys, anchor);
    let good_name = {
        let out = kit.work.join("good.tar");
        write(&good, None, &out);
        kit.put_bundle("good.tar", &out)
    };
    let bad_name = {
        let out = kit.work.join("bad.tar");
        write(&bad, None, &out);
        kit.put_bundle("bad.tar", &out)
    };
    let rep = kit.run_bundles(&[&good_name, &bad_name]);
    let r = result(&rep, &good_name);
    assert_promoted(r);
    let receipt = receipt(&kit, r.receipt.as_deref().unwrap());
    let gha = receipt
        .signers
        .iter()
        .find(|s| s.key_id == GHA && s.role == "provenance")
        .unwrap_or_else(|| panic!("no Sigstore provenance signer in {:#?}", receipt.signers));
    assert_eq!(gha.sigstore.as_ref().unwrap().subject, SUBJECT);
    let r = result(&rep, &bad_name);
    assert_rejected_with(r, &["sigstore-invalid", "provenance-invalid"]);
}

/// The `airlock-bundle` binary of this build, rebuilt once like [`airlock_bin`].
fn bundle_bin() -> PathBuf {
    let bin = airlock_bin().with_file_name("airlock-bundle");
    if let Some(cargo) = std::env::var_os("CARGO") {
        let target_dir = bin.parent().and_then(Path::parent).unwrap();
        let mut c = Command::new(cargo);
        c.args(["build", "--quiet", "-p", "airlock-bundle"])
            .arg("--target-dir")
            .arg(target_dir)
            .current_dir(env!("CARGO_MANIFEST_DIR"));
        if bin.parent().and_then(Path::file_name) == Some("release".as_ref()) {
            c.arg("--release");
        }
        assert!(
            c.status().unwrap().success(),
            "cargo build -p airlock-bundle"
        );
    }
    bin
}

/// The operator's path (docs/operators/sigstore.md) through the real binaries: `root create`
/// pins the workflow identity and carries the instance's trusted_root.json; `pack
/// --write-checksums` gives the checksums.txt to sign; the instance signs it; `pack
/// --sigstore-bundle` packs (its self-check counts the identity); `airlock verify`, under
/// `strace -f`, opens no socket, promotes, and the receipt names the identity and the log entry.
#[test]
fn airlock_bundle_pins_packs_and_the_appliance_promotes() {
    if !python_ready() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let run = |prog: &Path, args: &[&str]| {
        let o = Command::new(prog)
            .args(args)
            .current_dir(d)
            .env("SOURCE_DATE_EPOCH", "1775001600")
            .env_remove("CAVRA_GO_RELEASE_SIGNING_KEY")
            .env_remove("AIRLOCK_STATE")
            .output()
            .unwrap();
        assert!(
            o.status.success(),
            "{} {args:?}: {}{}",
            prog.display(),
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        );
        String::from_utf8_lossy(&o.stdout).into_owned()
    };
    let (b, a) = (bundle_bin(), airlock_bin());
    for k in ["root-a", "rel", "ci"] {
        run(&b, &["keygen", "--key-id", k, "--out-dir", "keys"]);
    }
    std::fs::create_dir_all(d.join("dist/bin")).unwrap();
    std::fs::write(d.join("dist/bin/cavra"), "cavra\n").unwrap();
    let instance = |artifact: &str| {
        let o = Command::new("python3")
            .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("interop/sigstore_instance.py"))
            .args(["inst", artifact, "--subject", SUBJECT, "--issuer", ISSUER])
            .args(["--ext", &format!("{SOURCE_OID}={REPO}")])
            .current_dir(d)
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    };
    instance("/dev/null");
    let pin = format!("{GHA} {ISSUER} {PIN} {SOURCE_OID}={REPO}");
    let builder = format!("{BUILDER} {REPO} refs/tags/v*");
    let release_role = format!("release=rel,{GHA}:2");
    run(
        &b,
        &[
            "root",
            "create",
            "--out",
            "root1.json",
            "--key",
            "keys/root-a.pub.json",
            "--key",
            "keys/rel.pub.json",
            "--key",
            "keys/ci.pub.json",
            "--sigstore-key",
            &pin,
            "--sigstore-trusted-root",
            "inst/trusted_root.json",
            "--role",
            "root=root-a",
            "--role",
            &release_role,
            "--role",
            "provenance=ci",
            "--role",
            "revocation=root-a",
            "--builder",
            &builder,
            "--sign",
            "keys/root-a.key",
        ],
    );
    // The root with a sigstore key and trusted root matches trust-roots/schemas.
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    let o = Command::new("python3")
        .arg(repo.join("tests/interop/validate_schemas.py"))
        .arg(repo.join("trust-roots/schemas"))
        .arg(d.join("root1.json"))
        .arg(repo.join("trust-roots/examples/revocations.json"))
        .output()
        .unwrap();
    assert!(
        o.status.success(),
        "schemas: {}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    let pack = |extra: &[&str]| {
        let mut args = vec![
            "pack",
            "--dist",
            "dist",
            "--version",
            VERSION,
            "--commit",
            "0123456789abcdef0123456789abcdef01234567",
            "--ref",
            "refs/tags/v1.0.0",
            "--key-id",
            "rel",
            "--signing-required",
            "--release-key",
            "keys/rel.key",
            "--provenance-key",
            "keys/ci.key",
            "--builder-id",
            BUILDER,
            "--source-repo",
            REPO,
            "--trust-root",
            "root1.json",
        ];
        args.extend_from_slice(extra);
        run(&b, &args)
    };
    pack(&["--write-checksums", "sums.txt"]);
    instance("sums.txt");
    let out = pack(&[
        "--sigstore-bundle",
        "inst/good.sigstore.json",
        "--out",
        "r.tar.gz",
    ]);
    assert!(out.contains(&format!("{GHA} [release]")), "{out}");
    run(
        &b,
        &[
            "media",
            "prepare",
            "--media",
            "stick",
            "--anchor",
            "root1.json",
            "--bundle",
            "r.tar.gz",
        ],
    );
    // The appliance's verification opens no socket (strace -f, every network system call).
    let strace_ok = Command::new("strace")
        .arg("-V")
        .output()
        .is_ok_and(|o| o.status.success());
    assert!(strace_ok, "strace is needed (apt-get install strace)");
    let out = run(
        Path::new("strace"),
        &[
            "-f",
            "-qq",
            "-e",
            "trace=%network",
            "-o",
            "net.trace",
            a.to_str().unwrap(),
            "verify",
            "--state",
            "st",
            "--anchor",
            "root1.json",
            "stick",
        ],
    );
    let trace = std::fs::read_to_string(d.join("net.trace")).unwrap();
    assert!(trace.trim().is_empty(), "network system calls: {trace}");
    assert!(out.contains("1 promoted"), "{out}");
    let rel = out
        .lines()
        .find_map(|l| l.trim().strip_prefix("receipt: "))
        .unwrap()
        .to_owned();
    let env = std::fs::read(d.join("stick").join(rel)).unwrap();
    let key = std::fs::read(d.join("st/appliance-key.json")).unwrap();
    let receipt = airlock_verifier::receipt::verify_receipt(&env, &key).unwrap();
    let gha = receipt.signers.iter().find(|s| s.key_id == GHA).unwrap();
    assert_eq!(gha.sigstore.as_ref().unwrap().subject, SUBJECT);
}

/// Seed 000 (§9.2): the signing-operations `active_key_id` and the evidence `key_id` must name an
/// Ed25519 or minisign key that signed. A release whose manifest names the Sigstore identity is
/// rejected although the identity counted toward the threshold.
#[test]
fn the_active_key_cannot_be_a_sigstore_identity() {
    if !python_ready() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let keys = Keys::new();
    let r = release_edit(&keys, tmp.path(), true, Default::default(), |o| {
        o.key_id = GHA.into();
    });
    let instance = sigstore_instance(&r, tmp.path(), SUBJECT);
    let kit = kit(
        keys,
        &instance,
        vec![sigstore_key(GHA, PIN, REPO)],
        &[GHA],
        1,
    );
    let name = put(&kit, &r, &instance, Some("good"), "active.tar");
    let rep = kit.run_bundles(&[&name]);
    let res = result(&rep, &name);
    assert_rejected_with(res, &["signing-operations-mismatch", "evidence-mismatch"]);
    assert!(
        res.reasons
            .iter()
            .any(|x| x.message.contains("is a Sigstore identity")),
        "{:#?}",
        res.reasons
    );
}
