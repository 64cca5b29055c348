//! Snapshots of every endpoint's request built from the documentation's samples (usersig
//! redacted, random fixed), and of every decoded sample response.

use serde_json::{Value, json};
use tim_core::http::StatusCode;
use tim_core::{
    Auth, BaseUrl, Command, Endpoint, EndpointVisitor, Region, SecretKey, Signer, build_request,
    decode, redact_url,
};

use crate::spec_json::{endpoint, spec};

struct Sample<'a> {
    sample: &'a Value,
}

fn describe_error(e: &tim_core::Error) -> Value {
    json!({
        "display": e.to_string(),
        "api_code": e.api_code().map(|c| c.code()),
        "retry_class": e.retry_class().map(|c| format!("{c:?}")),
    })
}

impl EndpointVisitor for Sample<'_> {
    type Output = (Option<Value>, Value);
    fn visit<E: Endpoint>(self) -> Self::Output {
        let request = self.sample.get("request").map(|body| {
            let typed: E::Request = serde_json::from_value(body.clone()).unwrap_or_else(|e| {
                panic!(
                    "{}: the doc sample parses into the typed request: {e}",
                    E::INFO.command
                )
            });
            // What we send is exactly the documentation's sample, field for field.
            assert_eq!(
                &serde_json::to_value(&typed).unwrap(),
                body,
                "{}: typed request re-serialises to the sample",
                E::INFO.command
            );
            let signer =
                Signer::with_key(1400000000, "administrator", SecretKey::new("sample-key"));
            let sig = signer.usersig(1_700_000_000);
            let auth = Auth {
                sdkappid: signer.sdkappid(),
                identifier: signer.identifier(),
                usersig: &sig,
            };
            let req = build_request::<E>(&BaseUrl::from(Region::China), &auth, 99_999_999, &typed)
                .unwrap();
            let uri = req.uri().to_string();
            assert!(
                uri.contains(sig.expose()),
                "the real request carries the UserSig"
            );
            let headers: serde_json::Map<String, Value> = req
                .headers()
                .iter()
                .map(|(k, v)| (k.to_string(), Value::from(v.to_str().unwrap())))
                .collect();
            let body: Value = serde_json::from_slice(req.body()).unwrap();
            json!({
                "method": req.method().as_str(),
                "uri": redact_url(&uri),
                "headers": headers,
                "body": body,
            })
        });
        let raw = serde_json::to_vec(&self.sample["response"]).unwrap();
        let decoded = match decode::<E>(StatusCode::OK, &raw) {
            Ok(resp) => json!({ "ok": serde_json::to_value(&resp).unwrap() }),
            Err(e) => json!({ "err": describe_error(&e) }),
        };
        (request, decoded)
    }
}

#[test]
fn every_endpoint_has_a_sample_and_matches_its_snapshots() {
    let spec = spec();
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path("../snapshots");
    settings.set_prepend_module_to_snapshot(false);
    let mut expected = std::collections::BTreeSet::new();
    settings.bind(|| {
        for cmd in Command::ALL {
            let e = endpoint(&spec, cmd.command());
            let samples = e["samples"].as_array().unwrap();
            assert!(
                samples.iter().any(|s| s.get("request").is_some()),
                "{cmd}: needs a request sample"
            );
            for s in samples {
                let name = s["name"].as_str().unwrap();
                let (request, response) = cmd.visit(Sample { sample: s });
                if let Some(request) = request {
                    let snap = format!("{}__{name}__request", cmd.command());
                    expected.insert(format!("{snap}.snap"));
                    insta::assert_json_snapshot!(snap, request);
                }
                let snap = format!("{}__{name}__response", cmd.command());
                expected.insert(format!("{snap}.snap"));
                insta::assert_json_snapshot!(snap, response);
            }
        }
    });
    // No snapshot is left behind by a renamed sample or a removed endpoint.
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/snapshots");
    let unreferenced: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".snap") && !expected.contains(n))
        .collect();
    assert!(
        unreferenced.is_empty(),
        "unreferenced snapshots in tests/snapshots: {unreferenced:?}"
    );
}

#[test]
fn the_uri_names_the_right_command_for_every_endpoint() {
    // Guards against the classic bug of posting one command to another's path.
    struct Path;
    impl EndpointVisitor for Path {
        type Output = String;
        fn visit<E: Endpoint>(self) -> String {
            let sig = tim_core::UserSig::new("s");
            let auth = Auth {
                sdkappid: 1,
                identifier: "a",
                usersig: &sig,
            };
            let req: E::Request = serde_json::from_value(minimal_request::<E>()).unwrap();
            build_request::<E>(
                &BaseUrl::parse("http://127.0.0.1:1").unwrap(),
                &auth,
                1,
                &req,
            )
            .unwrap()
            .uri()
            .path()
            .to_owned()
        }
    }
    fn minimal_request<E: Endpoint>() -> Value {
        let spec = spec();
        let e = endpoint(&spec, E::INFO.command);
        e["samples"]
            .as_array()
            .unwrap()
            .iter()
            .find_map(|s| s.get("request").cloned())
            .unwrap()
    }
    for cmd in Command::ALL {
        assert_eq!(
            cmd.visit(Path),
            format!("/v4/all_member_push/{}", cmd.command())
        );
        assert_eq!(Command::from_command(cmd.command()), Some(*cmd));
    }
    assert_eq!(Command::ALL.len(), 10);
}
