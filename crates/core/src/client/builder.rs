//! [`ClientBuilder`]: every setting of a [`Client`], from code or from the environment.

use std::error::Error as StdError;
use std::fmt;
use std::marker::PhantomData;
use std::sync::Arc;
use std::time::Duration;

use super::{Client, Shared};
use crate::clock::{Clock, FastRandom, RandomSource, SystemClock};
use crate::generated::Region;
use crate::ratelimit::{RateLimiter, RateLimits};
use crate::retry::RetryPolicy;
use crate::secret::{SecretKey, UserSig};
use crate::shared_limiter::SharedLimiter;
use crate::signer::Signer;
use crate::transport::{MakeTransport, Transport, TransportConfig};
use crate::url::{BaseUrl, BaseUrlError};

/// The default admin identifier.
pub const DEFAULT_IDENTIFIER: &str = "administrator";

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
    /// A base URL given as text that does not parse: reported by `build`.
    BadUrl(BaseUrlError),
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
///     .with_sdkappid(1400000000)
///     .with_secret_key("your-secret-key")
///     .with_identifier("administrator")
///     .with_region(Region::Singapore)
///     .with_timeout(Duration::from_secs(5))
///     .with_connect_timeout(Duration::from_secs(2))
///     .with_retry_policy(RetryPolicy::default().with_max_attempts(5))
///     .with_rate_limits(RateLimits::documented())
///     .with_batch_concurrency(16)
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
    shared_limiter: Option<Arc<dyn SharedLimiter>>,
    batch_concurrency: usize,
    usersig_validity: Duration,
    clock: Arc<dyn Clock>,
    random: Arc<dyn RandomSource>,
    _transport: PhantomData<fn() -> T>,
}

impl<T> fmt::Debug for ClientBuilder<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let target: Result<BaseUrl, &BaseUrlError> = match &self.target {
            Where::Region(r) => Ok(BaseUrl::from(*r)),
            Where::Url(u) => Ok(u.clone()),
            Where::BadUrl(e) => Err(e),
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
            .field("shared_limiter", &self.shared_limiter)
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
            shared_limiter: None,
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
            b = b.with_sdkappid(id);
        }
        if let Some(v) = get(env::SECRET_KEY) {
            b.key = Some(SecretKey::new(v));
        }
        if let Some(v) = get(env::USERSIG) {
            b.usersig = Some(UserSig::new(v.trim()));
        }
        if let Some(v) = get(env::IDENTIFIER) {
            b = b.with_identifier(v.trim());
        }
        if let Some(v) = get(env::REGION) {
            let region = v.parse::<Region>().map_err(|e| BuildError::Env {
                var: env::REGION,
                source: Box::new(e),
            })?;
            b = b.with_region(region);
        }
        if let Some(v) = get(env::ENDPOINT) {
            let url = BaseUrl::parse(&v).map_err(|e| BuildError::Env {
                var: env::ENDPOINT,
                source: Box::new(e),
            })?;
            b = b.with_base_url(url);
        }
        Ok(b)
    }

    /// The app's SDKAppID.
    #[must_use]
    pub fn with_sdkappid(mut self, sdkappid: u64) -> Self {
        self.sdkappid = Some(sdkappid);
        self
    }

    /// Signs UserSigs with the app's secret key (cached, renewed ahead of expiry, and renewed
    /// after a 70001 answer).
    #[must_use]
    pub fn with_secret_key(mut self, key: impl Into<SecretKey>) -> Self {
        self.key = Some(key.into());
        self
    }

    /// Uses a ready-made admin UserSig instead of a key; it cannot be renewed.
    #[must_use]
    pub fn with_usersig(mut self, usersig: impl Into<UserSig>) -> Self {
        self.usersig = Some(usersig.into());
        self
    }

    /// The admin identifier (default `administrator`).
    #[must_use]
    pub fn with_identifier(mut self, identifier: impl Into<String>) -> Self {
        self.identifier = identifier.into();
        self
    }

    /// Sends to a region's host (default [`Region::China`]).
    #[must_use]
    pub fn with_region(mut self, region: Region) -> Self {
        self.target = Where::Region(region);
        self
    }

    /// Sends to a base URL instead of a region's host (an emulator, a proxy). To pass the URL
    /// as text, use [`ClientBuilder::with_base_url_str`].
    #[must_use]
    pub fn with_base_url(mut self, url: BaseUrl) -> Self {
        self.target = Where::Url(url);
        self
    }

    /// [`ClientBuilder::with_base_url`] with the URL as text, e.g. an emulator's
    /// `emu.base_url()`. It is checked as [`BaseUrl::parse`] checks it (`https`, or plain
    /// `http` for loopback hosts only; no query, fragment or `user:password@`); a URL that does
    /// not pass is kept until [`build`](ClientBuilder::build) (or
    /// [`build_with`](ClientBuilder::build_with)), which fails with [`BuildError::BaseUrl`]
    /// naming the problem and never repeating credentials. A later `with_region` or
    /// `with_base_url` replaces it.
    ///
    /// This is a second method rather than `with_base_url(impl TryInto<BaseUrl>)` so that
    /// existing calls such as `.with_base_url(text.parse()?)` keep compiling (a generic
    /// parameter would leave `parse`'s target type to guess).
    ///
    /// ```
    /// use tim_core::{BaseUrlError, BuildError, Client, TransportError, bytes::Bytes, http};
    /// # let transport = |_req: http::Request<Vec<u8>>| async { Ok::<_, TransportError>(http::Response::new(Bytes::new())) };
    /// let client = Client::builder()
    ///     .with_sdkappid(1400000000)
    ///     .with_secret_key("your-secret-key")
    ///     .with_base_url_str("http://127.0.0.1:9000/")
    ///     .build_with(transport)?;
    /// assert_eq!(client.base_url().as_str(), "http://127.0.0.1:9000");
    ///
    /// # let transport = |_req: http::Request<Vec<u8>>| async { Ok::<_, TransportError>(http::Response::new(Bytes::new())) };
    /// let err = Client::builder()
    ///     .with_sdkappid(1400000000)
    ///     .with_secret_key("your-secret-key")
    ///     .with_base_url_str("http://chat.example.com")
    ///     .build_with(transport)
    ///     .unwrap_err();
    /// assert!(matches!(err, BuildError::BaseUrl(BaseUrlError::InsecureHost(_))));
    /// assert_eq!(
    ///     err.to_string(),
    ///     "plain http is only allowed for loopback hosts (use https): \"chat.example.com\""
    /// );
    /// # Ok::<(), tim_core::BuildError>(())
    /// ```
    #[must_use]
    pub fn with_base_url_str(mut self, url: impl AsRef<str>) -> Self {
        self.target = match BaseUrl::parse(url.as_ref()) {
            Ok(u) => Where::Url(u),
            Err(e) => Where::BadUrl(e),
        };
        self
    }

    /// The most time one attempt may take, from sending to the last byte of the answer
    /// (default 10 s). A call that runs out of it fails with [`ErrorKind::Timeout`](crate::ErrorKind::Timeout) (and may be
    /// retried, for idempotent endpoints).
    #[must_use]
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// The most time opening a connection may take (default 5 s).
    #[must_use]
    pub fn with_connect_timeout(mut self, timeout: Duration) -> Self {
        self.transport.connect_timeout = timeout;
        self
    }

    /// How long idle keep-alive connections are kept (default 50 s).
    #[must_use]
    pub fn with_pool_idle_timeout(mut self, timeout: Duration) -> Self {
        self.transport.pool_idle_timeout = timeout;
        self
    }

    /// Most idle connections kept per host (default 32).
    #[must_use]
    pub fn with_pool_max_idle_per_host(mut self, connections: usize) -> Self {
        self.transport.pool_max_idle_per_host = connections;
        self
    }

    /// Largest answer body accepted (default 16 MiB).
    #[must_use]
    pub fn with_max_response_bytes(mut self, bytes: usize) -> Self {
        self.transport.max_response_bytes = bytes;
        self
    }

    /// The retry policy (default [`RetryPolicy::default`]).
    #[must_use]
    pub fn with_retry_policy(mut self, policy: RetryPolicy) -> Self {
        self.retry = policy;
        self
    }

    /// The client-side rate limits (default [`RateLimits::documented`]).
    #[must_use]
    pub fn with_rate_limits(mut self, limits: RateLimits) -> Self {
        self.rate_limits = limits;
        self
    }

    /// Keeps the rate limits in a limiter shared by every process of the app (e.g.
    /// `tim_redis_limiter::RedisLimiter`) instead of the in-process [`RateLimiter`], which
    /// stays the default. Before every attempt the client asks it for a send time, waiting for
    /// its answer at most what is left of [`RetryPolicy::max_elapsed`]; past that, the call
    /// fails with [`ErrorKind::RateLimiter`](crate::ErrorKind::RateLimiter) and nothing is sent.
    #[must_use]
    pub fn with_shared_limiter(mut self, limiter: impl SharedLimiter) -> Self {
        self.shared_limiter = Some(Arc::new(limiter));
        self
    }

    /// [`with_shared_limiter`](ClientBuilder::with_shared_limiter) with a limiter already in an
    /// `Arc` (e.g. one limiter for several clients).
    #[must_use]
    pub fn with_shared_limiter_arc(mut self, limiter: Arc<dyn SharedLimiter>) -> Self {
        self.shared_limiter = Some(limiter);
        self
    }

    /// How many calls a batch helper keeps in flight (default 8, at least 1).
    #[must_use]
    pub fn with_batch_concurrency(mut self, calls_in_flight: usize) -> Self {
        self.batch_concurrency = calls_in_flight.max(1);
        self
    }

    /// How long each UserSig the client signs is valid (default 7 days); it is renewed an hour
    /// before it expires.
    #[must_use]
    pub fn with_usersig_validity(mut self, validity: Duration) -> Self {
        self.usersig_validity = validity;
        self
    }

    /// The clock (default [`SystemClock`]).
    #[must_use]
    pub fn with_clock(mut self, clock: impl Clock) -> Self {
        self.clock = Arc::new(clock);
        self
    }

    /// The random source for `random` query values and backoff jitter (default
    /// [`FastRandom`]).
    #[must_use]
    pub fn with_random(mut self, random: impl RandomSource) -> Self {
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
            (Some(key), None) => Signer::with_key(sdkappid, self.identifier, key)
                .with_validity(self.usersig_validity),
            (None, Some(sig)) => Signer::with_fixed(sdkappid, self.identifier, sig),
        };
        let base = match self.target {
            Where::Region(r) => BaseUrl::from(r),
            Where::Url(u) => u,
            Where::BadUrl(e) => return Err(BuildError::BaseUrl(e)),
        };
        Ok(Client {
            shared: Arc::new(Shared {
                transport,
                signer,
                base,
                timeout: self.timeout,
                limiter: RateLimiter::new(self.rate_limits),
                shared_limiter: self.shared_limiter,
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
        if let Where::BadUrl(e) = &self.target {
            return Err(BuildError::BaseUrl(e.clone()));
        }
        let transport = T::make(&self.transport)?;
        self.build_with(transport)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;

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
            B::new().with_secret_key("k").build_with(t),
            Err(BuildError::MissingSdkAppId)
        ));
        assert!(matches!(
            B::new().with_sdkappid(1).build_with(t),
            Err(BuildError::MissingCredentials)
        ));
        assert!(matches!(
            B::new()
                .with_sdkappid(1)
                .with_secret_key("k")
                .with_usersig("s")
                .build_with(t),
            Err(BuildError::ConflictingCredentials)
        ));
        assert!(matches!(
            B::new()
                .with_sdkappid(1)
                .with_secret_key("k")
                .with_identifier(" ")
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
        let dbg = format!(
            "{:?}",
            B::new().with_secret_key("hunter2").with_usersig("sigsig")
        );
        assert!(!dbg.contains("hunter2") && !dbg.contains("sigsig"), "{dbg}");
    }

    #[test]
    fn a_base_url_as_text_is_checked_at_build_without_repeating_secrets() {
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
        let ok = B::new()
            .with_sdkappid(1)
            .with_secret_key("k")
            .with_base_url_str(String::from("http://localhost:9000/prefix/"))
            .build_with(t)
            .unwrap();
        assert_eq!(ok.base_url().as_str(), "http://localhost:9000/prefix");

        let cases = [
            (
                "http://10.0.0.1:9000",
                BaseUrlError::InsecureHost("10.0.0.1".into()),
            ),
            ("ftp://h.example", BaseUrlError::Scheme("ftp".into())),
            (
                "https://h.example/?usersig=secret-sig",
                BaseUrlError::QueryNotAllowed,
            ),
            ("https://admin:hunter2@h.example", BaseUrlError::Credentials),
            ("not a url", BaseUrlError::Invalid("not a url".into())),
        ];
        for (url, expected) in cases {
            let err = B::new()
                .with_sdkappid(1)
                .with_secret_key("k")
                .with_base_url_str(url)
                .build_with(t)
                .unwrap_err();
            let BuildError::BaseUrl(inner) = &err else {
                panic!("{url}: {err:?}")
            };
            assert_eq!(inner, &expected, "{url}");
            let shown = format!("{err} {err:?}");
            assert!(
                !shown.contains("hunter2") && !shown.contains("secret-sig"),
                "{shown}"
            );
        }
        // A later setter replaces a bad URL.
        assert!(
            B::new()
                .with_sdkappid(1)
                .with_secret_key("k")
                .with_base_url_str("http://example.com")
                .with_region(Region::Singapore)
                .build_with(t)
                .is_ok()
        );
    }
}
