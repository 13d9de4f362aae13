//! Shared by the author_* and interop_* tests (included with `#[path]`): scanning a bundle,
//! judging it with the verifier's policy, and requiring external tools.
#![allow(dead_code)]

use airlock::bundle::{is_metadata, FileEntry, Inventory, Limits, NoProgress, Scan};
use airlock::policy::{self, Assessment, Memory};
use airlock::reason::Code;
use airlock::timestamp::Timestamp;
use airlock::trust::Candidate;
use airlock::verdict::Verdict;
use airlock_core::digest::{sha256, Sha256};
use std::io::Read;
use std::path::Path;

/// Scans with `airlock::bundle::scan`. While the bundle stream is not written yet on this
/// branch (it panics with "not implemented"), falls back to a minimal reader below so the
/// authoring side can be tested; every other panic propagates. Remove the fallback once
/// `bundle::scan` has landed.
pub fn scan(path: &Path) -> Scan {
    let p = path.to_path_buf();
    let prev = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let r = std::panic::catch_unwind(move || {
        airlock::bundle::scan(&p, &Limits::default(), &NoProgress)
    });
    std::panic::set_hook(prev);
    match r {
        Ok(Ok(s)) => s,
        Ok(Err(_)) => panic!("scan aborted"),
        Err(e) => {
            let msg = e
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| e.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_default();
            if msg.contains("not implemented") {
                eprintln!("note: airlock::bundle::scan is not implemented on this branch; using the tests' stand-in reader");
                fallback_scan(path)
            } else {
                std::panic::resume_unwind(e)
            }
        }
    }
}

/// A minimal stand-in: regular files only, `./` stripped, digests through the verification core.
pub fn fallback_scan(path: &Path) -> Scan {
    let bytes = std::fs::read(path).unwrap();
    let mut inv = Inventory {
        bundle_sha256: Some(sha256(&bytes)),
        bundle_size: bytes.len() as u64,
        ..Default::default()
    };
    let reader: Box<dyn Read> = if bytes.starts_with(&[0x1f, 0x8b]) {
        Box::new(flate2::read::GzDecoder::new(&bytes[..]))
    } else {
        Box::new(&bytes[..])
    };
    let mut ar = tar::Archive::new(reader);
    for e in ar.entries().unwrap() {
        let mut e = e.unwrap();
        let t = e.header().entry_type();
        if t.is_dir() {
            continue;
        }
        assert!(t.is_file(), "unexpected entry type {t:?}");
        let raw = e.path().unwrap().to_string_lossy().to_string();
        let name = raw.strip_prefix("./").unwrap_or(&raw).to_string();
        let mut content = Vec::new();
        e.read_to_end(&mut content).unwrap();
        let mut h = Sha256::new();
        h.update(&content);
        inv.files.push(FileEntry {
            name: name.clone(),
            sha256: h.finalize(),
            size: content.len() as u64,
        });
        if is_metadata(&name) {
            inv.metadata.insert(name, content);
        }
    }
    Scan {
        inventory: inv,
        reasons: vec![],
    }
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
    a.reasons.iter().map(|r| r.code).collect()
}

pub fn assert_promotes(a: &Assessment) {
    assert_eq!(
        a.verdict,
        Verdict::Promote,
        "expected promote, got: {:#?}",
        a.reasons
    );
}

pub fn assert_rejects_with(a: &Assessment, code: Code) {
    assert_eq!(a.verdict, Verdict::Reject);
    assert!(
        codes(a).contains(&code),
        "expected {} among {:#?}",
        code.as_str(),
        a.reasons
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
