//! Runs an `at-scenario` [`Scenario`] for one profile: each scenario step becomes a runner
//! [`Step`] once earlier captures are bound, mail checks read the capture sink.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use at_scenario::{
    Bindings, EmulatorAction, ExpectedLine, FrameKind, MailCheck, Matcher, Profile, ResolveTo,
    Scenario, SinkAction, SmtpCheck, StepKind, Terminator, Text, TlsMode,
};

use crate::judge::{Execution, FailureKind, Session, Verdict};
use crate::plan::{Action, Frame, Grading, Item, ItemKind, Location, Segment, Step};
use crate::target::Target;

/// Extra wait granted after a documented deadline on real-time targets, so a late answer is
/// reported as too slow with its bytes rather than as silence.
const REAL_TIME_GRACE: Duration = Duration::from_secs(2);
/// The same on virtual time: long enough for a late answer, short of every module timer.
const VIRTUAL_GRACE: Duration = Duration::from_millis(700);
/// How long to listen for unexpected bytes after the last step.
const QUIET_AFTER: Duration = Duration::from_millis(100);

/// What the runner needs from the capture sink during a scenario.
pub trait MailSource {
    /// Messages received so far, in order.
    fn messages(&self) -> Vec<smtp_sink::StoredMessage>;
    /// SMTP sessions recorded so far, in order.
    fn transcripts(&self) -> Vec<smtp_sink::Transcript>;
}

impl MailSource for smtp_sink::RunningSink {
    fn messages(&self) -> Vec<smtp_sink::StoredMessage> {
        smtp_sink::RunningSink::messages(self)
    }
    fn transcripts(&self) -> Vec<smtp_sink::Transcript> {
        self.settled(0).1
    }
}

/// Emulator-side setup a scenario asks for (`@quirk`, `@liberty`, `@fault`, `@resolve`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct EmulatorSetup {
    /// Quirk names.
    pub quirks: Vec<String>,
    /// Liberty names (`@liberty`).
    pub liberties: Vec<String>,
    /// Faults the emulated module starts with.
    pub faults: Vec<at_emulator::Fault>,
    /// DNS overrides.
    pub resolve: Vec<(String, ResolveTo)>,
}

/// Sink-side setup a scenario asks for (`@sink`; on a real target also the network faults a
/// capture sink can produce, see [`real_target_setup`]).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SinkSetup {
    /// Provider profile name.
    pub profile: Option<String>,
    /// How the session is secured.
    pub tls: Option<TlsMode>,
    /// Scripted misbehaviour, in order.
    pub faults: Vec<SinkFault>,
    /// The AUTH mechanisms the sink offers (`@sink auth PLAIN`); `None`: PLAIN and LOGIN.
    pub auth_mechanisms: Option<Vec<String>>,
    /// TLS faults (`@sink tls-fault NAME`), in order.
    pub tls_faults: Vec<String>,
    /// The only TLS versions the sink accepts (`@sink tls-versions LIST`), as written.
    pub tls_versions: Option<String>,
    /// The only suites the sink accepts (`@sink tls-ciphers LIST`), as written.
    pub tls_ciphers: Option<String>,
    /// Nobody listens during the case: the module's connection is refused
    /// (`@fault tcp-connect-fails`, `@fault refused`).
    pub refuse: bool,
    /// With a fault-control port (`run --fault-control`): the module faults (SIM, mobile
    /// network) to put the module into when the case starts, in `at_emulator::Fault` syntax.
    pub module_faults: Vec<String>,
    /// With a fault-control port: the case injects a module fault at one of its steps
    /// (`@fault pdp-deactivated`), so the faults are cleared after it.
    pub step_faults: bool,
}

impl SinkSetup {
    /// Whether the case puts the module into a fault through a fault-control port, at its start
    /// or at a step (then the faults are cleared after it).
    pub fn has_module_faults(&self) -> bool {
        !self.module_faults.is_empty() || self.step_faults
    }

    /// Whether the case needs anything but a default sink.
    pub fn is_default(&self) -> bool {
        *self == SinkSetup::default()
    }

    /// Why a sink the runner does not own (`--sink-api`: run elsewhere, shared by every case)
    /// cannot give this scenario what it asks for; `None` when it can.
    pub fn unsupported_on_shared_sink(&self) -> Option<String> {
        let mut needs = Vec::new();
        if let Some(p) = &self.profile {
            needs.push(format!("@sink profile {p}"));
        }
        if self.tls == Some(TlsMode::None) {
            // A shared sink offers STARTTLS (an external one may too): the module would
            // upgrade, and a scenario expecting 665 (ERRATA M4) would fail for the wrong reason.
            needs.push("@sink tls none (a server that offers no STARTTLS)".into());
        }
        for f in &self.faults {
            let what = match f {
                SinkFault::Reply { .. } => "@sink reply",
                SinkFault::Drop(_) | SinkFault::DropAt(_) => "@sink drop (or a reset)",
                SinkFault::Stall(_) => "a server that stops answering",
            };
            if !needs.iter().any(|n| n == what) {
                needs.push(what.into());
            }
        }
        if let Some(m) = &self.auth_mechanisms {
            needs.push(format!("@sink auth {}", m.join(",")));
        }
        for f in &self.tls_faults {
            needs.push(format!("@sink tls-fault {f}"));
        }
        if let Some(v) = &self.tls_versions {
            needs.push(format!("@sink tls-versions {v}"));
        }
        if let Some(c) = &self.tls_ciphers {
            needs.push(format!("@sink tls-ciphers {c}"));
        }
        if self.refuse {
            needs.push("a refused connection".into());
        }
        (!needs.is_empty()).then(|| {
            format!(
                "needs a capture sink set up for this case ({}); a sink run elsewhere (--sink-api) \
                 is shared by every case: use the runner's own (--sink-listen)",
                needs.join(", ")
            )
        })
    }
}

/// One `@sink reply` / `@sink drop` directive.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SinkFault {
    /// Answer `code text` at `stage`. The text is passed as is (no script syntax, so `;` or
    /// `#` in it are just text).
    Reply {
        /// Where.
        stage: at_scenario::SmtpStage,
        /// Reply code.
        code: u16,
        /// Reply text.
        text: String,
    },
    /// Close the connection at `stage` without replying.
    Drop(at_scenario::SmtpStage),
    /// Close the connection at this point of the sink's dialogue (a network reset).
    DropAt(smtp_sink::DropAt),
    /// Stop answering at this point (a stalled server).
    Stall(smtp_sink::Point),
}

/// Why a scenario cannot run on a device the runner does not control (a real module).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum RealTargetError {
    /// `@quirk` plants a firmware defect: a self-test of the harness.
    #[error(
        "needs the emulator: @quirk {0} plants a firmware defect the harness must \
         catch (a self-test of the harness, not of the module)"
    )]
    Quirk(String),
    /// `@fault sim-not-ready` without a fault-control port.
    #[error(
        "needs control of the module's (U)SIM (@fault sim-not-ready, 000 §4.1; \
         --fault-control gives it)"
    )]
    Sim,
    /// A mobile-network fault without a fault-control port.
    #[error("needs control of the mobile network (@fault {0}; --fault-control gives it)")]
    Network(String),
    /// `@fault dns`.
    #[error(
        "needs control of DNS (@fault dns): on a real target give the \
         server a name that cannot resolve (RFC 2606 .invalid) instead"
    )]
    Dns,
    /// A network fault at an SMTP stage the capture sink cannot fail at.
    #[error("a capture sink cannot fail at {0}: needs the emulator")]
    SinkStage(String),
    /// A fault point the sink does not know.
    #[error(transparent)]
    SinkPoint(#[from] smtp_sink::UnknownPoint),
    /// Any other network fault.
    #[error("@fault {0}: needs the emulator")]
    NeedsEmulator(String),
}

/// Why a scenario could not be turned into steps; points at its file:line.
#[derive(Debug, thiserror::Error)]
pub enum ScenarioError {
    /// The variables' values do not bind.
    #[error("{scenario}: {source}")]
    Bindings {
        /// The scenario's name.
        scenario: String,
        /// Why.
        #[source]
        source: at_scenario::BindError,
    },
    /// A line does not render or compile with the bindings.
    #[error("{location}: {source}")]
    Bind {
        /// The step.
        location: Location,
        /// Why.
        #[source]
        source: at_scenario::BindError,
    },
    /// A `@data` payload cannot be produced.
    #[error("{location}: {source}")]
    Payload {
        /// The step.
        location: Location,
        /// Why.
        #[source]
        source: at_scenario::PayloadError,
    },
    /// A `@data file:` of the embedded corpus that is not embedded.
    #[error("{location}: data file {rel} not in the corpus")]
    DataFile {
        /// The step.
        location: Location,
        /// The file, from the corpus root.
        rel: String,
    },
}

/// How `sc` runs for `profile` on a device the runner does not control (a real module,
/// `atconform emulate`): its `@sink` setup plus the network faults a capture sink produces from
/// outside — a refused connection (no listener), a server that stops answering, a reset —, or
/// why it cannot run there: what needs the module's SIM, radio network, DNS answers or
/// firmware (`@quirk`) is only possible on the in-process emulator.
pub fn real_target_setup(sc: &Scenario, profile: Profile) -> Result<SinkSetup, RealTargetError> {
    real_target_setup_with(sc, profile, false)
}

/// [`real_target_setup`] for a run with a fault-control port (`controlled`): the module faults
/// (SIM, mobile network) run too, put into the module through that port
/// ([`crate::fault_control`]).
pub fn real_target_setup_with(
    sc: &Scenario,
    profile: Profile,
    controlled: bool,
) -> Result<SinkSetup, RealTargetError> {
    use at_mailer::{NetFault, Stage};
    use at_scenario::Fault;
    let (_, mut sink) = setup_for(sc, profile);
    for step in sc.steps_for(profile) {
        let StepKind::Emulator(action) = &step.kind else {
            continue;
        };
        let net = match action {
            EmulatorAction::Fault(Fault::PdpDeactivated) if controlled => {
                sink.step_faults = true;
                continue;
            }
            EmulatorAction::Fault(
                f @ (Fault::SimNotReady | Fault::PdpActivationFails | Fault::PdpDeactivateAt(_)),
            ) if controlled => {
                sink.module_faults.push(emulator_fault(*f).to_string());
                continue;
            }
            EmulatorAction::Quirk(q) => {
                return Err(RealTargetError::Quirk(q.to_string()));
            }
            EmulatorAction::Fault(Fault::SimNotReady) => {
                return Err(RealTargetError::Sim);
            }
            EmulatorAction::Fault(Fault::TcpConnectFails) => NetFault::Refused,
            EmulatorAction::Fault(f) => {
                return Err(RealTargetError::Network(f.to_string()));
            }
            EmulatorAction::Net(n) => net_fault(*n),
            _ => continue,
        };
        let point = |stage: Stage| -> Result<smtp_sink::Point, RealTargetError> {
            let name = match stage {
                Stage::Greeting => "greeting",
                Stage::Ehlo => "ehlo",
                Stage::StartTls => "starttls",
                Stage::Auth => "auth",
                Stage::MailFrom => "mail",
                Stage::RcptTo => "rcpt",
                Stage::Data => "data",
                Stage::Body => "data-end",
                Stage::Quit => "quit",
                other => {
                    return Err(RealTargetError::SinkStage(other.to_string()));
                }
            };
            name.parse().map_err(RealTargetError::SinkPoint)
        };
        match net {
            NetFault::Dns => {
                return Err(RealTargetError::Dns);
            }
            NetFault::Refused => sink.refuse = true,
            NetFault::Reset { stage: Stage::Body } => {
                sink.faults
                    .push(SinkFault::DropAt(smtp_sink::DropAt::MidData));
            }
            NetFault::Reset {
                stage: Stage::Greeting,
            } => sink
                .faults
                .push(SinkFault::DropAt(smtp_sink::DropAt::BeforeGreeting)),
            NetFault::Reset { stage } => sink
                .faults
                .push(SinkFault::DropAt(smtp_sink::DropAt::Command(point(stage)?))),
            NetFault::Stall { stage } => sink.faults.push(SinkFault::Stall(point(stage)?)),
            _ => return Err(RealTargetError::NeedsEmulator(net.to_string())),
        }
    }
    Ok(sink)
}

/// The emulator's fault for a scenario's `@fault`.
pub fn emulator_fault(f: at_scenario::Fault) -> at_emulator::Fault {
    use at_scenario::Fault as F;
    match f {
        F::SimNotReady => at_emulator::Fault::SimNotReady,
        F::PdpActivationFails => at_emulator::Fault::PdpActivationFails,
        F::PdpDeactivated => at_emulator::Fault::PdpDeactivate { at: Duration::ZERO },
        F::TcpConnectFails => at_emulator::Fault::Net(at_mailer::NetFault::Refused),
        F::PdpDeactivateAt(at) => at_emulator::Fault::PdpDeactivate { at },
    }
}

/// The mailer's network fault for a scenario's `@fault dns`, `@fault reset@STAGE`, ....
pub fn net_fault(n: at_scenario::NetFault) -> at_mailer::NetFault {
    use at_mailer::{NetFault as M, Stage};
    use at_scenario::{ClientStage as C, NetFault as N};
    let stage = |s: C| match s {
        C::Connect => Stage::Connect,
        C::Greeting => Stage::Greeting,
        C::Ehlo => Stage::Ehlo,
        C::Starttls => Stage::StartTls,
        C::Auth => Stage::Auth,
        C::MailFrom => Stage::MailFrom,
        C::RcptTo => Stage::RcptTo,
        C::Data => Stage::Data,
        C::Body => Stage::Body,
        C::Quit => Stage::Quit,
    };
    match n {
        N::Dns => M::Dns,
        N::Refused => M::Refused,
        N::Reset(s) => M::Reset { stage: stage(s) },
        N::Stall(s) => M::Stall { stage: stage(s) },
    }
}

/// Collects the `@quirk`/`@fault`/`@resolve` and `@sink` directives that apply to `profile`.
pub fn setup_for(sc: &Scenario, profile: Profile) -> (EmulatorSetup, SinkSetup) {
    let mut emu = EmulatorSetup::default();
    let mut sink = SinkSetup::default();
    for step in sc.steps_for(profile) {
        match &step.kind {
            StepKind::Emulator(EmulatorAction::Quirk(q)) => emu.quirks.push(q.clone()),
            StepKind::Emulator(EmulatorAction::Liberty(l)) => emu.liberties.push(l.clone()),
            StepKind::Emulator(EmulatorAction::Resolve { host, to }) => {
                emu.resolve.push((host.clone(), to.clone()));
            }
            // Injected when its step is reached (plan: `Action::Fault`).
            StepKind::Emulator(EmulatorAction::Fault(at_scenario::Fault::PdpDeactivated)) => {}
            StepKind::Emulator(EmulatorAction::Fault(f)) => emu.faults.push(emulator_fault(*f)),
            StepKind::Emulator(EmulatorAction::Net(n)) => {
                emu.faults.push(at_emulator::Fault::Net(net_fault(*n)));
            }
            StepKind::Sink(SinkAction::Profile(p)) => sink.profile = Some(p.clone()),
            StepKind::Sink(SinkAction::Tls(t)) => sink.tls = Some(*t),
            StepKind::Sink(SinkAction::Reply { stage, code, text }) => {
                sink.faults.push(SinkFault::Reply {
                    stage: *stage,
                    code: *code,
                    text: text.clone().unwrap_or_else(|| "Injected fault".into()),
                });
            }
            StepKind::Sink(SinkAction::Drop(stage)) => sink.faults.push(SinkFault::Drop(*stage)),
            StepKind::Sink(SinkAction::AuthMechanisms(m)) => {
                sink.auth_mechanisms = Some(m.clone());
            }
            StepKind::Sink(SinkAction::TlsFault(f)) => sink.tls_faults.push(f.clone()),
            StepKind::Sink(SinkAction::TlsVersions(v)) => sink.tls_versions = Some(v.clone()),
            StepKind::Sink(SinkAction::TlsCiphers(c)) => sink.tls_ciphers = Some(c.clone()),
            _ => {}
        }
    }
    (emu, sink)
}

fn location(sc: &Scenario, line: u32) -> Location {
    Location {
        file: sc.name.clone(),
        line,
    }
}

/// Splits a group into W1 frames: a run of information lines is one frame, every other line
/// its own. Each frame is compiled with the current bindings.
fn frames_of<'a>(
    lines: impl IntoIterator<Item = &'a ExpectedLine>,
    bindings: &Bindings,
) -> Result<(Vec<Frame>, Vec<u32>), at_scenario::BindError> {
    let mut groups: Vec<Vec<&ExpectedLine>> = Vec::new();
    for line in lines {
        let join = line.frame == FrameKind::Info
            && groups
                .last()
                .and_then(|g| g.last())
                .is_some_and(|l| l.frame == FrameKind::Info);
        match groups.last_mut() {
            Some(g) if join => g.push(line),
            _ => groups.push(vec![line]),
        }
    }
    let mut frames = Vec::new();
    let mut lines = Vec::new();
    for g in groups {
        let m = Matcher::new(g.iter().copied(), bindings)?;
        lines.push(g.first().map_or(0, |l| l.span.line));
        frames.push(Frame {
            segments: vec![Segment::Group(Arc::new(m))],
        });
    }
    Ok((frames, lines))
}

/// A failed `@mail`/`@smtp` check: its line, what differed, its evidence.
type CheckFailure = (u32, String, at_scenario::Evidence);

/// A group's lines as [`Item`]s judged on decoded events, or `None` when a line is raw (`<<`:
/// exact bytes, judged by [`frames_of`]).
fn items_of<'a>(
    lines: impl IntoIterator<Item = &'a ExpectedLine>,
    sc: &Scenario,
    bindings: &Bindings,
) -> Result<Option<Vec<Item>>, at_scenario::BindError> {
    let mut items = Vec::new();
    for l in lines {
        let kind = match l.frame {
            FrameKind::Info => ItemKind::Info,
            FrameKind::Final => ItemKind::Final,
            FrameKind::Urc => ItemKind::Urc,
            FrameKind::Raw => return Ok(None),
        };
        let m = at_scenario::LineMatcher::new(&l.text, bindings)?;
        items.push(Item {
            kind,
            line: Arc::new(m),
            grading: Grading::of(&l.evidence),
            location: Some(location(sc, l.span.line)),
        });
    }
    Ok(Some(items))
}

/// Whether `value` matches `text` entirely (patterns and variables allowed).
fn text_matches(text: &Text, value: &[u8], bindings: &Bindings) -> bool {
    // A pattern hole runs to a CR: terminate the value with one, which must be left over.
    let line = ExpectedLine {
        frame: FrameKind::Raw,
        text: text.clone(),
        only: None,
        span: Default::default(),
        evidence: Default::default(),
    };
    let mut v = value.to_vec();
    v.push(b'\r');
    Matcher::new([&line], bindings).is_ok_and(|m| {
        matches!(m.match_prefix(&v), at_scenario::MatchStatus::Complete { len, .. } if len == value.len())
    })
}

/// Unfolded header fields `(name, value)` of a message, in order (what `@mail header:` sees).
pub fn header_fields(raw: &[u8]) -> Vec<(String, String)> {
    let text = String::from_utf8_lossy(raw);
    let head = text.split("\r\n\r\n").next().unwrap_or_default();
    let mut fields: Vec<String> = Vec::new();
    for line in head.split("\r\n") {
        if line.starts_with([' ', '\t']) {
            if let Some(last) = fields.last_mut() {
                last.push_str(line);
            }
        } else {
            fields.push(line.to_string());
        }
    }
    fields
        .iter()
        .filter_map(|f| {
            let (n, v) = f.split_once(':')?;
            Some((n.trim().to_string(), v.trim().to_string()))
        })
        .collect()
}

/// Unfolded raw header values named `name` (case-insensitive) from a message.
fn header_values(raw: &[u8], name: &str) -> Vec<String> {
    header_fields(raw)
        .into_iter()
        .filter_map(|(n, v)| n.eq_ignore_ascii_case(name).then_some(v))
        .collect()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// State of one scenario run beyond the byte session.
struct Interp<'s> {
    sc: &'s Scenario,
    bindings: Bindings,
    payloads: BTreeMap<String, Vec<u8>>,
    mails_checked: usize,
}

impl Interp<'_> {
    /// Checks the next delivered mail; `Err` when there is none to check, else the checks
    /// that failed, each with its evidence.
    fn check_mail(
        &mut self,
        checks: &[(MailCheck, at_scenario::Span)],
        evidence: &[at_scenario::Evidence],
        mail: Option<&dyn MailSource>,
    ) -> Result<Vec<CheckFailure>, (u32, String)> {
        let first = checks.first().map_or(0, |(_, s)| s.line.saturating_sub(1));
        let Some(mail) = mail else {
            return Err((first, "no capture sink attached to this target".into()));
        };
        let msgs = mail.messages();
        let Some(msg) = msgs.get(self.mails_checked) else {
            return Err((
                first,
                format!(
                    "expected mail #{}, the sink received {}",
                    self.mails_checked + 1,
                    msgs.len()
                ),
            ));
        };
        self.mails_checked += 1;
        let parsed = msg.parsed();
        let b = &self.bindings;
        let mut failed = Vec::new();
        for (n, (check, span)) in checks.iter().enumerate() {
            let fail = |what: String| Err((span.line, b.redact(&what)));
            let r = (|| -> Result<(), (u32, String)> {
                match check {
                    MailCheck::MailFrom(t) => {
                        if !text_matches(t, msg.envelope.mail_from.as_bytes(), b) {
                            return fail(format!(
                                "MAIL FROM was {:?}, expected {}",
                                msg.envelope.mail_from,
                                b.display(t)
                            ));
                        }
                    }
                    MailCheck::RcptTo(list) => {
                        let mut want: Vec<String> = list
                            .iter()
                            .map(|t| {
                                String::from_utf8_lossy(&b.render(t).unwrap_or_default()).into()
                            })
                            .collect();
                        let mut got = msg.envelope.rcpt_to.clone();
                        want.sort();
                        got.sort();
                        if want != got {
                            return fail(format!("RCPT TO were {got:?}, expected {want:?}"));
                        }
                    }
                    MailCheck::Header { name, value } => {
                        let vals = header_values(&msg.raw, name);
                        if !vals.iter().any(|v| text_matches(value, v.as_bytes(), b)) {
                            return fail(format!(
                                "header {name} was {vals:?}, expected {}",
                                b.display(value)
                            ));
                        }
                    }
                    MailCheck::NoHeader(name) => {
                        let vals = header_values(&msg.raw, name);
                        if !vals.is_empty() {
                            return fail(format!("header {name} present: {vals:?}"));
                        }
                    }
                    MailCheck::NoHeaderValue { name, value } => {
                        let vals = header_values(&msg.raw, name);
                        if let Some(v) = vals.iter().find(|v| text_matches(value, v.as_bytes(), b))
                        {
                            return fail(format!(
                                "header {name} was {v:?}, which must not match {}",
                                b.display(value)
                            ));
                        }
                    }
                    MailCheck::Subject(t) => {
                        let got = parsed.subject.clone().unwrap_or_default();
                        if !text_matches(t, got.as_bytes(), b) {
                            return fail(format!("subject was {got:?}, expected {}", b.display(t)));
                        }
                    }
                    MailCheck::Body(t) => {
                        let got = parsed.text_body.clone().unwrap_or_default();
                        if !text_matches(t, got.as_bytes(), b) {
                            return fail(format!(
                                "body was {}, expected {}",
                                crate::escape(got.as_bytes()),
                                b.display(t)
                            ));
                        }
                    }
                    MailCheck::BodyPayload(name) => {
                        let want = self.payloads.get(name).cloned().unwrap_or_default();
                        let got = parsed.text_body.clone().unwrap_or_default();
                        // DATA ends the body with CRLF (RFC 5321 §4.1.1.4): a payload without
                        // one arrives with one.
                        let got_b = got.as_bytes();
                        let same = got_b == want.as_slice()
                            || (!want.ends_with(b"\r\n")
                                && got_b.strip_suffix(b"\r\n") == Some(want.as_slice()));
                        if !same {
                            return fail(format!(
                                "body ({} bytes) differs from payload {name} ({} bytes): {}",
                                got.len(),
                                want.len(),
                                crate::escape(
                                    got.as_bytes().get(..80.min(got.len())).unwrap_or_default()
                                )
                            ));
                        }
                    }
                    MailCheck::AttachmentCount(n) => {
                        if parsed.attachments.len() != *n {
                            return fail(format!(
                                "{} attachments, expected {n}",
                                parsed.attachments.len()
                            ));
                        }
                    }
                    MailCheck::Attachment(a) => {
                        let Some(att) = parsed
                            .attachments
                            .iter()
                            .find(|x| x.name.as_deref() == Some(a.name.as_str()))
                        else {
                            let names: Vec<_> =
                                parsed.attachments.iter().map(|x| x.name.clone()).collect();
                            return fail(format!("no attachment {}, got {names:?}", a.name));
                        };
                        if let Some(size) = a.size
                            && att.bytes.len() as u64 != size
                        {
                            return fail(format!(
                                "attachment {} has {} bytes, expected {size}",
                                a.name,
                                att.bytes.len()
                            ));
                        }
                        if let Some(sha) = &a.sha256 {
                            use sha2::Digest;
                            let got = hex(&sha2::Sha256::digest(&att.bytes));
                            if !got.eq_ignore_ascii_case(sha) {
                                return fail(format!(
                                    "attachment {} sha256 {got}, expected {sha}",
                                    a.name
                                ));
                            }
                        }
                        if let Some(p) = &a.payload
                            && self.payloads.get(p).map(Vec::as_slice) != Some(att.bytes.as_slice())
                        {
                            return fail(format!("attachment {} differs from payload {p}", a.name));
                        }
                    }
                    other => return fail(format!("unsupported mail check {other:?}")),
                }
                Ok(())
            })();
            if let Err((line, what)) = r {
                let ev = evidence.get(n).cloned().unwrap_or_default();
                failed.push((line, what, ev));
            }
        }
        Ok(failed)
    }

    /// Checks the last SMTP session; `Err` when there is none, else the failed checks.
    fn check_smtp(
        &self,
        checks: &[(SmtpCheck, at_scenario::Span)],
        evidence: &[at_scenario::Evidence],
        mail: Option<&dyn MailSource>,
    ) -> Result<Vec<CheckFailure>, (u32, String)> {
        let first = checks.first().map_or(0, |(_, s)| s.line.saturating_sub(1));
        let Some(mail) = mail else {
            return Err((first, "no capture sink attached to this target".into()));
        };
        let ts = mail.transcripts();
        let Some(t) = ts.last() else {
            return Err((first, "the sink recorded no SMTP session".into()));
        };
        let client = t.client_bytes();
        let lines: Vec<&[u8]> = client
            .split(|&b| b == b'\n')
            .map(|l| l.strip_suffix(b"\r").unwrap_or(l))
            .filter(|l| !l.is_empty())
            .collect();
        let server = String::from_utf8_lossy(&t.server_bytes()).into_owned();
        let b = &self.bindings;
        let mut failed = Vec::new();
        for (n, (check, span)) in checks.iter().enumerate() {
            let fail = |what: String| Err((span.line, b.redact(&what)));
            let r = (|| -> Result<(), (u32, String)> {
                match check {
                    SmtpCheck::Sent(text) => {
                        if !lines.iter().any(|l| text_matches(text, l, b)) {
                            return fail(format!("the client never sent {}", b.display(text)));
                        }
                    }
                    SmtpCheck::NotSent(text) => {
                        if let Some(l) = lines.iter().find(|l| text_matches(text, l, b)) {
                            return fail(format!(
                                "the client sent {}",
                                crate::escape(&b.redact_bytes(l))
                            ));
                        }
                    }
                    SmtpCheck::RepliedLine(text) => {
                        let replies: Vec<&str> = server
                            .lines()
                            .map(|l| l.strip_suffix('\r').unwrap_or(l))
                            .collect();
                        if !replies.iter().any(|l| text_matches(text, l.as_bytes(), b)) {
                            return fail(format!("the sink never replied {}", b.display(text)));
                        }
                    }
                    SmtpCheck::Replied(code) => {
                        let prefix = code.to_string();
                        if !server.lines().any(|l| l.starts_with(&prefix)) {
                            return fail(format!("the sink never replied {code}"));
                        }
                    }
                    SmtpCheck::Tls(mode) => {
                        let got = if t.implicit_tls {
                            TlsMode::Implicit
                        } else if !t.tls_upgrades.is_empty() {
                            TlsMode::Starttls
                        } else {
                            TlsMode::None
                        };
                        if got != *mode {
                            return fail(format!(
                                "session security was {got:?}, expected {mode:?}"
                            ));
                        }
                    }
                    SmtpCheck::TlsVersion(text) | SmtpCheck::TlsCipher(text) => {
                        let Some(info) = &t.tls else {
                            let why = t
                                .tls_error
                                .as_deref()
                                .unwrap_or("the session was not secured");
                            return fail(format!("no TLS was negotiated ({why})"));
                        };
                        let (what, candidates) = match check {
                            SmtpCheck::TlsVersion(_) => ("version", vec![&info.version]),
                            _ => (
                                "suite",
                                vec![&info.cipher, &info.cipher_id, &info.cipher_openssl],
                            ),
                        };
                        if !candidates
                            .iter()
                            .any(|c| text_matches(text, c.as_bytes(), b))
                        {
                            return fail(format!(
                                "TLS {what} was {}, expected {}",
                                info.summary(),
                                b.display(text)
                            ));
                        }
                    }
                    other => return fail(format!("unsupported SMTP check {other:?}")),
                }
                Ok(())
            })();
            if let Err((line, what)) = r {
                let ev = evidence.get(n).cloned().unwrap_or_default();
                failed.push((line, what, ev));
            }
        }
        Ok(failed)
    }
}

/// Grades failed `@mail`/`@smtp` checks by their evidence: implementation-defined and ERRATA
/// ones are recorded and judging goes on, the first documented one is the verdict.
fn record_checks(
    session: &mut Session<'_>,
    sc: &Scenario,
    step: usize,
    failed: Vec<CheckFailure>,
) -> Result<(), Verdict> {
    for (line, detail, ev) in failed {
        let grading = Grading::of(&ev);
        let Verdict::Fail(mut f) =
            session.failure(step, location(sc, line), FailureKind::Mail { detail })
        else {
            continue;
        };
        f.grade = grading.grade();
        f.evidence = grading.evidence;
        session.record(*f)?;
    }
    Ok(())
}

/// Runs `sc` for `profile` on `target`; `mail` is the sink the device delivers to, if any.
///
/// Returns the raw execution: a scenario whose header says `verdict: fail` is judged by the
/// caller ([`crate::case::run_case_on`]).
pub fn run_scenario(
    sc: &Scenario,
    profile: Profile,
    target: &mut dyn Target,
    mail: Option<&dyn MailSource>,
    cancel: &AtomicBool,
) -> Result<Execution, ScenarioError> {
    run_scenario_with(
        sc,
        profile,
        target,
        mail,
        &crate::vars::LabVars::default(),
        cancel,
    )
}

/// [`run_scenario`] with the variables' values from `vars` (`--var`, the environment, a lab
/// file; see [`crate::vars`]) over the scenario's defaults.
pub fn run_scenario_with(
    sc: &Scenario,
    profile: Profile,
    target: &mut dyn Target,
    mail: Option<&dyn MailSource>,
    vars: &crate::vars::LabVars,
    cancel: &AtomicBool,
) -> Result<Execution, ScenarioError> {
    let bindings =
        sc.bindings(|name| vars.get(name))
            .map_err(|source| ScenarioError::Bindings {
                scenario: sc.name.clone(),
                source,
            })?;
    let mut session = Session::new(target, &format!("{} [{profile}]", sc.name));
    for v in sc.vars.iter().filter(|v| v.secret) {
        if let Some(val) = bindings.get(&v.name) {
            let val = val.to_vec();
            session.add_secret(&val);
        }
    }
    session.hard_deadline = Some(session.started() + sc.meta.timeout);
    // Late bytes are still awaited past `max_response` so that a slow answer is judged too slow
    // (non-strict) rather than missing; on virtual time the wait costs nothing.
    let grace = if session.is_virtual() {
        VIRTUAL_GRACE
    } else {
        REAL_TIME_GRACE
    };
    let mut it = Interp {
        sc,
        bindings,
        payloads: BTreeMap::new(),
        mails_checked: 0,
    };
    let mut interleave: Vec<Item> = Vec::new();
    let mut last: Option<Step> = None;
    // The last command line sent: the catalog limit of what answers it (ERRATA E30).
    let mut last_command: Option<Vec<u8>> = None;
    let verdict = 'run: {
        for (i, step) in sc.steps_for(profile).enumerate() {
            if cancel.load(Ordering::Relaxed) {
                break 'run Verdict::Interrupted;
            }
            let loc = location(sc, step.span.line);
            let mk = |action: Action, expect: Vec<Frame>, timeout: Duration| Step {
                location: loc.clone(),
                action,
                expect,
                lines: Vec::new(),
                expect_locations: Vec::new(),
                max_response: None,
                limit_evidence: None,
                limit_from_command: false,
                timeout,
            };
            // A group or URC: its lines (events) or raw bytes, its limit and its deadline.
            let expect_step = |lines: Vec<&ExpectedLine>,
                               within: Option<Duration>,
                               within_evidence: Option<&at_scenario::Evidence>,
                               urc: Option<Vec<u8>>,
                               command: Option<&[u8]>,
                               bindings: &Bindings|
             -> Result<Step, at_scenario::BindError> {
                let mut s = match items_of(lines.iter().copied(), sc, bindings)? {
                    Some(items) => {
                        let mut s = mk(Action::Wait, Vec::new(), sc.meta.timeout);
                        s.lines = items;
                        s
                    }
                    None => {
                        let (frames, at) = frames_of(lines.iter().copied(), bindings)?;
                        let mut s = mk(Action::Wait, frames, sc.meta.timeout);
                        s.expect_locations = at.into_iter().map(|l| location(sc, l)).collect();
                        s
                    }
                };
                // An uncited `@within` is how long to wait, not a limit.
                if let (Some(w), None) = (within, within_evidence) {
                    s.timeout = w + grace;
                }
                let cited = within.zip(within_evidence);
                if let Some(l) = at_scenario::expectation_limit(
                    &sc.meta,
                    cited,
                    urc.as_deref(),
                    command,
                    profile,
                ) {
                    s.max_response = Some(l.duration);
                    s.limit_evidence = Some(l.evidence.to_string());
                    s.limit_from_command = cited.is_none() && sc.meta.max_response.is_none();
                }
                Ok(s)
            };
            let mut steps: Vec<Step> = Vec::new();
            match &step.kind {
                StepKind::Send(s) => {
                    let mut bytes =
                        it.bindings
                            .render(&s.text)
                            .map_err(|source| ScenarioError::Bind {
                                location: loc.clone(),
                                source,
                            })?;
                    if s.terminator == Terminator::Cr {
                        last_command = Some(bytes.clone());
                        bytes.push(b'\r');
                    }
                    steps.push(mk(Action::Command(bytes), Vec::new(), sc.meta.timeout));
                }
                StepKind::Expect(e) => {
                    let s = expect_step(
                        e.lines_for(profile).collect(),
                        e.within,
                        e.within_evidence.as_ref(),
                        None,
                        last_command.as_deref(),
                        &it.bindings,
                    )
                    .map_err(|source| ScenarioError::Bind {
                        location: loc.clone(),
                        source,
                    })?;
                    steps.push(s);
                }
                StepKind::Urc(u) => {
                    let prefix = match u.line.text.0.first() {
                        Some(at_scenario::Piece::Lit(b)) => b.clone(),
                        _ => Vec::new(),
                    };
                    let s = expect_step(
                        vec![&u.line],
                        u.within,
                        u.within_evidence.as_ref(),
                        Some(prefix),
                        last_command.as_deref(),
                        &it.bindings,
                    )
                    .map_err(|source| ScenarioError::Bind {
                        location: loc.clone(),
                        source,
                    })?;
                    steps.push(s);
                }
                StepKind::Data(d) => {
                    let bytes = match &d.payload {
                        // The embedded corpus has no files on disk: its data files are
                        // embedded too.
                        at_scenario::Payload::File(p) if sc.path.is_none() && p.is_relative() => {
                            let rel = crate::corpus::resolve_relative(
                                crate::corpus::corpus_name(&sc.name),
                                &p.to_string_lossy(),
                            );
                            crate::corpus::data_file(&rel)
                                .map(<[u8]>::to_vec)
                                .ok_or_else(|| ScenarioError::DataFile {
                                    location: loc.clone(),
                                    rel: rel.clone(),
                                })?
                        }
                        other => {
                            other
                                .bytes(&it.bindings)
                                .map_err(|source| ScenarioError::Payload {
                                    location: loc.clone(),
                                    source,
                                })?
                        }
                    };
                    if let Some(name) = &d.name {
                        it.payloads.insert(name.clone(), bytes.clone());
                    }
                    let chunk = d.chunk.unwrap_or(bytes.len()).max(1);
                    for (k, c) in bytes.chunks(chunk).enumerate() {
                        if k > 0
                            && let Some(p) = d.pace
                        {
                            steps.push(mk(Action::Sleep(p), Vec::new(), Duration::ZERO));
                        }
                        steps.push(mk(Action::Data(c.to_vec()), Vec::new(), Duration::ZERO));
                    }
                }
                StepKind::Escape(e) => {
                    steps.push(mk(
                        Action::Sleep(e.guard_before),
                        Vec::new(),
                        Duration::ZERO,
                    ));
                    steps.push(mk(
                        Action::Data(e.sequence.clone()),
                        Vec::new(),
                        Duration::ZERO,
                    ));
                    steps.push(mk(Action::Sleep(e.guard_after), Vec::new(), Duration::ZERO));
                }
                StepKind::Wait(d) => steps.push(mk(Action::Sleep(*d), Vec::new(), Duration::ZERO)),
                StepKind::Dtr(on) => steps.push(mk(Action::Dtr(*on), Vec::new(), Duration::ZERO)),
                StepKind::Emulator(EmulatorAction::Fault(
                    f @ at_scenario::Fault::PdpDeactivated,
                )) => {
                    steps.push(mk(Action::Fault(f.to_string()), Vec::new(), Duration::ZERO));
                }
                StepKind::Echo(on) => session.echo = *on,
                StepKind::AllowUrc(text) => {
                    let m =
                        at_scenario::LineMatcher::new(text, &it.bindings).map_err(|source| {
                            ScenarioError::Bind {
                                location: loc.clone(),
                                source,
                            }
                        })?;
                    let mut item = Item::urc(Arc::new(m));
                    item.location = Some(loc.clone());
                    interleave.push(item);
                }
                StepKind::Mail(m) => {
                    let failed = match it.check_mail(&m.checks, &m.evidence, mail) {
                        Ok(f) => f,
                        Err((line, detail)) => {
                            break 'run session.failure(
                                i,
                                location(sc, line),
                                FailureKind::Mail { detail },
                            );
                        }
                    };
                    if let Err(v) = record_checks(&mut session, sc, i, failed) {
                        break 'run v;
                    }
                    session.note(format!("mail #{} checked", it.mails_checked));
                }
                StepKind::NoMail => {
                    let n = mail.map_or(0, |m| m.messages().len());
                    if n > it.mails_checked {
                        let detail =
                            format!("{} unexpected mail(s) received", n - it.mails_checked);
                        break 'run session.failure(i, loc, FailureKind::Mail { detail });
                    }
                }
                StepKind::Smtp(s) => {
                    let failed = match it.check_smtp(&s.checks, &s.evidence, mail) {
                        Ok(f) => f,
                        Err((line, detail)) => {
                            break 'run session.failure(
                                i,
                                location(sc, line),
                                FailureKind::Mail { detail },
                            );
                        }
                    };
                    if let Err(v) = record_checks(&mut session, sc, i, failed) {
                        break 'run v;
                    }
                }
                _ => {}
            }
            for s in steps {
                if let Err(v) = session.step(i, &s, &interleave, cancel) {
                    break 'run v;
                }
                last = Some(s);
            }
            // Captures become `${name}` for later lines.
            let caps = at_scenario::Captures(session.captures().clone());
            it.bindings.extend(&caps);
        }
        match session.trailing(QUIET_AFTER, &interleave, last.as_ref(), cancel) {
            Ok(()) => Verdict::Pass,
            Err(v) => v,
        }
    };
    let _ = &it.sc;
    Ok(session.finish(verdict))
}

#[cfg(test)]
mod tests {
    use super::*;
    use at_emulator::driver::{Driver, Manual};

    /// `@fault pdp-deactivate@1.5s` reaches the emulator as 1.5 s and fires at 1.5 s of virtual
    /// time, not at 1 s (it was once truncated to whole seconds).
    #[test]
    fn sub_second_fault_time_is_kept_to_the_emulator() {
        let sc = at_scenario::load_str(
            "f.scn",
            "title: t\nsource: 000 §4.4\nprofiles: ec25\n@fault pdp-deactivate@1.5s\n\
             > AT+QIACT=1\n< OK\n",
        )
        .unwrap();
        let (emu, _) = setup_for(&sc, Profile::Ec25);
        let at = Duration::from_millis(1500);
        assert_eq!(emu.faults, [at_emulator::Fault::PdpDeactivate { at }]);

        let mut config = at_emulator::EmulatorConfig::builtin("ec25").unwrap();
        for f in &emu.faults {
            config = config.with_fault(*f);
        }
        let mut m = Driver::new(config, Manual);
        m.write(b"ATE0\r");
        m.write(b"AT+QIACT=1\r");
        m.read_available();
        assert!(m.advance_until_output(Duration::from_secs(10)).unwrap());
        assert_eq!(m.now().since_origin(), at);
        assert_eq!(m.read_available(), b"\r\n+QIURC: \"pdpdeact\",1\r\n");
    }

    /// The network-fault names live twice (a scenario's `@fault`, at-scenario; `emulate
    /// --fault` and the fault-control port, at-mailer, which the loader must not depend on):
    /// the two grammars accept the same names, mean the same faults, and read each other's.
    #[test]
    fn scenario_and_mailer_read_the_same_network_faults() {
        use at_scenario::ClientStage;
        let mut names: Vec<String> = at_scenario::NetFault::PLAIN_NAMES
            .iter()
            .map(|n| n.to_string())
            .collect();
        let stages = ClientStage::ALL
            .iter()
            .map(|s| s.name())
            .chain(at_mailer::Stage::ALL.iter().map(|s| s.name()));
        for stage in stages {
            for kind in ["reset", "stall", "drop"] {
                names.push(format!("{kind}@{stage}"));
            }
        }
        for bad in [
            "",
            "reset",
            "reset@",
            "stall@nowhere",
            "dns@connect",
            "Stall@auth",
        ] {
            names.push(bad.to_string());
        }
        let mut accepted = 0;
        for name in &names {
            let scenario = name.parse::<at_scenario::NetFault>().ok();
            let mailer = name.parse::<at_mailer::NetFault>().ok();
            assert_eq!(scenario.map(net_fault), mailer, "{name:?}");
            let Some(f) = scenario else { continue };
            accepted += 1;
            let written = net_fault(f).to_string();
            assert_eq!(written.parse::<at_scenario::NetFault>(), Ok(f), "{written}");
            assert_eq!(
                f.to_string().parse::<at_mailer::NetFault>(),
                Ok(net_fault(f))
            );
        }
        assert_eq!(accepted, 4 + 2 * 2 * ClientStage::ALL.len(), "{names:?}");
    }
}
