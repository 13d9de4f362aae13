//! Promotion receipts (formats §6): a DSSE envelope signed by the appliance key, written to
//! `MEDIA/receipts/`.

use crate::reason::Reason;
use crate::timestamp::Timestamp;
use crate::trust::governance::GovernanceRef;
use crate::verdict::Verdict;
use serde::{Deserialize, Serialize};

/// The receipt payload's `_type`.
pub const RECEIPT_TYPE: &str = "cavra-promotion-receipt";

/// Why a receipt does not prove what it says (the receipt-checking layer's error, used by both
/// tools' `receipt verify`, `airlock extract` and `airlock evidence verify`). Each variant is a
/// category the callers may act on; the sentence is for the operator.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReceiptError {
    /// The appliance key entry (or the site's list of enrolled appliances) is not usable.
    #[error("{0}")]
    Key(String),
    /// Not a receipt: the envelope or its payload is malformed or of another type.
    #[error("{0}")]
    Malformed(String),
    /// No signature by the appliance, or one that does not verify.
    #[error("{0}")]
    Signature(String),
    /// Signed by no enrolled appliance.
    #[error("{0}")]
    NotEnrolled(String),
    /// Signed, but the payload contradicts itself, its signer or its artifact listing.
    #[error("{0}")]
    Inconsistent(String),
    /// Written by another appliance image than the one required (or by none).
    #[error("{0}")]
    Image(String),
}

/// The sentence, for the command-line layers that carry errors as sentences.
impl From<ReceiptError> for String {
    fn from(e: ReceiptError) -> Self {
        e.to_string()
    }
}

/// The bundle file a receipt is about.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BundleRef {
    /// MEDIA-relative path.
    pub file: String,
    /// SHA-256 of the whole file as read (null if it could not be read).
    pub sha256: Option<String>,
    /// Size in bytes.
    pub size: u64,
}

/// One artifact.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ArtifactRef {
    /// Canonical name.
    pub name: String,
    /// SHA-256, hex.
    pub sha256: String,
    /// Size in bytes.
    pub size: u64,
}

/// The trust root or revocation list a verdict was reached under (nulls when there was none).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DocumentRef {
    /// Its version.
    pub version: Option<u64>,
    /// SHA-256 of its envelope file.
    pub sha256: Option<String>,
}

/// A key whose signature counted.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct SignerRef {
    /// Key id.
    pub key_id: String,
    /// `sha256:` fingerprint of the raw key.
    pub fingerprint: String,
    /// The role it signed for (`release`, `provenance`, `revocation`, `root`).
    pub role: String,
    /// A Sigstore signer's verified identity and log entry (formats §9.3); its `fingerprint`
    /// is then the leaf certificate's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sigstore: Option<crate::trust::sigstore::SigstoreClaims>,
}

/// The appliance that signed the receipt.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApplianceRef {
    /// The appliance key id.
    pub key_id: String,
    /// Airlock's version.
    pub software_version: String,
    /// The appliance image that ran the verification, when it was booted from one (absent for
    /// the command on a workstation).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image: Option<ImageRef>,
}

impl ReceiptPayload {
    /// Checks that the receipt was written by the appliance image whose UKI SHA-256 is `want`
    /// (hex): a site that insists on its released image refuses receipts from any other, and
    /// from runs that name no image at all (the command on a workstation).
    pub fn require_image(&self, want: &str) -> Result<(), ReceiptError> {
        match &self.appliance.image {
            Some(i) if i.sha256.eq_ignore_ascii_case(want.trim()) => Ok(()),
            Some(i) => Err(ReceiptError::Image(format!(
                "the receipt was written by image sha256 {}, not the required {}",
                i.sha256,
                want.trim()
            ))),
            None => Err(ReceiptError::Image(format!(
                "the receipt names no appliance image (not written by a booted appliance); the required image is {}",
                want.trim()
            ))),
        }
    }
}

/// The boot image an appliance ran: what a site pins with `receipt verify --image-sha256`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImageRef {
    /// Hex SHA-256 of the unified kernel image file the firmware booted (`EFI/BOOT/BOOTX64.EFI`,
    /// signed when Secure Boot is used), as `image/build` prints it.
    pub sha256: String,
    /// The image build's own description (`/etc/airlock/image-info`: build date, kernel, inputs).
    pub build: String,
    /// Whether the firmware reported Secure Boot on (the `SecureBoot` EFI variable) for this boot.
    pub secure_boot: bool,
}

/// Where the evidence record for this verification sits in the appliance's log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EvidenceRef {
    /// Sequence number of the record.
    pub seq: u64,
    /// Hex SHA-256 of the previous record line (64 zeros for the first).
    pub prev: String,
}

/// Provenance facts named in the receipt (issue: CAVRA package rules).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProvenanceRef {
    /// The trusted builder id.
    pub builder_id: String,
    /// Source repository.
    pub source_repository: String,
    /// Source ref.
    #[serde(rename = "ref")]
    pub ref_: String,
    /// Resolved commit.
    pub commit: String,
}

/// The receipt payload.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReceiptPayload {
    /// [`RECEIPT_TYPE`].
    #[serde(rename = "_type")]
    pub type_: String,
    /// promote / reject.
    pub verdict: Verdict,
    /// Empty on promote.
    pub reasons: Vec<Reason>,
    /// The bundle file.
    pub bundle: BundleRef,
    /// Package, when known.
    pub package: Option<String>,
    /// Version, when known.
    pub version: Option<String>,
    /// Artifacts (name, digest, size), in archive order, when there are at most
    /// [`MAX_INLINE_ARTIFACTS`]; empty otherwise (the list is then in the side file that the
    /// receipt's [`ArtifactListing`] names).
    pub artifacts: Vec<ArtifactRef>,
    /// Trust root used.
    pub trust_root: DocumentRef,
    /// Revocation list used.
    pub revocations: DocumentRef,
    /// Keys whose signatures counted.
    pub signers: Vec<SignerRef>,
    /// When the verification ran (system clock).
    pub verified_at: Timestamp,
    /// The appliance.
    pub appliance: ApplianceRef,
    /// The evidence record.
    pub evidence: EvidenceRef,
    /// SHA-256 of release-evidence.json, when present.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub release_evidence_sha256: Option<String>,
    /// Provenance builder and source, when verified.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provenance: Option<ProvenanceRef>,
}

/// What a receipt states besides its `_type`, verdict and reasons: the [`ReceiptPayload`] members
/// from `bundle` on, in its order. The verdict and reasons come from a
/// [`Decision`](crate::policy::Decision) when signing ([`sign_receipt`]), so a promote receipt
/// needs [`crate::policy::assess`]'s [`Promotion`](crate::policy::Promotion).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReceiptFacts {
    /// The bundle file.
    pub bundle: BundleRef,
    /// Package, when known.
    pub package: Option<String>,
    /// Version, when known.
    pub version: Option<String>,
    /// Artifacts, inline (see [`ReceiptPayload::artifacts`]).
    pub artifacts: Vec<ArtifactRef>,
    /// Trust root used.
    pub trust_root: DocumentRef,
    /// Revocation list used.
    pub revocations: DocumentRef,
    /// Keys whose signatures counted.
    pub signers: Vec<SignerRef>,
    /// When the verification ran (system clock).
    pub verified_at: Timestamp,
    /// The appliance.
    pub appliance: ApplianceRef,
    /// The evidence record.
    pub evidence: EvidenceRef,
    /// SHA-256 of release-evidence.json, when present.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub release_evidence_sha256: Option<String>,
    /// Provenance builder and source, when verified.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub provenance: Option<ProvenanceRef>,
}

/// Most artifacts listed inside a receipt; a longer list goes to a side file beside it, so that
/// every receipt stays far below the 1 MiB that receipt readers accept.
pub(crate) const MAX_INLINE_ARTIFACTS: usize = 1000;
/// Largest artifact list side file read back (100 000 artifacts of names up to 1 KiB fit).
pub(crate) const MAX_LISTING_BYTES: u64 = 128 << 20;

/// The canonical artifact list a receipt binds: its count, the SHA-256 of its bytes, and, when
/// the list is not inline, the side file in the receipt's directory that holds those bytes.
///
/// The canonical bytes: one line per artifact, sorted by name (bytewise),
/// `<sha256: 64 lowercase hex> <size: decimal> <name>\n` (single spaces; a name never holds a
/// control character, so the line is unambiguous).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ArtifactListing {
    /// How many artifacts the bundle has.
    pub artifacts_count: u64,
    /// SHA-256 (hex) of the canonical list's bytes.
    pub artifacts_sha256: String,
    /// The side file (a plain file name in the receipt's directory) when the list is not inline.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub artifacts_file: Option<String>,
}

/// The canonical artifact list's bytes (see [`ArtifactListing`]).
pub(crate) fn canonical_listing(artifacts: &[ArtifactRef]) -> Vec<u8> {
    let mut sorted: Vec<&ArtifactRef> = artifacts.iter().collect();
    sorted.sort_by(|a, b| a.name.as_bytes().cmp(b.name.as_bytes()));
    let mut out = Vec::with_capacity(artifacts.len().saturating_mul(96));
    for a in sorted {
        out.extend_from_slice(format!("{} {} {}\n", a.sha256, a.size, a.name).as_bytes());
    }
    out
}

/// What a receipt says about its artifacts: the inline list (empty when there are more than
/// [`MAX_INLINE_ARTIFACTS`]), the listing, and the side file's bytes to write when needed.
pub(crate) fn artifact_fields(
    artifacts: &[ArtifactRef],
) -> (Vec<ArtifactRef>, ArtifactListing, Option<Vec<u8>>) {
    let bytes = canonical_listing(artifacts);
    let listing = ArtifactListing {
        artifacts_count: artifacts.len() as u64,
        artifacts_sha256: hex(&sha256(&bytes)),
        artifacts_file: None,
    };
    if artifacts.len() <= MAX_INLINE_ARTIFACTS {
        (artifacts.to_vec(), listing, None)
    } else {
        (Vec::new(), listing, Some(bytes))
    }
}

/// The side file names tried for a listing: `<sha256>.artifacts.txt`, then
/// `<sha256>.<n>.artifacts.txt` for n = 2, 3, … (never overwriting).
pub(crate) fn listing_names(sha256_hex: &str) -> impl Iterator<Item = String> + '_ {
    std::iter::once(format!("{sha256_hex}.artifacts.txt"))
        .chain((2u64..).map(move |n| format!("{sha256_hex}.{n}.artifacts.txt")))
}

/// Writes an artifact list side file to `MEDIA/receipts/` (atomically, never overwriting);
/// returns its file name.
pub(crate) fn write_listing(
    storage: &dyn Storage,
    media: &Path,
    sha256_hex: &str,
    bytes: &[u8],
) -> Result<String, WriteError> {
    let dir = atomic::ensure_dir(storage, media, RECEIPTS_DIR, MODE_DIR_PUBLIC)?;
    atomic::write_first_free(storage, &dir, listing_names(sha256_hex), bytes, MODE_PUBLIC)
}

/// The listing members of a receipt payload (next to the [`ReceiptPayload`] members, which do
/// not include them so that the payload type stays as it was).
#[derive(Debug, Clone, Default, Deserialize)]
struct ListingMembers {
    #[serde(default)]
    artifacts_count: Option<u64>,
    #[serde(default)]
    artifacts_sha256: Option<String>,
    #[serde(default)]
    artifacts_file: Option<String>,
}

/// The [`ArtifactListing`] a receipt envelope's payload carries (None for a receipt written
/// before listings existed). Call after [`verify_receipt`]: the payload is then authentic.
pub fn receipt_listing(envelope: &[u8]) -> Result<Option<ArtifactListing>, ReceiptError> {
    let env = Envelope::parse(envelope).map_err(|e| ReceiptError::Malformed(e.to_string()))?;
    let m: ListingMembers = crate::json::parse(&env.payload)
        .map_err(|e| ReceiptError::Malformed(format!("receipt payload: {e}")))?;
    match (m.artifacts_count, m.artifacts_sha256) {
        (None, None) if m.artifacts_file.is_none() => Ok(None),
        (Some(artifacts_count), Some(artifacts_sha256)) => Ok(Some(ArtifactListing {
            artifacts_count,
            artifacts_sha256,
            artifacts_file: m.artifacts_file,
        })),
        _ => Err(ReceiptError::Inconsistent(
            "the receipt's artifact listing is incomplete (artifacts_count, artifacts_sha256)"
                .into(),
        )),
    }
}

/// Checks a verified receipt's artifacts against its listing: the inline list's canonical bytes,
/// or the side file in `receipt_dir`, must have the count and digest the receipt signs. A receipt
/// without a listing (written before it existed) passes.
pub fn verify_listing(
    envelope: &[u8],
    payload: &ReceiptPayload,
    receipt_dir: &Path,
) -> Result<(), ReceiptError> {
    let Some(listing) = receipt_listing(envelope)? else {
        return Ok(());
    };
    let listing = &listing;
    let bytes = match &listing.artifacts_file {
        None => {
            if payload.artifacts.len() as u64 != listing.artifacts_count {
                return Err(ReceiptError::Inconsistent(format!(
                    "the receipt lists {} artifacts but says it has {}",
                    payload.artifacts.len(),
                    listing.artifacts_count
                )));
            }
            canonical_listing(&payload.artifacts)
        }
        Some(name) => {
            atomic::check_basename(name).map_err(|e| {
                ReceiptError::Inconsistent(format!("artifact list file {name:?}: {e}"))
            })?;
            if !payload.artifacts.is_empty() {
                return Err(ReceiptError::Inconsistent(
                    "the receipt has both inline artifacts and an artifact list file".into(),
                ));
            }
            let path = receipt_dir.join(name);
            let bytes = crate::media::read_capped(&path, MAX_LISTING_BYTES).map_err(|e| {
                ReceiptError::Inconsistent(format!("artifact list file {} {e}", path.display()))
            })?;
            let lines = bytes.iter().filter(|b| **b == b'\n').count() as u64;
            if lines != listing.artifacts_count {
                return Err(ReceiptError::Inconsistent(format!(
                    "artifact list file {} has {lines} lines, the receipt says {} artifacts",
                    path.display(),
                    listing.artifacts_count
                )));
            }
            bytes
        }
    };
    let digest = hex(&sha256(&bytes));
    if digest != listing.artifacts_sha256 {
        return Err(ReceiptError::Inconsistent(format!(
            "the artifact list's SHA-256 is {digest}, the receipt signs {}: the list was altered",
            listing.artifacts_sha256
        )));
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Signing, verifying and writing receipts.

use crate::appliance_key::ApplianceKey;
use crate::atomic::{self, Storage, WriteError, MODE_DIR_PUBLIC, MODE_PUBLIC};
use crate::document::dsse::{self, payload_type, Envelope};
use crate::keys::{hex, Key, KeyEntry, KeyMaterial};
use crate::policy::Decision;
use airlock_core::digest::sha256;
use std::path::Path;

/// The media directory receipts are written to.
pub const RECEIPTS_DIR: &str = airlock_formats::layout::media::RECEIPTS_DIR;

/// Largest receipt envelope or key entry file read.
pub const MAX_RECEIPT_BYTES: usize = crate::json::MAX_DOCUMENT_BYTES;

/// Signs a receipt stating `decision` and `facts` as a DSSE envelope (payloadType
/// [`payload_type::RECEIPT`]) with the appliance key; returns the envelope file's bytes. A promote
/// receipt takes [`Decision::Promote`], which only [`crate::policy::assess`] can make:
///
/// ```compile_fail,E0423
/// // A hand-made proof does not compile, so neither does a promote receipt without `assess`.
/// use airlock_verifier::policy::{Decision, Promotion};
/// let _ = Decision::Promote(Promotion(()));
/// ```
///
/// ```
/// // The same path, rejecting: compiles (rejecting needs no proof).
/// use airlock_verifier::policy::Decision;
/// let _ = Decision::Reject(Vec::new());
/// ```
pub fn sign_receipt(decision: &Decision, facts: &ReceiptFacts, key: &ApplianceKey) -> Vec<u8> {
    sign_receipt_with(decision, facts, None, None, key)
}

/// The payload as signed: [`ReceiptPayload`]'s members (the verdict and reasons from the
/// decision), then the artifact listing members (formats §6.2) and, when the trust root in force
/// has `governance`, the `governance` object (formats §8.3) (a receipt under a root without
/// governance has no `governance` member at all).
#[derive(Serialize)]
struct FullPayload<'a> {
    #[serde(rename = "_type")]
    type_: &'a str,
    verdict: Verdict,
    reasons: &'a [Reason],
    #[serde(flatten)]
    facts: &'a ReceiptFacts,
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    listing: Option<&'a ArtifactListing>,
    #[serde(skip_serializing_if = "Option::is_none")]
    governance: Option<&'a GovernanceRef>,
}

/// [`sign_receipt`] with the artifact listing members and the `governance` object, when given.
pub(crate) fn sign_receipt_with(
    decision: &Decision,
    facts: &ReceiptFacts,
    listing: Option<&ArtifactListing>,
    governance: Option<&GovernanceRef>,
    key: &ApplianceKey,
) -> Vec<u8> {
    let body = dsse::to_pretty_json(&FullPayload {
        type_: RECEIPT_TYPE,
        verdict: decision.verdict(),
        reasons: decision.reasons(),
        facts,
        listing,
        governance,
    });
    dsse::sign(
        payload_type::RECEIPT,
        &body,
        &[(key.key_id().as_str(), key.signing_key())],
    )
}

/// Verifies a receipt envelope against an appliance key entry (the bytes of an
/// `appliance-key.json`, formats §1) and returns its payload. Strict: the entry must be a valid
/// Ed25519 entry; the envelope's payloadType must be the receipt type; at least one signature must
/// name the entry's key id, and every signature naming it must verify (other key ids are ignored,
/// formats §2); the payload is parsed only after that, strictly, and must have `_type`
/// [`RECEIPT_TYPE`], name the same appliance key, and carry reasons exactly when it rejects.
pub fn verify_receipt(envelope: &[u8], key_entry: &[u8]) -> Result<ReceiptPayload, ReceiptError> {
    let entry: KeyEntry = crate::json::parse(key_entry)
        .map_err(|e| ReceiptError::Key(format!("appliance key entry: {e}")))?;
    let key = Key::from_entry(&entry).map_err(|e| ReceiptError::Key(e.to_string()))?;
    let KeyMaterial::Ed25519(public) = key.material else {
        return Err(ReceiptError::Key(format!(
            "appliance key {} is not an Ed25519 key",
            entry.key_id
        )));
    };
    let env = Envelope::parse(envelope).map_err(|e| ReceiptError::Malformed(e.to_string()))?;
    if env.payload_type != payload_type::RECEIPT {
        return Err(ReceiptError::Malformed(format!(
            "payloadType is {:?}, not {:?}",
            env.payload_type,
            payload_type::RECEIPT
        )));
    }
    let pae = env.pae();
    let mut verified = 0usize;
    for s in env
        .signatures
        .iter()
        .filter(|s| s.keyid == entry.key_id.as_str())
    {
        let ok = s.sig.is_some_and(|sig| public.verify(&pae, &sig).is_ok());
        if !ok {
            return Err(ReceiptError::Signature(format!(
                "a signature by {} does not verify: the receipt was altered or not made by this appliance",
                entry.key_id
            )));
        }
        verified += 1;
    }
    if verified == 0 {
        return Err(ReceiptError::Signature(format!(
            "the receipt carries no signature by {}",
            entry.key_id
        )));
    }
    let payload: ReceiptPayload = crate::json::parse(&env.payload)
        .map_err(|e| ReceiptError::Malformed(format!("receipt payload: {e}")))?;
    if payload.type_ != RECEIPT_TYPE {
        return Err(ReceiptError::Malformed(format!(
            "payload _type is {:?}, not {RECEIPT_TYPE:?}",
            payload.type_
        )));
    }
    if payload.appliance.key_id != entry.key_id.as_str() {
        return Err(ReceiptError::Inconsistent(format!(
            "payload names appliance key {:?} but was signed by {}",
            payload.appliance.key_id, entry.key_id
        )));
    }
    match (payload.verdict, payload.reasons.is_empty()) {
        (Verdict::Promote, false) => {
            return Err(ReceiptError::Inconsistent(
                "a promote receipt carries reasons".into(),
            ))
        }
        (Verdict::Reject, true) => {
            return Err(ReceiptError::Inconsistent(
                "a reject receipt carries no reason".into(),
            ))
        }
        _ => {}
    }
    Ok(payload)
}

/// Removes temp files a power cut left on the media (MEDIA, `receipts/`, `evidence/`; #54).
/// Call once per run, before writing. Returns the paths removed (for a console note).
pub fn remove_media_temps(
    storage: &dyn Storage,
    media: &Path,
) -> Result<Vec<std::path::PathBuf>, WriteError> {
    let mut removed = Vec::new();
    for dir in [
        media.to_path_buf(),
        media.join(RECEIPTS_DIR),
        media.join(crate::evidence::EVIDENCE_DIR),
    ] {
        // A symlinked receipts/ or evidence/ is refused when written to; never cleaned through.
        if std::fs::symlink_metadata(&dir).is_ok_and(|m| m.file_type().is_dir()) {
            for name in atomic::remove_stale_temps(storage, &dir)? {
                removed.push(dir.join(name));
            }
        }
    }
    Ok(removed)
}

/// Longest bundle part of a receipt file name: 255 bytes less the longest suffix added
/// (`.promote.` + a 20-digit n + `.receipt.json`).
pub(crate) const MAX_RECEIPT_STEM: usize = 255 - ".promote.".len() - 20 - ".receipt.json".len();

/// The bundle part of its receipt's file name: the bundle's file name itself when it is a plain
/// name that fits; otherwise (a control character, a backslash, too long) that name with every
/// such character replaced by `_`, cut to fit, and tagged with the first 16 hex digits of the
/// SHA-256 of the original name, so that every bundle gets a receipt and distinct names stay
/// distinct. `bundle.file` in the receipt always carries the exact name.
pub(crate) fn receipt_stem(bundle_file_name: &str) -> String {
    if atomic::check_basename(bundle_file_name).is_ok()
        && bundle_file_name.len() <= MAX_RECEIPT_STEM
    {
        return bundle_file_name.to_owned();
    }
    let safe: String = bundle_file_name
        .chars()
        .map(|c| {
            if c == '/' || c == '\\' || c.is_control() {
                '_'
            } else {
                c
            }
        })
        .collect();
    let tag = hex(&sha256(bundle_file_name.as_bytes()));
    let mut cut = safe.len().min(MAX_RECEIPT_STEM - 17);
    while !safe.is_char_boundary(cut) {
        cut -= 1;
    }
    format!("{}-{}", &safe[..cut], &tag[..16])
}

/// The receipt file names for a bundle, in the order they are tried:
/// `<stem>.<verdict>.receipt.json`, then `<stem>.<verdict>.<n>.receipt.json` for n = 2, 3, …
/// (`<stem>` from [`receipt_stem`]).
pub fn receipt_names(bundle_file_name: &str, verdict: Verdict) -> impl Iterator<Item = String> {
    let base = receipt_stem(bundle_file_name);
    let first = format!("{base}.{verdict}.receipt.json");
    std::iter::once(first)
        .chain((2u64..).map(move |n| format!("{base}.{verdict}.{n}.receipt.json")))
}

/// Writes a receipt envelope to `MEDIA/receipts/` under the first free name (see
/// [`receipt_names`]); creates `receipts/` when absent (refusing a symlink there). The name is
/// always a plain file name inside `receipts/` (#17). Nothing existing is overwritten. Returns the
/// MEDIA-relative path (`receipts/<name>`).
pub fn write_receipt(
    storage: &dyn Storage,
    media: &Path,
    bundle_file_name: &str,
    verdict: Verdict,
    bytes: &[u8],
) -> Result<String, WriteError> {
    let dir = atomic::ensure_dir(storage, media, RECEIPTS_DIR, MODE_DIR_PUBLIC)?;
    let name = atomic::write_first_free(
        storage,
        &dir,
        receipt_names(bundle_file_name, verdict),
        bytes,
        MODE_PUBLIC,
    )?;
    Ok(format!("{RECEIPTS_DIR}/{name}"))
}

#[cfg(test)]
mod listing_tests {
    use super::*;

    fn art(name: &str, size: u64) -> ArtifactRef {
        ArtifactRef {
            name: name.into(),
            sha256: "ab".repeat(32),
            size,
        }
    }

    /// The canonical list's exact bytes (formats §6.2): sorted by name bytewise, one
    /// `<sha256> <size> <name>\n` line each.
    #[test]
    fn canonical_listing_bytes() {
        let list = [art("b", 10), art("B/x", 0), art("a b", 7)];
        let want = format!("{h} 0 B/x\n{h} 7 a b\n{h} 10 b\n", h = "ab".repeat(32));
        assert_eq!(canonical_listing(&list), want.into_bytes());
    }

    /// Inline up to MAX_INLINE_ARTIFACTS, a side file beyond; the digest is over the same bytes.
    #[test]
    fn inline_up_to_the_cap_then_a_side_file() {
        let small: Vec<ArtifactRef> = (0..MAX_INLINE_ARTIFACTS)
            .map(|i| art(&format!("f{i}"), 1))
            .collect();
        let (inline, listing, side) = artifact_fields(&small);
        assert_eq!(inline.len(), MAX_INLINE_ARTIFACTS);
        assert!(side.is_none());
        assert_eq!(
            listing.artifacts_sha256,
            hex(&sha256(&canonical_listing(&small)))
        );
        let mut big = small;
        big.push(art("g", 2));
        let (inline, listing, side) = artifact_fields(&big);
        assert!(inline.is_empty());
        assert_eq!(listing.artifacts_count, MAX_INLINE_ARTIFACTS as u64 + 1);
        assert_eq!(side, Some(canonical_listing(&big)));
    }
}
