//! Small helpers every emitter uses: identifiers, doc attributes, Rust types of spec types.

use proc_macro2::{Ident, Literal, Span, TokenStream};
use quote::quote;
use tim_spec::{Field, Model, Prim, Ty, TypeDef};

pub(crate) fn ident(s: &str) -> Ident {
    Ident::new(s, Span::call_site())
}

/// `#[doc = " line"]` attributes, one per line, so that prettyplease prints `/// line`.
pub(crate) fn docs(text: &str) -> TokenStream {
    let lines = text.lines().map(|l| {
        let l = if l.is_empty() {
            String::new()
        } else {
            format!(" {l}")
        };
        quote!(#[doc = #l])
    });
    quote!(#(#lines)*)
}

pub(crate) fn docs_with_note(text: &str, note: Option<&str>) -> TokenStream {
    match note {
        None => docs(text),
        Some(n) => docs(&format!("{text}\n\nSpec note: {n}")),
    }
}

pub(crate) fn prim(p: Prim) -> TokenStream {
    match p {
        Prim::String => quote!(String),
        Prim::U32 => quote!(u32),
        Prim::U64 => quote!(u64),
        Prim::I64 => quote!(i64),
        Prim::F64 => quote!(f64),
        Prim::Bool => quote!(bool),
        Prim::Json => quote!(serde_json::Value),
    }
}

pub(crate) fn rust_ty(ty: &Ty) -> TokenStream {
    match ty {
        Ty::Prim(p) => prim(*p),
        Ty::List(t) => {
            let t = rust_ty(t);
            quote!(Vec<#t>)
        }
        Ty::Map(t) => {
            let t = rust_ty(t);
            quote!(BTreeMap<String, #t>)
        }
        Ty::Named(n) => {
            let n = ident(n);
            quote!(#n)
        }
    }
}

pub(crate) fn field_ty(f: &Field) -> TokenStream {
    let t = rust_ty(&f.ty);
    if f.optional { quote!(Option<#t>) } else { t }
}

pub(crate) fn code_tokens(code: Option<i64>, model: &Model) -> TokenStream {
    match code {
        None => quote!(None),
        Some(c) => {
            let v = ident(&model.error(c).expect("codes are checked by the model").rust);
            quote!(Some(ErrorCode::#v))
        }
    }
}

pub(crate) fn usize_lit(v: u64) -> Literal {
    Literal::usize_unsuffixed(v as usize)
}

pub(crate) fn contains_float(ty: &Ty, model: &Model) -> bool {
    match ty {
        Ty::Prim(p) => *p == Prim::F64,
        Ty::List(t) | Ty::Map(t) => contains_float(t, model),
        Ty::Named(n) => match &model.types[n] {
            TypeDef::Struct(s) => s.fields.iter().any(|f| contains_float(&f.ty, model)),
            TypeDef::Union(u) => u
                .variants
                .iter()
                .any(|v| contains_float(&Ty::Named(v.ty.clone()), model)),
        },
    }
}

/// `(parameter type, conversion)` of a value of type `ty` named `name` taken by a constructor
/// or setter: strings take `impl Into<String>`, lists any iterator of convertible items, maps
/// any iterator of convertible pairs.
pub(crate) fn param(ty: &Ty, name: &Ident) -> (TokenStream, TokenStream) {
    match ty {
        Ty::Prim(Prim::String) => (quote!(impl Into<String>), quote!(#name.into())),
        Ty::List(inner) => {
            let t = rust_ty(inner);
            (
                quote!(impl IntoIterator<Item = impl Into<#t>>),
                quote!(#name.into_iter().map(Into::into).collect()),
            )
        }
        Ty::Map(inner) => {
            let t = rust_ty(inner);
            (
                quote!(impl IntoIterator<Item = (impl Into<String>, impl Into<#t>)>),
                quote!(#name.into_iter().map(|(k, v)| (k.into(), v.into())).collect()),
            )
        }
        Ty::Named(_) => {
            let t = rust_ty(ty);
            (quote!(impl Into<#t>), quote!(#name.into()))
        }
        other => (rust_ty(other), quote!(#name)),
    }
}

/// The imports at the top of every file that defines types.
pub(crate) fn header_imports() -> TokenStream {
    quote! {
        #[allow(unused_imports)]
        use std::collections::BTreeMap;
        use serde::{Deserialize, Serialize};
        #[allow(unused_imports)]
        use crate::validate::{check, FieldPath, LimitError, Validate};
        #[allow(unused_imports)]
        use crate::generated::ErrorCode;
    }
}
