//! `airlock` as PID 1 on the appliance: the kernel runs the initramfs's `/init`, which is this
//! binary. It mounts the kernel file systems, loads the few storage modules the image carries,
//! finds the media stick (label `AIRLOCK`) and the state partition (label `AIRLOCK-STATE`) by
//! reading their labels itself (there is no udev), runs exactly the verification the CLI runs
//! ([`crate::run::verify_media`]), syncs and unmounts, shows the verdict in large letters and
//! powers off (or waits for a key, `airlock.halt=wait`).
//!
//! PID 1 must never panic or exit (either is a kernel panic): every step reports failure as a
//! value, the whole run sits inside `catch_unwind`, and the end is always power-off.
//!
//! Settings come from the kernel command line; see [`cmdline`].

mod banner;
mod cmdline;
mod image;
mod label;

use crate::bundle::Progress;
use crate::run::{self, RunReport, VerifyOptions, WriteMode};
use crate::verdict::Verdict;
use cmdline::{Config, Halt};
use label::FsKind;
use nix::libc;
use nix::mount::{MntFlags, MsFlags};
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::os::fd::AsRawFd;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

/// Where the media stick is mounted.
const MEDIA_MOUNT: &str = "/mnt/media";
/// Where the state partition is mounted (it is the state directory).
const STATE_MOUNT: &str = "/mnt/state";
/// The media stick's file-system label (FAT or exFAT; compared ignoring ASCII case).
pub const MEDIA_LABEL: &str = "AIRLOCK";
/// The state partition's file-system label (ext4).
pub const STATE_LABEL: &str = "AIRLOCK-STATE";
/// The module load list the image build writes (absolute paths, dependencies first).
const MODULE_LIST: &str = "/etc/airlock/modules.load";
/// What the image build says about itself (shown at start).
const IMAGE_INFO: &str = "/etc/airlock/image-info";

/// The consoles every message goes to (each active kernel console, so the screen and a serial
/// line both show the verdict).
static CONSOLES: OnceLock<Vec<File>> = OnceLock::new();
/// The settings, once read (the halt step needs them even after a panic).
static CONFIG: OnceLock<Config> = OnceLock::new();

/// Writes `text` to every console. Never fails, never panics.
fn say(text: &str) {
    match CONSOLES.get() {
        Some(cs) if !cs.is_empty() => {
            for mut c in cs {
                let _ = c.write_all(text.as_bytes());
            }
        }
        _ => {
            let _ = std::io::stderr().write_all(text.as_bytes());
        }
    }
}

fn sayln(text: &str) {
    say(text);
    say("\n");
}

/// Seconds since boot, for the log and the timing figures.
fn uptime() -> f64 {
    std::fs::read_to_string("/proc/uptime")
        .ok()
        .and_then(|s| s.split_whitespace().next()?.parse().ok())
        .unwrap_or(0.0)
}

/// The entry point when the process is PID 1 on the appliance. Never returns.
pub fn main_as_init() -> ! {
    std::panic::set_hook(Box::new(|info| {
        sayln("");
        sayln(&format!("airlock: internal error: {info}"));
    }));
    let shown = std::panic::catch_unwind(appliance);
    if shown.is_err() {
        sync_all();
        show_screen(&Screen::error(vec![
            "Airlock stopped because of an internal error (shown above).".into(),
            "Results written before the error are complete; nothing is half written.".into(),
            "Please report the message above.".into(),
        ]));
    }
    finish()
}

/// What ends up on the screen.
struct Screen {
    word: &'static str,
    lines: Vec<String>,
}

impl Screen {
    fn error(lines: Vec<String>) -> Self {
        Screen {
            word: "ERROR",
            lines,
        }
    }
}

fn show_screen(s: &Screen) {
    let ascii = CONFIG.get().is_some_and(|c| c.ascii);
    // Clear the screen and home the cursor so the verdict is all there is to read.
    say("\x1b[2J\x1b[H\n");
    say(&banner::big(s.word, 4, ascii));
    sayln("");
    // Lines quote the stick's names and messages: escaped, so they cannot move the cursor or
    // rewrite the verdict above them (issue 11 #6).
    for l in &s.lines {
        sayln(&crate::escape::text(l));
    }
    sayln("");
    sayln(&format!(
        "[airlock] verdict shown at {:.1} s after power-on",
        uptime()
    ));
}

/// The whole run; returns after the verdict has been shown.
fn appliance() {
    early_mounts();
    open_consoles();
    let t0 = uptime();
    let cfg = cmdline::parse(&std::fs::read_to_string("/proc/cmdline").unwrap_or_default());
    if !cfg.debug {
        // Only emergencies from the kernel from here on: the console is the operator's.
        let _ = std::fs::write("/proc/sys/kernel/printk", "1");
    }
    let cfg = CONFIG.get_or_init(|| cfg);
    let info = std::fs::read_to_string(IMAGE_INFO).unwrap_or_default();
    sayln("");
    sayln(&format!(
        "Airlock {} - offline release verification   {}",
        env!("CARGO_PKG_VERSION"),
        info.lines().next().unwrap_or("")
    ));
    sayln(&format!("[airlock] init started at {t0:.1} s"));
    for u in &cfg.unknown {
        sayln(&format!("warning: ignoring unknown setting {u}"));
    }
    load_modules(cfg.debug);

    let mut mounts = Mounts::default();
    let screen = match run_verification(cfg, &mut mounts) {
        Ok(s) => s,
        Err(msg) => {
            let mut lines = vec![msg];
            lines.push(String::new());
            lines.push(if mounts.media_written {
                "Files on the stick are either complete or absent: nothing is half written.".into()
            } else {
                "Nothing was written to the media stick.".into()
            });
            Screen::error(lines)
        }
    };
    let mut screen = screen;
    let unmounted = mounts.release();
    match unmounted {
        Ok(()) if mounts.media_mounted => screen
            .lines
            .push("It is safe to remove the media stick.".into()),
        Ok(()) => {}
        Err(e) => {
            screen.word = "ERROR";
            screen.lines.push(e);
            screen
                .lines
                .push("Do NOT remove the stick before the appliance has powered off.".into());
        }
    }
    show_screen(&screen);
}

/// devtmpfs, proc and sysfs. Failures are reported; what follows copes with their absence.
fn early_mounts() {
    for (what, target, fstype) in [
        ("devtmpfs", "/dev", "devtmpfs"),
        ("proc", "/proc", "proc"),
        ("sysfs", "/sys", "sysfs"),
    ] {
        let _ = std::fs::create_dir_all(target);
        let flags = MsFlags::MS_NOSUID | MsFlags::MS_NOEXEC;
        match nix::mount::mount(Some(what), target, Some(fstype), flags, None::<&str>) {
            Ok(()) | Err(nix::errno::Errno::EBUSY) => {}
            Err(e) => sayln(&format!("warning: cannot mount {fstype} on {target}: {e}")),
        }
    }
}

/// Opens every active kernel console for writing (falls back to `/dev/console`).
fn open_consoles() {
    let names = std::fs::read_to_string("/sys/class/tty/console/active").unwrap_or_default();
    let mut files = Vec::new();
    for n in names.split_whitespace() {
        if n.contains('/') || n.contains("..") {
            continue;
        }
        if let Ok(f) = OpenOptions::new()
            .write(true)
            .custom_flags(libc::O_NOCTTY)
            .open(Path::new("/dev").join(n))
        {
            files.push(f);
        }
    }
    if files.is_empty() {
        if let Ok(f) = OpenOptions::new()
            .write(true)
            .custom_flags(libc::O_NOCTTY)
            .open("/dev/console")
        {
            files.push(f);
        }
    }
    let _ = CONSOLES.set(files);
}

/// Loads the modules the image lists, in order. A failure is a warning: a missing driver shows
/// up later as a stick that is not found, with a message that says so.
fn load_modules(debug: bool) {
    let Ok(list) = std::fs::read_to_string(MODULE_LIST) else {
        sayln(&format!(
            "warning: {MODULE_LIST} missing: no kernel modules loaded"
        ));
        return;
    };
    let mut loaded = 0;
    for path in list
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
    {
        let f = match File::open(path) {
            Ok(f) => f,
            Err(e) => {
                sayln(&format!("warning: module {path}: {e}"));
                continue;
            }
        };
        // SAFETY: finit_module(2) with a valid open fd, an empty NUL-terminated parameter string
        // and no flags; the kernel reads nothing else from this process.
        let r = unsafe {
            libc::syscall(
                libc::SYS_finit_module,
                f.as_raw_fd(),
                c"".as_ptr(),
                0 as libc::c_int,
            )
        };
        if r == 0 {
            loaded += 1;
        } else {
            let e = std::io::Error::last_os_error();
            // EEXIST: already there. ENODEV: hardware-specific and the hardware is absent
            // (crc32c-intel without SSE4.2), which is expected.
            let expected = matches!(e.raw_os_error(), Some(libc::EEXIST | libc::ENODEV));
            if !expected || debug {
                sayln(&format!("warning: module {path}: {e}"));
            }
        }
    }
    sayln(&format!(
        "[airlock] {loaded} kernel modules loaded at {:.1} s",
        uptime()
    ));
}

/// One file system to mount.
struct Found {
    dev: PathBuf,
    kind: FsKind,
}

/// Block devices worth probing: not loop/RAM/optical devices, not empty, and not a whole disk
/// that has partitions (its first sector is a partition table, its file systems are in the
/// partitions).
fn block_devices() -> Vec<String> {
    let Ok(dir) = std::fs::read_dir("/sys/class/block") else {
        return Vec::new();
    };
    let mut names: Vec<String> = dir
        .flatten()
        .filter_map(|e| e.file_name().into_string().ok())
        .collect();
    names.sort();
    let mut parents = std::collections::BTreeSet::new();
    for n in &names {
        let sys = Path::new("/sys/class/block").join(n);
        if sys.join("partition").exists() {
            if let Some(p) = std::fs::canonicalize(&sys)
                .ok()
                .and_then(|p| p.parent().and_then(|q| q.file_name()).map(|q| q.to_owned()))
            {
                parents.insert(p.to_string_lossy().into_owned());
            }
        }
    }
    names.retain(|n| {
        let skip = ["loop", "ram", "zram", "sr", "fd", "dm-", "md"]
            .iter()
            .any(|p| n.starts_with(p));
        let size = std::fs::read_to_string(Path::new("/sys/class/block").join(n).join("size"))
            .ok()
            .and_then(|s| s.trim().parse::<u64>().ok())
            .unwrap_or(0);
        !skip && size > 0 && !parents.contains(n)
    });
    names
}

/// Probes the file system on `dev`.
fn probe(dev: &Path) -> Option<label::Probe> {
    let f = File::open(dev).ok()?;
    label::probe(&f).ok().flatten()
}

/// Waits (bounded) for the media stick and the state partition.
fn find_devices(cfg: &Config) -> Result<(Found, Found), String> {
    let deadline = Instant::now() + cfg.wait;
    let mut announced = false;
    let started = Instant::now();
    loop {
        let mut media = Vec::new();
        let mut state = Vec::new();
        for n in block_devices() {
            let dev = Path::new("/dev").join(&n);
            let Some(p) = probe(&dev) else { continue };
            let label = p.label.unwrap_or_default();
            match p.kind {
                FsKind::Fat | FsKind::Exfat if label.eq_ignore_ascii_case(MEDIA_LABEL) => {
                    media.push(Found { dev, kind: p.kind })
                }
                FsKind::Ext4 if label == STATE_LABEL => state.push(Found { dev, kind: p.kind }),
                _ => {}
            }
        }
        if let Some(dev) = &cfg.media {
            media = explicit(dev, &[FsKind::Fat, FsKind::Exfat])?
                .into_iter()
                .collect();
        }
        if let Some(dev) = &cfg.state {
            state = explicit(dev, &[FsKind::Ext4])?.into_iter().collect();
        }
        if media.len() > 1 {
            return Err(format!(
                "{} file systems are labelled {MEDIA_LABEL} ({}): remove all but one media stick.",
                media.len(),
                media
                    .iter()
                    .map(|f| f.dev.display().to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
        if state.len() > 1 {
            return Err(format!(
                "{} partitions are labelled {STATE_LABEL}: boot with only one Airlock stick inserted.",
                state.len()
            ));
        }
        if media.len() == 1 && state.len() == 1 {
            let (m, s) = (media.remove(0), state.remove(0));
            sayln(&format!(
                "[airlock] media {} ({}), state {} found at {:.1} s",
                m.dev.display(),
                m.kind.mount_type(),
                s.dev.display(),
                uptime()
            ));
            return Ok((m, s));
        }
        if Instant::now() >= deadline {
            let mut missing = Vec::new();
            if media.is_empty() {
                missing.push(format!(
                    "No media stick found: no FAT or exFAT file system labelled {MEDIA_LABEL} \
                     appeared within {} s. Insert the media stick and boot again.",
                    cfg.wait.as_secs()
                ));
            }
            if state.is_empty() {
                missing.push(format!(
                    "No state partition found (ext4, label {STATE_LABEL}): the Airlock boot stick \
                     looks damaged. Rewrite it from the released image."
                ));
            }
            return Err(missing.join("\n"));
        }
        if !announced && started.elapsed() > Duration::from_secs(2) {
            announced = true;
            sayln(&format!(
                "Waiting up to {} s for the media stick (label {MEDIA_LABEL})...",
                cfg.wait.as_secs()
            ));
        }
        std::thread::sleep(Duration::from_millis(250));
    }
}

/// A device named on the command line: `Ok(None)` while it has not appeared yet.
fn explicit(dev: &Path, kinds: &[FsKind]) -> Result<Option<Found>, String> {
    if !dev.exists() {
        return Ok(None);
    }
    match probe(dev) {
        Some(p) if kinds.contains(&p.kind) => Ok(Some(Found {
            dev: dev.to_owned(),
            kind: p.kind,
        })),
        Some(p) => Err(format!(
            "{} holds {}, not a file system Airlock uses there.",
            dev.display(),
            p.kind.mount_type()
        )),
        None => Err(format!(
            "{} holds no file system Airlock recognises.",
            dev.display()
        )),
    }
}

/// Set when a device stopped answering: from then on nothing syncs or unmounts (it would hang).
static STALLED: AtomicBool = AtomicBool::new(false);

/// What is mounted, so that every path out unmounts it.
#[derive(Default)]
struct Mounts {
    mounted: Vec<&'static str>,
    /// Whether anything may have been written to the media stick.
    media_written: bool,
    /// Whether the media stick was mounted at all.
    media_mounted: bool,
}

impl Mounts {
    fn mount(&mut self, f: &Found, target: &'static str, read_only: bool) -> nix::Result<()> {
        let _ = std::fs::create_dir_all(target);
        let mut flags = MsFlags::MS_NOSUID | MsFlags::MS_NODEV | MsFlags::MS_NOEXEC;
        if read_only {
            flags |= MsFlags::MS_RDONLY;
        }
        let data = match f.kind {
            FsKind::Ext4 => Some("errors=remount-ro"),
            // Debian's FAT default iocharset is "ascii" (nls_ascii, not in the image): name the
            // character sets the image carries. UTF-8 names, Latin-1 case folding.
            FsKind::Fat => Some("utf8,iocharset=iso8859-1,codepage=437,shortname=mixed"),
            FsKind::Exfat => Some("iocharset=utf8"),
        };
        nix::mount::mount(Some(&f.dev), target, Some(f.kind.mount_type()), flags, data)?;
        self.mounted.push(target);
        self.media_mounted |= target == MEDIA_MOUNT;
        Ok(())
    }

    /// Forgets the mounts without touching them (a device stopped answering).
    fn abandon(&mut self) {
        self.mounted.clear();
        self.media_mounted = false;
    }

    /// Syncs and unmounts everything, newest first.
    fn release(&mut self) -> Result<(), String> {
        sync_all();
        let mut errors = Vec::new();
        while let Some(t) = self.mounted.pop() {
            let mut r = nix::mount::umount2(t, MntFlags::empty());
            for _ in 0..20 {
                if r != Err(nix::errno::Errno::EBUSY) {
                    break;
                }
                std::thread::sleep(Duration::from_millis(100));
                r = nix::mount::umount2(t, MntFlags::empty());
            }
            if let Err(e) = r {
                errors.push(format!("Could not unmount {t}: {e}."));
            }
        }
        sync_all();
        if errors.is_empty() {
            Ok(())
        } else {
            Err(errors.join(" "))
        }
    }
}

impl Drop for Mounts {
    /// A panic between mounting and [`Mounts::release`] still syncs and unmounts.
    fn drop(&mut self) {
        if !self.mounted.is_empty() {
            let _ = self.release();
        }
    }
}

fn sync_all() {
    if !STALLED.load(Ordering::SeqCst) {
        nix::unistd::sync();
    }
}

/// Whether the kernel says the block device is write-protected.
fn device_read_only(dev: &Path) -> bool {
    let Some(name) = dev.file_name() else {
        return false;
    };
    std::fs::read_to_string(Path::new("/sys/class/block").join(name).join("ro"))
        .is_ok_and(|s| s.trim() == "1")
}

/// Finds and mounts the sticks, verifies, and builds the verdict screen.
fn run_verification(cfg: &Config, mounts: &mut Mounts) -> Result<Screen, String> {
    let (media, state) = find_devices(cfg)?;
    mounts.mount(&state, STATE_MOUNT, false).map_err(|e| {
        format!(
            "Cannot mount the state partition {}: {e}. Rewrite the Airlock stick.",
            state.dev.display()
        )
    })?;
    let mut notes = Vec::new();
    let mut write = WriteMode::Write;
    let ro = device_read_only(&media.dev);
    let rw_result = if ro {
        Err(nix::errno::Errno::EROFS)
    } else {
        mounts.mount(&media, MEDIA_MOUNT, false)
    };
    match rw_result {
        Ok(()) => {}
        Err(nix::errno::Errno::EROFS | nix::errno::Errno::EACCES) => {
            mounts.mount(&media, MEDIA_MOUNT, true).map_err(|e| {
                format!("Cannot mount the media stick {}: {e}.", media.dev.display())
            })?;
            write = WriteMode::DryRun;
            notes.push(
                "The media stick is write-protected: verdicts are shown but NO receipts were \
                 written and the appliance state was not updated. Unlock the stick and run again."
                    .to_string(),
            );
        }
        Err(e) => {
            return Err(format!(
                "Cannot mount the media stick {} ({}): {e}. Check the stick on a workstation.",
                media.dev.display(),
                media.kind.mount_type()
            ))
        }
    }
    let dry_run = matches!(write, WriteMode::DryRun);
    mounts.media_written = !dry_run;
    let build_info = std::fs::read_to_string(IMAGE_INFO).unwrap_or_default();
    let image = match image::running_image(&build_info) {
        Ok(i) => {
            sayln(&format!(
                "[airlock] image sha256 {}, Secure Boot: {}",
                i.sha256,
                if i.secure_boot { "on" } else { "off" }
            ));
            Some(i)
        }
        Err(e) => {
            sayln(&format!(
                "[airlock] running image unknown ({e}): receipts will not name it"
            ));
            None
        }
    };
    let opts = VerifyOptions {
        media: PathBuf::from(MEDIA_MOUNT),
        bundles: Vec::new(),
        anchor: None,
        anchor_sha256: None,
        state_dir: PathBuf::from(STATE_MOUNT),
        write,
        image,
    };
    sayln(&format!("[airlock] verifying at {:.1} s", uptime()));
    // The verification runs on its own thread so that a stick that stops answering (reads that
    // never return) cannot hold the appliance forever: after `airlock.deadline` the run is
    // abandoned and reported, and nothing more touches the devices.
    let (tx, rx) = std::sync::mpsc::channel();
    let spawned = std::thread::Builder::new()
        .name("verify".into())
        .spawn(move || {
            let progress = ConsoleProgress::default();
            let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                // Confined: this thread only, so PID 1's main thread can still unmount.
                run::verify_media_confined(&opts, &progress)
                    .map(|(report, confinement)| {
                        for w in &confinement.warnings {
                            sayln(&format!("warning: {w}"));
                        }
                        report
                    })
                    .map_err(|e| e.to_string())
            }));
            let _ = tx.send(outcome.map_err(|_| ()));
        });
    if let Err(e) = spawned {
        return Err(format!("Cannot start the verification: {e}"));
    }
    let report = match rx.recv_timeout(cfg.deadline) {
        Ok(Ok(Ok(r))) => r,
        Ok(Ok(Err(e))) => return Err(format!("Verification could not run: {e}")),
        Ok(Err(())) => {
            return Err("Verification stopped because of an internal error (shown above).".into())
        }
        Err(_) => {
            STALLED.store(true, Ordering::SeqCst);
            mounts.abandon();
            return Err(format!(
                "The media stick stopped responding: no result after {} s. Do not trust any \
                 verdict from this run. Receipts already on the stick are complete (each file is \
                 whole or absent). Try the stick in another port, or copy the bundles to a new stick.",
                cfg.deadline.as_secs()
            ));
        }
    };
    Ok(verdict_screen(&report, notes, dry_run))
}

/// Builds the verdict screen from a report.
fn verdict_screen(report: &RunReport, notes: Vec<String>, dry_run: bool) -> Screen {
    let code = if dry_run { 2 } else { report.exit_code() };
    let word = match code {
        _ if report.results.is_empty() && report.problems.is_empty() && !dry_run => "NO BUNDLES",
        0 => "PROMOTE",
        1 => "REJECT",
        _ => "ERROR",
    };
    let mut lines = Vec::new();
    if report.results.is_empty() {
        lines.push(
            "The stick's inbox/ holds no bundles (*.tar, *.tar.gz, *.tgz, *.tar.zst, *.tar.xz): nothing was verified."
                .to_string(),
        );
    }
    let (mut promoted, mut rejected) = (0, 0);
    for r in &report.results {
        let what = match (&r.package, &r.version) {
            (Some(p), Some(v)) => format!("   {p} {v}"),
            (Some(p), None) => format!("   {p}"),
            _ => String::new(),
        };
        let tag = match r.verdict {
            Verdict::Promote => {
                promoted += 1;
                "PROMOTE"
            }
            Verdict::Reject => {
                rejected += 1;
                "REJECT "
            }
        };
        lines.push(format!("  {tag}  {}{what}", r.bundle));
        for reason in &r.reasons {
            lines.push(format!("             {}: {}", reason.code, reason.message));
        }
        match &r.receipt {
            Some(p) => lines.push(format!("             receipt: {p}")),
            None => lines.push("             (no receipt written)".into()),
        }
    }
    if !report.results.is_empty() {
        lines.push(format!("{promoted} promoted, {rejected} rejected."));
    }
    for p in &report.problems {
        lines.push(format!("problem: {p}"));
    }
    lines.extend(notes);
    Screen { word, lines }
}

/// Shows reading progress on the console: a line per 10 % (serial logs stay short).
#[derive(Default)]
struct ConsoleProgress {
    last: Mutex<(u64, u64)>,
}

impl Progress for ConsoleProgress {
    fn position(&self, bytes: u64, total: u64) {
        let pct = if total == 0 {
            100
        } else {
            (bytes.min(total) as u128 * 100 / total as u128) as u64
        };
        let mut last = self.last.lock().unwrap_or_else(|e| e.into_inner());
        let step = pct / 10;
        if last.0 != total || step > last.1 {
            if last.0 != total && step == 0 {
                *last = (total, 0);
                return;
            }
            *last = (total, step);
            say(&format!(
                "\r  reading {:3}%  ({} of {} MB)",
                pct,
                bytes / 1_000_000,
                total / 1_000_000
            ));
            if pct == 100 {
                say("\n");
            }
        }
    }
}

/// Powers off (after a key press when asked to). Never returns.
fn finish() -> ! {
    let halt = CONFIG.get().map_or(Halt::WaitForKey, |c| c.halt);
    if halt == Halt::WaitForKey {
        sayln("Press any key to power off.");
        wait_for_key();
    }
    sayln("Powering off.");
    sync_all();
    let err = nix::sys::reboot::reboot(nix::sys::reboot::RebootMode::RB_POWER_OFF).err();
    sayln(&format!(
        "Power-off failed ({err:?}): switch the machine off by hand."
    ));
    loop {
        std::thread::sleep(Duration::from_secs(3600));
    }
}

/// Waits for input on any console. Typed-ahead input is discarded first.
fn wait_for_key() {
    let names = std::fs::read_to_string("/sys/class/tty/console/active").unwrap_or_default();
    let mut ttys: Vec<File> = names
        .split_whitespace()
        .filter(|n| !n.contains('/'))
        .filter_map(|n| {
            OpenOptions::new()
                .read(true)
                .custom_flags(libc::O_NOCTTY | libc::O_NONBLOCK)
                .open(Path::new("/dev").join(n))
                .ok()
        })
        .collect();
    if ttys.is_empty() {
        if let Ok(f) = OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_NOCTTY | libc::O_NONBLOCK)
            .open("/dev/console")
        {
            ttys.push(f);
        }
    }
    for t in &ttys {
        if let Ok(mut tio) = nix::sys::termios::tcgetattr(t) {
            use nix::sys::termios::{LocalFlags, SetArg};
            tio.local_flags
                .remove(LocalFlags::ICANON | LocalFlags::ECHO);
            let _ = nix::sys::termios::tcsetattr(t, SetArg::TCSANOW, &tio);
        }
        let _ = nix::sys::termios::tcflush(t, nix::sys::termios::FlushArg::TCIFLUSH);
    }
    if ttys.is_empty() {
        return;
    }
    loop {
        let mut fds: Vec<libc::pollfd> = ttys
            .iter()
            .map(|t| libc::pollfd {
                fd: t.as_raw_fd(),
                events: libc::POLLIN,
                revents: 0,
            })
            .collect();
        // SAFETY: `fds` is a valid, exclusively borrowed array of `fds.len()` pollfd structs
        // whose descriptors stay open (owned by `ttys`) for the duration of the call.
        let n = unsafe { libc::poll(fds.as_mut_ptr(), fds.len() as libc::nfds_t, -1) };
        if n > 0 && fds.iter().any(|p| p.revents & libc::POLLIN != 0) {
            return;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}
