//! The platform: the spec-driven front layer (nulls, unknown members, `--strict`, every
//! endpoint checked), the admin paths, events and the state sections.

use std::time::Duration;

use http::{Method, StatusCode};
use serde_json::{Value, json};
use tim_core::EndpointId;
use tim_emulator::{Emulator, EventKind};

use crate::support::{Api, code, manual_clock, spec, text};

async fn post_admin(api: &Api, what: &str, body: Value) -> (StatusCode, Value) {
    let (status, _, bytes) = api
        .raw(
            Method::POST,
            &format!("/__emulator/{what}"),
            body.to_string(),
        )
        .await
        .expect("answered");
    (status, serde_json::from_slice(&bytes).expect("JSON"))
}

#[tokio::test]
async fn null_members_are_absent_as_the_service_reads_them() {
    let api = Api::start(Emulator::builder().with_accounts(["a", "b"])).await;
    // A Go SDK sends every unset condition field as null.
    let v = api
        .ok(
            "im_push",
            json!({
                "MsgRandom": 1,
                "MsgBody": text("hi"),
                "From_Account": null,
                "Condition": {"TagsAnd": null, "TagsOr": null, "AttrsAnd": null, "AttrsOr": null},
                "OfflinePushInfo": null
            }),
        )
        .await;
    assert!(v["TaskId"].is_string());
    assert_eq!(api.emu().pushes()[0].recipients, ["a", "b"]);
    // A required member sent as null is missing, with that member's documented code.
    api.fails(
        "im_push",
        json!({"MsgRandom": null, "MsgBody": text("x")}),
        90005,
    )
    .await;
    let log = api.emu().requests();
    assert_eq!(
        log[0].null_fields,
        [
            "From_Account",
            "OfflinePushInfo",
            "Condition.AttrsAnd",
            "Condition.AttrsOr",
            "Condition.TagsAnd",
            "Condition.TagsOr"
        ]
    );
    assert!(log[0].unknown_fields.is_empty());
}

#[tokio::test]
async fn strict_mode_names_unknown_and_null_members() {
    let api = Api::start(Emulator::builder().with_strict(true)).await;
    let v = api
        .fails(
            "im_push",
            json!({"MsgRandom": 1, "MsgBody": text("hi"), "MsgLifetime": 60, "Condition": null}),
            90001,
        )
        .await;
    let info = v["ErrorInfo"].as_str().unwrap();
    assert!(info.contains("unknown field(s) MsgLifetime"), "{info}");
    assert!(info.contains("null field(s) Condition"), "{info}");
    // Nested members too, with their path.
    let v = api
        .fails(
            "im_add_tag",
            json!({"UserTags": [{"To_Account": "u", "Tags": ["t"], "Tag": "x"}]}),
            90001,
        )
        .await;
    assert!(
        v["ErrorInfo"].as_str().unwrap().contains("UserTags[0].Tag"),
        "{v}"
    );
    assert!(api.emu().pushes().is_empty() && api.emu().state().accounts.is_empty());
    assert_eq!(api.emu().requests()[0].unknown_fields, ["MsgLifetime"]);
    // A clean request passes.
    api.ok(
        "im_add_tag",
        json!({"UserTags": [{"To_Account": "u", "Tags": ["t"]}]}),
    )
    .await;
    assert_eq!(api.inspect("config").await["strict"], true);
}

#[tokio::test]
async fn shape_errors_name_the_path_and_the_documented_code() {
    let api = Api::start(Emulator::builder()).await;
    let v = api
        .fails(
            "im_push",
            json!({"MsgRandom": 1, "MsgBody": [{"MsgType": "TIMTextElem", "MsgContent": {"Text": 5}}]}),
            90010,
        )
        .await;
    assert!(
        v["ErrorInfo"]
            .as_str()
            .unwrap()
            .starts_with("MsgBody[0].MsgContent.Text: expected a string"),
        "{v}"
    );
}

/// Every endpoint of the spec gets the front layer: an endpoint without semantics (one added
/// to the spec only, as `tools/acceptance/new-endpoint.sh` does) still has its documented
/// limits checked, and a valid request is refused naming the command, never a made-up success.
#[tokio::test]
async fn endpoints_without_semantics_are_checked_then_refused_by_name() {
    let api = Api::start(Emulator::builder().with_rate_limits(false)).await;
    let listed = api.inspect("endpoints").await;
    assert_eq!(listed.as_array().unwrap().len(), EndpointId::ALL.len());
    let model = spec();
    for id in EndpointId::ALL {
        let entry = listed
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["path"] == id.info().path())
            .expect("listed");
        assert_eq!(entry["emulated"], tim_emulator::emulates(*id), "{id}");
        if tim_emulator::emulates(*id) {
            continue;
        }
        let endpoint = model.endpoint(id.service(), id.command()).unwrap();
        for sample in endpoint.samples.iter().filter_map(|s| s.request.as_ref()) {
            let v = api.call(&id.to_string(), sample.clone()).await;
            assert_eq!(code(&v), 60017, "{id}: {v}");
            let info = v["ErrorInfo"].as_str().unwrap();
            assert!(info.contains(&id.to_string()), "{info}");
        }
        if let Some(batch) = id.info().batch {
            let over: Vec<String> = (0..=batch.max_items).map(|i| format!("u{i}")).collect();
            let v = api
                .call(&id.to_string(), json!({ batch.request_field: over }))
                .await;
            assert_ne!(code(&v), 0, "{id}: over the documented size: {v}");
            assert_ne!(code(&v), 60017, "{id}: limits come before semantics: {v}");
        }
    }
}

#[tokio::test]
async fn admin_paths_set_what_only_time_and_clients_create() {
    let clock = manual_clock();
    let api = Api::start_with_clock(Emulator::builder(), clock.clone()).await;
    // Accounts exist through the admin path; a push reaches them.
    let (status, v) = post_admin(&api, "accounts", json!({"accounts": ["x", "y", "x"]})).await;
    assert_eq!((status, v["accounts"].clone()), (StatusCode::OK, json!(2)));
    assert_eq!(api.inspect("state/accounts").await, json!(["x", "y"]));
    // A forced fault hits the next API call.
    let (status, _) = post_admin(&api, "faults", json!({"kind": "internal-error"})).await;
    assert_eq!(status, StatusCode::OK);
    api.fails("im_get_attr_name", json!({}), 91000).await;
    api.ok("im_get_attr_name", json!({})).await;
    // A clock jump: a UserSig issued now (valid a day) has expired two days later.
    let query = api.query();
    let before = api.inspect("config").await["now_unix_ms"].as_u64().unwrap();
    let (status, v) = post_admin(&api, "clock", json!({"advance_ms": 2 * 86_400_000})).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(v["now_unix_ms"].as_u64().unwrap(), before + 2 * 86_400_000);
    assert_eq!(api.emu().now_unix_ms(), before + 2 * 86_400_000);
    let v = api.post_bytes("im_get_attr_name", &query, "{}").await;
    assert_eq!(code(&v), 70001, "{v}");
    // The jump adds to the given clock.
    clock.advance(Duration::from_secs(1));
    assert_eq!(api.emu().now_unix_ms(), before + 2 * 86_400_000 + 1000);
    // Bad admin calls say what they expect; GET paths stay read-only.
    let (status, v) = post_admin(&api, "clock", json!({"advance": 1})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(v["error"].as_str().unwrap().contains("advance_ms"), "{v}");
    let (status, _) = post_admin(&api, "faults", json!({"kind": "meteor"})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, _) = post_admin(&api, "state/accounts", json!({})).await;
    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
    let (status, _) = post_admin(&api, "nothing", json!({})).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn events_are_recorded_after_the_change_is_stored() {
    let api = Api::start(Emulator::builder().with_accounts(["a"])).await;
    let push = api
        .ok("im_push", json!({"MsgRandom": 7, "MsgBody": text("hi")}))
        .await;
    // A refused push emits nothing; a repeat of the first is the same task, no new event.
    api.fails(
        "im_push",
        json!({"MsgRandom": 8, "MsgBody": text("hi")}),
        90024,
    )
    .await;
    api.ok("im_push", json!({"MsgRandom": 7, "MsgBody": text("hi")}))
        .await;
    let events = api.emu().events();
    assert_eq!(events.len(), 2, "{events:?}");
    assert_eq!(
        events[0].kind,
        EventKind::AccountsCreated {
            accounts: vec!["a".into()]
        }
    );
    assert_eq!(
        events[1].kind,
        EventKind::PushAccepted {
            task_id: push["TaskId"].as_str().unwrap().to_owned(),
            recipients: 1
        }
    );
    assert_eq!(events[1].source, "all_member_push/im_push");
    let served = api.inspect("events").await;
    assert_eq!(served, serde_json::to_value(&events).unwrap());
    assert_eq!(served[1]["event"], "push_accepted");
}

#[tokio::test]
async fn state_sections_have_stable_paths() {
    let api = Api::start(Emulator::builder()).await;
    api.ok(
        "im_add_tag",
        json!({"UserTags": [{"To_Account": "u", "Tags": ["t"]}]}),
    )
    .await;
    let whole = api.inspect("state").await;
    for section in ["accounts", "all_member_push"] {
        assert_eq!(
            api.inspect(&format!("state/{section}")).await,
            whole[section],
            "{section}"
        );
    }
    assert_eq!(whole["all_member_push"]["users"]["u"]["tags"], json!(["t"]));
    let (status, _, body) = api
        .raw(Method::GET, "/__emulator/state/nope", "")
        .await
        .unwrap();
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(String::from_utf8_lossy(&body).contains("all_member_push"));
}

/// No inspection or admin answer shows the key or a UserSig, whatever was called.
#[tokio::test]
async fn inspection_and_admin_paths_never_show_secrets() {
    let api = Api::start(Emulator::builder().with_accounts(["a"])).await;
    let query = api.query();
    let sig = api.sig_for(&api.admin);
    api.ok(
        "im_add_tag",
        json!({"UserTags": [{"To_Account": "a", "Tags": ["t"]}]}),
    )
    .await;
    api.ok("im_push", json!({"MsgRandom": 3, "MsgBody": text("hi")}))
        .await;
    let _ = api.post_bytes("im_get_tag", &query, "{").await;
    let (_, admin) = post_admin(
        &api,
        "logins",
        json!({"account": "a", "platform": "Web", "status": "Online"}),
    )
    .await;
    let mut seen = vec![admin.to_string()];
    for path in [
        "state",
        "state/accounts",
        "state/all_member_push",
        "state/profiles",
        "state/logins",
        "pushes",
        "requests",
        "events",
        "endpoints",
        "config",
    ] {
        seen.push(api.inspect(path).await.to_string());
    }
    for text in seen {
        assert!(!text.contains(api.key.expose()), "the key in {text}");
        assert!(!text.contains(&sig), "a UserSig in {text}");
        assert!(
            !text.contains("usersig="),
            "a query with its UserSig in {text}"
        );
    }
}
