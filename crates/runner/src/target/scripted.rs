//! A scripted fake device on virtual time, for testing the runner without hardware.

use std::collections::VecDeque;
use std::time::Duration;

use at_wire::Instant;

use super::{ReadOutcome, Target, TargetError};

/// One scripted reaction of a [`ScriptedTarget`].
#[derive(Clone, Debug)]
pub enum Script {
    /// Wait until the host has written exactly these bytes (compared on arrival).
    Expect(Vec<u8>),
    /// Emit these bytes as one chunk.
    Send(Vec<u8>),
    /// Let virtual time pass before the next action.
    Delay(Duration),
    /// Disappear: every later call fails with [`TargetError::Gone`].
    Vanish,
}

/// A virtual-time fake device that plays a [`Script`]: checks what the host writes, sends
/// chunks, takes its time, vanishes.
///
/// ```
/// use at_runner::target::{Script, ScriptedTarget, Target, ReadOutcome};
/// use at_wire::Instant;
/// let mut t = ScriptedTarget::new(vec![
///     Script::Expect(b"AT\r".to_vec()),
///     Script::Send(b"AT\r\r\nOK\r\n".to_vec()),
/// ]);
/// t.write(b"AT\r").unwrap();
/// assert_eq!(t.read(Instant::from_millis(10)).unwrap(), ReadOutcome::Data(b"AT\r\r\nOK\r\n".to_vec()));
/// ```
#[derive(Debug)]
pub struct ScriptedTarget {
    script: VecDeque<Script>,
    now: Instant,
    /// Host bytes not yet matched against an `Expect`.
    received: Vec<u8>,
    /// Host bytes that did not match the script (the fake then goes silent).
    pub unexpected: Vec<u8>,
    /// Device output produced while the host slept, not yet read.
    pending: Vec<u8>,
    gone: bool,
    dtr: bool,
}

impl ScriptedTarget {
    /// A fake that will play `script` from virtual time zero.
    pub fn new(script: Vec<Script>) -> Self {
        ScriptedTarget {
            script: script.into(),
            now: Instant::ZERO,
            received: Vec::new(),
            unexpected: Vec::new(),
            pending: Vec::new(),
            gone: false,
            dtr: true,
        }
    }

    /// The DTR level last set by the host.
    pub fn dtr(&self) -> bool {
        self.dtr
    }

    /// Whether every scripted action was played.
    pub fn finished(&self) -> bool {
        self.script.is_empty()
    }

    /// Plays actions that need no more host input; returns the data and the time it is due.
    fn step(&mut self, deadline: Instant) -> Option<Vec<u8>> {
        loop {
            match self.script.front() {
                Some(Script::Expect(want)) => {
                    let n = want.len().min(self.received.len());
                    if self.received.get(..n) != want.get(..n) {
                        self.unexpected.append(&mut self.received);
                        self.script.clear();
                        return None;
                    }
                    if n < want.len() {
                        return None;
                    }
                    self.received.drain(..n);
                    self.script.pop_front();
                }
                Some(Script::Send(bytes)) => {
                    let bytes = bytes.clone();
                    self.script.pop_front();
                    return Some(bytes);
                }
                Some(Script::Delay(d)) => {
                    let due = self.now + *d;
                    if due > deadline {
                        // Consume the part of the delay that passes before the deadline.
                        let left = due - deadline;
                        self.now = deadline;
                        if let Some(Script::Delay(d)) = self.script.front_mut() {
                            *d = left;
                        }
                        return None;
                    }
                    self.now = due;
                    self.script.pop_front();
                }
                Some(Script::Vanish) => {
                    self.gone = true;
                    return None;
                }
                None => return None,
            }
        }
    }
}

impl Target for ScriptedTarget {
    fn write(&mut self, bytes: &[u8]) -> Result<(), TargetError> {
        if self.gone {
            return Err(TargetError::Gone("scripted device vanished".into()));
        }
        self.received.extend_from_slice(bytes);
        Ok(())
    }

    fn read(&mut self, deadline: Instant) -> Result<ReadOutcome, TargetError> {
        if !self.pending.is_empty() {
            return Ok(ReadOutcome::Data(std::mem::take(&mut self.pending)));
        }
        if self.gone {
            return Err(TargetError::Gone("scripted device vanished".into()));
        }
        match self.step(deadline) {
            Some(bytes) => Ok(ReadOutcome::Data(bytes)),
            None if self.gone => Err(TargetError::Gone("scripted device vanished".into())),
            None => {
                self.now = self.now.max(deadline);
                Ok(ReadOutcome::Timeout)
            }
        }
    }

    fn now(&self) -> Instant {
        self.now
    }

    fn sleep(&mut self, d: Duration) {
        // Delays in the script run concurrently with the host's sleep.
        let deadline = self.now + d;
        while let Some(bytes) = self.step(deadline) {
            self.pending.extend_from_slice(&bytes);
        }
        self.now = self.now.max(deadline);
    }

    fn set_dtr(&mut self, level: bool) -> Result<(), TargetError> {
        self.dtr = level;
        Ok(())
    }

    fn is_virtual(&self) -> bool {
        true
    }

    fn describe(&self) -> String {
        "scripted fake device".into()
    }
}
