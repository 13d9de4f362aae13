//! The appliance's persistent state directory (`--state DIR`, default `$AIRLOCK_STATE` or
//! `/var/lib/airlock`):
//!
//! | file | what |
//! | --- | --- |
//! | `state.json` | [`StateData`]: highest trust-root / revocation versions, clock floor, promoted releases |
//! | `anchor.json` | the default trust anchor (the image carries one) |
//! | `appliance-key.pem`, `appliance-key.json` | the receipt/evidence key ([`crate::appliance_key`]) |
//! | `evidence.jsonl` | the appliance's own, authoritative evidence log ([`crate::evidence`]) |
//! | `trust-root/<n>.json` | every trust root accepted, by version |
//! | `revocations.json` | the newest revocation list accepted |
//!
//! `state.json` is sealed: signed by the appliance key ([`STATE_SIG_CONTEXT`]) together with the
//! seq and the line of the last evidence record it reflects, so a flipped version, an older copy
//! put back or a log cut behind it is found ([`crate::state_log`]). A missing `state.json` is a
//! fresh appliance (defaults) only while nothing else of the state exists (no evidence log, no
//! stored root or list); a present but empty, truncated, unparseable, unknown-format or unsealed
//! `state.json`, or one whose seal does not verify, is an error: the run stops (exit 2) and trust
//! is never reset silently. Every write goes through [`crate::atomic`]: state files are replaced
//! atomically, trust roots are written once and never replaced.
//!
//! One run at a time holds a state directory: [`StateDir::open_for_run`] takes an exclusive
//! `flock` on it (shared for a read-only run) and holds it until the [`StateDir`] and its clones
//! are dropped.

use crate::appliance_key::{ApplianceKey, KeyFileError};
use crate::atomic::{self, Storage, WriteError, MODE_DIR_PRIVATE, MODE_PRIVATE};
use crate::document::dsse::to_pretty_json;
use crate::keys::{decode_base64, encode_base64};
use crate::policy::Updates;
use crate::timestamp::Timestamp;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;
use std::io;
use std::os::unix::fs::MetadataExt as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// `state.json`.
pub const STATE_FILE: &str = airlock_formats::layout::state::STATE;
/// `anchor.json`.
pub const ANCHOR_FILE: &str = airlock_formats::layout::state::ANCHOR;
/// `evidence.jsonl`.
pub const EVIDENCE_LOG_FILE: &str = airlock_formats::layout::state::EVIDENCE_LOG;
/// `trust-root/`.
pub const TRUST_ROOT_DIR: &str = airlock_formats::layout::state::TRUST_ROOT_DIR;
/// `revocations.json`.
pub const REVOCATIONS_FILE: &str = airlock_formats::layout::state::REVOCATIONS;
/// The `format` this version reads and writes (2: sealed; 1, unsealed, is refused).
pub(crate) const STATE_FORMAT: u32 = 2;
/// What the seal signs before the state's compact JSON (domain separation from evidence records
/// and DSSE envelopes, which the same key signs).
pub(crate) const STATE_SIG_CONTEXT: &[u8] = b"airlock-state-v2\n";
/// Largest state document read.
pub(crate) const MAX_STATE_BYTES: u64 = crate::json::MAX_DOCUMENT_BYTES as u64;
/// Most stored trust roots read.
pub(crate) const MAX_TRUST_ROOTS: usize = 4096;

/// The highest release promoted for a package.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PromotedRelease {
    /// Its version (`v1.2.3`).
    pub version: String,
    /// SHA-256 of the bundle file promoted.
    pub bundle_sha256: String,
}

/// `state.json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StateData {
    /// Always [`STATE_FORMAT`].
    pub format: u32,
    /// Highest trust-root version accepted (0: none yet beyond the anchor).
    pub trust_root_version: u64,
    /// Highest revocation-list version accepted (0: none).
    pub revocations_version: u64,
    /// The latest time this appliance has seen (its clock may not go below it).
    pub clock_floor: Option<Timestamp>,
    /// Highest promoted release per package.
    pub packages: BTreeMap<String, PromotedRelease>,
    /// The last evidence record this state reflects (the counter the appliance's log carries).
    pub evidence: EvidenceMark,
}

impl Default for StateData {
    fn default() -> Self {
        Self {
            format: STATE_FORMAT,
            trust_root_version: 0,
            revocations_version: 0,
            clock_floor: None,
            packages: BTreeMap::new(),
            evidence: EvidenceMark::default(),
        }
    }
}

impl StateData {
    /// Takes in what one decision changes: the one update of the state, used both for the
    /// memory the next bundle of a run is judged by ([`crate::run`]) and for the `state.json`
    /// written with the decision ([`crate::record`]). Versions and the clock floor only rise.
    pub fn apply(&mut self, u: &Updates) {
        for (v, _) in &u.roots {
            self.trust_root_version = self.trust_root_version.max(*v);
        }
        self.trust_root_version = self
            .trust_root_version
            .max(u.trust_root_version.unwrap_or(0));
        if let Some((v, _)) = &u.revocations {
            self.revocations_version = self.revocations_version.max(*v);
        }
        if let Some((p, r)) = &u.promoted {
            self.packages.insert(p.clone(), r.clone());
        }
        self.clock_floor = self.clock_floor.max(u.clock_floor);
    }
}

/// `state.json` `evidence`: the record written with the decision the state last took in.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EvidenceMark {
    /// Its `seq` (0: no record yet).
    pub seq: u64,
    /// The record's line (without newline), so that a power cut between saving the state and
    /// appending to the log is completed from here (null when `seq` is 0).
    pub record: Option<String>,
}

/// `state.json` `seal`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Seal {
    key_id: String,
    sig: String,
}

/// `state.json` as stored: [`StateData`]'s members, then `seal`.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct StateFile {
    format: u32,
    trust_root_version: u64,
    revocations_version: u64,
    clock_floor: Option<Timestamp>,
    packages: BTreeMap<String, PromotedRelease>,
    evidence: EvidenceMark,
    seal: Seal,
}

/// The bytes the seal signs: [`STATE_SIG_CONTEXT`] then the compact JSON of `data`.
fn sealed_message(data: &StateData) -> Vec<u8> {
    let mut m = STATE_SIG_CONTEXT.to_vec();
    // Serialising strings, numbers and maps cannot fail.
    m.extend_from_slice(&serde_json::to_vec(data).unwrap_or_default());
    m
}

/// How the state directory is opened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Create it (0700) when absent; writes allowed. Leftover temp files are removed.
    Create,
    /// Read only (`--no-write`): nothing is created or changed. A missing directory reads as a
    /// fresh appliance.
    ReadOnly,
}

/// Why the state could not be used.
#[derive(Debug)]
pub enum StateError {
    /// A read failed.
    Io(PathBuf, io::Error),
    /// A write failed.
    Write(WriteError),
    /// A state file exists but is unusable.
    Corrupt(PathBuf, String),
    /// The directory is unsafe (not a directory, writable by others).
    Unsafe(PathBuf, String),
    /// A write was attempted on a read-only state.
    ReadOnly(PathBuf),
    /// The appliance key.
    Key(KeyFileError),
}

impl fmt::Display for StateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StateError::Io(p, e) => write!(f, "cannot read the appliance state {}: {e}", p.display()),
            StateError::Write(e) => write!(f, "cannot update the appliance state: {e}"),
            StateError::Corrupt(p, m) => write!(
                f,
                "the appliance state file {} is corrupt ({m}); refusing to continue, since trust is never reset automatically: restore it from a backup or investigate",
                p.display()
            ),
            StateError::Unsafe(p, m) => write!(f, "the appliance state directory {} {m}", p.display()),
            StateError::ReadOnly(p) => write!(
                f,
                "the appliance state {} was opened read-only (--no-write)",
                p.display()
            ),
            StateError::Key(e) => e.fmt(f),
        }
    }
}

impl std::error::Error for StateError {}

impl From<WriteError> for StateError {
    fn from(e: WriteError) -> Self {
        StateError::Write(e)
    }
}

/// What [`StateDir::store_trust_root`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stored {
    /// Written.
    Written,
    /// The same bytes were already stored.
    AlreadyPresent,
    /// Another copy of that version is stored and was kept (stored roots are never replaced).
    KeptExisting,
}

/// The state directory.
#[derive(Debug, Clone)]
pub struct StateDir {
    path: PathBuf,
    mode: Mode,
    /// The `flock` on the directory, released when the last clone is dropped.
    _lock: Option<Arc<crate::state_lock::StateLock>>,
}

impl StateDir {
    /// Opens (and with [`Mode::Create`] creates, mode 0700) the state directory. Refuses a path
    /// that is not a directory, or a directory writable by group or others.
    pub fn open(storage: &dyn Storage, path: &Path, mode: Mode) -> Result<Self, StateError> {
        Self::open_inner(storage, path, mode, false)
    }

    /// [`StateDir::open`] for a run: also takes the state's `flock` (exclusive with
    /// [`Mode::Create`], shared with [`Mode::ReadOnly`]), waiting for another run to finish, and
    /// holds it until this value and its clones are dropped. One run at a time holds a state
    /// directory (issue 11 #2).
    pub fn open_for_run(
        storage: &dyn Storage,
        path: &Path,
        mode: Mode,
    ) -> Result<Self, StateError> {
        Self::open_inner(storage, path, mode, true)
    }

    fn open_inner(
        storage: &dyn Storage,
        path: &Path,
        mode: Mode,
        lock: bool,
    ) -> Result<Self, StateError> {
        let mut dir = Self {
            path: path.to_owned(),
            mode,
            _lock: None,
        };
        match std::fs::metadata(path) {
            Ok(m) if !m.is_dir() => {
                return Err(StateError::Unsafe(
                    path.to_owned(),
                    "is not a directory".into(),
                ))
            }
            Ok(m) if m.mode() & 0o022 != 0 => {
                return Err(StateError::Unsafe(
                    path.to_owned(),
                    format!(
                        "is writable by group or others (mode {:04o}); it must be 0700",
                        m.mode() & 0o7777
                    ),
                ))
            }
            Ok(_) => {}
            Err(e) if e.kind() == io::ErrorKind::NotFound && mode == Mode::ReadOnly => {
                return Ok(dir)
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                create_dir_all(storage, path)?;
            }
            Err(e) => return Err(StateError::Io(path.to_owned(), e)),
        }
        // Before anything is read or tidied: another run's temp files are not stale.
        if lock {
            let lock = crate::state_lock::StateLock::acquire(path, mode == Mode::Create)
                .map_err(|e| StateError::Io(path.to_owned(), e))?;
            dir._lock = Some(Arc::new(lock));
        }
        if mode == Mode::Create {
            atomic::remove_stale_temps(storage, path)?;
            atomic::remove_stale_temps(storage, &path.join(TRUST_ROOT_DIR))?;
        }
        Ok(dir)
    }

    /// The directory.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// How it was opened.
    pub fn mode(&self) -> Mode {
        self.mode
    }

    fn writable(&self) -> Result<(), StateError> {
        match self.mode {
            Mode::Create => Ok(()),
            Mode::ReadOnly => Err(StateError::ReadOnly(self.path.clone())),
        }
    }

    /// `anchor.json`.
    pub fn anchor_path(&self) -> PathBuf {
        self.path.join(ANCHOR_FILE)
    }

    /// `evidence.jsonl`.
    pub fn evidence_log_path(&self) -> PathBuf {
        self.path.join(EVIDENCE_LOG_FILE)
    }

    /// `state.json`.
    pub fn state_path(&self) -> PathBuf {
        self.path.join(STATE_FILE)
    }

    /// Reads `state.json` and checks its seal against `key` (the appliance key, when it exists).
    /// Absent: defaults, but only while nothing else of the state exists (no evidence log, no
    /// stored trust root or revocation list); otherwise, and when present but unusable, unsealed
    /// or sealed by another key, an error.
    pub fn load(&self, key: Option<&ApplianceKey>) -> Result<StateData, StateError> {
        let path = self.state_path();
        let bytes = match crate::nofollow::read_capped(&path, MAX_STATE_BYTES) {
            Ok(b) => b,
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                return match self.remembered_without_state()? {
                    None => Ok(StateData::default()),
                    Some(what) => Err(StateError::Corrupt(
                        path,
                        format!("the file is missing, but {what} exists: the state was deleted or only partly restored"),
                    )),
                }
            }
            Err(e) => return Err(StateError::Io(path, e)),
        };
        if bytes.is_empty() {
            return Err(StateError::Corrupt(path, "the file is empty".into()));
        }
        let value =
            crate::json::parse_value(&bytes).map_err(|e| StateError::Corrupt(path.clone(), e.0))?;
        match value.get("format").and_then(|v| v.as_u64()) {
            Some(f) if f == u64::from(STATE_FORMAT) => {}
            Some(1) => {
                return Err(StateError::Corrupt(
                    path,
                    format!("format 1 carries no seal; this version reads only sealed format {STATE_FORMAT} state"),
                ))
            }
            Some(f) => {
                return Err(StateError::Corrupt(
                    path,
                    format!("format {f} is not the format {STATE_FORMAT} this version understands"),
                ))
            }
            None => return Err(StateError::Corrupt(path, "no format number".into())),
        }
        let file: StateFile =
            crate::json::from_value(value).map_err(|e| StateError::Corrupt(path.clone(), e.0))?;
        let data = StateData {
            format: file.format,
            trust_root_version: file.trust_root_version,
            revocations_version: file.revocations_version,
            clock_floor: file.clock_floor,
            packages: file.packages,
            evidence: file.evidence,
        };
        let Some(key) = key else {
            return Err(StateError::Corrupt(
                path,
                format!(
                    "it is sealed by appliance key {:?}, but the appliance key ({}) is missing",
                    file.seal.key_id,
                    crate::appliance_key::SECRET_FILE
                ),
            ));
        };
        if file.seal.key_id != key.key_id().as_str() {
            return Err(StateError::Corrupt(
                path,
                format!(
                    "it is sealed by appliance key {:?}, not this appliance's {}",
                    file.seal.key_id,
                    key.key_id()
                ),
            ));
        }
        let sig: Option<[u8; 64]> = decode_base64(&file.seal.sig).and_then(|b| b.try_into().ok());
        if sig.is_none_or(|sig| key.public().verify(&sealed_message(&data), &sig).is_err()) {
            return Err(StateError::Corrupt(
                path,
                "its seal does not verify: it was altered".into(),
            ));
        }
        if (data.evidence.seq == 0) != data.evidence.record.is_none() {
            return Err(StateError::Corrupt(
                path,
                "its evidence seq and record disagree".into(),
            ));
        }
        Ok(data)
    }

    /// What of the state, beyond the key and the anchor, exists (None: nothing).
    fn remembered_without_state(&self) -> Result<Option<String>, StateError> {
        let log = self.evidence_log_path();
        match std::fs::symlink_metadata(&log) {
            Ok(_) => return Ok(Some(format!("the evidence log {}", log.display()))),
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(StateError::Io(log, e)),
        }
        let revs = self.path.join(REVOCATIONS_FILE);
        match std::fs::symlink_metadata(&revs) {
            Ok(_) => return Ok(Some(format!("the revocation list {}", revs.display()))),
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(StateError::Io(revs, e)),
        }
        let roots = self.path.join(TRUST_ROOT_DIR);
        match std::fs::read_dir(&roots) {
            Ok(mut entries) => {
                if entries.any(|e| {
                    e.is_ok_and(|e| e.file_name().to_str().and_then(parse_root_name).is_some())
                }) {
                    return Ok(Some(format!("a stored trust root in {}", roots.display())));
                }
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(StateError::Io(roots, e)),
        }
        Ok(None)
    }

    /// Writes `state.json` atomically (replacing it), sealed by `key`.
    pub fn save(
        &self,
        storage: &dyn Storage,
        data: &StateData,
        key: &ApplianceKey,
    ) -> Result<(), StateError> {
        self.writable()?;
        let data = StateData {
            format: STATE_FORMAT,
            ..data.clone()
        };
        let sig = encode_base64(&key.sign(&sealed_message(&data)));
        let file = StateFile {
            format: data.format,
            trust_root_version: data.trust_root_version,
            revocations_version: data.revocations_version,
            clock_floor: data.clock_floor,
            packages: data.packages,
            evidence: data.evidence,
            seal: Seal {
                key_id: key.key_id().to_string(),
                sig,
            },
        };
        atomic::replace(
            storage,
            &self.path,
            STATE_FILE,
            &to_pretty_json(&file),
            MODE_PRIVATE,
        )?;
        Ok(())
    }

    /// The appliance key if it exists (never created).
    pub fn existing_appliance_key(&self) -> Result<Option<ApplianceKey>, StateError> {
        let secret = self.path.join(crate::appliance_key::SECRET_FILE);
        match std::fs::symlink_metadata(&secret) {
            Ok(_) => ApplianceKey::load(&self.path)
                .map(Some)
                .map_err(StateError::Key),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(StateError::Io(secret, e)),
        }
    }

    /// The appliance key: created on first use ([`Mode::Create`]); with [`Mode::ReadOnly`] it is
    /// loaded if present (None otherwise).
    pub fn appliance_key(&self, storage: &dyn Storage) -> Result<Option<ApplianceKey>, StateError> {
        match self.mode {
            Mode::Create => ApplianceKey::load_or_create(storage, &self.path)
                .map(Some)
                .map_err(StateError::Key),
            Mode::ReadOnly => self.existing_appliance_key(),
        }
    }

    /// Every stored trust root, by ascending version: `(version, envelope bytes)`. Only names
    /// `<n>.json` with `n` a decimal without leading zeros are read.
    pub fn trust_roots(&self) -> Result<Vec<(u64, Vec<u8>)>, StateError> {
        let dir = self.path.join(TRUST_ROOT_DIR);
        let entries = match std::fs::read_dir(&dir) {
            Ok(e) => e,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(StateError::Io(dir, e)),
        };
        let mut versions = Vec::new();
        for entry in entries {
            let entry = entry.map_err(|e| StateError::Io(dir.clone(), e))?;
            let name = entry.file_name();
            let Some(v) = name.to_str().and_then(parse_root_name) else {
                continue;
            };
            versions.push(v);
            if versions.len() > MAX_TRUST_ROOTS {
                return Err(StateError::Corrupt(
                    dir,
                    format!("more than {MAX_TRUST_ROOTS} stored trust roots"),
                ));
            }
        }
        versions.sort_unstable();
        versions
            .into_iter()
            .map(|v| {
                let p = dir.join(format!("{v}.json"));
                crate::nofollow::read_capped(&p, MAX_STATE_BYTES)
                    .map(|b| (v, b))
                    .map_err(|e| StateError::Io(p, e))
            })
            .collect()
    }

    /// Stores an accepted trust root as `trust-root/<version>.json`. Never replaces a stored one.
    pub fn store_trust_root(
        &self,
        storage: &dyn Storage,
        version: u64,
        bytes: &[u8],
    ) -> Result<Stored, StateError> {
        self.writable()?;
        let dir = atomic::ensure_dir(storage, &self.path, TRUST_ROOT_DIR, MODE_DIR_PRIVATE)?;
        let name = format!("{version}.json");
        match atomic::write_new(storage, &dir, &name, bytes, MODE_PRIVATE) {
            Ok(_) => Ok(Stored::Written),
            Err(e) if e.is_already_exists() => {
                let p = dir.join(&name);
                let existing = crate::nofollow::read_capped(&p, MAX_STATE_BYTES)
                    .map_err(|e| StateError::Io(p, e))?;
                Ok(if existing == bytes {
                    Stored::AlreadyPresent
                } else {
                    Stored::KeptExisting
                })
            }
            Err(e) => Err(e.into()),
        }
    }

    /// The stored revocation list, if any.
    pub fn revocations(&self) -> Result<Option<Vec<u8>>, StateError> {
        let p = self.path.join(REVOCATIONS_FILE);
        match crate::nofollow::read_capped(&p, MAX_STATE_BYTES) {
            Ok(b) => Ok(Some(b)),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(StateError::Io(p, e)),
        }
    }

    /// Stores the newest accepted revocation list (replacing the previous one).
    pub fn store_revocations(&self, storage: &dyn Storage, bytes: &[u8]) -> Result<(), StateError> {
        self.writable()?;
        atomic::replace(storage, &self.path, REVOCATIONS_FILE, bytes, MODE_PRIVATE)?;
        Ok(())
    }
}

fn parse_root_name(name: &str) -> Option<u64> {
    let digits = name.strip_suffix(".json")?;
    if digits.is_empty()
        || !digits.bytes().all(|b| b.is_ascii_digit())
        || (digits.len() > 1 && digits.starts_with('0'))
    {
        return None;
    }
    digits.parse().ok()
}

/// Creates `path` and any missing parents; the last component gets mode 0700, each creation is
/// made durable by fsyncing its parent.
fn create_dir_all(storage: &dyn Storage, path: &Path) -> Result<(), StateError> {
    let mut missing = Vec::new();
    let mut p = path;
    loop {
        match std::fs::metadata(p) {
            Ok(m) if m.is_dir() => break,
            Ok(_) => {
                return Err(StateError::Unsafe(
                    p.to_owned(),
                    "is not a directory".into(),
                ))
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                missing.push(p.to_owned());
                match p.parent() {
                    Some(parent) if !parent.as_os_str().is_empty() => p = parent,
                    _ => break,
                }
            }
            Err(e) => return Err(StateError::Io(p.to_owned(), e)),
        }
    }
    for dir in missing.iter().rev() {
        let mode = if dir == path { MODE_DIR_PRIVATE } else { 0o755 };
        match storage.create_dir(dir, mode) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
            Err(e) => {
                return Err(StateError::Write(WriteError {
                    step: "create directory",
                    path: dir.clone(),
                    source: e,
                }))
            }
        }
        let parent = match dir.parent() {
            Some(p) if !p.as_os_str().is_empty() => p,
            _ => Path::new("."),
        };
        storage.sync_dir(parent).map_err(|e| {
            StateError::Write(WriteError {
                step: "directory fsync",
                path: parent.to_owned(),
                source: e,
            })
        })?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn root_names() {
        assert_eq!(parse_root_name("3.json"), Some(3));
        assert_eq!(parse_root_name("10.json"), Some(10));
        for bad in ["03.json", ".json", "3.json.tmp", "-1.json", "x.json", "3"] {
            assert_eq!(parse_root_name(bad), None, "{bad}");
        }
    }
}
