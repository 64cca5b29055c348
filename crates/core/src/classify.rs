//! The one authority on what a failure means: [`classify`] derives, from the spec's kind of each
//! error code and from the way a call failed, whether it may be repeated, whether the UserSig
//! must be signed anew, and whether the rate limiter should slow down. The retry policy, the
//! client's attempt loop, the rate limiter and [`Error::is_retryable`] all ask it.

use http::StatusCode;

use crate::error::{DecodeErrorKind, Error, ErrorKind, RetryClass, Sent};

/// What an error code means for the caller, as `spec/` records it for each code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum CodeKind {
    /// The server refused the call for its rate; it was not executed. Wait, then repeat.
    Throttled,
    /// The UserSig expired; the call was not executed. Sign anew, then repeat once.
    AuthExpired,
    /// The outcome is unknown (timeout, internal error): repeat only idempotent calls.
    Transient,
    /// The request is wrong; repeating it cannot help.
    Caller,
    /// The app, its credentials or its settings are wrong; repeating cannot help.
    Config,
    /// A quota (daily, trial) is used up; repeating now cannot help.
    Quota,
}

impl CodeKind {
    /// How safe repeating is after an answer of this kind.
    ///
    /// ```
    /// use tim_core::{CodeKind, RetryClass};
    /// assert_eq!(CodeKind::Throttled.retry_class(), RetryClass::Safe);
    /// assert_eq!(CodeKind::Transient.retry_class(), RetryClass::IdempotentOnly);
    /// assert_eq!(CodeKind::Caller.retry_class(), RetryClass::Never);
    /// ```
    pub const fn retry_class(self) -> RetryClass {
        match self {
            CodeKind::Throttled | CodeKind::AuthExpired => RetryClass::Safe,
            CodeKind::Transient => RetryClass::IdempotentOnly,
            CodeKind::Caller | CodeKind::Config | CodeKind::Quota => RetryClass::Never,
        }
    }
}

/// What a failure means for the next step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Verdict {
    /// How safe repeating the call is; `None` when it failed before anything was sent (a
    /// repeat cannot help).
    pub retry: Option<RetryClass>,
    /// The UserSig expired: sign anew (once) before repeating.
    pub resign: bool,
    /// The server refused the call for its rate: every caller of the endpoint should slow down.
    pub throttled: bool,
}

/// Classifies a failure. Pure: the same error always gets the same verdict.
///
/// - an API error takes its code's [`CodeKind`] from the spec (unknown codes: never repeat);
/// - HTTP 429 is throttled; other 5xx leave the outcome unknown; other statuses are final;
/// - a connection never opened is safe to repeat; one lost after sending, a timeout, an empty or
///   truncated body leave the outcome unknown;
/// - a status 200 body that is not JSON (an HTML page from a gateway or proxy in front of the
///   service) is a gateway failure: the outcome is unknown, as with a 5xx;
/// - JSON that is not an envelope of the expected shape is final (the server would answer the
///   same again);
/// - failures before sending (limits, configuration, encoding) are not repeatable.
///
/// ```
/// use tim_core::{ApiError, Error, ErrorCode, RetryClass, classify};
/// let v = classify(&Error::from(ApiError::new(ErrorCode::RateLimited, "")));
/// assert_eq!(v.retry, Some(RetryClass::Safe));
/// assert!(v.throttled && !v.resign);
/// let v = classify(&Error::from(ApiError::new(ErrorCode::UserSigExpired, "")));
/// assert!(v.resign && !v.throttled);
/// let v = classify(&Error::from(ApiError::new(123_456_789, "")));
/// assert_eq!(v.retry, Some(RetryClass::Never));
/// ```
pub fn classify(error: &Error) -> Verdict {
    let verdict = |retry, resign, throttled| Verdict {
        retry: Some(retry),
        resign,
        throttled,
    };
    match error.kind() {
        // Refused before sending. A shared limiter already waited out the caller's whole time
        // (or the day's budget is spent): repeating cannot help.
        ErrorKind::Invalid(_)
        | ErrorKind::Config(_)
        | ErrorKind::Encode(_)
        | ErrorKind::RateLimiter(_) => Verdict {
            retry: None,
            resign: false,
            throttled: false,
        },
        ErrorKind::Api(e) => match e.code().kind() {
            Some(kind) => verdict(
                kind.retry_class(),
                kind == CodeKind::AuthExpired,
                kind == CodeKind::Throttled,
            ),
            None => verdict(RetryClass::Never, false, false),
        },
        ErrorKind::HttpStatus { status, .. } => {
            if *status == StatusCode::TOO_MANY_REQUESTS {
                verdict(RetryClass::Safe, false, true)
            } else if status.is_server_error() {
                verdict(RetryClass::IdempotentOnly, false, false)
            } else {
                verdict(RetryClass::Never, false, false)
            }
        }
        ErrorKind::Decode { kind, .. } => match kind {
            DecodeErrorKind::Truncated | DecodeErrorKind::Empty | DecodeErrorKind::NotJson => {
                verdict(RetryClass::IdempotentOnly, false, false)
            }
            _ => verdict(RetryClass::Never, false, false),
        },
        ErrorKind::Transport(t) => match t.sent() {
            Sent::No => verdict(RetryClass::Safe, false, false),
            _ => verdict(RetryClass::IdempotentOnly, false, false),
        },
        ErrorKind::Timeout(_) => verdict(RetryClass::IdempotentOnly, false, false),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::{ApiError, TransportError};
    use bytes::Bytes;
    use std::time::Duration;

    fn decode(kind: DecodeErrorKind, body: &'static [u8]) -> Error {
        Error::from(ErrorKind::decode(kind, Bytes::from_static(body), None))
    }

    fn status(code: u16) -> Error {
        Error::from(ErrorKind::http_status(
            StatusCode::from_u16(code).unwrap(),
            Bytes::from_static(b"<html>gateway</html>"),
        ))
    }

    #[test]
    fn every_way_of_failing_has_one_verdict() {
        use RetryClass::{IdempotentOnly, Never, Safe};
        // (error, class, resign, throttled)
        let cases: Vec<(Error, Option<RetryClass>, bool, bool)> = vec![
            (
                Error::from(ApiError::new(60007, "")),
                Some(Safe),
                false,
                true,
            ),
            (
                Error::from(ApiError::new(90024, "")),
                Some(Safe),
                false,
                true,
            ),
            (
                Error::from(ApiError::new(70001, "")),
                Some(Safe),
                true,
                false,
            ),
            (
                Error::from(ApiError::new(91000, "")),
                Some(IdempotentOnly),
                false,
                false,
            ),
            (
                Error::from(ApiError::new(90018, "")),
                Some(Never),
                false,
                false,
            ),
            (
                Error::from(ApiError::new(90009, "")),
                Some(Never),
                false,
                false,
            ),
            (
                Error::from(ApiError::new(90047, "")),
                Some(Never),
                false,
                false,
            ),
            (
                Error::from(ApiError::new(123_456, "")),
                Some(Never),
                false,
                false,
            ),
            (status(429), Some(Safe), false, true),
            (status(502), Some(IdempotentOnly), false, false),
            (status(503), Some(IdempotentOnly), false, false),
            (status(404), Some(Never), false, false),
            (
                decode(DecodeErrorKind::Empty, b""),
                Some(IdempotentOnly),
                false,
                false,
            ),
            (
                decode(DecodeErrorKind::Truncated, b"{\"Action"),
                Some(IdempotentOnly),
                false,
                false,
            ),
            // A 200 with an HTML page: a gateway failure, like a 502.
            (
                decode(DecodeErrorKind::NotJson, b"<html>maintenance</html>"),
                Some(IdempotentOnly),
                false,
                false,
            ),
            // JSON of the wrong shape: final.
            (
                decode(DecodeErrorKind::Shape, b"[\"not\",\"an\",\"envelope\"]"),
                Some(Never),
                false,
                false,
            ),
            (
                Error::from(TransportError::new(Sent::No, "refused")),
                Some(Safe),
                false,
                false,
            ),
            (
                Error::from(TransportError::timed_out(Sent::No, "connect")),
                Some(Safe),
                false,
                false,
            ),
            (
                Error::from(TransportError::new(Sent::Maybe, "reset")),
                Some(IdempotentOnly),
                false,
                false,
            ),
            (
                Error::from(ErrorKind::Timeout(Duration::from_secs(1))),
                Some(IdempotentOnly),
                false,
                false,
            ),
            (
                Error::from(ErrorKind::Encode(
                    serde_json::from_str::<u8>("x").unwrap_err(),
                )),
                None,
                false,
                false,
            ),
        ];
        for (error, class, resign, throttled) in cases {
            let v = classify(&error);
            assert_eq!(
                (v.retry, v.resign, v.throttled),
                (class, resign, throttled),
                "{error:?}"
            );
        }
    }
}
