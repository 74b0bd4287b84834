//! In-process front end under virtual time: the emulator as a value a test or the scenario
//! runner drives directly, with deliveries made for real but costing no virtual time.
//!
//! ```
//! use at_emulator::EmulatorConfig;
//! use at_emulator::harness::InProcess;
//! use at_mailer::ResolveMap;
//! use core::time::Duration;
//!
//! let mut m = InProcess::new(EmulatorConfig::builtin("ec25").unwrap(), ResolveMap::new());
//! m.write(b"AT\r");
//! assert_eq!(m.read_available(), b"AT\r\r\nOK\r\n");
//! // A 120 s body input window that nobody fills ends after 120 virtual seconds (000 §2.2.4).
//! m.write(b"ATE0\r");
//! m.read_available();
//! m.write(b"AT+QSMTPBODY=0,100,120\r");
//! assert_eq!(m.read_available(), b"\r\nCONNECT\r\n");
//! assert!(m.advance_until_output(Duration::from_secs(600)));
//! assert_eq!(m.now().since_origin(), Duration::from_secs(120));
//! assert_eq!(m.read_available(), b"\r\n+QSMTPBODY: 0\r\n\r\nOK\r\n");
//! ```

use core::time::Duration;

use at_mailer::{DeliverOptions, Failure, MailJob, Outcome, ResolveMap, StallMode, Transcript};
use at_wire::Instant;

use crate::{Action, DeliveryId, Emulator, EmulatorConfig, Fault};

/// Longest real time one delivery may take before the harness treats it as stalled (the core's
/// `AT+QSMTPPUT` deadline then fires in virtual time).
pub const DEFAULT_DELIVERY_WALL_LIMIT: Duration = Duration::from_secs(60);

/// Most timer expiries handled in one [`InProcess::advance`] (guards against a core that keeps
/// asking for the same instant).
const MAX_TIMER_STEPS: usize = 1_000_000;

/// One delivery the emulator asked for and what came of it.
#[derive(Clone, Debug)]
pub struct DeliveryRecord {
    /// The core's id for it.
    pub id: DeliveryId,
    /// Virtual instant at which it was made.
    pub at: Instant,
    /// The job (password inside is redacted in `Debug`).
    pub job: MailJob,
    /// The outcome; `Failure::Stalled`/`Failure::Timeout` when it never completed, in which
    /// case the core was not told and its deadline decides.
    pub outcome: Outcome,
}

/// The emulator driven synchronously under virtual time.
///
/// Deterministic given its inputs: virtual time only moves in [`advance`](Self::advance) and
/// [`advance_until_output`](Self::advance_until_output); a delivery runs to completion (on a
/// private tokio runtime, on a helper thread so this type also works inside async code) at the
/// virtual instant it was requested and costs no virtual time. A stalled delivery is not
/// reported to the core, whose `<timeout>` then fires (`+QSMTPPUT: 658,0`).
#[derive(Debug)]
pub struct InProcess {
    emu: Emulator,
    now: Instant,
    resolve: ResolveMap,
    options: DeliverOptions,
    wall_limit: Duration,
    out: Vec<u8>,
    deliveries: Vec<DeliveryRecord>,
    rt: Option<tokio::runtime::Runtime>,
    latency: Duration,
    /// Finished deliveries not yet reported, by the virtual instant they are due.
    held: Vec<(Instant, DeliveryId, Outcome)>,
}

impl InProcess {
    /// A module powered on at virtual instant zero; `resolve` maps server names for deliveries.
    pub fn new(config: EmulatorConfig, resolve: ResolveMap) -> Self {
        let now = Instant::ZERO;
        let mut me = InProcess {
            emu: Emulator::new(config, now),
            now,
            resolve,
            options: DeliverOptions {
                stall: StallMode::Report,
                roots: None,
            },
            wall_limit: DEFAULT_DELIVERY_WALL_LIMIT,
            out: Vec::new(),
            deliveries: Vec::new(),
            rt: None,
            latency: Duration::ZERO,
            held: Vec::new(),
        };
        me.pump();
        me
    }

    /// Sets the real-time limit for one delivery (default [`DEFAULT_DELIVERY_WALL_LIMIT`]).
    pub fn with_delivery_wall_limit(mut self, limit: Duration) -> Self {
        self.wall_limit = limit;
        self
    }

    /// Makes each delivery take `latency` of virtual time: the outcome is made at once but
    /// reported to the core only when time reaches it (so commands sent meanwhile meet a
    /// module that is still sending). Default: zero.
    pub fn with_delivery_latency(mut self, latency: Duration) -> Self {
        self.latency = latency;
        self
    }

    /// Sets the delivery options (e.g. trust anchors); stalls are always reported, never
    /// waited for.
    pub fn with_deliver_options(mut self, options: DeliverOptions) -> Self {
        self.options = DeliverOptions {
            stall: StallMode::Report,
            ..options
        };
        self
    }

    // ---- getters ----

    /// The current virtual instant.
    pub fn now(&self) -> Instant {
        self.now
    }

    /// The core, for its getters.
    pub fn emulator(&self) -> &Emulator {
        &self.emu
    }

    /// Every delivery so far, in order.
    pub fn deliveries(&self) -> &[DeliveryRecord] {
        &self.deliveries
    }

    /// The SMTP transcript of every delivery so far, in order.
    pub fn smtp_transcripts(&self) -> Vec<&Transcript> {
        self.deliveries
            .iter()
            .map(|d| &d.outcome.transcript)
            .collect()
    }

    /// Whether module output is waiting to be read.
    pub fn has_output(&self) -> bool {
        !self.out.is_empty()
    }

    // ---- host side ----

    /// Host bytes arriving now (on the module's serial port).
    pub fn write(&mut self, bytes: &[u8]) {
        self.emu.handle_input(self.now, bytes);
        self.pump();
    }

    /// Everything the module has sent since the last call.
    pub fn read_available(&mut self) -> Vec<u8> {
        self.pump();
        std::mem::take(&mut self.out)
    }

    /// Raises (`true`) or drops the DTR line now.
    pub fn set_dtr(&mut self, asserted: bool) {
        self.emu.set_dtr(self.now, asserted);
        self.pump();
    }

    /// Injects a fault now (a scenario's `@fault` step).
    pub fn inject_fault(&mut self, fault: Fault) {
        self.emu.inject_fault(self.now, fault);
        self.pump();
    }

    /// Removes every injected fault.
    pub fn clear_faults(&mut self) {
        self.emu.clear_faults();
        self.pump();
    }

    // ---- time ----

    /// Moves virtual time forward by `d`, handling every timer that falls due on the way, in
    /// order, at its own instant.
    pub fn advance(&mut self, d: Duration) {
        let target = self.now + d;
        for _ in 0..MAX_TIMER_STEPS {
            match self.next_wake() {
                Some(t) if t <= target => {
                    if t > self.now {
                        self.now = t;
                    }
                    self.fire();
                    if self.next_wake().is_some_and(|next| next <= self.now) {
                        // Nothing moved the wake-up on; do not spin.
                        break;
                    }
                }
                _ => break,
            }
        }
        self.now = target;
        self.fire();
    }

    /// Moves virtual time from timer to timer until the module has output, at most `max`.
    /// Returns whether output is waiting. Time stops at the instant the output appeared.
    pub fn advance_until_output(&mut self, max: Duration) -> bool {
        let limit = self.now + max;
        self.pump();
        for _ in 0..MAX_TIMER_STEPS {
            if self.has_output() {
                return true;
            }
            match self.next_wake() {
                Some(t) if t <= limit => {
                    if t > self.now {
                        self.now = t;
                    }
                    self.fire();
                    if !self.has_output() && self.next_wake().is_some_and(|next| next <= self.now) {
                        break;
                    }
                }
                _ => break,
            }
        }
        if !self.has_output() {
            self.advance(limit.saturating_duration_since(self.now));
        }
        self.has_output()
    }

    // ---- internals ----

    /// The next instant something happens: a core timer or a held delivery result.
    fn next_wake(&self) -> Option<Instant> {
        let held = self.held.first().map(|h| h.0);
        match (self.emu.poll_timeout(), held) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// Reports the delivery results due by now, then runs the core's timers.
    fn fire(&mut self) {
        while self.held.first().is_some_and(|h| h.0 <= self.now) {
            let (_, id, outcome) = self.held.remove(0);
            self.emu.handle_delivery(self.now, id, outcome);
            self.pump();
        }
        self.emu.handle_timeout(self.now);
        self.pump();
    }

    /// Drains output and carries out actions until the core has nothing more to say.
    fn pump(&mut self) {
        loop {
            self.emu.poll_output(&mut self.out);
            let Some(action) = self.emu.poll_action() else {
                break;
            };
            match action {
                Action::Deliver { id, job, .. } => {
                    let outcome = self.run_delivery(job.clone());
                    let stalled = matches!(
                        outcome.result,
                        Err(Failure::Stalled { .. } | Failure::Timeout { .. })
                    );
                    self.deliveries.push(DeliveryRecord {
                        id,
                        at: self.now,
                        job,
                        outcome: outcome.clone(),
                    });
                    if stalled {
                        // Never reported: the core's `<timeout>` decides.
                    } else if self.latency.is_zero() {
                        self.emu.handle_delivery(self.now, id, outcome);
                    } else {
                        let due = self.now + self.latency;
                        let at = self.held.partition_point(|h| h.0 <= due);
                        self.held.insert(at, (due, id, outcome));
                    }
                }
                // A cancelled result must never be reported (the core would ignore it anyway).
                Action::Cancel { id } => self.held.retain(|h| h.1 != id),
            }
        }
    }

    fn run_delivery(&mut self, job: MailJob) -> Outcome {
        let rt = match &self.rt {
            Some(rt) => rt,
            None => {
                match tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                {
                    Ok(rt) => self.rt.insert(rt),
                    Err(e) => {
                        return Outcome {
                            result: Err(Failure::Io {
                                stage: at_mailer::Stage::Connect,
                                message: format!("cannot start delivery runtime: {e}"),
                            }),
                            transcript: Transcript::default(),
                        };
                    }
                }
            }
        };
        let resolve = &self.resolve;
        let options = &self.options;
        let limit = self.wall_limit;
        // A scoped helper thread: `block_on` must not run inside the caller's own runtime.
        std::thread::scope(|s| {
            let handle = s.spawn(|| {
                rt.block_on(async {
                    match tokio::time::timeout(
                        limit,
                        at_mailer::deliver_with(job, resolve, options),
                    )
                    .await
                    {
                        Ok(outcome) => outcome,
                        Err(_) => Outcome {
                            result: Err(Failure::Timeout {
                                stage: at_mailer::Stage::Connect,
                            }),
                            transcript: Transcript::default(),
                        },
                    }
                })
            });
            handle.join().unwrap_or_else(|_| Outcome {
                result: Err(Failure::Io {
                    stage: at_mailer::Stage::Connect,
                    message: "delivery thread panicked".into(),
                }),
                transcript: Transcript::default(),
            })
        })
    }
}
