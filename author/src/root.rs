//! Trust roots (formats §3): create, sign, co-sign, rotate, and report how far an envelope is
//! from meeting its thresholds. Every envelope written is parsed back with the verifier's own
//! `TrustRoot::parse`, so an inconsistent root (unknown key in a role, impossible threshold) is
//! refused here, not on the appliance.

use super::keys::PrivateKey;
use airlock_formats::document::dsse::{self, payload_type, Envelope};
use airlock_formats::document::trust_root::{Builder, RoleEntry, TrustRoot, TrustRootPayload};
use airlock_formats::keys::{KeyEntry, KeyId, KeyMaterial, SigstoreIdentity};
use airlock_formats::timestamp::Timestamp;
use airlock_verifier::trust::signatures::{count_dsse, RevokedKeys, Window};
use ed25519_dalek::SigningKey;
use std::collections::BTreeMap;

/// The trust root payload `_type`.
pub const TRUST_ROOT_TYPE: &str = "cavra-trust-root";

/// The content of a trust root, without its version.
#[derive(Debug, Clone)]
pub struct RootContent {
    /// When it is issued.
    pub issued_at: Timestamp,
    /// When it stops being trusted.
    pub expires: Timestamp,
    /// Key entries.
    pub keys: Vec<KeyEntry>,
    /// Roles by name (`root`, `release`, `provenance`, `revocation`).
    pub roles: BTreeMap<String, RoleEntry>,
    /// Trusted builders.
    pub builders: Vec<Builder>,
    /// The Sigstore `trusted_root.json` object for `sigstore` keys (formats §9.1).
    pub sigstore: Option<serde_json::Value>,
}

/// A payload from its content and version.
pub fn payload(version: u64, c: &RootContent) -> TrustRootPayload {
    TrustRootPayload {
        type_: TRUST_ROOT_TYPE.into(),
        version,
        issued_at: c.issued_at,
        expires: c.expires,
        keys: c.keys.clone(),
        roles: c.roles.clone(),
        builders: c.builders.clone(),
        governance: None,
        sigstore: c.sigstore.clone(),
    }
}

/// A `sigstore` key entry (formats §9.1) from `KEY_ID ISSUER SUBJECT_GLOB [OID=GLOB ...]`
/// (space-separated), checked as the verifier checks it.
pub fn sigstore_key(spec: &str) -> Result<KeyEntry, String> {
    let parts: Vec<&str> = spec.split_whitespace().collect();
    let [id, issuer, subject, exts @ ..] = parts.as_slice() else {
        return Err(format!(
            "{spec:?}: expected \"KEY_ID ISSUER SUBJECT_GLOB [OID=GLOB ...]\""
        ));
    };
    let mut extensions = BTreeMap::new();
    for e in exts {
        let (oid, glob) = e
            .split_once('=')
            .ok_or_else(|| format!("{spec:?}: extension {e:?} is not OID=GLOB"))?;
        extensions.insert(oid.to_owned(), glob.to_owned());
    }
    let entry = KeyEntry {
        key_id: KeyId::new(id)?,
        algorithm: "sigstore".into(),
        public_key: String::new(),
        identity: Some(SigstoreIdentity {
            issuer: (*issuer).into(),
            subject: (*subject).into(),
            extensions,
        }),
        not_before: None,
        not_after: None,
    };
    airlock_formats::keys::Key::from_entry(&entry)?;
    Ok(entry)
}

/// A Sigstore `trusted_root.json` object as a root carries it.
pub type SigstoreTrustedRoot = serde_json::Value;

/// A Sigstore `trusted_root.json` (strict JSON, loadable by the verifier) to carry in a root.
pub fn sigstore_trusted_root(bytes: &[u8]) -> Result<SigstoreTrustedRoot, String> {
    airlock_verifier::sigstore::load_trusted_root(bytes)?;
    airlock_formats::json::parse_value(bytes).map_err(|e| format!("trusted root: {e}"))
}

/// A role entry.
pub fn role(key_ids: &[&KeyId], threshold: u64) -> RoleEntry {
    RoleEntry {
        key_ids: key_ids.iter().map(|k| (*k).clone()).collect(),
        threshold,
    }
}

/// How many distinct keys of a role signed, against its threshold.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tally {
    /// Key ids whose signatures counted.
    pub signed: Vec<String>,
    /// The threshold.
    pub threshold: usize,
}

impl Tally {
    /// Whether the threshold is met.
    pub fn met(&self) -> bool {
        self.signed.len() >= self.threshold
    }
}

/// Where a trust root envelope stands.
#[derive(Debug, Clone)]
pub struct RootStatus {
    /// The parsed root.
    pub root: TrustRoot,
    /// Its own `root` role.
    pub own: Tally,
    /// The previous version's `root` role (rotation), when the previous root is known.
    pub previous: Option<Tally>,
}

impl RootStatus {
    /// Whether the appliance would accept this envelope (as the anchor, or as the next version
    /// after the previous one).
    pub fn complete(&self) -> bool {
        self.own.met() && self.previous.as_ref().is_none_or(Tally::met)
    }
}

fn tally(env: &Envelope, by: &TrustRoot) -> Result<Tally, String> {
    let count = count_dsse(
        env,
        by,
        "root",
        Window::Historical,
        &RevokedKeys::default(),
        "trust root",
    );
    if let Some(r) = count.invalid.first() {
        return Err(r.message.clone());
    }
    Ok(Tally {
        signed: count.counted.iter().map(|s| s.key_id.to_string()).collect(),
        threshold: by.role("root").map_or(usize::MAX, |r| r.threshold),
    })
}

/// Parses a trust root envelope and counts its root signatures (and, for a rotation, the
/// previous root's).
pub fn status(envelope: &[u8], previous: Option<&[u8]>) -> Result<RootStatus, String> {
    let root = TrustRoot::parse(envelope)?;
    let own = tally(&root.envelope, &root)?;
    let previous = match previous {
        None => None,
        Some(p) => {
            let prev = TrustRoot::parse(p).map_err(|e| format!("previous root: {e}"))?;
            if prev.version() + 1 != root.version() {
                return Err(format!(
                    "the previous root is version {}, this one is version {} (a rotation adds exactly one)",
                    prev.version(),
                    root.version()
                ));
            }
            Some(tally(&root.envelope, &prev)?)
        }
    };
    Ok(RootStatus {
        root,
        own,
        previous,
    })
}

/// Whether `key` is a `root`-role key of `root` (same id, same public key).
fn is_root_key(root: &TrustRoot, key: &PrivateKey) -> bool {
    let in_role = root
        .role("root")
        .is_some_and(|r| r.key_ids.contains(key.key_id()));
    in_role
        && root.keys.get(key.key_id()).is_some_and(|k| {
            matches!(&k.material, KeyMaterial::Ed25519(pk) if *pk.as_bytes() == key.public_raw())
        })
}

fn check_signers(
    root: &TrustRoot,
    previous: Option<&TrustRoot>,
    signers: &[&PrivateKey],
) -> Result<(), String> {
    for s in signers {
        if !is_root_key(root, s) && !previous.is_some_and(|p| is_root_key(p, s)) {
            return Err(format!(
                "key {} ({}) is not a root-role key of version {}{}: its signature would not count",
                s.key_id(),
                s.fingerprint(),
                root.version(),
                previous
                    .map(|p| format!(" or {}", p.version()))
                    .unwrap_or_default()
            ));
        }
    }
    Ok(())
}

fn pairs<'a>(signers: &'a [&'a PrivateKey]) -> Vec<(&'a str, &'a SigningKey)> {
    signers
        .iter()
        .map(|k| (k.key_id().as_str(), k.signing_key()))
        .collect()
}

/// Signs a new trust root payload. `previous` is the root it rotates from, if any (its root keys
/// may sign too).
pub fn sign(
    payload: &TrustRootPayload,
    signers: &[&PrivateKey],
    previous: Option<&[u8]>,
) -> Result<(Vec<u8>, RootStatus), String> {
    let bytes = dsse::to_pretty_json(payload);
    let unsigned = dsse::sign(payload_type::TRUST_ROOT, &bytes, &[]);
    let root = TrustRoot::parse(&unsigned)?;
    let prev = previous.map(TrustRoot::parse).transpose()?;
    check_signers(&root, prev.as_ref(), signers)?;
    let env = dsse::sign(payload_type::TRUST_ROOT, &bytes, &pairs(signers));
    let st = status(&env, previous)?;
    Ok((env, st))
}

/// Creates version `version` (1 for a first root) and signs it with `signers`.
pub fn create(
    version: u64,
    content: &RootContent,
    signers: &[&PrivateKey],
) -> Result<(Vec<u8>, RootStatus), String> {
    sign(&payload(version, content), signers, None)
}

/// Adds signatures to an existing trust root envelope (co-signing; the payload bytes are kept).
pub fn cosign(
    envelope: &[u8],
    signers: &[&PrivateKey],
    previous: Option<&[u8]>,
) -> Result<(Vec<u8>, RootStatus), String> {
    let root = TrustRoot::parse(envelope)?;
    let prev = previous.map(TrustRoot::parse).transpose()?;
    check_signers(&root, prev.as_ref(), signers)?;
    let env = dsse::add_signatures(envelope, &pairs(signers))?;
    let st = status(&env, previous)?;
    Ok((env, st))
}

/// What a rotation changes.
#[derive(Debug, Clone, Default)]
pub struct RootChanges {
    /// Key entries added (or replacing an entry with the same id).
    pub add_keys: Vec<KeyEntry>,
    /// Key ids removed.
    pub remove_keys: Vec<KeyId>,
    /// Roles replaced.
    pub roles: BTreeMap<String, RoleEntry>,
    /// Builders replacing the old list, if given.
    pub builders: Option<Vec<Builder>>,
    /// A Sigstore `trusted_root.json` replacing the old one, if given (else it is carried over).
    pub sigstore: Option<serde_json::Value>,
}

/// The next version of `previous`: version + 1, the changes applied, signed by `signers` (to be
/// accepted it needs the old root role's threshold AND the new one's; [`RootStatus::complete`]
/// says whether it has them yet; [`cosign`] adds the rest).
pub fn rotate(
    previous: &[u8],
    changes: &RootChanges,
    issued_at: Timestamp,
    expires: Timestamp,
    signers: &[&PrivateKey],
) -> Result<(Vec<u8>, RootStatus), String> {
    rotate_with(previous, changes, issued_at, expires, signers, |_| {})
}

/// [`rotate`], with `edit` applied to the new payload before it is signed (e.g. the governance
/// pins: a JWKS refresh is a rotation).
pub fn rotate_with(
    previous: &[u8],
    changes: &RootChanges,
    issued_at: Timestamp,
    expires: Timestamp,
    signers: &[&PrivateKey],
    edit: impl FnOnce(&mut TrustRootPayload),
) -> Result<(Vec<u8>, RootStatus), String> {
    let prev = TrustRoot::parse(previous).map_err(|e| format!("previous root: {e}"))?;
    let mut p = prev.payload.clone();
    p.version = prev
        .version()
        .checked_add(1)
        .ok_or("the previous root's version cannot grow")?;
    p.issued_at = issued_at;
    p.expires = expires;
    p.keys.retain(|k| !changes.remove_keys.contains(&k.key_id));
    for k in &changes.add_keys {
        p.keys.retain(|e| e.key_id != k.key_id);
        p.keys.push(k.clone());
    }
    for (name, r) in &changes.roles {
        p.roles.insert(name.clone(), r.clone());
    }
    if let Some(b) = &changes.builders {
        p.builders = b.clone();
    }
    edit(&mut p);
    if let Some(t) = &changes.sigstore {
        p.sigstore = Some(t.clone());
    }
    sign(&p, signers, Some(previous))
}

/// A human summary of a root's status.
pub fn describe(st: &RootStatus) -> String {
    let p = &st.root.payload;
    let mut out = format!(
        "trust root version {} (issued {}, expires {})\n",
        p.version, p.issued_at, p.expires
    );
    for k in &st.root.keys {
        out.push_str(&format!(
            "  key {:<32} {:<8} {}{}{}\n",
            k.0.as_str(),
            match k.1.material {
                KeyMaterial::Ed25519(_) => "Ed25519",
                KeyMaterial::Minisign { .. } => "minisign",
                KeyMaterial::Hmac { .. } => "HMAC-SHA256",
                KeyMaterial::Sigstore { .. } => "sigstore",
            },
            k.1.fingerprint(),
            k.1.not_before
                .map(|t| format!(" from {t}"))
                .unwrap_or_default(),
            k.1.not_after
                .map(|t| format!(" until {t}"))
                .unwrap_or_default(),
        ));
    }
    for (name, r) in &st.root.roles {
        let ids: Vec<&str> = r.key_ids.iter().map(KeyId::as_str).collect();
        out.push_str(&format!(
            "  role {name:<11} {} of [{}]\n",
            r.threshold,
            ids.join(", ")
        ));
    }
    for b in &p.builders {
        out.push_str(&format!(
            "  builder {} builds {} at {}\n",
            b.id, b.source_repository, b.ref_pattern
        ));
    }
    if let Some(g) = &p.governance {
        out.push_str(
            "  governance: every bundle must carry release-governance evidence
",
        );
        for o in &g.oidc {
            out.push_str(&format!(
                "    oidc {} audience {} ({} pinned keys)
",
                o.issuer,
                o.audience,
                o.jwks.keys.len()
            ));
        }
        for (name, glob) in &g.claims {
            out.push_str(&format!(
                "    claim {name} matches {glob}
"
            ));
        }
        out.push_str(&format!(
            "    commit claim {}, ref claim {}
",
            g.commit_claim, g.ref_claim
        ));
    }
    let line = |what: &str, t: &Tally| {
        format!(
            "  {what}: {} of {} required ({}){}\n",
            t.signed.len(),
            t.threshold,
            if t.signed.is_empty() {
                "none".to_string()
            } else {
                t.signed.join(", ")
            },
            if t.met() { "" } else { "  <- NOT MET" }
        )
    };
    out.push_str(&line("signed by its own root role", &st.own));
    if let Some(prev) = &st.previous {
        out.push_str(&line("signed by the previous root role", prev));
    }
    out.push_str(if st.complete() {
        "  complete: an appliance will accept it\n"
    } else {
        "  INCOMPLETE: more root signatures are needed (airlock-bundle root sign)\n"
    });
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use airlock_verifier::trust::root::{establish, RootInputs};
    use airlock_verifier::trust::Candidate;

    fn content(keys: &[&PrivateKey], root_ids: &[&KeyId], t: u64) -> RootContent {
        let now = Timestamp::now();
        let mut roles = BTreeMap::new();
        roles.insert("root".into(), role(root_ids, t));
        for r in ["release", "provenance", "revocation"] {
            roles.insert(r.into(), role(&[root_ids[0]], 1));
        }
        RootContent {
            issued_at: now.plus_seconds(-60),
            expires: now.plus_seconds(86_400),
            keys: keys.iter().map(|k| k.public_entry(None, None)).collect(),
            roles,
            builders: vec![],
            sigstore: None,
        }
    }

    #[test]
    fn create_cosign_rotate_is_accepted_by_the_verifier() {
        let a = PrivateKey::generate("root-a").unwrap();
        let b = PrivateKey::generate("root-b").unwrap();
        let c = PrivateKey::generate("root-c").unwrap();
        let (v1, st) = create(1, &content(&[&a, &b], &[a.key_id(), b.key_id()], 2), &[&a]).unwrap();
        assert!(!st.complete());
        let (v1, st) = cosign(&v1, &[&b], None).unwrap();
        assert!(st.complete());
        // Rotate: b out, c in; threshold 2 of (a, c).
        let now = Timestamp::now();
        let mut changes = RootChanges {
            add_keys: vec![c.public_entry(None, None)],
            remove_keys: vec![b.key_id().clone()],
            ..Default::default()
        };
        changes
            .roles
            .insert("root".into(), role(&[a.key_id(), c.key_id()], 2));
        for r in ["release", "provenance", "revocation"] {
            changes.roles.insert(r.into(), role(&[a.key_id()], 1));
        }
        let (v2, st) = rotate(
            &v1,
            &changes,
            now.plus_seconds(-1),
            now.plus_seconds(3600),
            &[&a, &c],
        )
        .unwrap();
        assert!(st.own.met());
        assert!(!st.complete(), "old role needs 2: a and b");
        let (v2, st) = cosign(&v2, &[&b], Some(&v1)).unwrap();
        assert!(st.complete(), "{}", describe(&st));
        let trusted = establish(&RootInputs {
            anchor: &v1,
            candidates: &[Candidate {
                source: "media:trust-root/2.json".into(),
                bytes: v2.clone(),
            }],
            highest_accepted: 0,
            now,
        })
        .unwrap();
        assert_eq!(trusted.version(), 2);
        // A stranger's key is refused before it signs.
        let x = PrivateKey::generate("root-x").unwrap();
        assert!(cosign(&v2, &[&x], Some(&v1)).is_err());
    }
}
