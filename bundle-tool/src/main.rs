//! `airlock-bundle`: the connected side of Airlock. A thin shell over `airlock_author`: parse the
//! arguments, call the library, print what happened; every error comes with a hint.

use airlock_author::archive::Compression;
use airlock_author::fsutil;
use airlock_author::pack::{self, PackOptions};
use airlock_author::revocations::{self as revs, KeyRevocation};
use airlock_author::root::{self, RootChanges, RootContent};
use airlock_author::{media, MinisignKey, PrivateKey, SIGNING_KEY_ENV};
use airlock_formats::document::dsse::to_pretty_json;
use airlock_formats::document::trust_root::{Builder, RoleEntry};
use airlock_formats::keys::{hex, KeyEntry, KeyId};
use airlock_formats::timestamp::Timestamp;
use airlock_verifier::{errln, out, outln};
use clap::{Args, Parser, Subcommand};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

mod enrol;
mod governance;
mod progress;

#[derive(Parser)]
#[command(
    name = "airlock-bundle",
    version,
    about = "Make what the Airlock appliance verifies: keys, trust roots, revocation lists, release bundles, media."
)]
pub(crate) struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Generate a key pair: ID.key (private, mode 0600) and ID.pub.json (the public key entry).
    Keygen(Keygen),
    /// Generate an HMAC secret (ID.hmac-secret, 0600) and its trust-root entry (ID.pub.json) for
    /// the runner-auth or governance-evidence role; prints only the secret's SHA-256.
    HmacKeygen(governance::HmacKeygen),
    /// Write the CAVRA daemon's release-governance files into DIST/.cavra/go-daemon/ (keys from
    /// the CAVRA_* environment variables).
    Governance(governance::Governance),
    /// Trust roots: create, sign (co-sign), rotate, show.
    #[command(subcommand)]
    Root(RootCmd),
    /// Add an emergency key revocation to a revocation draft (every evidence field is required).
    Revoke(Revoke),
    /// Revocation lists: add revoked artifacts, publish (sign) a draft, show a list.
    #[command(subcommand)]
    Revocations(RevocationsCmd),
    /// Pack and sign a release bundle from a directory of artifacts.
    Pack(Box<Pack>),
    /// Media for the appliance.
    #[command(subcommand)]
    Media(MediaCmd),
    /// Receipts that come back from the appliance.
    #[command(subcommand)]
    Receipt(ReceiptCmd),
    /// Make an appliance's receipt key before it boots (DIR/appliance-key.pem 0600 and
    /// DIR/appliance-key.json, as the appliance makes them) and print the entry to enrol.
    ApplianceKey(enrol::ApplianceKeyArgs),
}

#[derive(Subcommand)]
enum ReceiptCmd {
    /// Check a receipt's signature against the appliance's public key entry; print its payload.
    Verify {
        /// The receipt file (MEDIA/receipts/<bundle>.<verdict>.receipt.json).
        receipt: PathBuf,
        /// The appliance's public key entry (appliance-key.json), known out of band: the copy on
        /// the stick that carries the receipt proves nothing (prefer --appliances).
        #[arg(
            long,
            required_unless_present = "appliances",
            conflicts_with = "appliances"
        )]
        key: Option<PathBuf>,
        /// The site's enrolled appliances: a JSON array of appliance key entries (see
        /// bundle-tool/README.md); a receipt signed by any other key is refused.
        #[arg(long, value_name = "FILE")]
        appliances: Option<PathBuf>,
        /// The same as --format json, kept for scripts written before --format (hidden: one
        /// spelling in both tools).
        #[arg(long, hide = true)]
        json: bool,
        /// Output format: human (the default) or json (the payload), as in `airlock`.
        #[arg(long, value_parser = ["human", "json"])]
        format: Option<String>,
        /// Require the receipt to name this appliance image (hex SHA-256 of its BOOTX64.EFI, as
        /// image/build prints it and writes in SHA256SUMS).
        #[arg(long, value_name = "HEX")]
        image_sha256: Option<String>,
    },
}

#[derive(Args)]
struct Keygen {
    /// Key id, `[a-z0-9][a-z0-9._-]{0,63}` (time-scoped by convention: cavra-go-release-2026-q2).
    #[arg(long)]
    key_id: String,
    /// Directory to write into.
    #[arg(long, default_value = ".")]
    out_dir: PathBuf,
    /// Make a minisign key (ID.minisign.key, ID.minisign.pub) instead of an Ed25519 DSSE key.
    #[arg(long)]
    minisign: bool,
    /// Start of the key's validity window (RFC 3339 UTC), recorded in the public entry.
    #[arg(long)]
    not_before: Option<String>,
    /// End of the key's validity window.
    #[arg(long)]
    not_after: Option<String>,
}

#[derive(Args)]
struct RootDef {
    /// A public key entry file (ID.pub.json) to list; repeat.
    #[arg(long = "key")]
    keys: Vec<PathBuf>,
    /// A role: NAME=ID[,ID...][:THRESHOLD] (threshold defaults to 1); repeat for root, release,
    /// provenance, revocation.
    #[arg(long = "role")]
    roles: Vec<String>,
    /// A trusted builder: "BUILDER_ID SOURCE_REPOSITORY REF_PATTERN" (space-separated); repeat.
    #[arg(long = "builder")]
    builders: Vec<String>,
    /// A Sigstore signer pinned by identity: "KEY_ID ISSUER SUBJECT_GLOB [OID=GLOB ...]"
    /// (space-separated; `*` the only glob character); list KEY_ID in a --role; repeat.
    #[arg(long = "sigstore-key")]
    sigstore_keys: Vec<String>,
    /// The Sigstore trusted_root.json (public-good or a private instance) that Sigstore bundles
    /// are verified against; carried inside the signed root (rotate: replaces the old one).
    #[arg(long)]
    sigstore_trusted_root: Option<PathBuf>,
    /// Days until the root expires.
    #[arg(long, default_value_t = 365)]
    expires_days: i64,
    /// issued_at (RFC 3339 UTC; default now). An appliance whose clock is behind issued_at
    /// reports clock-untrusted, so a signing machine with a fast clock may set it explicitly.
    #[arg(long)]
    issued_at: Option<String>,
    #[command(flatten)]
    governance: governance::GovernanceDef,
}

#[derive(Subcommand)]
enum RootCmd {
    /// Create and sign a new trust root.
    Create {
        /// Output file (`-`: standard output, the messages then go to standard error).
        #[arg(long)]
        out: PathBuf,
        /// Version (1 for a first root).
        #[arg(long, default_value_t = 1)]
        version: u64,
        #[command(flatten)]
        def: RootDef,
        /// A root-role private key to sign with: [ID=]FILE; repeat.
        #[arg(long = "sign")]
        sign: Vec<String>,
        /// Replace OUT if it exists (published material is otherwise never overwritten).
        #[arg(long)]
        force: bool,
    },
    /// Add signatures to a trust root (co-signing).
    Sign {
        /// The trust root file (rewritten in place unless --out is given).
        file: PathBuf,
        /// A root-role private key: [ID=]FILE; repeat.
        #[arg(long = "sign", required = true)]
        sign: Vec<String>,
        /// The version before it, for a rotation (its root keys may sign, and its threshold is reported).
        #[arg(long)]
        previous: Option<PathBuf>,
        /// Output file (`-`: standard output, the messages then go to standard error).
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Make the next version of a trust root (version + 1), signed by old and new root keys.
    Rotate {
        /// The current trust root.
        #[arg(long)]
        previous: PathBuf,
        /// Output file (`-`: standard output; by convention trust-root/<version>.json, and the new bootstrap file).
        #[arg(long)]
        out: PathBuf,
        /// Key ids to remove; repeat.
        #[arg(long = "remove-key")]
        remove_keys: Vec<String>,
        #[command(flatten)]
        def: RootDef,
        /// A private key of the old or new root role: [ID=]FILE; repeat.
        #[arg(long = "sign")]
        sign: Vec<String>,
        /// Replace OUT if it exists (published material is otherwise never overwritten).
        #[arg(long)]
        force: bool,
    },
    /// Show a trust root and whether its signatures meet the thresholds.
    Show {
        /// The trust root file.
        file: PathBuf,
        /// The version before it (for a rotation).
        #[arg(long)]
        previous: Option<PathBuf>,
    },
}

#[derive(Args)]
struct Draft {
    /// The revocation draft (an unsigned payload); created if absent.
    #[arg(long)]
    draft: PathBuf,
    /// When the draft is created: the currently published list, whose entries carry over (version + 1).
    #[arg(long)]
    from: Option<PathBuf>,
}

#[derive(Args)]
struct Revoke {
    #[command(flatten)]
    draft: Draft,
    /// Revoked key id.
    #[arg(long)]
    key_id: String,
    /// Affected release versions, comma-separated (v0.1.0,v0.1.1).
    #[arg(long, value_delimiter = ',', required = true)]
    affected_versions: Vec<String>,
    /// Revocation timestamp (RFC 3339 UTC).
    #[arg(long)]
    revoked_at: String,
    /// Replacement key id.
    #[arg(long)]
    replacement_key_id: String,
    /// Operator approver.
    #[arg(long)]
    approver: String,
    /// New signed release evidence: the release-evidence.json file, or its SHA-256 in hex.
    #[arg(long)]
    replacement_evidence: String,
    /// Customer advisory reference.
    #[arg(long)]
    advisory: String,
    /// Why (optional).
    #[arg(long)]
    reason: Option<String>,
    /// The trust root in force: a key id it does not list is refused (a typo would leave the
    /// real key trusted).
    #[arg(long)]
    root: Option<PathBuf>,
}

#[derive(Subcommand)]
enum RevocationsCmd {
    /// Add a revoked artifact digest to a draft.
    AddArtifact {
        #[command(flatten)]
        draft: Draft,
        /// The artifact's (or bundle's) SHA-256, hex.
        #[arg(long)]
        sha256: String,
        /// Why.
        #[arg(long)]
        reason: String,
    },
    /// Sign a draft with revocation-role keys, writing revocations.json.
    Publish {
        /// The draft.
        #[arg(long)]
        draft: PathBuf,
        /// Output file (`-`: standard output, the messages then go to standard error).
        #[arg(long)]
        out: PathBuf,
        /// A revocation-role private key: [ID=]FILE; repeat.
        #[arg(long = "sign", required = true)]
        sign: Vec<String>,
        /// The trust root: signers are checked against its revocation role and threshold.
        #[arg(long)]
        root: Option<PathBuf>,
        /// Days until the list expires (default 30): from then on every appliance rejects every
        /// bundle until a newer list reaches it, so re-issue well before.
        #[arg(long)]
        expires_days: Option<i64>,
        /// Replace OUT if it holds an older version or no list (a list of the same or a newer
        /// version is never replaced).
        #[arg(long)]
        force: bool,
    },
    /// Show a revocation list (or draft).
    Show {
        /// The file.
        file: PathBuf,
        /// The trust root, to count the signatures.
        #[arg(long)]
        root: Option<PathBuf>,
    },
}

#[derive(Args)]
struct Pack {
    /// The directory of artifacts (every file under it is packed).
    #[arg(long)]
    dist: PathBuf,
    /// Release version (v-prefixed semver).
    #[arg(long)]
    version: String,
    /// Source commit (40 hex).
    #[arg(long)]
    commit: String,
    /// Source ref (refs/tags/v0.1.0).
    #[arg(long = "ref")]
    ref_: String,
    /// CI event.
    #[arg(long, default_value = "release")]
    event: String,
    /// The active release signing key id.
    #[arg(long)]
    key_id: String,
    /// Seed 000's flag: signing is required (Airlock signs every bundle; the manifest says so).
    #[arg(long)]
    signing_required: bool,
    /// Package name.
    #[arg(long, default_value = "cavra-go-runtime")]
    package: String,
    /// Bundle file to write (.tar.gz, .tgz, .tar.zst, .tar.xz or .tar). Default:
    /// PACKAGE-VERSION with the extension of --compress.
    #[arg(long)]
    out: Option<PathBuf>,
    /// Compression: gzip, zstd, xz or none. Default: from --out's extension (gzip without --out).
    #[arg(long)]
    compress: Option<String>,
    /// Ed25519 release key: [ID=]FILE (JSON key file or PKCS#8 PEM); repeat. Default: the
    /// CAVRA_GO_RELEASE_SIGNING_KEY environment variable, under --key-id.
    #[arg(long = "release-key")]
    release_keys: Vec<String>,
    /// Unencrypted minisign secret key (minisign -G -W): also writes checksums.txt.minisig.
    #[arg(long)]
    minisign_key: Option<PathBuf>,
    /// Provenance (CI builder) key: [ID=]FILE; repeat.
    #[arg(
        long = "provenance-key",
        required_unless_present = "provenance_sigstore"
    )]
    provenance_keys: Vec<String>,
    /// A Sigstore bundle over this release's checksums.txt (cosign sign-blob --bundle), packed as
    /// checksums.txt.sigstore.json. Get that checksums.txt from --write-checksums with the same
    /// options and SOURCE_DATE_EPOCH.
    #[arg(long)]
    sigstore_bundle: Option<PathBuf>,
    /// A Sigstore bundle whose DSSE envelope carries the SLSA provenance (GitHub's
    /// attest-build-provenance), packed as cavra-runtime.provenance.sigstore.json; without
    /// --provenance-key it replaces the Ed25519-signed provenance.
    #[arg(long)]
    provenance_sigstore: Option<PathBuf>,
    /// Only write the checksums.txt this bundle would carry to FILE (to sign it with Sigstore,
    /// e.g. cosign sign-blob --bundle, before packing with --sigstore-bundle); no bundle.
    #[arg(long, value_name = "FILE", conflicts_with = "sigstore_bundle")]
    write_checksums: Option<PathBuf>,
    /// runDetails.builder.id (must be a builder of the trust root).
    #[arg(long)]
    builder_id: String,
    /// Source repository URL (the builder's source_repository).
    #[arg(long)]
    source_repo: String,
    /// Workflow path recorded in provenance.
    #[arg(long, default_value = pack::DEFAULT_WORKFLOW_PATH)]
    workflow_path: String,
    /// Trust root file to carry (the newest becomes offline-trust-root-bootstrap.json); repeat.
    #[arg(long = "trust-root")]
    trust_roots: Vec<PathBuf>,
    /// Revocation list to carry.
    #[arg(long)]
    revocations: Option<PathBuf>,
    /// The trust root to self-check against (default: the oldest carried).
    #[arg(long)]
    anchor: Option<PathBuf>,
    /// Where the private key lives, by reference (e.g. op://release/cavra-go-runtime/signing-key),
    /// for the custody record.
    #[arg(long)]
    key_location: Option<String>,
    /// Replace the bundle file if it exists (otherwise never overwritten).
    #[arg(long)]
    force: bool,
    /// Print nothing on success: no progress, no summary (errors are still printed).
    #[arg(long)]
    quiet: bool,
}

#[derive(Subcommand)]
enum MediaCmd {
    /// Lay out media: bundles in inbox/, trust material at the root (checked from the anchor first).
    Prepare {
        /// The media directory (the stick's mount point).
        #[arg(long)]
        media: PathBuf,
        /// The trust root the appliance already trusts.
        #[arg(long)]
        anchor: PathBuf,
        /// A bundle to put in inbox/; repeat.
        #[arg(long = "bundle")]
        bundles: Vec<PathBuf>,
        /// A trust root newer than the anchor to carry; repeat.
        #[arg(long = "trust-root")]
        trust_roots: Vec<PathBuf>,
        /// The revocation list to carry.
        #[arg(long)]
        revocations: Option<PathBuf>,
        /// Write the stick even when the dry run says a bundle on it will be rejected.
        #[arg(long)]
        force: bool,
        /// Where the dry run's scratch copy of the stick goes (default: the system temp directory).
        #[arg(long, value_name = "DIR")]
        scratch: Option<PathBuf>,
    },
    /// Write the demo's material into a new directory: DIR/media (a good and a tampered bundle,
    /// trust material), DIR/anchor.json and DIR/keys (TEST ONLY). `image/build` uses it for the
    /// default stick; `airlock demo` verifies the same material.
    Demo {
        /// The directory to create.
        #[arg(long)]
        out: PathBuf,
    },
}

type R<T> = Result<T, String>;

fn read(p: &Path) -> R<Vec<u8>> {
    std::fs::read(p).map_err(|e| format!("{}: {e}", p.display()))
}

fn ts(s: &str) -> R<Timestamp> {
    Ok(Timestamp::parse(s)?)
}

/// `[ID=]FILE`.
fn id_and_path(spec: &str) -> (Option<&str>, &Path) {
    match spec.split_once('=') {
        Some((id, path)) if KeyId::new(id).is_ok() && !path.is_empty() => {
            (Some(id), Path::new(path))
        }
        _ => (None, Path::new(spec)),
    }
}

fn load_key(spec: &str) -> R<PrivateKey> {
    let (id, path) = id_and_path(spec);
    PrivateKey::load(path, id)
}

fn load_keys(specs: &[String]) -> R<Vec<PrivateKey>> {
    specs.iter().map(|s| load_key(s)).collect()
}

fn refs(keys: &[PrivateKey]) -> Vec<&PrivateKey> {
    keys.iter().collect()
}

fn parse_role(s: &str) -> R<(String, RoleEntry)> {
    let (name, rest) = s
        .split_once('=')
        .ok_or_else(|| format!("--role {s:?}: expected NAME=ID[,ID...][:THRESHOLD]"))?;
    let (ids, threshold) = match rest.rsplit_once(':') {
        Some((ids, t)) => (
            ids,
            t.parse::<u64>()
                .map_err(|_| format!("--role {s:?}: threshold {t:?} is not a number"))?,
        ),
        None => (rest, 1),
    };
    let key_ids = ids
        .split(',')
        .map(KeyId::new)
        .collect::<Result<Vec<_>, _>>()?;
    Ok((name.to_string(), RoleEntry { key_ids, threshold }))
}

fn parse_builder(s: &str) -> R<Builder> {
    let parts: Vec<&str> = s.split_whitespace().collect();
    match parts.as_slice() {
        [id, repo, pattern] => Ok(Builder {
            id: (*id).into(),
            source_repository: (*repo).into(),
            ref_pattern: (*pattern).into(),
        }),
        _ => Err(format!(
            "--builder {s:?}: expected \"BUILDER_ID SOURCE_REPOSITORY REF_PATTERN\""
        )),
    }
}

fn key_entries(paths: &[PathBuf]) -> R<Vec<KeyEntry>> {
    paths
        .iter()
        .map(|p| {
            let bytes = read(p)?;
            airlock_formats::json::parse::<KeyEntry>(&bytes).map_err(|e| {
                match airlock_author::KeyKind::of(&bytes) {
                    // Never a private key into a trust root; name the file that belongs there.
                    Some(k @ (airlock_author::KeyKind::PrivateFile
                    | airlock_author::KeyKind::PemPrivate
                    | airlock_author::KeyKind::MinisignSecret
                    | airlock_author::KeyKind::Hex64)) => format!(
                        "{}: this is {}, not a public key entry: --key takes the public key entry keygen wrote beside it (ID.pub.json); private keys never go into a trust root",
                        p.display(),
                        k.describe()
                    ),
                    Some(k @ (airlock_author::KeyKind::MinisignPublic
                    | airlock_author::KeyKind::PemPublic)) => format!(
                        "{}: this is {}, not a public key entry: --key takes a JSON entry (ID.pub.json; keygen --minisign writes one beside ID.minisign.pub)",
                        p.display(),
                        k.describe()
                    ),
                    _ => format!("{}: not a public key entry (ID.pub.json): {e}", p.display()),
                }
            })
        })
        .collect()
}

/// `--key` files and `--sigstore-key` pins.
fn all_key_entries(def: &RootDef) -> R<Vec<KeyEntry>> {
    let mut keys = key_entries(&def.keys)?;
    for spec in &def.sigstore_keys {
        keys.push(root::sigstore_key(spec).map_err(|e| format!("--sigstore-key {e}"))?);
    }
    Ok(keys)
}

fn sigstore_trusted_root(def: &RootDef) -> R<Option<root::SigstoreTrustedRoot>> {
    def.sigstore_trusted_root
        .as_deref()
        .map(|p| {
            root::sigstore_trusted_root(&read(p)?).map_err(|e| format!("{}: {e}", p.display()))
        })
        .transpose()
}

fn roles(specs: &[String]) -> R<BTreeMap<String, RoleEntry>> {
    specs.iter().map(|s| parse_role(s)).collect()
}

/// `-` as an output: the document goes to standard output (to pipe a signed root or list to
/// another tool), and the messages about it to standard error.
fn is_stdout(path: &Path) -> bool {
    path.as_os_str() == "-"
}

/// How messages name an output.
fn shown(path: &Path) -> String {
    if is_stdout(path) {
        "standard output".into()
    } else {
        path.display().to_string()
    }
}

/// A message about `out`: on standard error when the document itself went to standard output.
fn say(out: &Path, text: std::fmt::Arguments<'_>) {
    if is_stdout(out) {
        airlock_verifier::console::err(text)
    } else {
        airlock_verifier::console::out(text)
    }
}

/// Writes the whole document to standard output; a failed write is an error (exit 2), never a
/// document silently cut short.
fn write_stdout(bytes: &[u8]) -> R<()> {
    use std::io::Write as _;
    let mut o = std::io::stdout().lock();
    o.write_all(bytes)
        .and_then(|()| o.flush())
        .map_err(|e| format!("writing to standard output failed: {e}"))
}

fn write_out(path: &Path, bytes: &[u8]) -> R<()> {
    if is_stdout(path) {
        return write_stdout(bytes);
    }
    if let Some(p) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        fsutil::create_dir(p)?;
    }
    fsutil::write_atomic(path, bytes)
}

/// Writes published material (a root, a list): a new file only, unless `force`.
fn publish_out(path: &Path, bytes: &[u8], force: bool) -> R<()> {
    if force || is_stdout(path) {
        return write_out(path, bytes);
    }
    if let Some(p) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        fsutil::create_dir(p)?;
    }
    fsutil::write_new(path, bytes)
}

/// Two different lists with one version make appliances reject the stick (rollback or
/// equivocation): a list of the same or a newer version at `out` is never replaced.
fn check_list_version(out: &Path, version: u64) -> R<()> {
    if is_stdout(out) {
        return Ok(());
    }
    let Ok(bytes) = std::fs::read(out) else {
        return Ok(());
    };
    let Ok(existing) = airlock_formats::document::revocations::Revocations::parse(&bytes) else {
        return Ok(());
    };
    let have = existing.payload.version;
    if have >= version {
        return Err(format!(
            "{} already holds revocation list version {have}; publishing version {version} there would make two different lists with one version (or go back); start the next version with --from {} (revoke or revocations add-artifact --draft NEW --from {})",
            out.display(),
            out.display(),
            out.display()
        ));
    }
    Ok(())
}

fn keygen(a: Keygen) -> R<()> {
    let nb = a.not_before.as_deref().map(ts).transpose()?;
    let na = a.not_after.as_deref().map(ts).transpose()?;
    KeyId::new(&a.key_id)?;
    fsutil::create_dir(&a.out_dir)?;
    let pub_path = a.out_dir.join(format!("{}.pub.json", a.key_id));
    if a.minisign {
        let m = MinisignKey::generate()?;
        let sk_path = a.out_dir.join(format!("{}.minisign.key", a.key_id));
        fsutil::write_private(&sk_path, m.secret_key_file()?.as_bytes())?;
        fsutil::write_atomic(
            &a.out_dir.join(format!("{}.minisign.pub", a.key_id)),
            m.public_key_file()?.as_bytes(),
        )?;
        fsutil::write_atomic(
            &pub_path,
            &to_pretty_json(&m.public_entry(&a.key_id, nb, na)?),
        )?;
        outln!("private (minisign, 0600): {}", sk_path.display());
        outln!("public key entry:         {}", pub_path.display());
        outln!("minisign public key:      {}", m.public_key_base64());
    } else {
        let k = PrivateKey::generate(&a.key_id)?;
        let sk_path = a.out_dir.join(format!("{}.key", a.key_id));
        k.write_private(&sk_path)?;
        fsutil::write_atomic(&pub_path, &to_pretty_json(&k.public_entry(nb, na)))?;
        outln!("private (0600):   {}", sk_path.display());
        outln!("public key entry: {}", pub_path.display());
        outln!("fingerprint:      {}", k.fingerprint());
    }
    outln!("Keep the private key outside any repository and bundle (a secret manager, or {SIGNING_KEY_ENV} at signing time).");
    Ok(())
}

fn print_root(st: &root::RootStatus, out: &Path) {
    say(
        out,
        format_args!("wrote {}\n{}", shown(out), root::describe(st)),
    );
}

/// `--issued-at`, or the clock.
fn issued_at(def: &RootDef) -> R<Timestamp> {
    match &def.issued_at {
        Some(t) => Ok(Timestamp::parse(t)?),
        None => Ok(Timestamp::now()),
    }
}

fn root_cmd(c: RootCmd) -> R<()> {
    match c {
        RootCmd::Create {
            out,
            version,
            def,
            sign,
            force,
        } => {
            let now = issued_at(&def)?;
            let content = RootContent {
                issued_at: now,
                expires: now.plus_seconds(def.expires_days * 86_400),
                keys: all_key_entries(&def)?,
                roles: roles(&def.roles)?,
                builders: def
                    .builders
                    .iter()
                    .map(|b| parse_builder(b))
                    .collect::<R<_>>()?,
                sigstore: sigstore_trusted_root(&def)?,
            };
            let keys = load_keys(&sign)?;
            let mut payload = root::payload(version, &content);
            payload.governance = def.governance.apply(None)?;
            let (env, st) = root::sign(&payload, &refs(&keys), None)?;
            publish_out(&out, &env, force)?;
            print_root(&st, &out);
        }
        RootCmd::Sign {
            file,
            sign,
            previous,
            out,
        } => {
            let keys = load_keys(&sign)?;
            let prev = previous.as_deref().map(read).transpose()?;
            let (env, st) = root::cosign(&read(&file)?, &refs(&keys), prev.as_deref())?;
            let out = out.unwrap_or(file);
            write_out(&out, &env)?;
            print_root(&st, &out);
        }
        RootCmd::Rotate {
            previous,
            out,
            remove_keys,
            def,
            sign,
            force,
        } => {
            let now = issued_at(&def)?;
            let changes = RootChanges {
                add_keys: all_key_entries(&def)?,
                remove_keys: remove_keys
                    .iter()
                    .map(|k| KeyId::new(k))
                    .collect::<Result<_, _>>()?,
                roles: roles(&def.roles)?,
                builders: if def.builders.is_empty() {
                    None
                } else {
                    Some(
                        def.builders
                            .iter()
                            .map(|b| parse_builder(b))
                            .collect::<R<_>>()?,
                    )
                },
                sigstore: sigstore_trusted_root(&def)?,
            };
            let keys = load_keys(&sign)?;
            let prev_bytes = read(&previous)?;
            let prev_gov = airlock_formats::document::trust_root::TrustRoot::parse(&prev_bytes)
                .map_err(|e| format!("previous root: {e}"))?
                .payload
                .governance;
            let governance = def.governance.apply(prev_gov)?;
            let (env, st) = root::rotate_with(
                &prev_bytes,
                &changes,
                now,
                now.plus_seconds(def.expires_days * 86_400),
                &refs(&keys),
                |p| p.governance = governance,
            )?;
            publish_out(&out, &env, force)?;
            print_root(&st, &out);
        }
        RootCmd::Show { file, previous } => {
            let prev = previous.as_deref().map(read).transpose()?;
            let st = root::status(&read(&file)?, prev.as_deref())?;
            outln!("{} (sha256 {})", file.display(), hex(&st.root.file_sha256));
            out!("{}", root::describe(&st));
        }
    }
    Ok(())
}

fn open_draft(d: &Draft) -> R<airlock_formats::document::revocations::RevocationsPayload> {
    if d.draft.exists() {
        if d.from.is_some() {
            return Err(format!(
                "{} exists already; --from only seeds a new draft",
                d.draft.display()
            ));
        }
        return revs::read_draft(&read(&d.draft)?);
    }
    let now = Timestamp::now();
    match &d.from {
        Some(f) => revs::next_draft(&read(f)?, now),
        None => Ok(revs::empty(1, now)),
    }
}

fn evidence_digest(s: &str) -> R<String> {
    let p = Path::new(s);
    if p.is_file() {
        return Ok(hex(&airlock_core::digest::sha256(&read(p)?)));
    }
    if s.len() == 64 && airlock_core::hex::decode::<32>(s.as_bytes()).is_ok() {
        return Ok(s.to_string());
    }
    Err(format!(
        "--replacement-evidence {s:?} is neither a file nor a lowercase hex SHA-256"
    ))
}

/// Refuses revoked key ids that `root` does not list: revoking a misspelt id publishes fine and
/// leaves the real key trusted.
fn check_revoked_ids_known<'a>(ids: impl IntoIterator<Item = &'a str>, root_path: &Path) -> R<()> {
    let root = airlock_formats::document::trust_root::TrustRoot::parse(&read(root_path)?)
        .map_err(|e| format!("{}: {e}", root_path.display()))?;
    for id in ids {
        if !root.payload.keys.iter().any(|k| k.key_id.as_str() == id) {
            return Err(format!(
                "key id {id:?} is not a key of the trust root {} (version {}): revoking it would leave the real key trusted; check the id (airlock-bundle root show {})",
                root_path.display(),
                root.payload.version,
                root_path.display()
            ));
        }
    }
    Ok(())
}

/// Days a revocation list stays valid when --expires-days is not given.
const DEFAULT_LIST_DAYS: i64 = 30;
/// Past this a list is "far future": worth a warning.
const FAR_LIST_DAYS: i64 = 90;

/// Checks --expires-days and says what the expiry means, with the date to re-issue by.
fn list_expiry(days: Option<i64>) -> R<(i64, Vec<String>)> {
    let mut notes = Vec::new();
    let days = match days {
        Some(d) if d <= 0 => {
            return Err(format!(
                "--expires-days {d}: a list must stay valid for at least one day"
            ))
        }
        Some(d) => d,
        None => {
            notes.push(format!(
                "note: --expires-days not given; the list is valid for the default {DEFAULT_LIST_DAYS} days (set it to your re-issue cadence)"
            ));
            DEFAULT_LIST_DAYS
        }
    };
    if days > FAR_LIST_DAYS {
        notes.push(format!(
            "warning: the list is valid for {days} days; until then an appliance that has not seen a newer list accepts this one, so a later revocation can be held back by replaying this stick's list"
        ));
    }
    Ok((days, notes))
}

/// The date to publish the next list by: a quarter of the validity before expiry, between one
/// and seven days.
fn reissue_by(issued: Timestamp, expires: Timestamp) -> Timestamp {
    let span = expires.unix().saturating_sub(issued.unix());
    expires.plus_seconds(-(span / 4).clamp(86_400.min(span), 7 * 86_400))
}

fn revoke(a: Revoke) -> R<()> {
    if let Some(root) = &a.root {
        check_revoked_ids_known([a.key_id.as_str()], root)?;
    }
    let mut d = open_draft(&a.draft)?;
    revs::add_key(
        &mut d,
        KeyRevocation {
            key_id: KeyId::new(&a.key_id)?,
            affected_versions: a.affected_versions,
            revoked_at: ts(&a.revoked_at)?,
            replacement_key_id: KeyId::new(&a.replacement_key_id)?,
            approver: a.approver,
            replacement_release_evidence_sha256: evidence_digest(&a.replacement_evidence)?,
            advisory: a.advisory,
            reason: a.reason,
        },
    )?;
    write_out(&a.draft.draft, &to_pretty_json(&d))?;
    outln!("updated draft {}", a.draft.draft.display());
    out!("{}", revs::describe(&d));
    outln!("Next: airlock-bundle revocations publish --draft {} --out revocations.json --sign REVOCATION_KEY --root ROOT", a.draft.draft.display());
    Ok(())
}

fn revocations_cmd(c: RevocationsCmd) -> R<()> {
    match c {
        RevocationsCmd::AddArtifact {
            draft,
            sha256,
            reason,
        } => {
            let mut d = open_draft(&draft)?;
            revs::add_artifact(&mut d, &sha256, &reason)?;
            write_out(&draft.draft, &to_pretty_json(&d))?;
            out!("{}", revs::describe(&d));
        }
        RevocationsCmd::Publish {
            draft,
            out,
            sign,
            root,
            expires_days,
            force,
        } => {
            let mut d = revs::read_draft(&read(&draft)?)?;
            check_list_version(&out, d.version)?;
            if let Some(root) = &root {
                check_revoked_ids_known(d.revoked_keys.iter().map(|k| k.key_id.as_str()), root)?;
            }
            let (expires_days, notes) = list_expiry(expires_days)?;
            let now = Timestamp::now();
            d.issued_at = now;
            d.expires = now.plus_seconds(expires_days * 86_400);
            let keys = load_keys(&sign)?;
            let root = root.as_deref().map(read).transpose()?;
            let env = revs::sign(&d, &refs(&keys), root.as_deref())?;
            publish_out(&out, &env, force)?;
            say(
                &out,
                format_args!(
                    "wrote {} (sha256 {})\n{}",
                    shown(&out),
                    hex(&airlock_core::digest::sha256(&env)),
                    revs::describe(&d)
                ),
            );
            say(
                &out,
                format_args!(
                    "This list expires at {}: from then on every appliance rejects every bundle until a newer list reaches it.\n",
                    d.expires
                ),
            );
            say(
                &out,
                format_args!(
                    "Publish version {} before {} (airlock-bundle revoke/revocations add-artifact --draft NEXT --from {}).\n",
                    d.version.saturating_add(1),
                    reissue_by(d.issued_at, d.expires),
                    if is_stdout(&out) { "THIS_LIST".into() } else { out.display().to_string() }
                ),
            );
            for n in &notes {
                errln!("{n}");
            }
        }
        RevocationsCmd::Show { file, root } => {
            let bytes = read(&file)?;
            match airlock_formats::document::revocations::Revocations::parse(&bytes) {
                Ok(l) => {
                    outln!("{} (sha256 {})", file.display(), hex(&l.file_sha256));
                    out!("{}", revs::describe(&l.payload));
                    if let Some(r) = root {
                        let (signed, t) = revs::tally(&bytes, &read(&r)?)?;
                        outln!(
                            "  signed by {} of {t} required revocation-role keys ({}){}",
                            signed.len(),
                            signed.join(", "),
                            if signed.len() >= t {
                                ""
                            } else {
                                "  <- NOT MET"
                            }
                        );
                    }
                }
                Err(_) => {
                    let d = revs::read_draft(&bytes)?;
                    outln!("{} (unsigned draft)", file.display());
                    out!("{}", revs::describe(&d));
                }
            }
        }
    }
    Ok(())
}

fn pack_cmd(a: Pack) -> R<()> {
    let (release_keys, location) = if a.release_keys.is_empty() && a.minisign_key.is_none() {
        (
            vec![PrivateKey::from_env(&a.key_id)?],
            format!("environment variable {SIGNING_KEY_ENV}, injected from the approved secret manager at signing time"),
        )
    } else {
        (
            a.release_keys
                .iter()
                .map(|s| {
                    let (id, path) = id_and_path(s);
                    // A PEM or bare seed without ID= signs as the active key.
                    PrivateKey::load(path, id).or_else(|e| {
                        if id.is_none() {
                            PrivateKey::load(path, Some(&a.key_id)).map_err(|_| e)
                        } else {
                            Err(e)
                        }
                    })
                })
                .collect::<R<Vec<_>>>()?,
            "a key file outside the repository and the bundle, provided at signing time"
                .to_string(),
        )
    };
    let out = Compression::output_path(
        a.out,
        a.compress.as_deref(),
        &format!("{}-{}", a.package, a.version),
    )?;
    if !a.force && std::fs::symlink_metadata(&out).is_ok() {
        return Err(format!(
            "{}: already exists; a bundle is never replaced silently (another --out, or --force)",
            out.display()
        ));
    }
    let opts = PackOptions {
        dist: a.dist,
        out,
        package: a.package,
        version: a.version,
        commit: a.commit,
        ref_: a.ref_,
        event: a.event,
        key_id: a.key_id,
        signing_required: a.signing_required,
        release_keys,
        minisign_key: a
            .minisign_key
            .as_deref()
            .map(MinisignKey::load)
            .transpose()?,
        provenance_keys: load_keys(&a.provenance_keys)?,
        builder_id: a.builder_id,
        source_repo: a.source_repo,
        workflow_path: a.workflow_path,
        trust_roots: a.trust_roots.iter().map(|p| read(p)).collect::<R<_>>()?,
        revocations: a.revocations.as_deref().map(read).transpose()?,
        custody: pack::custody(a.key_location.as_deref().unwrap_or(&location)),
        created_at: created_at()?,
        anchor: a.anchor.as_deref().map(read).transpose()?,
        sigstore: pack::SigstoreFiles {
            release: a.sigstore_bundle.as_deref().map(read).transpose()?,
            provenance: a.provenance_sigstore.as_deref().map(read).transpose()?,
        },
    };
    if let Some(path) = &a.write_checksums {
        let artifacts = pack::collect_artifacts(&opts.dist)?;
        let meta = pack::metadata(&opts, &artifacts)?;
        let sums = meta
            .get(pack::files::CHECKSUMS)
            .ok_or("no checksums.txt was made")?;
        write_out(path, sums)?;
        if !a.quiet {
            outln!(
                "wrote {} (sha256 {})",
                path.display(),
                hex(&airlock_core::digest::sha256(sums))
            );
        }
        return Ok(());
    }
    let terminal = progress::Terminal::for_stderr().filter(|_| !a.quiet);
    let report = match &terminal {
        Some(t) => pack::pack_with(&opts, t)?,
        None => pack::pack(&opts)?,
    };
    drop(terminal);
    if !a.quiet {
        out!("{}", pack::summary(&report));
    }
    Ok(())
}

/// `SOURCE_DATE_EPOCH` (reproducible builds) when set, else now.
fn created_at() -> R<Timestamp> {
    match std::env::var("SOURCE_DATE_EPOCH") {
        Ok(s) => s
            .trim()
            .parse::<i64>()
            .ok()
            .and_then(Timestamp::from_unix)
            .ok_or_else(|| format!("SOURCE_DATE_EPOCH {s:?} is not a Unix time")),
        Err(_) => Ok(Timestamp::now()),
    }
}

fn media_cmd(c: MediaCmd) -> R<()> {
    let (dir, anchor, bundles, trust_roots, revocations, force, scratch) = match c {
        MediaCmd::Demo { out } => {
            let layout = airlock_author::demo::prepare(&out)?;
            outln!("demo media: {}", layout.media.display());
            outln!("demo anchor: {}", layout.anchor.display());
            return Ok(());
        }
        MediaCmd::Prepare {
            media,
            anchor,
            bundles,
            trust_roots,
            revocations,
            force,
            scratch,
        } => (
            media,
            anchor,
            bundles,
            trust_roots,
            revocations,
            force,
            scratch,
        ),
    };
    let dry = airlock_author::precheck::dry_run(
        &scratch.unwrap_or_else(std::env::temp_dir),
        &dir,
        &anchor,
        &bundles,
        &trust_roots,
        revocations.as_deref(),
    )?;
    outln!(
        "dry run of the verifier against {} (no state, nothing written):",
        anchor.display()
    );
    for r in &dry.results {
        outln!("  {} {}", r.verdict, r.bundle);
        for why in &r.reasons {
            outln!("    {}: {}", why.code.as_str(), why.message);
        }
    }
    for p in &dry.problems {
        outln!("  problem: {p}");
    }
    let rejected = dry
        .results
        .iter()
        .filter(|r| r.verdict == airlock_verifier::verdict::Verdict::Reject)
        .count();
    if rejected > 0 || !dry.problems.is_empty() {
        let what = format!(
            "the appliance will reject {rejected} of the {} bundles this stick would carry{}",
            dry.results.len(),
            if dry.problems.is_empty() {
                ""
            } else {
                " and the run has problems"
            }
        );
        if !force {
            return Err(format!(
                "{what}; nothing was written (remove stale bundles from {}, fix or drop the rejected ones, or pass --force to write it anyway)",
                dir.join("inbox").display()
            ));
        }
        errln!("warning: {what}; writing anyway (--force)");
    }
    let r = media::prepare_media(
        &dir,
        &anchor,
        &bundles,
        &trust_roots,
        revocations.as_deref(),
    )?;
    outln!(
        "prepared {} (trust root version {}{})",
        dir.display(),
        r.trust_root_version,
        r.revocations_version
            .map(|v| format!(", revocation list version {v}"))
            .unwrap_or_default()
    );
    for w in &r.written {
        outln!("  {w}");
    }
    outln!(
        "Next: boot the appliance with this stick (to try it on a workstation: airlock verify --anchor {} --state SCRATCH_STATE {})",
        anchor.display(),
        dir.display()
    );
    Ok(())
}

fn receipt_cmd(c: ReceiptCmd) -> R<()> {
    let ReceiptCmd::Verify {
        receipt,
        key,
        appliances,
        json,
        format,
        image_sha256,
    } = c;
    let json = json || format.as_deref() == Some("json");
    let envelope = read(&receipt)?;
    // Unreadable inputs exit 2 (through the caller); a receipt that does not verify exits 1, as
    // `airlock receipt verify` does.
    let (verified, enrolled) = match (&appliances, &key) {
        (Some(file), _) => {
            let list = airlock_verifier::appliances::parse(&read(file)?)
                .map_err(|e| format!("{}: {e}", file.display()))?;
            (
                airlock_verifier::appliances::verify_receipt(&envelope, &list).map(|(p, _)| p),
                Some(file),
            )
        }
        (None, Some(key)) => {
            if key_beside_receipt(key, &receipt) {
                errln!(
                    "warning: {} sits on the medium that carries the receipt: any Airlock install could have written both; enrol your appliances and use --appliances",
                    key.display()
                );
            }
            (
                airlock_verifier::receipt::verify_receipt(&envelope, &read(key)?),
                None,
            )
        }
        (None, None) => return Err("give --appliances FILE (or --key)".into()),
    };
    let receipt_dir = receipt.parent().unwrap_or(Path::new("."));
    let checked = verified
        .and_then(|p| {
            airlock_verifier::receipt::verify_listing(&envelope, &p, receipt_dir).map(|()| p)
        })
        .and_then(|p| match &image_sha256 {
            Some(want) => p.require_image(want).map(|()| p),
            None => Ok(p),
        });
    let p = match checked {
        Ok(p) => p,
        Err(e) => {
            errln!(
                "airlock-bundle receipt: receipt {} does NOT verify: {e}",
                receipt.display()
            );
            std::process::exit(1);
        }
    };
    if json {
        out!("{}", String::from_utf8_lossy(&to_pretty_json(&p)));
        return Ok(());
    }
    outln!(
        "receipt OK: signed by appliance key {} (airlock {}){}",
        p.appliance.key_id,
        p.appliance.software_version,
        enrolled
            .map(|f| format!(", enrolled in {}", f.display()))
            .unwrap_or_else(|| ", the key given with --key".into())
    );
    let doc = |d: &airlock_verifier::receipt::DocumentRef| match (d.version, &d.sha256) {
        (Some(v), Some(h)) => format!("version {v} (sha256 {h})"),
        (Some(v), None) => format!("version {v}"),
        _ => "none".to_string(),
    };
    outln!("  trust root {}", doc(&p.trust_root));
    outln!("  revocation list {}", doc(&p.revocations));
    match &p.appliance.image {
        Some(i) => outln!(
            "  appliance image sha256 {} ({}; Secure Boot {})",
            i.sha256,
            i.build,
            if i.secure_boot { "on" } else { "off" }
        ),
        None => outln!("  appliance image: not named (not written by a booted appliance)"),
    }
    outln!(
        "  verdict: {} for {} ({} {}) at {}",
        p.verdict,
        p.bundle.file,
        p.package.as_deref().unwrap_or("?"),
        p.version.as_deref().unwrap_or("?"),
        p.verified_at
    );
    outln!(
        "  bundle sha256 {} ({} bytes)",
        p.bundle.sha256.as_deref().unwrap_or("unknown"),
        p.bundle.size
    );
    for r in &p.reasons {
        outln!("  reason {}: {}", r.code.as_str(), r.message);
    }
    for s in &p.signers {
        outln!("  signer {} [{}] {}", s.key_id, s.role, s.fingerprint);
    }
    outln!(
        "  evidence record seq {} (prev {})",
        p.evidence.seq,
        p.evidence.prev
    );
    Ok(())
}

/// Whether the key file lies in the media directory that holds the receipt (`MEDIA/receipts/X`
/// and `MEDIA/appliance-key.json`).
fn key_beside_receipt(key: &Path, receipt: &Path) -> bool {
    let canon = |p: &Path| std::fs::canonicalize(p).ok();
    let media = canon(receipt).and_then(|r| {
        r.parent()
            .filter(|d| d.file_name().is_some_and(|n| n == "receipts"))
            .and_then(Path::parent)
            .map(Path::to_path_buf)
    });
    let key_dir = canon(key).and_then(|k| k.parent().map(Path::to_path_buf));
    media.is_some() && media == key_dir
}

fn hint(cmd: &str, e: &str) -> &'static str {
    if e.contains(SIGNING_KEY_ENV) {
        "hint: export the release key (base64 seed or PEM) in CAVRA_GO_RELEASE_SIGNING_KEY, or pass --release-key FILE"
    } else if e.contains("carry a key id") {
        "hint: prefix the file with its key id: --sign root-a=root-a.pem"
    } else if e.contains("would reject") {
        "hint: compare the options with the trust root (airlock-bundle root show ROOT): key ids, builder id, source repository, ref pattern"
    } else if e.contains("threshold") || e.contains("would not count") {
        "hint: airlock-bundle root show FILE lists the role keys and thresholds"
    } else if cmd == "receipt" {
        "hint: --appliances is the site's list of enrolled appliance key entries (each appliance's appliance-key.json, recorded when it was set up)"
    } else if cmd == "pack" {
        "hint: airlock-bundle pack --help"
    } else {
        "hint: airlock-bundle --help"
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let (name, result) = match cli.cmd {
        Cmd::Keygen(a) => ("keygen", keygen(a)),
        Cmd::HmacKeygen(a) => ("hmac-keygen", governance::hmac_keygen(a)),
        Cmd::Governance(a) => ("governance", governance::governance(a)),
        Cmd::Root(c) => ("root", root_cmd(c)),
        Cmd::Revoke(a) => ("revoke", revoke(a)),
        Cmd::Revocations(c) => ("revocations", revocations_cmd(c)),
        Cmd::Pack(a) => ("pack", pack_cmd(*a)),
        Cmd::Media(c) => ("media", media_cmd(c)),
        Cmd::Receipt(c) => ("receipt", receipt_cmd(c)),
        Cmd::ApplianceKey(a) => ("appliance-key", enrol::appliance_key(a)),
    };
    let code = match result {
        Ok(()) => 0,
        Err(e) => {
            errln!("airlock-bundle {name}: error: {e}");
            errln!("{}", hint(name, &e));
            2
        }
    };
    airlock_verifier::console::finish("airlock-bundle", code)
}
