//! Airlock: offline release verification.
//!
//! Data flows one way: media → [`bundle`] stream → parse ([`document`]) → verify ([`trust`]) →
//! decide ([`policy`]) → write ([`receipt`], [`evidence`], [`state`]).

pub mod bundle;
pub mod init;
pub mod reason;
pub mod run;
