//! The async client: one per app, generic over a [`Transport`], cheap to clone. This file
//! holds the attempt loop; [`builder`] the settings, [`scrub`] the secret scrubbing.

mod builder;
mod scrub;

pub use builder::{BuildError, ClientBuilder, DEFAULT_IDENTIFIER, env};

use std::fmt;
use std::pin::pin;
use std::sync::Arc;
use std::time::Duration;

use futures_util::future::{Either, select};
use http::HeaderValue;
use tracing::Instrument as _;
use tracing::field::Empty;

use crate::classify::classify;
use crate::clock::{Clock, RandomSource};
use crate::codec::{Auth, decode, encode_body, request_with_body};
use crate::endpoint::{ApiRequest, Endpoint};
use crate::error::{Error, ErrorKind};
use crate::ratelimit::{Outcome, RateLimiter};
use crate::retry::{RetryDecision, RetryPolicy};
use crate::secret::redact_url;
use crate::shared_limiter::{Acquire, LimiterError, SharedLimiter};
use crate::signer::Signer;
use crate::transport::{MakeTransport, Transport};
use crate::url::BaseUrl;

const USER_AGENT: &str = concat!("tim-rs/", env!("CARGO_PKG_VERSION"));

/// A client of the REST API for one app: typed calls of every endpoint, batch helpers,
/// retries, rate limits, UserSig renewal and tracing, over any [`Transport`].
///
/// Three ways to call, all the same underneath: [`Client::send`] takes any request and infers
/// its endpoint; each service has a handle with one method per command
/// (`client.all_member_push().get_tag(..)`, generated from the spec); [`Client::call`] names the
/// endpoint type (for code generic over endpoints).
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
/// `error_code` and `latency_ms`; no key, UserSig or unredacted URL is ever logged. An error
/// names the endpoint and carries the last attempt's `random` ([`Error::random`]).
///
/// ```
/// use tim_core::{Client, Transport, TransportError, bytes::Bytes, http, all_member_push::GetTagRequest};
///
/// // Any transport will do; a closure here, `tim_reqwest::Client` in real code.
/// let transport = |req: http::Request<Vec<u8>>| async move {
///     assert_eq!(req.uri().path(), "/v4/all_member_push/im_get_tag");
///     let body = r#"{"ActionStatus":"OK","ErrorCode":0,"ErrorInfo":"","UserTags":[{"To_Account":"u1","Tags":["vip"]}]}"#;
///     Ok::<_, TransportError>(http::Response::new(Bytes::from(body)))
/// };
/// let client = Client::builder()
///     .with_sdkappid(1400000000)
///     .with_secret_key("your-secret-key")
///     .build_with(transport)?;
/// // The request names its endpoint...
/// let tags = futures_executor::block_on(client.send(GetTagRequest::new(["u1"])))?;
/// assert_eq!(tags.user_tags[0].tags, ["vip"]);
/// // ...and every service has a handle with one method per command.
/// let tags = futures_executor::block_on(client.all_member_push().get_tag(GetTagRequest::new(["u1"])))?;
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
    shared_limiter: Option<Arc<dyn SharedLimiter>>,
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
            .field("shared_limiter", &self.shared.shared_limiter)
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
    /// 5 s to connect, [`RetryPolicy::default`], [`RateLimits::documented`](crate::RateLimits::documented), 8 batch calls in
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
    /// # let client = Client::builder().with_sdkappid(1).with_secret_key("k").build_with(t)?;
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

    /// The shared limiter used instead of [`rate_limiter`](Client::rate_limiter), if one was
    /// set with [`ClientBuilder::with_shared_limiter`].
    pub fn shared_limiter(&self) -> Option<&Arc<dyn SharedLimiter>> {
        self.shared.shared_limiter.as_ref()
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
    /// Sends any request to the endpoint it belongs to:
    /// `client.send(GetTagRequest::new(["u1"]))` is `client.all_member_push().get_tag(..)`.
    ///
    /// The request is checked against the documented limits first ([`ErrorKind::Invalid`],
    /// nothing sent), then sent with retries as described on [`Client`].
    pub async fn send<R: ApiRequest>(
        &self,
        request: R,
    ) -> Result<<R::Endpoint as Endpoint>::Response, Error> {
        self.call::<R::Endpoint>(request).await
    }

    /// Calls endpoint `E`: `client.call::<GetTag>(request)` is `client.send(request)`.
    ///
    /// ```
    /// # use tim_core::{Client, TransportError, bytes::Bytes, http};
    /// use tim_core::all_member_push::{GetAttrName, GetAttrNameRequest};
    /// # let t = |_req: http::Request<Vec<u8>>| async { Ok::<_, TransportError>(http::Response::new(Bytes::from_static(br#"{"ActionStatus":"OK","ErrorCode":0,"ErrorInfo":"","AttrNames":{"0":"city"}}"#))) };
    /// # let client = Client::builder().with_sdkappid(1).with_secret_key("k").build_with(t)?;
    /// let names = futures_executor::block_on(client.call::<GetAttrName>(GetAttrNameRequest::new()))?;
    /// assert_eq!(names.attr_names["0"], "city");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub async fn call<E: Endpoint>(&self, request: E::Request) -> Result<E::Response, Error> {
        self.call_ref::<E>(&request).await
    }

    /// [`Client::call`] without giving up the request.
    pub async fn call_ref<E: Endpoint>(&self, request: &E::Request) -> Result<E::Response, Error> {
        let body = encode_body::<E>(request).map_err(|e| e.with_endpoint(E::INFO.id))?;
        self.execute::<E>(body, E::cost(request)).await
    }

    /// Sends a body that is already JSON to endpoint `E` (as `tim call` does, so that fields the
    /// spec does not know go out as they are). The body must be a valid request of `E`: it is
    /// parsed into the typed request and checked against the documented limits first.
    pub async fn call_json<E: Endpoint>(&self, body: Vec<u8>) -> Result<E::Response, Error> {
        let typed: E::Request = serde_json::from_slice(&body)
            .map_err(|e| Error::from(ErrorKind::Encode(e)).with_endpoint(E::INFO.id))?;
        crate::validate::Validate::validate(&typed)
            .map_err(|e| Error::from(e).with_endpoint(E::INFO.id))?;
        self.execute::<E>(body, E::cost(&typed)).await
    }

    async fn execute<E: Endpoint>(&self, body: Vec<u8>, cost: u32) -> Result<E::Response, Error> {
        let shared = &*self.shared;
        let info = E::INFO;
        let started = shared.clock.now();
        let mut attempt: u32 = 0;
        let mut resigned = false;
        loop {
            attempt = attempt.saturating_add(1);
            let wait = match &shared.shared_limiter {
                None => shared.limiter.acquire_cost(info, cost, shared.clock.now()),
                Some(limiter) => {
                    let elapsed = shared.clock.now().saturating_duration_since(started);
                    let within = self.retry.max_elapsed().saturating_sub(elapsed);
                    self.acquire_shared(&**limiter, info, cost, within)
                        .await
                        .map_err(|e| Error::from(e).with_endpoint(info.id))?
                }
            };
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
                    self.report(info, Outcome::Accepted).await;
                    return Ok(response);
                }
                Err(err) => err
                    .with_endpoint(info.id)
                    .with_random(random)
                    .with_host(shared.base.authority().as_str()),
            };
            let now = shared.clock.now();
            let verdict = classify(&err);
            if verdict.resign && !resigned {
                resigned = true;
                if shared.signer.invalidate() {
                    span.in_scope(|| {
                        tracing::info!("UserSig expired (70001): signing anew and trying once more")
                    });
                    continue;
                }
            }
            let outcome = if verdict.throttled {
                Outcome::Throttled
            } else {
                Outcome::Accepted
            };
            self.report(info, outcome).await;
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

    /// Asks the shared limiter for a send time; it answers within `within` (see
    /// [`SharedLimiter`]).
    async fn acquire_shared(
        &self,
        limiter: &dyn SharedLimiter,
        info: &'static crate::endpoint::EndpointInfo,
        cost: u32,
        within: Duration,
    ) -> Result<Duration, LimiterError> {
        let request = Acquire::new(self.shared.signer.sdkappid(), info, cost, within);
        limiter.acquire(request).await
    }

    /// Tells the limiter in use how the server answered.
    async fn report(&self, info: &'static crate::endpoint::EndpointInfo, outcome: Outcome) {
        let shared = &*self.shared;
        match &shared.shared_limiter {
            None => shared.limiter.report(info, outcome, shared.clock.now()),
            Some(limiter) => {
                limiter
                    .report(shared.signer.sdkappid(), info, outcome)
                    .await
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
                Either::Left((answer, _)) => answer.map_err(Error::from),
                Either::Right(((), _)) => Err(Error::from(ErrorKind::Timeout(shared.timeout))),
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
                let err = scrub::scrub(err, &usersig);
                if let Some(code) = err.code() {
                    span.record("error_code", code.code());
                }
                tracing::debug!(error = %err, "attempt failed");
                Err(err)
            }
        }
    }
}
