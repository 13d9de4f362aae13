//! in-toto Statement v1 (the payload of release signatures and provenance).

use crate::json;
use serde::Deserialize;
use serde_json::Value;
use std::collections::BTreeMap;

/// The Statement `_type`.
pub const STATEMENT_TYPE: &str = "https://in-toto.io/Statement/v1";
/// Most subjects read from one statement.
pub const MAX_SUBJECTS: usize = 100_000;

/// A subject.
#[derive(Debug, Clone, Deserialize)]
pub struct Subject {
    /// Artifact name.
    pub name: String,
    /// Digests by algorithm.
    pub digest: BTreeMap<String, String>,
}

/// A statement (predicate left as JSON for the caller to type).
#[derive(Debug, Clone, Deserialize)]
pub struct Statement {
    /// Must be [`STATEMENT_TYPE`].
    #[serde(rename = "_type")]
    pub type_: String,
    /// Subjects.
    pub subject: Vec<Subject>,
    /// Predicate type URI.
    #[serde(rename = "predicateType")]
    pub predicate_type: String,
    /// Predicate.
    #[serde(default)]
    pub predicate: Value,
}

impl Statement {
    /// Parses a statement, requiring the exact `_type` and `predicateType`.
    pub fn parse(payload: &[u8], predicate_type: &str) -> Result<Self, String> {
        let s: Statement = json::parse(payload).map_err(|e| format!("statement: {e}"))?;
        if s.type_ != STATEMENT_TYPE {
            return Err(format!(
                "statement _type is {:?}, not {STATEMENT_TYPE:?}",
                s.type_
            ));
        }
        if s.predicate_type != predicate_type {
            return Err(format!(
                "predicateType is {:?}, not {predicate_type:?}",
                s.predicate_type
            ));
        }
        if s.subject.len() > MAX_SUBJECTS {
            return Err(format!(
                "{} subjects, more than the limit of {MAX_SUBJECTS}",
                s.subject.len()
            ));
        }
        Ok(s)
    }
}

/// The release-signature predicate (formats §5.2).
#[derive(Debug, Clone, Deserialize)]
pub struct ReleasePredicate {
    /// Package name.
    pub package: String,
    /// Version.
    pub version: String,
}

/// The release signature's predicate type.
pub const RELEASE_PREDICATE_TYPE: &str = "https://cavra.dev/release-signature/v1";
