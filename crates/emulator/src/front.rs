//! HTTP/1.1 on top of the app: the accept loop, the body limit, latency, faults, the request
//! log, and the routing of `/__emulator/` paths to inspection and admin.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use http::{Method, Request, Response, StatusCode, header};
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use hyper_util::server::graceful::GracefulShutdown;
use tim_core::EndpointId;
use tokio::net::TcpListener;
use tokio::sync::watch;

use crate::app::App;
use crate::auth::QueryParams;
use crate::config::FaultKind;
use crate::faults::{FaultPicker, Instead};
use crate::log::{LOGGED_BODY, RequestLog, RequestRecord};
use crate::reject::envelope;

/// Largest request body read; larger ones are answered 93000 (body too large).
const MAX_BODY: usize = 1024 * 1024;

/// Where the inspection and admin paths live; no real endpoint uses it.
pub const INSPECTION_PREFIX: &str = "/__emulator/";

/// Everything the connections share.
#[derive(Debug)]
pub(crate) struct Shared {
    pub(crate) app: App,
    pub(crate) faults: Mutex<FaultPicker>,
    pub(crate) log: Mutex<RequestLog>,
}

impl Shared {
    pub(crate) fn new(app: App) -> Self {
        Self {
            faults: Mutex::new(FaultPicker::new(app.config.seed, app.config.faults.clone())),
            log: Mutex::new(RequestLog::new(app.config.request_log_capacity)),
            app,
        }
    }
}

/// The error a service returns to make hyper close the connection without an answer.
#[derive(Debug, thiserror::Error)]
#[error("connection dropped on purpose (drop-after-apply fault)")]
pub(crate) struct DropConnection;

pub(crate) async fn accept_loop(
    listener: TcpListener,
    shared: Arc<Shared>,
    mut stop: watch::Receiver<bool>,
) {
    let graceful = GracefulShutdown::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let (stream, peer) = match accepted {
                    Ok(a) => a,
                    Err(e) => {
                        tracing::warn!(error = %e, "accept failed");
                        tokio::time::sleep(Duration::from_millis(10)).await;
                        continue;
                    }
                };
                let _ = stream.set_nodelay(true);
                let shared = shared.clone();
                // Each call runs in a task of its own, so that a call the client gives up on
                // (a timeout, a closed connection) is still handled, applied and logged, as a
                // real server that received it would; only the answer is lost.
                let svc = service_fn(move |req| {
                    let call = tokio::spawn(handle(shared.clone(), req));
                    async move { call.await.unwrap_or(Err(DropConnection)) }
                });
                let conn = http1::Builder::new()
                    .keep_alive(true)
                    .serve_connection(TokioIo::new(stream), svc);
                let conn = graceful.watch(conn);
                tokio::spawn(async move {
                    if let Err(e) = conn.await {
                        tracing::debug!(%peer, error = %e, "connection ended with an error");
                    }
                });
            }
            _ = stop.changed() => break,
        }
    }
    drop(listener);
    if tokio::time::timeout(Duration::from_secs(5), graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!("connections still open after 5 s; stopping anyway");
    }
}

pub(crate) fn json_response(status: StatusCode, body: Vec<u8>) -> Response<Full<Bytes>> {
    let mut resp = Response::new(Full::new(Bytes::from(body)));
    *resp.status_mut() = status;
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        header::HeaderValue::from_static("application/json"),
    );
    resp
}

/// The body, or `Err(None)` when it is over [`MAX_BODY`], or `Err(Some(..))` when the client
/// went away mid-body.
async fn read_body(body: Incoming) -> Result<Bytes, Option<DropConnection>> {
    match Limited::new(body, MAX_BODY).collect().await {
        Ok(b) => Ok(b.to_bytes()),
        Err(e)
            if e.downcast_ref::<http_body_util::LengthLimitError>()
                .is_some() =>
        {
            Err(None)
        }
        Err(e) => {
            tracing::debug!(error = %e, "reading the request body failed");
            Err(Some(DropConnection))
        }
    }
}

async fn handle(
    shared: Arc<Shared>,
    req: Request<Incoming>,
) -> Result<Response<Full<Bytes>>, DropConnection> {
    let path = req.uri().path().to_owned();
    let method = req.method().clone();
    if let Some(what) = path.strip_prefix(INSPECTION_PREFIX) {
        let what = what.to_owned();
        let body = match read_body(req.into_body()).await {
            Ok(b) => b,
            Err(Some(drop)) => return Err(drop),
            Err(None) => Bytes::new(),
        };
        return Ok(crate::inspection::route(&shared, &method, &what, &body));
    }
    let query = req.uri().query().map(str::to_owned);
    let mut record =
        RequestRecord::new(method.to_string(), path.clone(), shared.app.clock.now_ms());
    let body = match read_body(req.into_body()).await {
        Ok(b) => Some(b),
        Err(Some(drop)) => return Err(drop),
        Err(None) => None,
    };
    let latency = shared.app.config.latency;
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }
    record.fault = crate::lock(&shared.faults).pick();
    let result = respond(&shared, &method, &path, query, body, &mut record).await;
    tracing::debug!(
        path = %record.path,
        status = record.status,
        error_code = ?record.error_code,
        fault = ?record.fault,
        "call"
    );
    crate::lock(&shared.log).push(record);
    result
}

async fn respond(
    shared: &Arc<Shared>,
    method: &Method,
    path: &str,
    query: Option<String>,
    body: Option<Bytes>,
    record: &mut RequestRecord,
) -> Result<Response<Full<Bytes>>, DropConnection> {
    let params = QueryParams::parse(query.as_deref().unwrap_or(""));
    record.identifier = params.get("identifier").map(str::to_owned);
    record.random = params.get("random").map(str::to_owned);
    record.command = EndpointId::from_path(path).map(|c| c.command().to_owned());
    let Some(body) = body else {
        let code = tim_core::ErrorCode::BodyTooLarge.code();
        record.error_code = Some(code);
        return Ok(json_response(
            StatusCode::OK,
            envelope(code, "request body too large"),
        ));
    };
    record.body = String::from_utf8_lossy(&body[..body.len().min(LOGGED_BODY)]).into_owned();
    let fault = record.fault;
    match fault.and_then(crate::faults::instead) {
        Some(Instead::Page(resp)) => {
            record.status = resp.status().as_u16();
            return Ok(resp);
        }
        Some(Instead::Envelope(code, info)) => {
            record.error_code = Some(code);
            return Ok(json_response(StatusCode::OK, envelope(code, info)));
        }
        None => {}
    }
    if fault == Some(FaultKind::Delay) {
        tokio::time::sleep(shared.app.config.fault_delay).await;
    }
    let answer = if shared.app.is_durable() {
        let (s, m, p) = (shared.clone(), method.clone(), path.to_owned());
        tokio::task::spawn_blocking(move || s.app.call(&m, &p, query.as_deref(), &body))
            .await
            .map_err(|_| DropConnection)?
    } else {
        shared.app.call(method, path, query.as_deref(), &body)
    };
    record.error_code = Some(answer.code);
    record.unknown_fields = answer.unknown;
    record.null_fields = answer.nulls;
    match fault {
        Some(FaultKind::DropAfterApply) => {
            record.status = 0;
            Err(DropConnection)
        }
        Some(FaultKind::TruncatedBody) => {
            // At least one byte is cut, so the JSON is always incomplete.
            let mut body = answer.body;
            body.truncate(body.len() / 2);
            Ok(json_response(StatusCode::OK, body))
        }
        _ => Ok(json_response(StatusCode::OK, answer.body)),
    }
}
