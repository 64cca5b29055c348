//! Errors, kept apart by what happened: refused before sending, not sent or maybe sent,
//! answered with a non-200 status, answered with bytes that do not decode, or answered with an
//! API error code.

use std::error::Error as StdError;
use std::fmt;
use std::time::Duration;

use bytes::Bytes;
use http::StatusCode;

use crate::generated::{EndpointId, ErrorCode};
use crate::url::BaseUrlError;
use crate::validate::LimitError;

/// How safe it is to repeat a call that failed this way; derived by [`classify`](crate::classify()) from
/// the kind `spec/` records for each code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum RetryClass {
    /// The server did not execute the call (rate limit, expired UserSig, ...): repeating it is
    /// safe for every endpoint.
    Safe,
    /// The outcome is unknown (internal error, timeout, lost answer): repeat only calls whose
    /// repetition is harmless.
    IdempotentOnly,
    /// Repeating will not help.
    Never,
}

impl RetryClass {
    /// Whether a call of an endpoint with the given idempotency may be repeated.
    ///
    /// ```
    /// use tim_core::RetryClass;
    /// assert!(RetryClass::Safe.allows(false));
    /// assert!(RetryClass::IdempotentOnly.allows(true));
    /// assert!(!RetryClass::IdempotentOnly.allows(false));
    /// assert!(!RetryClass::Never.allows(true));
    /// ```
    pub fn allows(self, idempotent: bool) -> bool {
        match self {
            RetryClass::Safe => true,
            RetryClass::IdempotentOnly => idempotent,
            RetryClass::Never => false,
        }
    }
}

/// The server answered `ActionStatus: FAIL` (or a non-zero `ErrorCode`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    code: ErrorCode,
    info: String,
}

impl ApiError {
    /// An API error with `code` and the server's `ErrorInfo`.
    pub fn new(code: impl Into<ErrorCode>, info: impl Into<String>) -> Self {
        Self {
            code: code.into(),
            info: info.into(),
        }
    }

    /// The typed error code; match on [`ErrorCode::code`] for codes not modelled yet.
    ///
    /// ```
    /// use tim_core::{ApiError, CodeKind, ErrorCode};
    /// let e = ApiError::new(ErrorCode::from(60007), "too many requests");
    /// assert_eq!(e.code(), ErrorCode::RateLimited);
    /// assert_eq!(e.code().kind(), Some(CodeKind::Throttled));
    /// ```
    pub fn code(&self) -> ErrorCode {
        self.code
    }

    /// The server's `ErrorInfo` text.
    pub fn info(&self) -> &str {
        &self.info
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "API error {}", self.code.code())?;
        if let Some(m) = self.code.meaning() {
            write!(f, " ({m})")?;
        }
        if !self.info.is_empty() {
            write!(f, ": {}", self.info)?;
        }
        Ok(())
    }
}

impl StdError for ApiError {}

/// Why a response body could not be decoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum DecodeErrorKind {
    /// The body is empty.
    Empty,
    /// The body is JSON cut short.
    Truncated,
    /// The body is not JSON (an HTML page, for example).
    NotJson,
    /// The body is JSON, but not an envelope of the expected shape.
    Shape,
}

impl fmt::Display for DecodeErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            DecodeErrorKind::Empty => "empty body",
            DecodeErrorKind::Truncated => "truncated JSON",
            DecodeErrorKind::NotJson => "not JSON",
            DecodeErrorKind::Shape => "unexpected JSON shape",
        })
    }
}

/// Whether a request reached the server before the transport failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Sent {
    /// Certainly not sent (e.g. the connection could not be opened).
    No,
    /// It may have been sent and executed (e.g. the connection dropped while waiting).
    Maybe,
}

/// A failure of the transport (connection, TLS, I/O). The cause is kept, with any URL already
/// stripped by the transport.
///
/// ```
/// use std::error::Error as _;
/// use tim_core::{Error, RetryClass, Sent, TransportError};
/// let io = std::io::Error::new(std::io::ErrorKind::ConnectionRefused, "connection refused");
/// let e = Error::from(TransportError::new(Sent::No, io));
/// assert_eq!(e.retry_class(), Some(RetryClass::Safe));
/// assert_eq!(e.to_string(), "transport error: request not sent");
/// assert_eq!(e.source().unwrap().to_string(), "connection refused");
/// ```
#[derive(Debug)]
pub struct TransportError {
    sent: Sent,
    timed_out: bool,
    source: Box<dyn StdError + Send + Sync>,
}

impl TransportError {
    /// Wraps a transport failure. Transports must strip URLs (they carry the UserSig) from
    /// `source` before wrapping it.
    pub fn new(sent: Sent, source: impl Into<Box<dyn StdError + Send + Sync>>) -> Self {
        Self {
            sent,
            timed_out: false,
            source: source.into(),
        }
    }

    /// Wraps a transport failure that was a timeout of the transport's own (for example the
    /// connect timeout, with [`Sent::No`]).
    pub fn timed_out(sent: Sent, source: impl Into<Box<dyn StdError + Send + Sync>>) -> Self {
        Self {
            timed_out: true,
            ..Self::new(sent, source)
        }
    }

    /// Whether the request may have reached the server.
    pub fn sent(&self) -> Sent {
        self.sent
    }

    /// Whether the failure was a timeout (e.g. connecting took too long).
    pub fn is_timeout(&self) -> bool {
        self.timed_out
    }
}

impl fmt::Display for TransportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.sent, self.timed_out) {
            (Sent::No, false) => f.write_str("request not sent"),
            (Sent::No, true) => f.write_str("request not sent: timed out connecting"),
            (Sent::Maybe, false) => {
                f.write_str("connection failed after the request may have been sent")
            }
            (Sent::Maybe, true) => f.write_str("timed out after the request may have been sent"),
        }
    }
}

impl StdError for TransportError {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        Some(&*self.source)
    }
}

/// What went wrong with a call, kept apart by whether anything was sent.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ErrorKind {
    /// Refused before sending: the request breaks a documented limit.
    #[error("invalid request: {0}")]
    Invalid(#[from] LimitError),
    /// Refused before sending: the configuration is unusable.
    #[error("invalid configuration: {0}")]
    Config(#[from] BaseUrlError),
    /// The request body could not be encoded as JSON.
    #[error("could not encode the request body")]
    Encode(#[source] serde_json::Error),
    /// The server answered with an error code.
    #[error(transparent)]
    Api(#[from] ApiError),
    /// The server (or a proxy) answered with an HTTP status other than 200.
    #[error("HTTP status {status}{}", body_hint(.body))]
    #[non_exhaustive]
    HttpStatus {
        /// The status.
        status: StatusCode,
        /// The body, as received.
        body: Bytes,
    },
    /// The answer's body could not be decoded.
    #[error("undecodable answer ({kind})")]
    #[non_exhaustive]
    Decode {
        /// What is wrong with it.
        kind: DecodeErrorKind,
        /// The body, as received.
        body: Bytes,
        /// The JSON parser's error, when there is one.
        #[source]
        source: Option<serde_json::Error>,
    },
    /// The transport failed.
    #[error("transport error: {0}")]
    Transport(#[from] TransportError),
    /// No answer within the time allowed.
    #[error("no answer within {0:?}")]
    Timeout(Duration),
    /// Refused before sending: the shared rate limiter gave no send time (it could not be
    /// reached within the caller's time, or a daily budget is spent).
    #[error("rate limiter: {0}")]
    RateLimiter(#[from] crate::shared_limiter::LimiterError),
}

impl ErrorKind {
    /// An HTTP status failure.
    pub fn http_status(status: StatusCode, body: Bytes) -> Self {
        ErrorKind::HttpStatus { status, body }
    }

    /// A decoding failure.
    pub fn decode(kind: DecodeErrorKind, body: Bytes, source: Option<serde_json::Error>) -> Self {
        ErrorKind::Decode { kind, body, source }
    }
}

fn body_hint(body: &Bytes) -> String {
    if body.is_empty() {
        return String::new();
    }
    let text = String::from_utf8_lossy(&body[..body.len().min(80)]);
    let text: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    format!(" (body starts: {:?})", text.trim())
}

/// Everything that can go wrong with a call: what happened ([`Error::kind`]), which endpoint
/// it was ([`Error::endpoint`]) and the `random` query value of the last attempt
/// ([`Error::random`]), which Tencent support asks for.
///
/// ```
/// use tim_core::{ApiError, Error, ErrorCode, ErrorKind, EndpointId};
/// let id = EndpointId::find("all_member_push", "im_get_tag").unwrap();
/// let e = Error::from(ApiError::new(ErrorCode::AccountsOverLimit, "too many"))
///     .with_endpoint(id)
///     .with_random(1234);
/// assert_eq!(e.code(), Some(ErrorCode::AccountsOverLimit));
/// assert_eq!(e.random(), Some(1234));
/// assert!(matches!(e.kind(), ErrorKind::Api(_)));
/// assert_eq!(
///     e.to_string(),
///     "all_member_push/im_get_tag (random 1234): API error 90018 (The number of requested accounts exceeds the limit.): too many"
/// );
/// ```
pub struct Error {
    inner: Box<Inner>,
}

struct Inner {
    kind: ErrorKind,
    endpoint: Option<EndpointId>,
    random: Option<u32>,
    host: Option<Box<str>>,
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Error")
            .field("kind", &self.inner.kind)
            .field("endpoint", &self.inner.endpoint)
            .field("random", &self.inner.random)
            .field("host", &self.inner.host)
            .finish()
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.inner.endpoint, self.inner.random) {
            (Some(e), Some(r)) => write!(f, "{e} (random {r}): ")?,
            (Some(e), None) => write!(f, "{e}: ")?,
            (None, Some(r)) => write!(f, "(random {r}): ")?,
            (None, None) => {}
        }
        fmt::Display::fmt(&self.inner.kind, f)?;
        // Where it went, for failures of the way there (never the URL: its query holds the
        // UserSig).
        if let (Some(host), ErrorKind::Transport(_) | ErrorKind::Timeout(_)) =
            (&self.inner.host, &self.inner.kind)
        {
            write!(f, " (host {host})")?;
        }
        Ok(())
    }
}

impl StdError for Error {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        match &self.inner.kind {
            // The API error is the whole message; nothing below it.
            ErrorKind::Api(_) => None,
            ErrorKind::Transport(t) => t.source(),
            other => other.source(),
        }
    }
}

impl From<ErrorKind> for Error {
    fn from(kind: ErrorKind) -> Self {
        Error {
            inner: Box::new(Inner {
                kind,
                endpoint: None,
                random: None,
                host: None,
            }),
        }
    }
}

macro_rules! from_kind {
    ($($t:ty),*) => {$(
        impl From<$t> for Error {
            fn from(e: $t) -> Self {
                Error::from(ErrorKind::from(e))
            }
        }
    )*};
}
from_kind!(
    LimitError,
    BaseUrlError,
    ApiError,
    TransportError,
    crate::shared_limiter::LimiterError
);

impl Error {
    /// What happened.
    pub fn kind(&self) -> &ErrorKind {
        &self.inner.kind
    }

    /// What happened, by value.
    pub fn into_kind(self) -> ErrorKind {
        self.inner.kind
    }

    /// The endpoint that was called, when known.
    pub fn endpoint(&self) -> Option<EndpointId> {
        self.inner.endpoint
    }

    /// The `random` query value of the attempt that failed last (quote it to Tencent support).
    pub fn random(&self) -> Option<u32> {
        self.inner.random
    }

    /// The same error, naming `endpoint`.
    #[must_use]
    pub fn with_endpoint(mut self, endpoint: EndpointId) -> Self {
        self.inner.endpoint = Some(endpoint);
        self
    }

    /// The same error, carrying the attempt's `random`.
    #[must_use]
    pub fn with_random(mut self, random: u32) -> Self {
        self.inner.random = Some(random);
        self
    }

    /// The same error, naming the host (and port) the call went to. Only the host: the URL's
    /// query holds the UserSig.
    #[must_use]
    pub fn with_host(mut self, host: impl Into<String>) -> Self {
        self.inner.host = Some(host.into().into_boxed_str());
        self
    }

    /// The host (and port) the call went to, when known.
    pub fn host(&self) -> Option<&str> {
        self.inner.host.as_deref()
    }

    /// The API error code, when the server answered one.
    ///
    /// ```
    /// use tim_core::{ApiError, Error, ErrorCode};
    /// assert_eq!(Error::from(ApiError::new(60007, "")).code(), Some(ErrorCode::RateLimited));
    /// assert_eq!(Error::from(tim_core::ErrorKind::Timeout(std::time::Duration::from_secs(1))).code(), None);
    /// ```
    pub fn code(&self) -> Option<ErrorCode> {
        match &self.inner.kind {
            ErrorKind::Api(e) => Some(e.code()),
            _ => None,
        }
    }

    /// The HTTP status, when the server (or a proxy) answered one other than 200.
    pub fn http_status(&self) -> Option<StatusCode> {
        match &self.inner.kind {
            ErrorKind::HttpStatus { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// The answer's body, when one came back that was not a success (non-200 status or
    /// undecodable bytes).
    pub fn body(&self) -> Option<&Bytes> {
        match &self.inner.kind {
            ErrorKind::HttpStatus { body, .. } | ErrorKind::Decode { body, .. } => Some(body),
            _ => None,
        }
    }

    /// Whether no answer came in time: the client's per-attempt timeout or the transport's own
    /// (connecting).
    pub fn is_timeout(&self) -> bool {
        match &self.inner.kind {
            ErrorKind::Timeout(_) => true,
            ErrorKind::Transport(t) => t.is_timeout(),
            _ => false,
        }
    }

    /// Whether the request may have reached the server: `false` only when it certainly did not
    /// (refused before sending, or the connection was never opened).
    pub fn maybe_sent(&self) -> bool {
        match &self.inner.kind {
            ErrorKind::Invalid(_)
            | ErrorKind::Config(_)
            | ErrorKind::Encode(_)
            | ErrorKind::RateLimiter(_) => false,
            ErrorKind::Transport(t) => t.sent() != Sent::No,
            _ => true,
        }
    }

    /// How safe it is to repeat the call ([`classify`](crate::classify())). `None` for failures
    /// that happen before sending (repeating cannot help).
    ///
    /// ```
    /// use tim_core::{ApiError, Error, ErrorCode, RetryClass};
    /// let e = Error::from(ApiError::new(ErrorCode::InternalError, ""));
    /// assert_eq!(e.retry_class(), Some(RetryClass::IdempotentOnly));
    /// ```
    pub fn retry_class(&self) -> Option<RetryClass> {
        crate::classify::classify(self).retry
    }

    /// Whether the call may be repeated for an endpoint with the given idempotency.
    pub fn is_retryable(&self, idempotent: bool) -> bool {
        self.retry_class().is_some_and(|c| c.allows(idempotent))
    }

    /// Whether the server refused the call for its rate (a code of kind
    /// [`Throttled`](crate::CodeKind::Throttled), or HTTP 429). The call was not executed;
    /// waiting helps.
    ///
    /// ```
    /// use tim_core::{ApiError, Error, ErrorCode};
    /// assert!(Error::from(ApiError::new(ErrorCode::RateLimited, "")).is_throttled());
    /// assert!(!Error::from(ApiError::new(ErrorCode::UserSigExpired, "")).is_throttled());
    /// assert!(!Error::from(ApiError::new(ErrorCode::InternalError, "")).is_throttled());
    /// ```
    pub fn is_throttled(&self) -> bool {
        crate::classify::classify(self).throttled
    }

    /// Replaces the kind, keeping the endpoint and random (used to scrub secrets).
    pub(crate) fn map_kind(mut self, f: impl FnOnce(ErrorKind) -> ErrorKind) -> Self {
        let Inner {
            kind,
            endpoint,
            random,
            host,
        } = *self.inner;
        self.inner = Box::new(Inner {
            kind: f(kind),
            endpoint,
            random,
            host,
        });
        self
    }
}
