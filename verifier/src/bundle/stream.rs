//! The pipeline that moves bundle bytes between threads.
//!
//! ```text
//!  .tar:     file ──▶ [hash thread: whole-file SHA-256]
//!              └────▶ [scan thread: tar walk, entry SHA-256]
//!
//!  .tar.gz:  file ──▶ [hash thread: whole-file SHA-256]
//!              └────▶ [inflate: gzip member, trailer] ──▶ [scan thread]
//! ```
//!
//! The file's chunks sit in a small window ([`Ring`]) that both consumers read in order: the
//! whole-file hash (the receipt binds it) and the scan (the tar walk hashing each entry, or a
//! decoder feeding it). A chunk is a fixed-size buffer shared read-only (`Arc`), so the two
//! digests run on two cores over the same bytes without copying them. Whichever consumer would
//! otherwise wait reads the next chunk itself, so the copy out of the page cache is shared too;
//! the scan side reads only what is cached (it must stop at its deadline even on a stalled stick).
//! Decoders hand their output on through bounded channels of recycled chunks. Memory stays flat
//! whatever the size or compression ratio of the bundle. Each stage passes a chunk on before
//! working on it and drops its own reference before it can receive the next one, so the last
//! stage's reference is always the last and recycling never fails.
//!
//! The hash thread always goes on to the end of the file (the receipt binds the SHA-256 of the
//! file as stored), even when the scan stopped early; only an abandoned scan (deadline) stops it.
//! It may stay blocked in `read(2)` on a stalled device: nobody joins it.

use crate::reason::{Code, Reason};
use airlock_core::digest::{Sha256, Sha256Digest};
use std::fs::File;
use std::io::{self, BufRead, Read};
use std::os::unix::fs::FileExt as _;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender, SyncSender};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, OnceLock};
use std::time::{Duration, Instant};

/// Size of one chunk. Large enough that channel traffic is negligible, small enough that a chunk
/// is still in the shared cache when the second core hashes it. 256 KiB scans as fast as 1 MiB
/// (docs/PERFORMANCE.md) and keeps the pool (8 buffers a stage) at 2 MiB, not 8: at the entry cap
/// that pool is live beside everything the scan keeps (issue 15's memory target).
pub(crate) const CHUNK: usize = 1 << 18;
/// Chunks that may wait in one channel.
const DEPTH: usize = 4;
/// Buffers one stage may own in all (in the channel, being filled, held by the consumer).
const MAX_BUFFERS: usize = DEPTH + 4;
/// How often the scan thread tells the progress sink where reading is.
const PROGRESS_EVERY: Duration = Duration::from_millis(50);

/// A filled buffer.
pub(crate) struct Chunk {
    buf: Box<[u8]>,
    len: usize,
}

impl Chunk {
    fn new() -> Self {
        Self {
            buf: vec![0; CHUNK].into_boxed_slice(),
            len: 0,
        }
    }

    /// The filled part.
    pub(crate) fn bytes(&self) -> &[u8] {
        self.buf.get(..self.len).unwrap_or_default()
    }

    fn is_full(&self) -> bool {
        self.len >= self.buf.len()
    }

    /// Fills the rest of the buffer from `r`; stops early only at end of input.
    fn fill_from(&mut self, r: &mut impl Read) -> io::Result<()> {
        while let Some(space) = self.buf.get_mut(self.len..) {
            if space.is_empty() {
                break;
            }
            match r.read(space) {
                Ok(0) => break,
                Ok(n) => self.len = self.len.saturating_add(n).min(self.buf.len()),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }
}

/// What flows down a channel.
pub(crate) enum Msg {
    /// More bytes (never empty).
    Data(Arc<Chunk>),
    /// The input ended cleanly.
    End,
    /// The input failed; nothing follows.
    Fail(Reason),
}

/// The producer's side of buffer recycling.
struct Pool {
    returned: Receiver<Arc<Chunk>>,
    owned: usize,
}

impl Pool {
    fn new() -> (Self, Sender<Arc<Chunk>>) {
        let (tx, rx) = mpsc::channel();
        (
            Self {
                returned: rx,
                owned: 0,
            },
            tx,
        )
    }

    /// An empty buffer: a returned one if any, a new one while under [`MAX_BUFFERS`], else waits
    /// for one to come back.
    fn take(&mut self) -> Chunk {
        loop {
            let back = if self.owned < MAX_BUFFERS {
                match self.returned.try_recv() {
                    Ok(c) => c,
                    Err(_) => {
                        self.owned = self.owned.saturating_add(1);
                        return Chunk::new();
                    }
                }
            } else {
                match self.returned.recv() {
                    Ok(c) => c,
                    // The consumer is gone and returns nothing any more.
                    Err(_) => return Chunk::new(),
                }
            };
            match Arc::try_unwrap(back) {
                Ok(mut c) => {
                    c.len = 0;
                    return c;
                }
                // Still shared (cannot happen with this pipeline): forget it.
                Err(_) => self.owned = self.owned.saturating_sub(1),
            }
        }
    }
}

/// Where a consumer stopped pulling.
#[derive(Debug)]
pub(crate) enum Pull {
    /// `Limits::deadline` passed.
    Deadline,
    /// The input failed (I/O error, corrupt gzip, bytes after the gzip member ...).
    Failed(Reason),
}

/// Where an upstream's chunks come from.
enum From {
    /// A decoder thread, through a channel; consumed chunks go back through `give_back`.
    Channel {
        rx: Receiver<Msg>,
        give_back: Sender<Arc<Chunk>>,
    },
    /// The bundle file itself, shared with the hash thread.
    File(Arc<Ring>),
}

/// The consumer's side of a stream of chunks.
pub(crate) struct Upstream {
    from: From,
    current: Option<Arc<Chunk>>,
    pos: usize,
    ended: bool,
    received: u64,
}

impl Upstream {
    fn new(from: From) -> Self {
        Self {
            from,
            current: None,
            pos: 0,
            ended: false,
            received: 0,
        }
    }

    /// The unconsumed bytes of the current chunk.
    pub(crate) fn remaining(&self) -> &[u8] {
        self.current
            .as_ref()
            .and_then(|c| c.bytes().get(self.pos..))
            .unwrap_or_default()
    }

    /// Marks `n` bytes of [`Self::remaining`] consumed.
    pub(crate) fn advance(&mut self, n: usize) {
        let len = self.remaining().len();
        self.pos = self.pos.saturating_add(n.min(len));
    }

    /// Bytes received so far (consumed or not).
    pub(crate) fn received(&self) -> u64 {
        self.received
    }

    /// Makes [`Self::remaining`] non-empty unless the input has ended (`Ok(false)`). Waits until
    /// `deadline` at most.
    pub(crate) fn fill(&mut self, deadline: Option<Instant>) -> Result<bool, Pull> {
        while self.remaining().is_empty() {
            if let Some(done) = self.current.take() {
                match &self.from {
                    // The producer may be gone; then the buffer is simply freed.
                    From::Channel { give_back, .. } => {
                        let _ = give_back.send(done);
                    }
                    From::File(ring) => {
                        drop(done);
                        ring.release(SCAN);
                    }
                }
            }
            self.pos = 0;
            if self.ended {
                return Ok(false);
            }
            let next = match &self.from {
                From::Channel { rx, .. } => receive(rx, deadline)?,
                From::File(ring) => ring.take(SCAN, deadline)?,
            };
            match next {
                Some(Msg::Data(c)) => {
                    self.received = self.received.saturating_add(c.bytes().len() as u64);
                    self.current = Some(c);
                }
                Some(Msg::End) => self.ended = true,
                Some(Msg::Fail(r)) => {
                    self.ended = true;
                    return Err(Pull::Failed(r));
                }
                None => {
                    self.ended = true;
                    return Err(Pull::Failed(Reason::new(
                        Code::BundleUnreadable,
                        "Reading the bundle stopped unexpectedly (an internal thread ended).",
                    )));
                }
            }
        }
        Ok(true)
    }
}

impl Drop for Upstream {
    fn drop(&mut self) {
        // The scan is done with the file: the hash thread goes on alone.
        if let From::File(ring) = &self.from {
            self.current = None;
            ring.detach(SCAN);
        }
    }
}

/// The next message of a channel, waiting until `deadline` at most (`None`: the sender is gone).
fn receive(rx: &Receiver<Msg>, deadline: Option<Instant>) -> Result<Option<Msg>, Pull> {
    let Some(deadline) = deadline else {
        return Ok(rx.recv().ok());
    };
    loop {
        let now = Instant::now();
        if now >= deadline {
            return Err(Pull::Deadline);
        }
        match rx.recv_timeout(deadline.saturating_duration_since(now)) {
            Ok(m) => return Ok(Some(m)),
            Err(RecvTimeoutError::Timeout) => {}
            Err(RecvTimeoutError::Disconnected) => return Ok(None),
        }
    }
}

/// The two consumers of the file's chunks.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Consumer {
    /// The hash thread.
    Hash,
    /// The scan thread or the decoder feeding it.
    Scan,
}
use Consumer::{Hash as HASH, Scan as SCAN};
/// Chunks of the file that may be in memory at once (read and not yet passed by both consumers).
const WINDOW: usize = MAX_BUFFERS;

/// One place of the window.
enum Slot {
    Free,
    /// Claimed: its chunk is being read.
    Reading,
    /// Chunk `.0` was read in part without waiting for the device (the rest is not cached yet):
    /// the hash thread finishes it.
    Partial(u64, Chunk),
    /// Chunk `.0`, filled (short only at the end of the file).
    Ready(u64, Arc<Chunk>),
}

/// How reading one chunk ended.
enum Filled {
    /// The chunk is as full as the file allows (short only at its end).
    Done(Chunk),
    /// The rest is not in the page cache (a read that may not wait for the device).
    Partial(Chunk),
    Failed(Reason),
}

struct RingState {
    slots: Vec<Slot>,
    /// The next chunk nobody has claimed for reading.
    next_claim: u64,
    /// How many chunks the file has, once a short read found its end.
    count: Option<u64>,
    /// The first chunk that could not be read, and why.
    failed: Option<(u64, Reason)>,
    /// The next chunk each consumer wants (`u64::MAX`: the consumer has stopped).
    next_hash: u64,
    next_scan: u64,
    /// Empty buffers.
    spare: Vec<Chunk>,
    /// The scan may read only what the page cache already holds, and stops trying when the
    /// file system cannot say (no `RWF_NOWAIT`).
    scan_reads: bool,
    /// The scan gave up (deadline): nothing more is read.
    abandon: bool,
}

impl RingState {
    /// The first chunk any consumer still wants.
    fn low(&self) -> u64 {
        self.next_hash.min(self.next_scan)
    }

    fn next(&mut self, me: Consumer) -> &mut u64 {
        match me {
            HASH => &mut self.next_hash,
            SCAN => &mut self.next_scan,
        }
    }

    /// A chunk `me` may read now, with the buffer to read it into. The hash thread finishes
    /// partial chunks first; a new chunk is claimed only inside the window, before the end and
    /// the first failure.
    fn claim(&mut self, me: Consumer) -> Option<(u64, Chunk)> {
        if self.abandon || (me == SCAN && !self.scan_reads) {
            return None;
        }
        // Nothing at or after the end or the first failure is read (a failing stick is not
        // asked again).
        let limit = self
            .count
            .unwrap_or(u64::MAX)
            .min(self.failed.as_ref().map_or(u64::MAX, |f| f.0));
        if me == HASH {
            let partial = self
                .slots
                .iter_mut()
                .filter_map(|s| match s {
                    Slot::Partial(k, _) if *k < limit => Some((*k, s)),
                    _ => None,
                })
                .min_by_key(|(k, _)| *k);
            if let Some((k, slot)) = partial {
                if let Slot::Partial(_, chunk) = std::mem::replace(slot, Slot::Reading) {
                    return Some((k, chunk));
                }
            }
        }
        let k = self.next_claim;
        if k >= limit || k >= self.low().saturating_add(WINDOW as u64) {
            return None;
        }
        let slot = self.slots.get_mut(slot_of(k))?;
        if !matches!(slot, Slot::Free) {
            return None;
        }
        *slot = Slot::Reading;
        self.next_claim = k.saturating_add(1);
        Some((k, self.spare.pop().unwrap_or_else(Chunk::new)))
    }

    /// Stores what reading chunk `k` gave.
    fn store(&mut self, k: u64, filled: Filled) {
        let Some(slot) = self.slots.get_mut(slot_of(k)) else {
            return;
        };
        match filled {
            Filled::Done(chunk) => {
                if !chunk.is_full() {
                    // The end of the file: nothing after this chunk belongs to the stream.
                    let count = if chunk.bytes().is_empty() {
                        k
                    } else {
                        k.saturating_add(1)
                    };
                    self.count = Some(self.count.map_or(count, |c| c.min(count)));
                }
                if chunk.bytes().is_empty() {
                    *slot = Slot::Free;
                    self.spare.push(chunk);
                } else {
                    *slot = Slot::Ready(k, Arc::new(chunk));
                }
            }
            Filled::Partial(chunk) => *slot = Slot::Partial(k, chunk),
            Filled::Failed(reason) => {
                *slot = Slot::Free;
                if self.failed.as_ref().is_none_or(|f| k < f.0) {
                    self.failed = Some((k, reason));
                }
            }
        }
    }

    /// Frees the places of chunks that no consumer wants any more.
    fn free_passed(&mut self, before: u64) {
        let low = self.low();
        let mut k = before;
        while k < low && k < before.saturating_add(WINDOW as u64) {
            if let Some(slot) = self.slots.get_mut(slot_of(k)) {
                if matches!(slot, Slot::Ready(i, _) if *i == k) {
                    if let Slot::Ready(_, chunk) = std::mem::replace(slot, Slot::Free) {
                        // Both consumers have dropped their copies by now.
                        if let Ok(mut chunk) = Arc::try_unwrap(chunk) {
                            chunk.len = 0;
                            self.spare.push(chunk);
                        }
                    }
                }
            }
            k = k.saturating_add(1);
        }
    }
}

fn slot_of(k: u64) -> usize {
    (k % WINDOW as u64) as usize
}

/// The bundle file between its readers and its two consumers: the hash thread (every byte, to
/// the end) and the scan (the upstream of the tar walk or of a decoder).
///
/// There is no reader thread. A consumer whose next chunk is not there yet reads one instead of
/// waiting — the hash thread with ordinary reads, the scan only what the page cache already holds
/// (`RWF_NOWAIT`: it must never block on a stalled device past its deadline) — so on a cached
/// `.tar` the copy out of the page cache is shared by the two cores rather than added to one of
/// them (docs/PERFORMANCE.md). At most [`WINDOW`] chunks are in memory: chunk `k` is read only
/// once both consumers are past chunk `k - WINDOW`. The stream ends at the first chunk a read
/// left short (later chunks, should the file grow meanwhile, are not part of it), so both
/// digests always cover the same bytes.
struct Ring {
    state: Mutex<RingState>,
    changed: Condvar,
    /// Opened by the hash thread (opening may wait on the device too).
    file: OnceLock<File>,
    path: PathBuf,
    /// Bytes read so far and the file's size, for progress.
    read: AtomicU64,
    total: AtomicU64,
    /// A read without waiting failed for another reason than `EAGAIN`.
    nowait_unsupported: AtomicBool,
}

impl Ring {
    fn new(path: &Path) -> Self {
        Self {
            state: Mutex::new(RingState {
                slots: (0..WINDOW).map(|_| Slot::Free).collect(),
                next_claim: 0,
                count: None,
                failed: None,
                next_hash: 0,
                next_scan: 0,
                spare: Vec::new(),
                scan_reads: true,
                abandon: false,
            }),
            changed: Condvar::new(),
            file: OnceLock::new(),
            path: path.to_path_buf(),
            read: AtomicU64::new(0),
            total: AtomicU64::new(0),
            nowait_unsupported: AtomicBool::new(false),
        }
    }

    fn lock(&self) -> MutexGuard<'_, RingState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The next chunk for consumer `me`: `Msg::End` after the last one, `Msg::Fail` at the
    /// first chunk that could not be read. Reads a chunk itself rather than wait when it may.
    fn take(&self, me: Consumer, deadline: Option<Instant>) -> Result<Option<Msg>, Pull> {
        let mut st = self.lock();
        loop {
            let k = *st.next(me);
            if let Some((at, reason)) = &st.failed {
                if *at <= k {
                    return Ok(Some(Msg::Fail(reason.clone())));
                }
            }
            if st.count.is_some_and(|c| k >= c) {
                return Ok(Some(Msg::End));
            }
            // The scan gave up: nothing more is read, so nobody may wait for it (a decoder
            // waits without a deadline; it would wait forever).
            if st.abandon {
                return Ok(None);
            }
            if let Some(Slot::Ready(i, chunk)) = st.slots.get(slot_of(k)) {
                if *i == k {
                    return Ok(Some(Msg::Data(Arc::clone(chunk))));
                }
            }
            if let Some((claimed, chunk)) = st.claim(me) {
                drop(st);
                let filled = self.fill(claimed, chunk, me == HASH);
                st = self.lock();
                if me == SCAN && self.nowait_unsupported.load(Ordering::Relaxed) {
                    st.scan_reads = false;
                }
                st.store(claimed, filled);
                self.changed.notify_all();
                continue;
            }
            st = match deadline {
                None => self.changed.wait(st).unwrap_or_else(|e| e.into_inner()),
                Some(deadline) => {
                    let now = Instant::now();
                    if now >= deadline {
                        return Err(Pull::Deadline);
                    }
                    self.changed
                        .wait_timeout(st, deadline.saturating_duration_since(now))
                        .unwrap_or_else(|e| e.into_inner())
                        .0
                }
            };
        }
    }

    /// Consumer `me` is done with its current chunk (its copy already dropped).
    fn release(&self, me: Consumer) {
        let mut st = self.lock();
        let before = st.low();
        let next = st.next(me);
        *next = next.saturating_add(1);
        st.free_passed(before);
        self.changed.notify_all();
    }

    /// Consumer `me` wants nothing more.
    fn detach(&self, me: Consumer) {
        let mut st = self.lock();
        let before = st.low();
        *st.next(me) = u64::MAX;
        st.free_passed(before);
        self.changed.notify_all();
    }

    /// Reads chunk `k` into `chunk` (which may hold its first bytes already): with `wait`, as
    /// far as the file goes; without, only what the page cache holds.
    fn fill(&self, k: u64, mut chunk: Chunk, wait: bool) -> Filled {
        let Some(file) = self.file.get() else {
            // Not open yet: the hash thread, which opens it, reads this chunk.
            return Filled::Partial(chunk);
        };
        let base = k.saturating_mul(CHUNK as u64);
        while let Some(space) = chunk.buf.get_mut(chunk.len..) {
            if space.is_empty() {
                break;
            }
            let offset = base.saturating_add(chunk.len as u64);
            let result = if wait {
                file.read_at(space, offset)
            } else {
                read_cached(file, space, offset)
            };
            match result {
                Ok(0) => break,
                Ok(n) => {
                    chunk.len = chunk.len.saturating_add(n).min(chunk.buf.len());
                    self.read
                        .fetch_max(base.saturating_add(chunk.len as u64), Ordering::Relaxed);
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) if !wait => {
                    if e.raw_os_error() != Some(nix::libc::EAGAIN) {
                        // ENOSYS, EOPNOTSUPP: this kernel or file system cannot read without
                        // waiting; the hash thread reads everything.
                        self.nowait_unsupported.store(true, Ordering::Relaxed);
                    }
                    return Filled::Partial(chunk);
                }
                Err(e) => {
                    return Filled::Failed(unreadable(
                        &self.path,
                        format_args!("could not be read after {offset} bytes: {e}"),
                    ))
                }
            }
        }
        Filled::Done(chunk)
    }
}

/// `pread` that only copies what the page cache already holds (`preadv2(2)` with `RWF_NOWAIT`):
/// `EAGAIN` when the rest would have to come from the device. A raw system call, because the
/// appliance's musl has no `preadv2` wrapper.
fn read_cached(file: &File, buf: &mut [u8], offset: u64) -> io::Result<usize> {
    use nix::libc;
    use std::os::fd::AsRawFd as _;
    let offset =
        libc::c_long::try_from(offset).map_err(|_| io::Error::from_raw_os_error(libc::EINVAL))?;
    let iov = libc::iovec {
        iov_base: buf.as_mut_ptr().cast(),
        iov_len: buf.len(),
    };
    // SAFETY: one iovec over `buf`, which is borrowed mutably for the whole call; the kernel
    // writes at most `iov_len` bytes into it. On 64-bit targets the offset is `pos_l` whole and
    // `pos_h` is ignored.
    let n = unsafe {
        libc::syscall(
            libc::SYS_preadv2,
            file.as_raw_fd(),
            &iov as *const libc::iovec,
            1 as libc::c_int,
            offset,
            0 as libc::c_long,
            libc::RWF_NOWAIT,
        )
    };
    usize::try_from(n).map_err(|_| io::Error::last_os_error())
}

/// What the hash thread learned about the whole file.
pub(crate) struct WholeFile {
    /// SHA-256 of every byte of the file, if it was read to its end.
    pub digest: Option<Sha256Digest>,
    /// Bytes read.
    pub size: u64,
    /// Why it could not be read to the end, if so.
    pub error: Option<Reason>,
}

/// The hash thread, seen from the scan thread.
pub(crate) struct Source {
    ring: Arc<Ring>,
    done: Receiver<WholeFile>,
}

impl Drop for Source {
    fn drop(&mut self) {
        // Normally the hash thread has finished by now; after a deadline it must not go on
        // reading.
        self.ring.lock().abandon = true;
        self.ring.changed.notify_all();
    }
}

/// Starts the hash thread on `path`; the returned upstream carries the file's bytes.
pub(crate) fn start(path: &Path) -> Result<(Source, Upstream), Reason> {
    let ring = Arc::new(Ring::new(path));
    let (done_tx, done_rx) = mpsc::sync_channel(1);
    let hashed = Arc::clone(&ring);
    std::thread::Builder::new()
        .name("airlock-hash".into())
        .spawn(move || hash_file(&hashed, &done_tx))
        .map_err(|e| {
            Reason::new(
                Code::BundleUnreadable,
                format!("The bundle could not be read: no thread to read it ({e})."),
            )
        })?;
    Ok((
        Source {
            ring: Arc::clone(&ring),
            done: done_rx,
        },
        Upstream::new(From::File(ring)),
    ))
}

impl Source {
    /// Bytes of the file read so far, and the file's size.
    pub(crate) fn position(&self) -> (u64, u64) {
        (
            self.ring.read.load(Ordering::Relaxed),
            self.ring.total.load(Ordering::Relaxed),
        )
    }

    /// Waits (until `deadline` at most) for the hash thread to reach the end of the file.
    pub(crate) fn finish(
        self,
        deadline: Option<Instant>,
        progress: &dyn crate::bundle::Progress,
    ) -> Result<WholeFile, Pull> {
        loop {
            let mut wait = PROGRESS_EVERY;
            if let Some(deadline) = deadline {
                let now = Instant::now();
                if now >= deadline {
                    return Err(Pull::Deadline);
                }
                wait = wait.min(deadline.saturating_duration_since(now));
            }
            match self.done.recv_timeout(wait) {
                Ok(whole) => {
                    progress.position(whole.size, whole.size);
                    return Ok(whole);
                }
                Err(RecvTimeoutError::Timeout) => {
                    let (read, total) = self.position();
                    progress.position(read, total);
                }
                Err(RecvTimeoutError::Disconnected) => {
                    return Ok(WholeFile {
                        digest: None,
                        size: self.position().0,
                        error: Some(Reason::new(
                            Code::BundleUnreadable,
                            "The bundle could not be read to its end (the hash thread stopped).",
                        )),
                    });
                }
            }
        }
    }
}

fn unreadable(path: &Path, what: impl std::fmt::Display) -> Reason {
    Reason::new(
        Code::BundleUnreadable,
        format!("The bundle file {:?} {what}.", path.display().to_string()),
    )
}

/// Opens `path` without blocking (a FIFO would block `open(2)` until a writer appears), not
/// through a symbolic link, and insists on a regular file with one link
/// ([`crate::nofollow::open_read`]): FIFOs, devices and sockets are endless or stall, and a link
/// could point at any file of the appliance.
fn open(path: &Path) -> Result<(File, u64), Reason> {
    let (file, meta) = crate::nofollow::open_read(path)
        .map_err(|e| unreadable(path, format_args!("cannot be opened: {e}")))?;
    // Regular files ignore O_NONBLOCK; tell the kernel to read ahead generously.
    let _ = nix::fcntl::posix_fadvise(
        &file,
        0,
        0,
        nix::fcntl::PosixFadviseAdvice::POSIX_FADV_SEQUENTIAL,
    );
    Ok((file, meta.len()))
}

/// The hash thread: opens the file and hashes every byte of it, to its end even when the scan
/// has stopped, reading the chunks nobody else has read.
fn hash_file(ring: &Ring, done: &SyncSender<WholeFile>) {
    match open(&ring.path) {
        Ok((file, total)) => {
            ring.total.store(total, Ordering::Relaxed);
            let _ = ring.file.set(file);
        }
        Err(reason) => {
            ring.lock().store(0, Filled::Failed(reason));
            ring.changed.notify_all();
        }
    }
    let mut hasher = Sha256::new();
    let mut size = 0u64;
    loop {
        let whole = match ring.take(HASH, None) {
            Ok(Some(Msg::Data(chunk))) => {
                hasher.update(chunk.bytes());
                size = size.saturating_add(chunk.bytes().len() as u64);
                drop(chunk);
                ring.release(HASH);
                continue;
            }
            Ok(Some(Msg::End)) => WholeFile {
                digest: Some(hasher.finalize()),
                size,
                error: None,
            },
            Ok(Some(Msg::Fail(reason))) => WholeFile {
                digest: None,
                size,
                error: Some(reason),
            },
            // Abandoned: nobody waits for the result.
            Ok(None) | Err(_) => return,
        };
        let _ = done.send(whole);
        return;
    }
}

/// `BufRead` over an upstream, for the decoders (no deadline: the scan thread has it).
pub(crate) struct ChunkReader {
    up: Upstream,
    failed: Option<Reason>,
}

impl ChunkReader {
    /// Why reading failed, if the last error came from the input rather than the decoder.
    pub(crate) fn take_failure(&mut self) -> Option<Reason> {
        self.failed.take()
    }
}

impl Read for ChunkReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let src = self.fill_buf()?;
        let n = src.len().min(buf.len());
        if let (Some(dst), Some(src)) = (buf.get_mut(..n), src.get(..n)) {
            dst.copy_from_slice(src);
        }
        self.consume(n);
        Ok(n)
    }
}

impl BufRead for ChunkReader {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        match self.up.fill(None) {
            Ok(_) => Ok(self.up.remaining()),
            Err(Pull::Failed(r)) => {
                self.failed = Some(r);
                Err(io::Error::other("the bundle file could not be read"))
            }
            Err(Pull::Deadline) => Err(io::Error::other("deadline")),
        }
    }

    fn consume(&mut self, amt: usize) {
        self.up.advance(amt);
    }
}

/// One compressed container (a gzip member, a zstd frame, an xz stream) decoded on its own thread.
pub(crate) trait Decoder: Read + Send + 'static {
    /// The reason for a decoding error after `produced` decompressed bytes.
    fn failure(&mut self, e: &io::Error, produced: u64) -> Reason;
    /// Called once the container ended cleanly: what follows it decides the outcome
    /// ([`Msg::End`] only when nothing does).
    fn end(self, produced: u64) -> Msg;
}

/// Starts a decoder thread named `name`; the returned upstream carries the decompressed bytes.
pub(crate) fn decompress<D: Decoder>(
    up: Upstream,
    name: &str,
    make: impl FnOnce(ChunkReader) -> Result<D, Reason> + Send + 'static,
) -> Result<Upstream, Reason> {
    let (tx, rx) = mpsc::sync_channel(DEPTH);
    let (pool, give_back) = Pool::new();
    std::thread::Builder::new()
        .name(name.into())
        .spawn(move || {
            match make(ChunkReader { up, failed: None }) {
                Ok(decoder) => decode(decoder, pool, tx),
                Err(reason) => {
                    let _ = tx.send(Msg::Fail(reason));
                }
            };
        })
        .map_err(|e| {
            Reason::new(
                Code::BundleUnreadable,
                format!("The bundle could not be decompressed: no thread to do it ({e})."),
            )
        })?;
    Ok(Upstream::new(From::Channel { rx, give_back }))
}

fn decode<D: Decoder>(mut decoder: D, mut pool: Pool, tx: SyncSender<Msg>) {
    let mut produced = 0u64;
    loop {
        let mut chunk = pool.take();
        let result = chunk.fill_from(&mut decoder);
        let last = !chunk.is_full();
        produced = produced.saturating_add(chunk.bytes().len() as u64);
        if !chunk.bytes().is_empty() && tx.send(Msg::Data(Arc::new(chunk))).is_err() {
            return; // the scan stopped
        }
        if let Err(e) = result {
            let _ = tx.send(Msg::Fail(decoder.failure(&e, produced)));
            return;
        }
        if last {
            break;
        }
    }
    let _ = tx.send(decoder.end(produced));
}

/// Starts the inflate thread on a gzip stream; the returned upstream carries the decompressed
/// bytes.
///
/// **The gzip rule.** A compressed bundle is exactly one gzip member (RFC 1952): header, deflate
/// data, CRC-32 and size trailer (both checked), and then the end of the file. A second member
/// (`cat a.gz b.gz`) or any other byte after the trailer — even zeros — makes the bundle
/// unreadable: `gzip -dc` would output the members concatenated while a single-member reader stops
/// after the first, so the two would see different archives.
pub(crate) fn inflate(up: Upstream) -> Result<Upstream, Reason> {
    decompress(up, "airlock-inflate", |reader| {
        Ok(GzipMember(flate2::bufread::GzDecoder::new(reader)))
    })
}

struct GzipMember(flate2::bufread::GzDecoder<ChunkReader>);

impl Read for GzipMember {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.0.read(buf)
    }
}

impl Decoder for GzipMember {
    fn failure(&mut self, e: &io::Error, produced: u64) -> Reason {
        gzip_failure(self.0.get_mut(), e, produced)
    }

    fn end(self, produced: u64) -> Msg {
        // The member ended with a good trailer: nothing may follow it.
        let mut reader = self.0.into_inner();
        match reader.fill_buf() {
            Ok([]) => Msg::End,
            Ok(rest) => Msg::Fail(Reason::new(
                Code::BundleUnreadable,
                if rest.starts_with(&[0x1f, 0x8b]) {
                    "The bundle's gzip stream has a second gzip member after the first; a bundle must be a single gzip member."
                } else {
                    "The bundle has bytes after the end of its gzip member; nothing may follow the gzip trailer."
                },
            )),
            Err(e) => Msg::Fail(gzip_failure(&mut reader, &e, produced)),
        }
    }
}

fn gzip_failure(reader: &mut ChunkReader, e: &io::Error, produced: u64) -> Reason {
    reader.failed.take().unwrap_or_else(|| {
        Reason::new(
            Code::BundleUnreadable,
            format!(
                "The bundle's gzip stream is corrupt or truncated after {produced} decompressed bytes ({e})."
            ),
        )
    })
}

#[cfg(test)]
// A test fails by panicking; the module's rule against panics is for the code under test.
#[allow(clippy::unwrap_used, clippy::panic)]
mod tests {
    use super::*;

    /// #8: a source that never delivers (a stalled stick) ends at the deadline, not never.
    #[test]
    fn stalled_input_ends_at_the_deadline() {
        let (tx, rx) = mpsc::sync_channel::<Msg>(1);
        let (give_back, _returned) = mpsc::channel();
        let mut up = Upstream::new(From::Channel { rx, give_back });
        let start = Instant::now();
        let result = up.fill(Some(start + Duration::from_millis(200)));
        assert!(matches!(result, Err(Pull::Deadline)));
        let waited = start.elapsed();
        assert!(waited >= Duration::from_millis(200) && waited < Duration::from_secs(5));
        drop(tx);
    }

    /// Everything the scan side of a file reads, and the whole-file digest.
    fn read_all(path: &Path, stop_after: Option<usize>) -> (Vec<u8>, WholeFile) {
        let (source, mut up) = start(path).unwrap();
        let mut seen = Vec::new();
        while up.fill(None).unwrap() {
            seen.extend_from_slice(up.remaining());
            let n = up.remaining().len();
            up.advance(n);
            if stop_after.is_some_and(|max| seen.len() >= max) {
                break;
            }
        }
        drop(up);
        (
            seen,
            source.finish(None, &crate::bundle::NoProgress).unwrap(),
        )
    }

    #[test]
    fn a_wait_ends_when_the_scan_gives_up() {
        // A decoder waits for the file's next chunk without a deadline (the scan has it). Here
        // nobody reads that chunk (no hash thread: a stick that hangs forever); when the scan
        // gives up, as `Source::drop` tells the ring, the wait ends and the decoder with it.
        let (_dir, path, _) = file_of(CHUNK * 3);
        let ring = Arc::new(Ring::new(&path));
        let (tx, rx) = mpsc::channel();
        let waiting = Arc::clone(&ring);
        std::thread::spawn(move || {
            let _ = tx.send(matches!(waiting.take(SCAN, None), Ok(None)));
        });
        std::thread::sleep(Duration::from_millis(100));
        ring.lock().abandon = true;
        ring.changed.notify_all();
        assert_eq!(rx.recv_timeout(Duration::from_secs(10)), Ok(true));
    }

    fn file_of(len: usize) -> (tempfile::TempDir, std::path::PathBuf, Vec<u8>) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bundle.tar");
        let mut x = 0x2545_f491_4f6c_dd1du64;
        let bytes: Vec<u8> = (0..len)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                x as u8
            })
            .collect();
        std::fs::write(&path, &bytes).unwrap();
        (dir, path, bytes)
    }

    /// Both consumers get every byte once, in order, whoever read each chunk; the stream ends
    /// at the file's end (sizes on and around chunk boundaries, and an empty file).
    #[test]
    fn both_consumers_see_the_whole_file_in_order() {
        for len in [0, 1, CHUNK - 1, CHUNK, CHUNK + 1, WINDOW * CHUNK * 3 + 1234] {
            let (_dir, path, bytes) = file_of(len);
            let (seen, whole) = read_all(&path, None);
            assert!(seen == bytes, "len {len}");
            assert_eq!(whole.size, len as u64);
            assert_eq!(whole.digest, Some(airlock_core::digest::sha256(&bytes)));
            assert!(whole.error.is_none());
        }
    }

    /// A scan that stops early (a refused archive) leaves the hash thread to read the rest
    /// alone: the digest is still the whole file's.
    #[test]
    fn the_hash_goes_on_alone_after_the_scan_stops() {
        let (_dir, path, bytes) = file_of(WINDOW * CHUNK * 2 + 77);
        let (seen, whole) = read_all(&path, Some(1));
        assert!(seen.len() < bytes.len());
        assert_eq!(whole.digest, Some(airlock_core::digest::sha256(&bytes)));
    }

    /// #8 on the file side: the scan reads only what it can without waiting for the device,
    /// so when nothing else reads (the hash thread stuck on a stalled stick, here not started)
    /// it ends at its deadline instead of blocking in `read(2)`; the chunks it claimed meanwhile
    /// are finished by the hash thread when it comes.
    #[test]
    fn the_scan_never_waits_for_the_device() {
        let (_dir, path, bytes) = file_of(CHUNK * (WINDOW + 2) + 5);
        let ring = Arc::new(Ring::new(&path));
        let start = Instant::now();
        let result = ring.take(SCAN, Some(start + Duration::from_millis(200)));
        assert!(matches!(result, Err(Pull::Deadline)));
        assert!(start.elapsed() < Duration::from_secs(5));
        let (tx, rx) = mpsc::sync_channel(1);
        let hashed = Arc::clone(&ring);
        std::thread::spawn(move || hash_file(&hashed, &tx));
        let mut up = Upstream::new(From::File(ring));
        let mut seen = Vec::new();
        while up.fill(None).unwrap() {
            seen.extend_from_slice(up.remaining());
            let n = up.remaining().len();
            up.advance(n);
        }
        drop(up);
        assert!(seen == bytes);
        let whole = rx.recv().unwrap();
        assert_eq!(whole.digest, Some(airlock_core::digest::sha256(&bytes)));
    }

    /// A read that fails mid-file (a failing stick) fails both consumers at that chunk with the
    /// same reason, and nothing after it is read.
    #[test]
    fn a_failed_read_stops_both_sides_at_that_chunk() {
        let (_dir, path, bytes) = file_of(CHUNK * (WINDOW + 4));
        let ring = Arc::new(Ring::new(&path));
        let eio = Reason::new(Code::BundleUnreadable, "EIO at chunk 2");
        ring.lock().store(2, Filled::Failed(eio.clone()));
        let (tx, rx) = mpsc::sync_channel(1);
        let hashed = Arc::clone(&ring);
        std::thread::spawn(move || hash_file(&hashed, &tx));
        let mut up = Upstream::new(From::File(Arc::clone(&ring)));
        let mut seen = Vec::new();
        let failure = loop {
            match up.fill(None) {
                Ok(true) => {
                    seen.extend_from_slice(up.remaining());
                    let n = up.remaining().len();
                    up.advance(n);
                }
                Ok(false) => panic!("the stream ended without the failure"),
                Err(Pull::Deadline) => panic!("no deadline was set"),
                Err(Pull::Failed(r)) => break r,
            }
        };
        drop(up);
        assert_eq!(failure, eio);
        assert!(seen == bytes.get(..CHUNK * 2).unwrap());
        let whole = rx.recv().unwrap();
        assert_eq!(whole.error, Some(eio));
        assert!(whole.digest.is_none());
        assert_eq!(whole.size, (CHUNK * 2) as u64);
        assert!(ring.read.load(Ordering::Relaxed) <= (CHUNK * 2) as u64);
    }

    /// An unreadable file fails both consumers with the same reason.
    #[test]
    fn a_missing_file_fails_both_sides() {
        let dir = tempfile::tempdir().unwrap();
        let (source, mut up) = start(&dir.path().join("gone.tar")).unwrap();
        let Err(Pull::Failed(scan)) = up.fill(None) else {
            panic!("the scan read a missing file");
        };
        drop(up);
        let whole = source.finish(None, &crate::bundle::NoProgress).unwrap();
        assert_eq!(whole.error, Some(scan));
        assert!(whole.digest.is_none());
    }

    /// Buffers are recycled: a long stream never owns more than `MAX_BUFFERS` of them.
    #[test]
    fn pool_recycles_buffers() {
        let (mut pool, give_back) = Pool::new();
        for _ in 0..100 {
            let c = Arc::new(pool.take());
            give_back.send(c).ok();
        }
        assert!(pool.owned <= MAX_BUFFERS);
    }
}
