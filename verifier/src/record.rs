//! Writing a verdict back: the signed receipt on the media, the evidence record in the state's
//! log and the media's log, and the state update — in that order, so that the state never
//! remembers a verdict whose receipt is not on the media.

use crate::appliance_key::ApplianceKey;
use crate::atomic::Storage;
use crate::bundle::Scan;
use crate::evidence::{self, LogHead, Record};
use crate::keys::hex;
use crate::policy::{Assessment, Memory, Promoted};
use crate::receipt::{self, ApplianceRef, BundleRef, EvidenceRef, ReceiptPayload, RECEIPT_TYPE};
use crate::run::RunError;
use crate::state::{Mode, PromotedRelease, StateData, StateDir};
use crate::timestamp::Timestamp;
use crate::trust::Candidate;
use airlock_core::digest::sha256;
use std::path::{Path, PathBuf};

/// Whether a run writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WriteMode {
    /// Receipts and evidence to the media, evidence and updates to the state.
    Write,
    /// Nothing is written anywhere (the state is only read).
    DryRun,
}

/// The write side of one run.
pub struct Recorder<'a> {
    storage: &'a dyn Storage,
    media: PathBuf,
    state: StateDir,
    data: StateData,
    writer: Option<(ApplianceKey, LogHead)>,
    /// A write failed: nothing more is written in this run (formats §6).
    halted: bool,
}

fn run_err(e: impl std::fmt::Display) -> RunError {
    RunError(e.to_string())
}

impl<'a> Recorder<'a> {
    /// Opens the state (creating it, the appliance key and its log head when writing) and tidies
    /// the media's receipt and evidence directories of temp files a pulled stick left behind.
    pub fn open(
        storage: &'a dyn Storage,
        media: &Path,
        state_dir: &Path,
        mode: WriteMode,
    ) -> Result<Self, RunError> {
        let state_mode = if mode == WriteMode::Write {
            Mode::Create
        } else {
            Mode::ReadOnly
        };
        let state = StateDir::open(storage, state_dir, state_mode).map_err(run_err)?;
        let data = state.load().map_err(run_err)?;
        let writer = match mode {
            WriteMode::DryRun => None,
            WriteMode::Write => {
                let key = state
                    .appliance_key(storage)
                    .map_err(run_err)?
                    .ok_or_else(|| RunError("the appliance key could not be created".into()))?;
                let head = LogHead::read(storage, &state.evidence_log_path(), &key, true)
                    .map_err(run_err)?;
                Some((key, head))
            }
        };
        let mut rec = Self {
            storage,
            media: media.to_owned(),
            state,
            data,
            writer,
            halted: false,
        };
        if let Some((key, _)) = &rec.writer {
            // A medium that cannot be written is reported with the first verdict that needs it.
            let tidy = receipt::remove_media_temps(storage, media).map(|_| ());
            let publish = key.publish_to_media(storage, media).map(|_| ());
            rec.halted = tidy.is_err() || publish.is_err();
        }
        Ok(rec)
    }

    /// Flushes the media's file system once the run is over (vfat has no journal: #55).
    pub fn finish(&self) -> Result<(), String> {
        match &self.writer {
            Some(_) if !self.halted => self
                .storage
                .sync_filesystem(&self.media)
                .map_err(|e| format!("the media could not be synced: {e}")),
            _ => Ok(()),
        }
    }

    /// What the appliance remembers, for the decisions.
    pub fn memory(&self) -> Result<Memory, RunError> {
        let stored_roots = self
            .state
            .trust_roots()
            .map_err(run_err)?
            .into_iter()
            .map(|(v, bytes)| Candidate {
                source: format!("state:trust-root/{v}.json"),
                bytes,
            })
            .collect();
        Ok(Memory {
            trust_root_version: self.data.trust_root_version,
            revocations_version: self.data.revocations_version,
            stored_roots,
            clock_floor: self.data.clock_floor,
            packages: self
                .data
                .packages
                .iter()
                .map(|(p, r)| {
                    (
                        p.clone(),
                        Promoted {
                            version: r.version.clone(),
                            bundle_sha256: r.bundle_sha256.clone(),
                        },
                    )
                })
                .collect(),
        })
    }

    /// Writes the receipt, the evidence record and the state update for one bundle. Returns the
    /// MEDIA-relative receipt path (None on a dry run or once the media has failed).
    pub fn record(
        &mut self,
        rel: &str,
        scan: &Scan,
        a: &Assessment,
        now: Timestamp,
    ) -> Result<Option<String>, String> {
        let Some((key, head)) = &self.writer else {
            return Ok(None);
        };
        if self.halted {
            return Err(format!("{rel}: an earlier write failed, so nothing more is written in this run; no receipt was written and the state was not updated"));
        }
        let (artifacts, mut listing, side_file) = receipt::artifact_fields(&a.artifacts);
        if let Some(bytes) = side_file {
            // Before the receipt that names it; a file left without a receipt claims nothing.
            match receipt::write_listing(
                self.storage,
                &self.media,
                &listing.artifacts_sha256,
                &bytes,
            ) {
                Ok(name) => listing.artifacts_file = Some(name),
                Err(e) => {
                    self.halted = true;
                    return Err(format!(
                        "{rel}: the artifact list beside the receipt could not be written ({e}); no receipt was written and the state was not updated"
                    ));
                }
            }
        }
        let payload = ReceiptPayload {
            type_: RECEIPT_TYPE.into(),
            verdict: a.verdict,
            reasons: a.reasons.clone(),
            bundle: BundleRef {
                file: rel.to_owned(),
                sha256: scan.inventory.bundle_sha256.map(|d| hex(&d)),
                size: scan.inventory.bundle_size,
            },
            package: a.package.clone(),
            version: a.version.clone(),
            artifacts,
            trust_root: a.trust_root.clone(),
            revocations: a.revocations.clone(),
            signers: a.signers.clone(),
            verified_at: now,
            appliance: ApplianceRef {
                key_id: key.key_id().to_string(),
                software_version: env!("CARGO_PKG_VERSION").into(),
            },
            evidence: EvidenceRef {
                seq: head.next_seq,
                prev: head.prev.clone(),
            },
            release_evidence_sha256: a.release_evidence_sha256.clone(),
            provenance: a.provenance.clone(),
        };
        let envelope = receipt::sign_receipt_with(&payload, Some(&listing), key);
        let file_name = Path::new(rel)
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default();
        let receipt_rel = match receipt::write_receipt(
            self.storage,
            &self.media,
            file_name,
            a.verdict,
            &envelope,
        ) {
            Ok(r) => r,
            Err(e) => {
                self.halted = true;
                return Err(format!(
                    "{rel}: the receipt could not be written ({e}); the state was not updated"
                ));
            }
        };
        let bundle_hex = payload.bundle.sha256.as_deref();
        let record = Record::new(
            head,
            now,
            bundle_hex,
            a.verdict,
            &a.reasons,
            Some(&hex(&sha256(&envelope))),
            key,
        );
        let new_head = evidence::append(
            self.storage,
            &self.state.evidence_log_path(),
            Some(&self.media),
            &record,
        )
        .map_err(|e| {
            // The line may have reached a log before its fsync failed: writing on would chain a
            // second record to the same head. Nothing more is written in this run.
            self.halted = true;
            format!(
                "{rel}: the evidence record could not be appended ({e}); the state was not updated"
            )
        })?;
        if let Some((_, h)) = self.writer.as_mut() {
            *h = new_head;
        }
        self.update_state(a).map_err(|e| {
            self.halted = true;
            format!("{rel}: the state could not be updated: {e}")
        })?;
        Ok(Some(receipt_rel))
    }

    fn update_state(&mut self, a: &Assessment) -> Result<(), String> {
        let u = &a.updates;
        for (v, bytes) in &u.roots {
            self.state
                .store_trust_root(self.storage, *v, bytes)
                .map_err(|e| e.to_string())?;
            self.data.trust_root_version = self.data.trust_root_version.max(*v);
        }
        self.data.trust_root_version = self
            .data
            .trust_root_version
            .max(u.trust_root_version.unwrap_or(0));
        if let Some((v, bytes)) = &u.revocations {
            self.state
                .store_revocations(self.storage, bytes)
                .map_err(|e| e.to_string())?;
            self.data.revocations_version = self.data.revocations_version.max(*v);
        }
        if let Some((p, r)) = &u.promoted {
            self.data.packages.insert(
                p.clone(),
                PromotedRelease {
                    version: r.version.clone(),
                    bundle_sha256: r.bundle_sha256.clone(),
                },
            );
        }
        self.data.clock_floor = self.data.clock_floor.max(u.clock_floor);
        self.state
            .save(self.storage, &self.data)
            .map_err(|e| e.to_string())
    }
}
