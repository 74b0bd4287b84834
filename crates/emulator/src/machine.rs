//! The sans-IO emulator core: bytes and instants in, bytes and actions out.

use std::collections::{BTreeMap, VecDeque};

use core::time::Duration;

use at_catalog::{self as catalog, Dialect, Form, Param as Spec, ParamKind, Profile, err};
use at_mailer::{
    Attachment, Body, Charset, ClientQuirks, ClientStyle, Credentials, MailJob, Outcome,
    RecipientKind, Secret, SslType, Subject,
};
use at_wire::{
    Command as WCmd, Form as WForm, Instant, LineAssembler, LineEvent, Param as WParam, Prefix,
    parse_command_line,
};

use crate::datamode::{Collector, MtCollector};
use crate::faults::Fault;
use crate::fs::{self, Drive, Fs};
use crate::liberties::{Liberty, LibertySet};
use crate::mail::{multitech_error, outcome_codes, rfc5322_date};
use crate::quirks::{Quirk, QuirkSet, UnknownQuirk};
use crate::ssl::SslCtx;

/// Unix time of virtual instant zero: 2020-07-29 00:00:00 UTC, the date of document 000.
pub const DEFAULT_EPOCH_UNIX: u64 = 1_595_980_800;

/// How long a Multi-Tech delivery may take before `#CME ERROR: <timeout>` (ERRATA E22).
const MULTITECH_SEND_TIMEOUT: Duration = Duration::from_secs(300);
/// The emulator's serving cell for `AT+CGREG?` with `<n>`=2: location area code (hex).
const CELL_LAC: &str = "5A1F";
/// Its cell id (hex, 28-bit E-UTRAN cell identity).
const CELL_CI: &str = "0C2B3D1";
/// How late quirk `slow-responses` answers (000 §2.1.2 allows 300 ms).
const SLOW_RESPONSE: Duration = Duration::from_millis(500);
/// How long a restart (`AT+CFUN=1,1`) takes before `RDY` (ERRATA E32; a real EC25 takes
/// about 10 s, shorter here so runs on a real clock stay quick).
pub const BOOT_TIME: Duration = Duration::from_secs(2);

/// Everything that configures one emulated module.
#[derive(Clone, Debug)]
pub struct EmulatorConfig {
    /// The module profile (ATI lines, limits, dialect).
    pub profile: Profile,
    /// Enabled firmware quirks (the profile's own plus any added).
    pub quirks: QuirkSet,
    /// Enabled liberties: where the manuals leave room, the other choice ([`crate::liberties`]).
    pub liberties: LibertySet,
    /// Injected faults.
    pub faults: Vec<Fault>,
    /// Seed for everything that would be random (`Message-ID`).
    pub seed: u64,
    /// Unix time of virtual instant zero (for `Date:` headers).
    pub epoch_unix: u64,
    /// Longest accepted command line in bytes.
    pub max_line: usize,
}

/// Errors building a configuration.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The profile could not be loaded.
    #[error(transparent)]
    Profile(#[from] catalog::ProfileError),
    /// The profile names an unknown quirk.
    #[error(transparent)]
    Quirk(#[from] UnknownQuirk),
}

impl EmulatorConfig {
    /// A configuration for `profile`, with the quirks the profile lists.
    pub fn new(profile: Profile) -> Result<Self, UnknownQuirk> {
        let quirks = QuirkSet::from_names(&profile.quirks)?;
        Ok(EmulatorConfig {
            profile,
            quirks,
            liberties: LibertySet::NONE,
            faults: Vec::new(),
            seed: 0,
            epoch_unix: DEFAULT_EPOCH_UNIX,
            max_line: at_wire::assembler::DEFAULT_MAX_COMMAND_LINE,
        })
    }

    /// A configuration for a built-in profile name (`ec25`, `ag35`, `multitech`, …).
    pub fn builtin(name: &str) -> Result<Self, ConfigError> {
        Ok(Self::new(Profile::builtin(name)?)?)
    }

    /// Adds quirks.
    pub fn with_quirks(mut self, quirks: QuirkSet) -> Self {
        self.quirks = self.quirks.union(quirks);
        self
    }

    /// Adds liberties.
    pub fn with_liberties(mut self, liberties: LibertySet) -> Self {
        self.liberties = self.liberties.union(liberties);
        self
    }

    /// Adds a fault.
    pub fn with_fault(mut self, fault: Fault) -> Self {
        self.faults.push(fault);
        self
    }
}

/// Identifies one delivery the core asked for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct DeliveryId(pub u64);

/// Something the driver must do for the core.
#[derive(Clone, Debug, PartialEq, Eq)]
#[allow(clippy::large_enum_variant)]
pub enum Action {
    /// Deliver this mail and report with [`Emulator::handle_delivery`]; the core gives up at
    /// `deadline` (the `AT+QSMTPPUT` `<timeout>`).
    Deliver {
        /// The delivery.
        id: DeliveryId,
        /// What to send.
        job: MailJob,
        /// When the core stops waiting.
        deadline: Instant,
    },
    /// Open the SMTP session of this mail (connect, greeting, EHLO, STARTTLS, AUTH) and keep it
    /// for its message; report with [`Emulator::handle_opened`] (Multi-Tech `AT#PUTMAIL`,
    /// whose prompt means the session is open, 002). The body comes later with
    /// [`Action::Send`]; the core gives up at `deadline`.
    Open {
        /// The delivery.
        id: DeliveryId,
        /// What to send, without its body yet.
        job: MailJob,
        /// When the core stops waiting.
        deadline: Instant,
    },
    /// Send this mail on the session [`Action::Open`] opened (or afresh where none is kept),
    /// and report with [`Emulator::handle_delivery`].
    Send {
        /// The delivery.
        id: DeliveryId,
        /// The whole mail, body included.
        job: MailJob,
        /// When the core stops waiting.
        deadline: Instant,
    },
    /// Abandon this delivery (timeout or PDP deactivation); its outcome will be ignored.
    Cancel {
        /// The delivery.
        id: DeliveryId,
    },
}

#[derive(Debug)]
enum Mode {
    Command,
    Body {
        c: Collector,
        charset: u8,
    },
    Upload {
        c: Collector,
        drive: Drive,
        name: String,
        ack: bool,
    },
    MtBody {
        c: MtCollector,
    },
    Wedged,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Final {
    Ok,
    Error,
    Cme(u16),
    MtCme(u32),
    NoCarrier,
}

enum Step {
    Done,
    Stop(Final),
    Enter(Box<Mode>, &'static str),
    /// The answer comes later, from an action's result (Multi-Tech's session opening).
    Pending,
}

/// A validated parameter.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Arg {
    Int(i64),
    Str(Vec<u8>),
    None,
}

impl Arg {
    fn int(&self) -> Option<i64> {
        match self {
            Arg::Int(v) => Some(*v),
            _ => None,
        }
    }
    fn str(&self) -> Option<&[u8]> {
        match self {
            Arg::Str(s) => Some(s),
            _ => None,
        }
    }
}

/// Checks wire parameters against catalog specs: count, kind, range, length.
fn args(specs: &[Spec], params: &[WParam]) -> Option<Vec<Arg>> {
    if params.len() > specs.len() {
        return None;
    }
    specs
        .iter()
        .enumerate()
        .map(|(i, spec)| match params.get(i) {
            None | Some(WParam::Omitted) => spec.optional.then_some(Arg::None),
            Some(p) => match spec.kind {
                ParamKind::Int { .. } | ParamKind::IntList(_) => match p {
                    WParam::Int(v) if spec.kind.accepts_int(*v) => Some(Arg::Int(*v)),
                    _ => None,
                },
                ParamKind::HexInt { .. } => p
                    .as_int()
                    .filter(|v| spec.kind.accepts_int(*v))
                    .map(Arg::Int),
                ParamKind::Str { max_len } | ParamKind::FileName { max_len } => p
                    .as_str_bytes()
                    .filter(|s| s.len() <= max_len)
                    .map(|s| Arg::Str(s.to_vec())),
            },
        })
        .collect()
}

fn quoted(s: &[u8]) -> Vec<u8> {
    let mut v = Vec::with_capacity(s.len() + 2);
    v.push(b'"');
    v.extend_from_slice(s);
    v.push(b'"');
    v
}

fn cat(parts: &[&[u8]]) -> Vec<u8> {
    parts.concat()
}

#[derive(Clone, Debug, Default)]
struct PdpContext {
    context_type: u8,
    apn: Vec<u8>,
    user: Vec<u8>,
    pass: Vec<u8>,
    auth: u8,
    active: bool,
}

#[derive(Clone, Debug)]
struct SmtpCfg {
    user: Vec<u8>,
    pass: Vec<u8>,
    sender_name: Vec<u8>,
    sender_email: Vec<u8>,
    server: Vec<u8>,
    port: u16,
    contextid: u8,
    sslctxid: u8,
    ssltype: u8,
    bodyoriginal: u8,
}

#[derive(Clone, Debug, Default)]
struct MailContent {
    recipients: Vec<(u8, Vec<u8>)>,
    sub_charset: u8,
    sub_raw: Vec<u8>,
    sub_bytes: Vec<u8>,
    body: Option<(u8, Vec<u8>)>,
    /// index → (file name as typed, size when added)
    attachments: BTreeMap<u8, (Vec<u8>, usize)>,
}

#[derive(Clone, Copy, Debug)]
struct Sending {
    id: DeliveryId,
    deadline: Instant,
    context: u8,
    held_ok: bool,
    multitech: bool,
    /// Multi-Tech: the session is being opened (no prompt yet), or open while the host types
    /// the body.
    mt_phase: MtPhase,
    /// Liberty `slow-send`: the outcome, reported at this instant.
    report: Option<(Instant, Report)>,
}

/// Where a Multi-Tech send is (002 `AT#PUTMAIL`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum MtPhase {
    /// Not a Multi-Tech send, or its mail is being sent.
    Sending,
    /// Connect, greeting, EHLO, AUTH: `OK_Info_WaitingForData` comes when it is open.
    Opening,
    /// Open; the host types the body (the core's deadline waits).
    Body,
}

/// What the end of a send prints.
#[derive(Clone, Copy, Debug)]
enum Report {
    /// `+QSMTPPUT: <err>,<protocol_error>`.
    Quectel(u16, u16),
    /// Multi-Tech `OK`, or `#CME ERROR: <n>`.
    MultiTech(Option<u32>),
}

/// How long a send takes with the liberty `slow-send`.
const SLOW_SEND: Duration = Duration::from_secs(20);
/// How late answers come with the liberty `answers-within-limits`, where the limit is 300 ms.
const WITHIN_300MS: Duration = Duration::from_millis(250);
/// … where the limit is longer, or where none is documented.
const WITHIN_OTHERS: Duration = Duration::from_secs(1);

/// The emulated module: a deterministic, sans-IO state machine.
///
/// Methods come in four groups, as in quinn-proto:
/// - construction: [`Emulator::new`];
/// - getters: [`Emulator::profile`], [`Emulator::quirks`], [`Emulator::in_data_mode`],
///   [`Emulator::is_sending`], [`Emulator::echo`];
/// - `handle_*` (inputs): [`Emulator::handle_input`] (host → module bytes),
///   [`Emulator::set_dtr`], [`Emulator::handle_timeout`], [`Emulator::handle_delivery`];
/// - `poll_*` (outputs): [`Emulator::poll_output`] (module → host bytes),
///   [`Emulator::poll_action`] (deliveries to start or cancel), [`Emulator::poll_timeout`].
///
/// After every `handle_*` call a driver drains `poll_output` and `poll_action`, then sleeps
/// until `poll_timeout` (or new input) and calls `handle_timeout` with the current instant.
/// The core never reads a clock: every instant is an argument.
///
/// ```
/// use at_emulator::{Emulator, EmulatorConfig};
/// use at_wire::Instant;
/// let mut emu = Emulator::new(EmulatorConfig::builtin("ec25").unwrap(), Instant::ZERO);
/// emu.handle_input(Instant::ZERO, b"ATE0\r");
/// emu.handle_input(Instant::ZERO, b"AT+QSMTPDST=1,1,\"a@b.c\"\r");
/// emu.handle_input(Instant::ZERO, b"AT+QSMTPDST?\r");
/// let mut out = Vec::new();
/// emu.poll_output(&mut out);
/// assert_eq!(
///     out,
///     b"ATE0\r\r\nOK\r\n\r\nOK\r\n\r\n+QSMTPDST: 1,\"a@b.c\"\r\n\r\nOK\r\n"
/// );
/// ```
pub struct Emulator {
    cfg: EmulatorConfig,
    out: Vec<u8>,
    /// Quirk `slow-responses`: only the first `.0` bytes of `out` go out before `.1`.
    hold: Option<(usize, Instant)>,
    actions: VecDeque<Action>,
    asm: LineAssembler,
    mode: Mode,
    echo: bool,
    lf_echo: bool,
    swallow_lf: bool,
    and_d: u8,
    dtr: bool,
    sim_ready: bool,
    attached: bool,
    cgreg_n: u8,
    contexts: [PdpContext; 16],
    ssl: [SslCtx; 6],
    smtp: SmtpCfg,
    mail: MailContent,
    fs: Fs,
    mt: BTreeMap<&'static str, Arg>,
    sending: Option<Sending>,
    /// The Multi-Tech mail whose session is open, waiting for its body.
    mt_job: Option<MailJob>,
    put_plan: Option<(u32, bool)>,
    next_id: u64,
    pending_urcs: Vec<Vec<u8>>,
    pdp_fault_at: Option<Instant>,
    last_was_info: bool,
    /// `AT+CFUN=1,1` was accepted: restart once its `OK` is out.
    restart: bool,
    /// Restarting: input is lost until then, when `RDY` is printed (ERRATA E32).
    booting_until: Option<Instant>,
}

/// Secrets (account and PDP passwords, `SMTPPW`) stay out of `Debug`.
impl core::fmt::Debug for Emulator {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let mode = match self.mode {
            Mode::Command => "command",
            Mode::Body { .. } => "body",
            Mode::Upload { .. } => "upload",
            Mode::MtBody { .. } => "multitech-body",
            Mode::Wedged => "wedged",
        };
        f.debug_struct("Emulator")
            .field("profile", &self.cfg.profile.name)
            .field("quirks", &self.cfg.quirks)
            .field("faults", &self.cfg.faults)
            .field("mode", &mode)
            .field("echo", &self.echo)
            .field("sending", &self.sending.map(|s| s.id))
            .field("recipients", &self.mail.recipients.len())
            .field("pending_output", &self.out.len())
            .finish_non_exhaustive()
    }
}

impl Emulator {
    /// A module freshly powered on at `now`.
    pub fn new(mut config: EmulatorConfig, now: Instant) -> Self {
        let _ = now;
        apply_profile_liberties(&mut config);
        let sim_ready = !config.faults.contains(&Fault::SimNotReady);
        let pdp_fault_at = config
            .faults
            .iter()
            .filter_map(|f| match f {
                Fault::PdpDeactivate { at } => Some(Instant::from_duration(*at)),
                _ => None,
            })
            .min();
        let mut mt = BTreeMap::new();
        for p in &catalog::MULTITECH_PARAMS {
            let v = match p.default {
                Some(d) => Arg::Int(d),
                None if p.kind.is_string() => Arg::Str(Vec::new()),
                None => Arg::None,
            };
            mt.insert(p.name, v);
        }
        Emulator {
            asm: LineAssembler::new(config.max_line),
            echo: config.profile.echo,
            lf_echo: config.profile.echo,
            and_d: config.profile.and_d,
            out: Vec::new(),
            hold: None,
            actions: VecDeque::new(),
            mode: Mode::Command,
            swallow_lf: false,
            dtr: true,
            sim_ready,
            attached: true,
            cgreg_n: 0,
            contexts: Default::default(),
            ssl: Default::default(),
            smtp: SmtpCfg {
                user: Vec::new(),
                pass: Vec::new(),
                sender_name: Vec::new(),
                sender_email: Vec::new(),
                server: Vec::new(),
                port: 25,
                contextid: 1,
                sslctxid: 1,
                ssltype: 0,
                bodyoriginal: 0,
            },
            mail: MailContent::default(),
            fs: Fs::default(),
            mt,
            sending: None,
            mt_job: None,
            put_plan: None,
            next_id: 1,
            pending_urcs: Vec::new(),
            pdp_fault_at,
            last_was_info: false,
            restart: false,
            booting_until: None,
            cfg: config,
        }
    }

    /// `AT+CFUN=1,1` (ERRATA E32): a delivery in progress is abandoned, every setting goes back
    /// to its power-on value (000 §2.2.1: "不保存参数配置") and RAM: files are lost (UFS: and
    /// SD: keep theirs); `RDY` after [`BOOT_TIME`].
    fn restart_now(&mut self, now: Instant) {
        if let Some(s) = self.sending.take() {
            self.actions.push_back(Action::Cancel { id: s.id });
        }
        let mut fresh = Emulator::new(self.cfg.clone(), now);
        fresh.out = std::mem::take(&mut self.out);
        fresh.actions = std::mem::take(&mut self.actions);
        fresh.hold = self.hold;
        fresh.next_id = self.next_id;
        fresh.fs = self.fs.after_restart();
        fresh.booting_until = Some(now + BOOT_TIME);
        *self = fresh;
    }

    // ---- getters ----

    /// The module profile.
    pub fn profile(&self) -> &Profile {
        &self.cfg.profile
    }

    /// The enabled quirks.
    pub fn quirks(&self) -> QuirkSet {
        self.cfg.quirks
    }

    /// Whether the port is in data mode (body, upload or Multi-Tech body).
    pub fn in_data_mode(&self) -> bool {
        matches!(
            self.mode,
            Mode::Body { .. } | Mode::Upload { .. } | Mode::MtBody { .. }
        )
    }

    /// Whether a mail is being sent (the module answers 652 to mail edits).
    pub fn is_sending(&self) -> bool {
        self.sending.is_some()
    }

    /// Whether command echo is on.
    pub fn echo(&self) -> bool {
        self.echo
    }

    fn q(&self, q: Quirk) -> bool {
        self.cfg.quirks.contains(q)
    }

    /// Liberty `answers-within-limits`: how late the answer to `line` comes, inside the
    /// catalog's documented limit for it (ERRATA E30), or 1 s where none is documented.
    fn answer_delay(&self, line: &[u8]) -> Duration {
        match at_catalog::line_limit(line, &self.cfg.profile.name) {
            Some(l) if l.duration <= Duration::from_millis(300) => {
                WITHIN_300MS.min(l.duration.mul_f32(0.9))
            }
            Some(l) => WITHIN_OTHERS.min(l.duration.mul_f32(0.9)),
            None => WITHIN_OTHERS,
        }
    }

    /// The enabled liberties.
    pub fn liberties(&self) -> LibertySet {
        self.cfg.liberties
    }

    fn l(&self, l: Liberty) -> bool {
        self.cfg.liberties.contains(l)
    }

    // ---- poll_* ----

    /// Appends the bytes the module has sent since the last call to `out`; returns how many.
    pub fn poll_output(&mut self, out: &mut Vec<u8>) -> usize {
        if let Some((ready, _)) = &mut self.hold {
            let n = *ready;
            out.extend(self.out.drain(..n));
            *ready = 0;
            return n;
        }
        let n = self.out.len();
        out.append(&mut self.out);
        n
    }

    /// The next delivery to start or cancel.
    pub fn poll_action(&mut self) -> Option<Action> {
        self.actions.pop_front()
    }

    /// When [`Emulator::handle_timeout`] should next be called, if ever.
    pub fn poll_timeout(&self) -> Option<Instant> {
        let mode_t = match &self.mode {
            Mode::Body { c, .. } | Mode::Upload { c, .. } => c.poll_timeout(),
            Mode::MtBody { c } => Some(c.last_rx + self.mt_inactivity()),
            Mode::Command | Mode::Wedged => None,
        };
        [
            mode_t,
            self.sending
                .filter(|s| s.mt_phase != MtPhase::Body)
                .map(|s| s.deadline),
            self.sending.and_then(|s| s.report).map(|(at, _)| at),
            self.pdp_fault_at,
            self.hold.map(|(_, at)| at),
            self.booting_until,
        ]
        .into_iter()
        .flatten()
        .min()
    }

    // ---- handle_* ----

    /// Host → module bytes received at `now`.
    pub fn handle_input(&mut self, now: Instant, bytes: &[u8]) {
        if self.booting_until.is_some() {
            return; // restarting: nobody reads the port yet
        }
        let mut rest = bytes;
        while let Some(&first) = rest.first() {
            match &mut self.mode {
                Mode::Wedged => return,
                Mode::Command => {
                    let lf_first = self.asm.after_cr() && first == b'\n';
                    let feed = self.asm.feed(rest);
                    let consumed = feed.consumed;
                    let line = match feed.event {
                        Some(LineEvent::Line { line, .. }) => Some(Some(line.to_vec())),
                        Some(LineEvent::Overflow { .. }) => Some(None),
                        None => None,
                    };
                    let echoed = rest.get(..consumed).unwrap_or_default();
                    let (lf, body) = if lf_first {
                        echoed.split_at(1)
                    } else {
                        (&[][..], echoed)
                    };
                    if self.lf_echo {
                        self.out.extend_from_slice(lf);
                    }
                    if self.echo {
                        for &b in body {
                            self.out.push(b);
                            if b == b'\r' && self.q(Quirk::EchoDoublesCr) {
                                self.out.push(b'\r');
                            }
                        }
                    }
                    rest = rest.get(consumed..).unwrap_or_default();
                    if let Some(line) = line {
                        self.lf_echo = self.echo;
                        // An LF already here with its CR is echoed before the response, as a
                        // UART would (ERRATA W2).
                        if rest.first() == Some(&b'\n') {
                            let _ = self.asm.feed(b"\n");
                            if self.echo {
                                self.out.push(b'\n');
                            }
                            rest = rest.get(1..).unwrap_or_default();
                        }
                        let echoed = self.out.len();
                        let delay = if self.q(Quirk::SlowResponses) {
                            Some(SLOW_RESPONSE)
                        } else if self.l(Liberty::AnswersWithinLimits) {
                            line.as_deref().map(|l| self.answer_delay(l))
                        } else {
                            None
                        };
                        self.run_line(now, line);
                        // `CONNECT` starts data mode and its clocks: never held by a liberty.
                        let delay =
                            delay.filter(|_| self.q(Quirk::SlowResponses) || !self.in_data_mode());
                        if let Some(delay) = delay
                            && self.out.len() > echoed
                            && self.hold.is_none()
                        {
                            self.hold = Some((echoed, now + delay));
                        }
                    }
                }
                Mode::Body { .. } | Mode::Upload { .. } | Mode::MtBody { .. } => {
                    if std::mem::take(&mut self.swallow_lf) && first == b'\n' {
                        // The LF of the CR LF that ended the command line (ERRATA E20).
                        if self.lf_echo {
                            self.out.push(b'\n');
                        }
                        self.asm.skip(1);
                        rest = rest.get(1..).unwrap_or_default();
                        continue;
                    }
                    let n = self.feed_data(now, rest);
                    self.asm.skip(n as u64);
                    rest = rest.get(n..).unwrap_or_default();
                }
            }
        }
    }

    fn feed_data(&mut self, now: Instant, bytes: &[u8]) -> usize {
        match &mut self.mode {
            Mode::Body { c, .. } => {
                let (n, done) = c.feed(now, bytes);
                if done {
                    self.finish_data(now);
                }
                n
            }
            Mode::Upload { c, ack, .. } => {
                let before = c.len();
                let (n, done) = c.feed(now, bytes);
                let after = c.len();
                if *ack && !done {
                    // FILE note [4] ACK mode: an `A` after every 1024 bytes.
                    for _ in before / 1024..after / 1024 {
                        self.out.push(b'A');
                    }
                }
                if done {
                    self.finish_data(now);
                }
                n
            }
            Mode::MtBody { c } => {
                let (n, done) = c.feed(now, bytes);
                if done {
                    self.finish_mt_body(now);
                }
                n
            }
            Mode::Command | Mode::Wedged => bytes.len(),
        }
    }

    /// DTR changed at `now` (`asserted = false` is the drop that ends data mode with `AT&D1`).
    pub fn set_dtr(&mut self, now: Instant, asserted: bool) {
        let dropped = self.dtr && !asserted;
        self.dtr = asserted;
        if !dropped {
            return;
        }
        match &mut self.mode {
            Mode::Wedged => {
                self.mode = Mode::Command;
                self.flush_urcs();
            }
            Mode::Body { c, .. } | Mode::Upload { c, .. } if self.and_d >= 1 => {
                c.on_dtr(now);
                self.finish_data(now);
            }
            _ => {}
        }
    }

    /// Time has reached `now`: data-mode deadlines, guard times, send timeouts, faults.
    pub fn handle_timeout(&mut self, now: Instant) {
        if self.hold.is_some_and(|(_, at)| now >= at) {
            self.hold = None;
        }
        if self.booting_until.is_some_and(|t| now >= t) {
            self.booting_until = None;
            self.urc(b"RDY".to_vec());
        }
        match &mut self.mode {
            Mode::Body { c, .. } | Mode::Upload { c, .. } => {
                if c.on_timeout(now) {
                    self.finish_data(now);
                }
            }
            Mode::MtBody { c } => {
                if now >= c.last_rx + self.mt_inactivity() {
                    self.mode = Mode::Command;
                    self.abandon_mt_session();
                    let code = self.mt_errors().map(|e| e.inactivity).unwrap_or(0);
                    self.emit_final(Final::MtCme(code));
                    self.flush_urcs();
                }
            }
            Mode::Command | Mode::Wedged => {}
        }
        if let Some(s) = self.sending
            && let Some((at, report)) = s.report
            && now >= at
        {
            self.sending = None;
            self.report(s, report);
        }
        if let Some(s) = self.sending
            && s.mt_phase != MtPhase::Body
            && now >= s.deadline
        {
            self.sending = None;
            self.actions.push_back(Action::Cancel { id: s.id });
            if s.multitech {
                let code = self.mt_errors().map(|e| e.timeout).unwrap_or(0);
                self.emit_final(Final::MtCme(code));
            } else {
                if !self.q(Quirk::UrcMissingOnTimeout) {
                    self.urc(format!("+QSMTPPUT: {},0", err::TIMEOUT).into_bytes());
                }
                if s.held_ok {
                    self.emit_final(Final::Ok);
                }
            }
        }
        if self.pdp_fault_at.is_some_and(|t| now >= t) {
            self.pdp_fault_at = None;
            for id in 1..=16u8 {
                if self.ctx(id).is_some_and(|c| c.active) {
                    self.deactivate(id, true);
                }
            }
        }
    }

    /// The result of delivery `id`. Outcomes of cancelled or unknown deliveries are ignored.
    pub fn handle_delivery(&mut self, now: Instant, id: DeliveryId, outcome: Outcome) {
        let Some(s) = self
            .sending
            .filter(|s| s.id == id && s.report.is_none() && s.mt_phase == MtPhase::Sending)
        else {
            return;
        };
        let report = if s.multitech {
            Report::MultiTech(match &outcome.result {
                Ok(()) => None,
                Err(f) => Some(self.mt_errors().map(|e| multitech_error(f, e)).unwrap_or(0)),
            })
        } else {
            let (e, p) = outcome_codes(&outcome, self.cfg.quirks);
            Report::Quectel(e, p)
        };
        if self.l(Liberty::SlowSend) {
            // Still sending (652) until the result is printed, never past `<timeout>`.
            let at = (now + SLOW_SEND).min(s.deadline);
            self.sending = Some(Sending {
                report: Some((at, report)),
                ..s
            });
            return;
        }
        self.sending = None;
        self.report(s, report);
    }

    /// How opening the session of delivery `id` went ([`Action::Open`], Multi-Tech): open, the
    /// prompt and the body follow; failed, `#CME ERROR: <value>` instead of the prompt (002:
    /// `OK_Info_WaitingForData` means "An SMTP session has been successfully opened"). Results
    /// for deliveries the core gave up on are ignored.
    pub fn handle_opened(&mut self, now: Instant, id: DeliveryId, result: Result<(), Outcome>) {
        let Some(s) = self
            .sending
            .filter(|s| s.id == id && s.mt_phase == MtPhase::Opening)
        else {
            return;
        };
        match result {
            Ok(()) => {
                self.sending = Some(Sending {
                    mt_phase: MtPhase::Body,
                    ..s
                });
                let c = MtCollector::new(now, self.cfg.profile.limits.max_body);
                self.push_resp(b"\r\nOK_Info_WaitingForData\r\n");
                self.last_was_info = false;
                self.mode = Mode::MtBody { c };
                self.swallow_lf = false;
            }
            Err(outcome) => {
                self.sending = None;
                self.mt_job = None;
                let code = match &outcome.result {
                    Err(f) => self.mt_errors().map(|e| multitech_error(f, e)).unwrap_or(0),
                    Ok(()) => 0,
                };
                self.emit_final(Final::MtCme(code));
            }
        }
    }

    /// Gives up the Multi-Tech session kept open for a body that will not come.
    fn abandon_mt_session(&mut self) {
        self.mt_job = None;
        if let Some(s) = self.sending.filter(|s| s.multitech) {
            self.sending = None;
            self.actions.push_back(Action::Cancel { id: s.id });
        }
    }

    /// Prints how send `s` ended.
    fn report(&mut self, s: Sending, report: Report) {
        match report {
            Report::MultiTech(None) => self.emit_final(Final::Ok),
            Report::MultiTech(Some(code)) => self.emit_final(Final::MtCme(code)),
            Report::Quectel(e, p) => {
                self.urc(format!("+QSMTPPUT: {e},{p}").into_bytes());
                if s.held_ok {
                    self.emit_final(Final::Ok);
                }
            }
        }
    }

    /// Injects a fault at `now` (a scenario's `@fault` step, or a fault-control command):
    /// `SimNotReady` takes the SIM away, `PdpDeactivate` deactivates every active context now,
    /// or `at` after `now` when it is not zero; the others apply to later commands and
    /// deliveries.
    pub fn inject_fault(&mut self, now: Instant, fault: Fault) {
        match fault {
            Fault::SimNotReady => self.sim_ready = false,
            Fault::PdpDeactivate { at } if !at.is_zero() => {
                self.pdp_fault_at = Some(now + at);
                return;
            }
            Fault::PdpDeactivate { .. } => {
                for id in 1..=16u8 {
                    if self.ctx(id).is_some_and(|c| c.active) {
                        self.deactivate(id, true);
                    }
                }
                return;
            }
            _ => {}
        }
        if !self.cfg.faults.contains(&fault) {
            self.cfg.faults.push(fault);
        }
    }

    /// Removes every injected fault (the SIM becomes ready again).
    pub fn clear_faults(&mut self) {
        self.cfg.faults.clear();
        self.sim_ready = true;
        self.pdp_fault_at = None;
    }

    // ---- output ----

    fn push_resp(&mut self, bytes: &[u8]) {
        if self.q(Quirk::CrlfLfOnly) {
            let mut i = 0;
            while let Some(&b) = bytes.get(i) {
                if !(b == b'\r' && bytes.get(i + 1) == Some(&b'\n')) {
                    self.out.push(b);
                }
                i += 1;
            }
        } else {
            self.out.extend_from_slice(bytes);
        }
    }

    /// An information block: `\r\n` + lines joined by `\r\n` + `\r\n` (ERRATA W1).
    fn emit_info(&mut self, lines: &[Vec<u8>]) {
        if lines.is_empty() {
            return;
        }
        let mut v = b"\r\n".to_vec();
        for (i, l) in lines.iter().enumerate() {
            if i > 0 {
                v.extend_from_slice(b"\r\n");
            }
            v.extend_from_slice(l);
        }
        v.extend_from_slice(b"\r\n");
        self.push_resp(&v);
        self.last_was_info = true;
    }

    fn emit_final(&mut self, f: Final) {
        let text: Vec<u8> = match f {
            Final::Ok => b"OK".to_vec(),
            Final::Error => b"ERROR".to_vec(),
            Final::Cme(_) if self.q(Quirk::CmeAsPlainError) => b"ERROR".to_vec(),
            Final::Cme(n) => format!("+CME ERROR: {n}").into_bytes(),
            Final::MtCme(n) => format!("#CME ERROR: {n}").into_bytes(),
            Final::NoCarrier => b"NO CARRIER".to_vec(),
        };
        let lead: &[u8] = if self.last_was_info && self.q(Quirk::MissingBlankLineBeforeOk) {
            b""
        } else {
            b"\r\n"
        };
        let v = cat(&[lead, &text, b"\r\n"]);
        self.push_resp(&v);
        self.last_was_info = false;
    }

    /// A URC; held while the port is in data mode.
    fn urc(&mut self, text: Vec<u8>) {
        let v = cat(&[b"\r\n", &text, b"\r\n"]);
        if self.in_data_mode() {
            self.pending_urcs.push(v);
        } else {
            self.push_resp(&v);
            self.last_was_info = false;
        }
    }

    fn flush_urcs(&mut self) {
        for u in std::mem::take(&mut self.pending_urcs) {
            self.push_resp(&u);
        }
        self.last_was_info = false;
    }

    // ---- command mode ----

    fn run_line(&mut self, now: Instant, line: Option<Vec<u8>>) {
        self.last_was_info = false;
        let Some(line) = line else {
            // Over-long line: discarded up to its CR.
            self.emit_final(Final::Error);
            return;
        };
        let parsed = match parse_command_line(&line) {
            Ok(p) => p,
            Err(_) => {
                self.emit_final(Final::Error);
                return;
            }
        };
        if parsed.prefix != Prefix::Upper && self.q(Quirk::LowercaseAtRejected) {
            self.emit_final(Final::Error);
            return;
        }
        let n = parsed.commands.len();
        for (i, cmd) in parsed.commands.iter().enumerate() {
            match self.exec(now, cmd) {
                Step::Done => {}
                Step::Stop(f) => {
                    self.put_plan = None;
                    self.restart = false;
                    self.emit_final(f);
                    return;
                }
                Step::Pending => {
                    if i + 1 != n || self.put_plan.take().is_some() {
                        // Like data mode, it must end the line; give the session up.
                        self.abandon_mt_session();
                        self.emit_final(Final::Error);
                    }
                    return;
                }
                Step::Enter(mode, banner) => {
                    if i + 1 != n || self.put_plan.take().is_some() {
                        // Data mode must end the line.
                        self.emit_final(Final::Error);
                        return;
                    }
                    if !banner.is_empty() {
                        self.push_resp(&cat(&[b"\r\n", banner.as_bytes(), b"\r\n"]));
                    }
                    self.mode = *mode;
                    self.swallow_lf = true;
                    return;
                }
            }
        }
        match self.put_plan.take() {
            Some((timeout, hold)) => {
                if !hold {
                    self.emit_final(Final::Ok);
                }
                self.start_put(now, timeout, hold);
            }
            None => self.emit_final(Final::Ok),
        }
        if std::mem::take(&mut self.restart) {
            self.restart_now(now);
        }
    }

    fn exec(&mut self, now: Instant, cmd: &WCmd) -> Step {
        let dialect = self.cfg.profile.dialect;
        match cmd {
            WCmd::Basic { amp, letter, value } => {
                self.exec_basic(*amp, letter.to_ascii_uppercase(), *value)
            }
            WCmd::SRegister { .. } | WCmd::Dial { .. } => Step::Stop(Final::Error),
            WCmd::Extended { sigil, name, form } => {
                let upper = name.to_ascii_uppercase();
                match (*sigil, dialect) {
                    (b'#', Dialect::MultiTech) => self.exec_multitech(now, &upper, form),
                    (b'+', _) => self.exec_plus(now, &upper, form),
                    _ => Step::Stop(Final::Error),
                }
            }
        }
    }

    fn exec_basic(&mut self, amp: bool, letter: u8, value: Option<u32>) -> Step {
        match (amp, letter, value.unwrap_or(0)) {
            (false, b'E', v @ 0..=1) => {
                if v == 1 || !self.q(Quirk::Ate0Ignored) {
                    self.echo = v == 1;
                }
                Step::Done
            }
            (false, b'I', 0) => {
                let lines: Vec<Vec<u8>> = self
                    .cfg
                    .profile
                    .ati_lines()
                    .iter()
                    .map(|l| l.clone().into_bytes())
                    .collect();
                self.emit_info(&lines);
                Step::Done
            }
            (true, b'D', v @ 0..=2) => {
                self.and_d = v as u8;
                Step::Done
            }
            // 000 §1.3: ATO cannot re-enter the body's data mode; no call to resume (E16).
            (false, b'O', 0) => Step::Stop(Final::NoCarrier),
            _ => Step::Stop(Final::Error),
        }
    }

    fn exec_plus(&mut self, now: Instant, name: &str, form: &WForm) -> Step {
        let quectel = self.cfg.profile.dialect == Dialect::Quectel;
        let Some(spec) = catalog::command(&format!("+{name}")) else {
            return Step::Stop(Final::Error);
        };
        if spec.dialect == Dialect::Quectel && !quectel {
            return Step::Stop(Final::Error);
        }
        let f = match form {
            WForm::Test => Form::Test,
            WForm::Read => Form::Read,
            WForm::Set(_) => Form::Write,
            WForm::Execute => Form::Exec,
        };
        if !spec.supports(f) {
            return Step::Stop(Final::Error);
        }
        let params: &[WParam] = match form {
            WForm::Set(p) => p,
            _ => &[],
        };
        let smtp = name.starts_with("QSMTP");
        // 000 §4.1: with the (U)SIM not ready, SMTP commands answer ERROR.
        if !self.sim_ready && (smtp || name == "QIACT") {
            return Step::Stop(Final::Error);
        }
        if f == Form::Test {
            let lines: Vec<Vec<u8>> = self
                .cfg
                .profile
                .test_response(spec)
                .into_iter()
                .map(|l| {
                    if self.q(Quirk::TestRangeContextid0To15) && l.contains("\"contextid\"") {
                        l.replace("(1-16)", "(0-15)").into_bytes()
                    } else {
                        l.into_bytes()
                    }
                })
                .collect();
            self.emit_info(&lines);
            return Step::Done;
        }
        match name {
            "CPIN" => {
                if !self.sim_ready {
                    // 27.007: 10 SIM not inserted; 14 SIM busy (liberty `sim-busy-cause`).
                    let cause = if self.l(Liberty::SimBusyCause) {
                        14
                    } else {
                        10
                    };
                    return Step::Stop(Final::Cme(cause));
                }
                self.emit_info(&[b"+CPIN: READY".to_vec()]);
                Step::Done
            }
            "CFUN" => match (f, params) {
                (Form::Read, _) => {
                    self.emit_info(&[b"+CFUN: 1".to_vec()]);
                    Step::Done
                }
                (Form::Write, [WParam::Int(1)] | [WParam::Int(1), WParam::Int(0)]) => Step::Done,
                (Form::Write, [WParam::Int(1), WParam::Int(1)]) => {
                    self.restart = true;
                    Step::Done
                }
                // Minimum functionality and flight mode are not modelled (ERRATA E32).
                _ => Step::Stop(Final::Error),
            },
            "CGATT" => self.cmd_cgatt(f, params),
            "CGREG" => self.cmd_cgreg(f, params, spec),
            "QICSGP" => self.cmd_qicsgp(params),
            "QIACT" => self.cmd_qiact(f, params, spec),
            "QIDEACT" => match args(spec.params, params) {
                Some(a) => {
                    let id = a[0].int().unwrap_or(1) as u8;
                    self.deactivate(id, false);
                    Step::Done
                }
                None => Step::Stop(Final::Error),
            },
            "QSSLCFG" => self.cmd_qsslcfg(params, spec),
            "QFUPL" => self.cmd_qfupl(now, params, spec),
            "QFLST" => self.cmd_qflst(params, spec),
            "QFDEL" => self.cmd_qfdel(params, spec),
            "QSMTPCFG" => self.cmd_qsmtpcfg(params, spec),
            "QSMTPDST" => self.cmd_qsmtpdst(f, params, spec),
            "QSMTPSUB" => self.cmd_qsmtpsub(f, params, spec),
            "QSMTPBODY" => self.cmd_qsmtpbody(now, f, params, spec),
            "QSMTPATT" => self.cmd_qsmtpatt(f, params, spec),
            "QSMTPCLR" => {
                if self.sending.is_some() {
                    return Step::Stop(Final::Cme(err::BUSY));
                }
                let keep = self.q(Quirk::QsmtpclrKeepsAttachments);
                let att = std::mem::take(&mut self.mail.attachments);
                self.mail = MailContent::default();
                if keep {
                    self.mail.attachments = att;
                }
                Step::Done
            }
            "QSMTPPUT" => self.cmd_qsmtpput(params, spec),
            _ => Step::Stop(Final::Error),
        }
    }

    // ---- network ----

    fn ctx(&self, id: u8) -> Option<&PdpContext> {
        self.contexts.get(usize::from(id).checked_sub(1)?)
    }

    fn ctx_mut(&mut self, id: u8) -> Option<&mut PdpContext> {
        self.contexts.get_mut(usize::from(id).checked_sub(1)?)
    }

    fn deactivate(&mut self, id: u8, by_network: bool) {
        let was_active = self.ctx(id).is_some_and(|c| c.active);
        if let Some(c) = self.ctx_mut(id) {
            c.active = false;
        }
        if by_network && was_active {
            // TCP/IP note [3]: the network deactivated the context.
            self.urc(format!("+QIURC: \"pdpdeact\",{id}").into_bytes());
        }
        if let Some(s) = self.sending.filter(|s| s.context == id && !s.multitech) {
            self.sending = None;
            if s.report.is_none() {
                self.actions.push_back(Action::Cancel { id: s.id });
            }
            self.urc(format!("+QSMTPPUT: {},0", err::PDP_DEACTIVATED).into_bytes());
            if s.held_ok {
                self.emit_final(Final::Ok);
            }
        }
    }

    fn cmd_cgatt(&mut self, f: Form, params: &[WParam]) -> Step {
        if f == Form::Read {
            self.emit_info(&[format!("+CGATT: {}", u8::from(self.attached)).into_bytes()]);
            return Step::Done;
        }
        match params {
            [WParam::Int(v @ 0..=1)] => {
                if *v == 1 && !self.sim_ready {
                    return Step::Stop(Final::Error);
                }
                self.attached = *v == 1;
                if !self.attached {
                    for id in 1..=16 {
                        self.deactivate(id, false);
                    }
                }
                Step::Done
            }
            _ => Step::Stop(Final::Error),
        }
    }

    fn cmd_cgreg(&mut self, f: Form, params: &[WParam], spec: &catalog::Command) -> Step {
        if f == Form::Read {
            let registered = self.attached && self.sim_ready;
            // 27.007 <stat>: 1 registered, home network; 5 registered, roaming.
            let stat = match (registered, self.l(Liberty::CgregRoaming)) {
                (false, _) => 0,
                (true, false) => 1,
                (true, true) => 5,
            };
            let mut line = format!("+CGREG: {},{stat}", self.cgreg_n);
            if self.cgreg_n == 2 && registered {
                // 3GPP TS 27.007 §10.1.20: <n>=2 adds the serving cell: <lac>,<ci>,<AcT>
                // (7 = E-UTRAN); the values are this emulator's fixed cell.
                line.push_str(&format!(",\"{CELL_LAC}\",\"{CELL_CI}\",7"));
            }
            self.emit_info(&[line.into_bytes()]);
            return Step::Done;
        }
        match args(spec.params, params) {
            Some(a) => {
                self.cgreg_n = a[0].int().unwrap_or(0) as u8;
                Step::Done
            }
            None => Step::Stop(Final::Error),
        }
    }

    fn cmd_qicsgp(&mut self, params: &[WParam]) -> Step {
        let Some(id) = params
            .first()
            .and_then(WParam::as_int)
            .filter(|v| (1..=16).contains(v))
        else {
            return Step::Stop(Final::Error);
        };
        let id = id as u8;
        if params.len() == 1 {
            let c = self.ctx(id).cloned().unwrap_or_default();
            let line = cat(&[
                format!("+QICSGP: {},", c.context_type.max(1)).as_bytes(),
                &quoted(&c.apn),
                b",",
                &quoted(&c.user),
                b",",
                &quoted(&c.pass),
                format!(",{}", c.auth).as_bytes(),
            ]);
            self.emit_info(&[line]);
            return Step::Done;
        }
        // 000 §3.1 prints `AT+QICSGP=1,1,"UNINET","",1`: an integer where `<password>` (a string)
        // belongs is a bad parameter, answered ERROR like any other (ERRATA E15: scenarios send
        // the corrected line `AT+QICSGP=1,1,"UNINET","","",1`).
        let rest = params.get(1..).unwrap_or_default();
        let (ctype, apn, user, pass, auth) = match rest {
            [WParam::Int(t), a, tail @ ..] => {
                let apn = a.as_str_bytes();
                let (user, pass, auth) = match tail {
                    [] => (Some(&b""[..]), Some(&b""[..]), Some(0)),
                    [u] => (u.as_str_bytes(), Some(&b""[..]), Some(0)),
                    [u, p] => (u.as_str_bytes(), p.as_str_bytes(), Some(0)),
                    [u, p, WParam::Int(au)] => (u.as_str_bytes(), p.as_str_bytes(), Some(*au)),
                    _ => (None, None, None),
                };
                (*t, apn, user, pass, auth)
            }
            _ => return Step::Stop(Final::Error),
        };
        match (apn, user, pass, auth) {
            (Some(apn), Some(user), Some(pass), Some(auth))
                if (1..=3).contains(&ctype)
                    && (0..=3).contains(&auth)
                    && apn.len() <= 100
                    && user.len() <= 127
                    && pass.len() <= 127 =>
            {
                if let Some(c) = self.ctx_mut(id) {
                    c.context_type = ctype as u8;
                    c.apn = apn.to_vec();
                    c.user = user.to_vec();
                    c.pass = pass.to_vec();
                    c.auth = auth as u8;
                }
                Step::Done
            }
            _ => Step::Stop(Final::Error),
        }
    }

    fn cmd_qiact(&mut self, f: Form, params: &[WParam], spec: &catalog::Command) -> Step {
        if f == Form::Read {
            let no_ip = self.q(Quirk::QiactQueryNoIp);
            let lines: Vec<Vec<u8>> = (1..=16u8)
                .filter_map(|id| {
                    let c = self.ctx(id)?;
                    c.active.then(|| {
                        let t = c.context_type.max(1);
                        if no_ip {
                            format!("+QIACT: {id},1,{t}").into_bytes()
                        } else {
                            let ip = self.cfg.profile.ip_for_context(id);
                            format!("+QIACT: {id},1,{t},\"{ip}\"").into_bytes()
                        }
                    })
                })
                .collect();
            self.emit_info(&lines);
            return Step::Done;
        }
        let Some(a) = args(spec.params, params) else {
            return Step::Stop(Final::Error);
        };
        let id = a[0].int().unwrap_or(1) as u8;
        let active = self.contexts.iter().filter(|c| c.active).count();
        if !self.attached
            || self.cfg.faults.contains(&Fault::PdpActivationFails)
            || self.ctx(id).is_none_or(|c| c.active)
            || active >= self.cfg.profile.limits.max_active_contexts
        {
            return Step::Stop(Final::Error);
        }
        if let Some(c) = self.ctx_mut(id) {
            c.active = true;
        }
        Step::Done
    }

    fn cmd_qsslcfg(&mut self, params: &[WParam], spec: &catalog::Command) -> Step {
        let Some(setting) = params
            .first()
            .and_then(WParam::as_str_bytes)
            .and_then(|k| std::str::from_utf8(k).ok())
            .and_then(|k| spec.setting(k))
        else {
            // ERRATA E3: unknown settings (e.g. "secllevel") answer ERROR.
            return Step::Stop(Final::Error);
        };
        let Some(a) = args(setting.params, params.get(1..).unwrap_or_default()) else {
            return Step::Stop(Final::Error);
        };
        let ctx = a[0].int().unwrap_or(0) as usize;
        let Some(s) = self.ssl.get_mut(ctx) else {
            return Step::Stop(Final::Error);
        };
        if let Some(path) = a.get(1).and_then(Arg::str) {
            // "cacert" / "clientcert" / "clientkey": the path as typed; the file is read at
            // AT+QSMTPPUT (ERRATA E28).
            match setting.name {
                "cacert" => s.cacert = path.to_vec(),
                "clientcert" => s.clientcert = path.to_vec(),
                "clientkey" => s.clientkey = path.to_vec(),
                _ => return Step::Stop(Final::Error),
            }
            return Step::Done;
        }
        let value = a.get(1).and_then(Arg::int);
        let line = match (setting.name, value) {
            (name @ ("cacert" | "clientcert" | "clientkey"), None) => {
                let path = match name {
                    "cacert" => &s.cacert,
                    "clientcert" => &s.clientcert,
                    _ => &s.clientkey,
                };
                let mut l = format!("+QSSLCFG: \"{name}\",{ctx},").into_bytes();
                l.extend_from_slice(&quoted(path));
                self.emit_info(&[l]);
                return Step::Done;
            }
            ("ciphersuite", Some(v)) => {
                s.ciphersuite = v as u16;
                None
            }
            ("seclevel", Some(v)) => {
                s.seclevel = v as u8;
                None
            }
            ("sslversion", Some(v)) => {
                s.sslversion = v as u8;
                None
            }
            ("ciphersuite", None) => Some(format!(
                "+QSSLCFG: \"ciphersuite\",{ctx},0X{:04X}",
                s.ciphersuite
            )),
            (name, None) => {
                let v = if name == "seclevel" {
                    s.seclevel
                } else {
                    s.sslversion
                };
                Some(format!("+QSSLCFG: \"{name}\",{ctx},{v}"))
            }
            _ => return Step::Stop(Final::Error),
        };
        if let Some(l) = line {
            self.emit_info(&[l.into_bytes()]);
        }
        Step::Done
    }

    // ---- files ----

    fn cmd_qfupl(&mut self, now: Instant, params: &[WParam], spec: &catalog::Command) -> Step {
        let Some(a) = args(spec.params, params) else {
            return Step::Stop(Final::Cme(400));
        };
        let Some((drive, name)) = a[0].str().and_then(fs::split_name) else {
            return Step::Stop(Final::Cme(400));
        };
        if self.fs.exists(drive, &name) {
            return Step::Stop(Final::Cme(407));
        }
        let size = a[1].int().unwrap_or(10240) as usize;
        let capacity = match drive {
            Drive::Ram => self.cfg.profile.limits.ram_drive_bytes,
            Drive::Ufs | Drive::Sd => fs::FLASH_DRIVE_BYTES,
        };
        if self.fs.used(drive) + size > capacity {
            return Step::Stop(Final::Cme(403));
        }
        let timeout = Duration::from_secs(a[2].int().unwrap_or(5) as u64);
        // 000 §1.3: the port's data mode, `+++` and DTR included (ERRATA E18).
        let c = Collector::new(now, size, Some(timeout), self.guard(), false);
        Step::Enter(
            Box::new(Mode::Upload {
                c,
                drive,
                name,
                ack: a[3].int() == Some(1),
            }),
            "CONNECT",
        )
    }

    fn cmd_qflst(&mut self, params: &[WParam], spec: &catalog::Command) -> Step {
        // <name_pattern> ≤ 80 bytes like every FILE name (FILE note [4]; ERRATA E14, E29).
        let Some(a) = args(spec.params, params) else {
            return Step::Stop(Final::Cme(400));
        };
        let pattern: &[u8] = a.first().and_then(Arg::str).unwrap_or(b"*");
        let Some(files) = self.fs.list(pattern) else {
            return Step::Stop(Final::Cme(400));
        };
        let off = usize::from(self.q(Quirk::QflstSizeWrong));
        let lines: Vec<Vec<u8>> = files
            .into_iter()
            .map(|(n, size)| {
                cat(&[
                    b"+QFLST: ",
                    &quoted(n.as_bytes()),
                    format!(",{}", size.saturating_sub(off)).as_bytes(),
                ])
            })
            .collect();
        self.emit_info(&lines);
        Step::Done
    }

    fn cmd_qfdel(&mut self, params: &[WParam], spec: &catalog::Command) -> Step {
        // <filename> ≤ 80 bytes (FILE note [4]; ERRATA E14, E29).
        let Some(a) = args(spec.params, params) else {
            return Step::Stop(Final::Cme(400));
        };
        let Some(name) = a.first().and_then(Arg::str) else {
            return Step::Stop(Final::Cme(400));
        };
        let wildcard = name.iter().any(|b| *b == b'*' || *b == b'?');
        match self.fs.delete(name) {
            None => Step::Stop(Final::Cme(400)),
            // ERRATA E2: deleting a missing file answers 405.
            Some(0) if !wildcard => Step::Stop(Final::Cme(405)),
            Some(_) => Step::Done,
        }
    }

    // ---- SMTP ----

    fn busy(&self) -> bool {
        self.sending.is_some()
    }

    /// Whether `AT+QSMTPCFG="bodyoriginal"` is accepted: 000's modules, and the AG35 with the
    /// liberty `ag35-bodyoriginal` (001 p.9 only leaves it out of the test response).
    fn bodyoriginal_accepted(&self) -> bool {
        self.cfg.profile.supports_bodyoriginal || self.l(Liberty::Ag35Bodyoriginal)
    }

    fn cmd_qsmtpcfg(&mut self, params: &[WParam], spec: &catalog::Command) -> Step {
        const BAD: Step = Step::Stop(Final::Cme(err::BAD_PARAM));
        let Some(setting) = params
            .first()
            .and_then(WParam::as_str_bytes)
            .and_then(|k| std::str::from_utf8(k).ok())
            .and_then(|k| spec.setting(k))
        else {
            return BAD;
        };
        if setting.name == "bodyoriginal" && !self.bodyoriginal_accepted() {
            return BAD; // 001 p.9: AG35 has no "bodyoriginal"
        }
        let rest = params.get(1..).unwrap_or_default();
        if rest.is_empty() {
            // ERRATA E6: omitted parameters query the setting.
            let c = &self.smtp;
            let line = match setting.name {
                "account" => cat(&[
                    b"+QSMTPCFG: \"account\",",
                    &quoted(&c.user),
                    b",",
                    &quoted(&c.pass),
                ]),
                "sender" => cat(&[
                    b"+QSMTPCFG: \"sender\",",
                    &quoted(&c.sender_name),
                    b",",
                    &quoted(&c.sender_email),
                ]),
                "smtpserver" => cat(&[
                    b"+QSMTPCFG: \"smtpserver\",",
                    &quoted(&c.server),
                    format!(",{}", c.port).as_bytes(),
                ]),
                name => {
                    let v = match name {
                        "contextid" => c.contextid,
                        "sslctxid" => c.sslctxid,
                        "ssltype" => c.ssltype,
                        _ => c.bodyoriginal,
                    };
                    format!("+QSMTPCFG: \"{name}\",{v}").into_bytes()
                }
            };
            self.emit_info(&[line]);
            return Step::Done;
        }
        if self.busy() {
            return Step::Stop(Final::Cme(err::BUSY));
        }
        let Some(a) = args(setting.params, rest) else {
            return BAD;
        };
        let c = &mut self.smtp;
        match (setting.name, a.as_slice()) {
            ("account", [Arg::Str(u), Arg::Str(p)]) => {
                c.user = u.clone();
                c.pass = p.clone();
            }
            ("sender", [Arg::Str(n), Arg::Str(e)]) => {
                c.sender_name = n.clone();
                c.sender_email = e.clone();
            }
            // 000 §2.1.1: an omitted optional parameter keeps its previous value (E15).
            ("smtpserver", [Arg::Str(s), port]) if !s.is_empty() => {
                c.server = s.clone();
                if let Some(p) = port.int() {
                    c.port = p as u16;
                }
            }
            ("contextid", [Arg::Int(v)]) => c.contextid = *v as u8,
            ("sslctxid", [Arg::Int(v)]) => c.sslctxid = *v as u8,
            ("ssltype", [Arg::Int(v)]) => c.ssltype = *v as u8,
            ("bodyoriginal", [Arg::Int(v)]) => c.bodyoriginal = *v as u8,
            _ => return BAD,
        }
        Step::Done
    }

    fn cmd_qsmtpdst(&mut self, f: Form, params: &[WParam], spec: &catalog::Command) -> Step {
        if f == Form::Read {
            let lines: Vec<Vec<u8>> = self
                .mail
                .recipients
                .iter()
                .map(|(t, a)| cat(&[format!("+QSMTPDST: {t},").as_bytes(), &quoted(a)]))
                .collect();
            self.emit_info(&lines);
            return Step::Done;
        }
        let Some(a) = args(spec.params, params) else {
            return Step::Stop(Final::Cme(err::BAD_PARAM));
        };
        if self.busy() {
            return Step::Stop(Final::Cme(err::BUSY));
        }
        match (a[0].int(), a[1].int(), a[2].str()) {
            (Some(1), Some(t), Some(addr)) if !addr.is_empty() => {
                let limit = if self.q(Quirk::RecipientLimit19) {
                    19
                } else {
                    self.cfg.profile.limits.max_recipients
                };
                if self.mail.recipients.len() >= limit {
                    return Step::Stop(Final::Cme(err::BAD_PARAM));
                }
                self.mail.recipients.push((t as u8, addr.to_vec()));
            }
            (Some(0), None, None) => {
                if self.q(Quirk::DstDeleteKeepsCc) {
                    self.mail.recipients.retain(|(t, _)| *t == 2);
                } else {
                    self.mail.recipients.clear();
                }
            }
            // ERRATA E24: `0,<type>` deletes that type, `0,<type>,<addr>` that recipient.
            (Some(0), Some(t), addr) => {
                self.mail
                    .recipients
                    .retain(|(rt, ra)| !(*rt == t as u8 && addr.is_none_or(|a| a == &ra[..])));
            }
            _ => return Step::Stop(Final::Cme(err::BAD_PARAM)),
        }
        Step::Done
    }

    fn cmd_qsmtpsub(&mut self, f: Form, params: &[WParam], spec: &catalog::Command) -> Step {
        if f == Form::Read {
            let line = cat(&[
                format!("+QSMTPSUB: {},", self.mail.sub_charset).as_bytes(),
                &quoted(&self.mail.sub_raw),
            ]);
            self.emit_info(&[line]);
            return Step::Done;
        }
        const BAD: Step = Step::Stop(Final::Cme(err::BAD_PARAM));
        let Some(a) = args(spec.params, params) else {
            return BAD;
        };
        if self.busy() {
            return Step::Stop(Final::Cme(err::BUSY));
        }
        let (Some(charset), Some(raw)) = (a[0].int(), a[1].str()) else {
            return BAD;
        };
        let limits = &self.cfg.profile.limits;
        let truncate = self.q(Quirk::SubjectTruncatedAt64);
        let mut raw = raw.to_vec();
        let bytes = if charset == 0 {
            if raw.len() > limits.max_subject_ascii || !raw.is_ascii() {
                return BAD;
            }
            if truncate {
                raw.truncate(64);
            }
            raw.clone()
        } else {
            // ERRATA E8: an even number of hex digits, at most 200.
            if raw.len() > limits.max_subject_hex || raw.len() % 2 != 0 {
                return BAD;
            }
            let Ok(decoded) = at_wire::decode_hex_str(&raw) else {
                return BAD;
            };
            if truncate {
                raw.truncate(128);
            }
            if self.q(Quirk::HexSubjectNotDecoded) {
                raw.clone()
            } else if truncate {
                decoded.into_iter().take(64).collect()
            } else {
                decoded
            }
        };
        self.mail.sub_charset = charset as u8;
        self.mail.sub_raw = raw;
        self.mail.sub_bytes = bytes;
        Step::Done
    }

    fn cmd_qsmtpbody(
        &mut self,
        now: Instant,
        f: Form,
        params: &[WParam],
        spec: &catalog::Command,
    ) -> Step {
        if f == Form::Read {
            return Step::Done; // 000 §2.2.4: the read command answers only OK
        }
        let Some(a) = args(spec.params, params) else {
            return Step::Stop(Final::Cme(err::BAD_PARAM));
        };
        if self.busy() {
            return Step::Stop(Final::Cme(err::BUSY));
        }
        let charset = a[0].int().unwrap_or(0) as u8;
        let len = a[1].int().unwrap_or(1) as usize;
        let len = len.min(self.cfg.profile.limits.max_body);
        let secs = a[2]
            .int()
            .unwrap_or(i64::from(self.cfg.profile.limits.default_input_time));
        let input_time =
            (!self.q(Quirk::InputTimeIgnored)).then(|| Duration::from_secs(secs as u64));
        // Quirk guard-time-ignored: a zero guard accepts `+++` amid data.
        let guard = if self.q(Quirk::GuardTimeIgnored) {
            Duration::ZERO
        } else {
            self.guard()
        };
        let c = Collector::new(
            now,
            len,
            input_time,
            guard,
            self.q(Quirk::EscapeNeedsNoSilenceAfter),
        );
        let banner = if self.q(Quirk::ConnectMissing) {
            ""
        } else {
            "CONNECT"
        };
        Step::Enter(Box::new(Mode::Body { c, charset }), banner)
    }

    fn cmd_qsmtpatt(&mut self, f: Form, params: &[WParam], spec: &catalog::Command) -> Step {
        if f == Form::Read {
            let lines: Vec<Vec<u8>> = self
                .mail
                .attachments
                .iter()
                .map(|(i, (n, size))| {
                    cat(&[
                        format!("+QSMTPATT: {i},").as_bytes(),
                        &quoted(n),
                        format!(",{size}").as_bytes(),
                    ])
                })
                .collect();
            self.emit_info(&lines);
            return Step::Done;
        }
        const BAD: Step = Step::Stop(Final::Cme(err::BAD_PARAM));
        let Some(a) = args(spec.params, params) else {
            return BAD;
        };
        if self.busy() {
            return Step::Stop(Final::Cme(err::BUSY));
        }
        match (a[0].int(), a[1].int(), a[2].str()) {
            (Some(1), Some(i), Some(name)) => {
                let Some((drive, file)) = fs::split_name(name) else {
                    return Step::Stop(Final::Cme(err::FILE_OPEN));
                };
                let Some(size) = self.fs.get(drive, &file).map(Vec::len) else {
                    return Step::Stop(Final::Cme(err::FILE_OPEN));
                };
                let limit = if self.q(Quirk::AttachmentLimit9) {
                    9
                } else {
                    self.cfg.profile.limits.max_attachments
                };
                let idx = i as u8;
                if !self.mail.attachments.contains_key(&idx) && self.mail.attachments.len() >= limit
                {
                    return BAD;
                }
                self.mail.attachments.insert(idx, (name.to_vec(), size));
            }
            (Some(0), None, None) => self.mail.attachments.clear(),
            (Some(0), Some(i), None) => {
                self.mail.attachments.remove(&(i as u8));
            }
            _ => return BAD,
        }
        Step::Done
    }

    fn cmd_qsmtpput(&mut self, params: &[WParam], spec: &catalog::Command) -> Step {
        let Some(a) = args(spec.params, params) else {
            return Step::Stop(Final::Cme(err::BAD_PARAM));
        };
        if self.busy() {
            if self.q(Quirk::BusyNotReported) {
                return Step::Done;
            }
            return Step::Stop(Final::Cme(err::BUSY));
        }
        let timeout = a[0].int().unwrap_or(60) as u32;
        self.put_plan = Some((timeout, self.q(Quirk::UrcBeforeOk)));
        Step::Done
    }

    /// After `OK` to `AT+QSMTPPUT`: immediate failures (ERRATA E19) or a delivery.
    fn start_put(&mut self, now: Instant, timeout: u32, hold_ok: bool) {
        if self.q(Quirk::PutBeforeBodyCrashWedge) && self.mail.body.is_none() {
            if hold_ok {
                self.emit_final(Final::Ok);
            }
            self.mode = Mode::Wedged;
            return;
        }
        let ctx_active = self.ctx(self.smtp.contextid).is_some_and(|c| c.active);
        let mut attachments = Vec::new();
        let mut missing = false;
        for (name, _) in self.mail.attachments.values() {
            match fs::split_name(name).and_then(|(d, n)| self.fs.get(d, &n).map(|b| (n, b))) {
                Some((n, b)) => attachments.push(Attachment {
                    file_name: n,
                    bytes: b.clone(),
                }),
                None => missing = true,
            }
        }
        let early = if self.mail.recipients.is_empty() {
            Some(err::NO_RECIPIENT)
        } else if !ctx_active || self.smtp.server.is_empty() {
            // 000 §4.3: 653 → check that the PDP context is active.
            Some(err::DNS)
        } else if missing {
            Some(err::FILE_OPEN)
        } else {
            None
        };
        if let Some(e) = early {
            self.urc(format!("+QSMTPPUT: {e},0").into_bytes());
            if hold_ok {
                self.emit_final(Final::Ok);
            }
            return;
        }
        let id = DeliveryId(self.next_id);
        self.next_id += 1;
        let job = self.quectel_job(now, id, attachments);
        let deadline = now + Duration::from_secs(u64::from(timeout));
        self.sending = Some(Sending {
            id,
            deadline,
            context: self.smtp.contextid,
            held_ok: hold_ok,
            multitech: false,
            mt_phase: MtPhase::Sending,
            report: None,
        });
        self.actions
            .push_back(Action::Deliver { id, job, deadline });
    }

    fn client_quirks(&self) -> ClientQuirks {
        let mut q = ClientQuirks::NONE;
        q.leak_bcc_header = self.q(Quirk::BccHeaderLeaked);
        q.no_dot_stuffing = self.q(Quirk::NoDotStuffing);
        q.helo_only = self.q(Quirk::HeloOnly);
        q.force_auth_login = self.q(Quirk::ForceAuthLogin);
        q
    }

    fn client_style(&self) -> ClientStyle {
        ClientStyle {
            auth_login_first: self.l(Liberty::AuthLoginFirst),
            body_base64: self.l(Liberty::BodyBase64),
            multipart_always: self.l(Liberty::MultipartAlways),
            subject_q_words: self.l(Liberty::SubjectQWords),
            extra_headers: self.l(Liberty::MailHeaders),
            attachment_types: self.l(Liberty::AttachmentTypes),
        }
    }

    /// The `EHLO` argument of a Quectel send: the PDP address literal (ERRATA E27), or the
    /// module's name (liberty `ehlo-name`).
    fn ehlo_domain(&self, context: u8) -> String {
        if self.l(Liberty::EhloName) {
            format!(
                "{}.module.invalid",
                self.cfg.profile.model.to_ascii_lowercase()
            )
        } else {
            format!("[{}]", self.cfg.profile.ip_for_context(context))
        }
    }

    fn net_faults(&self) -> Vec<at_mailer::NetFault> {
        self.cfg.faults.iter().filter_map(Fault::net).collect()
    }

    fn date(&self, now: Instant) -> String {
        let unix = self.cfg.epoch_unix + now.since_origin().as_secs();
        if self.l(Liberty::MailHeaders) {
            // The same instant on a module clock set to China Standard Time.
            return rfc5322_date(unix + 8 * 3600).replace("+0000", "+0800");
        }
        rfc5322_date(unix)
    }

    fn message_id(&self, id: DeliveryId) -> String {
        if self.l(Liberty::MailHeaders) {
            return format!(
                "{}{:08}.{:x}@smtp.module.invalid",
                self.cfg.profile.model.to_ascii_uppercase(),
                id.0,
                self.cfg.seed
            );
        }
        format!(
            "{:016x}.{}@{}.atconform.invalid",
            self.cfg.seed,
            id.0,
            self.cfg.profile.model.to_ascii_lowercase()
        )
    }

    fn quectel_job(&self, now: Instant, id: DeliveryId, attachments: Vec<Attachment>) -> MailJob {
        let lossy = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
        let c = &self.smtp;
        let charset = |v: u8| Charset::from_quectel(u32::from(v)).unwrap_or_default();
        let (body_charset, body) = self.mail.body.clone().unwrap_or((0, Vec::new()));
        let tls = self
            .ssl
            .get(usize::from(c.sslctxid))
            .map(|s| s.client_settings(&self.fs, self.l(Liberty::CipherOrder)))
            .unwrap_or_default();
        MailJob {
            server: lossy(&c.server),
            port: c.port,
            ssl: SslType::from_quectel(u32::from(c.ssltype)).unwrap_or_default(),
            tls,
            auth: (!c.user.is_empty()).then(|| Credentials {
                user: lossy(&c.user),
                password: Secret::new(lossy(&c.pass)),
            }),
            sender_name: lossy(&c.sender_name),
            sender_email: lossy(&c.sender_email),
            recipients: self
                .mail
                .recipients
                .iter()
                .map(|(t, a)| {
                    (
                        RecipientKind::from_quectel(u32::from(*t)).unwrap_or(RecipientKind::To),
                        lossy(a),
                    )
                })
                .collect(),
            subject: Subject {
                charset: charset(self.mail.sub_charset),
                bytes: self.mail.sub_bytes.clone(),
            },
            body: Body {
                charset: charset(body_charset),
                bytes: body,
                original: c.bodyoriginal == 1
                    && self.bodyoriginal_accepted()
                    && !self.q(Quirk::BodyoriginalIgnored),
            },
            attachments,
            helo_domain: self.ehlo_domain(c.contextid),
            date: self.date(now),
            message_id: self.message_id(id),
            faults: self.net_faults(),
            quirks: self.client_quirks(),
            style: self.client_style(),
        }
    }

    // ---- data mode ends ----

    fn guard(&self) -> Duration {
        Duration::from_millis(self.cfg.profile.limits.guard_time_ms)
    }

    fn finish_data(&mut self, now: Instant) {
        let mode = std::mem::replace(&mut self.mode, Mode::Command);
        self.swallow_lf = false;
        let mut leftover = Vec::new();
        match mode {
            Mode::Body { c, charset } => {
                let (payload, rest) = c.finish();
                leftover = rest;
                let n = payload.len() + usize::from(self.q(Quirk::BodyLengthOffByOne));
                self.mail.body = Some((charset, payload));
                self.emit_info(&[format!("+QSMTPBODY: {n}").into_bytes()]);
                if !self.q(Quirk::NoOkAfterDataMode) {
                    self.emit_final(Final::Ok);
                }
            }
            Mode::Upload { c, drive, name, .. } => {
                let (payload, rest) = c.finish();
                leftover = rest;
                let cks = if self.q(Quirk::QfuplChecksumZero) {
                    0
                } else if self.l(Liberty::ChecksumSum16) {
                    at_catalog::checksum::Algorithm::Sum16.of(&payload)
                } else {
                    at_catalog::checksum::qfupl(&payload)
                };
                let n = payload.len();
                self.fs.put(drive, name, payload);
                // ERRATA E12: the checksum is printed in hex.
                self.emit_info(&[format!("+QFUPL: {n},{cks:x}").into_bytes()]);
                self.emit_final(Final::Ok);
            }
            other => self.mode = other,
        }
        self.flush_urcs();
        // `+` held as a possible escape that turned out to exceed the length: command bytes.
        if !leftover.is_empty() {
            self.handle_input(now, &leftover);
        }
    }

    // ---- Multi-Tech (002) ----

    fn mt_errors(&self) -> Option<&at_catalog::MultiTechErrors> {
        self.cfg.profile.multitech.as_ref().map(|m| &m.errors)
    }

    fn mt_inactivity(&self) -> Duration {
        Duration::from_secs(
            self.cfg
                .profile
                .multitech
                .as_ref()
                .map(|m| m.inactivity_secs)
                .unwrap_or(50),
        )
    }

    fn mt_str(&self, name: &str) -> Vec<u8> {
        self.mt
            .get(name)
            .and_then(Arg::str)
            .map(<[u8]>::to_vec)
            .unwrap_or_default()
    }

    fn exec_multitech(&mut self, now: Instant, name: &str, form: &WForm) -> Step {
        if name == "PUTMAIL" {
            return match form {
                WForm::Execute => self.cmd_putmail(now),
                _ => Step::Stop(Final::Error),
            };
        }
        let Some(spec) = catalog::multitech_param(name) else {
            return Step::Stop(Final::Error);
        };
        match form {
            WForm::Test => Step::Done,
            WForm::Read => {
                let v = match self.mt.get(spec.name) {
                    Some(Arg::Int(v)) => v.to_string().into_bytes(),
                    Some(Arg::Str(s)) => quoted(s),
                    _ => Vec::new(),
                };
                self.emit_info(&[cat(&[format!("#{}: ", spec.name).as_bytes(), &v])]);
                Step::Done
            }
            WForm::Set(p) => match args(std::slice::from_ref(spec), p) {
                Some(mut a) if a.len() == 1 && a[0] != Arg::None => {
                    if self.sending.is_some() {
                        let code = self.mt_errors().map(|e| e.busy).unwrap_or(0);
                        return Step::Stop(Final::MtCme(code));
                    }
                    self.mt.insert(spec.name, a.remove(0));
                    Step::Done
                }
                _ => Step::Stop(Final::Error),
            },
            WForm::Execute => Step::Stop(Final::Error),
        }
    }

    fn cmd_putmail(&mut self, now: Instant) -> Step {
        let Some(errors) = self.mt_errors().cloned() else {
            return Step::Stop(Final::Error);
        };
        if !self.sim_ready {
            return Step::Stop(Final::Error);
        }
        if self.sending.is_some() {
            return Step::Stop(Final::MtCme(errors.busy));
        }
        if self.mt_str("REC1").is_empty() || self.mt_str("SMTPSERV").is_empty() {
            return Step::Stop(Final::MtCme(errors.not_ready));
        }
        // 002: "An email address specified in REC1 or CCREC1 is not valid" is a #CME ERROR;
        // one that is not even an address (RFC 5321 §4.1.2 local-part@domain) is refused
        // before any session (ERRATA E22). A valid one the server rejects fails at RCPT.
        let cc = self.mt_str("CCREC1");
        if !is_address(&self.mt_str("REC1")) || (!cc.is_empty() && !is_address(&cc)) {
            return Step::Stop(Final::MtCme(errors.not_ready));
        }
        // 002: "Once an IP link is established, the attached host can send an email": no
        // link (no PS attach), no session.
        if !self.attached {
            return Step::Stop(Final::MtCme(errors.not_ready));
        }
        // 002: `OK_Info_WaitingForData` means "An SMTP session has been successfully opened":
        // the session opens first (connect, greeting, EHLO, AUTH), the prompt comes when it is
        // open, a failure instead of it.
        let id = DeliveryId(self.next_id);
        self.next_id += 1;
        let job = self.multitech_job(now, id, Vec::new());
        let deadline = now + MULTITECH_SEND_TIMEOUT;
        self.sending = Some(Sending {
            id,
            deadline,
            context: 0,
            held_ok: false,
            multitech: true,
            mt_phase: MtPhase::Opening,
            report: None,
        });
        self.mt_job = Some(job.clone());
        self.actions.push_back(Action::Open { id, job, deadline });
        Step::Pending
    }

    fn finish_mt_body(&mut self, now: Instant) {
        let Mode::MtBody { c } = std::mem::replace(&mut self.mode, Mode::Command) else {
            return;
        };
        self.swallow_lf = false;
        let Some(body) = c.finish() else {
            self.abandon_mt_session();
            let code = self.mt_errors().map(|e| e.smtp_rejected).unwrap_or(0);
            self.emit_final(Final::MtCme(code));
            return;
        };
        let (Some(mut job), Some(s)) = (self.mt_job.take(), self.sending) else {
            return;
        };
        job.body.bytes = body;
        let deadline = now + MULTITECH_SEND_TIMEOUT;
        self.sending = Some(Sending {
            deadline,
            mt_phase: MtPhase::Sending,
            ..s
        });
        self.actions.push_back(Action::Send {
            id: s.id,
            job,
            deadline,
        });
    }

    /// The mail `AT#PUTMAIL` sends: the parameters as they are now, `body` (002: "The header of
    /// this email is built using the REC1, CCREC1 and SUBJ1 parameters").
    fn multitech_job(&self, now: Instant, id: DeliveryId, body: Vec<u8>) -> MailJob {
        let lossy = |b: Vec<u8>| String::from_utf8_lossy(&b).into_owned();
        let mut recipients = vec![(RecipientKind::To, lossy(self.mt_str("REC1")))];
        let cc = self.mt_str("CCREC1");
        if !cc.is_empty() {
            recipients.push((RecipientKind::Cc, lossy(cc)));
        }
        let user = self.mt_str("SMTPUN");
        let domain = self.mt_str("DOMAIN");
        let port = self.mt.get("SMTPPORT").and_then(Arg::int).unwrap_or(25) as u16;
        MailJob {
            server: lossy(self.mt_str("SMTPSERV")),
            port,
            ssl: SslType::Plain,
            tls: at_tls::ClientSettings::default(),
            auth: (!user.is_empty()).then(|| Credentials {
                user: lossy(user),
                password: Secret::new(lossy(self.mt_str("SMTPPW"))),
            }),
            sender_name: lossy(self.mt_str("SENDERNAME")),
            sender_email: lossy(self.mt_str("SENDERADDR")),
            recipients,
            subject: Subject {
                charset: Charset::Ascii,
                bytes: self.mt_str("SUBJ1"),
            },
            body: Body {
                charset: Charset::Ascii,
                bytes: body,
                original: false,
            },
            attachments: Vec::new(),
            helo_domain: if domain.is_empty() {
                format!("[{}]", self.cfg.profile.ip_address)
            } else {
                lossy(domain)
            },
            date: self.date(now),
            message_id: self.message_id(id),
            faults: self.net_faults(),
            quirks: self.client_quirks(),
            style: self.client_style(),
        }
    }
}

/// The liberties that are profile data: another PDP address, another ATI revision, other
/// Multi-Tech cause values (`crate::liberties`).
fn apply_profile_liberties(config: &mut EmulatorConfig) {
    let l = config.liberties;
    let p = &mut config.profile;
    if l.contains(Liberty::PdpAddress) {
        p.ip_address = "100.72.18.5".to_owned();
    }
    if l.contains(Liberty::AtiRevision) {
        p.revision = format!("{}R99A01M4G", p.model);
    }
    if l.contains(Liberty::MultitechCauses)
        && let Some(mt) = p.multitech.as_mut()
    {
        let e = &mut mt.errors;
        // 38027 (DNS) is the one value 002 documents; the others are the firmware's.
        e.connection = 38050;
        e.smtp_rejected = 38051;
        e.timeout = 38052;
        e.inactivity = 38053;
        e.not_ready = 38054;
        e.busy = 38055;
    }
}

/// Whether `a` has the shape of an RFC 5321 mailbox: `local-part@domain`, both non-empty, one
/// `@`, no white space, no angle brackets (not a full syntax check).
fn is_address(a: &[u8]) -> bool {
    let Some(at) = a.iter().position(|&b| b == b'@') else {
        return false;
    };
    let (local, domain) = (&a[..at], &a[at + 1..]);
    !local.is_empty()
        && !domain.is_empty()
        && !domain.contains(&b'@')
        && a.iter()
            .all(|&b| b > b' ' && b != 0x7f && b != b'<' && b != b'>')
}
