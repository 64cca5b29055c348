//! Snapshots of every endpoint's request built from the documentation's samples (usersig
//! redacted, random fixed), and of every decoded sample response.

use serde_json::{Value, json};
use tim_core::http::StatusCode;
use tim_core::{
    Auth, BaseUrl, Endpoint, EndpointId, EndpointVisitor, Region, SecretKey, Signer, build_request,
    decode, redact_url,
};

use crate::spec_json::endpoint;

struct Sample<'a> {
    sample: &'a tim_spec::Sample,
}

fn describe_error(e: &tim_core::Error) -> Value {
    json!({
        "display": e.to_string(),
        "api_code": e.code().map(|c| c.code()),
        "random": e.random(),
        "retry_class": e.retry_class().map(|c| format!("{c:?}")),
    })
}

impl EndpointVisitor for Sample<'_> {
    type Output = (Option<Value>, Value);
    fn visit<E: Endpoint>(self) -> Self::Output {
        let request = self.sample.request.as_ref().map(|body| {
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
        let raw = serde_json::to_vec(&self.sample.response).unwrap();
        let decoded = match decode::<E>(StatusCode::OK, &raw) {
            Ok(resp) => json!({ "ok": serde_json::to_value(&resp).unwrap() }),
            Err(e) => json!({ "err": describe_error(&e) }),
        };
        (request, decoded)
    }
}

#[test]
fn every_endpoint_has_a_sample_and_matches_its_snapshots() {
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path("../snapshots");
    settings.set_prepend_module_to_snapshot(false);
    let mut expected = std::collections::BTreeSet::new();
    settings.bind(|| {
        for id in EndpointId::ALL {
            let e = endpoint(*id);
            assert!(
                e.samples.iter().any(|s| s.request.is_some()),
                "{id}: needs a request sample"
            );
            for s in &e.samples {
                let (request, response) = id.visit(Sample { sample: s });
                let stem = format!("{}__{}__{}", id.service(), id.command(), s.name);
                if let Some(request) = request {
                    let snap = format!("{stem}__request");
                    expected.insert(format!("{snap}.snap"));
                    insta::assert_json_snapshot!(snap, request);
                }
                let snap = format!("{stem}__response");
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
        endpoint(E::INFO.id)
            .samples
            .iter()
            .find_map(|s| s.request.clone())
            .unwrap()
    }
    for id in EndpointId::ALL {
        assert_eq!(
            id.visit(Path),
            format!("/v4/{}/{}", id.service(), id.command())
        );
        assert_eq!(EndpointId::find(id.service(), id.command()), Some(*id));
        assert_eq!(EndpointId::from_path(&id.info().path()), Some(*id));
    }
    // Every endpoint of the spec is compiled in, and nothing else.
    assert_eq!(
        EndpointId::ALL.len(),
        crate::spec_json::model().endpoints().count()
    );
}
