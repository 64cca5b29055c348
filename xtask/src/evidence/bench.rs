//! `cargo xtask bench`: builds the measuring programs in release, runs them one after the
//! other, prints one table and rewrites the section of `BENCHMARKS.md` between
//! `<!-- bench:start -->` and `<!-- bench:end -->` (nothing else in the file).
//!
//! The programs (each prints its figures; this file only parses, compares and writes):
//!
//! | # | program | what |
//! |---|---|---|
//! | 1, 2 | `cargo bench -p tim-core --bench codec` | codec and UserSig ns/op, each case next to its serde_json floor in alternating samples |
//! | 3 | `tests/examples/bench_client.rs` | calls/s of both transports against the emulator and against a bare hyper handler answering the same bytes |
//! | 4, 5 | `tests/examples/bench_bulk.rs` | the `tim` binary's bulk `tags add` against the emulator: rate ceiling share, 60007 answers, items lost (with and without faults); peak memory for 0, 100k and 1M lines |
//! | 6 | `cargo bench -p tim-emulator --bench throughput` | emulator requests/s and start-to-first-answer time |
//! | 7 | `tests/examples/bench_shared.rs` | four `tim` processes sharing one Redis limiter against one emulator (and the same four without Redis); the cost of one Redis acquire |
//!
//! Every figure comes from these programs in the same run; nothing is typed by hand. Before
//! each step the machine is given a moment to become idle, and the CPU time other processes
//! used during the step is recorded next to it (a measure of the noise).

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::Read as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use super::report::{self, FILE, Machine, Section, thousands};

/// Goals from issue 6.
const CODEC_MAX_RATIO: f64 = 1.3;
const BULK_MIN_SHARE: f64 = 0.95;
/// The emulator's calls/s over a bare hyper handler's, sequential calls (the issue's "today").
const EMULATOR_MIN_RATIO: f64 = 0.6;
/// `start()` to the first answer of a fresh emulator, median.
const EMULATOR_MAX_START_MS: f64 = 1.0;
const BULK_FAULTS_MIN_SHARE: f64 = 0.9;
const MEMORY_MAX_MIB: f64 = 64.0;
/// "Flat": the 1M-line peak at most this much above the 100k-line peak.
const MEMORY_FLAT_RATIO: f64 = 1.1;
/// Goals from issue 17: four processes sharing one Redis limiter.
const SHARED_MIN_SHARE: f64 = 0.9;
const SHARED_MAX_PER_SECOND: u64 = 100;

/// Seconds each throughput figure is measured (client and emulator programs).
const THROUGHPUT_SECS: &str = "3";
/// Linux reports CPU times in ticks of 1/100 s (`USER_HZ`).
const TICKS_PER_SEC: f64 = 100.0;

type Problems = Vec<String>;

pub(crate) fn run(root: &Path) -> Result<Vec<String>, Vec<String>> {
    let started = Instant::now();
    let machine = Machine::collect(root);
    let exes = build(root)?;
    let exe = |name: &str| -> Result<PathBuf, Problems> {
        exes.get(name)
            .cloned()
            .ok_or_else(|| vec![format!("cargo built no executable named {name}")])
    };

    let mut steps = Vec::new();
    let codec = step(
        &mut steps,
        "codec and UserSig (cargo bench -p tim-core --bench codec)",
        Duration::from_secs(60),
        cmd(&exe("codec")?, &["--bench"], &[]),
        Duration::from_secs(240),
    )?;
    let emulator = step(
        &mut steps,
        "emulator (cargo bench -p tim-emulator --bench throughput)",
        Duration::from_secs(20),
        cmd(
            &exe("throughput")?,
            &["--bench"],
            &[("TIM_BENCH_SECS", THROUGHPUT_SECS)],
        ),
        Duration::from_secs(240),
    )?;
    let client = step(
        &mut steps,
        "client throughput (tests/examples/bench_client.rs)",
        Duration::from_secs(60),
        cmd(
            &exe("bench_client")?,
            &[],
            &[("TIM_BENCH_SECS", THROUGHPUT_SECS)],
        ),
        Duration::from_secs(300),
    )?;
    let tim = exe("tim")?;
    let tim_arg = tim.to_string_lossy().into_owned();
    let bulk = step(
        &mut steps,
        "bulk jobs of the tim binary (tests/examples/bench_bulk.rs)",
        Duration::from_secs(20),
        cmd(
            &exe("bench_bulk")?,
            &["--tim", &tim_arg, "rate", "faults", "memory", "import"],
            &[],
        ),
        Duration::from_secs(600),
    )?;
    let shared = step(
        &mut steps,
        "tim processes sharing one Redis limiter (tests/examples/bench_shared.rs)",
        Duration::from_secs(20),
        cmd(&exe("bench_shared")?, &["--tim", &tim_arg], &[]),
        Duration::from_secs(600),
    )?;

    let mut rows = Vec::new();
    let mut why = Vec::new();
    let mut problems = Vec::new();
    collect(
        &mut problems,
        codec_rows(&codec, &mut rows, &mut why),
        "codec",
    );
    collect(
        &mut problems,
        client_rows(&client, &mut rows, &mut why),
        "bench_client",
    );
    collect(
        &mut problems,
        bulk_rows(&bulk, &mut rows, &mut why),
        "bench_bulk",
    );
    collect(
        &mut problems,
        import_rows(&bulk, &mut rows, &mut why),
        "bench_bulk import",
    );
    collect(
        &mut problems,
        shared_rows(&shared, &mut rows, &mut why),
        "bench_shared",
    );
    collect(
        &mut problems,
        emulator_rows(&emulator, &mut rows),
        "throughput",
    );
    if !problems.is_empty() {
        return Err(problems);
    }
    rows.sort_by(|a, b| a.num.cmp(&b.num));

    let table = render_table(&rows);
    print_table(&table);
    let took = started.elapsed();
    let section = render_section(&machine, &table, &rows, &why, &steps, took);
    report::write_section(root, Section::Bench, &section).map_err(|e| vec![e])?;
    let goals = rows.iter().filter(|r| r.met.is_some()).count();
    let met = rows.iter().filter(|r| r.met == Some(true)).count();
    Ok(vec![format!(
        "{met} of {goals} goals met; wrote the bench section of {FILE} ({:.0} s)",
        took.as_secs_f64()
    )])
}

#[allow(clippy::print_stdout)]
fn print_table(table: &str) {
    println!("{table}");
}

fn collect(problems: &mut Problems, r: Result<(), String>, what: &str) {
    if let Err(e) = r {
        problems.push(format!("cannot read the output of {what}: {e}"));
    }
}

// ---------------------------------------------------------------------------------------------
// Building

fn cargo() -> Command {
    Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()))
}

/// Builds every program in release (nothing is measured while the compiler runs) and returns
/// the executables by target name.
fn build(root: &Path) -> Result<BTreeMap<String, PathBuf>, Problems> {
    let invocations: [&[&str]; 4] = [
        &["build", "--release", "-p", "tim-cli", "--bin", "tim"],
        &[
            "build",
            "--release",
            "-p",
            "tim-tests",
            "--example",
            "bench_client",
            "--example",
            "bench_bulk",
            "--example",
            "bench_shared",
        ],
        &["bench", "--no-run", "-p", "tim-core", "--bench", "codec"],
        &[
            "bench",
            "--no-run",
            "-p",
            "tim-emulator",
            "--bench",
            "throughput",
        ],
    ];
    let mut exes = BTreeMap::new();
    for args in invocations {
        eprintln!("== cargo {}", args.join(" "));
        let out = cargo()
            .args(args)
            .arg("--message-format=json-render-diagnostics")
            .current_dir(root)
            .stdin(Stdio::null())
            .stderr(Stdio::inherit())
            .output()
            .map_err(|e| vec![format!("cannot run cargo: {e}")])?;
        if !out.status.success() {
            return Err(vec![format!(
                "`cargo {}` failed ({})",
                args.join(" "),
                out.status
            )]);
        }
        for line in String::from_utf8_lossy(&out.stdout).lines() {
            let Ok(msg) = serde_json::from_str::<Value>(line) else {
                continue;
            };
            if msg["reason"] != "compiler-artifact" {
                continue;
            }
            if let (Some(name), Some(exe)) =
                (msg["target"]["name"].as_str(), msg["executable"].as_str())
            {
                exes.insert(name.to_owned(), PathBuf::from(exe));
            }
        }
    }
    Ok(exes)
}

// ---------------------------------------------------------------------------------------------
// Running, with a record of the machine's other load

fn cmd(exe: &Path, args: &[&str], env: &[(&str, &str)]) -> Command {
    let mut c = Command::new(exe);
    c.args(args);
    for (k, v) in env {
        c.env(k, v);
    }
    c
}

/// One measuring step as it ran.
struct Step {
    name: &'static str,
    secs: f64,
    /// Cores that processes other than the step used on average while it ran.
    other_cores: Option<f64>,
    /// Cores other processes used just before it started (after waiting for quiet).
    other_cores_before: Option<f64>,
}

/// Busy and total ticks of all CPUs (`/proc/stat`).
fn cpu_ticks() -> Option<(u64, u64)> {
    let stat = std::fs::read_to_string("/proc/stat").ok()?;
    let line = stat.lines().next()?.strip_prefix("cpu ")?;
    let v: Vec<u64> = line
        .split_whitespace()
        .filter_map(|x| x.parse().ok())
        .collect();
    if v.len() < 5 {
        return None;
    }
    // user nice system idle iowait irq softirq steal (guest time is inside user)
    let total: u64 = v.iter().take(8).sum();
    let idle = v[3] + v[4];
    Some((total - idle, total))
}

/// CPU ticks of this process's waited-for children (`/proc/self/stat` cutime + cstime).
fn children_ticks() -> Option<u64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    let rest = &stat[stat.rfind(')')? + 2..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    Some(f.get(13)?.parse::<u64>().ok()? + f.get(14)?.parse::<u64>().ok()?)
}

/// Waits (at most `max`) until other processes use less than a tenth of a core over a second;
/// returns the last reading.
fn wait_for_quiet(max: Duration) -> Option<f64> {
    let t0 = Instant::now();
    loop {
        let (b0, _) = cpu_ticks()?;
        let s0 = Instant::now();
        std::thread::sleep(Duration::from_secs(1));
        let (b1, _) = cpu_ticks()?;
        let cores = (b1 - b0) as f64 / TICKS_PER_SEC / s0.elapsed().as_secs_f64();
        if cores < 0.1 || t0.elapsed() >= max {
            if cores >= 0.1 {
                eprintln!(
                    "   (the machine is still busy: other processes use {cores:.2} cores; measuring anyway)"
                );
            }
            return Some(cores);
        }
    }
}

/// Runs one program (killed after `timeout`), with its stderr shown and its stdout returned.
fn step(
    steps: &mut Vec<Step>,
    name: &'static str,
    quiet_wait: Duration,
    mut command: Command,
    timeout: Duration,
) -> Result<String, Problems> {
    eprintln!("== {name}");
    let other_cores_before = wait_for_quiet(quiet_wait);
    let before = cpu_ticks().zip(children_ticks());
    let t0 = Instant::now();
    let mut child = command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .map_err(|e| vec![format!("{name}: cannot start: {e}")])?;
    let mut stdout = child.stdout.take().expect("piped stdout");
    let reader = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = stdout.read_to_string(&mut s);
        s
    });
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if t0.elapsed() > timeout => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(vec![format!("{name}: killed after {timeout:?}")]);
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(50)),
            Err(e) => return Err(vec![format!("{name}: {e}")]),
        }
    };
    let secs = t0.elapsed().as_secs_f64();
    let out = reader.join().unwrap_or_default();
    if !status.success() {
        return Err(vec![format!("{name}: exited with {status}")]);
    }
    let other_cores = match (before, cpu_ticks().zip(children_ticks())) {
        (Some(((b0, _), c0)), Some(((b1, _), c1))) => {
            let other = (b1 - b0) as f64 - (c1 - c0) as f64;
            Some((other / TICKS_PER_SEC / secs).max(0.0))
        }
        _ => None,
    };
    steps.push(Step {
        name,
        secs,
        other_cores,
        other_cores_before,
    });
    Ok(out)
}

// ---------------------------------------------------------------------------------------------
// The table

struct Row {
    /// Measurement number and a sub-letter, for ordering (`"1a"`).
    num: String,
    what: String,
    result: String,
    floor: String,
    ratio: String,
    goal: String,
    met: Option<bool>,
}

impl Row {
    fn new(num: &str, what: impl Into<String>, result: impl Into<String>) -> Self {
        Self {
            num: num.to_owned(),
            what: what.into(),
            result: result.into(),
            floor: String::new(),
            ratio: String::new(),
            goal: String::new(),
            met: None,
        }
    }
    fn floor(mut self, floor: impl Into<String>) -> Self {
        self.floor = floor.into();
        self
    }
    fn ratio(mut self, ratio: impl Into<String>) -> Self {
        self.ratio = ratio.into();
        self
    }
    fn goal(mut self, goal: impl Into<String>, met: bool) -> Self {
        self.goal = goal.into();
        self.met = Some(met);
        self
    }
}

fn render_table(rows: &[Row]) -> String {
    let mut t = String::from(
        "| # | measurement | result | floor / reference | ratio | goal | met |\n|---|---|---:|---:|---:|---|---|\n",
    );
    for r in rows {
        let met = match r.met {
            Some(true) => "yes",
            Some(false) => "**NO**",
            None => "",
        };
        let _ = writeln!(
            t,
            "| {} | {} | {} | {} | {} | {} | {met} |",
            r.num, r.what, r.result, r.floor, r.ratio, r.goal
        );
    }
    t.trim_end().to_owned()
}

// 1 and 2: the codec bench's markdown table.

/// `| case | ns/op | floor ns/op (name) | ratio x | p10x-p90x |` rows by case.
fn markdown_rows(out: &str) -> BTreeMap<String, Vec<String>> {
    out.lines()
        .filter(|l| l.starts_with('|') && !l.starts_with("|---") && !l.starts_with("| case "))
        .map(|l| {
            let cells: Vec<String> = l
                .trim()
                .trim_matches('|')
                .split('|')
                .map(|c| c.trim().to_owned())
                .collect();
            (cells[0].clone(), cells[1..].to_vec())
        })
        .collect()
}

fn leading_number(s: &str) -> Option<f64> {
    let end = s
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(s.len());
    s[..end].parse().ok()
}

fn codec_rows(out: &str, rows: &mut Vec<Row>, why: &mut Vec<String>) -> Result<(), String> {
    let table = markdown_rows(out);
    let find = |prefix: &str| -> Result<&Vec<String>, String> {
        table
            .iter()
            .find(|(k, _)| k.starts_with(prefix))
            .map(|(_, v)| v)
            .ok_or_else(|| format!("no row `{prefix}…`"))
    };
    let fixed = find("build + encode im_get_tag, no accounts")
        .ok()
        .and_then(|c| leading_number(&c[0]));
    if let Some(ns) = fixed {
        rows.push(Row::new(
            "1b",
            "build + encode im_get_tag, no accounts: the fixed cost of a request (URL, headers, signer)",
            format!("{ns:.0} ns/op"),
        ));
    }
    for (num, prefix) in [("1a", "build + encode im_get_tag, 100"), ("1c", "decode")] {
        let cells = find(prefix)?;
        let case = leading_number(&cells[0]).ok_or("ns/op")?;
        let floor_ns = leading_number(&cells[1]).ok_or("floor ns/op")?;
        let floor_name = cells[1]
            .split_once('(')
            .map(|(_, n)| n.trim_end_matches(')'))
            .unwrap_or("");
        let ratio = leading_number(&cells[2]).ok_or("ratio")?;
        let spread = cells.get(3).cloned().unwrap_or_default();
        let name = table
            .keys()
            .find(|k| k.starts_with(prefix))
            .cloned()
            .unwrap_or_default();
        let met = ratio <= CODEC_MAX_RATIO;
        rows.push(
            Row::new(num, name.clone(), format!("{case:.0} ns/op"))
                .floor(format!("{floor_ns:.0} ns/op ({floor_name})"))
                .ratio(format!("{ratio:.2}x (p10-p90 {spread})"))
                .goal(format!("≤ {CODEC_MAX_RATIO}x"), met),
        );
        if !met {
            why.push(if num == "1a" {
                format!(
                    "**1a ({name}) is {ratio:.2}x its floor, not ≤ {CODEC_MAX_RATIO}x.** The body is encoded exactly as the floor encodes it (`serde_json::to_vec`, {floor_ns:.0} ns); the {:.0} ns on top are the request around it, whatever the body: building a request with no accounts costs {} (1b). That fixed part is the cached signer (a lock and an `Arc` clone), the path and query written into one buffer of the exact size (the query carries the UserSig), `http`'s validation of every byte of it (`http::Uri` has no unchecked constructor, and that scan is the largest part), and the header map (Content-Type, Accept). Scheme and host are parsed once per client, and the UserSig's percent-encoding once per signature. The remaining options change what is measured rather than the cost: sizing the body buffer ahead would make the body cheaper than its own floor.",
                    case - floor_ns,
                    fixed.map_or("n/a".to_owned(), |ns| format!("{ns:.0} ns")),
                )
            } else {
                format!(
                    "**1c ({name}) is {ratio:.2}x its floor, not ≤ {CODEC_MAX_RATIO}x.** Decoding is `serde_json::from_slice` of the same bytes into the same struct plus the envelope check; a larger ratio than the spread of the paired samples ({spread}) points to the envelope handling."
                )
            });
        }
    }
    for (num, prefix) in [
        ("2a", "UserSig generate"),
        ("2b", "UserSig verify"),
        ("2c", "UserSig from the cached signer"),
    ] {
        let cells = find(prefix)?;
        let ns = leading_number(&cells[0]).ok_or("ns/op")?;
        let reference = if num == "2c" {
            "per call: a lock and an `Arc` clone (signs anew only near expiry)"
        } else {
            ""
        };
        rows.push(Row::new(num, prefix, format!("{ns:.0} ns/op")).floor(reference));
    }
    Ok(())
}

// 3: bench_client JSON lines.

fn json_lines(out: &str, measure: &str) -> Vec<Value> {
    out.lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|v| v["measure"] == measure)
        .collect()
}

fn num(v: &Value, key: &str) -> Result<f64, String> {
    v[key]
        .as_f64()
        .ok_or_else(|| format!("no number `{key}` in {v}"))
}

fn client_rows(out: &str, rows: &mut Vec<Row>, why: &mut Vec<String>) -> Result<(), String> {
    let lines = json_lines(out, "client");
    if lines.len() != 4 {
        return Err(format!("expected 4 client figures, got {}", lines.len()));
    }
    for (i, v) in lines.iter().enumerate() {
        let transport = v["transport"].as_str().unwrap_or("?");
        let concurrency = num(v, "concurrency")?;
        let emu = num(v, "emulator_calls_per_s")?;
        let noop = num(v, "noop_calls_per_s")?;
        let mode = if concurrency <= 1.0 {
            "sequential".to_owned()
        } else {
            format!("{concurrency:.0} in flight")
        };
        let num = format!("3{}", char::from(b'a' + i as u8));
        let mut row = Row::new(
            &num,
            format!("client → emulator, im_get_tag 100 accounts, limits off: {transport}, {mode}"),
            format!("{emu:.0} calls/s"),
        )
        .floor(format!(
            "{noop:.0} calls/s (bare hyper handler, same answer bytes; {} connections opened)",
            v["noop_new_connections"]
                .as_u64()
                .map_or("?".into(), |n| n.to_string())
        ))
        .ratio(format!("{:.2}", emu / noop));
        if concurrency <= 1.0 {
            // The emulator's whole front layer (spec shape check, limits, typed handler, log)
            // against a handler that only writes the same answer bytes.
            let met = emu / noop >= EMULATOR_MIN_RATIO;
            row = row.goal(format!("≥ {EMULATOR_MIN_RATIO}"), met);
            if !met {
                why.push(format!(
                    "**{num}: the emulator answered {emu:.0} calls/s, {:.2} of the bare handler's {noop:.0}.** Each call parses the body, walks its spec shape, decodes and validates the typed request, runs the handler under the state lock and logs the call; the bare handler only writes bytes.",
                    emu / noop
                ));
            }
        }
        rows.push(row);
    }
    Ok(())
}

// 4 and 5: bench_bulk JSON lines.

fn bulk_rows(out: &str, rows: &mut Vec<Row>, why: &mut Vec<String>) -> Result<(), String> {
    let rate = json_lines(out, "bulk_rate");
    for v in &rate {
        let fault_rate = num(v, "fault_rate")?;
        let faults = fault_rate > 0.0;
        let (n, goal) = if faults {
            ("4d", BULK_FAULTS_MIN_SHARE)
        } else {
            ("4a", BULK_MIN_SHARE)
        };
        let users = num(v, "users")? as u64;
        let ceiling = num(v, "ceiling")?;
        let steady = v["steady_calls_per_s"].as_f64();
        let share = steady.map(|s| s / ceiling);
        let answers = v["answers"].as_object().cloned().unwrap_or_default();
        let count = |code: &str| answers.get(code).and_then(Value::as_u64).unwrap_or(0);
        let attempts = num(v, "attempts")? as u64;
        let throttled = count("60007");
        let lost = num(v, "lost")? as u64;
        let tim_rate = num(v, "tim_calls_per_s")?;
        let tim_secs = num(v, "tim_secs")?;
        let tim_calls = num(v, "tim_calls")? as u64;
        let failed = num(v, "tim_failed_items")? as u64;
        let label = if faults {
            format!(
                "bulk `tim tags add --file`, {} users, emulator limits on, {:.0}% internal-error faults",
                thousands(users),
                fault_rate * 100.0
            )
        } else {
            format!(
                "bulk `tim tags add --file`, {} users, emulator limits on",
                thousands(users)
            )
        };
        let met = share.is_some_and(|s| s >= goal);
        let faulted = if faults {
            format!(", {} answered 91000 and retried", count("91000"))
        } else {
            String::new()
        };
        rows.push(
            Row::new(
                n,
                format!("{label}: share of the rate ceiling (steady state)"),
                format!(
                    "{} accepted calls/s (whole job: {tim_calls} calls in {tim_secs:.1} s = {tim_rate:.1} calls/s as tim reports{faulted})",
                    steady.map_or("n/a".into(), |s| format!("{s:.1}"))
                ),
            )
            .floor(format!("{ceiling:.0} calls/s (documented ceiling)"))
            .ratio(share.map_or("n/a".into(), |s| format!("{s:.2}")))
            .goal(format!("≥ {goal}"), met),
        );
        if !met {
            why.push(format!(
                "**{n} ({label}) reached {} of the ceiling, not ≥ {goal}.** The client's limiter lets at most 100 attempts start in any window of 1 s + 20 ms (its safety margin caps the steady rate at 98%), and every attempt counts, including those answered 91000 and retried; {attempts} attempts were made for {tim_calls} calls.",
                share.map_or("n/a".into(), |s| format!("{s:.2}"))
            ));
        }
        let (n_throttled, n_lost) = if faults { ("4e", "4f") } else { ("4b", "4c") };
        rows.push(
            Row::new(
                n_throttled,
                format!("{label}: 60007 answers (over the rate limit)"),
                format!("{throttled} of {attempts} attempts"),
            )
            .goal("0", throttled == 0),
        );
        if throttled > 0 {
            why.push(format!(
                "**{n_throttled}: the emulator answered 60007 {throttled} times.** Its window is `(now-1 s, now]` per endpoint; the client's limiter keeps a 20 ms margin on each window, so 60007 means calls arrived bunched closer than the margin (e.g. a stalled connection released late)."
            ));
        }
        rows.push(
            Row::new(
                n_lost,
                format!("{label}: items lost (file vs the emulator's state)"),
                format!("{lost} of {} ({failed} reported failed)", thousands(users)),
            )
            .goal("0", lost == 0),
        );
        if lost > 0 {
            why.push(format!(
                "**{n_lost}: {lost} items of the file are not in the emulator's state** ({failed} of them reported as failed by tim)."
            ));
        }
    }
    if rate.len() != 2 {
        return Err(format!("expected 2 bulk rate runs, got {}", rate.len()));
    }

    let memory = json_lines(out, "bulk_memory");
    let peak_at = |lines: u64| -> Option<f64> {
        memory
            .iter()
            .find(|v| v["lines"].as_u64() == Some(lines))
            .and_then(|v| v["peak_mib"].as_f64())
    };
    let (Some(base), Some(small), Some(large)) = (peak_at(0), peak_at(100_000), peak_at(1_000_000))
    else {
        return Err("expected peak memory for 0, 100,000 and 1,000,000 lines".into());
    };
    for v in &memory {
        let items = num(v, "tim_items")? as u64;
        let lines = num(v, "lines")? as u64;
        if items != lines || num(v, "tim_failed_items")? > 0.0 {
            return Err(format!(
                "memory run of {lines} lines did not send every line: {v}"
            ));
        }
    }
    let speed = |lines: u64| -> String {
        memory
            .iter()
            .find(|v| v["lines"].as_u64() == Some(lines))
            .map(|v| {
                format!(
                    "{:.1} s, {:.0} calls/s",
                    v["tim_secs"].as_f64().unwrap_or(f64::NAN),
                    v["tim_calls_per_s"].as_f64().unwrap_or(f64::NAN)
                )
            })
            .unwrap_or_default()
    };
    rows.push(Row::new(
        "5a",
        "peak memory of `tim tags add --file --max-rate off`: empty file (the process's baseline)",
        format!("{base:.1} MiB"),
    ));
    let small_met = small < MEMORY_MAX_MIB;
    rows.push(
        Row::new(
            "5b",
            "peak memory of `tim tags add --file --max-rate off`: 100,000 lines",
            format!("{small:.1} MiB ({})", speed(100_000)),
        )
        .goal(format!("< {MEMORY_MAX_MIB:.0} MiB"), small_met),
    );
    let flat = large / small;
    let large_met = large < MEMORY_MAX_MIB && flat <= MEMORY_FLAT_RATIO;
    rows.push(
        Row::new(
            "5c",
            "peak memory of `tim tags add --file --max-rate off`: 1,000,000 lines",
            format!("{large:.1} MiB ({})", speed(1_000_000)),
        )
        .floor(format!("{small:.1} MiB (100,000 lines)"))
        .ratio(format!("{flat:.2}"))
        .goal(
            format!("< {MEMORY_MAX_MIB:.0} MiB and flat (≤ {MEMORY_FLAT_RATIO}x of 100k)"),
            large_met,
        ),
    );
    if !small_met || !large_met {
        why.push(format!(
            "**5: peak memory {small:.1} MiB (100k lines) and {large:.1} MiB (1M lines), baseline {base:.1} MiB.** The job keeps at most `--concurrency` chunks of 100 items in flight and reads the file as chunks are needed; growth with the file size means something is kept per line."
        ));
    }
    Ok(())
}

/// 4g-4i and 5d-5e: `tim accounts import --file`.
fn import_rows(out: &str, rows: &mut Vec<Row>, why: &mut Vec<String>) -> Result<(), String> {
    let runs = json_lines(out, "import_rate");
    let [v] = runs.as_slice() else {
        return Err(format!("expected 1 import rate run, got {}", runs.len()));
    };
    let accounts = num(v, "accounts")? as u64;
    let ceiling = num(v, "ceiling")?;
    let steady = v["steady_calls_per_s"].as_f64();
    let share = steady.map(|s| s / ceiling);
    let attempts = num(v, "attempts")? as u64;
    let throttled = v["answers"]["60007"].as_u64().unwrap_or(0);
    let lost = num(v, "lost")? as u64;
    let label = format!(
        "bulk `tim accounts import --file`, {} accounts (a third with nickname and photo), emulator limits on",
        thousands(accounts)
    );
    let met = share.is_some_and(|s| s >= BULK_MIN_SHARE);
    rows.push(
        Row::new(
            "4g",
            format!("{label}: share of the rate ceiling (steady state)"),
            format!(
                "{} accepted calls/s (whole job: {} calls in {:.1} s as tim reports)",
                steady.map_or("n/a".into(), |s| format!("{s:.1}")),
                num(v, "tim_calls")? as u64,
                num(v, "tim_secs")?
            ),
        )
        .floor(format!("{ceiling:.0} calls/s (documented ceiling)"))
        .ratio(share.map_or("n/a".into(), |s| format!("{s:.2}")))
        .goal(format!("≥ {BULK_MIN_SHARE}"), met),
    );
    if !met {
        why.push(format!(
            "**4g ({label}) reached {} of the ceiling, not ≥ {BULK_MIN_SHARE}.** The limiter's 20 ms margin per window caps the steady rate at 98%.",
            share.map_or("n/a".into(), |s| format!("{s:.2}"))
        ));
    }
    rows.push(
        Row::new(
            "4h",
            format!("{label}: 60007 answers (over the rate limit)"),
            format!("{throttled} of {attempts} attempts"),
        )
        .goal("0", throttled == 0),
    );
    rows.push(
        Row::new(
            "4i",
            format!("{label}: accounts (and nicknames) lost, file vs the emulator's state"),
            format!("{lost} of {}", thousands(accounts)),
        )
        .goal("0", lost == 0),
    );
    if throttled > 0 || lost > 0 {
        why.push(format!(
            "**4h/4i: {throttled} answers of 60007 and {lost} accounts or nicknames missing from the emulator's state.**"
        ));
    }
    let memory = json_lines(out, "import_memory");
    let peak_at = |lines: u64| -> Option<f64> {
        memory
            .iter()
            .find(|v| v["lines"].as_u64() == Some(lines))
            .and_then(|v| v["peak_mib"].as_f64())
    };
    let (Some(small), Some(large)) = (peak_at(100_000), peak_at(1_000_000)) else {
        return Err("expected import peak memory for 100,000 and 1,000,000 lines".into());
    };
    rows.push(Row::new(
        "5d",
        "peak memory of `tim accounts import --file --max-rate off`: 100,000 lines",
        format!("{small:.1} MiB"),
    ));
    let flat = large / small;
    let met = flat <= MEMORY_FLAT_RATIO;
    rows.push(
        Row::new(
            "5e",
            "peak memory of `tim accounts import --file --max-rate off`: 1,000,000 lines",
            format!("{large:.1} MiB"),
        )
        .floor(format!("{small:.1} MiB (100,000 lines)"))
        .ratio(format!("{flat:.2}"))
        .goal(format!("flat (≤ {MEMORY_FLAT_RATIO}x of 100k)"), met),
    );
    if !met {
        why.push(format!(
            "**5e: peak memory {large:.1} MiB for 1,000,000 lines against {small:.1} MiB for 100,000.**"
        ));
    }
    Ok(())
}

// 7: bench_shared JSON lines.

fn shared_rows(out: &str, rows: &mut Vec<Row>, why: &mut Vec<String>) -> Result<(), String> {
    let runs = json_lines(out, "shared_rate");
    let run = |redis: bool| -> Result<&Value, String> {
        runs.iter()
            .find(|v| v["redis"].as_bool() == Some(redis))
            .ok_or_else(|| format!("no shared_rate run with redis = {redis}"))
    };
    for (redis, letters) in [(true, ["7a", "7b", "7c"]), (false, ["7d", "7e", "7f"])] {
        let v = run(redis)?;
        let label = if redis {
            "4 × `tim tags add --file --rate-limit-redis` (one Redis, 50 calls each), one emulator with limits on"
        } else {
            "the same 4 without Redis (each its own limiter), for contrast"
        };
        let whats = [
            format!("{label}: share of the rate ceiling (accepted calls, first to last arrival)"),
            format!("{label}: 60007 answers (over the rate limit)"),
            format!("{label}: most calls in any sliding second at the emulator"),
        ];
        if let Some(skipped) = v["skipped"].as_str() {
            let goals = [
                format!("≥ {SHARED_MIN_SHARE}"),
                "0".to_owned(),
                format!("≤ {SHARED_MAX_PER_SECOND}"),
            ];
            for ((n, what), goal) in letters.iter().zip(whats).zip(goals) {
                let mut row = Row::new(n, what, format!("skipped: {skipped}"));
                if redis {
                    row.goal = goal;
                }
                rows.push(row);
            }
            continue;
        }
        let ceiling = num(v, "ceiling")?;
        let rate = v["accepted_calls_per_s"].as_f64();
        let share = rate.map(|r| r / ceiling);
        let accepted = num(v, "accepted")? as u64;
        let attempts = num(v, "attempts")? as u64;
        let span = num(v, "arrival_span_secs")?;
        let throttled = num(v, "throttled")? as u64;
        let peak = num(v, "max_in_a_second")? as u64;
        let exits = v["exit_codes"].to_string();
        let [n_share, n_throttled, n_peak] = letters;
        let share_row = Row::new(
            n_share,
            whats[0].clone(),
            format!(
                "{} accepted calls/s ({accepted} in {span:.2} s; exit codes {exits})",
                rate.map_or("n/a".into(), |r| format!("{r:.1}"))
            ),
        )
        .floor(format!("{ceiling:.0} calls/s (documented ceiling)"))
        .ratio(share.map_or("n/a".into(), |s| format!("{s:.2}")));
        let throttled_row = Row::new(
            n_throttled,
            whats[1].clone(),
            format!("{throttled} of {attempts} attempts"),
        );
        let peak_row = Row::new(n_peak, whats[2].clone(), format!("{peak} calls"))
            .floor(format!("{SHARED_MAX_PER_SECOND} calls (the limit)"));
        if redis {
            let share_met = share.is_some_and(|s| s >= SHARED_MIN_SHARE);
            rows.push(share_row.goal(format!("≥ {SHARED_MIN_SHARE}"), share_met));
            rows.push(throttled_row.goal("0", throttled == 0));
            rows.push(peak_row.goal(
                format!("≤ {SHARED_MAX_PER_SECOND}"),
                peak <= SHARED_MAX_PER_SECOND,
            ));
            if !share_met {
                why.push(format!(
                    "**{n_share}: the four processes sharing Redis reached {} of the ceiling, not ≥ {SHARED_MIN_SHARE}.** Each acquire reserves one send time in Redis, one every (1 s + margin) / 100; a lower share means the processes left reserved slots unused (e.g. a slow acquire or a process that started late).",
                    share.map_or("n/a".into(), |s| format!("{s:.2}"))
                ));
            }
            if throttled > 0 || peak > SHARED_MAX_PER_SECOND {
                why.push(format!(
                    "**{n_throttled}, {n_peak}: {throttled} answers of 60007 and at most {peak} calls in a sliding second with one shared Redis limiter.** The send times come from Redis's clock and are spaced by (1 s + margin) / 100 across all processes, so calls arriving bunched point to late sends (a stalled connection) rather than to the budget."
                ));
            }
        } else {
            rows.push(share_row);
            rows.push(throttled_row);
            rows.push(peak_row);
        }
    }

    let acquire = json_lines(out, "shared_acquire");
    let v = acquire.first().ok_or("no shared_acquire figure")?;
    let what = "one `RedisLimiter` acquire over loopback Redis (`SharedLimiter::acquire`, limits that never wait, 2,000 in a row)";
    if let Some(skipped) = v["skipped"].as_str() {
        rows.push(Row::new("7g", what, format!("skipped: {skipped}")));
    } else {
        let p50 = num(v, "p50_us")?;
        let p99 = num(v, "p99_us")?;
        rows.push(Row::new(
            "7g",
            what,
            format!("p50 {p50:.0} µs, p99 {p99:.0} µs"),
        ));
    }
    Ok(())
}

// 6: the emulator bench's text.

/// Parses a `Duration` printed with `{:?}` (`266.28µs`, `1.5ms`, `2s`).
fn debug_duration(s: &str) -> Option<Duration> {
    let s = s.trim().trim_end_matches(',');
    let split = s.find(|c: char| !(c.is_ascii_digit() || c == '.'))?;
    let (n, unit) = s.split_at(split);
    let n: f64 = n.parse().ok()?;
    let secs = match unit {
        "ns" => n / 1e9,
        "µs" | "us" => n / 1e6,
        "ms" => n / 1e3,
        "s" => n,
        _ => return None,
    };
    Some(Duration::from_secs_f64(secs))
}

fn after<'a>(s: &'a str, marker: &str) -> Option<&'a str> {
    s.find(marker).map(|i| &s[i + marker.len()..])
}

fn emulator_rows(out: &str, rows: &mut Vec<Row>) -> Result<(), String> {
    let mut found = 0;
    for line in out.lines() {
        if let Some(rest) = line.strip_prefix("im_get_tag, 100 accounts") {
            let connections = rest
                .split_once("B answers), ")
                .and_then(|(_, r)| r.split_once(' '))
                .map(|(n, _)| n.to_owned())
                .ok_or("connections")?;
            let rate = after(rest, "= ")
                .and_then(|r| r.split_whitespace().next())
                .and_then(|n| n.parse::<f64>().ok())
                .ok_or("req/s")?;
            found += 1;
            rows.push(
                Row::new(
                    &format!("6{}", char::from(b'a' + found as u8)),
                    format!(
                        "emulator, im_get_tag 100 accounts, limits off: {connections} keep-alive connection(s) of a raw hyper client"
                    ),
                    format!("{rate:.0} requests/s"),
                ),
            );
        } else if let Some(rest) = line.strip_prefix("start() to first answer") {
            let runs = rest
                .trim_start_matches(" (")
                .split_whitespace()
                .next()
                .unwrap_or("?")
                .to_owned();
            let median = after(rest, "median ")
                .and_then(|r| r.split(',').next())
                .and_then(debug_duration)
                .ok_or("median")?;
            let min = after(rest, "min ")
                .and_then(|r| r.split(',').next())
                .and_then(debug_duration)
                .ok_or("min")?;
            let max = after(rest, "max ").and_then(debug_duration).ok_or("max")?;
            let median_ms = median.as_secs_f64() * 1e3;
            rows.push(
                Row::new(
                    "6a",
                    "emulator: `start()` to the first answer (fresh emulator, one connection)",
                    format!(
                        "{median_ms:.2} ms median (min {:.2}, max {:.2}; {runs} runs)",
                        min.as_secs_f64() * 1e3,
                        max.as_secs_f64() * 1e3
                    ),
                )
                .goal(
                    format!("≤ {EMULATOR_MAX_START_MS} ms"),
                    median_ms <= EMULATOR_MAX_START_MS,
                ),
            );
        }
    }
    if found == 0 || !rows.iter().any(|r| r.num == "6a") {
        return Err("no throughput or start-time line".into());
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// The machine and BENCHMARKS.md

fn render_section(
    m: &Machine,
    table: &str,
    rows: &[Row],
    why: &[String],
    steps: &[Step],
    took: Duration,
) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "Last run: {}, commit {}, `cargo xtask bench` ({:.0} s including the release build).\n",
        m.date,
        m.commit,
        took.as_secs_f64()
    );
    let _ = writeln!(
        s,
        "Machine: {} CPUs ({}), {} memory, {}; {}.\n",
        m.cpus, m.cpu_model, m.memory, m.kernel, m.rustc
    );
    s.push_str(table);
    s.push_str("\n\n");
    let goals = rows.iter().filter(|r| r.met.is_some()).count();
    let met = rows.iter().filter(|r| r.met == Some(true)).count();
    if why.is_empty() {
        let _ = writeln!(s, "All {goals} goals were met.\n");
    } else {
        let _ = writeln!(
            s,
            "{met} of {goals} goals were met. Where a goal was not met, and why:\n"
        );
        for w in why {
            let _ = writeln!(s, "- {w}");
        }
        s.push('\n');
    }
    let _ = writeln!(
        s,
        "Noise: the programs ran one after the other; before each, the command waited (up to 20 or 60 s) for the machine to be idle. CPU used by other processes while each ran, in cores on average (of {}):\n",
        m.cpus
    );
    for st in steps {
        let fmt = |c: Option<f64>| c.map_or("n/a".to_owned(), |c| format!("{c:.2}"));
        let _ = writeln!(
            s,
            "- {}: {:.0} s, other processes {} cores (just before: {})",
            st.name,
            st.secs,
            fmt(st.other_cores),
            fmt(st.other_cores_before)
        );
    }
    s.push_str(
        "\nOn a virtual machine, load from other tenants of the host is invisible here and moves absolute figures between runs; that is why every goal is a ratio measured side by side in the same run, or a count.\n\n",
    );
    s.push_str(HOW);
    s
}

/// How each figure is made (fixed text: it describes the programs, it holds no figure).
const HOW: &str = "How each figure is made:

- **1, 2** (`crates/core/benches/codec.rs`): ns per call, median of 31 samples of about 20 ms.
  A case and its floor are sampled in alternation (floor, case, case, floor, ...), and the ratio
  is the median of the 31 per-round ratios; `p10-p90` is their spread, i.e. the noise. 1a builds
  the whole `http::Request` with `build_request` (limit checks, JSON body, URL with the signed
  query, headers) with the UserSig from a cached `Signer`; its floor is `serde_json::to_vec` of
  the same request struct. 1b is the same call with no accounts: what building costs besides
  the body. 1c is `decode` of a 100-user answer; its floor is `serde_json::from_slice` of the
  same bytes into the same struct.
- **3** (`tests/examples/bench_client.rs`): `tim_reqwest::Client` and `tim_hyper::Client` with
  `RateLimits::off()` call `im_get_tag` with 100 accounts (5 tags each) against the emulator
  (`rate_limits(false)`), 1 or 64 calls in flight, for 3 s; the floor is the same client against
  a bare hyper handler that reads the request and answers the emulator's answer bytes. The two
  alternate in 3 rounds. Servers and clients each run on a one-thread Tokio runtime, so on two
  cores the server's work slows the client: the ratio is the share of the no-op ceiling the
  emulator reaches. The clients keep their defaults, among them a pool of at most 32 idle
  connections per host, so 64 callers also open new connections (counted on the no-op side).
- **4** (`tests/examples/bench_bulk.rs`): the release `tim` binary runs `tags add --file` of
  50,000 lines (default concurrency 8, the documented 100 calls/s) as a subprocess against an
  emulator with its rate limits on. 60007 and the other answers are counted from the emulator's
  request log; items lost compares every line of the file with the emulator's state. The
  client's limiter sends each window's calls in a burst, so the whole-job rate that tim prints
  exceeds 100/s on short jobs (the first window is free); the share of the ceiling is therefore
  the steady rate: accepted calls of every burst but the last, over the time from the first
  burst to the last one.
  4g-4i: `tim accounts import --file` of 100,000 accounts (1,000 `multiaccount_import` calls of
  100; every third line carries a nickname and a photo URL) the same way; lost compares every
  account (and nickname) of the file with the emulator's accounts and profiles.
- **5**: `tim tags add --file --max-rate off` (5a-5c) and `tim accounts import --file --max-rate
  off` (5d-5e) against `tim emulator serve --no-rate-limit` in a separate process; the peak is
  the `peak memory` of tim's summary line (`VmHWM` of the tim process).
- **7** (`tests/examples/bench_shared.rs`): four release `tim tags add --file` processes at
  once (5,000 users each, so 50 calls each, `--concurrency 4`) against one emulator with its
  rate limits on (100 calls/s for `im_add_tag`), first with `--rate-limit-redis` pointing at one
  `redis-server` started for the run on a free loopback port, then the same four without Redis
  against a fresh emulator (each process keeps its own limiter). From the emulator's request
  log: accepted calls minus one over the time from the first arrival to the last (n evenly paced
  calls span n - 1 intervals) as a share of 100 calls/s, the 60007 answers, and the most
  arrivals in any window `(t - 1 s, t]` (the emulator's own window). 7g times 2,000 sequential
  `SharedLimiter::acquire` calls of one `RedisLimiter` (per-second limit 1,000,000, so it never
  waits) over loopback. Without `redis-server` on PATH, the Redis rows say skipped.
- **6** (`crates/emulator/benches/throughput.rs`): requests/s over 1, 2 and 4 keep-alive
  connections of a raw hyper client for 3 s; start to first answer over 50 fresh emulators.
";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_durations_parse() {
        assert_eq!(
            debug_duration("266.28µs"),
            Some(Duration::from_nanos(266_280))
        );
        assert_eq!(debug_duration("1.5ms"), Some(Duration::from_micros(1_500)));
        assert_eq!(debug_duration("2s"), Some(Duration::from_secs(2)));
        assert_eq!(debug_duration("12ns"), Some(Duration::from_nanos(12)));
        assert_eq!(debug_duration("fast"), None);
    }

    #[test]
    fn emulator_output_parses() {
        let out = "start() to first answer (50 runs): median 266.28µs, min 241.893µs, max 1.544043ms\n\
                   im_get_tag, 100 accounts (6853 B answers), 1 keep-alive connection(s): 5862 calls in 0.50 s = 11717 req/s\n\
                   im_get_tag, 100 accounts (6853 B answers), 4 keep-alive connection(s): 5099 calls in 0.50 s = 10207 req/s\n";
        let mut rows = Vec::new();
        emulator_rows(out, &mut rows).unwrap();
        assert_eq!(rows.len(), 3);
        assert!(
            rows[0].result.starts_with("0.27 ms median"),
            "{}",
            rows[0].result
        );
        assert_eq!(rows[1].result, "11717 requests/s");
        assert!(rows[2].what.contains("4 keep-alive"));
    }

    #[test]
    fn shared_output_parses_and_goals_are_judged() {
        let out = r#"{"accepted":200,"accepted_calls_per_s":98.1,"answers":{"0":200},"arrival_span_secs":2.03,"attempts":200,"ceiling":100.0,"exit_codes":[0,0,0,0],"max_in_a_second":99,"measure":"shared_rate","redis":true,"throttled":0}
{"accepted":200,"accepted_calls_per_s":125.7,"answers":{"0":200,"60007":16},"arrival_span_secs":1.58,"attempts":216,"ceiling":100.0,"exit_codes":[0,0,0,0],"max_in_a_second":116,"measure":"shared_rate","redis":false,"throttled":16}
{"acquires":2000,"measure":"shared_acquire","p50_us":191.3,"p99_us":300.9}
"#;
        let (mut rows, mut why) = (Vec::new(), Vec::new());
        shared_rows(out, &mut rows, &mut why).unwrap();
        assert_eq!(rows.len(), 7);
        assert_eq!(rows[0].met, Some(true));
        assert_eq!(rows[1].met, Some(true));
        assert_eq!(rows[2].met, Some(true));
        assert!(rows[3..].iter().all(|r| r.met.is_none()));
        assert_eq!(rows[4].result, "16 of 216 attempts");
        assert_eq!(rows[6].result, "p50 191 µs, p99 301 µs");
        assert!(why.is_empty());

        let skipped = r#"{"measure":"shared_rate","redis":true,"skipped":"redis-server not installed"}
{"accepted":200,"accepted_calls_per_s":125.7,"answers":{"0":200},"arrival_span_secs":1.58,"attempts":216,"ceiling":100.0,"exit_codes":[0,0,0,0],"max_in_a_second":116,"measure":"shared_rate","redis":false,"throttled":16}
{"measure":"shared_acquire","skipped":"redis-server not installed"}
"#;
        let mut rows = Vec::new();
        shared_rows(skipped, &mut rows, &mut why).unwrap();
        assert_eq!(rows.len(), 7);
        assert!(rows.iter().all(|r| r.met.is_none()));
        assert_eq!(rows[0].result, "skipped: redis-server not installed");
        assert_eq!(rows[6].result, "skipped: redis-server not installed");
    }

    #[test]
    fn codec_output_parses_and_goals_are_judged() {
        let out = "| case | ns/op | floor ns/op | ratio | ratio p10-p90 |\n|---|---:|---:|---:|---:|\n\
                   | build + encode im_get_tag, 100 accounts (cached signer) | 1200 | 1000 (serde_json::to_vec) | 1.20x | 1.10x-1.30x |\n\
                   | build + encode im_get_tag, no accounts (the fixed cost of a request: URL, headers, signer) | 300 | | | |\n\
                   | decode im_get_tag answer, 100 users | 20000 | 10000 (serde_json::from_slice) | 2.00x | 1.90x-2.10x |\n\
                   | UserSig generate | 100000 | | | |\n| UserSig verify | 5000 | | | |\n| UserSig from the cached signer | 20 | | | |\n";
        let (mut rows, mut why) = (Vec::new(), Vec::new());
        codec_rows(out, &mut rows, &mut why).unwrap();
        assert_eq!(rows.len(), 6);
        assert_eq!(rows[0].num, "1b");
        assert_eq!(rows[1].met, Some(true));
        assert_eq!(rows[2].met, Some(false));
        assert_eq!(why.len(), 1);
        assert!(why[0].contains("2.00x"), "{}", why[0]);
    }
}
