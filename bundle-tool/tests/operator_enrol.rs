//! Issue 13, trust gap 1: the site knows its appliances out of band. `airlock-bundle
//! appliance-key` makes the appliance's receipt key on the connected side, in the appliance's own
//! files, and enrols it; an appliance whose state holds that key signs receipts with it (it does
//! not make another), and those receipts verify against the enrolled list.

mod operator;

use operator::*;
use std::os::unix::fs::PermissionsExt as _;

fn mode(p: &std::path::Path) -> u32 {
    std::fs::metadata(p).unwrap().permissions().mode() & 0o7777
}

fn enrolled_ids(d: &std::path::Path) -> Vec<String> {
    let v: serde_json::Value =
        serde_json::from_slice(&std::fs::read(d.join("appliances.json")).unwrap()).unwrap();
    v.as_array()
        .unwrap()
        .iter()
        .map(|e| e["key_id"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn appliance_key_made_before_boot_signs_the_receipts_the_site_enrolled() {
    let t = tempfile::tempdir().unwrap();
    let d = t.path();
    setup(d);
    std::fs::create_dir_all(d.join("dist")).unwrap();
    std::fs::write(d.join("dist/cavra"), b"runtime").unwrap();
    pack(d, "dist", "v0.1.0", "b.tar.gz");

    // A malformed site list is refused before any key exists.
    std::fs::write(d.join("appliances.json"), b"{\"not\": \"a list\"}").unwrap();
    refused(
        d,
        &[
            "appliance-key",
            "--out",
            "lab",
            "--enrol",
            "appliances.json",
        ],
        "not a JSON array of appliance key entries",
    );
    assert!(!d.join("lab").exists());
    std::fs::remove_file(d.join("appliances.json")).unwrap();

    // Made on the connected side: the appliance's files, modes and key id; the entry printed.
    let (out, _) = ok(
        d,
        &[
            "appliance-key",
            "--out",
            "lab",
            "--enrol",
            "appliances.json",
        ],
    );
    let entry = std::fs::read_to_string(d.join("lab/appliance-key.json")).unwrap();
    let e: serde_json::Value = serde_json::from_str(&entry).unwrap();
    let key_id = e["key_id"].as_str().unwrap().to_string();
    assert!(key_id.starts_with("airlock-appliance-"), "{key_id}");
    assert_eq!(key_id.len(), "airlock-appliance-".len() + 16);
    assert_eq!(e["algorithm"], "Ed25519");
    assert_eq!(mode(&d.join("lab/appliance-key.pem")), 0o600);
    assert_eq!(mode(&d.join("lab/appliance-key.json")), 0o644);
    assert_eq!(mode(&d.join("lab")), 0o700);
    assert!(out.contains("enrol this appliance"), "{out}");
    assert!(out.contains(&entry), "{out}");
    assert!(!out.contains("PRIVATE KEY"), "{out}");
    assert_eq!(enrolled_ids(d), std::slice::from_ref(&key_id));
    let secret = std::fs::read(d.join("lab/appliance-key.pem")).unwrap();

    // Never replaced; a second appliance is appended to the same list.
    refused(d, &["appliance-key", "--out", "lab"], "already exists");
    assert_eq!(
        std::fs::read(d.join("lab/appliance-key.pem")).unwrap(),
        secret
    );
    ok(
        d,
        &[
            "appliance-key",
            "--out",
            "lab2",
            "--enrol",
            "appliances.json",
        ],
    );
    let ids = enrolled_ids(d);
    assert_eq!(ids.len(), 2);
    assert_eq!(ids[0], key_id);
    assert_ne!(ids[1], key_id);

    // A list that already names a key twice is refused, and left as it was.
    let dup = format!("[{entry},{entry}]");
    std::fs::write(d.join("dup.json"), &dup).unwrap();
    refused(
        d,
        &["appliance-key", "--out", "lab3", "--enrol", "dup.json"],
        "enrolled twice",
    );
    assert_eq!(std::fs::read_to_string(d.join("dup.json")).unwrap(), dup);
    assert!(!d.join("lab3").exists());

    // The appliance, its state holding that key, signs with it.
    ok(
        d,
        &[
            "media",
            "prepare",
            "--media",
            "stick",
            "--anchor",
            "root/1.json",
            "--bundle",
            "b.tar.gz",
        ],
    );
    let v = airlock(
        d,
        &[
            "verify",
            "--anchor",
            "root/1.json",
            "--state",
            "lab",
            "stick",
        ],
    );
    assert!(v.status.success(), "{}", String::from_utf8_lossy(&v.stderr));
    assert_eq!(
        std::fs::read(d.join("lab/appliance-key.pem")).unwrap(),
        secret
    );
    assert_eq!(
        std::fs::read_to_string(d.join("stick/appliance-key.json")).unwrap(),
        entry
    );
    let receipt = "stick/receipts/b.tar.gz.promote.receipt.json";
    let (out, _) = ok(
        d,
        &[
            "receipt",
            "verify",
            receipt,
            "--appliances",
            "appliances.json",
        ],
    );
    assert!(out.contains(&key_id), "{out}");
    assert!(out.contains("enrolled in appliances.json"), "{out}");
    let a = airlock(
        d,
        &[
            "receipt",
            "verify",
            receipt,
            "--appliances",
            "appliances.json",
        ],
    );
    assert!(a.status.success(), "{}", String::from_utf8_lossy(&a.stderr));
    // The other appliance's key alone does not verify it.
    let lab2 = std::fs::read_to_string(d.join("lab2/appliance-key.json")).unwrap();
    std::fs::write(d.join("only-lab2.json"), format!("[{lab2}]")).unwrap();
    let o = run(
        d,
        &[
            "receipt",
            "verify",
            receipt,
            "--appliances",
            "only-lab2.json",
        ],
    );
    assert_eq!(o.status.code(), Some(1));
}
