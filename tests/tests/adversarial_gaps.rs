//! Cases of the adversarial catalogue (`notes/adversarial.md`) that had no test on real bytes
//! (docs/SECURITY.md, "The adversarial catalogue and its tests"): each test names its case and the
//! check it pins, and fails when that check is removed.

mod support;
mod write_support;

use airlock_verifier::bundle::NoProgress;
use airlock_verifier::evidence::{self, LogKind};
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::Duration;
use support::*;
use write_support::{FaultyStorage, Op, EIO, ENOSPC};

const LIST: &str = "revocations.json";
const BOOT: &str = "offline-trust-root-bootstrap.json";

/// Runs `f` on another thread and fails (instead of hanging the test run) when it does not
/// return within `secs` seconds.
fn within<T: Send + 'static>(secs: u64, what: &str, f: impl FnOnce() -> T + Send + 'static) -> T {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(f());
    });
    rx.recv_timeout(Duration::from_secs(secs))
        .unwrap_or_else(|_| panic!("{what}: still blocked after {secs} s (read, not refused)"))
}

fn mkfifo(p: &Path) {
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    let st = std::process::Command::new("mkfifo")
        .arg(p)
        .status()
        .unwrap();
    assert!(st.success(), "mkfifo {}", p.display());
}

#[track_caller]
fn assert_reason_message(r: &BundleResult, code: &str, needle: &str) {
    assert!(
        r.reasons
            .iter()
            .any(|x| x.code.as_str() == code && x.message.contains(needle)),
        "{}: expected {code} with {needle:?} among {:#?}",
        r.bundle,
        r.reasons
    );
}

// --- A2: older AND expired revocation list ------------------------------------------------------

/// A2 (older *and* expired, for revocation lists; GT `TestExpiredTimestampVersionRollback`):
/// after list v2 was accepted, a stick carrying an expired list v1 is reported as
/// `revocations-rollback` AND `revocations-expired` — not only as expired.
///
/// Pins: the rollback check of `trust::revocations::establish` (FORMATS §4.3 step 6) accumulating
/// with the expiry check (step 7) rather than one of them returning early; without the rollback
/// check only `revocations-expired` is reported.
#[test]
fn a2_older_and_expired_revocation_list_is_reported_as_rollback_too() {
    let kit = Kit::new();
    kit.put_media(LIST, &kit.revocations(2, |_| {}));
    let b = kit.bundle("a.tar", &Spec::new("v0.1.0"));
    assert_promoted(result(&kit.run(), &b));
    assert_eq!(kit.state_data().revocations_version, 2);

    let mut old = revs::empty(1, days(-40));
    old.expires = days(-1);
    kit.put_media(
        LIST,
        &sign_revocations_raw(&serde_json::to_value(&old).unwrap(), &[&kit.keys.root_a]),
    );
    let rep = kit.run();
    let r = result(&rep, &b);
    assert_rejected_with(r, &["revocations-rollback", "revocations-expired"]);
    assert_eq!(kit.state_data().revocations_version, 2);
}

// --- A5: fast-forward of a revocation list ------------------------------------------------------

/// A5 (fast-forward, for revocation lists; TC `test_*_fast_forward_recovery`): a list validly
/// signed by the revocation role but with version 2^63 or 2^64 − 1 is `revocations-invalid`, is
/// not persisted, and a genuine v2 still works afterwards.
///
/// Pins: the `version` range check of `Revocations::parse` (1 … 2^63 − 1, FORMATS §4.1, §9).
/// Without it the inflated list is accepted and recorded, and every later genuine list is a
/// rollback.
#[test]
fn a5_fast_forward_revocation_list_version_is_refused_and_not_persisted() {
    let kit = Kit::new();
    let b = kit.bundle("a.tar", &Spec::new("v0.1.0"));
    for v in [1u64 << 63, u64::MAX] {
        kit.put_media(LIST, &kit.revocations(v, |_| {}));
        let rep = kit.run();
        let r = result(&rep, &b);
        assert_rejected_with(r, &["revocations-invalid"]);
        assert_eq!(kit.state_data().revocations_version, 0, "version {v}");
    }
    kit.put_media(LIST, &kit.revocations(2, |_| {}));
    assert_promoted(result(&kit.run(), &b));
    assert_eq!(kit.state_data().revocations_version, 2);
}

// --- A6: endless data, FIFOs and devices as trust material --------------------------------------

/// A6 (endless data: a FIFO or device node where trust material is read): a FIFO at
/// `MEDIA/offline-trust-root-bootstrap.json` or `MEDIA/revocations.json` is refused at once with
/// `trust-root-invalid` / `revocations-invalid` ("is not a regular file"), the run is not blocked
/// waiting for a writer.
///
/// Pins: the regular-file check of `media::read_capped` as used by `media::read_trust`
/// (FORMATS §3.3). Without it, opening the FIFO blocks forever and the test times out.
#[test]
fn a6_fifo_as_media_trust_file_is_refused_not_waited_on() {
    for (rel, code) in [(BOOT, "trust-root-invalid"), (LIST, "revocations-invalid")] {
        let kit = Kit::new();
        let b = kit.bundle("a.tar", &Spec::new("v0.1.0"));
        mkfifo(&kit.media.join(rel));
        let opts = kit.opts();
        let rep = within(60, rel, move || {
            airlock_verifier::run::verify_media(&opts, &NoProgress).unwrap()
        });
        let r = result(&rep, &b);
        assert_rejected_with(r, &[code]);
        assert_reason_message(r, code, &format!("media:{rel} is not a regular file"));
    }
}

/// A6 (multi-GB trust material; GT `TestMaxMetadataLengths`): a `MEDIA/trust-root/2.json` of
/// 1 MiB + 1 byte is refused by its size before it is read (`trust-root-invalid`, "media:… is
/// 1048577 bytes, more than the 1048576-byte limit").
///
/// Pins: the size check before reading in `media::read_capped` (`MAX_TRUST_FILE`, FORMATS §9).
/// Without it the message changes (the file is read, and only a later cap catches it).
#[test]
fn a6_oversized_media_trust_file_is_refused_by_its_size() {
    let kit = Kit::new();
    let b = kit.bundle("a.tar", &Spec::new("v0.1.0"));
    let big = kit.media.join("trust-root/2.json");
    std::fs::create_dir_all(big.parent().unwrap()).unwrap();
    let f = std::fs::File::create(&big).unwrap();
    f.set_len((1 << 20) + 1).unwrap();
    drop(f);
    let rep = kit.run();
    let r = result(&rep, &b);
    assert_rejected_with(r, &["trust-root-invalid"]);
    assert_reason_message(
        r,
        "trust-root-invalid",
        "media:trust-root/2.json is 1048577 bytes, more than the 1048576-byte limit",
    );
    assert_eq!(kit.state_data().trust_root_version, 1);
}

/// A6 for the anchor: `--anchor` naming a FIFO or a character device (`/dev/zero`) stops the run
/// with exit 2 ("no usable anchor … is not a regular file") at once, writing nothing.
///
/// Pins: the regular-file check of `media::read_capped` on the anchor path (FORMATS §3.4). Without
/// it the FIFO blocks the run forever (the test times out).
#[test]
fn a6_fifo_or_device_as_anchor_is_exit_2_not_a_hang() {
    let kit = Kit::new();
    kit.bundle("a.tar", &Spec::new("v0.1.0"));
    let fifo = kit.tmp.path().join("anchor-fifo.json");
    mkfifo(&fifo);
    let before = tree(&kit.media);
    for anchor in [fifo, PathBuf::from("/dev/zero")] {
        let mut opts = kit.opts();
        opts.anchor = Some(anchor.clone());
        let what = anchor.display().to_string();
        let e = within(60, &what, move || {
            airlock_verifier::run::verify_media(&opts, &NoProgress).unwrap_err()
        });
        assert!(
            e.0.contains("no usable anchor") && e.0.contains("is not a regular file"),
            "{what}: {e}"
        );
    }
    assert_eq!(tree(&kit.media), before, "nothing written to the media");
    assert!(!kit.state.exists(), "no state created");
}

// --- D55: the media is synced at the end of the run ---------------------------------------------

/// D55 (vfat has no journal: "then sync the file system"): after the last receipt and log line,
/// the run calls `syncfs` on the media exactly once, as its last write-side operation; a failing
/// `syncfs` (EIO) is a run problem (exit 2), the verdict still shown.
///
/// Pins: `Recorder::finish` (FORMATS §6.5 step 6) and `run::verify_media_with` calling it and
/// reporting its error. Without the call the operation log has no `SyncFs`; with the error
/// ignored the second run exits 0.
#[test]
fn d55_media_is_synced_once_at_the_end_and_a_failed_sync_is_exit_2() {
    let kit = Kit::new();
    let b = kit.bundle("a.tar", &Spec::new("v0.1.0"));
    let s = FaultyStorage::new();
    let rep = airlock_verifier::run::verify_media_with(&kit.opts(), &NoProgress, &s).unwrap();
    assert_eq!(rep.exit_code(), 0, "{rep:#?}");
    assert_promoted(result(&rep, &b));
    assert_eq!(s.count(Op::SyncFs), 1, "{:?}", s.log());
    assert_eq!(s.log().last(), Some(&Op::SyncFs), "{:?}", s.log());

    let kit = Kit::new();
    let b = kit.bundle("a.tar", &Spec::new("v0.1.0"));
    let s = FaultyStorage::fail_nth(Op::SyncFs, 1, EIO);
    let rep = airlock_verifier::run::verify_media_with(&kit.opts(), &NoProgress, &s).unwrap();
    assert_eq!(rep.exit_code(), 2, "{rep:#?}");
    assert!(
        rep.problems
            .iter()
            .any(|p| p.contains("could not be synced")),
        "{:?}",
        rep.problems
    );
    assert_eq!(result(&rep, &b).verdict, Verdict::Promote);
}

// --- D56 / D59: fsync failures and a full disk during a whole run --------------------------------

/// Every `.airlock-tmp-` file under `dir`.
fn temp_files(dir: &Path) -> Vec<String> {
    tree(dir)
        .into_keys()
        .filter(|k| k.rsplit('/').next().unwrap().starts_with(".airlock-tmp-"))
        .collect()
}

/// Receipt files on the media (MEDIA-relative).
fn receipt_files(kit: &Kit) -> Vec<String> {
    tree(&kit.media.join("receipts"))
        .into_keys()
        .filter(|k| k.ends_with(".receipt.json"))
        .map(|k| format!("receipts/{k}"))
        .collect()
}

/// A kit whose appliance has run once (state, appliance key, published key exist), with two
/// bundles of different packages in the inbox.
fn used_kit() -> (Kit, String, String) {
    let kit = Kit::new();
    assert_eq!(kit.run().exit_code(), 0);
    let a = kit.bundle("a.tar", &Spec::new("v0.1.0"));
    let b = kit.bundle("b.tar", &Spec::new("v0.1.0").package("other-runtime"));
    (kit, a, b)
}

/// The appliance's own log, verified with its key.
fn appliance_log(kit: &Kit) -> evidence::LogReport {
    let key = airlock_verifier::appliance_key::ApplianceKey::load(&kit.state).unwrap();
    let bytes = std::fs::read(kit.state.join("evidence.jsonl")).unwrap_or_default();
    evidence::verify_log(
        &bytes,
        key.key_id().as_str(),
        key.public(),
        LogKind::Appliance,
    )
}

/// The checks after a run in which one write or fsync failed.
fn check_failed_run(kit: &Kit, rep: &RunReport, bundles: &[&str], what: &str) {
    // Fail and report: exit 2, never retried into a success.
    assert_eq!(rep.exit_code(), 2, "{what}: {rep:#?}");
    // The verdicts are still shown.
    for b in bundles {
        assert_eq!(result(rep, b).verdict, Verdict::Promote, "{what}");
    }
    // No partial files: no temp file left, every receipt on the media whole and verifying.
    assert!(
        temp_files(&kit.media).is_empty(),
        "{what}: {:?}",
        temp_files(&kit.media)
    );
    assert!(
        temp_files(&kit.state).is_empty(),
        "{what}: {:?}",
        temp_files(&kit.state)
    );
    let on_media = receipt_files(kit);
    for rel in &on_media {
        receipt(kit, rel);
    }
    // A signed promote receipt never exists for a decision the state did not record (issue 11
    // #1: the state is written first, the media last).
    let st = kit.state_data();
    for rel in &on_media {
        let r = receipt(kit, rel);
        if r.verdict == Verdict::Promote {
            let pkg = r.package.clone().unwrap_or_default();
            assert_eq!(
                st.packages.get(&pkg).map(|p| p.version.clone()),
                r.version,
                "{what}: promote receipt {rel} for a decision the state did not record"
            );
        }
    }
}

/// D56 (fsync fails with EIO or ENOSPC; wiki.postgresql.org Fsync_Errors) and D60 (inject at each
/// fsync) at the level of a whole run: for every fsync of a two-bundle run, failing it (EIO, then
/// ENOSPC) ends in exit 2 with the verdicts still shown, no temp or partial receipt anywhere, and
/// no promote receipt for a decision the state did not record (issue 11 #1).
///
/// Pins: `Recorder::record` turning each failed fsync (receipt, logs, state) into a run problem
/// (FORMATS §6.5: fatal, never retried, exit 2). If any fsync error is ignored or retried into
/// success, some iteration exits 0 or 1.
#[test]
fn d56_every_failed_fsync_in_a_run_is_exit_2_with_verdicts_and_no_partial_files() {
    let clean = {
        let (kit, _, _) = used_kit();
        let s = FaultyStorage::new();
        let rep = airlock_verifier::run::verify_media_with(&kit.opts(), &NoProgress, &s).unwrap();
        assert_eq!(rep.exit_code(), 0, "{rep:#?}");
        s.count(Op::Sync)
    };
    assert!(
        clean >= 6,
        "receipt, two logs and the state, per bundle: {clean}"
    );
    for errno in [EIO, ENOSPC] {
        for n in 1..=clean {
            let (kit, a, b) = used_kit();
            let s = FaultyStorage::fail_nth(Op::Sync, n, errno);
            let rep =
                airlock_verifier::run::verify_media_with(&kit.opts(), &NoProgress, &s).unwrap();
            check_failed_run(&kit, &rep, &[&a, &b], &format!("fsync #{n} errno {errno}"));
        }
    }
}

/// D59 (a full disk): ENOSPC on each write of a two-bundle run — a short write, as a full disk
/// does — ends in exit 2 with the verdicts still shown, no temp file, no partial receipt and no
/// promote receipt for a decision the state did not record (issue 11 #1).
///
/// Pins: the write-error paths of `atomic::write_new` / `append_line` and `Recorder::record`
/// (FORMATS §6.4, §6.5). Read-only media (EROFS) is `cli_contract::read_only_media_…`.
#[test]
fn d59_full_disk_at_every_write_of_a_run_is_exit_2_with_verdicts_and_no_partial_files() {
    let clean = {
        let (kit, _, _) = used_kit();
        let s = FaultyStorage::new();
        airlock_verifier::run::verify_media_with(&kit.opts(), &NoProgress, &s).unwrap();
        s.count(Op::Write)
    };
    assert!(clean >= 6, "{clean}");
    for n in 1..=clean {
        let (kit, a, b) = used_kit();
        let s = FaultyStorage::fail_nth(Op::Write, n, ENOSPC);
        let rep = airlock_verifier::run::verify_media_with(&kit.opts(), &NoProgress, &s).unwrap();
        check_failed_run(&kit, &rep, &[&a, &b], &format!("write #{n} ENOSPC"));
    }
}

/// D56 / D57: after a run in which one log append failed (fsync EIO), the appliance's own log —
/// authoritative for `seq` and `prev` (FORMATS §6.3) — must still be one valid chain that the
/// next run appends to (no two records with one `seq`), and once the append to the media's log
/// failed no later bundle of that run gets a receipt (FORMATS §6.3: "Once a write to the media
/// fails, no further receipt is written in that run and the state is not updated").
///
/// Pins: that a failed append neither leaves the in-memory log head behind the log file while the
/// run goes on writing records, nor lets the run go on writing to a medium that failed.
///
/// BUG (found by this test): in `Recorder::record` an `evidence::append` error returns before the
/// head is advanced and does not set `media_failed`. The state-log line is already in the file
/// (only its fsync failed), so the next bundle's record reuses that `seq`/`prev`: the appliance's
/// own log then holds two records with seq 1 ("seq 1 does not follow seq 1") for good (fsync #3,
/// the state log; and #4, the media log). When the media log append failed (fsync #4), the next
/// bundle still gets a receipt on that medium.
#[test]
fn d56_a_failed_log_append_leaves_the_appliance_log_a_valid_chain() {
    let clean = {
        let (kit, _, _) = used_kit();
        let s = FaultyStorage::new();
        airlock_verifier::run::verify_media_with(&kit.opts(), &NoProgress, &s).unwrap();
        s.count(Op::Sync)
    };
    let mut failures = Vec::new();
    for n in 1..=clean {
        let (kit, _, b) = used_kit();
        let s = FaultyStorage::fail_nth(Op::Sync, n, EIO);
        let rep = airlock_verifier::run::verify_media_with(&kit.opts(), &NoProgress, &s).unwrap();
        assert_eq!(rep.exit_code(), 2);
        let first = rep.problems.first().cloned().unwrap_or_default();
        // A failure stops all writing: a later bundle gets no receipt (b's own receipt is
        // written before its media log append).
        if first.contains("airlock-evidence.jsonl")
            && !first.starts_with(b.as_str())
            && result(&rep, &b).receipt.is_some()
        {
            failures.push(format!(
                "fsync #{n}: after the media log append failed ({first}), {b} still got receipt {:?}",
                result(&rep, &b).receipt
            ));
        }
        // The next stick, same appliance.
        kit.clear_inbox();
        let c = kit.bundle("c.tar", &Spec::new("v0.1.0").package("third-runtime"));
        let next = kit
            .run_opts(&kit.opts())
            .unwrap_or_else(|e| panic!("fsync #{n}: the next run cannot start: {e}"));
        assert_promoted(result(&next, &c));
        let log = appliance_log(&kit);
        if !log.is_ok() {
            failures.push(format!(
                "fsync #{n}: after {first:?} the appliance log fails: out_of_order {:?}, chain_breaks {:?}, torn_lines {:?}, seq_gaps {:?}",
                log.out_of_order, log.chain_breaks, log.torn_lines, log.seq_gaps
            ));
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
}
