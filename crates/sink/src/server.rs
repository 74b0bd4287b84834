//! The tokio adapter: listeners, TLS, connection limits, the API server, and the in-process handle.

use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

use crate::error::Error;
use crate::fault::FaultScript;

/// Longest wall time [`RunningSink::settled`] waits for sessions to be recorded: a loopback
/// close lands in milliseconds; 5 s leaves room for a loaded CI machine.
pub const SETTLE_DEADLINE: Duration = Duration::from_secs(5);

/// How often [`settle`] looks again.
const SETTLE_POLL: Duration = Duration::from_millis(2);

/// The one sink-settling rule every reader of a sink's results uses (the runner before it
/// judges `@mail`/`@smtp`, `atconform record`): `read` gives the messages, the transcripts and
/// how many connections are known to have been made; the sink has settled when each of those
/// connections has its session recorded, every session is closed and every message's session
/// is among them. A session is recorded when its connection closes, just after the client's
/// last byte, so this reads again (wall time) until then, at most [`SETTLE_DEADLINE`], and
/// returns the last reading.
pub fn settle(
    mut read: impl FnMut() -> (Vec<StoredMessage>, Vec<Transcript>, u64),
) -> (Vec<StoredMessage>, Vec<Transcript>) {
    let until = std::time::Instant::now() + SETTLE_DEADLINE;
    loop {
        let (msgs, ts, connections) = read();
        let recorded = ts.len() as u64 >= connections;
        let closed = ts.iter().all(|t| t.end.is_some());
        let mail_recorded = msgs
            .iter()
            .all(|m| ts.iter().any(|t| t.connection == m.connection));
        if (recorded && closed && mail_recorded) || std::time::Instant::now() >= until {
            return (msgs, ts);
        }
        std::thread::sleep(SETTLE_POLL);
    }
}
use crate::message::StoredMessage;
use crate::profile::{Limits, Profile, SesLimits};
use crate::session::{Account, AuthPolicy, Event, Mechanism, Session, SessionConfig, SharedState};
use crate::store::{ErrorCallback, MessageCallback, Store};
use crate::time::{Clock, Instant};
use crate::tls::TlsOptions;
use crate::transcript::{CloseReason, SessionEnd, Transcript};

/// Where the TLS certificate comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TlsSource {
    /// Generated at start for the sink's host name, `localhost`, `127.0.0.1`, `::1` and any name
    /// a client asks for (SNI), signed by the atconform test CA (`at_tls::TEST_CA_PEM`).
    SelfSigned,
    /// PEM files: certificate chain and private key.
    Pem {
        /// Certificate chain file.
        cert: PathBuf,
        /// Private key file.
        key: PathBuf,
    },
}

/// Configuration of a sink; build with the methods, start with [`spawn`] or [`Sink::bind`].
#[derive(Clone)]
pub struct SinkConfig {
    profile: Profile,
    hostname: String,
    smtp: Option<SocketAddr>,
    smtps: Option<SocketAddr>,
    api: Option<SocketAddr>,
    starttls: bool,
    tls: TlsSource,
    tls_options: TlsOptions,
    auth: AuthPolicy,
    mechanisms: Vec<Mechanism>,
    require_auth: Option<bool>,
    store_dir: Option<PathBuf>,
    faults: FaultScript,
    seed: u64,
    clock: Clock,
    limits: Option<Limits>,
    ses: SesLimits,
    max_connections: usize,
    max_connections_per_address: usize,
    max_transcripts: usize,
    on_message: Option<MessageCallback>,
    on_error: Option<ErrorCallback>,
    secrets: Vec<Vec<u8>>,
}

impl std::fmt::Debug for SinkConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SinkConfig")
            .field("profile", &self.profile)
            .field("smtp", &self.smtp)
            .field("smtps", &self.smtps)
            .field("api", &self.api)
            .field("starttls", &self.starttls)
            .field("auth", &self.auth)
            .field("store_dir", &self.store_dir)
            .field("faults", &self.faults)
            .field("seed", &self.seed)
            .finish_non_exhaustive()
    }
}

fn loopback0() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 0))
}

impl SinkConfig {
    /// Defaults: plain SMTP with STARTTLS and implicit TLS, both on `127.0.0.1:0`, no API,
    /// self-signed certificate, any credentials accepted, in-memory store, system clock.
    pub fn new(profile: Profile) -> Self {
        SinkConfig {
            profile,
            hostname: "sink.atconform.test".into(),
            smtp: Some(loopback0()),
            smtps: Some(loopback0()),
            api: None,
            starttls: true,
            tls: TlsSource::SelfSigned,
            tls_options: TlsOptions::default(),
            auth: AuthPolicy::AcceptAny,
            mechanisms: Mechanism::ALL.to_vec(),
            require_auth: None,
            store_dir: None,
            faults: FaultScript::new(),
            seed: 0,
            clock: Clock::system(),
            limits: None,
            ses: SesLimits::default(),
            max_connections: 64,
            max_connections_per_address: 16,
            max_transcripts: 1000,
            on_message: None,
            on_error: None,
            secrets: Vec::new(),
        }
    }

    /// Sets the provider profile.
    pub fn profile(mut self, profile: Profile) -> Self {
        self.profile = profile;
        self
    }

    /// Sets the name used in the greeting and EHLO reply.
    pub fn hostname(mut self, name: impl Into<String>) -> Self {
        self.hostname = name.into();
        self
    }

    /// Plain SMTP listener address (`None`: no plain listener).
    pub fn listen(mut self, addr: Option<SocketAddr>) -> Self {
        self.smtp = addr;
        self
    }

    /// Implicit-TLS (SMTPS) listener address (`None`: none).
    pub fn tls_listen(mut self, addr: Option<SocketAddr>) -> Self {
        self.smtps = addr;
        self
    }

    /// HTTP API address (`None`: no API).
    pub fn api(mut self, addr: Option<SocketAddr>) -> Self {
        self.api = addr;
        self
    }

    /// The AUTH mechanisms EHLO offers and AUTH accepts (default PLAIN and LOGIN; empty: no
    /// AUTH extension).
    pub fn auth_mechanisms(mut self, mechanisms: impl IntoIterator<Item = Mechanism>) -> Self {
        self.mechanisms = mechanisms.into_iter().collect();
        self
    }

    /// Offers STARTTLS on the plain listener (not under tencent-ses).
    pub fn starttls(mut self, on: bool) -> Self {
        self.starttls = on;
        self
    }

    /// Uses this certificate and key instead of a generated one.
    pub fn tls_pem(mut self, cert: impl Into<PathBuf>, key: impl Into<PathBuf>) -> Self {
        self.tls = TlsSource::Pem {
            cert: cert.into(),
            key: key.into(),
        };
        self
    }

    /// Accepts only these TLS versions instead of the profile's (`Profile::tls_versions`).
    pub fn tls_versions(mut self, versions: at_tls::Versions) -> Self {
        self.tls_options.versions = Some(versions);
        self
    }

    /// Accepts only these suites instead of the profile's (`Profile::tls_ciphers`).
    pub fn tls_ciphers(mut self, ciphers: at_tls::Ciphers) -> Self {
        self.tls_options.ciphers = Some(ciphers);
        self
    }

    /// Accepts `user`/`password` in AUTH (and no longer any credentials).
    pub fn account(mut self, user: impl Into<String>, password: impl Into<String>) -> Self {
        let acc = Account::new(user, password);
        match &mut self.auth {
            AuthPolicy::Accounts(list) => list.push(acc),
            AuthPolicy::AcceptAny => self.auth = AuthPolicy::Accounts(vec![acc]),
        }
        self
    }

    /// Sets the AUTH policy.
    pub fn auth(mut self, policy: AuthPolicy) -> Self {
        self.auth = policy;
        self
    }

    /// Whether MAIL requires AUTH first (default: only under tencent-ses).
    pub fn require_auth(mut self, on: bool) -> Self {
        self.require_auth = Some(on);
        self
    }

    /// Also writes messages and transcripts under `dir`.
    pub fn store_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.store_dir = Some(dir.into());
        self
    }

    /// Sets the fault script.
    pub fn faults(mut self, faults: FaultScript) -> Self {
        self.faults = faults;
        self
    }

    /// Seeds SES request ids (fault probabilities use the script's own seed).
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// Uses this clock (e.g. [`Clock::manual`] for virtual time).
    pub fn clock(mut self, clock: Clock) -> Self {
        self.clock = clock;
        self
    }

    /// Overrides the profile's limits.
    pub fn limits(mut self, limits: Limits) -> Self {
        self.limits = Some(limits);
        self
    }

    /// Overrides the Tencent SES limits.
    pub fn ses_limits(mut self, ses: SesLimits) -> Self {
        self.ses = ses;
        self
    }

    /// Most simultaneous connections; more get `421 4.3.2` (plain) or are closed (TLS).
    pub fn max_connections(mut self, n: usize) -> Self {
        self.max_connections = n.max(1);
        self
    }

    /// Most simultaneous connections from one client address (default 16); more get
    /// `421 4.7.0` (plain) or are closed (TLS).
    pub fn max_connections_per_address(mut self, n: usize) -> Self {
        self.max_connections_per_address = n.max(1);
        self
    }

    /// Calls `f` for every accepted message.
    pub fn on_message(mut self, f: impl Fn(&StoredMessage) + Send + Sync + 'static) -> Self {
        self.on_message = Some(Arc::new(f));
        self
    }

    /// Calls `f` with every error writing to the store directory.
    pub fn on_error(mut self, f: impl Fn(&str) + Send + Sync + 'static) -> Self {
        self.on_error = Some(Arc::new(f));
        self
    }

    /// Redacts `secret` wherever it appears in transcripts (files and API), like AUTH payloads.
    /// Passwords of [`SinkConfig::account`] are redacted without this.
    pub fn secret(mut self, secret: impl Into<Vec<u8>>) -> Self {
        self.secrets.push(secret.into());
        self
    }

    fn secret_set(&self) -> at_wire::redact::Secrets {
        let mut set = at_wire::redact::Secrets::new();
        for s in &self.secrets {
            set.add(s);
        }
        if let AuthPolicy::Accounts(list) = &self.auth {
            for a in list {
                set.add(a.password().as_bytes());
            }
        }
        set
    }

    fn session_config(&self, tls_available: bool) -> SessionConfig {
        let mut c = SessionConfig::new(self.profile);
        c.hostname = self.hostname.clone();
        if let Some(l) = &self.limits {
            c.limits = l.clone();
        }
        c.ses = self.ses.clone();
        c.auth = self.auth.clone();
        if let Some(r) = self.require_auth {
            c.require_auth = r;
        }
        c.starttls = self.starttls && tls_available;
        c.mechanisms = self.mechanisms.clone();
        c.faults = self.faults.clone();
        c
    }
}

struct Ctx {
    session: Arc<SessionConfig>,
    shared: SharedState,
    store: Arc<Store>,
    clock: Clock,
    acceptor: Option<at_tls::Acceptor>,
    limit: Arc<Semaphore>,
    per_address: Arc<PerAddress>,
    /// Transcript writes in flight (bounds the memory of finished connections).
    writes: Arc<Semaphore>,
}

/// Open connections per client address.
#[derive(Debug)]
struct PerAddress {
    max: usize,
    open: std::sync::Mutex<std::collections::HashMap<std::net::IpAddr, usize>>,
}

/// One open connection of an address; dropping it frees the slot.
struct AddressSlot {
    table: Arc<PerAddress>,
    ip: std::net::IpAddr,
}

impl PerAddress {
    fn acquire(table: &Arc<PerAddress>, ip: std::net::IpAddr) -> Option<AddressSlot> {
        let mut open = table.open.lock().unwrap_or_else(|e| e.into_inner());
        let n = open.entry(ip).or_insert(0);
        if *n >= table.max {
            return None;
        }
        *n += 1;
        Some(AddressSlot {
            table: Arc::clone(table),
            ip,
        })
    }
}

impl Drop for AddressSlot {
    fn drop(&mut self) {
        let mut open = self.table.open.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(n) = open.get_mut(&self.ip) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                open.remove(&self.ip);
            }
        }
    }
}

/// A bound, not yet running sink (async API; the CLI uses it).
pub struct Sink {
    ctx: Arc<Ctx>,
    smtp: Option<TcpListener>,
    smtps: Option<TcpListener>,
    api: Option<TcpListener>,
    addrs: Addrs,
    cert_der: Vec<u8>,
}

#[derive(Debug, Clone, Copy)]
struct Addrs {
    smtp: Option<SocketAddr>,
    smtps: Option<SocketAddr>,
    api: Option<SocketAddr>,
}

async fn bind(addr: Option<SocketAddr>) -> Result<Option<TcpListener>, Error> {
    match addr {
        None => Ok(None),
        Some(a) => TcpListener::bind(a)
            .await
            .map(Some)
            .map_err(|source| Error::Bind { addr: a, source }),
    }
}

impl Sink {
    /// Binds the listeners and prepares TLS and the store.
    pub async fn bind(config: SinkConfig) -> Result<Sink, Error> {
        if config.smtp.is_none() && config.smtps.is_none() {
            return Err(Error::Config("neither a plain nor a TLS listener".into()));
        }
        let need_tls = config.smtps.is_some() || config.starttls;
        let (acceptor, cert_der) = if need_tls {
            let pem = match &config.tls {
                TlsSource::SelfSigned => None,
                TlsSource::Pem { cert, key } => Some((cert.as_path(), key.as_path())),
            };
            let a = crate::tls::acceptor(
                config.profile,
                &config.hostname,
                pem,
                &config.tls_options,
                &config.faults.tls,
            )?;
            let der = a.certificate_der().to_vec();
            (Some(a), der)
        } else {
            (None, Vec::new())
        };
        let store = Store::new(
            config.store_dir.clone(),
            config.max_transcripts,
            config.on_message.clone(),
            config.on_error.clone(),
            config.secret_set(),
        )
        .map_err(|source| Error::Store {
            path: config.store_dir.clone().unwrap_or_default(),
            source,
        })?;
        let (first_id, first_connection) = (store.next_id(), store.next_connection());
        let session = Arc::new(config.session_config(acceptor.is_some()));
        let smtp = bind(config.smtp).await?;
        let smtps = bind(config.smtps).await?;
        let api = bind(config.api).await?;
        let addrs = Addrs {
            smtp: smtp.as_ref().and_then(|l| l.local_addr().ok()),
            smtps: smtps.as_ref().and_then(|l| l.local_addr().ok()),
            api: api.as_ref().and_then(|l| l.local_addr().ok()),
        };
        Ok(Sink {
            ctx: Arc::new(Ctx {
                session,
                shared: SharedState::new(config.seed, first_id)
                    .with_first_connection(first_connection),
                store: Arc::new(store),
                clock: config.clock.clone(),
                acceptor,
                limit: Arc::new(Semaphore::new(config.max_connections)),
                per_address: Arc::new(PerAddress {
                    max: config.max_connections_per_address,
                    open: Default::default(),
                }),
                writes: Arc::new(Semaphore::new(config.max_connections)),
            }),
            smtp,
            smtps,
            api,
            addrs,
            cert_der,
        })
    }

    /// Plain SMTP address.
    pub fn smtp_addr(&self) -> Option<SocketAddr> {
        self.addrs.smtp
    }

    /// Implicit-TLS address.
    pub fn smtps_addr(&self) -> Option<SocketAddr> {
        self.addrs.smtps
    }

    /// HTTP API address.
    pub fn api_addr(&self) -> Option<SocketAddr> {
        self.addrs.api
    }

    /// The server certificate (DER), empty when TLS is off.
    pub fn certificate_der(&self) -> &[u8] {
        &self.cert_der
    }

    /// The message and transcript store.
    pub fn store(&self) -> Arc<Store> {
        Arc::clone(&self.ctx.store)
    }

    /// Serves until `shutdown` completes; open connections are then dropped.
    pub async fn run(self, shutdown: impl Future<Output = ()> + Send) -> Result<(), Error> {
        let mut tasks = JoinSet::new();
        if let Some(l) = self.api {
            let app = crate::api::router(Arc::clone(&self.ctx.store));
            tasks.spawn(async move {
                let _ = axum::serve(l, app).await;
            });
        }
        tokio::pin!(shutdown);
        loop {
            tokio::select! {
                () = &mut shutdown => break,
                r = accept(self.smtp.as_ref()) => match r {
                    Ok((tcp, peer)) => {
                        tasks.spawn(connection(Arc::clone(&self.ctx), tcp, peer, false));
                    }
                    // E.g. out of file descriptors: back off instead of spinning.
                    Err(_) => tokio::time::sleep(ACCEPT_BACKOFF).await,
                },
                r = accept(self.smtps.as_ref()) => match r {
                    Ok((tcp, peer)) => {
                        tasks.spawn(connection(Arc::clone(&self.ctx), tcp, peer, true));
                    }
                    Err(_) => tokio::time::sleep(ACCEPT_BACKOFF).await,
                },
                Some(_) = tasks.join_next(), if !tasks.is_empty() => {}
            }
        }
        tasks.shutdown().await;
        Ok(())
    }
}

async fn accept(l: Option<&TcpListener>) -> std::io::Result<(TcpStream, SocketAddr)> {
    match l {
        Some(l) => l.accept().await,
        None => std::future::pending().await,
    }
}

const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
const ACCEPT_BACKOFF: Duration = Duration::from_millis(50);
/// How long a refusal (`421`) or a closing handshake may take before the socket is dropped.
const GOODBYE_TIMEOUT: Duration = Duration::from_secs(1);

/// Writes `line` (plain listener only) and closes, within [`GOODBYE_TIMEOUT`].
async fn refuse(mut tcp: TcpStream, implicit: bool, line: String) {
    let _ = tokio::time::timeout(GOODBYE_TIMEOUT, async {
        if !implicit {
            let _ = tcp.write_all(line.as_bytes()).await;
        }
        let _ = tcp.shutdown().await;
    })
    .await;
}

/// The connection limits a connection holds while its client is connected.
struct Held {
    _permit: tokio::sync::OwnedSemaphorePermit,
    _slot: AddressSlot,
}

/// Hands a finished transcript to the store (file writes off the async threads). The client is
/// gone: its connection slots are freed first, so a client that reconnects at once is not
/// refused while the transcript is being written; the writes in flight are bounded apart.
async fn finish(ctx: &Ctx, held: Held, t: Transcript) {
    drop(held);
    let Ok(_writing) = Arc::clone(&ctx.writes).acquire_owned().await else {
        return;
    };
    let store = Arc::clone(&ctx.store);
    let _ = tokio::task::spawn_blocking(move || store.push_transcript(t)).await;
}

/// Kernel send buffer of a connection: replies a client does not read pile up here only this
/// far before the write blocks and the write/idle timeouts start counting.
const SEND_BUFFER: usize = 64 * 1024;

async fn connection(ctx: Arc<Ctx>, mut tcp: TcpStream, peer: SocketAddr, implicit: bool) {
    let _ = tcp.set_nodelay(true);
    let _ = socket2::SockRef::from(&tcp).set_send_buffer_size(SEND_BUFFER);
    let host = &ctx.session.hostname;
    let Ok(permit) = Arc::clone(&ctx.limit).try_acquire_owned() else {
        let line = format!("421 4.3.2 {host} Error: too many connections, try again later\r\n");
        refuse(tcp, implicit, line).await;
        return;
    };
    let Some(slot) = PerAddress::acquire(&ctx.per_address, peer.ip()) else {
        let line = format!(
            "421 4.7.0 {host} Error: too many connections from {}, try again later\r\n",
            peer.ip()
        );
        refuse(tcp, implicit, line).await;
        return;
    };
    let held = Held {
        _permit: permit,
        _slot: slot,
    };
    let n = ctx.shared.next_connection();
    let fail = |reason, tls_error: Option<String>| {
        let mut t = Transcript::new(n, implicit, 0);
        t.peer = Some(peer.to_string());
        t.tls_error = tls_error;
        t.end = Some(SessionEnd {
            at: ctx.clock.now().elapsed(),
            reason,
        });
        t
    };
    if implicit {
        let Some(acceptor) = ctx.acceptor.clone() else {
            return;
        };
        match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(tcp)).await {
            Ok(Ok(mut tls)) => {
                let mut s = new_session(&ctx, n, true, peer);
                s.set_tls_info(crate::tls::info(tls.negotiated()));
                drive(&ctx, &mut tls, &mut s).await;
                finish(&ctx, held, s.into_transcript()).await;
            }
            Ok(Err(e)) => {
                let t = fail(CloseReason::TlsFailed, Some(e.to_string()));
                finish(&ctx, held, t).await;
            }
            Err(_) => {
                let t = fail(CloseReason::TlsFailed, Some("handshake timed out".into()));
                finish(&ctx, held, t).await;
            }
        }
        return;
    }
    let mut s = new_session(&ctx, n, false, peer);
    if drive(&ctx, &mut tcp, &mut s).await == Outcome::StartTls {
        let accepted = match ctx.acceptor.clone() {
            Some(a) => tokio::time::timeout(HANDSHAKE_TIMEOUT, a.accept(tcp)).await,
            None => {
                s.close(ctx.clock.now(), CloseReason::TlsFailed);
                finish(&ctx, held, s.into_transcript()).await;
                return;
            }
        };
        match accepted {
            Ok(Ok(mut tls)) => {
                s.tls_established(ctx.clock.now());
                s.set_tls_info(crate::tls::info(tls.negotiated()));
                drive(&ctx, &mut tls, &mut s).await;
            }
            Ok(Err(e)) => {
                s.set_tls_error(e.to_string());
                s.close(ctx.clock.now(), CloseReason::TlsFailed);
            }
            Err(_) => {
                s.set_tls_error("handshake timed out");
                s.close(ctx.clock.now(), CloseReason::TlsFailed);
            }
        }
    }
    finish(&ctx, held, s.into_transcript()).await;
}

fn new_session(ctx: &Ctx, n: u64, tls: bool, peer: SocketAddr) -> Session {
    let mut s = Session::new(
        Arc::clone(&ctx.session),
        ctx.shared.clone(),
        n,
        tls,
        ctx.clock.now(),
    );
    s.set_peer(peer.to_string());
    s
}

#[derive(Debug, PartialEq, Eq)]
enum Outcome {
    Closed,
    StartTls,
}

/// Writes `bytes` and flushes, unless the client stops reading: then the write timeout, or the
/// session's idle or total deadline, ends the connection.
async fn write_bounded<S: AsyncWrite + Unpin>(
    ctx: &Ctx,
    io: &mut S,
    s: &Session,
    bytes: &[u8],
) -> Result<(), CloseReason> {
    let write_deadline = ctx.clock.now() + ctx.session.limits.write_timeout;
    let deadline = s
        .io_deadline()
        .map_or(write_deadline, |d| d.min(write_deadline));
    tokio::select! {
        r = async {
            io.write_all(bytes).await?;
            io.flush().await
        } => r.map_err(|_| CloseReason::IoError),
        () = ctx.clock.sleep_until(deadline) => Err(CloseReason::WriteTimeout),
    }
}

/// Moves bytes between `io` and the session until it closes or asks for TLS.
async fn drive<S: AsyncRead + AsyncWrite + Unpin>(
    ctx: &Ctx,
    io: &mut S,
    s: &mut Session,
) -> Outcome {
    let mut buf = vec![0u8; 16 * 1024];
    let mut eof = false;
    loop {
        let (mut close, mut starttls) = (false, false);
        // Events first: a message is durably stored before its 250 is written (451 if not).
        while let Some(ev) = s.poll_event() {
            match ev {
                Event::Accepted(m) => {
                    let id = m.id;
                    let store = Arc::clone(&ctx.store);
                    let stored = tokio::task::spawn_blocking(move || store.insert(*m)).await;
                    if !matches!(stored, Ok(Ok(()))) {
                        s.store_failed(id);
                    }
                }
                Event::StartTls => starttls = true,
                Event::Close(_) => close = true,
            }
        }
        // One write for everything queued (pipelined commands get their replies together).
        let mut out = Vec::new();
        while let Some(bytes) = s.poll_transmit() {
            out.extend_from_slice(&bytes);
        }
        if !out.is_empty()
            && let Err(reason) = write_bounded(ctx, io, s, &out).await
        {
            s.close(ctx.clock.now(), reason);
            return Outcome::Closed;
        }
        if close {
            let _ = tokio::time::timeout(GOODBYE_TIMEOUT, io.shutdown()).await;
            return Outcome::Closed;
        }
        if starttls {
            return Outcome::StartTls;
        }
        let deadline = s
            .poll_timeout()
            .unwrap_or(Instant::from_elapsed(Duration::MAX));
        tokio::select! {
            r = io.read(&mut buf), if !eof => match r {
                Ok(0) => {
                    eof = true;
                    s.handle_eof(ctx.clock.now());
                }
                Ok(n) => s.handle_input(ctx.clock.now(), buf.get(..n).unwrap_or_default()),
                Err(_) => {
                    eof = true;
                    s.close(ctx.clock.now(), CloseReason::IoError);
                }
            },
            () = ctx.clock.sleep_until(deadline) => s.handle_timeout(ctx.clock.now()),
        }
    }
}

/// A sink running on its own thread and tokio runtime; stops when dropped.
pub struct RunningSink {
    addrs: Addrs,
    store: Arc<Store>,
    cert_der: Vec<u8>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
    shared: SharedState,
}

impl std::fmt::Debug for RunningSink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RunningSink")
            .field("addrs", &self.addrs)
            .finish_non_exhaustive()
    }
}

/// Starts a sink on its own thread (for synchronous callers: the runner, the emulator's tests).
pub fn spawn(config: SinkConfig) -> Result<RunningSink, Error> {
    let (ready_tx, ready_rx) = std::sync::mpsc::channel();
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let thread = std::thread::Builder::new()
        .name("smtp-sink".into())
        .spawn(move || {
            let rt = match tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            {
                Ok(rt) => rt,
                Err(e) => {
                    let _ = ready_tx.send(Err(Error::Runtime(e)));
                    return;
                }
            };
            rt.block_on(async move {
                match Sink::bind(config).await {
                    Ok(sink) => {
                        let info = (
                            sink.addrs,
                            sink.store(),
                            sink.cert_der.clone(),
                            sink.ctx.shared.clone(),
                        );
                        let _ = ready_tx.send(Ok(info));
                        let _ = sink
                            .run(async {
                                let _ = stop_rx.await;
                            })
                            .await;
                    }
                    Err(e) => {
                        let _ = ready_tx.send(Err(e));
                    }
                }
            });
        })
        .map_err(Error::Runtime)?;
    match ready_rx.recv() {
        Ok(Ok((addrs, store, cert_der, shared))) => Ok(RunningSink {
            addrs,
            store,
            cert_der,
            stop: Some(stop_tx),
            thread: Some(thread),
            shared,
        }),
        Ok(Err(e)) => {
            let _ = thread.join();
            Err(e)
        }
        Err(_) => {
            let _ = thread.join();
            Err(Error::Runtime(std::io::Error::other("sink thread ended")))
        }
    }
}

impl RunningSink {
    /// Plain SMTP address (`None` if disabled).
    pub fn smtp_addr(&self) -> Option<SocketAddr> {
        self.addrs.smtp
    }

    /// Implicit-TLS (SMTPS) address (`None` if disabled).
    pub fn smtps_addr(&self) -> Option<SocketAddr> {
        self.addrs.smtps
    }

    /// HTTP API address (`None` if disabled).
    pub fn api_addr(&self) -> Option<SocketAddr> {
        self.addrs.api
    }

    /// The server certificate (DER), to trust it in a client; empty when TLS is off.
    pub fn certificate_der(&self) -> &[u8] {
        &self.cert_der
    }

    /// The store shared with the server.
    pub fn store(&self) -> &Arc<Store> {
        &self.store
    }

    /// All accepted messages, oldest first.
    pub fn messages(&self) -> Vec<StoredMessage> {
        self.store.messages()
    }

    /// Transcripts of finished connections.
    pub fn transcripts(&self) -> Vec<Transcript> {
        self.store.transcripts()
    }

    /// Connections accepted so far; each has a transcript once it is finished.
    pub fn connections(&self) -> u64 {
        self.shared.connections()
    }

    /// The messages and transcripts once this sink has settled ([`settle`], counting the
    /// connections it accepted and at least `expected`).
    pub fn settled(&self, expected: u64) -> (Vec<StoredMessage>, Vec<Transcript>) {
        settle(|| {
            let accepted = self.connections().max(expected);
            (self.messages(), self.transcripts(), accepted)
        })
    }

    /// Forgets messages and transcripts.
    pub fn clear(&self) {
        self.store.clear()
    }

    /// Waits until `n` messages arrived or `timeout` passed; returns what is there.
    pub fn wait_for_messages(&self, n: usize, timeout: Duration) -> Vec<StoredMessage> {
        self.store.wait_for_messages(n, timeout)
    }

    /// Waits until `n` connections finished or `timeout` passed; returns their transcripts.
    pub fn wait_for_transcripts(&self, n: usize, timeout: Duration) -> Vec<Transcript> {
        self.store.wait_for_transcripts(n, timeout)
    }

    /// Stops the sink and waits for its thread.
    pub fn shutdown(mut self) {
        self.stop_now();
    }

    fn stop_now(&mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for RunningSink {
    fn drop(&mut self) {
        self.stop_now();
    }
}
