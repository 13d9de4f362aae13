//! Issue #5, the appliance's own state: a damaged `state.json` stops the run (exit 2) and is never
//! reset; the clock floor (`clock-untrusted`); `--no-write` writes nothing anywhere; the anchor
//! (missing → exit 2; present but invalid → every bundle rejected with receipts).

mod support;

use std::os::unix::fs::DirBuilderExt;
use std::process::Command;
use support::*;

/// A kit that has run once (state, appliance key and one promotion recorded).
fn used_kit() -> Kit {
    let kit = Kit::new();
    let b = kit.bundle("first.tar", &Spec::new("v0.1.0"));
    assert_promoted(result(&kit.run(), &b));
    kit.clear_inbox();
    kit
}

fn cli(kit: &Kit, extra: &[&str]) -> std::process::Output {
    let mut c = Command::new(airlock_bin());
    c.arg("verify")
        .arg("--anchor")
        .arg(&kit.anchor_path)
        .arg("--state")
        .arg(&kit.state)
        .args(extra)
        .arg(&kit.media)
        .env_remove("AIRLOCK_STATE");
    c.output().unwrap()
}

/// A corrupted, truncated or empty `state.json` stops the run with exit 2 and a message that
/// names the file and says it is corrupt; nothing in the state or on the media changes (trust is
/// never reset). Library and binary.
///
/// Pins: `StateDir::load` refusing a present-but-unusable file (a `Default` fallback would run
/// and promote v0.0.1 below the recorded v0.1.0).
#[test]
fn damaged_state_file_stops_the_run_and_is_kept() {
    let kit = used_kit();
    let good = std::fs::read(kit.state.join("state.json")).unwrap();
    kit.bundle("older.tar", &Spec::new("v0.0.1"));
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("corrupted", {
            let mut b = good.clone();
            let i = b.len() / 3;
            b[i] = b'\x01';
            b
        }),
        ("garbage", b"\xff\xfe not json".to_vec()),
        ("truncated", good[..good.len() / 2].to_vec()),
        ("empty", Vec::new()),
    ];
    for (what, bytes) in cases {
        std::fs::write(kit.state.join("state.json"), &bytes).unwrap();
        let (state0, media0) = (tree(&kit.state), tree(&kit.media));
        let err = kit.run_opts(&kit.opts()).expect_err(what);
        assert!(
            err.0.contains("corrupt") && err.0.contains("state.json"),
            "{what}: {err}"
        );
        assert_eq!(tree(&kit.state), state0, "{what}: the state changed");
        assert_eq!(tree(&kit.media), media0, "{what}: the media changed");

        let out = cli(&kit, &["--format", "json"]);
        assert_eq!(out.status.code(), Some(2), "{what}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            stderr.contains("corrupt") && stderr.contains("state.json"),
            "{what}: {stderr}"
        );
        assert_eq!(
            tree(&kit.state),
            state0,
            "{what}: the binary changed the state"
        );
        assert_eq!(
            tree(&kit.media),
            media0,
            "{what}: the binary changed the media"
        );
        assert_eq!(std::fs::read(kit.state.join("state.json")).unwrap(), bytes);
    }
}

/// Clock floor: a state whose `clock_floor` lies in the future (the clock was set back) makes
/// every bundle `clock-untrusted`, and the floor is not lowered.
///
/// Pins: the clock-floor check at the top of `policy::assess`.
#[test]
fn clock_behind_the_recorded_floor_rejects_every_bundle() {
    let kit = used_kit();
    let st = StateDir::open(
        &airlock_verifier::atomic::RealStorage,
        &kit.state,
        Mode::Create,
    )
    .unwrap();
    let key = st.existing_appliance_key().unwrap().unwrap();
    let mut data = st.load(Some(&key)).unwrap();
    let floor = days(10);
    data.clock_floor = Some(floor);
    st.save(&airlock_verifier::atomic::RealStorage, &data, &key)
        .unwrap();
    let a = kit.bundle("a.tar", &Spec::new("v0.2.0"));
    let b = kit.bundle("b.tar", &Spec::new("v0.1.0").package("other"));
    let rep = kit.run();
    for x in [&a, &b] {
        assert_rejected_with(result(&rep, x), &["clock-untrusted"]);
    }
    let after = kit.state_data();
    assert_eq!(after.clock_floor, Some(floor));
    assert_eq!(after.packages[PACKAGE].version, "v0.1.0");
}

/// A trust root issued after the system clock (`issued_at` in the future) is `clock-untrusted`.
///
/// Pins: the `issued > now` check of `policy::assess`.
#[test]
fn trust_root_issued_in_the_future_is_clock_untrusted() {
    let kit = Kit::with(|_, c| {
        c.issued_at = days(2);
    });
    let b = kit.bundle("a.tar", &Spec::new("v0.1.0"));
    assert_rejected_with(result(&kit.run(), &b), &["clock-untrusted"]);
}

/// The clock floor moves forward with what the appliance sees: after a run it is at least the
/// time of that run.
///
/// Pins: `Updates::clock_floor` being persisted.
#[test]
fn clock_floor_is_recorded() {
    let before = now();
    let kit = used_kit();
    assert!(kit.state_data().clock_floor.unwrap() >= before);
}

/// `--no-write` writes NOTHING to the media or the state: a full listing of both trees (names,
/// kinds, modes, SHA-256 of every file) is identical before and after, on a used appliance and on
/// a fresh one (no state directory, no `MEDIA/appliance-key.json`); the verdicts are still given.
///
/// Pins: `WriteMode::DryRun` throughout `Recorder` (state opened read-only, no key, no receipts,
/// no evidence, no `appliance-key.json`).
#[test]
fn no_write_writes_nothing_anywhere() {
    let kit = used_kit();
    let good = kit.bundle("a.tar", &Spec::new("v0.2.0"));
    let bad = kit.bundle("b.tar", &Spec::new("v0.0.1"));
    let (state0, media0) = (tree(&kit.state), tree(&kit.media));
    let mut o = kit.opts();
    o.write = WriteMode::DryRun;
    let rep = kit.run_opts(&o).unwrap();
    assert_promoted(result(&rep, &good));
    assert_rejected_with(result(&rep, &bad), &["release-rollback"]);
    assert!(rep.results.iter().all(|r| r.receipt.is_none()));
    assert_eq!(tree(&kit.state), state0);
    assert_eq!(tree(&kit.media), media0);
    // Through the binary too.
    let out = cli(&kit, &["--no-write", "--format", "json"]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(tree(&kit.state), state0);
    assert_eq!(tree(&kit.media), media0);

    // A fresh appliance: no state directory is created.
    let fresh = Kit::new();
    fresh.bundle("a.tar", &Spec::new("v0.1.0"));
    let media0 = tree(&fresh.media);
    let mut o = fresh.opts();
    o.write = WriteMode::DryRun;
    let rep = fresh.run_opts(&o).unwrap();
    assert_eq!(rep.exit_code(), 0);
    assert!(
        !fresh.state.exists(),
        "a dry run created the state directory"
    );
    assert_eq!(tree(&fresh.media), media0);
    assert!(!fresh.media.join("appliance-key.json").exists());
}

/// No anchor anywhere (no `--anchor`, no `STATE/anchor.json`), or an anchor path that cannot be
/// read: exit 2 with a message naming the anchor.
///
/// Pins: the anchor read in `run::verify_media_with` failing the run (not rejecting, not
/// defaulting).
#[test]
fn missing_anchor_is_exit_2() {
    let kit = Kit::new();
    kit.bundle("a.tar", &Spec::new("v0.1.0"));
    let mut o = kit.opts();
    o.anchor = None;
    let err = kit.run_opts(&o).expect_err("no anchor");
    assert!(err.0.contains("anchor"), "{err}");
    for bad in [
        kit.tmp.path().join("nope.json"),
        kit.tmp.path().to_path_buf(),
    ] {
        o.anchor = Some(bad.clone());
        let err = kit.run_opts(&o).expect_err("bad anchor");
        assert!(err.0.contains("anchor"), "{}: {err}", bad.display());
    }
    let out = Command::new(airlock_bin())
        .arg("verify")
        .arg("--state")
        .arg(&kit.state)
        .arg(&kit.media)
        .env_remove("AIRLOCK_STATE")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("anchor"));
    // The default anchor, STATE/anchor.json, is used when present (the failed runs created no
    // state directory: the operator provisions it).
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(&kit.state)
        .unwrap();
    std::fs::write(kit.state.join("anchor.json"), &kit.anchor).unwrap();
    o.anchor = None;
    assert_eq!(kit.run_opts(&o).unwrap().exit_code(), 0);
}

/// A run that cannot start (no anchor) writes nothing to the media: no receipts, no evidence,
/// no `appliance-key.json`.
///
/// Pins: the order of `run::verify_media_with` (anchor and bundle paths checked before the
/// `Recorder` writes to the media).
#[test]
fn a_run_that_cannot_start_writes_nothing_to_the_media() {
    let kit = Kit::new();
    kit.bundle("a.tar", &Spec::new("v0.1.0"));
    let media0 = tree(&kit.media);
    let mut o = kit.opts();
    o.anchor = Some(kit.tmp.path().join("nope.json"));
    kit.run_opts(&o).expect_err("no anchor");
    assert_eq!(tree(&kit.media), media0);
}

/// An anchor that is present but invalid (garbage, or a trust root below its own root threshold)
/// rejects every bundle with `trust-root-invalid`; receipts are written; exit 1.
///
/// Pins: `establish` step 1 (anchor parse and self-signature), and that an invalid anchor is a
/// per-bundle rejection with receipts, not a run error.
#[test]
fn invalid_anchor_rejects_every_bundle_with_receipts() {
    let keys = Keys::new();
    let (half_signed, st) = root::create(1, &keys.content(), &[&keys.root_a]).unwrap();
    assert!(!st.complete());
    for anchor in [b"{\"not\": \"a trust root\"}".to_vec(), half_signed] {
        let kit = Kit::from_anchor(Keys::new(), anchor);
        let a = kit.bundle("a.tar", &Spec::new("v0.1.0"));
        let b = kit.bundle("b.tgz", &Spec::new("v0.1.1"));
        let rep = kit.run();
        assert_eq!(rep.exit_code(), 1);
        for x in [&a, &b] {
            let r = result(&rep, x);
            assert_rejected_with(r, &["trust-root-invalid"]);
            let rc = r.receipt.as_deref().expect("a receipt");
            assert!(kit.media.join(rc).is_file());
            assert_eq!(receipt(&kit, rc).verdict, Verdict::Reject);
        }
    }
}
