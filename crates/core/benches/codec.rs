//! Codec and UserSig costs, each next to a floor measured in the same run.
//!
//! `cargo bench -p tim-core --bench codec` prints one table: ns per operation (median of 15
//! samples) and the ratio to the floor. The floors are plain `serde_json` on the same structs and
//! bytes: what any client has to pay anyway.

use std::hint::black_box;
use std::time::{Duration, Instant};

use tim_core::endpoints::{GetTag, GetTagRequest, GetTagResponse};
use tim_core::http::StatusCode;
use tim_core::{Auth, BaseUrl, Region, SecretKey, Signer, build_request, decode, usersig};

/// Median nanoseconds per call of `f` over 15 samples of about 40 ms each.
fn measure(mut f: impl FnMut()) -> f64 {
    let warm = Instant::now();
    let mut per_sample = 0u64;
    while warm.elapsed() < Duration::from_millis(100) {
        f();
        per_sample += 1;
    }
    // Aim for ~40 ms per sample.
    let iters = (per_sample * 40 / 100).max(1);
    let mut samples: Vec<f64> = (0..15)
        .map(|_| {
            let t = Instant::now();
            for _ in 0..iters {
                f();
            }
            t.elapsed().as_nanos() as f64 / iters as f64
        })
        .collect();
    samples.sort_by(f64::total_cmp);
    samples[samples.len() / 2]
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

    let encode_floor = measure(|| {
        black_box(serde_json::to_vec(black_box(&request)).unwrap());
    });
    let encode = measure(|| {
        let sig = signer.usersig(now);
        let auth = Auth {
            sdkappid: signer.sdkappid(),
            identifier: signer.identifier(),
            usersig: &sig,
        };
        random = random.wrapping_add(1);
        black_box(build_request::<GetTag>(&base, &auth, random, black_box(&request)).unwrap());
    });
    let decode_floor = measure(|| {
        black_box(serde_json::from_slice::<GetTagResponse>(black_box(&answer)).unwrap());
    });
    let decoded = measure(|| {
        black_box(decode::<GetTag>(StatusCode::OK, black_box(&answer)).unwrap());
    });

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

    println!("| case | ns/op | floor ns/op | ratio |");
    println!("|---|---:|---:|---:|");
    println!(
        "| build + encode im_get_tag, 100 accounts (cached signer) | {encode:.0} | {encode_floor:.0} (serde_json::to_vec) | {:.2}x |",
        encode / encode_floor
    );
    println!(
        "| decode im_get_tag answer, 100 users | {decoded:.0} | {decode_floor:.0} (serde_json::from_slice) | {:.2}x |",
        decoded / decode_floor
    );
    println!("| UserSig generate | {generate:.0} | | |");
    println!("| UserSig verify | {verify:.0} | | |");
    println!("| UserSig from the cached signer | {cached:.0} | | |");
}
