//! The emulated app without HTTP: the front layer every call goes through, in this order:
//! path → method → URL parameters and UserSig → admin → calls per second → body (JSON, shape,
//! `null`s and unknown members) → the service's handler (typed request, limits, a repeat of an
//! earlier call, per-minute budget, spacing and daily quota, the service's rules) → the call's
//! changes stored and applied → its events dispatched.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex};

use http::Method;
use serde_json::Value;
use tim_core::{Clock, EndpointId, ErrorCode};

use crate::auth::{QueryParams, authenticate, malformed_body_code};
use crate::config::Config;
use crate::events::{Dispatcher, EventKind};
use crate::limits::{self, Windows};
use crate::lock;
use crate::reject::{Reject, Res, envelope, reject};
use crate::services::{Cx, Registry};
use crate::state::store::{self, StateFileError, Wal};
use crate::state::{Change, State};

/// The emulator's clock: the one it was given (a tim-core [`Clock`]) plus the jumps made
/// through the admin path.
#[derive(Debug)]
pub(crate) struct AppClock {
    inner: Arc<dyn Clock>,
    skew_ms: AtomicI64,
}

impl AppClock {
    pub(crate) fn new(inner: Arc<dyn Clock>) -> Self {
        Self {
            inner,
            skew_ms: AtomicI64::new(0),
        }
    }

    /// Now, in Unix milliseconds.
    pub(crate) fn now_ms(&self) -> u64 {
        let skew = self.skew_ms.load(Ordering::SeqCst);
        self.inner.unix_time_ms().saturating_add_signed(skew)
    }

    /// Now, in Unix seconds.
    pub(crate) fn now_secs(&self) -> u64 {
        self.now_ms() / 1000
    }

    /// Moves the clock by `by_ms` (backwards when negative).
    pub(crate) fn jump(&self, by_ms: i64) {
        self.skew_ms.fetch_add(by_ms, Ordering::SeqCst);
    }
}

/// What the app answered to one call.
#[derive(Debug, Default)]
pub(crate) struct Answer {
    /// The JSON envelope.
    pub(crate) body: Vec<u8>,
    /// `ErrorCode` of the envelope.
    pub(crate) code: i64,
    /// Body members the spec does not know.
    pub(crate) unknown: Vec<String>,
    /// Body members sent as `null`.
    pub(crate) nulls: Vec<String>,
}

/// The state and the log, behind one lock: a call's changes are checked, logged and applied
/// while it is held, so concurrent writers never lose an update and the log order is the
/// apply order.
#[derive(Debug)]
struct Core {
    state: State,
    wal: Option<Wal>,
}

/// The emulated app.
#[derive(Debug)]
pub(crate) struct App {
    pub(crate) config: Config,
    pub(crate) clock: AppClock,
    pub(crate) events: Dispatcher,
    core: Mutex<Core>,
    windows: Mutex<Windows>,
    registry: Registry,
    /// Accounts that fail inside multi-account calls, with code and `ResultInfo` (admin path).
    pub(crate) item_failures: Mutex<BTreeMap<String, (i64, String)>>,
}

impl App {
    /// Builds the app, opening the state file if one is configured.
    pub(crate) fn new(config: Config, clock: Arc<dyn Clock>) -> Result<Self, StateFileError> {
        let mut fresh = State::default();
        fresh.all_member_push.node = fastrand::Rng::with_seed(config.seed ^ 0x5eed_7a5c)
            .u64((1 << 57)..(1 << 57) + (1 << 40));
        fresh.all_member_push.next_task_seq = 1;
        let (state, wal) = match &config.state_file {
            Some(path) => {
                let (state, wal) = store::open(path, fresh)?;
                (state, Some(wal))
            }
            None => (fresh, None),
        };
        let app = Self {
            events: Dispatcher::new(config.event_log_capacity),
            core: Mutex::new(Core { state, wal }),
            windows: Mutex::new(Windows::default()),
            registry: Registry::new(),
            item_failures: Mutex::new(BTreeMap::new()),
            clock: AppClock::new(clock),
            config,
        };
        app.import_accounts(app.config.accounts.clone(), "config")
            .map_err(|r| StateFileError::Io {
                path: app.config.state_file.clone().unwrap_or_default(),
                source: std::io::Error::other(r.info),
            })?;
        Ok(app)
    }

    /// Whether a change must be fsynced (so calls should run off the async threads).
    pub(crate) fn is_durable(&self) -> bool {
        self.config.state_file.is_some()
    }

    /// Whether `id` has semantics here (otherwise it is checked, then refused by name).
    pub(crate) fn emulates(&self, id: EndpointId) -> bool {
        self.registry.emulates(id)
    }

    /// Runs `f` on the state.
    pub(crate) fn read<T>(&self, f: impl FnOnce(&State) -> T) -> T {
        f(&lock(&self.core).state)
    }

    /// Stores and applies `changes`, then dispatches `events`: nothing is applied or
    /// dispatched unless the changes reached the disk (91000 otherwise).
    fn commit(
        &self,
        core: &mut Core,
        changes: Vec<Change>,
        events: Vec<EventKind>,
        source: &str,
    ) -> Res<()> {
        if changes.is_empty() && events.is_empty() {
            return Ok(());
        }
        if let Some(wal) = &mut core.wal {
            if let Err(e) = wal.append(&changes) {
                tracing::error!(error = %e, "writing the state file failed; answering 91000");
                return Err(reject(
                    ErrorCode::InternalError,
                    "internal error: the change could not be stored",
                ));
            }
        }
        for c in changes {
            core.state.apply(c);
        }
        self.events.dispatch(source, self.clock.now_ms(), events);
        Ok(())
    }

    /// Makes the new ones of `accounts` exist (`source`: who asked, for the event).
    pub(crate) fn import_accounts(&self, accounts: Vec<String>, source: &str) -> Res<()> {
        let mut core = lock(&self.core);
        let mut new: Vec<String> = Vec::new();
        for a in accounts {
            if !a.is_empty() && !core.state.exists(&a) && !new.contains(&a) {
                new.push(a);
            }
        }
        if new.is_empty() {
            return Ok(());
        }
        let event = EventKind::AccountsCreated {
            accounts: new.clone(),
        };
        self.commit(
            &mut core,
            vec![Change::ImportAccounts { accounts: new }],
            vec![event],
            source,
        )
    }

    /// Logs `account` in on `platform` with `status` (`Online`, `PushOnline`; `Offline` logs
    /// it out), as a client SDK would; the account exists from then on.
    pub(crate) fn set_login(&self, account: &str, platform: &str, status: &str) -> Res<()> {
        if account.is_empty() || platform.is_empty() {
            return Err(reject(
                ErrorCode::InvalidParameter,
                "account and platform must not be empty",
            ));
        }
        if !matches!(status, "Online" | "PushOnline" | "Offline") {
            return Err(reject(
                ErrorCode::InvalidParameter,
                format!("status must be Online, PushOnline or Offline, not {status:?}"),
            ));
        }
        let mut core = lock(&self.core);
        let mut changes = Vec::new();
        let mut events = Vec::new();
        if !core.state.exists(account) {
            changes.push(Change::ImportAccounts {
                accounts: vec![account.to_owned()],
            });
            events.push(EventKind::AccountsCreated {
                accounts: vec![account.to_owned()],
            });
        }
        changes.push(Change::Presence(crate::state::presence::Change::SetLogin {
            account: account.to_owned(),
            platform: platform.to_owned(),
            status: status.to_owned(),
        }));
        events.push(EventKind::LoginChanged {
            account: account.to_owned(),
            platform: platform.to_owned(),
            status: status.to_owned(),
        });
        self.commit(&mut core, changes, events, "admin")
    }

    /// Handles one API call. Profile answers carry `ErrorDisplay` too, as the profile pages'
    /// samples show.
    pub(crate) fn call(
        &self,
        method: &Method,
        path: &str,
        query: Option<&str>,
        body: &[u8],
    ) -> Answer {
        let mut answer = Answer::default();
        match self.front(method, path, query, body, &mut answer) {
            Ok(body) => answer.body = body,
            Err(r) => {
                answer.code = r.code;
                answer.body = envelope(r.code, &r.info);
            }
        }
        if EndpointId::from_path(path).is_some_and(|id| id.service() == "profile") {
            answer.body = with_error_display(std::mem::take(&mut answer.body));
        }
        answer
    }

    fn front(
        &self,
        method: &Method,
        path: &str,
        query: Option<&str>,
        body: &[u8],
        answer: &mut Answer,
    ) -> Res<Vec<u8>> {
        let id = EndpointId::from_path(path).ok_or_else(|| {
            reject(
                ErrorCode::BadRequestResource,
                format!("bad request resource: no API at {path:?}"),
            )
        })?;
        if method != Method::POST {
            return Err(reject(
                ErrorCode::HttpParseError,
                format!("HTTP method {method} not allowed: REST calls use POST"),
            ));
        }
        let params = QueryParams::parse(query.unwrap_or(""));
        let identifier = authenticate(&self.config, id, &params, self.clock.now_secs())?;
        let now = self.clock.now_ms();
        limits::per_second(&mut lock(&self.windows), &self.config, id, now)?;
        let malformed = malformed_body_code(id);
        let mut value: Value = serde_json::from_slice(body).map_err(|e| {
            reject(
                malformed,
                crate::reject::with_sample_text(malformed, format!("json parse failed: {e}")),
            )
        })?;
        let report = id.info().request_shape.check_with(&mut value, malformed)?;
        answer.unknown = report.unknown;
        answer.nulls = report.nulls;
        if self.config.strict && !(answer.unknown.is_empty() && answer.nulls.is_empty()) {
            return Err(strict_refusal(malformed, &answer.unknown, &answer.nulls));
        }
        let mut core = lock(&self.core);
        let mut gate = |cx: &Cx<'_>, cost: u32| -> Res<()> {
            limits::per_minute(&mut lock(&self.windows), &self.config, id, cost, now)?;
            limits::spacing_and_quota(cx.state, &self.config, id, now)
        };
        let failures = lock(&self.item_failures);
        let mut cx = Cx::new(&core.state, &self.config, now, identifier, &failures);
        let out = self.registry.handle(id, &mut cx, value, &mut gate)?;
        let (mut changes, events, replayed) = cx.finish();
        drop(failures);
        if !replayed && limits::counted(id) {
            changes.push(Change::Accepted {
                endpoint: id.to_string(),
                at: now,
            });
        }
        // Reads stage nothing: no name to format, nothing to store.
        if !(changes.is_empty() && events.is_empty()) {
            self.commit(&mut core, changes, events, &id.to_string())?;
        }
        Ok(out)
    }
}

/// Adds `"ErrorDisplay": ""` to an envelope.
fn with_error_display(body: Vec<u8>) -> Vec<u8> {
    match serde_json::from_slice::<serde_json::Map<String, Value>>(&body) {
        Ok(mut m) => {
            m.entry("ErrorDisplay").or_insert_with(|| Value::from(""));
            serde_json::to_vec(&m).unwrap_or(body)
        }
        Err(_) => body,
    }
}

fn strict_refusal(code: ErrorCode, unknown: &[String], nulls: &[String]) -> Reject {
    let mut parts = Vec::new();
    if !unknown.is_empty() {
        parts.push(format!("unknown field(s) {}", unknown.join(", ")));
    }
    if !nulls.is_empty() {
        parts.push(format!("null field(s) {}", nulls.join(", ")));
    }
    reject(
        code,
        format!(
            "tim-emulator --strict: {} (the service ignores them; check for a typo)",
            parts.join("; ")
        ),
    )
}
