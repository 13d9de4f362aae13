//! Establishing the trust root (formats §3; TUF root rotation, offline). Steps:
//! 1. The anchor must parse and meet its own `root` threshold.
//! 2. Every offered root must parse; a file `trust-root/<n>.json` must hold version n; copies of
//!    one version must carry identical payload bytes.
//! 3. From the anchor, walk versions k+1, k+2, … to the newest offered, each signed by the
//!    threshold of the previous root's `root` role and of its own. A gap breaks the chain; the
//!    steps beyond the highest version already accepted are capped at [`MAX_CHAIN`].
//! 4. The newest version reached must not be below the highest this appliance accepted (rollback)
//!    and must not be expired (freeze); intermediate roots may have expired.

use super::signatures::{count_dsse, RevokedKeys, Window};
use super::Candidate;
use crate::document::trust_root::TrustRoot;
use crate::keys::KeyId;
use crate::reason::{Code, Reason};
use crate::timestamp::Timestamp;
use std::collections::{BTreeMap, BTreeSet};

/// Most rotations beyond what the appliance already accepted, in one verification (go-tuf uses
/// 256). Versions it accepted before are re-walked from its own store without counting.
pub const MAX_CHAIN: u64 = 256;
/// Most trust-root files considered.
pub(crate) const MAX_CANDIDATES: usize = 8192;

/// The trust root this verification runs under. Only [`establish`] makes one: private fields, no
/// `Default`, no public constructor.
///
/// ```compile_fail,E0599
/// // Not by default.
/// let _ = <airlock_verifier::trust::root::TrustedRoot>::default();
/// ```
///
/// ```compile_fail,E0451
/// // Nor from a parsed (unverified) document.
/// use airlock_verifier::trust::root::TrustedRoot;
/// fn forge(root: airlock_formats::document::trust_root::TrustRoot) -> TrustedRoot {
///     TrustedRoot { root, accepted: Vec::new(), key_history: Default::default() }
/// }
/// ```
///
/// ```
/// // The paths above are right: naming and reading one compiles.
/// use airlock_verifier::trust::root::TrustedRoot;
/// fn version(r: &TrustedRoot) -> u64 {
///     r.version()
/// }
/// let _: Option<airlock_formats::document::trust_root::TrustRoot> = None;
/// ```
#[derive(Debug, Clone)]
pub struct TrustedRoot {
    root: TrustRoot,
    accepted: Vec<(u64, Vec<u8>)>,
    key_history: BTreeMap<KeyId, BTreeSet<[u8; 32]>>,
}

impl TrustedRoot {
    /// The root document (its keys, roles and builders now carry authority).
    pub fn root(&self) -> &TrustRoot {
        &self.root
    }

    /// The version.
    pub fn version(&self) -> u64 {
        self.root.version()
    }

    /// Every raw key an id named in any root of the walk (anchor included): a revocation by id
    /// reaches the key even after a later root lists it under another id or drops it.
    pub(crate) fn raw_keys_ever_named(&self, id: &KeyId) -> impl Iterator<Item = &[u8; 32]> {
        self.key_history.get(id).into_iter().flatten()
    }

    /// Versions newer than the anchor that this walk accepted, with their file bytes: what the
    /// appliance persists so that it never goes below them.
    pub fn accepted(&self) -> &[(u64, Vec<u8>)] {
        &self.accepted
    }
}

/// Inputs to the walk.
pub struct RootInputs<'a> {
    /// The anchor's bytes.
    pub anchor: &'a [u8],
    /// Roots offered by the media, the bundle and the state's own store.
    pub candidates: &'a [Candidate],
    /// The highest version this appliance has accepted before.
    pub highest_accepted: u64,
    /// The clock.
    pub now: Timestamp,
}

fn self_signed(root: &TrustRoot, what: &str) -> Result<(), Vec<Reason>> {
    let threshold = root.role("root").map_or(usize::MAX, |r| r.threshold);
    let count = count_dsse(
        &root.envelope,
        root,
        "root",
        Window::Historical,
        &RevokedKeys::default(),
        what,
    );
    if count.meets(threshold) {
        Ok(())
    } else {
        Err(count.shortfall(threshold, what))
    }
}

fn version_from_source(source: &str) -> Option<u64> {
    source
        .rsplit_once("trust-root/")
        .and_then(|(_, n)| n.strip_suffix(".json"))
        .and_then(|n| n.parse().ok())
}

/// Parses a root and checks its Sigstore trusted root (formats §9.1) loads.
fn parse(bytes: &[u8]) -> Result<TrustRoot, String> {
    let root = TrustRoot::parse(bytes)?;
    if let Some(text) = &root.sigstore {
        crate::sigstore::load_trusted_root(text.as_bytes())
            .map_err(|e| format!("sigstore: {e}"))?;
    }
    Ok(root)
}

/// Walks from the anchor to the newest offered root.
pub fn establish(input: &RootInputs<'_>) -> Result<TrustedRoot, Vec<Reason>> {
    let invalid = |m: String| vec![Reason::new(Code::TrustRootInvalid, m)];
    // Step 1.
    let anchor = parse(input.anchor)
        .map_err(|e| invalid(format!("the anchor is not a valid trust root: {e}")))?;
    self_signed(&anchor, "the anchor").map_err(|mut r| {
        r.insert(
            0,
            Reason::new(
                Code::TrustRootInvalid,
                "the anchor does not meet its own root threshold",
            ),
        );
        r
    })?;
    // Step 2.
    let mut reasons = Vec::new();
    if input.candidates.len() > MAX_CANDIDATES {
        return Err(invalid(format!(
            "more than {MAX_CANDIDATES} trust-root files offered"
        )));
    }
    let mut by_version: BTreeMap<u64, Vec<(&Candidate, TrustRoot)>> = BTreeMap::new();
    for c in input.candidates {
        match parse(&c.bytes) {
            Err(e) => reasons.push(Reason::new(
                Code::TrustRootInvalid,
                format!("{}: {e}", c.source),
            )),
            Ok(r) => {
                if let Some(n) = version_from_source(&c.source).filter(|n| *n != r.version()) {
                    reasons.push(Reason::new(
                        Code::TrustRootInvalid,
                        format!("{} holds version {}, not {n}", c.source, r.version()),
                    ));
                } else if r.version() >= anchor.version() {
                    by_version.entry(r.version()).or_default().push((c, r));
                }
            }
        }
    }
    for (v, copies) in &by_version {
        let reference = if *v == anchor.version() {
            &anchor.payload_bytes
        } else {
            &copies[0].1.payload_bytes
        };
        for (c, r) in copies {
            if r.payload_bytes != *reference {
                reasons.push(Reason::new(
                    Code::TrustRootChainBroken,
                    format!(
                        "{} carries a different version {v} than another copy",
                        c.source
                    ),
                ));
            }
        }
    }
    if !reasons.is_empty() {
        return Err(reasons);
    }
    // Step 3.
    let newest = by_version
        .keys()
        .next_back()
        .copied()
        .unwrap_or(anchor.version())
        .max(anchor.version());
    let start = anchor.version().max(input.highest_accepted);
    if newest.saturating_sub(start) > MAX_CHAIN {
        return Err(vec![Reason::new(
            Code::TrustRootChainBroken,
            format!(
                "the chain from version {start} to {newest} is longer than {MAX_CHAIN} rotations"
            ),
        )]);
    }
    let mut key_history: BTreeMap<KeyId, BTreeSet<[u8; 32]>> = BTreeMap::new();
    let mut remember = |r: &TrustRoot| {
        for (id, k) in &r.keys {
            key_history.entry(id.clone()).or_default().insert(*k.raw());
        }
    };
    remember(&anchor);
    let mut current = anchor;
    let mut accepted = Vec::new();
    while current.version() < newest {
        let next = current.version() + 1;
        let Some(copies) = by_version.get(&next) else {
            return Err(vec![Reason::new(
                Code::TrustRootChainBroken,
                format!(
                    "trust root version {next} is missing between {} and {newest}",
                    current.version()
                ),
            )]);
        };
        let mut broken = Vec::new();
        for (c, r) in copies {
            let what = format!("{} (version {next})", c.source);
            let old_threshold = current.role("root").map_or(usize::MAX, |x| x.threshold);
            let by_old = count_dsse(
                &r.envelope,
                &current,
                "root",
                Window::Historical,
                &RevokedKeys::default(),
                &what,
            );
            if !by_old.meets(old_threshold) {
                broken.push(Reason::new(
                    Code::TrustRootChainBroken,
                    format!(
                        "{what} is not signed by the root threshold of version {}",
                        current.version()
                    ),
                ));
                broken.extend(by_old.shortfall(old_threshold, &what));
            }
            if let Err(r) = self_signed(r, &what) {
                broken.push(Reason::new(
                    Code::TrustRootChainBroken,
                    format!("{what} does not meet its own root threshold"),
                ));
                broken.extend(r);
            }
        }
        if !broken.is_empty() {
            return Err(broken);
        }
        let (c, r) = &copies[0];
        accepted.push((next, c.bytes.clone()));
        remember(r);
        current = r.clone();
    }
    // Step 4.
    if current.version() < input.highest_accepted {
        reasons.push(Reason::new(
            Code::TrustRootRollback,
            format!(
                "the newest trust root reachable is version {}, but this appliance already accepted version {}",
                current.version(),
                input.highest_accepted
            ),
        ));
    }
    if current.payload.expires <= input.now {
        reasons.push(Reason::new(
            Code::TrustRootExpired,
            format!(
                "trust root version {} expired at {}",
                current.version(),
                current.payload.expires
            ),
        ));
    }
    if reasons.is_empty() {
        Ok(TrustedRoot {
            root: current,
            accepted,
            key_history,
        })
    } else {
        Err(reasons)
    }
}
