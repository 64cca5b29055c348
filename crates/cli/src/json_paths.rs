//! Which fields of a JSON input a typed value did not keep (fields the spec does not know).

use serde_json::Value;

/// Pushes onto `out` the paths of `input` (object keys, recursively, arrays by index) that
/// `typed` (the input parsed into a typed value and serialised again) does not have. A `null`
/// is not reported: it reads as an absent optional field.
pub(crate) fn unknown_paths(input: &Value, typed: &Value, at: &str, out: &mut Vec<String>) {
    match (input, typed) {
        (Value::Object(a), Value::Object(b)) => {
            for (k, v) in a {
                let path = if at.is_empty() {
                    k.clone()
                } else {
                    format!("{at}.{k}")
                };
                match b.get(k) {
                    Some(w) => unknown_paths(v, w, &path, out),
                    // `null` reads as "absent" for a known optional field too.
                    None if v.is_null() => {}
                    None => out.push(path),
                }
            }
        }
        (Value::Array(a), Value::Array(b)) => {
            for (i, (v, w)) in a.iter().zip(b).enumerate() {
                unknown_paths(v, w, &format!("{at}[{i}]"), out);
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn nested_and_listed_unknown_keys_are_named() {
        let input = json!({"A": 1, "B": {"C": 2, "D": 3}, "L": [{"x": 1, "y": 2}], "Z": null});
        let typed = json!({"A": 1, "B": {"C": 2}, "L": [{"x": 1}]});
        let mut out = Vec::new();
        unknown_paths(&input, &typed, "", &mut out);
        assert_eq!(out, ["B.D", "L[0].y"]);
    }
}
