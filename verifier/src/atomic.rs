//! The one write primitive (formats §6, adversarial #54–#60).
//!
//! Everything Airlock writes, on the media, in its own state or (`airlock_author`'s `fsutil`) on
//! the connected side, goes through a [`Storage`] and the helpers here:
//!
//! - [`write_new`]: temp file in the same directory (`O_CREAT|O_EXCL`, the final mode from the
//!   start), write, fsync, rename *without replacing* (`renameat2(RENAME_NOREPLACE)`), fsync the
//!   directory. A pulled stick holds either no file or the whole file; an existing name is never
//!   overwritten (vfat has no journal, #55).
//! - [`write_first_free`]: the same, trying a list of names until one is free (receipt naming).
//! - [`replace`] / [`replace_with`]: the same, but the rename replaces: the appliance's own state
//!   files, and on the connected side outputs the operator asked to replace.
//! - [`stage_with`] / [`replace_with`] take the bytes from a writer (a bundle being packed).
//! - [`append_line`]: `O_APPEND`, one `write`, fsync (and the directory when the file is new).
//!
//! Temp files are named [`TEMP_PREFIX`] followed by `[0-9a-f-]` only, so [`remove_stale_temps`]
//! (run before writing into a directory) can remove what a power cut left (#54) without ever
//! touching a file it did not create: every other name Airlock writes contains a `.` after the
//! prefix position (`….receipt.json`, `….json`).
//!
//! An fsync that fails (EIO, ENOSPC, anything) is a hard error, never retried (#56): after a
//! failed fsync the kernel may have dropped the dirty pages and marked them clean, so a retry that
//! "succeeds" proves nothing (wiki.postgresql.org/wiki/Fsync_Errors). The helpers remove their temp
//! file on the way out and return the error; the caller stops the run (exit 2).
//!
//! Reads are not part of [`Storage`]: they go straight to the file system. A test storage that
//! injects faults works on a real directory, so reads see exactly what it left there.

use crate::nofollow;
use nix::fcntl::OFlag;
use std::ffi::OsString;
use std::fmt;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Read as _, Seek as _, SeekFrom, Write};
use std::os::unix::fs::{DirBuilderExt as _, OpenOptionsExt as _};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// Prefix of every temp file Airlock creates.
pub const TEMP_PREFIX: &str = ".airlock-tmp-";

/// Mode of files written to the media and public state files.
pub const MODE_PUBLIC: u32 = 0o644;
/// Mode of private state files (the secret key, state.json, the state's log).
pub const MODE_PRIVATE: u32 = 0o600;
/// Mode of directories Airlock creates on the media.
pub const MODE_DIR_PUBLIC: u32 = 0o755;
/// Mode of the state directory.
pub const MODE_DIR_PRIVATE: u32 = 0o700;

/// Most names [`write_first_free`] tries before giving up.
pub(crate) const MAX_NAME_ATTEMPTS: usize = 10_000;

/// An open file being written.
pub trait WriteFile: Send {
    /// Writes all of `bytes` (a short write is retried by the implementation, an error is not).
    fn write_all(&mut self, bytes: &[u8]) -> io::Result<()>;
    /// `fsync(2)`: data and metadata reach stable storage, or an error.
    fn sync(&mut self) -> io::Result<()>;
}

/// The file-system operations writing needs. Object-safe; [`RealStorage`] is the real one, tests
/// substitute one that injects faults.
pub trait Storage: Send + Sync {
    /// Creates `path` exclusively (`O_CREAT|O_EXCL|O_WRONLY`, never following a symlink) with
    /// `mode`. Fails with `AlreadyExists` if the name exists.
    fn create_new(&self, path: &Path, mode: u32) -> io::Result<Box<dyn WriteFile>>;
    /// Opens `path` for appending (`O_APPEND`, `O_NOFOLLOW`); creates it with `mode` when absent.
    /// Returns the file and whether it was created.
    fn open_append(&self, path: &Path, mode: u32) -> io::Result<(Box<dyn WriteFile>, bool)>;
    /// Renames `from` to `to`, failing with `AlreadyExists` if `to` exists. Never replaces.
    fn rename_noreplace(&self, from: &Path, to: &Path) -> io::Result<()>;
    /// Renames `from` to `to`, atomically replacing `to` (state files only).
    fn rename_replace(&self, from: &Path, to: &Path) -> io::Result<()>;
    /// fsyncs a directory, making the names created, renamed or removed in it durable.
    fn sync_dir(&self, dir: &Path) -> io::Result<()>;
    /// Creates one directory with `mode` (`AlreadyExists` when it exists).
    fn create_dir(&self, path: &Path, mode: u32) -> io::Result<()>;
    /// Removes a file (a temp file of ours, never anything else).
    fn remove_file(&self, path: &Path) -> io::Result<()>;
    /// Cuts `path` to `len` bytes and fsyncs it (the state log's torn tail only).
    fn truncate(&self, path: &Path, len: u64) -> io::Result<()>;
    /// `syncfs(2)` on the file system holding `path`: call once at the end of a run, before the
    /// operator is told the stick may be pulled.
    fn sync_filesystem(&self, path: &Path) -> io::Result<()>;
}

/// The real file system.
#[derive(Debug, Default, Clone, Copy)]
pub struct RealStorage;

struct RealFile(File);

impl WriteFile for RealFile {
    fn write_all(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.0.write_all(bytes)
    }
    fn sync(&mut self) -> io::Result<()> {
        self.0.sync_all()
    }
}

fn create_flags() -> OFlag {
    OFlag::O_WRONLY | OFlag::O_CREAT | OFlag::O_EXCL
}

fn nofollow() -> i32 {
    nix::fcntl::OFlag::O_NOFOLLOW.bits() | nix::fcntl::OFlag::O_CLOEXEC.bits()
}

fn errno(e: nix::errno::Errno) -> io::Error {
    io::Error::from_raw_os_error(e as i32)
}

impl Storage for RealStorage {
    fn create_new(&self, path: &Path, mode: u32) -> io::Result<Box<dyn WriteFile>> {
        // Inside a handle on the parent opened without following a link: `receipts/` swapped
        // for a symlink mid-run cannot send the file elsewhere (issue 11 #12).
        let (parent, name) = nofollow::split(path)?;
        let dir = nofollow::open_dir(parent)?;
        let f = nofollow::open_in(&dir, name, create_flags(), mode)?;
        Ok(Box::new(RealFile(f)))
    }

    fn open_append(&self, path: &Path, mode: u32) -> io::Result<(Box<dyn WriteFile>, bool)> {
        let (parent, name) = nofollow::split(path)?;
        let dir = nofollow::open_dir(parent)?;
        loop {
            // O_NONBLOCK: a FIFO planted as the log must not block the open; it is then refused
            // as not a regular file, as is a log with a second hard link (which would let a
            // stick append into any file of its file system).
            match nofollow::open_in(
                &dir,
                name,
                OFlag::O_WRONLY | OFlag::O_APPEND | OFlag::O_NONBLOCK,
                0,
            ) {
                Ok(f) => {
                    nofollow::check_regular(&f)?;
                    let _ = nix::fcntl::fcntl(&f, nix::fcntl::FcntlArg::F_SETFL(OFlag::O_APPEND));
                    return Ok((Box::new(RealFile(f)), false));
                }
                // ENXIO: a FIFO with no reader.
                Err(e) if e.raw_os_error() == Some(nix::libc::ENXIO) => {
                    return Err(io::Error::other(
                        "is a FIFO; only regular files are written",
                    ))
                }
                Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                Err(e) => return Err(e),
            }
            match nofollow::open_in(&dir, name, create_flags() | OFlag::O_APPEND, mode) {
                Ok(f) => return Ok((Box::new(RealFile(f)), true)),
                // Created between the two calls: open it again.
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
                Err(e) => return Err(e),
            }
        }
    }

    fn rename_noreplace(&self, from: &Path, to: &Path) -> io::Result<()> {
        #[cfg(all(target_os = "linux", target_env = "gnu"))]
        {
            use nix::fcntl::{renameat2, RenameFlags};
            let ((fd, fname), (td, tname)) = (open_parent(from)?, open_parent(to)?);
            match renameat2(&fd, fname, &td, tname, RenameFlags::RENAME_NOREPLACE) {
                Ok(()) => return Ok(()),
                // The file system or kernel does not support the flag: fall back below.
                Err(nix::errno::Errno::EINVAL | nix::errno::Errno::ENOSYS) => {}
                Err(e) => return Err(errno(e)),
            }
        }
        #[cfg(all(target_os = "linux", target_env = "musl"))]
        {
            // musl has no renameat2 wrapper (nix gates it to glibc), and the appliance's media is
            // vfat, where the link-based fallback cannot work: make the system call directly.
            use std::os::fd::AsRawFd as _;
            use std::os::unix::ffi::OsStrExt;
            let c = |p: &Path| {
                std::ffi::CString::new(p.as_os_str().as_bytes())
                    .map_err(|_| io::Error::from(io::ErrorKind::InvalidInput))
            };
            let ((fd, fname), (td, tname)) = (open_parent(from)?, open_parent(to)?);
            let (f, t) = (c(Path::new(fname))?, c(Path::new(tname))?);
            // SAFETY: both pointers are valid NUL-terminated strings that outlive the call; the
            // call takes no other memory.
            let rc = unsafe {
                nix::libc::syscall(
                    nix::libc::SYS_renameat2,
                    fd.as_raw_fd(),
                    f.as_ptr(),
                    td.as_raw_fd(),
                    t.as_ptr(),
                    nix::libc::RENAME_NOREPLACE,
                )
            };
            if rc == 0 {
                return Ok(());
            }
            let e = io::Error::last_os_error();
            if !matches!(
                e.raw_os_error(),
                Some(nix::libc::EINVAL | nix::libc::ENOSYS)
            ) {
                return Err(e);
            }
        }
        rename_noreplace_fallback(from, to)
    }

    fn rename_replace(&self, from: &Path, to: &Path) -> io::Result<()> {
        let ((fd, fname), (td, tname)) = (open_parent(from)?, open_parent(to)?);
        nix::fcntl::renameat(&fd, fname, &td, tname).map_err(errno)
    }

    fn sync_dir(&self, dir: &Path) -> io::Result<()> {
        let d = OpenOptions::new()
            .read(true)
            .custom_flags(nix::fcntl::OFlag::O_DIRECTORY.bits() | nofollow())
            .open(dir)?;
        d.sync_all()
    }

    fn create_dir(&self, path: &Path, mode: u32) -> io::Result<()> {
        fs::DirBuilder::new().mode(mode).create(path)
    }

    fn remove_file(&self, path: &Path) -> io::Result<()> {
        fs::remove_file(path)
    }

    fn truncate(&self, path: &Path, len: u64) -> io::Result<()> {
        let f = OpenOptions::new()
            .write(true)
            .custom_flags(nofollow())
            .open(path)?;
        f.set_len(len)?;
        f.sync_all()
    }

    fn sync_filesystem(&self, path: &Path) -> io::Result<()> {
        let f = File::open(path)?;
        #[cfg(any(target_os = "linux", target_os = "android"))]
        {
            nix::unistd::syncfs(&f).map_err(errno)
        }
        #[cfg(not(any(target_os = "linux", target_os = "android")))]
        {
            f.sync_all()
        }
    }
}

/// A handle on `path`'s parent directory, opened without following a link, and the final name.
fn open_parent(path: &Path) -> io::Result<(std::os::fd::OwnedFd, &std::ffi::OsStr)> {
    let (parent, name) = nofollow::split(path)?;
    Ok((nofollow::open_dir(parent)?, name))
}

/// Where `renameat2(RENAME_NOREPLACE)` is unsupported: `link(from, to)` (which fails with EEXIST
/// rather than replace) then `unlink(from)`. File systems without hard links (vfat, exfat) have
/// supported `RENAME_NOREPLACE` since Linux 3.15 through the generic VFS check, so they do not get
/// here on the appliance; on a system where neither works, a check for the target followed by a
/// plain rename is the last resort. That check races only with another writer of the same
/// directory, and on the appliance Airlock is the only process that writes to the media.
fn rename_noreplace_fallback(from: &Path, to: &Path) -> io::Result<()> {
    match fs::hard_link(from, to) {
        Ok(()) => return fs::remove_file(from),
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => return Err(e),
        Err(e)
            if matches!(
                e.raw_os_error(),
                Some(c) if c == nix::errno::Errno::EPERM as i32
                    || c == nix::errno::Errno::EOPNOTSUPP as i32
                    || c == nix::errno::Errno::EMLINK as i32
            ) => {}
        Err(e) => return Err(e),
    }
    match fs::symlink_metadata(to) {
        Ok(_) => Err(io::Error::new(
            io::ErrorKind::AlreadyExists,
            format!("{} exists", to.display()),
        )),
        Err(e) if e.kind() == io::ErrorKind::NotFound => fs::rename(from, to),
        Err(e) => Err(e),
    }
}

/// What went wrong while writing, with the step and the path (for a clear operator message).
#[derive(Debug)]
pub struct WriteError {
    /// What Airlock was doing (`"fsync"`, `"rename"`, …).
    pub step: &'static str,
    /// The file or directory concerned.
    pub path: PathBuf,
    /// The OS error.
    pub source: io::Error,
}

impl WriteError {
    fn new(step: &'static str, path: &Path, source: io::Error) -> Self {
        Self {
            step,
            path: path.to_owned(),
            source,
        }
    }

    /// Whether the failure is "the name is taken" (nothing was written).
    pub fn is_already_exists(&self) -> bool {
        self.source.kind() == io::ErrorKind::AlreadyExists
    }
}

impl fmt::Display for WriteError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "could not write {} ({} failed: {})",
            self.path.display(),
            self.step,
            self.source
        )
    }
}

impl std::error::Error for WriteError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.source)
    }
}

/// Checks that `name` is one plain path component: not empty, not `.` or `..`, no `/`, `\`, NUL or
/// other control character. Names used as paths never leave their directory (#17).
pub fn check_basename(name: &str) -> Result<(), String> {
    if name.is_empty() || name == "." || name == ".." {
        return Err(format!("{name:?} is not a file name"));
    }
    if let Some(c) = name
        .chars()
        .find(|c| *c == '/' || *c == '\\' || c.is_control())
    {
        return Err(format!(
            "{name:?} is not a plain file name (contains {c:?})"
        ));
    }
    if name.len() > 255 {
        return Err(format!("{name:?} is longer than 255 bytes"));
    }
    Ok(())
}

fn invalid(path: &Path, msg: String) -> WriteError {
    WriteError::new(
        "name check",
        path,
        io::Error::new(io::ErrorKind::InvalidInput, msg),
    )
}

/// Whether `name` is one of our temp files: [`TEMP_PREFIX`] then `[0-9a-f-]+` only.
pub(crate) fn is_temp_name(name: &str) -> bool {
    name.strip_prefix(TEMP_PREFIX).is_some_and(|rest| {
        !rest.is_empty()
            && rest
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b) || b == b'-')
    })
}

fn temp_name() -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let mut rnd = [0u8; 6];
    // Uniqueness comes from O_EXCL; the random part only avoids collisions with a leftover.
    let _ = getrandom::fill(&mut rnd);
    format!(
        "{TEMP_PREFIX}{}-{n:x}-{}",
        std::process::id(),
        crate::keys::hex(&rnd)
    )
}

/// A temp file whose bytes are written and fsynced, not yet renamed into place. Dropping it
/// without committing removes it (best effort; a leftover is removed by the next run).
pub struct Staged<'a> {
    storage: &'a dyn Storage,
    dir: PathBuf,
    temp: Option<PathBuf>,
}

impl Staged<'_> {
    fn discard(&mut self) {
        if let Some(t) = self.temp.take() {
            let _ = self.storage.remove_file(&t);
        }
    }

    /// Renames the temp file to `dir/name` without replacing, then fsyncs the directory. On
    /// `AlreadyExists` the staged file is kept so another name can be tried.
    pub fn commit_noreplace(&mut self, name: &str) -> Result<PathBuf, WriteError> {
        let to = self.dir.join(name);
        check_basename(name).map_err(|m| invalid(&to, m))?;
        let Some(temp) = self.temp.clone() else {
            return Err(invalid(&to, "staged file already committed".into()));
        };
        if let Err(e) = self.storage.rename_noreplace(&temp, &to) {
            let err = WriteError::new("rename", &to, e);
            if !err.is_already_exists() {
                self.discard();
            }
            return Err(err);
        }
        self.temp = None;
        self.storage
            .sync_dir(&self.dir)
            .map_err(|e| WriteError::new("directory fsync", &self.dir, e))?;
        Ok(to)
    }

    /// Renames the temp file to `dir/name`, replacing it, then fsyncs the directory.
    fn commit_replace(&mut self, name: &str) -> Result<PathBuf, WriteError> {
        let to = self.dir.join(name);
        let Some(temp) = self.temp.take() else {
            return Err(invalid(&to, "staged file already committed".into()));
        };
        if let Err(e) = self.storage.rename_replace(&temp, &to) {
            let _ = self.storage.remove_file(&temp);
            return Err(WriteError::new("rename", &to, e));
        }
        self.storage
            .sync_dir(&self.dir)
            .map_err(|e| WriteError::new("directory fsync", &self.dir, e))?;
        Ok(to)
    }
}

impl Drop for Staged<'_> {
    fn drop(&mut self) {
        self.discard();
    }
}

/// Writes `bytes` to a new temp file in `dir` with `mode` and fsyncs it.
pub fn stage<'a>(
    storage: &'a dyn Storage,
    dir: &Path,
    bytes: &[u8],
    mode: u32,
) -> Result<Staged<'a>, WriteError> {
    stage_with(storage, dir, mode, |w| w.write_all(bytes))
}

/// [`stage`] for bytes produced while writing (a bundle being packed): `fill` writes them.
pub fn stage_with<'a>(
    storage: &'a dyn Storage,
    dir: &Path,
    mode: u32,
    fill: impl FnOnce(&mut dyn Write) -> io::Result<()>,
) -> Result<Staged<'a>, WriteError> {
    let mut staged = None;
    for _ in 0..16 {
        let temp = dir.join(temp_name());
        match storage.create_new(&temp, mode) {
            Ok(f) => {
                staged = Some((temp, f));
                break;
            }
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(WriteError::new("create", &temp, e)),
        }
    }
    let Some((temp, mut file)) = staged else {
        return Err(WriteError::new(
            "create",
            dir,
            io::Error::new(io::ErrorKind::AlreadyExists, "no free temp file name"),
        ));
    };
    let out = Staged {
        storage,
        dir: dir.to_owned(),
        temp: Some(temp.clone()),
    };
    fill(&mut Writer(file.as_mut())).map_err(|e| WriteError::new("write", &temp, e))?;
    file.sync()
        .map_err(|e| WriteError::new("fsync", &temp, e))?;
    drop(file);
    // Returning `out` keeps the temp file; every early return above dropped it (removing it).
    Ok(out)
}

/// A [`WriteFile`] as an [`io::Write`], for [`stage_with`]'s `fill`.
struct Writer<'a>(&'a mut dyn WriteFile);

impl Write for Writer<'_> {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        self.0.write_all(bytes).map(|()| bytes.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Writes `dir/name` atomically; fails (writing nothing) if the name exists. Never overwrites.
pub fn write_new(
    storage: &dyn Storage,
    dir: &Path,
    name: &str,
    bytes: &[u8],
    mode: u32,
) -> Result<PathBuf, WriteError> {
    check_basename(name).map_err(|m| invalid(&dir.join(name), m))?;
    let mut staged = stage(storage, dir, bytes, mode)?;
    staged.commit_noreplace(name)
}

/// Writes `bytes` atomically under the first of `names` that is free; returns that name.
pub fn write_first_free(
    storage: &dyn Storage,
    dir: &Path,
    names: impl IntoIterator<Item = String>,
    bytes: &[u8],
    mode: u32,
) -> Result<String, WriteError> {
    let mut staged = stage(storage, dir, bytes, mode)?;
    let mut last = None;
    for name in names.into_iter().take(MAX_NAME_ATTEMPTS) {
        if fs::symlink_metadata(dir.join(&name)).is_ok() {
            continue;
        }
        match staged.commit_noreplace(&name) {
            Ok(_) => return Ok(name),
            Err(e) if e.is_already_exists() => last = Some(e),
            Err(e) => return Err(e),
        }
    }
    Err(last.unwrap_or_else(|| {
        WriteError::new(
            "rename",
            dir,
            io::Error::new(
                io::ErrorKind::AlreadyExists,
                "every candidate name is taken",
            ),
        )
    }))
}

/// Writes `dir/name` atomically, replacing an existing file. For the appliance's own state files
/// only: nothing on the media is ever replaced.
pub fn replace(
    storage: &dyn Storage,
    dir: &Path,
    name: &str,
    bytes: &[u8],
    mode: u32,
) -> Result<PathBuf, WriteError> {
    replace_with(storage, dir, name, mode, |w| w.write_all(bytes))
}

/// [`replace`] for bytes produced while writing: `fill` writes them.
pub fn replace_with(
    storage: &dyn Storage,
    dir: &Path,
    name: &str,
    mode: u32,
    fill: impl FnOnce(&mut dyn Write) -> io::Result<()>,
) -> Result<PathBuf, WriteError> {
    check_basename(name).map_err(|m| invalid(&dir.join(name), m))?;
    let mut staged = stage_with(storage, dir, mode, fill)?;
    staged.commit_replace(name)
}

/// Appends `line` and a newline to `path` in one `write` with `O_APPEND`, then fsyncs (and
/// fsyncs the directory when the file was created). `line` must not contain a newline. When the
/// file is not empty and does not end with a newline (a torn tail), a newline is written first:
/// existing bytes are never changed.
pub fn append_line(
    storage: &dyn Storage,
    path: &Path,
    line: &[u8],
    mode: u32,
) -> Result<(), WriteError> {
    if line.contains(&b'\n') {
        return Err(invalid(path, "a log line cannot contain a newline".into()));
    }
    let needs_newline = match last_byte(path) {
        Ok(b) => b.is_some_and(|b| b != b'\n'),
        Err(e) if e.kind() == io::ErrorKind::NotFound => false,
        Err(e) => return Err(WriteError::new("read", path, e)),
    };
    let mut buf = Vec::with_capacity(line.len() + 2);
    if needs_newline {
        buf.push(b'\n');
    }
    buf.extend_from_slice(line);
    buf.push(b'\n');
    let (mut file, created) = storage
        .open_append(path, mode)
        .map_err(|e| WriteError::new("open for append", path, e))?;
    file.write_all(&buf)
        .map_err(|e| WriteError::new("append", path, e))?;
    file.sync().map_err(|e| WriteError::new("fsync", path, e))?;
    if created {
        let dir = parent(path);
        storage
            .sync_dir(dir)
            .map_err(|e| WriteError::new("directory fsync", dir, e))?;
    }
    Ok(())
}

fn parent(path: &Path) -> &Path {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    }
}

/// The last byte of a file (None when empty), not following a symlink.
pub(crate) fn last_byte(path: &Path) -> io::Result<Option<u8>> {
    let (mut f, meta) = nofollow::open_read(path)?;
    let len = meta.len();
    if len == 0 {
        return Ok(None);
    }
    f.seek(SeekFrom::Start(len - 1))?;
    let mut b = [0u8; 1];
    f.read_exact(&mut b)?;
    Ok(Some(b[0]))
}

/// Makes sure `parent/name` is a directory Airlock may write into, creating it with `mode` (and
/// fsyncing `parent`) when absent. A symbolic link there is refused: a hostile stick could point
/// `receipts` anywhere (#17).
pub fn ensure_dir(
    storage: &dyn Storage,
    parent: &Path,
    name: &str,
    mode: u32,
) -> Result<PathBuf, WriteError> {
    let path = parent.join(name);
    check_basename(name).map_err(|m| invalid(&path, m))?;
    match fs::symlink_metadata(&path) {
        Ok(m) if m.file_type().is_dir() => return Ok(path),
        Ok(_) => {
            return Err(WriteError::new(
                "directory check",
                &path,
                io::Error::other("exists and is not a directory (or is a symbolic link)"),
            ))
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => {}
        Err(e) => return Err(WriteError::new("stat", &path, e)),
    }
    match storage.create_dir(&path, mode) {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
            return ensure_dir(storage, parent, name, mode);
        }
        Err(e) => return Err(WriteError::new("create directory", &path, e)),
    }
    storage
        .sync_dir(parent)
        .map_err(|e| WriteError::new("directory fsync", parent, e))?;
    Ok(path)
}

/// Removes leftover temp files ([`is_temp_name`]) from `dir`; returns the names removed. A missing
/// directory has none. Call once per directory before writing into it.
pub fn remove_stale_temps(storage: &dyn Storage, dir: &Path) -> Result<Vec<OsString>, WriteError> {
    let entries = match fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(WriteError::new("list directory", dir, e)),
    };
    let mut removed = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|e| WriteError::new("list directory", dir, e))?;
        let name = entry.file_name();
        if name.to_str().is_some_and(is_temp_name) {
            let p = entry.path();
            match storage.remove_file(&p) {
                Ok(()) => removed.push(name),
                Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                Err(e) => return Err(WriteError::new("remove temp file", &p, e)),
            }
        }
    }
    if !removed.is_empty() {
        storage
            .sync_dir(dir)
            .map_err(|e| WriteError::new("directory fsync", dir, e))?;
    }
    Ok(removed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn temp_names_never_match_what_airlock_writes() {
        assert!(is_temp_name(&temp_name()));
        assert!(!is_temp_name(".airlock-tmp-"));
        assert!(!is_temp_name(".airlock-tmp-1.reject.receipt.json"));
        assert!(!is_temp_name("airlock-tmp-1"));
    }

    #[test]
    fn basenames() {
        for bad in ["", ".", "..", "a/b", "../x", "/abs", "a\\b", "a\0b", "a\nb"] {
            assert!(check_basename(bad).is_err(), "{bad:?}");
        }
        assert!(check_basename("cavra-v0.1.0.tar.gz").is_ok());
        assert!(check_basename("..x").is_ok());
    }
}
