//! The appliance state directory: created private, never reset by a damaged file, written
//! atomically.

mod write_support;

use airlock_formats::timestamp::Timestamp;
use airlock_verifier::atomic::{RealStorage, TEMP_PREFIX};
use airlock_verifier::state::{Mode, PromotedRelease, StateData, StateDir, StateError, Stored};
use std::fs;
use std::os::unix::fs::PermissionsExt as _;
use write_support::*;

fn sample() -> StateData {
    let mut d = StateData {
        trust_root_version: 4,
        revocations_version: 7,
        clock_floor: Some(Timestamp::parse("2026-05-02T10:00:00Z").unwrap()),
        ..StateData::default()
    };
    d.packages.insert(
        "cavra-go-runtime".into(),
        PromotedRelease {
            version: "v0.1.1".into(),
            bundle_sha256: "ab".repeat(32),
        },
    );
    d
}

#[test]
fn fresh_state_is_created_private_and_round_trips() {
    let root = tempfile::tempdir().unwrap();
    let path = root.path().join("var/lib/airlock");
    let st = StateDir::open(&RealStorage, &path, Mode::Create).unwrap();
    assert_eq!(
        fs::metadata(&path).unwrap().permissions().mode() & 0o777,
        0o700
    );
    assert_eq!(st.load(None).unwrap(), StateData::default());
    assert_eq!(st.load(None).unwrap().format, 2);
    // The key is created on first use, with mode 0600.
    let key = st.appliance_key(&RealStorage).unwrap().unwrap();
    st.save(&RealStorage, &sample(), &key).unwrap();
    assert_eq!(st.load(Some(&key)).unwrap(), sample());
    let mode = fs::metadata(st.state_path()).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
    assert_eq!(st.anchor_path(), path.join("anchor.json"));
    assert_eq!(st.evidence_log_path(), path.join("evidence.jsonl"));
    let m = fs::metadata(path.join("appliance-key.pem"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(m & 0o777, 0o600);
    let ro = StateDir::open(&RealStorage, &path, Mode::ReadOnly).unwrap();
    assert_eq!(
        ro.appliance_key(&RealStorage).unwrap().unwrap().key_id(),
        key.key_id()
    );
}

#[test]
fn a_damaged_state_file_stops_the_run_and_is_never_reset() {
    let root = tempfile::tempdir().unwrap();
    let st = StateDir::open(&RealStorage, root.path(), Mode::Create).unwrap();
    let key = st.appliance_key(&RealStorage).unwrap().unwrap();
    st.save(&RealStorage, &sample(), &key).unwrap();
    let good = fs::read(st.state_path()).unwrap();
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("truncated", good[..good.len() / 2].to_vec()),
        ("empty", Vec::new()),
        ("garbage", b"\x00\x00\x00\x00".to_vec()),
        ("not an object", b"[]".to_vec()),
        (
            "duplicate key",
            String::from_utf8(good.clone())
                .unwrap()
                .replacen("{", "{\"trust_root_version\": 0,", 1)
                .into_bytes(),
        ),
        (
            "future format",
            String::from_utf8(good.clone())
                .unwrap()
                .replace("\"format\": 2", "\"format\": 3")
                .into_bytes(),
        ),
        (
            "unknown member",
            String::from_utf8(good.clone())
                .unwrap()
                .replacen("{", "{\"extra\": 1,", 1)
                .into_bytes(),
        ),
        (
            "negative version",
            String::from_utf8(good.clone())
                .unwrap()
                .replace("\"trust_root_version\": 4", "\"trust_root_version\": -4")
                .into_bytes(),
        ),
    ];
    for (what, bytes) in cases {
        fs::write(st.state_path(), &bytes).unwrap();
        let e = st.load(Some(&key)).unwrap_err();
        assert!(matches!(e, StateError::Corrupt(..)), "{what}: {e:?}");
        let msg = e.to_string();
        assert!(
            msg.contains("corrupt") && msg.contains("never reset"),
            "{what}: {msg}"
        );
        assert_eq!(
            fs::read(st.state_path()).unwrap(),
            bytes,
            "{what}: left as found"
        );
    }
}

#[test]
fn saving_survives_power_loss_and_faults() {
    let probe = FaultyStorage::new();
    let root = tempfile::tempdir().unwrap();
    let st = StateDir::open(&RealStorage, root.path(), Mode::Create).unwrap();
    let key = st.appliance_key(&RealStorage).unwrap().unwrap();
    st.save(&RealStorage, &StateData::default(), &key).unwrap();
    st.save(&probe, &sample(), &key).unwrap();
    let total = probe.ops();
    for mode in [Crash::DropAll, Crash::KeepNames] {
        for n in 0..=total {
            let root = tempfile::tempdir().unwrap();
            let st = StateDir::open(&RealStorage, root.path(), Mode::Create).unwrap();
            st.save(&RealStorage, &StateData::default(), &key).unwrap();
            let f = FaultyStorage::halt_after(n);
            f.assume_durable(&st.state_path());
            assert_eq!(st.save(&f, &sample(), &key).is_ok(), n >= total);
            f.crash(mode);
            let got = st
                .load(Some(&key))
                .expect("old or new state, never a damaged one");
            assert!(
                got == StateData::default() || got == sample(),
                "{mode:?} {n}"
            );
            // Reopening removes the leftover temp file.
            StateDir::open(&RealStorage, root.path(), Mode::Create).unwrap();
            assert!(temps(root.path()).is_empty());
        }
    }
    for &op in FAULT_OPS {
        for errno in [EIO, ENOSPC] {
            let root = tempfile::tempdir().unwrap();
            let st = StateDir::open(&RealStorage, root.path(), Mode::Create).unwrap();
            st.save(&RealStorage, &StateData::default(), &key).unwrap();
            let f = FaultyStorage::fail_nth(op, 1, errno);
            let r = st.save(&f, &sample(), &key);
            if f.count(op) == 0 {
                continue;
            }
            let e = r.unwrap_err();
            assert!(
                e.to_string().contains("cannot update the appliance state"),
                "{e}"
            );
            let got = st.load(Some(&key)).unwrap();
            assert!(got == StateData::default() || (op == Op::SyncDir && got == sample()));
        }
    }
}

#[test]
fn trust_roots_and_revocations_are_stored_once_and_listed_by_version() {
    let root = tempfile::tempdir().unwrap();
    let st = StateDir::open(&RealStorage, root.path(), Mode::Create).unwrap();
    assert!(st.trust_roots().unwrap().is_empty());
    assert_eq!(st.revocations().unwrap(), None);
    assert_eq!(
        st.store_trust_root(&RealStorage, 10, b"ten").unwrap(),
        Stored::Written
    );
    assert_eq!(
        st.store_trust_root(&RealStorage, 9, b"nine").unwrap(),
        Stored::Written
    );
    assert_eq!(
        st.store_trust_root(&RealStorage, 10, b"ten").unwrap(),
        Stored::AlreadyPresent
    );
    assert_eq!(
        st.store_trust_root(&RealStorage, 10, b"other copy")
            .unwrap(),
        Stored::KeptExisting
    );
    // Stray files are not trust roots.
    for n in ["010.json", "x.json", &format!("{TEMP_PREFIX}1-2-3")] {
        fs::write(root.path().join("trust-root").join(n), b"junk").unwrap();
    }
    assert_eq!(
        st.trust_roots().unwrap(),
        vec![(9, b"nine".to_vec()), (10, b"ten".to_vec())]
    );
    st.store_revocations(&RealStorage, b"list 7").unwrap();
    st.store_revocations(&RealStorage, b"list 8").unwrap();
    assert_eq!(st.revocations().unwrap().unwrap(), b"list 8");
    // Reopening cleans temp files in trust-root/ too.
    StateDir::open(&RealStorage, root.path(), Mode::Create).unwrap();
    assert!(temps(&root.path().join("trust-root")).is_empty());
}

#[test]
fn read_only_state_writes_nothing() {
    let root = tempfile::tempdir().unwrap();
    let missing = root.path().join("nope");
    let st = StateDir::open(&RealStorage, &missing, Mode::ReadOnly).unwrap();
    assert!(!missing.exists(), "read-only does not create");
    assert_eq!(st.load(None).unwrap(), StateData::default());
    assert!(st.appliance_key(&RealStorage).unwrap().is_none());
    let key = airlock_verifier::appliance_key::ApplianceKey::generate().unwrap();
    assert!(matches!(
        st.save(&RealStorage, &sample(), &key),
        Err(StateError::ReadOnly(_))
    ));
    assert!(st.store_trust_root(&RealStorage, 1, b"x").is_err());
    assert!(st.store_revocations(&RealStorage, b"x").is_err());
    assert!(!missing.exists());
}

#[test]
fn unsafe_state_directories_are_refused() {
    let root = tempfile::tempdir().unwrap();
    let open = root.path().join("open");
    fs::create_dir(&open).unwrap();
    fs::set_permissions(&open, fs::Permissions::from_mode(0o777)).unwrap();
    let e = StateDir::open(&RealStorage, &open, Mode::Create).unwrap_err();
    assert!(e.to_string().contains("writable by group or others"), "{e}");
    let file = root.path().join("file");
    fs::write(&file, b"").unwrap();
    assert!(StateDir::open(&RealStorage, &file, Mode::Create).is_err());
}
