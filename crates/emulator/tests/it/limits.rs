//! The documented call frequencies, on an injected clock (no sleeping).

use std::time::Duration;

use serde_json::json;
use tim_emulator::Emulator;

use crate::support::{Api, code, manual_clock, text};

#[tokio::test]
async fn one_hundred_calls_per_second_per_endpoint() {
    let clock = manual_clock();
    let api = Api::start_with_clock(Emulator::builder(), clock.clone()).await;
    let body = json!({"To_Account": ["u"]});
    for i in 0..100 {
        let v = api.call("im_get_tag", body.clone()).await;
        assert_eq!(code(&v), 0, "call {i}: {v}");
        if i % 10 == 9 {
            clock.advance(Duration::from_millis(50)); // 100 calls spread over 450 ms
        }
    }
    let v = api.fails("im_get_tag", body.clone(), 60007).await;
    assert_eq!(v["ActionStatus"], "FAIL");
    // Another endpoint has its own window.
    api.ok("im_get_attr", body.clone()).await;
    // The window slides: the first ten calls (at t=0) leave it at t=1000 ms.
    clock.advance(Duration::from_millis(499));
    api.fails("im_get_tag", body.clone(), 60007).await;
    clock.advance(Duration::from_millis(1));
    for _ in 0..10 {
        api.ok("im_get_tag", body.clone()).await;
    }
    api.fails("im_get_tag", body.clone(), 60007).await;
    // A refused call did not change anything and was not counted.
    clock.advance(Duration::from_secs(2));
    api.ok("im_get_tag", body).await;
}

#[tokio::test]
async fn pushes_must_be_more_than_one_second_apart() {
    let clock = manual_clock();
    let api = Api::start_with_clock(Emulator::builder(), clock.clone()).await;
    api.ok("im_push", json!({"MsgRandom": 1, "MsgBody": text("a")}))
        .await;
    clock.advance(Duration::from_millis(1000));
    let v = api
        .fails(
            "im_push",
            json!({"MsgRandom": 2, "MsgBody": text("b")}),
            90024,
        )
        .await;
    assert_eq!(v["ErrorInfo"], "push too frequently");
    clock.advance(Duration::from_millis(1));
    api.ok("im_push", json!({"MsgRandom": 3, "MsgBody": text("c")}))
        .await;
    assert_eq!(api.emu().pushes().len(), 2);
}

#[tokio::test]
async fn daily_push_quota_resets_at_beijing_midnight() {
    // 2024-06-01 15:59:50 UTC = 23:59:50 Beijing.
    let clock = std::sync::Arc::new(tim_emulator::ManualClock::from_unix_ms(1_717_257_590_000));
    let api =
        Api::start_with_clock(Emulator::builder().with_daily_push_quota(3), clock.clone()).await;
    for i in 0..3 {
        api.ok("im_push", json!({"MsgRandom": i, "MsgBody": text("q")}))
            .await;
        clock.advance(Duration::from_millis(1500));
    }
    // 23:59:54.5 Beijing: the quota is used up.
    api.fails(
        "im_push",
        json!({"MsgRandom": 10, "MsgBody": text("q")}),
        90047,
    )
    .await;
    clock.advance(Duration::from_secs(5));
    // 23:59:59.5: still the same day.
    api.fails(
        "im_push",
        json!({"MsgRandom": 11, "MsgBody": text("q")}),
        90047,
    )
    .await;
    clock.advance(Duration::from_millis(500));
    // Midnight in Beijing: a new day.
    api.ok("im_push", json!({"MsgRandom": 12, "MsgBody": text("q")}))
        .await;
    assert_eq!(api.emu().pushes().len(), 4);
}

#[tokio::test]
async fn rate_limits_can_be_turned_off() {
    let clock = manual_clock();
    let api = Api::start_with_clock(
        Emulator::builder()
            .with_rate_limits(false)
            .with_daily_push_quota(1),
        clock.clone(),
    )
    .await;
    for _ in 0..150 {
        api.ok("im_get_tag", json!({"To_Account": ["u"]})).await;
    }
    // The daily quota is off, the push spacing is not: it must be turned off by name.
    assert!(api.emu().config().push_spacing);
    for i in 0..3 {
        api.ok(
            "im_push",
            json!({"MsgRandom": i, "MsgBody": text("spaced")}),
        )
        .await;
        api.fails(
            "im_push",
            json!({"MsgRandom": 100 + i, "MsgBody": text("too soon")}),
            90024,
        )
        .await;
        clock.advance(Duration::from_millis(1001));
    }
    assert_eq!(api.emu().pushes().len(), 3);

    let api = Api::start_with_clock(
        Emulator::builder()
            .with_rate_limits(false)
            .with_push_spacing(false)
            .with_daily_push_quota(1),
        clock,
    )
    .await;
    for i in 0..5 {
        api.ok("im_push", json!({"MsgRandom": i, "MsgBody": text("burst")}))
            .await;
    }
    assert_eq!(api.emu().pushes().len(), 5);
}
