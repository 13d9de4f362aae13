//! The `airlock` command-line contract (interface.md), through the real binary where it can be:
//! the `--format json` document, exit codes 0/1/2, BUNDLE paths relative to MEDIA, inbox
//! discovery, `MEDIA/appliance-key.json`, receipt naming, `airlock evidence verify` and
//! `airlock receipt verify`; and, through `verify_media_with`, read-only media (#59), hostile
//! bundle names (#17) and stray trust-root copies (#19).

mod support;

use serde_json::Value;
use std::path::Path;
use std::process::{Command, Output};
use support::*;

fn airlock(args: &[&std::ffi::OsStr], cwd: &Path) -> Output {
    Command::new(airlock_bin())
        .args(args)
        .current_dir(cwd)
        .env_remove("AIRLOCK_STATE")
        .output()
        .unwrap()
}

/// `airlock verify --anchor A --state S [extra…] MEDIA [bundles…]`, run from `cwd`.
fn verify(kit: &Kit, extra: &[&str], bundles: &[&str], cwd: &Path) -> Output {
    let mut a: Vec<std::ffi::OsString> = vec![
        "verify".into(),
        "--anchor".into(),
        kit.anchor_path.clone().into(),
        "--state".into(),
        kit.state.clone().into(),
    ];
    a.extend(extra.iter().map(|s| s.into()));
    a.push(kit.media.clone().into());
    a.extend(bundles.iter().map(|s| s.into()));
    let refs: Vec<&std::ffi::OsStr> = a.iter().map(|s| s.as_os_str()).collect();
    airlock(&refs, cwd)
}

fn json(out: &Output) -> Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "stdout is not one JSON document ({e}):\n{}\nstderr:\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

fn keys_of(v: &Value) -> Vec<String> {
    let mut k: Vec<String> = v.as_object().unwrap().keys().cloned().collect();
    k.sort();
    k
}

/// `--format json` prints exactly one JSON document: `results[]` of objects with exactly
/// `bundle`, `verdict`, `package`, `version`, `reasons[{code, message}]`, `receipt`; package and
/// version null when the bundle could not be read; results in byte-wise name order.
///
/// Pins: `cli::output::json_report` (field names, nulls), `Verdict`/`Reason` serialisation.
#[test]
fn json_output_has_the_documented_shape() {
    let kit = Kit::new();
    let good = kit.bundle("a-good.tar.gz", &Spec::new("v0.2.0"));
    let old = kit.bundle("b-old.tar", &Spec::new("v0.1.0"));
    kit.put_media("inbox/c-junk.tgz", b"this is not a bundle at all");
    let out = verify(&kit, &["--format", "json"], &[], kit.tmp.path());
    assert_eq!(out.status.code(), Some(1));
    let doc = json(&out);
    // `problems` and `schema_version` are this implementation's additions (the contract allows
    // additions); `results` is the contract.
    for k in keys_of(&doc) {
        assert!(
            k == "results" || k == "problems" || k == "schema_version",
            "unexpected top-level key {k}"
        );
    }
    assert_eq!(doc["schema_version"], 1);
    if let Some(p) = doc.get("problems") {
        assert_eq!(p, &serde_json::json!([]));
    }
    let results = doc["results"].as_array().unwrap();
    assert_eq!(results.len(), 3);
    for r in results {
        assert_eq!(
            keys_of(r),
            ["bundle", "package", "reasons", "receipt", "verdict", "version"]
        );
        for reason in r["reasons"].as_array().unwrap() {
            assert_eq!(keys_of(reason), ["code", "message"]);
            let code = reason["code"].as_str().unwrap();
            assert!(
                airlock_formats::reason::Code::parse(code).is_some(),
                "{code}"
            );
            assert!(!reason["message"].as_str().unwrap().is_empty());
        }
        let receipt = r["receipt"].as_str().unwrap();
        assert!(receipt.starts_with("receipts/"));
        assert!(kit.media.join(receipt).is_file());
    }
    let bundles: Vec<&str> = results
        .iter()
        .map(|r| r["bundle"].as_str().unwrap())
        .collect();
    assert_eq!(bundles, [good.as_str(), old.as_str(), "inbox/c-junk.tgz"]);

    assert_eq!(results[0]["verdict"], "promote");
    assert_eq!(results[0]["package"], PACKAGE);
    assert_eq!(results[0]["version"], "v0.2.0");
    assert_eq!(results[0]["reasons"], serde_json::json!([]));
    assert_eq!(
        results[0]["receipt"],
        "receipts/a-good.tar.gz.promote.receipt.json"
    );

    assert_eq!(results[1]["verdict"], "reject");
    assert_eq!(results[1]["version"], "v0.1.0");
    assert_eq!(results[1]["reasons"][0]["code"], "release-rollback");
    assert_eq!(
        results[1]["receipt"],
        "receipts/b-old.tar.reject.receipt.json"
    );

    assert_eq!(results[2]["verdict"], "reject");
    assert_eq!(results[2]["package"], Value::Null);
    assert_eq!(results[2]["version"], Value::Null);
    assert_eq!(results[2]["reasons"][0]["code"], "bundle-unreadable");
}

/// Exit status: 0 every bundle promoted; 1 at least one rejected; 2 the run could not proceed
/// (usage errors, no anchor, unreadable state, a BUNDLE path outside MEDIA).
///
/// Pins: `RunReport::exit_code`, `cli::verify`'s error path, clap's usage exit status.
#[test]
fn exit_codes_are_0_1_2() {
    let kit = Kit::new();
    kit.bundle("a.tar", &Spec::new("v0.1.0"));
    let cwd = kit.tmp.path();
    assert_eq!(verify(&kit, &[], &[], cwd).status.code(), Some(0));
    kit.bundle("b.tar", &Spec::new("v0.0.1"));
    assert_eq!(verify(&kit, &[], &[], cwd).status.code(), Some(1));
    // Human output names the verdicts.
    let out = verify(&kit, &[], &[], cwd);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("PROMOTE") && text.contains("REJECT") && text.contains("release-rollback")
    );

    let os = |v: &[&str]| -> Vec<std::ffi::OsString> { v.iter().map(|s| s.into()).collect() };
    for args in [
        os(&[]),
        os(&["frobnicate"]),
        os(&["verify"]),
        os(&["verify", "--format", "xml", "/nonexistent"]),
        os(&["verify", "--no-such-flag", "/nonexistent"]),
    ] {
        let refs: Vec<&std::ffi::OsStr> = args.iter().map(|s| s.as_os_str()).collect();
        let out = airlock(&refs, cwd);
        assert_eq!(out.status.code(), Some(2), "usage {args:?}");
    }
    // No anchor.
    let out = airlock(
        &[
            "verify".as_ref(),
            "--state".as_ref(),
            kit.tmp.path().join("other-state").as_os_str(),
            kit.media.as_os_str(),
        ],
        cwd,
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("anchor"));
}

/// BUNDLE arguments are relative to MEDIA (not to the working directory), may name bundles
/// outside `inbox/`, and are verified alone; `..`, absolute paths and empty paths are refused with
/// exit 2.
///
/// Pins: `media::resolve_bundle` and its use in `run`.
#[test]
fn bundle_arguments_are_relative_to_media() {
    let kit = Kit::new();
    let a = kit.bundle("a.tar", &Spec::new("v0.1.0"));
    kit.bundle("b.tar", &Spec::new("v0.0.1"));
    let built = kit.build("x.tar", &Spec::new("v0.1.1").package("other"));
    std::fs::create_dir_all(kit.media.join("elsewhere")).unwrap();
    std::fs::copy(&built, kit.media.join("elsewhere/x.tar")).unwrap();
    std::fs::copy(&built, kit.tmp.path().join("outside.tar")).unwrap();
    // From an unrelated working directory.
    let cwd = kit.work.as_path();
    let out = verify(&kit, &["--format", "json"], &[&a, "elsewhere/x.tar"], cwd);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let doc = json(&out);
    let bundles: Vec<&str> = doc["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["bundle"].as_str().unwrap())
        .collect();
    assert_eq!(bundles, [a.as_str(), "elsewhere/x.tar"]);
    let outside = kit.tmp.path().join("outside.tar");
    for bad in [
        "../outside.tar",
        "inbox/../../outside.tar",
        outside.to_str().unwrap(),
        "",
    ] {
        let out = verify(&kit, &[], &[bad], cwd);
        assert_eq!(out.status.code(), Some(2), "{bad:?}");
        assert!(!String::from_utf8_lossy(&out.stderr).is_empty());
    }
}

/// Without BUNDLE arguments: every `*.tar`, `*.tar.gz`, `*.tgz` in `MEDIA/inbox/` (not other
/// extensions, not hidden files, not subdirectories), in byte-wise order.
///
/// Pins: `media::inbox` and `media::is_bundle_name`.
#[test]
fn default_inbox_discovery() {
    let kit = Kit::new();
    let built = kit.build("x.tar", &Spec::new("v0.1.0"));
    for name in [
        "c.tgz",
        "a.tar",
        "b.tar.gz",
        "d.zip",
        "e.tar.bz2",
        ".hidden.tar",
        "README",
        "f.tar.gz.sig",
    ] {
        std::fs::copy(&built, kit.media.join("inbox").join(name)).unwrap();
    }
    std::fs::create_dir_all(kit.media.join("inbox/sub")).unwrap();
    std::fs::copy(&built, kit.media.join("inbox/sub/g.tar")).unwrap();
    std::fs::copy(&built, kit.media.join("h.tar")).unwrap();
    let out = verify(&kit, &["--format", "json"], &[], kit.tmp.path());
    let doc = json(&out);
    let bundles: Vec<&str> = doc["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["bundle"].as_str().unwrap())
        .collect();
    assert_eq!(bundles, ["inbox/a.tar", "inbox/b.tar.gz", "inbox/c.tgz"]);
}

/// `MEDIA/appliance-key.json` is written when absent (the appliance's public key entry, the same
/// as `STATE/appliance-key.json`) and left byte-for-byte alone when present, whatever it holds.
///
/// Pins: `ApplianceKey::publish_to_media` (write_new, never replace).
#[test]
fn appliance_key_is_published_when_absent_and_never_modified() {
    let kit = Kit::new();
    kit.bundle("a.tar", &Spec::new("v0.1.0"));
    assert_eq!(
        verify(&kit, &[], &[], kit.tmp.path()).status.code(),
        Some(0)
    );
    let published = std::fs::read(kit.media.join("appliance-key.json")).unwrap();
    assert_eq!(
        published,
        std::fs::read(kit.state.join("appliance-key.json")).unwrap()
    );
    // Another stick that met another appliance first.
    kit.new_stick();
    kit.bundle("a.tar", &Spec::new("v0.1.0"));
    let foreign = b"{\"key_id\": \"someone-else\"}\n";
    kit.put_media("appliance-key.json", foreign);
    assert_eq!(
        verify(&kit, &[], &[], kit.tmp.path()).status.code(),
        Some(0)
    );
    assert_eq!(
        std::fs::read(kit.media.join("appliance-key.json")).unwrap(),
        foreign
    );
}

/// Receipts are named `<bundle>.<verdict>.receipt.json`, then `.<verdict>.2.receipt.json`,
/// `.3.`, … on re-verification; nothing is overwritten.
///
/// Pins: `receipt::receipt_names` / `write_first_free`.
#[test]
fn receipt_names_count_up_on_reverification() {
    let kit = Kit::new();
    kit.bundle("a.tar", &Spec::new("v0.1.0"));
    kit.put_media("inbox/z.tar", b"junk");
    for _ in 0..3 {
        verify(&kit, &[], &[], kit.tmp.path());
    }
    let mut names: Vec<String> = std::fs::read_dir(kit.media.join("receipts"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(
        names,
        [
            "a.tar.promote.2.receipt.json",
            "a.tar.promote.3.receipt.json",
            "a.tar.promote.receipt.json",
            "z.tar.reject.2.receipt.json",
            "z.tar.reject.3.receipt.json",
            "z.tar.reject.receipt.json",
        ]
    );
}

/// `airlock evidence verify MEDIA --key MEDIA/appliance-key.json` passes (exit 0) after a real
/// run and fails (exit 1) once one byte of the media's log is changed.
///
/// Pins: `evidence::verify_log` signature/chain checks as wired into the CLI.
#[test]
fn evidence_verify_passes_then_fails_after_one_flipped_byte() {
    let kit = Kit::new();
    kit.bundle("a.tar", &Spec::new("v0.1.0"));
    kit.put_media("inbox/b.tar", b"junk");
    assert_eq!(
        verify(&kit, &[], &[], kit.tmp.path()).status.code(),
        Some(1)
    );
    let key = kit.media.join("appliance-key.json");
    let ev = |media: &Path| {
        airlock(
            &[
                "evidence".as_ref(),
                "verify".as_ref(),
                media.as_os_str(),
                "--key".as_ref(),
                key.as_os_str(),
            ],
            kit.tmp.path(),
        )
    };
    let out = ev(&kit.media);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let log = kit.media.join("evidence/airlock-evidence.jsonl");
    let mut bytes = std::fs::read(&log).unwrap();
    let at = String::from_utf8_lossy(&bytes)
        .find("\"bundle_sha256\":\"")
        .unwrap()
        + "\"bundle_sha256\":\"".len()
        + 10;
    bytes[at] = if bytes[at] == b'0' { b'1' } else { b'0' };
    std::fs::write(&log, &bytes).unwrap();
    let out = ev(&kit.media);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
}

/// `airlock receipt verify RECEIPT --key FILE` passes on a written receipt and fails (exit 1) on
/// one whose payload was altered (bundle name changed, signature kept) or whose signature had one
/// byte changed.
///
/// Pins: `receipt::verify_receipt` as wired into the CLI.
#[test]
fn receipt_verify_fails_on_an_altered_receipt() {
    let kit = Kit::new();
    kit.bundle("a.tar", &Spec::new("v0.1.0"));
    assert_eq!(
        verify(&kit, &[], &[], kit.tmp.path()).status.code(),
        Some(0)
    );
    let rc = kit.media.join("receipts/a.tar.promote.receipt.json");
    let key = kit.media.join("appliance-key.json");
    let check = |p: &Path| {
        airlock(
            &[
                "receipt".as_ref(),
                "verify".as_ref(),
                p.as_os_str(),
                "--key".as_ref(),
                key.as_os_str(),
            ],
            kit.tmp.path(),
        )
    };
    assert_eq!(check(&rc).status.code(), Some(0));

    let env: Value = serde_json::from_slice(&std::fs::read(&rc).unwrap()).unwrap();
    let payload = airlock_formats::keys::decode_base64(env["payload"].as_str().unwrap()).unwrap();
    let altered = String::from_utf8(payload)
        .unwrap()
        .replace("inbox/a.tar", "inbox/A.tar");
    let mut env2 = env.clone();
    env2["payload"] = Value::String(airlock_formats::keys::encode_base64(altered.as_bytes()));
    let p2 = kit.tmp.path().join("altered.receipt.json");
    std::fs::write(&p2, serde_json::to_vec(&env2).unwrap()).unwrap();
    let out = check(&p2);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stdout).contains("NOT verify"));

    let mut env3 = env.clone();
    let mut sig =
        airlock_formats::keys::decode_base64(env3["signatures"][0]["sig"].as_str().unwrap())
            .unwrap();
    sig[5] ^= 1;
    env3["signatures"][0]["sig"] = Value::String(airlock_formats::keys::encode_base64(&sig));
    let p3 = kit.tmp.path().join("badsig.receipt.json");
    std::fs::write(&p3, serde_json::to_vec(&env3).unwrap()).unwrap();
    assert_eq!(check(&p3).status.code(), Some(1));
}

/// #59: read-only media (every write there fails with EROFS): the verdicts are still reported,
/// the run's exit status is 2, the state is not updated, and no file at all (not even a partial
/// or temp file) appears on the media.
///
/// Pins: `Recorder` turning media write failures into run problems (exit 2) while still
/// reporting verdicts, and writing the state only after a receipt was written.
#[test]
fn read_only_media_still_reports_verdicts_exit_2_and_changes_nothing() {
    let kit = Kit::new();
    let first = kit.bundle("first.tar", &Spec::new("v0.1.0"));
    assert_promoted(result(&kit.run(), &first));
    kit.new_stick();
    let good = kit.bundle("a.tar", &Spec::new("v0.2.0"));
    let bad = kit.bundle("b.tar", &Spec::new("v0.0.1"));
    let (state0, media0) = (tree(&kit.state), tree(&kit.media));
    let storage = ReadOnlyUnder(kit.media.clone());
    let rep = airlock_verifier::run::verify_media_with(
        &kit.opts(),
        &airlock_verifier::bundle::NoProgress,
        &storage,
    )
    .unwrap();
    assert_eq!(rep.exit_code(), 2);
    assert!(!rep.problems.is_empty());
    assert_promoted(result(&rep, &good));
    assert_rejected_with(result(&rep, &bad), &["release-rollback"]);
    assert!(rep.results.iter().all(|r| r.receipt.is_none()));
    assert_eq!(tree(&kit.state), state0, "the state was updated");
    assert_eq!(
        tree(&kit.media),
        media0,
        "something was written on the media"
    );
    assert_eq!(kit.state_data().packages[PACKAGE].version, "v0.1.0");
    // The human report shows the verdicts and the problem.
    let text = airlock_cli::output::human_report(&rep);
    assert!(text.contains("PROMOTE") && text.contains("REJECT") && text.contains("ERROR"));
}

/// Paths created on the media by a run, MEDIA-relative.
fn created(before: &std::collections::BTreeMap<String, String>, media: &Path) -> Vec<String> {
    tree(media)
        .into_keys()
        .filter(|k| !before.contains_key(k))
        .collect()
}

fn in_write_area(p: &str) -> bool {
    p == "receipts"
        || p == "evidence"
        || p == "appliance-key.json"
        || p.starts_with("receipts/")
        || p.starts_with("evidence/")
}

/// #17: bundle files with odd names (control characters, backslashes, `..` inside, shell
/// syntax, non-ASCII) never cause a write outside `receipts/` and `evidence/` (and the published
/// `appliance-key.json`), on the media or beside it.
///
/// Pins: `atomic::check_basename` in `receipt::write_receipt` and the use of the bundle's file
/// name (not its path) for the receipt name.
#[test]
fn odd_bundle_names_never_write_outside_receipts() {
    let kit = Kit::new();
    let built = kit.build("x.tar", &Spec::new("v0.1.0"));
    let names = [
        "tab\there.tar",
        "new\nline.tar",
        "back\\slash.tar",
        "..\\..\\..\\escape.tar",
        "dots..in..name.tar",
        "$(touch pwned).tar",
        "-rf.tar",
        "ünïcødé ✓.tar",
    ];
    for n in names {
        std::fs::copy(&built, kit.media.join("inbox").join(n)).unwrap();
    }
    let parent0 = tree(kit.tmp.path());
    let media0 = tree(&kit.media);
    let rep = kit.run_opts(&kit.opts()).unwrap();
    assert!(!rep.results.is_empty());
    for p in created(&media0, &kit.media) {
        assert!(in_write_area(&p), "written outside receipts/: {p:?}");
    }
    for r in &rep.results {
        if let Some(rc) = &r.receipt {
            assert!(
                rc.starts_with("receipts/") && !rc[9..].contains('/'),
                "{rc:?}"
            );
        }
    }
    let outside: Vec<String> = tree(kit.tmp.path())
        .into_keys()
        .filter(|k| !parent0.contains_key(k))
        .filter(|k| !k.starts_with("media/") && !k.starts_with("state") && k != "state")
        .collect();
    assert!(outside.is_empty(), "written beside the media: {outside:?}");
    assert!(!kit.work.join("pwned").exists() && !kit.tmp.path().join("pwned").exists());
}

/// One bundle with a hostile name (a control character or a backslash, which cannot be a receipt
/// name) must not cost the other bundles of the stick their receipts, nor make the run exit 2 as
/// if the media were not writable ("a receipt is written for each bundle either way").
///
/// Pins: a name-check failure of one receipt being handled per bundle, not as a media failure.
#[test]
fn a_hostile_bundle_name_does_not_cost_the_others_their_receipts() {
    let kit = Kit::new();
    let built = kit.build("x.tar", &Spec::new("v0.1.0"));
    // '\t' (0x09) sorts before '-' (0x2d): the hostile one is verified first.
    std::fs::copy(&built, kit.media.join("inbox/a\tb.tar")).unwrap();
    std::fs::copy(&built, kit.media.join("inbox/a-normal.tar")).unwrap();
    let rep = kit.run();
    let normal = result(&rep, "inbox/a-normal.tar");
    assert_promoted(normal);
    assert!(
        normal.receipt.is_some(),
        "no receipt for a-normal.tar: {:#?}",
        rep.problems
    );
    assert_ne!(rep.exit_code(), 2, "{:#?}", rep.problems);
}

/// A bundle with a long but legal file name (240 bytes; vfat and ext4 allow 255) gets a receipt,
/// and does not cost the other bundles theirs: the receipt name (name + `.promote.receipt.json`)
/// must be shortened to fit NAME_MAX.
///
/// Pins: receipt naming for long bundle names.
#[test]
fn a_long_bundle_name_still_gets_a_receipt() {
    let kit = Kit::new();
    let built = kit.build("x.tar", &Spec::new("v0.1.0"));
    let long = format!("a{}.tar", "x".repeat(235));
    assert_eq!(long.len(), 240);
    std::fs::copy(&built, kit.media.join("inbox").join(&long)).unwrap();
    std::fs::copy(&built, kit.media.join("inbox/b.tar")).unwrap();
    let rep = kit.run();
    assert!(rep.problems.is_empty(), "{:#?}", rep.problems);
    for r in &rep.results {
        assert_promoted(r);
        let rc = r.receipt.as_deref().expect("a receipt");
        assert!(kit.media.join(rc).is_file());
    }
}

/// #19: trust material is read from the fixed paths only. A garbage `inbox/trust-root/9.json`
/// and a valid v2 at `inbox/offline-trust-root-bootstrap.json` and `backup/trust-root/2.json`
/// change nothing: the bundle promotes under v1 and v2 is not persisted.
///
/// Pins: `media::read_trust` reading only `MEDIA/offline-trust-root-bootstrap.json`,
/// `MEDIA/trust-root/<n>.json` and `MEDIA/revocations.json`.
#[test]
fn stray_trust_root_copies_elsewhere_on_the_media_are_ignored() {
    let kit = Kit::new();
    let v2 = kit.rotate(
        &kit.anchor,
        &RootChanges::default(),
        &[&kit.keys.root_a, &kit.keys.root_b],
    );
    kit.put_media("inbox/trust-root/9.json", b"garbage");
    kit.put_media("inbox/offline-trust-root-bootstrap.json", &v2);
    kit.put_media("backup/trust-root/2.json", &v2);
    kit.put_media("inbox/revocations.json", b"garbage");
    let b = kit.bundle("a.tar", &Spec::new("v0.1.0"));
    let rep = kit.run();
    let r = result(&rep, &b);
    assert_promoted(r);
    assert_eq!(
        receipt(&kit, r.receipt.as_deref().unwrap())
            .trust_root
            .version,
        Some(1)
    );
    assert_eq!(kit.state_data().trust_root_version, 1);
    assert!(!kit.state.join("trust-root/2.json").exists());
}
