//! RFC 3339 UTC timestamps: read with `Z` or `+00:00` (fractional seconds allowed), always written
//! as `YYYY-MM-DDTHH:MM:SSZ`.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

/// An instant in UTC.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(OffsetDateTime);

impl Timestamp {
    /// The system clock, read once per run.
    pub fn now() -> Self {
        Self(
            OffsetDateTime::now_utc()
                .replace_nanosecond(0)
                .unwrap_or(OffsetDateTime::UNIX_EPOCH),
        )
    }

    /// Parses an RFC 3339 timestamp whose offset is zero.
    pub fn parse(s: &str) -> Result<Self, crate::FormatError> {
        let t = OffsetDateTime::parse(s, &Rfc3339)
            .map_err(|e| format!("{s:?} is not an RFC 3339 time: {e}"))?;
        if t.offset() != time::UtcOffset::UTC {
            return Err(format!("{s:?} is not in UTC").into());
        }
        Ok(Self(t))
    }

    /// From seconds since the Unix epoch.
    pub fn from_unix(secs: i64) -> Option<Self> {
        OffsetDateTime::from_unix_timestamp(secs).ok().map(Self)
    }

    /// Seconds since the Unix epoch.
    pub fn unix(&self) -> i64 {
        self.0.unix_timestamp()
    }

    /// This instant moved by `secs` seconds (saturating at the representable range).
    pub fn plus_seconds(&self, secs: i64) -> Self {
        self.0
            .checked_add(time::Duration::seconds(secs))
            .map(Self)
            .unwrap_or(*self)
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let t = self.0;
        write!(
            f,
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
            t.year(),
            u8::from(t.month()),
            t.day(),
            t.hour(),
            t.minute(),
            t.second()
        )
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Timestamp::parse(&s).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utc_only_and_canonical_output() {
        let t = Timestamp::parse("2026-04-01T00:00:00Z").unwrap();
        assert_eq!(t.to_string(), "2026-04-01T00:00:00Z");
        assert_eq!(Timestamp::parse("2026-04-01T00:00:00+00:00").unwrap(), t);
        assert!(Timestamp::parse("2026-04-01T02:00:00+02:00").is_err());
        assert!(Timestamp::parse("2026-04-01").is_err());
        assert!(Timestamp::parse("2026-04-01T00:00:00.5Z").unwrap() > t);
    }
}
