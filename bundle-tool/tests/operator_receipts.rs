//! Issue 13, item 1: receipts are checked against the site's enrolled appliances. A receipt
//! written by another Airlock install (its key on the same stick) is refused under
//! --appliances, and every accepted receipt shows its appliance, trust root and revocation list.

mod operator;

use operator::*;

#[test]
fn receipts_verify_only_against_enrolled_appliances() {
    let t = tempfile::tempdir().unwrap();
    let d = t.path();
    setup(d);
    std::fs::create_dir_all(d.join("dist")).unwrap();
    std::fs::write(d.join("dist/cavra"), b"runtime").unwrap();
    pack(d, "dist", "v0.1.0", "b.tar.gz");
    for (stick, state) in [("stick", "lab"), ("stick2", "rogue")] {
        ok(
            d,
            &[
                "media",
                "prepare",
                "--media",
                stick,
                "--anchor",
                "root/1.json",
                "--bundle",
                "b.tar.gz",
            ],
        );
        let v = airlock(
            d,
            &["verify", "--anchor", "root/1.json", "--state", state, stick],
        );
        assert!(v.status.success(), "{}", String::from_utf8_lossy(&v.stderr));
    }
    let good = "stick/receipts/b.tar.gz.promote.receipt.json";
    let rogue = "stick2/receipts/b.tar.gz.promote.receipt.json";
    // The attack: the rogue install's receipt "verifies" with the key from its own stick. It is
    // still accepted with --key (the key is the operator's choice), but now with a warning.
    let o = run(
        d,
        &[
            "receipt",
            "verify",
            rogue,
            "--key",
            "stick2/appliance-key.json",
        ],
    );
    assert!(o.status.success());
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("sits on the medium that carries the receipt")
    );
    // Enrolled out of band: only the lab appliance.
    let lab_key = std::fs::read_to_string(d.join("lab/appliance-key.json")).unwrap();
    std::fs::write(d.join("appliances.json"), format!("[{lab_key}]")).unwrap();
    let (out, _) = ok(
        d,
        &["receipt", "verify", good, "--appliances", "appliances.json"],
    );
    assert!(out.contains("enrolled in appliances.json"), "{out}");
    let root_sha = airlock_core_hex(&std::fs::read(d.join("root/1.json")).unwrap());
    assert!(
        out.contains(&format!("trust root version 1 (sha256 {root_sha})")),
        "{out}"
    );
    assert!(out.contains("revocation list none"), "{out}");
    let o = run(
        d,
        &[
            "receipt",
            "verify",
            rogue,
            "--appliances",
            "appliances.json",
        ],
    );
    assert_eq!(o.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("not an enrolled appliance"),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    // The verifier's own receipt verify agrees (exit 1: does not verify).
    let o = airlock(
        d,
        &["receipt", "verify", good, "--appliances", "appliances.json"],
    );
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stdout)
    );
    let o = airlock(
        d,
        &[
            "receipt",
            "verify",
            rogue,
            "--appliances",
            "appliances.json",
        ],
    );
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stdout).contains("not an enrolled appliance"));
    // One JSON option spelled one way in both tools.
    let (out, _) = ok(
        d,
        &[
            "receipt",
            "verify",
            good,
            "--appliances",
            "appliances.json",
            "--format",
            "json",
        ],
    );
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["verdict"], "promote");
    let o = airlock(d, &["codes", "--format", "json"]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["schema_version"], 1);
    assert!(v["codes"].as_array().unwrap().len() > 10);
    // A malformed or ambiguous list is refused, not half-used.
    std::fs::write(d.join("dup.json"), format!("[{lab_key},{lab_key}]")).unwrap();
    let o = run(d, &["receipt", "verify", good, "--appliances", "dup.json"]);
    assert!(String::from_utf8_lossy(&o.stderr).contains("enrolled twice"));
    std::fs::write(d.join("junk.json"), lab_key).unwrap();
    let o = run(d, &["receipt", "verify", good, "--appliances", "junk.json"]);
    assert!(String::from_utf8_lossy(&o.stderr).contains("not a JSON array"));
    // An unreadable list is an operational error (2), not a verdict.
    let o = run(
        d,
        &["receipt", "verify", good, "--appliances", "missing.json"],
    );
    assert_eq!(o.status.code(), Some(2));
    // One of the two is required.
    assert!(!run(d, &["receipt", "verify", good]).status.success());
}

fn airlock_core_hex(bytes: &[u8]) -> String {
    let out = std::process::Command::new("sha256sum")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .and_then(|mut c| {
            use std::io::Write as _;
            c.stdin.take().unwrap().write_all(bytes)?;
            c.wait_with_output()
        })
        .unwrap();
    String::from_utf8_lossy(&out.stdout)[..64].to_string()
}
