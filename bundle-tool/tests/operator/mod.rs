//! Shared by the operator_* tests: the airlock-bundle and airlock binaries, keys and a root.
#![allow(dead_code)]

use std::path::Path;
use std::process::{Command, Output};

pub fn run(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_airlock-bundle"))
        .current_dir(dir)
        .args(args)
        .env_remove("CAVRA_GO_RELEASE_SIGNING_KEY")
        .output()
        .unwrap()
}

pub fn ok(dir: &Path, args: &[&str]) -> (String, String) {
    let o = run(dir, args);
    assert!(
        o.status.success(),
        "airlock-bundle {}: {}{}",
        args.join(" "),
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    (
        String::from_utf8(o.stdout).unwrap(),
        String::from_utf8(o.stderr).unwrap(),
    )
}

pub fn refused(dir: &Path, args: &[&str], why: &str) {
    let o = run(dir, args);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(
        o.status.code(),
        Some(2),
        "{} succeeded: {err}",
        args.join(" ")
    );
    assert!(err.contains(why), "{}: {err}", args.join(" "));
}

/// Keys and a complete version-1 root in `d`; returns the root create arguments.
pub fn setup(d: &Path) -> Vec<String> {
    for id in ["root-a", "rel-q2", "ci-q2", "rel-q3"] {
        ok(d, &["keygen", "--key-id", id, "--out-dir", "keys"]);
    }
    let mut args: Vec<String> = vec![
        "root".into(),
        "create".into(),
        "--out".into(),
        "root/1.json".into(),
    ];
    for k in ["root-a", "rel-q2", "ci-q2", "rel-q3"] {
        args.push(format!("--key=keys/{k}.pub.json"));
    }
    for a in [
        "--role=root=root-a",
        "--role=release=rel-q2,rel-q3",
        "--role=provenance=ci-q2",
        "--role=revocation=root-a",
        "--builder=https://github.com/actions/runner/github-hosted https://github.com/cavra/cavra refs/tags/v*",
        "--sign=keys/root-a.key",
    ] {
        args.push(a.into());
    }
    let a: Vec<&str> = args.iter().map(String::as_str).collect();
    ok(d, &a);
    args
}

/// The `airlock` binary of this build, rebuilt once per test process (as tests/tests/support).
pub fn airlock_bin() -> std::path::PathBuf {
    static BIN: std::sync::OnceLock<std::path::PathBuf> = std::sync::OnceLock::new();
    BIN.get_or_init(|| {
        let exe = std::env::current_exe().unwrap();
        let profile_dir = exe.parent().and_then(Path::parent).unwrap().to_path_buf();
        let target_dir = profile_dir.parent().unwrap().to_path_buf();
        if let Some(cargo) = std::env::var_os("CARGO") {
            let mut c = Command::new(cargo);
            c.args(["build", "--quiet", "-p", "airlock", "--bin", "airlock"])
                .arg("--target-dir")
                .arg(&target_dir)
                .current_dir(env!("CARGO_MANIFEST_DIR"));
            if profile_dir.file_name().unwrap() == "release" {
                c.arg("--release");
            }
            assert!(
                c.status().unwrap().success(),
                "cargo build -p airlock failed"
            );
        }
        let bin = profile_dir.join("airlock");
        assert!(bin.is_file(), "no airlock binary at {}", bin.display());
        bin
    })
    .clone()
}

/// `airlock ARGS` in `dir`.
pub fn airlock(dir: &Path, args: &[&str]) -> Output {
    Command::new(airlock_bin())
        .current_dir(dir)
        .args(args)
        .env_remove("AIRLOCK_STATE")
        .output()
        .unwrap()
}

/// `airlock-bundle pack` of `dist` as `version` into `out`, signed by rel-q3, carrying root/1.json.
pub fn pack(d: &Path, dist: &str, version: &str, out: &str) {
    let tag = format!("refs/tags/{version}");
    ok(
        d,
        &[
            "pack",
            "--dist",
            dist,
            "--version",
            version,
            "--commit",
            "0123456789abcdef0123456789abcdef01234567",
            "--ref",
            &tag,
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
            out,
        ],
    );
}
