//! A generic reading of spec/ for tests: samples and field shapes, driving tests that grow with
//! the spec (a new endpoint gets snapshots and properties without new test code).

use serde_json::Value;

pub(crate) fn spec() -> Value {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../spec/all_member_push.json");
    let text = std::fs::read_to_string(path).expect("spec/all_member_push.json is readable");
    serde_json::from_str(&text).expect("the spec is JSON")
}

pub(crate) fn endpoint<'a>(spec: &'a Value, command: &str) -> &'a Value {
    spec["endpoints"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["command"] == command)
        .unwrap_or_else(|| panic!("{command} is in the spec"))
}
