//! File writing for the connected side: private files created 0600 and never overwritten, every
//! other file replaced atomically (temp file in the same directory, fsync, rename, fsync directory).

use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

fn parent(path: &Path) -> PathBuf {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

fn sync_dir(dir: &Path) {
    // Best effort: some file systems refuse to open or sync a directory.
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
}

/// Creates `path` with mode 0600 from the first byte on, refusing to replace an existing file.
pub fn write_private(path: &Path, bytes: &[u8]) -> Result<(), String> {
    let mut opts = OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        opts.mode(0o600);
    }
    let mut f = opts.open(path).map_err(|e| {
        if e.kind() == std::io::ErrorKind::AlreadyExists {
            format!(
                "{}: already exists; a private key is never overwritten (move it away first)",
                path.display()
            )
        } else {
            format!("{}: {e}", path.display())
        }
    })?;
    f.write_all(bytes)
        .and_then(|_| f.sync_all())
        .map_err(|e| format!("{}: {e}", path.display()))?;
    sync_dir(&parent(path));
    Ok(())
}

/// Writes `path` atomically, replacing any previous file.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), String> {
    write_atomic_with(path, |f| f.write_all(bytes))
}

/// Writes `path` atomically through `fill`, replacing any previous file.
pub fn write_atomic_with(
    path: &Path,
    fill: impl FnOnce(&mut File) -> std::io::Result<()>,
) -> Result<(), String> {
    let dir = parent(path);
    let name = path
        .file_name()
        .ok_or_else(|| format!("{}: not a file path", path.display()))?;
    let mut tmp = dir.join(format!(".{}.tmp", name.to_string_lossy()));
    let mut n = 0;
    while tmp.exists() {
        n += 1;
        tmp = dir.join(format!(".{}.{n}.tmp", name.to_string_lossy()));
    }
    let result = (|| {
        let mut f = OpenOptions::new().write(true).create_new(true).open(&tmp)?;
        fill(&mut f)?;
        f.sync_all()?;
        fs::rename(&tmp, path)
    })();
    if let Err(e) = result {
        let _ = fs::remove_file(&tmp);
        return Err(format!("{}: {e}", path.display()));
    }
    sync_dir(&dir);
    Ok(())
}

/// Creates a directory and its parents.
pub fn create_dir(path: &Path) -> Result<(), String> {
    fs::create_dir_all(path).map_err(|e| format!("{}: {e}", path.display()))
}

/// Writes `path` only if nothing is there yet: the bytes go to a temp file in the same directory,
/// which is then hard-linked to `path` (the link fails when `path` exists, so a file that appears
/// meanwhile is not replaced either) and removed. Published material is never replaced silently.
pub fn write_new(path: &Path, bytes: &[u8]) -> Result<(), String> {
    let exists = |path: &Path| {
        format!(
            "{}: already exists; published material is never replaced silently (move it away, or pass --force)",
            path.display()
        )
    };
    if fs::symlink_metadata(path).is_ok() {
        return Err(exists(path));
    }
    let dir = parent(path);
    let name = path
        .file_name()
        .ok_or_else(|| format!("{}: not a file path", path.display()))?;
    let mut tmp = dir.join(format!(".{}.new.tmp", name.to_string_lossy()));
    let mut n = 0;
    while fs::symlink_metadata(&tmp).is_ok() {
        n += 1;
        tmp = dir.join(format!(".{}.new.{n}.tmp", name.to_string_lossy()));
    }
    let result = (|| {
        let mut f = OpenOptions::new().write(true).create_new(true).open(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        fs::hard_link(&tmp, path)
    })();
    let _ = fs::remove_file(&tmp);
    match result {
        Ok(()) => {
            sync_dir(&dir);
            Ok(())
        }
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Err(exists(path)),
        Err(e) => Err(format!("{}: {e}", path.display())),
    }
}
