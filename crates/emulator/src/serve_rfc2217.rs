//! The emulator as an RFC 2217 access server (`atconform emulate --listen ADDR --rfc2217`): a
//! serial port over Telnet whose DTR reaches the core's `set_dtr`, as a ser2net port in front
//! of a real module would.
//!
//! Per connection a bridge task owns the socket and the sans-IO [`at_rfc2217::Server`]: it
//! answers the negotiation and every COM-port command itself, hands data and DTR changes to
//! the module's session in stream order, and encodes the module's output (`IAC` doubled).

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use at_rfc2217::{Server, ServerConfig, ServerEvent};
use tokio::io::{AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;

use crate::serve::{HostInput, HostReader, Limits, ServeOptions, session};

/// What the bridge hands the module, in stream order.
enum Host {
    Data(Vec<u8>),
    Dtr(bool),
}

/// The module's side of the bridge: data and DTR changes.
struct Bridged {
    rx: mpsc::UnboundedReceiver<Host>,
    /// Data received but not yet handed over (larger than the session's buffer).
    rest: Vec<u8>,
}

impl HostReader for Bridged {
    async fn next_input(&mut self, buf: &mut [u8]) -> io::Result<HostInput> {
        if self.rest.is_empty() {
            // `recv` is cancel-safe; everything after it is synchronous.
            match self.rx.recv().await {
                None => return Ok(HostInput::Eof),
                Some(Host::Dtr(level)) => return Ok(HostInput::Dtr(level)),
                Some(Host::Data(d)) => self.rest = d,
            }
        }
        let n = buf.len().min(self.rest.len());
        if let (Some(dst), Some(src)) = (buf.get_mut(..n), self.rest.get(..n)) {
            dst.copy_from_slice(src);
        }
        self.rest.drain(..n);
        Ok(HostInput::Bytes(n))
    }
}

/// The module's output, to the bridge (never blocks: the channel is unbounded, and the
/// module's output is bounded by what the host makes it say).
struct Output(mpsc::UnboundedSender<Vec<u8>>);

impl AsyncWrite for Output {
    fn poll_write(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Poll::Ready(match self.0.send(buf.to_vec()) {
            Ok(()) => Ok(buf.len()),
            Err(_) => Err(io::Error::new(
                io::ErrorKind::BrokenPipe,
                "the RFC 2217 connection closed",
            )),
        })
    }
    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
    fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

/// Moves bytes between the socket and the module until either side ends.
async fn bridge(
    mut stream: TcpStream,
    to_module: mpsc::UnboundedSender<Host>,
    mut from_module: mpsc::UnboundedReceiver<Vec<u8>>,
) -> io::Result<()> {
    let mut server = Server::new(ServerConfig::default());
    let mut buf = vec![0u8; 4096];
    let mut out = Vec::new();
    loop {
        out.clear();
        server.poll_transmit(&mut out);
        if !out.is_empty() {
            stream.write_all(&out).await?;
        }
        tokio::select! {
            read = stream.read(&mut buf) => {
                let n = read?;
                if n == 0 {
                    return Ok(());
                }
                server.handle_input(buf.get(..n).unwrap_or_default());
                while let Some(ev) = server.poll_event() {
                    let host = match ev {
                        ServerEvent::Data(d) => Host::Data(d),
                        ServerEvent::Dtr(level) => Host::Dtr(level),
                        // Baud rate, framing, RTS, BREAK, flow control, purges: the emulated
                        // UART has none of these; they are acknowledged and otherwise ignored.
                        _ => continue,
                    };
                    if to_module.send(host).is_err() {
                        return Ok(());
                    }
                }
            }
            output = from_module.recv() => match output {
                Some(bytes) => server.send_data(&bytes),
                // The module's session ended (shutdown).
                None => {
                    out.clear();
                    server.poll_transmit(&mut out);
                    stream.write_all(&out).await?;
                    return stream.shutdown().await;
                }
            },
        }
    }
}

/// Serves RFC 2217 connections on `listener`, one at a time, each with a freshly powered-on
/// module, until `shutdown` completes (like [`crate::serve::serve_tcp`], with Telnet COM port
/// control: DTR drops end data mode after `AT&D1`, 000 §1.3).
pub async fn serve_rfc2217(
    listener: TcpListener,
    options: &ServeOptions,
    shutdown: impl Future<Output = ()>,
) -> io::Result<()> {
    tokio::pin!(shutdown);
    loop {
        let stream = tokio::select! {
            () = &mut shutdown => return Ok(()),
            accepted = listener.accept() => accepted?.0,
        };
        let _ = stream.set_nodelay(true);
        let (to_module, rx) = mpsc::unbounded_channel();
        let (tx, from_module) = mpsc::unbounded_channel();
        let bridge = tokio::spawn(bridge(stream, to_module, from_module));
        let host = Bridged {
            rx,
            rest: Vec::new(),
        };
        // A connection's I/O error ends that connection, not the listener.
        let stopped = matches!(
            session(
                host,
                Output(tx),
                options,
                Limits::of(options),
                &mut shutdown
            )
            .await,
            Ok(true)
        );
        // The session dropped its output sender: the bridge flushes and closes the socket.
        let _ = bridge.await;
        if stopped {
            return Ok(());
        }
    }
}
