//! Data-mode collectors: the Quectel body/upload collector with the `+++` escape and its guard
//! times (000 §1.3), and the Multi-Tech body collector ended by `<CR><LF>.<CR><LF>` (002).

use core::time::Duration;

use at_wire::Instant;

/// Why a Quectel data mode ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum End {
    /// `<body_length>`/`<file_size>` bytes arrived.
    Length,
    /// `+++` with its guard times.
    Escape,
    /// `<input_time>`/`<timeout>` passed.
    Timeout,
    /// DTR dropped (with `AT&D1`/`AT&D2`).
    Dtr,
}

/// Quectel data-mode collector.
#[derive(Clone, Debug)]
pub(crate) struct Collector {
    pub(crate) buf: Vec<u8>,
    limit: usize,
    escape: bool,
    guard: Duration,
    /// Quirk guard-time-ignored: `+++` needs no silence before it.
    no_guard_before: bool,
    /// Quirk escape-needs-no-silence-after.
    no_guard_after: bool,
    pending_plus: usize,
    plus_started: Instant,
    last_rx: Instant,
    escape_at: Option<Instant>,
    deadline: Option<Instant>,
}

impl Collector {
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn new(
        now: Instant,
        limit: usize,
        deadline: Option<Instant>,
        escape: bool,
        guard: Duration,
        no_guard_before: bool,
        no_guard_after: bool,
    ) -> Self {
        Collector {
            buf: Vec::new(),
            limit,
            escape,
            guard,
            no_guard_before,
            no_guard_after,
            pending_plus: 0,
            plus_started: now,
            last_rx: now,
            escape_at: None,
            deadline,
        }
    }

    fn flush_plus(&mut self) -> bool {
        let n = self
            .pending_plus
            .min(self.limit.saturating_sub(self.buf.len()));
        self.buf.extend(core::iter::repeat_n(b'+', n));
        self.pending_plus = 0;
        self.escape_at = None;
        self.buf.len() >= self.limit
    }

    /// Feeds bytes; returns how many were consumed and whether data mode ended.
    pub(crate) fn feed(&mut self, now: Instant, bytes: &[u8]) -> (usize, Option<End>) {
        for (i, &b) in bytes.iter().enumerate() {
            if self.escape_at.is_some() && self.flush_plus() {
                // Three pluses turned out to be data and completed the length.
                return (i, Some(End::Length));
            }
            if self.escape && b == b'+' {
                let quiet = now.saturating_duration_since(self.last_rx) >= self.guard;
                if self.pending_plus == 0 {
                    if quiet || self.no_guard_before {
                        self.pending_plus = 1;
                        self.plus_started = now;
                    } else {
                        self.buf.push(b);
                    }
                } else if now.saturating_duration_since(self.plus_started) <= self.guard {
                    self.pending_plus += 1;
                } else {
                    // Too slow: the earlier pluses and this one are data.
                    self.flush_plus();
                    self.buf.push(b);
                }
                self.last_rx = now;
                if self.buf.len() + self.pending_plus >= self.limit {
                    self.flush_plus();
                    return (i + 1, Some(End::Length));
                }
                if self.pending_plus == 3 {
                    if self.no_guard_after {
                        self.pending_plus = 0;
                        return (i + 1, Some(End::Escape));
                    }
                    self.escape_at = Some(now + self.guard);
                }
                continue;
            }
            if self.pending_plus > 0 && self.flush_plus() {
                return (i, Some(End::Length));
            }
            self.buf.push(b);
            self.last_rx = now;
            if self.buf.len() >= self.limit {
                return (i + 1, Some(End::Length));
            }
        }
        (bytes.len(), None)
    }

    /// The next instant at which [`Collector::on_timeout`] has something to do.
    pub(crate) fn poll_timeout(&self) -> Option<Instant> {
        match (self.escape_at, self.deadline) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// Handles time passing.
    pub(crate) fn on_timeout(&mut self, now: Instant) -> Option<End> {
        if self.escape_at.is_some_and(|t| t <= now) {
            self.pending_plus = 0;
            self.escape_at = None;
            return Some(End::Escape);
        }
        if self.deadline.is_some_and(|t| t <= now) {
            self.flush_plus();
            return Some(End::Timeout);
        }
        None
    }

    /// DTR dropped: pending pluses count as data.
    pub(crate) fn on_dtr(&mut self) -> End {
        self.flush_plus();
        End::Dtr
    }
}

/// Multi-Tech body collector: ends at `<CR><LF>.<CR><LF>` (or `.<CR><LF>` as the first line),
/// dot-unstuffed (002), bounded to `max` bytes.
#[derive(Clone, Debug)]
pub(crate) struct MtCollector {
    raw: Vec<u8>,
    max: usize,
    overflow: bool,
    /// Last bytes seen, for the terminator across the bound.
    tail: [u8; 5],
    pub(crate) last_rx: Instant,
}

impl MtCollector {
    pub(crate) fn new(now: Instant, max: usize) -> Self {
        MtCollector {
            raw: Vec::new(),
            max,
            overflow: false,
            // As if a line had just ended: `.<CR><LF>` first ends an empty body.
            tail: [0, 0, 0, b'\r', b'\n'],
            last_rx: now,
        }
    }

    /// Feeds bytes; returns how many were consumed and whether the terminator arrived.
    pub(crate) fn feed(&mut self, now: Instant, bytes: &[u8]) -> (usize, bool) {
        if !bytes.is_empty() {
            self.last_rx = now;
        }
        for (i, &b) in bytes.iter().enumerate() {
            self.tail.rotate_left(1);
            self.tail[4] = b;
            if self.raw.len() < self.max {
                self.raw.push(b);
            } else {
                self.overflow = true;
            }
            if self.tail == *b"\r\n.\r\n" {
                return (i + 1, true);
            }
        }
        (bytes.len(), false)
    }

    /// The body (terminator removed, dot-unstuffed) or `None` if it exceeded the bound.
    pub(crate) fn finish(self) -> Option<Vec<u8>> {
        if self.overflow {
            return None;
        }
        // Drop ".\r\n" and keep the CRLF that ended the last line.
        let body = self
            .raw
            .get(..self.raw.len().saturating_sub(3))
            .unwrap_or_default();
        let mut out = Vec::with_capacity(body.len());
        let mut at_line_start = true;
        let mut i = 0;
        while let Some(&b) = body.get(i) {
            if at_line_start && b == b'.' && body.get(i + 1) == Some(&b'.') {
                i += 1; // RFC 5321 §4.5.2 transparency, undone
            }
            let b = body.get(i).copied().unwrap_or(b);
            out.push(b);
            at_line_start = b == b'\n';
            i += 1;
        }
        Some(out)
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
        let mut c = Collector::new(t(0), 3, None, true, G, false, false);
        assert_eq!(c.feed(t(1), b"abcdef"), (3, Some(End::Length)));
        assert_eq!(c.buf, b"abc");
    }

    #[test]
    fn escape_with_guards() {
        let mut c = Collector::new(t(0), 100, Some(t(120_000)), true, G, false, false);
        assert_eq!(c.feed(t(10), b"hello"), (5, None));
        assert_eq!(c.feed(t(1500), b"+++"), (3, None));
        assert_eq!(c.poll_timeout(), Some(t(2500)));
        assert_eq!(c.on_timeout(t(2500)), Some(End::Escape));
        assert_eq!(c.buf, b"hello");
    }

    #[test]
    fn plus_without_silence_is_data() {
        let mut c = Collector::new(t(0), 100, None, true, G, false, false);
        c.feed(t(10), b"a+++");
        assert_eq!(c.buf, b"a+++");
        // Pluses after silence, then a byte within the guard: data.
        c.feed(t(2000), b"+++");
        c.feed(t(2100), b"x");
        assert_eq!(c.buf, b"a++++++x");
        assert_eq!(c.poll_timeout(), None);
    }

    #[test]
    fn timeout_keeps_data() {
        let mut c = Collector::new(t(0), 100, Some(t(120_000)), true, G, false, false);
        c.feed(t(5), b"x".repeat(90).as_slice());
        assert_eq!(c.on_timeout(t(119_999)), None);
        assert_eq!(c.on_timeout(t(120_000)), Some(End::Timeout));
        assert_eq!(c.buf.len(), 90);
    }

    #[test]
    fn multitech_terminator_and_unstuffing() {
        let mut m = MtCollector::new(t(0), 1000);
        let (n, done) = m.feed(t(1), b"hi\r\n..dot\r\n.\r\nAT\r");
        assert!(done);
        assert_eq!(n, 14);
        assert_eq!(m.finish().unwrap(), b"hi\r\n.dot\r\n");
        let mut m = MtCollector::new(t(0), 1000);
        assert_eq!(m.feed(t(1), b".\r\n"), (3, true));
        assert_eq!(m.finish().unwrap(), b"");
        let mut m = MtCollector::new(t(0), 4);
        assert!(m.feed(t(1), b"123456\r\n.\r\n").1);
        assert_eq!(m.finish(), None);
    }
}
