//! Reading bulk input: JSON Lines in the request item's own shape, streamed line by line.
//!
//! A line is one item of the endpoint's batch list: `{"To_Account":"u1","Tags":["vip"]}` for
//! `tags add`, and for endpoints whose items are plain accounts (`tags get`, `tags clear`,
//! `attrs get`) also `"u1"`, a bare `u1`, or `{"To_Account":"u1"}`. Blank lines and lines
//! starting with `#` are skipped. Every item is checked against the documented limits before it
//! is sent; a bad line is reported with its number and does not stop the rest.

use std::io::BufRead;

use serde_json::Value;
use tim_core::{Batch, Validate};

/// A line that cannot be sent, with its 1-based line number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineError {
    /// The 1-based line number.
    pub line: u64,
    /// What is wrong, naming the field.
    pub message: String,
    /// The code the server would answer, for lines that break a documented limit.
    pub code: Option<i64>,
    /// The line as read (lossy UTF-8, at most 1 KiB), so that it can be fixed and resent.
    pub raw: String,
}

fn raw_text(raw: &[u8]) -> String {
    let text = String::from_utf8_lossy(&raw[..raw.len().min(1024)]);
    text.into_owned()
}

impl std::fmt::Display for LineError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "line {}: {}", self.line, self.message)
    }
}

/// Parses one line into an item of `E`'s batch list. `Ok(None)` for blank and comment lines.
pub fn parse_line<E: Batch>(line: u64, raw: &[u8]) -> Result<Option<E::Item>, LineError> {
    let err = |message: String| LineError {
        line,
        message,
        code: None,
        raw: raw_text(raw),
    };
    let text = std::str::from_utf8(raw).map_err(|_| err("not valid UTF-8".into()))?;
    let text = text.trim();
    if text.is_empty() || text.starts_with('#') {
        return Ok(None);
    }
    let item: E::Item = match serde_json::from_str::<Value>(text) {
        Ok(value) => from_value::<E>(value).map_err(err)?,
        // A bare account name, for endpoints whose items are accounts.
        Err(_) if !text.starts_with(['{', '[', '"']) => {
            from_value::<E>(Value::String(text.to_owned())).map_err(|_| err("not JSON".into()))?
        }
        Err(e) => return Err(err(format!("not JSON: {e}"))),
    };
    let request = E::request_from_items(vec![item.clone()]);
    if let Err(e) = request.validate() {
        // The path is relative to the one-item request: drop the list prefix so that it reads
        // relative to the line (`Tags[1]` rather than `UserTags[0].Tags[1]`).
        let prefix = format!(
            "{}[0]",
            E::INFO.batch.map(|b| b.request_field).unwrap_or_default()
        );
        let path = e.path().strip_prefix(&prefix).unwrap_or(e.path());
        let path = path.trim_start_matches('.');
        let what = if path.is_empty() { "item" } else { path };
        let code = e.code().map(|c| c.code());
        let hint = code
            .map(|c| format!(" (the server would answer {c})"))
            .unwrap_or_default();
        return Err(LineError {
            line,
            message: format!("{what}: {}{hint}", e.limit()),
            code,
            raw: raw_text(raw),
        });
    }
    Ok(Some(item))
}

fn from_value<E: Batch>(value: Value) -> Result<E::Item, String> {
    match serde_json::from_value::<E::Item>(value.clone()) {
        Ok(item) => {
            // Typed items ignore fields they do not know; a bulk file's unknown field is far
            // more likely a typo than a newer API field, so the line is refused.
            let mut unknown = Vec::new();
            let typed = serde_json::to_value(&item).unwrap_or(Value::Null);
            crate::json_paths::unknown_paths(&value, &typed, "", &mut unknown);
            if unknown.is_empty() {
                Ok(item)
            } else {
                Err(format!(
                    "not a valid item of {}: unknown field {} (send fields the spec does not know with `tim call`)",
                    E::INFO.command,
                    unknown.join(", ")
                ))
            }
        }
        Err(first) => {
            // A bare account for items that name one account (`{"UserID": ...}`,
            // `{"To_Account": ...}`).
            if let Value::String(account) = &value {
                for key in ["UserID", "To_Account"] {
                    let wrapped = serde_json::json!({ key: account });
                    if let Ok(item) = serde_json::from_value::<E::Item>(wrapped) {
                        return Ok(item);
                    }
                }
            }
            // `{"To_Account":"u1"}` for endpoints whose items are plain accounts.
            if let Value::Object(map) = &value {
                if map.len() == 1 {
                    if let Some(Value::String(account)) = map.get("To_Account") {
                        if let Ok(item) =
                            serde_json::from_value::<E::Item>(Value::String(account.clone()))
                        {
                            return Ok(item);
                        }
                    }
                }
            }
            Err(format!("not a valid item: {first}"))
        }
    }
}

/// Reads numbered lines from a reader, one at a time, without holding more than one line.
#[derive(Debug)]
pub struct Lines<R> {
    reader: R,
    line: u64,
    buf: Vec<u8>,
}

impl<R: BufRead> Lines<R> {
    /// Reads lines from `reader`.
    pub fn new(reader: R) -> Self {
        Self {
            reader,
            line: 0,
            buf: Vec::with_capacity(256),
        }
    }

    /// The next non-blank line: its number and raw bytes. `Ok(None)` at the end.
    pub fn next_line(&mut self) -> std::io::Result<Option<(u64, &[u8])>> {
        self.buf.clear();
        let n = self.reader.read_until(b'\n', &mut self.buf)?;
        if n == 0 {
            return Ok(None);
        }
        self.line += 1;
        while matches!(self.buf.last(), Some(b'\n' | b'\r')) {
            self.buf.pop();
        }
        Ok(Some((self.line, &self.buf)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tim_core::all_member_push::{AddTag, GetTag, SetAttr};

    #[test]
    fn accounts_in_every_accepted_shape() {
        for line in [r#""u1""#, "u1", r#"{"To_Account":"u1"}"#, "  u1  "] {
            assert_eq!(
                parse_line::<GetTag>(3, line.as_bytes()),
                Ok(Some("u1".to_owned())),
                "{line}"
            );
        }
        assert_eq!(parse_line::<GetTag>(1, b""), Ok(None));
        assert_eq!(parse_line::<GetTag>(1, b"# comment"), Ok(None));
    }

    #[test]
    fn items_in_the_request_shape() {
        let item = parse_line::<AddTag>(1, br#"{"To_Account":"u1","Tags":["vip"]}"#)
            .unwrap()
            .unwrap();
        assert_eq!(
            (item.to_account.as_str(), item.tags.as_slice()),
            ("u1", &["vip".to_owned()][..])
        );
        let item = parse_line::<SetAttr>(1, br#"{"To_Account":"u1","Attrs":{"city":"SZ"}}"#)
            .unwrap()
            .unwrap();
        assert_eq!(item.attrs["city"], "SZ");
    }

    #[test]
    fn bad_lines_name_the_line_and_the_field() {
        let e = parse_line::<AddTag>(7, br#"{"To_Account":"u1","Tags":["vip"]"#).unwrap_err();
        assert_eq!(e.line, 7);
        assert!(e.message.starts_with("not JSON"), "{e}");
        let long = format!(r#"{{"To_Account":"u1","Tags":["{}"]}}"#, "x".repeat(51));
        let e = parse_line::<AddTag>(9, long.as_bytes()).unwrap_err();
        assert_eq!(
            e.to_string(),
            "line 9: Tags[0]: 51 bytes long, at most 50 allowed (the server would answer 90034)"
        );
        let e =
            parse_line::<AddTag>(2, br#"{"To_Account":"u1","Tags":["a"],"Extra":1}"#).unwrap_err();
        assert!(e.message.contains("not a valid item"), "{e}");
        // An empty account is refused per line, with the code the emulator answers for it.
        let e = parse_line::<AddTag>(71, br#"{"To_Account":"","Tags":["a"]}"#).unwrap_err();
        assert_eq!((e.line, e.code), (71, Some(90001)));
        assert!(e.message.starts_with("To_Account"), "{e}");
        let e = parse_line::<GetTag>(5, br#""""#).unwrap_err();
        assert_eq!(e.code, Some(90001), "{e}");
        let e = parse_line::<AddTag>(2, b"u1").unwrap_err();
        assert_eq!(e.message, "not JSON");
        let e = parse_line::<GetTag>(4, b"\xff\xfe").unwrap_err();
        assert_eq!(e.message, "not valid UTF-8");
    }

    #[test]
    fn lines_are_numbered_from_one_and_strip_line_ends() {
        let mut lines = Lines::new(&b"a\r\n\nb"[..]);
        assert_eq!(
            lines.next_line().unwrap().map(|(n, l)| (n, l.to_vec())),
            Some((1, b"a".to_vec()))
        );
        assert_eq!(
            lines.next_line().unwrap().map(|(n, l)| (n, l.to_vec())),
            Some((2, b"".to_vec()))
        );
        assert_eq!(
            lines.next_line().unwrap().map(|(n, l)| (n, l.to_vec())),
            Some((3, b"b".to_vec()))
        );
        assert!(lines.next_line().unwrap().is_none());
    }
}
