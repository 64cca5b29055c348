//! HTTP/1.1 on top of the service: the accept loop, fault injection, latency, the request log,
//! the inspection paths, and the handle that owns a running emulator.

use std::collections::VecDeque;
use std::fmt;
use std::future::Future;
use std::net::SocketAddr;
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
use serde::{Deserialize, Serialize};
use tim_core::{EndpointId, SecretKey, Signer, UserSig, usersig};
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::api::{Service, envelope};
use crate::clock::{Clock, SystemClock};
use crate::config::{Config, ConfigError, FaultKind, FaultSpec};
use crate::model::{PushRecord, StateSnapshot};
use crate::store::StateFileError;

/// Largest request body read; larger ones are answered 93000 (body too large).
const MAX_BODY: usize = 1024 * 1024;

/// Bytes of a request body kept in the request log.
const LOGGED_BODY: usize = 16 * 1024;

/// Where the read-only inspection paths live; no real endpoint uses it.
pub const INSPECTION_PREFIX: &str = "/__emulator/";

/// The HTML a gateway sends with a 502.
const BAD_GATEWAY_HTML: &str = "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>stgw</center>\r\n</body>\r\n</html>\r\n";

/// The page a misconfigured proxy sends with a 200 (the `non-json` fault).
const MAINTENANCE_HTML: &str = "<!DOCTYPE html>\r\n<html><head><title>Service maintenance</title></head>\r\n<body><h1>We'll be back soon</h1></body></html>\r\n";

/// Entry point: `Emulator::builder()...start().await`.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), tim_emulator::StartError> {
/// let emu = tim_emulator::Emulator::builder().start().await?;
/// assert!(emu.base_url().starts_with("http://127.0.0.1:"));
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, Copy)]
pub struct Emulator;

impl Emulator {
    /// A builder with the default [`Config`].
    pub fn builder() -> EmulatorBuilder {
        EmulatorBuilder::default()
    }

    /// Runs an emulator with `config` until Ctrl-C or SIGTERM ([`shutdown_signal`]), then shuts
    /// down gracefully: the whole of a long-running `serve` command. `on_ready` is called with
    /// the running handle first (e.g. to print [`EmulatorHandle::base_url`]; never print the key).
    ///
    /// ```no_run
    /// # #[tokio::main]
    /// # async fn main() -> Result<(), tim_emulator::StartError> {
    /// tim_emulator::Emulator::serve(tim_emulator::Config::default(), |emu| {
    ///     println!("listening on {}", emu.base_url());
    /// })
    /// .await
    /// # }
    /// ```
    pub async fn serve(
        config: Config,
        on_ready: impl FnOnce(&EmulatorHandle),
    ) -> Result<(), StartError> {
        let emu = Emulator::builder().with_config(config).start().await?;
        on_ready(&emu);
        emu.run_until(shutdown_signal()).await;
        Ok(())
    }
}

/// Configures and starts an emulator.
#[derive(Debug, Default)]
pub struct EmulatorBuilder {
    config: Config,
    admins_set: bool,
    clock: Option<Arc<dyn Clock>>,
}

impl EmulatorBuilder {
    /// Starts from `config` (what `tim emulator serve` builds from its flags).
    #[must_use]
    pub fn with_config(mut self, config: Config) -> Self {
        self.config = config;
        self.admins_set = true;
        self
    }

    /// Listens on `addr` instead of `127.0.0.1:0`.
    #[must_use]
    pub fn with_bind(mut self, addr: SocketAddr) -> Self {
        self.config.bind = addr;
        self
    }

    /// Listens on this port of 127.0.0.1 (0: any free port).
    #[must_use]
    pub fn with_port(mut self, port: u16) -> Self {
        self.config.bind.set_port(port);
        self
    }

    /// The app's SDKAppID.
    #[must_use]
    pub fn with_sdkappid(mut self, sdkappid: u64) -> Self {
        self.config.sdkappid = sdkappid;
        self
    }

    /// The app's secret key.
    #[must_use]
    pub fn with_key(mut self, key: SecretKey) -> Self {
        self.config.key = key;
        self
    }

    /// Adds an admin account. The first call replaces the default `administrator`.
    #[must_use]
    pub fn with_admin(mut self, identifier: impl Into<String>) -> Self {
        if !self.admins_set {
            self.config.admins.clear();
            self.admins_set = true;
        }
        self.config.admins.push(identifier.into());
        self
    }

    /// Turns the documented rate limits (100 calls a second per endpoint, the daily push
    /// quota) on (default) or off. The push spacing stays: see
    /// [`EmulatorBuilder::with_push_spacing`].
    #[must_use]
    pub fn with_rate_limits(mut self, on: bool) -> Self {
        self.config.rate_limits = on;
        self
    }

    /// Keeps consecutive pushes more than 1 s apart (90024 otherwise; default `true`, as
    /// documented), or not. Independent of [`EmulatorBuilder::with_rate_limits`]: a test that
    /// pushes faster than the real service allows must say so here.
    #[must_use]
    pub fn with_push_spacing(mut self, on: bool) -> Self {
        self.config.push_spacing = on;
        self
    }

    /// Pushes allowed per day when rate limits are on (default 100).
    #[must_use]
    pub fn with_daily_push_quota(mut self, quota: u32) -> Self {
        self.config.daily_push_quota = quota;
        self
    }

    /// How long a repeated `MsgRandom` names the same push task (default
    /// [`PUSH_DEDUP_WINDOW`](crate::PUSH_DEDUP_WINDOW), 7 days; 1 s for the newer page's
    /// reading; zero: never).
    #[must_use]
    pub fn with_push_dedup_window(mut self, window: Duration) -> Self {
        self.config.push_dedup_window = window;
        self
    }

    /// Keeps the state in `path` across restarts.
    #[must_use]
    pub fn with_state_file(mut self, path: impl Into<std::path::PathBuf>) -> Self {
        self.config.state_file = Some(path.into());
        self
    }

    /// Injects a fault into a fraction of the API calls.
    #[must_use]
    pub fn with_fault(mut self, spec: FaultSpec) -> Self {
        self.config.faults.push(spec);
        self
    }

    /// Delays every API call by `latency`.
    #[must_use]
    pub fn with_latency(mut self, latency: Duration) -> Self {
        self.config.latency = latency;
        self
    }

    /// How long a [`FaultKind::Delay`] holds a call (default 2 s).
    #[must_use]
    pub fn with_fault_delay(mut self, delay: Duration) -> Self {
        self.config.fault_delay = delay;
        self
    }

    /// Seeds the random source (faults, TaskId node).
    #[must_use]
    pub fn with_seed(mut self, seed: u64) -> Self {
        self.config.seed = seed;
        self
    }

    /// Accounts that exist from the start.
    #[must_use]
    pub fn with_accounts(mut self, accounts: impl IntoIterator<Item = impl Into<String>>) -> Self {
        self.config
            .accounts
            .extend(accounts.into_iter().map(Into::into));
        self
    }

    /// Uses `clock` instead of the system clock (e.g. a [`ManualClock`](crate::ManualClock)).
    #[must_use]
    pub fn with_clock(mut self, clock: impl Clock) -> Self {
        self.clock = Some(Arc::new(clock));
        self
    }

    /// Binds the port, opens the state file and starts serving on the current tokio runtime.
    pub async fn start(self) -> Result<EmulatorHandle, StartError> {
        self.config.check()?;
        let clock = self.clock.unwrap_or_else(|| Arc::new(SystemClock));
        let config = self.config;
        let service = if config.state_file.is_some() {
            let (c, k) = (config.clone(), clock.clone());
            tokio::task::spawn_blocking(move || Service::new(c, k))
                .await
                .map_err(|e| StartError::Io(std::io::Error::other(e)))??
        } else {
            Service::new(config.clone(), clock)?
        };
        let listener = TcpListener::bind(config.bind)
            .await
            .map_err(|source| StartError::Bind {
                addr: config.bind,
                source,
            })?;
        let addr = listener.local_addr().map_err(StartError::Io)?;
        let shared = Arc::new(Shared {
            faults: Mutex::new(FaultPicker {
                rng: fastrand::Rng::with_seed(config.seed),
                specs: config.faults.clone(),
                forced: VecDeque::new(),
            }),
            log: Mutex::new(RequestLog {
                entries: VecDeque::new(),
                next_seq: 1,
                capacity: config.request_log_capacity,
            }),
            service,
        });
        let (stop_tx, stop_rx) = watch::channel(false);
        let task = tokio::spawn(accept_loop(listener, shared.clone(), stop_rx));
        tracing::info!(
            base_url = %format!("http://{addr}"),
            sdkappid = config.sdkappid,
            admins = ?config.admins,
            rate_limits = config.rate_limits,
            push_spacing = config.push_spacing,
            durable = config.state_file.is_some(),
            "tim emulator listening"
        );
        Ok(EmulatorHandle {
            base_url: format!("http://{addr}"),
            addr,
            shared,
            stop: stop_tx,
            task: Some(task),
        })
    }
}

/// Why an emulator could not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StartError {
    /// The configuration is not usable.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The address could not be bound.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// The state file could not be read or written.
    #[error(transparent)]
    StateFile(#[from] StateFileError),
    /// Another I/O error.
    #[error("I/O error: {0}")]
    Io(#[source] std::io::Error),
}

/// A running emulator. Dropping it stops the server (call [`EmulatorHandle::shutdown`] to wait
/// for it).
pub struct EmulatorHandle {
    base_url: String,
    addr: SocketAddr,
    shared: Arc<Shared>,
    stop: watch::Sender<bool>,
    task: Option<JoinHandle<()>>,
}

impl fmt::Debug for EmulatorHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EmulatorHandle")
            .field("base_url", &self.base_url)
            .field("sdkappid", &self.sdkappid())
            .field("admins", &self.admins())
            .finish_non_exhaustive()
    }
}

impl EmulatorHandle {
    /// `http://127.0.0.1:PORT`: the base URL to point a client at.
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// The address it listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The app's SDKAppID.
    pub fn sdkappid(&self) -> u64 {
        self.config().sdkappid
    }

    /// The app's secret key (never print it).
    pub fn key(&self) -> &SecretKey {
        &self.config().key
    }

    /// The first admin account.
    pub fn admin(&self) -> &str {
        self.config().admins.first().map_or("", String::as_str)
    }

    /// Every admin account.
    pub fn admins(&self) -> &[String] {
        &self.config().admins
    }

    /// The configuration it runs with.
    pub fn config(&self) -> &Config {
        &self.shared.service.config
    }

    /// A signer for the first admin with the app's key, for building requests with tim-core.
    pub fn signer(&self) -> Signer {
        Signer::with_key(self.sdkappid(), self.admin(), self.key().clone())
    }

    /// A UserSig for the first admin, issued now by the emulator's clock, valid for a day.
    pub fn usersig(&self) -> UserSig {
        let now = self.shared.service.clock.now_unix_secs();
        usersig::generate(self.sdkappid(), self.key(), self.admin(), now, 86_400)
    }

    /// The emulated app's data.
    pub fn state(&self) -> StateSnapshot {
        self.shared.service.read(|s| s.snapshot())
    }

    /// Every push made, oldest first, with its recipients.
    pub fn pushes(&self) -> Vec<PushRecord> {
        self.shared.service.read(|s| s.pushes.clone())
    }

    /// The API calls received, oldest first (without UserSigs).
    pub fn requests(&self) -> Vec<RequestRecord> {
        lock(&self.shared.log).entries.iter().cloned().collect()
    }

    /// Empties the request log.
    pub fn clear_requests(&self) {
        lock(&self.shared.log).entries.clear();
    }

    /// Makes `accounts` known, as if imported: pushes without a condition reach them.
    pub fn import_accounts(
        &self,
        accounts: impl IntoIterator<Item = impl Into<String>>,
    ) -> Result<(), ImportError> {
        self.shared
            .service
            .import_accounts(accounts.into_iter().map(Into::into).collect())
            .map_err(ImportError)
    }

    /// Makes the next API call suffer `kind`, whatever the configured rates (queued: call it
    /// twice for the next two calls).
    pub fn inject_fault(&self, kind: FaultKind) {
        lock(&self.shared.faults).forced.push_back(kind);
    }

    /// Serves until `signal` completes, then shuts down gracefully.
    pub async fn run_until(self, signal: impl Future<Output = ()>) {
        signal.await;
        self.shutdown().await;
    }

    /// Stops accepting connections, lets calls in progress finish (for at most 5 s), and waits.
    pub async fn shutdown(mut self) {
        let _ = self.stop.send(true);
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
        tracing::info!(base_url = %self.base_url, "tim emulator stopped");
    }
}

impl Drop for EmulatorHandle {
    /// Stops accepting at once and closes idle connections; calls in progress finish in the
    /// background (for at most 5 s) while the runtime runs.
    fn drop(&mut self) {
        let _ = self.stop.send(true);
    }
}

/// An account list that could not be imported (the state file could not be written).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("import failed: {0}")]
pub struct ImportError(String);

/// Waits for Ctrl-C (SIGINT) or, on Unix, SIGTERM: the usual end of `tim emulator serve`.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
}

/// One API call as logged: never the UserSig, nor the raw query.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct RequestRecord {
    /// 1, 2, 3, ... in arrival order.
    pub seq: u64,
    /// Arrival time by the emulator's clock (Unix milliseconds).
    pub at_unix_ms: u64,
    /// HTTP method.
    pub method: String,
    /// URL path.
    pub path: String,
    /// The command, when the path names one (`im_get_tag`).
    pub command: Option<String>,
    /// The `identifier` query parameter.
    pub identifier: Option<String>,
    /// The `random` query parameter, as sent.
    pub random: Option<String>,
    /// The request body (lossy UTF-8, at most 16 KiB).
    pub body: String,
    /// HTTP status answered (0: the connection was dropped without an answer).
    pub status: u16,
    /// `ErrorCode` answered, when an envelope was sent.
    pub error_code: Option<i64>,
    /// The fault injected, if any.
    pub fault: Option<FaultKind>,
}

/// Everything the connections share.
#[derive(Debug)]
struct Shared {
    service: Service,
    faults: Mutex<FaultPicker>,
    log: Mutex<RequestLog>,
}

#[derive(Debug)]
struct FaultPicker {
    rng: fastrand::Rng,
    specs: Vec<FaultSpec>,
    forced: VecDeque<FaultKind>,
}

impl FaultPicker {
    /// A forced fault first, else one draw against the configured rates laid end to end.
    fn pick(&mut self) -> Option<FaultKind> {
        if let Some(k) = self.forced.pop_front() {
            return Some(k);
        }
        if self.specs.is_empty() {
            return None;
        }
        let x = self.rng.f64();
        let mut edge = 0.0;
        for spec in &self.specs {
            edge += spec.rate;
            if x < edge {
                return Some(spec.kind);
            }
        }
        None
    }
}

#[derive(Debug)]
struct RequestLog {
    entries: VecDeque<RequestRecord>,
    next_seq: u64,
    capacity: usize,
}

impl RequestLog {
    fn push(&mut self, mut record: RequestRecord) {
        record.seq = self.next_seq;
        self.next_seq += 1;
        if self.capacity == 0 {
            return;
        }
        while self.entries.len() >= self.capacity {
            self.entries.pop_front();
        }
        self.entries.push_back(record);
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// The error a service returns to make hyper close the connection without an answer.
#[derive(Debug, thiserror::Error)]
#[error("connection dropped on purpose (drop-after-apply fault)")]
struct DropConnection;

async fn accept_loop(listener: TcpListener, shared: Arc<Shared>, mut stop: watch::Receiver<bool>) {
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

fn json_response(status: StatusCode, body: Vec<u8>) -> Response<Full<Bytes>> {
    let mut resp = Response::new(Full::new(Bytes::from(body)));
    *resp.status_mut() = status;
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        header::HeaderValue::from_static("application/json"),
    );
    resp
}

async fn handle(
    shared: Arc<Shared>,
    req: Request<Incoming>,
) -> Result<Response<Full<Bytes>>, DropConnection> {
    let path = req.uri().path().to_owned();
    if let Some(what) = path.strip_prefix(INSPECTION_PREFIX) {
        return Ok(inspect(&shared, req.method(), what));
    }
    let method = req.method().clone();
    let query = req.uri().query().map(str::to_owned);
    let at_unix_ms = shared.service.clock.now_unix_ms();
    let body = match Limited::new(req.into_body(), MAX_BODY).collect().await {
        Ok(b) => Ok(b.to_bytes()),
        Err(e) => {
            if e.downcast_ref::<http_body_util::LengthLimitError>()
                .is_some()
            {
                Err(())
            } else {
                // The client went away mid-body: nobody to answer.
                tracing::debug!(error = %e, "reading the request body failed");
                return Err(DropConnection);
            }
        }
    };
    let latency = shared.service.config.latency;
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }
    let fault = lock(&shared.faults).pick();
    let mut record = RequestRecord {
        seq: 0,
        at_unix_ms,
        method: method.to_string(),
        path: path.clone(),
        command: None,
        identifier: None,
        random: None,
        body: String::new(),
        status: 200,
        error_code: None,
        fault,
    };
    let result = respond(&shared, &method, &path, query, body, fault, &mut record).await;
    tracing::debug!(
        path = %record.path,
        status = record.status,
        error_code = ?record.error_code,
        fault = ?record.fault,
        "call"
    );
    lock(&shared.log).push(record);
    result
}

async fn respond(
    shared: &Arc<Shared>,
    method: &Method,
    path: &str,
    query: Option<String>,
    body: Result<Bytes, ()>,
    fault: Option<FaultKind>,
    record: &mut RequestRecord,
) -> Result<Response<Full<Bytes>>, DropConnection> {
    let params = crate::api::QueryParams::parse(query.as_deref().unwrap_or(""));
    record.identifier = params.get("identifier").map(str::to_owned);
    record.random = params.get("random").map(str::to_owned);
    record.command = EndpointId::from_path(path).map(|c| c.command().to_owned());
    let Ok(body) = body else {
        let code = tim_core::ErrorCode::BodyTooLarge.code();
        record.error_code = Some(code);
        return Ok(json_response(
            StatusCode::OK,
            envelope(code, "request body too large"),
        ));
    };
    record.body = String::from_utf8_lossy(&body[..body.len().min(LOGGED_BODY)]).into_owned();
    match fault {
        Some(FaultKind::BadGateway) => {
            record.status = 502;
            let mut resp =
                Response::new(Full::new(Bytes::from_static(BAD_GATEWAY_HTML.as_bytes())));
            *resp.status_mut() = StatusCode::BAD_GATEWAY;
            resp.headers_mut().insert(
                header::CONTENT_TYPE,
                header::HeaderValue::from_static("text/html"),
            );
            return Ok(resp);
        }
        Some(FaultKind::InternalError) => {
            let code = tim_core::ErrorCode::InternalError.code();
            record.error_code = Some(code);
            return Ok(json_response(
                StatusCode::OK,
                envelope(code, "internal error, please retry (injected fault)"),
            ));
        }
        Some(FaultKind::NonJson) => {
            let mut resp =
                Response::new(Full::new(Bytes::from_static(MAINTENANCE_HTML.as_bytes())));
            resp.headers_mut().insert(
                header::CONTENT_TYPE,
                header::HeaderValue::from_static("text/html"),
            );
            return Ok(resp);
        }
        Some(FaultKind::RateLimited) => {
            let code = tim_core::ErrorCode::RateLimited.code();
            record.error_code = Some(code);
            return Ok(json_response(
                StatusCode::OK,
                envelope(
                    code,
                    "REST API calls exceed the frequency limit (injected fault)",
                ),
            ));
        }
        Some(FaultKind::UsersigExpired) => {
            let code = tim_core::ErrorCode::UserSigExpired.code();
            record.error_code = Some(code);
            return Ok(json_response(
                StatusCode::OK,
                envelope(code, "usersig expired (injected fault)"),
            ));
        }
        Some(FaultKind::Delay) => tokio::time::sleep(shared.service.config.fault_delay).await,
        _ => {}
    }
    let answer = if shared.service.is_durable() {
        let (s, m, p) = (shared.clone(), method.clone(), path.to_owned());
        tokio::task::spawn_blocking(move || s.service.call(&m, &p, query.as_deref(), &body))
            .await
            .map_err(|_| DropConnection)?
    } else {
        shared.service.call(method, path, query.as_deref(), &body)
    };
    record.error_code = Some(answer.code);
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

fn inspect(shared: &Shared, method: &Method, what: &str) -> Response<Full<Bytes>> {
    if method != Method::GET {
        return json_response(
            StatusCode::METHOD_NOT_ALLOWED,
            br#"{"error":"inspection paths are read-only: use GET"}"#.to_vec(),
        );
    }
    let body = match what {
        "state" => serde_json::to_vec(&shared.service.read(|s| s.snapshot())),
        "pushes" => serde_json::to_vec(&shared.service.read(|s| s.pushes.clone())),
        "requests" => serde_json::to_vec(&lock(&shared.log).entries),
        "config" => {
            let c = &shared.service.config;
            serde_json::to_vec(&serde_json::json!({
                "sdkappid": c.sdkappid,
                "admins": c.admins,
                "rate_limits": c.rate_limits,
                "push_spacing": c.push_spacing,
                "daily_push_quota": c.daily_push_quota,
                "push_dedup_window_ms": u64::try_from(c.push_dedup_window.as_millis()).unwrap_or(u64::MAX),
                "durable": c.state_file.is_some(),
                "faults": c.faults.iter().map(ToString::to_string).collect::<Vec<_>>(),
                "latency_ms": u64::try_from(c.latency.as_millis()).unwrap_or(u64::MAX),
                "now_unix_ms": shared.service.clock.now_unix_ms(),
            }))
        }
        _ => {
            return json_response(
                StatusCode::NOT_FOUND,
                br#"{"error":"unknown inspection path; try /__emulator/state, /__emulator/pushes, /__emulator/requests or /__emulator/config"}"#.to_vec(),
            );
        }
    };
    match body {
        Ok(b) => json_response(StatusCode::OK, b),
        Err(_) => json_response(StatusCode::INTERNAL_SERVER_ERROR, b"{}".to_vec()),
    }
}
