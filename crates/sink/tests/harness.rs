//! A sans-IO driver for [`Session`] with a virtual clock.

use std::sync::Arc;
use std::time::Duration;

use smtp_sink::{
    CloseReason, Event, FaultScript, Instant, Profile, Session, SessionConfig, SharedState,
    StoredMessage,
};

pub struct H {
    pub s: Session,
    pub now: Instant,
    pub accepted: Vec<StoredMessage>,
    pub closed: Option<CloseReason>,
    pub starttls: bool,
    pub all_out: Vec<u8>,
    /// Storing fails (as on a full disk): accepted messages get `store_failed`.
    pub fail_store: bool,
}

pub fn config(profile: Profile) -> SessionConfig {
    SessionConfig::new(profile)
}

impl H {
    pub fn new(cfg: SessionConfig) -> H {
        H::with_shared(cfg, SharedState::default(), 1, false)
    }

    pub fn tls(cfg: SessionConfig) -> H {
        H::with_shared(cfg, SharedState::default(), 1, true)
    }

    pub fn with_faults(profile: Profile, script: &str) -> H {
        let mut c = config(profile);
        c.faults = FaultScript::parse(script).expect("fault script");
        H::new(c)
    }

    pub fn with_shared(cfg: SessionConfig, shared: SharedState, conn: u64, tls: bool) -> H {
        let s = Session::new(Arc::new(cfg), shared, conn, tls, Instant::ZERO);
        let mut h = H {
            s,
            now: Instant::ZERO,
            accepted: Vec::new(),
            closed: None,
            starttls: false,
            all_out: Vec::new(),
            fail_store: false,
        };
        h.drain();
        h
    }

    /// Drains events and transmitted bytes; returns the bytes sent since the last drain.
    pub fn drain(&mut self) -> String {
        while let Some(ev) = self.s.poll_event() {
            match ev {
                Event::Accepted(m) if self.fail_store => {
                    assert!(self.s.store_failed(m.id));
                }
                Event::Accepted(m) => self.accepted.push(*m),
                Event::Close(r) => self.closed = Some(r),
                Event::StartTls => self.starttls = true,
            }
        }
        let mut out = Vec::new();
        while let Some(b) = self.s.poll_transmit() {
            out.extend_from_slice(&b);
        }
        self.all_out.extend_from_slice(&out);
        String::from_utf8_lossy(&out).into_owned()
    }

    /// Sends bytes, returns the replies they produced.
    pub fn send(&mut self, bytes: impl AsRef<[u8]>) -> String {
        self.s.handle_input(self.now, bytes.as_ref());
        self.drain()
    }

    /// Moves virtual time forward, firing timeouts on the way; returns what was sent.
    pub fn advance(&mut self, d: Duration) -> String {
        let target = self.now + d;
        let mut out = String::new();
        while let Some(t) = self.s.poll_timeout() {
            if t > target {
                break;
            }
            self.now = t.max(self.now);
            self.s.handle_timeout(self.now);
            out += &self.drain();
            if self.s.is_closed() && self.s.poll_timeout().is_none() {
                break;
            }
        }
        self.now = target;
        out
    }

    pub fn eof(&mut self) -> String {
        self.s.handle_eof(self.now);
        self.drain()
    }

    /// EHLO, then MAIL/RCPT/DATA and `body` (which must end with CRLF); returns the final reply.
    pub fn mail(&mut self, from: &str, to: &[&str], body: &str) -> String {
        let mut r = self.send(format!("MAIL FROM:<{from}>\r\n"));
        assert!(r.starts_with("250"), "MAIL: {r}");
        for t in to {
            r = self.send(format!("RCPT TO:<{t}>\r\n"));
            assert!(r.starts_with("250"), "RCPT: {r}");
        }
        r = self.send("DATA\r\n");
        assert!(r.starts_with("354"), "DATA: {r}");
        self.send(format!("{body}.\r\n"))
    }
}

pub fn b64(s: &str) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(s)
}
