//! The hash-chained evidence log (formats §6, adversarial #57, #58).
//!
//! One record per line, compact JSON, members in this order:
//! `seq, prev, time, event, bundle_sha256, verdict, reasons, receipt_sha256, key_id, sig`, and
//! `torn_fragment` (`{"bytes":N,"sha256":"<hex>"}`) before `sig` only in a record appended to a
//! media log that ended with a torn fragment (absent, never null, otherwise).
//!
//! - `seq` counts from 1; the appliance's own log (in the state directory) is authoritative.
//! - `prev` is the hex SHA-256 of the previous record's line without its newline (64 zeros for
//!   the first record).
//! - `sig` is the base64 Ed25519 signature, by the appliance key, of the record serialised
//!   without it: the line with its final `,"sig":"…"` removed and the `}` kept. Verification
//!   checks exactly those received bytes (no re-serialisation), then parses the line strictly.
//! - `reasons` lists the reason codes (the messages are in the receipt, whose SHA-256 is
//!   `receipt_sha256`).
//!
//! The same line is appended to the state's log first, then to `MEDIA/evidence/airlock-evidence.jsonl`.
//! A stick's log shows gaps in `seq` where the appliance served other sticks; a verifier reports
//! them (and they are errors in the appliance's own log). A torn tail — a final line without its
//! newline, as a power cut mid-append leaves — is survived: ignored and reported; the state log's
//! torn tail is cut off (the file is ours), the media log's bytes are never changed: the next
//! append starts with a newline, so the fragment becomes a complete line that is not a record,
//! which a verifier cannot tell from tampering (issue 13 #2). So the appliance signs what it saw:
//! the record appended after a fragment of at most [`MAX_TORN_FRAGMENT`] bytes carries its length
//! and SHA-256 ([`media_fragment`], `torn_fragment`), and a media log's verifier accepts such a line
//! only right before the verified record naming exactly it (reported as repaired); any other
//! complete line that is not a record fails, as does an acknowledgment not right after its
//! fragment. The appliance's own log has no such exception. Records by another key
//! fail too. Truncation or rollback of a log is detected against the
//! `evidence.seq`/`prev` a signed receipt carries ([`check_against_receipt`], on the media's log
//! and, given the state directory, on the appliance's own) and, for a media log, against the
//! appliance's own copy ([`check_media_against_appliance`]); `airlock evidence verify MEDIA --key
//! FILE --state DIR` runs all of them.

use crate::appliance_key::ApplianceKey;
use crate::atomic::{self, Storage, WriteError, MODE_DIR_PUBLIC, MODE_PRIVATE, MODE_PUBLIC};
use crate::keys::{decode_base64, encode_base64, fingerprint, hex, KeyId};
use crate::reason::Reason;
use crate::receipt::ReceiptPayload;
use crate::timestamp::Timestamp;
use crate::verdict::Verdict;
use airlock_core::digest::sha256;
use airlock_core::ed25519::PublicKey;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::io::{self, Read as _, Seek as _, SeekFrom};
use std::path::{Path, PathBuf};

/// The media directory holding the log.
pub const EVIDENCE_DIR: &str = airlock_formats::layout::media::EVIDENCE_DIR;
/// The media log's file name.
pub const MEDIA_LOG_FILE: &str = airlock_formats::layout::media::EVIDENCE_LOG;
/// The verification report's file name (next to the log).
pub const REPORT_FILE: &str = airlock_formats::layout::media::EVIDENCE_REPORT;
/// `event` of a verification record.
pub(crate) const EVENT_VERIFY: &str = "verify";
/// `prev` of the first record.
pub(crate) const GENESIS_PREV: &str =
    "0000000000000000000000000000000000000000000000000000000000000000";
/// Largest record line accepted.
pub(crate) const MAX_RECORD_BYTES: usize = 256 * 1024;
/// Largest log read for verification.
pub(crate) const MAX_LOG_BYTES: u64 = 1 << 30;
/// How much of the state log's end is read to find its head.
pub(crate) const HEAD_WINDOW: u64 = 1 << 20;
/// Largest torn fragment of a media log a record acknowledges (`torn_fragment`).
pub const MAX_TORN_FRAGMENT: u64 = 64 * 1024;

const SIG_MARKER: &[u8] = b",\"sig\":\"";

/// Why the log could not be read or appended to.
#[derive(Debug)]
pub enum EvidenceError {
    /// Reading failed.
    Io(PathBuf, io::Error),
    /// Writing failed.
    Write(WriteError),
    /// The appliance's own log is damaged in a way that is not a torn tail.
    Corrupt(PathBuf, String),
}

impl fmt::Display for EvidenceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EvidenceError::Io(p, e) => write!(f, "cannot read evidence log {}: {e}", p.display()),
            EvidenceError::Write(e) => write!(f, "cannot append evidence: {e}"),
            EvidenceError::Corrupt(p, m) => write!(
                f,
                "the appliance's evidence log {} is damaged: {m}; refusing to extend it",
                p.display()
            ),
        }
    }
}

impl std::error::Error for EvidenceError {}

impl From<WriteError> for EvidenceError {
    fn from(e: WriteError) -> Self {
        EvidenceError::Write(e)
    }
}

/// Bytes after the last good record that are not records (a power cut mid-append).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TornTail {
    /// Byte offset where the tail starts.
    pub offset: u64,
    /// Its length in bytes.
    pub bytes: u64,
    /// Whether the last byte of the file is a newline.
    pub terminated: bool,
}

/// What a record's optional `torn_fragment` member says: the media log it is appended to ended
/// with a final line without its newline (a power cut mid-append) of `bytes` bytes whose SHA-256
/// is `sha256`. The append's leading newline makes that fragment a complete line; a media log
/// verifier accepts it only directly before the record that acknowledges it (issue 13).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TornFragment {
    /// The fragment's length in bytes (1 to [`MAX_TORN_FRAGMENT`]).
    pub bytes: u64,
    /// Lowercase hex SHA-256 of the fragment's bytes.
    pub sha256: String,
}

impl TornFragment {
    /// The acknowledgment of `fragment`.
    pub fn of(fragment: &[u8]) -> Self {
        Self {
            bytes: fragment.len() as u64,
            sha256: hex(&sha256(fragment)),
        }
    }

    fn is_well_formed(&self) -> bool {
        (1..=MAX_TORN_FRAGMENT).contains(&self.bytes) && is_hex64(&self.sha256)
    }

    fn matches(&self, line: &[u8]) -> bool {
        self.bytes == line.len() as u64 && self.sha256 == hex(&sha256(line))
    }
}

/// The torn fragment at the end of `MEDIA/evidence/airlock-evidence.jsonl` that the next record
/// appended to it acknowledges: the bytes after its last newline when the file does not end with
/// one, at most [`MAX_TORN_FRAGMENT`] of them, and not themselves a well-formed record (a record
/// cut just before its newline stays a record). None otherwise, or when the log cannot be read
/// (no symlink is followed: [`crate::nofollow::open_read`]); the record is then written as ever.
pub fn media_fragment(media: &Path) -> Option<TornFragment> {
    let path = media.join(EVIDENCE_DIR).join(MEDIA_LOG_FILE);
    let (start, window, _) = read_tail(&path, MAX_TORN_FRAGMENT + 1).ok()?;
    if window.last().is_none_or(|&b| b == b'\n') {
        return None;
    }
    let fragment = match window.iter().rposition(|&b| b == b'\n') {
        Some(i) => window.get(i + 1..)?,
        None if start == 0 => &window,
        None => return None, // longer than the cap: not acknowledged
    };
    if parse_line(fragment).is_some() {
        return None;
    }
    Some(TornFragment::of(fragment))
}

/// Where the next record goes: its `seq` and `prev`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogHead {
    /// `seq` of the next record.
    pub next_seq: u64,
    /// `prev` of the next record.
    pub prev: String,
    /// A torn tail found (and, for the state log, cut off) when the head was read.
    pub torn_tail: Option<TornTail>,
}

impl LogHead {
    /// The head of an empty log.
    pub fn genesis() -> Self {
        Self {
            next_seq: 1,
            prev: GENESIS_PREV.into(),
            torn_tail: None,
        }
    }

    /// Reads the head of the appliance's own log at `path` (see [`LogHead::read_with_last`]).
    pub fn read(
        storage: &dyn Storage,
        path: &Path,
        key: &ApplianceKey,
        repair: bool,
    ) -> Result<Self, EvidenceError> {
        Self::read_with_last(storage, path, key, repair).map(|(h, _)| h)
    }

    /// Reads the head of the appliance's own log at `path` and its last record's line. A missing
    /// or empty file is an empty log. Only a final line without its newline is a torn tail (a
    /// power cut mid-append): it is reported in the result and, when `repair` is set, cut off
    /// (through `storage`, fsynced). Every complete line of the last [`HEAD_WINDOW`] bytes must be
    /// a record by `key`, each chained to the one before (`seq` + 1, `prev` its line's SHA-256),
    /// the first of the file seq 1 after [`GENESIS_PREV`], and the last must verify: anything else
    /// is an error, since the log was altered (issue 11 #10).
    pub fn read_with_last(
        storage: &dyn Storage,
        path: &Path,
        key: &ApplianceKey,
        repair: bool,
    ) -> Result<(Self, Option<Vec<u8>>), EvidenceError> {
        let corrupt = |m: String| EvidenceError::Corrupt(path.to_owned(), m);
        let (start, window, file_len) = match read_tail(path, HEAD_WINDOW) {
            Ok(v) => v,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok((Self::genesis(), None)),
            Err(e) => return Err(EvidenceError::Io(path.to_owned(), e)),
        };
        // Complete lines end at the last newline; what follows it is a torn tail.
        let complete_end = window
            .iter()
            .rposition(|&b| b == b'\n')
            .map_or(0, |i| i + 1);
        let mut pos = 0usize;
        if start > 0 {
            // The window starts mid-line: skip to the first line start.
            match window.iter().position(|&b| b == b'\n') {
                Some(i) => pos = i + 1,
                None => {
                    return Err(corrupt(format!(
                        "no line break in its last {HEAD_WINDOW} bytes"
                    )))
                }
            }
        }
        let mut last: Option<(ParsedLine, &[u8])> = None;
        while pos < complete_end {
            let Some(len) = window
                .get(pos..complete_end)
                .and_then(|w| w.iter().position(|&b| b == b'\n'))
            else {
                break;
            };
            let line = window.get(pos..pos + len).unwrap_or_default();
            let offset = start + pos as u64;
            pos += len + 1;
            let Some(parsed) = parse_line(line) else {
                return Err(corrupt(format!(
                    "the complete line at byte {offset} is not a well-formed record (only a final line without its newline is a torn tail)"
                )));
            };
            if parsed.fields.key_id != *key.key_id().as_str() {
                return Err(corrupt(format!(
                    "its record seq {} names key {:?}, not this appliance's {}",
                    parsed.fields.seq,
                    parsed.fields.key_id,
                    key.key_id()
                )));
            }
            let (want_seq, want_prev) = match &last {
                Some((p, l)) => (p.fields.seq.checked_add(1), hex(&sha256(l))),
                None if start == 0 => (Some(1), GENESIS_PREV.to_owned()),
                None => (Some(parsed.fields.seq), parsed.fields.prev.clone()),
            };
            if Some(parsed.fields.seq) != want_seq || parsed.fields.prev != want_prev {
                return Err(corrupt(format!(
                    "its chain is broken at byte {offset}: record seq {} with prev {} does not follow the record before it",
                    parsed.fields.seq, parsed.fields.prev
                )));
            }
            last = Some((parsed, line));
        }
        let (mut head, last_line) = match last {
            Some((parsed, line)) => {
                if !parsed.signature_ok(key.public()) {
                    return Err(corrupt(format!(
                        "the signature of its last record (seq {}) does not verify",
                        parsed.fields.seq
                    )));
                }
                let next_seq = parsed
                    .fields
                    .seq
                    .checked_add(1)
                    .ok_or_else(|| corrupt("seq overflows".into()))?;
                let head = Self {
                    next_seq,
                    prev: hex(&sha256(line)),
                    torn_tail: None,
                };
                (head, Some(line.to_vec()))
            }
            None if start == 0 => (Self::genesis(), None),
            None => {
                return Err(corrupt(format!(
                    "no record in its last {HEAD_WINDOW} bytes"
                )))
            }
        };
        let good_end_abs = start + complete_end as u64;
        if good_end_abs < file_len {
            head.torn_tail = Some(TornTail {
                offset: good_end_abs,
                bytes: file_len - good_end_abs,
                terminated: false,
            });
            if repair {
                storage.truncate(path, good_end_abs).map_err(|e| {
                    EvidenceError::Write(WriteError {
                        step: "truncate torn tail",
                        path: path.to_owned(),
                        source: e,
                    })
                })?;
            }
        }
        Ok((head, last_line))
    }
}

/// Reads the last `window` bytes of a file: (offset of the window, bytes, file length).
fn read_tail(path: &Path, window: u64) -> io::Result<(u64, Vec<u8>, u64)> {
    // Not through a link, not blocking on a FIFO, one hard link only (issue 11 #12).
    let (mut f, meta) = crate::nofollow::open_read(path)?;
    let len = meta.len();
    let start = len.saturating_sub(window);
    f.seek(SeekFrom::Start(start))?;
    let mut buf = Vec::with_capacity((len - start) as usize);
    f.take(len - start).read_to_end(&mut buf)?;
    let end = start + buf.len() as u64;
    Ok((start, buf, end))
}

#[derive(Serialize)]
struct Body<'a> {
    seq: u64,
    prev: &'a str,
    time: Timestamp,
    event: &'a str,
    bundle_sha256: Option<&'a str>,
    verdict: Verdict,
    reasons: Vec<&'a str>,
    receipt_sha256: Option<&'a str>,
    key_id: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    torn_fragment: Option<&'a TornFragment>,
}

/// A signed record, ready to append.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    seq: u64,
    prev: String,
    line: Vec<u8>,
}

impl Record {
    /// Builds and signs the record that follows `head`. `bundle_sha256` / `receipt_sha256` are
    /// lowercase hex (None is written as null: the bundle could not be read, or no receipt).
    pub fn new(
        head: &LogHead,
        time: Timestamp,
        bundle_sha256: Option<&str>,
        verdict: Verdict,
        reasons: &[Reason],
        receipt_sha256: Option<&str>,
        key: &ApplianceKey,
    ) -> Self {
        Self::new_after_fragment(
            head,
            time,
            bundle_sha256,
            verdict,
            reasons,
            receipt_sha256,
            key,
            None,
        )
    }

    /// [`Record::new`], acknowledging `torn_fragment` (the media log's torn tail this record will
    /// follow, [`media_fragment`]) in the signed member `torn_fragment`; absent when None.
    #[allow(clippy::too_many_arguments)]
    pub fn new_after_fragment(
        head: &LogHead,
        time: Timestamp,
        bundle_sha256: Option<&str>,
        verdict: Verdict,
        reasons: &[Reason],
        receipt_sha256: Option<&str>,
        key: &ApplianceKey,
        torn_fragment: Option<&TornFragment>,
    ) -> Self {
        let body = Body {
            seq: head.next_seq,
            prev: &head.prev,
            time,
            event: EVENT_VERIFY,
            bundle_sha256,
            verdict,
            reasons: reasons.iter().map(|r| r.code.as_str()).collect(),
            receipt_sha256,
            key_id: key.key_id().as_str(),
            torn_fragment,
        };
        // Serialising plain strings, numbers and options cannot fail.
        let signed = serde_json::to_vec(&body).unwrap_or_default();
        let sig = encode_base64(&key.sign(&signed));
        let mut line = signed;
        line.pop(); // the closing brace
        line.extend_from_slice(SIG_MARKER);
        line.extend_from_slice(sig.as_bytes());
        line.extend_from_slice(b"\"}");
        Self {
            seq: head.next_seq,
            prev: head.prev.clone(),
            line,
        }
    }

    /// `seq`.
    pub fn seq(&self) -> u64 {
        self.seq
    }

    /// `prev`.
    pub fn prev(&self) -> &str {
        &self.prev
    }

    /// The line, without its newline.
    pub fn line(&self) -> &[u8] {
        &self.line
    }

    /// The head after this record.
    pub fn next_head(&self) -> LogHead {
        LogHead {
            next_seq: self.seq.saturating_add(1),
            prev: hex(&sha256(&self.line)),
            torn_tail: None,
        }
    }
}

/// Appends `record` to the state's log (`state_log`, created 0600 if absent) and then, when
/// `media` is given, to `MEDIA/evidence/airlock-evidence.jsonl` (creating `evidence/`, refusing
/// symlinks; existing bytes untouched). Each append is one `O_APPEND` write followed by fsync.
/// Returns the head after the record. If the media append fails the state already holds the
/// record (the state log is authoritative; the missing media record shows up against the receipt).
pub fn append(
    storage: &dyn Storage,
    state_log: &Path,
    media: Option<&Path>,
    record: &Record,
) -> Result<LogHead, EvidenceError> {
    append_line_to_state(storage, state_log, record.line())?;
    if let Some(media) = media {
        append_to_media(storage, media, record.line())?;
    }
    Ok(record.next_head())
}

/// Appends a record line to the state's log (created 0600 if absent).
pub(crate) fn append_line_to_state(
    storage: &dyn Storage,
    state_log: &Path,
    line: &[u8],
) -> Result<(), EvidenceError> {
    atomic::append_line(storage, state_log, line, MODE_PRIVATE)?;
    Ok(())
}

/// Appends a record line to `MEDIA/evidence/airlock-evidence.jsonl` (creating `evidence/`,
/// refusing symlinks; existing bytes untouched).
pub(crate) fn append_to_media(
    storage: &dyn Storage,
    media: &Path,
    line: &[u8],
) -> Result<(), EvidenceError> {
    let dir = atomic::ensure_dir(storage, media, EVIDENCE_DIR, MODE_DIR_PUBLIC)?;
    atomic::append_line(storage, &dir.join(MEDIA_LOG_FILE), line, MODE_PUBLIC)?;
    Ok(())
}

/// The head after a record line as stored (in `state.json`): its seq + 1 and its SHA-256. None
/// when the line is not a well-formed record.
pub(crate) fn head_after_line(line: &[u8]) -> Option<(u64, LogHead)> {
    let p = parse_line(line)?;
    Some((
        p.fields.seq,
        LogHead {
            next_seq: p.fields.seq.checked_add(1)?,
            prev: hex(&sha256(line)),
            torn_tail: None,
        },
    ))
}

/// `prev` and `key_id` of a well-formed record line whose signature verifies under `key`.
pub(crate) fn verified_line_prev(line: &[u8], key: &ApplianceKey) -> Option<String> {
    let p = parse_line(line)?;
    (p.fields.key_id == key.key_id().as_str() && p.signature_ok(key.public()))
        .then(|| p.fields.prev.clone())
}

/// The members of a record as parsed.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct Fields {
    seq: u64,
    prev: String,
    time: Timestamp,
    event: String,
    bundle_sha256: Option<String>,
    verdict: Verdict,
    reasons: Vec<String>,
    receipt_sha256: Option<String>,
    key_id: String,
    /// Absent in a record that acknowledges nothing; null is not a value.
    #[serde(default, deserialize_with = "present")]
    torn_fragment: Option<TornFragment>,
    sig: String,
}

fn present<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<TornFragment>, D::Error> {
    TornFragment::deserialize(d).map(Some)
}

struct ParsedLine {
    fields: Fields,
    signed: Vec<u8>,
    sig: [u8; 64],
}

impl ParsedLine {
    fn signature_ok(&self, key: &PublicKey) -> bool {
        key.verify(&self.signed, &self.sig).is_ok()
    }
}

fn is_hex64(s: &str) -> bool {
    s.len() == 64
        && s.bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// Parses a line as a well-formed record: `…,"sig":"<base64>"}` with `sig` its last member,
/// strict JSON with exactly the record's members, hex digests, `event` "verify". None when it
/// is not one (garbage, a torn fragment).
fn parse_line(line: &[u8]) -> Option<ParsedLine> {
    if line.len() > MAX_RECORD_BYTES || !line.ends_with(b"\"}") {
        return None;
    }
    let at = line
        .windows(SIG_MARKER.len())
        .rposition(|w| w == SIG_MARKER)?;
    // `get`: in `…,"sig":"}` the marker's closing quote is also the line's final quote.
    let sig_text = std::str::from_utf8(line.get(at + SIG_MARKER.len()..line.len() - 2)?).ok()?;
    let fields: Fields = crate::json::parse(line).ok()?;
    // The member found at the end must be the `sig` the parser saw (so it is the last member).
    if fields.sig != sig_text {
        return None;
    }
    let sig: [u8; 64] = decode_base64(sig_text)?.try_into().ok()?;
    if !is_hex64(&fields.prev)
        || fields.event != EVENT_VERIFY
        || KeyId::new(&fields.key_id).is_err()
        || !fields.bundle_sha256.as_deref().is_none_or(is_hex64)
        || !fields.receipt_sha256.as_deref().is_none_or(is_hex64)
        || !fields
            .torn_fragment
            .as_ref()
            .is_none_or(TornFragment::is_well_formed)
    {
        return None;
    }
    let mut signed = line[..at].to_vec();
    signed.push(b'}');
    Some(ParsedLine {
        fields,
        signed,
        sig,
    })
}

/// Which log is being verified.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum LogKind {
    /// The appliance's own log: contiguous from seq 1, one key, no torn lines inside.
    Appliance,
    /// A stick's log: gaps in seq (the appliance served other sticks) are reported but are not
    /// failures; torn lines inside and records by any other key are, as on the appliance's own
    /// log (issue 13 #2).
    Media,
}

/// A problem at one line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LineIssue {
    /// 1-based line number.
    pub line: u64,
    /// The record's seq, when it could be read.
    pub seq: Option<u64>,
    /// What is wrong.
    pub message: String,
}

/// A jump in seq.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SeqGap {
    /// 1-based line number of the record after the gap.
    pub line: u64,
    /// The seq before the gap (0 at the start of the log).
    pub after_seq: u64,
    /// The seq after it.
    pub seq: u64,
}

/// A record whose signature verified.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VerifiedRecord {
    /// 1-based line number.
    pub line: u64,
    /// `seq`.
    pub seq: u64,
    /// `prev`.
    pub prev: String,
    /// Hex SHA-256 of the line (what the next record's `prev` names).
    pub line_sha256: String,
    /// `time`.
    pub time: Timestamp,
    /// `bundle_sha256`.
    pub bundle_sha256: Option<String>,
    /// `verdict`.
    pub verdict: Verdict,
    /// `reasons` (codes).
    pub reasons: Vec<String>,
    /// `receipt_sha256`.
    pub receipt_sha256: Option<String>,
}

/// A media log's complete line that is not a record, accepted because the record right after it
/// acknowledges it (its `torn_fragment` names the line's exact length and SHA-256): the fragment a
/// power cut left, made a complete line by the next append's leading newline.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RepairedLine {
    /// 1-based line number.
    pub line: u64,
    /// Its length in bytes.
    pub bytes: u64,
    /// Hex SHA-256 of its bytes.
    pub sha256: String,
    /// The seq of the record acknowledging it (the next line).
    pub acknowledged_by: u64,
}

/// The last verified record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReportHead {
    /// Its seq.
    pub seq: u64,
    /// Hex SHA-256 of its line.
    pub sha256: String,
    /// Its line number.
    pub line: u64,
}

/// What [`verify_log`] found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LogReport {
    /// Which log.
    pub kind: LogKind,
    /// The key the records were checked against.
    pub key_id: String,
    /// Its fingerprint.
    pub key_fingerprint: String,
    /// Lines in the log (a final fragment without newline counts).
    pub lines: u64,
    /// Records whose signature verified.
    pub records_verified: u64,
    /// Records whose `prev` is not the hash of the record before them.
    pub chain_breaks: Vec<LineIssue>,
    /// Records by this key whose signature does not verify.
    pub bad_signatures: Vec<LineIssue>,
    /// Records whose seq is not above the one before (reordered, duplicated).
    pub out_of_order: Vec<LineIssue>,
    /// Jumps in seq (allowed on a media log, where the appliance served other sticks).
    pub seq_gaps: Vec<SeqGap>,
    /// Complete lines that are not records (failures).
    pub torn_lines: Vec<LineIssue>,
    /// Media log: complete lines that are not records but are acknowledged by the verified record
    /// right after them (a torn tail the appliance saw and signed; not failures).
    pub repaired_torn_lines: Vec<RepairedLine>,
    /// Media log: verified records acknowledging a torn fragment that is not the line right before
    /// them (failures).
    pub unmatched_acknowledgments: Vec<LineIssue>,
    /// Records naming another key id (not verified; failures).
    pub foreign_records: Vec<LineIssue>,
    /// A final line without its newline (a power cut mid-append): survived, reported.
    pub torn_tail: Option<TornTail>,
    /// The last verified record.
    pub head: Option<ReportHead>,
    /// Every verified record (for [`check_against_receipt`]).
    #[serde(skip)]
    pub records: Vec<VerifiedRecord>,
}

impl LogReport {
    /// `ok` (nothing to report), `ok-with-gaps` (a media log with seq gaps, nothing failed) or
    /// `failed`. A torn tail is reported beside the status.
    pub fn status(&self) -> &'static str {
        if !self.is_ok() {
            "failed"
        } else if self.seq_gaps.is_empty() {
            "ok"
        } else {
            "ok-with-gaps"
        }
    }

    /// Whether the log verifies: no bad signature, chain break, reordering, complete line that
    /// is not a record, or record by another key; for the appliance's own log also no gap.
    pub fn is_ok(&self) -> bool {
        let basic = self.chain_breaks.is_empty()
            && self.bad_signatures.is_empty()
            && self.out_of_order.is_empty()
            && self.torn_lines.is_empty()
            && self.unmatched_acknowledgments.is_empty()
            && self.foreign_records.is_empty();
        match self.kind {
            LogKind::Media => basic,
            LogKind::Appliance => basic && self.seq_gaps.is_empty(),
        }
    }

    /// The verified record with `seq`, if any.
    pub fn record(&self, seq: u64) -> Option<&VerifiedRecord> {
        self.records.iter().find(|r| r.seq == seq)
    }
}

/// Verifies a log's bytes against the appliance key `key_id` / `key`: every record's signature
/// over its received bytes, the hash chain, and the sequence. Records by other key ids and
/// complete lines that are not records fail; only a final line without its newline is a torn
/// tail, reported. On a media log a complete line that is not a record is accepted (reported in
/// `repaired_torn_lines`) when the next line is a record by this key whose signature verifies and
/// whose `torn_fragment` names that line's exact length and SHA-256; a verified record whose
/// `torn_fragment` is not so matched fails. The appliance's own log has no such exception.
pub fn verify_log(bytes: &[u8], key_id: &str, key: &PublicKey, kind: LogKind) -> LogReport {
    let mut report = LogReport {
        kind,
        key_id: key_id.to_owned(),
        key_fingerprint: fingerprint(key.as_bytes()),
        lines: 0,
        records_verified: 0,
        chain_breaks: Vec::new(),
        bad_signatures: Vec::new(),
        out_of_order: Vec::new(),
        seq_gaps: Vec::new(),
        torn_lines: Vec::new(),
        repaired_torn_lines: Vec::new(),
        unmatched_acknowledgments: Vec::new(),
        foreign_records: Vec::new(),
        torn_tail: None,
        head: None,
        records: Vec::new(),
    };
    // (start, end) of each line without its newline; the last may be unterminated.
    let mut spans = Vec::new();
    let mut pos = 0usize;
    while pos < bytes.len() {
        match bytes.iter().skip(pos).position(|&b| b == b'\n') {
            Some(i) => {
                spans.push((pos, pos + i));
                pos += i + 1;
            }
            None => {
                spans.push((pos, bytes.len()));
                pos = bytes.len();
            }
        }
    }
    report.lines = spans.len() as u64;
    let parsed: Vec<Option<ParsedLine>> = spans
        .iter()
        .map(|&(a, b)| parse_line(&bytes[a..b]))
        .collect();
    // Only a final line without its newline is a torn tail (a power cut mid-append), even if it
    // happens to parse; every complete line must be a record by this key (issue 13 #2).
    let unterminated_last = !bytes.is_empty() && bytes.last() != Some(&b'\n');
    let tail_start = spans.len() - usize::from(unterminated_last);
    if tail_start < spans.len() {
        let offset = spans[tail_start].0 as u64;
        report.torn_tail = Some(TornTail {
            offset,
            bytes: bytes.len() as u64 - offset,
            terminated: !unterminated_last,
        });
    }

    // Media log: the seq of the record acknowledging each line that is not a record (issue 13).
    let acknowledged: Vec<Option<u64>> = (0..spans.len())
        .map(|i| {
            if kind != LogKind::Media || i + 1 >= tail_start {
                return None;
            }
            let (&(a, b), None) = (spans.get(i)?, parsed.get(i)?) else {
                return None;
            };
            let next = parsed.get(i + 1)?.as_ref()?;
            let ack = next.fields.torn_fragment.as_ref()?;
            (next.fields.key_id == key_id
                && ack.matches(bytes.get(a..b)?)
                && next.signature_ok(key))
            .then_some(next.fields.seq)
        })
        .collect();

    let mut prev_seq: Option<u64> = None;
    let mut prev_hash = GENESIS_PREV.to_owned();
    for (i, (&(a, b), p)) in spans.iter().zip(&parsed).enumerate().take(tail_start) {
        let line_no = i as u64 + 1;
        let line = &bytes[a..b];
        let Some(p) = p else {
            if let Some(Some(seq)) = acknowledged.get(i) {
                report.repaired_torn_lines.push(RepairedLine {
                    line: line_no,
                    bytes: line.len() as u64,
                    sha256: hex(&sha256(line)),
                    acknowledged_by: *seq,
                });
                continue;
            }
            report.torn_lines.push(LineIssue {
                line: line_no,
                seq: None,
                message: format!(
                    "a complete line of {} bytes that is not a record (only a final line without its newline is a torn tail)",
                    line.len()
                ),
            });
            continue;
        };
        let f = &p.fields;
        if f.key_id != key_id {
            report.foreign_records.push(LineIssue {
                line: line_no,
                seq: Some(f.seq),
                message: format!(
                    "a record by key {:?}, not the appliance key {key_id}: it cannot be verified",
                    f.key_id
                ),
            });
            continue;
        }
        let line_hash = hex(&sha256(line));
        if p.signature_ok(key) {
            report.records_verified += 1;
            report.records.push(VerifiedRecord {
                line: line_no,
                seq: f.seq,
                prev: f.prev.clone(),
                line_sha256: line_hash.clone(),
                time: f.time,
                bundle_sha256: f.bundle_sha256.clone(),
                verdict: f.verdict,
                reasons: f.reasons.clone(),
                receipt_sha256: f.receipt_sha256.clone(),
            });
            report.head = Some(ReportHead {
                seq: f.seq,
                sha256: line_hash.clone(),
                line: line_no,
            });
            let matched = i
                .checked_sub(1)
                .and_then(|j| acknowledged.get(j))
                .is_some_and(Option::is_some);
            if kind == LogKind::Media && f.torn_fragment.is_some() && !matched {
                report.unmatched_acknowledgments.push(LineIssue {
                    line: line_no,
                    seq: Some(f.seq),
                    message: "the record acknowledges a torn fragment, but the line before it is not that fragment".into(),
                });
            }
        } else {
            report.bad_signatures.push(LineIssue {
                line: line_no,
                seq: Some(f.seq),
                message: "signature does not verify".into(),
            });
        }
        let after = prev_seq.unwrap_or(0);
        if f.seq == after.wrapping_add(1) && f.seq != 0 {
            let expected = if prev_seq.is_none() {
                GENESIS_PREV
            } else {
                prev_hash.as_str()
            };
            if f.prev != expected {
                report.chain_breaks.push(LineIssue {
                    line: line_no,
                    seq: Some(f.seq),
                    message: format!(
                        "prev is {}, but the record before hashes to {expected}",
                        f.prev
                    ),
                });
            }
        } else if f.seq > after {
            report.seq_gaps.push(SeqGap {
                line: line_no,
                after_seq: after,
                seq: f.seq,
            });
        } else {
            report.out_of_order.push(LineIssue {
                line: line_no,
                seq: Some(f.seq),
                message: format!("seq {} does not follow seq {after}", f.seq),
            });
        }
        prev_seq = Some(f.seq);
        prev_hash = line_hash;
    }
    report
}

/// Checks a log against a receipt this appliance signed (already verified): the record the
/// receipt names (`evidence.seq`) must be in the log, verified, with the receipt's `prev`, the
/// receipt file's SHA-256, the bundle digest and the verdict. A log whose head is below the
/// receipt's seq was truncated or rolled back (#58).
pub fn check_against_receipt(
    report: &LogReport,
    receipt: &ReceiptPayload,
    receipt_bytes: &[u8],
) -> Result<(), String> {
    let seq = receipt.evidence.seq;
    let Some(r) = report.record(seq) else {
        let head = report.head.as_ref().map_or(0, |h| h.seq);
        return Err(if head < seq {
            format!("the log ends at seq {head} but a receipt names record {seq}: the log was truncated or rolled back")
        } else {
            format!(
                "record {seq}, named by a receipt, is missing from the log (deleted or altered)"
            )
        });
    };
    if r.prev != receipt.evidence.prev {
        return Err(format!(
            "record {seq} has prev {}, the receipt says {}: the log was rewritten",
            r.prev, receipt.evidence.prev
        ));
    }
    let digest = hex(&sha256(receipt_bytes));
    if r.receipt_sha256.as_deref() != Some(digest.as_str()) {
        return Err(format!(
            "record {seq} names receipt {}, not this receipt ({digest})",
            r.receipt_sha256.as_deref().unwrap_or("null")
        ));
    }
    if r.bundle_sha256 != receipt.bundle.sha256 || r.verdict != receipt.verdict {
        return Err(format!(
            "record {seq} disagrees with the receipt about the bundle digest or the verdict"
        ));
    }
    Ok(())
}

/// Checks that a receipt's file name is the one the appliance gives a receipt with its payload's
/// `bundle.file` and `verdict` (`<stem>.<verdict>.receipt.json` or `<stem>.<verdict>.<n>.receipt.json`,
/// n ≥ 2; [`crate::receipt::receipt_names`]): a promote receipt renamed over a deleted reject
/// receipt is caught (issue 11 #11).
pub fn check_receipt_name(file_name: &str, receipt: &ReceiptPayload) -> Result<(), String> {
    let bundle_name = receipt.bundle.file.rsplit('/').next().unwrap_or_default();
    let stem = crate::receipt::receipt_stem(bundle_name);
    let want = format!("{stem}.{}.", receipt.verdict);
    let ok = file_name
        .strip_prefix(&want)
        .and_then(|rest| rest.strip_suffix("receipt.json"))
        .is_some_and(|mid| {
            mid.is_empty()
                || mid.strip_suffix('.').is_some_and(|n| {
                    !n.starts_with('0')
                        && n.bytes().all(|b| b.is_ascii_digit())
                        && n.parse::<u64>().is_ok_and(|n| n >= 2)
                })
        });
    if ok {
        Ok(())
    } else {
        Err(format!(
            "the receipt's file name does not match its content ({} of {:?}, expected {want}receipt.json): it was renamed",
            receipt.verdict, receipt.bundle.file
        ))
    }
}

/// The verified records of `report` that name a receipt not among `receipt_sha256s` (the SHA-256
/// of every receipt found beside the log): a receipt was deleted (issue 11 #11).
pub fn records_without_receipt(
    report: &LogReport,
    receipt_sha256s: &std::collections::BTreeSet<String>,
) -> Vec<String> {
    report
        .records
        .iter()
        .filter_map(|r| {
            let want = r.receipt_sha256.as_ref()?;
            (!receipt_sha256s.contains(want)).then(|| {
                format!(
                    "record {} (line {}) names receipt {want} ({} of bundle {}), which is not in receipts/: it was deleted",
                    r.seq,
                    r.line,
                    r.verdict,
                    r.bundle_sha256.as_deref().unwrap_or("null")
                )
            })
        })
        .collect()
}

/// Whether record `seq`, which a receipt names but the media log (`media`, from `media_bytes`)
/// lacks, was cut there by a power cut: the appliance's own log (`appliance`, verified with the
/// same key, from `appliance_bytes`) holds it, and one of the media log's repaired torn lines is a
/// proper prefix of its line (issue 13).
pub fn record_lost_to_torn_line(
    media: &LogReport,
    media_bytes: &[u8],
    appliance: &LogReport,
    appliance_bytes: &[u8],
    seq: u64,
) -> bool {
    let Some(full) = appliance
        .record(seq)
        .and_then(|r| line_at(appliance_bytes, r.line))
    else {
        return false;
    };
    media.repaired_torn_lines.iter().any(|t| {
        line_at(media_bytes, t.line).is_some_and(|l| l.len() < full.len() && full.starts_with(l))
    })
}

/// The bytes of 1-based line `line` (without its newline).
fn line_at(bytes: &[u8], line: u64) -> Option<&[u8]> {
    let index = usize::try_from(line.checked_sub(1)?).ok()?;
    bytes.split(|&b| b == b'\n').nth(index)
}

/// Checks a media log against the appliance's own (both verified with the same key): every
/// verified media record must be the identical line in the appliance's log.
pub fn check_media_against_appliance(
    media: &LogReport,
    appliance: &LogReport,
) -> Result<(), Vec<String>> {
    let mut problems = Vec::new();
    for r in &media.records {
        match appliance.record(r.seq) {
            Some(a) if a.line_sha256 == r.line_sha256 => {}
            Some(_) => problems.push(format!(
                "media record {} (line {}) differs from the appliance's record {}",
                r.seq, r.line, r.seq
            )),
            None => problems.push(format!(
                "media record {} (line {}) is not in the appliance's log (rolled back?)",
                r.seq, r.line
            )),
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems)
    }
}

/// Reads a log for verification (regular file, no symlink, at most [`MAX_LOG_BYTES`]).
pub fn read_log(path: &Path) -> io::Result<Vec<u8>> {
    crate::nofollow::read_capped(path, MAX_LOG_BYTES)
}

#[derive(Serialize)]
struct ReportDoc<'a> {
    #[serde(rename = "_type")]
    type_: &'a str,
    log: &'a str,
    log_sha256: String,
    log_size: u64,
    verified_at: Timestamp,
    status: &'a str,
    #[serde(flatten)]
    report: &'a LogReport,
}

/// The verification report's `_type`.
pub(crate) const REPORT_TYPE: &str = "airlock-evidence-verification";

/// The report document (pretty JSON): the log's name, SHA-256 and size, when, the status
/// (`ok` / `ok-with-gaps` / `failed`) and every finding. No key material beyond the public key's
/// id and fingerprint.
pub fn report_json(
    report: &LogReport,
    log_name: &str,
    log_bytes: &[u8],
    verified_at: Timestamp,
) -> Vec<u8> {
    crate::document::dsse::to_pretty_json(&ReportDoc {
        type_: REPORT_TYPE,
        log: log_name,
        log_sha256: hex(&sha256(log_bytes)),
        log_size: log_bytes.len() as u64,
        verified_at,
        status: report.status(),
        report,
    })
}

/// Writes a report next to the log in `dir`: `airlock-evidence-verification.json`, or
/// `airlock-evidence-verification.<n>.json` with the smallest free n ≥ 2 (nothing on the media is
/// overwritten). Returns the file name.
pub fn write_report(storage: &dyn Storage, dir: &Path, bytes: &[u8]) -> Result<String, WriteError> {
    let stem = REPORT_FILE.trim_end_matches(".json");
    let names = std::iter::once(REPORT_FILE.to_owned())
        .chain((2u64..).map(move |n| format!("{stem}.{n}.json")));
    atomic::write_first_free(storage, dir, names, bytes, MODE_PUBLIC)
}
