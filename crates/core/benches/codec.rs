//! Codec and UserSig costs, each next to a floor measured in the same run.
//!
//! `cargo bench -p tim-core --bench codec` prints one table: ns per operation and the ratio to
//! the floor. The floors are plain `serde_json` on the same structs and bytes: what any client
//! has to pay anyway.
//!
//! A case and its floor are measured side by side: 31 rounds, each timing one sample of the
//! floor and one of the case (about 20 ms each, in alternating order), so that both see the same
//! machine state. The table gives the medians, the median of the 31 per-round ratios, and the
//! spread of those ratios (10th to 90th percentile) as a measure of the noise.
//! `TIM_BENCH_ROUNDS` changes the number of rounds.

use std::hint::black_box;
use std::time::{Duration, Instant};

use tim_core::all_member_push::{GetTag, GetTagRequest, GetTagResponse};
use tim_core::http::StatusCode;
use tim_core::{Auth, BaseUrl, Region, SecretKey, Signer, build_request, decode, usersig};

const SAMPLE: Duration = Duration::from_millis(20);

/// Calls of `f` that take about one sample's time.
fn calibrate(f: &mut impl FnMut()) -> u64 {
    let warm = Instant::now();
    let mut calls = 0u64;
    while warm.elapsed() < Duration::from_millis(100) {
        f();
        calls += 1;
    }
    (calls * SAMPLE.as_millis() as u64 / 100).max(1)
}

fn sample(f: &mut impl FnMut(), iters: u64) -> f64 {
    let t = Instant::now();
    for _ in 0..iters {
        f();
    }
    t.elapsed().as_nanos() as f64 / iters as f64
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    let i = ((sorted.len() - 1) as f64 * p).round() as usize;
    sorted[i]
}

fn rounds() -> usize {
    std::env::var("TIM_BENCH_ROUNDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .filter(|n| *n > 0)
        .unwrap_or(31)
}

/// Median ns/op of `f`.
fn measure(mut f: impl FnMut()) -> f64 {
    let iters = calibrate(&mut f);
    let mut samples: Vec<f64> = (0..rounds()).map(|_| sample(&mut f, iters)).collect();
    samples.sort_by(f64::total_cmp);
    percentile(&samples, 0.5)
}

/// A case next to its floor.
struct Pair {
    case_ns: f64,
    floor_ns: f64,
    ratio: f64,
    ratio_p10: f64,
    ratio_p90: f64,
}

/// Measures `case` and `floor` in alternating samples.
fn measure_pair(mut case: impl FnMut(), mut floor: impl FnMut()) -> Pair {
    let case_iters = calibrate(&mut case);
    let floor_iters = calibrate(&mut floor);
    let n = rounds();
    let mut cases = Vec::with_capacity(n);
    let mut floors = Vec::with_capacity(n);
    let mut ratios = Vec::with_capacity(n);
    for round in 0..n {
        let (c, f) = if round % 2 == 0 {
            let f = sample(&mut floor, floor_iters);
            (sample(&mut case, case_iters), f)
        } else {
            let c = sample(&mut case, case_iters);
            (c, sample(&mut floor, floor_iters))
        };
        cases.push(c);
        floors.push(f);
        ratios.push(c / f);
    }
    for v in [&mut cases, &mut floors, &mut ratios] {
        v.sort_by(f64::total_cmp);
    }
    Pair {
        case_ns: percentile(&cases, 0.5),
        floor_ns: percentile(&floors, 0.5),
        ratio: percentile(&ratios, 0.5),
        ratio_p10: percentile(&ratios, 0.1),
        ratio_p90: percentile(&ratios, 0.9),
    }
}

#[allow(clippy::print_stdout)]
fn main() {
    let accounts: Vec<String> = (0..100).map(|i| format!("user_{i:06}")).collect();
    let request = GetTagRequest::new(accounts.clone());
    let signer = Signer::with_key(
        1400000000,
        "administrator",
        SecretKey::new("5bd2850fff3ecb11d7c805251c51ee463a25727bddc2385f3fa8bfee1bb93b5e"),
    );
    let base = BaseUrl::from(Region::China);
    let now = 1_700_000_000;
    let answer: Vec<u8> = {
        let tags: Vec<String> = accounts
            .iter()
            .map(|a| format!(r#"{{"To_Account":"{a}","Tags":["vip","city_sz","beta"]}}"#))
            .collect();
        format!(
            r#"{{"ActionStatus":"OK","ErrorInfo":"","ErrorCode":0,"UserTags":[{}]}}"#,
            tags.join(",")
        )
        .into_bytes()
    };
    let mut random = 0u32;

    // What a client does per call: the cached UserSig, a fresh random, the whole request.
    let mut build = |request: &GetTagRequest| {
        let sig = signer.usersig(now);
        let auth = Auth {
            sdkappid: signer.sdkappid(),
            identifier: signer.identifier(),
            usersig: &sig,
        };
        random = random.wrapping_add(1);
        black_box(build_request::<GetTag>(&base, &auth, random, black_box(request)).unwrap());
    };
    let encode = measure_pair(
        || build(&request),
        || {
            black_box(serde_json::to_vec(black_box(&request)).unwrap());
        },
    );
    // The same call with an empty account list: what building costs besides the body.
    let empty = GetTagRequest::new(Vec::<String>::new());
    let fixed = measure(|| build(&empty));
    let decoded = measure_pair(
        || {
            black_box(decode::<GetTag>(StatusCode::OK, black_box(&answer)).unwrap());
        },
        || {
            black_box(serde_json::from_slice::<GetTagResponse>(black_box(&answer)).unwrap());
        },
    );

    let key = SecretKey::new("5bd2850fff3ecb11d7c805251c51ee463a25727bddc2385f3fa8bfee1bb93b5e");
    let sig = usersig::generate(1400000000, &key, "administrator", now, 86_400);
    let generate = measure(|| {
        black_box(usersig::generate(
            1400000000,
            &key,
            black_box("administrator"),
            now,
            86_400,
        ));
    });
    let verify = measure(|| {
        black_box(
            usersig::verify(
                black_box(sig.expose()),
                1400000000,
                "administrator",
                &key,
                now,
            )
            .unwrap(),
        );
    });
    let cached = measure(|| {
        black_box(signer.usersig(black_box(now)));
    });

    let row = |case: &str, p: &Pair, floor: &str| {
        println!(
            "| {case} | {:.0} | {:.0} ({floor}) | {:.2}x | {:.2}x-{:.2}x |",
            p.case_ns, p.floor_ns, p.ratio, p.ratio_p10, p.ratio_p90
        );
    };
    println!("| case | ns/op | floor ns/op | ratio | ratio p10-p90 |");
    println!("|---|---:|---:|---:|---:|");
    row(
        "build + encode im_get_tag, 100 accounts (cached signer)",
        &encode,
        "serde_json::to_vec",
    );
    println!(
        "| build + encode im_get_tag, no accounts (the fixed cost of a request: URL, headers, signer) | {fixed:.0} | | | |"
    );
    row(
        "decode im_get_tag answer, 100 users",
        &decoded,
        "serde_json::from_slice",
    );
    println!("| UserSig generate | {generate:.0} | | | |");
    println!("| UserSig verify | {verify:.0} | | | |");
    println!("| UserSig from the cached signer | {cached:.0} | | | |");
}
