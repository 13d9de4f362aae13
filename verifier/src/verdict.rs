//! The decision about one bundle.

use serde::{Deserialize, Serialize};
use std::fmt;

/// Promote or reject.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    /// Every check passed: the bundle may cross.
    Promote,
    /// At least one check failed (or could not be made).
    Reject,
}

impl Verdict {
    /// `promote` / `reject`.
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Promote => "promote",
            Verdict::Reject => "reject",
        }
    }
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
