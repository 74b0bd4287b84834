//! A whole run: which cases, on which target, with progress and Ctrl-C.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use at_scenario::{Profile, Scenario};

use crate::case::{CaseResult, Status, run_case_emulated, run_case_on};
use crate::report::{RunReport, corpus_name};
use crate::scenario::MailSource;
use crate::target::{Rfc2217Target, SerialTarget, Target, TcpTarget};

/// Where the cases run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TargetSpec {
    /// A fresh in-process emulator per case (virtual time).
    Emulator,
    /// A serial port or PTY, `--port PATH --baud N`.
    Serial {
        /// Device path.
        path: String,
        /// Baud rate.
        baud: u32,
    },
    /// A TCP stream, `--tcp HOST:PORT`.
    Tcp {
        /// Address.
        addr: String,
    },
    /// A serial port behind an RFC 2217 server (ser2net, a labgrid `NetworkSerialPort`):
    /// TCP with baud rate and DTR.
    Rfc2217 {
        /// Address.
        addr: String,
        /// Baud rate to set.
        baud: u32,
    },
}

impl TargetSpec {
    /// Opens the device (`None` for the emulator, which runs one per case).
    pub fn open(&self) -> Result<Option<Box<dyn Target>>, String> {
        let timeout = Duration::from_secs(5);
        Ok(match self {
            TargetSpec::Emulator => None,
            TargetSpec::Serial { path, baud } => Some(Box::new(
                SerialTarget::open(path, *baud).map_err(|e| e.to_string())?,
            )),
            TargetSpec::Tcp { addr } => Some(Box::new(
                TcpTarget::connect(addr, timeout).map_err(|e| e.to_string())?,
            )),
            TargetSpec::Rfc2217 { addr, baud } => Some(Box::new(
                Rfc2217Target::connect(addr, *baud, timeout).map_err(|e| e.to_string())?,
            )),
        })
    }

    /// Whether each case gets a fresh connection: `atconform emulate --listen` powers a
    /// fresh module on per connection, and serial-over-TCP bridges start each session clean.
    pub fn reconnects(&self) -> bool {
        matches!(self, TargetSpec::Tcp { .. } | TargetSpec::Rfc2217 { .. })
    }
}

/// What to run and how.
#[derive(Clone, Debug)]
pub struct RunConfig {
    /// The target.
    pub target: TargetSpec,
    /// Only these profiles (required for real targets: the module's profile).
    pub profiles: Vec<Profile>,
    /// Only scenarios whose corpus path contains one of these.
    pub filters: Vec<String>,
    /// Extra emulator quirks.
    pub quirks: Vec<String>,
    /// Listen address of the capture sink for real targets (the device must reach it).
    pub sink_listen: Option<std::net::SocketAddr>,
    /// Implicit-TLS (SMTPS) listen address of that sink, for `ssltype` 1 scenarios.
    pub sink_tls_listen: Option<std::net::SocketAddr>,
    /// Use a sink run elsewhere (`atconform sink --api ADDR`) instead: its API address.
    pub sink_api: Option<std::net::SocketAddr>,
    /// Only scenarios citing one of these manual sections (`000 §2.2.4`; a section selects
    /// its subsections, see [`crate::corpus::cites`]).
    pub sections: Vec<String>,
    /// How to rerun one case on the command line (for the reproducer commands).
    pub rerun: Option<crate::reproduce::Rerun>,
}

impl Default for RunConfig {
    fn default() -> Self {
        RunConfig {
            target: TargetSpec::Emulator,
            profiles: Vec::new(),
            filters: Vec::new(),
            quirks: Vec::new(),
            sink_listen: None,
            sink_tls_listen: None,
            sink_api: None,
            sections: Vec::new(),
            rerun: None,
        }
    }
}

/// The scenario × profile pairs `cfg` selects, in corpus order.
pub fn select(scenarios: Vec<Scenario>, cfg: &RunConfig) -> Vec<(Arc<Scenario>, Profile)> {
    let mut out = Vec::new();
    for sc in scenarios {
        let name = corpus_name(&sc.name).to_string();
        if !cfg.filters.is_empty() && !cfg.filters.iter().any(|f| name.contains(f.as_str())) {
            continue;
        }
        if !cfg.sections.is_empty()
            && !cfg.sections.iter().any(|s| {
                sc.meta
                    .sources
                    .iter()
                    .any(|src| crate::corpus::cites(src, s))
            })
        {
            continue;
        }
        let sc = Arc::new(sc);
        for p in sc.meta.profiles.iter() {
            if cfg.profiles.is_empty() || cfg.profiles.contains(&p) {
                out.push((sc.clone(), p));
            }
        }
    }
    out
}

/// A shared sink seen from one case: only what arrived after the case started.
struct Since<'a> {
    sink: &'a dyn SharedSink,
    messages: usize,
    transcripts: usize,
}

/// The run-wide sink of a real-target run: in-process, or external through its API.
trait SharedSink {
    fn messages(&self) -> Vec<smtp_sink::StoredMessage>;
    fn transcripts(&self) -> Vec<smtp_sink::Transcript>;
}

impl SharedSink for smtp_sink::RunningSink {
    fn messages(&self) -> Vec<smtp_sink::StoredMessage> {
        smtp_sink::RunningSink::messages(self)
    }
    fn transcripts(&self) -> Vec<smtp_sink::Transcript> {
        smtp_sink::RunningSink::transcripts(self)
    }
}

impl SharedSink for crate::external::ExternalSink {
    fn messages(&self) -> Vec<smtp_sink::StoredMessage> {
        MailSource::messages(self)
    }
    fn transcripts(&self) -> Vec<smtp_sink::Transcript> {
        MailSource::transcripts(self)
    }
}

impl MailSource for Since<'_> {
    fn messages(&self) -> Vec<smtp_sink::StoredMessage> {
        self.sink
            .messages()
            .into_iter()
            .skip(self.messages)
            .collect()
    }
    fn transcripts(&self) -> Vec<smtp_sink::Transcript> {
        // A session is recorded when its connection closes: if mail arrived during this case,
        // wait (bounded, wall time) until its session is there and closed.
        let until = std::time::Instant::now() + Duration::from_secs(2);
        loop {
            let ts: Vec<_> = self
                .sink
                .transcripts()
                .into_iter()
                .skip(self.transcripts)
                .collect();
            let mail = self.sink.messages().len() > self.messages;
            let done = (!mail || !ts.is_empty()) && ts.iter().all(|t| t.end.is_some());
            if done || std::time::Instant::now() >= until {
                return ts;
            }
            std::thread::sleep(Duration::from_millis(2));
        }
    }
}

/// Runs `cases`; `on_case` sees each result as it lands (progress). Stops early, with a
/// partial report, when `cancel` is set. Fails only if a real target cannot be opened.
pub fn run(
    cases: &[(Arc<Scenario>, Profile)],
    cfg: &RunConfig,
    cancel: &AtomicBool,
    mut on_case: impl FnMut(&CaseResult),
) -> Result<RunReport, String> {
    let wall = std::time::Instant::now();
    let mut results = Vec::with_capacity(cases.len());
    let mut device: Option<Box<dyn Target>> = cfg.target.open()?;
    let sink: Option<Box<dyn SharedSink>> = match (&device, cfg.sink_listen) {
        (Some(_), _) if cfg.sink_api.is_some() => cfg
            .sink_api
            .map(|a| Box::new(crate::external::ExternalSink::new(a)) as Box<dyn SharedSink>),
        (Some(_), listen) => {
            let mut c = smtp_sink::SinkConfig::new(smtp_sink::Profile::default());
            if let Some(addr) = listen {
                c = c.listen(Some(addr));
            }
            if let Some(addr) = cfg.sink_tls_listen {
                c = c.tls_listen(Some(addr));
            }
            Some(Box::new(smtp_sink::spawn(c).map_err(|e| {
                format!("cannot start the capture sink: {e}")
            })?))
        }
        _ => None,
    };
    if device.is_none() {
        let cases = run_emulated_parallel(cases, cfg, cancel, &mut on_case);
        return Ok(RunReport {
            interrupted: cancel.load(Ordering::Relaxed),
            cases,
            wall: wall.elapsed(),
        });
    }
    for (sc, profile) in cases {
        if cancel.load(Ordering::Relaxed) {
            break;
        }
        if cfg.target.reconnects() && !results.is_empty() {
            // A fresh connection per case (see `TargetSpec::reconnects`).
            drop(device.take()); // close before reconnecting: one connection at a time
            device = cfg.target.open()?;
        }
        let r = match device.as_mut() {
            None => run_case_emulated(sc, *profile, &cfg.quirks, cancel),
            Some(t) => {
                let since = sink.as_deref().map(|s| Since {
                    sink: s,
                    messages: s.messages().len(),
                    transcripts: s.transcripts().len(),
                });
                run_case_on(
                    sc,
                    *profile,
                    t.as_mut(),
                    since.as_ref().map(|s| s as &dyn MailSource),
                    cancel,
                )
            }
        };
        let mut r = r;
        r.scenario = corpus_name(&r.scenario).to_string();
        on_case(&r);
        let stop = r.status == Status::Interrupted;
        results.push(r);
        if stop {
            break;
        }
    }
    Ok(RunReport {
        cases: results,
        wall: wall.elapsed(),
        interrupted: cancel.load(Ordering::Relaxed),
    })
}

/// Emulator cases are independent (own module, own sink, own virtual clock), so they run on
/// one worker per core; results come back in case order, `on_case` sees them as they finish.
fn run_emulated_parallel(
    cases: &[(Arc<Scenario>, Profile)],
    cfg: &RunConfig,
    cancel: &AtomicBool,
    on_case: &mut impl FnMut(&CaseResult),
) -> Vec<CaseResult> {
    use std::sync::atomic::AtomicUsize;
    let workers = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .clamp(1, 8)
        .min(cases.len().max(1));
    let next = AtomicUsize::new(0);
    let mut slots: Vec<Option<CaseResult>> = vec![None; cases.len()];
    std::thread::scope(|scope| {
        let (tx, rx) = std::sync::mpsc::channel::<(usize, CaseResult)>();
        for _ in 0..workers {
            let tx = tx.clone();
            let next = &next;
            scope.spawn(move || {
                loop {
                    if cancel.load(Ordering::Relaxed) {
                        return;
                    }
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some((sc, profile)) = cases.get(i) else {
                        return;
                    };
                    let mut r = run_case_emulated(sc, *profile, &cfg.quirks, cancel);
                    r.scenario = corpus_name(&r.scenario).to_string();
                    if tx.send((i, r)).is_err() {
                        return;
                    }
                }
            });
        }
        drop(tx);
        for (i, r) in rx {
            on_case(&r);
            if let Some(slot) = slots.get_mut(i) {
                *slot = Some(r);
            }
        }
    });
    slots.into_iter().flatten().collect()
}
