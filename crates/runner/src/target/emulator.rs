//! The in-process emulator (`at-emulator` core) on virtual time.

use std::time::Duration;

use at_emulator::{Action, Emulator, EmulatorConfig};
use at_mailer::{MailJob, Outcome};
use at_wire::Instant;

use super::{ReadOutcome, Target, TargetError};

/// Performs one delivery the emulated module asks for; `None` = it never completes (an
/// injected stall), so the module's own `AT+QSMTPPUT` deadline decides.
pub type Deliver = Box<dyn FnMut(&MailJob) -> Option<Outcome> + Send>;

/// The emulator core driven on a virtual clock: a read jumps the clock to the core's next
/// wake-up instead of sleeping, so 120 s and 300 s timeouts cost no wall time.
pub struct EmulatorTarget {
    emu: Emulator,
    now: Instant,
    out: Vec<u8>,
    deliver: Deliver,
    name: String,
    deliveries: usize,
}

impl std::fmt::Debug for EmulatorTarget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EmulatorTarget")
            .field("name", &self.name)
            .field("now", &self.now)
            .finish()
    }
}

impl EmulatorTarget {
    /// Powers on an emulated module at virtual time zero; `deliver` sends its mail.
    pub fn new(config: EmulatorConfig, deliver: Deliver) -> Self {
        let name = format!("emulator {}", config.profile.name);
        EmulatorTarget {
            emu: Emulator::new(config, Instant::ZERO),
            now: Instant::ZERO,
            out: Vec::new(),
            deliver,
            name,
            deliveries: 0,
        }
    }

    /// Number of deliveries the module asked for.
    pub fn deliveries(&self) -> usize {
        self.deliveries
    }

    /// Runs the core's pending actions and collects its output.
    fn pump(&mut self) {
        while let Some(action) = self.emu.poll_action() {
            if let Action::Deliver { id, job, .. } = action {
                self.deliveries += 1;
                if let Some(outcome) = (self.deliver)(&job) {
                    self.emu.handle_delivery(self.now, id, outcome);
                }
            }
        }
        self.emu.poll_output(&mut self.out);
    }
}

impl Target for EmulatorTarget {
    fn write(&mut self, bytes: &[u8]) -> Result<(), TargetError> {
        self.emu.handle_input(self.now, bytes);
        self.pump();
        Ok(())
    }

    fn read(&mut self, deadline: Instant) -> Result<ReadOutcome, TargetError> {
        let mut spins = 0u32;
        let mut last = None;
        loop {
            self.pump();
            if !self.out.is_empty() {
                return Ok(ReadOutcome::Data(std::mem::take(&mut self.out)));
            }
            match self.emu.poll_timeout() {
                Some(t) if t <= deadline => {
                    // A timer that fires without moving on would spin forever: report the
                    // module as gone instead of hanging the run.
                    if last == Some(t) {
                        spins += 1;
                        if spins > 1000 {
                            return Err(TargetError::Gone(format!(
                                "emulator timer stuck at {:?}",
                                t.since_origin()
                            )));
                        }
                    }
                    last = Some(t);
                    self.now = self.now.max(t);
                    self.emu.handle_timeout(self.now);
                }
                _ => {
                    self.now = self.now.max(deadline);
                    return Ok(ReadOutcome::Timeout);
                }
            }
        }
    }

    fn now(&self) -> Instant {
        self.now
    }

    fn sleep(&mut self, d: Duration) {
        // Timers that fall inside the sleep fire at their own instant; output is kept for the
        // next read.
        let until = self.now + d;
        let mut budget = 100_000u32; // a stuck timer must not hang a sleep either
        while let Some(t) = self.emu.poll_timeout() {
            budget = budget.saturating_sub(1);
            if t > until || budget == 0 {
                break;
            }
            self.now = self.now.max(t);
            self.emu.handle_timeout(self.now);
            self.pump();
        }
        self.now = self.now.max(until);
        self.pump();
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
