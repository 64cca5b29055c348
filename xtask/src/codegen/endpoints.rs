//! One service's endpoints: the marker type, the request, the payload of a successful answer,
//! the hidden wire form of the answer (envelope included), and the trait impls that tie them
//! together.

use proc_macro2::TokenStream;
use quote::{format_ident, quote};
use tim_spec::{Endpoint, Failures, Model, Service, Ty};

use super::tokens::{docs_with_note, header_imports, ident, rust_ty, usize_lit};
use super::types::struct_def;

/// The wire form of an answer: envelope fields plus the payload's, parsed in one pass.
fn answer_def(e: &Endpoint) -> TokenStream {
    let answer = format_ident!("{}Answer", e.rust);
    let resp = ident(&e.response.name);
    let doc = format!(
        " The wire form of a `{}` answer (envelope and payload, parsed in one pass); the client turns it into [`{}`] or an error.",
        e.command, e.response.name
    );
    let fields = e.response.fields.iter().map(|f| {
        let fname = ident(&f.rust);
        let wire = &f.wire;
        let ty = super::tokens::field_ty(f);
        let serde = if f.required {
            quote!(#[serde(rename = #wire)])
        } else {
            quote!(#[serde(rename = #wire, default)])
        };
        quote!(#serde #fname: #ty,)
    });
    let moves = e.response.fields.iter().map(|f| {
        let fname = ident(&f.rust);
        quote!(#fname: a.#fname,)
    });
    quote! {
        #[doc = #doc]
        #[doc(hidden)]
        #[derive(Debug, Deserialize)]
        pub struct #answer {
            #[serde(rename = "ActionStatus")]
            action_status: ActionStatus,
            #[serde(rename = "ErrorCode", default)]
            error_code: i64,
            #[serde(rename = "ErrorInfo", default)]
            error_info: String,
            #(#fields)*
        }

        impl Envelope for #answer {
            fn action_status(&self) -> &ActionStatus { &self.action_status }
            fn error_code(&self) -> i64 { self.error_code }
            fn error_info(&self) -> &str { &self.error_info }
        }

        impl From<#answer> for #resp {
            #[allow(unused_variables)]
            fn from(a: #answer) -> Self {
                Self { #(#moves)* }
            }
        }
    }
}

/// `Batch::item_failures` for an endpoint whose OK answers report failed items.
fn failures_fn(e: &Endpoint, failures: Option<&Failures>) -> TokenStream {
    let body = match failures {
        None => return quote!(),
        Some(Failures::Accounts { field }) => {
            let list = ident(&e.response.fields[*field].rust);
            quote! {
                response.#list.iter().map(|account| ItemFailure::new(account.clone(), None, String::new())).collect()
            }
        }
        Some(Failures::List {
            field,
            key,
            key_optional,
            code,
            code_optional,
            info,
            ..
        }) => {
            let list = ident(&e.response.fields[*field].rust);
            let (key, code) = (ident(key), ident(code));
            let key = if *key_optional {
                quote!(r.#key.clone().unwrap_or_default())
            } else {
                quote!(r.#key.clone())
            };
            let code = if *code_optional {
                quote!(r.#code.map_or(0, |c| c as i64))
            } else {
                quote!(r.#code as i64)
            };
            let info = match info {
                None => quote!(String::new()),
                Some((name, true)) => {
                    let n = ident(name);
                    quote!(r.#n.clone().unwrap_or_default())
                }
                Some((name, false)) => {
                    let n = ident(name);
                    quote!(r.#n.clone())
                }
            };
            quote! {
                response
                    .#list
                    .iter()
                    .filter_map(|r| {
                        #[allow(clippy::unnecessary_cast)]
                        let code = #code;
                        (code != 0).then(|| ItemFailure::new(#key, Some(ErrorCode::from(code)), #info))
                    })
                    .collect()
            }
        }
    };
    quote! {
        fn item_failures(response: &Self::Response) -> Vec<ItemFailure> {
            #body
        }
    }
}

fn endpoint_def(s: &Service, e: &Endpoint, model: &Model) -> TokenStream {
    let marker = ident(&e.rust);
    let req = ident(&e.request.name);
    let resp = ident(&e.response.name);
    let answer = format_ident!("{}Answer", e.rust);
    let id = ident(&e.id);
    let (service, command, name) = (&s.name, &e.command, &e.rust);
    let doc_line = e.doc.as_str();
    let mut doc_text = format!("`{command}`: {doc_line}\n\nPOST `/v4/{service}/{command}`");
    if let Some(url) = e.page_url() {
        doc_text.push_str(&format!(" ([Tencent's page]({url}))"));
    }
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
    let per_minute = opt_u32(e.rate.per_minute);
    let counted_by = match &e.rate.counted_by {
        Some(w) => quote!(Some(#w)),
        None => quote!(None),
    };
    let cost_fn = match &e.rate.counted_by {
        None => quote!(),
        Some(w) => {
            let f = e
                .request
                .fields
                .iter()
                .find(|f| &f.wire == w)
                .expect("checked in model");
            let n = ident(&f.rust);
            quote! {
                fn cost(request: &Self::Request) -> u32 {
                    u32::try_from(request.#n.len()).unwrap_or(u32::MAX).max(1)
                }
            }
        }
    };
    let min_interval = match e.rate.min_interval_ms {
        Some(ms) => quote!(Some(Duration::from_millis(#ms))),
        None => quote!(None),
    };
    let page = match e.page_url() {
        Some(u) => quote!(Some(#u)),
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
            let item_codes = b.item_codes.iter().map(|c| {
                let v = ident(&model.error(*c).expect("checked").rust);
                quote!(ErrorCode::#v)
            });
            quote!(Some(BatchInfo {
                request_field: #rf,
                response_field: #respf,
                max_items: #max,
                item_codes: &[#(#item_codes),*],
            }))
        }
        None => quote!(None),
    };
    let errors = e.errors.iter().map(|c| {
        let v = ident(&model.error(*c).expect("checked").rust);
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
            let failures = failures_fn(e, b.failures.as_ref());
            let merge = match b.response_field {
                Some(i) => {
                    let n = ident(&e.response.fields[i].rust);
                    quote!(acc.#n.extend(next.#n);)
                }
                None => quote!(let _ = (acc, next);),
            };
            let (set, get) = if f.optional {
                (
                    quote!(#fname: Some(items)),
                    quote!(request.#fname.as_deref().unwrap_or_default()),
                )
            } else {
                (quote!(#fname: items), quote!(&request.#fname))
            };
            quote! {
                impl Batch for #marker {
                    type Item = #item;
                    const MAX_ITEMS: usize = #max;
                    fn request_from_items(items: Vec<#item>) -> #req {
                        #req { #set, #(#others)* extra: BTreeMap::new() }
                    }
                    fn items(request: &#req) -> &[#item] {
                        #get
                    }
                    fn merge(acc: &mut #resp, next: #resp) {
                        #merge
                    }
                    #failures
                }
            }
        }
    };
    let request_shape = super::shapes::request_shape_path(s, &e.request.name);
    let req_def = struct_def(&e.request, model, true);
    let resp_def = struct_def(&e.response, model, false);
    let answer_def = answer_def(e);
    let req_doc = format!(" [`{name}`] is the endpoint this request is sent to.");
    quote! {
        #doc
        #[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
        pub struct #marker;

        impl Endpoint for #marker {
            type Request = #req;
            type Response = #resp;
            type Answer = #answer;
            const INFO: &'static EndpointInfo = &EndpointInfo {
                id: EndpointId::#id,
                name: #name,
                service: #service,
                command: #command,
                doc: #doc_line,
                page: #page,
                idempotent: #idempotent,
                rate: RateLimit {
                    per_second: #per_second,
                    per_minute: #per_minute,
                    counted_by: #counted_by,
                    per_day: #per_day,
                    min_interval: #min_interval,
                },
                batch: #batch_info,
                errors: &[#(#errors),*],
                request_shape: #request_shape,
            };
            #cost_fn
        }

        #[doc = #req_doc]
        impl ApiRequest for #req {
            type Endpoint = #marker;
            fn extra(&self) -> &BTreeMap<String, serde_json::Value> {
                &self.extra
            }
        }

        #batch_impl
        #req_def
        #resp_def
        #answer_def
    }
}

pub(crate) fn endpoints_file(s: &Service, model: &Model) -> TokenStream {
    let imports = header_imports();
    let defs = s.endpoints.iter().map(|e| endpoint_def(s, e, model));
    quote! {
        #imports
        #[allow(unused_imports)]
        use std::time::Duration;
        #[allow(unused_imports)]
        use crate::endpoint::{ApiRequest, Batch, BatchInfo, Endpoint, EndpointInfo, RateLimit};
        #[allow(unused_imports)]
        use crate::endpoint::ItemFailure;
        use crate::envelope::{ActionStatus, Envelope};
        use crate::generated::EndpointId;
        #[allow(unused_imports)]
        use crate::generated::common::*;
        #[allow(unused_imports)]
        use super::types::*;
        #(#defs)*
    }
}
