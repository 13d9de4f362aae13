//! Packing a release bundle (formats §5) from a directory of artifacts: release evidence, the
//! signing-operations manifest (its controls follow from the options, so none can be forgotten),
//! SLSA v1 provenance, `checksums.txt`, the DSSE release signature, an optional minisign
//! signature, the trust material to carry, then a deterministic archive. Before anything is
//! written the bundle is judged by the verifier's own `policy::assess` under the trust root it
//! carries, so a bundle the appliance would reject is not produced.

use super::archive::{self, Compression, Entry, Source};
use super::keys::{MinisignKey, PrivateKey, PRIVATE_KEY_MARKERS};
use airlock_core::digest::{sha256, Sha256, Sha256Digest};
use airlock_formats::document::dsse::{self, payload_type};
use airlock_formats::document::provenance::SLSA_PROVENANCE_V1;
use airlock_formats::document::release_evidence::{
    EvidenceArtifact, ReleaseEvidence, ReleaseVersion, EVIDENCE_TYPE,
};
use airlock_formats::document::revocations::Revocations;
use airlock_formats::document::signing_ops::{Custody, SigningOperations};
use airlock_formats::document::statement::{RELEASE_PREDICATE_TYPE, STATEMENT_TYPE};
use airlock_formats::document::trust_root::TrustRoot;
use airlock_formats::keys::{hex, KeyId};
use airlock_formats::reason::Reason;
use airlock_formats::timestamp::Timestamp;
use airlock_verifier::bundle::{is_metadata, FileEntry, Inventory, Scan};
use airlock_verifier::policy::{self, Assessment, Memory};
use airlock_verifier::trust::Candidate;
use airlock_verifier::verdict::Verdict;
use serde_json::json;
use std::collections::{BTreeMap, BTreeSet};
use std::io::Read;
use std::path::{Path, PathBuf};

/// The build type GitHub Actions provenance uses (formats §5.4).
pub const BUILD_TYPE: &str = "https://actions.github.io/buildtypes/workflow/v1";
/// The default workflow path recorded in provenance.
pub const DEFAULT_WORKFLOW_PATH: &str = ".github/workflows/release.yml";
/// File names the pack step writes (the formats' layout).
pub use airlock_formats::layout::bundle as files;

/// The overlap guidance of seed 000's planned rotation.
pub const OVERLAP_GUIDANCE: &str = "During a planned rotation the replacement key is created in the approved secret manager and added to the trust root's release role with a not_before before the outgoing key's not_after; releases are packaged with the new --key-id, signatures from both key ids verify during the overlap window, and the old key retires after all active release channels have moved.";

/// A key custody statement that names the key's location by reference only.
pub fn custody(private_key_location: &str) -> Custody {
    Custody {
        model: "external-secret-manager".into(),
        private_key_location: private_key_location.into(),
        public_repository_boundary: "The public repository and the release bundle hold key ids and public keys only; private signing keys never enter them.".into(),
    }
}

/// What to pack.
#[derive(Debug)]
pub struct PackOptions {
    /// The directory of artifacts (every regular file under it, recursively).
    pub dist: PathBuf,
    /// The bundle file to write (`.tar`, `.tar.gz` or `.tgz`).
    pub out: PathBuf,
    /// Package name, e.g. `cavra-go-runtime`.
    pub package: String,
    /// Version, `v`-prefixed semver.
    pub version: String,
    /// Source commit, 40 lowercase hex.
    pub commit: String,
    /// Source ref, e.g. `refs/tags/v0.1.0`.
    pub ref_: String,
    /// CI event, e.g. `release`.
    pub event: String,
    /// The active release signing key id.
    pub key_id: String,
    /// Seed 000's `--signing-required`. Airlock never packs an unsigned release and the
    /// appliance never accepts one, so the manifest always records `signing_required: true`;
    /// the option is kept so the runbook's command line works unchanged.
    pub signing_required: bool,
    /// Ed25519 release keys (DSSE release signature).
    pub release_keys: Vec<PrivateKey>,
    /// A minisign release key (`checksums.txt.minisig`).
    pub minisign_key: Option<MinisignKey>,
    /// Provenance keys.
    pub provenance_keys: Vec<PrivateKey>,
    /// `runDetails.builder.id`.
    pub builder_id: String,
    /// Source repository URL.
    pub source_repo: String,
    /// Workflow path recorded in provenance.
    pub workflow_path: String,
    /// Trust root envelope files to carry (the newest becomes the bootstrap file).
    pub trust_roots: Vec<Vec<u8>>,
    /// A revocation list to carry.
    pub revocations: Option<Vec<u8>>,
    /// Key custody statement.
    pub custody: Custody,
    /// Evidence time and archive mtime.
    pub created_at: Timestamp,
    /// The trust root the self-check starts from (default: the oldest carried root).
    pub anchor: Option<Vec<u8>>,
    /// Sigstore bundles the release process produced.
    pub sigstore: SigstoreFiles,
}

/// Sigstore bundles made outside Airlock (formats §9.2), packed as they are.
#[derive(Debug, Clone, Default)]
pub struct SigstoreFiles {
    /// `checksums.txt.sigstore.json`: a bundle over this release's `checksums.txt` (not listed
    /// in it). `checksums.txt` is deterministic for the same inputs and `SOURCE_DATE_EPOCH`, so it
    /// can be signed from a first pack and packed by a second.
    pub release: Option<Vec<u8>>,
    /// `cavra-runtime.provenance.sigstore.json`: a bundle whose DSSE envelope carries the SLSA
    /// provenance (e.g. `actions/attest-build-provenance`'s), listed in `checksums.txt`. Without
    /// provenance keys it replaces the Ed25519-signed provenance file.
    pub provenance: Option<Vec<u8>>,
}

/// An artifact found in the dist directory.
#[derive(Debug, Clone)]
pub struct Artifact {
    /// Canonical name.
    pub name: String,
    /// Path on disk.
    pub path: PathBuf,
    /// SHA-256.
    pub sha256: Sha256Digest,
    /// Size.
    pub size: u64,
}

/// What was packed.
#[derive(Debug)]
pub struct PackReport {
    /// The bundle file.
    pub out: PathBuf,
    /// SHA-256 of the bundle file.
    pub bundle_sha256: String,
    /// Its size.
    pub bundle_size: u64,
    /// The artifacts.
    pub artifacts: Vec<Artifact>,
    /// The metadata files written into the bundle, by name.
    pub metadata: BTreeMap<String, Vec<u8>>,
    /// The self-check's assessment (None when no trust root was available for it).
    pub self_check: Option<Assessment>,
}

impl PackReport {
    /// The archive entries (metadata in memory, artifacts from disk).
    pub fn entries(&self) -> Vec<Entry> {
        let mut out: Vec<Entry> = self
            .metadata
            .iter()
            .map(|(n, b)| Entry {
                name: n.clone(),
                source: Source::Bytes(b.clone()),
            })
            .collect();
        out.extend(self.artifacts.iter().map(|a| Entry {
            name: a.name.clone(),
            source: Source::File(a.path.clone()),
        }));
        out
    }
}

/// What [`pack_with`] reports while it works (the bundle tool draws it on a terminal; a large
/// release takes minutes to hash and compress).
pub trait Progress {
    /// A phase begins: what it does, and its size in bytes when known.
    fn phase(&self, _what: &str, _total: Option<u64>) {}
    /// `bytes` more of the current phase are done.
    fn advance(&self, _bytes: u64) {}
}

/// Reports nothing.
pub struct Silent;

impl Progress for Silent {}

/// Whether `head` (a file's first bytes) is private key material: a known private-key header, or
/// anything the bundle tool's own key loader would accept as a private key (Airlock's JSON key
/// file, a base64 seed) even under an innocent name.
fn looks_like_private_key(head: &[u8]) -> bool {
    PRIVATE_KEY_MARKERS.iter().any(|m| head.starts_with(m))
        || (head.len() < 4096
            && [None, Some("probe")]
                .iter()
                .any(|id| PrivateKey::parse(head, *id).is_ok()))
}

/// SHA-256 and size of a file; with `refuse_keys`, a file that starts like private key material
/// is an error.
fn hash(
    path: &Path,
    refuse_keys: bool,
    progress: &dyn Progress,
) -> Result<(Sha256Digest, u64), String> {
    let mut f = std::fs::File::open(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 1 << 16];
    let mut size = 0u64;
    loop {
        let n = f
            .read(&mut buf)
            .map_err(|e| format!("{}: {e}", path.display()))?;
        if n == 0 {
            return Ok((h.finalize(), size));
        }
        if refuse_keys && size == 0 && looks_like_private_key(&buf[..n]) {
            return Err(format!(
                "{} looks like a private key; private keys never go into a bundle",
                path.display()
            ));
        }
        h.update(&buf[..n]);
        size += n as u64;
        progress.advance(n as u64);
    }
}

fn fold(name: &str) -> String {
    use unicode_normalization::UnicodeNormalization as _;
    caseless::default_case_fold_str(&name.nfc().collect::<String>())
        .nfc()
        .collect()
}

/// Every regular file under `dist`, with canonical names, hashed. Refuses links, special files,
/// names the verifier would refuse, names that collide on case-folding media, files named like
/// Airlock metadata, and anything that looks like a private key.
pub fn collect_artifacts(dist: &Path) -> Result<Vec<Artifact>, String> {
    collect_artifacts_with(dist, &Silent)
}

/// [`collect_artifacts`], reporting the bytes hashed.
pub fn collect_artifacts_with(
    dist: &Path,
    progress: &dyn Progress,
) -> Result<Vec<Artifact>, String> {
    progress.phase("hashing the artifacts", None);
    let mut out = Vec::new();
    let mut stack = vec![(dist.to_path_buf(), String::new())];
    while let Some((dir, prefix)) = stack.pop() {
        let rd = std::fs::read_dir(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        for ent in rd {
            let ent = ent.map_err(|e| format!("{}: {e}", dir.display()))?;
            let path = ent.path();
            let name = ent
                .file_name()
                .into_string()
                .map_err(|_| format!("{}: the name is not UTF-8", path.display()))?;
            let full = format!("{prefix}{name}");
            let ft = ent
                .file_type()
                .map_err(|e| format!("{}: {e}", path.display()))?;
            if ft.is_dir() {
                stack.push((path, format!("{full}/")));
            } else if ft.is_file() {
                airlock_core::name::check(&full)
                    .map_err(|e| format!("{full}: not a name a bundle may carry ({e:?})"))?;
                if airlock_formats::document::governance::FILES.contains(&full.as_str()) {
                    // The daemon's governance files: packed as metadata by `metadata`.
                    continue;
                }
                if is_metadata(&full) {
                    return Err(format!(
                        "{full}: pack writes this file itself; remove it from the dist directory (or point --dist at the artifacts only)"
                    ));
                }
                if full.ends_with(".key") || full.ends_with(".pem") {
                    return Err(format!(
                        "{full}: looks like a key file; private keys never go into a bundle"
                    ));
                }
                let (sha256, size) = hash(&path, true, progress)?;
                out.push(Artifact {
                    name: full,
                    path,
                    sha256,
                    size,
                });
            } else {
                return Err(format!(
                    "{}: not a regular file or directory (links and special files are not packed)",
                    path.display()
                ));
            }
        }
    }
    out.sort_by(|a, b| a.name.as_bytes().cmp(b.name.as_bytes()));
    let mut folded = BTreeMap::new();
    for a in &out {
        if let Some(other) = folded.insert(fold(&a.name), a.name.clone()) {
            return Err(format!(
                "{} and {other} are the same name on case-insensitive media",
                a.name
            ));
        }
    }
    if out.is_empty() {
        return Err(format!("{}: no artifacts to pack", dist.display()));
    }
    Ok(out)
}

fn statement(
    subjects: Vec<serde_json::Value>,
    predicate_type: &str,
    predicate: serde_json::Value,
) -> Vec<u8> {
    dsse::to_pretty_json(&json!({
        "_type": STATEMENT_TYPE,
        "subject": subjects,
        "predicateType": predicate_type,
        "predicate": predicate,
    }))
}

fn signers(keys: &[PrivateKey]) -> Vec<(&str, &ed25519_dalek::SigningKey)> {
    keys.iter()
        .map(|k| (k.key_id().as_str(), k.signing_key()))
        .collect()
}

fn validate(o: &PackOptions) -> Result<(), String> {
    ReleaseVersion::parse(&o.version)?;
    KeyId::new(&o.key_id)?;
    if o.package.trim().is_empty() || o.package.chars().any(char::is_control) {
        return Err("--package is empty or has control characters".into());
    }
    if o.commit.len() != 40
        || !o
            .commit
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    {
        return Err(format!(
            "--commit {:?} is not 40 lowercase hex digits",
            o.commit
        ));
    }
    for (flag, v) in [
        ("--ref", &o.ref_),
        ("--event", &o.event),
        ("--builder-id", &o.builder_id),
        ("--source-repo", &o.source_repo),
    ] {
        if v.trim().is_empty() {
            return Err(format!("{flag} is empty"));
        }
    }
    if o.release_keys.is_empty() && o.minisign_key.is_none() {
        return Err("no release signing key: give --release-key, set CAVRA_GO_RELEASE_SIGNING_KEY, or give --minisign-key (Airlock never packs an unsigned release)".into());
    }
    if o.provenance_keys.is_empty() {
        return Err(
            "no provenance key (--provenance-key): the appliance requires signed provenance".into(),
        );
    }
    if !o.release_keys.is_empty()
        && o.minisign_key.is_none()
        && !o
            .release_keys
            .iter()
            .any(|k| k.key_id().as_str() == o.key_id)
    {
        return Err(format!(
            "--key-id {} is not one of the release keys given ({}): the active key must sign the release",
            o.key_id,
            o.release_keys.iter().map(|k| k.key_id().as_str()).collect::<Vec<_>>().join(", ")
        ));
    }
    // The bundle must not land inside the directory it is made from.
    let dist = o
        .dist
        .canonicalize()
        .map_err(|e| format!("{}: {e}", o.dist.display()))?;
    let out_dir = match o.out.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let out_dir = out_dir
        .canonicalize()
        .map_err(|e| format!("{}: {e}", out_dir.display()))?;
    if out_dir.starts_with(&dist) {
        return Err(format!(
            "--out {} is inside --dist {}",
            o.out.display(),
            o.dist.display()
        ));
    }
    Ok(())
}

/// Trust roots to carry: (name in the bundle, bytes); the newest is the bootstrap file, the others
/// `trust-root/<version>.json`.
fn root_files(roots: &[Vec<u8>]) -> Result<Vec<(String, Vec<u8>)>, String> {
    let mut by_version: BTreeMap<u64, &Vec<u8>> = BTreeMap::new();
    for r in roots {
        let parsed = TrustRoot::parse(r).map_err(|e| format!("trust root: {e}"))?;
        if by_version.insert(parsed.version(), r).is_some() {
            return Err(format!(
                "two trust roots of version {} given",
                parsed.version()
            ));
        }
    }
    let newest = by_version.keys().next_back().copied();
    Ok(by_version
        .into_iter()
        .map(|(v, b)| {
            let name = if Some(v) == newest {
                files::BOOTSTRAP.to_string()
            } else {
                format!("trust-root/{v}.json")
            };
            (name, b.clone())
        })
        .collect())
}

/// Judges an inventory as the appliance would, with a fresh memory.
pub fn assess_inventory(
    files: Vec<FileEntry>,
    metadata: BTreeMap<String, Vec<u8>>,
    bundle_sha256: Option<Sha256Digest>,
    anchor: &[u8],
    now: Timestamp,
) -> Assessment {
    let scan = Scan {
        inventory: Inventory {
            bundle_sha256,
            bundle_size: 0,
            files,
            metadata,
            provenance: None,
        },
        reasons: vec![],
    };
    // The packer holds the CI's HMAC secrets (CAVRA_* variables) for governed roots.
    let memory = Memory {
        vault: crate::governance::vault_from_env(),
        ..Memory::default()
    };
    policy::assess(&policy::Inputs {
        scan: &scan,
        anchor,
        media_roots: &[] as &[Candidate],
        media_revocations: &[],
        memory: &memory,
        now,
    })
}

/// Builds the metadata documents for `artifacts` (no I/O).
pub fn metadata(
    o: &PackOptions,
    artifacts: &[Artifact],
) -> Result<BTreeMap<String, Vec<u8>>, String> {
    let mut meta: BTreeMap<String, Vec<u8>> = BTreeMap::new();
    // Signing operations: every control derived from the options.
    let ops = SigningOperations::new(
        &o.package,
        &o.version,
        &o.key_id,
        true,
        o.custody.clone(),
        OVERLAP_GUIDANCE,
    );
    meta.insert(files::SIGNING_OPS.into(), dsse::to_pretty_json(&ops));
    // Release evidence.
    let ev = ReleaseEvidence {
        type_: EVIDENCE_TYPE.into(),
        package: o.package.clone(),
        version: o.version.clone(),
        commit: o.commit.clone(),
        ref_: o.ref_.clone(),
        event: o.event.clone(),
        key_id: KeyId::new(&o.key_id)?,
        created_at: o.created_at,
        artifacts: artifacts
            .iter()
            .map(|a| EvidenceArtifact {
                name: a.name.clone(),
                sha256: hex(&a.sha256),
                size: a.size,
            })
            .collect(),
    };
    meta.insert(files::EVIDENCE.into(), dsse::to_pretty_json(&ev));
    // Provenance: SLSA v1 in GitHub's workflow build type.
    let subjects: Vec<_> = artifacts
        .iter()
        .map(|a| json!({"name": a.name, "digest": {"sha256": hex(&a.sha256)}}))
        .collect();
    let predicate = json!({
        "buildDefinition": {
            "buildType": BUILD_TYPE,
            "externalParameters": {"workflow": {
                "ref": o.ref_, "repository": o.source_repo, "path": o.workflow_path}},
            "internalParameters": {"github": {"event_name": o.event}},
            "resolvedDependencies": [{
                "uri": format!("git+{}@{}", o.source_repo, o.ref_),
                "digest": {"gitCommit": o.commit}}]
        },
        "runDetails": {
            "builder": {"id": o.builder_id},
            "metadata": {"startedOn": o.created_at.to_string()}
        }
    });
    let prov = statement(subjects, SLSA_PROVENANCE_V1, predicate);
    if !o.provenance_keys.is_empty() || o.sigstore.provenance.is_none() {
        meta.insert(
            files::PROVENANCE.into(),
            dsse::sign(payload_type::IN_TOTO, &prov, &signers(&o.provenance_keys)),
        );
    }
    if let Some(b) = &o.sigstore.provenance {
        meta.insert(files::PROVENANCE_SIGSTORE.into(), b.clone());
    }
    // Trust material.
    for (name, bytes) in root_files(&o.trust_roots)? {
        meta.insert(name, bytes);
    }
    if let Some(r) = &o.revocations {
        Revocations::parse(r).map_err(|e| format!("revocations: {e}"))?;
        meta.insert(files::REVOCATIONS.into(), r.clone());
    }
    // Release governance (formats §8): the daemon's .cavra/go-daemon/ files from the dist.
    for name in airlock_formats::document::governance::FILES {
        let path = o.dist.join(name);
        if path.is_file() {
            let bytes = std::fs::read(&path).map_err(|e| format!("{}: {e}", path.display()))?;
            meta.insert(name.to_owned(), bytes);
        }
    }
    // checksums.txt: every file but itself and its signatures, sorted bytewise.
    let mut lines: BTreeMap<&str, String> = artifacts
        .iter()
        .map(|a| (a.name.as_str(), hex(&a.sha256)))
        .collect();
    for (n, b) in &meta {
        lines.insert(n.as_str(), hex(&sha256(b)));
    }
    let checksums: String = lines.iter().map(|(n, d)| format!("{d}  {n}\n")).collect();
    let checksums = checksums.into_bytes();
    // Release signatures.
    if !o.release_keys.is_empty() {
        let st = statement(
            vec![json!({"name": files::CHECKSUMS, "digest": {"sha256": hex(&sha256(&checksums))}})],
            RELEASE_PREDICATE_TYPE,
            json!({"package": o.package, "version": o.version}),
        );
        meta.insert(
            files::CHECKSUMS_SIG.into(),
            dsse::sign(payload_type::IN_TOTO, &st, &signers(&o.release_keys)),
        );
    }
    if let Some(m) = &o.minisign_key {
        meta.insert(
            files::CHECKSUMS_MINISIG.into(),
            m.sign(&checksums, files::CHECKSUMS, o.created_at)?,
        );
    }
    if let Some(b) = &o.sigstore.release {
        meta.insert(files::CHECKSUMS_SIGSTORE.into(), b.clone());
    }
    meta.insert(files::CHECKSUMS.into(), checksums);
    Ok(meta)
}

fn reasons_text(r: &[Reason]) -> String {
    r.iter()
        .map(|r| format!("  {}: {}", r.code.as_str(), r.message))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Packs, self-checks and writes the bundle.
pub fn pack(o: &PackOptions) -> Result<PackReport, String> {
    pack_with(o, &Silent)
}

/// [`pack`], reporting each phase to `progress`.
pub fn pack_with(o: &PackOptions, progress: &dyn Progress) -> Result<PackReport, String> {
    validate(o)?;
    let compression = Compression::for_path(&o.out)?;
    let artifacts = collect_artifacts_with(&o.dist, progress)?;
    let meta = metadata(o, &artifacts)?;
    // Self-check under the carried (or given) trust root, before anything is written.
    let anchor = match &o.anchor {
        Some(a) => Some(a.clone()),
        None => {
            let mut roots: Vec<(u64, &Vec<u8>)> = o
                .trust_roots
                .iter()
                .filter_map(|r| TrustRoot::parse(r).ok().map(|p| (p.version(), r)))
                .collect();
            roots.sort_by_key(|(v, _)| *v);
            roots.first().map(|(_, b)| (*b).clone())
        }
    };
    let self_check = match &anchor {
        None => None,
        Some(anchor) => {
            let mut files: Vec<FileEntry> = artifacts
                .iter()
                .map(|a| FileEntry {
                    name: a.name.clone(),
                    sha256: a.sha256,
                    size: a.size,
                })
                .collect();
            files.extend(meta.iter().map(|(n, b)| FileEntry {
                name: n.clone(),
                sha256: sha256(b),
                size: b.len() as u64,
            }));
            let a = assess_inventory(files, meta.clone(), None, anchor, Timestamp::now());
            if a.verdict() != Verdict::Promote {
                return Err(format!(
                    "the appliance would reject this bundle under the trust root it carries; nothing was written:\n{}",
                    reasons_text(a.reasons())
                ));
            }
            Some(a)
        }
    };
    let mut report = PackReport {
        out: o.out.clone(),
        bundle_sha256: String::new(),
        bundle_size: 0,
        artifacts,
        metadata: meta,
        self_check,
    };
    let mtime = u64::try_from(o.created_at.unix()).unwrap_or(0);
    progress.phase(
        &format!("writing {}", o.out.display()),
        Some(report.artifacts.iter().map(|a| a.size).sum()),
    );
    archive::write_with(&o.out, report.entries(), mtime, compression, &|n| {
        progress.advance(n)
    })?;
    let written = std::fs::metadata(&o.out).map(|m| m.len()).ok();
    progress.phase("hashing the bundle", written);
    let (d, size) = hash(&o.out, false, progress)?;
    report.bundle_sha256 = hex(&d);
    report.bundle_size = size;
    Ok(report)
}

/// SHA-256 and size of a file.
pub fn hash_file_plain(path: &Path) -> Result<(Sha256Digest, u64), String> {
    hash(path, false, &Silent)
}

/// Names of the files in a report, for printing.
pub fn summary(r: &PackReport) -> String {
    let mut out = format!(
        "wrote {} ({} bytes, sha256 {})\n",
        r.out.display(),
        r.bundle_size,
        r.bundle_sha256
    );
    let names: BTreeSet<&str> = r
        .artifacts
        .iter()
        .map(|a| a.name.as_str())
        .chain(r.metadata.keys().map(String::as_str))
        .collect();
    for n in names {
        out.push_str(&format!("  {n}\n"));
    }
    match &r.self_check {
        Some(a) => out.push_str(&format!(
            "self-check: {} under trust root version {} (signers: {})\n",
            a.verdict(),
            a.trust_root().version.unwrap_or_default(),
            a.signers()
                .iter()
                .map(|s| format!("{} [{}]", s.key_id, s.role))
                .collect::<Vec<_>>()
                .join(", ")
        )),
        None => out.push_str(
            "self-check: skipped (no trust root given: pass --trust-root to carry one)\n",
        ),
    }
    out
}
