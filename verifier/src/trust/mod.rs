//! Verification: parsed documents + the anchor + the appliance's state → verified facts. The fact
//! types ([`root::TrustedRoot`], [`revocations::EffectiveRevocations`], [`release::VerifiedRelease`],
//! [`provenance::VerifiedProvenance`], [`governance::Outcome`], and [`crate::sigstore::Verified`])
//! have private fields, no `Default` and no public constructor: the functions here that check the
//! signatures are the only way to obtain one. A decision built on them carries
//! [`crate::policy::Promotion`], which only [`crate::policy::assess`] makes.

pub mod governance;
mod jws;
pub mod provenance;
pub mod release;
pub mod revocations;
pub mod root;
pub mod signatures;
pub mod sigstore;

/// A trust document offered for verification, with where it came from (for messages).
#[derive(Debug, Clone)]
pub struct Candidate {
    /// Where it was found, e.g. `media:trust-root/4.json` or `bundle:revocations.json`.
    pub source: String,
    /// Its exact bytes.
    pub bytes: Vec<u8>,
}

#[cfg(test)]
mod tests;
