//! Whatever a client sends, the emulator answers with an envelope (seeded random mutations of
//! the documented samples, and random query strings): nothing panics on client input.

use serde_json::{Value, json};
use tim_emulator::Emulator;

use crate::support::{Api, code};

fn random_value(rng: &mut fastrand::Rng, depth: u32) -> Value {
    match rng.u8(0..if depth > 2 { 6 } else { 8 }) {
        0 => Value::Null,
        1 => json!(rng.bool()),
        2 => json!(rng.i64(..)),
        3 => json!(rng.f64() * 1e6),
        4 => json!(String::from_utf8_lossy(
            &(0..rng.usize(0..60))
                .map(|_| rng.u8(..))
                .collect::<Vec<_>>()
        )),
        5 => json!("x".repeat(rng.usize(0..80))),
        6 => Value::Array(
            (0..rng.usize(0..4))
                .map(|_| random_value(rng, depth + 1))
                .collect(),
        ),
        _ => Value::Object(
            (0..rng.usize(0..4))
                .map(|i| (format!("k{i}"), random_value(rng, depth + 1)))
                .collect(),
        ),
    }
}

/// Replaces one random node of `v` (possibly `v` itself) with a random value.
fn mutate(v: &mut Value, rng: &mut fastrand::Rng) {
    let children = match v {
        Value::Array(a) => a.len(),
        Value::Object(m) => m.len(),
        _ => 0,
    };
    if children == 0 || rng.u8(0..4) == 0 {
        *v = random_value(rng, 0);
        return;
    }
    let i = rng.usize(0..children);
    match v {
        Value::Array(a) => mutate(&mut a[i], rng),
        Value::Object(m) => {
            if let Some((_, child)) = m.iter_mut().nth(i) {
                mutate(child, rng);
            }
        }
        _ => {}
    }
}

#[tokio::test]
async fn mutated_samples_always_get_an_envelope() {
    let api = Api::start(
        Emulator::builder()
            .with_rate_limits(false)
            .with_push_dedup_window(std::time::Duration::ZERO),
    )
    .await;
    api.ok(
        "im_set_attr_name",
        json!({"AttrNames": {"0": "sex", "1": "city"}}),
    )
    .await;
    let spec = crate::support::spec();
    let mut rng = fastrand::Rng::with_seed(0x7117);
    let mut codes = std::collections::BTreeSet::new();
    for endpoint in spec.endpoints() {
        let command = &format!("{}/{}", endpoint.service, endpoint.command);
        let samples: Vec<Value> = endpoint
            .samples
            .iter()
            .filter_map(|s| s.request.clone())
            .collect();
        for round in 0..40 {
            let mut body = samples[round % samples.len()].clone();
            for _ in 0..rng.usize(1..3) {
                mutate(&mut body, &mut rng);
            }
            let v = api.call(command, body.clone()).await;
            let c = code(&v);
            let status = v["ActionStatus"].as_str().unwrap_or_default();
            assert!(
                (c == 0 && status == "OK") || (c != 0 && status == "FAIL"),
                "{command} {body}: {v}"
            );
            assert!(v["ErrorInfo"].is_string(), "{v}");
            codes.insert(c);
        }
    }
    // The mutations reached past the JSON parser into the endpoint rules.
    assert!(codes.len() >= 5, "{codes:?}");
}

#[tokio::test]
async fn random_queries_and_paths_get_an_envelope() {
    let api = Api::start(Emulator::builder()).await;
    let mut rng = fastrand::Rng::with_seed(42);
    let pieces = [
        "sdkappid=",
        "identifier=",
        "usersig=",
        "random=",
        "contenttype=",
        "%",
        "%zz",
        "&",
        "=",
        "json",
        "1400000000",
        "administrator",
        "é",
        "+",
        "*-_",
    ];
    for _ in 0..150 {
        let query: String = (0..rng.usize(0..12))
            .map(|_| pieces[rng.usize(0..pieces.len())])
            .collect();
        let query = query.replace('é', "%C3%A9");
        let v = api
            .post_bytes("im_get_tag", &query, r#"{"To_Account":["u"]}"#)
            .await;
        assert!(code(&v) != 0, "{query}: {v}");
    }
}
