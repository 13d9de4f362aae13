//! One run at a time holds a state directory (issue 11 #2): two runs on one state would each save
//! a `state.json` that misses the other's decisions and fork the appliance's log.
//!
//! The lock is a `flock(2)` on the state directory itself (no lock file to leave behind):
//! exclusive for a run that writes, shared for `--no-write`. A run that finds it taken says so on
//! stderr and waits until the holder ends (a run is bounded by its deadline); the kernel releases
//! the lock when the holder exits or is killed, so a crash never leaves it stuck.

use std::fs::{File, OpenOptions};
use std::io::{self, Write as _};
use std::os::fd::AsRawFd as _;
use std::os::unix::fs::OpenOptionsExt as _;
use std::path::Path;

/// A held lock on a state directory; released when dropped (the descriptor is closed).
#[derive(Debug)]
pub struct StateLock {
    _dir: File,
}

fn flock(f: &File, op: i32) -> io::Result<()> {
    loop {
        // SAFETY: `f` is an open descriptor for the whole call; flock takes no memory.
        let rc = unsafe { nix::libc::flock(f.as_raw_fd(), op) };
        if rc == 0 {
            return Ok(());
        }
        let e = io::Error::last_os_error();
        if e.kind() != io::ErrorKind::Interrupted {
            return Err(e);
        }
    }
}

impl StateLock {
    /// Locks `dir` (exclusive when `exclusive`, else shared), waiting for another run to finish.
    pub fn acquire(dir: &Path, exclusive: bool) -> io::Result<Self> {
        let f = OpenOptions::new()
            .read(true)
            // The state directory may itself be a symlink (StateDir::open follows it too).
            .custom_flags(
                nix::fcntl::OFlag::O_DIRECTORY.bits() | nix::fcntl::OFlag::O_CLOEXEC.bits(),
            )
            .open(dir)?;
        let op = if exclusive {
            nix::libc::LOCK_EX
        } else {
            nix::libc::LOCK_SH
        };
        match flock(&f, op | nix::libc::LOCK_NB) {
            Ok(()) => {}
            Err(e) if e.raw_os_error() == Some(nix::libc::EWOULDBLOCK) => {
                // Best effort: a closed stderr must not stop the run.
                let _ = writeln!(
                    io::stderr(),
                    "airlock: another run holds the state directory {}; waiting for it to finish",
                    dir.display()
                );
                flock(&f, op)?;
            }
            Err(e) => return Err(e),
        }
        Ok(Self { _dir: f })
    }
}
