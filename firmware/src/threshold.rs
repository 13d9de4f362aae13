//! Threshold counting over distinct raw keys: one key listed under several ids or encodings, or
//! one signature repeated, counts once.

use crate::ed25519::PUBLIC_KEY_LEN;

/// More distinct signers than the fixed capacity can hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CapacityExceeded;

/// A set of distinct raw public keys with room for `N`.
#[derive(Default)]
pub struct DistinctSigners<const N: usize> {
    keys: heapless::Vec<[u8; PUBLIC_KEY_LEN], N>,
}

impl<const N: usize> DistinctSigners<N> {
    /// An empty set.
    pub fn new() -> Self {
        Self {
            keys: heapless::Vec::new(),
        }
    }

    /// Adds a signer; returns whether it was new.
    pub fn insert(&mut self, key: &[u8; PUBLIC_KEY_LEN]) -> Result<bool, CapacityExceeded> {
        if self.keys.contains(key) {
            return Ok(false);
        }
        self.keys
            .push(*key)
            .map(|()| true)
            .map_err(|_| CapacityExceeded)
    }

    /// How many distinct signers.
    pub fn count(&self) -> usize {
        self.keys.len()
    }

    /// Whether `threshold` distinct signers were seen. A threshold of 0 is never met: a role that
    /// needs no signature is a configuration error, not an open door.
    pub fn meets(&self, threshold: usize) -> bool {
        threshold >= 1 && self.count() >= threshold
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_raw_keys_once() {
        let mut s = DistinctSigners::<2>::new();
        assert_eq!(s.insert(&[1; 32]), Ok(true));
        assert_eq!(s.insert(&[1; 32]), Ok(false));
        assert!(s.meets(1));
        assert!(!s.meets(2));
        assert!(!s.meets(0));
        assert_eq!(s.insert(&[2; 32]), Ok(true));
        assert_eq!(s.insert(&[3; 32]), Err(CapacityExceeded));
        assert!(s.meets(2));
    }
}
