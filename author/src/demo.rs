//! The built-in demo's material (`airlock demo`): test keys, a trust root (the anchor), and media
//! with one good bundle and one whose artifact was changed after signing. Everything lives under
//! the directory given; nothing here is for production (keys are generated fresh on every run).

use crate::archive::{self, Compression};
use crate::pack::{self, PackOptions};
use crate::revocations as revs;
use crate::root::{self, RootContent};
use crate::{fsutil, media, PrivateKey};
use airlock_formats::document::trust_root::Builder;
use airlock_formats::timestamp::Timestamp;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The demo's package.
pub const PACKAGE: &str = "cavra-go-runtime";
/// The artifact changed in the tampered bundle.
pub const TAMPERED_ARTIFACT: &str = "bin/cavra-linux-amd64";
const BUILDER_ID: &str = "https://github.com/actions/runner/github-hosted";
const SOURCE_REPO: &str = "https://github.com/cavra/cavra";

/// Where the demo put things.
#[derive(Debug, Clone)]
pub struct DemoLayout {
    /// The directory given to [`prepare`].
    pub dir: PathBuf,
    /// The trust root the appliance trusts (`dir/anchor.json`).
    pub anchor: PathBuf,
    /// The media root (`dir/media`).
    pub media: PathBuf,
    /// `media/inbox/cavra-go-runtime-v0.1.0.tar.gz`: verifies and promotes.
    pub good_bundle: PathBuf,
    /// `media/inbox/cavra-go-runtime-v0.1.1-tampered.tar.gz`: one byte of
    /// [`TAMPERED_ARTIFACT`] changed after signing; rejects with `checksum-mismatch`.
    pub tampered_bundle: PathBuf,
    /// The demo's test keys (private files, 0600), outside the media.
    pub keys: PathBuf,
}

fn artifacts(dist: &Path, version: &str) -> Result<(), String> {
    fsutil::create_dir(&dist.join("bin"))?;
    let files: [(&str, Vec<u8>); 3] = [
        (
            "bin/cavra-linux-amd64",
            format!("\x7fELF demo cavra runtime {version} for linux/amd64\n")
                .repeat(64)
                .into_bytes(),
        ),
        (
            "bin/cavra-darwin-arm64",
            format!("demo cavra runtime {version} for darwin/arm64\n")
                .repeat(64)
                .into_bytes(),
        ),
        (
            "README.md",
            format!("# CAVRA Go runtime {version}\n\nDemo release made by `airlock demo`.\n")
                .into_bytes(),
        ),
    ];
    for (name, bytes) in files {
        fsutil::write_atomic(&dist.join(name), &bytes)?;
    }
    Ok(())
}

/// Makes the demo material under `dir` (which should be empty).
pub fn prepare(dir: &Path) -> Result<DemoLayout, String> {
    let now = Timestamp::now();
    let issued = now.plus_seconds(-86_400);
    let expires = now.plus_seconds(365 * 86_400);
    let keys_dir = dir.join("keys");
    let work = dir.join("work");
    let media_dir = dir.join("media");
    for d in [&keys_dir, &work, &media_dir] {
        fsutil::create_dir(d)?;
    }
    let root_a = PrivateKey::generate("demo-root-a")?;
    let root_b = PrivateKey::generate("demo-root-b")?;
    let release = PrivateKey::generate("cavra-go-release-demo")?;
    let builder = PrivateKey::generate("ci-builder-demo")?;
    for k in [&root_a, &root_b, &release, &builder] {
        k.write_private(&keys_dir.join(format!("{}.key", k.key_id())))?;
    }
    // The trust root: two root keys (both must sign), one release key, one provenance key.
    let mut roles = BTreeMap::new();
    roles.insert(
        "root".to_string(),
        root::role(&[root_a.key_id(), root_b.key_id()], 2),
    );
    roles.insert("release".to_string(), root::role(&[release.key_id()], 1));
    roles.insert("provenance".to_string(), root::role(&[builder.key_id()], 1));
    roles.insert("revocation".to_string(), root::role(&[root_a.key_id()], 1));
    let content = RootContent {
        issued_at: issued,
        expires,
        keys: [&root_a, &root_b, &release, &builder]
            .iter()
            .map(|k| k.public_entry(Some(issued), Some(expires)))
            .collect(),
        roles,
        builders: vec![Builder {
            id: BUILDER_ID.into(),
            source_repository: SOURCE_REPO.into(),
            ref_pattern: "refs/tags/v*".into(),
        }],
        sigstore: None,
    };
    let (anchor_bytes, st) = root::create(1, &content, &[&root_a, &root_b])?;
    if !st.complete() {
        return Err("demo trust root does not meet its threshold".into());
    }
    let anchor = dir.join("anchor.json");
    fsutil::write_atomic(&anchor, &anchor_bytes)?;
    // An empty revocation list, so the demo shows one in force.
    let mut list = revs::empty(1, issued);
    list.expires = now.plus_seconds(30 * 86_400);
    let list_bytes = revs::sign(&list, &[&root_a], Some(&anchor_bytes))?;
    let list_path = work.join("revocations.json");
    fsutil::write_atomic(&list_path, &list_bytes)?;
    // Two releases.
    let mut bundles = Vec::new();
    for (version, name) in [
        ("v0.1.0", format!("{PACKAGE}-v0.1.0.tar.gz")),
        ("v0.1.1", format!("{PACKAGE}-v0.1.1-tampered.tar.gz")),
    ] {
        let dist = work.join(format!("dist-{version}"));
        artifacts(&dist, version)?;
        let out = work.join(&name);
        let opts = pack_options(
            Release {
                dist: &dist,
                out: &out,
                version,
                commit: "4b825dc642cb6eb9a060e54bf8d69288fbee4904",
                ref_: format!("refs/tags/{version}"),
                revocations: Some(list_bytes.clone()),
            },
            (&release, &builder),
            &anchor_bytes,
            now,
        )?;
        let report = pack::pack(&opts)?;
        if version == "v0.1.1" {
            // Tamper after signing: change one byte of an artifact and rebuild the archive.
            let path = dist.join(TAMPERED_ARTIFACT);
            let mut bytes = std::fs::read(&path).map_err(|e| format!("{}: {e}", path.display()))?;
            bytes[8] ^= 0x01;
            fsutil::write_atomic(&path, &bytes)?;
            let mtime = u64::try_from(now.unix()).unwrap_or(0);
            archive::write(&out, report.entries(), mtime, Compression::Gzip)?;
        }
        bundles.push(out);
    }
    media::prepare_media(&media_dir, &anchor, &bundles, &[], Some(&list_path))?;
    let inbox = media_dir.join("inbox");
    Ok(DemoLayout {
        dir: dir.to_path_buf(),
        anchor,
        good_bundle: inbox.join(format!("{PACKAGE}-v0.1.0.tar.gz")),
        tampered_bundle: inbox.join(format!("{PACKAGE}-v0.1.1-tampered.tar.gz")),
        media: media_dir,
        keys: keys_dir,
    })
}

/// Where the governance demo put things.
#[derive(Debug, Clone)]
pub struct GovernedDemo {
    /// The anchor: a trust root with `governance` (FORMATS §10).
    pub anchor: PathBuf,
    /// The media root.
    pub media: PathBuf,
    /// The appliance state, its vault holding the two HMAC secrets.
    pub state: PathBuf,
    /// Released by the pinned workflow: promotes.
    pub governed_bundle: PathBuf,
    /// Released by another workflow: rejects with `runner-identity-mismatch`.
    pub wrong_workflow_bundle: PathBuf,
}

/// The governance demo: a root pinning the repository and release workflow with HMAC runner and
/// evidence keys (their secrets in `dir/state`'s vault), a release run by the pinned workflow and
/// one run by another workflow. Bundles are packed without `pack`'s self-check, which would refuse
/// the second.
pub fn prepare_governed(dir: &Path) -> Result<GovernedDemo, String> {
    use crate::governance::{self as gov, DaemonRun, RunnerAuth};
    use airlock_formats::document::governance_pins::GovernancePolicy;
    use airlock_formats::keys::KeyId;
    let now = Timestamp::now();
    let issued = now.plus_seconds(-86_400);
    let (keys_dir, work, media_dir, state) = (
        dir.join("keys"),
        dir.join("work"),
        dir.join("media"),
        dir.join("state"),
    );
    for d in [&keys_dir, &work, &media_dir, &state] {
        fsutil::create_dir(d)?;
    }
    let root_a = PrivateKey::generate("demo-root-a")?;
    let root_b = PrivateKey::generate("demo-root-b")?;
    let release = PrivateKey::generate("cavra-go-release-demo")?;
    let builder = PrivateKey::generate("ci-builder-demo")?;
    let runner_id = KeyId::new("ci-runner-demo")?;
    let evidence_id = KeyId::new("ci-evidence-demo")?;
    let runner = gov::generate_secret()?;
    let evidence = gov::generate_secret()?;
    airlock_verifier::vault::install(&state, &runner_id, &runner)?;
    airlock_verifier::vault::install(&state, &evidence_id, &evidence)?;
    let mut roles = BTreeMap::new();
    roles.insert(
        "root".to_string(),
        root::role(&[root_a.key_id(), root_b.key_id()], 2),
    );
    roles.insert("release".to_string(), root::role(&[release.key_id()], 1));
    roles.insert("provenance".to_string(), root::role(&[builder.key_id()], 1));
    roles.insert("revocation".to_string(), root::role(&[root_a.key_id()], 1));
    roles.insert("runner-auth".to_string(), root::role(&[&runner_id], 1));
    roles.insert(
        "governance-evidence".to_string(),
        root::role(&[&evidence_id], 1),
    );
    let mut keys: Vec<_> = [&root_a, &root_b, &release, &builder]
        .iter()
        .map(|k| k.public_entry(None, None))
        .collect();
    let window_end = issued.plus_seconds(120 * 86_400);
    keys.push(gov::hmac_entry(&runner_id, &runner, issued, window_end));
    keys.push(gov::hmac_entry(&evidence_id, &evidence, issued, window_end));
    let content = RootContent {
        issued_at: issued,
        expires: now.plus_seconds(365 * 86_400),
        keys,
        roles,
        builders: vec![Builder {
            id: BUILDER_ID.into(),
            source_repository: SOURCE_REPO.into(),
            ref_pattern: "refs/tags/v*".into(),
        }],
        sigstore: None,
    };
    let mut payload = root::payload(1, &content);
    payload.governance = Some(GovernancePolicy {
        oidc: vec![],
        claims: [
            ("repository".to_string(), "cavra/cavra".to_string()),
            (
                "workflow_ref".to_string(),
                "cavra/cavra/.github/workflows/release.yml@refs/tags/v*".to_string(),
            ),
        ]
        .into_iter()
        .collect(),
        commit_claim: "sha".into(),
        ref_claim: "ref".into(),
    });
    let (anchor_bytes, _) = root::sign(&payload, &[&root_a, &root_b], None)?;
    let anchor = dir.join("anchor.json");
    fsutil::write_atomic(&anchor, &anchor_bytes)?;
    let commit = "4b825dc642cb6eb9a060e54bf8d69288fbee4904";
    let mut bundles = Vec::new();
    for (version, workflow) in [("v0.1.0", "release.yml"), ("v0.1.1", "nightly.yml")] {
        let dist = work.join(format!("dist-{version}"));
        artifacts(&dist, version)?;
        let ref_ = format!("refs/tags/{version}");
        let claims = serde_json::json!({
            "iss": "cavra-runner-demo", "sub": "runner-1", "repository": "cavra/cavra",
            "workflow_ref": format!("cavra/cavra/.github/workflows/{workflow}@{ref_}"),
            "ref": ref_, "sha": commit, "iat": now.unix() - 60});
        let files = gov::daemon_files(&DaemonRun {
            package: PACKAGE,
            version,
            commit,
            runtime_sha256: &airlock_formats::keys::hex(&airlock_core::digest::sha256(
                b"demo runtime",
            )),
            checks: vec![("provenance".into(), true), ("signatures".into(), true)],
            auth: RunnerAuth::Hmac {
                claims: claims.as_object().cloned().unwrap_or_default(),
                key_id: runner_id.clone(),
                secret: &runner,
            },
            evidence_key_id: evidence_id.clone(),
            evidence_secret: &evidence,
            time: now.plus_seconds(-30),
        })?;
        for (name, bytes) in &files {
            let p = dist.join(name);
            if let Some(parent) = p.parent() {
                fsutil::create_dir(parent)?;
            }
            fsutil::write_atomic(&p, bytes)?;
        }
        let out = work.join(format!(
            "{PACKAGE}-{version}-{}.tar.gz",
            workflow.trim_end_matches(".yml")
        ));
        let opts = pack_options(
            Release {
                dist: &dist,
                out: &out,
                version,
                commit,
                ref_,
                revocations: None,
            },
            (&release, &builder),
            &anchor_bytes,
            now,
        )?;
        let artifacts = pack::collect_artifacts(&dist)?;
        let meta = pack::metadata(&opts, &artifacts)?;
        let mut entries: Vec<archive::Entry> = meta
            .into_iter()
            .map(|(name, b)| archive::Entry {
                name,
                source: archive::Source::Bytes(b),
            })
            .collect();
        entries.extend(artifacts.iter().map(|a| archive::Entry {
            name: a.name.clone(),
            source: archive::Source::File(a.path.clone()),
        }));
        let mtime = u64::try_from(now.unix()).unwrap_or(0);
        archive::write(&out, entries, mtime, Compression::Gzip)?;
        bundles.push(out);
    }
    media::prepare_media(&media_dir, &anchor, &bundles, &[], None)?;
    let inbox = media_dir.join("inbox");
    let name = |b: &PathBuf| inbox.join(b.file_name().unwrap_or_default());
    Ok(GovernedDemo {
        anchor,
        governed_bundle: name(&bundles[0]),
        wrong_workflow_bundle: name(&bundles[1]),
        media: media_dir,
        state,
    })
}

/// What differs between the demo's releases.
struct Release<'a> {
    dist: &'a Path,
    out: &'a Path,
    version: &'a str,
    commit: &'a str,
    ref_: String,
    revocations: Option<Vec<u8>>,
}

/// The demo's pack options: its release and builder keys, builder id, source and anchor.
fn pack_options(
    r: Release<'_>,
    (release, builder): (&PrivateKey, &PrivateKey),
    anchor_bytes: &[u8],
    now: Timestamp,
) -> Result<PackOptions, String> {
    let copy =
        |k: &PrivateKey| PrivateKey::from_seed(k.key_id().as_str(), &k.signing_key().to_bytes());
    Ok(PackOptions {
        dist: r.dist.to_path_buf(),
        out: r.out.to_path_buf(),
        package: PACKAGE.into(),
        version: r.version.into(),
        commit: r.commit.into(),
        ref_: r.ref_,
        event: "release".into(),
        key_id: release.key_id().to_string(),
        signing_required: true,
        release_keys: vec![copy(release)?],
        minisign_key: None,
        provenance_keys: vec![copy(builder)?],
        builder_id: BUILDER_ID.into(),
        source_repo: SOURCE_REPO.into(),
        workflow_path: pack::DEFAULT_WORKFLOW_PATH.into(),
        trust_roots: vec![anchor_bytes.to_vec()],
        revocations: r.revocations,
        custody: pack::custody("demo: generated in a temporary directory, never on the media"),
        created_at: now,
        anchor: None,
        sigstore: Default::default(),
    })
}
