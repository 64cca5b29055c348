//! One-to-one messages: a store per conversation with MsgSeq, MsgRandom, MsgTime and MsgKey,
//! history pages, recall, read marks, unread counts, modification and import.

use std::time::Duration;

use serde_json::{Value, json};
use tim_emulator::{Emulator, EventKind};

use crate::support::{Api, code, manual_clock, text};

async fn api() -> (Api, std::sync::Arc<tim_emulator::ManualClock>) {
    let clock = manual_clock();
    let api = Api::start_with_clock(
        Emulator::builder()
            .with_rate_limits(false)
            .with_accounts(["ann", "bob", "cid"]),
        clock.clone(),
    )
    .await;
    (api, clock)
}

fn send(from: &str, to: &str, random: u32, words: &str) -> Value {
    json!({"From_Account": from, "To_Account": to, "MsgRandom": random, "MsgBody": text(words)})
}

async fn history(api: &Api, a: &str, b: &str, max: u32, last: Option<&str>) -> Value {
    let mut body = json!({"Operator_Account": a, "Peer_Account": b, "MaxCnt": max, "MinTime": 0, "MaxTime": 2_000_000_000i64});
    if let Some(k) = last {
        body["LastMsgKey"] = json!(k);
        body["MaxTime"] = json!(2_000_000_000i64);
    }
    api.ok("openim/admin_getroammsg", body).await
}

#[tokio::test]
async fn send_dedup_history_pages_and_keys() {
    let (api, clock) = api().await;
    let first = api.ok("openim/sendmsg", send("ann", "bob", 7, "one")).await;
    let key = first["MsgKey"].as_str().unwrap().to_owned();
    let time = first["MsgTime"].as_i64().unwrap();
    assert!(key.ends_with(&format!("_7_{time}")), "{key}");
    // The same MsgRandom within the second is the same message.
    let again = api.ok("openim/sendmsg", send("ann", "bob", 7, "one")).await;
    assert_eq!(again["MsgKey"], first["MsgKey"]);
    for (i, w) in ["two", "three", "four"].iter().enumerate() {
        clock.advance(Duration::from_secs(1));
        let from = if i % 2 == 0 { "bob" } else { "ann" };
        let to = if from == "ann" { "bob" } else { "ann" };
        api.ok("openim/sendmsg", send(from, to, 100 + i as u32, w))
            .await;
    }
    // Another conversation is not in this one's history.
    api.ok("openim/sendmsg", send("ann", "cid", 9, "elsewhere"))
        .await;
    assert_eq!(api.inspect("messages").await.as_array().unwrap().len(), 5);
    // Newest two first page, oldest first within the page; then the rest.
    let page = history(&api, "bob", "ann", 2, None).await;
    assert_eq!(page["Complete"], 0);
    let words = |v: &Value| -> Vec<String> {
        v["MsgList"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| {
                m["MsgBody"][0]["MsgContent"]["Text"]
                    .as_str()
                    .unwrap()
                    .to_owned()
            })
            .collect()
    };
    assert_eq!(words(&page), ["three", "four"]);
    let last = page["LastMsgKey"].as_str().unwrap().to_owned();
    let rest = history(&api, "bob", "ann", 2, Some(&last)).await;
    assert_eq!(words(&rest), ["one", "two"]);
    assert_eq!(rest["Complete"], 1);
    assert_eq!(rest["MsgList"][0]["MsgKey"], key);
    // Sender and recipient must exist.
    api.fails("openim/sendmsg", send("ghost", "bob", 1, "x"), 20003)
        .await;
    api.fails("openim/sendmsg", send("ann", "ghost", 1, "x"), 90012)
        .await;
    // MsgLifeTime 0: delivered online only, never stored.
    let mut online = send("ann", "bob", 55, "now or never");
    online["MsgLifeTime"] = json!(0);
    api.ok("openim/sendmsg", online).await;
    let all = history(&api, "ann", "bob", 100, None).await;
    assert_eq!(all["MsgCnt"], 4);
    let sent = api
        .emu()
        .events()
        .into_iter()
        .filter(|e| matches!(e.kind, EventKind::MessageSent { .. }))
        .count();
    assert_eq!(sent, 6, "every sent message is an event, repeats are not");
}

#[tokio::test]
async fn recall_read_unread_and_modify() {
    let (api, clock) = api().await;
    let mut keys = Vec::new();
    for i in 0..3 {
        clock.advance(Duration::from_secs(1));
        let v = api.ok("openim/sendmsg", send("ann", "bob", i, "hi")).await;
        keys.push(v["MsgKey"].as_str().unwrap().to_owned());
    }
    api.ok("openim/sendmsg", send("cid", "bob", 77, "yo")).await;
    let unread = api
        .ok(
            "openim/get_c2c_unread_msg_num",
            json!({"To_Account": "bob"}),
        )
        .await;
    assert_eq!(unread["AllC2CUnreadMsgNum"], 4);
    let per = api
        .ok(
            "openim/get_c2c_unread_msg_num",
            json!({"To_Account": "bob", "Peer_Account": ["ann", "cid", "ghost"]}),
        )
        .await;
    assert_eq!(
        per["C2CUnreadMsgNumList"],
        json!([{"Peer_Account": "ann", "C2CUnreadMsgNum": 3}, {"Peer_Account": "cid", "C2CUnreadMsgNum": 1}])
    );
    assert_eq!(per["ErrorList"][0]["Peer_Account"], "ghost");
    api.ok(
        "openim/admin_set_msg_read",
        json!({"Report_Account": "bob", "Peer_Account": "ann"}),
    )
    .await;
    let unread = api
        .ok(
            "openim/get_c2c_unread_msg_num",
            json!({"To_Account": "bob"}),
        )
        .await;
    assert_eq!(unread["AllC2CUnreadMsgNum"], 1);
    // Recall: once; a wrong key or direction is not found.
    let recall = json!({"From_Account": "ann", "To_Account": "bob", "MsgKey": keys[1]});
    api.ok("openim/admin_msgwithdraw", recall.clone()).await;
    api.fails("openim/admin_msgwithdraw", recall, 20023).await;
    api.fails(
        "openim/admin_msgwithdraw",
        json!({"From_Account": "bob", "To_Account": "ann", "MsgKey": keys[1]}),
        20022,
    )
    .await;
    let h = history(&api, "ann", "bob", 10, None).await;
    let flags: Vec<i64> = h["MsgList"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["MsgFlagBits"].as_i64().unwrap())
        .collect();
    assert_eq!(flags, [0, 1, 0]);
    assert_eq!(h["MsgList"][0]["IsPeerRead"], 1);
    // Modify: body and custom data.
    api.ok(
        "openim/modify_c2c_msg",
        json!({"From_Account": "ann", "To_Account": "bob", "MsgKey": keys[2], "MsgBody": text("edited"), "CloudCustomData": "x"}),
    )
    .await;
    let h = history(&api, "ann", "bob", 10, None).await;
    assert_eq!(
        h["MsgList"][2]["MsgBody"][0]["MsgContent"]["Text"],
        "edited"
    );
    assert_eq!(h["MsgList"][2]["CloudCustomData"], "x");
    api.fails(
        "openim/modify_c2c_msg",
        json!({"From_Account": "ann", "To_Account": "bob", "MsgKey": "1_2_3", "MsgBody": text("x")}),
        20001,
    )
    .await;
}

#[tokio::test]
async fn batch_send_reports_each_missing_recipient_and_import_deduplicates() {
    let (api, _clock) = api().await;
    let v = api
        .call(
            "openim/batchsendmsg",
            json!({"From_Account": "ann", "To_Account": ["bob", "ghost", "cid"], "MsgRandom": 5, "MsgBody": text("all")}),
        )
        .await;
    // A partial success, as the page's sample answers it.
    assert_eq!(
        (v["ActionStatus"].as_str(), code(&v)),
        (Some("SomeError"), 0)
    );
    assert_eq!(
        v["ErrorList"],
        json!([{"To_Account": "ghost", "ErrorCode": 70107}])
    );
    assert!(v["MsgKey"].is_string());
    assert_eq!(api.inspect("messages").await.as_array().unwrap().len(), 2);
    let v = api
        .call(
            "openim/batchsendmsg",
            json!({"To_Account": ["ghost"], "MsgRandom": 5, "MsgBody": text("none")}),
        )
        .await;
    assert_eq!(code(&v), 90012);
    let import = json!({"SyncFromOldSystem": 2, "From_Account": "ann", "To_Account": "bob",
        "MsgSeq": 10, "MsgRandom": 20, "MsgTimeStamp": 1_600_000_000, "MsgBody": text("old")});
    api.ok("openim/importmsg", import.clone()).await;
    let mut changed = import;
    changed["MsgBody"] = text("changed");
    api.ok("openim/importmsg", changed).await;
    let h = history(&api, "ann", "bob", 10, None).await;
    assert_eq!(h["MsgList"][0]["MsgKey"], "10_20_1600000000");
    assert_eq!(
        h["MsgList"][0]["MsgBody"][0]["MsgContent"]["Text"], "old",
        "the first import stays"
    );
    assert_eq!(h["MsgCnt"], 2);
}

#[tokio::test]
async fn message_extensions_move_their_seq_and_need_an_extensible_message() {
    let (api, _clock) = api().await;
    let mut body = send("ann", "bob", 1, "poll");
    body["SupportMessageExtension"] = json!(1);
    let key = api.ok("openim/sendmsg", body).await["MsgKey"]
        .as_str()
        .unwrap()
        .to_owned();
    let plain = api
        .ok("openim/sendmsg", send("ann", "bob", 2, "plain"))
        .await["MsgKey"]
        .as_str()
        .unwrap()
        .to_owned();
    let set = |key: &str, op: u32, pairs: Value| json!({"From_Account": "ann", "To_Account": "bob", "MsgKey": key, "OperateType": op, "ExtensionList": pairs});
    let get = |key: &str, start: u64| json!({"From_Account": "bob", "To_Account": "ann", "MsgKey": key, "StartSeq": start});
    let v = api
        .ok(
            "openim_msg_ext_http_svc/set_key_values",
            set(
                &key,
                1,
                json!([{"Key": "yes", "Value": "1"}, {"Key": "no", "Value": "0"}]),
            ),
        )
        .await;
    assert_eq!(v["ExtensionList"][0]["Extension"]["Seq"], 1);
    api.ok(
        "openim_msg_ext_http_svc/set_key_values",
        set(&key, 1, json!([{"Key": "yes", "Value": "2"}])),
    )
    .await;
    let v = api
        .ok("openim_msg_ext_http_svc/get_key_values", get(&key, 0))
        .await;
    assert_eq!(
        v["ExtensionList"],
        json!([{"Key": "no", "Value": "0", "Seq": 1}, {"Key": "yes", "Value": "2", "Seq": 2}])
    );
    assert_eq!(
        (v["LatestSeq"].as_u64(), v["ClearSeq"].as_u64()),
        (Some(2), Some(0))
    );
    let v = api
        .ok("openim_msg_ext_http_svc/get_key_values", get(&key, 2))
        .await;
    assert_eq!(v["ExtensionList"].as_array().unwrap().len(), 1);
    api.ok(
        "openim_msg_ext_http_svc/set_key_values",
        set(&key, 2, json!([{"Key": "no", "Value": ""}])),
    )
    .await;
    api.ok(
        "openim_msg_ext_http_svc/set_key_values",
        set(&key, 3, json!([])),
    )
    .await;
    let v = api
        .ok("openim_msg_ext_http_svc/get_key_values", get(&key, 0))
        .await;
    assert!(v.get("ExtensionList").is_none(), "{v}");
    assert_eq!(
        (v["LatestSeq"].as_u64(), v["ClearSeq"].as_u64()),
        (Some(4), Some(4))
    );
    api.fails(
        "openim_msg_ext_http_svc/set_key_values",
        set(&plain, 1, json!([{"Key": "k", "Value": "v"}])),
        23002,
    )
    .await;
    api.fails(
        "openim_msg_ext_http_svc/get_key_values",
        get("1_2_3", 0),
        23004,
    )
    .await;
}
