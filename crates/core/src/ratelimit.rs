//! The client-side rate limiter: one small piece that hands out send times per endpoint and
//! hears back when the server said "too fast".

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::endpoint::EndpointInfo;

/// Which rate limits the client keeps.
///
/// By default it keeps each endpoint's documented limits from the spec: at most
/// `per_second` calls in any one-second window (100 for the nine tag and attribute endpoints),
/// and consecutive calls more than `min_interval` apart (1 s for `im_push`). Every send time is
/// padded by a small `margin` so that network jitter does not push a burst over the server's
/// window. The daily push quota is not enforced: it can be raised by ticket, and the server
/// answers 90047 when it is spent.
///
/// ```
/// use std::time::Duration;
/// use tim_core::RateLimits;
/// let documented = RateLimits::default();
/// assert!(documented.is_enabled());
/// let faster = RateLimits::default().with_per_second(1000); // e.g. an emulator without limits
/// assert_eq!(faster.per_second_override(), Some(1000));
/// assert!(!RateLimits::off().is_enabled());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimits {
    enabled: bool,
    per_second: Option<u32>,
    margin: Duration,
    throttle_pause: Duration,
}

impl Default for RateLimits {
    fn default() -> Self {
        Self {
            enabled: true,
            per_second: None,
            margin: Duration::from_millis(20),
            throttle_pause: Duration::from_millis(200),
        }
    }
}

impl RateLimits {
    /// The documented limits (the default).
    pub fn documented() -> Self {
        Self::default()
    }

    /// No client-side limits at all; the server's 60007 answers are still waited out by retries.
    pub fn off() -> Self {
        Self {
            enabled: false,
            ..Self::default()
        }
    }

    /// Uses `calls` per second instead of the documented figure, for every endpoint that has a
    /// per-second limit (0 is treated as 1).
    #[must_use]
    pub fn with_per_second(mut self, calls: u32) -> Self {
        self.per_second = Some(calls.max(1));
        self
    }

    /// Sets the safety margin added to the one-second window and to minimum intervals (default
    /// 20 ms).
    #[must_use]
    pub fn with_margin(mut self, margin: Duration) -> Self {
        self.margin = margin;
        self
    }

    /// Sets how long an endpoint is paused for every caller after the server answered "too
    /// fast" (default 200 ms; never shorter than the endpoint's minimum interval).
    #[must_use]
    pub fn with_throttle_pause(mut self, pause: Duration) -> Self {
        self.throttle_pause = pause;
        self
    }

    /// Whether any limit is kept.
    pub fn is_enabled(&self) -> bool {
        self.enabled
    }

    /// The per-second figure used instead of the documented one, if any.
    pub fn per_second_override(&self) -> Option<u32> {
        self.per_second
    }
}

/// What the server said about a call that went through the limiter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Outcome {
    /// The server executed the call or answered anything but "too fast".
    Accepted,
    /// The server refused the call for its rate (60007, 90024, HTTP 429, ...).
    Throttled,
}

#[derive(Debug, Default)]
struct Lane {
    /// Send times handed out, oldest first; at most `per_second` of them.
    recent: VecDeque<Instant>,
    paused_until: Option<Instant>,
}

/// Hands out send times so that calls keep the configured [`RateLimits`]. Shared by every
/// clone of a client (one per client builder).
///
/// [`acquire`](RateLimiter::acquire) reserves the earliest allowed send time for a call and
/// returns how long to wait for it; the reservation is made at once, so concurrent callers queue
/// in order without polling. [`report`](RateLimiter::report) tells the limiter how the server
/// answered: after "too fast", the endpoint is paused for every caller. Time is passed in, so
/// the limiter is deterministic.
///
/// ```
/// use std::time::{Duration, Instant};
/// use tim_core::{Endpoint, RateLimiter, RateLimits, endpoints::{GetTag, Push}};
///
/// let limiter = RateLimiter::new(RateLimits::default().with_margin(Duration::ZERO));
/// let t0 = Instant::now();
/// // 100 tag reads go at once; the 101st waits for the window to pass.
/// for _ in 0..100 {
///     assert_eq!(limiter.acquire(GetTag::INFO, t0), Duration::ZERO);
/// }
/// assert_eq!(limiter.acquire(GetTag::INFO, t0), Duration::from_secs(1));
/// // Pushes are kept more than a second apart, independently of other endpoints.
/// assert_eq!(limiter.acquire(Push::INFO, t0), Duration::ZERO);
/// assert!(limiter.acquire(Push::INFO, t0) >= Duration::from_secs(1));
/// ```
#[derive(Debug)]
pub struct RateLimiter {
    limits: RateLimits,
    lanes: Mutex<HashMap<&'static str, Lane>>,
}

const WINDOW: Duration = Duration::from_secs(1);
/// Added to a minimum interval that must be strictly exceeded ("more than 1 s apart").
const STRICTLY_MORE: Duration = Duration::from_millis(1);

impl RateLimiter {
    /// A limiter keeping `limits`.
    pub fn new(limits: RateLimits) -> Self {
        Self {
            limits,
            lanes: Mutex::new(HashMap::new()),
        }
    }

    /// The limits kept.
    pub fn limits(&self) -> RateLimits {
        self.limits
    }

    fn per_second(&self, info: &EndpointInfo) -> Option<usize> {
        let documented = info.rate.per_second?;
        let n = self.limits.per_second.unwrap_or(documented).max(1);
        Some(usize::try_from(n).unwrap_or(usize::MAX))
    }

    fn min_interval(&self, info: &EndpointInfo) -> Option<Duration> {
        info.rate
            .min_interval
            .map(|d| d + self.limits.margin + STRICTLY_MORE)
    }

    /// Reserves the earliest send time allowed for one call of `info` at `now`, and returns
    /// how long to wait until then (zero when the call may go at once).
    pub fn acquire(&self, info: &EndpointInfo, now: Instant) -> Duration {
        if !self.limits.enabled {
            return Duration::ZERO;
        }
        let per_second = self.per_second(info);
        let min_interval = self.min_interval(info);
        if per_second.is_none() && min_interval.is_none() {
            return Duration::ZERO;
        }
        let mut lanes = self.lanes.lock().unwrap_or_else(|e| e.into_inner());
        let lane = lanes.entry(info.command).or_default();
        let mut at = now;
        if let Some(p) = lane.paused_until {
            at = at.max(p);
        }
        if let (Some(n), Some(oldest)) = (per_second, lane.recent.front()) {
            if lane.recent.len() >= n {
                at = at.max(*oldest + WINDOW + self.limits.margin);
            }
        }
        if let (Some(gap), Some(last)) = (min_interval, lane.recent.back()) {
            at = at.max(*last + gap);
        }
        lane.recent.push_back(at);
        let keep = per_second.unwrap_or(1);
        while lane.recent.len() > keep {
            lane.recent.pop_front();
        }
        at.saturating_duration_since(now)
    }

    /// Tells the limiter how the server answered a call of `info` at `now`. After
    /// [`Outcome::Throttled`] no call of the endpoint is sent before the pause is over.
    pub fn report(&self, info: &EndpointInfo, outcome: Outcome, now: Instant) {
        if !self.limits.enabled || outcome != Outcome::Throttled {
            return;
        }
        let pause = self
            .min_interval(info)
            .unwrap_or(Duration::ZERO)
            .max(self.limits.throttle_pause);
        let until = now + pause;
        let mut lanes = self.lanes.lock().unwrap_or_else(|e| e.into_inner());
        let lane = lanes.entry(info.command).or_default();
        lane.paused_until = Some(lane.paused_until.map_or(until, |p| p.max(until)));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Endpoint;
    use crate::endpoints::{AddTag, GetTag, Push};

    /// Sends `n` calls as fast as the limiter allows (each caller sleeps exactly what it is
    /// told) and returns the send times relative to the start.
    fn schedule(l: &RateLimiter, info: &EndpointInfo, n: usize, t0: Instant) -> Vec<Duration> {
        (0..n).map(|_| l.acquire(info, t0)).collect()
    }

    #[test]
    fn no_one_second_window_holds_more_than_the_limit() {
        let l = RateLimiter::new(RateLimits::default());
        let t0 = Instant::now();
        let times = schedule(&l, GetTag::INFO, 1_000, t0);
        for (i, t) in times.iter().enumerate() {
            let in_window = times[i..].iter().filter(|u| **u < *t + WINDOW).count();
            assert!(in_window <= 100, "{in_window} calls within 1 s of call {i}");
        }
        // ... and the pace is close to the ceiling: 1,000 calls in about 10 windows.
        let last = times.last().unwrap().as_secs_f64();
        assert!((9.0..9.3).contains(&last), "{last}");
    }

    #[test]
    fn endpoints_are_limited_independently_and_override_applies() {
        let l = RateLimiter::new(RateLimits::default().with_per_second(10));
        let t0 = Instant::now();
        let a = schedule(&l, GetTag::INFO, 11, t0);
        let b = schedule(&l, AddTag::INFO, 10, t0);
        assert!(a[10] >= WINDOW);
        assert!(b.iter().all(|d| d.is_zero()));
    }

    #[test]
    fn pushes_are_more_than_a_second_apart() {
        let l = RateLimiter::new(RateLimits::default());
        let t0 = Instant::now();
        let p = schedule(&l, Push::INFO, 3, t0);
        assert_eq!(p[0], Duration::ZERO);
        assert!(p[1] > WINDOW && p[2] - p[1] > WINDOW);
    }

    #[test]
    fn throttled_pauses_every_caller_and_off_never_waits() {
        let l =
            RateLimiter::new(RateLimits::default().with_throttle_pause(Duration::from_millis(300)));
        let t0 = Instant::now();
        l.report(GetTag::INFO, Outcome::Accepted, t0);
        assert_eq!(l.acquire(GetTag::INFO, t0), Duration::ZERO);
        l.report(GetTag::INFO, Outcome::Throttled, t0);
        assert_eq!(l.acquire(GetTag::INFO, t0), Duration::from_millis(300));
        // A push throttle pauses for at least the push interval.
        l.report(Push::INFO, Outcome::Throttled, t0);
        assert!(l.acquire(Push::INFO, t0) > Duration::from_secs(1));

        let off = RateLimiter::new(RateLimits::off());
        off.report(Push::INFO, Outcome::Throttled, t0);
        assert!(
            schedule(&off, Push::INFO, 5, t0)
                .iter()
                .all(|d| d.is_zero())
        );
    }
}
