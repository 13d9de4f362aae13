//! Issue 11, the state and write-path items: a hostile stick and a hostile neighbour must not roll
//! the appliance back. Each test reproduces the attack on real bytes (files on the media and in
//! the state, injected write faults, concurrent `airlock` processes) and fails without the fix it
//! names. They read `state.json` as plain JSON, so that they also build against the code before
//! the fixes.

mod support;
mod write_support;

use airlock_verifier::bundle::NoProgress;
use airlock_verifier::evidence::{self, LogKind};
use std::path::Path;
use std::process::{Command, Output, Stdio};
use support::*;
use write_support::{FaultyStorage, Op, EIO, ENOSPC};

const LIST: &str = "revocations.json";
const BOOT: &str = "offline-trust-root-bootstrap.json";

/// `state.json` as plain JSON.
fn state_json(kit: &Kit) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(kit.state.join("state.json")).unwrap()).unwrap()
}

/// The promoted version of `pkg` recorded in `state.json`, if any.
fn promoted(kit: &Kit, pkg: &str) -> Option<String> {
    state_json(kit)["packages"][pkg]["version"]
        .as_str()
        .map(str::to_owned)
}

fn airlock(args: &[&str]) -> Command {
    let mut c = Command::new(airlock_bin());
    c.args(args).env_remove("AIRLOCK_STATE");
    c
}

/// `airlock verify --anchor A --state S MEDIA` (stdin closed).
fn verify_cmd(kit: &Kit) -> Command {
    let mut c = airlock(&["verify", "--format", "json", "--anchor"]);
    c.arg(&kit.anchor_path)
        .arg("--state")
        .arg(&kit.state)
        .arg(&kit.media)
        .stdin(Stdio::null());
    c
}

fn verify_cli(kit: &Kit) -> Output {
    verify_cmd(kit).output().unwrap()
}

/// `airlock evidence verify MEDIA_OR_LOG --key STATE/appliance-key.json`.
fn evidence_verify(kit: &Kit, target: &Path) -> Output {
    let key = kit.state.join("appliance-key.json");
    airlock(&["evidence", "verify"])
        .arg(target)
        .arg("--key")
        .arg(&key)
        .output()
        .unwrap()
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
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

/// Every receipt on the media that verifies under the appliance key: (MEDIA-relative path,
/// payload).
fn receipts(kit: &Kit) -> Vec<(String, airlock_verifier::receipt::ReceiptPayload)> {
    let dir = kit.media.join("receipts");
    let Ok(rd) = std::fs::read_dir(&dir) else {
        return Vec::new();
    };
    let key = std::fs::read(kit.state.join("appliance-key.json")).unwrap();
    let mut out: Vec<_> = rd
        .filter_map(|e| {
            let e = e.ok()?;
            let name = e.file_name().into_string().ok()?;
            let p = airlock_verifier::receipt::verify_receipt(&std::fs::read(e.path()).ok()?, &key)
                .ok()?;
            Some((format!("receipts/{name}"), p))
        })
        .collect();
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

/// The promote receipts on the media whose decision `state.json` does not record.
fn unrecorded_promotions(kit: &Kit) -> Vec<String> {
    receipts(kit)
        .into_iter()
        .filter(|(_, p)| p.verdict == airlock_verifier::verdict::Verdict::Promote)
        .filter(|(_, p)| promoted(kit, p.package.as_deref().unwrap_or_default()) != p.version)
        .map(|(rel, p)| format!("{rel} promotes {:?} {:?}", p.package, p.version))
        .collect()
}

/// A kit whose appliance promoted v0.2.0.
fn kit_at_v020() -> Kit {
    let kit = Kit::new();
    let b = kit.bundle("cavra-go-runtime-v0.2.0.tar", &Spec::new("v0.2.0"));
    assert_promoted(result(&kit.run(), &b));
    kit.new_stick();
    kit
}

/// After a run that wrote a v0.3.0 promote receipt, a later stick's v0.2.1 must be a rollback.
fn assert_v021_is_a_rollback(kit: &Kit, what: &str) {
    kit.new_stick();
    let b = kit.bundle("cavra-go-runtime-v0.2.1.tar", &Spec::new("v0.2.1"));
    let rep = kit.run();
    let r = result(&rep, &b);
    assert!(
        codes(r).contains(&"release-rollback"),
        "{what}: v0.2.1 after a signed v0.3.0 promote receipt: {r:#?}"
    );
}

// --- 1: rollback through an orphan promote receipt ---------------------------------------------

/// Issue 11 #1, on a FAT-like stick: a plain file named `evidence` where the log directory should
/// be. The v0.3.0 receipt is written, so the state must record v0.3.0 and say so; a later stick's
/// v0.2.1 is then `release-rollback`.
///
/// Pins: `Recorder::record` writing the state (and its log) before the media.
#[test]
fn i1_a_plain_file_named_evidence_leaves_no_unrecorded_promote_receipt() {
    let kit = kit_at_v020();
    kit.put_media("evidence", b"not a directory");
    let b = kit.bundle("cavra-go-runtime-v0.3.0.tar", &Spec::new("v0.3.0"));
    let rep = kit.run();
    assert_eq!(rep.exit_code(), 2, "{rep:#?}");
    let problem = rep.problems.join("\n");
    assert!(
        problem.contains("recorded by the appliance") && problem.contains("evidence log"),
        "the message says what was written: {problem}"
    );
    assert_eq!(
        result(&rep, &b).verdict,
        airlock_verifier::verdict::Verdict::Promote
    );
    assert!(
        unrecorded_promotions(&kit).is_empty(),
        "{:?}",
        unrecorded_promotions(&kit)
    );
    assert_eq!(promoted(&kit, PACKAGE).as_deref(), Some("v0.3.0"));
    assert_v021_is_a_rollback(&kit, "plain file `evidence`");
}

/// Issue 11 #1 with injected faults: ENOSPC on every write and EIO on every fsync and directory
/// fsync of a v0.3.0 run (the media log append, the `receipts/` fsync among them). Whatever
/// fails, no promote receipt exists for a decision the state did not record, and a later v0.2.1
/// is a rollback whenever a v0.3.0 promote receipt exists.
///
/// Pins: the write order of `Recorder::record` (state, state log, receipt, media log).
#[test]
fn i1_no_write_fault_leaves_an_unrecorded_promote_receipt() {
    let count = |op: Op| {
        let kit = kit_at_v020();
        kit.bundle("cavra-go-runtime-v0.3.0.tar", &Spec::new("v0.3.0"));
        let s = FaultyStorage::new();
        airlock_verifier::run::verify_media_with(&kit.opts(), &NoProgress, &s).unwrap();
        s.count(op)
    };
    let mut failures = Vec::new();
    for (op, errno) in [(Op::Write, ENOSPC), (Op::Sync, EIO), (Op::SyncDir, EIO)] {
        let total = count(op);
        assert!(total >= 3, "{op:?}: {total}");
        for n in 1..=total {
            let kit = kit_at_v020();
            kit.bundle("cavra-go-runtime-v0.3.0.tar", &Spec::new("v0.3.0"));
            let s = FaultyStorage::fail_nth(op, n, errno);
            let rep =
                airlock_verifier::run::verify_media_with(&kit.opts(), &NoProgress, &s).unwrap();
            let what = format!("{op:?} #{n} errno {errno}");
            if s.count(op) >= n {
                assert_eq!(rep.exit_code(), 2, "{what}: {rep:#?}");
            }
            let orphans = unrecorded_promotions(&kit);
            if !orphans.is_empty() {
                failures.push(format!("{what}: {orphans:?} ({:?})", rep.problems));
                continue;
            }
            if receipts(&kit)
                .iter()
                .any(|(_, p)| p.version.as_deref() == Some("v0.3.0"))
            {
                assert_v021_is_a_rollback(&kit, &what);
            }
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
}

// --- 2: one run at a time per state --------------------------------------------------------------

/// Issue 11 #2: a run waits, saying so, while another holds the state directory (here the test
/// holds its `flock`), and goes on once it is released.
///
/// Pins: `StateDir::open_for_run` taking the state's `flock` before reading anything.
#[test]
fn i2_a_second_run_waits_for_the_state_with_a_message() {
    let kit = Kit::new();
    let b = kit.bundle("a.tar", &Spec::new("v0.1.0"));
    assert_promoted(result(&kit.run(), &b));
    airlock_bin(); // built before the clock starts
                   // util-linux flock(1) holds the state directory's flock, as another run would, while its
                   // `cat` waits for the end of its stdin.
    let mut holder = Command::new("flock")
        .arg("--exclusive")
        .arg(&kit.state)
        .arg("cat")
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(500));
    let child = verify_cmd(&kit)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(1500));
    let still_waiting = std::fs::read_to_string(kit.state.join("evidence.jsonl"))
        .unwrap()
        .lines()
        .count()
        == 1;
    drop(holder.stdin.take()); // cat ends, flock ends, the lock is released
    assert!(holder.wait().unwrap().success());
    let out = child.wait_with_output().unwrap();
    assert!(
        still_waiting,
        "the second run wrote while the state was held"
    );
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("another run holds the state directory"),
        "{}",
        text(&out)
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(appliance_log(&kit).is_ok());
}

/// The soak: 20 concurrent `airlock verify` processes on one state and one medium, three times
/// over. Every run completes (0), and what is left is one unbroken chain in the appliance's log,
/// the same records on the medium, a receipt for each, and a `state.json` whose counter is the
/// log's head.
///
/// Pins: the state lock (without it the logs fork: duplicate seqs, a stale `state.json`).
#[test]
fn i2_soak_20_concurrent_runs_leave_one_chain_and_a_matching_state() {
    let kit = Kit::new();
    kit.bundle("a.tar", &Spec::new("v0.1.0"));
    kit.bundle("b.tar", &Spec::new("v0.1.0").package("other-runtime"));
    const RUNS: usize = 20;
    const ROUNDS: usize = 3;
    for round in 0..ROUNDS {
        let children: Vec<_> = (0..RUNS)
            .map(|_| {
                verify_cmd(&kit)
                    .stdout(Stdio::piped())
                    .stderr(Stdio::piped())
                    .spawn()
                    .unwrap()
            })
            .collect();
        for c in children {
            let out = c.wait_with_output().unwrap();
            assert_eq!(out.status.code(), Some(0), "round {round}: {}", text(&out));
        }
    }
    let want = (RUNS * ROUNDS * 2) as u64;
    let log = appliance_log(&kit);
    assert!(log.is_ok(), "{log:#?}");
    assert_eq!(log.records_verified, want);
    assert_eq!(log.head.as_ref().map(|h| h.seq), Some(want));
    let st = state_json(&kit);
    assert_eq!(st["evidence"]["seq"].as_u64(), Some(want), "{st:#}");
    let last_line = std::fs::read_to_string(kit.state.join("evidence.jsonl"))
        .unwrap()
        .lines()
        .last()
        .unwrap()
        .to_owned();
    assert_eq!(st["evidence"]["record"].as_str(), Some(last_line.as_str()));
    assert_eq!(
        std::fs::read(kit.state.join("evidence.jsonl")).unwrap(),
        std::fs::read(kit.media.join("evidence/airlock-evidence.jsonl")).unwrap(),
        "one medium served every run: its log is the appliance's"
    );
    assert_eq!(receipts(&kit).len() as u64, want);
    let out = evidence_verify(&kit, &kit.media);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let out = evidence_verify(&kit, &kit.state.join("evidence.jsonl"));
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
}

// --- 5: accepted roots are remembered once ---------------------------------------------------------

/// Issue 11 #5: with a 256-root chain on the medium, 40 valid bundles in one run all promote (the
/// chain's roots were re-added to the run's memory after every bundle: from the 32nd on, more
/// than 8192 trust-root candidates, `trust-root-invalid`).
///
/// Pins: `policy::assess` reporting only roots not already remembered as new, so `run::remember`
/// and the state add each once.
#[test]
fn i5_a_256_root_chain_serves_40_bundles_in_one_run() {
    let kit = Kit::new();
    let mut chain = vec![kit.anchor.clone()];
    for _ in 2..=256 {
        let next = kit.rotate(
            chain.last().unwrap(),
            &RootChanges::default(),
            &[&kit.keys.root_a, &kit.keys.root_b],
        );
        chain.push(next);
    }
    for (i, r) in chain.iter().enumerate().skip(1) {
        kit.put_media(&format!("trust-root/{}.json", i + 1), r);
    }
    kit.put_media(BOOT, chain.last().unwrap());
    let bundles: Vec<String> = (0..40)
        .map(|i| {
            kit.bundle(
                &format!("b{i:02}.tar"),
                &Spec::new("v0.1.0").package(&format!("pkg-{i:02}")),
            )
        })
        .collect();
    let started = std::time::Instant::now();
    let rep = kit.run();
    let took = started.elapsed();
    for b in &bundles {
        assert_promoted(result(&rep, b));
    }
    assert_eq!(state_json(&kit)["trust_root_version"].as_u64(), Some(256));
    eprintln!("40 bundles under a 256-root chain: {took:?}");
}

// --- 8: refused material never moves the state ------------------------------------------------------

/// Issue 11 #8: a revocation list issued in the future (2030-like: 1000 days ahead) is refused as
/// `clock-untrusted`; neither its version nor a clock floor from its `issued_at` is recorded, so
/// the next stick, without it, promotes.
///
/// Pins: `policy::assess` keeping future `issued_at` out of the floor and refusing the list.
#[test]
fn i8_a_revocation_list_from_the_future_never_moves_the_state() {
    let kit = Kit::new();
    kit.put_media(
        LIST,
        &kit.revocations(5, |p| {
            p.issued_at = days(1000);
            p.expires = days(2000);
        }),
    );
    let b = kit.bundle("a.tar", &Spec::new("v0.1.0"));
    assert_rejected_with(result(&kit.run(), &b), &["clock-untrusted"]);
    let st = state_json(&kit);
    assert_eq!(st["revocations_version"].as_u64(), Some(0), "{st:#}");
    let floor = st["clock_floor"].as_str().unwrap_or_default().to_owned();
    assert!(
        floor.as_str() < days(1).to_string().as_str(),
        "floor {floor}"
    );
    assert!(!kit.state.join("revocations.json").exists());
    kit.remove_media(LIST);
    assert_promoted(result(&kit.run(), &b));
}

/// Issue 11 #8 for a trust root: a rotation to v2 issued in the future is refused; the state keeps
/// version 1, stores no `trust-root/2.json` and no floor from it.
///
/// Pins: as above, for the roots of `Updates`.
#[test]
fn i8_a_trust_root_from_the_future_never_moves_the_state() {
    let kit = Kit::new();
    let (v2, _) = root::rotate(
        &kit.anchor,
        &RootChanges::default(),
        days(1000),
        days(2000),
        &[&kit.keys.root_a, &kit.keys.root_b],
    )
    .unwrap();
    kit.put_media("trust-root/2.json", &v2);
    kit.put_media(BOOT, &v2);
    let b = kit.bundle("a.tar", &Spec::new("v0.1.0"));
    assert_rejected_with(result(&kit.run(), &b), &["clock-untrusted"]);
    let st = state_json(&kit);
    assert!(st["trust_root_version"].as_u64().unwrap_or(0) < 2, "{st:#}");
    assert!(!kit.state.join("trust-root/2.json").exists());
    let floor = st["clock_floor"].as_str().unwrap_or_default().to_owned();
    assert!(
        floor.as_str() < days(1).to_string().as_str(),
        "floor {floor}"
    );
    kit.new_stick();
    let b = kit.bundle("a.tar", &Spec::new("v0.1.0"));
    assert_promoted(result(&kit.run(), &b));
}

// --- 9: state.json is sealed ------------------------------------------------------------------------

/// A kit that accepted revocation list v1 and promoted v0.1.0.
fn kit_with_list() -> (Kit, String) {
    let kit = Kit::new();
    kit.put_media(LIST, &kit.revocations(1, |_| {}));
    let b = kit.bundle("a.tar", &Spec::new("v0.1.0"));
    assert_promoted(result(&kit.run(), &b));
    kit.new_stick();
    let b = kit.bundle("b.tar", &Spec::new("v0.1.1"));
    (kit, b)
}

/// The run must not start: exit 2 from the binary, before anything is written.
fn assert_refused(kit: &Kit, what: &str, needle: &str) {
    let media0 = tree(&kit.media);
    let out = verify_cli(kit);
    assert_eq!(out.status.code(), Some(2), "{what}: {}", text(&out));
    assert!(text(&out).contains(needle), "{what}: {}", text(&out));
    assert_eq!(tree(&kit.media), media0, "{what}: the media changed");
}

/// Issue 11 #9: `revocations_version` flipped 1 → 0 in `state.json` (so a stick without the list
/// would promote) is refused: the seal does not verify, exit 2.
///
/// Pins: `StateDir::load` checking the seal.
#[test]
fn i9_a_flipped_version_in_state_json_is_refused() {
    let (kit, _) = kit_with_list();
    let p = kit.state.join("state.json");
    let s = std::fs::read_to_string(&p).unwrap();
    assert!(s.contains("\"revocations_version\": 1"));
    std::fs::write(
        &p,
        s.replace("\"revocations_version\": 1", "\"revocations_version\": 0"),
    )
    .unwrap();
    assert_refused(&kit, "flipped", "state.json");
}

/// Issue 11 #9: `state.json` deleted while the rest of the state (the log, the stored list)
/// exists is refused, exit 2 — not a fresh appliance.
///
/// Pins: `StateDir::load` refusing a missing file when the rest of the state exists.
#[test]
fn i9_a_deleted_state_json_is_refused() {
    let (kit, _) = kit_with_list();
    std::fs::remove_file(kit.state.join("state.json")).unwrap();
    assert_refused(&kit, "deleted", "missing");
}

/// Issue 11 #9: an older, validly sealed `state.json` put back after later decisions (a replay)
/// is refused: its counter is behind the appliance's log.
///
/// Pins: `state_log::reconcile`.
#[test]
fn i9_an_older_state_json_put_back_is_refused() {
    let kit = Kit::new();
    let b = kit.bundle("a.tar", &Spec::new("v0.1.0"));
    assert_promoted(result(&kit.run(), &b));
    let old = std::fs::read(kit.state.join("state.json")).unwrap();
    kit.new_stick();
    let b = kit.bundle("a.tar", &Spec::new("v0.2.0"));
    assert_promoted(result(&kit.run(), &b));
    std::fs::write(kit.state.join("state.json"), old).unwrap();
    kit.new_stick();
    kit.bundle("a.tar", &Spec::new("v0.1.0"));
    assert_refused(&kit, "replayed state.json", "state.json");
}

// --- 10: the state log is checked, not cut ------------------------------------------------------

/// Issue 11 #10: a complete but corrupt last line of the appliance's log is not a torn tail: exit
/// 2, the log left as found (it used to be cut off silently and its seq reused).
///
/// Pins: `LogHead::read_with_last` treating only a final line without its newline as torn.
#[test]
fn i10_a_complete_corrupt_last_record_is_refused_not_cut() {
    let (kit, _) = kit_with_list();
    let p = kit.state.join("evidence.jsonl");
    let mut bytes = std::fs::read(&p).unwrap();
    bytes.extend_from_slice(b"{\"seq\":2,\"garbage\":true}\n");
    std::fs::write(&p, &bytes).unwrap();
    assert_refused(&kit, "corrupt last record", "evidence.jsonl");
    assert_eq!(std::fs::read(&p).unwrap(), bytes, "left as found");
}

/// Issue 11 #10: a deleted appliance log, with `state.json` naming record 2, is refused (it used
/// to restart at seq 1).
///
/// Pins: `state_log::reconcile`.
#[test]
fn i10_a_deleted_log_is_refused() {
    let kit = Kit::new();
    let b = kit.bundle("a.tar", &Spec::new("v0.1.0"));
    kit.bundle("b.tar", &Spec::new("v0.1.0").package("other-runtime"));
    assert_promoted(result(&kit.run(), &b));
    std::fs::remove_file(kit.state.join("evidence.jsonl")).unwrap();
    assert_refused(&kit, "deleted log", "evidence.jsonl");
}

/// Issue 11 #10: a log whose middle record was removed (a broken chain) is refused, exit 2 as
/// docs/operators/state.md promises (it used to be extended, exit 0); `evidence verify` of the
/// log fails.
///
/// Pins: the chain check of `LogHead::read_with_last`.
#[test]
fn i10_a_broken_chain_is_refused() {
    let kit = Kit::new();
    for (i, p) in ["a", "b", "c"].iter().enumerate() {
        kit.bundle(
            &format!("{p}.tar"),
            &Spec::new("v0.1.0").package(&format!("pkg-{i}")),
        );
    }
    assert_eq!(kit.run().exit_code(), 0);
    let p = kit.state.join("evidence.jsonl");
    let s = std::fs::read_to_string(&p).unwrap();
    let lines: Vec<&str> = s.lines().collect();
    assert_eq!(lines.len(), 3);
    std::fs::write(&p, format!("{}\n{}\n", lines[0], lines[2])).unwrap();
    assert_refused(&kit, "broken chain", "chain");
    let out = evidence_verify(&kit, &p);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
}

/// Issue 11 #10, the other side: a final line without its newline (a power cut mid-append) is
/// still a torn tail — cut off, the run goes on; and a record the state holds but the log lost (a
/// power cut between the two) is appended from `state.json`.
///
/// Pins: the torn-tail rule and the roll forward of `state_log::reconcile`.
#[test]
fn i10_a_torn_tail_and_a_lost_last_record_are_repaired() {
    let kit = Kit::new();
    let b = kit.bundle("a.tar", &Spec::new("v0.1.0"));
    kit.bundle("b.tar", &Spec::new("v0.1.0").package("other-runtime"));
    assert_promoted(result(&kit.run(), &b));
    let p = kit.state.join("evidence.jsonl");
    let full = std::fs::read(&p).unwrap();
    let s = String::from_utf8(full.clone()).unwrap();
    let first_len = s.find('\n').unwrap() + 1;
    // The last record lost, half of it left without a newline.
    let mut torn = full[..first_len].to_vec();
    torn.extend_from_slice(&full[first_len..first_len + 40]);
    std::fs::write(&p, &torn).unwrap();
    kit.new_stick();
    let c = kit.bundle("c.tar", &Spec::new("v0.1.0").package("third-runtime"));
    let rep = kit.run();
    assert_eq!(rep.exit_code(), 0, "{rep:#?}");
    assert_promoted(result(&rep, &c));
    let after = std::fs::read(&p).unwrap();
    assert!(
        after.starts_with(&full),
        "record 2 restored from state.json"
    );
    let log = appliance_log(&kit);
    assert!(log.is_ok(), "{log:#?}");
    assert_eq!(log.records_verified, 3);
}

// --- 11: evidence verify checks every record's receipt --------------------------------------------

/// Issue 11 #11: a reject receipt deleted and replaced by the stick's promote receipt renamed to
/// its name is caught by `airlock evidence verify MEDIA`: the reject record has no receipt, and the
/// renamed file's name does not match its content. A deleted receipt alone is caught too.
///
/// Pins: `evidence::records_without_receipt` and `evidence::check_receipt_name` in
/// `cli::evidence::verify`.
#[test]
fn i11_evidence_verify_catches_a_deleted_or_renamed_receipt() {
    let kit = Kit::new();
    let good = kit.bundle("a.tar", &Spec::new("v0.1.0"));
    let bad = kit.bundle(
        "b.tar",
        &Spec::new("v0.1.0")
            .package("other-runtime")
            .signed_by(&[&key("stranger")]),
    );
    let rep = kit.run();
    assert_promoted(result(&rep, &good));
    assert_eq!(
        result(&rep, &bad).verdict,
        airlock_verifier::verdict::Verdict::Reject
    );
    let out = evidence_verify(&kit, &kit.media);
    assert_eq!(out.status.code(), Some(0), "untouched: {}", text(&out));

    let promote = kit.media.join("receipts/a.tar.promote.receipt.json");
    let reject = kit.media.join("receipts/b.tar.reject.receipt.json");
    let saved = std::fs::read(&reject).unwrap();
    std::fs::remove_file(&reject).unwrap();
    let out = evidence_verify(&kit, &kit.media);
    assert_eq!(out.status.code(), Some(1), "deleted: {}", text(&out));
    assert!(text(&out).contains("deleted"), "{}", text(&out));

    std::fs::rename(&promote, &reject).unwrap();
    let out = evidence_verify(&kit, &kit.media);
    assert_eq!(out.status.code(), Some(1), "renamed: {}", text(&out));
    assert!(text(&out).contains("renamed"), "{}", text(&out));
    std::fs::rename(&reject, &promote).unwrap();
    std::fs::write(&reject, saved).unwrap();
    let out = evidence_verify(&kit, &kit.media);
    assert_eq!(out.status.code(), Some(0), "restored: {}", text(&out));
}
