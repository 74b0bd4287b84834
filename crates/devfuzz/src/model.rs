//! What a fuzz case is made of: groups of steps, each step with the response it must get.

use core::time::Duration;

/// The class of final result a step must end with.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub enum Class {
    /// `OK` (or Multi-Tech `OK_Info_WaitingForData` where stated by [`Class::Final`]).
    Ok,
    /// Any error: `ERROR`, `+CME ERROR: <n>` or Multi-Tech `#CME ERROR: <n>`.
    Error,
    /// `+CME ERROR: <n>`; with `Some(n)`, exactly that `<err>` (000 §5).
    Cme(Option<u32>),
    /// `CONNECT`: data mode starts (000 §1.3).
    Connect,
    /// This exact final result line.
    Final(String),
    /// Any final result code: the catalog does not know the answer (state-dependent).
    Any,
}

/// How a final result class reads in messages: the result line, with what an `<err>` means
/// (000 §5), never the Rust value.
impl core::fmt::Display for Class {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Class::Ok => f.write_str("OK"),
            Class::Error => f.write_str("an error (ERROR, +CME ERROR: <err> or #CME ERROR: <n>)"),
            Class::Cme(None) => f.write_str("+CME ERROR: <err>"),
            Class::Cme(Some(n)) => {
                let meaning = u16::try_from(*n).ok().and_then(at_catalog::err_code);
                match meaning {
                    Some(e) => write!(f, "+CME ERROR: {n} ({}, 000 §5)", e.name),
                    None => write!(f, "+CME ERROR: {n}"),
                }
            }
            Class::Connect => f.write_str("CONNECT"),
            Class::Final(s) => f.write_str(s),
            Class::Any => f.write_str("any final result"),
        }
    }
}

/// What the information lines before the final result must be.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub enum Info {
    /// Not judged.
    Any,
    /// No information lines at all.
    None,
    /// Exactly these lines.
    Exact(Vec<String>),
    /// One line per `(regex, scenario pattern)` (full match), in order.
    Match(Vec<(String, String)>),
    /// `+QFUPL: <size>,<checksum>` after an upload: the checksum's algorithm is the module's
    /// (000 §2.2.5 prints 707 for two files, ERRATA E12), but it is one of the bytes: captured
    /// as `name`, and, with `differs_from`, not the value captured under that name (these
    /// bytes differ from those in one place).
    Checksum {
        /// `<size>`.
        size: usize,
        /// Capture name of this checksum (an identifier).
        name: String,
        /// The capture this checksum must differ from.
        differs_from: Option<String>,
    },
}

/// How an information check reads in messages.
impl core::fmt::Display for Info {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Info::Any => f.write_str("any information lines"),
            Info::None => f.write_str("no information line"),
            Info::Exact(lines) => write!(f, "exactly {}", lines_text(lines)),
            Info::Match(res) => {
                let p: Vec<&str> = res.iter().map(|(_, p)| p.as_str()).collect();
                write!(f, "lines matching {}", p.join(" | "))
            }
            Info::Checksum {
                size, differs_from, ..
            } => match differs_from {
                Some(other) => write!(
                    f,
                    "`+QFUPL: {size},<checksum>` with a checksum other than {other}'s"
                ),
                None => write!(f, "`+QFUPL: {size},<checksum>`"),
            },
        }
    }
}

/// Lines as a reader sees them: each quoted as it came, `|` between, `none` when empty.
pub fn lines_text(lines: &[String]) -> String {
    if lines.is_empty() {
        return "none".into();
    }
    lines
        .iter()
        .map(|l| format!("`{}`", l.escape_debug()))
        .collect::<Vec<_>>()
        .join(" | ")
}

/// The response a step must get, and how soon.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Expect {
    /// Final result class.
    pub class: Class,
    /// Information lines.
    pub info: Info,
    /// Deadline from the end of the step (the catalog's maximum response time).
    pub within: Duration,
    /// A URC that must follow the final result (prefix), within this time.
    pub urc: Option<(String, Duration)>,
}

impl Expect {
    /// `class` with any information, within `within`.
    pub fn class(class: Class, within: Duration) -> Expect {
        Expect {
            class,
            info: Info::Any,
            within,
            urc: None,
        }
    }

    /// `OK` with exactly `lines` before it.
    pub fn ok_lines(lines: Vec<String>, within: Duration) -> Expect {
        Expect {
            class: Class::Ok,
            info: Info::Exact(lines),
            within,
            urc: None,
        }
    }

    /// With this information check.
    pub fn with_info(mut self, info: Info) -> Expect {
        self.info = info;
        self
    }

    /// With a URC (by prefix) expected after the final result within `within`.
    pub fn with_urc(mut self, prefix: &str, within: Duration) -> Expect {
        self.urc = Some((prefix.to_owned(), within));
        self
    }
}

/// What the SMTP server does with the next deliveries (emulator targets only: on a real device
/// the server is not ours to control).
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
pub enum ServerFault {
    /// The server never answers (scenario `@fault stall`).
    Stall,
    /// The server rejects the credentials with 535 (scenario `@sink reply auth 535`).
    AuthFailed,
    /// The server refuses `EHLO` with 502, so a client falls back to `HELO`, which offers no
    /// AUTH (scenario `@sink reply ehlo 502`; ERRATA M3).
    EhloRefused,
    /// The server offers (and accepts) only `AUTH PLAIN` (scenario `@sink auth PLAIN`).
    AuthPlainOnly,
}

/// One action of a case.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub enum Step {
    /// A command-mode line (echoed); `cr` appends the `<CR>` terminator.
    Send {
        /// The bytes, without terminator.
        bytes: Vec<u8>,
        /// Whether `<CR>` follows.
        cr: bool,
        /// The response it must get.
        expect: Expect,
    },
    /// Data-mode bytes (never echoed); `expect` if they must end data mode.
    Data {
        /// The bytes.
        bytes: Vec<u8>,
        /// The response, if these bytes must produce one.
        expect: Option<Expect>,
    },
    /// `+++` with silence `before` and `after` it (000 §1.3 wants ≥ 1 s each).
    Escape {
        /// Silence before.
        before: Duration,
        /// Silence after.
        after: Duration,
        /// The response, if the escape must end data mode.
        expect: Option<Expect>,
    },
    /// Silence; with `expect`, the response must come within `time`.
    Wait {
        /// How long.
        time: Duration,
        /// The response that must come meanwhile.
        expect: Option<Expect>,
    },
    /// The server's behaviour for the next delivery (emulator targets only).
    Server(ServerFault),
    /// DTR level (only targets with a DTR line).
    Dtr {
        /// The level.
        level: bool,
        /// The response, if the change must produce one.
        expect: Option<Expect>,
    },
}

impl Step {
    /// The response this step must get, if any.
    pub fn expect(&self) -> Option<&Expect> {
        match self {
            Step::Send { expect, .. } => Some(expect),
            Step::Data { expect, .. }
            | Step::Escape { expect, .. }
            | Step::Wait { expect, .. }
            | Step::Dtr { expect, .. } => expect.as_ref(),
            Step::Server(_) => None,
        }
    }
}

/// Case families (issue 8: what the device fuzzer generates).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
pub enum Family {
    /// Valid commands (test, read, write) from the catalog.
    Valid,
    /// Parameters at the edges of their ranges and lengths.
    Boundary,
    /// Parameters just outside their ranges and lengths.
    OutOfRange,
    /// A string where an integer goes and vice versa.
    WrongType,
    /// Lines and strings far longer than any limit.
    Overlong,
    /// Unbalanced or misplaced quotes.
    BrokenQuoting,
    /// Bytes above 0x7F in commands and strings.
    HighBytes,
    /// Commands out of sequence (`AT+QSMTPPUT` before configuration, commands inside data mode).
    OutOfSequence,
    /// Data-mode abuse: escape timing, length lies, input time, DTR.
    DataMode,
    /// A normal flow (configure, body, send; upload and attach; read back).
    Normal,
}

impl Family {
    /// Every family.
    pub const ALL: [Family; 10] = [
        Family::Valid,
        Family::Boundary,
        Family::OutOfRange,
        Family::WrongType,
        Family::Overlong,
        Family::BrokenQuoting,
        Family::HighBytes,
        Family::OutOfSequence,
        Family::DataMode,
        Family::Normal,
    ];

    /// Kebab-case name.
    pub fn name(self) -> &'static str {
        match self {
            Family::Valid => "valid",
            Family::Boundary => "boundary",
            Family::OutOfRange => "out-of-range",
            Family::WrongType => "wrong-type",
            Family::Overlong => "overlong",
            Family::BrokenQuoting => "broken-quoting",
            Family::HighBytes => "high-bytes",
            Family::OutOfSequence => "out-of-sequence",
            Family::DataMode => "data-mode",
            Family::Normal => "normal-flow",
        }
    }
}

/// Self-contained steps: their expectations depend only on each other, so shrinking may drop a
/// whole group without making the rest wrong.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Group {
    /// Which family produced it.
    pub family: Family,
    /// One line saying what it does.
    pub label: String,
    /// The steps.
    pub steps: Vec<Step>,
    /// Server name configured by the group (the scenario then resolves it to the sink).
    pub server: Option<String>,
}

/// One generated case: a few groups, run on the device one after the other.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Case {
    /// Seed of the campaign.
    pub seed: u64,
    /// Case number within the campaign.
    pub number: u64,
    /// The groups.
    pub groups: Vec<Group>,
}

impl Case {
    /// The least wall time the case takes on a module that answers at once: the silences it
    /// keeps (`+++` guards) and the waits it asks for (`Wait` steps, e.g. `<input_time>`).
    pub fn planned_waits(&self) -> Duration {
        self.steps()
            .map(|s| match s {
                Step::Escape { before, after, .. } => *before + *after,
                Step::Wait { time, .. } => *time,
                _ => Duration::ZERO,
            })
            .sum()
    }

    /// All steps, in order.
    pub fn steps(&self) -> impl Iterator<Item = &Step> {
        self.groups.iter().flat_map(|g| g.steps.iter())
    }
}

/// What kind of misbehaviour a finding is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
pub enum FindingKind {
    /// No final result within the maximum response time.
    Timeout,
    /// Output that is not W1-framed (bare LF, missing empty line, stray bytes).
    Garbage,
    /// Echo differs from the bytes sent (or is present after `ATE0`).
    Echo,
    /// The wrong class of final result (OK where an error is due, or the reverse).
    WrongClass,
    /// Information lines differ from what the catalog or the case's state says.
    WrongInfo,
    /// A URC before the final result, or a URC that never came.
    Urc,
    /// Output when none was due.
    Unexpected,
    /// The liveness check after the case failed: `AT` got no `OK`.
    Wedged,
    /// The module restarted (`RDY`) or the transport went away.
    Reset,
    /// The delivered mail or the SMTP session differs from the reference model's.
    Mail,
}

impl FindingKind {
    /// Kebab-case name.
    pub fn name(self) -> &'static str {
        match self {
            FindingKind::Timeout => "timeout",
            FindingKind::Garbage => "garbage",
            FindingKind::Echo => "echo",
            FindingKind::WrongClass => "wrong-class",
            FindingKind::WrongInfo => "wrong-info",
            FindingKind::Urc => "urc",
            FindingKind::Unexpected => "unexpected-output",
            FindingKind::Wedged => "wedged",
            FindingKind::Reset => "reset",
            FindingKind::Mail => "mail",
        }
    }
}

/// A misbehaviour the oracle saw.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Finding {
    /// What kind.
    pub kind: FindingKind,
    /// Index of the step (in [`Case::steps`] order); the liveness check is `steps().count()`.
    pub step: usize,
    /// What was expected and what came: one line, then (mail findings) a diff.
    pub message: String,
}

impl Finding {
    /// The first line of the message: what identifies the finding (the diff may follow).
    pub fn headline(&self) -> &str {
        self.message.lines().next().unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classes_and_information_read_as_result_lines() {
        // Issue 19: messages said `Cme(Some(661))`.
        assert_eq!(
            Class::Cme(Some(661)).to_string(),
            "+CME ERROR: 661 (Failed to open a file, 000 §5)"
        );
        assert_eq!(Class::Cme(None).to_string(), "+CME ERROR: <err>");
        assert_eq!(Class::Final("NO CARRIER".into()).to_string(), "NO CARRIER");
        assert_eq!(
            Info::Exact(vec!["+QSMTPBODY: 5".into()]).to_string(),
            "exactly `+QSMTPBODY: 5`"
        );
        assert_eq!(lines_text(&[]), "none");
    }
}
