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
    pub digest: Digests,
}

/// A subject's digests by algorithm: a small list, not a map (a `BTreeMap` node per subject
/// would cost half a kilobyte each for 100 000 subjects). Keys are unique (the strict first pass
/// refuses a repeated key).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Digests(Vec<(String, String)>);

impl Digests {
    /// The digest for `algorithm`.
    pub fn get(&self, algorithm: &str) -> Option<&String> {
        self.0.iter().find(|(k, _)| k == algorithm).map(|(_, v)| v)
    }

    /// Whether there is a digest for `algorithm`.
    pub fn contains_key(&self, algorithm: &str) -> bool {
        self.get(algorithm).is_some()
    }

    /// `(algorithm, digest)` pairs in document order.
    pub fn iter(&self) -> impl Iterator<Item = (&String, &String)> {
        self.0.iter().map(|(k, v)| (k, v))
    }

    /// How many digests.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether there is none.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl<'de> Deserialize<'de> for Digests {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let map: BTreeMap<String, String> = BTreeMap::deserialize(d)?;
        Ok(Self(map.into_iter().collect()))
    }
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
        let s: Statement = json::parse_capped(payload, json::MAX_LISTING_DOCUMENT_BYTES)
            .map_err(|e| format!("statement: {e}"))?;
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
