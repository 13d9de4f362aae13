//! The pipeline that moves bundle bytes between threads.
//!
//! ```text
//!  .tar:     [read] ──▶ [hash] ──▶ [scan thread: tar walk, entry SHA-256]
//!            read(2)     whole-file SHA-256
//!
//!  .tar.gz:  [read] ──▶ [hash] ──▶ [inflate] ──▶ [scan thread]
//!            read(2)     whole-file  gzip member,  tar walk, entry SHA-256
//!                        SHA-256     trailer
//! ```
//!
//! A chunk is a fixed-size buffer shared read-only (`Arc`) by the stages, so the whole-file hash
//! (hash thread) and the entry hashes (scan thread) run on different cores over the same bytes,
//! without copying them; the read thread only reads (on a stick it mostly waits for the device).
//! Three busy threads on two cores balance better than two: reading plus one hash on one thread
//! would leave the other core idle part of the time. Consumers hand chunks back through a recycle
//! channel; channels are bounded, so at most a few chunks exist per stage whatever the size or
//! compression ratio of the bundle: memory stays flat. Each stage passes a chunk on before working
//! on it and drops its own reference before it can receive the next one, so the last stage's
//! reference is always the last and recycling never fails.
//!
//! The read and hash threads always go on to the end of the file (the receipt binds the SHA-256
//! of the file as stored), even when a later stage stopped early; only an abandoned scan
//! (deadline) stops them. The read thread may stay blocked in `read(2)` on a stalled device:
//! nobody joins it.

use crate::reason::{Code, Reason};
use airlock_core::digest::{Sha256, Sha256Digest};
use std::fs::File;
use std::io::{self, BufRead, Read};
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender, SyncSender};
use std::sync::Arc;
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

/// The consumer's side of a channel of chunks.
pub(crate) struct Upstream {
    rx: Receiver<Msg>,
    give_back: Sender<Arc<Chunk>>,
    current: Option<Arc<Chunk>>,
    pos: usize,
    ended: bool,
    received: u64,
}

impl Upstream {
    fn new(rx: Receiver<Msg>, give_back: Sender<Arc<Chunk>>) -> Self {
        Self {
            rx,
            give_back,
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
                // The producer may be gone; then the buffer is simply freed.
                let _ = self.give_back.send(done);
            }
            self.pos = 0;
            if self.ended {
                return Ok(false);
            }
            let msg = match deadline {
                None => self.rx.recv().ok(),
                Some(deadline) => loop {
                    let now = Instant::now();
                    if now >= deadline {
                        return Err(Pull::Deadline);
                    }
                    match self
                        .rx
                        .recv_timeout(deadline.saturating_duration_since(now))
                    {
                        Ok(m) => break Some(m),
                        Err(RecvTimeoutError::Timeout) => {}
                        Err(RecvTimeoutError::Disconnected) => break None,
                    }
                },
            };
            match msg {
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
                        "Reading the bundle stopped unexpectedly (an internal reader thread ended).",
                    )));
                }
            }
        }
        Ok(true)
    }
}

/// State shared between the read thread and the scan thread.
#[derive(Default)]
struct Shared {
    /// Bytes of the file read so far.
    read: AtomicU64,
    /// Size of the file (from `fstat`).
    total: AtomicU64,
    /// Set when the scan gave up (deadline): the read thread stops as soon as it can.
    abandon: AtomicBool,
}

/// What the read thread learned about the whole file.
pub(crate) struct WholeFile {
    /// SHA-256 of every byte of the file, if it was read to its end.
    pub digest: Option<Sha256Digest>,
    /// Bytes read.
    pub size: u64,
    /// Why it could not be read to the end, if so.
    pub error: Option<Reason>,
}

/// The read thread, seen from the scan thread.
pub(crate) struct Source {
    shared: Arc<Shared>,
    done: Receiver<WholeFile>,
}

impl Drop for Source {
    fn drop(&mut self) {
        // Normally the thread has finished by now; after a deadline it must not go on reading.
        self.shared.abandon.store(true, Ordering::Relaxed);
    }
}

/// Starts the read and hash threads on `path`; the returned upstream carries the file's bytes.
pub(crate) fn start(path: &Path) -> Result<(Source, Upstream), Reason> {
    let shared = Arc::new(Shared::default());
    let (raw_tx, raw_rx) = mpsc::sync_channel(DEPTH);
    let (tx, rx) = mpsc::sync_channel(DEPTH);
    let (done_tx, done_rx) = mpsc::sync_channel(1);
    let (pool, give_back) = Pool::new();
    let no_thread = |e: io::Error| {
        Reason::new(
            Code::BundleUnreadable,
            format!("The bundle could not be read: no thread to read it ({e})."),
        )
    };
    let hasher_give_back = give_back.clone();
    std::thread::Builder::new()
        .name("airlock-hash".into())
        .spawn(move || hash_file(raw_rx, hasher_give_back, tx, done_tx))
        .map_err(no_thread)?;
    let path = path.to_path_buf();
    let thread_shared = Arc::clone(&shared);
    // If this fails, `raw_tx` is dropped and the hash thread ends at once.
    std::thread::Builder::new()
        .name("airlock-read".into())
        .spawn(move || read_file(&path, &thread_shared, pool, raw_tx))
        .map_err(no_thread)?;
    Ok((
        Source {
            shared,
            done: done_rx,
        },
        Upstream::new(rx, give_back),
    ))
}

impl Source {
    /// Bytes of the file read so far, and the file's size.
    pub(crate) fn position(&self) -> (u64, u64) {
        (
            self.shared.read.load(Ordering::Relaxed),
            self.shared.total.load(Ordering::Relaxed),
        )
    }

    /// Waits (until `deadline` at most) for the read thread to reach the end of the file.
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
                            "The bundle could not be read to its end (the reader thread stopped).",
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

/// The read thread: reads the file to its end in chunks and passes them to the hash thread.
/// Only reading happens here (on a stick, this thread waits on the device; on a cached file it
/// copies), so that the whole-file hash and the entry hashes can take the two cores.
fn read_file(path: &Path, shared: &Shared, mut pool: Pool, tx: SyncSender<Msg>) {
    let (mut file, total) = match open(path) {
        Ok(f) => f,
        Err(reason) => {
            let _ = tx.send(Msg::Fail(reason));
            return;
        }
    };
    shared.total.store(total, Ordering::Relaxed);
    let mut size = 0u64;
    loop {
        if shared.abandon.load(Ordering::Relaxed) {
            return;
        }
        let mut chunk = pool.take();
        if let Err(e) = chunk.fill_from(&mut file) {
            let reason = unreadable(
                path,
                format_args!("could not be read after {size} bytes: {e}"),
            );
            let _ = tx.send(Msg::Fail(reason));
            return;
        }
        let last = !chunk.is_full();
        size = size.saturating_add(chunk.bytes().len() as u64);
        shared.read.store(size, Ordering::Relaxed);
        if !chunk.bytes().is_empty() && tx.send(Msg::Data(Arc::new(chunk))).is_err() {
            return;
        }
        if last {
            break;
        }
    }
    let _ = tx.send(Msg::End);
}

/// The hash thread: hashes every byte of the file, passing each chunk on first (so the next
/// stage works on it at the same time) while the next stage wants them. When the next stage has
/// stopped, it hashes alone, to the end of the file.
fn hash_file(
    rx: Receiver<Msg>,
    give_back: Sender<Arc<Chunk>>,
    tx: SyncSender<Msg>,
    done: SyncSender<WholeFile>,
) {
    let mut hasher = Sha256::new();
    let mut size = 0u64;
    let mut downstream = Some(tx);
    loop {
        let msg = rx.recv().unwrap_or_else(|_| {
            Msg::Fail(Reason::new(
                Code::BundleUnreadable,
                "The bundle could not be read to its end (the reader thread stopped).",
            ))
        });
        match msg {
            Msg::Data(chunk) => {
                if let Some(next) = &downstream {
                    if next.send(Msg::Data(Arc::clone(&chunk))).is_err() {
                        downstream = None;
                    }
                }
                hasher.update(chunk.bytes());
                size = size.saturating_add(chunk.bytes().len() as u64);
                if downstream.is_none() {
                    // Nobody else will give it back.
                    let _ = give_back.send(chunk);
                }
                // Otherwise dropped here, before the next stage can be done with it: the next
                // stage's copy is then the last, and recycling it always succeeds.
            }
            Msg::End => {
                if let Some(next) = downstream {
                    let _ = next.send(Msg::End);
                }
                let _ = done.send(WholeFile {
                    digest: Some(hasher.finalize()),
                    size,
                    error: None,
                });
                return;
            }
            Msg::Fail(reason) => {
                if let Some(next) = downstream {
                    let _ = next.send(Msg::Fail(reason.clone()));
                }
                let _ = done.send(WholeFile {
                    digest: None,
                    size,
                    error: Some(reason),
                });
                return;
            }
        }
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
    Ok(Upstream::new(rx, give_back))
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
mod tests {
    use super::*;

    /// #8: a source that never delivers (a stalled stick) ends at the deadline, not never.
    #[test]
    fn stalled_input_ends_at_the_deadline() {
        let (tx, rx) = mpsc::sync_channel::<Msg>(1);
        let (give_back, _returned) = mpsc::channel();
        let mut up = Upstream::new(rx, give_back);
        let start = Instant::now();
        let result = up.fill(Some(start + Duration::from_millis(200)));
        assert!(matches!(result, Err(Pull::Deadline)));
        let waited = start.elapsed();
        assert!(waited >= Duration::from_millis(200) && waited < Duration::from_secs(5));
        drop(tx);
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
