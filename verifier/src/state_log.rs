//! `state.json` against the appliance's own log (issue 11 #9, #10): the sealed state names the
//! last evidence record it reflects (`evidence.seq` and the record's line), so the two are checked
//! against each other at every start.
//!
//! A run writes the state first (the commit point), then the state's log, then the media
//! ([`crate::record`]). So the log either ends with the state's record, or — after a power cut
//! between the two — one record before it, and the record is appended from `state.json` (roll
//! forward). Anything else (a log deleted or cut behind the state, an older `state.json` put back,
//! records the state does not reflect) stops the run with exit 2.

use crate::appliance_key::ApplianceKey;
use crate::atomic::Storage;
use crate::evidence::{self, EvidenceError, LogHead};
use crate::state::{StateData, StateDir};

/// Checks `data` against the state's log and returns the head the next record follows. With
/// `repair`, a torn tail is cut off and a record the state holds but the log lacks is appended.
pub fn reconcile(
    storage: &dyn Storage,
    state: &StateDir,
    data: &StateData,
    key: &ApplianceKey,
    repair: bool,
) -> Result<LogHead, EvidenceError> {
    let path = state.evidence_log_path();
    let corrupt = |m: String| EvidenceError::Corrupt(path.clone(), m);
    let (head, last) = LogHead::read_with_last(storage, &path, key, repair)?;
    let log_ends = head.next_seq.saturating_sub(1);
    let Some(record) = &data.evidence.record else {
        return match last {
            None => Ok(head),
            Some(_) => Err(corrupt(format!(
                "it ends at seq {log_ends}, but state.json reflects no record: state.json was replaced by an older or a fresh one"
            ))),
        };
    };
    let line = record.as_bytes();
    let (seq, after) = evidence::head_after_line(line)
        .filter(|(seq, _)| *seq == data.evidence.seq)
        .ok_or_else(|| corrupt("the record state.json names is not a well-formed record".into()))?;
    if last.as_deref() == Some(line) {
        return Ok(head);
    }
    let prev = evidence::verified_line_prev(line, key)
        .ok_or_else(|| corrupt("the record state.json names does not verify".into()))?;
    if seq == head.next_seq && prev == head.prev {
        // A power cut after the state was saved, before its record reached the log.
        if repair {
            evidence::append_line_to_state(storage, &path, line)?;
        }
        return Ok(after);
    }
    Err(corrupt(format!(
        "it ends at seq {log_ends}, but state.json reflects record {seq}: the log was truncated, deleted or altered, or an older state.json was put back"
    )))
}
