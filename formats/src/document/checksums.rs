//! `checksums.txt` (formats §5): every line through the verification core's strict parser, every
//! malformed line and every repeated name reported.

use crate::reason::{Code, Reason};
use airlock_core::checksums::{lines, LineErrorKind};
use airlock_core::digest::Sha256Digest;
use std::collections::BTreeMap;

/// Most lines read.
pub const MAX_LINES: usize = 100_000;

/// The file's lines, by name.
#[derive(Debug, Clone, Default)]
pub struct Checksums {
    /// Digest per name (the first line for a repeated name).
    pub entries: BTreeMap<String, Sha256Digest>,
}

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

impl Checksums {
    /// Parses `text`, returning what could be read and a reason per problem.
    pub fn parse(text: &[u8]) -> (Self, Vec<Reason>) {
        let mut out = Self::default();
        let mut reasons = Vec::new();
        for (i, item) in lines(text).enumerate() {
            if i >= MAX_LINES {
                reasons.push(Reason::new(
                    Code::BundleLimitExceeded,
                    format!("checksums.txt has more than {MAX_LINES} lines"),
                ));
                break;
            }
            match item {
                Ok(line) => {
                    if out.entries.contains_key(line.name) {
                        reasons.push(Reason::new(
                            Code::ChecksumExtra,
                            format!(
                                "checksums.txt line {}: names {} a second time",
                                i + 1,
                                line.name
                            ),
                        ));
                    } else {
                        out.entries.insert(line.name.to_owned(), line.digest);
                    }
                }
                Err(e) => reasons.push(Reason::new(
                    Code::ChecksumsMalformed,
                    format!("checksums.txt line {} {}", e.line, describe(e.kind)),
                )),
            }
        }
        (out, reasons)
    }
}
