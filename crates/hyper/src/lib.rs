//! # tim-hyper
//!
//! The async client of tim-rs, the Rust SDK for Tencent Cloud Chat's server REST API
//! (`v4/all_member_push/*`), over [hyper](https://docs.rs/hyper) 1: the hyper-util pooled
//! client (HTTP/1.1 keep-alive) with hyper-rustls (the *ring* provider and the webpki root
//! certificates; no OpenSSL), no gzip, no proxy (`HTTP(S)_PROXY` is not read: `tim-reqwest`
//! honours it), no redirects.
//!
//! Everything but moving bytes lives in [`tim_core`] (re-exported here): signing, retries,
//! timeouts, rate limits, batches, decoding, tracing. `tim-reqwest` offers the very same API
//! over reqwest; switch by changing the dependency and the crate name.
//!
//! ```no_run
//! use tim_hyper::{Client, all_member_push::GetTagRequest};
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! // TIM_SDKAPPID, TIM_SECRET_KEY (or TIM_USERSIG), TIM_IDENTIFIER, TIM_REGION, TIM_ENDPOINT
//! let client = Client::from_env()?;
//! let answer = client.all_member_push().get_tag(GetTagRequest::new(["user1", "user2"])).await?;
//! for user in answer.user_tags {
//!     println!("{}: {:?}", user.to_account, user.tags);
//! }
//! # Ok(()) }
//! ```
//!
//! The client needs a Tokio runtime with the time driver enabled (`#[tokio::main]` has it).
//!
//! ## Your own hyper client
//!
//! [`HyperTransport::from_client`] wraps a [`HyperClient`] you built, for settings tim-rs does
//! not have: other root certificates or TLS settings (a `rustls::ClientConfig` of your own), a
//! client certificate, a local address, other connector or pool settings. The crates it is
//! made of are re-exported ([`hyper_util`], [`hyper_rustls`], [`rustls`]) so that their
//! versions match.

use std::error::Error as StdError;
use std::fmt;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt as _, Full, LengthLimitError, Limited};
use hyper_rustls::{HttpsConnector, HttpsConnectorBuilder};
use hyper_util::client::legacy::Client as HyperUtilClient;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::{TokioExecutor, TokioTimer};

pub use tim_core::*;

/// The hyper-util this crate is built on, for [`HyperTransport::from_client`].
pub use hyper_util;

/// The hyper-rustls this crate is built on, for [`HyperTransport::from_client`].
pub use hyper_rustls;

/// The rustls this crate is built on, for [`HyperTransport::from_client`].
pub use rustls;

/// The hyper-util legacy client that [`HyperTransport`] sends with: HTTPS (or HTTP) through
/// hyper-rustls over hyper-util's `HttpConnector`, request bodies in one piece.
pub type HyperClient = HyperUtilClient<HttpsConnector<HttpConnector>, Full<Bytes>>;

/// The client over hyper: `tim_core::Client<HyperTransport>`.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), tim_hyper::BuildError> {
/// let client = tim_hyper::Client::builder()
///     .with_sdkappid(1400000000)
///     .with_secret_key("your-secret-key")
///     .build()?;
/// assert_eq!(client.base_url().as_str(), "https://console.tim.qq.com");
/// # Ok(()) }
/// ```
pub type Client = tim_core::Client<HyperTransport>;

/// The builder of a [`Client`] over hyper.
pub type ClientBuilder = tim_core::ClientBuilder<HyperTransport>;

/// A [`Transport`] over a hyper-util legacy client (one connection pool, shared by every
/// clone).
#[derive(Clone)]
pub struct HyperTransport {
    client: HyperClient,
    max_response_bytes: usize,
}

impl fmt::Debug for HyperTransport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HyperTransport")
            .field("max_response_bytes", &self.max_response_bytes)
            .finish_non_exhaustive()
    }
}

impl HyperTransport {
    /// Builds the transport from the client's settings.
    pub fn new(config: &TransportConfig) -> Result<Self, BuildError> {
        let mut http = HttpConnector::new();
        http.enforce_http(false);
        http.set_nodelay(true);
        http.set_connect_timeout(Some(config.connect_timeout()));
        let https = HttpsConnectorBuilder::new()
            .with_provider_and_webpki_roots(rustls::crypto::ring::default_provider())
            .map_err(|e| BuildError::Transport(Box::new(e)))?
            .https_or_http()
            .enable_http1()
            .wrap_connector(http);
        let client = HyperUtilClient::builder(TokioExecutor::new())
            .pool_timer(TokioTimer::new())
            .pool_idle_timeout(config.pool_idle_timeout())
            .pool_max_idle_per_host(config.pool_max_idle_per_host())
            .build(https);
        Ok(Self::from_client(client).with_max_response_bytes(config.max_response_bytes()))
    }

    /// Wraps a hyper-util client you built (its connection pool is shared with every clone of
    /// the client).
    ///
    /// The transport sends each request through it as it is and reads at most
    /// [`TransportConfig::default`]'s `max_response_bytes` of each answer (change it with
    /// [`with_max_response_bytes`](Self::with_max_response_bytes)). The builder's transport
    /// settings (`with_connect_timeout`, `with_pool_idle_timeout`,
    /// `with_pool_max_idle_per_host`, `with_max_response_bytes`) apply only to the transport
    /// that [`ClientBuilder::build`] makes, not to this one: set them on your client and its
    /// `HttpConnector` (which has no connect timeout unless you set one).
    ///
    /// hyper-util's client never follows redirects, and resends a request only on a pooled
    /// connection that closed before anything was written (`retry_canceled_requests`), as the
    /// [`Transport`] contract wants: a redirect would send the request, UserSig included, to
    /// another URL, and the client retries already, with backoff, knowing which calls are safe
    /// to resend. The transport cannot undo what a client does, so your client must **not**
    /// turn off `set_host` (the request carries no `Host` header of its own). A connector built
    /// with `https_only()` is fine against Tencent Cloud but refuses an `http://` base URL such
    /// as a local emulator's.
    ///
    /// Give it a pool timer (`pool_timer(TokioTimer::new())`) so that idle connections expire.
    ///
    /// ```
    /// use std::time::Duration;
    /// use tim_hyper::hyper_rustls::HttpsConnectorBuilder;
    /// use tim_hyper::hyper_util::client::legacy::{Client as LegacyClient, connect::HttpConnector};
    /// use tim_hyper::hyper_util::rt::{TokioExecutor, TokioTimer};
    /// use tim_hyper::{Client, HyperClient, HyperTransport, rustls};
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let mut http = HttpConnector::new();
    /// http.enforce_http(false);
    /// http.set_connect_timeout(Some(Duration::from_secs(2)));
    /// let https = HttpsConnectorBuilder::new()
    ///     .with_provider_and_webpki_roots(rustls::crypto::ring::default_provider())?
    ///     .https_or_http()
    ///     .enable_http1()
    ///     .wrap_connector(http);
    /// let hyper: HyperClient = LegacyClient::builder(TokioExecutor::new())
    ///     .pool_timer(TokioTimer::new())
    ///     .pool_idle_timeout(Duration::from_secs(30))
    ///     .build(https);
    /// let transport = HyperTransport::from_client(hyper);
    /// let client = Client::builder()
    ///     .with_sdkappid(1400000000)
    ///     .with_secret_key("your-secret-key")
    ///     .build_with(transport)?;
    /// assert_eq!(client.base_url().as_str(), "https://console.tim.qq.com");
    /// # Ok(()) }
    /// ```
    pub fn from_client(client: HyperClient) -> Self {
        Self {
            client,
            max_response_bytes: TransportConfig::default().max_response_bytes(),
        }
    }

    /// Sets the largest answer body read; a longer one is a [`TransportError`] wrapping a
    /// [`BodyTooLarge`].
    pub fn with_max_response_bytes(mut self, bytes: usize) -> Self {
        self.max_response_bytes = bytes;
        self
    }
}

impl MakeTransport for HyperTransport {
    fn make(config: &TransportConfig) -> Result<Self, BuildError> {
        Self::new(config)
    }
}

/// Whether an I/O timeout is anywhere in the error's cause chain (the connector's connect
/// timeout).
fn is_timeout(e: &(dyn StdError + 'static)) -> bool {
    let mut cur = Some(e);
    while let Some(err) = cur {
        if err
            .downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::TimedOut)
        {
            return true;
        }
        cur = err.source();
    }
    false
}

/// Maps a hyper-util client error. Its messages carry no URL (hyper-util's errors name the
/// kind of failure and keep the I/O cause).
fn request_error(e: hyper_util::client::legacy::Error) -> TransportError {
    let sent = if e.is_connect() {
        Sent::No
    } else {
        Sent::Maybe
    };
    if is_timeout(&e) {
        TransportError::timed_out(sent, e)
    } else {
        TransportError::new(sent, e)
    }
}

impl Transport for HyperTransport {
    async fn send(
        &self,
        request: http::Request<Vec<u8>>,
    ) -> Result<http::Response<Bytes>, TransportError> {
        let request = request.map(|body| Full::new(Bytes::from(body)));
        let response = self.client.request(request).await.map_err(request_error)?;
        let (parts, body) = response.into_parts();
        let limit = self.max_response_bytes;
        let body = Limited::new(body, limit)
            .collect()
            .await
            .map_err(|e| {
                if e.downcast_ref::<LengthLimitError>().is_some() {
                    TransportError::new(Sent::Maybe, BodyTooLarge::new(limit))
                } else {
                    TransportError::new(Sent::Maybe, e)
                }
            })?
            .to_bytes();
        Ok(http::Response::from_parts(parts, body))
    }

    async fn sleep(&self, duration: Duration) {
        tokio::time::sleep(duration).await;
    }
}
