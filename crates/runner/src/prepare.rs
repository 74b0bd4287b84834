//! Devices that keep their state between cases (real modules, `atconform emulate`): the health
//! check before a run, and before every case the resynchronisation after whatever the previous
//! case left behind followed by the profile's known state (`[setup]` of the module profile).
//!
//! ```text
//!  health (once)   resync                          prelude (+ state:, + reset)        the case
//!  AT, ATI,     →  drain; AT → OK? else leave   →  ATE1, AT+QSMTPCLR, ... each     →  judged
//!  AT+CPIN?        data mode (+++ / CRLF.CRLF)     answered as `accept` says
//! ```
//!
//! Everything here is recorded in a [`Transcript`] that goes before the case's own, marked as
//! setup. Nothing here judges the module: a device that cannot be brought to the known state
//! makes the case *not run*, with the reason, never failed.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use at_catalog::{LeaveDataMode, Profile as Module, Reset, SetupCommand};
use at_wire::Instant;
use at_wire::decoder::{Decoder, DecoderConfig, Kind, OwnedEvent};

use crate::target::{ReadOutcome, Target, TargetError};
use crate::transcript::{Direction, Transcript, secrets_in_command};

/// Silence that counts as "the device has said everything".
const QUIET: Duration = Duration::from_millis(300);
/// Longest a drain listens to a device that keeps talking.
const DRAIN_MAX: Duration = Duration::from_secs(10);
/// How long `AT` may take to answer while resynchronising.
const PROBE: Duration = Duration::from_secs(2);
/// Added to a command's documented maximum response time before giving up.
const GRACE: Duration = Duration::from_secs(2);
/// Silence on each side of `+++` beyond the profile's guard time (000 §1.3: at least 1 s).
const GUARD_MARGIN: Duration = Duration::from_millis(500);
/// How long a module that answers "busy" (a mail still sending) is waited for.
const BUSY_WAIT: Duration = Duration::from_secs(120);
/// The state name that asks for a full restart.
pub const POWER_ON: &str = "power-on";

/// What the health check learnt about the device.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Health {
    /// The `ATI` lines (manufacturer, model, revision).
    pub identity: Vec<String>,
}

/// Why a setup conversation with a device failed (one line for the report).
#[derive(Debug, thiserror::Error)]
pub enum PrepareError {
    /// The run was cancelled (Ctrl-C).
    #[error("interrupted")]
    Interrupted,
    /// Reading from or writing to the device failed.
    #[error("device gone: {0}")]
    DeviceGone(#[source] TargetError),
    /// The device did not fall silent within [`DRAIN_MAX`].
    #[error("the device kept talking for {} s", DRAIN_MAX.as_secs())]
    KeptTalking,
    /// A setup command opened data mode.
    #[error("{line} entered data mode ({text})")]
    DataMode {
        /// The command.
        line: String,
        /// The line that opened data mode.
        text: String,
    },
    /// A command got no final result code in time.
    #[error("no final result code to {line} within {:.1} s", within.as_secs_f64())]
    NoFinal {
        /// The command.
        line: String,
        /// How long it had.
        within: Duration,
    },
    /// An accepted answer lacked the line the profile expects.
    #[error("{send} answered {lines:?}, without {want}")]
    Missing {
        /// The command.
        send: String,
        /// The lines it answered.
        lines: Vec<String>,
        /// The line expected among them.
        want: String,
    },
    /// A command's final result code is not one the profile accepts.
    #[error("{send} answered {final_line} (accepted: {}; {evidence})", accept.join(", "))]
    Refused {
        /// The command.
        send: String,
        /// Its final result code.
        final_line: String,
        /// The accepted ones.
        accept: Vec<String>,
        /// The profile's evidence for the command.
        evidence: String,
    },
    /// No `OK` to `AT`, even after leaving data mode.
    #[error("the device does not answer AT with OK, even after leaving data mode")]
    Unresponsive,
    /// The module did not say its ready line after a restart.
    #[error("no {ready} within {} s of {send}", within.as_secs())]
    NotRestarted {
        /// The ready line (`RDY`).
        ready: String,
        /// How long it had.
        within: Duration,
        /// The restart command.
        send: String,
    },
    /// The scenario needs a restart the profile cannot do.
    #[error(
        "the scenario needs a freshly restarted module (state: power-on) and profile \
         {profile} defines no [setup.reset]"
    )]
    NoReset {
        /// The profile's name.
        profile: String,
    },
    /// The scenario needs a state the profile does not define.
    #[error("the scenario needs state {state}, which profile {profile} does not define")]
    NoState {
        /// The state's name.
        state: String,
        /// The profile's name.
        profile: String,
    },
}

/// Why a device could not be checked or prepared, with everything that crossed the wire.
#[derive(Debug)]
pub struct NotReady {
    /// One line for the report (boxed: keeps `Result<_, NotReady>` small).
    pub reason: Box<PrepareError>,
    /// The bytes exchanged while trying.
    pub transcript: Transcript,
}

/// The answer to one command: its final result code and the lines before it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Answer {
    /// The final result code line (`OK`, `+CME ERROR: 652`).
    pub final_line: String,
    /// Information, text and URC lines seen before it.
    pub lines: Vec<String>,
}

/// One exchange-by-exchange conversation with a device, recorded as setup.
pub struct Prep<'t> {
    target: &'t mut dyn Target,
    transcript: Transcript,
    decoder: Decoder,
    cancel: &'t AtomicBool,
}

impl<'t> Prep<'t> {
    /// Starts recording setup on `target`.
    pub fn new(target: &'t mut dyn Target, cancel: &'t AtomicBool) -> Self {
        Prep {
            target,
            transcript: Transcript::new(),
            decoder: Decoder::new(DecoderConfig::default()),
            cancel,
        }
    }

    /// The recorded setup.
    pub fn into_transcript(self) -> Transcript {
        self.transcript
    }

    fn note(&mut self, text: impl Into<String>) {
        let now = self.target.now();
        self.transcript.note(now, format!("setup: {}", text.into()));
    }

    fn check_cancel(&self) -> Result<(), PrepareError> {
        if self.cancel.load(Ordering::Relaxed) {
            Err(PrepareError::Interrupted)
        } else {
            Ok(())
        }
    }

    /// Reads once until `deadline` (at most 100 ms on real time, for Ctrl-C); decoded events
    /// are appended to `events`. `Ok(false)` when nothing came.
    fn read(
        &mut self,
        deadline: Instant,
        events: &mut Vec<OwnedEvent>,
    ) -> Result<bool, PrepareError> {
        self.check_cancel()?;
        let until = if self.target.is_virtual() {
            deadline
        } else {
            deadline.min(self.target.now() + Duration::from_millis(100))
        };
        match self.target.read(until) {
            Ok(ReadOutcome::Data(bytes)) => {
                let now = self.target.now();
                self.transcript.record(now, Direction::Rx, &bytes);
                let mut rest = bytes.as_slice();
                while !rest.is_empty() {
                    let n = self.decoder.push(rest);
                    rest = rest.get(n..).unwrap_or_default();
                    while let Some(e) = self.decoder.poll_event() {
                        events.push(e.to_owned());
                    }
                    if n == 0 {
                        break;
                    }
                }
                Ok(true)
            }
            Ok(ReadOutcome::Timeout) => Ok(false),
            Err(e) => Err(PrepareError::DeviceGone(e)),
        }
    }

    fn write(&mut self, bytes: &[u8]) -> Result<(), PrepareError> {
        for s in secrets_in_command(bytes) {
            self.transcript.add_secret(&s);
        }
        let now = self.target.now();
        self.transcript.record(now, Direction::Tx, bytes);
        self.target.write(bytes).map_err(PrepareError::DeviceGone)
    }

    /// Reads until the device has been silent for `quiet` (at most [`DRAIN_MAX`]); returns the
    /// lines it said.
    pub fn drain(&mut self, quiet: Duration) -> Result<Vec<OwnedEvent>, PrepareError> {
        let start = self.target.now();
        let mut events = Vec::new();
        let mut last = start;
        loop {
            let now = self.target.now();
            if now - start >= DRAIN_MAX {
                return Err(PrepareError::KeptTalking);
            }
            if self.read(last + quiet, &mut events)? {
                last = self.target.now();
            } else if self.target.now() >= last + quiet {
                self.decoder.flush();
                while let Some(e) = self.decoder.poll_event() {
                    events.push(e.to_owned());
                }
                return Ok(events);
            }
        }
    }

    /// Sends `line` + CR and waits up to `within` for its final result code.
    pub fn command(&mut self, line: &str, within: Duration) -> Result<Answer, PrepareError> {
        self.decoder.expect_line(line.as_bytes());
        let mut bytes = line.as_bytes().to_vec();
        bytes.push(b'\r');
        self.write(&bytes)?;
        let deadline = self.target.now() + within;
        let mut events: Vec<OwnedEvent> = Vec::new();
        let mut answer = Answer::default();
        loop {
            for e in events.drain(..) {
                let text = String::from_utf8_lossy(&e.line).into_owned();
                match e.kind {
                    Kind::Final(_) => {
                        answer.final_line = text;
                        return Ok(answer);
                    }
                    Kind::Connect | Kind::WaitingForData | Kind::Prompt => {
                        return Err(PrepareError::DataMode {
                            line: line.into(),
                            text,
                        });
                    }
                    Kind::Info | Kind::Text | Kind::Urc => answer.lines.push(text),
                    Kind::Echo | Kind::Blank | Kind::Overflow { .. } => {}
                }
            }
            if self.target.now() >= deadline {
                self.decoder.pending_done();
                return Err(PrepareError::NoFinal {
                    line: line.into(),
                    within,
                });
            }
            self.read(deadline, &mut events)?;
        }
    }

    /// Runs one setup command: its answer must be one of `accept` (and hold `expect`); a busy
    /// answer (a mail still sending) is retried for a while.
    pub fn run(&mut self, cmd: &SetupCommand) -> Result<Answer, PrepareError> {
        let within = cmd.within() + GRACE;
        let start = self.target.now();
        loop {
            let answer = self.command(&cmd.send, within)?;
            if cmd.accept.contains(&answer.final_line) {
                if let Some(want) = &cmd.expect
                    && !answer.lines.iter().any(|l| l == want)
                {
                    return Err(PrepareError::Missing {
                        send: cmd.send.clone(),
                        lines: answer.lines,
                        want: want.clone(),
                    });
                }
                return Ok(answer);
            }
            let busy = cmd.busy.as_deref() == Some(answer.final_line.as_str());
            if busy && self.target.now() - start < BUSY_WAIT {
                self.note(format!("busy ({}), waiting", answer.final_line));
                self.target.sleep(Duration::from_secs(1));
                self.drain(QUIET)?;
                continue;
            }
            return Err(PrepareError::Refused {
                send: cmd.send.clone(),
                final_line: answer.final_line,
                accept: cmd.accept.clone(),
                evidence: cmd.source.clone(),
            });
        }
    }

    /// Whether the device answers `AT` with `OK` now.
    fn probe(&mut self) -> Result<bool, PrepareError> {
        match self.command("AT", PROBE) {
            Ok(a) => Ok(a.final_line == "OK"),
            Err(e @ (PrepareError::DeviceGone(_) | PrepareError::Interrupted)) => Err(e),
            Err(_) => Ok(false),
        }
    }

    /// Brings a device in an unknown state back to command mode: drains what it is still
    /// sending, checks `AT` → `OK`, and otherwise leaves data mode as the profile says (guarded
    /// `+++`, 000 §1.3; `<CR><LF>.<CR><LF>`, 002) and checks again.
    pub fn resync(&mut self, leave: LeaveDataMode, guard: Duration) -> Result<(), PrepareError> {
        self.note("resynchronise");
        self.drain(QUIET)?;
        if self.probe()? {
            return Ok(());
        }
        for attempt in 1..=2 {
            match leave {
                LeaveDataMode::Escape => {
                    let silence = guard + GUARD_MARGIN;
                    self.note(format!(
                        "leave data mode: {:.1} s silence, +++, {:.1} s silence (000 §1.3)",
                        silence.as_secs_f64(),
                        silence.as_secs_f64()
                    ));
                    self.target.sleep(silence);
                    self.write(b"+++")?;
                    self.target.sleep(silence);
                }
                LeaveDataMode::EndOfBody => {
                    self.note("leave data mode: <CR><LF>.<CR><LF> ends the body (002)");
                    self.write(b"\r\n.\r\n")?;
                }
            }
            self.drain(Duration::from_secs(1))?;
            if self.probe()? {
                return Ok(());
            }
            self.note(format!("no OK to AT after attempt {attempt}"));
        }
        Err(PrepareError::Unresponsive)
    }

    /// Restarts the module (`AT+CFUN=1,1`) and waits for its ready line (`RDY`).
    pub fn reset(&mut self, reset: &Reset) -> Result<(), PrepareError> {
        self.note(format!("restart: {} ({})", reset.send, reset.source));
        self.decoder.expect_line(reset.send.as_bytes());
        let mut bytes = reset.send.as_bytes().to_vec();
        bytes.push(b'\r');
        self.write(&bytes)?;
        let within = Duration::from_millis(reset.within_ms);
        let deadline = self.target.now() + within;
        let mut events = Vec::new();
        loop {
            if events
                .iter()
                .any(|e: &OwnedEvent| e.line == reset.ready.as_bytes())
            {
                break;
            }
            if self.target.now() >= deadline {
                return Err(PrepareError::NotRestarted {
                    ready: reset.ready.clone(),
                    within,
                    send: reset.send.clone(),
                });
            }
            self.read(deadline, &mut events)?;
        }
        self.decoder.pending_done();
        self.drain(QUIET)?;
        Ok(())
    }
}

/// Checks once before a run that the device answers and is ready (the profile's `health`
/// commands, after a resynchronisation in case an earlier run left it in data mode).
pub fn health_check(
    target: &mut dyn Target,
    module: &Module,
    cancel: &AtomicBool,
) -> Result<(Health, Transcript), NotReady> {
    let mut p = Prep::new(target, cancel);
    p.note(format!(
        "health check of a {} ({})",
        module.model, module.name
    ));
    let guard = Duration::from_millis(module.limits.guard_time_ms);
    let r = (|| {
        p.resync(module.setup.leave_data_mode, guard)?;
        let mut health = Health::default();
        for cmd in &module.setup.health {
            let a = p.run(cmd)?;
            if cmd.send.eq_ignore_ascii_case("ATI") {
                health.identity = a.lines;
            }
        }
        Ok::<_, PrepareError>(health)
    })();
    match r {
        Ok(h) => Ok((h, p.into_transcript())),
        Err(reason) => Err(NotReady {
            reason: Box::new(reason),
            transcript: p.into_transcript(),
        }),
    }
}

/// Brings the device to the known state before a case: resynchronise, restart if `states`
/// holds `power-on` (or the profile restarts before every case), the prelude, then each
/// other requested state.
pub fn prepare(
    target: &mut dyn Target,
    module: &Module,
    states: &[String],
    cancel: &AtomicBool,
) -> Result<Transcript, NotReady> {
    let mut p = Prep::new(target, cancel);
    let guard = Duration::from_millis(module.limits.guard_time_ms);
    let setup = &module.setup;
    let r = (|| {
        p.resync(setup.leave_data_mode, guard)?;
        let power_on = states.iter().any(|s| s == POWER_ON);
        match &setup.reset {
            Some(reset) if power_on || reset.every_case => p.reset(reset)?,
            None if power_on => {
                return Err(PrepareError::NoReset {
                    profile: module.name.clone(),
                });
            }
            _ => {}
        }
        for cmd in setup.prelude_for(module) {
            p.run(cmd)?;
        }
        for name in states.iter().filter(|s| *s != POWER_ON) {
            let Some(cmds) = setup.state_for(name, module) else {
                return Err(PrepareError::NoState {
                    state: name.clone(),
                    profile: module.name.clone(),
                });
            };
            p.note(format!("state {name}"));
            for cmd in cmds {
                p.run(cmd)?;
            }
        }
        // Whatever URCs the setup caused are not the case's.
        p.drain(QUIET)?;
        Ok::<_, PrepareError>(())
    })();
    match r {
        Ok(()) => {
            p.note("done; the case starts");
            Ok(p.into_transcript())
        }
        Err(reason) => {
            p.note(format!("failed: {reason}"));
            Err(NotReady {
                reason: Box::new(reason),
                transcript: p.into_transcript(),
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::target::{Script, ScriptedTarget};

    #[test]
    fn a_silent_device_is_not_ready_with_one_reason() {
        // Nothing answers: not even after leaving data mode both ways of the profile.
        let mut t = ScriptedTarget::new(vec![]);
        let cancel = AtomicBool::new(false);
        let ec25 = at_catalog::profile("ec25").expect("ec25");
        let e = health_check(&mut t, &ec25, &cancel).expect_err("silent");
        assert_eq!(
            e.reason.to_string(),
            "the device does not answer AT with OK, even after leaving data mode"
        );
        let text = e.transcript.render(false);
        assert_eq!(text.matches("> +++").count(), 2, "{text}");
        assert!(text.contains("setup: leave data mode"), "{text}");
    }

    #[test]
    fn health_reads_ati_and_needs_the_sim_ready() {
        let ok = |cmd: &str, answer: &str| {
            vec![
                Script::Expect(format!("{cmd}\r").into_bytes()),
                Script::Send(format!("{cmd}\r{answer}").into_bytes()),
            ]
        };
        let ec25 = at_catalog::profile("ec25").expect("ec25");
        let cancel = AtomicBool::new(false);
        let mut script = ok("AT", "\r\nOK\r\n");
        script.extend(ok("AT", "\r\nOK\r\n"));
        script.extend(ok(
            "ATI",
            "\r\nQuectel\r\nEC25\r\nRevision: X\r\n\r\nOK\r\n",
        ));
        script.extend(ok("AT+CPIN?", "\r\n+CPIN: READY\r\n\r\nOK\r\n"));
        let mut t = ScriptedTarget::new(script.clone());
        let (h, _) = health_check(&mut t, &ec25, &cancel).expect("healthy");
        assert_eq!(h.identity, ["Quectel", "EC25", "Revision: X"]);
        // A (U)SIM that is not ready (000 §4.1): the run does not start.
        let n = script.len();
        script[n - 1] = Script::Send(b"AT+CPIN?\r\r\n+CME ERROR: 10\r\n".to_vec());
        let mut t = ScriptedTarget::new(script);
        let e = health_check(&mut t, &ec25, &cancel).expect_err("no SIM");
        assert!(
            e.reason
                .to_string()
                .starts_with("AT+CPIN? answered +CME ERROR: 10"),
            "{}",
            e.reason
        );
    }

    #[test]
    fn a_state_the_profile_does_not_define_is_not_run() {
        let mut t = at_emulator::driver::Driver::new(
            at_emulator::EmulatorConfig::builtin("multitech").expect("multitech"),
            at_emulator::driver::Manual,
        );
        let mt = at_catalog::profile("multitech").expect("multitech");
        let cancel = AtomicBool::new(false);
        let e = prepare(&mut t, &mt, &["pdp-active".into()], &cancel).expect_err("undefined");
        assert_eq!(
            e.reason.to_string(),
            "the scenario needs state pdp-active, which profile multitech does not define"
        );
        let e = prepare(&mut t, &mt, &[POWER_ON.into()], &cancel).expect_err("no reset");
        assert!(
            e.reason.to_string().contains("defines no [setup.reset]"),
            "{}",
            e.reason
        );
        // The Quectel family defines both.
        let mut t = at_emulator::driver::Driver::new(
            at_emulator::EmulatorConfig::builtin("eg95").expect("eg95"),
            at_emulator::driver::Manual,
        );
        let eg95 = at_catalog::profile("eg95").expect("eg95");
        let setup = prepare(
            &mut t,
            &eg95,
            &[POWER_ON.into(), "pdp-active".into()],
            &cancel,
        )
        .expect("prepared");
        let text = setup.render(false);
        assert!(text.contains("< \\r\\nRDY\\r\\n"), "{text}");
        assert!(text.contains("> AT+QIACT=1\\r"), "{text}");
        assert!(text.ends_with("# setup: done; the case starts\n"), "{text}");
    }
}
