//! in-toto Statement v1 (the payload of release signatures and provenance).

use crate::json;
use serde::Deserialize;
use serde_json::Value;

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

/// A subject's digests by algorithm, small: the SHA-256 (nearly always the only one) in its own
/// field, any other in a list (a `BTreeMap` node per subject would cost half a kilobyte each for
/// 100 000 subjects). Keys are unique (the strict first pass refuses a repeated key).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Digests {
    sha256: Option<String>,
    others: Vec<(String, String)>,
}

impl Digests {
    /// The digest for `algorithm`.
    pub fn get(&self, algorithm: &str) -> Option<&String> {
        if algorithm == "sha256" {
            return self.sha256.as_ref();
        }
        self.others
            .iter()
            .find(|(k, _)| k == algorithm)
            .map(|(_, v)| v)
    }

    /// Whether there is a digest for `algorithm`.
    pub fn contains_key(&self, algorithm: &str) -> bool {
        self.get(algorithm).is_some()
    }

    /// `(algorithm, digest)` pairs, the SHA-256 first.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &String)> {
        self.sha256
            .iter()
            .map(|v| ("sha256", v))
            .chain(self.others.iter().map(|(k, v)| (k.as_str(), v)))
    }

    /// How many digests.
    pub fn len(&self) -> usize {
        self.others.len() + usize::from(self.sha256.is_some())
    }

    /// Whether there is none.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl<'de> Deserialize<'de> for Digests {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = Digests;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a map of digests")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut m: A,
            ) -> Result<Digests, A::Error> {
                let mut out = Digests::default();
                while let Some(k) = m.next_key::<std::borrow::Cow<'de, str>>()? {
                    let v: String = m.next_value()?;
                    if out.contains_key(&k) {
                        return Err(serde::de::Error::custom(format!(
                            "duplicate digest algorithm {k:?}"
                        )));
                    }
                    if k == "sha256" {
                        out.sha256 = Some(v);
                    } else {
                        out.others.push((k.into_owned(), v));
                    }
                }
                Ok(out)
            }
        }
        d.deserialize_map(V)
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
