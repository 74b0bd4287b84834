//! The sans-IO SMTP client: replies in, commands out, no sockets and no clock.

use std::collections::VecDeque;
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

use crate::{Failure, MailJob, SslType, Stage, Transcript, compose};

/// Longest reply line accepted (RFC 5321 §4.5.3.1.5 says 512; servers exceed it).
pub const MAX_REPLY_LINE: usize = 4096;
/// Most lines accepted in one multi-line reply.
pub const MAX_REPLY_LINES: usize = 128;

/// What the driver must do next.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Event {
    /// Start a TLS handshake on the connection, then call [`SmtpClient::tls_established`].
    UpgradeTls,
    /// The session is open (greeting, EHLO, STARTTLS and AUTH done) and waits for the message:
    /// call [`SmtpClient::release`] (clients made with [`SmtpClient::opening`] only).
    Opened,
    /// The session is over; close the connection.
    Done(Result<(), Failure>),
}

/// One SMTP reply: the code and its lines' texts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Reply {
    /// Three-digit reply code.
    pub code: u16,
    /// Text of each line, without code, separator and line end.
    pub lines: Vec<String>,
}

impl Reply {
    fn text(&self) -> String {
        self.lines.join("\n")
    }
}

/// Why a reply could not be parsed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum ReplyError {
    Malformed(&'static str),
}

/// Pulls one complete reply from the front of `buf`, or `Ok(None)` when more bytes are needed.
fn parse_reply(buf: &mut Vec<u8>) -> Result<Option<Reply>, ReplyError> {
    let mut lines = Vec::new();
    let mut pos = 0usize;
    let mut code: Option<u16> = None;
    loop {
        let rest = buf.get(pos..).unwrap_or_default();
        let Some(nl) = memchr_nl(rest) else {
            if rest.len() > MAX_REPLY_LINE {
                return Err(ReplyError::Malformed("reply line too long"));
            }
            return Ok(None);
        };
        let raw = rest.get(..nl).unwrap_or_default();
        let line = raw.strip_suffix(b"\r").unwrap_or(raw);
        if line.len() > MAX_REPLY_LINE {
            return Err(ReplyError::Malformed("reply line too long"));
        }
        let digits = line
            .get(..3)
            .ok_or(ReplyError::Malformed("reply line shorter than a code"))?;
        if !digits.iter().all(u8::is_ascii_digit) {
            return Err(ReplyError::Malformed(
                "reply does not start with a 3-digit code",
            ));
        }
        let this = digits
            .iter()
            .fold(0u16, |acc, d| acc * 10 + u16::from(d - b'0'));
        if code.is_some_and(|c| c != this) {
            return Err(ReplyError::Malformed("multi-line reply changes its code"));
        }
        code = Some(this);
        let sep = line.get(3).copied();
        let text = line.get(4..).unwrap_or_default();
        lines.push(String::from_utf8_lossy(text).into_owned());
        pos += nl + 1;
        match sep {
            None | Some(b' ') => {
                buf.drain(..pos);
                return Ok(Some(Reply { code: this, lines }));
            }
            Some(b'-') => {
                if lines.len() >= MAX_REPLY_LINES {
                    return Err(ReplyError::Malformed("too many reply lines"));
                }
            }
            Some(_) => return Err(ReplyError::Malformed("bad separator after reply code")),
        }
    }
}

fn memchr_nl(bytes: &[u8]) -> Option<usize> {
    bytes.iter().position(|&b| b == b'\n')
}

/// AUTH mechanism in use.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Mechanism {
    Plain,
    Login,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    Greeting,
    Ehlo {
        helo: bool,
    },
    StartTls,
    TlsHandshake,
    AuthPlain,
    AuthLoginUser,
    AuthLoginPass,
    AuthLoginDone,
    /// Open, waiting for [`SmtpClient::release`].
    Held,
    MailFrom,
    RcptTo(usize),
    Data,
    Body,
    Quit,
    /// A failure is decided; `QUIT` was sent and its reply (or a close) ends the session.
    QuitAfterFailure,
    Done,
}

/// A sans-IO SMTP submission client for one [`MailJob`].
///
/// Feed it the server's bytes with [`handle_input`](Self::handle_input), send what
/// [`poll_transmit`](Self::poll_transmit) returns, and act on [`poll_event`](Self::poll_event):
/// [`Event::UpgradeTls`] (handshake, then [`tls_established`](Self::tls_established)) and
/// [`Event::Done`]. A closed connection is reported with [`handle_close`](Self::handle_close).
/// Times are durations since the delivery started and only label the transcript.
///
/// ```
/// use at_mailer::{Event, MailJob, RecipientKind, SmtpClient};
/// use std::time::Duration;
/// let job = MailJob { sender_email: "a@x.test".into(),
///     recipients: vec![(RecipientKind::To, "b@y.test".into())], ..MailJob::default() };
/// let mut c = SmtpClient::new(&job);
/// let t = Duration::ZERO;
/// let mut script = vec![
///     ("220 hi\r\n", "EHLO localhost\r\n"), ("250 ok\r\n", "MAIL FROM:<a@x.test>\r\n"),
///     ("250 ok\r\n", "RCPT TO:<b@y.test>\r\n"), ("250 ok\r\n", "DATA\r\n"),
/// ];
/// for (reply, command) in script.drain(..) {
///     c.handle_input(t, reply.as_bytes());
///     assert_eq!(c.poll_transmit(t).unwrap(), command.as_bytes());
/// }
/// c.handle_input(t, b"354 go\r\n");
/// assert!(c.poll_transmit(t).unwrap().ends_with(b"\r\n.\r\n"));
/// c.handle_input(t, b"250 queued\r\n");
/// assert_eq!(c.poll_transmit(t).unwrap(), b"QUIT\r\n");
/// c.handle_input(t, b"221 bye\r\n");
/// assert_eq!(c.poll_event(), Some(Event::Done(Ok(()))));
/// ```
#[derive(Debug)]
pub struct SmtpClient {
    state: State,
    stage: Stage,
    ssl: SslType,
    tls_active: bool,
    helo_domain: String,
    helo_only: bool,
    force_login: bool,
    login_first: bool,
    auth: Option<(String, crate::Secret)>,
    sender: String,
    recipients: Vec<String>,
    data: Vec<u8>,
    rx: Vec<u8>,
    tx: VecDeque<(Vec<u8>, bool)>,
    events: VecDeque<Event>,
    transcript: Transcript,
    accepted: bool,
    failure: Option<Failure>,
    /// Stop before `MAIL FROM` until the message is released ([`SmtpClient::opening`]).
    hold: bool,
}

impl SmtpClient {
    /// A client for `job`, waiting for the greeting. For implicit TLS the driver performs the
    /// handshake first and calls [`tls_established`](Self::tls_established) before any input.
    pub fn new(job: &MailJob) -> Self {
        let message = compose(job);
        let data = frame_data(&message, !job.quirks.no_dot_stuffing);
        let auth = job
            .auth
            .as_ref()
            .filter(|c| !c.user.is_empty())
            .map(|c| (c.user.clone(), c.password.clone()));
        SmtpClient {
            state: State::Greeting,
            stage: Stage::Greeting,
            ssl: job.ssl,
            tls_active: false,
            helo_domain: job.helo_domain.clone(),
            helo_only: job.quirks.helo_only,
            force_login: job.quirks.force_auth_login,
            login_first: job.style.auth_login_first,
            auth,
            sender: job.sender_email.clone(),
            recipients: job.recipients.iter().map(|(_, a)| a.clone()).collect(),
            data,
            rx: Vec::new(),
            tx: VecDeque::new(),
            events: VecDeque::new(),
            transcript: Transcript::default(),
            accepted: false,
            failure: None,
            hold: false,
        }
    }

    /// A client that opens the session for `job` (greeting, EHLO, STARTTLS, AUTH), reports
    /// [`Event::Opened`] and waits for [`release`](Self::release) before `MAIL FROM`: a
    /// module that answers only once its SMTP session is open (002: `OK_Info_WaitingForData`
    /// "An SMTP session has been successfully opened"), before the body exists.
    pub fn opening(job: &MailJob) -> Self {
        let mut c = Self::new(job);
        c.hold = true;
        c
    }

    /// Goes on with the session opened by [`opening`](Self::opening): `job` (the same one,
    /// now with its body) is composed and sent. Does nothing unless the client is waiting.
    pub fn release(&mut self, job: &MailJob) {
        if self.state != State::Held {
            return;
        }
        self.hold = false;
        self.data = frame_data(&compose(job), !job.quirks.no_dot_stuffing);
        self.sender = job.sender_email.clone();
        self.recipients = job.recipients.iter().map(|(_, a)| a.clone()).collect();
        self.send_mail_from();
    }

    /// Whether the session is open and waits for [`release`](Self::release).
    pub fn is_held(&self) -> bool {
        self.state == State::Held
    }

    /// Records bytes the driver sent on its own (the `QUIT` that abandons a held session);
    /// the session is over.
    pub fn note_sent(&mut self, now: Duration, bytes: &[u8]) {
        self.transcript
            .push(now, crate::Direction::Sent, bytes, false);
        if self.state == State::Held {
            self.state = State::Quit;
        }
    }

    // --- getters ---

    /// The stage the session is in (where a failure now would be reported).
    pub fn stage(&self) -> Stage {
        self.stage
    }

    /// Whether the session has ended.
    pub fn is_done(&self) -> bool {
        self.state == State::Done
    }

    /// Whether a failure is decided and only the reply to the `QUIT` sent after it is awaited
    /// (a driver may bound that wait; a close reports the same failure).
    pub fn awaiting_quit_reply(&self) -> bool {
        self.state == State::QuitAfterFailure
    }

    /// The stage whose command the next [`poll_transmit`](Self::poll_transmit) would carry.
    pub fn pending_transmit_stage(&self) -> Option<Stage> {
        if self.tx.is_empty() {
            None
        } else {
            Some(self.stage)
        }
    }

    /// Length of the next chunk [`poll_transmit`](Self::poll_transmit) would return.
    pub fn pending_transmit_len(&self) -> Option<usize> {
        self.tx.front().map(|(b, _)| b.len())
    }

    /// The conversation so far.
    pub fn transcript(&self) -> &Transcript {
        &self.transcript
    }

    /// Takes the transcript, leaving an empty one.
    pub fn take_transcript(&mut self) -> Transcript {
        std::mem::take(&mut self.transcript)
    }

    // --- handle_* ---

    /// Feeds bytes received from the server at `now`.
    pub fn handle_input(&mut self, now: Duration, bytes: &[u8]) {
        if self.state == State::Done {
            return;
        }
        self.transcript
            .push(now, crate::Direction::Received, bytes, false);
        self.rx.extend_from_slice(bytes);
        while self.state != State::Done && self.state != State::TlsHandshake {
            match parse_reply(&mut self.rx) {
                Ok(Some(reply)) => self.on_reply(now, reply),
                Ok(None) => break,
                Err(ReplyError::Malformed(reason)) => {
                    let failure = self.failure.take().unwrap_or(Failure::Malformed {
                        stage: self.stage,
                        reason,
                    });
                    self.finish(Err(failure));
                }
            }
        }
    }

    /// The server closed the connection (EOF or reset) at `now`.
    pub fn handle_close(&mut self, _now: Duration) {
        if self.state == State::Done {
            return;
        }
        if let Some(failure) = self.failure.take() {
            // The close answers the QUIT sent after a failure.
            self.finish(Err(failure));
        } else if self.accepted {
            // The message was accepted; a close instead of `221` does not undo that.
            self.finish(Ok(()));
        } else {
            self.finish(Err(Failure::Reset { stage: self.stage }));
        }
    }

    /// The TLS handshake requested by [`Event::UpgradeTls`] (or implicit TLS) completed.
    pub fn tls_established(&mut self, now: Duration) {
        let _ = now;
        self.tls_active = true;
        self.transcript.mark_tls();
        if self.state == State::TlsHandshake {
            // RFC 3207 §4.2: forget everything learnt before TLS and greet again.
            self.rx.clear();
            self.send_ehlo();
        }
    }

    /// Records what the TLS handshake settled on (shown in the transcript).
    pub fn tls_negotiated(&mut self, negotiated: at_tls::Negotiated) {
        self.transcript.tls = Some(negotiated);
    }

    /// The TLS handshake failed.
    pub fn tls_failed(&mut self, reason: String) {
        if self.state != State::Done {
            self.finish(Err(Failure::Tls(reason)));
        }
    }

    // --- poll_* ---

    /// The next bytes to send, recorded in the transcript at `now`.
    pub fn poll_transmit(&mut self, now: Duration) -> Option<Vec<u8>> {
        let (bytes, secret) = self.tx.pop_front()?;
        self.transcript
            .push(now, crate::Direction::Sent, &bytes, secret);
        Some(bytes)
    }

    /// Like [`poll_transmit`](Self::poll_transmit) but at most `max` bytes; the rest stays
    /// queued (used to cut a connection in the middle of the message).
    pub fn poll_transmit_at_most(&mut self, now: Duration, max: usize) -> Option<Vec<u8>> {
        let (mut bytes, secret) = self.tx.pop_front()?;
        if bytes.len() > max {
            let rest = bytes.split_off(max);
            self.tx.push_front((rest, secret));
        }
        self.transcript
            .push(now, crate::Direction::Sent, &bytes, secret);
        Some(bytes)
    }

    /// The next event for the driver.
    pub fn poll_event(&mut self) -> Option<Event> {
        self.events.pop_front()
    }

    // --- internals ---

    fn send(&mut self, bytes: Vec<u8>, secret: bool) {
        self.tx.push_back((bytes, secret));
    }

    fn finish(&mut self, result: Result<(), Failure>) {
        self.state = State::Done;
        self.events.push_back(Event::Done(result));
    }

    fn fail(&mut self, reply: &Reply) {
        let failure = Failure::Protocol {
            stage: self.stage,
            code: reply.code,
            text: reply.text(),
        };
        if reply.code == 421 {
            // The server is closing the channel (RFC 5321 §3.8): nothing more to say.
            self.finish(Err(failure));
        } else {
            self.quit_after(failure);
        }
    }

    /// Ends a session that is still in step: RFC 5321 §4.1.1.10 wants `QUIT` before the
    /// client closes, and its reply (or a close) before the failure is reported.
    fn quit_after(&mut self, failure: Failure) {
        self.failure = Some(failure);
        self.state = State::QuitAfterFailure;
        self.send(b"QUIT\r\n".to_vec(), false);
    }

    fn send_ehlo(&mut self) {
        self.stage = Stage::Ehlo;
        let helo = self.helo_only;
        self.state = State::Ehlo { helo };
        let verb = if helo { "HELO" } else { "EHLO" };
        let line = format!("{verb} {}\r\n", self.helo_domain);
        self.send(line.into_bytes(), false);
    }

    fn on_reply(&mut self, now: Duration, reply: Reply) {
        let _ = now;
        let ok = (200..300).contains(&reply.code);
        // 421 may come at any time (RFC 5321 §3.8).
        match self.state {
            State::Greeting => {
                if reply.code == 220 {
                    self.send_ehlo();
                } else {
                    self.fail(&reply);
                }
            }
            State::Ehlo { helo } => {
                if !ok {
                    if !helo && matches!(reply.code, 500 | 502) {
                        // RFC 5321 §4.1.4: fall back to HELO (no extensions then).
                        self.state = State::Ehlo { helo: true };
                        let line = format!("HELO {}\r\n", self.helo_domain);
                        self.send(line.into_bytes(), false);
                    } else {
                        self.fail(&reply);
                    }
                    return;
                }
                let caps = Capabilities::parse(if helo { &[] } else { &reply.lines });
                if self.ssl == SslType::StartTls && !self.tls_active {
                    if !caps.starttls {
                        self.quit_after(Failure::Tls("server does not offer STARTTLS".to_owned()));
                        return;
                    }
                    self.stage = Stage::StartTls;
                    self.state = State::StartTls;
                    self.send(b"STARTTLS\r\n".to_vec(), false);
                    return;
                }
                self.start_auth(&caps);
            }
            State::StartTls => {
                if reply.code == 220 {
                    self.state = State::TlsHandshake;
                    // Bytes pipelined after the 220 must not survive into TLS (RFC 3207 §5).
                    self.rx.clear();
                    self.events.push_back(Event::UpgradeTls);
                } else {
                    self.fail(&reply);
                }
            }
            State::TlsHandshake => {}
            State::AuthPlain | State::AuthLoginDone => {
                if reply.code == 235 {
                    self.send_mail_from();
                } else {
                    self.fail(&reply);
                }
            }
            // Nothing was asked: a reply now is the server giving up (RFC 5321 §3.8: 421).
            State::Held => self.fail(&reply),
            State::AuthLoginUser => {
                if reply.code == 334 {
                    let user = self.auth.as_ref().map(|a| a.0.clone()).unwrap_or_default();
                    let line = format!("{}\r\n", STANDARD.encode(user));
                    self.send(line.into_bytes(), true);
                    self.state = State::AuthLoginPass;
                } else {
                    self.fail(&reply);
                }
            }
            State::AuthLoginPass => {
                if reply.code == 334 {
                    let pass = self
                        .auth
                        .as_ref()
                        .map(|a| a.1.expose().to_owned())
                        .unwrap_or_default();
                    let line = format!("{}\r\n", STANDARD.encode(pass));
                    self.send(line.into_bytes(), true);
                    self.state = State::AuthLoginDone;
                } else {
                    self.fail(&reply);
                }
            }
            State::MailFrom => {
                if ok {
                    self.send_rcpt(0);
                } else {
                    self.fail(&reply);
                }
            }
            State::RcptTo(i) => {
                if !ok {
                    self.fail(&reply);
                } else if i + 1 < self.recipients.len() {
                    self.send_rcpt(i + 1);
                } else {
                    self.stage = Stage::Data;
                    self.state = State::Data;
                    self.send(b"DATA\r\n".to_vec(), false);
                }
            }
            State::Data => {
                if reply.code == 354 {
                    self.stage = Stage::Body;
                    self.state = State::Body;
                    let data = std::mem::take(&mut self.data);
                    self.send(data, false);
                } else {
                    self.fail(&reply);
                }
            }
            State::Body => {
                if ok {
                    self.accepted = true;
                    self.stage = Stage::Quit;
                    self.state = State::Quit;
                    self.send(b"QUIT\r\n".to_vec(), false);
                } else {
                    self.fail(&reply);
                }
            }
            State::Quit => {
                // Whatever QUIT gets, the message was accepted.
                self.finish(Ok(()));
            }
            State::QuitAfterFailure => {
                let failure = self
                    .failure
                    .take()
                    .unwrap_or(Failure::Reset { stage: self.stage });
                self.finish(Err(failure));
            }
            State::Done => {}
        }
    }

    fn start_auth(&mut self, caps: &Capabilities) {
        if self.auth.is_none() {
            self.send_mail_from();
            return;
        }
        let mechanism = if self.force_login || (self.login_first && caps.auth_login) {
            Some(Mechanism::Login)
        } else if caps.auth_plain {
            Some(Mechanism::Plain)
        } else if caps.auth_login {
            Some(Mechanism::Login)
        } else {
            None
        };
        self.stage = Stage::Auth;
        match mechanism {
            None => self.quit_after(Failure::AuthUnsupported),
            Some(Mechanism::Plain) => {
                let (user, pass) = self
                    .auth
                    .as_ref()
                    .map(|(u, p)| (u.clone(), p.expose().to_owned()))
                    .unwrap_or_default();
                let token = STANDARD.encode(format!("\0{user}\0{pass}"));
                self.state = State::AuthPlain;
                self.send(format!("AUTH PLAIN {token}\r\n").into_bytes(), true);
            }
            Some(Mechanism::Login) => {
                self.state = State::AuthLoginUser;
                self.send(b"AUTH LOGIN\r\n".to_vec(), false);
            }
        }
    }

    fn send_mail_from(&mut self) {
        if self.hold {
            self.stage = Stage::MailFrom;
            self.state = State::Held;
            self.events.push_back(Event::Opened);
            return;
        }
        self.stage = Stage::MailFrom;
        self.state = State::MailFrom;
        let line = format!("MAIL FROM:<{}>\r\n", self.sender);
        self.send(line.into_bytes(), false);
    }

    fn send_rcpt(&mut self, i: usize) {
        self.stage = Stage::RcptTo;
        let Some(addr) = self.recipients.get(i) else {
            // No recipient at all: the module reports "no recipient" (000 §5, 659).
            self.finish(Err(Failure::NoRecipient));
            return;
        };
        let line = format!("RCPT TO:<{addr}>\r\n");
        self.state = State::RcptTo(i);
        self.send(line.into_bytes(), false);
    }
}

/// What an EHLO reply offers.
#[derive(Debug, Default)]
struct Capabilities {
    starttls: bool,
    auth_plain: bool,
    auth_login: bool,
}

impl Capabilities {
    fn parse(lines: &[String]) -> Self {
        let mut caps = Capabilities::default();
        // The first line is the greeting text, the others keywords (RFC 5321 §4.1.1.1).
        for line in lines.iter().skip(1) {
            let mut words = line.split([' ', '=']).filter(|w| !w.is_empty());
            let Some(keyword) = words.next() else {
                continue;
            };
            if keyword.eq_ignore_ascii_case("STARTTLS") {
                caps.starttls = true;
            } else if keyword.eq_ignore_ascii_case("AUTH") {
                for mech in words {
                    if mech.eq_ignore_ascii_case("PLAIN") {
                        caps.auth_plain = true;
                    } else if mech.eq_ignore_ascii_case("LOGIN") {
                        caps.auth_login = true;
                    }
                }
            }
        }
        caps
    }
}

/// The DATA payload: the message dot-stuffed (RFC 5321 §4.5.2) unless `stuff` is off, ending in
/// CRLF, then the `.` terminator line.
pub fn frame_data(message: &[u8], stuff: bool) -> Vec<u8> {
    let mut out = Vec::with_capacity(message.len() + message.len() / 64 + 8);
    let mut at_line_start = true;
    for &b in message {
        if stuff && at_line_start && b == b'.' {
            out.push(b'.');
        }
        out.push(b);
        at_line_start = b == b'\n';
    }
    if !out.is_empty() && !out.ends_with(b"\r\n") {
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b".\r\n");
    out
}
