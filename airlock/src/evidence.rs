//! `airlock evidence verify` and `airlock receipt verify`.

use airlock_core::digest::sha256;
use airlock_formats::keys::{hex, Key, KeyEntry, KeyMaterial};
use airlock_formats::timestamp::Timestamp;
use airlock_verifier::atomic::RealStorage;
use airlock_verifier::escape::text;
use airlock_verifier::evidence::{self, LogKind, EVIDENCE_DIR, MEDIA_LOG_FILE};
use airlock_verifier::media::{read_capped, MAX_TRUST_FILE};
use airlock_verifier::receipt::{self, RECEIPTS_DIR};
use std::path::Path;

fn read_key(path: &Path) -> Result<(Vec<u8>, String, airlock_core::ed25519::PublicKey), String> {
    let bytes = read_capped(path, MAX_TRUST_FILE).map_err(|e| format!("{} {e}", path.display()))?;
    let entry: KeyEntry = airlock_formats::json::parse(&bytes)
        .map_err(|e| format!("{}: not a key entry: {e}", path.display()))?;
    let key = Key::from_entry(&entry)?;
    match key.material {
        KeyMaterial::Ed25519(pk) => Ok((bytes, entry.key_id.to_string(), pk)),
        KeyMaterial::Minisign { .. } | KeyMaterial::Hmac { .. } | KeyMaterial::Sigstore { .. } => {
            Err(format!(
                "{}: the appliance key must be an Ed25519 key",
                path.display()
            ))
        }
    }
}

/// Which key an appliance or media log is checked against.
pub enum Signer<'a> {
    /// `--key FILE`: one appliance key entry.
    Key(&'a Path),
    /// `--appliances FILE`: the site's enrolled appliances; the log must be signed by one.
    Enrolled(&'a Path),
}

/// How many of the key ids in a log not enrolled are named in a message.
const NAMED_SIGNERS: usize = 4;

/// The enrolled appliance whose key id the log's first record by an enrolled key names, and the
/// first few distinct key ids its complete lines name (for the message when none is enrolled);
/// the records themselves are verified by [`evidence::verify_log`].
fn log_signer<'a>(bytes: &[u8], enrolled: &'a [KeyEntry]) -> (Option<&'a KeyEntry>, Vec<String>) {
    let mut named: Vec<String> = Vec::new();
    for line in bytes.split(|&b| b == b'\n') {
        let Some(id) = serde_json::from_slice::<serde_json::Value>(line)
            .ok()
            .and_then(|v| v.get("key_id")?.as_str().map(str::to_owned))
        else {
            continue;
        };
        if let Some(e) = enrolled.iter().find(|e| e.key_id.as_str() == id) {
            return (Some(e), named);
        }
        if named.len() < NAMED_SIGNERS && !named.contains(&id) {
            named.push(id);
        }
    }
    (None, named)
}

/// An operator's path with its links resolved (files under it are then opened without following
/// links, the verifier's `nofollow` module).
fn resolved(p: &Path) -> std::path::PathBuf {
    std::fs::canonicalize(p).unwrap_or_else(|_| p.to_owned())
}

/// Checks a log (a media root's, or a log file) and every receipt beside it, and prints the
/// result; writes the report only to `out` (never into the media or state it checks). With
/// `state` (the appliance's state directory) a media log is also checked against the appliance's
/// own, authoritative log (`STATE/evidence.jsonl`): every media record must be the identical line
/// there, and every receipt's record must be there too, so a stick that outlived a rollback of
/// the appliance's state (its log restored from an older copy) is caught. Exit status 0 when
/// everything verifies, 1 otherwise.
pub fn verify(
    media_or_log: &Path,
    signer: Signer<'_>,
    state: Option<&Path>,
    out: Option<&Path>,
) -> Result<u8, String> {
    let media_or_log = &resolved(media_or_log);
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
    // The key the log is checked against: the one given, or the enrolled appliance that signed it.
    let (key_bytes, key_id, pk, enrolled) = match signer {
        Signer::Key(path) => {
            let (b, id, pk) = read_key(&resolved(path))?;
            (b, id, pk, None)
        }
        Signer::Enrolled(list_path) => {
            let list = read_capped(list_path, MAX_TRUST_FILE)
                .map_err(|e| format!("{} {e}", list_path.display()))?;
            let list = airlock_verifier::appliances::parse(&list)
                .map_err(|e| format!("{}: {e}", list_path.display()))?;
            let (signer, others) = log_signer(&bytes, &list);
            let unsigned = signer.is_none() && others.is_empty();
            let Some(entry) = signer.or_else(|| list.first().filter(|_| unsigned)) else {
                crate::outln!(
                    "evidence log {} does NOT verify: it is signed by {}, which is not an appliance enrolled in {}: it may come from any Airlock install (enrol the appliance's key entry out of band)",
                    log_path.display(),
                    text(&others.join(", ")),
                    list_path.display()
                );
                return Ok(1);
            };
            let key_bytes = airlock_formats::document::dsse::to_pretty_json(entry);
            let pk = match Key::from_entry(entry)?.material {
                KeyMaterial::Ed25519(pk) => pk,
                _ => return Err(format!("{}: not an Ed25519 key", entry.key_id)),
            };
            crate::outln!(
                "appliance {}: enrolled in {}{}",
                entry.key_id,
                list_path.display(),
                if unsigned {
                    " (the log holds no record)"
                } else {
                    ""
                }
            );
            (key_bytes, entry.key_id.to_string(), pk, Some(list))
        }
    };
    let report = evidence::verify_log(&bytes, &key_id, &pk, kind);
    let mut problems = Vec::new();
    // The appliance's own log, when a media log is checked against it.
    let appliance = match state.filter(|_| kind == LogKind::Media) {
        Some(dir) => {
            let path = resolved(dir).join(airlock_verifier::state::EVIDENCE_LOG_FILE);
            let appl_bytes =
                evidence::read_log(&path).map_err(|e| format!("{}: {e}", path.display()))?;
            let appl = evidence::verify_log(&appl_bytes, &key_id, &pk, LogKind::Appliance);
            crate::outln!(
                "appliance log {}: {} ({} records verified)",
                path.display(),
                appl.status(),
                appl.records_verified
            );
            if !appl.is_ok() {
                problems.push(format!(
                    "the appliance's log {} does not verify (check it alone with airlock evidence verify {} --key FILE)",
                    path.display(),
                    path.display()
                ));
            }
            if let Err(found) = evidence::check_media_against_appliance(&report, &appl) {
                problems.extend(found);
            }
            Some((appl, appl_bytes))
        }
        None => None,
    };
    // Receipts whose record a power cut cut on the stick (accepted against the appliance's log).
    let mut torn_receipts = Vec::new();
    // Every receipt found (by SHA-256), for "every record has its receipt".
    let mut receipts_found = std::collections::BTreeSet::new();
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
            receipts_found.insert(hex(&sha256(&rb)));
            // Against the site's list, a receipt by a key not enrolled says so (never "bad
            // signature"); one by another enrolled appliance is not in this log.
            let verified = match &enrolled {
                Some(list) => airlock_verifier::appliances::verify_receipt(&rb, list).and_then(
                    |(payload, entry)| {
                        if entry.key_id.as_str() == key_id {
                            Ok(payload)
                        } else {
                            Err(airlock_verifier::receipt::ReceiptError::NotEnrolled(format!(
                                "signed by the enrolled appliance {}, not by {key_id} whose log this is",
                                entry.key_id
                            )))
                        }
                    },
                ),
                None => receipt::verify_receipt(&rb, &key_bytes),
            };
            match verified {
                Ok(payload) => {
                    let seq = payload.evidence.seq;
                    let in_media = evidence::check_against_receipt(&report, &payload, &rb)
                        .or_else(|e| match &appliance {
                            // Its record was cut by a power cut, checked in the appliance's log.
                            Some((appl, appl_bytes))
                                if report.record(seq).is_none()
                                    && evidence::record_lost_to_torn_line(
                                        &report, &bytes, appl, appl_bytes, seq,
                                    ) =>
                            {
                                torn_receipts.push(format!(
                                    "{}: its record {seq} was cut on the stick by a power cut (a repaired torn line is the start of the appliance's record {seq}); checked against the appliance's log",
                                    p.display()
                                ));
                                Ok(())
                            }
                            None if !report.repaired_torn_lines.is_empty() => Err(format!(
                                "{e} (if it was cut by a power cut, a repaired torn line, check the stick with --state DIR)"
                            )),
                            _ => Err(e),
                        });
                    let checked =
                        in_media.and_then(|()| Ok(receipt::verify_listing(&rb, &payload, dir)?));
                    if let Err(e) = checked {
                        problems.push(format!("{}: {e}", p.display()));
                    }
                    if let Some((appl, _)) = &appliance {
                        if let Err(e) = evidence::check_against_receipt(appl, &payload, &rb) {
                            problems.push(format!("{}: in the appliance's log: {e}", p.display()));
                        }
                    }
                    let name = p.file_name().and_then(|n| n.to_str()).unwrap_or_default();
                    if let Err(e) = evidence::check_receipt_name(name, &payload) {
                        problems.push(format!("{}: {e}", p.display()));
                    }
                }
                // A receipt by another key is not this appliance's: it cannot be verified.
                Err(e) => problems.push(format!("{}: {e}", p.display())),
            }
        }
    }
    if receipts_dir.is_some() {
        problems.extend(evidence::records_without_receipt(&report, &receipts_found));
    }
    let doc = evidence::report_json(
        &report,
        &log_path.display().to_string(),
        &bytes,
        Timestamp::now(),
    );
    crate::outln!(
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
        crate::outln!("  line {}: {}", issue.line, text(&issue.message));
    }
    for gap in &report.seq_gaps {
        crate::outln!(
            "  line {}: seq {} follows {} (records of other sticks)",
            gap.line,
            gap.seq,
            gap.after_seq
        );
    }
    for issue in report
        .torn_lines
        .iter()
        .chain(&report.unmatched_acknowledgments)
        .chain(&report.foreign_records)
    {
        crate::outln!("  line {}: {}", issue.line, text(&issue.message));
    }
    for r in &report.repaired_torn_lines {
        crate::outln!(
            "  line {}: a torn line of {} bytes (a power cut mid-append), acknowledged by the signed record seq {} after it (sha256 {}), accepted",
            r.line,
            r.bytes,
            r.acknowledged_by,
            r.sha256
        );
    }
    if let Some(t) = &report.torn_tail {
        crate::outln!(
            "  torn tail: a final line of {} bytes without its newline at offset {} (a power cut mid-append), ignored",
            t.bytes,
            t.offset
        );
    }
    for t in &torn_receipts {
        crate::outln!("  {}", text(t));
    }
    for p in &problems {
        crate::outln!("  {}", text(p));
    }
    // The result is printed first, so an unwritable --out still shows it.
    if let Some(out) = out {
        write_report(out, &doc).map_err(|e| format!("cannot write the report: {e}"))?;
        crate::outln!("report: {}", out.display());
    }
    Ok(if report.is_ok() && problems.is_empty() {
        0
    } else {
        1
    })
}

/// Checks a receipt's signature and prints its payload. Exit status 0 when it verifies.
pub fn verify_receipt(
    path: &Path,
    key_path: &Path,
    image_sha256: Option<&str>,
) -> Result<u8, String> {
    let (path, key_path) = (&resolved(path), &resolved(key_path));
    let key_bytes =
        read_capped(key_path, MAX_TRUST_FILE).map_err(|e| format!("{} {e}", key_path.display()))?;
    let bytes = read_capped(path, MAX_TRUST_FILE).map_err(|e| format!("{} {e}", path.display()))?;
    let receipt_dir = path.parent().unwrap_or(Path::new("."));
    let checked = receipt::verify_receipt(&bytes, &key_bytes)
        .and_then(|p| receipt::verify_listing(&bytes, &p, receipt_dir).map(|()| p))
        .and_then(|p| match image_sha256 {
            Some(want) => p.require_image(want).map(|()| p),
            None => Ok(p),
        });
    match checked {
        Ok(payload) => {
            crate::outln!(
                "receipt {} verifies: {} {}",
                path.display(),
                payload.verdict,
                text(&payload.bundle.file)
            );
            crate::outln!(
                "{}",
                serde_json::to_string_pretty(&payload).unwrap_or_default()
            );
            Ok(0)
        }
        Err(e) => {
            crate::outln!(
                "receipt {} does NOT verify: {}",
                path.display(),
                text(&e.to_string())
            );
            Ok(1)
        }
    }
}

/// Where an auditor's HMAC secrets come from.
pub struct GovernanceKeys<'a> {
    /// A state directory whose vault to use.
    pub state: Option<&'a Path>,
    /// `--hmac-key ID=FILE`, repeatable.
    pub hmac_keys: &'a [String],
    /// A trust root to judge keys by (roles, windows, `secret_sha256`); without one the secrets
    /// given are taken as they are.
    pub trust_root: Option<&'a Path>,
    /// Where to write the report (default: beside the log, when none is there yet).
    pub out: Option<&'a Path>,
}

/// Whether `path` names a governance evidence log (or a directory holding one).
pub fn governance_log(path: &Path) -> Option<std::path::PathBuf> {
    use airlock_formats::document::governance::EVIDENCE_FILE;
    let name = "release-governance-evidence.jsonl";
    if path.is_dir() {
        [path.join(EVIDENCE_FILE), path.join(name)]
            .into_iter()
            .find(|p| p.is_file())
    } else {
        path.file_name()
            .is_some_and(|n| n == name)
            .then(|| path.to_owned())
    }
}

/// Verifies a release-governance evidence log (formats §8.5) and writes its
/// `release-governance-evidence-verification.json` (§8.7) beside the log (the first free name:
/// `….json`, `….2.json`, …; a published report already there is compared, never replaced) or to
/// `--out`. Exit status 0 when the log verifies (and agrees with a published report), 1 otherwise.
pub fn verify_governance(log_path: &Path, keys: &GovernanceKeys<'_>) -> Result<u8, String> {
    use airlock_formats::document::governance::{Report, REPORT_NAME};
    use airlock_formats::keys::KeyId;
    use airlock_verifier::trust::governance::{verify_log, Keyring};
    use airlock_verifier::vault::{read_secret, Vault};
    let mut vault = keys.state.map(Vault::load).unwrap_or_default();
    for spec in keys.hmac_keys {
        let (id, file) = spec
            .split_once('=')
            .ok_or_else(|| format!("--hmac-key {spec:?} is not ID=FILE"))?;
        vault.insert(KeyId::new(id)?, read_secret(Path::new(file))?);
    }
    let bytes = read_capped(
        log_path,
        airlock_verifier::bundle::Limits::default().max_metadata_bytes,
    )
    .map_err(|e| format!("{} {e}", log_path.display()))?;
    let now = Timestamp::now();
    let trusted = match keys.trust_root {
        None => None,
        Some(p) => {
            let anchor =
                read_capped(p, MAX_TRUST_FILE).map_err(|e| format!("{} {e}", p.display()))?;
            let r = airlock_verifier::trust::root::establish(
                &airlock_verifier::trust::root::RootInputs {
                    anchor: &anchor,
                    candidates: &[],
                    highest_accepted: 0,
                    now,
                },
            )
            .map_err(|r| {
                format!(
                    "{}: {}",
                    p.display(),
                    r.iter()
                        .map(|x| x.message.as_str())
                        .collect::<Vec<_>>()
                        .join("; ")
                )
            })?;
            Some(r)
        }
    };
    let revoked = airlock_verifier::trust::signatures::RevokedKeys::default();
    let keyring = match &trusted {
        Some(root) => Keyring::Root {
            root,
            revoked: &revoked,
            vault: &vault,
        },
        None => Keyring::Secrets(&vault),
    };
    let check = verify_log(&bytes, &keyring, now);
    let report = check.report(now);
    let doc = airlock_formats::document::dsse::to_pretty_json(&report);
    crate::outln!(
        "governance evidence log {}: chain {}, signatures {} ({} records, keys {})",
        log_path.display(),
        report.chain,
        report.signatures,
        report.records,
        if report.key_ids.is_empty() {
            "-".to_owned()
        } else {
            report.key_ids.join(", ")
        }
    );
    for r in &check.reasons {
        crate::outln!("  {}: {}", r.code, r.message);
    }
    let dir = log_path.parent().unwrap_or(Path::new("."));
    let beside = dir.join(REPORT_NAME);
    let mut agrees = true;
    if keys.out.is_none() && beside.exists() {
        // The published report (a bundle's .cavra/go-daemon/ holds one): compared, never replaced.
        let published = read_capped(&beside, MAX_TRUST_FILE)
            .ok()
            .and_then(|b| Report::parse(&b).ok());
        agrees = published.is_some_and(|p| {
            Report {
                verified_at: p.verified_at,
                ..report.clone()
            } == p
        });
        crate::outln!(
            "published report {}: {}",
            beside.display(),
            if agrees {
                "agrees with this verification"
            } else {
                "DISAGREES with this verification"
            }
        );
    }
    let written = match keys.out {
        Some(out) => {
            write_report(out, &doc)?;
            out.to_owned()
        }
        None => {
            let stem = REPORT_NAME.trim_end_matches(".json");
            let names = std::iter::once(REPORT_NAME.to_owned())
                .chain((2u64..).map(move |n| format!("{stem}.{n}.json")));
            let name = airlock_verifier::atomic::write_first_free(
                &RealStorage,
                dir,
                names,
                &doc,
                airlock_verifier::atomic::MODE_PUBLIC,
            )
            .map_err(|e| format!("cannot write the report: {e}"))?;
            dir.join(name)
        }
    };
    crate::outln!("report: {}", written.display());
    Ok(if check.ok() && agrees { 0 } else { 1 })
}

/// `airlock receipt verify RECEIPT --appliances FILE`: as [`verify_receipt`], against the site's
/// enrolled appliances ([`airlock_verifier::appliances`]); exit 1 when the receipt does not verify.
pub fn verify_receipt_enrolled(
    path: &Path,
    list_path: &Path,
    image_sha256: Option<&str>,
) -> Result<u8, String> {
    let list = read_capped(list_path, MAX_TRUST_FILE)
        .map_err(|e| format!("{} {e}", list_path.display()))?;
    let enrolled = airlock_verifier::appliances::parse(&list)
        .map_err(|e| format!("{}: {e}", list_path.display()))?;
    let bytes = read_capped(path, MAX_TRUST_FILE).map_err(|e| format!("{} {e}", path.display()))?;
    let checked =
        airlock_verifier::appliances::verify_receipt(&bytes, &enrolled).and_then(|(p, _)| {
            match image_sha256 {
                Some(want) => p.require_image(want).map(|()| p),
                None => Ok(p),
            }
        });
    match checked {
        Ok(payload) => {
            crate::outln!(
                "receipt {} verifies: {} {} (appliance {}, enrolled in {})",
                path.display(),
                payload.verdict,
                payload.bundle.file,
                payload.appliance.key_id,
                list_path.display()
            );
            crate::outln!(
                "{}",
                serde_json::to_string_pretty(&payload).unwrap_or_default()
            );
            Ok(0)
        }
        Err(e) => {
            crate::outln!("receipt {} does NOT verify: {e}", path.display());
            Ok(1)
        }
    }
}

/// Writes a report where `--out` says, replacing an earlier one (the one write primitive).
fn write_report(out: &Path, doc: &[u8]) -> Result<(), String> {
    let name = out
        .file_name()
        .and_then(|n| n.to_str())
        .ok_or_else(|| format!("{}: not a UTF-8 file path", out.display()))?;
    let dir = match out.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    airlock_verifier::atomic::replace(
        &airlock_verifier::atomic::RealStorage,
        dir,
        name,
        doc,
        0o644,
    )
    .map(drop)
    .map_err(|e| e.to_string())
}
