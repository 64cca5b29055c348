//! The client's behaviour with fake transports (closures and a virtual-time transport): retry
//! decisions, backoff, re-signing, rate limits, batches. No sockets; the cross-transport suite
//! over real HTTP is in `client_suite`.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::StreamExt as _;
use serde_json::{Value, json};
use tim_core::ErrorKind;
use tim_core::all_member_push::{GetTag, GetTagRequest, PushRequest, RemoveAllTags};
use tim_core::bytes::Bytes;
use tim_core::common::TextElem;
use tim_core::http;
use tim_core::{
    Client, Error, ErrorCode, ManualClock, RateLimits, RetryPolicy, SeededRandom, Sent, Transport,
    TransportError,
};

type Request = http::Request<Vec<u8>>;
type Answer = Result<http::Response<Bytes>, TransportError>;

fn json_answer(v: Value) -> Answer {
    Ok(http::Response::new(Bytes::from(v.to_string())))
}

fn ok_tags() -> Answer {
    json_answer(json!({"ActionStatus":"OK","ErrorCode":0,"ErrorInfo":"","UserTags":[]}))
}

fn ok_push() -> Answer {
    json_answer(json!({"ActionStatus":"OK","ErrorCode":0,"ErrorInfo":"","TaskId":"task-1"}))
}

fn fail(code: i64) -> Answer {
    json_answer(json!({"ActionStatus":"FAIL","ErrorCode":code,"ErrorInfo":"scripted"}))
}

/// A proxy's maintenance page with status 200.
fn html_200() -> Answer {
    Ok(http::Response::builder()
        .status(200)
        .header("content-type", "text/html")
        .body(Bytes::from_static(b"<html>maintenance</html>"))
        .unwrap())
}

fn query(req: &Request, name: &str) -> String {
    req.uri()
        .query()
        .unwrap_or_default()
        .split('&')
        .find_map(|p| p.strip_prefix(&format!("{name}=")))
        .unwrap_or_default()
        .to_owned()
}

fn push_request() -> PushRequest {
    PushRequest::new(424242, [TextElem::new("hello")])
}

/// A closure transport that answers request `i` with `script(i)` and records every request.
fn scripted(
    script: impl Fn(usize) -> Answer + Send + Sync + 'static,
) -> (impl Transport, Arc<Mutex<Vec<Request>>>) {
    let seen: Arc<Mutex<Vec<Request>>> = Arc::default();
    let log = Arc::clone(&seen);
    let transport = move |req: Request| {
        let i = {
            let mut s = log.lock().unwrap();
            s.push(req);
            s.len() - 1
        };
        let answer = script(i);
        async move { answer }
    };
    (transport, seen)
}

fn client<T: Transport>(transport: T) -> Client<T> {
    Client::builder()
        .with_sdkappid(1400000000)
        .with_secret_key("fake-suite-key")
        .with_rate_limits(RateLimits::off())
        .with_retry_policy(RetryPolicy::default().with_max_attempts(4))
        .build_with(transport)
        .unwrap()
}

fn run<F: std::future::Future>(f: F) -> F::Output {
    futures_executor::block_on(f)
}

#[test]
fn n_failures_then_success_per_retry_class() {
    /// (name, failure answer, failures before success, endpoint is push, expected attempts,
    /// succeeds)
    type Case = (&'static str, fn() -> Answer, usize, bool, usize, bool);
    let cases: Vec<Case> = vec![
        ("91000 on tags", || fail(91000), 2, false, 3, true),
        ("91000 on push", || fail(91000), 2, true, 1, false),
        ("60007 on push", || fail(60007), 2, true, 3, true),
        ("90024 on push", || fail(90024), 1, true, 2, true),
        ("90009 on tags", || fail(90009), 1, false, 1, false),
        (
            "502 on tags",
            || {
                Ok(http::Response::builder()
                    .status(502)
                    .body(Bytes::from_static(b"<html>bad gateway</html>"))
                    .unwrap())
            },
            3,
            false,
            4,
            true,
        ),
        (
            "502 on push",
            || {
                Ok(http::Response::builder()
                    .status(502)
                    .body(Bytes::new())
                    .unwrap())
            },
            1,
            true,
            1,
            false,
        ),
        (
            "not sent on push",
            || Err(TransportError::new(Sent::No, "refused")),
            3,
            true,
            4,
            true,
        ),
        (
            "maybe sent on push",
            || Err(TransportError::new(Sent::Maybe, "reset")),
            1,
            true,
            1,
            false,
        ),
        (
            "maybe sent on tags",
            || Err(TransportError::new(Sent::Maybe, "reset")),
            3,
            false,
            4,
            true,
        ),
        ("200 HTML on tags", html_200, 2, false, 3, true),
        ("200 HTML on push", html_200, 1, true, 1, false),
        (
            "200 JSON of the wrong shape on tags",
            || json_answer(json!(["not", "an", "envelope"])),
            1,
            false,
            1,
            false,
        ),
        ("5 failures on tags", || fail(91000), 5, false, 4, false),
    ];
    for (name, failure, n, is_push, attempts, succeeds) in cases {
        let (t, seen) = scripted(move |i| {
            if i < n {
                failure()
            } else if is_push {
                ok_push()
            } else {
                ok_tags()
            }
        });
        let c = client(t);
        let ok = if is_push {
            run(c.all_member_push().push(push_request())).is_ok()
        } else {
            run(c.all_member_push().get_tag(GetTagRequest::new(["u1"]))).is_ok()
        };
        let seen = seen.lock().unwrap();
        assert_eq!(seen.len(), attempts, "{name}: attempts");
        assert_eq!(ok, succeeds, "{name}: outcome");
        // The same body every time; a fresh `random` each time.
        assert!(seen.iter().all(|r| r.body() == seen[0].body()), "{name}");
        let randoms: std::collections::BTreeSet<String> =
            seen.iter().map(|r| query(r, "random")).collect();
        assert_eq!(randoms.len(), seen.len(), "{name}: random reused");
    }
}

#[test]
fn exhausted_retries_return_the_last_error() {
    let (t, seen) = scripted(|i| if i < 3 { fail(91000) } else { fail(60007) });
    let err = run(client(t)
        .all_member_push()
        .get_tag(GetTagRequest::new(["u1"])))
    .unwrap_err();
    assert_eq!(seen.lock().unwrap().len(), 4);
    assert_eq!(err.code(), Some(ErrorCode::RateLimited));
}

#[test]
fn push_opt_in_retry_keeps_the_msg_random() {
    let (t, seen) = scripted(|i| if i == 0 { fail(91000) } else { ok_push() });
    let c = client(t);
    let opted = c.with_retry_policy(c.retry_policy().with_non_idempotent_retries(true));
    let answer = run(opted.all_member_push().push(push_request())).unwrap();
    assert_eq!(answer.task_id, "task-1");
    let seen = seen.lock().unwrap();
    assert_eq!(seen.len(), 2);
    for r in seen.iter() {
        let body: Value = serde_json::from_slice(r.body()).unwrap();
        assert_eq!(body["MsgRandom"], 424242);
    }
    // The handle it was derived from still does not repeat pushes.
    assert!(!c.retry_policy().non_idempotent_retries());
}

#[test]
fn expired_usersig_resigns_once_with_a_key_and_never_with_a_fixed_sig() {
    // With a key: 70001 → re-sign → success. The clock moves between signatures.
    let clock = Arc::new(ManualClock::new(1_700_000_000));
    let ticking = Arc::clone(&clock);
    let (t, seen) = scripted(move |i| {
        ticking.advance(Duration::from_secs(5));
        if i == 0 { fail(70001) } else { ok_tags() }
    });
    let c = Client::builder()
        .with_sdkappid(1400000000)
        .with_secret_key("k")
        .with_clock(Arc::clone(&clock))
        .with_retry_policy(RetryPolicy::none())
        .build_with(t)
        .unwrap();
    run(c.all_member_push().get_tag(GetTagRequest::new(["u1"]))).unwrap();
    let sigs: Vec<String> = seen
        .lock()
        .unwrap()
        .iter()
        .map(|r| query(r, "usersig"))
        .collect();
    assert_eq!(sigs.len(), 2);
    assert_ne!(sigs[0], sigs[1], "re-signed");

    // Only once: 70001 twice is returned.
    let (t, seen) = scripted(|_| fail(70001));
    let err = run(client(t)
        .all_member_push()
        .get_tag(GetTagRequest::new(["u1"])))
    .unwrap_err();
    assert_eq!(err.code(), Some(ErrorCode::UserSigExpired));
    assert_eq!(seen.lock().unwrap().len(), 2);

    // A fixed UserSig cannot be renewed: no repeat.
    let (t, seen) = scripted(|_| fail(70001));
    let c = Client::builder()
        .with_sdkappid(1400000000)
        .with_usersig("fixed-sig")
        .build_with(t)
        .unwrap();
    assert!(run(c.all_member_push().get_tag(GetTagRequest::new(["u1"]))).is_err());
    assert_eq!(seen.lock().unwrap().len(), 1);
}

#[test]
fn invalid_requests_send_nothing() {
    let (t, seen) = scripted(|_| ok_tags());
    let too_many: Vec<String> = (0..101).map(|i| format!("u{i}")).collect();
    let err = run(client(t)
        .all_member_push()
        .get_tag(GetTagRequest::new(too_many)))
    .unwrap_err();
    assert!(matches!(err.kind(), ErrorKind::Invalid(_)), "{err:?}");
    assert_eq!(err.retry_class(), None);
    assert!(seen.lock().unwrap().is_empty());
}

/// A transport in virtual time: answers at once, and its sleeps move a manual clock.
struct Virtual {
    clock: Arc<ManualClock>,
    sleeps: Mutex<Vec<Duration>>,
    answer: Box<dyn Fn(&Request) -> Answer + Send + Sync>,
    calls: AtomicUsize,
}

impl Virtual {
    fn new(
        clock: &Arc<ManualClock>,
        answer: impl Fn(&Request) -> Answer + Send + Sync + 'static,
    ) -> Self {
        Self {
            clock: Arc::clone(clock),
            sleeps: Mutex::default(),
            answer: Box::new(answer),
            calls: AtomicUsize::new(0),
        }
    }
}

impl Transport for Virtual {
    async fn send(&self, request: Request) -> Answer {
        self.calls.fetch_add(1, Ordering::SeqCst);
        (self.answer)(&request)
    }
    async fn sleep(&self, duration: Duration) {
        self.sleeps.lock().unwrap().push(duration);
        self.clock.advance(duration);
    }
}

fn virtual_client(
    clock: &Arc<ManualClock>,
    answer: impl Fn(&Request) -> Answer + Send + Sync + 'static,
    limits: RateLimits,
    policy: RetryPolicy,
) -> Client<Virtual> {
    Client::builder()
        .with_sdkappid(1400000000)
        .with_secret_key("k")
        .with_clock(Arc::clone(clock))
        .with_random(SeededRandom::new(7))
        .with_rate_limits(limits)
        .with_retry_policy(policy)
        .build_with(Virtual::new(clock, answer))
        .unwrap()
}

#[test]
fn backoff_is_exponential_with_full_jitter_and_bounded_in_time() {
    let clock = Arc::new(ManualClock::new(1_700_000_000));
    let policy = RetryPolicy::default()
        .with_max_attempts(6)
        .with_initial_backoff(Duration::from_millis(100))
        .with_max_backoff(Duration::from_millis(800))
        .with_max_elapsed(Duration::from_secs(60));
    let c = virtual_client(&clock, |_| fail(91000), RateLimits::off(), policy);
    assert!(run(c.all_member_push().get_tag(GetTagRequest::new(["u1"]))).is_err());
    let sleeps = c.transport().sleeps.lock().unwrap().clone();
    assert_eq!(c.transport().calls.load(Ordering::SeqCst), 6);
    assert_eq!(sleeps.len(), 5);
    for (i, d) in sleeps.iter().enumerate() {
        let bound = policy.backoff_bound(i as u32 + 1);
        assert!(*d <= bound, "retry {}: {d:?} > {bound:?}", i + 1);
    }
    // Jitter: not all waits are at their bound.
    assert!(
        sleeps
            .iter()
            .enumerate()
            .any(|(i, d)| *d < policy.backoff_bound(i as u32 + 1))
    );

    // A total-time budget stops retries early.
    let clock = Arc::new(ManualClock::new(1_700_000_000));
    let tight = policy.with_max_elapsed(Duration::from_millis(150));
    let c = virtual_client(&clock, |_| fail(91000), RateLimits::off(), tight);
    assert!(run(c.all_member_push().get_tag(GetTagRequest::new(["u1"]))).is_err());
    assert!(
        clock.elapsed() <= Duration::from_millis(150),
        "{:?}",
        clock.elapsed()
    );
    assert!(c.transport().calls.load(Ordering::SeqCst) < 6);
}

#[test]
fn throttled_calls_wait_out_the_servers_window_in_virtual_time() {
    // 60007 three times, then success: every retry waits the 1 s floor plus jitter.
    let clock = Arc::new(ManualClock::new(1_700_000_000));
    let calls = AtomicUsize::new(0);
    let policy = RetryPolicy::default()
        .with_max_attempts(5)
        .with_initial_backoff(Duration::from_millis(100));
    let c = virtual_client(
        &clock,
        move |_| {
            if calls.fetch_add(1, Ordering::SeqCst) < 3 {
                fail(60007)
            } else {
                ok_tags()
            }
        },
        RateLimits::off(),
        policy,
    );
    run(c.all_member_push().get_tag(GetTagRequest::new(["u1"]))).unwrap();
    let sleeps = c.transport().sleeps.lock().unwrap().clone();
    assert_eq!(sleeps.len(), 3, "{sleeps:?}");
    for (i, d) in sleeps.iter().enumerate() {
        let floor = policy.throttle_backoff();
        assert!(*d >= floor, "retry {}: {d:?}", i + 1);
        assert!(*d <= floor + policy.backoff_bound(i as u32 + 1), "{d:?}");
    }
    assert!(
        sleeps.iter().any(|d| *d > policy.throttle_backoff()),
        "jitter above the floor: {sleeps:?}"
    );

    // A push refused as too frequent (90024) is waited out the same way, and the total-time
    // budget still bounds it: with 1.5 s in all, one retry fits and a second does not.
    let clock = Arc::new(ManualClock::new(1_700_000_000));
    let c = virtual_client(
        &clock,
        |_| fail(90024),
        RateLimits::off(),
        policy.with_max_elapsed(Duration::from_millis(1500)),
    );
    let err = run(c.all_member_push().push(push_request())).unwrap_err();
    assert_eq!(err.code(), Some(ErrorCode::PushTooFrequent));
    assert_eq!(c.transport().calls.load(Ordering::SeqCst), 2);
    assert!(clock.elapsed() >= Duration::from_secs(1));
    assert!(clock.elapsed() <= Duration::from_millis(1500));
}

#[test]
fn rate_limits_pace_calls_in_virtual_time_and_are_shared_by_clones() {
    let clock = Arc::new(ManualClock::new(1_700_000_000));
    let c = virtual_client(
        &clock,
        |_| ok_tags(),
        RateLimits::default(),
        RetryPolicy::none(),
    );
    let other = c.clone();
    for i in 0..250 {
        let who = if i % 2 == 0 { &c } else { &other };
        run(who.all_member_push().get_tag(GetTagRequest::new(["u1"]))).unwrap();
    }
    // Evenly paced at (1 s + 20 ms margin) / 100 = 10.2 ms: the 250th call goes at 249 × 10.2 ms,
    // and no second ever holds more than 100 calls.
    assert_eq!(clock.elapsed(), Duration::from_micros(249 * 10_200));

    // Pushes: more than one second apart.
    let clock = Arc::new(ManualClock::new(1_700_000_000));
    let c = virtual_client(
        &clock,
        |_| ok_push(),
        RateLimits::default(),
        RetryPolicy::none(),
    );
    for _ in 0..3 {
        run(c.all_member_push().push(push_request())).unwrap();
    }
    let sleeps = c.transport().sleeps.lock().unwrap().clone();
    assert_eq!(sleeps.len(), 2);
    assert!(
        sleeps.iter().all(|d| *d > Duration::from_secs(1)),
        "{sleeps:?}"
    );

    // A 60007 pauses the endpoint before the retry.
    let clock = Arc::new(ManualClock::new(1_700_000_000));
    let calls = AtomicUsize::new(0);
    let c = virtual_client(
        &clock,
        move |_| {
            if calls.fetch_add(1, Ordering::SeqCst) == 0 {
                fail(60007)
            } else {
                ok_tags()
            }
        },
        RateLimits::default().with_throttle_pause(Duration::from_millis(300)),
        RetryPolicy::default().with_initial_backoff(Duration::from_millis(10)),
    );
    run(c.all_member_push().get_tag(GetTagRequest::new(["u1"]))).unwrap();
    assert!(
        clock.elapsed() >= Duration::from_millis(300),
        "{:?}",
        clock.elapsed()
    );
}

#[test]
fn a_send_that_is_not_ready_times_out_with_a_closure_transport() {
    let t = |_req: Request| std::future::pending::<Answer>();
    let c = Client::builder()
        .with_sdkappid(1)
        .with_secret_key("k")
        .with_timeout(Duration::from_millis(1))
        .with_retry_policy(RetryPolicy::none())
        .build_with(t)
        .unwrap();
    let err = run(c.all_member_push().get_tag(GetTagRequest::new(["u1"]))).unwrap_err();
    assert!(
        matches!(err.kind(), ErrorKind::Timeout(d) if *d == Duration::from_millis(1)),
        "{err:?}"
    );
}

#[test]
fn batches_stream_lazily_and_report_failed_chunks_with_their_items() {
    // The input is pulled only as far as chunks are sent.
    let pulled = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&pulled);
    let endless = futures_util::stream::iter((0..).map(move |i| {
        counter.fetch_add(1, Ordering::SeqCst);
        format!("user{i}")
    }));
    let (t, _) =
        scripted(|_| json_answer(json!({"ActionStatus":"OK","ErrorCode":0,"ErrorInfo":""})));
    let c = client(t).with_batch_concurrency(2);
    let first_two: Vec<usize> = run(c
        .chunks::<RemoveAllTags, _>(endless)
        .take(2)
        .map(|o| o.len())
        .collect());
    assert_eq!(first_two, [100, 100]);
    let n = pulled.load(Ordering::SeqCst);
    assert!(n <= 500, "pulled {n} items for 2 chunks");

    // 1,050 accounts: 11 calls, results merged in order; chunk 3 fails and is reported.
    let transport = |req: Request| async move {
        let body: Value = serde_json::from_slice(req.body()).unwrap();
        let accounts: Vec<String> = serde_json::from_value(body["To_Account"].clone()).unwrap();
        if accounts.contains(&"user300".to_owned()) {
            return fail(90009);
        }
        let tags: Vec<Value> = accounts
            .iter()
            .map(|a| json!({"To_Account": a, "Tags": [format!("t-{a}")]}))
            .collect();
        json_answer(json!({"ActionStatus":"OK","ErrorCode":0,"ErrorInfo":"","UserTags":tags}))
    };
    let report = run(client(transport)
        .all_member_push()
        .get_tag_batch((0..1050).map(|i| format!("user{i}"))));
    assert_eq!(report.calls, 11);
    assert_eq!(report.items, 1050);
    assert_eq!(report.failed.len(), 1);
    let failed = &report.failed[0];
    assert_eq!(failed.index, 3);
    assert_eq!(failed.items.first().map(String::as_str), Some("user300"));
    assert_eq!(failed.items.len(), 100);
    assert_eq!(failed.error.code(), Some(ErrorCode::AdminRequired));
    assert_eq!(report.failed_items(), 100);
    assert!(!report.is_complete());
    let merged: Vec<String> = report
        .merged
        .unwrap()
        .user_tags
        .into_iter()
        .map(|u| u.to_account)
        .collect();
    let expected: Vec<String> = (0..1050)
        .filter(|i| !(300..400).contains(i))
        .map(|i| format!("user{i}"))
        .collect();
    assert_eq!(merged, expected);
}

#[test]
fn clients_and_their_futures_are_send_and_sync() {
    use static_assertions::assert_impl_all;
    assert_impl_all!(tim_reqwest::Client: Send, Sync, Clone, std::fmt::Debug);
    assert_impl_all!(tim_hyper::Client: Send, Sync, Clone, std::fmt::Debug);
    assert_impl_all!(tim_core::BuildError: Send, Sync, std::error::Error);
    assert_impl_all!(Error: Send, Sync, std::error::Error);

    fn is_send<F: Send>(_: &F) {}
    let (t, _) = scripted(|_| ok_tags());
    let c = client(t);
    is_send(&c.all_member_push().get_tag(GetTagRequest::new(["u1"])));
    is_send(&c.all_member_push().push(push_request()));
    is_send(&c.call::<GetTag>(GetTagRequest::new(["u1"])));
    is_send(&c.all_member_push().get_tag_batch(["u1"]));
    is_send(&c.chunks::<GetTag, _>(futures_util::stream::iter(vec!["u1".to_owned()])));
    // Debug never shows the key.
    let shown = format!("{c:?}");
    assert!(!shown.contains("fake-suite-key"), "{shown}");
    assert!(shown.contains("1400000000"), "{shown}");
}

#[test]
fn a_chunk_refused_for_one_items_sake_is_split_and_the_neighbours_still_go() {
    use tim_core::all_member_push::{SetAttr, UserAttrsSet};
    // The server refuses a whole call with 90033 when any entry names an attribute that was
    // never configured; entries of "bad*" users do.
    let sent = Arc::new(std::sync::Mutex::new(Vec::<Vec<String>>::new()));
    let log = Arc::clone(&sent);
    let transport = move |req: Request| {
        let log = Arc::clone(&log);
        async move {
            let body: Value = serde_json::from_slice(req.body()).unwrap();
            let users: Vec<String> = body["UserAttrs"]
                .as_array()
                .unwrap()
                .iter()
                .map(|e| e["To_Account"].as_str().unwrap().to_owned())
                .collect();
            let refused = users.iter().any(|u| u.starts_with("bad"));
            log.lock().unwrap().push(users);
            if refused {
                fail(90033)
            } else {
                json_answer(json!({"ActionStatus":"OK","ErrorCode":0,"ErrorInfo":""}))
            }
        }
    };
    let c = client(transport);
    // 250 entries, three of them bad (two in the first chunk, one in the third).
    let bad = [17usize, 71, 230];
    let entries: Vec<(u64, UserAttrsSet)> = (0..250)
        .map(|i| {
            let user = if bad.contains(&i) {
                format!("bad{i}")
            } else {
                format!("user{i}")
            };
            (i as u64 + 1, UserAttrsSet::new(user, [("city", "x")]))
        })
        .collect();
    let outcomes: Vec<_> = run(c
        .chunks_keyed::<SetAttr, _, _>(futures_util::stream::iter(entries))
        .collect());
    assert_eq!(outcomes.len(), 3);
    let mut failed_lines = Vec::new();
    let mut ok_lines = Vec::new();
    for chunk in &outcomes {
        for part in &chunk.parts {
            match &part.result {
                Ok(_) => ok_lines.extend(part.keys.iter().copied()),
                Err(e) => {
                    assert_eq!(e.code(), Some(ErrorCode::AttributeInvalid));
                    assert_eq!(part.keys.len(), 1, "a refused part is a lone item");
                    failed_lines.extend(part.keys.iter().copied());
                }
            }
        }
    }
    // Exactly the bad entries failed, named by their lines; every other entry was applied.
    assert_eq!(failed_lines, [18, 72, 231]);
    assert_eq!(ok_lines.len(), 247);
    let mut all: Vec<u64> = ok_lines.iter().chain(&failed_lines).copied().collect();
    all.sort();
    assert_eq!(all, (1..=250).collect::<Vec<u64>>());
    // Every good entry was sent successfully exactly once (in a call that was answered OK).
    let calls = sent.lock().unwrap().clone();
    let mut applied: Vec<String> = calls
        .iter()
        .filter(|users| !users.iter().any(|u| u.starts_with("bad")))
        .flatten()
        .cloned()
        .collect();
    applied.sort();
    applied.dedup();
    assert_eq!(applied.len(), 247);
    let applied_calls: usize = calls
        .iter()
        .filter(|users| !users.iter().any(|u| u.starts_with("bad")))
        .map(Vec::len)
        .sum();
    assert_eq!(applied_calls, 247, "no good entry applied twice");
    // Isolation costs a few calls per bad item (halving), not one call per item.
    assert!(calls.len() <= 3 + 3 * 2 * 7, "{} calls", calls.len());
}
