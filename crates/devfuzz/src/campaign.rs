//! A fuzzing campaign: cases one after the other on a device, findings shrunk and written as
//! scenarios, a summary and JSON/JUnit reports; and the quirk table.

use core::time::Duration;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use at_emulator::EmulatorConfig;
use at_emulator::LibertySet;
use at_emulator::quirks::{QUIRKS, QuirkSet};
use at_runner::target::{ReadOutcome, Target, TargetError};

use crate::virt::Live;

use crate::cases::{Caps, Generator};
use crate::exec::{Executor, Run};
use crate::mail::{self, Delivery, Mail};
use crate::model::{Case, Finding, FindingKind, Step};
use crate::scn::{self, ScenarioInfo};
use crate::virt::{self, InMemory, VirtualModule};

/// Whether `case` asks the module to send mail (`AT+QSMTPPUT`, Multi-Tech `AT#PUTMAIL`).
fn sends_mail(case: &Case) -> bool {
    case.steps().any(|s| match s {
        Step::Send { bytes, .. } => {
            let up = bytes.to_ascii_uppercase();
            up.windows(8).any(|w| w == b"QSMTPPUT" || w == b"#PUTMAIL")
        }
        _ => false,
    })
}

/// The device under test.
pub enum Device {
    /// The in-process emulator on virtual time: a fresh module per case.
    Emulator(Box<EmulatorConfig>),
    /// A real device (serial port or TCP); state carries over between cases.
    Live(Live),
}

impl core::fmt::Debug for Device {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Device::Emulator(c) => write!(f, "Emulator({})", c.profile.name),
            Device::Live(t) => write!(f, "Live({})", t.describe()),
        }
    }
}

/// Campaign settings.
#[derive(Clone, Debug)]
pub struct Config {
    /// Campaign seed.
    pub seed: u64,
    /// First case number.
    pub first: u64,
    /// How many cases.
    pub cases: u64,
    /// Shrink findings.
    pub shrink: bool,
    /// Stop after this many findings (0 = never).
    pub max_findings: usize,
    /// Directory for the scenario files of findings.
    pub out_dir: Option<PathBuf>,
    /// Extra response time on real-time targets.
    pub slack: Duration,
    /// Compare the delivered mail with the reference model's even when the emulator has no
    /// quirk on (then any difference means the model is not deterministic).
    pub mail_always: bool,
    /// Start no case (and no shrinking step) after this much wall time.
    pub duration: Option<Duration>,
    /// Live devices: the wall time one case may take. A case whose planned silences and waits
    /// ([`Case::planned_waits`]) exceed it is not run; one still running at it is cut and its
    /// result discarded. Both are counted in [`Summary::over_budget`].
    pub case_budget: Option<Duration>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            seed: 0,
            first: 0,
            cases: 1000,
            shrink: true,
            max_findings: 0,
            out_dir: None,
            slack: Duration::from_millis(500),
            mail_always: false,
            duration: None,
            case_budget: None,
        }
    }
}

/// What stops a live device's blocking reads and waits early: Ctrl-C, or the running case's
/// budget. Shared between the [`Fuzzer`] and its device wrapper.
#[derive(Debug, Default)]
struct Limits {
    stop: Arc<AtomicBool>,
    case_deadline: Mutex<Option<std::time::Instant>>,
}

impl Limits {
    fn stopped(&self) -> bool {
        self.stop.load(Ordering::Relaxed)
    }

    fn cut(&self) -> bool {
        self.stopped()
            || self
                .case_deadline
                .lock()
                .ok()
                .and_then(|d| *d)
                .is_some_and(|d| std::time::Instant::now() >= d)
    }

    fn arm(&self, budget: Option<Duration>) {
        if let Ok(mut d) = self.case_deadline.lock() {
            *d = budget.map(|b| std::time::Instant::now() + b);
        }
    }
}

/// A live device whose reads and sleeps end early (as timeouts) once [`Limits::cut`]: a
/// blocking wait never outlives Ctrl-C or the case budget by more than [`SLICE`].
struct Bounded {
    inner: Box<dyn Target>,
    limits: Arc<Limits>,
}

/// How often a bounded read or sleep looks at its limits.
const SLICE: Duration = Duration::from_millis(100);

impl Target for Bounded {
    fn write(&mut self, bytes: &[u8]) -> Result<(), TargetError> {
        self.inner.write(bytes)
    }
    fn read(&mut self, deadline: at_wire::Instant) -> Result<ReadOutcome, TargetError> {
        loop {
            if self.limits.cut() {
                return Ok(ReadOutcome::Timeout);
            }
            let now = self.inner.now();
            if now >= deadline {
                return self.inner.read(deadline);
            }
            let slice = deadline.min(now + SLICE);
            match self.inner.read(slice)? {
                ReadOutcome::Timeout if slice < deadline => continue,
                other => return Ok(other),
            }
        }
    }
    fn now(&self) -> at_wire::Instant {
        self.inner.now()
    }
    fn sleep(&mut self, d: Duration) {
        let until = self.inner.now() + d;
        while !self.limits.cut() {
            let now = self.inner.now();
            if now >= until {
                return;
            }
            self.inner.sleep((until - now).min(SLICE));
        }
    }
    fn set_dtr(&mut self, level: bool) -> Result<(), TargetError> {
        self.inner.set_dtr(level)
    }
    fn is_virtual(&self) -> bool {
        self.inner.is_virtual()
    }
    fn describe(&self) -> String {
        self.inner.describe()
    }
}

/// One finding of a campaign, shrunk.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Report {
    /// Case number (replay with `--seed S --case N`).
    pub case: u64,
    /// The finding on the shrunk case.
    pub finding: Finding,
    /// Families and labels of the shrunk case's groups.
    pub groups: Vec<String>,
    /// Steps before and after shrinking.
    pub steps: (usize, usize),
    /// The scenario text.
    pub scenario: String,
    /// Where it was written.
    pub path: Option<PathBuf>,
    /// Later findings with the same signature (kind, family, message without numbers), which
    /// were counted but neither shrunk nor written.
    pub duplicates: u64,
    /// The target it was found on: `emulator ec25`, `emulator ec25 with quirks a, b`, or a
    /// live device (`live /dev/ttyUSB2 @ 115200, profile ec25`).
    pub found_on: String,
}

/// What makes two findings "the same bug": kind, the family of the group that failed, and the
/// message with its numbers taken out.
fn signature(case: &Case, f: &Finding) -> String {
    let mut i = 0;
    let family = case
        .groups
        .iter()
        .find(|g| {
            i += g.steps.len();
            f.step < i
        })
        .map_or("liveness", |g| g.family.name());
    let msg: String = f
        .headline()
        .chars()
        .filter(|c| !c.is_ascii_digit())
        .collect();
    format!("{}/{family}/{msg}", f.kind.name())
}

/// What a campaign did.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Summary {
    /// Target description.
    pub target: String,
    /// Profile name.
    pub profile: String,
    /// Quirks on (emulator).
    pub quirks: Vec<String>,
    /// Liberties on (emulator).
    pub liberties: Vec<String>,
    /// Seed.
    pub seed: u64,
    /// Cases run.
    pub cases_run: u64,
    /// Findings, in order.
    pub findings: Vec<Report>,
    /// Wall time.
    pub elapsed: Duration,
    /// Set when the device stopped answering for good.
    pub aborted: Option<String>,
    /// Why the campaign ended before its last case: `interrupted`, `duration`, `max-findings`.
    pub stopped: Option<String>,
    /// The per-case budget in force (live devices).
    pub case_budget: Option<Duration>,
    /// Cases not run (planned waits over the budget) or cut at the budget, by number.
    pub over_budget: Vec<u64>,
}

/// What a campaign reports as it goes ([`Fuzzer::run_observed`]).
#[derive(Debug)]
pub enum Event<'a> {
    /// A case finished (or was passed over).
    Case(Progress),
    /// A new finding, shrunk and written.
    Finding(&'a Report),
    /// A case over the per-case budget: not run (`cut` false) or cut while running.
    OverBudget {
        /// Its number.
        case: u64,
        /// Its planned waits, or the budget it ran out of.
        time: Duration,
        /// Whether it was cut while running.
        cut: bool,
    },
}

/// Progress of a campaign, for a progress bar.
#[derive(Clone, Copy, Debug)]
pub struct Progress {
    /// Cases done.
    pub done: u64,
    /// Findings so far.
    pub findings: usize,
}

/// Runs campaigns on one device.
pub struct Fuzzer {
    device: Device,
    profile: at_catalog::Profile,
    quirks: Vec<String>,
    liberties: Vec<String>,
    generator: Generator,
    cfg: Config,
    echo: bool,
    reference: Option<EmulatorConfig>,
    /// With liberties on: the profile without quirks and without liberties, whose mail the
    /// device's must equal on what any conforming module keeps ([`mail::compare_live`]).
    plain: Option<EmulatorConfig>,
    sink: Option<smtp_sink::RunningSink>,
    limits: Arc<Limits>,
    /// When the campaign started (for [`Config::duration`]).
    started: std::time::Instant,
    /// Whether the last case run on a live device was cut at its budget.
    last_cut: bool,
}

impl core::fmt::Debug for Fuzzer {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Fuzzer")
            .field("device", &self.device)
            .finish()
    }
}

fn without_step(case: &Case, k: usize) -> Case {
    let mut c = case.clone();
    let mut i = 0;
    for g in &mut c.groups {
        if k < i + g.steps.len() {
            g.steps.remove(k - i);
            break;
        }
        i += g.steps.len();
    }
    c.groups.retain(|g| !g.steps.is_empty());
    c
}

/// Whether step `k` belongs to a group that configures and sends mail.
fn in_send_flow(case: &Case, k: usize) -> bool {
    let mut i = 0;
    for g in &case.groups {
        if k < i + g.steps.len() {
            return g.server.is_some();
        }
        i += g.steps.len();
    }
    false
}

fn truncated(case: &Case, last: usize) -> Case {
    let mut c = case.clone();
    let mut i = 0;
    for g in &mut c.groups {
        let keep = (last + 1).saturating_sub(i).min(g.steps.len());
        i += g.steps.len();
        g.steps.truncate(keep);
    }
    c.groups.retain(|g| !g.steps.is_empty());
    c
}

impl Fuzzer {
    /// A fuzzer for `device` of `profile`.
    pub fn new(device: Device, profile: at_catalog::Profile, cfg: Config) -> Self {
        let (caps, quirks) = match &device {
            Device::Emulator(c) => (
                Caps {
                    dtr: true,
                    deliveries_succeed: true,
                    server_faults: true,
                },
                c.quirks.iter().map(|q| q.name().to_owned()).collect(),
            ),
            Device::Live(_) => (Caps::default(), Vec::new()),
        };
        let echo = profile.echo;
        let liberties = match &device {
            Device::Emulator(c) => c.liberties,
            Device::Live(_) => LibertySet::NONE,
        };
        // The reference a shrunk case must pass on: the same profile without any quirk, with
        // the device's liberties (a conforming firmware that made the same choices).
        let reference = EmulatorConfig::new(profile.clone())
            .ok()
            .map(|c| c.with_quirks(QuirkSet::NONE).with_liberties(liberties));
        let plain = (!liberties.is_empty())
            .then(|| EmulatorConfig::new(profile.clone()).ok())
            .flatten()
            .map(|c| c.with_quirks(QuirkSet::NONE));
        let limits = Arc::new(Limits::default());
        // A real-time device's waits must end early on Ctrl-C or at the case budget; a
        // virtual one (tests) costs no wall time.
        let device = match device {
            Device::Live(Live(inner)) if !inner.is_virtual() => {
                Device::Live(Live(Box::new(Bounded {
                    inner,
                    limits: limits.clone(),
                })))
            }
            d => d,
        };
        Fuzzer {
            liberties: liberties.iter().map(|l| l.name().to_owned()).collect(),
            limits,
            started: std::time::Instant::now(),
            last_cut: false,
            sink: None,
            reference,
            plain,
            generator: Generator::new(profile.clone(), caps),
            device,
            profile,
            quirks,
            cfg,
            echo,
        }
    }

    /// A live device's mail goes to `sink`, which the device reaches as `host:port`: sends
    /// are configured with that server, and what the sink received is compared with what the
    /// reference model delivers on the same case ([`mail::compare_live`]).
    pub fn with_mail_sink(mut self, sink: smtp_sink::RunningSink, host: &str, port: u16) -> Self {
        self.generator = self.generator.clone().with_server(host, port);
        self.sink = Some(sink);
        self
    }

    /// The reference model: the device's profile without quirks, mail to the fuzzer's server.
    fn reference_module(&self) -> Option<(VirtualModule, bool)> {
        let cfg = self.reference.as_ref()?;
        let echo = cfg.profile.echo;
        let m =
            at_emulator::driver::Driver::new(cfg.clone(), InMemory::new(self.generator.server()));
        Some((m, echo))
    }

    /// The case generator.
    pub fn generator(&self) -> &Generator {
        &self.generator
    }

    /// Setting this flag stops the campaign (Ctrl-C): a live device's waits end within 100 ms,
    /// the running case is discarded, and [`Fuzzer::run`] returns the summary so far.
    pub fn stop_flag(&self) -> Arc<AtomicBool> {
        self.limits.stop.clone()
    }

    fn live(&self) -> bool {
        matches!(self.device, Device::Live(_))
    }

    /// A live device on a real clock: where the per-case budget applies.
    fn real_time(&self) -> bool {
        matches!(&self.device, Device::Live(t) if !t.is_virtual())
    }

    /// Whether to start nothing more: Ctrl-C, or the campaign's duration is spent.
    fn out_of_time(&self) -> bool {
        self.limits.stopped()
            || self
                .cfg
                .duration
                .is_some_and(|d| self.started.elapsed() >= d)
    }

    /// Where findings of this campaign are found (see [`Report::found_on`]).
    pub fn found_on(&self) -> String {
        match &self.device {
            Device::Emulator(c) if self.quirks.is_empty() => format!("emulator {}", c.profile.name),
            Device::Emulator(c) => format!(
                "emulator {} with quirks {}",
                c.profile.name,
                self.quirks.join(", ")
            ),
            Device::Live(t) => format!("live {}, profile {}", t.describe(), self.profile.name),
        }
    }

    /// Runs one case on the device (a fresh module on the emulator). On the emulator with
    /// quirks, a case that sends mail also runs on the reference model, and any difference in
    /// the delivered mail or the SMTP session is a [`FindingKind::Mail`] finding.
    pub fn run_case(&mut self, case: &Case) -> Run {
        match &mut self.device {
            Device::Emulator(cfg) => {
                let mut m = virt::module((**cfg).clone());
                let mut run = Executor::new(&mut m, cfg.profile.echo, Duration::ZERO).run(case);
                let compare = self.cfg.mail_always || !cfg.quirks.is_empty();
                if run.finding.is_none() {
                    let mails = run.mail.iter().filter_map(|(_, d)| d.mail.as_ref());
                    run.finding = mail::first_rule_break(mails).map(|(i, summary, list)| {
                        let delivered = run.mail.iter().filter(|(_, d)| d.mail.is_some());
                        Finding {
                            kind: FindingKind::Mail,
                            step: delivered.map(|(s, _)| *s).nth(i).unwrap_or_default(),
                            message: format!("{summary}\n{list}").trim_end().to_owned(),
                        }
                    });
                }
                if run.finding.is_none() && compare && sends_mail(case) {
                    run.finding = self.mail_finding(case, &run);
                }
                if run.finding.is_none() && self.plain.is_some() && sends_mail(case) {
                    run.finding = self.liberty_mail_finding(case, &run);
                }
                run
            }
            Device::Live(t) => {
                if let Some(s) = &self.sink {
                    s.clear();
                }
                let budget = self.cfg.case_budget.filter(|_| !t.is_virtual());
                self.limits.arm(budget);
                let mut r = Executor::new(t, self.echo, self.cfg.slack).run(case);
                self.last_cut = self.limits.cut();
                self.limits.arm(None);
                if self.last_cut {
                    // Cut (budget or Ctrl-C): what it saw is no verdict.
                    r.finding = None;
                    self.echo = r.echo;
                    return r;
                }
                self.echo = r.echo;
                if r.finding.is_none() && self.sink.is_some() && sends_mail(case) {
                    r.finding = self.live_mail_finding(case, &mut r);
                }
                r
            }
        }
    }

    /// Brings a live device back to command mode with echo on; `false` if it stays silent.
    fn recover(&mut self) -> bool {
        let Device::Live(t) = &mut self.device else {
            return true;
        };
        let _ = t.set_dtr(false);
        t.sleep(Duration::from_millis(200));
        let _ = t.set_dtr(true);
        t.sleep(Duration::from_millis(1500));
        let _ = t.write(b"+++");
        t.sleep(Duration::from_millis(1500));
        let _ = t.write(b"\rATE1\r");
        t.sleep(Duration::from_millis(500));
        let now = t.now();
        let _ = t.read(now);
        self.echo = true;
        Executor::new(t, true, self.cfg.slack).liveness(0).is_ok()
    }

    /// The differential mail oracle: `run`'s deliveries against the reference model's on the
    /// same case. `None` when they agree or the reference itself does not pass the case.
    fn mail_finding(&self, case: &Case, run: &Run) -> Option<Finding> {
        let (mut m, echo) = self.reference_module()?;
        let r = Executor::new(&mut m, echo, Duration::ZERO).run(case);
        if r.finding.is_some() {
            return None;
        }
        let want: Vec<Delivery> = r.mail.iter().map(|(_, d)| d.clone()).collect();
        let got: Vec<Delivery> = run.mail.iter().map(|(_, d)| d.clone()).collect();
        let (i, summary, diff) = mail::compare(&want, &got)?;
        let step = run
            .mail
            .get(i)
            .or_else(|| r.mail.get(i))
            .map_or(case.steps().count(), |(s, _)| *s);
        Some(Finding {
            kind: FindingKind::Mail,
            step,
            message: format!("{summary}\n{diff}").trim_end().to_owned(),
        })
    }

    /// With liberties on: the device's mail against the liberty-free model's, on what any
    /// conforming module keeps whatever its composer ([`mail::compare_live`]): another MIME
    /// composition must deliver the same mail.
    fn liberty_mail_finding(&self, case: &Case, run: &Run) -> Option<Finding> {
        let cfg = self.plain.as_ref()?;
        let mut m =
            at_emulator::driver::Driver::new(cfg.clone(), InMemory::new(self.generator.server()));
        let r = Executor::new(&mut m, cfg.profile.echo, Duration::ZERO).run(case);
        if r.finding.is_some() {
            return None;
        }
        let mails = |run: &Run| -> Vec<(usize, Mail)> {
            run.mail
                .iter()
                .filter_map(|(s, d)| d.mail.clone().map(|m| (*s, m)))
                .collect()
        };
        let (want, got) = (mails(&r), mails(run));
        let strip = |v: &[(usize, Mail)]| v.iter().map(|(_, m)| m.clone()).collect::<Vec<_>>();
        let (i, summary, diff) = mail::compare_live(&strip(&want), &strip(&got))?;
        let step = got
            .get(i)
            .or_else(|| want.get(i))
            .map_or(case.steps().count(), |(s, _)| *s);
        Some(Finding {
            kind: FindingKind::Mail,
            step,
            message: format!("{summary} (the liberty-free model)\n{diff}")
                .trim_end()
                .to_owned(),
        })
    }

    /// The mail oracle for a live device: the messages its capture sink received during the
    /// case against the reference model's deliveries; records them in `run.mail`.
    fn live_mail_finding(&self, case: &Case, run: &mut Run) -> Option<Finding> {
        let sink = self.sink.as_ref()?;
        let reference = self.reference_run(case)?;
        let want: Vec<(usize, Mail)> = reference
            .mail
            .into_iter()
            .filter_map(|(step, d)| d.mail.map(|m| (step, m)))
            .collect();
        // The put step waited for its URC: the messages are in (or never come).
        let msgs = sink.wait_for_messages(want.len(), Duration::from_secs(5));
        let got: Vec<Mail> = msgs.iter().map(Mail::from_stored).collect();
        let end = case.steps().count();
        run.mail = got
            .iter()
            .enumerate()
            .map(|(i, m)| {
                let step = want.get(i).map_or(end, |(s, _)| *s);
                let d = Delivery {
                    server: self.generator.server().to_owned(),
                    tls: "none",
                    codes: (0, 0),
                    mail: Some(m.clone()),
                    commands: Vec::new(),
                };
                (step, d)
            })
            .collect();
        let want_mail: Vec<Mail> = want.iter().map(|(_, m)| m.clone()).collect();
        let (i, summary, diff) =
            mail::first_rule_break(&got).or_else(|| mail::compare_live(&want_mail, &got))?;
        let step = want.get(i).map_or(end, |(s, _)| *s);
        Some(Finding {
            kind: FindingKind::Mail,
            step,
            message: format!("{summary}\n{diff}").trim_end().to_owned(),
        })
    }

    /// Whether `case` passes on the reference emulator (same profile, no quirk): a shrunk case
    /// whose expectations a conforming module would not meet is no reproduction.
    fn reference_passes(&self, case: &Case) -> bool {
        let Some((mut m, echo)) = self.reference_module() else {
            return true;
        };
        Executor::new(&mut m, echo, Duration::ZERO)
            .run(case)
            .finding
            .is_none()
    }

    /// What the reference emulator answered to `case`, if it passed: the scenario of a finding
    /// shows a conforming module's answers where the expectation is not exact, and the mail a
    /// conforming module delivers.
    fn reference_run(&self, case: &Case) -> Option<Run> {
        let (mut m, echo) = self.reference_module()?;
        let run = Executor::new(&mut m, echo, Duration::ZERO).run(case);
        run.finding.is_none().then_some(run)
    }

    /// Shrinks a failing case: drops what follows the finding, then every group and step whose
    /// removal keeps the same finding (same kind) while the reference emulator still passes.
    pub fn shrink(&mut self, case: &Case, finding: &Finding) -> (Case, Run) {
        let same_kind = |f: &Option<Finding>| f.as_ref().is_some_and(|g| g.kind == finding.kind);
        let mut best = case.clone();
        let mut run = self.run_case(&best);
        if !same_kind(&run.finding) || self.out_of_time() {
            // Not reproducible (a live device's state): keep the case as it was.
            return (best, run);
        }
        if let Some(f) = &run.finding {
            let total = best.steps().count();
            if f.step + 1 < total {
                let t = truncated(&best, f.step);
                let r = self.run_case(&t);
                if same_kind(&r.finding) && self.reference_passes(&t) {
                    best = t;
                    run = r;
                }
            }
        }
        // Groups, then steps, last first.
        let mut gi = best.groups.len();
        while gi > 0 && best.groups.len() > 1 && !self.out_of_time() {
            gi -= 1;
            let mut c = best.clone();
            c.groups.remove(gi);
            let r = self.run_case(&c);
            if same_kind(&r.finding) && self.reference_passes(&c) {
                best = c;
                run = r;
            }
        }
        // A live device keeps its configuration from case to case: without a step of a send
        // flow it would still send, the reference model not, and the scenario would not stand
        // on its own.
        let live = matches!(self.device, Device::Live(_));
        let mut k = best.steps().count();
        while k > 0 && !self.out_of_time() {
            k -= 1;
            let Some(f) = run.finding.clone() else { break };
            if k == f.step || (live && in_send_flow(&best, k)) {
                continue;
            }
            let c = without_step(&best, k);
            let r = self.run_case(&c);
            if r.finding
                .as_ref()
                .is_some_and(|g| g.kind == finding.kind && g.headline() == f.headline())
                && self.reference_passes(&c)
            {
                best = c;
                run = r;
                k = k.min(best.steps().count());
            }
        }
        (best, run)
    }

    /// Runs the campaign, calling `progress` after every case.
    pub fn run(&mut self, progress: &mut dyn FnMut(Progress)) -> Summary {
        self.run_observed(&mut |e| {
            if let Event::Case(p) = e {
                progress(p);
            }
        })
    }

    /// Runs the campaign, telling `on` about every case, every new finding (as soon as it is
    /// shrunk and written) and every case passed over for the per-case budget. Ends at the
    /// last case, at [`Config::duration`], at [`Config::max_findings`], when the device stops
    /// answering, or when [`Fuzzer::stop_flag`] is set (the running case is discarded);
    /// [`Summary::stopped`] says which.
    pub fn run_observed(&mut self, on: &mut dyn FnMut(Event<'_>)) -> Summary {
        self.started = std::time::Instant::now();
        let mut findings: Vec<Report> = Vec::new();
        let mut seen: Vec<String> = Vec::new();
        let mut aborted = None;
        let mut stopped = None;
        let mut over_budget = Vec::new();
        let mut done = 0;
        let live = self.live();
        let budget = self.cfg.case_budget.filter(|_| self.real_time());
        for n in self.cfg.first..self.cfg.first.saturating_add(self.cfg.cases) {
            if self.limits.stopped() {
                stopped = Some("interrupted".to_string());
                break;
            }
            if let Some(d) = self.cfg.duration
                && self.started.elapsed() >= d
            {
                stopped = Some(format!("duration {d:?} reached"));
                break;
            }
            let case = self.generator.case(self.cfg.seed, n);
            if let Some(b) = budget
                && case.planned_waits() > b
            {
                over_budget.push(n);
                on(Event::OverBudget {
                    case: n,
                    time: case.planned_waits(),
                    cut: false,
                });
                continue;
            }
            let run = self.run_case(&case);
            if self.limits.stopped() {
                // Ctrl-C during the case: it did not finish, so it says nothing.
                stopped = Some("interrupted".to_string());
                break;
            }
            if live && self.last_cut {
                over_budget.push(n);
                on(Event::OverBudget {
                    case: n,
                    time: budget.unwrap_or_default(),
                    cut: true,
                });
                if !self.recover() {
                    aborted = Some(format!("device unresponsive after case {n}"));
                    break;
                }
                continue;
            }
            done += 1;
            if let Some(f) = run.finding.clone() {
                let sig = signature(&case, &f);
                if let Some(i) = seen.iter().position(|s| *s == sig) {
                    if let Some(r) = findings.get_mut(i) {
                        r.duplicates += 1;
                    }
                    if live && !self.limits.stopped() && !self.recover() {
                        aborted = Some(format!("device unresponsive after case {n}"));
                        break;
                    }
                    on(Event::Case(Progress {
                        done,
                        findings: findings.len(),
                    }));
                    continue;
                }
                seen.push(sig);
                if live && !self.limits.stopped() && !self.recover() {
                    aborted = Some(format!("device unresponsive after case {n}"));
                }
                let (small, srun) = if self.cfg.shrink && aborted.is_none() {
                    let r = self.shrink(&case, &f);
                    if live && !self.limits.stopped() {
                        self.recover();
                    }
                    r
                } else {
                    (case.clone(), run.clone())
                };
                let sf = srun.finding.clone().unwrap_or(f);
                let report = self.report(&case, &small, &sf, &srun);
                on(Event::Finding(&report));
                findings.push(report);
            }
            on(Event::Case(Progress {
                done,
                findings: findings.len(),
            }));
            if aborted.is_some() {
                break;
            }
            if self.cfg.max_findings > 0 && findings.len() >= self.cfg.max_findings {
                stopped = Some("max-findings".to_string());
                break;
            }
        }
        if stopped.is_none() && self.limits.stopped() {
            stopped = Some("interrupted".to_string());
        }
        Summary {
            target: match &self.device {
                Device::Emulator(c) => format!("emulator {}", c.profile.name),
                Device::Live(t) => t.describe(),
            },
            profile: self.profile.name.clone(),
            quirks: self.quirks.clone(),
            liberties: self.liberties.clone(),
            seed: self.cfg.seed,
            cases_run: done,
            findings,
            elapsed: self.started.elapsed(),
            aborted,
            stopped,
            case_budget: budget,
            over_budget,
        }
    }

    fn report(&self, orig: &Case, small: &Case, f: &Finding, run: &Run) -> Report {
        let quirks: Vec<&str> = self.quirks.iter().map(String::as_str).collect();
        let liberties: Vec<&str> = self.liberties.iter().map(String::as_str).collect();
        let reference = self.reference_run(small);
        let logs = reference
            .as_ref()
            .map_or_else(|| run.logs.clone(), |r| r.logs.clone());
        // A mail finding's scenario checks the mail a conforming module delivers.
        let (want, got) = match (&reference, f.kind) {
            (Some(r), FindingKind::Mail) => (r.mail.as_slice(), run.mail.as_slice()),
            _ => (&[][..], &[][..]),
        };
        let scenario = scn::render(
            small,
            f,
            &logs,
            ScenarioInfo {
                profile: &self.profile.name,
                quirks: &quirks,
                liberties: &liberties,
                echo: self.profile.echo,
                mail: want,
                device_mail: got,
                // A real firmware composes its own headers: only the portable checks.
                exact: matches!(self.device, Device::Emulator(_)),
                trailing: reference
                    .as_ref()
                    .map_or(&[][..], |r| r.trailing.as_slice()),
                found_on: &self.found_on(),
                on_emulator: !self.live(),
            },
        );
        // The runner grades by evidence: a finding that breaks only an ERRATA choice (an echo
        // after `ATE0`, W2; a blank-line layout, W1) is a `verdict: non-strict` scenario.
        let scenario = if matches!(self.device, Device::Emulator(_)) && !quirks.is_empty() {
            scn::graded_verdict(&scenario)
        } else {
            scenario
        };
        let path = self.cfg.out_dir.as_ref().and_then(|d| {
            let p = d.join(format!(
                "fuzz-{}-s{}-c{}-{}.scn",
                self.profile.name,
                small.seed,
                small.number,
                f.kind.name()
            ));
            std::fs::create_dir_all(d).ok()?;
            std::fs::write(&p, &scenario).ok()?;
            Some(p)
        });
        Report {
            case: small.number,
            finding: f.clone(),
            groups: small
                .groups
                .iter()
                .map(|g| format!("{}: {}", g.family.name(), g.label))
                .collect(),
            steps: (orig.steps().count(), small.steps().count()),
            scenario,
            path,
            duplicates: 0,
            found_on: self.found_on(),
        }
    }
}

/// Writes the summary as JSON.
pub fn write_json(s: &Summary, path: &Path) -> std::io::Result<()> {
    let text = serde_json::to_string_pretty(s).map_err(std::io::Error::other)?;
    std::fs::write(path, text)
}

/// Writes the summary as JUnit XML: one failed test case per finding, one passed for the rest.
pub fn write_junit(s: &Summary, path: &Path) -> std::io::Result<()> {
    use quick_junit::{NonSuccessKind, Report as JReport, TestCase, TestCaseStatus, TestSuite};
    let mut suite = TestSuite::new(format!("atconform fuzz {}", s.target));
    for f in &s.findings {
        let mut st = TestCaseStatus::non_success(NonSuccessKind::Failure);
        st.set_message(f.finding.message.clone());
        st.set_type(f.finding.kind.name());
        let mut tc = TestCase::new(format!("seed {} case {}", s.seed, f.case), st);
        tc.set_system_out(f.scenario.clone());
        suite.add_test_case(tc);
    }
    let clean = s.cases_run.saturating_sub(s.findings.len() as u64);
    suite.add_test_case(TestCase::new(
        format!("{clean} cases without finding"),
        TestCaseStatus::success(),
    ));
    let mut r = JReport::new("atconform-fuzz");
    r.add_test_suite(suite);
    let xml = r.to_string().map_err(std::io::Error::other)?;
    std::fs::write(path, xml)
}

/// One row of the quirk table.
#[derive(Clone, Debug, serde::Serialize)]
pub struct QuirkRow {
    /// Quirk name.
    pub quirk: &'static str,
    /// Cases run until the first finding (1-based), or `None` if not found within the budget.
    pub cases_to_finding: Option<u64>,
    /// Kind of the first finding.
    pub kind: Option<FindingKind>,
}

/// For each emulator quirk: a clean start with only that quirk, cases until the first finding.
pub fn quirk_table(profile: &str, seed: u64, budget: u64) -> Vec<QuirkRow> {
    QUIRKS
        .iter()
        .map(|q| {
            let Ok(cfg) = EmulatorConfig::builtin(profile) else {
                return QuirkRow {
                    quirk: q.name,
                    cases_to_finding: None,
                    kind: None,
                };
            };
            let cfg = cfg.with_quirks(QuirkSet::NONE.with(q.quirk));
            let prof = cfg.profile.clone();
            let mut fz = Fuzzer::new(
                Device::Emulator(Box::new(cfg)),
                prof,
                Config {
                    seed,
                    cases: budget,
                    shrink: false,
                    max_findings: 1,
                    ..Config::default()
                },
            );
            let s = fz.run(&mut |_| {});
            let first = s.findings.first();
            QuirkRow {
                quirk: q.name,
                cases_to_finding: first.map(|f| f.case - fz.cfg.first + 1),
                kind: first.map(|f| f.finding.kind),
            }
        })
        .collect()
}

/// Runs `fuzzer`'s campaign with an indicatif progress bar on stderr (hidden when not a TTY).
pub fn run_with_progress_bar(fuzzer: &mut Fuzzer, total: u64) -> Summary {
    run_reporting(fuzzer, total, true)
}

/// One line for a new finding, as it is found.
pub fn finding_line(r: &Report) -> String {
    format!(
        "finding: case {} {} step {}: {}{}",
        r.case,
        r.finding.kind.name(),
        r.finding.step,
        r.finding.headline(),
        r.path
            .as_ref()
            .map(|p| format!("\n         scenario {}", p.display()))
            .unwrap_or_default()
    )
}

/// Runs `fuzzer`'s campaign and says on stderr what happens as it happens: every new finding
/// and every case passed over for the per-case budget, and (with `progress`) a bar on a
/// terminal, else a status line every 10 s. `total` is the number of cases (the bar's length;
/// 0 when only a duration bounds the campaign).
pub fn run_reporting(fuzzer: &mut Fuzzer, total: u64, progress: bool) -> Summary {
    let bar = if progress && (total == 0 || total == u64::MAX) {
        indicatif::ProgressBar::no_length()
    } else if progress {
        indicatif::ProgressBar::new(total)
    } else {
        indicatif::ProgressBar::hidden()
    };
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "{elapsed_precise} [{bar:40}] {pos}/{len} cases, {msg} ({per_sec})",
        )
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
        .progress_chars("=> "),
    );
    let say = |line: String| {
        if bar.is_hidden() {
            eprintln!("{line}");
        } else {
            bar.println(line);
        }
    };
    let start = std::time::Instant::now();
    let mut last_status = start;
    let s = fuzzer.run_observed(&mut |e| match e {
        Event::Case(p) => {
            bar.set_position(p.done);
            bar.set_message(format!("{} findings", p.findings));
            if progress && bar.is_hidden() && last_status.elapsed() >= Duration::from_secs(10) {
                last_status = std::time::Instant::now();
                eprintln!(
                    "[fuzz] {} cases, {} findings, {:.0?}",
                    p.done,
                    p.findings,
                    start.elapsed()
                );
            }
        }
        Event::Finding(r) => say(finding_line(r)),
        Event::OverBudget { case, time, cut } => say(if cut {
            format!("case {case} cut at the per-case budget of {time:?} (result discarded)")
        } else {
            format!("case {case} not run: it waits {time:?}, over the per-case budget")
        }),
    });
    bar.finish_and_clear();
    s
}

/// A human summary: one line per finding, then totals.
pub fn summary_text(s: &Summary) -> String {
    use core::fmt::Write as _;
    let mut out = String::new();
    for f in &s.findings {
        let _ = writeln!(
            out,
            "case {:>6}  {:<17} step {:>3}  {}",
            f.case,
            f.finding.kind.name(),
            f.finding.step,
            f.finding.headline()
        );
        let _ = writeln!(
            out,
            "             {} (steps {} -> {}, {} more like it){}",
            f.groups.join(" | "),
            f.steps.0,
            f.steps.1,
            f.duplicates,
            f.path
                .as_ref()
                .map(|p| format!(", scenario {}", p.display()))
                .unwrap_or_default()
        );
        // A mail finding's diff (`-` reference model, `+` device).
        for l in f.finding.message.lines().skip(1) {
            let _ = writeln!(out, "           {l}");
        }
    }
    if !s.over_budget.is_empty() {
        let shown: Vec<String> = s.over_budget.iter().take(10).map(u64::to_string).collect();
        let _ = writeln!(
            out,
            "{} cases over the per-case budget of {:?}, not run or cut: {}{} (--case-budget raises it)",
            s.over_budget.len(),
            s.case_budget.unwrap_or_default(),
            shown.join(", "),
            if s.over_budget.len() > 10 {
                ", …"
            } else {
                ""
            }
        );
    }
    let _ = writeln!(
        out,
        "{}: {} cases (seed {}), {} findings in {:.1?}{}{}",
        s.target,
        s.cases_run,
        s.seed,
        s.findings.len(),
        s.elapsed,
        s.stopped
            .as_ref()
            .map(|a| format!(" — stopped: {a}"))
            .unwrap_or_default(),
        s.aborted
            .as_ref()
            .map(|a| format!(" — aborted: {a}"))
            .unwrap_or_default()
    );
    out
}
