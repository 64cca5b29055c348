//! Throughput of the emulator (not a timed test; it prints figures):
//!
//! - requests per second for `im_get_tag` with 100 accounts, rate limits off, over loopback,
//!   with keep-alive connections (1, 2 and 4 concurrent connections);
//! - time from `start()` to the first answer.
//!
//! Run: `cargo bench -p tim-emulator --bench throughput`
//! (`TIM_BENCH_SECS` sets the measuring time per figure, default 3 s).

use std::time::{Duration, Instant};

use bytes::Bytes;
use http::Request;
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1;
use hyper_util::rt::TokioIo;
use serde_json::json;
use tim_emulator::{Emulator, EmulatorHandle};
use tokio::net::TcpStream;

type Sender = http1::SendRequest<Full<Bytes>>;

async fn connect(emu: &EmulatorHandle) -> Sender {
    let stream = TcpStream::connect(emu.addr()).await.expect("connect");
    stream.set_nodelay(true).expect("nodelay");
    let (sender, conn) = http1::handshake(TokioIo::new(stream))
        .await
        .expect("handshake");
    tokio::spawn(async move {
        let _ = conn.await;
    });
    sender
}

fn path(emu: &EmulatorHandle, command: &str, random: u32) -> String {
    format!(
        "/v4/all_member_push/{command}?sdkappid={}&identifier={}&usersig={}&random={random}&contenttype=json",
        emu.sdkappid(),
        emu.admin(),
        emu.usersig().expose()
    )
}

/// Sends one call and checks the envelope says success.
async fn call(sender: &mut Sender, path: &str, body: &Bytes) -> usize {
    let req = Request::post(path)
        .header(http::header::HOST, "127.0.0.1")
        .body(Full::new(body.clone()))
        .expect("request");
    sender.ready().await.expect("connection ready");
    let resp = sender.send_request(req).await.expect("answered");
    assert_eq!(resp.status(), 200);
    let bytes = resp.into_body().collect().await.expect("body").to_bytes();
    assert!(
        bytes.starts_with(br#"{"ActionStatus":"OK","ErrorInfo":"","ErrorCode":0"#),
        "{}",
        String::from_utf8_lossy(&bytes)
    );
    bytes.len()
}

async fn start_to_first_answer(runs: usize) {
    let body = Bytes::from(json!({"To_Account": ["u"]}).to_string());
    let mut times = Vec::with_capacity(runs);
    for _ in 0..runs {
        let t0 = Instant::now();
        let emu = Emulator::builder()
            .with_rate_limits(false)
            .start()
            .await
            .expect("start");
        let mut sender = connect(&emu).await;
        call(&mut sender, &path(&emu, "im_get_tag", 1), &body).await;
        times.push(t0.elapsed());
        drop(sender);
        emu.shutdown().await;
    }
    times.sort();
    println!(
        "start() to first answer ({runs} runs): median {:?}, min {:?}, max {:?}",
        times[runs / 2],
        times[0],
        times[runs - 1]
    );
}

async fn get_tag_throughput(emu: &EmulatorHandle, connections: usize, secs: f64) {
    let accounts: Vec<String> = (0..100).map(|i| format!("user{i:03}")).collect();
    let body = Bytes::from(json!({ "To_Account": accounts }).to_string());
    let deadline = Instant::now() + Duration::from_secs_f64(secs);
    let mut tasks = Vec::new();
    for c in 0..connections {
        let mut sender = connect(emu).await;
        let body = body.clone();
        let p = path(emu, "im_get_tag", c as u32);
        tasks.push(tokio::spawn(async move {
            let mut n = 0u64;
            let mut bytes = 0usize;
            while Instant::now() < deadline {
                bytes = call(&mut sender, &p, &body).await;
                n += 1;
            }
            (n, bytes)
        }));
    }
    let t0 = Instant::now();
    let mut total = 0;
    let mut answer = 0;
    for t in tasks {
        let (n, bytes) = t.await.expect("task");
        total += n;
        answer = bytes;
    }
    let elapsed = t0.elapsed().as_secs_f64();
    println!(
        "im_get_tag, 100 accounts ({answer} B answers), {connections} keep-alive connection(s): {total} calls in {elapsed:.2} s = {:.0} req/s",
        total as f64 / elapsed
    );
}

fn main() {
    // `cargo bench` passes `--bench`; `cargo test --benches` runs this once quickly.
    let quick = !std::env::args().any(|a| a == "--bench");
    let secs: f64 = std::env::var("TIM_BENCH_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(if quick { 0.2 } else { 3.0 });
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        start_to_first_answer(if quick { 3 } else { 50 }).await;
        let emu = Emulator::builder()
            .with_rate_limits(false)
            .start()
            .await
            .expect("start");
        // Every account holds 5 tags.
        let entries: Vec<_> = (0..100)
            .map(|i| json!({"To_Account": format!("user{i:03}"), "Tags": ["alpha", "beta", "gamma", format!("g{}", i % 7), format!("n{i}")]}))
            .collect();
        let mut sender = connect(&emu).await;
        call(
            &mut sender,
            &path(&emu, "im_add_tag", 0),
            &Bytes::from(json!({ "UserTags": entries }).to_string()),
        )
        .await;
        drop(sender);
        for connections in [1, 2, 4] {
            get_tag_throughput(&emu, connections, secs).await;
        }
        emu.shutdown().await;
    });
}
