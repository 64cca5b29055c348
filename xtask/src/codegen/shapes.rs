//! The wire shapes (`tim_core::schema`) of every named type and every request body: one
//! `static` per struct or union, so that recursive types (a relay element holding a message
//! body) refer to each other by address. `shapes.rs` holds the common types, each service's
//! `shapes.rs` its own types and its requests.

use heck::ToShoutySnakeCase;
use proc_macro2::TokenStream;
use quote::quote;
use tim_spec::{Model, Prim, Role, Service, Struct, Ty, TypeDef};

use super::tokens::{code_tokens, ident};

/// The path of the static holding the shape of named type `name`.
fn static_path(model: &Model, name: &str) -> TokenStream {
    let s = ident(&name.to_shouty_snake_case());
    match model.type_module(name) {
        Some("common") | None => quote!(crate::generated::shapes::#s),
        Some(m) => {
            let m = ident(m);
            quote!(crate::generated::#m::shapes::#s)
        }
    }
}

fn shape(ty: &Ty, model: &Model) -> TokenStream {
    match ty {
        Ty::Prim(p) => match p {
            Prim::String => quote!(Shape::String),
            Prim::U32 => quote!(Shape::U32),
            Prim::U64 => quote!(Shape::U64),
            Prim::I64 => quote!(Shape::I64),
            Prim::F64 => quote!(Shape::F64),
            Prim::Bool => quote!(Shape::Bool),
            Prim::Json => quote!(Shape::Json),
        },
        Ty::List(t) => {
            let t = shape(t, model);
            quote!(Shape::List(&#t))
        }
        Ty::Map(t) => {
            let t = shape(t, model);
            quote!(Shape::Map(&#t))
        }
        Ty::Named(n) => {
            let p = static_path(model, n);
            match &model.types[n] {
                TypeDef::Struct(_) => quote!(Shape::Struct(&#p)),
                TypeDef::Union(_) => quote!(Shape::Union(&#p)),
            }
        }
    }
}

fn struct_static(s: &Struct, model: &Model) -> TokenStream {
    let name = &s.name;
    let st = ident(&name.to_shouty_snake_case());
    let fields = s.fields.iter().map(|f| {
        let wire = &f.wire;
        let sh = shape(&f.ty, model);
        let required = f.required;
        let mut t = quote!(FieldShape::new(#wire, #sh, #required));
        let codes = [
            (f.limits.missing.and_then(|c| c.code), quote!(with_missing)),
            (f.limits.invalid.and_then(|c| c.code), quote!(with_invalid)),
            (
                f.limits.invalid_item.and_then(|c| c.code),
                quote!(with_invalid_item),
            ),
        ];
        for (code, method) in codes {
            if let Some(c) = code {
                let v = ident(&model.error(c).expect("checked by the model").rust);
                t = quote!(#t.#method(ErrorCode::#v));
            }
        }
        t
    });
    let doc = format!(" The wire shape of `{name}`.");
    quote! {
        #[doc = #doc]
        pub(crate) static #st: StructShape = StructShape::new(#name, &[#(#fields),*]);
    }
}

fn type_statics(model: &Model, names: &[String]) -> Vec<TokenStream> {
    names
        .iter()
        .filter_map(|n| match &model.types[n] {
            // Answers are decoded by their types, never checked by shape.
            TypeDef::Struct(s) if s.role == Role::Response => None,
            TypeDef::Struct(s) => Some(struct_static(s, model)),
            TypeDef::Union(u) => {
                let name = &u.name;
                let st = ident(&name.to_shouty_snake_case());
                let (tag, content) = (&u.tag, &u.content);
                let variants = u.variants.iter().map(|v| {
                    let wire = &v.wire;
                    let p = static_path(model, &v.ty);
                    quote!((#wire, &#p))
                });
                let code = code_tokens(u.invalid_content, model);
                let doc = format!(" The wire shape of `{name}`.");
                Some(quote! {
                    #[doc = #doc]
                    pub(crate) static #st: UnionShape =
                        UnionShape::new(#name, #tag, #content, &[#(#variants),*], #code);
                })
            }
        })
        .collect()
}

fn imports() -> TokenStream {
    quote! {
        #[allow(unused_imports)]
        use crate::generated::ErrorCode;
        #[allow(unused_imports)]
        use crate::schema::{FieldShape, Shape, StructShape, UnionShape};
    }
}

/// `generated/shapes.rs`: the common types.
pub(crate) fn common_shapes(model: &Model) -> TokenStream {
    let imports = imports();
    let statics = type_statics(model, &model.common_types);
    quote! {
        //! Wire shapes of the types of `spec/common.json` (a build without the services that use
        //! one leaves it unused).
        #![allow(dead_code)]
        #imports
        #(#statics)*
    }
}

/// `<service>/shapes.rs`: the service's types and request bodies.
pub(crate) fn service_shapes(s: &Service, model: &Model) -> TokenStream {
    let imports = imports();
    let statics = type_statics(model, &s.types);
    let requests = s.endpoints.iter().map(|e| struct_static(&e.request, model));
    quote! {
        //! Wire shapes of the service's types and request bodies.
        #imports
        #(#statics)*
        #(#requests)*
    }
}

/// The path of an endpoint's request shape, for its `EndpointInfo`.
pub(crate) fn request_shape_path(s: &Service, request: &str) -> TokenStream {
    let m = ident(&s.module);
    let st = ident(&request.to_shouty_snake_case());
    quote!(&crate::generated::#m::shapes::#st)
}
