//! Writing a verdict back, in this order (issue 11 #1):
//!
//! 1. the state: accepted roots and list, then `state.json`, sealed, naming the evidence record —
//!    the commit point;
//! 2. that record appended to the state's own log;
//! 3. the signed receipt on the media;
//! 4. the record appended to the media's log (acknowledging, in its signed `torn_fragment`, a
//!    torn tail it finds there: [`evidence::media_fragment`]).
//!
//! So a signed receipt, which a promotion procedure acts on, never exists for a decision the
//! appliance did not record: whatever fails (a plain file where `evidence/` should be, ENOSPC,
//! EIO, a pulled stick), the state already holds the decision and the next stick is judged by it.
//! A failure stops all writing for the rest of the run and its message says what was written.

use crate::appliance_key::ApplianceKey;
use crate::atomic::Storage;
use crate::bundle::Scan;
use crate::evidence::{self, LogHead, Record};
use crate::keys::hex;
use crate::policy::{Assessment, Memory};
use crate::receipt::{self, ApplianceRef, BundleRef, EvidenceRef, ImageRef, ReceiptFacts};
use crate::run::RunError;
use crate::state::{EvidenceMark, Mode, StateData, StateDir};
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
    /// The appliance image named in every receipt (None on a workstation).
    image: Option<ImageRef>,
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
        // Locks the directory for the whole run (held by `state` and its clones).
        let state = StateDir::open_for_run(storage, state_dir, state_mode).map_err(run_err)?;
        let existing = state.existing_appliance_key().map_err(run_err)?;
        let data = state.load(existing.as_ref()).map_err(run_err)?;
        let writer = match mode {
            WriteMode::DryRun => {
                if let Some(key) = &existing {
                    crate::state_log::reconcile(storage, &state, &data, key, false)
                        .map_err(run_err)?;
                }
                None
            }
            WriteMode::Write => {
                let key = match existing {
                    Some(k) => k,
                    None => state
                        .appliance_key(storage)
                        .map_err(run_err)?
                        .ok_or_else(|| RunError("the appliance key could not be created".into()))?,
                };
                let head = crate::state_log::reconcile(storage, &state, &data, &key, true)
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
            image: None,
        };
        if let Some((key, _)) = &rec.writer {
            // A medium that cannot be written is reported with the first verdict that needs it.
            let tidy = receipt::remove_media_temps(storage, media).map(|_| ());
            let publish = key.publish_to_media(storage, media).map(|_| ());
            rec.halted = tidy.is_err() || publish.is_err();
        }
        Ok(rec)
    }

    /// Names `image` as the running appliance image in every receipt this run writes.
    pub fn with_image(mut self, image: Option<ImageRef>) -> Self {
        self.image = image;
        self
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
            state: self.data.clone(),
            stored_roots,
            vault: crate::vault::Vault::load(self.state.path()),
        })
    }

    /// Records one bundle's decision: the state, the state's log, the receipt, the media's log
    /// (module docs). Returns the MEDIA-relative receipt path, when one was written (None on a dry
    /// run), and what went wrong, if anything: the message says exactly what was written.
    pub fn record(
        &mut self,
        rel: &str,
        scan: &Scan,
        a: &Assessment,
        now: Timestamp,
    ) -> (Option<String>, Option<String>) {
        let Some((key, head)) = &self.writer else {
            return (None, None);
        };
        if self.halted {
            return (None, Some(format!("{rel}: an earlier write failed, so nothing more is written in this run; no receipt was written and the state was not updated")));
        }
        let (artifacts, mut listing, side_file) = receipt::artifact_fields(a.artifacts());
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
                    return (None, Some(format!(
                        "{rel}: the artifact list beside the receipt could not be written ({e}); the decision was not recorded and no receipt was written"
                    )));
                }
            }
        }
        let facts = ReceiptFacts {
            bundle: BundleRef {
                file: rel.to_owned(),
                sha256: scan.inventory.bundle_sha256.map(|d| hex(&d)),
                size: scan.inventory.bundle_size,
            },
            package: a.package().map(str::to_owned),
            version: a.version().map(str::to_owned),
            artifacts,
            trust_root: a.trust_root().clone(),
            revocations: a.revocations().clone(),
            signers: a.signers().to_vec(),
            verified_at: now,
            appliance: ApplianceRef {
                key_id: key.key_id().to_string(),
                software_version: env!("CARGO_PKG_VERSION").into(),
                image: self.image.clone(),
            },
            evidence: EvidenceRef {
                seq: head.next_seq,
                prev: head.prev.clone(),
            },
            release_evidence_sha256: a.release_evidence_sha256().map(str::to_owned),
            provenance: a.provenance().cloned(),
        };
        let envelope =
            receipt::sign_receipt_with(a.decision(), &facts, Some(&listing), a.governance(), key);
        // A torn tail on the stick's log becomes a complete line when the record is appended
        // after it: the record signs what it follows, so a verifier can accept it (issue 13).
        let fragment = evidence::media_fragment(&self.media);
        let record = Record::new_after_fragment(
            head,
            now,
            facts.bundle.sha256.as_deref(),
            a.verdict(),
            a.reasons(),
            Some(&hex(&sha256(&envelope))),
            key,
            fragment.as_ref(),
        );
        let seq = record.seq();
        // Nothing more is written in this run after any failure below: a line may have reached a
        // log before its fsync failed, and writing on would chain a second record to that head.
        // 1. The state (the commit point).
        if let Err(e) = self.update_state(a, &record) {
            self.halted = true;
            return (None, Some(format!(
                "{rel}: the appliance state could not be updated ({e}); the decision was not recorded (unless only the final directory fsync failed), no evidence record and no receipt were written"
            )));
        }
        if let Some((_, h)) = self.writer.as_mut() {
            *h = record.next_head();
        }
        // 2. The state's log.
        if let Err(e) = evidence::append_line_to_state(
            self.storage,
            &self.state.evidence_log_path(),
            record.line(),
        ) {
            self.halted = true;
            return (None, Some(format!(
                "{rel}: the decision was recorded in the appliance state (evidence record {seq}), but the record could not be appended to the appliance's log ({e}); the next run completes the log from the state; no receipt was written to the media"
            )));
        }
        // 3. The receipt.
        let file_name = Path::new(rel)
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default();
        let receipt_rel = match receipt::write_receipt(
            self.storage,
            &self.media,
            file_name,
            a.verdict(),
            &envelope,
        ) {
            Ok(r) => r,
            Err(e) => {
                self.halted = true;
                return (None, Some(format!(
                    "{rel}: the decision was recorded by the appliance (state and its log, evidence record {seq}), but the receipt could not be written to the media ({e}); nothing more was written to the media"
                )));
            }
        };
        // 4. The media's log.
        if let Err(e) = evidence::append_to_media(self.storage, &self.media, record.line()) {
            self.halted = true;
            return (Some(receipt_rel.clone()), Some(format!(
                "{rel}: the decision was recorded by the appliance (evidence record {seq}) and its receipt {receipt_rel} written, but the record could not be appended to the media's evidence log ({e})"
            )));
        }
        (Some(receipt_rel), None)
    }

    /// Stores the decision's roots and list, then saves the sealed `state.json` naming `record`.
    fn update_state(&mut self, a: &Assessment, record: &Record) -> Result<(), String> {
        let Some((key, _)) = &self.writer else {
            return Ok(());
        };
        let mut next = self.data.clone();
        let u = a.updates();
        for (v, bytes) in &u.roots {
            self.state
                .store_trust_root(self.storage, *v, bytes)
                .map_err(|e| e.to_string())?;
        }
        if let Some((_, bytes)) = &u.revocations {
            self.state
                .store_revocations(self.storage, bytes)
                .map_err(|e| e.to_string())?;
        }
        next.apply(u);
        next.evidence = EvidenceMark {
            seq: record.seq(),
            record: Some(String::from_utf8_lossy(record.line()).into_owned()),
        };
        self.state
            .save(self.storage, &next, key)
            .map_err(|e| e.to_string())?;
        self.data = next;
        Ok(())
    }
}
