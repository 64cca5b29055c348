//! The fallback of `cargo xtask harden` for machines where cargo fuzz cannot run: random and
//! mutated inputs through the fuzz targets' checks (`fuzz/src/lib.rs`) for a bounded time.
//! **Not coverage-guided**: inputs are random bytes and random mutations of the seeds in
//! `fuzz/seeds/<target>/`, nothing steers them towards new code.
//!
//! `harden_random_fuzz --secs N --out DIR`: each target runs for N seconds; every input that
//! makes a check panic is written to `DIR/<target>/`. Output: one JSON document on stdout.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::json;
use tim_core::{FastRandom, RandomSource};

// The fuzz crate's checks; `pub` for its targets, partly unused here.
#[allow(unreachable_pub, dead_code)]
#[path = "../../fuzz/src/lib.rs"]
mod checks;

fn seeds(target: &str) -> Vec<Vec<u8>> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../fuzz/seeds")
        .join(target);
    let mut out: Vec<Vec<u8>> = std::fs::read_dir(dir)
        .map(|d| {
            d.flatten()
                .filter_map(|e| std::fs::read(e.path()).ok())
                .collect()
        })
        .unwrap_or_default();
    if out.is_empty() {
        out.push(Vec::new());
    }
    out
}

fn below(n: usize) -> usize {
    if n == 0 {
        0
    } else {
        (FastRandom.next_u64() % n as u64) as usize
    }
}

/// Random bytes, or a seed with a few random byte flips, insertions and deletions.
fn input(seeds: &[Vec<u8>]) -> Vec<u8> {
    if FastRandom.next_u64().is_multiple_of(4) {
        return (0..below(512))
            .map(|_| FastRandom.next_u64() as u8)
            .collect();
    }
    let mut v = seeds[below(seeds.len())].clone();
    for _ in 0..1 + below(8) {
        let at = below(v.len() + 1);
        match below(3) {
            0 if at < v.len() => v[at] = FastRandom.next_u64() as u8,
            1 => v.insert(at, FastRandom.next_u64() as u8),
            _ if at < v.len() => {
                v.remove(at);
            }
            _ => {}
        }
    }
    v
}

fn main() {
    let mut secs = 60u64;
    let mut out = PathBuf::from("fuzz/artifacts");
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--secs" => secs = args.next().and_then(|v| v.parse().ok()).expect("--secs N"),
            "--out" => out = args.next().map(PathBuf::from).expect("--out DIR"),
            other => panic!("unknown argument {other:?}"),
        }
    }
    let last_panic = Arc::new(Mutex::new(String::new()));
    let sink = last_panic.clone();
    std::panic::set_hook(Box::new(move |info| {
        *sink.lock().unwrap() = info.to_string();
    }));
    let mut results = Vec::new();
    for (name, check) in checks::TARGETS {
        let seeds = seeds(name);
        let deadline = Instant::now() + Duration::from_secs(secs);
        let (mut executions, mut crashes) = (0u64, Vec::new());
        while Instant::now() < deadline {
            let data = input(&seeds);
            executions += 1;
            if std::panic::catch_unwind(|| check(&data)).is_err() {
                let dir = out.join(name);
                std::fs::create_dir_all(&dir).expect("artifact dir");
                let file = dir.join(format!("crash-random-{}", crashes.len() + 1));
                std::fs::write(&file, &data).expect("artifact");
                crashes.push(json!({
                    "file": file.display().to_string(),
                    "panic": last_panic.lock().unwrap().clone(),
                }));
                if crashes.len() >= 5 {
                    break;
                }
            }
        }
        results.push(json!({
            "target": name,
            "executions": executions,
            "crashes": crashes.len(),
            "crash_files": crashes,
        }));
    }
    let doc = json!({ "coverage_guided": false, "secs_per_target": secs, "targets": results });
    println!("{}", serde_json::to_string_pretty(&doc).expect("JSON"));
}
