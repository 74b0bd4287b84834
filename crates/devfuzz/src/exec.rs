//! Runs a case on a target and judges every response: the oracle.

use core::time::Duration;

use at_runner::target::{ReadOutcome, TargetError};

use crate::frames::{self, Frame};
use crate::mail::Delivery;
use crate::model::{Case, Class, Expect, Finding, FindingKind, Info, Step};
use crate::virt::FuzzTarget;

/// How long the liveness check waits for `AT`'s `OK`. No source gives `AT` a maximum response
/// time (ERRATA E30): a module that answers late is not wedged, one that does not answer is.
pub const LIVENESS_WITHIN: Duration = Duration::from_secs(5);

/// What one step produced (for the scenario written from a finding).
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct StepLog {
    /// Response frames (information blocks and the final result), URCs excluded.
    pub frames: Vec<Frame>,
    /// URCs seen during the step.
    pub urcs: Vec<String>,
    /// URCs that were waiting before the step began (they arrived during an earlier silence).
    pub before: Vec<String>,
}

/// The result of running one case.
#[derive(Clone, Debug, Default)]
pub struct Run {
    /// The first finding, if any (the case stops there).
    pub finding: Option<Finding>,
    /// One log per step executed.
    pub logs: Vec<StepLog>,
    /// Echo state at the end (`ATE0`/`ATE1` seen).
    pub echo: bool,
    /// The deliveries the server saw, each with the index of the step that made it (targets
    /// whose server the fuzzer sees: the emulator).
    pub mail: Vec<(usize, Delivery)>,
    /// URCs that came within [`TRAILING`] after a clean case (virtual targets): a scenario
    /// ending at a send expects its `+QSMTPPUT` URC.
    pub trailing: Vec<String>,
}

/// How long a virtual target is listened to after a clean case, for late URCs.
pub const TRAILING: Duration = Duration::from_secs(5);

/// Drives one target; keeps the echo state and unread output between steps.
pub struct Executor<'t> {
    target: &'t mut dyn FuzzTarget,
    echo: bool,
    buf: Vec<u8>,
    slack: Duration,
    /// `+QFUPL` checksums seen in this case, by capture name ([`Info::Checksum`]).
    checksums: Vec<(String, String)>,
}

fn finding(kind: FindingKind, step: usize, message: impl Into<String>) -> Finding {
    Finding {
        kind,
        step,
        message: message.into(),
    }
}

fn show(b: &[u8]) -> String {
    if b.is_empty() {
        return "nothing".into();
    }
    let s = b.escape_ascii().to_string();
    if s.len() > 200 {
        let mut cut = 200;
        while !s.is_char_boundary(cut) {
            cut -= 1;
        }
        format!("{}… ({} bytes)", &s[..cut], b.len())
    } else {
        s
    }
}

fn class_ok(class: &Class, fin: &str) -> bool {
    use at_wire::{Final, Kind};
    let kind = at_wire::result_line(fin.as_bytes());
    match class {
        Class::Ok => fin == "OK",
        Class::Error => matches!(
            kind,
            Some(Kind::Final(
                Final::Error
                    | Final::CmeError(_)
                    | Final::MultiTechCme(_)
                    | Final::MultiTechCmeText
            ))
        ),
        Class::Cme(None) => fin
            .strip_prefix("+CME ERROR: ")
            .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit())),
        Class::Cme(Some(n)) => fin == format!("+CME ERROR: {n}"),
        Class::Connect => kind == Some(Kind::Connect),
        Class::Final(s) => fin == s,
        Class::Any => true,
    }
}

fn info_ok(info: &Info, lines: &[String]) -> bool {
    match info {
        Info::Any => true,
        Info::None => lines.is_empty(),
        Info::Exact(want) => lines == want.as_slice(),
        Info::Match(res) => {
            lines.len() == res.len()
                && res.iter().zip(lines).all(|((re, _), l)| {
                    regex::Regex::new(&format!("^(?:{re})$")).is_ok_and(|r| r.is_match(l))
                })
        }
        Info::Checksum { size, .. } => match lines {
            [l] => checksum_of(l, *size).is_some(),
            _ => false,
        },
    }
}

/// The `<checksum>` of a `+QFUPL: <size>,<checksum>` line for `size` bytes (hex).
fn checksum_of(line: &str, size: usize) -> Option<&str> {
    let hex = line.strip_prefix(&format!("+QFUPL: {size},"))?;
    (!hex.is_empty() && hex.bytes().all(|b| b.is_ascii_hexdigit())).then_some(hex)
}

impl<'t> Executor<'t> {
    /// An executor on `target`, whose echo is currently `echo`; response times get `slack` on
    /// top of the catalog's limits (0 on virtual time).
    pub fn new(target: &'t mut dyn FuzzTarget, echo: bool, slack: Duration) -> Self {
        Executor {
            target,
            echo,
            buf: Vec::new(),
            slack,
            checksums: Vec::new(),
        }
    }

    /// Current echo state.
    pub fn echo(&self) -> bool {
        self.echo
    }

    /// Runs `case`, stopping at the first finding; then, if clean, checks liveness.
    pub fn run(&mut self, case: &Case) -> Run {
        let mut run = Run::default();
        let mut n = 0;
        let mut seen = self.target.deliveries().len();
        for step in case.steps() {
            let mut log = StepLog::default();
            let r = self.step(n, step, &mut log);
            run.logs.push(log);
            let all = self.target.deliveries();
            run.mail
                .extend(all.iter().skip(seen).map(|d| (n, d.clone())));
            seen = all.len();
            if let Err(f) = r {
                run.finding = Some(f);
                run.echo = self.echo;
                return run;
            }
            n += 1;
        }
        let mut log = StepLog::default();
        if let Err(f) = self.liveness_logged(n, &mut log) {
            run.finding = Some(f);
        } else if self.target.is_virtual() {
            run.trailing = self.trailing_urcs();
        }
        run.logs.push(log);
        run.echo = self.echo;
        run
    }

    /// URC lines arriving within [`TRAILING`] (not judged: the case is over).
    fn trailing_urcs(&mut self) -> Vec<String> {
        let deadline = self.target.now() + TRAILING;
        while let Ok(ReadOutcome::Data(d)) = self.target.read(deadline) {
            self.buf.extend_from_slice(&d);
        }
        let Ok(p) = frames::parse(&self.buf, true) else {
            return Vec::new();
        };
        p.frames
            .into_iter()
            .filter_map(|f| match f {
                Frame::Info(mut l) if l.len() == 1 && frames::is_urc(&l[0]) => l.pop(),
                _ => None,
            })
            .collect()
    }

    /// `AT` must answer `OK` within its maximum response time.
    pub fn liveness(&mut self, n: usize) -> Result<(), Finding> {
        self.liveness_logged(n, &mut StepLog::default())
    }

    fn liveness_logged(&mut self, n: usize, log: &mut StepLog) -> Result<(), Finding> {
        self.pre_check(n, log)?;
        let e = Expect::class(Class::Ok, LIVENESS_WITHIN);
        self.write(n, b"AT\r")?;
        let echo = self.echo.then(|| b"AT\r".to_vec());
        self.await_final(n, echo, &e, log)
            .map_err(|f| Finding {
                kind: match f.kind {
                    FindingKind::Garbage | FindingKind::Echo | FindingKind::Reset => f.kind,
                    _ => FindingKind::Wedged,
                },
                message: format!("liveness check `AT`: {}", f.message),
                ..f
            })
            .map(drop)
    }

    fn write(&mut self, n: usize, b: &[u8]) -> Result<(), Finding> {
        self.target.write(b).map_err(|e| self.transport(n, e))
    }

    fn transport(&self, n: usize, e: TargetError) -> Finding {
        finding(FindingKind::Reset, n, format!("transport: {e}"))
    }

    /// Output nobody asked for must be URCs only.
    fn pre_check(&mut self, n: usize, log: &mut StepLog) -> Result<(), Finding> {
        let now = self.target.now();
        if let ReadOutcome::Data(d) = self.target.read(now).map_err(|e| self.transport(n, e))? {
            self.buf.extend_from_slice(&d);
        }
        if self.buf.is_empty() {
            return Ok(());
        }
        let p = frames::parse(&self.buf, true).map_err(|e| {
            finding(
                FindingKind::Unexpected,
                n,
                format!(
                    "unexpected output before the step: {} ({})",
                    show(&self.buf),
                    e.what
                ),
            )
        })?;
        for f in &p.frames {
            match f {
                Frame::Info(l) if l.len() == 1 && frames::is_urc(&l[0]) => {
                    if l[0] == "RDY" {
                        return Err(finding(FindingKind::Reset, n, "module restarted (RDY)"));
                    }
                    log.before.push(l[0].clone());
                }
                _ => {
                    return Err(finding(
                        FindingKind::Unexpected,
                        n,
                        format!("unexpected output before the step: {}", show(&self.buf)),
                    ));
                }
            }
        }
        self.buf.drain(..p.consumed);
        Ok(())
    }

    fn step(&mut self, n: usize, step: &Step, log: &mut StepLog) -> Result<(), Finding> {
        self.pre_check(n, log)?;
        match step {
            Step::Send { bytes, cr, expect } => {
                let mut line = bytes.clone();
                if *cr {
                    line.push(b'\r');
                }
                self.write(n, &line)?;
                let echo = self.echo.then(|| line.clone());
                let fin = self.await_final(n, echo, expect, log)?;
                if fin == "OK" {
                    let up = bytes.to_ascii_uppercase();
                    if up == b"ATE0" || up == b"ATE" {
                        self.echo = false;
                    } else if up == b"ATE1" {
                        self.echo = true;
                    }
                }
                Ok(())
            }
            Step::Data { bytes, expect } => {
                self.write(n, bytes)?;
                match expect {
                    Some(e) => self.await_final(n, None, e, log).map(drop),
                    None => Ok(()),
                }
            }
            Step::Escape {
                before,
                after,
                expect,
            } => {
                self.target.sleep(*before);
                self.write(n, b"+++")?;
                self.target.sleep(*after);
                match expect {
                    Some(e) => self.await_final(n, None, e, log).map(drop),
                    None => Ok(()),
                }
            }
            Step::Wait { time, expect } => match expect {
                Some(e) => {
                    let e = Expect {
                        within: *time,
                        ..e.clone()
                    };
                    self.await_final(n, None, &e, log).map(drop)
                }
                None => {
                    self.target.sleep(*time);
                    Ok(())
                }
            },
            Step::Server(f) => {
                // Generated only for targets that control their server; elsewhere a no-op.
                self.target.server_fault(*f);
                Ok(())
            }
            Step::Dtr { level, expect } => {
                match self.target.set_dtr(*level) {
                    Ok(()) => {}
                    Err(TargetError::Unsupported(_)) => return Ok(()),
                    Err(e) => return Err(self.transport(n, e)),
                }
                match expect {
                    Some(e) => self.await_final(n, None, e, log).map(drop),
                    None => Ok(()),
                }
            }
        }
    }

    /// Reads until the final result code; judges echo, framing, class, information and URCs.
    fn await_final(
        &mut self,
        n: usize,
        mut echo: Option<Vec<u8>>,
        e: &Expect,
        log: &mut StepLog,
    ) -> Result<String, Finding> {
        let deadline = self.target.now() + e.within + self.slack;
        let mut info: Vec<String> = Vec::new();
        let mut settled = false;
        loop {
            if let Some(want) = &echo {
                let k = want.len().min(self.buf.len());
                if self.buf[..k] != want[..k] {
                    return Err(finding(
                        FindingKind::Echo,
                        n,
                        format!("echo: sent {}, got {}", show(want), show(&self.buf)),
                    ));
                }
                if k == want.len() {
                    self.buf.drain(..k);
                    echo = None;
                }
            }
            if echo.is_none() {
                let p = frames::parse(&self.buf, settled).map_err(|err| {
                    if !self.echo
                        && err.offset == 0
                        && self
                            .buf
                            .get(..2)
                            .is_some_and(|p| p.eq_ignore_ascii_case(b"AT"))
                    {
                        finding(
                            FindingKind::Echo,
                            n,
                            format!(
                                "echo is off (ATE0) but the line came back: {}",
                                show(&self.buf)
                            ),
                        )
                    } else {
                        finding(
                            FindingKind::Garbage,
                            n,
                            format!("{} at byte {} of {}", err.what, err.offset, show(&self.buf)),
                        )
                    }
                })?;
                let mut fin = None;
                let mut want_urc = e.urc.clone();
                let mut used = 0;
                for (f, end) in p.frames.into_iter().zip(p.ends) {
                    match f {
                        Frame::Final(s) => {
                            used = end;
                            fin = Some(s);
                            break;
                        }
                        Frame::Info(l) if l.len() == 1 && frames::is_urc(&l[0]) => {
                            if l[0] == "RDY" {
                                return Err(finding(
                                    FindingKind::Reset,
                                    n,
                                    "module restarted (RDY)",
                                ));
                            }
                            if want_urc
                                .as_ref()
                                .is_some_and(|(pfx, _)| l[0].starts_with(pfx.as_str()))
                            {
                                return Err(finding(
                                    FindingKind::Urc,
                                    n,
                                    format!(
                                        "URC `{}` came before the final result (000 §2.2.7: OK, then the URC)",
                                        l[0]
                                    ),
                                ));
                            }
                            log.urcs.push(l[0].clone());
                        }
                        Frame::Info(l) => {
                            log.frames.push(Frame::Info(l.clone()));
                            info.extend(l);
                        }
                    }
                }
                if let Some(fin) = fin {
                    self.buf.drain(..used);
                    log.frames.push(Frame::Final(fin.clone()));
                    if !class_ok(&e.class, &fin) {
                        return Err(finding(
                            FindingKind::WrongClass,
                            n,
                            format!("expected {}, got `{fin}`", e.class),
                        ));
                    }
                    if !info_ok(&e.info, &info) {
                        return Err(finding(
                            FindingKind::WrongInfo,
                            n,
                            format!(
                                "expected {} before `{fin}`, got {}",
                                e.info,
                                crate::model::lines_text(&info)
                            ),
                        ));
                    }
                    if let Info::Checksum {
                        size,
                        name,
                        differs_from,
                    } = &e.info
                    {
                        let got = info
                            .first()
                            .and_then(|l| checksum_of(l, *size))
                            .unwrap_or_default()
                            .to_ascii_lowercase();
                        let before = differs_from.as_ref().and_then(|d| {
                            self.checksums.iter().find(|(c, _)| c == d).map(|(_, v)| v)
                        });
                        if before.is_some_and(|v| *v == got) {
                            return Err(finding(
                                FindingKind::WrongInfo,
                                n,
                                format!(
                                    "checksum {got} again for bytes that differ in one place: \
                                     not a checksum of the data (ERRATA E12)"
                                ),
                            ));
                        }
                        self.checksums.push((name.clone(), got));
                    }
                    if let Some((pfx, within)) = want_urc.take() {
                        self.await_urc(n, &pfx, within, log)?;
                    }
                    return Ok(fin);
                }
                if settled {
                    return Err(finding(
                        FindingKind::Timeout,
                        n,
                        format!(
                            "no final result within {:?} (expected {}); got {}",
                            e.within,
                            e.class,
                            show(&self.buf)
                        ),
                    ));
                }
            }
            match self
                .target
                .read(deadline)
                .map_err(|er| self.transport(n, er))?
            {
                ReadOutcome::Data(d) => self.buf.extend_from_slice(&d),
                ReadOutcome::Timeout => {
                    if echo.is_some() {
                        return Err(finding(
                            FindingKind::Timeout,
                            n,
                            format!("no echo within {:?}; got {}", e.within, show(&self.buf)),
                        ));
                    }
                    settled = true;
                }
            }
        }
    }

    fn await_urc(
        &mut self,
        n: usize,
        pfx: &str,
        within: Duration,
        log: &mut StepLog,
    ) -> Result<(), Finding> {
        let deadline = self.target.now() + within + self.slack;
        loop {
            let p = frames::parse(&self.buf, true).map_err(|err| {
                finding(
                    FindingKind::Garbage,
                    n,
                    format!("{} at byte {} of {}", err.what, err.offset, show(&self.buf)),
                )
            })?;
            let mut used = 0;
            for (f, end) in p.frames.iter().zip(&p.ends) {
                match f {
                    Frame::Info(l) if l.len() == 1 && frames::is_urc(&l[0]) => {
                        used = *end;
                        log.urcs.push(l[0].clone());
                        if l[0].starts_with(pfx) {
                            self.buf.drain(..used);
                            return Ok(());
                        }
                    }
                    _ => {
                        return Err(finding(
                            FindingKind::Unexpected,
                            n,
                            format!("waiting for `{pfx}`: unexpected {}", show(&self.buf)),
                        ));
                    }
                }
            }
            self.buf.drain(..used);
            match self
                .target
                .read(deadline)
                .map_err(|er| self.transport(n, er))?
            {
                ReadOutcome::Data(d) => self.buf.extend_from_slice(&d),
                ReadOutcome::Timeout => {
                    return Err(finding(
                        FindingKind::Urc,
                        n,
                        format!("no `{pfx}…` URC within {within:?}; got {}", show(&self.buf)),
                    ));
                }
            }
        }
    }
}
