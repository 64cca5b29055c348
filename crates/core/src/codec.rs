//! Sans-IO request building and response decoding.

use bytes::Bytes;
use http::uri::{self, PathAndQuery};
use http::{HeaderValue, Method, StatusCode, header};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};

use crate::endpoint::Endpoint;
use crate::envelope::{BareEnvelope, Envelope};
use crate::error::{ApiError, DecodeErrorKind, Error, ErrorKind};
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
    serde_json::to_vec(request).map_err(|e| Error::from(ErrorKind::Encode(e)))
}

/// Builds the HTTP request for one call of `E`: `POST <base>/v4/<service>/<command>` with the
/// query `sdkappid`, `identifier`, `usersig`, `random`, `contenttype=json`, and the JSON body.
///
/// The request is validated first; nothing is built for a request that breaks a limit.
/// `random` is the per-request random number that support tickets quote: draw a fresh one for
/// every request.
///
/// ```
/// use tim_core::{Auth, BaseUrl, Region, UserSig, build_request, all_member_push::{GetTag, GetTagRequest}};
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
    let mut req = http::Request::new(body);
    *req.method_mut() = Method::POST;
    *req.uri_mut() = request_uri::<E>(base, auth, random)?;
    // The one header the API documents. (No `Accept`: the answer is always JSON, and the
    // client's transports add their own User-Agent.)
    req.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    Ok(req)
}

/// `<base>/v4/<service>/<command>?sdkappid=…&identifier=…&usersig=…&random=…&contenttype=json`.
///
/// The path and query are written into one buffer of the exact size and handed to `http`
/// without a copy; the scheme and host were parsed once, with the base URL. Only the path and
/// query are parsed here.
fn request_uri<E: Endpoint>(
    base: &BaseUrl,
    auth: &Auth<'_>,
    random: u32,
) -> Result<http::Uri, Error> {
    let info = E::INFO;
    let sig = auth.usersig.expose();
    let sig_safe = auth.usersig.is_query_safe();
    let identifier_safe = is_query_safe(auth.identifier);
    let pieces = [
        base.prefix(),
        "/v4/",
        info.service,
        "/",
        info.command,
        "?sdkappid=",
        "&identifier=",
        "&usersig=",
        "&random=",
        "&contenttype=json",
    ];
    let len = pieces.iter().map(|p| p.len()).sum::<usize>()
        + decimal_len(auth.sdkappid)
        + query_value_len(auth.identifier, identifier_safe)
        + query_value_len(sig, sig_safe)
        + decimal_len(u64::from(random));
    // Bytes rather than a `String`: every piece is ASCII (or percent-encoded), and `http`
    // checks the whole path and query anyway.
    let mut pq = Vec::with_capacity(len);
    pq.extend_from_slice(base.prefix().as_bytes());
    pq.extend_from_slice(b"/v4/");
    pq.extend_from_slice(info.service.as_bytes());
    pq.push(b'/');
    pq.extend_from_slice(info.command.as_bytes());
    pq.extend_from_slice(b"?sdkappid=");
    push_decimal(&mut pq, auth.sdkappid);
    pq.extend_from_slice(b"&identifier=");
    push_query_value(&mut pq, auth.identifier, identifier_safe);
    pq.extend_from_slice(b"&usersig=");
    push_query_value(&mut pq, sig, sig_safe);
    pq.extend_from_slice(b"&random=");
    push_decimal(&mut pq, u64::from(random));
    pq.extend_from_slice(b"&contenttype=json");
    debug_assert_eq!(pq.len(), len);
    // Every part is percent-encoded or fixed text, so this always parses; the fallback error
    // still carries no secret.
    let invalid = || Error::from(crate::url::BaseUrlError::Invalid(base.as_str().to_owned()));
    // Exactly `len` bytes were reserved and written, so `Bytes` takes the buffer without a copy.
    let path_and_query = PathAndQuery::from_maybe_shared(Bytes::from(pq)).map_err(|_| invalid())?;
    let mut parts = uri::Parts::default();
    parts.scheme = Some(base.scheme().clone());
    parts.authority = Some(base.authority().clone());
    parts.path_and_query = Some(path_and_query);
    http::Uri::from_parts(parts).map_err(|_| invalid())
}

/// The bytes left as they are in a query value (the complement of [`QUERY_VALUE`]).
const QUERY_SAFE: [bool; 256] = {
    let mut table = [false; 256];
    let mut b = 0;
    while b < 256 {
        let c = b as u8;
        table[b] = c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_' | b'.' | b'~' | b'*');
        b += 1;
    }
    table
};

/// Whether `value` goes into a query value as it is: no byte of it is in [`QUERY_VALUE`].
pub(crate) fn is_query_safe(value: &str) -> bool {
    value.bytes().all(|b| QUERY_SAFE[usize::from(b)])
}

fn query_value_len(value: &str, safe: bool) -> usize {
    if safe {
        value.len()
    } else {
        utf8_percent_encode(value, QUERY_VALUE).map(str::len).sum()
    }
}

fn push_query_value(out: &mut Vec<u8>, value: &str, safe: bool) {
    if safe {
        out.extend_from_slice(value.as_bytes());
    } else {
        for chunk in utf8_percent_encode(value, QUERY_VALUE) {
            out.extend_from_slice(chunk.as_bytes());
        }
    }
}

fn decimal_len(n: u64) -> usize {
    n.checked_ilog10().map_or(1, |d| d as usize + 1)
}

fn push_decimal(out: &mut Vec<u8>, mut n: u64) {
    let mut digits = [0u8; 20];
    let mut i = digits.len();
    loop {
        i -= 1;
        digits[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    out.extend_from_slice(&digits[i..]);
}

fn first_byte(body: &[u8]) -> Option<u8> {
    body.iter().copied().find(|b| !b.is_ascii_whitespace())
}

/// Decodes an answer of `E` from its HTTP status and body bytes.
///
/// - 200 with `ActionStatus: OK` and `ErrorCode: 0`: the typed payload (unknown fields are
///   ignored; the envelope is checked and dropped);
/// - 200 with `FAIL` or a non-zero code: [`ErrorKind::Api`] with the typed code;
/// - any other status: [`ErrorKind::HttpStatus`] with the body;
/// - an empty, truncated, non-JSON or odd-shaped body: [`ErrorKind::Decode`] with the body.
///
/// It never panics, whatever the bytes.
///
/// ```
/// use http::StatusCode;
/// use tim_core::{decode, ErrorCode, ErrorKind, all_member_push::GetTag};
/// let ok = decode::<GetTag>(StatusCode::OK, br#"{"ActionStatus":"OK","ErrorCode":0,"ErrorInfo":"","UserTags":[{"To_Account":"u1","Tags":["a"]}]}"#).unwrap();
/// assert_eq!(ok.user_tags[0].tags, ["a"]);
/// let err = decode::<GetTag>(StatusCode::OK, br#"{"ActionStatus":"FAIL","ErrorCode":90018,"ErrorInfo":"too many"}"#).unwrap_err();
/// assert_eq!(err.code(), Some(ErrorCode::AccountsOverLimit));
/// let err = decode::<GetTag>(StatusCode::BAD_GATEWAY, b"<html>502 Bad Gateway</html>").unwrap_err();
/// assert!(matches!(err.kind(), ErrorKind::HttpStatus { .. }));
/// ```
pub fn decode<E: Endpoint>(status: StatusCode, body: &[u8]) -> Result<E::Response, Error> {
    if status != StatusCode::OK {
        return Err(ErrorKind::http_status(status, Bytes::copy_from_slice(body)).into());
    }
    let decode_error = |kind, source| {
        Error::from(ErrorKind::decode(
            kind,
            Bytes::copy_from_slice(body),
            source,
        ))
    };
    let Some(first) = first_byte(body) else {
        return Err(decode_error(DecodeErrorKind::Empty, None));
    };
    match serde_json::from_slice::<E::Answer>(body) {
        Ok(answer) if answer.is_success() => Ok(answer.into()),
        Ok(answer) => Err(api_error(answer.error_code(), answer.error_info())),
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
    Error::from(ApiError::new(code, info))
}

/// The body of a successful answer of `E`: the envelope (`ActionStatus` `OK`, `ErrorInfo`
/// empty, `ErrorCode` 0) followed by the payload's fields. What a server (the emulator) sends.
///
/// ```
/// use tim_core::{encode_answer, all_member_push::{GetTag, GetTagResponse, UserTags}};
/// let mut answer = GetTagResponse::new();
/// answer.user_tags.push(UserTags::new("u1", ["vip"]));
/// assert_eq!(
///     String::from_utf8(encode_answer::<GetTag>(&answer)).unwrap(),
///     r#"{"ActionStatus":"OK","ErrorInfo":"","ErrorCode":0,"UserTags":[{"To_Account":"u1","Tags":["vip"]}]}"#
/// );
/// ```
pub fn encode_answer<E: Endpoint>(response: &E::Response) -> Vec<u8> {
    encode_success(response)
}

/// [`encode_answer`] for any payload that serialises to a JSON object (anything else is
/// dropped, leaving the bare envelope).
pub fn encode_success(payload: &impl serde::Serialize) -> Vec<u8> {
    let response = payload;
    const ENVELOPE: &[u8] = br#"{"ActionStatus":"OK","ErrorInfo":"","ErrorCode":0"#;
    let mut out = Vec::with_capacity(128);
    out.extend_from_slice(ENVELOPE);
    let start = out.len();
    // A generated payload always serialises to a JSON object; splice its fields in.
    if serde_json::to_writer(&mut out, response).is_ok() && out.get(start) == Some(&b'{') {
        if out.len() - start > 2 {
            out[start] = b',';
        } else {
            out.truncate(start);
            out.push(b'}');
        }
    } else {
        out.truncate(start);
        out.push(b'}');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::all_member_push::{GetTag, Push};
    use crate::generated::ErrorCode;

    fn kind(r: Result<impl std::fmt::Debug, Error>) -> DecodeErrorKind {
        match r {
            Err(e) => match e.kind() {
                ErrorKind::Decode { kind, .. } => *kind,
                other => panic!("expected a decode error, got {other:?}"),
            },
            other => panic!("expected a decode error, got {other:?}"),
        }
    }

    #[test]
    fn query_safe_agrees_with_the_percent_encoding() {
        for b in 0u8..=127 {
            let s = char::from(b).to_string();
            let encoded = utf8_percent_encode(&s, QUERY_VALUE).to_string();
            assert_eq!(is_query_safe(&s), encoded == s, "byte {b:#04x}");
        }
        assert!((128..256).all(|b| !QUERY_SAFE[b]));
        assert!(!is_query_safe("é"));
        assert!(is_query_safe(""));
    }

    #[test]
    fn decimals_and_lengths() {
        for n in [
            0,
            1,
            9,
            10,
            99,
            100,
            1_400_000_000,
            u64::from(u32::MAX),
            u64::MAX,
        ] {
            let mut s = Vec::new();
            push_decimal(&mut s, n);
            assert_eq!(s, n.to_string().as_bytes());
            assert_eq!(decimal_len(n), s.len());
        }
        for v in ["admin", "a b&c=d", "管理员", "x*y-z_.~"] {
            let safe = is_query_safe(v);
            let mut s = Vec::new();
            push_query_value(&mut s, v, safe);
            assert_eq!(
                s,
                utf8_percent_encode(v, QUERY_VALUE).to_string().as_bytes()
            );
            assert_eq!(query_value_len(v, safe), s.len());
        }
    }

    /// The URI is the same as parsing the whole URL text, whatever the base, identifier and
    /// UserSig.
    #[test]
    fn request_uri_matches_the_parsed_text() {
        use crate::Region;
        let bases = [
            BaseUrl::from(Region::Singapore),
            BaseUrl::parse("http://127.0.0.1:8080/").unwrap(),
            BaseUrl::parse("https://proxy.example/tim/api").unwrap(),
        ];
        for base in &bases {
            for (identifier, sig) in [
                ("administrator", "eJw1jV0L*gjAUB-_"),
                ("admin user&x=1", "a/b+c=="),
                ("管理员", ""),
            ] {
                let sig = UserSig::new(sig);
                let auth = Auth {
                    sdkappid: 1_400_000_000,
                    identifier,
                    usersig: &sig,
                };
                for random in [0, 7, u32::MAX] {
                    let uri = request_uri::<GetTag>(base, &auth, random).unwrap();
                    let text = format!(
                        "{}/v4/all_member_push/im_get_tag?sdkappid=1400000000&identifier={}&usersig={}&random={random}&contenttype=json",
                        base.as_str(),
                        utf8_percent_encode(identifier, QUERY_VALUE),
                        utf8_percent_encode(sig.expose(), QUERY_VALUE),
                    );
                    assert_eq!(uri, text.parse::<http::Uri>().unwrap());
                    assert_eq!(uri.to_string(), text);
                }
            }
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
        assert_eq!(e.code(), Some(ErrorCode::InternalError));
        let e = decode::<GetTag>(
            StatusCode::OK,
            br#"{"ActionStatus":"OK","ErrorCode":70001,"ErrorInfo":""}"#,
        )
        .unwrap_err();
        assert_eq!(e.code(), Some(ErrorCode::UserSigExpired));
        let e = decode::<GetTag>(StatusCode::OK, br#"{"ActionStatus":"MAYBE","ErrorCode":0}"#)
            .unwrap_err();
        assert_eq!(e.code(), Some(ErrorCode::Unknown(0)));
        let e = decode::<GetTag>(
            StatusCode::OK,
            br#"{"ActionStatus":"FAIL","ErrorCode":12345}"#,
        )
        .unwrap_err();
        assert_eq!(e.code().map(ErrorCode::code), Some(12345));
    }

    #[test]
    fn unknown_fields_are_ignored_and_bodies_are_kept() {
        let ok = decode::<GetTag>(
            StatusCode::OK,
            br#"{"ActionStatus":"OK","ErrorCode":0,"New":{"x":1},"UserTags":[{"To_Account":"a","Tags":[],"Extra":true}]}"#,
        )
        .unwrap();
        assert_eq!(ok.user_tags.len(), 1);
        let e = decode::<GetTag>(StatusCode::BAD_GATEWAY, b"<html>502</html>").unwrap_err();
        assert_eq!(e.http_status(), Some(StatusCode::BAD_GATEWAY));
        assert_eq!(e.retry_class(), Some(crate::RetryClass::IdempotentOnly));
        assert!(e.to_string().contains("502"), "{e}");
    }
}
