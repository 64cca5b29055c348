//! The read-only inspection paths and the request log.

use http::Method;
use serde_json::json;
use tim_emulator::Emulator;

use crate::support::{Api, text};

#[tokio::test]
async fn state_and_pushes_views_match_the_handle() {
    let api = Api::start(
        Emulator::builder()
            .with_rate_limits(false)
            .with_accounts(["imported", "u1"]),
    )
    .await;
    api.ok("im_set_attr_name", json!({"AttrNames": {"0": "sex"}}))
        .await;
    api.ok(
        "im_set_attr",
        json!({"UserAttrs": [{"To_Account": "u1", "Attrs": {"sex": "F"}}]}),
    )
    .await;
    api.ok(
        "im_add_tag",
        json!({"UserTags": [{"To_Account": "u1", "Tags": ["b", "a"]}]}),
    )
    .await;
    api.ok("im_push", json!({"MsgRandom": 9, "MsgBody": text("x")}))
        .await;
    let state = api.inspect("state").await;
    assert_eq!(
        state,
        json!({
            "accounts": ["imported", "u1"],
            "all_member_push": {
                "attr_names": {"0": "sex"},
                "users": {"u1": {"tags": ["b", "a"], "attrs": {"sex": "F"}}},
                "push_count": 1
            },
            "profiles": {},
            "logins": {},
            "message_count": 0
        })
    );
    assert_eq!(state, serde_json::to_value(api.emu().state()).unwrap());
    let pushes = api.inspect("pushes").await;
    assert_eq!(pushes, serde_json::to_value(api.emu().pushes()).unwrap());
    assert_eq!(pushes[0]["recipients"], json!(["imported", "u1"]));
    let config = api.inspect("config").await;
    assert_eq!(config["sdkappid"], api.sdkappid);
    assert_eq!(config["admins"], json!(["administrator"]));
    assert!(
        !config.to_string().contains(api.key.expose()),
        "the key is never shown"
    );
}

#[tokio::test]
async fn request_log_never_holds_the_usersig() {
    let api = Api::start(Emulator::builder().with_rate_limits(false)).await;
    let query = api.query();
    let sig = api.sig_for("administrator");
    api.post_bytes("im_get_tag", &query, r#"{"To_Account":["u"]}"#)
        .await;
    api.post_bytes("im_get_tag", "sdkappid=1", "{}").await;
    api.post_bytes("im_nope", &query, "{}").await;
    let log = api.emu().requests();
    assert_eq!(log.len(), 3);
    assert_eq!(log[0].seq, 1);
    assert_eq!(log[0].command.as_deref(), Some("im_get_tag"));
    assert_eq!(log[0].identifier.as_deref(), Some("administrator"));
    assert!(log[0].random.is_some());
    assert_eq!(log[0].body, r#"{"To_Account":["u"]}"#);
    assert_eq!((log[0].status, log[0].error_code), (200, Some(0)));
    assert_eq!(log[1].error_code, Some(60006));
    assert_eq!(
        (log[2].command.as_deref(), log[2].error_code),
        (None, Some(60009))
    );
    let over_http = api.inspect("requests").await;
    assert_eq!(over_http, serde_json::to_value(&log).unwrap());
    let text = over_http.to_string();
    assert!(!text.contains(&sig), "UserSig leaked into the request log");
    assert!(!text.to_lowercase().contains("usersig"), "{text}");
    // Inspection calls are not logged.
    assert_eq!(api.emu().requests().len(), 3);
    api.emu().clear_requests();
    assert!(api.emu().requests().is_empty());
}

#[tokio::test]
async fn inspection_is_read_only_and_rejects_unknown_paths() {
    let api = Api::start(Emulator::builder()).await;
    let (status, _, _) = api
        .raw(Method::POST, "/__emulator/state", "{}")
        .await
        .unwrap();
    assert_eq!(status, 405);
    let (status, _, _) = api
        .raw(Method::GET, "/__emulator/nothing", "")
        .await
        .unwrap();
    assert_eq!(status, 404);
}
