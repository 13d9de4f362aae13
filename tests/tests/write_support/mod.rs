//! Test support for the write path: a [`Storage`] that injects faults and simulates power loss.
//!
//! It lives in the test crate, not behind a feature of `airlock`: the `Storage` trait is public
//! and object-safe, so a fault injector needs nothing private, and the shipped binary carries no
//! test-only code path (no `fault-injection` feature that could be switched on by accident).
//!
//! Faults (sqlite.org/testing.html, adversarial #56, #60):
//! - [`FaultyStorage::fail_nth`]: the Nth operation of a kind fails with an errno (EIO, ENOSPC).
//!   A failing `write` first writes half its bytes (a short write, as a full disk does). A failing
//!   fsync "poisons" the file: later fsyncs succeed but make nothing more durable (Linux drops the
//!   dirty pages and marks them clean), so code that retries and trusts would be caught.
//! - [`FaultyStorage::halt_after`]: the power goes out after N operations; every later operation
//!   fails. [`FaultyStorage::crash`] then applies the loss: unsynced data is dropped and, in
//!   [`Crash::DropAll`], directory changes not followed by an fsync of their directory are undone
//!   too; in [`Crash::KeepNames`] they are kept (the worst case for data: a name that points at
//!   data that never reached the disk).

#![allow(dead_code)]

use airlock_verifier::atomic::{Storage, WriteFile};
use std::collections::HashMap;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Write as _};
use std::os::unix::fs::{DirBuilderExt as _, OpenOptionsExt as _};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

pub const EIO: i32 = 5;
pub const ENOSPC: i32 = 28;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Op {
    Create,
    OpenAppend,
    Write,
    Sync,
    Rename,
    SyncDir,
    CreateDir,
    Remove,
    Truncate,
    SyncFs,
}

pub const FAULT_OPS: &[Op] = &[
    Op::Create,
    Op::OpenAppend,
    Op::Write,
    Op::Sync,
    Op::Rename,
    Op::SyncDir,
    Op::CreateDir,
    Op::Truncate,
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Crash {
    DropAll,
    KeepNames,
}

#[derive(Debug)]
enum DirOp {
    Created(PathBuf),
    Renamed {
        from: PathBuf,
        to: PathBuf,
        replaced: Option<Vec<u8>>,
    },
    Removed(PathBuf, Vec<u8>),
    CreatedDir(PathBuf),
}

#[derive(Debug, Default)]
struct FileTrack {
    durable_len: u64,
    poisoned: bool,
}

#[derive(Debug, Default)]
struct Inner {
    ops: u64,
    counts: HashMap<Op, u64>,
    fail: Option<(Op, u64, i32)>,
    halt_after: Option<u64>,
    halted: bool,
    files: HashMap<PathBuf, FileTrack>,
    dir_ops: HashMap<PathBuf, Vec<(u64, DirOp)>>,
    log: Vec<Op>,
}

#[derive(Debug, Clone, Default)]
pub struct FaultyStorage(Arc<Mutex<Inner>>);

fn parent(p: &Path) -> PathBuf {
    p.parent().map(Path::to_owned).unwrap_or_else(|| ".".into())
}

impl FaultyStorage {
    pub fn new() -> Self {
        Self::default()
    }

    /// The `n`th (1-based) operation of kind `op` fails with `errno`.
    pub fn fail_nth(op: Op, n: u64, errno: i32) -> Self {
        let s = Self::new();
        s.0.lock().unwrap().fail = Some((op, n, errno));
        s
    }

    /// Power is lost after `n` operations.
    pub fn halt_after(n: u64) -> Self {
        let s = Self::new();
        s.0.lock().unwrap().halt_after = Some(n);
        s
    }

    /// Operations performed (attempted) so far.
    pub fn ops(&self) -> u64 {
        self.0.lock().unwrap().ops
    }

    /// How many operations of a kind were attempted.
    pub fn count(&self, op: Op) -> u64 {
        self.0.lock().unwrap().counts.get(&op).copied().unwrap_or(0)
    }

    pub fn log(&self) -> Vec<Op> {
        self.0.lock().unwrap().log.clone()
    }

    /// Registers an existing file as durable at its current length (before appending to it).
    pub fn assume_durable(&self, path: &Path) {
        let len = fs::metadata(path).map(|m| m.len()).unwrap_or(0);
        self.0.lock().unwrap().files.insert(
            path.to_owned(),
            FileTrack {
                durable_len: len,
                poisoned: false,
            },
        );
    }

    /// Before an operation: counts it, and returns the injected error if there is one.
    fn gate(&self, op: Op) -> io::Result<()> {
        let mut s = self.0.lock().unwrap();
        s.ops += 1;
        s.log.push(op);
        let c = s.counts.entry(op).or_insert(0);
        *c += 1;
        let c = *c;
        if s.halted {
            return Err(io::Error::from_raw_os_error(EIO));
        }
        if let Some(h) = s.halt_after {
            if s.ops > h {
                s.halted = true;
                return Err(io::Error::from_raw_os_error(EIO));
            }
        }
        if let Some((fop, n, errno)) = s.fail {
            if fop == op && n == c {
                return Err(io::Error::from_raw_os_error(errno));
            }
        }
        Ok(())
    }

    fn dir_op(&self, dir: PathBuf, op: DirOp) {
        let mut s = self.0.lock().unwrap();
        let n = s.ops;
        s.dir_ops.entry(dir).or_default().push((n, op));
    }

    /// Power loss: drops what was not made durable.
    pub fn crash(&self, mode: Crash) {
        let mut s = self.0.lock().unwrap();
        // Unsynced file data is lost (the file keeps its durable prefix).
        for (path, t) in s.files.iter() {
            if let Ok(m) = fs::symlink_metadata(path) {
                if m.len() > t.durable_len {
                    let f = OpenOptions::new().write(true).open(path).unwrap();
                    f.set_len(t.durable_len).unwrap();
                }
            }
        }
        if mode == Crash::DropAll {
            // Undo newest first; created directories last (they may hold undone files).
            let mut all: Vec<(u64, DirOp)> = s.dir_ops.drain().flat_map(|(_, v)| v).collect();
            all.sort_by_key(|(n, _)| std::cmp::Reverse(*n));
            let (dirs, files): (Vec<DirOp>, Vec<DirOp>) = all
                .into_iter()
                .map(|(_, o)| o)
                .partition(|o| matches!(o, DirOp::CreatedDir(_)));
            for op in files {
                match op {
                    DirOp::Created(p) => {
                        let _ = fs::remove_file(&p);
                    }
                    DirOp::Renamed { from, to, replaced } => {
                        if fs::rename(&to, &from).is_ok() {
                            if let Some(old) = replaced {
                                fs::write(&to, old).unwrap();
                            }
                        }
                    }
                    DirOp::Removed(p, bytes) => {
                        fs::write(&p, bytes).unwrap();
                    }
                    DirOp::CreatedDir(_) => unreachable!(),
                }
            }
            for op in dirs {
                if let DirOp::CreatedDir(p) = op {
                    let _ = fs::remove_dir_all(&p);
                }
            }
        }
        s.dir_ops.clear();
        s.files.clear();
        s.halted = false;
        s.halt_after = None;
        s.fail = None;
    }
}

struct FaultyFile {
    storage: FaultyStorage,
    path: PathBuf,
    file: File,
}

impl WriteFile for FaultyFile {
    fn write_all(&mut self, bytes: &[u8]) -> io::Result<()> {
        if let Err(e) = self.storage.gate(Op::Write) {
            // A short write before the error.
            let _ = self.file.write_all(&bytes[..bytes.len() / 2]);
            return Err(e);
        }
        self.file.write_all(bytes)
    }

    fn sync(&mut self) -> io::Result<()> {
        let r = self.storage.gate(Op::Sync);
        let mut s = self.storage.0.lock().unwrap();
        let t = s.files.entry(self.path.clone()).or_default();
        match r {
            Err(e) => {
                t.poisoned = true;
                Err(e)
            }
            Ok(()) => {
                if !t.poisoned {
                    t.durable_len = self.file.metadata()?.len();
                }
                Ok(())
            }
        }
    }
}

impl Storage for FaultyStorage {
    fn create_new(&self, path: &Path, mode: u32) -> io::Result<Box<dyn WriteFile>> {
        self.gate(Op::Create)?;
        let file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(mode)
            .open(path)?;
        self.0
            .lock()
            .unwrap()
            .files
            .insert(path.to_owned(), FileTrack::default());
        self.dir_op(parent(path), DirOp::Created(path.to_owned()));
        Ok(Box::new(FaultyFile {
            storage: self.clone(),
            path: path.to_owned(),
            file,
        }))
    }

    fn open_append(&self, path: &Path, mode: u32) -> io::Result<(Box<dyn WriteFile>, bool)> {
        self.gate(Op::OpenAppend)?;
        let existed = path.exists();
        let file = OpenOptions::new()
            .append(true)
            .create(true)
            .mode(mode)
            .open(path)?;
        {
            let mut s = self.0.lock().unwrap();
            if !s.files.contains_key(path) {
                let len = if existed { file.metadata()?.len() } else { 0 };
                s.files.insert(
                    path.to_owned(),
                    FileTrack {
                        durable_len: len,
                        poisoned: false,
                    },
                );
            }
        }
        if !existed {
            self.dir_op(parent(path), DirOp::Created(path.to_owned()));
        }
        Ok((
            Box::new(FaultyFile {
                storage: self.clone(),
                path: path.to_owned(),
                file,
            }),
            !existed,
        ))
    }

    fn rename_noreplace(&self, from: &Path, to: &Path) -> io::Result<()> {
        self.gate(Op::Rename)?;
        airlock_verifier::atomic::RealStorage.rename_noreplace(from, to)?;
        self.moved(from, to, None);
        Ok(())
    }

    fn rename_replace(&self, from: &Path, to: &Path) -> io::Result<()> {
        self.gate(Op::Rename)?;
        let old = fs::read(to).ok();
        fs::rename(from, to)?;
        self.moved(from, to, old);
        Ok(())
    }

    fn sync_dir(&self, dir: &Path) -> io::Result<()> {
        self.gate(Op::SyncDir)?;
        File::open(dir)?.sync_all()?;
        self.0.lock().unwrap().dir_ops.remove(dir);
        Ok(())
    }

    fn create_dir(&self, path: &Path, mode: u32) -> io::Result<()> {
        self.gate(Op::CreateDir)?;
        fs::DirBuilder::new().mode(mode).create(path)?;
        self.dir_op(parent(path), DirOp::CreatedDir(path.to_owned()));
        Ok(())
    }

    fn remove_file(&self, path: &Path) -> io::Result<()> {
        self.gate(Op::Remove)?;
        let bytes = fs::read(path).unwrap_or_default();
        fs::remove_file(path)?;
        self.0.lock().unwrap().files.remove(path);
        self.dir_op(parent(path), DirOp::Removed(path.to_owned(), bytes));
        Ok(())
    }

    fn truncate(&self, path: &Path, len: u64) -> io::Result<()> {
        self.gate(Op::Truncate)?;
        let f = OpenOptions::new().write(true).open(path)?;
        f.set_len(len)?;
        f.sync_all()?;
        let mut s = self.0.lock().unwrap();
        let t = s.files.entry(path.to_owned()).or_default();
        t.durable_len = len;
        Ok(())
    }

    fn sync_filesystem(&self, _path: &Path) -> io::Result<()> {
        self.gate(Op::SyncFs)
    }
}

impl FaultyStorage {
    fn moved(&self, from: &Path, to: &Path, replaced: Option<Vec<u8>>) {
        {
            let mut s = self.0.lock().unwrap();
            if let Some(t) = s.files.remove(from) {
                s.files.insert(to.to_owned(), t);
            }
        }
        self.dir_op(
            parent(to),
            DirOp::Renamed {
                from: from.to_owned(),
                to: to.to_owned(),
                replaced,
            },
        );
    }
}

/// Names in `dir`, sorted (empty when the directory does not exist).
pub fn names(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = match fs::read_dir(dir) {
        Ok(rd) => rd
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect(),
        Err(_) => Vec::new(),
    };
    v.sort();
    v
}

/// Temp files left in `dir`.
pub fn temps(dir: &Path) -> Vec<String> {
    names(dir)
        .into_iter()
        .filter(|n| n.starts_with(airlock_verifier::atomic::TEMP_PREFIX))
        .collect()
}

/// Runs `python3` with `script` and `args`; returns stdout, panicking with stderr on failure.
pub fn python(script: &str, args: &[&str]) -> String {
    let out = std::process::Command::new("python3")
        .arg(script)
        .args(args)
        .output()
        .expect("python3 runs");
    assert!(
        out.status.success(),
        "python3 {script} failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// Path of a script under `tests/interop/`.
pub fn interop(name: &str) -> String {
    format!("{}/interop/{name}", env!("CARGO_MANIFEST_DIR"))
}

/// A receipt payload for tests.
pub fn sample_payload(
    key: &airlock_verifier::appliance_key::ApplianceKey,
    verdict: airlock_verifier::verdict::Verdict,
    file: &str,
    bundle_sha256: &str,
    evidence: (u64, String),
) -> airlock_verifier::receipt::ReceiptPayload {
    use airlock_formats::reason::{Code, Reason};
    use airlock_verifier::receipt::*;
    use airlock_verifier::verdict::Verdict;
    ReceiptPayload {
        type_: RECEIPT_TYPE.into(),
        verdict,
        reasons: match verdict {
            Verdict::Promote => vec![],
            Verdict::Reject => vec![Reason::new(
                Code::ChecksumMismatch,
                "bin/cavra: sha256 is 1f…, checksums.txt says 9a…",
            )],
        },
        bundle: BundleRef {
            file: file.into(),
            sha256: Some(bundle_sha256.into()),
            size: 1234,
        },
        package: Some("cavra-go-runtime".into()),
        version: Some("v0.1.0".into()),
        artifacts: vec![ArtifactRef {
            name: "bin/cavra".into(),
            sha256: "ab".repeat(32),
            size: 99,
        }],
        trust_root: DocumentRef {
            version: Some(3),
            sha256: Some("cd".repeat(32)),
        },
        revocations: DocumentRef {
            version: None,
            sha256: None,
        },
        signers: vec![],
        verified_at: airlock_formats::timestamp::Timestamp::parse("2026-05-02T10:00:00Z").unwrap(),
        appliance: ApplianceRef {
            key_id: key.key_id().as_str().into(),
            software_version: "0.1.0".into(),
            image: None,
        },
        evidence: EvidenceRef {
            seq: evidence.0,
            prev: evidence.1,
        },
        release_evidence_sha256: None,
        provenance: None,
    }
}

/// The members of `p` a receipt states besides its verdict and reasons (for
/// `receipt::sign_receipt`, which takes those from a `policy::Decision`).
pub fn facts(
    p: &airlock_verifier::receipt::ReceiptPayload,
) -> airlock_verifier::receipt::ReceiptFacts {
    airlock_verifier::receipt::ReceiptFacts {
        bundle: p.bundle.clone(),
        package: p.package.clone(),
        version: p.version.clone(),
        artifacts: p.artifacts.clone(),
        trust_root: p.trust_root.clone(),
        revocations: p.revocations.clone(),
        signers: p.signers.clone(),
        verified_at: p.verified_at,
        appliance: p.appliance.clone(),
        evidence: p.evidence.clone(),
        release_evidence_sha256: p.release_evidence_sha256.clone(),
        provenance: p.provenance.clone(),
    }
}

/// A receipt envelope for any payload, signed with the raw appliance key as the appliance's
/// receipt writer lays it out. The writer itself (`receipt::sign_receipt`) writes a promote
/// receipt only with `policy::assess`'s proof; a test holding the key forges one like this (the
/// key is all an attacker would need, too).
pub fn forge_receipt(
    p: &airlock_verifier::receipt::ReceiptPayload,
    key: &airlock_verifier::appliance_key::ApplianceKey,
) -> Vec<u8> {
    use airlock_formats::document::dsse;
    dsse::sign(
        dsse::payload_type::RECEIPT,
        &dsse::to_pretty_json(p),
        &[(key.key_id().as_str(), key.signing_key())],
    )
}

/// A deterministic appliance key.
pub fn test_key(seed: u8) -> airlock_verifier::appliance_key::ApplianceKey {
    airlock_verifier::appliance_key::ApplianceKey::from_signing_key(
        ed25519_dalek::SigningKey::from_bytes(&[seed; 32]),
    )
    .unwrap()
}
