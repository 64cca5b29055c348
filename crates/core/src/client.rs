//! The async client: one per app, generic over a [`Transport`], cheap to clone.

use std::error::Error as StdError;
use std::fmt;
use std::marker::PhantomData;
use std::pin::pin;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use futures_util::future::{Either, select};
use http::HeaderValue;
use tracing::Instrument as _;
use tracing::field::Empty;

use crate::clock::{Clock, FastRandom, RandomSource, SystemClock};
use crate::codec::{Auth, decode, encode_body, request_with_body};
use crate::endpoint::Endpoint;
use crate::error::{ApiError, Error};
use crate::generated::{ErrorCode, Region};
use crate::ratelimit::{Outcome, RateLimiter, RateLimits};
use crate::retry::{RetryDecision, RetryPolicy};
use crate::secret::{SecretKey, UserSig, redact_url};
use crate::signer::Signer;
use crate::transport::{MakeTransport, Transport, TransportConfig};
use crate::url::{BaseUrl, BaseUrlError};

const USER_AGENT: &str = concat!("tim-rs/", env!("CARGO_PKG_VERSION"));

/// The default admin identifier.
pub const DEFAULT_IDENTIFIER: &str = "administrator";

/// A client of the REST API for one app: typed calls of every endpoint (one method each,
/// generated from the spec, plus [`Client::call`] for any [`Endpoint`]), batch helpers,
/// retries, rate limits, UserSig renewal and tracing, over any [`Transport`].
///
/// Cloning is cheap (one `Arc`); every clone shares the transport's connection pool, the
/// UserSig cache and the rate limiter. `tim-reqwest` and `tim-hyper` export it as
/// `tim_reqwest::Client` and `tim_hyper::Client`.
///
/// Each call validates and encodes the request once, then for every attempt: waits for the rate
/// limiter, draws a fresh `random`, signs (or reuses the cached UserSig), sends with the
/// per-attempt timeout, and decodes. Failures are retried as the [`RetryPolicy`] decides; a
/// 70001 (expired UserSig) answer makes the client re-sign and try once more. Every attempt runs
/// in a `tracing` span `tim.attempt` with the fields `endpoint`, `attempt`, `random`, `status`,
/// `error_code` and `latency_ms`; no key, UserSig or unredacted URL is ever logged.
///
/// ```
/// use tim_core::{Client, Transport, TransportError, bytes::Bytes, http, endpoints::GetTagRequest};
///
/// // Any transport will do; a closure here, `tim_reqwest::Client` in real code.
/// let transport = |req: http::Request<Vec<u8>>| async move {
///     assert_eq!(req.uri().path(), "/v4/all_member_push/im_get_tag");
///     let body = r#"{"ActionStatus":"OK","ErrorCode":0,"ErrorInfo":"","UserTags":[{"To_Account":"u1","Tags":["vip"]}]}"#;
///     Ok::<_, TransportError>(http::Response::new(Bytes::from(body)))
/// };
/// let client = Client::builder()
///     .sdkappid(1400000000)
///     .secret_key("your-secret-key")
///     .build_with(transport)?;
/// let tags = futures_executor::block_on(client.get_tag(GetTagRequest::new(["u1"])))?;
/// assert_eq!(tags.user_tags[0].tags, ["vip"]);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct Client<T> {
    shared: Arc<Shared<T>>,
    retry: RetryPolicy,
    batch_concurrency: usize,
}

struct Shared<T> {
    transport: T,
    signer: Signer,
    base: BaseUrl,
    timeout: Duration,
    limiter: RateLimiter,
    clock: Arc<dyn Clock>,
    random: Arc<dyn RandomSource>,
}

impl<T> Clone for Client<T> {
    fn clone(&self) -> Self {
        Self {
            shared: Arc::clone(&self.shared),
            retry: self.retry,
            batch_concurrency: self.batch_concurrency,
        }
    }
}

impl<T> fmt::Debug for Client<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("base_url", &self.shared.base)
            .field("signer", &self.shared.signer)
            .field("timeout", &self.shared.timeout)
            .field("retry", &self.retry)
            .field("rate_limits", &self.shared.limiter.limits())
            .field("batch_concurrency", &self.batch_concurrency)
            .finish_non_exhaustive()
    }
}

impl<T: MakeTransport> Client<T> {
    /// A client configured from the environment (see [`ClientBuilder::from_env`]), with its
    /// transport built from the defaults.
    pub fn from_env() -> Result<Self, BuildError> {
        ClientBuilder::from_env()?.build()
    }
}

impl<T> Client<T> {
    /// A builder with the defaults: identifier `administrator`, region China, 10 s per attempt,
    /// 5 s to connect, [`RetryPolicy::default`], [`RateLimits::documented`], 8 batch calls in
    /// flight.
    pub fn builder() -> ClientBuilder<T> {
        ClientBuilder::new()
    }

    /// The same client (same pool, UserSig cache and rate limiter) with another retry policy,
    /// e.g. to opt a single push in to retries after ambiguous failures.
    ///
    /// ```
    /// # use tim_core::{Client, RetryPolicy, TransportError, bytes::Bytes, http};
    /// # let t = |_req: http::Request<Vec<u8>>| async { Ok::<_, TransportError>(http::Response::new(Bytes::new())) };
    /// # let client = Client::builder().sdkappid(1).secret_key("k").build_with(t)?;
    /// let careful = client.with_retry_policy(RetryPolicy::default().with_non_idempotent_retries(true));
    /// assert!(careful.retry_policy().non_idempotent_retries());
    /// assert!(!client.retry_policy().non_idempotent_retries());
    /// # Ok::<(), tim_core::BuildError>(())
    /// ```
    #[must_use]
    pub fn with_retry_policy(&self, policy: RetryPolicy) -> Self {
        Self {
            retry: policy,
            ..self.clone()
        }
    }

    /// The same client with another bound on batch calls in flight (at least 1).
    #[must_use]
    pub fn with_batch_concurrency(&self, calls_in_flight: usize) -> Self {
        Self {
            batch_concurrency: calls_in_flight.max(1),
            ..self.clone()
        }
    }

    /// The retry policy of this handle.
    pub fn retry_policy(&self) -> RetryPolicy {
        self.retry
    }

    /// How many batch calls this handle keeps in flight.
    pub fn batch_concurrency(&self) -> usize {
        self.batch_concurrency
    }

    /// Where requests go.
    pub fn base_url(&self) -> &BaseUrl {
        &self.shared.base
    }

    /// The app's SDKAppID.
    pub fn sdkappid(&self) -> u64 {
        self.shared.signer.sdkappid()
    }

    /// The admin identifier calls are made as.
    pub fn identifier(&self) -> &str {
        self.shared.signer.identifier()
    }

    /// The rate limiter shared by every clone.
    pub fn rate_limiter(&self) -> &RateLimiter {
        &self.shared.limiter
    }

    /// The transport.
    pub fn transport(&self) -> &T {
        &self.shared.transport
    }

    /// A fresh random number from the client's random source, e.g. for a push's `MsgRandom`
    /// (draw one per logical push; retries reuse it).
    pub fn new_msg_random(&self) -> u32 {
        self.shared.random.next_u64() as u32
    }
}

impl<T: Transport> Client<T> {
    /// Calls any endpoint: `client.call::<GetTag>(request)` is `client.get_tag(request)`.
    ///
    /// The request is checked against the documented limits first ([`Error::Invalid`], nothing
    /// sent), then sent with retries as described on [`Client`].
    ///
    /// ```
    /// # use tim_core::{Client, TransportError, bytes::Bytes, http};
    /// use tim_core::endpoints::{GetAttrName, GetAttrNameRequest};
    /// # let t = |_req: http::Request<Vec<u8>>| async { Ok::<_, TransportError>(http::Response::new(Bytes::from_static(br#"{"ActionStatus":"OK","ErrorCode":0,"ErrorInfo":"","AttrNames":{"0":"city"}}"#))) };
    /// # let client = Client::builder().sdkappid(1).secret_key("k").build_with(t)?;
    /// let names = futures_executor::block_on(client.call::<GetAttrName>(GetAttrNameRequest::new()))?;
    /// assert_eq!(names.attr_names["0"], "city");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub async fn call<E: Endpoint>(&self, request: E::Request) -> Result<E::Response, Error> {
        self.call_ref::<E>(&request).await
    }

    /// [`Client::call`] without giving up the request.
    pub async fn call_ref<E: Endpoint>(&self, request: &E::Request) -> Result<E::Response, Error> {
        let body = encode_body::<E>(request)?;
        self.execute::<E>(body).await
    }

    async fn execute<E: Endpoint>(&self, body: Vec<u8>) -> Result<E::Response, Error> {
        let shared = &*self.shared;
        let info = E::INFO;
        let started = shared.clock.now();
        let mut attempt: u32 = 0;
        let mut resigned = false;
        loop {
            attempt = attempt.saturating_add(1);
            let wait = shared.limiter.acquire(info, shared.clock.now());
            if !wait.is_zero() {
                tracing::trace!(
                    endpoint = info.command,
                    wait_ms = wait.as_millis() as u64,
                    "waiting for the rate limiter"
                );
                shared.transport.sleep(wait).await;
            }
            let random = shared.random.next_u64() as u32;
            let span = tracing::debug_span!(
                "tim.attempt",
                endpoint = info.command,
                attempt,
                random,
                status = Empty,
                error_code = Empty,
                latency_ms = Empty,
            );
            let result = self
                .attempt::<E>(&body, random)
                .instrument(span.clone())
                .await;
            let err = match result {
                Ok(response) => {
                    shared
                        .limiter
                        .report(info, Outcome::Accepted, shared.clock.now());
                    return Ok(response);
                }
                Err(err) => err,
            };
            let now = shared.clock.now();
            if err.api_code() == Some(ErrorCode::UserSigExpired) && !resigned {
                resigned = true;
                if shared.signer.invalidate() {
                    span.in_scope(|| {
                        tracing::info!("UserSig expired (70001): signing anew and trying once more")
                    });
                    continue;
                }
            }
            let outcome = if err.is_throttled() {
                Outcome::Throttled
            } else {
                Outcome::Accepted
            };
            shared.limiter.report(info, outcome, now);
            let elapsed = now.saturating_duration_since(started);
            match self.retry.decide(
                attempt,
                elapsed,
                &err,
                info.idempotent,
                shared.random.next_u64(),
            ) {
                RetryDecision::Stop => {
                    span.in_scope(|| tracing::debug!(error = %err, "giving up"));
                    return Err(err);
                }
                RetryDecision::RetryAfter(delay) => {
                    span.in_scope(|| {
                        tracing::info!(
                            error = %err,
                            retry_in_ms = delay.as_millis() as u64,
                            "attempt failed; retrying"
                        );
                    });
                    shared.transport.sleep(delay).await;
                }
            }
        }
    }

    /// One attempt, inside its span.
    async fn attempt<E: Endpoint>(&self, body: &[u8], random: u32) -> Result<E::Response, Error> {
        let shared = &*self.shared;
        let span = tracing::Span::current();
        let usersig = shared.signer.usersig(shared.clock.unix_time());
        let auth = Auth {
            sdkappid: shared.signer.sdkappid(),
            identifier: shared.signer.identifier(),
            usersig: &usersig,
        };
        let mut request = request_with_body::<E>(&shared.base, &auth, random, body.to_vec())?;
        request.headers_mut().insert(
            http::header::USER_AGENT,
            HeaderValue::from_static(USER_AGENT),
        );
        tracing::trace!(url = %redact_url(&request.uri().to_string()), body_bytes = body.len(), "sending");
        let sent_at = shared.clock.now();
        let answer = {
            let send = pin!(shared.transport.send(request));
            let timer = pin!(shared.transport.sleep(shared.timeout));
            match select(send, timer).await {
                Either::Left((answer, _)) => answer.map_err(Error::Transport),
                Either::Right(((), _)) => Err(Error::Timeout(shared.timeout)),
            }
        };
        let latency = shared.clock.now().saturating_duration_since(sent_at);
        span.record("latency_ms", latency.as_millis() as u64);
        let result = answer.and_then(|response| {
            span.record("status", response.status().as_u16());
            decode::<E>(response.status(), response.body())
        });
        match result {
            Ok(response) => {
                tracing::debug!("answered");
                Ok(response)
            }
            Err(err) => {
                let err = scrub(err, &usersig);
                if let Some(code) = err.api_code() {
                    span.record("error_code", code.code());
                }
                tracing::debug!(error = %err, "attempt failed");
                Err(err)
            }
        }
    }
}

/// Removes the UserSig from anything the server sent back (a proxy's error page may echo the
/// URL), so that no error carries it.
fn scrub(err: Error, usersig: &UserSig) -> Error {
    let sig = usersig.expose().as_bytes();
    if sig.is_empty() {
        return err;
    }
    let clean = |body: Bytes| -> Bytes {
        if !contains(&body, sig) {
            return body;
        }
        let mut out = Vec::with_capacity(body.len());
        let mut rest = &body[..];
        while let Some(i) = find(rest, sig) {
            out.extend_from_slice(&rest[..i]);
            out.extend_from_slice(b"<redacted>");
            rest = &rest[i + sig.len()..];
        }
        out.extend_from_slice(rest);
        Bytes::from(out)
    };
    match err {
        Error::HttpStatus { status, body } => Error::HttpStatus {
            status,
            body: clean(body),
        },
        Error::Decode { kind, body, source } => Error::Decode {
            kind,
            body: clean(body),
            source,
        },
        Error::Api(api) if api.info().contains(usersig.expose()) => Error::Api(ApiError::new(
            api.code(),
            api.info().replace(usersig.expose(), "<redacted>"),
        )),
        other => other,
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    find(haystack, needle).is_some()
}

/// Why a client could not be built.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BuildError {
    /// No SDKAppID was given.
    #[error("no SDKAppID: set it on the builder or in TIM_SDKAPPID")]
    MissingSdkAppId,
    /// Neither a secret key nor a UserSig was given.
    #[error(
        "no credentials: set a secret key (TIM_SECRET_KEY) or a ready-made UserSig (TIM_USERSIG)"
    )]
    MissingCredentials,
    /// Both a secret key and a UserSig were given.
    #[error("both a secret key and a UserSig are set: set only one")]
    ConflictingCredentials,
    /// The admin identifier is empty.
    #[error("the admin identifier is empty")]
    EmptyIdentifier,
    /// An environment variable holds an unusable value.
    #[error("invalid value in {var}")]
    Env {
        /// The variable, e.g. `TIM_SDKAPPID`.
        var: &'static str,
        /// What is wrong with it.
        #[source]
        source: Box<dyn StdError + Send + Sync>,
    },
    /// The base URL is unusable.
    #[error(transparent)]
    BaseUrl(#[from] BaseUrlError),
    /// The transport could not be built (e.g. its TLS configuration).
    #[error("could not build the HTTP transport")]
    Transport(#[source] Box<dyn StdError + Send + Sync>),
}

#[derive(Clone)]
enum Where {
    Region(Region),
    Url(BaseUrl),
}

/// Configures a [`Client`]. Every setting has a default except the SDKAppID and the
/// credentials (a secret key, or a ready-made UserSig).
///
/// ```
/// use std::time::Duration;
/// use tim_core::{Client, RateLimits, Region, RetryPolicy, TransportError, bytes::Bytes, http};
/// # let transport = |_req: http::Request<Vec<u8>>| async { Ok::<_, TransportError>(http::Response::new(Bytes::new())) };
///
/// let client = Client::builder()
///     .sdkappid(1400000000)
///     .secret_key("your-secret-key")
///     .identifier("administrator")
///     .region(Region::Singapore)
///     .timeout(Duration::from_secs(5))
///     .connect_timeout(Duration::from_secs(2))
///     .retry_policy(RetryPolicy::default().with_max_attempts(5))
///     .rate_limits(RateLimits::documented())
///     .batch_concurrency(16)
///     .build_with(transport)?;
/// assert_eq!(client.base_url().as_str(), "https://adminapisgp.im.qcloud.com");
/// # Ok::<(), tim_core::BuildError>(())
/// ```
pub struct ClientBuilder<T> {
    sdkappid: Option<u64>,
    key: Option<SecretKey>,
    usersig: Option<UserSig>,
    identifier: String,
    target: Where,
    timeout: Duration,
    transport: TransportConfig,
    retry: RetryPolicy,
    rate_limits: RateLimits,
    batch_concurrency: usize,
    usersig_validity: Duration,
    clock: Arc<dyn Clock>,
    random: Arc<dyn RandomSource>,
    _transport: PhantomData<fn() -> T>,
}

impl<T> fmt::Debug for ClientBuilder<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let target = match &self.target {
            Where::Region(r) => BaseUrl::from(*r),
            Where::Url(u) => u.clone(),
        };
        f.debug_struct("ClientBuilder")
            .field("sdkappid", &self.sdkappid)
            .field("key", &self.key)
            .field("usersig", &self.usersig)
            .field("identifier", &self.identifier)
            .field("base_url", &target)
            .field("timeout", &self.timeout)
            .field("transport", &self.transport)
            .field("retry", &self.retry)
            .field("rate_limits", &self.rate_limits)
            .field("batch_concurrency", &self.batch_concurrency)
            .finish_non_exhaustive()
    }
}

impl<T> Default for ClientBuilder<T> {
    fn default() -> Self {
        Self::new()
    }
}

/// The environment variables [`ClientBuilder::from_env`] reads.
pub mod env {
    /// The app's SDKAppID (required).
    pub const SDKAPPID: &str = "TIM_SDKAPPID";
    /// The app's secret key (this or [`USERSIG`]).
    pub const SECRET_KEY: &str = "TIM_SECRET_KEY";
    /// A ready-made admin UserSig, instead of a key.
    pub const USERSIG: &str = "TIM_USERSIG";
    /// The admin identifier (default `administrator`).
    pub const IDENTIFIER: &str = "TIM_IDENTIFIER";
    /// The region name (`china`, `singapore`, ...; default `china`).
    pub const REGION: &str = "TIM_REGION";
    /// A base URL that overrides the region (plain `http` only for loopback).
    pub const ENDPOINT: &str = "TIM_ENDPOINT";
}

impl<T> ClientBuilder<T> {
    /// A builder with the defaults (see [`Client::builder`]).
    pub fn new() -> Self {
        Self {
            sdkappid: None,
            key: None,
            usersig: None,
            identifier: DEFAULT_IDENTIFIER.to_owned(),
            target: Where::Region(Region::default()),
            timeout: Duration::from_secs(10),
            transport: TransportConfig::default(),
            retry: RetryPolicy::default(),
            rate_limits: RateLimits::default(),
            batch_concurrency: 8,
            usersig_validity: Signer::DEFAULT_VALIDITY,
            clock: Arc::new(SystemClock),
            random: Arc::new(FastRandom),
            _transport: PhantomData,
        }
    }

    /// A builder filled from the environment: `TIM_SDKAPPID`, `TIM_SECRET_KEY` or
    /// `TIM_USERSIG`, `TIM_IDENTIFIER`, `TIM_REGION`, `TIM_ENDPOINT` (see [`env`](mod@env)). Unset and
    /// empty variables keep the defaults; an unparsable one is an error naming it (never
    /// showing a secret).
    pub fn from_env() -> Result<Self, BuildError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Like [`ClientBuilder::from_env`], reading variables through `lookup`.
    ///
    /// ```
    /// use std::collections::HashMap;
    /// use tim_core::{ClientBuilder, TransportError, bytes::Bytes, http};
    /// # let transport = |_req: http::Request<Vec<u8>>| async { Ok::<_, TransportError>(http::Response::new(Bytes::new())) };
    /// let vars = HashMap::from([
    ///     ("TIM_SDKAPPID", "1400000000"),
    ///     ("TIM_SECRET_KEY", "your-secret-key"),
    ///     ("TIM_REGION", "frankfurt"),
    /// ]);
    /// let client = ClientBuilder::from_lookup(|v| vars.get(v).map(|s| s.to_string()))?
    ///     .build_with(transport)?;
    /// assert_eq!(client.base_url().as_str(), "https://adminapiger.im.qcloud.com");
    /// assert_eq!(client.identifier(), "administrator");
    /// # Ok::<(), tim_core::BuildError>(())
    /// ```
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, BuildError> {
        let get = |name: &str| lookup(name).filter(|v| !v.trim().is_empty());
        let mut b = Self::new();
        if let Some(v) = get(env::SDKAPPID) {
            let id = v.trim().parse::<u64>().map_err(|e| BuildError::Env {
                var: env::SDKAPPID,
                source: Box::new(e),
            })?;
            b = b.sdkappid(id);
        }
        if let Some(v) = get(env::SECRET_KEY) {
            b.key = Some(SecretKey::new(v));
        }
        if let Some(v) = get(env::USERSIG) {
            b.usersig = Some(UserSig::new(v.trim()));
        }
        if let Some(v) = get(env::IDENTIFIER) {
            b = b.identifier(v.trim());
        }
        if let Some(v) = get(env::REGION) {
            let region = v.parse::<Region>().map_err(|e| BuildError::Env {
                var: env::REGION,
                source: Box::new(e),
            })?;
            b = b.region(region);
        }
        if let Some(v) = get(env::ENDPOINT) {
            let url = BaseUrl::parse(&v).map_err(|e| BuildError::Env {
                var: env::ENDPOINT,
                source: Box::new(e),
            })?;
            b = b.base_url(url);
        }
        Ok(b)
    }

    /// The app's SDKAppID.
    #[must_use]
    pub fn sdkappid(mut self, sdkappid: u64) -> Self {
        self.sdkappid = Some(sdkappid);
        self
    }

    /// Signs UserSigs with the app's secret key (cached, renewed ahead of expiry, and renewed
    /// after a 70001 answer).
    #[must_use]
    pub fn secret_key(mut self, key: impl Into<SecretKey>) -> Self {
        self.key = Some(key.into());
        self
    }

    /// Uses a ready-made admin UserSig instead of a key; it cannot be renewed.
    #[must_use]
    pub fn usersig(mut self, usersig: impl Into<UserSig>) -> Self {
        self.usersig = Some(usersig.into());
        self
    }

    /// The admin identifier (default `administrator`).
    #[must_use]
    pub fn identifier(mut self, identifier: impl Into<String>) -> Self {
        self.identifier = identifier.into();
        self
    }

    /// Sends to a region's host (default [`Region::China`]).
    #[must_use]
    pub fn region(mut self, region: Region) -> Self {
        self.target = Where::Region(region);
        self
    }

    /// Sends to a base URL instead of a region's host (an emulator, a proxy).
    #[must_use]
    pub fn base_url(mut self, url: BaseUrl) -> Self {
        self.target = Where::Url(url);
        self
    }

    /// The most time one attempt may take, from sending to the last byte of the answer
    /// (default 10 s). A call that runs out of it fails with [`Error::Timeout`] (and may be
    /// retried, for idempotent endpoints).
    #[must_use]
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// The most time opening a connection may take (default 5 s).
    #[must_use]
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.transport.connect_timeout = timeout;
        self
    }

    /// How long idle keep-alive connections are kept (default 50 s).
    #[must_use]
    pub fn pool_idle_timeout(mut self, timeout: Duration) -> Self {
        self.transport.pool_idle_timeout = timeout;
        self
    }

    /// Most idle connections kept per host (default 32).
    #[must_use]
    pub fn pool_max_idle_per_host(mut self, connections: usize) -> Self {
        self.transport.pool_max_idle_per_host = connections;
        self
    }

    /// Largest answer body accepted (default 16 MiB).
    #[must_use]
    pub fn max_response_bytes(mut self, bytes: usize) -> Self {
        self.transport.max_response_bytes = bytes;
        self
    }

    /// The retry policy (default [`RetryPolicy::default`]).
    #[must_use]
    pub fn retry_policy(mut self, policy: RetryPolicy) -> Self {
        self.retry = policy;
        self
    }

    /// The client-side rate limits (default [`RateLimits::documented`]).
    #[must_use]
    pub fn rate_limits(mut self, limits: RateLimits) -> Self {
        self.rate_limits = limits;
        self
    }

    /// How many calls a batch helper keeps in flight (default 8, at least 1).
    #[must_use]
    pub fn batch_concurrency(mut self, calls_in_flight: usize) -> Self {
        self.batch_concurrency = calls_in_flight.max(1);
        self
    }

    /// How long each UserSig the client signs is valid (default 7 days); it is renewed an hour
    /// before it expires.
    #[must_use]
    pub fn usersig_validity(mut self, validity: Duration) -> Self {
        self.usersig_validity = validity;
        self
    }

    /// The clock (default [`SystemClock`]).
    #[must_use]
    pub fn clock(mut self, clock: impl Clock) -> Self {
        self.clock = Arc::new(clock);
        self
    }

    /// The random source for `random` query values and backoff jitter (default
    /// [`FastRandom`]).
    #[must_use]
    pub fn random(mut self, random: impl RandomSource) -> Self {
        self.random = Arc::new(random);
        self
    }

    /// The settings a transport is built with.
    pub fn transport_config(&self) -> &TransportConfig {
        &self.transport
    }

    /// Builds the client over `transport`.
    pub fn build_with(self, transport: T) -> Result<Client<T>, BuildError>
    where
        T: Transport,
    {
        let sdkappid = self.sdkappid.ok_or(BuildError::MissingSdkAppId)?;
        if self.identifier.trim().is_empty() {
            return Err(BuildError::EmptyIdentifier);
        }
        let signer = match (self.key, self.usersig) {
            (Some(_), Some(_)) => return Err(BuildError::ConflictingCredentials),
            (None, None) => return Err(BuildError::MissingCredentials),
            (Some(key), None) => {
                Signer::with_key(sdkappid, self.identifier, key).validity(self.usersig_validity)
            }
            (None, Some(sig)) => Signer::with_fixed(sdkappid, self.identifier, sig),
        };
        let base = match self.target {
            Where::Region(r) => BaseUrl::from(r),
            Where::Url(u) => u,
        };
        Ok(Client {
            shared: Arc::new(Shared {
                transport,
                signer,
                base,
                timeout: self.timeout,
                limiter: RateLimiter::new(self.rate_limits),
                clock: self.clock,
                random: self.random,
            }),
            retry: self.retry,
            batch_concurrency: self.batch_concurrency,
        })
    }

    /// Builds the client and its transport.
    pub fn build(self) -> Result<Client<T>, BuildError>
    where
        T: MakeTransport,
    {
        // Check the settings before building a transport (and its TLS configuration).
        if self.sdkappid.is_none() {
            return Err(BuildError::MissingSdkAppId);
        }
        let transport = T::make(&self.transport)?;
        self.build_with(transport)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scrub_removes_the_usersig_from_bodies_and_infos() {
        let sig = UserSig::new("eJyr*SIG-_x");
        let e = scrub(
            Error::HttpStatus {
                status: http::StatusCode::NOT_FOUND,
                body: Bytes::from_static(
                    b"<p>no /v4/x?usersig=eJyr*SIG-_x&random=1 eJyr*SIG-_x</p>",
                ),
            },
            &sig,
        );
        let Error::HttpStatus { body, .. } = &e else {
            panic!("{e:?}")
        };
        assert_eq!(
            &body[..],
            b"<p>no /v4/x?usersig=<redacted>&random=1 <redacted></p>"
        );
        let e = scrub(
            Error::Api(ApiError::new(70003, "bad sig eJyr*SIG-_x")),
            &sig,
        );
        assert_eq!(
            e.to_string(),
            "API error 70003 (The UserSig is invalid and cannot be parsed.): bad sig <redacted>"
        );
    }

    #[test]
    fn builder_checks_credentials_and_identifier() {
        type B = ClientBuilder<
            fn(
                http::Request<Vec<u8>>,
            )
                -> std::future::Ready<Result<http::Response<Bytes>, crate::TransportError>>,
        >;
        let t = |_r: http::Request<Vec<u8>>| {
            std::future::ready(Ok::<_, crate::TransportError>(http::Response::new(
                Bytes::new(),
            )))
        };
        let t: fn(_) -> _ = t;
        assert!(matches!(
            B::new().secret_key("k").build_with(t),
            Err(BuildError::MissingSdkAppId)
        ));
        assert!(matches!(
            B::new().sdkappid(1).build_with(t),
            Err(BuildError::MissingCredentials)
        ));
        assert!(matches!(
            B::new()
                .sdkappid(1)
                .secret_key("k")
                .usersig("s")
                .build_with(t),
            Err(BuildError::ConflictingCredentials)
        ));
        assert!(matches!(
            B::new()
                .sdkappid(1)
                .secret_key("k")
                .identifier(" ")
                .build_with(t),
            Err(BuildError::EmptyIdentifier)
        ));
        let vars = |v: &str| match v {
            "TIM_SDKAPPID" => Some("14x".to_owned()),
            _ => None,
        };
        let err = B::from_lookup(vars).unwrap_err();
        assert_eq!(err.to_string(), "invalid value in TIM_SDKAPPID");
        assert!(std::error::Error::source(&err).is_some());
        let vars = |v: &str| match v {
            "TIM_SDKAPPID" => Some("1".to_owned()),
            "TIM_SECRET_KEY" => Some("k".to_owned()),
            "TIM_USERSIG" => Some("s".to_owned()),
            _ => None,
        };
        assert!(matches!(
            B::from_lookup(vars).unwrap().build_with(t),
            Err(BuildError::ConflictingCredentials)
        ));
        let vars = |v: &str| match v {
            "TIM_ENDPOINT" => Some("http://example.com".to_owned()),
            _ => None,
        };
        assert!(matches!(
            B::from_lookup(vars),
            Err(BuildError::Env {
                var: "TIM_ENDPOINT",
                ..
            })
        ));
        let dbg = format!("{:?}", B::new().secret_key("hunter2").usersig("sigsig"));
        assert!(!dbg.contains("hunter2") && !dbg.contains("sigsig"), "{dbg}");
    }
}
