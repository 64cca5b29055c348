//! Tag sets (`tags` of a service file): one enum of the standard tags, with their wire names,
//! accepted values and the checks of a tag/value pair that the `tag_value` and `known_tags`
//! rules call.

use proc_macro2::TokenStream;
use quote::quote;
use tim_spec::{Model, Prim, Service, TagSet};

use super::tokens::{code_tokens, docs, docs_with_note, ident, usize_lit};

fn tag_set(t: &TagSet, model: &Model) -> TokenStream {
    let name = ident(&t.name);
    let doc = docs_with_note(&t.doc, t.note.as_deref());
    let variants = t.standard.iter().map(|d| {
        let v = ident(&d.rust);
        let doc = docs_with_note(&format!("`{}`: {}", d.wire, d.doc), d.note.as_deref());
        quote!(#doc #v,)
    });
    let all = t.standard.iter().map(|d| {
        let v = ident(&d.rust);
        quote!(#name::#v)
    });
    let wires = t.standard.iter().map(|d| {
        let v = ident(&d.rust);
        let w = &d.wire;
        quote!(#name::#v => #w,)
    });
    let from_wires = t.standard.iter().map(|d| {
        let v = ident(&d.rust);
        let w = &d.wire;
        quote!(#w => Some(#name::#v),)
    });
    let allowed = t.standard.iter().filter_map(|d| {
        let v = ident(&d.rust);
        let vals = &d.values.as_ref()?.values;
        Some(quote!(#name::#v => &[#(#vals),*],))
    });
    let type_code = code_tokens(t.type_code, model);
    let unknown_code = code_tokens(t.unknown_code, model);
    let value_checks = t.standard.iter().map(|d| {
        let v = ident(&d.rust);
        let mut body = TokenStream::new();
        match d.ty {
            Prim::String => {
                body.extend(quote!(let s = check::json_str(at_value, value, #type_code)?;));
                if let Some(m) = d.limits.max_bytes {
                    let max = usize_lit(m.value);
                    let code = code_tokens(m.code, model);
                    body.extend(quote!(check::max_bytes(at_value, s, #max, #code)?;));
                }
                if let Some(vals) = &d.values {
                    let code = code_tokens(vals.code, model);
                    body.extend(quote!(check::one_of(at_value, s, self.allowed_values(), #code)?;));
                }
            }
            other => {
                let max = if other == Prim::U32 {
                    quote!(u64::from(u32::MAX))
                } else {
                    quote!(u64::MAX)
                };
                body.extend(quote!(let n = check::json_uint(at_value, value, #max, #type_code)?;));
                if let Some(r) = d.limits.range {
                    let (min, rmax) = (r.min, r.max);
                    let code = code_tokens(r.code, model);
                    body.extend(quote!(check::range(at_value, i64::try_from(n).unwrap_or(i64::MAX), #min, #rmax, #code)?;));
                } else {
                    body.extend(quote!(let _ = n;));
                }
            }
        }
        quote!(#name::#v => { #body })
    });
    let (custom_doc, custom_check) = match &t.custom {
        None => (
            quote!(),
            quote!(Err(check::unknown_tag(at_tag, tag, #unknown_code))),
        ),
        Some(c) => {
            let prefix = &c.prefix;
            let kw = usize_lit(c.keyword_max_bytes);
            let string_limit = match c.limits.max_bytes {
                Some(m) => {
                    let max = usize_lit(m.value);
                    let code = code_tokens(m.code, model);
                    quote! {
                        if let Some(s) = value.as_str() {
                            check::max_bytes(at_value, s, #max, #code)?;
                        }
                    }
                }
                None => quote!(),
            };
            let d = docs(&format!("The prefix of app-defined tags: {}", c.doc));
            (
                quote! {
                    #d
                    pub const CUSTOM_PREFIX: &'static str = #prefix;
                },
                quote! {
                    if !Self::is_custom(tag) {
                        return Err(check::unknown_tag(at_tag, tag, #unknown_code));
                    }
                    let _ = #kw;
                    #string_limit
                    Ok(())
                },
            )
        }
    };
    let is_custom = match &t.custom {
        None => quote! {
            /// Whether `tag` is of the app-defined form (this set has none).
            pub fn is_custom(tag: &str) -> bool {
                let _ = tag;
                false
            }
        },
        Some(c) => {
            let prefix = &c.prefix;
            let kw = usize_lit(c.keyword_max_bytes);
            let d = format!(
                " Whether `tag` is of the app-defined form: `{prefix}` and a keyword of 1 to {} ASCII letters.",
                c.keyword_max_bytes
            );
            quote! {
                #[doc = #d]
                pub fn is_custom(tag: &str) -> bool {
                    tag.strip_prefix(#prefix).is_some_and(|k| {
                        (1..=#kw).contains(&k.len()) && k.bytes().all(|b| b.is_ascii_alphabetic())
                    })
                }
            }
        }
    };
    quote! {
        #doc
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[non_exhaustive]
        pub enum #name {
            #(#variants)*
        }

        impl #name {
            /// Every standard tag, in spec order.
            pub const ALL: &'static [#name] = &[#(#all),*];
            #custom_doc

            /// The tag on the wire.
            pub fn wire(self) -> &'static str {
                match self { #(#wires)* }
            }

            /// The standard tag with this wire name.
            pub fn from_wire(tag: &str) -> Option<Self> {
                match tag { #(#from_wires)* _ => None }
            }

            /// The only values the tag accepts (empty: any value of its type).
            pub fn allowed_values(self) -> &'static [&'static str] {
                #[allow(unreachable_patterns)]
                match self { #(#allowed)* _ => &[] }
            }

            #is_custom

            /// Checks a tag name: standard, or of the app-defined form.
            pub fn check_tag(tag: &str, at: &FieldPath<'_>) -> Result<(), LimitError> {
                if Self::from_wire(tag).is_some() || Self::is_custom(tag) {
                    Ok(())
                } else {
                    Err(check::unknown_tag(at, tag, #unknown_code))
                }
            }

            /// Checks a tag and its value: the tag is known, and a standard tag's value has
            /// its type, limits and accepted values.
            pub fn check_value(
                tag: &str,
                value: &serde_json::Value,
                at_tag: &FieldPath<'_>,
                at_value: &FieldPath<'_>,
            ) -> Result<(), LimitError> {
                match Self::from_wire(tag) {
                    Some(t) => t.check_standard(value, at_value),
                    None => { #custom_check }
                }
            }

            fn check_standard(self, value: &serde_json::Value, at_value: &FieldPath<'_>) -> Result<(), LimitError> {
                match self { #(#value_checks)* }
                Ok(())
            }
        }
    }
}

/// `<service>/tags.rs`, for a service with tag sets.
pub(crate) fn tags_file(s: &Service, model: &Model) -> TokenStream {
    let sets = s.tag_sets.iter().map(|t| tag_set(t, model));
    quote! {
        #[allow(unused_imports)]
        use crate::validate::{check, FieldPath, LimitError};
        #[allow(unused_imports)]
        use crate::generated::ErrorCode;
        #(#sets)*
    }
}
