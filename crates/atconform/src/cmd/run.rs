//! `atconform run`: replay scenarios against a device or the built-in emulator and judge them.
//!
//! With no arguments: the embedded corpus, every profile each scenario applies to, on the
//! in-process emulator and capture sink (virtual time). Exit code 0 all pass, 1 any failure
//! (or Ctrl-C), 2 usage or scenario errors.
//!
//! `--out DIR` is a run directory: `DIR/report.json` and one transcript per case, so any two
//! runs compare with `atconform diff`. With `--target SPEC` (repeatable) the corpus runs on
//! every target (in parallel where independent, see [`at_report::multi::run_targets`]), one
//! run directory `DIR/<label>/` each, plus `DIR/matrix.html` and `DIR/matrix.json`.

use std::io::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use at_report::multi::{TargetArg, TargetRun};
use at_runner::report::ReportSpec;
use at_runner::{RunConfig, TargetSpec};
use at_scenario::Profile;
use miette::miette;

/// Replay scenarios (default: the embedded corpus) and judge every byte.
#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// Scenario files or directories (default: the corpus embedded in this binary).
    #[arg(value_name = "PATH")]
    paths: Vec<PathBuf>,
    /// A module on a serial port or PTY (e.g. /dev/ttyUSB2, or `atconform emulate --pty-link`).
    #[arg(long, value_name = "DEVICE", conflicts_with_all = ["tcp", "emulator", "target"])]
    port: Option<String>,
    /// Baud rate for --port.
    #[arg(long, default_value_t = 115_200, requires = "port")]
    baud: u32,
    /// A module's AT port over TCP.
    #[arg(long, value_name = "HOST:PORT", conflicts_with_all = ["emulator", "target"])]
    tcp: Option<String>,
    /// The in-process emulator as this profile only (default: every profile of each scenario).
    #[arg(long, value_name = "PROFILE", conflicts_with = "target")]
    emulator: Option<String>,
    /// Run on this target (repeatable; one run directory per target under --out):
    /// emulator:PROFILE[+QUIRK...][+liberty:NAME...], PROFILE[@TAG]=/dev/ttyUSB2,
    /// PROFILE[@TAG]=tcp:HOST:PORT, LABEL=emulator:PROFILE[+QUIRK...][+liberty:NAME...].
    #[arg(long, value_name = "SPEC")]
    target: Vec<TargetArg>,
    /// The module's profile (required with --port/--tcp; repeatable to narrow emulator runs).
    #[arg(long, value_name = "NAME", conflicts_with = "target")]
    profile: Vec<String>,
    /// Only scenarios whose corpus path contains this (repeatable).
    #[arg(long, value_name = "TEXT")]
    filter: Vec<String>,
    /// Add an emulator quirk to every case (repeatable; see `at_emulator::quirks`).
    #[arg(long, value_name = "NAME", conflicts_with = "target")]
    quirk: Vec<String>,
    /// Add an emulator liberty to every case (repeatable or comma-separated; see `atconform
    /// emulate --list-liberties`).
    #[arg(long, value_name = "NAME[,NAME...]")]
    liberty: Vec<String>,
    /// Also write a report: json:PATH or junit:PATH (repeatable; DIR/report.json is always
    /// written). With --target: junit:PATH only, one suite per target.
    #[arg(long, value_name = "KIND:PATH")]
    report: Vec<ReportSpec>,
    /// Run directory: report.json and transcripts (default: target/atconform/runs/<unix-time>).
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
    /// Capture-sink listen address for real targets (the device must be able to reach it).
    #[arg(long, value_name = "ADDR")]
    sink_listen: Option<std::net::SocketAddr>,
    /// Implicit-TLS (SMTPS) listen address of that sink (for `ssltype` 1 scenarios).
    #[arg(long, value_name = "ADDR")]
    sink_tls_listen: Option<std::net::SocketAddr>,
    /// Check mail in a sink run elsewhere (`atconform sink --api ADDR`) instead; `@smtp`
    /// checks need the in-process sink.
    #[arg(long, value_name = "ADDR", conflicts_with_all = ["sink_listen", "sink_tls_listen"])]
    sink_api: Option<std::net::SocketAddr>,
    /// No progress bar.
    #[arg(long)]
    quiet: bool,
}

fn profile(name: &str) -> miette::Result<Profile> {
    Profile::from_name(name).ok_or_else(|| miette!("unknown profile {name:?}"))
}

fn default_out() -> PathBuf {
    let t = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    PathBuf::from(format!("target/atconform/runs/{t}"))
}

/// Ctrl-C sets the flag; the run stops at the next read (every read has a deadline).
fn cancel_on_ctrl_c() -> Arc<AtomicBool> {
    let cancel = Arc::new(AtomicBool::new(false));
    let flag = cancel.clone();
    // A second Ctrl-C while the partial report is written is ignored.
    let _ = ctrlc::set_handler(move || flag.store(true, Ordering::Relaxed));
    cancel
}

/// Prints `text` to stdout; a closed pipe (`| head`) is not an error: the verdict is in the
/// exit code (ripgrep). Every subcommand of this binary that prints a report uses it.
pub(crate) fn print(text: &str) -> miette::Result<()> {
    let mut stdout = std::io::stdout().lock();
    match stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.flush())
    {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
            Err(miette!("cannot write to stdout: {e}"))
        }
        _ => Ok(()),
    }
}

/// Runs the subcommand.
pub fn run(args: Args) -> miette::Result<ExitCode> {
    let scenarios = if args.paths.is_empty() {
        at_runner::corpus::embedded()
    } else {
        at_runner::corpus::load_paths(&args.paths)
    }
    .map_err(|e| miette!("{e}"))?;
    if !args.target.is_empty() {
        return run_targets(&args, &scenarios);
    }
    let mut profiles = args
        .profile
        .iter()
        .map(|p| profile(p))
        .collect::<miette::Result<Vec<_>>>()?;
    let target = match (&args.port, &args.tcp) {
        (Some(path), _) => TargetSpec::Serial {
            path: path.clone(),
            baud: args.baud,
        },
        (_, Some(addr)) => TargetSpec::Tcp { addr: addr.clone() },
        _ => TargetSpec::Emulator,
    };
    if let Some(p) = &args.emulator {
        profiles = vec![profile(p)?];
    }
    at_emulator::LibertySet::from_names(&args.liberty).map_err(|e| miette!("{e}"))?;
    if target != TargetSpec::Emulator && !args.liberty.is_empty() {
        return Err(miette!(
            "--liberty only applies to the emulator (a real module makes its own choices)"
        ));
    }
    if target != TargetSpec::Emulator && profiles.len() != 1 {
        return Err(miette!(
            "--port/--tcp need exactly one --profile NAME (the module on the other end)"
        ));
    }
    let cfg = RunConfig {
        target,
        profiles,
        filters: args.filter.clone(),
        quirks: args.quirk.clone(),
        liberties: args.liberty.clone(),
        sink_listen: args.sink_listen,
        sink_tls_listen: args.sink_tls_listen,
        sink_api: args.sink_api,
    };
    let cases = at_runner::run::select(scenarios, &cfg);
    if cases.is_empty() {
        return Err(miette!("no scenario matches the selection"));
    }

    let cancel = cancel_on_ctrl_c();
    let progress = at_runner::report::Progress::new(cases.len(), args.quiet);
    let report = at_runner::run::run(&cases, &cfg, &cancel, |r| progress.case(r))
        .map_err(|e| miette!("{e}"))?;
    progress.finish();

    let out = args.out.clone().unwrap_or_else(default_out);
    // A run directory: transcripts + report.json, what `atconform diff` and the reports read.
    if let Err(e) = report
        .write_transcripts(&out)
        .and_then(|()| std::fs::write(out.join("report.json"), report.to_json()))
    {
        eprintln!("cannot write the run directory {}: {e}", out.display());
    }
    for spec in &args.report {
        report
            .write(spec)
            .map_err(|e| miette!("cannot write {}: {e}", spec.path.display()))?;
    }
    print(&format!(
        "{}run directory: {} (report.json, transcripts)\n",
        report.summary_text(),
        out.display()
    ))?;
    Ok(ExitCode::from(report.exit_code()))
}

/// `--target SPEC...`: the corpus on every target, one run directory each, a summary table
/// and the matrix. Exit code: the worst of the targets' (a target that cannot run counts as
/// failed).
fn run_targets(args: &Args, scenarios: &[at_scenario::Scenario]) -> miette::Result<ExitCode> {
    let base = RunConfig {
        filters: args.filter.clone(),
        sink_listen: args.sink_listen,
        sink_tls_listen: args.sink_tls_listen,
        sink_api: args.sink_api,
        ..RunConfig::default()
    };
    let total: usize = args
        .target
        .iter()
        .map(|t| {
            let cfg = RunConfig {
                profiles: vec![t.profile],
                ..base.clone()
            };
            at_runner::run::select(scenarios.to_vec(), &cfg).len()
        })
        .sum();
    if total == 0 {
        return Err(miette!("no scenario matches the selection on any target"));
    }
    if let Some(spec) = args
        .report
        .iter()
        .find(|s| s.kind != at_runner::report::ReportKind::Junit)
    {
        return Err(miette!(
            "--report {}: with --target each target's JSON report is <out>/<label>/report.json and \
             the matrix is <out>/matrix.json; --report takes junit:PATH (one suite per target)",
            spec.path.display()
        ));
    }
    let out = args.out.clone().unwrap_or_else(default_out);
    let cancel = cancel_on_ctrl_c();
    let progress = at_runner::report::Progress::new(total, args.quiet);
    let results = at_report::multi::run_targets(
        &args.target,
        scenarios,
        &base,
        &out,
        &cancel,
        &|label, r| progress.target_case(label, r),
    )
    .map_err(|e| miette!("{e}"))?;
    progress.finish();

    let mut text = String::new();
    let mut exit = 0u8;
    for r in results.iter().flatten() {
        if r.report.exit_code() != 0 {
            text.push_str(&format!("\n== {} ==", r.target.label));
            text.push_str(&failures(r));
        }
    }
    let lw = args
        .target
        .iter()
        .map(|t| t.label.len())
        .max()
        .unwrap_or(0)
        .max(6);
    let rw = args
        .target
        .iter()
        .map(|t| at_report::multi::describe(t).len())
        .max()
        .unwrap_or(0)
        .max(7);
    text.push_str(&format!(
        "\n{:<lw$} {:<rw$} {:>5} {:>5} {:>5} {:>5} {:>5} {:>9}\n",
        "target", "runs on", "cases", "pass", "fail", "skip", "error", "time"
    ));
    for (t, r) in args.target.iter().zip(&results) {
        let runs_on = at_report::multi::describe(t);
        match r {
            Ok(r) => {
                let c = r.report.counts();
                text.push_str(&format!(
                    "{:<lw$} {:<rw$} {:>5} {:>5} {:>5} {:>5} {:>5} {:>7.3} s{}\n",
                    t.label,
                    runs_on,
                    r.report.cases.len(),
                    c.pass,
                    c.fail,
                    c.skip,
                    c.error,
                    r.report.wall.as_secs_f64(),
                    if r.report.interrupted {
                        "  INTERRUPTED"
                    } else {
                        ""
                    }
                ));
                exit = exit.max(r.report.exit_code());
            }
            Err(e) => {
                text.push_str(&format!("{:<lw$} {runs_on:<rw$} NOT RUN: {e}\n", t.label));
                exit = exit.max(1);
            }
        }
    }
    let runs: Vec<at_report::load::Run> = results.iter().flatten().map(|r| r.run.clone()).collect();
    let m = at_report::matrix::Matrix::build(&runs, scenarios);
    // The graded counts (pass, non-strict, fail, informational, unimplemented) per target.
    text.push_str("graded: ");
    text.push_str(&m.count_lines().join("\n        "));
    text.push('\n');
    let html = out.join("matrix.html");
    let json = out.join("matrix.json");
    let written = std::fs::create_dir_all(&out)
        .and_then(|()| {
            std::fs::write(
                &html,
                at_report::html::render(&m, "atconform conformance matrix"),
            )
        })
        .and_then(|()| std::fs::write(&json, m.to_json()));
    if let Err(e) = written {
        eprintln!("cannot write the matrix into {}: {e}", out.display());
    }
    let labelled: Vec<(&str, &at_runner::RunReport)> = results
        .iter()
        .flatten()
        .map(|r| (r.target.label.as_str(), &r.report))
        .collect();
    for spec in &args.report {
        if let Some(parent) = spec.path.parent()
            && !parent.as_os_str().is_empty()
        {
            std::fs::create_dir_all(parent).map_err(|e| miette!("{}: {e}", parent.display()))?;
        }
        std::fs::write(&spec.path, at_runner::report::junit_of(&labelled))
            .map_err(|e| miette!("cannot write {}: {e}", spec.path.display()))?;
    }
    text.push_str(&format!(
        "run directories: {}/<target>/ (report.json, transcripts); matrix: {}, {}\n",
        out.display(),
        html.display(),
        json.display()
    ));
    print(&text)?;
    Ok(ExitCode::from(exit))
}

/// The failed and erroneous cases of one target, as `summary_text` shows them.
fn failures(r: &TargetRun) -> String {
    let text = r.report.summary_text();
    // The last line is the count line; the table shows the counts.
    let body = text.trim_end().rsplit_once('\n').map_or("", |(b, _)| b);
    format!("{body}\n")
}
