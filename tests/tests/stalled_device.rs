//! A stick that stops answering mid-read (SECURITY A8), on a real kernel file system: the bundle is
//! served by a FUSE file system in this process whose reads past a point block until the test
//! lets them fail with EIO, as a USB stick that hangs and is then pulled.
//!
//! The promise: the scan returns at its deadline, whatever it was doing (sniffing the format,
//! walking the tar, waiting on the inflate thread), with `ScanAbort::Deadline` and no verdict; the
//! hash thread alone stays blocked in `read(2)` (nobody joins it); and once the device answers,
//! with an error or with data, every thread the scan started ends.
//!
//! Needs root, `/dev/fuse` and the right to mount (the CI machine has them); without them the test
//! says so on stderr and checks nothing.

use airlock_verifier::bundle::{self, Limits, NoProgress, ScanAbort};
use fuser::{
    Errno, FileAttr, FileHandle, FileType, Filesystem, Generation, INodeNo, LockOwner, MountOption,
    OpenFlags, ReplyAttr, ReplyData, ReplyEntry, Request,
};
use std::ffi::OsStr;
use std::io::Write as _;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc, Condvar, Mutex};
use std::time::{Duration, Instant, UNIX_EPOCH};

const FILE: &str = "bundle";
const TTL: Duration = Duration::from_secs(60);
/// How long the scan may read.
const DEADLINE: Duration = Duration::from_secs(2);

/// What the device does after hanging.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Then {
    /// Every read past the stall point fails with EIO (the stick was pulled).
    Fails,
    /// Reads are served again (the stick came back).
    Answers,
}

/// The device: whether it hangs now, and whether a read has hung.
#[derive(Default)]
struct Device {
    hanging: Mutex<bool>,
    changed: Condvar,
    hung: AtomicBool,
}

impl Device {
    /// Reads past the stall point block until this is called.
    fn wake(&self) {
        *self.hanging.lock().unwrap() = false;
        self.changed.notify_all();
    }
}

struct Stick {
    bundle: Vec<u8>,
    /// Reads touching bytes at or after this offset hang.
    stall_at: u64,
    then: Then,
    device: Arc<Device>,
}

fn attr(ino: u64, kind: FileType, size: u64) -> FileAttr {
    FileAttr {
        ino: INodeNo(ino),
        size,
        blocks: size.div_ceil(512),
        atime: UNIX_EPOCH,
        mtime: UNIX_EPOCH,
        ctime: UNIX_EPOCH,
        crtime: UNIX_EPOCH,
        kind,
        perm: if kind == FileType::Directory {
            0o755
        } else {
            0o444
        },
        nlink: if kind == FileType::Directory { 2 } else { 1 },
        uid: 0,
        gid: 0,
        rdev: 0,
        flags: 0,
        blksize: 4096,
    }
}

impl Filesystem for Stick {
    fn lookup(&self, _: &Request, parent: INodeNo, name: &OsStr, reply: ReplyEntry) {
        if parent == INodeNo::ROOT && name == FILE {
            let file = attr(2, FileType::RegularFile, self.bundle.len() as u64);
            reply.entry(&TTL, &file, Generation(0));
        } else {
            reply.error(Errno::ENOENT);
        }
    }

    fn getattr(&self, _: &Request, ino: INodeNo, _: Option<FileHandle>, reply: ReplyAttr) {
        match u64::from(ino) {
            1 => reply.attr(&TTL, &attr(1, FileType::Directory, 0)),
            2 => reply.attr(
                &TTL,
                &attr(2, FileType::RegularFile, self.bundle.len() as u64),
            ),
            _ => reply.error(Errno::ENOENT),
        }
    }

    fn read(
        &self,
        _: &Request,
        _: INodeNo,
        _: FileHandle,
        offset: u64,
        size: u32,
        _: OpenFlags,
        _: Option<LockOwner>,
        reply: ReplyData,
    ) {
        let end = offset.saturating_add(u64::from(size));
        if end > self.stall_at {
            self.device.hung.store(true, Ordering::SeqCst);
            let mut hanging = self.device.hanging.lock().unwrap();
            while *hanging {
                hanging = self.device.changed.wait(hanging).unwrap();
            }
            if self.then == Then::Fails {
                reply.error(Errno::EIO);
                return;
            }
        }
        let len = self.bundle.len() as u64;
        let (from, to) = (offset.min(len) as usize, end.min(len) as usize);
        reply.data(&self.bundle[from..to]);
    }
}

/// The scan's threads still alive in this process (they are named `airlock-…`: the hash thread
/// and the decoders).
fn scan_threads() -> Vec<String> {
    std::fs::read_dir("/proc/self/task")
        .unwrap()
        .flatten()
        .filter_map(|t| std::fs::read_to_string(t.path().join("comm")).ok())
        .map(|name| name.trim().to_string())
        .filter(|name| name.starts_with("airlock-"))
        .collect()
}

/// A 4 MiB release-like tar: four files of incompressible bytes.
fn tar_bundle() -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    let mut x = 0x2545_f491_4f6c_dd1du64;
    for i in 0..4 {
        let data: Vec<u8> = (0..1 << 20)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                x as u8
            })
            .collect();
        let mut h = tar::Header::new_ustar();
        h.set_size(data.len() as u64);
        h.set_mode(0o644);
        h.set_entry_type(tar::EntryType::Regular);
        h.set_cksum();
        b.append_data(&mut h, format!("bin/part-{i}"), data.as_slice())
            .unwrap();
    }
    b.into_inner().unwrap()
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    e.write_all(bytes).unwrap();
    e.finish().unwrap()
}

fn config() -> fuser::Config {
    let mut config = fuser::Config::default();
    config.mount_options = vec![
        MountOption::RO,
        MountOption::FSName("airlock-hanging-stick".into()),
    ];
    config
}

/// Serves `bundle` hanging from `stall_at`, scans it with a deadline, then lets the device fail or
/// answer again.
fn scan_a_stick_that_hangs(what: &str, bundle: Vec<u8>, stall_at: u64, then: Then) {
    let mountpoint = tempfile::tempdir().unwrap();
    let device = Arc::new(Device {
        hanging: Mutex::new(true),
        ..Device::default()
    });
    let stick = Stick {
        bundle,
        stall_at,
        then,
        device: Arc::clone(&device),
    };
    let session = fuser::spawn_mount(stick, mountpoint.path(), &config())
        .unwrap_or_else(|e| panic!("{what}: mounting the FUSE stick: {e}"));
    assert_eq!(
        scan_threads(),
        Vec::<String>::new(),
        "{what}: threads before the scan"
    );

    let started = Instant::now();
    let limits = Limits {
        deadline: Some(started + DEADLINE),
        ..Limits::default()
    };
    let path = mountpoint.path().join(FILE);
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let result = bundle::scan(&path, &limits, &NoProgress);
        let _ = tx.send(matches!(result, Err(ScanAbort::Deadline)));
    });
    // A scan that blocks with the device must fail this test, not hang it: after a grace period
    // the device is woken so the blocked thread can finish, and the test fails.
    let Ok(deadline_reported) = rx.recv_timeout(DEADLINE + Duration::from_secs(10)) else {
        device.wake();
        panic!(
            "{what}: the scan did not return within 10 s of its deadline: it waits with the device"
        );
    };
    let took = started.elapsed();
    assert!(
        device.hung.load(Ordering::SeqCst),
        "{what}: the device never hung; the test proves nothing"
    );
    assert!(
        deadline_reported,
        "{what}: a scan of a stick that hangs must end at its deadline, not with a verdict"
    );
    assert!(
        took >= DEADLINE,
        "{what}: the scan ended before its deadline"
    );

    // The stick is pulled or comes back: the hung read returns; every thread of the scan ends
    // (none goes on reading for a scan that gave up).
    device.wake();
    let gone = Instant::now();
    while !scan_threads().is_empty() && gone.elapsed() < Duration::from_secs(20) {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(
        scan_threads(),
        Vec::<String>::new(),
        "{what}, then {then:?}: threads of the scan still run after the device answered"
    );
    session.umount_and_join().unwrap();
}

#[test]
fn a_stick_that_hangs_ends_the_scan_at_its_deadline_and_leaves_no_thread() {
    let root = nix::unistd::Uid::effective().is_root();
    if !root || !std::path::Path::new("/dev/fuse").exists() {
        eprintln!("SKIPPED: mounting a FUSE stick needs root and /dev/fuse");
        return;
    }
    // A container may have both and still refuse mount(2).
    let probe = tempfile::tempdir().unwrap();
    let stick = Stick {
        bundle: Vec::new(),
        stall_at: u64::MAX,
        then: Then::Fails,
        device: Arc::default(),
    };
    match fuser::spawn_mount(stick, probe.path(), &config()) {
        Ok(session) => session.umount_and_join().unwrap(),
        Err(e) => {
            eprintln!("SKIPPED: this machine cannot mount a FUSE file system ({e})");
            return;
        }
    }
    let tar = tar_bundle();
    let tgz = gzip(&tar);
    let zst = zstd::encode_all(tar.as_slice(), 3).unwrap();
    for then in [Then::Fails, Then::Answers] {
        // Before the first byte: the format sniff waits.
        scan_a_stick_that_hangs("tar, hangs at once", tar.clone(), 0, then);
        // In the middle of an entry: the tar walk waits on the file.
        scan_a_stick_that_hangs("tar, hangs after 1 MiB", tar.clone(), 1 << 20, then);
        // The walk waits on a decoder thread, which waits on the file.
        scan_a_stick_that_hangs("tar.gz, hangs after 1 MiB", tgz.clone(), 1 << 20, then);
        scan_a_stick_that_hangs("tar.zst, hangs after 1 MiB", zst.clone(), 1 << 20, then);
    }
}
