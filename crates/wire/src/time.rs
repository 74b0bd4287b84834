//! Caller-supplied time: the grammar never reads a clock.

use core::ops::{Add, AddAssign, Sub};
use core::time::Duration;

/// A point in time on the caller's clock, as the duration since an arbitrary origin (power-on).
///
/// Cores take `Instant`s as arguments, so a test can drive them with virtual time and a device
/// adapter with a real clock.
///
/// ```
/// use at_wire::Instant;
/// use core::time::Duration;
/// let t0 = Instant::ZERO;
/// let t1 = t0 + Duration::from_secs(120);
/// assert_eq!(t1 - t0, Duration::from_secs(120));
/// assert_eq!(t0 - t1, Duration::ZERO); // saturating
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Instant(Duration);

impl Instant {
    /// The origin of the caller's clock.
    pub const ZERO: Instant = Instant(Duration::ZERO);

    /// The instant `since_origin` after the origin.
    pub const fn from_duration(since_origin: Duration) -> Self {
        Instant(since_origin)
    }

    /// The instant `ms` milliseconds after the origin.
    pub const fn from_millis(ms: u64) -> Self {
        Instant(Duration::from_millis(ms))
    }

    /// The duration since the origin.
    pub const fn since_origin(self) -> Duration {
        self.0
    }

    /// The duration from `earlier` to `self`, zero if `earlier` is later.
    pub fn saturating_duration_since(self, earlier: Instant) -> Duration {
        self.0.saturating_sub(earlier.0)
    }

    /// `self + d`, or `None` on overflow.
    pub fn checked_add(self, d: Duration) -> Option<Instant> {
        self.0.checked_add(d).map(Instant)
    }
}

impl Add<Duration> for Instant {
    type Output = Instant;
    /// Saturates at the largest representable instant instead of panicking.
    fn add(self, d: Duration) -> Instant {
        Instant(self.0.saturating_add(d))
    }
}

impl AddAssign<Duration> for Instant {
    fn add_assign(&mut self, d: Duration) {
        *self = *self + d;
    }
}

impl Sub<Instant> for Instant {
    type Output = Duration;
    /// Saturating: an earlier minus a later instant is zero.
    fn sub(self, earlier: Instant) -> Duration {
        self.saturating_duration_since(earlier)
    }
}
