//! The `airlock` command line: parse arguments, call the library, print. It adds hints, never
//! meaning.

pub mod console;
pub mod demo;
pub mod evidence;
pub mod output;

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
    let code = run_cli();
    console::finish(code)
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
        Command::Codes => {
            for c in crate::reason::Code::ALL {
                crate::outln!("{:<36} {}", c.as_str(), c.describe());
            }
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
                    crate::cli::console::out(format_args!("{}", output::human_report(&report)))
                }
            }
            report.exit_code()
        }
        Err(e) => {
            crate::errln!("airlock: {}", crate::escape::text(&e.to_string()));
            2
        }
    }
}

fn finish(r: Result<u8, String>) -> u8 {
    match r {
        Ok(code) => code,
        Err(e) => {
            crate::errln!("airlock: {}", crate::escape::text(&e.to_string()));
            2
        }
    }
}
