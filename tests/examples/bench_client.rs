//! Client throughput over loopback, limits off, next to the emulator's no-op ceiling.
//!
//! For each transport (reqwest, hyper) and each concurrency (1 and 64 calls in flight), the
//! tim client calls `im_get_tag` with 100 accounts (each holding 5 tags) as fast as it can:
//!
//! - against the emulator (`rate_limits(false)`, client `RateLimits::off()`), and
//! - against a bare hyper handler that answers every request with the very bytes the emulator
//!   answered (the floor: what the same client gets from a server that does no work).
//!
//! The two are measured in alternating rounds so that both see the same machine state. The
//! servers run on their own one-thread Tokio runtime, the clients on another (two threads for
//! two cores). Each figure prints one JSON line on stdout (for `cargo xtask bench`) and a line
//! for people on stderr.
//!
//! Run: `cargo run --release -p tim-tests --example bench_client`
//! (`TIM_BENCH_SECS`: measuring time per figure, default 3 s).

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use serde_json::json;
use tim_core::all_member_push::UserTagItem;
use tim_core::all_member_push::{AddTagRequest, GetTag, GetTagRequest};
use tim_core::{
    Auth, BaseUrl, Client, ClientBuilder, MakeTransport, RateLimits, Transport, build_request,
};
use tim_emulator::{Emulator, EmulatorHandle};

const ROUNDS: u32 = 3;

#[derive(Debug, Default)]
struct Counts {
    connections: AtomicU64,
    requests: AtomicU64,
}

/// A server that answers every request with `answer`, after reading the request body; counts
/// the connections it accepts and the requests it serves.
async fn noop_server(answer: Bytes, counts: Arc<Counts>) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                continue;
            };
            let _ = stream.set_nodelay(true);
            counts.connections.fetch_add(1, Ordering::Relaxed);
            let answer = answer.clone();
            let served = counts.clone();
            tokio::spawn(async move {
                let service = service_fn(move |req: http::Request<hyper::body::Incoming>| {
                    let answer = answer.clone();
                    let served = served.clone();
                    async move {
                        let _ = req.into_body().collect().await;
                        served.requests.fetch_add(1, Ordering::Relaxed);
                        let mut resp = http::Response::new(Full::new(answer));
                        resp.headers_mut().insert(
                            http::header::CONTENT_TYPE,
                            http::HeaderValue::from_static("application/json"),
                        );
                        Ok::<_, Infallible>(resp)
                    }
                });
                let _ = http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    addr
}

fn client<T: Transport + MakeTransport>(emu: &EmulatorHandle, base: &str) -> Client<T> {
    ClientBuilder::<T>::new()
        .with_sdkappid(emu.sdkappid())
        .with_identifier(emu.admin())
        .with_secret_key(emu.key().clone())
        .with_base_url(BaseUrl::parse(base).expect("loopback base URL"))
        .with_rate_limits(RateLimits::off())
        .build()
        .expect("client")
}

/// Calls as fast as `concurrency` callers can for `time`; returns the calls made and the
/// seconds they took.
async fn hammer<T: Transport>(
    client: &Client<T>,
    request: &GetTagRequest,
    concurrency: usize,
    time: Duration,
) -> (u64, f64) {
    let t0 = Instant::now();
    let deadline = t0 + time;
    let callers = (0..concurrency).map(|_| async {
        let mut calls = 0u64;
        while Instant::now() < deadline {
            let answer = client
                .call_ref::<GetTag>(request)
                .await
                .expect("im_get_tag answered");
            assert_eq!(answer.user_tags.len(), 100);
            calls += 1;
        }
        calls
    });
    let calls: u64 = futures_util::future::join_all(callers)
        .await
        .into_iter()
        .sum();
    (calls, t0.elapsed().as_secs_f64())
}

#[allow(clippy::print_stdout, clippy::print_stderr)]
fn measure<T: Transport + MakeTransport>(
    name: &str,
    rt: &tokio::runtime::Runtime,
    emu: &EmulatorHandle,
    noop: SocketAddr,
    counts: &Counts,
    request: &GetTagRequest,
    secs: f64,
) {
    let to_emulator = client::<T>(emu, emu.base_url());
    let to_noop = client::<T>(emu, &format!("http://{noop}"));
    for concurrency in [1usize, 64] {
        let round = Duration::from_secs_f64(secs / f64::from(ROUNDS));
        rt.block_on(async {
            // Warm up: connections open, caches filled.
            let warm = Duration::from_millis(200);
            hammer(&to_emulator, request, concurrency, warm).await;
            hammer(&to_noop, request, concurrency, warm).await;
            let (mut emu_calls, mut emu_secs, mut noop_calls, mut noop_secs) = (0, 0.0, 0, 0.0);
            let connections_before = counts.connections.load(Ordering::Relaxed);
            for r in 0..ROUNDS {
                let order: [bool; 2] = if r % 2 == 0 {
                    [true, false]
                } else {
                    [false, true]
                };
                for to_emu in order {
                    if to_emu {
                        let (c, s) = hammer(&to_emulator, request, concurrency, round).await;
                        emu_calls += c;
                        emu_secs += s;
                    } else {
                        let (c, s) = hammer(&to_noop, request, concurrency, round).await;
                        noop_calls += c;
                        noop_secs += s;
                    }
                }
            }
            let noop_connections = counts.connections.load(Ordering::Relaxed) - connections_before;
            let emu_rate = emu_calls as f64 / emu_secs;
            let noop_rate = noop_calls as f64 / noop_secs;
            eprintln!(
                "bench_client: {name}, {concurrency} in flight: emulator {emu_rate:.0} calls/s, no-op handler {noop_rate:.0} calls/s ({noop_connections} new connections), ratio {:.2}",
                emu_rate / noop_rate
            );
            println!(
                "{}",
                json!({
                    "measure": "client",
                    "transport": name,
                    "concurrency": concurrency,
                    "emulator_calls": emu_calls,
                    "emulator_secs": emu_secs,
                    "emulator_calls_per_s": emu_rate,
                    "noop_calls": noop_calls,
                    "noop_secs": noop_secs,
                    "noop_calls_per_s": noop_rate,
                    "noop_new_connections": noop_connections,
                })
            );
        });
    }
}

#[allow(clippy::print_stdout, clippy::print_stderr)]
fn main() {
    let secs: f64 = std::env::var("TIM_BENCH_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .filter(|s: &f64| *s > 0.0)
        .unwrap_or(3.0);
    let runtime = || {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .expect("runtime")
    };
    let server_rt = runtime();
    let client_rt = runtime();

    let emu = server_rt
        .block_on(Emulator::builder().with_rate_limits(false).start())
        .expect("emulator");
    let accounts: Vec<String> = (0..100).map(|i| format!("user{i:03}")).collect();
    let request = GetTagRequest::new(accounts.clone());

    // Every account holds 5 tags; then the bytes of the emulator's answer to the request.
    let answer = client_rt.block_on(async {
        let c = client::<tim_hyper::HyperTransport>(&emu, emu.base_url());
        let items = accounts.iter().enumerate().map(|(i, a)| {
            UserTagItem::new(
                a.clone(),
                [
                    "alpha".to_owned(),
                    "beta".to_owned(),
                    "gamma".to_owned(),
                    format!("g{}", i % 7),
                    format!("n{i}"),
                ],
            )
        });
        c.all_member_push()
            .add_tag(AddTagRequest::new(items))
            .await
            .expect("tags added");
        let sig = emu.usersig();
        let auth = Auth {
            sdkappid: emu.sdkappid(),
            identifier: emu.admin(),
            usersig: &sig,
        };
        let base = BaseUrl::parse(emu.base_url()).expect("base");
        let req = build_request::<GetTag>(&base, &auth, 1, &request).expect("request");
        let resp = c.transport().send(req).await.expect("answered");
        assert_eq!(resp.status(), 200);
        resp.into_body()
    });
    eprintln!(
        "bench_client: im_get_tag with 100 accounts: {} B request body, {} B answer; {secs} s per figure",
        serde_json::to_vec(&request).expect("json").len(),
        answer.len()
    );
    let counts = Arc::new(Counts::default());
    let noop = server_rt.block_on(noop_server(answer, counts.clone()));

    measure::<tim_reqwest::ReqwestTransport>(
        "reqwest", &client_rt, &emu, noop, &counts, &request, secs,
    );
    measure::<tim_hyper::HyperTransport>("hyper", &client_rt, &emu, noop, &counts, &request, secs);
    assert!(counts.requests.load(Ordering::Relaxed) > 0);
    drop(client_rt);
    server_rt.block_on(emu.shutdown());
}
