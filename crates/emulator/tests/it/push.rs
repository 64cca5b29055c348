//! im_push: targeting by tags and attributes, the recorded pushes, and the request rules.

use std::collections::BTreeSet;
use std::time::Duration;

use serde_json::{Value, json};
use tim_emulator::Emulator;

use crate::support::{Api, code, manual_clock, text};

/// Accounts:
/// - alice: tags vip, beta; sex F, city Shenzhen
/// - bob:   tags vip;       sex M, city Beijing
/// - carol: tags beta;      sex F, city Beijing
/// - dave:  no tags;        sex M
/// - erin:  imported only (known, nothing set)
async fn populated() -> Api {
    let api = Api::start(
        Emulator::builder()
            .with_rate_limits(false)
            .with_push_spacing(false)
            .with_accounts(["alice", "bob", "carol", "dave", "erin"]),
    )
    .await;
    api.ok(
        "im_set_attr_name",
        json!({"AttrNames": {"0": "sex", "1": "city"}}),
    )
    .await;
    api.ok(
        "im_add_tag",
        json!({"UserTags": [
            {"To_Account": "alice", "Tags": ["vip", "beta"]},
            {"To_Account": "bob", "Tags": ["vip"]},
            {"To_Account": "carol", "Tags": ["beta"]}
        ]}),
    )
    .await;
    api.ok(
        "im_set_attr",
        json!({"UserAttrs": [
            {"To_Account": "alice", "Attrs": {"sex": "F", "city": "Shenzhen"}},
            {"To_Account": "bob", "Attrs": {"sex": "M", "city": "Beijing"}},
            {"To_Account": "carol", "Attrs": {"sex": "F", "city": "Beijing"}},
            {"To_Account": "dave", "Attrs": {"sex": "M"}}
        ]}),
    )
    .await;
    api
}

/// Pushes with `condition` and answers the recipients recorded for it.
async fn recipients(api: &Api, condition: Option<Value>) -> Vec<String> {
    let mut body = json!({"MsgRandom": fastrand::u32(..), "MsgBody": text("hello")});
    if let Some(c) = condition {
        body["Condition"] = c;
    }
    let v = api.ok("im_push", body).await;
    let task_id = v["TaskId"].as_str().expect("TaskId").to_owned();
    let pushes = api.emu().pushes();
    let record = pushes
        .iter()
        .find(|p| p.task_id == task_id)
        .expect("recorded");
    record.recipients.clone()
}

#[tokio::test]
async fn push_targets_by_condition() {
    let api = populated().await;
    let cases: Vec<(&str, Option<Value>, Vec<&str>)> = vec![
        (
            "everyone",
            None,
            vec!["alice", "bob", "carol", "dave", "erin"],
        ),
        (
            "empty condition",
            Some(json!({})),
            vec!["alice", "bob", "carol", "dave", "erin"],
        ),
        (
            "TagsAnd one",
            Some(json!({"TagsAnd": ["vip"]})),
            vec!["alice", "bob"],
        ),
        (
            "TagsAnd all",
            Some(json!({"TagsAnd": ["vip", "beta"]})),
            vec!["alice"],
        ),
        (
            "TagsAnd unknown tag",
            Some(json!({"TagsAnd": ["vip", "nobody-has"]})),
            vec![],
        ),
        (
            "TagsOr",
            Some(json!({"TagsOr": ["vip", "beta"]})),
            vec!["alice", "bob", "carol"],
        ),
        (
            "TagsOr one",
            Some(json!({"TagsOr": ["beta"]})),
            vec!["alice", "carol"],
        ),
        (
            "TagsAnd and TagsOr both hold",
            Some(json!({"TagsAnd": ["beta"], "TagsOr": ["vip"]})),
            vec!["alice"],
        ),
        (
            "AttrsAnd",
            Some(json!({"AttrsAnd": {"sex": "F", "city": "Beijing"}})),
            vec!["carol"],
        ),
        (
            "AttrsAnd one",
            Some(json!({"AttrsAnd": {"sex": "M"}})),
            vec!["bob", "dave"],
        ),
        (
            "AttrsOr",
            Some(json!({"AttrsOr": {"sex": "M", "city": "Shenzhen"}})),
            vec!["alice", "bob", "dave"],
        ),
        (
            "AttrsAnd and AttrsOr both hold",
            Some(json!({"AttrsAnd": {"city": "Beijing"}, "AttrsOr": {"sex": "F"}})),
            vec!["carol"],
        ),
    ];
    for (name, condition, expected) in cases {
        let got = recipients(&api, condition).await;
        assert_eq!(got, expected, "{name}");
    }
    // Removing a tag changes who is reached.
    api.ok(
        "im_remove_tag",
        json!({"UserTags": [{"To_Account": "bob", "Tags": ["vip"]}]}),
    )
    .await;
    assert_eq!(
        recipients(&api, Some(json!({"TagsAnd": ["vip"]}))).await,
        ["alice"]
    );
}

#[tokio::test]
async fn push_is_recorded_with_message_and_task_id() {
    let api = populated().await;
    let body = json!({
        "From_Account": "admin",
        "MsgRandom": 56512,
        "MsgLifeTime": 120,
        "MsgBody": [
            {"MsgType": "TIMTextElem", "MsgContent": {"Text": "hi, beauty"}},
            {"MsgType": "TIMCustomElem", "MsgContent": {"Data": "{\"k\":1}", "Desc": "d"}}
        ],
        "Condition": {"TagsOr": ["vip"]},
        "OfflinePushInfo": {"PushFlag": 0, "Desc": "offline", "ApnsInfo": {"BadgeMode": 1}}
    });
    let v = api.ok("im_push", body.clone()).await;
    let task_id = v["TaskId"].as_str().unwrap();
    let parts: Vec<&str> = task_id.split('_').collect();
    assert_eq!(parts.len(), 4, "{task_id}");
    assert_eq!(parts[0], api.sdkappid.to_string());
    assert!(parts.iter().all(|p| p.parse::<u64>().is_ok()), "{task_id}");
    let pushes = api.emu().pushes();
    assert_eq!(pushes.len(), 1);
    let p = &pushes[0];
    assert_eq!(p.task_id, task_id);
    assert_eq!(p.identifier, "administrator");
    assert_eq!(p.recipients, ["alice", "bob"]);
    assert_eq!(serde_json::to_value(&p.request).unwrap(), body);
    // Same view over HTTP.
    let over_http = api.inspect("pushes").await;
    assert_eq!(over_http[0]["task_id"], task_id);
    assert_eq!(over_http[0]["request"], body);
    assert_eq!(over_http[0]["recipients"], json!(["alice", "bob"]));
    // TaskIds are unique.
    let v2 = api
        .ok("im_push", json!({"MsgRandom": 2, "MsgBody": text("x")}))
        .await;
    assert_ne!(v2["TaskId"], v["TaskId"]);
}

#[tokio::test]
async fn push_request_rules_and_codes() {
    let api = populated().await;
    let body = text("hi");
    let tags = |n: usize| (0..n).map(|i| format!("t{i}")).collect::<Vec<_>>();
    let cases: Vec<(&str, Value, i64)> = vec![
        ("MsgRandom missing", json!({"MsgBody": body}), 90005),
        (
            "MsgRandom a string",
            json!({"MsgRandom": "1", "MsgBody": body}),
            90005,
        ),
        (
            "MsgRandom a float",
            json!({"MsgRandom": 1.5, "MsgBody": body}),
            90005,
        ),
        (
            "MsgRandom negative",
            json!({"MsgRandom": -1, "MsgBody": body}),
            90005,
        ),
        ("MsgBody missing", json!({"MsgRandom": 1}), 90002),
        (
            "MsgBody empty",
            json!({"MsgRandom": 1, "MsgBody": []}),
            90002,
        ),
        (
            "MsgBody not an array",
            json!({"MsgRandom": 1, "MsgBody": {"MsgType": "TIMTextElem"}}),
            90007,
        ),
        (
            "element without MsgContent",
            json!({"MsgRandom": 1, "MsgBody": [{"MsgType": "TIMTextElem"}]}),
            90002,
        ),
        (
            "unknown MsgType",
            json!({"MsgRandom": 1, "MsgBody": [{"MsgType": "TIMMagicElem", "MsgContent": {}}]}),
            90002,
        ),
        (
            "content not in message format",
            json!({"MsgRandom": 1, "MsgBody": [{"MsgType": "TIMTextElem", "MsgContent": {"Txt": "x"}}]}),
            90010,
        ),
        (
            "two custom elements",
            json!({"MsgRandom": 1, "MsgBody": [
                {"MsgType": "TIMCustomElem", "MsgContent": {"Data": "a"}},
                {"MsgType": "TIMCustomElem", "MsgContent": {"Data": "b"}}
            ]}),
            90002,
        ),
        (
            "MsgLifeTime over 7 days",
            json!({"MsgRandom": 1, "MsgBody": body, "MsgLifeTime": 604_801}),
            90026,
        ),
        (
            "MsgLifeTime not an integer",
            json!({"MsgRandom": 1, "MsgBody": body, "MsgLifeTime": "1d"}),
            90044,
        ),
        (
            "tags and attrs together",
            json!({"MsgRandom": 1, "MsgBody": body, "Condition": {"TagsAnd": ["vip"], "AttrsOr": {"sex": "M"}}}),
            90039,
        ),
        (
            "same tag in TagsAnd and TagsOr",
            json!({"MsgRandom": 1, "MsgBody": body, "Condition": {"TagsAnd": ["vip"], "TagsOr": ["beta", "vip"]}}),
            90022,
        ),
        (
            "empty tag",
            json!({"MsgRandom": 1, "MsgBody": body, "Condition": {"TagsOr": [""]}}),
            90040,
        ),
        (
            "11 tags in TagsAnd",
            json!({"MsgRandom": 1, "MsgBody": body, "Condition": {"TagsAnd": tags(11)}}),
            90032,
        ),
        (
            "11 tags in TagsOr",
            json!({"MsgRandom": 1, "MsgBody": body, "Condition": {"TagsOr": tags(11)}}),
            90032,
        ),
        (
            "tag over 50 bytes",
            json!({"MsgRandom": 1, "MsgBody": body, "Condition": {"TagsOr": ["x".repeat(51)]}}),
            90020,
        ),
        (
            "attribute never named",
            json!({"MsgRandom": 1, "MsgBody": body, "Condition": {"AttrsAnd": {"country": "CN"}}}),
            90033,
        ),
        (
            "attribute value not a string",
            json!({"MsgRandom": 1, "MsgBody": body, "Condition": {"AttrsOr": {"sex": 1}}}),
            90033,
        ),
        (
            "OfflinePushInfo malformed",
            json!({"MsgRandom": 1, "MsgBody": body, "OfflinePushInfo": {"PushFlag": "yes"}}),
            90043,
        ),
        (
            "From_Account not a string",
            json!({"MsgRandom": 1, "MsgBody": body, "From_Account": 7}),
            60015,
        ),
        (
            "Condition not an object",
            json!({"MsgRandom": 1, "MsgBody": body, "Condition": ["vip"]}),
            90001,
        ),
    ];
    for (name, request, expected) in cases {
        let v = api.call("im_push", request).await;
        assert_eq!(code(&v), expected, "{name}: {v}");
    }
    assert!(
        api.emu().pushes().is_empty(),
        "no refused push was recorded"
    );
    // The limits themselves are allowed.
    let v = api
        .call(
            "im_push",
            json!({"MsgRandom": u32::MAX, "MsgBody": body, "MsgLifeTime": 604_800,
                   "Condition": {"TagsAnd": tags(10), "TagsOr": ["x".repeat(50)]}}),
        )
        .await;
    assert_eq!(code(&v), 0, "{v}");
}

#[tokio::test]
async fn documented_offline_push_fields_and_media_elements() {
    let api = populated().await;
    // Fields of the newer OfflinePushInfo page are accepted (they were answered 90043).
    let info = json!({
        "PushFlag": 0,
        "Desc": "offline",
        "MultiLanguageContent": [{"Language": "en", "Title": "T", "Desc": "D"}],
        "HarmonyInfo": {"Title": "t", "Category": "IM", "Sound": "alert.mp3", "SoundDuration": 10},
        "BadgeAddNum": 1,
        "BadgeSetNum": 5,
        "PushTemplateId": "1400000000-2",
        "PushTemplateParam": {"UserName": "aaaa"},
        "AndroidInfo": {
            "OPPOCategory": "IM",
            "OPPOPrivateMsgTemplateId": "xxxx",
            "OPPOPrivateTitleParameters": {"k1": "v1"},
            "OPPOPrivateContentParameters": {"k1": "v1"},
            "OPPONotifyLevel": 2,
            "VIVONotifyType": "4",
            "GooglePriority": "high",
            "MeiZuNoticeMsgType": 0
        },
        "ApnsInfo": {
            "IsVoipPush": 1,
            "LiveActivity": {"LaId": "timpush", "Event": "end", "ContentState": {"k1": 1}, "DismissalDate": 1739502750}
        }
    });
    let v = api
        .call(
            "im_push",
            json!({"MsgRandom": 11, "MsgBody": text("hi"), "OfflinePushInfo": info}),
        )
        .await;
    assert_eq!(code(&v), 0, "{v}");
    // LaId, Event and ContentState are required inside LiveActivity.
    let v = api
        .call(
            "im_push",
            json!({"MsgRandom": 12, "MsgBody": text("hi"),
                   "OfflinePushInfo": {"ApnsInfo": {"LiveActivity": {"LaId": "timpush", "Event": "update"}}}}),
        )
        .await;
    assert_eq!(code(&v), 90043, "{v}");
    // A voice element needs Url, UUID and Download_Flag for a REST send.
    let sound = |content: Value| json!({"MsgRandom": 13, "MsgBody": [{"MsgType": "TIMSoundElem", "MsgContent": content}]});
    let v = api
        .call(
            "im_push",
            sound(json!({"Url": "https://x/voice", "Second": 1})),
        )
        .await;
    assert_eq!(code(&v), 90010, "{v}");
    let v = api
        .call(
            "im_push",
            sound(json!({"Url": "https://x/voice", "UUID": "md5", "Download_Flag": 2})),
        )
        .await;
    assert_eq!(code(&v), 0, "{v}");
    // An image needs URL, UUID, Width and Height; ImageFormat may be left out.
    let image = |info: Value| {
        json!({"MsgRandom": 14, "MsgBody": [{"MsgType": "TIMImageElem",
               "MsgContent": {"UUID": "md5", "ImageInfoArray": [info]}}]})
    };
    let v = api
        .call("im_push", image(json!({"Type": 1, "URL": "https://x/img"})))
        .await;
    assert_eq!(code(&v), 90010, "{v}");
    let v = api
        .call(
            "im_push",
            image(json!({"Type": 1, "Width": 0, "Height": 0, "URL": "https://x/img"})),
        )
        .await;
    assert_eq!(code(&v), 0, "{v}");
}

#[tokio::test]
async fn a_repeated_msg_random_is_the_same_task_for_seven_days() {
    let clock = manual_clock();
    let api = Api::start_with_clock(Emulator::builder().with_accounts(["u"]), clock.clone()).await;
    assert_eq!(
        api.emu().config().push_dedup_window,
        tim_emulator::PUSH_DEDUP_WINDOW
    );
    let push = json!({"MsgRandom": 777, "MsgBody": text("once")});
    let first = api.ok("im_push", push.clone()).await;
    clock.advance(Duration::from_millis(500));
    // Within the spacing: the same task again, not a second push (and not 90024).
    let again = api.ok("im_push", push.clone()).await;
    assert_eq!(again["TaskId"], first["TaskId"]);
    // A repeat minutes or days later (a retry after an ambiguous failure): still the same task.
    clock.advance(Duration::from_secs(600));
    assert_eq!(
        api.ok("im_push", push.clone()).await["TaskId"],
        first["TaskId"]
    );
    clock.advance(Duration::from_secs(6 * 86_400));
    assert_eq!(
        api.ok("im_push", push.clone()).await["TaskId"],
        first["TaskId"]
    );
    assert_eq!(api.emu().pushes().len(), 1);
    // Another MsgRandom is another push.
    let other = api
        .ok(
            "im_push",
            json!({"MsgRandom": 778, "MsgBody": text("once")}),
        )
        .await;
    assert_ne!(other["TaskId"], first["TaskId"]);
    // Past seven days the MsgRandom is free again.
    clock.advance(Duration::from_secs(86_400));
    let later = api.ok("im_push", push).await;
    assert_ne!(later["TaskId"], first["TaskId"]);
    assert_eq!(api.emu().pushes().len(), 3);
}

#[tokio::test]
async fn a_one_second_dedup_window_can_be_configured() {
    // The newer page's reading: "deduplication within a second".
    let clock = manual_clock();
    let api = Api::start_with_clock(
        Emulator::builder()
            .with_accounts(["u"])
            .with_push_dedup_window(Duration::from_secs(1)),
        clock.clone(),
    )
    .await;
    let push = json!({"MsgRandom": 42, "MsgBody": text("retry me")});
    let first = api.ok("im_push", push.clone()).await;
    clock.advance(Duration::from_millis(500));
    assert_eq!(
        api.ok("im_push", push.clone()).await["TaskId"],
        first["TaskId"]
    );
    clock.advance(Duration::from_millis(600));
    let later = api.ok("im_push", push).await;
    assert_ne!(later["TaskId"], first["TaskId"]);
    assert_eq!(api.emu().pushes().len(), 2);
}

#[tokio::test]
async fn only_accounts_that_exist_receive_pushes() {
    let api = Api::start(
        Emulator::builder()
            .with_rate_limits(false)
            .with_push_spacing(false),
    )
    .await;
    assert!(recipients(&api, None).await.is_empty());
    // Tags and reads name accounts but do not create them (the push page: pushes go to
    // imported or logged-in accounts).
    api.ok(
        "im_add_tag",
        json!({"UserTags": [{"To_Account": "tagged", "Tags": ["vip"]}]}),
    )
    .await;
    api.ok("im_get_tag", json!({"To_Account": ["only-read"]}))
        .await;
    api.emu().import_accounts(["imported"]).unwrap();
    api.ok(
        "im_open_login_svc/account_import",
        json!({"UserID": "by-api"}),
    )
    .await;
    let got: BTreeSet<String> = recipients(&api, None).await.into_iter().collect();
    assert_eq!(
        got,
        BTreeSet::from(["by-api".to_owned(), "imported".to_owned()])
    );
    // Once it exists, the tagged account is reached by its tag.
    api.emu().import_accounts(["tagged"]).unwrap();
    let vip = recipients(&api, Some(json!({"TagsAnd": ["vip"]}))).await;
    assert_eq!(vip, ["tagged"]);
}
