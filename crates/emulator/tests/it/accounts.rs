//! Accounts, presence and profiles: one registry every service uses.

use http::Method;
use serde_json::{Value, json};
use tim_emulator::{Emulator, EventKind};

use crate::support::{Api, code, temp_dir, text};

async fn login(api: &Api, account: &str, platform: &str, status: &str) {
    let body = json!({"account": account, "platform": platform, "status": status});
    let (status, _, answer) = api
        .raw(Method::POST, "/__emulator/logins", body.to_string())
        .await
        .unwrap();
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&answer));
}

async fn check(api: &Api, users: &[&str]) -> Vec<String> {
    let items: Vec<Value> = users.iter().map(|u| json!({"UserID": u})).collect();
    let v = api
        .ok(
            "im_open_login_svc/account_check",
            json!({"CheckItem": items}),
        )
        .await;
    v["ResultItem"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["AccountStatus"].as_str().unwrap().to_owned())
        .collect()
}

fn api_builder() -> tim_emulator::EmulatorBuilder {
    Emulator::builder()
        .with_rate_limits(false)
        .with_push_spacing(false)
}

#[tokio::test]
async fn import_check_and_delete_from_every_service() {
    let api = Api::start(api_builder()).await;
    api.ok(
        "im_open_login_svc/account_import",
        json!({"UserID": "alice", "Nick": "Alice", "FaceUrl": "https://a/p.png"}),
    )
    .await;
    api.ok(
        "im_open_login_svc/multiaccount_import",
        json!({"AccountList": [{"UserID": "bob", "Nick": "Bob"}, {"UserID": "carol"}]}),
    )
    .await;
    api.ok(
        "im_open_login_svc/multiaccount_import",
        json!({"Accounts": ["dave", "alice"]}),
    )
    .await;
    assert_eq!(
        check(&api, &["alice", "bob", "carol", "dave", "erin"]).await,
        [
            "Imported",
            "Imported",
            "Imported",
            "Imported",
            "NotImported"
        ]
    );
    let state = api.emu().state();
    assert_eq!(state.profiles["alice"]["Tag_Profile_IM_Nick"], "Alice");
    assert_eq!(
        state.profiles["alice"]["Tag_Profile_IM_Image"],
        "https://a/p.png"
    );
    assert_eq!(state.profiles["bob"]["Tag_Profile_IM_Nick"], "Bob");
    // Both forms at once are refused.
    api.fails(
        "im_open_login_svc/multiaccount_import",
        json!({"Accounts": ["x"], "AccountList": [{"UserID": "y"}]}),
        70402,
    )
    .await;
    // Alice has data in several services.
    api.ok(
        "im_add_tag",
        json!({"UserTags": [{"To_Account": "alice", "Tags": ["vip"]}]}),
    )
    .await;
    login(&api, "alice", "Android", "Online").await;
    let v = api
        .ok(
            "im_open_login_svc/account_delete",
            json!({"DeleteItem": [{"UserID": "alice"}, {"UserID": "nobody"}]}),
        )
        .await;
    assert_eq!(
        v["ResultItem"][0],
        json!({"UserID": "alice", "ResultCode": 0, "ResultInfo": ""})
    );
    assert_eq!(v["ResultItem"][1]["ResultCode"], 70107);
    let state = api.emu().state();
    assert!(!state.accounts.iter().any(|a| a == "alice"));
    assert!(!state.all_member_push.users.contains_key("alice"));
    assert!(!state.profiles.contains_key("alice"));
    assert!(!state.logins.contains_key("alice"));
    assert_eq!(check(&api, &["alice"]).await, ["NotImported"]);
    // A push no longer reaches her.
    api.ok("im_push", json!({"MsgRandom": 1, "MsgBody": text("hi")}))
        .await;
    assert_eq!(api.emu().pushes()[0].recipients, ["bob", "carol", "dave"]);
    let kinds: Vec<EventKind> = api.emu().events().into_iter().map(|e| e.kind).collect();
    assert!(kinds.contains(&EventKind::AccountsDeleted {
        accounts: vec!["alice".into()]
    }));
}

#[tokio::test]
async fn limits_are_checked_before_anything_happens() {
    let api = Api::start(api_builder()).await;
    let long = "x".repeat(33);
    api.fails(
        "im_open_login_svc/account_import",
        json!({ "UserID": long }),
        70402,
    )
    .await;
    let many: Vec<String> = (0..101).map(|i| format!("u{i}")).collect();
    let v = api
        .call(
            "im_open_login_svc/multiaccount_import",
            json!({ "Accounts": many }),
        )
        .await;
    assert_ne!(code(&v), 0, "{v}");
    api.fails(
        "im_open_login_svc/account_import",
        json!({"UserID": "a", "Nick": "n".repeat(501)}),
        40601,
    )
    .await;
    api.fails(
        "im_open_login_svc/account_import",
        json!({"UserID": 7}),
        70402,
    )
    .await;
    assert!(api.emu().state().accounts.is_empty());
}

#[tokio::test]
async fn presence_follows_admin_logins_and_kick() {
    let api = Api::start(api_builder().with_accounts(["a", "b"])).await;
    login(&api, "a", "iPhone", "PushOnline").await;
    login(&api, "a", "Web", "Online").await;
    // Logging in creates the account, as a client SDK login does.
    login(&api, "c", "Android", "PushOnline").await;
    let v = api
        .ok(
            "openim/query_online_status",
            json!({"To_Account": ["a", "b", "c", "zed"], "IsNeedDetail": 1}),
        )
        .await;
    assert_eq!(v["QueryResult"][0]["State"], "Online");
    assert_eq!(
        v["QueryResult"][0]["Detail"],
        json!([{"Platform": "Web", "Status": "Online"}, {"Platform": "iPhone", "Status": "PushOnline"}])
    );
    assert_eq!(
        v["QueryResult"][1],
        json!({"To_Account": "b", "State": "Offline"})
    );
    assert_eq!(v["QueryResult"][2]["State"], "PushOnline");
    assert_eq!(
        v["ErrorList"],
        json!([{"To_Account": "zed", "ErrorCode": 70107}])
    );
    // Without IsNeedDetail, no Detail.
    let v = api
        .ok("openim/query_online_status", json!({"To_Account": ["a"]}))
        .await;
    assert!(v["QueryResult"][0].get("Detail").is_none(), "{v}");
    api.ok("im_open_login_svc/kick", json!({"UserID": "a"}))
        .await;
    let v = api
        .ok("openim/query_online_status", json!({"To_Account": ["a"]}))
        .await;
    assert_eq!(v["QueryResult"][0]["State"], "Offline");
    api.fails("im_open_login_svc/kick", json!({"UserID": "zed"}), 70107)
        .await;
    api.fails(
        "openim/query_online_status",
        json!({"To_Account": ["zed"]}),
        70107,
    )
    .await;
    api.fails(
        "openim/query_online_status",
        json!({"To_Account": [1]}),
        90003,
    )
    .await;
    let kinds: Vec<EventKind> = api.emu().events().into_iter().map(|e| e.kind).collect();
    assert!(kinds.contains(&EventKind::Kicked {
        account: "a".into()
    }));
}

#[tokio::test]
async fn profiles_are_typed_by_tag_and_stored() {
    let api = Api::start(api_builder().with_accounts(["a", "b"])).await;
    api.ok(
        "profile/portrait_set",
        json!({"From_Account": "a", "ProfileItem": [
            {"Tag": "Tag_Profile_IM_Nick", "Value": "Ann"},
            {"Tag": "Tag_Profile_IM_Level", "Value": 7},
            {"Tag": "Tag_Profile_Custom_Hobby", "Value": "chess"}
        ]}),
    )
    .await;
    let cases = [
        (json!({"Tag": "Tag_Profile_IM_Nik", "Value": "x"}), 40009),
        (json!({"Tag": "Tag_Profile_IM_Level", "Value": "7"}), 40610),
        (
            json!({"Tag": "Tag_Profile_IM_Gender", "Value": "Gender_Type_Robot"}),
            40605,
        ),
        (
            json!({"Tag": "Tag_Profile_IM_Nick", "Value": "n".repeat(501)}),
            40601,
        ),
    ];
    for (item, expected) in cases {
        let v = api
            .fails(
                "profile/portrait_set",
                json!({"From_Account": "a", "ProfileItem": [item]}),
                expected,
            )
            .await;
        assert!(
            v["ErrorInfo"]
                .as_str()
                .unwrap()
                .starts_with("ProfileItem[0]."),
            "{v}"
        );
    }
    api.fails(
        "profile/portrait_set",
        json!({"From_Account": "ghost", "ProfileItem": [{"Tag": "Tag_Profile_IM_Nick", "Value": "g"}]}),
        40003,
    )
    .await;
    let v = api
        .ok(
            "profile/portrait_get",
            json!({"To_Account": ["a", "b", "ghost"], "TagList": ["Tag_Profile_IM_Nick", "Tag_Profile_IM_Level", "Tag_Profile_Custom_Hobby"]}),
        )
        .await;
    assert_eq!(
        v["UserProfileItem"][0]["ProfileItem"],
        json!([
            {"Tag": "Tag_Profile_IM_Nick", "Value": "Ann"},
            {"Tag": "Tag_Profile_IM_Level", "Value": 7},
            {"Tag": "Tag_Profile_Custom_Hobby", "Value": "chess"}
        ])
    );
    assert!(v["UserProfileItem"][1].get("ProfileItem").is_none(), "{v}");
    assert_eq!(v["UserProfileItem"][2]["ResultCode"], 40003);
    assert_eq!(v["Fail_Account"], json!(["ghost"]));
    assert_eq!(v["ErrorDisplay"], "", "profile answers carry ErrorDisplay");
    api.fails(
        "profile/portrait_get",
        json!({"To_Account": ["a"], "TagList": ["Tag_Profile_IM_Nik"]}),
        40009,
    )
    .await;
}

#[tokio::test]
async fn accounts_profiles_and_logins_survive_a_restart() {
    let dir = temp_dir("accounts-restart");
    let file = dir.join("state.jsonl");
    let api = Api::start(api_builder().with_state_file(&file)).await;
    api.ok(
        "im_open_login_svc/account_import",
        json!({"UserID": "a", "Nick": "Ann"}),
    )
    .await;
    login(&api, "a", "Web", "Online").await;
    let before = api.emu().state();
    let Api { emu, .. } = api;
    emu.expect("in process").shutdown().await;
    let api = Api::start(api_builder().with_state_file(&file)).await;
    assert_eq!(api.emu().state(), before);
    assert_eq!(before.logins["a"]["Web"], "Online");
    assert_eq!(before.profiles["a"]["Tag_Profile_IM_Nick"], "Ann");
}
