//! Entry names and types: what a name in a tar header, a GNU long-name entry or a PAX `path`
//! record becomes, which names are refused, and when two names are the same file.

use crate::reason::{Code, Reason};
use airlock_core::name::{self, NameError};
use std::collections::HashMap;
use std::fmt;
use unicode_normalization::UnicodeNormalization;

/// Longest piece of a name quoted in a message.
const SHOWN_CHARS: usize = 160;

/// A name (or any untrusted bytes) quoted safely in a message: lossy UTF-8, control characters
/// escaped (a name must not be able to rewrite the operator's console), long names shortened.
pub(crate) struct Shown<'a>(pub &'a [u8]);

impl fmt::Display for Shown<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let text = String::from_utf8_lossy(self.0);
        let mut chars = text.chars();
        let head: String = chars.by_ref().take(SHOWN_CHARS).collect();
        if chars.next().is_some() {
            write!(f, "{:?}…", head)
        } else {
            write!(f, "{:?}", head)
        }
    }
}

/// What kind of entry a header describes, from its type flag.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// `0` or NUL.
    File,
    /// `5`.
    Directory,
}

/// Why an entry's type is refused, as the end of a sentence ("… is a hard link").
pub(crate) fn refused_type(flag: u8) -> String {
    match flag {
        b'1' => "a hard link".into(),
        b'2' => "a symbolic link".into(),
        b'3' => "a character device".into(),
        b'4' => "a block device".into(),
        b'6' => "a FIFO".into(),
        b'7' => "a contiguous file (type 7)".into(),
        b'K' => "a GNU long link name (type K), which only links use".into(),
        b'D' => "a GNU dump directory (type D)".into(),
        b'M' => "a GNU multi-volume continuation (type M)".into(),
        b'V' => "a GNU volume label (type V)".into(),
        b'N' => "an old GNU long-name entry (type N)".into(),
        f if f.is_ascii_graphic() => format!("of unknown type {:?}", f as char),
        f => format!("of unknown type byte 0x{f:02x}"),
    }
}

/// Turns the raw name of an entry into its canonical name.
///
/// One leading `./` is removed, a directory's trailing `/` is removed, and a bare `.` or `./`
/// directory (what `tar -C dir -cf b.tar .` writes first) is ignored (`Ok(None)`). The rest must
/// be UTF-8 without NUL and pass [`airlock_core::name::check`].
pub(crate) fn canonical(raw: &[u8], kind: Kind) -> Result<Option<String>, Reason> {
    let unsafe_name = |why: &str| {
        Reason::new(
            Code::BundleEntryUnsafe,
            format!("The bundle entry {} {why}.", Shown(raw)),
        )
    };
    if raw.contains(&0) {
        return Err(unsafe_name("has a NUL byte inside its name"));
    }
    let text = std::str::from_utf8(raw).map_err(|_| unsafe_name("has a name that is not UTF-8"))?;
    if kind == Kind::Directory && (text == "." || text == "./") {
        return Ok(None);
    }
    let mut name = text.strip_prefix("./").unwrap_or(text);
    if kind == Kind::Directory {
        name = name.strip_suffix('/').unwrap_or(name);
    }
    match name::check(name) {
        Ok(()) => Ok(Some(name.to_owned())),
        Err(NameError::TooLong) => Err(Reason::new(
            Code::BundleLimitExceeded,
            format!(
                "The bundle entry {} has a name longer than {} bytes or a component longer than {} bytes.",
                Shown(raw),
                name::MAX_NAME_LEN,
                name::MAX_COMPONENT_LEN
            ),
        )),
        Err(e) => Err(unsafe_name(match e {
            NameError::Empty => "has an empty name",
            NameError::Absolute => "has an absolute name",
            NameError::EmptyOrDotComponent => {
                "has an empty or `.` component in its name (`a//b`, `a/./b`, or a trailing `/` on a file)"
            }
            NameError::ParentComponent => "has a `..` component in its name",
            NameError::Backslash => "has a backslash in its name",
            NameError::ControlCharacter => "has a control character in its name",
            NameError::TooLong => "has a name that is too long",
        })),
    }
}

/// The key under which two names are the same file on some file system: canonical caseless
/// matching (Unicode D145: NFD, full case folding), then NFC. `README`/`readme`, `café` in NFC and
/// NFD, and `ß`/`ss` share a key.
pub(crate) fn fold_key(name: &str) -> String {
    let decomposed: String = name.nfd().collect();
    caseless::default_case_fold_str(&decomposed).nfc().collect()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Seen {
    File,
    Directory,
    /// Not listed itself, but the parent of a listed entry.
    Parent,
}

/// Every name seen so far, by [`fold_key`]: 100 000 of them at the entry cap, so each is kept
/// small: its key in one arena ([`Keys`]), and the name itself only when folding changed it (in
/// a second, nearly always empty, table).
#[derive(Default)]
pub(crate) struct Names {
    seen: Keys,
    unfolded: HashMap<Box<str>, Box<str>>,
}

/// A set of keys with a [`Seen`] each, compact at 100 000 keys: the keys one after another in one
/// `String`, an open-addressing table (SipHash with a random key, so a bundle cannot choose
/// collisions; quadratic probing, at most 7/8 full) of 12-byte slots pointing into it. A
/// `HashMap<Box<str>, Seen>` took 24 bytes a slot plus an allocation per key (issue 15).
#[derive(Default)]
struct Keys {
    text: String,
    slots: Vec<Option<Slot>>,
    used: usize,
    hasher: std::collections::hash_map::RandomState,
}

#[derive(Clone, Copy)]
struct Slot {
    start: u32,
    len: u32,
    seen: Seen,
}

/// Smallest table ([`Keys::slots`] length, a power of two).
const MIN_SLOTS: usize = 64;

impl Keys {
    fn text_of(&self, slot: Slot) -> &str {
        let start = slot.start as usize;
        self.text
            .get(start..start.saturating_add(slot.len as usize))
            .unwrap_or_default()
    }

    /// The slot holding `key`, or the empty one where it would go (None: the table is empty).
    fn find(&self, key: &str) -> Option<usize> {
        use std::hash::BuildHasher;
        let mask = self.slots.len().checked_sub(1)?;
        let mut at = (self.hasher.hash_one(key) as usize) & mask;
        // Triangular steps visit every slot of a power-of-two table; it is never full.
        for step in 1..=self.slots.len() {
            match self.slots.get(at).copied().flatten() {
                Some(slot) if self.text_of(slot) != key => at = (at + step) & mask,
                _ => return Some(at),
            }
        }
        None
    }

    fn get(&self, key: &str) -> Option<Seen> {
        let at = self.find(key)?;
        self.slots.get(at).copied().flatten().map(|s| s.seen)
    }

    /// Sets `key` to `seen`; false if the arena would pass 4 GiB (a limit, not reachable under
    /// the name-bytes cap).
    fn set(&mut self, key: &str, seen: Seen) -> bool {
        if let Some(Some(slot)) = self.find(key).and_then(|at| self.slots.get_mut(at)) {
            slot.seen = seen;
            return true;
        }
        if self.used.saturating_add(1).saturating_mul(8) > self.slots.len().saturating_mul(7) {
            self.grow();
        }
        let (Ok(start), Ok(len)) = (u32::try_from(self.text.len()), u32::try_from(key.len()))
        else {
            return false;
        };
        if start.checked_add(len).is_none() {
            return false;
        }
        let Some(at) = self.find(key) else {
            return false;
        };
        if let Some(free) = self.slots.get_mut(at) {
            self.text.push_str(key);
            *free = Some(Slot { start, len, seen });
            self.used = self.used.saturating_add(1);
        }
        true
    }

    /// Doubles the table and puts every key back.
    fn grow(&mut self) {
        let size = self.slots.len().saturating_mul(2).max(MIN_SLOTS);
        let old = std::mem::replace(&mut self.slots, vec![None; size]);
        for slot in old.into_iter().flatten() {
            let key = self.text_of(slot);
            if let Some(at) = self.find(key) {
                if let Some(free) = self.slots.get_mut(at) {
                    *free = Some(slot);
                }
            }
        }
    }
}

impl Names {
    /// The name recorded under `key`.
    fn name<'a>(&'a self, key: &'a str) -> &'a str {
        self.unfolded.get(key).map_or(key, |n| n)
    }

    /// Records `key` as `seen`, with the name it came from.
    fn record(&mut self, key: &str, seen: Seen, name: &str) -> Result<(), Reason> {
        if key == name {
            self.unfolded.remove(key);
        } else {
            self.unfolded.insert(key.into(), name.into());
        }
        if self.seen.set(key, seen) {
            Ok(())
        } else {
            Err(Reason::new(
                Code::BundleLimitExceeded,
                "The bundle's entry names take more than 4 GiB once case-folded (the limit).",
            ))
        }
    }

    /// Records `name`; refuses it if its key is already taken by another entry, if one of its
    /// parents is a file, or if it is a file and already the parent of another entry.
    pub(crate) fn insert(&mut self, name: &str, kind: Kind) -> Result<(), Reason> {
        let key = fold_key(name);
        for (at, _) in key.match_indices('/') {
            let parent = key.get(..at).unwrap_or_default();
            match self.seen.get(parent) {
                Some(Seen::File) => {
                    return Err(duplicate(format!(
                        "The bundle entry {} is inside {}, which is a file of the bundle; a name cannot be both a file and a directory.",
                        Shown(name.as_bytes()),
                        Shown(self.name(parent).as_bytes())
                    )));
                }
                Some(_) => {}
                None => self.record(parent, Seen::Parent, name)?,
            }
        }
        let mine = match kind {
            Kind::File => Seen::File,
            Kind::Directory => Seen::Directory,
        };
        match self.seen.get(key.as_str()) {
            None => self.record(&key, mine, name),
            Some(Seen::Parent) if mine == Seen::Directory => {
                self.record(&key, Seen::Directory, name)
            }
            Some(Seen::Parent) => Err(duplicate(format!(
                "The bundle entry {} is a file, but {} uses that name as a directory; a name cannot be both a file and a directory.",
                Shown(name.as_bytes()),
                Shown(self.name(&key).as_bytes())
            ))),
            Some(_) if self.name(&key) == name => Err(duplicate(format!(
                "The bundle entry {} appears more than once; tools that extract it keep the last copy.",
                Shown(name.as_bytes())
            ))),
            Some(_) => Err(duplicate(format!(
                "The bundle entries {} and {} have the same name after Unicode normalisation and case folding; they collide on case-insensitive or normalising file systems.",
                Shown(self.name(&key).as_bytes()),
                Shown(name.as_bytes())
            ))),
        }
    }
}

fn duplicate(message: String) -> Reason {
    Reason::new(Code::BundleEntryDuplicate, message)
}

/// What a PAX extended header (`x`) says about the next entry.
#[derive(Debug, Default)]
pub(crate) struct Pax {
    /// `path`.
    pub path: Option<Vec<u8>>,
    /// `size`.
    pub size: Option<u64>,
    /// A `linkpath` record was present (only links have one).
    pub linkpath: Option<Vec<u8>>,
    /// A `GNU.sparse.*` record was present.
    pub sparse: bool,
}

/// Parses the records of a PAX extended header (`"<len> <key>=<value>\n"` each).
///
/// Strict where readers disagree: the records must cover the data exactly (no blank line, no
/// trailing bytes), no key may appear twice, and `size` must be a plain decimal number. An `Err`
/// is a sentence fragment ("has a malformed record").
pub(crate) fn parse_pax(data: &[u8]) -> Result<Pax, &'static str> {
    let mut pax = Pax::default();
    if data.is_empty() {
        return Ok(pax);
    }
    // `tar::PaxExtensions` splits on newlines and checks each record's length against its line,
    // stopping at the first empty line: insist there is none before the end, so that it sees
    // every record (a value with a newline inside fails its length check).
    if data.last() != Some(&b'\n') || data.first() == Some(&b'\n') {
        return Err("has a malformed record (the data must be whole records)");
    }
    if data.windows(2).any(|w| w == b"\n\n") {
        return Err("has a malformed record (an empty line)");
    }
    let mut keys: Vec<&[u8]> = Vec::new();
    for record in tar::PaxExtensions::new(data) {
        let record = record.map_err(|_| "has a malformed record")?;
        let key = record.key_bytes();
        let value = record.value_bytes();
        if key.starts_with(b"GNU.sparse.") {
            pax.sparse = true;
            continue;
        }
        if keys.contains(&key) {
            return Err("has the same key twice");
        }
        keys.push(key);
        match key {
            b"path" => pax.path = Some(value.to_vec()),
            b"linkpath" => pax.linkpath = Some(value.to_vec()),
            b"size" => {
                if value.is_empty() || !value.iter().all(u8::is_ascii_digit) {
                    return Err("has a `size` record that is not a decimal number");
                }
                let size = std::str::from_utf8(value)
                    .ok()
                    .and_then(|v| v.parse::<u64>().ok())
                    .ok_or("has a `size` record that does not fit in 64 bits")?;
                pax.size = Some(size);
            }
            _ => {}
        }
    }
    Ok(pax)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_names() {
        let f = Kind::File;
        let d = Kind::Directory;
        assert_eq!(canonical(b"./a/b", f).ok(), Some(Some("a/b".into())));
        assert_eq!(canonical(b"a/", d).ok(), Some(Some("a".into())));
        assert_eq!(canonical(b"./", d).ok(), Some(None));
        assert_eq!(canonical(b".", d).ok(), Some(None));
        for bad in [
            &b"."[..],
            b"./",
            b"a/",
            b"././a",
            b"/etc/passwd",
            b"a/../b",
            b"a\\b",
            b"a\0b",
            b"a\x1bb",
            b"\xff",
        ] {
            let r = canonical(bad, f).err().map(|r| r.code);
            assert_eq!(r, Some(Code::BundleEntryUnsafe), "{bad:?}");
        }
        assert_eq!(
            canonical(&[b'a'; 300], f).err().map(|r| r.code),
            Some(Code::BundleLimitExceeded)
        );
    }

    #[test]
    fn fold_keys_collide() {
        assert_eq!(fold_key("README"), fold_key("readme"));
        assert_eq!(fold_key("caf\u{e9}"), fold_key("cafe\u{301}"));
        assert_eq!(fold_key("stra\u{df}e"), fold_key("STRASSE"));
        assert_ne!(fold_key("a"), fold_key("b"));
    }

    /// The compact table grows past many sizes and still finds every key (and only those).
    #[test]
    fn keys_find_every_key_after_growing() {
        let mut n = Names::default();
        for i in 0..20_000 {
            assert!(n.insert(&format!("d{}/f{i}", i % 97), Kind::File).is_ok());
        }
        for i in 0..20_000 {
            let again = n.insert(&format!("D{}/F{i}", i % 97), Kind::File);
            assert_eq!(
                again.err().map(|r| r.code),
                Some(Code::BundleEntryDuplicate)
            );
            assert_eq!(n.seen.get(&format!("d{}/f{i}", i % 97)), Some(Seen::File));
        }
        assert_eq!(n.seen.get("d3"), Some(Seen::Parent));
        assert_eq!(n.seen.get("f1"), None);
        assert!(n.insert("d3", Kind::Directory).is_ok());
        assert_eq!(n.seen.get("d3"), Some(Seen::Directory));
        assert_eq!(n.seen.used, 20_000 + 97);
    }

    #[test]
    fn names_refuse_collisions() {
        let mut n = Names::default();
        assert!(n.insert("dir", Kind::Directory).is_ok());
        assert!(n.insert("dir/a", Kind::File).is_ok());
        assert!(n.insert("other/x", Kind::File).is_ok());
        assert!(n.insert("other", Kind::Directory).is_ok());
        assert!(n.insert("Dir/A", Kind::File).is_err());
        assert!(n.insert("dir", Kind::Directory).is_err());
        assert!(n.insert("dir/a/b", Kind::File).is_err());
        assert!(n.insert("other", Kind::File).is_err());
        let mut n = Names::default();
        assert!(n.insert("x/y", Kind::File).is_ok());
        assert!(n.insert("X", Kind::File).is_err());
    }

    #[test]
    fn pax_records() {
        let p = parse_pax(b"12 path=abc\n11 size=42\n").ok();
        assert_eq!(
            p.as_ref().and_then(|p| p.path.clone()),
            Some(b"abc".to_vec())
        );
        assert_eq!(p.and_then(|p| p.size), Some(42));
        assert!(parse_pax(b"12 path=abc\n\n11 size=42\n").is_err());
        assert!(parse_pax(b"12 path=abc\n12 path=abd\n").is_err());
        assert!(parse_pax(b"12 size=+42\n").is_err());
        assert!(parse_pax(b"12 path=abc\nxx").is_err());
        assert!(parse_pax(b"30 size=99999999999999999999\n").is_err());
        assert!(parse_pax(b"13 path=abc\n").is_err());
        assert!(parse_pax(b"22 GNU.sparse.major=1\n")
            .map(|p| p.sparse)
            .unwrap_or(false));
    }
}

#[cfg(test)]
mod shown_tests {
    use super::Shown;

    #[test]
    fn messages_escape_what_could_rewrite_a_console() {
        let s = Shown("a\u{1b}[2J\u{202e}b\n".as_bytes()).to_string();
        assert!(!s.contains('\u{1b}') && !s.contains('\n'), "{s}");
        assert!(!s.contains('\u{202e}'), "bidi override shown raw: {s}");
        let long = Shown(&[b'x'; 1000]).to_string();
        assert!(long.chars().count() < 200);
    }
}
