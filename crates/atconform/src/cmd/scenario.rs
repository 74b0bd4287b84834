//! `atconform scenario from-transcript`: a recorded transcript as a scenario file;
//! `atconform scenario explain`: the exact bytes, limits and evidence of a scenario;
//! `atconform scenario show NAME`: an embedded scenario's text.

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
    /// Show what a scenario sends and expects, byte-exact, with each group's response-time
    /// limit and the evidence of every expectation that does not inherit `source:`.
    Explain(ExplainArgs),
    /// Print a scenario of the embedded corpus (the file a failure names), exactly as embedded.
    Show(ShowArgs),
}

#[derive(Debug, Clone, clap::Args)]
struct ExplainArgs {
    /// A scenario file, or a path of the embedded corpus (`edge/qfupl-checksum-e12.scn`).
    scenario: PathBuf,
    /// The profile to expand it for (default: its first).
    #[arg(long, value_name = "PROFILE")]
    profile: Option<String>,
}

fn explain(a: ExplainArgs) -> miette::Result<ExitCode> {
    let sc = if a.scenario.is_file() {
        at_scenario::load_file(&a.scenario).map_err(|e| miette!("{e:?}"))?
    } else {
        let want = a.scenario.to_string_lossy().replace('\\', "/");
        at_runner::corpus::embedded()
            .map_err(|e| miette!("{e}"))?
            .into_iter()
            .find(|s| at_runner::corpus_name(&s.name) == want)
            .ok_or_else(|| miette!("{want}: no such file, nor a scenario of the embedded corpus"))?
    };
    let profile = match &a.profile {
        Some(p) => at_scenario::Profile::from_name(p)
            .filter(|p| sc.applies_to(*p))
            .ok_or_else(|| {
                miette!(
                    "{p}: not a profile this scenario applies to ({})",
                    sc.meta.profiles
                )
            })?,
        None => sc
            .meta
            .profiles
            .iter()
            .next()
            .ok_or_else(|| miette!("the scenario applies to no profile"))?,
    };
    let bindings = sc
        .bindings(|name| std::env::var(name).ok())
        .map_err(|e| miette!("{e}"))?;
    super::run::print(&at_scenario::explain(&sc, profile, &bindings))?;
    Ok(ExitCode::SUCCESS)
}

#[derive(Debug, Clone, clap::Args)]
struct ShowArgs {
    /// Its corpus path (`quectel/3.1-send-plain.scn`, as failures print it, `:LINE` allowed),
    /// or any unique part of it (`3.1-send-plain`).
    name: String,
}

/// `scenario show`: the embedded scenario `name` names, or an error listing the candidates.
fn show(a: &ShowArgs) -> miette::Result<ExitCode> {
    let corpus = at_runner::corpus::CORPUS;
    // `file:line` as printed with a failure.
    let name = match a.name.rsplit_once(':') {
        Some((f, l)) if !l.is_empty() && l.bytes().all(|b| b.is_ascii_digit()) => f,
        _ => a.name.as_str(),
    };
    let name = at_runner::corpus_name(name);
    let exact = corpus
        .iter()
        .find(|(n, _)| *n == name || n.strip_suffix(".scn") == Some(name));
    let found: Vec<&(&str, &str)> = match exact {
        Some(e) => vec![e],
        None => corpus.iter().filter(|(n, _)| n.contains(name)).collect(),
    };
    match found.as_slice() {
        [(_, text)] => {
            super::run::print(text)?;
            Ok(ExitCode::SUCCESS)
        }
        [] => Err(miette!(
            "no embedded scenario matches {:?}; the corpus has {} files (`atconform run --help`, scenarios/README.md)",
            a.name,
            corpus.len()
        )),
        many => Err(miette!(
            "{:?} matches {} embedded scenarios, say which:\n  {}",
            a.name,
            many.len(),
            many.iter()
                .map(|(n, _)| *n)
                .collect::<Vec<_>>()
                .join("\n  ")
        )),
    }
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
    let a = match args.what {
        What::FromTranscript(a) => a,
        What::Explain(a) => return explain(a),
        What::Show(a) => return show(&a),
    };
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
