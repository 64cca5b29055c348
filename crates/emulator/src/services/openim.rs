//! `v4/openim/*`: presence (`query_online_status`) and one-to-one messages: send (one
//! recipient or many), import, history, recall, read marks, unread counts, modification.

use tim_core::ErrorCode;
use tim_core::common::MsgElement;
use tim_core::openim::{
    BatchSendMsg, BatchSendMsgRequest, BatchSendMsgResponse, GetC2cUnreadMsgNum,
    GetC2cUnreadMsgNumRequest, GetC2cUnreadMsgNumResponse, GetRoamMsg, GetRoamMsgRequest,
    GetRoamMsgResponse, HistoryMessage, ImportMsg, ImportMsgRequest, ImportMsgResponse,
    ModifyC2cMsg, ModifyC2cMsgRequest, ModifyC2cMsgResponse, OnlineStatusFailure, PeerUnreadCount,
    PlatformOnlineState, QueryOnlineStatus, QueryOnlineStatusRequest, QueryOnlineStatusResponse,
    SendFailure, SendMsg, SendMsgRequest, SendMsgResponse, SetMsgRead, SetMsgReadRequest,
    SetMsgReadResponse, UnreadCountFailure, UserOnlineState, WithdrawMsg, WithdrawMsgRequest,
    WithdrawMsgResponse,
};

use super::{Cx, Registry};
use crate::events::EventKind;
use crate::reject::{Res, reject};
use crate::state::Change;
use crate::state::messages::{self, Message};

pub(super) fn register(r: &mut Registry) {
    r.add::<QueryOnlineStatus>(query_online_status);
    r.add::<SendMsg>(sendmsg).with_replay(repeated_sendmsg);
    r.add::<BatchSendMsg>(batchsendmsg);
    r.add::<ImportMsg>(importmsg);
    r.add::<GetRoamMsg>(getroammsg);
    r.add::<WithdrawMsg>(withdraw);
    r.add::<SetMsgRead>(set_read);
    r.add::<GetC2cUnreadMsgNum>(unread);
    r.add::<ModifyC2cMsg>(modify);
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

/// The sender of an admin call: `From_Account`, or the admin itself when absent. Admins need
/// not be imported; any other sender and the recipient must exist (20003 / 90012 otherwise).
fn sender<'a>(cx: &'a Cx<'_>, from: Option<&'a String>) -> Res<&'a str> {
    match from {
        None => Ok(cx.identifier),
        Some(f) if cx.config.admins.contains(f) || cx.state.exists(f) => Ok(f),
        Some(f) => Err(reject(
            ErrorCode::SenderOrRecipientInvalid,
            format!("From_Account {f:?} was never imported"),
        )),
    }
}

fn recipient(cx: &Cx<'_>, to: &str) -> Res<()> {
    if cx.state.exists(to) {
        Ok(())
    } else {
        Err(reject(
            ErrorCode::ToAccountNotFound,
            format!("To_Account {to:?} was never imported"),
        ))
    }
}

/// A MsgSeq for a message sent without one: a number drawn from the message itself, so that
/// a state replayed from the log forms the same keys (the page: "the backend will enter a
/// random number").
fn drawn_seq(from: &str, to: &str, random: u32, time: i64) -> u32 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in from
        .bytes()
        .chain([0])
        .chain(to.bytes())
        .chain(random.to_le_bytes())
        .chain(time.to_le_bytes())
    {
        h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
    }
    (h >> 32) as u32 | 1
}

fn msg_key(seq: u32, random: u32, time: i64) -> String {
    format!("{seq}_{random}_{time}")
}

/// A repeat of a message within the same second (same sender, recipient, MsgRandom and MsgSeq
/// when given): the page deduplicates on MsgRandom within a second.
fn same_second_repeat<'a>(
    cx: &'a Cx<'_>,
    from: &str,
    to: &str,
    random: u32,
    seq: Option<u32>,
) -> Option<&'a Message> {
    let now = (cx.now_ms / 1000) as i64;
    cx.state
        .messages
        .c2c
        .iter()
        .rev()
        .take_while(|m| m.time >= now)
        .find(|m| {
            m.from == from
                && m.to == to
                && m.random == random
                && seq.is_none_or(|s| s == m.seq)
                && m.time == now
        })
}

fn new_message(cx: &Cx<'_>, from: &str, to: &str, req: NewMsg) -> Message {
    let time = (cx.now_ms / 1000) as i64;
    let seq = req
        .seq
        .unwrap_or_else(|| drawn_seq(from, to, req.random, time));
    Message {
        from: from.to_owned(),
        to: to.to_owned(),
        seq,
        random: req.random,
        time,
        key: msg_key(seq, req.random, time),
        body: req.body,
        cloud_custom_data: req.cloud_custom_data,
        recalled: false,
        read: false,
        extensible: req.extensible,
        online_only: req.online_only,
    }
}

struct NewMsg {
    seq: Option<u32>,
    random: u32,
    body: Vec<MsgElement>,
    cloud_custom_data: Option<String>,
    extensible: bool,
    online_only: bool,
}

fn repeated_sendmsg(cx: &Cx<'_>, req: &SendMsgRequest) -> Option<SendMsgResponse> {
    let from = req.from_account.as_deref().unwrap_or(cx.identifier);
    let m = same_second_repeat(cx, from, &req.to_account, req.msg_random, req.msg_seq)?;
    let mut resp = SendMsgResponse::new();
    resp.msg_time = Some(m.time);
    resp.msg_key = Some(m.key.clone());
    Some(resp)
}

fn sendmsg(cx: &mut Cx<'_>, req: SendMsgRequest) -> Res<SendMsgResponse> {
    let from = sender(cx, req.from_account.as_ref())?.to_owned();
    recipient(cx, &req.to_account)?;
    // MsgLifeTime 0: delivered to online users only, never stored (no history, no unread).
    let online_only = req.msg_life_time == Some(0);
    let message = new_message(
        cx,
        &from,
        &req.to_account,
        NewMsg {
            seq: req.msg_seq,
            random: req.msg_random,
            body: req.msg_body,
            cloud_custom_data: req.cloud_custom_data,
            extensible: req.support_message_extension == Some(1),
            online_only,
        },
    );
    let mut resp = SendMsgResponse::new();
    resp.msg_time = Some(message.time);
    resp.msg_key = Some(message.key.clone());
    cx.emit(EventKind::MessageSent {
        from: from.clone(),
        to: message.to.clone(),
        msg_key: message.key.clone(),
    });
    cx.stage(Change::Messages(messages::Change::Store { message }));
    Ok(resp)
}

fn batchsendmsg(cx: &mut Cx<'_>, req: BatchSendMsgRequest) -> Res<BatchSendMsgResponse> {
    let from = sender(cx, req.from_account.as_ref())?.to_owned();
    let online_only = req.msg_life_time == Some(0);
    let mut resp = BatchSendMsgResponse::new();
    let mut key = None;
    let mut sent: Vec<String> = Vec::new();
    for to in &req.to_account {
        if let Some((code, _)) = cx.item_failure(to) {
            resp.error_list.push(SendFailure::new(to.clone(), code));
            continue;
        }
        if !cx.state.exists(to) {
            resp.error_list.push(SendFailure::new(
                to.clone(),
                ErrorCode::AccountNotFound.code(),
            ));
            continue;
        }
        if sent.contains(to) {
            continue;
        }
        let message = new_message(
            cx,
            &from,
            to,
            NewMsg {
                seq: req.msg_seq,
                random: req.msg_random,
                body: req.msg_body.clone(),
                cloud_custom_data: req.cloud_custom_data.clone(),
                extensible: false,
                online_only,
            },
        );
        key.get_or_insert_with(|| message.key.clone());
        cx.emit(EventKind::MessageSent {
            from: from.clone(),
            to: to.clone(),
            msg_key: message.key.clone(),
        });
        cx.stage(Change::Messages(messages::Change::Store { message }));
        sent.push(to.clone());
    }
    if sent.is_empty() {
        return Err(reject(
            ErrorCode::ToAccountNotFound,
            "invalid To_Account (none of the recipients exists)",
        ));
    }
    resp.msg_key = key;
    if !resp.error_list.is_empty() {
        cx.partial();
    }
    Ok(resp)
}

fn importmsg(cx: &mut Cx<'_>, req: ImportMsgRequest) -> Res<ImportMsgResponse> {
    for account in [&req.from_account, &req.to_account] {
        if !cx.state.exists(account) {
            return Err(reject(
                ErrorCode::ToAccountNotFound,
                format!("{account:?} was never imported"),
            ));
        }
    }
    let seq = req.msg_seq.unwrap_or_else(|| {
        drawn_seq(
            &req.from_account,
            &req.to_account,
            req.msg_random,
            req.msg_time_stamp,
        )
    });
    // The page: two imports with the same MsgSeq, MsgRandom and MsgTimeStamp between the same
    // two accounts (either direction) are one message; a later import changes nothing.
    let key = msg_key(seq, req.msg_random, req.msg_time_stamp);
    if cx
        .state
        .messages
        .find(&req.from_account, &req.to_account, &key)
        .is_some()
    {
        return Ok(ImportMsgResponse::new());
    }
    let message = Message {
        from: req.from_account,
        to: req.to_account,
        seq,
        random: req.msg_random,
        time: req.msg_time_stamp,
        key,
        body: req.msg_body,
        cloud_custom_data: req.cloud_custom_data,
        recalled: false,
        // Imported history counts as read (chosen: the page says imports do not raise unread
        // counts when SyncFromOldSystem is 1).
        read: req.sync_from_old_system == 1,
        extensible: false,
        online_only: false,
    };
    cx.stage(Change::Messages(messages::Change::Store { message }));
    Ok(ImportMsgResponse::new())
}

/// Flag bits of a history message: 1 when it was recalled (chosen: the page says recalled
/// messages are marked by MsgFlagBits without giving the value).
const RECALLED_FLAG: u32 = 1;

fn history_message(m: &Message) -> HistoryMessage {
    let mut h = HistoryMessage::new(&m.from, &m.to, m.seq, m.random, m.time, &m.key);
    h.msg_flag_bits = Some(if m.recalled { RECALLED_FLAG } else { 0 });
    h.is_peer_read = Some(u32::from(m.read));
    h.msg_body = m
        .body
        .iter()
        .filter_map(|e| serde_json::to_value(e).ok())
        .collect();
    h.cloud_custom_data = m.cloud_custom_data.clone();
    h
}

fn getroammsg(cx: &mut Cx<'_>, req: GetRoamMsgRequest) -> Res<GetRoamMsgResponse> {
    for account in [&req.operator_account, &req.peer_account] {
        if !cx.state.exists(account) {
            return Err(reject(
                ErrorCode::FromAccountInvalid,
                format!("{account:?} was never imported"),
            ));
        }
    }
    let (a, b) = (&req.operator_account, &req.peer_account);
    // The conversation in time order (same second: MsgSeq, then arrival), within the range.
    let mut all: Vec<&Message> = cx
        .state
        .messages
        .c2c
        .iter()
        .filter(|m| !m.online_only)
        .filter(|m| (&m.from == a && &m.to == b) || (&m.from == b && &m.to == a))
        .filter(|m| m.time >= req.min_time && m.time <= req.max_time)
        .collect();
    all.sort_by_key(|m| (m.time, m.seq));
    // A continuation names the oldest message of the previous page: only older ones remain.
    if let Some(last) = &req.last_msg_key {
        if let Some(i) = all.iter().position(|m| &m.key == last) {
            all.truncate(i);
        }
    }
    // The newest MaxCnt messages, oldest first, as the page's samples show.
    let take = (req.max_cnt as usize).max(1).min(all.len());
    let page = all.split_off(all.len() - take);
    let mut resp = GetRoamMsgResponse::new(u32::from(all.is_empty()));
    resp.msg_cnt = Some(u32::try_from(page.len()).unwrap_or(u32::MAX));
    if let Some(first) = page.first() {
        resp.last_msg_time = Some(first.time);
        resp.last_msg_key = Some(first.key.clone());
    }
    resp.msg_list = page.into_iter().map(history_message).collect();
    Ok(resp)
}

fn withdraw(cx: &mut Cx<'_>, req: WithdrawMsgRequest) -> Res<WithdrawMsgResponse> {
    let m = cx
        .state
        .messages
        .c2c
        .iter()
        .find(|m| m.key == req.msg_key && m.from == req.from_account && m.to == req.to_account)
        .ok_or_else(|| {
            reject(
                ErrorCode::RecallMsgNotFound,
                format!(
                    "no message {:?} from {:?} to {:?}",
                    req.msg_key, req.from_account, req.to_account
                ),
            )
        })?;
    if m.recalled {
        return Err(reject(
            ErrorCode::MsgAlreadyRecalled,
            "the message was already recalled",
        ));
    }
    cx.emit(EventKind::MessageRecalled {
        msg_key: req.msg_key.clone(),
    });
    cx.stage(Change::Messages(messages::Change::Recall {
        key: req.msg_key,
    }));
    Ok(WithdrawMsgResponse::new())
}

fn set_read(cx: &mut Cx<'_>, req: SetMsgReadRequest) -> Res<SetMsgReadResponse> {
    for account in [&req.report_account, &req.peer_account] {
        if !cx.state.exists(account) {
            return Err(reject(
                ErrorCode::FromAccountInvalid,
                format!("{account:?} was never imported"),
            ));
        }
    }
    let until = match &req.msg_read_time {
        None => (cx.now_ms / 1000) as i64,
        Some(t) => t.trim().parse::<i64>().map_err(|_| {
            reject(
                ErrorCode::JsonParseFailed,
                format!("MsgReadTime must be Unix seconds, got {t:?}"),
            )
        })?,
    };
    cx.stage(Change::Messages(messages::Change::Read {
        reader: req.report_account,
        peer: req.peer_account,
        until,
    }));
    Ok(SetMsgReadResponse::new())
}

fn unread(cx: &mut Cx<'_>, req: GetC2cUnreadMsgNumRequest) -> Res<GetC2cUnreadMsgNumResponse> {
    if !cx.state.exists(&req.to_account) {
        return Err(reject(
            ErrorCode::FromAccountInvalid,
            format!("{:?} was never imported", req.to_account),
        ));
    }
    let count = |peer: Option<&str>| -> u32 {
        let n = cx
            .state
            .messages
            .c2c
            .iter()
            .filter(|m| {
                m.to == req.to_account
                    && !m.read
                    && !m.online_only
                    && peer.is_none_or(|p| m.from == p)
            })
            .count();
        u32::try_from(n).unwrap_or(u32::MAX)
    };
    let mut resp = GetC2cUnreadMsgNumResponse::new();
    match &req.peer_account {
        None => resp.all_c2c_unread_msg_num = Some(count(None)),
        Some(peers) => {
            for p in peers {
                if cx.state.exists(p) {
                    resp.c2c_unread_msg_num_list
                        .push(PeerUnreadCount::new(p.clone(), count(Some(p))));
                } else {
                    resp.error_list.push(UnreadCountFailure::new(
                        p.clone(),
                        ErrorCode::AccountNotFound.code(),
                    ));
                }
            }
        }
    }
    Ok(resp)
}

fn modify(cx: &mut Cx<'_>, req: ModifyC2cMsgRequest) -> Res<ModifyC2cMsgResponse> {
    let found = cx
        .state
        .messages
        .c2c
        .iter()
        .any(|m| m.key == req.msg_key && m.from == req.from_account && m.to == req.to_account);
    if !found {
        return Err(reject(
            ErrorCode::MsgRequestInvalid,
            format!(
                "no message {:?} from {:?} to {:?}",
                req.msg_key, req.from_account, req.to_account
            ),
        ));
    }
    cx.stage(Change::Messages(messages::Change::Modify {
        key: req.msg_key,
        body: req.msg_body,
        cloud_custom_data: req.cloud_custom_data,
    }));
    Ok(ModifyC2cMsgResponse::new())
}
