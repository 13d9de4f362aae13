//! Deciding: the bundle's inventory, the trust material offered and the appliance's state → every
//! problem found, and a verdict. No I/O happens here, so each rule is a unit test away.

use crate::bundle::{is_listing, is_metadata, FileEntry, Scan};
use crate::document::checksums::Checksums;
use crate::document::release_evidence::{ReleaseEvidence, ReleaseVersion};
use crate::document::signing_ops;
use crate::keys::hex;
use crate::reason::{Code, Reason};
use crate::receipt::{ArtifactRef, DocumentRef, ProvenanceRef, SignerRef};
use crate::state::{PromotedRelease, StateData};
use crate::timestamp::Timestamp;
use crate::trust::governance::{self, GovernanceRef, RunnerIdentity};
use crate::trust::provenance::{self, VerifiedProvenance};
use crate::trust::release::{self, ReleaseSignatures, VerifiedRelease};
use crate::trust::revocations::{self, EffectiveRevocations};
use crate::trust::root::{self, RootInputs, TrustedRoot};
use crate::trust::Candidate;
use crate::vault::Vault;
use crate::verdict::Verdict;
use airlock_core::digest::{sha256, Sha256Digest};
use std::collections::BTreeSet;

/// Files that `checksums.txt` does not list: itself and its signatures.
pub const UNLISTED: [&str; 4] = [
    "checksums.txt",
    "checksums.txt.sig.json",
    "checksums.txt.minisig",
    release::SIGSTORE_FILE,
];
const EVIDENCE_FILE: &str = "release-evidence.json";
const SIGNING_OPS_FILE: &str = "cavra-runtime.signing-operations.json";

/// What the appliance remembers, as this decision needs it: its state (`state.json`, the one
/// shape both the decisions and the state file use, updated by [`StateData::apply`]), the trust
/// roots it accepted and its HMAC secrets.
#[derive(Debug, Clone, Default)]
pub struct Memory {
    /// Highest trust-root and revocation-list versions, clock floor, promoted releases.
    pub state: StateData,
    /// Trust roots accepted before (their files).
    pub stored_roots: Vec<Candidate>,
    /// HMAC secrets (formats §8.1), from `STATE/hmac-keys/`.
    pub vault: Vault,
}

/// Everything one decision looks at.
pub struct Inputs<'a> {
    /// The bundle scan.
    pub scan: &'a Scan,
    /// The anchor's bytes.
    pub anchor: &'a [u8],
    /// Trust roots at the media root (`offline-trust-root-bootstrap.json`, `trust-root/<n>.json`).
    pub media_roots: &'a [Candidate],
    /// `revocations.json` at the media root, if any.
    pub media_revocations: &'a [Candidate],
    /// The appliance's memory.
    pub memory: &'a Memory,
    /// The clock, read once per run.
    pub now: Timestamp,
}

/// What the decision changes in the appliance's memory.
#[derive(Debug, Clone, Default)]
pub struct Updates {
    /// Trust roots newly accepted (version, file bytes).
    pub roots: Vec<(u64, Vec<u8>)>,
    /// The version of the trust root this decision ran under.
    pub trust_root_version: Option<u64>,
    /// A newer revocation list accepted (version, file bytes).
    pub revocations: Option<(u64, Vec<u8>)>,
    /// The promoted release (package, version, bundle digest).
    pub promoted: Option<(String, PromotedRelease)>,
    /// The latest trustworthy time seen.
    pub clock_floor: Option<Timestamp>,
}

/// Proof that [`assess`] decided to promote (issue 10, in the style of rustls' `verify.rs`
/// tokens). Its field is private and it has no `Default` and no `Clone`: [`assess`] is the only
/// code that makes one, and the receipt writer ([`crate::receipt::sign_receipt`]) takes a
/// [`Decision`], whose `Promote` arm holds one. So no path through this library writes a promote
/// receipt for a bundle `assess` did not promote (only the raw appliance key could sign one).
///
/// ```compile_fail,E0423
/// // Not outside `assess`: the field is private.
/// let _ = airlock_verifier::policy::Promotion(());
/// ```
///
/// ```compile_fail,E0599
/// // Nor by default.
/// let _ = <airlock_verifier::policy::Promotion>::default();
/// ```
#[derive(Debug)]
pub struct Promotion(());

/// What [`assess`] decided: what a receipt's `verdict` and `reasons` state.
#[derive(Debug)]
pub enum Decision {
    /// Every check passed: the bundle may cross, with [`assess`]'s proof.
    Promote(Promotion),
    /// At least one check failed: every problem found (never empty when `assess` decides).
    Reject(Vec<Reason>),
}

impl Decision {
    /// promote / reject.
    pub fn verdict(&self) -> Verdict {
        match self {
            Decision::Promote(_) => Verdict::Promote,
            Decision::Reject(_) => Verdict::Reject,
        }
    }

    /// Every problem found (empty on promote).
    pub fn reasons(&self) -> &[Reason] {
        match self {
            Decision::Promote(_) => &[],
            Decision::Reject(r) => r,
        }
    }
}

/// The decision and everything a receipt states about it. Only [`assess`] makes one, and its
/// fields are private, so a verdict cannot be changed after it was reached.
///
/// ```compile_fail,E0451
/// // Not by hand: the fields are private (this literal compiles if they are not).
/// use airlock_verifier::policy::{Assessment, Decision, Updates};
/// use airlock_verifier::receipt::DocumentRef;
/// let none = || DocumentRef { version: None, sha256: None };
/// let _ = Assessment {
///     decision: Decision::Reject(Vec::new()),
///     package: None,
///     version: None,
///     artifacts: Vec::new(),
///     signers: Vec::new(),
///     trust_root: none(),
///     revocations: none(),
///     provenance: None,
///     release_evidence_sha256: None,
///     governance: None,
///     runner: None,
///     updates: Updates::default(),
/// };
/// ```
///
/// The same paths and parts compile; what is public is reading an assessment, and its proof is
/// only borrowed from it:
///
/// ```
/// use airlock_verifier::policy::{Assessment, Decision, Promotion, Updates};
/// use airlock_verifier::receipt::DocumentRef;
/// let none = || DocumentRef { version: None, sha256: None };
/// let _ = (Decision::Reject(Vec::new()), none(), Updates::default());
/// fn proof(a: &Assessment) -> Option<&Promotion> {
///     match a.decision() {
///         Decision::Promote(p) => Some(p),
///         Decision::Reject(_) => None,
///     }
/// }
/// ```
#[derive(Debug)]
pub struct Assessment {
    decision: Decision,
    package: Option<String>,
    version: Option<String>,
    artifacts: Vec<ArtifactRef>,
    signers: Vec<SignerRef>,
    trust_root: DocumentRef,
    revocations: DocumentRef,
    provenance: Option<ProvenanceRef>,
    release_evidence_sha256: Option<String>,
    governance: Option<GovernanceRef>,
    runner: Option<RunnerIdentity>,
    updates: Updates,
}

impl Assessment {
    /// The decision (with [`assess`]'s proof on promote).
    pub fn decision(&self) -> &Decision {
        &self.decision
    }

    /// promote / reject.
    pub fn verdict(&self) -> Verdict {
        self.decision.verdict()
    }

    /// Every problem found (empty on promote).
    pub fn reasons(&self) -> &[Reason] {
        self.decision.reasons()
    }

    /// Package, when known.
    pub fn package(&self) -> Option<&str> {
        self.package.as_deref()
    }

    /// Version, when known.
    pub fn version(&self) -> Option<&str> {
        self.version.as_deref()
    }

    /// Artifacts (every file but the metadata files).
    pub fn artifacts(&self) -> &[ArtifactRef] {
        &self.artifacts
    }

    /// Keys whose signatures counted.
    pub fn signers(&self) -> &[SignerRef] {
        &self.signers
    }

    /// The trust root used.
    pub fn trust_root(&self) -> &DocumentRef {
        &self.trust_root
    }

    /// The revocation list used.
    pub fn revocations(&self) -> &DocumentRef {
        &self.revocations
    }

    /// Provenance facts.
    pub fn provenance(&self) -> Option<&ProvenanceRef> {
        self.provenance.as_ref()
    }

    /// SHA-256 of release-evidence.json.
    pub fn release_evidence_sha256(&self) -> Option<&str> {
        self.release_evidence_sha256.as_deref()
    }

    /// Release-governance facts, when the trust root in force has `governance` (formats §8.3).
    pub fn governance(&self) -> Option<&GovernanceRef> {
        self.governance.as_ref()
    }

    /// Who ran the release, when governance evidence named it.
    pub fn runner(&self) -> Option<&RunnerIdentity> {
        self.runner.as_ref()
    }

    /// State changes this decision warrants.
    pub fn updates(&self) -> &Updates {
        &self.updates
    }
}

/// The listing files (see [`is_listing`]) by name, owned by the decision so that each is freed as
/// soon as it has been checked (together up to tens of MiB for 100 000 artifacts).
pub use crate::bundle::Listings;

fn listing<'a>(listings: &'a Listings, name: &str) -> Option<&'a [u8]> {
    listings.files.get(name).map(Vec::as_slice)
}

fn meta<'a>(scan: &'a Scan, name: &str) -> Option<&'a [u8]> {
    scan.inventory.metadata.get(name).map(Vec::as_slice)
}

fn bundle_candidates(scan: &Scan, wanted: impl Fn(&str) -> bool) -> Vec<Candidate> {
    scan.inventory
        .metadata
        .iter()
        .filter(|(n, _)| wanted(n))
        .map(|(n, b)| Candidate {
            source: format!("bundle:{n}"),
            bytes: b.clone(),
        })
        .collect()
}

fn is_root_file(n: &str) -> bool {
    n == "offline-trust-root-bootstrap.json" || n.starts_with("trust-root/")
}

/// Artifacts: every regular file that is not Airlock metadata.
pub fn artifacts(files: &[FileEntry]) -> impl Iterator<Item = &FileEntry> {
    files.iter().filter(|f| !is_metadata(&f.name))
}

/// Files by name: sorted references, binary-searched (a tenth of a `BTreeMap`'s memory for
/// 100 000 files). Of equal names the last file is kept, as collecting into a map would.
struct Index<'a>(Vec<&'a FileEntry>);

impl<'a> Index<'a> {
    fn new(files: impl Iterator<Item = &'a FileEntry>) -> Self {
        let mut v: Vec<&FileEntry> = files.collect();
        v.reverse();
        v.sort_by(|a, b| a.name.cmp(&b.name));
        v.dedup_by(|later, kept| later.name == kept.name);
        Self(v)
    }

    /// Where `name` is, if it is a file.
    fn position(&self, name: &str) -> Option<usize> {
        self.0.binary_search_by(|f| f.name.as_str().cmp(name)).ok()
    }

    /// The file at `position`.
    fn at(&self, position: Option<usize>) -> Option<&'a FileEntry> {
        position.and_then(|i| self.0.get(i).copied())
    }
}

/// Which names of an [`Index`] a listing named, and the names it named outside the index.
struct Listed<'a> {
    indexed: Vec<bool>,
    others: BTreeSet<&'a str>,
}

impl<'a> Listed<'a> {
    fn new(index: &Index<'_>) -> Self {
        Self {
            indexed: vec![false; index.0.len()],
            others: BTreeSet::new(),
        }
    }

    /// Records `name` (at `position` in the index, if there); false if it was recorded before.
    fn insert(&mut self, position: Option<usize>, name: &'a str) -> bool {
        match position.and_then(|i| self.indexed.get_mut(i)) {
            Some(seen) => !std::mem::replace(seen, true),
            None => self.others.insert(name),
        }
    }

    /// The index's names not recorded, in name order.
    fn missing<'i>(&'i self, index: &'i Index<'_>) -> impl Iterator<Item = &'i str> + 'i {
        index
            .0
            .iter()
            .zip(&self.indexed)
            .filter(|(_, seen)| !**seen)
            .map(|(f, _)| f.name.as_str())
    }
}

/// Most reasons one verdict lists. 100 000 bad entries would otherwise give a receipt of many
/// MiB (no receipt reader accepts more than 1 MiB) and an evidence record line longer than any
/// log reader accepts (`evidence::MAX_RECORD_BYTES`), which would stop every later run.
pub const MAX_VERDICT_REASONS: usize = 200;

/// Keeps the first `MAX_VERDICT_REASONS - 1` reasons and sums up the rest in one last reason
/// (with the code of the first one left out, and every code left out named in its message).
fn cap_reasons(reasons: &mut Vec<Reason>) {
    if reasons.len() <= MAX_VERDICT_REASONS {
        return;
    }
    let rest = reasons.split_off(MAX_VERDICT_REASONS - 1);
    let Some(first) = rest.first() else {
        return;
    };
    let mut codes: Vec<&str> = rest.iter().map(|r| r.code.as_str()).collect();
    codes.sort_unstable();
    codes.dedup();
    reasons.push(Reason::new(
        first.code,
        format!(
            "... and {} more problems, not listed (a verdict lists at most {MAX_VERDICT_REASONS}); their codes: {}",
            rest.len(),
            codes.join(", ")
        ),
    ));
}

/// Checks `checksums.txt` against the files; returns the digest it lists for the signing
/// operations file (`Some(None)`: not listed; `None`: no readable checksums.txt).
fn check_checksums(
    scan: &Scan,
    text: Option<&[u8]>,
    reasons: &mut Vec<Reason>,
) -> Option<Option<Sha256Digest>> {
    let Some(text) = text else {
        reasons.push(Reason::new(
            Code::ChecksumMissing,
            "checksums.txt is absent from the bundle",
        ));
        return None;
    };
    let (sums, problems) = Checksums::parse(text);
    reasons.extend(problems);
    for f in &scan.inventory.files {
        if UNLISTED.contains(&f.name.as_str()) {
            continue;
        }
        match sums.get(&f.name) {
            None => reasons.push(Reason::new(
                Code::ChecksumMissing,
                format!("{} has no line in checksums.txt", f.name),
            )),
            Some(d) if d != f.sha256 => reasons.push(Reason::new(
                Code::ChecksumMismatch,
                format!(
                    "{}: sha256 is {}, checksums.txt says {}",
                    f.name,
                    hex(&f.sha256),
                    hex(&d)
                ),
            )),
            Some(_) => {}
        }
    }
    let files = Index::new(scan.inventory.files.iter());
    for name in sums.names() {
        if files.position(name).is_none() || UNLISTED.contains(&name) {
            reasons.push(Reason::new(
                Code::ChecksumExtra,
                format!("checksums.txt names {name}, which is not a file of the bundle"),
            ));
        }
    }
    Some(sums.get(SIGNING_OPS_FILE))
}

fn check_evidence(
    scan: &Scan,
    bytes: Option<&[u8]>,
    release: Option<&VerifiedRelease>,
    reasons: &mut Vec<Reason>,
) -> Option<(ReleaseEvidence, ReleaseVersion)> {
    let mismatch = |m: String| Reason::new(Code::EvidenceMismatch, format!("{EVIDENCE_FILE}: {m}"));
    let Some(bytes) = bytes else {
        reasons.push(mismatch("missing from the bundle".into()));
        return None;
    };
    let (ev, entries, version) = match ReleaseEvidence::parse_listed(bytes) {
        Ok(x) => x,
        Err(e) => {
            reasons.push(mismatch(e.to_string()));
            return None;
        }
    };
    let actual = Index::new(artifacts(&scan.inventory.files));
    let mut listed = Listed::new(&actual);
    for a in &entries {
        let at = actual.position(&a.name);
        if !listed.insert(at, &a.name) {
            reasons.push(mismatch(format!("lists {} twice", a.name)));
        }
        match actual.at(at) {
            None => reasons.push(mismatch(format!(
                "lists {}, which is not an artifact of the bundle",
                a.name
            ))),
            Some(f) => {
                if a.sha256 != hex(&f.sha256) {
                    reasons.push(mismatch(format!(
                        "{}: sha256 {} differs from the file's {}",
                        a.name,
                        a.sha256,
                        hex(&f.sha256)
                    )));
                }
                if a.size != f.size {
                    reasons.push(mismatch(format!(
                        "{}: size {} differs from the file's {}",
                        a.name, a.size, f.size
                    )));
                }
            }
        }
    }
    for name in listed.missing(&actual) {
        reasons.push(mismatch(format!("does not list the artifact {name}")));
    }
    if let Some(rel) = release {
        if let Some((p, v)) = rel.signed_package_version() {
            if p != ev.package || v != ev.version {
                reasons.push(mismatch(format!(
                    "names {} {}, but the release signature was made for {p} {v}",
                    ev.package, ev.version
                )));
            }
        }
        match rel.signers().iter().find(|s| s.key_id == ev.key_id) {
            Some(s) if s.sigstore.is_none() => {}
            Some(_) => reasons.push(mismatch(format!(
                "key_id {} is a Sigstore identity; the release key must be an Ed25519 or minisign key that signed (formats §9.2)",
                ev.key_id
            ))),
            None => reasons.push(mismatch(format!(
                "key_id {} is not among the keys that signed the release",
                ev.key_id
            ))),
        }
    }
    Some((ev, version))
}

fn check_signing_ops(
    scan: &Scan,
    listed: Option<Option<Sha256Digest>>,
    ev: Option<&ReleaseEvidence>,
    release: Option<&VerifiedRelease>,
    reasons: &mut Vec<Reason>,
) {
    let Some(bytes) = meta(scan, SIGNING_OPS_FILE) else {
        reasons.push(Reason::new(
            Code::SigningOperationsMissing,
            format!("{SIGNING_OPS_FILE} is missing from the bundle"),
        ));
        return;
    };
    let mismatch = |m: String| {
        Reason::new(
            Code::SigningOperationsMismatch,
            format!("{SIGNING_OPS_FILE}: {m}"),
        )
    };
    if let Some(listed) = listed {
        match listed {
            Some(d) if d == sha256(bytes) => {}
            Some(_) => reasons.push(mismatch("its digest disagrees with checksums.txt".into())),
            None => reasons.push(mismatch("it is not listed in checksums.txt".into())),
        }
    }
    let facts = match signing_ops::check(bytes) {
        Ok(f) => f,
        Err(r) => {
            reasons.extend(r);
            return;
        }
    };
    if let Some(ev) = ev {
        if facts.active_key_id != ev.key_id.as_str() {
            reasons.push(mismatch(format!(
                "active_key_id {} differs from the release evidence's key_id {}",
                facts.active_key_id, ev.key_id
            )));
        }
        if facts.package.as_ref().is_some_and(|p| *p != ev.package)
            || facts.version.as_ref().is_some_and(|v| *v != ev.version)
        {
            reasons.push(mismatch(
                "names another package or version than the release evidence".into(),
            ));
        }
    }
    if let Some(rel) = release {
        match rel
            .signers()
            .iter()
            .find(|s| s.key_id.as_str() == facts.active_key_id)
        {
            Some(s) if s.sigstore.is_none() => {}
            Some(_) => reasons.push(mismatch(format!(
                "active_key_id {} is a Sigstore identity; seed 000 requires an Ed25519 release key that signed (formats §9.2)",
                facts.active_key_id
            ))),
            None => reasons.push(mismatch(format!(
                "active_key_id {} is not among the keys that signed the release",
                facts.active_key_id
            ))),
        }
    }
}

fn check_provenance(
    scan: &Scan,
    prov: &VerifiedProvenance,
    ev: Option<&ReleaseEvidence>,
    reasons: &mut Vec<Reason>,
) {
    let f = provenance::FILE;
    let actual = Index::new(artifacts(&scan.inventory.files));
    let mut seen = Listed::new(&actual);
    for (name, digest) in prov.subjects() {
        let at = actual.position(name);
        let problem = match actual.at(at) {
            _ if !seen.insert(at, name) => Some(format!("subject {name} appears twice")),
            None => Some(format!("subject {name} is not an artifact of the bundle")),
            Some(a) if a.sha256 != *digest => Some(format!(
                "subject {name} has sha256 {}, the file has {}",
                hex(digest),
                hex(&a.sha256)
            )),
            Some(_) => None,
        };
        if let Some(m) = problem {
            reasons.push(Reason::new(
                Code::ProvenanceSubjectMismatch,
                format!("{f}: {m}"),
            ));
        }
    }
    for name in seen.missing(&actual) {
        reasons.push(Reason::new(
            Code::ProvenanceSubjectMismatch,
            format!("{f}: artifact {name} is not a subject"),
        ));
    }
    if let Some(ev) = ev {
        if prov.source_ref() != ev.ref_ {
            reasons.push(Reason::new(
                Code::SourceMismatch,
                format!(
                    "{f}: ref {} differs from the release evidence's {}",
                    prov.source_ref(),
                    ev.ref_
                ),
            ));
        }
        match prov.commit() {
            Some(c) if c == ev.commit => {}
            Some(c) => reasons.push(Reason::new(
                Code::SourceMismatch,
                format!(
                    "{f}: resolved commit {c} differs from the release evidence's {}",
                    ev.commit
                ),
            )),
            None => reasons.push(Reason::new(
                Code::SourceMismatch,
                format!("{f}: no resolved dependency git+<repository>@<ref> carries a gitCommit"),
            )),
        }
    }
}

fn signer_refs<'a>(
    role: &str,
    signers: &'a [crate::trust::signatures::Signer],
) -> impl Iterator<Item = SignerRef> + 'a {
    let role = role.to_owned();
    signers.iter().map(move |s| SignerRef {
        key_id: s.key_id.to_string(),
        fingerprint: s.fingerprint.clone(),
        role: role.clone(),
        sigstore: s.sigstore.clone(),
    })
}

/// Makes the decision for one bundle.
pub fn assess(input: &Inputs<'_>) -> Assessment {
    let inventory = &input.scan.inventory;
    let listings = Listings {
        files: inventory
            .metadata
            .iter()
            .filter(|(n, _)| is_listing(n))
            .map(|(n, b)| (n.clone(), b.clone()))
            .collect(),
        provenance: inventory.provenance.clone(),
    };
    assess_with(input, listings)
}

/// [`assess`] given the listing files taken out of the scan ([`crate::bundle::Inventory::take_listings`]):
/// each is freed as soon as it has been checked, so that a 100 000-artifact bundle's listings are
/// never all in memory beside what is read from them.
pub fn assess_with(input: &Inputs<'_>, mut listings: Listings) -> Assessment {
    let scan = input.scan;
    let mut reasons = scan.reasons.clone();
    let mut updates = Updates::default();
    let mut floor = input.memory.state.clock_floor;
    if let Some(f) = floor.filter(|f| input.now < *f) {
        reasons.push(Reason::new(
            Code::ClockUntrusted,
            format!(
                "the system clock ({}) is behind {f}, a time this appliance has already seen",
                input.now
            ),
        ));
    }
    // Trust root.
    let mut root_candidates = input.memory.stored_roots.clone();
    root_candidates.extend(input.media_roots.iter().cloned());
    root_candidates.extend(bundle_candidates(scan, is_root_file));
    let root = match root::establish(&RootInputs {
        anchor: input.anchor,
        candidates: &root_candidates,
        highest_accepted: input.memory.state.trust_root_version,
        now: input.now,
    }) {
        Ok(r) => Some(r),
        Err(r) => {
            reasons.extend(r);
            None
        }
    };
    // Revocations.
    let mut rev_candidates = input.media_revocations.to_vec();
    rev_candidates.extend(bundle_candidates(scan, |n| n == "revocations.json"));
    let revs = match root.as_ref().map(|r| {
        revocations::establish(
            r,
            &rev_candidates,
            input.memory.state.revocations_version,
            input.now,
        )
    }) {
        Some(Ok(r)) => r,
        // Rejected already: the root's or the list's reasons are on record.
        Some(Err(r)) => {
            reasons.extend(r);
            EffectiveRevocations::unestablished()
        }
        None => EffectiveRevocations::unestablished(),
    };
    for issued in [
        root.as_ref().map(|r| r.root().payload.issued_at),
        revs.list().map(|(l, _)| l.payload.issued_at),
    ]
    .into_iter()
    .flatten()
    {
        if issued > input.now {
            reasons.push(Reason::new(
                Code::ClockUntrusted,
                format!(
                    "trust material was issued at {issued}, after the system clock ({})",
                    input.now
                ),
            ));
        } else {
            // Material from the future is refused: it never moves the floor (issue 11 #8).
            floor = floor.max(Some(issued));
        }
    }
    let clock_untrusted = reasons.iter().any(|r| r.code == Code::ClockUntrusted);
    // A bundle that could not be read to the end has no content to judge: its other findings
    // would only be echoes of the truncation.
    if scan
        .reasons
        .iter()
        .any(|r| r.code == Code::BundleUnreadable)
    {
        reasons.dedup();
        return Assessment {
            decision: Decision::Reject(reasons),
            package: None,
            version: None,
            artifacts: Vec::new(),
            signers: Vec::new(),
            trust_root: DocumentRef {
                version: root.as_ref().map(TrustedRoot::version),
                sha256: root.as_ref().map(|r| hex(&r.root().file_sha256)),
            },
            revocations: DocumentRef {
                version: None,
                sha256: None,
            },
            provenance: None,
            release_evidence_sha256: None,
            governance: root
                .as_ref()
                .and_then(|r| r.root().governance.as_ref())
                .map(|_| GovernanceRef::default()),
            runner: None,
            updates: Updates {
                clock_floor: floor,
                ..Updates::default()
            },
        };
    }
    // Checksums and release signature.
    let signing_ops_listed =
        check_checksums(scan, listing(&listings, "checksums.txt"), &mut reasons);
    let release = match (&root, listing(&listings, "checksums.txt")) {
        (Some(r), Some(checksums)) => {
            let files = ReleaseSignatures {
                checksums,
                dsse: meta(scan, "checksums.txt.sig.json"),
                minisig: meta(scan, "checksums.txt.minisig"),
                sigstore: meta(scan, release::SIGSTORE_FILE),
            };
            match release::verify(r, &revs, &files, input.now) {
                Ok(v) => Some(v),
                Err(r) => {
                    reasons.extend(r);
                    None
                }
            }
        }
        _ => None,
    };
    listings.files.remove("checksums.txt");
    // Evidence, signing operations, provenance.
    let evidence_bytes = listing(&listings, EVIDENCE_FILE);
    let release_evidence_sha256 = evidence_bytes.map(|b| hex(&sha256(b)));
    let evidence = check_evidence(scan, evidence_bytes, release.as_ref(), &mut reasons);
    listings.files.remove(EVIDENCE_FILE);
    check_signing_ops(
        scan,
        signing_ops_listed,
        evidence.as_ref().map(|(e, _)| e),
        release.as_ref(),
        &mut reasons,
    );
    let prov = match &root {
        Some(r) => match provenance::verify_files(
            r,
            &revs,
            // Parsed by the scan; from its bytes when the inventory was put together otherwise.
            listings.provenance.take().or_else(|| {
                listings
                    .files
                    .remove(provenance::FILE)
                    .map(provenance::parse)
            }),
            meta(scan, provenance::SIGSTORE_FILE),
            input.now,
        ) {
            Ok(p) => {
                check_provenance(scan, &p, evidence.as_ref().map(|(e, _)| e), &mut reasons);
                Some(p)
            }
            Err(r) => {
                reasons.extend(r);
                None
            }
        },
        None => None,
    };
    // Release governance (formats §8), when the root in force pins it.
    let mut governance_ref = None;
    let mut runner = None;
    if let Some((r, pins)) = root
        .as_ref()
        .and_then(|r| r.root().governance.as_ref().map(|p| (r, p)))
    {
        let g = |n: &str| meta(scan, n);
        use crate::document::governance as files;
        let outcome = governance::check(&governance::Inputs {
            root: r,
            pins,
            revoked: &revs,
            vault: &input.memory.vault,
            files: governance::Files {
                claims: g(files::CLAIMS_FILE),
                jwt: g(files::JWT_FILE),
                response: g(files::RESPONSE_FILE),
                evidence: g(files::EVIDENCE_FILE),
                report: g(files::REPORT_FILE),
            },
            release: evidence.as_ref().map(|(e, _)| governance::ReleaseFacts {
                package: &e.package,
                version: &e.version,
                commit: &e.commit,
                ref_: &e.ref_,
            }),
            now: input.now,
        });
        let (found, receipt, identity) = outcome.into_parts();
        reasons.extend(found);
        governance_ref = Some(receipt);
        runner = identity;
    }
    // Package and version: from the signed statement, else the evidence (minisign-only releases).
    let (package, version) = match (
        release.as_ref().and_then(|r| r.signed_package_version()),
        &evidence,
    ) {
        (Some((p, v)), _) => (Some(p.to_owned()), Some(v.to_owned())),
        (None, Some((e, _))) => (Some(e.package.clone()), Some(e.version.clone())),
        (None, None) => (None, None),
    };
    // Revocations of versions and artifacts.
    if let Some(v) = version.as_deref().filter(|v| revs.version_revoked(v)) {
        reasons.push(Reason::new(
            Code::VersionRevoked,
            format!("release {v} is listed as affected by a key revocation"),
        ));
    }
    for f in &scan.inventory.files {
        if revs.artifact_revoked(&f.sha256) {
            reasons.push(Reason::new(
                Code::ArtifactRevoked,
                format!("{} has the revoked sha256 {}", f.name, hex(&f.sha256)),
            ));
        }
    }
    if let Some(d) = scan
        .inventory
        .bundle_sha256
        .filter(|d| revs.artifact_revoked(d))
    {
        reasons.push(Reason::new(
            Code::ArtifactRevoked,
            format!("the bundle file has the revoked sha256 {}", hex(&d)),
        ));
    }
    // Rollback.
    let bundle_hex = scan.inventory.bundle_sha256.map(|d| hex(&d));
    if let (Some(p), Some(v)) = (&package, &version) {
        match (ReleaseVersion::parse(v), input.memory.state.packages.get(p)) {
            (Err(e), _) => reasons.push(Reason::new(Code::EvidenceMismatch, e)),
            (Ok(new), Some(old)) => {
                let old_v = ReleaseVersion::parse(&old.version).ok();
                let same_bundle = bundle_hex.as_deref() == Some(old.bundle_sha256.as_str());
                if old_v.as_ref().is_none_or(|o| new < *o)
                    || (old_v.as_ref() == Some(&new) && !same_bundle)
                {
                    reasons.push(Reason::new(
                        Code::ReleaseRollback,
                        if old_v.as_ref() == Some(&new) {
                            format!("{p} {v} was already promoted with different content (bundle sha256 {})", old.bundle_sha256)
                        } else {
                            format!("{p} {v} is older than {}, which this appliance already promoted", old.version)
                        },
                    ));
                }
            }
            (Ok(_), None) => {}
        }
    } else if reasons.is_empty() {
        reasons.push(Reason::new(
            Code::EvidenceMismatch,
            "the package and version could not be established",
        ));
    }
    // Verdict and what it changes.
    reasons.dedup();
    cap_reasons(&mut reasons);
    // The only place a `Promotion` is made.
    let decision = if reasons.is_empty() {
        Decision::Promote(Promotion(()))
    } else {
        Decision::Reject(reasons)
    };
    // Roots and lists established under an untrusted clock are refused: they never move the
    // state (issue 11 #8). Only roots not already remembered are new (issue 11 #5).
    if let Some(r) = root.as_ref().filter(|_| !clock_untrusted) {
        let known: std::collections::HashSet<[u8; 32]> = input
            .memory
            .stored_roots
            .iter()
            .map(|c| sha256(&c.bytes))
            .collect();
        updates.roots = r
            .accepted()
            .iter()
            .filter(|(_, bytes)| !known.contains(&sha256(bytes)))
            .cloned()
            .collect();
        updates.trust_root_version = Some(r.version());
    }
    if let Some((l, bytes)) = revs
        .list()
        .filter(|(l, _)| l.version() > input.memory.state.revocations_version && !clock_untrusted)
    {
        updates.revocations = Some((l.version(), bytes.clone()));
    }
    if let Decision::Promote(_) = decision {
        if let (Some(p), Some(v), Some(d)) = (&package, &version, &bundle_hex) {
            updates.promoted = Some((
                p.clone(),
                PromotedRelease {
                    version: v.clone(),
                    bundle_sha256: d.clone(),
                },
            ));
        }
    }
    updates.clock_floor = floor
        .max(Some(input.now))
        .filter(|_| !clock_untrusted)
        .or(floor);
    let mut signers: Vec<SignerRef> = Vec::new();
    if let Some(r) = &release {
        signers.extend(signer_refs("release", r.signers()));
    }
    if let Some(p) = &prov {
        signers.extend(signer_refs("provenance", p.signers()));
    }
    Assessment {
        decision,
        package,
        version,
        artifacts: artifacts(&scan.inventory.files)
            .map(|f| ArtifactRef {
                name: f.name.clone(),
                sha256: hex(&f.sha256),
                size: f.size,
            })
            .collect(),
        signers,
        trust_root: DocumentRef {
            version: root.as_ref().map(TrustedRoot::version),
            sha256: root.as_ref().map(|r| hex(&r.root().file_sha256)),
        },
        revocations: DocumentRef {
            version: revs.list().map(|(l, _)| l.version()),
            sha256: revs.list().map(|(l, _)| hex(&l.file_sha256)),
        },
        provenance: prov.as_ref().map(|p| ProvenanceRef {
            builder_id: p.builder().id.clone(),
            source_repository: p.builder().source_repository.clone(),
            ref_: p.source_ref().to_owned(),
            commit: p.commit().unwrap_or_default().to_owned(),
        }),
        release_evidence_sha256,
        governance: governance_ref,
        runner,
        updates,
    }
}
