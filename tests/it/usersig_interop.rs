//! UserSig interoperability with Tencent's official libraries, both ways.
//!
//! - `tests/data/usersig_vectors.json`: UserSigs made by the official Python and Node
//!   `tls-sig-api-v2` with a fixed clock (see `tools/usersig-vectors/`); we must verify them.
//! - `tests/data/usersig_invalid.json`: official output tampered with; we must reject each with
//!   the expected reason.
//! - `tests/data/usersig_rust.json`: UserSigs made by this crate, checked by the official
//!   libraries' own HMAC code with `tools/usersig-vectors/verify_rust.py`. This test fails if
//!   our output for those inputs changes, so the file (and its verification) stays current.

use serde::Deserialize;
use tim_core::SecretKey;
use tim_core::usersig::{self, MalformedReason, VerifyError};

fn data(name: &str) -> String {
    std::fs::read_to_string(format!("{}/data/{name}", env!("CARGO_MANIFEST_DIR"))).unwrap()
}

#[derive(Deserialize)]
struct Vector {
    source: String,
    sdkappid: u64,
    identifier: String,
    key: String,
    time: u64,
    expire: u64,
    userbuf_b64: Option<String>,
    usersig: String,
}

#[test]
fn verifies_every_official_vector() {
    let vectors: Vec<Vector> = serde_json::from_str(&data("usersig_vectors.json")).unwrap();
    assert!(vectors.len() >= 20);
    assert!(
        vectors.iter().any(|v| v.source.starts_with("python"))
            && vectors.iter().any(|v| v.source.starts_with("node"))
    );
    for v in &vectors {
        let key = SecretKey::new(v.key.clone());
        let claims = usersig::verify(&v.usersig, v.sdkappid, &v.identifier, &key, v.time)
            .unwrap_or_else(|e| panic!("{} {:?}: {e}", v.source, v.identifier));
        assert_eq!(
            (claims.time, claims.expire),
            (v.time, v.expire),
            "{}",
            v.source
        );
        use base64::Engine as _;
        let userbuf = v
            .userbuf_b64
            .as_ref()
            .map(|b| base64::engine::general_purpose::STANDARD.decode(b).unwrap());
        assert_eq!(claims.userbuf, userbuf, "{}", v.source);
        // Expired one second after time + expire, valid at the last second.
        assert!(
            usersig::verify(
                &v.usersig,
                v.sdkappid,
                &v.identifier,
                &key,
                v.time + v.expire
            )
            .is_ok()
        );
        assert_eq!(
            usersig::verify(
                &v.usersig,
                v.sdkappid,
                &v.identifier,
                &key,
                v.time + v.expire + 1
            ),
            Err(VerifyError::Expired {
                expired_at: v.time + v.expire,
                now: v.time + v.expire + 1
            })
        );
        // A wrong key never verifies.
        let wrong = SecretKey::new(format!("{}0", v.key));
        assert_eq!(
            usersig::verify(&v.usersig, v.sdkappid, &v.identifier, &wrong, v.time),
            Err(VerifyError::BadSignature)
        );
        // Ours for the same inputs carries the same claims.
        let ours = match &userbuf {
            Some(b) => {
                usersig::generate_with_userbuf(v.sdkappid, &key, &v.identifier, v.time, v.expire, b)
            }
            None => usersig::generate(v.sdkappid, &key, &v.identifier, v.time, v.expire),
        };
        assert_eq!(
            usersig::verify(ours.expose(), v.sdkappid, &v.identifier, &key, v.time).unwrap(),
            claims
        );
    }
}

#[derive(Deserialize)]
struct Invalid {
    case: String,
    sdkappid: u64,
    identifier: String,
    key: String,
    usersig: String,
    expect: String,
}

#[test]
fn rejects_every_tampered_vector_with_the_right_reason() {
    let cases: Vec<Invalid> = serde_json::from_str(&data("usersig_invalid.json")).unwrap();
    assert!(cases.len() >= 6);
    for c in &cases {
        // Issued around 1700000000: check at that time so that expiry plays no part.
        let got = usersig::verify(
            &c.usersig,
            c.sdkappid,
            &c.identifier,
            &SecretKey::new(c.key.clone()),
            1_700_000_000,
        );
        let ok = match c.expect.as_str() {
            "bad_signature" => got == Err(VerifyError::BadSignature),
            "malformed" => matches!(got, Err(VerifyError::Malformed(_))),
            "sdkappid_mismatch" => matches!(got, Err(VerifyError::SdkAppIdMismatch { .. })),
            "identifier_mismatch" => matches!(got, Err(VerifyError::IdentifierMismatch { .. })),
            other => panic!("unknown expectation {other}"),
        };
        assert!(ok, "{}: expected {}, got {got:?}", c.case, c.expect);
    }
    assert!(cases.iter().any(|c| c.case == "not_zlib"));
    assert_eq!(
        usersig::decode(""),
        Err(VerifyError::Malformed(MalformedReason::Empty))
    );
}

#[derive(Deserialize, serde::Serialize, PartialEq, Debug)]
struct Ours {
    sdkappid: u64,
    identifier: String,
    key: String,
    time: u64,
    expire: u64,
    usersig: String,
}

#[test]
fn our_vectors_are_current() {
    let vectors: Vec<Vector> = serde_json::from_str(&data("usersig_vectors.json")).unwrap();
    let ours: Vec<Ours> = vectors
        .iter()
        .filter(|v| v.userbuf_b64.is_none())
        .map(|v| Ours {
            sdkappid: v.sdkappid,
            identifier: v.identifier.clone(),
            key: v.key.clone(),
            time: v.time,
            expire: v.expire,
            usersig: usersig::generate(
                v.sdkappid,
                &SecretKey::new(v.key.clone()),
                &v.identifier,
                v.time,
                v.expire,
            )
            .expose()
            .to_owned(),
        })
        .collect();
    let path = format!("{}/data/usersig_rust.json", env!("CARGO_MANIFEST_DIR"));
    if std::env::var_os("UPDATE_USERSIG_RUST").is_some() {
        std::fs::write(&path, serde_json::to_string_pretty(&ours).unwrap() + "\n").unwrap();
    }
    let committed: Vec<Ours> = serde_json::from_str(&data("usersig_rust.json")).unwrap();
    assert_eq!(
        committed, ours,
        "our UserSig output changed: rerun with UPDATE_USERSIG_RUST=1, then check it with tools/usersig-vectors/verify_rust.py"
    );
}
