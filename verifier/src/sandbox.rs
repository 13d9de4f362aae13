//! Confinement of a verification run (issue 11 #14): Airlock is network-incapable by
//! construction; here it is so by enforcement too, and its writes are limited to where a run
//! writes.
//!
//! [`confine`] applies to the calling thread and every thread or process it starts afterwards
//! (the bundle hash and decoder threads), never to threads that already exist: PID 1 runs the
//! verification on its own thread, so the appliance's main thread can still unmount the stick
//! and power off (Landlock forbids mounts and unmounts to a confined thread).
//!
//! 1. `no_new_privs` (`prctl(PR_SET_NO_NEW_PRIVS)`): no set-uid gain, and a precondition of the
//!    next two.
//! 2. seccomp: `socket(2)` for any family but `AF_UNIX`, and `io_uring_setup(2)` (which can make
//!    sockets without `socket(2)`), fail with `EACCES`. Nothing else is filtered.
//! 3. Landlock: every kind of write (create, write, truncate, remove, rename, link, make a
//!    directory, device, FIFO or socket node) is refused except beneath the given paths; where
//!    the kernel has Landlock ABI 4, TCP bind and connect are refused too. Reads are not
//!    restricted. On a kernel without Landlock the run goes on with a warning
//!    ([`Confinement::warnings`]).

use landlock::{
    path_beneath_rules, Access, AccessFs, AccessNet, Ruleset, RulesetAttr, RulesetCreatedAttr,
    RulesetStatus, ABI,
};
use std::path::{Path, PathBuf};

/// The newest Landlock ABI asked for; older kernels get what they support (best effort).
const LANDLOCK_ABI: ABI = ABI::V5;

/// What [`confine`] achieved.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Confinement {
    /// `no_new_privs` is set.
    pub no_new_privs: bool,
    /// The socket filter is installed.
    pub seccomp: bool,
    /// Landlock restricts writes (fully, or as far as the kernel's ABI allows).
    pub landlock: bool,
    /// What could not be enforced, in sentences for the operator.
    pub warnings: Vec<String>,
}

/// Confines the calling thread (and what it starts): no new privileges, no sockets but
/// `AF_UNIX`, writes only beneath `writable` (paths that do not exist are skipped; a file
/// grants writing that file only). Never fails: what cannot be enforced is reported.
pub fn confine(writable: &[PathBuf]) -> Confinement {
    let mut out = Confinement::default();
    // SAFETY: prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) takes no pointers.
    let rc = unsafe { nix::libc::prctl(nix::libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) };
    out.no_new_privs = rc == 0;
    if !out.no_new_privs {
        out.warnings.push(format!(
            "no_new_privs could not be set: {}",
            std::io::Error::last_os_error()
        ));
    }
    match socket_filter() {
        Ok(()) => out.seccomp = true,
        Err(e) => out
            .warnings
            .push(format!("the seccomp socket filter is not installed: {e}")),
    }
    match restrict_writes(writable) {
        Ok(RulesetStatus::FullyEnforced | RulesetStatus::PartiallyEnforced) => out.landlock = true,
        Ok(_) => out.warnings.push(
            "this kernel has no Landlock: writes are NOT confined to the media's receipts/ and \
             evidence/ and the state directory"
                .into(),
        ),
        Err(e) => out.warnings.push(format!(
            "Landlock could not be applied, writes are NOT confined: {e}"
        )),
    }
    out
}

fn socket_filter() -> Result<(), String> {
    use nix::libc;
    use seccompiler::{
        SeccompAction, SeccompCmpArgLen, SeccompCmpOp, SeccompCondition, SeccompFilter,
        SeccompRule, TargetArch,
    };
    let arch = TargetArch::try_from(std::env::consts::ARCH).map_err(|e| e.to_string())?;
    let not_unix = SeccompCondition::new(
        0,
        SeccompCmpArgLen::Dword,
        SeccompCmpOp::Ne,
        libc::AF_UNIX as u64,
    )
    .and_then(|c| SeccompRule::new(vec![c]))
    .map_err(|e| e.to_string())?;
    let rules = [
        (libc::SYS_socket, vec![not_unix]),
        // An empty rule list matches every call.
        (libc::SYS_io_uring_setup, vec![]),
    ]
    .into_iter()
    .collect();
    let filter = SeccompFilter::new(
        rules,
        SeccompAction::Allow,
        SeccompAction::Errno(libc::EACCES as u32),
        arch,
    )
    .map_err(|e| e.to_string())?;
    let program: seccompiler::BpfProgram = filter.try_into().map_err(|e| format!("{e}"))?;
    seccompiler::apply_filter(&program).map_err(|e| e.to_string())
}

fn restrict_writes(writable: &[PathBuf]) -> Result<RulesetStatus, String> {
    let write = AccessFs::from_write(LANDLOCK_ABI);
    let existing: Vec<&Path> = writable
        .iter()
        .map(PathBuf::as_path)
        .filter(|p| p.exists())
        .collect();
    let status = Ruleset::default()
        .handle_access(write)
        .and_then(|r| r.handle_access(AccessNet::from_all(LANDLOCK_ABI)))
        .and_then(|r| r.create())
        .and_then(|r| r.add_rules(path_beneath_rules(existing, write)))
        .and_then(|r| r.restrict_self())
        .map_err(|e| e.to_string())?;
    Ok(status.ruleset)
}

/// The paths a run may write beneath: the media's `receipts/` and `evidence/` (created here
/// first, when absent, since Landlock rules name existing paths) and the state directory.
/// For a dry run, none.
pub(crate) fn run_paths(media: &Path, state_dir: &Path, writing: bool) -> Vec<PathBuf> {
    if !writing {
        return Vec::new();
    }
    let storage = crate::atomic::RealStorage;
    let mut out = vec![state_dir.to_path_buf()];
    for dir in [crate::receipt::RECEIPTS_DIR, crate::evidence::EVIDENCE_DIR] {
        // A failure here (a file named `evidence`, a read-only stick) is reported by the write
        // that meets it; confinement only leaves that path unwritable.
        if let Ok(p) =
            crate::atomic::ensure_dir(&storage, media, dir, crate::atomic::MODE_DIR_PUBLIC)
        {
            out.push(p);
        }
    }
    out
}
