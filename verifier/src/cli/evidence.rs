//! `airlock evidence verify` and `airlock receipt verify`.

use crate::atomic::RealStorage;
use crate::evidence::{self, LogKind, EVIDENCE_DIR, MEDIA_LOG_FILE};
use crate::keys::{Key, KeyEntry, KeyMaterial};
use crate::media::{read_capped, MAX_TRUST_FILE};
use crate::receipt::{self, RECEIPTS_DIR};
use crate::timestamp::Timestamp;
use std::path::Path;

fn read_key(path: &Path) -> Result<(Vec<u8>, String, airlock_core::ed25519::PublicKey), String> {
    let bytes = read_capped(path, MAX_TRUST_FILE).map_err(|e| format!("{} {e}", path.display()))?;
    let entry: KeyEntry = crate::json::parse(&bytes)
        .map_err(|e| format!("{}: not a key entry: {e}", path.display()))?;
    let key = Key::from_entry(&entry)?;
    match key.material {
        KeyMaterial::Ed25519(pk) => Ok((bytes, entry.key_id.to_string(), pk)),
        KeyMaterial::Minisign { .. } => Err(format!(
            "{}: the appliance key must be an Ed25519 key",
            path.display()
        )),
    }
}

/// Checks a log (a media root's, or a log file) and every receipt beside it; writes the report
/// next to the log. Exit status 0 when everything verifies, 1 otherwise.
pub fn verify(media_or_log: &Path, key_path: &Path) -> Result<u8, String> {
    let (key_bytes, key_id, pk) = read_key(key_path)?;
    let (log_path, receipts_dir) = if media_or_log.is_dir() {
        (
            media_or_log.join(EVIDENCE_DIR).join(MEDIA_LOG_FILE),
            Some(media_or_log.join(RECEIPTS_DIR)),
        )
    } else {
        (media_or_log.to_owned(), None)
    };
    let kind =
        if receipts_dir.is_some() || log_path.file_name().is_some_and(|n| n == MEDIA_LOG_FILE) {
            LogKind::Media
        } else {
            LogKind::Appliance
        };
    let bytes =
        evidence::read_log(&log_path).map_err(|e| format!("{}: {e}", log_path.display()))?;
    let report = evidence::verify_log(&bytes, &key_id, &pk, kind);
    let mut problems = Vec::new();
    if let Some(dir) = receipts_dir.as_ref().filter(|d| d.is_dir()) {
        let mut names: Vec<_> = std::fs::read_dir(dir)
            .map_err(|e| format!("{}: {e}", dir.display()))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.to_str().is_some_and(|s| s.ends_with(".receipt.json")))
            .collect();
        names.sort();
        for p in names {
            // A receipt that cannot be read is a problem, never skipped (issue 11 #4).
            let rb = match read_capped(&p, MAX_TRUST_FILE) {
                Ok(rb) => rb,
                Err(e) => {
                    problems.push(format!("{}: the receipt {e}", p.display()));
                    continue;
                }
            };
            match receipt::verify_receipt(&rb, &key_bytes) {
                Ok(payload) => {
                    let checked = evidence::check_against_receipt(&report, &payload, &rb)
                        .and_then(|()| receipt::verify_listing(&rb, &payload, dir));
                    if let Err(e) = checked {
                        problems.push(format!("{}: {e}", p.display()));
                    }
                }
                Err(e) if e.contains("key") && !e.contains("does not verify") => {} // another appliance's receipt
                Err(e) => problems.push(format!("{}: {e}", p.display())),
            }
        }
    }
    let doc = evidence::report_json(
        &report,
        &log_path.display().to_string(),
        &bytes,
        Timestamp::now(),
    );
    let dir = log_path.parent().unwrap_or(Path::new("."));
    let written = evidence::write_report(&RealStorage, dir, &doc)
        .map_err(|e| format!("cannot write the report: {e}"))?;
    println!(
        "evidence log {}: {} ({} records verified)",
        log_path.display(),
        report.status(),
        report.records_verified
    );
    for issue in report
        .chain_breaks
        .iter()
        .chain(&report.bad_signatures)
        .chain(&report.out_of_order)
    {
        println!("  line {}: {}", issue.line, issue.message);
    }
    for gap in &report.seq_gaps {
        println!(
            "  line {}: seq {} follows {} (records of other sticks)",
            gap.line, gap.seq, gap.after_seq
        );
    }
    if let Some(t) = &report.torn_tail {
        println!(
            "  torn tail of {} bytes at offset {} ignored",
            t.bytes, t.offset
        );
    }
    for p in &problems {
        println!("  {p}");
    }
    println!("report: {}", dir.join(written).display());
    Ok(if report.is_ok() && problems.is_empty() {
        0
    } else {
        1
    })
}

/// Checks a receipt's signature and prints its payload. Exit status 0 when it verifies.
pub fn verify_receipt(path: &Path, key_path: &Path) -> Result<u8, String> {
    let key_bytes =
        read_capped(key_path, MAX_TRUST_FILE).map_err(|e| format!("{} {e}", key_path.display()))?;
    let bytes = read_capped(path, MAX_TRUST_FILE).map_err(|e| format!("{} {e}", path.display()))?;
    let receipt_dir = path.parent().unwrap_or(Path::new("."));
    let checked = receipt::verify_receipt(&bytes, &key_bytes)
        .and_then(|p| receipt::verify_listing(&bytes, &p, receipt_dir).map(|()| p));
    match checked {
        Ok(payload) => {
            println!(
                "receipt {} verifies: {} {}",
                path.display(),
                payload.verdict,
                payload.bundle.file
            );
            println!(
                "{}",
                serde_json::to_string_pretty(&payload).unwrap_or_default()
            );
            Ok(0)
        }
        Err(e) => {
            println!("receipt {} does NOT verify: {e}", path.display());
            Ok(1)
        }
    }
}
