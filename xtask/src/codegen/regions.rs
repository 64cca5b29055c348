//! The `Region` enum: where an app was created decides which host serves it.

use proc_macro2::TokenStream;
use quote::quote;
use tim_spec::Model;

use super::tokens::{docs_with_note, ident};

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
