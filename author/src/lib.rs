//! The connected side ("authoring"): everything `airlock-bundle` and `airlock demo` do to make what
//! the appliance verifies. It writes with the same types the verifier reads
//! (`airlock_formats::document::*`, `airlock_formats::keys`), and checks what it writes with the verifier's own
//! parsers and `policy::assess`, so reader and writer cannot drift apart.
//!
//! - [`keys`]: key generation, private key files (0600), PEM, `CAVRA_GO_RELEASE_SIGNING_KEY`,
//!   minisign secret keys.
//! - [`root`]: trust roots: create, sign, co-sign, rotate, status.
//! - [`revocations`]: revocation drafts, signing, status.
//! - [`pack`]: release bundles.
//! - [`archive`]: deterministic tar / tar.gz.
//! - [`media`]: media layout for the appliance.
//!
//! Private keys are read from files outside the bundle or from the environment; nothing here
//! writes one anywhere but a 0600 key file the operator asked for.

pub mod archive;
pub mod demo;
pub mod fsutil;
pub mod governance;
pub mod keys;
pub mod media;
pub mod pack;
pub mod precheck;
pub mod revocations;
pub mod root;

pub use keys::{KeyKind, MinisignKey, PrivateKey, SIGNING_KEY_ENV};
pub use media::prepare_media;
pub use pack::{pack, PackOptions, PackReport};
