//! `airlock extract`: the verified bytes out of a promoted bundle, without a second archive parser.
//!
//! The receipt is checked against the appliance key; the bundle is streamed once more by the same
//! walk that verified it ([`crate::bundle::scan_with`]); its whole-file SHA-256 must be the
//! receipt's, so a bundle changed since the verification (a swapped stick) is refused. Exactly the
//! receipt's artifacts are written, each one's digest and size checked as it is written, into a
//! fresh temp directory beside the target: every name is created relative to a directory handle
//! (`mkdirat`, `openat(O_CREAT|O_EXCL|O_NOFOLLOW)`), so no link is followed and nothing lands
//! outside it, nothing is overwritten. Files get 0755 when the archive marks them executable,
//! otherwise 0644. Only a complete, matching tree is renamed to the target (which must not
//! exist); any failure removes the temp tree.

use crate::atomic::{RealStorage, Storage as _};
use crate::bundle::{self, Contents, Limits, NoProgress};
use crate::keys::hex;
use crate::receipt::{self, ArtifactRef};
use crate::verdict::Verdict;
use airlock_core::digest::Sha256Digest;
use nix::errno::Errno;
use nix::fcntl::{openat, OFlag};
use nix::sys::stat::{fchmod, mkdirat, Mode};
use std::collections::BTreeMap;
use std::fs::File;
use std::io::Write as _;
use std::os::fd::{AsFd, OwnedFd};
use std::path::{Path, PathBuf};

/// What was extracted.
#[derive(Debug)]
pub struct Extracted {
    /// The new directory.
    pub out: PathBuf,
    /// Package and version from the receipt.
    pub package: Option<String>,
    /// Release version.
    pub version: Option<String>,
    /// Files written.
    pub files: usize,
    /// Bytes written.
    pub bytes: u64,
    /// Files written 0755.
    pub executables: usize,
}

/// Extracts `bundle` into the new directory `out`, as its promote `receipt` (checked against the
/// appliance key entry `key_entry`) describes it.
pub fn extract(
    bundle: &Path,
    receipt: &[u8],
    key_entry: &[u8],
    out: &Path,
) -> Result<Extracted, String> {
    let p = receipt::verify_receipt(receipt, key_entry).map_err(|e| format!("receipt: {e}"))?;
    extract_verified(bundle, &p, out)
}

/// [`extract`] with a receipt payload the caller has verified (e.g. against the site's enrolled
/// appliances, [`crate::appliances`]).
pub fn extract_verified(
    bundle: &Path,
    p: &receipt::ReceiptPayload,
    out: &Path,
) -> Result<Extracted, String> {
    if p.verdict != Verdict::Promote {
        return Err(format!(
            "the receipt is a {} receipt: only a promoted bundle is extracted",
            p.verdict
        ));
    }
    let want_sha = p
        .bundle
        .sha256
        .clone()
        .ok_or("the receipt names no bundle digest")?;
    let mut expected = BTreeMap::new();
    for a in &p.artifacts {
        airlock_core::name::check(&a.name)
            .map_err(|e| format!("the receipt names an unsafe artifact {:?} ({e:?})", a.name))?;
        if expected.insert(a.name.clone(), a).is_some() {
            return Err(format!("the receipt lists {} twice", a.name));
        }
    }
    if std::fs::symlink_metadata(out).is_ok() {
        return Err(format!(
            "{}: already exists; extraction writes a new directory only",
            out.display()
        ));
    }
    let name = out
        .file_name()
        .ok_or_else(|| format!("{}: not a directory name", out.display()))?
        .to_string_lossy()
        .into_owned();
    let parent = match out.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let tmp = parent.join(format!(".{name}.extract-{}.tmp", std::process::id()));
    let parent_fd = openat(
        nix::fcntl::AT_FDCWD,
        &parent,
        OFlag::O_DIRECTORY | OFlag::O_RDONLY | OFlag::O_CLOEXEC,
        Mode::empty(),
    )
    .map_err(|e| format!("{}: {e}", parent.display()))?;
    let tmp_name = tmp.file_name().unwrap_or_default();
    mkdirat(&parent_fd, tmp_name, Mode::from_bits_truncate(0o700))
        .map_err(|e| format!("{}: {e}", tmp.display()))?;
    let result = (|| {
        let root = open_dir(&parent_fd, Path::new(tmp_name))
            .map_err(|e| format!("{}: {e}", tmp.display()))?;
        let mut w = Writer {
            root: &root,
            expected: &expected,
            current: None,
            written: 0,
            bytes: 0,
            executables: 0,
            error: None,
        };
        let scan = bundle::scan_with(bundle, &Limits::default(), &NoProgress, &mut w)
            .map_err(|_| format!("{}: reading stalled", bundle.display()))?;
        let got_sha = scan.inventory.bundle_sha256.map(|d| hex(&d));
        if got_sha.as_deref() != Some(want_sha.as_str()) {
            return Err(format!(
                "{} is not the bundle the receipt promoted: its SHA-256 is {}, the receipt's {want_sha} (the file changed since it was verified, or the receipt is for another bundle)",
                bundle.display(),
                got_sha.as_deref().unwrap_or("unreadable")
            ));
        }
        if let Some(r) = scan.reasons.first() {
            return Err(format!("{}: {}", bundle.display(), r.message));
        }
        let Writer {
            written,
            bytes,
            executables,
            error,
            ..
        } = w;
        if let Some(e) = error {
            return Err(e);
        }
        if written != expected.len() {
            return Err(format!(
                "the bundle holds {written} of the receipt's {} artifacts",
                expected.len()
            ));
        }
        fchmod(&root, Mode::from_bits_truncate(0o755)).map_err(|e| e.to_string())?;
        let _ = File::from(root).sync_all();
        RealStorage
            .rename_noreplace(&tmp, out)
            .map_err(|e| format!("{}: {e}", out.display()))?;
        let _ = File::from(parent_fd.try_clone().map_err(|e| e.to_string())?).sync_all();
        Ok(Extracted {
            out: out.to_path_buf(),
            package: p.package.clone(),
            version: p.version.clone(),
            files: written,
            bytes,
            executables,
        })
    })();
    if result.is_err() {
        let _ = std::fs::remove_dir_all(&tmp);
    }
    result
}

fn open_dir(dir: &impl AsFd, name: &Path) -> nix::Result<OwnedFd> {
    openat(
        dir,
        name,
        OFlag::O_DIRECTORY | OFlag::O_NOFOLLOW | OFlag::O_RDONLY | OFlag::O_CLOEXEC,
        Mode::empty(),
    )
}

/// The file being written.
struct Current {
    file: File,
    name: String,
    want: String,
    size: u64,
    executable: bool,
}

/// Writes the artifacts as the walk streams them; the first problem is kept and stops writing.
struct Writer<'a> {
    root: &'a OwnedFd,
    expected: &'a BTreeMap<String, &'a ArtifactRef>,
    current: Option<Current>,
    written: usize,
    bytes: u64,
    executables: usize,
    error: Option<String>,
}

impl Writer<'_> {
    /// Creates `name` (a canonical relative name) under the root, its directories as needed.
    fn create(&self, name: &str) -> Result<File, String> {
        let fail = |e: Errno| format!("{name}: {e}");
        let mut parts: Vec<&str> = name.split('/').collect();
        let file = parts.pop().ok_or_else(|| format!("{name}: empty name"))?;
        let mut dir: Option<OwnedFd> = None;
        for part in parts {
            let next = {
                let at: &dyn AsFd = match &dir {
                    Some(d) => d,
                    None => self.root,
                };
                let at = at.as_fd();
                match mkdirat(at, part, Mode::from_bits_truncate(0o755)) {
                    Ok(()) | Err(Errno::EEXIST) => {}
                    Err(e) => return Err(fail(e)),
                }
                open_dir(&at, Path::new(part)).map_err(fail)?
            };
            dir = Some(next);
        }
        let at: &dyn AsFd = match &dir {
            Some(d) => d,
            None => self.root,
        };
        let fd = openat(
            at.as_fd(),
            file,
            OFlag::O_CREAT | OFlag::O_EXCL | OFlag::O_WRONLY | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC,
            Mode::from_bits_truncate(0o600),
        )
        .map_err(fail)?;
        Ok(File::from(fd))
    }

    fn fail(&mut self, e: String) {
        if self.error.is_none() {
            self.error = Some(e);
        }
        self.current = None;
    }
}

impl Contents for Writer<'_> {
    fn begin(&mut self, name: &str, size: u64, mode: u32) -> bool {
        if self.error.is_some() {
            return false;
        }
        let Some(a) = self.expected.get(name) else {
            if !bundle::is_metadata(name) {
                self.fail(format!(
                    "the bundle holds {name}, which the receipt does not list"
                ));
            }
            return false;
        };
        if a.size != size {
            self.fail(format!(
                "{name} is {size} bytes in the bundle, {} in the receipt",
                a.size
            ));
            return false;
        }
        match self.create(name) {
            Ok(file) => {
                self.current = Some(Current {
                    file,
                    name: name.to_owned(),
                    want: a.sha256.clone(),
                    size,
                    executable: mode & 0o111 != 0,
                });
                true
            }
            Err(e) => {
                self.fail(e);
                false
            }
        }
    }

    fn data(&mut self, bytes: &[u8]) {
        if let Some(c) = self.current.as_mut() {
            if let Err(e) = c.file.write_all(bytes) {
                let e = format!("{}: {e}", c.name);
                self.fail(e);
            }
        }
    }

    fn end(&mut self, sha256: &Sha256Digest) {
        let Some(c) = self.current.take() else {
            return;
        };
        if hex(sha256) != c.want {
            self.fail(format!(
                "{}: its SHA-256 is {}, the receipt's {}",
                c.name,
                hex(sha256),
                c.want
            ));
            return;
        }
        let mode = if c.executable { 0o755 } else { 0o644 };
        if let Err(e) = fchmod(&c.file, Mode::from_bits_truncate(mode))
            .map_err(|e| e.to_string())
            .and_then(|_| c.file.sync_all().map_err(|e| e.to_string()))
        {
            self.fail(format!("{}: {e}", c.name));
            return;
        }
        self.written += 1;
        self.bytes = self.bytes.saturating_add(c.size);
        if c.executable {
            self.executables += 1;
        }
    }
}
