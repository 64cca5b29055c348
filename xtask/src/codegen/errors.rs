//! `ErrorCode`: every code of every spec file, as one open enum with each code's kind.

use proc_macro2::TokenStream;
use quote::quote;
use tim_spec::{CodeKind, Model};

use super::tokens::{docs_with_note, ident};

pub(crate) fn errors_file(model: &Model) -> TokenStream {
    let variants = model.errors.iter().map(|e| {
        let v = ident(&e.rust);
        let place = match &e.service {
            None => "public".to_owned(),
            Some(s) => format!("`{s}`"),
        };
        let doc = docs_with_note(
            &format!("{} ({place}): {}", e.code, e.meaning),
            e.note.as_deref(),
        );
        quote!(#doc #v,)
    });
    let all = model.errors.iter().map(|e| {
        let v = ident(&e.rust);
        quote!(ErrorCode::#v)
    });
    let arms = |f: &dyn Fn(&tim_spec::ErrorDef) -> TokenStream| -> Vec<TokenStream> {
        model
            .errors
            .iter()
            .map(|e| {
                let v = ident(&e.rust);
                let out = f(e);
                quote!(ErrorCode::#v => #out,)
            })
            .collect()
    };
    let code_arms = arms(&|e| {
        let c = e.code;
        quote!(#c)
    });
    let from_arms = model.errors.iter().map(|e| {
        let v = ident(&e.rust);
        let c = e.code;
        quote!(#c => ErrorCode::#v,)
    });
    let kind_arms = arms(&|e| match e.kind {
        CodeKind::Throttled => quote!(Some(CodeKind::Throttled)),
        CodeKind::AuthExpired => quote!(Some(CodeKind::AuthExpired)),
        CodeKind::Transient => quote!(Some(CodeKind::Transient)),
        CodeKind::Caller => quote!(Some(CodeKind::Caller)),
        CodeKind::Config => quote!(Some(CodeKind::Config)),
        CodeKind::Quota => quote!(Some(CodeKind::Quota)),
    });
    let meaning_arms = arms(&|e| {
        let m = &e.meaning;
        quote!(Some(#m))
    });
    let name_arms = arms(&|e| {
        let n = &e.rust;
        quote!(Some(#n))
    });
    let scope_arms = arms(&|e| match &e.service {
        None => quote!(Some(ErrorScope::Public)),
        Some(s) => quote!(Some(ErrorScope::Service(#s))),
    });
    quote! {
        use crate::classify::CodeKind;

        /// Every error code of the spec (the public table and each service's), as an open enum:
        /// codes the spec does not list become [`ErrorCode::Unknown`], so
        /// `ErrorCode::from(n).code() == n` for every `n`.
        ///
        /// Match on a variant for codes you handle, and on [`ErrorCode::code`] for codes the
        /// spec may add later.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum ErrorCode {
            #(#variants)*
            /// A code the spec does not list.
            Unknown(i64),
        }

        /// Where an error code is documented.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum ErrorScope {
            /// The public error table shared by every REST API.
            Public,
            /// The pages of one wire service (its name).
            Service(&'static str),
        }

        impl ErrorCode {
            /// Every code the spec lists.
            pub const KNOWN: &'static [ErrorCode] = &[#(#all),*];

            /// The numeric code.
            pub const fn code(self) -> i64 {
                match self { #(#code_arms)* ErrorCode::Unknown(c) => c }
            }

            /// What the code means for the caller, as the spec classifies it (`None` for codes
            /// it does not list). Retries, re-signing and the rate limiter derive their
            /// decisions from it: see [`classify`](crate::classify()).
            pub const fn kind(self) -> Option<CodeKind> {
                match self { #(#kind_arms)* ErrorCode::Unknown(_) => None }
            }

            /// The documented meaning, for listed codes.
            pub const fn meaning(self) -> Option<&'static str> {
                match self { #(#meaning_arms)* ErrorCode::Unknown(_) => None }
            }

            /// The variant name, for listed codes.
            pub const fn name(self) -> Option<&'static str> {
                match self { #(#name_arms)* ErrorCode::Unknown(_) => None }
            }

            /// Where the code is documented, for listed codes.
            pub const fn scope(self) -> Option<ErrorScope> {
                match self { #(#scope_arms)* ErrorCode::Unknown(_) => None }
            }
        }

        impl From<i64> for ErrorCode {
            fn from(code: i64) -> Self {
                match code { #(#from_arms)* other => ErrorCode::Unknown(other) }
            }
        }

        impl From<ErrorCode> for i64 {
            fn from(code: ErrorCode) -> i64 { code.code() }
        }

        impl std::fmt::Display for ErrorCode {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                match self.name() {
                    Some(n) => write!(f, "{} ({})", self.code(), n),
                    None => write!(f, "{}", self.code()),
                }
            }
        }
    }
}
