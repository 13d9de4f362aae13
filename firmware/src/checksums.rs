//! A strict reader of `checksums.txt` in GNU `sha256sum` text format:
//! `<64 lowercase hex>  <name>\n` per line, LF only, no BOM, no `*` binary marker, no
//! backslash-escaped names, every line terminated. Anything else is malformed: a verifier that is
//! lenient here can be made to check a different file list than the one that was signed.

use crate::digest::Sha256Digest;
use crate::hex;
use crate::name::{self, NameError};

/// Why a line of `checksums.txt` was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LineErrorKind {
    /// The file starts with a UTF-8 byte-order mark.
    ByteOrderMark,
    /// The line contains a carriage return (CRLF line endings).
    CarriageReturn,
    /// The last line is not terminated by `\n`.
    MissingFinalNewline,
    /// An empty line.
    EmptyLine,
    /// The line starts with `\`: GNU's escaped-name form, which Airlock does not accept.
    EscapedName,
    /// The digest is not 64 lowercase hex digits.
    BadDigest,
    /// The digest is followed by ` *` (binary-mode marker).
    BinaryMarker,
    /// The digest is not followed by exactly two spaces.
    BadSeparator,
    /// The name is not UTF-8.
    NotUtf8,
    /// The name is not a canonical relative name.
    BadName(NameError),
    /// The same name appears on an earlier line.
    DuplicateName,
    /// More lines than the fixed-capacity set can hold.
    CapacityExceeded,
}

/// A refused line, with its 1-based number.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LineError {
    /// 1-based line number.
    pub line: usize,
    /// What is wrong with it.
    pub kind: LineErrorKind,
}

/// One well-formed line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Line<'a> {
    /// The SHA-256 the line claims.
    pub digest: Sha256Digest,
    /// The canonical file name.
    pub name: &'a str,
}

/// Parses one line without its terminating `\n`.
pub fn parse_line(line: &[u8]) -> Result<Line<'_>, LineErrorKind> {
    if line.is_empty() {
        return Err(LineErrorKind::EmptyLine);
    }
    if line.contains(&b'\r') {
        return Err(LineErrorKind::CarriageReturn);
    }
    if line[0] == b'\\' {
        return Err(LineErrorKind::EscapedName);
    }
    let digest_text = line.get(..64).ok_or(LineErrorKind::BadDigest)?;
    let digest = hex::decode::<32>(digest_text).map_err(|_| LineErrorKind::BadDigest)?;
    let rest = &line[64..];
    if rest.starts_with(b" *") {
        return Err(LineErrorKind::BinaryMarker);
    }
    let name_bytes = rest
        .strip_prefix(b"  ")
        .ok_or(LineErrorKind::BadSeparator)?;
    let name = core::str::from_utf8(name_bytes).map_err(|_| LineErrorKind::NotUtf8)?;
    name::check(name).map_err(LineErrorKind::BadName)?;
    Ok(Line { digest, name })
}

/// Iterates over the lines of a whole `checksums.txt`, yielding each line or its error and going
/// on after an error, so that every malformed line can be reported.
pub struct Lines<'a> {
    rest: &'a [u8],
    line: usize,
}

/// The lines of `text`.
pub fn lines(text: &[u8]) -> Lines<'_> {
    Lines {
        rest: text,
        line: 0,
    }
}

impl<'a> Iterator for Lines<'a> {
    type Item = Result<Line<'a>, LineError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.rest.is_empty() {
            return None;
        }
        self.line += 1;
        let (raw, terminated) = match self.rest.iter().position(|&b| b == b'\n') {
            Some(i) => {
                let (l, r) = self.rest.split_at(i);
                self.rest = &r[1..];
                (l, true)
            }
            None => (core::mem::take(&mut self.rest), false),
        };
        let err = |kind| {
            Some(Err(LineError {
                line: self.line,
                kind,
            }))
        };
        if self.line == 1 && raw.starts_with(b"\xef\xbb\xbf") {
            return err(LineErrorKind::ByteOrderMark);
        }
        let parsed = match parse_line(raw) {
            Ok(p) => p,
            Err(kind) => return err(kind),
        };
        if !terminated {
            return err(LineErrorKind::MissingFinalNewline);
        }
        Some(Ok(parsed))
    }
}

/// One way the files actually present (the inventory) differ from a [`ChecksumSet`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InventoryMismatch<'a> {
    /// A listed name is absent from the inventory (what `sha256sum --ignore-missing` lets pass).
    Missing(&'a str),
    /// A file of the inventory is not listed.
    Extra(&'a str),
    /// The file's digest is not the listed one.
    Digest(&'a str),
    /// The inventory names the same file twice.
    Duplicate(&'a str),
}

/// A fixed-capacity set of checksum lines for targets without an allocator: at most `N` entries,
/// names of at most `NAME` bytes. Duplicate names are refused as they are inserted.
pub struct ChecksumSet<const N: usize, const NAME: usize> {
    entries: heapless::Vec<(Sha256Digest, heapless::String<NAME>), N>,
}

impl<const N: usize, const NAME: usize> Default for ChecksumSet<N, NAME> {
    fn default() -> Self {
        Self {
            entries: heapless::Vec::new(),
        }
    }
}

impl<const N: usize, const NAME: usize> ChecksumSet<N, NAME> {
    /// Parses a whole `checksums.txt`, stopping at the first error.
    pub fn parse(text: &[u8]) -> Result<Self, LineError> {
        let mut set = Self::default();
        for item in lines(text) {
            let line = item?;
            let at = set.entries.len() + 1;
            set.insert(&line)
                .map_err(|kind| LineError { line: at, kind })?;
        }
        Ok(set)
    }

    fn insert(&mut self, line: &Line<'_>) -> Result<(), LineErrorKind> {
        if self.get(line.name).is_some() {
            return Err(LineErrorKind::DuplicateName);
        }
        let mut name = heapless::String::new();
        name.push_str(line.name)
            .map_err(|_| LineErrorKind::CapacityExceeded)?;
        self.entries
            .push((line.digest, name))
            .map_err(|_| LineErrorKind::CapacityExceeded)
    }

    /// The digest listed for `name`.
    pub fn get(&self, name: &str) -> Option<&Sha256Digest> {
        self.entries
            .iter()
            .find(|(_, n)| n.as_str() == name)
            .map(|(d, _)| d)
    }

    /// Number of lines.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether there are no lines.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Compares the set with an inventory of `(name, digest)` pairs, exactly: every listed name
    /// present once with its digest, nothing unlisted. Calls `on_mismatch` for every difference
    /// (inventory order, then the missing names in file order) and returns how many there were;
    /// 0 means the inventory matches.
    pub fn check_inventory<'a, I>(
        &'a self,
        inventory: I,
        on_mismatch: &mut dyn FnMut(InventoryMismatch<'a>),
    ) -> usize
    where
        I: IntoIterator<Item = (&'a str, &'a Sha256Digest)>,
    {
        let mut seen = [false; N];
        let mut mismatches = 0;
        let mut report = |m| {
            mismatches += 1;
            on_mismatch(m);
        };
        for (name, digest) in inventory {
            match self.entries.iter().position(|(_, n)| n.as_str() == name) {
                None => report(InventoryMismatch::Extra(name)),
                Some(i) if seen[i] => report(InventoryMismatch::Duplicate(name)),
                Some(i) => {
                    seen[i] = true;
                    if self.entries[i].0 != *digest {
                        report(InventoryMismatch::Digest(name));
                    }
                }
            }
        }
        for ((_, name), seen) in self.entries.iter().zip(seen) {
            if !seen {
                report(InventoryMismatch::Missing(name.as_str()));
            }
        }
        mismatches
    }

    /// The entries in file order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &Sha256Digest)> {
        self.entries.iter().map(|(d, n)| (n.as_str(), d))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const D: &str = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";

    fn kinds(text: &[u8]) -> [Option<LineErrorKind>; 3] {
        let mut out = [None; 3];
        for (slot, item) in out.iter_mut().zip(lines(text)) {
            *slot = item.err().map(|e| e.kind);
        }
        out
    }

    #[test]
    fn accepts_sha256sum_output() {
        let text = [D, "  bin/a\n", D, "  b\n"].concat();
        let set = ChecksumSet::<4, 16>::parse(text.as_bytes()).unwrap();
        assert_eq!(set.len(), 2);
        assert!(set.get("bin/a").is_some());
    }

    #[test]
    fn refuses_every_ambiguity() {
        let cases: &[(&str, LineErrorKind)] = &[
            ("\u{feff}{D}  a\n", LineErrorKind::ByteOrderMark),
            ("{D}  a\r\n", LineErrorKind::CarriageReturn),
            ("{D}  a", LineErrorKind::MissingFinalNewline),
            ("\n", LineErrorKind::EmptyLine),
            ("\\{D}  a\\\\b\n", LineErrorKind::EscapedName),
            ("{D} *a\n", LineErrorKind::BinaryMarker),
            ("{D} a\n", LineErrorKind::BadSeparator),
            (
                "{D}  ../a\n",
                LineErrorKind::BadName(NameError::ParentComponent),
            ),
            (
                "{D}  ./a\n",
                LineErrorKind::BadName(NameError::EmptyOrDotComponent),
            ),
        ];
        for (template, kind) in cases {
            let text = template.replace("{D}", D);
            assert_eq!(kinds(text.as_bytes())[0], Some(*kind), "{text:?}");
        }
        let upper = D.to_uppercase() + "  a\n";
        assert_eq!(kinds(upper.as_bytes())[0], Some(LineErrorKind::BadDigest));
        let dup = [D, "  a\n", D, "  a\n"].concat();
        assert_eq!(
            ChecksumSet::<4, 16>::parse(dup.as_bytes()).err(),
            Some(LineError {
                line: 2,
                kind: LineErrorKind::DuplicateName
            })
        );
        let three = [D, "  a\n", D, "  b\n", D, "  c\n"].concat();
        assert_eq!(
            ChecksumSet::<2, 16>::parse(three.as_bytes())
                .err()
                .map(|e| e.kind),
            Some(LineErrorKind::CapacityExceeded)
        );
    }

    #[test]
    fn keeps_going_after_a_bad_line() {
        let text = ["bad\n", D, "  ok\n", D, " *bin\n"].concat();
        assert_eq!(
            kinds(text.as_bytes()),
            [
                Some(LineErrorKind::BadDigest),
                None,
                Some(LineErrorKind::BinaryMarker)
            ]
        );
    }
}
