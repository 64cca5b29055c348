//! `v4/im_open_login_svc/*`: the accounts registry every service shares. An account exists once
//! imported (or logged in through the admin path); deleting it removes it, and its data, from
//! every service.

use tim_core::ErrorCode;
use tim_core::im_open_login_svc::{
    AccountCheck, AccountCheckRequest, AccountCheckResponse, AccountCheckResult, AccountDelete,
    AccountDeleteRequest, AccountDeleteResponse, AccountDeleteResult, AccountImport,
    AccountImportRequest, AccountImportResponse, Kick, KickRequest, KickResponse,
    MultiAccountImport, MultiAccountImportRequest, MultiAccountImportResponse,
};
use tim_core::profile::ProfileTag;

use super::{Cx, Registry};
use crate::events::EventKind;
use crate::reject::{Res, reject};
use crate::state::{Change, presence, profile};

/// The `ResultInfo` the page's sample shows for an account that does not exist.
const NOT_EXIST: &str = "Err_TLS_PT_Open_Login_Account_Not_Exist";

pub(super) fn register(r: &mut Registry) {
    r.add::<AccountImport>(account_import);
    r.add::<MultiAccountImport>(multiaccount_import);
    r.add::<AccountDelete>(account_delete);
    r.add::<AccountCheck>(account_check);
    r.add::<Kick>(kick);
}

/// Creates the accounts of `ids` that do not exist yet (in order, once each).
fn create(cx: &mut Cx<'_>, ids: impl IntoIterator<Item = String>) {
    let mut new: Vec<String> = Vec::new();
    for id in ids {
        if !cx.state.exists(&id) && !new.contains(&id) {
            new.push(id);
        }
    }
    if new.is_empty() {
        return;
    }
    cx.emit(EventKind::AccountsCreated {
        accounts: new.clone(),
    });
    cx.stage(Change::ImportAccounts { accounts: new });
}

fn account_import(cx: &mut Cx<'_>, req: AccountImportRequest) -> Res<AccountImportResponse> {
    create(cx, [req.user_id.clone()]);
    set_nick_and_face(cx, &req.user_id, req.nick, req.face_url);
    Ok(AccountImportResponse::new())
}

/// The nickname and photo are the profile fields Tag_Profile_IM_Nick and _Image; importing an
/// existing account updates them (newer revisions of the pages).
fn set_nick_and_face(cx: &mut Cx<'_>, account: &str, nick: Option<String>, face: Option<String>) {
    let mut items = Vec::new();
    if let Some(nick) = nick {
        items.push((ProfileTag::Nick.wire().to_owned(), nick.into()));
    }
    if let Some(face) = face {
        items.push((ProfileTag::Image.wire().to_owned(), face.into()));
    }
    if !items.is_empty() {
        cx.stage(Change::Profile(profile::Change::Set {
            account: account.to_owned(),
            items,
        }));
    }
}

fn multiaccount_import(
    cx: &mut Cx<'_>,
    req: MultiAccountImportRequest,
) -> Res<MultiAccountImportResponse> {
    // Two forms: Accounts (UserIDs) or AccountList (UserID, Nick, FaceUrl; an account that
    // exists is updated). The front layer refused both at once; neither is refused here.
    let items: Vec<(String, Option<String>, Option<String>)> =
        match (req.accounts, req.account_list) {
            (Some(accounts), None) => accounts.into_iter().map(|a| (a, None, None)).collect(),
            (None, Some(list)) => list
                .into_iter()
                .map(|i| (i.user_id, i.nick, i.face_url))
                .collect(),
            _ => {
                return Err(reject(
                    ErrorCode::InvalidParameter,
                    "give Accounts or AccountList",
                ));
            }
        };
    // The pages do not say what makes one account fail; those a test set to fail
    // (`item-failures`) are reported in FailAccounts and not imported.
    let mut resp = MultiAccountImportResponse::new();
    let mut ok = Vec::new();
    for (account, nick, face) in items {
        if cx.item_failure(&account).is_some() {
            if !resp.fail_accounts.contains(&account) {
                resp.fail_accounts.push(account);
            }
            continue;
        }
        set_nick_and_face(cx, &account, nick, face);
        ok.push(account);
    }
    create(cx, ok);
    Ok(resp)
}

fn account_delete(cx: &mut Cx<'_>, req: AccountDeleteRequest) -> Res<AccountDeleteResponse> {
    let mut deleted: Vec<String> = Vec::new();
    let mut resp = AccountDeleteResponse::new();
    for item in req.delete_item {
        let id = item.user_id;
        if let Some((code, info)) = cx.item_failure(&id) {
            let mut r = AccountDeleteResult::new(id, code);
            r.result_info = Some(info.to_owned());
            resp.result_item.push(r);
        } else if cx.state.exists(&id) && !deleted.contains(&id) {
            let mut r = AccountDeleteResult::new(id.clone(), 0);
            r.result_info = Some(String::new());
            resp.result_item.push(r);
            deleted.push(id);
        } else {
            let mut r = AccountDeleteResult::new(id, ErrorCode::AccountNotFound.code());
            r.result_info = Some(NOT_EXIST.to_owned());
            resp.result_item.push(r);
        }
    }
    if !deleted.is_empty() {
        cx.emit(EventKind::AccountsDeleted {
            accounts: deleted.clone(),
        });
        cx.stage(Change::DeleteAccounts { accounts: deleted });
    }
    Ok(resp)
}

fn account_check(cx: &mut Cx<'_>, req: AccountCheckRequest) -> Res<AccountCheckResponse> {
    let mut resp = AccountCheckResponse::new();
    resp.result_item = req
        .check_item
        .into_iter()
        .map(|item| {
            if let Some((code, info)) = cx.item_failure(&item.user_id) {
                let mut r = AccountCheckResult::new(item.user_id, code);
                r.result_info = Some(info.to_owned());
                return r;
            }
            let status = if cx.state.exists(&item.user_id) {
                "Imported"
            } else {
                "NotImported"
            };
            let mut r = AccountCheckResult::new(item.user_id, 0);
            r.result_info = Some(String::new());
            r.account_status = Some(status.to_owned());
            r
        })
        .collect();
    Ok(resp)
}

fn kick(cx: &mut Cx<'_>, req: KickRequest) -> Res<KickResponse> {
    if !cx.state.exists(&req.user_id) {
        return Err(reject(
            ErrorCode::AccountNotFound,
            format!("account {:?} does not exist", req.user_id),
        ));
    }
    cx.emit(EventKind::Kicked {
        account: req.user_id.clone(),
    });
    cx.stage(Change::Presence(presence::Change::Kick {
        account: req.user_id,
    }));
    Ok(KickResponse::new())
}
