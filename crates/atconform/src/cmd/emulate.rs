//! `atconform emulate`: serve the reference emulator on a PTY or a TCP port until killed.
//!
//! Prints one startup line on stdout (`emulating EC25 on /tmp/ttyEC25 -> /dev/pts/7`,
//! `emulating EC25 on tcp 127.0.0.1:7001`, `... on rfc2217 127.0.0.1:7002`), then
//! serves until SIGINT/SIGTERM, removing the PTY link on the way out. Each finished delivery
//! logs one line on stderr (with `--verbose`, its redacted SMTP transcript too).

use std::io::Write as _;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use at_emulator::serve::{
    MailJob, Outcome, Pty, ResolveMap, ServeOptions, serve_tcp, serve_tcp_keep_state,
};
use std::sync::Arc;

use at_emulator::{EmulatorConfig, Fault, LibertySet, QuirkSet};
use miette::{IntoDiagnostic, WrapErr, miette};

/// Emulate a module (reference behaviour, real SMTP delivery) on a PTY or a TCP port.
#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// Module profile: a built-in name (see --list-profiles) or a profile file.
    #[arg(long, default_value = "ec25", value_name = "NAME|FILE")]
    profile: String,
    /// Make PATH a symlink to the PTY slave (open it like a serial port).
    #[arg(long, value_name = "PATH", conflicts_with = "listen")]
    pty_link: Option<PathBuf>,
    /// Serve over TCP on ADDR (one connection at a time, each a fresh power-on unless
    /// --keep-state; another host meanwhile gets a BUSY line).
    #[arg(long, value_name = "ADDR")]
    listen: Option<SocketAddr>,
    /// With --listen: speak RFC 2217 (Telnet COM port control, as ser2net's `telnet(rfc2217)`
    /// does), so clients can set the baud rate and drive DTR.
    #[arg(long, requires = "listen")]
    rfc2217: bool,
    /// With --listen: drop a host that sends nothing for this long while no mail is being sent
    /// (e.g. 10m, 90s; "none" to wait forever) [default: 10m].
    #[arg(long, value_name = "DURATION", requires = "listen", value_parser = parse_idle)]
    idle_timeout: Option<Idle>,
    /// With --listen: one module for all connections, which keeps its state (settings, files,
    /// PDP context, data mode, a mail sending) between them, like a module behind a
    /// serial-to-network bridge. A PTY always keeps its module.
    #[arg(long, requires = "listen", conflicts_with = "rfc2217")]
    keep_state: bool,
    /// Point HOST:PORT at IP:PORT for deliveries, like curl's (repeatable),
    /// e.g. smtp.163.com:25=127.0.0.1:2525.
    #[arg(long, value_name = "HOST:PORT=IP:PORT")]
    resolve: Vec<String>,
    /// Enable firmware quirks: repeatable and/or comma-separated (see --list-quirks).
    #[arg(long, value_name = "NAME[,NAME...]", value_delimiter = ',')]
    quirk: Vec<String>,
    /// Make another choice where the manuals leave room (repeatable or comma-separated; see
    /// --list-liberties).
    #[arg(long, value_name = "NAME[,NAME...]")]
    liberty: Vec<String>,
    /// Inject a fault (repeatable): sim-not-ready, pdp-deactivate@30s, pdp-activation-fails,
    /// dns, refused, reset-mid-data, reset@STAGE, stall, stall@STAGE.
    #[arg(long, value_name = "NAME")]
    fault: Vec<String>,
    /// Accept fault-control commands on ADDR (loopback only): `fault SPEC` (sim-not-ready,
    /// pdp-activation-fails, pdp-deactivated, pdp-deactivate@2s) and `clear`, one per line,
    /// each answered `ok` once the module has it; what a lab's SIM switch and network simulator
    /// do to a real module (`atconform run --fault-control`, docs/real-modules.md).
    #[arg(long, value_name = "ADDR")]
    fault_control: Option<SocketAddr>,
    /// Print each delivery's SMTP transcript (credentials redacted) on stderr.
    #[arg(long, short)]
    verbose: bool,
    /// List the quirks and exit.
    #[arg(long)]
    list_quirks: bool,
    /// List the liberties (with the seed text that leaves each open) and exit.
    #[arg(long)]
    list_liberties: bool,
    /// List the built-in profiles and exit.
    #[arg(long)]
    list_profiles: bool,
}

/// `--idle-timeout`: a duration, or none.
#[derive(Debug, Clone, Copy)]
pub struct Idle(Option<Duration>);

fn parse_idle(s: &str) -> Result<Idle, String> {
    if s == "none" {
        return Ok(Idle(None));
    }
    at_wire::duration::parse_or_secs(s)
        .map(|d| Idle(Some(d)))
        .map_err(|e| format!("bad duration `{s}`: {e} (e.g. 10m, 90s, none)"))
}

/// Runs the subcommand.
pub fn run(args: Args) -> miette::Result<ExitCode> {
    let mut stdout = std::io::stdout().lock();
    if args.list_quirks {
        for q in at_emulator::quirks::QUIRKS {
            let _ = writeln!(stdout, "{:<30} {}", q.name, q.description);
        }
        return Ok(ExitCode::SUCCESS);
    }
    if args.list_liberties {
        for l in at_emulator::liberties::LIBERTIES {
            let _ = writeln!(stdout, "{:<22} {}", l.name, l.description);
            let _ = writeln!(stdout, "{:<22} room: {}", "", l.room);
        }
        return Ok(ExitCode::SUCCESS);
    }
    if args.list_profiles {
        for p in at_catalog::profiles() {
            let _ = writeln!(stdout, "{:<10} {}", p.name, p.description);
        }
        return Ok(ExitCode::SUCCESS);
    }

    let profile = if Path::new(&args.profile).is_file() {
        at_catalog::Profile::load_file(&args.profile)
    } else {
        at_catalog::Profile::builtin(&args.profile)
    }
    .map_err(|e| miette!("{e}"))?;
    let mut config = EmulatorConfig::new(profile).map_err(|e| miette!("{e}"))?;
    let quirks =
        QuirkSet::from_names(&args.quirk).map_err(|e| miette!("{e} (see --list-quirks)"))?;
    config = config.with_quirks(quirks);
    let liberties = LibertySet::from_names(&args.liberty).map_err(|e| miette!("{e}"))?;
    config = config.with_liberties(liberties);
    for name in &args.fault {
        let fault: Fault = name.parse().map_err(|e| miette!("{e}"))?;
        config = config.with_fault(fault);
    }
    let mut resolve = ResolveMap::new();
    for entry in &args.resolve {
        resolve.add(entry).map_err(|e| miette!("{e}"))?;
    }
    let model = config.profile.model.clone();
    let verbose = args.verbose;
    let quirks = config.quirks;
    let mut options = ServeOptions::new(config, resolve).with_delivery_hook(Arc::new(
        move |job: &MailJob, outcome: &Outcome| {
            let (err, proto) = at_emulator::outcome_codes(outcome, quirks);
            let result = match &outcome.result {
                Ok(()) => "sent".to_owned(),
                Err(f) => f.to_string(),
            };
            let tls = match &outcome.transcript.tls {
                Some(n) => format!(", {n}"),
                None if job.ssl == Default::default() => String::new(), // plain SMTP
                None => format!(", offered {} [{}]", job.tls.versions, job.tls.ciphers),
            };
            let mut text = format!(
                "[emulate] delivery to {}:{} ({:?}{tls}): {result} -> {err},{proto}\n",
                job.server, job.port, job.ssl
            );
            if verbose {
                // AUTH payloads are redacted by the transcript; the password is also redacted
                // wherever else it appears (a body that quotes it).
                let mut secrets = at_wire::redact::Secrets::new();
                if let Some(auth) = &job.auth {
                    secrets.add(auth.password.expose().as_bytes());
                }
                let shown = secrets.scrub(outcome.transcript.render().as_bytes());
                text.push_str(&String::from_utf8_lossy(&shown));
            }
            let _ = std::io::stderr().lock().write_all(text.as_bytes());
        },
    ));

    if let Some(Idle(t)) = args.idle_timeout {
        options.idle_timeout = t;
    }

    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .into_diagnostic()?;
    // Signal handlers first: a SIGTERM right after the startup line must be honoured.
    let stop = {
        let _in_runtime = rt.enter();
        stop_signal()
    };
    let control = match args.fault_control {
        Some(addr) if !addr.ip().is_loopback() => {
            return Err(miette!(
                "--fault-control {addr}: the fault-control port listens on loopback only \
                 (127.0.0.1 or ::1)"
            ));
        }
        Some(addr) => {
            let listener = rt
                .block_on(tokio::net::TcpListener::bind(addr))
                .into_diagnostic()
                .wrap_err_with(|| format!("cannot listen on {addr} for fault control"))?;
            let local = listener.local_addr().into_diagnostic()?;
            let _ = writeln!(stdout, "fault control on {local}");
            let inbox = options.faults.clone();
            Some(rt.spawn(at_emulator::serve::serve_fault_control(
                listener,
                inbox,
                std::future::pending(),
            )))
        }
        None => None,
    };
    let result = match (&args.pty_link, args.listen) {
        (Some(link), None) => {
            let pty = Pty::open(Some(link))
                .into_diagnostic()
                .wrap_err_with(|| format!("cannot create PTY link {}", link.display()))?;
            let _ = writeln!(
                stdout,
                "emulating {model} on {} -> {}",
                link.display(),
                pty.slave_path().display()
            );
            let _ = stdout.flush();
            let r = rt.block_on(pty.serve(&options, stop));
            drop(pty); // removes the link
            r
        }
        (None, Some(addr)) => rt.block_on(async {
            let listener = tokio::net::TcpListener::bind(addr).await.map_err(|e| {
                std::io::Error::new(e.kind(), format!("cannot listen on {addr}: {e}"))
            })?;
            let local = listener.local_addr()?;
            if args.rfc2217 {
                let _ = writeln!(stdout, "emulating {model} on rfc2217 {local}");
                let _ = stdout.flush();
                return at_emulator::serve_rfc2217::serve_rfc2217(listener, &options, stop).await;
            }
            let keep = if args.keep_state {
                " (one module for every connection)"
            } else {
                ""
            };
            let _ = writeln!(stdout, "emulating {model} on tcp {local}{keep}");
            let _ = stdout.flush();
            if args.keep_state {
                serve_tcp_keep_state(listener, &options, stop).await
            } else {
                serve_tcp(listener, &options, stop).await
            }
        }),
        _ => {
            return Err(miette!(
                "give exactly one of --pty-link PATH or --listen ADDR"
            ));
        }
    };
    if let Some(task) = control {
        task.abort();
    }
    // A PTY read may still be parked on the blocking pool: do not wait for it.
    rt.shutdown_timeout(Duration::from_millis(200));
    result.into_diagnostic()?;
    Ok(ExitCode::SUCCESS)
}

/// Completes on SIGINT or SIGTERM. The handlers are installed when this is called (inside a
/// runtime), not when the future is first polled, so no signal is missed (or kills the process)
/// in between.
pub(crate) fn stop_signal() -> impl std::future::Future<Output = ()> + Send + 'static {
    use tokio::signal::unix::{SignalKind, signal};
    let term = signal(SignalKind::terminate()).ok();
    let int = signal(SignalKind::interrupt()).ok();
    async move {
        let wait = |s: Option<tokio::signal::unix::Signal>| async move {
            match s {
                Some(mut s) => {
                    s.recv().await;
                }
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            () = wait(term) => {}
            () = wait(int) => {}
        }
    }
}
