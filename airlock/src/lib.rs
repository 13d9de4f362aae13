//! The `airlock` command line: parse arguments, call the library, print. It adds hints, never
//! meaning.

pub use airlock_verifier::console;
pub use airlock_verifier::{errln, outln};
#[cfg(feature = "demo")]
mod demo;
pub mod evidence;
pub mod output;
pub mod sigstore;
pub mod vault;

use airlock_verifier::run::{self, VerifyOptions, WriteMode};
use clap::{Parser, Subcommand, ValueEnum};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// Airlock: offline release verification.
#[derive(Parser)]
#[command(name = "airlock", version, about, long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

/// The command line as clap sees it: man pages and shell completions are generated from it
/// (tests/src/bin/gen-manual.rs).
pub fn command() -> clap::Command {
    <Cli as clap::CommandFactory>::command()
}

#[derive(Clone, Copy, ValueEnum)]
enum Format {
    Human,
    Json,
}

#[derive(Subcommand)]
enum Command {
    /// Verify the bundles on a medium; write receipts and evidence back.
    Verify {
        /// The trust root trusted out of band (default: STATE/anchor.json).
        #[arg(long, conflicts_with = "anchor_sha256")]
        anchor: Option<PathBuf>,
        /// Trust the trust-root file on the media whose SHA-256 is this (lowercase hex).
        #[arg(long, value_name = "HEX")]
        anchor_sha256: Option<String>,
        /// The appliance's state directory (default: $AIRLOCK_STATE or /var/lib/airlock).
        #[arg(long)]
        state: Option<PathBuf>,
        /// Output format.
        #[arg(long, value_enum, default_value = "human")]
        format: Format,
        /// Dry run: write nothing to the media or the state.
        #[arg(long)]
        no_write: bool,
        /// The media root.
        media: PathBuf,
        /// Bundles to verify, relative to MEDIA (default: every bundle in MEDIA/inbox/).
        bundles: Vec<String>,
    },
    /// Evidence log commands.
    Evidence {
        #[command(subcommand)]
        command: EvidenceCommand,
    },
    /// The HMAC vault (STATE/hmac-keys/): secrets for governance evidence and runner claims.
    Vault {
        #[command(subcommand)]
        command: VaultCommand,
    },
    /// Receipt commands.
    Receipt {
        #[command(subcommand)]
        command: ReceiptCommand,
    },
    /// Write a promoted bundle's artifacts into a new directory: the receipt is checked against
    /// the appliance key, the bundle must be the one it promoted (SHA-256), every file's digest
    /// is checked as it is written; no links, no overwrite, the tree appears only when complete.
    Extract {
        /// The bundle file (as verified; read once more, by Airlock's own walk).
        bundle: PathBuf,
        /// Its promote receipt (MEDIA/receipts/<bundle>.promote.receipt.json).
        #[arg(long)]
        receipt: PathBuf,
        /// The appliance's public key entry, known out of band (not a copy from the stick that
        /// carries the receipt).
        #[arg(
            long,
            required_unless_present = "appliances",
            conflicts_with = "appliances"
        )]
        key: Option<PathBuf>,
        /// The site's enrolled appliances (a JSON array of appliance key entries): the receipt
        /// must be signed by one of them.
        #[arg(long, value_name = "FILE")]
        appliances: Option<PathBuf>,
        /// The directory to create (it must not exist).
        #[arg(long)]
        out: PathBuf,
    },
    /// Run the whole flow on a built-in demo in a temporary directory.
    #[cfg(feature = "demo")]
    Demo {
        /// Only write the demo media and anchor into DIR; verify nothing.
        #[arg(long, value_name = "DIR")]
        prepare: Option<PathBuf>,
        /// The release-governance demo instead: a governed release promoted, one run by the
        /// wrong workflow rejected.
        #[arg(long, conflicts_with = "prepare")]
        governance: bool,
    },
    /// List the rejection reason codes and what they mean.
    Codes {
        /// Output format (json: `{"schema_version": 1, "codes": [{"code", "description"}]}`).
        #[arg(long, value_enum, default_value = "human")]
        format: Format,
    },
    /// Sigstore bundle commands (offline).
    Sigstore {
        #[command(subcommand)]
        command: SigstoreCommand,
    },
}

#[derive(Subcommand)]
enum SigstoreCommand {
    /// Verify one Sigstore bundle offline (sigstore-conformance CLI protocol); exit 0 when valid.
    VerifyBundle {
        /// Use the public-good staging trusted root when no --trusted-root is given.
        #[arg(long)]
        staging: bool,
        /// The Sigstore bundle (v0.1 to v0.3).
        #[arg(long)]
        bundle: PathBuf,
        /// The expected identity: the certificate's SAN (URI or email), exactly.
        #[arg(long, requires = "certificate_oidc_issuer", conflicts_with = "key")]
        certificate_identity: Option<String>,
        /// The expected OIDC issuer of the certificate, exactly.
        #[arg(long, requires = "certificate_identity", conflicts_with = "key")]
        certificate_oidc_issuer: Option<String>,
        /// A PEM public key, for a managed-key bundle instead of an identity.
        #[arg(long, required_unless_present = "certificate_identity")]
        key: Option<PathBuf>,
        /// The Sigstore trusted_root.json (default: the public-good root built in).
        #[arg(long)]
        trusted_root: Option<PathBuf>,
        /// FILE_OR_DIGEST is a digest (the protocol's flag before sigstore-conformance #162).
        #[arg(long)]
        verify_digest: bool,
        /// The signed file, or `sha256:<hex>` of it (a DSSE statement's subject).
        file_or_digest: String,
    },
}

#[derive(Subcommand)]
enum EvidenceCommand {
    /// Check a hash-chained evidence log and its signatures and print the result (the report is
    /// written only to --out). A release-governance log (release-governance-evidence.jsonl, or a directory holding
    /// .cavra/go-daemon/) is checked with HMAC secrets and gets
    /// release-governance-evidence-verification.json.
    Verify {
        /// A media root (its evidence/airlock-evidence.jsonl), a log file, or a governance log.
        media_or_log: PathBuf,
        /// The appliance's public key entry (appliance-key.json), for the appliance's logs.
        #[arg(
            long,
            required_unless_present_any = ["appliances", "hmac_key", "state", "trust_root"],
            conflicts_with = "appliances"
        )]
        key: Option<PathBuf>,
        /// The site's enrolled appliances (a JSON array of appliance key entries): the log and
        /// every receipt beside it must be signed by one of them.
        #[arg(long, value_name = "FILE")]
        appliances: Option<PathBuf>,
        /// A governance HMAC secret, ID=FILE (repeatable).
        #[arg(long, value_name = "ID=FILE")]
        hmac_key: Vec<String>,
        /// A state directory: its vault (STATE/hmac-keys/) holds the governance secrets; a
        /// media log (and its receipts) is also checked against its evidence.jsonl, the
        /// appliance's own log.
        #[arg(long)]
        state: Option<PathBuf>,
        /// Judge governance keys by this trust root (roles, windows, secret_sha256).
        #[arg(long, value_name = "FILE")]
        trust_root: Option<PathBuf>,
        /// Where to write the report. An appliance or media log's report is written only here;
        /// a governance report defaults to beside the log, under the first free name (a
        /// published report already there is compared, not replaced).
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
    },
}

#[derive(Subcommand)]
enum VaultCommand {
    /// Install an HMAC secret as STATE/hmac-keys/KEY_ID (0600); prints only its SHA-256.
    Add {
        /// The key id the trust root gives the secret.
        key_id: String,
        /// The file holding the secret (one trailing LF ignored).
        file: PathBuf,
        /// The appliance's state directory (default: $AIRLOCK_STATE or /var/lib/airlock).
        #[arg(long)]
        state: Option<PathBuf>,
    },
}

#[derive(Subcommand)]
enum ReceiptCommand {
    /// Check a receipt's signature and print its payload.
    Verify {
        /// The receipt file.
        receipt: PathBuf,
        /// The appliance's public key entry (appliance-key.json), known out of band.
        #[arg(
            long,
            required_unless_present = "appliances",
            conflicts_with = "appliances"
        )]
        key: Option<PathBuf>,
        /// The site's enrolled appliances (a JSON array of appliance key entries): the receipt
        /// must be signed by one of them.
        #[arg(long, value_name = "FILE")]
        appliances: Option<PathBuf>,
        /// Require the receipt to name this appliance image (hex SHA-256 of its BOOTX64.EFI, as
        /// image/build prints it).
        #[arg(long, value_name = "HEX")]
        image_sha256: Option<String>,
    },
}

/// Runs the command line.
pub fn main() -> ExitCode {
    let code = run_cli();
    console::finish("airlock", code)
}

fn run_cli() -> u8 {
    let cli = Cli::parse();
    match cli.command {
        Command::Verify {
            anchor,
            anchor_sha256,
            state,
            format,
            no_write,
            media,
            bundles,
        } => {
            let opts = VerifyOptions {
                media,
                bundles,
                anchor,
                anchor_sha256,
                state_dir: state.unwrap_or_else(run::default_state_dir),
                write: if no_write {
                    WriteMode::DryRun
                } else {
                    WriteMode::Write
                },
                image: None,
            };
            verify(&opts, format)
        }
        Command::Evidence {
            command:
                EvidenceCommand::Verify {
                    media_or_log,
                    key,
                    appliances,
                    hmac_key,
                    state,
                    trust_root,
                    out,
                },
        } => match (
            evidence::governance_log(&media_or_log),
            key.as_deref()
                .map(evidence::Signer::Key)
                .or(appliances.as_deref().map(evidence::Signer::Enrolled)),
        ) {
            (Some(log), Some(_)) => finish(Err(format!(
                "{} is a governance evidence log: its records are checked with the trust root's \
                 evidence keys (--hmac-key, --state, --trust-root), not with an appliance key; \
                 leave out --key and --appliances",
                log.display()
            ))),
            (Some(log), None) => finish(evidence::verify_governance(
                &log,
                &evidence::GovernanceKeys {
                    state: state.as_deref(),
                    hmac_keys: &hmac_key,
                    trust_root: trust_root.as_deref(),
                    out: out.as_deref(),
                },
            )),
            (None, Some(signer)) => finish(evidence::verify(
                &media_or_log,
                signer,
                state.as_deref(),
                out.as_deref(),
            )),
            (None, None) => finish(Err(format!(
                "{} is not a governance evidence log; the appliance's logs need --key or --appliances",
                media_or_log.display()
            ))),
        },
        Command::Vault {
            command:
                VaultCommand::Add {
                    key_id,
                    file,
                    state,
                },
        } => finish(vault::add(
            &state.unwrap_or_else(run::default_state_dir),
            &key_id,
            &file,
        )),
        Command::Receipt {
            command:
                ReceiptCommand::Verify {
                    receipt,
                    key,
                    appliances,
                    image_sha256,
                },
        } => finish(match (appliances, key) {
            (Some(list), _) => {
                evidence::verify_receipt_enrolled(&receipt, &list, image_sha256.as_deref())
            }
            (None, Some(key)) => evidence::verify_receipt(&receipt, &key, image_sha256.as_deref()),
            (None, None) => Err("give --appliances FILE or --key FILE".into()),
        }),
        Command::Extract {
            bundle,
            receipt,
            key,
            appliances,
            out,
        } => finish(extract(
            &bundle,
            &receipt,
            key.as_deref(),
            appliances.as_deref(),
            &out,
        )),
        #[cfg(feature = "demo")]
        Command::Demo {
            governance: true, ..
        } => finish(demo::run_governed()),
        #[cfg(feature = "demo")]
        Command::Demo { prepare, .. } => finish(demo::run(prepare.as_deref())),
        Command::Sigstore {
            command:
                SigstoreCommand::VerifyBundle {
                    staging,
                    bundle,
                    certificate_identity,
                    certificate_oidc_issuer,
                    key,
                    trusted_root,
                    verify_digest,
                    file_or_digest,
                },
        } => finish(sigstore::verify_bundle(&sigstore::VerifyBundle {
            staging,
            bundle,
            identity: certificate_identity,
            issuer: certificate_oidc_issuer,
            key,
            trusted_root,
            verify_digest,
            file_or_digest,
        })),
        Command::Codes {
            format: Format::Human,
        } => {
            for c in airlock_formats::reason::Code::ALL {
                crate::outln!("{:<36} {}", c.as_str(), c.describe());
            }
            0
        }
        Command::Codes {
            format: Format::Json,
        } => {
            let codes: Vec<serde_json::Value> = airlock_formats::reason::Code::ALL
                .iter()
                .map(|c| serde_json::json!({"code": c.as_str(), "description": c.describe()}))
                .collect();
            let doc =
                serde_json::json!({"schema_version": output::JSON_SCHEMA_VERSION, "codes": codes});
            crate::outln!("{}", serde_json::to_string_pretty(&doc).unwrap_or_default());
            0
        }
    }
}

fn verify(opts: &VerifyOptions, format: Format) -> u8 {
    let progress = output::ConsoleProgress::new();
    match run::verify_media_confined(opts, &progress) {
        Ok((report, confinement)) => {
            for w in &confinement.warnings {
                crate::errln!("airlock: warning: {w}");
            }
            match format {
                Format::Json => crate::outln!("{}", output::json_report(&report)),
                Format::Human => {
                    crate::console::out(format_args!("{}", output::human_report(&report)))
                }
            }
            report.exit_code()
        }
        Err(e) => {
            crate::errln!(
                "airlock: {}",
                airlock_verifier::escape::text(&e.to_string())
            );
            2
        }
    }
}

fn extract(
    bundle: &Path,
    receipt: &Path,
    key: Option<&Path>,
    appliances: Option<&Path>,
    out: &Path,
) -> Result<u8, String> {
    let read = |p: &Path| {
        airlock_verifier::media::read_capped(p, airlock_verifier::receipt::MAX_RECEIPT_BYTES as u64)
            .map_err(|e| format!("{} {e}", p.display()))
    };
    let envelope = read(receipt)?;
    let payload = match (appliances, key) {
        (Some(file), _) => {
            let list = airlock_verifier::appliances::parse(&read(file)?)
                .map_err(|e| format!("{}: {e}", file.display()))?;
            airlock_verifier::appliances::verify_receipt(&envelope, &list)
                .map_err(|e| format!("receipt: {e}"))?
                .0
        }
        (None, Some(key)) => airlock_verifier::receipt::verify_receipt(&envelope, &read(key)?)
            .map_err(|e| format!("receipt: {e}"))?,
        (None, None) => return Err("give --appliances FILE or --key FILE".into()),
    };
    let x = airlock_verifier::extract::extract_verified(bundle, &payload, out)?;
    crate::outln!(
        "extracted {} {} into {}: {} files, {} bytes ({} executable), each checked against the receipt",
        x.package.as_deref().unwrap_or("?"),
        x.version.as_deref().unwrap_or("?"),
        x.out.display(),
        x.files,
        x.bytes,
        x.executables
    );
    Ok(0)
}

fn finish(r: Result<u8, String>) -> u8 {
    match r {
        Ok(code) => code,
        Err(e) => {
            crate::errln!(
                "airlock: {}",
                airlock_verifier::escape::text(&e.to_string())
            );
            2
        }
    }
}
