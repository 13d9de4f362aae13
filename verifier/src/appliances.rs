//! The site's enrolled appliances (issue 13 item 1): receipts are checked on the connected side
//! against appliance keys the site recorded out of band (when each appliance was set up), never
//! against a key read from the stick that carries the receipt, which any Airlock install could
//! have written.
//!
//! The file (`appliances.json`, kept by the site beside its trust roots) is a JSON array of
//! appliance key entries exactly as each appliance writes `appliance-key.json` (formats §1):
//! `jq -s . lab-1/appliance-key.json lab-2/appliance-key.json > appliances.json`. Key ids must be
//! distinct and every entry an Ed25519 key.

use crate::document::dsse::Envelope;
use crate::keys::{Key, KeyEntry, KeyMaterial};
use crate::receipt::{self, ReceiptError, ReceiptPayload};

/// Parses an appliances file.
pub fn parse(bytes: &[u8]) -> Result<Vec<KeyEntry>, ReceiptError> {
    let entries: Vec<KeyEntry> = crate::json::parse(bytes).map_err(|e| {
        ReceiptError::Key(format!(
            "not a JSON array of appliance key entries (appliance-key.json): {e}"
        ))
    })?;
    if entries.is_empty() {
        return Err(ReceiptError::Key(
            "no appliance is enrolled (an empty list)".into(),
        ));
    }
    for (i, e) in entries.iter().enumerate() {
        let key = Key::from_entry(e)
            .map_err(|why| ReceiptError::Key(format!("entry {}: {why}", e.key_id)))?;
        if !matches!(key.material, KeyMaterial::Ed25519(_)) {
            return Err(ReceiptError::Key(format!(
                "entry {} is not an Ed25519 key",
                e.key_id
            )));
        }
        if entries.iter().take(i).any(|o| o.key_id == e.key_id) {
            return Err(ReceiptError::Key(format!(
                "key id {} is enrolled twice",
                e.key_id
            )));
        }
    }
    Ok(entries)
}

/// Verifies a receipt against the enrolled appliance whose key id signed it; returns the payload
/// and that appliance's entry. A receipt signed by no enrolled key is refused.
pub fn verify_receipt(
    envelope: &[u8],
    enrolled: &[KeyEntry],
) -> Result<(ReceiptPayload, KeyEntry), ReceiptError> {
    let env = Envelope::parse(envelope).map_err(|e| ReceiptError::Malformed(e.to_string()))?;
    let signers: Vec<&str> = env.signatures.iter().map(|s| s.keyid.as_str()).collect();
    let Some(entry) = enrolled
        .iter()
        .find(|e| signers.contains(&e.key_id.as_str()))
    else {
        return Err(ReceiptError::NotEnrolled(format!(
            "the receipt is signed by {}, which is not an enrolled appliance: it may come from any Airlock install (enrol the appliance's key entry out of band)",
            if signers.is_empty() {
                "no key".to_string()
            } else {
                signers.join(", ")
            }
        )));
    };
    let bytes = crate::document::dsse::to_pretty_json(entry);
    let payload = receipt::verify_receipt(envelope, &bytes)?;
    Ok((payload, entry.clone()))
}
