//! Provenance (formats §5.4): a DSSE in-toto statement with an SLSA Provenance v1 predicate,
//! signed by the `provenance` role, whose builder is one the trust root pins.

use super::revocations::EffectiveRevocations;
use super::root::TrustedRoot;
use super::signatures::{count_dsse, Signer, Window};
use crate::document::dsse::{payload_type, Envelope};
use crate::document::provenance::{glob_match, Provenance, SLSA_PROVENANCE_V1};
use crate::document::statement::Statement;
use crate::document::trust_root::Builder;
use crate::reason::{Code, Reason};
use crate::timestamp::Timestamp;
use airlock_core::digest::Sha256Digest;

/// The provenance file name.
pub const FILE: &str = "cavra-runtime.provenance.intoto.json";

/// Provenance whose signature met the threshold and whose builder is pinned. Only [`verify`]
/// makes one.
#[derive(Debug, Clone)]
pub struct VerifiedProvenance {
    builder: Builder,
    subjects: Vec<(String, Sha256Digest)>,
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
    pub fn subjects(&self) -> &[(String, Sha256Digest)] {
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
    let invalid = |m: String| vec![Reason::new(Code::ProvenanceInvalid, format!("{FILE}: {m}"))];
    let bytes = bytes.ok_or_else(|| invalid("missing from the bundle".into()))?;
    let env =
        Envelope::parse_capped(bytes, crate::json::MAX_LISTING_DOCUMENT_BYTES).map_err(invalid)?;
    if env.payload_type != payload_type::IN_TOTO {
        return Err(invalid(format!(
            "payloadType is {:?}, not {:?}",
            env.payload_type,
            payload_type::IN_TOTO
        )));
    }
    let r = root.root();
    let threshold = r.role("provenance").map_or(usize::MAX, |x| x.threshold);
    let count = count_dsse(
        &env,
        r,
        "provenance",
        Window::Enforce(now),
        revs.keys(),
        FILE,
    );
    if !count.meets(threshold) {
        let mut out = invalid("not signed by the provenance role's threshold".into());
        out.extend(count.shortfall(threshold, FILE));
        return Err(out);
    }
    // Only the verified bytes are parsed (#29); a payload that fails to parse rejects (#34).
    let statement = Statement::parse(&env.payload, SLSA_PROVENANCE_V1).map_err(invalid)?;
    // The payload is parsed: free it (tens of MiB for 100 000 subjects) before the subjects are
    // copied out.
    drop(env);
    let predicate = Provenance::from_predicate(&statement.predicate).map_err(invalid)?;
    let mut reasons = Vec::new();
    let mut subjects = Vec::new();
    for s in &statement.subject {
        let digest = s
            .digest
            .get("sha256")
            .and_then(|h| airlock_core::hex::decode::<32>(h.as_bytes()).ok());
        match (airlock_core::name::check(&s.name), digest) {
            (Ok(()), Some(d)) => subjects.push((s.name.clone(), d)),
            (Err(e), _) => reasons.push(Reason::new(
                Code::ProvenanceSubjectMismatch,
                format!(
                    "{FILE}: subject {:?} is not a canonical name ({e:?})",
                    s.name
                ),
            )),
            (_, None) => reasons.push(Reason::new(
                Code::ProvenanceSubjectMismatch,
                format!(
                    "{FILE}: subject {:?} has no lowercase hex sha256 digest",
                    s.name
                ),
            )),
        }
    }
    let builder_id = &predicate.run_details.builder.id;
    let Some(builder) = r.payload.builders.iter().find(|b| &b.id == builder_id) else {
        reasons.push(Reason::new(
            Code::BuilderNotTrusted,
            format!("{FILE}: builder {builder_id:?} is not one of the trust root's builders"),
        ));
        return Err(reasons);
    };
    let wf = &predicate.build_definition.external_parameters.workflow;
    if wf.repository != builder.source_repository {
        reasons.push(Reason::new(
            Code::SourceMismatch,
            format!(
                "{FILE}: source repository {:?} is not the builder's {:?}",
                wf.repository, builder.source_repository
            ),
        ));
    }
    if !glob_match(&builder.ref_pattern, &wf.ref_) {
        reasons.push(Reason::new(
            Code::SourceMismatch,
            format!(
                "{FILE}: ref {:?} does not match the builder's pattern {:?}",
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
