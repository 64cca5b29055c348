//! The request log: every API call as received and answered, never with its UserSig.

use std::collections::VecDeque;

use serde::{Deserialize, Serialize};

use crate::config::FaultKind;

/// Bytes of a request body kept in the request log.
pub(crate) const LOGGED_BODY: usize = 16 * 1024;

/// One API call as logged: never the UserSig, nor the raw query.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct RequestRecord {
    /// 1, 2, 3, ... in arrival order.
    pub seq: u64,
    /// Arrival time by the emulator's clock (Unix milliseconds).
    pub at_unix_ms: u64,
    /// HTTP method.
    pub method: String,
    /// URL path.
    pub path: String,
    /// The command, when the path names one (`im_get_tag`).
    pub command: Option<String>,
    /// The `identifier` query parameter.
    pub identifier: Option<String>,
    /// The `random` query parameter, as sent.
    pub random: Option<String>,
    /// The request body (lossy UTF-8, at most 16 KiB).
    pub body: String,
    /// HTTP status answered (0: the connection was dropped without an answer).
    pub status: u16,
    /// `ErrorCode` answered, when an envelope was sent.
    pub error_code: Option<i64>,
    /// The fault injected, if any.
    pub fault: Option<FaultKind>,
    /// Paths of body members the spec does not know (ignored, or refused with `--strict`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub unknown_fields: Vec<String>,
    /// Paths of body members sent as `null` (treated as absent, or refused with `--strict`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub null_fields: Vec<String>,
}

impl RequestRecord {
    pub(crate) fn new(method: String, path: String, at_unix_ms: u64) -> Self {
        Self {
            seq: 0,
            at_unix_ms,
            method,
            path,
            command: None,
            identifier: None,
            random: None,
            body: String::new(),
            status: 200,
            error_code: None,
            fault: None,
            unknown_fields: Vec::new(),
            null_fields: Vec::new(),
        }
    }
}

/// The bounded log.
#[derive(Debug)]
pub(crate) struct RequestLog {
    pub(crate) entries: VecDeque<RequestRecord>,
    next_seq: u64,
    capacity: usize,
}

impl RequestLog {
    pub(crate) fn new(capacity: usize) -> Self {
        Self {
            entries: VecDeque::new(),
            next_seq: 1,
            capacity,
        }
    }

    pub(crate) fn push(&mut self, mut record: RequestRecord) {
        record.seq = self.next_seq;
        self.next_seq += 1;
        if self.capacity == 0 {
            return;
        }
        while self.entries.len() >= self.capacity {
            self.entries.pop_front();
        }
        self.entries.push_back(record);
    }
}
