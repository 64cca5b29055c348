//! Injected faults: 91000 without applying, 502 with HTML, lost acknowledgements, delays, truncated
//! and non-JSON bodies, forced 60007 and 70001.

use std::time::{Duration, Instant};

use http::Method;
use serde_json::json;
use tim_emulator::{Emulator, FaultKind, FaultSpec};

use crate::support::{Api, code};

fn add(tag: &str) -> serde_json::Value {
    json!({"UserTags": [{"To_Account": "u", "Tags": [tag]}]})
}

#[tokio::test]
async fn internal_error_is_not_applied() {
    let api = Api::start(Emulator::builder().with_rate_limits(false)).await;
    api.emu().inject_fault(FaultKind::InternalError);
    let v = api.fails("im_add_tag", add("lost"), 91000).await;
    assert_eq!(v["ActionStatus"], "FAIL");
    assert!(api.emu().state().accounts.is_empty(), "not applied");
    api.ok("im_add_tag", add("kept")).await;
    assert_eq!(api.tags_of(&["u"]).await, vec![vec!["kept"]]);
    let log = api.emu().requests();
    assert_eq!(log[0].fault, Some(FaultKind::InternalError));
    assert_eq!(log[0].error_code, Some(91000));
    assert_eq!(log[1].fault, None);
}

#[tokio::test]
async fn bad_gateway_is_502_html_and_not_applied() {
    let api = Api::start(Emulator::builder().with_rate_limits(false)).await;
    api.emu().inject_fault(FaultKind::BadGateway);
    let path = format!("/v4/all_member_push/im_add_tag?{}", api.query());
    let (status, headers, body) = api
        .raw(Method::POST, &path, add("lost").to_string())
        .await
        .unwrap();
    assert_eq!(status, 502);
    assert_eq!(headers[http::header::CONTENT_TYPE], "text/html");
    let body = String::from_utf8(body.to_vec()).unwrap();
    assert!(body.contains("502 Bad Gateway"), "{body}");
    assert!(
        serde_json::from_str::<serde_json::Value>(&body).is_err(),
        "not JSON"
    );
    assert!(api.emu().state().accounts.is_empty());
    assert_eq!(api.emu().requests()[0].status, 502);
}

#[tokio::test]
async fn drop_after_apply_loses_the_acknowledgement_only() {
    let api = Api::start(Emulator::builder().with_rate_limits(false)).await;
    api.emu().inject_fault(FaultKind::DropAfterApply);
    let path = format!("/v4/all_member_push/im_add_tag?{}", api.query());
    let err = api
        .raw(Method::POST, &path, add("applied").to_string())
        .await
        .unwrap_err();
    assert!(
        !err.contains("timed out"),
        "the connection is closed, not hung: {err}"
    );
    // Applied all the same.
    assert_eq!(api.tags_of(&["u"]).await, vec![vec!["applied"]]);
    let log = api.emu().requests();
    assert_eq!((log[0].status, log[0].error_code), (0, Some(0)));
    assert_eq!(log[0].fault, Some(FaultKind::DropAfterApply));
}

#[tokio::test]
async fn drop_after_apply_on_a_push_records_it() {
    let api = Api::start(Emulator::builder().with_accounts(["u"])).await;
    api.emu().inject_fault(FaultKind::DropAfterApply);
    let path = format!("/v4/all_member_push/im_push?{}", api.query());
    let body = json!({"MsgRandom": 5, "MsgBody": crate::support::text("maybe")}).to_string();
    assert!(api.raw(Method::POST, &path, body).await.is_err());
    assert_eq!(
        api.emu().pushes().len(),
        1,
        "the push happened although nobody heard back"
    );
}

#[tokio::test]
async fn delay_and_latency_hold_calls() {
    let api = Api::start(
        Emulator::builder()
            .with_rate_limits(false)
            .with_latency(Duration::from_millis(50))
            .with_fault_delay(Duration::from_millis(300)),
    )
    .await;
    let t = Instant::now();
    api.ok("im_get_tag", json!({"To_Account": ["u"]})).await;
    let plain = t.elapsed();
    assert!(plain >= Duration::from_millis(50), "{plain:?}");
    api.emu().inject_fault(FaultKind::Delay);
    let t = Instant::now();
    api.ok("im_add_tag", add("late")).await;
    let delayed = t.elapsed();
    assert!(delayed >= Duration::from_millis(350), "{delayed:?}");
    assert_eq!(api.tags_of(&["u"]).await, vec![vec!["late"]]);
}

/// The faults each of `n` calls got, from a fresh emulator with `seed`.
async fn fault_sequence(seed: u64, n: usize) -> Vec<Option<FaultKind>> {
    let api = Api::start(
        Emulator::builder()
            .with_rate_limits(false)
            .with_seed(seed)
            .with_fault("internal-error=0.3".parse::<FaultSpec>().unwrap())
            .with_fault("bad-gateway=20%".parse::<FaultSpec>().unwrap()),
    )
    .await;
    let mut outcomes = Vec::new();
    for i in 0..n {
        let path = format!("/v4/all_member_push/im_add_tag?{}", api.query());
        let (status, _, body) = api
            .raw(Method::POST, &path, add(&format!("t{i}")).to_string())
            .await
            .unwrap();
        let outcome = match status.as_u16() {
            502 => Some(FaultKind::BadGateway),
            200 => {
                let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
                match code(&v) {
                    91000 => Some(FaultKind::InternalError),
                    0 => None,
                    other => panic!("unexpected code {other}"),
                }
            }
            other => panic!("unexpected status {other}"),
        };
        outcomes.push(outcome);
    }
    // Exactly the calls that were not hit were applied.
    let applied = api
        .emu()
        .state()
        .all_member_push
        .users
        .get("u")
        .map_or(0, |a| a.tags.len());
    assert_eq!(applied, outcomes.iter().filter(|o| o.is_none()).count());
    outcomes
}

#[tokio::test]
async fn fault_rates_are_seeded_and_reproducible() {
    let a = fault_sequence(7, 60).await;
    let b = fault_sequence(7, 60).await;
    assert_eq!(a, b, "same seed, same faults");
    let count = |k: Option<FaultKind>| a.iter().filter(|o| **o == k).count();
    // 30% / 20% / 50% of 60 calls; bounds far from the expectation, the sequence is fixed anyway.
    assert!(
        (8..=28).contains(&count(Some(FaultKind::InternalError))),
        "{a:?}"
    );
    assert!(
        (3..=22).contains(&count(Some(FaultKind::BadGateway))),
        "{a:?}"
    );
    assert!((15..=45).contains(&count(None)), "{a:?}");
    let c = fault_sequence(8, 60).await;
    assert_ne!(a, c, "another seed, other faults");
}

#[tokio::test]
async fn truncated_body_is_applied_and_cut_short() {
    let api = Api::start(Emulator::builder().with_rate_limits(false)).await;
    api.emu().inject_fault(FaultKind::TruncatedBody);
    let path = format!("/v4/all_member_push/im_add_tag?{}", api.query());
    let (status, headers, body) = api
        .raw(Method::POST, &path, add("applied").to_string())
        .await
        .unwrap();
    assert_eq!(status, 200);
    assert_eq!(headers[http::header::CONTENT_TYPE], "application/json");
    let err = serde_json::from_slice::<serde_json::Value>(&body).unwrap_err();
    assert!(err.is_eof(), "JSON cut short, not garbage: {err}");
    assert!(
        body.starts_with(b"{\"ActionStatus\":\"OK\""),
        "the first half of the real envelope: {:?}",
        String::from_utf8_lossy(&body)
    );
    // Applied all the same.
    assert_eq!(api.tags_of(&["u"]).await, vec![vec!["applied"]]);
    let log = api.emu().requests();
    assert_eq!((log[0].status, log[0].error_code), (200, Some(0)));
    assert_eq!(log[0].fault, Some(FaultKind::TruncatedBody));
}

#[tokio::test]
async fn truncated_body_on_a_push_records_it() {
    let api = Api::start(Emulator::builder().with_accounts(["u"])).await;
    api.emu().inject_fault(FaultKind::TruncatedBody);
    let path = format!("/v4/all_member_push/im_push?{}", api.query());
    let body = json!({"MsgRandom": 6, "MsgBody": crate::support::text("maybe")}).to_string();
    let (status, _, answer) = api.raw(Method::POST, &path, body).await.unwrap();
    assert_eq!(status, 200);
    assert!(serde_json::from_slice::<serde_json::Value>(&answer).is_err());
    assert_eq!(
        api.emu().pushes().len(),
        1,
        "pushed although the answer was cut"
    );
}

#[tokio::test]
async fn non_json_is_an_html_page_and_not_applied() {
    let api = Api::start(Emulator::builder().with_rate_limits(false)).await;
    api.emu().inject_fault(FaultKind::NonJson);
    let path = format!("/v4/all_member_push/im_add_tag?{}", api.query());
    let (status, headers, body) = api
        .raw(Method::POST, &path, add("lost").to_string())
        .await
        .unwrap();
    assert_eq!(status, 200);
    assert_eq!(headers[http::header::CONTENT_TYPE], "text/html");
    let err = serde_json::from_slice::<serde_json::Value>(&body).unwrap_err();
    assert!(err.is_syntax(), "not JSON at all: {err}");
    assert!(api.emu().state().accounts.is_empty(), "not applied");
    let log = api.emu().requests();
    assert_eq!((log[0].status, log[0].error_code), (200, None));
    assert_eq!(log[0].fault, Some(FaultKind::NonJson));
}

#[tokio::test]
async fn forced_60007_and_70001_are_not_applied() {
    let api = Api::start(Emulator::builder().with_accounts(["u"])).await;
    api.emu().inject_fault(FaultKind::RateLimited);
    api.emu().inject_fault(FaultKind::UsersigExpired);
    api.fails("im_add_tag", add("lost"), 60007).await;
    let v = api.fails("im_add_tag", add("lost"), 70001).await;
    assert_eq!(v["ActionStatus"], "FAIL");
    assert!(
        !api.emu().state().all_member_push.users.contains_key("u"),
        "neither applied"
    );
    // A push is refused the same way, and not recorded.
    api.emu().inject_fault(FaultKind::RateLimited);
    api.fails(
        "im_push",
        json!({"MsgRandom": 7, "MsgBody": crate::support::text("no")}),
        60007,
    )
    .await;
    assert!(api.emu().pushes().is_empty());
    let log = api.emu().requests();
    let faults: Vec<_> = log.iter().map(|r| (r.fault, r.error_code)).collect();
    assert_eq!(
        faults,
        [
            (Some(FaultKind::RateLimited), Some(60007)),
            (Some(FaultKind::UsersigExpired), Some(70001)),
            (Some(FaultKind::RateLimited), Some(60007)),
        ]
    );
    // The next call is normal again.
    api.ok("im_add_tag", add("kept")).await;
    assert_eq!(api.tags_of(&["u"]).await, vec![vec!["kept"]]);
}

#[test]
fn every_kind_has_a_command_line_name_and_a_serde_name() {
    for kind in FaultKind::ALL {
        let spec: FaultSpec = format!("{}=0.5", kind.name()).parse().unwrap();
        assert_eq!(spec.kind, kind);
        assert_eq!(
            serde_json::to_value(kind).unwrap(),
            serde_json::Value::String(kind.name().to_owned())
        );
    }
    let err = "teleport=0.1".parse::<FaultSpec>().unwrap_err().to_string();
    for kind in FaultKind::ALL {
        assert!(err.contains(kind.name()), "{err} lists {kind}");
    }
}

#[tokio::test]
async fn a_delayed_call_is_applied_and_logged_after_the_client_gives_up() {
    let api = Api::start(
        Emulator::builder()
            .with_rate_limits(false)
            .with_fault_delay(Duration::from_millis(300)),
    )
    .await;
    api.emu().inject_fault(FaultKind::Delay);
    let path = format!("/v4/all_member_push/im_add_tag?{}", api.query());
    let gave_up = tokio::time::timeout(
        Duration::from_millis(100),
        api.raw(Method::POST, &path, add("late").to_string()),
    )
    .await;
    assert!(gave_up.is_err(), "the client timed out first");
    assert!(api.emu().requests().is_empty(), "still held");
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert_eq!(api.tags_of(&["u"]).await, vec![vec!["late"]]);
    let log = api.emu().requests();
    assert_eq!(log[0].fault, Some(FaultKind::Delay));
    assert_eq!(log[0].error_code, Some(0));
}
