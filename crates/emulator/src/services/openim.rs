//! `v4/openim/*`: presence (`query_online_status`) for now; one-to-one messages join later.

use tim_core::ErrorCode;
use tim_core::openim::{
    OnlineStatusFailure, PlatformOnlineState, QueryOnlineStatus, QueryOnlineStatusRequest,
    QueryOnlineStatusResponse, UserOnlineState,
};

use super::{Cx, Registry};
use crate::reject::{Res, reject};

pub(super) fn register(r: &mut Registry) {
    r.add::<QueryOnlineStatus>(query_online_status);
}

fn query_online_status(
    cx: &mut Cx<'_>,
    req: QueryOnlineStatusRequest,
) -> Res<QueryOnlineStatusResponse> {
    let presence = &cx.state.presence;
    let detail = req.is_need_detail == Some(1);
    let mut resp = QueryOnlineStatusResponse::new();
    for account in req.to_account {
        if let Some((code, _)) = cx.item_failure(&account) {
            resp.error_list
                .push(OnlineStatusFailure::new(account, code));
            continue;
        }
        if !cx.state.exists(&account) {
            resp.error_list.push(OnlineStatusFailure::new(
                account,
                ErrorCode::AccountNotFound.code(),
            ));
            continue;
        }
        let mut state = UserOnlineState::new(account.clone(), presence.state_of(&account));
        if detail {
            state.detail = presence
                .logins
                .get(&account)
                .into_iter()
                .flatten()
                .map(|(platform, status)| PlatformOnlineState::new(platform, status))
                .collect();
        }
        resp.query_result.push(state);
    }
    if resp.query_result.is_empty() && !resp.error_list.is_empty() {
        // The page: ErrorCode is 0 when at least one account was read.
        return Err(reject(
            ErrorCode::AccountNotFound,
            "none of the accounts exists",
        ));
    }
    Ok(resp)
}
