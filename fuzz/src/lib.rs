//! The properties the fuzz targets check, one function per target.
//!
//! The same file is compiled into the normal test suite (`tests/it/fuzz_regressions.rs`), which
//! replays every seed in `fuzz/seeds/<target>/` and every crash input kept in
//! `tests/data/fuzz-regressions/<target>/` through these functions: a crash found once stays a
//! failing test until it is fixed. Each function panics when a property does not hold.

use std::fmt::Write as _;

use tim_cli::bulk_input::{Lines, parse_line};
use tim_core::ErrorKind;
use tim_core::http::StatusCode;
use tim_core::usersig::{self, VerifyError};
use tim_core::{
    Batch, BatchVisitor, Endpoint, EndpointId, EndpointVisitor, SecretKey, Validate, decode,
};

/// A target's check: panics when a property does not hold for the input.
pub type Check = fn(&[u8]);

/// The fuzz targets, by name: `(name, check)`.
pub const TARGETS: &[(&str, Check)] = &[
    ("decode", check_decode),
    ("usersig", check_usersig),
    ("bulk_line", check_bulk_line),
];

/// Everything an error can show: Display, alternate Display, Debug and the cause chain. Only
/// formatting it is checked (it must not panic).
fn describe(e: &dyn std::error::Error) -> String {
    let mut out = String::new();
    let _ = write!(out, "{e}\n{e:#}\n{e:?}\n");
    let mut cause = e.source();
    while let Some(c) = cause {
        let _ = write!(out, "{c}\n{c:?}\n");
        cause = c.source();
    }
    out
}

/// The HTTP status and the body a decode input stands for: the first two bytes pick the status
/// (three in four inputs are 200, so that most of the effort goes into the body), the rest is
/// the body.
pub fn decode_input(data: &[u8]) -> (StatusCode, &[u8]) {
    let Some((head, body)) = data.split_first_chunk::<2>() else {
        return (StatusCode::OK, data);
    };
    let n = u16::from_le_bytes(*head);
    let status = if n % 4 != 0 {
        StatusCode::OK
    } else {
        StatusCode::from_u16(100 + (n / 4) % 900).unwrap_or(StatusCode::OK)
    };
    (status, body)
}

/// Response decoding, for every endpoint (`EndpointId::ALL`), on any status and any bytes:
/// - it never panics;
/// - a success is only ever decoded from HTTP 200 with an `OK` envelope, and re-encoding the
///   typed response gives JSON that decodes to the same value;
/// - a non-200 status is always `ErrorKind::HttpStatus` with the body kept byte for byte;
/// - a 200 that is not a success is `ErrorKind::Api` or `ErrorKind::Decode` (body kept byte for byte),
///   never an error that only sending can produce;
/// - every error formats (Display, Debug, causes) and has a retry class.
pub fn check_decode(data: &[u8]) {
    let (status, body) = decode_input(data);
    for command in EndpointId::ALL {
        command.visit(DecodeCheck { status, body });
    }
}

struct DecodeCheck<'a> {
    status: StatusCode,
    body: &'a [u8],
}

impl EndpointVisitor for DecodeCheck<'_> {
    type Output = ();

    fn visit<E: Endpoint>(self) {
        let command = E::INFO.command;
        match decode::<E>(self.status, self.body) {
            Ok(response) => {
                assert_eq!(
                    self.status,
                    StatusCode::OK,
                    "{command}: success from a non-200"
                );
                // The payload, re-encoded as a success answer, decodes to the same value.
                let bytes = tim_core::encode_answer::<E>(&response);
                let again = decode::<E>(StatusCode::OK, &bytes)
                    .unwrap_or_else(|e| panic!("{command}: the re-encoded answer decodes: {e}"));
                assert_eq!(
                    again, response,
                    "{command}: decode, encode, decode round trip"
                );
            }
            Err(err) => {
                match err.kind() {
                    ErrorKind::HttpStatus { status, body, .. } => {
                        assert_ne!(self.status, StatusCode::OK, "{command}: 200 as HttpStatus");
                        assert_eq!(*status, self.status, "{command}: status kept");
                        assert_eq!(&body[..], self.body, "{command}: body kept");
                    }
                    ErrorKind::Decode { body, .. } => {
                        assert_eq!(self.status, StatusCode::OK, "{command}: non-200 decoded");
                        assert_eq!(&body[..], self.body, "{command}: body kept");
                    }
                    ErrorKind::Api(_) => {
                        assert_eq!(self.status, StatusCode::OK, "{command}: non-200 as Api");
                    }
                    other => panic!("{command}: decode produced {other:?}"),
                }
                assert!(
                    err.retry_class().is_some(),
                    "{command}: an answer has a class"
                );
                let _ = err.is_throttled();
                let _ = err.code();
                let _ = describe(&err);
            }
        }
    }
}

/// The SDKAppID, identifier, key and time arbitrary strings are verified against.
const SDKAPPID: u64 = 1_400_000_000;
const IDENTIFIER: &str = "administrator";
const KEY: &str = "fuzz-key-not-a-secret";
const NOW: u64 = 1_700_000_000;

/// UserSig decoding and verification:
/// - any string (the input, as lossy UTF-8): `decode` and `verify` never panic; a UserSig that
///   verifies also decodes to the same claims, is for the expected SDKAppID and identifier,
///   and has not expired; errors format;
/// - a UserSig generated from fuzzed fields (SDKAppID, issue time, validity from the first 24
///   bytes, identifier from the rest) verifies at its issue time with the same claims, and
///   fails with `BadSignature` under another key.
pub fn check_usersig(data: &[u8]) {
    let key = SecretKey::new(KEY);
    let text = String::from_utf8_lossy(data);
    let decoded = usersig::decode(&text);
    let verified = usersig::verify(&text, SDKAPPID, IDENTIFIER, &key, NOW);
    match (&decoded, &verified) {
        (_, Ok(claims)) => {
            assert_eq!(
                decoded.as_ref().ok(),
                Some(claims),
                "verified implies decoded"
            );
            assert_eq!(claims.sdkappid, SDKAPPID);
            assert_eq!(claims.identifier, IDENTIFIER);
            assert!(!claims.is_expired_at(NOW));
        }
        (Err(d), Err(v)) => {
            assert_eq!(
                d, v,
                "a string that does not decode fails verification the same way"
            );
        }
        (Ok(_), Err(e)) => {
            assert!(
                !matches!(e, VerifyError::Malformed(_)),
                "decoded but malformed: {e}"
            );
        }
    }
    if let Err(e) = &verified {
        let _ = describe(e);
    }

    let Some((fields, rest)) = data.split_first_chunk::<24>() else {
        return;
    };
    let word = |i: usize| {
        let mut b = [0u8; 8];
        b.copy_from_slice(&fields[i * 8..i * 8 + 8]);
        u64::from_le_bytes(b)
    };
    let (sdkappid, time, expire) = (word(0), word(1), word(2));
    let identifier = String::from_utf8_lossy(rest);
    let sig = usersig::generate(sdkappid, &key, &identifier, time, expire);
    let claims = usersig::verify(sig.expose(), sdkappid, &identifier, &key, time)
        .unwrap_or_else(|e| panic!("a fresh UserSig verifies at its issue time: {e}"));
    assert_eq!(
        (
            claims.sdkappid,
            claims.identifier.as_str(),
            claims.time,
            claims.expire
        ),
        (sdkappid, &*identifier, time, expire),
        "claims round trip"
    );
    assert_eq!(usersig::decode(sig.expose()).as_ref(), Ok(&claims));
    assert_eq!(
        usersig::verify(
            sig.expose(),
            sdkappid,
            &identifier,
            &SecretKey::new("other"),
            time
        ),
        Err(VerifyError::BadSignature),
        "another key"
    );
}

/// The bulk line parser, for every batch endpoint, on every line of the input (read with the
/// CLI's own line reader):
/// - it never panics;
/// - `Ok(None)` only for blank and `#` comment lines;
/// - an item it accepts passes the endpoint's documented limits, and the item re-encoded as a
///   line parses back to the same item;
/// - a refusal names the line's number and says why.
pub fn check_bulk_line(data: &[u8]) {
    let mut lines = Lines::new(data);
    let mut count = 0u64;
    while let Ok(Some((n, raw))) = lines.next_line() {
        count += 1;
        assert_eq!(n, count, "lines are numbered from 1");
        // Every batch endpoint of the registry.
        for id in EndpointId::ALL {
            let _ = id.visit_batch(CheckLine(n, raw));
        }
    }
}

/// Runs [`check_line`] for one batch endpoint chosen at run time.
struct CheckLine<'a>(u64, &'a [u8]);

impl BatchVisitor for CheckLine<'_> {
    type Output = ();
    fn visit<E: Batch>(self) {
        check_line::<E>(self.0, self.1);
    }
}

fn check_line<E: Batch>(n: u64, raw: &[u8]) {
    let command = E::INFO.command;
    match parse_line::<E>(n, raw) {
        Ok(None) => {
            let text = std::str::from_utf8(raw).map(str::trim);
            assert!(
                matches!(text, Ok(t) if t.is_empty() || t.starts_with('#')),
                "{command}: only blank and comment lines are skipped"
            );
        }
        Ok(Some(item)) => {
            if let Err(e) = E::request_from_items(vec![item.clone()]).validate() {
                panic!("{command}: an accepted line breaks a limit: {e}");
            }
            let line = serde_json::to_vec(&item)
                .unwrap_or_else(|e| panic!("{command}: an accepted item re-encodes: {e}"));
            assert_eq!(
                parse_line::<E>(n, &line),
                Ok(Some(item)),
                "{command}: item, line, item round trip"
            );
        }
        Err(e) => {
            assert_eq!(e.line, n, "{command}: the error names the line");
            assert!(!e.message.is_empty(), "{command}: the error says why");
            assert!(e.to_string().starts_with(&format!("line {n}: ")));
        }
    }
}
