//! The spec, read once through `tim-spec` (the same typed model the code generator reads), for
//! tests that grow with it: a new endpoint gets snapshots and properties without new test code.

use std::sync::OnceLock;

use tim_core::EndpointId;
use tim_spec::{Endpoint, Model};

pub(crate) fn model() -> &'static Model {
    static MODEL: OnceLock<Model> = OnceLock::new();
    MODEL.get_or_init(|| {
        let root = std::path::Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/.."));
        tim_spec::load(root).unwrap_or_else(|e| panic!("spec/ is valid:\n{}", e.join("\n")))
    })
}

/// The spec's endpoint behind a registry id.
pub(crate) fn endpoint(id: EndpointId) -> &'static Endpoint {
    model()
        .endpoint(id.service(), id.command())
        .unwrap_or_else(|| panic!("{id} is in the spec"))
}
