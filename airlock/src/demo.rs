//! `airlock demo`: the whole flow on built-in test material, inside a temporary directory.

use crate::output;
use airlock_verifier::run::{self, VerifyOptions, WriteMode};
use std::path::Path;

/// Prepares the demo in `prepare` (only writing it), or in a fresh temporary directory where it
/// is then verified and the verdicts, reasons and receipts are shown.
pub fn run(prepare: Option<&Path>) -> Result<u8, String> {
    if let Some(dir) = prepare {
        let layout = airlock_author::demo::prepare(dir)?;
        crate::outln!("demo media: {}", layout.media.display());
        crate::outln!("demo anchor: {}", layout.anchor.display());
        return Ok(0);
    }
    let tmp = std::env::temp_dir().join(format!(
        "airlock-demo-{}-{}",
        std::process::id(),
        airlock_formats::timestamp::Timestamp::now().unix()
    ));
    std::fs::create_dir_all(&tmp).map_err(|e| format!("cannot create {}: {e}", tmp.display()))?;
    let layout = airlock_author::demo::prepare(&tmp)?;
    crate::outln!("Airlock demo in {}", tmp.display());
    crate::outln!("  test keys (TEST ONLY) in {}", layout.keys.display());
    crate::outln!("  anchor: {}", layout.anchor.display());
    crate::outln!(
        "  media:  {} (inbox: a good bundle and a tampered one)\n",
        layout.media.display()
    );
    let state = tmp.join("state");
    let opts = VerifyOptions {
        media: layout.media.clone(),
        bundles: Vec::new(),
        anchor: Some(layout.anchor.clone()),
        anchor_sha256: None,
        state_dir: state.clone(),
        write: WriteMode::Write,
        image: None,
    };
    let progress = output::ConsoleProgress::new();
    let report = run::verify_media(&opts, &progress).map_err(|e| e.to_string())?;
    crate::console::out(format_args!("{}", output::human_report(&report)));
    crate::outln!(
        "\nReceipts are in {}, the evidence log in {}.",
        layout
            .media
            .join(airlock_formats::layout::media::RECEIPTS_DIR)
            .display(),
        layout
            .media
            .join(airlock_formats::layout::media::EVIDENCE_DIR)
            .display()
    );
    crate::outln!(
        "Check them with:\n  airlock receipt verify {}/receipts/<file> --key {}\n  airlock evidence verify {} --key {}",
        layout.media.display(),
        state.join(airlock_verifier::appliance_key::PUBLIC_FILE).display(),
        layout.media.display(),
        state.join(airlock_verifier::appliance_key::PUBLIC_FILE).display()
    );
    // The demo is expected to promote one bundle and reject the other: that is success.
    let expected = report.problems.is_empty()
        && report.results.len() == 2
        && report
            .results
            .iter()
            .filter(|r| r.verdict == airlock_verifier::verdict::Verdict::Promote)
            .count()
            == 1;
    Ok(if expected { 0 } else { 1 })
}

/// `airlock demo --governance`: in a fresh temporary directory, a trust root pinning the release
/// workflow, the HMAC secrets in the appliance's vault, and two releases: one run by the pinned
/// workflow (promoted, its runner shown) and one by another workflow (`runner-identity-mismatch`).
pub fn run_governed() -> Result<u8, String> {
    let tmp = std::env::temp_dir().join(format!(
        "airlock-governance-demo-{}-{}",
        std::process::id(),
        airlock_formats::timestamp::Timestamp::now().unix()
    ));
    std::fs::create_dir_all(&tmp).map_err(|e| format!("cannot create {}: {e}", tmp.display()))?;
    let d = airlock_author::demo::prepare_governed(&tmp)?;
    crate::outln!("Airlock release-governance demo in {}", tmp.display());
    crate::outln!(
        "  anchor (pins cavra/cavra and release.yml): {}",
        d.anchor.display()
    );
    crate::outln!(
        "  vault: {}/hmac-keys (TEST ONLY secrets)",
        d.state.display()
    );
    crate::outln!("  media: {}\n", d.media.display());
    let opts = VerifyOptions {
        media: d.media.clone(),
        bundles: Vec::new(),
        anchor: Some(d.anchor.clone()),
        anchor_sha256: None,
        state_dir: d.state.clone(),
        write: WriteMode::Write,
        image: None,
    };
    let progress = output::ConsoleProgress::new();
    let report = run::verify_media(&opts, &progress).map_err(|e| e.to_string())?;
    crate::console::out(format_args!("{}", output::human_report(&report)));
    let expected = report.problems.is_empty()
        && report.results.len() == 2
        && report.results.iter().any(|r| {
            r.verdict == airlock_verifier::verdict::Verdict::Promote && r.runner.is_some()
        })
        && report.results.iter().any(|r| {
            r.reasons
                .iter()
                .map(|x| x.code)
                .eq([airlock_formats::reason::Code::RunnerIdentityMismatch])
        });
    Ok(if expected { 0 } else { 1 })
}
