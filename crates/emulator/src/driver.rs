//! The one virtual-time driver of the [`Emulator`] core, shaped like quinn-proto's test `Pair`:
//! every in-process user (the scenario runner, the device fuzzer, the tests, the fuzzing entry
//! point) drives the core through [`Driver`], so the same scenario sees the same timing
//! everywhere. (The PTY/TCP front ends in [`crate::serve`] run the core on a real clock.)
//!
//! Three rules, each in one place:
//! - **Pump order** (`pump`): after every input (host bytes, DTR, a fault, a delivery result)
//!   the driver drains the core: its output, then its actions (a `Deliver` goes to the
//!   [`Deliverer`] at once, a `Cancel` drops that delivery's result), then the delivery results
//!   due by now (oldest first), until the core has nothing more to say. Inputs never move time
//!   and never fire the core's timers.
//! - **Next wake-up** ([`Driver::next_wake`]): only the time calls
//!   ([`advance`](Driver::advance), [`advance_until_output`](Driver::advance_until_output)) move
//!   time, from wake-up to wake-up: the earlier of the core's
//!   [`poll_timeout`](Emulator::poll_timeout) and the first delivery result due, never past
//!   the caller's limit. At each instant the due results go first, then the core's timers
//!   (`settle`). `advance_until_output` returns as soon as output is waiting, before handling
//!   anything more, so a timer due now fires only once the host has read what came before.
//! - **Stuck** ([`Error::Stuck`]): a time call that fires the core's timers more than
//!   [`MAX_TIMER_FIRES`] times (a timer that does not move on, or a runaway) is an error,
//!   sticky like rustls's: every later time call returns it. Never a hang.
//!
//! A delivery's result reaches the core [`Driver::latency`] after the core asked for it
//! ([`DEFAULT_DELIVERY_LATENCY`] unless [`Driver::with_delivery_latency`] says otherwise). A
//! delivery that never completes by itself (a stalled server, or a [`Manual`] one nobody
//! completes) is left to the core's own `<timeout>`.
//!
//! ```
//! use at_emulator::EmulatorConfig;
//! use at_emulator::driver::{Driver, Smtp};
//! use at_mailer::ResolveMap;
//! use core::time::Duration;
//!
//! let mut m = Driver::new(EmulatorConfig::builtin("ec25").unwrap(), Smtp::new(ResolveMap::new()));
//! m.write(b"AT\r");
//! assert_eq!(m.read_available(), b"AT\r\r\nOK\r\n");
//! // A 120 s body input window that nobody fills ends after 120 virtual seconds (000 §2.2.4).
//! m.write(b"ATE0\r");
//! m.read_available();
//! m.write(b"AT+QSMTPBODY=0,100,120\r");
//! assert_eq!(m.read_available(), b"\r\nCONNECT\r\n");
//! assert!(m.advance_until_output(Duration::from_secs(600)).unwrap());
//! assert_eq!(m.now().since_origin(), Duration::from_secs(120));
//! assert_eq!(m.read_available(), b"\r\n+QSMTPBODY: 0\r\n\r\nOK\r\n");
//! ```

use core::time::Duration;

use at_mailer::{DeliverOptions, Failure, MailJob, Outcome, ResolveMap, StallMode, Transcript};
use at_wire::Instant;

use crate::{Action, DeliveryId, Emulator, EmulatorConfig, Fault};

/// Virtual time between the core asking for a delivery and its result reaching the core, for
/// every driver that does not set its own: zero, so a transcript depends on the scenario alone
/// (a send that must still be running uses a stall, or [`Driver::with_delivery_latency`]).
pub const DEFAULT_DELIVERY_LATENCY: Duration = Duration::ZERO;

/// Most core timer firings in one driver call before the driver declares the core stuck.
pub const MAX_TIMER_FIRES: usize = 100_000;

/// Longest real time one [`Smtp`] delivery may take before it counts as stalled (the core's
/// `AT+QSMTPPUT` deadline then fires in virtual time).
pub const DEFAULT_DELIVERY_WALL_LIMIT: Duration = Duration::from_secs(60);

/// Where the emulated module's mail goes: carries out one delivery the core asked for.
pub trait Deliverer {
    /// Makes the delivery of `job` (in wall time; it costs no virtual time) and returns its
    /// outcome, or `None` when it does not complete by itself (the caller completes it with
    /// [`Driver::complete`], or the core's `<timeout>` decides). An outcome that failed with
    /// [`Failure::Stalled`] or [`Failure::Timeout`] never reached an answer: it is recorded,
    /// and the core's `<timeout>` decides too.
    fn deliver(&mut self, job: &MailJob) -> Option<Outcome>;

    /// Opens the SMTP session of `job` (connect, greeting, EHLO, STARTTLS, AUTH) and keeps it
    /// for [`send`](Self::send) (Multi-Tech `AT#PUTMAIL`): `Ok` once it is open, the failure's
    /// outcome otherwise, `None` when it does not complete by itself (then the caller, with
    /// [`Driver::complete_open`], or the core's deadline decides). By default nothing is
    /// opened ahead: `Ok`, and [`send`](Self::send) delivers the whole mail.
    fn open(&mut self, id: DeliveryId, job: &MailJob) -> Option<Result<(), Outcome>> {
        let _ = (id, job);
        Some(Ok(()))
    }

    /// Sends `job` (now with its body) on the session [`open`](Self::open) kept for `id`, or
    /// afresh when there is none; like [`deliver`](Self::deliver).
    fn send(&mut self, id: DeliveryId, job: &MailJob) -> Option<Outcome> {
        let _ = id;
        self.deliver(job)
    }

    /// Abandons whatever is kept for `id` (the core gave up on it).
    fn abort(&mut self, id: DeliveryId) {
        let _ = id;
    }
}

/// Deliveries the test (or fuzzer) completes itself with [`Driver::complete`].
#[derive(Clone, Copy, Debug, Default)]
pub struct Manual;

impl Deliverer for Manual {
    fn deliver(&mut self, _job: &MailJob) -> Option<Outcome> {
        None
    }

    fn open(&mut self, _id: DeliveryId, _job: &MailJob) -> Option<Result<(), Outcome>> {
        None
    }
}

/// Real SMTP: each delivery runs to completion with [`at_mailer::deliver_with`] on a private
/// current-thread runtime (on a scoped helper thread when called inside an async context),
/// bounded by a wall-clock limit.
#[derive(Debug)]
pub struct Smtp {
    resolve: ResolveMap,
    options: DeliverOptions,
    wall_limit: Duration,
    rt: Option<tokio::runtime::Runtime>,
    /// Sessions opened ahead of their body ([`Deliverer::open`]), by delivery.
    sessions: std::collections::HashMap<DeliveryId, at_mailer::OpenSession>,
}

impl Smtp {
    /// Delivers to the servers `resolve` maps (others go to the system resolver).
    pub fn new(resolve: ResolveMap) -> Self {
        Smtp {
            resolve,
            options: DeliverOptions {
                stall: StallMode::Report,
                roots: None,
            },
            wall_limit: DEFAULT_DELIVERY_WALL_LIMIT,
            rt: None,
            sessions: std::collections::HashMap::new(),
        }
    }

    /// Sets the delivery options (e.g. trust anchors); stalls are always reported, never
    /// waited for.
    pub fn with_options(mut self, options: DeliverOptions) -> Self {
        self.options = DeliverOptions {
            stall: StallMode::Report,
            ..options
        };
        self
    }

    /// Sets the real-time limit of one delivery (default [`DEFAULT_DELIVERY_WALL_LIMIT`]).
    pub fn with_wall_limit(mut self, limit: Duration) -> Self {
        self.wall_limit = limit;
        self
    }

    /// Runs `f` on the private runtime within the wall limit (on a scoped helper thread when
    /// called inside an async context, where `block_on` is not allowed).
    fn block<T: Send>(
        &mut self,
        f: impl std::future::Future<Output = T> + Send,
        on_timeout: impl FnOnce() -> T + Send,
    ) -> Result<T, Failure> {
        let rt = match &mut self.rt {
            Some(rt) => rt,
            None => match tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            {
                Ok(rt) => self.rt.insert(rt),
                Err(e) => {
                    return Err(Failure::Io {
                        stage: at_mailer::Stage::Connect,
                        message: format!("cannot start the delivery runtime: {e}"),
                    });
                }
            },
        };
        let limit = self.wall_limit;
        let run = || {
            rt.block_on(async {
                tokio::time::timeout(limit, f)
                    .await
                    .unwrap_or_else(|_| on_timeout())
            })
        };
        if tokio::runtime::Handle::try_current().is_err() {
            return Ok(run());
        }
        std::thread::scope(|s| s.spawn(run).join()).map_err(|_| Failure::Io {
            stage: at_mailer::Stage::Connect,
            message: "delivery thread panicked".into(),
        })
    }

    /// Delivers `job` to the servers `resolve` maps, blocking until it ends or the wall limit
    /// passes (then [`Failure::Timeout`]).
    pub fn send(&mut self, job: &MailJob, resolve: &ResolveMap) -> Outcome {
        let options = self.options.clone();
        let send = async move { at_mailer::deliver_with(job.clone(), resolve, &options).await };
        self.block(send, || failed(timed_out()))
            .unwrap_or_else(failed)
    }

    /// Opens the session of delivery `id` for `job` ([`Deliverer::open`]) with `resolve`,
    /// blocking until it is open, failed, or the wall limit passes.
    // The failure is an `Outcome`, unboxed, as `Deliverer::deliver` returns it.
    #[allow(clippy::result_large_err)]
    pub fn open_session(
        &mut self,
        id: DeliveryId,
        job: &MailJob,
        resolve: &ResolveMap,
    ) -> Result<(), Outcome> {
        let options = self.options.clone();
        let open = async move { at_mailer::open_with(job.clone(), resolve, &options).await };
        match self.block(open, || Err(failed(timed_out()))) {
            Ok(Ok(session)) => {
                self.sessions.insert(id, session);
                Ok(())
            }
            Ok(Err(outcome)) => Err(outcome),
            Err(f) => Err(failed(f)),
        }
    }

    /// Sends `job` on the session kept for `id`, or delivers it afresh with `resolve`.
    pub fn send_on(&mut self, id: DeliveryId, job: &MailJob, resolve: &ResolveMap) -> Outcome {
        let Some(session) = self.sessions.remove(&id) else {
            return self.send(job, resolve);
        };
        let finish = async move { session.finish(job).await };
        self.block(finish, || failed(timed_out()))
            .unwrap_or_else(failed)
    }

    /// Whether a session is kept open for `id`.
    pub fn has_session(&self, id: DeliveryId) -> bool {
        self.sessions.contains_key(&id)
    }

    /// Ends the session kept for `id`, if any, with `QUIT`.
    pub fn abort_session(&mut self, id: DeliveryId) {
        if let Some(session) = self.sessions.remove(&id) {
            let _ = self.block(
                async move {
                    session.abort().await;
                },
                || {},
            );
        }
    }
}

fn failed(result: Failure) -> Outcome {
    Outcome {
        result: Err(result),
        transcript: Transcript::default(),
    }
}

fn timed_out() -> Failure {
    Failure::Timeout {
        stage: at_mailer::Stage::Connect,
    }
}

impl Deliverer for Smtp {
    fn deliver(&mut self, job: &MailJob) -> Option<Outcome> {
        let resolve = std::mem::take(&mut self.resolve);
        let outcome = self.send(job, &resolve);
        self.resolve = resolve;
        Some(outcome)
    }

    fn open(&mut self, id: DeliveryId, job: &MailJob) -> Option<Result<(), Outcome>> {
        let resolve = std::mem::take(&mut self.resolve);
        let opened = self.open_session(id, job, &resolve);
        self.resolve = resolve;
        Some(opened)
    }

    fn send(&mut self, id: DeliveryId, job: &MailJob) -> Option<Outcome> {
        let resolve = std::mem::take(&mut self.resolve);
        let outcome = self.send_on(id, job, &resolve);
        self.resolve = resolve;
        Some(outcome)
    }

    fn abort(&mut self, id: DeliveryId) {
        self.abort_session(id);
    }
}

/// The core broke the driver's rules; sticky: every later time call returns it.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The core's timers fired more than [`MAX_TIMER_FIRES`] times in one call.
    #[error("emulator timer stuck at {:?} of virtual time", .at.since_origin())]
    Stuck {
        /// The virtual instant where it happened.
        at: Instant,
    },
    /// The core cancelled a delivery that was not in progress.
    #[error("emulator cancelled delivery {} which was not in progress", .id.0)]
    StrayCancel {
        /// The delivery.
        id: DeliveryId,
    },
    /// The core sent a mail on a session it never opened.
    #[error("emulator sent delivery {} on a session it never opened", .id.0)]
    StraySend {
        /// The delivery.
        id: DeliveryId,
    },
}

/// One delivery the core asked for, and what came of it.
#[derive(Clone, Debug)]
pub struct DeliveryRecord {
    /// The core's id for it.
    pub id: DeliveryId,
    /// Virtual instant at which the core asked for it.
    pub at: Instant,
    /// When the core stops waiting (the `AT+QSMTPPUT` `<timeout>`).
    pub deadline: Instant,
    /// The job (the password inside is redacted in `Debug`).
    pub job: MailJob,
    /// What the deliverer made of it (`None`: left to [`Driver::complete`]).
    pub outcome: Option<Outcome>,
    /// When the core was told the outcome.
    pub reported: Option<Instant>,
    /// When the core gave up on it.
    pub cancelled: Option<Instant>,
    /// For a session opened before its body ([`Action::Open`], Multi-Tech): how opening it
    /// went (`None` inside: left to [`Driver::complete_open`]) and when the core was told.
    pub opening: Option<Opening>,
}

/// How opening a session went (`None`: left to [`Driver::complete_open`]) and when the core
/// was told.
pub type Opening = (Option<Result<(), Outcome>>, Option<Instant>);

impl DeliveryRecord {
    /// Neither reported to the core nor cancelled by it.
    pub fn is_open(&self) -> bool {
        self.reported.is_none() && self.cancelled.is_none()
    }
}

/// Whether an outcome means the server never answered (the core's deadline decides).
fn never_answered(outcome: &Outcome) -> bool {
    matches!(
        outcome.result,
        Err(Failure::Stalled { .. } | Failure::Timeout { .. })
    )
}

/// The emulator core on a virtual clock, with its deliveries made by `D`.
///
/// Deterministic given its inputs: virtual time moves only in [`advance`](Self::advance) and
/// [`advance_until_output`](Self::advance_until_output). Methods come in the core's groups:
/// getters; host-side inputs (`write`, `set_dtr`, `inject_fault`, `clear_faults`, `complete`),
/// each followed by draining the core; output ([`read_available`](Self::read_available));
/// time. The module's rules are in the [module docs](self).
#[derive(Debug)]
pub struct Driver<D> {
    emu: Emulator,
    now: Instant,
    out: Vec<u8>,
    deliverer: D,
    latency: Duration,
    deliveries: Vec<DeliveryRecord>,
    /// Results waiting for their instant: (due, index in `deliveries`, whether it is the
    /// result of an opening), in due order.
    due: Vec<(Instant, usize, bool)>,
    /// Timer firings in the current time call, and their bound ([`MAX_TIMER_FIRES`]).
    fires: usize,
    fire_limit: usize,
    error: Option<Error>,
}

impl<D: Deliverer> Driver<D> {
    /// A module powered on at virtual instant zero, its mail delivered by `deliverer`.
    pub fn new(config: EmulatorConfig, deliverer: D) -> Self {
        let now = Instant::ZERO;
        let mut me = Driver {
            emu: Emulator::new(config, now),
            now,
            out: Vec::new(),
            deliverer,
            latency: DEFAULT_DELIVERY_LATENCY,
            deliveries: Vec::new(),
            due: Vec::new(),
            fires: 0,
            fire_limit: MAX_TIMER_FIRES,
            error: None,
        };
        me.pump();
        me
    }

    /// Makes each delivery result reach the core `latency` after the core asked for it, so
    /// commands sent meanwhile meet a module that is still sending (`+CME ERROR: 652`).
    pub fn with_delivery_latency(mut self, latency: Duration) -> Self {
        self.latency = latency;
        self
    }

    // ---- getters ----

    /// The current virtual instant.
    pub fn now(&self) -> Instant {
        self.now
    }

    /// The delivery latency in use.
    pub fn latency(&self) -> Duration {
        self.latency
    }

    /// The core, for its getters.
    pub fn emulator(&self) -> &Emulator {
        &self.emu
    }

    /// The deliverer.
    pub fn deliverer(&self) -> &D {
        &self.deliverer
    }

    /// The deliverer, to change how the next deliveries go.
    pub fn deliverer_mut(&mut self) -> &mut D {
        &mut self.deliverer
    }

    /// Every delivery the core asked for, in order.
    pub fn deliveries(&self) -> &[DeliveryRecord] {
        &self.deliveries
    }

    /// The SMTP transcript of every delivery that has an outcome, in order.
    pub fn smtp_transcripts(&self) -> Vec<&Transcript> {
        self.deliveries
            .iter()
            .filter_map(|d| d.outcome.as_ref().map(|o| &o.transcript))
            .collect()
    }

    /// Whether module output is waiting to be read.
    pub fn has_output(&self) -> bool {
        !self.out.is_empty()
    }

    /// The sticky error, if the core broke the driver's rules.
    pub fn error(&self) -> Option<&Error> {
        self.error.as_ref()
    }

    // ---- host side ----

    /// Host bytes arriving now (on the module's serial port).
    pub fn write(&mut self, bytes: &[u8]) {
        self.emu.handle_input(self.now, bytes);
        self.pump();
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

    /// Reports the result of delivery `id` now (for deliveries the deliverer left open). The
    /// core ignores results of deliveries it cancelled or never asked for.
    pub fn complete(&mut self, id: DeliveryId, outcome: Outcome) {
        if let Some(r) = self.deliveries.iter_mut().find(|r| r.id == id)
            && r.is_open()
        {
            r.reported = Some(self.now);
            r.outcome = Some(outcome.clone());
            self.due
                .retain(|&(_, i, _)| self.deliveries.get(i).is_some_and(|r| r.id != id));
        }
        self.emu.handle_delivery(self.now, id, outcome);
        self.pump();
    }

    /// Reports how opening the session of delivery `id` went, now (for openings the deliverer
    /// left open). The core ignores results it no longer waits for.
    pub fn complete_open(&mut self, id: DeliveryId, result: Result<(), Outcome>) {
        if let Some(r) = self.deliveries.iter_mut().find(|r| r.id == id)
            && let Some((res, reported)) = &mut r.opening
            && reported.is_none()
        {
            *res = Some(result.clone());
            *reported = Some(self.now);
        }
        self.emu.handle_opened(self.now, id, result);
        self.pump();
    }

    // ---- output ----

    /// Everything the module has sent since the last call.
    pub fn read_available(&mut self) -> Vec<u8> {
        std::mem::take(&mut self.out)
    }

    // ---- time ----

    /// Moves virtual time forward by `d`, handling everything that falls due on the way, in
    /// order, at its own instant. Output is kept for [`read_available`](Self::read_available).
    pub fn advance(&mut self, d: Duration) -> Result<(), Error> {
        let until = self.now + d;
        self.run_until(until, false)
    }

    /// Moves virtual time from wake-up to wake-up until the module has output, at most `max`.
    /// Returns whether output is waiting; time stops at the instant the output appeared.
    pub fn advance_until_output(&mut self, max: Duration) -> Result<bool, Error> {
        let until = self.now + max;
        self.run_until(until, true)?;
        Ok(self.has_output())
    }

    // ---- internals ----

    /// The next instant something happens: a core timer or a delivery result falling due.
    pub fn next_wake(&self) -> Option<Instant> {
        let result = self.due.first().map(|&(t, _, _)| t);
        match (self.emu.poll_timeout(), result) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    fn run_until(&mut self, until: Instant, stop_on_output: bool) -> Result<(), Error> {
        self.fires = 0;
        loop {
            if let Some(e) = &self.error {
                return Err(e.clone());
            }
            if stop_on_output && self.has_output() {
                return Ok(());
            }
            match self.next_wake() {
                Some(t) if t <= until => {
                    self.now = self.now.max(t);
                    self.settle();
                }
                _ => break,
            }
        }
        self.now = self.now.max(until);
        self.settle();
        self.error.clone().map_or(Ok(()), Err)
    }

    /// Drains the core's output, carries out its actions and reports the results due by now,
    /// until the core has nothing more to say.
    fn pump(&mut self) {
        loop {
            self.emu.poll_output(&mut self.out);
            match self.emu.poll_action() {
                None if self.report_due() => {}
                None => return,
                Some(Action::Deliver { id, job, deadline }) => {
                    let outcome = self.deliverer.deliver(&job);
                    if outcome.as_ref().is_some_and(|o| !never_answered(o)) {
                        self.schedule(self.deliveries.len(), false);
                    }
                    self.deliveries.push(DeliveryRecord {
                        id,
                        at: self.now,
                        deadline,
                        job,
                        outcome,
                        reported: None,
                        cancelled: None,
                        opening: None,
                    });
                }
                Some(Action::Open { id, job, deadline }) => {
                    let opened = self.deliverer.open(id, &job);
                    let reports = match &opened {
                        Some(Ok(())) => true,
                        Some(Err(o)) => !never_answered(o),
                        None => false,
                    };
                    if reports {
                        self.schedule(self.deliveries.len(), true);
                    }
                    self.deliveries.push(DeliveryRecord {
                        id,
                        at: self.now,
                        deadline,
                        job,
                        outcome: None,
                        reported: None,
                        cancelled: None,
                        opening: Some((opened, None)),
                    });
                }
                Some(Action::Send { id, job, deadline }) => {
                    let outcome = self.deliverer.send(id, &job);
                    let reports = outcome.as_ref().is_some_and(|o| !never_answered(o));
                    match self.deliveries.iter().position(|r| r.id == id) {
                        Some(i) => {
                            if let Some(r) = self.deliveries.get_mut(i) {
                                r.job = job;
                                r.deadline = deadline;
                                r.outcome = outcome;
                            }
                            if reports {
                                self.schedule(i, false);
                            }
                        }
                        None => {
                            self.error.get_or_insert(Error::StraySend { id });
                        }
                    }
                }
                Some(Action::Cancel { id }) => {
                    // A cancelled result is never reported (the core would ignore it anyway).
                    let deliveries = &self.deliveries;
                    self.due
                        .retain(|&(_, i, _)| deliveries.get(i).is_some_and(|r| r.id != id));
                    match self.deliveries.iter_mut().find(|r| r.id == id) {
                        Some(r) if r.is_open() => {
                            r.cancelled = Some(self.now);
                            self.deliverer.abort(id);
                        }
                        _ => {
                            self.error.get_or_insert(Error::StrayCancel { id });
                        }
                    }
                }
            }
        }
    }

    /// Schedules the result of `deliveries[i]` (of its opening when `opening`) `latency` from
    /// now.
    fn schedule(&mut self, i: usize, opening: bool) {
        let due = self.now + self.latency;
        let at = self.due.partition_point(|&(t, _, _)| t <= due);
        self.due.insert(at, (due, i, opening));
    }

    /// Reports the oldest result due by now, if any; whether there was one.
    fn report_due(&mut self) -> bool {
        let Some(&(t, i, opening)) = self.due.first() else {
            return false;
        };
        if t > self.now {
            return false;
        }
        self.due.remove(0);
        let now = self.now;
        let Some(r) = self.deliveries.get_mut(i).filter(|r| r.is_open()) else {
            return true;
        };
        let id = r.id;
        if opening {
            if let Some((Some(result), reported @ None)) = &mut r.opening {
                *reported = Some(now);
                let result = result.clone();
                self.emu.handle_opened(now, id, result);
            }
        } else if let Some(outcome) = r.outcome.clone() {
            r.reported = Some(now);
            self.emu.handle_delivery(now, id, outcome);
        }
        true
    }

    /// At the current instant of a time call: drains the core, then fires its timer if due,
    /// until nothing is due at this instant.
    fn settle(&mut self) {
        loop {
            self.pump();
            match self.emu.poll_timeout() {
                Some(t) if t <= self.now => {
                    self.fires += 1;
                    if self.fires > self.fire_limit {
                        self.error.get_or_insert(Error::Stuck { at: self.now });
                        return;
                    }
                    self.emu.handle_timeout(self.now);
                }
                _ => return,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Answers every delivery at once with `result`.
    struct Answer(Result<(), Failure>);

    impl Deliverer for Answer {
        fn deliver(&mut self, _job: &MailJob) -> Option<Outcome> {
            Some(Outcome {
                result: self.0.clone(),
                transcript: Transcript::default(),
            })
        }
    }

    fn ready<D: Deliverer>(deliverer: D, latency: Duration) -> Driver<D> {
        let config = EmulatorConfig::builtin("ec25").expect("ec25");
        let mut m = Driver::new(config, deliverer).with_delivery_latency(latency);
        for line in [
            "ATE0",
            "AT+QIACT=1",
            "AT+QSMTPCFG=\"smtpserver\",\"smtp.163.com\",25",
            "AT+QSMTPDST=1,1,\"a@b.c\"",
        ] {
            m.write(format!("{line}\r").as_bytes());
        }
        m.read_available();
        m
    }

    fn secs(s: u64) -> Instant {
        Instant::ZERO + Duration::from_secs(s)
    }

    #[test]
    fn the_default_latency_reports_within_the_write() {
        let mut m = ready(Answer(Ok(())), DEFAULT_DELIVERY_LATENCY);
        m.write(b"AT+QSMTPPUT=60\r");
        assert_eq!(m.read_available(), b"\r\nOK\r\n\r\n+QSMTPPUT: 0,0\r\n");
        assert_eq!(m.deliveries()[0].reported, Some(Instant::ZERO));
    }

    #[test]
    fn a_result_arrives_after_the_latency_and_the_module_is_busy_meanwhile() {
        let mut m = ready(Answer(Ok(())), Duration::from_secs(5));
        m.write(b"AT+QSMTPPUT=60\r");
        assert_eq!(m.read_available(), b"\r\nOK\r\n");
        assert_eq!(m.next_wake(), Some(secs(5)));
        m.write(b"AT+QSMTPSUB=0,\"x\"\r");
        assert_eq!(m.read_available(), b"\r\n+CME ERROR: 652\r\n");
        assert_eq!(m.advance_until_output(Duration::from_secs(60)), Ok(true));
        assert_eq!(m.now(), secs(5));
        assert_eq!(m.read_available(), b"\r\n+QSMTPPUT: 0,0\r\n");
        let d = &m.deliveries()[0];
        assert_eq!(
            (d.at, d.deadline, d.reported),
            (secs(0), secs(60), Some(secs(5)))
        );
    }

    #[test]
    fn a_result_due_after_the_deadline_is_never_reported() {
        let mut m = ready(Answer(Ok(())), Duration::from_secs(90));
        m.write(b"AT+QSMTPPUT=60\r");
        m.read_available();
        assert_eq!(m.advance(Duration::from_secs(200)), Ok(()));
        assert_eq!(m.read_available(), b"\r\n+QSMTPPUT: 658,0\r\n");
        let d = &m.deliveries()[0];
        assert_eq!((d.reported, d.cancelled), (None, Some(secs(60))));
        assert_eq!(m.next_wake(), None);
    }

    #[test]
    fn a_stalled_delivery_is_left_to_the_core_deadline() {
        let stalled = Err(Failure::Stalled {
            stage: at_mailer::Stage::Greeting,
        });
        let mut m = ready(Answer(stalled), DEFAULT_DELIVERY_LATENCY);
        m.write(b"AT+QSMTPPUT=60\r");
        assert_eq!(m.read_available(), b"\r\nOK\r\n");
        assert_eq!(m.advance_until_output(Duration::from_secs(600)), Ok(true));
        assert_eq!(m.now(), secs(60));
        assert_eq!(m.read_available(), b"\r\n+QSMTPPUT: 658,0\r\n");
        let d = &m.deliveries()[0];
        assert!(d.outcome.is_some() && d.reported.is_none() && d.cancelled == Some(secs(60)));
    }

    #[test]
    fn inputs_never_fire_timers_and_a_waiting_read_goes_first() {
        // A timer due at power-on fires only when time is asked to move, and only once the
        // output before it has been read.
        let config = EmulatorConfig::builtin("ec25")
            .expect("ec25")
            .with_fault(Fault::PdpDeactivate { at: Duration::ZERO });
        let mut m = Driver::new(config, Manual);
        m.write(b"ATE0\rAT+QIACT=1\r");
        assert_eq!(m.next_wake(), Some(Instant::ZERO));
        assert_eq!(m.advance_until_output(Duration::ZERO), Ok(true));
        assert_eq!(m.read_available(), b"ATE0\r\r\nOK\r\n\r\nOK\r\n");
        assert_eq!(m.advance_until_output(Duration::ZERO), Ok(true));
        assert_eq!(m.read_available(), b"\r\n+QIURC: \"pdpdeact\",1\r\n");
        assert_eq!(m.now(), Instant::ZERO);
    }

    #[test]
    fn too_many_timer_fires_are_a_sticky_error() {
        // The real core never spins; a lower bound shows what the rule does when one does.
        let mut m = ready(Manual, DEFAULT_DELIVERY_LATENCY);
        m.fire_limit = 1;
        m.write(b"AT+QSMTPPUT=60\r");
        m.write(b"AT+QFUPL=\"RAM:a\",10,5\r");
        m.read_available();
        // Two timers (the upload's 5 s, the send's 60 s) in one call: the second is one too many.
        let stuck = Err(Error::Stuck { at: secs(60) });
        assert_eq!(m.advance(Duration::from_secs(100)), stuck);
        assert_eq!(m.now(), secs(60));
        assert_eq!(
            m.advance_until_output(Duration::from_secs(1)),
            stuck.map(|()| false)
        );
        assert_eq!(m.now(), secs(60));
    }

    #[test]
    fn manual_results_of_cancelled_deliveries_are_ignored() {
        let mut m = ready(Manual, DEFAULT_DELIVERY_LATENCY);
        m.write(b"AT+QSMTPPUT=60\r");
        assert_eq!(m.read_available(), b"\r\nOK\r\n");
        let id = m.deliveries()[0].id;
        assert_eq!(m.advance(Duration::from_secs(60)), Ok(()));
        assert_eq!(m.read_available(), b"\r\n+QSMTPPUT: 658,0\r\n");
        m.complete(
            id,
            Outcome {
                result: Ok(()),
                transcript: Transcript::default(),
            },
        );
        assert!(!m.has_output() && m.error().is_none());
        assert_eq!(m.deliveries()[0].reported, None);
    }
}
