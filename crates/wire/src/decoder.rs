//! Response stream, module → host: an incremental, bounded decoder of lines into events.
//!
//! # Lines
//! A line ends at LF, with any CRs right before it counted in its [`Terminator`] (`\r\n`,
//! `\n`, `\r\r\n` after an echoed CR, …), or at a run of CRs followed by another byte (V0 result
//! codes end with a bare CR). A CR run at the end of the input is held until the next byte shows
//! which it is ([`Decoder::flush`] ends it). NULs at the start of a line are skipped and counted.
//! With a prompt pending, `> ` at the start of a line is a prompt with no terminator.
//!
//! # Events
//! Each line becomes one [`Event`] (borrowing the decoder's buffer, or with
//! [`Decoder::decode_with`] the caller's input when the line arrived whole; [`Event::to_owned`]
//! copies):
//! [`Kind::Echo`], [`Kind::Blank`], [`Kind::Final`] (`OK`, `ERROR`, `+CME ERROR: …`, …),
//! [`Kind::Connect`], [`Kind::Prompt`], [`Kind::WaitingForData`] (Multi-Tech),
//! [`Kind::Info`]/[`Kind::Text`] (responses to the pending command), [`Kind::Urc`], or
//! [`Kind::Overflow`] for a line longer than the maximum (discarded up to the next LF).
//!
//! # Response or URC
//! A `+NAME:`/`#NAME:` line is an information response iff a command is pending (between
//! [`Decoder::expect`] and its final result code) and `NAME` is one of the pending command's
//! info prefixes; otherwise it is a URC. [`Pending::infer`] derives the prefixes from the command
//! line: each extended command's own name, except that a name listed in
//! [`DecoderConfig::urc_prefixes`] (default `+QSMTPPUT`, 000 §2.2.7) counts only for its test and
//! read forms. An unprefixed line is [`Kind::Text`] while a command is pending, else a URC.

use alloc::vec::Vec;
use core::fmt;

use crate::command::{Command, Form, parse_command_line};
use crate::error::ParseError;
use crate::param::{Param, parse_params};
use crate::redact::Redacted;

/// Default maximum line length (content plus CRs before the LF).
pub const DEFAULT_MAX_LINE: usize = 4096;

/// Whether the module echoes command lines (ERRATA W2; `ATE0`/`ATE1`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Echo {
    /// Echo expected: the first line after [`Decoder::expect`] that equals the command line or
    /// starts with `AT` (any case) is the echo.
    On,
    /// No echo: a line equal to the command line is an ordinary line.
    Off,
    /// The first line after `expect` is the echo iff it equals the command line exactly.
    #[default]
    Infer,
}

/// The smallest effective [`DecoderConfig::max_line`]: the `> ` prompt is two bytes.
pub const MIN_MAX_LINE: usize = 2;

/// Decoder settings.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DecoderConfig {
    /// Maximum line length; longer lines become [`Kind::Overflow`]. Values below
    /// [`MIN_MAX_LINE`] (the length of the `> ` prompt) are raised to it.
    pub max_line: usize,
    /// Echo handling.
    pub echo: Echo,
    /// Map digit-only lines `0`–`4`, `6`–`8` to V.250 numeric result codes (`ATV0`) even when
    /// terminated by CR LF; a digit line ended by a bare CR is always mapped.
    pub numeric_codes: bool,
    /// Prefixes that are URCs after a set/execute command of the same name
    /// (default `+QSMTPPUT`, 000 §2.2.7).
    pub urc_prefixes: Vec<Vec<u8>>,
}

impl Default for DecoderConfig {
    fn default() -> Self {
        DecoderConfig {
            max_line: DEFAULT_MAX_LINE,
            echo: Echo::Infer,
            numeric_codes: false,
            urc_prefixes: alloc::vec![b"+QSMTPPUT".to_vec()],
        }
    }
}

/// The command the host has sent and awaits a final result code for (`Debug` redacts).
#[derive(Clone, PartialEq, Eq, Default)]
pub struct Pending {
    /// The command line as sent, without CR (compared with the echo).
    pub command: Vec<u8>,
    /// Prefixes (`+QSMTPDST`, `#PUTMAIL`; matched case-insensitively) of information responses.
    pub info_prefixes: Vec<Vec<u8>>,
    /// Whether the command answers with a `> ` prompt.
    pub expects_prompt: bool,
    /// Whether the command enters data mode (`CONNECT`, `OK_Info_WaitingForData`).
    pub enters_data_mode: bool,
}

impl fmt::Debug for Pending {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let prefixes: Vec<Redacted<'_>> = self.info_prefixes.iter().map(|p| Redacted(p)).collect();
        f.debug_struct("Pending")
            .field("command", &Redacted(&self.command))
            .field("info_prefixes", &prefixes)
            .field("expects_prompt", &self.expects_prompt)
            .field("enters_data_mode", &self.enters_data_mode)
            .finish()
    }
}

impl Pending {
    /// Infers the pending state from a command line (see the module doc for the rule).
    ///
    /// ```
    /// use at_wire::decoder::{DecoderConfig, Pending};
    /// let cfg = DecoderConfig::default();
    /// let put = Pending::infer(b"AT+QSMTPPUT=300", &cfg);
    /// assert!(put.info_prefixes.is_empty()); // `+QSMTPPUT: 0,0` will be a URC
    /// let test = Pending::infer(b"AT+QSMTPPUT=?", &cfg);
    /// assert_eq!(test.info_prefixes, [b"+QSMTPPUT".to_vec()]);
    /// ```
    pub fn infer(command: &[u8], cfg: &DecoderConfig) -> Pending {
        let mut p = Pending {
            command: command.to_vec(),
            ..Pending::default()
        };
        if let Ok(line) = parse_command_line(command) {
            for cmd in &line.commands {
                if let Command::Extended { sigil, name, form } = cmd {
                    let mut prefix = Vec::with_capacity(name.len() + 1);
                    prefix.push(*sigil);
                    prefix.extend_from_slice(name.as_bytes());
                    let urc_like = cfg
                        .urc_prefixes
                        .iter()
                        .any(|u| u.eq_ignore_ascii_case(&prefix));
                    if !urc_like || matches!(form, Form::Test | Form::Read) {
                        p.info_prefixes.push(prefix);
                    }
                    let data = matches!(form, Form::Set(_))
                        && (name.eq_ignore_ascii_case("QSMTPBODY")
                            || name.eq_ignore_ascii_case("QFUPL"))
                        || (matches!(form, Form::Execute) && name.eq_ignore_ascii_case("PUTMAIL"));
                    p.enters_data_mode |= data;
                }
            }
        }
        p
    }
}

/// How a line ended: `crs` CRs, then an LF or not.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub struct Terminator {
    /// Number of CRs.
    pub crs: u32,
    /// Whether an LF followed them.
    pub lf: bool,
}

impl Terminator {
    /// `\r\n`
    pub const CRLF: Terminator = Terminator { crs: 1, lf: true };
    /// Number of bytes.
    pub fn len(self) -> usize {
        self.crs as usize + usize::from(self.lf)
    }
    /// Whether there were no terminator bytes (a prompt, or a flushed line).
    pub fn is_empty(self) -> bool {
        self.len() == 0
    }
    /// Appends the terminator's bytes.
    pub fn encode(self, out: &mut Vec<u8>) {
        out.extend(core::iter::repeat_n(b'\r', self.crs as usize));
        if self.lf {
            out.push(b'\n');
        }
    }
}

/// A `+CME ERROR`/`+CMS ERROR` argument.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CmeCode {
    /// Numeric (`AT+CMEE=1`), e.g. `+CME ERROR: 664`.
    Numeric(u16),
    /// Verbose text (`AT+CMEE=2`); see [`Event::error_text`].
    Text,
}

/// Final result codes (V.250 §5.7, 000 §2.2, 002).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Final {
    /// `OK` / `0`
    Ok,
    /// `ERROR` / `4`
    Error,
    /// `+CME ERROR: <err>`
    CmeError(CmeCode),
    /// `+CMS ERROR: <err>`
    CmsError(CmeCode),
    /// `NO CARRIER` / `3`
    NoCarrier,
    /// `BUSY` / `7`
    Busy,
    /// `NO ANSWER` / `8`
    NoAnswer,
    /// `NO DIALTONE` / `6`
    NoDialtone,
    /// Multi-Tech `#CME ERROR: <value>` (002, e.g. 38027).
    MultiTechCme(u32),
    /// Multi-Tech `#CME ERROR: <text>` with a non-numeric value.
    MultiTechCmeText,
}

/// What a line is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Kind {
    /// The echo of the pending command line.
    Echo,
    /// An empty line (framing, ERRATA W1).
    Blank,
    /// Information response `+NAME: …` to the pending command.
    Info,
    /// Unprefixed information text while a command is pending (`ATI`, E5's stray `SMTP`).
    Text,
    /// Unsolicited result code: a `+NAME: …` line not answering the pending command, `RING`, or
    /// any text while nothing is pending.
    Urc,
    /// A final result code; the pending command is done.
    Final(Final),
    /// `CONNECT` or `CONNECT <text>` (V0 `1`); see [`Event::connect_text`].
    Connect,
    /// The `> ` prompt.
    Prompt,
    /// Multi-Tech `OK_Info_WaitingForData` (002).
    WaitingForData,
    /// A line longer than the maximum, discarded up to its LF.
    Overflow {
        /// Discarded bytes (NULs, content, CRs and the LF).
        len: u64,
    },
}

/// One decoded line, borrowing the decoder. `Debug` redacts credentials ([`crate::redact`]).
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Event<'a> {
    /// What the line is.
    pub kind: Kind,
    /// The line without leading NULs and terminator (empty for `Overflow`).
    pub line: &'a [u8],
    /// Stream offset of the line's first byte (leading NULs included).
    pub offset: u64,
    /// Leading NULs skipped.
    pub leading_nul: u32,
    /// How the line ended.
    pub term: Terminator,
}

impl fmt::Debug for Event<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Event")
            .field("kind", &self.kind)
            .field("line", &Redacted(self.line))
            .field("offset", &self.offset)
            .field("leading_nul", &self.leading_nul)
            .field("term", &self.term)
            .finish()
    }
}

/// An [`Event`] that owns its line (`Debug` redacts credentials like [`Event`]'s).
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct OwnedEvent {
    /// What the line is.
    pub kind: Kind,
    /// The line without leading NULs and terminator.
    pub line: Vec<u8>,
    /// Stream offset of the line's first byte.
    pub offset: u64,
    /// Leading NULs skipped.
    pub leading_nul: u32,
    /// How the line ended.
    pub term: Terminator,
}

impl fmt::Debug for OwnedEvent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.as_event().fmt(f)
    }
}

impl OwnedEvent {
    /// Borrows as an [`Event`] (for the accessors).
    pub fn as_event(&self) -> Event<'_> {
        Event {
            kind: self.kind,
            line: &self.line,
            offset: self.offset,
            leading_nul: self.leading_nul,
            term: self.term,
        }
    }
}

impl<'a> Event<'a> {
    /// Copies into an [`OwnedEvent`].
    pub fn to_owned(&self) -> OwnedEvent {
        OwnedEvent {
            kind: self.kind,
            line: self.line.to_vec(),
            offset: self.offset,
            leading_nul: self.leading_nul,
            term: self.term,
        }
    }

    /// Raw length on the wire: NULs, line and terminator (the discarded length for `Overflow`).
    pub fn raw_len(&self) -> u64 {
        match self.kind {
            Kind::Overflow { len } => len,
            _ => u64::from(self.leading_nul) + self.line.len() as u64 + self.term.len() as u64,
        }
    }

    /// Appends the exact bytes the event came from (not for `Overflow`).
    pub fn encode_raw(&self, out: &mut Vec<u8>) {
        out.extend(core::iter::repeat_n(0u8, self.leading_nul as usize));
        out.extend_from_slice(self.line);
        self.term.encode(out);
    }

    /// The `+NAME`/`#NAME` prefix of an `Info`/`Urc` line.
    pub fn prefix(&self) -> Option<&'a [u8]> {
        split_prefixed(self.line).map(|(p, _)| p)
    }

    /// The text after `+NAME: ` of a prefixed line.
    pub fn payload(&self) -> Option<&'a [u8]> {
        split_prefixed(self.line).map(|(_, rest)| rest)
    }

    /// The parameters after `+NAME: ` (allocates; parse lazily, only when needed).
    pub fn params(&self) -> Option<Result<Vec<Param>, ParseError>> {
        let (p, rest) = split_prefixed(self.line)?;
        let base = self.line.len() - rest.len();
        debug_assert!(base > p.len());
        Some(parse_params(rest).map_err(|e| ParseError {
            offset: e.offset + base,
            kind: e.kind,
        }))
    }

    /// Whether the line's prefix equals `name` (case-insensitive; with or without sigil).
    pub fn prefix_eq(&self, name: &str) -> bool {
        let n = name.as_bytes();
        self.prefix().is_some_and(|p| {
            p.eq_ignore_ascii_case(n) || p.get(1..).is_some_and(|q| q.eq_ignore_ascii_case(n))
        })
    }

    /// The text after `+CME ERROR: ` / `+CMS ERROR: ` / `#CME ERROR: `.
    pub fn error_text(&self) -> Option<&'a [u8]> {
        match self.kind {
            Kind::Final(
                Final::CmeError(_)
                | Final::CmsError(_)
                | Final::MultiTechCme(_)
                | Final::MultiTechCmeText,
            ) => error_arg(self.line),
            _ => None,
        }
    }

    /// The text after `CONNECT ` (empty when none).
    pub fn connect_text(&self) -> Option<&'a [u8]> {
        match self.kind {
            Kind::Connect => Some(
                self.line
                    .strip_prefix(b"CONNECT")
                    .map(|r| r.strip_prefix(b" ").unwrap_or(r))
                    .unwrap_or_default(),
            ),
            _ => None,
        }
    }
}

fn split_prefixed(line: &[u8]) -> Option<(&[u8], &[u8])> {
    match line.first() {
        Some(b'+' | b'#') => {}
        _ => return None,
    }
    // The prefix runs to the first byte that is not a name byte, which must be the colon.
    let colon = 1 + line.get(1..)?.iter().position(|&b| {
        !(b.is_ascii_alphanumeric() || matches!(b, b'!' | b'%' | b'-' | b'.' | b'/' | b'_'))
    })?;
    if colon < 2 || line.get(colon) != Some(&b':') {
        return None;
    }
    let prefix = line.get(..colon)?;
    let rest = line.get(colon + 1..).unwrap_or_default();
    Some((prefix, rest.strip_prefix(b" ").unwrap_or(rest)))
}

fn error_arg(line: &[u8]) -> Option<&[u8]> {
    let rest = line
        .strip_prefix(b"+CME ERROR:")
        .or_else(|| line.strip_prefix(b"+CMS ERROR:"))
        .or_else(|| line.strip_prefix(b"#CME ERROR:"))?;
    Some(rest.strip_prefix(b" ").unwrap_or(rest))
}

fn digits_u32(b: &[u8]) -> Option<u32> {
    if b.is_empty() || b.len() > 9 || !b.iter().all(u8::is_ascii_digit) {
        return None;
    }
    Some(b.iter().fold(0u32, |v, &d| v * 10 + u32::from(d - b'0')))
}

fn cme_code(arg: &[u8]) -> CmeCode {
    match digits_u32(arg).and_then(|n| u16::try_from(n).ok()) {
        Some(n) => CmeCode::Numeric(n),
        None => CmeCode::Text,
    }
}

impl Kind {
    /// Whether a line of this kind ends a response: a final result code, `CONNECT…` or
    /// `OK_Info_WaitingForData` (each framed alone, ERRATA W1).
    pub const fn ends_response(self) -> bool {
        matches!(self, Kind::Final(_) | Kind::Connect | Kind::WaitingForData)
    }
}

/// The project's one rule for "is this verbose line a final result code": `OK`, `ERROR`,
/// `NO CARRIER`, `BUSY`, `NO ANSWER`, `NO DIALTONE`, `+CME ERROR: …`, `+CMS ERROR: …`, Multi-Tech
/// `#CME ERROR: …` and `OK_Info_WaitingForData`, and `CONNECT`/`CONNECT …` (V.250 §5.7, 000 §2.2,
/// 002). Line without its CR LF; numeric (`ATV0`) codes are the [`Decoder`]'s business.
///
/// ```
/// use at_wire::is_final_line;
/// assert!(is_final_line(b"+CME ERROR: 10"));
/// assert!(is_final_line(b"CONNECT 115200"));
/// assert!(is_final_line(b"#CME ERROR: 38027"));
/// assert!(!is_final_line(b"+QSMTPPUT: 0,0"));
/// assert!(!is_final_line(b"0"));
/// ```
pub fn is_final_line(line: &[u8]) -> bool {
    result_line(line).is_some_and(Kind::ends_response)
}

/// What a verbose result-code line is ([`Kind::Final`], [`Kind::Connect`],
/// [`Kind::WaitingForData`], or [`Kind::Urc`] for `RING`), if it is one; the rule
/// [`is_final_line`] and the [`Decoder`] use.
pub fn result_line(line: &[u8]) -> Option<Kind> {
    result_code(line, false)
}

/// The starts of the final result lines whose tail varies (`+CME ERROR: <err>`,
/// `CONNECT <text>`): every line starting with one of them is a final ([`is_final_line`]).
pub const FINAL_PREFIXES: [&[u8]; 4] =
    [b"CONNECT ", b"+CME ERROR:", b"+CMS ERROR:", b"#CME ERROR:"];

/// Whether every line that starts with `head` is a final result line, whatever follows (for
/// expected lines whose tail is a pattern: `+CME ERROR: {int}`).
pub fn starts_final_line(head: &[u8]) -> bool {
    FINAL_PREFIXES.iter().any(|p| head.starts_with(p))
}

/// Classifies a result-code line, if it is one (not `Echo`/`Info`/`Text`/`Urc`).
fn result_code(line: &[u8], numeric: bool) -> Option<Kind> {
    Some(match line {
        b"OK" => Kind::Final(Final::Ok),
        b"ERROR" => Kind::Final(Final::Error),
        b"NO CARRIER" => Kind::Final(Final::NoCarrier),
        b"BUSY" => Kind::Final(Final::Busy),
        b"NO ANSWER" => Kind::Final(Final::NoAnswer),
        b"NO DIALTONE" => Kind::Final(Final::NoDialtone),
        b"OK_Info_WaitingForData" => Kind::WaitingForData,
        b"RING" => Kind::Urc,
        [d] if numeric => match d {
            b'0' => Kind::Final(Final::Ok),
            b'1' => Kind::Connect,
            b'2' => Kind::Urc,
            b'3' => Kind::Final(Final::NoCarrier),
            b'4' => Kind::Final(Final::Error),
            b'6' => Kind::Final(Final::NoDialtone),
            b'7' => Kind::Final(Final::Busy),
            b'8' => Kind::Final(Final::NoAnswer),
            _ => return None,
        },
        _ if line == b"CONNECT" || line.starts_with(b"CONNECT ") => Kind::Connect,
        _ => {
            if let Some(arg) = line.strip_prefix(b"+CME ERROR:") {
                Kind::Final(Final::CmeError(cme_code(
                    arg.strip_prefix(b" ").unwrap_or(arg),
                )))
            } else if let Some(arg) = line.strip_prefix(b"+CMS ERROR:") {
                Kind::Final(Final::CmsError(cme_code(
                    arg.strip_prefix(b" ").unwrap_or(arg),
                )))
            } else if let Some(arg) = line.strip_prefix(b"#CME ERROR:") {
                match digits_u32(arg.strip_prefix(b" ").unwrap_or(arg)) {
                    Some(n) => Kind::Final(Final::MultiTechCme(n)),
                    None => Kind::Final(Final::MultiTechCmeText),
                }
            } else {
                return None;
            }
        }
    })
}

/// Incremental response-stream decoder (host side). Sans-IO and bounded.
///
/// - mutators: [`expect`](Self::expect) / [`expect_line`](Self::expect_line) /
///   [`expect_ref`](Self::expect_ref) before sending a command line,
///   [`pending_done`](Self::pending_done), [`set_echo`](Self::set_echo)
/// - `handle_*`: [`push`](Self::push) (returns how many bytes it took), [`flush`](Self::flush)
/// - `poll_*`: [`poll_event`](Self::poll_event) until `None`, then push more.
/// - batch: [`decode_with`](Self::decode_with) decodes a whole slice, calling back per event
///   with a [`Control`] to declare the next command from inside the callback;
///   [`decode_all`](Self::decode_all) is the same without it. Lines that arrive whole are
///   decoded in place (events borrow the caller's slice, httparse-style); only a line cut by the
///   end of a slice, or one with NULs, a prompt, a bare CR or over the bound, is copied into the
///   decoder's buffer and goes the `push`/`poll_event` way. Both give the same events for any
///   chunking.
///
/// The buffer is allocated once (`max_line + 2` bytes, up to 64 KiB; beyond that it grows on
/// demand up to the bound); decoding a line allocates nothing.
/// [`expect`](Self::expect) stores the pending command it is given (the one it replaces is freed);
/// [`expect_ref`](Self::expect_ref) copies into storage the decoder keeps (no allocation once
/// grown: the fast path for a host replaying many commands); and
/// [`Event::params`] allocates the parameter list when called.
///
/// ```
/// use at_wire::decoder::{Decoder, DecoderConfig, Final, Kind};
/// let mut dec = Decoder::new(DecoderConfig::default());
/// dec.expect_line(b"AT+QSMTPPUT=300");
/// let stream = b"AT+QSMTPPUT=300\r\r\nOK\r\n\r\n+QSMTPPUT: 0,0\r\n"; // 000 §2.2.7
/// let mut kinds = Vec::new();
/// dec.decode_all(stream, |ev| kinds.push(ev.kind));
/// assert_eq!(kinds, [Kind::Echo, Kind::Final(Final::Ok), Kind::Blank, Kind::Urc]);
/// ```
#[derive(Clone)]
pub struct Decoder {
    cfg: DecoderConfig,
    buf: Vec<u8>,
    cap: usize,
    /// Unprocessed bytes are `buf[start..]`.
    start: usize,
    /// Stream offset of `buf[0]`.
    base: u64,
    /// Bytes of `buf[start..]` already scanned and holding no CR or LF.
    scanned: usize,
    /// Stream offset and NUL count of the current line.
    line_offset: u64,
    nuls: u32,
    /// Discarding an over-long line: bytes discarded so far (the line starts at `line_offset`).
    discarding: Option<u64>,
    /// A finished overflow to report: (line offset, discarded length).
    overflow_done: Option<(u64, u64)>,
    /// The event handed out ends at `buf[consume_to]`; released on the next call.
    consume_to: usize,
    flush_requested: bool,
    /// Something may be ready to poll (set by `push`, `flush` and the mutators; cleared when
    /// `decode_with` has polled to `None`).
    unpolled: bool,
    cmd: Cmd,
}

/// The pending-command state (apart from the line state, so that a [`Control`] can change it
/// while an event borrows the line buffer).
#[derive(Clone, Default)]
struct Cmd {
    slot: Pending,
    /// Prefix buffers released by `expect_ref`, reused before allocating.
    spare: Vec<Vec<u8>>,
    active: bool,
    echo_pending: bool,
    data_mode: bool,
}

impl Cmd {
    fn pending(&self) -> Option<&Pending> {
        self.active.then_some(&self.slot)
    }

    fn expect(&mut self, echo: Echo, pending: Pending) {
        self.echo_pending = echo != Echo::Off && !pending.command.is_empty();
        self.slot = pending;
        self.active = true;
        self.data_mode = false;
    }

    #[inline]
    fn expect_ref(&mut self, echo: Echo, pending: &Pending) {
        self.echo_pending = echo != Echo::Off && !pending.command.is_empty();
        let d = &mut self.slot;
        copy_into(&mut d.command, &pending.command);
        if d.info_prefixes.len() == pending.info_prefixes.len() {
            // Same shape as the last command (the common case): copy in place.
            for (v, src) in d.info_prefixes.iter_mut().zip(&pending.info_prefixes) {
                copy_into(v, src);
            }
            d.expects_prompt = pending.expects_prompt;
            d.enters_data_mode = pending.enters_data_mode;
            self.active = true;
            self.data_mode = false;
        } else {
            self.reshape(pending);
        }
    }

    /// [`expect_ref`](Self::expect_ref) when the prefix count changes.
    #[inline(never)]
    fn reshape(&mut self, pending: &Pending) {
        let d = &mut self.slot;
        // Surplus prefix buffers wait in `spare` for a command with more prefixes.
        while d.info_prefixes.len() > pending.info_prefixes.len() {
            if let Some(v) = d.info_prefixes.pop() {
                self.spare.push(v);
            }
        }
        for (i, src) in pending.info_prefixes.iter().enumerate() {
            match d.info_prefixes.get_mut(i) {
                Some(v) => {
                    v.clear();
                    v.extend_from_slice(src);
                }
                None => {
                    let mut v = self.spare.pop().unwrap_or_default();
                    v.clear();
                    v.extend_from_slice(src);
                    d.info_prefixes.push(v);
                }
            }
        }
        d.expects_prompt = pending.expects_prompt;
        d.enters_data_mode = pending.enters_data_mode;
        self.active = true;
        self.data_mode = false;
    }

    fn done(&mut self) {
        self.active = false;
        self.echo_pending = false;
        self.data_mode = false;
    }

    fn prompt(&self) -> bool {
        self.active && self.slot.expects_prompt
    }

    /// The state change an event of `kind` makes.
    #[inline]
    fn apply(&mut self, kind: Kind) {
        match kind {
            Kind::Echo => self.echo_pending = false,
            Kind::Blank | Kind::Urc | Kind::Overflow { .. } => {}
            Kind::Final(_) => self.done(),
            Kind::Connect | Kind::WaitingForData => {
                self.echo_pending = false;
                self.data_mode = self.active && self.slot.enters_data_mode;
            }
            Kind::Info | Kind::Text | Kind::Prompt => self.echo_pending = false,
        }
    }

    #[inline]
    fn classify(&self, cfg: &DecoderConfig, line: &[u8], term: Terminator) -> Kind {
        if line.is_empty() {
            return Kind::Blank;
        }
        let lone_cr = !term.lf && term.crs > 0;
        if self.echo_pending && self.active {
            let is_echo = line == self.slot.command.as_slice()
                || (cfg.echo == Echo::On
                    && line.get(..2).is_some_and(|a| a.eq_ignore_ascii_case(b"AT")));
            if is_echo {
                return Kind::Echo;
            }
        }
        // Only `+CME ERROR:`/`+CMS ERROR:`/`#CME ERROR:` among result codes start with a sigil.
        let sigil = matches!(line.first(), Some(b'+' | b'#'));
        if (!sigil || matches!(line.get(1..4), Some(b"CME" | b"CMS")))
            && let Some(k) = result_code(line, cfg.numeric_codes || lone_cr)
        {
            return k;
        }
        if !sigil {
            return if self.active { Kind::Text } else { Kind::Urc };
        }
        if !self.active {
            return Kind::Urc;
        }
        // Fast path: the line starts with one of the pending command's prefixes, as sent.
        for q in &self.slot.info_prefixes {
            if line.get(q.len()) == Some(&b':') && line.get(..q.len()) == Some(q.as_slice()) {
                return Kind::Info;
            }
        }
        match split_prefixed(line) {
            Some((prefix, _))
                if self
                    .slot
                    .info_prefixes
                    .iter()
                    .any(|q| q.eq_ignore_ascii_case(prefix)) =>
            {
                Kind::Info
            }
            Some(_) => Kind::Urc,
            None => Kind::Text,
        }
    }
}

/// `*d = src` in `d`'s storage.
#[inline]
fn copy_into(d: &mut Vec<u8>, src: &[u8]) {
    d.clear();
    d.extend_from_slice(src);
}

/// The host's side of a [`Decoder`] inside a [`Decoder::decode_with`] callback: declare the
/// next command as soon as the previous one's final result code arrives.
pub struct Control<'a> {
    cfg: &'a mut DecoderConfig,
    cmd: &'a mut Cmd,
}

impl fmt::Debug for Control<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Control")
            .field("pending", &self.cmd.pending())
            .finish_non_exhaustive()
    }
}

impl Control<'_> {
    /// The pending command, if any.
    pub fn pending(&self) -> Option<&Pending> {
        self.cmd.pending()
    }

    /// As [`Decoder::in_data_mode`].
    pub fn in_data_mode(&self) -> bool {
        self.cmd.data_mode
    }

    /// As [`Decoder::expect`].
    pub fn expect(&mut self, pending: Pending) {
        self.cmd.expect(self.cfg.echo, pending);
    }

    /// As [`Decoder::expect_ref`] (no allocation once grown).
    #[inline]
    pub fn expect_ref(&mut self, pending: &Pending) {
        self.cmd.expect_ref(self.cfg.echo, pending);
    }

    /// As [`Decoder::expect_line`].
    pub fn expect_line(&mut self, command: &[u8]) {
        let p = Pending::infer(command, self.cfg);
        self.cmd.expect(self.cfg.echo, p);
    }

    /// As [`Decoder::pending_done`].
    pub fn pending_done(&mut self) {
        self.cmd.done();
    }

    /// As [`Decoder::set_echo`].
    pub fn set_echo(&mut self, echo: Echo) {
        self.cfg.echo = echo;
    }
}

impl fmt::Debug for Decoder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Decoder")
            .field("cfg", &self.cfg)
            .field(
                "buffered",
                &(self.buf.len() - self.start.min(self.buf.len())),
            )
            .field("offset", &self.offset())
            .field("pending", &self.pending())
            .finish_non_exhaustive()
    }
}

/// Bytes below 14 (NUL … CR, so CR and LF among them), one high bit per byte of a 16-byte word.
#[inline(always)]
fn below_14(w: u128) -> u128 {
    const LO: u128 = u128::from_le_bytes([0x01; 16]);
    const HI: u128 = u128::from_le_bytes([0x80; 16]);
    // Exact per byte: no carry crosses a byte ((b & 0x7f) + 0x72 < 0x100).
    !(((w & !HI) + 0x72 * LO) | w) & HI
}

/// The first CR or LF at or after `i`, 16 bytes at a time: lines are short (8 bytes on
/// average), so one word usually holds the whole line, and a `memchr2` call per line costs more
/// than it saves.
#[inline(always)]
fn find_cr_lf(hay: &[u8], mut i: usize) -> Option<usize> {
    while let Some(word) = hay.get(i..).and_then(|s| s.first_chunk::<16>()) {
        let mut m = below_14(u128::from_le_bytes(*word));
        while m != 0 {
            let j = i + (m.trailing_zeros() / 8) as usize;
            if matches!(hay.get(j), Some(b'\r' | b'\n')) {
                return Some(j);
            }
            m &= m - 1;
        }
        i += 16;
    }
    let tail = hay.get(i..)?;
    tail.iter()
        .position(|&b| b == b'\r' || b == b'\n')
        .map(|k| i + k)
}

impl Decoder {
    /// A decoder with the given settings.
    pub fn new(mut cfg: DecoderConfig) -> Self {
        // A bound shorter than the prompt would let `> ` escape both the bound and the
        // event tiling (found by cargo-fuzz, see tests/fuzz_regressions.rs).
        cfg.max_line = cfg.max_line.max(MIN_MAX_LINE);
        let cap = cfg.max_line.saturating_add(2);
        Decoder {
            // Reserve up front (no growth while decoding) unless the bound is huge.
            buf: Vec::with_capacity(cap.min(1 << 16)),
            cap,
            cfg,
            start: 0,
            base: 0,
            scanned: 0,
            line_offset: 0,
            nuls: 0,
            discarding: None,
            overflow_done: None,
            consume_to: 0,
            flush_requested: false,
            unpolled: false,
            cmd: Cmd::default(),
        }
    }

    /// The settings.
    pub fn config(&self) -> &DecoderConfig {
        &self.cfg
    }

    /// The pending command, if any.
    pub fn pending(&self) -> Option<&Pending> {
        self.cmd.pending()
    }

    /// Whether a `CONNECT`/`OK_Info_WaitingForData` for a data-mode command was seen and its final
    /// result code is still to come.
    pub fn in_data_mode(&self) -> bool {
        self.cmd.data_mode
    }

    /// Stream offset of the next byte to be pushed.
    pub fn offset(&self) -> u64 {
        self.base + self.buf.len() as u64
    }

    /// Changes echo handling (after `ATE0`/`ATE1`).
    pub fn set_echo(&mut self, echo: Echo) {
        self.cfg.echo = echo;
        self.unpolled = true;
    }

    /// Declares the command now being sent.
    pub fn expect(&mut self, pending: Pending) {
        self.cmd.expect(self.cfg.echo, pending);
        self.unpolled = true;
    }

    /// [`expect`](Self::expect) with [`Pending::infer`].
    pub fn expect_line(&mut self, command: &[u8]) {
        let p = Pending::infer(command, &self.cfg);
        self.expect(p);
    }

    /// Declares the command now being sent, copying `pending` into storage the decoder keeps
    /// (no allocation once the buffers have grown).
    pub fn expect_ref(&mut self, pending: &Pending) {
        self.cmd.expect_ref(self.cfg.echo, pending);
        self.unpolled = true;
    }

    /// Forgets the pending command (e.g. after a timeout).
    pub fn pending_done(&mut self) {
        self.cmd.done();
        self.unpolled = true;
    }

    /// Takes as many bytes as fit in the buffer; returns how many. Call
    /// [`poll_event`](Self::poll_event) until `None` before pushing the rest.
    pub fn push(&mut self, bytes: &[u8]) -> usize {
        self.unpolled = true;
        self.release();
        if self.start > 0 {
            self.buf.drain(..self.start);
            self.base += self.start as u64;
            self.consume_to = self.consume_to.saturating_sub(self.start);
            self.start = 0;
        }
        let mut taken = 0;
        // Discarding an over-long line (the buffer is empty): skip to its LF without buffering.
        if let Some(n) = self.discarding {
            match memchr::memchr(b'\n', bytes) {
                Some(p) => {
                    self.discarding = None;
                    self.overflow_done = Some((self.line_offset, n + p as u64 + 1));
                    taken = p + 1;
                }
                None => {
                    self.discarding = Some(n + bytes.len() as u64);
                    taken = bytes.len();
                }
            }
            self.base += taken as u64;
            if self.discarding.is_some() {
                return taken;
            }
        }
        let rest = bytes.get(taken..).unwrap_or_default();
        let room = self.cap.saturating_sub(self.buf.len());
        let n = rest.len().min(room);
        self.buf
            .extend_from_slice(rest.get(..n).unwrap_or_default());
        taken + n
    }

    /// Ends a held line at the end of the input (a trailing CR run or a partial line), e.g. when
    /// the caller decides the module has gone quiet. The next [`poll_event`](Self::poll_event)
    /// returns it.
    pub fn flush(&mut self) {
        self.flush_requested = true;
        self.unpolled = true;
    }

    /// Decodes all of `bytes`, calling `f` for every event (no [`Control`]; see
    /// [`decode_with`](Self::decode_with)).
    pub fn decode_all(&mut self, bytes: &[u8], mut f: impl FnMut(Event<'_>)) {
        self.decode_with(bytes, |ev, _| f(ev));
    }

    /// Decodes all of `bytes`, calling `f` for every event with a [`Control`] to declare the
    /// next command (e.g. when a final result code arrives). Events already buffered by
    /// [`push`](Self::push) come first; an unfinished line at the end stays buffered for the
    /// next call (or [`flush`](Self::flush) then `decode_with(&[], …)`). Gives the same events
    /// as `push` + [`poll_event`](Self::poll_event) for any chunking; lines that arrive whole
    /// borrow `bytes` instead of being copied.
    ///
    /// ```
    /// use at_wire::decoder::{Decoder, DecoderConfig, Kind, Pending};
    /// let cfg = DecoderConfig::default();
    /// let cmds = [Pending::infer(b"AT+QSMTPDST?", &cfg), Pending::infer(b"AT", &cfg)];
    /// let mut dec = Decoder::new(cfg);
    /// dec.expect_ref(&cmds[0]);
    /// let mut next = 1;
    /// let mut info = 0;
    /// // 000 §2.2.2, echo off, W1 framing; then `AT`'s answer.
    /// let stream = b"\r\n+QSMTPDST: 1,\"a@b.cn\"\r\n\r\nOK\r\n\r\nOK\r\n";
    /// dec.decode_with(stream, |ev, ctl| {
    ///     info += usize::from(ev.kind == Kind::Info);
    ///     if matches!(ev.kind, Kind::Final(_)) && let Some(p) = cmds.get(next) {
    ///         ctl.expect_ref(p);
    ///         next += 1;
    ///     }
    /// });
    /// assert_eq!((info, next), (1, 2));
    /// assert!(dec.pending().is_none());
    /// ```
    pub fn decode_with(
        &mut self,
        mut bytes: &[u8],
        mut f: impl FnMut(Event<'_>, &mut Control<'_>),
    ) {
        if self.flush_requested {
            // A requested flush ends the first push's partial line: the pull loop exactly.
            loop {
                let n = self.push(bytes);
                bytes = bytes.get(n..).unwrap_or_default();
                self.drain(&mut f);
                if bytes.is_empty() {
                    return;
                }
            }
        }
        if self.unpolled {
            self.drain(&mut f);
        }
        loop {
            if self.idle() {
                let n = self.direct(bytes, &mut f);
                bytes = bytes.get(n..).unwrap_or_default();
            }
            if bytes.is_empty() {
                return;
            }
            if let Some(n) = self.join(bytes, &mut f) {
                bytes = bytes.get(n..).unwrap_or_default();
                continue;
            }
            // The buffered path takes the line the direct path stopped at (or the rest of one
            // held from before), up to its LF.
            let end = memchr::memchr(b'\n', bytes).map_or(bytes.len(), |p| p + 1);
            let n = self.push(bytes.get(..end).unwrap_or_default());
            bytes = bytes.get(n..).unwrap_or_default();
            self.drain(&mut f);
        }
    }

    /// Finishes a held partial line with the start of `bytes` when both parts are plain (no
    /// CR or LF held, no prompt, ends at LF or CR LF within the bound), as `push` +
    /// `poll_event` would, and empties the buffer; returns the bytes of `bytes` consumed.
    #[inline]
    fn join(
        &mut self,
        bytes: &[u8],
        f: &mut impl FnMut(Event<'_>, &mut Control<'_>),
    ) -> Option<usize> {
        self.release();
        let held = self.buf.len().checked_sub(self.start)?;
        if held == 0
            || self.scanned != held
            || self.discarding.is_some()
            || self.overflow_done.is_some()
            || self.flush_requested
            || self.unpolled
            || (self.cmd.prompt() && self.buf.get(self.start) == Some(&b'>'))
        {
            return None;
        }
        let p = find_cr_lf(bytes, 0)?;
        let (crs, next): (u32, usize) = match (bytes.get(p), bytes.get(p + 1)) {
            (Some(b'\n'), _) => (0, p + 1),
            (_, Some(b'\n')) => (1, p + 2),
            _ => return None,
        };
        let content = held + p;
        if content + crs as usize > self.cfg.max_line {
            return None;
        }
        if self.start > 0 {
            self.buf.drain(..self.start);
            self.base += self.start as u64;
            self.start = 0;
        }
        self.buf
            .extend_from_slice(bytes.get(..p).unwrap_or_default());
        let term = Terminator { crs, lf: true };
        let line = self.buf.get(..content).unwrap_or_default();
        let kind = self.cmd.classify(&self.cfg, line, term);
        self.cmd.apply(kind);
        let ev = Event {
            kind,
            line,
            offset: self.line_offset,
            leading_nul: self.nuls,
            term,
        };
        f(
            ev,
            &mut Control {
                cfg: &mut self.cfg,
                cmd: &mut self.cmd,
            },
        );
        // The line took the whole buffer and `next` bytes of the input.
        self.base += (held + next) as u64;
        self.buf.clear();
        self.consume_to = 0;
        self.scanned = 0;
        self.nuls = 0;
        self.line_offset = self.base;
        Some(next)
    }

    /// Polls every buffered event into `f`.
    fn drain(&mut self, f: &mut impl FnMut(Event<'_>, &mut Control<'_>)) {
        while let Some(ev) = self.poll_event() {
            // Every event's line starts at `start` until the next call releases it (an
            // overflow's is empty): rebuild it to lend the command state out alongside.
            let (kind, len, offset, leading_nul, term) =
                (ev.kind, ev.line.len(), ev.offset, ev.leading_nul, ev.term);
            let ev = Event {
                kind,
                line: self
                    .buf
                    .get(self.start..self.start + len)
                    .unwrap_or_default(),
                offset,
                leading_nul,
                term,
            };
            let mut ctl = Control {
                cfg: &mut self.cfg,
                cmd: &mut self.cmd,
            };
            f(ev, &mut ctl);
        }
        self.unpolled = false;
    }

    /// Whether no line is in hand (nothing buffered, no NULs counted, no overflow under way);
    /// if so, empties the buffer so that `base` is the offset of the next byte.
    fn idle(&mut self) -> bool {
        self.release();
        let idle = self.start >= self.buf.len()
            && self.nuls == 0
            && self.discarding.is_none()
            && self.overflow_done.is_none()
            && !self.flush_requested;
        if idle && !self.buf.is_empty() {
            self.base += self.buf.len() as u64;
            self.buf.clear();
            self.start = 0;
            self.consume_to = 0;
            self.scanned = 0;
            self.line_offset = self.base;
        }
        idle
    }

    /// Decodes whole lines in place from `hay` while the decoder is idle; returns the bytes
    /// consumed. Stops at the first line that needs the buffered path: leading NUL, a prompt,
    /// a CR not followed by LF, over the bound, or not finished in `hay`.
    #[inline]
    fn direct(&mut self, hay: &[u8], f: &mut impl FnMut(Event<'_>, &mut Control<'_>)) -> usize {
        let max = self.cfg.max_line;
        let mut pos = 0;
        while let Some(&b0) = hay.get(pos) {
            if b0 == b'\r' && hay.get(pos + 1) == Some(&b'\n') {
                // A blank line (W1 puts one before every block): no state change.
                let ev = Event {
                    kind: Kind::Blank,
                    line: &[],
                    offset: self.base + pos as u64,
                    leading_nul: 0,
                    term: Terminator::CRLF,
                };
                f(
                    ev,
                    &mut Control {
                        cfg: &mut self.cfg,
                        cmd: &mut self.cmd,
                    },
                );
                pos += 2;
                continue;
            }
            let (end, term, next) = {
                if b0 == 0 || (b0 == b'>' && self.cmd.prompt()) {
                    break;
                }
                let Some(p) = find_cr_lf(hay, pos) else {
                    // The rest is the start of a line with no CR or LF yet.
                    let tail = hay.len() - pos;
                    self.base += pos as u64;
                    self.line_offset = self.base;
                    if tail <= max {
                        // Exactly what `push` + `poll_event` make of it (a held partial line,
                        // already scanned), without the polling.
                        self.buf
                            .extend_from_slice(hay.get(pos..).unwrap_or_default());
                        self.scanned = tail;
                        return hay.len();
                    }
                    return pos;
                };
                let (crs, next) = match (hay.get(p), hay.get(p + 1)) {
                    (Some(b'\n'), _) => (0, p + 1),
                    (_, Some(b'\n')) => (1, p + 2),
                    _ => break,
                };
                if p - pos + crs > max {
                    break;
                }
                (
                    p,
                    Terminator {
                        crs: crs as u32,
                        lf: true,
                    },
                    next,
                )
            };
            let line = hay.get(pos..end).unwrap_or_default();
            let kind = if line == b"OK" && !self.cmd.echo_pending {
                Kind::Final(Final::Ok)
            } else {
                self.cmd.classify(&self.cfg, line, term)
            };
            self.cmd.apply(kind);
            let ev = Event {
                kind,
                line,
                offset: self.base + pos as u64,
                leading_nul: 0,
                term,
            };
            f(
                ev,
                &mut Control {
                    cfg: &mut self.cfg,
                    cmd: &mut self.cmd,
                },
            );
            pos = next;
        }
        self.base += pos as u64;
        self.line_offset = self.base;
        pos
    }

    fn release(&mut self) {
        if self.consume_to > self.start {
            self.start = self.consume_to;
            self.scanned = 0;
        }
    }

    /// The next event, if a complete line is buffered.
    pub fn poll_event(&mut self) -> Option<Event<'_>> {
        self.release();
        if let Some((offset, len)) = self.overflow_done.take() {
            self.line_offset = self.base + self.start as u64;
            self.nuls = 0;
            self.scanned = 0;
            return Some(Event {
                kind: Kind::Overflow { len },
                line: &[],
                offset,
                leading_nul: 0,
                term: Terminator::default(),
            });
        }
        if let Some(n) = self.discarding {
            if self.flush_requested {
                // The caller says the input has ended: report the over-long line so far.
                self.flush_requested = false;
                self.discarding = None;
                self.overflow_done = Some((self.line_offset, n));
                return self.poll_event();
            }
            return None;
        }
        // Leading NULs.
        while self.buf.get(self.start) == Some(&0) {
            if self.nuls == 0 {
                self.line_offset = self.base + self.start as u64;
            }
            self.nuls = self.nuls.saturating_add(1);
            self.start += 1;
        }
        let avail_len = self.buf.len() - self.start;
        if avail_len == 0 {
            self.flush_requested = false;
            return None;
        }
        if self.nuls == 0 {
            self.line_offset = self.base + self.start as u64;
        }
        let avail = self.buf.get(self.start..).unwrap_or_default();
        if self.cmd.prompt() && avail.first() == Some(&b'>') {
            match avail.get(1) {
                Some(b' ') => return Some(self.emit(Kind::Prompt, 2, 2, Terminator::default())),
                None if !self.flush_requested => return None,
                _ => {}
            }
        }
        // Fast path: a blank CRLF line (W1 puts one before every block).
        if avail.get(..2) == Some(b"\r\n") {
            return Some(self.emit(Kind::Blank, 0, 2, Terminator::CRLF));
        }
        // Find the end of the line.
        let hay = avail.get(self.scanned..).unwrap_or_default();
        let Some(p) = memchr::memchr2(b'\r', b'\n', hay).map(|p| p + self.scanned) else {
            self.scanned = avail_len;
            if self.flush_requested {
                self.flush_requested = false;
                return self.finish_line(avail_len, 0, false, avail_len);
            }
            return self.check_partial(avail_len);
        };
        if avail.get(p) == Some(&b'\n') {
            // No CR right before: a CR would have been found first.
            return self.finish_line(p, 0, true, p + 1);
        }
        if avail.get(p + 1) == Some(&b'\n') {
            return self.finish_line(p, 1, true, p + 2);
        }
        let run = avail
            .get(p..)
            .unwrap_or_default()
            .iter()
            .position(|&b| b != b'\r');
        match run {
            None => {
                // The CR run reaches the end of the input: wait for the next byte (or flush).
                self.scanned = p;
                if self.flush_requested {
                    self.flush_requested = false;
                    return self.finish_line(p, avail_len - p, false, avail_len);
                }
                self.check_partial(avail_len)
            }
            Some(crs) => {
                let q = p + crs;
                let lf = avail.get(q) == Some(&b'\n');
                self.finish_line(p, crs, lf, q + usize::from(lf))
            }
        }
    }

    /// No line end yet among `len` buffered bytes: over-long already?
    fn check_partial(&mut self, len: usize) -> Option<Event<'_>> {
        if len > self.cfg.max_line {
            return self.start_discard(len);
        }
        None
    }

    /// Drops the current line's first `upto` bytes and everything up to the next LF.
    fn start_discard(&mut self, upto: usize) -> Option<Event<'_>> {
        let discarded = u64::from(self.nuls) + upto as u64;
        self.start += upto;
        self.scanned = 0;
        let avail = self.buf.get(self.start..).unwrap_or_default();
        match memchr::memchr(b'\n', avail) {
            Some(p) => {
                self.start += p + 1;
                self.overflow_done = Some((self.line_offset, discarded + p as u64 + 1));
                self.poll_event()
            }
            None => {
                let n = avail.len();
                self.start += n;
                self.discarding = Some(discarded + n as u64);
                None
            }
        }
    }

    /// A line of `content` bytes (after NULs) followed by `crs` CRs and maybe an LF; `next` is
    /// the index (relative to `start`) after the terminator.
    fn finish_line(
        &mut self,
        content: usize,
        crs: usize,
        lf: bool,
        next: usize,
    ) -> Option<Event<'_>> {
        if content + crs > self.cfg.max_line {
            if lf {
                self.overflow_done = Some((self.line_offset, u64::from(self.nuls) + next as u64));
                self.start += next;
                return self.poll_event();
            }
            return self.start_discard(next);
        }
        let term = Terminator {
            crs: u32::try_from(crs).unwrap_or(u32::MAX),
            lf,
        };
        let line = self
            .buf
            .get(self.start..self.start + content)
            .unwrap_or_default();
        let kind = self.cmd.classify(&self.cfg, line, term);
        Some(self.emit(kind, content, next, term))
    }

    fn emit(&mut self, kind: Kind, content: usize, next: usize, term: Terminator) -> Event<'_> {
        self.cmd.apply(kind);
        let offset = self.line_offset;
        let leading_nul = self.nuls;
        let begin = self.start;
        self.consume_to = self.start + next;
        self.line_offset = self.base + self.consume_to as u64;
        self.nuls = 0;
        self.scanned = 0;
        Event {
            kind,
            line: self.buf.get(begin..begin + content).unwrap_or_default(),
            offset,
            leading_nul,
            term,
        }
    }
}
