//! The write primitive under faults and power loss (adversarial #54, #55, #56, #59, #60).

mod write_support;

use airlock_verifier::atomic::{self, RealStorage, Storage, TEMP_PREFIX};
use std::fs;
use std::os::unix::fs::PermissionsExt as _;
use std::path::Path;
use write_support::*;

const BYTES: &[u8] =
    b"{\"the\": \"whole file\", \"padding\": \"0123456789abcdef0123456789abcdef\"}\n";

fn count_ops(f: impl Fn(&FaultyStorage)) -> u64 {
    let s = FaultyStorage::new();
    f(&s);
    s.ops()
}

#[test]
fn write_new_writes_whole_file_with_mode_and_never_overwrites() {
    let dir = tempfile::tempdir().unwrap();
    let p = atomic::write_new(&RealStorage, dir.path(), "a.json", BYTES, 0o644).unwrap();
    assert_eq!(fs::read(&p).unwrap(), BYTES);
    assert_eq!(
        fs::metadata(&p).unwrap().permissions().mode() & 0o777,
        0o644
    );
    let err = atomic::write_new(&RealStorage, dir.path(), "a.json", b"other", 0o644).unwrap_err();
    assert!(err.is_already_exists(), "{err}");
    assert_eq!(
        fs::read(&p).unwrap(),
        BYTES,
        "the existing file is untouched"
    );
    assert_eq!(names(dir.path()), ["a.json"], "no temp file left");
    // A symlink at the name is not followed or replaced.
    std::os::unix::fs::symlink("/etc/passwd", dir.path().join("l")).unwrap();
    assert!(
        atomic::write_new(&RealStorage, dir.path(), "l", b"x", 0o644)
            .unwrap_err()
            .is_already_exists()
    );
    for bad in ["../escape", "a/b", "/abs", "..", ".", "", "a\0b"] {
        assert!(atomic::write_new(&RealStorage, dir.path(), bad, b"x", 0o644).is_err());
    }
    assert_eq!(names(dir.path()), ["a.json", "l"]);
}

#[test]
fn every_injected_fault_leaves_nothing_or_the_whole_file_and_is_an_error() {
    let total = count_ops(|s| {
        let d = tempfile::tempdir().unwrap();
        atomic::write_new(s, d.path(), "f", BYTES, 0o644).unwrap();
    });
    assert!(total >= 5, "create, write, fsync, rename, dir fsync");
    for &op in FAULT_OPS {
        for errno in [EIO, ENOSPC] {
            for n in 1..=3 {
                let d = tempfile::tempdir().unwrap();
                let s = FaultyStorage::fail_nth(op, n, errno);
                let r = atomic::write_new(&s, d.path(), "f", BYTES, 0o644);
                if s.count(op) < n {
                    assert!(r.is_ok(), "{op:?}#{n}: no fault fired");
                    continue;
                }
                let err = r.expect_err("a fault is an error, never retried into success");
                assert_eq!(err.source.raw_os_error(), Some(errno), "{op:?}: {err}");
                let files = names(d.path());
                match files.as_slice() {
                    [] => {}
                    [one] if one == "f" => assert_eq!(fs::read(d.path().join("f")).unwrap(), BYTES),
                    other => panic!("{op:?}#{n} errno {errno}: left {other:?}"),
                }
                // Only a directory fsync failure can come after the rename.
                if !files.is_empty() {
                    assert_eq!(op, Op::SyncDir);
                }
                // Each fsync was attempted at most once per file.
                assert!(s.count(Op::Sync) <= 1, "{op:?}: fsync retried");
            }
        }
    }
}

#[test]
fn power_loss_at_every_step_leaves_nothing_or_the_whole_file() {
    let total = count_ops(|s| {
        let d = tempfile::tempdir().unwrap();
        atomic::write_new(s, d.path(), "f", BYTES, 0o644).unwrap();
    });
    for mode in [Crash::DropAll, Crash::KeepNames] {
        for n in 0..=total {
            let d = tempfile::tempdir().unwrap();
            let s = FaultyStorage::halt_after(n);
            let r = atomic::write_new(&s, d.path(), "f", BYTES, 0o644);
            assert_eq!(r.is_ok(), n >= total, "halt after {n}");
            s.crash(mode);
            let f = d.path().join("f");
            if f.exists() {
                assert_eq!(
                    fs::read(&f).unwrap(),
                    BYTES,
                    "{mode:?} halt after {n}: partial file"
                );
            }
            // The next run removes what the cut left.
            atomic::remove_stale_temps(&RealStorage, d.path()).unwrap();
            assert!(temps(d.path()).is_empty());
            let left = names(d.path());
            assert!(left.is_empty() || left == ["f"], "{mode:?} {n}: {left:?}");
        }
    }
}

#[test]
fn replace_leaves_the_old_or_the_new_file_whole() {
    let total = count_ops(|s| {
        let d = tempfile::tempdir().unwrap();
        fs::write(d.path().join("state.json"), b"old").unwrap();
        atomic::replace(s, d.path(), "state.json", BYTES, 0o600).unwrap();
    });
    for mode in [Crash::DropAll, Crash::KeepNames] {
        for n in 0..=total {
            let d = tempfile::tempdir().unwrap();
            let f = d.path().join("state.json");
            fs::write(&f, b"old").unwrap();
            let s = FaultyStorage::halt_after(n);
            s.assume_durable(&f);
            let r = atomic::replace(&s, d.path(), "state.json", BYTES, 0o600);
            assert_eq!(r.is_ok(), n >= total);
            s.crash(mode);
            let got = fs::read(&f).unwrap();
            assert!(got == b"old" || got == BYTES, "{mode:?} {n}: {got:?}");
        }
    }
}

#[test]
fn appends_are_whole_lines_or_nothing_and_a_torn_tail_is_kept_apart() {
    let d = tempfile::tempdir().unwrap();
    let log = d.path().join("log.jsonl");
    atomic::append_line(&RealStorage, &log, b"one", 0o644).unwrap();
    atomic::append_line(&RealStorage, &log, b"two", 0o644).unwrap();
    assert_eq!(fs::read(&log).unwrap(), b"one\ntwo\n");
    assert!(atomic::append_line(&RealStorage, &log, b"a\nb", 0o644).is_err());

    let total = count_ops(|s| {
        let d = tempfile::tempdir().unwrap();
        let log = d.path().join("log.jsonl");
        fs::write(&log, b"one\n").unwrap();
        atomic::append_line(s, &log, b"two", 0o644).unwrap();
    });
    for n in 0..=total {
        let d = tempfile::tempdir().unwrap();
        let log = d.path().join("log.jsonl");
        fs::write(&log, b"one\n").unwrap();
        let s = FaultyStorage::halt_after(n);
        s.assume_durable(&log);
        let r = atomic::append_line(&s, &log, b"two", 0o644);
        assert_eq!(r.is_ok(), n >= total);
        s.crash(Crash::DropAll);
        let got = fs::read(&log).unwrap();
        assert!(got == b"one\n" || got == b"one\ntwo\n", "{n}: {got:?}");
    }

    // A short write (ENOSPC mid-line) leaves a fragment; the next append starts on a new line and
    // the existing bytes are not changed.
    let s = FaultyStorage::fail_nth(Op::Write, 1, ENOSPC);
    let err = atomic::append_line(&s, &log, b"three-long-line", 0o644).unwrap_err();
    assert_eq!(err.source.raw_os_error(), Some(ENOSPC));
    let torn = fs::read(&log).unwrap();
    assert!(torn.starts_with(b"one\ntwo\n") && torn.len() > 8 && !torn.ends_with(b"\n"));
    atomic::append_line(&RealStorage, &log, b"four", 0o644).unwrap();
    let after = fs::read(&log).unwrap();
    assert!(after.starts_with(&torn));
    assert!(after.ends_with(b"\nfour\n"));
}

#[test]
fn cleanup_removes_only_our_temp_files() {
    let d = tempfile::tempdir().unwrap();
    for n in [
        format!("{TEMP_PREFIX}1234-0-abcdef"),
        format!("{TEMP_PREFIX}99-ff-0"),
        format!("{TEMP_PREFIX}1.reject.receipt.json"),
        "bundle.tar.reject.receipt.json".into(),
        ".airlock-tmp".into(),
        "notes.txt".into(),
    ] {
        fs::write(d.path().join(n), b"x").unwrap();
    }
    let removed = atomic::remove_stale_temps(&RealStorage, d.path()).unwrap();
    assert_eq!(removed.len(), 2);
    assert_eq!(
        names(d.path()),
        [
            ".airlock-tmp",
            ".airlock-tmp-1.reject.receipt.json",
            "bundle.tar.reject.receipt.json",
            "notes.txt"
        ]
    );
    // A missing directory has nothing to clean.
    assert!(
        atomic::remove_stale_temps(&RealStorage, &d.path().join("nope"))
            .unwrap()
            .is_empty()
    );
}

#[test]
fn first_free_name_never_overwrites_and_survives_a_racing_writer() {
    let d = tempfile::tempdir().unwrap();
    fs::write(d.path().join("r"), b"mine").unwrap();
    let name = atomic::write_first_free(
        &RealStorage,
        d.path(),
        ["r".to_string(), "r.2".into(), "r.3".into()],
        BYTES,
        0o644,
    )
    .unwrap();
    assert_eq!(name, "r.2");
    assert_eq!(fs::read(d.path().join("r")).unwrap(), b"mine");

    // A name that appears between the check and the rename is not replaced either.
    let mut staged = atomic::stage(&RealStorage, d.path(), BYTES, 0o644).unwrap();
    fs::write(d.path().join("late"), b"someone else").unwrap();
    assert!(staged
        .commit_noreplace("late")
        .unwrap_err()
        .is_already_exists());
    assert_eq!(fs::read(d.path().join("late")).unwrap(), b"someone else");
    staged.commit_noreplace("late.2").unwrap();
    drop(staged);
    assert!(temps(d.path()).is_empty());
}

#[test]
fn ensure_dir_refuses_symlinks_and_files() {
    let media = tempfile::tempdir().unwrap();
    let elsewhere = tempfile::tempdir().unwrap();
    std::os::unix::fs::symlink(elsewhere.path(), media.path().join("receipts")).unwrap();
    assert!(atomic::ensure_dir(&RealStorage, media.path(), "receipts", 0o755).is_err());
    fs::write(media.path().join("evidence"), b"").unwrap();
    assert!(atomic::ensure_dir(&RealStorage, media.path(), "evidence", 0o755).is_err());
    let p = atomic::ensure_dir(&RealStorage, media.path(), "new", 0o755).unwrap();
    assert!(p.is_dir());
    assert!(atomic::ensure_dir(&RealStorage, media.path(), "new", 0o755).is_ok());
}

#[test]
fn read_only_media_is_an_error_and_leaves_nothing() {
    // Root ignores directory permissions; a read-only bind mount is not available in a test, so
    // the refusal is injected where the kernel would report it (EROFS on create).
    let d = tempfile::tempdir().unwrap();
    let s = FaultyStorage::fail_nth(Op::Create, 1, 30 /* EROFS */);
    let e = atomic::write_new(&s, d.path(), "f", BYTES, 0o644).unwrap_err();
    assert_eq!(e.source.raw_os_error(), Some(30));
    assert!(e.to_string().contains("could not write"));
    assert!(names(d.path()).is_empty());
    let _ = Path::new("/");
    let _ = RealStorage.sync_filesystem(d.path());
}
