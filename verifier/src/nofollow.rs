//! Opening files on a hostile medium (issue 11 #12): never through a symbolic link, never
//! blocking on a FIFO, and only a regular file with a single link.
//!
//! A path is opened as its parent directory (`O_DIRECTORY|O_NOFOLLOW`: the directory's own name
//! may not be a link, so `receipts/` swapped for a symlink mid-run is refused) and then the name
//! inside that directory handle, through `openat2(RESOLVE_BENEATH|RESOLVE_NO_SYMLINKS)` where the
//! kernel has it (Linux 5.6+) and `openat(O_NOFOLLOW)` otherwise. The roots a run works under
//! (MEDIA and the state directory) are resolved once at the start of the run
//! ([`crate::run`]), so a legitimate link in the operator's own path is followed there and
//! nowhere else. The link count is checked after opening: a hard link makes two names for one
//! file, and appending to a hard-linked "log" would append to whatever file it shares.

use nix::errno::Errno;
use nix::fcntl::{OFlag, OpenHow, ResolveFlag};
use nix::sys::stat::Mode;
use std::ffi::OsStr;
use std::fs::{File, Metadata};
use std::io::{self, Read as _};
use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::fs::{FileTypeExt as _, MetadataExt as _};
use std::path::Path;

fn errno(e: Errno) -> io::Error {
    io::Error::from_raw_os_error(e as i32)
}

/// Splits `path` into its parent directory (`.` when none) and its final name.
pub fn split(path: &Path) -> io::Result<(&Path, &OsStr)> {
    let name = path.file_name().ok_or_else(|| {
        io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("{} has no file name", path.display()),
        )
    })?;
    let parent = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    Ok((parent, name))
}

/// Opens directory `path` (read-only) without following a link in its final component.
pub fn open_dir(path: &Path) -> io::Result<OwnedFd> {
    nix::fcntl::open(
        path,
        OFlag::O_RDONLY | OFlag::O_DIRECTORY | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC,
        Mode::empty(),
    )
    .map_err(|e| match e {
        Errno::ELOOP | Errno::ENOTDIR => io::Error::other(format!(
            "{} is not a directory (or is a symbolic link)",
            path.display()
        )),
        e => errno(e),
    })
}

/// Opens `name` inside `dir` with `flags` (O_NOFOLLOW and O_CLOEXEC are added), refusing links.
pub fn open_in(dir: impl AsFd, name: &OsStr, flags: OFlag, mode: u32) -> io::Result<File> {
    let flags = flags | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC;
    let mode = Mode::from_bits_truncate(mode as nix::libc::mode_t);
    let how = OpenHow::new().flags(flags).mode(mode).resolve(
        ResolveFlag::RESOLVE_BENEATH
            | ResolveFlag::RESOLVE_NO_SYMLINKS
            | ResolveFlag::RESOLVE_NO_MAGICLINKS,
    );
    let fd = match nix::fcntl::openat2(dir.as_fd(), name, how) {
        // No openat2 (kernel before 5.6, or a seccomp filter that refuses it): the name is a
        // single component, so O_NOFOLLOW alone refuses the same links.
        Err(Errno::ENOSYS | Errno::EPERM | Errno::E2BIG) => {
            nix::fcntl::openat(dir.as_fd(), name, flags, mode)
        }
        r => r,
    };
    fd.map(File::from).map_err(|e| match e {
        Errno::ELOOP | Errno::EXDEV => {
            io::Error::other("is a symbolic link; links are not followed")
        }
        e => errno(e),
    })
}

/// What a non-regular file is, for messages.
pub fn describe(meta: &Metadata) -> &'static str {
    let kind = meta.file_type();
    if kind.is_file() {
        "a regular file"
    } else if kind.is_fifo() {
        "a FIFO"
    } else if kind.is_char_device() {
        "a character device"
    } else if kind.is_block_device() {
        "a block device"
    } else if kind.is_socket() {
        "a socket"
    } else if kind.is_dir() {
        "a directory"
    } else if kind.is_symlink() {
        "a symbolic link"
    } else {
        "not a regular file"
    }
}

/// Refuses anything but a regular file with exactly one link.
pub fn check_regular(file: &File) -> io::Result<Metadata> {
    let meta = file.metadata()?;
    if !meta.file_type().is_file() {
        return Err(io::Error::other(format!(
            "is not a regular file: it is {}; only regular files are read or written",
            describe(&meta)
        )));
    }
    if meta.nlink() > 1 {
        return Err(io::Error::other(format!(
            "has {} hard links; a file with more than one name is refused",
            meta.nlink()
        )));
    }
    Ok(meta)
}

/// Opens `path` for reading: no link in its last two components, no blocking open (a FIFO would
/// wait for a writer), a regular file with one link. Returns the file and its metadata.
pub fn open_read(path: &Path) -> io::Result<(File, Metadata)> {
    let (parent, name) = split(path)?;
    let dir = open_dir(parent)?;
    let file = open_in(
        &dir,
        name,
        OFlag::O_RDONLY | OFlag::O_NONBLOCK | OFlag::O_NOCTTY,
        0,
    )?;
    let meta = check_regular(&file)?;
    // Regular files ignore O_NONBLOCK; clear it anyway so reads behave as usual.
    let _ = nix::fcntl::fcntl(&file, nix::fcntl::FcntlArg::F_SETFL(OFlag::empty()));
    Ok((file, meta))
}

/// Whether a directory on the way from `root` to `rel` is a symbolic link (the final name is
/// checked when it is opened).
pub fn has_link_below(root: &Path, rel: &Path) -> bool {
    let mut p = root.to_path_buf();
    let mut dirs = rel.components();
    dirs.next_back();
    dirs.any(|c| {
        p.push(c);
        std::fs::symlink_metadata(&p).is_ok_and(|m| m.file_type().is_symlink())
    })
}

/// Reads a file of at most `cap` bytes through [`open_read`]: the one capped reader, for the media
/// and the state alike. A file larger than `cap`, or one that grows past it while being read, is an
/// error (its `raw_os_error` is `None`; the message is a sentence).
pub fn read_capped(path: &Path, cap: u64) -> io::Result<Vec<u8>> {
    let (f, meta) = open_read(path)?;
    if meta.len() > cap {
        return Err(io::Error::other(format!(
            "is {} bytes, more than the {cap}-byte limit",
            meta.len()
        )));
    }
    let mut out = Vec::with_capacity(meta.len() as usize);
    f.take(cap + 1).read_to_end(&mut out)?;
    if out.len() as u64 > cap {
        return Err(io::Error::other(format!(
            "grew past the {cap}-byte limit while being read"
        )));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;

    #[test]
    fn links_fifos_and_hard_links_are_refused() {
        let d = tempfile::tempdir().unwrap();
        let f = d.path().join("f");
        std::fs::write(&f, b"x").unwrap();
        assert!(open_read(&f).is_ok());
        symlink(&f, d.path().join("l")).unwrap();
        assert!(open_read(&d.path().join("l")).is_err());
        symlink(d.path(), d.path().join("dl")).unwrap();
        assert!(open_read(&d.path().join("dl/f")).is_err());
        nix::unistd::mkfifo(&d.path().join("p"), Mode::from_bits_truncate(0o600)).unwrap();
        assert!(open_read(&d.path().join("p")).is_err());
        std::fs::hard_link(&f, d.path().join("h")).unwrap();
        assert!(open_read(&f).is_err());
    }
}
