//! in-toto Statement v1 (the payload of release signatures and provenance).

use crate::json;
use serde::Deserialize;
use serde_json::Value;
use std::borrow::Cow;

/// The Statement `_type`.
pub const STATEMENT_TYPE: &str = "https://in-toto.io/Statement/v1";
/// Most subjects read from one statement.
pub const MAX_SUBJECTS: usize = 100_000;

/// A subject, its strings borrowed from the payload where JSON escapes allow (100 000 subjects
/// would otherwise be 200 000 small allocations beside the payload they were read from).
#[derive(Debug, Clone, Deserialize)]
pub struct Subject<'a> {
    /// Artifact name.
    #[serde(borrow)]
    pub name: Cow<'a, str>,
    /// Digests by algorithm.
    #[serde(borrow)]
    pub digest: Digests<'a>,
}

/// A subject's digests by algorithm, small: the SHA-256 (nearly always the only one) in its own
/// field, any other in a list (a `BTreeMap` node per subject would cost half a kilobyte each for
/// 100 000 subjects). Keys are unique (the strict first pass refuses a repeated key).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Digests<'a> {
    sha256: Option<Cow<'a, str>>,
    others: Vec<(String, String)>,
}

impl Digests<'_> {
    /// The digest for `algorithm`.
    pub fn get(&self, algorithm: &str) -> Option<&str> {
        if algorithm == "sha256" {
            return self.sha256.as_deref();
        }
        self.others
            .iter()
            .find(|(k, _)| k == algorithm)
            .map(|(_, v)| v.as_str())
    }

    /// Whether there is a digest for `algorithm`.
    pub fn contains_key(&self, algorithm: &str) -> bool {
        self.get(algorithm).is_some()
    }

    /// `(algorithm, digest)` pairs, the SHA-256 first.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.sha256
            .iter()
            .map(|v| ("sha256", v.as_ref()))
            .chain(self.others.iter().map(|(k, v)| (k.as_str(), v.as_str())))
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

impl<'de: 'a, 'a> Deserialize<'de> for Digests<'a> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<'a>(std::marker::PhantomData<&'a ()>);
        impl<'de: 'a, 'a> serde::de::Visitor<'de> for V<'a> {
            type Value = Digests<'a>;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a map of digests")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut m: A,
            ) -> Result<Digests<'a>, A::Error> {
                let mut out = Digests::default();
                while let Some(k) = m.next_key::<Cow<'de, str>>()? {
                    let v: Borrowed<'de> = m.next_value()?;
                    if out.contains_key(&k) {
                        return Err(serde::de::Error::custom(format!(
                            "duplicate digest algorithm {k:?}"
                        )));
                    }
                    if k == "sha256" {
                        out.sha256 = Some(v.0);
                    } else {
                        out.others.push((k.into_owned(), v.0.into_owned()));
                    }
                }
                Ok(out)
            }
        }
        d.deserialize_map(V(std::marker::PhantomData))
    }
}

/// A string borrowed from the input when it has no escapes (serde's `Cow<str>` alone always
/// copies).
struct Borrowed<'a>(Cow<'a, str>);

impl<'de: 'a, 'a> Deserialize<'de> for Borrowed<'a> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<'a>(std::marker::PhantomData<&'a ()>);
        impl<'de: 'a, 'a> serde::de::Visitor<'de> for V<'a> {
            type Value = Borrowed<'a>;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Borrowed<'a>, E> {
                Ok(Borrowed(Cow::Borrowed(v)))
            }
            fn visit_str<E>(self, v: &str) -> Result<Borrowed<'a>, E> {
                Ok(Borrowed(Cow::Owned(v.to_owned())))
            }
            fn visit_string<E>(self, v: String) -> Result<Borrowed<'a>, E> {
                Ok(Borrowed(Cow::Owned(v)))
            }
        }
        d.deserialize_str(V(std::marker::PhantomData))
    }
}

/// A statement (predicate left as JSON for the caller to type).
#[derive(Debug, Clone, Deserialize)]
pub struct Statement<'a> {
    /// Must be [`STATEMENT_TYPE`].
    #[serde(rename = "_type")]
    pub type_: String,
    /// Subjects.
    #[serde(borrow)]
    pub subject: Vec<Subject<'a>>,
    /// Predicate type URI.
    #[serde(rename = "predicateType")]
    pub predicate_type: String,
    /// Predicate.
    #[serde(default)]
    pub predicate: Value,
}

impl<'a> Statement<'a> {
    /// Parses a statement, requiring the exact `_type` and `predicateType`.
    pub fn parse(payload: &'a [u8], predicate_type: &str) -> Result<Self, crate::FormatError> {
        let s: Statement = json::parse_borrowed(payload, json::MAX_LISTING_DOCUMENT_BYTES)
            .map_err(|e| format!("statement: {e}"))?;
        if s.type_ != STATEMENT_TYPE {
            return Err(format!("statement _type is {:?}, not {STATEMENT_TYPE:?}", s.type_).into());
        }
        if s.predicate_type != predicate_type {
            return Err(format!(
                "predicateType is {:?}, not {predicate_type:?}",
                s.predicate_type
            )
            .into());
        }
        if s.subject.len() > MAX_SUBJECTS {
            return Err(format!(
                "{} subjects, more than the limit of {MAX_SUBJECTS}",
                s.subject.len()
            )
            .into());
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
