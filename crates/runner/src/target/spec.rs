//! Which device a run talks to, as given on the command line.

use std::time::Duration;

use super::{Rfc2217Target, SerialTarget, Target, TargetError, TcpTarget};

/// Where the cases run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TargetSpec {
    /// A fresh in-process emulator per case (virtual time).
    Emulator,
    /// A serial port or PTY, `--port PATH --baud N`.
    Serial {
        /// Device path.
        path: String,
        /// Baud rate.
        baud: u32,
    },
    /// A TCP stream, `--tcp HOST:PORT`.
    Tcp {
        /// Address.
        addr: String,
    },
    /// A serial port behind an RFC 2217 server (ser2net, a labgrid `NetworkSerialPort`):
    /// TCP with baud rate and DTR.
    Rfc2217 {
        /// Address.
        addr: String,
        /// Baud rate to set.
        baud: u32,
    },
}

impl TargetSpec {
    /// Opens the device (`None` for the emulator, which runs one per case).
    pub fn open(&self) -> Result<Option<Box<dyn Target>>, TargetError> {
        let timeout = Duration::from_secs(5);
        Ok(match self {
            TargetSpec::Emulator => None,
            TargetSpec::Serial { path, baud } => Some(Box::new(SerialTarget::open(path, *baud)?)),
            TargetSpec::Tcp { addr } => Some(Box::new(TcpTarget::connect(addr, timeout)?)),
            TargetSpec::Rfc2217 { addr, baud } => {
                Some(Box::new(Rfc2217Target::connect(addr, *baud, timeout)?))
            }
        })
    }

    /// Whether each case gets a fresh connection: `atconform emulate --listen` powers a
    /// fresh module on per connection, and serial-over-TCP bridges start each session clean.
    pub fn reconnects(&self) -> bool {
        matches!(self, TargetSpec::Tcp { .. } | TargetSpec::Rfc2217 { .. })
    }
}
