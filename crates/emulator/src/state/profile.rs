//! Profiles: each account's profile fields (standard and custom tags) and their values.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The section.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub(crate) struct Section {
    /// Account → tag → value.
    pub(crate) profiles: BTreeMap<String, BTreeMap<String, Value>>,
}

/// A change to the section.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Change {
    /// Fields set on one account (others unchanged).
    Set {
        account: String,
        items: Vec<(String, Value)>,
    },
}

impl Section {
    pub(crate) fn apply(&mut self, change: Change) {
        match change {
            Change::Set { account, items } => {
                self.profiles.entry(account).or_default().extend(items);
            }
        }
    }

    /// Forgets a deleted account.
    pub(crate) fn forget(&mut self, account: &str) {
        self.profiles.remove(account);
    }
}
