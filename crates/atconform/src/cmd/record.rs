//! `atconform record`: a tap between a host application and a module. The application opens
//! `--pty-link PATH`; bytes pass through unchanged and both directions are recorded with
//! timestamps (passwords redacted, also in the live echo) until Ctrl-C or the module closes.
//! With `--sink-listen` (or a `--resolve …=sink`) a capture sink receives the module's mail and
//! the messages are written into the transcript, for `scenario from-transcript` to check.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use at_report::record::{LiveRedactor, MailRecord, Recording};
use at_runner::tap::Tap;
use miette::miette;

/// Record what an application and a module say to each other.
#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// The module's serial port or PTY (e.g. /dev/ttyUSB2).
    #[arg(long, value_name = "DEVICE", required_unless_present = "emulator")]
    device: Option<PathBuf>,
    /// Record against the built-in emulator as this profile instead of a device.
    #[arg(long, value_name = "PROFILE", conflicts_with = "device")]
    emulator: Option<String>,
    /// Where the application opens its "serial port" (a symlink to a PTY).
    #[arg(long, value_name = "PATH")]
    pty_link: PathBuf,
    /// Transcript file (default: standard output when the recording ends).
    #[arg(long, short, value_name = "FILE")]
    out: Option<PathBuf>,
    /// Do not echo the traffic on stderr as it passes.
    #[arg(long)]
    quiet: bool,
    /// With --emulator: where its mail goes, like curl's --resolve (repeatable). TARGET is
    /// IP:PORT, `sink` (this recording's capture sink, plain/STARTTLS) or `sink-tls` (its
    /// implicit-TLS listener, for "ssltype",1), e.g. smtp.163.com:25=sink.
    #[arg(long, value_name = "HOST:PORT=TARGET", requires = "emulator")]
    resolve: Vec<String>,
    /// With --emulator: firmware quirks, repeatable and/or comma-separated.
    #[arg(
        long,
        value_name = "NAME[,NAME...]",
        value_delimiter = ',',
        requires = "emulator"
    )]
    quirk: Vec<String>,
    /// Run a capture SMTP sink here for the recording (any credentials accepted, STARTTLS
    /// offered); the messages it receives go into the transcript as `@mail` lines. Default
    /// 127.0.0.1:0 when a --resolve names `sink`.
    #[arg(long, value_name = "ADDR")]
    sink_listen: Option<SocketAddr>,
    /// The sink's implicit-TLS listener (default: the --sink-listen address, any port).
    #[arg(long, value_name = "ADDR")]
    sink_tls_listen: Option<SocketAddr>,
}

/// The capture sink of a recording, if one was asked for.
fn start_sink(args: &Args) -> miette::Result<Option<smtp_sink::RunningSink>> {
    let wants_sink = args
        .resolve
        .iter()
        .any(|r| r.ends_with("=sink") || r.ends_with("=sink-tls"));
    let listen = match args.sink_listen {
        Some(a) => a,
        None if wants_sink || args.sink_tls_listen.is_some() => {
            SocketAddr::from(([127, 0, 0, 1], 0))
        }
        None => return Ok(None),
    };
    let tls = args
        .sink_tls_listen
        .unwrap_or_else(|| SocketAddr::new(listen.ip(), 0));
    let sink = smtp_sink::spawn(
        smtp_sink::SinkConfig::new(smtp_sink::Profile::Permissive)
            .listen(Some(listen))
            .tls_listen(Some(tls)),
    )
    .map_err(|e| miette!("cannot start the capture sink on {listen}: {e}"))?;
    Ok(Some(sink))
}

/// `--resolve` entries with `sink`/`sink-tls` replaced by the sink's addresses.
fn resolve_map(
    entries: &[String],
    sink: Option<&smtp_sink::RunningSink>,
) -> miette::Result<at_emulator::serve::ResolveMap> {
    let mut map = at_emulator::serve::ResolveMap::new();
    for e in entries {
        let (from, to) = e
            .split_once('=')
            .ok_or_else(|| miette!("--resolve {e}: expected HOST:PORT=TARGET"))?;
        let addr = match to {
            "sink" => sink.and_then(smtp_sink::RunningSink::smtp_addr),
            "sink-tls" => sink.and_then(smtp_sink::RunningSink::smtps_addr),
            _ => None,
        };
        let entry = match addr {
            Some(a) => format!("{from}={a}"),
            None => e.clone(),
        };
        map.add(&entry)
            .map_err(|err| miette!("--resolve {e}: {err}"))?;
    }
    Ok(map)
}

/// Runs the subcommand.
pub fn run(args: Args) -> miette::Result<ExitCode> {
    let stop = Arc::new(AtomicBool::new(false));
    {
        let stop = stop.clone();
        let _ = ctrlc::set_handler(move || stop.store(true, Ordering::Relaxed));
    }
    let sink = start_sink(&args)?;
    // With --emulator, the module is the emulator served on a PTY of its own.
    let mut emulator = None;
    let device = match (&args.device, &args.emulator) {
        (Some(d), _) => d.clone(),
        (None, Some(profile)) => {
            let quirks = at_emulator::QuirkSet::from_names(&args.quirk)
                .map_err(|e| miette!("--quirk: {e}"))?;
            let config = at_emulator::EmulatorConfig::builtin(profile)
                .map_err(|e| miette!("emulator profile {profile}: {e}"))?
                .with_quirks(quirks);
            let resolve = resolve_map(&args.resolve, sink.as_ref())?;
            let pty = at_emulator::serve::Pty::open(None)
                .map_err(|e| miette!("cannot open a PTY: {e}"))?;
            let path = pty.slave_path().to_path_buf();
            let opts = at_emulator::serve::ServeOptions::new(config, resolve);
            let (tx, rx) = tokio::sync::oneshot::channel::<()>();
            let handle = std::thread::spawn(move || {
                let rt = tokio::runtime::Runtime::new().map_err(|e| e.to_string())?;
                let r = rt.block_on(async {
                    pty.serve(&opts, async {
                        let _ = rx.await;
                    })
                    .await
                });
                rt.shutdown_timeout(std::time::Duration::from_secs(1));
                r.map_err(|e| e.to_string())
            });
            emulator = Some((tx, handle));
            path
        }
        (None, None) => return Err(miette!("give --device PATH or --emulator PROFILE")),
    };
    let mut tap =
        Tap::open(&device, &args.pty_link).map_err(|e| miette!("{}: {e}", device.display()))?;
    eprintln!(
        "recording {} <-> {} (-> {}); Ctrl-C ends",
        device.display(),
        args.pty_link.display(),
        tap.slave_path().display()
    );
    if let Some(s) = &sink {
        let show = |a: Option<SocketAddr>| a.map_or_else(|| "-".to_string(), |a| a.to_string());
        eprintln!(
            "capture sink: smtp={} smtps={} (its mail goes into the transcript)",
            show(s.smtp_addr()),
            show(s.smtps_addr())
        );
    }
    let quiet = args.quiet;
    // The live echo hides credentials as the recording does (a line may come in pieces).
    let mut shown = [LiveRedactor::default(), LiveRedactor::default()];
    let chunks = tap
        .run(&stop, |at, dir, bytes| {
            if !quiet {
                let (arrow, r) = match dir {
                    at_runner::Direction::Tx => ('>', &mut shown[0]),
                    at_runner::Direction::Rx => ('<', &mut shown[1]),
                };
                eprintln!("[{:>11.6}] {arrow} {}", at.as_secs_f64(), r.feed(bytes));
            }
        })
        .map_err(|e| miette!("{e}"))?;
    drop(tap);
    if let Some((tx, handle)) = emulator {
        let _ = tx.send(());
        let _ = handle.join();
    }
    let mut rec = Recording {
        chunks,
        ..Recording::default()
    };
    if let Some(s) = &sink {
        rec.mail = collect_mail(s);
        eprintln!("the capture sink received {} message(s)", rec.mail.len());
    }
    let text = rec.render();
    match &args.out {
        Some(p) => std::fs::write(p, text).map_err(|e| miette!("{}: {e}", p.display()))?,
        None => super::run::print(&text)?,
    }
    Ok(ExitCode::SUCCESS)
}

/// The sink's messages, once the session of each is recorded (bounded wait).
fn collect_mail(sink: &smtp_sink::RunningSink) -> Vec<MailRecord> {
    let (msgs, ts) = sink.settled(0);
    msgs.iter().map(|m| MailRecord::from_sink(m, &ts)).collect()
}
