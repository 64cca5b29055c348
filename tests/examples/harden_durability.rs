//! The durability checks of `cargo xtask harden` (it runs this example):
//!
//! - **bulk**: `tim tags add --file F --checkpoint C` against an emulator, killed with SIGKILL
//!   at random points and resumed, again and again. After every kill, every chunk the
//!   checkpoint records as done (acknowledged by the server) must be in the emulator's state;
//!   at the end of each round (the job ran to completion), every line of the file must be.
//! - **emulator**: `tim emulator serve --state FILE` under a stream of writes (`im_add_tag` of
//!   new accounts and `im_push`), killed with SIGKILL at random points and restarted on the
//!   same file: every write the client saw acknowledged (HTTP 200 with an `OK` envelope) must
//!   be there after the restart.
//!
//! `harden_durability --tim PATH [--kills N] [--seed S]`. Output: one JSON document on stdout.
//! Exit status 1 when an acknowledged change was lost or a check could not run. The key comes
//! from `TIM_HARDEN_KEY` (else a random one); it is never printed.

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tim_core::all_member_push::{AddTagRequest, PushRequest};
use tim_core::{FastRandom, RandomSource, RateLimits, RetryPolicy, SeededRandom};
use tim_core::{
    all_member_push::{PushCondition, UserTagItem},
    common::TextElem,
};
use tim_emulator::Emulator;

const SDKAPPID: u64 = 1_400_000_000;

struct Args {
    tim: PathBuf,
    kills: u32,
    seed: u64,
}

fn args() -> Args {
    let mut tim = None;
    let mut kills = 20;
    let mut seed = FastRandom.next_u64();
    let mut it = std::env::args().skip(1);
    while let Some(a) = it.next() {
        match a.as_str() {
            "--tim" => tim = it.next().map(PathBuf::from),
            "--kills" => kills = it.next().and_then(|v| v.parse().ok()).expect("--kills N"),
            "--seed" => seed = it.next().and_then(|v| v.parse().ok()).expect("--seed S"),
            other => panic!("unknown argument {other:?}"),
        }
    }
    Args {
        tim: tim.expect("--tim PATH (the tim binary)"),
        kills,
        seed,
    }
}

/// A uniformly random duration in `lo..=hi` milliseconds.
fn between(rng: &SeededRandom, lo: u64, hi: u64) -> Duration {
    Duration::from_millis(lo + rng.next_u64() % (hi - lo + 1))
}

/// This run's scratch folder (removed at the end).
fn scratch_dir() -> PathBuf {
    std::env::temp_dir().join(format!("tim-harden-durability-{}", std::process::id()))
}

fn scratch(name: &str) -> PathBuf {
    let dir = scratch_dir();
    std::fs::create_dir_all(&dir).expect("scratch dir");
    dir.join(name)
}

/// `GET path` on a loopback server; the body as JSON.
fn get_json(addr: &str, path: &str) -> Value {
    let mut s = std::net::TcpStream::connect(addr).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(30))).ok();
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .expect("send");
    let mut answer = Vec::new();
    s.read_to_end(&mut answer).expect("read");
    let split = answer
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("an HTTP answer")
        + 4;
    serde_json::from_slice(&answer[split..]).expect("JSON")
}

fn has_tag(state: &Value, account: &str, tag: &str) -> bool {
    state["accounts"][account]["tags"]
        .as_array()
        .is_some_and(|t| t.iter().any(|x| x == tag))
}

// ---------------------------------------------------------------------------------------------
// (a) a bulk job killed and resumed

/// An emulator served by a runtime on a thread of its own.
struct InProcess {
    handle: Option<tim_emulator::EmulatorHandle>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl InProcess {
    fn start(key: &str) -> Self {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        let handle = runtime
            .block_on(
                Emulator::builder()
                    .with_sdkappid(SDKAPPID)
                    .with_key(tim_core::SecretKey::new(key))
                    .with_rate_limits(false)
                    .start(),
            )
            .expect("emulator");
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::spawn(move || {
            runtime.block_on(async {
                let _ = stopped.await;
            });
        });
        Self {
            handle: Some(handle),
            stop: Some(stop),
            thread: Some(thread),
        }
    }

    fn handle(&self) -> &tim_emulator::EmulatorHandle {
        self.handle.as_ref().expect("running")
    }
}

impl Drop for InProcess {
    fn drop(&mut self) {
        drop(self.handle.take());
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// The checkpoint's records of finished chunks: `(first_line, last_line)` of each.
fn checkpointed(path: &Path) -> Vec<(u64, u64)> {
    let Ok(text) = std::fs::read_to_string(path) else {
        return Vec::new();
    };
    text.lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|v| v.get("chunk").is_some() && v["failed"] == false)
        .filter_map(|v| Some((v["first_line"].as_u64()?, v["last_line"].as_u64()?)))
        .collect()
}

fn bulk(a: &Args, key: &str, rng: &SeededRandom) -> Value {
    const LINES: u64 = 40_000;
    let emu = InProcess::start(key);
    let mut kills = 0u32;
    let mut rounds = 0u32;
    let mut runs = 0u32;
    let mut acked_chunks_checked = 0u64;
    let mut lost_acknowledged = 0u64;
    let mut lost_final = 0u64;
    let mut failures: Vec<String> = Vec::new();
    let mut kill_points_ms: Vec<u64> = Vec::new();
    let mut self_test = true;
    while kills < a.kills && failures.is_empty() {
        rounds += 1;
        let tag = format!("round-{rounds}");
        let input = scratch(&format!("bulk-{rounds}.jsonl"));
        let checkpoint = scratch(&format!("bulk-{rounds}.checkpoint"));
        let _ = std::fs::remove_file(&checkpoint);
        {
            let mut f = std::io::BufWriter::new(std::fs::File::create(&input).expect("input"));
            for i in 1..=LINES {
                writeln!(f, r#"{{"To_Account":"b{i}","Tags":["{tag}"]}}"#).expect("write");
            }
        }
        let account = |line: u64| format!("b{line}");
        loop {
            runs += 1;
            let mut child = Command::new(&a.tim)
                .args([
                    "tags",
                    "add",
                    "--quiet",
                    "--max-rate",
                    "100",
                    "--concurrency",
                    "4",
                ])
                .arg("--file")
                .arg(&input)
                .arg("--checkpoint")
                .arg(&checkpoint)
                .env("TIM_ENDPOINT", emu.handle().base_url())
                .env("TIM_SDKAPPID", SDKAPPID.to_string())
                .env("TIM_SECRET_KEY", key)
                .env_remove("TIM_USERSIG")
                .env_remove("TIM_TRANSPORT")
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::piped())
                .spawn()
                .expect("tim starts");
            let kill_at = between(rng, 30, 600);
            let started = Instant::now();
            let mut finished = None;
            while started.elapsed() < kill_at {
                if let Some(status) = child.try_wait().expect("wait") {
                    finished = Some(status);
                    break;
                }
                std::thread::sleep(Duration::from_millis(2));
            }
            if finished.is_none() && kills < a.kills {
                child.kill().expect("SIGKILL"); // SIGKILL on Unix
                child.wait().expect("reaped");
                kills += 1;
                kill_points_ms.push(kill_at.as_millis() as u64);
                // Everything the checkpoint holds was acknowledged: it must be applied.
                let state = get_json(&emu.handle().addr().to_string(), "/__emulator/state");
                for (first, last) in checkpointed(&checkpoint) {
                    acked_chunks_checked += 1;
                    for line in first..=last {
                        if !has_tag(&state, &account(line), &tag) {
                            lost_acknowledged += 1;
                        }
                    }
                }
                continue;
            }
            let status = match finished {
                Some(s) => s,
                None => child.wait().expect("wait"),
            };
            let mut err = String::new();
            if let Some(mut e) = child.stderr.take() {
                let _ = e.read_to_string(&mut err);
            }
            if !status.success() {
                failures.push(format!("round {rounds}: tim exited with {status}: {err}"));
                break;
            }
            // The job ran to its end: every line is applied.
            let state = get_json(&emu.handle().addr().to_string(), "/__emulator/state");
            lost_final += (1..=LINES)
                .filter(|&l| !has_tag(&state, &account(l), &tag))
                .count() as u64;
            // The check finds losses: against a tag nobody was given, every line is missing.
            let missing = (1..=LINES)
                .filter(|&l| !has_tag(&state, &account(l), "round-0"))
                .count() as u64;
            self_test &= missing == LINES;
            break;
        }
        let _ = std::fs::remove_file(&input);
        let _ = std::fs::remove_file(&checkpoint);
    }
    json!({
        "lines_per_round": LINES,
        "rounds": rounds,
        "runs": runs,
        "kills": kills,
        "kill_points_ms": kill_points_ms,
        "acknowledged_chunks_checked": acked_chunks_checked,
        "acknowledged_items_lost": lost_acknowledged,
        "items_lost_after_resume": lost_final,
        "detector_self_test": self_test && rounds > 0,
        "failures": failures,
    })
}

// ---------------------------------------------------------------------------------------------
// (b) the emulator with a state file, killed and restarted

/// `tim emulator serve --state FILE` on a free port; its address once it listens.
fn serve(a: &Args, key: &str, state: &Path) -> Result<(Child, String), String> {
    let mut child = Command::new(&a.tim)
        .args(["emulator", "serve", "--no-rate-limit", "--port", "0"])
        .arg("--state")
        .arg(state)
        .env("TIM_SDKAPPID", SDKAPPID.to_string())
        .env("TIM_SECRET_KEY", key)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| format!("tim emulator serve: {e}"))?;
    let mut stdout = BufReader::new(child.stdout.take().expect("piped"));
    let mut first = String::new();
    stdout
        .read_line(&mut first)
        .map_err(|e| format!("reading its address: {e}"))?;
    // Keep reading what it prints, so that it never writes into a closed pipe.
    std::thread::spawn(move || std::io::copy(&mut stdout, &mut std::io::sink()));
    let Some(url) = first.trim().strip_prefix("tim emulator: listening on ") else {
        let _ = child.kill();
        let _ = child.wait();
        return Err(format!("tim emulator serve did not start: {first:?}"));
    };
    let addr = url.trim_start_matches("http://").to_owned();
    Ok((child, addr))
}

#[derive(Default)]
struct Acked {
    accounts: Vec<u64>,
    pushes: Vec<String>,
}

/// Writes until `stop`: new accounts tagged, and every 10th write a push. Returns what was
/// acknowledged, and how many writes failed.
async fn writers(
    addr: &str,
    key: &str,
    next: &Arc<AtomicU64>,
    stop: &Arc<AtomicBool>,
) -> (Acked, u64) {
    let client = tim_reqwest::Client::builder()
        .with_sdkappid(SDKAPPID)
        .with_secret_key(key)
        .with_base_url(format!("http://{addr}").parse().expect("URL"))
        .with_timeout(Duration::from_secs(5))
        .with_retry_policy(RetryPolicy::none())
        .with_rate_limits(RateLimits::off())
        .build()
        .expect("client");
    let acked = Arc::new(Mutex::new(Acked::default()));
    let failed = Arc::new(AtomicU64::new(0));
    let tasks: Vec<_> = (0..4)
        .map(|_| {
            let (client, next, stop) = (client.clone(), next.clone(), stop.clone());
            let (acked, failed) = (acked.clone(), failed.clone());
            async move {
                while !stop.load(Ordering::SeqCst) {
                    let n = next.fetch_add(1, Ordering::SeqCst);
                    let ok = if n % 10 == 9 {
                        let push = PushRequest::new(n as u32, [TextElem::new("durable?")])
                            .with_condition(
                                PushCondition::new()
                                    .with_tags_and(vec!["nobody-holds-this".to_owned()]),
                            );
                        match client.all_member_push().push(push).await {
                            Ok(answer) => {
                                acked.lock().unwrap().pushes.push(answer.task_id);
                                true
                            }
                            Err(_) => false,
                        }
                    } else {
                        let add =
                            AddTagRequest::new([UserTagItem::new(format!("k{n}"), ["durable"])]);
                        match client.all_member_push().add_tag(add).await {
                            Ok(_) => {
                                acked.lock().unwrap().accounts.push(n);
                                true
                            }
                            Err(_) => false,
                        }
                    };
                    if !ok {
                        failed.fetch_add(1, Ordering::SeqCst);
                        tokio::time::sleep(Duration::from_millis(5)).await;
                    }
                }
            }
        })
        .collect();
    futures_util::future::join_all(tasks).await;
    let acked = std::mem::take(&mut *acked.lock().unwrap());
    (acked, failed.load(Ordering::SeqCst))
}

fn emulator(a: &Args, key: &str, rng: &SeededRandom) -> Value {
    let state_file = scratch("emulator-state.jsonl");
    let _ = std::fs::remove_file(&state_file);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let next = Arc::new(AtomicU64::new(1));
    let mut acked_accounts: Vec<u64> = Vec::new();
    let mut acked_pushes: Vec<String> = Vec::new();
    let mut kills = 0u32;
    let mut restarts = 0u32;
    let mut lost_accounts = 0u64;
    let mut lost_pushes = 0u64;
    let mut failed_writes = 0u64;
    let mut min_acked_per_round = u64::MAX;
    let mut failures: Vec<String> = Vec::new();
    let mut kill_points_ms: Vec<u64> = Vec::new();
    let check = |addr: &str, acked_accounts: &[u64], acked_pushes: &[String]| {
        let state = get_json(addr, "/__emulator/state");
        let pushes = get_json(addr, "/__emulator/pushes");
        let tasks: BTreeSet<&str> = pushes
            .as_array()
            .map(|p| p.iter().filter_map(|p| p["task_id"].as_str()).collect())
            .unwrap_or_default();
        let lost_a = acked_accounts
            .iter()
            .filter(|n| !has_tag(&state, &format!("k{n}"), "durable"))
            .count() as u64;
        let lost_p = acked_pushes
            .iter()
            .filter(|t| !tasks.contains(t.as_str()))
            .count() as u64;
        (lost_a, lost_p)
    };
    let (first, mut addr) = match serve(a, key, &state_file) {
        Ok(c) => c,
        Err(e) => return json!({ "failures": [e] }),
    };
    let mut running = Some(first);
    while kills < a.kills {
        let Some(mut child) = running.take() else {
            break;
        };
        let stop = Arc::new(AtomicBool::new(false));
        let kill_at = between(rng, 50, 500);
        let (acked, failed) = runtime.block_on(async {
            let killer = {
                let stop = stop.clone();
                async move {
                    tokio::time::sleep(kill_at).await;
                    child.kill().expect("SIGKILL");
                    child.wait().expect("reaped");
                    // Let the writers see the dead server for a moment, then stop them.
                    tokio::time::sleep(Duration::from_millis(30)).await;
                    stop.store(true, Ordering::SeqCst);
                }
            };
            let (acked, ()) = tokio::join!(writers(&addr, key, &next, &stop), killer);
            acked
        });
        kills += 1;
        kill_points_ms.push(kill_at.as_millis() as u64);
        failed_writes += failed;
        min_acked_per_round =
            min_acked_per_round.min((acked.accounts.len() + acked.pushes.len()) as u64);
        acked_accounts.extend(acked.accounts);
        acked_pushes.extend(acked.pushes);
        match serve(a, key, &state_file) {
            Ok((c, new_addr)) => {
                running = Some(c);
                addr = new_addr;
            }
            Err(e) => {
                failures.push(format!("restart after kill {kills}: {e}"));
                break;
            }
        }
        restarts += 1;
        let (la, lp) = check(&addr, &acked_accounts, &acked_pushes);
        lost_accounts += la;
        lost_pushes += lp;
    }
    if let Some(mut child) = running {
        let _ = child.kill();
        let _ = child.wait();
    }
    // The check finds losses: an emulator started on an empty file has lost every write.
    let empty = scratch("emulator-empty.jsonl");
    let self_test = match serve(a, key, &empty) {
        Ok((mut child, addr)) => {
            let (la, lp) = check(&addr, &acked_accounts, &acked_pushes);
            let _ = child.kill();
            let _ = child.wait();
            !acked_accounts.is_empty()
                && la == acked_accounts.len() as u64
                && lp == acked_pushes.len() as u64
        }
        Err(_) => false,
    };
    let state_bytes = std::fs::metadata(&state_file).map(|m| m.len()).unwrap_or(0);
    let _ = std::fs::remove_file(&state_file);
    json!({
        "kills": kills,
        "restarts": restarts,
        "kill_points_ms": kill_points_ms,
        "acknowledged_writes": acked_accounts.len() + acked_pushes.len(),
        "acknowledged_tag_writes": acked_accounts.len(),
        "acknowledged_pushes": acked_pushes.len(),
        "min_acknowledged_per_round": if min_acked_per_round == u64::MAX { 0 } else { min_acked_per_round },
        "failed_writes": failed_writes,
        "acknowledged_lost": lost_accounts + lost_pushes,
        "acknowledged_tag_writes_lost": lost_accounts,
        "acknowledged_pushes_lost": lost_pushes,
        "state_file_bytes_at_end": state_bytes,
        "detector_self_test": self_test,
        "failures": failures,
    })
}

fn main() {
    let a = args();
    let key = std::env::var("TIM_HARDEN_KEY").unwrap_or_else(|_| {
        format!(
            "harden-{:016x}{:016x}",
            FastRandom.next_u64(),
            FastRandom.next_u64()
        )
    });
    let rng = SeededRandom::new(a.seed);
    let started = Instant::now();
    let bulk = bulk(&a, &key, &rng);
    let bulk_s = started.elapsed().as_secs_f64();
    let started = Instant::now();
    let emulator = emulator(&a, &key, &rng);
    let emulator_s = started.elapsed().as_secs_f64();
    let _ = std::fs::remove_dir_all(scratch_dir());
    let ok = |v: &Value, lost: &[&str]| {
        v["failures"].as_array().is_some_and(Vec::is_empty)
            && v["kills"].as_u64() >= Some(u64::from(a.kills))
            && lost.iter().all(|k| v[*k].as_u64() == Some(0))
            && v["detector_self_test"] == true
    };
    let passed = ok(
        &bulk,
        &["acknowledged_items_lost", "items_lost_after_resume"],
    ) && ok(&emulator, &["acknowledged_lost"])
        && emulator["min_acknowledged_per_round"].as_u64() > Some(0);
    let doc = json!({
        "seed": a.seed,
        "bulk": bulk,
        "bulk_s": bulk_s,
        "emulator": emulator,
        "emulator_s": emulator_s,
        "passed": passed,
    });
    println!("{}", serde_json::to_string_pretty(&doc).expect("JSON"));
    if !passed {
        std::process::exit(1);
    }
}
