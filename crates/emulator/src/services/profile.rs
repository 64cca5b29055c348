//! `v4/profile/*`: profile fields per account. The front layer has checked every tag and value
//! against the spec's tag set (standard tags, custom form); what is left needs the state.

use tim_core::ErrorCode;
use tim_core::profile::{
    PortraitGet, PortraitGetRequest, PortraitGetResponse, PortraitSet, PortraitSetRequest,
    PortraitSetResponse, ProfileItem, UserProfileItem,
};

use super::{Cx, Registry};
use crate::events::EventKind;
use crate::reject::{Res, reject};
use crate::state::{Change, profile};

pub(super) fn register(r: &mut Registry) {
    r.add::<PortraitSet>(portrait_set);
    r.add::<PortraitGet>(portrait_get);
}

fn portrait_set(cx: &mut Cx<'_>, req: PortraitSetRequest) -> Res<PortraitSetResponse> {
    if !cx.state.exists(&req.from_account) {
        return Err(reject(
            ErrorCode::ProfileAccountNotFound,
            format!("From_Account {:?} does not exist", req.from_account),
        ));
    }
    let items: Vec<(String, serde_json::Value)> = req
        .profile_item
        .into_iter()
        .map(|i| (i.tag, i.value))
        .collect();
    cx.emit(EventKind::ProfileUpdated {
        account: req.from_account.clone(),
        tags: items.iter().map(|(t, _)| t.clone()).collect(),
    });
    cx.stage(Change::Profile(profile::Change::Set {
        account: req.from_account,
        items,
    }));
    Ok(PortraitSetResponse::new())
}

fn portrait_get(cx: &mut Cx<'_>, req: PortraitGetRequest) -> Res<PortraitGetResponse> {
    let mut resp = PortraitGetResponse::new();
    for account in req.to_account {
        if let Some((code, info)) = cx.item_failure(&account) {
            resp.fail_account.push(account.clone());
            let mut item = UserProfileItem::new(account, code);
            item.result_info = Some(info.to_owned());
            resp.user_profile_item.push(item);
            continue;
        }
        if !cx.state.exists(&account) {
            resp.fail_account.push(account.clone());
            let mut item = UserProfileItem::new(account, ErrorCode::ProfileAccountNotFound.code());
            item.result_info = Some("account not found".to_owned());
            resp.user_profile_item.push(item);
            continue;
        }
        let fields = cx.state.profile.profiles.get(&account);
        let mut item = UserProfileItem::new(account, 0);
        item.result_info = Some(String::new());
        // Fields never set are left out (the pages do not say what the service answers for
        // them).
        item.profile_item = req
            .tag_list
            .iter()
            .filter_map(|tag| {
                let value = fields?.get(tag)?;
                Some(ProfileItem::new(tag.clone(), value.clone()))
            })
            .collect();
        resp.user_profile_item.push(item);
    }
    if resp.fail_account.len() == resp.user_profile_item.len() && !resp.fail_account.is_empty() {
        return Err(reject(
            ErrorCode::ProfileAccountNotFound,
            "none of the accounts exists",
        ));
    }
    Ok(resp)
}
