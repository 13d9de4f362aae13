//! Airlock: offline release verification.
//!
//! Data flows one way: media → [`bundle`] stream → parse ([`document`]) → verify ([`trust`]) →
//! decide ([`policy`]) → write ([`receipt`], [`evidence`], [`state`]).

pub mod author;
pub mod bundle;
pub mod demo;
pub mod document;
pub mod json;
pub mod keys;
pub mod policy;
pub mod reason;
pub mod receipt;
pub mod timestamp;
pub mod trust;
pub mod verdict;
