//! A refusal: the code and `ErrorInfo` of a `FAIL` envelope, from any layer.

use tim_core::{ActionStatus, BareEnvelope, ErrorCode, LimitError};

/// A refused call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Reject {
    pub(crate) code: i64,
    pub(crate) info: String,
}

/// A refusal with `code`.
pub(crate) fn reject(code: ErrorCode, info: impl Into<String>) -> Reject {
    Reject {
        code: code.code(),
        info: info.into(),
    }
}

/// The `ErrorInfo` texts the pages' samples show for a code, answered word for word.
pub(crate) fn sample_info(code: ErrorCode) -> Option<&'static str> {
    match code {
        ErrorCode::AccountsOverLimit => Some("request account count exceed limit"),
        ErrorCode::PushTooFrequent => Some("push too frequently"),
        _ => None,
    }
}

/// The `ErrorInfo` texts the pages' samples show for a body the service cannot parse; the
/// emulator's own detail follows in parentheses.
fn parse_failure_text(code: ErrorCode) -> Option<&'static str> {
    match code {
        ErrorCode::ProfileRequestInvalid => Some("Err_Profile_Comm_Decode_Fail"),
        ErrorCode::JsonParseFailed => Some("Fail to Parse json data of body, Please check it"),
        _ => None,
    }
}

/// `detail` behind the page's text for a body `code` refuses as unparsable.
pub(crate) fn with_sample_text(code: ErrorCode, detail: String) -> String {
    match parse_failure_text(code) {
        Some(text) => format!("{text} ({detail})"),
        None => detail,
    }
}

impl From<LimitError> for Reject {
    fn from(e: LimitError) -> Self {
        let code = e.code().unwrap_or(ErrorCode::JsonParseFailed);
        Reject {
            code: code.code(),
            info: sample_info(code)
                .map_or_else(|| format!("{}: {}", e.path(), e.limit()), str::to_owned),
        }
    }
}

impl From<tim_core::schema::ShapeError> for Reject {
    fn from(e: tim_core::schema::ShapeError) -> Self {
        Reject {
            code: e.code().code(),
            info: e.to_string(),
        }
    }
}

pub(crate) type Res<T> = Result<T, Reject>;

/// A `FAIL` envelope.
pub(crate) fn envelope(code: i64, info: &str) -> Vec<u8> {
    let env = BareEnvelope::new(ActionStatus::Fail, code, info);
    serde_json::to_vec(&env).unwrap_or_else(|_| {
        format!(r#"{{"ActionStatus":"FAIL","ErrorCode":{code},"ErrorInfo":""}}"#).into_bytes()
    })
}
