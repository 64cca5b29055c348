//! `v4/all_member_push/*`: tags, attributes and pushes to all (or to a segment). The front layer
//! has already checked the body's shape and limits; what is left are the rules that need the
//! stored state (attribute names that exist, tags per account, the repeat of a `MsgRandom`).

use std::collections::{BTreeMap, HashMap};

use tim_core::ErrorCode;
use tim_core::all_member_push::{
    AddTag, AddTagRequest, AddTagResponse, GetAttr, GetAttrName, GetAttrNameRequest,
    GetAttrNameResponse, GetAttrRequest, GetAttrResponse, GetTag, GetTagRequest, GetTagResponse,
    Push, PushCondition, PushRequest, PushResponse, RemoveAllTags, RemoveAllTagsRequest,
    RemoveAllTagsResponse, RemoveAttr, RemoveAttrRequest, RemoveAttrResponse, RemoveTag,
    RemoveTagRequest, RemoveTagResponse, SetAttr, SetAttrName, SetAttrNameRequest,
    SetAttrNameResponse, SetAttrRequest, SetAttrResponse, UserAttrs, UserTags,
};
use tim_core::common::MsgElement;

use super::{Cx, Registry};
use crate::events::EventKind;
use crate::reject::{Res, reject};
use crate::state::Change::AllMemberPush as Stage;
use crate::state::all_member_push::{Change, MAX_TAGS_PER_ACCOUNT, PushRecord, Section, User};

pub(super) fn register(r: &mut Registry) {
    r.add::<Push>(push).with_replay(repeated_push);
    r.add::<SetAttrName>(set_attr_name);
    r.add::<GetAttrName>(get_attr_name);
    r.add::<GetAttr>(get_attr);
    r.add::<SetAttr>(set_attr);
    r.add::<RemoveAttr>(remove_attr);
    r.add::<GetTag>(get_tag);
    r.add::<AddTag>(add_tag);
    r.add::<RemoveTag>(remove_tag);
    r.add::<RemoveAllTags>(remove_all_tags);
}

fn section<'a>(cx: &Cx<'a>) -> &'a Section {
    &cx.state.all_member_push
}

fn slot_or_reject(s: &Section, name: &str, field: &str) -> Res<u8> {
    s.slot_of(name).ok_or_else(|| {
        reject(
            ErrorCode::AttributeInvalid,
            format!("{field}: attribute {name:?} is not configured (name a slot with im_set_attr_name first)"),
        )
    })
}

fn set_attr_name(cx: &mut Cx<'_>, req: SetAttrNameRequest) -> Res<SetAttrNameResponse> {
    let names: BTreeMap<u8, String> = req
        .attr_names
        .iter()
        .filter_map(|(k, v)| Some((k.parse().ok()?, v.clone())))
        .collect();
    let mut merged = section(cx).attr_names.clone();
    merged.extend(names.clone());
    let mut seen = HashMap::new();
    for (slot, name) in &merged {
        if let Some(other) = seen.insert(name.as_str(), *slot) {
            return Err(reject(
                ErrorCode::AttributeInvalid,
                format!("attribute name {name:?} would name both slot {other} and slot {slot}"),
            ));
        }
    }
    cx.stage(Stage(Change::SetAttrNames { names }));
    Ok(SetAttrNameResponse::new())
}

fn get_attr_name(cx: &mut Cx<'_>, _req: GetAttrNameRequest) -> Res<GetAttrNameResponse> {
    let mut resp = GetAttrNameResponse::new();
    resp.attr_names = section(cx)
        .attr_names
        .iter()
        .map(|(k, v)| (k.to_string(), v.clone()))
        .collect();
    Ok(resp)
}

fn get_attr(cx: &mut Cx<'_>, req: GetAttrRequest) -> Res<GetAttrResponse> {
    let s = section(cx);
    let mut resp = GetAttrResponse::new();
    resp.user_attrs = req
        .to_account
        .iter()
        .map(|a| {
            let mut u = UserAttrs::new(a.clone());
            if let Some(user) = s.users.get(a) {
                u.attrs = s.named_attrs(user);
            }
            u
        })
        .collect();
    Ok(resp)
}

fn set_attr(cx: &mut Cx<'_>, req: SetAttrRequest) -> Res<SetAttrResponse> {
    let s = section(cx);
    let mut users = Vec::with_capacity(req.user_attrs.len());
    for (i, entry) in req.user_attrs.iter().enumerate() {
        let mut attrs = BTreeMap::new();
        for (name, value) in &entry.attrs {
            let slot = slot_or_reject(s, name, &format!("UserAttrs[{i}].Attrs"))?;
            attrs.insert(slot, value.clone());
        }
        users.push((entry.to_account.clone(), attrs));
    }
    cx.stage(Stage(Change::SetAttrs { users }));
    Ok(SetAttrResponse::new())
}

fn remove_attr(cx: &mut Cx<'_>, req: RemoveAttrRequest) -> Res<RemoveAttrResponse> {
    let s = section(cx);
    let mut users = Vec::with_capacity(req.user_attrs.len());
    for (i, entry) in req.user_attrs.iter().enumerate() {
        let mut slots = Vec::with_capacity(entry.attrs.len());
        for name in &entry.attrs {
            slots.push(slot_or_reject(s, name, &format!("UserAttrs[{i}].Attrs"))?);
        }
        users.push((entry.to_account.clone(), slots));
    }
    cx.stage(Stage(Change::RemoveAttrs { users }));
    Ok(RemoveAttrResponse::new())
}

fn get_tag(cx: &mut Cx<'_>, req: GetTagRequest) -> Res<GetTagResponse> {
    let s = section(cx);
    let mut resp = GetTagResponse::new();
    resp.user_tags = req
        .to_account
        .iter()
        .map(|a| {
            let tags = s.users.get(a).map(|u| u.tags.clone());
            UserTags::new(a.clone(), tags.unwrap_or_default())
        })
        .collect();
    Ok(resp)
}

fn add_tag(cx: &mut Cx<'_>, req: AddTagRequest) -> Res<AddTagResponse> {
    let s = section(cx);
    // Checked as a whole before anything is staged: a request is all or nothing.
    let mut after: HashMap<&str, Vec<&str>> = HashMap::new();
    for entry in &req.user_tags {
        let tags = after.entry(entry.to_account.as_str()).or_insert_with(|| {
            s.users
                .get(&entry.to_account)
                .map(|u| u.tags.iter().map(String::as_str).collect())
                .unwrap_or_default()
        });
        for t in &entry.tags {
            if !tags.contains(&t.as_str()) {
                tags.push(t);
            }
        }
        if tags.len() > MAX_TAGS_PER_ACCOUNT {
            return Err(reject(
                ErrorCode::TooManyTags,
                format!(
                    "account {:?} would hold {} tags, at most {MAX_TAGS_PER_ACCOUNT} allowed; remove some first",
                    entry.to_account,
                    tags.len()
                ),
            ));
        }
    }
    let users = req
        .user_tags
        .into_iter()
        .map(|e| (e.to_account, e.tags))
        .collect();
    cx.stage(Stage(Change::AddTags { users }));
    Ok(AddTagResponse::new())
}

fn remove_tag(cx: &mut Cx<'_>, req: RemoveTagRequest) -> Res<RemoveTagResponse> {
    let users = req
        .user_tags
        .into_iter()
        .map(|e| (e.to_account, e.tags))
        .collect();
    cx.stage(Stage(Change::RemoveTags { users }));
    Ok(RemoveTagResponse::new())
}

fn remove_all_tags(cx: &mut Cx<'_>, req: RemoveAllTagsRequest) -> Res<RemoveAllTagsResponse> {
    cx.stage(Stage(Change::RemoveAllTags {
        accounts: req.to_account,
    }));
    Ok(RemoveAllTagsResponse::new())
}

/// The same `MsgRandom` within the dedup window names the same push task: the first TaskId,
/// nobody pushed twice, the spacing and the quota untouched.
fn repeated_push(cx: &Cx<'_>, req: &PushRequest) -> Option<PushResponse> {
    let window = u64::try_from(cx.config.push_dedup_window.as_millis()).unwrap_or(u64::MAX);
    if window == 0 {
        return None;
    }
    let first = section(cx)
        .pushes
        .iter()
        .rev()
        .take_while(|p| cx.now_ms.saturating_sub(p.at_unix_ms) < window)
        .find(|p| p.request.msg_random == req.msg_random)?;
    tracing::debug!(task_id = %first.task_id, "repeated MsgRandom: same push task");
    Some(PushResponse::new(first.task_id.clone()))
}

fn push(cx: &mut Cx<'_>, req: PushRequest) -> Res<PushResponse> {
    let custom = req
        .msg_body
        .iter()
        .filter(|e| matches!(e, MsgElement::Custom(_)))
        .count();
    if custom > 1 {
        return Err(reject(
            ErrorCode::MsgBodyInvalid,
            format!("MsgBody has {custom} TIMCustomElem elements, at most 1 allowed"),
        ));
    }
    let s = section(cx);
    let target = Target::resolve(s, req.condition.as_ref())?;
    let recipients: Vec<String> = cx
        .state
        .accounts
        .keys()
        .filter(|id| target.matches(s.users.get(*id)))
        .cloned()
        .collect();
    let task_id = format!(
        "{}_{}_{}_{}",
        cx.config.sdkappid,
        s.node,
        cx.now_ms / 1000,
        s.next_task_seq
    );
    cx.emit(EventKind::PushAccepted {
        task_id: task_id.clone(),
        recipients: recipients.len(),
    });
    let record = PushRecord {
        task_id: task_id.clone(),
        at_unix_ms: cx.now_ms,
        identifier: cx.identifier.to_owned(),
        request: req,
        recipients,
    };
    cx.stage(Stage(Change::Push { record }));
    Ok(PushResponse::new(task_id))
}

/// A push condition with attribute names turned into slots.
#[derive(Debug, Default)]
struct Target {
    tags_and: Vec<String>,
    tags_or: Vec<String>,
    attrs_and: Vec<(u8, String)>,
    attrs_or: Vec<(u8, String)>,
}

impl Target {
    fn resolve(s: &Section, cond: Option<&PushCondition>) -> Res<Self> {
        let Some(cond) = cond else {
            return Ok(Self::default());
        };
        let attrs = |m: Option<&BTreeMap<String, String>>, field: &str| -> Res<Vec<(u8, String)>> {
            m.into_iter()
                .flatten()
                .map(|(name, v)| Ok((slot_or_reject(s, name, field)?, v.clone())))
                .collect()
        };
        Ok(Self {
            tags_and: cond.tags_and.clone().unwrap_or_default(),
            tags_or: cond.tags_or.clone().unwrap_or_default(),
            attrs_and: attrs(cond.attrs_and.as_ref(), "Condition.AttrsAnd")?,
            attrs_or: attrs(cond.attrs_or.as_ref(), "Condition.AttrsOr")?,
        })
    }

    fn matches(&self, user: Option<&User>) -> bool {
        let none = User::default();
        let u = user.unwrap_or(&none);
        let has_attr = |(slot, v): &(u8, String)| u.attrs.get(slot) == Some(v);
        self.tags_and.iter().all(|t| u.tags.contains(t))
            && (self.tags_or.is_empty() || self.tags_or.iter().any(|t| u.tags.contains(t)))
            && self.attrs_and.iter().all(has_attr)
            && (self.attrs_or.is_empty() || self.attrs_or.iter().any(has_attr))
    }
}
