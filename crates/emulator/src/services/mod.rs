//! Per-service semantics, registered by endpoint: each handler takes the typed request (already
//! through the front layer's checks, decoded and validated against the spec's limits) and the
//! call's context, reads the state, stages changes and events, and answers the typed response.
//!
//! Adding a service's semantics: a `services/<service>.rs` with a `register` function, one line
//! in [`Registry::new`], its state section in `state/`, and its tests. An endpoint without a
//! handler still gets every check of the front layer and then a documented refusal naming it.

use std::collections::{BTreeMap, HashMap};

use serde_json::Value;
use tim_core::{Endpoint, EndpointId, EndpointVisitor, ErrorCode, Validate, encode_success};

use crate::config::Config;
use crate::events::EventKind;
use crate::reject::{Reject, Res, reject};
use crate::state::{Change, State};

mod all_member_push;
mod im_open_login_svc;
mod openim;
mod openim_msg_ext_http_svc;
mod profile;

/// What a handler sees of one call.
pub(crate) struct Cx<'a> {
    /// The state as it was when the call began (staged changes are not visible).
    pub(crate) state: &'a State,
    /// The emulator's configuration.
    pub(crate) config: &'a Config,
    /// The call's time, by the emulator's clock (Unix milliseconds).
    pub(crate) now_ms: u64,
    /// The admin account that made the call.
    pub(crate) identifier: &'a str,
    /// Accounts set to fail inside multi-account calls (admin path `item-failures`): code and
    /// `ResultInfo`.
    item_failures: &'a BTreeMap<String, (i64, String)>,
    changes: Vec<Change>,
    events: Vec<EventKind>,
    replayed: bool,
    partial: bool,
}

impl<'a> Cx<'a> {
    pub(crate) fn new(
        state: &'a State,
        config: &'a Config,
        now_ms: u64,
        identifier: &'a str,
        item_failures: &'a BTreeMap<String, (i64, String)>,
    ) -> Self {
        Self {
            state,
            config,
            now_ms,
            identifier,
            item_failures,
            changes: Vec::new(),
            events: Vec::new(),
            replayed: false,
            partial: false,
        }
    }

    /// The code and `ResultInfo` with which `account` fails inside a multi-account call, when
    /// a test asked for it.
    pub(crate) fn item_failure(&self, account: &str) -> Option<(i64, &str)> {
        self.item_failures
            .get(account)
            .map(|(c, i)| (*c, i.as_str()))
    }

    /// Stages a change: stored and applied, with every other change of the call, only if the
    /// call succeeds.
    pub(crate) fn stage(&mut self, change: Change) {
        self.changes.push(change);
    }

    /// Marks the answer a partial success: `ActionStatus: SomeError` with `ErrorCode` 0, as
    /// batchsendmsg answers when some recipients failed.
    pub(crate) fn partial(&mut self) {
        self.partial = true;
    }

    /// Emits an event: dispatched only if the call succeeds and its changes are stored.
    pub(crate) fn emit(&mut self, event: EventKind) {
        self.events.push(event);
    }

    /// The staged changes and events, and whether the call was answered as a repeat of an
    /// earlier one (nothing staged, no limits counted).
    pub(crate) fn finish(self) -> (Vec<Change>, Vec<EventKind>, bool) {
        (self.changes, self.events, self.replayed)
    }
}

/// A service's handling of a call: `call` does it; `replay`, when given, recognises a repeat
/// of an earlier call (a push with the same `MsgRandom`) and answers it as that call was
/// answered, before the spacing and quota of the endpoint are checked.
struct Op<E: Endpoint> {
    call: Call<E>,
    replay: Option<Replay<E>>,
}

/// A handler of endpoint `E`.
pub(crate) type Call<E> =
    fn(&mut Cx<'_>, <E as Endpoint>::Request) -> Res<<E as Endpoint>::Response>;

/// A rule that recognises a repeat of an earlier call of `E` and answers it.
pub(crate) type Replay<E> =
    fn(&Cx<'_>, &<E as Endpoint>::Request) -> Option<<E as Endpoint>::Response>;

/// The checks the front layer runs once the typed request is known: the per-minute budget
/// (given the call's cost) and the endpoint's spacing and daily quota.
pub(crate) type Gate<'g> = dyn FnMut(&Cx<'_>, u32) -> Res<()> + 'g;

trait Handler: Send + Sync {
    fn handle(&self, cx: &mut Cx<'_>, body: Value, gate: &mut Gate<'_>) -> Res<Vec<u8>>;
}

impl<E: Endpoint> Handler for Op<E> {
    fn handle(&self, cx: &mut Cx<'_>, body: Value, gate: &mut Gate<'_>) -> Res<Vec<u8>> {
        let req = decode::<E>(body)?;
        if let Some(answer) = self.replay.and_then(|f| f(cx, &req)) {
            cx.replayed = true;
            return Ok(encode_success(&answer));
        }
        gate(cx, E::cost(&req))?;
        let answer = (self.call)(cx, req)?;
        let body = encode_success(&answer);
        const OK: &[u8] = br#"{"ActionStatus":"OK""#;
        match body.strip_prefix(OK) {
            Some(rest) if cx.partial => {
                let mut partial = br#"{"ActionStatus":"SomeError""#.to_vec();
                partial.extend_from_slice(rest);
                Ok(partial)
            }
            _ => Ok(body),
        }
    }
}

/// The typed request of a body that passed the shape check, with its limits checked.
fn decode<E: Endpoint>(body: Value) -> Res<E::Request> {
    let req: E::Request = serde_json::from_value(body).map_err(|e| {
        reject(
            crate::auth::malformed_body_code(E::INFO.id),
            format!("json parse failed: {e}"),
        )
    })?;
    req.validate()?;
    Ok(req)
}

/// Checks a body of an endpoint whose semantics are not emulated, then refuses it by name.
struct Unemulated(Value);

impl EndpointVisitor for Unemulated {
    type Output = Reject;
    fn visit<E: Endpoint>(self) -> Reject {
        match decode::<E>(self.0) {
            Err(r) => r,
            Ok(_) => reject(
                ErrorCode::RequestDisabled,
                format!(
                    "tim-emulator: the request to {}/{} is valid, but the emulator does not emulate this command yet",
                    E::INFO.service,
                    E::INFO.command
                ),
            ),
        }
    }
}

/// Every handler, by endpoint.
pub(crate) struct Registry {
    ops: HashMap<EndpointId, Box<dyn Handler>>,
}

impl std::fmt::Debug for Registry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut ids: Vec<_> = self.ops.keys().collect();
        ids.sort();
        f.debug_struct("Registry").field("emulated", &ids).finish()
    }
}

/// What [`Registry::add`] returns, to attach a replay rule.
pub(crate) struct Added<'r, E: Endpoint> {
    registry: &'r mut Registry,
    call: Call<E>,
}

impl<E: Endpoint> Added<'_, E> {
    /// Answers a repeat of an earlier call as it was answered (see [`Op`]).
    pub(crate) fn with_replay(self, replay: Replay<E>) {
        self.registry.ops.insert(
            E::INFO.id,
            Box::new(Op::<E> {
                call: self.call,
                replay: Some(replay),
            }),
        );
    }
}

impl Registry {
    /// Every service's handlers.
    pub(crate) fn new() -> Self {
        let mut r = Self {
            ops: HashMap::new(),
        };
        all_member_push::register(&mut r);
        im_open_login_svc::register(&mut r);
        openim::register(&mut r);
        openim_msg_ext_http_svc::register(&mut r);
        profile::register(&mut r);
        r
    }

    /// Registers `call` for endpoint `E`.
    pub(crate) fn add<E: Endpoint>(&mut self, call: Call<E>) -> Added<'_, E> {
        self.ops
            .insert(E::INFO.id, Box::new(Op::<E> { call, replay: None }));
        Added {
            registry: self,
            call,
        }
    }

    /// Whether `id` has semantics here.
    pub(crate) fn emulates(&self, id: EndpointId) -> bool {
        self.ops.contains_key(&id)
    }

    /// Handles one call whose body passed the front layer.
    pub(crate) fn handle(
        &self,
        id: EndpointId,
        cx: &mut Cx<'_>,
        body: Value,
        gate: &mut Gate<'_>,
    ) -> Res<Vec<u8>> {
        match self.ops.get(&id) {
            Some(op) => op.handle(cx, body, gate),
            None => Err(id.visit(Unemulated(body))),
        }
    }
}
