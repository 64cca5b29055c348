//! Starting an emulator and the handle that owns a running one.

use std::fmt;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tim_core::{Clock, SecretKey, Signer, SystemClock, UserSig, usersig};
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::app::App;
use crate::config::{Config, ConfigError, FaultKind, FaultSpec};
use crate::events::Event;
use crate::front::{Shared, accept_loop};
use crate::log::RequestRecord;
use crate::state::store::StateFileError;
use crate::state::{PushRecord, StateSnapshot};

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

    /// Uses `clock` instead of the system clock, e.g. an `Arc<`[`ManualClock`](crate::ManualClock)`>`
    /// that the test keeps a clone of to move time.
    #[must_use]
    pub fn with_clock(mut self, clock: impl Clock) -> Self {
        self.clock = Some(Arc::new(clock));
        self
    }

    /// Refuses (90001) requests with members the spec does not know or set to `null`, naming
    /// them, instead of ignoring them as the service does (see [`Config::strict`]).
    #[must_use]
    pub fn with_strict(mut self, on: bool) -> Self {
        self.config.strict = on;
        self
    }

    /// Binds the port, opens the state file and starts serving on the current tokio runtime.
    pub async fn start(self) -> Result<EmulatorHandle, StartError> {
        self.config.check()?;
        let clock = self.clock.unwrap_or_else(|| Arc::new(SystemClock));
        let config = self.config;
        let app = if config.state_file.is_some() {
            let (c, k) = (config.clone(), clock.clone());
            tokio::task::spawn_blocking(move || App::new(c, k))
                .await
                .map_err(|e| StartError::Io(std::io::Error::other(e)))??
        } else {
            App::new(config.clone(), clock)?
        };
        let listener = TcpListener::bind(config.bind)
            .await
            .map_err(|source| StartError::Bind {
                addr: config.bind,
                source,
            })?;
        let addr = listener.local_addr().map_err(StartError::Io)?;
        let shared = Arc::new(Shared::new(app));
        let (stop_tx, stop_rx) = watch::channel(false);
        let task = tokio::spawn(accept_loop(listener, shared.clone(), stop_rx));
        tracing::info!(
            base_url = %format!("http://{addr}"),
            sdkappid = config.sdkappid,
            admins = ?config.admins,
            rate_limits = config.rate_limits,
            push_spacing = config.push_spacing,
            strict = config.strict,
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
        &self.shared.app.config
    }

    /// A signer for the first admin with the app's key, for building requests with tim-core.
    pub fn signer(&self) -> Signer {
        Signer::with_key(self.sdkappid(), self.admin(), self.key().clone())
    }

    /// A UserSig for the first admin, issued now by the emulator's clock, valid for a day.
    pub fn usersig(&self) -> UserSig {
        let now = self.shared.app.clock.now_secs();
        usersig::generate(self.sdkappid(), self.key(), self.admin(), now, 86_400)
    }

    /// The emulated app's data.
    pub fn state(&self) -> StateSnapshot {
        self.shared.app.read(crate::state::State::snapshot)
    }

    /// Every push made, oldest first, with its recipients.
    pub fn pushes(&self) -> Vec<PushRecord> {
        self.shared.app.read(|s| s.all_member_push.pushes.clone())
    }

    /// The API calls received, oldest first (without UserSigs).
    pub fn requests(&self) -> Vec<RequestRecord> {
        crate::lock(&self.shared.log)
            .entries
            .iter()
            .cloned()
            .collect()
    }

    /// Empties the request log.
    pub fn clear_requests(&self) {
        crate::lock(&self.shared.log).entries.clear();
    }

    /// The events the emulated services emitted, oldest first (see [`Event`]).
    pub fn events(&self) -> Vec<Event> {
        self.shared.app.events.recorded()
    }

    /// The emulator's time now (Unix milliseconds): its clock plus every
    /// [`EmulatorHandle::jump_clock`].
    pub fn now_unix_ms(&self) -> u64 {
        self.shared.app.clock.now_ms()
    }

    /// Moves the emulator's clock by `by_ms` milliseconds (backwards when negative), whatever
    /// clock it was given: UserSig expiry, spacing, windows and quotas see the new time. Also
    /// `POST /__emulator/clock`.
    pub fn jump_clock(&self, by_ms: i64) {
        self.shared.app.clock.jump(by_ms);
    }

    /// Makes `accounts` exist, as if imported: pushes without a condition reach them.
    pub fn import_accounts(
        &self,
        accounts: impl IntoIterator<Item = impl Into<String>>,
    ) -> Result<(), ImportError> {
        self.shared
            .app
            .import_accounts(accounts.into_iter().map(Into::into).collect(), "admin")
            .map_err(|r| ImportError(r.info))
    }

    /// Makes `accounts` fail inside multi-account calls with `code` and `info` (`FailAccounts`
    /// of an import, `ResultCode` of a check, delete or profile read, `ErrorList` of a presence
    /// query), as the service reports accounts it could not handle; `code` 0 clears them. Also
    /// `POST /__emulator/item-failures`.
    pub fn fail_items(
        &self,
        accounts: impl IntoIterator<Item = impl Into<String>>,
        code: i64,
        info: impl Into<String>,
    ) {
        let info = info.into();
        let mut all = crate::lock(&self.shared.app.item_failures);
        for a in accounts {
            let a = a.into();
            if code == 0 {
                all.remove(&a);
            } else {
                all.insert(a, (code, info.clone()));
            }
        }
    }

    /// Makes the next API call suffer `kind`, whatever the configured rates (queued: call it
    /// twice for the next two calls).
    pub fn inject_fault(&self, kind: FaultKind) {
        crate::lock(&self.shared.faults).force(kind);
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
