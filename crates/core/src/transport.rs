//! The one seam between the client and an HTTP library: send one request, sleep.

use std::future::Future;
use std::time::Duration;

use bytes::Bytes;

use crate::error::TransportError;

/// Moves one request to the server and its answer back, and sleeps.
///
/// This is all a transport does: every behaviour (signing, retries, timeouts, rate limits,
/// decoding, tracing) lives once in [`Client`](crate::Client). `tim-reqwest` and `tim-hyper`
/// implement it in a few lines each.
///
/// Implementations must:
/// - send the request as it is (method, URI, headers, body) and return the status, headers and
///   the whole body;
/// - report failures as a [`TransportError`] whose [`Sent`](crate::Sent) says whether the
///   request may have reached the server ([`Sent::No`](crate::Sent::No) only when it certainly
///   did not, e.g. the connection could not be opened), with every URL stripped from the cause
///   (the query carries the UserSig);
/// - not follow redirects, not retry (beyond a pool's reuse of a connection that closed before
///   anything was written) and not enforce the per-call timeout: the client does.
///
/// Closures implement it too, for tests: `|req| async move { … }` answers every request; their
/// [`sleep`](Transport::sleep) returns at once (so backoff and rate-limit waits take no time, and
/// a call whose future is not ready at its first poll times out at once).
///
/// ```
/// use tim_core::{Transport, TransportError, bytes::Bytes, http};
///
/// let transport = |req: http::Request<Vec<u8>>| async move {
///     assert_eq!(req.method(), http::Method::POST);
///     let body = Bytes::from_static(br#"{"ActionStatus":"OK","ErrorCode":0,"ErrorInfo":"","UserTags":[]}"#);
///     Ok::<_, TransportError>(http::Response::new(body))
/// };
/// # fn is_transport<T: Transport>(_: &T) {}
/// is_transport(&transport);
/// ```
pub trait Transport: Send + Sync + 'static {
    /// Sends one request and reads the whole answer.
    fn send(
        &self,
        request: http::Request<Vec<u8>>,
    ) -> impl Future<Output = Result<http::Response<Bytes>, TransportError>> + Send;

    /// Completes after `duration` (on the transport's runtime timer).
    fn sleep(&self, duration: Duration) -> impl Future<Output = ()> + Send;
}

impl<F, Fut> Transport for F
where
    F: Fn(http::Request<Vec<u8>>) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<http::Response<Bytes>, TransportError>> + Send,
{
    fn send(
        &self,
        request: http::Request<Vec<u8>>,
    ) -> impl Future<Output = Result<http::Response<Bytes>, TransportError>> + Send {
        self(request)
    }

    /// Closures have no timer: returns at once.
    fn sleep(&self, _duration: Duration) -> impl Future<Output = ()> + Send {
        std::future::ready(())
    }
}

/// A transport that can be built from the client's settings, so that
/// `Client::<T>::builder()...build()` and [`Client::from_env`](crate::Client::from_env) work.
pub trait MakeTransport: Transport + Sized {
    /// Builds the transport (and its connection pool).
    fn make(config: &TransportConfig) -> Result<Self, crate::client::BuildError>;
}

/// What a transport is built with.
///
/// ```
/// use std::time::Duration;
/// use tim_core::TransportConfig;
/// let c = TransportConfig::default();
/// assert_eq!(c.connect_timeout(), Duration::from_secs(5));
/// assert_eq!(c.max_response_bytes(), 16 * 1024 * 1024);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TransportConfig {
    pub(crate) connect_timeout: Duration,
    pub(crate) pool_idle_timeout: Duration,
    pub(crate) pool_max_idle_per_host: usize,
    pub(crate) max_response_bytes: usize,
}

impl Default for TransportConfig {
    fn default() -> Self {
        Self {
            connect_timeout: Duration::from_secs(5),
            pool_idle_timeout: Duration::from_secs(50),
            pool_max_idle_per_host: 32,
            max_response_bytes: 16 * 1024 * 1024,
        }
    }
}

impl TransportConfig {
    /// How long opening a connection (TCP and TLS) may take. A connection that cannot be opened
    /// in time is a [`TransportError`] with [`Sent::No`](crate::Sent::No).
    pub fn connect_timeout(&self) -> Duration {
        self.connect_timeout
    }

    /// How long an idle keep-alive connection stays in the pool.
    pub fn pool_idle_timeout(&self) -> Duration {
        self.pool_idle_timeout
    }

    /// Most idle connections kept per host.
    pub fn pool_max_idle_per_host(&self) -> usize {
        self.pool_max_idle_per_host
    }

    /// Largest answer body read; a longer one is a [`TransportError`].
    pub fn max_response_bytes(&self) -> usize {
        self.max_response_bytes
    }
}

/// An answer body longer than [`TransportConfig::max_response_bytes`]; transports wrap it in a
/// [`TransportError`] with [`Sent::Maybe`](crate::Sent::Maybe).
///
/// ```
/// use tim_core::BodyTooLarge;
/// assert_eq!(BodyTooLarge::new(10).to_string(), "answer body longer than 10 bytes");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("answer body longer than {limit} bytes")]
#[non_exhaustive]
pub struct BodyTooLarge {
    /// The limit that was exceeded.
    pub limit: usize,
}

impl BodyTooLarge {
    /// The error for a body over `limit` bytes.
    pub fn new(limit: usize) -> Self {
        Self { limit }
    }
}
