//! Provenance (formats §5.4): a DSSE in-toto statement with an SLSA Provenance v1 predicate,
//! signed by the `provenance` role, whose builder is one the trust root pins.

use super::revocations::EffectiveRevocations;
use super::root::TrustedRoot;
use super::signatures::{count_signatures, RoleCount, Signer, Window};
use crate::document::dsse::{payload_type, PaeEnvelope};
use crate::document::provenance::{glob_match, Provenance, SLSA_PROVENANCE_V1};
use crate::document::statement::Statement;
use crate::document::trust_root::Builder;
use crate::reason::{Code, Reason};
use crate::sigstore::Signed;
use crate::timestamp::Timestamp;
use airlock_core::digest::Sha256Digest;

/// The provenance file name.
pub const FILE: &str = airlock_formats::layout::bundle::PROVENANCE;
/// The Sigstore provenance bundle (formats §9.2).
pub const SIGSTORE_FILE: &str = airlock_formats::layout::bundle::PROVENANCE_SIGSTORE;

/// Provenance whose signature met the threshold and whose builder is pinned. Only [`verify`]
/// makes one.
#[derive(Debug, Clone)]
pub struct VerifiedProvenance {
    builder: Builder,
    subjects: Vec<(Box<str>, Sha256Digest)>,
    ref_: String,
    commit: Option<String>,
    signers: Vec<Signer>,
}

impl VerifiedProvenance {
    /// The trusted builder.
    pub fn builder(&self) -> &Builder {
        &self.builder
    }
    /// Subjects (canonical names, SHA-256).
    pub fn subjects(&self) -> &[(Box<str>, Sha256Digest)] {
        &self.subjects
    }
    /// The workflow ref (matches the builder's pattern).
    pub fn source_ref(&self) -> &str {
        &self.ref_
    }
    /// The commit resolved for `git+<repository>@<ref>`, if listed.
    pub fn commit(&self) -> Option<&str> {
        self.commit.as_deref()
    }
    /// Keys whose signatures counted.
    pub fn signers(&self) -> &[Signer] {
        &self.signers
    }
}

/// Verifies the provenance file's signature, type, subjects' shape and builder pinning.
pub fn verify(
    root: &TrustedRoot,
    revs: &EffectiveRevocations,
    bytes: Option<&[u8]>,
    now: Timestamp,
) -> Result<VerifiedProvenance, Vec<Reason>> {
    verify_files(root, revs, bytes.map(|b| parse(b.to_vec())), None, now)
}

/// Parses the DSSE provenance file in its own buffer ([`PaeEnvelope::parse_in_place`]); the scan
/// does it as soon as the file's last byte arrives, so that a 32 MiB file is not kept beside the
/// rest of the bundle's listings (issue 15).
pub fn parse(bytes: Vec<u8>) -> Result<PaeEnvelope, airlock_formats::FormatError> {
    PaeEnvelope::parse_in_place(bytes, crate::json::MAX_LISTING_DOCUMENT_BYTES)
}

/// [`verify`] with the Sigstore provenance bundle beside (or instead of) the DSSE file (formats
/// §9.2): both count toward the `provenance` threshold, both must carry the same statement, and
/// every §5.4 rule applies to it. The DSSE file comes parsed by [`parse`] (its errors are reported
/// here, as `provenance-invalid`).
pub fn verify_files(
    root: &TrustedRoot,
    revs: &EffectiveRevocations,
    intoto: Option<Result<PaeEnvelope, airlock_formats::FormatError>>,
    sigstore: Option<&[u8]>,
    now: Timestamp,
) -> Result<VerifiedProvenance, Vec<Reason>> {
    let invalid_in =
        |file: &str, m: String| vec![Reason::new(Code::ProvenanceInvalid, format!("{file}: {m}"))];
    if intoto.is_none() && sigstore.is_none() {
        return Err(invalid_in(FILE, "missing from the bundle".into()));
    }
    let r = root.root();
    let threshold = r.role("provenance").map_or(usize::MAX, |x| x.threshold);
    let mut count = RoleCount::default();
    let mut signed: Option<(SignedPayload, &str)> = None;
    if let Some(parsed) = intoto {
        let env = parsed.map_err(|m| invalid_in(FILE, m.to_string()))?;
        if env.payload_type != payload_type::IN_TOTO {
            return Err(invalid_in(
                FILE,
                format!(
                    "payloadType is {:?}, not {:?}",
                    env.payload_type,
                    payload_type::IN_TOTO
                ),
            ));
        }
        count = count_signatures(
            env.pae(),
            &env.signatures,
            r,
            "provenance",
            Window::Enforce(now),
            revs.keys(),
            FILE,
        );
        signed = Some((SignedPayload::Envelope(env), FILE));
    }
    if let Some(bundle) = sigstore {
        let digest = first_subject_sha256(bundle).map_err(|m| invalid_in(SIGSTORE_FILE, m))?;
        let verified = super::sigstore::count_bundle(
            r,
            "provenance",
            bundle,
            Signed::Sha256(digest),
            Window::Enforce(now),
            revs.keys(),
            SIGSTORE_FILE,
            &mut count,
        );
        if let Some((kind, payload)) = verified.and_then(|v| v.into_dsse_payload()) {
            if kind != payload_type::IN_TOTO {
                return Err(invalid_in(
                    SIGSTORE_FILE,
                    format!("payloadType is {kind:?}, not {:?}", payload_type::IN_TOTO),
                ));
            }
            match &signed {
                Some((other, _)) if other.payload() != payload.as_slice() => {
                    return Err(invalid_in(
                        SIGSTORE_FILE,
                        format!("its statement is not the one {FILE} signs"),
                    ))
                }
                Some(_) => {}
                None => signed = Some((SignedPayload::Payload(payload), SIGSTORE_FILE)),
            }
        }
    }
    let what = signed.as_ref().map_or(FILE, |(_, w)| *w);
    let invalid = |m: String| invalid_in(what, m);
    if !count.meets(threshold) {
        let mut out = invalid("not signed by the provenance role's threshold".into());
        out.extend(count.shortfall(threshold, what));
        return Err(out);
    }
    let Some((payload, _)) = signed else {
        return Err(invalid("no signed statement".into()));
    };
    // Only the verified bytes are parsed (#29); a payload that fails to parse rejects (#34).
    let statement = Statement::parse(payload.payload(), SLSA_PROVENANCE_V1)
        .map_err(|e| invalid(e.to_string()))?;
    let predicate =
        Provenance::from_predicate(&statement.predicate).map_err(|e| invalid(e.to_string()))?;
    let mut reasons = Vec::new();
    let mut subjects = Vec::with_capacity(statement.subject.len());
    for s in &statement.subject {
        let digest = s
            .digest
            .get("sha256")
            .and_then(|h| airlock_core::hex::decode::<32>(h.as_bytes()).ok());
        match (airlock_core::name::check(&s.name), digest) {
            (Ok(()), Some(d)) => subjects.push((Box::from(s.name.as_ref()), d)),
            (Err(e), _) => reasons.push(Reason::new(
                Code::ProvenanceSubjectMismatch,
                format!(
                    "{what}: subject {:?} is not a canonical name ({e:?})",
                    s.name
                ),
            )),
            (_, None) => reasons.push(Reason::new(
                Code::ProvenanceSubjectMismatch,
                format!(
                    "{what}: subject {:?} has no lowercase hex sha256 digest",
                    s.name
                ),
            )),
        }
    }
    // The subjects are copied out: free the statement and the payload it borrows (tens of MiB
    // for 100 000 subjects) before the rest is checked.
    drop(statement);
    drop(payload);
    let builder_id = &predicate.run_details.builder.id;
    let Some(builder) = r.payload.builders.iter().find(|b| &b.id == builder_id) else {
        reasons.push(Reason::new(
            Code::BuilderNotTrusted,
            format!("{what}: builder {builder_id:?} is not one of the trust root's builders"),
        ));
        return Err(reasons);
    };
    let wf = &predicate.build_definition.external_parameters.workflow;
    if wf.repository != builder.source_repository {
        reasons.push(Reason::new(
            Code::SourceMismatch,
            format!(
                "{what}: source repository {:?} is not the builder's {:?}",
                wf.repository, builder.source_repository
            ),
        ));
    }
    if !glob_match(&builder.ref_pattern, &wf.ref_) {
        reasons.push(Reason::new(
            Code::SourceMismatch,
            format!(
                "{what}: ref {:?} does not match the builder's pattern {:?}",
                wf.ref_, builder.ref_pattern
            ),
        ));
    }
    let uri = format!("git+{}@{}", wf.repository, wf.ref_);
    let commit = predicate
        .build_definition
        .resolved_dependencies
        .iter()
        .find(|d| d.uri.as_deref() == Some(uri.as_str()))
        .and_then(|d| d.digest.get("gitCommit").cloned());
    if !reasons.is_empty() {
        return Err(reasons);
    }
    Ok(VerifiedProvenance {
        builder: builder.clone(),
        subjects,
        ref_: wf.ref_.clone(),
        commit,
        signers: count.counted,
    })
}

/// The SHA-256 of the first subject of a Sigstore bundle's DSSE statement, read before the
/// signature is checked only to name the artifact the library binds the envelope to; the whole
/// statement is parsed again from the verified payload.
fn first_subject_sha256(bundle: &[u8]) -> Result<Sha256Digest, String> {
    let b = crate::sigstore::parse_bundle(bundle).map_err(|f| f.to_string())?;
    let payload =
        crate::sigstore::dsse_payload(&b).ok_or("the Sigstore bundle carries no DSSE envelope")?;
    let v = crate::json::parse_value(&payload).map_err(|e| format!("statement: {e}"))?;
    v.get("subject")
        .and_then(|s| s.get(0))
        .and_then(|s| s.get("digest"))
        .and_then(|d| d.get("sha256"))
        .and_then(|h| h.as_str())
        .and_then(|h| airlock_core::hex::decode::<32>(h.as_bytes()).ok())
        .ok_or_else(|| "the statement's first subject has no sha256 digest".into())
}

/// The statement whose signatures counted: in the DSSE file's own buffer, or from the Sigstore
/// bundle.
enum SignedPayload {
    Envelope(PaeEnvelope),
    Payload(Vec<u8>),
}

impl SignedPayload {
    fn payload(&self) -> &[u8] {
        match self {
            Self::Envelope(e) => e.payload(),
            Self::Payload(p) => p,
        }
    }
}
