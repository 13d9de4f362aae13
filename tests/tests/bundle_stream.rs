//! The bundle stream on real bytes: one test per tar/gzip attack of the adversarial catalogue
//! (section C, #39–53, plus #6 endless input and #8 stalls), interoperability with GNU tar and
//! Python's tarfile, and flat memory on a multi-GiB bundle.
//!
//! Malicious archives are written byte by byte (a ustar header with a recomputed checksum) so that
//! nothing in the way "fixes" them; ordinary ones come from GNU `tar`, `gzip` and `python3`.

use airlock_formats::reason::Code;
use airlock_verifier::bundle::{self, Limits, NoProgress, Progress, Scan, ScanAbort};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

// ---------------------------------------------------------------------------------------------
// Building archives byte by byte.

const BLOCK: usize = 512;

/// Recomputes the checksum of a raw header.
fn fix_cksum(h: &mut [u8; BLOCK]) {
    h[148..156].fill(b' ');
    let sum: u32 = h.iter().map(|&b| u32::from(b)).sum();
    let field = format!("{sum:06o}\0 ");
    h[148..156].copy_from_slice(field.as_bytes());
}

/// A ustar header with `name` written raw into the name field (up to 100 bytes, anything goes).
fn header(name: &[u8], flag: u8, size: u64) -> [u8; BLOCK] {
    let mut h = tar::Header::new_ustar();
    h.set_mode(0o644);
    h.set_mtime(1_700_000_000);
    h.set_size(size);
    h.set_entry_type(tar::EntryType::new(flag));
    let mut b = *h.as_bytes();
    b[..name.len()].copy_from_slice(name);
    fix_cksum(&mut b);
    b
}

fn pax_record(key: &str, value: &[u8]) -> Vec<u8> {
    let body = key.len() + value.len() + 3; // ' ', '=', '\n'
    let mut len = body + 1;
    while len != body + len.to_string().len() {
        len = body + len.to_string().len();
    }
    let mut r = format!("{len} {key}=").into_bytes();
    r.extend_from_slice(value);
    r.push(b'\n');
    r
}

#[derive(Default, Clone)]
struct Raw(Vec<u8>);

impl Raw {
    fn new() -> Self {
        Self::default()
    }

    /// A header block and data, padded to a block.
    fn block(mut self, h: [u8; BLOCK], data: &[u8]) -> Self {
        self.0.extend_from_slice(&h);
        self.0.extend_from_slice(data);
        let pad = (BLOCK - data.len() % BLOCK) % BLOCK;
        self.0.extend(std::iter::repeat_n(0, pad));
        self
    }

    fn file(self, name: &str, data: &[u8]) -> Self {
        self.block(header(name.as_bytes(), b'0', data.len() as u64), data)
    }

    fn dir(self, name: &str) -> Self {
        self.block(header(name.as_bytes(), b'5', 0), &[])
    }

    fn link(self, name: &str, flag: u8, target: &str) -> Self {
        let mut h = header(name.as_bytes(), flag, 0);
        h[157..157 + target.len()].copy_from_slice(target.as_bytes());
        fix_cksum(&mut h);
        self.block(h, &[])
    }

    fn pax(self, records: &[(&str, &[u8])]) -> Self {
        let data: Vec<u8> = records.iter().flat_map(|(k, v)| pax_record(k, v)).collect();
        self.block(header(b"PaxHeaders/x", b'x', data.len() as u64), &data)
    }

    fn long_name(self, name: &[u8]) -> Self {
        let mut data = name.to_vec();
        data.push(0);
        self.block(header(b"././@LongLink", b'L', data.len() as u64), &data)
    }

    fn bytes(mut self, b: &[u8]) -> Self {
        self.0.extend_from_slice(b);
        self
    }

    /// The two end-of-archive blocks.
    fn end(self) -> Vec<u8> {
        self.bytes(&[0; 2 * BLOCK]).0
    }
}

// ---------------------------------------------------------------------------------------------
// Scanning.

fn write_temp(dir: &tempfile::TempDir, name: &str, bytes: &[u8]) -> PathBuf {
    let path = dir.path().join(name);
    std::fs::write(&path, bytes).unwrap();
    path
}

fn scan_path(path: &Path, limits: &Limits) -> Scan {
    bundle::scan(path, limits, &NoProgress).expect("no deadline was set")
}

fn scan_with(bytes: &[u8], limits: &Limits) -> Scan {
    let dir = tempfile::tempdir().unwrap();
    scan_path(&write_temp(&dir, "bundle.tar", bytes), limits)
}

fn scan(bytes: &[u8]) -> Scan {
    scan_with(bytes, &Limits::default())
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(bytes).unwrap();
    e.finish().unwrap()
}

fn hex(d: &[u8]) -> String {
    d.iter().map(|b| format!("{b:02x}")).collect()
}

fn sha256sum(path: &Path) -> String {
    let out = Command::new("sha256sum").arg(path).output().unwrap();
    assert!(out.status.success());
    String::from_utf8(out.stdout).unwrap()[..64].to_owned()
}

/// Asserts that some reason has `code` and mentions `needle`.
#[track_caller]
fn assert_reason(s: &Scan, code: Code, needle: &str) {
    assert!(
        s.reasons
            .iter()
            .any(|r| r.code == code && r.message.contains(needle)),
        "expected {code} mentioning {needle:?}, got {:#?}",
        s.reasons
    );
}

#[track_caller]
fn assert_clean(s: &Scan) {
    assert!(s.reasons.is_empty(), "unexpected reasons: {:#?}", s.reasons);
}

fn names(s: &Scan) -> Vec<&str> {
    s.inventory.files.iter().map(|f| f.name.as_str()).collect()
}

fn run(cmd: &mut Command) {
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "{cmd:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn python(script: &str, args: &[&Path]) {
    run(Command::new("python3").arg("-c").arg(script).args(args));
}

// ---------------------------------------------------------------------------------------------
// The good path.

#[test]
fn clean_archive_lists_files_digests_and_metadata() {
    let bytes = Raw::new()
        .dir("./")
        .dir("./bin/")
        .file("./bin/cavra", b"binary")
        .file("./checksums.txt", b"sums\n")
        .file("./trust-root/2.json", b"{}")
        .end();
    let s = scan(&bytes);
    assert_clean(&s);
    assert_eq!(
        names(&s),
        ["bin/cavra", "checksums.txt", "trust-root/2.json"]
    );
    assert_eq!(s.inventory.files[0].sha256, sha256_of(b"binary"));
    assert_eq!(s.inventory.files[0].size, 6);
    assert_eq!(s.inventory.metadata.len(), 2);
    assert_eq!(s.inventory.metadata["checksums.txt"], b"sums\n");
    assert_eq!(s.inventory.metadata["trust-root/2.json"], b"{}");
    assert_eq!(s.inventory.bundle_size, bytes.len() as u64);
    assert_eq!(
        s.inventory.bundle_sha256,
        Some(sha256_of(&bytes)),
        "the whole-file digest"
    );
}

/// SHA-256 by `sha256sum`, an independent implementation.
fn sha256_of(bytes: &[u8]) -> [u8; 32] {
    let dir = tempfile::tempdir().unwrap();
    let p = write_temp(&dir, "x", bytes);
    let hex = sha256sum(&p);
    let mut d = [0u8; 32];
    for (i, b) in d.iter_mut().enumerate() {
        *b = u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).unwrap();
    }
    d
}

#[test]
fn problems_are_all_reported_and_the_walk_goes_on() {
    let bytes = Raw::new()
        .link("evil", b'2', "/etc")
        .file("a", b"1")
        .file("A", b"2")
        .file("b", b"3")
        .end();
    let s = scan(&bytes);
    assert_reason(&s, Code::BundleEntryUnsafe, "\"evil\" is a symbolic link");
    assert_reason(&s, Code::BundleEntryDuplicate, "\"A\"");
    assert_eq!(s.reasons.len(), 2, "{:#?}", s.reasons);
    assert_eq!(names(&s), ["a", "b"], "the walk went on past both");
}

#[test]
fn metadata_over_its_limit_is_reported_and_not_kept() {
    let big = vec![b'x'; 2048];
    let bytes = Raw::new().file("checksums.txt", &big).end();
    let limits = Limits {
        max_metadata_bytes: 1024,
        ..Limits::default()
    };
    let s = scan_with(&bytes, &limits);
    assert_reason(
        &s,
        Code::BundleLimitExceeded,
        "\"checksums.txt\" is 2048 bytes",
    );
    assert!(s.inventory.metadata.is_empty());
    assert_eq!(names(&s), ["checksums.txt"], "still listed and hashed");
}

#[test]
fn metadata_file_count_is_capped() {
    let bytes = Raw::new()
        .file("trust-root/1.json", b"{}")
        .file("trust-root/2.json", b"{}")
        .file("trust-root/3.json", b"{}")
        .end();
    let limits = Limits {
        max_metadata_files: 2,
        ..Limits::default()
    };
    let s = scan_with(&bytes, &limits);
    assert_reason(&s, Code::BundleLimitExceeded, "trust-root/3.json");
    assert_eq!(s.inventory.metadata.len(), 2);
}

#[test]
fn entry_count_is_capped() {
    let mut raw = Raw::new();
    for i in 0..11 {
        raw = raw.file(&format!("f{i}"), b"x");
    }
    let limits = Limits {
        max_entries: 10,
        ..Limits::default()
    };
    let s = scan_with(&raw.end(), &limits);
    assert_reason(&s, Code::BundleLimitExceeded, "more than 10 entries");
    assert_eq!(s.inventory.files.len(), 10);
}

/// The names of all entries together are capped: they are held in memory for the duplicate check
/// and the inventory, so many long names must not grow memory without bound.
#[test]
fn total_name_bytes_are_capped() {
    let mut raw = Raw::new();
    for i in 0..5 {
        raw = raw.file(&format!("{}{i}", "n".repeat(90)), b"x");
    }
    let limits = Limits {
        max_name_bytes: 300,
        ..Limits::default()
    };
    let s = scan_with(&raw.end(), &limits);
    assert_reason(
        &s,
        Code::BundleLimitExceeded,
        "entry names add up to more than 300 bytes",
    );
    assert_eq!(s.inventory.files.len(), 3);
}

#[test]
fn unopenable_bundle_is_unreadable_without_a_digest() {
    let dir = tempfile::tempdir().unwrap();
    let s = scan_path(&dir.path().join("missing.tar"), &Limits::default());
    assert_reason(&s, Code::BundleUnreadable, "cannot be opened");
    assert_eq!(
        s.reasons.len(),
        1,
        "one problem, said once: {:#?}",
        s.reasons
    );
    assert_eq!(s.inventory.bundle_sha256, None);
}

#[test]
fn empty_and_non_tar_files_are_unreadable() {
    assert_reason(&scan(b""), Code::BundleUnreadable, "empty");
    let s = scan(&[b'z'; 4096]);
    assert_reason(
        &s,
        Code::BundleUnreadable,
        "not a tar archive (or a gzip-compressed one)",
    );
    assert!(
        s.inventory.bundle_sha256.is_some(),
        "the file itself was read"
    );
}

#[test]
fn gzip_is_detected_by_content_not_by_name() {
    let tar = Raw::new().file("a", b"hello").end();
    let dir = tempfile::tempdir().unwrap();
    // Compressed, but called .tar.
    let s = scan_path(&write_temp(&dir, "x.tar", &gzip(&tar)), &Limits::default());
    assert_clean(&s);
    assert_eq!(names(&s), ["a"]);
    // Plain, but called .tar.gz.
    let s = scan_path(&write_temp(&dir, "y.tar.gz", &tar), &Limits::default());
    assert_clean(&s);
    assert_eq!(names(&s), ["a"]);
}

struct Counting(AtomicU64, AtomicU64);

impl Progress for Counting {
    fn position(&self, bytes: u64, total: u64) {
        self.0.fetch_add(1, Ordering::Relaxed);
        self.1.store(bytes.max(total), Ordering::Relaxed);
    }
}

#[test]
fn progress_reaches_the_end() {
    let bytes = Raw::new().file("a", &vec![7u8; 3 << 20]).end();
    let dir = tempfile::tempdir().unwrap();
    let p = Counting(AtomicU64::new(0), AtomicU64::new(0));
    let s = bundle::scan(&write_temp(&dir, "b.tar", &bytes), &Limits::default(), &p).unwrap();
    assert_clean(&s);
    assert!(p.0.load(Ordering::Relaxed) >= 1);
    assert_eq!(p.1.load(Ordering::Relaxed), bytes.len() as u64);
}

// ---------------------------------------------------------------------------------------------
// C. tar and gzip — one test per attack.

/// #39: symlink `x` -> `..`, then `x/evil` (RUSTSEC-2021-0080).
#[test]
fn c39_rejects_symlink_to_parent_then_file_through_it() {
    let bytes = Raw::new()
        .link("x", b'2', "..")
        .file("x/evil", b"pwned")
        .end();
    let s = scan(&bytes);
    assert_reason(
        &s,
        Code::BundleEntryUnsafe,
        "\"x\" is a symbolic link to \"..\"",
    );
}

/// #40: hard link `a` -> `/etc/f`, then a regular file `a` (RUSTSEC-2018-0002).
#[test]
fn c40_rejects_hard_link_then_file_of_same_name() {
    let bytes = Raw::new()
        .link("a", b'1', "/etc/f")
        .file("a", b"overwrite")
        .end();
    let s = scan(&bytes);
    assert_reason(
        &s,
        Code::BundleEntryUnsafe,
        "\"a\" is a hard link to \"/etc/f\"",
    );
}

/// #41: the same name twice; GNU tar keeps the last, a naive verifier hashed the first.
#[test]
fn c41_rejects_duplicate_names_including_dot_slash_spelling() {
    let s = scan(
        &Raw::new()
            .file("bin/x", b"good")
            .file("bin/x", b"evil")
            .end(),
    );
    assert_reason(
        &s,
        Code::BundleEntryDuplicate,
        "\"bin/x\" appears more than once",
    );
    assert_eq!(s.inventory.files.len(), 1);
    let s = scan(
        &Raw::new()
            .file("bin/x", b"good")
            .file("./bin/x", b"evil")
            .end(),
    );
    assert_reason(
        &s,
        Code::BundleEntryDuplicate,
        "\"bin/x\" appears more than once",
    );
    let s = scan(&Raw::new().dir("d/").dir("./d").end());
    assert_reason(
        &s,
        Code::BundleEntryDuplicate,
        "\"d\" appears more than once",
    );
}

/// #42: a symlink and a directory with the same name; a file that is also a directory.
#[test]
fn c42_rejects_symlink_beside_directory_and_file_used_as_directory() {
    let s = scan(
        &Raw::new()
            .link("d", b'2', "/tmp")
            .dir("d/")
            .file("d/f", b"x")
            .end(),
    );
    assert_reason(&s, Code::BundleEntryUnsafe, "\"d\" is a symbolic link");
    // A file, then something inside it.
    let s = scan(&Raw::new().file("d", b"x").file("d/f", b"y").end());
    assert_reason(&s, Code::BundleEntryDuplicate, "\"d/f\" is inside \"d\"");
    // Something inside a directory, then a file of the directory's name (another case).
    let s = scan(&Raw::new().file("D/f", b"y").file("d", b"x").end());
    assert_reason(
        &s,
        Code::BundleEntryDuplicate,
        "\"d\" is a file, but \"D/f\"",
    );
    // A directory entry and a file of the same name.
    let s = scan(&Raw::new().dir("d/").file("d", b"x").end());
    assert_reason(
        &s,
        Code::BundleEntryDuplicate,
        "\"d\" appears more than once",
    );
}

/// #43: PAX `size` different from the ustar size hides an entry (CVE-2025-62518).
#[test]
fn c43_rejects_pax_size_differing_from_header_size() {
    // The header says 512 bytes; PAX says 0. A reader honouring PAX sees the "data" as a header
    // of a smuggled entry.
    let smuggled = Raw::new().file("smuggled", b"evil").0;
    let bytes = Raw::new()
        .pax(&[("size", b"0")])
        .block(header(b"innocent", b'0', smuggled.len() as u64), &smuggled)
        .file("after", b"x")
        .end();
    let s = scan(&bytes);
    assert_reason(
        &s,
        Code::BundleEntryUnsafe,
        "has a PAX size (0) that differs from its header size (1024)",
    );
    assert!(!names(&s).contains(&"smuggled"), "{:?}", names(&s));
    assert!(!names(&s).contains(&"innocent"));
    // An agreeing PAX size is fine.
    let s = scan(&Raw::new().pax(&[("size", b"2")]).file("ok", b"ok").end());
    assert_clean(&s);
}

/// #44: huge PAX and GNU long-name headers are capped (Go CVE-2022-2879).
#[test]
fn c44_caps_pax_and_gnu_long_name_headers() {
    let limit = Limits::default().max_header_bytes;
    let huge = vec![b'a'; usize::try_from(limit).unwrap() + 1];
    let s = scan(&Raw::new().pax(&[("comment", &huge)]).file("a", b"x").end());
    assert_reason(
        &s,
        Code::BundleLimitExceeded,
        "PAX extended header at byte 0 is",
    );
    let s = scan(&Raw::new().long_name(&huge).file("a", b"x").end());
    assert_reason(
        &s,
        Code::BundleLimitExceeded,
        "GNU long-name header at byte 0 is",
    );
    assert!(
        s.inventory.files.is_empty(),
        "the entry it named is skipped"
    );
}

/// #45: sparse entries, GNU `S` and PAX `GNU.sparse.*` (Go CVE-2026-32288), including what GNU
/// tar itself writes for a sparse file.
#[test]
fn c45_rejects_sparse_entries() {
    let s = scan(&Raw::new().block(header(b"s", b'S', 0), &[]).end());
    assert_reason(&s, Code::BundleEntryUnsafe, "GNU sparse file (type S)");
    let s = scan(
        &Raw::new()
            .pax(&[("GNU.sparse.major", b"1"), ("GNU.sparse.minor", b"0")])
            .file("s", b"x")
            .end(),
    );
    assert_reason(&s, Code::BundleEntryUnsafe, "\"s\" is a sparse file");

    let dir = tempfile::tempdir().unwrap();
    let content = dir.path().join("c");
    std::fs::create_dir(&content).unwrap();
    let f = std::fs::File::create(content.join("holes")).unwrap();
    f.set_len(4 << 20).unwrap();
    for format in ["gnu", "pax"] {
        let out = dir.path().join(format!("{format}.tar"));
        run(Command::new("tar")
            .args(["--sparse", &format!("--format={format}"), "-C"])
            .arg(&content)
            .arg("-cf")
            .arg(&out)
            .arg("holes"));
        let s = scan_path(&out, &Limits::default());
        assert!(
            s.reasons
                .iter()
                .any(|r| r.code == Code::BundleEntryUnsafe && r.message.contains("sparse")),
            "{format}: {:#?}",
            s.reasons
        );
    }
}

/// #46: sizes of u64::MAX, negative, or not a number (tar-rs `header_size_overflow`).
#[test]
fn c46_rejects_overflowing_negative_and_garbage_sizes() {
    let with_size = |field: [u8; 12]| {
        let mut h = header(b"big", b'0', 0);
        h[124..136].copy_from_slice(&field);
        fix_cksum(&mut h);
        Raw::new().block(h, &[]).end()
    };
    let mut max = [0xffu8; 12];
    max[..4].copy_from_slice(&[0x80, 0, 0, 0]);
    let s = scan(&with_size(max));
    assert_reason(
        &s,
        Code::BundleUnreadable,
        "so large the archive cannot hold it",
    );
    let s = scan(&with_size([0xff; 12]));
    assert_reason(&s, Code::BundleUnreadable, "negative base-256 size");
    let mut b = [0u8; 12];
    b[0] = 0x80;
    b[1] = 1;
    let s = scan(&with_size(b));
    assert_reason(&s, Code::BundleUnreadable, "does not fit in 64 bits");
    let s = scan(&with_size(*b"0000000008x\0"));
    assert_reason(&s, Code::BundleUnreadable, "not an octal number");
    // A plausible size larger than the archive: truncated.
    let s = scan(&with_size(*b"77777777777\0"));
    assert_reason(&s, Code::BundleUnreadable, "truncated");
    // PAX size that does not fit in 64 bits.
    let s = scan(
        &Raw::new()
            .pax(&[("size", b"18446744073709551616")])
            .file("a", b"")
            .end(),
    );
    assert_reason(&s, Code::BundleEntryUnsafe, "does not fit in 64 bits");
}

/// #47: NUL inside a ustar or PAX path.
#[test]
fn c47_rejects_nul_inside_ustar_and_pax_paths() {
    let s = scan(&Raw::new().block(header(b"evil\0.txt", b'0', 0), &[]).end());
    assert_reason(&s, Code::BundleEntryUnsafe, "bytes after a NUL");
    let mut h = header(b"name", b'0', 0);
    h[345..352].copy_from_slice(b"pre\0fix");
    fix_cksum(&mut h);
    let s = scan(&Raw::new().block(h, &[]).end());
    assert_reason(&s, Code::BundleEntryUnsafe, "bytes after a NUL");
    let s = scan(
        &Raw::new()
            .pax(&[("path", b"evil\0.txt")])
            .file("x", b"")
            .end(),
    );
    assert_reason(&s, Code::BundleEntryUnsafe, "NUL byte inside its name");
    let s = scan(&Raw::new().long_name(b"evil\0.txt").file("x", b"").end());
    assert_reason(&s, Code::BundleEntryUnsafe, "NUL byte inside its name");
}

/// #48: absolute paths, `..`, backslashes, `..` across the ustar prefix split.
#[test]
fn c48_rejects_absolute_parent_backslash_and_prefix_split_names() {
    for (name, why) in [
        ("/etc/passwd", "absolute"),
        ("a/../../etc/passwd", "`..`"),
        ("..", "`..`"),
        ("a\\..\\b", "backslash"),
        ("a//b", "empty or `.` component"),
        ("a/./b", "empty or `.` component"),
        ("esc\x1b[2J", "control character"),
    ] {
        let s = scan(&Raw::new().file(name, b"x").end());
        assert_reason(&s, Code::BundleEntryUnsafe, why);
        assert!(s.inventory.files.is_empty(), "{name}");
    }
    // prefix "a/.." + name "etc/passwd" = "a/../etc/passwd".
    let mut h = header(b"etc/passwd", b'0', 0);
    h[345..349].copy_from_slice(b"a/..");
    fix_cksum(&mut h);
    let s = scan(&Raw::new().block(h, &[]).end());
    assert_reason(
        &s,
        Code::BundleEntryUnsafe,
        "\"a/../etc/passwd\" has a `..` component",
    );
    // The same through PAX and GNU long names.
    let s = scan(&Raw::new().pax(&[("path", b"/abs")]).file("x", b"").end());
    assert_reason(&s, Code::BundleEntryUnsafe, "\"/abs\" has an absolute name");
    let s = scan(&Raw::new().long_name(b"../up").file("x", b"").end());
    assert_reason(
        &s,
        Code::BundleEntryUnsafe,
        "\"../up\" has a `..` component",
    );
}

/// #49: `café` in NFC and NFD; `ß` beside `ss` (CVE-2021-37712).
#[test]
fn c49_rejects_unicode_normalisation_and_folding_collisions() {
    let s = scan(
        &Raw::new()
            .file("caf\u{e9}", b"1")
            .file("cafe\u{301}", b"2")
            .end(),
    );
    assert_reason(
        &s,
        Code::BundleEntryDuplicate,
        "same name after Unicode normalisation",
    );
    let s = scan(
        &Raw::new()
            .file("stra\u{df}e", b"1")
            .file("strasse", b"2")
            .end(),
    );
    assert_reason(
        &s,
        Code::BundleEntryDuplicate,
        "same name after Unicode normalisation",
    );
    // Through a directory: "Café/x" (NFC) and "café/" (NFD) directory.
    let s = scan(
        &Raw::new()
            .file("Caf\u{e9}/x", b"1")
            .file("cafe\u{301}", b"2")
            .end(),
    );
    assert_reason(&s, Code::BundleEntryDuplicate, "is a file, but");
}

/// #50: case collisions on FAT (`README` / `readme`, CVE-2014-9390).
#[test]
fn c50_rejects_case_collisions() {
    let s = scan(&Raw::new().file("README", b"1").file("readme", b"2").end());
    assert_reason(&s, Code::BundleEntryDuplicate, "\"README\" and \"readme\"");
    let s = scan(
        &Raw::new()
            .file("Checksums.TXT", b"1")
            .file("checksums.txt", b"2")
            .end(),
    );
    assert_reason(
        &s,
        Code::BundleEntryDuplicate,
        "\"Checksums.TXT\" and \"checksums.txt\"",
    );
    assert!(
        s.inventory.metadata.is_empty(),
        "the second spelling is not kept"
    );
}

/// #51: truncation, missing end blocks, bad checksum, data after the end blocks.
#[test]
fn c51_rejects_truncation_missing_end_bad_checksum_and_data_after_end() {
    let good = Raw::new().file("a", &[1u8; 1000]).end();
    assert_clean(&scan(&good));
    // Trailing zero bytes after the end blocks (GNU tar's record padding) are fine.
    let mut padded = good.clone();
    padded.extend_from_slice(&[0; 10240 + 7]);
    assert_clean(&scan(&padded));

    let no_end = Raw::new().file("a", &[1u8; 1000]).0;
    assert_reason(
        &scan(&no_end),
        Code::BundleUnreadable,
        "without the two zero blocks",
    );
    let one_block = Raw::new().file("a", &[1u8; 1000]).bytes(&[0; BLOCK]).0;
    assert_reason(
        &scan(&one_block),
        Code::BundleUnreadable,
        "single zero block",
    );
    assert_reason(
        &scan(&good[..700]),
        Code::BundleUnreadable,
        "truncated inside the data of \"a\"",
    );
    assert_reason(
        &scan(&good[..300]),
        Code::BundleUnreadable,
        "truncated: it ends inside a header",
    );

    let mut bad_sum = good.clone();
    bad_sum[0] ^= 1;
    assert_reason(&scan(&bad_sum), Code::BundleUnreadable, "checksum is");
    let mut later_bad = Raw::new().file("a", b"x").file("b", b"y").end();
    later_bad[1024 + 1] ^= 1;
    assert_reason(
        &scan(&later_bad),
        Code::BundleUnreadable,
        "bad tar header at byte 1024",
    );

    // A second archive after the end blocks (`tar -i` would extract it).
    let mut hidden = good.clone();
    hidden.extend_from_slice(&Raw::new().file("hidden", b"evil").end());
    let s = scan(&hidden);
    assert_reason(
        &s,
        Code::BundleUnreadable,
        "after the end-of-archive blocks",
    );
    assert_eq!(names(&s), ["a"]);
    // A single zero block, then another archive.
    let split = Raw::new()
        .file("a", b"x")
        .bytes(&[0; BLOCK])
        .file("hidden", b"evil")
        .end();
    assert_reason(&scan(&split), Code::BundleUnreadable, "lone zero block");
    // One stray byte far after the end.
    let mut stray = padded.clone();
    *stray.last_mut().unwrap() = 1;
    assert_reason(&scan(&stray), Code::BundleUnreadable, "non-zero byte");
}

/// The tar crate's iterator consumes the first zero block and stops; the second block and the
/// bytes after it must still be examined. Check every alignment of the end blocks with the
/// pipeline's chunk boundaries (256 KiB; 1 MiB is one too, and was the chunk size before), where an
/// off-by-one would show.
#[test]
fn c51_end_blocks_are_checked_across_chunk_boundaries() {
    for data_len in [
        256 * 1024 - 512 - 512,
        256 * 1024 - 512 - 1024,
        256 * 1024 - 512 - 1536,
        1024 * 1024 - 512 - 512,
        1024 * 1024 - 512 - 1024,
        1024 * 1024 - 512 - 1536,
    ] {
        let good = Raw::new().file("a", &vec![3u8; data_len]).end();
        assert_clean(&scan(&good));
        let mut hidden = good.clone();
        hidden.extend_from_slice(&Raw::new().file("h", b"x").end());
        assert_reason(
            &scan(&hidden),
            Code::BundleUnreadable,
            "after the end-of-archive blocks",
        );
        let short = &good[..good.len() - 1];
        assert_reason(&scan(short), Code::BundleUnreadable, "single zero block");
        let mut second_bad = good.clone();
        let n = second_bad.len();
        second_bad[n - 1] = 1;
        assert_reason(
            &scan(&second_bad),
            Code::BundleUnreadable,
            "lone zero block",
        );
    }
}

/// #52: concatenated gzip members and junk after the gzip trailer (GzDecoder stops after the
/// first member): a bundle is exactly one member, then the end of the file.
#[test]
fn c52_rejects_concatenated_gzip_members_and_trailing_junk() {
    let tar = Raw::new().file("a", b"hello").end();
    let one = gzip(&tar);
    assert_clean(&scan(&one));

    let mut two = one.clone();
    two.extend_from_slice(&gzip(&Raw::new().file("hidden", b"evil").end()));
    let s = scan(&two);
    assert_reason(&s, Code::BundleUnreadable, "second gzip member");
    assert_eq!(s.inventory.bundle_sha256, Some(sha256_of(&two)));

    for junk in [&b"junk"[..], &[0u8; 8][..], &[0u8][..]] {
        let mut j = one.clone();
        j.extend_from_slice(junk);
        assert_reason(
            &scan(&j),
            Code::BundleUnreadable,
            "after the end of its gzip member",
        );
    }
    // What `cat a.tar.gz b.tar.gz` gives, from the gzip CLI.
    let dir = tempfile::tempdir().unwrap();
    let p = write_temp(&dir, "t.tar", &tar);
    run(Command::new("gzip").arg("-k").arg(&p));
    let gz = std::fs::read(dir.path().join("t.tar.gz")).unwrap();
    let mut cat = gz.clone();
    cat.extend_from_slice(&gz);
    assert_reason(&scan(&cat), Code::BundleUnreadable, "second gzip member");

    // A truncated member, and a corrupt CRC.
    assert_reason(
        &scan(&one[..one.len() - 4]),
        Code::BundleUnreadable,
        "gzip stream is corrupt or truncated",
    );
    let mut crc = one.clone();
    let n = crc.len();
    crc[n - 8] ^= 0xff;
    assert_reason(
        &scan(&crc),
        Code::BundleUnreadable,
        "gzip stream is corrupt or truncated",
    );
}

/// #53: a decompression bomb is cut off at `max_total_bytes` of output, whatever it claims.
#[test]
fn c53_caps_decompressed_bytes() {
    // 64 MiB of zeros in one entry compresses to ~64 KiB.
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    e.write_all(&header(b"bomb", b'0', 64 << 20)).unwrap();
    let zeros = vec![0u8; 1 << 20];
    for _ in 0..64 {
        e.write_all(&zeros).unwrap();
    }
    e.write_all(&[0; 1024]).unwrap();
    let bomb = e.finish().unwrap();
    assert!(bomb.len() < 1 << 20);
    let limits = Limits {
        max_total_bytes: 8 << 20,
        ..Limits::default()
    };
    let s = scan_with(&bomb, &limits);
    assert_reason(
        &s,
        Code::BundleLimitExceeded,
        "larger than the limit of 8388608 bytes",
    );
    assert!(s.inventory.files.is_empty());
    assert!(
        s.inventory.bundle_sha256.is_some(),
        "the compressed file is still hashed"
    );
}

/// #53, memory: a 1 GiB-of-zeros bomb (1 MiB compressed) scanned in a child process keeps its
/// peak RSS small.
#[test]
fn c53_bomb_memory_stays_flat() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bomb.tar.gz");
    let f = std::fs::File::create(&path).unwrap();
    let mut e = flate2::write::GzEncoder::new(f, flate2::Compression::fast());
    e.write_all(&header(b"bomb", b'0', 1 << 30)).unwrap();
    let zeros = vec![0u8; 1 << 20];
    for _ in 0..1024 {
        e.write_all(&zeros).unwrap();
    }
    e.write_all(&[0; 1024]).unwrap();
    e.finish().unwrap();
    let out = scan_child(&path, Some(256 << 20));
    assert!(out.contains("reasons=bundle-limit-exceeded "), "{out}");
    assert_rss_growth_below(&out, 64 << 10);
}

/// #6: a FIFO (or a device) as the bundle: refused at once, not read forever or waited on.
#[test]
fn c6_fifo_and_device_bundles_are_unreadable_not_a_hang() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("bundle.tar");
    run(Command::new("mkfifo").arg(&fifo));
    let start = Instant::now();
    let limits = Limits {
        deadline: Some(Instant::now() + Duration::from_secs(20)),
        ..Limits::default()
    };
    let s = bundle::scan(&fifo, &limits, &NoProgress).expect("refused, not timed out");
    assert_reason(&s, Code::BundleUnreadable, "is a FIFO");
    assert_eq!(s.reasons.len(), 1, "{:#?}", s.reasons);
    assert_eq!(s.inventory.bundle_sha256, None);
    let s = bundle::scan(Path::new("/dev/zero"), &limits, &NoProgress).expect("refused");
    assert_reason(&s, Code::BundleUnreadable, "is a character device");
    let s = bundle::scan(dir.path(), &limits, &NoProgress).expect("refused");
    assert_reason(&s, Code::BundleUnreadable, "");
    assert!(start.elapsed() < Duration::from_secs(5));
}

/// #8: a deadline that passes while reading ends the scan with `ScanAbort::Deadline` (no verdict
/// may be claimed), promptly.
#[test]
fn c8_deadline_aborts_the_scan() {
    let dir = tempfile::tempdir().unwrap();
    let big = Raw::new().file("a", &vec![5u8; 64 << 20]).end();
    let path = write_temp(&dir, "b.tar", &big);
    let limits = Limits {
        deadline: Some(Instant::now()),
        ..Limits::default()
    };
    assert!(matches!(
        bundle::scan(&path, &limits, &NoProgress),
        Err(ScanAbort::Deadline)
    ));
    // A deadline well in the future does not get in the way.
    let limits = Limits {
        deadline: Some(Instant::now() + Duration::from_secs(120)),
        ..Limits::default()
    };
    assert_clean(&bundle::scan(&path, &limits, &NoProgress).unwrap());
}

/// Other entry types: devices, FIFOs, contiguous files, global headers, GNU long links.
#[test]
fn other_entry_types_are_refused() {
    for (flag, what) in [
        (b'3', "character device"),
        (b'4', "block device"),
        (b'6', "FIFO"),
        (b'7', "contiguous file"),
        (b'K', "GNU long link name"),
        (b'V', "volume label"),
        (b'Z', "unknown type 'Z'"),
    ] {
        let s = scan(
            &Raw::new()
                .block(header(b"e", flag, 0), &[])
                .file("ok", b"")
                .end(),
        );
        assert_reason(&s, Code::BundleEntryUnsafe, what);
        assert_eq!(names(&s), ["ok"], "{what}: the walk went on");
    }
    let s = scan(
        &Raw::new()
            .block(header(b"g", b'g', 0), &[])
            .file("ok", b"")
            .end(),
    );
    assert_reason(&s, Code::BundleEntryUnsafe, "global PAX header");
    let s = scan(
        &Raw::new()
            .pax(&[("linkpath", b"/etc")])
            .file("f", b"")
            .end(),
    );
    assert_reason(&s, Code::BundleEntryUnsafe, "PAX linkpath");
    let s = scan(&Raw::new().block(header(b"d/", b'5', 3), b"abc").end());
    assert_reason(&s, Code::BundleEntryUnsafe, "directory with data");
}

#[test]
fn ambiguous_extension_headers_are_refused() {
    let two = "two extended headers (PAX or GNU long name) in a row";
    let s = scan(
        &Raw::new()
            .pax(&[("path", b"a")])
            .pax(&[("path", b"b")])
            .file("c", b"")
            .end(),
    );
    assert_reason(&s, Code::BundleEntryUnsafe, two);
    let s = scan(
        &Raw::new()
            .long_name(b"a")
            .long_name(b"b")
            .file("c", b"")
            .end(),
    );
    assert_reason(&s, Code::BundleEntryUnsafe, two);
    let s = scan(
        &Raw::new()
            .pax(&[("path", b"a")])
            .long_name(b"b")
            .file("c", b"")
            .end(),
    );
    assert_reason(&s, Code::BundleEntryUnsafe, two);
    // A PAX size in front of a GNU long-name header: does it size the long name or the entry?
    let s = scan(
        &Raw::new()
            .pax(&[("size", b"1")])
            .long_name(b"b")
            .file("c", b"x")
            .end(),
    );
    assert_reason(&s, Code::BundleEntryUnsafe, two);
    let s = scan(
        &Raw::new()
            .pax(&[("path", b"a"), ("path", b"b")])
            .file("c", b"")
            .end(),
    );
    assert_reason(&s, Code::BundleEntryUnsafe, "same key twice");
    let s = scan(&Raw::new().pax(&[("path", b"a")]).end());
    assert_reason(&s, Code::BundleEntryUnsafe, "no entry follows");
}

// ---------------------------------------------------------------------------------------------
// Interoperability: what real tools write scans cleanly, digests equal sha256sum's.

fn populate(dir: &Path) -> Vec<(String, PathBuf)> {
    let long = format!("deep/{}/{}", "d".repeat(120), "n".repeat(150));
    let files: Vec<(String, Vec<u8>)> = vec![
        (
            "bin/cavra-linux-amd64".into(),
            (0..200_000u32).flat_map(|i| i.to_le_bytes()).collect(),
        ),
        (
            "checksums.txt".into(),
            b"abc  bin/cavra-linux-amd64\n".to_vec(),
        ),
        ("empty".into(), Vec::new()),
        (
            "caf\u{e9}/\u{fc}ber.txt".into(),
            "gr\u{fc}\u{df}e\n".as_bytes().to_vec(),
        ),
        (long, b"long name\n".to_vec()),
    ];
    let mut out = Vec::new();
    for (name, data) in files {
        let p = dir.join(&name);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(&p, data).unwrap();
        out.push((name, p));
    }
    out
}

fn check_interop(archive: &Path, expected: &[(String, PathBuf)]) {
    let s = scan_path(archive, &Limits::default());
    assert_clean(&s);
    let mut got: Vec<(String, String)> = s
        .inventory
        .files
        .iter()
        .map(|f| (f.name.clone(), hex(&f.sha256)))
        .collect();
    got.sort();
    let mut want: Vec<(String, String)> = expected
        .iter()
        .map(|(n, p)| (n.clone(), sha256sum(p)))
        .collect();
    want.sort();
    assert_eq!(got, want, "{}", archive.display());
    assert_eq!(
        s.inventory.bundle_sha256.map(|d| hex(&d)),
        Some(sha256sum(archive)),
        "{}",
        archive.display()
    );
    assert_eq!(
        s.inventory.bundle_size,
        std::fs::metadata(archive).unwrap().len()
    );
    assert_eq!(
        s.inventory.metadata.get("checksums.txt").map(Vec::as_slice),
        Some(&b"abc  bin/cavra-linux-amd64\n"[..])
    );
}

#[test]
fn interop_gnu_tar_formats_and_gzip() {
    let dir = tempfile::tempdir().unwrap();
    let content = dir.path().join("content");
    let files = populate(&content);
    for (name, args) in [
        ("default.tar", vec!["-cf"]),
        ("default.tar.gz", vec!["-czf"]),
        ("pax.tar", vec!["--format=pax", "-cf"]),
        ("pax.tgz", vec!["--format=pax", "-czf"]),
        ("gnu.tar", vec!["--format=gnu", "-cf"]),
        ("gnu.tar.gz", vec!["--format=gnu", "-czf"]),
    ] {
        let out = dir.path().join(name);
        let mut cmd = Command::new("tar");
        cmd.arg("-C").arg(&content).args(&args[..args.len() - 1]);
        cmd.arg(args[args.len() - 1]).arg(&out).arg(".");
        run(&mut cmd);
        check_interop(&out, &files);
    }
    // Without the leading "./", and ustar with the prefix split (names fit 155+100).
    let out = dir.path().join("ustar.tar");
    run(Command::new("tar")
        .arg("-C")
        .arg(&content)
        .args(["--format=ustar", "-cf"])
        .arg(&out)
        .args(["bin", "checksums.txt", "empty", "caf\u{e9}"]));
    let s = scan_path(&out, &Limits::default());
    assert_clean(&s);
    assert_eq!(s.inventory.files.len(), 4);
}

#[test]
fn interop_python_tarfile_formats() {
    let dir = tempfile::tempdir().unwrap();
    let content = dir.path().join("content");
    let files = populate(&content);
    let script = r#"
import sys, tarfile, os
src, out = sys.argv[1], sys.argv[2]
for fmt, name, mode in [(tarfile.PAX_FORMAT, "pax.tar", "w"), (tarfile.GNU_FORMAT, "gnu.tar", "w"),
                        (tarfile.PAX_FORMAT, "pax.tar.gz", "w:gz"), (tarfile.GNU_FORMAT, "gnu.tgz", "w:gz")]:
    with tarfile.open(os.path.join(out, name), mode, format=fmt) as t:
        for root, dirs, fs in sorted(os.walk(src)):
            dirs.sort()
            for f in sorted(fs):
                p = os.path.join(root, f)
                t.add(p, arcname=os.path.relpath(p, src))
"#;
    python(script, &[&content, dir.path()]);
    for name in ["pax.tar", "gnu.tar", "pax.tar.gz", "gnu.tgz"] {
        check_interop(&dir.path().join(name), &files);
    }
}

// ---------------------------------------------------------------------------------------------
// Flat memory.

fn scan_child(path: &Path, max_total: Option<u64>) -> String {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_bench-verify"));
    cmd.arg("scan").arg(path);
    if let Some(m) = max_total {
        cmd.arg(m.to_string());
    }
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn field(out: &str, key: &str) -> u64 {
    out.split_whitespace()
        .find_map(|f| f.strip_prefix(key))
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("{key} missing in {out}"))
}

#[track_caller]
fn assert_rss_growth_below(out: &str, kib: u64) {
    let growth = field(out, "hwm_after_kib=") - field(out, "hwm_before_kib=");
    assert!(growth < kib, "peak RSS grew by {growth} KiB: {out}");
}

/// A 3 GiB `.tar` (two 1.5 GiB files of a repeating, non-zero pattern, written for real) is
/// scanned in a child process whose peak RSS must grow by less than 64 MiB.
#[test]
fn three_gib_tar_scans_in_flat_memory() {
    let dir = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
    let path = dir.path().join("big.tar");
    let mut f = std::io::BufWriter::with_capacity(1 << 20, std::fs::File::create(&path).unwrap());
    let part: u64 = 3 << 29; // 1.5 GiB
    let pattern: Vec<u8> = (0..(1u32 << 20))
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8 | 1)
        .collect();
    for name in ["part-1", "part-2"] {
        f.write_all(&header(name.as_bytes(), b'0', part)).unwrap();
        for _ in 0..part / pattern.len() as u64 {
            f.write_all(&pattern).unwrap();
        }
    }
    f.write_all(&[0; 1024]).unwrap();
    drop(f);
    let out = scan_child(&path, None);
    assert!(out.contains("files=2 reasons= "), "{out}");
    assert_eq!(field(&out, "size="), 2 * (part + 512) + 1024);
    assert_rss_growth_below(&out, 64 << 10);
}
