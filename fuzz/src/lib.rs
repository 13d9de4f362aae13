//! Airlock's fuzz harness: the entry points every fuzz target calls (see `harness.rs`, which the
//! stable replay test `tests/tests/fuzz_corpus.rs` includes too).

#[path = "harness.rs"]
mod harness;
pub use harness::*;
