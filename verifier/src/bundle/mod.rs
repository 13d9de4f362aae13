//! The bundle stream: the only code that touches artifact bytes. One pass over a `.tar`, a
//! single-member `.tar.gz`, a single-frame `.tar.zst` or a single-stream `.tar.xz` (detected by
//! content), never extracting: entry safety, limits, a SHA-256
//! per file, the SHA-256 of the whole bundle file, and the small metadata files kept in memory.

#![deny(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    clippy::unreachable,
    clippy::todo,
    clippy::unimplemented
)]

mod archive;
mod codec;
mod entry;
mod stream;

use crate::document::dsse::PaeEnvelope;
use crate::reason::Reason;
use airlock_core::digest::Sha256Digest;
use airlock_formats::FormatError;
use std::collections::BTreeMap;
use std::path::Path;
use std::time::Instant;

/// Bounds on what a bundle may make the verifier do. Every one is checked before the work it
/// bounds is done.
#[derive(Debug, Clone)]
pub struct Limits {
    /// Most entries (files and directories) in one archive.
    pub max_entries: usize,
    /// Most bytes of entry names in one archive, all entries together (the names are kept for
    /// the duplicate check and the inventory, so this bounds that memory).
    pub max_name_bytes: u64,
    /// Largest PAX extended header or GNU long-name entry, in bytes.
    pub max_header_bytes: u64,
    /// Largest metadata file kept in memory. The listing files (`checksums.txt`,
    /// `release-evidence.json`, the provenance: they name every artifact, see [`is_listing`]) may
    /// be this large; every other metadata file at most [`MAX_DOCUMENT_FILE`] too.
    pub max_metadata_bytes: u64,
    /// Most metadata files kept in memory.
    pub max_metadata_files: usize,
    /// Most bytes of archive content produced (after decompression): the decompression-bomb cap.
    pub max_total_bytes: u64,
    /// When reading must have finished (a stalled stick must not hang the appliance).
    pub deadline: Option<Instant>,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_entries: 100_000,
            max_name_bytes: 16 << 20,
            max_header_bytes: 1 << 20,
            max_metadata_bytes: 32 << 20,
            max_metadata_files: 1024,
            max_total_bytes: 1 << 40,
            deadline: None,
        }
    }
}

/// A regular file of the bundle.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileEntry {
    /// Canonical name (leading `./` removed; see `airlock_core::name`).
    pub name: String,
    /// SHA-256 of its content.
    pub sha256: Sha256Digest,
    /// Its size in bytes.
    pub size: u64,
}

/// What one pass over a bundle learned.
#[derive(Debug, Clone, Default)]
pub struct Inventory {
    /// SHA-256 of the whole bundle file as stored on the media (None if it could not be read to
    /// the end).
    pub bundle_sha256: Option<Sha256Digest>,
    /// Size of the bundle file in bytes.
    pub bundle_size: u64,
    /// Every regular file, in archive order.
    pub files: Vec<FileEntry>,
    /// Exact bytes of the metadata files (see [`is_metadata`]), by canonical name; the DSSE
    /// provenance file is in `provenance` instead when the scan read it.
    pub metadata: BTreeMap<String, Vec<u8>>,
    /// The DSSE provenance file (`crate::trust::provenance::FILE`), parsed by the scan as soon as
    /// its last byte arrived ([`crate::trust::provenance::parse`]): at 100 000 artifacts its 22 MB
    /// of base64 JSON are 16 MB once decoded, and the rest of the bundle is still to be read.
    pub provenance: Option<Result<PaeEnvelope, FormatError>>,
}

/// The listing files (see [`is_listing`]) taken out of a scan, for [`crate::policy::assess_with`]
/// to free each as soon as it is checked.
#[derive(Debug, Default)]
pub struct Listings {
    /// Their exact bytes, by canonical name.
    pub files: BTreeMap<String, Vec<u8>>,
    /// The provenance file as the scan parsed it (see [`Inventory::provenance`]).
    pub provenance: Option<Result<PaeEnvelope, FormatError>>,
}

impl Inventory {
    /// Takes the listing files out of the inventory.
    pub fn take_listings(&mut self) -> Listings {
        let (files, rest) = std::mem::take(&mut self.metadata)
            .into_iter()
            .partition(|(name, _)| is_listing(name));
        self.metadata = rest;
        Listings {
            files,
            provenance: self.provenance.take(),
        }
    }
}

/// The outcome of a scan that ran to its end (successfully or not).
#[derive(Debug, Clone, Default)]
pub struct Scan {
    /// What was learned (possibly partial when `reasons` is not empty).
    pub inventory: Inventory,
    /// Every problem found; empty means the archive is well-formed and safe.
    pub reasons: Vec<Reason>,
}

/// Why a scan did not reach a conclusion at all (no verdict may be claimed).
#[derive(Debug)]
pub enum ScanAbort {
    /// The deadline passed while reading (a stalled device).
    Deadline,
}

/// Told how far reading has got, for a progress bar.
pub trait Progress: Send + Sync {
    /// A bundle (MEDIA-relative name) is about to be read.
    fn begin(&self, _bundle: &str) {}
    /// `bytes` of the bundle file have been read so far, of `total`.
    fn position(&self, bytes: u64, total: u64);
    /// The bundle has been read.
    fn end(&self) {}
}

/// A progress sink that shows nothing.
pub struct NoProgress;

impl Progress for NoProgress {
    fn position(&self, _: u64, _: u64) {}
}

/// Most bytes of trust material (`offline-trust-root-bootstrap.json`, `trust-root/<n>.json`,
/// `revocations.json`) kept from one bundle, all files together: the memory budget (issue 11
/// #3). Without it 1023 × 1 MiB `trust-root/<n>.json` (a 1.1 MB `.tar.gz`) were all kept and
/// parsed, 2.1 GB of RSS. Real trust material is kilobytes; a chain of 256 roots is about 1 MiB.
pub const MAX_TRUST_BYTES: u64 = 4 << 20;

/// Whether a canonical metadata name is trust material (counted against [`MAX_TRUST_BYTES`]).
pub use airlock_formats::layout::bundle::is_trust_material;

/// Receives the bytes of the bundle's regular files as the walk streams them (`airlock extract`):
/// the same single read that yields the whole-file digest and every file's digest.
pub trait Contents {
    /// A regular file with this canonical name, size and tar mode starts (only entries the walk
    /// accepts: safe names, no duplicates); returns whether to receive its bytes.
    fn begin(&mut self, name: &str, size: u64, mode: u32) -> bool;
    /// The next bytes of that file.
    fn data(&mut self, bytes: &[u8]);
    /// That file is complete; `sha256` is its digest as the walk computed it.
    fn end(&mut self, sha256: &Sha256Digest);
}

/// Receives nothing (a plain scan).
struct NoContents;

impl Contents for NoContents {
    fn begin(&mut self, _: &str, _: u64, _: u32) -> bool {
        false
    }
    fn data(&mut self, _: &[u8]) {}
    fn end(&mut self, _: &Sha256Digest) {}
}

/// Whether a canonical name is a metadata file kept in memory.
pub use airlock_formats::layout::bundle::is_metadata;

/// Largest metadata file other than a listing file (signatures, trust roots, revocations,
/// signing operations): the JSON document cap.
pub const MAX_DOCUMENT_FILE: u64 = crate::json::MAX_DOCUMENT_BYTES as u64;

/// Whether a metadata file names every artifact (and so may be as large as
/// [`Limits::max_metadata_bytes`]; every other one is capped at [`MAX_DOCUMENT_FILE`] as well).
pub use airlock_formats::layout::bundle::is_listing;

/// Reads the bundle at `path` once.
///
/// The rules (FORMATS §5), each failure a [`Reason`] with its code:
///
/// * **Input.** A regular file (a FIFO, device, socket or directory is `bundle-unreadable`, at
///   once: opening never blocks). Gzip, zstd and xz are recognised by their magic bytes
///   (`1f 8b`, `28 b5 2f fd`, `fd 37 7a 58 5a 00`), whatever the name; anything else is a tar.
/// * **zstd and xz: one frame / one stream, then nothing** (see `codec`): skippable frames,
///   dictionary ids, stream padding, a second frame or stream or any trailing byte are
///   `bundle-unreadable`; a zstd window above 128 MiB or an xz dictionary above 64 MiB is
///   `bundle-limit-exceeded`.
/// * **Gzip: one member, then nothing.** A compressed bundle is exactly one gzip member (RFC 1952;
///   CRC-32 and size trailer checked) followed by the end of the file. A second member
///   (`cat a.gz b.gz`) or any byte after the trailer, zeros included, is `bundle-unreadable`:
///   `gzip -dc` would decompress members that a single-member reader ignores.
/// * **Tar structure** (`bundle-unreadable`, the walk stops): a bad header checksum, a size field
///   that is not a number, negative or overflowing, truncation anywhere, a missing end of archive
///   (two 512-byte zero blocks), and any non-zero byte after those blocks (zero padding is fine).
/// * **Entries** (`bundle-entry-unsafe`, the entry is skipped and the walk goes on): anything but
///   a regular file (`0`, NUL) or directory (`5`) — links, devices, FIFOs, contiguous, sparse
///   (`S` or `GNU.sparse.*`), GNU `K`, unknown types; a name with a NUL (also after the NUL
///   terminator of a header field), not UTF-8, absolute, with `..`, an empty or `.` component, a
///   backslash or a control character (after removing one leading `./` and a directory's trailing
///   `/`; a bare `.`/`./` directory is ignored). A global PAX header (`g`), two extension headers
///   for one entry, a malformed PAX record, a repeated PAX key or a PAX `size` that differs from
///   the header's size stop the walk: readers would disagree on where entries are.
/// * **Duplicates** (`bundle-entry-duplicate`): two entries whose names are equal after NFD,
///   full case folding and NFC (`README`/`readme`, `café` NFC/NFD, `ß`/`ss`), files and
///   directories alike, and a file whose name another entry uses as a directory.
/// * **Limits** (`bundle-limit-exceeded`): see [`Limits`]; a metadata file over its limit is still
///   hashed and listed, but not kept. At most 1000 reasons are listed.
///
/// Every problem is a reason in the returned [`Scan`]; only a passed deadline is an `Err`,
/// because then no verdict may be claimed. The whole file is always read to its end, so that
/// `bundle_sha256` is the digest of the file as stored even when the archive was refused early
/// (it is `None` only when the file itself could not be read).
pub fn scan(path: &Path, limits: &Limits, progress: &dyn Progress) -> Result<Scan, ScanAbort> {
    scan_with(path, limits, progress, &mut NoContents)
}

/// [`scan`], passing every accepted regular file's bytes to `contents` as they stream.
pub fn scan_with(
    path: &Path,
    limits: &Limits,
    progress: &dyn Progress,
    contents: &mut dyn Contents,
) -> Result<Scan, ScanAbort> {
    let mut scan = Scan::default();
    let (source, mut up) = match stream::start(path) {
        Ok(started) => started,
        Err(reason) => {
            scan.reasons.push(reason);
            return Ok(scan);
        }
    };
    // Sniff the first bytes (a full chunk, or the whole file when it is smaller).
    let format = match up.fill(limits.deadline) {
        Ok(_) => codec::Format::sniff(up.remaining()),
        Err(stream::Pull::Deadline) => return Err(ScanAbort::Deadline),
        Err(stream::Pull::Failed(reason)) => {
            scan.reasons.push(reason);
            drop(up);
            return finish(scan, source, limits, progress);
        }
    };
    up = match codec::open(format, up) {
        Ok(decoded) => decoded,
        Err(reason) => {
            scan.reasons.push(reason);
            return finish(scan, source, limits, progress);
        }
    };
    let position = || source.position();
    let mut input = archive::Input::new(up, limits, progress, &position);
    if archive::walk(&mut input, limits, &mut scan, contents).is_err() {
        return Err(ScanAbort::Deadline);
    }
    // Stop consuming: the hash thread goes on reading and hashing the rest of the file alone.
    drop(input.into_upstream());
    finish(scan, source, limits, progress)
}

/// Waits for the whole-file digest and adds it to `scan`.
fn finish(
    mut scan: Scan,
    source: stream::Source,
    limits: &Limits,
    progress: &dyn Progress,
) -> Result<Scan, ScanAbort> {
    let whole = source
        .finish(limits.deadline, progress)
        .map_err(|_| ScanAbort::Deadline)?;
    scan.inventory.bundle_sha256 = whole.digest;
    scan.inventory.bundle_size = whole.size;
    if let Some(reason) = whole.error {
        if !scan.reasons.contains(&reason) {
            scan.reasons.push(reason);
        }
    }
    Ok(scan)
}
