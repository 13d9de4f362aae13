//! The lifecycle test kit (used by `lifecycle_*.rs` and `cli_*.rs` through `mod support;`):
//! real keys, real trust roots, real bundles on a real media directory, a real state directory,
//! and whole runs of `airlock_verifier::run::verify_media` (or of the `airlock` binary).
//!
//! Bundles are built here with the author's own `pack::metadata` and `archive::write`, but WITHOUT
//! `pack::pack`'s self-check: the tests need bundles the appliance must reject (expired or revoked
//! signers, rolled-back versions), which the self-check refuses to write.

#![allow(dead_code)]

pub use airlock_author::archive::{self, Compression, Entry, Source};
pub use airlock_author::pack::{self, PackOptions};
pub use airlock_author::revocations::{self as revs, KeyRevocation};
pub use airlock_author::root::{self, RootChanges, RootContent};
pub use airlock_author::PrivateKey;
pub use airlock_formats::document::dsse::{self, payload_type};
pub use airlock_formats::document::revocations::RevocationsPayload;
pub use airlock_formats::document::trust_root::{Builder, TrustRootPayload};
pub use airlock_formats::keys::KeyId;
pub use airlock_formats::timestamp::Timestamp;
pub use airlock_verifier::run::{BundleResult, RunError, RunReport, VerifyOptions, WriteMode};
pub use airlock_verifier::state::{Mode, StateData, StateDir};
pub use airlock_verifier::verdict::Verdict;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

pub const PACKAGE: &str = "cavra-go-runtime";
pub const BUILDER: &str = "https://github.com/actions/runner/github-hosted";
pub const REPO: &str = "https://github.com/cavra/cavra";
pub const DAY: i64 = 86_400;

/// The clock, now.
pub fn now() -> Timestamp {
    Timestamp::now()
}

/// Now plus `d` days (negative: in the past).
pub fn days(d: i64) -> Timestamp {
    Timestamp::now().plus_seconds(d * DAY)
}

/// A fresh Ed25519 key.
pub fn key(id: &str) -> PrivateKey {
    PrivateKey::generate(id).unwrap()
}

/// A second handle on the same key (PrivateKey is not Clone on purpose).
pub fn copy(k: &PrivateKey) -> PrivateKey {
    PrivateKey::from_seed(k.key_id().as_str(), &k.signing_key().to_bytes()).unwrap()
}

/// The same raw key under another key id.
pub fn alias(k: &PrivateKey, id: &str) -> PrivateKey {
    PrivateKey::from_seed(id, &k.signing_key().to_bytes()).unwrap()
}

/// The keys of a kit's first trust root.
pub struct Keys {
    /// Root role (threshold 2 of a, b); `root_a` is also the revocation role.
    pub root_a: PrivateKey,
    pub root_b: PrivateKey,
    /// Release role (threshold 1).
    pub release: PrivateKey,
    /// Provenance role.
    pub ci: PrivateKey,
}

impl Keys {
    pub fn new() -> Self {
        Self {
            root_a: key("root-a"),
            root_b: key("root-b"),
            release: key("cavra-go-release-2026-q2"),
            ci: key("ci-builder-2026-q2"),
        }
    }

    /// The default content: root 2-of-(a, b), release 1-of-[release], provenance [ci],
    /// revocation 1-of-[root-a]; issued a day ago, expires in a year; no key windows.
    pub fn content(&self) -> RootContent {
        let mut roles = BTreeMap::new();
        roles.insert(
            "root".into(),
            root::role(&[self.root_a.key_id(), self.root_b.key_id()], 2),
        );
        roles.insert("release".into(), root::role(&[self.release.key_id()], 1));
        roles.insert("provenance".into(), root::role(&[self.ci.key_id()], 1));
        roles.insert("revocation".into(), root::role(&[self.root_a.key_id()], 1));
        RootContent {
            issued_at: days(-1),
            expires: days(365),
            keys: [&self.root_a, &self.root_b, &self.release, &self.ci]
                .iter()
                .map(|k| k.public_entry(None, None))
                .collect(),
            roles,
            builders: vec![Builder {
                id: BUILDER.into(),
                source_repository: REPO.into(),
                ref_pattern: "refs/tags/v*".into(),
            }],
            sigstore: None,
        }
    }
}

impl Default for Keys {
    fn default() -> Self {
        Self::new()
    }
}

/// Signs a trust root payload as a DSSE envelope with `signers`, with no check at all (for roots
/// the author tools refuse to make: huge versions, wrong signers).
pub fn sign_root_raw(p: &TrustRootPayload, signers: &[&PrivateKey]) -> Vec<u8> {
    let pairs: Vec<_> = signers
        .iter()
        .map(|k| (k.key_id().as_str(), k.signing_key()))
        .collect();
    dsse::sign(payload_type::TRUST_ROOT, &dsse::to_pretty_json(p), &pairs)
}

/// Signs any JSON value as a revocation list envelope, with no check at all.
pub fn sign_revocations_raw(p: &serde_json::Value, signers: &[&PrivateKey]) -> Vec<u8> {
    let pairs: Vec<_> = signers
        .iter()
        .map(|k| (k.key_id().as_str(), k.signing_key()))
        .collect();
    dsse::sign(payload_type::REVOCATIONS, &dsse::to_pretty_json(p), &pairs)
}

/// A key revocation entry with all seven pieces of emergency evidence.
pub fn key_revocation(revoked: &KeyId, affected: &[&str], replacement: &KeyId) -> KeyRevocation {
    KeyRevocation {
        key_id: revoked.clone(),
        affected_versions: affected.iter().map(|s| s.to_string()).collect(),
        revoked_at: days(-1),
        replacement_key_id: replacement.clone(),
        approver: "ops-oncall@example.org".into(),
        replacement_release_evidence_sha256: "ab".repeat(32),
        advisory: "CAVRA-SA-2026-003".into(),
        reason: Some("key-compromise".into()),
    }
}

/// What to put in a bundle.
pub struct Spec {
    pub package: String,
    pub version: String,
    /// Release signers (empty: the kit's release key).
    pub signers: Vec<PrivateKey>,
    /// Varies the artifact bytes (same version, other content).
    pub content: String,
    /// Trust roots carried in the bundle (the newest becomes the bootstrap file).
    pub roots: Vec<Vec<u8>>,
    /// A revocation list carried in the bundle.
    pub revocations: Option<Vec<u8>>,
}

impl Spec {
    pub fn new(version: &str) -> Self {
        Self {
            package: PACKAGE.into(),
            version: version.into(),
            signers: vec![],
            content: String::new(),
            roots: vec![],
            revocations: None,
        }
    }

    pub fn signed_by(mut self, keys: &[&PrivateKey]) -> Self {
        self.signers = keys.iter().map(|k| copy(k)).collect();
        self
    }

    pub fn content(mut self, c: &str) -> Self {
        self.content = c.into();
        self
    }

    pub fn package(mut self, p: &str) -> Self {
        self.package = p.into();
        self
    }

    pub fn carrying_roots(mut self, roots: &[&[u8]]) -> Self {
        self.roots = roots.iter().map(|r| r.to_vec()).collect();
        self
    }

    pub fn carrying_revocations(mut self, list: &[u8]) -> Self {
        self.revocations = Some(list.to_vec());
        self
    }
}

static SEQ: AtomicU64 = AtomicU64::new(0);

/// One appliance (state directory, anchor) and one medium, in a temp directory.
pub struct Kit {
    pub tmp: tempfile::TempDir,
    pub keys: Keys,
    /// The v1 trust root (the anchor).
    pub anchor: Vec<u8>,
    pub anchor_path: PathBuf,
    pub media: PathBuf,
    pub state: PathBuf,
    pub work: PathBuf,
}

impl Kit {
    /// Default keys and content.
    pub fn new() -> Self {
        Self::with(|_, _| {})
    }

    /// Default keys; `edit` changes the anchor's content before it is signed by root-a and
    /// root-b.
    pub fn with(edit: impl FnOnce(&Keys, &mut RootContent)) -> Self {
        let keys = Keys::new();
        let mut c = keys.content();
        edit(&keys, &mut c);
        let (anchor, st) = root::create(1, &c, &[&keys.root_a, &keys.root_b]).unwrap();
        assert!(st.complete());
        Self::from_anchor(keys, anchor)
    }

    /// A kit whose anchor is `anchor` (any bytes).
    pub fn from_anchor(keys: Keys, anchor: Vec<u8>) -> Self {
        let tmp = tempfile::tempdir().unwrap();
        let anchor_path = tmp.path().join("anchor.json");
        std::fs::write(&anchor_path, &anchor).unwrap();
        let media = tmp.path().join("media");
        std::fs::create_dir_all(media.join("inbox")).unwrap();
        let work = tmp.path().join("work");
        std::fs::create_dir_all(&work).unwrap();
        Self {
            state: tmp.path().join("state"),
            tmp,
            keys,
            anchor,
            anchor_path,
            media,
            work,
        }
    }

    /// Builds a bundle from `spec` into `work/` (no self-check) and returns its path.
    pub fn build(&self, file_name: &str, spec: &Spec) -> PathBuf {
        let n = SEQ.fetch_add(1, Ordering::Relaxed);
        let dist = self.work.join(format!("dist-{n}"));
        std::fs::create_dir_all(dist.join("bin")).unwrap();
        std::fs::write(
            dist.join("bin/cavra-linux-amd64"),
            format!(
                "\x7fELF cavra {} {} {}\n",
                spec.package, spec.version, spec.content
            )
            .repeat(50),
        )
        .unwrap();
        std::fs::write(
            dist.join("README.md"),
            format!("# {} {}\n", spec.package, spec.version),
        )
        .unwrap();
        let artifacts = pack::collect_artifacts(&dist)
            .unwrap()
            .into_iter()
            .map(|a| {
                let source = Source::File(a.path.clone());
                (a, source)
            })
            .collect();
        self.build_from(file_name, spec, &dist, artifacts, &format!("{n}"))
    }

    /// Builds a bundle of `artifacts` (each with where its bytes come from) plus the metadata
    /// into `work/`.
    pub fn build_from(
        &self,
        file_name: &str,
        spec: &Spec,
        dist: &Path,
        artifacts: Vec<(pack::Artifact, Source)>,
        tag: &str,
    ) -> PathBuf {
        let n = tag;
        let signers: Vec<PrivateKey> = if spec.signers.is_empty() {
            vec![copy(&self.keys.release)]
        } else {
            spec.signers.iter().map(copy).collect()
        };
        let opts = PackOptions {
            dist: dist.to_path_buf(),
            out: self.work.join(format!("out-{n}-{file_name}")),
            package: spec.package.clone(),
            version: spec.version.clone(),
            commit: "0123456789abcdef0123456789abcdef01234567".into(),
            ref_: format!("refs/tags/{}", spec.version),
            event: "release".into(),
            key_id: signers[0].key_id().to_string(),
            signing_required: true,
            release_keys: signers,
            minisign_key: None,
            provenance_keys: vec![copy(&self.keys.ci)],
            builder_id: BUILDER.into(),
            source_repo: REPO.into(),
            workflow_path: pack::DEFAULT_WORKFLOW_PATH.into(),
            trust_roots: spec.roots.clone(),
            revocations: spec.revocations.clone(),
            custody: pack::custody("op://release/cavra-go-runtime/signing-key"),
            created_at: Timestamp::parse("2026-04-01T00:00:00Z").unwrap(),
            anchor: None,
            sigstore: Default::default(),
        };
        let (artifacts, sources): (Vec<pack::Artifact>, Vec<Source>) =
            artifacts.into_iter().unzip();
        let meta = pack::metadata(&opts, &artifacts).unwrap();
        let mut entries: Vec<Entry> = meta
            .into_iter()
            .map(|(name, b)| Entry {
                name,
                source: Source::Bytes(b),
            })
            .collect();
        entries.extend(artifacts.iter().zip(sources).map(|(a, source)| Entry {
            name: a.name.clone(),
            source,
        }));
        let compression = Compression::for_path(Path::new(file_name)).unwrap();
        archive::write(&opts.out, entries, 1_775_001_600, compression).unwrap();
        opts.out
    }

    /// Builds a bundle and puts it in `MEDIA/inbox/<file_name>`; returns its MEDIA-relative path.
    pub fn bundle(&self, file_name: &str, spec: &Spec) -> String {
        let built = self.build(file_name, spec);
        self.put_bundle(file_name, &built)
    }

    /// Copies a bundle file into `MEDIA/inbox/<file_name>`.
    pub fn put_bundle(&self, file_name: &str, built: &Path) -> String {
        std::fs::copy(built, self.media.join("inbox").join(file_name)).unwrap();
        format!("inbox/{file_name}")
    }

    /// Empties `MEDIA/inbox/`.
    pub fn clear_inbox(&self) {
        let inbox = self.media.join("inbox");
        std::fs::remove_dir_all(&inbox).unwrap();
        std::fs::create_dir_all(&inbox).unwrap();
    }

    /// Writes a file on the media (creating directories).
    pub fn put_media(&self, rel: &str, bytes: &[u8]) {
        let p = self.media.join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, bytes).unwrap();
    }

    /// Removes a file from the media (if there).
    pub fn remove_media(&self, rel: &str) {
        let _ = std::fs::remove_file(self.media.join(rel));
    }

    /// Replaces the media directory by an empty one (a new stick; same appliance).
    pub fn new_stick(&self) {
        std::fs::remove_dir_all(&self.media).unwrap();
        std::fs::create_dir_all(self.media.join("inbox")).unwrap();
    }

    /// Run options: `--anchor anchor.json --state state MEDIA`, writing.
    pub fn opts(&self) -> VerifyOptions {
        VerifyOptions {
            media: self.media.clone(),
            bundles: vec![],
            anchor: Some(self.anchor_path.clone()),
            anchor_sha256: None,
            state_dir: self.state.clone(),
            write: WriteMode::Write,
            image: None,
        }
    }

    /// One whole run over the inbox.
    pub fn run(&self) -> RunReport {
        self.run_opts(&self.opts())
            .unwrap_or_else(|e| panic!("the run did not start: {e}"))
    }

    /// One whole run over the given MEDIA-relative bundles.
    pub fn run_bundles(&self, bundles: &[&str]) -> RunReport {
        let mut o = self.opts();
        o.bundles = bundles.iter().map(|s| s.to_string()).collect();
        self.run_opts(&o)
            .unwrap_or_else(|e| panic!("the run did not start: {e}"))
    }

    pub fn run_opts(&self, o: &VerifyOptions) -> Result<RunReport, RunError> {
        airlock_verifier::run::verify_media(o, &airlock_verifier::bundle::NoProgress)
    }

    /// The appliance's `state.json` as it stands (defaults when absent).
    pub fn state_data(&self) -> StateData {
        let st = StateDir::open(
            &airlock_verifier::atomic::RealStorage,
            &self.state,
            Mode::ReadOnly,
        )
        .unwrap();
        let key = st.existing_appliance_key().unwrap();
        st.load(key.as_ref()).unwrap()
    }

    /// A rotation of `previous` to its version + 1 with `changes`, signed by `signers`.
    pub fn rotate(
        &self,
        previous: &[u8],
        changes: &RootChanges,
        signers: &[&PrivateKey],
    ) -> Vec<u8> {
        root::rotate(previous, changes, days(-1), days(365), signers)
            .unwrap()
            .0
    }

    /// The payload of the kit's default content at `version`, for hand-made roots.
    pub fn payload(&self, version: u64) -> TrustRootPayload {
        root::payload(version, &self.keys.content())
    }

    /// A revocation list signed by the revocation role (root-a).
    pub fn revocations(&self, version: u64, edit: impl FnOnce(&mut RevocationsPayload)) -> Vec<u8> {
        let mut p = revs::empty(version, days(-1));
        p.expires = days(30);
        edit(&mut p);
        sign_revocations_raw(&serde_json::to_value(&p).unwrap(), &[&self.keys.root_a])
    }
}

impl Default for Kit {
    fn default() -> Self {
        Self::new()
    }
}

/// The codes of a result, as strings.
pub fn codes(r: &BundleResult) -> Vec<&'static str> {
    r.reasons.iter().map(|r| r.code.as_str()).collect()
}

#[track_caller]
pub fn assert_promoted(r: &BundleResult) {
    assert_eq!(
        r.verdict,
        Verdict::Promote,
        "{} should promote; reasons: {:#?}",
        r.bundle,
        r.reasons
    );
    assert!(r.reasons.is_empty());
}

#[track_caller]
pub fn assert_rejected_with(r: &BundleResult, want: &[&str]) {
    assert_eq!(
        r.verdict,
        Verdict::Reject,
        "{} should reject with {want:?}",
        r.bundle
    );
    let got = codes(r);
    for w in want {
        assert!(
            got.contains(w),
            "{}: expected {w} among {:#?}",
            r.bundle,
            r.reasons
        );
    }
}

/// The result for a MEDIA-relative bundle path.
#[track_caller]
pub fn result<'a>(rep: &'a RunReport, bundle: &str) -> &'a BundleResult {
    rep.results
        .iter()
        .find(|r| r.bundle == bundle)
        .unwrap_or_else(|| panic!("no result for {bundle}: {rep:#?}"))
}

/// Every path under `dir` (relative, `/`-separated) with its kind, mode and SHA-256 (files), so
/// that "nothing was written" can be checked exactly.
pub fn tree(dir: &Path) -> BTreeMap<String, String> {
    use std::os::unix::fs::PermissionsExt as _;
    let mut out = BTreeMap::new();
    fn walk(base: &Path, d: &Path, out: &mut BTreeMap<String, String>) {
        let Ok(rd) = std::fs::read_dir(d) else {
            return;
        };
        for e in rd {
            let e = e.unwrap();
            let p = e.path();
            let rel = p.strip_prefix(base).unwrap().to_string_lossy().into_owned();
            let m = std::fs::symlink_metadata(&p).unwrap();
            let mode = m.permissions().mode() & 0o7777;
            if m.is_dir() {
                out.insert(rel, format!("dir {mode:o}"));
                walk(base, &p, out);
            } else if m.is_file() {
                let bytes = std::fs::read(&p).unwrap();
                out.insert(
                    rel,
                    format!(
                        "file {mode:o} {}",
                        airlock_formats::keys::hex(&airlock_core::digest::sha256(&bytes))
                    ),
                );
            } else {
                out.insert(rel, format!("other {mode:o}"));
            }
        }
    }
    if dir.exists() {
        out.insert(".".into(), "root".into());
    }
    walk(dir, dir, &mut out);
    out
}

/// Hex SHA-256 of a file.
pub fn file_sha256(p: &Path) -> String {
    airlock_formats::keys::hex(&airlock_core::digest::sha256(&std::fs::read(p).unwrap()))
}

/// Reads and verifies a receipt written on the kit's media with the appliance's key.
pub fn receipt(kit: &Kit, rel: &str) -> airlock_verifier::receipt::ReceiptPayload {
    let env = std::fs::read(kit.media.join(rel)).unwrap();
    let key = std::fs::read(kit.state.join("appliance-key.json")).unwrap();
    airlock_verifier::receipt::verify_receipt(&env, &key).unwrap()
}

/// The `airlock` binary of this build (`target/<profile>/airlock`), rebuilt once per test process
/// with `cargo build -p airlock --bin airlock` when cargo is known, so a stale binary is never
/// tested.
pub fn airlock_bin() -> PathBuf {
    static BIN: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    BIN.get_or_init(|| {
        let exe = std::env::current_exe().unwrap();
        // target/<profile>/deps/<test>-<hash>
        let profile_dir = exe.parent().and_then(Path::parent).unwrap().to_path_buf();
        let target_dir = profile_dir.parent().unwrap().to_path_buf();
        let bin = profile_dir.join("airlock");
        if let Some(cargo) = std::env::var_os("CARGO") {
            let profile = profile_dir.file_name().unwrap().to_string_lossy().into_owned();
            let mut c = std::process::Command::new(cargo);
            c.args(["build", "--quiet", "-p", "airlock", "--bin", "airlock"])
                .arg("--target-dir")
                .arg(&target_dir)
                .current_dir(env!("CARGO_MANIFEST_DIR"));
            match profile.as_str() {
                "debug" => {}
                "release" => {
                    c.arg("--release");
                }
                other => {
                    c.args(["--profile", other]);
                }
            }
            let st = c.status().expect("cargo runs");
            assert!(st.success(), "cargo build -p airlock failed");
        }
        assert!(
            bin.is_file(),
            "the airlock binary is not at {} (run `cargo build -p airlock` or `cargo test --workspace`)",
            bin.display()
        );
        bin
    })
    .clone()
}

/// A [`airlock_verifier::atomic::Storage`] on which everything under `ro` is a read-only file system:
/// every operation that would change something there fails with EROFS; the rest is real.
pub struct ReadOnlyUnder(pub PathBuf);

pub const EROFS: i32 = 30;

impl ReadOnlyUnder {
    fn gate(&self, p: &Path) -> std::io::Result<()> {
        if p.starts_with(&self.0) {
            Err(std::io::Error::from_raw_os_error(EROFS))
        } else {
            Ok(())
        }
    }
}

impl airlock_verifier::atomic::Storage for ReadOnlyUnder {
    fn create_new(
        &self,
        path: &Path,
        mode: u32,
    ) -> std::io::Result<Box<dyn airlock_verifier::atomic::WriteFile>> {
        self.gate(path)?;
        airlock_verifier::atomic::RealStorage.create_new(path, mode)
    }
    fn open_append(
        &self,
        path: &Path,
        mode: u32,
    ) -> std::io::Result<(Box<dyn airlock_verifier::atomic::WriteFile>, bool)> {
        self.gate(path)?;
        airlock_verifier::atomic::RealStorage.open_append(path, mode)
    }
    fn rename_noreplace(&self, from: &Path, to: &Path) -> std::io::Result<()> {
        self.gate(from)?;
        self.gate(to)?;
        airlock_verifier::atomic::RealStorage.rename_noreplace(from, to)
    }
    fn rename_replace(&self, from: &Path, to: &Path) -> std::io::Result<()> {
        self.gate(from)?;
        self.gate(to)?;
        airlock_verifier::atomic::RealStorage.rename_replace(from, to)
    }
    fn sync_dir(&self, dir: &Path) -> std::io::Result<()> {
        airlock_verifier::atomic::RealStorage.sync_dir(dir)
    }
    fn create_dir(&self, path: &Path, mode: u32) -> std::io::Result<()> {
        self.gate(path)?;
        airlock_verifier::atomic::RealStorage.create_dir(path, mode)
    }
    fn remove_file(&self, path: &Path) -> std::io::Result<()> {
        self.gate(path)?;
        airlock_verifier::atomic::RealStorage.remove_file(path)
    }
    fn truncate(&self, path: &Path, len: u64) -> std::io::Result<()> {
        self.gate(path)?;
        airlock_verifier::atomic::RealStorage.truncate(path, len)
    }
    fn sync_filesystem(&self, path: &Path) -> std::io::Result<()> {
        airlock_verifier::atomic::RealStorage.sync_filesystem(path)
    }
}
