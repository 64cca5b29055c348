//! The emulated app's data, one section per service on top of the accounts registry that every
//! service shares. Every change is a [`Change`] value applied by one deterministic function, so
//! that the write-ahead log ([`store`]) replays exactly what was acknowledged.
//!
//! Adding a service's data: a section struct (with `#[serde(default)]`, so that older state
//! files still load), a variant of [`Change`] holding that service's change type, and its
//! snapshot for inspection.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

pub(crate) mod all_member_push;
pub(crate) mod messages;
pub(crate) mod presence;
pub(crate) mod profile;
pub(crate) mod store;

pub use all_member_push::{AccountSnapshot, AllMemberPushSnapshot, PushRecord};

/// Version of the state file's layout, written in every snapshot line.
pub(crate) const FORMAT: u32 = 2;

/// The whole persistent state.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub(crate) struct State {
    /// Every account that exists (imported or created by a call that creates accounts).
    #[serde(default)]
    pub(crate) accounts: BTreeMap<String, Account>,
    /// `all_member_push`: tags, attributes, pushes.
    #[serde(default)]
    pub(crate) all_member_push: all_member_push::Section,
    /// Profile fields (`profile`, and the nick and photo of `account_import`).
    #[serde(default)]
    pub(crate) profile: profile::Section,
    /// Logins per platform (`openim` presence, `kick`).
    #[serde(default)]
    pub(crate) presence: presence::Section,
    /// One-to-one messages (`openim`) and their extensions.
    #[serde(default)]
    pub(crate) messages: messages::Section,
    /// When each endpoint with a daily quota or a minimum spacing accepted its calls today
    /// (Unix ms), by `service/command`: the front layer's limits survive restarts.
    #[serde(default)]
    pub(crate) accepted: BTreeMap<String, Vec<u64>>,
}

/// One account of the registry.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub(crate) struct Account {}

/// A change to the state, as logged before it is applied.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Change {
    /// Accounts created (existing ones are left as they are).
    ImportAccounts { accounts: Vec<String> },
    /// Accounts deleted, with their data in every section.
    DeleteAccounts { accounts: Vec<String> },
    /// A change to the `all_member_push` section.
    AllMemberPush(all_member_push::Change),
    /// A change to the profiles.
    Profile(profile::Change),
    /// A change to the logins.
    Presence(presence::Change),
    /// A change to the messages.
    Messages(messages::Change),
    /// A call of an endpoint with a daily quota or a minimum spacing was accepted at `at`
    /// (Unix ms); entries of earlier days are dropped.
    Accepted { endpoint: String, at: u64 },
}

/// Beijing time (UTC+8), the day boundary of daily quotas.
const DAY_OFFSET_MS: u64 = 8 * 3600 * 1000;
const DAY_MS: u64 = 86_400 * 1000;

/// The calendar day (Beijing time) of a Unix millisecond.
pub(crate) fn quota_day(unix_ms: u64) -> u64 {
    (unix_ms + DAY_OFFSET_MS) / DAY_MS
}

impl State {
    /// Applies a change that was checked against this state. Never fails.
    pub(crate) fn apply(&mut self, change: Change) {
        match change {
            Change::ImportAccounts { accounts } => {
                for a in accounts {
                    self.accounts.entry(a).or_default();
                }
            }
            Change::DeleteAccounts { accounts } => {
                for a in accounts {
                    self.accounts.remove(&a);
                    self.all_member_push.forget(&a);
                    self.profile.forget(&a);
                    self.presence.forget(&a);
                    // Messages stay in the other party's history (chosen; the pages do not
                    // say).
                }
            }
            Change::AllMemberPush(c) => self.all_member_push.apply(c),
            Change::Profile(c) => self.profile.apply(c),
            Change::Presence(c) => self.presence.apply(c),
            Change::Messages(c) => self.messages.apply(c),
            Change::Accepted { endpoint, at } => {
                let times = self.accepted.entry(endpoint).or_default();
                let today = quota_day(at);
                times.retain(|t| quota_day(*t) == today);
                times.push(at);
            }
        }
    }

    /// Whether `account` exists.
    pub(crate) fn exists(&self, account: &str) -> bool {
        self.accounts.contains_key(account)
    }

    /// The read-only view handed to tests and served on `GET /__emulator/state`.
    pub(crate) fn snapshot(&self) -> StateSnapshot {
        StateSnapshot {
            accounts: self.accounts.keys().cloned().collect(),
            all_member_push: self.all_member_push.snapshot(),
            profiles: self.profile.profiles.clone(),
            logins: self.presence.logins.clone(),
            message_count: self.messages.c2c.len(),
        }
    }
}

/// A read-only copy of the emulated app's data, as served on `GET /__emulator/state` (each
/// section also on `GET /__emulator/state/<section>`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct StateSnapshot {
    /// Every account that exists, sorted.
    pub accounts: Vec<String>,
    /// The push-to-all family's data.
    pub all_member_push: AllMemberPushSnapshot,
    /// Profile fields per account (tag → value), as set with `portrait_set` or imported.
    pub profiles: BTreeMap<String, BTreeMap<String, serde_json::Value>>,
    /// Logins per account: platform → `Online` or `PushOnline`.
    pub logins: BTreeMap<String, BTreeMap<String, String>>,
    /// How many one-to-one messages are stored (see `GET /__emulator/messages`).
    pub message_count: usize,
}

impl StateSnapshot {
    /// The section named `name` as JSON (`accounts`, `all_member_push`), for the inspection
    /// paths.
    pub(crate) fn section(&self, name: &str) -> Option<serde_json::Value> {
        match name {
            "accounts" => serde_json::to_value(&self.accounts).ok(),
            "all_member_push" => serde_json::to_value(&self.all_member_push).ok(),
            "profiles" => serde_json::to_value(&self.profiles).ok(),
            "logins" => serde_json::to_value(&self.logins).ok(),
            _ => None,
        }
    }

    /// The names of the sections.
    pub(crate) const SECTIONS: &'static [&'static str] =
        &["accounts", "all_member_push", "profiles", "logins"];
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepted_keeps_only_today() {
        let mut s = State::default();
        let day = 1_704_124_799_999; // 23:59:59.999 in Beijing
        for at in [day - 10, day, day + 1, day + 2] {
            s.apply(Change::Accepted {
                endpoint: "all_member_push/im_push".into(),
                at,
            });
        }
        assert_eq!(s.accepted["all_member_push/im_push"], [day + 1, day + 2]);
    }

    #[test]
    fn quota_day_is_beijing_time() {
        // 2024-01-01T15:59:59.999Z is 23:59:59.999 in Beijing; one ms later is the next day.
        let before = 1_704_124_799_999;
        assert_eq!(quota_day(before) + 1, quota_day(before + 1));
    }

    #[test]
    fn changes_round_trip_through_json() {
        let c = Change::ImportAccounts {
            accounts: vec!["a".into()],
        };
        let text = serde_json::to_string(&c).unwrap();
        assert_eq!(text, r#"{"import_accounts":{"accounts":["a"]}}"#);
        assert_eq!(serde_json::from_str::<Change>(&text).unwrap(), c);
    }
}
