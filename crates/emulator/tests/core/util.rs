//! The core under its one virtual-time driver, deliveries completed by hand.

use core::time::Duration;

use at_emulator::driver::{Driver, Manual};
use at_emulator::{DeliveryId, Emulator, EmulatorConfig, Fault, LibertySet, QuirkSet};
use at_mailer::{Failure, MailJob, Outcome, Stage, Transcript};
use at_wire::Instant;

/// The emulator on [`Driver`], with test shorthands.
pub struct Bench {
    pub m: Driver<Manual>,
    /// Deliveries already handed to the test by [`Bench::deliver`].
    taken: usize,
}

impl Bench {
    pub fn new(profile: &str) -> Bench {
        Self::with(profile, QuirkSet::NONE, &[])
    }

    pub fn with(profile: &str, quirks: QuirkSet, faults: &[Fault]) -> Bench {
        Self::varied(profile, quirks, LibertySet::NONE, faults)
    }

    /// A bench with quirks and liberties.
    pub fn varied(
        profile: &str,
        quirks: QuirkSet,
        liberties: LibertySet,
        faults: &[Fault],
    ) -> Bench {
        let mut cfg = EmulatorConfig::builtin(profile)
            .unwrap()
            .with_quirks(quirks)
            .with_liberties(liberties);
        cfg.faults = faults.to_vec();
        Bench {
            m: Driver::new(cfg, Manual),
            taken: 0,
        }
    }

    /// A bench with echo turned off (the echo of `ATE0` itself is drained).
    pub fn quiet(profile: &str, quirks: QuirkSet) -> Bench {
        let mut b = Self::with(profile, quirks, &[]);
        b.send(b"ATE0\r");
        b
    }

    pub fn emu(&self) -> &Emulator {
        self.m.emulator()
    }

    pub fn now(&self) -> Instant {
        self.m.now()
    }

    pub fn drain(&mut self) -> Vec<u8> {
        self.m.read_available()
    }

    /// Feeds bytes at the current instant; returns the module's output.
    pub fn send(&mut self, bytes: &[u8]) -> Vec<u8> {
        self.m.write(bytes);
        self.drain()
    }

    /// Sends a command line (CR appended); returns the output as text.
    pub fn cmd(&mut self, line: &str) -> String {
        let out = self.send(format!("{line}\r").as_bytes());
        String::from_utf8(out).unwrap()
    }

    /// Advances virtual time by `d`, firing every timer on the way; returns the output.
    pub fn advance(&mut self, d: Duration) -> Vec<u8> {
        self.m.advance(d).expect("the core's timers move on");
        self.drain()
    }

    pub fn advance_ms(&mut self, ms: u64) -> Vec<u8> {
        self.advance(Duration::from_millis(ms))
    }

    /// The next delivery the core asked for (panics if there is none).
    pub fn deliver(&mut self) -> (DeliveryId, MailJob, Instant) {
        let Some(d) = self.m.deliveries().get(self.taken) else {
            panic!("expected a delivery, got none");
        };
        self.taken += 1;
        (d.id, d.job.clone(), d.deadline)
    }

    /// Whether the core asked for no delivery since the last [`Bench::deliver`].
    pub fn no_new_delivery(&self) -> bool {
        self.m.deliveries().len() == self.taken
    }

    /// Whether the core gave up on delivery `id`.
    pub fn cancelled(&self, id: DeliveryId) -> bool {
        self.m
            .deliveries()
            .iter()
            .any(|d| d.id == id && d.cancelled.is_some())
    }

    /// Reports how opening the session of `id` went (Multi-Tech); returns the output.
    pub fn opened(&mut self, id: DeliveryId, result: Result<(), Failure>) -> String {
        let result = result.map_err(|f| Outcome {
            result: Err(f),
            transcript: Transcript::default(),
        });
        self.m.complete_open(id, result);
        String::from_utf8(self.drain()).unwrap()
    }

    /// The job of delivery `id` as the core last gave it (with its body once sent).
    pub fn job_of(&self, id: DeliveryId) -> MailJob {
        let d = self.m.deliveries().iter().find(|d| d.id == id);
        d.expect("a delivery with that id").job.clone()
    }

    pub fn finish(&mut self, id: DeliveryId, result: Result<(), Failure>) -> String {
        self.m.complete(
            id,
            Outcome {
                result,
                transcript: Transcript::default(),
            },
        );
        String::from_utf8(self.drain()).unwrap()
    }

    /// Configures a sendable mail: PDP up, server, one recipient, a 5-byte body.
    pub fn ready_mail(&mut self) {
        for l in [
            "AT+QIACT=1",
            "AT+QSMTPCFG=\"smtpserver\",\"smtp.163.com\",25",
            "AT+QSMTPCFG=\"account\",\"user\",\"pw\"",
            "AT+QSMTPCFG=\"sender\",\"Me\",\"me@163.com\"",
            "AT+QSMTPDST=1,1,\"to@x.com\"",
            "AT+QSMTPSUB=0,\"Hi\"",
        ] {
            assert_eq!(self.cmd(l), "\r\nOK\r\n", "{l}");
        }
        self.body(b"hello");
    }

    /// Sets the body with exactly `data.len()` bytes.
    pub fn body(&mut self, data: &[u8]) {
        let out = self.cmd(&format!("AT+QSMTPBODY=0,{}", data.len()));
        assert_eq!(out, "\r\nCONNECT\r\n");
        let out = self.send(data);
        assert_eq!(
            String::from_utf8(out).unwrap(),
            format!("\r\n+QSMTPBODY: {}\r\n\r\nOK\r\n", data.len())
        );
    }
}

pub fn auth_failure() -> Failure {
    Failure::Protocol {
        stage: Stage::Auth,
        code: 535,
        text: "Error: authentication failed".into(),
    }
}

pub fn s(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}
