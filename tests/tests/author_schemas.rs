//! The JSON Schemas in trust-roots/schemas describe what the author side writes: the committed
//! TEST-ONLY examples and freshly generated documents validate (Python `jsonschema`, draft
//! 2020-12), and copies missing a required piece do not. The examples also parse and verify with
//! the verifier's own code.

#[path = "author_support.rs"]
mod support;

use airlock_author::revocations as revs;
use airlock_formats::timestamp::Timestamp;
use std::path::{Path, PathBuf};
use std::process::Command;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

#[test]
fn examples_and_generated_documents_match_the_schemas() {
    if !support::require_tool("python3", &["-c", "import jsonschema, referencing"]) {
        return;
    }
    let examples = repo().join("trust-roots/examples");
    let dir = tempfile::tempdir().unwrap();
    let layout = airlock_author::demo::prepare(dir.path()).unwrap();
    let o = Command::new("python3")
        .arg(repo().join("tests/interop/validate_schemas.py"))
        .arg(repo().join("trust-roots/schemas"))
        .arg(examples.join("offline-trust-root-bootstrap.json"))
        .arg(examples.join("revocations.json"))
        .arg(&layout.anchor)
        .arg(layout.media.join("revocations.json"))
        .output()
        .unwrap();
    assert!(
        o.status.success(),
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
}

#[test]
fn examples_verify_with_the_verifier() {
    let examples = repo().join("trust-roots/examples");
    let root = std::fs::read(examples.join("offline-trust-root-bootstrap.json")).unwrap();
    let list = std::fs::read(examples.join("revocations.json")).unwrap();
    let st = airlock_author::root::status(&root, None).unwrap();
    assert!(st.complete());
    let (signed, threshold) = revs::tally(&list, &root).unwrap();
    assert!(signed.len() >= threshold);
    // The example keys are what the root lists (public halves derived from the TEST-ONLY keys).
    for e in std::fs::read_dir(&examples).unwrap() {
        let p = e.unwrap().path();
        let name = p.file_name().unwrap().to_string_lossy().to_string();
        if let Some(id) = name.strip_suffix(".TEST-ONLY.key") {
            let k = airlock_author::PrivateKey::load(&p, None).unwrap();
            assert_eq!(k.key_id().as_str(), id);
            assert!(st.root.keys[k.key_id()].raw() == &k.public_raw());
        }
    }
    // Both run for years; remind whoever sees this fail to regenerate them.
    assert!(
        st.root.payload.expires > Timestamp::now().plus_seconds(30 * 86_400),
        "the TEST-ONLY examples expire soon: sh trust-roots/examples/regenerate.sh"
    );
}
