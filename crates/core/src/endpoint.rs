//! The one trait every endpoint implements, and the data the spec records about each.

use std::fmt::Debug;
use std::time::Duration;

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::envelope::Envelope;
use crate::generated::{EndpointId, ErrorCode};
use crate::validate::Validate;

/// One REST command of the API, e.g. [`GetTag`](crate::all_member_push::GetTag) for
/// `v4/all_member_push/im_get_tag`: a marker type that ties the request, the answer and what the
/// spec says about the command together. Implemented by generated code only.
///
/// ```
/// use tim_core::{Endpoint, all_member_push::{GetTag, Push}};
/// assert_eq!(GetTag::INFO.command, "im_get_tag");
/// assert_eq!(GetTag::INFO.path(), "/v4/all_member_push/im_get_tag");
/// assert!(GetTag::INFO.idempotent);
/// assert!(!Push::INFO.idempotent);
/// ```
pub trait Endpoint: Copy + Default + Debug + Send + Sync + 'static {
    /// The request body.
    type Request: ApiRequest<Endpoint = Self>
        + Serialize
        + DeserializeOwned
        + Validate
        + Clone
        + Debug
        + PartialEq
        + Send
        + Sync
        + 'static;
    /// What a successful answer carries (the envelope is checked by [`decode`](crate::decode)
    /// and not kept).
    type Response: Serialize + DeserializeOwned + Clone + Debug + PartialEq + Send + Sync + 'static;
    /// The wire form of an answer, envelope included, parsed in one pass.
    #[doc(hidden)]
    type Answer: DeserializeOwned + Envelope + Into<Self::Response> + Debug;
    /// What the spec says about the endpoint.
    const INFO: &'static EndpointInfo;

    /// What one call with `request` costs against the endpoint's per-minute budget: 1, or the
    /// length of the list the spec names (`rate.counted_by`, e.g. recipients).
    fn cost(request: &Self::Request) -> u32 {
        let _ = request;
        1
    }
}

/// A request body that knows its endpoint, so that [`Client::send`](crate::Client::send) needs
/// no type parameter. Implemented by generated code only.
///
/// ```
/// use tim_core::{ApiRequest, Endpoint, all_member_push::GetTagRequest};
/// fn path_of<R: ApiRequest>(_: &R) -> String { R::Endpoint::INFO.path() }
/// assert_eq!(path_of(&GetTagRequest::new(["u1"])), "/v4/all_member_push/im_get_tag");
/// ```
pub trait ApiRequest: Sized {
    /// The endpoint the request is sent to.
    type Endpoint: Endpoint<Request = Self>;
    /// The top-level fields this version of the spec does not know, sent as they are.
    fn extra(&self) -> &std::collections::BTreeMap<String, serde_json::Value>;
}

/// What the spec records about an endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct EndpointInfo {
    /// Its key in the registry.
    pub id: EndpointId,
    /// The Rust name, e.g. `GetTag`.
    pub name: &'static str,
    /// The service path segment, e.g. `all_member_push`.
    pub service: &'static str,
    /// The command, e.g. `im_get_tag`.
    pub command: &'static str,
    /// One-line description.
    pub doc: &'static str,
    /// Tencent's documentation page, when the spec records it.
    pub page: Option<&'static str>,
    /// Whether repeating the call is harmless (so an ambiguous failure may be retried).
    pub idempotent: bool,
    /// Documented call frequency.
    pub rate: RateLimit,
    /// For batch endpoints: the list that is chunked and its documented maximum per call.
    pub batch: Option<BatchInfo>,
    /// The error codes the endpoint's page documents.
    pub errors: &'static [ErrorCode],
    /// The wire shape of the request body, for checking JSON that did not come from the typed
    /// request (see [`schema`](crate::schema)).
    pub request_shape: &'static crate::schema::StructShape,
}

impl EndpointInfo {
    /// The URL path: `/v4/<service>/<command>`.
    pub fn path(&self) -> String {
        format!("/v4/{}/{}", self.service, self.command)
    }
}

/// A documented call frequency.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct RateLimit {
    /// Calls per second.
    pub per_second: Option<u32>,
    /// Units per minute: a call costs one, or the length of the `counted_by` list.
    pub per_minute: Option<u32>,
    /// Wire name of the request list a call costs against `per_minute` (e.g. recipients).
    pub counted_by: Option<&'static str>,
    /// Calls per day.
    pub per_day: Option<u32>,
    /// Consecutive calls must be more than this apart.
    pub min_interval: Option<Duration>,
}

/// Which list of a request batch helpers split, and into chunks of what size.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct BatchInfo {
    /// Wire name of the request list, e.g. `To_Account`.
    pub request_field: &'static str,
    /// Wire name of the response list that is merged across chunks, if any.
    pub response_field: Option<&'static str>,
    /// Most items per call.
    pub max_items: usize,
    /// Codes with which the server refuses a whole call for one item's sake (an attribute that
    /// is not configured, say): the batch engine splits such a call to isolate the item.
    pub item_codes: &'static [ErrorCode],
}

/// An endpoint whose request is one list of independent items (accounts, or per-user entries),
/// so that any number of items can be sent in documented-size chunks.
///
/// ```
/// use tim_core::{Batch, all_member_push::GetTag};
/// let req = GetTag::request_from_items(vec!["a".to_string(), "b".to_string()]);
/// assert_eq!(req.to_account, ["a", "b"]);
/// assert_eq!(GetTag::MAX_ITEMS, 100);
/// ```
pub trait Batch: Endpoint {
    /// One element of the chunked list.
    type Item: Serialize + DeserializeOwned + Clone + Debug + PartialEq + Send + Sync + 'static;
    /// Most items per call.
    const MAX_ITEMS: usize;
    /// A request carrying exactly `items`.
    fn request_from_items(items: Vec<Self::Item>) -> Self::Request;
    /// The items of a request.
    fn items(request: &Self::Request) -> &[Self::Item];
    /// Appends the results of `next` (a later chunk) to `acc`.
    fn merge(acc: &mut Self::Response, next: Self::Response);
    /// The items an answer that is OK as a whole reports as failed (per-item result codes,
    /// lists of failed accounts), where the spec says the endpoint reports them. Empty for
    /// endpoints that report none.
    fn item_failures(response: &Self::Response) -> Vec<ItemFailure> {
        let _ = response;
        Vec::new()
    }
}

/// One item that an answer, OK as a whole, reports as failed.
///
/// ```
/// use tim_core::{ErrorCode, ItemFailure};
/// let f = ItemFailure::new("alice", Some(ErrorCode::from(70107)), "not imported");
/// assert_eq!(f.key, "alice");
/// assert_eq!(f.code, Some(ErrorCode::AccountNotFound));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ItemFailure {
    /// The item, as the answer names it (an account).
    pub key: String,
    /// Its result code, when the answer gives one.
    pub code: Option<ErrorCode>,
    /// Its result text, when the answer gives one.
    pub info: String,
}

impl ItemFailure {
    /// An item failure.
    pub fn new(key: impl Into<String>, code: Option<ErrorCode>, info: impl Into<String>) -> Self {
        Self {
            key: key.into(),
            code,
            info: info.into(),
        }
    }
}

/// Something to do with an endpoint type chosen at run time, e.g. from a command name.
/// See [`EndpointId::visit`](crate::EndpointId::visit).
pub trait EndpointVisitor {
    /// What the visit returns.
    type Output;
    /// Called with the endpoint type.
    fn visit<E: Endpoint>(self) -> Self::Output;
}

/// Something to do with a [`Batch`] endpoint type chosen at run time. See
/// [`EndpointId::visit_batch`](crate::EndpointId::visit_batch).
pub trait BatchVisitor {
    /// What the visit returns.
    type Output;
    /// Called with the endpoint's type.
    fn visit<E: Batch>(self) -> Self::Output;
}
