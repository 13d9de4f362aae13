//! The `airlock` command line: parse arguments, call the library, print. It adds hints, never
//! meaning.

pub mod demo;
pub mod evidence;
pub mod output;
pub mod sigstore;

use crate::run::{self, VerifyOptions, WriteMode};
use clap::{Parser, Subcommand, ValueEnum};
use std::path::PathBuf;
use std::process::ExitCode;

/// Airlock: offline release verification.
#[derive(Parser)]
#[command(name = "airlock", version, about, long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
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
    /// Receipt commands.
    Receipt {
        #[command(subcommand)]
        command: ReceiptCommand,
    },
    /// Run the whole flow on a built-in demo in a temporary directory.
    Demo {
        /// Only write the demo media and anchor into DIR; verify nothing.
        #[arg(long, value_name = "DIR")]
        prepare: Option<PathBuf>,
    },
    /// List the rejection reason codes and what they mean.
    Codes,
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
    /// Check a hash-chained evidence log and its signatures; write a verification report.
    Verify {
        /// A media root (its evidence/airlock-evidence.jsonl) or a log file.
        media_or_log: PathBuf,
        /// The appliance's public key entry (appliance-key.json).
        #[arg(long)]
        key: PathBuf,
    },
}

#[derive(Subcommand)]
enum ReceiptCommand {
    /// Check a receipt's signature and print its payload.
    Verify {
        /// The receipt file.
        receipt: PathBuf,
        /// The appliance's public key entry (appliance-key.json).
        #[arg(long)]
        key: PathBuf,
    },
}

/// Runs the command line.
pub fn main() -> ExitCode {
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
            };
            verify(&opts, format)
        }
        Command::Evidence {
            command: EvidenceCommand::Verify { media_or_log, key },
        } => finish(evidence::verify(&media_or_log, &key)),
        Command::Receipt {
            command: ReceiptCommand::Verify { receipt, key },
        } => finish(evidence::verify_receipt(&receipt, &key)),
        Command::Demo { prepare } => finish(demo::run(prepare.as_deref())),
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
        Command::Codes => {
            for c in crate::reason::Code::ALL {
                println!("{:<36} {}", c.as_str(), c.describe());
            }
            ExitCode::SUCCESS
        }
    }
}

fn verify(opts: &VerifyOptions, format: Format) -> ExitCode {
    let progress = output::ConsoleProgress::new();
    match run::verify_media(opts, &progress) {
        Ok(report) => {
            match format {
                Format::Json => println!("{}", output::json_report(&report)),
                Format::Human => print!("{}", output::human_report(&report)),
            }
            ExitCode::from(report.exit_code())
        }
        Err(e) => {
            eprintln!("airlock: {e}");
            ExitCode::from(2)
        }
    }
}

fn finish(r: Result<u8, String>) -> ExitCode {
    match r {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            eprintln!("airlock: {e}");
            ExitCode::from(2)
        }
    }
}
