//! The client-side rate limiter: one small piece that hands out send times per endpoint and
//! hears back when the server said "too fast".
//!
//! Sends are paced evenly (GCRA with no burst allowance: one send every `1 s / per_second`),
//! so no sliding one-second window ever holds more than the documented limit, whatever the
//! server's (undocumented) window algorithm is. It is written here rather than taken from
//! `governor`: this limiter *reserves* a send time for a caller that then sleeps on its
//! transport's timer, with the time passed in (the core does no I/O and reads no clock), which
//! is a few lines of arithmetic; governor answers "not yet" against its own clock.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::endpoint::EndpointInfo;
use crate::generated::EndpointId;

/// Which rate limits the client keeps.
///
/// By default it keeps each endpoint's documented limits from the spec, paced evenly: one call
/// every `(1 s + margin) / per_second` (every 10.2 ms for the endpoints documented at 100 calls
/// a second, with the default 20 ms margin), and consecutive calls more than `min_interval`
/// apart (1 s for `im_push`). The margin keeps network jitter from pushing two calls into one
/// server window. Daily quotas are not enforced: they can be raised by ticket, and the server
/// answers when one is spent.
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
    share: u32,
}

impl Default for RateLimits {
    fn default() -> Self {
        Self {
            enabled: true,
            per_second: None,
            margin: Duration::from_millis(20),
            throttle_pause: Duration::from_millis(200),
            share: 1,
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

    /// Sets the safety margin added to each one-second budget and to minimum intervals (default
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

    /// Keeps `1/n` of every budget (for one of `n` processes that split the app's limits
    /// between them, e.g. when a shared limiter cannot be reached): calls `n` times further
    /// apart, `1/n` of each per-minute budget. The default is 1 (the whole budget).
    ///
    /// ```
    /// use std::time::Duration;
    /// use tim_core::{Endpoint, RateLimiter, RateLimits, all_member_push::GetTag};
    /// let quarter = RateLimiter::new(RateLimits::default().with_margin(Duration::ZERO).with_share(4));
    /// assert_eq!(quarter.spacing(GetTag::INFO), Some(Duration::from_millis(40)));
    /// ```
    #[must_use]
    pub fn with_share(mut self, n: u32) -> Self {
        self.share = n.max(1);
        self
    }

    /// The safety margin added to each one-second budget and to minimum intervals.
    pub fn margin(&self) -> Duration {
        self.margin
    }

    /// How long an endpoint is paused after the server answered "too fast".
    pub fn throttle_pause(&self) -> Duration {
        self.throttle_pause
    }

    /// The `n` of [`with_share`](RateLimits::with_share) (1 by default).
    pub fn share(&self) -> u32 {
        self.share
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
    /// The earliest time the next call may be sent (GCRA's theoretical arrival time).
    next: Option<Instant>,
    /// The send time handed out last.
    last: Option<Instant>,
    paused_until: Option<Instant>,
    /// Per-minute budgets: the earliest time the next unit may go (even pacing) ...
    next_unit: Option<Instant>,
    /// ... and the units handed out within the last minute, oldest first (so that no sliding
    /// minute ever holds more than the budget, whatever the cost of each call).
    minute: VecDeque<(Instant, u32)>,
}

/// Hands out send times so that calls keep the configured [`RateLimits`]. Shared by every
/// clone of a client (one per client builder); one lane per endpoint (service and command).
///
/// [`acquire`](RateLimiter::acquire) reserves the earliest allowed send time for a call and
/// returns how long to wait for it; the reservation is made at once, so concurrent callers queue
/// in order without polling. [`report`](RateLimiter::report) tells the limiter how the server
/// answered: after "too fast", the endpoint is paused for every caller. Time is passed in, so
/// the limiter is deterministic.
///
/// ```
/// use std::time::{Duration, Instant};
/// use tim_core::{Endpoint, RateLimiter, RateLimits, all_member_push::{GetTag, Push}};
///
/// let limiter = RateLimiter::new(RateLimits::default().with_margin(Duration::ZERO));
/// let t0 = Instant::now();
/// // Tag reads (100 a second) go one every 10 ms: the 101st at 1 s, never 101 in a second.
/// let waits: Vec<Duration> = (0..101).map(|_| limiter.acquire(GetTag::INFO, t0)).collect();
/// assert_eq!(waits[0], Duration::ZERO);
/// assert_eq!(waits[1], Duration::from_millis(10));
/// assert_eq!(waits[100], Duration::from_secs(1));
/// // Pushes are kept more than a second apart, independently of other endpoints.
/// assert_eq!(limiter.acquire(Push::INFO, t0), Duration::ZERO);
/// assert!(limiter.acquire(Push::INFO, t0) > Duration::from_secs(1));
/// ```
#[derive(Debug)]
pub struct RateLimiter {
    limits: RateLimits,
    lanes: Mutex<HashMap<EndpointId, Lane>>,
}

const SECOND: Duration = Duration::from_secs(1);
const MINUTE: Duration = Duration::from_secs(60);
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

    /// The spacing between two calls of `info` under its per-second limit.
    pub fn spacing(&self, info: &EndpointInfo) -> Option<Duration> {
        let documented = info.rate.per_second?;
        let n = self.limits.per_second.unwrap_or(documented).max(1);
        Some((SECOND + self.limits.margin) * self.limits.share / n)
    }

    /// How far apart consecutive calls of `info` are kept, if it has a minimum interval
    /// (strictly more than the documented one, plus the margin).
    pub fn min_interval(&self, info: &EndpointInfo) -> Option<Duration> {
        info.rate
            .min_interval
            .map(|d| (d + self.limits.margin + STRICTLY_MORE) * self.limits.share)
    }

    /// The per-minute budget of `info` kept (its share of the documented one, at least 1) and
    /// the sliding window it is counted over (a minute and the margin).
    pub fn per_minute(&self, info: &EndpointInfo) -> Option<(u32, Duration)> {
        let budget = info.rate.per_minute?;
        Some((
            (budget / self.limits.share).max(1),
            MINUTE + self.limits.margin,
        ))
    }

    /// The daily budget of `info` kept (its share of the documented one, at least 1).
    pub fn per_day(&self, info: &EndpointInfo) -> Option<u32> {
        info.rate.per_day.map(|n| (n / self.limits.share).max(1))
    }

    /// Reserves the earliest send time allowed for one call of `info` at `now`, and returns
    /// how long to wait until then (zero when the call may go at once).
    pub fn acquire(&self, info: &EndpointInfo, now: Instant) -> Duration {
        self.acquire_cost(info, 1, now)
    }

    /// [`acquire`](RateLimiter::acquire) for a call that costs `cost` units of the endpoint's
    /// per-minute budget (e.g. the recipients of a broadcast; see
    /// [`Endpoint::cost`](crate::Endpoint::cost)). A per-minute budget is paced evenly too (one
    /// unit every `(60 s + margin) / per_minute`), and no sliding minute holds more than the
    /// budget; a call that costs more than the whole budget waits for an empty minute.
    ///
    /// ```
    /// use std::time::{Duration, Instant};
    /// use tim_core::{Endpoint, RateLimiter, RateLimits, all_member_push::GetTag};
    /// let limiter = RateLimiter::new(RateLimits::default().with_margin(Duration::ZERO));
    /// // An endpoint without a per-minute budget: the cost does not matter.
    /// let t0 = Instant::now();
    /// assert_eq!(limiter.acquire_cost(GetTag::INFO, 500, t0), Duration::ZERO);
    /// ```
    pub fn acquire_cost(&self, info: &EndpointInfo, cost: u32, now: Instant) -> Duration {
        if !self.limits.enabled {
            return Duration::ZERO;
        }
        let spacing = self.spacing(info);
        let min_interval = self.min_interval(info);
        let per_minute = self.per_minute(info).map(|(n, _)| n);
        if spacing.is_none() && min_interval.is_none() && per_minute.is_none() {
            return Duration::ZERO;
        }
        let mut lanes = self.lanes.lock().unwrap_or_else(|e| e.into_inner());
        let lane = lanes.entry(info.id).or_default();
        let mut at = now;
        for bound in [lane.paused_until, lane.next].into_iter().flatten() {
            at = at.max(bound);
        }
        if let (Some(gap), Some(last)) = (min_interval, lane.last) {
            at = at.max(last + gap);
        }
        if let Some(budget) = per_minute {
            let cost = cost.clamp(1, budget);
            if let Some(next) = lane.next_unit {
                at = at.max(next);
            }
            // Make room in the sliding minute that ends at the send time.
            let window = MINUTE + self.limits.margin;
            let mut used: u64 = lane.minute.iter().map(|(_, c)| u64::from(*c)).sum();
            while used + u64::from(cost) > u64::from(budget) {
                let Some((t, c)) = lane.minute.pop_front() else {
                    break;
                };
                at = at.max(t + window);
                used -= u64::from(c);
            }
            while lane.minute.front().is_some_and(|(t, _)| *t + window <= at) {
                lane.minute.pop_front();
            }
            lane.minute.push_back((at, cost));
            lane.next_unit = Some(at + window / budget * cost);
        }
        lane.last = Some(at);
        if let Some(s) = spacing {
            lane.next = Some(at + s);
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
        let lane = lanes.entry(info.id).or_default();
        lane.paused_until = Some(lane.paused_until.map_or(until, |p| p.max(until)));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Endpoint;
    use crate::all_member_push::{AddTag, GetTag, Push};

    /// Sends `n` calls as fast as the limiter allows (each caller sleeps exactly what it is
    /// told) and returns the send times relative to the start.
    fn schedule(l: &RateLimiter, info: &EndpointInfo, n: usize, t0: Instant) -> Vec<Duration> {
        (0..n).map(|_| l.acquire(info, t0)).collect()
    }

    #[test]
    fn no_sliding_second_holds_more_than_the_limit_and_the_pace_is_even() {
        let l = RateLimiter::new(RateLimits::default());
        let t0 = Instant::now();
        let times = schedule(&l, GetTag::INFO, 1_000, t0);
        for (i, t) in times.iter().enumerate() {
            let in_window = times[i..].iter().filter(|u| **u < *t + SECOND).count();
            assert!(in_window <= 100, "{in_window} calls within 1 s of call {i}");
        }
        // Evenly spaced: no burst at the start of a window.
        for w in times.windows(2) {
            assert_eq!(w[1] - w[0], Duration::from_micros(10_200));
        }
        // ... and the pace is close to the ceiling: 1,000 calls in about 10 s.
        let last = times.last().unwrap().as_secs_f64();
        assert!((10.0..10.3).contains(&last), "{last}");
    }

    /// An endpoint documented at 12,000 units a minute, counted by recipients.
    fn per_minute_info() -> EndpointInfo {
        let mut info = *GetTag::INFO;
        info.rate = crate::RateLimit {
            per_minute: Some(12_000),
            counted_by: Some("To_Account"),
            ..crate::RateLimit::default()
        };
        info
    }

    #[test]
    fn a_per_minute_budget_counted_by_recipients_holds_in_every_sliding_minute() {
        let info = per_minute_info();
        let l = RateLimiter::new(RateLimits::default());
        let t0 = Instant::now();
        // 100 broadcasts of 500 recipients: 50,000 units against 12,000 a minute.
        let times: Vec<Duration> = (0..100).map(|_| l.acquire_cost(&info, 500, t0)).collect();
        for (i, t) in times.iter().enumerate() {
            let units: usize = times[i..].iter().filter(|u| **u < *t + MINUTE).count() * 500;
            assert!(units <= 12_000, "{units} units within a minute of call {i}");
        }
        // Paced evenly (500 units every 2.5 s and a little), close to the budget: 50,000 units
        // take a bit more than four minutes, not five.
        assert!(times[1] - times[0] >= Duration::from_millis(2_500));
        let last = times.last().unwrap().as_secs_f64();
        assert!((247.5..252.0).contains(&last), "{last}");
        // A call that costs more than the whole budget still goes, alone in its minute.
        let l = RateLimiter::new(RateLimits::default());
        assert_eq!(l.acquire_cost(&info, 50_000, t0), Duration::ZERO);
        assert!(l.acquire_cost(&info, 1, t0) >= MINUTE);
    }

    #[test]
    fn an_idle_lane_sends_at_once() {
        let l = RateLimiter::new(RateLimits::default());
        let t0 = Instant::now();
        assert_eq!(l.acquire(GetTag::INFO, t0), Duration::ZERO);
        assert!(l.acquire(GetTag::INFO, t0) > Duration::ZERO);
        assert_eq!(l.acquire(GetTag::INFO, t0 + SECOND), Duration::ZERO);
    }

    #[test]
    fn endpoints_are_limited_independently_and_override_applies() {
        let l = RateLimiter::new(RateLimits::default().with_per_second(10));
        let t0 = Instant::now();
        let a = schedule(&l, GetTag::INFO, 11, t0);
        let b = schedule(&l, AddTag::INFO, 1, t0);
        assert!(a[10] >= SECOND);
        assert!(b.iter().all(|d| d.is_zero()));
    }

    #[test]
    fn pushes_are_more_than_a_second_apart() {
        let l = RateLimiter::new(RateLimits::default());
        let t0 = Instant::now();
        let p = schedule(&l, Push::INFO, 3, t0);
        assert_eq!(p[0], Duration::ZERO);
        assert!(p[1] > SECOND && p[2] - p[1] > SECOND);
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
        assert!(l.acquire(Push::INFO, t0) > SECOND);

        let off = RateLimiter::new(RateLimits::off());
        off.report(Push::INFO, Outcome::Throttled, t0);
        assert!(
            schedule(&off, Push::INFO, 5, t0)
                .iter()
                .all(|d| d.is_zero())
        );
    }
}
