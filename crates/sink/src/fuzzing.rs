//! Entry point for fuzzers (`cargo fuzz` targets and the property tests): drives a [`Session`]
//! with arbitrary operations and checks invariants, panicking when one is broken.

use std::sync::Arc;
use std::time::Duration;

use crate::profile::Profile;
use crate::session::{Event, Session, SessionConfig, SharedState};
use crate::time::Instant;

/// One step of a fuzzed connection.
#[derive(Debug, Clone, arbitrary::Arbitrary)]
pub enum Op {
    /// Bytes from the client.
    Input(Vec<u8>),
    /// A well-formed command, so that fuzzing reaches deep states quickly.
    Command(Cmd),
    /// Virtual time passes (seconds).
    Advance(u16),
    /// The adapter completes a requested TLS handshake.
    TlsUp,
}

/// Commands the fuzzer can pick as a whole.
#[derive(Debug, Clone, Copy, arbitrary::Arbitrary)]
pub enum Cmd {
    /// `EHLO x`
    Ehlo,
    /// `AUTH PLAIN` with valid credentials
    AuthPlain,
    /// `AUTH LOGIN`
    AuthLogin,
    /// `MAIL FROM:<a@b>`
    Mail,
    /// `RCPT TO:<c@d>`
    Rcpt,
    /// `DATA`
    Data,
    /// `CRLF . CRLF`
    End,
    /// `STARTTLS`
    StartTls,
    /// `QUIT`
    Quit,
}

impl Cmd {
    fn bytes(self) -> &'static [u8] {
        match self {
            Cmd::Ehlo => b"EHLO x\r\n",
            Cmd::AuthPlain => b"AUTH PLAIN AHUAcA==\r\n",
            Cmd::AuthLogin => b"AUTH LOGIN\r\n",
            Cmd::Mail => b"MAIL FROM:<a@b>\r\n",
            Cmd::Rcpt => b"RCPT TO:<c@d>\r\n",
            Cmd::Data => b"DATA\r\n",
            Cmd::End => b"\r\n.\r\n",
            Cmd::StartTls => b"STARTTLS\r\n",
            Cmd::Quit => b"QUIT\r\n",
        }
    }
}

/// Runs `ops` on a session of the profile chosen by `profile % 3` (implicit TLS if `tls`) and
/// checks: replies are CRLF-terminated lines with a 3-digit code; the transcript holds exactly the
/// bytes sent (and received, unless the session ended first); messages respect the size cap and
/// are each followed by their `250`; the session is closed after EOF.
pub fn run(profile: u8, tls: bool, ops: &[Op]) {
    let profile =
        [Profile::Permissive, Profile::Rfc5321, Profile::TencentSes][usize::from(profile % 3)];
    let mut cfg = SessionConfig::new(profile);
    cfg.starttls = true;
    cfg.limits.max_message_size = 512;
    cfg.limits.max_command_line = 256;
    let mut now = Instant::ZERO;
    let mut s = Session::new(Arc::new(cfg), SharedState::default(), 1, tls, now);
    let (mut out, mut input, mut accepted) = (Vec::new(), Vec::new(), 0usize);
    let mut closed_early = false;
    let drain = |s: &mut Session, out: &mut Vec<u8>, accepted: &mut usize| {
        while let Some(ev) = s.poll_event() {
            if let Event::Accepted(m) = ev {
                assert!(m.raw.len() <= 512, "message over the cap");
                *accepted += 1;
            }
        }
        while let Some(b) = s.poll_transmit() {
            out.extend_from_slice(&b);
        }
    };
    drain(&mut s, &mut out, &mut accepted);
    for op in ops {
        closed_early |= s.is_closed();
        match op {
            Op::Input(b) => {
                input.extend_from_slice(b);
                s.handle_input(now, b);
            }
            Op::Command(c) => {
                input.extend_from_slice(c.bytes());
                s.handle_input(now, c.bytes());
            }
            Op::Advance(secs) => {
                now = now + Duration::from_secs(u64::from(*secs));
                if s.poll_timeout().is_some_and(|t| t <= now) {
                    s.handle_timeout(now);
                }
            }
            Op::TlsUp => s.tls_established(now),
        }
        drain(&mut s, &mut out, &mut accepted);
    }
    closed_early |= s.is_closed();
    s.handle_eof(now);
    drain(&mut s, &mut out, &mut accepted);
    assert!(s.is_closed());
    let t = s.transcript();
    assert_eq!(
        t.server_bytes(),
        out,
        "transcript differs from what was sent"
    );
    if !closed_early {
        assert_eq!(
            t.client_bytes(),
            input,
            "transcript differs from what was received"
        );
    }
    let text = String::from_utf8(out).expect("replies are UTF-8");
    assert!(text.is_empty() || text.ends_with("\r\n"));
    for line in text.split_terminator("\r\n") {
        let b = line.as_bytes();
        assert!(
            b.len() >= 4 && b[..3].iter().all(u8::is_ascii_digit),
            "{line:?}"
        );
        assert!(b[3] == b' ' || b[3] == b'-', "{line:?}");
    }
    assert_eq!(text.matches(" Ok: queued as ").count(), accepted);
}
