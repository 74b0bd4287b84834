//! The in-process emulator as a fuzz target: virtual time, no network; every delivery runs its
//! SMTP session in memory against the capture sink's protocol core ([`crate::mail::deliver`])
//! and reports its result after a fixed virtual delay (so "busy" and URC ordering are
//! observable).

use core::time::Duration;

use at_emulator::{Action, DeliveryId, Emulator, EmulatorConfig};
use at_mailer::{Failure, Outcome, Stage, Transcript};

use crate::mail::{self, Delivery};
use crate::model::ServerFault;
use at_runner::target::{ReadOutcome, Target, TargetError};
use at_wire::Instant;

/// Virtual time a delivery takes before its result reaches the module.
pub const DELIVERY_TIME: Duration = Duration::from_secs(1);

/// An emulated module on a virtual clock.
pub struct VirtualModule {
    emu: Emulator,
    now: Instant,
    out: Vec<u8>,
    pending: Vec<(Instant, DeliveryId, Result<(), Failure>)>,
    name: String,
    server: Option<ServerFault>,
    delivered: Vec<Delivery>,
    server_name: String,
}

/// A device under test as the fuzzer sees it: a [`Target`], and maybe control of the SMTP
/// server its mail goes to.
pub trait FuzzTarget: Target {
    /// Makes the server behave as `fault` for the next delivery; `false` if this target cannot.
    fn server_fault(&mut self, fault: ServerFault) -> bool {
        let _ = fault;
        false
    }

    /// The deliveries the module made so far, as the server saw them; empty where the fuzzer
    /// does not see the server.
    fn deliveries(&self) -> &[Delivery] {
        &[]
    }
}

/// A real device (serial port, TCP): no control over its server.
pub struct Live(pub Box<dyn Target>);

impl core::fmt::Debug for Live {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "Live({})", self.0.describe())
    }
}

impl Target for Live {
    fn write(&mut self, bytes: &[u8]) -> Result<(), TargetError> {
        self.0.write(bytes)
    }
    fn read(&mut self, deadline: Instant) -> Result<ReadOutcome, TargetError> {
        self.0.read(deadline)
    }
    fn now(&self) -> Instant {
        self.0.now()
    }
    fn sleep(&mut self, d: Duration) {
        self.0.sleep(d)
    }
    fn set_dtr(&mut self, level: bool) -> Result<(), TargetError> {
        self.0.set_dtr(level)
    }
    fn is_virtual(&self) -> bool {
        self.0.is_virtual()
    }
    fn describe(&self) -> String {
        self.0.describe()
    }
}

impl FuzzTarget for Live {}

impl FuzzTarget for VirtualModule {
    fn server_fault(&mut self, fault: ServerFault) -> bool {
        self.server = Some(fault);
        true
    }

    fn deliveries(&self) -> &[Delivery] {
        &self.delivered
    }
}

impl core::fmt::Debug for VirtualModule {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("VirtualModule")
            .field("name", &self.name)
            .field("now", &self.now)
            .finish()
    }
}

impl VirtualModule {
    /// A module powered on at virtual instant zero.
    pub fn new(config: EmulatorConfig) -> Self {
        let name = format!("emulator {}", config.profile.name);
        let mut m = VirtualModule {
            emu: Emulator::new(config, Instant::ZERO),
            now: Instant::ZERO,
            out: Vec::new(),
            pending: Vec::new(),
            name,
            server: None,
            delivered: Vec::new(),
            server_name: crate::cases::SERVER.to_owned(),
        };
        m.pump();
        m
    }

    /// The SMTP server name that resolves (the fuzzer's capture sink); others fail with 653.
    pub fn with_server_name(mut self, name: &str) -> Self {
        name.clone_into(&mut self.server_name);
        self
    }

    fn pump(&mut self) {
        loop {
            self.emu.poll_output(&mut self.out);
            match self.emu.poll_action() {
                // The fault applies to the next delivery only. A stalled server never
                // completes: the core's own deadline decides.
                Some(Action::Deliver { id, job, .. }) => match self.server.take() {
                    Some(ServerFault::Stall) => {}
                    // Without credentials the client never sends AUTH: nothing to reject.
                    Some(ServerFault::AuthFailed) if job.auth.is_some() => {
                        let r = Err(Failure::Protocol {
                            stage: Stage::Auth,
                            code: 535,
                            text: "5.7.8 Authentication credentials invalid".into(),
                        });
                        self.pending.push((self.now + DELIVERY_TIME, id, r));
                    }
                    Some(f @ (ServerFault::EhloRefused | ServerFault::AuthPlainOnly)) => {
                        let (r, d) = mail::deliver_to(&job, &self.server_name, |c| {
                            if f == ServerFault::EhloRefused {
                                c.faults = smtp_sink::FaultScript::new().reply(
                                    smtp_sink::Point::Ehlo,
                                    502,
                                    "5.5.1 Command not implemented",
                                );
                            } else {
                                c.mechanisms = vec![smtp_sink::Mechanism::Plain];
                            }
                        });
                        self.delivered.push(d);
                        self.pending.push((self.now + DELIVERY_TIME, id, r));
                    }
                    _ => {
                        let (r, d) = mail::deliver(&job, &self.server_name);
                        self.delivered.push(d);
                        self.pending.push((self.now + DELIVERY_TIME, id, r));
                    }
                },
                Some(Action::Cancel { id }) => self.pending.retain(|(_, p, _)| *p != id),
                None => break,
            }
        }
    }

    /// The next instant something happens: a core timer or a delivery completing.
    fn next_event(&self) -> Option<Instant> {
        let d = self.pending.iter().map(|(t, _, _)| *t).min();
        match (self.emu.poll_timeout(), d) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// Handles everything due at or before `t`, in order, and moves the clock to `t`.
    fn run_until(&mut self, t: Instant, stop_on_output: bool) {
        let mut last = None;
        for _ in 0..100_000 {
            if stop_on_output && !self.out.is_empty() {
                return;
            }
            match self.next_event() {
                // A core that does not move its timer on must not spin.
                Some(e) if e <= t && last != Some(e) => {
                    last = Some(e);
                    self.now = self.now.max(e);
                    let now = self.now;
                    let (due, later) = std::mem::take(&mut self.pending)
                        .into_iter()
                        .partition(|(at, _, _)| *at <= now);
                    self.pending = later;
                    for (_, id, result) in due {
                        let outcome = Outcome {
                            result,
                            transcript: Transcript::default(),
                        };
                        self.emu.handle_delivery(self.now, id, outcome);
                    }
                    if self.emu.poll_timeout().is_some_and(|x| x <= self.now) {
                        self.emu.handle_timeout(self.now);
                    }
                    self.pump();
                }
                _ => break,
            }
        }
        if !stop_on_output || self.out.is_empty() {
            self.now = self.now.max(t);
        }
    }
}

impl Target for VirtualModule {
    fn write(&mut self, bytes: &[u8]) -> Result<(), TargetError> {
        self.emu.handle_input(self.now, bytes);
        self.pump();
        Ok(())
    }

    fn read(&mut self, deadline: Instant) -> Result<ReadOutcome, TargetError> {
        self.pump();
        self.run_until(deadline, true);
        if self.out.is_empty() {
            Ok(ReadOutcome::Timeout)
        } else {
            Ok(ReadOutcome::Data(std::mem::take(&mut self.out)))
        }
    }

    fn now(&self) -> Instant {
        self.now
    }

    fn sleep(&mut self, d: Duration) {
        let until = self.now + d;
        self.run_until(until, false);
    }

    fn set_dtr(&mut self, level: bool) -> Result<(), TargetError> {
        self.emu.set_dtr(self.now, level);
        self.pump();
        Ok(())
    }

    fn is_virtual(&self) -> bool {
        true
    }

    fn describe(&self) -> String {
        self.name.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_and_delivers_on_virtual_time() {
        let mut m = VirtualModule::new(EmulatorConfig::builtin("ec25").unwrap());
        m.write(b"AT\r").unwrap();
        let dl = m.now() + Duration::from_millis(300);
        assert_eq!(
            m.read(dl).unwrap(),
            ReadOutcome::Data(b"AT\r\r\nOK\r\n".to_vec())
        );
        // Nothing else comes: the clock jumps to the deadline.
        let dl = m.now() + Duration::from_secs(5);
        assert_eq!(m.read(dl).unwrap(), ReadOutcome::Timeout);
        assert_eq!(m.now(), dl);
    }
}
