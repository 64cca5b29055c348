//! Errors, kept apart by what happened: refused before sending, not sent or maybe sent,
//! answered with a non-200 status, answered with bytes that do not decode, or answered with an
//! API error code.

use std::error::Error as StdError;
use std::fmt;
use std::time::Duration;

use bytes::Bytes;
use http::StatusCode;

use crate::generated::ErrorCode;
use crate::url::BaseUrlError;
use crate::validate::LimitError;

/// How safe it is to repeat a call that failed this way. Recorded per error code in `spec/`.
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
    /// use tim_core::{ApiError, ErrorCode, RetryClass};
    /// let e = ApiError::new(ErrorCode::from(60007), "too many requests");
    /// assert_eq!(e.code(), ErrorCode::RateLimited);
    /// assert_eq!(e.code().retry_class(), RetryClass::Safe);
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
/// assert_eq!(e.source().unwrap().source().unwrap().to_string(), "connection refused");
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

/// Everything that can go wrong with a call.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
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
    HttpStatus {
        /// The status.
        status: StatusCode,
        /// The body, as received.
        body: Bytes,
    },
    /// The answer's body could not be decoded.
    #[error("undecodable answer ({kind})")]
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

impl Error {
    /// How safe it is to repeat the call. `None` for failures that happen before sending
    /// (repeating cannot help).
    ///
    /// HTTP 5xx, timeouts, truncated bodies and connections lost after sending leave the outcome
    /// unknown ([`RetryClass::IdempotentOnly`]); HTTP 429 and connections never opened are
    /// [`RetryClass::Safe`]; an API error takes its code's class from the spec.
    ///
    /// ```
    /// use tim_core::{ApiError, Error, ErrorCode, RetryClass};
    /// let e = Error::Api(ApiError::new(ErrorCode::InternalError, ""));
    /// assert_eq!(e.retry_class(), Some(RetryClass::IdempotentOnly));
    /// ```
    pub fn retry_class(&self) -> Option<RetryClass> {
        match self {
            Error::Invalid(_) | Error::Config(_) | Error::Encode(_) => None,
            Error::Api(e) => Some(e.code().retry_class()),
            Error::HttpStatus { status, .. } => Some(if *status == StatusCode::TOO_MANY_REQUESTS {
                RetryClass::Safe
            } else if status.is_server_error() {
                RetryClass::IdempotentOnly
            } else {
                RetryClass::Never
            }),
            Error::Decode { kind, .. } => Some(match kind {
                DecodeErrorKind::Truncated | DecodeErrorKind::Empty => RetryClass::IdempotentOnly,
                DecodeErrorKind::NotJson | DecodeErrorKind::Shape => RetryClass::Never,
            }),
            Error::Transport(t) => Some(match t.sent() {
                Sent::No => RetryClass::Safe,
                Sent::Maybe => RetryClass::IdempotentOnly,
            }),
            Error::Timeout(_) => Some(RetryClass::IdempotentOnly),
        }
    }

    /// Whether the call may be repeated for an endpoint with the given idempotency.
    pub fn is_retryable(&self, idempotent: bool) -> bool {
        self.retry_class().is_some_and(|c| c.allows(idempotent))
    }

    /// Whether the server refused the call for its rate: an API error of class
    /// [`RetryClass::Safe`] other than an expired UserSig (60007, 60011, 60018, 60019, 90024 in
    /// the spec), or HTTP 429. The call was not executed; waiting helps.
    ///
    /// ```
    /// use tim_core::{ApiError, Error, ErrorCode};
    /// assert!(Error::Api(ApiError::new(ErrorCode::RateLimited, "")).is_throttled());
    /// assert!(!Error::Api(ApiError::new(ErrorCode::UserSigExpired, "")).is_throttled());
    /// assert!(!Error::Api(ApiError::new(ErrorCode::InternalError, "")).is_throttled());
    /// ```
    pub fn is_throttled(&self) -> bool {
        match self {
            Error::Api(e) => {
                e.code().retry_class() == RetryClass::Safe && e.code() != ErrorCode::UserSigExpired
            }
            Error::HttpStatus { status, .. } => *status == StatusCode::TOO_MANY_REQUESTS,
            _ => false,
        }
    }

    /// The API error code, when the server answered one.
    pub fn api_code(&self) -> Option<ErrorCode> {
        match self {
            Error::Api(e) => Some(e.code()),
            _ => None,
        }
    }
}
