//! # tim-core
//!
//! The transport-agnostic core of tim-rs, the Rust SDK for Tencent Cloud Chat's (TIM) server
//! REST API. Each wire service is a module (`tim_core::all_member_push`, ...) and a cargo
//! feature of the same name (all on by default); shapes several services share live in
//! [`common`].
//!
//! It does no I/O: it turns a typed call into an [`http::Request`] ([`build_request`]) and an
//! HTTP status plus body bytes back into a typed result ([`decode`]). It also owns UserSig
//! ([`usersig`], [`Signer`]), regions ([`Region`], [`BaseUrl`]), the envelope, typed error codes
//! ([`ErrorCode`]), the documented limits ([`Validate`]) and retry classification
//! ([`RetryClass`]). Clocks and random numbers are passed in, never read here.
//!
//! The service modules, [`common`], [`ErrorCode`], [`Region`] and the registry
//! [`EndpointId`] are generated from `spec/` by `cargo xtask regenerate`.
//!
//! ```
//! use http::StatusCode;
//! use tim_core::{Auth, Region, SecretKey, Signer, build_request, decode, all_member_push::{GetTag, GetTagRequest}};
//!
//! let signer = Signer::with_key(1400000000, "administrator", SecretKey::new("key"));
//! let now = 1_700_000_000; // your clock
//! let sig = signer.usersig(now);
//! let auth = Auth { sdkappid: signer.sdkappid(), identifier: signer.identifier(), usersig: &sig };
//! let request = build_request::<GetTag>(&Region::China.into(), &auth, 42, &GetTagRequest::new(["u1"]))?;
//! // ... send `request` with any HTTP client, then:
//! let answer = decode::<GetTag>(StatusCode::OK, br#"{"ActionStatus":"OK","ErrorCode":0,"ErrorInfo":"","UserTags":[]}"#)?;
//! assert!(answer.user_tags.is_empty());
//! # Ok::<(), tim_core::Error>(())
//! ```

mod batch;
mod classify;
mod client;
mod clock;
mod codec;
mod endpoint;
mod envelope;
mod error;
mod pager;
mod ratelimit;
mod retry;
pub mod schema;
mod secret;
mod shared_limiter;
mod signer;
mod transport;
mod url;
pub mod usersig;
mod validate;

#[rustfmt::skip]
mod generated;

pub use batch::{BatchReport, ChunkOutcome, FailedChunk, Settled};
pub use classify::{CodeKind, Verdict, classify};
pub use client::{BuildError, Client, ClientBuilder, DEFAULT_IDENTIFIER, env};
pub use clock::{Clock, FastRandom, ManualClock, RandomSource, SeededRandom, SystemClock};
pub use codec::{Auth, build_request, decode, encode_answer, encode_body, encode_success};
pub use endpoint::{
    ApiRequest, Batch, BatchInfo, BatchVisitor, Endpoint, EndpointInfo, EndpointVisitor,
    ItemFailure, RateLimit,
};
pub use envelope::{ActionStatus, BareEnvelope, Envelope};
pub use error::{ApiError, DecodeErrorKind, Error, ErrorKind, RetryClass, Sent, TransportError};
pub use generated::*;
pub use ratelimit::{Outcome, RateLimiter, RateLimits};
pub use retry::{RetryDecision, RetryPolicy};
pub use secret::{SecretKey, UserSig, redact_url};
pub use shared_limiter::{Acquire, LimiterError, LimiterFuture, SharedLimiter};
pub use signer::Signer;
pub use transport::{BodyTooLarge, MakeTransport, Transport, TransportConfig};
pub use url::{BaseUrl, BaseUrlError};
pub use validate::{FieldPath, Limit, LimitError, Validate};

pub use bytes;
pub use http;
