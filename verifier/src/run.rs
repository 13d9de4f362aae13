//! STUB, branch `wip-image` only: the shape of the lead's `run.rs` (issue #7 brief) so that
//! `init.rs` compiles and the image plumbing can be booted. It verifies nothing: with an empty
//! inbox it returns an empty report; with bundles present it refuses with a `RunError`. The
//! lead's real `run.rs` replaces this file on merge.

use crate::reason::Reason;
use std::fmt;
use std::path::PathBuf;

/// Whether the run writes receipts, evidence and state.
pub enum WriteMode {
    /// Write receipts and evidence to the media, update the state.
    Write,
    /// Write nothing anywhere.
    DryRun,
}

/// What to verify and where.
pub struct VerifyOptions {
    /// The media root.
    pub media: PathBuf,
    /// Bundles relative to `media`; empty = every bundle in `media/inbox`.
    pub bundles: Vec<String>,
    /// The anchor; `None` = `state_dir/anchor.json`.
    pub anchor: Option<PathBuf>,
    /// The appliance state.
    pub state_dir: PathBuf,
    /// Write or dry run.
    pub write: WriteMode,
}

/// A bundle's verdict.
pub enum Verdict {
    /// Promote.
    Promote,
    /// Reject.
    Reject,
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Verdict::Promote => "promote",
            Verdict::Reject => "reject",
        })
    }
}

/// One bundle's outcome.
pub struct BundleResult {
    /// MEDIA-relative path.
    pub bundle: String,
    /// The verdict.
    pub verdict: Verdict,
    /// Package, when known.
    pub package: Option<String>,
    /// Version, when known.
    pub version: Option<String>,
    /// Why, when rejected.
    pub reasons: Vec<Reason>,
    /// MEDIA-relative receipt path, when written.
    pub receipt: Option<String>,
}

/// The whole run.
pub struct RunReport {
    /// One per bundle, in order.
    pub results: Vec<BundleResult>,
    /// Problems with the run itself.
    pub problems: Vec<String>,
}

impl RunReport {
    /// 0 all promoted, 1 any rejected, 2 problems.
    pub fn exit_code(&self) -> u8 {
        if !self.problems.is_empty() {
            2
        } else if self.results.iter().any(|r| matches!(r.verdict, Verdict::Reject)) {
            1
        } else {
            0
        }
    }
}

/// Why a run could not proceed.
#[derive(Debug)]
pub struct RunError(pub String);

impl fmt::Display for RunError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// STUB: see the module documentation.
pub fn verify_media(
    opts: &VerifyOptions,
    _progress: &dyn crate::bundle::Progress,
) -> Result<RunReport, RunError> {
    let inbox = opts.media.join("inbox");
    let mut found = Vec::new();
    if let Ok(dir) = std::fs::read_dir(&inbox) {
        for e in dir.flatten() {
            let n = e.file_name().to_string_lossy().into_owned();
            if n.ends_with(".tar") || n.ends_with(".tar.gz") || n.ends_with(".tgz") {
                found.push(n);
            }
        }
    }
    if found.is_empty() {
        Ok(RunReport { results: Vec::new(), problems: Vec::new() })
    } else {
        Err(RunError(format!(
            "this build's verifier is a stub (wip-image branch); {} bundle(s) not verified",
            found.len()
        )))
    }
}
