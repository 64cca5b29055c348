//! The URL's query parameters and who is calling: SDKAppID, identifier, content type, random,
//! UserSig (verified with tim-core at the emulator's clock) and admin rights.

use tim_core::usersig::{self, MalformedReason, VerifyError};
use tim_core::{EndpointId, ErrorCode};

use crate::config::Config;
use crate::reject::{Res, reject};

/// Query parameters, percent-decoded; the first occurrence of a name wins.
#[derive(Debug, Default)]
pub(crate) struct QueryParams(Vec<(String, String)>);

impl QueryParams {
    pub(crate) fn parse(query: &str) -> Self {
        let mut out: Vec<(String, String)> = Vec::new();
        for pair in query.split('&').filter(|p| !p.is_empty()) {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            let k = percent_encoding::percent_decode_str(k)
                .decode_utf8_lossy()
                .into_owned();
            if out.iter().any(|(n, _)| *n == k) {
                continue;
            }
            let v = percent_encoding::percent_decode_str(v)
                .decode_utf8_lossy()
                .into_owned();
            out.push((k, v));
        }
        Self(out)
    }

    pub(crate) fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// The first of `candidates` the endpoint's page documents, else `fallback`: services answer
/// the same situation with codes of their own (the spec lists each endpoint's).
pub(crate) fn documented(
    id: EndpointId,
    candidates: &[ErrorCode],
    fallback: ErrorCode,
) -> ErrorCode {
    let errors = id.info().errors;
    candidates
        .iter()
        .copied()
        .find(|c| errors.contains(c))
        .unwrap_or(fallback)
}

/// The code for a body the service cannot read: 90001 (push, messages), 70402 (accounts),
/// 40001 (profiles), as each endpoint's page lists; 90001 when it lists none.
pub(crate) fn malformed_body_code(id: EndpointId) -> ErrorCode {
    documented(
        id,
        &[
            ErrorCode::JsonParseFailed,
            ErrorCode::ProfileRequestInvalid,
            ErrorCode::InvalidParameter,
            ErrorCode::RequestJsonParseError,
        ],
        ErrorCode::JsonParseFailed,
    )
}

/// The code for an identifier that is not an app admin: 90009, 70403 or 40004 as each
/// endpoint's page lists; the public 60010 when it lists none.
fn admin_required_code(id: EndpointId) -> ErrorCode {
    documented(
        id,
        &[
            ErrorCode::AdminRequired,
            ErrorCode::AdminRequiredForAccount,
            ErrorCode::ProfileAdminRequired,
            ErrorCode::AdminRequiredForRest,
        ],
        ErrorCode::AdminRequiredForRest,
    )
}

/// URL parameters, UserSig and admin checks for a call of `id`, at `now` (Unix seconds).
/// Answers the identifier.
pub(crate) fn authenticate<'q>(
    config: &Config,
    id: EndpointId,
    params: &'q QueryParams,
    now: u64,
) -> Res<&'q str> {
    let sdkappid = match params.get("sdkappid") {
        None | Some("") => {
            return Err(reject(
                ErrorCode::SdkAppIdMissing,
                "sdkappid is missing from the URL",
            ));
        }
        Some(s) => s,
    };
    if sdkappid.parse::<u64>().ok() != Some(config.sdkappid) {
        return Err(reject(
            ErrorCode::SdkAppIdInvalid,
            format!("invalid sdkappid {sdkappid:?}"),
        ));
    }
    let identifier = match params.get("identifier") {
        None | Some("") => {
            return Err(reject(
                ErrorCode::UrlParametersInvalid,
                "identifier is missing from the URL",
            ));
        }
        Some(i) => i,
    };
    match params.get("contenttype") {
        Some("json") => {}
        other => {
            return Err(reject(
                ErrorCode::UrlParametersInvalid,
                format!("contenttype must be json, got {other:?}"),
            ));
        }
    }
    match params.get("random").map(str::parse::<u32>) {
        Some(Ok(_)) => {}
        _ => {
            return Err(reject(
                ErrorCode::UrlParametersInvalid,
                "random must be a 32-bit unsigned integer",
            ));
        }
    }
    let sig = params.get("usersig").unwrap_or("");
    if sig.is_empty() {
        return Err(reject(ErrorCode::UserSigEmpty, "usersig is empty"));
    }
    usersig::verify(sig, config.sdkappid, identifier, &config.key, now).map_err(|e| {
        let code = match &e {
            VerifyError::Malformed(MalformedReason::Empty) => ErrorCode::UserSigEmpty,
            VerifyError::Malformed(_) => ErrorCode::UserSigMalformed,
            VerifyError::SdkAppIdMismatch { .. } => ErrorCode::UserSigSdkAppIdMismatch,
            VerifyError::IdentifierMismatch { .. } => ErrorCode::UserSigIdentifierMismatch,
            VerifyError::BadSignature => ErrorCode::UserSigBadSignature,
            VerifyError::Expired { .. } => ErrorCode::UserSigExpired,
            _ => ErrorCode::UserSigInvalid,
        };
        reject(code, e.to_string())
    })?;
    if !config.admins.iter().any(|a| a == identifier) {
        return Err(reject(
            admin_required_code(id),
            format!("identifier {identifier:?} is not an app admin"),
        ));
    }
    Ok(identifier)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_first_wins_and_decodes() {
        let q = QueryParams::parse("identifier=a%20b&identifier=c&x&random=1");
        assert_eq!(q.get("identifier"), Some("a b"));
        assert_eq!(q.get("x"), Some(""));
        assert_eq!(q.get("random"), Some("1"));
        assert_eq!(q.get("usersig"), None);
    }
}
