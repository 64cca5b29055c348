//! Bulk jobs of the `tim` binary against the emulator: throughput at the documented rate
//! ceiling, and peak memory while streaming large files.
//!
//! `bench_bulk --tim PATH [rate] [faults] [memory]` (default: all three), where PATH is a
//! release build of the `tim` binary:
//!
//! - `rate`: `tim tags add --file` of 50,000 users (500 calls of 100) as a subprocess, against
//!   an emulator started in this process with its documented rate limits on (100 calls/s per
//!   endpoint). From the emulator's request log: the answers per error code (60007 = over the
//!   rate limit), and the sustained rate of accepted calls after the first window; from its
//!   state: every line of the file checked to be applied (items lost).
//! - `faults`: the same with 5% of the calls answered 91000 (internal error, not applied).
//! - `memory`: `tim tags add --file --max-rate off` of 0, 100,000 and 1,000,000 lines against
//!   `tim emulator serve --no-rate-limit` in a separate process; the peak memory is the one the
//!   tim summary line reports (Linux `VmHWM` of the tim process).
//! - `import`: `tim accounts import --file` of 100,000 accounts (1,000 calls of 100, every third
//!   with a nickname and photo) against an emulator with its limits on: the sustained rate of
//!   accepted calls, the 60007 answers, and every account checked to exist (lost); then the same
//!   with `--max-rate off` over 100,000 and 1,000,000 lines against `tim emulator serve
//!   --no-rate-limit` for the peak memory.
//!
//! Each result is one JSON line on stdout (for `cargo xtask bench`); progress goes to stderr.
//! Only loopback is used; the key is the emulator's well-known default and is never printed.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tim_emulator::{Config, Emulator, FaultKind, FaultSpec};

const RATE_USERS: usize = 50_000;
const CEILING: f64 = 100.0;
const FAULT_RATE: f64 = 0.05;
const MEMORY_LINES: [usize; 3] = [0, 100_000, 1_000_000];
const IMPORT_ACCOUNTS: usize = 100_000;
const IMPORT_MEMORY_LINES: [usize; 2] = [100_000, 1_000_000];
const JOB_TIMEOUT: Duration = Duration::from_secs(180);

fn account(prefix: &str, i: usize) -> String {
    format!("{prefix}_{i:07}")
}

fn tags(i: usize) -> [String; 2] {
    ["bench".to_owned(), format!("g{}", i % 7)]
}

/// Writes `lines` lines of `tags add` input: `{"To_Account":"<prefix>_0000001","Tags":[...]}`.
fn write_input(path: &Path, prefix: &str, lines: usize) {
    let mut out = BufWriter::new(std::fs::File::create(path).expect("create input file"));
    for i in 0..lines {
        serde_json::to_writer(
            &mut out,
            &json!({ "To_Account": account(prefix, i), "Tags": tags(i) }),
        )
        .expect("write input");
        out.write_all(b"\n").expect("write input");
    }
    out.flush().expect("flush input");
}

/// The numbers of tim's bulk summary line:
/// `tim: all_member_push/im_add_tag: N items, N calls in S s (R calls/s, P% of the documented 100 calls/s), N failed items, N bad lines, peak memory M MiB`.
#[derive(Debug, Default)]
struct Summary {
    items: u64,
    calls: u64,
    secs: f64,
    calls_per_s: f64,
    failed_items: u64,
    bad_lines: u64,
    peak_mib: Option<f64>,
    line: String,
}

impl Summary {
    /// `doc` with tim's own figures added as `tim_*` fields.
    fn with_fields(&self, mut doc: Value) -> Value {
        if let Value::Object(map) = &mut doc {
            map.insert("tim_items".into(), json!(self.items));
            map.insert("tim_calls".into(), json!(self.calls));
            map.insert("tim_secs".into(), json!(self.secs));
            map.insert("tim_calls_per_s".into(), json!(self.calls_per_s));
            map.insert("tim_failed_items".into(), json!(self.failed_items));
            map.insert("tim_bad_lines".into(), json!(self.bad_lines));
        }
        doc
    }
}

fn number_before<T: std::str::FromStr>(text: &str, marker: &str) -> Option<T> {
    let end = text.find(marker)?;
    let start = text[..end]
        .rfind(|c: char| !(c.is_ascii_digit() || c == '.'))
        .map_or(0, |i| i + 1);
    text[start..end].parse().ok()
}

fn number_after<T: std::str::FromStr>(text: &str, marker: &str) -> Option<T> {
    let start = text.find(marker)? + marker.len();
    let rest = &text[start..];
    let end = rest
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(rest.len());
    rest[..end].parse().ok()
}

/// Writes `lines` lines of `accounts import` input: `imp_0000001`, and every third line
/// `{"UserID":...,"Nick":...,"FaceUrl":...}`.
fn write_accounts(path: &Path, prefix: &str, lines: usize) {
    let mut out = BufWriter::new(std::fs::File::create(path).expect("create input file"));
    for i in 0..lines {
        let id = account(prefix, i);
        if i % 3 == 0 {
            serde_json::to_writer(
                &mut out,
                &json!({"UserID": id, "Nick": format!("Nick {i}"), "FaceUrl": format!("https://p.example/{i}.png")}),
            )
            .expect("write input");
        } else {
            out.write_all(id.as_bytes()).expect("write input");
        }
        out.write_all(b"\n").expect("write input");
    }
    out.flush().expect("flush input");
}

fn parse_summary_of(stderr: &str, endpoint: &str) -> Option<Summary> {
    let prefix = format!("tim: {endpoint}: ");
    let line = stderr.lines().find(|l| l.starts_with(&prefix))?;
    Some(Summary {
        items: number_before(line, " items,")?,
        calls: number_before(line, " calls in ")?,
        secs: number_after(line, " calls in ")?,
        calls_per_s: number_after(line, " s (")?,
        failed_items: number_before(line, " failed items")?,
        bad_lines: number_before(line, " bad lines")?,
        peak_mib: number_after(line, "peak memory "),
        line: line.to_owned(),
    })
}

/// A `tim` command with only the given environment (nothing from ours leaks in).
fn tim(bin: &Path, endpoint: &str, sdkappid: u64, key: &str) -> Command {
    let mut c = Command::new(bin);
    c.env_clear()
        .env("TIM_ENDPOINT", endpoint)
        .env("TIM_SDKAPPID", sdkappid.to_string())
        .env("TIM_SECRET_KEY", key)
        .stdin(Stdio::null());
    c
}

/// Runs `cmd` to completion (killed after `timeout`), returning its status, stderr and wall
/// time.
fn run(mut cmd: Command, timeout: Duration) -> (ExitStatus, String, f64) {
    let t0 = Instant::now();
    let mut child = cmd
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn tim");
    let mut stderr = child.stderr.take().expect("stderr");
    let reader = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = stderr.read_to_string(&mut s);
        s
    });
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait for tim") {
            break status;
        }
        if t0.elapsed() > timeout {
            let _ = child.kill();
            let _ = child.wait();
            panic!("tim did not finish within {timeout:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let wall = t0.elapsed().as_secs_f64();
    (status, reader.join().unwrap_or_default(), wall)
}

/// An emulator with its documented limits on, on a runtime of its own, with `fault_rate` of
/// its calls answered 91000.
fn limited_emulator(fault_rate: f64) -> (tokio::runtime::Runtime, tim_emulator::EmulatorHandle) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("runtime");
    let mut config = Config::default();
    config.rate_limits = true;
    config.seed = 6;
    config.request_log_capacity = 100_000;
    if fault_rate > 0.0 {
        config.faults.push(
            FaultSpec::new(FaultKind::InternalError, fault_rate).expect("fault rate in range"),
        );
    }
    let emu = runtime
        .block_on(Emulator::builder().with_config(config).start())
        .expect("emulator");
    (runtime, emu)
}

/// `tags add` of 50,000 users at the documented rate, with `fault_rate` of 91000 answers.
#[allow(clippy::print_stdout, clippy::print_stderr)]
fn rate_run(bin: &Path, dir: &Path, fault_rate: f64) {
    let (runtime, emu) = limited_emulator(fault_rate);
    let prefix = if fault_rate > 0.0 { "faulty" } else { "rate" };
    let input = dir.join(format!("{prefix}.jsonl"));
    write_input(&input, prefix, RATE_USERS);
    let failed = dir.join(format!("{prefix}.failed.jsonl"));
    let mut cmd = tim(bin, emu.base_url(), emu.sdkappid(), emu.key().expose());
    cmd.args(["tags", "add", "--file"])
        .arg(&input)
        .arg("--failed")
        .arg(&failed);
    eprintln!(
        "bench_bulk: tim tags add --file ({RATE_USERS} users), emulator limits on, {:.0}% internal-error faults",
        fault_rate * 100.0
    );
    let (status, stderr, wall) = run(cmd, JOB_TIMEOUT);
    let summary = parse_summary_of(&stderr, "all_member_push/im_add_tag")
        .unwrap_or_else(|| panic!("no summary line from tim (exit {status}):\n{stderr}"));
    eprintln!("bench_bulk:   {}", summary.line);

    let log: Vec<_> = emu
        .requests()
        .into_iter()
        .filter(|r| r.command.as_deref() == Some("im_add_tag"))
        .collect();
    let figures = RateFigures::of(&log);
    let state = emu.state();
    let lost = (0..RATE_USERS)
        .filter(|&i| {
            state
                .all_member_push
                .users
                .get(&account(prefix, i))
                .is_none_or(|a| !tags(i).iter().all(|t| a.tags.iter().any(|have| have == t)))
        })
        .count();
    let failed_lines = std::fs::read_to_string(&failed)
        .map(|s| s.lines().count())
        .unwrap_or(0);
    eprintln!(
        "bench_bulk:   answers by code {:?}; steady {:.1} accepted calls/s; lost {lost}",
        figures.answers, figures.steady
    );
    println!(
        "{}",
        figures.with_fields(summary.with_fields(json!({
            "measure": "bulk_rate",
            "users": RATE_USERS,
            "fault_rate": fault_rate,
            "exit_code": status.code(),
            "wall_secs": wall,
            "failed_file_lines": failed_lines,
            "lost": lost,
        })))
    );
    runtime.block_on(emu.shutdown());
}

/// What the emulator's request log says of one command's calls: answers by code (or HTTP
/// status), and the steady rate of accepted calls. The limiter paces calls evenly (one every
/// (1 s + margin) / limit), so the steady rate is the accepted calls over the time from the
/// first arrival to the last: what a job of any length sustains (n calls span n - 1 intervals).
struct RateFigures {
    attempts: usize,
    answers: BTreeMap<String, u64>,
    accepted: usize,
    steady: f64,
    span: f64,
}

impl RateFigures {
    fn of(log: &[tim_emulator::RequestRecord]) -> Self {
        let mut answers: BTreeMap<String, u64> = BTreeMap::new();
        for r in log {
            let key = match r.error_code {
                Some(code) => code.to_string(),
                None => format!("http {}", r.status),
            };
            *answers.entry(key).or_default() += 1;
        }
        let mut arrivals: Vec<(u64, bool)> = log
            .iter()
            .map(|r| (r.at_unix_ms, r.error_code == Some(0)))
            .collect();
        arrivals.sort_unstable();
        let accepted = arrivals.iter().filter(|a| a.1).count();
        let steady = match (arrivals.first(), arrivals.last()) {
            (Some(first), Some(last)) if accepted >= 3 && last.0 > first.0 => {
                (accepted - 1) as f64 / ((last.0 - first.0) as f64 / 1000.0)
            }
            _ => f64::NAN,
        };
        let span = match (arrivals.first(), arrivals.last()) {
            (Some(a), Some(b)) => (b.0 - a.0) as f64 / 1000.0,
            _ => 0.0,
        };
        Self {
            attempts: log.len(),
            answers,
            accepted,
            steady,
            span,
        }
    }

    /// `doc` with the figures added.
    fn with_fields(&self, mut doc: Value) -> Value {
        if let Value::Object(map) = &mut doc {
            map.insert("attempts".into(), json!(self.attempts));
            map.insert("answers".into(), json!(self.answers));
            map.insert("accepted".into(), json!(self.accepted));
            map.insert("arrival_span_secs".into(), json!(self.span));
            let steady = if self.steady.is_finite() {
                json!(self.steady)
            } else {
                Value::Null
            };
            map.insert("steady_calls_per_s".into(), steady);
            map.insert("ceiling".into(), json!(CEILING));
        }
        doc
    }
}

/// `accounts import` of 100,000 accounts at the documented rate.
#[allow(clippy::print_stdout, clippy::print_stderr)]
fn import_run(bin: &Path, dir: &Path) {
    let (runtime, emu) = limited_emulator(0.0);
    let input = dir.join("import.jsonl");
    write_accounts(&input, "imp", IMPORT_ACCOUNTS);
    let failed = dir.join("import.failed.jsonl");
    let mut cmd = tim(bin, emu.base_url(), emu.sdkappid(), emu.key().expose());
    cmd.args(["accounts", "import", "--file"])
        .arg(&input)
        .arg("--failed")
        .arg(&failed);
    eprintln!(
        "bench_bulk: tim accounts import --file ({IMPORT_ACCOUNTS} accounts), emulator limits on"
    );
    let (status, stderr, wall) = run(cmd, JOB_TIMEOUT);
    let summary = parse_summary_of(&stderr, "im_open_login_svc/multiaccount_import")
        .unwrap_or_else(|| panic!("no summary line from tim (exit {status}):\n{stderr}"));
    eprintln!("bench_bulk:   {}", summary.line);
    let log: Vec<_> = emu
        .requests()
        .into_iter()
        .filter(|r| r.command.as_deref() == Some("multiaccount_import"))
        .collect();
    let figures = RateFigures::of(&log);
    let state = emu.state();
    let existing: std::collections::BTreeSet<&str> =
        state.accounts.iter().map(String::as_str).collect();
    let lost = (0..IMPORT_ACCOUNTS)
        .filter(|&i| !existing.contains(account("imp", i).as_str()))
        .count();
    let nick_lost = (0..IMPORT_ACCOUNTS)
        .step_by(3)
        .filter(|&i| {
            state
                .profiles
                .get(&account("imp", i))
                .and_then(|p| p.get("Tag_Profile_IM_Nick"))
                .is_none_or(|n| *n != json!(format!("Nick {i}")))
        })
        .count();
    eprintln!(
        "bench_bulk:   answers by code {:?}; steady {:.1} accepted calls/s; lost {lost}, nicknames lost {nick_lost}",
        figures.answers, figures.steady
    );
    println!(
        "{}",
        figures.with_fields(summary.with_fields(json!({
            "measure": "import_rate",
            "accounts": IMPORT_ACCOUNTS,
            "exit_code": status.code(),
            "wall_secs": wall,
            "lost": lost + nick_lost,
        })))
    );
    runtime.block_on(emu.shutdown());
}

/// Kills the emulator subprocess when dropped.
struct Serve(Child);

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// `tim emulator serve --no-rate-limit` on a free port; returns the process and its base URL.
fn serve(bin: &Path, sdkappid: u64, key: &str) -> (Serve, String) {
    let mut child = tim(bin, "", sdkappid, key)
        .env_remove("TIM_ENDPOINT")
        .args(["emulator", "serve", "--no-rate-limit", "--port", "0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn tim emulator serve");
    let stdout = child.stdout.take().expect("stdout");
    let serve = Serve(child);
    let mut lines = BufReader::new(stdout).lines();
    let url = loop {
        match lines.next() {
            Some(Ok(line)) => {
                if let Some(url) = line.split("listening on ").nth(1) {
                    break url.trim().to_owned();
                }
            }
            _ => panic!("tim emulator serve ended without saying where it listens"),
        }
    };
    // Keep draining its stdout so that it never blocks on a full pipe.
    std::thread::spawn(move || for _ in lines {});
    (serve, url)
}

/// One memory job: the command, its input and what its summary line and JSON line are called.
struct MemoryJob {
    /// `tim` arguments before `--file`.
    args: &'static [&'static str],
    lines: &'static [usize],
    write: fn(&Path, &str, usize),
    /// The endpoint of tim's summary line.
    endpoint: &'static str,
    measure: &'static str,
}

/// Peak memory of `job` over each of its line counts, each against a fresh
/// `tim emulator serve --no-rate-limit` in another process.
#[allow(clippy::print_stdout, clippy::print_stderr)]
fn memory_run(bin: &Path, dir: &Path, job: &MemoryJob) {
    let sdkappid = tim_emulator::DEFAULT_SDKAPPID;
    let key = tim_emulator::DEFAULT_KEY;
    for &lines in job.lines {
        let input = dir.join(format!("{}-{lines}.jsonl", job.measure));
        (job.write)(&input, "mem", lines);
        let bytes = std::fs::metadata(&input).map(|m| m.len()).unwrap_or(0);
        let (server, url) = serve(bin, sdkappid, key);
        let mut cmd = tim(bin, &url, sdkappid, key);
        cmd.args(job.args).arg("--file").arg(&input);
        eprintln!(
            "bench_bulk: tim {} --file ({lines} lines, {bytes} B), emulator in another process",
            job.args.join(" ")
        );
        let (status, stderr, wall) = run(cmd, JOB_TIMEOUT);
        drop(server);
        let summary = parse_summary_of(&stderr, job.endpoint)
            .unwrap_or_else(|| panic!("no summary line from tim (exit {status}):\n{stderr}"));
        eprintln!("bench_bulk:   {}", summary.line);
        println!(
            "{}",
            summary.with_fields(json!({
                "measure": job.measure,
                "lines": lines,
                "file_bytes": bytes,
                "exit_code": status.code(),
                "wall_secs": wall,
                "peak_mib": summary.peak_mib,
            }))
        );
        let _ = std::fs::remove_file(&input);
    }
}

const TAGS_MEMORY: MemoryJob = MemoryJob {
    args: &["tags", "add", "--max-rate", "off"],
    lines: &MEMORY_LINES,
    write: write_input,
    endpoint: "all_member_push/im_add_tag",
    measure: "bulk_memory",
};

const IMPORT_MEMORY: MemoryJob = MemoryJob {
    args: &["accounts", "import", "--max-rate", "off"],
    lines: &IMPORT_MEMORY_LINES,
    write: write_accounts,
    endpoint: "im_open_login_svc/multiaccount_import",
    measure: "import_memory",
};

fn main() {
    let mut args = std::env::args().skip(1);
    let mut bin: Option<PathBuf> = None;
    let mut which: Vec<String> = Vec::new();
    while let Some(a) = args.next() {
        match a.as_str() {
            "--tim" => bin = args.next().map(PathBuf::from),
            "rate" | "faults" | "memory" | "import" => which.push(a),
            // `cargo test --examples` style flags are ignored.
            _ => {}
        }
    }
    let bin =
        bin.unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/release/tim"));
    assert!(
        bin.is_file(),
        "no tim binary at {} (build it with `cargo build --release -p tim-cli`, pass --tim PATH)",
        bin.display()
    );
    if which.is_empty() {
        which = vec![
            "rate".into(),
            "faults".into(),
            "memory".into(),
            "import".into(),
        ];
    }
    let dir = std::env::temp_dir().join(format!("tim-bench-bulk-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    for w in &which {
        match w.as_str() {
            "rate" => rate_run(&bin, &dir, 0.0),
            "faults" => rate_run(&bin, &dir, FAULT_RATE),
            "import" => {
                import_run(&bin, &dir);
                memory_run(&bin, &dir, &IMPORT_MEMORY);
            }
            _ => memory_run(&bin, &dir, &TAGS_MEMORY),
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
}
