//! Client-side checks of the documented limits, run before anything is sent.
//!
//! Every request type implements [`Validate`]; the checks themselves are generated from the
//! `limits` and `rules` of `spec/`. A failed check is a [`LimitError`] that names the field by
//! its wire path (`UserTags[3].Tags[1]`) and the code the server would have answered.

use std::fmt;

use crate::generated::ErrorCode;

/// A value whose documented limits can be checked locally.
pub trait Validate {
    /// Checks every documented limit; the first violation is returned.
    ///
    /// ```
    /// use tim_core::{Validate, all_member_push::GetTagRequest};
    /// let too_many: Vec<String> = (0..101).map(|i| format!("user{i}")).collect();
    /// let err = GetTagRequest::new(too_many).validate().unwrap_err();
    /// assert_eq!(err.path(), "To_Account");
    /// assert_eq!(err.code().map(|c| c.code()), Some(90018));
    /// ```
    fn validate(&self) -> Result<(), LimitError> {
        self.validate_at(&FieldPath::ROOT)
    }

    /// Checks the value found at `at` inside a larger request.
    fn validate_at(&self, at: &FieldPath<'_>) -> Result<(), LimitError>;
}

/// Where a value sits inside a request: a chain of field names, list indexes and map keys,
/// built on the stack and only turned into a string when a check fails.
#[derive(Debug, Clone, Copy)]
pub struct FieldPath<'a> {
    parent: Option<&'a FieldPath<'a>>,
    segment: Segment<'a>,
}

#[derive(Debug, Clone, Copy)]
enum Segment<'a> {
    Root,
    Field(&'static str),
    Index(usize),
    Key(&'a str),
}

impl<'a> FieldPath<'a> {
    /// The request itself.
    pub const ROOT: FieldPath<'static> = FieldPath {
        parent: None,
        segment: Segment::Root,
    };

    /// The field with wire name `name` of the value at `self`.
    pub fn field(&'a self, name: &'static str) -> FieldPath<'a> {
        FieldPath {
            parent: Some(self),
            segment: Segment::Field(name),
        }
    }

    /// Element `index` of the list at `self`.
    pub fn index(&'a self, index: usize) -> FieldPath<'a> {
        FieldPath {
            parent: Some(self),
            segment: Segment::Index(index),
        }
    }

    /// Entry `key` of the map at `self`.
    pub fn key(&'a self, key: &'a str) -> FieldPath<'a> {
        FieldPath {
            parent: Some(self),
            segment: Segment::Key(key),
        }
    }
}

impl fmt::Display for FieldPath<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(p) = self.parent {
            fmt::Display::fmt(p, f)?;
        }
        match self.segment {
            Segment::Root => Ok(()),
            Segment::Field(name) => {
                if self
                    .parent
                    .is_some_and(|p| !matches!(p.segment, Segment::Root))
                {
                    f.write_str(".")?;
                }
                f.write_str(name)
            }
            Segment::Index(i) => write!(f, "[{i}]"),
            Segment::Key(k) => write!(f, "[{k:?}]"),
        }
    }
}

/// Which limit a value broke.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Limit {
    /// A list or map has more entries than allowed.
    TooMany {
        /// Most allowed.
        max: usize,
        /// Found.
        actual: usize,
    },
    /// A list or map has fewer entries than required.
    TooFew {
        /// Fewest allowed.
        min: usize,
        /// Found.
        actual: usize,
    },
    /// A string is longer (in UTF-8 bytes) than allowed.
    TooLong {
        /// Most bytes allowed.
        max_bytes: usize,
        /// Bytes found.
        actual: usize,
    },
    /// A string is empty.
    Empty,
    /// A map has a key outside the allowed set.
    KeyNotAllowed {
        /// The key found.
        key: String,
        /// The allowed keys.
        allowed: &'static [&'static str],
    },
    /// An integer is outside its range.
    OutOfRange {
        /// Smallest allowed.
        min: i64,
        /// Largest allowed.
        max: i64,
        /// Found.
        actual: i64,
    },
    /// Two fields that exclude each other are both present.
    Exclusive {
        /// The field present first.
        first: &'static str,
        /// The other field present.
        second: &'static str,
    },
    /// Two lists that must not share a value share one.
    Overlap {
        /// The other list.
        other: &'static str,
        /// The shared value.
        value: String,
    },
    /// A tag (a profile field's name, ...) that is neither standard nor of the custom form.
    UnknownTag {
        /// The tag found.
        tag: String,
    },
    /// A value of the wrong JSON type for its tag.
    WrongType {
        /// What the tag takes, e.g. `a string`.
        expected: &'static str,
    },
    /// A value outside the tag's accepted values.
    NotAllowed {
        /// The value found.
        value: String,
        /// The accepted values.
        allowed: &'static [&'static str],
    },
}

impl fmt::Display for Limit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Limit::TooMany { max, actual } => write!(f, "{actual} entries, at most {max} allowed"),
            Limit::TooFew { min, actual } => write!(f, "{actual} entries, at least {min} required"),
            Limit::TooLong { max_bytes, actual } => {
                write!(f, "{actual} bytes long, at most {max_bytes} allowed")
            }
            Limit::Empty => f.write_str("empty, must not be"),
            Limit::KeyNotAllowed { key, allowed } => {
                write!(
                    f,
                    "key {key:?} not allowed (allowed: {})",
                    allowed.join(", ")
                )
            }
            Limit::OutOfRange { min, max, actual } => {
                write!(f, "{actual} is outside {min}..={max}")
            }
            Limit::Exclusive { first, second } => {
                write!(f, "{first} and {second} cannot be used together")
            }
            Limit::Overlap { other, value } => write!(f, "{value:?} also appears in {other}"),
            Limit::UnknownTag { tag } => write!(f, "unknown tag {tag:?}"),
            Limit::WrongType { expected } => write!(f, "must be {expected}"),
            Limit::NotAllowed { value, allowed } => write!(
                f,
                "{value:?} is not accepted (accepted: {})",
                allowed.join(", ")
            ),
        }
    }
}

/// A documented limit broken by a request, found before sending it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{path}: {limit}{}", .code.map(|c| format!(" (the server would answer {})", c.code())).unwrap_or_default())]
pub struct LimitError {
    path: String,
    limit: Limit,
    code: Option<ErrorCode>,
}

impl LimitError {
    /// Builds an error for the value at `at`.
    pub fn new(at: &FieldPath<'_>, limit: Limit, code: Option<ErrorCode>) -> Self {
        let path = at.to_string();
        Self {
            path: if path.is_empty() {
                "(request)".into()
            } else {
                path
            },
            limit,
            code,
        }
    }

    /// The wire path of the offending value, e.g. `UserTags[3].Tags[1]`.
    pub fn path(&self) -> &str {
        &self.path
    }

    /// The limit that was broken.
    pub fn limit(&self) -> &Limit {
        &self.limit
    }

    /// The error code the server answers for this violation, when the spec records one.
    pub fn code(&self) -> Option<ErrorCode> {
        self.code
    }
}

/// Checks used by the generated `Validate` impls.
pub(crate) mod check {
    use super::*;

    pub(crate) fn max_items(
        at: &FieldPath<'_>,
        actual: usize,
        max: usize,
        code: Option<ErrorCode>,
    ) -> Result<(), LimitError> {
        if actual > max {
            return Err(LimitError::new(at, Limit::TooMany { max, actual }, code));
        }
        Ok(())
    }

    pub(crate) fn min_items(
        at: &FieldPath<'_>,
        actual: usize,
        min: usize,
        code: Option<ErrorCode>,
    ) -> Result<(), LimitError> {
        if actual < min {
            return Err(LimitError::new(at, Limit::TooFew { min, actual }, code));
        }
        Ok(())
    }

    pub(crate) fn max_bytes(
        at: &FieldPath<'_>,
        s: &str,
        max_bytes: usize,
        code: Option<ErrorCode>,
    ) -> Result<(), LimitError> {
        if s.len() > max_bytes {
            return Err(LimitError::new(
                at,
                Limit::TooLong {
                    max_bytes,
                    actual: s.len(),
                },
                code,
            ));
        }
        Ok(())
    }

    pub(crate) fn non_empty(
        at: &FieldPath<'_>,
        s: &str,
        code: Option<ErrorCode>,
    ) -> Result<(), LimitError> {
        if s.is_empty() {
            return Err(LimitError::new(at, Limit::Empty, code));
        }
        Ok(())
    }

    pub(crate) fn key_allowed(
        at: &FieldPath<'_>,
        key: &str,
        allowed: &'static [&'static str],
        code: Option<ErrorCode>,
    ) -> Result<(), LimitError> {
        if !allowed.contains(&key) {
            return Err(LimitError::new(
                at,
                Limit::KeyNotAllowed {
                    key: key.to_owned(),
                    allowed,
                },
                code,
            ));
        }
        Ok(())
    }

    /// A tag outside the set.
    #[allow(dead_code)] // used by the generated tag sets (profile fields)
    pub(crate) fn unknown_tag(
        at: &FieldPath<'_>,
        tag: &str,
        code: Option<ErrorCode>,
    ) -> LimitError {
        LimitError::new(
            at,
            Limit::UnknownTag {
                tag: tag.to_owned(),
            },
            code,
        )
    }

    /// The string inside a JSON value.
    #[allow(dead_code)] // used by the generated tag sets (profile fields)
    pub(crate) fn json_str<'v>(
        at: &FieldPath<'_>,
        v: &'v serde_json::Value,
        code: Option<ErrorCode>,
    ) -> Result<&'v str, LimitError> {
        v.as_str().ok_or_else(|| {
            LimitError::new(
                at,
                Limit::WrongType {
                    expected: "a string",
                },
                code,
            )
        })
    }

    /// The unsigned integer inside a JSON value, at most `max`.
    #[allow(dead_code)] // used by the generated tag sets (profile fields)
    pub(crate) fn json_uint(
        at: &FieldPath<'_>,
        v: &serde_json::Value,
        max: u64,
        code: Option<ErrorCode>,
    ) -> Result<u64, LimitError> {
        v.as_u64().filter(|n| *n <= max).ok_or_else(|| {
            LimitError::new(
                at,
                Limit::WrongType {
                    expected: if max == u64::from(u32::MAX) {
                        "an integer from 0 to 4294967295"
                    } else {
                        "an unsigned integer"
                    },
                },
                code,
            )
        })
    }

    /// `value` is one of `allowed`.
    #[allow(dead_code)] // used by the generated tag sets (profile fields)
    pub(crate) fn one_of(
        at: &FieldPath<'_>,
        value: &str,
        allowed: &'static [&'static str],
        code: Option<ErrorCode>,
    ) -> Result<(), LimitError> {
        if allowed.contains(&value) {
            return Ok(());
        }
        Err(LimitError::new(
            at,
            Limit::NotAllowed {
                value: value.to_owned(),
                allowed,
            },
            code,
        ))
    }

    pub(crate) fn range(
        at: &FieldPath<'_>,
        actual: i64,
        min: i64,
        max: i64,
        code: Option<ErrorCode>,
    ) -> Result<(), LimitError> {
        if actual < min || actual > max {
            return Err(LimitError::new(
                at,
                Limit::OutOfRange { min, max, actual },
                code,
            ));
        }
        Ok(())
    }

    /// `present` lists, per group, the wire names of the group's fields that are present.
    pub(crate) fn exclusive(
        at: &FieldPath<'_>,
        present: &[&[Option<&'static str>]],
        code: Option<ErrorCode>,
    ) -> Result<(), LimitError> {
        let mut first: Option<&'static str> = None;
        for group in present {
            if let Some(name) = group.iter().flatten().next() {
                match first {
                    None => first = Some(name),
                    Some(f) => {
                        return Err(LimitError::new(
                            at,
                            Limit::Exclusive {
                                first: f,
                                second: name,
                            },
                            code,
                        ));
                    }
                }
            }
        }
        Ok(())
    }

    pub(crate) fn disjoint(
        at: &FieldPath<'_>,
        a: Option<&[String]>,
        b: Option<&[String]>,
        b_name: &'static str,
        code: Option<ErrorCode>,
    ) -> Result<(), LimitError> {
        if let (Some(a), Some(b)) = (a, b) {
            if let Some(v) = a.iter().find(|v| b.contains(v)) {
                return Err(LimitError::new(
                    at,
                    Limit::Overlap {
                        other: b_name,
                        value: v.clone(),
                    },
                    code,
                ));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_render_like_the_wire() {
        let root = FieldPath::ROOT;
        let a = root.field("UserTags");
        let b = a.index(3);
        let c = b.field("Tags");
        let d = c.index(1);
        assert_eq!(d.to_string(), "UserTags[3].Tags[1]");
        let k = root.field("AttrNames");
        let k = k.key("10");
        assert_eq!(k.to_string(), "AttrNames[\"10\"]");
    }
}
