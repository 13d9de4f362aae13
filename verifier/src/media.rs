//! Reading the media: which bundles to verify, and the trust material at its root. Nothing is
//! interpreted here; every read is capped and only regular files are read (a FIFO or device
//! node on a hostile stick must not hang or flood the appliance).

use crate::nofollow;
use crate::reason::{Code, Reason};
use crate::trust::Candidate;
use airlock_formats::layout::media as layout;
use std::fs;
use std::path::{Component, Path, PathBuf};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::time::Instant;

/// Largest trust file read from the media.
pub const MAX_TRUST_FILE: u64 = 1 << 20;
/// Most `trust-root/<n>.json` files read.
pub(crate) const MAX_ROOT_FILES: usize = 1024;
/// Most bundles verified in one run.
pub(crate) const MAX_BUNDLES: usize = 4096;

/// Most bytes of trust material read from the media root, all files together (the memory
/// budget: a stick full of 1 MiB "roots" must not fill the appliance's RAM, issue 11 #3).
pub(crate) const MAX_TRUST_TOTAL: u64 = 4 << 20;

/// Reads a regular file of at most `cap` bytes, not through a link, not blocking on a FIFO, and
/// not a file with several hard links ([`crate::nofollow`]).
pub fn read_capped(path: &Path, cap: u64) -> Result<Vec<u8>, String> {
    nofollow::read_capped(path, cap).map_err(|e| match e.raw_os_error() {
        Some(_) => format!("cannot be read: {e}"),
        // Airlock's own refusals read as a sentence: "is not a regular file (a FIFO)…".
        None => e.to_string(),
    })
}

/// The trust material at the media root.
#[derive(Debug, Default)]
pub struct MediaTrust {
    /// `offline-trust-root-bootstrap.json` and `trust-root/<n>.json`.
    pub roots: Vec<Candidate>,
    /// `revocations.json`.
    pub revocations: Vec<Candidate>,
    /// Files that exist but could not be read, each with its code (each rejects every bundle).
    pub problems: Vec<Reason>,
}

/// [`read_trust`], given up at `deadline`: a stick that stops answering must not hang the run
/// (the run's deadline covers all its reading of the media, adversarial #8).
pub fn read_trust_before(media: &Path, deadline: Instant) -> Result<MediaTrust, String> {
    let media = media.to_path_buf();
    before(deadline, "reading the trust files", move || {
        read_trust(&media)
    })
}

/// [`inbox`], given up at `deadline` (see [`read_trust_before`]).
pub fn inbox_before(media: &Path, deadline: Instant) -> Result<Inbox, String> {
    let media = media.to_path_buf();
    before(deadline, "listing inbox/", move || inbox(&media))?
}

/// Runs `read` on a thread of its own and waits for it until `deadline`. When the deadline
/// passes first, the thread is left blocked in the device (nobody joins it), as the bundle
/// stream's hash thread is.
fn before<T: Send + 'static>(
    deadline: Instant,
    what: &str,
    read: impl FnOnce() -> T + Send + 'static,
) -> Result<T, String> {
    let (tx, rx) = mpsc::sync_channel(1);
    std::thread::Builder::new()
        .name("airlock-media".into())
        .spawn(move || {
            let _ = tx.send(read());
        })
        .map_err(|e| format!("{what} on the media: no thread to do it ({e})"))?;
    rx.recv_timeout(deadline.saturating_duration_since(Instant::now()))
        .map_err(|e| match e {
            RecvTimeoutError::Timeout => format!(
                "{what} on the media did not finish before the deadline (the device stopped answering); no verdict was reached"
            ),
            RecvTimeoutError::Disconnected => format!("{what} on the media stopped unexpectedly"),
        })
}

/// Reads the fixed trust paths of the media root (never anything else, #19).
pub fn read_trust(media: &Path) -> MediaTrust {
    let mut out = MediaTrust::default();
    let mut budget = MAX_TRUST_TOTAL;
    let mut take = |rel: String, into_roots: bool, out: &mut MediaTrust| {
        let path = media.join(&rel);
        if fs::symlink_metadata(&path).is_err() {
            return;
        }
        match read_capped(&path, MAX_TRUST_FILE.min(budget)) {
            Ok(bytes) => {
                budget -= bytes.len() as u64;
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
            Err(e) => {
                // The code is the kind of file that could not be read, known here by its place.
                let code = if into_roots {
                    Code::TrustRootInvalid
                } else {
                    Code::RevocationsInvalid
                };
                let e = if budget < MAX_TRUST_FILE {
                    format!("{e}: the trust files on the media may hold {MAX_TRUST_TOTAL} bytes together")
                } else {
                    e
                };
                out.problems
                    .push(Reason::new(code, format!("media:{rel} {e}")))
            }
        }
    };
    take(layout::BOOTSTRAP.into(), true, &mut out);
    take(layout::REVOCATIONS.into(), false, &mut out);
    let dir = media.join(layout::TRUST_ROOT_DIR);
    if fs::symlink_metadata(&dir).is_ok_and(|m| !m.is_dir()) {
        out.problems.push(Reason::new(
            Code::TrustRootInvalid,
            "media:trust-root/ is not a directory (or is a symbolic link)",
        ));
    } else if let Ok(dir) = fs::read_dir(dir) {
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
            out.problems.push(Reason::new(
                Code::TrustRootInvalid,
                format!("media:trust-root/ holds more than {MAX_ROOT_FILES} trust roots"),
            ));
            names.truncate(MAX_ROOT_FILES);
        }
        for n in names {
            take(format!("{}/{n}", layout::TRUST_ROOT_DIR), true, &mut out);
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

/// What `MEDIA/inbox/` holds.
#[derive(Debug, Default)]
pub struct Inbox {
    /// The bundles, MEDIA-relative, in byte-wise order of their names.
    pub bundles: Vec<String>,
    /// Entries that cannot be verified (a name that is not UTF-8; a link, device, FIFO or socket
    /// without a bundle name): each fails the run (exit 2), never a silent success.
    pub problems: Vec<String>,
}

/// Lists `MEDIA/inbox/`. A missing MEDIA or a MEDIA without `inbox/` is an error (exit 2), so
/// that `airlock verify /mnt/usb && promote` cannot pass on an unmounted stick. Names starting
/// with `.` and regular files or directories without a bundle extension are not bundles and are
/// left alone. An entry with a bundle name is verified whatever it is (a link or a device is
/// rejected by the scan, with a receipt).
pub fn inbox(media: &Path) -> Result<Inbox, String> {
    let dir = media.join(layout::INBOX_DIR);
    let fd = nofollow::open_dir(&dir).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound if fs::metadata(media).is_err() => format!(
            "the media {} does not exist or cannot be read (is the stick mounted?)",
            crate::escape::quoted(&media.display().to_string())
        ),
        std::io::ErrorKind::NotFound => format!(
            "the media {} has no inbox/ directory: nothing to verify (put bundles in inbox/)",
            crate::escape::quoted(&media.display().to_string())
        ),
        _ => format!("cannot list inbox/: {e}"),
    })?;
    // Listed through the handle just opened: `inbox` cannot be swapped for a link in between.
    let mut listing = nix::dir::Dir::from_fd(fd).map_err(|e| format!("cannot list inbox/: {e}"))?;
    let mut out = Inbox::default();
    for entry in listing.iter() {
        let entry = entry.map_err(|e| format!("cannot list inbox/: {e}"))?;
        let raw = entry.file_name().to_bytes();
        if raw == b"." || raw == b".." {
            continue;
        }
        let Ok(name) = std::str::from_utf8(raw) else {
            out.problems.push(format!(
                "inbox/{} has a name that is not UTF-8 and cannot be verified; rename or remove it",
                crate::escape::quoted(&String::from_utf8_lossy(raw))
            ));
            continue;
        };
        if name.starts_with('.') {
            continue;
        }
        if is_bundle_name(name) {
            out.bundles.push(format!("{}/{name}", layout::INBOX_DIR));
            continue;
        }
        let kind = match entry.file_type() {
            Some(t) => Some(t),
            // File systems that do not fill d_type: ask.
            None => fs::symlink_metadata(dir.join(name)).ok().map(|m| {
                if m.is_dir() {
                    nix::dir::Type::Directory
                } else if m.is_file() {
                    nix::dir::Type::File
                } else {
                    nix::dir::Type::Symlink
                }
            }),
        };
        if !matches!(kind, Some(nix::dir::Type::File | nix::dir::Type::Directory)) {
            out.problems.push(format!(
                "inbox/{} is a link or a special file and cannot be verified; remove it",
                crate::escape::quoted(name)
            ));
        }
    }
    out.bundles.sort();
    if out.bundles.len() > MAX_BUNDLES {
        return Err(format!("the inbox holds more than {MAX_BUNDLES} bundles"));
    }
    Ok(out)
}

/// Resolves a MEDIA-relative bundle path given on the command line; it must stay inside MEDIA.
pub fn resolve_bundle(media: &Path, rel: &str) -> Result<PathBuf, String> {
    let p = Path::new(rel);
    if rel.is_empty() || !p.components().all(|c| matches!(c, Component::Normal(_))) {
        return Err(format!(
            "bundle path {rel:?} must be relative to MEDIA, without `..`"
        ));
    }
    if nofollow::has_link_below(media, p) {
        return Err(format!(
            "bundle path {} goes through a symbolic link; links are not followed",
            crate::escape::quoted(rel)
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
