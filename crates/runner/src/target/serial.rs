//! Serial ports and PTYs through the `serialport` crate.

use std::io::{ErrorKind, Read, Write};
use std::time::Duration;

use at_wire::Instant;

use super::{ReadOutcome, Target, TargetError, WallClock};

/// Longest single blocking read, so deadlines stay accurate.
const READ_SLICE: Duration = Duration::from_millis(50);

/// A module on a serial port (`/dev/ttyUSB2`) or a PTY (`atconform emulate --pty-link`).
pub struct SerialTarget {
    port: Box<dyn serialport::SerialPort>,
    clock: WallClock,
    name: String,
    baud: u32,
}

impl std::fmt::Debug for SerialTarget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SerialTarget")
            .field("name", &self.name)
            .field("baud", &self.baud)
            .finish()
    }
}

impl SerialTarget {
    /// Opens `path` at `baud` 8N1, no flow control.
    pub fn open(path: &str, baud: u32) -> Result<Self, TargetError> {
        let port = serialport::new(path, baud)
            .timeout(READ_SLICE)
            .open()
            .map_err(|e| TargetError::Open {
                device: path.to_string(),
                reason: e.to_string(),
            })?;
        Ok(SerialTarget {
            port,
            clock: WallClock::start(),
            name: path.to_string(),
            baud,
        })
    }
}

fn io_err(what: &'static str, e: std::io::Error) -> TargetError {
    match e.kind() {
        ErrorKind::BrokenPipe | ErrorKind::UnexpectedEof | ErrorKind::NotConnected => {
            TargetError::Gone(e.to_string())
        }
        // A PTY whose master closed, or an unplugged USB serial port, reports EIO/ENXIO.
        _ if matches!(e.raw_os_error(), Some(5 | 6 | 19)) => TargetError::Gone(e.to_string()),
        _ => TargetError::Io { what, source: e },
    }
}

impl Target for SerialTarget {
    fn write(&mut self, bytes: &[u8]) -> Result<(), TargetError> {
        self.port.write_all(bytes).map_err(|e| io_err("write", e))?;
        self.port.flush().map_err(|e| io_err("flush", e))
    }

    fn read(&mut self, deadline: Instant) -> Result<ReadOutcome, TargetError> {
        let mut buf = [0u8; 4096];
        loop {
            let now = self.clock.now();
            let slice = (deadline - now).clamp(Duration::from_millis(1), READ_SLICE);
            self.port
                .set_timeout(slice)
                .map_err(|e| io_err("set timeout", e.into()))?;
            match self.port.read(&mut buf) {
                Ok(0) => return Err(TargetError::Gone("end of file".into())),
                Ok(n) => return Ok(ReadOutcome::Data(buf.get(..n).unwrap_or_default().to_vec())),
                Err(e) if matches!(e.kind(), ErrorKind::TimedOut | ErrorKind::WouldBlock) => {}
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(e) => return Err(io_err("read", e)),
            }
            if self.clock.now() >= deadline {
                return Ok(ReadOutcome::Timeout);
            }
        }
    }

    fn now(&self) -> Instant {
        self.clock.now()
    }

    fn sleep(&mut self, d: Duration) {
        std::thread::sleep(d);
    }

    fn set_dtr(&mut self, level: bool) -> Result<(), TargetError> {
        self.port.write_data_terminal_ready(level).map_err(|e| {
            // A PTY has no modem lines: ioctl(TIOCMBIS) answers ENOTTY (or EINVAL); serialport
            // keeps only the message.
            let text = e.to_string();
            let e = std::io::Error::from(e);
            if matches!(e.raw_os_error(), Some(22 | 25))
                || text.contains("typewriter")
                || text.contains("Inappropriate ioctl")
            {
                TargetError::Unsupported("DTR (no modem control lines)")
            } else {
                io_err("set DTR", e)
            }
        })
    }

    fn is_virtual(&self) -> bool {
        false
    }

    fn describe(&self) -> String {
        format!("{} @ {}", self.name, self.baud)
    }
}
