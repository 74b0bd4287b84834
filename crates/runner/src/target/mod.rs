//! Devices the runner talks to: one blocking, deadline-driven interface for every transport.
//!
//! Real-time targets ([`SerialTarget`], [`TcpTarget`], [`Rfc2217Target`]) read the OS clock and sleep; virtual
//! targets (the in-process emulator's [`Driver`](at_emulator::driver::Driver), which is a
//! `Target` whatever its deliverer, and [`ScriptedTarget`]) advance their own clock to the
//! next wake-up, so a 300 s `AT+QSMTPPUT` timeout costs no wall time.

use std::time::Duration;

use at_wire::Instant;

mod emulator;
mod rfc2217;
mod scripted;
mod serial;
mod spec;
mod tcp;

pub use emulator::SinkRoute;
pub use rfc2217::{DTR_CONFIRM_TIMEOUT, NEGOTIATION_TIMEOUT, Rfc2217Target};
pub use scripted::{Script, ScriptedTarget};
pub use serial::SerialTarget;
pub use spec::TargetSpec;
pub use tcp::TcpTarget;

/// What one [`Target::read`] produced.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ReadOutcome {
    /// Bytes arrived (never empty).
    Data(Vec<u8>),
    /// The deadline passed with nothing to read.
    Timeout,
}

/// A transport failure; the device is considered gone after any of these.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TargetError {
    /// The device closed the connection or vanished (EOF, unplugged, PTY closed).
    #[error("device disconnected: {0}")]
    Gone(String),
    /// Any other I/O error.
    #[error("I/O error on {what}: {source}")]
    Io {
        /// The operation that failed.
        what: &'static str,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// The target cannot do this (e.g. DTR on TCP).
    #[error("not supported by this target: {0}")]
    Unsupported(&'static str),
    /// Opening the device failed.
    #[error("cannot open {device}: {reason}")]
    Open {
        /// Device path or address.
        device: String,
        /// Why.
        reason: String,
    },
}

/// A device under test, seen as a byte stream with a clock.
///
/// Every read has a deadline, so a silent or vanished device never hangs the runner.
pub trait Target {
    /// Sends `bytes` to the device, all of them.
    fn write(&mut self, bytes: &[u8]) -> Result<(), TargetError>;
    /// Returns the bytes available now, or waits for some until `deadline` (target clock).
    fn read(&mut self, deadline: Instant) -> Result<ReadOutcome, TargetError>;
    /// The target's clock: wall time since opening, or virtual time.
    fn now(&self) -> Instant;
    /// Lets `d` pass: real targets sleep, virtual ones advance their clock.
    fn sleep(&mut self, d: Duration);
    /// Drives the DTR line, where the transport has one.
    fn set_dtr(&mut self, level: bool) -> Result<(), TargetError> {
        let _ = level;
        Err(TargetError::Unsupported("DTR"))
    }
    /// Whether [`Target::now`] is virtual time (response-time limits are then judged on it).
    fn is_virtual(&self) -> bool;
    /// A short human description (`/dev/ttyUSB2 @ 115200`, `emulator ec2x`).
    fn describe(&self) -> String;
    /// Puts the device into a fault now (`at_emulator::Fault` syntax, e.g. `pdp-deactivated`):
    /// only the emulator can.
    fn inject_fault(&mut self, spec: &str) -> Result<(), TargetError> {
        let _ = spec;
        Err(TargetError::Unsupported("fault injection"))
    }
}

impl<T: Target + ?Sized> Target for Box<T> {
    fn write(&mut self, bytes: &[u8]) -> Result<(), TargetError> {
        (**self).write(bytes)
    }
    fn read(&mut self, deadline: Instant) -> Result<ReadOutcome, TargetError> {
        (**self).read(deadline)
    }
    fn now(&self) -> Instant {
        (**self).now()
    }
    fn sleep(&mut self, d: Duration) {
        (**self).sleep(d)
    }
    fn set_dtr(&mut self, level: bool) -> Result<(), TargetError> {
        (**self).set_dtr(level)
    }
    fn is_virtual(&self) -> bool {
        (**self).is_virtual()
    }
    fn inject_fault(&mut self, spec: &str) -> Result<(), TargetError> {
        (**self).inject_fault(spec)
    }
    fn describe(&self) -> String {
        (**self).describe()
    }
}

/// Wall clock for real-time targets: [`Instant`] since the target was opened.
#[derive(Clone, Copy, Debug)]
pub(crate) struct WallClock(std::time::Instant);

impl WallClock {
    pub(crate) fn start() -> Self {
        WallClock(std::time::Instant::now())
    }
    pub(crate) fn now(&self) -> Instant {
        Instant::from_duration(self.0.elapsed())
    }
}
