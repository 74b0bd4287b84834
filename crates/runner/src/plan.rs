//! What the runner executes: steps of host actions and the exact device bytes each expects.
//!
//! A [`Plan`] is built from a scenario (see [`crate::scenario`]) or by hand in tests. Expected
//! output is a list of [`Frame`]s, each already expanded to exact bytes (ERRATA W1: every final
//! result code, `CONNECT` and URC framed as `\r\n<text>\r\n`, an information block as `\r\n` +
//! lines joined by `\r\n` + `\r\n`), with [`LineMatch`] holes for values only a pattern can pin
//! (ERRATA E12 checksums).

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

/// Values captured by patterns so far, by name.
pub type Captures = BTreeMap<String, Vec<u8>>;

/// A matcher for the text of one line (no CR/LF), e.g. a pattern with captures.
pub trait LineMatch: fmt::Debug + Send + Sync {
    /// Whether `line` matches; on success, adds its captures to `captures`.
    fn matches(&self, line: &[u8], captures: &mut Captures) -> bool;
    /// The matcher as written in the scenario, for diffs.
    fn source(&self) -> String;
}

/// Matches any line starting with the given bytes, e.g. `+QIURC: ` for declared URCs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LinePrefix(pub Vec<u8>);

impl LineMatch for LinePrefix {
    fn matches(&self, line: &[u8], _: &mut Captures) -> bool {
        line.starts_with(&self.0)
    }
    fn source(&self) -> String {
        format!("{}*", crate::escape(&self.0))
    }
}

/// A piece of a [`Frame`].
#[derive(Clone, Debug)]
pub enum Segment {
    /// These bytes exactly.
    Literal(Vec<u8>),
    /// One line's text (up to, not including, the next CR or LF) accepted by a matcher.
    Line(Arc<dyn LineMatch>),
    /// A compiled group of scenario lines (W1 framing and patterns included).
    Group(Arc<at_scenario::Matcher>),
}

/// A unit of device output: an echo, an information block, a result code, `CONNECT`, a URC.
///
/// Unexpected URCs declared as "may interleave" are accepted only between frames.
#[derive(Clone, Debug)]
pub struct Frame {
    /// The frame's bytes and holes, in order.
    pub segments: Vec<Segment>,
}

impl Frame {
    /// A frame of exact bytes.
    pub fn literal(bytes: impl Into<Vec<u8>>) -> Self {
        Frame {
            segments: vec![Segment::Literal(bytes.into())],
        }
    }

    /// `\r\n<line>\r\n` where `line` is accepted by `m` (a URC that may interleave).
    pub fn urc(m: Arc<dyn LineMatch>) -> Self {
        Frame {
            segments: vec![
                Segment::Literal(b"\r\n".to_vec()),
                Segment::Line(m),
                Segment::Literal(b"\r\n".to_vec()),
            ],
        }
    }

    /// `\r\n<text>\r\n`: a final result code, `CONNECT` or a URC (ERRATA W1).
    pub fn line(text: &[u8]) -> Self {
        let mut b = Vec::with_capacity(text.len() + 4);
        b.extend_from_slice(b"\r\n");
        b.extend_from_slice(text);
        b.extend_from_slice(b"\r\n");
        Frame::literal(b)
    }

    /// The frame as text for a diff: literals escaped, holes as `{pattern}`.
    pub fn render(&self) -> String {
        let mut s = String::new();
        for seg in &self.segments {
            match seg {
                Segment::Literal(b) => s.push_str(&crate::escape(b)),
                Segment::Line(m) => {
                    s.push('{');
                    s.push_str(&m.source());
                    s.push('}');
                }
                Segment::Group(m) => s.push_str(&group_display(m)),
            }
        }
        s
    }
}

/// A scenario group as framed text: each line of its display between `\r\n`s.
///
/// The runner compiles one frame per group: several lines can only be one information block
/// (ERRATA W1: lines joined by `\r\n`), a single line is framed alone.
fn group_display(m: &at_scenario::Matcher) -> String {
    match m.literal() {
        Some(b) => crate::escape(b),
        None => {
            let lines: Vec<&str> = m.display().lines().collect();
            format!("\\r\\n{}\\r\\n", lines.join("\\r\\n"))
        }
    }
}

/// A place in a scenario file.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
pub struct Location {
    /// The file as the user named it (or its corpus-relative path).
    pub file: String,
    /// 1-based line.
    pub line: u32,
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.file, self.line)
    }
}

/// What the host does at the start of a step.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Action {
    /// Sends a command line (terminating `\r` included); echoed when echo is on (ERRATA W2).
    Command(Vec<u8>),
    /// Sends data-mode payload (never echoed, ERRATA W2).
    Data(Vec<u8>),
    /// Lets time pass (virtual targets advance their clock).
    Sleep(Duration),
    /// Drives DTR.
    Dtr(bool),
    /// Nothing: only waits for the expected frames (e.g. a final URC).
    Wait,
}

/// One host action and what the device must answer.
#[derive(Clone, Debug)]
pub struct Step {
    /// The scenario line the step comes from.
    pub location: Location,
    /// What the host does.
    pub action: Action,
    /// The device output expected after the action (the echo is added by the runner).
    pub expect: Vec<Frame>,
    /// Where each frame of `expect` is written in the scenario (same length, or empty).
    pub expect_locations: Vec<Location>,
    /// The longest the device may take to complete `expect` (documented maximum response time).
    pub max_response: Option<Duration>,
    /// How long to wait for `expect` before failing (at least `max_response`).
    pub timeout: Duration,
}

impl Step {
    /// A step sending `line` + `\r` and expecting `expect`, with a 5 s timeout.
    pub fn command(location: Location, line: &[u8], expect: Vec<Frame>) -> Self {
        let mut cmd = line.to_vec();
        cmd.push(b'\r');
        Step {
            location,
            action: Action::Command(cmd),
            expect,
            expect_locations: Vec::new(),
            max_response: None,
            timeout: Duration::from_secs(5),
        }
    }
}

/// A scenario made executable for one profile.
#[derive(Clone, Debug)]
pub struct Plan {
    /// Scenario name.
    pub name: String,
    /// Profile (module) the plan is for.
    pub profile: String,
    /// The steps in order.
    pub steps: Vec<Step>,
    /// URC frames that may arrive between any two frames of any step.
    pub interleave: Vec<Frame>,
    /// Whether the device echoes at the start (ERRATA W2: modules echo by default).
    pub echo: bool,
    /// How long to keep listening after the last step for bytes nobody expected.
    pub quiet_after: Duration,
}

impl Plan {
    /// An empty plan: echo on, 100 ms of quiet after the last step.
    pub fn new(name: impl Into<String>, profile: impl Into<String>) -> Self {
        Plan {
            name: name.into(),
            profile: profile.into(),
            steps: Vec::new(),
            interleave: Vec::new(),
            echo: true,
            quiet_after: Duration::from_millis(100),
        }
    }
}
