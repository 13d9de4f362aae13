//! `.tar.zst` and `.tar.xz` bundles on real bytes (formats.md §5): GNU `tar --zstd` / `tar -J`
//! and the `zstd` / `xz` command-line tools produce bundles that promote; every way of hiding or
//! smuggling bytes around the one frame / one stream is rejected with its code.

mod support;

use airlock_verifier::bundle::{self, Limits, NoProgress, Scan};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use support::*;

fn run(cmd: &mut Command) {
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "{cmd:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn scan(path: &Path) -> Scan {
    bundle::scan(path, &Limits::default(), &NoProgress).unwrap()
}

fn codes_of(s: &Scan) -> Vec<&'static str> {
    s.reasons.iter().map(|r| r.code.as_str()).collect()
}

#[track_caller]
fn assert_only(s: &Scan, code: &str, what: &str) {
    let got = codes_of(s);
    assert!(
        !got.is_empty() && got.iter().all(|c| *c == code),
        "{what}: expected only {code}, got {:#?}",
        s.reasons
    );
    assert!(s.inventory.bundle_sha256.is_some(), "{what}: file digest");
}

/// A valid bundle's files, unpacked by GNU tar into a fresh directory (so re-packing them with
/// GNU tar gives an archive written by an independent tool).
fn unpacked(kit: &Kit) -> PathBuf {
    let built = kit.build("src.tar", &Spec::new("v1.0.0"));
    let dir = kit.work.join("unpacked");
    std::fs::create_dir_all(&dir).unwrap();
    run(Command::new("tar")
        .arg("-xf")
        .arg(&built)
        .arg("-C")
        .arg(&dir));
    dir
}

fn plain_tar(kit: &Kit) -> PathBuf {
    kit.build("plain.tar", &Spec::new("v1.0.0"))
}

fn write(kit: &Kit, name: &str, bytes: &[u8]) -> PathBuf {
    let p = kit.work.join(name);
    std::fs::write(&p, bytes).unwrap();
    p
}

/// `tool args < input > output`.
fn filter(tool: &str, args: &[&str], input: &Path, output: &Path) {
    let status = Command::new(tool)
        .args(args)
        .stdin(std::fs::File::open(input).unwrap())
        .stdout(std::fs::File::create(output).unwrap())
        .stderr(Stdio::inherit())
        .status()
        .unwrap();
    assert!(status.success(), "{tool} {args:?} failed");
}

fn zstd_of(kit: &Kit, args: &[&str], name: &str) -> Vec<u8> {
    let out = kit.work.join(name);
    filter("zstd", args, &plain_tar(kit), &out);
    std::fs::read(out).unwrap()
}

fn xz_of(kit: &Kit, args: &[&str], name: &str) -> Vec<u8> {
    let out = kit.work.join(name);
    filter("xz", args, &plain_tar(kit), &out);
    std::fs::read(out).unwrap()
}

// ---------------------------------------------------------------------------------------------
// Independent tools' output promotes.

/// Puts `bytes` in a fresh kit's inbox as `name` and runs the appliance over it.
#[track_caller]
fn assert_bundle_promotes(kit: &Kit, name: &str, bytes: &[u8]) {
    kit.put_bundle(name, &write(kit, name, bytes));
    let rep = kit.run();
    assert_eq!(rep.results.len(), 1, "the inbox lists {name}");
    assert_promoted(&rep.results[0]);
}

#[test]
fn gnu_tar_zstd_and_xz_bundles_promote() {
    for (name, flag) in [("gnu.tar.zst", "--zstd"), ("gnu.tar.xz", "-J")] {
        let kit = Kit::new();
        let dir = unpacked(&kit);
        let out = kit.work.join(name);
        run(Command::new("tar")
            .arg(flag)
            .arg("-cf")
            .arg(&out)
            .arg("-C")
            .arg(&dir)
            .arg("."));
        assert_bundle_promotes(&kit, name, &std::fs::read(&out).unwrap());
    }
}

#[test]
fn zstd_and_xz_cli_bundles_promote() {
    let cases: &[(&str, &str, &[&str])] = &[
        ("zstd", "cli-3.tar.zst", &["-q", "-3", "-c"]),
        ("zstd", "cli-19.tar.zst", &["-q", "-19", "-c"]),
        ("zstd", "cli-nocheck.tar.zst", &["-q", "--no-check", "-c"]),
        // A 128 MiB window (the cap) from a pipe: the size is unknown, the window is kept.
        ("zstd", "cli-long27.tar.zst", &["-q", "--long=27", "-c"]),
        ("xz", "cli-6.tar.xz", &["-T1", "-6", "-c"]),
        ("xz", "cli-crc32.tar.xz", &["-T1", "--check=crc32", "-c"]),
        ("xz", "cli-sha256.tar.xz", &["-T1", "--check=sha256", "-c"]),
        ("xz", "cli-none.tar.xz", &["-T1", "--check=none", "-c"]),
        // Multi-threaded xz: several blocks in one stream.
        ("xz", "cli-mt.tar.xz", &["-T2", "--block-size=4096", "-c"]),
    ];
    for (tool, name, args) in cases {
        let kit = Kit::new();
        let bytes = if *tool == "zstd" {
            zstd_of(&kit, args, "c")
        } else {
            xz_of(&kit, args, "c")
        };
        assert_bundle_promotes(&kit, name, &bytes);
    }
}

#[test]
fn airlock_bundle_pack_writes_zstd_and_xz() {
    for (name, magic) in [
        ("packed.tar.zst", &[0x28u8, 0xb5, 0x2f, 0xfd][..]),
        ("packed.tar.xz", &[0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00][..]),
    ] {
        let kit = Kit::new();
        let a = std::fs::read(kit.build(name, &Spec::new("v1.0.0"))).unwrap();
        let b = std::fs::read(kit.build(name, &Spec::new("v1.0.0"))).unwrap();
        assert!(a.starts_with(magic), "{name}");
        assert_eq!(a, b, "{name}: the same inputs give the same bytes");
        assert_bundle_promotes(&kit, name, &a);
    }
}

/// Content decides, not the name: a zstd bundle named `.tar.gz` is read as zstd.
#[test]
fn format_is_detected_by_content() {
    let kit = Kit::new();
    let bytes = zstd_of(&kit, &["-q", "-c"], "z");
    assert_bundle_promotes(&kit, "misnamed.tar.gz", &bytes);
}

// ---------------------------------------------------------------------------------------------
// zstd attacks.

#[test]
fn zstd_second_frame_is_unreadable() {
    let kit = Kit::new();
    let one = zstd_of(&kit, &["-q", "-c"], "z");
    let mut two = one.clone();
    two.extend_from_slice(&one);
    let s = scan(&write(&kit, "two.tar.zst", &two));
    assert_only(&s, "bundle-unreadable", "two frames");
    assert!(s.reasons[0].message.contains("second zstd frame"));
}

#[test]
fn zstd_trailing_bytes_are_unreadable() {
    let kit = Kit::new();
    let one = zstd_of(&kit, &["-q", "-c"], "z");
    for tail in [&b"x"[..], &[0u8; 512][..], &[0u8][..]] {
        let mut b = one.clone();
        b.extend_from_slice(tail);
        let s = scan(&write(&kit, "tail.tar.zst", &b));
        assert_only(&s, "bundle-unreadable", "trailing bytes");
    }
}

#[test]
fn zstd_truncated_is_unreadable() {
    let kit = Kit::new();
    let one = zstd_of(&kit, &["-q", "-c"], "z");
    for cut in [1, 4, one.len() / 2, one.len() - 6] {
        let s = scan(&write(&kit, "cut.tar.zst", &one[..one.len() - cut]));
        assert_only(&s, "bundle-unreadable", &format!("cut {cut}"));
    }
    // A header alone.
    let s = scan(&write(&kit, "hdr.tar.zst", &one[..5]));
    assert_only(&s, "bundle-unreadable", "header only");
}

/// `zstd -dc` skips skippable frames silently, before or after the data frame: data can hide
/// there, and a reader that skips differently sees another archive.
#[test]
fn zstd_skippable_frames_are_unreadable() {
    let kit = Kit::new();
    let one = zstd_of(&kit, &["-q", "-c"], "z");
    let hidden = b"a second archive the appliance never looks at";
    let mut skippable = vec![0x50, 0x2a, 0x4d, 0x18];
    skippable.extend_from_slice(&(hidden.len() as u32).to_le_bytes());
    skippable.extend_from_slice(hidden);
    // Check that zstd itself accepts both layouts (so the refusal is ours, not a broken file).
    let before: Vec<u8> = [skippable.clone(), one.clone()].concat();
    let after: Vec<u8> = [one.clone(), skippable.clone()].concat();
    for (name, bytes) in [("before.tar.zst", &before), ("after.tar.zst", &after)] {
        let p = write(&kit, name, bytes);
        run(Command::new("zstd").args(["-q", "-t"]).arg(&p));
        let s = scan(&p);
        assert_only(&s, "bundle-unreadable", name);
        assert!(
            s.reasons[0].message.contains("skippable"),
            "{:?}",
            s.reasons
        );
    }
}

#[test]
fn zstd_dictionary_id_is_unreadable() {
    let kit = Kit::new();
    let samples = kit.work.join("samples");
    std::fs::create_dir_all(&samples).unwrap();
    for i in 0..200 {
        std::fs::write(
            samples.join(format!("{i}")),
            format!(
                "release {i} of cavra-go-runtime, artifact bin/cavra-linux-amd64 size {}\n",
                i * 37
            )
            .repeat(1 + i % 7),
        )
        .unwrap();
    }
    let dict = kit.work.join("dict");
    run(Command::new("zstd")
        .args(["-q", "--train", "--maxdict=4096", "-o"])
        .arg(&dict)
        .arg("-r")
        .arg(&samples));
    let out = kit.work.join("dict.tar.zst");
    filter(
        "zstd",
        &["-q", "-c", "-D", dict.to_str().unwrap()],
        &plain_tar(&kit),
        &out,
    );
    let bytes = std::fs::read(&out).unwrap();
    assert_ne!(bytes[4] & 0x03, 0, "zstd wrote a Dictionary_ID field");
    let s = scan(&out);
    assert_only(&s, "bundle-unreadable", "dictionary id");
    assert!(
        s.reasons[0].message.contains("dictionary"),
        "{:?}",
        s.reasons
    );
}

#[test]
fn zstd_window_above_the_cap_is_a_limit() {
    let kit = Kit::new();
    // From a pipe, `--long=28` keeps its 256 MiB window (no size to shrink it to).
    let bytes = zstd_of(&kit, &["-q", "--long=28", "-c"], "w");
    let s = scan(&write(&kit, "w.tar.zst", &bytes));
    assert_only(&s, "bundle-limit-exceeded", "256 MiB window");
}

// ---------------------------------------------------------------------------------------------
// xz attacks.

#[test]
fn xz_multiple_streams_are_unreadable() {
    let kit = Kit::new();
    let one = xz_of(&kit, &["-T1", "-c"], "x");
    let two = [one.clone(), one.clone()].concat();
    let p = write(&kit, "two.tar.xz", &two);
    run(Command::new("xz").args(["-t"]).arg(&p)); // xz itself accepts it
    let s = scan(&p);
    assert_only(&s, "bundle-unreadable", "two streams");
    assert!(s.reasons[0].message.contains("second xz stream"));
}

#[test]
fn xz_stream_padding_and_trailing_bytes_are_unreadable() {
    let kit = Kit::new();
    let one = xz_of(&kit, &["-T1", "-c"], "x");
    let padded = [one.clone(), vec![0; 4]].concat();
    let p = write(&kit, "pad.tar.xz", &padded);
    run(Command::new("xz").args(["-t"]).arg(&p)); // valid stream padding for xz
    let s = scan(&p);
    assert_only(&s, "bundle-unreadable", "stream padding");
    assert!(s.reasons[0].message.contains("padding"));
    let s = scan(&write(&kit, "tail.tar.xz", &[one, b"x".to_vec()].concat()));
    assert_only(&s, "bundle-unreadable", "trailing byte");
}

#[test]
fn xz_truncated_is_unreadable() {
    let kit = Kit::new();
    let one = xz_of(&kit, &["-T1", "-c"], "x");
    for cut in [1, 12, one.len() / 2, one.len() - 13] {
        let s = scan(&write(&kit, "cut.tar.xz", &one[..one.len() - cut]));
        assert_only(&s, "bundle-unreadable", &format!("cut {cut}"));
    }
}

/// The xz stream footer: backward size gives the index, and the block's check sits just before
/// the index (one block: `xz -T1` on a small input).
fn last_check_byte(xz: &[u8]) -> usize {
    let n = xz.len();
    let backward = u32::from_le_bytes(xz[n - 8..n - 4].try_into().unwrap()) as usize;
    let index = n - 12 - (backward + 1) * 4;
    index - 1
}

#[test]
fn xz_bad_check_is_unreadable() {
    let kit = Kit::new();
    for check in ["crc32", "crc64", "sha256"] {
        let mut b = xz_of(&kit, &["-T1", &format!("--check={check}"), "-c"], "x");
        let at = last_check_byte(&b);
        b[at] ^= 0x01;
        let p = write(&kit, "badcheck.tar.xz", &b);
        assert!(!Command::new("xz")
            .arg("-t")
            .arg(&p)
            .status()
            .unwrap()
            .success());
        let s = scan(&p);
        assert_only(&s, "bundle-unreadable", check);
    }
}

fn crc32(data: &[u8]) -> u32 {
    let mut c = flate2::Crc::new();
    c.update(data);
    c.sum()
}

/// Rewrites the LZMA2 dictionary byte of the first block header (and its CRC-32).
fn with_dict_byte(xz: &[u8], dict: u8) -> Vec<u8> {
    let mut b = xz.to_vec();
    let size = (usize::from(b[12]) + 1) * 4;
    let header = 12..12 + size;
    // flags 0x00: one filter, no sizes; then filter id 0x21 (LZMA2), props size 1, the dict byte.
    assert_eq!(
        &b[13..16],
        &[0x00, 0x21, 0x01],
        "xz -T1 block header layout"
    );
    b[16] = dict;
    let crc = crc32(&b[header.start..header.end - 4]);
    b[header.end - 4..header.end].copy_from_slice(&crc.to_le_bytes());
    b
}

/// The dictionary cap is exact: 64 MiB (`xz -9`) decodes, the next size up (96 MiB) is a limit.
#[test]
fn xz_dictionary_above_the_cap_is_a_limit() {
    let kit = Kit::new();
    let one = xz_of(&kit, &["-T1", "-c"], "x");
    let at_cap = write(&kit, "64.tar.xz", &with_dict_byte(&one, 28));
    run(Command::new("xz").arg("-t").arg(&at_cap));
    let s = scan(&at_cap);
    assert!(s.reasons.is_empty(), "64 MiB dictionary: {:#?}", s.reasons);
    for (byte, what) in [(29, "96 MiB"), (40, "4 GiB - 1")] {
        let s = scan(&write(&kit, "big.tar.xz", &with_dict_byte(&one, byte)));
        assert_only(&s, "bundle-limit-exceeded", what);
    }
}

/// The decompression-bomb cap holds for zstd and xz as for gzip.
#[test]
fn zstd_and_xz_bombs_stop_at_the_total_cap() {
    let kit = Kit::new();
    let big = kit.work.join("zeros.tar");
    {
        let f = std::fs::File::create(&big).unwrap();
        let mut b = tar::Builder::new(f);
        let mut h = tar::Header::new_ustar();
        h.set_size(64 << 20);
        h.set_mode(0o644);
        h.set_cksum();
        let zeros = std::io::Read::take(std::io::repeat(0), 64 << 20);
        b.append_data(&mut h, "zeros", zeros).unwrap();
        b.finish().unwrap();
    }
    let limits = Limits {
        max_total_bytes: 16 << 20,
        ..Limits::default()
    };
    for (tool, ext) in [("zstd", "zst"), ("xz", "xz")] {
        let out = kit.work.join(format!("bomb.tar.{ext}"));
        filter(tool, &["-q", "-c"], &big, &out);
        assert!(std::fs::metadata(&out).unwrap().len() < 1 << 20);
        let s = bundle::scan(&out, &limits, &NoProgress).unwrap();
        assert!(
            codes_of(&s).contains(&"bundle-limit-exceeded"),
            "{tool}: {:#?}",
            s.reasons
        );
    }
}
