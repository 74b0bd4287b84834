//! Sans-IO SMTP client and MIME composer used by the emulator to really deliver mail.
//!
//! When a module receives `AT+QSMTPPUT` (000 §2.2.7) the emulator core turns its state into a
//! [`MailJob`]; this crate composes the message, runs the SMTP session (plain, implicit TLS or
//! STARTTLS, 000 §1.1) and returns an [`Outcome`]: the result, mapped to
//! `+QSMTPPUT: <err>,<protocol_error>` by [`Outcome::quectel_codes`], and a byte-exact
//! [`Transcript`].
//!
//! ```
//! use at_mailer::{Failure, MailJob, NetFault, Outcome, Stage, Transcript};
//! let job = MailJob { server: "smtp.163.com".into(), faults: vec!["dns".parse().unwrap()], ..MailJob::default() };
//! assert_eq!(job.faults, [NetFault::Dns]);
//! let outcome = Outcome { result: Err(Failure::Protocol { stage: Stage::Auth, code: 535, text: "no".into() }),
//!                         transcript: Transcript::default() };
//! assert_eq!(outcome.quectel_codes(), (677, 535)); // 000 §5, §6
//! ```
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod client;
mod compose;
mod driver;
mod job;
mod outcome;
mod resolve;

pub use client::{Event, MAX_REPLY_LINE, MAX_REPLY_LINES, SmtpClient, frame_data};
pub use compose::compose;
pub use driver::{
    DeliverOptions, OpenSession, StallMode, deliver, deliver_blocking, deliver_with, open_with,
};
pub use job::{
    Attachment, Body, Charset, ClientQuirks, ClientStyle, Credentials, MailJob, NetFault,
    RecipientKind, Secret, SslType, Subject, UnknownFault,
};
pub use outcome::{Direction, Failure, Outcome, Stage, Transcript, TranscriptEntry, UnknownStage};
pub use resolve::{ResolveMap, ResolveParseError};
