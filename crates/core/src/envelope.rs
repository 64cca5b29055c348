//! The envelope every answer carries: `ActionStatus`, `ErrorCode`, `ErrorInfo`.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// `ActionStatus` of an answer. Unknown values are kept, not rejected.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum ActionStatus {
    /// `OK`.
    #[default]
    Ok,
    /// `FAIL`.
    Fail,
    /// `SomeError` with `ErrorCode` 0: a partial success (batchsendmsg: some recipients got
    /// the message); the answer's per-item list says which failed.
    SomeError,
    /// Anything else the server may send.
    Other(String),
}

impl ActionStatus {
    /// The wire value.
    pub fn as_str(&self) -> &str {
        match self {
            ActionStatus::Ok => "OK",
            ActionStatus::Fail => "FAIL",
            ActionStatus::SomeError => "SomeError",
            ActionStatus::Other(s) => s,
        }
    }
}

impl fmt::Display for ActionStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for ActionStatus {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for ActionStatus {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = std::borrow::Cow::<'de, str>::deserialize(d)?;
        Ok(match &*s {
            "OK" => ActionStatus::Ok,
            "FAIL" => ActionStatus::Fail,
            "SomeError" => ActionStatus::SomeError,
            _ => ActionStatus::Other(s.into_owned()),
        })
    }
}

/// Access to the envelope fields of a response type.
pub trait Envelope {
    /// `ActionStatus`.
    fn action_status(&self) -> &ActionStatus;
    /// `ErrorCode` (0 on success).
    fn error_code(&self) -> i64;
    /// `ErrorInfo`.
    fn error_info(&self) -> &str;
    /// Whether the answer is a success: `ActionStatus` is `OK` (or `SomeError`, a partial
    /// success whose per-item failures the payload lists) and `ErrorCode` is 0.
    fn is_success(&self) -> bool {
        matches!(
            self.action_status(),
            ActionStatus::Ok | ActionStatus::SomeError
        ) && self.error_code() == 0
    }
}

/// The bare envelope, for answers whose payload does not matter (or does not parse).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct BareEnvelope {
    /// `ActionStatus`.
    #[serde(rename = "ActionStatus")]
    pub action_status: ActionStatus,
    /// `ErrorCode`.
    #[serde(rename = "ErrorCode", default)]
    pub error_code: i64,
    /// `ErrorInfo`.
    #[serde(rename = "ErrorInfo", default)]
    pub error_info: String,
    /// `ErrorDisplay`, sent by some services.
    #[serde(
        rename = "ErrorDisplay",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub error_display: Option<String>,
}

impl BareEnvelope {
    /// An envelope with the given status, code and info.
    pub fn new(
        action_status: ActionStatus,
        error_code: i64,
        error_info: impl Into<String>,
    ) -> Self {
        Self {
            action_status,
            error_code,
            error_info: error_info.into(),
            error_display: None,
        }
    }
}

impl Envelope for BareEnvelope {
    fn action_status(&self) -> &ActionStatus {
        &self.action_status
    }
    fn error_code(&self) -> i64 {
        self.error_code
    }
    fn error_info(&self) -> &str {
        &self.error_info
    }
}
