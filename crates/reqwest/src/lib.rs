//! # tim-reqwest
//!
//! The async client of tim-rs, the Rust SDK for Tencent Cloud Chat's server REST API
//! (`v4/all_member_push/*`), over [reqwest](https://docs.rs/reqwest): rustls with the *ring*
//! provider and the webpki root certificates (no OpenSSL), an HTTP/1.1 keep-alive pool, no
//! gzip, no proxy, no redirects.
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

use std::time::Duration;

use bytes::{Bytes, BytesMut};

pub use tim_core::*;

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
    pub fn new(config: &TransportConfig) -> Result<Self, BuildError> {
        let client = reqwest::Client::builder()
            .use_rustls_tls()
            .http1_only()
            .no_proxy()
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(config.connect_timeout())
            .pool_idle_timeout(config.pool_idle_timeout())
            .pool_max_idle_per_host(config.pool_max_idle_per_host())
            .tcp_nodelay(true)
            .build()
            .map_err(|e| BuildError::Transport(Box::new(e.without_url())))?;
        Ok(Self {
            client,
            max_response_bytes: config.max_response_bytes(),
        })
    }
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
