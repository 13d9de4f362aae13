//! Parsing: bytes → typed documents. Strict JSON, every limit checked, nothing trusted yet; the
//! types here carry no authority until `crate::trust` has verified their signatures.

pub mod checksums;
pub mod dsse;
pub mod governance;
pub mod governance_pins;
pub mod provenance;
pub mod release_evidence;
pub mod revocations;
pub mod signing_ops;
pub mod statement;
pub mod trust_root;
