//! Data mode through at-wire's framers: [`at_wire::quectel::QuectelFramer`] for
//! `AT+QSMTPBODY`/`AT+QFUPL` (length, `<input_time>`, guarded `+++`, DTR; 000 §1.3) and
//! [`at_wire::multitech::MultiTechFramer`] for the `#PUTMAIL` body (002). The emulator only adds
//! its quirk hooks and the Multi-Tech inactivity clock.

use core::time::Duration;

use at_wire::Instant;
use at_wire::multitech::MultiTechFramer;
use at_wire::quectel::{FramerConfig, QuectelFramer};

/// A Quectel data-mode session.
#[derive(Clone, Debug)]
pub(crate) struct Collector {
    f: QuectelFramer,
    /// Quirk escape-needs-no-silence-after: the third `+` ends data mode at once.
    quick_escape: bool,
    /// The payload when the quick escape fired.
    early: Option<Vec<u8>>,
}

impl Collector {
    /// A session started at `now` (`CONNECT`); `input_time = None` never times out.
    pub(crate) fn new(
        now: Instant,
        declared_len: usize,
        input_time: Option<Duration>,
        guard: Duration,
        quick_escape: bool,
    ) -> Self {
        // "Never" is a deadline no test or serving session reaches (~136 years).
        let input_time = input_time.unwrap_or(Duration::from_secs(u64::from(u32::MAX)));
        let cfg = FramerConfig {
            declared_len,
            input_time,
            guard,
        };
        Collector {
            f: QuectelFramer::new(cfg, now),
            quick_escape,
            early: None,
        }
    }

    /// Confirmed payload length so far.
    pub(crate) fn len(&self) -> usize {
        self.f.payload().len()
    }

    fn finished(&self) -> bool {
        self.early.is_some() || self.f.is_finished()
    }

    /// Feeds bytes at `now`; returns how many were consumed and whether data mode ended.
    pub(crate) fn feed(&mut self, now: Instant, bytes: &[u8]) -> (usize, bool) {
        if !self.quick_escape {
            let n = self.f.push(now, bytes);
            return (n, self.f.is_finished());
        }
        for (i, b) in bytes.iter().enumerate() {
            let n = self.f.push(now, core::slice::from_ref(b));
            if n == 0 || self.f.is_finished() {
                return (i + n, true);
            }
            if self.f.held_plus() == 3 {
                self.early = Some(self.f.payload().to_vec());
                return (i + 1, true);
            }
        }
        (bytes.len(), self.finished())
    }

    /// When [`Collector::on_timeout`] has work.
    pub(crate) fn poll_timeout(&self) -> Option<Instant> {
        if self.finished() {
            return None;
        }
        self.f.poll_timeout()
    }

    /// Time reached `now`; whether data mode ended.
    pub(crate) fn on_timeout(&mut self, now: Instant) -> bool {
        if self.early.is_none() {
            self.f.handle_timeout(now);
        }
        self.finished()
    }

    /// DTR dropped at `now` (with `AT&D1`/`AT&D2`): data mode ends.
    pub(crate) fn on_dtr(&mut self, now: Instant) {
        if self.early.is_none() {
            self.f.dtr(now);
        }
    }

    /// The payload and any bytes that belong to command mode again.
    pub(crate) fn finish(mut self) -> (Vec<u8>, Vec<u8>) {
        if let Some(p) = self.early.take() {
            return (p, Vec::new());
        }
        self.f
            .take_result()
            .map(|r| (r.payload, r.leftover))
            .unwrap_or_default()
    }
}

/// A Multi-Tech `#PUTMAIL` body session.
#[derive(Clone, Debug)]
pub(crate) struct MtCollector {
    f: MultiTechFramer,
    /// Last byte received (002: 50 s of inactivity aborts).
    pub(crate) last_rx: Instant,
}

impl MtCollector {
    pub(crate) fn new(now: Instant, max: usize) -> Self {
        MtCollector {
            f: MultiTechFramer::new(max),
            last_rx: now,
        }
    }

    /// Feeds bytes; returns how many were consumed and whether the terminator arrived.
    pub(crate) fn feed(&mut self, now: Instant, bytes: &[u8]) -> (usize, bool) {
        if !bytes.is_empty() {
            self.last_rx = now;
        }
        let n = self.f.push(bytes);
        (n, self.f.is_finished())
    }

    /// The unstuffed body, or `None` if it exceeded the bound (ERRATA E23).
    pub(crate) fn finish(mut self) -> Option<Vec<u8>> {
        self.f.take_body().and_then(Result::ok)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const G: Duration = Duration::from_secs(1);
    fn t(ms: u64) -> Instant {
        Instant::from_millis(ms)
    }

    #[test]
    fn length_ends_and_rest_is_not_consumed() {
        let mut c = Collector::new(t(0), 3, None, G, false);
        assert_eq!(c.feed(t(1), b"abcdef"), (3, true));
        assert_eq!(c.finish().0, b"abc");
    }

    #[test]
    fn escape_with_guards() {
        let mut c = Collector::new(t(0), 100, Some(Duration::from_secs(120)), G, false);
        assert_eq!(c.feed(t(10), b"hello"), (5, false));
        assert_eq!(c.feed(t(1500), b"+++"), (3, false));
        assert_eq!(c.poll_timeout(), Some(t(2500)));
        assert!(c.on_timeout(t(2500)));
        assert_eq!(c.finish().0, b"hello");
    }

    #[test]
    fn quick_escape_stops_at_the_third_plus() {
        let mut c = Collector::new(t(0), 100, None, G, true);
        assert_eq!(c.feed(t(1500), b"+++AT\r"), (3, true));
        assert_eq!(c.poll_timeout(), None);
        assert_eq!(c.finish().0, b"");
    }

    #[test]
    fn never_timing_out_is_far_away() {
        let c = Collector::new(t(0), 100, None, G, false);
        assert!(c.poll_timeout().unwrap() > t(100 * 365 * 86_400_000));
    }

    #[test]
    fn multitech_terminator_and_unstuffing() {
        let mut m = MtCollector::new(t(0), 1000);
        let (n, done) = m.feed(t(1), b"hi\r\n..dot\r\n.\r\nAT\r");
        assert!(done);
        assert_eq!(n, 14);
        assert_eq!(m.finish().unwrap(), b"hi\r\n.dot\r\n");
        let mut m = MtCollector::new(t(0), 4);
        assert!(m.feed(t(1), b"123456\r\n.\r\n").1);
        assert_eq!(m.finish(), None);
    }
}
