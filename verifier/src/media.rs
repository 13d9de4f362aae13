//! Reading the media: which bundles to verify, and the trust material at its root. Nothing is
//! interpreted here; every read is capped and only regular files are read (a FIFO or device
//! node on a hostile stick must not hang or flood the appliance).

use crate::trust::Candidate;
use std::fs;
use std::io::Read;
use std::path::{Component, Path, PathBuf};

/// Largest trust file read from the media.
pub const MAX_TRUST_FILE: u64 = 1 << 20;
/// Most `trust-root/<n>.json` files read.
pub const MAX_ROOT_FILES: usize = 1024;
/// Most bundles verified in one run.
pub const MAX_BUNDLES: usize = 4096;

/// Reads a regular file of at most `cap` bytes.
pub fn read_capped(path: &Path, cap: u64) -> Result<Vec<u8>, String> {
    let meta = fs::symlink_metadata(path).map_err(|e| format!("cannot be read: {e}"))?;
    if !meta.file_type().is_file() {
        return Err("is not a regular file".into());
    }
    if meta.len() > cap {
        return Err(format!(
            "is {} bytes, more than the {cap}-byte limit",
            meta.len()
        ));
    }
    let mut out = Vec::new();
    fs::File::open(path)
        .and_then(|f| f.take(cap + 1).read_to_end(&mut out))
        .map_err(|e| format!("cannot be read: {e}"))?;
    if out.len() as u64 > cap {
        return Err(format!("grew past the {cap}-byte limit while being read"));
    }
    Ok(out)
}

/// The trust material at the media root.
#[derive(Debug, Default)]
pub struct MediaTrust {
    /// `offline-trust-root-bootstrap.json` and `trust-root/<n>.json`.
    pub roots: Vec<Candidate>,
    /// `revocations.json`.
    pub revocations: Vec<Candidate>,
    /// Files that exist but could not be read (each rejects every bundle).
    pub problems: Vec<(String, String)>,
}

/// Reads the fixed trust paths of the media root (never anything else, #19).
pub fn read_trust(media: &Path) -> MediaTrust {
    let mut out = MediaTrust::default();
    let take = |rel: String, into_roots: bool, out: &mut MediaTrust| {
        let path = media.join(&rel);
        if fs::symlink_metadata(&path).is_err() {
            return;
        }
        match read_capped(&path, MAX_TRUST_FILE) {
            Ok(bytes) => {
                let c = Candidate {
                    source: format!("media:{rel}"),
                    bytes,
                };
                if into_roots {
                    out.roots.push(c)
                } else {
                    out.revocations.push(c)
                }
            }
            Err(e) => out.problems.push((rel, e)),
        }
    };
    take("offline-trust-root-bootstrap.json".into(), true, &mut out);
    take("revocations.json".into(), false, &mut out);
    if let Ok(dir) = fs::read_dir(media.join("trust-root")) {
        let mut names: Vec<String> = dir
            .filter_map(|e| e.ok())
            .filter_map(|e| e.file_name().into_string().ok())
            .filter(|n| {
                n.strip_suffix(".json")
                    .is_some_and(|v| !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit()))
            })
            .collect();
        names.sort();
        if names.len() > MAX_ROOT_FILES {
            out.problems.push((
                "trust-root/".into(),
                format!("holds more than {MAX_ROOT_FILES} trust roots"),
            ));
            names.truncate(MAX_ROOT_FILES);
        }
        for n in names {
            take(format!("trust-root/{n}"), true, &mut out);
        }
    }
    out
}

/// Whether a file name is a bundle by its extension.
pub fn is_bundle_name(name: &str) -> bool {
    [".tar", ".tar.gz", ".tgz", ".tar.zst", ".tar.xz"]
        .iter()
        .any(|ext| name.len() > ext.len() && name.ends_with(ext))
}

/// The bundles of `MEDIA/inbox/`, in byte-wise order of their names (MEDIA-relative).
pub fn inbox(media: &Path) -> Result<Vec<String>, String> {
    let dir = media.join("inbox");
    let entries = match fs::read_dir(&dir) {
        Ok(d) => d,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(format!("cannot list {}: {e}", dir.display())),
    };
    let mut names: Vec<String> = entries
        .filter_map(|e| e.ok())
        .filter_map(|e| e.file_name().into_string().ok())
        .filter(|n| is_bundle_name(n) && !n.starts_with('.'))
        .map(|n| format!("inbox/{n}"))
        .collect();
    names.sort();
    if names.len() > MAX_BUNDLES {
        return Err(format!("the inbox holds more than {MAX_BUNDLES} bundles"));
    }
    Ok(names)
}

/// Resolves a MEDIA-relative bundle path given on the command line; it must stay inside MEDIA.
pub fn resolve_bundle(media: &Path, rel: &str) -> Result<PathBuf, String> {
    let p = Path::new(rel);
    if rel.is_empty() || !p.components().all(|c| matches!(c, Component::Normal(_))) {
        return Err(format!(
            "bundle path {rel:?} must be relative to MEDIA, without `..`"
        ));
    }
    Ok(media.join(p))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bundle_paths_stay_inside_media() {
        let m = Path::new("/m");
        assert!(resolve_bundle(m, "inbox/a.tar").is_ok());
        for bad in ["/etc/x.tar", "../x.tar", "inbox/../../x.tar", ""] {
            assert!(resolve_bundle(m, bad).is_err(), "{bad}");
        }
        assert!(
            is_bundle_name("a.tgz")
                && is_bundle_name("a.tar.gz")
                && !is_bundle_name(".tar")
                && !is_bundle_name("a.zip")
        );
    }
}
