//! One Sigstore bundle verified offline (formats §9.3 steps 1–5) against a Sigstore
//! `trusted_root.json`. The mathematics (chain at the signing time, SET, inclusion proof,
//! checkpoint, SCT, RFC 3161, tlog-body binding) is `sigstore-verify`'s; this module bounds the
//! input, names the failing step, and returns what the signer model and receipts need. Nothing
//! here opens a socket: the trusted root and the bundle are the only sources of keys.

use sigstore_verify::bundle::Error as BundleError;
use sigstore_verify::trust_root::TrustedRoot;
use sigstore_verify::types::bundle::VerificationMaterialContent;
use sigstore_verify::types::{Artifact, Bundle, DerPublicKey, Sha256Hash, SignatureContent};
use sigstore_verify::{
    CertificateError, Error, PublicKeyVerificationPolicy, TransparencyLogError, VerificationPolicy,
    Verifier,
};
use std::fmt;

/// Largest bundle or trusted root read (a bundle is a few KiB; a public-good root about 10 KiB).
pub const MAX_JSON_BYTES: usize = 1 << 20;

/// The only `trusted_root.json` media type accepted.
pub const TRUSTED_ROOT_MEDIA_TYPE: &str =
    "application/vnd.dev.sigstore.trustedroot+json;version=0.1";

/// Public-good production `trusted_root.json` as shipped by `sigstore-trust-root` 0.15.1: the
/// default of `airlock sigstore verify-bundle` only. The appliance never uses it: a release's
/// Sigstore material comes from its trust root (§9.1).
pub const PUBLIC_GOOD_TRUSTED_ROOT: &str =
    sigstore_verify::trust_root::SIGSTORE_PRODUCTION_TRUSTED_ROOT;
/// Public-good staging `trusted_root.json` (same source), for `--staging`.
pub const STAGING_TRUSTED_ROOT: &str = sigstore_verify::trust_root::SIGSTORE_STAGING_TRUSTED_ROOT;

/// The §9.3 step a bundle failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// Not a well-formed Sigstore bundle (JSON, media type, required fields).
    Format,
    /// 1: the certificate chain to a Fulcio CA at the signing time, key usage, code signing.
    Chain,
    /// 2: the signing time (SET-covered integrated time or RFC 3161 timestamp).
    Time,
    /// 3: the transparency log entry (inclusion proof, checkpoint, SET, body binding).
    Log,
    /// 4: the embedded SCT.
    Sct,
    /// 5: the signature over the artifact or the DSSE PAE.
    Signature,
}

impl Step {
    /// How the step is named in a rejection message.
    pub fn name(self) -> &'static str {
        match self {
            Step::Format => "bundle format",
            Step::Chain => "step 1 (certificate chain)",
            Step::Time => "step 2 (signing time)",
            Step::Log => "step 3 (transparency log entry)",
            Step::Sct => "step 4 (signed certificate timestamp)",
            Step::Signature => "step 5 (signature)",
        }
    }
}

/// Why a bundle did not verify.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    pub step: Step,
    pub detail: String,
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "Sigstore bundle fails {}: {}",
            self.step.name(),
            self.detail
        )
    }
}

/// What was signed: the artifact's bytes, or only its SHA-256.
#[derive(Debug, Clone, Copy)]
pub enum Signed<'a> {
    Bytes(&'a [u8]),
    Sha256([u8; 32]),
}

/// A bundle that passed steps 1–5: the signer's verified claims. Only [`verify_keyless`] makes
/// one (private fields, no public constructor), so claims in hand were verified.
///
/// ```compile_fail,E0451
/// // Not by hand (this literal compiles if the fields are public).
/// use airlock_verifier::sigstore::Verified;
/// let _ = Verified {
///     issuer: String::new(),
///     subject: String::new(),
///     leaf_der: Vec::new(),
///     log_index: 0,
///     integrated_time: None,
///     extensions: Vec::new(),
///     dsse_payload: None,
/// };
/// ```
///
/// ```
/// // The same path compiles; only reading one is public.
/// use airlock_verifier::sigstore::Verified;
/// fn issuer(v: &Verified) -> &str {
///     v.issuer()
/// }
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    issuer: String,
    subject: String,
    leaf_der: Vec<u8>,
    log_index: u64,
    integrated_time: Option<i64>,
    extensions: Vec<(String, String)>,
    dsse_payload: Option<(String, Vec<u8>)>,
}

impl Verified {
    /// OIDC issuer (Fulcio extension 1.3.6.1.4.1.57264.1.8 or the legacy .1.1).
    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    /// The certificate's SAN (URI or email).
    pub fn subject(&self) -> &str {
        &self.subject
    }

    /// Index of the first transparency log entry.
    pub fn log_index(&self) -> u64 {
        self.log_index
    }

    /// The Rekor v1 integrated time under a verified SET/inclusion (seconds since the epoch);
    /// `None` for Rekor v2 entries, whose time is an RFC 3161 timestamp.
    pub fn integrated_time(&self) -> Option<i64> {
        self.integrated_time
    }

    /// The leaf's Fulcio extensions (arc 1.3.6.1.4.1.57264.1): dotted OID → value.
    pub fn extensions(&self) -> &[(String, String)] {
        &self.extensions
    }

    /// The DSSE envelope's `(payloadType, payload)`, when the bundle signs one.
    pub fn into_dsse_payload(self) -> Option<(String, Vec<u8>)> {
        self.dsse_payload
    }

    /// `sha256:` of the leaf certificate's DER: the signer's fingerprint in receipts.
    pub fn fingerprint(&self) -> String {
        format!(
            "sha256:{}",
            crate::keys::hex(&airlock_core::digest::sha256(&self.leaf_der))
        )
    }
}

/// Parses a `trusted_root.json` and prepares its keys (duplicate or malformed material refused).
pub fn load_trusted_root(json: &[u8]) -> Result<Verifier, String> {
    let text = bounded_utf8(json, "trusted root")?;
    let media_type = serde_json::from_str::<serde_json::Value>(text)
        .ok()
        .and_then(|v| v.get("mediaType")?.as_str().map(str::to_owned));
    if media_type.as_deref() != Some(TRUSTED_ROOT_MEDIA_TYPE) {
        return Err(format!(
            "trusted root: mediaType is {media_type:?}, not {TRUSTED_ROOT_MEDIA_TYPE:?}"
        ));
    }
    let root = TrustedRoot::from_json(text).map_err(|e| format!("trusted root: {e}"))?;
    Verifier::new(&root).map_err(|e| format!("trusted root: {e}"))
}

/// Parses a Sigstore bundle (v0.1 to v0.3).
pub fn parse_bundle(json: &[u8]) -> Result<Bundle, Failure> {
    let text = bounded_utf8(json, "bundle").map_err(|detail| Failure {
        step: Step::Format,
        detail,
    })?;
    Bundle::from_json(text).map_err(|e| Failure {
        step: Step::Format,
        detail: e.to_string(),
    })
}

/// The DSSE payload of a bundle, unverified (to find what it is about before verifying it).
pub(crate) fn dsse_payload(bundle: &Bundle) -> Option<Vec<u8>> {
    match &bundle.content {
        SignatureContent::DsseEnvelope(env) => Some(env.payload.as_bytes().to_vec()),
        _ => None,
    }
}

/// Verifies a keyless (Fulcio certificate) bundle over `signed`: steps 1–5. The identity is
/// returned, not judged: pinning it is the caller's step 6.
pub fn verify_keyless(
    verifier: &Verifier,
    bundle: &Bundle,
    signed: Signed<'_>,
) -> Result<Verified, Failure> {
    let leaf = bundle.signing_certificate().ok_or_else(|| Failure {
        step: Step::Format,
        detail: "the bundle carries no signing certificate".into(),
    })?;
    let leaf_der = leaf.as_bytes().to_vec();
    refuse_root_in_chain(bundle)?;
    let policy = VerificationPolicy::any_identity();
    let result = verifier
        .verify(artifact(signed), bundle, &policy)
        .map_err(classify)?;
    // any_identity() verifies everything but the pin; refuse a result that skipped anything.
    if !(result.certificate_verified() && result.sct_verified() && result.tlog_verified()) {
        return Err(Failure {
            step: Step::Chain,
            detail: "verification did not cover the chain, SCT and log".into(),
        });
    }
    let issuer = result.issuer().map(str::to_owned).ok_or_else(|| Failure {
        step: Step::Chain,
        detail: "the certificate has no OIDC issuer extension".into(),
    })?;
    let subject = result
        .identity()
        .map(|s| s.as_str().to_owned())
        .ok_or_else(|| Failure {
            step: Step::Chain,
            detail: "the certificate has no URI or email SAN".into(),
        })?;
    if result.verified_timestamps().is_empty() {
        return Err(Failure {
            step: Step::Time,
            detail: "no verified signing time".into(),
        });
    }
    let log_index = bundle
        .verification_material
        .tlog_entries
        .first()
        .map(|e| u64::from(e.log_index))
        .ok_or_else(|| Failure {
            step: Step::Log,
            detail: "the bundle has no transparency log entry".into(),
        })?;
    let dsse_payload = match &bundle.content {
        SignatureContent::DsseEnvelope(env) => {
            Some((env.payload_type.clone(), env.payload.as_bytes().to_vec()))
        }
        _ => None,
    };
    Ok(Verified {
        issuer,
        subject,
        extensions: fulcio_extensions(&leaf_der),
        dsse_payload,
        leaf_der,
        log_index,
        integrated_time: result.integrated_time().map(|t| t.as_second()),
    })
}

/// Verifies a managed-key bundle (a public key instead of a certificate) with `public_key_pem`:
/// the conformance protocol's `--key` flow. Not a trust-root signer kind.
pub fn verify_with_key(
    verifier: &Verifier,
    bundle: &Bundle,
    signed: Signed<'_>,
    public_key_pem: &str,
) -> Result<(), Failure> {
    let key = DerPublicKey::from_pem(public_key_pem).map_err(|e| Failure {
        step: Step::Signature,
        detail: format!("public key: {e}"),
    })?;
    verifier
        .verify(
            artifact(signed),
            bundle,
            &PublicKeyVerificationPolicy::new(key),
        )
        .map(|_| ())
        .map_err(classify)
}

/// The client specification: a bundle's certificate chain must not carry a root (self-signed)
/// certificate; trust comes from the trusted root only. `sigstore-verify` does not check this.
fn refuse_root_in_chain(bundle: &Bundle) -> Result<(), Failure> {
    use x509_cert::der::Decode;
    let VerificationMaterialContent::X509CertificateChain { certificates } =
        &bundle.verification_material.content
    else {
        return Ok(());
    };
    for c in certificates {
        let cert =
            x509_cert::Certificate::from_der(c.raw_bytes.as_bytes()).map_err(|e| Failure {
                step: Step::Chain,
                detail: format!("a certificate of the bundle's chain does not parse: {e}"),
            })?;
        if cert.tbs_certificate.subject == cert.tbs_certificate.issuer {
            return Err(Failure {
                step: Step::Chain,
                detail: "the bundle's certificate chain carries a root (self-signed) certificate"
                    .into(),
            });
        }
    }
    Ok(())
}

/// Fulcio's OID arc for its certificate extensions.
const FULCIO_ARC: &str = "1.3.6.1.4.1.57264.1.";

/// The Fulcio extensions of a (verified) leaf: newer ones are DER UTF8String, the legacy
/// .1.1–.1.6 raw UTF-8; values that are neither are left out (they can match no pin).
fn fulcio_extensions(leaf_der: &[u8]) -> Vec<(String, String)> {
    use x509_cert::der::asn1::Utf8StringRef;
    use x509_cert::der::Decode;
    let Ok(cert) = x509_cert::Certificate::from_der(leaf_der) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for ext in cert.tbs_certificate.extensions.iter().flatten() {
        let oid = ext.extn_id.to_string();
        if !oid.starts_with(FULCIO_ARC) {
            continue;
        }
        let raw = ext.extn_value.as_bytes();
        let value = match Utf8StringRef::from_der(raw) {
            Ok(s) => Some(s.as_str().to_owned()),
            Err(_) => std::str::from_utf8(raw).ok().map(str::to_owned),
        };
        if let Some(v) = value {
            out.push((oid, v));
        }
    }
    out
}

fn artifact(signed: Signed<'_>) -> Artifact<'_> {
    match signed {
        Signed::Bytes(b) => Artifact::from_blob(b),
        Signed::Sha256(d) => Artifact::from(Sha256Hash::new(d)),
    }
}

fn bounded_utf8<'a>(json: &'a [u8], what: &str) -> Result<&'a str, String> {
    if json.len() > MAX_JSON_BYTES {
        return Err(format!("{what} is larger than {MAX_JSON_BYTES} bytes"));
    }
    std::str::from_utf8(json).map_err(|_| format!("{what} is not UTF-8"))
}

/// Maps the library's error to the §9.3 step it belongs to.
fn classify(e: Error) -> Failure {
    let step = match &e {
        Error::Certificate(CertificateError::Sct(_)) => Step::Sct,
        Error::Certificate(_) | Error::TrustedCertificate(_) => Step::Chain,
        Error::Timestamp(_) => Step::Time,
        // The SET is what proves the integrated time.
        Error::TransparencyLog(
            TransparencyLogError::IntegratedTime(_) | TransparencyLogError::InclusionPromise(_),
        ) => Step::Time,
        // The log entry's body names another artifact (CVE-2022-36056): the entry is not bound.
        Error::ArtifactMismatch(m) if m.contains("entry") => Step::Log,
        Error::TransparencyLog(_) => Step::Log,
        Error::SignatureInvalid(_) | Error::ArtifactMismatch(_) | Error::UnsupportedArtifact(_) => {
            Step::Signature
        }
        Error::IdentityMismatch { .. } | Error::IssuerMismatch { .. } => Step::Chain,
        Error::Bundle(
            BundleError::MissingInclusionPromise(_)
            | BundleError::MissingInclusionProof(_)
            | BundleError::MissingCheckpoint
            | BundleError::LogIndexOutOfRange { .. }
            | BundleError::CheckpointRootMismatch,
        ) => Step::Log,
        Error::Bundle(BundleError::MissingSigningTimeEvidence | BundleError::MissingTimestamp) => {
            Step::Time
        }
        _ => Step::Format,
    };
    Failure {
        step,
        detail: e.to_string(),
    }
}
