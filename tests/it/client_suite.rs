//! One behaviour suite for the client, run against both transports (`reqwest::*` and
//! `hyper::*`) over real HTTP on loopback: a local hyper server answers each scenario and
//! records every request, which the tests check field by field.

use std::collections::{BTreeSet, HashMap};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use tim_core::endpoints::{GetTagRequest, PushRequest};
use tim_core::http::StatusCode;
use tim_core::types::TextElem;
use tim_core::usersig::{self, Claims};
use tim_core::{
    Client, ClientBuilder, Clock, DecodeErrorKind, Error, ErrorCode, MakeTransport, RateLimits,
    RetryPolicy, SecretKey, Sent, SystemClock,
};

use crate::http_server::{Reply, Seen, Server};
use crate::spec_json::spec;

pub(crate) const SDKAPPID: u64 = 1400000000;
pub(crate) const KEY: &str = "suite-secret-key-5bd2850fff3ecb11d7c805251c51ee46";
pub(crate) const ADMIN: &str = "administrator";

/// A builder pointed at `server`, with quick retries for tests.
pub(crate) fn builder<T>(server: &Server) -> ClientBuilder<T> {
    Client::<T>::builder()
        .sdkappid(SDKAPPID)
        .secret_key(KEY)
        .base_url(server.base_url())
        .timeout(Duration::from_secs(5))
        .retry_policy(
            RetryPolicy::default()
                .with_max_attempts(3)
                .with_initial_backoff(Duration::from_millis(20)),
        )
        .rate_limits(RateLimits::documented().with_throttle_pause(Duration::from_millis(50)))
}

pub(crate) fn client<T: MakeTransport>(server: &Server) -> Client<T> {
    builder(server).build().unwrap()
}

pub(crate) fn push_request(msg_random: u32) -> PushRequest {
    PushRequest::new(msg_random, [TextElem::new("hello").into()])
}

fn ok_tags(seen: &Seen) -> Reply {
    let accounts = seen.json()["To_Account"].clone();
    let tags: Vec<Value> = accounts
        .as_array()
        .map(|a| {
            a.iter()
                .map(|u| json!({"To_Account": u, "Tags": [format!("tag-of-{}", u.as_str().unwrap_or(""))]}))
                .collect()
        })
        .unwrap_or_default();
    Reply::ok(json!({"UserTags": tags}))
}

fn ok_push() -> Reply {
    Reply::ok(json!({"TaskId": "1400000000_1_2_3"}))
}

/// Checks everything about a request but its body: method, path, the five query parameters
/// (the UserSig verified with the key), headers. Returns the UserSig's claims.
pub(crate) fn assert_well_formed(seen: &Seen, command: &str) -> Claims {
    assert_eq!(seen.method, "POST", "{command}");
    assert_eq!(seen.path, format!("/v4/all_member_push/{command}"));
    let names: Vec<&str> = seen.query.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(
        names,
        ["sdkappid", "identifier", "usersig", "random", "contenttype"],
        "{command}"
    );
    assert_eq!(seen.param("sdkappid"), Some("1400000000"));
    assert_eq!(seen.param("identifier"), Some(ADMIN));
    assert_eq!(seen.param("contenttype"), Some("json"));
    seen.random()
        .parse::<u32>()
        .unwrap_or_else(|e| panic!("{command}: random {:?}: {e}", seen.random()));
    let claims = usersig::verify(
        &seen.usersig(),
        SDKAPPID,
        ADMIN,
        &SecretKey::new(KEY),
        SystemClock.unix_time(),
    )
    .unwrap_or_else(|e| panic!("{command}: the UserSig verifies: {e}"));
    assert_eq!(seen.headers["content-type"], "application/json");
    assert!(
        seen.headers["user-agent"]
            .to_str()
            .unwrap()
            .starts_with("tim-rs/")
    );
    claims
}

/// The first documented sample of `command` with a request and a successful answer.
fn sample(spec: &Value, command: &str) -> (Value, Value) {
    crate::spec_json::endpoint(spec, command)["samples"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s.get("request").is_some() && s["response"]["ActionStatus"] == "OK")
        .map(|s| (s["request"].clone(), s["response"].clone()))
        .unwrap_or_else(|| panic!("{command} has a successful sample"))
}

fn typed<R: DeserializeOwned>(samples: &HashMap<String, (Value, Value)>, command: &str) -> R {
    serde_json::from_value(samples[command].0.clone()).unwrap()
}

/// Every field of the sample answer came through decoding.
fn assert_decoded(command: &str, got: &impl Serialize, samples: &HashMap<String, (Value, Value)>) {
    let got = serde_json::to_value(got).unwrap();
    for (k, v) in samples[command].1.as_object().unwrap() {
        assert_eq!(&got[k], v, "{command}: field {k}");
    }
}

async fn all_ten_endpoints_succeed<T: MakeTransport>() {
    let spec = spec();
    let commands: Vec<String> = tim_core::Command::ALL
        .iter()
        .map(|c| c.command().to_owned())
        .collect();
    let samples: HashMap<String, (Value, Value)> = commands
        .iter()
        .map(|c| (c.clone(), sample(&spec, c)))
        .collect();
    let answers = samples.clone();
    let server = Server::start(move |seen, _| {
        let mut answer = answers[seen.command()].1.clone();
        // Fields a later API revision might add are accepted.
        answer["FieldFromTheFuture"] = json!({"nested": [1, 2, 3]});
        Reply::Json(answer)
    })
    .await;
    let c = client::<T>(&server);
    let s = &samples;
    assert_decoded("im_push", &c.push(typed(s, "im_push")).await.unwrap(), s);
    assert_decoded(
        "im_set_attr_name",
        &c.set_attr_name(typed(s, "im_set_attr_name")).await.unwrap(),
        s,
    );
    assert_decoded(
        "im_get_attr_name",
        &c.get_attr_name(typed(s, "im_get_attr_name")).await.unwrap(),
        s,
    );
    assert_decoded(
        "im_get_attr",
        &c.get_attr(typed(s, "im_get_attr")).await.unwrap(),
        s,
    );
    assert_decoded(
        "im_set_attr",
        &c.set_attr(typed(s, "im_set_attr")).await.unwrap(),
        s,
    );
    assert_decoded(
        "im_remove_attr",
        &c.remove_attr(typed(s, "im_remove_attr")).await.unwrap(),
        s,
    );
    assert_decoded(
        "im_get_tag",
        &c.get_tag(typed(s, "im_get_tag")).await.unwrap(),
        s,
    );
    assert_decoded(
        "im_add_tag",
        &c.add_tag(typed(s, "im_add_tag")).await.unwrap(),
        s,
    );
    assert_decoded(
        "im_remove_tag",
        &c.remove_tag(typed(s, "im_remove_tag")).await.unwrap(),
        s,
    );
    assert_decoded(
        "im_remove_all_tags",
        &c.remove_all_tags(typed(s, "im_remove_all_tags"))
            .await
            .unwrap(),
        s,
    );
    let seen = server.seen();
    let sent: Vec<&str> = seen.iter().map(Seen::command).collect();
    assert_eq!(
        sent, commands,
        "one request per call, each to its own command"
    );
    for r in &seen {
        assert_well_formed(r, r.command());
        assert_eq!(r.json(), samples[r.command()].0, "{}: body", r.command());
    }
    let randoms: BTreeSet<String> = seen.iter().map(Seen::random).collect();
    assert_eq!(randoms.len(), 10, "a fresh random per request");
    // The UserSig is cached: one signature for all ten calls.
    let sigs: BTreeSet<String> = seen.iter().map(Seen::usersig).collect();
    assert_eq!(sigs.len(), 1);
}

async fn api_errors_are_typed_and_not_retried<T: MakeTransport>() {
    let server = Server::start(|_, _| Reply::fail(90009, "need admin")).await;
    let err = client::<T>(&server)
        .get_tag(GetTagRequest::new(["u1"]))
        .await
        .unwrap_err();
    assert_eq!(err.api_code(), Some(ErrorCode::AdminRequired));
    let Error::Api(api) = &err else {
        panic!("{err:?}")
    };
    assert_eq!(api.info(), "need admin");
    assert_eq!(server.seen().len(), 1);
    assert!(err.to_string().contains("90009"), "{err}");
}

async fn bad_gateway_with_an_html_body<T: MakeTransport>() {
    let html = b"<html><body><h1>502 Bad Gateway</h1></body></html>".to_vec();
    let page = html.clone();
    let server =
        Server::start(move |_, _| Reply::Raw(StatusCode::BAD_GATEWAY, "text/html", page.clone()))
            .await;
    let c = client::<T>(&server);
    let err = c.get_tag(GetTagRequest::new(["u1"])).await.unwrap_err();
    let Error::HttpStatus { status, body } = &err else {
        panic!("{err:?}")
    };
    assert_eq!(*status, StatusCode::BAD_GATEWAY);
    assert_eq!(&body[..], &html[..]);
    assert_eq!(
        server.seen().len(),
        3,
        "idempotent: retried up to 3 attempts"
    );
    let err = c.push(push_request(1)).await.unwrap_err();
    assert!(matches!(err, Error::HttpStatus { .. }), "{err:?}");
    assert_eq!(server.seen().len(), 4, "push: not repeated after a 502");
}

async fn truncated_empty_and_non_json_bodies<T: MakeTransport>() {
    let cases: Vec<(&[u8], DecodeErrorKind, usize)> = vec![
        (
            br#"{"ActionStatus":"OK","ErrorCode":0,"UserTa"#,
            DecodeErrorKind::Truncated,
            3,
        ),
        (b"", DecodeErrorKind::Empty, 3),
        (b"<html>maintenance</html>", DecodeErrorKind::NotJson, 1),
        (br#"["not","an","envelope"]"#, DecodeErrorKind::Shape, 1),
    ];
    for (bytes, kind, attempts) in cases {
        let body = bytes.to_vec();
        let server =
            Server::start(move |_, _| Reply::Raw(StatusCode::OK, "application/json", body.clone()))
                .await;
        let err = client::<T>(&server)
            .get_tag(GetTagRequest::new(["u1"]))
            .await
            .unwrap_err();
        let Error::Decode {
            kind: got, body, ..
        } = &err
        else {
            panic!("{kind:?}: {err:?}")
        };
        assert_eq!(*got, kind);
        assert_eq!(&body[..], bytes, "{kind:?}: body kept");
        assert_eq!(server.seen().len(), attempts, "{kind:?}: attempts");
    }
}

async fn a_body_cut_short_is_a_transport_error<T: MakeTransport>() {
    let server = Server::start(|_, _| Reply::CutShort {
        declared: 500,
        sent: br#"{"ActionStatus":"OK","#.to_vec(),
    })
    .await;
    let c = builder::<T>(&server)
        .retry_policy(RetryPolicy::none())
        .build()
        .unwrap();
    let err = c.get_tag(GetTagRequest::new(["u1"])).await.unwrap_err();
    let Error::Transport(t) = &err else {
        panic!("{err:?}")
    };
    assert_eq!(t.sent(), Sent::Maybe);
    assert!(std::error::Error::source(t).is_some(), "the cause is kept");
}

async fn a_server_that_never_answers_times_out<T: MakeTransport>() {
    let server = Server::start(|_, _| Reply::Hang).await;
    let c = builder::<T>(&server)
        .timeout(Duration::from_millis(300))
        .retry_policy(
            RetryPolicy::default()
                .with_max_attempts(2)
                .with_initial_backoff(Duration::from_millis(10)),
        )
        .build()
        .unwrap();
    let started = Instant::now();
    let err = c.get_tag(GetTagRequest::new(["u1"])).await.unwrap_err();
    let took = started.elapsed();
    assert!(
        matches!(err, Error::Timeout(d) if d == Duration::from_millis(300)),
        "{err:?}"
    );
    assert!(took >= Duration::from_millis(600), "{took:?}");
    assert!(took < Duration::from_secs(5), "{took:?}");
    assert_eq!(server.seen().len(), 2, "a timeout is retried for tags");

    let started = Instant::now();
    let err = c.push(push_request(7)).await.unwrap_err();
    assert!(matches!(err, Error::Timeout(_)), "{err:?}");
    assert!(started.elapsed() < Duration::from_secs(3));
    assert_eq!(
        server.seen().len(),
        3,
        "a push is not repeated after a timeout"
    );
}

async fn a_dropped_connection_is_retried_only_when_idempotent<T: MakeTransport>() {
    let server = Server::start(|seen, i| if i == 0 { Reply::Drop } else { ok_tags(seen) }).await;
    let tags = client::<T>(&server)
        .get_tag(GetTagRequest::new(["u1"]))
        .await
        .unwrap();
    assert_eq!(tags.user_tags[0].tags, ["tag-of-u1"]);
    assert_eq!(server.seen().len(), 2);

    let server = Server::start(|_, i| if i == 0 { Reply::Drop } else { ok_push() }).await;
    let err = client::<T>(&server)
        .push(push_request(9))
        .await
        .unwrap_err();
    let Error::Transport(t) = &err else {
        panic!("{err:?}")
    };
    assert_eq!(t.sent(), Sent::Maybe);
    assert_eq!(server.seen().len(), 1, "the push is not repeated");
}

async fn a_refused_connection_is_not_sent_and_retried<T: MakeTransport>() {
    // A port that was just free: nothing listens there.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let c = Client::<T>::builder()
        .sdkappid(SDKAPPID)
        .secret_key(KEY)
        .base_url(format!("http://127.0.0.1:{port}").parse().unwrap())
        .retry_policy(
            RetryPolicy::default()
                .with_max_attempts(2)
                .with_initial_backoff(Duration::from_millis(5)),
        )
        .build()
        .unwrap();
    let err = c.push(push_request(3)).await.unwrap_err();
    let Error::Transport(t) = &err else {
        panic!("{err:?}")
    };
    assert_eq!(t.sent(), Sent::No);
    assert!(err.is_retryable(false), "not sent: safe even for a push");
}

async fn rate_limited_60007_is_waited_out<T: MakeTransport>() {
    let server = Server::start(|seen, i| match (seen.command(), i) {
        (_, 0) => Reply::fail(60007, "too many requests"),
        ("im_get_tag", _) => ok_tags(seen),
        _ => Reply::fail(60007, "too many requests"),
    })
    .await;
    let c = client::<T>(&server);
    let tags = c.get_tag(GetTagRequest::new(["u1"])).await.unwrap();
    assert_eq!(tags.user_tags.len(), 1);
    let seen = server.seen();
    assert_eq!(seen.len(), 2);
    let gap = seen[1].at - seen[0].at;
    assert!(
        gap >= Duration::from_millis(45),
        "paused after 60007: {gap:?}"
    );

    // Surfaced only when the retries are exhausted.
    let err = c.push(push_request(5)).await.unwrap_err();
    assert_eq!(err.api_code(), Some(ErrorCode::RateLimited));
    assert_eq!(server.seen().len(), 5);

    // A push is waited out too (60007 means "not executed"), with the same body.
    let server = Server::start(|_, i| {
        if i == 0 {
            Reply::fail(60007, "too many requests")
        } else {
            ok_push()
        }
    })
    .await;
    let answer = client::<T>(&server).push(push_request(11)).await.unwrap();
    assert_eq!(answer.task_id, "1400000000_1_2_3");
    let seen = server.seen();
    assert_eq!(seen.len(), 2);
    assert_eq!(seen[0].body, seen[1].body);
    assert!(
        seen[1].at - seen[0].at > Duration::from_secs(1),
        "pushes stay > 1 s apart"
    );
}

async fn internal_error_91000_is_retried_for_tags_not_for_push<T: MakeTransport>() {
    let server = Server::start(|seen, i| match (seen.command(), i) {
        ("im_get_tag", 0) => Reply::fail(91000, "internal error"),
        ("im_get_tag", _) => ok_tags(seen),
        (_, 2) => Reply::fail(91000, "internal error"),
        _ => ok_push(),
    })
    .await;
    let c = client::<T>(&server);
    c.get_tag(GetTagRequest::new(["u1"])).await.unwrap();
    assert_eq!(server.seen().len(), 2);
    let err = c.push(push_request(21)).await.unwrap_err();
    assert_eq!(err.api_code(), Some(ErrorCode::InternalError));
    assert_eq!(server.seen().len(), 3, "the push is not repeated");

    // Opting in repeats the very same push (same MsgRandom), with a fresh `random`.
    let server = Server::start(|_, i| {
        if i == 0 {
            Reply::fail(91000, "internal error")
        } else {
            ok_push()
        }
    })
    .await;
    let c = client::<T>(&server);
    let careful = c.with_retry_policy(c.retry_policy().with_non_idempotent_retries(true));
    careful.push(push_request(31)).await.unwrap();
    let seen = server.seen();
    assert_eq!(seen.len(), 2);
    assert_eq!(seen[0].body, seen[1].body);
    assert_eq!(seen[1].json()["MsgRandom"], 31);
    assert_ne!(seen[0].random(), seen[1].random());
}

/// A wall clock that moves one second each time it is read, so that every signature is made
/// at a different second.
#[derive(Debug, Default)]
struct SteppingClock(AtomicU64);

impl Clock for SteppingClock {
    fn now(&self) -> Instant {
        Instant::now()
    }
    fn unix_time(&self) -> u64 {
        SystemClock.unix_time() + self.0.fetch_add(1, Ordering::SeqCst)
    }
}

async fn expired_usersig_70001_is_resigned_once<T: MakeTransport>() {
    let server = Server::start(|seen, i| {
        if i == 0 {
            Reply::fail(70001, "UserSig expired")
        } else {
            ok_tags(seen)
        }
    })
    .await;
    let c = builder::<T>(&server)
        .clock(SteppingClock::default())
        .build()
        .unwrap();
    c.get_tag(GetTagRequest::new(["u1"])).await.unwrap();
    let seen = server.seen();
    assert_eq!(seen.len(), 2);
    assert_ne!(seen[0].usersig(), seen[1].usersig(), "signed anew");
    let first = usersig::decode(&seen[0].usersig()).unwrap();
    let second = usersig::verify(
        &seen[1].usersig(),
        SDKAPPID,
        ADMIN,
        &SecretKey::new(KEY),
        SystemClock.unix_time() + 100,
    )
    .unwrap();
    assert!(second.time > first.time);

    // Once only.
    let server = Server::start(|_, _| Reply::fail(70001, "UserSig expired")).await;
    let err = client::<T>(&server)
        .get_tag(GetTagRequest::new(["u1"]))
        .await
        .unwrap_err();
    assert_eq!(err.api_code(), Some(ErrorCode::UserSigExpired));
    assert_eq!(server.seen().len(), 2);
}

async fn unknown_response_fields_are_accepted<T: MakeTransport>() {
    let server = Server::start(|_, _| {
        Reply::Json(json!({
            "ActionStatus": "OK", "ErrorCode": 0, "ErrorInfo": "", "ErrorDisplay": "",
            "RequestId": "abc", "Extra": {"deep": [null, true]},
            "UserTags": [{"To_Account": "u1", "Tags": ["a"], "Since": 1700000000}],
        }))
    })
    .await;
    let tags = client::<T>(&server)
        .get_tag(GetTagRequest::new(["u1"]))
        .await
        .unwrap();
    assert_eq!(tags.user_tags[0].to_account, "u1");
    assert_eq!(tags.user_tags[0].tags, ["a"]);
}

async fn a_batch_of_1050_accounts_is_11_calls_merged_in_order<T: MakeTransport>() {
    let server = Server::start(|seen, _| {
        let accounts = seen.json()["To_Account"].clone();
        if accounts
            .as_array()
            .is_some_and(|a| a.contains(&json!("user700")))
        {
            Reply::fail(90009, "scripted failure of one chunk")
        } else {
            ok_tags(seen)
        }
    })
    .await;
    let c = client::<T>(&server);
    let input: Vec<String> = (0..1050).map(|i| format!("user{i}")).collect();
    let report = c.get_tag_batch(input.clone()).await;
    let seen = server.seen();
    assert_eq!(report.calls, 11);
    assert_eq!(seen.len(), 11);
    // Every account was sent exactly once, in documented-size chunks.
    let mut sent: Vec<String> = Vec::new();
    for r in &seen {
        assert_well_formed(r, "im_get_tag");
        let chunk: Vec<String> = serde_json::from_value(r.json()["To_Account"].clone()).unwrap();
        assert!(chunk.len() <= 100);
        sent.extend(chunk);
    }
    sent.sort();
    let mut expected = input.clone();
    expected.sort();
    assert_eq!(sent, expected);
    // The failing chunk is reported with its accounts and the typed error.
    assert_eq!(report.failed.len(), 1);
    let failed = &report.failed[0];
    assert_eq!(failed.index, 7);
    assert_eq!(failed.items, input[700..800]);
    assert_eq!(failed.error.api_code(), Some(ErrorCode::AdminRequired));
    // The others are merged in input order.
    let merged: Vec<String> = report
        .merged
        .unwrap()
        .user_tags
        .into_iter()
        .map(|u| u.to_account)
        .collect();
    let expected: Vec<String> = input[..700].iter().chain(&input[800..]).cloned().collect();
    assert_eq!(merged, expected);
}

async fn keep_alive_reuses_one_connection<T: MakeTransport>() {
    let server = Server::start(|seen, _| ok_tags(seen)).await;
    let c = client::<T>(&server);
    for i in 0..20 {
        c.clone()
            .get_tag(GetTagRequest::new([format!("u{i}")]))
            .await
            .unwrap();
    }
    assert_eq!(server.seen().len(), 20);
    assert_eq!(
        server.connections(),
        1,
        "sequential calls share one keep-alive connection"
    );
    assert!(server.seen().iter().all(|s| s.connection == 0));
}

async fn the_client_keeps_the_rate_limit<T: MakeTransport>() {
    let server = Server::start(|seen, _| ok_tags(seen)).await;
    let c = builder::<T>(&server)
        .rate_limits(RateLimits::documented().with_per_second(20))
        .batch_concurrency(8)
        .build()
        .unwrap();
    let started = Instant::now();
    // 45 calls of one account each, 8 in flight: 20 go in the first second.
    let report = c
        .with_batch_concurrency(8)
        .batch::<tim_core::endpoints::RemoveAllTags, _>(Vec::<String>::new())
        .await;
    assert_eq!(report.calls, 0, "no items, no calls");
    let calls = (0..45).map(|i| {
        let c = c.clone();
        async move { c.get_tag(GetTagRequest::new([format!("u{i}")])).await }
    });
    let results = futures_util::future::join_all(calls).await;
    assert!(results.iter().all(Result::is_ok));
    assert!(
        started.elapsed() >= Duration::from_millis(1950),
        "{:?}",
        started.elapsed()
    );
    let seen = server.seen();
    let first = seen.iter().map(|s| s.at).min().unwrap();
    let early = seen
        .iter()
        .filter(|s| s.at - first < Duration::from_millis(900))
        .count();
    assert_eq!(early, 20, "20 calls in the first second");
}

async fn an_oversized_answer_is_refused<T: MakeTransport>() {
    let server = Server::start(|_, _| {
        let tags: Vec<Value> = (0..100)
            .map(|i| json!({"To_Account": format!("u{i}"), "Tags": ["a", "b", "c"]}))
            .collect();
        Reply::ok(json!({"UserTags": tags}))
    })
    .await;
    let c = builder::<T>(&server)
        .max_response_bytes(1024)
        .retry_policy(RetryPolicy::none())
        .build()
        .unwrap();
    let err = c.get_tag(GetTagRequest::new(["u1"])).await.unwrap_err();
    let Error::Transport(t) = &err else {
        panic!("{err:?}")
    };
    let cause = std::error::Error::source(t).unwrap();
    assert_eq!(
        cause.downcast_ref::<tim_core::BodyTooLarge>(),
        Some(&tim_core::BodyTooLarge::new(1024))
    );
}

macro_rules! both_transports {
    ($($scenario:ident),* $(,)?) => {
        mod reqwest {
            $(
                #[tokio::test]
                async fn $scenario() {
                    super::$scenario::<tim_reqwest::ReqwestTransport>().await;
                }
            )*
        }
        mod hyper {
            $(
                #[tokio::test]
                async fn $scenario() {
                    super::$scenario::<tim_hyper::HyperTransport>().await;
                }
            )*
        }
    };
}

both_transports!(
    all_ten_endpoints_succeed,
    api_errors_are_typed_and_not_retried,
    bad_gateway_with_an_html_body,
    truncated_empty_and_non_json_bodies,
    a_body_cut_short_is_a_transport_error,
    a_server_that_never_answers_times_out,
    a_dropped_connection_is_retried_only_when_idempotent,
    a_refused_connection_is_not_sent_and_retried,
    rate_limited_60007_is_waited_out,
    internal_error_91000_is_retried_for_tags_not_for_push,
    expired_usersig_70001_is_resigned_once,
    unknown_response_fields_are_accepted,
    a_batch_of_1050_accounts_is_11_calls_merged_in_order,
    keep_alive_reuses_one_connection,
    the_client_keeps_the_rate_limit,
    an_oversized_answer_is_refused,
);
