//! # tim-reqwest
//!
//! The async client of tim-rs, the Rust SDK for Tencent Cloud Chat's server REST API
//! (`v4/all_member_push/*`), over [reqwest](https://docs.rs/reqwest): by default rustls with the
//! *ring* provider and the webpki root certificates (no OpenSSL), an HTTP/1.1 keep-alive pool,
//! no gzip, no redirects, and the proxy named by the environment (see [Proxies](#proxies)).
//!
//! Everything but moving bytes lives in [`tim_core`] (re-exported here): signing, retries,
//! timeouts, rate limits, batches, decoding, tracing. `tim-hyper` offers the very same API over
//! hyper; switch by changing the dependency and the crate name.
//!
//! ```no_run
//! use tim_reqwest::{Client, all_member_push::GetTagRequest};
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
//! ## TLS
//!
//! Two cargo features choose the TLS library of the client that [`Client::builder`] and
//! [`Client::from_env`] build:
//!
//! - `rustls` (default): rustls with the *ring* provider and the webpki root certificates
//!   compiled in; no system library needed.
//! - `native-tls`: the platform's TLS (OpenSSL on Linux, which needs its headers and
//!   `pkg-config` to build; Security.framework on macOS; SChannel on Windows) and the system's
//!   root certificates. Turn off the default features to leave rustls out:
//!   `tim-reqwest = { version = "0.1", default-features = false, features = ["all-services", "native-tls"] }`.
//!   When both features are on, native-tls is used (as reqwest itself does).
//!
//! With neither, the client speaks plain HTTP only (enough for a local emulator).
//!
//! ## Proxies
//!
//! The client built by [`Client::builder`] and [`Client::from_env`] goes through the proxy named
//! by the environment, as reqwest does by default: `HTTPS_PROXY` (`https_proxy`) for `https://`
//! endpoints, `HTTP_PROXY` (`http_proxy`) for `http://` ones, `ALL_PROXY` (`all_proxy`) for
//! both, and never for the hosts listed in `NO_PROXY` (`no_proxy`), e.g.
//! `NO_PROXY=127.0.0.1,localhost` for a local emulator. Loopback addresses are *not* exempt by
//! themselves. An `https://` endpoint is reached through a `CONNECT` tunnel, so the proxy sees
//! only the host name; an `http://` endpoint is forwarded, so the proxy sees the whole URL,
//! UserSig included. The macOS and Windows system proxy settings are read only when reqwest's
//! `system-proxy` feature is on (add `reqwest = { version = "0.12", default-features = false,
//! features = ["system-proxy"] }` to your own dependencies to turn it on). For any other proxy
//! setup, build your own `reqwest::Client` (next section).
//!
//! ## Your own `reqwest::Client`
//!
//! [`ReqwestTransport::from_client`] wraps a client you built, for settings tim-rs does not
//! have (a proxy, extra root certificates, a client certificate, a DNS resolver, a local
//! address). [`ReqwestTransport::client_builder`] starts from the settings tim-rs uses. See
//! [`ReqwestTransport::from_client`] for what such a client must not do.

use std::time::Duration;

use bytes::{Bytes, BytesMut};

pub use tim_core::*;

/// The reqwest this crate is built on, for [`ReqwestTransport::from_client`] and
/// [`ReqwestTransport::client_builder`] (its version always matches).
pub use reqwest;

/// The client over reqwest: `tim_core::Client<ReqwestTransport>`.
///
/// ```
/// let client = tim_reqwest::Client::builder()
///     .with_sdkappid(1400000000)
///     .with_secret_key("your-secret-key")
///     .build()?;
/// assert_eq!(client.base_url().as_str(), "https://console.tim.qq.com");
/// # Ok::<(), tim_reqwest::BuildError>(())
/// ```
pub type Client = tim_core::Client<ReqwestTransport>;

/// The builder of a [`Client`] over reqwest.
pub type ClientBuilder = tim_core::ClientBuilder<ReqwestTransport>;

/// A [`Transport`] over a `reqwest::Client` (one connection pool, shared by every clone).
#[derive(Debug, Clone)]
pub struct ReqwestTransport {
    client: reqwest::Client,
    max_response_bytes: usize,
}

impl ReqwestTransport {
    /// Builds the transport from the client's settings.
    ///
    /// The TLS library is the one chosen by the cargo features (see [TLS](crate#tls)); the
    /// proxy is the one named by the environment (see [Proxies](crate#proxies)).
    pub fn new(config: &TransportConfig) -> Result<Self, BuildError> {
        let client = Self::client_builder(config)
            .build()
            .map_err(|e| BuildError::Transport(Box::new(e.without_url())))?;
        Ok(Self::from_client(client).with_max_response_bytes(config.max_response_bytes()))
    }

    /// The `reqwest::ClientBuilder` that [`new`](Self::new) builds its client with: the TLS
    /// library of the cargo features, HTTP/1.1 only, no redirects, the environment's proxy, and
    /// `config`'s connect timeout and pool settings.
    ///
    /// Start here to change a few settings and keep the rest, then hand the client to
    /// [`from_client`](Self::from_client).
    ///
    /// ```
    /// use tim_reqwest::{ReqwestTransport, TransportConfig, reqwest};
    ///
    /// let http = ReqwestTransport::client_builder(&TransportConfig::default())
    ///     .local_address(std::net::IpAddr::from([0, 0, 0, 0]))
    ///     .build()?;
    /// let transport = ReqwestTransport::from_client(http);
    /// # Ok::<(), reqwest::Error>(())
    /// ```
    pub fn client_builder(config: &TransportConfig) -> reqwest::ClientBuilder {
        tls(reqwest::Client::builder())
            .http1_only()
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(config.connect_timeout())
            .pool_idle_timeout(config.pool_idle_timeout())
            .pool_max_idle_per_host(config.pool_max_idle_per_host())
            .tcp_nodelay(true)
    }

    /// Wraps a `reqwest::Client` you built (its connection pool is shared with every clone of
    /// the client).
    ///
    /// The transport sends each request through it as it is and reads at most
    /// [`TransportConfig::default`]'s `max_response_bytes` of each answer (change it with
    /// [`with_max_response_bytes`](Self::with_max_response_bytes)). The builder's transport
    /// settings (`with_connect_timeout`, `with_pool_idle_timeout`,
    /// `with_pool_max_idle_per_host`, `with_max_response_bytes`) apply only to the transport
    /// that [`ClientBuilder::build`] makes, not to this one: set them on your
    /// `reqwest::Client`.
    ///
    /// Your client must **not**:
    ///
    /// - follow redirects. reqwest follows up to 10 by default, and the transport cannot undo
    ///   a client's redirect policy: build it with
    ///   `.redirect(reqwest::redirect::Policy::none())` (as
    ///   [`client_builder`](Self::client_builder) does). A followed redirect would send the
    ///   request, UserSig included, to another URL;
    /// - retry beyond reqwest's default (which only resends a request the server refused
    ///   before handling it): no `.retry(..)` policy that resends answered or failed requests,
    ///   the client retries already, with backoff, and knows which calls are safe to resend;
    /// - log connections with `.connection_verbose(true)`: it logs the request line, whose
    ///   query carries the UserSig.
    ///
    /// A `.timeout(..)` on your client is fine (it ends a call like the client's own
    /// per-call timeout, as a [`TransportError`] that [timed out](TransportError::is_timeout)),
    /// and so are proxies and root certificates.
    ///
    /// ```
    /// use std::time::Duration;
    /// use tim_reqwest::{Client, ReqwestTransport, reqwest};
    ///
    /// let http = reqwest::Client::builder()
    ///     .redirect(reqwest::redirect::Policy::none())
    ///     .connect_timeout(Duration::from_secs(2))
    ///     .timeout(Duration::from_secs(10))
    ///     .build()?;
    /// let transport = ReqwestTransport::from_client(http);
    /// let client = Client::builder()
    ///     .with_sdkappid(1400000000)
    ///     .with_secret_key("your-secret-key")
    ///     .build_with(transport)?;
    /// assert_eq!(client.base_url().as_str(), "https://console.tim.qq.com");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn from_client(client: reqwest::Client) -> Self {
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

/// Picks the TLS library of the cargo features: native-tls when it is on, else rustls.
fn tls(builder: reqwest::ClientBuilder) -> reqwest::ClientBuilder {
    #[cfg(feature = "native-tls")]
    let builder = builder.use_native_tls();
    #[cfg(all(feature = "rustls", not(feature = "native-tls")))]
    let builder = builder.use_rustls_tls();
    builder
}

impl MakeTransport for ReqwestTransport {
    fn make(config: &TransportConfig) -> Result<Self, BuildError> {
        Self::new(config)
    }
}

/// Maps a reqwest error, stripped of its URL (the query carries the UserSig).
fn transport_error(e: reqwest::Error) -> TransportError {
    let sent = if e.is_connect() || e.is_builder() {
        Sent::No
    } else {
        Sent::Maybe
    };
    let timed_out = e.is_timeout();
    let e = e.without_url();
    if timed_out {
        TransportError::timed_out(sent, e)
    } else {
        TransportError::new(sent, e)
    }
}

impl Transport for ReqwestTransport {
    async fn send(
        &self,
        request: http::Request<Vec<u8>>,
    ) -> Result<http::Response<Bytes>, TransportError> {
        let request = reqwest::Request::try_from(request).map_err(transport_error)?;
        let mut response = self
            .client
            .execute(request)
            .await
            .map_err(transport_error)?;
        let limit = self.max_response_bytes;
        if response.content_length().is_some_and(|n| n > limit as u64) {
            return Err(TransportError::new(Sent::Maybe, BodyTooLarge::new(limit)));
        }
        let mut builder = http::Response::builder()
            .status(response.status())
            .version(response.version());
        if let Some(headers) = builder.headers_mut() {
            *headers = std::mem::take(response.headers_mut());
        }
        let mut parts: Vec<Bytes> = Vec::new();
        let mut total = 0usize;
        while let Some(chunk) = response.chunk().await.map_err(transport_error)? {
            total += chunk.len();
            if total > limit {
                return Err(TransportError::new(Sent::Maybe, BodyTooLarge::new(limit)));
            }
            parts.push(chunk);
        }
        let body = match parts.len() {
            0 => Bytes::new(),
            1 => parts.swap_remove(0),
            _ => {
                let mut all = BytesMut::with_capacity(total);
                for p in &parts {
                    all.extend_from_slice(p);
                }
                all.freeze()
            }
        };
        builder
            .body(body)
            .map_err(|e| TransportError::new(Sent::Maybe, e))
    }

    async fn sleep(&self, duration: Duration) {
        tokio::time::sleep(duration).await;
    }
}
