//! When to repeat a failed call: a pure function of the attempt, the time spent, the error and
//! the endpoint's idempotency.

use std::time::Duration;

use crate::classify::classify;
use crate::error::{Error, RetryClass};

/// What to do after a failed attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RetryDecision {
    /// Give up and return the error.
    Stop,
    /// Wait this long, then try again.
    RetryAfter(Duration),
}

/// Exponential backoff with full jitter, bounded in attempts and in total time, driven by the
/// verdict of [`classify`](crate::classify()) (from the kind the spec gives each code).
///
/// - [`RetryClass::Safe`] errors (rate limited, connection never opened, ...) are retried for
///   every endpoint.
/// - [`RetryClass::IdempotentOnly`] errors (internal errors, timeouts, connections lost after
///   sending, HTTP 5xx, a status 200 answer that is not JSON, such as a gateway's HTML page) are
///   retried only for idempotent endpoints: never for `im_push`, unless
///   [`RetryPolicy::with_non_idempotent_retries`] opts in (the client then resends the very same
///   body, so the push keeps its `MsgRandom`).
/// - [`RetryClass::Never`] errors and errors raised before sending are not retried.
/// - 70001 (expired UserSig) is not retried by the policy: the client re-signs once instead.
///
/// The wait before retry `n` (1-based) is drawn uniformly from
/// `0..=min(max_backoff, initial_backoff * 2^(n-1))` ("full jitter"), using the random number
/// passed in, so the policy itself is deterministic.
///
/// After a throttled answer (a code of kind [`Throttled`](crate::CodeKind::Throttled) such as
/// 60007 or 90024, or HTTP 429) the same jittered wait is added to a floor,
/// [`RetryPolicy::with_throttle_backoff`] (default 1 s): the documented limits are per second,
/// so a retry sooner than that would land in the window that refused the call. Every retry
/// stays within [`RetryPolicy::with_max_elapsed`]: a wait that would end past it is not
/// started.
///
/// ```
/// use std::time::Duration;
/// use tim_core::{ApiError, Error, ErrorCode, RetryDecision, RetryPolicy};
///
/// let policy = RetryPolicy::default()
///     .with_max_attempts(3)
///     .with_initial_backoff(Duration::from_millis(100));
/// let internal = Error::from(ApiError::new(ErrorCode::InternalError, "busy"));
///
/// // An idempotent call (tags) is retried after at most 100 ms, then at most 200 ms, then not.
/// let RetryDecision::RetryAfter(d) = policy.decide(1, Duration::ZERO, &internal, true, u64::MAX) else { panic!() };
/// assert!(d <= Duration::from_millis(100));
/// assert!(matches!(policy.decide(2, d, &internal, true, 7), RetryDecision::RetryAfter(_)));
/// assert_eq!(policy.decide(3, d, &internal, true, 7), RetryDecision::Stop);
///
/// // A push is not repeated after an ambiguous failure...
/// assert_eq!(policy.decide(1, Duration::ZERO, &internal, false, 7), RetryDecision::Stop);
/// // ...unless the caller opts in.
/// let opt_in = policy.with_non_idempotent_retries(true);
/// assert!(matches!(opt_in.decide(1, Duration::ZERO, &internal, false, 7), RetryDecision::RetryAfter(_)));
///
/// // "Too fast" (60007) is waited out for a second at least, even for a push.
/// let throttled = Error::from(ApiError::new(ErrorCode::RateLimited, "too many requests"));
/// let RetryDecision::RetryAfter(d) = policy.decide(1, Duration::ZERO, &throttled, false, 7) else { panic!() };
/// assert!(d >= Duration::from_secs(1) && d <= Duration::from_millis(1100));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    max_attempts: u32,
    initial_backoff: Duration,
    max_backoff: Duration,
    max_elapsed: Duration,
    throttle_backoff: Duration,
    non_idempotent: bool,
}

impl Default for RetryPolicy {
    /// 4 attempts, backoff from 100 ms up to 5 s, at least 1 s after a throttled answer, at
    /// most 30 s in total, no repeats of non-idempotent calls after an ambiguous failure.
    fn default() -> Self {
        Self {
            max_attempts: 4,
            initial_backoff: Duration::from_millis(100),
            max_backoff: Duration::from_secs(5),
            max_elapsed: Duration::from_secs(30),
            throttle_backoff: Duration::from_secs(1),
            non_idempotent: false,
        }
    }
}

impl RetryPolicy {
    /// A policy that never retries (one attempt). The client still re-signs once after 70001.
    ///
    /// ```
    /// use std::time::Duration;
    /// use tim_core::{Error, ErrorKind, RetryDecision, RetryPolicy};
    /// let e = Error::from(ErrorKind::Timeout(Duration::from_secs(1)));
    /// assert_eq!(RetryPolicy::none().decide(1, Duration::ZERO, &e, true, 0), RetryDecision::Stop);
    /// ```
    pub fn none() -> Self {
        Self::default().with_max_attempts(1)
    }

    /// Sets the most attempts per call, the first included (at least 1).
    #[must_use]
    pub fn with_max_attempts(mut self, attempts: u32) -> Self {
        self.max_attempts = attempts.max(1);
        self
    }

    /// Sets the backoff bound before the first retry; it doubles for each further retry.
    #[must_use]
    pub fn with_initial_backoff(mut self, backoff: Duration) -> Self {
        self.initial_backoff = backoff;
        self
    }

    /// Sets the largest backoff bound.
    #[must_use]
    pub fn with_max_backoff(mut self, backoff: Duration) -> Self {
        self.max_backoff = backoff;
        self
    }

    /// Sets the most time a call may take, retries and waits included; no retry is started
    /// whose wait would end past it.
    #[must_use]
    pub fn with_max_elapsed(mut self, total: Duration) -> Self {
        self.max_elapsed = total;
        self
    }

    /// Sets the least wait before repeating a call the server refused for its rate (a code of
    /// kind [`Throttled`](crate::CodeKind::Throttled), or HTTP 429); the jittered exponential
    /// backoff is added on top of it. Default 1 s, the window of the documented per-second
    /// limits (and the spacing `im_push` requires): a shorter floor lets the retry land in the
    /// window that refused the call. Lower it only for a server with a shorter window (e.g. an
    /// emulator test with a manual clock).
    ///
    /// ```
    /// use std::time::Duration;
    /// use tim_core::{ApiError, Error, ErrorCode, RetryDecision, RetryPolicy};
    /// let policy = RetryPolicy::default().with_throttle_backoff(Duration::from_secs(2));
    /// assert_eq!(policy.throttle_backoff(), Duration::from_secs(2));
    /// let throttled = Error::from(ApiError::new(ErrorCode::RateLimited, ""));
    /// let RetryDecision::RetryAfter(d) = policy.decide(1, Duration::ZERO, &throttled, true, 0) else { panic!() };
    /// assert_eq!(d, Duration::from_secs(2)); // the floor, plus a jitter of zero here
    /// ```
    #[must_use]
    pub fn with_throttle_backoff(mut self, floor: Duration) -> Self {
        self.throttle_backoff = floor;
        self
    }

    /// Opts in to repeating non-idempotent calls (`im_push`) after an ambiguous failure
    /// (timeout, lost connection, 5xx, internal error). The repeat carries the same body, so the
    /// same `MsgRandom`; whether the server deduplicates it is up to the server. Off by default.
    #[must_use]
    pub fn with_non_idempotent_retries(mut self, allow: bool) -> Self {
        self.non_idempotent = allow;
        self
    }

    /// The most attempts per call.
    pub fn max_attempts(&self) -> u32 {
        self.max_attempts
    }

    /// The most time per call.
    pub fn max_elapsed(&self) -> Duration {
        self.max_elapsed
    }

    /// Whether non-idempotent calls may be repeated after an ambiguous failure.
    pub fn non_idempotent_retries(&self) -> bool {
        self.non_idempotent
    }

    /// The least wait before repeating a throttled call.
    pub fn throttle_backoff(&self) -> Duration {
        self.throttle_backoff
    }

    /// The upper bound of the wait before retry number `retry` (1-based), before jitter.
    ///
    /// ```
    /// use std::time::Duration;
    /// use tim_core::RetryPolicy;
    /// let p = RetryPolicy::default();
    /// assert_eq!(p.backoff_bound(1), Duration::from_millis(100));
    /// assert_eq!(p.backoff_bound(3), Duration::from_millis(400));
    /// assert_eq!(p.backoff_bound(60), Duration::from_secs(5));
    /// ```
    pub fn backoff_bound(&self, retry: u32) -> Duration {
        let factor = 1u32
            .checked_shl(retry.saturating_sub(1))
            .unwrap_or(u32::MAX);
        self.initial_backoff
            .checked_mul(factor)
            .unwrap_or(Duration::MAX)
            .min(self.max_backoff)
    }

    /// Decides what to do after attempt number `attempt` (1-based) failed with `error`,
    /// `elapsed` after the call started, for an endpoint whose repetition is harmless iff
    /// `idempotent`. `random` is any uniformly distributed number; it picks the jitter.
    pub fn decide(
        &self,
        attempt: u32,
        elapsed: Duration,
        error: &Error,
        idempotent: bool,
        random: u64,
    ) -> RetryDecision {
        if attempt >= self.max_attempts {
            return RetryDecision::Stop;
        }
        let verdict = classify(error);
        if verdict.resign {
            // The client signs anew and repeats once; the policy does not repeat it again.
            return RetryDecision::Stop;
        }
        let Some(class) = verdict.retry else {
            return RetryDecision::Stop;
        };
        let allowed = match class {
            RetryClass::IdempotentOnly => idempotent || self.non_idempotent,
            other => other.allows(idempotent),
        };
        if !allowed {
            return RetryDecision::Stop;
        }
        let bound = self.backoff_bound(attempt);
        let mut wait = jitter(bound, random);
        if verdict.throttled {
            wait = wait.saturating_add(self.throttle_backoff);
        }
        if elapsed.saturating_add(wait) > self.max_elapsed {
            return RetryDecision::Stop;
        }
        RetryDecision::RetryAfter(wait)
    }
}

/// A duration uniform in `0..=bound`, picked by `random`.
fn jitter(bound: Duration, random: u64) -> Duration {
    let nanos = u64::try_from(bound.as_nanos()).unwrap_or(u64::MAX);
    if nanos == 0 {
        return Duration::ZERO;
    }
    let picked = (u128::from(random) * (u128::from(nanos) + 1)) >> 64;
    Duration::from_nanos(u64::try_from(picked).unwrap_or(nanos))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::{ApiError, DecodeErrorKind, ErrorKind, Sent, TransportError};
    use bytes::Bytes;
    use http::StatusCode;

    fn api(code: i64) -> Error {
        Error::from(ApiError::new(code, ""))
    }

    #[test]
    fn jitter_stays_within_bounds_and_reaches_both_ends() {
        let b = Duration::from_millis(100);
        assert_eq!(jitter(b, 0), Duration::ZERO);
        assert_eq!(jitter(b, u64::MAX), b);
        for r in [1, 1 << 20, 1 << 40, u64::MAX / 2, u64::MAX - 1] {
            assert!(jitter(b, r) <= b);
        }
        assert_eq!(jitter(Duration::ZERO, 5), Duration::ZERO);
        assert!(jitter(Duration::MAX, u64::MAX) > Duration::from_secs(1));
    }

    #[test]
    fn classes_decide_for_idempotent_and_not() {
        let p = RetryPolicy::default();
        let cases: Vec<(Error, bool, bool)> = vec![
            // (error, retried when idempotent, retried when not)
            (api(60007), true, true),
            (api(90024), true, true),
            (api(91000), true, false),
            (api(90018), false, false),
            (api(123456), false, false),
            (api(70001), false, false),
            (
                Error::from(ErrorKind::Timeout(Duration::from_secs(1))),
                true,
                false,
            ),
            (
                Error::from(ErrorKind::http_status(
                    StatusCode::BAD_GATEWAY,
                    Default::default(),
                )),
                true,
                false,
            ),
            (
                Error::from(ErrorKind::http_status(
                    StatusCode::TOO_MANY_REQUESTS,
                    Default::default(),
                )),
                true,
                true,
            ),
            (
                Error::from(ErrorKind::http_status(
                    StatusCode::NOT_FOUND,
                    Default::default(),
                )),
                false,
                false,
            ),
            (
                Error::from(TransportError::new(Sent::No, "refused")),
                true,
                true,
            ),
            (
                Error::from(TransportError::new(Sent::Maybe, "reset")),
                true,
                false,
            ),
            // A status 200 answer that is not JSON (a gateway's HTML page): maybe executed.
            (
                Error::from(ErrorKind::decode(
                    DecodeErrorKind::NotJson,
                    Bytes::from_static(b"<html>maintenance</html>"),
                    None,
                )),
                true,
                false,
            ),
            // JSON of the wrong shape: a server that answers so will answer so again.
            (
                Error::from(ErrorKind::decode(
                    DecodeErrorKind::Shape,
                    Bytes::from_static(b"[1]"),
                    None,
                )),
                false,
                false,
            ),
        ];
        for (e, idem, non_idem) in cases {
            let r = |i| {
                matches!(
                    p.decide(1, Duration::ZERO, &e, i, 1),
                    RetryDecision::RetryAfter(_)
                )
            };
            assert_eq!(r(true), idem, "{e:?} idempotent");
            assert_eq!(r(false), non_idem, "{e:?} not idempotent");
        }
    }

    #[test]
    fn bounded_by_attempts_and_total_time() {
        let p = RetryPolicy::default()
            .with_max_attempts(10)
            .with_max_elapsed(Duration::from_secs(1));
        let e = api(91000);
        assert_eq!(
            p.decide(10, Duration::ZERO, &e, true, 0),
            RetryDecision::Stop
        );
        // Wait of 100 ms (random max) on top of 950 ms is past 1 s.
        assert_eq!(
            p.decide(1, Duration::from_millis(950), &e, true, u64::MAX),
            RetryDecision::Stop
        );
        assert_eq!(
            p.decide(1, Duration::from_millis(850), &e, true, u64::MAX),
            RetryDecision::RetryAfter(Duration::from_millis(100))
        );
    }

    #[test]
    fn throttled_answers_wait_at_least_the_floor_with_jitter_above_it() {
        let p = RetryPolicy::default().with_max_attempts(10);
        let throttled = [
            api(60007),
            api(90024),
            Error::from(ErrorKind::http_status(
                StatusCode::TOO_MANY_REQUESTS,
                Default::default(),
            )),
        ];
        for e in &throttled {
            for (retry, idempotent) in [(1, true), (1, false), (3, true), (6, false)] {
                let wait = |random| match p.decide(retry, Duration::ZERO, e, idempotent, random) {
                    RetryDecision::RetryAfter(d) => d,
                    RetryDecision::Stop => panic!("{e:?} retry {retry}: stopped"),
                };
                // The floor, whatever the jitter ...
                assert_eq!(wait(0), Duration::from_secs(1), "{e:?}");
                // ... and the exponential jitter above it.
                assert_eq!(
                    wait(u64::MAX),
                    Duration::from_secs(1) + p.backoff_bound(retry),
                    "{e:?}"
                );
                assert!(wait(u64::MAX / 3) > Duration::from_secs(1));
            }
        }
        // Other failures keep plain full jitter (no floor).
        assert_eq!(
            p.decide(1, Duration::ZERO, &api(91000), true, 0),
            RetryDecision::RetryAfter(Duration::ZERO)
        );
        // The floor is a setting ...
        let short = p.with_throttle_backoff(Duration::from_millis(10));
        assert_eq!(short.throttle_backoff(), Duration::from_millis(10));
        assert_eq!(
            short.decide(1, Duration::ZERO, &api(60007), true, 0),
            RetryDecision::RetryAfter(Duration::from_millis(10))
        );
        // ... and the total-time bound still holds: no wait that ends past it is started.
        let tight = p.with_max_elapsed(Duration::from_millis(1500));
        assert_eq!(
            tight.decide(1, Duration::from_millis(600), &api(60007), true, 0),
            RetryDecision::Stop
        );
        assert_eq!(
            tight.decide(1, Duration::from_millis(400), &api(60007), true, 0),
            RetryDecision::RetryAfter(Duration::from_secs(1))
        );
    }

    #[test]
    fn backoff_grows_exponentially_to_the_cap() {
        let p = RetryPolicy::default().with_max_backoff(Duration::from_secs(1));
        let bounds: Vec<u128> = (1..=6).map(|n| p.backoff_bound(n).as_millis()).collect();
        assert_eq!(bounds, [100, 200, 400, 800, 1000, 1000]);
        assert_eq!(p.backoff_bound(u32::MAX), Duration::from_secs(1));
    }
}
