//! The in-process emulator as a fuzz target: the emulator's one virtual-time driver
//! ([`Driver`]) with an [`InMemory`] deliverer: no network; every delivery runs its SMTP
//! session in memory against the capture sink's protocol core ([`crate::mail::deliver`]), and
//! its result reaches the module after the driver's delivery latency, as in the runner.

use core::time::Duration;

use at_emulator::EmulatorConfig;
use at_emulator::driver::{Deliverer, Driver};
use at_mailer::{Failure, MailJob, Outcome, Stage, Transcript};

use crate::mail::{self, Delivery};
use crate::model::ServerFault;
use at_runner::target::{ReadOutcome, Target, TargetError};
use at_wire::Instant;

/// An emulated module on a virtual clock, its mail delivered in memory.
pub type VirtualModule = Driver<InMemory>;

/// A module powered on at virtual instant zero, delivering to the fuzzer's server
/// ([`SERVER`](crate::cases::SERVER)).
pub fn module(config: EmulatorConfig) -> VirtualModule {
    Driver::new(config, InMemory::new(crate::cases::SERVER))
}

/// Delivers in memory to one server name (others fail with 653), with a fault for the next
/// delivery if the fuzzer set one; keeps what the server saw.
#[derive(Debug)]
pub struct InMemory {
    server_name: String,
    fault: Option<ServerFault>,
    delivered: Vec<Delivery>,
}

impl InMemory {
    /// Delivers to `server_name`, the SMTP server name that resolves (the fuzzer's sink).
    pub fn new(server_name: &str) -> Self {
        InMemory {
            server_name: server_name.to_owned(),
            fault: None,
            delivered: Vec::new(),
        }
    }
}

impl Deliverer for InMemory {
    fn deliver(&mut self, job: &MailJob) -> Option<Outcome> {
        // The fault applies to the next delivery only.
        let result = match self.fault.take() {
            // A stalled server never answers: the core's own deadline decides.
            Some(ServerFault::Stall) => Err(Failure::Stalled {
                stage: Stage::Greeting,
            }),
            // Without credentials the client never sends AUTH: nothing to reject.
            Some(ServerFault::AuthFailed) if job.auth.is_some() => Err(Failure::Protocol {
                stage: Stage::Auth,
                code: 535,
                text: "5.7.8 Authentication credentials invalid".into(),
            }),
            Some(f @ (ServerFault::EhloRefused | ServerFault::AuthPlainOnly)) => {
                let (r, d) = mail::deliver_to(job, &self.server_name, |c| {
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
                r
            }
            _ => {
                let (r, d) = mail::deliver(job, &self.server_name);
                self.delivered.push(d);
                r
            }
        };
        Some(Outcome {
            result,
            transcript: Transcript::default(),
        })
    }
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
        self.deliverer_mut().fault = Some(fault);
        true
    }

    fn deliveries(&self) -> &[Delivery] {
        &self.deliverer().delivered
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_and_delivers_on_virtual_time() {
        let mut m = module(EmulatorConfig::builtin("ec25").unwrap());
        m.write(b"AT\r");
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
