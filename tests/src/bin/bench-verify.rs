//! Benchmark of the bundle stream (not a timed test), and a one-shot scanner used by the
//! flat-memory tests.
//!
//! ```text
//! bench-verify bench [DIR] [SIZE_MIB]   build a SIZE_MIB (default 1024) bundle in DIR (default
//!                                       ./bench-bundle, reused if present), as .tar, .tar.gz
//!                                       (gzip -6), .tar.zst (zstd -3) and .tar.xz (xz -6), and a
//!                                       release of 5,000 files of 16 KiB; time the scans against
//!                                       openssl sha256, gzip/zstd/xz -dc | sha256sum, inflate
//!                                       alone, and tar -xzf + sha256sum -c; print every ratio
//! bench-verify scan FILE [MAX_TOTAL]    scan FILE once; print files, reason codes, the bundle
//!                                       digest, the time taken and this process's peak RSS
//! bench-verify inflate FILE             gunzip FILE to nowhere with the scan's own gzip library
//! bench-verify unzstd FILE              decode FILE (zstd) to nowhere with the scan's own library
//! ```
//!
//! Run the benchmark with a release build:
//! `cargo run --release -p airlock-tests --bin bench-verify -- bench /tmp/bench 1024`

use airlock_verifier::bundle::{self, Limits, NoProgress};
use std::fs::{self, File};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::time::Instant;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("scan") => scan_once(&args[1..]),
        Some("bench") => bench(&args[1..]),
        Some("inflate") => inflate_once(&args[1..]),
        Some("unzstd") => unzstd_once(&args[1..]),
        _ => Err(
            "usage: bench-verify bench [DIR] [SIZE_MIB] | bench-verify scan FILE [MAX_TOTAL]"
                .into(),
        ),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("bench-verify: {e}");
            ExitCode::from(2)
        }
    }
}

type Res<T> = Result<T, String>;

/// Peak resident set size of this process, in KiB.
fn vm_hwm_kib() -> u64 {
    fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmHWM:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        })
        .unwrap_or(0)
}

fn hex(d: &[u8]) -> String {
    d.iter().map(|b| format!("{b:02x}")).collect()
}

fn scan_once(args: &[String]) -> Res<()> {
    let path = args.first().ok_or("scan needs a FILE")?;
    let mut limits = Limits::default();
    if let Some(max) = args.get(1) {
        limits.max_total_bytes = max.parse().map_err(|e| format!("MAX_TOTAL: {e}"))?;
    }
    let before = vm_hwm_kib();
    let start = Instant::now();
    let scan = bundle::scan(Path::new(path), &limits, &NoProgress)
        .map_err(|e| format!("scan aborted: {e:?}"))?;
    let secs = start.elapsed().as_secs_f64();
    let codes: Vec<&str> = scan.reasons.iter().map(|r| r.code.as_str()).collect();
    println!(
        "files={} reasons={} sha256={} size={} secs={secs:.3} hwm_before_kib={before} hwm_after_kib={}",
        scan.inventory.files.len(),
        codes.join(","),
        scan.inventory.bundle_sha256.map(|d| hex(&d)).unwrap_or_else(|| "none".into()),
        scan.inventory.bundle_size,
        vm_hwm_kib()
    );
    for r in &scan.reasons {
        eprintln!("{r}");
    }
    Ok(())
}

/// Inflate alone, with the library and build the scan uses (flate2 on zlib-rs).
fn inflate_once(args: &[String]) -> Res<()> {
    let path = args.first().ok_or("inflate needs a FILE")?;
    let f =
        std::io::BufReader::with_capacity(1 << 20, File::open(path).map_err(|e| e.to_string())?);
    let mut d = flate2::bufread::GzDecoder::new(f);
    let n = std::io::copy(&mut d, &mut std::io::sink()).map_err(|e| e.to_string())?;
    println!("inflated={n}");
    Ok(())
}

/// Decodes a zstd file to nowhere with libzstd as the scan uses it (one frame, 1 MiB reads):
/// the floor of a `.tar.zst` scan, which decodes on one thread.
fn unzstd_once(args: &[String]) -> Res<()> {
    let path = args.first().ok_or("unzstd needs a FILE")?;
    let f =
        std::io::BufReader::with_capacity(1 << 20, File::open(path).map_err(|e| e.to_string())?);
    let mut d = zstd::stream::read::Decoder::with_buffer(f)
        .map_err(|e| e.to_string())?
        .single_frame();
    let n = std::io::copy(&mut d, &mut std::io::sink()).map_err(|e| e.to_string())?;
    println!("decoded={n}");
    Ok(())
}

/// xorshift64*: fast, deterministic filler.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
}

#[derive(Clone, Copy)]
enum Content {
    /// Uniformly random: gzip stores it.
    Random,
    /// Bytes from a skewed distribution, like machine code: compresses to about half.
    BinaryLike,
    /// Log-like text lines: compresses about tenfold.
    Text,
}

fn write_file(path: &Path, size: u64, content: Content, seed: u64) -> Res<()> {
    let mut rng = Rng(seed | 1);
    let mut out = BufWriter::with_capacity(1 << 20, File::create(path).map_err(|e| e.to_string())?);
    let mut buf = vec![0u8; 1 << 20];
    let mut left = size;
    let mut line = 0u64;
    while left > 0 {
        match content {
            Content::Random => {
                for c in buf.chunks_exact_mut(8) {
                    c.copy_from_slice(&rng.next().to_le_bytes());
                }
            }
            Content::BinaryLike => {
                for c in buf.chunks_exact_mut(8) {
                    let r = rng.next();
                    // Mostly small values and a few common opcodes.
                    let mut v = r.to_le_bytes();
                    for b in v.iter_mut() {
                        *b = if *b < 96 {
                            0
                        } else if *b < 160 {
                            *b & 0x0f
                        } else {
                            *b
                        };
                    }
                    c.copy_from_slice(&v);
                }
            }
            Content::Text => {
                let mut s = String::with_capacity(buf.len() + 200);
                while s.len() < buf.len() {
                    line += 1;
                    let r = rng.next();
                    s.push_str(&format!(
                        "2026-04-01T00:{:02}:{:02}Z INFO cavra-runtime worker={} request={:016x} status={} bytes={}\n",
                        (line / 60) % 60,
                        line % 60,
                        r % 16,
                        r,
                        [200, 200, 200, 204, 404, 500][(r >> 8) as usize % 6],
                        (r >> 20) % 100_000
                    ));
                }
                let len = buf.len();
                buf.copy_from_slice(&s.as_bytes()[..len]);
            }
        }
        let n = left.min(buf.len() as u64) as usize;
        out.write_all(&buf[..n]).map_err(|e| e.to_string())?;
        left -= n as u64;
    }
    out.flush().map_err(|e| e.to_string())
}

/// The bundle in its four forms.
struct Forms {
    tar: PathBuf,
    tgz: PathBuf,
    zst: PathBuf,
    xz: PathBuf,
}

/// `checksums.txt` for every file under `content`, as an operator would check it.
fn write_checksums(content: &Path) -> Res<()> {
    run_ok(Command::new("sh").current_dir(content).args([
        "-c",
        "find . -type f ! -name checksums.txt -printf '%P\\n' | LC_ALL=C sort | xargs -d '\\n' sha256sum > checksums.txt",
    ]))
}

/// Packs `content` into `dir/<stem>.tar` and compresses it as asked.
fn pack(content: &Path, dir: &Path, stem: &str, all_forms: bool) -> Res<Forms> {
    let f = Forms {
        tar: dir.join(format!("{stem}.tar")),
        tgz: dir.join(format!("{stem}.tar.gz")),
        zst: dir.join(format!("{stem}.tar.zst")),
        xz: dir.join(format!("{stem}.tar.xz")),
    };
    write_checksums(content)?;
    eprintln!("packing {} ...", f.tar.display());
    run_ok(
        Command::new("tar")
            .arg("-C")
            .arg(content)
            .arg("-cf")
            .arg(&f.tar)
            .arg("."),
    )?;
    let mut compressors = vec![("gzip -6 -c", &f.tgz)];
    if all_forms {
        compressors.push(("zstd -q -3 -c", &f.zst));
        compressors.push(("xz -T2 -6 -c", &f.xz));
    }
    for (cmd, out) in compressors {
        eprintln!("compressing with {cmd} ...");
        run_ok(Command::new("sh").args([
            "-c",
            &format!("{cmd} '{}' > '{}'", f.tar.display(), out.display()),
        ]))?;
    }
    Ok(f)
}

/// A release of 5,000 files of 16 KiB (text-like), as .tar and .tar.gz.
fn build_small(dir: &Path) -> Res<Forms> {
    let forms = Forms {
        tar: dir.join("small.tar"),
        tgz: dir.join("small.tar.gz"),
        zst: dir.join("small.tar.zst"),
        xz: dir.join("small.tar.xz"),
    };
    if forms.tgz.exists() {
        return Ok(forms);
    }
    let content = dir.join("small-content");
    fs::create_dir_all(&content).map_err(|e| e.to_string())?;
    for i in 0..5000u64 {
        write_file(
            &content.join(format!("f{i:04}.txt")),
            16 * 1024,
            Content::Text,
            0x5a11 + i,
        )?;
    }
    let f = pack(&content, dir, "small", false)?;
    fs::remove_dir_all(&content).map_err(|e| e.to_string())?;
    Ok(f)
}

fn build(dir: &Path, size_mib: u64) -> Res<Forms> {
    let forms = Forms {
        tar: dir.join("bundle.tar"),
        tgz: dir.join("bundle.tar.gz"),
        zst: dir.join("bundle.tar.zst"),
        xz: dir.join("bundle.tar.xz"),
    };
    if forms.tar.exists() && forms.tgz.exists() && forms.zst.exists() && forms.xz.exists() {
        eprintln!("reusing {}.*", forms.tar.display());
        return Ok(forms);
    }
    let content = dir.join("content");
    fs::create_dir_all(content.join("bin")).map_err(|e| e.to_string())?;
    fs::create_dir_all(content.join("share/doc")).map_err(|e| e.to_string())?;
    let mib = 1u64 << 20;
    // ~60% random, ~25% binary-like, ~12% text, ~3% small files.
    let plan: Vec<(String, u64, Content)> = vec![
        (
            "bin/cavra-linux-amd64.tar.zst".into(),
            size_mib * 20 / 100,
            Content::Random,
        ),
        (
            "bin/cavra-linux-arm64.tar.zst".into(),
            size_mib * 20 / 100,
            Content::Random,
        ),
        (
            "bin/cavra-darwin-arm64.zip".into(),
            size_mib * 20 / 100,
            Content::Random,
        ),
        (
            "bin/cavra-linux-amd64".into(),
            size_mib * 13 / 100,
            Content::BinaryLike,
        ),
        (
            "bin/cavra-linux-arm64".into(),
            size_mib * 12 / 100,
            Content::BinaryLike,
        ),
        (
            "share/sample.log".into(),
            size_mib * 12 / 100,
            Content::Text,
        ),
    ];
    let mut seed = 0x5eed_u64;
    for (name, m, c) in &plan {
        seed += 1;
        write_file(&content.join(name), m * mib, *c, seed)?;
    }
    let small = (size_mib * 3 / 100).max(1) * mib / (24 * 1024);
    for i in 0..small {
        seed += 1;
        write_file(
            &content.join(format!("share/doc/page-{i:05}.txt")),
            24 * 1024,
            Content::Text,
            seed,
        )?;
    }
    let f = pack(&content, dir, "bundle", true)?;
    fs::remove_dir_all(&content).map_err(|e| e.to_string())?;
    Ok(f)
}

fn run_ok(cmd: &mut Command) -> Res<()> {
    let st = cmd.status().map_err(|e| e.to_string())?;
    if st.success() {
        Ok(())
    } else {
        Err(format!("{cmd:?} failed"))
    }
}

/// One run of a shell command under `/usr/bin/time`: (wall seconds, CPU seconds = user + system
/// of every process of the pipeline, stdout).
fn timed(script: &str) -> Res<(f64, f64, String)> {
    let out = Command::new("/usr/bin/time")
        .args(["-f", "@@time %e %U %S", "sh", "-c", script])
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("/usr/bin/time (apt-get install time): {e}"))?;
    let err = String::from_utf8_lossy(&out.stderr);
    if !out.status.success() {
        return Err(format!("{script} failed: {err}"));
    }
    let line = err
        .lines()
        .rev()
        .find_map(|l| l.strip_prefix("@@time "))
        .ok_or_else(|| format!("no timing from /usr/bin/time: {err}"))?;
    let v: Vec<f64> = line
        .split_whitespace()
        .filter_map(|x| x.parse().ok())
        .collect();
    match v[..] {
        [wall, user, sys] => Ok((
            wall,
            user + sys,
            String::from_utf8_lossy(&out.stdout).into(),
        )),
        _ => Err(format!("bad timing line {line:?}")),
    }
}

/// Best (by wall time) of `n` runs: (wall, cpu, stdout).
fn best_of(script: &str, n: usize) -> Res<(f64, f64, String)> {
    let mut best: Option<(f64, f64, String)> = None;
    for _ in 0..n {
        let r = timed(script)?;
        if best.as_ref().is_none_or(|b| r.0 < b.0) {
            best = Some(r);
        }
    }
    best.ok_or_else(|| "no runs".into())
}

/// Best of `n` runs of `bench-verify scan FILE` in a child process: (wall, cpu, peak RSS KiB).
fn time_scan(file: &Path, n: usize) -> Res<(f64, f64, u64)> {
    let me = std::env::current_exe().map_err(|e| e.to_string())?;
    let (wall, cpu, text) = best_of(&format!("'{}' scan '{}'", me.display(), file.display()), n)?;
    if !text.contains("reasons= ") {
        return Err(format!(
            "scan of {} did not come out clean: {text}",
            file.display()
        ));
    }
    let hwm = text
        .split_whitespace()
        .find_map(|f| f.strip_prefix("hwm_after_kib="))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    Ok((wall, cpu, hwm))
}

fn bench(args: &[String]) -> Res<()> {
    let dir = PathBuf::from(args.first().map(String::as_str).unwrap_or("bench-bundle"));
    let size_mib: u64 = args
        .get(1)
        .map(|s| s.parse().map_err(|e| format!("SIZE_MIB: {e}")))
        .transpose()?
        .unwrap_or(1024);
    fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let big = build(&dir, size_mib)?;
    let small = build_small(&dir)?;
    let len = |p: &Path| fs::metadata(p).map(|m| m.len()).map_err(|e| e.to_string());
    let tar_len = len(&big.tar)?;
    // Warm the page cache so that every contender reads from memory.
    for p in [
        &big.tar, &big.tgz, &big.zst, &big.xz, &small.tar, &small.tgz,
    ] {
        timed(&format!("cat '{}' > /dev/null", p.display()))?;
    }
    let n = 3;
    let q = |p: &Path| format!("'{}'", p.display());
    let me = std::env::current_exe().map_err(|e| e.to_string())?;
    let scratch = dir.join("extract");
    // What an operator does without Airlock: extract into a fresh directory, check the sums.
    let by_hand = |tgz: &Path| {
        format!(
            "rm -rf {x} && mkdir {x} && tar -xzf {t} -C {x} && cd {x} && sha256sum -c --quiet checksums.txt",
            x = q(&scratch),
            t = q(tgz)
        )
    };
    let scan_tar = time_scan(&big.tar, n)?;
    let scan_tgz = time_scan(&big.tgz, n)?;
    let scan_zst = time_scan(&big.zst, n)?;
    let scan_xz = time_scan(&big.xz, n)?;
    let scan_small = time_scan(&small.tgz, n)?;
    let openssl_tar = best_of(&format!("openssl sha256 {}", q(&big.tar)), n)?;
    let sha256sum_tar = best_of(&format!("sha256sum {}", q(&big.tar)), n)?;
    let gzip_pipe = best_of(&format!("gzip -dc {} | sha256sum", q(&big.tgz)), n)?;
    let inflate = best_of(&format!("'{}' inflate {}", me.display(), q(&big.tgz)), n)?;
    let zstd_pipe = best_of(&format!("zstd -dc {} | sha256sum", q(&big.zst)), n)?;
    let unzstd = best_of(&format!("'{}' unzstd {}", me.display(), q(&big.zst)), n)?;
    let xz_pipe = best_of(&format!("xz -dc {} | sha256sum", q(&big.xz)), 1)?;
    let hand_big = best_of(&by_hand(&big.tgz), 1)?;
    let hand_small = best_of(&by_hand(&small.tgz), 1)?;
    let _ = fs::remove_dir_all(&scratch);
    let load = fs::read_to_string("/proc/loadavg").unwrap_or_default();
    println!(
        "bundle: {size_mib} MiB of content; .tar {tar_len} B, .tar.gz {} B, .tar.zst {} B, .tar.xz {} B; small release: 5000 x 16 KiB, .tar.gz {} B; {} cores; load average {}",
        len(&big.tgz)?,
        len(&big.zst)?,
        len(&big.xz)?,
        len(&small.tgz)?,
        std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0),
        load.split_whitespace().take(3).collect::<Vec<_>>().join(" ")
    );
    println!("best of {n} warm-cache runs (1 for xz and the by-hand rows); wall seconds; CPU = user + system of all processes; ratio = the other's wall time / Airlock's (> 1: Airlock is faster)");
    println!("| Airlock | wall s | CPU s | peak RSS | against | wall s | ratio | target |");
    println!("| --- | ---: | ---: | ---: | --- | ---: | ---: | --- |");
    let row = |what: &str, a: (f64, f64, u64), other: &str, o: (f64, f64, String), target: &str| {
        println!(
            "| {what} | {:.3} | {:.2} | {:.1} MiB | {other} | {:.3} | {:.2}x | {target} |",
            a.0,
            a.1,
            a.2 as f64 / 1024.0,
            o.0,
            o.0 / a.0
        );
    };
    row(
        "scan .tar",
        scan_tar,
        "`openssl sha256 .tar`",
        openssl_tar,
        ">= 1.0x",
    );
    row(
        "scan .tar",
        scan_tar,
        "`sha256sum .tar`",
        sha256sum_tar,
        "-",
    );
    row(
        "scan .tar.gz",
        scan_tgz,
        "`gzip -dc \\| sha256sum`",
        gzip_pipe,
        ">= 3.0x",
    );
    row(
        "scan .tar.gz",
        scan_tgz,
        "inflate alone (flate2/zlib-rs, the floor)",
        inflate,
        "-> 1.0x",
    );
    row(
        "scan .tar.zst",
        scan_zst,
        "scan .tar",
        (scan_tar.0, scan_tar.1, String::new()),
        ">= 0.8x",
    );
    row(
        "scan .tar.zst",
        scan_zst,
        "decode alone (libzstd, the floor on one thread)",
        unzstd,
        "-",
    );
    row(
        "scan .tar.zst",
        scan_zst,
        "`zstd -dc \\| sha256sum`",
        zstd_pipe,
        "-",
    );
    row(
        "scan .tar.xz",
        scan_xz,
        "`xz -dc \\| sha256sum`",
        xz_pipe,
        "> 1.0x",
    );
    row(
        "scan .tar.gz",
        scan_tgz,
        "`tar -xzf` + `sha256sum -c`",
        hand_big,
        ">= 5x",
    );
    row(
        "scan small .tar.gz (5000 x 16 KiB)",
        scan_small,
        "`tar -xzf` + `sha256sum -c`",
        hand_small,
        ">= 5x",
    );
    Ok(())
}
