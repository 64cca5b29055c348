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
    PUSH_DEDUP_WINDOW, ParseFaultError,
};
pub use model::{AccountSnapshot, PushRecord, StateSnapshot};
pub use server::{
    Emulator, EmulatorBuilder, EmulatorHandle, INSPECTION_PREFIX, ImportError, RequestRecord,
    StartError, shutdown_signal,
};
pub use store::StateFileError;

/// The commands the emulator implements. A command added to the spec later is answered 60009
/// ("bad request resource") until the emulator learns its rules; the sample tests skip it.
pub const EMULATED_COMMANDS: &[tim_core::EndpointId] = &[
    tim_core::EndpointId::AllMemberPushPush,
    tim_core::EndpointId::AllMemberPushSetAttrName,
    tim_core::EndpointId::AllMemberPushGetAttrName,
    tim_core::EndpointId::AllMemberPushGetAttr,
    tim_core::EndpointId::AllMemberPushSetAttr,
    tim_core::EndpointId::AllMemberPushRemoveAttr,
    tim_core::EndpointId::AllMemberPushGetTag,
    tim_core::EndpointId::AllMemberPushAddTag,
    tim_core::EndpointId::AllMemberPushRemoveTag,
    tim_core::EndpointId::AllMemberPushRemoveAllTags,
];
