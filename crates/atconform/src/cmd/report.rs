//! `atconform report`: the conformance matrix (HTML + JSON) over several targets or saved runs.
//!
//! `atconform report matrix --target emulator:ec25 --target emulator:eg95 --target emulator:ag35
//! --target emulator:ec25+body-length-off-by-one --out DIR` runs the corpus on every target in
//! parallel (one run directory each under DIR) and writes `DIR/matrix.html` (one self-contained
//! file) and `DIR/matrix.json`. Saved run directories (`atconform run --out D`) can
//! be given as paths instead of, or besides, targets.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use at_report::load::Run;
use at_report::matrix::Matrix;
use at_runner::multi::TargetArg;
use miette::miette;

use super::run::print;

/// Reports over runs.
#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    what: What,
}

#[derive(Debug, Clone, clap::Subcommand)]
enum What {
    /// Targets as columns, scenarios by document section as rows: HTML + JSON.
    Matrix(MatrixArgs),
    /// Which catalog commands, settings, boundary values and error codes the corpus exercises.
    Coverage(CoverageArgs),
    /// Module × provider: each module profile sending through each sink provider profile.
    Providers(ProvidersArgs),
    /// TLS: each AT+QSSLCFG="sslversion" value × each sink provider profile, over implicit TLS
    /// and STARTTLS: the module's result and the version and suite the sink negotiated.
    Tls(TlsArgs),
}

#[derive(Debug, Clone, clap::Args)]
struct TlsArgs {
    /// Module profiles (repeatable; default: ec25 and ag35).
    #[arg(long, value_name = "PROFILE")]
    module: Vec<String>,
    /// Sink provider profiles (repeatable; default: permissive, rfc5321, tencent-ses).
    #[arg(long, value_name = "NAME")]
    provider: Vec<String>,
    /// Also write the matrix as JSON here.
    #[arg(long, value_name = "PATH")]
    json: Option<PathBuf>,
}

#[derive(Debug, Clone, clap::Args)]
struct ProvidersArgs {
    /// Module profiles (repeatable; default: every profile).
    #[arg(long, value_name = "PROFILE")]
    module: Vec<String>,
    /// Sink provider profiles (repeatable; default: permissive, rfc5321, tencent-ses).
    #[arg(long, value_name = "NAME")]
    provider: Vec<String>,
    /// Output directory for providers.html and providers.json (default: print only).
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
}

#[derive(Debug, Clone, clap::Args)]
struct CoverageArgs {
    /// Saved run directories: count only what their transcripts show ran (dynamic coverage).
    /// Without any, the coverage is the scenario files' (static: what would run).
    #[arg(value_name = "RUN")]
    runs: Vec<PathBuf>,
    /// Scenario files or directories (default: the embedded corpus).
    #[arg(long, value_name = "PATH")]
    scenarios: Vec<PathBuf>,
    /// With run directories: also count what the scenario files contain, whether it ran or
    /// not (static + dynamic, the view before issue 19).
    #[arg(long = "static", requires = "runs")]
    with_static: bool,
    /// Accepted for older scripts: only what ran is now the default with run directories.
    #[arg(long, requires = "runs", hide = true, conflicts_with = "with_static")]
    dynamic_only: bool,
    /// Also write the report as JSON.
    #[arg(long, value_name = "PATH")]
    json: Option<PathBuf>,
}

#[derive(Debug, Clone, clap::Args)]
struct MatrixArgs {
    /// Saved run directories (or their report.json) to include as columns.
    #[arg(value_name = "RUN")]
    runs: Vec<PathBuf>,
    /// Run the corpus on this target first (repeatable): emulator:PROFILE[+QUIRK...][+liberty:NAME...],
    /// PROFILE=/dev/ttyUSB2, PROFILE=tcp:HOST:PORT, PROFILE=rfc2217:HOST:PORT, and LABEL= in
    /// front of any of them (LABEL=emulator:PROFILE[+QUIRK...], LABEL=PROFILE=/dev/ttyUSB2).
    #[arg(long, value_name = "SPEC")]
    target: Vec<TargetArg>,
    /// Only scenarios whose corpus path contains this (repeatable).
    #[arg(long, value_name = "TEXT")]
    filter: Vec<String>,
    /// Scenario files or directories (default: the embedded corpus).
    #[arg(long, value_name = "PATH")]
    scenarios: Vec<PathBuf>,
    /// Output directory (default: <data dir>/matrix/<unix-time>; the data directory is
    /// $ATCONFORM_DATA_DIR, the workspace's target/atconform, or ~/.local/share/atconform).
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
    /// Report title.
    #[arg(long, default_value = "atconform conformance matrix")]
    title: String,
}

/// Runs the subcommand.
pub fn run(args: Args) -> miette::Result<ExitCode> {
    match args.what {
        What::Matrix(m) => matrix(m),
        What::Coverage(c) => coverage(c),
        What::Providers(p) => providers(p),
        What::Tls(t) => tls(t),
    }
}

fn tls(args: TlsArgs) -> miette::Result<ExitCode> {
    use at_report::tls::TlsMatrix;
    use at_runner::matrices::PROVIDERS;
    let modules = if args.module.is_empty() {
        vec![at_scenario::Profile::Ec25, at_scenario::Profile::Ag35]
    } else {
        args.module
            .iter()
            .map(|m| {
                at_scenario::Profile::from_name(m).ok_or_else(|| miette!("unknown profile {m:?}"))
            })
            .collect::<miette::Result<Vec<_>>>()?
    };
    let providers: Vec<&str> = if args.provider.is_empty() {
        PROVIDERS.to_vec()
    } else {
        args.provider.iter().map(String::as_str).collect()
    };
    let corpus = at_runner::corpus::embedded().map_err(|e| miette!("{e}"))?;
    let runs = at_runner::matrices::run_tls(&modules, &providers, &corpus, &AtomicBool::new(false))
        .map_err(|e| miette!("{e}"))?;
    let m = TlsMatrix::from_runs(&runs);
    print(&m.to_text())?;
    if let Some(json) = &args.json {
        std::fs::write(json, m.to_json()).map_err(|e| miette!("{}: {e}", json.display()))?;
        print(&format!("json: {}\n", json.display()))?;
    }
    Ok(ExitCode::SUCCESS)
}

fn providers(args: ProvidersArgs) -> miette::Result<ExitCode> {
    use at_report::providers::ProviderMatrix;
    use at_runner::matrices::PROVIDERS;
    let modules = if args.module.is_empty() {
        at_scenario::Profile::ALL.to_vec()
    } else {
        args.module
            .iter()
            .map(|m| {
                at_scenario::Profile::from_name(m).ok_or_else(|| miette!("unknown profile {m:?}"))
            })
            .collect::<miette::Result<Vec<_>>>()?
    };
    let providers: Vec<&str> = if args.provider.is_empty() {
        PROVIDERS.to_vec()
    } else {
        args.provider.iter().map(String::as_str).collect()
    };
    let corpus = at_runner::corpus::embedded().map_err(|e| miette!("{e}"))?;
    let cancel = AtomicBool::new(false);
    let runs = at_runner::matrices::run_providers(&modules, &providers, &corpus, &cancel)
        .map_err(|e| miette!("{e}"))?;
    let m = ProviderMatrix::from_runs(&runs);
    print(&m.to_text())?;
    if let Some(out) = &args.out {
        std::fs::create_dir_all(out).map_err(|e| miette!("{}: {e}", out.display()))?;
        let html = out.join("providers.html");
        let json = out.join("providers.json");
        std::fs::write(
            &html,
            at_report::html::render_providers(&m, "atconform module × provider matrix"),
        )
        .map_err(|e| miette!("{}: {e}", html.display()))?;
        std::fs::write(&json, m.to_json()).map_err(|e| miette!("{}: {e}", json.display()))?;
        print(&format!(
            "html: {}\njson: {}\n",
            html.display(),
            json.display()
        ))?;
    }
    Ok(ExitCode::SUCCESS)
}

fn coverage(args: CoverageArgs) -> miette::Result<ExitCode> {
    use at_report::coverage::{Coverage, from_corpus, from_runs};
    let corpus = if args.scenarios.is_empty() {
        at_runner::corpus::embedded()
    } else {
        at_runner::corpus::load_paths(&args.scenarios)
    }
    .map_err(|e| miette!("{e}"))?;
    let mut runs = Vec::new();
    for p in &args.runs {
        runs.push(Run::load(p).map_err(|e| miette!("{e}"))?);
    }
    // With runs, what ran (their transcripts) unless --static adds the scenario files; without
    // runs, the scenario files (nothing ran).
    let with_static = runs.is_empty() || args.with_static;
    let mut observed = Vec::new();
    if with_static {
        observed.push(from_corpus(&corpus));
    }
    if !runs.is_empty() {
        observed.push(from_runs(&runs));
    }
    let source = match (with_static, runs.is_empty()) {
        (false, _) => "dynamic",
        (true, true) => "static",
        (true, false) => "static+dynamic",
    };
    let mut c = Coverage::build(source, &observed);
    if with_static {
        c = c.with_evidence(&corpus);
    }
    if !runs.is_empty() {
        c = c.with_runs(&runs);
    }
    print(&c.to_text())?;
    if let Some(p) = &args.json {
        std::fs::write(p, c.to_json()).map_err(|e| miette!("{}: {e}", p.display()))?;
    }
    Ok(ExitCode::SUCCESS)
}

fn matrix(args: MatrixArgs) -> miette::Result<ExitCode> {
    if args.runs.is_empty() && args.target.is_empty() {
        return Err(miette!("give run directories and/or --target SPEC"));
    }
    let corpus = if args.scenarios.is_empty() {
        at_runner::corpus::embedded()
    } else {
        at_runner::corpus::load_paths(&args.scenarios)
    }
    .map_err(|e| miette!("{e}"))?;
    let out = args
        .out
        .clone()
        .unwrap_or_else(|| at_runner::data_dir::default_dir("matrix"));
    std::fs::create_dir_all(&out).map_err(|e| miette!("{}: {e}", out.display()))?;
    let mut runs = Vec::new();
    for p in &args.runs {
        runs.push(Run::load(p).map_err(|e| miette!("{e}"))?);
    }
    // Exit like `atconform run`: the worst of the runs' codes, 1 for a target that could not run.
    let mut exit = runs.iter().map(Run::exit_code).max().unwrap_or(0);
    let mut not_run = String::new();
    if !args.target.is_empty() {
        let cancel = Arc::new(AtomicBool::new(false));
        {
            let cancel = cancel.clone();
            let _ = ctrlc::set_handler(move || cancel.store(true, Ordering::Relaxed));
        }
        let base = at_runner::RunConfig {
            filters: args.filter.clone(),
            // Failing cells say how to rerun them: `atconform run --target SPEC --filter ...`.
            rerun: Some(at_runner::reproduce::Rerun {
                paths: args
                    .scenarios
                    .iter()
                    .map(|p| p.display().to_string())
                    .collect(),
                ..at_runner::reproduce::Rerun::default()
            }),
            ..at_runner::RunConfig::default()
        };
        let results =
            at_runner::multi::run_targets(&args.target, &corpus, &base, &out, &cancel, &|_, _| {})
                .map_err(|e| miette!("{e}"))?;
        for (t, r) in args.target.iter().zip(results) {
            match r {
                Ok(r) => {
                    exit = exit.max(r.report.exit_code());
                    runs.push(Run::from_runner(&r.target.label, &r.report));
                }
                Err(e) => {
                    exit = exit.max(1);
                    not_run.push_str(&format!("{}: NOT RUN: {e}\n", t.label));
                }
            }
        }
    }
    let m = Matrix::build(&runs, &corpus);
    let html = out.join("matrix.html");
    let json = out.join("matrix.json");
    std::fs::write(&html, at_report::html::render(&m, &args.title))
        .map_err(|e| miette!("{}: {e}", html.display()))?;
    std::fs::write(&json, m.to_json()).map_err(|e| miette!("{}: {e}", json.display()))?;
    print(&format!(
        "{}{not_run}html: {}\njson: {}\n",
        m.summary_text(),
        html.display(),
        json.display()
    ))?;
    Ok(ExitCode::from(exit))
}
