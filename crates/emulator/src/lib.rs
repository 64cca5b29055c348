#![doc = include_str!("../README.md")]

mod app;
mod auth;
mod config;
mod events;
mod faults;
mod front;
mod handle;
mod inspection;
mod limits;
mod log;
mod reject;
mod services;
mod state;

pub use config::{
    Config, ConfigError, DEFAULT_ADMIN, DEFAULT_KEY, DEFAULT_SDKAPPID, FaultKind, FaultSpec,
    PUSH_DEDUP_WINDOW, ParseFaultError,
};
pub use events::{Event, EventKind};
pub use front::INSPECTION_PREFIX;
pub use handle::{
    Emulator, EmulatorBuilder, EmulatorHandle, ImportError, StartError, shutdown_signal,
};
pub use log::RequestRecord;
pub use state::store::StateFileError;
pub use state::{AccountSnapshot, AllMemberPushSnapshot, PushRecord, StateSnapshot};
/// The clocks the emulator reads time from: tim-core's, so one [`ManualClock`] can drive a
/// client and an emulator together.
pub use tim_core::{Clock, ManualClock, SystemClock};

/// Whether the emulator has the semantics of `endpoint`. Every endpoint of the spec gets the
/// front layer's checks (authentication, rate limits, body shape, documented limits); one
/// without semantics is then answered 60017 with an `ErrorInfo` naming the command.
///
/// ```
/// use tim_core::EndpointId;
/// assert!(tim_emulator::emulates(EndpointId::AllMemberPushPush));
/// ```
pub fn emulates(endpoint: tim_core::EndpointId) -> bool {
    static REGISTRY: std::sync::OnceLock<services::Registry> = std::sync::OnceLock::new();
    REGISTRY
        .get_or_init(services::Registry::new)
        .emulates(endpoint)
}

fn lock<T>(m: &std::sync::Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}
