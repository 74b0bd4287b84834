//! Modules behind an RFC 2217 serial server (ser2net `telnet(rfc2217)`, a labgrid
//! `NetworkSerialPort` with `protocol: rfc2217`, `atconform emulate --rfc2217`): a TCP stream
//! whose Telnet COM port control carries the baud rate and DTR (000 §1.3 `AT&D1` bodies).

use std::collections::VecDeque;
use std::net::TcpStream;
use std::time::Duration;

use at_rfc2217::{Client, ClientConfig, ClientEvent};
use at_wire::Instant;

use super::tcp::{connect_stream, read_stream, write_stream};
use super::{ReadOutcome, Target, TargetError, WallClock};

/// How long the server may take to agree to COM port control and confirm the settings.
pub const NEGOTIATION_TIMEOUT: Duration = Duration::from_secs(5);

/// A module on a serial port exported over RFC 2217.
#[derive(Debug)]
pub struct Rfc2217Target {
    stream: TcpStream,
    client: Client,
    clock: WallClock,
    addr: String,
    baud: u32,
    /// Device bytes decoded but not returned yet.
    rx: VecDeque<u8>,
    /// How many `SET-CONTROL` answers the server sent.
    control_answers: u64,
}

/// How long the server may take to confirm a DTR change.
pub const DTR_CONFIRM_TIMEOUT: Duration = Duration::from_secs(2);

impl Rfc2217Target {
    /// Connects to `addr` (`HOST:PORT`) within `timeout`, negotiates COM port control, sets
    /// `baud` 8N1 without flow control and raises DTR (as opening a local port does). Fails
    /// if the server does not agree within [`NEGOTIATION_TIMEOUT`] (e.g. a raw TCP port).
    pub fn connect(addr: &str, baud: u32, timeout: Duration) -> Result<Self, TargetError> {
        let stream = connect_stream(addr, timeout)?;
        let mut t = Rfc2217Target {
            stream,
            client: Client::new(ClientConfig::new(baud)),
            clock: WallClock::start(),
            addr: addr.to_string(),
            baud,
            rx: VecDeque::new(),
            control_answers: 0,
        };
        let open_err = |reason: String| TargetError::Open {
            device: format!("rfc2217 {addr}"),
            reason,
        };
        t.flush()?;
        let deadline = t.clock.now() + NEGOTIATION_TIMEOUT;
        // Settled when the server confirmed the baud rate (sent first after agreement). Not
        // every server confirms DTR (ser2net in front of a PTY, where the line does not
        // exist, stays silent), so that answer is not awaited.
        while t.client.baud().is_none() {
            if t.client.com_port() == Some(false) {
                return Err(open_err(
                    "the server refused COM port control (a raw TCP port? use protocol raw)".into(),
                ));
            }
            if t.clock.now() >= deadline {
                return Err(open_err(format!(
                    "no RFC 2217 negotiation within {} s (a raw TCP port? use protocol raw)",
                    NEGOTIATION_TIMEOUT.as_secs()
                )));
            }
            t.pump(deadline)?;
        }
        if t.client.baud() != Some(baud) {
            return Err(open_err(format!(
                "the server set {} baud instead of {baud}",
                t.client.baud().unwrap_or_default()
            )));
        }
        Ok(t)
    }

    /// Sends what the client queued.
    fn flush(&mut self) -> Result<(), TargetError> {
        let mut out = Vec::new();
        self.client.poll_transmit(&mut out);
        if out.is_empty() {
            return Ok(());
        }
        write_stream(&mut self.stream, &out)
    }

    /// Reads once (until `deadline` at most) and handles what came; whether anything did.
    fn pump(&mut self, deadline: Instant) -> Result<bool, TargetError> {
        let mut buf = [0u8; 4096];
        let Some(n) = read_stream(&mut self.stream, &self.clock, deadline, &mut buf)? else {
            return Ok(false);
        };
        self.client.handle_input(buf.get(..n).unwrap_or_default());
        while let Some(ev) = self.client.poll_event() {
            match ev {
                ClientEvent::Data(d) => self.rx.extend(d),
                ClientEvent::Control(_) => self.control_answers += 1,
                _ => {}
            }
        }
        // Negotiation answers, signature replies.
        self.flush()?;
        Ok(true)
    }
}

impl Target for Rfc2217Target {
    fn write(&mut self, bytes: &[u8]) -> Result<(), TargetError> {
        self.client.send_data(bytes);
        self.flush()
    }

    fn read(&mut self, deadline: Instant) -> Result<ReadOutcome, TargetError> {
        loop {
            if !self.rx.is_empty() {
                return Ok(ReadOutcome::Data(self.rx.drain(..).collect()));
            }
            if !self.pump(deadline)? && self.clock.now() >= deadline {
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

    /// Sends `SET-CONTROL` DTR on/off (it follows the data already written in the stream, so
    /// the server applies it after those bytes) and waits for the server's answer: a server
    /// that cannot set the line (ser2net in front of a PTY) does not answer, and DTR is then
    /// unsupported rather than silently ignored. Any answer counts (some servers echo a
    /// wrong value, pyserial notes sredird).
    fn set_dtr(&mut self, level: bool) -> Result<(), TargetError> {
        let before = self.control_answers;
        self.client.set_dtr(level);
        self.flush()?;
        let deadline = self.clock.now() + DTR_CONFIRM_TIMEOUT;
        while self.control_answers == before {
            if self.clock.now() >= deadline {
                return Err(TargetError::Unsupported(
                    "DTR (the RFC 2217 server did not confirm it: no modem lines behind it?)",
                ));
            }
            self.pump(deadline)?;
        }
        Ok(())
    }

    fn is_virtual(&self) -> bool {
        false
    }

    fn describe(&self) -> String {
        format!("rfc2217 {} @ {}", self.addr, self.baud)
    }
}
