//! The release signature (formats §5, §5.2): `checksums.txt.sig.json` (DSSE, in-toto statement
//! about `checksums.txt`) and/or `checksums.txt.minisig` (prehashed minisign), together meeting the
//! `release` threshold in distinct raw keys.

use super::revocations::EffectiveRevocations;
use super::root::TrustedRoot;
use super::signatures::{count_dsse, RoleCount, Signer, Window};
use crate::document::dsse::{payload_type, Envelope};
use crate::document::statement::{ReleasePredicate, Statement, RELEASE_PREDICATE_TYPE};
use crate::keys::{decode_base64, hex, KeyMaterial};
use crate::reason::{Code, Reason};
use crate::sigstore::Signed;
use crate::timestamp::Timestamp;
use airlock_core::digest::sha256;

/// A release whose signatures met the threshold. Only [`verify`] makes one.
#[derive(Debug, Clone)]
pub struct VerifiedRelease {
    signers: Vec<Signer>,
    predicate: Option<(String, String)>,
}

impl VerifiedRelease {
    /// Keys whose signatures counted.
    pub fn signers(&self) -> &[Signer] {
        &self.signers
    }

    /// `(package, version)` from the signed statement, when a DSSE signature counted.
    pub fn signed_package_version(&self) -> Option<(&str, &str)> {
        self.predicate
            .as_ref()
            .map(|(p, v)| (p.as_str(), v.as_str()))
    }
}

/// The release signature files, as found in the bundle.
pub struct ReleaseSignatures<'a> {
    /// `checksums.txt`.
    pub checksums: &'a [u8],
    /// `checksums.txt.sig.json`.
    pub dsse: Option<&'a [u8]>,
    /// `checksums.txt.minisig`.
    pub minisig: Option<&'a [u8]>,
    /// `checksums.txt.sigstore.json` (formats §9.2).
    pub sigstore: Option<&'a [u8]>,
}

const DSSE_FILE: &str = "checksums.txt.sig.json";
const MINISIG_FILE: &str = "checksums.txt.minisig";
/// The release's Sigstore bundle (formats §9.2).
pub const SIGSTORE_FILE: &str = airlock_formats::layout::bundle::CHECKSUMS_SIGSTORE;

fn check_statement(payload: &[u8], checksums: &[u8]) -> Result<(String, String), String> {
    let s = Statement::parse(payload, RELEASE_PREDICATE_TYPE)?;
    let want = hex(&sha256(checksums));
    match s.subject.as_slice() {
        [one] if one.name == "checksums.txt" => {
            if one.digest.get("sha256") != Some(want.as_str()) {
                return Err("the signed statement's checksums.txt digest is not the digest of checksums.txt".into());
            }
        }
        _ => return Err("the signed statement's subject is not exactly checksums.txt".into()),
    }
    let p: ReleasePredicate =
        serde_json::from_value(s.predicate).map_err(|e| format!("release predicate: {e}"))?;
    Ok((p.package, p.version))
}

fn count_minisig(
    root: &TrustedRoot,
    revs: &EffectiveRevocations,
    files: &ReleaseSignatures<'_>,
    sig: &[u8],
    now: Timestamp,
    count: &mut RoleCount,
) {
    let invalid = |m: String| Reason::new(Code::SignatureInvalid, format!("{MINISIG_FILE}: {m}"));
    let Ok(text) = std::str::from_utf8(sig) else {
        count.invalid.push(invalid("not UTF-8 text".into()));
        return;
    };
    let bin = text
        .lines()
        .nth(1)
        .and_then(|l| decode_base64(l.trim_end()));
    let Some(bin) = bin.filter(|b| b.len() == 74) else {
        count
            .invalid
            .push(invalid("not a minisign signature".into()));
        return;
    };
    if &bin[..2] != b"ED" {
        count.invalid.push(invalid(
            "a legacy (non-prehashed) minisign signature; only prehashed signatures are accepted"
                .into(),
        ));
        return;
    }
    let key_num = &bin[2..10];
    let root_doc = root.root();
    let Some((key, mpk)) = root_doc.keys.values().find_map(|k| match &k.material {
        KeyMaterial::Minisign {
            key_num: n,
            minisign,
            ..
        } if n == key_num => Some((k, minisign)),
        _ => None,
    }) else {
        count.unknown.push(format!(
            "minisign key {}",
            hex(&key_num.iter().rev().copied().collect::<Vec<_>>()).to_uppercase()
        ));
        return;
    };
    let parsed = match minisign_verify::Signature::decode(text) {
        Ok(s) => s,
        Err(e) => {
            count
                .invalid
                .push(invalid(format!("cannot be decoded: {e}")));
            return;
        }
    };
    if parsed
        .trusted_comment()
        .chars()
        .any(|c| c.is_control() && c != '\t')
    {
        count.invalid.push(invalid(
            "the trusted comment contains control characters".into(),
        ));
        return;
    }
    if mpk.verify(files.checksums, &parsed, false).is_err() {
        count.invalid.push(invalid(format!(
            "the signature by key {} does not verify",
            key.id
        )));
        return;
    }
    let role_keys = root_doc
        .role("release")
        .map(|r| r.key_ids.as_slice())
        .unwrap_or(&[]);
    count.offer(
        key,
        role_keys,
        Window::Enforce(now),
        revs.keys(),
        MINISIG_FILE,
    );
}

/// Verifies the release signatures against the `release` role.
pub fn verify(
    root: &TrustedRoot,
    revs: &EffectiveRevocations,
    files: &ReleaseSignatures<'_>,
    now: Timestamp,
) -> Result<VerifiedRelease, Vec<Reason>> {
    let r = root.root();
    let threshold = r.role("release").map_or(usize::MAX, |x| x.threshold);
    if files.dsse.is_none() && files.minisig.is_none() && files.sigstore.is_none() {
        return Err(vec![Reason::new(
            Code::SignatureThresholdNotMet,
            format!(
                "the bundle has none of {DSSE_FILE}, {MINISIG_FILE}, {SIGSTORE_FILE}: the release is unsigned"
            ),
        )]);
    }
    let mut reasons = Vec::new();
    let mut count = RoleCount::default();
    let mut predicate = None;
    if let Some(bytes) = files.dsse {
        match Envelope::parse(bytes) {
            Err(e) => reasons.push(Reason::new(
                Code::SignatureInvalid,
                format!("{DSSE_FILE}: {e}"),
            )),
            Ok(env) if env.payload_type != payload_type::IN_TOTO => reasons.push(Reason::new(
                Code::SignatureInvalid,
                format!(
                    "{DSSE_FILE}: payloadType is {:?}, not {:?}",
                    env.payload_type,
                    payload_type::IN_TOTO
                ),
            )),
            Ok(env) => {
                count = count_dsse(
                    &env,
                    r,
                    "release",
                    Window::Enforce(now),
                    revs.keys(),
                    DSSE_FILE,
                );
                if count.invalid.is_empty() && !count.counted.is_empty() {
                    match check_statement(&env.payload, files.checksums) {
                        Ok(p) => predicate = Some(p),
                        Err(e) => reasons.push(Reason::new(
                            Code::SignatureInvalid,
                            format!("{DSSE_FILE}: {e}"),
                        )),
                    }
                }
            }
        }
    }
    if let Some(sig) = files.minisig {
        count_minisig(root, revs, files, sig, now, &mut count);
    }
    if let Some(bundle) = files.sigstore {
        let verified = super::sigstore::count_bundle(
            r,
            "release",
            bundle,
            Signed::Bytes(files.checksums),
            Window::Enforce(now),
            revs.keys(),
            SIGSTORE_FILE,
            &mut count,
        );
        // A DSSE bundle carries the §5.2 statement: the same rules as checksums.txt.sig.json.
        if let Some((kind, payload)) = verified.and_then(|v| v.into_dsse_payload()) {
            let checked = if kind == payload_type::IN_TOTO {
                check_statement(&payload, files.checksums)
            } else {
                Err(format!(
                    "payloadType is {kind:?}, not {:?}",
                    payload_type::IN_TOTO
                ))
            };
            match checked {
                Ok(p) if predicate.as_ref().is_some_and(|q| *q != p) => reasons.push(Reason::new(
                    Code::SignatureInvalid,
                    format!("{SIGSTORE_FILE}: its statement names another package or version than {DSSE_FILE}"),
                )),
                Ok(p) => predicate = Some(p),
                Err(e) => reasons.push(Reason::new(
                    Code::SignatureInvalid,
                    format!("{SIGSTORE_FILE}: {e}"),
                )),
            }
        }
    }
    if !count.meets(threshold) {
        reasons.extend(count.shortfall(threshold, "release signature"));
    }
    if reasons.is_empty() {
        Ok(VerifiedRelease {
            signers: count.counted,
            predicate,
        })
    } else {
        Err(reasons)
    }
}
