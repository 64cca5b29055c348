//! model → token streams, one per generated file.

use proc_macro2::{Ident, Literal, Span, TokenStream};
use quote::{format_ident, quote};

use crate::model::{Endpoint, Field, Model, Struct, Ty, TypeDef, Union};
use crate::spec::{Prim, Retry, Rule, Scope};

fn ident(s: &str) -> Ident {
    Ident::new(s, Span::call_site())
}

/// `#[doc = " line"]` attributes, one per line, so that prettyplease prints `/// line`.
fn docs(text: &str) -> TokenStream {
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

fn docs_with_note(text: &str, note: Option<&str>) -> TokenStream {
    match note {
        None => docs(text),
        Some(n) => docs(&format!("{text}\n\nSpec note: {n}")),
    }
}

fn prim(p: Prim) -> TokenStream {
    match p {
        Prim::String => quote!(String),
        Prim::U32 => quote!(u32),
        Prim::U64 => quote!(u64),
        Prim::I64 => quote!(i64),
        Prim::F64 => quote!(f64),
        Prim::Bool => quote!(bool),
    }
}

fn rust_ty(ty: &Ty) -> TokenStream {
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

fn field_ty(f: &Field) -> TokenStream {
    let t = rust_ty(&f.ty);
    if f.optional { quote!(Option<#t>) } else { t }
}

fn code_tokens(code: Option<i64>, model: &Model) -> TokenStream {
    match code {
        None => quote!(None),
        Some(c) => {
            let v = ident(&model.error(c).rust);
            quote!(Some(ErrorCode::#v))
        }
    }
}

fn usize_lit(v: u64) -> Literal {
    Literal::usize_unsuffixed(v as usize)
}

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

fn validate_impl(s: &Struct, model: &Model) -> TokenStream {
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

/// Parameter type and conversion of a required field in `new`.
fn new_param(f: &Field) -> (TokenStream, TokenStream) {
    let name = ident(&f.rust);
    match &f.ty {
        Ty::Prim(Prim::String) => (quote!(impl Into<String>), quote!(#name.into())),
        Ty::List(inner) if **inner == Ty::Prim(Prim::String) => (
            quote!(impl IntoIterator<Item = impl Into<String>>),
            quote!(#name.into_iter().map(Into::into).collect()),
        ),
        Ty::List(inner) => {
            let t = rust_ty(inner);
            (
                quote!(impl IntoIterator<Item = #t>),
                quote!(#name.into_iter().collect()),
            )
        }
        Ty::Map(inner) if **inner == Ty::Prim(Prim::String) => (
            quote!(impl IntoIterator<Item = (impl Into<String>, impl Into<String>)>),
            quote!(#name.into_iter().map(|(k, v)| (k.into(), v.into())).collect()),
        ),
        Ty::Map(inner) => {
            let t = rust_ty(inner);
            (
                quote!(impl IntoIterator<Item = (impl Into<String>, #t)>),
                quote!(#name.into_iter().map(|(k, v)| (k.into(), v)).collect()),
            )
        }
        other => (rust_ty(other), quote!()),
    }
}

fn struct_def(s: &Struct, model: &Model) -> TokenStream {
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
    let deny = if s.deny_unknown {
        quote!(#[serde(deny_unknown_fields)])
    } else {
        quote!()
    };
    let envelope_fields = if s.envelope {
        quote! {
            /// `ActionStatus`: `OK` or `FAIL`.
            #[serde(rename = "ActionStatus")]
            pub action_status: ActionStatus,
            /// `ErrorCode`: 0 on success.
            #[serde(rename = "ErrorCode", default)]
            pub error_code: i64,
            /// `ErrorInfo`: the server's message.
            #[serde(rename = "ErrorInfo", default)]
            pub error_info: String,
            /// `ErrorDisplay`, when the server sends one.
            #[serde(rename = "ErrorDisplay", default, skip_serializing_if = "Option::is_none")]
            pub error_display: Option<String>,
        }
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
        } else if !f.required {
            quote!(#[serde(rename = #wire, default)])
        } else {
            quote!(#[serde(rename = #wire)])
        };
        quote!(#doc #serde pub #fname: #ty,)
    });

    // Constructor: required fields as parameters, everything else empty.
    let required: Vec<&Field> = s.fields.iter().filter(|f| f.required).collect();
    let params = required.iter().map(|f| {
        let n = ident(&f.rust);
        let (t, _) = new_param(f);
        quote!(#n: #t)
    });
    let inits = s.fields.iter().map(|f| {
        let n = ident(&f.rust);
        if f.required {
            let (_, conv) = new_param(f);
            if conv.is_empty() {
                quote!(#n)
            } else {
                quote!(#n: #conv)
            }
        } else if f.optional {
            quote!(#n: None)
        } else {
            quote!(#n: Default::default())
        }
    });
    let envelope_inits = if s.envelope {
        quote!(action_status: ActionStatus::Ok, error_code: 0, error_info: String::new(), error_display: None,)
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
    let new_doc = if s.envelope {
        format!("{new_doc} The envelope says success.")
    } else {
        new_doc
    };
    let setters = s.fields.iter().filter(|f| f.optional).map(|f| {
        let n = ident(&f.rust);
        let with = format_ident!("with_{}", f.rust);
        let t = rust_ty(&f.ty);
        let doc = format!(" Sets `{}`.", f.wire);
        let (param, conv) = match &f.ty {
            Ty::Prim(Prim::String) => (quote!(impl Into<String>), quote!(#n.into())),
            _ => (t, quote!(#n)),
        };
        quote! {
            #[doc = #doc]
            #[must_use]
            pub fn #with(mut self, #n: #param) -> Self {
                self.#n = Some(#conv);
                self
            }
        }
    });
    let validate = validate_impl(s, model);
    let envelope_impl = if s.envelope {
        quote! {
            impl Envelope for #name {
                fn action_status(&self) -> &ActionStatus { &self.action_status }
                fn error_code(&self) -> i64 { self.error_code }
                fn error_info(&self) -> &str { &self.error_info }
            }
        }
    } else {
        quote!()
    };
    quote! {
        #doc
        #[derive(Debug, Clone, PartialEq, #eq #default Serialize, Deserialize)]
        #deny
        #[non_exhaustive]
        pub struct #name {
            #envelope_fields
            #(#fields)*
        }

        impl #name {
            #[doc = #new_doc]
            pub fn new(#(#params),*) -> Self {
                Self { #envelope_inits #(#inits),* }
            }
            #(#setters)*
        }

        #validate
        #envelope_impl
    }
}

fn contains_float(ty: &Ty, model: &Model) -> bool {
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

fn union_def(u: &Union, model: &Model) -> TokenStream {
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
        let wire = &v.wire;
        let d = docs(&format!("`{wire}`: {}", v.doc));
        quote!(#d #[serde(rename = #wire)] #vn(#ty),)
    });
    let arms = u.variants.iter().map(|v| {
        let vn = ident(&v.rust);
        quote!(#name::#vn(c) => c.validate_at(&at.field(#content)),)
    });
    let wire_arms = u.variants.iter().map(|v| {
        let vn = ident(&v.rust);
        let wire = &v.wire;
        quote!(#name::#vn(_) => #wire,)
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
    quote! {
        #doc
        #[derive(Debug, Clone, PartialEq, #eq Serialize, Deserialize)]
        #[serde(tag = #tag, content = #content)]
        pub enum #name {
            #(#variants)*
        }

        impl #name {
            #[doc = #tag_doc]
            pub fn msg_type(&self) -> &'static str {
                match self { #(#wire_arms)* }
            }
        }

        impl Validate for #name {
            fn validate_at(&self, at: &FieldPath<'_>) -> Result<(), LimitError> {
                match self { #(#arms)* }
            }
        }

        #(#froms)*
    }
}

fn header_imports() -> TokenStream {
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

pub(crate) fn types_file(model: &Model) -> TokenStream {
    let imports = header_imports();
    let defs = model.types.values().map(|t| match t {
        TypeDef::Struct(s) => struct_def(s, model),
        TypeDef::Union(u) => union_def(u, model),
    });
    let doc = format!(" Types shared by the endpoints of `{}`.", model.family);
    quote! {
        #![doc = #doc]
        #imports
        #(#defs)*
    }
}

fn endpoint_error_enum(e: &Endpoint, model: &Model) -> TokenStream {
    let name = format_ident!("{}ErrorCode", e.rust);
    let doc = format!(
        "Error codes documented for `{}`, plus the family's other codes (`Other`) and codes\nno spec lists (`Unknown`).",
        e.command
    );
    let doc = docs(&doc);
    let defs: Vec<_> = e.errors.iter().map(|c| model.error(*c)).collect();
    let variants = defs.iter().map(|d| {
        let v = ident(&d.rust);
        let text = format!("{}: {}", d.code, d.meaning);
        let doc = docs(&text);
        quote!(#doc #v,)
    });
    let to_family = defs.iter().map(|d| {
        let v = ident(&d.rust);
        quote!(#name::#v => ErrorCode::#v,)
    });
    let from_family = defs.iter().map(|d| {
        let v = ident(&d.rust);
        quote!(ErrorCode::#v => #name::#v,)
    });
    quote! {
        #doc
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum #name {
            #(#variants)*
            /// A code of the family's error table that this endpoint's page does not list.
            Other(ErrorCode),
            /// A code that no spec lists.
            Unknown(i64),
        }

        impl #name {
            /// The code as a family-wide [`ErrorCode`].
            pub const fn family(self) -> ErrorCode {
                match self {
                    #(#to_family)*
                    #name::Other(c) => c,
                    #name::Unknown(c) => ErrorCode::Unknown(c),
                }
            }
            /// The numeric code.
            pub const fn code(self) -> i64 { self.family().code() }
            /// How safe it is to repeat a call that failed with this code.
            pub const fn retry_class(self) -> RetryClass { self.family().retry_class() }
        }

        impl From<i64> for #name {
            fn from(code: i64) -> Self {
                match ErrorCode::from(code) {
                    #(#from_family)*
                    ErrorCode::Unknown(c) => #name::Unknown(c),
                    other => #name::Other(other),
                }
            }
        }

        impl From<#name> for i64 {
            fn from(code: #name) -> i64 { code.code() }
        }
    }
}

fn endpoint_def(e: &Endpoint, model: &Model) -> TokenStream {
    let marker = ident(&e.rust);
    let req = ident(&e.request.name);
    let resp = ident(&e.response.name);
    let err = format_ident!("{}ErrorCode", e.rust);
    let (service, command, name) = (&model.family, &e.command, &e.rust);
    let doc_line = e.doc.as_str();
    let mut doc_text = format!("`{command}`: {doc_line}\n\nPOST `/v4/{service}/{command}`");
    if !e.idempotent {
        doc_text.push_str(
            ". Not idempotent: never repeated after an ambiguous failure unless the caller opts in",
        );
    }
    doc_text.push('.');
    let doc = docs_with_note(&doc_text, e.note.as_deref());
    let idempotent = e.idempotent;
    let opt_u32 = |v: Option<u32>| match v {
        Some(v) => quote!(Some(#v)),
        None => quote!(None),
    };
    let per_second = opt_u32(e.rate.per_second);
    let per_day = opt_u32(e.rate.per_day);
    let min_interval = match e.rate.min_interval_ms {
        Some(ms) => quote!(Some(Duration::from_millis(#ms))),
        None => quote!(None),
    };
    let batch_info = match &e.batch {
        Some(b) => {
            let rf = &e.request.fields[b.request_field].wire;
            let respf = match b.response_field {
                Some(i) => {
                    let w = &e.response.fields[i].wire;
                    quote!(Some(#w))
                }
                None => quote!(None),
            };
            let max = usize_lit(b.max_items);
            quote!(Some(BatchInfo { request_field: #rf, response_field: #respf, max_items: #max }))
        }
        None => quote!(None),
    };
    let errors = e.errors.iter().map(|c| {
        let v = ident(&model.error(*c).rust);
        quote!(ErrorCode::#v)
    });
    let batch_impl = match &e.batch {
        None => quote!(),
        Some(b) => {
            let f = &e.request.fields[b.request_field];
            let fname = ident(&f.rust);
            let item = match &f.ty {
                Ty::List(inner) => rust_ty(inner),
                _ => unreachable!("checked in model"),
            };
            let others = e
                .request
                .fields
                .iter()
                .enumerate()
                .filter(|(i, _)| *i != b.request_field)
                .map(|(_, f)| {
                    let n = ident(&f.rust);
                    quote!(#n: None,)
                });
            let max = usize_lit(b.max_items);
            let merge = match b.response_field {
                Some(i) => {
                    let n = ident(&e.response.fields[i].rust);
                    quote!(acc.#n.extend(next.#n);)
                }
                None => quote!(let _ = (acc, next);),
            };
            quote! {
                impl Batch for #marker {
                    type Item = #item;
                    const MAX_ITEMS: usize = #max;
                    fn request_from_items(items: Vec<#item>) -> #req {
                        #req { #fname: items, #(#others)* }
                    }
                    fn items(request: &#req) -> &[#item] {
                        &request.#fname
                    }
                    fn merge(acc: &mut #resp, next: #resp) {
                        #merge
                    }
                }
            }
        }
    };
    let req_def = struct_def(&e.request, model);
    let resp_def = struct_def(&e.response, model);
    let err_def = endpoint_error_enum(e, model);
    quote! {
        #doc
        #[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
        pub struct #marker;

        impl Endpoint for #marker {
            type Request = #req;
            type Response = #resp;
            type ErrorCode = #err;
            const INFO: &'static EndpointInfo = &EndpointInfo {
                name: #name,
                service: #service,
                command: #command,
                doc: #doc_line,
                idempotent: #idempotent,
                rate: RateLimit { per_second: #per_second, per_day: #per_day, min_interval: #min_interval },
                batch: #batch_info,
                errors: &[#(#errors),*],
            };
        }

        #batch_impl
        #req_def
        #resp_def
        #err_def
    }
}

fn command_enum(model: &Model) -> TokenStream {
    let variants = model.endpoints.iter().map(|e| {
        let v = ident(&e.rust);
        let d = format!(" `{}`: see [`{}`].", e.command, e.rust);
        quote!(#[doc = #d] #v,)
    });
    let all = model.endpoints.iter().map(|e| {
        let v = ident(&e.rust);
        quote!(Command::#v)
    });
    let info_arms = model.endpoints.iter().map(|e| {
        let v = ident(&e.rust);
        quote!(Command::#v => <#v as Endpoint>::INFO,)
    });
    let from_arms = model.endpoints.iter().map(|e| {
        let v = ident(&e.rust);
        let c = &e.command;
        quote!(#c => Some(Command::#v),)
    });
    let visit_arms = model.endpoints.iter().map(|e| {
        let v = ident(&e.rust);
        quote!(Command::#v => visitor.visit::<#v>(),)
    });
    quote! {
        /// Every endpoint of the family, for choosing one at run time (e.g. by command name).
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[non_exhaustive]
        pub enum Command {
            #(#variants)*
        }

        impl Command {
            /// All endpoints, in spec order.
            pub const ALL: &'static [Command] = &[#(#all),*];

            /// What the spec says about the endpoint.
            pub fn info(self) -> &'static EndpointInfo {
                match self { #(#info_arms)* }
            }

            /// The command name, e.g. `im_get_tag`.
            pub fn command(self) -> &'static str {
                self.info().command
            }

            /// Looks an endpoint up by its command name (`im_get_tag`).
            pub fn from_command(command: &str) -> Option<Command> {
                match command {
                    #(#from_arms)*
                    _ => None,
                }
            }

            /// Calls `visitor` with the endpoint's type.
            pub fn visit<V: EndpointVisitor>(self, visitor: V) -> V::Output {
                match self { #(#visit_arms)* }
            }
        }

        impl std::fmt::Display for Command {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.command())
            }
        }
    }
}

pub(crate) fn endpoints_file(model: &Model) -> TokenStream {
    let imports = header_imports();
    let defs = model.endpoints.iter().map(|e| endpoint_def(e, model));
    let command = command_enum(model);
    let doc = format!(" The endpoints of `{}`: {}", model.family, model.doc);
    quote! {
        #![doc = #doc]
        #imports
        use std::time::Duration;
        use crate::endpoint::{Batch, BatchInfo, Endpoint, EndpointInfo, EndpointVisitor, RateLimit};
        use crate::envelope::{ActionStatus, Envelope};
        use crate::error::RetryClass;
        #[allow(unused_imports)]
        use crate::generated::types::*;
        #(#defs)*
        #command
    }
}

pub(crate) fn errors_file(model: &Model) -> TokenStream {
    let variants = model.errors.iter().map(|e| {
        let v = ident(&e.rust);
        let doc = docs_with_note(&format!("{}: {}", e.code, e.meaning), e.note.as_deref());
        quote!(#doc #v,)
    });
    let all = model.errors.iter().map(|e| {
        let v = ident(&e.rust);
        quote!(ErrorCode::#v)
    });
    let code_arms = model.errors.iter().map(|e| {
        let v = ident(&e.rust);
        let c = e.code;
        quote!(ErrorCode::#v => #c,)
    });
    let from_arms = model.errors.iter().map(|e| {
        let v = ident(&e.rust);
        let c = e.code;
        quote!(#c => ErrorCode::#v,)
    });
    let retry_arms = model.errors.iter().map(|e| {
        let v = ident(&e.rust);
        let r = match e.retry {
            Retry::Safe => quote!(RetryClass::Safe),
            Retry::IdempotentOnly => quote!(RetryClass::IdempotentOnly),
            Retry::Never => quote!(RetryClass::Never),
        };
        quote!(ErrorCode::#v => #r,)
    });
    let meaning_arms = model.errors.iter().map(|e| {
        let v = ident(&e.rust);
        let m = &e.meaning;
        quote!(ErrorCode::#v => Some(#m),)
    });
    let name_arms = model.errors.iter().map(|e| {
        let v = ident(&e.rust);
        let n = &e.rust;
        quote!(ErrorCode::#v => Some(#n),)
    });
    let scope_arms = model.errors.iter().map(|e| {
        let v = ident(&e.rust);
        let s = match e.scope {
            Scope::Public => quote!(ErrorScope::Public),
            Scope::Family => quote!(ErrorScope::Family),
        };
        quote!(ErrorCode::#v => Some(#s),)
    });
    quote! {
        use crate::error::RetryClass;

        /// Every error code in the spec's table, as an open enum: codes the spec does not list
        /// become [`ErrorCode::Unknown`], so `ErrorCode::from(n).code() == n` for every `n`.
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
            /// This family's pages.
            Family,
        }

        impl ErrorCode {
            /// Every code the spec lists.
            pub const KNOWN: &'static [ErrorCode] = &[#(#all),*];

            /// The numeric code.
            pub const fn code(self) -> i64 {
                match self { #(#code_arms)* ErrorCode::Unknown(c) => c }
            }

            /// How safe it is to repeat a call that failed with this code (unknown codes: never).
            pub const fn retry_class(self) -> RetryClass {
                match self { #(#retry_arms)* ErrorCode::Unknown(_) => RetryClass::Never }
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

pub(crate) fn regions_file(model: &Model) -> TokenStream {
    let variants = model.regions.iter().enumerate().map(|(i, r)| {
        let v = ident(&r.rust);
        let doc = docs_with_note(&format!("{}: `{}`.", r.label, r.host), r.note.as_deref());
        let default = if i == 0 { quote!(#[default]) } else { quote!() };
        quote!(#doc #default #v,)
    });
    let all = model.regions.iter().map(|r| {
        let v = ident(&r.rust);
        quote!(Region::#v)
    });
    let host_arms = model.regions.iter().map(|r| {
        let v = ident(&r.rust);
        let h = &r.host;
        quote!(Region::#v => #h,)
    });
    let name_arms = model.regions.iter().map(|r| {
        let v = ident(&r.rust);
        let n = &r.name;
        quote!(Region::#v => #n,)
    });
    let label_arms = model.regions.iter().map(|r| {
        let v = ident(&r.rust);
        let l = &r.label;
        quote!(Region::#v => #l,)
    });
    let names: Vec<&str> = model.regions.iter().map(|r| r.name.as_str()).collect();
    let names_joined = names.join(", ");
    let unknown_msg = format!("unknown region {{:?}} (expected one of: {names_joined})");
    quote! {
        /// A data-centre region: where the app was created decides which host serves it.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
        #[non_exhaustive]
        pub enum Region {
            #(#variants)*
        }

        impl Region {
            /// Every region, in spec order.
            pub const ALL: &'static [Region] = &[#(#all),*];

            /// The REST API host.
            pub const fn host(self) -> &'static str {
                match self { #(#host_arms)* }
            }

            /// The short name used in configuration (`TIM_REGION`), e.g. `silicon-valley`.
            pub const fn name(self) -> &'static str {
                match self { #(#name_arms)* }
            }

            /// A human-readable label.
            pub const fn label(self) -> &'static str {
                match self { #(#label_arms)* }
            }
        }

        impl std::fmt::Display for Region {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.name())
            }
        }

        /// A region name that is not in the spec.
        #[derive(Debug, Clone, PartialEq, Eq)]
        pub struct UnknownRegion(pub String);

        impl std::fmt::Display for UnknownRegion {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                write!(f, #unknown_msg, self.0)
            }
        }

        impl std::error::Error for UnknownRegion {}

        impl std::str::FromStr for Region {
            type Err = UnknownRegion;
            /// Parses a region name, ignoring case and accepting `_` or a space for `-`.
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                let wanted = s.trim().to_ascii_lowercase().replace(['_', ' '], "-");
                Region::ALL
                    .iter()
                    .copied()
                    .find(|r| r.name() == wanted)
                    .ok_or_else(|| UnknownRegion(s.to_owned()))
            }
        }
    }
}

/// One `Client` method per endpoint, and a batch helper per batch endpoint.
pub(crate) fn client_file(model: &Model) -> TokenStream {
    let methods = model.endpoints.iter().map(|e| {
        let marker = ident(&e.rust);
        let req = ident(&e.request.name);
        let resp = ident(&e.response.name);
        let method = ident(&e.method);
        let (service, command) = (&model.family, &e.command);
        let retry = if e.idempotent {
            "Idempotent: retried after ambiguous failures (timeouts, lost connections, internal errors) as the client's [`RetryPolicy`](crate::RetryPolicy) allows."
        } else {
            "Not idempotent: never repeated after an ambiguous failure (timeout, lost connection, internal error) unless the client's [`RetryPolicy`](crate::RetryPolicy) opts in with `with_non_idempotent_retries`; a repeat resends the very same body."
        };
        let doc = docs(&format!(
            "`{command}`: {}\n\nPOST `/v4/{service}/{command}` (see [`{}`]). {retry}",
            e.doc, e.rust
        ));
        let call = quote! {
            #doc
            pub async fn #method(&self, request: #req) -> Result<#resp, Error> {
                self.call::<#marker>(request).await
            }
        };
        let batch = match (&e.batch, &e.batch_method) {
            (Some(b), Some(name)) => {
                let name = ident(name);
                let f = &e.request.fields[b.request_field];
                let max = b.max_items;
                let doc = docs(&format!(
                    "`{command}` for any number of `{}` items, in calls of at most {max}, with bounded concurrency under the rate limiter: see [`Client::batch`]. Failed chunks are reported with their items.",
                    f.wire
                ));
                let (bound, items) = match &f.ty {
                    Ty::List(inner) if **inner == Ty::Prim(Prim::String) => (
                        quote!(I: IntoIterator, I::Item: Into<String>,),
                        quote!(items.into_iter().map(Into::into)),
                    ),
                    Ty::List(inner) => {
                        let t = rust_ty(inner);
                        (quote!(I: IntoIterator<Item = #t>,), quote!(items))
                    }
                    _ => unreachable!("checked in model"),
                };
                quote! {
                    #doc
                    pub async fn #name<I>(&self, items: I) -> BatchReport<#marker>
                    where
                        #bound
                        I::IntoIter: Send,
                    {
                        self.batch::<#marker, _>(#items).await
                    }
                }
            }
            _ => quote!(),
        };
        quote!(#call #batch)
    });
    let batch_import = if model.endpoints.iter().any(|e| e.batch.is_some()) {
        quote!(
            use crate::batch::BatchReport;
        )
    } else {
        quote!()
    };
    let doc = format!(" One [`Client`] method per endpoint of `{}`.", model.family);
    quote! {
        #![doc = #doc]
        #batch_import
        use crate::client::Client;
        use crate::error::Error;
        use crate::transport::Transport;
        #[allow(unused_imports)]
        use crate::generated::types::*;
        use crate::generated::endpoints::*;

        impl<T: Transport> Client<T> {
            #(#methods)*
        }
    }
}

pub(crate) fn mod_file(model: &Model) -> TokenStream {
    let _ = model;
    quote! {
        mod client;
        pub mod endpoints;
        mod errors;
        mod regions;
        pub mod types;

        pub use errors::{ErrorCode, ErrorScope};
        pub use regions::{Region, UnknownRegion};
        pub use endpoints::Command;
    }
}
