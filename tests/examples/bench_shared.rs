//! Four `tim` processes sharing one app's rate limits through Redis, against one emulator.
//!
//! `bench_shared --tim PATH`, where PATH is a release build of the `tim` binary:
//!
//! - `shared_rate` with `"redis": true`: four `tim tags add --file F_i --concurrency 4
//!   --rate-limit-redis redis://127.0.0.1:PORT` processes at once (5,000 users each, so 50
//!   calls each, 200 in all), sharing one `redis-server` started here on a free loopback port,
//!   against one emulator started in this process with its documented rate limits on (100
//!   calls/s for `im_add_tag`). From the emulator's request log: accepted calls over the span
//!   from the first arrival to the last, the answers of 60007, and the most arrivals in any
//!   sliding second.
//! - `shared_rate` with `"redis": false`: the same four processes without Redis (each keeps its
//!   own limiter), against a fresh emulator, for contrast.
//! - `shared_acquire`: the cost of one `RedisLimiter` acquire over loopback Redis (limits that
//!   never make it wait), 2,000 in a row: p50 and p99 in microseconds.
//!
//! When `redis-server` is not installed, the Redis figures are printed as
//! `{"skipped": "redis-server not installed"}` (the contrast still runs).
//!
//! Each result is one JSON line on stdout (for `cargo xtask bench`); progress goes to stderr.
//! Only loopback is used; the key is the emulator's well-known default and is never printed.

use std::collections::BTreeMap;
use std::io::{BufWriter, ErrorKind, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use serde_json::json;
use tim_core::{Acquire, Endpoint, RateLimits, SharedLimiter};
use tim_emulator::{Config, Emulator, EmulatorHandle};
use tim_redis_limiter::RedisLimiter;

const PROCESSES: usize = 4;
const USERS_PER_PROCESS: usize = 5_000;
const CONCURRENCY: &str = "4";
const CEILING: f64 = 100.0;
const ACQUIRES: usize = 2_000;
const JOB_TIMEOUT: Duration = Duration::from_secs(180);
const SKIPPED: &str = "redis-server not installed";

/// A throwaway `redis-server` on a free loopback port, killed when dropped.
struct RedisServer {
    child: Child,
    port: u16,
}

impl RedisServer {
    /// `None` when `redis-server` is not installed.
    fn start() -> Option<Self> {
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free loopback port")
            .port();
        let child = match Command::new("redis-server")
            .args(["--port", &port.to_string()])
            .args(["--bind", "127.0.0.1", "--save", "", "--appendonly", "no"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
        {
            Ok(c) => c,
            Err(e) if e.kind() == ErrorKind::NotFound => return None,
            Err(e) => panic!("cannot start redis-server: {e}"),
        };
        let server = RedisServer { child, port };
        let started = Instant::now();
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                started.elapsed() < Duration::from_secs(10),
                "redis-server did not listen on {port}"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        Some(server)
    }

    fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Writes `lines` lines of `tags add` input: `{"To_Account":"<prefix>_0000001","Tags":[...]}`.
fn write_input(path: &Path, prefix: &str, lines: usize) {
    let mut out = BufWriter::new(std::fs::File::create(path).expect("create input file"));
    for i in 0..lines {
        serde_json::to_writer(
            &mut out,
            &json!({ "To_Account": format!("{prefix}_{i:07}"), "Tags": ["bench", format!("g{}", i % 7)] }),
        )
        .expect("write input");
        out.write_all(b"\n").expect("write input");
    }
    out.flush().expect("flush input");
}

/// A running `tim` process with its stderr being read.
struct Job {
    child: Child,
    stderr: std::thread::JoinHandle<String>,
}

/// Starts `tim tags add --file` of `input` (with `--rate-limit-redis url` when given).
fn spawn_tim(bin: &Path, emu: &EmulatorHandle, input: &Path, redis: Option<&str>) -> Job {
    let mut cmd = Command::new(bin);
    cmd.env_clear()
        .env("TIM_ENDPOINT", emu.base_url())
        .env("TIM_SDKAPPID", emu.sdkappid().to_string())
        .env("TIM_SECRET_KEY", emu.key().expose())
        .args(["tags", "add", "--concurrency", CONCURRENCY, "--file"])
        .arg(input);
    if let Some(url) = redis {
        cmd.args(["--rate-limit-redis", url]);
    }
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn tim");
    let mut err = child.stderr.take().expect("stderr");
    let stderr = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = err.read_to_string(&mut s);
        s
    });
    Job { child, stderr }
}

/// Waits for every job (all killed after `timeout`): exit statuses and stderr.
fn wait_all(jobs: Vec<Job>, timeout: Duration) -> Vec<(ExitStatus, String)> {
    let t0 = Instant::now();
    jobs.into_iter()
        .map(|mut job| {
            let status = loop {
                if let Some(status) = job.child.try_wait().expect("wait for tim") {
                    break status;
                }
                if t0.elapsed() > timeout {
                    let _ = job.child.kill();
                    let _ = job.child.wait();
                    panic!("tim did not finish within {timeout:?}");
                }
                std::thread::sleep(Duration::from_millis(20));
            };
            (status, job.stderr.join().unwrap_or_default())
        })
        .collect()
}

/// The most arrivals in any window `(t - 1 s, t]` (the emulator's own window); `at` sorted.
fn max_in_a_second(at: &[u64]) -> usize {
    let mut best = 0;
    let mut i = 0;
    for j in 0..at.len() {
        while at[j] - at[i] >= 1000 {
            i += 1;
        }
        best = best.max(j - i + 1);
    }
    best
}

/// The four processes at once against a fresh emulator with its limits on.
#[allow(clippy::print_stdout, clippy::print_stderr)]
fn rate_run(runtime: &tokio::runtime::Runtime, bin: &Path, dir: &Path, redis: Option<&str>) {
    let mut config = Config::default();
    config.rate_limits = true;
    config.seed = 17;
    config.request_log_capacity = 100_000;
    let emu = runtime
        .block_on(Emulator::builder().with_config(config).start())
        .expect("emulator");
    let kind = if redis.is_some() { "redis" } else { "local" };
    let inputs: Vec<PathBuf> = (0..PROCESSES)
        .map(|p| {
            let path = dir.join(format!("{kind}-{p}.jsonl"));
            write_input(&path, &format!("{kind}{p}"), USERS_PER_PROCESS);
            path
        })
        .collect();
    eprintln!(
        "bench_shared: {PROCESSES} x tim tags add --file ({USERS_PER_PROCESS} users) --concurrency {CONCURRENCY}{}, one emulator with limits on",
        if redis.is_some() {
            " --rate-limit-redis (one redis-server)"
        } else {
            ", no Redis (each its own limiter)"
        }
    );
    let t0 = Instant::now();
    let jobs: Vec<Job> = inputs
        .iter()
        .map(|input| spawn_tim(bin, &emu, input, redis))
        .collect();
    let done = wait_all(jobs, JOB_TIMEOUT);
    let wall = t0.elapsed().as_secs_f64();
    for (status, stderr) in &done {
        let summary = stderr
            .lines()
            .find(|l| l.starts_with("tim: all_member_push/im_add_tag: "))
            .unwrap_or("(no summary line)");
        eprintln!("bench_shared:   {status}: {summary}");
        if !status.success() {
            eprintln!("{stderr}");
        }
    }
    let log: Vec<_> = emu
        .requests()
        .into_iter()
        .filter(|r| r.command.as_deref() == Some("im_add_tag"))
        .collect();
    let mut answers: BTreeMap<String, u64> = BTreeMap::new();
    for r in &log {
        let key = match r.error_code {
            Some(code) => code.to_string(),
            None => format!("http {}", r.status),
        };
        *answers.entry(key).or_default() += 1;
    }
    let mut at: Vec<u64> = log.iter().map(|r| r.at_unix_ms).collect();
    at.sort_unstable();
    let accepted = log.iter().filter(|r| r.error_code == Some(0)).count();
    let span = match (at.first(), at.last()) {
        (Some(a), Some(b)) => (b - a) as f64 / 1000.0,
        _ => 0.0,
    };
    // n calls paced evenly span n - 1 intervals (as in bench_bulk).
    let rate = if accepted >= 3 && span > 0.0 {
        Some((accepted - 1) as f64 / span)
    } else {
        None
    };
    let throttled = answers.get("60007").copied().unwrap_or(0);
    let peak = max_in_a_second(&at);
    eprintln!(
        "bench_shared:   answers by code {answers:?}; {accepted} accepted over {span:.2} s = {} calls/s; most in a sliding second {peak}",
        rate.map_or("n/a".into(), |r| format!("{r:.1}"))
    );
    println!(
        "{}",
        json!({
            "measure": "shared_rate",
            "redis": redis.is_some(),
            "processes": PROCESSES,
            "users_per_process": USERS_PER_PROCESS,
            "concurrency": CONCURRENCY.parse::<u32>().unwrap_or(0),
            "exit_codes": done.iter().map(|(s, _)| s.code()).collect::<Vec<_>>(),
            "wall_secs": wall,
            "attempts": log.len(),
            "answers": answers,
            "accepted": accepted,
            "throttled": throttled,
            "arrival_span_secs": span,
            "accepted_calls_per_s": rate,
            "ceiling": CEILING,
            "max_in_a_second": peak,
        })
    );
    runtime.block_on(emu.shutdown());
    for input in &inputs {
        let _ = std::fs::remove_file(input);
    }
}

/// `ACQUIRES` acquires in a row over loopback Redis, with limits that never make one wait.
#[allow(clippy::print_stdout, clippy::print_stderr)]
fn acquire_run(runtime: &tokio::runtime::Runtime, url: &str) {
    let info = <tim_core::all_member_push::AddTag as Endpoint>::INFO;
    let limiter = runtime
        .block_on(RedisLimiter::connect(url))
        .expect("connect to redis")
        .with_rate_limits(RateLimits::default().with_per_second(1_000_000));
    // A different app than the jobs', and one warm-up acquire (connection, script load).
    let sdkappid = 1_400_000_999;
    let ask = |l: &RedisLimiter| {
        runtime
            .block_on(l.acquire(Acquire::new(sdkappid, info, 1, Duration::from_secs(5))))
            .expect("acquire")
    };
    ask(&limiter);
    let mut us: Vec<f64> = Vec::with_capacity(ACQUIRES);
    let mut waited = 0usize;
    for _ in 0..ACQUIRES {
        let t0 = Instant::now();
        let wait = ask(&limiter);
        us.push(t0.elapsed().as_secs_f64() * 1e6);
        if !wait.is_zero() {
            waited += 1;
        }
    }
    us.sort_by(f64::total_cmp);
    let pct = |p: f64| us[((us.len() - 1) as f64 * p).round() as usize];
    let (p50, p99) = (pct(0.5), pct(0.99));
    eprintln!(
        "bench_shared: RedisLimiter acquire over loopback, {ACQUIRES} in a row: p50 {p50:.0} µs, p99 {p99:.0} µs ({waited} asked to wait)"
    );
    println!(
        "{}",
        json!({
            "measure": "shared_acquire",
            "acquires": ACQUIRES,
            "p50_us": p50,
            "p99_us": p99,
            "max_us": us.last().copied(),
            "asked_to_wait": waited,
        })
    );
}

#[allow(clippy::print_stdout, clippy::print_stderr)]
fn main() {
    let mut args = std::env::args().skip(1);
    let mut bin: Option<PathBuf> = None;
    while let Some(a) = args.next() {
        if a == "--tim" {
            bin = args.next().map(PathBuf::from);
        }
        // `cargo test --examples` style flags are ignored.
    }
    let bin =
        bin.unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/release/tim"));
    assert!(
        bin.is_file(),
        "no tim binary at {} (build it with `cargo build --release -p tim-cli`, pass --tim PATH)",
        bin.display()
    );
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("runtime");
    let dir = std::env::temp_dir().join(format!("tim-bench-shared-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    match RedisServer::start() {
        Some(server) => {
            let url = server.url();
            rate_run(&runtime, &bin, &dir, Some(&url));
            rate_run(&runtime, &bin, &dir, None);
            acquire_run(&runtime, &url);
            drop(server);
        }
        None => {
            eprintln!(
                "!!!!! bench_shared: SKIPPED the Redis figures: `redis-server` is not on PATH (install it, e.g. `apt-get install redis-server`) !!!!!"
            );
            println!(
                "{}",
                json!({ "measure": "shared_rate", "redis": true, "skipped": SKIPPED })
            );
            rate_run(&runtime, &bin, &dir, None);
            println!(
                "{}",
                json!({ "measure": "shared_acquire", "skipped": SKIPPED })
            );
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
}
