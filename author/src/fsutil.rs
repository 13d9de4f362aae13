//! Path-based writing for the connected side, over the one write primitive
//! (`airlock_verifier::atomic`): temp file in the same directory created with its final mode,
//! fsync, rename (never replacing unless asked), fsync the directory. Private files are 0600 from
//! the first byte and never overwritten; published material is never replaced silently.

use airlock_verifier::atomic::{self, RealStorage, WriteError};
use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

/// Mode of private key files.
const PRIVATE: u32 = 0o600;
/// Mode of everything published (roots, lists, bundles, reports).
const PUBLIC: u32 = 0o644;

/// `path` as (directory, file name).
fn split(path: &Path) -> Result<(PathBuf, &str), String> {
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .ok_or_else(|| format!("{}: not a UTF-8 file path", path.display()))?;
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    Ok((dir, name))
}

fn failed(path: &Path, e: &WriteError) -> String {
    format!("{}: {} failed: {}", path.display(), e.step, e.source)
}

/// Creates `path` with mode 0600 from the first byte on, refusing to replace an existing file.
pub fn write_private(path: &Path, bytes: &[u8]) -> Result<(), String> {
    let (dir, name) = split(path)?;
    match atomic::write_new(&RealStorage, &dir, name, bytes, PRIVATE) {
        Ok(_) => Ok(()),
        Err(e) if e.is_already_exists() => Err(format!(
            "{}: already exists; a private key is never overwritten (move it away first)",
            path.display()
        )),
        Err(e) => Err(failed(path, &e)),
    }
}

/// Writes `path` atomically, replacing any previous file.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), String> {
    write_atomic_with(path, |w| w.write_all(bytes))
}

/// Writes `path` atomically through `fill`, replacing any previous file.
pub fn write_atomic_with(
    path: &Path,
    fill: impl FnOnce(&mut dyn Write) -> io::Result<()>,
) -> Result<(), String> {
    let (dir, name) = split(path)?;
    atomic::replace_with(&RealStorage, &dir, name, PUBLIC, fill)
        .map(drop)
        .map_err(|e| failed(path, &e))
}

/// Creates a directory and its parents.
pub fn create_dir(path: &Path) -> Result<(), String> {
    fs::create_dir_all(path).map_err(|e| format!("{}: {e}", path.display()))
}

/// Writes `path` only if nothing is there yet (the rename never replaces, so a file that appears
/// meanwhile is not replaced either). Published material is never replaced silently.
pub fn write_new(path: &Path, bytes: &[u8]) -> Result<(), String> {
    write_new_with(path, |w| w.write_all(bytes))
}

/// [`write_new`] through `fill` (a bundle copied onto the media).
pub fn write_new_with(
    path: &Path,
    fill: impl FnOnce(&mut dyn Write) -> io::Result<()>,
) -> Result<(), String> {
    let (dir, name) = split(path)?;
    let exists = || {
        format!(
            "{}: already exists; published material is never replaced silently (move it away, or pass --force)",
            path.display()
        )
    };
    if fs::symlink_metadata(path).is_ok() {
        return Err(exists());
    }
    let mut staged =
        atomic::stage_with(&RealStorage, &dir, PUBLIC, fill).map_err(|e| failed(path, &e))?;
    match staged.commit_noreplace(name) {
        Ok(_) => Ok(()),
        Err(e) if e.is_already_exists() => Err(exists()),
        Err(e) => Err(failed(path, &e)),
    }
}
