//! Time as a value: the session core never reads a clock; adapters pass [`Instant`]s from a [`Clock`].

use std::sync::Arc;
use std::time::Duration;

/// A point in time, measured as the time elapsed since the sink's clock started.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Instant(Duration);

impl Instant {
    /// The clock's origin.
    pub const ZERO: Instant = Instant(Duration::ZERO);

    /// The instant `elapsed` after the origin.
    pub const fn from_elapsed(elapsed: Duration) -> Self {
        Instant(elapsed)
    }

    /// The time elapsed since the origin.
    pub const fn elapsed(self) -> Duration {
        self.0
    }

    /// `self + d`, saturating at the largest representable instant.
    pub fn saturating_add(self, d: Duration) -> Self {
        Instant(self.0.saturating_add(d))
    }

    /// `self - earlier`, or zero when `earlier` is later.
    pub fn saturating_duration_since(self, earlier: Instant) -> Duration {
        self.0.saturating_sub(earlier.0)
    }
}

impl std::ops::Add<Duration> for Instant {
    type Output = Instant;
    fn add(self, rhs: Duration) -> Instant {
        self.saturating_add(rhs)
    }
}

/// Where the tokio adapter gets `now` from: the system's monotonic clock, or a manual clock
/// that only moves when a test advances it.
#[derive(Debug, Clone)]
pub struct Clock {
    inner: ClockInner,
}

#[derive(Debug, Clone)]
enum ClockInner {
    System(std::time::Instant),
    Manual(ManualClock),
}

impl Clock {
    /// The system's monotonic clock, with its origin now.
    pub fn system() -> Self {
        Clock {
            inner: ClockInner::System(std::time::Instant::now()),
        }
    }

    /// A clock driven by `manual` (virtual time for tests).
    pub fn manual(manual: &ManualClock) -> Self {
        Clock {
            inner: ClockInner::Manual(manual.clone()),
        }
    }

    /// The current instant.
    pub fn now(&self) -> Instant {
        match &self.inner {
            ClockInner::System(origin) => Instant(origin.elapsed()),
            ClockInner::Manual(m) => m.now(),
        }
    }

    /// Completes once `now() >= deadline`.
    pub(crate) async fn sleep_until(&self, deadline: Instant) {
        match &self.inner {
            ClockInner::System(origin) => {
                tokio::time::sleep_until(tokio::time::Instant::from_std(*origin + deadline.0)).await
            }
            ClockInner::Manual(m) => {
                let mut rx = m.tx.subscribe();
                loop {
                    if *rx.borrow_and_update() >= deadline.0 {
                        return;
                    }
                    if rx.changed().await.is_err() {
                        // The clock can no longer move: the deadline is never reached.
                        std::future::pending::<()>().await;
                    }
                }
            }
        }
    }
}

impl Default for Clock {
    fn default() -> Self {
        Clock::system()
    }
}

/// A shareable virtual clock: starts at zero and moves only by [`ManualClock::advance`].
#[derive(Debug, Clone)]
pub struct ManualClock {
    tx: Arc<tokio::sync::watch::Sender<Duration>>,
}

impl ManualClock {
    /// A new clock at [`Instant::ZERO`].
    pub fn new() -> Self {
        ManualClock {
            tx: Arc::new(tokio::sync::watch::Sender::new(Duration::ZERO)),
        }
    }

    /// The current virtual instant.
    pub fn now(&self) -> Instant {
        Instant(*self.tx.borrow())
    }

    /// Moves the clock forward by `d` and wakes anything waiting on it.
    pub fn advance(&self, d: Duration) {
        self.tx.send_modify(|now| *now = now.saturating_add(d));
    }
}

impl Default for ManualClock {
    fn default() -> Self {
        ManualClock::new()
    }
}

/// Parses `1500ms`, `2s`, `3m`, `1h` (a bare number means seconds).
pub fn parse_duration(text: &str) -> Option<Duration> {
    let text = text.trim();
    let split = text
        .find(|c: char| !c.is_ascii_digit() && c != '.')
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let value: f64 = number.parse().ok()?;
    if !value.is_finite() || value < 0.0 {
        return None;
    }
    let scale = match unit.trim() {
        "ms" => 0.001,
        "" | "s" => 1.0,
        "m" | "min" => 60.0,
        "h" => 3600.0,
        _ => return None,
    };
    Duration::try_from_secs_f64(value * scale).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("2s"), Some(Duration::from_secs(2)));
        assert_eq!(parse_duration("1500ms"), Some(Duration::from_millis(1500)));
        assert_eq!(parse_duration("3"), Some(Duration::from_secs(3)));
        assert_eq!(parse_duration("1h"), Some(Duration::from_secs(3600)));
        assert_eq!(parse_duration("x"), None);
        assert_eq!(parse_duration("-1s"), None);
        assert_eq!(parse_duration("1y"), None);
    }

    #[test]
    fn manual_clock_moves_only_when_advanced() {
        let m = ManualClock::new();
        let clock = Clock::manual(&m);
        assert_eq!(clock.now(), Instant::ZERO);
        m.advance(Duration::from_secs(5));
        assert_eq!(clock.now().elapsed(), Duration::from_secs(5));
    }
}
