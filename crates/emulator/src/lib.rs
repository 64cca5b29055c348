#![doc = include_str!("../README.md")]

mod api;
mod clock;
mod config;
mod model;
mod rate;
mod server;
mod store;

pub use clock::{Clock, ManualClock, SystemClock};
pub use config::{
    Config, ConfigError, DEFAULT_ADMIN, DEFAULT_KEY, DEFAULT_SDKAPPID, FaultKind, FaultSpec,
    ParseFaultError,
};
pub use model::{AccountSnapshot, PushRecord, StateSnapshot};
pub use server::{
    Emulator, EmulatorBuilder, EmulatorHandle, INSPECTION_PREFIX, ImportError, RequestRecord,
    StartError, shutdown_signal,
};
pub use store::StateFileError;
