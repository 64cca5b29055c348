//! The spec format, as serde types. `spec/spec.schema.json` describes the same format for
//! editors and for the first check; these types reject unknown fields as a second line.

use std::collections::BTreeMap;

use serde::Deserialize;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Spec {
    #[serde(rename = "$schema")]
    #[allow(dead_code)]
    pub(crate) schema: Option<String>,
    pub(crate) family: String,
    pub(crate) doc: String,
    #[allow(dead_code)]
    pub(crate) note: Option<String>,
    pub(crate) regions: Vec<RegionSpec>,
    pub(crate) errors: Vec<ErrorSpec>,
    pub(crate) types: BTreeMap<String, NamedType>,
    pub(crate) endpoints: Vec<EndpointSpec>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RegionSpec {
    pub(crate) name: String,
    pub(crate) rust: String,
    pub(crate) host: String,
    pub(crate) label: String,
    pub(crate) note: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ErrorSpec {
    pub(crate) code: i64,
    pub(crate) rust: String,
    pub(crate) scope: Scope,
    pub(crate) retry: Retry,
    pub(crate) meaning: String,
    pub(crate) note: Option<String>,
}

#[derive(Debug, Deserialize, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub(crate) enum Scope {
    Public,
    Family,
}

#[derive(Debug, Deserialize, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub(crate) enum Retry {
    Safe,
    IdempotentOnly,
    Never,
}

#[derive(Debug, Deserialize, Clone, PartialEq, Eq)]
#[serde(untagged)]
pub(crate) enum TypeRef {
    Prim(Prim),
    List {
        list: Box<TypeRef>,
    },
    Map {
        map: Box<TypeRef>,
    },
    Ref {
        #[serde(rename = "ref")]
        name: String,
    },
}

#[derive(Debug, Deserialize, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Prim {
    String,
    U32,
    U64,
    I64,
    F64,
    Bool,
}

#[derive(Debug, Deserialize, Clone, Copy)]
#[serde(deny_unknown_fields)]
pub(crate) struct LimitValue {
    pub(crate) value: u64,
    pub(crate) code: Option<i64>,
}

#[derive(Debug, Deserialize, Clone, Copy)]
#[serde(deny_unknown_fields)]
pub(crate) struct CodeOnly {
    pub(crate) code: Option<i64>,
}

#[derive(Debug, Deserialize, Clone)]
#[serde(deny_unknown_fields)]
pub(crate) struct Keys {
    pub(crate) values: Vec<String>,
    pub(crate) code: Option<i64>,
}

#[derive(Debug, Deserialize, Clone, Copy)]
#[serde(deny_unknown_fields)]
pub(crate) struct Range {
    pub(crate) min: i64,
    pub(crate) max: i64,
    pub(crate) code: Option<i64>,
}

#[derive(Debug, Deserialize, Clone, Default)]
#[serde(deny_unknown_fields)]
pub(crate) struct Limits {
    pub(crate) max_items: Option<LimitValue>,
    pub(crate) min_items: Option<LimitValue>,
    pub(crate) max_bytes: Option<LimitValue>,
    pub(crate) non_empty: Option<CodeOnly>,
    pub(crate) keys: Option<Keys>,
    pub(crate) range: Option<Range>,
}

#[derive(Debug, Deserialize, Clone)]
#[serde(deny_unknown_fields)]
pub(crate) struct FieldSpec {
    pub(crate) wire: String,
    pub(crate) rust: Option<String>,
    #[serde(rename = "type")]
    pub(crate) ty: TypeRef,
    pub(crate) required: bool,
    pub(crate) doc: String,
    #[serde(default)]
    pub(crate) limits: Limits,
    pub(crate) note: Option<String>,
}

#[derive(Debug, Deserialize, Clone)]
#[serde(tag = "rule", rename_all = "lowercase", deny_unknown_fields)]
pub(crate) enum Rule {
    Exclusive {
        groups: Vec<Vec<String>>,
        code: Option<i64>,
    },
    Disjoint {
        fields: Vec<String>,
        code: Option<i64>,
    },
}

#[derive(Debug, Deserialize, Clone)]
#[serde(tag = "kind", rename_all = "lowercase", deny_unknown_fields)]
pub(crate) enum NamedType {
    Struct {
        doc: String,
        fields: Vec<FieldSpec>,
        #[serde(default)]
        rules: Vec<Rule>,
        note: Option<String>,
    },
    Union {
        doc: String,
        tag: String,
        content: String,
        variants: Vec<VariantSpec>,
        note: Option<String>,
    },
}

#[derive(Debug, Deserialize, Clone)]
#[serde(deny_unknown_fields)]
pub(crate) struct VariantSpec {
    pub(crate) wire: String,
    pub(crate) rust: String,
    #[serde(rename = "type")]
    pub(crate) ty: String,
    pub(crate) doc: String,
}

#[derive(Debug, Deserialize, Clone)]
#[serde(deny_unknown_fields)]
pub(crate) struct StructBody {
    pub(crate) fields: Vec<FieldSpec>,
    #[serde(default)]
    pub(crate) rules: Vec<Rule>,
    pub(crate) note: Option<String>,
}

#[derive(Debug, Deserialize, Clone, Copy, Default)]
#[serde(deny_unknown_fields)]
pub(crate) struct Rate {
    pub(crate) per_second: Option<u32>,
    pub(crate) per_day: Option<u32>,
    pub(crate) min_interval_ms: Option<u64>,
}

#[derive(Debug, Deserialize, Clone)]
#[serde(deny_unknown_fields)]
pub(crate) struct BatchSpec {
    pub(crate) request: String,
    pub(crate) response: Option<String>,
}

#[derive(Debug, Deserialize, Clone)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
pub(crate) struct Sample {
    pub(crate) name: String,
    pub(crate) request: Option<serde_json::Value>,
    pub(crate) response: serde_json::Value,
}

#[derive(Debug, Deserialize, Clone)]
#[serde(deny_unknown_fields)]
pub(crate) struct EndpointSpec {
    pub(crate) command: String,
    pub(crate) rust: Option<String>,
    pub(crate) doc: String,
    pub(crate) idempotent: bool,
    pub(crate) rate: Rate,
    pub(crate) batch: Option<BatchSpec>,
    pub(crate) request: StructBody,
    pub(crate) response: StructBody,
    pub(crate) errors: Vec<i64>,
    pub(crate) note: Option<String>,
    #[allow(dead_code)]
    pub(crate) samples: Vec<Sample>,
}
