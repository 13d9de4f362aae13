//! Every file name of the bundle, the media and the appliance state (formats §1–§6, §8, §9), in
//! one place: the reader, the writer and the docs spell each one from here.

/// The files of a release bundle (formats §5). Names are canonical (`/`-separated, no `./`).
pub mod bundle {
    /// The checksums listing (formats §3.1): one line per artifact.
    pub const CHECKSUMS: &str = "checksums.txt";
    /// DSSE release signature over `checksums.txt`.
    pub const CHECKSUMS_SIG: &str = "checksums.txt.sig.json";
    /// minisign release signature over `checksums.txt`.
    pub const CHECKSUMS_MINISIG: &str = "checksums.txt.minisig";
    /// Sigstore release signature over `checksums.txt` (formats §9.2).
    pub const CHECKSUMS_SIGSTORE: &str = "checksums.txt.sigstore.json";
    /// Release evidence (formats §3.3).
    pub const EVIDENCE: &str = "release-evidence.json";
    /// in-toto / SLSA provenance in DSSE (formats §3.4).
    pub const PROVENANCE: &str = "cavra-runtime.provenance.intoto.json";
    /// Sigstore provenance (formats §9.2).
    pub const PROVENANCE_SIGSTORE: &str = "cavra-runtime.provenance.sigstore.json";
    /// Signing-operations manifest (formats §3.5).
    pub const SIGNING_OPS: &str = "cavra-runtime.signing-operations.json";
    /// The newest trust root the bundle offers.
    pub const BOOTSTRAP: &str = "offline-trust-root-bootstrap.json";
    /// The revocation list.
    pub const REVOCATIONS: &str = "revocations.json";
    /// Directory of versioned trust roots, `trust-root/<n>.json`.
    pub const TRUST_ROOT_DIR: &str = "trust-root";
    /// Runner claims (formats §8.3).
    pub const GOVERNANCE_CLAIMS: &str = ".cavra/go-daemon/runner-auth-claims.json";
    /// Runner OIDC token (formats §8.3).
    pub const GOVERNANCE_JWT: &str = ".cavra/go-daemon/runner-oidc-token.jwt";
    /// Release-governance response (formats §8.5).
    pub const GOVERNANCE_RESPONSE: &str = ".cavra/go-daemon/release-governance-response.json";
    /// Release-governance HMAC evidence log (formats §8.6).
    pub const GOVERNANCE_EVIDENCE: &str = ".cavra/go-daemon/release-governance-evidence.jsonl";
    /// Release-governance verification report (formats §8.7).
    pub const GOVERNANCE_REPORT: &str =
        ".cavra/go-daemon/release-governance-evidence-verification.json";
    /// The five governance files (formats §8.8: metadata, never artifacts).
    pub const GOVERNANCE_FILES: [&str; 5] = [
        GOVERNANCE_CLAIMS,
        GOVERNANCE_JWT,
        GOVERNANCE_RESPONSE,
        GOVERNANCE_EVIDENCE,
        GOVERNANCE_REPORT,
    ];

    /// Whether `name` is `trust-root/<n>.json` with a decimal `n`.
    pub fn is_versioned_root(name: &str) -> bool {
        name.strip_prefix("trust-root/")
            .and_then(|n| n.strip_suffix(".json"))
            .is_some_and(|v| !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit()))
    }

    /// Whether a canonical name is a metadata file (kept in memory, never an artifact).
    pub fn is_metadata(name: &str) -> bool {
        matches!(
            name,
            CHECKSUMS
                | CHECKSUMS_SIG
                | CHECKSUMS_MINISIG
                | CHECKSUMS_SIGSTORE
                | EVIDENCE
                | PROVENANCE
                | PROVENANCE_SIGSTORE
                | SIGNING_OPS
                | BOOTSTRAP
                | REVOCATIONS
        ) || GOVERNANCE_FILES.contains(&name)
            || is_versioned_root(name)
    }

    /// Whether a metadata file names every artifact (and so may be as large as the listing cap).
    pub fn is_listing(name: &str) -> bool {
        matches!(name, CHECKSUMS | EVIDENCE | PROVENANCE)
    }

    /// Whether a canonical metadata name is trust material (roots and the revocation list).
    pub fn is_trust_material(name: &str) -> bool {
        matches!(name, BOOTSTRAP | REVOCATIONS) || name.starts_with("trust-root/")
    }
}

/// The files of the removable media (formats §1, §6).
pub mod media {
    /// Bundles to verify: `inbox/<bundle>`.
    pub const INBOX_DIR: &str = "inbox";
    /// Signed receipts the appliance writes: `receipts/<bundle>.<verdict>.receipt.json`.
    pub const RECEIPTS_DIR: &str = "receipts";
    /// The media's copy of the evidence log, `evidence/airlock-evidence.jsonl`.
    pub const EVIDENCE_DIR: &str = "evidence";
    /// The media evidence log's file name.
    pub const EVIDENCE_LOG: &str = "airlock-evidence.jsonl";
    /// `airlock evidence verify`'s report file name.
    pub const EVIDENCE_REPORT: &str = "airlock-evidence-verification.json";
    /// The newest trust root the media offers (as in a bundle).
    pub const BOOTSTRAP: &str = super::bundle::BOOTSTRAP;
    /// The media's revocation list (as in a bundle).
    pub const REVOCATIONS: &str = super::bundle::REVOCATIONS;
    /// Directory of versioned trust roots (as in a bundle).
    pub const TRUST_ROOT_DIR: &str = super::bundle::TRUST_ROOT_DIR;
    /// The appliance's public key entry, written beside the receipts.
    pub const APPLIANCE_KEY: &str = "appliance-key.json";
}

/// The appliance's state directory (formats §6.4).
pub mod state {
    /// The sealed state: versions, clock floor, promoted releases.
    pub const STATE: &str = "state.json";
    /// The trust anchor the appliance was provisioned with.
    pub const ANCHOR: &str = "anchor.json";
    /// The appliance's own, authoritative evidence log.
    pub const EVIDENCE_LOG: &str = "evidence.jsonl";
    /// Accepted trust roots, `trust-root/<n>.json`.
    pub const TRUST_ROOT_DIR: &str = "trust-root";
    /// The accepted revocation list.
    pub const REVOCATIONS: &str = "revocations.json";
    /// The appliance key's secret half (PKCS#8 PEM).
    pub const APPLIANCE_SECRET_KEY: &str = "appliance-key.pem";
    /// The appliance key's public half (a formats §1 key entry).
    pub const APPLIANCE_KEY: &str = super::media::APPLIANCE_KEY;
    /// HMAC secrets (formats §8.1), `hmac-keys/<key id>`.
    pub const VAULT_DIR: &str = "hmac-keys";
}
