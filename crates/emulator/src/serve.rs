//! Real-time front ends: the emulator behind a PTY (a serial port host software can open) or a
//! TCP listener, with deliveries running concurrently and the host's bytes stamped with real
//! instants.
//!
//! One [`Emulator`] serves one byte stream: a PTY keeps its module for its whole life (like a
//! real serial port), a TCP listener powers a fresh module on for each connection and serves
//! connections one at a time (another host meanwhile gets a [`BUSY`] line and is closed);
//! [`serve_tcp_keep_state`] keeps one module across connections.
//!
//! Bounded time: the shutdown future is honoured while a write is blocked (a host that does not
//! read), a TCP host that does not read for [`ServeOptions::write_timeout`] or sends nothing for
//! [`ServeOptions::idle_timeout`] (a half-open or forgotten connection) is dropped.

use std::collections::HashMap;
use std::future::Future;
use std::io;
use std::os::fd::OwnedFd;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use at_mailer::{DeliverOptions, StallMode};
pub use at_mailer::{MailJob, Outcome, ResolveMap};
use at_wire::Instant;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use crate::{Action, DeliveryId, Emulator, EmulatorConfig};

/// Called with each finished delivery, and each session that could not be opened (not with
/// cancelled ones).
pub type DeliveryHook = Arc<dyn Fn(&MailJob, &Outcome) + Send + Sync>;

/// What a TCP client gets while another host is being served (then the connection closes).
pub const BUSY: &[u8] = b"\r\nBUSY: atconform emulator is serving another host\r\n";

/// How long a new TCP host waits for the current one's session to end before it gets [`BUSY`].
const RECONNECT_GRACE: Duration = Duration::from_secs(1);

/// Default [`ServeOptions::write_timeout`].
pub const WRITE_TIMEOUT: Duration = Duration::from_secs(30);
/// Default [`ServeOptions::idle_timeout`].
pub const IDLE_TIMEOUT: Duration = Duration::from_secs(600);

/// What every served module is made of.
#[derive(Clone)]
pub struct ServeOptions {
    /// Profile, quirks and faults of the module.
    pub config: EmulatorConfig,
    /// `--resolve` overrides for deliveries.
    pub resolve: Arc<ResolveMap>,
    /// Delivery options (stalls pend until the module's `<timeout>`).
    pub deliver: DeliverOptions,
    /// Observer of finished deliveries (logging); the job's password is redacted in `Debug`,
    /// the outcome's transcript in `render()`.
    pub on_delivery: Option<DeliveryHook>,
    /// TCP: a host that reads none of the module's output for this long is dropped.
    pub write_timeout: Option<Duration>,
    /// TCP: a host that sends nothing for this long while no mail is being sent is dropped
    /// (a vanished host must not hold the port; TCP keepalive notices dead peers sooner).
    pub idle_timeout: Option<Duration>,
    /// Faults injected from outside while the module runs ([`serve_fault_control`]).
    pub faults: FaultInbox,
}

/// A fault-control command for a running module.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Control {
    /// Put the module into this fault now (`Emulator::inject_fault`).
    Inject(crate::Fault),
    /// Remove every injected fault (`Emulator::clear_faults`).
    Clear,
}

/// Where fault-control commands wait for the served module (shared by clones of the options).
#[derive(Clone, Debug, Default)]
pub struct FaultInbox(Arc<(std::sync::Mutex<Queued>, tokio::sync::Notify)>);

/// Commands not yet carried out, each with whom to tell once it is.
type Queued = std::collections::VecDeque<(Control, tokio::sync::oneshot::Sender<()>)>;

impl FaultInbox {
    /// Queues `c` for the module and wakes it; the receiver completes once the module has
    /// carried it out.
    pub fn push(&self, c: Control) -> tokio::sync::oneshot::Receiver<()> {
        let (tx, rx) = tokio::sync::oneshot::channel();
        self.0
            .0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push_back((c, tx));
        self.0.1.notify_one();
        rx
    }

    fn drain(&self) -> Vec<(Control, tokio::sync::oneshot::Sender<()>)> {
        self.0
            .0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .drain(..)
            .collect()
    }

    async fn wait(&self) {
        self.0.1.notified().await
    }
}

impl std::fmt::Debug for ServeOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServeOptions")
            .field("config", &self.config)
            .field("resolve", &self.resolve)
            .field("deliver", &self.deliver)
            .field("on_delivery", &self.on_delivery.is_some())
            .field("write_timeout", &self.write_timeout)
            .field("idle_timeout", &self.idle_timeout)
            .field("faults", &self.faults)
            .finish()
    }
}

impl ServeOptions {
    /// Options for `config` with `resolve`, stalls pending in real time.
    pub fn new(config: EmulatorConfig, resolve: ResolveMap) -> Self {
        ServeOptions {
            config,
            resolve: Arc::new(resolve),
            deliver: DeliverOptions {
                stall: StallMode::Pend,
                roots: None,
            },
            on_delivery: None,
            write_timeout: Some(WRITE_TIMEOUT),
            idle_timeout: Some(IDLE_TIMEOUT),
            faults: FaultInbox::default(),
        }
    }

    /// Sets the delivery observer.
    pub fn with_delivery_hook(mut self, hook: DeliveryHook) -> Self {
        self.on_delivery = Some(hook);
        self
    }
}

/// Serves one module on a byte stream until the host closes it (EOF) or `shutdown` completes.
///
/// Host bytes are stamped with the real time since the call; timers sleep in real time;
/// deliveries run as tasks and are aborted when the core cancels them.
pub async fn serve_io<R, W>(
    reader: R,
    writer: W,
    options: &ServeOptions,
    shutdown: impl Future<Output = ()>,
) -> io::Result<()>
where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin,
{
    let limits = Limits::of(options);
    session(Plain(reader), writer, options, limits, shutdown)
        .await
        .map(|_| ())
}

/// How long a session waits for its host.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Limits {
    write: Option<Duration>,
    idle: Option<Duration>,
}

impl Limits {
    /// The limits `options` set.
    pub(crate) fn of(options: &ServeOptions) -> Self {
        Limits {
            write: options.write_timeout,
            idle: options.idle_timeout,
        }
    }
}

async fn sleep_for(d: Option<Duration>) {
    match d {
        Some(d) => tokio::time::sleep(d).await,
        None => std::future::pending().await,
    }
}

/// One input from the host side of a served stream.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum HostInput {
    /// This many bytes were read into the buffer.
    Bytes(usize),
    /// The host set DTR (RFC 2217 `SET-CONTROL`).
    Dtr(bool),
    /// The host closed the stream.
    Eof,
}

/// The host side of a served stream: bytes, and for RFC 2217 line changes, in stream order.
pub(crate) trait HostReader {
    /// The next input, `Bytes` read into `buf`; cancel-safe (a `select!` may drop it).
    fn next_input(&mut self, buf: &mut [u8]) -> impl Future<Output = io::Result<HostInput>>;
}

/// A plain byte stream (PTY, TCP): bytes only.
struct Plain<R>(R);

impl<R: AsyncRead + Unpin> HostReader for Plain<R> {
    async fn next_input(&mut self, buf: &mut [u8]) -> io::Result<HostInput> {
        Ok(match self.0.read(buf).await? {
            0 => HostInput::Eof,
            n => HostInput::Bytes(n),
        })
    }
}

/// [`serve_io`] for any [`HostReader`], returning whether it ended because `shutdown`
/// completed.
pub(crate) async fn session<W>(
    reader: impl HostReader,
    writer: W,
    options: &ServeOptions,
    limits: Limits,
    shutdown: impl Future<Output = ()>,
) -> io::Result<bool>
where
    W: AsyncWrite + Unpin,
{
    Module::new(options)
        .drive(reader, writer, limits, shutdown)
        .await
}

/// One powered-on module with its clock and its deliveries in flight (aborted when dropped).
struct Module<'o> {
    options: &'o ServeOptions,
    emu: Emulator,
    origin: tokio::time::Instant,
    tasks: HashMap<DeliveryId, JoinHandle<()>>,
    done_tx: mpsc::UnboundedSender<(DeliveryId, Outcome)>,
    done_rx: mpsc::UnboundedReceiver<(DeliveryId, Outcome)>,
    open_tx: mpsc::UnboundedSender<(DeliveryId, Result<(), Outcome>)>,
    open_rx: mpsc::UnboundedReceiver<(DeliveryId, Result<(), Outcome>)>,
    /// Sessions opened ahead of their body wait here for it (Multi-Tech `AT#PUTMAIL`).
    bodies: HashMap<DeliveryId, tokio::sync::oneshot::Sender<MailJob>>,
}

impl<'o> Module<'o> {
    fn new(options: &'o ServeOptions) -> Self {
        // tokio's clock, so the core's time and the timer sleeps below can never disagree.
        let origin = tokio::time::Instant::now();
        let (done_tx, done_rx) = mpsc::unbounded_channel();
        let (open_tx, open_rx) = mpsc::unbounded_channel();
        // A fault-control command sent while no module was powered on was already answered
        // `error`; a new module does not take it.
        drop(options.faults.drain());
        Module {
            options,
            emu: Emulator::new(options.config.clone(), Instant::ZERO),
            origin,
            tasks: HashMap::new(),
            done_tx,
            done_rx,
            open_tx,
            open_rx,
            bodies: HashMap::new(),
        }
    }

    fn now(&self) -> Instant {
        Instant::from_duration(self.origin.elapsed())
    }

    /// Moves bytes between one host stream and the module until the host closes it (EOF:
    /// `Ok(false)`), `shutdown` completes (`Ok(true)`) or `limits` run out (an error). The
    /// module lives on afterwards.
    async fn drive<W>(
        &mut self,
        mut reader: impl HostReader,
        mut writer: W,
        limits: Limits,
        shutdown: impl Future<Output = ()>,
    ) -> io::Result<bool>
    where
        W: AsyncWrite + Unpin,
    {
        let options = self.options;
        let mut out = Vec::new();
        let mut buf = vec![0u8; 4096];
        let mut last_input = tokio::time::Instant::now();
        tokio::pin!(shutdown);
        loop {
            // Carry out what the core asked for, then flush its output.
            while let Some(action) = self.emu.poll_action() {
                match action {
                    Action::Deliver { id, job, .. } => {
                        let tx = self.done_tx.clone();
                        let resolve = options.resolve.clone();
                        let deliver = options.deliver.clone();
                        let hook = options.on_delivery.clone();
                        let task = tokio::spawn(async move {
                            let outcome =
                                at_mailer::deliver_with(job.clone(), &resolve, &deliver).await;
                            if let Some(hook) = hook {
                                hook(&job, &outcome);
                            }
                            let _ = tx.send((id, outcome));
                        });
                        self.tasks.insert(id, task);
                    }
                    Action::Open { id, job, .. } => {
                        let (opened, done) = (self.open_tx.clone(), self.done_tx.clone());
                        let resolve = options.resolve.clone();
                        let deliver = options.deliver.clone();
                        let hook = options.on_delivery.clone();
                        let (body_tx, body_rx) = tokio::sync::oneshot::channel::<MailJob>();
                        self.bodies.insert(id, body_tx);
                        let task = tokio::spawn(async move {
                            let session =
                                match at_mailer::open_with(job.clone(), &resolve, &deliver).await {
                                    Ok(session) => session,
                                    Err(outcome) => {
                                        if let Some(hook) = hook {
                                            hook(&job, &outcome);
                                        }
                                        let _ = opened.send((id, Err(outcome)));
                                        return;
                                    }
                                };
                            let _ = opened.send((id, Ok(())));
                            let Ok(job) = body_rx.await else {
                                session.abort().await;
                                return;
                            };
                            let outcome = session.finish(&job).await;
                            if let Some(hook) = hook {
                                hook(&job, &outcome);
                            }
                            let _ = done.send((id, outcome));
                        });
                        self.tasks.insert(id, task);
                    }
                    Action::Send { id, job, .. } => {
                        if let Some(tx) = self.bodies.remove(&id) {
                            let _ = tx.send(job);
                        }
                    }
                    Action::Cancel { id } => {
                        // A session waiting for its body ends with QUIT when its sender is
                        // dropped.
                        if self.bodies.remove(&id).is_none()
                            && let Some(task) = self.tasks.remove(&id)
                        {
                            task.abort();
                        }
                    }
                }
            }
            out.clear();
            self.emu.poll_output(&mut out);
            if !out.is_empty() {
                // A host that does not read must not keep the module from shutting down.
                let write = async {
                    writer.write_all(&out).await?;
                    writer.flush().await
                };
                tokio::select! {
                    () = &mut shutdown => return Ok(true),
                    r = write => r?,
                    () = sleep_for(limits.write) => return Err(io::Error::new(
                        io::ErrorKind::TimedOut,
                        "the host did not read the module's output in time",
                    )),
                }
            }
            let wake = self.emu.poll_timeout().map(|t| {
                let wait = t.saturating_duration_since(self.now());
                tokio::time::Instant::now() + wait
            });
            // Silence from the host only counts while no mail is being sent.
            let idle = if self.tasks.is_empty() {
                limits.idle.map(|d| d.saturating_sub(last_input.elapsed()))
            } else {
                None
            };
            tokio::select! {
                () = &mut shutdown => return Ok(true),
                read = reader.next_input(&mut buf) => match read? {
                    HostInput::Eof => return Ok(false),
                    HostInput::Bytes(n) => {
                        last_input = tokio::time::Instant::now();
                        let now = self.now();
                        self.emu.handle_input(now, buf.get(..n).unwrap_or_default());
                    }
                    HostInput::Dtr(level) => {
                        last_input = tokio::time::Instant::now();
                        let now = self.now();
                        self.emu.set_dtr(now, level);
                    }
                },
                () = sleep_for(idle) => return Err(io::Error::new(
                    io::ErrorKind::TimedOut,
                    "the host sent nothing for the idle timeout",
                )),
                Some((id, outcome)) = self.done_rx.recv() => {
                    self.tasks.remove(&id);
                    let now = self.now();
                    self.emu.handle_delivery(now, id, outcome);
                }
                Some((id, result)) = self.open_rx.recv() => {
                    if result.is_err() {
                        self.tasks.remove(&id);
                        self.bodies.remove(&id);
                    }
                    let now = self.now();
                    self.emu.handle_opened(now, id, result);
                }
                () = sleep_until(wake) => {
                    let now = self.now();
                    self.emu.handle_timeout(now);
                }
                () = options.faults.wait() => {
                    let now = self.now();
                    for (c, done) in options.faults.drain() {
                        match c {
                            Control::Inject(f) => self.emu.inject_fault(now, f),
                            Control::Clear => self.emu.clear_faults(),
                        }
                        let _ = done.send(());
                    }
                }
            }
        }
    }
}

impl Drop for Module<'_> {
    fn drop(&mut self) {
        for (_, task) in self.tasks.drain() {
            task.abort();
        }
    }
}

async fn sleep_until(wake: Option<tokio::time::Instant>) {
    match wake {
        Some(t) => tokio::time::sleep_until(t).await,
        None => std::future::pending().await,
    }
}

/// Serves TCP connections on `listener`, one at a time, each with a freshly powered-on module,
/// until `shutdown` completes. A host that connects while another is served gets [`BUSY`].
pub async fn serve_tcp(
    listener: TcpListener,
    options: &ServeOptions,
    shutdown: impl Future<Output = ()>,
) -> io::Result<()> {
    serve_tcp_with(listener, options, shutdown, false).await
}

/// Serves TCP connections on `listener`, one at a time, all to the same module (`emulate
/// --listen --keep-state`): like a module behind a serial-to-network bridge, it keeps its state,
/// timers and deliveries between connections, and what it prints while nobody is connected is
/// lost. Runs until `shutdown` completes; a host that connects while another is served gets
/// [`BUSY`].
pub async fn serve_tcp_keep_state(
    listener: TcpListener,
    options: &ServeOptions,
    shutdown: impl Future<Output = ()>,
) -> io::Result<()> {
    serve_tcp_with(listener, options, shutdown, true).await
}

async fn serve_tcp_with(
    listener: TcpListener,
    options: &ServeOptions,
    shutdown: impl Future<Output = ()>,
    keep_state: bool,
) -> io::Result<()> {
    tokio::pin!(shutdown);
    let limits = Limits::of(options);
    let mut module = Module::new(options);
    let mut next: Option<tokio::net::TcpStream> = None;
    loop {
        let stream = match next.take() {
            Some(s) => s,
            None if keep_state => {
                // Nobody connected: the module runs on, its output goes nowhere.
                let (_hold, idle) = tokio::io::duplex(64);
                let mut accepted = None;
                let stopped = module
                    .drive(Plain(idle), tokio::io::sink(), Limits::default(), async {
                        tokio::select! {
                            () = &mut shutdown => {}
                            r = listener.accept() => accepted = Some(r),
                        }
                    })
                    .await?;
                match accepted {
                    Some(r) => r?.0,
                    None if stopped => return Ok(()),
                    None => continue,
                }
            }
            None => tokio::select! {
                () = &mut shutdown => return Ok(()),
                accepted = listener.accept() => accepted?.0,
            },
        };
        if !keep_state {
            module = Module::new(options);
        }
        let _ = stream.set_nodelay(true);
        // Notice a host that vanished without closing (half-open) even while it is silent.
        let keepalive = socket2::TcpKeepalive::new()
            .with_time(Duration::from_secs(30))
            .with_interval(Duration::from_secs(10))
            .with_retries(3);
        let _ = socket2::SockRef::from(&stream).set_tcp_keepalive(&keepalive);
        let (r, w) = stream.into_split();
        let serving = module.drive(Plain(r), w, limits, &mut shutdown);
        tokio::pin!(serving);
        let ended = loop {
            tokio::select! {
                ended = &mut serving => break ended,
                extra = listener.accept() => {
                    let Ok((other, _)) = extra else { continue };
                    // A host that closed and reconnected at once: the session is about to see
                    // its EOF. Only a host still connected after the grace makes the newcomer busy.
                    match tokio::time::timeout(RECONNECT_GRACE, &mut serving).await {
                        Ok(ended) => {
                            next = Some(other);
                            break ended;
                        }
                        Err(_) => {
                            tokio::spawn(turn_away(other));
                        }
                    }
                }
            }
        };
        // A connection's I/O error ends that connection, not the listener (nor the module).
        if let Ok(true) = ended {
            return Ok(());
        }
    }
}

/// Longest fault-control command line.
const CONTROL_LINE_MAX: usize = 256;

/// Serves the fault-control protocol on `listener` until `shutdown` completes (`atconform
/// emulate --fault-control ADDR`): the stand-in for a lab's SIM switch and network simulator.
///
/// One command per line, one answer per command: `fault SPEC` (an [`crate::Fault`] name, e.g.
/// `sim-not-ready`, `pdp-activation-fails`, `pdp-deactivated`, `pdp-deactivate@2s`, counted
/// from now) and `clear` answer `ok`; anything else `error: WHY`. Connections are served one
/// after another and may send several commands.
pub async fn serve_fault_control(
    listener: TcpListener,
    inbox: FaultInbox,
    shutdown: impl Future<Output = ()>,
) -> io::Result<()> {
    use tokio::io::AsyncBufReadExt;
    tokio::pin!(shutdown);
    loop {
        let stream = tokio::select! {
            () = &mut shutdown => return Ok(()),
            accepted = listener.accept() => accepted?.0,
        };
        let (r, mut w) = stream.into_split();
        let mut lines = tokio::io::BufReader::new(r.take(64 * 1024)).lines();
        loop {
            let line = tokio::select! {
                () = &mut shutdown => return Ok(()),
                line = tokio::time::timeout(Duration::from_secs(60), lines.next_line()) => line,
            };
            let Ok(Ok(Some(line))) = line else { break };
            let answer = match control_command(line.trim()) {
                Ok(c) => {
                    // Answered once the module has carried it out, so that what the host sends
                    // next meets the fault.
                    let done = inbox.push(c);
                    match tokio::time::timeout(Duration::from_secs(5), done).await {
                        Ok(Ok(())) => "ok\n".to_string(),
                        _ => "error: no module is running to take it\n".to_string(),
                    }
                }
                Err(why) => format!("error: {why}\n"),
            };
            if w.write_all(answer.as_bytes()).await.is_err() {
                break;
            }
        }
    }
}

/// Why a fault-control command line is refused (sent back as `error: WHY`).
#[derive(Debug, thiserror::Error)]
enum ControlError {
    /// Longer than [`CONTROL_LINE_MAX`].
    #[error("line too long")]
    TooLong,
    /// Neither `fault SPEC` nor `clear`.
    #[error("expected `fault SPEC` or `clear`")]
    Shape,
    /// A fault name the emulator does not know.
    #[error(transparent)]
    Fault(#[from] crate::faults::UnknownFault),
}

/// Reads one fault-control command line.
fn control_command(line: &str) -> Result<Control, ControlError> {
    if line.len() > CONTROL_LINE_MAX {
        return Err(ControlError::TooLong);
    }
    if line == "clear" {
        return Ok(Control::Clear);
    }
    let Some(spec) = line.strip_prefix("fault ") else {
        return Err(ControlError::Shape);
    };
    Ok(Control::Inject(spec.trim().parse::<crate::Fault>()?))
}

/// Tells a second host that the emulator is busy and closes its connection.
async fn turn_away(mut stream: tokio::net::TcpStream) {
    let _ = tokio::time::timeout(Duration::from_secs(2), async {
        stream.write_all(BUSY).await?;
        stream.shutdown().await
    })
    .await;
}

/// A pseudo-terminal whose slave side stands in for the module's serial port.
///
/// The slave is put in raw mode (no echo, no line editing, no CR/LF translation) so bytes pass
/// unchanged; the slave stays open here as well, so a host may close and reopen it. With a
/// link path, a symlink to the slave device is created and removed again on drop.
#[derive(Debug)]
pub struct Pty {
    master: OwnedFd,
    _slave: OwnedFd,
    slave_path: PathBuf,
    link: Option<PathBuf>,
}

impl Pty {
    /// Opens a PTY pair, sets the slave raw, and links `link` to it. An existing `link` is
    /// refused (`AlreadyExists`) unless it is a dangling symlink into `/dev/pts/`, as an
    /// emulator that was killed leaves behind; that one is replaced.
    pub fn open(link: Option<&Path>) -> io::Result<Pty> {
        use nix::sys::termios::{SetArg, cfmakeraw, tcgetattr, tcsetattr};
        let pair = nix::pty::openpty(None, None).map_err(io::Error::from)?;
        let mut termios = tcgetattr(&pair.slave).map_err(io::Error::from)?;
        cfmakeraw(&mut termios);
        tcsetattr(&pair.slave, SetArg::TCSANOW, &termios).map_err(io::Error::from)?;
        let slave_path = nix::unistd::ttyname(&pair.slave).map_err(io::Error::from)?;
        let link = match link {
            Some(path) => {
                make_link(&slave_path, path)?;
                Some(path.to_path_buf())
            }
            None => None,
        };
        Ok(Pty {
            master: pair.master,
            _slave: pair.slave,
            slave_path,
            link,
        })
    }

    /// The slave device (e.g. `/dev/pts/7`).
    pub fn slave_path(&self) -> &Path {
        &self.slave_path
    }

    /// The symlink to the slave, if one was asked for.
    pub fn link(&self) -> Option<&Path> {
        self.link.as_deref()
    }

    /// Serves one module on this PTY until `shutdown` completes.
    pub async fn serve(
        &self,
        options: &ServeOptions,
        shutdown: impl Future<Output = ()>,
    ) -> io::Result<()> {
        // Two handles on the master so a pending read never holds up a write; tokio runs the
        // blocking reads on its blocking pool (shut the runtime down with a timeout afterwards).
        let reader = tokio::fs::File::from_std(std::fs::File::from(self.master.try_clone()?));
        let writer = tokio::fs::File::from_std(std::fs::File::from(self.master.try_clone()?));
        // A serial port has no connection to drop: the module waits for its host however long
        // (shutdown is still honoured while a write is blocked).
        session(Plain(reader), writer, options, Limits::default(), shutdown)
            .await
            .map(|_| ())
    }
}

/// Creates `link` -> `slave`; see [`Pty::open`] for when an existing path is replaced.
fn make_link(slave: &Path, link: &Path) -> io::Result<()> {
    match std::os::unix::fs::symlink(slave, link) {
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
        other => return other,
    }
    let target = std::fs::read_link(link).ok();
    if target.as_deref() == Some(slave) {
        // A killed emulator's link to the PTY number this one was just given.
        return Ok(());
    }
    let stale = target.is_some_and(|t| t.starts_with("/dev/pts/") && !t.exists());
    if !stale {
        return Err(io::Error::new(
            io::ErrorKind::AlreadyExists,
            format!(
                "{} already exists and is not a stale emulator link (a dangling link into \
                 /dev/pts); remove it or choose another path",
                link.display()
            ),
        ));
    }
    std::fs::remove_file(link)?;
    // Another emulator may have won the race in between: then this one refuses.
    std::os::unix::fs::symlink(slave, link)
}

impl Drop for Pty {
    fn drop(&mut self) {
        if let Some(link) = &self.link {
            // Only remove the link if it still points at our slave.
            if std::fs::read_link(link).is_ok_and(|target| target == self.slave_path) {
                let _ = std::fs::remove_file(link);
            }
        }
    }
}
