//! `atconform diff RUN_A RUN_B`: verdict changes and byte-level exchange diffs between two runs,
//! ignoring the values scenarios mark as varying. Exit code 0 same, 1 changed, 2 usage.

use std::path::PathBuf;
use std::process::ExitCode;

use at_report::diff::RunDiff;
use at_report::load::Run;
use miette::miette;

/// Compare two saved runs (`atconform run --out DIR` run directories).
#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// The reference run (directory or its report.json).
    run_a: PathBuf,
    /// The run to compare with it.
    run_b: PathBuf,
    /// Scenario files or directories the runs used (default: the embedded corpus).
    #[arg(long, value_name = "PATH")]
    scenarios: Vec<PathBuf>,
    /// Print JSON instead of text.
    #[arg(long)]
    json: bool,
}

/// Runs the subcommand.
pub fn run(args: Args) -> miette::Result<ExitCode> {
    let a = Run::load(&args.run_a).map_err(|e| miette!("{e}"))?;
    let b = Run::load(&args.run_b).map_err(|e| miette!("{e}"))?;
    let corpus = if args.scenarios.is_empty() {
        at_runner::corpus::embedded()
    } else {
        at_runner::corpus::load_paths(&args.scenarios)
    }
    .map_err(|e| miette!("{e}"))?;
    let d = RunDiff::compare(&a, &b, &corpus);
    if args.json {
        super::run::print(&format!("{}\n", d.to_json()))?;
    } else {
        super::run::print(&d.to_text())?;
    }
    Ok(ExitCode::from(u8::from(d.is_changed())))
}
