//! The README's "Retries and rate limits" table, checked against `tim_core::classify` and the
//! default `RetryPolicy`: every row's class, whether it is repeated for idempotent endpoints and
//! for `im_push`, the wait, and whether the rate limiter slows down; and the codes the rows list
//! are exactly the spec's codes of that kind.

use std::collections::BTreeSet;
use std::time::Duration;

use tim_core::bytes::Bytes;
use tim_core::http::StatusCode;
use tim_core::{
    ApiError, BaseUrlError, CodeKind, DecodeErrorKind, Error, ErrorCode, ErrorKind, RetryClass,
    RetryDecision, RetryPolicy, Sent, TransportError, classify,
};

const README: &str = include_str!("../../README.md");

/// The table's rows, each as its cells.
fn rows() -> Vec<Vec<String>> {
    let section = README
        .split("\n## Retries and rate limits\n")
        .nth(1)
        .expect("the README has a section \"Retries and rate limits\"");
    let section = section.split("\n## ").next().unwrap();
    section
        .lines()
        .skip_while(|l| !l.starts_with('|'))
        .take_while(|l| l.starts_with('|'))
        .skip(2) // the header and its separator
        .map(|l| {
            l.trim()
                .trim_matches('|')
                .split('|')
                .map(|c| c.trim().to_owned())
                .collect()
        })
        .collect()
}

fn codes_of(kinds: &[CodeKind]) -> Vec<i64> {
    crate::spec_json::model()
        .errors
        .iter()
        .map(|e| e.code)
        .filter(|c| {
            ErrorCode::from(*c)
                .kind()
                .is_some_and(|k| kinds.contains(&k))
        })
        .collect()
}

fn api(codes: &[i64]) -> Vec<Error> {
    codes
        .iter()
        .map(|c| Error::from(ApiError::new(*c, "")))
        .collect()
}

fn status(codes: &[u16]) -> Vec<Error> {
    codes
        .iter()
        .map(|c| {
            Error::from(ErrorKind::http_status(
                StatusCode::from_u16(*c).unwrap(),
                Bytes::from_static(b"<html></html>"),
            ))
        })
        .collect()
}

fn decode(kinds: &[(DecodeErrorKind, &'static [u8])]) -> Vec<Error> {
    kinds
        .iter()
        .map(|(k, b)| Error::from(ErrorKind::decode(*k, Bytes::from_static(b), None)))
        .collect()
}

/// The codes a cell lists (numbers of five digits).
fn listed_codes(cell: &str) -> BTreeSet<i64> {
    cell.split(|c: char| !c.is_ascii_digit())
        .filter(|w| w.len() == 5)
        .map(|w| w.parse().unwrap())
        .collect()
}

#[test]
fn the_readme_retry_table_matches_classify() {
    let throttled = codes_of(&[CodeKind::Throttled]);
    let transient = codes_of(&[CodeKind::Transient]);
    let auth = codes_of(&[CodeKind::AuthExpired]);
    let mut finals = codes_of(&[CodeKind::Caller, CodeKind::Config, CodeKind::Quota]);
    finals.push(123_456_789); // a code nobody documented
    assert_eq!(auth, [70001]);

    // (what the first cell says, example errors), in the table's order.
    let cases: Vec<(&str, Vec<Error>)> = vec![
        (
            "refused before sending",
            vec![
                Error::from(BaseUrlError::QueryNotAllowed),
                Error::from(ErrorKind::Encode(
                    serde_json::from_str::<u8>("x").unwrap_err(),
                )),
            ],
        ),
        ("a `throttled` code", api(&throttled)),
        ("`HttpStatus` 429", status(&[429])),
        ("`Api` 70001", api(&auth)),
        ("a `transient` code", api(&transient)),
        ("a `caller`, `config` or `quota` code", api(&finals)),
        ("`HttpStatus` 5xx", status(&[500, 502, 503, 504])),
        (
            "`HttpStatus`, any other status",
            status(&[301, 400, 403, 404]),
        ),
        (
            "empty, or JSON cut short",
            decode(&[
                (DecodeErrorKind::Empty, b""),
                (DecodeErrorKind::Truncated, b"{\"ActionStatus\":"),
            ]),
        ),
        (
            "not JSON",
            decode(&[(DecodeErrorKind::NotJson, b"<html>maintenance</html>")]),
        ),
        (
            "not the expected envelope",
            decode(&[(DecodeErrorKind::Shape, b"[\"not\",\"an\",\"envelope\"]")]),
        ),
        (
            "`Sent::No`",
            vec![
                Error::from(TransportError::new(Sent::No, "refused")),
                Error::from(TransportError::timed_out(Sent::No, "connect")),
            ],
        ),
        (
            "`Sent::Maybe`",
            vec![Error::from(TransportError::new(Sent::Maybe, "reset"))],
        ),
        (
            "`Timeout`",
            vec![Error::from(ErrorKind::Timeout(Duration::from_secs(10)))],
        ),
    ];
    let rows = rows();
    assert_eq!(
        rows.len(),
        cases.len(),
        "one row per way of failing: {rows:#?}"
    );
    let policy = RetryPolicy::default();
    let opted_in = policy.with_non_idempotent_retries(true);
    for (row, (needle, errors)) in rows.iter().zip(&cases) {
        let [failure, class, idempotent, push, wait, limiter] = row.as_slice() else {
            panic!("six cells: {row:?}")
        };
        assert!(
            failure.contains(needle),
            "{failure:?} is the row of {needle:?}"
        );
        for e in errors {
            let verdict = classify(e);
            let shown = match verdict.retry {
                None => "none",
                Some(RetryClass::Safe) => "`Safe`",
                Some(RetryClass::IdempotentOnly) => "`IdempotentOnly`",
                Some(RetryClass::Never) => "`Never`",
                Some(_) => "an unknown class",
            };
            assert_eq!(class, shown, "{needle}: {e:?}");
            let decide =
                |p: RetryPolicy, idempotent: bool| p.decide(1, Duration::ZERO, e, idempotent, 0);
            let repeated = |cell: &str, idempotent: bool| match decide(policy, idempotent) {
                RetryDecision::RetryAfter(_) => {
                    assert!(cell.starts_with("yes"), "{needle}: {cell}")
                }
                RetryDecision::Stop if verdict.resign => {
                    assert!(cell.starts_with("once"), "{needle}: {cell}")
                }
                RetryDecision::Stop => assert!(cell.starts_with("no"), "{needle}: {cell}"),
            };
            repeated(idempotent, true);
            repeated(push, false);
            // The opt-in repeats exactly the IdempotentOnly class for im_push.
            let opt_in = matches!(decide(opted_in, false), RetryDecision::RetryAfter(_))
                && !matches!(decide(policy, false), RetryDecision::RetryAfter(_));
            assert_eq!(
                opt_in,
                push.contains("with_non_idempotent_retries") || push.contains("opt-in"),
                "{needle}: {push}"
            );
            // The wait: with a jitter of zero, the throttle floor or nothing.
            match decide(policy, true) {
                RetryDecision::RetryAfter(d) if d == policy.throttle_backoff() => {
                    assert!(wait.starts_with("1 s"), "{needle}: {wait}");
                    assert_eq!(policy.throttle_backoff(), Duration::from_secs(1));
                }
                RetryDecision::RetryAfter(d) => {
                    assert_eq!(d, Duration::ZERO);
                    assert!(wait.starts_with("*U(0..b(n))*"), "{needle}: {wait}");
                }
                RetryDecision::Stop if verdict.resign => assert_eq!(wait, "none"),
                RetryDecision::Stop => assert_eq!(wait, "—", "{needle}"),
            }
            assert_eq!(
                verdict.throttled,
                limiter.contains("pauses") || limiter.contains("as for a `throttled` code"),
                "{needle}: {limiter}"
            );
        }
    }
    // The rows that list codes list exactly the spec's codes of their kind.
    assert_eq!(
        listed_codes(&rows[1][0]),
        throttled.iter().copied().collect::<BTreeSet<_>>()
    );
    assert_eq!(
        listed_codes(&rows[4][0]),
        transient.iter().copied().collect::<BTreeSet<_>>()
    );
}
