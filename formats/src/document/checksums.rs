//! `checksums.txt` (formats §5): every line through the verification core's strict parser, every
//! malformed line and every repeated name reported.

use crate::reason::{Code, Reason};
use airlock_core::checksums::{lines, LineErrorKind};
use airlock_core::digest::Sha256Digest;

/// Most lines read.
pub const MAX_LINES: usize = 100_000;

/// The file's lines, by name, the names borrowed from the file (a `String` and a map node per
/// line would be several times the file for 100 000 lines) and each digest read again from its
/// line when asked for.
#[derive(Debug, Clone, Default)]
pub struct Checksums<'a> {
    /// The file.
    text: &'a [u8],
    /// Name and line index, sorted by name (the first line for a repeated name).
    entries: Vec<(&'a str, u32)>,
}

/// A well-formed line is the 64 hex digits of its digest, two spaces, then its name
/// (`airlock_core::checksums::parse_line`).
const NAME_AT: usize = 64 + 2;

fn describe(kind: LineErrorKind) -> String {
    use LineErrorKind::*;
    match kind {
        ByteOrderMark => "starts with a byte-order mark".into(),
        CarriageReturn => "has a carriage return (CRLF line endings)".into(),
        MissingFinalNewline => "is not terminated by a newline".into(),
        EmptyLine => "is empty".into(),
        EscapedName => "uses sha256sum's backslash-escaped name form".into(),
        BadDigest => "does not start with 64 lowercase hex digits".into(),
        BinaryMarker => "uses the `*` binary-mode marker".into(),
        BadSeparator => "does not separate digest and name with exactly two spaces".into(),
        NotUtf8 => "has a name that is not UTF-8".into(),
        BadName(e) => format!("has a non-canonical name ({e:?})"),
        DuplicateName => "repeats a name".into(),
        CapacityExceeded => "is beyond the line limit".into(),
    }
}

impl<'a> Checksums<'a> {
    /// Parses `text`, returning what could be read and a reason per problem.
    pub fn parse(text: &'a [u8]) -> (Self, Vec<Reason>) {
        // (line index, reason), and every well-formed line in order; repeated names are found
        // after sorting, their reasons merged back in line order.
        let mut reasons: Vec<(usize, Reason)> = Vec::new();
        let lines_in_text = text.iter().filter(|&&b| b == b'\n').count() + 1;
        let mut entries: Vec<(&'a str, u32)> = Vec::with_capacity(lines_in_text.min(MAX_LINES));
        let mut limit = None;
        for (i, item) in lines(text).enumerate() {
            if i >= MAX_LINES {
                limit = Some(Reason::new(
                    Code::BundleLimitExceeded,
                    format!("checksums.txt has more than {MAX_LINES} lines"),
                ));
                break;
            }
            match item {
                Ok(line) => entries.push((line.name, i as u32)),
                Err(e) => reasons.push((
                    i,
                    Reason::new(
                        Code::ChecksumsMalformed,
                        format!("checksums.txt line {} {}", e.line, describe(e.kind)),
                    ),
                )),
            }
        }
        // Of equal names the first line comes first and is kept (in place: a stable sort would
        // take a buffer of half the entries).
        entries.sort_unstable_by(|a, b| a.0.cmp(b.0).then(a.1.cmp(&b.1)));
        entries.dedup_by(|later, kept| {
            let repeated = later.0 == kept.0;
            if repeated {
                let i = later.1 as usize;
                reasons.push((
                    i,
                    Reason::new(
                        Code::ChecksumExtra,
                        format!(
                            "checksums.txt line {}: names {} a second time",
                            i + 1,
                            later.0
                        ),
                    ),
                ));
            }
            repeated
        });
        reasons.sort_by_key(|(i, _)| *i);
        let mut reasons: Vec<Reason> = reasons.into_iter().map(|(_, r)| r).collect();
        reasons.extend(limit);
        (Self { text, entries }, reasons)
    }

    /// The digest `name` is listed with.
    pub fn get(&self, name: &str) -> Option<Sha256Digest> {
        let i = self
            .entries
            .binary_search_by(|(n, _)| (*n).cmp(name))
            .ok()?;
        let (listed, _) = self.entries.get(i)?;
        // The name lies in the file: its line starts NAME_AT bytes before it.
        let at = (listed.as_ptr() as usize).wrapping_sub(self.text.as_ptr() as usize);
        let digest = self
            .text
            .get(at.checked_sub(NAME_AT)?..at.checked_sub(2)?)?;
        airlock_core::hex::decode::<32>(digest).ok()
    }

    /// How many names are listed.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether no name is listed.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The names listed, sorted.
    pub fn names(&self) -> impl Iterator<Item = &'a str> + '_ {
        self.entries.iter().map(|(n, _)| *n)
    }
}
