//! The fault matrix and the secrets scan of `cargo xtask harden` (it runs this example).
//!
//! Every endpoint × both transports × eight faults, against a tim-emulator on loopback: the
//! emulator is told to make the next call suffer the fault (91000, a 502 HTML page, a body cut
//! short, a non-JSON body, a delay past the client's timeout, a connection dropped after the
//! change was applied, 60007, 70001), then the client makes one call. For each cell: the
//! typed error or the successful retry, the attempts the emulator received (from its request
//! log), and whether that matches the retry class of the fault: the spec's class for the API
//! codes (the kind `spec/` gives each code, read through `tim-spec`) and the documented class of the transport
//! outcomes (table below). Idempotent endpoints must be retried for `idempotent-only` and
//! `safe` classes; `im_push` only for `safe` ones, and the emulator (with push deduplication
//! off, so that a repeat would show) must record at most one push per logical push.
//!
//! The whole run is traced at TRACE into a buffer, with every error's Display, alternate
//! Display, Debug and cause chain; the buffer is then searched for the secret key, for every
//! UserSig the client sent (recorded by a wrapper around each transport, not taken from the
//! emulator's log) and for anything shaped like a UserSig (`eJ` and 40 more characters of
//! the UserSig alphabet). The search is first shown to find a planted key and UserSig.
//!
//! Output: one JSON document on stdout. Exit status 1 when a cell does not match or a secret
//! was found. The key comes from `TIM_HARDEN_KEY` (else a random one); it is never printed.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tim_core::bytes::Bytes;
use tim_core::{
    Client, DecodeErrorKind, Endpoint, EndpointId, EndpointVisitor, Error, ErrorKind, FastRandom,
    MakeTransport, RandomSource, RateLimits, RetryPolicy, Sent, Transport, TransportError, http,
};
use tim_emulator::{Emulator, EmulatorHandle, FaultKind};
use tim_spec::Model;

/// The client's per-attempt timeout, and how long the emulator holds a `delay` call.
const CLIENT_TIMEOUT: Duration = Duration::from_millis(300);
const FAULT_DELAY: Duration = Duration::from_millis(800);

/// How safe a repeat is (derived from the kind the spec gives each code).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Class {
    Safe,
    IdempotentOnly,
    Never,
}

impl Class {
    fn name(self) -> &'static str {
        match self {
            Class::Safe => "safe",
            Class::IdempotentOnly => "idempotent-only",
            Class::Never => "never",
        }
    }

    fn from_spec(kind: tim_spec::CodeKind) -> Class {
        use tim_spec::CodeKind;
        match kind {
            CodeKind::Throttled | CodeKind::AuthExpired => Class::Safe,
            CodeKind::Transient => Class::IdempotentOnly,
            CodeKind::Caller | CodeKind::Config | CodeKind::Quota => Class::Never,
        }
    }

    /// Whether a call that failed this way must be repeated.
    fn retried(self, idempotent: bool) -> bool {
        match self {
            Class::Safe => true,
            Class::IdempotentOnly => idempotent,
            Class::Never => false,
        }
    }
}

/// One column of the matrix.
#[derive(Debug, Clone, Copy)]
struct Fault {
    name: &'static str,
    kind: FaultKind,
    /// The API code the fault answers, whose class the spec gives.
    code: Option<i64>,
    /// For the outcomes that are not API codes: the class tim-core documents
    /// (`Error::retry_class`) and the reason.
    class: Option<(Class, &'static str)>,
    /// Whether the emulator applies the call before failing it.
    applied: bool,
}

const FAULTS: [Fault; 8] = [
    Fault {
        name: "91000",
        kind: FaultKind::InternalError,
        code: Some(91000),
        class: None,
        applied: false,
    },
    Fault {
        name: "502 HTML",
        kind: FaultKind::BadGateway,
        code: None,
        class: Some((Class::IdempotentOnly, "HTTP 5xx: the outcome is unknown")),
        applied: false,
    },
    Fault {
        name: "truncated",
        kind: FaultKind::TruncatedBody,
        code: None,
        class: Some((
            Class::IdempotentOnly,
            "an answer cut short: the outcome is unknown",
        )),
        applied: true,
    },
    Fault {
        name: "non-JSON",
        kind: FaultKind::NonJson,
        code: None,
        class: Some((
            Class::IdempotentOnly,
            "a status 200 page that is not JSON (a gateway or proxy): the outcome is unknown",
        )),
        applied: false,
    },
    Fault {
        name: "timeout",
        kind: FaultKind::Delay,
        code: None,
        class: Some((
            Class::IdempotentOnly,
            "no answer in time: the outcome is unknown",
        )),
        applied: true,
    },
    Fault {
        name: "dropped",
        kind: FaultKind::DropAfterApply,
        code: None,
        class: Some((
            Class::IdempotentOnly,
            "connection lost after sending: the outcome is unknown",
        )),
        applied: true,
    },
    Fault {
        name: "60007",
        kind: FaultKind::RateLimited,
        code: Some(60007),
        class: None,
        applied: false,
    },
    Fault {
        name: "70001",
        kind: FaultKind::UsersigExpired,
        code: Some(70001),
        class: None,
        applied: false,
    },
];

/// The typed error a fault must surface as when the call is not repeated.
fn is_expected_error(fault: &Fault, err: &Error) -> bool {
    match fault.kind {
        FaultKind::InternalError | FaultKind::RateLimited | FaultKind::UsersigExpired => {
            err.code().map(|c| c.code()) == fault.code
        }
        FaultKind::BadGateway => {
            matches!(err.kind(), ErrorKind::HttpStatus { status, .. } if status.as_u16() == 502)
        }
        FaultKind::TruncatedBody => matches!(
            err.kind(),
            ErrorKind::Decode {
                kind: DecodeErrorKind::Truncated,
                ..
            }
        ),
        FaultKind::NonJson => matches!(
            err.kind(),
            ErrorKind::Decode {
                kind: DecodeErrorKind::NotJson,
                ..
            }
        ),
        FaultKind::Delay => matches!(err.kind(), ErrorKind::Timeout(_)),
        FaultKind::DropAfterApply => {
            matches!(err.kind(), ErrorKind::Transport(t) if t.sent() == Sent::Maybe)
        }
        _ => false,
    }
}

/// A short name of an error's type, e.g. `Api(91000)`, `Decode(Truncated)`.
fn error_name(err: &Error) -> String {
    match err.kind() {
        ErrorKind::Api(e) => format!("Api({})", e.code().code()),
        ErrorKind::HttpStatus { status, .. } => format!("HttpStatus({})", status.as_u16()),
        ErrorKind::Decode { kind, .. } => format!("Decode({kind:?})"),
        ErrorKind::Timeout(_) => "Timeout".into(),
        ErrorKind::Transport(t) => format!("Transport(sent: {:?})", t.sent()),
        ErrorKind::Invalid(_) => "Invalid".into(),
        other => format!("{other}"),
    }
}

/// A transport that records the UserSig of every request it sends, then lets `T` send it.
struct Recording<T> {
    inner: T,
    usersigs: Arc<Mutex<BTreeSet<String>>>,
}

impl<T: Transport> Transport for Recording<T> {
    fn send(
        &self,
        request: http::Request<Vec<u8>>,
    ) -> impl Future<Output = Result<http::Response<Bytes>, TransportError>> + Send {
        if let Some(query) = request.uri().query() {
            for pair in query.split('&') {
                if let Some(("usersig", sig)) = pair.split_once('=') {
                    let sig = percent_encoding::percent_decode_str(sig)
                        .decode_utf8_lossy()
                        .into_owned();
                    self.usersigs.lock().unwrap().insert(sig);
                }
            }
        }
        self.inner.send(request)
    }

    fn sleep(&self, duration: Duration) -> impl Future<Output = ()> + Send {
        self.inner.sleep(duration)
    }
}

/// Where the TRACE output goes.
#[derive(Clone, Default)]
struct Buffer(Arc<Mutex<Vec<u8>>>);

impl io::Write for Buffer {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Everything an error can show.
fn describe(out: &mut String, e: &Error) {
    let _ = write!(out, "{e}\n{e:#}\n{e:?}\n{e:#?}\n");
    let mut cause = std::error::Error::source(e);
    while let Some(c) = cause {
        let _ = write!(out, "{c}\n{c:?}\n");
        cause = c.source();
    }
}

/// Calls endpoint `E` with a JSON body.
struct CallWith<'a, T> {
    client: &'a Client<Recording<T>>,
    body: Value,
}

type Call<'a> = Pin<Box<dyn Future<Output = Result<(), Error>> + 'a>>;

impl<'a, T: Transport> EndpointVisitor for CallWith<'a, T> {
    type Output = Call<'a>;

    fn visit<E: Endpoint>(self) -> Call<'a> {
        Box::pin(async move {
            let request: E::Request = serde_json::from_value(self.body).unwrap_or_else(|e| {
                panic!("{}: the sample request is typed: {e}", E::INFO.command)
            });
            self.client.call::<E>(request).await.map(|_| ())
        })
    }
}

struct Cell {
    endpoint: &'static str,
    transport: &'static str,
    fault: &'static str,
    idempotent: bool,
    class: Class,
    class_source: String,
    expected_attempts: usize,
    attempts: usize,
    expected_outcome: String,
    outcome: String,
    matched: bool,
    pushes: Option<usize>,
}

fn spec() -> Model {
    let root = std::path::Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/.."));
    tim_spec::load(root).unwrap_or_else(|e| panic!("spec/ is valid:\n{}", e.join("\n")))
}

/// The first request sample of each endpoint, by `service/command`.
fn samples(spec: &Model) -> BTreeMap<String, Value> {
    spec.endpoints()
        .map(|e| {
            let request = e
                .samples
                .iter()
                .find_map(|s| s.request.clone())
                .expect("a request sample");
            (format!("{}/{}", e.service, e.command), request)
        })
        .collect()
}

fn spec_class(spec: &Model, code: i64) -> Class {
    let entry = spec
        .error(code)
        .unwrap_or_else(|| panic!("{code} is in the spec's errors table"));
    Class::from_spec(entry.kind)
}

fn client<T: MakeTransport>(
    emu: &EmulatorHandle,
    key: &str,
    usersigs: &Arc<Mutex<BTreeSet<String>>>,
) -> Client<Recording<T>> {
    let builder = Client::<Recording<T>>::builder()
        .with_sdkappid(emu.sdkappid())
        .with_secret_key(key)
        .with_identifier(emu.admin())
        .with_base_url(emu.base_url().parse().expect("loopback URL"))
        .with_timeout(CLIENT_TIMEOUT)
        // The default policy (4 attempts, classes as documented), with short waits.
        .with_retry_policy(RetryPolicy::default().with_initial_backoff(Duration::from_millis(20)))
        // The emulator runs without limits: the client's own limiter would only add waits.
        .with_rate_limits(RateLimits::off());
    let inner = T::make(builder.transport_config()).expect("transport");
    builder
        .build_with(Recording {
            inner,
            usersigs: usersigs.clone(),
        })
        .expect("client")
}

#[allow(clippy::too_many_arguments)]
async fn run_cell<T: Transport>(
    emu: &EmulatorHandle,
    client: &Client<Recording<T>>,
    transport: &'static str,
    command: EndpointId,
    fault: &Fault,
    spec: &Model,
    sample: &Value,
    shown: &mut String,
) -> Cell {
    let info = command.info();
    let (class, class_source) = match (fault.code, fault.class) {
        (Some(code), _) => (
            spec_class(spec, code),
            format!(
                "the spec's errors table (`spec/`), code {code} ({:?})",
                spec.error(code).map(|e| e.kind)
            ),
        ),
        (None, Some((class, why))) => (
            class,
            format!(
                "not an API code, so not in the spec's table; tim-core documents it (`Error::retry_class`): {why}"
            ),
        ),
        (None, None) => unreachable!("every fault has a class"),
    };
    let retried = class.retried(info.idempotent);
    let expected_attempts = if retried { 2 } else { 1 };
    let mut body = sample.clone();
    let msg_random = client.new_msg_random();
    if command == EndpointId::AllMemberPushPush {
        body["MsgRandom"] = json!(msg_random);
    }
    emu.clear_requests();
    emu.inject_fault(fault.kind);
    let call = command.visit(CallWith { client, body });
    let result = tokio::time::timeout(Duration::from_secs(20), call).await;
    if fault.kind == FaultKind::Delay {
        // The held call is answered (and logged) after the delay.
        tokio::time::sleep(FAULT_DELAY + Duration::from_millis(200)).await;
    }
    let attempts = emu
        .requests()
        .iter()
        .filter(|r| r.command.as_deref() == Some(info.command))
        .count();
    let (outcome, outcome_ok) = match &result {
        Err(_) => ("hung (no result in 20 s)".to_owned(), false),
        Ok(Ok(())) => ("ok".to_owned(), retried),
        Ok(Err(e)) => {
            describe(shown, e);
            (error_name(e), !retried && is_expected_error(fault, e))
        }
    };
    let expected_outcome = if retried {
        "ok".to_owned()
    } else {
        match fault.kind {
            FaultKind::InternalError | FaultKind::RateLimited | FaultKind::UsersigExpired => {
                format!("Api({})", fault.code.unwrap_or_default())
            }
            FaultKind::BadGateway => "HttpStatus(502)".into(),
            FaultKind::TruncatedBody => "Decode(Truncated)".into(),
            FaultKind::NonJson => "Decode(NotJson)".into(),
            FaultKind::Delay => "Timeout".into(),
            FaultKind::DropAfterApply => "Transport(sent: Maybe)".into(),
            _ => "?".into(),
        }
    };
    let pushes = (command == EndpointId::AllMemberPushPush).then(|| {
        emu.pushes()
            .iter()
            .filter(|p| p.request.msg_random == msg_random)
            .count()
    });
    let pushes_ok = match pushes {
        // At most one push per logical push; exactly one when it was applied or retried.
        Some(n) => n == usize::from(fault.applied || retried),
        None => true,
    };
    Cell {
        endpoint: info.command,
        transport,
        fault: fault.name,
        idempotent: info.idempotent,
        class,
        class_source,
        expected_attempts,
        attempts,
        expected_outcome,
        outcome,
        matched: attempts == expected_attempts && outcome_ok && pushes_ok,
        pushes,
    }
}

async fn run_transport<T: MakeTransport>(
    name: &'static str,
    emu: &EmulatorHandle,
    key: &str,
    usersigs: &Arc<Mutex<BTreeSet<String>>>,
    spec: &Model,
    shown: &mut String,
) -> Vec<Cell> {
    let client = client::<T>(emu, key, usersigs);
    let samples = samples(spec);
    // The attribute names the attribute samples use.
    let names = samples["all_member_push/im_set_attr_name"].clone();
    EndpointId::AllMemberPushSetAttrName
        .visit(CallWith {
            client: &client,
            body: names,
        })
        .await
        .expect("attribute names are set");
    // The accounts the account, presence and profile samples name must exist for their calls
    // to succeed (a sample that deletes one leaves a per-item 70107 in an OK answer).
    emu.import_accounts(["test", "UserID_1", "id", "id1", "id2", "id3"])
        .expect("accounts imported");
    let mut cells = Vec::new();
    // Every endpoint the emulator implements.
    for &command in tim_core::EndpointId::ALL
        .iter()
        .filter(|id| tim_emulator::emulates(**id))
    {
        for fault in &FAULTS {
            let sample = &samples[&command.to_string()];
            cells.push(run_cell(emu, &client, name, command, fault, spec, sample, shown).await);
        }
    }
    cells
}

/// Positions of UserSig-shaped tokens: `eJ` (a zlib header in Base64) and at least 40 more
/// characters of the UserSig alphabet.
fn usersig_shaped(text: &str) -> usize {
    let b = text.as_bytes();
    let alphabet = |c: u8| c.is_ascii_alphanumeric() || matches!(c, b'*' | b'-' | b'_');
    let mut count = 0;
    let mut i = 0;
    while i + 1 < b.len() {
        if b[i] == b'e' && b[i + 1] == b'J' && (i == 0 || !alphabet(b[i - 1])) {
            let run = b[i + 2..].iter().take_while(|&&c| alphabet(c)).count();
            if run >= 40 {
                count += 1;
                i += 2 + run;
                continue;
            }
        }
        i += 1;
    }
    count
}

fn occurrences(text: &str, needle: &str) -> usize {
    if needle.is_empty() {
        return 0;
    }
    text.matches(needle).count()
}

/// Counts the key, each recorded UserSig and UserSig-shaped tokens in `text`.
fn secret_hits(text: &str, key: &str, usersigs: &BTreeSet<String>) -> (usize, usize, usize) {
    let key_hits = occurrences(text, key);
    let sig_hits = usersigs.iter().map(|s| occurrences(text, s)).sum();
    (key_hits, sig_hits, usersig_shaped(text))
}

fn main() {
    let key = std::env::var("TIM_HARDEN_KEY").unwrap_or_else(|_| {
        format!(
            "harden-{:016x}{:016x}",
            FastRandom.next_u64(),
            FastRandom.next_u64()
        )
    });
    let logs = Buffer::default();
    let writer = logs.clone();
    tracing::subscriber::set_global_default(
        tracing_subscriber::fmt()
            .with_max_level(tracing::Level::TRACE)
            .with_ansi(false)
            .with_writer(move || writer.clone())
            .finish(),
    )
    .expect("the only subscriber");

    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let started = Instant::now();
    let spec = spec();
    let usersigs = Arc::new(Mutex::new(BTreeSet::new()));
    let mut shown = String::new();
    let cells = runtime.block_on(async {
        let emu = Emulator::builder()
            .with_key(tim_core::SecretKey::new(key.as_str()))
            .with_rate_limits(false)
            // The matrix pushes back to back: no 90024 between its cells.
            .with_push_spacing(false)
            // Off, so that a repeated push would be recorded twice rather than deduplicated.
            .with_push_dedup_window(Duration::ZERO)
            .with_fault_delay(FAULT_DELAY)
            .with_accounts(["xiaojun012", "xiaojun013"])
            .start()
            .await
            .expect("emulator");
        let mut cells = run_transport::<tim_reqwest::ReqwestTransport>(
            "reqwest", &emu, &key, &usersigs, &spec, &mut shown,
        )
        .await;
        cells.extend(
            run_transport::<tim_hyper::HyperTransport>(
                "hyper", &emu, &key, &usersigs, &spec, &mut shown,
            )
            .await,
        );
        emu.shutdown().await;
        cells
    });
    let elapsed = started.elapsed();

    let usersigs = usersigs.lock().unwrap().clone();
    let logs = String::from_utf8_lossy(&logs.0.lock().unwrap()).into_owned();
    let all = format!("{logs}\n{shown}");
    let (key_hits, sig_hits, shaped_hits) = secret_hits(&all, &key, &usersigs);
    // The search finds what it looks for: a planted key and UserSig are counted.
    let planted_sig = usersigs.iter().next().cloned().unwrap_or_default();
    let planted = format!("{all}\nplanted: {key} {planted_sig}\n");
    let (pk, ps, pt) = secret_hits(&planted, &key, &usersigs);
    let self_test = !planted_sig.is_empty()
        && pk == key_hits + 1
        && ps == sig_hits + 1
        && pt == shaped_hits + 1;
    // The trace is not empty: attempts were logged with the redacted URL.
    let traced = logs.contains("tim.attempt") && logs.contains("usersig=<redacted>");

    let push_cells: Vec<&Cell> = cells.iter().filter(|c| c.pushes.is_some()).collect();
    let max_pushes = push_cells
        .iter()
        .filter_map(|c| c.pushes)
        .max()
        .unwrap_or(0);
    let matched = cells.iter().filter(|c| c.matched).count();
    let secrets_ok = key_hits == 0 && sig_hits == 0 && shaped_hits == 0 && self_test && traced;
    let doc = json!({
        "elapsed_s": elapsed.as_secs_f64(),
        "client_timeout_ms": CLIENT_TIMEOUT.as_millis() as u64,
        "fault_delay_ms": FAULT_DELAY.as_millis() as u64,
        "cells": cells.iter().map(|c| json!({
            "endpoint": c.endpoint,
            "transport": c.transport,
            "fault": c.fault,
            "idempotent": c.idempotent,
            "class": c.class.name(),
            "class_source": c.class_source,
            "expected_attempts": c.expected_attempts,
            "attempts": c.attempts,
            "expected_outcome": c.expected_outcome,
            "outcome": c.outcome,
            "pushes_recorded": c.pushes,
            "matched": c.matched,
        })).collect::<Vec<_>>(),
        "summary": {
            "cells": cells.len(),
            "matched": matched,
            "logical_pushes": push_cells.len(),
            "pushes_recorded": push_cells.iter().filter_map(|c| c.pushes).sum::<usize>(),
            "max_pushes_per_logical_push": max_pushes,
        },
        "secrets": {
            "trace_bytes": logs.len(),
            "trace_lines": logs.lines().count(),
            "error_text_bytes": shown.len(),
            "usersigs_recorded": usersigs.len(),
            "key_hits": key_hits,
            "usersig_hits": sig_hits,
            "usersig_shaped_hits": shaped_hits,
            "detector_self_test": self_test,
            "trace_has_attempts": traced,
        },
    });
    println!("{}", serde_json::to_string_pretty(&doc).expect("JSON"));
    if matched != cells.len() || max_pushes > 1 || !secrets_ok {
        std::process::exit(1);
    }
}
