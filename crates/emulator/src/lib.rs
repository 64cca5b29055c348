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

/// The commands the emulator implements. A command added to the spec later is answered 60009
/// ("bad request resource") until the emulator learns its rules; the sample tests skip it.
pub const EMULATED_COMMANDS: &[tim_core::Command] = &[
    tim_core::Command::Push,
    tim_core::Command::SetAttrName,
    tim_core::Command::GetAttrName,
    tim_core::Command::GetAttr,
    tim_core::Command::SetAttr,
    tim_core::Command::RemoveAttr,
    tim_core::Command::GetTag,
    tim_core::Command::AddTag,
    tim_core::Command::RemoveTag,
    tim_core::Command::RemoveAllTags,
];
