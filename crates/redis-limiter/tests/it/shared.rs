//! Two clients (two "processes") sharing one Redis: pacing, daily budgets, Redis down, the
//! fallback share, and no password anywhere.

use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use tim_core::all_member_push::{GetTag, GetTagRequest};
use tim_core::{
    Acquire, Client, Endpoint, EndpointInfo, ErrorKind, LimiterError, RateLimits, RetryPolicy,
    SharedLimiter, Transport, TransportError,
};
use tim_redis_limiter::{RedisLimiter, RedisLimiterError};

use crate::server::{RedisServer, free_port};

/// A transport on tokio's timer that answers every call with success and records send times.
#[derive(Clone, Default)]
struct Recorder {
    sent: Arc<Mutex<Vec<Instant>>>,
}

impl Transport for Recorder {
    async fn send(
        &self,
        _request: http::Request<Vec<u8>>,
    ) -> Result<http::Response<Bytes>, TransportError> {
        self.sent.lock().unwrap().push(Instant::now());
        let body = r#"{"ActionStatus":"OK","ErrorCode":0,"ErrorInfo":"","UserTags":[]}"#;
        Ok(http::Response::new(Bytes::from_static(body.as_bytes())))
    }

    async fn sleep(&self, duration: Duration) {
        tokio::time::sleep(duration).await;
    }
}

fn client(limiter: RedisLimiter, transport: Recorder, max_elapsed: Duration) -> Client<Recorder> {
    Client::builder()
        .with_sdkappid(1400000001)
        .with_secret_key("key")
        .with_retry_policy(RetryPolicy::default().with_max_elapsed(max_elapsed))
        .with_shared_limiter(limiter)
        .build_with(transport)
        .unwrap()
}

/// Logs written while the guard lives, as text.
#[derive(Clone, Default)]
struct Logs(Arc<Mutex<Vec<u8>>>);

impl Write for Logs {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Logs {
    fn capture(&self) -> tracing::subscriber::DefaultGuard {
        let logs = self.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_writer(move || logs.clone())
            .with_ansi(false)
            .with_max_level(tracing::Level::TRACE)
            .finish();
        tracing::subscriber::set_default(subscriber)
    }

    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

fn chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

/// Counts, for every send, the sends within the second that starts with it.
fn max_in_any_second(times: &[Instant]) -> usize {
    times
        .iter()
        .map(|t| {
            times
                .iter()
                .filter(|u| **u >= *t && **u < *t + Duration::from_secs(1))
                .count()
        })
        .max()
        .unwrap_or(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_clients_sharing_redis_never_exceed_the_limit_together_and_pace_evenly() {
    let Some(server) = RedisServer::start("two_clients_sharing_redis", Some("secret")) else {
        return;
    };
    // 20 calls a second; a wide margin (100 ms) absorbs the scheduling jitter of a busy test
    // machine, the pacing itself is what is checked: one call every 55 ms between both clients.
    let limits = RateLimits::documented()
        .with_per_second(20)
        .with_margin(Duration::from_millis(100));
    let sent = Recorder::default();
    let a = client(
        RedisLimiter::connect(&server.url())
            .await
            .unwrap()
            .with_rate_limits(limits),
        sent.clone(),
        Duration::from_secs(30),
    );
    let b = client(
        RedisLimiter::connect(&server.url())
            .await
            .unwrap()
            .with_rate_limits(limits),
        sent.clone(),
        Duration::from_secs(30),
    );
    let run = |c: Client<Recorder>| async move {
        for _ in 0..30 {
            c.send(GetTagRequest::new(["u1"])).await.unwrap();
        }
    };
    let (ra, rb) = tokio::join!(tokio::spawn(run(a)), tokio::spawn(run(b)));
    ra.unwrap();
    rb.unwrap();
    let mut times = sent.sent.lock().unwrap().clone();
    times.sort();
    assert_eq!(times.len(), 60);
    let most = max_in_any_second(&times);
    assert!(most <= 20, "{most} calls within one second");
    // Evenly paced: no burst (no two sends much closer than the spacing) and the whole run
    // takes about 59 spacings.
    let spacing = Duration::from_millis(55);
    for w in times.windows(2) {
        assert!(
            w[1] - w[0] >= spacing - Duration::from_millis(15),
            "{:?}",
            w[1] - w[0]
        );
    }
    let total = *times.last().unwrap() - times[0];
    assert!(
        total >= spacing * 58 && total < Duration::from_secs(6),
        "{total:?}"
    );
}

/// An endpoint with a daily budget of 3 (and nothing else), for the daily-budget test.
fn daily_info() -> &'static EndpointInfo {
    let mut info = *GetTag::INFO;
    let mut rate = info.rate;
    rate.per_second = None;
    rate.per_day = Some(3);
    info.rate = rate;
    Box::leak(Box::new(info))
}

#[tokio::test]
async fn the_daily_budget_is_shared_by_every_process() {
    let Some(server) = RedisServer::start("daily_budget", None) else {
        return;
    };
    let info = daily_info();
    let one = RedisLimiter::connect(&server.url()).await.unwrap();
    let two = RedisLimiter::connect(&server.url()).await.unwrap();
    async fn ask(l: &RedisLimiter, info: &'static EndpointInfo) -> Result<Duration, LimiterError> {
        l.acquire(Acquire::new(7, info, 1, Duration::from_secs(5)))
            .await
    }
    assert_eq!(ask(&one, info).await.unwrap(), Duration::ZERO);
    assert_eq!(ask(&two, info).await.unwrap(), Duration::ZERO);
    assert_eq!(ask(&one, info).await.unwrap(), Duration::ZERO);
    let spent = ask(&two, info).await.unwrap_err();
    match spent {
        LimiterError::DailyBudgetSpent { limit, resets_in } => {
            assert_eq!(limit, 3);
            assert!(resets_in <= Duration::from_secs(86_400), "{resets_in:?}");
        }
        other => panic!("{other:?}"),
    }
    // Another app has its own budget.
    let other = one.acquire(Acquire::new(8, info, 1, Duration::from_secs(5)));
    assert_eq!(other.await.unwrap(), Duration::ZERO);
}

#[tokio::test]
async fn pushes_are_spaced_across_processes() {
    let Some(server) = RedisServer::start("pushes_spaced", None) else {
        return;
    };
    let push = tim_core::all_member_push::Push::INFO;
    let one = RedisLimiter::connect(&server.url()).await.unwrap();
    let two = RedisLimiter::connect(&server.url()).await.unwrap();
    let w1 = one
        .acquire(Acquire::new(9, push, 1, Duration::from_secs(5)))
        .await
        .unwrap();
    let w2 = two
        .acquire(Acquire::new(9, push, 1, Duration::from_secs(5)))
        .await
        .unwrap();
    assert_eq!(w1, Duration::ZERO);
    // More than 1 s (and the 20 ms margin) after the first, less the time between the scripts.
    assert!(
        w2 > Duration::from_millis(950) && w2 <= Duration::from_millis(1_022),
        "{w2:?}"
    );
}

#[tokio::test]
async fn a_stopped_redis_makes_calls_wait_then_fail_typed_and_nothing_is_sent() {
    let Some(mut server) = RedisServer::start("stopped_redis", Some("secret")) else {
        return;
    };
    let logs = Logs::default();
    let _guard = logs.capture();
    let sent = Recorder::default();
    let limiter = RedisLimiter::connect(&server.url())
        .await
        .unwrap()
        .with_backoff(Duration::from_millis(10), Duration::from_millis(100));
    assert!(!format!("{limiter:?}").contains("secret"));
    let c = client(limiter, sent.clone(), Duration::from_millis(800));
    c.send(GetTagRequest::new(["u1"])).await.unwrap();
    server.stop();
    let started = Instant::now();
    let err = c.send(GetTagRequest::new(["u1"])).await.unwrap_err();
    let waited = started.elapsed();
    assert!(
        waited >= Duration::from_millis(700) && waited < Duration::from_secs(3),
        "{waited:?}"
    );
    assert!(
        matches!(
            err.kind(),
            ErrorKind::RateLimiter(LimiterError::Unavailable { .. })
        ),
        "{err:?}"
    );
    assert!(!err.maybe_sent());
    assert_eq!(sent.sent.lock().unwrap().len(), 1, "sent unmetered");
    let text = chain(&err);
    assert!(
        text.contains(&format!("redis://:***@127.0.0.1:{}", server.port)),
        "{text}"
    );
    assert!(!text.contains("secret"), "{text}");
    let log = logs.text();
    assert!(
        log.contains("WARN") && log.contains("cannot be reached"),
        "{log}"
    );
    assert!(!log.contains("secret"), "{log}");
}

#[tokio::test]
async fn the_fallback_share_sends_at_the_reduced_rate() {
    // No server on this port: the limiter falls back to 1/4 of 40 calls a second at once.
    let url = format!("redis://:secret@127.0.0.1:{}", free_port());
    let logs = Logs::default();
    let _guard = logs.capture();
    let limits = RateLimits::documented()
        .with_per_second(40)
        .with_margin(Duration::ZERO);
    let limiter = RedisLimiter::new(&url)
        .unwrap()
        .with_rate_limits(limits)
        .with_fallback_share(4);
    let sent = Recorder::default();
    let c = client(limiter, sent.clone(), Duration::from_secs(10));
    for _ in 0..6 {
        c.send(GetTagRequest::new(["u1"])).await.unwrap();
    }
    let times = sent.sent.lock().unwrap().clone();
    // 40 a second shared by 4: one call every 100 ms.
    for w in times.windows(2) {
        assert!(
            w[1] - w[0] >= Duration::from_millis(95),
            "{:?}",
            w[1] - w[0]
        );
    }
    let log = logs.text();
    assert!(log.contains("keeping 1/4"), "{log}");
    assert!(!log.contains("secret"), "{log}");
}

#[tokio::test]
async fn bad_urls_and_wrong_passwords_are_clear_errors_without_the_password() {
    let err = RedisLimiter::new("http://:secret@127.0.0.1:1").unwrap_err();
    assert!(
        matches!(err, RedisLimiterError::InvalidUrl { .. }),
        "{err:?}"
    );
    let text = chain(&err);
    assert!(
        text.contains("http://:***@127.0.0.1:1") && !text.contains("secret"),
        "{text}"
    );

    let url = format!("redis://:secret@127.0.0.1:{}", free_port());
    let err = RedisLimiter::connect(&url).await.unwrap_err();
    assert!(
        matches!(err, RedisLimiterError::Unreachable { .. }),
        "{err:?}"
    );
    assert!(!chain(&err).contains("secret") && !format!("{err:?}").contains("secret"));

    let Some(server) = RedisServer::start("wrong_password", Some("right")) else {
        return;
    };
    let url = format!("redis://:wrong@127.0.0.1:{}", server.port);
    let err = RedisLimiter::connect(&url).await.unwrap_err();
    let text = chain(&err);
    assert!(
        matches!(err, RedisLimiterError::Unreachable { .. }),
        "{text}"
    );
    assert!(!text.contains("wrong@") && text.contains(":***@"), "{text}");
}
