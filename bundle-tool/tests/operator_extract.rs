//! Issue 13, item 3: `airlock extract` gets the verified bytes out. An executable survives
//! pack → verify → extract and runs; a bundle swapped on the stick after the verification, a
//! receipt for another bundle, a reject receipt, a foreign appliance key and an existing target
//! are refused, and nothing is left behind.

mod operator;

use operator::*;
use std::os::unix::fs::PermissionsExt as _;
use std::path::Path;

fn mode(p: &Path) -> u32 {
    std::fs::metadata(p).unwrap().permissions().mode() & 0o7777
}

fn entries(d: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(d)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    v.sort();
    v
}

fn extract(d: &Path, bundle: &str, receipt: &str, key: &str, out: &str) -> std::process::Output {
    airlock(
        d,
        &[
            "extract",
            bundle,
            "--receipt",
            receipt,
            "--key",
            key,
            "--out",
            out,
        ],
    )
}

fn refused(o: &std::process::Output, why: &str) {
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(err.contains(why), "{err}");
}

#[test]
fn extract_writes_exactly_the_promoted_bytes() {
    let t = tempfile::tempdir().unwrap();
    let d = t.path();
    setup(d);
    std::fs::create_dir_all(d.join("dist/bin")).unwrap();
    std::fs::write(d.join("dist/bin/hello"), "#!/bin/sh\necho verified-hello\n").unwrap();
    std::fs::set_permissions(
        d.join("dist/bin/hello"),
        std::fs::Permissions::from_mode(0o755),
    )
    .unwrap();
    std::fs::write(d.join("dist/README"), "read me\n").unwrap();
    pack(d, "dist", "v0.1.0", "b.tar.gz");
    // The tar records the executable bit (GNU tar agrees).
    let listing = std::process::Command::new("tar")
        .args(["-tvzf", "b.tar.gz"])
        .current_dir(d)
        .output()
        .unwrap();
    let listing = String::from_utf8_lossy(&listing.stdout);
    assert!(
        listing
            .lines()
            .any(|l| l.starts_with("-rwxr-xr-x") && l.ends_with("bin/hello")),
        "{listing}"
    );
    assert!(
        listing
            .lines()
            .any(|l| l.starts_with("-rw-r--r--") && l.ends_with("README")),
        "{listing}"
    );
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
    std::fs::write(d.join("stick/inbox/junk.tar.gz"), b"not a bundle").unwrap();
    let v = airlock(
        d,
        &[
            "verify",
            "--anchor",
            "root/1.json",
            "--state",
            "state",
            "stick",
        ],
    );
    assert_eq!(
        v.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&v.stdout)
    );
    let receipt = "stick/receipts/b.tar.gz.promote.receipt.json";
    let reject = "stick/receipts/junk.tar.gz.reject.receipt.json";
    assert!(d.join(receipt).is_file() && d.join(reject).is_file());
    let key = "state/appliance-key.json";

    let o = extract(d, "stick/inbox/b.tar.gz", receipt, key, "out/v0.1.0");
    // The parent does not exist: refused, nothing made.
    refused(&o, "out");
    std::fs::create_dir(d.join("out")).unwrap();
    let o = extract(d, "stick/inbox/b.tar.gz", receipt, key, "out/v0.1.0");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let x = d.join("out/v0.1.0");
    assert_eq!(entries(&x), ["README", "bin"]);
    assert_eq!(entries(&x.join("bin")), ["hello"]);
    assert_eq!(mode(&x.join("bin/hello")), 0o755);
    assert_eq!(mode(&x.join("README")), 0o644);
    let run = std::process::Command::new(x.join("bin/hello"))
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&run.stdout), "verified-hello\n");
    assert_eq!(std::fs::read(x.join("README")).unwrap(), b"read me\n");

    // The target exists: never written into.
    refused(
        &extract(d, "stick/inbox/b.tar.gz", receipt, key, "out/v0.1.0"),
        "already exists",
    );
    // A symlink as the target: refused too (and its destination untouched).
    std::os::unix::fs::symlink(d.join("elsewhere"), d.join("out/link")).unwrap();
    refused(
        &extract(d, "stick/inbox/b.tar.gz", receipt, key, "out/link"),
        "already exists",
    );
    assert!(!d.join("elsewhere").exists());

    // A reject receipt.
    refused(
        &extract(d, "stick/inbox/junk.tar.gz", reject, key, "out/junk"),
        "only a promoted bundle is extracted",
    );
    // Another appliance's key (a second install's state): the receipt does not verify.
    ok(
        d,
        &[
            "media",
            "prepare",
            "--media",
            "stick2",
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
            "other",
            "stick2",
        ],
    );
    assert!(v.status.success());
    refused(
        &extract(
            d,
            "stick/inbox/b.tar.gz",
            receipt,
            "other/appliance-key.json",
            "out/k",
        ),
        "receipt:",
    );
    // The same through the site's enrolled appliances.
    let lab = std::fs::read_to_string(d.join(key)).unwrap();
    let rogue = std::fs::read_to_string(d.join("other/appliance-key.json")).unwrap();
    std::fs::write(d.join("rogue.json"), format!("[{rogue}]")).unwrap();
    std::fs::write(d.join("site.json"), format!("[{rogue},{lab}]")).unwrap();
    let with_list = |list: &str, out: &str| {
        airlock(
            d,
            &[
                "extract",
                "stick/inbox/b.tar.gz",
                "--receipt",
                receipt,
                "--appliances",
                list,
                "--out",
                out,
            ],
        )
    };
    refused(
        &with_list("rogue.json", "out/r"),
        "not an enrolled appliance",
    );
    let o = with_list("site.json", "out/site");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));

    // The attack: the stick's bundle is swapped between verify and extract (same name, a
    // different release that would also pass a signature check).
    std::fs::write(d.join("dist/bin/hello"), "#!/bin/sh\necho swapped\n").unwrap();
    pack(d, "dist", "v0.1.1", "c.tar.gz");
    std::fs::copy(d.join("c.tar.gz"), d.join("stick/inbox/b.tar.gz")).unwrap();
    refused(
        &extract(d, "stick/inbox/b.tar.gz", receipt, key, "out/swapped"),
        "is not the bundle the receipt promoted",
    );
    // A receipt for another bundle.
    refused(
        &extract(d, "c.tar.gz", receipt, key, "out/other"),
        "is not the bundle the receipt promoted",
    );
    // Nothing but the one good extraction and the link is left in out/ (no temp trees).
    assert_eq!(entries(&d.join("out")), ["link", "site", "v0.1.0"]);
}

/// zstd and xz bundles extract through the same walk; an empty file and a deep path survive.
#[test]
fn extract_handles_every_compression() {
    let t = tempfile::tempdir().unwrap();
    let d = t.path();
    setup(d);
    std::fs::create_dir_all(d.join("dist/a/b/c")).unwrap();
    std::fs::write(d.join("dist/a/b/c/deep.txt"), "deep\n").unwrap();
    std::fs::write(d.join("dist/empty"), "").unwrap();
    std::fs::create_dir(d.join("out")).unwrap();
    for (i, ext) in ["tar.zst", "tar.xz", "tar"].iter().enumerate() {
        let name = format!("r{i}.{ext}");
        pack(d, "dist", &format!("v0.{i}.0"), &name);
        let stick = format!("stick{i}");
        ok(
            d,
            &[
                "media",
                "prepare",
                "--media",
                &stick,
                "--anchor",
                "root/1.json",
                "--bundle",
                &name,
            ],
        );
        let v = airlock(
            d,
            &[
                "verify",
                "--anchor",
                "root/1.json",
                "--state",
                "state",
                &stick,
            ],
        );
        assert!(v.status.success(), "{}", String::from_utf8_lossy(&v.stdout));
        let out = format!("out/{i}");
        let o = extract(
            d,
            &format!("{stick}/inbox/{name}"),
            &format!("{stick}/receipts/{name}.promote.receipt.json"),
            "state/appliance-key.json",
            &out,
        );
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        let x = d.join(&out);
        assert_eq!(std::fs::read(x.join("a/b/c/deep.txt")).unwrap(), b"deep\n");
        assert_eq!(std::fs::read(x.join("empty")).unwrap(), b"");
        assert_eq!(mode(&x.join("empty")), 0o644);
    }
}
