//! Presence: which platforms each account is logged in on, and how (set through the admin
//! path, since logins come from client SDKs; `kick` ends them).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// The section.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub(crate) struct Section {
    /// Account → platform (`iPhone`, `Android`, `Web`, ...) → `Online` or `PushOnline`.
    pub(crate) logins: BTreeMap<String, BTreeMap<String, String>>,
}

/// A change to the section.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Change {
    /// One platform's state set; `Offline` removes it.
    SetLogin {
        account: String,
        platform: String,
        status: String,
    },
    /// Every login of the account ended.
    Kick { account: String },
}

impl Section {
    pub(crate) fn apply(&mut self, change: Change) {
        match change {
            Change::SetLogin {
                account,
                platform,
                status,
            } => {
                let logins = self.logins.entry(account.clone()).or_default();
                if status == "Offline" {
                    logins.remove(&platform);
                } else {
                    logins.insert(platform, status);
                }
                if logins.is_empty() {
                    self.logins.remove(&account);
                }
            }
            Change::Kick { account } => {
                self.logins.remove(&account);
            }
        }
    }

    /// Forgets a deleted account.
    pub(crate) fn forget(&mut self, account: &str) {
        self.logins.remove(account);
    }

    /// The account's overall state: `Online` when a platform is online, else `PushOnline`
    /// when one receives pushes, else `Offline`.
    pub(crate) fn state_of(&self, account: &str) -> &'static str {
        let Some(logins) = self.logins.get(account) else {
            return "Offline";
        };
        if logins.values().any(|s| s == "Online") {
            "Online"
        } else if logins.values().any(|s| s == "PushOnline") {
            "PushOnline"
        } else {
            "Offline"
        }
    }
}
