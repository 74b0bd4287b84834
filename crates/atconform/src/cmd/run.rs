//! `atconform run`: replay scenarios against a device or the built-in emulator and judge them.
//!
//! With no arguments: the embedded corpus, every profile each scenario applies to, on the
//! in-process emulator and capture sink (virtual time). Exit code 0 all pass, 1 any failure
//! (or Ctrl-C), 2 usage or scenario errors.

use std::io::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

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
    #[arg(long, value_name = "DEVICE", conflicts_with_all = ["tcp", "emulator"])]
    port: Option<String>,
    /// Baud rate for --port.
    #[arg(long, default_value_t = 115_200, requires = "port")]
    baud: u32,
    /// A module's AT port over TCP.
    #[arg(long, value_name = "HOST:PORT", conflicts_with = "emulator")]
    tcp: Option<String>,
    /// The in-process emulator as this profile only (default: every profile of each scenario).
    #[arg(long, value_name = "PROFILE")]
    emulator: Option<String>,
    /// The module's profile (required with --port/--tcp; repeatable to narrow emulator runs).
    #[arg(long, value_name = "NAME")]
    profile: Vec<String>,
    /// Only scenarios whose corpus path contains this (repeatable).
    #[arg(long, value_name = "TEXT")]
    filter: Vec<String>,
    /// Add an emulator quirk to every case (repeatable; see `at_emulator::quirks`).
    #[arg(long, value_name = "NAME")]
    quirk: Vec<String>,
    /// Write a report: json:PATH or junit:PATH (repeatable).
    #[arg(long, value_name = "KIND:PATH")]
    report: Vec<ReportSpec>,
    /// Transcript directory (default: target/atconform/runs/<unix-time>).
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

/// Runs the subcommand.
pub fn run(args: Args) -> miette::Result<ExitCode> {
    let scenarios = if args.paths.is_empty() {
        at_runner::corpus::embedded()
    } else {
        at_runner::corpus::load_paths(&args.paths)
    }
    .map_err(|e| miette!("{e}"))?;
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
        sink_listen: args.sink_listen,
        sink_tls_listen: args.sink_tls_listen,
        sink_api: args.sink_api,
    };
    let cases = at_runner::run::select(scenarios, &cfg);
    if cases.is_empty() {
        return Err(miette!("no scenario matches the selection"));
    }

    let cancel = Arc::new(AtomicBool::new(false));
    {
        let cancel = cancel.clone();
        // A second Ctrl-C while the partial report is written is ignored; the run stops at
        // the next read (every read has a deadline).
        let _ = ctrlc::set_handler(move || cancel.store(true, Ordering::Relaxed));
    }
    let progress = at_runner::report::Progress::new(cases.len(), args.quiet);
    let report = at_runner::run::run(&cases, &cfg, &cancel, |r| progress.case(r))
        .map_err(|e| miette!("{e}"))?;
    progress.finish();

    let out = args.out.clone().unwrap_or_else(|| {
        let t = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        PathBuf::from(format!("target/atconform/runs/{t}"))
    });
    if let Err(e) = report.write_transcripts(&out) {
        eprintln!("cannot write transcripts to {}: {e}", out.display());
    }
    for spec in &args.report {
        report
            .write(spec)
            .map_err(|e| miette!("cannot write {}: {e}", spec.path.display()))?;
    }
    // A closed pipe (`| head`) is not an error: the verdict is in the exit code (ripgrep).
    let text = format!("{}transcripts: {}\n", report.summary_text(), out.display());
    let mut stdout = std::io::stdout().lock();
    match stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.flush())
    {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
            return Err(miette!("cannot write to stdout: {e}"));
        }
        _ => {}
    }
    Ok(ExitCode::from(report.exit_code()))
}
