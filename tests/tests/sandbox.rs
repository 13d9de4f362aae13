//! The confinement of a run (issue 11 #14), proven from inside: a thread confined by
//! `airlock_verifier::sandbox::confine` (directly, or by a whole `run::verify_media_confined`) tries to
//! open sockets and to write outside the allowed paths. Confinement is per thread, so each test
//! confines a thread of its own and the test harness stays free.

mod support;

use airlock_verifier::bundle::NoProgress;
use airlock_verifier::sandbox::{self, Confinement};
use std::io::ErrorKind;
use std::os::unix::net::UnixDatagram;
use std::path::Path;
use support::*;

fn in_thread<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    std::thread::spawn(f).join().unwrap()
}

fn status_field(name: &str) -> String {
    let s = std::fs::read_to_string("/proc/thread-self/status").unwrap();
    s.lines()
        .find_map(|l| l.strip_prefix(&format!("{name}:")))
        .unwrap_or("")
        .trim()
        .to_string()
}

/// Whether this kernel enforces Landlock (the sandbox degrades with a warning otherwise, and the
/// write checks below cannot hold).
fn landlock_enforced(c: &Confinement) -> bool {
    if !c.landlock {
        eprintln!("WARNING: no Landlock on this kernel; write confinement not tested: {c:?}");
    }
    c.landlock
}

fn try_write(p: &Path) -> std::io::Result<()> {
    std::fs::write(p, b"x")
}

fn assert_denied(p: &Path) {
    let e = try_write(p).expect_err(&format!("writing {} must be refused", p.display()));
    assert_eq!(
        e.kind(),
        ErrorKind::PermissionDenied,
        "{}: {e}",
        p.display()
    );
    assert!(!p.exists());
}

fn assert_no_network() {
    for addr in ["127.0.0.1:0", "[::1]:0"] {
        let e = std::net::TcpListener::bind(addr).expect_err("a TCP socket must be refused");
        assert_eq!(e.kind(), ErrorKind::PermissionDenied, "{addr}: {e}");
        let e = std::net::UdpSocket::bind(addr).expect_err("a UDP socket must be refused");
        assert_eq!(e.kind(), ErrorKind::PermissionDenied, "{addr}: {e}");
    }
    // AF_UNIX stays (the C library and the tests' own plumbing may need it).
    UnixDatagram::unbound().expect("AF_UNIX sockets are allowed");
}

#[test]
fn confine_refuses_sockets_and_writes_outside_the_allowed_paths() {
    let tmp = tempfile::tempdir().unwrap();
    let allowed = tmp.path().join("allowed");
    let outside = tmp.path().join("outside");
    std::fs::create_dir_all(allowed.join("sub")).unwrap();
    std::fs::create_dir_all(&outside).unwrap();
    std::fs::write(outside.join("existing"), b"keep").unwrap();
    let (a, o) = (allowed.clone(), outside.clone());
    let c = in_thread(move || {
        // Before: this thread may do anything.
        assert!(std::net::TcpListener::bind("127.0.0.1:0").is_ok());
        let c = sandbox::confine(std::slice::from_ref(&a));
        assert!(c.no_new_privs && c.seccomp, "{c:?}");
        assert_eq!(status_field("NoNewPrivs"), "1");
        assert_eq!(status_field("Seccomp"), "2");
        assert_no_network();
        if landlock_enforced(&c) {
            try_write(&a.join("ok")).expect("writing beneath an allowed path");
            try_write(&a.join("sub/ok")).expect("and beneath its subdirectories");
            assert_denied(&o.join("new"));
            assert_denied(&a.parent().unwrap().join("beside"));
            let e = std::fs::OpenOptions::new()
                .append(true)
                .open(o.join("existing"))
                .expect_err("appending outside");
            assert_eq!(e.kind(), ErrorKind::PermissionDenied);
            assert!(std::fs::remove_file(o.join("existing")).is_err());
            assert!(std::fs::create_dir(o.join("d")).is_err());
            assert!(std::os::unix::fs::symlink("/etc/passwd", o.join("l")).is_err());
            // Reading is not restricted.
            assert_eq!(std::fs::read(o.join("existing")).unwrap(), b"keep");
        }
        c
    });
    assert!(c.warnings.iter().all(|w| w.contains("Landlock")), "{c:?}");
    // Only the confined thread: the test's own thread still writes anywhere.
    try_write(&outside.join("unconfined")).unwrap();
    assert_eq!(std::fs::read(outside.join("existing")).unwrap(), b"keep");
}

/// A whole confined run promotes and writes its receipt, evidence and state as usual; from
/// inside it (the same thread, after the run) no socket can be opened and nothing can be
/// written outside `receipts/`, `evidence/` and the state directory: not the inbox, not the
/// media root, not beside the media.
#[test]
fn a_confined_run_still_verifies_and_cannot_reach_out() {
    let kit = Kit::new();
    let b = kit.bundle("a.tar", &Spec::new("v0.1.0"));
    let opts = kit.opts();
    let media = kit.media.clone();
    let state = kit.state.clone();
    let outside = kit.tmp.path().join("outside");
    std::fs::create_dir_all(&outside).unwrap();
    let (rep, c) = in_thread(move || {
        let (rep, c) = airlock_verifier::run::verify_media_confined(&opts, &NoProgress).unwrap();
        assert_eq!(status_field("NoNewPrivs"), "1");
        assert_eq!(status_field("Seccomp"), "2");
        assert_no_network();
        if landlock_enforced(&c) {
            try_write(&media.join("receipts/extra")).expect("receipts/ is writable");
            try_write(&media.join("evidence/extra")).expect("evidence/ is writable");
            try_write(&state.join("extra")).expect("the state directory is writable");
            assert_denied(&media.join("inbox/planted.tar"));
            assert_denied(&media.join("planted"));
            assert_denied(&outside.join("planted"));
            assert_denied(&media.parent().unwrap().join("planted"));
        }
        (rep, c)
    });
    assert_promoted(result(&rep, &b));
    assert!(result(&rep, &b).receipt.is_some());
    assert!(c.no_new_privs && c.seccomp, "{c:?}");
    assert_eq!(kit.state_data().packages.len(), 1);
}

/// A dry run is allowed no write at all.
#[test]
fn a_confined_dry_run_writes_nowhere() {
    let kit = Kit::new();
    let b = kit.bundle("a.tar", &Spec::new("v0.1.0"));
    let mut opts = kit.opts();
    opts.write = WriteMode::DryRun;
    let media = kit.media.clone();
    let before = tree(&kit.media);
    let rep = in_thread(move || {
        let (rep, c) = airlock_verifier::run::verify_media_confined(&opts, &NoProgress).unwrap();
        if landlock_enforced(&c) {
            assert_denied(&media.join("planted"));
            assert!(std::fs::create_dir(media.join("receipts")).is_err());
        }
        rep
    });
    assert_promoted(result(&rep, &b));
    assert_eq!(tree(&kit.media), before);
}
