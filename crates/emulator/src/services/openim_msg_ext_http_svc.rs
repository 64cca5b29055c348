//! `v4/openim_msg_ext_http_svc/*` (one-to-one part): key/value extensions of a message sent
//! with `SupportMessageExtension: 1`. Every call that changes them moves the message's Seq on by
//! one; REST calls are the admin's, whose Seq the service does not check (the set page).

use tim_core::ErrorCode;
use tim_core::openim_msg_ext_http_svc::{
    GetKeyValues, GetKeyValuesRequest, GetKeyValuesResponse, MsgExtension, SetExtensionResult,
    SetKeyValues, SetKeyValuesRequest, SetKeyValuesResponse,
};

use super::{Cx, Registry};
use crate::reject::{Res, reject};
use crate::state::Change;
use crate::state::messages::{self, Extensions, Message};

pub(super) fn register(r: &mut Registry) {
    r.add::<GetKeyValues>(get_key_values);
    r.add::<SetKeyValues>(set_key_values);
}

/// The message the call names: `From_Account` (the admin when absent) and `To_Account`, either
/// direction, and its MsgKey.
fn message<'a>(cx: &'a Cx<'_>, from: Option<&'a str>, to: &str, key: &str) -> Res<&'a Message> {
    let from = from.unwrap_or(cx.identifier);
    cx.state.messages.find(from, to, key).ok_or_else(|| {
        reject(
            ErrorCode::ExtensionMsgNotFound,
            format!("no message {key:?} between {from:?} and {to:?}"),
        )
    })
}

/// A message's extensions (none yet: empty, Seq 0).
fn extensions_of(cx: &Cx<'_>, key: &str) -> Extensions {
    cx.state
        .messages
        .extensions
        .get(key)
        .cloned()
        .unwrap_or_default()
}

fn get_key_values(cx: &mut Cx<'_>, req: GetKeyValuesRequest) -> Res<GetKeyValuesResponse> {
    let m = message(
        cx,
        req.from_account.as_deref(),
        &req.to_account,
        &req.msg_key,
    )?;
    let ext = extensions_of(cx, &m.key);
    let start = req.start_seq.unwrap_or(0);
    let mut list: Vec<(&String, &(String, u64))> = ext
        .values
        .iter()
        .filter(|(_, (_, seq))| *seq >= start)
        .collect();
    list.sort_by_key(|(k, (_, seq))| (*seq, (*k).clone()));
    let mut resp = GetKeyValuesResponse::new();
    resp.extension_list = list
        .into_iter()
        .map(|(k, (v, seq))| {
            let mut e = MsgExtension::new(k.clone(), v.clone());
            e.seq = Some(*seq);
            e
        })
        .collect();
    resp.complete_flag = Some(1);
    resp.latest_seq = Some(ext.latest_seq);
    resp.clear_seq = Some(ext.clear_seq);
    Ok(resp)
}

fn set_key_values(cx: &mut Cx<'_>, req: SetKeyValuesRequest) -> Res<SetKeyValuesResponse> {
    let m = message(
        cx,
        req.from_account.as_deref(),
        &req.to_account,
        &req.msg_key,
    )?;
    if !m.extensible {
        return Err(reject(
            ErrorCode::MsgExtensionNotSupported,
            "the message was not sent with SupportMessageExtension 1",
        ));
    }
    let key = m.key.clone();
    let mut ext = extensions_of(cx, &key);
    let seq = ext.latest_seq + 1;
    let mut resp = SetKeyValuesResponse::new();
    let items = req.extension_list.unwrap_or_default();
    match req.operate_type {
        1 => {
            for item in items {
                ext.values
                    .insert(item.key.clone(), (item.value.clone(), seq));
                let mut e = MsgExtension::new(item.key, item.value);
                e.seq = Some(seq);
                resp.extension_list.push(SetExtensionResult::new(0, e));
            }
        }
        2 => {
            for item in items {
                ext.values.remove(&item.key);
            }
        }
        3 => {
            ext.values.clear();
            ext.clear_seq = seq;
        }
        other => {
            return Err(reject(
                ErrorCode::RequestParameterInvalid,
                format!("OperateType must be 1 (set), 2 (delete) or 3 (clear), not {other}"),
            ));
        }
    }
    ext.latest_seq = seq;
    cx.stage(Change::Messages(messages::Change::SetExtensions {
        key,
        extensions: ext,
    }));
    Ok(resp)
}
