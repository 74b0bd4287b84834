//! `atconform fuzz`: the device fuzzer (crate `at-devfuzz`) against the emulator, a serial port
//! or a TCP port. Exit status 0 = no finding, 1 = findings (or Ctrl-C), 2 = usage error.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use at_devfuzz::campaign::{self, Config, Device, Fuzzer};
use at_devfuzz::virt::Live;
use at_emulator::EmulatorConfig;
use at_emulator::LibertySet;
use at_emulator::quirks::QuirkSet;
use at_runner::target::{SerialTarget, TcpTarget};
use miette::{IntoDiagnostic, miette};

/// Fuzz a module: catalog-driven cases, liveness and response-class oracle, shrunk findings.
#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// Module profile (ec21, ec25, …, ag35, multitech).
    #[arg(long, default_value = "ec25")]
    profile: String,
    /// Emulator quirks to switch on: repeatable and/or comma-separated (emulator target only;
    /// see `atconform emulate --list-quirks`).
    #[arg(long, value_name = "NAME[,NAME...]", value_delimiter = ',')]
    quirk: Vec<String>,
    /// Emulator liberties to switch on (repeatable or comma-separated; emulator target only):
    /// a conforming module that chose otherwise where the manuals leave room, which must raise
    /// no finding.
    #[arg(long, value_name = "NAME[,NAME...]")]
    liberty: Vec<String>,
    /// Fuzz the module behind a TCP port (HOST:PORT) instead of the emulator.
    #[arg(long, value_name = "HOST:PORT", conflicts_with = "port")]
    tcp: Option<String>,
    /// Fuzz the module on a serial port instead of the emulator.
    #[arg(long, value_name = "DEVICE")]
    port: Option<String>,
    /// Live devices: run a capture SMTP sink on this address (e.g. 0.0.0.0:2525) and send the
    /// fuzzer's mail there; what it receives is compared with the reference model's mail.
    #[arg(long, value_name = "ADDR")]
    mail_sink: Option<std::net::SocketAddr>,
    /// The sink's address as the device reaches it (default: the address it listens on).
    #[arg(long, value_name = "HOST:PORT", requires = "mail_sink")]
    mail_server: Option<String>,
    /// Serial baud rate.
    #[arg(long, default_value_t = 115_200)]
    baud: u32,
    /// Campaign seed.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Number of cases (default 1000; unlimited when only --duration is given).
    #[arg(long)]
    cases: Option<u64>,
    /// Stop starting cases after this much time, e.g. 90s, 10m, 1h (the summary and reports
    /// are written as usual).
    #[arg(long, value_name = "TIME", value_parser = parse_duration)]
    duration: Option<Duration>,
    /// Live devices: the time one case may take (default 30s; `0` for no limit). A case that
    /// waits longer by design (`<input_time>`, a 61 s send) is not run, one still running at
    /// the budget is cut; both are listed in the summary.
    #[arg(long, value_name = "TIME", value_parser = parse_duration)]
    case_budget: Option<Duration>,
    /// Replay exactly this case of the seed.
    #[arg(long, value_name = "N")]
    case: Option<u64>,
    /// Keep findings as generated (no shrinking).
    #[arg(long)]
    no_shrink: bool,
    /// Stop after this many findings (0 = never).
    #[arg(long, default_value_t = 0)]
    max_findings: usize,
    /// Directory for the findings' scenario files.
    #[arg(long, default_value = "fuzz-findings", value_name = "DIR")]
    out: PathBuf,
    /// Extra response time on real devices, in milliseconds.
    #[arg(long, default_value_t = 500, value_name = "MS")]
    slack_ms: u64,
    /// Report: `json:PATH` or `junit:PATH` (repeatable).
    #[arg(long, value_name = "KIND:PATH")]
    report: Vec<String>,
    /// Print the quirk table instead: cases to first finding per emulator quirk, this budget.
    #[arg(long, value_name = "BUDGET", num_args = 0..=1, default_missing_value = "1000")]
    bench_quirks: Option<u64>,
    /// No progress bar.
    #[arg(long)]
    no_progress: bool,
    /// Compare the delivered mail with the reference model's even without quirks (emulator:
    /// checks that the model is deterministic; normally only quirky emulators are compared).
    #[arg(long)]
    mail_always: bool,
}

/// Default per-case budget on live devices: the live run spent 64 s on one case.
const LIVE_CASE_BUDGET: Duration = Duration::from_secs(30);

/// `90`, `90s`, `500ms`, `10m`, `1.5h`.
fn parse_duration(s: &str) -> Result<Duration, String> {
    at_wire::duration::parse_or_secs(s).map_err(|e| format!("{s:?}: {e}"))
}

/// Runs the subcommand.
pub fn run(args: Args) -> miette::Result<ExitCode> {
    let reports = args
        .report
        .iter()
        .map(|r| match r.split_once(':') {
            Some(("json", p)) => Ok((true, PathBuf::from(p))),
            Some(("junit", p)) => Ok((false, PathBuf::from(p))),
            _ => Err(miette!("--report wants json:PATH or junit:PATH, got `{r}`")),
        })
        .collect::<miette::Result<Vec<_>>>()?;
    if let Some(budget) = args.bench_quirks {
        println!("| quirk | cases to first finding (budget {budget}) | finding |");
        println!("|---|---|---|");
        for r in campaign::quirk_table(&args.profile, args.seed, budget) {
            let n = r
                .cases_to_finding
                .map_or_else(|| format!("not found in {budget}"), |n| n.to_string());
            let k = r.kind.map_or("-", |k| k.name());
            println!("| {} | {n} | {k} |", r.quirk);
        }
        return Ok(ExitCode::SUCCESS);
    }
    let emu = EmulatorConfig::builtin(&args.profile).into_diagnostic()?;
    let profile = emu.profile.clone();
    let device = match (&args.tcp, &args.port) {
        (Some(addr), _) => Device::Live(Live(Box::new(
            TcpTarget::connect(addr, Duration::from_secs(5)).into_diagnostic()?,
        ))),
        (None, Some(port)) => Device::Live(Live(Box::new(
            SerialTarget::open(port, args.baud).into_diagnostic()?,
        ))),
        (None, None) => {
            let quirks = QuirkSet::from_names(&args.quirk).map_err(|e| miette!("--quirk: {e}"))?;
            let liberties = LibertySet::from_names(&args.liberty).into_diagnostic()?;
            Device::Emulator(Box::new(emu.with_quirks(quirks).with_liberties(liberties)))
        }
    };
    if !args.quirk.is_empty() && !matches!(device, Device::Emulator(_)) {
        return Err(miette!("--quirk only applies to the emulator"));
    }
    if !args.liberty.is_empty() && !matches!(device, Device::Emulator(_)) {
        return Err(miette!("--liberty only applies to the emulator"));
    }
    let (first, cases) = match (args.case, args.cases, args.duration) {
        (Some(n), _, _) => (n, 1),
        (None, Some(c), _) => (0, c),
        (None, None, Some(_)) => (0, u64::MAX),
        (None, None, None) => (0, 1000),
    };
    let live_device = !matches!(device, Device::Emulator(_));
    let case_budget = match args.case_budget {
        Some(d) if d.is_zero() => None,
        Some(d) => Some(d),
        None if live_device => Some(LIVE_CASE_BUDGET),
        None => None,
    };
    let cfg = Config {
        seed: args.seed,
        first,
        cases,
        shrink: !args.no_shrink,
        max_findings: args.max_findings,
        out_dir: Some(args.out.clone()),
        slack: Duration::from_millis(args.slack_ms),
        mail_always: args.mail_always,
        duration: args.duration,
        case_budget,
    };
    let live = matches!(device, Device::Live(_));
    let mut fuzzer = Fuzzer::new(device, profile, cfg);
    if let Some(listen) = args.mail_sink {
        if !live {
            return Err(miette!(
                "--mail-sink is for live devices (--tcp/--port); the emulator's mail is checked in memory"
            ));
        }
        let sink = smtp_sink::spawn(
            smtp_sink::SinkConfig::new(smtp_sink::Profile::Permissive)
                .listen(Some(listen))
                .tls_listen(None)
                .starttls(false),
        )
        .into_diagnostic()?;
        let bound = sink
            .smtp_addr()
            .ok_or_else(|| miette!("the mail sink did not start"))?;
        let (host, port) = match &args.mail_server {
            Some(hp) => {
                let (h, p) = hp
                    .rsplit_once(':')
                    .ok_or_else(|| miette!("--mail-server wants HOST:PORT, got `{hp}`"))?;
                let p: u16 = p
                    .parse()
                    .map_err(|_| miette!("--mail-server: bad port in `{hp}`"))?;
                (h.to_owned(), p)
            }
            None if bound.ip().is_unspecified() => {
                return Err(miette!(
                    "--mail-sink {bound} listens on every interface: say which address the device reaches with --mail-server HOST:PORT"
                ));
            }
            None => (bound.ip().to_string(), bound.port()),
        };
        eprintln!("mail sink listening on {bound}; the device sends to {host}:{port}");
        fuzzer = fuzzer.with_mail_sink(sink, &host, port);
    }
    if args.case.is_some() {
        let case = fuzzer.generator().case(args.seed, first);
        for g in &case.groups {
            println!("{}: {} ({} steps)", g.family.name(), g.label, g.steps.len());
        }
    }
    // Ctrl-C: the running case is discarded, then the summary and reports as usual.
    {
        let stop = fuzzer.stop_flag();
        let _ = ctrlc::set_handler(move || stop.store(true, std::sync::atomic::Ordering::Relaxed));
    }
    let progress = !(args.no_progress || args.case.is_some());
    let summary = campaign::run_reporting(&mut fuzzer, cases, progress);
    if args.case.is_some() {
        for f in &summary.findings {
            println!("{}", f.scenario);
        }
    }
    print!("{}", campaign::summary_text(&summary));
    for (json, path) in reports {
        if json {
            campaign::write_json(&summary, &path).into_diagnostic()?;
        } else {
            campaign::write_junit(&summary, &path).into_diagnostic()?;
        }
    }
    let interrupted = summary.stopped.as_deref() == Some("interrupted");
    Ok(if summary.findings.is_empty() && !interrupted {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
