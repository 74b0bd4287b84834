//! Command lines, host → module: typed model, parser, encoder.
//!
//! Grammar (000 §2.1.2, table 2; V.250 §5.3 basic/extended syntax as the manuals use it):
//!
//! ```text
//! line      = prefix *command            ; terminating CR not included
//! prefix    = ("A" / "a") ("T" / "t")
//! command   = basic / sreg / dial / extended [";"]
//! basic     = ["&"] letter [digits]       ; E0 E1 &D1 O I V0 V1 Z &F …
//! sreg      = ("S"/"s") digits ("?" / "=?" / "=" digits)
//! dial      = ("D"/"d") *any              ; to the end of the line
//! extended  = ("+" / "#") name ["=?" / "?" / "=" params]
//! ```
//!
//! `;` after a basic command is accepted but not canonical; the encoder writes `;` only
//! between an extended command and the next command. Spaces outside strings are not accepted
//! (no manual prints one).

use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;

use crate::error::{ErrorKind, ParseError};
use crate::param::{Ctx, Param, encode_params, parse_params_ctx, push_u64};
use crate::redact::Redacted;

/// The `AT` prefix exactly as typed (000 §2.1.2: "前缀 AT 或 at").
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum Prefix {
    /// `AT`
    #[default]
    Upper,
    /// `at`
    Lower,
    /// `At`
    UpperLower,
    /// `aT`
    LowerUpper,
}

impl Prefix {
    /// The two prefix bytes.
    pub const fn as_bytes(self) -> &'static [u8; 2] {
        match self {
            Prefix::Upper => b"AT",
            Prefix::Lower => b"at",
            Prefix::UpperLower => b"At",
            Prefix::LowerUpper => b"aT",
        }
    }
    /// Recognises a prefix from its two bytes.
    pub const fn from_bytes(a: u8, t: u8) -> Option<Prefix> {
        match (a, t) {
            (b'A', b'T') => Some(Prefix::Upper),
            (b'a', b't') => Some(Prefix::Lower),
            (b'A', b't') => Some(Prefix::UpperLower),
            (b'a', b'T') => Some(Prefix::LowerUpper),
            _ => None,
        }
    }
}

/// A whole command line: prefix and zero or more commands (`AT` alone has none).
///
/// `Debug` shows the encoded line with credentials redacted ([`crate::redact`]).
#[derive(Clone, PartialEq, Eq, Hash, Default)]
pub struct CommandLine {
    /// The prefix as typed.
    pub prefix: Prefix,
    /// The commands, in order (`;`-concatenated extended commands, run-on basic commands).
    pub commands: Vec<Command>,
}

/// One command of a command line.
///
/// `Debug` shows the encoded command with credentials redacted ([`crate::redact`]).
#[derive(Clone, PartialEq, Eq, Hash)]
pub enum Command {
    /// Basic command: `E0`, `E1`, `&D1`, `O`, `I`, `V0`, `V1`, `Z`, `&F`, …
    Basic {
        /// Whether the command is `&`-prefixed (`&D1`).
        amp: bool,
        /// The command letter as typed (any ASCII letter except `D`; `S` only without `?`/`=`).
        letter: u8,
        /// The number after the letter, if any (`E` alone has none; V.250 reads it as 0).
        value: Option<u32>,
    },
    /// S-parameter access: `S0?`, `S0=?`, `S7=60`.
    SRegister {
        /// `S` or `s` as typed.
        letter: u8,
        /// Register number.
        index: u32,
        /// Read, test or write.
        op: SRegOp,
    },
    /// Dial command `D…`: the rest of the line, raw.
    Dial {
        /// `D` or `d` as typed.
        letter: u8,
        /// Everything after the letter up to the end of the line.
        dial: Vec<u8>,
    },
    /// Extended command with `+` (Quectel, 000 §2.2) or `#` (Multi-Tech, 002) sigil.
    Extended {
        /// `b'+'` or `b'#'`.
        sigil: u8,
        /// The name after the sigil, as typed (`QSMTPCFG`, `qsmtpcfg`, `PUTMAIL`).
        name: String,
        /// Test, read, set or execute (000 §2.1.2 table 2).
        form: Form,
    },
}

/// What an S-parameter command does.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SRegOp {
    /// `S<n>?`
    Read,
    /// `S<n>=?`
    Test,
    /// `S<n>=<value>`
    Set(u32),
}

/// The four forms of an extended command (000 §2.1.2 table 2).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Form {
    /// `AT+<cmd>=?`
    Test,
    /// `AT+<cmd>?`
    Read,
    /// `AT+<cmd>=<p1>[,<p2>[,...]]`; always at least one parameter (`AT+X=` is one `Omitted`).
    Set(Vec<Param>),
    /// `AT+<cmd>`
    Execute,
}

impl Command {
    /// An extended `+` command (convenience for tests and the host side).
    pub fn plus(name: &str, form: Form) -> Command {
        Command::Extended {
            sigil: b'+',
            name: name.into(),
            form,
        }
    }

    /// Case-insensitive name match: `"QSMTPCFG"` for `+QSMTPCFG`/`#QSMTPCFG`, `"E"` for `E0`,
    /// `"&D"` for `&D1`, `"S"` for S-parameters, `"D"` for dial.
    pub fn name_eq(&self, name: &str) -> bool {
        let n = name.as_bytes();
        match self {
            Command::Extended { name: own, .. } => own.as_bytes().eq_ignore_ascii_case(n),
            Command::Basic { amp, letter, .. } => match (amp, n) {
                (false, [l]) | (true, [b'&', l]) => letter.eq_ignore_ascii_case(l),
                _ => false,
            },
            Command::SRegister { .. } => n.eq_ignore_ascii_case(b"S"),
            Command::Dial { .. } => n.eq_ignore_ascii_case(b"D"),
        }
    }

    /// The form of an extended command.
    pub fn form(&self) -> Option<&Form> {
        match self {
            Command::Extended { form, .. } => Some(form),
            _ => None,
        }
    }

    /// The parameters of an extended set command (empty for anything else).
    pub fn params(&self) -> &[Param] {
        match self {
            Command::Extended {
                form: Form::Set(p), ..
            } => p,
            _ => &[],
        }
    }

    /// Parameter `i` of a set command; `None` past the end (callers treat that like omitted).
    pub fn param(&self, i: usize) -> Option<&Param> {
        self.params().get(i)
    }

    /// Appends the command's bytes (without any `;` separator).
    pub fn encode(&self, out: &mut Vec<u8>) {
        match self {
            Command::Basic { amp, letter, value } => {
                if *amp {
                    out.push(b'&');
                }
                out.push(*letter);
                if let Some(v) = value {
                    push_u64(out, u64::from(*v));
                }
            }
            Command::SRegister { letter, index, op } => {
                out.push(*letter);
                push_u64(out, u64::from(*index));
                match op {
                    SRegOp::Read => out.push(b'?'),
                    SRegOp::Test => out.extend_from_slice(b"=?"),
                    SRegOp::Set(v) => {
                        out.push(b'=');
                        push_u64(out, u64::from(*v));
                    }
                }
            }
            Command::Dial { letter, dial } => {
                out.push(*letter);
                out.extend_from_slice(dial);
            }
            Command::Extended { sigil, name, form } => {
                out.push(*sigil);
                out.extend_from_slice(name.as_bytes());
                match form {
                    Form::Test => out.extend_from_slice(b"=?"),
                    Form::Read => out.push(b'?'),
                    Form::Set(params) => {
                        out.push(b'=');
                        encode_params(params, out);
                    }
                    Form::Execute => {}
                }
            }
        }
    }
}

impl CommandLine {
    /// Appends the line's bytes, without the terminating CR.
    pub fn encode(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(self.prefix.as_bytes());
        let mut prev_extended = false;
        for cmd in &self.commands {
            if prev_extended {
                out.push(b';');
            }
            cmd.encode(out);
            prev_extended = matches!(cmd, Command::Extended { .. });
        }
    }

    /// The line's bytes, without the terminating CR.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::new();
        self.encode(&mut out);
        out
    }

    /// The only command of the line, if it has exactly one.
    pub fn single(&self) -> Option<&Command> {
        match self.commands.as_slice() {
            [c] => Some(c),
            _ => None,
        }
    }
}

impl fmt::Debug for CommandLine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CommandLine({:?})", Redacted(&self.to_bytes()))
    }
}

impl fmt::Debug for Command {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut bytes = Vec::new();
        self.encode(&mut bytes);
        write!(f, "Command({:?})", Redacted(&bytes))
    }
}

/// Strips one trailing line ending (`\r\n`, `\r` or `\n`) if present.
pub fn strip_line_end(line: &[u8]) -> &[u8] {
    let l = line.strip_suffix(b"\n").unwrap_or(line);
    l.strip_suffix(b"\r").unwrap_or(l)
}

/// Parses a command line given WITHOUT its terminating CR (see [`strip_line_end`]).
///
/// Offsets in errors index `line`.
///
/// ```
/// use at_wire::{parse_command_line, Form, Param};
/// let line = parse_command_line(br#"AT+QSMTPDST=1,1,"quectel_test@aol.com""#).unwrap();
/// let cmd = line.single().unwrap();
/// assert!(cmd.name_eq("qsmtpdst"));
/// assert_eq!(cmd.param(0).and_then(Param::as_int), Some(1));
/// assert_eq!(line.to_bytes(), br#"AT+QSMTPDST=1,1,"quectel_test@aol.com""#);
///
/// let err = parse_command_line(br#"AT+QFLST="RAM: "*""#).unwrap_err(); // ERRATA E1
/// assert_eq!(err.offset, 16); // the `*` after the closing quote
/// ```
pub fn parse_command_line(line: &[u8]) -> Result<CommandLine, ParseError> {
    let prefix = match line {
        [a, t, ..] => Prefix::from_bytes(*a, *t),
        _ => None,
    }
    .ok_or(ParseError::new(0, ErrorKind::MissingPrefix))?;
    let mut commands = Vec::new();
    let mut i = 2;
    while let Some(&b) = line.get(i) {
        let (cmd, next) = match b {
            b'+' | b'#' => parse_extended(line, i)?,
            b'&' => {
                let letter = match line.get(i + 1) {
                    Some(&l) if l.is_ascii_alphabetic() => l,
                    _ => return Err(ParseError::new(i + 1, ErrorKind::UnexpectedByte)),
                };
                let (value, next) = parse_digits(line, i + 2)?;
                (
                    Command::Basic {
                        amp: true,
                        letter,
                        value,
                    },
                    next,
                )
            }
            b'D' | b'd' => (
                Command::Dial {
                    letter: b,
                    dial: line.get(i + 1..).unwrap_or_default().to_vec(),
                },
                line.len(),
            ),
            b'S' | b's' => parse_s(line, i)?,
            l if l.is_ascii_alphabetic() => {
                let (value, next) = parse_digits(line, i + 1)?;
                (
                    Command::Basic {
                        amp: false,
                        letter: l,
                        value,
                    },
                    next,
                )
            }
            _ => return Err(ParseError::new(i, ErrorKind::UnexpectedByte)),
        };
        let extended = matches!(cmd, Command::Extended { .. });
        commands.push(cmd);
        i = next;
        match line.get(i) {
            None => {}
            Some(b';') => i += 1,
            Some(_) if extended => return Err(ParseError::new(i, ErrorKind::ExpectedSeparator)),
            Some(_) => {}
        }
    }
    Ok(CommandLine { prefix, commands })
}

/// Optional decimal digits at `i`.
fn parse_digits(line: &[u8], i: usize) -> Result<(Option<u32>, usize), ParseError> {
    let mut j = i;
    let mut v: u32 = 0;
    while let Some(&d) = line.get(j) {
        if !d.is_ascii_digit() {
            break;
        }
        v = v
            .checked_mul(10)
            .and_then(|v| v.checked_add(u32::from(d - b'0')))
            .ok_or(ParseError::new(i, ErrorKind::NumberTooLarge))?;
        j += 1;
    }
    Ok(((j > i).then_some(v), j))
}

fn parse_s(line: &[u8], i: usize) -> Result<(Command, usize), ParseError> {
    let letter = line.get(i).copied().unwrap_or(b'S');
    let (index, j) = parse_digits(line, i + 1)?;
    let op = match (index, line.get(j), line.get(j + 1)) {
        (Some(_), Some(b'?'), _) => Some((SRegOp::Read, j + 1)),
        (Some(_), Some(b'='), Some(b'?')) => Some((SRegOp::Test, j + 2)),
        (Some(_), Some(b'='), _) => match parse_digits(line, j + 1)? {
            (Some(v), k) => Some((SRegOp::Set(v), k)),
            (None, _) => return Err(ParseError::new(j + 1, ErrorKind::BadSRegister)),
        },
        _ => None,
    };
    Ok(match (op, index) {
        (Some((op, next)), Some(index)) => (Command::SRegister { letter, index, op }, next),
        // `S` without `?`/`=`: an ordinary basic command.
        _ => (
            Command::Basic {
                amp: false,
                letter,
                value: index,
            },
            j,
        ),
    })
}

fn is_name_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'!' | b'%' | b'-' | b'.' | b'/' | b':' | b'_')
}

fn parse_extended(line: &[u8], i: usize) -> Result<(Command, usize), ParseError> {
    let sigil = line.get(i).copied().unwrap_or(b'+');
    let mut j = i + 1;
    while line.get(j).is_some_and(|&b| is_name_byte(b)) {
        j += 1;
    }
    if j == i + 1 {
        return Err(ParseError::new(j, ErrorKind::EmptyName));
    }
    // Name bytes are ASCII, so this cannot fail.
    let name = core::str::from_utf8(line.get(i + 1..j).unwrap_or_default())
        .unwrap_or_default()
        .into();
    let (form, next) = match (line.get(j), line.get(j + 1)) {
        (Some(b'='), Some(b'?')) => (Form::Test, j + 2),
        (Some(b'?'), _) => (Form::Read, j + 1),
        (Some(b'='), _) => {
            let (params, next) = parse_params_ctx(line, j + 1, Ctx::Command)?;
            (Form::Set(params), next)
        }
        (None | Some(b';'), _) => (Form::Execute, j),
        (Some(_), _) => return Err(ParseError::new(j, ErrorKind::UnexpectedByte)),
    };
    Ok((Command::Extended { sigil, name, form }, next))
}
