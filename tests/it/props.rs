//! Property tests: generated requests round-trip, decoding never panics and never loses the
//! body, error codes round-trip, UserSig round-trips.
//!
//! Request values are drawn from the spec itself (field names, types, optionality), so every
//! endpoint added to spec/ is covered without new test code.

use proptest::prelude::*;
use serde_json::{Map, Value};
use tim_core::http::StatusCode;
use tim_core::{Endpoint, EndpointId, EndpointVisitor, ErrorCode, ErrorKind, SecretKey, usersig};

use tim_spec::{Field, Model, Prim, Ty, TypeDef};

use crate::spec_json::{endpoint, model};

fn strategy_for(ty: &Ty, model: &Model) -> BoxedStrategy<Value> {
    match ty {
        Ty::Prim(p) => match p {
            Prim::String => any::<String>().prop_map(Value::from).boxed(),
            Prim::U32 => any::<u32>().prop_map(Value::from).boxed(),
            Prim::U64 => any::<u64>().prop_map(Value::from).boxed(),
            Prim::I64 => any::<i64>().prop_map(Value::from).boxed(),
            Prim::F64 => prop::num::f64::NORMAL.prop_map(Value::from).boxed(),
            Prim::Bool => any::<bool>().prop_map(Value::from).boxed(),
            Prim::Json => any::<i64>()
                .prop_map(|n| serde_json::json!({ "n": n }))
                .boxed(),
        },
        Ty::List(inner) => prop::collection::vec(strategy_for(inner, model), 0..4)
            .prop_map(Value::from)
            .boxed(),
        Ty::Map(inner) => {
            prop::collection::btree_map(any::<String>(), strategy_for(inner, model), 0..4)
                .prop_map(|m| Value::Object(m.into_iter().collect()))
                .boxed()
        }
        Ty::Named(name) => match &model.types[name] {
            TypeDef::Struct(s) => struct_strategy(&s.fields, model),
            TypeDef::Union(u) => {
                let variants: Vec<BoxedStrategy<Value>> = u
                    .variants
                    .iter()
                    .map(|v| {
                        let (tag, content, wire) =
                            (u.tag.clone(), u.content.clone(), v.wire.clone());
                        strategy_for(&Ty::Named(v.ty.clone()), model)
                            .prop_map(move |c| {
                                let mut m = Map::new();
                                m.insert(tag.clone(), Value::from(wire.clone()));
                                m.insert(content.clone(), c);
                                Value::Object(m)
                            })
                            .boxed()
                    })
                    .collect();
                prop::strategy::Union::new(variants).boxed()
            }
        },
    }
}

fn struct_strategy(fields: &[Field], model: &Model) -> BoxedStrategy<Value> {
    let parts: Vec<BoxedStrategy<Option<(String, Value)>>> = fields
        .iter()
        .map(|f| {
            let wire = f.wire.clone();
            let s = strategy_for(&f.ty, model).prop_map(move |v| (wire.clone(), v));
            if f.required {
                s.prop_map(Some).boxed()
            } else {
                prop::option::of(s).boxed()
            }
        })
        .collect();
    parts
        .prop_map(|kv| Value::Object(kv.into_iter().flatten().collect()))
        .boxed()
}

fn request_strategy(id: EndpointId) -> BoxedStrategy<Value> {
    struct_strategy(&endpoint(id).request.fields, model())
}

struct RoundTrip(Value);

impl EndpointVisitor for RoundTrip {
    type Output = Result<(), TestCaseError>;
    fn visit<E: Endpoint>(self) -> Self::Output {
        let typed: E::Request = serde_json::from_value(self.0.clone())
            .map_err(|e| TestCaseError::fail(format!("{}: {e} for {}", E::INFO.command, self.0)))?;
        prop_assert_eq!(&serde_json::to_value(&typed).unwrap(), &self.0);
        let bytes = serde_json::to_vec(&typed).unwrap();
        let back: E::Request = serde_json::from_slice(&bytes).unwrap();
        prop_assert_eq!(back, typed);
        Ok(())
    }
}

struct DecodeBytes(StatusCode, Vec<u8>);

impl EndpointVisitor for DecodeBytes {
    type Output = Result<(), TestCaseError>;
    fn visit<E: Endpoint>(self) -> Self::Output {
        let DecodeBytes(status, body) = self;
        match tim_core::decode::<E>(status, &body) {
            Ok(_) => {
                prop_assert_eq!(status, StatusCode::OK);
            }
            Err(err) => match err.kind() {
                ErrorKind::HttpStatus {
                    status: s, body: b, ..
                } => {
                    prop_assert_eq!(*s, status);
                    prop_assert_eq!(&b[..], &body[..]);
                }
                ErrorKind::Decode { body: b, .. } => prop_assert_eq!(&b[..], &body[..]),
                ErrorKind::Api(e) => prop_assert!(e.code().code() != 0 || !body.is_empty()),
                other => prop_assert!(false, "unexpected error kind {other:?}"),
            },
        }
        Ok(())
    }
}

fn command() -> impl Strategy<Value = EndpointId> {
    prop::sample::select(EndpointId::ALL.to_vec())
}

/// Bodies that look like answers: a real sample, cut or with one byte changed.
fn near_json() -> impl Strategy<Value = Vec<u8>> {
    let samples: Vec<Vec<u8>> = model()
        .endpoints()
        .flat_map(|e| e.samples.iter())
        .map(|s| serde_json::to_vec(&s.response).unwrap())
        .collect();
    (
        prop::sample::select(samples),
        any::<prop::sample::Index>(),
        any::<u8>(),
        0..3u8,
    )
        .prop_map(|(mut s, i, b, how)| {
            let at = i.index(s.len());
            match how {
                0 => s.truncate(at),
                1 => s[at] = b,
                _ => s.insert(at, b),
            }
            s
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]

    #[test]
    fn every_generated_request_round_trips((cmd, value) in command().prop_flat_map(|c| (Just(c), request_strategy(c)))) {
        cmd.visit(RoundTrip(value))?;
    }

    #[test]
    fn decode_never_panics_on_arbitrary_bytes(
        cmd in command(),
        status in prop::sample::select(vec![200u16, 200, 200, 404, 429, 500, 502, 503]),
        body in prop::collection::vec(any::<u8>(), 0..256),
    ) {
        cmd.visit(DecodeBytes(StatusCode::from_u16(status).unwrap(), body))?;
    }

    #[test]
    fn decode_never_panics_on_damaged_answers(cmd in command(), body in near_json()) {
        cmd.visit(DecodeBytes(StatusCode::OK, body))?;
    }

    #[test]
    fn error_codes_round_trip(code in any::<i64>()) {
        prop_assert_eq!(ErrorCode::from(code).code(), code);
        prop_assert_eq!(i64::from(ErrorCode::from(code)), code);
    }

    #[test]
    fn usersig_round_trips(
        identifier in any::<String>(),
        sdkappid in any::<u64>(),
        key in any::<String>(),
        time in any::<u32>(),
        expire in 1u64..(400 * 86_400),
    ) {
        let key = SecretKey::new(key);
        let sig = usersig::generate(sdkappid, &key, &identifier, u64::from(time), expire);
        let claims = usersig::verify(sig.expose(), sdkappid, &identifier, &key, u64::from(time)).unwrap();
        prop_assert_eq!(&claims.identifier, &identifier);
        prop_assert_eq!((claims.sdkappid, claims.time, claims.expire), (sdkappid, u64::from(time), expire));
        let other = SecretKey::new(format!("{}x", key.expose()));
        prop_assert_eq!(
            usersig::verify(sig.expose(), sdkappid, &identifier, &other, u64::from(time)),
            Err(usersig::VerifyError::BadSignature)
        );
    }

    #[test]
    fn usersig_verify_never_panics(sig in ".{0,300}", sdkappid in any::<u64>()) {
        let _ = usersig::verify(&sig, sdkappid, "administrator", &SecretKey::new("k"), 0);
    }
}

#[test]
fn every_known_code_maps_back_to_its_variant() {
    for c in ErrorCode::KNOWN {
        assert_eq!(ErrorCode::from(c.code()), *c);
        assert!(c.meaning().is_some() && c.name().is_some());
    }
}
