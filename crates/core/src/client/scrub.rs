//! Secret scrubbing: nothing the server (or a proxy) sent back may carry the UserSig into an
//! error.

use bytes::Bytes;

use crate::error::{ApiError, Error, ErrorKind};
use crate::secret::UserSig;

/// Removes the UserSig from anything the server sent back (a proxy's error page may echo the
/// URL), so that no error carries it.
pub(super) fn scrub(err: Error, usersig: &UserSig) -> Error {
    let sig = usersig.expose().as_bytes();
    if sig.is_empty() {
        return err;
    }
    let clean = |body: Bytes| -> Bytes {
        if !contains(&body, sig) {
            return body;
        }
        let mut out = Vec::with_capacity(body.len());
        let mut rest = &body[..];
        while let Some(i) = find(rest, sig) {
            out.extend_from_slice(&rest[..i]);
            out.extend_from_slice(b"<redacted>");
            rest = &rest[i + sig.len()..];
        }
        out.extend_from_slice(rest);
        Bytes::from(out)
    };
    err.map_kind(|kind| match kind {
        ErrorKind::HttpStatus { status, body } => ErrorKind::http_status(status, clean(body)),
        ErrorKind::Decode { kind, body, source } => ErrorKind::decode(kind, clean(body), source),
        ErrorKind::Api(api) if api.info().contains(usersig.expose()) => {
            ErrorKind::Api(ApiError::new(
                api.code(),
                api.info().replace(usersig.expose(), "<redacted>"),
            ))
        }
        other => other,
    })
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    find(haystack, needle).is_some()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scrub_removes_the_usersig_from_bodies_and_infos() {
        let sig = UserSig::new("eJyr*SIG-_x");
        let e = scrub(
            Error::from(ErrorKind::http_status(
                http::StatusCode::NOT_FOUND,
                Bytes::from_static(b"<p>no /v4/x?usersig=eJyr*SIG-_x&random=1 eJyr*SIG-_x</p>"),
            ))
            .with_random(7),
            &sig,
        );
        assert_eq!(e.random(), Some(7));
        let body = e.body().unwrap();
        assert_eq!(
            &body[..],
            b"<p>no /v4/x?usersig=<redacted>&random=1 <redacted></p>"
        );
        let e = scrub(
            Error::from(ApiError::new(70003, "bad sig eJyr*SIG-_x")),
            &sig,
        );
        assert_eq!(
            e.to_string(),
            "API error 70003 (The UserSig is invalid and cannot be parsed.): bad sig <redacted>"
        );
    }
}
