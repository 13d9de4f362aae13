//! The demo material: the good bundle promotes, the tampered one rejects with checksum-mismatch.

#[path = "author_support.rs"]
mod support;

use airlock_formats::reason::Code;
use support::*;

#[test]
fn demo_good_promotes_and_tampered_rejects() {
    let dir = tempfile::tempdir().unwrap();
    let layout = airlock_author::demo::prepare(dir.path()).unwrap();
    let anchor = std::fs::read(&layout.anchor).unwrap();
    assert!(layout
        .media
        .join("offline-trust-root-bootstrap.json")
        .is_file());
    assert!(layout.media.join("revocations.json").is_file());
    let good = judge(&layout.good_bundle, &anchor, Some(&layout.media));
    assert_promotes(&good);
    assert_eq!(good.version(), Some("v0.1.0"));
    let bad = judge(&layout.tampered_bundle, &anchor, Some(&layout.media));
    assert_rejects_with(&bad, Code::ChecksumMismatch);
    assert!(bad
        .reasons()
        .iter()
        .any(|r| r.message.contains(airlock_author::demo::TAMPERED_ARTIFACT)));
    // Private keys stay outside the media.
    for e in walk(&layout.media) {
        let b = std::fs::read(&e).unwrap();
        assert!(
            !String::from_utf8_lossy(&b).contains("private_key"),
            "{}",
            e.display()
        );
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let k = std::fs::read_dir(&layout.keys)
            .unwrap()
            .next()
            .unwrap()
            .unwrap();
        assert_eq!(k.metadata().unwrap().permissions().mode() & 0o777, 0o600);
    }
}

fn walk(d: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = vec![];
    for e in std::fs::read_dir(d).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}
