//! `atconform record`: a tap between a host application and a module. The application opens
//! `--pty-link PATH`; bytes pass through unchanged and both directions are recorded with
//! timestamps (passwords redacted) until Ctrl-C or the module closes.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use at_report::record::Tap;
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
}

/// Runs the subcommand.
pub fn run(args: Args) -> miette::Result<ExitCode> {
    let stop = Arc::new(AtomicBool::new(false));
    {
        let stop = stop.clone();
        let _ = ctrlc::set_handler(move || stop.store(true, Ordering::Relaxed));
    }
    // With --emulator, the module is the emulator served on a PTY of its own.
    let mut emulator = None;
    let device = match (&args.device, &args.emulator) {
        (Some(d), _) => d.clone(),
        (None, Some(profile)) => {
            let config = at_emulator::EmulatorConfig::builtin(profile)
                .map_err(|e| miette!("emulator profile {profile}: {e}"))?;
            let pty = at_emulator::serve::Pty::open(None)
                .map_err(|e| miette!("cannot open a PTY: {e}"))?;
            let path = pty.slave_path().to_path_buf();
            let opts = at_emulator::serve::ServeOptions::new(
                config,
                at_emulator::serve::ResolveMap::new(),
            );
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
    let quiet = args.quiet;
    let rec = tap
        .run(&stop, |at, dir, bytes| {
            if !quiet {
                let arrow = match dir {
                    at_runner::Direction::Tx => '>',
                    at_runner::Direction::Rx => '<',
                };
                eprintln!(
                    "[{:>11.6}] {arrow} {}",
                    at.as_secs_f64(),
                    at_runner::escape(bytes)
                );
            }
        })
        .map_err(|e| miette!("{e}"))?;
    drop(tap);
    if let Some((tx, handle)) = emulator {
        let _ = tx.send(());
        let _ = handle.join();
    }
    let text = rec.render();
    match &args.out {
        Some(p) => std::fs::write(p, text).map_err(|e| miette!("{}: {e}", p.display()))?,
        None => super::run::print(&text)?,
    }
    Ok(ExitCode::SUCCESS)
}
