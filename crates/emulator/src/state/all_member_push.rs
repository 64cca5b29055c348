//! The push-to-all family's data: attribute slot names, each account's tags and attributes,
//! and the pushes made.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use tim_core::all_member_push::PushRequest;

/// At most this many tags per account.
pub(crate) const MAX_TAGS_PER_ACCOUNT: usize = 100;

/// The section.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub(crate) struct Section {
    /// Second part of every TaskId, drawn once when the state is created.
    pub(crate) node: u64,
    /// Last part of the next TaskId.
    pub(crate) next_task_seq: u64,
    /// Attribute slot ("0".."9" as 0..9) to name.
    pub(crate) attr_names: BTreeMap<u8, String>,
    /// Tags and attributes per account.
    pub(crate) users: BTreeMap<String, User>,
    /// Pushes, oldest first.
    pub(crate) pushes: Vec<PushRecord>,
}

/// One account's tags and attributes.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct User {
    /// Tags, a set kept in the order they were added.
    pub(crate) tags: Vec<String>,
    /// Attribute values by slot.
    pub(crate) attrs: BTreeMap<u8, String>,
}

/// One push the emulator accepted, with the exact accounts it reached.
///
/// It serializes with the request under its wire names:
/// `{"task_id": ..., "at_unix_ms": ..., "identifier": ..., "request": {"MsgRandom": ...}, "recipients": [...]}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct PushRecord {
    /// The `TaskId` answered: `<sdkappid>_<node>_<unix seconds>_<sequence>`.
    pub task_id: String,
    /// When the push was accepted, by the emulator's clock (Unix milliseconds).
    pub at_unix_ms: u64,
    /// The admin account that made the call.
    pub identifier: String,
    /// The request as received (message, condition, offline push options, ...).
    pub request: PushRequest,
    /// Every account the push reached, sorted.
    pub recipients: Vec<String>,
}

/// A change to the section.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Change {
    /// Slot names set (other slots unchanged).
    SetAttrNames { names: BTreeMap<u8, String> },
    /// Attribute values set, per account, by slot.
    SetAttrs {
        users: Vec<(String, BTreeMap<u8, String>)>,
    },
    /// Attribute values removed, per account, by slot.
    RemoveAttrs { users: Vec<(String, Vec<u8>)> },
    /// Tags added, per account.
    AddTags { users: Vec<(String, Vec<String>)> },
    /// Tags removed, per account.
    RemoveTags { users: Vec<(String, Vec<String>)> },
    /// Every tag removed from these accounts.
    RemoveAllTags { accounts: Vec<String> },
    /// A push made.
    Push { record: PushRecord },
}

impl Section {
    /// Applies a change. Tags and attributes may be given to any account; only accounts that
    /// exist receive pushes.
    pub(crate) fn apply(&mut self, change: Change) {
        match change {
            Change::SetAttrNames { names } => self.attr_names.extend(names),
            Change::SetAttrs { users } => {
                for (a, attrs) in users {
                    self.users.entry(a).or_default().attrs.extend(attrs);
                }
            }
            Change::RemoveAttrs { users } => {
                for (a, slots) in users {
                    let user = self.users.entry(a).or_default();
                    for s in slots {
                        user.attrs.remove(&s);
                    }
                }
            }
            Change::AddTags { users } => {
                for (a, tags) in users {
                    let user = self.users.entry(a).or_default();
                    for t in tags {
                        if !user.tags.contains(&t) {
                            user.tags.push(t);
                        }
                    }
                }
            }
            Change::RemoveTags { users } => {
                for (a, tags) in users {
                    let user = self.users.entry(a).or_default();
                    user.tags.retain(|t| !tags.contains(t));
                }
            }
            Change::RemoveAllTags { accounts } => {
                for a in accounts {
                    self.users.entry(a).or_default().tags.clear();
                }
            }
            Change::Push { record } => {
                self.next_task_seq = self.next_task_seq.max(task_seq(&record.task_id) + 1);
                self.pushes.push(record);
            }
        }
    }

    /// Forgets a deleted account's tags and attributes (pushes keep their recipients).
    pub(crate) fn forget(&mut self, account: &str) {
        self.users.remove(account);
    }

    /// The slot holding attribute `name`, if one is named so.
    pub(crate) fn slot_of(&self, name: &str) -> Option<u8> {
        self.attr_names
            .iter()
            .find(|(_, n)| n.as_str() == name)
            .map(|(s, _)| *s)
    }

    /// An account's attributes by name.
    pub(crate) fn named_attrs(&self, user: &User) -> BTreeMap<String, String> {
        user.attrs
            .iter()
            .filter_map(|(slot, v)| Some((self.attr_names.get(slot)?.clone(), v.clone())))
            .collect()
    }

    pub(crate) fn snapshot(&self) -> AllMemberPushSnapshot {
        AllMemberPushSnapshot {
            attr_names: self
                .attr_names
                .iter()
                .map(|(s, n)| (s.to_string(), n.clone()))
                .collect(),
            users: self
                .users
                .iter()
                .map(|(id, u)| {
                    (
                        id.clone(),
                        AccountSnapshot {
                            tags: u.tags.clone(),
                            attrs: self.named_attrs(u),
                        },
                    )
                })
                .collect(),
            push_count: self.pushes.len(),
        }
    }
}

/// The last `_`-separated part of a TaskId.
fn task_seq(task_id: &str) -> u64 {
    task_id
        .rsplit('_')
        .next()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0)
}

/// The push family's section of a [`StateSnapshot`](crate::StateSnapshot).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct AllMemberPushSnapshot {
    /// Attribute slot (`"0"`..`"9"`) to name, as set with `im_set_attr_name`.
    pub attr_names: BTreeMap<String, String>,
    /// Every account that was given tags or attributes (even if it holds none now), with them.
    pub users: BTreeMap<String, AccountSnapshot>,
    /// How many pushes were made (see [`EmulatorHandle::pushes`](crate::EmulatorHandle::pushes)).
    pub push_count: usize,
}

/// One account's tags and attributes in an [`AllMemberPushSnapshot`].
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct AccountSnapshot {
    /// Tags, in the order they were added.
    pub tags: Vec<String>,
    /// Attribute name to value.
    pub attrs: BTreeMap<String, String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_are_a_set_in_insertion_order() {
        let mut s = Section::default();
        s.apply(Change::AddTags {
            users: vec![("u".into(), vec!["b".into(), "a".into(), "b".into()])],
        });
        s.apply(Change::AddTags {
            users: vec![("u".into(), vec!["a".into(), "c".into()])],
        });
        assert_eq!(s.users["u"].tags, ["b", "a", "c"]);
        s.apply(Change::RemoveTags {
            users: vec![("u".into(), vec!["a".into(), "zz".into()])],
        });
        assert_eq!(s.users["u"].tags, ["b", "c"]);
        s.apply(Change::RemoveAllTags {
            accounts: vec!["u".into()],
        });
        assert!(s.users["u"].tags.is_empty());
    }

    #[test]
    fn attrs_follow_slot_renames() {
        let mut s = Section::default();
        s.apply(Change::SetAttrNames {
            names: BTreeMap::from([(0, "sex".into())]),
        });
        s.apply(Change::SetAttrs {
            users: vec![("u".into(), BTreeMap::from([(0, "M".into())]))],
        });
        s.apply(Change::SetAttrNames {
            names: BTreeMap::from([(0, "gender".into())]),
        });
        let snap = s.snapshot();
        assert_eq!(snap.users["u"].attrs["gender"], "M");
        assert_eq!(s.slot_of("gender"), Some(0));
        assert_eq!(s.slot_of("sex"), None);
    }

    #[test]
    fn task_sequence_is_the_last_part() {
        assert_eq!(task_seq("1400000000_7_1700000000_42"), 42);
        assert_eq!(task_seq("garbage"), 0);
    }
}
