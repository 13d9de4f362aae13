//! Airlock's verification core: the checks that decide whether bytes are authentic, small enough to
//! audit and to run on a microcontroller. No allocator, no `std`, no `unsafe`; every limit is a
//! const generic or a documented constant, and every failure is an error value, never a panic.
//!
//! The `airlock` verifier calls this crate for digests, signature checks, DSSE PAE and
//! `checksums.txt` parsing, so each of those rules is written exactly once.
#![no_std]
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod checksums;
pub mod digest;
pub mod ed25519;
pub mod hex;
pub mod name;
pub mod pae;
pub mod threshold;
#[cfg(any(test, feature = "vectors"))]
pub mod vectors;
