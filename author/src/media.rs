//! Preparing media for the appliance (`airlock_formats::layout::media`): bundles in `inbox/`, the trust material at
//! the media root (`offline-trust-root-bootstrap.json` = the newest root, `trust-root/<n>.json`
//! for every other version above the anchor, `revocations.json`). The material is checked first
//! with the verifier's own chain walk from the anchor, so a stick that cannot work is not made.

use super::archive::Compression;
use super::fsutil;
use super::pack::files;
use airlock_formats::document::revocations::Revocations;
use airlock_formats::document::trust_root::TrustRoot;
use airlock_formats::layout::media as layout;
use airlock_formats::timestamp::Timestamp;
use airlock_verifier::trust::{revocations, root, Candidate};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// What was written.
#[derive(Debug, Clone)]
pub struct MediaReport {
    /// Media-relative paths written.
    pub written: Vec<String>,
    /// The trust root version the appliance will reach.
    pub trust_root_version: u64,
    /// The revocation list version carried.
    pub revocations_version: Option<u64>,
}

fn read(p: &Path) -> Result<Vec<u8>, String> {
    std::fs::read(p).map_err(|e| format!("{}: {e}", p.display()))
}

fn put(dir: &Path, rel: &str, bytes: &[u8], written: &mut Vec<String>) -> Result<(), String> {
    let path = dir.join(rel);
    if let Some(p) = path.parent() {
        fsutil::create_dir(p)?;
    }
    if let Ok(existing) = std::fs::read(&path) {
        if existing == bytes {
            written.push(rel.into());
            return Ok(());
        }
        return Err(format!(
            "{}: already on the media with different content; the tool does not overwrite media files",
            path.display()
        ));
    }
    fsutil::write_atomic(&path, bytes)?;
    written.push(rel.into());
    Ok(())
}

/// Prepares `dir` as media: `bundles` copied into `inbox/`, `roots` (trust roots newer than the
/// anchor; older ones are skipped) and `revocations` at the root. `anchor` is the trust root the
/// appliance already holds.
pub fn prepare_media(
    dir: &Path,
    anchor: &Path,
    bundles: &[PathBuf],
    roots: &[PathBuf],
    revocations: Option<&Path>,
) -> Result<MediaReport, String> {
    let anchor_bytes = read(anchor)?;
    let anchor_root =
        TrustRoot::parse(&anchor_bytes).map_err(|e| format!("{}: {e}", anchor.display()))?;
    let mut by_version: BTreeMap<u64, Vec<u8>> = BTreeMap::new();
    for p in roots {
        let b = read(p)?;
        let r = TrustRoot::parse(&b).map_err(|e| format!("{}: {e}", p.display()))?;
        if r.version() <= anchor_root.version() {
            continue;
        }
        if let Some(prev) = by_version.insert(r.version(), b.clone()) {
            if prev != b {
                return Err(format!(
                    "two different trust roots of version {} given",
                    r.version()
                ));
            }
        }
    }
    let candidates: Vec<Candidate> = by_version
        .iter()
        .map(|(v, b)| Candidate {
            source: format!("media:trust-root/{v}.json"),
            bytes: b.clone(),
        })
        .collect();
    let now = Timestamp::now();
    let explain = |what: &str, r: Vec<airlock_formats::reason::Reason>| {
        format!(
            "{what}:\n{}",
            r.iter()
                .map(|r| format!("  {}: {}", r.code.as_str(), r.message))
                .collect::<Vec<_>>()
                .join("\n")
        )
    };
    let trusted = root::establish(&root::RootInputs {
        anchor: &anchor_bytes,
        candidates: &candidates,
        highest_accepted: 0,
        now,
    })
    .map_err(|r| explain("the appliance would not accept these trust roots", r))?;
    let rev_bytes = revocations.map(read).transpose()?;
    let mut revocations_version = None;
    if let Some(b) = &rev_bytes {
        let l = Revocations::parse(b).map_err(|e| format!("revocations: {e}"))?;
        revocations_version = Some(l.version());
        revocations::establish(
            &trusted,
            &[Candidate {
                source: "media:revocations.json".into(),
                bytes: b.clone(),
            }],
            0,
            now,
        )
        .map_err(|r| explain("the appliance would not accept this revocation list", r))?;
    }
    for b in bundles {
        Compression::for_path(b)?;
    }
    fsutil::create_dir(&dir.join(layout::INBOX_DIR))?;
    let mut written = Vec::new();
    // The bootstrap file is the newest root (the anchor itself when nothing newer is carried).
    let newest = by_version
        .values()
        .next_back()
        .cloned()
        .unwrap_or_else(|| anchor_bytes.clone());
    put(dir, files::BOOTSTRAP, &newest, &mut written)?;
    let last = by_version.keys().next_back().copied();
    for (v, b) in &by_version {
        if Some(*v) != last {
            put(
                dir,
                &format!("{}/{v}.json", layout::TRUST_ROOT_DIR),
                b,
                &mut written,
            )?;
        }
    }
    if let Some(b) = &rev_bytes {
        put(dir, files::REVOCATIONS, b, &mut written)?;
    }
    for b in bundles {
        let name = b
            .file_name()
            .ok_or_else(|| format!("{}: not a file", b.display()))?
            .to_string_lossy()
            .to_string();
        let dest = dir.join(layout::INBOX_DIR).join(&name);
        if dest.exists() && read(&dest)? != read(b)? {
            return Err(format!(
                "{}: already on the media with different content",
                dest.display()
            ));
        }
        if !dest.exists() {
            let mut src = std::fs::File::open(b).map_err(|e| format!("{}: {e}", b.display()))?;
            fsutil::write_new_with(&dest, |w| std::io::copy(&mut src, w).map(drop))?;
        }
        written.push(format!("{}/{name}", layout::INBOX_DIR));
    }
    Ok(MediaReport {
        written,
        trust_root_version: trusted.version(),
        revocations_version,
    })
}
