//! The tar walk: headers, PAX and GNU long-name extensions, entry data and the end of the archive.
//!
//! The walk reads 512-byte blocks straight from the pipeline's chunks and hashes entry data in
//! place. It uses `tar::Header` for the header layout and type flag and `tar::PaxExtensions` for
//! PAX records, but not `tar::Archive`: the archive iterator treats the end of the input at a
//! header boundary as a clean end (no end-of-archive blocks required), stops at the first zero
//! block without looking at the second or at what follows, reads PAX and GNU long-name data into
//! memory without a bound, and parses a negative base-256 size as a large positive one. Here every
//! one of those is decided explicitly:
//!
//! * an extension header (`x`, `L`) is read with a cap (`Limits::max_header_bytes`) and applied to
//!   the next entry only; a PAX `size` must equal the header's size (otherwise readers disagree on
//!   where the next header is, so the walk stops);
//! * only regular files (`0`, NUL) and directories (`5`) are accepted;
//! * the archive ends with two zero blocks, after which only zero bytes may follow;
//! * a problem with one entry is reported and its data skipped, so that every problem is listed;
//!   a structural problem (checksum, truncation, ambiguous size) stops the walk.

use super::entry::{self, canonical, parse_pax, Kind, Names, Pax, Shown};
use super::stream::{Pull, Upstream};
use super::{
    is_listing, is_metadata, Contents, FileEntry, Limits, Progress, Scan, MAX_DOCUMENT_FILE,
};
use crate::reason::{Code, Reason};
use airlock_core::digest::Sha256;
use std::time::{Duration, Instant};

const BLOCK: usize = 512;
const BLOCK_U64: u64 = 512;
/// Most problems listed for one bundle; past this the walk stops (memory stays bounded).
pub(crate) const MAX_REASONS: usize = 1000;
const PROGRESS_EVERY: Duration = Duration::from_millis(50);

/// Why the walk stopped before the end of the archive.
enum Stop {
    /// The deadline passed: no conclusion at all.
    Deadline,
    /// A reason was recorded; nothing more can be learned from the archive.
    Reported,
}

/// The decompressed archive bytes as the walk sees them: a deadline on every wait, the
/// decompression-bomb cap, and progress reports.
pub(crate) struct Input<'a> {
    up: Upstream,
    deadline: Option<Instant>,
    max_total: u64,
    offset: u64,
    progress: &'a dyn Progress,
    position: &'a dyn Fn() -> (u64, u64),
    last_report: Instant,
}

impl<'a> Input<'a> {
    pub(crate) fn new(
        up: Upstream,
        limits: &Limits,
        progress: &'a dyn Progress,
        position: &'a dyn Fn() -> (u64, u64),
    ) -> Self {
        Self {
            up,
            deadline: limits.deadline,
            max_total: limits.max_total_bytes,
            offset: 0,
            progress,
            position,
            last_report: Instant::now(),
        }
    }

    /// Available bytes (empty only at the end of the input).
    fn avail(&mut self, problems: &mut Problems<'_>) -> Result<&[u8], Stop> {
        if self.up.remaining().is_empty() {
            match self.up.fill(self.deadline) {
                Ok(_) => {}
                Err(Pull::Deadline) => return Err(Stop::Deadline),
                Err(Pull::Failed(reason)) => {
                    problems.push(reason)?;
                    return Err(Stop::Reported);
                }
            }
            if self.up.received() > self.max_total {
                problems.push(Reason::new(
                    Code::BundleLimitExceeded,
                    format!(
                        "The bundle's archive is larger than the limit of {} bytes (after decompression).",
                        self.max_total
                    ),
                ))?;
                return Err(Stop::Reported);
            }
            if self.last_report.elapsed() >= PROGRESS_EVERY {
                self.last_report = Instant::now();
                let (read, total) = (self.position)();
                self.progress.position(read, total);
            }
        }
        Ok(self.up.remaining())
    }

    fn advance(&mut self, n: usize) {
        self.up.advance(n);
        self.offset = self.offset.saturating_add(n as u64);
    }

    /// Fills `block` as far as the input goes; returns how many bytes were read.
    fn read_block(
        &mut self,
        block: &mut [u8; BLOCK],
        problems: &mut Problems<'_>,
    ) -> Result<usize, Stop> {
        let mut got = 0;
        while got < BLOCK {
            let src = self.avail(problems)?;
            if src.is_empty() {
                break;
            }
            let n = src.len().min(BLOCK.saturating_sub(got));
            if let (Some(dst), Some(src)) =
                (block.get_mut(got..got.saturating_add(n)), src.get(..n))
            {
                dst.copy_from_slice(src);
            }
            self.advance(n);
            got = got.saturating_add(n);
        }
        Ok(got)
    }

    /// Passes the next `n` bytes to `sink`, in place; returns how many there were (fewer than `n`
    /// only at the end of the input).
    fn feed(
        &mut self,
        n: u64,
        problems: &mut Problems<'_>,
        sink: &mut dyn FnMut(&[u8]),
    ) -> Result<u64, Stop> {
        let mut done = 0u64;
        while done < n {
            let src = self.avail(problems)?;
            if src.is_empty() {
                break;
            }
            let want = usize::try_from(n.saturating_sub(done)).unwrap_or(usize::MAX);
            let take = src.len().min(want);
            sink(src.get(..take).unwrap_or_default());
            self.advance(take);
            done = done.saturating_add(take as u64);
        }
        Ok(done)
    }

    /// Skips `n` bytes; returns how many there were.
    fn skip(&mut self, n: u64, problems: &mut Problems<'_>) -> Result<u64, Stop> {
        self.feed(n, problems, &mut |_| {})
    }

    /// Gives the upstream back (to drop it, telling the producers to stop sending).
    pub(crate) fn into_upstream(self) -> Upstream {
        self.up
    }
}

/// The reasons found so far, bounded.
struct Problems<'a> {
    reasons: &'a mut Vec<Reason>,
}

impl Problems<'_> {
    fn push(&mut self, reason: Reason) -> Result<(), Stop> {
        if self.reasons.len() >= MAX_REASONS {
            return Err(Stop::Reported);
        }
        self.reasons.push(reason);
        if self.reasons.len() >= MAX_REASONS {
            self.reasons.push(Reason::new(
                reason_code_of_last(self.reasons),
                format!(
                    "The bundle has at least {MAX_REASONS} problems; the rest were not examined."
                ),
            ));
            return Err(Stop::Reported);
        }
        Ok(())
    }

    /// Records a problem that ends the walk.
    fn fatal(&mut self, code: Code, message: String) -> Stop {
        match self.push(Reason::new(code, message)) {
            Ok(()) | Err(Stop::Reported) => Stop::Reported,
            Err(Stop::Deadline) => Stop::Deadline,
        }
    }
}

fn reason_code_of_last(reasons: &[Reason]) -> Code {
    reasons
        .last()
        .map(|r| r.code)
        .unwrap_or(Code::BundleUnreadable)
}

/// A GNU long name waiting for its entry.
enum LongName {
    Name(Vec<u8>),
    /// Over `max_header_bytes` (already reported).
    TooLong,
}

/// Extension headers waiting for the entry they describe.
#[derive(Default)]
struct Pending {
    pax: Option<Pax>,
    long_name: Option<LongName>,
}

impl Pending {
    fn is_empty(&self) -> bool {
        self.pax.is_none() && self.long_name.is_none()
    }
}

/// Walks the archive, filling `scan.inventory.files` / `metadata` and `scan.reasons`.
/// `Err(())` only when the deadline passed.
/// Most inventory entries reserved up front (the default entry cap).
const MAX_RESERVED_FILES: usize = 100_000;

pub(crate) fn walk(
    input: &mut Input<'_>,
    limits: &Limits,
    scan: &mut Scan,
    contents: &mut dyn Contents,
) -> Result<(), ()> {
    let mut walker = Walker {
        limits,
        contents,
        names: Names::default(),
        entries: 0,
        name_bytes: 0,
        metadata_files: 0,
        trust_bytes: 0,
    };
    // Room for every file the entry cap allows, reserved once: pages never written cost no memory,
    // and growing by doubling would hold up to twice the inventory (and copy it) at the cap.
    scan.inventory
        .files
        .reserve_exact(limits.max_entries.min(MAX_RESERVED_FILES));
    let mut problems = Problems {
        reasons: &mut scan.reasons,
    };
    match walker.run(input, &mut problems, &mut scan.inventory) {
        Ok(()) | Err(Stop::Reported) => Ok(()),
        Err(Stop::Deadline) => Err(()),
    }
}

struct Walker<'l> {
    limits: &'l Limits,
    contents: &'l mut dyn Contents,
    names: Names,
    entries: usize,
    name_bytes: u64,
    metadata_files: usize,
    /// Bytes of trust material kept so far (see [`super::MAX_TRUST_BYTES`]).
    trust_bytes: u64,
}

/// The parts of a header the walk uses.
struct Header {
    flag: u8,
    size: u64,
    /// Name from the header itself (ustar prefix joined).
    name: Vec<u8>,
    /// Bytes other than NUL after the first NUL of the name or prefix field.
    name_has_junk: bool,
    link: Vec<u8>,
    /// Permission bits (0 when the field is not a number: only the executable bit is used).
    mode: u32,
}

fn is_zero(bytes: &[u8]) -> bool {
    bytes.iter().all(|&b| b == 0)
}

/// The bytes of a fixed-width, NUL-terminated header field, and whether anything but NUL follows
/// the first NUL (a name that reads differently to different tools).
fn field(bytes: &[u8]) -> (&[u8], bool) {
    match bytes.iter().position(|&b| b == 0) {
        Some(at) => (
            bytes.get(..at).unwrap_or_default(),
            !is_zero(bytes.get(at..).unwrap_or_default()),
        ),
        None => (bytes, false),
    }
}

/// Parses the 12-byte size field strictly: octal digits (optionally space-padded in front,
/// NUL- or space-terminated), or GNU base-256 with the sign bit clear.
fn parse_size(raw: &[u8]) -> Result<u64, &'static str> {
    match raw.first() {
        Some(&0x80) => {
            let (high, low) = raw.split_at(raw.len().saturating_sub(8));
            if !is_zero(high.get(1..).unwrap_or_default()) {
                return Err("a size that does not fit in 64 bits");
            }
            let mut be = [0u8; 8];
            be.copy_from_slice(low);
            Ok(u64::from_be_bytes(be))
        }
        Some(b) if b & 0x80 != 0 => Err("a negative base-256 size"),
        _ => {
            let text = raw.iter().skip_while(|&&b| b == b' ');
            let mut value = 0u64;
            let mut digits = 0usize;
            let mut ended = false;
            for &b in text {
                match b {
                    b'0'..=b'7' if !ended => {
                        value = value
                            .checked_mul(8)
                            .and_then(|v| v.checked_add(u64::from(b - b'0')))
                            .ok_or("a size that does not fit in 64 bits")?;
                        digits = digits.saturating_add(1);
                    }
                    0 | b' ' => ended = true,
                    _ => return Err("a size field that is not an octal number"),
                }
            }
            if digits == 0 {
                return Err("an empty size field");
            }
            Ok(value)
        }
    }
}

impl<'l> Walker<'l> {
    fn run(
        &mut self,
        input: &mut Input<'_>,
        problems: &mut Problems<'_>,
        inventory: &mut super::Inventory,
    ) -> Result<(), Stop> {
        let mut pending = Pending::default();
        let mut block = [0u8; BLOCK];
        loop {
            let at = input.offset;
            let got = input.read_block(&mut block, problems)?;
            if got == 0 {
                return Err(problems.fatal(
                    Code::BundleUnreadable,
                    if at == 0 {
                        "The bundle is empty: it holds no tar archive.".to_owned()
                    } else {
                        format!(
                            "The bundle's archive ends at byte {at} without the two zero blocks that mark the end of a tar archive (truncated?)."
                        )
                    },
                ));
            }
            if got < BLOCK {
                return Err(problems.fatal(
                    Code::BundleUnreadable,
                    format!(
                        "The bundle's archive is truncated: it ends inside a header at byte {at}."
                    ),
                ));
            }
            if is_zero(&block) {
                return self.end(input, problems, at, &pending);
            }
            let header = match parse_header(&block) {
                Ok(h) => h,
                Err(why) => {
                    return Err(problems.fatal(
                        Code::BundleUnreadable,
                        if at == 0 {
                            format!(
                                "The bundle is not a tar archive (or a gzip-compressed one): its first block is not a tar header ({why})."
                            )
                        } else {
                            format!("The bundle's archive has a bad tar header at byte {at}: {why}.")
                        },
                    ));
                }
            };
            let name_shown = Shown(&header.name).to_string();
            let Some(padded) = header
                .size
                .checked_add(BLOCK_U64 - 1)
                .map(|s| s & !(BLOCK_U64 - 1))
            else {
                return Err(problems.fatal(
                    Code::BundleUnreadable,
                    format!(
                        "The bundle entry {name_shown} at byte {at} has a size ({}) so large the archive cannot hold it.",
                        header.size
                    ),
                ));
            };
            match header.flag {
                b'x' | b'L' if !pending.is_empty() => {
                    // Two extension headers for one entry: readers disagree on which applies (and
                    // on whether a PAX size applies to a GNU long-name header), so refuse them.
                    return Err(problems.fatal(
                        Code::BundleEntryUnsafe,
                        format!("The bundle's archive has two extended headers (PAX or GNU long name) in a row at byte {at}; readers disagree on how they apply."),
                    ));
                }
                b'x' => {
                    let data = self.read_extension(
                        input,
                        problems,
                        &header,
                        padded,
                        at,
                        "PAX extended header",
                    )?;
                    match parse_pax(&data) {
                        Ok(pax) => pending.pax = Some(pax),
                        Err(why) => {
                            return Err(problems.fatal(
                                Code::BundleEntryUnsafe,
                                format!("The PAX extended header at byte {at} {why}; the entry it describes cannot be read reliably."),
                            ));
                        }
                    }
                }
                b'L' => {
                    if header.size > self.limits.max_header_bytes {
                        problems.push(Reason::new(
                            Code::BundleLimitExceeded,
                            format!(
                                "The GNU long-name header at byte {at} is {} bytes; the limit is {} bytes.",
                                header.size, self.limits.max_header_bytes
                            ),
                        ))?;
                        self.skip_data(input, problems, padded, &name_shown)?;
                        pending.long_name = Some(LongName::TooLong);
                    } else {
                        let mut data = self.read_extension(
                            input,
                            problems,
                            &header,
                            padded,
                            at,
                            "GNU long-name header",
                        )?;
                        while data.last() == Some(&0) {
                            data.pop();
                        }
                        pending.long_name = Some(LongName::Name(data));
                    }
                }
                b'g' => {
                    return Err(problems.fatal(
                        Code::BundleEntryUnsafe,
                        format!("The bundle's archive has a global PAX header (type g) at byte {at}, which would change how every later entry is read."),
                    ));
                }
                b'S' => {
                    return Err(problems.fatal(
                        Code::BundleEntryUnsafe,
                        format!("The bundle entry {name_shown} at byte {at} is a GNU sparse file (type S); sparse entries are not allowed."),
                    ));
                }
                _ => {
                    let taken = std::mem::take(&mut pending);
                    self.entry(input, problems, inventory, header, taken, padded, at)?;
                }
            }
        }
    }

    /// Reads the data of an extension header (capped) and skips its padding.
    fn read_extension(
        &mut self,
        input: &mut Input<'_>,
        problems: &mut Problems<'_>,
        header: &Header,
        padded: u64,
        at: u64,
        what: &str,
    ) -> Result<Vec<u8>, Stop> {
        if header.size > self.limits.max_header_bytes {
            return Err(problems.fatal(
                Code::BundleLimitExceeded,
                format!(
                    "The {what} at byte {at} is {} bytes; the limit is {} bytes.",
                    header.size, self.limits.max_header_bytes
                ),
            ));
        }
        // Grown as bytes arrive: a lying size cannot reserve memory up front.
        let mut data = Vec::with_capacity(usize::try_from(header.size).unwrap_or(0).min(1 << 16));
        let got = input.feed(header.size, problems, &mut |s| data.extend_from_slice(s))?;
        if got < header.size {
            return Err(truncated(problems, &format!("the {what} at byte {at}")));
        }
        self.skip_data(input, problems, padded.saturating_sub(header.size), what)?;
        Ok(data)
    }

    fn skip_data(
        &mut self,
        input: &mut Input<'_>,
        problems: &mut Problems<'_>,
        n: u64,
        what: &str,
    ) -> Result<(), Stop> {
        if input.skip(n, problems)? < n {
            return Err(truncated(problems, what));
        }
        Ok(())
    }

    /// One file, directory or refused entry, with the extension headers that precede it.
    #[allow(clippy::too_many_arguments)]
    fn entry(
        &mut self,
        input: &mut Input<'_>,
        problems: &mut Problems<'_>,
        inventory: &mut super::Inventory,
        header: Header,
        pending: Pending,
        padded: u64,
        at: u64,
    ) -> Result<(), Stop> {
        self.entries = self.entries.saturating_add(1);
        if self.entries > self.limits.max_entries {
            return Err(problems.fatal(
                Code::BundleLimitExceeded,
                format!(
                    "The bundle has more than {} entries (the limit).",
                    self.limits.max_entries
                ),
            ));
        }
        let pax = pending.pax.unwrap_or_default();
        if let Some(size) = pax.size {
            if size != header.size {
                return Err(problems.fatal(
                    Code::BundleEntryUnsafe,
                    format!(
                        "The bundle entry {} at byte {at} has a PAX size ({size}) that differs from its header size ({}); readers would disagree on where the next entry starts.",
                        Shown(pax.path.as_deref().unwrap_or(&header.name)),
                        header.size
                    ),
                ));
            }
        }
        // The name: at most one of PAX path and GNU long name is pending (see `run`).
        let raw_name = match (pax.path, pending.long_name) {
            (Some(path), _) => path,
            (None, Some(LongName::Name(name))) => name,
            // Its name was too long to read: already reported.
            (None, Some(LongName::TooLong)) => {
                return self.skip_data(input, problems, padded, "an entry with a too-long name");
            }
            (None, None) => header.name.clone(),
        };
        self.name_bytes = self.name_bytes.saturating_add(raw_name.len() as u64);
        if self.name_bytes > self.limits.max_name_bytes {
            return Err(problems.fatal(
                Code::BundleLimitExceeded,
                format!(
                    "The bundle's entry names add up to more than {} bytes (the limit).",
                    self.limits.max_name_bytes
                ),
            ));
        }
        let shown = Shown(&raw_name).to_string();
        let kind = match header.flag {
            b'0' | 0 => Kind::File,
            b'5' => Kind::Directory,
            flag => {
                let what = entry::refused_type(flag);
                let message = if flag == b'1' || flag == b'2' {
                    format!(
                        "The bundle entry {shown} is {what} to {}; only regular files and directories are allowed.",
                        Shown(pax.linkpath.as_deref().unwrap_or(&header.link))
                    )
                } else {
                    format!("The bundle entry {shown} is {what}; only regular files and directories are allowed.")
                };
                problems.push(Reason::new(Code::BundleEntryUnsafe, message))?;
                return self.skip_data(input, problems, padded, &shown);
            }
        };
        let refusal = if header.name_has_junk {
            Some(unsafe_entry(
                &raw_name,
                "has bytes after a NUL in its header name field; tools would read different names",
            ))
        } else if pax.sparse {
            Some(unsafe_entry(
                &raw_name,
                "is a sparse file (GNU.sparse PAX records); sparse entries are not allowed",
            ))
        } else if pax.linkpath.is_some() {
            Some(unsafe_entry(
                &raw_name,
                "has a PAX linkpath record, which only links have",
            ))
        } else if kind == Kind::Directory && header.size != 0 {
            Some(unsafe_entry(&raw_name, "is a directory with data"))
        } else {
            None
        };
        let name = match refusal.map_or_else(|| canonical(&raw_name, kind), Err) {
            Ok(Some(name)) => name,
            // The bare `.` directory.
            Ok(None) => return self.skip_data(input, problems, padded, &shown),
            Err(reason) => {
                problems.push(reason)?;
                return self.skip_data(input, problems, padded, &shown);
            }
        };
        if let Err(reason) = self.names.insert(&name, kind) {
            problems.push(reason)?;
            return self.skip_data(input, problems, padded, &shown);
        }
        if kind == Kind::Directory {
            return self.skip_data(input, problems, padded, &shown);
        }
        // A regular file: hash it as it streams; keep it if it is a metadata file.
        let mut kept = None;
        if is_metadata(&name) {
            let cap = if is_listing(&name) {
                self.limits.max_metadata_bytes
            } else {
                self.limits.max_metadata_bytes.min(MAX_DOCUMENT_FILE)
            };
            if header.size > cap {
                problems.push(Reason::new(
                    Code::BundleLimitExceeded,
                    format!(
                        "The metadata file {shown} is {} bytes; the limit is {cap} bytes.",
                        header.size
                    ),
                ))?;
            } else if self.metadata_files >= self.limits.max_metadata_files {
                problems.push(Reason::new(
                    Code::BundleLimitExceeded,
                    format!(
                        "The metadata file {shown} is one more than the limit of {} metadata files.",
                        self.limits.max_metadata_files
                    ),
                ))?;
            } else if super::is_trust_material(&name)
                && self.trust_bytes.saturating_add(header.size) > super::MAX_TRUST_BYTES
            {
                problems.push(Reason::new(
                    Code::BundleLimitExceeded,
                    format!(
                        "The trust material {shown} would take the bundle's trust files past \
                         {} bytes together; it is not read.",
                        super::MAX_TRUST_BYTES
                    ),
                ))?;
            } else {
                if super::is_trust_material(&name) {
                    self.trust_bytes = self.trust_bytes.saturating_add(header.size);
                }
                self.metadata_files = self.metadata_files.saturating_add(1);
                // Exactly its size (at most the cap, checked above): growing by doubling would
                // hold up to twice a 32 MiB listing file, and copy it on the way.
                kept = Some(Vec::with_capacity(
                    usize::try_from(header.size).unwrap_or(0),
                ));
            }
        }
        let mut hasher = Sha256::new();
        let wanted = self.contents.begin(&name, header.size, header.mode);
        let contents = &mut *self.contents;
        let got = input.feed(header.size, problems, &mut |bytes| {
            hasher.update(bytes);
            if let Some(kept) = kept.as_mut() {
                kept.extend_from_slice(bytes);
            }
            if wanted {
                contents.data(bytes);
            }
        })?;
        if got < header.size {
            return Err(truncated(problems, &shown));
        }
        let digest = hasher.finalize();
        if wanted {
            self.contents.end(&digest);
        }
        self.skip_data(input, problems, padded.saturating_sub(header.size), &shown)?;
        inventory.files.push(FileEntry {
            name: name.clone(),
            sha256: digest,
            size: header.size,
        });
        if let Some(kept) = kept {
            if name == crate::trust::provenance::FILE {
                inventory.provenance = Some(crate::trust::provenance::parse(kept));
            } else {
                inventory.metadata.insert(name, kept);
            }
        }
        Ok(())
    }

    /// The end of the archive: `at` is where the first zero block started.
    fn end(
        &mut self,
        input: &mut Input<'_>,
        problems: &mut Problems<'_>,
        at: u64,
        pending: &Pending,
    ) -> Result<(), Stop> {
        if !pending.is_empty() {
            problems.push(Reason::new(
                Code::BundleEntryUnsafe,
                format!("The bundle's archive has an extended header that no entry follows (end of archive at byte {at})."),
            ))?;
        }
        let mut block = [0u8; BLOCK];
        let got = input.read_block(&mut block, problems)?;
        if got < BLOCK {
            return Err(problems.fatal(
                Code::BundleUnreadable,
                format!("The bundle's archive is truncated: it ends after a single zero block at byte {at}; a tar archive ends with two."),
            ));
        }
        if !is_zero(&block) {
            return Err(problems.fatal(
                Code::BundleUnreadable,
                format!("The bundle's archive has a lone zero block at byte {at} followed by more data; a tar archive ends with two zero blocks."),
            ));
        }
        // Only zero bytes may follow (GNU tar pads to its record size); anything else could be a
        // second archive that `tar -i` would extract.
        loop {
            let bytes = input.avail(problems)?;
            if bytes.is_empty() {
                return Ok(());
            }
            if let Some(i) = bytes.iter().position(|&b| b != 0) {
                let where_ = input.offset.saturating_add(i as u64);
                return Err(problems.fatal(
                    Code::BundleUnreadable,
                    format!("The bundle has a non-zero byte at byte {where_} of its archive, after the end-of-archive blocks; only zero bytes may follow them."),
                ));
            }
            let n = bytes.len();
            input.advance(n);
        }
    }
}

fn unsafe_entry(name: &[u8], why: &str) -> Reason {
    Reason::new(
        Code::BundleEntryUnsafe,
        format!("The bundle entry {} {why}.", Shown(name)),
    )
}

fn truncated(problems: &mut Problems<'_>, what: &str) -> Stop {
    problems.fatal(
        Code::BundleUnreadable,
        format!("The bundle's archive is truncated inside the data of {what}."),
    )
}

/// Checks the header checksum and extracts what the walk needs.
fn parse_header(block: &[u8; BLOCK]) -> Result<Header, String> {
    let mut owned = tar::Header::new_old();
    *owned.as_mut_bytes() = *block;
    let h = &owned;
    let expected = h
        .cksum()
        .map_err(|_| "its checksum field is not an octal number".to_owned())?;
    let actual: u32 = block
        .iter()
        .enumerate()
        .map(|(i, &b)| {
            if (148..156).contains(&i) {
                32
            } else {
                u32::from(b)
            }
        })
        .sum();
    if actual != expected {
        return Err(format!(
            "its checksum is {expected} but its bytes sum to {actual}"
        ));
    }
    let old = h.as_old();
    let size = parse_size(&old.size).map_err(|why| format!("it has {why}"))?;
    let (name, mut name_has_junk) = field(&old.name);
    let mut name = name.to_vec();
    // ustar (`ustar\0` `00`) splits long names into prefix + name; the GNU format does not (it
    // keeps other fields there).
    if let Some(ustar) = h.as_ustar() {
        let (prefix, junk) = field(&ustar.prefix);
        name_has_junk |= junk;
        if !prefix.is_empty() {
            let mut joined = prefix.to_vec();
            joined.push(b'/');
            joined.extend_from_slice(&name);
            name = joined;
        }
    }
    Ok(Header {
        flag: old.linkflag[0],
        size,
        name,
        name_has_junk,
        link: field(&old.linkname).0.to_vec(),
        mode: h.mode().unwrap_or(0),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes() {
        assert_eq!(parse_size(b"00000001750\0"), Ok(1000));
        assert_eq!(parse_size(b"     1750 \0\0"), Ok(1000));
        assert_eq!(parse_size(b"77777777777\0"), Ok(0o77777777777));
        assert!(parse_size(b"\0\0\0\0\0\0\0\0\0\0\0\0").is_err());
        assert!(parse_size(b"0000000175x\0").is_err());
        assert!(parse_size(b"00000001750\x01").is_err());
        assert!(parse_size(b"000 0001750\0").is_err());
        let mut b256 = [0u8; 12];
        b256[0] = 0x80;
        b256[11] = 5;
        assert_eq!(parse_size(&b256), Ok(5));
        b256[3] = 1;
        assert!(parse_size(&b256).is_err());
        let neg = [0xffu8; 12];
        assert!(parse_size(&neg).is_err());
        let max = [
            0x80, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
        ];
        assert_eq!(parse_size(&max), Ok(u64::MAX));
    }
}
