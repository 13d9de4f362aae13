//! Which container a bundle is (by content, never by name) and the zstd and xz rules.
//!
//! * **zstd** (RFC 8878): exactly one frame, then the end of the file. The frame header is read
//!   here before decoding: a skippable frame (magic `0x184D2A5?`), a `Dictionary_ID` field (even
//!   0: no standard encoder writes one without a dictionary), a reserved bit, or a window above
//!   [`ZSTD_MAX_WINDOW`] (`bundle-limit-exceeded`) are refused. libzstd then decodes with the same
//!   window cap and checks the content checksum when the frame has one.
//! * **xz** (xz file format 1.2): exactly one stream, then the end of the file (stream padding,
//!   a second stream, any byte are refused). liblzma decodes with a memory limit that admits an
//!   LZMA2 dictionary of [`XZ_MAX_DICT`] and refuses the next larger one (96 MiB)
//!   (`bundle-limit-exceeded`), and verifies every block's check (CRC-32, CRC-64, SHA-256);
//!   an unsupported check type is refused.

use super::stream::{self, ChunkReader, Decoder, Msg, Upstream};
use crate::reason::{Code, Reason};
use std::io::{self, BufRead, Read};

/// Largest zstd window accepted (zstd's default decoder limit; `zstd --long=27`).
pub const ZSTD_MAX_WINDOW: u64 = 128 << 20;
/// Largest xz (LZMA2) dictionary accepted (`xz -9`).
pub const XZ_MAX_DICT: u64 = 64 << 20;
/// liblzma's memory limit: the largest dictionary plus its small fixed state. The next larger
/// LZMA2 dictionary (3 * 2^25 = 96 MiB) needs far more, so the limit is exact in effect.
const XZ_MEMLIMIT: u64 = XZ_MAX_DICT + (4 << 20);

const ZSTD_MAGIC: [u8; 4] = [0x28, 0xb5, 0x2f, 0xfd];
const XZ_MAGIC: [u8; 6] = [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00];

/// What the first bytes of a bundle say it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Format {
    Tar,
    Gzip,
    Zstd,
    Xz,
    /// A zstd skippable frame (`0x184D2A50`..`5F`, little-endian): data a decoder skips unseen.
    ZstdSkippable,
}

impl Format {
    pub(crate) fn sniff(head: &[u8]) -> Self {
        if head.starts_with(&[0x1f, 0x8b]) {
            Self::Gzip
        } else if head.starts_with(&ZSTD_MAGIC) {
            Self::Zstd
        } else if head.starts_with(&XZ_MAGIC) {
            Self::Xz
        } else if is_skippable(head) {
            Self::ZstdSkippable
        } else {
            Self::Tar
        }
    }
}

fn is_skippable(head: &[u8]) -> bool {
    matches!(head, [b0, 0x2a, 0x4d, 0x18, ..] if b0 & 0xf0 == 0x50)
}

fn unreadable(msg: impl Into<String>) -> Reason {
    Reason::new(Code::BundleUnreadable, msg)
}

/// Starts decoding `up` as `format` (gzip, zstd or xz); `Tar` passes it through. `head` holds
/// the first bytes of the file (the whole file or at least a full chunk), for the header rules.
pub(crate) fn open(format: Format, up: Upstream) -> Result<Upstream, Reason> {
    match format {
        Format::Tar => Ok(up),
        Format::Gzip => stream::inflate(up),
        Format::ZstdSkippable => Err(unreadable(
            "The bundle begins with a zstd skippable frame; a .tar.zst bundle must be exactly one zstd frame and nothing else.",
        )),
        Format::Zstd => {
            zstd_header(up.remaining())?;
            stream::decompress(up, "airlock-unzstd", |reader| {
                let mut d = zstd::stream::read::Decoder::with_buffer(reader)
                    .map_err(|e| unreadable(format!("The zstd decoder could not start ({e}).")))?
                    .single_frame();
                d.window_log_max(ZSTD_MAX_WINDOW.trailing_zeros())
                    .map_err(|e| unreadable(format!("The zstd decoder could not start ({e}).")))?;
                Ok(ZstdFrame(d))
            })
        }
        Format::Xz => {
            xz_header(up.remaining())?;
            stream::decompress(up, "airlock-unxz", |reader| {
                let s = liblzma::stream::Stream::new_stream_decoder(
                    XZ_MEMLIMIT,
                    liblzma::stream::TELL_UNSUPPORTED_CHECK,
                )
                .map_err(|e| unreadable(format!("The xz decoder could not start ({e}).")))?;
                Ok(XzStream(liblzma::bufread::XzDecoder::new_stream(reader, s)))
            })
        }
    }
}

/// The zstd frame header rules (RFC 8878 §3.1.1.1), checked before any decoding.
fn zstd_header(head: &[u8]) -> Result<(), Reason> {
    let truncated = || unreadable("The bundle's zstd frame header is truncated.");
    let fhd = *head.get(4).ok_or_else(truncated)?;
    let fcs_flag = fhd >> 6;
    let single_segment = fhd & 0x20 != 0;
    if fhd & 0x08 != 0 {
        return Err(unreadable(
            "The bundle's zstd frame header sets the reserved bit; it is not a valid zstd frame.",
        ));
    }
    if fhd & 0x03 != 0 {
        return Err(unreadable(
            "The bundle's zstd frame names a dictionary (Dictionary_ID); a bundle must decompress without one.",
        ));
    }
    let window = if single_segment {
        // The window is the content size, which follows the descriptor.
        let size = match fcs_flag {
            0 => 1,
            1 => 2,
            2 => 4,
            _ => 8,
        };
        let field = head.get(5..5 + size).ok_or_else(truncated)?;
        let mut value = field
            .iter()
            .rev()
            .fold(0u64, |v, b| (v << 8) | u64::from(*b));
        if size == 2 {
            value = value.saturating_add(256);
        }
        value
    } else {
        let wd = *head.get(5).ok_or_else(truncated)?;
        let log = 10 + u32::from(wd >> 3);
        let base = 1u64 << log;
        base.saturating_add((base / 8).saturating_mul(u64::from(wd & 7)))
    };
    if window > ZSTD_MAX_WINDOW {
        return Err(Reason::new(
            Code::BundleLimitExceeded,
            format!(
                "The bundle's zstd frame needs a {window}-byte window; at most {ZSTD_MAX_WINDOW} bytes (128 MiB) are accepted."
            ),
        ));
    }
    Ok(())
}

/// The xz stream header: magic, flags (a reserved bit or an unknown check type is refused).
fn xz_header(head: &[u8]) -> Result<(), Reason> {
    match head.get(6..8) {
        None => Err(unreadable("The bundle's xz stream header is truncated.")),
        Some([0, 0x00 | 0x01 | 0x04 | 0x0a]) => Ok(()),
        Some(_) => Err(unreadable(
            "The bundle's xz stream header has reserved flags or an unsupported check type.",
        )),
    }
}

/// What may follow a zstd frame or an xz stream: nothing.
fn nothing_after(reader: &mut ChunkReader, what: &str, produced: u64) -> Msg {
    match reader.fill_buf() {
        Ok([]) => Msg::End,
        Ok(rest) => Msg::Fail(unreadable(if rest.starts_with(&ZSTD_MAGIC) {
            "The bundle has a second zstd frame after the first; a .tar.zst bundle must be a single frame.".to_string()
        } else if is_skippable(rest) {
            "The bundle has a zstd skippable frame after its frame; nothing may follow the frame."
                .to_string()
        } else if rest.starts_with(&XZ_MAGIC) {
            "The bundle has a second xz stream after the first; a .tar.xz bundle must be a single stream.".to_string()
        } else if rest.first() == Some(&0) && what == "xz stream" {
            "The bundle has stream padding (zero bytes) after its xz stream; nothing may follow the stream.".to_string()
        } else {
            format!("The bundle has bytes after the end of its {what}; nothing may follow it.")
        })),
        Err(e) => Msg::Fail(failure(reader, &e, what, produced)),
    }
}

fn failure(reader: &mut ChunkReader, e: &io::Error, what: &str, produced: u64) -> Reason {
    reader.take_failure().unwrap_or_else(|| {
        unreadable(format!(
            "The bundle's {what} is corrupt or truncated after {produced} decompressed bytes ({e})."
        ))
    })
}

struct ZstdFrame(zstd::stream::read::Decoder<'static, ChunkReader>);

impl Read for ZstdFrame {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.0.read(buf)
    }
}

impl Decoder for ZstdFrame {
    fn failure(&mut self, e: &io::Error, produced: u64) -> Reason {
        failure(self.0.get_mut(), e, "zstd frame", produced)
    }

    fn end(self, produced: u64) -> Msg {
        nothing_after(&mut self.0.finish(), "zstd frame", produced)
    }
}

struct XzStream(liblzma::bufread::XzDecoder<ChunkReader>);

impl Read for XzStream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.0.read(buf)
    }
}

impl Decoder for XzStream {
    fn failure(&mut self, e: &io::Error, produced: u64) -> Reason {
        let limit = e
            .get_ref()
            .and_then(|inner| inner.downcast_ref::<liblzma::stream::Error>())
            .is_some_and(|k| matches!(k, liblzma::stream::Error::MemLimit));
        if limit {
            return Reason::new(
                Code::BundleLimitExceeded,
                format!(
                    "The bundle's xz stream needs a dictionary larger than {XZ_MAX_DICT} bytes (64 MiB), the most accepted."
                ),
            );
        }
        failure(self.0.get_mut(), e, "xz stream", produced)
    }

    fn end(self, produced: u64) -> Msg {
        nothing_after(&mut self.0.into_inner(), "xz stream", produced)
    }
}
