//! `airlock-bundle hmac-keygen`, the trust-root governance options and `airlock-bundle
//! governance` (the CAVRA daemon's `.cavra/go-daemon/` files), formats §8. Secrets are read from
//! the `CAVRA_*` environment variables or files and never printed: only their SHA-256 and where
//! they went.

use airlock_author::fsutil;
use airlock_author::governance::{
    self as gov, DaemonRun, RunnerAuth, EVIDENCE_KEY_ENV, EVIDENCE_KEY_ID_ENV, OIDC_TOKEN_ENV,
    RUNNER_KEY_ENV, RUNNER_KEY_ID_ENV,
};
use airlock_formats::document::dsse::to_pretty_json;
use airlock_formats::document::governance_pins::GovernancePolicy;
use airlock_formats::keys::{KeyId, MAX_HMAC_WINDOW_SECONDS};
use airlock_formats::timestamp::Timestamp;
use airlock_verifier::outln;
use clap::Args;
use serde_json::{Map, Value};
use std::path::PathBuf;

type R<T> = Result<T, String>;

fn read(p: &std::path::Path) -> R<Vec<u8>> {
    std::fs::read(p).map_err(|e| format!("{}: {e}", p.display()))
}

/// `hmac-keygen`.
#[derive(Args)]
pub struct HmacKeygen {
    /// Key id (time-scoped by convention: ci-evidence-2026-q2, ci-runner-2026-q2).
    #[arg(long)]
    key_id: String,
    /// Directory to write ID.hmac-secret (0600) and ID.pub.json into.
    #[arg(long, default_value = ".")]
    out_dir: PathBuf,
    /// Start of the key's window (RFC 3339 UTC; default now).
    #[arg(long)]
    not_before: Option<String>,
    /// Length of the window in days (at most 123: a quarter plus a 31-day overlap).
    #[arg(long, default_value_t = 123)]
    days: i64,
}

/// Generates an HMAC secret and its trust-root entry.
pub fn hmac_keygen(a: HmacKeygen) -> R<()> {
    let id = KeyId::new(&a.key_id)?;
    let nb = match &a.not_before {
        Some(t) => Timestamp::parse(t)?,
        None => Timestamp::now(),
    };
    if a.days < 1 || a.days * 86_400 > MAX_HMAC_WINDOW_SECONDS {
        return Err("--days must be between 1 and 123".into());
    }
    let secret = gov::generate_secret()?;
    fsutil::create_dir(&a.out_dir)?;
    let sk = a.out_dir.join(format!("{id}.hmac-secret"));
    let entry = a.out_dir.join(format!("{id}.pub.json"));
    fsutil::write_private(&sk, secret.expose())?;
    let e = gov::hmac_entry(&id, &secret, nb, nb.plus_seconds(a.days * 86_400));
    fsutil::write_atomic(&entry, &to_pretty_json(&e))?;
    outln!("secret (0600):    {}", sk.display());
    outln!("key entry:        {}", entry.display());
    outln!("secret_sha256:    {}", secret.sha256_hex());
    outln!("Put the secret in the CI secret store ({RUNNER_KEY_ENV} or {EVIDENCE_KEY_ENV}) and in the appliance's vault (airlock vault add {id} FILE, or image/build --hmac-key {id}=FILE); then delete this file.");
    Ok(())
}

/// Governance pins for `root create` / `root rotate`.
#[derive(Args, Default)]
pub struct GovernanceDef {
    /// A pinned OIDC provider: ISSUER,AUDIENCE,JWKS_FILE (the JWKS is carried in the root;
    /// refresh it with a rotation); repeat. Any governance option makes the root require
    /// governance evidence.
    #[arg(long = "oidc", value_name = "ISSUER,AUDIENCE,JWKS_FILE")]
    oidc: Vec<String>,
    /// A pinned runner claim, NAME=GLOB (`*` the only special character); repeat.
    #[arg(long = "pin-claim", value_name = "NAME=GLOB")]
    pin_claims: Vec<String>,
    /// The claim that must equal the release's commit (default sha).
    #[arg(long)]
    commit_claim: Option<String>,
    /// The claim that must equal the release's ref (default ref).
    #[arg(long)]
    ref_claim: Option<String>,
}

impl GovernanceDef {
    fn given(&self) -> bool {
        !self.oidc.is_empty()
            || !self.pin_claims.is_empty()
            || self.commit_claim.is_some()
            || self.ref_claim.is_some()
    }

    /// The governance object: `previous` with the options given applied (None when no option
    /// is given and there was none).
    pub fn apply(&self, previous: Option<GovernancePolicy>) -> R<Option<GovernancePolicy>> {
        if !self.given() {
            return Ok(previous);
        }
        let mut g = previous.unwrap_or(GovernancePolicy {
            oidc: vec![],
            claims: Default::default(),
            commit_claim: "sha".into(),
            ref_claim: "ref".into(),
        });
        if !self.oidc.is_empty() {
            g.oidc = self
                .oidc
                .iter()
                .map(|s| {
                    let [iss, aud, jwks] = s.splitn(3, ',').collect::<Vec<_>>()[..] else {
                        return Err(format!("--oidc {s:?} is not ISSUER,AUDIENCE,JWKS_FILE"));
                    };
                    gov::provider(iss, aud, &read(std::path::Path::new(jwks))?)
                })
                .collect::<R<_>>()?;
        }
        if !self.pin_claims.is_empty() {
            g.claims = self
                .pin_claims
                .iter()
                .map(|s| {
                    s.split_once('=')
                        .map(|(n, v)| (n.to_owned(), v.to_owned()))
                        .ok_or_else(|| format!("--pin-claim {s:?} is not NAME=GLOB"))
                })
                .collect::<R<_>>()?;
        }
        if let Some(c) = &self.commit_claim {
            g.commit_claim = c.clone();
        }
        if let Some(c) = &self.ref_claim {
            g.ref_claim = c.clone();
        }
        g.validate()?;
        Ok(Some(g))
    }
}

/// `governance`: the daemon side.
#[derive(Args)]
pub struct Governance {
    /// The dist directory; the files go to DIST/.cavra/go-daemon/, where `pack` finds them.
    #[arg(long)]
    dist: PathBuf,
    /// Package.
    #[arg(long, default_value = "cavra-go-runtime")]
    package: String,
    /// Version (v-prefixed).
    #[arg(long)]
    version: String,
    /// Source commit (40 hex).
    #[arg(long)]
    commit: String,
    /// SHA-256 of the CAVRA runtime the runner verified before use.
    #[arg(long)]
    runtime_sha256: String,
    /// A governance check and its outcome, ID=pass or ID=fail; repeat.
    #[arg(long = "check", value_name = "ID=pass|fail", required = true)]
    checks: Vec<String>,
    /// The OIDC JWT file (else the JWT in CAVRA_RUNNER_AUTH_OIDC_TOKEN; else HMAC runner claims
    /// from --claims, signed with CAVRA_RUNNER_AUTH_HMAC_KEY / CAVRA_RUNNER_AUTH_KEY_ID).
    #[arg(long)]
    jwt_file: Option<PathBuf>,
    /// Keep the JWT in the bundle (runner-oidc-token.jwt); by default it is redacted.
    #[arg(long)]
    retain_token: bool,
    /// HMAC mode: the runner claims (a JSON object with iss, sub, repository, workflow_ref, ref,
    /// sha, iat, ...).
    #[arg(long)]
    claims: Option<PathBuf>,
}

fn key_id_env(var: &str) -> R<KeyId> {
    Ok(KeyId::new(
        &std::env::var(var).map_err(|_| format!("{var} is not set"))?,
    )?)
}

/// Writes the daemon's files.
pub fn governance(a: Governance) -> R<()> {
    let evidence_secret = gov::secret_from_env(EVIDENCE_KEY_ENV)?;
    let evidence_key_id = key_id_env(EVIDENCE_KEY_ID_ENV)?;
    let jwt = match &a.jwt_file {
        Some(p) => Some(
            String::from_utf8(read(p)?)
                .map_err(|_| format!("{}: not ASCII", p.display()))?
                .trim_end_matches('\n')
                .to_owned(),
        ),
        None => std::env::var(OIDC_TOKEN_ENV).ok().filter(|t| !t.is_empty()),
    };
    let runner_secret;
    let auth = match (&jwt, &a.claims) {
        (Some(jwt), _) => RunnerAuth::Oidc {
            jwt,
            retain: a.retain_token,
        },
        (None, Some(p)) => {
            runner_secret = gov::secret_from_env(RUNNER_KEY_ENV)?;
            let claims: Map<String, Value> = airlock_formats::json::parse(&read(p)?)
                .map_err(|e| format!("{}: {e}", p.display()))?;
            RunnerAuth::Hmac {
                claims,
                key_id: key_id_env(RUNNER_KEY_ID_ENV)?,
                secret: &runner_secret,
            }
        }
        (None, None) => {
            return Err(format!(
                "no runner identity: give --jwt-file (or {OIDC_TOKEN_ENV}) or --claims with {RUNNER_KEY_ENV}"
            ))
        }
    };
    let checks = a
        .checks
        .iter()
        .map(|c| match c.rsplit_once('=') {
            Some((id, "pass")) => Ok((id.to_owned(), true)),
            Some((id, "fail")) => Ok((id.to_owned(), false)),
            _ => Err(format!("--check {c:?} is not ID=pass or ID=fail")),
        })
        .collect::<R<_>>()?;
    let files = gov::daemon_files(&DaemonRun {
        package: &a.package,
        version: &a.version,
        commit: &a.commit,
        runtime_sha256: &a.runtime_sha256,
        checks,
        auth,
        evidence_key_id,
        evidence_secret: &evidence_secret,
        time: Timestamp::now(),
    })?;
    for (name, bytes) in &files {
        let path = a.dist.join(name);
        if let Some(dir) = path.parent() {
            fsutil::create_dir(dir)?;
        }
        fsutil::write_atomic(&path, bytes)?;
        outln!("wrote {}", path.display());
    }
    Ok(())
}
