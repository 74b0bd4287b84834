//! A lab's fault-control port (`atconform run --fault-control HOST:PORT`): what puts a real
//! module into the faults a scenario needs from its SIM or mobile network (a SIM switch, a
//! network simulator), spoken as one line per command.
//!
//! The protocol (served by `atconform emulate --fault-control ADDR` for the emulator, and by a
//! lab's own adaptor for its equipment): the runner connects, sends `fault SPEC` (an
//! `at_emulator::Fault` name: `sim-not-ready`, `pdp-activation-fails`, `pdp-deactivated`,
//! `pdp-deactivate@2s`, counted from now) or `clear`, and reads one line: `ok` once the module
//! is in that state, `error: WHY` otherwise.

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::time::Duration;

use at_wire::Instant;

use crate::target::{ReadOutcome, Target, TargetError};

/// How long connecting and each answer may take.
const TIMEOUT: Duration = Duration::from_secs(10);

/// Why a fault-control command failed.
#[derive(Debug, thiserror::Error)]
pub enum FaultControlError {
    /// Resolving, connecting, writing or reading failed.
    #[error("fault control {addr}: {source}")]
    Io {
        /// `HOST:PORT`.
        addr: String,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// The address resolves to nothing.
    #[error("fault control {addr}: no address")]
    NoAddress {
        /// `HOST:PORT`.
        addr: String,
    },
    /// The port closed without answering.
    #[error("fault control {addr}: no answer to `{line}`")]
    NoAnswer {
        /// `HOST:PORT`.
        addr: String,
        /// The command sent.
        line: String,
    },
    /// The port refused the command (`error: WHY`).
    #[error("fault control {addr}: `{line}`: {answer}")]
    Refused {
        /// `HOST:PORT`.
        addr: String,
        /// The command sent.
        line: String,
        /// The port's answer.
        answer: String,
    },
}

/// The address of a fault-control port.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FaultControl {
    addr: String,
}

impl FaultControl {
    /// The port at `addr` (`HOST:PORT`).
    pub fn new(addr: impl Into<String>) -> Self {
        FaultControl { addr: addr.into() }
    }

    /// `HOST:PORT`.
    pub fn addr(&self) -> &str {
        &self.addr
    }

    /// Puts the module into `spec` now.
    pub fn inject(&self, spec: &str) -> Result<(), FaultControlError> {
        self.command(&format!("fault {spec}"))
    }

    /// Takes every fault away again.
    pub fn clear(&self) -> Result<(), FaultControlError> {
        self.command("clear")
    }

    /// Sends one command line and reads its answer.
    fn command(&self, line: &str) -> Result<(), FaultControlError> {
        let fail = |source| FaultControlError::Io {
            addr: self.addr.clone(),
            source,
        };
        let addr = self
            .addr
            .to_socket_addrs()
            .map_err(fail)?
            .next()
            .ok_or_else(|| FaultControlError::NoAddress {
                addr: self.addr.clone(),
            })?;
        let mut s = TcpStream::connect_timeout(&addr, TIMEOUT).map_err(fail)?;
        s.set_read_timeout(Some(TIMEOUT)).map_err(fail)?;
        s.set_write_timeout(Some(TIMEOUT)).map_err(fail)?;
        s.write_all(format!("{line}\n").as_bytes()).map_err(fail)?;
        let mut answer = String::new();
        BufReader::new(std::io::Read::take(s, 4096))
            .read_line(&mut answer)
            .map_err(fail)?;
        match answer.trim() {
            "ok" => Ok(()),
            "" => Err(FaultControlError::NoAnswer {
                addr: self.addr.clone(),
                line: line.into(),
            }),
            other => Err(FaultControlError::Refused {
                addr: self.addr.clone(),
                line: line.into(),
                answer: other.into(),
            }),
        }
    }
}

/// A device whose module faults come from a fault-control port: `@fault` steps reached during
/// the case ([`Target::inject_fault`]) go there.
pub struct Controlled<'a> {
    /// The device.
    pub device: &'a mut dyn Target,
    /// Its fault-control port.
    pub control: &'a FaultControl,
}

impl Target for Controlled<'_> {
    fn write(&mut self, bytes: &[u8]) -> Result<(), TargetError> {
        self.device.write(bytes)
    }
    fn read(&mut self, deadline: Instant) -> Result<ReadOutcome, TargetError> {
        self.device.read(deadline)
    }
    fn now(&self) -> Instant {
        self.device.now()
    }
    fn sleep(&mut self, d: Duration) {
        self.device.sleep(d)
    }
    fn set_dtr(&mut self, level: bool) -> Result<(), TargetError> {
        self.device.set_dtr(level)
    }
    fn is_virtual(&self) -> bool {
        self.device.is_virtual()
    }
    fn describe(&self) -> String {
        self.device.describe()
    }
    fn inject_fault(&mut self, spec: &str) -> Result<(), TargetError> {
        self.control.inject(spec).map_err(|e| TargetError::Io {
            what: "fault control",
            source: std::io::Error::other(e),
        })
    }
}
