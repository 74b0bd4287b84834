//! The sans-IO SMTP server session: bytes and time in, replies and events out.
//!
//! A [`Session`] never touches a socket or a clock. The adapter:
//!
//! 1. creates it with [`Session::new`] when a connection is accepted (after the TLS handshake for
//!    implicit TLS);
//! 2. feeds received bytes with [`Session::handle_input`], end of stream with
//!    [`Session::handle_eof`], and calls [`Session::handle_timeout`] when [`Session::poll_timeout`]
//!    is reached;
//! 3. after each call, drains [`Session::poll_event`] (store accepted messages *first*, so a
//!    client that saw `250` can query them), then [`Session::poll_transmit`] and writes the bytes;
//! 4. on [`Event::StartTls`] performs the handshake and calls [`Session::tls_established`];
//!    on [`Event::Close`] closes the connection after writing what was transmitted.

use std::collections::VecDeque;
use std::fmt;
use std::ops::Range;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use base64::Engine as _;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use smtp_proto::Request;

use crate::fault::{Action, DropAt, FaultScript, Point, Trigger};
use crate::message::{Envelope, StoredMessage};
use crate::profile::{Limits, Profile, SesLimits};
use crate::ses::{self, RateLimiter, SES_TOO_LONG_LINE};
use crate::time::Instant;
use crate::transcript::{CloseReason, Direction, SessionEnd, Transcript};

/// A user the sink accepts in AUTH. The password never appears in `Debug`.
#[derive(Clone, PartialEq, Eq)]
pub struct Account {
    /// User name.
    pub user: String,
    password: String,
}

impl Account {
    /// An account.
    pub fn new(user: impl Into<String>, password: impl Into<String>) -> Self {
        Account {
            user: user.into(),
            password: password.into(),
        }
    }

    /// Parses `user:pass` (the password may contain `:`).
    pub fn parse(spec: &str) -> Option<Account> {
        let (u, p) = spec.split_once(':')?;
        (!u.is_empty()).then(|| Account::new(u, p))
    }
}

impl Account {
    /// The password (never shown in `Debug`).
    pub fn password(&self) -> &str {
        &self.password
    }
}

impl fmt::Debug for Account {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Account")
            .field("user", &self.user)
            .field("password", &crate::transcript::REDACTED)
            .finish()
    }
}

/// A SASL mechanism the sink implements (RFC 4954).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Mechanism {
    /// `PLAIN` (RFC 4616).
    Plain,
    /// `LOGIN` (004 step 2).
    Login,
}

impl Mechanism {
    /// Both, in the order EHLO lists them.
    pub const ALL: [Mechanism; 2] = [Mechanism::Plain, Mechanism::Login];

    /// The name in EHLO and AUTH.
    pub fn as_str(self) -> &'static str {
        match self {
            Mechanism::Plain => "PLAIN",
            Mechanism::Login => "LOGIN",
        }
    }

    /// Parses a name, case-insensitively.
    pub fn from_name(name: &str) -> Option<Mechanism> {
        Mechanism::ALL
            .into_iter()
            .find(|m| m.as_str().eq_ignore_ascii_case(name))
    }
}

impl fmt::Display for Mechanism {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Which credentials AUTH accepts.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum AuthPolicy {
    /// Any user name and password.
    #[default]
    AcceptAny,
    /// Only these accounts.
    Accounts(Vec<Account>),
}

/// Everything a session needs to know, shared by all sessions of a listener.
#[derive(Debug, Clone)]
pub struct SessionConfig {
    /// Name in the greeting and EHLO reply.
    pub hostname: String,
    /// Provider profile.
    pub profile: Profile,
    /// Resource limits.
    pub limits: Limits,
    /// Tencent SES limits (used by [`Profile::TencentSes`]).
    pub ses: SesLimits,
    /// AUTH policy.
    pub auth: AuthPolicy,
    /// Whether MAIL requires a successful AUTH first (`530 5.7.0`, RFC 4954 §6).
    pub require_auth: bool,
    /// Whether STARTTLS can be offered (a TLS configuration exists).
    pub starttls: bool,
    /// The AUTH mechanisms EHLO offers and AUTH accepts (none: no AUTH extension at all).
    pub mechanisms: Vec<Mechanism>,
    /// Fault script.
    pub faults: FaultScript,
}

impl SessionConfig {
    /// Defaults for `profile`: its limits, AUTH required for tencent-ses, STARTTLS off.
    pub fn new(profile: Profile) -> Self {
        SessionConfig {
            hostname: "sink.atconform.test".into(),
            profile,
            limits: profile.default_limits(),
            ses: SesLimits::default(),
            auth: AuthPolicy::AcceptAny,
            require_auth: profile == Profile::TencentSes,
            starttls: false,
            mechanisms: Mechanism::ALL.to_vec(),
            faults: FaultScript::new(),
        }
    }
}

/// State shared by all sessions of a sink: message ids, rate limits, greylist, request ids.
#[derive(Debug, Clone)]
pub struct SharedState(Arc<Mutex<Shared>>);

#[derive(Debug)]
struct Shared {
    next_id: u64,
    next_connection: u64,
    /// Connections accepted by this state.
    accepted: u64,
    limiter: RateLimiter,
    greylist: std::collections::HashMap<(String, String), Instant>,
    /// Recent AUTH failures per client address (for [`Limits::max_auth_failures_per_address`]).
    auth_failures: std::collections::HashMap<String, VecDeque<Instant>>,
    rng: ChaCha8Rng,
}

/// The window of [`Limits::max_auth_failures_per_address`].
const AUTH_FAILURE_WINDOW: Duration = Duration::from_secs(60);
/// Addresses whose AUTH failures are remembered at once (bounded memory).
const AUTH_FAILURE_ADDRESSES: usize = 10_000;

impl SharedState {
    /// Fresh state: ids start at `first_id`; SES request ids come from `seed`.
    pub fn new(seed: u64, first_id: u64) -> Self {
        SharedState(Arc::new(Mutex::new(Shared {
            next_id: first_id.max(1),
            next_connection: 1,
            accepted: 0,
            limiter: RateLimiter::default(),
            greylist: Default::default(),
            auth_failures: Default::default(),
            rng: ChaCha8Rng::seed_from_u64(seed),
        })))
    }

    /// Starts connection numbering at `n` (so files from an earlier run are not overwritten).
    pub fn with_first_connection(self, n: u64) -> Self {
        self.lock().next_connection = n.max(1);
        self
    }

    fn lock(&self) -> MutexGuard<'_, Shared> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Allocates the next connection number (1-based).
    pub fn next_connection(&self) -> u64 {
        let mut s = self.lock();
        let n = s.next_connection;
        s.next_connection += 1;
        s.accepted += 1;
        n
    }

    /// How many connections this state accepted (since it was made, whatever the first number).
    pub fn connections(&self) -> u64 {
        self.lock().accepted
    }

    /// Forgets rate-limit, greylist and AUTH-failure history.
    pub fn reset_policies(&self) {
        let mut s = self.lock();
        s.limiter = RateLimiter::default();
        s.greylist.clear();
        s.auth_failures.clear();
    }

    /// AUTH failures from `addr` within the window ending at `now`.
    fn recent_auth_failures(&self, addr: &str, now: Instant) -> usize {
        let mut s = self.lock();
        let Some(q) = s.auth_failures.get_mut(addr) else {
            return 0;
        };
        while q
            .front()
            .is_some_and(|t| now.saturating_duration_since(*t) >= AUTH_FAILURE_WINDOW)
        {
            q.pop_front();
        }
        q.len()
    }

    fn note_auth_failure(&self, addr: &str, now: Instant, keep: usize) {
        let mut s = self.lock();
        if s.auth_failures.len() >= AUTH_FAILURE_ADDRESSES && !s.auth_failures.contains_key(addr) {
            s.auth_failures.retain(|_, q| {
                q.back()
                    .is_some_and(|t| now.saturating_duration_since(*t) < AUTH_FAILURE_WINDOW)
            });
            if s.auth_failures.len() >= AUTH_FAILURE_ADDRESSES {
                s.auth_failures.clear();
            }
        }
        let q = s.auth_failures.entry(addr.to_owned()).or_default();
        q.push_back(now);
        while q.len() > keep.max(1) {
            q.pop_front();
        }
    }
}

impl Default for SharedState {
    fn default() -> Self {
        SharedState::new(0, 1)
    }
}

/// Something the adapter must act on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// `220` to STARTTLS was transmitted: perform the TLS handshake, then call
    /// [`Session::tls_established`]. Bytes received before that are discarded (RFC 3207 §4.2).
    StartTls,
    /// A message was accepted; its `250` follows in the transmit queue. An adapter that cannot
    /// store it calls [`Session::store_failed`] before taking that reply, which turns it into
    /// `451 4.3.0`.
    Accepted(Box<StoredMessage>),
    /// Close the connection once the transmit queue is written.
    Close(CloseReason),
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Phase {
    Command,
    /// After a refused greeting: only QUIT is served (RFC 5321 §3.1).
    Refused,
    AuthLoginUser,
    AuthLoginPass {
        user: String,
    },
    AuthPlain,
    Data,
    AwaitTls,
    Closed,
}

#[derive(Debug)]
enum Out {
    Bytes(Vec<u8>),
    /// The `250` that acknowledges message `id` (replaced by `451` if storing it fails).
    Stored(u64, Vec<u8>),
    Event(Event),
}

/// The reply a message gets when the adapter could not store it (RFC 5321 §4.2.3 / RFC 3463).
const STORE_FAILED: &str = "451 4.3.0 Error: cannot store the message, try again later\r\n";

#[derive(Debug, Default)]
struct DataState {
    msg: Vec<u8>,
    line_start: usize,
    line_len: usize,
    first: Option<u8>,
    prev_byte: u8,
    prev_line_crlf: bool,
    over_size: bool,
    bare_lf: bool,
    text_line_too_long: bool,
    dropped_mid_data: bool,
}

/// One SMTP server connection, sans-IO. See the module docs for the calling order.
pub struct Session {
    cfg: Arc<SessionConfig>,
    shared: SharedState,
    connection: u64,
    phase: Phase,
    tls: bool,
    helo: Option<String>,
    auth_user: Option<String>,
    mail_from: Option<String>,
    rcpts: Vec<String>,
    line: Vec<u8>,
    line_overflow: bool,
    data: DataState,
    now: Instant,
    started: Instant,
    last_activity: Instant,
    delayed: VecDeque<(Instant, Out)>,
    hold_until: Option<Instant>,
    transmit: VecDeque<Vec<u8>>,
    /// Sequence number of `transmit`'s front element.
    transmit_front: u64,
    /// `250` replies to accepted messages still in `transmit`: (message id, sequence number,
    /// transcript entry).
    stored_replies: Vec<(u64, u64, Option<usize>)>,
    events: VecDeque<Event>,
    transcript: Transcript,
    counts: [u32; 12],
    rng: ChaCha8Rng,
    /// The overlong line being discarded is an AUTH line or response (all of it is secret).
    overflow_secret: bool,
    /// Bytes discarded after STARTTLS: the start of the current line, and whether an `AUTH`
    /// line was seen (everything from it on is secret).
    discard_head: Vec<u8>,
    discard_secret: bool,
    /// Failed AUTH attempts on this connection.
    auth_failures: u32,
    /// Lines after an AUTH that got no challenge: a pipelining client may have sent its
    /// responses anyway, so they are secret unless they are SMTP commands.
    stray_auth_lines: u8,
}

impl fmt::Debug for Session {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Session")
            .field("connection", &self.connection)
            .field("phase", &self.phase)
            .field("tls", &self.tls)
            .field("helo", &self.helo)
            .field("auth_user", &self.auth_user)
            .finish_non_exhaustive()
    }
}

fn point_index(p: Point) -> usize {
    match p {
        Point::Greeting => 0,
        Point::Ehlo => 1,
        Point::Helo => 2,
        Point::Auth => 3,
        Point::Mail => 4,
        Point::Rcpt => 5,
        Point::Data => 6,
        Point::DataEnd => 7,
        Point::Rset => 8,
        Point::Noop => 9,
        Point::Quit => 10,
        Point::StartTls => 11,
    }
}

/// What the fault script decided for one point.
#[derive(Debug, Default)]
struct Decision {
    reply: Option<(u16, String)>,
    drop: bool,
    delay: Duration,
}

/// Keeps reply text printable and on one line.
fn clean(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_control() { '?' } else { c })
        .collect()
}

impl Session {
    // ---- construction -------------------------------------------------------------------

    /// A new session on connection number `connection`; `tls` is true for implicit TLS (the
    /// handshake is already done). Queues the greeting, or closes at once when the profile refuses
    /// plain connections (tencent-ses, ERRATA S1) or a fault drops before the greeting.
    pub fn new(
        config: Arc<SessionConfig>,
        shared: SharedState,
        connection: u64,
        tls: bool,
        now: Instant,
    ) -> Session {
        let seed = config.faults.seed.wrapping_add(connection);
        let mut s = Session {
            transcript: Transcript::new(connection, tls, config.limits.max_transcript),
            cfg: config,
            shared,
            connection,
            phase: Phase::Command,
            tls,
            helo: None,
            auth_user: None,
            mail_from: None,
            rcpts: Vec::new(),
            line: Vec::new(),
            line_overflow: false,
            data: DataState::default(),
            now,
            started: now,
            last_activity: now,
            delayed: VecDeque::new(),
            hold_until: None,
            transmit: VecDeque::new(),
            transmit_front: 0,
            stored_replies: Vec::new(),
            events: VecDeque::new(),
            counts: [0; 12],
            rng: ChaCha8Rng::seed_from_u64(seed),
            overflow_secret: false,
            discard_head: Vec::new(),
            discard_secret: false,
            auth_failures: 0,
            stray_auth_lines: 0,
        };
        // 003 "SMTP 服务地址": only port 465 with SSL; "目前已禁用 25 端口" (ERRATA S1).
        if s.cfg.profile == Profile::TencentSes && !tls {
            s.close_now(CloseReason::Refused);
            return s;
        }
        if s.fires_drop(DropAt::BeforeGreeting) {
            s.close_now(CloseReason::FaultDrop);
            return s;
        }
        let d = s.decide(Point::Greeting);
        s.hold(d.delay);
        if d.drop {
            s.queue_close(CloseReason::FaultDrop);
        } else if let Some((code, text)) = d.reply {
            s.reply(code, &text);
            if code == 421 {
                // RFC 5321 §3.1 / §4.2.3: 421 closes the channel.
                s.queue_close(CloseReason::Refused);
            } else {
                // RFC 5321 §3.1: after 554 the server waits for QUIT.
                s.phase = Phase::Refused;
            }
        } else {
            let host = s.cfg.hostname.clone();
            s.reply(220, &format!("{host} ESMTP atconform smtp-sink"));
        }
        s.release_hold();
        s
    }

    /// Records the negotiated TLS parameters in the transcript.
    pub fn set_tls_info(&mut self, info: crate::transcript::TlsInfo) {
        self.transcript.tls = Some(info);
    }

    /// Records why the TLS handshake after STARTTLS failed.
    pub fn set_tls_error(&mut self, error: impl Into<String>) {
        self.transcript.tls_error = Some(error.into());
    }

    /// Records the client's address in the transcript.
    pub fn set_peer(&mut self, peer: impl Into<String>) {
        self.transcript.peer = Some(peer.into());
    }

    // ---- getters ------------------------------------------------------------------------

    /// The connection number.
    pub fn connection(&self) -> u64 {
        self.connection
    }

    /// Whether the session has ended (no more input is processed).
    pub fn is_closed(&self) -> bool {
        self.phase == Phase::Closed
    }

    /// Whether the connection is protected by TLS.
    pub fn is_tls(&self) -> bool {
        self.tls
    }

    /// The transcript so far.
    pub fn transcript(&self) -> &Transcript {
        &self.transcript
    }

    /// The transcript, consuming the session.
    pub fn into_transcript(self) -> Transcript {
        self.transcript
    }

    // ---- handle_* -----------------------------------------------------------------------

    /// Feeds bytes received from the client at `now`.
    pub fn handle_input(&mut self, now: Instant, mut input: &[u8]) {
        self.now = now;
        while !input.is_empty() {
            match self.phase {
                Phase::Closed => return,
                Phase::AwaitTls => {
                    // RFC 3207 §4.2 / CVE-2011-0411: bytes pipelined after STARTTLS are discarded.
                    self.discard_after_starttls(input);
                    return;
                }
                Phase::Data => {
                    let used = self.ingest_data(input);
                    input = input.get(used..).unwrap_or_default();
                }
                _ => {
                    let used = self.ingest_line(input);
                    input = input.get(used..).unwrap_or_default();
                }
            }
        }
    }

    /// The client closed its side at `now`. A message in progress is discarded.
    pub fn handle_eof(&mut self, now: Instant) {
        self.now = now;
        if self.phase == Phase::Closed && self.delayed.is_empty() {
            return;
        }
        // A close still waiting behind a delayed reply happens now: nobody is left to read it.
        let reason = if self.phase == Phase::Data {
            CloseReason::ClientClosedMidData
        } else {
            CloseReason::ClientClosed
        };
        self.flush_partial_line();
        self.close_now(reason);
    }

    /// Time has reached `now`: releases delayed replies, enforces idle and session timeouts.
    pub fn handle_timeout(&mut self, now: Instant) {
        self.now = now;
        while self.delayed.front().is_some_and(|(t, _)| *t <= now) {
            if let Some((_, out)) = self.delayed.pop_front() {
                self.emit(out);
            }
            self.last_activity = now;
        }
        if self.phase == Phase::Closed || !self.delayed.is_empty() {
            return;
        }
        let host = self.cfg.hostname.clone();
        if now >= self.started + self.cfg.limits.max_session {
            self.flush_partial_line();
            self.reply(421, &format!("4.4.2 {host} Error: session too long"));
            self.queue_close(CloseReason::SessionTooLong);
        } else if now >= self.last_activity + self.cfg.limits.idle_timeout {
            self.flush_partial_line();
            self.reply(421, &format!("4.4.2 {host} Error: timeout exceeded"));
            self.queue_close(CloseReason::IdleTimeout);
        }
    }

    /// The TLS handshake after STARTTLS completed: the session restarts (RFC 3207 §4.2).
    pub fn tls_established(&mut self, now: Instant) {
        self.now = now;
        if self.phase != Phase::AwaitTls {
            return;
        }
        self.tls = true;
        self.helo = None;
        self.auth_user = None;
        self.reset_transaction();
        self.discard_head.clear();
        self.discard_secret = false;
        self.phase = Phase::Command;
        self.last_activity = now;
        self.transcript.mark_tls(now.elapsed());
    }

    /// Ends the session from the adapter's side (shutdown, socket error, failed TLS).
    pub fn close(&mut self, now: Instant, reason: CloseReason) {
        self.now = now;
        if self.phase != Phase::Closed {
            self.flush_partial_line();
            self.close_now(reason);
        }
    }

    // ---- poll_* -------------------------------------------------------------------------

    /// Next bytes to send to the client.
    pub fn poll_transmit(&mut self) -> Option<Vec<u8>> {
        let b = self.transmit.pop_front()?;
        self.transmit_front += 1;
        let front = self.transmit_front;
        self.stored_replies.retain(|(_, seq, _)| *seq >= front);
        Some(b)
    }

    /// Storing accepted message `id` failed: its `250`, not yet taken with
    /// [`Session::poll_transmit`], becomes `451 4.3.0` (the client keeps the message and may
    /// retry). Returns false when that reply was already taken (too late to change).
    pub fn store_failed(&mut self, id: u64) -> bool {
        let Some(pos) = self.stored_replies.iter().position(|(i, _, _)| *i == id) else {
            return false;
        };
        let (_, seq, entry) = self.stored_replies.remove(pos);
        let Some(slot) = usize::try_from(seq - self.transmit_front)
            .ok()
            .and_then(|i| self.transmit.get_mut(i))
        else {
            return false;
        };
        *slot = STORE_FAILED.as_bytes().to_vec();
        if let Some(i) = entry {
            self.transcript.replace_entry(i, STORE_FAILED.as_bytes());
        }
        self.transcript.messages.retain(|m| *m != id);
        true
    }

    /// Next event for the adapter.
    pub fn poll_event(&mut self) -> Option<Event> {
        self.events.pop_front()
    }

    /// When [`Session::handle_timeout`] should next be called.
    pub fn poll_timeout(&self) -> Option<Instant> {
        if self.phase == Phase::Closed && self.delayed.is_empty() {
            return None;
        }
        if let Some((t, _)) = self.delayed.front() {
            return Some(*t);
        }
        let idle = self.last_activity + self.cfg.limits.idle_timeout;
        let max = self.started + self.cfg.limits.max_session;
        Some(idle.min(max))
    }

    /// The idle or total-session deadline, whichever comes first (`None` once closed). An
    /// adapter enforces it while a write is blocked: a client that does not read is idle.
    pub fn io_deadline(&self) -> Option<Instant> {
        if self.phase == Phase::Closed {
            return None;
        }
        let idle = self.last_activity + self.cfg.limits.idle_timeout;
        let max = self.started + self.cfg.limits.max_session;
        Some(idle.min(max))
    }

    // ---- output -------------------------------------------------------------------------

    fn emit(&mut self, out: Out) {
        match out {
            Out::Bytes(b) => {
                self.transcript
                    .push(self.now.elapsed(), Direction::ServerToClient, &b, None);
                self.transmit.push_back(b);
            }
            Out::Stored(id, b) => {
                let before = self.transcript.entries.len();
                self.transcript
                    .push(self.now.elapsed(), Direction::ServerToClient, &b, None);
                let entry = (self.transcript.entries.len() > before).then_some(before);
                let seq = self.transmit_front + self.transmit.len() as u64;
                self.stored_replies.push((id, seq, entry));
                self.transmit.push_back(b);
            }
            Out::Event(e) => {
                if let Event::Close(reason) = e {
                    self.end(reason);
                }
                self.events.push_back(e);
            }
        }
    }

    fn push_out(&mut self, out: Out) {
        let release = match (self.hold_until, self.delayed.back()) {
            (Some(h), Some((t, _))) => Some(h.max(*t)),
            (Some(h), None) => Some(h),
            (None, Some((t, _))) => Some(*t),
            (None, None) => None,
        };
        match release {
            Some(t) if t > self.now => self.delayed.push_back((t, out)),
            _ => self.emit(out),
        }
    }

    fn hold(&mut self, delay: Duration) {
        if !delay.is_zero() {
            self.hold_until = Some(self.now + delay);
        }
    }

    fn release_hold(&mut self) {
        self.hold_until = None;
    }

    fn reply(&mut self, code: u16, text: &str) {
        self.push_out(Out::Bytes(
            format!("{code} {}\r\n", clean(text)).into_bytes(),
        ));
    }

    fn reply_raw(&mut self, line: String) {
        self.push_out(Out::Bytes(format!("{}\r\n", clean(&line)).into_bytes()));
    }

    fn queue_close(&mut self, reason: CloseReason) {
        if self.phase == Phase::Closed {
            return;
        }
        self.phase = Phase::Closed;
        self.push_out(Out::Event(Event::Close(reason)));
    }

    fn close_now(&mut self, reason: CloseReason) {
        self.phase = Phase::Closed;
        self.delayed.clear();
        self.emit(Out::Event(Event::Close(reason)));
    }

    fn end(&mut self, reason: CloseReason) {
        if self.transcript.end.is_none() {
            self.transcript.end = Some(SessionEnd {
                at: self.now.elapsed(),
                reason,
            });
        }
    }

    fn record_in(&mut self, bytes: &[u8], secret: Option<Range<usize>>) {
        self.transcript
            .push(self.now.elapsed(), Direction::ClientToServer, bytes, secret);
    }

    // ---- faults -------------------------------------------------------------------------

    fn gate(&mut self) -> bool {
        match self.cfg.faults.probability {
            None => true,
            Some(p) => self.rng.random_bool(p.clamp(0.0, 1.0)),
        }
    }

    fn fires_drop(&mut self, at: DropAt) -> bool {
        let cfg = Arc::clone(&self.cfg);
        cfg.faults
            .rules
            .iter()
            .any(|r| r.at == Trigger::Drop(at) && r.action == Action::Drop && self.gate())
    }

    fn decide(&mut self, point: Point) -> Decision {
        let idx = point_index(point);
        self.counts[idx] = self.counts[idx].saturating_add(1);
        let n = self.counts[idx];
        let cfg = Arc::clone(&self.cfg);
        let mut d = Decision::default();
        for rule in &cfg.faults.rules {
            if rule.at != Trigger::Point(point) || rule.nth.is_some_and(|k| k != n) {
                continue;
            }
            match &rule.action {
                Action::Delay(by) if self.gate() => d.delay += *by,
                Action::Drop if d.reply.is_none() && !d.drop && self.gate() => d.drop = true,
                Action::Reply { code, text } if d.reply.is_none() && !d.drop && self.gate() => {
                    d.reply = Some((*code, text.clone()))
                }
                _ => {}
            }
        }
        d
    }

    // ---- command lines ------------------------------------------------------------------

    /// Consumes bytes up to and including the next LF; returns how many were used.
    fn ingest_line(&mut self, input: &[u8]) -> usize {
        let max = self.cfg.limits.max_command_line;
        let (chunk, complete) = match memchr::memchr(b'\n', input) {
            Some(pos) => (input.get(..=pos).unwrap_or(input), true),
            None => (input, false),
        };
        let chunk_body = if complete {
            chunk
                .strip_suffix(b"\r\n")
                .or_else(|| chunk.strip_suffix(b"\n"))
                .map_or(chunk.len(), <[u8]>::len)
        } else {
            chunk.len()
        };
        if self.line_overflow {
            let secret = (self.in_auth() || self.overflow_secret).then_some(0..chunk_body);
            self.record_in(chunk, secret);
        } else if self.line.len() + chunk.len() > max {
            // Overlong: record what came and discard until LF (bounded memory). An AUTH line
            // or response stays secret however long it is.
            let pending = std::mem::take(&mut self.line);
            let mut head: Vec<u8> = pending.iter().take(5).copied().collect();
            head.extend(chunk.iter().take(5 - head.len()));
            let auth_line = self.in_auth() || starts_with_ci(&head, b"AUTH");
            let secret = if self.in_auth() || (auth_line && !pending.is_empty()) {
                Some(0..chunk_body)
            } else if auth_line {
                auth_secret_range(chunk, chunk_body).or(Some(0..0))
            } else {
                None
            };
            self.flush_line_bytes(&pending);
            self.record_in(chunk, secret.filter(|r| !r.is_empty()));
            self.overflow_secret = auth_line;
            self.line_overflow = true;
        } else {
            self.line.extend_from_slice(chunk);
        }
        if complete {
            self.last_activity = self.now;
            if self.line_overflow {
                self.line_overflow = false;
                self.overflow_secret = false;
                // 004: "500 ... (This may include errors such as command line too long)".
                self.reply(500, "5.5.2 Error: line too long");
                if self.in_auth() {
                    self.phase = Phase::Command;
                }
            } else {
                let line = std::mem::take(&mut self.line);
                self.process_line(&line);
                if self.line.capacity() < 1024 {
                    self.line = line;
                    self.line.clear();
                }
            }
        }
        chunk.len()
    }

    fn in_auth(&self) -> bool {
        matches!(
            self.phase,
            Phase::AuthLoginUser | Phase::AuthLoginPass { .. } | Phase::AuthPlain
        )
    }

    /// Records bytes of an unfinished line, redacting what may be a credential.
    fn flush_line_bytes(&mut self, bytes: &[u8]) {
        let secret = if self.in_auth() {
            (!bytes.is_empty()).then_some(0..bytes.len())
        } else {
            auth_secret_range(bytes, bytes.len())
        };
        self.record_in(bytes, secret);
    }

    /// Records bytes received after STARTTLS (discarded, RFC 3207 §4.2), secret from the first
    /// line that starts with `AUTH` on.
    fn discard_after_starttls(&mut self, input: &[u8]) {
        let mut secret_from = self.discard_secret.then_some(0);
        if secret_from.is_none() {
            let mut line_start = 0;
            for (i, &b) in input.iter().enumerate() {
                if b == b'\n' {
                    self.discard_head.clear();
                    line_start = i + 1;
                    continue;
                }
                if self.discard_head.len() < 4 {
                    self.discard_head.push(b);
                    if self.discard_head.eq_ignore_ascii_case(b"AUTH") {
                        self.discard_secret = true;
                        secret_from = Some(line_start);
                        break;
                    }
                }
            }
        }
        self.record_in(input, secret_from.map(|s| s..input.len()));
    }

    fn flush_partial_line(&mut self) {
        if !self.line.is_empty() {
            let pending = std::mem::take(&mut self.line);
            self.flush_line_bytes(&pending);
        }
        if self.phase == Phase::Data {
            self.data = DataState::default();
        }
    }

    fn process_line(&mut self, line: &[u8]) {
        let body_end = line
            .strip_suffix(b"\r\n")
            .or_else(|| line.strip_suffix(b"\n"))
            .map_or(line.len(), <[u8]>::len);
        let in_auth = self.in_auth();
        let stray = self.stray_auth_lines > 0 && !in_auth && !is_command(line);
        self.stray_auth_lines = self.stray_auth_lines.saturating_sub(1);
        let secret = if in_auth || stray {
            (body_end > 0).then_some(0..body_end)
        } else {
            auth_secret_range(line, body_end)
        };
        self.record_in(line, secret);
        let auth_command = !in_auth && starts_with_ci(line, b"AUTH");

        if self.cfg.profile.strict_crlf() && !line.ends_with(b"\r\n") {
            // RFC 5321 §2.3.8: lines end with CRLF; a bare LF is not a line ending.
            self.reply(500, "5.5.2 Error: bare LF received");
            if in_auth {
                self.phase = Phase::Command;
            }
            return;
        }
        let text = line.get(..body_end).unwrap_or_default();
        match self.phase.clone() {
            Phase::AuthLoginUser => self.auth_login_user(text),
            Phase::AuthLoginPass { user } => self.auth_login_pass(&user, text),
            Phase::AuthPlain => self.auth_plain(text),
            Phase::Refused => {
                // RFC 5321 §3.1: after a 554 greeting, answer 503 to all but QUIT.
                if matches!(Request::parse(&mut line.iter()), Ok(Request::Quit)) {
                    self.quit();
                } else {
                    self.reply(503, "5.5.1 Error: no SMTP service here");
                }
            }
            _ => {
                self.command(line);
                if auth_command && !self.in_auth() && self.auth_user.is_none() {
                    self.stray_auth_lines = 2;
                }
            }
        }
    }

    fn command(&mut self, line: &[u8]) {
        let req = match Request::parse(&mut line.iter()) {
            Ok(r) => r.into_owned(),
            Err(e) => {
                let upper: Vec<u8> = line.iter().take(5).map(u8::to_ascii_uppercase).collect();
                let not_impl = [&b"TURN"[..], b"ATRN", b"ETRN", b"BDAT", b"BURL", b"LHLO"]
                    .iter()
                    .any(|c| upper.starts_with(c));
                let (code, text) = match e {
                    _ if not_impl => (502, "5.5.1 Error: command not implemented".into()),
                    smtp_proto::Error::UnknownCommand => {
                        (500, "5.5.2 Error: command not recognized".into())
                    }
                    smtp_proto::Error::InvalidSenderAddress => {
                        (501, "5.1.7 Error: bad sender address syntax".into())
                    }
                    smtp_proto::Error::InvalidRecipientAddress => {
                        (501, "5.1.3 Error: bad recipient address syntax".into())
                    }
                    smtp_proto::Error::SyntaxError { syntax } => {
                        (501, format!("5.5.4 Syntax: {syntax}"))
                    }
                    smtp_proto::Error::InvalidParameter { param } => {
                        (501, format!("5.5.4 Error: invalid parameter {param}"))
                    }
                    smtp_proto::Error::UnsupportedParameter { param } => {
                        (555, format!("5.5.4 Error: unsupported parameter {param}"))
                    }
                    _ => (500, "5.5.2 Error: command not recognized".into()),
                };
                self.reply(code, &text);
                return;
            }
        };
        let point = match &req {
            Request::Ehlo { .. } => Some(Point::Ehlo),
            Request::Helo { .. } => Some(Point::Helo),
            Request::Auth { .. } => Some(Point::Auth),
            Request::Mail { .. } => Some(Point::Mail),
            Request::Rcpt { .. } => Some(Point::Rcpt),
            Request::Data => Some(Point::Data),
            Request::Rset => Some(Point::Rset),
            Request::Noop { .. } => Some(Point::Noop),
            Request::Quit => Some(Point::Quit),
            Request::StartTls => Some(Point::StartTls),
            _ => None,
        };
        if let Some(p) = point {
            let d = self.decide(p);
            if d.drop {
                self.close_now(CloseReason::FaultDrop);
                return;
            }
            self.hold(d.delay);
            if let Some((code, text)) = d.reply {
                self.reply(code, &text);
                self.release_hold();
                return;
            }
        }
        self.dispatch(req, line);
        self.release_hold();
    }

    fn dispatch(&mut self, req: Request<String>, line: &[u8]) {
        let host = self.cfg.hostname.clone();
        let strict = self.cfg.profile == Profile::Rfc5321;
        match req {
            Request::Ehlo { host: client } => {
                self.helo = Some(client);
                self.reset_transaction();
                let mut lines = vec![format!("{host} greets you")];
                lines.push("PIPELINING".into());
                lines.push(format!("SIZE {}", self.cfg.limits.max_message_size));
                lines.push("8BITMIME".into());
                lines.push("ENHANCEDSTATUSCODES".into());
                if self.cfg.starttls && !self.tls && self.cfg.profile != Profile::TencentSes {
                    lines.push("STARTTLS".into());
                }
                if !self.cfg.mechanisms.is_empty() {
                    let names: Vec<&str> = self.cfg.mechanisms.iter().map(|m| m.as_str()).collect();
                    lines.push(format!("AUTH {}", names.join(" ")));
                }
                let n = lines.len();
                let mut out = Vec::new();
                for (i, l) in lines.iter().enumerate() {
                    let sep = if i + 1 == n { ' ' } else { '-' };
                    out.extend_from_slice(format!("250{sep}{l}\r\n").as_bytes());
                }
                self.push_out(Out::Bytes(out));
            }
            Request::Helo { host: client } => {
                self.helo = Some(client);
                self.reset_transaction();
                self.reply(250, &host);
            }
            Request::StartTls => {
                if !self.cfg.starttls || self.cfg.profile == Profile::TencentSes {
                    self.reply(502, "5.5.1 Error: command not implemented");
                } else if self.tls {
                    self.reply(503, "5.5.1 Error: TLS already active");
                } else {
                    self.reply(220, "2.0.0 Ready to start TLS");
                    self.phase = Phase::AwaitTls;
                    self.push_out(Out::Event(Event::StartTls));
                }
            }
            Request::Auth {
                mechanism,
                initial_response,
            } => self.auth_start(mechanism, &initial_response),
            Request::Mail { from } => {
                if self.helo.is_none() {
                    self.reply(503, "5.5.1 Error: send HELO/EHLO first");
                } else if self.mail_from.is_some() {
                    self.reply(503, "5.5.1 Error: nested MAIL command");
                } else if self.cfg.require_auth && self.auth_user.is_none() {
                    // RFC 4954 §6.
                    self.reply(530, "5.7.0 Authentication required");
                } else if strict && !starts_with_ci(line, b"MAIL FROM:<") {
                    self.reply(501, "5.5.4 Syntax: MAIL FROM:<address>");
                } else if from.size > self.cfg.limits.max_message_size {
                    self.reply(
                        552,
                        "5.3.4 Error: message size exceeds fixed maximum message size",
                    );
                } else {
                    self.mail_from = Some(from.address);
                    self.reply(250, "2.1.0 Ok");
                }
            }
            Request::Rcpt { to } => {
                if self.mail_from.is_none() {
                    self.reply(503, "5.5.1 Error: need MAIL command");
                } else if strict && !starts_with_ci(line, b"RCPT TO:<") {
                    self.reply(501, "5.5.4 Syntax: RCPT TO:<address>");
                } else if self.rcpts.len() >= self.cfg.limits.max_recipients {
                    // RFC 5321 §4.5.3.1.10.
                    self.reply(452, "4.5.3 Error: too many recipients");
                } else if self.greylisted(&to.address) {
                    self.reply(451, "4.7.1 Greylisted, please try again later");
                } else {
                    self.rcpts.push(to.address);
                    self.reply(250, "2.1.5 Ok");
                }
            }
            Request::Data => {
                if self.mail_from.is_none() {
                    self.reply(503, "5.5.1 Error: need MAIL command");
                } else if self.rcpts.is_empty() {
                    self.reply(503, "5.5.1 Error: need RCPT command");
                } else {
                    self.reply(354, "End data with <CR><LF>.<CR><LF>");
                    self.phase = Phase::Data;
                    self.data = DataState {
                        prev_line_crlf: true,
                        ..DataState::default()
                    };
                }
            }
            Request::Rset => {
                self.reset_transaction();
                self.reply(250, "2.0.0 Ok");
            }
            Request::Noop { .. } => self.reply(250, "2.0.0 Ok"),
            Request::Quit => self.quit(),
            Request::Vrfy { .. } => self.reply(
                252,
                "2.0.0 Cannot VRFY user, but will accept message and attempt delivery",
            ),
            Request::Help { .. } => self.reply(
                214,
                "2.0.0 Commands: EHLO HELO MAIL RCPT DATA RSET NOOP QUIT VRFY AUTH STARTTLS",
            ),
            _ => self.reply(502, "5.5.1 Error: command not implemented"),
        }
    }

    fn quit(&mut self) {
        let host = self.cfg.hostname.clone();
        self.reply(221, &format!("2.0.0 {host} closing connection"));
        self.queue_close(CloseReason::Quit);
    }

    fn reset_transaction(&mut self) {
        self.mail_from = None;
        self.rcpts.clear();
    }

    fn greylisted(&mut self, rcpt: &str) -> bool {
        let Some(wait) = self.cfg.faults.greylist else {
            return false;
        };
        let key = (
            self.mail_from.clone().unwrap_or_default(),
            rcpt.to_ascii_lowercase(),
        );
        let now = self.now;
        let mut shared = self.shared.lock();
        match shared.greylist.get(&key) {
            None => {
                if shared.greylist.len() > 100_000 {
                    shared.greylist.clear();
                }
                shared.greylist.insert(key, now);
                true
            }
            Some(&first) => now.saturating_duration_since(first) < wait,
        }
    }

    // ---- AUTH (RFC 4954; LOGIN as in 004 step 2) ----------------------------------------

    /// The client's IP address (without the port), when the adapter told us.
    fn peer_ip(&self) -> Option<String> {
        let peer = self.transcript.peer.as_deref()?;
        Some(match peer.parse::<std::net::SocketAddr>() {
            Ok(a) => a.ip().to_string(),
            Err(_) => peer.to_owned(),
        })
    }

    fn auth_start(&mut self, mechanism: u64, initial: &str) {
        let throttled = self.peer_ip().is_some_and(|ip| {
            let limit = self.cfg.limits.max_auth_failures_per_address as usize;
            self.shared.recent_auth_failures(&ip, self.now) >= limit
        });
        if throttled {
            // RFC 4954 §6: 454 4.7.0 Temporary authentication failure.
            self.reply(
                454,
                "4.7.0 Error: too many authentication failures from your address, try again later",
            );
        } else if self.helo.is_none() {
            self.reply(503, "5.5.1 Error: send HELO/EHLO first");
        } else if self.auth_user.is_some() {
            self.reply(503, "5.5.1 Error: already authenticated");
        } else if self.mail_from.is_some() {
            self.reply(503, "5.5.1 Error: MAIL transaction in progress");
        } else if !self.offers(mechanism) {
            // RFC 4954 §4: a mechanism the server does not support (or did not offer).
            self.reply(504, "5.5.4 Error: unrecognized authentication type");
        } else if mechanism == smtp_proto::AUTH_LOGIN {
            if initial.is_empty() {
                self.reply(334, "VXNlcm5hbWU6");
                self.phase = Phase::AuthLoginUser;
            } else {
                self.auth_login_user(initial.as_bytes());
            }
        } else if mechanism == smtp_proto::AUTH_PLAIN {
            if initial.is_empty() {
                self.reply_raw("334 ".into());
                self.phase = Phase::AuthPlain;
            } else {
                self.auth_plain(initial.as_bytes());
            }
        } else {
            self.reply(504, "5.5.4 Error: unrecognized authentication type");
        }
    }

    fn offers(&self, mechanism: u64) -> bool {
        self.cfg.mechanisms.iter().any(|m| match m {
            Mechanism::Plain => mechanism == smtp_proto::AUTH_PLAIN,
            Mechanism::Login => mechanism == smtp_proto::AUTH_LOGIN,
        })
    }

    fn decode_b64(&mut self, text: &[u8]) -> Option<Vec<u8>> {
        if text == b"*" {
            self.phase = Phase::Command;
            self.reply(501, "5.7.0 Authentication cancelled");
            return None;
        }
        if text == b"=" {
            return Some(Vec::new());
        }
        match base64::engine::general_purpose::STANDARD.decode(text) {
            Ok(v) => Some(v),
            Err(_) => {
                self.phase = Phase::Command;
                self.reply(501, "5.5.2 Error: cannot decode response");
                None
            }
        }
    }

    fn auth_login_user(&mut self, text: &[u8]) {
        let Some(user) = self.decode_b64(text) else {
            return;
        };
        self.phase = Phase::AuthLoginPass {
            user: String::from_utf8_lossy(&user).into_owned(),
        };
        self.reply(334, "UGFzc3dvcmQ6");
    }

    fn auth_login_pass(&mut self, user: &str, text: &[u8]) {
        let Some(pass) = self.decode_b64(text) else {
            return;
        };
        let pass = String::from_utf8_lossy(&pass).into_owned();
        self.finish_auth(user.to_string(), &pass);
    }

    fn auth_plain(&mut self, text: &[u8]) {
        let Some(raw) = self.decode_b64(text) else {
            return;
        };
        let mut parts = raw.split(|&b| b == 0);
        let (_authz, user, pass) = (parts.next(), parts.next(), parts.next());
        match (user, pass, parts.next()) {
            (Some(u), Some(p), None) => {
                let user = String::from_utf8_lossy(u).into_owned();
                let pass = String::from_utf8_lossy(p).into_owned();
                self.finish_auth(user, &pass);
            }
            _ => {
                self.phase = Phase::Command;
                self.reply(501, "5.5.2 Error: malformed PLAIN response");
            }
        }
    }

    fn finish_auth(&mut self, user: String, pass: &str) {
        self.phase = Phase::Command;
        let ok = match &self.cfg.auth {
            AuthPolicy::AcceptAny => !user.is_empty(),
            AuthPolicy::Accounts(list) => list.iter().any(|a| a.user == user && a.password == pass),
        };
        if ok {
            self.auth_user = Some(user);
            self.reply(235, "2.7.0 Authentication successful");
            return;
        }
        self.reply(535, "5.7.8 Error: authentication credentials invalid");
        self.auth_failures = self.auth_failures.saturating_add(1);
        let limits = &self.cfg.limits;
        let keep = limits.max_auth_failures_per_address as usize;
        let too_many = self.auth_failures >= limits.max_auth_failures.max(1);
        if let Some(ip) = self.peer_ip() {
            self.shared.note_auth_failure(&ip, self.now, keep);
        }
        if too_many {
            let host = self.cfg.hostname.clone();
            self.reply(
                421,
                &format!("4.7.0 {host} Error: too many authentication failures"),
            );
            self.queue_close(CloseReason::TooManyAuthFailures);
        }
    }

    // ---- DATA ---------------------------------------------------------------------------

    /// Consumes message bytes; returns how many were used (stops after the final `.` line).
    fn ingest_data(&mut self, input: &[u8]) -> usize {
        if self.data.msg.is_empty() && self.data.line_len == 0 && self.fires_drop(DropAt::MidData) {
            self.record_in(input, None);
            self.data.dropped_mid_data = true;
            self.close_now(CloseReason::FaultDrop);
            return input.len();
        }
        let mut used = 0;
        while used < input.len() {
            let rest = input.get(used..).unwrap_or_default();
            let (seg, complete) = match memchr::memchr(b'\n', rest) {
                Some(p) => (rest.get(..=p).unwrap_or(rest), true),
                None => (rest, false),
            };
            used += seg.len();
            self.record_in(seg, None);
            if self.push_data_segment(seg, complete) {
                self.end_of_data();
                return used;
            }
            if self.phase != Phase::Data {
                return used;
            }
        }
        used
    }

    /// Adds a segment of the current line; returns true when it completed the final `.` line.
    fn push_data_segment(&mut self, seg: &[u8], complete: bool) -> bool {
        let max = self.cfg.limits.max_message_size;
        let d = &mut self.data;
        if d.line_len == 0 {
            // Only CRLF ends a line (RFC 5321 §2.3.8): after a bare LF, no dot handling.
            d.first = if d.prev_line_crlf {
                seg.first().copied()
            } else {
                None
            };
        }
        let room = max.saturating_sub(d.msg.len());
        if seg.len() > room {
            d.over_size = true;
        }
        d.msg
            .extend_from_slice(seg.get(..seg.len().min(room)).unwrap_or_default());
        let prev = d.prev_byte;
        d.line_len += seg.len();
        d.prev_byte = seg.last().copied().unwrap_or(prev);
        if d.over_size && self.cfg.profile == Profile::TencentSes {
            // 003 "附件9M左右 返回 EOF ... 整体报文大小不能超过10M" (ERRATA S6).
            d.msg = Vec::new();
            self.close_now(CloseReason::ProtocolError);
            return false;
        }
        if !complete {
            return false;
        }
        self.last_activity = self.now;
        let before_lf = if seg.len() >= 2 {
            seg.get(seg.len() - 2).copied().unwrap_or(0)
        } else {
            prev
        };
        let crlf = d.line_len >= 2 && before_lf == b'\r';
        let content = d.line_len - if crlf { 2 } else { 1 };
        // RFC 5321 §4.1.1.4: the end is CRLF "." CRLF; a bare-LF variant is not (SMTP smuggling).
        if d.first == Some(b'.') && content == 1 && crlf && d.prev_line_crlf {
            d.msg.truncate(d.line_start);
            return true;
        }
        if d.first == Some(b'.') {
            // RFC 5321 §4.5.2 transparency: drop the first dot.
            if d.line_start < d.msg.len() {
                d.msg.remove(d.line_start);
            }
        }
        if !crlf {
            d.bare_lf = true;
        }
        // RFC 5321 §4.5.3.1.6: 1000 octets with CRLF, "not counting the leading dot duplicated
        // for transparency".
        let stuffed = usize::from(d.first == Some(b'.'));
        if let Some(limit) = self.cfg.limits.max_text_line
            && d.line_len - stuffed > limit
        {
            d.text_line_too_long = true;
        }
        d.prev_line_crlf = crlf;
        d.line_len = 0;
        d.first = None;
        d.line_start = d.msg.len();
        false
    }

    fn end_of_data(&mut self) {
        self.phase = Phase::Command;
        let data = std::mem::take(&mut self.data);
        let mail_from = self.mail_from.take().unwrap_or_default();
        let rcpts = std::mem::take(&mut self.rcpts);
        let d = self.decide(Point::DataEnd);
        if d.drop {
            self.close_now(CloseReason::FaultDrop);
            return;
        }
        self.hold(d.delay);
        if let Some((code, text)) = d.reply {
            self.reply(code, &text);
        } else if let Err(why) = self.judge(&data, &mail_from, &rcpts) {
            self.reply_raw(why.to_string());
        } else {
            let id = {
                let mut s = self.shared.lock();
                let id = s.next_id;
                s.next_id += 1;
                id
            };
            let msg = StoredMessage {
                id,
                connection: self.connection,
                received_at: self.now.elapsed(),
                envelope: Envelope {
                    mail_from,
                    rcpt_to: rcpts,
                    auth_user: self.auth_user.clone(),
                    tls: self.tls,
                    helo: self.helo.clone().unwrap_or_default(),
                    tls_version: self.transcript.tls.as_ref().map(|t| t.version.clone()),
                    tls_cipher: self.transcript.tls.as_ref().map(|t| t.cipher.clone()),
                },
                raw: data.msg,
            };
            self.transcript.messages.push(id);
            self.push_out(Out::Event(Event::Accepted(Box::new(msg))));
            let line = format!("250 2.0.0 Ok: queued as {id}\r\n").into_bytes();
            self.push_out(Out::Stored(id, line));
        }
        self.release_hold();
    }

    /// Profile checks at end of data; `Err` displays as the reply line.
    fn judge(&mut self, data: &DataState, from: &str, rcpts: &[String]) -> Result<(), Rejection> {
        if data.over_size {
            return Err(Rejection::TooBig);
        }
        match self.cfg.profile {
            Profile::Permissive => Ok(()),
            Profile::Rfc5321 => {
                if data.bare_lf {
                    Err(Rejection::BareLf)
                } else if data.text_line_too_long {
                    Err(Rejection::LongLine)
                } else {
                    Ok(())
                }
            }
            Profile::TencentSes => {
                if ses::body_line_too_long(&data.msg, self.cfg.ses.max_line) {
                    return Err(Rejection::SesLongLine);
                }
                let limits = self.cfg.ses.clone();
                let result = ses::check_message(&data.msg, rcpts.len(), &limits).and_then(|()| {
                    let account = self.auth_user.clone().unwrap_or_default();
                    let mut s = self.shared.lock();
                    if s.limiter.try_send(self.now, &limits, &account, from, rcpts) {
                        Ok(())
                    } else {
                        Err(ses::SesViolation::RateLimit)
                    }
                });
                result.map_err(|v| {
                    let id = self.request_id();
                    Rejection::Ses(v.reply(&id))
                })
            }
        }
    }

    /// A UUID-shaped request id from the seeded generator (deterministic per sink seed).
    fn request_id(&mut self) -> String {
        let mut s = self.shared.lock();
        let a: u32 = s.rng.random();
        let b: u16 = s.rng.random();
        let c: u16 = s.rng.random::<u16>() & 0x0fff | 0x4000;
        let d: u16 = s.rng.random::<u16>() & 0x3fff | 0x8000;
        let e: u64 = s.rng.random::<u64>() & 0xffff_ffff_ffff;
        format!("{a:08x}-{b:04x}-{c:04x}-{d:04x}-{e:012x}")
    }
}

fn starts_with_ci(line: &[u8], prefix: &[u8]) -> bool {
    line.len() >= prefix.len()
        && line
            .iter()
            .zip(prefix)
            .all(|(a, b)| a.eq_ignore_ascii_case(b))
}

/// Whether `line` starts with an SMTP command verb (so it is not a stray AUTH response).
fn is_command(line: &[u8]) -> bool {
    const VERBS: [&[u8]; 14] = [
        b"EHLO",
        b"HELO",
        b"MAIL",
        b"RCPT",
        b"DATA",
        b"RSET",
        b"NOOP",
        b"QUIT",
        b"VRFY",
        b"HELP",
        b"AUTH",
        b"STARTTLS",
        b"EXPN",
        b"BDAT",
    ];
    let word_end = line
        .iter()
        .position(|b| matches!(b, b' ' | b'\r' | b'\n'))
        .unwrap_or(line.len());
    let word = line.get(..word_end).unwrap_or_default();
    VERBS.iter().any(|v| word.eq_ignore_ascii_case(v))
}

/// The range of an AUTH command's initial response, if any.
fn auth_secret_range(line: &[u8], body_end: usize) -> Option<Range<usize>> {
    if !starts_with_ci(line, b"AUTH ") {
        return None;
    }
    let body = line.get(..body_end)?;
    let mut i = 5;
    while body.get(i) == Some(&b' ') {
        i += 1;
    }
    while body.get(i).is_some_and(|b| *b != b' ') {
        i += 1;
    }
    while body.get(i) == Some(&b' ') {
        i += 1;
    }
    (i < body_end).then_some(i..body_end)
}

/// Why a message is refused at end of data; displays as the reply line.
#[derive(Debug, thiserror::Error)]
enum Rejection {
    /// Larger than the profile's size limit.
    #[error("552 5.3.4 Error: message file too big")]
    TooBig,
    /// A bare LF (RFC 5321 §2.3.8).
    #[error("554 5.6.0 Error: bare LF in message (RFC 5321 §2.3.8)")]
    BareLf,
    /// A text line over 1000 octets (RFC 5321 §4.5.3.1.6).
    #[error("554 5.6.0 Error: text line longer than 1000 octets (RFC 5321 §4.5.3.1.6)")]
    LongLine,
    /// Tencent SES's too-long-line reply.
    #[error("{SES_TOO_LONG_LINE}")]
    SesLongLine,
    /// Another Tencent SES violation, with its reply line.
    #[error("{0}")]
    Ses(String),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_range_covers_initial_response_only() {
        let l = b"AUTH PLAIN AHUAcA==\r\n";
        assert_eq!(auth_secret_range(l, l.len() - 2), Some(11..19));
        let l = b"AUTH LOGIN\r\n";
        assert_eq!(auth_secret_range(l, l.len() - 2), None);
        assert_eq!(auth_secret_range(b"MAIL FROM:<a>\r\n", 13), None);
    }
}
