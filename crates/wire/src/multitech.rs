//! Multi-Tech `#PUTMAIL` body framing (002): ends with `<CR><LF>.<CR><LF>`, dot-stuffed.
//!
//! After `OK_Info_WaitingForData` "all the data received on the serial port is sent within the
//! email body. The (CR)(LF)(.)(CR)(LF) sequence sent by the attached host indicates … the end of
//! the email body" (002). The body is not echoed. The start of data counts as following a CRLF,
//! so `.<CR><LF>` as the very first line ends an empty body.
//!
//! Stuffing follows RFC 5321 §4.5.2 (the body goes to SMTP `DATA`): the sender doubles a `.` at
//! the start of a line; the receiver deletes the first `.` of a line that has other characters.
//! The body handed out keeps the CRLF that ends its last line: `hi<CR><LF>.<CR><LF>` → `hi<CR><LF>`.

use alloc::vec::Vec;
use core::fmt;

/// Default maximum body size in bytes.
pub const DEFAULT_MAX_BODY: usize = 64 * 1024;

/// The body exceeded the framer's maximum; the framer still consumed up to the terminator.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct BodyOverflow {
    /// Stream offset (from the start of data) of the first byte that did not fit.
    pub offset: u64,
    /// Total unstuffed body length seen.
    pub len: u64,
}

impl fmt::Display for BodyOverflow {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "mail body of {} bytes exceeds the maximum (first excess byte at offset {})",
            self.len, self.offset
        )
    }
}

impl core::error::Error for BodyOverflow {}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    /// At the start of a line (start of data or after CRLF).
    LineStart,
    /// Inside a line; `cr` says whether the last byte was CR.
    InLine { cr: bool },
    /// A `.` at the start of a line.
    Dot,
    /// `.` `CR` at the start of a line.
    DotCr,
    /// Terminator seen.
    Done,
}

/// Module-side `#PUTMAIL` body framer: fed bytes, finds the terminator, unstuffs.
///
/// ```
/// use at_wire::multitech::{MultiTechFramer, dot_stuff};
/// let wire = dot_stuff(b"Hello\r\n.signature\r\n");
/// assert_eq!(wire, b"Hello\r\n..signature\r\n.\r\n");
/// let mut f = MultiTechFramer::new(1024);
/// let mut input = wire.clone();
/// input.extend_from_slice(b"AT\r"); // back in command mode
/// assert_eq!(f.push(&input), wire.len());
/// assert_eq!(f.result().unwrap().unwrap(), b"Hello\r\n.signature\r\n");
/// ```
#[derive(Clone, Debug)]
pub struct MultiTechFramer {
    body: Vec<u8>,
    max_body: usize,
    state: State,
    /// Stream offset of the next byte.
    offset: u64,
    /// Unstuffed length seen (stored or not).
    len: u64,
    overflow_at: Option<u64>,
}

impl MultiTechFramer {
    /// A framer keeping at most `max_body` bytes of body.
    pub fn new(max_body: usize) -> Self {
        MultiTechFramer {
            body: Vec::new(),
            max_body,
            state: State::LineStart,
            offset: 0,
            len: 0,
            overflow_at: None,
        }
    }

    /// Whether the terminator has been seen.
    pub fn is_finished(&self) -> bool {
        self.state == State::Done
    }

    /// Bytes consumed so far (terminator included once finished).
    pub fn consumed(&self) -> u64 {
        self.offset
    }

    /// The unstuffed body so far.
    pub fn body(&self) -> &[u8] {
        &self.body
    }

    /// Once finished: the body, or the overflow error.
    pub fn result(&self) -> Option<Result<&[u8], BodyOverflow>> {
        if self.state != State::Done {
            return None;
        }
        Some(match self.overflow_at {
            Some(offset) => Err(BodyOverflow {
                offset,
                len: self.len,
            }),
            None => Ok(&self.body),
        })
    }

    /// Takes the body once finished (the framer is left empty).
    pub fn take_body(&mut self) -> Option<Result<Vec<u8>, BodyOverflow>> {
        let r = self.result()?.map(|_| ());
        Some(r.map(|()| core::mem::take(&mut self.body)))
    }

    /// Feeds bytes; returns how many were consumed (stops right after the terminator).
    pub fn push(&mut self, bytes: &[u8]) -> usize {
        let mut i = 0;
        while let Some(&b) = bytes.get(i) {
            if self.state == State::Done {
                break;
            }
            i += 1;
            let at = self.offset;
            self.offset += 1;
            self.state = match (self.state, b) {
                (State::LineStart, b'.') => State::Dot,
                (State::LineStart, b) => {
                    self.emit(at, b);
                    State::InLine { cr: b == b'\r' }
                }
                (State::InLine { cr: true }, b'\n') => {
                    self.emit(at, b'\n');
                    State::LineStart
                }
                (State::InLine { .. }, b) => {
                    self.emit(at, b);
                    if b == b'\r' {
                        State::InLine { cr: true }
                    } else {
                        // Fast path: only a line starting with `.` needs the byte states, and
                        // such a line follows CR LF: copy everything up to the next CR LF `.`.
                        let rest = bytes.get(i..).unwrap_or_default();
                        match memchr::memmem::find(rest, b"\r\n.") {
                            Some(k) => {
                                self.emit_run(rest.get(..k + 2).unwrap_or_default());
                                i += k + 2;
                                State::LineStart
                            }
                            None => {
                                self.emit_run(rest);
                                i += rest.len();
                                if rest.ends_with(b"\r\n") {
                                    State::LineStart
                                } else if rest.ends_with(b"\r") {
                                    State::InLine { cr: true }
                                } else {
                                    State::InLine { cr: false }
                                }
                            }
                        }
                    }
                }
                (State::Dot, b'\r') => State::DotCr,
                // `..` → `.`; `.x` → `x` (RFC 5321 §4.5.2: the first `.` is deleted).
                (State::Dot, b) => {
                    self.emit(at, b);
                    State::InLine { cr: false }
                }
                (State::DotCr, b'\n') => State::Done,
                // `.` CR x: the line has other characters; drop the dot, keep CR.
                (State::DotCr, b) => {
                    self.emit(at.saturating_sub(1), b'\r');
                    self.emit(at, b);
                    State::InLine { cr: b == b'\r' }
                }
                (State::Done, _) => State::Done,
            };
        }
        i
    }

    fn emit(&mut self, at: u64, b: u8) {
        self.len += 1;
        if self.overflow_at.is_some() {
            return;
        }
        if self.body.len() < self.max_body {
            self.body.push(b);
        } else {
            self.overflow_at = Some(at);
            self.body.clear();
        }
    }

    fn emit_run(&mut self, run: &[u8]) {
        if run.is_empty() {
            return;
        }
        let start = self.offset;
        self.offset += run.len() as u64;
        self.len += run.len() as u64;
        if self.overflow_at.is_some() {
            return;
        }
        let room = self.max_body.saturating_sub(self.body.len());
        if run.len() <= room {
            self.body.extend_from_slice(run);
        } else {
            self.overflow_at = Some(start + room as u64);
            self.body.clear();
        }
    }
}

impl Default for MultiTechFramer {
    fn default() -> Self {
        MultiTechFramer::new(DEFAULT_MAX_BODY)
    }
}

/// Host side: dot-stuffs `body` and appends the terminator; a non-empty body not ending in CRLF
/// gets one first (the terminator must start a line).
pub fn dot_stuff(body: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(body.len() + body.len() / 64 + 5);
    let mut line_start = true;
    let mut prev_cr = false;
    for &b in body {
        if line_start && b == b'.' {
            out.push(b'.');
        }
        out.push(b);
        line_start = prev_cr && b == b'\n';
        prev_cr = b == b'\r';
    }
    if !body.is_empty() && !body.ends_with(b"\r\n") {
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b".\r\n");
    out
}
