//! Airlock's verifier: the appliance.
//!
//! Data flows one way: media → [`bundle`] stream → parse ([`document`]) → verify ([`trust`]) →
//! decide ([`policy`]) → write ([`receipt`], [`evidence`], [`state`]).

pub mod appliance_key;
pub mod appliances;
pub mod atomic;
pub mod bundle;
pub mod console;
pub mod escape;
pub mod evidence;
pub mod extract;
#[cfg(target_os = "linux")]
pub mod init;
pub mod media;
mod nofollow;
pub mod policy;
pub mod receipt;
mod record;
pub mod run;
pub mod sandbox;
pub mod sigstore;
pub mod state;
mod state_lock;
mod state_log;
pub mod trust;
pub mod vault;
pub mod verdict;

// The formats are one crate shared with the authoring side; inside the verifier they keep their
// short paths (`crate::document`, `crate::keys`, ...).
use airlock_formats::{document, json, keys, reason, timestamp};
