//! Quectel data mode (`AT+QSMTPBODY`, `AT+QFUPL`): module-side framer and host-side schedule.
//!
//! 000 §1.3 and §2.2.4: after `CONNECT` every byte is payload until one of
//! - the payload reaches the declared length (`<body_length>`),
//! - `<input_time>` elapses since `CONNECT`,
//! - the `+++` escape: no input for ≥ guard (1 s) before it, the three `+` within the guard
//!   and nothing else between them, then no input for ≥ guard after it,
//! - DTR changes (`AT&D1`).
//!
//! A `+++` that breaks any timing rule is payload. Boundaries are inclusive on the escape's side:
//! silence of exactly the guard counts, three `+` exactly one guard apart count, and data arriving
//! exactly one guard after the third `+` arrives after the escape completed.

use alloc::vec::Vec;
use core::time::Duration;

use crate::time::Instant;

/// The default escape guard time (000 §1.3: 1 s before, within and after `+++`).
pub const DEFAULT_GUARD: Duration = Duration::from_secs(1);

/// Parameters of one data-mode session.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FramerConfig {
    /// Declared payload length (`<body_length>`, `<file_size>`); the payload never exceeds it.
    pub declared_len: usize,
    /// Maximum input time from `CONNECT` (`<input_time>`, `<timeout>`).
    pub input_time: Duration,
    /// Escape guard time (default 1 s).
    pub guard: Duration,
}

impl FramerConfig {
    /// A configuration with the default 1 s guard.
    pub const fn new(declared_len: usize, input_time: Duration) -> Self {
        FramerConfig {
            declared_len,
            input_time,
            guard: DEFAULT_GUARD,
        }
    }
}

/// Why data mode ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum EndReason {
    /// The payload reached the declared length.
    Length,
    /// A guarded `+++` escape.
    Escape,
    /// `<input_time>` elapsed.
    InputTime,
    /// DTR changed.
    Dtr,
}

/// The outcome of a finished data-mode session.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Framed {
    /// The payload, escape excluded, after the `streamed` bytes handed to
    /// [`QuectelFramer::push_with`]'s sink (all of it when only [`push`](QuectelFramer::push)
    /// was used).
    pub payload: Vec<u8>,
    /// Payload bytes handed to a [`push_with`](QuectelFramer::push_with) sink, before `payload`.
    pub streamed: usize,
    /// How the session ended.
    pub end: EndReason,
    /// When it ended (for an escape: one guard after the third `+`).
    pub at: Instant,
    /// Bytes already consumed as a tentative escape that did not fit the declared length once
    /// they turned out to be payload (at most 2): they belong to command mode.
    pub leftover: Vec<u8>,
}

impl Framed {
    /// Payload length, streamed bytes included: what `+QSMTPBODY: <input_length>` reports.
    pub fn len(&self) -> usize {
        self.streamed + self.payload.len()
    }
    /// Whether no payload was received.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Where confirmed payload goes: a `push_with` sink, or (`None`) the framer's own buffer.
type Sink<'a> = Option<&'a mut dyn FnMut(&[u8])>;

/// Module-side Quectel data-mode framer (sans-IO: bytes arrive with their instant).
///
/// - getters: [`is_finished`](Self::is_finished), [`payload`](Self::payload), [`result`](Self::result)
/// - `handle_*`: [`push`](Self::push) (bytes at `now`), [`dtr`](Self::dtr), [`handle_timeout`](Self::handle_timeout)
/// - `poll_*`: [`poll_timeout`](Self::poll_timeout)
///
/// Call `handle_timeout(now)` when the instant from `poll_timeout` is reached; `push` and `dtr`
/// process expired deadlines first themselves. Held `+` bytes (a possible escape) are not in
/// [`payload`](Self::payload) until data within the guard turns them into payload.
///
/// ```
/// use at_wire::{Instant, quectel::{EndReason, FramerConfig, QuectelFramer}};
/// use core::time::Duration;
/// let t0 = Instant::ZERO; // CONNECT
/// let mut f = QuectelFramer::new(FramerConfig::new(100, Duration::from_secs(120)), t0);
/// assert_eq!(f.push(Instant::from_millis(10), &[b'x'; 90]), 90); // 000 §2.2.4 "<Input 90 bytes data>"
/// assert_eq!(f.push(Instant::from_millis(1500), b"+++"), 3);    // 1.49 s of silence before
/// assert_eq!(f.poll_timeout(), Some(Instant::from_millis(2500)));
/// f.handle_timeout(Instant::from_millis(2500));                   // 1 s of silence after
/// let done = f.result().unwrap();
/// assert_eq!((done.len(), done.end), (90, EndReason::Escape));   // "+QSMTPBODY: 90"
/// ```
#[derive(Clone, Debug)]
pub struct QuectelFramer {
    cfg: FramerConfig,
    deadline: Instant,
    last_rx: Instant,
    payload: Vec<u8>,
    /// Payload bytes handed to a `push_with` sink instead of `payload`.
    streamed: usize,
    /// Number of held `+` (0..=3) and the instants of the first and last.
    plus: u8,
    plus_first: Instant,
    plus_last: Instant,
    result: Option<Framed>,
}

impl QuectelFramer {
    /// Starts a session at `start` (when `CONNECT` was sent).
    pub fn new(cfg: FramerConfig, start: Instant) -> Self {
        let mut f = QuectelFramer {
            cfg,
            deadline: start + cfg.input_time,
            last_rx: start,
            payload: Vec::new(),
            streamed: 0,
            plus: 0,
            plus_first: start,
            plus_last: start,
            result: None,
        };
        if cfg.declared_len == 0 {
            f.finish(EndReason::Length, start, Vec::new());
        }
        f
    }

    /// The configuration.
    pub fn config(&self) -> &FramerConfig {
        &self.cfg
    }

    /// Whether data mode has ended.
    pub fn is_finished(&self) -> bool {
        self.result.is_some()
    }

    /// Confirmed payload so far (held `+` and bytes streamed by
    /// [`push_with`](Self::push_with) excluded).
    pub fn payload(&self) -> &[u8] {
        match &self.result {
            Some(r) => &r.payload,
            None => &self.payload,
        }
    }

    /// Number of `+` currently held as a possible escape.
    pub fn held_plus(&self) -> usize {
        usize::from(self.plus)
    }

    /// The outcome, once finished.
    pub fn result(&self) -> Option<&Framed> {
        self.result.as_ref()
    }

    /// Takes the outcome, once finished.
    pub fn take_result(&mut self) -> Option<Framed> {
        self.result.take()
    }

    /// The next instant at which [`handle_timeout`](Self::handle_timeout) must be called.
    pub fn poll_timeout(&self) -> Option<Instant> {
        if self.result.is_some() {
            return None;
        }
        let escape = (self.plus == 3).then(|| self.plus_last + self.cfg.guard);
        Some(match escape {
            Some(e) if e <= self.deadline => e,
            _ => self.deadline,
        })
    }

    /// Handles expired deadlines at `now`: a completed escape or the input time.
    pub fn handle_timeout(&mut self, now: Instant) {
        if self.result.is_some() {
            return;
        }
        let escape_at = self.plus_last + self.cfg.guard;
        if self.plus == 3 && escape_at <= self.deadline && now >= escape_at {
            self.plus = 0;
            self.finish(EndReason::Escape, escape_at, Vec::new());
        } else if now >= self.deadline {
            let at = self.deadline;
            if let Some(leftover) = self.flush_plus() {
                self.finish(EndReason::Length, at, leftover);
            } else {
                self.finish(EndReason::InputTime, at, Vec::new());
            }
        }
    }

    /// DTR changed at `now` (000 §1.3, after `AT&D1`): ends data mode; held `+` are payload.
    pub fn dtr(&mut self, now: Instant) {
        self.handle_timeout(now);
        if self.result.is_none() {
            match self.flush_plus() {
                Some(leftover) => self.finish(EndReason::Length, now, leftover),
                None => self.finish(EndReason::Dtr, now, Vec::new()),
            }
        }
    }

    /// Feeds bytes that arrived at `now`; returns how many were consumed. Bytes after the end of
    /// data mode are not consumed: they are command-mode bytes for the caller.
    pub fn push(&mut self, now: Instant, bytes: &[u8]) -> usize {
        self.push_inner(now, bytes, None)
    }

    /// Like [`push`](Self::push), but the payload this push confirms goes to `sink` as slices of
    /// `bytes` (held `+` that turn out to be data as `b"+"` runs) instead of into the framer:
    /// no copy, bounded memory for multi-MB uploads. The sink sees the payload in order; `+`
    /// flushed by [`handle_timeout`](Self::handle_timeout) or [`dtr`](Self::dtr) end up in
    /// [`Framed::payload`], after the [`Framed::streamed`] bytes.
    ///
    /// ```
    /// use at_wire::{Instant, quectel::{EndReason, FramerConfig, QuectelFramer}};
    /// let mut f = QuectelFramer::new(FramerConfig::new(5, core::time::Duration::from_secs(9)), Instant::ZERO);
    /// let mut got = Vec::new();
    /// assert_eq!(f.push_with(Instant::from_millis(1), b"hello AT", &mut |run| got.extend_from_slice(run)), 5);
    /// assert_eq!(got, b"hello");
    /// let done = f.result().unwrap();
    /// assert_eq!((done.len(), done.streamed, done.end), (5, 5, EndReason::Length));
    /// ```
    pub fn push_with(&mut self, now: Instant, bytes: &[u8], sink: &mut dyn FnMut(&[u8])) -> usize {
        self.push_inner(now, bytes, Some(sink))
    }

    fn received(&self) -> usize {
        self.streamed + self.payload.len()
    }

    /// Confirmed payload: to the sink, else into `payload`.
    fn accept(&mut self, run: &[u8], sink: &mut Sink<'_>) {
        match sink {
            Some(_) if run.is_empty() => {}
            Some(f) => {
                self.streamed += run.len();
                f(run);
            }
            None => self.payload.extend_from_slice(run),
        }
    }

    fn push_inner(&mut self, now: Instant, bytes: &[u8], mut sink: Sink<'_>) -> usize {
        self.handle_timeout(now);
        let mut i = 0;
        while self.result.is_none() {
            let Some(&b) = bytes.get(i) else { break };
            if self.plus > 0 {
                if b == b'+' && self.plus < 3 && now - self.plus_first <= self.cfg.guard {
                    self.plus += 1;
                    self.plus_last = now;
                    self.last_rx = now;
                    i += 1;
                    continue;
                }
                // Data too close: the held `+` are payload.
                if let Some(leftover) = self.flush_plus_into(&mut sink) {
                    self.finish(EndReason::Length, now, leftover);
                    break;
                }
            }
            if b == b'+' && now - self.last_rx >= self.cfg.guard {
                self.plus = 1;
                self.plus_first = now;
                self.plus_last = now;
                self.last_rx = now;
                i += 1;
                continue;
            }
            // Plain payload, as much as fits. With a non-zero guard nothing later in this push
            // can start an escape (it would follow this byte with no silence), so the whole
            // rest is payload; with a zero guard stop before the next `+`.
            let rest = bytes.get(i..).unwrap_or_default();
            let run = if self.cfg.guard > Duration::ZERO {
                rest.len()
            } else {
                1 + rest
                    .get(1..)
                    .and_then(|r| memchr::memchr(b'+', r))
                    .unwrap_or(rest.len().saturating_sub(1))
            };
            let room = self.cfg.declared_len.saturating_sub(self.received());
            let take = run.min(room);
            self.accept(rest.get(..take).unwrap_or_default(), &mut sink);
            self.last_rx = now;
            i += take;
            if self.received() >= self.cfg.declared_len {
                self.finish(EndReason::Length, now, Vec::new());
            }
        }
        i
    }

    /// Moves held `+` into the payload; returns the ones that did not fit, if the payload
    /// reached the declared length.
    fn flush_plus(&mut self) -> Option<Vec<u8>> {
        self.flush_plus_into(&mut None)
    }

    fn flush_plus_into(&mut self, sink: &mut Sink<'_>) -> Option<Vec<u8>> {
        let n = usize::from(core::mem::take(&mut self.plus));
        let room = self.cfg.declared_len.saturating_sub(self.received());
        let fit = n.min(room);
        self.accept(b"+++".get(..fit).unwrap_or_default(), sink);
        (self.received() >= self.cfg.declared_len).then(|| alloc::vec![b'+'; n - fit])
    }

    fn finish(&mut self, end: EndReason, at: Instant, leftover: Vec<u8>) {
        self.plus = 0;
        self.result = Some(Framed {
            payload: core::mem::take(&mut self.payload),
            streamed: self.streamed,
            end,
            at,
            leftover,
        });
    }
}

/// One step of a host-side schedule.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Step {
    /// Write these bytes (in one write).
    Send(Vec<u8>),
    /// Stay silent this long.
    Wait(Duration),
}

/// Host side: send `payload`, then end data mode with a correctly guarded `+++` (000 §1.3).
///
/// The schedule is `Send(payload)`, `Wait(guard)`, `Send("+++")`, `Wait(guard)`; an empty
/// payload omits the first step. Pass a guard above the module's (e.g. 1.2 s) on real hardware.
///
/// ```
/// use at_wire::quectel::{escape_schedule, Step};
/// use core::time::Duration;
/// let s = escape_schedule(b"hi", Duration::from_secs(1));
/// assert_eq!(s[2], Step::Send(b"+++".to_vec()));
/// ```
pub fn escape_schedule(payload: &[u8], guard: Duration) -> Vec<Step> {
    let mut steps = Vec::with_capacity(4);
    if !payload.is_empty() {
        steps.push(Step::Send(payload.to_vec()));
    }
    steps.push(Step::Wait(guard));
    steps.push(Step::Send(b"+++".to_vec()));
    steps.push(Step::Wait(guard));
    steps
}

/// Runs a schedule against a framer, starting at `start`; returns the instant after the last
/// step. Handy for tests and the in-process emulator target.
pub fn apply_schedule(framer: &mut QuectelFramer, start: Instant, steps: &[Step]) -> Instant {
    let mut now = start;
    for step in steps {
        match step {
            Step::Send(bytes) => {
                framer.push(now, bytes);
            }
            Step::Wait(d) => {
                let until = now + *d;
                while let Some(t) = framer.poll_timeout() {
                    if t > until {
                        break;
                    }
                    framer.handle_timeout(t);
                }
                now = until;
            }
        }
    }
    framer.handle_timeout(now);
    now
}
