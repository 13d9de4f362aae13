//! Benchmark of the bundle stream (not a timed test), and a one-shot scanner used by the
//! flat-memory tests.
//!
//! ```text
//! bench-verify bench [DIR] [SIZE_MIB]   build a SIZE_MIB (default 1024) bundle in DIR (default
//!                                       ./bench-bundle, reused if present), as .tar and .tar.gz
//!                                       (gzip -6), then time scan, openssl sha256, sha256sum,
//!                                       gzip -dc | sha256sum on each
//! bench-verify scan FILE [MAX_TOTAL]    scan FILE once; print files, reason codes, the bundle
//!                                       digest, the time taken and this process's peak RSS
//! ```
//!
//! Run the benchmark with a release build:
//! `cargo run --release -p airlock-tests --bin bench-verify -- bench /tmp/bench 1024`

use airlock::bundle::{self, Limits, NoProgress};
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

fn build(dir: &Path, size_mib: u64) -> Res<(PathBuf, PathBuf)> {
    let tar = dir.join("bundle.tar");
    let tgz = dir.join("bundle.tar.gz");
    if tar.exists() && tgz.exists() {
        eprintln!("reusing {} and {}", tar.display(), tgz.display());
        return Ok((tar, tgz));
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
    eprintln!("packing {} ...", tar.display());
    run_ok(
        Command::new("tar")
            .arg("-C")
            .arg(&content)
            .arg("-cf")
            .arg(&tar)
            .arg("."),
    )?;
    eprintln!("compressing with gzip -6 ...");
    let out = File::create(&tgz).map_err(|e| e.to_string())?;
    let status = Command::new("gzip")
        .args(["-6", "-c"])
        .arg(&tar)
        .stdout(out)
        .status()
        .map_err(|e| e.to_string())?;
    if !status.success() {
        return Err("gzip failed".into());
    }
    fs::remove_dir_all(&content).map_err(|e| e.to_string())?;
    Ok((tar, tgz))
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
    let (tar, tgz) = build(&dir, size_mib)?;
    let tar_len = fs::metadata(&tar).map_err(|e| e.to_string())?.len();
    let tgz_len = fs::metadata(&tgz).map_err(|e| e.to_string())?.len();
    // Warm the page cache so that every contender reads from memory.
    timed(&format!(
        "cat '{}' '{}' > /dev/null",
        tar.display(),
        tgz.display()
    ))?;
    let n = 3;
    let q = |p: &Path| format!("'{}'", p.display());
    let mb = |bytes: u64, secs: f64| bytes as f64 / 1e6 / secs;
    let scan_tar = time_scan(&tar, n)?;
    let scan_tgz = time_scan(&tgz, n)?;
    let openssl_tar = best_of(&format!("openssl sha256 {}", q(&tar)), n)?;
    let sha256sum_tar = best_of(&format!("sha256sum {}", q(&tar)), n)?;
    let gzip_pipe = best_of(&format!("gzip -dc {} | sha256sum", q(&tgz)), n)?;
    let openssl_tgz = best_of(&format!("openssl sha256 {}", q(&tgz)), n)?;
    let load = fs::read_to_string("/proc/loadavg").unwrap_or_default();
    println!(
        "bundle: {size_mib} MiB of content; .tar {tar_len} bytes, .tar.gz {tgz_len} bytes (ratio {:.2}); {} cores; load average {}",
        tgz_len as f64 / tar_len as f64,
        std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0),
        load.split_whitespace().take(3).collect::<Vec<_>>().join(" ")
    );
    println!("best of {n} warm-cache runs; MB/s = uncompressed tar bytes per wall-clock second; CPU = user + system seconds of all processes");
    println!("| what | wall s | MB/s | vs baseline (wall) | CPU s | peak RSS |");
    println!("| --- | ---: | ---: | ---: | ---: | ---: |");
    let row = |what: &str, (wall, cpu): (f64, f64), base: f64, rss: Option<u64>| {
        println!(
            "| {what} | {wall:.3} | {:.0} | {:.2}x | {cpu:.2} | {} |",
            mb(tar_len, wall),
            base / wall,
            rss.map(|k| format!("{:.1} MiB", k as f64 / 1024.0))
                .unwrap_or_else(|| "-".into())
        );
    };
    let base = openssl_tar.0;
    row(
        "`openssl sha256 bundle.tar` (baseline for .tar)",
        (openssl_tar.0, openssl_tar.1),
        base,
        None,
    );
    row(
        "`sha256sum bundle.tar`",
        (sha256sum_tar.0, sha256sum_tar.1),
        base,
        None,
    );
    row(
        "airlock scan bundle.tar",
        (scan_tar.0, scan_tar.1),
        base,
        Some(scan_tar.2),
    );
    let base = gzip_pipe.0;
    row(
        "`gzip -dc bundle.tar.gz \\| sha256sum` (baseline for .tar.gz)",
        (gzip_pipe.0, gzip_pipe.1),
        base,
        None,
    );
    row(
        "`openssl sha256 bundle.tar.gz` (compressed bytes only)",
        (openssl_tgz.0, openssl_tgz.1),
        base,
        None,
    );
    row(
        "airlock scan bundle.tar.gz",
        (scan_tgz.0, scan_tgz.1),
        base,
        Some(scan_tgz.2),
    );
    Ok(())
}
