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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manual_clock_moves_only_when_advanced() {
        let m = ManualClock::new();
        let clock = Clock::manual(&m);
        assert_eq!(clock.now(), Instant::ZERO);
        m.advance(Duration::from_secs(5));
        assert_eq!(clock.now().elapsed(), Duration::from_secs(5));
    }
}
