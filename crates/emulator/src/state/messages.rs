//! One-to-one messages: every message with the fields Tencent forms (MsgSeq, MsgRandom,
//! MsgTimeStamp, MsgKey), recall and read marks, and message extensions.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use tim_core::common::MsgElement;

/// The section.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub(crate) struct Section {
    /// Every one-to-one message, in the order the emulator stored it.
    pub(crate) c2c: Vec<Message>,
    /// Extensions per message, by MsgKey.
    pub(crate) extensions: BTreeMap<String, Extensions>,
}

/// One stored message.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct Message {
    pub(crate) from: String,
    pub(crate) to: String,
    pub(crate) seq: u32,
    pub(crate) random: u32,
    /// MsgTimeStamp, Unix seconds.
    pub(crate) time: i64,
    /// `<MsgSeq>_<MsgRandom>_<MsgTimeStamp>`, as the pages' samples form it.
    pub(crate) key: String,
    pub(crate) body: Vec<MsgElement>,
    pub(crate) cloud_custom_data: Option<String>,
    pub(crate) recalled: bool,
    /// Read by the recipient (admin_set_msg_read).
    pub(crate) read: bool,
    /// Sent with SupportMessageExtension 1.
    pub(crate) extensible: bool,
    /// Kept only for online recipients (not in history, not unread).
    pub(crate) online_only: bool,
}

/// A message's extensions: key → (value, seq), and the latest seq.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Extensions {
    pub(crate) values: BTreeMap<String, (String, u64)>,
    pub(crate) latest_seq: u64,
    pub(crate) clear_seq: u64,
}

/// A change to the section.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Change {
    /// A message stored.
    Store { message: Message },
    /// A message recalled, by key.
    Recall { key: String },
    /// Messages from `peer` to `reader` up to `until` (Unix seconds) read.
    Read {
        reader: String,
        peer: String,
        until: i64,
    },
    /// A message's body or custom data replaced.
    Modify {
        key: String,
        body: Option<Vec<MsgElement>>,
        cloud_custom_data: Option<String>,
    },
    /// A message's extensions replaced by these (the whole set after the call).
    SetExtensions { key: String, extensions: Extensions },
}

impl Section {
    pub(crate) fn apply(&mut self, change: Change) {
        match change {
            Change::Store { message } => self.c2c.push(message),
            Change::Recall { key } => {
                if let Some(m) = self.c2c.iter_mut().find(|m| m.key == key) {
                    m.recalled = true;
                }
            }
            Change::Read {
                reader,
                peer,
                until,
            } => {
                for m in &mut self.c2c {
                    if m.to == reader && m.from == peer && m.time <= until {
                        m.read = true;
                    }
                }
            }
            Change::Modify {
                key,
                body,
                cloud_custom_data,
            } => {
                if let Some(m) = self.c2c.iter_mut().find(|m| m.key == key) {
                    if let Some(b) = body {
                        m.body = b;
                    }
                    if cloud_custom_data.is_some() {
                        m.cloud_custom_data = cloud_custom_data;
                    }
                }
            }
            Change::SetExtensions { key, extensions } => {
                self.extensions.insert(key, extensions);
            }
        }
    }

    /// The message between `a` and `b` (either direction) with this key.
    pub(crate) fn find(&self, a: &str, b: &str, key: &str) -> Option<&Message> {
        self.c2c
            .iter()
            .find(|m| m.key == key && ((m.from == a && m.to == b) || (m.from == b && m.to == a)))
    }
}
