//! A stick that stops answering (SECURITY A8, adversarial #8), on a real kernel file system: the
//! media is served by a FUSE file system in this process whose reads past a point (or whose
//! directory listing) block until the test lets them fail with EIO, as a USB stick that hangs and
//! is then pulled, or answer again, as one that comes back.
//!
//! The promise: every read of the media the run makes ends at the run's deadline — the bundle
//! scan whatever it was doing (sniffing the format, walking the tar, waiting on a decoder thread)
//! with `ScanAbort::Deadline` and no verdict, the trust files and the `inbox/` listing with an
//! error that says so; the threads blocked in the device are left behind (nobody joins them); and
//! once the device answers, with an error or with data, every Airlock thread ends.
//!
//! Needs root, `/dev/fuse` and the right to mount (the CI machine has them); without them the test
//! says so on stderr and checks nothing.

use airlock_formats::layout::media as layout;
use airlock_verifier::bundle::{self, Limits, NoProgress, ScanAbort};
use airlock_verifier::media;
use fuser::{
    Errno, FileAttr, FileHandle, FileType, Filesystem, Generation, INodeNo, LockOwner, MountOption,
    OpenFlags, ReplyAttr, ReplyData, ReplyDirectory, ReplyEntry, Request,
};
use std::ffi::OsStr;
use std::io::Write as _;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc, Condvar, Mutex};
use std::time::{Duration, Instant, UNIX_EPOCH};

const BUNDLE: &str = "bundle";
const TTL: Duration = Duration::from_secs(60);
/// How long a read of the stick may take.
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

/// What the stick holds at its root: one file, or one directory.
enum Holds {
    /// A file of these bytes; reads touching bytes at or after `stall_at` hang.
    File {
        name: &'static str,
        bytes: Vec<u8>,
        stall_at: u64,
    },
    /// An empty directory whose listing hangs.
    Dir { name: &'static str },
}

struct Stick {
    holds: Holds,
    then: Then,
    device: Arc<Device>,
}

impl Stick {
    /// Blocks until the device is woken; whether the request is then answered.
    fn hang(&self) -> bool {
        self.device.hung.store(true, Ordering::SeqCst);
        let mut hanging = self.device.hanging.lock().unwrap();
        while *hanging {
            hanging = self.device.changed.wait(hanging).unwrap();
        }
        self.then == Then::Answers
    }

    fn child(&self) -> (&'static str, FileAttr) {
        match &self.holds {
            Holds::File { name, bytes, .. } => {
                (name, attr(2, FileType::RegularFile, bytes.len() as u64))
            }
            Holds::Dir { name } => (name, attr(2, FileType::Directory, 0)),
        }
    }
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
        let (child, child_attr) = self.child();
        if parent == INodeNo::ROOT && name == child {
            reply.entry(&TTL, &child_attr, Generation(0));
        } else {
            reply.error(Errno::ENOENT);
        }
    }

    fn getattr(&self, _: &Request, ino: INodeNo, _: Option<FileHandle>, reply: ReplyAttr) {
        match u64::from(ino) {
            1 => reply.attr(&TTL, &attr(1, FileType::Directory, 0)),
            2 => reply.attr(&TTL, &self.child().1),
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
        let Holds::File {
            bytes, stall_at, ..
        } = &self.holds
        else {
            return reply.error(Errno::EISDIR);
        };
        let end = offset.saturating_add(u64::from(size));
        if end > *stall_at && !self.hang() {
            return reply.error(Errno::EIO);
        }
        let len = bytes.len() as u64;
        let (from, to) = (offset.min(len) as usize, end.min(len) as usize);
        reply.data(&bytes[from..to]);
    }

    fn readdir(
        &self,
        _: &Request,
        ino: INodeNo,
        _: FileHandle,
        offset: u64,
        mut reply: ReplyDirectory,
    ) {
        if u64::from(ino) == 2 && !self.hang() {
            return reply.error(Errno::EIO);
        }
        for (i, name) in [".", ".."].into_iter().enumerate().skip(offset as usize) {
            if reply.add(ino, (i + 1) as u64, FileType::Directory, name) {
                break;
            }
        }
        reply.ok();
    }
}

/// Airlock's threads still alive in this process (they are named `airlock-…`: the bundle
/// stream's hash and decoder threads, the media readers).
fn airlock_threads() -> Vec<String> {
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

/// Mounts a stick that holds `holds` and hangs, runs `read` on it with a deadline (it must report
/// that the deadline passed), then lets the device fail or answer again: every Airlock thread
/// must end.
fn read_a_stick_that_hangs(
    what: &str,
    holds: Holds,
    then: Then,
    read: impl FnOnce(&Path, Instant) -> bool + Send + 'static,
) {
    let mountpoint = tempfile::tempdir().unwrap();
    let device = Arc::new(Device {
        hanging: Mutex::new(true),
        ..Device::default()
    });
    let stick = Stick {
        holds,
        then,
        device: Arc::clone(&device),
    };
    let session = fuser::spawn_mount(stick, mountpoint.path(), &config())
        .unwrap_or_else(|e| panic!("{what}: mounting the FUSE stick: {e}"));
    assert_eq!(
        airlock_threads(),
        Vec::<String>::new(),
        "{what}: threads before"
    );

    let started = Instant::now();
    let media = mountpoint.path().to_path_buf();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(read(&media, started + DEADLINE));
    });
    // A reader that blocks with the device must fail this test, not hang it: after a grace
    // period the device is woken so the blocked thread can finish, and the test fails.
    let Ok(deadline_reported) = rx.recv_timeout(DEADLINE + Duration::from_secs(10)) else {
        device.wake();
        panic!("{what}: no answer within 10 s of the deadline: the reader waits with the device");
    };
    let took = started.elapsed();
    assert!(
        device.hung.load(Ordering::SeqCst),
        "{what}: the device never hung; the test proves nothing"
    );
    assert!(
        deadline_reported,
        "{what}: reading a stick that hangs must end at the deadline, not with a result"
    );
    assert!(took >= DEADLINE, "{what}: gave up before the deadline");

    // The stick is pulled or comes back: the hung request returns; every Airlock thread ends
    // (none goes on reading for a run that gave up).
    device.wake();
    let gone = Instant::now();
    while !airlock_threads().is_empty() && gone.elapsed() < Duration::from_secs(20) {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(
        airlock_threads(),
        Vec::<String>::new(),
        "{what}, then {then:?}: threads still run after the device answered"
    );
    session.umount_and_join().unwrap();
}

/// A bundle that hangs from `stall_at`, scanned.
fn scan(what: &str, bundle: &[u8], stall_at: u64, then: Then) {
    let holds = Holds::File {
        name: BUNDLE,
        bytes: bundle.to_vec(),
        stall_at,
    };
    read_a_stick_that_hangs(what, holds, then, |media, deadline| {
        let limits = Limits {
            deadline: Some(deadline),
            ..Limits::default()
        };
        matches!(
            bundle::scan(&media.join(BUNDLE), &limits, &NoProgress),
            Err(ScanAbort::Deadline)
        )
    });
}

#[test]
fn a_stick_that_hangs_ends_every_read_at_the_deadline_and_leaves_no_thread() {
    let root = nix::unistd::Uid::effective().is_root();
    if !root || !std::path::Path::new("/dev/fuse").exists() {
        eprintln!("SKIPPED: mounting a FUSE stick needs root and /dev/fuse");
        return;
    }
    // A container may have both and still refuse mount(2).
    let probe = tempfile::tempdir().unwrap();
    let stick = Stick {
        holds: Holds::Dir { name: "probe" },
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
        scan("tar, hangs at once", &tar, 0, then);
        // In the middle of an entry: the tar walk waits on the file.
        scan("tar, hangs after 1 MiB", &tar, 1 << 20, then);
        // The walk waits on a decoder thread, which waits on the file.
        scan("tar.gz, hangs after 1 MiB", &tgz, 1 << 20, then);
        scan("tar.zst, hangs after 1 MiB", &zst, 1 << 20, then);
        // Before any bundle: the run's reading of the trust files and of inbox/.
        let root = Holds::File {
            name: layout::BOOTSTRAP,
            bytes: b"{}".to_vec(),
            stall_at: 0,
        };
        read_a_stick_that_hangs("the trust root", root, then, |media, deadline| {
            media::read_trust_before(media, deadline)
                .is_err_and(|e| e.contains("did not finish before the deadline"))
        });
        let inbox = Holds::Dir {
            name: layout::INBOX_DIR,
        };
        read_a_stick_that_hangs("inbox/", inbox, then, |media, deadline| {
            media::inbox_before(media, deadline)
                .is_err_and(|e| e.contains("did not finish before the deadline"))
        });
    }
}
