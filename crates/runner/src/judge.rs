//! Executes a [`Plan`] on a [`Target`] and judges every byte the device sends.
//!
//! The device's output is one buffer; a cursor walks it. The echo of each command line is
//! compared byte for byte (ERRATA W2); everything else is decoded with `at_wire::Decoder` into
//! events and judged there ([`crate::events`]): the expected lines first, then their framing.
//! Every deviation is graded by the evidence of what it breaks: documented → [`Grade::Fail`]
//! (judging stops), an ERRATA choice → [`Grade::NonStrict`], implementation-defined →
//! [`Grade::Informational`] (both recorded, judging goes on). Nothing is normalised: a
//! line ended by LF alone fails (000 §2.1.2) with the offset of the byte, a missing blank line
//! is non-strict (ERRATA W1) with the byte diff.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use at_wire::Instant;
use serde::Serialize;

use crate::escape::{escape, escaped_width};
use crate::events::{self, What};
pub use crate::plan::Grade;
use crate::plan::{Action, Captures, Frame, Item, Location, Plan, Segment, Step};
use crate::target::{ReadOutcome, Target, TargetError};
use crate::transcript::{Direction, Transcript, secrets_in_command};

/// Longest line a pattern hole will wait for before declaring a mismatch.
const MAX_LINE: usize = 4096;
/// Longest a real-time read blocks before Ctrl-C is checked.
const CANCEL_SLICE: Duration = Duration::from_millis(100);
/// How much of the actual output a diff shows.
const DIFF_CONTEXT: usize = 600;

/// Why a scenario failed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum FailureKind {
    /// The device sent different bytes (another line, or bytes that are no line expected).
    Mismatch,
    /// The same lines, framed differently (line terminators, blank lines).
    Framing {
        /// What differs.
        what: String,
    },
    /// A value the manuals leave open differs from the one the scenario recorded.
    Recorded {
        /// The pattern as written (`hex=1513`).
        pattern: String,
        /// The recorded value.
        recorded: String,
        /// The device's value.
        got: String,
    },
    /// The echo of the command line differs or is missing (ERRATA W2).
    Echo {
        /// What differs.
        what: String,
    },
    /// The expected bytes did not complete before the step's timeout.
    Timeout {
        /// The timeout that passed.
        #[serde(with = "secs")]
        after: Duration,
    },
    /// The expected bytes came, later than the documented maximum response time.
    TooSlow {
        /// The documented limit.
        #[serde(with = "secs")]
        limit: Duration,
        /// How long the device took.
        #[serde(with = "secs")]
        took: Duration,
    },
    /// Bytes nobody expected arrived after the last step.
    Trailing,
    /// The device disappeared (EOF, I/O error).
    Gone {
        /// The transport's message.
        reason: String,
    },
    /// The target could not perform an action (e.g. DTR over TCP).
    Unsupported {
        /// What.
        what: String,
    },
    /// A delivered-mail check failed.
    Mail {
        /// What differed.
        detail: String,
    },
}

mod secs {
    use std::time::Duration;
    pub fn serialize<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_f64(d.as_secs_f64())
    }
}

/// A failing verdict with everything needed to see why.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Failure {
    /// The scenario line of the failing step (or expected frame).
    pub location: Location,
    /// 0-based index of the failing step.
    pub step: usize,
    /// What the host sent in that step, escaped.
    pub sent: String,
    /// The failure.
    #[serde(flatten)]
    pub kind: FailureKind,
    /// How it grades.
    pub grade: Grade,
    /// The evidence of what it breaks (`000 §2.1.2`, `ERRATA W1`, `implementation-defined`).
    pub evidence: String,
    /// What the device should have sent in the failing step (echo included), escaped.
    pub expected: String,
    /// What it sent from the start of that step, escaped (secrets redacted).
    pub actual: String,
    /// Offset of the first differing byte from the start of the step's output.
    pub offset: Option<usize>,
    /// Column of that byte in `actual` (for a caret).
    #[serde(skip)]
    pub column: Option<usize>,
}

impl Failure {
    /// One-line summary: `file:line: mismatch at byte 4`.
    pub fn summary(&self) -> String {
        let what = match &self.kind {
            FailureKind::Mismatch => match self.offset {
                Some(o) => format!("unexpected bytes (first difference at byte {o})"),
                None => "unexpected bytes".to_string(),
            },
            FailureKind::Framing { what } => {
                format!("same events, framing differs: {what}")
            }
            FailureKind::Recorded {
                pattern,
                recorded,
                got,
            } => format!("{{{pattern}}} is {got}, the reference recorded {recorded}"),
            FailureKind::Echo { what } => what.clone(),
            FailureKind::Timeout { after } => {
                format!(
                    "expected bytes incomplete after {:.3} s",
                    after.as_secs_f64()
                )
            }
            FailureKind::TooSlow { limit, took } => format!(
                "answered in {:.3} s, documented maximum {:.3} s",
                took.as_secs_f64(),
                limit.as_secs_f64()
            ),
            FailureKind::Trailing => "unexpected bytes after the last step".to_string(),
            FailureKind::Gone { reason } => format!("device disappeared: {reason}"),
            FailureKind::Unsupported { what } => format!("target cannot {what}"),
            FailureKind::Mail { detail } => format!("mail check failed: {detail}"),
        };
        match (self.grade, self.evidence.is_empty()) {
            (_, true) => format!("{}: {what}", self.location),
            (Grade::Fail | Grade::Pass, false) => {
                format!("{}: {what} ({})", self.location, self.evidence)
            }
            (g, false) => format!(
                "{}: {what} ({}: {})",
                self.location,
                g.as_str(),
                self.evidence
            ),
        }
    }

    /// The multi-line diff shown under the summary.
    pub fn diff(&self) -> String {
        let mut s = String::new();
        if !self.sent.is_empty() {
            s.push_str(&format!("  sent:     {}\n", self.sent));
        }
        if self.expected.is_empty() && self.actual.is_empty() {
            return s;
        }
        s.push_str(&format!("  expected: {}\n", self.expected));
        s.push_str(&format!("  actual:   {}\n", self.actual));
        if let Some(col) = self.column {
            s.push_str(&format!("            {}^\n", " ".repeat(col)));
        }
        s
    }
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(f, "{}", self.summary())?;
        f.write_str(&self.diff())
    }
}

/// How a run ended.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "verdict", rename_all = "lowercase")]
pub enum Verdict {
    /// Every byte as expected.
    Pass,
    /// The first failure (the run stops there).
    Fail(Box<Failure>),
    /// Stopped by the user (Ctrl-C) before the end.
    Interrupted,
}

impl Verdict {
    /// Whether this is [`Verdict::Pass`].
    pub fn is_pass(&self) -> bool {
        matches!(self, Verdict::Pass)
    }
}

/// The result of executing one plan.
#[derive(Clone, Debug)]
pub struct Execution {
    /// The verdict.
    pub verdict: Verdict,
    /// Steps completed successfully.
    pub steps_passed: usize,
    /// Everything that crossed the wire (partial if the run stopped early).
    pub transcript: Transcript,
    /// Target-clock time the run took (virtual for the emulator).
    pub elapsed: Duration,
    /// Values captured by patterns.
    pub captures: Captures,
    /// Every deviation found, in order: informational and non-strict ones (judging went on),
    /// then the failure that ended the run, if any.
    pub findings: Vec<Failure>,
}

impl Execution {
    /// The worst grade among the findings ([`Grade::Pass`] when there are none).
    pub fn grade(&self) -> Grade {
        self.findings
            .iter()
            .map(|f| f.grade)
            .max()
            .unwrap_or(Grade::Pass)
    }
}

enum Match {
    Complete(usize),
    Incomplete,
    /// Certain mismatch at this absolute offset.
    Mismatch(usize),
}

fn match_frame(frame: &Frame, buf: &[u8], start: usize, caps: &mut Captures) -> Match {
    let mut pos = start;
    let mut local = Captures::new();
    for seg in &frame.segments {
        match seg {
            Segment::Literal(want) => {
                let have = buf.get(pos..).unwrap_or_default();
                let n = want.len().min(have.len());
                if let Some(i) = (0..n).find(|&i| want.get(i) != have.get(i)) {
                    return Match::Mismatch(pos + i);
                }
                if n < want.len() {
                    return Match::Incomplete;
                }
                pos += want.len();
            }
            Segment::Line(m) => {
                let have = buf.get(pos..).unwrap_or_default();
                match have.iter().position(|&b| b == b'\r' || b == b'\n') {
                    Some(end) => {
                        if !m.matches(have.get(..end).unwrap_or_default(), &mut local) {
                            return Match::Mismatch(pos);
                        }
                        pos += end;
                    }
                    None if have.len() > MAX_LINE => return Match::Mismatch(pos),
                    None => return Match::Incomplete,
                }
            }
            Segment::Group(m) => {
                let have = buf.get(pos..).unwrap_or_default();
                match m.match_prefix(have) {
                    at_scenario::MatchStatus::Complete { len, captures } => {
                        local.extend(captures.0);
                        pos += len;
                    }
                    at_scenario::MatchStatus::Partial => return Match::Incomplete,
                    at_scenario::MatchStatus::Mismatch { offset } => {
                        return Match::Mismatch(pos + offset);
                    }
                }
            }
        }
    }
    caps.extend(local);
    Match::Complete(pos)
}

/// A URC at `start` (after its blank line) accepted by one of `allowed`, decoded with
/// `at_wire::Decoder` like every other device line.
fn match_urc(allowed: &[Item], buf: &[u8], start: usize) -> Match {
    if allowed.is_empty() {
        return Match::Mismatch(start);
    }
    let rest = buf.get(start..).unwrap_or_default();
    for e in events::decode(rest, None, false) {
        match e.kind {
            at_wire::Kind::Blank if e.term == at_wire::decoder::Terminator::CRLF => {}
            at_wire::Kind::Urc
                if e.term == at_wire::decoder::Terminator::CRLF
                    && allowed
                        .iter()
                        .any(|a| a.line.matches(&e.line, &mut Captures::new())) =>
            {
                let end = e.offset + e.as_event().raw_len();
                return Match::Complete(start + usize::try_from(end).unwrap_or(0));
            }
            _ => return Match::Mismatch(start),
        }
    }
    if rest.first().is_some_and(|b| matches!(b, b'\r' | b'\n')) {
        Match::Incomplete
    } else {
        Match::Mismatch(start)
    }
}

/// Echo state after a command line: `ATE0`/`ATE1`/`ATE` in the basic part of the line, `ATZ`
/// and `AT&F` restore the default (on). ERRATA W2: takes effect for the next line.
pub fn echo_after(line: &[u8], echo: bool) -> bool {
    let upper = line.to_ascii_uppercase();
    let Some(body) = upper.strip_prefix(b"AT") else {
        return echo;
    };
    let mut state = echo;
    let mut i = 0;
    while let Some(&b) = body.get(i) {
        match b {
            // Extended commands take the rest of the line's syntax; stop at the first one.
            b'+' | b'#' | b'$' | b'^' | b'\r' | b'\n' => break,
            b'"' => break,
            b'E' => {
                match body.get(i + 1) {
                    Some(b'1') => state = true,
                    Some(b'0') => state = false,
                    Some(d) if d.is_ascii_digit() => {}
                    _ => state = false, // `ATE` = `ATE0` (V.250 default value 0).
                }
                i += 1;
            }
            b'Z' => state = true,
            b'&' if body.get(i + 1) == Some(&b'F') => {
                state = true;
                i += 1;
            }
            _ => {}
        }
        i += 1;
    }
    state
}

/// Runs `plan` on `target`, stopping at the first failure, at Ctrl-C (`cancel`), or when the
/// device disappears. Every read has a deadline, so this always returns.
pub fn execute(plan: &Plan, target: &mut dyn Target, cancel: &AtomicBool) -> Execution {
    let mut run = Session::new(target, &format!("{} [{}]", plan.name, plan.profile));
    run.echo = plan.echo;
    let mut verdict = Verdict::Pass;
    for (i, step) in plan.steps.iter().enumerate() {
        if cancel.load(Ordering::Relaxed) {
            verdict = Verdict::Interrupted;
            break;
        }
        if let Err(v) = run.step(i, step, &plan.interleave, cancel) {
            verdict = v;
            break;
        }
    }
    if verdict.is_pass()
        && let Err(v) = run.trailing(
            plan.quiet_after,
            &plan.interleave,
            plan.steps.last(),
            cancel,
        )
    {
        verdict = v;
    }
    run.finish(verdict)
}

/// One run on one target: the received buffer, the cursor, the echo state and the transcript.
///
/// [`execute`] drives it from a [`Plan`]; the scenario interpreter drives it step by step,
/// building each [`Step`] once earlier captures are known.
pub struct Session<'t> {
    target: &'t mut dyn Target,
    transcript: Transcript,
    rx: Vec<u8>,
    cursor: usize,
    /// Whether the device currently echoes command-mode bytes (ERRATA W2).
    pub echo: bool,
    captures: Captures,
    last_rx: Instant,
    /// End of the previous step (the reference of a `Wait` step's deadline).
    step_end: Instant,
    start: Instant,
    steps_passed: usize,
    /// No read waits past this instant (the scenario's overall timeout).
    pub hard_deadline: Option<Instant>,
    last_sent: Vec<u8>,
    /// Deviations that did not end the run (informational, non-strict), in order.
    findings: Vec<Failure>,
    /// The command line awaiting its final result code (tells information from URCs).
    pending: Option<Vec<u8>>,
    /// When the last command line was sent (the reference of a catalog limit).
    command_at: Instant,
    /// Whether the last byte judged was an LF (a response needs a `<CR><LF>` before it).
    after_lf: bool,
}

impl<'t> Session<'t> {
    /// Starts recording on `target`; echo is on (ERRATA W2 default).
    pub fn new(target: &'t mut dyn Target, title: &str) -> Self {
        let start = target.now();
        let mut transcript = Transcript::new();
        transcript.note(start, format!("{title} on {}", target.describe()));
        Session {
            target,
            transcript,
            rx: Vec::new(),
            cursor: 0,
            echo: true,
            captures: Captures::new(),
            last_rx: start,
            step_end: start,
            start,
            steps_passed: 0,
            hard_deadline: None,
            last_sent: Vec::new(),
            findings: Vec::new(),
            pending: None,
            command_at: start,
            after_lf: false,
        }
    }

    /// The target's clock.
    pub fn now(&self) -> Instant {
        self.target.now()
    }

    /// When the session started (target clock).
    pub fn started(&self) -> Instant {
        self.start
    }

    /// Whether the target runs on virtual time.
    pub fn is_virtual(&self) -> bool {
        self.target.is_virtual()
    }

    /// Values captured so far.
    pub fn captures(&self) -> &Captures {
        &self.captures
    }

    /// Marks `secret` for redaction everywhere.
    pub fn add_secret(&mut self, secret: &[u8]) {
        self.transcript.add_secret(secret);
    }

    /// Adds an annotation to the transcript.
    pub fn note(&mut self, text: impl Into<String>) {
        let now = self.target.now();
        self.transcript.note(now, text);
    }

    /// Records a deviation that does not end the run (informational or non-strict); a
    /// [`Grade::Fail`] one is returned as the verdict instead.
    pub fn record(&mut self, f: Failure) -> Result<(), Verdict> {
        if f.grade == Grade::Fail {
            return Err(Verdict::Fail(Box::new(f)));
        }
        let now = self.target.now();
        self.transcript
            .note(now, format!("{} {}", f.grade.as_str(), f.summary()));
        self.findings.push(f);
        Ok(())
    }

    /// Ends the session with `verdict`. A pass with a non-strict deviation on the way ends
    /// with that deviation (the first one); informational ones stay findings of a pass.
    pub fn finish(mut self, verdict: Verdict) -> Execution {
        let mut findings = std::mem::take(&mut self.findings);
        let verdict = match verdict {
            Verdict::Fail(f) => {
                findings.push((*f).clone());
                Verdict::Fail(f)
            }
            Verdict::Pass => match findings.iter().find(|f| f.grade == Grade::NonStrict) {
                Some(f) => Verdict::Fail(Box::new(f.clone())),
                None => Verdict::Pass,
            },
            v => v,
        };
        let end = self.target.now();
        match &verdict {
            Verdict::Pass => self.transcript.note(end, "pass"),
            Verdict::Fail(f) => self.transcript.note(
                end,
                format!("{} {}", f.grade.as_str().to_uppercase(), f.summary()),
            ),
            Verdict::Interrupted => self.transcript.note(end, "interrupted"),
        }
        Execution {
            verdict,
            steps_passed: self.steps_passed,
            transcript: self.transcript,
            elapsed: end - self.start,
            captures: self.captures,
            findings,
        }
    }

    /// A failure of step `step` that is not about received bytes (mail checks, setup).
    pub fn failure(&self, step: usize, location: Location, kind: FailureKind) -> Verdict {
        Verdict::Fail(Box::new(Failure {
            location,
            step,
            sent: String::new(),
            kind,
            grade: Grade::Fail,
            evidence: String::new(),
            expected: String::new(),
            actual: String::new(),
            offset: None,
            column: None,
        }))
    }

    fn fail(
        &self,
        step: usize,
        s: Option<&Step>,
        kind: FailureKind,
        expected: &str,
        from: usize,
        at: Option<usize>,
    ) -> Verdict {
        Verdict::Fail(Box::new(self.finding(
            step,
            s,
            kind,
            expected,
            from,
            at,
            Grade::Fail,
            "",
        )))
    }

    /// A graded deviation at absolute offset `at`, with the step's output from `from`.
    #[allow(clippy::too_many_arguments)]
    fn finding(
        &self,
        step: usize,
        s: Option<&Step>,
        kind: FailureKind,
        expected: &str,
        from: usize,
        at: Option<usize>,
        grade: Grade,
        evidence: &str,
    ) -> Failure {
        let actual_raw = self.rx.get(from..).unwrap_or_default();
        let shown = actual_raw
            .get(..DIFF_CONTEXT.min(actual_raw.len()))
            .unwrap_or_default();
        let offset = at.map(|a| a.saturating_sub(from));
        let column = offset.map(|o| {
            let prefix = shown.get(..o.min(shown.len())).unwrap_or_default();
            escaped_width(&self.transcript.redact(prefix))
        });
        let mut actual = escape(&self.transcript.redact(shown));
        if actual_raw.len() > shown.len() {
            actual.push_str(&format!(
                "… ({} more bytes)",
                actual_raw.len() - shown.len()
            ));
        }
        let sent = match s.map(|s| &s.action) {
            Some(Action::Command(b)) | Some(Action::Data(b)) => escape(&self.transcript.redact(b)),
            Some(Action::Sleep(d)) => format!("(wait {:.3} s)", d.as_secs_f64()),
            Some(Action::Dtr(l)) => format!("(DTR {})", if *l { "on" } else { "off" }),
            Some(Action::Fault(f)) => format!("(fault {f})"),
            // The group answers the last thing sent.
            Some(Action::Wait) | None => escape(&self.transcript.redact(&self.last_sent)),
        };
        let location = s.map(|s| s.location.clone()).unwrap_or_default();
        Failure {
            location,
            step,
            sent,
            kind,
            grade,
            evidence: evidence.to_owned(),
            expected: self.transcript.redact_text(expected),
            actual,
            offset,
            column,
        }
    }

    /// Reads into the buffer. `Ok(false)` on timeout; `Ok(true)` when bytes came or Ctrl-C
    /// was pressed (the caller checks `cancel`). Real-time targets are read in slices so
    /// Ctrl-C is seen within [`CANCEL_SLICE`] even during a 300 s wait.
    fn pull(&mut self, deadline: Instant, cancel: &AtomicBool) -> Result<bool, TargetError> {
        loop {
            let until = if self.target.is_virtual() {
                deadline
            } else {
                deadline.min(self.target.now() + CANCEL_SLICE)
            };
            match self.target.read(until)? {
                ReadOutcome::Data(bytes) => {
                    let now = self.target.now();
                    self.transcript.record(now, Direction::Rx, &bytes);
                    self.rx.extend_from_slice(&bytes);
                    self.last_rx = now;
                    return Ok(true);
                }
                ReadOutcome::Timeout if self.target.now() >= deadline => return Ok(false),
                ReadOutcome::Timeout if cancel.load(Ordering::Relaxed) => return Ok(true),
                ReadOutcome::Timeout => {}
            }
        }
    }

    /// The verdict for a device that went away while `expected` was awaited.
    fn gone(
        &mut self,
        i: usize,
        step: &Step,
        e: &TargetError,
        expected: &str,
        from: usize,
    ) -> Verdict {
        let now = self.target.now();
        self.transcript.note(now, format!("device gone: {e}"));
        self.fail(
            i,
            Some(step),
            FailureKind::Gone {
                reason: e.to_string(),
            },
            expected,
            from,
            None,
        )
    }

    /// What the step expects, as bytes for a diff: the echo, exact frames, then the lines (W1).
    fn expected_text(frames: &[Frame], lines: &[Item]) -> String {
        let mut s: String = frames.iter().map(Frame::render).collect();
        s.push_str(&crate::plan::render_items(lines));
        s
    }

    /// Performs `step` (index `i`) and judges what the device sends; `interleave` are the URCs
    /// accepted between frames.
    pub fn step(
        &mut self,
        i: usize,
        step: &Step,
        interleave: &[Item],
        cancel: &AtomicBool,
    ) -> Result<(), Verdict> {
        let now = self.target.now();
        if step.action != Action::Wait {
            self.transcript.note(now, format!("{}", step.location));
        }
        let mut frames: Vec<Frame> = Vec::with_capacity(step.expect.len() + 1);
        let mut echo_frame = false;
        match &step.action {
            Action::Command(line) => {
                for s in secrets_in_command(line) {
                    self.transcript.add_secret(&s);
                }
                if self.echo {
                    frames.push(Frame::literal(line.clone()));
                    echo_frame = true;
                }
                self.echo = echo_after(line, self.echo);
                self.send(i, step, line)?;
                self.command_at = self.target.now();
                if line.ends_with(b"\r") || line.ends_with(b"\r\n") {
                    self.pending = Some(at_wire::strip_line_end(line).to_vec());
                }
            }
            Action::Data(bytes) => self.send(i, step, bytes)?,
            Action::Sleep(d) => {
                self.transcript
                    .note(now, format!("wait {:.3} s", d.as_secs_f64()));
                self.target.sleep(*d);
            }
            Action::Dtr(level) => {
                self.transcript
                    .note(now, format!("DTR {}", if *level { "on" } else { "off" }));
                if let Err(e) = self.target.set_dtr(*level) {
                    let kind = match e {
                        TargetError::Unsupported(w) => FailureKind::Unsupported {
                            what: format!("drive {w}"),
                        },
                        e => FailureKind::Gone {
                            reason: e.to_string(),
                        },
                    };
                    return Err(self.fail(i, Some(step), kind, "", self.cursor, None));
                }
            }
            Action::Fault(spec) => {
                self.transcript.note(now, format!("fault {spec}"));
                if let Err(e) = self.target.inject_fault(spec) {
                    let kind = match e {
                        TargetError::Unsupported(w) => FailureKind::Unsupported {
                            what: w.to_string(),
                        },
                        e => FailureKind::Gone {
                            reason: e.to_string(),
                        },
                    };
                    return Err(self.fail(i, Some(step), kind, "", self.cursor, None));
                }
            }
            Action::Wait => {}
        }
        let sent_at = match step.action {
            Action::Wait => self.step_end,
            _ => self.target.now(),
        };
        let from = self.cursor;
        frames.extend(step.expect.iter().cloned());
        let expected = Self::expected_text(&frames, &step.lines);
        let mut deadline = sent_at + step.timeout.max(step.max_response.unwrap_or_default());
        if let Some(hard) = self.hard_deadline {
            deadline = deadline.min(hard);
        }
        // Exact bytes: the echo (W2) and raw frames.
        let mut idx = 0;
        while idx < frames.len() {
            let frame = frames
                .get(idx)
                .cloned()
                .unwrap_or_else(|| Frame::literal(Vec::new()));
            match match_frame(&frame, &self.rx, self.cursor, &mut self.captures) {
                Match::Complete(end) => {
                    self.after_lf = end > self.cursor && self.rx.get(end - 1) == Some(&b'\n');
                    self.cursor = end;
                    idx += 1;
                    continue;
                }
                Match::Incomplete => {
                    if let Match::Complete(end) = match_urc(interleave, &self.rx, self.cursor) {
                        self.note_urc(end);
                        continue;
                    }
                }
                Match::Mismatch(at) => match match_urc(interleave, &self.rx, self.cursor) {
                    Match::Complete(end) => {
                        self.note_urc(end);
                        continue;
                    }
                    Match::Incomplete => {}
                    Match::Mismatch(_) if echo_frame && idx == 0 => {
                        // ERRATA W2: no echo, or another one; graded non-strict.
                        match self.echo_deviation(i, step, &expected, from) {
                            Some(f) => {
                                self.record(f)?;
                                idx += 1;
                                continue;
                            }
                            None if self.echo_undecided() => {}
                            None => {
                                return Err(self.fail(
                                    i,
                                    Some(step),
                                    FailureKind::Mismatch,
                                    &expected,
                                    from,
                                    Some(at),
                                ));
                            }
                        }
                    }
                    Match::Mismatch(_) => {
                        let loc = step
                            .expect_locations
                            .get(idx.saturating_sub(frames.len() - step.expect.len()))
                            .cloned();
                        let mut v = self.fail(
                            i,
                            Some(step),
                            FailureKind::Mismatch,
                            &expected,
                            from,
                            Some(at),
                        );
                        if let (Verdict::Fail(f), Some(loc)) = (&mut v, loc) {
                            f.location = loc;
                        }
                        return Err(v);
                    }
                },
            }
            // Need more bytes.
            if cancel.load(Ordering::Relaxed) {
                return Err(Verdict::Interrupted);
            }
            match self.pull(deadline, cancel) {
                Ok(true) => {}
                Ok(false) => {
                    let after = self.target.now() - sent_at;
                    return Err(self.fail(
                        i,
                        Some(step),
                        FailureKind::Timeout { after },
                        &expected,
                        from,
                        None,
                    ));
                }
                Err(e) => return Err(self.gone(i, step, &e, &expected, from)),
            }
        }
        // Lines: decoded events, text first, then framing.
        if !step.lines.is_empty() {
            self.judge_lines(
                i, step, interleave, deadline, sent_at, &expected, from, cancel,
            )?;
        }
        let limited = !frames.is_empty() || !step.lines.is_empty();
        if let Some(limit) = step.max_response
            && limited
        {
            let since = if step.limit_from_command {
                self.command_at
            } else {
                sent_at
            };
            let took = self.last_rx - since;
            if took > limit {
                let evidence = step.limit_evidence.clone().unwrap_or_default();
                let f = self.finding(
                    i,
                    Some(step),
                    FailureKind::TooSlow { limit, took },
                    &expected,
                    from,
                    None,
                    Grade::NonStrict,
                    &evidence,
                );
                self.record(f)?;
            }
        }
        self.step_end = match step.action {
            Action::Command(_) | Action::Data(_)
                if step.expect.is_empty() && step.lines.is_empty() =>
            {
                sent_at
            }
            _ => self.target.now(),
        };
        self.steps_passed += 1;
        Ok(())
    }

    /// Whether the bytes at the cursor cannot yet tell what the echo is.
    fn echo_undecided(&self) -> bool {
        let rest = self.rx.get(self.cursor..).unwrap_or_default();
        rest.len() < 2 || !rest.iter().any(|&b| b == b'\r' || b == b'\n')
    }

    /// The echo did not match: a missing echo (the response starts right away) or another
    /// echo line (skipped up to its CR) is an ERRATA W2 deviation; anything else is `None`.
    fn echo_deviation(
        &mut self,
        i: usize,
        step: &Step,
        expected: &str,
        from: usize,
    ) -> Option<Failure> {
        let rest = self.rx.get(self.cursor..).unwrap_or_default();
        let at = self.cursor;
        let (what, skip) = if rest.starts_with(b"\r\n") {
            ("no echo of the command line".to_owned(), 0)
        } else {
            let cr = rest.iter().position(|&b| b == b'\r' || b == b'\n')?;
            let line = rest.get(..cr).unwrap_or_default();
            if !line.get(..2).is_some_and(|p| p.eq_ignore_ascii_case(b"AT")) {
                return None;
            }
            let skip = cr + usize::from(rest.get(cr) == Some(&b'\r'));
            (format!("the echo differs: {}", escape(line)), skip)
        };
        let f = self.finding(
            i,
            Some(step),
            FailureKind::Echo { what },
            expected,
            from,
            Some(at),
            Grade::NonStrict,
            "ERRATA W2",
        );
        self.cursor += skip;
        self.after_lf = false;
        Some(f)
    }

    /// Judges `step.lines` on the decoded events of the device's bytes ([`crate::events`]).
    #[allow(clippy::too_many_arguments)]
    fn judge_lines(
        &mut self,
        i: usize,
        step: &Step,
        interleave: &[Item],
        deadline: Instant,
        sent_at: Instant,
        expected: &str,
        from: usize,
        cancel: &AtomicBool,
    ) -> Result<(), Verdict> {
        let mut settled = false;
        loop {
            let buf = self.rx.get(self.cursor..).unwrap_or_default();
            let judged = events::judge(
                buf,
                &step.lines,
                interleave,
                self.after_lf,
                self.pending.as_deref(),
                settled,
            );
            if let Some(j) = judged {
                let base = self.cursor;
                for (a, b) in &j.urcs {
                    let text = escape(self.rx.get(base + a..base + b).unwrap_or_default());
                    let now = self.target.now();
                    self.transcript.note(now, format!("interleaved URC {text}"));
                }
                self.captures.extend(j.captures.clone());
                for f in &j.findings {
                    let kind = match &f.what {
                        What::Line => FailureKind::Mismatch,
                        What::Framing(w) => FailureKind::Framing { what: w.clone() },
                        What::Recorded {
                            pattern,
                            recorded,
                            got,
                        } => FailureKind::Recorded {
                            pattern: pattern.clone(),
                            recorded: escape(recorded),
                            got: escape(got),
                        },
                        What::Echo => FailureKind::Echo {
                            what: format!(
                                "echo while none was expected: {}",
                                escape(f.got.as_deref().unwrap_or_default())
                            ),
                        },
                    };
                    let mut failure = self.finding(
                        i,
                        Some(step),
                        kind,
                        expected,
                        from,
                        Some(base + f.offset),
                        f.grade,
                        &f.evidence,
                    );
                    if let Some(loc) = f
                        .item
                        .and_then(|k| step.lines.get(k))
                        .and_then(|it| it.location.clone())
                    {
                        failure.location = loc;
                    }
                    self.record(failure)?;
                }
                if j.final_seen {
                    self.pending = None;
                }
                self.cursor = base + j.end;
                self.after_lf = self.cursor > 0 && self.rx.get(self.cursor - 1) == Some(&b'\n');
                return Ok(());
            }
            if settled {
                let after = self.target.now() - sent_at;
                return Err(self.fail(
                    i,
                    Some(step),
                    FailureKind::Timeout { after },
                    expected,
                    from,
                    None,
                ));
            }
            if cancel.load(Ordering::Relaxed) {
                return Err(Verdict::Interrupted);
            }
            match self.pull(deadline, cancel) {
                Ok(true) => {}
                // The deadline passed: judge what came, a held partial line included.
                Ok(false) => settled = true,
                Err(e) => return Err(self.gone(i, step, &e, expected, from)),
            }
        }
    }

    fn send(&mut self, i: usize, step: &Step, bytes: &[u8]) -> Result<(), Verdict> {
        self.last_sent = bytes
            .get(..bytes.len().min(256))
            .unwrap_or_default()
            .to_vec();
        let now = self.target.now();
        self.transcript.record(now, Direction::Tx, bytes);
        if let Err(e) = self.target.write(bytes) {
            let now = self.target.now();
            self.transcript.note(now, format!("device gone: {e}"));
            return Err(self.fail(
                i,
                Some(step),
                FailureKind::Gone {
                    reason: e.to_string(),
                },
                "",
                self.cursor,
                None,
            ));
        }
        Ok(())
    }

    fn note_urc(&mut self, end: usize) {
        let text = escape(self.rx.get(self.cursor..end).unwrap_or_default());
        let now = self.target.now();
        self.transcript.note(now, format!("interleaved URC {text}"));
        self.cursor = end;
        self.after_lf = true;
    }

    /// After the last step: anything but allowed URCs within `quiet` is a failure.
    pub fn trailing(
        &mut self,
        quiet: Duration,
        interleave: &[Item],
        last_step: Option<&Step>,
        cancel: &AtomicBool,
    ) -> Result<(), Verdict> {
        let deadline = self.target.now() + quiet;
        let last = self.steps_passed.saturating_sub(1);
        let mut settled = false;
        loop {
            let base = self.cursor;
            let buf = self.rx.get(base..).unwrap_or_default();
            match events::trailing(buf, interleave, self.pending.as_deref(), settled) {
                Ok(urcs) => {
                    for (a, b) in urcs {
                        let text = escape(self.rx.get(base + a..base + b).unwrap_or_default());
                        let now = self.target.now();
                        self.transcript.note(now, format!("interleaved URC {text}"));
                        self.cursor = base + b;
                    }
                }
                Err(at) => {
                    return Err(self.fail(
                        last,
                        last_step,
                        FailureKind::Trailing,
                        "",
                        self.cursor,
                        Some(base + at),
                    ));
                }
            }
            if settled {
                return Ok(());
            }
            if cancel.load(Ordering::Relaxed) {
                return Err(Verdict::Interrupted);
            }
            match self.pull(deadline, cancel) {
                Ok(true) => {}
                Ok(false) => settled = true,
                Err(e) => {
                    // Disappearing after everything passed is still a failure: the
                    // device must stay available.
                    return Err(self.fail(
                        last,
                        last_step,
                        FailureKind::Gone {
                            reason: e.to_string(),
                        },
                        "",
                        self.cursor,
                        None,
                    ));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::plan::{LineMatch, LinePrefix};
    use crate::target::{Script, ScriptedTarget};

    fn loc(line: u32) -> Location {
        Location {
            file: "t.scn".into(),
            line,
        }
    }

    /// `+QFUPL: 100,<n>`: a hole capturing the digits after a fixed prefix.
    #[derive(Debug)]
    struct PrefixDigits(&'static [u8], &'static str);
    impl LineMatch for PrefixDigits {
        fn matches(&self, line: &[u8], caps: &mut Captures) -> bool {
            match line.strip_prefix(self.0) {
                Some(d) if !d.is_empty() && d.iter().all(u8::is_ascii_digit) => {
                    caps.insert(self.1.into(), d.to_vec());
                    true
                }
                _ => false,
            }
        }
        fn source(&self) -> String {
            format!("{}<{}>", escape(self.0), self.1)
        }
    }

    fn dst_query() -> Plan {
        // 000 §3.1 / ERRATA W1: two information lines, a blank line, OK.
        let mut plan = Plan::new("dst", "ec2x");
        plan.steps.push(Step::command_lines(
            loc(3),
            b"AT+QSMTPDST?",
            vec![
                Item::line(br#"+QSMTPDST: 1,"a""#),
                Item::line(br#"+QSMTPDST: 2,"b""#),
                Item::line(b"OK"),
            ],
        ));
        plan
    }

    const DST_ANSWER: &[u8] = b"\r\n+QSMTPDST: 1,\"a\"\r\n+QSMTPDST: 2,\"b\"\r\n\r\nOK\r\n";

    fn run(plan: &Plan, script: Vec<Script>) -> Execution {
        let mut t = ScriptedTarget::new(script);
        execute(plan, &mut t, &AtomicBool::new(false))
    }

    fn answer(echo: &[u8], body: &[u8]) -> Vec<Script> {
        vec![
            Script::Expect(echo.to_vec()),
            Script::Send([echo, body].concat()),
        ]
    }

    fn failure(e: &Execution) -> &Failure {
        match &e.verdict {
            Verdict::Fail(f) => f,
            v => panic!("expected a failure, got {v:?}"),
        }
    }

    #[test]
    fn exact_answer_passes_and_transcript_is_byte_exact() {
        let e = run(&dst_query(), answer(b"AT+QSMTPDST?\r", DST_ANSWER));
        assert_eq!(e.verdict, Verdict::Pass);
        assert_eq!(e.steps_passed, 1);
        assert_eq!(e.transcript.stream(Direction::Tx), b"AT+QSMTPDST?\r");
        assert_eq!(
            e.transcript.stream(Direction::Rx),
            [&b"AT+QSMTPDST?\r"[..], DST_ANSWER].concat()
        );
    }

    #[test]
    fn line_ended_by_lf_alone_fails_at_that_byte() {
        // 000 §2.1.2: every response line ends with <CR><LF>. Same events, framing differs.
        let bad = b"\r\n+QSMTPDST: 1,\"a\"\n+QSMTPDST: 2,\"b\"\r\n\r\nOK\r\n";
        let e = run(&dst_query(), answer(b"AT+QSMTPDST?\r", bad));
        let f = failure(&e);
        assert!(matches!(f.kind, FailureKind::Framing { .. }), "{f}");
        assert_eq!((f.grade, f.evidence.as_str()), (Grade::Fail, "000 §2.1.2"));
        assert!(f.summary().contains("same events, framing differs"), "{f}");
        assert_eq!(f.offset, Some(13 + 18));
        assert_eq!(f.location, loc(3));
        assert!(
            f.actual
                .starts_with(r#"AT+QSMTPDST?\r\r\n+QSMTPDST: 1,"a"\n"#),
            "{}",
            f.actual
        );
        // The caret sits under the `\n`.
        assert_eq!(
            f.actual.get(f.column.unwrap()..f.column.unwrap() + 2),
            Some("\\n")
        );
    }

    #[test]
    fn a_missing_blank_line_is_non_strict_and_judging_goes_on() {
        // ERRATA W1 only: the same events, another blank-line layout.
        let bad = b"\r\n+QSMTPDST: 1,\"a\"\r\n+QSMTPDST: 2,\"b\"\r\nOK\r\n";
        let mut plan = dst_query();
        plan.steps
            .push(Step::command_lines(loc(4), b"AT", vec![Item::line(b"OK")]));
        let mut script = answer(b"AT+QSMTPDST?\r", bad);
        script.extend(answer(b"AT\r", b"\r\nERROR\r\n"));
        let e = run(&plan, script.clone());
        // A later documented deviation is the verdict; the layout one stays a finding.
        assert_eq!(failure(&e).grade, Grade::Fail);
        assert_eq!(failure(&e).location, loc(4));
        assert_eq!(e.findings.len(), 2);
        assert_eq!(e.findings[0].grade, Grade::NonStrict);
        assert_eq!(e.findings[0].evidence, "ERRATA W1");
        assert_eq!(e.findings[0].offset, Some(13 + 38));
        script.truncate(2);
        script.extend(answer(b"AT\r", b"\r\nOK\r\n"));
        let e = run(&plan, script);
        assert_eq!(e.grade(), Grade::NonStrict);
        assert!(matches!(failure(&e).kind, FailureKind::Framing { .. }));
        assert_eq!(e.steps_passed, 2);
    }

    #[test]
    fn a_missing_echo_is_non_strict_w2() {
        let e = run(
            &dst_query(),
            vec![
                Script::Expect(b"AT+QSMTPDST?\r".to_vec()),
                Script::Send(DST_ANSWER.to_vec()),
            ],
        );
        let f = failure(&e);
        assert!(matches!(f.kind, FailureKind::Echo { .. }), "{f}");
        assert_eq!(
            (f.grade, f.evidence.as_str()),
            (Grade::NonStrict, "ERRATA W2")
        );
        assert_eq!(e.steps_passed, 1);
    }

    #[test]
    fn extra_missing_and_changed_lines_fail() {
        let extra =
            b"\r\n+QSMTPDST: 1,\"a\"\r\n+QSMTPDST: 2,\"b\"\r\n+QSMTPDST: 3,\"c\"\r\n\r\nOK\r\n";
        let missing = b"\r\n+QSMTPDST: 1,\"a\"\r\n\r\nOK\r\n";
        let changed = b"\r\n+QSMTPDST: 1,\"a\"\r\n+QSMTPDST: 2,\"B\"\r\n\r\nOK\r\n";
        for (bad, at) in [(&extra[..], 38), (&missing[..], 22), (&changed[..], 34)] {
            let at = 13 + at; // after the echo
            let e = run(&dst_query(), answer(b"AT+QSMTPDST?\r", bad));
            let f = failure(&e);
            assert_eq!(f.kind, FailureKind::Mismatch, "{}", escape(bad));
            assert_eq!(f.offset, Some(at), "{}", escape(bad));
        }
    }

    #[test]
    fn byte_by_byte_slow_chunks_pass() {
        let mut script = vec![Script::Expect(b"AT+QSMTPDST?\r".to_vec())];
        for &b in [&b"AT+QSMTPDST?\r"[..], DST_ANSWER].concat().iter() {
            script.push(Script::Delay(Duration::from_millis(7)));
            script.push(Script::Send(vec![b]));
        }
        let e = run(&dst_query(), script);
        assert_eq!(e.verdict, Verdict::Pass);
        assert_eq!(
            e.transcript.stream(Direction::Rx).len(),
            13 + DST_ANSWER.len()
        );
    }

    #[test]
    fn declared_urcs_interleave_between_frames_undeclared_fail() {
        let urc = &b"\r\n+QIURC: \"pdpdeact\",1\r\n"[..];
        let script = vec![
            Script::Send(urc.to_vec()),
            Script::Expect(b"AT+QSMTPDST?\r".to_vec()),
            Script::Send(b"AT+QSMTPDST?\r".to_vec()),
            Script::Send(urc.to_vec()),
            Script::Send(DST_ANSWER[..38].to_vec()),
            Script::Send(urc.to_vec()),
            Script::Send(DST_ANSWER[38..].to_vec()),
        ];
        let mut plan = dst_query();
        let e = run(&plan, script.clone());
        assert_eq!(failure(&e).kind, FailureKind::Mismatch);
        plan.interleave
            .push(Item::urc(Arc::new(LinePrefix(b"+QIURC: ".to_vec()))));
        let e = run(&plan, script);
        assert_eq!(e.verdict, Verdict::Pass, "{:?}", e.verdict);
        let notes = e.transcript.render(false);
        assert_eq!(notes.matches("interleaved URC").count(), 3, "{notes}");
    }

    #[test]
    fn too_slow_on_the_target_clock() {
        let mut plan = Plan::new("cfg", "ec2x");
        let mut step = Step::command(
            loc(1),
            b"AT+QSMTPCFG=\"contextid\",1",
            vec![Frame::line(b"OK")],
        );
        step.max_response = Some(Duration::from_millis(300)); // 000 §2.2.1
        plan.steps.push(step);
        let echo = b"AT+QSMTPCFG=\"contextid\",1\r";
        let slow = |ms| {
            vec![
                Script::Expect(echo.to_vec()),
                Script::Send(echo.to_vec()),
                Script::Delay(Duration::from_millis(ms)),
                Script::Send(b"\r\nOK\r\n".to_vec()),
            ]
        };
        assert_eq!(run(&plan, slow(299)).verdict, Verdict::Pass);
        let e = run(&plan, slow(301));
        assert_eq!(
            failure(&e).kind,
            FailureKind::TooSlow {
                limit: Duration::from_millis(300),
                took: Duration::from_millis(301)
            }
        );
        assert_eq!(failure(&e).grade, Grade::NonStrict);
        // Judging goes on after a late answer: a wrong byte later is the verdict.
        let mut two = plan.clone();
        two.steps
            .push(Step::command(loc(2), b"AT", vec![Frame::line(b"OK")]));
        let mut script = slow(301);
        script.extend([
            Script::Expect(b"AT\r".to_vec()),
            Script::Send(b"AT\r\r\nERROR\r\n".to_vec()),
        ]);
        let e = run(&two, script);
        assert!(
            matches!(failure(&e).kind, FailureKind::Mismatch),
            "{:?}",
            e.verdict
        );
        assert_eq!(failure(&e).location.line, 2);
        // ... and when all else is right, the late answer is.
        let mut script = slow(301);
        script.extend([
            Script::Expect(b"AT\r".to_vec()),
            Script::Send(b"AT\r\r\nOK\r\n".to_vec()),
        ]);
        let e = run(&two, script);
        assert!(matches!(failure(&e).kind, FailureKind::TooSlow { .. }));
        assert_eq!(e.steps_passed, 2);
    }

    #[test]
    fn vanishing_device_fails_with_partial_transcript() {
        let e = run(
            &dst_query(),
            vec![
                Script::Expect(b"AT+QSMTPDST?\r".to_vec()),
                Script::Send(b"AT+QSMTPDST?\r\r\n+QSM".to_vec()),
                Script::Vanish,
            ],
        );
        assert!(matches!(failure(&e).kind, FailureKind::Gone { .. }));
        assert_eq!(
            e.transcript.stream(Direction::Rx),
            b"AT+QSMTPDST?\r\r\n+QSM"
        );
        assert!(e.transcript.render(false).contains("device gone"));
    }

    #[test]
    fn silence_times_out_on_virtual_time() {
        let mut plan = Plan::new("put", "ec2x");
        let mut step = Step::command(
            loc(9),
            b"AT+QSMTPPUT=300",
            vec![Frame::line(b"OK"), Frame::line(b"+QSMTPPUT: 0,0")],
        );
        step.timeout = Duration::from_secs(310);
        plan.steps.push(step);
        let e = run(&plan, answer(b"AT+QSMTPPUT=300\r", b"\r\nOK\r\n"));
        let f = failure(&e);
        assert_eq!(
            f.kind,
            FailureKind::Timeout {
                after: Duration::from_secs(310)
            }
        );
        assert_eq!(
            f.expected,
            r"AT+QSMTPPUT=300\r\r\nOK\r\n\r\n+QSMTPPUT: 0,0\r\n"
        );
        assert_eq!(e.elapsed, Duration::from_secs(310));
    }

    #[test]
    fn ate0_stops_echo_from_the_next_line() {
        // ERRATA W2: ATE0's own line is still echoed.
        let mut plan = Plan::new("echo", "ec2x");
        plan.steps
            .push(Step::command(loc(1), b"ATE0", vec![Frame::line(b"OK")]));
        plan.steps
            .push(Step::command(loc(2), b"AT", vec![Frame::line(b"OK")]));
        let script = [
            answer(b"ATE0\r", b"\r\nOK\r\n"),
            vec![
                Script::Expect(b"AT\r".to_vec()),
                Script::Send(b"\r\nOK\r\n".to_vec()),
            ],
        ]
        .concat();
        assert_eq!(run(&plan, script).verdict, Verdict::Pass);
        assert!(!echo_after(b"ATE0\r", true));
        assert!(echo_after(b"ATE0E1\r", false));
        assert!(echo_after(b"ATZ\r", false));
        assert!(!echo_after(b"AT+QSMTPSUB=0,\"ATE1\"\r", false));
    }

    #[test]
    fn pattern_holes_capture() {
        let mut plan = Plan::new("fupl", "ec2x");
        plan.steps.push(Step::command(
            loc(4),
            b"AT",
            vec![
                Frame {
                    segments: vec![
                        Segment::Literal(b"\r\n".to_vec()),
                        Segment::Line(Arc::new(PrefixDigits(b"+QFUPL: 100,", "checksum"))),
                        Segment::Literal(b"\r\n".to_vec()),
                    ],
                },
                Frame::line(b"OK"),
            ],
        ));
        let e = run(&plan, answer(b"AT\r", b"\r\n+QFUPL: 100,707\r\n\r\nOK\r\n"));
        assert_eq!(e.verdict, Verdict::Pass);
        assert_eq!(
            e.captures.get("checksum").map(Vec::as_slice),
            Some(&b"707"[..])
        );
        let e = run(&plan, answer(b"AT\r", b"\r\n+QFUPL: 100,x\r\n\r\nOK\r\n"));
        assert_eq!(failure(&e).offset, Some(5));
        assert_eq!(
            failure(&e).expected,
            r"AT\r\r\n{+QFUPL: 100,<checksum>}\r\n\r\nOK\r\n"
        );
    }

    #[test]
    fn trailing_bytes_fail_and_cancel_interrupts() {
        let e = run(
            &dst_query(),
            answer(b"AT+QSMTPDST?\r", &[DST_ANSWER, b"\r\nOK\r\n"].concat()),
        );
        assert_eq!(failure(&e).kind, FailureKind::Trailing);
        let mut t = ScriptedTarget::new(answer(b"AT+QSMTPDST?\r", DST_ANSWER));
        let e = execute(&dst_query(), &mut t, &AtomicBool::new(true));
        assert_eq!(e.verdict, Verdict::Interrupted);
    }

    #[test]
    fn secrets_never_reach_the_failure() {
        let mut plan = Plan::new("acct", "ec2x");
        plan.steps.push(Step::command(
            loc(1),
            b"AT+QSMTPCFG=\"account\",\"u\",\"s3cret\"",
            vec![Frame::line(b"OK")],
        ));
        let echo = b"AT+QSMTPCFG=\"account\",\"u\",\"s3cret\"\r";
        let e = run(&plan, answer(echo, b"\r\nERROR\r\n"));
        let f = failure(&e);
        let shown = format!("{f}{}", serde_json::to_string(f).unwrap());
        assert!(!shown.contains("s3cret"), "{shown}");
        assert!(!e.transcript.render(true).contains("s3cret"));
    }
}
