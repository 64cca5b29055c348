//! The durability checks of `cargo xtask harden` (it runs this example):
//!
//! - **bulk**: `tim tags add --file F --checkpoint C` against an emulator, interrupted at random
//!   points, alternately by SIGKILL and SIGINT (Ctrl-C: it must stop with exit 130), and
//!   resumed, again and again. After every interruption, every chunk the checkpoint records as
//!   done (acknowledged by the server) must be in the emulator's state; at the end of each round
//!   (the job ran to completion), every line of the file must be.
//! - **bulk_read**: `tim tags get --file ACCOUNTS --output OUT --checkpoint C` over 20,000
//!   tagged accounts, interrupted alternately by SIGINT and SIGKILL and resumed until it ends.
//!   After every interruption, what the checkpoint accounts for must be in OUT exactly; at the
//!   end, OUT must hold one result per account, none missing, none twice, in input order.
//! - **changed_input**: a job interrupted partway, then its input changed (lines appended, or
//!   one line changed keeping the size) and the same command rerun on the old checkpoint: it
//!   must exit 2 naming "input changed" and send nothing (the emulator's request log). With
//!   the input restored, the same command must resume (the check sees a run that sends).
//! - **bad_items**: a 100,000-line `tim attrs set --file F --failed X` job in which 1% of the
//!   lines, at random, name an attribute that was never configured (the server refuses the
//!   whole call with 90033): every good item must be applied, no bad one, and the reasons file
//!   must name exactly the bad lines with code 90033. The calls it took are reported.
//! - **emulator**: `tim emulator serve --state FILE` under a stream of writes (`im_add_tag` of
//!   new accounts and `im_push`), killed with SIGKILL at random points and restarted on the
//!   same file: every write the client saw acknowledged (HTTP 200 with an `OK` envelope) must
//!   be there after the restart.
//!
//! A SIGINT is sent at its drawn point, but not before the run has committed progress to its
//! checkpoint: before that, tim may not be listening for it yet, and the default action would
//! kill it like a SIGKILL.
//!
//! `harden_durability --tim PATH [--kills N] [--seed S]`. Output: one JSON document on stdout.
//! Exit status 1 when an acknowledged change was lost, a goal was missed or a check could not
//! run. The key comes from `TIM_HARDEN_KEY` (else a random one); it is never printed. Every
//! server is on loopback; every run of tim is bounded in time.

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
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

/// The longest any one run of tim may take before it is killed and the check fails.
const RUN_LIMIT: Duration = Duration::from_secs(300);

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
    state["all_member_push"]["users"][account]["tags"]
        .as_array()
        .is_some_and(|t| t.iter().any(|x| x == tag))
}

// ---------------------------------------------------------------------------------------------
// Shared: an in-process emulator, runs of tim and their interruption

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

/// `tim` pointed at `emu`, with the app's key in its environment; stdout discarded, stderr
/// piped (read by [`Running`]).
fn tim_cmd(a: &Args, emu: &InProcess, key: &str) -> Command {
    let mut c = Command::new(&a.tim);
    c.env("TIM_ENDPOINT", emu.handle().base_url())
        .env("TIM_SDKAPPID", SDKAPPID.to_string())
        .env("TIM_SECRET_KEY", key)
        .env_remove("TIM_USERSIG")
        .env_remove("TIM_TRANSPORT")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    c
}

/// A running `tim`, its stderr read on a thread of its own (so that it never blocks on a full
/// pipe).
struct Running {
    child: Child,
    stderr: Option<std::thread::JoinHandle<String>>,
    started: Instant,
}

impl Running {
    fn spawn(cmd: &mut Command) -> Self {
        let mut child = cmd.spawn().expect("tim starts");
        let stderr = child.stderr.take().map(|mut e| {
            std::thread::spawn(move || {
                let mut s = String::new();
                let _ = e.read_to_string(&mut s);
                s
            })
        });
        Self {
            child,
            stderr,
            started: Instant::now(),
        }
    }

    fn exited(&mut self) -> bool {
        self.child.try_wait().expect("wait").is_some()
    }

    /// Waits for its end until `deadline` (then kills it: `None`); its status and stderr.
    fn finish(mut self, deadline: Instant) -> (Option<ExitStatus>, String) {
        let status = loop {
            if let Some(s) = self.child.try_wait().expect("wait") {
                break Some(s);
            }
            if Instant::now() >= deadline {
                let _ = self.child.kill();
                let _ = self.child.wait();
                break None;
            }
            std::thread::sleep(Duration::from_millis(2));
        };
        let err = self
            .stderr
            .take()
            .and_then(|h| h.join().ok())
            .unwrap_or_default();
        (status, err)
    }

    /// [`Running::finish`] within [`RUN_LIMIT`] of its start.
    fn finish_in_time(self) -> (Option<ExitStatus>, String) {
        let deadline = self.started + RUN_LIMIT;
        self.finish(deadline)
    }
}

/// Runs `cmd` to its end (within [`RUN_LIMIT`]): its exit code (`None`: killed) and stderr.
fn run_tim(cmd: &mut Command) -> (Option<i32>, String) {
    let (status, err) = Running::spawn(cmd).finish_in_time();
    (status.and_then(|s| s.code()), err)
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Sig {
    Kill,
    Int,
}

/// How a run that was to be interrupted ended.
enum Ended {
    /// It ended on its own (or overran [`RUN_LIMIT`]: `None`) before it could be interrupted.
    Finished(Option<ExitStatus>, String),
    /// Interrupted `at` after its start; after a SIGINT, how it exited and what it said.
    Interrupted {
        at: Duration,
        status: Option<ExitStatus>,
        stderr: String,
    },
}

/// The records (marks) a checkpoint holds, and the last one.
fn marks(path: &Path) -> (usize, Option<Value>) {
    let Ok(text) = std::fs::read_to_string(path) else {
        return (0, None);
    };
    let marks: Vec<Value> = text
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|v| v.get("through_line").is_some())
        .collect();
    (marks.len(), marks.last().cloned())
}

/// Lets `run` go until `at` after its start, then interrupts it with `sig`. Not before the run
/// has added a record to `checkpoint` (beyond the `marks_before` it held when the run started)
/// when `sig` is SIGINT or `gate` is set. After a SIGINT it waits for the end (at most a
/// minute).
fn interrupt(
    mut run: Running,
    at: Duration,
    sig: Sig,
    gate: bool,
    checkpoint: &Path,
    marks_before: usize,
) -> Ended {
    let at = loop {
        if run.exited() {
            let (status, err) = run.finish_in_time();
            return Ended::Finished(status, err);
        }
        let elapsed = run.started.elapsed();
        if elapsed >= RUN_LIMIT {
            let (status, err) = run.finish(Instant::now());
            return Ended::Finished(status, err);
        }
        if elapsed >= at && ((sig == Sig::Kill && !gate) || marks(checkpoint).0 > marks_before) {
            break elapsed;
        }
        std::thread::sleep(Duration::from_millis(2));
    };
    let (status, stderr) = match sig {
        Sig::Kill => {
            run.child.kill().expect("SIGKILL"); // SIGKILL on Unix
            run.finish(Instant::now() + Duration::from_secs(10))
        }
        Sig::Int => {
            let pid = run.child.id().to_string();
            let sent = Command::new("kill")
                .args(["-INT", &pid])
                .status()
                .is_ok_and(|s| s.success());
            if !sent {
                let _ = run.child.kill();
            }
            run.finish(Instant::now() + Duration::from_secs(60))
        }
    };
    // Exit 0: the job had ended just before the signal (an interrupted job never exits 0).
    if status.is_some_and(|s| s.success()) {
        return Ended::Finished(status, stderr);
    }
    Ended::Interrupted { at, status, stderr }
}

/// The last lines of `text` (tim's stderr, for a failure message; it never holds the key).
fn tail(text: &str, n: usize) -> String {
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(n)..].join(" / ")
}

// ---------------------------------------------------------------------------------------------
// (a) a bulk write interrupted and resumed

/// What the checkpoint says is done: every input line up to its last record's `through_line`
/// (none of this job's lines fail), as one `(first_line, last_line)` range.
fn checkpointed(path: &Path) -> Vec<(u64, u64)> {
    marks(path)
        .1
        .and_then(|m| m["through_line"].as_u64())
        .filter(|through| *through > 0)
        .map(|through| vec![(1, through)])
        .unwrap_or_default()
}

/// The fields of `a` and then of `b`, in one object.
fn with(mut a: Value, b: Value) -> Value {
    if let (Some(a), Value::Object(b)) = (a.as_object_mut(), b) {
        a.extend(b);
    }
    a
}

/// Counts interruptions by signal, and SIGINTs that did not end with exit 130.
#[derive(Default)]
struct Interruptions {
    sigkill: u32,
    sigint: u32,
    sigint_exit_130: u32,
    /// SIGINTs sent later than drawn, held until the run's first checkpoint record.
    sigint_held: u32,
    points_ms: Vec<u64>,
}

impl Interruptions {
    fn total(&self) -> u32 {
        self.sigkill + self.sigint
    }

    /// The signal of the next interruption: they alternate, starting with `first`.
    fn next(&self, first: Sig) -> Sig {
        match (self.total().is_multiple_of(2), first) {
            (true, s) => s,
            (false, Sig::Kill) => Sig::Int,
            (false, Sig::Int) => Sig::Kill,
        }
    }

    /// Interrupts `run` at `drawn` with the next signal (alternating, starting with `first`) and
    /// counts it; `None` when it was interrupted, else how it finished on its own.
    #[allow(clippy::too_many_arguments)]
    fn interrupt(
        &mut self,
        run: Running,
        first: Sig,
        drawn: Duration,
        checkpoint: &Path,
        marks_before: usize,
        what: &str,
        failures: &mut Vec<String>,
    ) -> Option<(Option<ExitStatus>, String)> {
        let sig = self.next(first);
        match interrupt(run, drawn, sig, false, checkpoint, marks_before) {
            Ended::Interrupted { at, status, stderr } => {
                self.count(sig, drawn, at, status, &stderr, what, failures);
                None
            }
            Ended::Finished(status, err) => Some((status, err)),
        }
    }

    /// Counts one, drawn for `drawn` and sent `at`; for a SIGINT, whether it exited 130 (else a
    /// failure is pushed).
    #[allow(clippy::too_many_arguments)]
    fn count(
        &mut self,
        sig: Sig,
        drawn: Duration,
        at: Duration,
        status: Option<ExitStatus>,
        stderr: &str,
        what: &str,
        failures: &mut Vec<String>,
    ) {
        self.points_ms.push(at.as_millis() as u64);
        match sig {
            Sig::Kill => self.sigkill += 1,
            Sig::Int => {
                self.sigint += 1;
                if at > drawn + Duration::from_millis(20) {
                    self.sigint_held += 1;
                }
                if status.and_then(|s| s.code()) == Some(130) {
                    self.sigint_exit_130 += 1;
                } else {
                    failures.push(format!(
                        "{what}: after SIGINT tim ended with {status:?}, not exit 130: {}",
                        tail(stderr, 3)
                    ));
                }
            }
        }
    }

    fn json(&self) -> Value {
        json!({
            "kills": self.total(),
            "sigkill": self.sigkill,
            "sigint": self.sigint,
            "sigint_exit_130": self.sigint_exit_130,
            "sigint_held_for_first_record": self.sigint_held,
            "kill_points_ms": self.points_ms,
        })
    }
}

fn bulk(a: &Args, key: &str, rng: &SeededRandom) -> Value {
    const LINES: u64 = 40_000;
    let emu = InProcess::start(key);
    let mut hits = Interruptions::default();
    let mut rounds = 0u32;
    let mut runs = 0u32;
    let mut acked_chunks_checked = 0u64;
    let mut lost_acknowledged = 0u64;
    let mut lost_final = 0u64;
    let mut failures: Vec<String> = Vec::new();
    let mut self_test = true;
    while hits.total() < a.kills && failures.is_empty() {
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
            let marks_before = marks(&checkpoint).0;
            let run = Running::spawn(
                tim_cmd(a, &emu, key)
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
                    .arg(&checkpoint),
            );
            let ended = if hits.total() < a.kills {
                let what = format!("round {rounds}");
                hits.interrupt(
                    run,
                    Sig::Kill,
                    between(rng, 30, 600),
                    &checkpoint,
                    marks_before,
                    &what,
                    &mut failures,
                )
            } else {
                Some(run.finish_in_time())
            };
            let Some((status, err)) = ended else {
                // Everything the checkpoint holds was acknowledged: it must be applied.
                let state = get_json(&emu.handle().addr().to_string(), "/__emulator/state");
                for (first, last) in checkpointed(&checkpoint) {
                    // In chunks of 100 lines, as the job sends them.
                    acked_chunks_checked += (last - first + 1).div_ceil(100);
                    for line in first..=last {
                        if !has_tag(&state, &account(line), &tag) {
                            lost_acknowledged += 1;
                        }
                    }
                }
                if failures.is_empty() {
                    continue;
                }
                break;
            };
            if !status.is_some_and(|s| s.success()) {
                failures.push(format!(
                    "round {rounds}: tim ended with {status:?}: {}",
                    tail(&err, 3)
                ));
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
    with(
        hits.json(),
        json!({
            "lines_per_round": LINES,
            "rounds": rounds,
            "runs": runs,
            "acknowledged_chunks_checked": acked_chunks_checked,
            "acknowledged_items_lost": lost_acknowledged,
            "items_lost_after_resume": lost_final,
            "detector_self_test": self_test && rounds > 0,
            "failures": failures,
        }),
    )
}

// ---------------------------------------------------------------------------------------------
// (b) a bulk read into --output, interrupted and resumed

/// The accounts of a read's output lines (`None` for a line that is not a result).
fn result_accounts(bytes: &[u8]) -> Vec<Option<String>> {
    bytes
        .split(|b| *b == b'\n')
        .filter(|l| !l.is_empty())
        .map(|l| {
            serde_json::from_slice::<Value>(l)
                .ok()
                .and_then(|v| v["To_Account"].as_str().map(str::to_owned))
        })
        .collect()
}

/// An output compared with the input: accounts missing, accounts there more than once,
/// results for no input line, and whether the results follow the input's order.
#[derive(Debug, PartialEq, Eq)]
struct Compared {
    missing: u64,
    duplicated: u64,
    unexpected: u64,
    in_order: bool,
}

fn compare(got: &[Option<String>], expected: &[String]) -> Compared {
    let position: std::collections::HashMap<&str, usize> = expected
        .iter()
        .enumerate()
        .map(|(i, a)| (a.as_str(), i))
        .collect();
    let mut seen = vec![false; expected.len()];
    let (mut duplicated, mut unexpected, mut in_order) = (0u64, 0u64, true);
    let mut last: Option<usize> = None;
    for g in got {
        let Some(&i) = g.as_deref().and_then(|a| position.get(a)) else {
            unexpected += 1;
            in_order = false;
            continue;
        };
        if seen[i] {
            duplicated += 1;
        }
        seen[i] = true;
        if last.is_some_and(|l| i <= l) {
            in_order = false;
        }
        last = Some(i);
    }
    Compared {
        missing: seen.iter().filter(|s| !**s).count() as u64,
        duplicated,
        unexpected,
        in_order,
    }
}

fn bulk_read(a: &Args, key: &str, rng: &SeededRandom) -> Value {
    const ACCOUNTS: usize = 20_000;
    let target = a.kills.max(10);
    let emu = InProcess::start(key);
    let expected: Vec<String> = (1..=ACCOUNTS).map(|i| format!("b{i}")).collect();
    let accounts = scratch("read-accounts.txt");
    let tags = scratch("read-tags.jsonl");
    std::fs::write(
        &accounts,
        expected
            .iter()
            .map(|a| format!("{a}\n"))
            .collect::<String>(),
    )
    .expect("accounts");
    std::fs::write(
        &tags,
        expected
            .iter()
            .map(|a| format!("{{\"To_Account\":\"{a}\",\"Tags\":[\"read\"]}}\n"))
            .collect::<String>(),
    )
    .expect("tags");
    let mut failures: Vec<String> = Vec::new();
    // The accounts get their tag from a first job, run to its end.
    let (code, err) = run_tim(
        tim_cmd(a, &emu, key)
            .args(["tags", "add", "--quiet", "--max-rate", "off", "--file"])
            .arg(&tags),
    );
    if code != Some(0) {
        failures.push(format!(
            "tagging the accounts: tim ended with {code:?}: {}",
            tail(&err, 3)
        ));
    }
    let mut hits = Interruptions::default();
    let (mut rounds, mut runs) = (0u32, 0u32);
    let (mut missing, mut duplicated, mut unexpected) = (0u64, 0u64, 0u64);
    let mut in_order = true;
    let mut wrong_tags = 0u64;
    let mut results = 0u64;
    let mut completed = 0u64;
    let mut checked_after_interruption = 0u32;
    let mut mismatched_after_interruption = 0u32;
    while hits.total() < target && failures.is_empty() && rounds < 10 * target {
        rounds += 1;
        let output = scratch(&format!("read-{rounds}.out.jsonl"));
        let checkpoint = scratch(&format!("read-{rounds}.checkpoint"));
        for f in [&output, &checkpoint] {
            let _ = std::fs::remove_file(f);
        }
        loop {
            runs += 1;
            let marks_before = marks(&checkpoint).0;
            let run = Running::spawn(
                tim_cmd(a, &emu, key)
                    .args([
                        "tags",
                        "get",
                        "--quiet",
                        "--max-rate",
                        "100",
                        "--concurrency",
                        "4",
                    ])
                    .arg("--file")
                    .arg(&accounts)
                    .arg("--output")
                    .arg(&output)
                    .arg("--checkpoint")
                    .arg(&checkpoint),
            );
            let ended = if hits.total() < target {
                let what = format!("read round {rounds}");
                hits.interrupt(
                    run,
                    Sig::Int,
                    between(rng, 30, 1500),
                    &checkpoint,
                    marks_before,
                    &what,
                    &mut failures,
                )
            } else {
                Some(run.finish_in_time())
            };
            let Some((status, err)) = ended else {
                // What the checkpoint accounts for is in the output, exactly, in order.
                if let Some(mark) = marks(&checkpoint).1 {
                    let through = mark["through_line"].as_u64().unwrap_or(0) as usize;
                    let len = mark["output_len"].as_u64().unwrap_or(0) as usize;
                    let bytes = std::fs::read(&output).unwrap_or_default();
                    checked_after_interruption += 1;
                    let held = bytes.get(..len).map(result_accounts);
                    let want = &expected[..through.min(ACCOUNTS)];
                    let matches = held.is_some_and(|h| {
                        h.len() == want.len()
                            && h.iter().zip(want).all(|(h, w)| h.as_deref() == Some(w))
                    });
                    if !matches {
                        mismatched_after_interruption += 1;
                    }
                }
                if failures.is_empty() {
                    continue;
                }
                break;
            };
            if !status.is_some_and(|s| s.success()) {
                failures.push(format!(
                    "read round {rounds}: tim ended with {status:?}: {}",
                    tail(&err, 3)
                ));
                break;
            }
            completed += 1;
            let bytes = std::fs::read(&output).unwrap_or_default();
            let got = result_accounts(&bytes);
            results += got.len() as u64;
            let c = compare(&got, &expected);
            missing += c.missing;
            duplicated += c.duplicated;
            unexpected += c.unexpected;
            in_order &= c.in_order;
            wrong_tags += bytes
                .split(|b| *b == b'\n')
                .filter(|l| !l.is_empty())
                .filter(|l| {
                    serde_json::from_slice::<Value>(l)
                        .map_or(true, |v| v["Tags"] != json!(["read"]))
                })
                .count() as u64;
            break;
        }
        for f in [&output, &checkpoint] {
            let _ = std::fs::remove_file(f);
        }
    }
    // The comparison finds what it must: one line dropped, one written twice, two swapped.
    let mut doctored: Vec<Option<String>> = expected.iter().cloned().map(Some).collect();
    doctored.remove(10);
    doctored.insert(100, Some(expected[50].clone()));
    doctored.swap(200, 201);
    let self_test = compare(&doctored, &expected)
        == Compared {
            missing: 1,
            duplicated: 1,
            unexpected: 0,
            in_order: false,
        }
        && compare(
            &expected.iter().cloned().map(Some).collect::<Vec<_>>(),
            &expected,
        ) == Compared {
            missing: 0,
            duplicated: 0,
            unexpected: 0,
            in_order: true,
        };
    with(
        hits.json(),
        json!({
            "accounts": ACCOUNTS,
            "interruptions_wanted": target,
            "rounds": rounds,
            "runs": runs,
            "results": results,
            "completed_rounds": completed,
            "results_expected": completed * ACCOUNTS as u64,
            "items_missing": missing,
            "items_duplicated": duplicated,
            "results_unexpected": unexpected,
            "results_with_wrong_tags": wrong_tags,
            "in_input_order": in_order,
            "checked_after_interruption": checked_after_interruption,
            "mismatched_after_interruption": mismatched_after_interruption,
            "detector_self_test": self_test,
            "failures": failures,
        }),
    )
}

// ---------------------------------------------------------------------------------------------
// (c) a changed input under an old checkpoint

/// The sequence number of the last call the emulator received (0: none yet).
fn last_seq(emu: &InProcess) -> u64 {
    emu.handle().requests().last().map_or(0, |r| r.seq)
}

fn changed_input(a: &Args, key: &str, rng: &SeededRandom) -> Value {
    const LINES: u64 = 20_000;
    let trials = (a.kills / 2).max(6);
    let emu = InProcess::start(key);
    let mut failures: Vec<String> = Vec::new();
    let mut hits = Interruptions::default();
    let (mut appended, mut same_size) = (0u32, 0u32);
    let (mut refused, mut requests_sent, mut checkpoint_untouched) = (0u32, 0u64, 0u32);
    let mut resumed_after_restore = 0u32;
    let mut through_lines: Vec<u64> = Vec::new();
    let mut done = 0u32;
    for t in 1..=trials {
        if !failures.is_empty() {
            break;
        }
        let input = scratch(&format!("changed-{t}.jsonl"));
        let checkpoint = scratch(&format!("changed-{t}.checkpoint"));
        let tag = |v: char| format!("t{t}{v}");
        let line =
            |i: u64, v: char| format!("{{\"To_Account\":\"c{i}\",\"Tags\":[\"{}\"]}}\n", tag(v));
        let original: String = (1..=LINES).map(|i| line(i, 'a')).collect();
        std::fs::write(&input, &original).expect("input");
        let job = || {
            let mut c = tim_cmd(a, &emu, key);
            c.args([
                "tags",
                "add",
                "--quiet",
                "--max-rate",
                "100",
                "--concurrency",
                "4",
                "--file",
            ])
            .arg(&input)
            .arg("--checkpoint")
            .arg(&checkpoint);
            c
        };
        // Interrupted partway: after its first commit, before its end.
        let mut through = 0;
        for _attempt in 0..3 {
            let _ = std::fs::remove_file(&checkpoint);
            let sig = hits.next(Sig::Kill);
            let drawn = between(rng, 30, 1200);
            match interrupt(Running::spawn(&mut job()), drawn, sig, true, &checkpoint, 0) {
                Ended::Interrupted { at, status, stderr } => {
                    hits.count(
                        sig,
                        drawn,
                        at,
                        status,
                        &stderr,
                        &format!("changed-input trial {t}"),
                        &mut failures,
                    );
                    through = checkpointed(&checkpoint).first().map_or(0, |r| r.1);
                    if through > 0 && through < LINES {
                        break;
                    }
                }
                Ended::Finished(status, err) => {
                    if !status.is_some_and(|s| s.success()) {
                        failures.push(format!(
                            "changed-input trial {t}: tim ended with {status:?}: {}",
                            tail(&err, 3)
                        ));
                        break;
                    }
                }
            }
        }
        if failures.is_empty() && !(through > 0 && through < LINES) {
            failures.push(format!(
                "changed-input trial {t}: the job could not be interrupted partway"
            ));
        }
        if !failures.is_empty() {
            break;
        }
        through_lines.push(through);
        // The input changes under the checkpoint.
        let (kind, changed) = if t % 2 == 1 {
            appended += 1;
            let mut s = original.clone();
            for j in 1..=1 + rng.next_u64() % 50 {
                s.push_str(&format!(
                    "{{\"To_Account\":\"cx{j}\",\"Tags\":[\"{}\"]}}\n",
                    tag('a')
                ));
            }
            ("lines appended", s)
        } else {
            same_size += 1;
            let k = 1 + rng.next_u64() % LINES;
            let s: String = (1..=LINES)
                .map(|i| line(i, if i == k { 'b' } else { 'a' }))
                .collect();
            if s.len() != original.len() {
                failures.push(format!(
                    "changed-input trial {t}: the edit changed the size"
                ));
            }
            ("one line changed, same size", s)
        };
        std::fs::write(&input, &changed).expect("changed input");
        let checkpoint_before = std::fs::read(&checkpoint).unwrap_or_default();
        let seq = last_seq(&emu);
        let (code, err) = run_tim(&mut job());
        let sent = last_seq(&emu) - seq;
        requests_sent += sent;
        if code == Some(2) && err.contains("input changed") && sent == 0 {
            refused += 1;
        } else {
            failures.push(format!(
                "changed-input trial {t} ({kind}): exit {code:?}, {sent} calls sent: {}",
                tail(&err, 3)
            ));
        }
        if std::fs::read(&checkpoint).unwrap_or_default() == checkpoint_before {
            checkpoint_untouched += 1;
        }
        // The check sees a run that sends: with the input restored, the same command resumes,
        // sends only the chunks after the checkpoint, and completes the job.
        std::fs::write(&input, &original).expect("restored input");
        let seq = last_seq(&emu);
        let (code, err) = run_tim(&mut job());
        let sent = last_seq(&emu) - seq;
        let state = emu.handle().state();
        let complete = (1..=LINES).all(|i| {
            state
                .all_member_push
                .users
                .get(&format!("c{i}"))
                .is_some_and(|acc| acc.tags.contains(&tag('a')))
        });
        if code == Some(0) && sent >= 1 && sent <= (LINES - through).div_ceil(100) && complete {
            resumed_after_restore += 1;
        } else {
            failures.push(format!(
                "changed-input trial {t}: the restored input did not resume (exit {code:?}, {sent} calls for {} lines left, complete: {complete}): {}",
                LINES - through,
                tail(&err, 3)
            ));
        }
        done += 1;
        let _ = std::fs::remove_file(&input);
        let _ = std::fs::remove_file(&checkpoint);
    }
    with(
        hits.json(),
        json!({
            "lines": LINES,
            "trials": done,
            "trials_lines_appended": appended,
            "trials_same_size": same_size,
            "through_line_at_interruption": through_lines,
            "refused": refused,
            "calls_sent_by_refused_runs": requests_sent,
            "checkpoint_untouched": checkpoint_untouched,
            "resumed_after_restore": resumed_after_restore,
            "detector_self_test": done > 0 && resumed_after_restore == done,
            "failures": failures,
        }),
    )
}

// ---------------------------------------------------------------------------------------------
// (d) 1% bad items in a large write

/// The number of calls in tim's summary line (`..., N calls in S s ...`).
fn summary_calls(stderr: &str) -> Option<u64> {
    stderr
        .lines()
        .filter_map(|l| {
            l.split_once(" calls in ")?
                .0
                .rsplit(' ')
                .next()?
                .parse()
                .ok()
        })
        .next_back()
}

fn bad_items(a: &Args, key: &str, rng: &SeededRandom) -> Value {
    const LINES: u64 = 100_000;
    const BAD: usize = 1_000;
    const PER_CALL: u64 = 100;
    let emu = InProcess::start(key);
    let mut failures: Vec<String> = Vec::new();
    let (code, err) = run_tim(tim_cmd(a, &emu, key).args(["attrs", "names", "set", "0=city"]));
    if code != Some(0) {
        failures.push(format!(
            "attrs names set: tim ended with {code:?}: {}",
            tail(&err, 3)
        ));
        return json!({ "failures": failures });
    }
    let mut bad: BTreeSet<u64> = BTreeSet::new();
    while bad.len() < BAD {
        bad.insert(1 + rng.next_u64() % LINES);
    }
    let input = scratch("attrs.jsonl");
    let failed = scratch("attrs.failed.jsonl");
    let reasons = failed.with_extension("reasons.jsonl");
    let line = |i: u64| {
        if bad.contains(&i) {
            format!("{{\"To_Account\":\"u{i}\",\"Attrs\":{{\"planet\":\"x\"}}}}")
        } else {
            format!("{{\"To_Account\":\"u{i}\",\"Attrs\":{{\"city\":\"c{i}\"}}}}")
        }
    };
    {
        let mut f = std::io::BufWriter::new(std::fs::File::create(&input).expect("input"));
        for i in 1..=LINES {
            writeln!(f, "{}", line(i)).expect("write");
        }
    }
    let started = Instant::now();
    let (code, err) = run_tim(
        tim_cmd(a, &emu, key)
            .args(["attrs", "set", "--max-rate", "off", "--file"])
            .arg(&input)
            .arg("--failed")
            .arg(&failed),
    );
    let job_s = started.elapsed().as_secs_f64();
    if code != Some(4) {
        failures.push(format!(
            "attrs set: tim ended with {code:?}, not 4 (failed items): {}",
            tail(&err, 3)
        ));
    }
    let calls = summary_calls(&err);
    if calls.is_none() {
        failures.push(format!("attrs set: no summary line: {}", tail(&err, 3)));
    }
    let state = emu.handle().state();
    let applied = |i: u64| {
        state
            .all_member_push
            .users
            .get(&format!("u{i}"))
            .and_then(|acc| acc.attrs.get("city"))
            .is_some_and(|v| *v == format!("c{i}"))
    };
    let good_not_applied = (1..=LINES)
        .filter(|i| !bad.contains(i) && !applied(*i))
        .count() as u64;
    let bad_applied = bad
        .iter()
        .filter(|i| {
            state
                .all_member_push
                .users
                .get(&format!("u{i}"))
                .is_some_and(|acc| !acc.attrs.is_empty())
        })
        .count() as u64;
    // The check finds what is missing: by its test of a good item, every bad one is.
    let self_test = bad.iter().all(|i| !applied(*i));
    let reason_lines: Vec<(Option<u64>, Option<i64>)> = std::fs::read_to_string(&reasons)
        .unwrap_or_default()
        .lines()
        .map(|l| {
            let v: Value = serde_json::from_str(l).unwrap_or(Value::Null);
            (v["line"].as_u64(), v["code"].as_i64())
        })
        .collect();
    let named: Vec<u64> = reason_lines.iter().filter_map(|r| r.0).collect();
    let reasons_exact = named.len() == reason_lines.len()
        && named.iter().copied().collect::<BTreeSet<u64>>() == bad
        && named.len() == bad.len();
    let code_90033 = reason_lines.iter().filter(|r| r.1 == Some(90_033)).count() as u64;
    // The failed file holds the bad items in their own shape (the same JSON), in input order.
    let failed_text = std::fs::read_to_string(&failed).unwrap_or_default();
    let want: Vec<Value> = bad
        .iter()
        .map(|i| serde_json::from_str(&line(*i)).expect("JSON"))
        .collect();
    let failed_file_exact = failed_text
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).ok())
        .eq(want.into_iter().map(Some));
    for f in [&input, &failed, &reasons] {
        let _ = std::fs::remove_file(f);
    }
    let clean_calls = LINES.div_ceil(PER_CALL);
    json!({
        "lines": LINES,
        "bad_items": BAD,
        "exit_code": code,
        "good_items_not_applied": good_not_applied,
        "bad_items_applied": bad_applied,
        "reasons": reason_lines.len(),
        "reasons_name_exactly_the_bad_lines": reasons_exact,
        "reasons_with_code_90033": code_90033,
        "failed_file_holds_exactly_the_bad_lines": failed_file_exact,
        "calls": calls,
        "calls_without_bad_items": clean_calls,
        "extra_calls_per_bad_item": calls.map(|c| c.saturating_sub(clean_calls) as f64 / BAD as f64),
        "job_s": job_s,
        "detector_self_test": self_test,
        "failures": failures,
    })
}

// ---------------------------------------------------------------------------------------------
// (e) the emulator with a state file, killed and restarted

/// `tim emulator serve --state FILE` on a free port; its address once it listens.
fn serve(a: &Args, key: &str, state: &Path) -> Result<(Child, String), String> {
    let mut child = Command::new(&a.tim)
        .args(["emulator", "serve", "--no-rate-limit", "--no-push-spacing"])
        .args(["--port", "0"])
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
    let timed = |f: &dyn Fn() -> Value| {
        let started = Instant::now();
        let v = f();
        (v, started.elapsed().as_secs_f64())
    };
    let (bulk, bulk_s) = timed(&|| bulk(&a, &key, &rng));
    let (bulk_read, bulk_read_s) = timed(&|| bulk_read(&a, &key, &rng));
    let (changed_input, changed_input_s) = timed(&|| changed_input(&a, &key, &rng));
    let (bad_items, bad_items_s) = timed(&|| bad_items(&a, &key, &rng));
    let (emulator, emulator_s) = timed(&|| emulator(&a, &key, &rng));
    let _ = std::fs::remove_dir_all(scratch_dir());
    let no_failures = |v: &Value| v["failures"].as_array().is_some_and(Vec::is_empty);
    let zero = |v: &Value, keys: &[&str]| keys.iter().all(|k| v[*k].as_u64() == Some(0));
    let ok = |v: &Value, lost: &[&str]| {
        no_failures(v)
            && v["kills"].as_u64() >= Some(u64::from(a.kills))
            && zero(v, lost)
            && v["detector_self_test"] == true
    };
    let sigint_ok = |v: &Value| v["sigint"].as_u64() == v["sigint_exit_130"].as_u64();
    let bulk_ok = ok(
        &bulk,
        &["acknowledged_items_lost", "items_lost_after_resume"],
    ) && sigint_ok(&bulk)
        && (a.kills < 2 || bulk["sigint"].as_u64() > Some(0));
    let read_ok = no_failures(&bulk_read)
        && bulk_read["kills"].as_u64() >= Some(u64::from(a.kills.max(10)))
        && bulk_read["sigint"].as_u64() > Some(0)
        && bulk_read["sigkill"].as_u64() > Some(0)
        && sigint_ok(&bulk_read)
        && zero(
            &bulk_read,
            &[
                "items_missing",
                "items_duplicated",
                "results_unexpected",
                "results_with_wrong_tags",
                "mismatched_after_interruption",
            ],
        )
        && bulk_read["completed_rounds"].as_u64() > Some(0)
        && bulk_read["results"] == bulk_read["results_expected"]
        && bulk_read["in_input_order"] == true
        && bulk_read["detector_self_test"] == true;
    let changed_ok = no_failures(&changed_input)
        && changed_input["trials"].as_u64() >= Some(5)
        && changed_input["refused"] == changed_input["trials"]
        && changed_input["checkpoint_untouched"] == changed_input["trials"]
        && zero(&changed_input, &["calls_sent_by_refused_runs"])
        && sigint_ok(&changed_input)
        && changed_input["detector_self_test"] == true;
    let bad_ok = no_failures(&bad_items)
        && zero(&bad_items, &["good_items_not_applied", "bad_items_applied"])
        && bad_items["reasons_name_exactly_the_bad_lines"] == true
        && bad_items["reasons_with_code_90033"] == bad_items["bad_items"]
        && bad_items["failed_file_holds_exactly_the_bad_lines"] == true
        && bad_items["detector_self_test"] == true;
    let emulator_ok = ok(&emulator, &["acknowledged_lost"])
        && emulator["min_acknowledged_per_round"].as_u64() > Some(0);
    let passed = bulk_ok && read_ok && changed_ok && bad_ok && emulator_ok;
    let doc = json!({
        "seed": a.seed,
        "bulk": bulk,
        "bulk_s": bulk_s,
        "bulk_read": bulk_read,
        "bulk_read_s": bulk_read_s,
        "changed_input": changed_input,
        "changed_input_s": changed_input_s,
        "bad_items": bad_items,
        "bad_items_s": bad_items_s,
        "emulator": emulator,
        "emulator_s": emulator_s,
        "passed": passed,
    });
    println!("{}", serde_json::to_string_pretty(&doc).expect("JSON"));
    if !passed {
        std::process::exit(1);
    }
}
