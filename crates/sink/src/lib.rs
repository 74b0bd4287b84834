//! Capture SMTP server with provider profiles, TLS, fault injection and a query API.
//!
//! The sink accepts mail from the emulator (or a real module in a lab), keeps every accepted
//! message byte for byte with its envelope, records a byte-exact transcript of every connection,
//! and can imitate a provider ([`Profile::TencentSes`], document 003) or misbehave on purpose
//! ([`FaultScript`]). It never relays anything.
//!
//! * [`Session`] is the sans-IO protocol core: bytes and [`Instant`]s in, replies and
//!   [`Event`]s out. Commands are parsed by `smtp-proto`; DATA is read here (CRLF.CRLF,
//!   dot-unstuffing, size cap).
//! * [`spawn`] runs a sink on its own thread for synchronous callers; [`Sink`] is the async API.
//! * [`api::router`] serves `GET /api/messages` and friends.
//!
//! ```
//! use std::io::{BufRead, BufReader, Write};
//! use std::net::TcpStream;
//! use std::time::Duration;
//! use smtp_sink::{Profile, SinkConfig};
//!
//! let sink = smtp_sink::spawn(SinkConfig::new(Profile::Permissive))?;
//! let tcp = TcpStream::connect(sink.smtp_addr().unwrap())?;
//! let mut r = BufReader::new(tcp.try_clone()?);
//! let mut w = tcp;
//! let mut line = String::new();
//! let mut say = |cmd: &str, line: &mut String| -> std::io::Result<()> {
//!     w.write_all(cmd.as_bytes())?;
//!     loop {
//!         line.clear();
//!         r.read_line(line)?;
//!         if line.as_bytes().get(3) != Some(&b'-') { return Ok(()); }
//!     }
//! };
//! say("", &mut line)?; // greeting
//! assert!(line.starts_with("220 "));
//! say("EHLO me\r\n", &mut line)?;
//! say("MAIL FROM:<a@example.com>\r\n", &mut line)?;
//! say("RCPT TO:<b@example.com>\r\n", &mut line)?;
//! say("DATA\r\n", &mut line)?;
//! assert!(line.starts_with("354"));
//! say("Subject: hi\r\n\r\nhello\r\n.\r\n", &mut line)?;
//! assert_eq!(line, "250 2.0.0 Ok: queued as 1\r\n");
//! let msgs = sink.wait_for_messages(1, Duration::from_secs(5));
//! assert_eq!(msgs[0].raw, b"Subject: hi\r\n\r\nhello\r\n");
//! assert_eq!(msgs[0].envelope.rcpt_to, ["b@example.com"]);
//! assert_eq!(msgs[0].subject().as_deref(), Some("hi"));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod api;
pub mod durable;
mod error;
mod fault;
#[doc(hidden)]
pub mod fuzzing;
mod message;
mod profile;
mod server;
pub mod ses;
mod session;
mod store;
mod time;
mod tls;
mod transcript;

pub use error::Error;
pub use fault::{
    Action, DirectiveError, DropAt, FaultScript, FaultScriptError, Point, Rule, TlsFaultError,
    TlsFaults, Trigger, UnknownPoint,
};
pub use message::{Attachment, Envelope, Mailbox, ParsedSummary, StoredMessage};
pub use profile::{Limits, MIB, Profile, SesLimits, TENCENT_SES_CIPHERS, UnknownProfile};
pub use server::{RunningSink, SETTLE_DEADLINE, Sink, SinkConfig, TlsSource, settle, spawn};
pub use session::{Account, AuthPolicy, Event, Mechanism, Session, SessionConfig, SharedState};
pub use store::{ErrorCallback, MessageCallback, Store, TRANSCRIPT_BUDGET};
pub use time::{Clock, Instant, ManualClock};
pub use transcript::{
    CloseReason, Direction, Entry, REDACTED, SessionEnd, TlsInfo, TlsUpgrade, Transcript, escape,
};
