//! Named types and bodies: structs (with constructors, setters and limit checks) and tagged
//! unions (open on the read side: an element type we do not know is kept, not an error).

use proc_macro2::{Ident, TokenStream};
use quote::{format_ident, quote};
use tim_spec::{Field, Model, Prim, Role, Rule, Struct, Ty, Union};

use super::tokens::{
    code_tokens, contains_float, docs, docs_with_note, field_ty, ident, param, usize_lit,
};

/// Checks for one value `v` (a reference) of type `ty` at path `at`.
fn value_checks(ty: &Ty, f: &Field, v: &TokenStream, at: &Ident, model: &Model) -> TokenStream {
    let l = &f.limits;
    let mut out = TokenStream::new();
    if let Some(m) = l.max_items {
        let max = usize_lit(m.value);
        let code = code_tokens(m.code, model);
        out.extend(quote!(check::max_items(&#at, #v.len(), #max, #code)?;));
    }
    if let Some(m) = l.min_items {
        let min = usize_lit(m.value);
        let code = code_tokens(m.code, model);
        out.extend(quote!(check::min_items(&#at, #v.len(), #min, #code)?;));
    }
    let string_checks = |s: &TokenStream, at: &Ident| {
        let mut t = TokenStream::new();
        if let Some(m) = l.max_bytes {
            let max = usize_lit(m.value);
            let code = code_tokens(m.code, model);
            t.extend(quote!(check::max_bytes(&#at, #s, #max, #code)?;));
        }
        if let Some(n) = l.non_empty {
            let code = code_tokens(n.code, model);
            t.extend(quote!(check::non_empty(&#at, #s, #code)?;));
        }
        t
    };
    match ty {
        Ty::Prim(Prim::String) => out.extend(string_checks(v, at)),
        Ty::Prim(Prim::U32 | Prim::I64) => {
            if let Some(r) = l.range {
                let (min, max) = (r.min, r.max);
                let code = code_tokens(r.code, model);
                out.extend(quote!(check::range(&#at, i64::from(*#v), #min, #max, #code)?;));
            }
        }
        Ty::Prim(Prim::U64) => {
            if let Some(r) = l.range {
                let (min, max) = (r.min, r.max);
                let code = code_tokens(r.code, model);
                out.extend(quote!(check::range(&#at, i64::try_from(*#v).unwrap_or(i64::MAX), #min, #max, #code)?;));
            }
        }
        Ty::Prim(_) => {}
        Ty::Named(_) => out.extend(quote!(#v.validate_at(&#at)?;)),
        Ty::List(inner) => {
            let item = quote!(item);
            let inner_checks = match &**inner {
                Ty::Prim(Prim::String) => string_checks(&item, &ident("at_item")),
                Ty::Named(_) => quote!(item.validate_at(&at_item)?;),
                _ => TokenStream::new(),
            };
            if !inner_checks.is_empty() {
                out.extend(quote! {
                    for (i, item) in #v.iter().enumerate() {
                        let at_item = #at.index(i);
                        #inner_checks
                    }
                });
            }
        }
        Ty::Map(inner) => {
            let value = quote!(value);
            let mut inner_checks = match &**inner {
                Ty::Prim(Prim::String) => string_checks(&value, &ident("at_item")),
                Ty::Named(_) => quote!(value.validate_at(&at_item)?;),
                _ => TokenStream::new(),
            };
            if let Some(k) = &l.keys {
                let vals = &k.values;
                let code = code_tokens(k.code, model);
                let key_check = quote!(check::key_allowed(&at_item, key, &[#(#vals),*], #code)?;);
                inner_checks = quote!(#key_check #inner_checks);
            }
            if !inner_checks.is_empty() {
                out.extend(quote! {
                    for (key, value) in #v {
                        let at_item = #at.key(key);
                        #inner_checks
                    }
                });
            }
        }
    }
    out
}

pub(crate) fn validate_impl(s: &Struct, model: &Model) -> TokenStream {
    let name = ident(&s.name);
    let mut body = TokenStream::new();
    for f in &s.fields {
        let fname = ident(&f.rust);
        let wire = &f.wire;
        let at = ident("at_field");
        let v = quote!(v);
        let checks = value_checks(&f.ty, f, &v, &at, model);
        if checks.is_empty() {
            continue;
        }
        let get = if f.optional {
            quote!(if let Some(v) = &self.#fname { #checks })
        } else {
            quote!({ let v = &self.#fname; #checks })
        };
        body.extend(quote! {
            {
                let at_field = at.field(#wire);
                #get
            }
        });
    }
    for r in &s.rules {
        let present = |w: &str| {
            let f = s
                .fields
                .iter()
                .find(|f| f.wire == w)
                .expect("checked in model");
            let fname = ident(&f.rust);
            quote!(self.#fname.as_ref().map(|_| #w))
        };
        match r {
            Rule::Exclusive { groups, code } => {
                let code = code_tokens(*code, model);
                let groups = groups.iter().map(|g| {
                    let items = g.iter().map(|w| present(w));
                    quote!(&[#(#items),*])
                });
                body.extend(quote!(check::exclusive(at, &[#(#groups),*], #code)?;));
            }
            Rule::TagValue { tag, value, tags } => {
                let find = |w: &str| {
                    s.fields
                        .iter()
                        .find(|f| f.wire == w)
                        .expect("checked in model")
                };
                let (tf, vf) = (find(tag), find(value));
                let (tn, vn) = (ident(&tf.rust), ident(&vf.rust));
                let (tw, vw) = (&tf.wire, &vf.wire);
                let set = ident(tags);
                body.extend(quote! {
                    super::tags::#set::check_value(&self.#tn, &self.#vn, &at.field(#tw), &at.field(#vw))?;
                });
            }
            Rule::KnownTags { field, tags } => {
                let f = s
                    .fields
                    .iter()
                    .find(|f| &f.wire == field)
                    .expect("checked in model");
                let (n, w) = (ident(&f.rust), &f.wire);
                let set = ident(tags);
                body.extend(quote! {
                    {
                        let at_list = at.field(#w);
                        for (i, t) in self.#n.iter().enumerate() {
                            super::tags::#set::check_tag(t, &at_list.index(i))?;
                        }
                    }
                });
            }
            Rule::Disjoint { fields, code } => {
                let code = code_tokens(*code, model);
                let find = |w: &str| {
                    s.fields
                        .iter()
                        .find(|f| f.wire == w)
                        .expect("checked in model")
                };
                let (a, b) = (find(&fields[0]), find(&fields[1]));
                let (an, bn) = (ident(&a.rust), ident(&b.rust));
                let (aw, bw) = (&a.wire, &b.wire);
                body.extend(quote! {
                    check::disjoint(&at.field(#aw), self.#an.as_deref(), self.#bn.as_deref(), #bw, #code)?;
                });
            }
        }
    }
    let at_param = if body.is_empty() {
        quote!(_at)
    } else {
        quote!(at)
    };
    quote! {
        impl Validate for #name {
            fn validate_at(&self, #at_param: &FieldPath<'_>) -> Result<(), LimitError> {
                #body
                Ok(())
            }
        }
    }
}

/// A struct. `extra` adds the map of fields the spec does not know (top-level requests).
pub(crate) fn struct_def(s: &Struct, model: &Model, extra: bool) -> TokenStream {
    let name = ident(&s.name);
    let doc = docs_with_note(&s.doc, s.note.as_deref());
    let has_floats = s.fields.iter().any(|f| contains_float(&f.ty, model));
    let eq = if has_floats { quote!() } else { quote!(Eq,) };
    let all_defaultable = s.fields.iter().all(|f| !f.required || f.optional);
    let default = if all_defaultable {
        quote!(Default,)
    } else {
        quote!()
    };
    let fields = s.fields.iter().map(|f| {
        let fname = ident(&f.rust);
        let wire = &f.wire;
        let ty = field_ty(f);
        let doc = docs_with_note(&format!("`{wire}`: {}", f.doc), f.note.as_deref());
        let serde = if f.optional {
            quote!(#[serde(rename = #wire, default, skip_serializing_if = "Option::is_none")])
        } else if !f.required && f.omit_empty {
            // Absent reads as empty, and empty is written as absent (the pages' samples show
            // answers without it).
            match &f.ty {
                Ty::List(_) => {
                    quote!(#[serde(rename = #wire, default, skip_serializing_if = "Vec::is_empty")])
                }
                Ty::Map(_) => quote!(#[serde(rename = #wire, default, skip_serializing_if = "BTreeMap::is_empty")]),
                _ => quote!(#[serde(rename = #wire, default)]),
            }
        } else if !f.required {
            quote!(#[serde(rename = #wire, default)])
        } else {
            quote!(#[serde(rename = #wire)])
        };
        quote!(#doc #serde pub #fname: #ty,)
    });
    let extra_field = if extra {
        quote! {
            /// Fields this version of the spec does not know (e.g. ones Tencent added later),
            /// sent as they are after the known fields. Empty by default.
            #[serde(flatten)]
            pub extra: BTreeMap<String, serde_json::Value>,
        }
    } else {
        quote!()
    };
    let required: Vec<&Field> = s.fields.iter().filter(|f| f.required).collect();
    let params = required.iter().map(|f| {
        let n = ident(&f.rust);
        let (t, _) = param(&f.ty, &n);
        quote!(#n: #t)
    });
    let inits = s.fields.iter().map(|f| {
        let n = ident(&f.rust);
        if f.required {
            let (_, conv) = param(&f.ty, &n);
            if n == conv.to_string() {
                quote!(#n,)
            } else {
                quote!(#n: #conv,)
            }
        } else if f.optional {
            quote!(#n: None,)
        } else {
            quote!(#n: Default::default(),)
        }
    });
    let extra_init = if extra {
        quote!(extra: BTreeMap::new(),)
    } else {
        quote!()
    };
    // One parameter per required field: a shape with many required fields (TIMVideoFileElem has
    // eight) goes past clippy's default of seven.
    let many_args = if required.len() > 7 {
        quote!(#[allow(clippy::too_many_arguments)])
    } else {
        quote!()
    };
    let new_doc = if required.is_empty() {
        format!(" Creates an empty `{}`.", s.name)
    } else {
        let list: Vec<String> = required.iter().map(|f| format!("`{}`", f.wire)).collect();
        format!(
            " Creates a `{}` from its required fields ({}); optional fields start empty.",
            s.name,
            list.join(", ")
        )
    };
    let setters = s.fields.iter().filter(|f| !f.required).map(|f| {
        let n = ident(&f.rust);
        let with = format_ident!("with_{}", f.rust);
        let doc = format!(" Sets `{}`.", f.wire);
        let (p, conv) = param(&f.ty, &n);
        let assign = if f.optional {
            quote!(Some(#conv))
        } else {
            conv
        };
        quote! {
            #[doc = #doc]
            #[must_use]
            pub fn #with(mut self, #n: #p) -> Self {
                self.#n = #assign;
                self
            }
        }
    });
    let extra_setter = if extra {
        quote! {
            /// Adds a field the spec does not know, sent as it is (see `extra`).
            #[must_use]
            pub fn with_extra(mut self, wire_name: impl Into<String>, value: impl Into<serde_json::Value>) -> Self {
                self.extra.insert(wire_name.into(), value.into());
                self
            }
        }
    } else {
        quote!()
    };
    let validate = if s.role == Role::Response {
        quote!()
    } else {
        validate_impl(s, model)
    };
    quote! {
        #doc
        #[derive(Debug, Clone, PartialEq, #eq #default Serialize, Deserialize)]
        #[non_exhaustive]
        pub struct #name {
            #(#fields)*
            #extra_field
        }

        impl #name {
            #[doc = #new_doc]
            #many_args
            pub fn new(#(#params),*) -> Self {
                Self { #(#inits)* #extra_init }
            }
            #(#setters)*
            #extra_setter
        }

        #validate
    }
}

/// A tagged union with a catch-all `Other` variant that keeps an unknown tag and its content.
pub(crate) fn union_def(u: &Union, model: &Model) -> TokenStream {
    let name = ident(&u.name);
    let doc = docs_with_note(&u.doc, u.note.as_deref());
    let (tag, content) = (&u.tag, &u.content);
    let floats = u
        .variants
        .iter()
        .any(|v| contains_float(&Ty::Named(v.ty.clone()), model));
    let eq = if floats { quote!() } else { quote!(Eq,) };
    let variants = u.variants.iter().map(|v| {
        let vn = ident(&v.rust);
        let ty = ident(&v.ty);
        let d = docs(&format!("`{}`: {}", v.wire, v.doc));
        quote!(#d #vn(#ty),)
    });
    let other_doc = format!(
        " A `{tag}` this version does not know, kept with its `{content}` as it came (and sent as it is)."
    );
    let arms = u.variants.iter().map(|v| {
        let vn = ident(&v.rust);
        quote!(#name::#vn(c) => c.validate_at(&at.field(#content)),)
    });
    let wire_arms = u.variants.iter().map(|v| {
        let vn = ident(&v.rust);
        let wire = &v.wire;
        quote!(#name::#vn(_) => #wire,)
    });
    let ser_arms = u.variants.iter().map(|v| {
        let vn = ident(&v.rust);
        let wire = &v.wire;
        quote!(#name::#vn(c) => { m.serialize_entry(#tag, #wire)?; m.serialize_entry(#content, c)?; })
    });
    let de_arms = u.variants.iter().map(|v| {
        let vn = ident(&v.rust);
        let wire = &v.wire;
        quote!(#wire => serde_json::from_value(raw.content).map(#name::#vn).map_err(serde::de::Error::custom),)
    });
    let froms = u.variants.iter().map(|v| {
        let vn = ident(&v.rust);
        let ty = ident(&v.ty);
        quote! {
            impl From<#ty> for #name {
                fn from(v: #ty) -> Self { #name::#vn(v) }
            }
        }
    });
    let tag_doc = format!(" The `{tag}` value of this element.");
    let raw_name = format_ident!("{}Raw", u.name);
    quote! {
        #doc
        #[derive(Debug, Clone, PartialEq, #eq)]
        #[non_exhaustive]
        pub enum #name {
            #(#variants)*
            #[doc = #other_doc]
            Other {
                /// The tag.
                msg_type: String,
                /// The content, as it came.
                content: serde_json::Value,
            },
        }

        impl #name {
            #[doc = #tag_doc]
            pub fn msg_type(&self) -> &str {
                match self { #(#wire_arms)* #name::Other { msg_type, .. } => msg_type }
            }
        }

        impl Serialize for #name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                use serde::ser::SerializeMap as _;
                let mut m = s.serialize_map(Some(2))?;
                match self {
                    #(#ser_arms)*
                    #name::Other { msg_type, content: c } => { m.serialize_entry(#tag, msg_type)?; m.serialize_entry(#content, c)?; }
                }
                m.end()
            }
        }

        #[derive(Deserialize)]
        struct #raw_name {
            #[serde(rename = #tag)]
            tag: String,
            #[serde(rename = #content, default)]
            content: serde_json::Value,
        }

        impl<'de> Deserialize<'de> for #name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let raw = #raw_name::deserialize(d)?;
                match raw.tag.as_str() {
                    #(#de_arms)*
                    _ => Ok(#name::Other { msg_type: raw.tag, content: raw.content }),
                }
            }
        }

        impl Validate for #name {
            fn validate_at(&self, at: &FieldPath<'_>) -> Result<(), LimitError> {
                match self { #(#arms)* #name::Other { .. } => Ok(()) }
            }
        }

        #(#froms)*
    }
}
