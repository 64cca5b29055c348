//! One behaviour suite for the client, run against both transports (`reqwest::*` and
//! `hyper::*`) over real HTTP on loopback: a local hyper server answers each scenario and
//! records every request, which the tests check field by field.

use std::collections::{BTreeSet, HashMap};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use tim_core::ErrorKind;
use tim_core::all_member_push::{GetTagRequest, PushRequest};
use tim_core::common::TextElem;
use tim_core::http::StatusCode;
use tim_core::usersig::{self, Claims};
use tim_core::{
    Client, ClientBuilder, Clock, DecodeErrorKind, Endpoint, EndpointVisitor, ErrorCode,
    MakeTransport, RateLimits, RetryPolicy, SecretKey, Sent, SystemClock, Transport,
};

use crate::http_server::{Reply, Seen, Server};

pub(crate) const SDKAPPID: u64 = 1400000000;
pub(crate) const KEY: &str = "suite-secret-key-5bd2850fff3ecb11d7c805251c51ee46";
pub(crate) const ADMIN: &str = "administrator";

/// A builder pointed at `server`, with quick retries for tests.
pub(crate) fn builder<T>(server: &Server) -> ClientBuilder<T> {
    Client::<T>::builder()
        .with_sdkappid(SDKAPPID)
        .with_secret_key(KEY)
        .with_base_url(server.base_url())
        .with_timeout(Duration::from_secs(5))
        .with_retry_policy(
            RetryPolicy::default()
                .with_max_attempts(3)
                .with_initial_backoff(Duration::from_millis(20)),
        )
        .with_rate_limits(RateLimits::documented().with_throttle_pause(Duration::from_millis(50)))
}

pub(crate) fn client<T: MakeTransport>(server: &Server) -> Client<T> {
    builder(server).build().unwrap()
}

pub(crate) fn push_request(msg_random: u32) -> PushRequest {
    PushRequest::new(msg_random, [TextElem::new("hello")])
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
    let path = if command.contains('/') {
        format!("/v4/{command}")
    } else {
        format!("/v4/all_member_push/{command}")
    };
    assert_eq!(seen.path, path);
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
fn sample(id: tim_core::EndpointId) -> (Value, Value) {
    crate::spec_json::endpoint(id)
        .samples
        .iter()
        .find(|s| s.request.is_some() && s.response["ActionStatus"] == "OK")
        .map(|s| (s.request.clone().unwrap(), s.response.clone()))
        .unwrap_or_else(|| panic!("{id} has a successful sample"))
}

fn typed<R: DeserializeOwned>(samples: &HashMap<String, (Value, Value)>, command: &str) -> R {
    serde_json::from_value(samples[command].0.clone()).unwrap()
}

/// Every field of the sample answer came through decoding.
fn assert_decoded(command: &str, got: &impl Serialize, samples: &HashMap<String, (Value, Value)>) {
    let got = serde_json::to_value(got).unwrap();
    for (k, v) in samples[command].1.as_object().unwrap() {
        if matches!(
            k.as_str(),
            "ActionStatus" | "ErrorCode" | "ErrorInfo" | "ErrorDisplay"
        ) {
            // The envelope is checked by decoding and not kept in the payload.
            assert!(got.get(k).is_none(), "{command}: {k} kept in the payload");
            continue;
        }
        assert_eq!(
            without_empty_lists(&got[k]),
            without_empty_lists(v),
            "{command}: field {k}"
        );
    }
}

/// `v` without the object members that are empty lists: an answer that omits a list decodes as
/// an empty one.
fn without_empty_lists(v: &Value) -> Value {
    match v {
        Value::Object(m) => Value::Object(
            m.iter()
                .filter(|(_, x)| x.as_array().is_none_or(|a| !a.is_empty()))
                .map(|(k, x)| (k.clone(), without_empty_lists(x)))
                .collect(),
        ),
        Value::Array(a) => Value::Array(a.iter().map(without_empty_lists).collect()),
        other => other.clone(),
    }
}

/// Calls one endpoint with its sample request and checks the decoded answer.
struct CallSample<'a, T> {
    client: &'a Client<T>,
    samples: &'a HashMap<String, (Value, Value)>,
}

impl<'a, T: Transport> EndpointVisitor for CallSample<'a, T> {
    type Output = std::pin::Pin<Box<dyn std::future::Future<Output = ()> + 'a>>;
    fn visit<E: Endpoint>(self) -> Self::Output {
        Box::pin(async move {
            let key = E::INFO.id.to_string();
            let request: E::Request = typed(self.samples, &key);
            let answer = self.client.call::<E>(request).await.unwrap();
            assert_decoded(&key, &answer, self.samples);
        })
    }
}

async fn every_endpoint_succeeds<T: MakeTransport>() {
    let commands: Vec<String> = tim_core::EndpointId::ALL
        .iter()
        .map(|c| c.to_string())
        .collect();
    let samples: HashMap<String, (Value, Value)> = tim_core::EndpointId::ALL
        .iter()
        .map(|c| (c.to_string(), sample(*c)))
        .collect();
    let answers = samples.clone();
    let server = Server::start(move |seen, _| {
        let mut answer = answers[seen.endpoint()].1.clone();
        // Fields a later API revision might add are accepted.
        answer["FieldFromTheFuture"] = json!({"nested": [1, 2, 3]});
        Reply::Json(answer)
    })
    .await;
    let c = client::<T>(&server);
    for id in tim_core::EndpointId::ALL {
        id.visit(CallSample {
            client: &c,
            samples: &samples,
        })
        .await;
    }
    let seen = server.seen();
    let sent: Vec<&str> = seen.iter().map(Seen::endpoint).collect();
    assert_eq!(
        sent, commands,
        "one request per call, each to its own command"
    );
    for r in &seen {
        assert_well_formed(r, r.endpoint());
        assert_eq!(r.json(), samples[r.endpoint()].0, "{}: body", r.endpoint());
    }
    let randoms: BTreeSet<String> = seen.iter().map(Seen::random).collect();
    assert_eq!(randoms.len(), seen.len(), "a fresh random per request");
    // The UserSig is cached: one signature for every call.
    let sigs: BTreeSet<String> = seen.iter().map(Seen::usersig).collect();
    assert_eq!(sigs.len(), 1);
}

async fn api_errors_are_typed_and_not_retried<T: MakeTransport>() {
    let server = Server::start(|_, _| Reply::fail(90009, "need admin")).await;
    let err = client::<T>(&server)
        .all_member_push()
        .get_tag(GetTagRequest::new(["u1"]))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some(ErrorCode::AdminRequired));
    let ErrorKind::Api(api) = err.kind() else {
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
    let err = c
        .all_member_push()
        .get_tag(GetTagRequest::new(["u1"]))
        .await
        .unwrap_err();
    let ErrorKind::HttpStatus { status, body, .. } = err.kind() else {
        panic!("{err:?}")
    };
    assert_eq!(*status, StatusCode::BAD_GATEWAY);
    assert_eq!(&body[..], &html[..]);
    assert_eq!(
        server.seen().len(),
        3,
        "idempotent: retried up to 3 attempts"
    );
    let err = c.all_member_push().push(push_request(1)).await.unwrap_err();
    assert!(
        matches!(err.kind(), ErrorKind::HttpStatus { .. }),
        "{err:?}"
    );
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
        // Not JSON with a 200: a gateway failure, retried like a 502 for an idempotent call.
        (b"<html>maintenance</html>", DecodeErrorKind::NotJson, 3),
        // JSON of the wrong shape: final.
        (br#"["not","an","envelope"]"#, DecodeErrorKind::Shape, 1),
    ];
    for (bytes, kind, attempts) in cases {
        let body = bytes.to_vec();
        let server =
            Server::start(move |_, _| Reply::Raw(StatusCode::OK, "application/json", body.clone()))
                .await;
        let err = client::<T>(&server)
            .all_member_push()
            .get_tag(GetTagRequest::new(["u1"]))
            .await
            .unwrap_err();
        let ErrorKind::Decode {
            kind: got, body, ..
        } = err.kind()
        else {
            panic!("{kind:?}: {err:?}")
        };
        assert_eq!(*got, kind);
        assert_eq!(&body[..], bytes, "{kind:?}: body kept");
        assert_eq!(server.seen().len(), attempts, "{kind:?}: attempts");
    }
}

async fn an_html_page_with_status_200_is_a_gateway_failure<T: MakeTransport>() {
    // A proxy in front of the service answers 200 with its own page, then recovers.
    let page = b"<!DOCTYPE html><html><body>Service maintenance</body></html>".to_vec();
    let server = Server::start(move |seen, i| match (seen.command(), i) {
        ("im_get_tag", 0) => Reply::Raw(StatusCode::OK, "text/html", page.clone()),
        ("im_get_tag", _) => ok_tags(seen),
        (_, 2) => Reply::Raw(StatusCode::OK, "text/html", page.clone()),
        _ => ok_push(),
    })
    .await;
    let c = client::<T>(&server);
    // Idempotent: repeated, and the repeat succeeds.
    let tags = c
        .all_member_push()
        .get_tag(GetTagRequest::new(["u1"]))
        .await
        .unwrap();
    assert_eq!(tags.user_tags[0].tags, ["tag-of-u1"]);
    assert_eq!(server.seen().len(), 2, "the tag read was repeated once");
    assert_eq!(server.seen()[0].body, server.seen()[1].body);

    // im_push: the page may hide an executed push, so it is not repeated...
    let err = c
        .all_member_push()
        .push(push_request(21))
        .await
        .unwrap_err();
    let ErrorKind::Decode { kind, .. } = err.kind() else {
        panic!("{err:?}")
    };
    assert_eq!(*kind, DecodeErrorKind::NotJson);
    assert!(err.maybe_sent());
    assert_eq!(
        err.retry_class(),
        Some(tim_core::RetryClass::IdempotentOnly)
    );
    assert_eq!(server.seen().len(), 3, "the push was not repeated");

    // ...unless the caller opts in, and then with the same body (the same MsgRandom).
    let server = Server::start(move |_, i| {
        if i == 0 {
            Reply::Raw(
                StatusCode::OK,
                "text/html",
                b"<html>maintenance</html>".to_vec(),
            )
        } else {
            ok_push()
        }
    })
    .await;
    let opted = client::<T>(&server)
        .with_retry_policy(RetryPolicy::default().with_non_idempotent_retries(true));
    opted
        .all_member_push()
        .push(push_request(22))
        .await
        .unwrap();
    let seen = server.seen();
    assert_eq!(seen.len(), 2);
    assert_eq!(seen[0].body, seen[1].body);
}

async fn a_body_cut_short_is_a_transport_error<T: MakeTransport>() {
    let server = Server::start(|_, _| Reply::CutShort {
        declared: 500,
        sent: br#"{"ActionStatus":"OK","#.to_vec(),
    })
    .await;
    let c = builder::<T>(&server)
        .with_retry_policy(RetryPolicy::none())
        .build()
        .unwrap();
    let err = c
        .all_member_push()
        .get_tag(GetTagRequest::new(["u1"]))
        .await
        .unwrap_err();
    let ErrorKind::Transport(t) = err.kind() else {
        panic!("{err:?}")
    };
    assert_eq!(t.sent(), Sent::Maybe);
    assert!(std::error::Error::source(t).is_some(), "the cause is kept");
}

async fn a_server_that_never_answers_times_out<T: MakeTransport>() {
    let server = Server::start(|_, _| Reply::Hang).await;
    let c = builder::<T>(&server)
        .with_timeout(Duration::from_millis(300))
        .with_retry_policy(
            RetryPolicy::default()
                .with_max_attempts(2)
                .with_initial_backoff(Duration::from_millis(10)),
        )
        .build()
        .unwrap();
    let started = Instant::now();
    let err = c
        .all_member_push()
        .get_tag(GetTagRequest::new(["u1"]))
        .await
        .unwrap_err();
    let took = started.elapsed();
    assert!(
        matches!(err.kind(), ErrorKind::Timeout(d) if *d == Duration::from_millis(300)),
        "{err:?}"
    );
    assert!(took >= Duration::from_millis(600), "{took:?}");
    assert!(took < Duration::from_secs(5), "{took:?}");
    assert_eq!(server.seen().len(), 2, "a timeout is retried for tags");

    let started = Instant::now();
    let err = c.all_member_push().push(push_request(7)).await.unwrap_err();
    assert!(matches!(err.kind(), ErrorKind::Timeout(_)), "{err:?}");
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
        .all_member_push()
        .get_tag(GetTagRequest::new(["u1"]))
        .await
        .unwrap();
    assert_eq!(tags.user_tags[0].tags, ["tag-of-u1"]);
    assert_eq!(server.seen().len(), 2);

    let server = Server::start(|_, i| if i == 0 { Reply::Drop } else { ok_push() }).await;
    let err = client::<T>(&server)
        .all_member_push()
        .push(push_request(9))
        .await
        .unwrap_err();
    let ErrorKind::Transport(t) = err.kind() else {
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
        .with_sdkappid(SDKAPPID)
        .with_secret_key(KEY)
        .with_base_url(format!("http://127.0.0.1:{port}").parse().unwrap())
        .with_retry_policy(
            RetryPolicy::default()
                .with_max_attempts(2)
                .with_initial_backoff(Duration::from_millis(5)),
        )
        .build()
        .unwrap();
    let err = c.all_member_push().push(push_request(3)).await.unwrap_err();
    let ErrorKind::Transport(t) = err.kind() else {
        panic!("{err:?}")
    };
    assert_eq!(t.sent(), Sent::No);
    assert!(err.is_retryable(false), "not sent: safe even for a push");
    // The message names the endpoint, the attempt's random and the host, never the query.
    let shown = err.to_string();
    assert_eq!(err.host(), Some(format!("127.0.0.1:{port}").as_str()));
    assert!(
        shown.starts_with("all_member_push/im_push (random "),
        "{shown}"
    );
    assert!(
        shown.contains(&format!("(host 127.0.0.1:{port})")),
        "{shown}"
    );
    assert!(
        !shown.contains("usersig") && !shown.contains("sdkappid="),
        "{shown}"
    );
}

async fn rate_limited_60007_is_waited_out<T: MakeTransport>() {
    let server = Server::start(|seen, i| match (seen.command(), i) {
        (_, 0) => Reply::fail(60007, "too many requests"),
        ("im_get_tag", _) => ok_tags(seen),
        _ => Reply::fail(60007, "too many requests"),
    })
    .await;
    let c = client::<T>(&server);
    let tags = c
        .all_member_push()
        .get_tag(GetTagRequest::new(["u1"]))
        .await
        .unwrap();
    assert_eq!(tags.user_tags.len(), 1);
    let seen = server.seen();
    assert_eq!(seen.len(), 2);
    let gap = seen[1].at - seen[0].at;
    // The documented limits are per second: the retry waits out a whole window (the default
    // throttle backoff of 1 s), with jitter above it.
    assert!(
        gap >= Duration::from_secs(1),
        "waited out the window after 60007: {gap:?}"
    );
    assert!(gap < Duration::from_secs(3), "{gap:?}");

    // Surfaced only when the retries are exhausted; every retry waited a second at least.
    let err = c.all_member_push().push(push_request(5)).await.unwrap_err();
    assert_eq!(err.code(), Some(ErrorCode::RateLimited));
    let seen = server.seen();
    assert_eq!(seen.len(), 5);
    for pair in seen[2..].windows(2) {
        assert!(pair[1].at - pair[0].at >= Duration::from_secs(1));
    }

    // A push is waited out too (60007 means "not executed"), with the same body.
    let server = Server::start(|_, i| {
        if i == 0 {
            Reply::fail(60007, "too many requests")
        } else {
            ok_push()
        }
    })
    .await;
    let answer = client::<T>(&server)
        .all_member_push()
        .push(push_request(11))
        .await
        .unwrap();
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
    c.all_member_push()
        .get_tag(GetTagRequest::new(["u1"]))
        .await
        .unwrap();
    assert_eq!(server.seen().len(), 2);
    let err = c
        .all_member_push()
        .push(push_request(21))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some(ErrorCode::InternalError));
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
    careful
        .all_member_push()
        .push(push_request(31))
        .await
        .unwrap();
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
        .with_clock(SteppingClock::default())
        .build()
        .unwrap();
    c.all_member_push()
        .get_tag(GetTagRequest::new(["u1"]))
        .await
        .unwrap();
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
        .all_member_push()
        .get_tag(GetTagRequest::new(["u1"]))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some(ErrorCode::UserSigExpired));
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
        .all_member_push()
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
    let report = c.all_member_push().get_tag_batch(input.clone()).await;
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
    assert_eq!(failed.error.code(), Some(ErrorCode::AdminRequired));
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
            .all_member_push()
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
        .with_rate_limits(RateLimits::documented().with_per_second(20))
        .with_batch_concurrency(8)
        .build()
        .unwrap();
    let started = Instant::now();
    // 45 calls of one account each, 8 in flight, paced one every (1 s + 20 ms) / 20 = 51 ms.
    let report = c
        .with_batch_concurrency(8)
        .batch::<tim_core::all_member_push::RemoveAllTags, _>(Vec::<String>::new())
        .await;
    assert_eq!(report.calls, 0, "no items, no calls");
    let calls = (0..45).map(|i| {
        let c = c.clone();
        async move {
            c.all_member_push()
                .get_tag(GetTagRequest::new([format!("u{i}")]))
                .await
        }
    });
    let results = futures_util::future::join_all(calls).await;
    assert!(results.iter().all(Result::is_ok));
    assert!(
        started.elapsed() >= Duration::from_millis(44 * 51),
        "{:?}",
        started.elapsed()
    );
    let mut at: Vec<Instant> = server.seen().iter().map(|s| s.at).collect();
    at.sort();
    // No sliding second holds more than 20 calls (the server's window algorithm is unknown,
    // so a burst at a window's edge must never happen)...
    for (i, t) in at.iter().enumerate() {
        let within = at[i..]
            .iter()
            .filter(|u| **u - *t < Duration::from_secs(1))
            .count();
        assert!(within <= 20, "{within} calls within a second of call {i}");
    }
    // ...and the calls are spread out, not sent in bursts.
    let bunched = at
        .windows(2)
        .filter(|w| w[1] - w[0] < Duration::from_millis(20))
        .count();
    assert!(
        bunched <= 2,
        "{bunched} calls less than 20 ms after the previous one"
    );
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
        .with_max_response_bytes(1024)
        .with_retry_policy(RetryPolicy::none())
        .build()
        .unwrap();
    let err = c
        .all_member_push()
        .get_tag(GetTagRequest::new(["u1"]))
        .await
        .unwrap_err();
    let ErrorKind::Transport(t) = err.kind() else {
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
    every_endpoint_succeeds,
    api_errors_are_typed_and_not_retried,
    bad_gateway_with_an_html_body,
    truncated_empty_and_non_json_bodies,
    an_html_page_with_status_200_is_a_gateway_failure,
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
