//! `/__emulator/*`: read-only inspection (`GET`) and the admin paths (`POST`) that set what only
//! a real client or time could create. No authentication (a loopback test server); nothing
//! here ever shows the key or a UserSig.

use bytes::Bytes;
use http::{Method, Response, StatusCode};
use http_body_util::Full;
use serde::Deserialize;
use serde_json::json;
use tim_core::EndpointId;

use crate::config::FaultKind;
use crate::front::{Shared, json_response};
use crate::state::StateSnapshot;

const GET_PATHS: &str = "GET /__emulator/state (or state/<section>), pushes, messages, requests, events, endpoints, config; POST /__emulator/clock, accounts, logins, item-failures, faults";

fn error(status: StatusCode, message: &str) -> Response<Full<Bytes>> {
    let body = serde_json::to_vec(&json!({ "error": message })).unwrap_or_default();
    json_response(status, body)
}

fn ok_json(value: serde_json::Result<Vec<u8>>) -> Response<Full<Bytes>> {
    match value {
        Ok(b) => json_response(StatusCode::OK, b),
        Err(_) => error(StatusCode::INTERNAL_SERVER_ERROR, "could not serialize"),
    }
}

pub(crate) fn route(
    shared: &Shared,
    method: &Method,
    what: &str,
    body: &[u8],
) -> Response<Full<Bytes>> {
    match *method {
        Method::GET => inspect(shared, what),
        Method::POST => admin(shared, what, body),
        _ => error(
            StatusCode::METHOD_NOT_ALLOWED,
            "inspection paths take GET, admin paths POST",
        ),
    }
}

fn inspect(shared: &Shared, what: &str) -> Response<Full<Bytes>> {
    let app = &shared.app;
    match what {
        "state" => ok_json(serde_json::to_vec(&app.read(crate::state::State::snapshot))),
        "pushes" => ok_json(serde_json::to_vec(
            &app.read(|s| s.all_member_push.pushes.clone()),
        )),
        "requests" => ok_json(serde_json::to_vec(&crate::lock(&shared.log).entries)),
        "events" => ok_json(serde_json::to_vec(&app.events.recorded())),
        "messages" => ok_json(serde_json::to_vec(&app.read(|s| s.messages.c2c.clone()))),
        "endpoints" => {
            let list: Vec<_> = EndpointId::ALL
                .iter()
                .map(|id| {
                    json!({
                        "service": id.service(),
                        "command": id.command(),
                        "path": id.info().path(),
                        "emulated": app.emulates(*id),
                    })
                })
                .collect();
            ok_json(serde_json::to_vec(&list))
        }
        "config" => {
            let c = &app.config;
            ok_json(serde_json::to_vec(&json!({
                "sdkappid": c.sdkappid,
                "admins": c.admins,
                "rate_limits": c.rate_limits,
                "push_spacing": c.push_spacing,
                "daily_push_quota": c.daily_push_quota,
                "push_dedup_window_ms": u64::try_from(c.push_dedup_window.as_millis()).unwrap_or(u64::MAX),
                "strict": c.strict,
                "durable": c.state_file.is_some(),
                "faults": c.faults.iter().map(ToString::to_string).collect::<Vec<_>>(),
                "latency_ms": u64::try_from(c.latency.as_millis()).unwrap_or(u64::MAX),
                "now_unix_ms": app.clock.now_ms(),
            })))
        }
        other => match other.strip_prefix("state/") {
            Some(section) => match app.read(crate::state::State::snapshot).section(section) {
                Some(v) => ok_json(serde_json::to_vec(&v)),
                None => error(
                    StatusCode::NOT_FOUND,
                    &format!(
                        "no state section {section:?}; sections: {}",
                        StateSnapshot::SECTIONS.join(", ")
                    ),
                ),
            },
            None => error(
                StatusCode::NOT_FOUND,
                &format!("unknown inspection path; try {GET_PATHS}"),
            ),
        },
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ClockJump {
    advance_ms: i64,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Accounts {
    accounts: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Login {
    account: String,
    platform: String,
    status: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ItemFailures {
    accounts: Vec<String>,
    code: i64,
    #[serde(default)]
    info: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Fault {
    kind: String,
}

/// A refusal of an admin call: the status and message of its answer.
type Refusal = (StatusCode, String);

fn parse<'a, T: Deserialize<'a>>(body: &'a [u8], example: &str) -> Result<T, Refusal> {
    serde_json::from_slice(body).map_err(|e| {
        (
            StatusCode::BAD_REQUEST,
            format!("bad body ({e}); expected e.g. {example}"),
        )
    })
}

fn admin(shared: &Shared, what: &str, body: &[u8]) -> Response<Full<Bytes>> {
    let app = &shared.app;
    // A state section is read-only like the whole state.
    let name = if what.starts_with("state/") {
        "state"
    } else {
        what
    };
    let result = match name {
        "state" | "pushes" | "requests" | "events" | "messages" | "endpoints" | "config" => Err((
            StatusCode::METHOD_NOT_ALLOWED,
            format!("/__emulator/{what} is read-only: use GET"),
        )),
        "clock" => parse::<ClockJump>(body, r#"{"advance_ms": 86400000}"#).map(|j| {
            app.clock.jump(j.advance_ms);
            tracing::info!(
                advance_ms = j.advance_ms,
                "clock moved through the admin path"
            );
            json!({ "now_unix_ms": app.clock.now_ms() })
        }),
        "accounts" => parse::<Accounts>(body, r#"{"accounts": ["alice", "bob"]}"#).and_then(|a| {
            match app.import_accounts(a.accounts, "admin") {
                Ok(()) => Ok(json!({ "accounts": app.read(|s| s.accounts.len()) })),
                Err(r) => Err((StatusCode::INTERNAL_SERVER_ERROR, r.info)),
            }
        }),
        "logins" => parse::<Login>(
            body,
            r#"{"account": "alice", "platform": "iPhone", "status": "Online"}"#,
        )
        .and_then(|l| match app.set_login(&l.account, &l.platform, &l.status) {
            Ok(()) => Ok(json!({ "account": l.account, "logins": app.read(|s| s.presence.logins.get(&l.account).cloned().unwrap_or_default()) })),
            Err(r) if r.code == tim_core::ErrorCode::InternalError.code() => {
                Err((StatusCode::INTERNAL_SERVER_ERROR, r.info))
            }
            Err(r) => Err((StatusCode::BAD_REQUEST, r.info)),
        }),
        "item-failures" => parse::<ItemFailures>(
            body,
            r#"{"accounts": ["bob"], "code": 70500, "info": "internal error"} (code 0 clears)"#,
        )
        .map(|f| {
            let mut all = crate::lock(&app.item_failures);
            for a in f.accounts {
                if f.code == 0 {
                    all.remove(&a);
                } else {
                    all.insert(a, (f.code, f.info.clone()));
                }
            }
            json!({ "item_failures": all.len() })
        }),
        "faults" => parse::<Fault>(body, r#"{"kind": "internal-error"}"#).and_then(|f| {
            match f.kind.parse::<FaultKind>() {
                Ok(kind) => {
                    crate::lock(&shared.faults).force(kind);
                    Ok(json!({ "next_call": f.kind }))
                }
                Err(e) => Err((StatusCode::BAD_REQUEST, e.to_string())),
            }
        }),
        _ => Err((
            StatusCode::NOT_FOUND,
            format!("unknown admin path; try {GET_PATHS}"),
        )),
    };
    match result {
        Ok(v) => ok_json(serde_json::to_vec(&v)),
        Err((status, message)) => error(status, &message),
    }
}
