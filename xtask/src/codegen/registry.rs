//! `EndpointId`: the registry of every endpoint, keyed by (service, command), for choosing one
//! at run time (`tim call`, the emulator's dispatch, tests that cover every endpoint).

use proc_macro2::TokenStream;
use quote::quote;
use tim_spec::Model;

use super::tokens::ident;

pub(crate) fn registry_file(model: &Model) -> TokenStream {
    let mut variants = Vec::new();
    let mut all = Vec::new();
    let mut info_arms = Vec::new();
    let mut visit_arms = Vec::new();
    let mut batch_arms = Vec::new();
    for s in &model.services {
        let feature = &s.module;
        let module = ident(&s.module);
        for e in &s.endpoints {
            let v = ident(&e.id);
            let marker = ident(&e.rust);
            let d = format!(
                " `{}/{}`: see [`{}::{}`](crate::{}::{}).",
                s.name, e.command, s.module, e.rust, s.module, e.rust
            );
            variants.push(quote!(#[cfg(feature = #feature)] #[doc = #d] #v,));
            all.push(quote!(#[cfg(feature = #feature)] EndpointId::#v));
            info_arms.push(quote!(#[cfg(feature = #feature)] EndpointId::#v => <crate::#module::#marker as Endpoint>::INFO,));
            visit_arms.push(quote!(#[cfg(feature = #feature)] EndpointId::#v => visitor.visit::<crate::#module::#marker>(),));
            if e.batch.is_some() {
                batch_arms.push(quote!(#[cfg(feature = #feature)] EndpointId::#v => Some(visitor.visit::<crate::#module::#marker>()),));
            }
        }
    }
    quote! {
        use crate::endpoint::{BatchVisitor, Endpoint, EndpointInfo, EndpointVisitor};

        /// Every endpoint compiled in (one cargo feature per service), keyed by service and
        /// command: for choosing an endpoint at run time. A typed call never needs it.
        ///
        /// ```
        /// use tim_core::EndpointId;
        /// let id = EndpointId::find("all_member_push", "im_get_tag").unwrap();
        /// assert_eq!(id.info().path(), "/v4/all_member_push/im_get_tag");
        /// assert_eq!(id.to_string(), "all_member_push/im_get_tag");
        /// assert!(EndpointId::ALL.contains(&id));
        /// ```
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[non_exhaustive]
        pub enum EndpointId {
            #(#variants)*
        }

        impl EndpointId {
            /// Every endpoint compiled in, by service, in spec order.
            pub const ALL: &'static [EndpointId] = &[#(#all),*];

            /// What the spec says about the endpoint.
            pub fn info(self) -> &'static EndpointInfo {
                match self { #(#info_arms)* }
            }

            /// The wire service, e.g. `all_member_push`.
            pub fn service(self) -> &'static str {
                self.info().service
            }

            /// The command, e.g. `im_get_tag`.
            pub fn command(self) -> &'static str {
                self.info().command
            }

            /// The endpoint at `service`/`command`.
            pub fn find(service: &str, command: &str) -> Option<EndpointId> {
                Self::ALL
                    .iter()
                    .copied()
                    .find(|id| id.service() == service && id.command() == command)
            }

            /// The endpoint at a URL path, `/v4/<service>/<command>`.
            pub fn from_path(path: &str) -> Option<EndpointId> {
                let (service, command) = path.strip_prefix("/v4/")?.split_once('/')?;
                Self::find(service, command)
            }

            /// Every endpoint whose command is `command`, in any service.
            pub fn with_command(command: &str) -> impl Iterator<Item = EndpointId> + '_ {
                Self::ALL.iter().copied().filter(move |id| id.command() == command)
            }

            /// Calls `visitor` with the endpoint's marker type.
            pub fn visit<V: EndpointVisitor>(self, visitor: V) -> V::Output {
                match self { #(#visit_arms)* }
            }

            /// Calls `visitor` with the endpoint's marker type if it is a [`Batch`](crate::Batch)
            /// endpoint (its `info().batch` is set); `None` otherwise.
            #[allow(unreachable_patterns)]
            pub fn visit_batch<V: BatchVisitor>(self, visitor: V) -> Option<V::Output> {
                let _ = &visitor;
                match self {
                    #(#batch_arms)*
                    _ => None,
                }
            }
        }

        impl std::fmt::Display for EndpointId {
            /// `service/command`.
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                write!(f, "{}/{}", self.service(), self.command())
            }
        }
    }
}
