//! Batch helpers: any number of items, in documented-size chunks, with bounded concurrency,
//! and a report in which nothing is lost.
//!
//! This is the one bulk engine: the library's helpers and the `tim` CLI's bulk jobs both run on
//! [`Client::chunks_keyed`]. Each item travels with a key of the caller's (an input line number,
//! a position), so that every outcome names its items' keys. When the server refuses a whole
//! call for one item's sake (a code the spec lists as item-level for the endpoint), the chunk is
//! split in halves until the offending items are alone, and the rest still go: one bad item
//! never fails its neighbours. A refused call was not executed, so splitting repeats nothing.

use std::fmt;
use std::pin::pin;

use futures_util::{Stream, StreamExt as _, stream};

use crate::client::Client;
use crate::endpoint::{Batch, ItemFailure};
use crate::error::Error;
use crate::transport::Transport;

/// One call of a batch: the items it carried (with their keys) and what the server said.
#[non_exhaustive]
pub struct Settled<E: Batch, K> {
    /// The caller's key of each item (e.g. its input line), in input order.
    pub keys: Vec<K>,
    /// The items, in input order.
    pub items: Vec<E::Item>,
    /// The answer, or the error after retries.
    pub result: Result<E::Response, Error>,
}

impl<E: Batch, K> Settled<E, K> {
    /// The items an OK answer reports as failed ([`Batch::item_failures`]); empty when the call
    /// failed as a whole (see `result`).
    pub fn item_failures(&self) -> Vec<ItemFailure> {
        match &self.result {
            Ok(response) => E::item_failures(response),
            Err(_) => Vec::new(),
        }
    }
}

impl<E: Batch, K: fmt::Debug> fmt::Debug for Settled<E, K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Settled")
            .field("keys", &self.keys)
            .field("items", &self.items)
            .field("result", &self.result)
            .finish()
    }
}

/// What one chunk of the input came to: one call, or several when the server refused the chunk
/// for one item's sake and it was split to isolate that item. The parts hold every item of the
/// chunk exactly once, in input order.
#[non_exhaustive]
pub struct ChunkOutcome<E: Batch, K = usize> {
    /// Position of the chunk in the input, from 0.
    pub index: usize,
    /// The calls the chunk took, in input order of their items.
    pub parts: Vec<Settled<E, K>>,
}

impl<E: Batch, K> ChunkOutcome<E, K> {
    /// How many items the chunk holds.
    pub fn len(&self) -> usize {
        self.parts.iter().map(|p| p.items.len()).sum()
    }

    /// Whether the chunk holds no items (never, for chunks the engine yields).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// How many calls the chunk took (more than one when it was split).
    pub fn calls(&self) -> usize {
        self.parts.len()
    }

    /// Whether every call of the chunk succeeded (items reported failed inside OK answers
    /// aside: see [`Settled::item_failures`]).
    pub fn is_ok(&self) -> bool {
        self.parts.iter().all(|p| p.result.is_ok())
    }

    /// Every item of the chunk, in input order.
    pub fn items(&self) -> impl Iterator<Item = &E::Item> {
        self.parts.iter().flat_map(|p| p.items.iter())
    }
}

impl<E: Batch, K: fmt::Debug> fmt::Debug for ChunkOutcome<E, K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ChunkOutcome")
            .field("index", &self.index)
            .field("parts", &self.parts)
            .finish()
    }
}

/// A call that failed: its items and the typed error, so that nothing is silently lost.
#[non_exhaustive]
pub struct FailedChunk<E: Batch> {
    /// Position in the input of the chunk the call belongs to, from 0.
    pub index: usize,
    /// Position in the input of each item, from 0.
    pub positions: Vec<usize>,
    /// The items the call carried.
    pub items: Vec<E::Item>,
    /// Why it failed (after retries).
    pub error: Error,
}

impl<E: Batch> fmt::Debug for FailedChunk<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FailedChunk")
            .field("index", &self.index)
            .field("positions", &self.positions)
            .field("items", &self.items)
            .field("error", &self.error)
            .finish()
    }
}

/// What a batch did: the merged answers of the calls that succeeded (in input order), every
/// call that failed with its items and error, and every item an OK answer reported as failed.
#[non_exhaustive]
pub struct BatchReport<E: Batch> {
    /// The successful calls' answers merged in input order ([`Batch::merge`]); `None` when no
    /// call succeeded (or there were no items).
    pub merged: Option<E::Response>,
    /// The calls that failed, in input order.
    pub failed: Vec<FailedChunk<E>>,
    /// Items that answers, OK as a whole, reported as failed (per-item result codes, failed
    /// account lists), in input order of their calls.
    pub item_failures: Vec<ItemFailure>,
    /// Calls made, successful or not (a chunk split to isolate a bad item takes several).
    pub calls: usize,
    /// Items seen.
    pub items: usize,
}

impl<E: Batch> fmt::Debug for BatchReport<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BatchReport")
            .field("merged", &self.merged)
            .field("failed", &self.failed)
            .field("item_failures", &self.item_failures)
            .field("calls", &self.calls)
            .field("items", &self.items)
            .finish()
    }
}

impl<E: Batch> Default for BatchReport<E> {
    fn default() -> Self {
        Self {
            merged: None,
            failed: Vec::new(),
            item_failures: Vec::new(),
            calls: 0,
            items: 0,
        }
    }
}

impl<E: Batch> BatchReport<E> {
    /// Adds one chunk's outcome (chunks must be added in input order for `merged` to be in
    /// order).
    pub fn add(&mut self, chunk: ChunkOutcome<E, usize>) {
        for part in chunk.parts {
            self.calls += 1;
            self.items += part.items.len();
            match part.result {
                Ok(response) => {
                    self.item_failures.extend(E::item_failures(&response));
                    match &mut self.merged {
                        Some(acc) => E::merge(acc, response),
                        None => self.merged = Some(response),
                    }
                }
                Err(error) => self.failed.push(FailedChunk {
                    index: chunk.index,
                    positions: part.keys,
                    items: part.items,
                    error,
                }),
            }
        }
    }

    /// Whether every call succeeded and no answer reported a failed item.
    pub fn is_complete(&self) -> bool {
        self.failed.is_empty() && self.item_failures.is_empty()
    }

    /// How many items failed: those of failed calls, and those OK answers reported as failed.
    pub fn failed_items(&self) -> usize {
        self.failed.iter().map(|c| c.items.len()).sum::<usize>() + self.item_failures.len()
    }
}

/// Whether `error` is the server refusing a whole call of `E` for one item's sake: an API error
/// whose code the spec lists as item-level for the endpoint (`batch.item_codes`).
fn refused_for_an_item<E: Batch>(error: &Error) -> bool {
    match (error.code(), E::INFO.batch) {
        (Some(code), Some(info)) => info.item_codes.contains(&code),
        _ => false,
    }
}

impl<T: Transport> Client<T> {
    /// Sends one chunk, splitting it in halves while the server refuses it for one item's
    /// sake, until the offending items are alone. Returns the calls in input order.
    async fn settle<E: Batch, K>(&self, keys: Vec<K>, items: Vec<E::Item>) -> Vec<Settled<E, K>> {
        let mut out = Vec::new();
        // Work in input order: the leftmost part is always on top.
        let mut stack = vec![(keys, items)];
        while let Some((mut keys, items)) = stack.pop() {
            let request = E::request_from_items(items);
            let result = self.call_ref::<E>(&request).await;
            let mut items = E::items(&request).to_vec();
            match result {
                Err(error) if items.len() > 1 && refused_for_an_item::<E>(&error) => {
                    tracing::debug!(
                        endpoint = %E::INFO.id,
                        items = items.len(),
                        %error,
                        "refused for an item's sake: splitting the call to isolate it"
                    );
                    let mid = items.len() / 2;
                    let right_items = items.split_off(mid);
                    let right_keys = keys.split_off(mid);
                    stack.push((right_keys, right_items));
                    stack.push((keys, items));
                }
                result => out.push(Settled {
                    keys,
                    items,
                    result,
                }),
            }
        }
        out
    }

    /// The bulk engine: runs a [`Batch`] endpoint over any number of keyed items (each with a
    /// key of yours, e.g. its input line), in chunks of [`Batch::MAX_ITEMS`], keeping
    /// [`Client::batch_concurrency`] chunks in flight under the rate limiter (each call with
    /// retries), and yields each chunk's outcome in input order.
    ///
    /// The input is pulled only as fast as chunks are sent, so memory stays flat however many
    /// items come in. A chunk the server refuses for one item's sake is split until that item
    /// is alone (see the module docs), so every other item still goes. Calls of
    /// non-idempotent endpoints are never repeated after an ambiguous failure (the retry
    /// policy's rule), and splitting only follows a refusal, which executed nothing.
    ///
    /// ```
    /// use futures_util::StreamExt as _;
    /// use tim_core::{Client, TransportError, bytes::Bytes, http, all_member_push::RemoveAllTags};
    /// # let t = |_req: http::Request<Vec<u8>>| async { Ok::<_, TransportError>(http::Response::new(Bytes::from_static(br#"{"ActionStatus":"OK","ErrorCode":0,"ErrorInfo":""}"#))) };
    /// # let client = Client::builder().with_sdkappid(1).with_secret_key("k").build_with(t)?;
    /// // Accounts keyed by their line in some input.
    /// let lines = futures_util::stream::iter((1..=150u64).map(|line| (line, format!("user{line}"))));
    /// let chunks: Vec<(usize, u64, u64)> = futures_executor::block_on(
    ///     client
    ///         .chunks_keyed::<RemoveAllTags, _, _>(lines)
    ///         .map(|c| {
    ///             assert!(c.is_ok());
    ///             let keys: Vec<u64> = c.parts.iter().flat_map(|p| p.keys.iter().copied()).collect();
    ///             (c.len(), keys[0], *keys.last().unwrap())
    ///         })
    ///         .collect(),
    /// );
    /// assert_eq!(chunks, [(100, 1, 100), (50, 101, 150)]);
    /// # Ok::<(), tim_core::BuildError>(())
    /// ```
    pub fn chunks_keyed<E, K, S>(
        &self,
        items: S,
    ) -> impl Stream<Item = ChunkOutcome<E, K>> + Send + use<T, E, K, S>
    where
        E: Batch,
        K: Send + 'static,
        S: Stream<Item = (K, E::Item)> + Send,
    {
        let client = self.clone();
        let max = E::MAX_ITEMS.max(1);
        // Chunks run unordered, so that one being retried (or split) does not hold back the
        // others; their outcomes are put back in input order. Held outcomes are bounded by
        // what the other chunks finish while the slowest one waits (its retries end within the
        // retry policy's `max_elapsed`).
        let mut held: std::collections::BTreeMap<usize, ChunkOutcome<E, K>> =
            std::collections::BTreeMap::new();
        let mut next = 0usize;
        items
            .chunks(max)
            .enumerate()
            .map(move |(index, pairs)| {
                let client = client.clone();
                async move {
                    let (keys, items): (Vec<K>, Vec<E::Item>) = pairs.into_iter().unzip();
                    let parts = client.settle::<E, K>(keys, items).await;
                    ChunkOutcome { index, parts }
                }
            })
            .buffer_unordered(self.batch_concurrency())
            .map(move |outcome| {
                held.insert(outcome.index, outcome);
                let mut ready = Vec::new();
                while let Some(o) = held.remove(&next) {
                    ready.push(o);
                    next += 1;
                }
                stream::iter(ready)
            })
            .flatten()
    }

    /// [`Client::chunks_keyed`] with each item keyed by its position in the input (from 0).
    ///
    /// ```
    /// use futures_util::StreamExt as _;
    /// use tim_core::{Client, TransportError, bytes::Bytes, http, all_member_push::RemoveAllTags};
    /// # let t = |_req: http::Request<Vec<u8>>| async { Ok::<_, TransportError>(http::Response::new(Bytes::from_static(br#"{"ActionStatus":"OK","ErrorCode":0,"ErrorInfo":""}"#))) };
    /// # let client = Client::builder().with_sdkappid(1).with_secret_key("k").build_with(t)?;
    ///
    /// let accounts = futures_util::stream::iter((0..250).map(|i| format!("user{i}")));
    /// let sizes: Vec<usize> = futures_executor::block_on(
    ///     client.chunks::<RemoveAllTags, _>(accounts)
    ///         .map(|chunk| { assert!(chunk.is_ok()); chunk.len() })
    ///         .collect(),
    /// );
    /// assert_eq!(sizes, [100, 100, 50]);
    /// # Ok::<(), tim_core::BuildError>(())
    /// ```
    pub fn chunks<E, S>(
        &self,
        items: S,
    ) -> impl Stream<Item = ChunkOutcome<E, usize>> + Send + use<T, E, S>
    where
        E: Batch,
        S: Stream<Item = E::Item> + Send,
    {
        self.chunks_keyed::<E, usize, _>(items.enumerate())
    }

    /// Runs a [`Batch`] endpoint over any number of items and reports: the merged answers (for
    /// the get endpoints, every user's tags or attributes, in input order), every failed call
    /// with its items and error, and every item an OK answer reported as failed.
    ///
    /// ```
    /// use tim_core::{Client, TransportError, bytes::Bytes, http, all_member_push::GetTag};
    /// # let t = |req: http::Request<Vec<u8>>| async move {
    /// #     let asked: serde_json::Value = serde_json::from_slice(req.body()).unwrap();
    /// #     let tags: Vec<_> = asked["To_Account"].as_array().unwrap().iter()
    /// #         .map(|a| serde_json::json!({"To_Account": a, "Tags": ["t"]})).collect();
    /// #     let body = serde_json::json!({"ActionStatus":"OK","ErrorCode":0,"ErrorInfo":"","UserTags":tags});
    /// #     Ok::<_, TransportError>(http::Response::new(Bytes::from(body.to_string())))
    /// # };
    /// # let client = Client::builder().with_sdkappid(1).with_secret_key("k").build_with(t)?;
    /// let accounts = (0..1050).map(|i| format!("user{i}"));
    /// let report = futures_executor::block_on(client.batch::<GetTag, _>(accounts));
    /// assert!(report.is_complete());
    /// assert_eq!(report.calls, 11);
    /// let merged = report.merged.unwrap();
    /// assert_eq!(merged.user_tags.len(), 1050);
    /// assert_eq!(merged.user_tags[1049].to_account, "user1049");
    /// # Ok::<(), tim_core::BuildError>(())
    /// ```
    pub async fn batch<E, I>(&self, items: I) -> BatchReport<E>
    where
        E: Batch,
        I: IntoIterator<Item = E::Item>,
        I::IntoIter: Send,
    {
        self.batch_stream::<E, _>(stream::iter(items)).await
    }

    /// [`Client::batch`] over a stream of items.
    pub async fn batch_stream<E, S>(&self, items: S) -> BatchReport<E>
    where
        E: Batch,
        S: Stream<Item = E::Item> + Send,
    {
        let mut report = BatchReport::default();
        let mut outcomes = pin!(self.chunks::<E, S>(items));
        while let Some(outcome) = outcomes.next().await {
            report.add(outcome);
        }
        report
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use serde::{Deserialize, Serialize};

    use super::*;
    use crate::endpoint::{ApiRequest, Endpoint, EndpointInfo};
    use crate::envelope::{ActionStatus, Envelope};
    use crate::generated::ErrorCode;
    use crate::validate::{FieldPath, LimitError, Validate};
    use crate::{TransportError, bytes::Bytes};

    /// An endpoint whose OK answers report per-account results, as the generated code of such
    /// an endpoint does (`batch.failures` in the spec).
    #[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
    struct Check;

    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
    struct CheckRequest {
        #[serde(rename = "To_Account")]
        to_account: Vec<String>,
        #[serde(flatten)]
        extra: BTreeMap<String, serde_json::Value>,
    }

    impl Validate for CheckRequest {
        fn validate_at(&self, _at: &FieldPath<'_>) -> Result<(), LimitError> {
            Ok(())
        }
    }

    impl ApiRequest for CheckRequest {
        type Endpoint = Check;
        fn extra(&self) -> &BTreeMap<String, serde_json::Value> {
            &self.extra
        }
    }

    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
    struct CheckItem {
        #[serde(rename = "To_Account")]
        to_account: String,
        #[serde(rename = "ResultCode")]
        result_code: i64,
    }

    #[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
    struct CheckResponse {
        #[serde(rename = "ResultItem", default)]
        result_item: Vec<CheckItem>,
    }

    #[derive(Debug, Deserialize)]
    struct CheckAnswer {
        #[serde(rename = "ActionStatus")]
        action_status: ActionStatus,
        #[serde(rename = "ErrorCode", default)]
        error_code: i64,
        #[serde(rename = "ResultItem", default)]
        result_item: Vec<CheckItem>,
    }

    impl Envelope for CheckAnswer {
        fn action_status(&self) -> &ActionStatus {
            &self.action_status
        }
        fn error_code(&self) -> i64 {
            self.error_code
        }
        fn error_info(&self) -> &str {
            ""
        }
    }

    impl From<CheckAnswer> for CheckResponse {
        fn from(a: CheckAnswer) -> Self {
            Self {
                result_item: a.result_item,
            }
        }
    }

    impl Endpoint for Check {
        type Request = CheckRequest;
        type Response = CheckResponse;
        type Answer = CheckAnswer;
        const INFO: &'static EndpointInfo = <crate::all_member_push::GetTag as Endpoint>::INFO;
    }

    impl Batch for Check {
        type Item = String;
        const MAX_ITEMS: usize = 2;
        fn request_from_items(items: Vec<String>) -> CheckRequest {
            CheckRequest {
                to_account: items,
                extra: BTreeMap::new(),
            }
        }
        fn items(request: &CheckRequest) -> &[String] {
            &request.to_account
        }
        fn merge(acc: &mut CheckResponse, next: CheckResponse) {
            acc.result_item.extend(next.result_item);
        }
        fn item_failures(response: &CheckResponse) -> Vec<ItemFailure> {
            response
                .result_item
                .iter()
                .filter(|r| r.result_code != 0)
                .map(|r| ItemFailure::new(r.to_account.clone(), Some(r.result_code.into()), ""))
                .collect()
        }
    }

    #[test]
    fn failed_items_inside_ok_answers_count_as_failures() {
        // Accounts whose name starts with "x" fail with 70107 inside an OK answer.
        let transport = |req: http::Request<Vec<u8>>| async move {
            let asked: CheckRequest = serde_json::from_slice(req.body()).unwrap();
            let items: Vec<serde_json::Value> = asked
                .to_account
                .iter()
                .map(|a| {
                    let code = if a.starts_with('x') { 70107 } else { 0 };
                    serde_json::json!({"To_Account": a, "ResultCode": code})
                })
                .collect();
            let body =
                serde_json::json!({"ActionStatus": "OK", "ErrorCode": 0, "ResultItem": items});
            Ok::<_, TransportError>(http::Response::new(Bytes::from(body.to_string())))
        };
        let client = Client::builder()
            .with_sdkappid(1)
            .with_secret_key("k")
            .build_with(transport)
            .unwrap();
        let items = ["a", "x1", "b", "c", "x2"].map(String::from);
        let report = futures_executor::block_on(client.batch::<Check, _>(items));
        assert_eq!(report.calls, 3);
        assert!(report.failed.is_empty(), "no chunk failed as a whole");
        assert!(!report.is_complete(), "but two items did");
        assert_eq!(report.failed_items(), 2);
        let keys: Vec<&str> = report
            .item_failures
            .iter()
            .map(|f| f.key.as_str())
            .collect();
        assert_eq!(keys, ["x1", "x2"]);
        assert_eq!(
            report.item_failures[0].code,
            Some(ErrorCode::AccountNotFound)
        );
        assert_eq!(report.merged.unwrap().result_item.len(), 5);
    }
}

#[cfg(test)]
mod order_tests {
    use std::future::Future;
    use std::pin::Pin;
    use std::task::{Context, Poll};

    use futures_util::StreamExt as _;

    use crate::all_member_push::RemoveAllTags;
    use crate::{Client, TransportError, bytes::Bytes};

    /// Completes after being polled `left` more times (waking itself each time).
    struct Slow {
        left: usize,
    }

    impl Future for Slow {
        type Output = ();
        fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
            if self.left == 0 {
                return Poll::Ready(());
            }
            self.left -= 1;
            cx.waker().wake_by_ref();
            Poll::Pending
        }
    }

    /// Answers every call OK; the call whose first account is `u0` only after 50 polls. Its
    /// timer never fires for long waits (the per-attempt timeout), so the slow call is not cut.
    #[derive(Debug, Default)]
    struct SlowFirst {
        done: std::sync::Mutex<Vec<String>>,
    }

    impl crate::Transport for SlowFirst {
        fn send(
            &self,
            req: http::Request<Vec<u8>>,
        ) -> impl Future<Output = Result<http::Response<Bytes>, TransportError>> + Send {
            let body: serde_json::Value = serde_json::from_slice(req.body()).unwrap();
            let first = body["To_Account"][0]
                .as_str()
                .unwrap_or_default()
                .to_owned();
            let left = if first == "u0" { 50 } else { 0 };
            async move {
                Slow { left }.await;
                self.done.lock().unwrap().push(first);
                Ok(http::Response::new(Bytes::from_static(
                    br#"{"ActionStatus":"OK","ErrorCode":0,"ErrorInfo":""}"#,
                )))
            }
        }

        fn sleep(&self, duration: std::time::Duration) -> impl Future<Output = ()> + Send {
            let never = duration >= std::time::Duration::from_secs(60);
            async move {
                if never {
                    std::future::pending::<()>().await;
                }
            }
        }
    }

    #[test]
    fn outcomes_come_in_input_order_when_a_later_chunk_finishes_first() {
        let client = Client::builder()
            .with_sdkappid(1)
            .with_secret_key("k")
            .with_timeout(std::time::Duration::from_secs(3600))
            .with_rate_limits(crate::RateLimits::off())
            .with_batch_concurrency(4)
            .build_with(SlowFirst::default())
            .unwrap();
        let items = futures_util::stream::iter((0..400).map(|i| format!("u{i}")));
        let order: Vec<(usize, usize)> = futures_executor::block_on(
            client
                .chunks::<RemoveAllTags, _>(items)
                .map(|c| (c.index, c.parts[0].keys[0]))
                .collect(),
        );
        // In input order, although the first chunk was answered last: the others did not wait.
        assert_eq!(order, [(0, 0), (1, 100), (2, 200), (3, 300)]);
        let finished = client.transport().done.lock().unwrap().clone();
        assert_eq!(finished, ["u100", "u200", "u300", "u0"]);
    }
}
