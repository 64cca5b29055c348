//! # tim-spec
//!
//! The typed model of `spec/`: `spec/common.json` (regions, public error codes, shapes shared
//! by several services) and one `spec/services/<service>.json` per wire service. [`load`] reads
//! and checks every file and builds a [`Model`] in which every Rust name is decided; the code
//! generator (`cargo xtask regenerate`) and every test that needs the spec read this model, never
//! the JSON on their own.
//!
//! ```
//! let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
//! let model = tim_spec::load(&root).expect("the checked-in spec is valid");
//! let push = model.service("all_member_push").unwrap();
//! let get_tag = push.endpoint("im_get_tag").unwrap();
//! assert_eq!(get_tag.path(), "/v4/all_member_push/im_get_tag");
//! assert!(get_tag.samples.iter().any(|s| s.request.is_some()));
//! ```

use std::collections::BTreeMap;

use serde::Deserialize;

mod model;
mod raw;

pub use model::{CLIENT_METHODS, load, load_files};

/// A primitive JSON type.
#[derive(Debug, Deserialize, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
#[allow(missing_docs)]
pub enum Prim {
    String,
    U32,
    U64,
    I64,
    F64,
    Bool,
    /// Any JSON value (kept as it is).
    Json,
}

/// A documented limit value and the code the server answers when it is broken.
#[derive(Debug, Deserialize, Clone, Copy, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct LimitValue {
    /// The bound.
    pub value: u64,
    /// The server's answer when the bound is broken.
    pub code: Option<i64>,
}

/// A limit with no value, only the code.
#[derive(Debug, Deserialize, Clone, Copy, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct CodeOnly {
    /// The server's answer when the limit is broken.
    pub code: Option<i64>,
}

/// The allowed keys of a map.
#[derive(Debug, Deserialize, Clone, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Keys {
    /// Every allowed key.
    pub values: Vec<String>,
    /// The server's answer for another key.
    pub code: Option<i64>,
}

/// An inclusive integer range.
#[derive(Debug, Deserialize, Clone, Copy, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Range {
    /// Smallest allowed value.
    pub min: i64,
    /// Largest allowed value.
    pub max: i64,
    /// The server's answer outside the range.
    pub code: Option<i64>,
}

/// The documented limits of one field.
#[derive(Debug, Deserialize, Clone, Default, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Limits {
    /// Most items of a list or map.
    pub max_items: Option<LimitValue>,
    /// Fewest items of a list or map.
    pub min_items: Option<LimitValue>,
    /// Most bytes of a string (or of each string of a list or map).
    pub max_bytes: Option<LimitValue>,
    /// A string (or each string of a list or map) must not be empty.
    pub non_empty: Option<CodeOnly>,
    /// The keys a map may have.
    pub keys: Option<Keys>,
    /// The range of an integer.
    pub range: Option<Range>,
    /// The answer when a required field is absent (or `null`); 90001 when not given.
    pub missing: Option<CodeOnly>,
    /// The answer when the value is not of the field's JSON type, anywhere inside it unless a
    /// nested field names its own; when not given, the enclosing field's, else 90001.
    pub invalid: Option<CodeOnly>,
    /// For a list or map: the answer when one of its items is not of the item type (the list's
    /// own shape keeps `invalid`).
    pub invalid_item: Option<CodeOnly>,
}

impl Limits {
    /// Every code these limits can answer.
    pub fn codes(&self) -> Vec<i64> {
        [
            self.max_items.and_then(|l| l.code),
            self.min_items.and_then(|l| l.code),
            self.max_bytes.and_then(|l| l.code),
            self.non_empty.and_then(|l| l.code),
            self.keys.as_ref().and_then(|l| l.code),
            self.range.and_then(|l| l.code),
            self.missing.and_then(|l| l.code),
            self.invalid.and_then(|l| l.code),
            self.invalid_item.and_then(|l| l.code),
        ]
        .into_iter()
        .flatten()
        .collect()
    }
}

/// A rule across the fields of one struct.
#[derive(Debug, Deserialize, Clone, PartialEq, Eq)]
#[serde(tag = "rule", rename_all = "snake_case", deny_unknown_fields)]
pub enum Rule {
    /// At most one of the groups may be present.
    Exclusive {
        /// Groups of wire names.
        groups: Vec<Vec<String>>,
        /// The server's answer when two groups are present.
        code: Option<i64>,
    },
    /// The two string lists must not share a value.
    Disjoint {
        /// The two wire names.
        fields: Vec<String>,
        /// The server's answer when they share a value.
        code: Option<i64>,
    },
    /// A tag/value pair of a tag set (`{"Tag": ..., "Value": ...}`): the tag must be one of the
    /// set and the value of its type and within its limits. The codes come from the set.
    TagValue {
        /// Wire name of the tag field (a string).
        tag: String,
        /// Wire name of the value field (any JSON).
        value: String,
        /// The tag set, by name, in the same service.
        tags: String,
    },
    /// Every item of a list of strings must be a tag of the set.
    KnownTags {
        /// Wire name of the list.
        field: String,
        /// The tag set, by name, in the same service.
        tags: String,
    },
}

impl Rule {
    /// The code the rule answers (tag rules answer their set's codes).
    pub fn code(&self) -> Option<i64> {
        match self {
            Rule::Exclusive { code, .. } | Rule::Disjoint { code, .. } => *code,
            Rule::TagValue { .. } | Rule::KnownTags { .. } => None,
        }
    }
}

/// A set of named fields whose values are typed by name, e.g. the profile fields
/// (`Tag_Profile_IM_Nick`: a string of at most 500 bytes): the standard tags, and a prefix for
/// app-defined ones.
#[derive(Debug, Deserialize, Clone, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct TagSet {
    /// The Rust name of the generated enum (the key in `tags`).
    #[serde(skip)]
    pub name: String,
    /// Documentation.
    pub doc: String,
    /// The server's answer for a tag that is neither standard nor of the custom form.
    pub unknown_code: Option<i64>,
    /// The server's answer for a standard tag's value of the wrong JSON type.
    pub type_code: Option<i64>,
    /// App-defined tags.
    pub custom: Option<CustomTags>,
    /// The standard tags.
    pub standard: Vec<TagDef>,
    /// Where the pages disagree or are silent.
    pub note: Option<String>,
}

impl TagSet {
    /// Every code the set can answer.
    pub fn codes(&self) -> Vec<i64> {
        let mut out: Vec<i64> = [self.unknown_code, self.type_code]
            .into_iter()
            .flatten()
            .collect();
        if let Some(c) = &self.custom {
            out.extend(c.limits.codes());
        }
        for t in &self.standard {
            out.extend(t.limits.codes());
            out.extend(t.values.as_ref().and_then(|v| v.code));
        }
        out
    }
}

/// App-defined tags: a prefix and a keyword.
#[derive(Debug, Deserialize, Clone, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct CustomTags {
    /// The prefix, e.g. `Tag_Profile_Custom_`.
    pub prefix: String,
    /// Most bytes of the keyword after the prefix (ASCII letters).
    pub keyword_max_bytes: u64,
    /// Documentation.
    pub doc: String,
    /// Limits of a string value.
    #[serde(default)]
    pub limits: Limits,
    /// Where the pages disagree or are silent.
    pub note: Option<String>,
}

/// One standard tag.
#[derive(Debug, Deserialize, Clone, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct TagDef {
    /// The tag, e.g. `Tag_Profile_IM_Nick`.
    pub wire: String,
    /// The Rust variant, e.g. `Nick`.
    pub rust: String,
    /// The value's type: `string`, `u32` or `u64`.
    #[serde(rename = "type")]
    pub ty: Prim,
    /// Documentation.
    pub doc: String,
    /// Limits of the value (`max_bytes` for strings, `range` for integers).
    #[serde(default)]
    pub limits: Limits,
    /// The only values a string tag accepts.
    pub values: Option<AllowedValues>,
    /// Where the pages disagree or are silent.
    pub note: Option<String>,
}

/// The values a tag accepts.
#[derive(Debug, Deserialize, Clone, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct AllowedValues {
    /// Every accepted value.
    pub values: Vec<String>,
    /// The server's answer for another value.
    pub code: Option<i64>,
}

/// The documented call frequency of an endpoint.
#[derive(Debug, Deserialize, Clone, Default, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Rate {
    /// Calls per second (per app).
    pub per_second: Option<u32>,
    /// Units per minute (per app); a call costs one unit, or the length of `counted_by`.
    pub per_minute: Option<u32>,
    /// The request list whose length a call costs against `per_minute` (e.g. batchsendmsg's
    /// recipients: one call to 500 users counts 500).
    pub counted_by: Option<String>,
    /// Calls per day (per app).
    pub per_day: Option<u32>,
    /// Consecutive calls must be more than this many milliseconds apart.
    pub min_interval_ms: Option<u64>,
}

/// One sample of the documentation: a request (absent for error-only samples) and an answer.
#[derive(Debug, Deserialize, Clone, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Sample {
    /// Unique within the endpoint; used in snapshot names.
    pub name: String,
    /// The request body.
    pub request: Option<serde_json::Value>,
    /// The answer body, envelope included.
    pub response: serde_json::Value,
}

/// What an error code means for the caller: the one piece of data that retries, re-signing and
/// the rate limiter derive their decisions from.
#[derive(Debug, Deserialize, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
#[serde(rename_all = "kebab-case")]
pub enum CodeKind {
    /// The server refused the call for its rate; it was not executed. Wait, then repeat.
    Throttled,
    /// The UserSig expired; the call was not executed. Sign anew, then repeat once.
    AuthExpired,
    /// The outcome is unknown (timeout, internal error): repeat only idempotent calls.
    Transient,
    /// The request is wrong; repeating it cannot help.
    Caller,
    /// The app, its credentials or its settings are wrong; repeating cannot help.
    Config,
    /// A quota (daily, trial) is used up; repeating today cannot help.
    Quota,
}

/// A type as the model knows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ty {
    /// A primitive.
    Prim(Prim),
    /// A JSON array.
    List(Box<Ty>),
    /// A JSON object with string keys.
    Map(Box<Ty>),
    /// A named type of `types`.
    Named(String),
}

/// One field of a struct.
#[derive(Debug, Clone)]
pub struct Field {
    /// The wire name.
    pub wire: String,
    /// The Rust name (snake case).
    pub rust: String,
    /// The type.
    pub ty: Ty,
    /// Whether the pages mark it required.
    pub required: bool,
    /// Whether the Rust type is `Option<_>` (absent optional fields are skipped on the wire).
    pub optional: bool,
    /// Documentation.
    pub doc: String,
    /// Where the pages disagree or are silent.
    pub note: Option<String>,
    /// Documented limits.
    pub limits: Limits,
    /// An optional list or map left out of answers when empty (as the samples show).
    pub omit_empty: bool,
}

/// Where a struct is used, which decides how unknown fields are treated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// Only in requests.
    Request,
    /// Only in answers.
    Response,
    /// In both.
    Shared,
}

/// A struct: a named type, or an endpoint's request or response body.
#[derive(Debug, Clone)]
pub struct Struct {
    /// The Rust name.
    pub name: String,
    /// Documentation.
    pub doc: String,
    /// Fields in spec order.
    pub fields: Vec<Field>,
    /// Rules across fields.
    pub rules: Vec<Rule>,
    /// Where the pages disagree or are silent.
    pub note: Option<String>,
    /// Where it is used.
    pub role: Role,
}

/// One variant of a tagged union.
#[derive(Debug, Clone)]
pub struct Variant {
    /// The tag's wire value.
    pub wire: String,
    /// The Rust variant name.
    pub rust: String,
    /// The struct of its content.
    pub ty: String,
    /// Documentation.
    pub doc: String,
}

/// A tagged union: `{"<tag>": "<wire>", "<content>": {...}}`.
#[derive(Debug, Clone)]
pub struct Union {
    /// The Rust name.
    pub name: String,
    /// Documentation.
    pub doc: String,
    /// The tag's wire name.
    pub tag: String,
    /// The content's wire name.
    pub content: String,
    /// Variants in spec order.
    pub variants: Vec<Variant>,
    /// The answer when the content does not match its variant's struct (the enclosing field's
    /// `invalid` code when not given).
    pub invalid_content: Option<i64>,
    /// Where the pages disagree or are silent.
    pub note: Option<String>,
}

/// A named type.
#[derive(Debug, Clone)]
pub enum TypeDef {
    /// A struct.
    Struct(Struct),
    /// A tagged union.
    Union(Union),
}

impl TypeDef {
    /// The Rust name.
    pub fn name(&self) -> &str {
        match self {
            TypeDef::Struct(s) => &s.name,
            TypeDef::Union(u) => &u.name,
        }
    }
}

/// One error code.
#[derive(Debug, Clone)]
pub struct ErrorDef {
    /// The numeric code.
    pub code: i64,
    /// The Rust variant name.
    pub rust: String,
    /// What it means for the caller.
    pub kind: CodeKind,
    /// The documented meaning.
    pub meaning: String,
    /// Where the pages disagree.
    pub note: Option<String>,
    /// The wire service whose file lists it; `None` for the public codes of `common.json`.
    pub service: Option<String>,
}

/// One region.
#[derive(Debug, Clone)]
pub struct RegionDef {
    /// Configuration name, e.g. `silicon-valley`.
    pub name: String,
    /// Rust variant name.
    pub rust: String,
    /// REST API host.
    pub host: String,
    /// Human-readable label.
    pub label: String,
    /// Where the pages disagree.
    pub note: Option<String>,
}

/// A batch endpoint: which request list is chunked.
#[derive(Debug, Clone)]
pub struct Batch {
    /// Index of the chunked request field.
    pub request_field: usize,
    /// Index of the response list merged across chunks.
    pub response_field: Option<usize>,
    /// Most items per call.
    pub max_items: u64,
    /// Where an OK answer reports items that failed, if the endpoint does.
    pub failures: Option<Failures>,
    /// Codes with which the server refuses a whole call for one item's sake; the batch engine
    /// splits such a call to isolate the item.
    pub item_codes: Vec<i64>,
}

/// Where an answer that is OK as a whole reports the items that failed.
#[derive(Debug, Clone)]
pub enum Failures {
    /// A response list of per-item results; an item whose code is not 0 failed.
    List {
        /// Index of the response field.
        field: usize,
        /// The struct of its items.
        item_type: String,
        /// Rust name of the field naming the item (an account).
        key: String,
        /// Whether `key` is `Option<String>`.
        key_optional: bool,
        /// Rust name of the integer result code field.
        code: String,
        /// Whether `code` is `Option<_>`.
        code_optional: bool,
        /// Rust name of the text field, if any, and whether it is `Option<String>`.
        info: Option<(String, bool)>,
    },
    /// A response list of the accounts that failed.
    Accounts {
        /// Index of the response field.
        field: usize,
    },
}

/// One REST command.
#[derive(Debug, Clone)]
pub struct Endpoint {
    /// The wire service, e.g. `all_member_push`.
    pub service: String,
    /// The command, e.g. `im_get_tag`.
    pub command: String,
    /// The Rust name of its marker type, e.g. `GetTag`.
    pub rust: String,
    /// The variant of the registry enum: service and Rust name, e.g. `AllMemberPushGetTag`.
    pub id: String,
    /// The method of the service handle, e.g. `get_tag`.
    pub method: String,
    /// The batch helper of the service handle, e.g. `get_tag_batch`.
    pub batch_method: Option<String>,
    /// Documentation.
    pub doc: String,
    /// Tencent's page number (`1047/<page>`).
    pub page: Option<u32>,
    /// Whether repeating a call is harmless.
    pub idempotent: bool,
    /// Documented call frequency.
    pub rate: Rate,
    /// The request body.
    pub request: Struct,
    /// The answer's payload (the envelope is not part of it).
    pub response: Struct,
    /// The codes its page documents.
    pub errors: Vec<i64>,
    /// For batch endpoints.
    pub batch: Option<Batch>,
    /// Where the pages disagree or are silent.
    pub note: Option<String>,
    /// The pages' samples.
    pub samples: Vec<Sample>,
}

impl Endpoint {
    /// `/v4/<service>/<command>`.
    pub fn path(&self) -> String {
        format!("/v4/{}/{}", self.service, self.command)
    }

    /// The link to Tencent's page, when the spec records it.
    pub fn page_url(&self) -> Option<String> {
        self.page
            .map(|p| format!("https://www.tencentcloud.com/document/product/1047/{p}"))
    }
}

/// One wire service (one file of `spec/services/`).
#[derive(Debug, Clone)]
pub struct Service {
    /// The wire name, e.g. `all_member_push`, `ConfigSvc`.
    pub name: String,
    /// The Rust module, client accessor and cargo feature, e.g. `all_member_push`, `config_svc`.
    pub module: String,
    /// Documentation.
    pub doc: String,
    /// Where the pages disagree or are silent.
    pub note: Option<String>,
    /// The file it came from, e.g. `spec/services/all_member_push.json`.
    pub source: String,
    /// The named types the service's file defines.
    pub types: Vec<String>,
    /// Its tag sets, by name.
    pub tag_sets: Vec<TagSet>,
    /// Endpoints in spec order.
    pub endpoints: Vec<Endpoint>,
}

impl Service {
    /// The endpoint with this command.
    pub fn endpoint(&self, command: &str) -> Option<&Endpoint> {
        self.endpoints.iter().find(|e| e.command == command)
    }
}

/// The whole spec, checked, with every name decided.
#[derive(Debug, Clone)]
pub struct Model {
    /// Documentation of the common file.
    pub doc: String,
    /// Regions, in spec order.
    pub regions: Vec<RegionDef>,
    /// Every error code (public first, then each service's), in file order.
    pub errors: Vec<ErrorDef>,
    /// Every named type, by Rust name.
    pub types: BTreeMap<String, TypeDef>,
    /// The named types `common.json` defines.
    pub common_types: Vec<String>,
    /// Services, sorted by wire name.
    pub services: Vec<Service>,
}

impl Model {
    /// The error code's definition.
    pub fn error(&self, code: i64) -> Option<&ErrorDef> {
        self.errors.iter().find(|e| e.code == code)
    }

    /// The service with this wire name.
    pub fn service(&self, name: &str) -> Option<&Service> {
        self.services.iter().find(|s| s.name == name)
    }

    /// Every endpoint of every service.
    pub fn endpoints(&self) -> impl Iterator<Item = &Endpoint> {
        self.services.iter().flat_map(|s| s.endpoints.iter())
    }

    /// The endpoint at `service`/`command`.
    pub fn endpoint(&self, service: &str, command: &str) -> Option<&Endpoint> {
        self.service(service)?.endpoint(command)
    }

    /// The module a named type lives in: `common` or a service's module.
    pub fn type_module(&self, name: &str) -> Option<&str> {
        if self.common_types.iter().any(|t| t == name) {
            return Some("common");
        }
        self.services
            .iter()
            .find(|s| s.types.iter().any(|t| t == name))
            .map(|s| s.module.as_str())
    }
}
