//! `media prepare`'s dry run (issue 13 item 4): before a stick is written, the verifier itself
//! runs, without writing anything, on a scratch copy of the stick as it will be (the stick's
//! current trust material and `inbox/`, stale bundles included, plus what is being added), against
//! the anchor the stick is prepared for. A bundle that will be rejected inside the air gap is
//! known here instead.

use super::media;
use airlock_formats::layout::media as layout;
use airlock_verifier::run::{self, RunReport, VerifyOptions, WriteMode};
use std::path::{Path, PathBuf};

/// A scratch directory removed when dropped.
struct Scratch(PathBuf);

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn copy_into(from: &Path, to: &Path) -> Result<(), String> {
    if let Some(p) = to.parent() {
        std::fs::create_dir_all(p).map_err(|e| format!("{}: {e}", p.display()))?;
    }
    std::fs::copy(from, to)
        .map(|_| ())
        .map_err(|e| format!("{}: {e}", from.display()))
}

/// Regular files directly in `dir` (none when it does not exist); links are not followed.
fn plain_files(dir: &Path) -> Result<Vec<(String, PathBuf)>, String> {
    let rd = match std::fs::read_dir(dir) {
        Ok(rd) => rd,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(format!("{}: {e}", dir.display())),
    };
    let mut out = Vec::new();
    for ent in rd {
        let ent = ent.map_err(|e| format!("{}: {e}", dir.display()))?;
        let is_file = ent.file_type().is_ok_and(|t| t.is_file());
        let name = ent.file_name().to_string_lossy().into_owned();
        if is_file && !name.starts_with('.') {
            out.push((name, ent.path()));
        }
    }
    Ok(out)
}

/// Runs the verifier (dry run, a fresh state) on `media` as [`media::prepare_media`] would leave
/// it, in a scratch directory under `scratch_parent`.
pub fn dry_run(
    scratch_parent: &Path,
    media_dir: &Path,
    anchor: &Path,
    bundles: &[PathBuf],
    roots: &[PathBuf],
    revocations: Option<&Path>,
) -> Result<RunReport, String> {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    let scratch =
        Scratch(scratch_parent.join(format!("airlock-prepare-{}-{nanos}", std::process::id())));
    let sim = scratch.0.join("media");
    let state = scratch.0.join("state");
    for d in [&sim, &state] {
        std::fs::create_dir_all(d).map_err(|e| format!("{}: {e}", d.display()))?;
    }
    // Governed bundles are judged with the HMAC secrets the connected side holds (the CAVRA_*
    // variables, as pack's self-check does); without them governance evidence cannot verify here.
    for (id, secret) in super::governance::secrets_from_env() {
        airlock_verifier::vault::install(&state, &id, &secret)?;
    }
    // What the stick already carries stays there: trust material and every bundle in inbox/.
    for (name, path) in plain_files(media_dir)? {
        if name == super::pack::files::BOOTSTRAP || name == super::pack::files::REVOCATIONS {
            copy_into(&path, &sim.join(&name))?;
        }
    }
    for sub in [layout::TRUST_ROOT_DIR, layout::INBOX_DIR] {
        for (name, path) in plain_files(&media_dir.join(sub))? {
            copy_into(&path, &sim.join(sub).join(name))?;
        }
    }
    media::prepare_media(&sim, anchor, bundles, roots, revocations)?;
    run::verify_media(
        &VerifyOptions {
            media: sim,
            bundles: Vec::new(),
            anchor: Some(anchor.to_path_buf()),
            anchor_sha256: None,
            state_dir: state,
            write: WriteMode::DryRun,
            image: None,
        },
        &airlock_verifier::bundle::NoProgress,
    )
    .map_err(|e| format!("dry run: {e}"))
}
