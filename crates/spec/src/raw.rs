//! The spec files as they are written, as serde types that reject unknown fields. Every
//! mistake is reported with the file and the JSON path inside it (`serde_path_to_error`).

use std::collections::BTreeMap;

use serde::Deserialize;

/// `spec/common.json`: what every service shares.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct CommonFile {
    pub(crate) doc: String,
    pub(crate) regions: Vec<RegionSpec>,
    pub(crate) errors: Vec<ErrorSpec>,
    #[serde(default)]
    pub(crate) types: BTreeMap<String, NamedType>,
}

/// `spec/services/<service>.json`: one wire service.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ServiceFile {
    pub(crate) service: String,
    pub(crate) doc: String,
    pub(crate) note: Option<String>,
    #[serde(default)]
    pub(crate) errors: Vec<ErrorSpec>,
    #[serde(default)]
    pub(crate) types: BTreeMap<String, NamedType>,
    #[serde(default)]
    pub(crate) tags: BTreeMap<String, crate::TagSet>,
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
    pub(crate) kind: crate::CodeKind,
    pub(crate) meaning: String,
    pub(crate) note: Option<String>,
}

#[derive(Debug, Deserialize, Clone, PartialEq, Eq)]
#[serde(untagged)]
pub(crate) enum TypeRef {
    Prim(crate::Prim),
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
    pub(crate) limits: crate::Limits,
    /// An optional list or map that answers leave out when empty.
    #[serde(default)]
    pub(crate) omit_empty: bool,
    pub(crate) note: Option<String>,
}

#[derive(Debug, Deserialize, Clone)]
#[serde(tag = "kind", rename_all = "lowercase", deny_unknown_fields)]
pub(crate) enum NamedType {
    Struct {
        doc: String,
        fields: Vec<FieldSpec>,
        #[serde(default)]
        rules: Vec<crate::Rule>,
        note: Option<String>,
    },
    Union {
        doc: String,
        tag: String,
        content: String,
        variants: Vec<VariantSpec>,
        invalid_content: Option<crate::CodeOnly>,
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
    pub(crate) rules: Vec<crate::Rule>,
    pub(crate) note: Option<String>,
}

#[derive(Debug, Deserialize, Clone)]
#[serde(deny_unknown_fields)]
pub(crate) struct BatchSpec {
    pub(crate) request: String,
    pub(crate) response: Option<String>,
    pub(crate) failures: Option<FailuresSpec>,
    #[serde(default)]
    pub(crate) item_codes: Vec<i64>,
}

/// Where an answer that is OK as a whole reports items that failed.
#[derive(Debug, Deserialize, Clone)]
#[serde(untagged, deny_unknown_fields)]
pub(crate) enum FailuresSpec {
    /// A list of per-item results; those whose code is not 0 failed.
    List {
        list: String,
        key: String,
        code: String,
        info: Option<String>,
    },
    /// A list of the accounts that failed.
    Accounts { accounts: String },
}

#[derive(Debug, Deserialize, Clone)]
#[serde(deny_unknown_fields)]
pub(crate) struct EndpointSpec {
    pub(crate) command: String,
    pub(crate) rust: Option<String>,
    pub(crate) doc: String,
    pub(crate) page: Option<u32>,
    pub(crate) idempotent: bool,
    pub(crate) rate: crate::Rate,
    pub(crate) batch: Option<BatchSpec>,
    pub(crate) request: StructBody,
    pub(crate) response: StructBody,
    pub(crate) errors: Vec<i64>,
    pub(crate) note: Option<String>,
    pub(crate) samples: Vec<crate::Sample>,
}
