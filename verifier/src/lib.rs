//! Airlock: offline release verification.
//!
//! Data flows one way: media → [`bundle`] stream → parse ([`document`]) → verify ([`trust`]) →
//! decide ([`policy`]) → write ([`receipt`], [`evidence`], [`state`]).

pub mod appliance_key;
pub mod appliances;
pub mod atomic;
pub mod author;
pub mod bundle;
pub mod cli;
pub mod demo;
pub mod document;
pub mod escape;
pub mod evidence;
pub mod extract;
#[cfg(target_os = "linux")]
pub mod init;
pub mod json;
pub mod keys;
pub mod media;
pub mod nofollow;
pub mod policy;
pub mod reason;
pub mod receipt;
pub mod record;
pub mod run;
pub mod sandbox;
pub mod sigstore;
pub mod state;
pub mod state_lock;
pub mod state_log;
pub mod timestamp;
pub mod trust;
pub mod vault;
pub mod verdict;
