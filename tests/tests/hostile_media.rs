//! A hostile stick against the console, the exit status and the file system (issue 11 #3, #6,
//! #7, #12, #13): each test builds the attack on real bytes first, then checks the promise.

mod support;

use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::symlink;
use std::path::Path;
use std::process::{Command, Output, Stdio};
use support::*;

fn airlock_cmd(kit: &Kit, extra: &[&str]) -> Command {
    let mut c = Command::new(airlock_bin());
    c.arg("verify")
        .arg("--anchor")
        .arg(&kit.anchor_path)
        .arg("--state")
        .arg(&kit.state)
        .args(extra)
        .arg(&kit.media)
        .env_remove("AIRLOCK_STATE");
    c
}

fn run_cli(kit: &Kit, extra: &[&str]) -> Output {
    airlock_cmd(kit, extra).output().unwrap()
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// What a terminal shows for `bytes`: `\r` returns to the start of the line, `ESC[2K` erases
/// it, `ESC[8m` hides what follows until `ESC[0m`/`ESC[m`. Enough of a VT100 to see what the
/// operator would read.
fn screen(bytes: &str) -> Vec<String> {
    let mut lines = vec![];
    let mut line: Vec<char> = vec![];
    let (mut col, mut hidden) = (0usize, false);
    let mut it = bytes.chars().peekable();
    while let Some(c) = it.next() {
        match c {
            '\n' => {
                lines.push(line.iter().collect::<String>().trim_end().to_string());
                line.clear();
                col = 0;
            }
            '\r' => col = 0,
            '\u{1b}' if it.peek() == Some(&'[') => {
                it.next();
                let mut arg = String::new();
                for d in it.by_ref() {
                    if d.is_ascii_alphabetic() {
                        match (d, arg.as_str()) {
                            ('K', "2") => {
                                line.clear();
                            }
                            ('K', _) => line.truncate(col),
                            ('m', "8") => hidden = true,
                            ('m', _) => hidden = false,
                            _ => {}
                        }
                        break;
                    }
                    arg.push(d);
                }
            }
            c => {
                let shown = if hidden { ' ' } else { c };
                if col < line.len() {
                    line[col] = shown;
                } else {
                    while line.len() < col {
                        line.push(' ');
                    }
                    line.push(shown);
                }
                col += 1;
            }
        }
    }
    lines
}

/// #6: a bundle named `x\r<ESC>[2KPROMOTE … 1 promoted, 0 rejected<ESC>[8m.tar` made the
/// rejected bundle's line read PROMOTE. Every untrusted string is now escaped on the console.
#[test]
fn escape_sequences_in_a_bundle_name_cannot_forge_a_verdict() {
    let kit = Kit::new();
    let built = kit.build("evil.tar", &Spec::new("v0.1.0"));
    // A tampered copy: rejected.
    let mut bytes = std::fs::read(&built).unwrap();
    let n = bytes.len();
    bytes[n / 2] ^= 1;
    let name = "x\r\u{1b}[2KPROMOTE  ok.tar  cavra-go-runtime v9.9.9\n1 bundle(s): 1 promoted, 0 rejected\u{1b}[8m.tar";
    std::fs::write(kit.media.join("inbox").join(name), &bytes).unwrap();
    let out = run_cli(&kit, &[]);
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    let text = stdout(&out);
    assert!(!text.contains('\u{1b}') && !text.contains('\r'), "{text:?}");
    let shown = screen(&text);
    assert!(
        shown.iter().any(|l| l.starts_with("REJECT")),
        "the reject is visible: {shown:#?}"
    );
    assert!(
        !shown.iter().any(|l| l.starts_with("PROMOTE")),
        "no forged promote line: {shown:#?}"
    );
    assert_eq!(
        shown.last().map(String::as_str),
        Some("1 bundle(s): 0 promoted, 1 rejected")
    );
    // stderr's progress line too.
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!err.contains('\u{1b}') && !err.contains('\r'), "{err:?}");
}

/// #7: a MEDIA that does not exist (an unmounted stick) exited 0 with "0 bundle(s)".
#[test]
fn a_missing_media_fails_the_run() {
    let kit = Kit::new();
    std::fs::remove_dir_all(&kit.media).unwrap();
    let out = run_cli(&kit, &[]);
    assert_eq!(out.status.code(), Some(2), "{}", stdout(&out));
    assert!(String::from_utf8_lossy(&out.stderr).contains("does not exist"));
}

/// #7: a MEDIA without `inbox/` exited 0 with "0 bundle(s)".
#[test]
fn a_media_without_inbox_fails_the_run() {
    let kit = Kit::new();
    std::fs::remove_dir_all(kit.media.join("inbox")).unwrap();
    let out = run_cli(&kit, &[]);
    assert_eq!(out.status.code(), Some(2), "{}", stdout(&out));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no inbox/"));
    // An `inbox` that is a link to a directory of bundles elsewhere is not an inbox either.
    let elsewhere = kit.tmp.path().join("elsewhere");
    std::fs::create_dir_all(&elsewhere).unwrap();
    kit.build("a.tar", &Spec::new("v0.1.0"));
    symlink(&elsewhere, kit.media.join("inbox")).unwrap();
    assert_eq!(run_cli(&kit, &[]).status.code(), Some(2));
}

/// #7: a name in `inbox/` that is not UTF-8 was skipped: "no bundles found", exit 0.
#[test]
fn a_non_utf8_name_in_the_inbox_fails_the_run() {
    let kit = Kit::new();
    let built = kit.build("a.tar", &Spec::new("v0.1.0"));
    let name = OsStr::from_bytes(b"cavra-\xff\xfe.tar");
    std::fs::copy(&built, kit.media.join("inbox").join(name)).unwrap();
    kit.bundle("good.tar", &Spec::new("v0.1.0"));
    let out = run_cli(&kit, &[]);
    assert_eq!(out.status.code(), Some(2), "{}", stdout(&out));
    let text = stdout(&out);
    assert!(text.contains("not UTF-8"), "{text}");
    // The good bundle is still verified and gets its receipt.
    assert!(
        text.contains("PROMOTE") && text.contains("inbox/good.tar"),
        "{text}"
    );
    // The library says the same.
    let rep = kit.run_opts(&kit.opts()).unwrap();
    assert_eq!(rep.exit_code(), 2);
}

/// #7/#12: links and special files in `inbox/` are never followed and never a silent success: a
/// bundle-named link to the appliance's secret key is rejected without its digest being
/// published, a FIFO is rejected without blocking, and a link with another name fails the run.
#[test]
fn links_and_special_files_in_the_inbox_are_not_followed() {
    let kit = Kit::new();
    // The appliance's secret (created by a first run).
    kit.bundle("first.tar", &Spec::new("v0.1.0"));
    assert_eq!(kit.run().exit_code(), 0);
    kit.clear_inbox();
    let secret = std::fs::read_dir(&kit.state)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| std::fs::read(p).is_ok_and(|b| b.starts_with(b"-----BEGIN")))
        .expect("the appliance secret key file");
    let secret_digest = file_sha256(&secret);
    symlink(&secret, kit.media.join("inbox/key.tar")).unwrap();
    nix_mkfifo(&kit.media.join("inbox/fifo.tar"));
    let rep = kit.run();
    assert_eq!(rep.results.len(), 2);
    for r in &rep.results {
        assert_eq!(r.verdict, Verdict::Reject, "{r:?}");
        assert!(codes(r).contains(&"bundle-unreadable"), "{r:?}");
    }
    let receipts = tree(&kit.media.join("receipts"));
    for (name, _) in receipts.iter().filter(|(n, _)| n.as_str() != ".") {
        let body = std::fs::read_to_string(kit.media.join("receipts").join(name)).unwrap();
        assert!(
            !body.contains(&secret_digest),
            "{name} publishes the key's digest"
        );
    }
    // A link without a bundle name: the run fails.
    std::fs::remove_file(kit.media.join("inbox/key.tar")).unwrap();
    std::fs::remove_file(kit.media.join("inbox/fifo.tar")).unwrap();
    symlink("/proc/self/pagemap", kit.media.join("inbox/notes")).unwrap();
    let rep = kit.run();
    assert_eq!(rep.exit_code(), 2, "{rep:?}");
    // A bundle path given on the command line through a linked directory is refused.
    std::fs::remove_file(kit.media.join("inbox/notes")).unwrap();
    let b = kit.build("c.tar", &Spec::new("v0.2.0"));
    let dir = kit.tmp.path().join("outside");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::copy(&b, dir.join("c.tar")).unwrap();
    symlink(&dir, kit.media.join("sub")).unwrap();
    let mut o = kit.opts();
    o.bundles = vec!["sub/c.tar".into()];
    assert!(kit.run_opts(&o).is_err());
}

fn nix_mkfifo(p: &Path) {
    let st = Command::new("mkfifo").arg(p).status().unwrap();
    assert!(st.success());
}

/// #12: a FIFO as the media's evidence log hung the run forever after the receipt; a hard link
/// as the log appended into whatever file it shares.
#[test]
fn a_fifo_or_a_hard_link_as_the_media_log_is_refused() {
    let kit = Kit::new();
    kit.bundle("a.tar", &Spec::new("v0.1.0"));
    std::fs::create_dir_all(kit.media.join("evidence")).unwrap();
    let log = kit.media.join("evidence/airlock-evidence.jsonl");
    nix_mkfifo(&log);
    let mut child = airlock_cmd(&kit, &[])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let t0 = std::time::Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if t0.elapsed() > std::time::Duration::from_secs(60) {
            let _ = child.kill();
            panic!("the run hangs on a FIFO log");
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    };
    assert_eq!(status.code(), Some(2));

    // A hard link: the log shares its inode with a file outside the media's log.
    let kit = Kit::new();
    kit.bundle("a.tar", &Spec::new("v0.1.0"));
    std::fs::create_dir_all(kit.media.join("evidence")).unwrap();
    let victim = kit.media.join("victim.txt");
    std::fs::write(&victim, b"precious\n").unwrap();
    std::fs::hard_link(&victim, kit.media.join("evidence/airlock-evidence.jsonl")).unwrap();
    let rep = kit.run();
    assert_eq!(rep.exit_code(), 2, "{rep:?}");
    assert_eq!(std::fs::read(&victim).unwrap(), b"precious\n");
}

/// #12: `receipts/` replaced by a link to a directory outside the media: nothing is written
/// there. (Mid-run the same check holds at every write: each file is created inside a handle
/// on `receipts/` opened without following links.)
#[test]
fn a_receipts_link_never_puts_files_outside_the_media() {
    let kit = Kit::new();
    kit.bundle("a.tar", &Spec::new("v0.1.0"));
    let outside = kit.tmp.path().join("outside");
    std::fs::create_dir_all(&outside).unwrap();
    symlink(&outside, kit.media.join("receipts")).unwrap();
    let rep = kit.run();
    assert_eq!(rep.exit_code(), 2, "{rep:?}");
    assert!(tree(&outside).len() <= 1, "{:?}", tree(&outside));
    // The storage primitive itself, as the mid-run swap would meet it.
    let dir = kit.tmp.path().join("d");
    std::fs::create_dir_all(&dir).unwrap();
    symlink(&outside, dir.join("receipts")).unwrap();
    let w = airlock_verifier::atomic::write_new(
        &airlock_verifier::atomic::RealStorage,
        &dir.join("receipts"),
        "x.receipt.json",
        b"{}",
        0o644,
    );
    assert!(w.is_err());
    assert!(tree(&outside).len() <= 1, "{:?}", tree(&outside));
}

/// #13: `airlock verify 2>/dev/full` or `| head -c1` panicked (exit 101). A failed write is
/// exit 2 with a sentence naming the stream and the error.
#[test]
fn failed_console_writes_are_an_error_not_a_panic() {
    let kit = Kit::new();
    kit.bundle("a.tar", &Spec::new("v0.1.0"));
    let full = std::fs::OpenOptions::new()
        .write(true)
        .open("/dev/full")
        .unwrap();
    // stderr full (the progress line fails): exit 2, said on stdout.
    let out = airlock_cmd(&kit, &["--no-write"])
        .stderr(full.try_clone().unwrap())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", stdout(&out));
    assert!(stdout(&out).contains("standard error failed: No space left on device (ENOSPC)"));
    // stdout full: exit 2, said on stderr.
    let out = airlock_cmd(&kit, &["--no-write"])
        .stdout(full)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("standard output failed: No space left on device (ENOSPC)"),
        "{err}"
    );
    // A closed pipe (`| head -c1`).
    let mut child = airlock_cmd(&kit, &["--no-write", "--format", "json"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("(EPIPE)"));
    // Other commands too.
    let out = Command::new(airlock_bin())
        .arg("codes")
        .stdout(
            std::fs::OpenOptions::new()
                .write(true)
                .open("/dev/full")
                .unwrap(),
        )
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}

/// A `.tar.gz` of `count` × 1 MiB `trust-root/<n>.json` (about 1.1 MB compressed for 1023).
fn trust_root_bomb(path: &Path, count: u64) {
    let f = std::fs::File::create(path).unwrap();
    let gz = flate2::write::GzEncoder::new(f, flate2::Compression::fast());
    let mut t = tar::Builder::new(gz);
    let doc: Vec<u8> = {
        let mut d = b"[".to_vec();
        while d.len() < (1 << 20) - 2 {
            d.extend_from_slice(b"0,");
        }
        d.truncate((1 << 20) - 2);
        d.extend_from_slice(b"0]");
        d
    };
    for n in 1..=count {
        let mut h = tar::Header::new_ustar();
        h.set_size(doc.len() as u64);
        h.set_mode(0o644);
        h.set_cksum();
        t.append_data(&mut h, format!("trust-root/{n}.json"), &doc[..])
            .unwrap();
    }
    t.into_inner().unwrap().finish().unwrap();
}

/// #3: 1023 × 1 MiB `trust-root/<n>.json` in a 1.1 MB `.tar.gz` drove RSS to 2.1 GB (4.2 GB with
/// the same on the media); under 1 GiB PID 1 aborted with no verdict. Now trust material is
/// budgeted (4 MiB per bundle, 4 MiB on the media root, FORMATS §9): the whole run completes
/// inside 256 MiB of address space (`prlimit --as`) with verdicts and receipts.
#[test]
fn trust_root_bombs_verify_within_256_mib() {
    let kit = Kit::new();
    kit.bundle("a-good.tar", &Spec::new("v0.1.0"));
    trust_root_bomb(&kit.media.join("inbox/bomb.tar.gz"), 1023);
    let under_256_mib = |kit: &Kit| {
        let mut c = Command::new("prlimit");
        c.arg("--as=268435456")
            .arg(airlock_bin())
            .arg("verify")
            .arg("--anchor")
            .arg(&kit.anchor_path)
            .arg("--state")
            .arg(&kit.state)
            .arg(&kit.media)
            .env_remove("AIRLOCK_STATE");
        c.output().unwrap()
    };
    let out = under_256_mib(&kit);
    let text = stdout(&out);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{text}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(text.contains("PROMOTE  inbox/a-good.tar"), "{text}");
    assert!(text.contains("REJECT   inbox/bomb.tar.gz"), "{text}");
    assert!(text.contains("bundle-limit-exceeded"), "{text}");
    assert!(
        std::fs::read_dir(kit.media.join("receipts"))
            .unwrap()
            .count()
            == 2
    );

    // The same on the media root: 1023 files of 1 MiB (sparse, so the test stays small).
    for n in 1..=1023u64 {
        let f = std::fs::File::create(kit.media.join(format!("trust-root/{n}.json")))
            .or_else(|_| {
                std::fs::create_dir_all(kit.media.join("trust-root"))?;
                std::fs::File::create(kit.media.join(format!("trust-root/{n}.json")))
            })
            .unwrap();
        f.set_len(1 << 20).unwrap();
    }
    let out = under_256_mib(&kit);
    let text = stdout(&out);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{text}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(text.contains("bytes together"), "{text}");
    assert!(
        !text.contains("PROMOTE"),
        "trust files that cannot be read reject every bundle"
    );
}
