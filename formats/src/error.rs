//! The formats layer's error: why bytes are not a valid document. Parsing trusts nothing and
//! decides nothing, so every variant is malformed input; the verifier maps the document that
//! failed to its reason code (`trust-root-invalid`, `revocations-invalid`, ...), never the text.

use crate::json::JsonError;

/// Why bytes are not a valid document (or a value not a valid field).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FormatError {
    /// Not strict JSON, or JSON of another shape (formats §2.6).
    #[error("{0}")]
    Json(#[from] JsonError),
    /// Well-formed, but a rule of the format is broken (the sentence says which).
    #[error("{0}")]
    Invalid(String),
}

impl From<String> for FormatError {
    fn from(message: String) -> Self {
        Self::Invalid(message)
    }
}

impl From<&str> for FormatError {
    fn from(message: &str) -> Self {
        Self::Invalid(message.to_owned())
    }
}

/// The message, for layers that still carry errors as sentences.
impl From<FormatError> for String {
    fn from(e: FormatError) -> Self {
        e.to_string()
    }
}
