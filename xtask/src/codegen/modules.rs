//! The module files: the tree's `mod.rs`, `common.rs`, and each service's `mod.rs` and
//! `types.rs`.

use proc_macro2::TokenStream;
use quote::quote;
use tim_spec::{Model, Service, TypeDef};

use super::tokens::{docs, header_imports, ident};
use super::types::{struct_def, union_def};

fn type_defs<'a>(model: &'a Model, names: &'a [String]) -> impl Iterator<Item = TokenStream> + 'a {
    names.iter().map(move |n| match &model.types[n] {
        TypeDef::Struct(s) => struct_def(s, model, false),
        TypeDef::Union(u) => union_def(u, model),
    })
}

pub(crate) fn root_mod(model: &Model) -> TokenStream {
    let services = model.services.iter().map(|s| {
        let m = ident(&s.module);
        let feature = &s.module;
        let d = docs(&format!("`v4/{}/*`: {}", s.name, s.doc));
        quote!(#d #[cfg(feature = #feature)] pub mod #m;)
    });
    quote! {
        pub mod common;
        mod errors;
        mod regions;
        mod registry;
        pub(crate) mod shapes;
        #(#services)*

        pub use errors::{ErrorCode, ErrorScope};
        pub use regions::{Region, UnknownRegion};
        pub use registry::EndpointId;
    }
}

pub(crate) fn common_file(model: &Model) -> TokenStream {
    let imports = header_imports();
    let defs = type_defs(model, &model.common_types);
    let text = format!(
        "Shapes shared by several services (from `spec/common.json`). {}",
        model.doc
    );
    quote! {
        #![doc = #text]
        #imports
        #(#defs)*
    }
}

pub(crate) fn service_mod(s: &Service) -> TokenStream {
    let mut text = format!(
        "`v4/{}/*`: {}\n\nGenerated from `{}`. Call the endpoints with [`Client::send`](crate::Client::send) (the request names its endpoint) or through [`Client::{}`](crate::Client::{}).",
        s.name, s.doc, s.source, s.module, s.module
    );
    if let Some(n) = &s.note {
        text.push_str(&format!("\n\nSpec note: {n}"));
    }
    let lines: Vec<String> = text
        .lines()
        .map(|l| {
            if l.is_empty() {
                String::new()
            } else {
                format!(" {l}")
            }
        })
        .collect();
    let tags = if s.tag_sets.is_empty() {
        quote!()
    } else {
        quote!(
            mod tags;
            pub use tags::*;
        )
    };
    quote! {
        #(#![doc = #lines])*
        mod api;
        mod endpoints;
        pub(crate) mod shapes;
        mod types;
        #tags

        pub use api::Api;
        pub use endpoints::*;
        pub use types::*;
    }
}

pub(crate) fn service_types(s: &Service, model: &Model) -> TokenStream {
    let imports = header_imports();
    let defs = type_defs(model, &s.types);
    quote! {
        #imports
        #[allow(unused_imports)]
        use crate::generated::common::*;
        #(#defs)*
    }
}
