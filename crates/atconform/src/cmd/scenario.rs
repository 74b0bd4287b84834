//! `atconform scenario from-transcript`: a recorded transcript as a scenario file.

use std::path::PathBuf;
use std::process::ExitCode;

use miette::miette;

/// Work with scenario files.
#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    what: What,
}

#[derive(Debug, Clone, clap::Subcommand)]
enum What {
    /// Convert a transcript (`atconform record`, or a run's transcript file) into a scenario.
    FromTranscript(FromArgs),
}

#[derive(Debug, Clone, clap::Args)]
struct FromArgs {
    /// The transcript file.
    transcript: PathBuf,
    /// The module profile the scenario applies to.
    #[arg(long, value_name = "PROFILE")]
    profile: String,
    /// Scenario title (default: the file name).
    #[arg(long)]
    title: Option<String>,
    /// Output file (default: standard output).
    #[arg(long, short, value_name = "FILE")]
    out: Option<PathBuf>,
}

/// Runs the subcommand.
pub fn run(args: Args) -> miette::Result<ExitCode> {
    let What::FromTranscript(a) = args.what;
    if at_scenario::ProfileSet::named(&a.profile).is_none() {
        return Err(miette!("unknown profile {:?}", a.profile));
    }
    let text = std::fs::read_to_string(&a.transcript)
        .map_err(|e| miette!("{}: {e}", a.transcript.display()))?;
    let title = a.title.clone().unwrap_or_else(|| {
        a.transcript
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "recorded".into())
    });
    let scenario = at_report::from_transcript::scenario_from_transcript(&text, &title, &a.profile);
    // The result must load; a loader error here is a converter bug worth reporting.
    let name = a
        .out
        .as_ref()
        .map(|p| p.display().to_string())
        .unwrap_or_else(|| "recorded.scn".into());
    at_scenario::load_str(&name, &scenario).map_err(|e| miette!("{e:?}"))?;
    match &a.out {
        Some(p) => std::fs::write(p, scenario).map_err(|e| miette!("{}: {e}", p.display()))?,
        None => super::run::print(&scenario)?,
    }
    Ok(ExitCode::SUCCESS)
}
