//! What the runner executes: steps of host actions and what the device must answer.
//!
//! A [`Plan`] is built from a scenario (see [`crate::scenario`]) or by hand in tests. What the
//! device must send is a list of [`Item`]s, each one expected line (information, final result
//! code, URC) with its evidence, judged on the events `at_wire::Decoder` makes of the device's
//! bytes; their W1 layout (ERRATA W1: every final result code, `CONNECT` and URC framed as
//! `\r\n<text>\r\n`, an information block as `\r\n` + lines joined by `\r\n` + `\r\n`) is judged
//! after the events. Exact-byte [`Frame`]s remain for the echo (W2) and raw `<<` lines.

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
    /// For a line it matches: the holes whose value differs from the one recorded
    /// (`{hex=1513}`), each an implementation-defined difference.
    fn recorded(&self, _line: &[u8]) -> Vec<at_scenario::RecordedDiff> {
        Vec::new()
    }
    /// The exact line, when the matcher accepts only one (for the offset of a difference).
    fn literal(&self) -> Option<&[u8]> {
        None
    }
}

/// A scenario's expected line with its patterns, captures and recorded values.
impl LineMatch for at_scenario::LineMatcher {
    fn matches(&self, line: &[u8], captures: &mut Captures) -> bool {
        match at_scenario::LineMatcher::matches(self, line) {
            Some(m) => {
                captures.extend(m.captures.0);
                true
            }
            None => false,
        }
    }
    fn source(&self) -> String {
        self.display().to_owned()
    }
    fn recorded(&self, line: &[u8]) -> Vec<at_scenario::RecordedDiff> {
        at_scenario::LineMatcher::matches(self, line)
            .map(|m| m.recorded)
            .unwrap_or_default()
    }
    fn literal(&self) -> Option<&[u8]> {
        at_scenario::LineMatcher::literal(self)
    }
}

/// Matches one line exactly.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LineText(pub Vec<u8>);

impl LineMatch for LineText {
    fn matches(&self, line: &[u8], _: &mut Captures) -> bool {
        line == self.0.as_slice()
    }
    fn source(&self) -> String {
        crate::escape(&self.0)
    }
    fn literal(&self) -> Option<&[u8]> {
        Some(&self.0)
    }
}

/// Which W1 frame an [`Item`] belongs to: consecutive information lines form one block.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ItemKind {
    /// An information line (`+QSMTPDST: 1,"a"`, `ATI` text).
    Info,
    /// A final result code, `CONNECT`, `OK_Info_WaitingForData`: framed alone.
    Final,
    /// A URC: framed alone.
    Urc,
}

/// How a deviation grades, by the evidence of what it breaks (after Autobahn|Testsuite).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Grade {
    /// No deviation.
    Pass,
    /// A difference where the manuals leave the behaviour open (implementation-defined).
    Informational,
    /// A deviation from an ERRATA choice, or a late answer: the manual's bytes, not its letter.
    NonStrict,
    /// A deviation from what a manual documents.
    #[default]
    Fail,
}

impl Grade {
    /// `pass`, `informational`, `non-strict`, `fail`.
    pub fn as_str(self) -> &'static str {
        match self {
            Grade::Pass => "pass",
            Grade::Informational => "informational",
            Grade::NonStrict => "non-strict",
            Grade::Fail => "fail",
        }
    }
}

/// How a deviation from an expectation grades: the level of its evidence and the evidence.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Grading {
    /// Documented, ERRATA or implementation-defined.
    pub level: at_scenario::Level,
    /// The evidence for people (`000 §2.2.2`, `ERRATA E26`, `implementation-defined`).
    pub evidence: String,
}

impl Grading {
    /// A documented expectation citing `evidence`.
    pub fn documented(evidence: impl Into<String>) -> Self {
        Grading {
            level: at_scenario::Level::Documented,
            evidence: evidence.into(),
        }
    }

    /// The grading of a scenario expectation.
    pub fn of(e: &at_scenario::Evidence) -> Self {
        Grading {
            level: e.level(),
            evidence: e.to_string(),
        }
    }

    /// The grade of a deviation from it.
    pub fn grade(&self) -> Grade {
        match self.level {
            at_scenario::Level::Documented => Grade::Fail,
            at_scenario::Level::Errata => Grade::NonStrict,
            at_scenario::Level::Open => Grade::Informational,
        }
    }
}

/// One expected line of device output, judged on a decoded event (`at_wire::Decoder`): its
/// text first, then its framing.
#[derive(Clone, Debug)]
pub struct Item {
    /// Its W1 frame kind.
    pub kind: ItemKind,
    /// What its text must be.
    pub line: Arc<dyn LineMatch>,
    /// How a different line grades.
    pub grading: Grading,
    /// Where it is written (for the failure's location).
    pub location: Option<Location>,
}

impl Item {
    /// A line of exact text, its kind from the text (`OK`, `ERROR`, `+CME ERROR:`, `CONNECT`…
    /// are final), documented.
    pub fn line(text: &[u8]) -> Self {
        let kind = if at_wire::is_final_line(text) {
            ItemKind::Final
        } else {
            ItemKind::Info
        };
        Item {
            kind,
            line: Arc::new(LineText(text.to_vec())),
            grading: Grading::documented(""),
            location: None,
        }
    }

    /// A URC accepted by `m`, documented.
    pub fn urc(m: Arc<dyn LineMatch>) -> Self {
        Item {
            kind: ItemKind::Urc,
            line: m,
            grading: Grading::documented(""),
            location: None,
        }
    }

    /// The same item graded by `grading`.
    pub fn graded(mut self, grading: Grading) -> Self {
        self.grading = grading;
        self
    }
}

/// The items as W1 bytes for a diff: patterns as `{…}`.
pub fn render_items(items: &[Item]) -> String {
    let mut s = String::new();
    let mut in_block = false;
    for it in items {
        match it.kind {
            ItemKind::Info if in_block => {}
            _ => s.push_str("\\r\\n"),
        }
        in_block = it.kind == ItemKind::Info;
        s.push_str(&it.line.source());
        s.push_str("\\r\\n");
    }
    s
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
    /// Puts the emulated module into a fault now (`@fault pdp-deactivated`).
    Fault(String),
}

/// One host action and what the device must answer.
#[derive(Clone, Debug)]
pub struct Step {
    /// The scenario line the step comes from.
    pub location: Location,
    /// What the host does.
    pub action: Action,
    /// Exact device bytes expected after the action (the echo is added by the runner), before
    /// [`Step::lines`]: raw `<<` lines, hand-built plans.
    pub expect: Vec<Frame>,
    /// The lines the device must answer, judged on decoded events.
    pub lines: Vec<Item>,
    /// Where each frame of `expect` is written in the scenario (same length, or empty).
    pub expect_locations: Vec<Location>,
    /// The longest the device may take to complete `expect` (documented maximum response time).
    pub max_response: Option<Duration>,
    /// Where `max_response` comes from (`000 §2.2.1`, `ERRATA E30`): a later answer is graded
    /// non-strict naming it.
    pub limit_evidence: Option<String>,
    /// Whether `max_response` runs from the send of the last command line (a catalog limit:
    /// the whole response, data mode included) rather than from the start of this step.
    pub limit_from_command: bool,
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
            lines: Vec::new(),
            expect_locations: Vec::new(),
            max_response: None,
            limit_evidence: None,
            limit_from_command: false,
            timeout: Duration::from_secs(5),
        }
    }

    /// A step sending `line` + `\r` and expecting `lines`, judged on decoded events.
    pub fn command_lines(location: Location, line: &[u8], lines: Vec<Item>) -> Self {
        let mut s = Step::command(location, line, Vec::new());
        s.lines = lines;
        s
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
    /// URCs that may arrive between any two frames of any step.
    pub interleave: Vec<Item>,
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
