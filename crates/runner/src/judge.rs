//! Executes a [`Plan`] on a [`Target`] and judges every byte the device sends.
//!
//! The device's output is one buffer; a cursor walks it frame by frame. For each expected
//! frame the buffered bytes are either a complete match, a strict prefix (read more until the
//! step's deadline), or certainly different (failure, unless a URC declared "may interleave"
//! sits there). Nothing is normalised: a line ended by LF alone, a missing or extra line or a
//! changed byte fails with the offset of the first differing byte.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use at_wire::Instant;
use serde::Serialize;

use crate::escape::{escape, escaped_width};
use crate::plan::{Action, Captures, Frame, Location, Plan, Segment, Step};
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
    /// The device sent different bytes.
    Mismatch,
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
        format!("{}: {what}", self.location)
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

/// A URC frame at `start` accepted by one of `urcs` (each a whole frame, `\r\n<line>\r\n`).
fn match_urc(urcs: &[Frame], buf: &[u8], start: usize) -> Match {
    let mut best = Match::Mismatch(start);
    for f in urcs {
        match match_frame(f, buf, start, &mut Captures::new()) {
            Match::Complete(end) if end > start => return Match::Complete(end),
            Match::Incomplete => best = Match::Incomplete,
            _ => {}
        }
    }
    best
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
    /// The first answer that came later than its documented maximum: judging goes on, and it
    /// is the verdict only if nothing worse follows (a tolerated deviation, graded non-strict).
    too_slow: Option<Verdict>,
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
            too_slow: None,
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

    /// Ends the session with `verdict` (a pass with a late answer on the way ends too slow).
    pub fn finish(mut self, verdict: Verdict) -> Execution {
        let verdict = match (verdict, self.too_slow.take()) {
            (Verdict::Pass, Some(slow)) => slow,
            (v, _) => v,
        };
        let end = self.target.now();
        match &verdict {
            Verdict::Pass => self.transcript.note(end, "pass"),
            Verdict::Fail(f) => self.transcript.note(end, format!("FAIL {}", f.summary())),
            Verdict::Interrupted => self.transcript.note(end, "interrupted"),
        }
        Execution {
            verdict,
            steps_passed: self.steps_passed,
            transcript: self.transcript,
            elapsed: end - self.start,
            captures: self.captures,
        }
    }

    /// A failure of step `step` that is not about received bytes (mail checks, setup).
    pub fn failure(&self, step: usize, location: Location, kind: FailureKind) -> Verdict {
        Verdict::Fail(Box::new(Failure {
            location,
            step,
            sent: String::new(),
            kind,
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
        frames: &[Frame],
        from: usize,
        at: Option<usize>,
    ) -> Verdict {
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
            // The group answers the last thing sent.
            Some(Action::Wait) | None => escape(&self.transcript.redact(&self.last_sent)),
        };
        let location = s.map(|s| s.location.clone()).unwrap_or_default();
        Verdict::Fail(Box::new(Failure {
            location,
            step,
            sent,
            kind,
            expected: self
                .transcript
                .redact_text(&frames.iter().map(Frame::render).collect::<String>()),
            actual,
            offset,
            column,
        }))
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

    /// Performs `step` (index `i`) and judges what the device sends; `interleave` are the URC
    /// frames accepted between frames.
    pub fn step(
        &mut self,
        i: usize,
        step: &Step,
        interleave: &[Frame],
        cancel: &AtomicBool,
    ) -> Result<(), Verdict> {
        let now = self.target.now();
        if step.action != Action::Wait {
            self.transcript.note(now, format!("{}", step.location));
        }
        let mut frames: Vec<Frame> = Vec::with_capacity(step.expect.len() + 1);
        match &step.action {
            Action::Command(line) => {
                for s in secrets_in_command(line) {
                    self.transcript.add_secret(&s);
                }
                if self.echo {
                    frames.push(Frame::literal(line.clone()));
                }
                self.echo = echo_after(line, self.echo);
                self.send(i, step, line)?;
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
                    return Err(self.fail(i, Some(step), kind, &[], self.cursor, None));
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
        let mut deadline = sent_at + step.timeout.max(step.max_response.unwrap_or_default());
        if let Some(hard) = self.hard_deadline {
            deadline = deadline.min(hard);
        }
        let mut idx = 0;
        while idx < frames.len() {
            let frame = frames
                .get(idx)
                .cloned()
                .unwrap_or_else(|| Frame::literal(Vec::new()));
            match match_frame(&frame, &self.rx, self.cursor, &mut self.captures) {
                Match::Complete(end) => {
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
                    Match::Mismatch(_) => {
                        let loc = step
                            .expect_locations
                            .get(idx.saturating_sub(frames.len() - step.expect.len()))
                            .cloned();
                        let mut v = self.fail(
                            i,
                            Some(step),
                            FailureKind::Mismatch,
                            &frames,
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
                        &frames,
                        from,
                        None,
                    ));
                }
                Err(e) => {
                    let now = self.target.now();
                    self.transcript.note(now, format!("device gone: {e}"));
                    return Err(self.fail(
                        i,
                        Some(step),
                        FailureKind::Gone {
                            reason: e.to_string(),
                        },
                        &frames,
                        from,
                        None,
                    ));
                }
            }
        }
        if let Some(limit) = step.max_response
            && !frames.is_empty()
        {
            let took = self.last_rx - sent_at;
            if took > limit && self.too_slow.is_none() {
                let slow = self.fail(
                    i,
                    Some(step),
                    FailureKind::TooSlow { limit, took },
                    &frames,
                    from,
                    None,
                );
                let now = self.target.now();
                self.transcript.note(
                    now,
                    format!(
                        "too slow: {:.3} s, documented maximum {:.3} s (judging goes on)",
                        took.as_secs_f64(),
                        limit.as_secs_f64()
                    ),
                );
                self.too_slow = Some(slow);
            }
        }
        self.step_end = match step.action {
            Action::Command(_) | Action::Data(_) if step.expect.is_empty() => sent_at,
            _ => self.target.now(),
        };
        self.steps_passed += 1;
        Ok(())
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
                &[],
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
    }

    /// After the last step: anything but declared URCs within `quiet_after` is a failure.
    pub fn trailing(
        &mut self,
        quiet: Duration,
        interleave: &[Frame],
        last_step: Option<&Step>,
        cancel: &AtomicBool,
    ) -> Result<(), Verdict> {
        let deadline = self.target.now() + quiet;
        let last = self.steps_passed.saturating_sub(1);
        loop {
            while self.cursor < self.rx.len() {
                match match_urc(interleave, &self.rx, self.cursor) {
                    Match::Complete(end) => self.note_urc(end),
                    Match::Incomplete => break,
                    Match::Mismatch(at) => {
                        return Err(self.fail(
                            last,
                            last_step,
                            FailureKind::Trailing,
                            &[],
                            self.cursor,
                            Some(at),
                        ));
                    }
                }
            }
            if cancel.load(Ordering::Relaxed) {
                return Err(Verdict::Interrupted);
            }
            match self.pull(deadline, cancel) {
                Ok(true) => {}
                Ok(false) if self.cursor < self.rx.len() => {
                    return Err(self.fail(
                        last,
                        last_step,
                        FailureKind::Trailing,
                        &[],
                        self.cursor,
                        Some(self.cursor),
                    ));
                }
                Ok(false) => return Ok(()),
                Err(e) => {
                    // Disappearing after everything passed is still a failure: the
                    // device must stay available.
                    return Err(self.fail(
                        last,
                        last_step,
                        FailureKind::Gone {
                            reason: e.to_string(),
                        },
                        &[],
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
        plan.steps.push(Step::command(
            loc(3),
            b"AT+QSMTPDST?",
            vec![
                Frame::literal(&b"\r\n+QSMTPDST: 1,\"a\"\r\n+QSMTPDST: 2,\"b\"\r\n"[..]),
                Frame::line(b"OK"),
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
        let bad = b"\r\n+QSMTPDST: 1,\"a\"\n+QSMTPDST: 2,\"b\"\r\n\r\nOK\r\n";
        let e = run(&dst_query(), answer(b"AT+QSMTPDST?\r", bad));
        let f = failure(&e);
        assert_eq!(f.kind, FailureKind::Mismatch);
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
    fn extra_missing_and_changed_lines_fail() {
        let extra =
            b"\r\n+QSMTPDST: 1,\"a\"\r\n+QSMTPDST: 2,\"b\"\r\n+QSMTPDST: 3,\"c\"\r\n\r\nOK\r\n";
        let missing = b"\r\n+QSMTPDST: 1,\"a\"\r\n\r\nOK\r\n";
        let changed = b"\r\n+QSMTPDST: 1,\"a\"\r\n+QSMTPDST: 2,\"B\"\r\n\r\nOK\r\n";
        for (bad, at) in [(&extra[..], 38), (&missing[..], 20), (&changed[..], 34)] {
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
            .push(Frame::urc(Arc::new(LinePrefix(b"+QIURC: ".to_vec()))));
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
