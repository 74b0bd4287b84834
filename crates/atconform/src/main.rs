//! `atconform`: conformance and fuzzing harness for the SMTP AT command sets of cellular modules.
//!
//! This binary only wires the library crates together: each subcommand lives in `cmd/<name>.rs`,
//! parses its flags with clap and hands a resolved configuration to a library crate.
#![forbid(unsafe_code)]

use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod cmd;

/// Protocol-conformance and fuzzing harness for cellular modules' SMTP AT commands.
#[derive(Debug, Parser)]
#[command(name = "atconform", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

/// The subcommands; each variant's arguments are defined in its own module.
#[derive(Debug, Subcommand)]
enum Command {
    // Subcommands are added here, one per module in `cmd/`.
    /// Run the capture SMTP sink (plain/STARTTLS/implicit TLS, provider profiles, faults, API).
    Sink(cmd::sink::Args),
    /// Emulate a module on a PTY or TCP port (reference behaviour, real SMTP delivery).
    Emulate(cmd::emulate::Args),
    /// Replay scenarios against a device or the built-in emulator and judge every byte.
    Run(cmd::run::Args),
    /// Conformance matrix (HTML + JSON) over several targets or saved runs.
    Report(cmd::report::Args),
    /// Compare two saved runs: verdict changes and byte diffs (exit 0 same, 1 changed).
    Diff(cmd::diff::Args),
    /// Regression baselines: record a run's grades per target and case, gate a saved run.
    Baseline(cmd::baseline::Args),
    /// Tap between an application and a module (PTY link), recording both directions.
    Record(cmd::record::Args),
    /// Scenario tools: `from-transcript` turns a recording into a scenario file, `show` prints
    /// an embedded scenario.
    Scenario(cmd::scenario::Args),
    /// Fuzz a module: catalog-driven cases, liveness oracle, findings shrunk to scenarios.
    Fuzz(cmd::fuzz::Args),
}

/// Exit code for usage errors and unreadable inputs (scenario files, flags).
pub const EXIT_USAGE: u8 = 2;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result: miette::Result<ExitCode> = match cli.command {
        Command::Sink(args) => cmd::sink::run(args),
        Command::Emulate(args) => cmd::emulate::run(args),
        Command::Run(args) => cmd::run::run(args),
        Command::Report(args) => cmd::report::run(args),
        Command::Diff(args) => cmd::diff::run(args),
        Command::Baseline(args) => cmd::baseline::run(args),
        Command::Record(args) => cmd::record::run(args),
        Command::Scenario(args) => cmd::scenario::run(args),
        Command::Fuzz(args) => cmd::fuzz::run(args),
    };
    match result {
        Ok(code) => code,
        Err(report) => {
            eprintln!("{report:?}");
            ExitCode::from(EXIT_USAGE)
        }
    }
}
