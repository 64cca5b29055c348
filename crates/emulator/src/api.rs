//! The ten endpoints, without HTTP: URL and authentication checks, lenient body checks for the
//! codes the real service answers before it knows the types (90001, 90005, 60015, ...), then the
//! generated request types and their [`Validate`] checks (whose [`LimitError::code`] is the
//! server's code), then the rules that need the stored state, then one [`Change`].

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, MutexGuard};

use http::Method;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};
use tim_core::all_member_push::{
    AddTagRequest, GetAttrNameRequest, GetAttrNameResponse, GetAttrRequest, GetAttrResponse,
    GetTagRequest, GetTagResponse, PushRequest, PushResponse, RemoveAllTagsRequest,
    RemoveAllTagsResponse, RemoveAttrRequest, RemoveAttrResponse, RemoveTagRequest,
    RemoveTagResponse, SetAttrNameRequest, SetAttrNameResponse, SetAttrRequest, SetAttrResponse,
};
use tim_core::usersig::{self, MalformedReason, VerifyError};
use tim_core::{ActionStatus, BareEnvelope, EndpointId, ErrorCode, LimitError, Validate};
use tim_core::{
    all_member_push::{UserAttrs, UserTags},
    common::{MsgElement, OfflinePushInfo},
};

use crate::clock::Clock;
use crate::config::Config;
use crate::model::{Change, MAX_TAGS_PER_ACCOUNT, PushRecord, State};
use crate::rate::{Windows, pushes_today};
use crate::store::{self, StateFileError, Wal};

/// Largest `MsgLifeTime`: 7 days.
const MAX_MSG_LIFE_TIME: i64 = 604_800;

/// What the service answered to one call.
#[derive(Debug)]
pub(crate) struct Answer {
    /// The JSON envelope.
    pub(crate) body: Vec<u8>,
    /// `ErrorCode` of the envelope.
    pub(crate) code: i64,
    /// The command, when the path named one.
    pub(crate) command: Option<EndpointId>,
    /// The `identifier` query parameter, when present.
    pub(crate) identifier: Option<String>,
    /// The `random` query parameter, when present.
    pub(crate) random: Option<String>,
}

/// A refusal: the code and `ErrorInfo` of a `FAIL` envelope.
#[derive(Debug)]
struct Reject {
    code: i64,
    info: String,
}

fn reject(code: ErrorCode, info: impl Into<String>) -> Reject {
    Reject {
        code: code.code(),
        info: info.into(),
    }
}

impl From<LimitError> for Reject {
    fn from(e: LimitError) -> Self {
        Reject {
            code: e
                .code()
                .map_or(ErrorCode::JsonParseFailed.code(), ErrorCode::code),
            info: format!("{}: {}", e.path(), e.limit()),
        }
    }
}

type Res<T> = Result<T, Reject>;

/// The state and the log, behind one lock: every change is checked, logged and applied while
/// it is held, so concurrent writers never lose an update and the log order is the apply order.
#[derive(Debug)]
struct Core {
    state: State,
    wal: Option<Wal>,
}

impl Core {
    fn commit(&mut self, change: Change) -> Res<()> {
        if let Some(wal) = &mut self.wal {
            if let Err(e) = wal.append(&change) {
                tracing::error!(error = %e, "writing the state file failed; answering 91000");
                return Err(reject(
                    ErrorCode::InternalError,
                    "internal error: the change could not be stored",
                ));
            }
        }
        self.state.apply(change);
        Ok(())
    }
}

/// The emulated service.
#[derive(Debug)]
pub(crate) struct Service {
    pub(crate) config: Config,
    pub(crate) clock: Arc<dyn Clock>,
    core: Mutex<Core>,
    windows: Mutex<Windows>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl Service {
    /// Builds the service, opening the state file if one is configured.
    pub(crate) fn new(config: Config, clock: Arc<dyn Clock>) -> Result<Self, StateFileError> {
        let fresh = State {
            node: fastrand::Rng::with_seed(config.seed ^ 0x5eed_7a5c)
                .u64((1 << 57)..(1 << 57) + (1 << 40)),
            next_task_seq: 1,
            ..State::default()
        };
        let (state, wal) = match &config.state_file {
            Some(path) => {
                let (state, wal) = store::open(path, fresh)?;
                (state, Some(wal))
            }
            None => (fresh, None),
        };
        let service = Self {
            core: Mutex::new(Core { state, wal }),
            windows: Mutex::new(Windows::default()),
            config,
            clock,
        };
        let missing: Vec<String> = {
            let core = lock(&service.core);
            service
                .config
                .accounts
                .iter()
                .filter(|a| !core.state.accounts.contains_key(*a))
                .cloned()
                .collect()
        };
        service.import(missing).map_err(|r| StateFileError::Io {
            path: service.config.state_file.clone().unwrap_or_default(),
            source: std::io::Error::other(r.info),
        })?;
        Ok(service)
    }

    /// Whether a change must be fsynced (so the call should run off the async threads).
    pub(crate) fn is_durable(&self) -> bool {
        self.config.state_file.is_some()
    }

    /// Makes `accounts` known.
    fn import(&self, mut accounts: Vec<String>) -> Res<()> {
        accounts.retain(|a| !a.is_empty());
        if accounts.is_empty() {
            return Ok(());
        }
        lock(&self.core).commit(Change::Import { accounts })
    }

    /// Makes `accounts` known (as if imported); answers whether that worked.
    pub(crate) fn import_accounts(&self, accounts: Vec<String>) -> Result<(), String> {
        self.import(accounts).map_err(|r| r.info)
    }

    /// Runs `f` on the state.
    pub(crate) fn read<T>(&self, f: impl FnOnce(&State) -> T) -> T {
        f(&lock(&self.core).state)
    }

    /// Handles one API call.
    pub(crate) fn call(
        &self,
        method: &Method,
        path: &str,
        query: Option<&str>,
        body: &[u8],
    ) -> Answer {
        let mut answer = Answer {
            body: Vec::new(),
            code: 0,
            command: None,
            identifier: None,
            random: None,
        };
        match self.dispatch(method, path, query, body, &mut answer) {
            Ok(body) => answer.body = body,
            Err(r) => {
                answer.code = r.code;
                answer.body = envelope(r.code, &r.info);
            }
        }
        answer
    }

    fn dispatch(
        &self,
        method: &Method,
        path: &str,
        query: Option<&str>,
        body: &[u8],
        answer: &mut Answer,
    ) -> Res<Vec<u8>> {
        let command = EndpointId::from_path(path).ok_or_else(|| {
            reject(
                ErrorCode::BadRequestResource,
                format!("bad request resource: no API at {path:?}"),
            )
        })?;
        answer.command = Some(command);
        if method != Method::POST {
            return Err(reject(
                ErrorCode::HttpParseError,
                format!("HTTP method {method} not allowed: REST calls use POST"),
            ));
        }
        let params = QueryParams::parse(query.unwrap_or(""));
        answer.identifier = params.get("identifier").map(str::to_owned);
        answer.random = params.get("random").map(str::to_owned);
        let identifier = self.authenticate(&params)?;
        if self.config.rate_limits {
            if let Some(per_second) = command.info().rate.per_second {
                let now = self.clock.now_unix_ms();
                if !lock(&self.windows).admit(command, per_second, now) {
                    return Err(reject(
                        ErrorCode::RateLimited,
                        format!("REST API call frequency over limit ({per_second} per second)"),
                    ));
                }
            }
        }
        match command {
            EndpointId::AllMemberPushPush => self.push(identifier, body),
            EndpointId::AllMemberPushSetAttrName => self.set_attr_name(body),
            EndpointId::AllMemberPushGetAttrName => self.get_attr_name(body),
            EndpointId::AllMemberPushGetAttr => self.get_attr(body),
            EndpointId::AllMemberPushSetAttr => self.set_attr(body),
            EndpointId::AllMemberPushRemoveAttr => self.remove_attr(body),
            EndpointId::AllMemberPushGetTag => self.get_tag(body),
            EndpointId::AllMemberPushAddTag => self.add_tag(body),
            EndpointId::AllMemberPushRemoveTag => self.remove_tag(body),
            EndpointId::AllMemberPushRemoveAllTags => self.remove_all_tags(body),
            other => Err(reject(
                ErrorCode::BadRequestResource,
                format!("bad request resource: {other} is not emulated"),
            )),
        }
    }

    /// URL parameters, UserSig and admin checks. Answers the identifier.
    fn authenticate<'q>(&self, params: &'q QueryParams) -> Res<&'q str> {
        let sdkappid = match params.get("sdkappid") {
            None | Some("") => {
                return Err(reject(
                    ErrorCode::SdkAppIdMissing,
                    "sdkappid is missing from the URL",
                ));
            }
            Some(s) => s,
        };
        if sdkappid.parse::<u64>().ok() != Some(self.config.sdkappid) {
            return Err(reject(
                ErrorCode::SdkAppIdInvalid,
                format!("invalid sdkappid {sdkappid:?}"),
            ));
        }
        let identifier = match params.get("identifier") {
            None | Some("") => {
                return Err(reject(
                    ErrorCode::UrlParametersInvalid,
                    "identifier is missing from the URL",
                ));
            }
            Some(i) => i,
        };
        match params.get("contenttype") {
            Some("json") => {}
            other => {
                return Err(reject(
                    ErrorCode::UrlParametersInvalid,
                    format!("contenttype must be json, got {other:?}"),
                ));
            }
        }
        match params.get("random").map(str::parse::<u32>) {
            Some(Ok(_)) => {}
            _ => {
                return Err(reject(
                    ErrorCode::UrlParametersInvalid,
                    "random must be a 32-bit unsigned integer",
                ));
            }
        }
        let sig = params.get("usersig").unwrap_or("");
        if sig.is_empty() {
            return Err(reject(ErrorCode::UserSigEmpty, "usersig is empty"));
        }
        let now = self.clock.now_unix_secs();
        usersig::verify(sig, self.config.sdkappid, identifier, &self.config.key, now).map_err(
            |e| {
                let code = match &e {
                    VerifyError::Malformed(MalformedReason::Empty) => ErrorCode::UserSigEmpty,
                    VerifyError::Malformed(_) => ErrorCode::UserSigMalformed,
                    VerifyError::SdkAppIdMismatch { .. } => ErrorCode::UserSigSdkAppIdMismatch,
                    VerifyError::IdentifierMismatch { .. } => ErrorCode::UserSigIdentifierMismatch,
                    VerifyError::BadSignature => ErrorCode::UserSigBadSignature,
                    VerifyError::Expired { .. } => ErrorCode::UserSigExpired,
                    _ => ErrorCode::UserSigInvalid,
                };
                reject(code, e.to_string())
            },
        )?;
        if !self.config.admins.iter().any(|a| a == identifier) {
            return Err(reject(
                ErrorCode::AdminRequired,
                format!("identifier {identifier:?} is not an app admin"),
            ));
        }
        Ok(identifier)
    }

    fn max_accounts(command: EndpointId) -> usize {
        command.info().batch.map_or(100, |b| b.max_items)
    }

    fn set_attr_name(&self, body: &[u8]) -> Res<Vec<u8>> {
        let req: SetAttrNameRequest = typed(json_object(body)?)?;
        req.validate()?;
        let names: BTreeMap<u8, String> = req
            .attr_names
            .iter()
            .filter_map(|(k, v)| Some((k.parse().ok()?, v.clone())))
            .collect();
        let mut core = lock(&self.core);
        let mut merged = core.state.attr_names.clone();
        merged.extend(names.clone());
        let mut seen = HashMap::new();
        for (slot, name) in &merged {
            if let Some(other) = seen.insert(name.as_str(), *slot) {
                return Err(reject(
                    ErrorCode::AttributeInvalid,
                    format!("attribute name {name:?} would name both slot {other} and slot {slot}"),
                ));
            }
        }
        core.commit(Change::SetAttrNames { names })?;
        ok(&SetAttrNameResponse::new())
    }

    fn get_attr_name(&self, body: &[u8]) -> Res<Vec<u8>> {
        let req: GetAttrNameRequest = typed(json_object(body)?)?;
        req.validate()?;
        let mut resp = GetAttrNameResponse::new();
        resp.attr_names = self.read(|s| {
            s.attr_names
                .iter()
                .map(|(k, v)| (k.to_string(), v.clone()))
                .collect()
        });
        ok(&resp)
    }

    fn get_attr(&self, body: &[u8]) -> Res<Vec<u8>> {
        let obj = json_object(body)?;
        account_list(
            &obj,
            "To_Account",
            Self::max_accounts(EndpointId::AllMemberPushGetAttr),
        )?;
        let req: GetAttrRequest = typed(obj)?;
        req.validate()?;
        let mut resp = GetAttrResponse::new();
        resp.user_attrs = self.read(|s| {
            req.to_account
                .iter()
                .map(|a| {
                    let mut u = UserAttrs::new(a.clone());
                    if let Some(acc) = s.accounts.get(a) {
                        u.attrs = s.named_attrs(acc);
                    }
                    u
                })
                .collect()
        });
        ok(&resp)
    }

    fn set_attr(&self, body: &[u8]) -> Res<Vec<u8>> {
        let obj = json_object(body)?;
        entry_list(
            &obj,
            "UserAttrs",
            Self::max_accounts(EndpointId::AllMemberPushSetAttr),
        )?;
        let req: SetAttrRequest = typed(obj)?;
        req.validate()?;
        let mut core = lock(&self.core);
        let mut users = Vec::with_capacity(req.user_attrs.len());
        for (i, entry) in req.user_attrs.iter().enumerate() {
            let mut attrs = BTreeMap::new();
            for (name, value) in &entry.attrs {
                let slot = slot_or_reject(&core.state, name, &format!("UserAttrs[{i}].Attrs"))?;
                attrs.insert(slot, value.clone());
            }
            users.push((entry.to_account.clone(), attrs));
        }
        core.commit(Change::SetAttrs { users })?;
        ok(&SetAttrResponse::new())
    }

    fn remove_attr(&self, body: &[u8]) -> Res<Vec<u8>> {
        let obj = json_object(body)?;
        entry_list(
            &obj,
            "UserAttrs",
            Self::max_accounts(EndpointId::AllMemberPushRemoveAttr),
        )?;
        let req: RemoveAttrRequest = typed(obj)?;
        req.validate()?;
        let mut core = lock(&self.core);
        let mut users = Vec::with_capacity(req.user_attrs.len());
        for (i, entry) in req.user_attrs.iter().enumerate() {
            let mut slots = Vec::with_capacity(entry.attrs.len());
            for name in &entry.attrs {
                slots.push(slot_or_reject(
                    &core.state,
                    name,
                    &format!("UserAttrs[{i}].Attrs"),
                )?);
            }
            users.push((entry.to_account.clone(), slots));
        }
        core.commit(Change::RemoveAttrs { users })?;
        ok(&RemoveAttrResponse::new())
    }

    fn get_tag(&self, body: &[u8]) -> Res<Vec<u8>> {
        let obj = json_object(body)?;
        account_list(
            &obj,
            "To_Account",
            Self::max_accounts(EndpointId::AllMemberPushGetTag),
        )?;
        let req: GetTagRequest = typed(obj)?;
        req.validate()?;
        let mut resp = GetTagResponse::new();
        resp.user_tags = self.read(|s| {
            req.to_account
                .iter()
                .map(|a| {
                    let tags = s.accounts.get(a).map(|acc| acc.tags.clone());
                    UserTags::new(a.clone(), tags.unwrap_or_default())
                })
                .collect()
        });
        ok(&resp)
    }

    fn add_tag(&self, body: &[u8]) -> Res<Vec<u8>> {
        let obj = json_object(body)?;
        entry_list(
            &obj,
            "UserTags",
            Self::max_accounts(EndpointId::AllMemberPushAddTag),
        )?;
        let req: AddTagRequest = typed(obj)?;
        req.validate()?;
        let mut core = lock(&self.core);
        // Checked as a whole before anything is applied: a request is all or nothing.
        let mut after: HashMap<&str, Vec<&str>> = HashMap::new();
        for entry in &req.user_tags {
            let tags = after.entry(entry.to_account.as_str()).or_insert_with(|| {
                core.state
                    .accounts
                    .get(&entry.to_account)
                    .map(|a| a.tags.iter().map(String::as_str).collect())
                    .unwrap_or_default()
            });
            for t in &entry.tags {
                if !tags.contains(&t.as_str()) {
                    tags.push(t);
                }
            }
            if tags.len() > MAX_TAGS_PER_ACCOUNT {
                return Err(reject(
                    ErrorCode::TooManyTags,
                    format!(
                        "account {:?} would hold {} tags, at most {MAX_TAGS_PER_ACCOUNT} allowed; remove some first",
                        entry.to_account,
                        tags.len()
                    ),
                ));
            }
        }
        let users = req
            .user_tags
            .iter()
            .map(|e| (e.to_account.clone(), e.tags.clone()))
            .collect();
        core.commit(Change::AddTags { users })?;
        ok(&tim_core::all_member_push::AddTagResponse::new())
    }

    fn remove_tag(&self, body: &[u8]) -> Res<Vec<u8>> {
        let obj = json_object(body)?;
        entry_list(
            &obj,
            "UserTags",
            Self::max_accounts(EndpointId::AllMemberPushRemoveTag),
        )?;
        let req: RemoveTagRequest = typed(obj)?;
        req.validate()?;
        let users = req
            .user_tags
            .iter()
            .map(|e| (e.to_account.clone(), e.tags.clone()))
            .collect();
        lock(&self.core).commit(Change::RemoveTags { users })?;
        ok(&RemoveTagResponse::new())
    }

    fn remove_all_tags(&self, body: &[u8]) -> Res<Vec<u8>> {
        let obj = json_object(body)?;
        account_list(
            &obj,
            "To_Account",
            Self::max_accounts(EndpointId::AllMemberPushRemoveAllTags),
        )?;
        let req: RemoveAllTagsRequest = typed(obj)?;
        req.validate()?;
        lock(&self.core).commit(Change::RemoveAllTags {
            accounts: req.to_account,
        })?;
        ok(&RemoveAllTagsResponse::new())
    }

    fn push(&self, identifier: &str, body: &[u8]) -> Res<Vec<u8>> {
        let obj = json_object(body)?;
        precheck_push(&obj)?;
        let req: PushRequest = typed(obj)?;
        req.validate()?;
        let custom = req
            .msg_body
            .iter()
            .filter(|e| matches!(e, MsgElement::Custom(_)))
            .count();
        if custom > 1 {
            return Err(reject(
                ErrorCode::MsgBodyInvalid,
                format!("MsgBody has {custom} TIMCustomElem elements, at most 1 allowed"),
            ));
        }
        let now = self.clock.now_unix_ms();
        let mut core = lock(&self.core);
        let target = Target::resolve(&core.state, req.condition.as_ref())?;
        let window = u64::try_from(self.config.push_dedup_window.as_millis()).unwrap_or(u64::MAX);
        if window > 0 {
            let repeat = core
                .state
                .pushes
                .iter()
                .rev()
                .take_while(|p| now.saturating_sub(p.at_unix_ms) < window)
                .find(|p| p.request.msg_random == req.msg_random);
            if let Some(p) = repeat {
                tracing::debug!(task_id = %p.task_id, "repeated MsgRandom: same push task");
                return ok(&PushResponse::new(p.task_id.clone()));
            }
        }
        if self.config.push_spacing {
            let rate = EndpointId::AllMemberPushPush.info().rate;
            let min_gap = rate
                .min_interval
                .map_or(1000, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX));
            if let Some(last) = core.state.pushes.last() {
                if now.saturating_sub(last.at_unix_ms) <= min_gap {
                    return Err(reject(ErrorCode::PushTooFrequent, "push too frequently"));
                }
            }
        }
        if self.config.rate_limits {
            let quota = self.config.daily_push_quota;
            if pushes_today(&core.state.pushes, now) >= quota as usize {
                return Err(reject(
                    ErrorCode::DailyPushQuotaExceeded,
                    format!("daily push quota of {quota} is used up"),
                ));
            }
        }
        let recipients = core
            .state
            .accounts
            .iter()
            .filter(|(_, a)| target.matches(a))
            .map(|(id, _)| id.clone())
            .collect();
        let task_id = format!(
            "{}_{}_{}_{}",
            self.config.sdkappid,
            core.state.node,
            now / 1000,
            core.state.next_task_seq
        );
        let record = PushRecord {
            task_id: task_id.clone(),
            at_unix_ms: now,
            identifier: identifier.to_owned(),
            request: req,
            recipients,
        };
        core.commit(Change::Push { record })?;
        ok(&PushResponse::new(task_id))
    }
}

/// A push condition with attribute names turned into slots.
#[derive(Debug, Default)]
struct Target {
    tags_and: Vec<String>,
    tags_or: Vec<String>,
    attrs_and: Vec<(u8, String)>,
    attrs_or: Vec<(u8, String)>,
}

impl Target {
    fn resolve(
        state: &State,
        cond: Option<&tim_core::all_member_push::PushCondition>,
    ) -> Res<Self> {
        let Some(cond) = cond else {
            return Ok(Self::default());
        };
        let attrs = |m: Option<&BTreeMap<String, String>>, field: &str| -> Res<Vec<(u8, String)>> {
            m.into_iter()
                .flatten()
                .map(|(name, v)| Ok((slot_or_reject(state, name, field)?, v.clone())))
                .collect()
        };
        Ok(Self {
            tags_and: cond.tags_and.clone().unwrap_or_default(),
            tags_or: cond.tags_or.clone().unwrap_or_default(),
            attrs_and: attrs(cond.attrs_and.as_ref(), "Condition.AttrsAnd")?,
            attrs_or: attrs(cond.attrs_or.as_ref(), "Condition.AttrsOr")?,
        })
    }

    fn matches(&self, a: &crate::model::Account) -> bool {
        let has_attr = |(slot, v): &(u8, String)| a.attrs.get(slot) == Some(v);
        self.tags_and.iter().all(|t| a.tags.contains(t))
            && (self.tags_or.is_empty() || self.tags_or.iter().any(|t| a.tags.contains(t)))
            && self.attrs_and.iter().all(has_attr)
            && (self.attrs_or.is_empty() || self.attrs_or.iter().any(has_attr))
    }
}

fn slot_or_reject(state: &State, name: &str, field: &str) -> Res<u8> {
    state.slot_of(name).ok_or_else(|| {
        reject(
            ErrorCode::AttributeInvalid,
            format!("{field}: attribute {name:?} is not configured (name a slot with im_set_attr_name first)"),
        )
    })
}

/// The body as a JSON object (90001 otherwise).
fn json_object(body: &[u8]) -> Res<Map<String, Value>> {
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(m)) => Ok(m),
        Ok(_) => Err(reject(
            ErrorCode::JsonParseFailed,
            "json parse failed: the request body must be a JSON object",
        )),
        Err(e) => Err(reject(
            ErrorCode::JsonParseFailed,
            format!("json parse failed: {e}"),
        )),
    }
}

/// The generated request type (90001 when the body does not fit it).
fn typed<T: DeserializeOwned>(obj: Map<String, Value>) -> Res<T> {
    serde_json::from_value(Value::Object(obj)).map_err(|e| {
        reject(
            ErrorCode::JsonParseFailed,
            format!("json parse failed: {e}"),
        )
    })
}

fn ok<T: Serialize>(resp: &T) -> Res<Vec<u8>> {
    Ok(tim_core::encode_success(resp))
}

/// A `FAIL` envelope.
pub(crate) fn envelope(code: i64, info: &str) -> Vec<u8> {
    let env = BareEnvelope::new(ActionStatus::Fail, code, info);
    serde_json::to_vec(&env).unwrap_or_else(|_| {
        format!(r#"{{"ActionStatus":"FAIL","ErrorCode":{code},"ErrorInfo":""}}"#).into_bytes()
    })
}

fn account_id(v: &Value, at: &str) -> Res<()> {
    match v {
        Value::String(s) if s.is_empty() => Err(reject(
            ErrorCode::JsonParseFailed,
            format!("{at} is an empty account"),
        )),
        Value::String(_) => Ok(()),
        _ => Err(reject(
            ErrorCode::AccountTypeInvalid,
            format!("{at} must be a string account (UserID)"),
        )),
    }
}

fn required_array<'a>(obj: &'a Map<String, Value>, field: &str, max: usize) -> Res<&'a [Value]> {
    match obj.get(field) {
        None => Err(reject(
            ErrorCode::JsonParseFailed,
            format!("{field} is required"),
        )),
        Some(Value::Array(a)) if a.len() > max => Err(reject(
            ErrorCode::AccountsOverLimit,
            "request account count exceed limit",
        )),
        Some(Value::Array(a)) => Ok(a),
        Some(_) => Err(reject(
            ErrorCode::JsonParseFailed,
            format!("{field} must be an array"),
        )),
    }
}

/// `To_Account: [string, ...]` (90001 / 90018 / 60015).
fn account_list(obj: &Map<String, Value>, field: &str, max: usize) -> Res<()> {
    for (i, v) in required_array(obj, field, max)?.iter().enumerate() {
        account_id(v, &format!("{field}[{i}]"))?;
    }
    Ok(())
}

/// `UserTags`/`UserAttrs: [{"To_Account": string, ...}, ...]` (90001 / 90018 / 60015).
fn entry_list(obj: &Map<String, Value>, field: &str, max: usize) -> Res<()> {
    for (i, v) in required_array(obj, field, max)?.iter().enumerate() {
        let Value::Object(entry) = v else {
            return Err(reject(
                ErrorCode::JsonParseFailed,
                format!("{field}[{i}] must be an object"),
            ));
        };
        if let Some(a) = entry.get("To_Account") {
            account_id(a, &format!("{field}[{i}].To_Account"))?;
        }
    }
    Ok(())
}

/// The `im_push` checks whose codes depend on the raw JSON, in the order a reader of the body
/// meets them.
fn precheck_push(obj: &Map<String, Value>) -> Res<()> {
    match obj.get("MsgRandom") {
        Some(Value::Number(n)) if n.as_u64().is_some_and(|v| u32::try_from(v).is_ok()) => {}
        Some(_) => {
            return Err(reject(
                ErrorCode::MsgRandomInvalid,
                "MsgRandom must be a 32-bit unsigned integer",
            ));
        }
        None => return Err(reject(ErrorCode::MsgRandomInvalid, "MsgRandom is required")),
    }
    if let Some(from) = obj.get("From_Account") {
        account_id(from, "From_Account")?;
    }
    let body = match obj.get("MsgBody") {
        None => return Err(reject(ErrorCode::MsgBodyInvalid, "MsgBody is required")),
        Some(Value::Array(a)) => a,
        Some(_) => {
            return Err(reject(
                ErrorCode::MsgBodyNotArray,
                "MsgBody must be an array",
            ));
        }
    };
    for (i, elem) in body.iter().enumerate() {
        let well_formed = elem.as_object().is_some_and(|e| {
            e.get("MsgType").is_some_and(Value::is_string)
                && e.get("MsgContent").is_some_and(Value::is_object)
        });
        if !well_formed {
            return Err(reject(
                ErrorCode::MsgBodyInvalid,
                format!("MsgBody[{i}] must be {{\"MsgType\": string, \"MsgContent\": object}}"),
            ));
        }
        match serde_json::from_value::<MsgElement>(elem.clone()) {
            // The SDK keeps element types it does not know; the service refuses them.
            Ok(MsgElement::Other { msg_type, .. }) => {
                return Err(reject(
                    ErrorCode::MsgBodyInvalid,
                    format!("MsgBody[{i}]: unknown MsgType {msg_type:?}"),
                ));
            }
            Ok(_) => {}
            Err(e) => {
                return Err(reject(
                    ErrorCode::NotMessageFormat,
                    format!("MsgBody[{i}]: {e}"),
                ));
            }
        }
    }
    if let Some(v) = obj.get("MsgLifeTime") {
        match v.as_i64() {
            Some(t) if (0..=MAX_MSG_LIFE_TIME).contains(&t) => {}
            Some(_) => {
                return Err(reject(
                    ErrorCode::MsgLifeTimeTooLong,
                    format!("MsgLifeTime must be 0 to {MAX_MSG_LIFE_TIME} seconds (7 days)"),
                ));
            }
            None if v.as_u64().is_some() => {
                return Err(reject(
                    ErrorCode::MsgLifeTimeTooLong,
                    format!("MsgLifeTime must be 0 to {MAX_MSG_LIFE_TIME} seconds (7 days)"),
                ));
            }
            None => {
                return Err(reject(
                    ErrorCode::MsgLifeTimeInvalid,
                    "MsgLifeTime must be an integer",
                ));
            }
        }
    }
    if let Some(cond) = obj.get("Condition") {
        let Value::Object(cond) = cond else {
            return Err(reject(
                ErrorCode::JsonParseFailed,
                "Condition must be an object",
            ));
        };
        for field in ["TagsAnd", "TagsOr"] {
            if let Some(v) = cond.get(field) {
                let fine = v.as_array().is_some_and(|a| a.iter().all(Value::is_string));
                if !fine {
                    return Err(reject(
                        ErrorCode::JsonParseFailed,
                        format!("Condition.{field} must be an array of strings"),
                    ));
                }
            }
        }
        for field in ["AttrsAnd", "AttrsOr"] {
            if let Some(v) = cond.get(field) {
                let fine = v
                    .as_object()
                    .is_some_and(|m| m.values().all(Value::is_string));
                if !fine {
                    return Err(reject(
                        ErrorCode::AttributeInvalid,
                        format!(
                            "Condition.{field} must be an object of attribute name to string value"
                        ),
                    ));
                }
            }
        }
    }
    if let Some(info) = obj.get("OfflinePushInfo") {
        if let Err(e) = serde_json::from_value::<OfflinePushInfo>(info.clone()) {
            return Err(reject(
                ErrorCode::OfflinePushInfoInvalid,
                format!("OfflinePushInfo: {e}"),
            ));
        }
    }
    Ok(())
}

/// Query parameters, percent-decoded; the first occurrence of a name wins.
#[derive(Debug, Default)]
pub(crate) struct QueryParams(Vec<(String, String)>);

impl QueryParams {
    pub(crate) fn parse(query: &str) -> Self {
        let mut out: Vec<(String, String)> = Vec::new();
        for pair in query.split('&').filter(|p| !p.is_empty()) {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            let k = percent_encoding::percent_decode_str(k)
                .decode_utf8_lossy()
                .into_owned();
            if out.iter().any(|(n, _)| *n == k) {
                continue;
            }
            let v = percent_encoding::percent_decode_str(v)
                .decode_utf8_lossy()
                .into_owned();
            out.push((k, v));
        }
        Self(out)
    }

    pub(crate) fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_first_wins_and_decodes() {
        let q = QueryParams::parse("identifier=a%20b&identifier=c&x&random=1");
        assert_eq!(q.get("identifier"), Some("a b"));
        assert_eq!(q.get("x"), Some(""));
        assert_eq!(q.get("random"), Some("1"));
        assert_eq!(q.get("usersig"), None);
    }

    #[test]
    fn push_prechecks_pick_the_documented_codes() {
        let code = |v: Value| precheck_push(v.as_object().unwrap()).err().map(|r| r.code);
        let text = serde_json::json!([{"MsgType": "TIMTextElem", "MsgContent": {"Text": "hi"}}]);
        assert_eq!(code(serde_json::json!({"MsgBody": text})), Some(90005));
        assert_eq!(
            code(serde_json::json!({"MsgRandom": 1.5, "MsgBody": text})),
            Some(90005)
        );
        assert_eq!(
            code(serde_json::json!({"MsgRandom": 4_294_967_296u64, "MsgBody": text})),
            Some(90005)
        );
        assert_eq!(code(serde_json::json!({"MsgRandom": 1})), Some(90002));
        assert_eq!(
            code(serde_json::json!({"MsgRandom": 1, "MsgBody": {}})),
            Some(90007)
        );
        assert_eq!(
            code(
                serde_json::json!({"MsgRandom": 1, "MsgBody": [{"MsgType": "TIMNopeElem", "MsgContent": {}}]})
            ),
            Some(90002)
        );
        assert_eq!(
            code(
                serde_json::json!({"MsgRandom": 1, "MsgBody": [{"MsgType": "TIMTextElem", "MsgContent": {}}]})
            ),
            Some(90010)
        );
        assert_eq!(
            code(serde_json::json!({"MsgRandom": 1, "MsgBody": text, "MsgLifeTime": 604_801})),
            Some(90026)
        );
        assert_eq!(
            code(serde_json::json!({"MsgRandom": 1, "MsgBody": text, "MsgLifeTime": "7d"})),
            Some(90044)
        );
        assert_eq!(
            code(
                serde_json::json!({"MsgRandom": 1, "MsgBody": text, "OfflinePushInfo": {"PushFlag": "x"}})
            ),
            Some(90043)
        );
        assert_eq!(
            code(serde_json::json!({"MsgRandom": 1, "MsgBody": text, "MsgLifeTime": 604_800})),
            None
        );
    }
}
