//! Module side, command mode: assembles host bytes into command lines.

use alloc::vec::Vec;
use core::fmt;

use crate::redact::Redacted;

/// Default maximum command-line length in bytes (CR excluded).
pub const DEFAULT_MAX_COMMAND_LINE: usize = 1024;

/// Collects command-mode bytes from the host into lines ended by CR (000 §2.1.2: "输入`<CR>`将终止命令行").
///
/// Rules (ERRATA W2):
/// - a line ends at CR; the line handed out excludes it;
/// - an LF directly after a CR is consumed and ignored;
/// - NUL and LF bytes before the first byte of a line are noise and skipped;
/// - a CR with nothing before it (an empty line) is consumed without an event;
/// - a line longer than `max_line` is discarded up to its CR, which yields
///   [`LineEvent::Overflow`] carrying the line's stream offset; the next line is read normally.
///
/// [`feed`](Self::feed) stops right after a CR that completed a line, so the caller can switch
/// to data mode (for example after `AT+QSMTPBODY=…`) and hand the remaining bytes to a framer.
/// Every consumed byte is one the module echoes when echo is on (W2), so the echo of a call is
/// exactly `&bytes[..consumed]`.
///
/// ```
/// use at_wire::{LineAssembler, LineEvent};
/// let mut asm = LineAssembler::new(64);
/// let input = b"\0AT+QSMTPCLR\r\nATI\r";
/// let feed = asm.feed(input);
/// assert_eq!(feed.consumed, 13);
/// assert_eq!(feed.event, Some(LineEvent::Line { line: b"AT+QSMTPCLR", start: 1 }));
/// let feed = asm.feed(&input[13..]);
/// assert_eq!(feed.event, Some(LineEvent::Line { line: b"ATI", start: 14 }));
/// ```
#[derive(Clone)]
pub struct LineAssembler {
    buf: Vec<u8>,
    max_line: usize,
    /// Stream offset of the next byte fed.
    offset: u64,
    /// Stream offset of the current line's first byte.
    line_start: u64,
    state: State,
    after_cr: bool,
    /// The previous call handed out `buf`; clear it first.
    emitted: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    /// Between lines, skipping noise.
    Idle,
    /// Collecting a line.
    Line,
    /// Discarding an over-long line until its CR.
    Overflow,
}

/// What one [`LineAssembler::feed`] call found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[must_use = "`consumed` says where the unconsumed bytes start"]
pub struct Feed<'a> {
    /// How many input bytes were consumed (the rest were not looked at).
    pub consumed: usize,
    /// A line completed by the last consumed byte (a CR), if any.
    pub event: Option<LineEvent<'a>>,
}

/// A completed command line, or an over-long one (`Debug` redacts credentials).
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum LineEvent<'a> {
    /// A line, without its CR; `start` is the stream offset of its first byte.
    Line {
        /// The line's bytes (feed to [`crate::parse_command_line`]).
        line: &'a [u8],
        /// Stream offset of the line's first byte.
        start: u64,
    },
    /// A line longer than the maximum was discarded up to its CR.
    Overflow {
        /// Stream offset of the line's first byte.
        start: u64,
        /// Length of the discarded line (CR excluded).
        len: u64,
    },
}

impl fmt::Debug for LineEvent<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LineEvent::Line { line, start } => f
                .debug_struct("Line")
                .field("line", &Redacted(line))
                .field("start", start)
                .finish(),
            LineEvent::Overflow { start, len } => f
                .debug_struct("Overflow")
                .field("start", start)
                .field("len", len)
                .finish(),
        }
    }
}

impl LineAssembler {
    /// An assembler accepting lines of up to `max_line` bytes.
    pub fn new(max_line: usize) -> Self {
        LineAssembler {
            buf: Vec::new(),
            max_line,
            offset: 0,
            line_start: 0,
            state: State::Idle,
            after_cr: false,
            emitted: false,
        }
    }

    /// Stream offset of the next byte to be fed.
    pub fn offset(&self) -> u64 {
        self.offset
    }

    /// Whether a partial line is buffered (or being discarded).
    pub fn in_line(&self) -> bool {
        self.state != State::Idle
    }

    /// Whether the last byte consumed was a CR (an LF now would be swallowed).
    pub fn after_cr(&self) -> bool {
        self.after_cr
    }

    /// Tells the assembler that `n` bytes of the stream went elsewhere (data mode), keeping its
    /// offsets in step with the stream; forgets the CR-LF state.
    pub fn skip(&mut self, n: u64) {
        self.offset = self.offset.saturating_add(n);
        self.after_cr = false;
    }

    /// Consumes bytes up to and including the first CR that ends a line.
    pub fn feed(&mut self, bytes: &[u8]) -> Feed<'_> {
        if self.emitted {
            self.buf.clear();
            self.emitted = false;
        }
        let mut k = 0;
        while k < bytes.len() {
            if self.after_cr {
                self.after_cr = false;
                if bytes.get(k) == Some(&b'\n') {
                    k += 1;
                    self.offset += 1;
                    continue;
                }
            }
            if self.state == State::Idle {
                // Skip leading noise.
                while let Some(&b) = bytes.get(k) {
                    if b != 0 && b != b'\n' {
                        break;
                    }
                    k += 1;
                    self.offset += 1;
                }
                match bytes.get(k) {
                    None => break,
                    Some(b'\r') => {
                        // Empty line.
                        k += 1;
                        self.offset += 1;
                        self.after_cr = true;
                        continue;
                    }
                    Some(_) => {
                        self.state = State::Line;
                        self.line_start = self.offset;
                    }
                }
            }
            let rest = bytes.get(k..).unwrap_or_default();
            let (chunk, cr) = match memchr::memchr(b'\r', rest) {
                Some(p) => (rest.get(..p).unwrap_or_default(), true),
                None => (rest, false),
            };
            if self.state == State::Line {
                if self.buf.len() + chunk.len() > self.max_line {
                    self.state = State::Overflow;
                    self.buf.clear();
                } else {
                    self.buf.extend_from_slice(chunk);
                }
            }
            let used = chunk.len() + usize::from(cr);
            k += used;
            self.offset += used as u64;
            if cr {
                self.after_cr = true;
                let end = self.offset - 1;
                let state = core::mem::replace(&mut self.state, State::Idle);
                self.emitted = true;
                let event = if state == State::Overflow {
                    LineEvent::Overflow {
                        start: self.line_start,
                        len: end - self.line_start,
                    }
                } else {
                    LineEvent::Line {
                        line: &self.buf,
                        start: self.line_start,
                    }
                };
                return Feed {
                    consumed: k,
                    event: Some(event),
                };
            }
        }
        Feed {
            consumed: bytes.len(),
            event: None,
        }
    }
}

impl fmt::Debug for LineAssembler {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LineAssembler")
            .field("buffered", &self.buf.len())
            .field("max_line", &self.max_line)
            .field("offset", &self.offset)
            .field("state", &self.state)
            .finish_non_exhaustive()
    }
}

impl Default for LineAssembler {
    fn default() -> Self {
        LineAssembler::new(DEFAULT_MAX_COMMAND_LINE)
    }
}
