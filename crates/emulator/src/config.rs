//! Everything that can be configured about one emulator run, in a shape a command line maps onto
//! directly (`tim emulator serve [--port N] [--admin ID]... [--no-rate-limit]
//! [--no-push-spacing] [--daily-push-quota N] [--state FILE] [--fault KIND=RATE]...
//! [--latency-ms N] [--strict]`).

use std::fmt;
use std::net::{Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::str::FromStr;
use std::time::Duration;

use tim_core::SecretKey;

/// The SDKAppID the emulator answers to unless told otherwise.
pub const DEFAULT_SDKAPPID: u64 = 1_400_000_000;

/// The admin account the emulator accepts unless told otherwise.
pub const DEFAULT_ADMIN: &str = "administrator";

/// The well-known secret key of an emulator that was given none:
/// `tim-emulator-well-known-key-not-a-secret`.
///
/// It protects nothing: the emulator listens on loopback for tests, and `tim emulator serve`
/// prints it in its banner when it is in use. Pass your own key with
/// [`EmulatorBuilder::with_key`](crate::EmulatorBuilder::with_key), [`Config::key`] or
/// `tim --key KEY emulator serve` (`TIM_SECRET_KEY`) to mirror a real app's setup; a key you
/// pass is never printed.
pub const DEFAULT_KEY: &str = "tim-emulator-well-known-key-not-a-secret";

/// How long a repeated `MsgRandom` names the same push task by default: 7 days (see
/// [`Config::push_dedup_window`]).
pub const PUSH_DEDUP_WINDOW: Duration = Duration::from_secs(7 * 24 * 3600);

/// How one emulator run behaves.
///
/// Build it with [`Config::default`] and set fields, or let
/// [`Emulator::builder`](crate::Emulator::builder) do it. Every field maps onto one flag of
/// `tim emulator serve`.
///
/// ```
/// use std::time::Duration;
/// use tim_emulator::{Config, FaultSpec};
///
/// let mut config = Config::default();
/// config.bind = "127.0.0.1:9000".parse().unwrap(); // --port 9000
/// config.admins.push("ops".into()); // --admin ops
/// config.rate_limits = false; // --no-rate-limit
/// config.push_spacing = false; // --no-push-spacing
/// config.daily_push_quota = 1000; // --daily-push-quota 1000
/// config.faults.push("internal-error=0.05".parse::<FaultSpec>().unwrap()); // --fault internal-error=0.05
/// config.latency = Duration::from_millis(20); // --latency-ms 20
/// assert!(config.check().is_ok());
/// ```
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Config {
    /// Address to listen on. Default `127.0.0.1:0` (a free port on loopback).
    pub bind: SocketAddr,
    /// The app's SDKAppID. Default [`DEFAULT_SDKAPPID`].
    pub sdkappid: u64,
    /// The app's secret key, used to verify UserSigs. Default [`DEFAULT_KEY`].
    pub key: SecretKey,
    /// Admin accounts (the `identifier` of a call must be one of them). Default
    /// `["administrator"]`.
    pub admins: Vec<String>,
    /// Whether the documented rate limits apply: 100 calls per second per endpoint (60007) and
    /// the daily push quota (90047). Default `true`. The spacing of pushes is a rule of its
    /// own, [`Config::push_spacing`], kept when this is off.
    pub rate_limits: bool,
    /// Whether consecutive pushes must be more than 1 s apart (90024 otherwise), as documented.
    /// Default `true`, also when [`Config::rate_limits`] is off: turning it off
    /// (`--no-push-spacing`) makes the emulator accept pushes the real service refuses.
    pub push_spacing: bool,
    /// Pushes allowed per day (Beijing time, UTC+8) when rate limits are on. Default 100.
    pub daily_push_quota: u32,
    /// A repeated `MsgRandom` within this window is the same push task: the first `TaskId` is
    /// answered again and nobody is pushed to twice. Default 7 days (the older documentation
    /// and the Chinese page; the newer English page says "deduplication within a second"), so
    /// that repeating a push after an ambiguous failure with the same `MsgRandom`, as
    /// `tim push` advises, is harmless; set 1 s to test against the narrower reading. Zero
    /// turns deduplication off.
    pub push_dedup_window: Duration,
    /// File that keeps the state across restarts (a write-ahead log, fsynced before every
    /// answer). `None` (default) keeps state in memory only.
    pub state_file: Option<PathBuf>,
    /// Faults injected into API calls, each with its rate. Rates add up to at most 1.
    pub faults: Vec<FaultSpec>,
    /// Delay added to every API call. Default zero.
    pub latency: Duration,
    /// How long a call chosen for a [`FaultKind::Delay`] fault is held. Default 2 s.
    pub fault_delay: Duration,
    /// Seed of the random source that picks faults and the push-task node id, so that runs
    /// are reproducible. Default 0.
    pub seed: u64,
    /// Accounts that exist from the start (as if imported); they receive pushes without a
    /// condition even before they hold a tag or attribute.
    pub accounts: Vec<String>,
    /// How many API calls the request log keeps (oldest dropped first). Default 10 000.
    pub request_log_capacity: usize,
    /// How many events the event log keeps (oldest dropped first). Default 10 000.
    pub event_log_capacity: usize,
    /// Refuses (90001) a request with a member the spec does not know or a member set to
    /// `null`, naming them in `ErrorInfo`, instead of ignoring them as the service does
    /// (`--strict`): catches typos in the fields of your code. Default `false`.
    pub strict: bool,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            bind: SocketAddr::from((Ipv4Addr::LOCALHOST, 0)),
            sdkappid: DEFAULT_SDKAPPID,
            key: SecretKey::new(DEFAULT_KEY),
            admins: vec![DEFAULT_ADMIN.to_owned()],
            rate_limits: true,
            push_spacing: true,
            daily_push_quota: 100,
            push_dedup_window: PUSH_DEDUP_WINDOW,
            state_file: None,
            faults: Vec::new(),
            latency: Duration::ZERO,
            fault_delay: Duration::from_secs(2),
            seed: 0,
            accounts: Vec::new(),
            request_log_capacity: 10_000,
            event_log_capacity: 10_000,
            strict: false,
        }
    }
}

impl Config {
    /// Checks that the configuration can run: at least one admin, no empty admin or account
    /// name, fault rates adding up to at most 1.
    pub fn check(&self) -> Result<(), ConfigError> {
        if self.admins.is_empty() {
            return Err(ConfigError::NoAdmin);
        }
        if self.admins.iter().any(String::is_empty) || self.accounts.iter().any(String::is_empty) {
            return Err(ConfigError::EmptyAccount);
        }
        let total: f64 = self.faults.iter().map(|f| f.rate).sum();
        if total > 1.0 + 1e-9 {
            return Err(ConfigError::FaultRatesAboveOne(total));
        }
        Ok(())
    }
}

/// A configuration that cannot run.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// No admin account: no call could ever be authorised.
    #[error("at least one admin account is required")]
    NoAdmin,
    /// An admin or account name is empty.
    #[error("account names must not be empty")]
    EmptyAccount,
    /// The fault rates add up to more than 1.
    #[error("fault rates add up to {0}, more than 1")]
    FaultRatesAboveOne(f64),
}

/// A kind of injected fault.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum FaultKind {
    /// `internal-error`: answered `91000` (internal error) without being applied.
    InternalError,
    /// `bad-gateway`: answered HTTP 502 with an HTML body, as a gateway in front of the
    /// service does, without being applied.
    BadGateway,
    /// `drop-after-apply`: applied, then the connection is closed without an answer: the
    /// client cannot know that its change was made (a lost acknowledgement).
    DropAfterApply,
    /// `delay`: held for [`Config::fault_delay`], then handled normally (for client timeouts).
    Delay,
    /// `truncated-body`: applied, then answered HTTP 200 with the first half of the real
    /// envelope (a complete HTTP message whose JSON is cut short): the client cannot know
    /// whether its change was made.
    TruncatedBody,
    /// `non-json`: answered HTTP 200 with a `text/html` maintenance page instead of JSON (as a
    /// misconfigured proxy does), without being applied.
    NonJson,
    /// `rate-limited`: answered `60007` (REST calls over the frequency limit) without being
    /// applied, whatever the real call rate.
    RateLimited,
    /// `usersig-expired`: answered `70001` (UserSig expired) without being applied, whatever
    /// the UserSig's real expiry (a clock skew between client and server).
    UsersigExpired,
}

impl FaultKind {
    /// Every kind, in the order rates are laid out when a fault is drawn.
    pub const ALL: [FaultKind; 8] = [
        FaultKind::InternalError,
        FaultKind::BadGateway,
        FaultKind::DropAfterApply,
        FaultKind::Delay,
        FaultKind::TruncatedBody,
        FaultKind::NonJson,
        FaultKind::RateLimited,
        FaultKind::UsersigExpired,
    ];

    /// The name used on the command line, e.g. `drop-after-apply`.
    pub fn name(self) -> &'static str {
        match self {
            FaultKind::InternalError => "internal-error",
            FaultKind::BadGateway => "bad-gateway",
            FaultKind::DropAfterApply => "drop-after-apply",
            FaultKind::Delay => "delay",
            FaultKind::TruncatedBody => "truncated-body",
            FaultKind::NonJson => "non-json",
            FaultKind::RateLimited => "rate-limited",
            FaultKind::UsersigExpired => "usersig-expired",
        }
    }
}

impl fmt::Display for FaultKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for FaultKind {
    type Err = ParseFaultError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        FaultKind::ALL
            .into_iter()
            .find(|k| k.name().eq_ignore_ascii_case(s.trim()))
            .ok_or_else(|| ParseFaultError::UnknownKind(s.trim().to_owned()))
    }
}

/// One fault and the fraction of API calls it hits: `KIND=RATE` on the command line.
///
/// `RATE` is a fraction in `0..=1` (`0.05`) or a percentage (`5%`).
///
/// ```
/// use tim_emulator::{FaultKind, FaultSpec};
/// let spec: FaultSpec = "drop-after-apply=10%".parse().unwrap();
/// assert_eq!(spec, FaultSpec::new(FaultKind::DropAfterApply, 0.1).unwrap());
/// assert_eq!(spec.to_string(), "drop-after-apply=0.1");
/// assert!("teleport=0.5".parse::<FaultSpec>().is_err());
/// assert!("bad-gateway=1.5".parse::<FaultSpec>().is_err());
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
#[non_exhaustive]
pub struct FaultSpec {
    /// What happens to a call that is hit.
    pub kind: FaultKind,
    /// Fraction of calls hit, `0.0..=1.0`.
    pub rate: f64,
}

impl FaultSpec {
    /// A fault hitting `rate` (`0.0..=1.0`) of the calls.
    pub fn new(kind: FaultKind, rate: f64) -> Result<Self, ParseFaultError> {
        if !(0.0..=1.0).contains(&rate) {
            return Err(ParseFaultError::BadRate(rate.to_string()));
        }
        Ok(Self { kind, rate })
    }
}

impl fmt::Display for FaultSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}={}", self.kind, self.rate)
    }
}

impl FromStr for FaultSpec {
    type Err = ParseFaultError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (kind, rate) = s
            .split_once('=')
            .ok_or_else(|| ParseFaultError::MissingRate(s.to_owned()))?;
        let kind: FaultKind = kind.parse()?;
        let rate = rate.trim();
        let value = match rate.strip_suffix('%') {
            Some(p) => p.trim().parse::<f64>().map(|p| p / 100.0),
            None => rate.parse::<f64>(),
        }
        .map_err(|_| ParseFaultError::BadRate(rate.to_owned()))?;
        FaultSpec::new(kind, value).map_err(|_| ParseFaultError::BadRate(rate.to_owned()))
    }
}

/// A fault spec that does not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ParseFaultError {
    /// Not `KIND=RATE`.
    #[error("expected KIND=RATE (e.g. internal-error=0.1), got {0:?}")]
    MissingRate(String),
    /// The kind is not one of `internal-error`, `bad-gateway`, `drop-after-apply`, `delay`,
    /// `truncated-body`, `non-json`, `rate-limited`, `usersig-expired`.
    #[error(
        "unknown fault kind {0:?} (expected internal-error, bad-gateway, drop-after-apply, delay, truncated-body, non-json, rate-limited or usersig-expired)"
    )]
    UnknownKind(String),
    /// The rate is not a number in `0..=1` or a percentage in `0%..=100%`.
    #[error("fault rate {0:?} is not a fraction in 0..=1 or a percentage")]
    BadRate(String),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fault_specs_parse() {
        let spec: FaultSpec = " Internal-Error = 0.25".parse().unwrap();
        assert_eq!((spec.kind, spec.rate), (FaultKind::InternalError, 0.25));
        assert_eq!(
            "delay".parse::<FaultSpec>(),
            Err(ParseFaultError::MissingRate("delay".into()))
        );
        assert!(matches!(
            "bad-gateway=-1".parse::<FaultSpec>(),
            Err(ParseFaultError::BadRate(_))
        ));
        assert!(matches!(
            "bad-gateway=NaN".parse::<FaultSpec>(),
            Err(ParseFaultError::BadRate(_))
        ));
        for kind in FaultKind::ALL {
            assert_eq!(kind.name().parse::<FaultKind>(), Ok(kind));
        }
    }

    #[test]
    fn config_check() {
        let mut c = Config::default();
        assert!(c.check().is_ok());
        c.faults = vec![
            FaultSpec::new(FaultKind::BadGateway, 0.7).unwrap(),
            FaultSpec::new(FaultKind::Delay, 0.7).unwrap(),
        ];
        assert!(matches!(c.check(), Err(ConfigError::FaultRatesAboveOne(_))));
        c.faults.clear();
        c.admins.clear();
        assert_eq!(c.check(), Err(ConfigError::NoAdmin));
        c.admins.push(String::new());
        assert_eq!(c.check(), Err(ConfigError::EmptyAccount));
    }
}
