//! Rate limits shared by every process of an app: the backend trait a [`Client`](crate::Client)
//! asks instead of its in-process [`RateLimiter`](crate::RateLimiter) when one is set with
//! [`ClientBuilder::with_shared_limiter`](crate::ClientBuilder::with_shared_limiter).
//!
//! The core does no I/O: it defines what a shared limiter answers (how long to wait before
//! sending), and the client sleeps on its transport's timer as it does for the in-process
//! limiter. `tim-redis-limiter` implements it on Redis.

use std::error::Error as StdError;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use crate::endpoint::EndpointInfo;
use crate::ratelimit::Outcome;

/// A boxed, `Send` future, as the object-safe [`SharedLimiter`] methods return.
pub type LimiterFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// One request for a send time: which app and endpoint, what the call costs, and how long the
/// caller can wait for the limiter's answer.
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub struct Acquire {
    /// The app's SDKAppID (limits are per app).
    pub sdkappid: u64,
    /// The endpoint called.
    pub info: &'static EndpointInfo,
    /// Units of the endpoint's per-minute budget the call costs (at least 1; see
    /// [`Endpoint::cost`](crate::Endpoint::cost)).
    pub cost: u32,
    /// How long the limiter may take to answer: what is left of the caller's
    /// [`RetryPolicy::max_elapsed`](crate::RetryPolicy::max_elapsed). Past it, the limiter
    /// answers [`LimiterError::Unavailable`]; the client relies on that (it keeps no timer of
    /// its own around the limiter: a closure transport's timer returns at once).
    pub within: Duration,
}

impl Acquire {
    /// A request for one call of `info` costing `cost` units, answered within `within`.
    pub fn new(sdkappid: u64, info: &'static EndpointInfo, cost: u32, within: Duration) -> Self {
        Self {
            sdkappid,
            info,
            cost: cost.max(1),
            within,
        }
    }
}

/// A rate limiter whose budget is shared beyond one process (e.g. on Redis).
///
/// [`acquire`](SharedLimiter::acquire) reserves the earliest allowed send time for a call and
/// answers how long to wait for it (the client sleeps on its transport's timer); it must never
/// answer before the send time is reserved: when the backend cannot be reached it keeps trying
/// (or falls back to a smaller, local share of the budget) and answers
/// [`LimiterError::Unavailable`] once [`Acquire::within`] has passed. Nothing is ever sent
/// unmetered. [`report`](SharedLimiter::report) tells it how the server answered.
pub trait SharedLimiter: Send + Sync + fmt::Debug + 'static {
    /// Where the budget is kept, for messages, without any password (e.g.
    /// `redis://***@10.0.0.5:6379`).
    fn backend(&self) -> String;

    /// Reserves a send time for one call and answers how long to wait for it.
    fn acquire(&self, request: Acquire) -> LimiterFuture<'_, Result<Duration, LimiterError>>;

    /// Tells the limiter how the server answered a call (after [`Outcome::Throttled`] the
    /// endpoint is paused for every process). Called after every attempt that was sent; best
    /// effort: failures are the limiter's to log, and it should answer quickly (at once for
    /// [`Outcome::Accepted`] if it has nothing to record).
    fn report(
        &self,
        sdkappid: u64,
        info: &'static EndpointInfo,
        outcome: Outcome,
    ) -> LimiterFuture<'_, ()>;
}

/// Why a shared rate limiter gave no send time. Nothing was sent.
///
/// ```
/// use std::time::Duration;
/// use tim_core::{Error, ErrorKind, LimiterError};
/// let e = Error::from(LimiterError::unavailable("redis://***@10.0.0.5:6379", Duration::from_secs(30), None));
/// assert!(matches!(e.kind(), ErrorKind::RateLimiter(LimiterError::Unavailable { .. })));
/// assert!(!e.maybe_sent());
/// assert_eq!(
///     e.to_string(),
///     "rate limiter: the shared rate limiter at redis://***@10.0.0.5:6379 gave no answer within 30s (nothing was sent)"
/// );
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LimiterError {
    /// The backend could not be reached (or did not answer) within the caller's time.
    #[error(
        "the shared rate limiter at {backend} gave no answer within {waited:?} (nothing was sent)"
    )]
    Unavailable {
        /// Where the backend is, without any password (e.g. `redis://***@10.0.0.5:6379`).
        backend: String,
        /// How long the caller waited.
        waited: Duration,
        /// The last failure, if one was seen.
        #[source]
        source: Option<Box<dyn StdError + Send + Sync>>,
    },
    /// The endpoint's daily budget is spent for this UTC day.
    #[error(
        "the daily budget of {limit} calls is spent (the next UTC day starts in {resets_in:?})"
    )]
    DailyBudgetSpent {
        /// Calls a day.
        limit: u32,
        /// Time until the budget renews.
        resets_in: Duration,
    },
}

impl LimiterError {
    /// [`LimiterError::Unavailable`].
    pub fn unavailable(
        backend: impl Into<String>,
        waited: Duration,
        source: Option<Box<dyn StdError + Send + Sync>>,
    ) -> Self {
        LimiterError::Unavailable {
            backend: backend.into(),
            waited,
            source,
        }
    }

    /// [`LimiterError::DailyBudgetSpent`].
    pub fn daily_budget_spent(limit: u32, resets_in: Duration) -> Self {
        LimiterError::DailyBudgetSpent { limit, resets_in }
    }
}
