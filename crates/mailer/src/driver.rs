//! The tokio driver: sockets, TLS and fault injection around [`SmtpClient`].

use std::sync::Arc;
use std::time::Instant;

use at_tls::{TlsError, TlsStream, Verify};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::client::{Event, SmtpClient};

/// How long the `QUIT` sent after a failure may wait for its reply before the connection closes.
const QUIT_REPLY_WAIT: std::time::Duration = std::time::Duration::from_secs(2);
use crate::{Failure, MailJob, NetFault, Outcome, ResolveMap, SslType, Stage, Transcript};

/// What an injected [`NetFault::Stall`] does to the delivery future.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum StallMode {
    /// Never complete, like a silent server; the caller's deadline or cancellation ends it
    /// (real-time front ends).
    #[default]
    Pend,
    /// Complete at once with [`Failure::Stalled`], so a virtual-time caller can let its own
    /// deadline fire without waiting.
    Report,
}

/// Driver settings that are not part of the job.
#[derive(Clone, Debug, Default)]
pub struct DeliverOptions {
    /// Behaviour of injected stalls.
    pub stall: StallMode,
    /// Trust anchors (PEM or DER certificates) added to those of every job that verifies the
    /// server (`seclevel` 1 or 2, whose own anchors are its `"cacert"` file). A module has no
    /// other root store, so by default there are none.
    pub roots: Option<Arc<Vec<Vec<u8>>>>,
}

/// Delivers `job` with default options (stalls pend forever).
pub async fn deliver(job: MailJob, resolve: &ResolveMap) -> Outcome {
    deliver_with(job, resolve, &DeliverOptions::default()).await
}

/// Delivers `job` on a private current-thread runtime, blocking the calling thread. Inside an
/// async context (where `block_on` is not allowed) the runtime runs on a helper thread.
pub fn deliver_blocking(job: MailJob, resolve: &ResolveMap, options: &DeliverOptions) -> Outcome {
    if tokio::runtime::Handle::try_current().is_ok() {
        return std::thread::scope(|s| {
            s.spawn(|| block_on_private(job, resolve, options))
                .join()
                .unwrap_or_else(|_| Outcome {
                    result: Err(Failure::Io {
                        stage: Stage::Connect,
                        message: "delivery thread panicked".into(),
                    }),
                    transcript: Transcript::default(),
                })
        });
    }
    block_on_private(job, resolve, options)
}

fn block_on_private(job: MailJob, resolve: &ResolveMap, options: &DeliverOptions) -> Outcome {
    match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt.block_on(deliver_with(job, resolve, options)),
        Err(e) => Outcome {
            result: Err(Failure::Io {
                stage: Stage::Connect,
                message: format!("cannot start runtime: {e}"),
            }),
            transcript: Transcript::default(),
        },
    }
}

enum Conn {
    Plain(TcpStream),
    Tls(Box<TlsStream<TcpStream>>),
}

/// The job's TLS settings with the driver's extra trust anchors.
fn tls_settings(job: &MailJob, options: &DeliverOptions) -> at_tls::ClientSettings {
    let mut settings = job.tls.clone();
    if let (Verify::Chain { anchors, .. }, Some(extra)) = (&mut settings.verify, &options.roots) {
        anchors.extend(extra.iter().cloned());
    }
    settings
}

async fn handshake(
    settings: &at_tls::ClientSettings,
    job: &MailJob,
    tcp: TcpStream,
    stage: Stage,
    client: &mut SmtpClient,
    started: Instant,
) -> Result<Conn, Abort> {
    match at_tls::connect(settings, &job.server, tcp).await {
        Ok(stream) => {
            client.tls_established(started.elapsed());
            client.tls_negotiated(stream.negotiated().clone());
            Ok(Conn::Tls(Box::new(stream)))
        }
        Err(e) => Err(tls_failure(e, stage).into()),
    }
}

impl Conn {
    async fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        match self {
            Conn::Plain(s) => s.read(buf).await,
            Conn::Tls(s) => s.read(buf).await,
        }
    }

    async fn write_all(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        match self {
            Conn::Plain(s) => {
                s.write_all(bytes).await?;
                s.flush().await
            }
            Conn::Tls(s) => {
                s.write_all(bytes).await?;
                s.flush().await
            }
        }
    }

    async fn shutdown(&mut self) {
        let _ = match self {
            Conn::Plain(s) => s.shutdown().await,
            Conn::Tls(s) => s.shutdown().await,
        };
    }
}

/// Delivers `job`: resolves (with `resolve`'s overrides), connects, runs the SMTP session and
/// returns the result with the transcript. Never panics; every failure is an [`Outcome`].
pub async fn deliver_with(job: MailJob, resolve: &ResolveMap, options: &DeliverOptions) -> Outcome {
    let started = Instant::now();
    let mut client = SmtpClient::new(&job);
    let result = async {
        let conn = connect(&job, resolve, options, &mut client, started).await?;
        drive(conn, &job, options, &mut client, started).await
    }
    .await;
    let result = match result {
        Ok(Driven::Done) => Ok(()),
        // Only a client made with `SmtpClient::opening` holds; this one never does.
        Ok(Driven::Opened(_)) => Err(Failure::Reset {
            stage: client.stage(),
        }),
        Err(abort) => Err(settle(abort, options.stall).await),
    };
    Outcome {
        result,
        transcript: client.take_transcript(),
    }
}

/// The failure an [`Abort`] stands for; a stall pends forever with [`StallMode::Pend`].
async fn settle(abort: Abort, stall: StallMode) -> Failure {
    match abort {
        Abort::Failure(f) => f,
        Abort::Stall(stage) => match stall {
            StallMode::Report => Failure::Stalled { stage },
            StallMode::Pend => std::future::pending().await,
        },
    }
}

enum Abort {
    Failure(Failure),
    Stall(Stage),
}

impl From<Failure> for Abort {
    fn from(f: Failure) -> Self {
        Abort::Failure(f)
    }
}

/// The injected fault that applies when the session enters `stage`.
fn fault_at(job: &MailJob, stage: Stage) -> Result<(), Abort> {
    for fault in &job.faults {
        match *fault {
            NetFault::Reset { stage: s } if s == stage => {
                return Err(Failure::Reset { stage }.into());
            }
            NetFault::Stall { stage: s } if s == stage => return Err(Abort::Stall(stage)),
            _ => {}
        }
    }
    Ok(())
}

/// Resolves and connects (with implicit TLS's handshake), applying the job's network faults.
async fn connect(
    job: &MailJob,
    resolve: &ResolveMap,
    options: &DeliverOptions,
    client: &mut SmtpClient,
    started: Instant,
) -> Result<Conn, Abort> {
    if job.faults.contains(&NetFault::Dns) {
        return Err(Failure::Dns.into());
    }
    let addrs = resolve.resolve(&job.server, job.port).await?;
    if job.faults.contains(&NetFault::Refused) {
        return Err(Failure::Refused.into());
    }
    fault_at(job, Stage::Connect)?;
    let mut tcp = None;
    for addr in addrs {
        if let Ok(s) = TcpStream::connect(addr).await {
            tcp = Some(s);
            break;
        }
    }
    let tcp = tcp.ok_or(Failure::Refused)?;
    let _ = tcp.set_nodelay(true);
    match job.ssl {
        SslType::Implicit => {
            let settings = tls_settings(job, options);
            handshake(&settings, job, tcp, Stage::Connect, client, started).await
        }
        SslType::Plain | SslType::StartTls => Ok(Conn::Plain(tcp)),
    }
}

/// How [`drive`] stopped.
enum Driven {
    /// The session ended well (a failure is an `Err`).
    Done,
    /// The session is open and waits for its message ([`SmtpClient::opening`]).
    Opened(Conn),
}

/// Runs the session on `conn` until it ends, or until it is open and waits for its message.
async fn drive(
    mut conn: Conn,
    job: &MailJob,
    options: &DeliverOptions,
    client: &mut SmtpClient,
    started: Instant,
) -> Result<Driven, Abort> {
    let mut buf = vec![0u8; 16 * 1024];
    let mut entered = None;
    loop {
        let stage = client.stage();
        if entered != Some(stage) && !client.is_held() {
            entered = Some(stage);
            if let Err(abort) = fault_at(job, stage) {
                if stage == Stage::Body
                    && let Some(len) = client.pending_transmit_len()
                {
                    // Reset mid-DATA: half of the message goes out, then the connection drops.
                    if let Some(part) = client.poll_transmit_at_most(started.elapsed(), len / 2) {
                        let _ = conn.write_all(&part).await;
                    }
                }
                conn.shutdown().await;
                return Err(abort);
            }
        }
        while let Some(bytes) = client.poll_transmit(started.elapsed()) {
            if conn.write_all(&bytes).await.is_err() {
                client.handle_close(started.elapsed());
                break;
            }
        }
        let mut upgrade = false;
        while let Some(event) = client.poll_event() {
            match event {
                Event::Done(result) => {
                    conn.shutdown().await;
                    return result.map(|()| Driven::Done).map_err(Abort::Failure);
                }
                Event::UpgradeTls => upgrade = true,
                Event::Opened => return Ok(Driven::Opened(conn)),
            }
        }
        if upgrade {
            let Conn::Plain(tcp) = conn else {
                return Err(Failure::Tls("STARTTLS inside TLS".into()).into());
            };
            let settings = tls_settings(job, options);
            conn = handshake(&settings, job, tcp, Stage::StartTls, client, started).await?;
            continue;
        }
        if client.stage() != stage {
            continue; // check faults for the new stage before reading
        }
        let read = if client.awaiting_quit_reply() {
            // The failure is decided: a server that never answers the QUIT must not hold it.
            match tokio::time::timeout(QUIT_REPLY_WAIT, conn.read(&mut buf)).await {
                Ok(r) => r,
                Err(_) => Ok(0),
            }
        } else {
            conn.read(&mut buf).await
        };
        match read {
            Ok(0) | Err(_) => client.handle_close(started.elapsed()),
            Ok(n) => client.handle_input(started.elapsed(), buf.get(..n).unwrap_or_default()),
        }
    }
}

/// An SMTP session opened before its message exists ([`open_with`]): greeting, EHLO, STARTTLS
/// and AUTH are done; the connection waits for [`finish`](Self::finish) or
/// [`abort`](Self::abort).
pub struct OpenSession {
    conn: Conn,
    client: SmtpClient,
    job: MailJob,
    options: DeliverOptions,
    started: Instant,
}

impl std::fmt::Debug for OpenSession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OpenSession")
            .field("server", &self.job.server)
            .field("port", &self.job.port)
            .finish_non_exhaustive()
    }
}

/// Opens the SMTP session of `job` (resolve, connect, greeting, EHLO, STARTTLS, AUTH) and keeps
/// it open for its message. A session that cannot be opened is an [`Outcome`] with the failure
/// and the transcript (a stall pends or reports, as in [`deliver_with`]).
pub async fn open_with(
    job: MailJob,
    resolve: &ResolveMap,
    options: &DeliverOptions,
) -> Result<OpenSession, Outcome> {
    let started = Instant::now();
    let mut client = SmtpClient::opening(&job);
    let opened = async {
        let conn = connect(&job, resolve, options, &mut client, started).await?;
        drive(conn, &job, options, &mut client, started).await
    }
    .await;
    let result = match opened {
        Ok(Driven::Opened(conn)) => {
            return Ok(OpenSession {
                conn,
                client,
                job,
                options: options.clone(),
                started,
            });
        }
        // Held clients end only by failing before MAIL FROM.
        Ok(Driven::Done) => Failure::Reset {
            stage: client.stage(),
        },
        Err(abort) => settle(abort, options.stall).await,
    };
    Err(Outcome {
        result: Err(result),
        transcript: client.take_transcript(),
    })
}

impl OpenSession {
    /// Sends `job` (the job the session was opened for, now with its body) on the session and
    /// ends it; the transcript runs from the connect.
    pub async fn finish(mut self, job: &MailJob) -> Outcome {
        self.client.release(job);
        let result = match drive(
            self.conn,
            &self.job,
            &self.options,
            &mut self.client,
            self.started,
        )
        .await
        {
            Ok(Driven::Done) => Ok(()),
            Ok(Driven::Opened(mut conn)) => {
                conn.shutdown().await;
                Err(Failure::Reset {
                    stage: self.client.stage(),
                })
            }
            Err(abort) => Err(settle(abort, self.options.stall).await),
        };
        Outcome {
            result,
            transcript: self.client.take_transcript(),
        }
    }

    /// Ends the session without a message (`QUIT`, RFC 5321 §4.1.1.10), as a module does when
    /// its host gives up on the body; the transcript of the session.
    pub async fn abort(mut self) -> Transcript {
        let t = self.started.elapsed();
        let _ = self.conn.write_all(b"QUIT\r\n").await;
        self.client.note_sent(t, b"QUIT\r\n");
        let mut buf = [0u8; 512];
        if let Ok(Ok(n)) = tokio::time::timeout(QUIT_REPLY_WAIT, self.conn.read(&mut buf)).await {
            self.client
                .handle_input(self.started.elapsed(), buf.get(..n).unwrap_or_default());
        }
        self.conn.shutdown().await;
        self.client.take_transcript()
    }
}

/// A peer that closes during the handshake closed the connection (656, 000 §5 "closed by
/// peer"); every other handshake failure is a TLS failure (665, "SSL authentication failed").
fn tls_failure(e: TlsError, stage: Stage) -> Failure {
    match e {
        TlsError::Closed => Failure::Reset { stage },
        other => Failure::Tls(other.to_string()),
    }
}
