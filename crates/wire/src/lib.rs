//! Sans-IO grammar of AT command lines, response streams and data-mode framing.
//!
//! This crate is the byte-exact foundation of atconform: a pure library with no I/O, no clock
//! and no threads. Time is an argument ([`Instant`]), bytes are arguments, and every decoder is
//! bounded and never panics on input.
//!
//! - [`command`]: command lines host → module — typed model ([`CommandLine`], [`Command`],
//!   [`Form`], [`Param`]), [`parse_command_line`], [`CommandLine::encode`], and the module-side
//!   [`LineAssembler`] that cuts a byte stream into lines (ERRATA W2).
//! - [`param`]: the parameter grammar shared by set commands and information responses,
//!   including quoted strings (no escapes, ERRATA W3), hex integers and `(1-16)` lists.
//! - [`decoder`]: the response stream module → host — [`Decoder`] turns arbitrary chunks into
//!   [`Event`]s (echo, information response, URC, final result code, `CONNECT`, prompt, …),
//!   telling responses from URCs by the [`Pending`] command; [`Decoder::decode_with`] decodes
//!   whole lines in place from the caller's slice, [`Control`] declaring the next command.
//! - [`duration`]: the one duration syntax (`300ms`, `1.5s`, `2min`) of scenario files, flags
//!   and fault names, exact to the nanosecond, with its writer.
//! - [`redact`]: credentials (`AT+QSMTPCFG="account",…`, Multi-Tech `SMTPPW`) never reach
//!   `Debug` output; [`redact::Redacted`] does the same for callers' logs and reports.
//! - [`quectel`]: Quectel data mode (`AT+QSMTPBODY`, `AT+QFUPL`, 000 §1.3): [`QuectelFramer`]
//!   ends the payload on length, input time, DTR or a guarded `+++`; [`quectel::escape_schedule`]
//!   is the host side.
//! - [`multitech`]: Multi-Tech `#PUTMAIL` bodies (002): [`MultiTechFramer`] ends at
//!   `<CR><LF>.<CR><LF>` and unstuffs; [`multitech::dot_stuff`] is the host side.
//!
//! ```
//! use at_wire::{parse_command_line, Command, Form, Param};
//!
//! // 000 §2.2.4: `AT+QSMTPBODY=0,100,120`
//! let line = parse_command_line(b"AT+QSMTPBODY=0,100,120").unwrap();
//! let cmd = line.single().unwrap();
//! assert!(cmd.name_eq("QSMTPBODY"));
//! let ints: Vec<i64> = cmd.params().iter().filter_map(Param::as_int).collect();
//! assert_eq!(ints, [0, 100, 120]);
//!
//! // Building a line and encoding it byte-exactly.
//! let built = at_wire::CommandLine {
//!     prefix: at_wire::Prefix::Upper,
//!     commands: vec![Command::plus("QSMTPPUT", Form::Set(vec![Param::Int(300)]))],
//! };
//! assert_eq!(built.to_bytes(), b"AT+QSMTPPUT=300");
//! assert_eq!(built, line_of(b"AT+QSMTPPUT=300"));
//! # fn line_of(b: &[u8]) -> at_wire::CommandLine { parse_command_line(b).unwrap() }
//! ```
//!
//! The response stream: the same `+QSMTPPUT:` prefix answers `AT+QSMTPPUT=?` but is a URC after
//! `AT+QSMTPPUT=300` (000 §2.2.7); chunk boundaries do not matter.
//!
//! ```
//! use at_wire::{Decoder, DecoderConfig, Final, Kind};
//!
//! let mut dec = Decoder::new(DecoderConfig::default());
//! let mut seen = Vec::new();
//! dec.expect_line(b"AT+QSMTPPUT=?");
//! for chunk in [&b"AT+QSMTPPUT=?\r\r\n+QSMTP"[..], b"PUT: (60-65535)\r\n\r\nOK\r\n"] {
//!     dec.decode_all(chunk, |ev| seen.push(ev.kind));
//! }
//! dec.expect_line(b"AT+QSMTPPUT=300");
//! dec.decode_all(b"AT+QSMTPPUT=300\r\r\nOK\r\n\r\n+QSMTPPUT: 0,0\r\n", |ev| seen.push(ev.kind));
//! let ok = Kind::Final(Final::Ok);
//! assert_eq!(seen, [Kind::Echo, Kind::Info, Kind::Blank, ok, Kind::Echo, ok, Kind::Blank, Kind::Urc]);
//! ```
//!
//! `no_std` + `alloc`; errors implement `core::error::Error` (the `std` feature adds nothing
//! else and exists for the conventional shape).
#![no_std]
#![forbid(unsafe_code)]
#![deny(missing_docs)]

extern crate alloc;

pub mod assembler;
pub mod command;
pub mod decoder;
pub mod duration;
pub mod error;
#[doc(hidden)]
pub mod fuzzing;
pub mod multitech;
pub mod param;
pub mod quectel;
pub mod redact;
pub mod time;

pub use assembler::{Feed, LineAssembler, LineEvent};
pub use command::{Command, CommandLine, Form, Prefix, SRegOp, parse_command_line, strip_line_end};
pub use decoder::{
    CmeCode, Control, Decoder, DecoderConfig, Echo, Event, FINAL_PREFIXES, Final, Kind,
    MIN_MAX_LINE, OwnedEvent, Pending, Terminator, is_final_line, result_line, starts_final_line,
};
pub use error::{ErrorKind, ParseError};
pub use multitech::{BodyOverflow, MultiTechFramer, dot_stuff};
pub use param::{
    HexInt, ListItem, Param, QStr, Word, decode_hex_str, encode_hex_str, encode_params,
    parse_params,
};
pub use quectel::{EndReason, Framed, FramerConfig, QuectelFramer, Step, escape_schedule};
pub use time::Instant;
