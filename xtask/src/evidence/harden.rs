//! `cargo xtask harden`: the hardening evidence of issue 6, in one command.
//!
//! 1. Coverage-guided fuzzing with cargo fuzz (installed if missing) of the three targets in
//!    `fuzz/` (response decoding, UserSig verification, the bulk line parser), each for a bounded
//!    time (`HARDEN_FUZZ_SECS`, default 60 s). Crash inputs are copied to
//!    `tests/data/fuzz-regressions/<target>/`, where the test suite replays them. On a stable
//!    toolchain the `-Z` flags cargo fuzz passes are allowed with `RUSTC_BOOTSTRAP=1`; the
//!    AddressSanitizer is tried first, then no sanitizer. If cargo fuzz cannot run at all, the
//!    reason is recorded and the targets' checks run on random inputs instead (the
//!    `harden_random_fuzz` example), labelled as not coverage-guided.
//! 2. and 3. The fault matrix with the secrets scan (`tests/examples/harden_matrix.rs`).
//! 4. Durability under SIGKILL and SIGINT, changed inputs and bad items
//!    (`tests/examples/harden_durability.rs`).
//!
//! It prints one table and rewrites the section between `<!-- harden:start -->` and
//! `<!-- harden:end -->` of `BENCHMARKS.md` (creating the file if needed), with the machine it
//! ran on. Every figure comes from the run. Logs of every step are kept in
//! `target/harden/`. The command fails when a goal is not met, after writing the results.

use std::fmt::Write as _;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use super::report::{self, Machine, Section, thousands};

const FUZZ_TARGETS: [&str; 3] = ["decode", "usersig", "bulk_line"];
const DEFAULT_FUZZ_SECS: u64 = 60;
const KILLS: u32 = 20;

/// One line of the table.
struct Row {
    check: String,
    result: String,
    goal: String,
    /// `None` when met; the reason when not.
    unmet: Option<String>,
}

impl Row {
    fn new(check: impl Into<String>, result: impl Into<String>, goal: &str) -> Self {
        Row {
            check: check.into(),
            result: result.into(),
            goal: goal.to_owned(),
            unmet: None,
        }
    }

    fn unless(mut self, met: bool, why: impl FnOnce() -> String) -> Self {
        if !met {
            self.unmet = Some(why());
        }
        self
    }
}

#[allow(clippy::print_stderr)]
fn progress(msg: &str) {
    eprintln!("harden: {msg}");
}

fn target_dir(root: &Path) -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .map(|p| if p.is_absolute() { p } else { root.join(p) })
        .unwrap_or_else(|| root.join("target"))
}

/// Runs `cmd` with stdout and stderr in `log` (`.out`, `.err`), killing it after `limit`.
/// Returns the exit status (`None` when killed) and both outputs.
fn run_logged(
    mut cmd: Command,
    log: &Path,
    limit: Duration,
) -> Result<(Option<ExitStatus>, String, String), String> {
    let out_path = log.with_extension("out");
    let err_path = log.with_extension("err");
    let open = |p: &Path| File::create(p).map_err(|e| format!("{}: {e}", p.display()));
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(open(&out_path)?)
        .stderr(open(&err_path)?)
        .spawn()
        .map_err(|e| format!("cannot run {cmd:?}: {e}"))?;
    let deadline = Instant::now() + limit;
    let status = loop {
        match child.try_wait() {
            Ok(Some(s)) => break Some(s),
            Ok(None) if Instant::now() >= deadline => {
                let _ = child.kill();
                let _ = child.wait();
                break None;
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(100)),
            Err(e) => return Err(format!("waiting for {cmd:?}: {e}")),
        }
    };
    let read = |p: &Path| {
        std::fs::read(p)
            .map(|b| String::from_utf8_lossy(&b).into_owned())
            .unwrap_or_default()
    };
    Ok((status, read(&out_path), read(&err_path)))
}

fn tail(text: &str, lines: usize) -> String {
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

// ---------------------------------------------------------------------------------------------
// The run's secret

/// 32 hex characters from the OS's random source: the secret key of this run, never printed.
fn random_key() -> Result<String, String> {
    use std::io::Read as _;
    let mut bytes = [0u8; 16];
    File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut bytes))
        .map_err(|e| format!("/dev/urandom: {e}"))?;
    Ok(bytes.iter().fold(String::from("harden-"), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    }))
}

// ---------------------------------------------------------------------------------------------
// 1. Fuzzing

struct FuzzResult {
    target: &'static str,
    executions: u64,
    secs: f64,
    crashes: usize,
    kept: Vec<String>,
    error: Option<String>,
}

/// `cargo fuzz --version`, installing cargo-fuzz first if it is missing.
fn cargo_fuzz(logs: &Path) -> Result<String, String> {
    let version = || {
        Command::new("cargo")
            .args(["fuzz", "--version"])
            .output()
            .ok()
            .filter(|o| o.status.success())
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
    };
    if let Some(v) = version() {
        return Ok(v);
    }
    progress("cargo-fuzz is missing: cargo install cargo-fuzz --locked");
    let mut cmd = Command::new("cargo");
    cmd.args(["install", "cargo-fuzz", "--locked"]);
    let (status, _, err) = run_logged(
        cmd,
        &logs.join("install-cargo-fuzz"),
        Duration::from_secs(900),
    )?;
    if !status.is_some_and(|s| s.success()) {
        return Err(format!(
            "`cargo install cargo-fuzz --locked` failed: {}",
            tail(&err, 3)
        ));
    }
    version().ok_or_else(|| "cargo-fuzz was installed but `cargo fuzz` does not run".into())
}

/// `cargo fuzz <sub> -O --debug-assertions --sanitizer S --fuzz-dir fuzz`, from the root.
fn cargo_fuzz_cmd(root: &Path, sub: &str, sanitizer: &str) -> Command {
    let mut cmd = Command::new("cargo");
    cmd.current_dir(root)
        // The toolchain may be stable: allow the -Z flags cargo fuzz passes to rustc.
        .env("RUSTC_BOOTSTRAP", "1")
        .args(["fuzz", sub, "-O", "--debug-assertions", "--sanitizer"])
        .arg(sanitizer)
        .args(["--fuzz-dir", "fuzz"]);
    cmd
}

/// Builds the targets with the first sanitizer that works; `Err` with the reasons if none.
fn fuzz_build(root: &Path, logs: &Path) -> Result<&'static str, String> {
    let mut why = Vec::new();
    for sanitizer in ["address", "none"] {
        progress(&format!(
            "building the fuzz targets (cargo fuzz build, sanitizer {sanitizer})"
        ));
        let cmd = cargo_fuzz_cmd(root, "build", sanitizer);
        let (status, _, err) = run_logged(
            cmd,
            &logs.join(format!("fuzz-build-{sanitizer}")),
            Duration::from_secs(1500),
        )?;
        if status.is_some_and(|s| s.success()) {
            return Ok(sanitizer);
        }
        why.push(format!(
            "sanitizer {sanitizer}: {}",
            tail(&err, 4).replace('\n', " / ")
        ));
    }
    Err(why.join("; "))
}

fn files_in(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|d| {
            d.flatten()
                .map(|e| e.path())
                .filter(|p| p.is_file())
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

/// Copies crash inputs into the regression folder the test suite replays; their new paths.
fn keep(root: &Path, target: &str, files: &[PathBuf]) -> Vec<String> {
    let dir = root.join("tests/data/fuzz-regressions").join(target);
    let _ = std::fs::create_dir_all(&dir);
    files
        .iter()
        .filter_map(|f| {
            let name = f.file_name()?;
            let to = dir.join(name);
            std::fs::copy(f, &to).ok()?;
            Some(to.strip_prefix(root).unwrap_or(&to).display().to_string())
        })
        .collect()
}

/// The executions libFuzzer reports: the final stats, else the last status line (`#N ...`).
fn executions(stderr: &str) -> Option<u64> {
    stderr
        .lines()
        .find_map(|l| l.strip_prefix("stat::number_of_executed_units:"))
        .and_then(|n| n.trim().parse().ok())
        .or_else(|| {
            stderr.lines().rev().find_map(|l| {
                let n = l.strip_prefix('#')?.split_whitespace().next()?;
                n.parse().ok()
            })
        })
}

fn fuzz_run(
    root: &Path,
    logs: &Path,
    sanitizer: &str,
    target: &'static str,
    secs: u64,
) -> Result<FuzzResult, String> {
    let corpus = root.join("fuzz/corpus").join(target);
    std::fs::create_dir_all(&corpus).map_err(|e| format!("{}: {e}", corpus.display()))?;
    let artifacts = root.join("fuzz/artifacts").join(target);
    let before = files_in(&artifacts);
    progress(&format!("fuzzing {target} for {secs} s"));
    // New inputs go to the corpus (the first folder); the seeds are only read.
    let mut cmd = cargo_fuzz_cmd(root, "run", sanitizer);
    cmd.arg(target)
        .arg(format!("fuzz/corpus/{target}"))
        .arg(format!("fuzz/seeds/{target}"))
        .arg("--")
        .arg(format!("-max_total_time={secs}"))
        .args(["-timeout=10", "-print_final_stats=1"]);
    let started = Instant::now();
    let (status, _, err) = run_logged(
        cmd,
        &logs.join(format!("fuzz-{target}")),
        Duration::from_secs(secs + 600),
    )?;
    let elapsed = started.elapsed().as_secs_f64();
    let new: Vec<PathBuf> = files_in(&artifacts)
        .into_iter()
        .filter(|f| !before.contains(f))
        .collect();
    let kept = keep(root, target, &new);
    let ok = status.is_some_and(|s| s.success());
    let error = (!ok && new.is_empty()).then(|| match status {
        None => "killed: the run did not end in time".to_owned(),
        Some(s) => format!("cargo fuzz run exited with {s}: {}", tail(&err, 3)),
    });
    Ok(FuzzResult {
        target,
        executions: executions(&err).unwrap_or(0),
        secs: elapsed.min(secs as f64),
        crashes: new.len(),
        kept,
        error,
    })
}

/// The fallback: the checks on random inputs (not coverage-guided).
fn random_fuzz(root: &Path, logs: &Path, secs: u64) -> Result<Vec<FuzzResult>, String> {
    cargo_build(
        root,
        logs,
        &["-p", "tim-tests", "--example", "harden_random_fuzz"],
    )?;
    let out_dir = root.join("fuzz/artifacts");
    let mut cmd = Command::new(target_dir(root).join("debug/examples/harden_random_fuzz"));
    cmd.current_dir(root)
        .args(["--secs", &secs.to_string(), "--out"])
        .arg(&out_dir);
    let (status, out, err) = run_logged(
        cmd,
        &logs.join("random-fuzz"),
        Duration::from_secs(3 * secs + 300),
    )?;
    if !status.is_some_and(|s| s.success()) {
        return Err(format!("harden_random_fuzz failed: {}", tail(&err, 3)));
    }
    let doc: Value = serde_json::from_str(&out).map_err(|e| format!("random fuzz output: {e}"))?;
    let mut results = Vec::new();
    for target in FUZZ_TARGETS {
        let t = doc["targets"]
            .as_array()
            .and_then(|a| a.iter().find(|t| t["target"] == target))
            .ok_or_else(|| format!("random fuzz output lacks {target}"))?;
        let files: Vec<PathBuf> = t["crash_files"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|c| c["file"].as_str().map(PathBuf::from))
                    .collect()
            })
            .unwrap_or_default();
        results.push(FuzzResult {
            target,
            executions: t["executions"].as_u64().unwrap_or(0),
            secs: secs as f64,
            crashes: t["crashes"].as_u64().unwrap_or(0) as usize,
            kept: keep(root, target, &files),
            error: None,
        });
    }
    Ok(results)
}

fn fuzz(root: &Path, logs: &Path, secs: u64, notes: &mut Vec<String>) -> Vec<Row> {
    let built = cargo_fuzz(logs).and_then(|version| {
        let sanitizer = fuzz_build(root, logs)?;
        Ok((version, sanitizer))
    });
    let (label, results) = match built {
        Ok((version, sanitizer)) => {
            let san = if sanitizer == "none" {
                "no sanitizer (AddressSanitizer did not build)".to_owned()
            } else {
                "AddressSanitizer".to_owned()
            };
            notes.push(format!(
                "Fuzzing: {version} (libFuzzer, coverage-guided), `-O --debug-assertions` (overflow checks on), {san}, `RUSTC_BOOTSTRAP=1` for the `-Z` flags on a stable toolchain; corpus seeded from `fuzz/seeds/` (spec samples, UserSig vectors, bulk lines) and kept in `fuzz/corpus/` between runs."
            ));
            let mut results = Vec::new();
            for target in FUZZ_TARGETS {
                match fuzz_run(root, logs, sanitizer, target, secs) {
                    Ok(r) => results.push(r),
                    Err(e) => results.push(FuzzResult {
                        target,
                        executions: 0,
                        secs: 0.0,
                        crashes: 0,
                        kept: Vec::new(),
                        error: Some(e),
                    }),
                }
            }
            ("cargo fuzz", results)
        }
        Err(why) => {
            notes.push(format!(
                "**cargo fuzz could not run on this machine**: {why}. The fuzz rows are a fallback: the same checks on random and mutated inputs for {secs} s per target, **not coverage-guided**."
            ));
            match random_fuzz(root, logs, secs) {
                Ok(r) => ("random inputs, NOT coverage-guided", r),
                Err(e) => (
                    "not run",
                    FUZZ_TARGETS
                        .iter()
                        .map(|&target| FuzzResult {
                            target,
                            executions: 0,
                            secs: 0.0,
                            crashes: 0,
                            kept: Vec::new(),
                            error: Some(e.clone()),
                        })
                        .collect(),
                ),
            }
        }
    };
    results
        .into_iter()
        .map(|r| {
            let (endpoints, batches) = spec_counts(root);
            let what = match r.target {
                "decode" => format!("response decoding, {endpoints} endpoints"),
                "usersig" => "UserSig decode/verify/generate".to_owned(),
                _ => format!("bulk line parser, {batches} batch endpoints"),
            };
            let rate = if r.secs > 0.0 {
                r.executions as f64 / r.secs
            } else {
                0.0
            };
            let mut result = format!(
                "{} executions in {:.0} s ({}/s), {} crashes",
                thousands(r.executions),
                r.secs,
                thousands(rate as u64),
                r.crashes
            );
            if !r.kept.is_empty() {
                let _ = write!(result, "; kept as regressions: {}", r.kept.join(", "));
            }
            Row::new(
                format!("fuzz `{}` ({what}; {label})", r.target),
                result,
                "0 crashes",
            )
            .unless(r.crashes == 0 && r.error.is_none() && r.executions > 0, || {
                r.error.clone().unwrap_or_else(|| {
                    if r.crashes > 0 {
                        format!(
                            "crash inputs found; they are kept in tests/data/fuzz-regressions/{}/ and fail the test suite until fixed",
                            r.target
                        )
                    } else {
                        "no executions were reported".into()
                    }
                })
            })
        })
        .collect()
}

// ---------------------------------------------------------------------------------------------
// 2-4. The examples

fn cargo_build(root: &Path, logs: &Path, args: &[&str]) -> Result<(), String> {
    let mut cmd = Command::new("cargo");
    cmd.current_dir(root).arg("build").args(args);
    let (status, _, err) = run_logged(
        cmd,
        &logs.join(format!("build-{}", args.last().copied().unwrap_or("x"))),
        Duration::from_secs(1500),
    )?;
    if status.is_some_and(|s| s.success()) {
        Ok(())
    } else {
        Err(format!("cargo build {}: {}", args.join(" "), tail(&err, 6)))
    }
}

/// Counts of the key and of UserSig-shaped tokens (`eJ` and 40 more characters of the
/// UserSig alphabet) in `text`.
fn secret_hits(text: &str, key: &str) -> (usize, usize) {
    let b = text.as_bytes();
    let alphabet = |c: u8| c.is_ascii_alphanumeric() || matches!(c, b'*' | b'-' | b'_');
    let mut shaped = 0;
    let mut i = 0;
    while i + 1 < b.len() {
        if b[i] == b'e' && b[i + 1] == b'J' && (i == 0 || !alphabet(b[i - 1])) {
            let run = b[i + 2..].iter().take_while(|&&c| alphabet(c)).count();
            if run >= 40 {
                shaped += 1;
                i += 2 + run;
                continue;
            }
        }
        i += 1;
    }
    (text.matches(key).count(), shaped)
}

fn num(v: &Value, path: &[&str]) -> u64 {
    path.iter()
        .fold(v, |v, k| &v[*k])
        .as_u64()
        .unwrap_or(u64::MAX)
}

/// How many endpoints the spec has, and how many of them are batch endpoints (the fuzz targets
/// and the fault matrix go through the registry, so they cover them all).
fn spec_counts(root: &Path) -> (usize, usize) {
    tim_spec::load(root).map_or((0, 0), |m| {
        (
            m.endpoints().count(),
            m.endpoints().filter(|e| e.batch.is_some()).count(),
        )
    })
}

fn matrix_rows(doc: &Value, output_hits: (usize, usize), rows: &mut Vec<Row>) {
    let s = &doc["summary"];
    let (cells, matched) = (num(s, &["cells"]), num(s, &["matched"]));
    let endpoints: std::collections::BTreeSet<&str> = doc["cells"]
        .as_array()
        .map(|a| a.iter().filter_map(|c| c["endpoint"].as_str()).collect())
        .unwrap_or_default();
    let expected_cells = endpoints.len() as u64 * 2 * 8;
    let mismatched: Vec<String> = doc["cells"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter(|c| c["matched"] != true)
                .map(|c| {
                    format!(
                        "{} {} {}: {} attempts, {} (expected {}, {})",
                        c["transport"].as_str().unwrap_or("?"),
                        c["endpoint"].as_str().unwrap_or("?"),
                        c["fault"].as_str().unwrap_or("?"),
                        c["attempts"],
                        c["outcome"].as_str().unwrap_or("?"),
                        c["expected_attempts"],
                        c["expected_outcome"].as_str().unwrap_or("?"),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    rows.push(
        Row::new(
            format!(
                "fault matrix: {} endpoints × 2 transports × 8 faults, over loopback",
                endpoints.len()
            ),
            format!(
                "{matched} of {cells} cells: typed error or successful retry, with the attempts the retry class calls for"
            ),
            "every cell",
        )
        .unless(cells == expected_cells && cells > 0 && matched == cells, || {
            format!("cells that did not match: {}", mismatched.join("; "))
        }),
    );
    let max = num(s, &["max_pushes_per_logical_push"]);
    rows.push(
        Row::new(
            "im_push: pushes the emulator recorded per logical push (dedup off)",
            format!(
                "at most {max} ({} recorded for {} logical pushes)",
                num(s, &["pushes_recorded"]),
                num(s, &["logical_pushes"])
            ),
            "≤ 1",
        )
        .unless(max <= 1, || {
            "a push was repeated after an ambiguous failure".into()
        }),
    );
    let x = &doc["secrets"];
    let hits = num(x, &["key_hits"])
        .saturating_add(num(x, &["usersig_hits"]))
        .saturating_add(num(x, &["usersig_shaped_hits"]))
        .saturating_add((output_hits.0 + output_hits.1) as u64);
    let self_test = x["detector_self_test"] == true && x["trace_has_attempts"] == true;
    rows.push(
        Row::new(
            "secrets: key or UserSig in the matrix's TRACE logs, error texts and output",
            format!(
                "{hits} (searched {} trace lines, {} KiB of error Display/Debug and the program's output for the key, the {} UserSigs sent and UserSig-shaped tokens; a planted key and UserSig are found)",
                thousands(num(x, &["trace_lines"])),
                num(x, &["error_text_bytes"]) / 1024,
                num(x, &["usersigs_recorded"]),
            ),
            "0",
        )
        .unless(hits == 0 && self_test, || {
            if hits > 0 {
                format!(
                    "{hits} occurrences (in-process: key {}, UserSigs {}, shaped {}; program output: key {}, shaped {})",
                    num(x, &["key_hits"]),
                    num(x, &["usersig_hits"]),
                    num(x, &["usersig_shaped_hits"]),
                    output_hits.0,
                    output_hits.1
                )
            } else {
                "the search did not find the planted secrets, or nothing was traced".into()
            }
        }),
    );
}

fn durability_rows(doc: &Value, rows: &mut Vec<Row>) {
    let b = &doc["bulk"];
    let failures = |v: &Value| {
        v["failures"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(Value::as_str)
                    .collect::<Vec<_>>()
                    .join("; ")
            })
            .unwrap_or_else(|| "no result".into())
    };
    // Every SIGINT ended the job with exit 130.
    let sigint_130 = |v: &Value| num(v, &["sigint"]) == num(v, &["sigint_exit_130"]);
    let lost =
        num(b, &["acknowledged_items_lost"]).saturating_add(num(b, &["items_lost_after_resume"]));
    rows.push(
        Row::new(
            "bulk `tim tags add --checkpoint` killed at random points (SIGKILL and SIGINT alternately), resumed",
            format!(
                "{lost} acknowledged items lost ({} kills: {} SIGKILL, {} SIGINT ({} exit 130, {} held to the run's first checkpoint record); over {} runs in {} rounds of {} lines; {} checkpointed chunks checked after the kills; every line present after each round's resume)",
                num(b, &["kills"]),
                num(b, &["sigkill"]),
                num(b, &["sigint"]),
                num(b, &["sigint_exit_130"]),
                num(b, &["sigint_held_for_first_record"]),
                num(b, &["runs"]),
                num(b, &["rounds"]),
                thousands(num(b, &["lines_per_round"])),
                thousands(num(b, &["acknowledged_chunks_checked"])),
            ),
            "0 lost, ≥ 20 kills",
        )
        .unless(
            lost == 0
                && num(b, &["kills"]) >= u64::from(KILLS)
                && num(b, &["sigint"]) > 0
                && sigint_130(b)
                && b["detector_self_test"] == true
                && failures(b).is_empty(),
            || {
                format!(
                    "lost {lost}; {} of {} SIGINTs exited 130; {}",
                    num(b, &["sigint_exit_130"]),
                    num(b, &["sigint"]),
                    failures(b)
                )
            },
        ),
    );
    let r = &doc["bulk_read"];
    let (missing, duplicated) = (num(r, &["items_missing"]), num(r, &["items_duplicated"]));
    let in_order = r["in_input_order"] == true;
    rows.push(
        Row::new(
            "bulk read `tim tags get --output --checkpoint` interrupted at random points (SIGINT and SIGKILL alternately), resumed to its end",
            format!(
                "{missing} items missing, {duplicated} duplicated, {} in input order ({} rounds of {} accounts, {} results; {} interruptions: {} SIGINT ({} exit 130, {} held to the run's first checkpoint record), {} SIGKILL, over {} runs; the output held exactly what the checkpoint recorded after {} of the {} interruptions that left a record)",
                if in_order { "all" } else { "**not**" },
                num(r, &["completed_rounds"]),
                thousands(num(r, &["accounts"])),
                thousands(num(r, &["results"])),
                num(r, &["kills"]),
                num(r, &["sigint"]),
                num(r, &["sigint_exit_130"]),
                num(r, &["sigint_held_for_first_record"]),
                num(r, &["sigkill"]),
                num(r, &["runs"]),
                num(r, &["checked_after_interruption"])
                    .saturating_sub(num(r, &["mismatched_after_interruption"])),
                num(r, &["checked_after_interruption"]),
            ),
            "0 missing, 0 duplicated, input order, ≥ 10 interruptions",
        )
        .unless(
            missing == 0
                && duplicated == 0
                && in_order
                && num(r, &["results_unexpected"]) == 0
                && num(r, &["results_with_wrong_tags"]) == 0
                && num(r, &["mismatched_after_interruption"]) == 0
                && num(r, &["completed_rounds"]) > 0
                && r["results"] == r["results_expected"]
                && num(r, &["kills"]) >= u64::from(KILLS.max(10))
                && num(r, &["sigint"]) > 0
                && num(r, &["sigkill"]) > 0
                && sigint_130(r)
                && r["detector_self_test"] == true
                && failures(r).is_empty(),
            || {
                format!(
                    "{missing} missing, {duplicated} duplicated, {} unexpected, in order: {in_order}, {} mismatches after an interruption; {}",
                    num(r, &["results_unexpected"]),
                    num(r, &["mismatched_after_interruption"]),
                    failures(r)
                )
            },
        ),
    );
    let c = &doc["changed_input"];
    let (trials, refused) = (num(c, &["trials"]), num(c, &["refused"]));
    let sent = num(c, &["calls_sent_by_refused_runs"]);
    rows.push(
        Row::new(
            "a job interrupted partway, its input then changed, rerun on the old checkpoint",
            format!(
                "refused {refused} of {trials} times with exit 2 \"input changed\", {sent} calls sent, the checkpoint untouched {} times ({} trials with lines appended, {} with one line changed at the same size; interrupted by {} SIGKILL, {} SIGINT; with the input restored, the same command resumed and completed the job {} times)",
                num(c, &["checkpoint_untouched"]),
                num(c, &["trials_lines_appended"]),
                num(c, &["trials_same_size"]),
                num(c, &["sigkill"]),
                num(c, &["sigint"]),
                num(c, &["resumed_after_restore"]),
            ),
            "refused every time, nothing sent, ≥ 5 trials",
        )
        .unless(
            trials >= 5
                && refused == trials
                && sent == 0
                && num(c, &["checkpoint_untouched"]) == trials
                && sigint_130(c)
                && c["detector_self_test"] == true
                && failures(c).is_empty(),
            || format!("refused {refused} of {trials}, {sent} calls sent; {}", failures(c)),
        ),
    );
    let d = &doc["bad_items"];
    let (good_lost, bad_applied) = (
        num(d, &["good_items_not_applied"]),
        num(d, &["bad_items_applied"]),
    );
    let reasons_exact = d["reasons_name_exactly_the_bad_lines"] == true
        && num(d, &["reasons_with_code_90033"]) == num(d, &["bad_items"])
        && d["failed_file_holds_exactly_the_bad_lines"] == true;
    let calls = num(d, &["calls"]);
    let clean = num(d, &["calls_without_bad_items"]);
    rows.push(
        Row::new(
            "1% bad items (an attribute never configured: 90033 refuses the whole call) at random lines of a 100,000-line `tim attrs set --file --failed` job",
            format!(
                "{good_lost} good items not applied, {bad_applied} bad items applied; the reasons file {} the {} bad lines, code 90033; {} calls ({} without bad items: {:.1} more per bad item to isolate it), {:.1} s",
                if reasons_exact { "named exactly" } else { "did **not** name exactly" },
                thousands(num(d, &["bad_items"])),
                thousands(calls),
                thousands(clean),
                d["extra_calls_per_bad_item"].as_f64().unwrap_or(f64::NAN),
                d["job_s"].as_f64().unwrap_or(f64::NAN),
            ),
            "0 good lost, 0 bad applied, reasons exact",
        )
        .unless(
            good_lost == 0
                && bad_applied == 0
                && reasons_exact
                && d["detector_self_test"] == true
                && failures(d).is_empty(),
            || {
                format!(
                    "{good_lost} good not applied, {bad_applied} bad applied, reasons exact: {reasons_exact}; {}",
                    failures(d)
                )
            },
        ),
    );
    let e = &doc["emulator"];
    let lost = num(e, &["acknowledged_lost"]);
    rows.push(
        Row::new(
            "`tim emulator serve --state` SIGKILLed during writes, restarted",
            format!(
                "{lost} of {} acknowledged writes lost ({} tag writes, {} pushes; {} kills, {} restarts on the same file)",
                thousands(num(e, &["acknowledged_writes"])),
                thousands(num(e, &["acknowledged_tag_writes"])),
                thousands(num(e, &["acknowledged_pushes"])),
                num(e, &["kills"]),
                num(e, &["restarts"]),
            ),
            "0 lost, ≥ 20 kills",
        )
        .unless(
            lost == 0
                && num(e, &["kills"]) >= u64::from(KILLS)
                && e["detector_self_test"] == true
                && num(e, &["min_acknowledged_per_round"]) > 0
                && failures(e).is_empty(),
            || format!("lost {lost}; {}", failures(e)),
        ),
    );
}

/// The cell of the detailed matrix: `attempts → outcome`.
fn matrix_detail(doc: &Value) -> String {
    let Some(cells) = doc["cells"].as_array() else {
        return String::new();
    };
    let mut faults: Vec<(String, String)> = Vec::new();
    for c in cells {
        let f = c["fault"].as_str().unwrap_or("?").to_owned();
        if !faults.iter().any(|(n, _)| *n == f) {
            faults.push((f, c["class_source"].as_str().unwrap_or("?").to_owned()));
        }
    }
    let mut out = String::new();
    let _ = writeln!(
        out,
        "Each cell: attempts the emulator received → what the call returned (`ok` = the retry succeeded); ✗ marks a cell that does not match its retry class. For `im_push`, `· N pushed` is the pushes the emulator recorded for that logical push.\n"
    );
    let _ = write!(out, "| endpoint | transport |");
    for (f, _) in &faults {
        let _ = write!(out, " {f} |");
    }
    let _ = write!(out, "\n|---|---|");
    for _ in &faults {
        let _ = write!(out, "---|");
    }
    let _ = write!(out, "\n| *retry class* | |");
    for (f, _) in &faults {
        let class = cells
            .iter()
            .find(|c| c["fault"] == f.as_str())
            .and_then(|c| c["class"].as_str())
            .unwrap_or("?");
        let _ = write!(out, " *{class}* |");
    }
    out.push('\n');
    let mut keys: Vec<(String, String)> = Vec::new();
    for c in cells {
        let k = (
            c["endpoint"].as_str().unwrap_or("?").to_owned(),
            c["transport"].as_str().unwrap_or("?").to_owned(),
        );
        if !keys.contains(&k) {
            keys.push(k);
        }
    }
    for (endpoint, transport) in keys {
        let _ = write!(out, "| {endpoint} | {transport} |");
        for (f, _) in &faults {
            let Some(c) = cells.iter().find(|c| {
                c["endpoint"] == endpoint.as_str()
                    && c["transport"] == transport.as_str()
                    && c["fault"] == f.as_str()
            }) else {
                let _ = write!(out, " – |");
                continue;
            };
            let mark = if c["matched"] == true { "" } else { " ✗" };
            let pushes = c["pushes_recorded"]
                .as_u64()
                .map(|n| format!(" · {n} pushed"))
                .unwrap_or_default();
            let _ = write!(
                out,
                " {} → {}{pushes}{mark} |",
                c["attempts"],
                c["outcome"].as_str().unwrap_or("?")
            );
        }
        out.push('\n');
    }
    let _ = writeln!(out, "\nWhere each fault's retry class comes from:\n");
    for (f, source) in &faults {
        let _ = writeln!(out, "- {f}: {source}");
    }
    out
}

// ---------------------------------------------------------------------------------------------
// Output

fn text_table(rows: &[Row]) -> String {
    let header = ["check", "result", "goal", "met"];
    let cells: Vec<[String; 4]> = rows
        .iter()
        .map(|r| {
            [
                r.check.clone(),
                r.result.clone(),
                r.goal.clone(),
                if r.unmet.is_none() { "yes" } else { "NO" }.to_owned(),
            ]
        })
        .collect();
    let width = |i: usize| {
        cells
            .iter()
            .map(|c| c[i].chars().count())
            .chain([header[i].len()])
            .max()
            .unwrap_or(0)
    };
    let widths = [width(0), width(1), width(2), width(3)];
    let line = |c: [&str; 4]| {
        let mut s = String::new();
        for (i, v) in c.iter().enumerate() {
            let pad = widths[i] - v.chars().count();
            let _ = write!(
                s,
                "{}{v}{}",
                if i > 0 { " | " } else { "" },
                " ".repeat(pad)
            );
        }
        s.trim_end().to_owned()
    };
    let mut out = line(header);
    out.push('\n');
    out.push_str(&widths.map(|w| "-".repeat(w)).join("-+-"));
    for c in &cells {
        out.push('\n');
        out.push_str(&line([&c[0], &c[1], &c[2], &c[3]]));
    }
    out
}

fn markdown(rows: &[Row], header: &str, detail: &str, notes: &[String]) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "{header}\n");
    let _ = writeln!(out, "| check | result | goal | met |\n|---|---|---|---|");
    for r in rows {
        let met = match &r.unmet {
            None => "yes".to_owned(),
            Some(why) => format!("**no**: {why}"),
        };
        let _ = writeln!(out, "| {} | {} | {} | {met} |", r.check, r.result, r.goal);
    }
    if !notes.is_empty() {
        out.push('\n');
        for n in notes {
            let _ = writeln!(out, "- {n}");
        }
    }
    if !detail.is_empty() {
        let _ = writeln!(out, "\n### The fault matrix, cell by cell\n\n{detail}");
    }
    out
}

#[allow(clippy::print_stdout)]
pub(crate) fn run(root: &Path) -> Result<Vec<String>, Vec<String>> {
    let started = Instant::now();
    // Read before the run writes anything.
    let machine = Machine::collect(root);
    // Read before the run: the run itself writes BENCHMARKS.md and the regression folder.
    let secs = std::env::var("HARDEN_FUZZ_SECS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(DEFAULT_FUZZ_SECS);
    let logs = target_dir(root).join("harden");
    std::fs::create_dir_all(&logs).map_err(|e| vec![format!("{}: {e}", logs.display())])?;
    let mut notes = Vec::new();

    // 1. Fuzzing.
    let mut rows = fuzz(root, &logs, secs, &mut notes);

    // 2-4. The examples, against emulators on loopback.
    progress("building tim and the harden examples");
    cargo_build(
        root,
        &logs,
        &[
            "-p",
            "tim-cli",
            "--bin",
            "tim",
            "-p",
            "tim-tests",
            "--example",
            "harden_matrix",
            "--example",
            "harden_durability",
        ],
    )
    .map_err(|e| vec![e])?;
    let key = random_key().map_err(|e| vec![e])?;
    // Run copies, so that another build in a shared target directory cannot swap a binary
    // while the checks run.
    let built = target_dir(root).join("debug");
    let bin = logs.join("bin");
    for (from, to) in [
        ("tim", "tim"),
        ("examples/harden_matrix", "harden_matrix"),
        ("examples/harden_durability", "harden_durability"),
    ] {
        std::fs::create_dir_all(&bin)
            .and_then(|()| std::fs::copy(built.join(from), bin.join(to)))
            .map_err(|e| vec![format!("copying {from}: {e}")])?;
    }
    let mut problems = Vec::new();

    progress(&format!(
        "fault matrix and secrets scan ({} emulated endpoints × 2 transports × 8 faults)",
        spec_counts(root).0
    ));
    let mut cmd = Command::new(bin.join("harden_matrix"));
    cmd.current_dir(root).env("TIM_HARDEN_KEY", &key);
    let mut detail = String::new();
    match run_logged(cmd, &logs.join("matrix"), Duration::from_secs(600)) {
        Ok((status, out, err)) => match serde_json::from_str::<Value>(&out) {
            Ok(doc) => {
                let (k, s) = secret_hits(&format!("{out}\n{err}"), &key);
                matrix_rows(&doc, (k, s), &mut rows);
                detail = matrix_detail(&doc);
                notes.push(format!(
                    "Fault matrix: client timeout {} ms per attempt, the emulator holds `timeout` calls {} ms; default retry policy (4 attempts) with 20 ms initial backoff; emulator push deduplication off so that a repeated push would be recorded twice; attempts counted from the emulator's request log. Ran in {:.0} s.",
                    num(&doc, &["client_timeout_ms"]),
                    num(&doc, &["fault_delay_ms"]),
                    doc["elapsed_s"].as_f64().unwrap_or(0.0)
                ));
            }
            Err(e) => problems.push(format!(
                "harden_matrix ({status:?}) printed no result ({e}): {}",
                tail(&err, 5)
            )),
        },
        Err(e) => problems.push(e),
    }

    progress(&format!(
        "durability: interrupt a bulk write, a bulk read and the emulator {KILLS} times each; changed inputs; 1% bad items"
    ));
    let mut cmd = Command::new(bin.join("harden_durability"));
    cmd.current_dir(root)
        .env("TIM_HARDEN_KEY", &key)
        .arg("--tim")
        .arg(bin.join("tim"))
        .args(["--kills", &KILLS.to_string()]);
    match run_logged(cmd, &logs.join("durability"), Duration::from_secs(900)) {
        Ok((status, out, err)) => match serde_json::from_str::<Value>(&out) {
            Ok(doc) => {
                durability_rows(&doc, &mut rows);
                let (k, s) = secret_hits(&format!("{out}\n{err}"), &key);
                if k + s > 0 {
                    problems.push(format!(
                        "the durability run printed the key {k} times and {s} UserSig-shaped tokens"
                    ));
                }
                notes.push(format!(
                    "Durability: kill points drawn uniformly (bulk write: 30–600 ms after tim starts, 40,000 lines; bulk read: 30–1,500 ms, 20,000 accounts; both `--max-rate 100 --concurrency 4`; emulator: 50–500 ms into a stream of writes from 4 concurrent clients without retries, every 10th write a push), seed {}. A SIGINT waits, past its drawn point, for the run's first checkpoint record (before it tim may not yet handle SIGINT). Changed input: the job (`tim tags add`, 20,000 lines) interrupted after its first checkpoint record, calls counted from the emulator's request log. Bad items: `--max-rate off`, calls from tim's summary line. Each check was also run against data it must find missing or wrong (another round's tag; an output with a line dropped, one doubled and two swapped; the bad items' own lines; the restored input, which must resume and send; an empty state file) and found it. Ran in {:.0} s (bulk write) + {:.0} s (bulk read) + {:.0} s (changed input) + {:.0} s (bad items) + {:.0} s (emulator).",
                    doc["seed"],
                    doc["bulk_s"].as_f64().unwrap_or(0.0),
                    doc["bulk_read_s"].as_f64().unwrap_or(0.0),
                    doc["changed_input_s"].as_f64().unwrap_or(0.0),
                    doc["bad_items_s"].as_f64().unwrap_or(0.0),
                    doc["emulator_s"].as_f64().unwrap_or(0.0)
                ));
            }
            Err(e) => problems.push(format!(
                "harden_durability ({status:?}) printed no result ({e}): {}",
                tail(&err, 5)
            )),
        },
        Err(e) => problems.push(e),
    }

    let took = started.elapsed();
    let header = format!(
        "Last run: {}, commit {}, `cargo xtask harden` ({} min {} s in all, builds included), on {}.",
        machine.date,
        machine.commit,
        took.as_secs() / 60,
        took.as_secs() % 60,
        machine.summary()
    );
    for p in &problems {
        notes.push(format!("**Not completed**: {p}"));
    }
    let section = markdown(&rows, &header, &detail, &notes);
    report::write_section(root, Section::Harden, &section).map_err(|e| vec![e])?;

    println!("{}", text_table(&rows));
    problems.extend(
        rows.iter()
            .filter_map(|r| r.unmet.as_ref().map(|why| format!("{}: {why}", r.check))),
    );
    if problems.is_empty() {
        Ok(vec![format!(
            "harden: every goal met in {:.0} s; wrote BENCHMARKS.md (logs in {})",
            took.as_secs_f64(),
            logs.display()
        )])
    } else {
        problems.push(format!(
            "BENCHMARKS.md was written with these results (logs in {})",
            logs.display()
        ));
        Err(problems)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_and_usersig_shaped_tokens_are_counted() {
        let sig = format!("eJyr{}", "Vgrx*-_9".repeat(6));
        let text = format!("a KEY b {sig}, usersig=<redacted> eJshort KEY");
        assert_eq!(secret_hits(&text, "KEY"), (2, 1));
        assert_eq!(secret_hits("xeJ{}", "KEY"), (0, 0));
    }

    /// The durability example's output (from a run, kill points left out) as rows.
    fn durability_sample() -> Value {
        serde_json::from_str(
            r#"{
            "seed": 2024,
            "bulk": {"acknowledged_chunks_checked":3742,"acknowledged_items_lost":0,"detector_self_test":true,"failures":[],"items_lost_after_resume":0,"kills":20,"lines_per_round":40000,"rounds":2,"runs":22,"sigint":10,"sigint_exit_130":10,"sigint_held_for_first_record":3,"sigkill":10},
            "bulk_read": {"accounts":20000,"checked_after_interruption":18,"completed_rounds":8,"detector_self_test":true,"failures":[],"in_input_order":true,"interruptions_wanted":20,"items_duplicated":0,"items_missing":0,"kills":20,"mismatched_after_interruption":0,"results":160000,"results_expected":160000,"results_unexpected":0,"results_with_wrong_tags":0,"rounds":8,"runs":28,"sigint":10,"sigint_exit_130":10,"sigint_held_for_first_record":1,"sigkill":10},
            "changed_input": {"calls_sent_by_refused_runs":0,"checkpoint_untouched":10,"detector_self_test":true,"failures":[],"kills":10,"lines":20000,"refused":10,"resumed_after_restore":10,"sigint":5,"sigint_exit_130":5,"sigint_held_for_first_record":1,"sigkill":5,"trials":10,"trials_lines_appended":5,"trials_same_size":5},
            "bad_items": {"bad_items":1000,"bad_items_applied":0,"calls":6981,"calls_without_bad_items":1000,"detector_self_test":true,"exit_code":4,"extra_calls_per_bad_item":5.981,"failed_file_holds_exactly_the_bad_lines":true,"failures":[],"good_items_not_applied":0,"job_s":1.36,"lines":100000,"reasons":1000,"reasons_name_exactly_the_bad_lines":true,"reasons_with_code_90033":1000},
            "emulator": {"acknowledged_lost":0,"acknowledged_pushes":7,"acknowledged_pushes_lost":0,"acknowledged_tag_writes":15672,"acknowledged_tag_writes_lost":0,"acknowledged_writes":15679,"detector_self_test":true,"failed_writes":2156,"failures":[],"kills":20,"min_acknowledged_per_round":158,"restarts":20,"state_file_bytes_at_end":635398}
        }"#,
        )
        .expect("JSON")
    }

    #[test]
    fn durability_rows_read_the_example_output() {
        let mut rows = Vec::new();
        durability_rows(&durability_sample(), &mut rows);
        assert_eq!(rows.len(), 5);
        for r in &rows {
            assert_eq!(r.unmet, None, "{}: {}", r.check, r.result);
            assert!(!r.result.contains(&u64::MAX.to_string()), "{}", r.result);
        }
        assert!(
            rows[0]
                .result
                .contains("10 SIGKILL, 10 SIGINT (10 exit 130"),
            "{}",
            rows[0].result
        );
        assert!(
            rows[1]
                .result
                .starts_with("0 items missing, 0 duplicated, all in input order"),
            "{}",
            rows[1].result
        );
        assert!(
            rows[2].result.starts_with("refused 10 of 10 times"),
            "{}",
            rows[2].result
        );
        assert!(
            rows[3]
                .result
                .contains("6,981 calls (1,000 without bad items"),
            "{}",
            rows[3].result
        );

        // A duplicated result, a SIGINT that did not exit 130, a changed input that was sent,
        // a bad item applied: each row says so.
        let mut doc = durability_sample();
        doc["bulk"]["sigint_exit_130"] = 9.into();
        doc["bulk_read"]["items_duplicated"] = 1.into();
        doc["changed_input"]["calls_sent_by_refused_runs"] = 3.into();
        doc["bad_items"]["bad_items_applied"] = 1.into();
        let mut rows = Vec::new();
        durability_rows(&doc, &mut rows);
        assert!(rows[..4].iter().all(|r| r.unmet.is_some()));
        assert_eq!(rows[4].unmet, None);
    }

    #[test]
    fn libfuzzer_output_is_read() {
        let final_stats = "#1024\tpulse  cov: 1\nstat::number_of_executed_units: 98765\n";
        assert_eq!(executions(final_stats), Some(98765));
        let crashed =
            "#2048\tNEW    cov: 7 ft: 9\n#4096\tpulse  cov: 7\n==1== ERROR: deadly signal\n";
        assert_eq!(executions(crashed), Some(4096));
    }
}
