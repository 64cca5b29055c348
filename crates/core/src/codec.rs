//! Sans-IO request building and response decoding.

use bytes::Bytes;
use http::{HeaderValue, Method, StatusCode, header};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};

use crate::endpoint::Endpoint;
use crate::envelope::{BareEnvelope, Envelope};
use crate::error::{ApiError, DecodeErrorKind, Error};
use crate::secret::UserSig;
use crate::url::BaseUrl;
use crate::validate::Validate;

/// Characters left as they are in query values: RFC 3986 unreserved plus `*` (UserSigs use
/// `*`, `-` and `_`).
const QUERY_VALUE: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~')
    .remove(b'*');

/// Who is calling: the app and its admin account with a UserSig.
#[derive(Debug, Clone, Copy)]
pub struct Auth<'a> {
    /// The app's SDKAppID.
    pub sdkappid: u64,
    /// The admin account.
    pub identifier: &'a str,
    /// The admin's UserSig.
    pub usersig: &'a UserSig,
}

/// Checks the request's documented limits and encodes it as JSON.
pub fn encode_body<E: Endpoint>(request: &E::Request) -> Result<Vec<u8>, Error> {
    request.validate()?;
    serde_json::to_vec(request).map_err(Error::Encode)
}

/// Builds the HTTP request for one call of `E`: `POST <base>/v4/<service>/<command>` with the
/// query `sdkappid`, `identifier`, `usersig`, `random`, `contenttype=json`, and the JSON body.
///
/// The request is validated first; nothing is built for a request that breaks a limit.
/// `random` is the per-request random number that support tickets quote: draw a fresh one for
/// every request.
///
/// ```
/// use tim_core::{Auth, BaseUrl, Region, UserSig, build_request, endpoints::{GetTag, GetTagRequest}};
/// let sig = UserSig::new("sig");
/// let auth = Auth { sdkappid: 1400000000, identifier: "administrator", usersig: &sig };
/// let req = build_request::<GetTag>(&Region::China.into(), &auth, 7, &GetTagRequest::new(["u1"])).unwrap();
/// assert_eq!(req.method(), "POST");
/// assert_eq!(
///     req.uri().to_string(),
///     "https://console.tim.qq.com/v4/all_member_push/im_get_tag?sdkappid=1400000000&identifier=administrator&usersig=sig&random=7&contenttype=json"
/// );
/// assert_eq!(req.body(), br#"{"To_Account":["u1"]}"#);
/// ```
pub fn build_request<E: Endpoint>(
    base: &BaseUrl,
    auth: &Auth<'_>,
    random: u32,
    request: &E::Request,
) -> Result<http::Request<Vec<u8>>, Error> {
    let body = encode_body::<E>(request)?;
    request_with_body::<E>(base, auth, random, body)
}

/// [`build_request`] for a body that was validated and encoded already (the client encodes once
/// and resends the same bytes on every attempt).
pub(crate) fn request_with_body<E: Endpoint>(
    base: &BaseUrl,
    auth: &Auth<'_>,
    random: u32,
    body: Vec<u8>,
) -> Result<http::Request<Vec<u8>>, Error> {
    let info = E::INFO;
    let uri = format!(
        "{}/v4/{}/{}?sdkappid={}&identifier={}&usersig={}&random={}&contenttype=json",
        base.as_str(),
        info.service,
        info.command,
        auth.sdkappid,
        utf8_percent_encode(auth.identifier, QUERY_VALUE),
        utf8_percent_encode(auth.usersig.expose(), QUERY_VALUE),
        random,
    );
    let mut req = http::Request::new(body);
    *req.method_mut() = Method::POST;
    // The base URL was validated and every other part is percent-encoded or fixed text, so the
    // URI always parses; the fallback error still carries no secret.
    *req.uri_mut() = uri
        .parse()
        .map_err(|_| Error::Config(crate::url::BaseUrlError::Invalid(base.as_str().to_owned())))?;
    req.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    req.headers_mut()
        .insert(header::ACCEPT, HeaderValue::from_static("application/json"));
    Ok(req)
}

fn first_byte(body: &[u8]) -> Option<u8> {
    body.iter().copied().find(|b| !b.is_ascii_whitespace())
}

/// Decodes an answer of `E` from its HTTP status and body bytes.
///
/// - 200 with `ActionStatus: OK` and `ErrorCode: 0`: the typed response (unknown fields are
///   ignored);
/// - 200 with `FAIL` or a non-zero code: [`Error::Api`] with the typed code;
/// - any other status: [`Error::HttpStatus`] with the body;
/// - an empty, truncated, non-JSON or odd-shaped body: [`Error::Decode`] with the body.
///
/// It never panics, whatever the bytes.
///
/// ```
/// use http::StatusCode;
/// use tim_core::{decode, Error, ErrorCode, endpoints::GetTag};
/// let ok = decode::<GetTag>(StatusCode::OK, br#"{"ActionStatus":"OK","ErrorCode":0,"ErrorInfo":"","UserTags":[{"To_Account":"u1","Tags":["a"]}]}"#).unwrap();
/// assert_eq!(ok.user_tags[0].tags, ["a"]);
/// let err = decode::<GetTag>(StatusCode::OK, br#"{"ActionStatus":"FAIL","ErrorCode":90018,"ErrorInfo":"too many"}"#).unwrap_err();
/// assert_eq!(err.api_code(), Some(ErrorCode::AccountsOverLimit));
/// let err = decode::<GetTag>(StatusCode::BAD_GATEWAY, b"<html>502 Bad Gateway</html>").unwrap_err();
/// assert!(matches!(err, Error::HttpStatus { .. }));
/// ```
pub fn decode<E: Endpoint>(status: StatusCode, body: &[u8]) -> Result<E::Response, Error> {
    if status != StatusCode::OK {
        return Err(Error::HttpStatus {
            status,
            body: Bytes::copy_from_slice(body),
        });
    }
    let decode_error = |kind, source| Error::Decode {
        kind,
        body: Bytes::copy_from_slice(body),
        source,
    };
    let Some(first) = first_byte(body) else {
        return Err(decode_error(DecodeErrorKind::Empty, None));
    };
    match serde_json::from_slice::<E::Response>(body) {
        Ok(resp) if resp.is_success() => Ok(resp),
        Ok(resp) => Err(api_error(resp.error_code(), resp.error_info())),
        Err(e) if e.is_eof() => Err(decode_error(DecodeErrorKind::Truncated, Some(e))),
        Err(e) if e.is_syntax() => Err(decode_error(DecodeErrorKind::NotJson, Some(e))),
        Err(e) if first != b'{' => Err(decode_error(DecodeErrorKind::Shape, Some(e))),
        Err(e) => match serde_json::from_slice::<BareEnvelope>(body) {
            // A failure envelope whose payload fields do not match is still an API error.
            Ok(env) if !env.is_success() => Err(api_error(env.error_code, &env.error_info)),
            _ => Err(decode_error(DecodeErrorKind::Shape, Some(e))),
        },
    }
}

fn api_error(code: i64, info: &str) -> Error {
    // `ActionStatus: FAIL` with code 0 is not documented; keep it an error with code 0.
    Error::Api(ApiError::new(code, info))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::endpoints::{GetTag, Push};
    use crate::generated::ErrorCode;

    fn kind(r: Result<impl std::fmt::Debug, Error>) -> DecodeErrorKind {
        match r {
            Err(Error::Decode { kind, .. }) => kind,
            other => panic!("expected a decode error, got {other:?}"),
        }
    }

    #[test]
    fn bad_bodies_get_distinct_kinds() {
        assert_eq!(
            kind(decode::<GetTag>(StatusCode::OK, b"")),
            DecodeErrorKind::Empty
        );
        assert_eq!(
            kind(decode::<GetTag>(StatusCode::OK, b" \n ")),
            DecodeErrorKind::Empty
        );
        assert_eq!(
            kind(decode::<GetTag>(
                StatusCode::OK,
                br#"{"ActionStatus":"OK","Err"#
            )),
            DecodeErrorKind::Truncated
        );
        assert_eq!(
            kind(decode::<GetTag>(
                StatusCode::OK,
                b"<html><body>oops</body></html>"
            )),
            DecodeErrorKind::NotJson
        );
        assert_eq!(
            kind(decode::<GetTag>(StatusCode::OK, b"[1,2]")),
            DecodeErrorKind::Shape
        );
        assert_eq!(
            kind(decode::<GetTag>(StatusCode::OK, br#"{"ErrorCode":0}"#)),
            DecodeErrorKind::Shape
        );
        assert_eq!(
            kind(decode::<Push>(
                StatusCode::OK,
                br#"{"ActionStatus":"OK","ErrorCode":0}"#
            )),
            DecodeErrorKind::Shape,
        );
    }

    #[test]
    fn failures_are_api_errors_even_when_the_payload_is_odd() {
        let e = decode::<GetTag>(
            StatusCode::OK,
            br#"{"ActionStatus":"FAIL","ErrorCode":91000,"ErrorInfo":"x","UserTags":"not a list"}"#,
        )
        .unwrap_err();
        assert_eq!(e.api_code(), Some(ErrorCode::InternalError));
        let e = decode::<GetTag>(
            StatusCode::OK,
            br#"{"ActionStatus":"OK","ErrorCode":70001,"ErrorInfo":""}"#,
        )
        .unwrap_err();
        assert_eq!(e.api_code(), Some(ErrorCode::UserSigExpired));
        let e = decode::<GetTag>(StatusCode::OK, br#"{"ActionStatus":"MAYBE","ErrorCode":0}"#)
            .unwrap_err();
        assert_eq!(e.api_code(), Some(ErrorCode::Unknown(0)));
        let e = decode::<GetTag>(
            StatusCode::OK,
            br#"{"ActionStatus":"FAIL","ErrorCode":12345}"#,
        )
        .unwrap_err();
        assert_eq!(e.api_code().map(ErrorCode::code), Some(12345));
    }

    #[test]
    fn unknown_fields_are_ignored_and_bodies_are_kept() {
        let ok = decode::<GetTag>(
            StatusCode::OK,
            br#"{"ActionStatus":"OK","ErrorCode":0,"New":{"x":1},"UserTags":[{"To_Account":"a","Tags":[],"Extra":true}]}"#,
        )
        .unwrap();
        assert_eq!(ok.user_tags.len(), 1);
        match decode::<GetTag>(StatusCode::BAD_GATEWAY, b"<html>502</html>") {
            Err(e @ Error::HttpStatus { .. }) => {
                assert_eq!(e.retry_class(), Some(crate::RetryClass::IdempotentOnly));
                assert!(e.to_string().contains("502"), "{e}");
            }
            other => panic!("{other:?}"),
        }
    }
}
