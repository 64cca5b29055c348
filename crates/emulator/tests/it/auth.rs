//! URL, method and authentication checks, each with its documented code.

use std::time::Duration;

use http::Method;
use serde_json::json;
use tim_core::{SecretKey, usersig};
use tim_emulator::{Clock, Emulator};

use crate::support::{Api, code, manual_clock};

const BODY: &str = r#"{"To_Account":["u1"]}"#;

async fn api() -> Api {
    Api::start_with_clock(
        Emulator::builder()
            .with_admin("administrator")
            .with_admin("ops team"),
        manual_clock(),
    )
    .await
}

fn q(sdkappid: &str, identifier: &str, sig: &str, random: &str, contenttype: &str) -> String {
    let mut parts = Vec::new();
    for (k, v) in [
        ("sdkappid", sdkappid),
        ("identifier", identifier),
        ("usersig", sig),
        ("random", random),
        ("contenttype", contenttype),
    ] {
        if v != "<absent>" {
            parts.push(format!("{k}={v}"));
        }
    }
    parts.join("&")
}

#[tokio::test]
async fn url_parameters_are_checked_with_documented_codes() {
    let api = api().await;
    let sig = api.sig_for("administrator");
    let app = api.sdkappid.to_string();
    let cases = [
        ("valid", q(&app, "administrator", &sig, "7", "json"), 0),
        (
            "sdkappid absent",
            q("<absent>", "administrator", &sig, "7", "json"),
            60012,
        ),
        (
            "sdkappid empty",
            q("", "administrator", &sig, "7", "json"),
            60012,
        ),
        (
            "sdkappid not a number",
            q("abc", "administrator", &sig, "7", "json"),
            60006,
        ),
        (
            "sdkappid of another app",
            q("1400000001", "administrator", &sig, "7", "json"),
            60006,
        ),
        (
            "identifier absent",
            q(&app, "<absent>", &sig, "7", "json"),
            60025,
        ),
        (
            "contenttype absent",
            q(&app, "administrator", &sig, "7", "<absent>"),
            60025,
        ),
        (
            "contenttype xml",
            q(&app, "administrator", &sig, "7", "xml"),
            60025,
        ),
        (
            "random absent",
            q(&app, "administrator", &sig, "<absent>", "json"),
            60025,
        ),
        (
            "random not u32",
            q(&app, "administrator", &sig, "4294967296", "json"),
            60025,
        ),
        (
            "usersig absent",
            q(&app, "administrator", "<absent>", "7", "json"),
            70002,
        ),
        (
            "usersig empty",
            q(&app, "administrator", "", "7", "json"),
            70002,
        ),
        (
            "usersig not base64",
            q(&app, "administrator", "%21%21%21", "7", "json"),
            70003,
        ),
        (
            "usersig not zlib",
            q(&app, "administrator", "aGVsbG8_", "7", "json"),
            70003,
        ),
    ];
    for (name, query, expected) in cases {
        let v = api.post_bytes("im_get_tag", &query, BODY).await;
        assert_eq!(code(&v), expected, "{name}: {v}");
    }
}

#[tokio::test]
async fn usersig_verification_failures_map_to_70xxx() {
    let api = api().await;
    let now = api.clock.unix_time();
    let app = api.sdkappid;
    let other_key = SecretKey::new("another app's key");
    let cases = [
        (
            "signed with another key",
            usersig::generate(app, &other_key, "administrator", now, 3600),
            "administrator",
            70009,
        ),
        (
            "issued for another identifier",
            usersig::generate(app, &api.key, "administrator", now, 3600),
            "ops%20team",
            70013,
        ),
        (
            "issued for another sdkappid",
            usersig::generate(app + 1, &api.key, "administrator", now, 3600),
            "administrator",
            70014,
        ),
        (
            "expired",
            usersig::generate(app, &api.key, "administrator", now - 7200, 3600),
            "administrator",
            70001,
        ),
        (
            "valid for a non-admin account",
            usersig::generate(app, &api.key, "bob", now, 3600),
            "bob",
            90009,
        ),
        (
            "valid for the second admin (percent-encoded identifier)",
            usersig::generate(app, &api.key, "ops team", now, 3600),
            "ops%20team",
            0,
        ),
    ];
    for (name, sig, identifier, expected) in cases {
        let query = q(&app.to_string(), identifier, sig.expose(), "1", "json");
        let v = api.post_bytes("im_get_tag", &query, BODY).await;
        assert_eq!(code(&v), expected, "{name}: {v}");
    }
}

#[tokio::test]
async fn usersig_expires_by_the_emulator_clock() {
    let clock = manual_clock();
    let api = Api::start_with_clock(Emulator::builder(), clock.clone()).await;
    let sig = usersig::generate(
        api.sdkappid,
        &api.key,
        "administrator",
        clock.unix_time(),
        60,
    );
    let query = q(
        &api.sdkappid.to_string(),
        "administrator",
        sig.expose(),
        "1",
        "json",
    );
    assert_eq!(code(&api.post_bytes("im_get_tag", &query, BODY).await), 0);
    clock.advance(Duration::from_secs(60));
    assert_eq!(
        code(&api.post_bytes("im_get_tag", &query, BODY).await),
        0,
        "valid through time + expire"
    );
    clock.advance(Duration::from_secs(1));
    assert_eq!(
        code(&api.post_bytes("im_get_tag", &query, BODY).await),
        70001
    );
}

#[tokio::test]
async fn unknown_commands_paths_and_methods_get_600xx() {
    let api = api().await;
    let query = api.query();
    for path in [
        format!("/v4/all_member_push/im_nope?{query}"),
        format!("/v4/openim/no_such_command?{query}"),
        format!("/v4/all_member_push/?{query}"),
        "/".to_owned(),
        "/v4/all_member_push/im_get_tag/extra".to_owned(),
    ] {
        let (status, headers, body) = api.raw(Method::POST, &path, BODY).await.unwrap();
        assert_eq!(status, 200, "{path}");
        assert_eq!(headers[http::header::CONTENT_TYPE], "application/json");
        let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(code(&v), 60009, "{path}: {v}");
        assert_eq!(v["ActionStatus"], "FAIL");
    }
    for method in [Method::GET, Method::PUT, Method::DELETE] {
        let (status, _, body) = api
            .raw(
                method.clone(),
                &format!("/v4/all_member_push/im_get_tag?{query}"),
                BODY,
            )
            .await
            .unwrap();
        assert_eq!(status, 200);
        let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(code(&v), 60002, "{method}: {v}");
    }
}

#[tokio::test]
async fn every_endpoint_requires_an_admin() {
    let api = api().await;
    let sig = api.sig_for("bob");
    let query = q(&api.sdkappid.to_string(), "bob", &sig, "1", "json");
    for command in tim_core::EndpointId::ALL {
        let v = api.post_bytes(&command.to_string(), &query, "{}").await;
        // Each service's own code, as its pages list it.
        let expected = match command.service() {
            "im_open_login_svc" => 70403,
            "profile" => 40004,
            // Its pages list no admin code: the public one.
            "openim_msg_ext_http_svc" => 60010,
            _ => 90009,
        };
        assert_eq!(code(&v), expected, "{command}: {v}");
    }
    // Nothing was changed by the refused calls.
    assert!(api.emu().state().accounts.is_empty());
    assert_eq!(code(&api.call("im_get_attr_name", json!({})).await), 0);
}
