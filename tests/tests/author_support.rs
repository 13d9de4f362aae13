//! Shared by the author_* and interop_* tests (included with `#[path]`): scanning a bundle,
//! judging it with the verifier's policy, and requiring external tools.
#![allow(dead_code)]

use airlock_formats::reason::Code;
use airlock_formats::timestamp::Timestamp;
use airlock_verifier::bundle::{Limits, NoProgress, Scan};
use airlock_verifier::policy::{self, Assessment, Memory};
use airlock_verifier::trust::Candidate;
use airlock_verifier::verdict::Verdict;
use std::path::Path;

/// Scans with the verifier's bundle stream.
pub fn scan(path: &Path) -> Scan {
    airlock_verifier::bundle::scan(path, &Limits::default(), &NoProgress).expect("scan aborted")
}

/// Trust material at a media root, as the appliance collects it.
pub fn media_material(media: &Path) -> (Vec<Candidate>, Vec<Candidate>) {
    let mut roots = Vec::new();
    let boot = media.join("offline-trust-root-bootstrap.json");
    if let Ok(b) = std::fs::read(&boot) {
        roots.push(Candidate {
            source: "media:offline-trust-root-bootstrap.json".into(),
            bytes: b,
        });
    }
    if let Ok(rd) = std::fs::read_dir(media.join("trust-root")) {
        for e in rd {
            let e = e.unwrap();
            roots.push(Candidate {
                source: format!("media:trust-root/{}", e.file_name().to_string_lossy()),
                bytes: std::fs::read(e.path()).unwrap(),
            });
        }
    }
    let revs = std::fs::read(media.join("revocations.json"))
        .map(|b| {
            vec![Candidate {
                source: "media:revocations.json".into(),
                bytes: b,
            }]
        })
        .unwrap_or_default();
    (roots, revs)
}

/// Judges `bundle` under `anchor` with a fresh appliance memory and the trust material at `media`
/// (if given).
pub fn judge(bundle: &Path, anchor: &[u8], media: Option<&Path>) -> Assessment {
    let scan = scan(bundle);
    let (roots, revs) = media.map(media_material).unwrap_or_default();
    let memory = Memory::default();
    policy::assess(&policy::Inputs {
        scan: &scan,
        anchor,
        media_roots: &roots,
        media_revocations: &revs,
        memory: &memory,
        now: Timestamp::now(),
    })
}

pub fn codes(a: &Assessment) -> Vec<Code> {
    a.reasons().iter().map(|r| r.code).collect()
}

pub fn assert_promotes(a: &Assessment) {
    assert_eq!(
        a.verdict(),
        Verdict::Promote,
        "expected promote, got: {:#?}",
        a.reasons()
    );
}

pub fn assert_rejects_with(a: &Assessment, code: Code) {
    assert_eq!(a.verdict(), Verdict::Reject);
    assert!(
        codes(a).contains(&code),
        "expected {} among {:#?}",
        code.as_str(),
        a.reasons()
    );
}

/// Whether an external tool can run. Missing: a failure under CI (env CI set), else a skip.
pub fn require_tool(cmd: &str, args: &[&str]) -> bool {
    let ok = std::process::Command::new(cmd)
        .args(args)
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false);
    if !ok {
        if std::env::var_os("CI").is_some() {
            panic!(
                "required tool `{cmd} {}` is not available (CI is set: failing, not skipping)",
                args.join(" ")
            );
        }
        eprintln!("SKIP: `{cmd} {}` is not available", args.join(" "));
    }
    ok
}

/// Whether `file` is in the bundle's scan.
pub fn has_file(bundle: &Path, name: &str) -> bool {
    scan(bundle).inventory.files.iter().any(|f| f.name == name)
}
