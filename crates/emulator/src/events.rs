//! What happened in the emulated app, as typed events: services emit them while they handle a
//! call, and the dispatcher hands them on once the call's changes are stored (an event of a
//! refused call never leaves). Today every event is recorded for inspection
//! (`GET /__emulator/events`, [`EmulatorHandle::events`](crate::EmulatorHandle::events)); the
//! callbacks issue adds delivery to a user's URL on the same dispatcher.

use std::collections::VecDeque;
use std::sync::Mutex;

use serde::{Deserialize, Serialize};

/// One event, numbered in the order it happened.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Event {
    /// 1, 2, 3, ... in the order the events were dispatched.
    pub seq: u64,
    /// When, by the emulator's clock (Unix milliseconds).
    pub at_unix_ms: u64,
    /// The endpoint whose call caused it (`all_member_push/im_push`), or `admin` for the
    /// admin paths.
    pub source: String,
    /// What happened.
    #[serde(flatten)]
    pub kind: EventKind,
}

/// What happened. New services add variants.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
#[non_exhaustive]
pub enum EventKind {
    /// Accounts came into existence.
    AccountsCreated {
        /// The accounts, in request order.
        accounts: Vec<String>,
    },
    /// Accounts were deleted (with their data in every service).
    AccountsDeleted {
        /// The accounts, in request order.
        accounts: Vec<String>,
    },
    /// An account's logins were ended (`kick`).
    Kicked {
        /// The account.
        account: String,
    },
    /// An account logged in or out on a platform (through the admin path).
    LoginChanged {
        /// The account.
        account: String,
        /// The platform.
        platform: String,
        /// `Online`, `PushOnline` or `Offline`.
        status: String,
    },
    /// Profile fields were set.
    ProfileUpdated {
        /// The account.
        account: String,
        /// The tags set, in request order.
        tags: Vec<String>,
    },
    /// A one-to-one message was sent (not imported).
    MessageSent {
        /// The sender.
        from: String,
        /// The recipient.
        to: String,
        /// Its MsgKey.
        msg_key: String,
    },
    /// A one-to-one message was recalled.
    MessageRecalled {
        /// Its MsgKey.
        msg_key: String,
    },
    /// A push to all (or to a segment) was accepted.
    PushAccepted {
        /// The push task.
        task_id: String,
        /// How many accounts it reached.
        recipients: usize,
    },
}

/// Hands events on: records them (bounded, oldest dropped first).
#[derive(Debug)]
pub(crate) struct Dispatcher {
    log: Mutex<EventLog>,
}

#[derive(Debug)]
struct EventLog {
    entries: VecDeque<Event>,
    next_seq: u64,
    capacity: usize,
}

impl Dispatcher {
    pub(crate) fn new(capacity: usize) -> Self {
        Self {
            log: Mutex::new(EventLog {
                entries: VecDeque::new(),
                next_seq: 1,
                capacity,
            }),
        }
    }

    /// Dispatches the events of one stored call, in the order they were emitted.
    pub(crate) fn dispatch(&self, source: &str, at_unix_ms: u64, kinds: Vec<EventKind>) {
        if kinds.is_empty() {
            return;
        }
        let mut log = crate::lock(&self.log);
        for kind in kinds {
            let seq = log.next_seq;
            log.next_seq += 1;
            tracing::debug!(seq, source, ?kind, "event");
            if log.capacity == 0 {
                continue;
            }
            while log.entries.len() >= log.capacity {
                log.entries.pop_front();
            }
            log.entries.push_back(Event {
                seq,
                at_unix_ms,
                source: source.to_owned(),
                kind,
            });
        }
    }

    /// The recorded events, oldest first.
    pub(crate) fn recorded(&self) -> Vec<Event> {
        crate::lock(&self.log).entries.iter().cloned().collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbered_bounded_and_serialized_flat() {
        let d = Dispatcher::new(2);
        let push = |id: &str| EventKind::PushAccepted {
            task_id: id.into(),
            recipients: 1,
        };
        d.dispatch("all_member_push/im_push", 5, vec![push("a"), push("b")]);
        d.dispatch("all_member_push/im_push", 6, vec![push("c")]);
        let events = d.recorded();
        assert_eq!(events.iter().map(|e| e.seq).collect::<Vec<_>>(), [2, 3]);
        let json = serde_json::to_value(&events[1]).unwrap();
        assert_eq!(json["event"], "push_accepted");
        assert_eq!(json["task_id"], "c");
        assert_eq!(json["source"], "all_member_push/im_push");
    }
}
