//! Airlock's formats: every document the media and a bundle carry, parsed strictly and trusting
//! nothing, and the writers' side of the same definitions.
//!
//! One definition per format, shared by the verifier (which reads) and the authoring side (which
//! writes): [`document`] (trust roots, revocation lists, DSSE, statements, provenance, release
//! evidence, signing operations, checksums, governance), [`keys`], strict [`json`], the
//! [`reason`] catalogue, [`timestamp`]s and the [`layout`] of the media and the bundle. Parsed
//! documents carry no authority: `airlock_verifier`'s `trust` module verifies them.

pub mod document;
mod error;
pub mod json;
pub mod keys;
pub mod layout;
pub mod reason;
pub mod timestamp;

pub use error::FormatError;
