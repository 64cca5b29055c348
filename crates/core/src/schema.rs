//! The wire shape of every request body, generated from `spec/`, and a checker that reads a
//! JSON body the way the service does: before any typed decoding, so that a body of the wrong
//! shape gets the code the service answers (90005 for a `MsgRandom` that is not an integer,
//! 60015 for an account that is not a string, ...) and the path of the field.
//!
//! [`EndpointInfo::request_shape`](crate::EndpointInfo::request_shape) is the shape of an
//! endpoint's request; [`StructShape::check`] checks a body against it. Servers that emulate
//! the service and tools that take JSON from users use it; a typed call never needs it.
//!
//! What the checker decides, in line with the service:
//! - a member whose value is `null` is treated as absent (and reported, see [`Report::nulls`]);
//! - a member the spec does not know is ignored (and reported, see [`Report::unknown`]);
//! - a required member that is absent answers its `missing` code (else the code for a wrong value
//!   of the enclosing field, else 90001); a value of the wrong JSON type answers the nearest `invalid` code (90001 unless the
//!   spec names one), an item of a list or map its `invalid_item` code;
//! - a tagged union member (a message element) must be `{tag: string, content: object}` with a
//!   known tag, and its content is checked against the variant's struct (`invalid_content`).
//!
//! Limits (counts, lengths, ranges) are not checked here: [`Validate`](crate::Validate) checks
//! them on the typed request.
//!
//! ```
//! use tim_core::{Endpoint, all_member_push::Push};
//! let shape = Push::INFO.request_shape;
//! let mut body = serde_json::json!({"MsgRandom": "7", "MsgBody": []});
//! let err = shape.check(&mut body).unwrap_err();
//! assert_eq!((err.path(), err.code().code()), ("MsgRandom", 90005));
//!
//! let mut body = serde_json::json!({"MsgRandom": 7, "MsgBody": [], "Condition": null, "Typo": 1});
//! let report = shape.check(&mut body).unwrap();
//! assert_eq!(report.nulls, ["Condition"]);
//! assert_eq!(report.unknown, ["Typo"]);
//! assert!(body.get("Condition").is_none(), "nulls are removed");
//! ```

use serde_json::{Map, Value};

use crate::generated::ErrorCode;

/// The JSON type of a value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Shape {
    /// A string.
    String,
    /// An integer from 0 to 2^32 - 1.
    U32,
    /// An integer from 0 to 2^64 - 1.
    U64,
    /// A signed 64-bit integer.
    I64,
    /// Any number.
    F64,
    /// `true` or `false`.
    Bool,
    /// Any JSON value.
    Json,
    /// An array of items of one shape.
    List(&'static Shape),
    /// An object with string keys and values of one shape.
    Map(&'static Shape),
    /// An object with named fields.
    Struct(&'static StructShape),
    /// A tagged union: `{tag: "<variant>", content: {...}}`.
    Union(&'static UnionShape),
}

/// One member of a [`StructShape`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct FieldShape {
    /// The wire name.
    pub wire: &'static str,
    /// Its JSON type.
    pub shape: Shape,
    /// Whether the pages mark it required.
    pub required: bool,
    /// The code answered when it is required and absent (90001 when `None`).
    pub missing: Option<ErrorCode>,
    /// The code answered when its value (or anything inside it without a code of its own) is
    /// of the wrong type (the enclosing field's, else 90001, when `None`).
    pub invalid: Option<ErrorCode>,
    /// For a list or map: the code answered when one of its items is of the wrong type.
    pub invalid_item: Option<ErrorCode>,
}

impl FieldShape {
    /// A field; the codes are set with the `with_*` methods (for generated code).
    pub const fn new(wire: &'static str, shape: Shape, required: bool) -> Self {
        Self {
            wire,
            shape,
            required,
            missing: None,
            invalid: None,
            invalid_item: None,
        }
    }

    /// Sets the code for a required field that is absent.
    #[must_use]
    pub const fn with_missing(mut self, code: ErrorCode) -> Self {
        self.missing = Some(code);
        self
    }

    /// Sets the code for a value of the wrong type.
    #[must_use]
    pub const fn with_invalid(mut self, code: ErrorCode) -> Self {
        self.invalid = Some(code);
        self
    }

    /// Sets the code for an item of the wrong type.
    #[must_use]
    pub const fn with_invalid_item(mut self, code: ErrorCode) -> Self {
        self.invalid_item = Some(code);
        self
    }
}

/// An object with named fields: a request body or a named struct of the spec. Shapes are
/// statics and compare by identity (recursive types refer to each other).
#[derive(Debug)]
#[non_exhaustive]
pub struct StructShape {
    /// The Rust name of the type.
    pub name: &'static str,
    /// Its fields in spec order.
    pub fields: &'static [FieldShape],
}

impl StructShape {
    /// A struct shape (for generated code).
    pub const fn new(name: &'static str, fields: &'static [FieldShape]) -> Self {
        Self { name, fields }
    }

    /// The field with this wire name.
    pub fn field(&self, wire: &str) -> Option<&'static FieldShape> {
        self.fields.iter().find(|f| f.wire == wire)
    }

    /// Checks `body` against this shape, removing every `null` member on the way (they count as
    /// absent). Answers what was removed or ignored, or the first problem with its path and the
    /// code the service answers.
    pub fn check(&'static self, body: &mut Value) -> Result<Report, ShapeError> {
        self.check_with(body, ErrorCode::JsonParseFailed)
    }

    /// Like [`StructShape::check`], with `default` (instead of 90001) as the code for a body
    /// that is not an object and for fields that name no code of their own: services answer
    /// a malformed body with their own code (70402 for accounts, 40001 for profiles).
    pub fn check_with(
        &'static self,
        body: &mut Value,
        default: ErrorCode,
    ) -> Result<Report, ShapeError> {
        let mut report = Report::default();
        let mut path = String::new();
        let Value::Object(obj) = body else {
            return Err(ShapeError::new(
                "",
                default,
                "the body must be a JSON object",
            ));
        };
        check_struct(self, obj, &mut path, default, &mut report)?;
        Ok(report)
    }
}

/// A tagged union of the spec (message elements); compares by identity.
#[derive(Debug)]
#[non_exhaustive]
pub struct UnionShape {
    /// The Rust name of the type.
    pub name: &'static str,
    /// The tag's wire name (`MsgType`).
    pub tag: &'static str,
    /// The content's wire name (`MsgContent`).
    pub content: &'static str,
    /// Each variant's tag value and content shape.
    pub variants: &'static [(&'static str, &'static StructShape)],
    /// The code answered when the content does not match its variant.
    pub invalid_content: Option<ErrorCode>,
}

impl UnionShape {
    /// A union shape (for generated code).
    pub const fn new(
        name: &'static str,
        tag: &'static str,
        content: &'static str,
        variants: &'static [(&'static str, &'static StructShape)],
        invalid_content: Option<ErrorCode>,
    ) -> Self {
        Self {
            name,
            tag,
            content,
            variants,
            invalid_content,
        }
    }
}

impl PartialEq for StructShape {
    fn eq(&self, other: &Self) -> bool {
        std::ptr::eq(self, other)
    }
}
impl Eq for StructShape {}

impl PartialEq for UnionShape {
    fn eq(&self, other: &Self) -> bool {
        std::ptr::eq(self, other)
    }
}
impl Eq for UnionShape {}

/// What a successful [`StructShape::check`] set aside.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Report {
    /// Paths of members the spec does not know (ignored, as the service ignores them).
    pub unknown: Vec<String>,
    /// Paths of members whose value was `null` (removed: treated as absent).
    pub nulls: Vec<String>,
}

impl Report {
    /// Whether nothing was set aside.
    pub fn is_clean(&self) -> bool {
        self.unknown.is_empty() && self.nulls.is_empty()
    }
}

/// A body that does not have the documented shape.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}: {problem} (the service answers {})", if path.is_empty() { "body" } else { path.as_str() }, code.code())]
pub struct ShapeError {
    path: String,
    code: ErrorCode,
    problem: String,
}

impl ShapeError {
    fn new(path: &str, code: ErrorCode, problem: impl Into<String>) -> Self {
        Self {
            path: path.to_owned(),
            code,
            problem: problem.into(),
        }
    }

    /// The wire path of the field, e.g. `MsgBody[0].MsgContent.Text` (empty: the body).
    pub fn path(&self) -> &str {
        &self.path
    }

    /// The code the service answers.
    pub fn code(&self) -> ErrorCode {
        self.code
    }

    /// What is wrong, without the path.
    pub fn problem(&self) -> &str {
        &self.problem
    }
}

fn push_field(path: &mut String, name: &str) -> usize {
    let len = path.len();
    if !path.is_empty() {
        path.push('.');
    }
    path.push_str(name);
    len
}

fn push_index(path: &mut String, i: usize) -> usize {
    let len = path.len();
    path.push('[');
    path.push_str(&i.to_string());
    path.push(']');
    len
}

fn push_key(path: &mut String, key: &str) -> usize {
    let len = path.len();
    path.push('[');
    path.push_str(&format!("{key:?}"));
    path.push(']');
    len
}

fn json_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(n) if n.is_f64() => "a fractional number",
        Value::Number(n) if n.is_i64() && n.as_i64().is_some_and(|i| i < 0) => "a negative number",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

fn check_struct(
    shape: &'static StructShape,
    obj: &mut Map<String, Value>,
    path: &mut String,
    invalid: ErrorCode,
    report: &mut Report,
) -> Result<(), ShapeError> {
    // Nulls first: they count as absent for the required check below.
    let nulls: Vec<String> = obj
        .iter()
        .filter(|(_, v)| v.is_null())
        .map(|(k, _)| k.clone())
        .collect();
    for k in nulls {
        obj.remove(&k);
        let at = push_field(path, &k);
        report.nulls.push(path.clone());
        path.truncate(at);
    }
    for field in shape.fields {
        let at = push_field(path, field.wire);
        match obj.get_mut(field.wire) {
            None if field.required => {
                return Err(ShapeError::new(
                    path,
                    field.missing.unwrap_or(invalid),
                    "a required field is missing",
                ));
            }
            None => {}
            Some(v) => check_value(
                &field.shape,
                v,
                path,
                field.invalid.unwrap_or(invalid),
                field.invalid_item,
                report,
            )?,
        }
        path.truncate(at);
    }
    for k in obj.keys() {
        if shape.field(k).is_none() {
            let at = push_field(path, k);
            report.unknown.push(path.clone());
            path.truncate(at);
        }
    }
    Ok(())
}

fn check_value(
    shape: &Shape,
    v: &mut Value,
    path: &mut String,
    invalid: ErrorCode,
    invalid_item: Option<ErrorCode>,
    report: &mut Report,
) -> Result<(), ShapeError> {
    let wrong = |path: &str, expected: &str, v: &Value| {
        ShapeError::new(
            path,
            invalid,
            format!("expected {expected}, found {}", json_type(v)),
        )
    };
    match shape {
        Shape::Json => Ok(()),
        Shape::String if v.is_string() => Ok(()),
        Shape::String => Err(wrong(path, "a string", v)),
        Shape::Bool if v.is_boolean() => Ok(()),
        Shape::Bool => Err(wrong(path, "a boolean", v)),
        Shape::U32 if v.as_u64().is_some_and(|n| u32::try_from(n).is_ok()) => Ok(()),
        Shape::U32 => Err(wrong(path, "an integer from 0 to 4294967295", v)),
        Shape::U64 if v.as_u64().is_some() => Ok(()),
        Shape::U64 => Err(wrong(path, "an unsigned integer", v)),
        Shape::I64 if v.as_i64().is_some() => Ok(()),
        Shape::I64 => Err(wrong(path, "an integer", v)),
        Shape::F64 if v.is_number() => Ok(()),
        Shape::F64 => Err(wrong(path, "a number", v)),
        Shape::List(item) => {
            let Value::Array(items) = v else {
                return Err(wrong(path, "an array", v));
            };
            let item_code = invalid_item.unwrap_or(invalid);
            for (i, x) in items.iter_mut().enumerate() {
                let at = push_index(path, i);
                check_value(item, x, path, item_code, None, report)?;
                path.truncate(at);
            }
            Ok(())
        }
        Shape::Map(item) => {
            let Value::Object(entries) = v else {
                return Err(wrong(path, "an object", v));
            };
            let item_code = invalid_item.unwrap_or(invalid);
            for (k, x) in entries.iter_mut() {
                let at = push_key(path, k);
                check_value(item, x, path, item_code, None, report)?;
                path.truncate(at);
            }
            Ok(())
        }
        Shape::Struct(s) => {
            let Value::Object(obj) = v else {
                return Err(wrong(path, "an object", v));
            };
            check_struct(s, obj, path, invalid, report)
        }
        Shape::Union(u) => check_union(u, v, path, invalid, report),
    }
}

fn check_union(
    u: &'static UnionShape,
    v: &mut Value,
    path: &mut String,
    invalid: ErrorCode,
    report: &mut Report,
) -> Result<(), ShapeError> {
    let well_formed = || {
        format!(
            "expected {{\"{}\": string, \"{}\": object}}",
            u.tag, u.content
        )
    };
    let Value::Object(obj) = v else {
        return Err(ShapeError::new(path, invalid, well_formed()));
    };
    let tag = match obj.get(u.tag) {
        Some(Value::String(t)) => t.clone(),
        _ => return Err(ShapeError::new(path, invalid, well_formed())),
    };
    let Some((_, content_shape)) = u.variants.iter().find(|(w, _)| *w == tag) else {
        let at = push_field(path, u.tag);
        let err = ShapeError::new(path, invalid, format!("unknown {} {tag:?}", u.tag));
        path.truncate(at);
        return Err(err);
    };
    for k in obj.keys() {
        if k != u.tag && k != u.content {
            let at = push_field(path, k);
            report.unknown.push(path.clone());
            path.truncate(at);
        }
    }
    let at = push_field(path, u.content);
    let content_code = u.invalid_content.unwrap_or(invalid);
    let result = match obj.get_mut(u.content) {
        Some(Value::Object(content)) => {
            check_struct(content_shape, content, path, content_code, report)
        }
        _ => Err(ShapeError::new(
            path,
            invalid,
            format!("expected an object for {tag}"),
        )),
    };
    path.truncate(at);
    result
}

#[cfg(all(test, feature = "all_member_push"))]
mod tests {
    use serde_json::json;

    use crate::Endpoint;
    use crate::all_member_push::{AddTag, GetTag, Push};

    fn refused<E: Endpoint>(mut body: serde_json::Value) -> (String, i64) {
        let e = E::INFO.request_shape.check(&mut body).unwrap_err();
        (e.path().to_owned(), e.code().code())
    }

    #[test]
    fn codes_follow_the_nearest_field() {
        let text = json!([{"MsgType": "TIMTextElem", "MsgContent": {"Text": "hi"}}]);
        let cases = [
            (json!({"MsgBody": text}), "MsgRandom", 90005),
            (
                json!({"MsgRandom": -1, "MsgBody": text}),
                "MsgRandom",
                90005,
            ),
            (json!({"MsgRandom": 1}), "MsgBody", 90002),
            (json!({"MsgRandom": 1, "MsgBody": {}}), "MsgBody", 90007),
            (json!({"MsgRandom": 1, "MsgBody": [7]}), "MsgBody[0]", 90002),
            (
                json!({"MsgRandom": 1, "MsgBody": [{"MsgType": "TIMNope", "MsgContent": {}}]}),
                "MsgBody[0].MsgType",
                90002,
            ),
            (
                json!({"MsgRandom": 1, "MsgBody": [{"MsgType": "TIMTextElem", "MsgContent": {}}]}),
                "MsgBody[0].MsgContent.Text",
                90010,
            ),
            (
                json!({"MsgRandom": 1, "MsgBody": text, "OfflinePushInfo": {"PushFlag": "x"}}),
                "OfflinePushInfo.PushFlag",
                90043,
            ),
            (
                json!({"MsgRandom": 1, "MsgBody": text, "Condition": {"AttrsOr": {"a": 1}}}),
                "Condition.AttrsOr[\"a\"]",
                90033,
            ),
            (
                json!({"MsgRandom": 1, "MsgBody": text, "Condition": []}),
                "Condition",
                90001,
            ),
        ];
        for (body, path, code) in cases {
            assert_eq!(
                refused::<Push>(body.clone()),
                (path.to_owned(), code),
                "{body}"
            );
        }
        assert_eq!(
            refused::<GetTag>(json!({"To_Account": "u"})),
            ("To_Account".into(), 90001)
        );
        assert_eq!(
            refused::<GetTag>(json!({"To_Account": [1]})),
            ("To_Account[0]".into(), 60015)
        );
        assert_eq!(
            refused::<AddTag>(json!({"UserTags": [{"To_Account": ["u"], "Tags": []}]})),
            ("UserTags[0].To_Account".into(), 60015)
        );
        assert_eq!(refused::<GetTag>(json!([])), (String::new(), 90001));
    }

    #[test]
    fn nulls_are_absent_and_unknowns_reported() {
        let mut body = json!({
            "MsgRandom": 1,
            "MsgBody": [{"MsgType": "TIMTextElem", "MsgContent": {"Text": "hi", "Font": 3}, "Extra": 1}],
            "Condition": {"TagsAnd": null, "TagsOr": ["a"]},
            "MsgLifetime": 5
        });
        let report = Push::INFO.request_shape.check(&mut body).unwrap();
        assert_eq!(report.nulls, ["Condition.TagsAnd"]);
        assert_eq!(
            report.unknown,
            [
                "MsgBody[0].Extra",
                "MsgBody[0].MsgContent.Font",
                "MsgLifetime"
            ]
        );
        assert!(!report.is_clean());
        assert_eq!(body["Condition"], json!({"TagsOr": ["a"]}));
        // A required field sent as null is missing.
        assert_eq!(
            refused::<Push>(json!({"MsgRandom": null, "MsgBody": []})),
            ("MsgRandom".into(), 90005)
        );
        let err = Push::INFO
            .request_shape
            .check(&mut json!({"MsgRandom": 1}))
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "MsgBody: a required field is missing (the service answers 90002)"
        );
    }
}
