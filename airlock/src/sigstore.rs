//! `airlock sigstore verify-bundle`: one Sigstore bundle checked offline, with the argument
//! order of sigstore-conformance's CLI protocol (formats §9.4), so that suite's verification
//! cases run against Airlock. Exit 0 when the bundle is valid for the identity, 1 when it is not,
//! 2 when the inputs cannot be read.

use airlock_verifier::sigstore::{self as core, Signed};
use std::io::Read;
use std::path::{Path, PathBuf};

/// Largest artifact held in memory; a larger one is verified through its SHA-256.
const MAX_ARTIFACT_IN_MEMORY: u64 = 64 << 20;

/// What `verify-bundle` was asked.
pub struct VerifyBundle {
    pub staging: bool,
    pub bundle: PathBuf,
    pub identity: Option<String>,
    pub issuer: Option<String>,
    pub key: Option<PathBuf>,
    pub trusted_root: Option<PathBuf>,
    /// FILE_OR_DIGEST must be a digest.
    pub verify_digest: bool,
    pub file_or_digest: String,
}

/// Runs `verify-bundle`: `Ok(0)` valid, `Ok(1)` invalid, `Err` unreadable input.
pub fn verify_bundle(args: &VerifyBundle) -> Result<u8, String> {
    let root_json = match &args.trusted_root {
        Some(p) => read_bounded(p, core::MAX_JSON_BYTES as u64)?,
        None if args.staging => core::STAGING_TRUSTED_ROOT.as_bytes().to_vec(),
        None => core::PUBLIC_GOOD_TRUSTED_ROOT.as_bytes().to_vec(),
    };
    let verifier = match core::load_trusted_root(&root_json) {
        Ok(v) => v,
        Err(e) => return Ok(invalid(&e)),
    };
    let bundle_json = read_bounded(&args.bundle, core::MAX_JSON_BYTES as u64)?;
    let bundle = match core::parse_bundle(&bundle_json) {
        Ok(b) => b,
        Err(f) => return Ok(invalid(&f.to_string())),
    };
    let bytes;
    let digest = if args.verify_digest {
        let d = parse_digest(&args.file_or_digest).ok_or_else(|| {
            format!(
                "--verify-digest: {:?} is not sha256:<64 hex>",
                args.file_or_digest
            )
        })?;
        Some(d)
    } else {
        digest_argument(&args.file_or_digest)
    };
    let signed = match digest {
        Some(d) => Signed::Sha256(d),
        None => {
            let path = Path::new(&args.file_or_digest);
            match artifact(path)? {
                Artifact::Bytes(b) => {
                    bytes = b;
                    Signed::Bytes(&bytes)
                }
                Artifact::Digest(d) => Signed::Sha256(d),
            }
        }
    };
    if let Some(key) = &args.key {
        let pem = read_bounded(key, core::MAX_JSON_BYTES as u64)?;
        let pem = String::from_utf8(pem).map_err(|_| format!("{} is not UTF-8", key.display()))?;
        return Ok(
            match core::verify_with_key(&verifier, &bundle, signed, &pem) {
                Ok(()) => valid("the managed key"),
                Err(f) => invalid(&f.to_string()),
            },
        );
    }
    let (Some(identity), Some(issuer)) = (&args.identity, &args.issuer) else {
        return Err(
            "give --certificate-identity and --certificate-oidc-issuer, or --key".to_string(),
        );
    };
    let v = match core::verify_keyless(&verifier, &bundle, signed) {
        Ok(v) => v,
        Err(f) => return Ok(invalid(&f.to_string())),
    };
    if v.issuer() != *issuer {
        return Ok(invalid(&format!(
            "the certificate's OIDC issuer is {:?}, not {issuer:?}",
            v.issuer()
        )));
    }
    if v.subject() != *identity {
        return Ok(invalid(&format!(
            "the certificate's identity is {:?}, not {identity:?}",
            v.subject()
        )));
    }
    Ok(valid(&format!(
        "{} ({}), log index {}, certificate {}",
        v.subject(),
        v.issuer(),
        v.log_index(),
        v.fingerprint()
    )))
}

fn valid(who: &str) -> u8 {
    crate::outln!("OK: Sigstore bundle verified offline, signed by {who}");
    0
}

fn invalid(why: &str) -> u8 {
    eprintln!("airlock: {why}");
    1
}

/// `sha256:<64 lowercase or uppercase hex>` that is not a path on disk (the protocol's rule).
fn digest_argument(arg: &str) -> Option<[u8; 32]> {
    if Path::new(arg).exists() {
        return None;
    }
    parse_digest(arg)
}

/// `sha256:<64 hex>`.
fn parse_digest(arg: &str) -> Option<[u8; 32]> {
    let hex = arg.strip_prefix("sha256:")?;
    if hex.len() != 64 {
        return None;
    }
    let mut out = [0u8; 32];
    for (i, pair) in hex.as_bytes().chunks(2).enumerate() {
        let s = std::str::from_utf8(pair).ok()?;
        *out.get_mut(i)? = u8::from_str_radix(s, 16).ok()?;
    }
    Some(out)
}

enum Artifact {
    Bytes(Vec<u8>),
    Digest([u8; 32]),
}

/// The artifact's bytes, or its SHA-256 when it is too large to hold.
fn artifact(path: &Path) -> Result<Artifact, String> {
    let err = |e: std::io::Error| format!("cannot read {}: {e}", path.display());
    let mut f = std::fs::File::open(path).map_err(err)?;
    let len = f.metadata().map_err(err)?.len();
    if len <= MAX_ARTIFACT_IN_MEMORY {
        let mut b = Vec::new();
        f.read_to_end(&mut b).map_err(err)?;
        return Ok(Artifact::Bytes(b));
    }
    let mut h = airlock_core::digest::Sha256::new();
    let mut buf = vec![0u8; 1 << 16];
    loop {
        let n = f.read(&mut buf).map_err(err)?;
        if n == 0 {
            break;
        }
        h.update(buf.get(..n).unwrap_or_default());
    }
    Ok(Artifact::Digest(h.finalize()))
}

fn read_bounded(path: &Path, max: u64) -> Result<Vec<u8>, String> {
    let err = |e: std::io::Error| format!("cannot read {}: {e}", path.display());
    let f = std::fs::File::open(path).map_err(err)?;
    let mut b = Vec::new();
    f.take(max + 1).read_to_end(&mut b).map_err(err)?;
    if b.len() as u64 > max {
        return Err(format!("{} is larger than {max} bytes", path.display()));
    }
    Ok(b)
}
