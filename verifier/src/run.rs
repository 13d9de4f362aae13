//! One verification run over a medium: the only place that sequences read → parse → verify →
//! decide → write. Bundles are verified in byte-wise order of their names; what one promotes
//! (versions, roots, lists) counts for the next.

use crate::atomic::{RealStorage, Storage};
use crate::bundle::{self, Limits, Progress, ScanAbort};
use crate::media;
use crate::policy::{self, Assessment, Memory};
use crate::reason::Reason;
use crate::receipt::ImageRef;
use crate::record::Recorder;
use crate::timestamp::Timestamp;
use crate::trust::Candidate;
use crate::verdict::Verdict;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

pub use crate::record::WriteMode;

/// How long one run may read the media before it gives up (a stalled stick must not hang the
/// appliance): the trust files, the inbox listing and every bundle, together.
pub(crate) const DEFAULT_DEADLINE: Duration = Duration::from_secs(6 * 3600);

/// What to verify and where to write.
#[derive(Debug, Clone)]
pub struct VerifyOptions {
    /// The media root.
    pub media: PathBuf,
    /// MEDIA-relative bundle paths; empty means every bundle in `MEDIA/inbox/`.
    pub bundles: Vec<String>,
    /// The anchor (default `STATE/anchor.json`).
    pub anchor: Option<PathBuf>,
    /// Instead of a file: the SHA-256 (hex) of the trust-root file on the media to take as the
    /// anchor (formats §3: an anchor pinned by the SHA-256 of its envelope file).
    pub anchor_sha256: Option<String>,
    /// The appliance's state directory.
    pub state_dir: PathBuf,
    /// Write receipts, evidence and state, or not.
    pub write: WriteMode,
    /// The appliance image running this verification (PID 1 reads it from the boot partition);
    /// None on a workstation.
    pub image: Option<ImageRef>,
}

/// The outcome for one bundle.
#[derive(Debug, Clone)]
pub struct BundleResult {
    /// MEDIA-relative path.
    pub bundle: String,
    /// promote / reject.
    pub verdict: Verdict,
    /// Package, when known.
    pub package: Option<String>,
    /// Version, when known.
    pub version: Option<String>,
    /// Every reason (empty on promote).
    pub reasons: Vec<Reason>,
    /// MEDIA-relative receipt path, when one was written.
    pub receipt: Option<String>,
    /// Who ran the release (formats §8), when governance evidence named it.
    pub runner: Option<crate::trust::governance::RunnerIdentity>,
}

/// The outcome of a run.
#[derive(Debug, Clone, Default)]
pub struct RunReport {
    /// One result per bundle verified.
    pub results: Vec<BundleResult>,
    /// Problems with the run itself (media not writable, deadline): they make the exit status 2.
    pub problems: Vec<String>,
}

impl RunReport {
    /// 0 every bundle promoted; 1 at least one rejected; 2 the run could not complete.
    pub fn exit_code(&self) -> u8 {
        if !self.problems.is_empty() {
            2
        } else if self.results.iter().any(|r| r.verdict == Verdict::Reject) {
            1
        } else {
            0
        }
    }
}

/// Why a run could not start at all (exit status 2, no verdicts).
#[derive(Debug)]
pub struct RunError(pub String);

impl std::fmt::Display for RunError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for RunError {}

/// Verifies every bundle named by `opts` and writes receipts, evidence and state.
pub fn verify_media(opts: &VerifyOptions, progress: &dyn Progress) -> Result<RunReport, RunError> {
    verify_media_with(opts, progress, &RealStorage)
}

/// [`verify_media`] writing through `storage` (tests inject faults here).
pub fn verify_media_with(
    opts: &VerifyOptions,
    progress: &dyn Progress,
    storage: &dyn Storage,
) -> Result<RunReport, RunError> {
    verify_run(opts, progress, storage, false).map(|(report, _)| report)
}

/// [`verify_media`], with the calling thread confined ([`crate::sandbox::confine`]) once the
/// state is open and the appliance key published, before any bundle is read: from then on no
/// socket but `AF_UNIX` can be made and nothing can be written outside the media's `receipts/`
/// and `evidence/` and the state directory. The confinement stays on the calling thread after
/// the run. `airlock verify` and the appliance's PID 1 (on its verification thread) use this.
pub fn verify_media_confined(
    opts: &VerifyOptions,
    progress: &dyn Progress,
) -> Result<(RunReport, crate::sandbox::Confinement), RunError> {
    let (report, confinement) = verify_run(opts, progress, &RealStorage, true)?;
    Ok((report, confinement.unwrap_or_default()))
}

fn verify_run(
    opts: &VerifyOptions,
    progress: &dyn Progress,
    storage: &dyn Storage,
    confine: bool,
) -> Result<(RunReport, Option<crate::sandbox::Confinement>), RunError> {
    let now = Timestamp::now();
    // One deadline for all the run's reading of the media (adversarial #8).
    let deadline = Instant::now() + DEFAULT_DEADLINE;
    // The roots are resolved once: links in the operator's own paths are followed here, and no
    // link below them is ever followed (issue 11 #12, `crate::nofollow`).
    let resolved = resolve_roots(opts);
    let opts = &resolved;
    // The anchor is settled before anything is created or written (exit 2 leaves no trace).
    let trust = media::read_trust_before(&opts.media, deadline).map_err(RunError)?;
    let anchor = match &opts.anchor_sha256 {
        Some(pin) => pinned_anchor(&trust, pin)?,
        None => {
            let path = opts
                .anchor
                .clone()
                .unwrap_or_else(|| opts.state_dir.join(crate::state::ANCHOR_FILE));
            let path = std::fs::canonicalize(&path).unwrap_or(path);
            media::read_capped(&path, media::MAX_TRUST_FILE).map_err(|e| {
                RunError(format!(
                    "no usable anchor: {} {e} (give one with --anchor FILE)",
                    path.display()
                ))
            })?
        }
    };
    let mut unverifiable = Vec::new();
    let bundles = if opts.bundles.is_empty() {
        let inbox = media::inbox_before(&opts.media, deadline).map_err(RunError)?;
        unverifiable = inbox.problems;
        inbox.bundles
    } else {
        opts.bundles.clone()
    };
    let mut paths = Vec::new();
    for rel in &bundles {
        paths.push(media::resolve_bundle(&opts.media, rel).map_err(RunError)?);
    }
    let mut recorder = Recorder::open(storage, &opts.media, &opts.state_dir, opts.write)?
        .with_image(opts.image.clone());
    let mut memory = recorder.memory()?;
    let confinement = confine.then(|| {
        let writing = opts.write == WriteMode::Write;
        crate::sandbox::confine(&crate::sandbox::run_paths(
            &opts.media,
            &opts.state_dir,
            writing,
        ))
    });
    let media_reasons: Vec<Reason> = trust.problems.clone();
    let limits = Limits {
        deadline: Some(deadline),
        ..Limits::default()
    };
    let mut report = RunReport {
        problems: unverifiable,
        ..RunReport::default()
    };
    for (rel, path) in bundles.iter().zip(&paths) {
        progress.begin(rel);
        let scanned = bundle::scan(path, &limits, progress);
        progress.end();
        let mut scan = match scanned {
            Ok(s) => s,
            Err(ScanAbort::Deadline) => {
                report.problems.push(format!(
                    "{rel}: reading did not finish before the deadline; no verdict was reached and no receipt written"
                ));
                break;
            }
        };
        scan.reasons.extend(media_reasons.iter().cloned());
        let listings = scan.inventory.take_listings();
        let assessment = policy::assess_with(
            &policy::Inputs {
                scan: &scan,
                anchor: &anchor,
                media_roots: &trust.roots,
                media_revocations: &trust.revocations,
                memory: &memory,
                now,
            },
            listings,
        );
        let (receipt, problem) = recorder.record(rel, &scan, &assessment, now);
        report.problems.extend(problem);
        remember(&mut memory, &assessment);
        report.results.push(BundleResult {
            bundle: rel.clone(),
            verdict: assessment.verdict(),
            package: assessment.package().map(str::to_owned),
            version: assessment.version().map(str::to_owned),
            reasons: assessment.reasons().to_vec(),
            runner: assessment.runner().cloned(),
            receipt,
        });
    }
    if let Err(e) = recorder.finish() {
        report.problems.push(e);
    }
    Ok((report, confinement))
}

/// `opts` with MEDIA and the state directory resolved to paths without links (the state
/// directory may not exist yet: then its parent is resolved). Unresolvable paths are kept as
/// given; opening them reports the error.
fn resolve_roots(opts: &VerifyOptions) -> VerifyOptions {
    let resolve = |p: &Path| {
        std::fs::canonicalize(p).unwrap_or_else(|_| match (p.parent(), p.file_name()) {
            (Some(parent), Some(name)) if !parent.as_os_str().is_empty() => {
                std::fs::canonicalize(parent).map_or_else(|_| p.to_owned(), |d| d.join(name))
            }
            _ => p.to_owned(),
        })
    };
    VerifyOptions {
        media: resolve(&opts.media),
        state_dir: resolve(&opts.state_dir),
        ..opts.clone()
    }
}

/// The media trust-root file whose SHA-256 is `pin`.
fn pinned_anchor(trust: &media::MediaTrust, pin: &str) -> Result<Vec<u8>, RunError> {
    let want = airlock_core::hex::decode::<32>(pin.as_bytes()).map_err(|_| {
        RunError(format!(
            "--anchor-sha256 {pin:?} is not 64 lowercase hex digits"
        ))
    })?;
    trust
        .roots
        .iter()
        .find(|c| airlock_core::digest::sha256(&c.bytes) == want)
        .map(|c| c.bytes.clone())
        .ok_or_else(|| {
            RunError(format!(
                "no trust-root file on the media has the pinned SHA-256 {pin}"
            ))
        })
}

/// Carries one decision's updates into the memory the next bundle of the run is judged by: the
/// same [`crate::state::StateData::apply`] the state file is written with, and the roots.
fn remember(memory: &mut Memory, a: &Assessment) {
    let u = a.updates();
    for (v, bytes) in &u.roots {
        memory.stored_roots.push(Candidate {
            source: format!("state:trust-root/{v}.json"),
            bytes: bytes.clone(),
        });
    }
    memory.state.apply(u);
}

/// The default state directory: `$AIRLOCK_STATE` or `/var/lib/airlock`.
pub fn default_state_dir() -> PathBuf {
    std::env::var_os("AIRLOCK_STATE")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new("/var/lib/airlock").to_path_buf())
}
