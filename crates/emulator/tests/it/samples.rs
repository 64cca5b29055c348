//! The documentation's sample requests (from `spec/`) sent to the emulator: each answer must
//! equal the documented answer (the TaskId aside), and is snapshotted.

use std::time::Duration;

use serde_json::{Value, json};
use tim_emulator::Emulator;

use crate::support::{Api, manual_clock, spec};

/// Imports a one-to-one message with the given MsgSeq, MsgRandom and time.
async fn import_message(api: &Api, from: &str, to: &str, seq: u32, random: u32, time: i64) {
    api.ok(
        "openim/importmsg",
        json!({"SyncFromOldSystem": 2, "From_Account": from, "To_Account": to, "MsgSeq": seq,
            "MsgRandom": random, "MsgTimeStamp": time,
            "MsgBody": [{"MsgType": "TIMTextElem", "MsgContent": {"Text": "hi"}}]}),
    )
    .await;
}

/// An admin call (`POST /__emulator/<what>`), asserted to succeed.
async fn admin(api: &Api, what: &str, body: Value) {
    let (status, _, answer) = api
        .raw(
            http::Method::POST,
            &format!("/__emulator/{what}"),
            body.to_string(),
        )
        .await
        .expect("answered");
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&answer));
}

/// Puts the state the documented answer of `command` describes.
async fn set_up(api: &Api, command: &str) {
    match command {
        "account_delete" | "account_check" => {
            api.emu().import_accounts(["UserID_1"]).unwrap();
        }
        "kick" => api.emu().import_accounts(["test"]).unwrap(),
        "multiaccount_import" => {
            // The page does not say why test3 and test4 fail; a test makes them fail.
            admin(
                api,
                "item-failures",
                json!({"accounts": ["test3", "test4"], "code": 70500}),
            )
            .await;
        }
        "portrait_set" => api.emu().import_accounts(["id"]).unwrap(),
        "portrait_get" => {
            api.emu()
                .import_accounts(["id1", "id2", "id3", "id4"])
                .unwrap();
            let allow = ["NeedConfirm", "DenyAny", "AllowAny"];
            for (i, allow) in allow.iter().enumerate() {
                let n = i + 1;
                api.ok(
                    "profile/portrait_set",
                    json!({"From_Account": format!("id{n}"), "ProfileItem": [
                        {"Tag": "Tag_Profile_IM_Nick", "Value": format!("NickNameTest{n}")},
                        {"Tag": "Tag_Profile_IM_AllowType", "Value": format!("AllowType_Type_{allow}")},
                        {"Tag": "Tag_Profile_IM_SelfSignature", "Value": format!("I'm Test{n}")},
                        {"Tag": "Tag_Profile_Custom_Test", "Value": format!("Custom Data{n}")}
                    ]}),
                )
                .await;
            }
            // The page's id4 fails reading its custom data: a server-side condition.
            admin(
                api,
                "item-failures",
                json!({"accounts": ["id4"], "code": 40006, "info": "Err_Profile_PortraitGet_Read_Custom_Data_Fail"}),
            )
            .await;
        }
        "query_online_status" => api.emu().import_accounts(["id1", "id2", "id3"]).unwrap(),
        "sendmsg" | "importmsg" => api
            .emu()
            .import_accounts(["lumotuwe1", "lumotuwe2"])
            .unwrap(),
        "batchsendmsg" => api
            .emu()
            .import_accounts(["bonnie", "rong", "dave"])
            .unwrap(),
        "admin_getroammsg" => api.emu().import_accounts(["user1", "user2"]).unwrap(),
        "admin_set_msg_read" | "get_c2c_unread_msg_num" => api
            .emu()
            .import_accounts(["dramon1", "dramon2", "teacher"])
            .unwrap(),
        // The messages these samples name, imported with the MsgSeq, MsgRandom and time their
        // MsgKey is made of.
        "admin_msgwithdraw" => {
            api.emu().import_accounts(["vinson", "dramon"]).unwrap();
            import_message(api, "vinson", "dramon", 31906, 833_502, 1_572_869_830).await;
        }
        "get_key_values" | "set_key_values" => {
            // The samples' message: sent at 2022-10-10T07:51:20Z with extensions allowed.
            api.emu().import_accounts(["62768", "116400"]).unwrap();
            let then = 1_665_388_280_000i64;
            let jump = then - api.emu().now_unix_ms() as i64;
            api.emu().jump_clock(jump);
            api.ok(
                "openim/sendmsg",
                json!({"From_Account": "62768", "To_Account": "116400", "MsgSeq": 44_739_199,
                    "MsgRandom": 12, "SupportMessageExtension": 1,
                    "MsgBody": [{"MsgType": "TIMTextElem", "MsgContent": {"Text": "hi"}}]}),
            )
            .await;
            api.emu().jump_clock(-jump);
            if command == "get_key_values" {
                let set = |pairs: Value| {
                    json!({"From_Account": "62768", "To_Account": "116400",
                        "MsgKey": "44739199_12_1665388280", "OperateType": 1, "ExtensionList": pairs})
                };
                api.ok(
                    "openim_msg_ext_http_svc/set_key_values",
                    set(json!([{"Key": "k1", "Value": "v1"}, {"Key": "k2", "Value": "v2"}])),
                )
                .await;
                api.ok(
                    "openim_msg_ext_http_svc/set_key_values",
                    set(json!([{"Key": "k3", "Value": "v3"}])),
                )
                .await;
            }
        }
        "modify_c2c_msg" => {
            api.emu().import_accounts(["dramon1", "dramon2"]).unwrap();
            import_message(api, "dramon1", "dramon2", 1, 2, 3).await;
        }
        "im_get_attr_name" => {
            api.ok(
                "im_set_attr_name",
                json!({"AttrNames": {"0": "sex", "1": "city", "2": "Membership level"}}),
            )
            .await;
        }
        "im_push" | "im_set_attr" | "im_remove_attr" => {
            api.ok(
                "im_set_attr_name",
                json!({"AttrNames": {"0": "sex", "1": "city"}}),
            )
            .await;
        }
        "im_get_attr" => {
            api.ok(
                "im_set_attr_name",
                json!({"AttrNames": {"0": "sex", "1": "city"}}),
            )
            .await;
            api.ok(
                "im_set_attr",
                json!({"UserAttrs": [{"To_Account": "xiaojun012", "Attrs": {"sex": "attr1", "city": "attr2"}}]}),
            )
            .await;
        }
        "im_get_tag" => {
            api.ok(
                "im_add_tag",
                json!({"UserTags": [
                    {"To_Account": "xiaojun012", "Tags": ["a", "b"]},
                    {"To_Account": "xiaojun013", "Tags": ["a", "c"]}
                ]}),
            )
            .await;
        }
        _ => {}
    }
}

/// Changes the state between the samples of one command, when they describe different states.
async fn before_sample(api: &Api, command: &str, name: &str) {
    let login = |account: &str, platform: &str, status: &str| json!({"account": account, "platform": platform, "status": status});
    match (command, name) {
        ("query_online_status", "states") => {
            admin(api, "logins", login("id2", "Web", "Online")).await;
            admin(api, "logins", login("id3", "IPhone", "PushOnline")).await;
        }
        ("query_online_status", "states_with_detail") => {
            admin(api, "logins", login("id1", "IPhone", "PushOnline")).await;
            admin(api, "logins", login("id1", "Web", "Online")).await;
            admin(api, "logins", login("id2", "Web", "Offline")).await;
        }
        _ => {}
    }
}

/// Samples whose documented answer no request can reach, and why.
fn not_reproducible(command: &str, name: &str) -> Option<&'static str> {
    match (command, name) {
        ("admin_getroammsg", "first_page" | "next_page" | "single_message") => {
            Some("the page's MsgCnt counts messages its sample does not list")
        }
        ("get_key_values", "from_seq") => Some("the page shows no answer for it"),
        ("set_key_values", "set") => Some(
            "a Seq conflict (23001), which the service never answers the app admin, the only REST caller",
        ),
        ("get_c2c_unread_msg_num", "total" | "per_peer") => {
            Some("the page's total (12) is less than its per-peer counts (12 + 12)")
        }
        _ => None,
    }
}

/// Makes the situation of a documented error answer that has no sample request.
async fn provoke(api: &Api, command: &str, name: &str) -> Value {
    match (command, name) {
        ("batchsendmsg", "some_failed") => {
            // The page's rong fails (70107) while bonnie receives the message.
            api.emu().fail_items(["rong"], 70107, "");
            api.call(
                "openim/batchsendmsg",
                json!({"To_Account": ["bonnie", "rong"], "MsgRandom": 7, "MsgBody": [{"MsgType": "TIMTextElem", "MsgContent": {"Text": "x"}}]}),
            )
            .await
        }
        ("batchsendmsg", "none_sent") => {
            api.call(
                "openim/batchsendmsg",
                json!({"To_Account": ["nobody"], "MsgRandom": 7, "MsgBody": [{"MsgType": "TIMTextElem", "MsgContent": {"Text": "x"}}]}),
            )
            .await
        }
        ("admin_getroammsg", "single_message") => {
            api.call(
                "openim/admin_getroammsg",
                json!({"Operator_Account": "user2", "Peer_Account": "user1", "MaxCnt": 1, "MinTime": 0, "MaxTime": 2_000_000_000u64}),
            )
            .await
        }
        ("query_online_status" | "sendmsg" | "admin_getroammsg" | "admin_msgwithdraw", "bad_json")
        | ("portrait_set", "decode_fail") => {
            let path = tim_core::EndpointId::with_command(command)
                .next()
                .expect("in the spec")
                .to_string();
            api.post_bytes(&path, &api.query(), "{\"To_Account\": [")
                .await
        }
        ("im_push", "too_frequent") => {
            let body = json!({"MsgRandom": 99, "MsgBody": [{"MsgType": "TIMTextElem", "MsgContent": {"Text": "x"}}]});
            api.ok("im_push", body.clone()).await;
            api.call(
                "im_push",
                json!({"MsgRandom": 100, "MsgBody": body["MsgBody"]}),
            )
            .await
        }
        ("im_get_tag", "too_many_accounts") => {
            let accounts: Vec<String> = (0..101).map(|i| format!("u{i}")).collect();
            api.call("im_get_tag", json!({ "To_Account": accounts }))
                .await
        }
        other => panic!("no way to provoke sample {other:?}: add one"),
    }
}

#[tokio::test]
async fn documented_samples_get_the_documented_answers() {
    let spec = spec();
    let mut checked = Vec::new();
    let mut expected_samples = 0;
    for endpoint in spec.endpoints() {
        let command = endpoint.command.as_str();
        let path = format!("{}/{command}", endpoint.service);
        let emulated = tim_core::EndpointId::find(&endpoint.service, command)
            .is_some_and(tim_emulator::emulates);
        if !emulated {
            // An endpoint added to the spec but not (yet) to the emulator.
            eprintln!("{path}: not emulated, samples skipped");
            continue;
        }
        expected_samples += endpoint.samples.len();
        let clock = manual_clock();
        let api = Api::start_with_clock(
            Emulator::builder()
                .with_seed(1)
                .with_accounts(["xiaojun012", "xiaojun013"])
                // The pages' samples are separate pushes that happen to share a MsgRandom;
                // 2 s apart, each is a push task of its own under a 1 s window.
                .with_push_dedup_window(Duration::from_secs(1)),
            clock.clone(),
        )
        .await;
        set_up(&api, command).await;
        for sample in &endpoint.samples {
            let name = sample.name.as_str();
            clock.advance(Duration::from_secs(2));
            before_sample(&api, command, name).await;
            let answer = match &sample.request {
                Some(request) => api.call(&path, request.clone()).await,
                None => provoke(&api, command, name).await,
            };
            let mut expected = sample.response.clone();
            if expected.get("TaskId").is_some() {
                let task_id = answer["TaskId"].as_str().expect("TaskId answered");
                let parts: Vec<&str> = task_id.split('_').collect();
                assert_eq!(parts.len(), 4, "{task_id}");
                assert_eq!(parts[0], api.sdkappid.to_string());
                expected["TaskId"] = json!(task_id);
            }
            // Values the server draws (the MsgKey of a message sent without one we could
            // predict, its time): the emulator's own, checked for their documented form.
            if expected.get("MsgTime").is_some() {
                assert!(answer["MsgTime"].is_i64(), "{command} {name}: {answer}");
                expected["MsgTime"] = answer["MsgTime"].clone();
            }
            if expected.get("MsgKey").is_some() {
                let key = answer["MsgKey"].as_str().expect("MsgKey answered");
                assert!(
                    key.split('_').count() == 3 && key.split('_').all(|p| p.parse::<u64>().is_ok()),
                    "{key}"
                );
                expected["MsgKey"] = json!(key);
            }
            if let Some(why) = not_reproducible(command, name) {
                // The page's answer describes what no request can reach: the envelope must
                // match, the rest is snapshotted.
                eprintln!("{command} sample {name}: envelope only ({why})");
                assert_eq!(
                    answer["ErrorCode"], expected["ErrorCode"],
                    "{command} {name}"
                );
                let snapshot = format!("{}__{command}__{name}", endpoint.service);
                insta::assert_json_snapshot!(snapshot.clone(), answer);
                checked.push(format!("it__samples__{snapshot}.snap"));
                continue;
            }
            if expected["ActionStatus"] == "OK" {
                // Some pages print a word in ErrorInfo on success ("succeed"); not compared.
                expected["ErrorInfo"] = answer["ErrorInfo"].clone();
            }
            if expected["ActionStatus"] == "FAIL" {
                // The page's text comes first; the emulator adds what exactly was wrong.
                let info = answer["ErrorInfo"].as_str().unwrap_or_default().to_owned();
                let documented = expected["ErrorInfo"].as_str().unwrap_or_default();
                assert!(
                    info.starts_with(documented),
                    "{command} sample {name}: {info:?} does not start with {documented:?}"
                );
                expected["ErrorInfo"] = json!(info);
            }
            assert_eq!(answer, expected, "{command} sample {name}");
            let snapshot = format!("{}__{command}__{name}", endpoint.service);
            insta::assert_json_snapshot!(snapshot.clone(), answer);
            checked.push(format!("it__samples__{snapshot}.snap"));
        }
    }
    assert!(
        tim_core::EndpointId::ALL
            .iter()
            .any(|id| tim_emulator::emulates(*id))
    );
    assert_eq!(
        checked.len(),
        expected_samples,
        "every sample of every emulated endpoint is checked"
    );
    // A sample removed from the spec must take its snapshot with it.
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/it/snapshots");
    let unreferenced: Vec<String> = std::fs::read_dir(dir)
        .expect("snapshot directory")
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|f| f.starts_with("it__samples__") && f.ends_with(".snap") && !checked.contains(f))
        .collect();
    assert!(
        unreferenced.is_empty(),
        "unreferenced snapshots: {unreferenced:?}"
    );
}
