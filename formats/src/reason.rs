//! The catalogue of rejection reasons. Codes are stable: scripts and sites match on them. Each
//! code is documented in `docs/FORMATS.md` §7; add new ones at the end, never rename.

use serde::{Deserialize, Serialize};
use std::fmt;

macro_rules! codes {
    ($($variant:ident => $text:literal: $doc:literal,)*) => {
        /// A stable, kebab-case rejection code.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum Code {
            $(#[doc = $doc] $variant,)*
        }

        impl Code {
            /// Every code, in catalogue order.
            pub const ALL: &'static [Code] = &[$(Code::$variant,)*];

            /// The code as written in receipts, logs and JSON output.
            pub fn as_str(self) -> &'static str {
                match self { $(Code::$variant => $text,)* }
            }

            /// One line saying what the code means.
            pub fn describe(self) -> &'static str {
                match self { $(Code::$variant => $doc,)* }
            }

            /// The code for a string, if it is one.
            pub fn parse(s: &str) -> Option<Code> {
                match s { $($text => Some(Code::$variant),)* _ => None }
            }
        }
    };
}

codes! {
    BundleUnreadable => "bundle-unreadable": "The bundle could not be read to the end: not a tar, gzip, zstd or xz file, truncated, a bad header checksum, an I/O error, or bytes after the end of the archive.",
    BundleEntryUnsafe => "bundle-entry-unsafe": "An entry is not a plain file or directory (link, device, FIFO, sparse file, global header) or its name is absolute, has `..`, a backslash or a control character.",
    ChecksumsMalformed => "checksums-malformed": "checksums.txt is not strict sha256sum text (CRLF, BOM, `*` marker, escapes, uppercase hex, bad name, missing final newline).",
    BundleEntryDuplicate => "bundle-entry-duplicate": "Two entries have the same name after removing `./`, Unicode NFC normalisation and case folding.",
    BundleLimitExceeded => "bundle-limit-exceeded": "A size or count limit was exceeded (entries, name length, header size, metadata file size, total bytes).",
    ChecksumMismatch => "checksum-mismatch": "A file's SHA-256 differs from the digest in checksums.txt.",
    ChecksumMissing => "checksum-missing": "A file of the bundle has no line in checksums.txt, or checksums.txt is absent.",
    ChecksumExtra => "checksum-extra": "checksums.txt names a file that is not in the bundle, or names a file twice.",
    SignatureInvalid => "signature-invalid": "A signature by a known key does not verify, or a signed statement is malformed or about something else.",
    SignatureThresholdNotMet => "signature-threshold-not-met": "Fewer distinct trusted keys signed than the role's threshold requires.",
    SignerUnknown => "signer-unknown": "A signature names a key that the trust root does not know.",
    KeyRevoked => "key-revoked": "A signature was made by a revoked key and was not counted.",
    KeyOutsideValidity => "key-outside-validity": "A signature was made by a key outside its not_before/not_after window and was not counted.",
    TrustRootInvalid => "trust-root-invalid": "The anchor or a trust root on the media is malformed, badly signed, below its own threshold or internally inconsistent.",
    TrustRootExpired => "trust-root-expired": "The newest trusted root has expired: everything is rejected until a new root arrives.",
    TrustRootRollback => "trust-root-rollback": "The newest root offered is older than the one this appliance already trusts.",
    TrustRootChainBroken => "trust-root-chain-broken": "The chain of trust roots from the anchor has a gap, a bad link, or two different copies of one version.",
    RevocationsInvalid => "revocations-invalid": "The revocation list is malformed, badly signed, below the revocation threshold, or an entry lacks emergency evidence.",
    RevocationsExpired => "revocations-expired": "The revocation list has expired: everything is rejected until a fresh list arrives.",
    RevocationsRollback => "revocations-rollback": "The revocation list is older than one already seen, or missing after one was accepted.",
    VersionRevoked => "version-revoked": "The release version is listed as affected by a key revocation.",
    ArtifactRevoked => "artifact-revoked": "A file of the bundle (or the bundle itself) has a revoked SHA-256.",
    ReleaseRollback => "release-rollback": "The release version is not newer than the one already promoted for the package (or the same version with different content).",
    EvidenceMismatch => "evidence-mismatch": "release-evidence.json is missing, malformed, or disagrees with checksums.txt, the release signature, the signing-operations manifest or the provenance.",
    ProvenanceInvalid => "provenance-invalid": "The provenance is missing, malformed, of the wrong type, or not signed by the provenance threshold.",
    ProvenanceSubjectMismatch => "provenance-subject-mismatch": "The provenance subjects are not exactly the artifacts with their digests.",
    BuilderNotTrusted => "builder-not-trusted": "The provenance builder id is not one of the trust root's builders.",
    SourceMismatch => "source-mismatch": "The provenance source repository, ref or commit does not match the trusted builder and the release evidence.",
    SigningOperationsMissing => "signing-operations-missing": "cavra-runtime.signing-operations.json is missing or malformed.",
    SigningOperationsControlMissing => "signing-operations-control-missing": "The signing-operations manifest lacks a required control, custody boundary, rotation or revocation section.",
    SigningOperationsAlgorithm => "signing-operations-algorithm": "The signing-operations manifest names an algorithm other than Ed25519.",
    SigningOperationsMismatch => "signing-operations-mismatch": "The signing-operations manifest disagrees with checksums.txt or the release evidence, or its active key did not sign the release.",
    ClockUntrusted => "clock-untrusted": "The system clock is behind a time this appliance has already seen, so expiry cannot be judged.",
    GovernanceMissing => "governance-missing": "The trust root requires release-governance evidence and a file of .cavra/go-daemon/ is missing.",
    GovernanceEvidenceInvalid => "governance-evidence-invalid": "The release-governance evidence log is malformed, its chain is broken, a record's HMAC fails, a time is out of order or in the future, or it carries a bearer token.",
    GovernanceKeyUntrusted => "governance-key-untrusted": "A governance evidence record is signed by a key that is not a trusted governance-evidence key at the record's time (unknown, revoked, outside its window, or its secret is not in the vault).",
    RunnerIdentityInvalid => "runner-identity-invalid": "The runner identity is not authentic: a malformed claims file, a bad or unpinned OIDC token signature, issuer, audience or token times, claims that differ from the token or the evidence log, or HMAC runner claims below the runner-auth threshold.",
    RunnerIdentityMismatch => "runner-identity-mismatch": "The runner identity does not match the trust root's pinned claims, or its commit or ref claim differs from the release evidence.",
    GovernanceDenied => "governance-denied": "The release-governance response does not allow the release (decision other than allow, a check that did not pass, or an unreadable response).",
    GovernanceMismatch => "governance-mismatch": "The release-governance response or evidence log names another release, decision, response digest or runner identity, or the log's events are missing or out of order.",
    GovernanceReportMismatch => "governance-report-mismatch": "The published governance evidence verification report disagrees with what the appliance computed, or claims valid over a broken chain or signature.",
    SigstoreInvalid => "sigstore-invalid": "A Sigstore bundle fails verification (formats §9.3 steps 1–5: certificate chain, signing time, transparency log entry, SCT or signature); the message names the step.",
}

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for Code {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for Code {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Code::parse(&s)
            .ok_or_else(|| serde::de::Error::custom(format!("unknown reason code {s:?}")))
    }
}

/// One reason a bundle was rejected: a stable code and a sentence for a person.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reason {
    /// The stable code.
    pub code: Code,
    /// What exactly was wrong, naming the file, key or field.
    pub message: String,
}

impl Reason {
    /// A reason with `code` and `message`.
    pub fn new(code: Code, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
        }
    }
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code, self.message)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_unique_kebab_case_and_round_trip() {
        let mut seen = std::collections::BTreeSet::new();
        for &c in Code::ALL {
            let s = c.as_str();
            assert!(
                s.bytes().all(|b| b.is_ascii_lowercase() || b == b'-'),
                "{s}"
            );
            assert!(seen.insert(s), "duplicate {s}");
            assert_eq!(Code::parse(s), Some(c));
        }
        assert_eq!(Code::parse("nope"), None);
    }
}
