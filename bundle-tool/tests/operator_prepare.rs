//! Issue 13, item 4: `media prepare` dry-runs the verifier against the anchor it prepares for and
//! refuses (unless --force) a stick the appliance will reject: a tampered bundle, a bundle made
//! for another root, a stale bundle left in a reused stick's inbox/.

mod operator;

use operator::*;
use std::path::Path;

fn prepare(d: &Path, media: &str, bundle: &str, extra: &[&str]) -> std::process::Output {
    let mut a = vec![
        "media",
        "prepare",
        "--media",
        media,
        "--anchor",
        "root/1.json",
        "--bundle",
        bundle,
        "--scratch",
        "scratch",
    ];
    a.extend(extra);
    run(d, &a)
}

fn refused(o: &std::process::Output, why: &str) {
    let err = String::from_utf8_lossy(&o.stderr);
    let out = String::from_utf8_lossy(&o.stdout);
    assert_eq!(o.status.code(), Some(2), "{out}{err}");
    assert!(
        err.contains("nothing was written") && (err.contains(why) || out.contains(why)),
        "{out}{err}"
    );
}

fn dist(d: &Path) {
    std::fs::create_dir_all(d.join("dist")).unwrap();
    std::fs::write(d.join("dist/cavra"), b"runtime").unwrap();
}

#[test]
fn prepare_refuses_what_the_appliance_will_reject() {
    let t = tempfile::tempdir().unwrap();
    let d = t.path();
    setup(d);
    std::fs::create_dir(d.join("scratch")).unwrap();
    dist(d);
    pack(d, "dist", "v0.1.0", "good.tar.gz");
    let o = prepare(d, "stick", "good.tar.gz", &[]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(String::from_utf8_lossy(&o.stdout).contains("promote inbox/good.tar.gz"));

    // The attack: a tampered bundle went onto the stick with exit 0.
    let mut bytes = std::fs::read(d.join("good.tar.gz")).unwrap();
    let mid = bytes.len() / 2;
    bytes[mid] ^= 0x20;
    std::fs::write(d.join("tampered.tar.gz"), &bytes).unwrap();
    refused(
        &prepare(d, "stick-t", "tampered.tar.gz", &[]),
        "reject inbox/tampered.tar.gz",
    );
    assert!(!d.join("stick-t/inbox/tampered.tar.gz").exists());
    let o = prepare(d, "stick-t", "tampered.tar.gz", &["--force"]);
    assert!(o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("writing anyway"));
    assert!(d.join("stick-t/inbox/tampered.tar.gz").is_file());

    // A bundle made under another organisation's root.
    let t2 = tempfile::tempdir().unwrap();
    setup(t2.path());
    dist(t2.path());
    pack(t2.path(), "dist", "v0.1.0", "foreign.tar.gz");
    let foreign = t2.path().join("foreign.tar.gz");
    refused(
        &prepare(d, "stick-f", foreign.to_str().unwrap(), &[]),
        "reject inbox/foreign.tar.gz",
    );

    // A reused stick: a stale bundle left in inbox/ is verified (and rejected) too.
    std::fs::write(d.join("stick/inbox/old-junk.tar.gz"), b"left over").unwrap();
    pack(d, "dist", "v0.1.1", "next.tar.gz");
    refused(
        &prepare(d, "stick", "next.tar.gz", &[]),
        "reject inbox/old-junk.tar.gz",
    );
    assert!(!d.join("stick/inbox/next.tar.gz").exists());
    // The scratch copies are gone.
    assert_eq!(std::fs::read_dir(d.join("scratch")).unwrap().count(), 0);
}
