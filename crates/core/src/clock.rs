//! The clock and the random source the client uses, injectable so that tests are
//! deterministic.

use std::fmt;
use std::sync::Mutex;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// Where the client reads the time: a monotonic instant (for timeouts, backoff and rate limits)
/// and the wall clock (for UserSig issue times).
pub trait Clock: Send + Sync + fmt::Debug + 'static {
    /// The monotonic time now.
    fn now(&self) -> Instant;
    /// Seconds since the Unix epoch now.
    fn unix_time(&self) -> u64;
    /// Milliseconds since the Unix epoch now (by default `unix_time() * 1000`; the clocks of
    /// this crate give the milliseconds).
    fn unix_time_ms(&self) -> u64 {
        self.unix_time().saturating_mul(1000)
    }
}

/// The operating system's clocks (the default).
///
/// ```
/// use tim_core::{Clock, SystemClock};
/// assert!(SystemClock.unix_time() > 1_600_000_000);
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Instant {
        Instant::now()
    }

    fn unix_time(&self) -> u64 {
        // A clock set before 1970 reads as the epoch rather than failing.
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs())
    }

    fn unix_time_ms(&self) -> u64 {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
    }
}

/// A clock that moves only when told to, for tests.
///
/// ```
/// use std::time::Duration;
/// use tim_core::{Clock, ManualClock};
/// let clock = ManualClock::new(1_700_000_000);
/// let t0 = clock.now();
/// clock.advance(Duration::from_millis(1500));
/// assert_eq!(clock.now() - t0, Duration::from_millis(1500));
/// assert_eq!(clock.unix_time(), 1_700_000_001);
/// assert_eq!(clock.unix_time_ms(), 1_700_000_001_500);
/// ```
#[derive(Debug)]
pub struct ManualClock {
    base: Instant,
    unix_base_ms: u64,
    offset: Mutex<Duration>,
}

impl ManualClock {
    /// A clock that reads `unix_time` seconds since the epoch until advanced.
    pub fn new(unix_time: u64) -> Self {
        Self::from_unix_ms(unix_time.saturating_mul(1000))
    }

    /// A clock that reads `unix_ms` milliseconds since the epoch until advanced.
    pub fn from_unix_ms(unix_ms: u64) -> Self {
        Self {
            base: Instant::now(),
            unix_base_ms: unix_ms,
            offset: Mutex::new(Duration::ZERO),
        }
    }

    /// A clock stopped at the system's current time.
    pub fn starting_now() -> Self {
        Self::from_unix_ms(SystemClock.unix_time_ms())
    }

    /// Moves the clock forward.
    pub fn advance(&self, by: Duration) {
        let mut o = self.offset.lock().unwrap_or_else(|e| e.into_inner());
        *o = o.saturating_add(by);
    }

    /// How far the clock has been moved in total.
    pub fn elapsed(&self) -> Duration {
        *self.offset.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Instant {
        let offset = self.elapsed();
        self.base.checked_add(offset).unwrap_or(self.base)
    }

    fn unix_time(&self) -> u64 {
        self.unix_time_ms() / 1000
    }

    fn unix_time_ms(&self) -> u64 {
        let elapsed = u64::try_from(self.elapsed().as_millis()).unwrap_or(u64::MAX);
        self.unix_base_ms.saturating_add(elapsed)
    }
}

impl<C: Clock> Clock for std::sync::Arc<C> {
    fn now(&self) -> Instant {
        (**self).now()
    }
    fn unix_time(&self) -> u64 {
        (**self).unix_time()
    }
    fn unix_time_ms(&self) -> u64 {
        (**self).unix_time_ms()
    }
}

/// Where the client draws random numbers: the `random` query value of every request and the
/// backoff jitter.
pub trait RandomSource: Send + Sync + fmt::Debug + 'static {
    /// A uniformly distributed 64-bit number.
    fn next_u64(&self) -> u64;
}

/// The default random source: a fast non-cryptographic generator (`fastrand`), seeded per
/// thread. Neither use needs cryptographic randomness.
///
/// ```
/// use tim_core::{FastRandom, RandomSource};
/// let r = FastRandom;
/// assert_ne!((r.next_u64(), r.next_u64()), (0, 0));
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct FastRandom;

impl RandomSource for FastRandom {
    fn next_u64(&self) -> u64 {
        fastrand::u64(..)
    }
}

/// A seeded, reproducible random source, for tests.
///
/// ```
/// use tim_core::{RandomSource, SeededRandom};
/// let a = SeededRandom::new(7);
/// let b = SeededRandom::new(7);
/// assert_eq!(a.next_u64(), b.next_u64());
/// ```
#[derive(Debug)]
pub struct SeededRandom(Mutex<fastrand::Rng>);

impl SeededRandom {
    /// A source that produces the same sequence for the same seed.
    pub fn new(seed: u64) -> Self {
        Self(Mutex::new(fastrand::Rng::with_seed(seed)))
    }
}

impl RandomSource for SeededRandom {
    fn next_u64(&self) -> u64 {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).u64(..)
    }
}

impl<R: RandomSource> RandomSource for std::sync::Arc<R> {
    fn next_u64(&self) -> u64 {
        (**self).next_u64()
    }
}
