//! Rate limits of Tencent Cloud Chat's REST API shared by every process of an app, on Redis.
//!
//! Tencent's limits are per app (SDKAppID) and per endpoint: ten processes that each keep
//! their own in-process limiter send ten times the limit and get 60007. A [`RedisLimiter`] is a
//! [`SharedLimiter`]: set it with
//! [`ClientBuilder::with_shared_limiter`](tim_core::ClientBuilder::with_shared_limiter) on
//! every process and they share one budget.
//!
//! ```no_run
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! use tim_redis_limiter::RedisLimiter;
//! let limiter = RedisLimiter::connect("redis://:secret@10.0.0.5:6379").await?;
//! # let transport = |_req: tim_core::http::Request<Vec<u8>>| async { Ok::<_, tim_core::TransportError>(tim_core::http::Response::new(tim_core::bytes::Bytes::new())) };
//! let client = tim_core::Client::builder()
//!     .with_sdkappid(1400000000)
//!     .with_secret_key("your-secret-key")
//!     .with_shared_limiter(limiter)
//!     .build_with(transport)?;
//! # Ok(()) }
//! ```
//!
//! **Pacing** is the in-process limiter's ([`tim_core::RateLimiter`]): one call every
//! `(1 s + margin) / per_second`, calls more than `min_interval` apart (pushes), per-minute
//! budgets counted by cost and never exceeded in a sliding minute, and the daily budget
//! (`per_day`, e.g. 100 pushes a day) counted per UTC day, refused with
//! [`LimiterError::DailyBudgetSpent`] when spent. Each acquire is one Lua script that reserves
//! the send time and answers the wait, atomically, with the clock of Redis (`TIME`), never the
//! hosts'. Keys are `tim:{<sdkappid>}:<service>/<command>` (a hash) and `...:minute` (a sorted
//! set, for per-minute budgets); the braces make the SDKAppID a Redis Cluster hash tag. Keys
//! expire on their own.
//!
//! **When Redis is down or slow**, by default the acquire is retried with backoff (50 ms
//! doubling up to 1 s), a `tracing` warning names the URL (without its password), and nothing
//! is sent until Redis answers: past the caller's time (what is left of its
//! [`RetryPolicy::max_elapsed`](tim_core::RetryPolicy::max_elapsed)) the call fails with
//! [`LimiterError::Unavailable`] (`ErrorKind::RateLimiter`). With
//! [`with_fallback_share(n)`](RedisLimiter::with_fallback_share), the process instead falls
//! back to an in-process limiter keeping `1/n` of every budget (for `n` processes) and tries
//! Redis again a second later. Nothing is ever sent unmetered.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use redis::aio::MultiplexedConnection;
use redis::{AsyncConnectionConfig, Script};
use tim_core::{
    Acquire, EndpointId, EndpointInfo, LimiterError, LimiterFuture, Outcome, RateLimiter,
    RateLimits, SharedLimiter,
};

/// The environment variable the `tim` CLI reads a Redis URL from.
pub const ENV_URL: &str = "TIM_RATE_LIMIT_REDIS";

/// Why a [`RedisLimiter`] could not be made. The URL shown never holds a password.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RedisLimiterError {
    /// The URL is not a Redis URL.
    #[error("invalid Redis URL {url}")]
    InvalidUrl {
        /// The URL, without any password.
        url: String,
        /// What is wrong with it.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// Redis did not answer (refused, timed out, wrong password, ...).
    #[error("cannot reach Redis at {url}")]
    Unreachable {
        /// The URL, without any password.
        url: String,
        /// The failure.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
}

/// A [`SharedLimiter`] on Redis: the app's budgets shared by every process that uses the same
/// Redis. Cheap to clone (one `Arc`). See the [crate docs](crate).
#[derive(Clone)]
pub struct RedisLimiter {
    inner: Arc<Inner>,
}

struct Inner {
    client: redis::Client,
    url: String,
    limits: RateLimiter,
    connection: tokio::sync::Mutex<Option<MultiplexedConnection>>,
    acquire: Script,
    report: Script,
    io_timeout: Duration,
    initial_backoff: Duration,
    max_backoff: Duration,
    fallback: Option<Fallback>,
    last_warning: Mutex<Option<Instant>>,
}

/// The in-process share used while Redis cannot be reached.
struct Fallback {
    share: u32,
    limiter: RateLimiter,
    /// Calls per endpoint on the (host's) current UTC day.
    days: Mutex<HashMap<EndpointId, (u64, u32)>>,
    down_until: Mutex<Option<Instant>>,
}

impl fmt::Debug for RedisLimiter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisLimiter")
            .field("url", &self.inner.url)
            .field("limits", &self.inner.limits.limits())
            .field(
                "fallback_share",
                &self.inner.fallback.as_ref().map(|f| f.share),
            )
            .finish_non_exhaustive()
    }
}

/// `url` with any password (and any query, which may hold one) replaced by `***`.
///
/// ```
/// use tim_redis_limiter::redact;
/// assert_eq!(redact("redis://:secret@127.0.0.1:6379/0"), "redis://:***@127.0.0.1:6379/0");
/// assert_eq!(redact("redis://app:secret@h:1"), "redis://app:***@h:1");
/// assert_eq!(redact("redis://h:1/2?password=x"), "redis://h:1/2?***");
/// assert_eq!(redact("redis://10.0.0.5"), "redis://10.0.0.5");
/// ```
pub fn redact(url: &str) -> String {
    let (url, query) = match url.split_once('?') {
        Some((u, _)) => (u, "?***"),
        None => (url, ""),
    };
    let Some((scheme, rest)) = url.split_once("://") else {
        return format!("{url}{query}");
    };
    let authority_end = rest.find('/').unwrap_or(rest.len());
    let (authority, path) = rest.split_at(authority_end);
    let authority = match authority.rsplit_once('@') {
        Some((userinfo, host)) => match userinfo.split_once(':') {
            Some((user, _)) => format!("{user}:***@{host}"),
            None => format!("***@{host}"),
        },
        None => authority.to_owned(),
    };
    format!("{scheme}://{authority}{path}{query}")
}

/// What the script answered.
enum Answer {
    Wait(Duration),
    DaySpent { limit: u32, resets_in: Duration },
}

impl RedisLimiter {
    /// A limiter on the Redis at `url` (`redis://[:password@]host[:port][/db]`), keeping the
    /// documented limits. Only the URL is checked; the connection is made on first use (see
    /// [`connect`](RedisLimiter::connect) to check it at once).
    pub fn new(url: &str) -> Result<Self, RedisLimiterError> {
        let shown = redact(url);
        let client = redis::Client::open(url).map_err(|e| RedisLimiterError::InvalidUrl {
            url: shown.clone(),
            source: Box::new(e),
        })?;
        Ok(Self {
            inner: Arc::new(Inner {
                client,
                url: shown,
                limits: RateLimiter::new(RateLimits::documented()),
                connection: tokio::sync::Mutex::new(None),
                acquire: Script::new(include_str!("acquire.lua")),
                report: Script::new(include_str!("report.lua")),
                io_timeout: Duration::from_secs(1),
                initial_backoff: Duration::from_millis(50),
                max_backoff: Duration::from_secs(1),
                fallback: None,
                last_warning: Mutex::new(None),
            }),
        })
    }

    /// [`new`](RedisLimiter::new), then connects and checks that Redis answers (a wrong
    /// password or an unreachable host is [`RedisLimiterError::Unreachable`]).
    pub async fn connect(url: &str) -> Result<Self, RedisLimiterError> {
        let limiter = Self::new(url)?;
        limiter.check().await?;
        Ok(limiter)
    }

    /// Checks that Redis answers (`PING`).
    pub async fn check(&self) -> Result<(), RedisLimiterError> {
        let unreachable = |e: redis::RedisError| RedisLimiterError::Unreachable {
            url: self.inner.url.clone(),
            source: Box::new(e),
        };
        let mut con = self.inner.connection().await.map_err(unreachable)?;
        let cmd = redis::cmd("PING");
        let ping = cmd.query_async::<String>(&mut con);
        match tokio::time::timeout(self.inner.io_timeout, ping).await {
            Ok(Ok(_)) => Ok(()),
            Ok(Err(e)) => {
                self.inner.forget_connection().await;
                Err(unreachable(e))
            }
            Err(elapsed) => {
                self.inner.forget_connection().await;
                Err(RedisLimiterError::Unreachable {
                    url: self.inner.url.clone(),
                    source: Box::new(elapsed),
                })
            }
        }
    }

    fn inner_mut(&mut self) -> &mut Inner {
        Arc::get_mut(&mut self.inner).expect("RedisLimiter is configured before it is cloned")
    }

    /// The limits kept (default [`RateLimits::documented`]; the margin, per-second override,
    /// throttle pause and share apply as in-process). Every process should use the same.
    ///
    /// # Panics
    /// If the limiter was cloned already (configure it first).
    #[must_use]
    pub fn with_rate_limits(mut self, limits: RateLimits) -> Self {
        self.inner_mut().limits = RateLimiter::new(limits);
        self
    }

    /// While Redis cannot be reached, keep `1/n` of every budget in process instead of waiting
    /// for Redis (for `n` processes sharing the app's limits; see
    /// [`RateLimits::with_share`]); Redis is tried again a second after each failure. Off by
    /// default.
    ///
    /// # Panics
    /// If the limiter was cloned already (configure it first).
    #[must_use]
    pub fn with_fallback_share(mut self, n: u32) -> Self {
        let limits = self.inner.limits.limits().with_share(n);
        self.inner_mut().fallback = Some(Fallback {
            share: n.max(1),
            limiter: RateLimiter::new(limits),
            days: Mutex::new(HashMap::new()),
            down_until: Mutex::new(None),
        });
        self
    }

    /// How long one exchange with Redis (connecting, or running the script) may take before it
    /// counts as a failure (default 1 s).
    ///
    /// # Panics
    /// If the limiter was cloned already (configure it first).
    #[must_use]
    pub fn with_io_timeout(mut self, timeout: Duration) -> Self {
        self.inner_mut().io_timeout = timeout;
        self
    }

    /// The backoff between attempts to reach Redis: from `initial`, doubling up to `max`
    /// (default 50 ms to 1 s).
    ///
    /// # Panics
    /// If the limiter was cloned already (configure it first).
    #[must_use]
    pub fn with_backoff(mut self, initial: Duration, max: Duration) -> Self {
        let inner = self.inner_mut();
        inner.initial_backoff = initial;
        inner.max_backoff = max.max(initial);
        self
    }

    /// The URL, without any password.
    pub fn url(&self) -> &str {
        &self.inner.url
    }

    /// The key of an endpoint's lane for an app: `tim:{<sdkappid>}:<service>/<command>`.
    ///
    /// ```
    /// use tim_core::{Endpoint, all_member_push::Push};
    /// assert_eq!(tim_redis_limiter::RedisLimiter::key(1400000000, Push::INFO), "tim:{1400000000}:all_member_push/im_push");
    /// ```
    pub fn key(sdkappid: u64, info: &EndpointInfo) -> String {
        format!("tim:{{{sdkappid}}}:{}/{}", info.service, info.command)
    }
}

fn micros(d: Duration) -> u64 {
    d.as_micros().min(u128::from(u64::MAX)) as u64
}

impl Inner {
    async fn connection(&self) -> Result<MultiplexedConnection, redis::RedisError> {
        let mut slot = self.connection.lock().await;
        if let Some(con) = &*slot {
            return Ok(con.clone());
        }
        let config = AsyncConnectionConfig::new()
            .set_connection_timeout(Some(self.io_timeout))
            .set_response_timeout(Some(self.io_timeout));
        let con = self
            .client
            .get_multiplexed_async_connection_with_config(&config)
            .await?;
        *slot = Some(con.clone());
        Ok(con)
    }

    async fn forget_connection(&self) {
        *self.connection.lock().await = None;
    }

    /// One run of the acquire script.
    async fn try_acquire(
        &self,
        request: &Acquire,
        args: &[u64; 6],
    ) -> Result<Answer, Box<dyn std::error::Error + Send + Sync>> {
        let key = RedisLimiter::key(request.sdkappid, request.info);
        let run = async {
            let mut con = self.connection().await?;
            self.acquire
                .key(&key)
                .key(format!("{key}:minute"))
                .arg(&args[..])
                .invoke_async::<Vec<i64>>(&mut con)
                .await
        };
        let answer = tokio::time::timeout(self.io_timeout, run).await??;
        match answer.as_slice() {
            [wait] => Ok(Answer::Wait(Duration::from_micros((*wait).max(0) as u64))),
            [-1, limit, resets_in] => Ok(Answer::DaySpent {
                limit: (*limit).clamp(0, i64::from(u32::MAX)) as u32,
                resets_in: Duration::from_micros((*resets_in).max(0) as u64),
            }),
            other => Err(format!("unexpected answer from the limiter script: {other:?}").into()),
        }
    }

    fn warn(&self, error: &(dyn std::error::Error + 'static)) {
        let mut last = self.last_warning.lock().unwrap_or_else(|e| e.into_inner());
        let now = Instant::now();
        if last.is_some_and(|t| now.duration_since(t) < Duration::from_secs(10)) {
            return;
        }
        *last = Some(now);
        let mut cause = error.to_string();
        let mut source = error.source();
        while let Some(s) = source {
            cause.push_str(": ");
            cause.push_str(&s.to_string());
            source = s.source();
        }
        match &self.fallback {
            Some(f) => tracing::warn!(
                redis = %self.url,
                error = %cause,
                share = f.share,
                "the Redis rate limiter cannot be reached; keeping 1/{} of each budget in process until it answers",
                f.share
            ),
            None => tracing::warn!(
                redis = %self.url,
                error = %cause,
                "the Redis rate limiter cannot be reached; calls wait for it (nothing is sent unmetered)"
            ),
        }
    }

    async fn acquire(&self, request: Acquire) -> Result<Duration, LimiterError> {
        let limits = &self.limits;
        let info = request.info;
        let spacing = limits.spacing(info);
        let gap = limits.min_interval(info);
        let minute = limits.per_minute(info);
        let per_day = limits.per_day(info);
        if !limits.limits().is_enabled()
            || (spacing.is_none() && gap.is_none() && minute.is_none() && per_day.is_none())
        {
            return Ok(Duration::ZERO);
        }
        let args = [
            spacing.map_or(0, micros),
            gap.map_or(0, micros),
            minute.map_or(0, |(n, _)| u64::from(n)),
            minute.map_or(0, |(_, w)| micros(w)),
            u64::from(request.cost.max(1)),
            per_day.map_or(0, u64::from),
        ];
        let started = Instant::now();
        let deadline = started + request.within;
        let mut backoff = self.initial_backoff;
        loop {
            if let Some(f) = &self.fallback {
                let down = *f.down_until.lock().unwrap_or_else(|e| e.into_inner());
                if down.is_some_and(|t| Instant::now() < t) {
                    return f.acquire(&request);
                }
            }
            let error = match self.try_acquire(&request, &args).await {
                Ok(Answer::Wait(wait)) => return Ok(wait),
                Ok(Answer::DaySpent { limit, resets_in }) => {
                    return Err(LimiterError::daily_budget_spent(limit, resets_in));
                }
                Err(e) => e,
            };
            self.forget_connection().await;
            self.warn(&*error);
            if let Some(f) = &self.fallback {
                *f.down_until.lock().unwrap_or_else(|e| e.into_inner()) =
                    Some(Instant::now() + Duration::from_secs(1));
                return f.acquire(&request);
            }
            let now = Instant::now();
            if now + backoff >= deadline {
                tokio::time::sleep(deadline.saturating_duration_since(now)).await;
                return Err(LimiterError::unavailable(
                    self.url.clone(),
                    request.within,
                    Some(error),
                ));
            }
            tokio::time::sleep(backoff).await;
            backoff = (backoff * 2).min(self.max_backoff);
        }
    }

    async fn report(&self, sdkappid: u64, info: &'static EndpointInfo, outcome: Outcome) {
        if outcome != Outcome::Throttled || !self.limits.limits().is_enabled() {
            return;
        }
        if let Some(f) = &self.fallback {
            f.limiter.report(info, outcome, Instant::now());
        }
        let pause = self
            .limits
            .min_interval(info)
            .unwrap_or(Duration::ZERO)
            .max(self.limits.limits().throttle_pause());
        let key = RedisLimiter::key(sdkappid, info);
        let run = async {
            let mut con = self.connection().await?;
            self.report
                .key(&key)
                .arg(micros(pause))
                .invoke_async::<i64>(&mut con)
                .await
        };
        match tokio::time::timeout(self.io_timeout, run).await {
            Ok(Ok(_)) => {}
            Ok(Err(e)) => self.warn(&e),
            Err(e) => self.warn(&e),
        }
    }
}

impl Fallback {
    fn acquire(&self, request: &Acquire) -> Result<Duration, LimiterError> {
        if let Some(limit) = self.limiter.per_day(request.info) {
            let unix = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .unwrap_or_default();
            let day = unix.as_secs() / 86_400;
            let mut days = self.days.lock().unwrap_or_else(|e| e.into_inner());
            let entry = days.entry(request.info.id).or_insert((day, 0));
            if entry.0 != day {
                *entry = (day, 0);
            }
            if entry.1 >= limit {
                let resets_in = Duration::from_secs((day + 1) * 86_400).saturating_sub(unix);
                return Err(LimiterError::daily_budget_spent(limit, resets_in));
            }
            entry.1 += 1;
        }
        Ok(self
            .limiter
            .acquire_cost(request.info, request.cost, Instant::now()))
    }
}

impl SharedLimiter for RedisLimiter {
    fn backend(&self) -> String {
        self.inner.url.clone()
    }

    fn acquire(&self, request: Acquire) -> LimiterFuture<'_, Result<Duration, LimiterError>> {
        Box::pin(self.inner.acquire(request))
    }

    fn report(
        &self,
        sdkappid: u64,
        info: &'static EndpointInfo,
        outcome: Outcome,
    ) -> LimiterFuture<'_, ()> {
        Box::pin(self.inner.report(sdkappid, info, outcome))
    }
}
