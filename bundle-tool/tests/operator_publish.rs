//! Issue 13, items 5 and 6: published material (roots, revocation lists, bundles) is never
//! replaced silently, one list version never has two contents, and revocation mistakes (an
//! unknown key id, an expiry nobody thought about) are refused or spelt out.

mod operator;

use operator::*;

fn revoke_args<'a>(draft: &'a str, key_id: &'a str) -> Vec<&'a str> {
    vec![
        "revoke",
        "--draft",
        draft,
        "--key-id",
        key_id,
        "--affected-versions",
        "v0.0.9",
        "--revoked-at",
        "2026-01-02T00:00:00Z",
        "--replacement-key-id",
        "rel-q3",
        "--approver",
        "ops@example.org",
        "--replacement-evidence",
        "ab".repeat(32).leak(),
        "--advisory",
        "CAVRA-SA-2026-003",
    ]
}

#[test]
fn roots_are_not_overwritten() {
    let t = tempfile::tempdir().unwrap();
    let d = t.path();
    let args = setup(d);
    let before = std::fs::read(d.join("root/1.json")).unwrap();
    let a: Vec<&str> = args.iter().map(String::as_str).collect();
    // The attack: a second create silently replaced the published root.
    refused(d, &a, "already exists");
    assert_eq!(std::fs::read(d.join("root/1.json")).unwrap(), before);
    let mut forced = a.clone();
    forced.push("--force");
    ok(d, &forced);
    let rotate = [
        "root",
        "rotate",
        "--previous",
        "root/1.json",
        "--out",
        "root/2.json",
        "--sign",
        "keys/root-a.key",
    ];
    ok(d, &rotate);
    let v2 = std::fs::read(d.join("root/2.json")).unwrap();
    refused(d, &rotate, "already exists");
    assert_eq!(std::fs::read(d.join("root/2.json")).unwrap(), v2);
    // No temp file is left behind.
    let names: Vec<_> = std::fs::read_dir(d.join("root"))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    assert_eq!(names.len(), 2, "{names:?}");
}

#[test]
fn a_list_version_is_published_once() {
    let t = tempfile::tempdir().unwrap();
    let d = t.path();
    setup(d);
    ok(d, &revoke_args("v1.draft.json", "rel-q2"));
    let publish = |draft: &'static str| {
        vec![
            "revocations",
            "publish",
            "--draft",
            draft,
            "--out",
            "revocations.json",
            "--sign",
            "keys/root-a.key",
            "--root",
            "root/1.json",
            "--expires-days",
            "30",
        ]
    };
    ok(d, &publish("v1.draft.json"));
    let v1 = std::fs::read(d.join("revocations.json")).unwrap();
    // The attack: the same draft published again made a second, different version 1.
    refused(
        d,
        &publish("v1.draft.json"),
        "already holds revocation list version 1",
    );
    let mut forced = publish("v1.draft.json");
    forced.push("--force");
    refused(d, &forced, "already holds revocation list version 1");
    assert_eq!(std::fs::read(d.join("revocations.json")).unwrap(), v1);
    // The next version replaces it only when asked to.
    ok(
        d,
        &[
            "revocations",
            "add-artifact",
            "--draft",
            "v2.draft.json",
            "--from",
            "revocations.json",
            "--sha256",
            &"cd".repeat(32),
            "--reason",
            "bad build",
        ],
    );
    refused(d, &publish("v2.draft.json"), "already exists");
    let mut forced = publish("v2.draft.json");
    forced.push("--force");
    ok(d, &forced);
    let text = String::from_utf8(std::fs::read(d.join("revocations.json")).unwrap()).unwrap();
    assert_ne!(text.as_bytes(), v1.as_slice());
}

#[test]
fn bundles_are_not_overwritten() {
    let t = tempfile::tempdir().unwrap();
    let d = t.path();
    setup(d);
    std::fs::create_dir_all(d.join("dist")).unwrap();
    std::fs::write(d.join("dist/cavra"), b"runtime").unwrap();
    let pack = [
        "pack",
        "--dist",
        "dist",
        "--version",
        "v0.1.0",
        "--commit",
        "0123456789abcdef0123456789abcdef01234567",
        "--ref",
        "refs/tags/v0.1.0",
        "--key-id",
        "rel-q3",
        "--signing-required",
        "--release-key",
        "keys/rel-q3.key",
        "--provenance-key",
        "keys/ci-q2.key",
        "--builder-id",
        "https://github.com/actions/runner/github-hosted",
        "--source-repo",
        "https://github.com/cavra/cavra",
        "--trust-root",
        "root/1.json",
        "--out",
        "b.tar.gz",
    ];
    ok(d, &pack);
    let first = std::fs::read(d.join("b.tar.gz")).unwrap();
    std::fs::write(d.join("dist/cavra"), b"runtime, rebuilt").unwrap();
    refused(d, &pack, "already exists");
    assert_eq!(std::fs::read(d.join("b.tar.gz")).unwrap(), first);
    let mut forced = pack.to_vec();
    forced.push("--force");
    ok(d, &forced);
    assert_ne!(std::fs::read(d.join("b.tar.gz")).unwrap(), first);
}

#[test]
fn unknown_revoked_ids_are_refused_against_the_root() {
    let t = tempfile::tempdir().unwrap();
    let d = t.path();
    setup(d);
    // The attack: a typo (rel-q2 spelt rel-2q) publishes fine and the real key stays trusted.
    let mut a = revoke_args("typo.draft.json", "rel-2q");
    a.extend(["--root", "root/1.json"]);
    refused(d, &a, "is not a key of the trust root");
    assert!(!d.join("typo.draft.json").exists());
    // A draft made without --root is caught when it is published against the root.
    ok(d, &revoke_args("typo.draft.json", "rel-2q"));
    refused(
        d,
        &[
            "revocations",
            "publish",
            "--draft",
            "typo.draft.json",
            "--out",
            "revocations.json",
            "--sign",
            "keys/root-a.key",
            "--root",
            "root/1.json",
        ],
        "\"rel-2q\" is not a key of the trust root",
    );
    assert!(!d.join("revocations.json").exists());
    let mut a = revoke_args("good.draft.json", "rel-q2");
    a.extend(["--root", "root/1.json"]);
    ok(d, &a);
}

#[test]
fn publishing_spells_out_the_expiry() {
    let t = tempfile::tempdir().unwrap();
    let d = t.path();
    setup(d);
    ok(d, &revoke_args("r.draft.json", "rel-q2"));
    let publish = |out: &str, extra: &[&str]| {
        let mut a = vec![
            "revocations".to_string(),
            "publish".into(),
            "--draft".into(),
            "r.draft.json".into(),
            "--out".into(),
            out.into(),
            "--sign".into(),
            "keys/root-a.key".into(),
        ];
        a.extend(extra.iter().map(|s| s.to_string()));
        a
    };
    let call = |a: Vec<String>| {
        let a: Vec<&str> = a.iter().map(String::as_str).collect();
        ok(d, &a)
    };
    // The default is named as such, with the consequence and the re-issue date.
    let (out, err) = call(publish("a.json", &[]));
    assert!(err.contains("default 30 days"), "{err}");
    assert!(
        out.contains("every appliance rejects every bundle until a newer list reaches it"),
        "{out}"
    );
    assert!(out.contains("Publish version 2 before "), "{out}");
    // Far in the future: a warning.
    let (_, err) = call(publish("b.json", &["--expires-days", "3650"]));
    assert!(
        err.contains("warning: the list is valid for 3650 days"),
        "{err}"
    );
    let (_, err) = call(publish("c.json", &["--expires-days", "14"]));
    assert!(
        !err.contains("warning") && !err.contains("default"),
        "{err}"
    );
    let a = publish("d.json", &["--expires-days", "0"]);
    let a: Vec<&str> = a.iter().map(String::as_str).collect();
    refused(d, &a, "at least one day");
}

#[test]
fn a_minisign_key_given_as_release_key_names_the_right_option() {
    let t = tempfile::tempdir().unwrap();
    let d = t.path();
    setup(d);
    ok(
        d,
        &[
            "keygen",
            "--minisign",
            "--key-id",
            "mini",
            "--out-dir",
            "keys",
        ],
    );
    std::fs::create_dir_all(d.join("dist")).unwrap();
    std::fs::write(d.join("dist/cavra"), b"runtime").unwrap();
    refused(
        d,
        &[
            "pack",
            "--dist",
            "dist",
            "--version",
            "v0.1.0",
            "--commit",
            "0123456789abcdef0123456789abcdef01234567",
            "--ref",
            "refs/tags/v0.1.0",
            "--key-id",
            "rel-q3",
            "--release-key",
            "keys/mini.minisign.key",
            "--provenance-key",
            "keys/ci-q2.key",
            "--builder-id",
            "b",
            "--source-repo",
            "r",
        ],
        "give it with --minisign-key",
    );
}

/// `--out -`: a signed root or list piped to another tool. Standard output carries the document
/// alone (the messages go to standard error), and the document is the one a file would hold.
#[test]
fn published_material_goes_to_standard_output_with_a_dash() {
    use airlock_formats::document::{revocations::Revocations, trust_root::TrustRoot};
    let t = tempfile::tempdir().unwrap();
    let d = t.path();
    setup(d);
    let rotate = |out: &'static str| {
        [
            "root",
            "rotate",
            "--previous",
            "root/1.json",
            "--out",
            out,
            "--sign",
            "keys/root-a.key",
            "--issued-at",
            "2026-06-01T00:00:00Z",
        ]
    };
    let (stdout, stderr) = ok(d, &rotate("-"));
    let root = TrustRoot::parse(stdout.as_bytes()).unwrap();
    assert_eq!(root.payload.version, 2);
    assert!(stderr.contains("wrote standard output"), "{stderr}");
    // Nothing named "-" was created, and the file form gives the same bytes.
    assert!(!d.join("-").exists());
    ok(d, &rotate("root/2.json"));
    assert_eq!(
        std::fs::read(d.join("root/2.json")).unwrap(),
        stdout.as_bytes()
    );

    ok(d, &revoke_args("v1.draft.json", "rel-q2"));
    let (stdout, stderr) = ok(
        d,
        &[
            "revocations",
            "publish",
            "--draft",
            "v1.draft.json",
            "--out",
            "-",
            "--sign",
            "keys/root-a.key",
            "--root",
            "root/1.json",
        ],
    );
    let list = Revocations::parse(stdout.as_bytes()).unwrap();
    assert_eq!(list.payload.version, 1);
    assert!(stderr.contains("This list expires at"), "{stderr}");
    assert!(!d.join("-").exists());
}

/// A failed write to standard output (a full disk behind a redirection, a closed pipe) is exit 2
/// with a sentence, never a panic (exit 101); and `--out -` into it is refused, not a document cut
/// short with exit 0.
#[test]
fn a_failed_write_to_standard_output_is_an_error_not_a_panic() {
    let t = tempfile::tempdir().unwrap();
    let d = t.path();
    setup(d);
    let full = || {
        std::fs::OpenOptions::new()
            .write(true)
            .open("/dev/full")
            .unwrap()
    };
    for args in [
        vec!["root", "show", "root/1.json"],
        vec![
            "root",
            "rotate",
            "--previous",
            "root/1.json",
            "--out",
            "-",
            "--sign",
            "keys/root-a.key",
        ],
    ] {
        let o = std::process::Command::new(env!("CARGO_BIN_EXE_airlock-bundle"))
            .current_dir(d)
            .args(&args)
            .stdout(full())
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{}: {err}", args.join(" "));
        assert!(
            err.contains("standard output") && !err.contains("panicked"),
            "{}: {err}",
            args.join(" ")
        );
    }
}
