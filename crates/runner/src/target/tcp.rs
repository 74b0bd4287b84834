//! Modules reached over TCP (a serial-to-network bridge, or `atconform emulate --listen`).

use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use at_wire::Instant;

use super::{ReadOutcome, Target, TargetError, WallClock};

/// Longest single blocking read, so deadlines stay accurate.
const READ_SLICE: Duration = Duration::from_millis(50);

/// A module whose AT port is a TCP stream.
#[derive(Debug)]
pub struct TcpTarget {
    stream: TcpStream,
    clock: WallClock,
    addr: String,
}

impl TcpTarget {
    /// Connects to `addr` (`HOST:PORT`) within `timeout`.
    pub fn connect(addr: &str, timeout: Duration) -> Result<Self, TargetError> {
        Ok(TcpTarget {
            stream: connect_stream(addr, timeout)?,
            clock: WallClock::start(),
            addr: addr.to_string(),
        })
    }
}

/// A TCP stream to `addr` (`HOST:PORT`, every resolved address tried), no Nagle delay.
pub(super) fn connect_stream(addr: &str, timeout: Duration) -> Result<TcpStream, TargetError> {
    use std::net::ToSocketAddrs;
    let open_err = |reason: String| TargetError::Open {
        device: addr.to_string(),
        reason,
    };
    let mut last = None;
    let addrs = addr
        .to_socket_addrs()
        .map_err(|e| open_err(e.to_string()))?;
    for sa in addrs {
        match TcpStream::connect_timeout(&sa, timeout) {
            Ok(stream) => {
                stream
                    .set_nodelay(true)
                    .map_err(|e| open_err(e.to_string()))?;
                return Ok(stream);
            }
            Err(e) => last = Some(e),
        }
    }
    Err(open_err(last.map_or_else(
        || "no address".to_string(),
        |e| e.to_string(),
    )))
}

/// Writes all of `bytes`; a reset or closed peer is [`TargetError::Gone`].
pub(super) fn write_stream(stream: &mut TcpStream, bytes: &[u8]) -> Result<(), TargetError> {
    stream.write_all(bytes).map_err(|e| match e.kind() {
        ErrorKind::BrokenPipe | ErrorKind::ConnectionReset | ErrorKind::ConnectionAborted => {
            TargetError::Gone(e.to_string())
        }
        _ => TargetError::Io {
            what: "write",
            source: e,
        },
    })
}

/// Reads what is there into `buf`, waiting at most until `deadline` (on `clock`) in slices of
/// [`READ_SLICE`]; `Ok(None)` when the deadline passed with nothing read.
pub(super) fn read_stream(
    stream: &mut TcpStream,
    clock: &WallClock,
    deadline: Instant,
    buf: &mut [u8],
) -> Result<Option<usize>, TargetError> {
    loop {
        let slice = (deadline - clock.now()).clamp(Duration::from_millis(1), READ_SLICE);
        stream
            .set_read_timeout(Some(slice))
            .map_err(|e| TargetError::Io {
                what: "set timeout",
                source: e,
            })?;
        match stream.read(buf) {
            Ok(0) => return Err(TargetError::Gone("connection closed".into())),
            Ok(n) => return Ok(Some(n)),
            Err(e) if matches!(e.kind(), ErrorKind::TimedOut | ErrorKind::WouldBlock) => {}
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e)
                if matches!(
                    e.kind(),
                    ErrorKind::ConnectionReset | ErrorKind::ConnectionAborted
                ) =>
            {
                return Err(TargetError::Gone(e.to_string()));
            }
            Err(e) => {
                return Err(TargetError::Io {
                    what: "read",
                    source: e,
                });
            }
        }
        if clock.now() >= deadline {
            return Ok(None);
        }
    }
}

impl Target for TcpTarget {
    fn write(&mut self, bytes: &[u8]) -> Result<(), TargetError> {
        write_stream(&mut self.stream, bytes)
    }

    fn read(&mut self, deadline: Instant) -> Result<ReadOutcome, TargetError> {
        let mut buf = [0u8; 4096];
        Ok(
            match read_stream(&mut self.stream, &self.clock, deadline, &mut buf)? {
                Some(n) => ReadOutcome::Data(buf.get(..n).unwrap_or_default().to_vec()),
                None => ReadOutcome::Timeout,
            },
        )
    }

    fn now(&self) -> Instant {
        self.clock.now()
    }

    fn sleep(&mut self, d: Duration) {
        std::thread::sleep(d);
    }

    fn is_virtual(&self) -> bool {
        false
    }

    fn describe(&self) -> String {
        format!("tcp {}", self.addr)
    }
}
