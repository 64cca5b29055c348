//! One service handle per service: `client.<service>()` with one method per endpoint and a
//! batch helper per batch endpoint.

use proc_macro2::TokenStream;
use quote::quote;
use tim_spec::{Prim, Service, Ty};

use super::tokens::{docs, ident, rust_ty};

pub(crate) fn api_file(s: &Service) -> TokenStream {
    let accessor = ident(&s.module);
    let methods = s.endpoints.iter().map(|e| {
        let marker = ident(&e.rust);
        let req = ident(&e.request.name);
        let resp = ident(&e.response.name);
        let method = ident(&e.method);
        let (service, command) = (&s.name, &e.command);
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
                self.client.call::<#marker>(request).await
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
                        (quote!(I: IntoIterator, I::Item: Into<#t>,), quote!(items.into_iter().map(Into::into)))
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
                        self.client.batch::<#marker, _>(#items).await
                    }
                }
            }
            _ => quote!(),
        };
        quote!(#call #batch)
    });
    let batch_import = if s.endpoints.iter().any(|e| e.batch.is_some()) {
        quote!(
            use crate::batch::BatchReport;
        )
    } else {
        quote!()
    };
    let handle_doc = docs(&format!(
        "The endpoints of `{}`, as methods: get one with [`Client::{}`].",
        s.name, s.module
    ));
    let accessor_doc = docs(&format!(
        "The endpoints of `v4/{}/*`: one method per command. [`Client::send`] calls any of them from its request alone.",
        s.name
    ));
    quote! {
        #batch_import
        use crate::client::Client;
        use crate::error::Error;
        use crate::transport::Transport;
        #[allow(unused_imports)]
        use crate::generated::common::*;
        #[allow(unused_imports)]
        use super::types::*;
        use super::endpoints::*;

        #handle_doc
        #[derive(Debug)]
        pub struct Api<'a, T> {
            client: &'a Client<T>,
        }

        impl<T> Clone for Api<'_, T> {
            fn clone(&self) -> Self { *self }
        }

        impl<T> Copy for Api<'_, T> {}

        impl<T> Client<T> {
            #accessor_doc
            pub fn #accessor(&self) -> Api<'_, T> {
                Api { client: self }
            }
        }

        impl<'a, T> Api<'a, T> {
            /// The client this handle calls through.
            pub fn client(&self) -> &'a Client<T> {
                self.client
            }
        }

        impl<T: Transport> Api<'_, T> {
            #(#methods)*
        }
    }
}
