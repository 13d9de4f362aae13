//! Strict JSON. serde_json silently keeps the last of two equal object keys (CVE-2017-12635 is
//! what that enables), so every document goes through [`parse`], which caps the size, refuses
//! duplicate keys at any depth in a first pass that keeps no values (memory: the keys of the
//! objects on the current path), and then deserialises the typed document from the bytes (no
//! `serde_json::Value` tree: a 100 000-artifact list would take several times its size as one).
//! Numbers are left to the typed layer: a version or threshold is a `u64`, so `1.0`, `-1`, `1e400`
//! and `2^64` are refused there (serde_json itself refuses lone surrogates and trailing bytes).

use serde::de::{self, DeserializeOwned, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;
use serde_json::{Map, Value};
use std::fmt;

/// Largest JSON document Airlock parses.
pub const MAX_DOCUMENT_BYTES: usize = 1 << 20;
/// Largest listing document: `release-evidence.json` and the provenance envelope (and its
/// payload), which name every artifact (100 000 at most).
pub const MAX_LISTING_DOCUMENT_BYTES: usize = 32 << 20;

/// Why a document could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JsonError(pub String);

impl fmt::Display for JsonError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for JsonError {}

struct Strict(Value);

impl<'de> Deserialize<'de> for Strict {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(StrictVisitor)
    }
}

struct StrictVisitor;

impl<'de> Visitor<'de> for StrictVisitor {
    type Value = Strict;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_bool<E>(self, v: bool) -> Result<Strict, E> {
        Ok(Strict(Value::Bool(v)))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Strict, E> {
        Ok(Strict(Value::from(v)))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Strict, E> {
        Ok(Strict(Value::from(v)))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Strict, E> {
        serde_json::Number::from_f64(v)
            .map(|n| Strict(Value::Number(n)))
            .ok_or_else(|| E::custom("number is not finite"))
    }
    fn visit_str<E>(self, v: &str) -> Result<Strict, E> {
        Ok(Strict(Value::String(v.to_owned())))
    }
    fn visit_string<E>(self, v: String) -> Result<Strict, E> {
        Ok(Strict(Value::String(v)))
    }
    fn visit_unit<E>(self) -> Result<Strict, E> {
        Ok(Strict(Value::Null))
    }
    fn visit_none<E>(self) -> Result<Strict, E> {
        Ok(Strict(Value::Null))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Strict, A::Error> {
        let mut out = Vec::new();
        while let Some(Strict(v)) = seq.next_element()? {
            out.push(v);
        }
        Ok(Strict(Value::Array(out)))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Strict, A::Error> {
        let mut out = Map::new();
        while let Some(key) = map.next_key::<String>()? {
            if out.contains_key(&key) {
                return Err(de::Error::custom(format!("duplicate object key {key:?}")));
            }
            let Strict(v) = map.next_value()?;
            out.insert(key, v);
        }
        Ok(Strict(Value::Object(out)))
    }
}

/// Parses `bytes` as one strict JSON value.
pub fn parse_value(bytes: &[u8]) -> Result<Value, JsonError> {
    if bytes.len() > MAX_DOCUMENT_BYTES {
        return Err(JsonError(format!(
            "document is {} bytes, more than the {MAX_DOCUMENT_BYTES}-byte limit",
            bytes.len()
        )));
    }
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let Strict(v) = Strict::deserialize(&mut de).map_err(|e| JsonError(e.to_string()))?;
    de.end().map_err(|e| JsonError(e.to_string()))?;
    Ok(v)
}

/// Parses `bytes` strictly into `T` (at most [`MAX_DOCUMENT_BYTES`]).
pub fn parse<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, JsonError> {
    parse_capped(bytes, MAX_DOCUMENT_BYTES)
}

/// Parses `bytes` (at most `cap` of them) strictly into `T`.
pub fn parse_capped<T: DeserializeOwned>(bytes: &[u8], cap: usize) -> Result<T, JsonError> {
    parse_borrowed(bytes, cap)
}

/// Like [`parse_capped`], but `T` may borrow from `bytes` (a large base64 string need not be
/// copied before it is decoded).
pub fn parse_borrowed<'a, T: Deserialize<'a>>(bytes: &'a [u8], cap: usize) -> Result<T, JsonError> {
    if bytes.len() > cap {
        return Err(JsonError(format!(
            "document is {} bytes, more than the {cap}-byte limit",
            bytes.len()
        )));
    }
    let mut de = serde_json::Deserializer::from_slice(bytes);
    Checked::deserialize(&mut de).map_err(|e| JsonError(e.to_string()))?;
    de.end().map_err(|e| JsonError(e.to_string()))?;
    serde_json::from_slice(bytes).map_err(|e| JsonError(e.to_string()))
}

/// The first pass of [`parse_capped`]: the strict rules, no values kept.
struct Checked;

impl<'de> Deserialize<'de> for Checked {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(CheckVisitor)
    }
}

struct CheckVisitor;

impl<'de> Visitor<'de> for CheckVisitor {
    type Value = Checked;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_bool<E>(self, _: bool) -> Result<Checked, E> {
        Ok(Checked)
    }
    fn visit_i64<E>(self, _: i64) -> Result<Checked, E> {
        Ok(Checked)
    }
    fn visit_u64<E>(self, _: u64) -> Result<Checked, E> {
        Ok(Checked)
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Checked, E> {
        if v.is_finite() {
            Ok(Checked)
        } else {
            Err(E::custom("number is not finite"))
        }
    }
    fn visit_str<E>(self, _: &str) -> Result<Checked, E> {
        Ok(Checked)
    }
    fn visit_unit<E>(self) -> Result<Checked, E> {
        Ok(Checked)
    }
    fn visit_none<E>(self) -> Result<Checked, E> {
        Ok(Checked)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Checked, A::Error> {
        while seq.next_element::<Checked>()?.is_some() {}
        Ok(Checked)
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Checked, A::Error> {
        let mut keys = std::collections::BTreeSet::new();
        while let Some(key) = map.next_key::<String>()? {
            if keys.contains(&key) {
                return Err(de::Error::custom(format!("duplicate object key {key:?}")));
            }
            map.next_value::<Checked>()?;
            keys.insert(key);
        }
        Ok(Checked)
    }
}

/// Converts an already strictly parsed value into `T`.
pub fn from_value<T: DeserializeOwned>(v: Value) -> Result<T, JsonError> {
    serde_json::from_value(v).map_err(|e| JsonError(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Deserialize, Debug)]
    struct Doc {
        #[allow(dead_code)]
        version: u64,
    }

    #[test]
    fn refuses_duplicate_keys_at_any_depth() {
        assert!(parse_value(br#"{"a":1,"a":2}"#).is_err());
        assert!(parse_value(br#"{"x":[{"t":1,"t":1}]}"#).is_err());
        assert!(parse_value(br#"{"a":1,"b":{"a":2}}"#).is_ok());
    }

    #[test]
    fn refuses_odd_numbers_where_integers_are_meant() {
        for bad in [
            r#"{"version":1.0}"#,
            r#"{"version":-1}"#,
            r#"{"version":-0}"#,
            r#"{"version":1e400}"#,
            r#"{"version":18446744073709551616}"#,
            r#"{"version":"1"}"#,
        ] {
            assert!(parse::<Doc>(bad.as_bytes()).is_err(), "{bad}");
        }
        assert!(parse::<Doc>(br#"{"version":18446744073709551615}"#).is_ok());
    }

    #[test]
    fn refuses_lone_surrogates_bom_and_trailing_bytes() {
        assert!(parse_value(br#"{"a":"\ud800"}"#).is_err());
        assert!(parse_value(b"\xef\xbb\xbf{}").is_err());
        assert!(parse_value(b"{} {}").is_err());
        assert!(parse_value(&vec![b' '; MAX_DOCUMENT_BYTES + 1]).is_err());
    }
}
